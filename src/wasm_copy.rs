//! JavaScript binding of the writers that copy a disk's own structures, in its own format (VHD or
//! VHDX): `compact [--trim]`, `repair`, `relink` and `resize`, for the page's "Compact…", "Repaired
//! copy…", "Relinked child…" and "Resize…". They read as the
//! files view does (`wasm_files.rs`): through a JavaScript function `read(layer, offset, len)`
//! that returns a layer's file bytes at once (the page's Worker reads synchronously). They write
//! nothing themselves: [`WasmCopy::step`] hands over the bytes of the next windows as `{offset,
//! bytes}` writes, and the page writes them into the file being saved before it asks for more, so
//! that memory stays flat however large the disk, and the work stops between two steps.

use std::cell::Cell;
use std::rc::Rc;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::compact::Compaction;
use crate::error::{Error, Result};
use crate::reader::ReadAt;
use crate::relink::Relinking;
use crate::repair::Repairing;
use crate::resize::{ResizeOptions, Resizing};
use crate::trim::{FreeRanges, FreeSpace};
use crate::vhd::writer::WriteAt;
use crate::wasm::{js_err, misuse, to_js, to_u64, WasmDisk};
use crate::wasm_diff::js_files as files;
use crate::wasm_files::JsFile;

/// The writes of one or more steps, adjacent ones joined.
#[derive(Default)]
struct Writes {
    list: Vec<(u64, Vec<u8>)>,
    bytes: u64,
    len: Option<u64>,
}

impl WriteAt for Writes {
    fn write_at(&mut self, offset: u64, bytes: &[u8]) -> Result<()> {
        self.bytes += bytes.len() as u64;
        match self.list.last_mut() {
            Some((at, b)) if *at + b.len() as u64 == offset => b.extend_from_slice(bytes),
            _ => self.list.push((offset, bytes.to_vec())),
        }
        Ok(())
    }
    fn set_len(&mut self, len: u64) -> Result<()> {
        self.len = Some(len);
        Ok(())
    }
}

impl Writes {
    /// As a JavaScript array of `{offset, bytes}` (each `bytes` a Uint8Array of its own).
    fn to_js(&self) -> js_sys::Array {
        self.list
            .iter()
            .map(|(at, b)| {
                let o = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&o, &"offset".into(), &JsValue::from_f64(*at as f64));
                let _ = js_sys::Reflect::set(&o, &"bytes".into(), &js_sys::Uint8Array::from(b.as_slice()));
                JsValue::from(o)
            })
            .collect()
    }
}

enum Op {
    /// With the volumes' report (`FreeSpace::volumes`) when the free space is given back.
    Compact(Box<Compaction>, Option<JsValue>),
    Repair(Repairing),
    Relink(Relinking, Vec<String>),
    Resize(Box<Resizing>),
}

/// What a finished copy reports: the core's report of the operation, warnings, and the copy's
/// length.
#[derive(Serialize)]
struct Finished<T: Serialize> {
    report: T,
    warnings: Vec<String>,
    file_len: u64,
}

/// A copy being written, a step at a time: made by [`WasmCopy::compact`], [`WasmCopy::repair`],
/// [`WasmCopy::relink`] or [`WasmCopy::resize`]; [`WasmCopy::step`] until it returns null, then [`WasmCopy::finish`].
#[wasm_bindgen]
pub struct WasmCopy {
    files: Vec<JsFile>,
    bytes: Rc<Cell<u64>>,
    op: Option<Op>,
}

#[wasm_bindgen]
impl WasmCopy {
    /// `vhd-viewer compact [--trim]`: a copy of layer 0 of `disk` (a chain, or
    /// `WasmDisk.asOfLayer(k)`), in its format, without its all-zero blocks (dynamic) or the
    /// sectors it holds identical to its parent (differencing), keeping its identity; with `trim`,
    /// without what the file systems on the disk mark free either. `read(i, offset, len)` gives
    /// layer `i`'s file bytes.
    pub fn compact(disk: &WasmDisk, read: js_sys::Function, trim: bool) -> Result<WasmCopy, JsValue> {
        let d = disk.disk();
        let bytes = Rc::new(Cell::new(0));
        let files = files(d, &read, &bytes);
        let (free, volumes) = if trim {
            let sources: Vec<&dyn ReadAt> = files.iter().map(|f| f as &dyn ReadAt).collect();
            let free = FreeSpace::new(d, &sources).map_err(js_err)?;
            let volumes = to_js(free.volumes())?;
            (Some(Box::new(free) as Box<dyn FreeRanges>), Some(volumes))
        } else {
            (None, None)
        };
        let op = Compaction::new(d, free).map_err(js_err)?;
        Ok(WasmCopy { files, bytes, op: Some(Op::Compact(Box::new(op), volumes)) })
    }

    /// `vhd-viewer repair [--scrub]`: a copy of layer 0 of `disk` (a VHD or VHDX) with each
    /// recoverable defect fixed. Only that file is read.
    pub fn repair(disk: &WasmDisk, read: js_sys::Function, scrub: bool) -> Result<WasmCopy, JsValue> {
        let d = disk.disk();
        let bytes = Rc::new(Cell::new(0));
        let files = files(d, &read, &bytes);
        let op = Repairing::new(&d.layers[0], &files[0], scrub).map_err(js_err)?;
        Ok(WasmCopy { files, bytes, op: Some(Op::Repair(op)) })
    }

    /// `vhd-viewer relink`: a copy of layer 0 of `disk` (a differencing VHD or VHDX) linked to
    /// layer 1 (its parent, given as the file `parent_name`) at `relative` (to the copy's folder)
    /// and, when not empty, `absolute`. The parent's id (a VHD's unique id, a VHDX's
    /// `DataWriteGuid`) must be the one the child names (the
    /// command line's `--force` is not offered: the page links a parent by that id).
    pub fn relink(
        disk: &WasmDisk,
        read: js_sys::Function,
        child_name: &str,
        parent_name: &str,
        relative: &str,
        absolute: &str,
    ) -> Result<WasmCopy, JsValue> {
        let d = disk.disk();
        let Some(parent) = d.layers.get(1) else {
            return Err(js_err(Error::ParentUnavailable(crate::error::ParentNeed::Relink)));
        };
        let (link, warnings) = crate::relink::parent_link(&d.layers[0], child_name, parent, parent_name, false).map_err(js_err)?;
        let paths = crate::relink::named_paths(relative, absolute).map_err(js_err)?;
        let bytes = Rc::new(Cell::new(0));
        let files = files(d, &read, &bytes);
        let op = Relinking::new(&d.layers[0], &files[0], &link, &paths).map_err(js_err)?;
        Ok(WasmCopy { files, bytes, op: Some(Op::Relink(op, warnings)) })
    }

    /// `vhd-viewer resize --size SIZE [--no-gpt-fix]`: a copy of layer 0 of `disk` (a chain, or
    /// `WasmDisk.asOfLayer(k)`; the layers below are read for the partition table and the file
    /// systems) in its format and type, with a virtual size of `size` bytes; with `gpt_fix`, a
    /// GPT's backup header and entries moved to the new end. Fails with the core's refusal (a
    /// shrink past a partition or a file system, naming it and the byte where it ends) before
    /// anything is written: [`WasmCopy::plan`] says what the copy will be.
    pub fn resize(disk: &WasmDisk, read: js_sys::Function, size: f64, gpt_fix: bool) -> Result<WasmCopy, JsValue> {
        let size = to_u64(size, "size")?;
        let d = disk.disk();
        let bytes = Rc::new(Cell::new(0));
        let files = files(d, &read, &bytes);
        let sources: Vec<&dyn ReadAt> = files.iter().map(|f| f as &dyn ReadAt).collect();
        let op = Resizing::new(d, &sources, size, ResizeOptions { gpt_fix }).map_err(js_err)?;
        Ok(WasmCopy { files, bytes, op: Some(Op::Resize(Box::new(op))) })
    }

    /// What a resize will write, known before the first step: the core's `ResizePlan` (`old_size`,
    /// `new_size`, `grows`, `gpt_moved`, `unpartitioned_bytes`, `notes`).
    pub fn plan(&self) -> Result<JsValue, JsValue> {
        match &self.op {
            Some(Op::Resize(r)) => to_js(r.plan()),
            _ => Err(misuse("only a resize has a plan")),
        }
    }

    /// The next steps, until at least `at_least` bytes were handed over or the copy is complete:
    /// an array of `{offset, bytes}` to write into the copy (possibly empty: all-zero windows are
    /// not written), or null when every step is done (then call `finish`).
    pub fn step(&mut self, at_least: f64) -> Result<JsValue, JsValue> {
        let at_least = to_u64(at_least, "at_least")?;
        let sources: Vec<&dyn ReadAt> = self.files.iter().map(|f| f as &dyn ReadAt).collect();
        let op = self.op.as_mut().ok_or_else(|| misuse("this copy is finished"))?;
        let mut out = Writes::default();
        let mut more = true;
        // At most 64 windows per call, so that progress is told and a stop heard between calls.
        for _ in 0..64 {
            more = match op {
                Op::Compact(c, _) => c.step(&sources, &mut out),
                Op::Repair(r) => r.step(sources[0], &mut out),
                Op::Relink(r, _) => r.step(sources[0], &mut out),
                Op::Resize(r) => r.step(&sources, &mut out),
            }
            .map_err(js_err)?;
            if !more || out.bytes >= at_least.max(1) {
                break;
            }
        }
        if !more && out.list.is_empty() {
            return Ok(JsValue::NULL);
        }
        Ok(out.to_js().into())
    }

    /// Work done and in all (blocks; bytes for a fixed disk's repair), as `[done, total]`.
    pub fn progress(&self) -> Vec<f64> {
        let (d, t) = match &self.op {
            Some(Op::Compact(c, _)) => c.progress(),
            Some(Op::Repair(r)) => r.progress(),
            Some(Op::Relink(r, _)) => r.progress(),
            Some(Op::Resize(r)) => r.progress(),
            None => (1, 1),
        };
        vec![d as f64, t as f64]
    }

    /// Bytes read from the files so far.
    #[wasm_bindgen(js_name = bytesRead)]
    pub fn bytes_read(&self) -> f64 {
        self.bytes.get() as f64
    }

    /// The copy's metadata, after the last step: `{writes, report, warnings, file_len}`, where
    /// `report` is what the command line's `--json` would say of the operation, and the copy is
    /// exactly `file_len` bytes long.
    pub fn finish(&mut self) -> Result<JsValue, JsValue> {
        let op = self.op.take().ok_or_else(|| misuse("this copy is finished"))?;
        let mut out = Writes::default();
        let value = match op {
            Op::Compact(c, volumes) => {
                let report = c.finish(&mut out).map_err(js_err)?;
                let value = to_js(&Finished { file_len: report.file_len, report, warnings: Vec::new() })?;
                if let Some(v) = volumes {
                    let _ = js_sys::Reflect::set(&value, &"volumes".into(), &v);
                }
                value
            }
            Op::Repair(r) => {
                let report = r.finish(&mut out).map_err(js_err)?;
                to_js(&Finished { file_len: report.file_len, report, warnings: Vec::new() })?
            }
            Op::Relink(r, warnings) => {
                let report = r.finish(&mut out).map_err(js_err)?;
                to_js(&Finished { file_len: report.file_len, report, warnings })?
            }
            Op::Resize(r) => {
                let report = r.finish(&mut out).map_err(js_err)?;
                to_js(&Finished { file_len: report.file_len, report, warnings: Vec::new() })?
            }
        };
        let _ = js_sys::Reflect::set(&value, &"writes".into(), &out.to_js());
        Ok(value)
    }
}
