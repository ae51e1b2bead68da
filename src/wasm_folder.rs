//! JavaScript binding of a folder's survey (`folder::survey`, `vhd-viewer chains`): the page's
//! Worker gives the names of a folder's files (their paths under the folder, with `/`) and a
//! synchronous `read(i, offset, len)`, and is answered the survey's object, the same as
//! `vhd-viewer chains --json`. Each read asks the page for exactly the bytes the core asks (no
//! chunks), so the bytes the page reads per file are the survey's `bytes_read`.

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use crate::folder;
use crate::reader::ReadAt;
use crate::wasm::{misuse, to_js, to_u64};
use crate::wasm_files::JsFile;

/// Surveys the files `names` (paths under one folder, `/` between folders) of `sizes` bytes, read
/// through `read(i, offset, len)` (file `i`'s bytes at once, a `Uint8Array`): their trees by
/// unique id, orphans, moved and modified parents, duplicates and the files that are not disks.
#[wasm_bindgen(js_name = surveyFiles)]
pub fn survey_files(names: Vec<String>, read: js_sys::Function, sizes: Vec<f64>) -> Result<JsValue, JsValue> {
    if names.len() != sizes.len() {
        return Err(misuse(&format!("surveyFiles: {} names but {} sizes", names.len(), sizes.len())));
    }
    let bytes = Rc::new(Cell::new(0));
    let files = sizes
        .iter()
        .enumerate()
        .map(|(i, &size)| {
            let i = u32::try_from(i).map_err(|_| misuse("surveyFiles: too many files"))?;
            Ok(JsFile::exact(&read, i, to_u64(size, "a file's size")?, &bytes))
        })
        .collect::<Result<Vec<_>, JsValue>>()?;
    let set: Vec<(String, &dyn ReadAt)> = names.into_iter().zip(files.iter().map(|f| f as &dyn ReadAt)).collect();
    to_js(&folder::survey(&set))
}
