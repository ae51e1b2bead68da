//! `compact`: a copy of a dynamic or differencing disk of the same type that keeps only what
//! it needs. A dynamic disk loses its blocks that read as zeros; a differencing disk loses the
//! sectors it holds identical to its parent's (their bits cleared) and the blocks left with no
//! sector. The bytes behind clear bits (left-overs) are not copied. The copy keeps the disk's
//! identity (unique id, time stamp, parent link), so its own children still link to it.
//!
//! Reads through [`DiskReader`]s and writes through a [`WriteAt`], streaming a window of at most
//! 1 MiB at a time: [`compact`] in one call, or [`Compaction`] a step at a time.

use crate::check::Progress;
use crate::disk::{bit, BitmapCache, Steps};
use crate::error::{Error, Result, WriteError};
use crate::image::DiskType;
use crate::reader::{DiskReader, ReadAt};
use crate::rules::Writer;
use crate::vhd::footer::{self, FOOTER_SIZE};
use crate::vhd::BlockGeometry;
use crate::vhd::Vhd;
use crate::writer::{ParentRef, SparseLayout, WriteAt};
use crate::Disk;

/// What compacting saved.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Compacted {
    /// Blocks allocated in the input.
    pub blocks_before: u64,
    /// Blocks allocated in the copy.
    pub blocks_after: u64,
    /// Sectors the child held identical to its parent, now taken from the parent.
    pub sectors_cleared: u64,
    /// The input file's length.
    pub file_len_before: u64,
    /// The copy's length.
    pub file_len: u64,
}

/// What a copy of a disk keeps of it.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The footer as it is, with the data offset of the new layout and its checksum recomputed.
    pub footer: Vec<u8>,
    /// The parent link of a differencing disk.
    pub parent: Option<ParentRef>,
    /// The parent locators whose data could be read, as (code, data).
    pub locators: Vec<([u8; 4], Vec<u8>)>,
}

/// The footer, parent link and locators a copy of `layer` keeps.
pub fn same_identity(layer: &Vhd) -> Identity {
    let mut f = layer.footer.value.clone();
    if f.disk_type.is_sparse() {
        f.data_offset = FOOTER_SIZE;
    }
    let footer = footer::encode(&f);
    let parent = layer.header.as_ref().filter(|_| layer.disk_type() == DiskType::Differencing).map(|h| ParentRef {
        unique_id: h.value.parent_unique_id,
        timestamp: h.value.parent_timestamp,
        size: layer.size(),
        file_name: h.value.parent_unicode_name().0,
    });
    let locators = layer
        .locators
        .iter()
        .filter(|l| l.path.as_ref().is_some_and(|p| p.valid))
        .filter_map(|l| l.data.clone().map(|d| (l.entry.value.platform_code.0, d)))
        .collect();
    Identity { footer, parent, locators }
}

/// Compacts layer 0 of `disk` (read from `sources`, its parents after it) into `out`, which
/// must start empty.
pub fn compact(disk: &Disk, sources: Vec<&dyn ReadAt>, out: &mut dyn WriteAt, progress: Progress<'_>) -> Result<Compacted> {
    let mut c = Compaction::new(disk)?;
    while c.step(&sources, out)? {
        let (done, total) = c.progress();
        progress(done, total);
    }
    c.finish(out)
}

/// The block being copied.
struct Current {
    block: u64,
    /// Where it starts in the input file.
    at: u64,
    bitmap: Vec<u8>,
    new_bitmap: Vec<u8>,
    /// Where it starts in the copy, once a window of it was kept.
    placed: Option<u64>,
    /// Bytes of its data gone through.
    w: u64,
}

/// A compaction in progress, a window of at most 1 MiB per [`Compaction::step`]: the caller owns
/// the loop, so that a page can write each step's bytes, show progress and stop between steps.
pub struct Compaction {
    layer: Vhd,
    file_len: u64,
    geo: BlockGeometry,
    differencing: bool,
    /// The parent chain of a differencing disk, and its reader's bitmaps and steps between steps.
    parent: Option<(Disk, Option<(BitmapCache, Steps)>)>,
    layout: SparseLayout,
    window: u64,
    data: Vec<u8>,
    theirs: Vec<u8>,
    /// The next block to look at.
    next: u64,
    current: Option<Current>,
    done: u64,
    total: u64,
    sectors_cleared: u64,
}

impl Compaction {
    /// Plans the compaction of layer 0 of `disk` (its parents after it).
    pub fn new(disk: &Disk) -> Result<Self> {
        let layer = Writer::Compact.accepts(disk)?.ok_or(WriteError::CompactFixed)?;
        let Some(geo) = layer.block_geometry() else {
            return Err(WriteError::CompactFixed.into());
        };
        let differencing = layer.disk_type() == DiskType::Differencing;
        let parent = if differencing { Some((Disk::new(disk.layers[1..].to_vec(), true)?, None)) } else { None };
        let Identity { footer, parent: parent_ref, locators } = same_identity(layer);
        crate::writer::check_layout(layer.size(), geo.block_size)?;
        let layout = SparseLayout::new(&footer, u32::try_from(geo.block_size).unwrap_or(0), parent_ref.as_ref(), &locators);
        if layout.bitmap_size() != geo.bitmap_size {
            return Err(WriteError::BlockSize { block_size: geo.block_size }.into());
        }
        let window = geo.block_size.min(crate::convert::BUF as u64);
        Ok(Compaction {
            layer: layer.clone(),
            file_len: disk.layers[0].file_len,
            geo,
            differencing,
            parent,
            layout,
            window,
            data: vec![0u8; window as usize],
            theirs: vec![0u8; window as usize],
            next: 0,
            current: None,
            done: 0,
            total: layer.allocated_blocks(),
            sectors_cleared: 0,
        })
    }

    /// Blocks gone through, and allocated blocks in all.
    pub fn progress(&self) -> (u64, u64) {
        (self.done, self.total)
    }

    /// Compacts the next window of the next allocated block, reading layer `i` of the disk from
    /// `sources[i]`. False when every block was gone through.
    pub fn step(&mut self, sources: &[&dyn ReadAt], out: &mut dyn WriteAt) -> Result<bool> {
        let src = sources[0];
        let geo = self.geo;
        if self.current.is_none() {
            let blocks = self.layer.bat.len() as u64;
            while self.next < blocks && self.layer.block_offset(self.next).is_none() {
                self.next += 1;
            }
            if self.next == blocks {
                return Ok(false);
            }
            let block = self.next;
            self.next += 1;
            let at = self.layer.block_offset(block).unwrap_or(0);
            let mut bitmap = vec![0u8; geo.bitmap_size as usize];
            read(src, at, &mut bitmap)?;
            self.current = Some(Current { block, at, new_bitmap: bitmap.clone(), bitmap, placed: None, w: 0 });
        }
        let Some(cur) = self.current.as_mut() else { return Ok(true) };
        let (window, size, differencing) = (self.window, self.layer.size(), self.differencing);
        let w = cur.w;
        let buf = &mut self.data[..window as usize];
        read(src, cur.at + geo.bitmap_size + w, buf)?;
        let v = cur.block * geo.block_size + w;
        // The parent's bytes of the window (zeros past its end).
        if let Some((disk, parts)) = self.parent.as_mut() {
            self.theirs.fill(0);
            let psize = disk.size();
            if v < psize {
                let n = (psize - v).min(window) as usize;
                let (cache, steps) = parts.take().unwrap_or_else(|| (BitmapCache::for_disk(disk), Steps::new(disk)));
                let mut reader = DiskReader::with_parts(disk, sources[1..].to_vec(), cache, steps)?;
                let r = reader.read(v, &mut self.theirs[..n]);
                *parts = Some(reader.into_parts());
                r?;
            }
        }
        let mut keep = false;
        for (i, sector) in buf.chunks_mut(512).enumerate() {
            let s = w / 512 + i as u64;
            let inside = v + (i as u64) * 512 < size;
            let present = bit(&cur.bitmap, s) && inside;
            let same = differencing && present && sector == &self.theirs[i * 512..i * 512 + sector.len()];
            if differencing && bit(&cur.bitmap, s) && (same || !inside) {
                cur.new_bitmap[(s / 8) as usize] &= !(0x80 >> (s % 8));
                self.sectors_cleared += u64::from(inside);
            }
            if !present || same {
                sector.fill(0);
            } else if differencing || sector.iter().any(|b| *b != 0) {
                keep = true;
            }
        }
        if keep {
            let start = match cur.placed {
                Some(s) => s,
                None => {
                    let block = cur.block;
                    let s = self.layout.place(block).ok_or(WriteError::BlockPlacedTwice { block })?;
                    cur.placed = Some(s);
                    s
                }
            };
            out.write_at(start + geo.bitmap_size + w, buf)?;
        }
        cur.w += window;
        if cur.w >= geo.block_size {
            if let Some(start) = cur.placed {
                out.write_at(start, if differencing { &cur.new_bitmap } else { &cur.bitmap })?;
            }
            self.current = None;
            self.done += 1;
        }
        Ok(true)
    }

    /// Writes the copy's footers, header, parent locators and BAT (after the last step).
    pub fn finish(self, out: &mut dyn WriteAt) -> Result<Compacted> {
        for (at, bytes) in self.layout.finish() {
            out.write_at(at, &bytes)?;
        }
        out.set_len(self.layout.file_len())?;
        Ok(Compacted {
            blocks_before: self.total,
            blocks_after: self.layout.placed(),
            sectors_cleared: self.sectors_cleared,
            file_len_before: self.file_len,
            file_len: self.layout.file_len(),
        })
    }
}

fn read(src: &dyn ReadAt, offset: u64, buf: &mut [u8]) -> Result<()> {
    let len = buf.len() as u64;
    if offset.saturating_add(len) > src.len() {
        return Err(Error::OutOfFile { what: "block", offset, len, file_len: src.len() });
    }
    src.read_at(offset, buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::open_layer;
    use crate::writer::DiskBuilder;

    fn flatten(files: &[&Vec<u8>]) -> Vec<u8> {
        let disk = Disk::new(files.iter().map(|f| open_layer(*f).unwrap()).collect(), false).unwrap();
        let mut r = DiskReader::new(&disk, files.iter().map(|f| *f as &dyn ReadAt).collect()).unwrap();
        let mut all = vec![0; disk.size() as usize];
        r.read(0, &mut all).unwrap();
        all
    }

    fn run(files: &[&Vec<u8>]) -> (Vec<u8>, Compacted) {
        let disk = Disk::new(files.iter().map(|f| open_layer(*f).unwrap()).collect(), false).unwrap();
        let mut out = Vec::new();
        let c = compact(&disk, files.iter().map(|f| *f as &dyn ReadAt).collect(), &mut out, &mut |_, _| {}).unwrap();
        (out, c)
    }

    #[test]
    fn a_dynamic_disk_loses_its_zero_blocks() {
        let mut d = DiskBuilder::dynamic(8 << 20, 1 << 20);
        d.write(0, &[0; 4096]).write(3 << 20, &[5; 512]).write(5 << 20, &[0; 512]);
        // Left-over bytes behind a clear bit of block 6, which reads as zeros.
        d.set_bitmap(6, &[0]).set_block_data(6, 1024, &[9; 16]);
        let input = d.build();
        let (out, c) = run(&[&input]);
        assert_eq!((c.blocks_before, c.blocks_after, c.sectors_cleared), (4, 1, 0));
        assert!(flatten(&[&out]) == flatten(&[&input]));
        let l = open_layer(&out).unwrap();
        assert_eq!(l.link_id(), open_layer(&input).unwrap().link_id());
        assert!(l.vhd().unwrap().block_offset(3).is_some());
        assert_eq!(out.len() as u64, c.file_len);
    }

    #[test]
    fn a_child_loses_the_sectors_identical_to_its_parent() {
        let mut base = DiskBuilder::dynamic(4 << 20, 1 << 20);
        base.write(0, &[1; 8192]).write(2 << 20, &[2; 512]);
        let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 1 << 20);
        // Block 0: two sectors rewritten unchanged, one changed; block 2: unchanged only.
        child.write(0, &[1; 1024]).write(4096, &[7; 512]).write(2 << 20, &[2; 512]);
        let (b, c) = (base.build(), child.build());
        let (out, r) = run(&[&c, &b]);
        assert_eq!((r.blocks_before, r.blocks_after, r.sectors_cleared), (2, 1, 3));
        assert!(flatten(&[&out, &b]) == flatten(&[&c, &b]));
        let l = open_layer(&out).unwrap();
        let bad: Vec<_> = l.findings.iter().filter(|f| f.severity > crate::Severity::Info).collect();
        assert!(bad.is_empty(), "{bad:?}");
        // Without the parent: refused.
        let disk = Disk::new(vec![open_layer(&c).unwrap()], false).unwrap();
        assert!(compact(&disk, vec![&c as &dyn ReadAt], &mut Vec::new(), &mut |_, _| {}).is_err());
    }
}
