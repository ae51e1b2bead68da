//! The deep checks that need more than the metadata: every block's sector bitmap, and in a
//! dynamic disk the sectors its bitmap says are unused. The per-block judgement is pure; the
//! [`scan`] driver feeds it through a [`DiskReader`].

use crate::disk::bit;
use crate::error::Result;
use crate::finding::Finding;
use crate::footer::DiskType;
use crate::layer::{Layer, MAX_FINDINGS_PER_KIND};
use crate::reader::DiskReader;

/// Sectors of a dynamic disk's block whose bitmap bit is clear but whose bytes in the file are
/// not zero: they read as zeros, but hold left-over data. `data` is the block's data area
/// (`block size` bytes, or fewer at the end of the file). Returns the sector numbers.
pub fn unused_nonzero_sectors(bitmap: &[u8], data: &[u8]) -> Vec<u64> {
    data.chunks(512)
        .enumerate()
        .filter(|(s, bytes)| !bit(bitmap, *s as u64) && bytes.iter().any(|b| *b != 0))
        .map(|(s, _)| s as u64)
        .collect()
}

/// Progress of a long scan: blocks done and blocks in all.
pub type Progress<'p> = &'p mut dyn FnMut(u64, u64);

/// Reads every allocated block's bitmap in every layer, and in dynamic disks the data of
/// blocks with clear bits, and returns what it found. Reads per block: the bitmap, plus the
/// block's data when a bit is clear.
pub fn scan(reader: &mut DiskReader<'_>, progress: Progress<'_>) -> Result<Vec<Finding>> {
    let disk = reader.disk;
    let total: u64 = disk.layers.iter().map(Layer::allocated_blocks).sum();
    let mut done = 0u64;
    let mut findings = Vec::new();
    for (li, layer) in disk.layers.iter().enumerate() {
        let Some(geo) = layer.block_geometry() else { continue };
        let mut leftover = 0u64;
        let mut leftover_blocks = 0u64;
        let mut unreadable = 0usize;
        // Blocks that overlap a block before them in the file were reported when the layer was
        // opened (blocks-overlap); scanning them again would read the same bytes once per BAT
        // entry pointing there (4 Mi entries at one block), so only the first of each is read.
        let mut by_offset: Vec<(u64, u64)> = (0..layer.bat.len() as u64).filter_map(|b| layer.block_offset(b).map(|o| (o, b))).collect();
        by_offset.sort_unstable();
        let mut overlapped = std::collections::HashSet::new();
        let mut reach = 0u64;
        for (offset, b) in by_offset {
            if offset < reach {
                overlapped.insert(b);
            }
            reach = reach.max(offset.saturating_add(geo.bitmap_size + geo.block_size));
        }
        for block in 0..layer.bat.len() as u64 {
            let Some(start) = layer.block_offset(block) else { continue };
            done += 1;
            if done % 256 == 0 {
                progress(done, total);
            }
            if start + geo.bitmap_size > layer.data_end || overlapped.contains(&block) {
                continue; // reported when the layer was opened (block-past-eof, blocks-overlap)
            }
            let bitmap = match reader.bitmap(li, block) {
                Ok(Some(b)) => b,
                Ok(None) => continue,
                Err(e) => {
                    unreadable += 1;
                    if unreadable <= MAX_FINDINGS_PER_KIND {
                        findings.push(Finding { layer: li, ..Finding::error("bitmap-unreadable", start, format!("the sector bitmap of block {block} cannot be read: {e}")) });
                    }
                    continue;
                }
            };
            let sectors = geo.block_size / 512;
            let all_set = (0..sectors).all(|s| bit(&bitmap, s));
            if layer.disk_type() != DiskType::Dynamic || all_set {
                continue;
            }
            let data_start = start + geo.bitmap_size;
            let len = geo.block_size.min(layer.data_end.saturating_sub(data_start));
            let mut data = vec![0u8; len as usize];
            reader.read_file(li, data_start, &mut data)?;
            let found = unused_nonzero_sectors(&bitmap, &data);
            if !found.is_empty() {
                leftover += found.len() as u64;
                leftover_blocks += 1;
                if leftover_blocks <= MAX_FINDINGS_PER_KIND as u64 {
                    let first = found[0];
                    findings.push(Finding {
                        layer: li,
                        ..Finding::warning(
                            "unused-sectors-nonzero",
                            data_start + first * 512,
                            format!(
                                "block {block}: {} sector(s) marked unused in the bitmap (first: sector {} of the disk) hold non-zero bytes; they read as zeros, but the file keeps left-over data",
                                found.len(),
                                block * sectors + first
                            ),
                        )
                    });
                }
            }
        }
        if leftover_blocks > MAX_FINDINGS_PER_KIND as u64 {
            findings.push(Finding { layer: li, ..Finding::warning("unused-sectors-nonzero", 0, format!("{leftover} unused sectors in {leftover_blocks} blocks hold non-zero bytes in all; only the first {MAX_FINDINGS_PER_KIND} blocks are listed")) });
        }
    }
    progress(total, total);
    Ok(findings)
}
