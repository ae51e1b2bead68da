//! JavaScript binding of [`crate::diff`]: what the newer layers of a chain changed, file by file,
//! for the page's Changes view. It reads as the files view does (`wasm_files.rs`): through a
//! JavaScript function `read(layer, offset, len)` that returns a layer's file bytes at once (the
//! page's Worker reads synchronously), and reports its progress to a function that may stop it.

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use crate::diff::{self, Mode};
use crate::reader::{DiskReader, ReadAt};
use crate::wasm::{coded, js_err, to_js, WasmDisk};
use crate::wasm_files::JsFile;

/// `vhd-viewer diff --from FROM --to TO --json` of `disk`'s chain: layer `from` (older, e.g. 1,
/// the parent) against layer `to` (newer, e.g. 0, the file opened). `read(layer, offset, len)`
/// gives layer `layer`'s file bytes; `progress(done, total)` is told how far it got, and stops
/// the diff (error `cancelled`) by returning `false`.
#[wasm_bindgen(js_name = diffLayers)]
pub fn diff_layers(
    disk: &WasmDisk,
    read: js_sys::Function,
    from: usize,
    to: usize,
    progress: js_sys::Function,
) -> Result<JsValue, JsValue> {
    let d = disk.disk();
    let n = d.layers.len();
    if n < 2 {
        return Err(coded("not-differencing", None, "this disk has no parent to compare with: it is not a differencing disk"));
    }
    if from <= to || from >= n {
        return Err(coded(
            "usage",
            None,
            &format!("layer {from} against layer {to}: the older layer must be below the newer, and the chain has layers 0 to {}", n - 1),
        ));
    }
    let bytes = Rc::new(Cell::new(0));
    let files = js_files(d, &read, &bytes);
    let sources: Vec<&dyn ReadAt> = files.iter().map(|f| f as &dyn ReadAt).collect();
    let (pd, cd) = (d.cut(from).map_err(js_err)?, d.cut(to).map_err(js_err)?);
    let mut cr = DiskReader::new(&cd, sources[to..].to_vec()).map_err(js_err)?;
    let held = diff::held_ranges(&mut cr, from - to).map_err(js_err)?;
    let pr = DiskReader::new(&pd, sources[from..].to_vec()).map_err(js_err)?;
    let report = diff::diff(pr, cr, &held, Mode::Chain, &mut teller(&progress)).map_err(js_err)?;
    to_js(&report)
}

/// `vhd-viewer diff OLD NEW --json`: two disks that are not one chain (`old` and `new`, each a
/// chain), every allocated sector of either compared. `read_old(layer, offset, len)` and
/// `read_new(...)` give each chain's file bytes; `progress` as for [`diff_layers`].
#[wasm_bindgen(js_name = diffDisks)]
pub fn diff_disks(
    old: &WasmDisk,
    read_old: js_sys::Function,
    new: &WasmDisk,
    read_new: js_sys::Function,
    progress: js_sys::Function,
) -> Result<JsValue, JsValue> {
    let (od, nd) = (old.disk(), new.disk());
    let bytes = Rc::new(Cell::new(0));
    let (of, nf) = (js_files(od, &read_old, &bytes), js_files(nd, &read_new, &bytes));
    let mut ar = DiskReader::new(od, of.iter().map(|f| f as &dyn ReadAt).collect()).map_err(js_err)?;
    let mut br = DiskReader::new(nd, nf.iter().map(|f| f as &dyn ReadAt).collect()).map_err(js_err)?;
    let held = diff::union(&diff::allocated_ranges(&mut ar).map_err(js_err)?, &diff::allocated_ranges(&mut br).map_err(js_err)?);
    let report = diff::diff(ar, br, &held, Mode::Unrelated, &mut teller(&progress)).map_err(js_err)?;
    to_js(&report)
}

/// Each layer of `disk` read through `read`.
pub(crate) fn js_files(disk: &crate::Disk, read: &js_sys::Function, bytes: &Rc<Cell<u64>>) -> Vec<JsFile> {
    disk.layers
        .iter()
        .enumerate()
        .map(|(i, l)| JsFile { read: read.clone(), layer: i as u32, len: l.file_len, bytes: bytes.clone() })
        .collect()
}

/// The diff's progress told to `progress(done, total)`; it stops the diff by returning `false`
/// (or by throwing).
fn teller(progress: &js_sys::Function) -> impl FnMut(u64, u64) -> bool + '_ {
    move |done, total| {
        progress
            .call2(&JsValue::NULL, &JsValue::from_f64(done as f64), &JsValue::from_f64(total as f64))
            .map(|v| v.as_bool() != Some(false))
            .unwrap_or(false)
    }
}
