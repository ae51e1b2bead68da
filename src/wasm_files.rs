//! JavaScript bindings for the page's files view: partitions, directory listings, file bytes and
//! who owns a byte, read through the chain with the command line's synchronous reader.
//!
//! Unlike the bindings of `wasm.rs`, which say which ranges they need and wait for the bytes,
//! these read synchronously: [`WasmVolumes`] is given a JavaScript function `read(layer, offset,
//! len)` that returns a layer's file bytes at once (in a Web Worker, `FileReaderSync` over
//! `Blob.slice()` or a synchronous `XMLHttpRequest` with `Range`; in tests, `fs.readSync`), and
//! drives [`DiskReader`] over it. Each partition's opened file system and its volume's page
//! cache are kept between calls (opening NTFS reads its MFT's first records), a few partitions
//! at most, so memory stays bounded.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::bitlocker::keys::Unlocking;
use crate::bitlocker::{Key, VolumeKey};
use crate::disk::{BitmapCache, Disk, Steps};
use crate::error::{Error, FsError, Result};
use crate::fs::supply::{supplier, supply_of, Supply};
use crate::fs::{self, EntryKind, FileData, FileSystem, LsLine, ReadVirtual, Volume};
use crate::inspect;
use crate::parts::{self, Partition, Table};
use crate::reader::{DiskReader, ReadAt};
use crate::wasm::{coded, js_err, misuse, to_js, to_u64, WasmDisk};

/// Partitions kept open at once (each with a volume cache of at most 16 MiB).
const OPEN_PARTITIONS: usize = 3;
/// The most bytes one `read()` returns.
const MAX_WINDOW: u64 = 64 << 20;

/// Bytes read at once when a small read misses: the page's synchronous reads cost about the same
/// whether they ask for 8 KiB or 64 KiB (a `FileReaderSync` call, or a Range request), and the
/// file-system readers ask for many small neighbouring pieces (MFT records, index blocks, inode
/// tables).
const CHUNK: u64 = 64 << 10;
/// Chunks kept per file (4 MiB).
const CHUNKS: usize = 64;

/// One layer's file, read through the page's function, its recent chunks kept.
pub(crate) struct JsFile {
    pub(crate) read: js_sys::Function,
    pub(crate) layer: u32,
    pub(crate) len: u64,
    /// Bytes fetched through `read` so far (all files of a chain share it).
    pub(crate) bytes: Rc<Cell<u64>>,
    /// Recently read chunks, by their start, the most recent last.
    chunks: RefCell<Vec<(u64, Vec<u8>)>>,
    /// Every read goes straight to the page's function, exactly as asked (no chunks): a
    /// folder's survey, whose bytes read per file are what it promises.
    exact: bool,
}

impl JsFile {
    /// Layer `layer`'s file of `len` bytes, read through `read(layer, offset, len)`.
    pub(crate) fn new(read: &js_sys::Function, layer: u32, len: u64, bytes: &Rc<Cell<u64>>) -> Self {
        JsFile { read: read.clone(), layer, len, bytes: bytes.clone(), chunks: RefCell::new(Vec::new()), exact: false }
    }

    /// As [`JsFile::new`], but each read asks the page's function for exactly its bytes.
    pub(crate) fn exact(read: &js_sys::Function, layer: u32, len: u64, bytes: &Rc<Cell<u64>>) -> Self {
        JsFile { exact: true, ..JsFile::new(read, layer, len, bytes) }
    }

    /// Bytes `[offset, offset + buf.len())` straight from the page's function.
    fn fetch(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let want = buf.len();
        let got = self
            .read
            .call3(&JsValue::NULL, &JsValue::from(self.layer), &JsValue::from_f64(offset as f64), &JsValue::from_f64(want as f64))
            .map_err(|e| Error::Io { offset, message: js_message(&e) })?;
        let arr = got.dyn_into::<js_sys::Uint8Array>().map_err(|_| Error::Io {
            offset,
            message: format!("reading layer {}'s file: the page's read() returned something that is not a Uint8Array", self.layer),
        })?;
        if arr.length() as usize != want {
            return Err(Error::Io {
                offset,
                message: format!("reading layer {}'s file: {want} bytes asked at {offset:#x}, {} given", self.layer, arr.length()),
            });
        }
        arr.copy_to(buf);
        self.bytes.set(self.bytes.get() + want as u64);
        Ok(())
    }

    /// Copies what chunk `start` holds of `[offset, offset + buf.len())` into `buf`, reading the
    /// chunk when it is not kept.
    fn copy_chunk(&self, start: u64, offset: u64, buf: &mut [u8]) -> Result<()> {
        let mut chunks = self.chunks.borrow_mut();
        let i = match chunks.iter().position(|(s, _)| *s == start) {
            Some(i) => i,
            None => {
                let mut data = vec![0u8; CHUNK.min(self.len - start) as usize];
                self.fetch(start, &mut data)?;
                if chunks.len() >= CHUNKS {
                    chunks.remove(0);
                }
                chunks.push((start, data));
                chunks.len() - 1
            }
        };
        let entry = chunks.remove(i);
        let from = (offset - start) as usize;
        buf.copy_from_slice(&entry.1[from..from + buf.len()]);
        chunks.push(entry);
        Ok(())
    }
}

impl ReadAt for JsFile {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let end = offset.saturating_add(buf.len() as u64);
        // Large reads (a copy's windows), reads past the end and an exact file's go straight to the page.
        if self.exact || buf.len() as u64 > CHUNK || end > self.len {
            return self.fetch(offset, buf);
        }
        let mut at = offset;
        let mut done = 0;
        while at < end {
            let start = at / CHUNK * CHUNK;
            let n = ((start + CHUNK).min(end) - at) as usize;
            self.copy_chunk(start, at, &mut buf[done..done + n])?;
            at += n as u64;
            done += n;
        }
        Ok(())
    }
}

/// The message of a JavaScript exception.
fn js_message(e: &JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| "the page's read() failed".into())
}

/// The chain and its files, shared by every partition's volume.
struct Chain {
    disk: Disk,
    files: Vec<JsFile>,
    /// The bitmaps read and the steps, between readers.
    parts: RefCell<Option<(BitmapCache, Steps)>>,
}

impl Chain {
    /// Runs `f` with a [`DiskReader`] over the chain, keeping its bitmaps for the next.
    fn with_reader<T>(&self, f: impl FnOnce(&mut DiskReader<'_>) -> Result<T>) -> Result<T> {
        let (cache, steps) = self.parts.borrow_mut().take().unwrap_or_else(|| (BitmapCache::for_disk(&self.disk), Steps::new(&self.disk)));
        let sources: Vec<&dyn ReadAt> = self.files.iter().map(|f| f as &dyn ReadAt).collect();
        let mut reader = DiskReader::with_parts(&self.disk, sources, cache, steps)?;
        let out = f(&mut reader);
        *self.parts.borrow_mut() = Some(reader.into_parts());
        out
    }
}

/// The virtual disk as a [`ReadVirtual`] that owns its share of the chain.
#[derive(Clone)]
struct ChainRef(Rc<Chain>);

impl ReadVirtual for ChainRef {
    fn size(&self) -> u64 {
        self.0.disk.size()
    }
    fn sector_size(&self) -> u32 {
        self.0.disk.sector_size()
    }
    fn read_virtual(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.0.with_reader(|r| r.read(offset, buf))
    }
}

/// A volume the files calls name: a partition by its number, or an LVM2 logical volume by its
/// `VG/LV` (the page's `partition` argument is one or the other).
#[derive(Clone, PartialEq, Eq, Hash)]
enum Place {
    Partition(u32),
    Volume(String),
}

impl Place {
    /// The place JavaScript's `partition` argument names: a number or a `VG/LV` string.
    fn of(v: &JsValue) -> Result<Place, JsValue> {
        if let Some(name) = v.as_string() {
            return Ok(Place::Volume(name));
        }
        match v.as_f64() {
            Some(n) if n >= 0.0 && n <= f64::from(u32::MAX) && n.fract() == 0.0 => Ok(Place::Partition(n as u32)),
            _ => Err(misuse("a volume is a partition's number or an LVM2 logical volume's VG/LV")),
        }
    }
}

/// One partition or logical volume opened.
struct Opened {
    place: Place,
    /// The partition's number (a logical volume's: the partition of its first extent).
    index: u32,
    /// `VG/LV` when it is an LVM2 logical volume.
    volume: Option<String>,
    vol: Volume<ChainRef>,
    fs: FileSystem,
}

/// The entry looked up last, and its data, so that reading a file window by window looks it up once.
struct Last {
    key: (Place, String, Option<String>, bool),
    data: FileData,
}

/// The partitions and file systems of a disk (a chain, or a chain as of a layer), read
/// synchronously through the page's `read(layer, offset, len)`.
#[wasm_bindgen]
pub struct WasmVolumes {
    chain: ChainRef,
    bytes: Rc<Cell<u64>>,
    table: Option<Table>,
    open: Vec<Opened>,
    last: Option<Last>,
}

/// An entry with where it is: `stat()`.
#[derive(Serialize)]
struct Stat<'a> {
    partition: u32,
    /// The LVM2 logical volume (`VG/LV`) it is on, when it is on one.
    #[serde(skip_serializing_if = "Option::is_none")]
    volume: Option<&'a str>,
    path: &'a str,
    #[serde(rename = "type")]
    kind: EntryKind,
    size: u64,
    modified: Option<String>,
    deleted: bool,
    id: u64,
    attributes: &'a [&'static str],
    name: &'a str,
    /// Its times (ISO 8601 UTC), those its file system keeps.
    times: TimesJson,
    /// Virtual-disk byte offset of its directory entry (FAT) or MFT record (NTFS).
    entry_disk_offset: Option<u64>,
    /// `inline` (held in the metadata), `runs`, `compressed`, or null when it has no data to read.
    storage: Option<&'static str>,
    /// Bytes per compression unit (compressed NTFS files).
    compression_unit: Option<u64>,
    runs: Vec<StatRun>,
    /// Which layer of the chain supplies each part of the file's bytes on the disk, in file
    /// order (the first [`crate::fs::supply::MAX_SUPPLY`] parts).
    supply: Vec<Supply>,
    /// True when the file has more parts than `supply` lists.
    supply_truncated: bool,
    streams: Vec<fs::Stream>,
    /// Why its data cannot be located, if it cannot.
    data_error: Option<String>,
}

/// [`fs::Times`] in ISO 8601.
#[derive(Serialize)]
struct TimesJson {
    created: Option<String>,
    modified: Option<String>,
    accessed: Option<String>,
    changed: Option<String>,
}

impl From<fs::Times> for TimesJson {
    fn from(t: fs::Times) -> Self {
        TimesJson {
            created: t.created.map(fs::iso8601),
            modified: t.modified.map(fs::iso8601),
            accessed: t.accessed.map(fs::iso8601),
            changed: t.changed.map(fs::iso8601),
        }
    }
}

/// A stretch of a file on the virtual disk.
#[derive(Serialize)]
struct StatRun {
    file_offset: u64,
    len: u64,
    /// Virtual-disk byte offset, null for a hole (reads as zeros).
    disk_offset: Option<u64>,
    /// A hole: a sparse part, or (compressed files) a unit stored in fewer clusters.
    sparse: bool,
}

/// A BitLocker unlock under way ([`WasmVolumes::unlock_start`]), run a step at a time so that
/// the Worker hears Stop between steps.
#[wasm_bindgen]
pub struct WasmUnlock {
    partition: u32,
    job: Unlocking,
}

#[wasm_bindgen]
impl WasmUnlock {
    /// Key stretch rounds done.
    pub fn done(&self) -> f64 {
        self.job.progress().0 as f64
    }
    /// Key stretch rounds in all (0 for a key file).
    pub fn total(&self) -> f64 {
        self.job.progress().1 as f64
    }
}

#[wasm_bindgen]
impl WasmVolumes {
    /// The volumes of `disk` (a chain from `WasmFiles.disk()` or `WasmDisk.asOfLayer(k)`),
    /// whose layer `i`'s file (layer 0 the top of *that* disk) `read(i, offset, len)` returns
    /// synchronously as a `Uint8Array` of exactly `len` bytes.
    #[wasm_bindgen(constructor)]
    pub fn new(disk: &WasmDisk, read: js_sys::Function) -> WasmVolumes {
        let disk = disk.disk().clone();
        let bytes = Rc::new(Cell::new(0));
        let files = disk.layers.iter().enumerate().map(|(i, l)| JsFile::new(&read, i as u32, l.file_len, &bytes)).collect();
        let chain = ChainRef(Rc::new(Chain { disk, files, parts: RefCell::new(None) }));
        WasmVolumes { chain, bytes, table: None, open: Vec::new(), last: None }
    }

    /// The partition table, as `vhd-viewer parts --json`: `{scheme, disk_guid, partitions,
    /// findings, structures}`.
    pub fn partitions(&mut self) -> Result<JsValue, JsValue> {
        let table = self.table().map_err(js_err)?;
        to_js(&table.json())
    }

    /// Starts unlocking BitLocker partition `partition` with `kind` (`password`,
    /// `recovery-password` or `key-file`) and `secret` (the text, or the `.BEK` file's bytes as a
    /// `Uint8Array`). The secret is not kept: what the job keeps is what the key stretch needs,
    /// and once unlocked, only what decrypts the volume stays, in this object (freed with it).
    #[wasm_bindgen(js_name = unlockStart)]
    pub fn unlock_start(&mut self, partition: u32, kind: &str, secret: JsValue) -> Result<WasmUnlock, JsValue> {
        let key = match kind {
            "password" => Key::Password(secret.as_string().ok_or_else(|| misuse("a password is text"))?),
            "recovery-password" => Key::RecoveryPassword(secret.as_string().ok_or_else(|| misuse("a recovery password is text"))?),
            "key-file" => Key::KeyFile(secret.dyn_into::<js_sys::Uint8Array>().map_err(|_| misuse("a key file is a Uint8Array"))?.to_vec()),
            _ => return Err(misuse("the kind of key is password, recovery-password or key-file")),
        };
        let mut chain = self.chain.clone();
        let meta = self.table().map_err(js_err)?.bitlocker(&mut chain, partition).map_err(js_err)?;
        Ok(WasmUnlock { partition, job: meta.unlocking(&key).map_err(js_err)? })
    }

    /// Runs `job` for at most `rounds` more rounds of its key stretch: true once the partition
    /// is unlocked (its files then read as any other's; `partitions()` says what is inside),
    /// false while rounds remain; throws `bitlocker-wrong-key` when the key opens nothing.
    #[wasm_bindgen(js_name = unlockStep)]
    pub fn unlock_step(&mut self, job: &mut WasmUnlock, rounds: u32) -> Result<bool, JsValue> {
        let Some(unlock) = job.job.step(rounds).map_err(js_err)? else { return Ok(false) };
        self.table().map_err(js_err)?;
        let mut chain = self.chain.clone();
        if let Some(t) = self.table.as_mut() {
            t.unlocked(&mut chain, job.partition, unlock);
        }
        self.open.retain(|o| o.place != Place::Partition(job.partition));
        Ok(true)
    }

    /// What opens the BitLocker volumes unlocked here again, without their keys' stretch: one
    /// `Uint8Array` per volume, which the Worker hands to the Worker of a diff or a report
    /// (`diffLayers`' `keys`) over a channel of their own, never through the main thread.
    #[wasm_bindgen(js_name = volumeKeys)]
    pub fn volume_keys(&self) -> js_sys::Array {
        let unlocked = self.table.iter().flat_map(|t| &t.partitions).filter_map(|p| p.unlock.as_ref());
        unlocked.map(|u| js_sys::Uint8Array::from(&u.volume_key().to_bytes()[..])).collect()
    }

    /// Opens again the BitLocker volumes whose keys another Worker's `volumeKeys()` gave (a job's
    /// Worker: the timeline's, handed them over a channel of their own), without a stretch.
    #[wasm_bindgen(js_name = unlockWith)]
    pub fn unlock_with(&mut self, keys: js_sys::Array) -> Result<(), JsValue> {
        let Some(key) = volume_keys(&keys)? else { return Ok(()) };
        self.table().map_err(js_err)?;
        let mut chain = self.chain.clone();
        if let Some(t) = self.table.as_mut() {
            t.unlock_all(&mut chain, &key, &mut |_, _| true).map_err(js_err)?;
        }
        self.open.clear();
        Ok(())
    }

    /// The entries of directory `path` of `partition` (a partition's number, or an LVM2 logical
    /// volume's `VG/LV`), as the lines of `vhd-viewer ls PATH --partition N --json` (`--volume
    /// VG/LV`; deleted ones too with `deleted`).
    pub fn list(&mut self, partition: JsValue, path: &str, deleted: bool) -> Result<JsValue, JsValue> {
        let o = self.opened(&Place::of(&partition)?)?;
        let dir = o.fs.lookup(&mut o.vol, path, deleted).map_err(js_err)?;
        if dir.kind != EntryKind::Dir {
            return Err(js_err(FsError::NotADirectory { path: path.to_string() }.into()));
        }
        let entries = o.fs.list(&mut o.vol, &dir, deleted).map_err(js_err)?;
        to_js(&entries.iter().map(|e| LsLine { volume: o.volume.as_deref(), ..LsLine::new(o.index, e) }).collect::<Vec<_>>())
    }

    /// One entry (`path`, deleted ones too with `deleted`) with its name, where its directory
    /// entry or record is on the disk, its data runs as virtual-disk byte ranges, and its
    /// alternate data streams (NTFS). `partition` as for `list()`.
    pub fn stat(&mut self, partition: JsValue, path: &str, deleted: bool) -> Result<JsValue, JsValue> {
        let o = self.opened(&Place::of(&partition)?)?;
        let (index, volume) = (o.index, o.volume.clone());
        let e = o.fs.lookup(&mut o.vol, path, deleted).map_err(js_err)?;
        let (data, data_error) = match o.fs.data(&mut o.vol, &e, None) {
            Ok(d) => (Some(d), None),
            Err(err) => (None, Some(err.to_string())),
        };
        // Its runs and its entry where they are on the disk (a logical volume's through its extents).
        let on_disk = data.as_ref().map(|d| o.vol.disk_runs(d.runs()));
        let entry_disk_offset = e.entry_offset.and_then(|v| o.vol.disk_run(v)).map(|(d, _)| d);
        let times = o.fs.times(&mut o.vol, &e).unwrap_or(fs::Times { modified: e.modified, ..fs::Times::default() });
        // Named streams wherever their attributes are (extension records too), from the lookup.
        let streams = e.streams.clone();
        let (storage, unit) = match &data {
            None => (None, None),
            Some(FileData::Inline(_)) => (Some("inline"), None),
            Some(FileData::Runs { .. }) => (Some("runs"), None),
            Some(FileData::Compressed { unit, .. }) => (Some("compressed"), Some(*unit)),
        };
        let runs = on_disk
            .iter()
            .flatten()
            .map(|r| StatRun { file_offset: r.file_offset, len: r.len, disk_offset: r.volume_offset, sparse: r.volume_offset.is_none() })
            .collect();
        let (supply, supply_truncated) = match &on_disk {
            Some(d) => self.chain.0.with_reader(|r| supply_of(r, 0, d, e.size)).map_err(js_err)?,
            None => (Vec::new(), false),
        };
        let line = LsLine::new(index, &e);
        to_js(&Stat {
            partition: index,
            volume: volume.as_deref(),
            path: line.path,
            kind: line.kind,
            size: line.size,
            modified: line.modified.clone(),
            deleted: line.deleted,
            id: line.id,
            attributes: line.attributes,
            name: &e.name,
            times: times.into(),
            entry_disk_offset,
            storage,
            compression_unit: unit,
            runs,
            supply,
            supply_truncated,
            streams,
            data_error,
        })
    }

    /// `len` bytes (at most 64 MiB) of file `path` from byte `offset` (fewer at its end; none
    /// past it): its unnamed data, or the NTFS stream `stream`. The bytes `vhd-viewer get`
    /// writes, a window at a time. `partition` as for `list()`.
    pub fn read(
        &mut self,
        partition: JsValue,
        path: &str,
        stream: Option<String>,
        deleted: bool,
        offset: f64,
        len: f64,
    ) -> Result<Vec<u8>, JsValue> {
        let (offset, len) = (to_u64(offset, "the offset")?, to_u64(len, "the length")?);
        if len > MAX_WINDOW {
            return Err(misuse(&format!("read() gives at most {MAX_WINDOW} bytes at a time, not {len}")));
        }
        let place = Place::of(&partition)?;
        let key = (place.clone(), path.to_string(), stream.clone(), deleted);
        if self.last.as_ref().map(|l| &l.key) != Some(&key) {
            self.last = None;
            let o = self.opened(&place)?;
            let entry = o.fs.lookup(&mut o.vol, path, deleted).map_err(js_err)?;
            if entry.kind == EntryKind::Dir && stream.is_none() {
                return Err(coded("is-a-directory", None, &format!("{path} is a directory")));
            }
            let data = o.fs.data(&mut o.vol, &entry, stream.as_deref()).map_err(js_err)?;
            self.last = Some(Last { key, data });
        }
        let Some(last) = self.last.as_ref() else { return Ok(Vec::new()) };
        let data = last.data.window(offset, len);
        let o = self.opened(&place)?;
        let mut out = Vec::with_capacity(len.min(1 << 20) as usize);
        let skip = data.1 as usize;
        let mut seen = 0usize;
        fs::read_data(&mut o.vol, &data.0, &mut |b| {
            let from = skip.saturating_sub(seen).min(b.len());
            seen += b.len();
            let room = (len as usize).saturating_sub(out.len());
            out.extend_from_slice(&b[from..b.len().min(from + room)]);
            Ok(())
        })
        .map_err(js_err)?;
        Ok(out)
    }

    /// Who owns virtual byte `offset` (its sector, of the disk's size), as `vhd-viewer owner --json`: the partition,
    /// the file or directory (with the byte's place in it) or the structure or free space, and
    /// the layer of this disk that supplies it (`layer_file` is null: the page knows the names).
    pub fn owner(&mut self, offset: f64) -> Result<JsValue, JsValue> {
        let offset = to_u64(offset, "the offset")?;
        let size = self.chain.size();
        if offset >= size {
            return Err(misuse(&format!("byte {offset} is past the disk's end ({size} bytes)")));
        }
        let ss = u64::from(self.chain.sector_size());
        let at = offset / ss * ss;
        let plan = self.chain.0.with_reader(|r| r.plan(at, ss)).map_err(js_err)?;
        let (source, layer) = supplier(plan.first().map(|e| e.source));
        let mut o = self.owner_at(offset).map_err(js_err)?;
        o.source = source;
        o.layer = layer;
        to_js(&o)
    }

    /// Why a copy of the disk with logical sectors of `sector_size` bytes would read its
    /// partitions at the wrong bytes ([`crate::convert::check_sector_size`]), or `None`.
    #[wasm_bindgen(js_name = sectorSizeRefusal)]
    pub fn sector_size_refusal(&mut self, sector_size: u32) -> Result<Option<String>, JsValue> {
        let table = self.table().map_err(js_err)?;
        Ok(crate::convert::check_sector_size(table, sector_size).err().map(|e| e.to_string()))
    }

    /// The operating systems on the disk's volumes, as `vhd-viewer inspect --json` lists them
    /// under `systems` (`inspect::System`: product, version, computer name, users, programs,
    /// each answer's source). Reads the registry hives or `/etc` files through the chain.
    pub fn systems(&mut self) -> Result<JsValue, JsValue> {
        let table = self.table().map_err(js_err)?.clone();
        to_js(&inspect::systems(&mut self.chain.clone(), &table))
    }

    /// Bytes read from the files so far.
    #[wasm_bindgen(js_name = bytesRead)]
    pub fn bytes_read(&self) -> f64 {
        self.bytes.get() as f64
    }
}

impl WasmVolumes {
    /// Who owns virtual byte `offset` ([`parts::owner_with`]; `source` and `layer` left to the
    /// caller), through the partition kept open: its file system, its page cache and the index
    /// of which record holds which clusters (NTFS) are read once, not at every call.
    pub(crate) fn owner_at(&mut self, offset: u64) -> Result<parts::DiskOwner> {
        let size = self.chain.size();
        let table = self.table()?.clone();
        parts::owner_with(&table, offset, size, |p, at| {
            let place = p.volume_name().map_or(Place::Partition(p.index), |v| Place::Volume(v.to_string()));
            match self.opened(&place) {
                Ok(op) => Ok(Some((op.fs.kind(), op.fs.owner(&mut op.vol, at)?))),
                Err(_) => Ok(None),
            }
        })
    }

    /// Runs `f` with a reader of the disk, keeping its bitmaps for the next.
    pub(crate) fn with_reader<T>(&self, f: impl FnOnce(&mut DiskReader<'_>) -> Result<T>) -> Result<T> {
        self.chain.0.with_reader(f)
    }

    /// The partition table (its unlocked BitLocker volumes among them), read once.
    pub(crate) fn table(&mut self) -> Result<&Table> {
        let table = match self.table.take() {
            Some(t) => t,
            None => parts::read(&mut self.chain)?,
        };
        Ok(self.table.insert(table))
    }

    /// Partition or logical volume `place`, opened (the most recently used kept, a few at most).
    fn opened(&mut self, place: &Place) -> Result<&mut Opened, JsValue> {
        if let Some(i) = self.open.iter().position(|o| &o.place == place) {
            let o = self.open.remove(i);
            self.open.push(o);
        } else {
            let table = self.table().map_err(js_err)?;
            let p: Partition = match place {
                Place::Partition(index) => table.readable_partition(*index),
                Place::Volume(name) => table.readable_volume(name),
            }
            .map_err(js_err)?
            .clone();
            let (vol, fs) = p.open(self.chain.clone()).map_err(js_err)?;
            if self.open.len() >= OPEN_PARTITIONS {
                self.open.remove(0);
            }
            let volume = p.volume_name().map(str::to_string);
            self.open.push(Opened { place: place.clone(), index: p.index, volume, vol, fs });
        }
        self.open.last_mut().ok_or_else(|| misuse("no partition open"))
    }
}

/// The keys `WasmVolumes.volumeKeys()` gave, as one [`Key`]; `None` when there are none.
pub(crate) fn volume_keys(keys: &js_sys::Array) -> Result<Option<Key>, JsValue> {
    let misuse = || js_err(Error::Usage { message: "a volume key is 48 bytes from WasmVolumes.volumeKeys()".into() });
    let keys = keys
        .iter()
        .map(|k| k.dyn_into::<js_sys::Uint8Array>().ok().and_then(|b| VolumeKey::from_bytes(&b.to_vec())).ok_or_else(misuse))
        .collect::<Result<Vec<_>, JsValue>>()?;
    Ok((!keys.is_empty()).then_some(Key::Unlocked(keys)))
}
