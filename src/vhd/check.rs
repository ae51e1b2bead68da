//! The deep check of a VHD layer: each allocated block's sector bitmap and, in a dynamic disk
//! whose bitmap has clear bits, the stretch of the block from the first to the last sector
//! marked unused (which should hold zeros).

use std::collections::HashSet;

use super::{Vhd, UNALLOCATED};
use crate::finding::Finding;
use crate::image::{ByteRange, DiskType, MAX_FINDINGS_PER_KIND};
use crate::layer_check::{clear_span, unused_nonzero_sectors, CheckNext, LayerCheck, ReadKind};
use crate::plan::bit;

impl Vhd {
    /// Blocks that start inside a block laid out before them in the file.
    pub(crate) fn overlapped_blocks(&self) -> HashSet<u64> {
        let Some(geo) = self.block_geometry() else { return HashSet::new() };
        let mut by_offset: Vec<(u32, u32)> =
            self.bat.iter().enumerate().filter(|(_, e)| **e != UNALLOCATED).map(|(b, e)| (*e, b as u32)).collect();
        by_offset.sort_unstable();
        let mut overlapped = HashSet::new();
        let mut reach = 0u64;
        for (entry, b) in by_offset {
            let offset = u64::from(entry) * 512;
            if offset < reach {
                overlapped.insert(u64::from(b));
            }
            reach = reach.max(offset.saturating_add(geo.bitmap_size + geo.block_size));
        }
        overlapped
    }

    /// What the check does at `c`'s block: read its bitmap, then the stretch its bitmap marks
    /// unused. Blocks whose bitmap lies past `data_end`, and overlapped ones, are not read.
    pub(crate) fn check_next(&self, c: &mut LayerCheck, data_end: u64) -> CheckNext {
        let Some(geo) = self.block_geometry().filter(|_| c.block < self.bat.len() as u64) else {
            return CheckNext::EndLayer;
        };
        let Some(start) = self.block_offset(c.block) else {
            c.block += 1;
            return CheckNext::Again;
        };
        if let Some(bitmap) = &c.bitmap {
            let (first, last) = clear_span(bitmap, geo.block_size / 512);
            let data_start = start + geo.bitmap_size;
            let from = data_start + first * 512;
            let to = (data_start + (last + 1) * 512).min(data_end);
            return c.read(ByteRange::new(from, to.saturating_sub(from)), ReadKind::Data);
        }
        if start + geo.bitmap_size > data_end || c.overlapped.contains(&c.block) {
            c.next_block();
            return CheckNext::Again;
        }
        c.read(ByteRange::new(start, geo.bitmap_size), ReadKind::Bitmap)
    }

    /// Takes the bytes of the read [`Vhd::check_next`] asked for.
    pub(crate) fn check_provide(&self, c: &mut LayerCheck, bytes: &[u8]) {
        let Some(geo) = self.block_geometry() else { return };
        let sectors = geo.block_size / 512;
        let Some(bitmap) = c.bitmap.take() else {
            let all_set = (0..sectors).all(|s| bit(bytes, s));
            if self.disk_type() == DiskType::Dynamic && !all_set {
                c.bitmap = Some(bytes.to_vec());
            } else {
                c.next_block();
            }
            return;
        };
        let (first, _) = clear_span(&bitmap, sectors);
        let start = self.block_offset(c.block).unwrap_or(0) + geo.bitmap_size;
        let found = unused_nonzero_sectors(&bitmap, first, bytes);
        if let Some(&first_found) = found.first() {
            c.leftover += found.len() as u64;
            c.leftover_blocks += 1;
            if c.leftover_blocks <= MAX_FINDINGS_PER_KIND as u64 {
                let block = c.block;
                c.found(Finding::warning(
                    "unused-sectors-nonzero",
                    start + first_found * 512,
                    format!(
                        "block {block}: {} sector(s) marked unused in the bitmap (first: sector {} of the disk) hold non-zero bytes; they read as zeros, but the file keeps left-over data",
                        found.len(),
                        block * sectors + first_found
                    ),
                ));
            }
        }
        c.next_block();
    }
}
