//! Planning a range of a VHDX layer: block by block after the BAT's states (runs of blocks read
//! the same way in one step), and sector by sector in partially present blocks, through their
//! sector bitmap (least significant bit first).

use super::Vhdx;
use crate::image::{BlockRead, ByteRange};
use crate::plan::{bit_lsb, run_end_lsb, LayerPlan, Sink};

impl Vhdx {
    /// Plans `[start, stop)` of this layer (within its size) into `p`: zeros, data, or the
    /// layer below.
    pub(crate) fn plan_range<S: Sink>(&self, p: &mut LayerPlan<'_, S>, start: u64, stop: u64) {
        let bs = u64::from(self.block_size);
        let mut pos = start;
        while pos < stop {
            let block = pos / bs;
            let block_start = block * bs;
            let block_stop = (block_start + bs).min(stop);
            pos = match self.block_read(block) {
                kind @ (BlockRead::Below | BlockRead::Zero) => {
                    // This block and the following ones read the same way: one extent.
                    let mut end = block_stop;
                    let in_bat = self.payload_blocks_in_bat();
                    while end < stop && self.block_read(end / bs) == kind {
                        // Past the BAT's entries every block is not present: the rest in one step.
                        end = if end / bs >= in_bat { stop } else { (end + bs).min(stop) };
                    }
                    if kind == BlockRead::Below {
                        p.below(pos, end);
                    } else {
                        p.zero(pos, end);
                    }
                    end
                }
                BlockRead::Data(off) => {
                    p.data(pos, block_stop, off.saturating_add(pos - block_start));
                    block_stop
                }
                BlockRead::Partial { data, bitmap } => self.plan_partial(p, (block, block_start), (data, bitmap), pos, block_stop),
            };
        }
    }

    /// Plans `[pos, block_stop)` of partially present block `block` (starting at `block_start`
    /// on the virtual disk), whose data is at `data` and bitmap at `bitmap` in the file: run by
    /// run of its sector bitmap (asked for when it is not cached). Returns `block_stop`.
    fn plan_partial<S: Sink>(
        &self,
        p: &mut LayerPlan<'_, S>,
        (block, block_start): (u64, u64),
        (data, bitmap): (u64, ByteRange),
        mut pos: u64,
        block_stop: u64,
    ) -> u64 {
        if bitmap.end() > p.data_end {
            p.missing(pos, block_stop);
            return block_stop;
        }
        let Some(bits) = p.bitmap(block) else {
            p.need(block, bitmap);
            p.look_down(pos, block_stop);
            return block_stop;
        };
        let sector = u64::from(self.logical_sector_size);
        while pos < block_stop {
            let s = (pos - block_start) / sector;
            let present = bit_lsb(bits, s);
            let e = run_end_lsb(bits, s + 1, (block_stop - block_start).div_ceil(sector), present);
            let run_stop = (block_start + e * sector).min(block_stop);
            if present {
                p.data(pos, run_stop, data.saturating_add(pos - block_start));
            } else {
                p.down(pos, run_stop);
            }
            pos = run_stop;
        }
        block_stop
    }
}
