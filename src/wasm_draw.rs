//! JavaScript binding of [`crate::draw`]: the page's "Save picture" and "Copy as SVG" give the
//! bytes `vhd-viewer draw` gives. Pictures that read the files (a bitmap, the provenance map, the
//! partitions) read them as the files view does (`wasm_files.rs`): through a JavaScript function
//! `read(layer, offset, len)` that returns a layer's file bytes at once (the Worker reads
//! synchronously).

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use crate::draw::{self, ChangesSummary, Picture, Style, Theme};
use crate::reader::ReadAt;
use crate::wasm::{js_err, to_js, to_u64, WasmDisk};
use crate::wasm_diff::{js_files, teller};

fn style(theme: &str, width: u32) -> Result<Style, JsValue> {
    Ok(Style { theme: Theme::parse(theme).map_err(js_err)?, width })
}

/// `vhd-viewer draw DISK KIND [BLOCK] --layer LAYER --theme THEME --width WIDTH` (KIND `chain`,
/// `bat`, `bitmap`, `provenance` or `partitions`; `block` is used for `bitmap` only), with
/// `names` the layers' file names, top first. `read(layer, offset, len)` gives layer `layer`'s
/// file bytes; `progress(done, total)` is told how far the provenance map got, and stops it
/// (error `cancelled`) by returning `false`.
#[wasm_bindgen(js_name = drawPicture)]
#[allow(clippy::too_many_arguments)]
pub fn draw_picture(
    disk: &WasmDisk,
    read: js_sys::Function,
    kind: &str,
    layer: usize,
    block: f64,
    names: Vec<String>,
    theme: &str,
    width: u32,
    progress: js_sys::Function,
) -> Result<String, JsValue> {
    let block = if kind == "bitmap" { Some(to_u64(block, "the block")?) } else { None };
    let picture = Picture::named(kind, layer, block, &names).map_err(js_err)?;
    let d = disk.disk();
    let files = js_files(d, &read, &Rc::new(Cell::new(0)));
    let sources: Vec<&dyn ReadAt> = files.iter().map(|f| f as &dyn ReadAt).collect();
    draw::svg_with_progress(d, &sources, &picture, &style(theme, width)?, &mut teller(&progress)).map_err(js_err)
}

/// Where the bytes of a report the page holds went, as the Changes bar draws it: five
/// `[label, bytes]`, in order (files, file-system structures, free space, outside the
/// partitions, elsewhere).
#[wasm_bindgen(js_name = changesDestinations)]
pub fn changes_destinations(report: JsValue) -> Result<JsValue, JsValue> {
    let summary: ChangesSummary = serde_wasm_bindgen::from_value(report)?;
    to_js(&summary.destinations())
}

/// `vhd-viewer draw DISK changes --theme THEME --width WIDTH` of a report the page holds (the
/// object `diffLayers` gave: its other keys are not read).
#[wasm_bindgen(js_name = drawChanges)]
pub fn draw_changes(report: JsValue, theme: &str, width: u32) -> Result<String, JsValue> {
    let summary: ChangesSummary = serde_wasm_bindgen::from_value(report)?;
    draw::changes_svg(&summary, &style(theme, width)?).map_err(js_err)
}
