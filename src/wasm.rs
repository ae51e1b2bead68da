//! JavaScript bindings for the web page: thin wrappers over the sans-IO core. JavaScript does all
//! the reading (`Blob.slice()`); these types only say which byte ranges they need and take the
//! bytes. Byte offsets and lengths cross as JavaScript numbers (`f64`), exact up to 2^53, far
//! above the 2040 GiB the format allows. Structures cross as plain objects (serde-wasm-bindgen,
//! 64-bit integers as `BigInt`, which the page turns into numbers where they are safe).

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::disk::{BitmapCache, BitmapRequest, Disk, Plan, Source, Steps};
use crate::error::Error;
use crate::image::{BlockRead, ByteRange};
use crate::layer::{Layer, Opener, Poll};
use crate::provenance::{self, Scan, Step};

/// Bitmaps the page keeps: enough for a scan step's requests, the batch read ahead of them, and
/// a plan's.
const CACHE_BITMAPS: usize = 1536;
/// Bitmaps a scan step asks for at most: each batch's last reads leave some of the 32 in flight
/// idle, so fewer, bigger batches keep the reads flowing (512 against 256: Firefox's scan of the
/// 127 GiB disk through the API from 120 to 105 µs a bitmap, measured).
const SCAN_NEEDS: usize = 512;

/// A core error as a JavaScript `Error` whose `code` (the stable code of [`Error::code`]),
/// `offset` (a file offset, or null) and `message` the page shows and scripts test.
pub(crate) fn js_err(e: Error) -> JsValue {
    coded(e.code(), e.offset(), &e.to_string())
}

/// A JavaScript `Error` with a `code` and an `offset` (null without one).
pub(crate) fn coded(code: &str, offset: Option<u64>, message: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    let offset = offset.map_or(JsValue::NULL, |o| JsValue::from_f64(o as f64));
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&err, &"code".into(), &code.into());
    let _ = js_sys::Reflect::set(&err, &"offset".into(), &offset);
    err.into()
}

/// The error for a call the API does not allow (an argument out of range, a step out of order).
pub(crate) fn misuse(message: &str) -> JsValue {
    coded("api-misuse", None, message)
}

pub(crate) fn to_js<T: Serialize + ?Sized>(v: &T) -> Result<JsValue, JsValue> {
    let s = serde_wasm_bindgen::Serializer::new().serialize_large_number_types_as_bigints(true).serialize_missing_as_null(true);
    v.serialize(&s).map_err(|e| coded("serialize", None, &e.to_string()))
}

/// A JavaScript number as a byte offset or length: a whole number from 0 to 2^53.
pub(crate) fn to_u64(v: f64, what: &str) -> Result<u64, JsValue> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= 9_007_199_254_740_992.0 {
        Ok(v as u64)
    } else {
        Err(misuse(&format!("{what} must be a whole number from 0 to 2^53, not {v}")))
    }
}

#[derive(Serialize)]
struct Range {
    offset: f64,
    len: f64,
}

impl From<ByteRange> for Range {
    fn from(r: ByteRange) -> Self {
        Range { offset: r.offset as f64, len: r.len as f64 }
    }
}

#[derive(Serialize)]
struct Need {
    layer: u32,
    block: f64,
    offset: f64,
    len: f64,
}

impl From<&BitmapRequest> for Need {
    fn from(r: &BitmapRequest) -> Self {
        Need { layer: r.layer as u32, block: r.block as f64, offset: r.range.offset as f64, len: r.range.len as f64 }
    }
}

/// An extent for JavaScript: `kind` is `zero`, `data` or `missing`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsExtent {
    offset: f64,
    len: f64,
    kind: &'static str,
    layer: Option<u32>,
    file_offset: Option<f64>,
}

#[derive(Serialize)]
struct PlanOut {
    need: Option<Vec<Need>>,
    extents: Option<Vec<JsExtent>>,
}

/// What to add to the error of a file named `name` that cannot be opened: the words the command
/// line adds when the name is that of a later piece of a Virtual PC split disk (`.v01` ...), or
/// an empty string.
#[wasm_bindgen(js_name = splitPieceNote)]
pub fn split_piece_note(name: &str) -> String {
    crate::chains::split_piece_note(name)
}

/// A small dynamic disk (16 MiB, one 2 MiB block written) that the Worker opens once when it
/// starts, before any file is given: a browser compiles each WebAssembly function the first time
/// it is called (in Chromium that was about 20 ms of the first file's open), so the open path is
/// compiled while the page waits for a file.
#[wasm_bindgen(js_name = warmUpDisk)]
pub fn warm_up_disk() -> Vec<u8> {
    let mut b = crate::vhd::writer::DiskBuilder::dynamic(16 << 20, 2 << 20);
    b.write(3 << 20, &[0x5a; 4096]);
    b.build()
}

/// Opens one VHD file: `poll()` says which ranges to read, `provide()` takes them.
#[wasm_bindgen]
pub struct WasmOpener {
    opener: Opener,
    ready: Option<Layer>,
}

#[wasm_bindgen]
impl WasmOpener {
    /// An opener for a file of `len` bytes.
    #[wasm_bindgen(constructor)]
    pub fn new(len: f64) -> Result<WasmOpener, JsValue> {
        Ok(WasmOpener { opener: Opener::new(to_u64(len, "the file length")?), ready: None })
    }

    /// The ranges to read next as `[{offset, len}]`, or `null` when the file is open. Throws
    /// when the file cannot be read as a VHD (the message names the offset).
    pub fn poll(&mut self) -> Result<JsValue, JsValue> {
        if self.ready.is_some() {
            return Ok(JsValue::NULL);
        }
        match self.opener.poll().map_err(js_err)? {
            Poll::Need(ranges) => to_js(&ranges.into_iter().map(Range::from).collect::<Vec<_>>()),
            Poll::Ready(layer) => {
                self.ready = Some(*layer);
                Ok(JsValue::NULL)
            }
        }
    }

    /// Hands over the bytes read at `offset`, copied once, into the opener's own buffer.
    pub fn provide(&mut self, offset: f64, bytes: &js_sys::Uint8Array) -> Result<(), JsValue> {
        self.opener.provide_with(to_u64(offset, "the offset")?, bytes.length() as usize, |buf| {
            bytes.copy_to(buf);
            Ok(())
        })
    }

    /// The file's structures before its BAT is read: the keys of `info --json` about its footers,
    /// dynamic header and parent locators (the BAT's counts and the findings about its blocks
    /// are not made yet), for a file named `name`; `null` until the bytes provided hold them
    /// (a dynamic disk: once `poll()` asks for the BAT) and for a VHDX.
    pub fn structures(&self, name: &str) -> Result<JsValue, JsValue> {
        match self.opener.structures() {
            Some(layer) => to_js(&crate::info::layer_info(&layer, name)),
            None => Ok(JsValue::NULL),
        }
    }

    /// Bytes handed over so far.
    #[wasm_bindgen(js_name = bytesProvided)]
    pub fn bytes_provided(&self) -> f64 {
        self.opener.bytes_provided() as f64
    }

    /// The opened file, once `poll()` returned `null`.
    pub fn finish(self) -> Result<WasmLayer, JsValue> {
        self.ready.map(|layer| WasmLayer { layer }).ok_or_else(|| misuse("the file is not open yet: poll() until it returns null"))
    }
}

/// One opened file.
#[wasm_bindgen]
pub struct WasmLayer {
    layer: Layer,
}

/// What identifies a file in a chain, and what it needs.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Identity {
    disk_type: &'static str,
    unique_id: String,
    size: f64,
    parent_unique_id: Option<String>,
    /// Where the parent unique id field lies in the file.
    parent_unique_id_offset: Option<f64>,
    parent_unicode_name: Option<String>,
    /// Where the parent may be, from the locators and the unicode name, most trustworthy first.
    parent_candidates: Vec<String>,
}

#[wasm_bindgen]
impl WasmLayer {
    /// The file's type, unique id, size and, for a differencing disk, its parent's id and names.
    pub fn identity(&self) -> Result<JsValue, JsValue> {
        let l = &self.layer;
        let parent = crate::chains::parent_id(l);
        to_js(&Identity {
            disk_type: l.disk_type().name(),
            unique_id: l.link_id_text(),
            size: l.size() as f64,
            parent_unique_id: parent.map(|p| p.to_string()),
            parent_unique_id_offset: parent.and(l.parent_link_offset()).map(|o| o as f64),
            parent_unicode_name: parent.map(|_| l.parent_name()),
            parent_candidates: if parent.is_some() { l.parent_candidates() } else { Vec::new() },
        })
    }
}

/// The files given to the page, sorted into chains.
#[wasm_bindgen]
#[derive(Default)]
pub struct WasmFiles {
    layers: Vec<Layer>,
}

#[wasm_bindgen]
impl WasmFiles {
    /// An empty set.
    #[wasm_bindgen(constructor)]
    pub fn new() -> WasmFiles {
        WasmFiles::default()
    }

    /// Adds an opened file (the handle is used up); returns its index.
    pub fn add(&mut self, layer: WasmLayer) -> usize {
        self.layers.push(layer.layer);
        self.layers.len() - 1
    }

    /// `{chains: [[index, ...]], duplicates: [[index, earlier], ...]}`: each chain top first.
    pub fn arrange(&self) -> Result<JsValue, JsValue> {
        to_js(&crate::chains::arrange(&self.layers.iter().collect::<Vec<_>>()))
    }

    /// The chain of files `indices` (top first) as a disk. Without `force`, a parent whose unique
    /// id is not the one its child names is an error.
    pub fn disk(&self, indices: Vec<u32>, force: bool) -> Result<WasmDisk, JsValue> {
        let layers = indices
            .iter()
            .map(|&i| self.layers.get(i as usize).cloned().ok_or_else(|| misuse(&format!("there is no file {i}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let disk = Disk::new(layers, force).map_err(js_err)?;
        let cache = BitmapCache::new(CACHE_BITMAPS + 4 * disk.layers.len());
        let steps = Steps::new(&disk);
        Ok(WasmDisk { disk, cache, steps, scan: None, check: None })
    }
}

/// A chain of opened files: the virtual disk.
#[wasm_bindgen]
pub struct WasmDisk {
    disk: Disk,
    cache: BitmapCache,
    steps: Steps,
    scan: Option<Scan>,
    check: Option<crate::check::Checker>,
}

impl WasmDisk {
    /// The chain (for the other bindings: the files view's).
    pub(crate) fn disk(&self) -> &Disk {
        &self.disk
    }

    fn layer(&self, layer: usize) -> Result<&Layer, JsValue> {
        self.disk.layers.get(layer).ok_or_else(|| js_err(Error::NoSuchLayer { layer, layers: self.disk.layers.len() }))
    }
}

#[wasm_bindgen]
impl WasmDisk {
    /// The same object as `vhd-viewer info --json`; `names[i]` names layer `i`.
    pub fn info(&self, names: Vec<String>) -> Result<JsValue, JsValue> {
        to_js(&crate::info::info(&self.disk, &names))
    }

    /// Every finding: each layer's and the chain's.
    pub fn findings(&self) -> Result<JsValue, JsValue> {
        to_js(&self.disk.all_findings())
    }

    /// The same object as `vhd-viewer check --for TARGET --json`: whether `target` (`azure`,
    /// `hyper-v`) takes the disk, rule by rule.
    pub fn fit(&self, target: &str) -> Result<JsValue, JsValue> {
        let t = crate::fit::Target::from_name(target).ok_or_else(|| misuse(&format!("{target:?} is not a target: azure or hyper-v")))?;
        to_js(&crate::fit::check(&self.disk, t))
    }

    /// Number of layers.
    #[wasm_bindgen(js_name = layerCount)]
    pub fn layer_count(&self) -> usize {
        self.disk.layers.len()
    }

    /// The virtual disk's size in bytes.
    pub fn size(&self) -> f64 {
        self.disk.size() as f64
    }

    /// The virtual disk's logical sector size: 512, or a VHDX's 4096 (the hex view's unit).
    #[wasm_bindgen(js_name = sectorSize)]
    pub fn sector_size(&self) -> u32 {
        self.disk.sector_size()
    }

    /// The smallest block size in the chain (1 MiB for fixed disks): a range of at most this
    /// many bytes needs at most two bitmaps per layer.
    #[wasm_bindgen(js_name = chunkSize)]
    pub fn chunk_size(&self) -> f64 {
        self.disk.chunk_size() as f64
    }

    /// Block size of a layer, 0 for a fixed disk.
    #[wasm_bindgen(js_name = blockSize)]
    pub fn block_size(&self, layer: usize) -> Result<f64, JsValue> {
        Ok(self.layer(layer)?.block_size().map_or(0.0, |b| b as f64))
    }

    /// Bytes of sector bitmap before each block's data, 0 for a fixed disk (and for a VHDX,
    /// which keeps its sector bitmaps in blocks of their own).
    #[wasm_bindgen(js_name = bitmapSize)]
    pub fn bitmap_size(&self, layer: usize) -> Result<f64, JsValue> {
        Ok(self.layer(layer)?.bitmap_before_data() as f64)
    }

    /// Why `writer` (`"compact"`, `"repair"`, `"relink"`, `"convert"`) cannot write a copy of
    /// layer `layer` (the disk as it was when that layer was the newest), or null when it can:
    /// the core's rule, which the writers themselves apply.
    #[wasm_bindgen(js_name = writerRefusal)]
    pub fn writer_refusal(&self, layer: usize, writer: &str) -> Result<Option<String>, JsValue> {
        let w = crate::rules::Writer::from_name(writer).ok_or_else(|| misuse(&format!("no writer is called {writer:?}")))?;
        Ok(w.accepts_layer(&self.disk, layer).err().map(|e| e.to_string()))
    }

    /// The file format of a layer: `"vhd"` or `"vhdx"`.
    pub fn format(&self, layer: usize) -> Result<String, JsValue> {
        Ok(self.layer(layer)?.format().to_string())
    }

    /// Layer `layer`'s block table, whatever its format and size: `{ blocks, states, offsets,
    /// unit, bitmapBefore, ooo, legend }`, where `states` (a `Uint8Array`) holds each block's
    /// state code (a VHD's 0 not allocated or 6 in the file; a VHDX's six payload block states),
    /// `offsets` (a `Uint32Array`) where each block in the file is, in `unit` bytes, `ooo` (a
    /// `Uint8Array`, empty for a VHDX) 1 for a block stored before a block with a lower index,
    /// and `legend` the states present as `[code, name, count]`. Blocks past `states` are not
    /// present.
    #[wasm_bindgen(js_name = blockTable)]
    pub fn block_table(&self, layer: usize) -> Result<JsValue, JsValue> {
        let t = self.layer(layer)?.block_table();
        let o = js_sys::Object::new();
        let set = |k: &str, v: JsValue| js_sys::Reflect::set(&o, &k.into(), &v).map(|_| ());
        set("blocks", JsValue::from(t.blocks as f64))?;
        set("states", js_sys::Uint8Array::from(t.states.as_slice()).into())?;
        set("offsets", js_sys::Uint32Array::from(t.offsets.as_slice()).into())?;
        set("unit", JsValue::from(t.unit))?;
        set("bitmapBefore", JsValue::from(t.bitmap_before))?;
        set("ooo", js_sys::Uint8Array::from(t.out_of_order.as_slice()).into())?;
        let legend: Vec<(u8, &str, f64)> = t.legend.iter().map(|&(code, name, n)| (code, name, n as f64)).collect();
        set("legend", to_js(&legend)?)?;
        Ok(o.into())
    }

    /// Where block `block`'s data starts in layer `layer`'s file (after a VHD block's bitmap; a
    /// VHDX payload block's place), or null when the block is not in the file.
    #[wasm_bindgen(js_name = blockData)]
    pub fn block_data(&self, layer: usize, block: f64) -> Result<Option<f64>, JsValue> {
        let block = to_u64(block, "the block")?;
        Ok(match self.layer(layer)?.block_read(block) {
            BlockRead::Data(data) | BlockRead::Partial { data, .. } => Some(data as f64),
            BlockRead::Below | BlockRead::Zero => None,
        })
    }

    /// How layer `layer`'s sector bitmaps are read: `{ lsb_first, sector_size }` (a VHD's bits
    /// run from the most significant of each byte, 512-byte sectors; a VHDX's from the least, in
    /// its logical sectors).
    #[wasm_bindgen(js_name = bitmapOrder)]
    pub fn bitmap_order(&self, layer: usize) -> Result<JsValue, JsValue> {
        #[derive(Serialize)]
        struct Order {
            lsb_first: bool,
            sector_size: u32,
        }
        let l = self.layer(layer)?;
        to_js(&Order { lsb_first: l.bitmap_lsb_first(), sector_size: l.logical_sector_size() })
    }

    /// Where block `block`'s sector bitmap lies in layer `layer`'s file, `null` when the block
    /// is not read through one.
    #[wasm_bindgen(js_name = bitmapRange)]
    pub fn bitmap_range(&self, layer: usize, block: f64) -> Result<JsValue, JsValue> {
        let block = to_u64(block, "the block")?;
        match self.layer(layer)?.block_read(block) {
            BlockRead::Partial { bitmap, .. } => to_js(&Range::from(bitmap)),
            _ => Ok(JsValue::NULL),
        }
    }

    /// Why the missing extent at virtual `offset` (`len` bytes, from layer `layer`) cannot be read:
    /// `{why: "parent", layer}`, `{why: "bitmap"|"data", layer, block, file_offset}` or
    /// `{why: "cut-short", layer, file_offset}` (numbers as BigInt), or null when it can be read.
    pub fn unreadable(&self, layer: usize, offset: f64, len: f64) -> Result<JsValue, JsValue> {
        self.layer(layer)?;
        let e = crate::disk::Extent {
            offset: to_u64(offset, "the offset")?,
            len: to_u64(len, "the length")?,
            source: Source::Missing { layer },
        };
        match crate::reader::unreadable(&self.disk, &e) {
            Some(u) => to_js(&u),
            None => Ok(JsValue::NULL),
        }
    }

    /// Stores a bitmap read from layer `layer`'s file.
    #[wasm_bindgen(js_name = provideBitmap)]
    pub fn provide_bitmap(&mut self, layer: usize, block: f64, bytes: Vec<u8>) -> Result<(), JsValue> {
        self.layer(layer)?;
        self.cache.insert(layer, to_u64(block, "the block")?, bytes);
        Ok(())
    }

    /// A cached bitmap, or `undefined`.
    pub fn bitmap(&self, layer: usize, block: f64) -> Result<Option<Vec<u8>>, JsValue> {
        Ok(self.cache.get(layer, to_u64(block, "the block")?).map(<[u8]>::to_vec))
    }

    /// Maps virtual `[offset, offset + len)` (at most `chunkSize()` bytes at a time) to
    /// `{extents: [{offset, len, kind, layer, fileOffset}]}`, or `{need: [{layer, block, offset,
    /// len}]}`: bitmaps to read and `provideBitmap` first.
    pub fn plan(&self, offset: f64, len: f64) -> Result<JsValue, JsValue> {
        let plan = self.disk.plan(to_u64(offset, "the offset")?, to_u64(len, "the length")?, &self.cache);
        to_js(&match plan {
            Plan::Need(reqs) => PlanOut { need: Some(reqs.iter().map(Need::from).collect()), extents: None },
            Plan::Extents(extents) => PlanOut {
                need: None,
                extents: Some(
                    extents
                        .iter()
                        .map(|e| {
                            let (kind, layer, file_offset) = match e.source {
                                Source::Zero => ("zero", None, None),
                                Source::Missing { layer } => ("missing", Some(layer as u32), None),
                                Source::Data { layer, file_offset } => ("data", Some(layer as u32), Some(file_offset as f64)),
                            };
                            JsExtent { offset: e.offset as f64, len: e.len as f64, kind, layer, file_offset }
                        })
                        .collect(),
                ),
            },
        })
    }

    /// Where a step of mapping the whole disk that starts at `offset` may end, as the command
    /// line steps (see `Steps::end`): the step needs at most one bitmap per layer, and a stretch
    /// that no layer allocates, however long, is one step. At most the disk's size and 2^53.
    #[wasm_bindgen(js_name = stepEnd)]
    pub fn step_end(&self, offset: f64) -> Result<f64, JsValue> {
        let end = self.disk.size().min(1 << 53);
        Ok(self.steps.end(&self.disk, to_u64(offset, "the offset")?, end) as f64)
    }

    /// One byte per sector (the disk's logical sectors) of `[offset, offset + len)`: the layer supplying it, 255 for zeros,
    /// 254 for missing. `undefined` when bitmaps are missing (`plan` the range first).
    #[wasm_bindgen(js_name = sectorSources)]
    pub fn sector_sources(&self, offset: f64, len: f64) -> Result<Option<Vec<u8>>, JsValue> {
        let (offset, len) = (to_u64(offset, "the offset")?, to_u64(len, "the length")?);
        match self.disk.plan(offset, len, &self.cache) {
            Plan::Need(_) => Ok(None),
            Plan::Extents(e) => provenance::sector_sources(&e, offset, len, self.disk.sector_size()).map(Some).map_err(js_err),
        }
    }

    /// The provenance map from the BATs alone: one mask per cell of `cellSize` bytes (bit `i`:
    /// layer `i`; bit 29 zeros; bit 30 missing; bit 31 estimate, the bitmaps unread). Starts an
    /// exact scan that `scanStep` advances.
    #[wasm_bindgen(js_name = scanStart)]
    pub fn scan_start(&mut self, cell_size: f64) -> Result<Vec<u32>, JsValue> {
        let scan = Scan::new(&self.disk, to_u64(cell_size, "the cell size")?).map_err(js_err)?;
        let masks = scan.masks().to_vec();
        self.scan = Some(scan);
        Ok(masks)
    }

    /// Advances the scan over at most `budget` cells: `{need: [...]}` (read those bitmaps,
    /// `provideBitmap`, and step again), `{done, total}`, or `{finished: true}`.
    #[wasm_bindgen(js_name = scanStep)]
    pub fn scan_step(&mut self, budget: f64) -> Result<JsValue, JsValue> {
        let scan = self.scan.as_mut().ok_or_else(|| misuse("no scan was started"))?;
        #[derive(Serialize)]
        struct Out {
            need: Option<Vec<Need>>,
            done: f64,
            total: f64,
            finished: bool,
        }
        let step = scan.step(&self.disk, &self.cache, to_u64(budget, "the budget")?, SCAN_NEEDS);
        let (done, total) = scan.progress();
        let (need, finished) = match step {
            Step::Need(r) => (Some(r.iter().map(Need::from).collect()), false),
            Step::Progress { .. } => (None, false),
            Step::Done => (None, true),
        };
        to_js(&Out { need, done: done as f64, total: total as f64, finished })
    }

    /// The bitmaps of the cells after those asked for so far (`[{layer, block, offset, len}]`,
    /// empty at the end), to read while `scanStep` works out the cells it has: `provideBitmap`
    /// them as they come.
    #[wasm_bindgen(js_name = scanAhead)]
    pub fn scan_ahead(&mut self) -> Result<JsValue, JsValue> {
        let scan = self.scan.as_mut().ok_or_else(|| misuse("no scan was started"))?;
        let needs: Vec<Need> = scan.ahead(&self.disk, &self.cache, SCAN_NEEDS).iter().map(Need::from).collect();
        to_js(&needs)
    }

    /// The scan's masks so far.
    #[wasm_bindgen(js_name = scanMasks)]
    pub fn scan_masks(&self) -> Vec<u32> {
        self.scan.as_ref().map(|s| s.masks().to_vec()).unwrap_or_default()
    }

    /// Starts the deep check (what `vhd-viewer check` reads: every block's bitmap, and the
    /// unused sectors of dynamic disks). Drive it with `checkNext`, `checkProvide` and
    /// `checkFailed`; `checkFindings` ends it.
    #[wasm_bindgen(js_name = checkStart)]
    pub fn check_start(&mut self) {
        self.check = Some(crate::check::Checker::new(&self.disk));
    }

    /// The next read the check needs, `{layer, block, offset, len, kind, done, total}`, or
    /// `null` when it is complete.
    #[wasm_bindgen(js_name = checkNext)]
    pub fn check_next(&mut self) -> Result<JsValue, JsValue> {
        let check = self.check.as_mut().ok_or_else(|| misuse("no check was started"))?;
        #[derive(Serialize)]
        struct Out {
            layer: usize,
            block: f64,
            offset: f64,
            len: f64,
            kind: crate::check::ReadKind,
            done: f64,
            total: f64,
        }
        let (done, total) = check.progress();
        match check.next_read(&self.disk) {
            None => Ok(JsValue::NULL),
            Some(r) => to_js(&Out {
                layer: r.layer,
                block: r.block as f64,
                offset: r.range.offset as f64,
                len: r.range.len as f64,
                kind: r.kind,
                done: done as f64,
                total: total as f64,
            }),
        }
    }

    /// The bytes of the read `checkNext` asked for.
    #[wasm_bindgen(js_name = checkProvide)]
    pub fn check_provide(&mut self, bytes: Vec<u8>) -> Result<(), JsValue> {
        let check = self.check.as_mut().ok_or_else(|| misuse("no check was started"))?;
        check.provide(&self.disk, &bytes);
        Ok(())
    }

    /// The read `checkNext` asked for failed (at file offset `offset`, with the browser's message).
    #[wasm_bindgen(js_name = checkFailed)]
    pub fn check_failed(&mut self, offset: f64, message: String) -> Result<(), JsValue> {
        let check = self.check.as_mut().ok_or_else(|| misuse("no check was started"))?;
        check.failed(&Error::Io { offset: to_u64(offset, "the offset")?, message });
        Ok(())
    }

    /// Ends the check: what it found (the open-time findings are in `findings()`).
    #[wasm_bindgen(js_name = checkFindings)]
    pub fn check_findings(&mut self) -> Result<JsValue, JsValue> {
        let check = self.check.take().ok_or_else(|| misuse("no check was started"))?;
        to_js(&check.findings())
    }
}

/// Where [`WasmNewDisk`]'s layout puts the bytes it writes itself (a VHD block's sector bitmap),
/// until the page takes them.
#[derive(Default)]
struct Pending(Vec<(u64, Vec<u8>)>);

impl crate::vhd::writer::WriteAt for Pending {
    fn write_at(&mut self, offset: u64, bytes: &[u8]) -> crate::error::Result<()> {
        self.0.push((offset, bytes.to_vec()));
        Ok(())
    }
    fn set_len(&mut self, _len: u64) -> crate::error::Result<()> {
        Ok(())
    }
}

/// `[{offset, bytes}]` for the page.
fn js_writes(writes: Vec<(u64, Vec<u8>)>) -> Result<JsValue, JsValue> {
    let out = js_sys::Array::new();
    for (offset, bytes) in writes {
        let o = js_sys::Object::new();
        js_sys::Reflect::set(&o, &"offset".into(), &JsValue::from_f64(offset as f64)).map_err(|_| misuse("cannot build the list"))?;
        js_sys::Reflect::set(&o, &"bytes".into(), &js_sys::Uint8Array::from(bytes.as_slice()).into())
            .map_err(|_| misuse("cannot build the list"))?;
        out.push(&o);
    }
    Ok(out.into())
}

/// A new standalone disk of a disk, laid out block by block, for the page's "Save as…": the
/// page walks the disk's extents and reads the bytes (`Blob.slice()`), this says where each
/// block goes and gives the structures to write at the end (the command line's `convert` lays
/// its files out with the same layouts, [`crate::convert::new_layout`]).
#[wasm_bindgen]
pub struct WasmNewDisk {
    layout: Box<dyn crate::newdisk::NewLayout>,
    /// True for a fixed VHD: the disk's bytes in place, then the footer.
    flat: bool,
    pending: Pending,
}

#[wasm_bindgen]
impl WasmNewDisk {
    /// A new disk of `disk`'s size in format `kind` (`"dynamic"` or `"fixed"` VHD, `"vhdx"` or
    /// `"vhdx-fixed"`), or `"azure"`: a fixed VHD fit for Azure, its size rounded up as
    /// `vhd-viewer convert --for azure` does ([`crate::convert::NewDisk::for_azure`]). With
    /// blocks of `block_size` bytes (a dynamic VHD's, a VHDX's), logical sectors of
    /// `sector_size` bytes (a VHDX's: 512 or 4096; 0 for the disk's own), unique id (a VHDX's
    /// `DataWriteGuid`) `unique_id` (16 bytes) and time stamp `timestamp` (a VHD's, seconds
    /// since 2000-01-01 UTC). Throws when the disk cannot be written so.
    #[wasm_bindgen(constructor)]
    pub fn new(
        disk: &WasmDisk,
        kind: &str,
        block_size: f64,
        sector_size: f64,
        unique_id: Vec<u8>,
        timestamp: f64,
    ) -> Result<WasmNewDisk, JsValue> {
        use crate::convert::{new_layout, Format, NewDisk};
        let azure = kind == "azure";
        let format = if azure { Some(Format::Fixed) } else { Format::from_name(kind).filter(|f| *f != Format::Raw) };
        let format = format
            .ok_or_else(|| misuse(&format!("a new disk is \"dynamic\", \"fixed\", \"vhdx\", \"vhdx-fixed\" or \"azure\", not {kind:?}")))?;
        let d = &disk.disk;
        let id: [u8; 16] = unique_id.try_into().map_err(|_| misuse("the unique id must be 16 bytes"))?;
        let unique_id = crate::values::Uuid(id);
        let timestamp = crate::values::Timestamp(to_u64(timestamp, "the time stamp")?.min(u64::from(u32::MAX)) as u32);
        let new = if azure { NewDisk::for_azure(d, unique_id, timestamp) } else { NewDisk { unique_id, timestamp, size: None } };
        let bs = u32::try_from(to_u64(block_size, "the block size")?).unwrap_or(u32::MAX);
        let ss = match to_u64(sector_size, "the sector size")? {
            0 => d.layers[0].logical_sector_size(),
            s => u32::try_from(s).unwrap_or(u32::MAX),
        };
        let layout = new_layout(d, format, bs, ss, &new).map_err(js_err)?;
        Ok(WasmNewDisk { layout, flat: format == Format::Fixed, pending: Pending::default() })
    }

    /// True for a fixed VHD, whose bytes are the disk's in place (written as the raw image is)
    /// followed by what [`WasmNewDisk::finish`] gives.
    pub fn flat(&self) -> bool {
        self.flat
    }

    /// `vhd` or `vhdx`.
    pub fn format(&self) -> String {
        self.layout.format().into()
    }

    /// The new disk's virtual size: the disk's, or larger for `"azure"` (the bytes past the
    /// disk's end are zeros).
    pub fn size(&self) -> f64 {
        self.layout.size() as f64
    }

    /// Bytes of data per block.
    #[wasm_bindgen(js_name = blockSize)]
    pub fn block_size(&self) -> f64 {
        self.layout.block_size() as f64
    }

    /// Bytes per logical sector: a VHD's 512, a VHDX's as chosen.
    #[wasm_bindgen(js_name = sectorSize)]
    pub fn sector_size(&self) -> f64 {
        self.layout.sector_size() as f64
    }

    /// Gives block `block` its place (each block once; a fixed VHDX's are placed already) and
    /// returns the file offset of its data; [`WasmNewDisk::writes`] then gives what the layout
    /// writes with it (a VHD block's sector bitmap).
    pub fn place(&mut self, block: f64) -> Result<f64, JsValue> {
        let b = to_u64(block, "the block")?;
        self.layout.place(b, &mut self.pending).map(|o| o as f64).map_err(js_err)
    }

    /// The writes the layout made since the last call, as `[{offset, bytes}]`.
    pub fn writes(&mut self) -> Result<JsValue, JsValue> {
        js_writes(std::mem::take(&mut self.pending.0))
    }

    /// Blocks placed so far.
    pub fn placed(&self) -> f64 {
        self.layout.placed() as f64
    }

    /// The structures to write once every block is written, as `[{offset, bytes}]` (a VHD: the
    /// footer copy, header, BAT and footer; a VHDX: identifier, headers, region tables, metadata
    /// and BAT).
    pub fn finish(&self) -> Result<JsValue, JsValue> {
        js_writes(self.layout.finish())
    }

    /// The finished file's length, with the blocks placed so far.
    #[wasm_bindgen(js_name = fileLen)]
    pub fn file_len(&self) -> f64 {
        self.layout.file_len() as f64
    }
}

#[wasm_bindgen]
impl WasmDisk {
    /// The virtual size of the disk as of layer `k` (0: as opened, 1: its parent, ...): that
    /// layer's own.
    #[wasm_bindgen(js_name = layerSize)]
    pub fn layer_size(&self, k: usize) -> Result<f64, JsValue> {
        Ok(self.layer(k)?.size() as f64)
    }

    /// The size of an Azure-ready copy of the disk as of layer `k` (`vhd-viewer convert --for
    /// azure --layer K`, a [`WasmNewDisk`] of kind `"azure"`): [`crate::fit::azure_size`] of
    /// its size.
    #[wasm_bindgen(js_name = azureSize)]
    pub fn azure_size(&self, k: usize) -> Result<f64, JsValue> {
        Ok(crate::fit::azure_size(self.layer(k)?.size()) as f64)
    }

    /// Why no Azure-ready copy of the disk as of layer `k` can be written (its size past what a
    /// VHD holds), or `None` when it can: the reason `vhd-viewer convert --for azure` gives.
    #[wasm_bindgen(js_name = azureRefusal)]
    pub fn azure_refusal(&self, k: usize) -> Result<Option<String>, JsValue> {
        let l = self.layer(k)?;
        Ok(crate::convert::check_vhd_size(crate::fit::azure_size(l.size()), l.size_offset()).err().map(|e| e.to_string()))
    }

    /// The disk as of layer `k` (0: as opened, 1: its parent, ...): the layers above it left
    /// out, as `vhd-viewer convert --layer K` does. The chain below was checked already.
    #[wasm_bindgen(js_name = asOfLayer)]
    pub fn as_of_layer(&self, k: usize) -> Result<WasmDisk, JsValue> {
        let disk = self.disk.cut(k).map_err(js_err)?;
        let cache = BitmapCache::new(CACHE_BITMAPS + 4 * disk.layers.len());
        let steps = Steps::new(&disk);
        Ok(WasmDisk { disk, cache, steps, scan: None, check: None })
    }
}
