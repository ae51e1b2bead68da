//! Planning a range of a VHD layer: a fixed disk's data is the file; a dynamic or
//! differencing disk's blocks are unallocated (from below, or zeros), or read through their
//! sector bitmap (most significant bit first), run by run of equal bits.

use super::{BlockGeometry, Vhd, UNALLOCATED};
use crate::image::ByteRange;
use crate::plan::{bit, run_end, LayerPlan, Sink};

impl Vhd {
    /// Plans `[start, stop)` of this layer (within its size) into `p`.
    pub(crate) fn plan_range<S: Sink>(&self, p: &mut LayerPlan<'_, S>, start: u64, stop: u64) {
        let Some(geo) = self.block_geometry() else {
            // Fixed: the data is the file, up to where the footer starts.
            p.data(start, stop, start);
            return;
        };
        let mut pos = start;
        while pos < stop {
            let block = pos / geo.block_size;
            let block_stop = ((block + 1) * geo.block_size).min(stop);
            pos = match self.block_offset(block) {
                Some(block_off) => self.plan_block(p, &geo, (block, block_off), pos, block_stop),
                None => self.plan_unallocated(p, &geo, block, pos, stop),
            };
        }
    }

    /// Unallocated from `pos`, and so are the blocks up to the next allocated one (all the rest,
    /// past the end of the BAT): one step, however large the disk says it is. Returns where the
    /// step ends.
    fn plan_unallocated<S: Sink>(&self, p: &mut LayerPlan<'_, S>, geo: &BlockGeometry, block: u64, pos: u64, stop: u64) -> u64 {
        let first = usize::try_from(block + 1).unwrap_or(usize::MAX);
        let upto = usize::try_from(stop.div_ceil(geo.block_size)).unwrap_or(usize::MAX).min(self.bat.len());
        let next = self.bat.get(first..upto).and_then(|rest| rest.iter().position(|e| *e != UNALLOCATED)).map(|i| first + i);
        let end = next.map_or(stop, |b| (b as u64).saturating_mul(geo.block_size).min(stop));
        p.below(pos, end);
        end
    }

    /// Plans `[pos, block_stop)` of allocated block `block`, whose bitmap is at `block_off`,
    /// through its sector bitmap (asked for when it is not cached). Returns `block_stop`.
    fn plan_block<S: Sink>(
        &self,
        p: &mut LayerPlan<'_, S>,
        geo: &BlockGeometry,
        (block, block_off): (u64, u64),
        mut pos: u64,
        block_stop: u64,
    ) -> u64 {
        let block_start = block * geo.block_size;
        if block_off.saturating_add(geo.bitmap_size) > p.data_end {
            // The bitmap lies past the end of the file (cut short): nothing of the block can be
            // known, reported when the layer was opened (block-past-eof).
            p.missing(pos, block_stop);
            return block_stop;
        }
        let Some(bitmap) = p.bitmap(block) else {
            p.need(block, ByteRange::new(block_off, geo.bitmap_size));
            // Look further down now, so that a whole chain's bitmaps come in one round.
            if p.differencing {
                p.look_down(pos, block_stop);
            }
            return block_stop;
        };
        let data_at = |pos: u64| block_off + geo.bitmap_size + (pos - block_start);
        // Which sources, not where: a base layer's block is data where a bit is set and zeros
        // where one is clear, however many runs its bitmap has.
        let (first, last) = ((pos - block_start) / 512, (block_stop - block_start).div_ceil(512));
        if !S::RUNS && !p.differencing && block_off + geo.bitmap_size + last * 512 <= p.data_end {
            let (set, clear) = bits_in(bitmap, first, last);
            if set {
                p.data(pos, block_stop, data_at(pos));
            }
            if clear {
                p.below(pos, block_stop);
            }
            return block_stop;
        }
        // Runs of equal bits; sectors whose bytes lie past the end of the file are missing.
        while pos < block_stop {
            let sector = (pos - block_start) / 512;
            let present = bit(bitmap, sector);
            let s = run_end(bitmap, sector + 1, last, present);
            let run_stop = (block_start + s * 512).min(block_stop);
            if present {
                p.data(pos, run_stop, data_at(pos));
            } else {
                p.below(pos, run_stop);
            }
            pos = run_stop;
        }
        block_stop
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
