//! JavaScript binding of [`crate::diff`]: what the newer layers of a chain changed, file by file,
//! for the page's Changes view (and whether a child can move to a new base: `rebaseCheck`). It reads as the files view does (`wasm_files.rs`): through a
//! JavaScript function `read(layer, offset, len)` that returns a layer's file bytes at once (the
//! page's Worker reads synchronously), and reports its progress to a function that may stop it.
//! The page's "Save report" (`report`) reads the same way: it hashes, checks and diffs.

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use crate::bitlocker::Key;
use crate::diff::{self, Report};
use crate::error::{Error, Result};
use crate::reader::ReadAt;
use crate::wasm::{js_err, to_js, WasmDisk};
use crate::wasm_files::{volume_keys, JsFile};

/// `vhd-viewer diff --from FROM --to TO --json` of `disk`'s chain: layer `from` (older, e.g. 1,
/// the parent) against layer `to` (newer, e.g. 0, the file opened). `read(layer, offset, len)`
/// gives layer `layer`'s file bytes; `progress(done, total)` is told how far it got, and stops
/// the diff (error `cancelled`) by returning `false`. `keys` (`WasmVolumes.volumeKeys()`, or
/// empty) open the BitLocker volumes unlocked in the page, on both sides.
#[wasm_bindgen(js_name = diffLayers)]
pub fn diff_layers(
    disk: &WasmDisk,
    read: js_sys::Function,
    from: usize,
    to: usize,
    keys: js_sys::Array,
    progress: js_sys::Function,
) -> Result<JsValue, JsValue> {
    let d = disk.disk();
    let n = d.layers.len();
    if n < 2 {
        return Err(js_err(Error::NotDifferencing { disk_type: d.layers[0].disk_type().name(), task: "compare with" }));
    }
    if from <= to || from >= n {
        return Err(js_err(Error::Usage {
            message: format!(
                "layer {from} against layer {to}: the older layer must be below the newer, and the chain has layers 0 to {}",
                n - 1
            ),
        }));
    }
    let key = volume_keys(&keys)?;
    let report = chain_report(d, &read, from, to, key.as_ref(), &progress).map_err(js_err)?;
    to_js(&report)
}

/// Layer `from` of `disk` against layer `to`, each layer read through `read`.
fn chain_report(
    d: &crate::Disk,
    read: &js_sys::Function,
    from: usize,
    to: usize,
    key: Option<&Key>,
    progress: &js_sys::Function,
) -> Result<Report> {
    let bytes = Rc::new(Cell::new(0));
    let files = js_files(d, read, &bytes);
    let sources: Vec<&dyn ReadAt> = files.iter().map(|f| f as &dyn ReadAt).collect();
    diff::layers(d, &sources, from, to, key, &mut teller(progress))
}

/// A disk, the function that reads its files, and the layer number `read` calls its first layer.
type Side<'a> = (&'a crate::Disk, &'a js_sys::Function, u32);

/// Disk `old` against disk `new`, not one chain: every allocated sector of either.
fn unrelated_report(
    (od, read_old, first_old): Side<'_>,
    (nd, read_new, first_new): Side<'_>,
    key: Option<&Key>,
    progress: &js_sys::Function,
) -> Result<Report> {
    let bytes = Rc::new(Cell::new(0));
    let (of, nf) = (js_files_from(od, read_old, &bytes, first_old), js_files_from(nd, read_new, &bytes, first_new));
    let (os, ns): (Vec<&dyn ReadAt>, Vec<&dyn ReadAt>) =
        (of.iter().map(|f| f as &dyn ReadAt).collect(), nf.iter().map(|f| f as &dyn ReadAt).collect());
    diff::disks((od, os), (nd, ns), key, &mut teller(progress))
}

/// `vhd-viewer diff OLD NEW --json`: two disks that are not one chain (`old` and `new`, each a
/// chain), every allocated sector of either compared. `read_old(layer, offset, len)` and
/// `read_new(...)` give each chain's file bytes; `keys` and `progress` as for [`diff_layers`].
#[wasm_bindgen(js_name = diffDisks)]
pub fn diff_disks(
    old: &WasmDisk,
    read_old: js_sys::Function,
    new: &WasmDisk,
    read_new: js_sys::Function,
    keys: js_sys::Array,
    progress: js_sys::Function,
) -> Result<JsValue, JsValue> {
    let key = volume_keys(&keys)?;
    let report = unrelated_report((old.disk(), &read_old, 0), (new.disk(), &read_new, 0), key.as_ref(), &progress).map_err(js_err)?;
    to_js(&report)
}

/// `vhd-viewer rebase-check CHILD --onto NEW_BASE --json` for layer 0 of `disk` (a differencing
/// disk, its parent the old base) onto `onto` (a chain): per file, changed only by the child, only
/// by the new base, or by both. When `onto`'s chain holds the old base, only what its newer layers
/// hold is read; otherwise the old and the new base are compared as two disks (every allocated
/// sector). `progress` as for [`diff_layers`], once per comparison.
#[wasm_bindgen(js_name = rebaseCheck)]
pub fn rebase_check(
    disk: &WasmDisk,
    read: js_sys::Function,
    onto: &WasmDisk,
    read_onto: js_sys::Function,
    progress: js_sys::Function,
) -> Result<JsValue, JsValue> {
    let d = disk.disk();
    if d.layers.len() < 2 {
        return Err(js_err(Error::NotDifferencing { disk_type: d.layers[0].disk_type().name(), task: "rebase" }));
    }
    let child = chain_report(d, &read, 1, 0, None, &progress).map_err(js_err)?;
    let nb = onto.disk();
    let base = match diff::old_base_in(d, nb) {
        Some(0) => return Err(js_err(Error::Usage { message: "that disk is the child's own parent: nothing to move onto".into() })),
        Some(k) => chain_report(nb, &read_onto, k, 0, None, &progress).map_err(js_err)?,
        None => {
            // The old base: this chain from layer 1 on.
            let od = d.cut(1).map_err(js_err)?;
            unrelated_report((&od, &read, 1), (nb, &read_onto, 0), None, &progress).map_err(js_err)?
        }
    };
    to_js(&diff::rebase_check(&child, &base))
}

/// `vhd-viewer report` of `disk`'s chain: the HTML file ([`crate::report`]), `names[i]` naming
/// layer `i`. `read(layer, offset, len)` gives layer `layer`'s file bytes (every byte of every
/// file is read, for its SHA-256); `keys` as for [`diff_layers`]; `progress(done, total)` as for
/// [`diff_layers`] (thousandths).
#[wasm_bindgen]
pub fn report(
    disk: &WasmDisk,
    read: js_sys::Function,
    names: Vec<String>,
    keys: js_sys::Array,
    progress: js_sys::Function,
) -> Result<String, JsValue> {
    let key = volume_keys(&keys)?;
    let d = disk.disk();
    let bytes = Rc::new(Cell::new(0));
    let files = js_files(d, &read, &bytes);
    let sources: Vec<&dyn ReadAt> = files.iter().map(|f| f as &dyn ReadAt).collect();
    let contents = crate::report::gather(d, &sources, &names, &[], key.as_ref(), &mut teller(&progress)).map_err(js_err)?;
    Ok(crate::report::html(&contents))
}

/// Each layer of `disk` read through `read`.
pub(crate) fn js_files(disk: &crate::Disk, read: &js_sys::Function, bytes: &Rc<Cell<u64>>) -> Vec<JsFile> {
    js_files_from(disk, read, bytes, 0)
}

/// Each layer `i` of `disk` read through `read` as layer `first + i`.
fn js_files_from(disk: &crate::Disk, read: &js_sys::Function, bytes: &Rc<Cell<u64>>, first: u32) -> Vec<JsFile> {
    disk.layers.iter().enumerate().map(|(i, l)| JsFile::new(read, first + i as u32, l.file_len, bytes)).collect()
}

/// The diff's progress told to `progress(done, total)`; it stops the diff by returning `false`
/// (or by throwing).
pub(crate) fn teller(progress: &js_sys::Function) -> impl FnMut(u64, u64) -> bool + '_ {
    move |done, total| {
        progress
            .call2(&JsValue::NULL, &JsValue::from_f64(done as f64), &JsValue::from_f64(total as f64))
            .map(|v| v.as_bool() != Some(false))
            .unwrap_or(false)
    }
}
