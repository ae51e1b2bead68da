//! Planning reads, in words every format's planner shares: where a stretch of the virtual disk
//! comes from ([`Source`], [`Extent`]), the sector bitmaps a plan needs ([`BitmapRequest`],
//! [`BitmapCache`]), how bitmaps are scanned, and [`LayerPlan`]: one layer's part of a plan,
//! which [`crate::vhd`] and [`crate::vhdx`] answer each for its own blocks, so that
//! [`crate::disk`] knows chains, not formats.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use crate::image::ByteRange;

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

/// Where [`crate::disk::Disk::plan_into`] puts the extents it works out.
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

/// Work left for the planner: (layer, start, end, speculative).
pub(crate) type Work = Vec<(usize, u64, u64, bool)>;

/// One layer's part of planning a range: which layer of the chain it is, where its file's data
/// ends, and where the format's planner puts what it finds (extents, bitmaps it needs, ranges
/// for the layer below). Speculative work (looking further down while a bitmap above is still
/// missing) only gathers needs.
pub(crate) struct LayerPlan<'a, S: Sink> {
    /// The layer's index in the chain.
    pub(crate) layer: usize,
    /// Where the layer's data area ends (see [`crate::layer::Layer::data_end`]).
    pub(crate) data_end: u64,
    /// True when the layer is a differencing disk: what it does not hold comes from below.
    pub(crate) differencing: bool,
    /// True when the work only gathers needs.
    pub(crate) spec: bool,
    /// The bitmaps read so far.
    pub(crate) cache: &'a BitmapCache,
    /// Ranges left for the layers below.
    pub(crate) work: &'a mut Work,
    /// Where the extents go.
    pub(crate) extents: &'a mut S,
    /// The bitmaps needed first.
    pub(crate) needs: &'a mut Vec<BitmapRequest>,
}

impl<'a, S: Sink> LayerPlan<'a, S> {
    /// Puts `e` into the plan (unless the work is speculative or `e` is empty).
    #[inline]
    pub(crate) fn emit(&mut self, e: Extent) {
        if !self.spec && e.len > 0 {
            self.extents.push(e);
        }
    }

    /// `[pos, end)` reads as zeros.
    #[inline]
    pub(crate) fn zero(&mut self, pos: u64, end: u64) {
        self.emit(Extent { offset: pos, len: end - pos, source: Source::Zero });
    }

    /// `[pos, end)` cannot be read from this layer: past the end of its file.
    #[inline]
    pub(crate) fn missing(&mut self, pos: u64, end: u64) {
        self.emit(Extent { offset: pos, len: end - pos, source: Source::Missing { layer: self.layer } });
    }

    /// `[pos, end)` is this layer's file's data from `file_offset` on; what lies past the end of
    /// the file is missing.
    #[inline]
    pub(crate) fn data(&mut self, pos: u64, end: u64, file_offset: u64) {
        let held = (end - pos).min(self.data_end.saturating_sub(file_offset));
        self.emit(Extent { offset: pos, len: held, source: Source::Data { layer: self.layer, file_offset } });
        self.missing(pos + held, end);
    }

    /// `[pos, end)` is not in this layer: from the layer below for a differencing disk, zeros
    /// for any other.
    #[inline]
    pub(crate) fn below(&mut self, pos: u64, end: u64) {
        if self.differencing {
            self.down(pos, end);
        } else {
            self.zero(pos, end);
        }
    }

    /// `[pos, end)` is read from the layer below (missing when there is none).
    #[inline]
    pub(crate) fn down(&mut self, pos: u64, end: u64) {
        self.work.push((self.layer + 1, pos, end, self.spec));
    }

    /// Looks at `[pos, end)` of the layer below for the bitmaps it needs only, so that a whole
    /// chain's bitmaps come in one round.
    #[inline]
    pub(crate) fn look_down(&mut self, pos: u64, end: u64) {
        self.work.push((self.layer + 1, pos, end, true));
    }

    /// The bitmap of `block` of this layer, if cached.
    #[inline]
    pub(crate) fn bitmap(&self, block: u64) -> Option<&'a [u8]> {
        let cache: &'a BitmapCache = self.cache;
        cache.get(self.layer, block)
    }

    /// The bitmap of `block`, at `range` of this layer's file, is needed first.
    #[inline]
    pub(crate) fn need(&mut self, block: u64, range: ByteRange) {
        self.needs.push(BitmapRequest { layer: self.layer, block, range });
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
