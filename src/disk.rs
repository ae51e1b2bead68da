//! The virtual disk seen through a chain of layers: the opened file first, then its parent, its
//! grandparent, down to a fixed or dynamic base. Maps any virtual byte range to *extents*: which
//! layer supplies each part and where in that layer's file, or zero-fill.
//!
//! Like opening, mapping does no I/O. [`Disk::plan`] asks for the sector bitmaps it lacks; the
//! driver reads them into a [`BitmapCache`] and plans again.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::image::ByteRange;
use crate::image::DiskType;
use crate::layer::{Image, Layer};
use crate::vhd::UNALLOCATED;

/// The deepest chain this viewer follows. Real chains are a handful of layers deep.
pub const MAX_CHAIN_DEPTH: usize = 256;

/// Where a stretch of the virtual disk comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// Reads as zeros: an unallocated block or a clear bitmap bit in a dynamic disk, or past the
    /// end of a smaller parent.
    Zero,
    /// Bytes of layer `layer`'s file starting at `file_offset`.
    Data {
        /// Index in the chain (0 = the opened file).
        layer: usize,
        /// Offset in that file.
        file_offset: u64,
    },
    /// Cannot be read: the data lies in a parent that is not available (`layer` is the last
    /// differencing layer), or past the end of a truncated file.
    Missing {
        /// The layer whose parent is missing, or whose file is too short.
        layer: usize,
    },
}

/// A stretch of the virtual disk with one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Extent {
    /// Virtual byte offset.
    pub offset: u64,
    /// Length in bytes.
    pub len: u64,
    /// Where the bytes come from.
    pub source: Source,
}

impl Extent {
    /// True when `next` continues this extent from the same source without a gap.
    pub fn continues_with(&self, next: &Extent) -> bool {
        self.offset + self.len == next.offset
            && match (self.source, next.source) {
                (Source::Zero, Source::Zero) => true,
                (Source::Missing { layer: a }, Source::Missing { layer: b }) => a == b,
                (Source::Data { layer: a, file_offset: fa }, Source::Data { layer: b, file_offset: fb }) => a == b && fa + self.len == fb,
                _ => false,
            }
    }
}

/// A sector bitmap the planner needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BitmapRequest {
    /// The layer.
    pub layer: usize,
    /// The block in that layer.
    pub block: u64,
    /// Where the bitmap lies in the layer's file.
    pub range: ByteRange,
}

/// What [`Disk::plan`] answers.
#[derive(Debug)]
pub enum Plan {
    /// Read these bitmaps into the cache and plan again.
    Need(Vec<BitmapRequest>),
    /// The range's extents, in order, adjacent ones merged.
    Extents(Vec<Extent>),
}

/// Sector bitmaps read so far, bounded: the oldest are dropped when it is full.
#[derive(Debug)]
pub struct BitmapCache {
    capacity: usize,
    map: HashMap<(usize, u64), Vec<u8>, BuildHasherDefault<BlockHasher>>,
    order: VecDeque<(usize, u64)>,
}

/// The bitmap cache's hash of a (layer, block) key: one multiply per word. The default SipHash
/// was a twentieth of `map`'s time on a chain; the cache is bounded, so keys that collide cost a
/// few probes in a small table, never more.
#[derive(Debug, Default)]
pub struct BlockHasher(u64);

impl Hasher for BlockHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl BitmapCache {
    /// A cache holding at most `capacity` bitmaps (at least 4).
    pub fn new(capacity: usize) -> Self {
        BitmapCache { capacity: capacity.max(4), map: HashMap::default(), order: VecDeque::new() }
    }

    /// A cache large enough for planning `disk` block by block.
    pub fn for_disk(disk: &Disk) -> Self {
        Self::new(64 + 4 * disk.layers.len())
    }

    /// The bitmap of `block` in `layer`, if cached.
    pub fn get(&self, layer: usize, block: u64) -> Option<&[u8]> {
        self.map.get(&(layer, block)).map(Vec::as_slice)
    }

    /// Stores a bitmap read from the file.
    pub fn insert(&mut self, layer: usize, block: u64, bitmap: Vec<u8>) {
        if self.map.insert((layer, block), bitmap).is_none() {
            self.order.push_back((layer, block));
            while self.order.len() > self.capacity {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
    }

    /// Bitmaps held now.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Tests bit `sector` of a sector bitmap: the most significant bit of byte 0 is sector 0.
/// The bit is masked: only that one sector's bit counts.
pub fn bit(bitmap: &[u8], sector: u64) -> bool {
    let byte = usize::try_from(sector / 8).ok().and_then(|i| bitmap.get(i)).copied().unwrap_or(0);
    byte & (0x80 >> (sector % 8)) != 0
}

/// Tests bit `sector` of a VHDX sector bitmap, whose bits run the other way: the least
/// significant bit of byte 0 is sector 0.
pub fn bit_lsb(bitmap: &[u8], sector: u64) -> bool {
    let byte = usize::try_from(sector / 8).ok().and_then(|i| bitmap.get(i)).copied().unwrap_or(0);
    byte & (1 << (sector % 8)) != 0
}

/// The first sector from `from` on (below `end`) whose bit is not `present`, or `end`: the end
/// of a run of equal bits. Same answer as testing [`bit`] sector by sector, but 64 bits at a
/// time: the first differing bit of a word is found by counting its leading zeros (mapping a
/// full 2 MiB block tests 64 words instead of 4096 bits, a fragmented one no more).
pub fn run_end(bitmap: &[u8], from: u64, end: u64, present: bool) -> u64 {
    run_end_words(bitmap, from, end, present, true)
}

/// [`run_end`] for a VHDX bitmap, whose bits run the other way ([`bit_lsb`]).
pub fn run_end_lsb(bitmap: &[u8], from: u64, end: u64, present: bool) -> u64 {
    run_end_words(bitmap, from, end, present, false)
}

fn run_end_words(bitmap: &[u8], from: u64, end: u64, present: bool, msb_first: bool) -> u64 {
    let flip = if present { u64::MAX } else { 0 };
    let mut s = from;
    while s < end {
        // Eight bytes from the one holding sector `s` (zeros past the bitmap, as `bit` reads).
        let mut word = [0u8; 8];
        if let Some(rest) = usize::try_from(s / 8).ok().and_then(|i| bitmap.get(i..)) {
            let n = rest.len().min(8);
            word[..n].copy_from_slice(&rest[..n]);
        }
        let skip = s % 8;
        // A bit set for each sector from `s` on whose bit differs from `present`; the first
        // such sector is the end of the run.
        let (differ, first) = if msb_first {
            let d = (u64::from_be_bytes(word) ^ flip) << skip;
            (d, d.leading_zeros())
        } else {
            let d = (u64::from_le_bytes(word) ^ flip) >> skip;
            (d, d.trailing_zeros())
        };
        let valid = 64 - skip;
        if differ != 0 && u64::from(first) < valid {
            return s.saturating_add(u64::from(first)).min(end);
        }
        s = s.saturating_add(valid);
    }
    end
}

/// [`run_end`] with the bit order given by `test` ([`bit`] for VHD, [`bit_lsb`] for VHDX).
pub fn run_end_in(bitmap: &[u8], from: u64, end: u64, present: bool, test: fn(&[u8], u64) -> bool) -> u64 {
    let same = if present { 0xff } else { 0 };
    let mut s = from;
    while s < end {
        if s % 8 == 0 {
            let i = usize::try_from(s / 8).unwrap_or(usize::MAX);
            if s % 64 == 0 && s + 64 <= end && bitmap.get(i..i.saturating_add(8)).is_some_and(|w| w.iter().all(|b| *b == same)) {
                s += 64;
                continue;
            }
            if s + 8 <= end && bitmap.get(i).copied().unwrap_or(0) == same {
                s += 8;
                continue;
            }
        }
        if test(bitmap, s) != present {
            break;
        }
        s += 1;
    }
    s
}

/// Where the steps of mapping a whole disk end, so that it takes time in proportion to the
/// allocated blocks, not to the size the footer claims (which may be 2^64 bytes): the command
/// line's reader and the page both step with it.
#[derive(Debug, Clone, Default)]
pub struct Steps {
    /// Per layer, the indices of its allocated blocks, ascending (empty for fixed disks).
    allocated: Vec<Vec<u64>>,
}

impl Steps {
    /// The steps of `disk`.
    pub fn new(disk: &Disk) -> Steps {
        let allocated = disk.layers.iter().map(Layer::blocks_with_data).collect();
        Steps { allocated }
    }

    /// Where the planning step of `disk` starting at `pos` ends (at most `end`): inside one block
    /// of every layer whose block at `pos` is allocated, and before the next allocated block of
    /// every other layer. A step then needs at most one bitmap per layer, and a stretch that no
    /// layer allocates is one step.
    pub fn end(&self, disk: &Disk, pos: u64, end: u64) -> u64 {
        let mut stop = end;
        for (layer, alloc) in disk.layers.iter().zip(&self.allocated) {
            let Some(block_size) = layer.block_size() else {
                continue;
            };
            let block = pos / block_size;
            let limit = match alloc.binary_search(&block) {
                Ok(_) => (block + 1).saturating_mul(block_size),
                Err(i) => alloc.get(i).map_or(u64::MAX, |b| b.saturating_mul(block_size)),
            };
            stop = stop.min(limit);
        }
        stop
    }
}

/// The error for a chain deeper than [`MAX_CHAIN_DEPTH`]: the same words whoever finds it (the
/// command line following locators, the page sorting files by unique id).
pub fn too_deep() -> Error {
    Error::ChainTooDeep { max: MAX_CHAIN_DEPTH }
}

/// A chain of opened layers, checked against each other.
#[derive(Debug, Clone)]
pub struct Disk {
    /// The opened file first, then its parent, and so on.
    pub layers: Vec<Layer>,
    /// What was noticed about the chain (the layers' own findings are in each layer).
    pub findings: Vec<Finding>,
}

impl Disk {
    /// Builds a disk from a chain. Each layer but the last must be a differencing disk whose
    /// parent unique id is the next layer's unique id; with `force`, a mismatch is a finding
    /// instead of an error. A differencing last layer is allowed: its parent is then missing, and
    /// the sectors it would supply map to [`Source::Missing`].
    pub fn new(layers: Vec<Layer>, force: bool) -> Result<Disk> {
        if layers.is_empty() {
            return Err(Error::NoDisk);
        }
        if layers.len() > MAX_CHAIN_DEPTH {
            return Err(too_deep());
        }
        let mut findings = Vec::new();
        for (i, pair) in layers.windows(2).enumerate() {
            let (child, parent) = (&pair[0], &pair[1]);
            child.check_parent(i, parent, force, &mut findings)?;
        }
        let mut seen = std::collections::HashSet::new();
        for (i, l) in layers.iter().enumerate() {
            if !seen.insert(l.link_id()) {
                return Err(Error::ChainLoop { how: format!("layer {i} has the unique id {} of a disk above it", l.link_id_text()) });
            }
        }
        Ok(Disk { layers, findings })
    }

    /// The disk as it was when layer `k` was the newest: the chain cut at `k` (layer `k` and
    /// its ancestors; 0 is the whole chain). The chain's findings about those layers are kept,
    /// renumbered from the new top.
    pub fn cut(&self, k: usize) -> Result<Disk> {
        if k >= self.layers.len() {
            return Err(Error::NoSuchLayer { layer: k, layers: self.layers.len() });
        }
        let findings = self
            .findings
            .iter()
            .filter(|f| f.layer >= k)
            .cloned()
            .map(|mut f| {
                f.layer -= k;
                f
            })
            .collect();
        Ok(Disk { layers: self.layers[k..].to_vec(), findings })
    }

    /// The virtual disk's size: the opened file's `current size`.
    pub fn size(&self) -> u64 {
        self.layers[0].size()
    }

    /// The virtual disk's logical sector size as its guest sees it: the opened file's (a VHDX's
    /// `LogicalSectorSize`, 512 or 4096; always 512 for a VHD).
    pub fn sector_size(&self) -> u32 {
        self.layers[0].logical_sector_size()
    }

    /// True when the last layer is a differencing disk whose parent was not given.
    pub fn parent_missing(&self) -> bool {
        self.layers.last().is_some_and(|l| l.disk_type() == DiskType::Differencing)
    }

    /// Every finding: the chain's and each layer's (marked with its layer index).
    pub fn all_findings(&self) -> Vec<Finding> {
        let mut all: Vec<Finding> = self.layers.iter().enumerate().flat_map(|(i, l)| l.findings_as_layer(i)).collect();
        all.extend(self.findings.iter().cloned());
        all
    }

    /// A size of chunk for which planning needs at most two bitmaps per layer: the smallest
    /// block size in the chain (1 MiB for a chain of fixed disks).
    pub fn chunk_size(&self) -> u64 {
        self.layers.iter().filter_map(Layer::block_size).min().unwrap_or(1 << 20)
    }

    /// Maps `[offset, offset + len)` (clamped to the disk's size) to extents, or says which
    /// bitmaps are needed first. Needs at most two bitmaps per layer when `len` is at most
    /// [`Disk::chunk_size`]; the cache must be able to hold them (see [`BitmapCache::for_disk`]).
    pub fn plan(&self, offset: u64, len: u64, cache: &BitmapCache) -> Plan {
        let mut extents = Vec::new();
        let needs = self.plan_into(offset, len, cache, &mut extents);
        if !needs.is_empty() {
            return Plan::Need(needs);
        }
        extents.sort_by_key(|e| e.offset);
        let mut merged: Vec<Extent> = Vec::with_capacity(extents.len());
        for e in extents {
            match merged.last_mut() {
                Some(last) if last.continues_with(&e) => last.len += e.len,
                _ => merged.push(e),
            }
        }
        Plan::Extents(merged)
    }

    /// What [`Disk::plan`] works out, put into `sink` (in no order, not merged); returns the
    /// bitmaps needed first (then what `sink` got is incomplete). A sink that wants no runs
    /// ([`Sink::RUNS`] false: which sources supply the range, not where) is told of a base
    /// layer's block at most once per kind, however many runs its bitmap has.
    pub fn plan_into<S: Sink>(&self, offset: u64, len: u64, cache: &BitmapCache, extents: &mut S) -> Vec<BitmapRequest> {
        let end = offset.saturating_add(len).min(self.size());
        let mut needs = Vec::new();
        // Work list of (layer, offset, end, speculative): speculative work only gathers needs.
        let mut work = vec![(0usize, offset, end, false)];
        while let Some((li, start, stop, spec)) = work.pop() {
            if start >= stop {
                continue;
            }
            let emit = |e: Extent, extents: &mut S| {
                if !spec {
                    extents.push(e)
                }
            };
            let Some(layer) = self.layers.get(li) else {
                emit(Extent { offset: start, len: stop - start, source: Source::Missing { layer: li - 1 } }, extents);
                continue;
            };
            // Past this layer's own size (a parent smaller than its child): zeros.
            let own_end = stop.min(layer.size());
            if own_end < stop {
                emit(Extent { offset: own_end.max(start), len: stop - own_end.max(start), source: Source::Zero }, extents);
            }
            if start >= own_end {
                continue;
            }
            let below = |s: u64, e: u64, work: &mut Vec<_>, extents: &mut S, spec_now: bool| match layer.disk_type() {
                DiskType::Differencing => work.push((li + 1, s, e, spec_now)),
                _ => {
                    if !spec_now {
                        extents.push(Extent { offset: s, len: e - s, source: Source::Zero })
                    }
                }
            };
            let v = match &layer.image {
                Image::Vhdx(v) => {
                    plan_vhdx(v, li, layer, (start, own_end), spec, cache, &mut work, extents, &mut needs);
                    continue;
                }
                Image::Vhd(v) => v,
            };
            let Some(geo) = v.block_geometry() else {
                // Fixed: the data is the file, up to where the footer starts.
                let data_end = own_end.min(layer.data_end);
                if data_end > start {
                    emit(Extent { offset: start, len: data_end - start, source: Source::Data { layer: li, file_offset: start } }, extents);
                }
                if own_end > data_end.max(start) {
                    emit(
                        Extent { offset: data_end.max(start), len: own_end - data_end.max(start), source: Source::Missing { layer: li } },
                        extents,
                    );
                }
                continue;
            };
            let mut pos = start;
            while pos < own_end {
                let block = pos / geo.block_size;
                let block_start = block * geo.block_size;
                let block_stop = (block_start + geo.block_size).min(own_end);
                let Some(block_off) = v.block_offset(block) else {
                    // Unallocated, and so are the blocks up to the next allocated one (all the
                    // rest, past the end of the BAT): one step, however large the disk says it is.
                    let first = usize::try_from(block + 1).unwrap_or(usize::MAX);
                    let upto = usize::try_from(own_end.div_ceil(geo.block_size)).unwrap_or(usize::MAX).min(v.bat.len());
                    let next = v.bat.get(first..upto).and_then(|rest| rest.iter().position(|e| *e != UNALLOCATED)).map(|i| first + i);
                    let stop = next.map_or(own_end, |b| (b as u64).saturating_mul(geo.block_size).min(own_end));
                    below(pos, stop, &mut work, extents, spec);
                    pos = stop;
                    continue;
                };
                if block_off.saturating_add(geo.bitmap_size) > layer.data_end {
                    // The bitmap lies past the end of the file (cut short): nothing of the block
                    // can be known, reported when the layer was opened (block-past-eof).
                    emit(Extent { offset: pos, len: block_stop - pos, source: Source::Missing { layer: li } }, extents);
                    pos = block_stop;
                    continue;
                }
                let Some(bitmap) = cache.get(li, block) else {
                    needs.push(BitmapRequest { layer: li, block, range: ByteRange::new(block_off, geo.bitmap_size) });
                    // Look further down now, so that a whole chain's bitmaps come in one round.
                    if layer.disk_type() == DiskType::Differencing {
                        work.push((li + 1, pos, block_stop, true));
                    }
                    pos = block_stop;
                    continue;
                };
                // Which sources, not where: a base layer's block is data where a bit is set and
                // zeros where one is clear, however many runs its bitmap has.
                let (first, last) = ((pos - block_start) / 512, (block_stop - block_start).div_ceil(512));
                if !S::RUNS && layer.disk_type() != DiskType::Differencing && block_off + geo.bitmap_size + last * 512 <= layer.data_end {
                    let (set, clear) = bits_in(bitmap, first, last);
                    if set {
                        let file_offset = block_off + geo.bitmap_size + (pos - block_start);
                        emit(Extent { offset: pos, len: block_stop - pos, source: Source::Data { layer: li, file_offset } }, extents);
                    }
                    if clear {
                        below(pos, block_stop, &mut work, extents, spec);
                    }
                    pos = block_stop;
                    continue;
                }
                // Runs of equal bits.
                while pos < block_stop {
                    let sector = (pos - block_start) / 512;
                    let present = bit(bitmap, sector);
                    let s = run_end(bitmap, sector + 1, (block_stop - block_start).div_ceil(512), present);
                    let run_end = (block_start + s * 512).min(block_stop);
                    if present {
                        // Sectors whose bytes lie past the end of the file are missing.
                        let file_offset = block_off + geo.bitmap_size + (pos - block_start);
                        let held = (run_end - pos).min(layer.data_end.saturating_sub(file_offset));
                        if held > 0 {
                            emit(Extent { offset: pos, len: held, source: Source::Data { layer: li, file_offset } }, extents);
                        }
                        if held < run_end - pos {
                            emit(Extent { offset: pos + held, len: run_end - pos - held, source: Source::Missing { layer: li } }, extents);
                        }
                    } else {
                        below(pos, run_end, &mut work, extents, spec);
                    }
                    pos = run_end;
                }
            }
        }
        needs.sort();
        needs.dedup();
        needs
    }
}

/// Where [`Disk::plan_into`] puts the extents it works out.
pub trait Sink {
    /// Whether the sink wants every run of a bitmap as its own extent.
    const RUNS: bool;
    /// One extent.
    fn push(&mut self, e: Extent);
}

impl Sink for Vec<Extent> {
    const RUNS: bool = true;
    fn push(&mut self, e: Extent) {
        Vec::push(self, e);
    }
}

/// Whether bits `[first, last)` of a VHD bitmap include a set one and a clear one.
fn bits_in(bitmap: &[u8], first: u64, last: u64) -> (bool, bool) {
    let (mut set, mut clear) = (false, false);
    let mut s = first;
    while s < last && !(set && clear) {
        let i = usize::try_from(s / 8).unwrap_or(usize::MAX);
        let byte = bitmap.get(i).copied().unwrap_or(0);
        if s % 8 == 0 && s + 8 <= last {
            set |= byte != 0;
            clear |= byte != 0xff;
            s += 8;
        } else {
            if byte & (0x80 >> (s % 8)) != 0 {
                set = true;
            } else {
                clear = true;
            }
            s += 1;
        }
    }
    (set, clear)
}

/// Work left for the planner: (layer, start, end, speculative).
type Work = Vec<(usize, u64, u64, bool)>;

/// Plans `[start, stop)` of VHDX layer `li` (see [`Disk::plan`]): zeros, data, or the layer below,
/// block by block after the BAT's states, and sector by sector in partially present blocks.
#[allow(clippy::too_many_arguments)]
fn plan_vhdx<S: Sink>(
    v: &crate::vhdx::Vhdx,
    li: usize,
    layer: &Layer,
    (start, stop): (u64, u64),
    spec: bool,
    cache: &BitmapCache,
    work: &mut Work,
    extents: &mut S,
    needs: &mut Vec<BitmapRequest>,
) {
    use crate::image::BlockRead;
    let mut emit = |e: Extent| {
        if !spec && e.len > 0 {
            extents.push(e)
        }
    };
    let differencing = layer.disk_type() == DiskType::Differencing;
    let bs = u64::from(v.block_size);
    let sector = u64::from(v.logical_sector_size);
    // Data of this layer's file at `file_offset` for `[pos, end)`; what lies past the end of the
    // file is missing.
    let data = |pos: u64, end: u64, file_offset: u64, emit: &mut dyn FnMut(Extent)| {
        let held = (end - pos).min(layer.data_end.saturating_sub(file_offset));
        emit(Extent { offset: pos, len: held, source: Source::Data { layer: li, file_offset } });
        emit(Extent { offset: pos + held, len: end - pos - held, source: Source::Missing { layer: li } });
    };
    let mut pos = start;
    while pos < stop {
        let block = pos / bs;
        let block_start = block * bs;
        let block_stop = (block_start + bs).min(stop);
        match v.block_read(block) {
            kind @ (BlockRead::Below | BlockRead::Zero) => {
                // This block and the following ones read the same way: one extent.
                let mut end = block_stop;
                let in_bat = v.payload_blocks_in_bat();
                while end < stop && v.block_read(end / bs) == kind {
                    // Past the BAT's entries every block is not present: the rest in one step.
                    end = if end / bs >= in_bat { stop } else { (end + bs).min(stop) };
                }
                if kind == BlockRead::Below && differencing {
                    work.push((li + 1, pos, end, spec));
                } else {
                    emit(Extent { offset: pos, len: end - pos, source: Source::Zero });
                }
                pos = end;
            }
            BlockRead::Data(off) => {
                data(pos, block_stop, off.saturating_add(pos - block_start), &mut emit);
                pos = block_stop;
            }
            BlockRead::Partial { data: off, bitmap } => {
                if bitmap.end() > layer.data_end {
                    emit(Extent { offset: pos, len: block_stop - pos, source: Source::Missing { layer: li } });
                    pos = block_stop;
                    continue;
                }
                let Some(bits) = cache.get(li, block) else {
                    needs.push(BitmapRequest { layer: li, block, range: bitmap });
                    work.push((li + 1, pos, block_stop, true));
                    pos = block_stop;
                    continue;
                };
                while pos < block_stop {
                    let s = (pos - block_start) / sector;
                    let present = bit_lsb(bits, s);
                    let e = run_end_lsb(bits, s + 1, (block_stop - block_start).div_ceil(sector), present);
                    let run_stop = (block_start + e * sector).min(block_stop);
                    if present {
                        data(pos, run_stop, off.saturating_add(pos - block_start), &mut emit);
                    } else {
                        work.push((li + 1, pos, run_stop, spec));
                    }
                    pos = run_stop;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{bit, bit_lsb, run_end, run_end_in, run_end_lsb};

    /// `run_end` agrees with testing bit by bit, for bitmaps of runs of every length, from every
    /// start, with ends inside, at and past the bitmap's end.
    #[test]
    fn run_end_is_the_bit_by_bit_answer() {
        let mut x = 0x1234_5678_9abc_def1u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for case in 0..200 {
            let mut bitmap = vec![0u8; 64];
            let mut s = 0u64;
            let mut present = case % 2 == 0;
            while s < 512 {
                let len = 1 + next() % if case % 3 == 0 { 4 } else { 130 };
                for k in s..(s + len).min(512) {
                    if present {
                        bitmap[(k / 8) as usize] |= 0x80 >> (k % 8);
                    }
                }
                s += len;
                present = !present;
            }
            for end in [0u64, 1, 63, 64, 65, 200, 511, 512, 600] {
                for from in 0..end.min(520) {
                    let p = bit(&bitmap, from);
                    let mut want = from;
                    while want < end && bit(&bitmap, want) == p {
                        want += 1;
                    }
                    assert_eq!(run_end(&bitmap, from, end, p), want, "case {case}, from {from}, end {end}");
                    // The same bits in VHDX order.
                    let lsb: Vec<u8> = bitmap.iter().map(|b| b.reverse_bits()).collect();
                    assert_eq!(run_end_lsb(&lsb, from, end, p), want, "lsb: case {case}, from {from}, end {end}");
                    assert_eq!(run_end_in(&lsb, from, end, p, bit_lsb), want, "lsb by byte: case {case}, from {from}, end {end}");
                }
            }
        }
        assert_eq!(run_end(&[0xff; 512], 0, 4096, true), 4096);
        assert_eq!(run_end(&[], 0, 4096, false), 4096);
        assert_eq!(run_end(&[], 0, 4096, true), 0);
        assert_eq!(run_end_lsb(&[0xff; 512], 3, 4096, true), 4096);
    }
}
