//! The deep check of a VHDX layer: the sector bitmap of each partially present block of a
//! differencing disk, which should have some sectors present and some not.

use super::Vhdx;
use crate::finding::Finding;
use crate::image::BlockState;
use crate::layer_check::{CheckNext, LayerCheck, ReadKind};
use crate::plan::bit_lsb;

impl Vhdx {
    /// What the check does at `c`'s block: read its sector bitmap when it is a partially
    /// present block of a child whose bitmap lies within the file (`file_len` bytes).
    pub(crate) fn check_next(&self, c: &mut LayerCheck, file_len: u64) -> CheckNext {
        if c.block >= self.payload_blocks_in_bat() {
            return CheckNext::EndLayer;
        }
        let (state, _) = self.block(c.block);
        if !state.has_data() {
            c.block += 1;
            return CheckNext::Again;
        }
        match self.bitmap_range(c.block).filter(|_| self.has_parent && state == BlockState::PartiallyPresent) {
            Some(range) if range.end() <= file_len => c.read(range, ReadKind::Bitmap),
            _ => {
                c.next_block();
                CheckNext::Again
            }
        }
    }

    /// Takes the bitmap [`Vhdx::check_next`] asked for: one that marks every sector present,
    /// or none, is a finding.
    pub(crate) fn check_provide(&self, c: &mut LayerCheck, bytes: &[u8]) {
        let sectors = u64::from(self.block_size) / u64::from(self.logical_sector_size);
        let set = (0..sectors).filter(|s| bit_lsb(bytes, *s)).count() as u64;
        let at = self.bitmap_range(c.block).map_or(0, |r| r.offset);
        let block = c.block;
        let said = match set {
            0 => Some("no sector is present: the whole block reads from the parent, as if it were not present"),
            n if n == sectors => Some("every sector is present: it reads as a fully present block would"),
            _ => None,
        };
        if let Some(said) = said {
            c.found(Finding::info(
                "vhdx-bitmap-uniform",
                at,
                format!("payload block {block} is partially present, but its sector bitmap says {said}"),
            ));
        }
        c.next_block();
    }
}
