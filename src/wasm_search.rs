//! JavaScript bindings for the page's search box: [`WasmSearch`], a search of the disk that the
//! Worker steps (`WasmVolumes.searchStep`), showing progress and stopping between steps. It
//! reads synchronously through the `WasmVolumes` it is given, as the files view does, and finds
//! each hit's owner through its partitions kept open.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::search::{Found, HitLine, Pattern, PatternOptions, Scope, Search};
use crate::wasm::{js_err, to_js, to_u64};
use crate::wasm_files::WasmVolumes;

/// A search of a disk for a word or bytes, as `vhd-viewer search` makes it.
#[wasm_bindgen]
pub struct WasmSearch {
    search: Search,
    /// The chain's layer that the searched disk's layer 0 is: hits are numbered in the chain.
    base: usize,
}

#[wasm_bindgen]
impl WasmSearch {
    /// A search of `volumes`' disk for `pattern`: a text (found as UTF-8 and UTF-16LE; only
    /// UTF-16LE with `utf16`; ASCII letters in either case with `ignore_case`) or, with `hex`,
    /// bytes. `volumes` is the disk as of the chain's layer `as_of` (0 when absent: the whole
    /// chain); `only_layer` (numbered in the whole chain, as the hits' layers are) searches only
    /// what that layer holds. The BitLocker volumes unlocked in `volumes` are searched in their
    /// plain bytes. A refused pattern (empty, zeros only, bad hexadecimal) or a layer outside
    /// the disk is an error in words.
    #[wasm_bindgen(constructor)]
    pub fn new(
        volumes: &mut WasmVolumes,
        pattern: &str,
        hex: bool,
        utf16: bool,
        ignore_case: bool,
        only_layer: Option<u32>,
        as_of: Option<u32>,
    ) -> Result<WasmSearch, JsValue> {
        let pattern = Pattern::new(pattern, PatternOptions { hex, utf16, ignore_case }).map_err(js_err)?;
        let base = as_of.unwrap_or(0) as usize;
        let mut search = volumes
            .with_reader(|r| Search::new(r.disk, &pattern, Scope::only(only_layer.map(|k| k as usize), base, r.disk.layers.len())?))
            .map_err(js_err)?;
        // A table that cannot be read (a child without its parent) unlocks nothing: the hits'
        // owners say why.
        if let Ok(t) = volumes.table() {
            search = search.decrypting(t);
        }
        Ok(WasmSearch { search, base })
    }
}

/// What `searchStep` answers.
#[derive(Serialize)]
struct Step {
    /// The hits of this step, as the lines of `vhd-viewer search --json` (layers numbered in
    /// the whole chain).
    hits: Vec<HitLine>,
    /// Virtual disk bytes before this are searched.
    position: u64,
    /// Bytes of the layers' files read so far.
    data_bytes: u64,
    /// True when the disk's end is reached.
    done: bool,
}

#[wasm_bindgen]
impl WasmVolumes {
    /// Steps `search` on until about `budget` bytes of the layers' files are read: `{hits,
    /// position, data_bytes, done}`.
    #[wasm_bindgen(js_name = searchStep)]
    pub fn search_step(&mut self, search: &mut WasmSearch, budget: f64) -> Result<JsValue, JsValue> {
        let budget = to_u64(budget, "the budget")?;
        let mut found: Vec<Found> = Vec::new();
        let done = self
            .with_reader(|r| {
                search.search.step(r, budget, &mut |_, hits| {
                    found.extend_from_slice(hits);
                    Ok(())
                })
            })
            .map_err(js_err)?;
        let hits = found
            .iter()
            .map(|f| Ok(HitLine::new(f, self.owner_at(f.hit.offset)?, search.base)))
            .collect::<crate::Result<_>>()
            .map_err(js_err)?;
        let s = search.search.searched();
        to_js(&Step { hits, position: s.position, data_bytes: s.data_bytes, done })
    }
}
