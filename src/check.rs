//! The deep checks that need more than the metadata: every block's sector bitmap, and in a
//! dynamic disk the sectors its bitmap says are unused. The [`Checker`] does no I/O (the page
//! drives it from `Blob.slice()`); [`scan`] drives it through a [`DiskReader`].

use crate::disk::Disk;
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::image::MAX_FINDINGS_PER_KIND;
use crate::layer::Layer;
pub use crate::layer_check::{unused_nonzero_sectors, CheckRead, ReadKind};
use crate::layer_check::{CheckNext, LayerCheck};
use crate::reader::DiskReader;

/// Progress of a long scan: blocks done and blocks in all.
pub type Progress<'p> = &'p mut dyn FnMut(u64, u64);

/// The deep check, without I/O: it asks for one read at a time ([`Checker::next_read`]) and is
/// handed the bytes ([`Checker::provide`]) or told the read failed ([`Checker::failed`]). Each
/// layer's format says which reads its blocks need (a VHD's bitmaps and the sectors they mark
/// unused, a VHDX's partially present blocks' bitmaps). Blocks that reach past the end of the
/// file or overlap an earlier block were reported when the layer was opened and are not read
/// (4 Mi BAT entries pointing at one block would read it 4 Mi times).
#[derive(Debug)]
pub struct Checker {
    /// Where the check is and what it found.
    at: LayerCheck,
    total: u64,
    unreadable: usize,
}

impl Checker {
    /// A check of every layer of `disk`.
    pub fn new(disk: &Disk) -> Checker {
        Checker {
            at: LayerCheck { overlapped: disk.layers.first().map(Layer::overlapped_blocks).unwrap_or_default(), ..LayerCheck::default() },
            total: disk.layers.iter().map(Layer::allocated_blocks).sum(),
            unreadable: 0,
        }
    }

    /// Blocks checked so far and blocks in all.
    pub fn progress(&self) -> (u64, u64) {
        (self.at.done, self.total)
    }

    /// The next read needed, or `None` when the check is complete.
    pub fn next_read(&mut self, disk: &Disk) -> Option<CheckRead> {
        loop {
            let layer = disk.layers.get(self.at.layer)?;
            match layer.check_next(&mut self.at) {
                CheckNext::Read(read) => return Some(read),
                CheckNext::Again => {}
                CheckNext::EndLayer => self.end_layer(disk),
            }
        }
    }

    /// The bytes of the read [`Checker::next_read`] returned last.
    pub fn provide(&mut self, disk: &Disk, bytes: &[u8]) {
        if let Some(layer) = disk.layers.get(self.at.layer) {
            layer.check_provide(&mut self.at, bytes);
        }
    }

    /// The read [`Checker::next_read`] returned last failed with `error`.
    pub fn failed(&mut self, error: &Error) {
        let what = if self.at.bitmap.is_some() { "data" } else { "sector bitmap" };
        self.unreadable += 1;
        if self.unreadable <= MAX_FINDINGS_PER_KIND {
            let block = self.at.block;
            self.at.found(Finding::new(
                crate::finding::Severity::Error,
                "bitmap-unreadable",
                error.offset(),
                format!("the {what} of block {block} cannot be read: {error}"),
            ));
        }
        self.at.bitmap = None;
        self.at.next_block();
    }

    /// What the check found.
    pub fn findings(self) -> Vec<Finding> {
        self.at.findings
    }

    fn end_layer(&mut self, disk: &Disk) {
        let at = &mut self.at;
        if at.leftover_blocks > MAX_FINDINGS_PER_KIND as u64 {
            let (leftover, blocks) = (at.leftover, at.leftover_blocks);
            at.found(Finding::warning(
                "unused-sectors-nonzero",
                0,
                format!("{leftover} unused sectors in {blocks} blocks hold non-zero bytes in all; only the first {MAX_FINDINGS_PER_KIND} blocks are listed"),
            ));
        }
        at.layer += 1;
        at.block = 0;
        at.leftover = 0;
        at.leftover_blocks = 0;
        at.overlapped = disk.layers.get(at.layer).map(Layer::overlapped_blocks).unwrap_or_default();
    }
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
    use crate::vhd::writer::DiskBuilder;

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
