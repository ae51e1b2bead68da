//! The deep checks that need more than the metadata: every block's sector bitmap, and in a
//! dynamic disk the sectors its bitmap says are unused. The [`Checker`] does no I/O (the page
//! drives it from `Blob.slice()`); [`scan`] drives it through a [`DiskReader`].

use crate::disk::{bit, Disk};
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::image::DiskType;
use crate::image::MAX_FINDINGS_PER_KIND;
use crate::layer::{Image, Layer};
use crate::reader::DiskReader;

/// Sectors of a dynamic disk's block whose bitmap bit is clear but whose bytes in the file are
/// not zero: they read as zeros, but hold left-over data. `data` is part of the block's data
/// area starting at sector `first` of the block (fewer bytes at the end of the file). Returns
/// the sector numbers within the block.
pub fn unused_nonzero_sectors(bitmap: &[u8], first: u64, data: &[u8]) -> Vec<u64> {
    data.chunks(512)
        .enumerate()
        .map(|(i, bytes)| (first + i as u64, bytes))
        .filter(|(s, bytes)| !bit(bitmap, *s) && bytes.iter().any(|b| *b != 0))
        .map(|(s, _)| s)
        .collect()
}

/// Progress of a long scan: blocks done and blocks in all.
pub type Progress<'p> = &'p mut dyn FnMut(u64, u64);

/// What a read of the [`Checker`] is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadKind {
    /// A block's sector bitmap.
    Bitmap,
    /// The stretch of a dynamic disk's block that holds all its sectors marked unused.
    Data,
}

/// One read the [`Checker`] needs: bytes of layer `layer`'s file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CheckRead {
    /// The layer whose file is read.
    pub layer: usize,
    /// The block the read is for.
    pub block: u64,
    /// Where in the file.
    pub range: crate::image::ByteRange,
    /// What it is.
    pub kind: ReadKind,
}

/// The deep check, without I/O: it asks for one read at a time ([`Checker::next_read`]) and is
/// handed the bytes ([`Checker::provide`]) or told the read failed ([`Checker::failed`]). Per
/// allocated block it reads the sector bitmap and, in a dynamic disk whose bitmap has clear bits,
/// the stretch of the block from the first to the last sector marked unused. Blocks that reach
/// past the end of the file or overlap an earlier block were reported when the layer was opened
/// and are not read (4 Mi BAT entries pointing at one block would read it 4 Mi times).
#[derive(Debug)]
pub struct Checker {
    layer: usize,
    block: u64,
    /// The bitmap of `block` while its data is wanted.
    bitmap: Option<Vec<u8>>,
    overlapped: std::collections::HashSet<u64>,
    done: u64,
    total: u64,
    findings: Vec<Finding>,
    leftover: u64,
    leftover_blocks: u64,
    unreadable: usize,
}

/// Blocks of `layer` that start inside a block laid out before them in the file.
fn overlapped_blocks(layer: &Layer) -> std::collections::HashSet<u64> {
    let Some((v, geo)) = layer.vhd().and_then(|v| Some((v, v.block_geometry()?))) else { return Default::default() };
    let mut by_offset: Vec<(u32, u32)> =
        v.bat.iter().enumerate().filter(|(_, e)| **e != crate::vhd::UNALLOCATED).map(|(b, e)| (*e, b as u32)).collect();
    by_offset.sort_unstable();
    let mut overlapped = std::collections::HashSet::new();
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

impl Checker {
    /// A check of every layer of `disk`.
    pub fn new(disk: &Disk) -> Checker {
        Checker {
            layer: 0,
            block: 0,
            bitmap: None,
            overlapped: disk.layers.first().map(overlapped_blocks).unwrap_or_default(),
            done: 0,
            total: disk.layers.iter().map(Layer::allocated_blocks).sum(),
            findings: Vec::new(),
            leftover: 0,
            leftover_blocks: 0,
            unreadable: 0,
        }
    }

    /// Blocks checked so far and blocks in all.
    pub fn progress(&self) -> (u64, u64) {
        (self.done, self.total)
    }

    /// The next read needed, or `None` when the check is complete.
    pub fn next_read(&mut self, disk: &Disk) -> Option<CheckRead> {
        loop {
            let layer = disk.layers.get(self.layer)?;
            let vhd = match &layer.image {
                Image::Vhd(v) => v,
                Image::Vhdx(v) => {
                    // A VHDX: the sector bitmap of each partially present block of a child.
                    if self.block >= v.payload_blocks_in_bat() {
                        self.end_layer(disk);
                        continue;
                    }
                    let (state, _) = v.block(self.block);
                    if !state.has_data() {
                        self.block += 1;
                        continue;
                    }
                    match v.bitmap_range(self.block).filter(|_| v.has_parent && state == crate::image::BlockState::PartiallyPresent) {
                        Some(range) if range.end() <= layer.file_len => {
                            return Some(CheckRead { layer: self.layer, block: self.block, range, kind: ReadKind::Bitmap })
                        }
                        _ => {
                            self.next_block();
                            continue;
                        }
                    }
                }
            };
            let geo = vhd.block_geometry();
            let Some(geo) = geo.filter(|_| self.block < vhd.bat.len() as u64) else {
                self.end_layer(disk);
                continue;
            };
            let Some(start) = vhd.block_offset(self.block) else {
                self.block += 1;
                continue;
            };
            if let Some(bitmap) = &self.bitmap {
                let (first, last) = clear_span(bitmap, geo.block_size / 512);
                let data_start = start + geo.bitmap_size;
                let from = data_start + first * 512;
                let to = (data_start + (last + 1) * 512).min(layer.data_end);
                return Some(CheckRead {
                    layer: self.layer,
                    block: self.block,
                    range: crate::image::ByteRange::new(from, to.saturating_sub(from)),
                    kind: ReadKind::Data,
                });
            }
            if start + geo.bitmap_size > layer.data_end || self.overlapped.contains(&self.block) {
                self.next_block();
                continue;
            }
            return Some(CheckRead {
                layer: self.layer,
                block: self.block,
                range: crate::image::ByteRange::new(start, geo.bitmap_size),
                kind: ReadKind::Bitmap,
            });
        }
    }

    /// The bytes of the read [`Checker::next_read`] returned last.
    pub fn provide(&mut self, disk: &Disk, bytes: &[u8]) {
        let Some(layer) = disk.layers.get(self.layer) else { return };
        let vhd = match &layer.image {
            Image::Vhd(v) => v,
            Image::Vhdx(v) => {
                let sectors = u64::from(v.block_size) / u64::from(v.logical_sector_size);
                let set = (0..sectors).filter(|s| crate::disk::bit_lsb(bytes, *s)).count() as u64;
                let at = v.bitmap_range(self.block).map_or(0, |r| r.offset);
                let block = self.block;
                let said = match set {
                    0 => Some("no sector is present: the whole block reads from the parent, as if it were not present"),
                    n if n == sectors => Some("every sector is present: it reads as a fully present block would"),
                    _ => None,
                };
                if let Some(said) = said {
                    self.findings.push(Finding {
                        layer: self.layer,
                        ..Finding::info(
                            "vhdx-bitmap-uniform",
                            at,
                            format!("payload block {block} is partially present, but its sector bitmap says {said}"),
                        )
                    });
                }
                self.next_block();
                return;
            }
        };
        let Some(geo) = vhd.block_geometry() else { return };
        let sectors = geo.block_size / 512;
        match self.bitmap.take() {
            None => {
                let all_set = (0..sectors).all(|s| bit(bytes, s));
                if layer.disk_type() == DiskType::Dynamic && !all_set {
                    self.bitmap = Some(bytes.to_vec());
                } else {
                    self.next_block();
                }
            }
            Some(bitmap) => {
                let (first, _) = clear_span(&bitmap, sectors);
                let start = vhd.block_offset(self.block).unwrap_or(0) + geo.bitmap_size;
                let found = unused_nonzero_sectors(&bitmap, first, bytes);
                if let Some(&first_found) = found.first() {
                    self.leftover += found.len() as u64;
                    self.leftover_blocks += 1;
                    if self.leftover_blocks <= MAX_FINDINGS_PER_KIND as u64 {
                        let block = self.block;
                        self.findings.push(Finding {
                            layer: self.layer,
                            ..Finding::warning(
                                "unused-sectors-nonzero",
                                start + first_found * 512,
                                format!(
                                    "block {block}: {} sector(s) marked unused in the bitmap (first: sector {} of the disk) hold non-zero bytes; they read as zeros, but the file keeps left-over data",
                                    found.len(),
                                    block * sectors + first_found
                                ),
                            )
                        });
                    }
                }
                self.next_block();
            }
        }
    }

    /// The read [`Checker::next_read`] returned last failed with `error`.
    pub fn failed(&mut self, error: &Error) {
        let what = if self.bitmap.is_some() { "data" } else { "sector bitmap" };
        self.unreadable += 1;
        if self.unreadable <= MAX_FINDINGS_PER_KIND {
            let block = self.block;
            self.findings.push(Finding {
                layer: self.layer,
                ..Finding::new(
                    crate::finding::Severity::Error,
                    "bitmap-unreadable",
                    error.offset(),
                    format!("the {what} of block {block} cannot be read: {error}"),
                )
            });
        }
        self.bitmap = None;
        self.next_block();
    }

    /// What the check found.
    pub fn findings(self) -> Vec<Finding> {
        self.findings
    }

    fn next_block(&mut self) {
        self.block += 1;
        self.done += 1;
    }

    fn end_layer(&mut self, disk: &Disk) {
        if self.leftover_blocks > MAX_FINDINGS_PER_KIND as u64 {
            self.findings.push(Finding {
                layer: self.layer,
                ..Finding::warning(
                    "unused-sectors-nonzero",
                    0,
                    format!("{} unused sectors in {} blocks hold non-zero bytes in all; only the first {MAX_FINDINGS_PER_KIND} blocks are listed", self.leftover, self.leftover_blocks),
                )
            });
        }
        self.layer += 1;
        self.block = 0;
        self.leftover = 0;
        self.leftover_blocks = 0;
        self.overlapped = disk.layers.get(self.layer).map(overlapped_blocks).unwrap_or_default();
    }
}

/// The first and last sector whose bit is clear (the caller knows one is).
fn clear_span(bitmap: &[u8], sectors: u64) -> (u64, u64) {
    let first = (0..sectors).find(|s| !bit(bitmap, *s)).unwrap_or(0);
    let last = (0..sectors).rev().find(|s| !bit(bitmap, *s)).unwrap_or(first);
    (first, last)
}

/// Runs the [`Checker`] over the files of `reader`, reporting progress every 256 blocks.
pub fn scan(reader: &mut DiskReader<'_>, progress: Progress<'_>) -> Result<Vec<Finding>> {
    let disk = reader.disk;
    let mut checker = Checker::new(disk);
    let mut last = 0;
    while let Some(read) = checker.next_read(disk) {
        let mut buf = vec![0u8; usize::try_from(read.range.len).unwrap_or(0)];
        match reader.read_file(read.layer, read.range.offset, &mut buf) {
            Ok(()) => checker.provide(disk, &buf),
            Err(e) => checker.failed(&e),
        }
        let (done, total) = checker.progress();
        if done >= last + 256 {
            last = done;
            progress(done, total);
        }
    }
    let (_, total) = checker.progress();
    progress(total, total);
    Ok(checker.findings())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::{open_layer, Counting, ReadAt};
    use crate::writer::DiskBuilder;

    #[test]
    fn left_over_bytes_behind_clear_bits_are_found_reading_only_the_clear_span() {
        let mut d = DiskBuilder::dynamic(4 << 20, 1 << 20);
        // Block 0: sectors 0-9 written; sectors 10-2047 unused but sector 12 holds a byte.
        d.write(0, &[7; 10 * 512]).set_block_data(0, 12 * 512 + 3, &[0x42]);
        // Block 2: written in full, nothing to read past its bitmap.
        d.write(2 << 20, &vec![1; 1 << 20]);
        let bytes = d.build();
        let layer = open_layer(&bytes).unwrap();
        let block0 = layer.vhd().unwrap().block_offset(0).unwrap() + 512;
        let disk = Disk::new(vec![layer], false).unwrap();
        let file = Counting::new(bytes);
        let mut reader = DiskReader::new(&disk, vec![&file as &dyn ReadAt]).unwrap();
        let findings = scan(&mut reader, &mut |_, _| {}).unwrap();
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].code, "unused-sectors-nonzero");
        assert_eq!(findings[0].offset, Some(block0 + 12 * 512));
        // Two bitmaps, then block 0 from sector 10 to its end.
        assert_eq!(file.bytes(), 512 + 512 + (2048 - 10) * 512);
    }

    #[test]
    fn unreadable_blocks_are_findings_not_errors() {
        let mut d = DiskBuilder::dynamic(2 << 20, 1 << 20);
        d.write(0, &[1; 512]);
        let mut bytes = d.build();
        let layer = open_layer(&bytes).unwrap();
        let disk = Disk::new(vec![layer], false).unwrap();
        // The file loses its block after opening (cut short while being read).
        bytes.truncate(4096);
        let mut reader = DiskReader::new(&disk, vec![&bytes as &dyn ReadAt]).unwrap();
        let findings = scan(&mut reader, &mut |_, _| {}).unwrap();
        assert_eq!(findings.iter().map(|f| f.code).collect::<Vec<_>>(), ["bitmap-unreadable"]);
    }
}
