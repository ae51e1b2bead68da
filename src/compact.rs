//! `compact`: a copy of a dynamic or differencing disk, VHD or VHDX, in its own format and of
//! the same type, that keeps only what it needs. A dynamic disk loses its blocks that read as
//! zeros; a differencing disk loses the sectors it holds identical to its parent's (their bits
//! cleared) and the blocks left with no sector, and keeps a VHDX child's zero blocks zero. The
//! bytes behind clear bits (left-overs) are not copied. The copy keeps the disk's identity (a
//! VHD's unique id, time stamp and parent link; a VHDX's block size, sector sizes,
//! `DataWriteGuid`, page 83 id and parent locator), so its own children still link to it. A
//! VHDX's dirty log was replayed in memory when it was opened: the copy holds the replayed disk
//! and a clean log.
//!
//! With a [`FreeRanges`] (`compact --trim`), the sectors that lie wholly in what a file system
//! marks free are dropped too: zeros in a dynamic disk's copy (a block left with nothing but
//! zeros is not allocated), cleared from a differencing disk's bitmap (they read as the parent).
//!
//! Reads block by block ([`crate::layer::Layer::block_read`]) and writes through a [`WriteAt`] laid out by
//! the format's [`NewLayout`], streaming a window of at most 1 MiB at a time: [`compact`] in
//! one call, or [`Compaction`] a step at a time.
//!
//! The copy may have another block size ([`Compaction::with_block_size`], `compact
//! --block-size`), its identity kept: the windows then divide both block sizes, an output block
//! is placed when its first kept window comes, and a differencing disk's output block gathers
//! its sectors present from its kept windows (smaller blocks give back more of the freed space
//! around kept data).

use crate::check::Progress;
use crate::disk::{BitmapCache, Steps};
use crate::error::{Error, Result, WriteError};
use crate::image::{BlockRead, DiskType};
use crate::newdisk::{finish_into, NewLayout};
use crate::reader::{DiskReader, ReadAt};
use crate::rules::Writer;
use crate::trim::FreeRanges;
use crate::vhd::writer::WriteAt;
use crate::Disk;

/// What compacting saved.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Compacted {
    /// The copy's format: `vhd` or `vhdx` (the input's).
    pub format: &'static str,
    /// Blocks allocated in the input.
    pub blocks_before: u64,
    /// Blocks allocated in the copy.
    pub blocks_after: u64,
    /// Sectors the child held identical to its parent, now taken from the parent.
    pub sectors_cleared: u64,
    /// Bytes of the input's data dropped because a file system marks them free.
    pub bytes_free: u64,
    /// Bytes of the input's data dropped because they read as what is below them: zeros in a
    /// dynamic disk, the parent's bytes in a differencing disk.
    pub bytes_zero: u64,
    /// Bytes of the input's data kept.
    pub bytes_kept: u64,
    /// The input's block size.
    pub block_size_before: u64,
    /// The copy's block size.
    pub block_size: u64,
    /// The input file's length.
    pub file_len_before: u64,
    /// The copy's length.
    pub file_len: u64,
}

/// What a VHD's copy keeps of it (relink and repair keep it too).
pub use crate::vhd::writer::{same_identity, Identity};

/// Compacts layer 0 of `disk` (read from `sources`, its parents after it) into `out`, which
/// must start empty; with `trim`, what the file systems mark free is dropped too.
pub fn compact(
    disk: &Disk,
    sources: Vec<&dyn ReadAt>,
    trim: Option<Box<dyn FreeRanges>>,
    out: &mut dyn WriteAt,
    progress: Progress<'_>,
) -> Result<Compacted> {
    compact_with_block_size(disk, sources, trim, None, out, progress)
}

/// [`compact`] into a copy with blocks of `block_size` bytes (the input's if `None`); see
/// [`Compaction::with_block_size`].
pub fn compact_with_block_size(
    disk: &Disk,
    sources: Vec<&dyn ReadAt>,
    trim: Option<Box<dyn FreeRanges>>,
    block_size: Option<u64>,
    out: &mut dyn WriteAt,
    progress: Progress<'_>,
) -> Result<Compacted> {
    let mut c = Compaction::with_block_size(disk, trim, block_size)?;
    while c.step(&sources, out)? {
        let (done, total) = c.progress();
        progress(done, total);
    }
    c.finish(out)
}

/// The block being copied.
struct Current {
    block: u64,
    /// Where its data starts in the input file; none for a differencing VHDX's zero block that
    /// goes into a larger block of the copy, read as zeros with every sector present.
    data: Option<u64>,
    /// Its sectors in the input, one bit each from the least significant bit of each byte.
    bits: Vec<u8>,
    /// Those the copy keeps.
    new_bits: Vec<u8>,
    /// Bytes of its data gone through.
    w: u64,
}

/// True when sector `s`'s bit is set in `bits` (one bit per sector from the least significant
/// bit of each byte).
pub(crate) fn bit(bits: &[u8], s: u64) -> bool {
    bits.get((s / 8) as usize).is_some_and(|b| b >> (s % 8) & 1 == 1)
}

/// Clears sector `s`'s bit in `bits`.
pub(crate) fn clear(bits: &mut [u8], s: u64) {
    if let Some(b) = bits.get_mut((s / 8) as usize) {
        *b &= !(1 << (s % 8));
    }
}

/// A compaction in progress, a window of at most 1 MiB per [`Compaction::step`]: the caller owns
/// the loop, so that a page can write each step's bytes, show progress and stop between steps.
pub struct Compaction {
    /// The disk (layer 0 the one copied), for the free space's questions.
    disk: Disk,
    trim: Option<Box<dyn FreeRanges>>,
    block_size: u64,
    /// The copy's block size.
    out_block: u64,
    /// The output block last placed, and where its data starts in the copy.
    placed: Option<(u64, u64)>,
    /// A differencing disk's sectors present in that block, gathered from its kept windows
    /// (one bit per sector from the least significant bit), until the layout is told.
    out_bits: Option<Vec<u8>>,
    /// Bytes per bit of a block's sector bitmap.
    sector: u64,
    blocks: u64,
    differencing: bool,
    /// The parent chain of a differencing disk, and its reader's bitmaps and steps between steps.
    parent: Option<(Disk, Option<(BitmapCache, Steps)>)>,
    layout: Box<dyn NewLayout>,
    window: u64,
    data: Vec<u8>,
    theirs: Vec<u8>,
    free: Vec<(u64, u64)>,
    /// The next block to look at.
    next: u64,
    current: Option<Current>,
    done: u64,
    total: u64,
    sectors_cleared: u64,
    bytes_free: u64,
    bytes_zero: u64,
    bytes_kept: u64,
}

impl Compaction {
    /// Plans the compaction of layer 0 of `disk` (its parents after it); with `trim`, what the
    /// file systems mark free is dropped too.
    pub fn new(disk: &Disk, trim: Option<Box<dyn FreeRanges>>) -> Result<Self> {
        Compaction::with_block_size(disk, trim, None)
    }

    /// As [`Compaction::new`], the copy's blocks of `block_size` bytes (the input's if `None`):
    /// for a VHD a power of two from 512 bytes to 256 MiB, for a VHDX from 1 MiB to 256 MiB. A
    /// differencing disk's output blocks gather their sectors present from its blocks; a VHDX
    /// child's zero block becomes zero blocks of a smaller size; a larger block wholly of zero
    /// blocks is one, and a zero block in a larger block with other data is read as zeros
    /// present where the parent holds other bytes (a block cannot be zero in part).
    pub fn with_block_size(disk: &Disk, trim: Option<Box<dyn FreeRanges>>, block_size: Option<u64>) -> Result<Self> {
        Writer::Compact.accepts(disk)?;
        let layer = &disk.layers[0];
        let Some(in_block) = layer.block_size().filter(|_| layer.disk_type().is_sparse()) else {
            return Err(WriteError::CompactFixed.into());
        };
        let differencing = layer.disk_type() == DiskType::Differencing;
        let asked = block_size.filter(|b| *b != in_block);
        let block_size = in_block;
        let parent = if differencing { Some((Disk::new(disk.layers[1..].to_vec(), true)?, None)) } else { None };
        let layout = layer.copy_layout(asked, None)?;
        let out_block = layout.block_size();
        let sector = u64::from(layer.logical_sector_size());
        // Windows that divide both block sizes (the input's a multiple of 512 bytes, the copy's a
        // power of two).
        let window = gcd(gcd(block_size, out_block), crate::convert::BUF as u64);
        Ok(Compaction {
            disk: disk.clone(),
            trim,
            block_size,
            out_block,
            placed: None,
            out_bits: None,
            sector,
            blocks: layer.size().div_ceil(block_size),
            differencing,
            parent,
            layout,
            window,
            data: vec![0u8; window as usize],
            theirs: vec![0u8; window as usize],
            free: Vec::new(),
            next: 0,
            current: None,
            done: 0,
            total: layer.allocated_blocks(),
            sectors_cleared: 0,
            bytes_free: 0,
            bytes_zero: 0,
            bytes_kept: 0,
        })
    }

    /// Blocks gone through, and allocated blocks in all.
    pub fn progress(&self) -> (u64, u64) {
        (self.done, self.total)
    }

    /// True when `[start, end)` lies wholly in free space (asked of the free space, in order).
    fn wholly_free(&mut self, sources: &[&dyn ReadAt], start: u64, end: u64) -> Result<bool> {
        let Some(t) = self.trim.as_mut() else { return Ok(false) };
        self.free.clear();
        t.free_in(&self.disk, sources, start, end, &mut self.free)?;
        Ok(self.free.iter().map(|(s, e)| e.min(&end).saturating_sub(*s.max(&start))).sum::<u64>() >= end - start)
    }

    /// The next block with data, its zero blocks marked on the way; false when none is left.
    fn next_block(&mut self, sources: &[&dyn ReadAt], out: &mut dyn WriteAt) -> Result<bool> {
        let per = (self.block_size / self.sector).div_ceil(8) as usize;
        while self.next < self.blocks {
            let block = self.next;
            self.next += 1;
            let (ob, ib) = (self.out_block, self.block_size);
            if self.differencing && ob > ib && block * ib % ob == 0 {
                // A larger output block wholly of zero blocks is a zero block.
                let last = ((block * ib + ob) / ib).min(self.blocks);
                if (block..last).all(|b| self.disk.layers[0].block_read(b) == BlockRead::Zero) {
                    let (start, end) = (block * ib, (block * ib + ob).min(self.disk.size()));
                    if !self.wholly_free(sources, start, end)? {
                        self.layout.set_zero(block * ib / ob, out)?;
                    }
                    self.next = last;
                    continue;
                }
            }
            let (data, bits) = match self.disk.layers[0].block_read(block) {
                BlockRead::Below => continue,
                BlockRead::Zero if self.differencing && self.out_block > self.block_size => {
                    // Part of a larger block of the copy: zeros present where they differ from
                    // the parent (the copy's block cannot be zero in part).
                    (None, vec![0xff; per])
                }
                BlockRead::Zero => {
                    // The copy's blocks in it read as zeros over the parent, as it does.
                    let ob = self.out_block;
                    for b in block * self.block_size / ob..(block + 1) * self.block_size / ob {
                        let (start, end) = (b * ob, ((b + 1) * ob).min(self.disk.size()));
                        if self.differencing && start < end && !self.wholly_free(sources, start, end)? {
                            self.layout.set_zero(b, out)?;
                        }
                    }
                    continue;
                }
                BlockRead::Data(data) => (Some(data), vec![0xff; per]),
                BlockRead::Partial { data, bitmap } => (Some(data), sector_bits(&self.disk.layers[0], sources[0], bitmap, per)?),
            };
            self.current = Some(Current { block, data, new_bits: bits.clone(), bits, w: 0 });
            return Ok(true);
        }
        Ok(false)
    }

    /// Compacts the next window of the next block with data, reading layer `i` of the disk from
    /// `sources[i]`. False when every block was gone through.
    pub fn step(&mut self, sources: &[&dyn ReadAt], out: &mut dyn WriteAt) -> Result<bool> {
        if self.current.is_none() && !self.next_block(sources, out)? {
            return Ok(false);
        }
        let Some(mut cur) = self.current.take() else { return Ok(true) };
        let (window, size, differencing, ss) = (self.window, self.disk.size(), self.differencing, self.sector);
        let w = cur.w;
        let v = cur.block * self.block_size + w;
        match cur.data {
            Some(data) => read(sources[0], data + w, &mut self.data[..window as usize])?,
            None => self.data.fill(0),
        }
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
        // The free space of the window's sectors that hold data.
        self.free.clear();
        let first = (w / ss..(w + window) / ss).find(|s| bit(&cur.bits, *s));
        if let (Some(t), Some(_)) = (self.trim.as_mut(), first) {
            if v < size {
                t.free_in(&self.disk, sources, v, (v + window).min(size), &mut self.free)?;
            }
        }
        let mut keep = false;
        let mut f = 0;
        for (i, sector) in self.data[..window as usize].chunks_mut(ss as usize).enumerate() {
            let s = w / ss + i as u64;
            let start = v + i as u64 * ss;
            let inside = start < size;
            if !bit(&cur.bits, s) || !inside {
                if differencing {
                    clear(&mut cur.new_bits, s);
                }
                sector.fill(0);
                continue;
            }
            while f < self.free.len() && self.free[f].1 <= start {
                f += 1;
            }
            let free = f < self.free.len() && self.free[f].0 <= start && self.free[f].1 >= start + ss;
            let same = differencing && !free && sector == &self.theirs[i * ss as usize..(i + 1) * ss as usize];
            if free || same {
                if differencing {
                    clear(&mut cur.new_bits, s);
                }
                sector.fill(0);
                if free {
                    self.bytes_free += ss;
                } else {
                    self.sectors_cleared += 1;
                    self.bytes_zero += ss;
                }
            } else if !differencing && sector.iter().all(|b| *b == 0) {
                self.bytes_zero += ss;
            } else {
                keep = true;
                self.bytes_kept += ss;
            }
        }
        let (ob, ow) = (v / self.out_block, v % self.out_block);
        if keep {
            let start = match self.placed {
                Some((b, s)) if b == ob => s,
                _ => {
                    self.flush(out)?;
                    let s = self.layout.place(ob, out)?;
                    self.placed = Some((ob, s));
                    if differencing {
                        self.out_bits = Some(vec![0; (self.out_block / ss).div_ceil(8) as usize]);
                    }
                    s
                }
            };
            out.write_at(start + ow, &self.data[..window as usize])?;
            // The window's sectors present, into the copy's block's bitmap (those of a window
            // not kept are all clear).
            if let Some(bits) = self.out_bits.as_mut() {
                for i in 0..window / ss {
                    if bit(&cur.new_bits, w / ss + i) {
                        let o = ow / ss + i;
                        bits[(o / 8) as usize] |= 1 << (o % 8);
                    }
                }
            }
        }
        if (v + window) % self.out_block == 0 {
            self.flush(out)?;
        }
        cur.w += window;
        if cur.w < self.block_size {
            self.current = Some(cur);
        } else {
            self.done += 1;
        }
        Ok(true)
    }

    /// Tells the layout the sectors present in the differencing disk's output block last
    /// placed, once.
    fn flush(&mut self, out: &mut dyn WriteAt) -> Result<()> {
        if let (Some((b, _)), Some(bits)) = (self.placed, self.out_bits.take()) {
            self.layout.set_sectors(b, &bits, out)?;
        }
        Ok(())
    }

    /// Writes the copy's closing structures (after the last step): a VHD's footers, header,
    /// parent locators and BAT; a VHDX's identifier, headers, region tables, metadata and BAT.
    pub fn finish(mut self, out: &mut dyn WriteAt) -> Result<Compacted> {
        self.flush(out)?;
        finish_into(self.layout.as_ref(), out)?;
        Ok(Compacted {
            format: self.layout.format(),
            blocks_before: self.total,
            blocks_after: self.layout.placed(),
            sectors_cleared: self.sectors_cleared,
            bytes_free: self.bytes_free,
            bytes_zero: self.bytes_zero,
            bytes_kept: self.bytes_kept,
            block_size_before: self.block_size,
            block_size: self.out_block,
            file_len_before: self.disk.layers[0].file_len,
            file_len: self.layout.file_len(),
        })
    }
}

/// The greatest common divisor.
pub(crate) fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The sectors present of a partially present block of `layer` (read from `src`): `per` bytes,
/// one bit per sector from the least significant bit of each byte, whatever the format's order.
pub(crate) fn sector_bits(layer: &crate::layer::Layer, src: &dyn ReadAt, bitmap: crate::image::ByteRange, per: usize) -> Result<Vec<u8>> {
    let mut raw = vec![0u8; bitmap.len.min(per as u64) as usize];
    read(src, bitmap.offset, &mut raw)?;
    raw.resize(per, 0);
    if !layer.bitmap_lsb_first() {
        for b in &mut raw {
            *b = b.reverse_bits();
        }
    }
    Ok(raw)
}

/// Reads `buf.len()` bytes of `src` at `offset`: an error naming them when the file is shorter.
pub(crate) fn read(src: &dyn ReadAt, offset: u64, buf: &mut [u8]) -> Result<()> {
    let len = buf.len() as u64;
    if offset.saturating_add(len) > src.len() {
        return Err(Error::OutOfFile { what: "block", offset, len, file_len: src.len() });
    }
    src.read_at(offset, buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::flatten;
    use crate::reader::open_layer;
    use crate::vhd::writer::DiskBuilder;

    /// The chain `child` over `parent` as a trimmed copy of the child reads: the parent's bytes
    /// in the `free` ranges.
    fn parent_where_free(child: &Vec<u8>, parent: &Vec<u8>, free: &[(u64, u64)]) -> Vec<u8> {
        let mut want = flatten(&[child, parent]);
        let theirs = flatten(&[parent]);
        for &(s, e) in free {
            want[s as usize..e as usize].copy_from_slice(&theirs[s as usize..e as usize]);
        }
        want
    }

    fn run(files: &[&Vec<u8>]) -> (Vec<u8>, Compacted) {
        run_trim(files, None)
    }

    fn run_trim(files: &[&Vec<u8>], free: Option<Vec<(u64, u64)>>) -> (Vec<u8>, Compacted) {
        let disk = Disk::new(files.iter().map(|f| open_layer(*f).unwrap()).collect(), false).unwrap();
        let mut out = Vec::new();
        let trim = free.map(|f| Box::new(crate::newdisk::Listed(f)) as Box<dyn FreeRanges>);
        let c = compact(&disk, files.iter().map(|f| *f as &dyn ReadAt).collect(), trim, &mut out, &mut |_, _| {}).unwrap();
        assert_eq!(out.len() as u64, c.file_len);
        clean(&out);
        (out, c)
    }

    fn clean(file: &dyn ReadAt) {
        let l = open_layer(file).unwrap();
        let bad: Vec<_> = l.findings.iter().filter(|f| f.severity > crate::Severity::Info).collect();
        assert!(bad.is_empty(), "{bad:?}");
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
        assert!(compact(&disk, vec![&c as &dyn ReadAt], None, &mut Vec::new(), &mut |_, _| {}).is_err());
    }

    #[test]
    fn free_space_leaves_a_dynamic_vhd() {
        let mut d = DiskBuilder::dynamic(8 << 20, 1 << 20);
        d.write(0, &[1; 4096]).write(3 << 20, &[5; 8192]).write(5 << 20, &[6; 512]);
        let input = d.build();
        // Block 3's second 4 KiB and block 5 wholly are free.
        let (out, c) = run_trim(&[&input], Some(vec![((3 << 20) + 4096, 4 << 20), (5 << 20, 6 << 20)]));
        let mut want = flatten(&[&input]);
        want[(3 << 20) + 4096..(3 << 20) + 8192].fill(0);
        want[5 << 20..(5 << 20) + 512].fill(0);
        assert!(flatten(&[&out]) == want);
        assert_eq!((c.blocks_before, c.blocks_after), (3, 2));
        assert_eq!((c.bytes_free, c.bytes_kept, c.bytes_zero), (4096 + 512, 4096 + 4096, 0));
        assert_eq!(c.format, "vhd");
    }

    fn vhdx_base() -> crate::vhdx::writer::VhdxBuilder {
        let mut b = crate::vhdx::writer::VhdxBuilder::new(9 << 20).write(0, &[1; 8192]).write(2 << 20, &[2; 4096]);
        b = b.write(4 << 20, &[0; 4096]).write((8 << 20) + 512, &[3; 512]);
        b
    }

    #[test]
    fn a_dynamic_vhdx_compacts_to_a_vhdx_with_its_identity() {
        for ss in [512u32, 4096] {
            let mut b = vhdx_base();
            b.logical_sector_size = ss;
            b.block_size = 2 << 20;
            b.dirty_log = true;
            let input = b.build();
            let (out, c) = run(&[&input]);
            assert!(flatten(&[&out]) == flatten(&[&input]));
            // Blocks 0, 1, 2 and 4 held data; block 2 (4 MiB) only zeros.
            assert_eq!((c.format, c.blocks_before, c.blocks_after), ("vhdx", 4, 3));
            let (i, o) = (open_layer(&input).unwrap(), open_layer(&out).unwrap());
            let (iv, ov) = (i.vhdx().unwrap(), o.vhdx().unwrap());
            assert_eq!((ov.block_size, ov.logical_sector_size, ov.physical_sector_size), (2 << 20, ss, 4096));
            assert_eq!((ov.data_write_guid(), ov.page83), (iv.data_write_guid(), iv.page83));
            assert!(ov.header().file_write_guid != iv.header().file_write_guid);
            assert!(iv.log.dirty && !ov.log.dirty);
        }
    }

    fn vhdx_chain() -> (Vec<u8>, Vec<u8>) {
        use crate::image::BlockState;
        let base = vhdx_base();
        let mut child = crate::vhdx::writer::VhdxBuilder::new(9 << 20).child_of(base.data_write_guid, "base.vhdx");
        child.data_write_guid = crate::vhdx::Guid([0x77; 16]);
        // Block 0: one sector rewritten the same, one changed; block 2: the same only; block 6:
        // new data; block 7 zero.
        child = child.write(512, &[1; 512]).write(4096, &[9; 512]).write(2 << 20, &[2; 1024]).write(6 << 20, &[4; 2048]);
        child.states = vec![(7, BlockState::Zero)];
        (child.build(), base.build())
    }

    #[test]
    fn a_vhdx_child_loses_what_its_parent_holds_and_keeps_its_zero_blocks() {
        let (c, b) = vhdx_chain();
        let (out, r) = run(&[&c, &b]);
        assert!(flatten(&[&out, &b]) == flatten(&[&c, &b]));
        assert_eq!((r.blocks_before, r.blocks_after, r.sectors_cleared), (3, 2, 3));
        let o = open_layer(&out).unwrap();
        assert!(o.parent_matches(&open_layer(&b).unwrap()));
        assert_eq!(o.link_id(), [0x77; 16]);
        assert_eq!(o.block_read(7), BlockRead::Zero);
        assert_eq!(o.block_read(2), BlockRead::Below);
        // Block 0 keeps one sector of 512 bytes: partially present, its bitmap in the file.
        assert!(matches!(o.block_read(0), BlockRead::Partial { .. }));
    }

    #[test]
    fn free_space_in_a_vhdx_child_falls_through_to_the_parent() {
        let (c, b) = vhdx_chain();
        // Block 6 free but for its first sector; block 7 (zero) wholly free.
        let free = vec![((6 << 20) + 512, 8 << 20)];
        let (out, r) = run_trim(&[&c, &b], Some(free.clone()));
        let want = parent_where_free(&c, &b, &free);
        assert!(flatten(&[&out, &b]) == want);
        assert_eq!(r.bytes_free, 1536);
        let o = open_layer(&out).unwrap();
        assert_eq!(o.block_read(7), BlockRead::Below);
    }

    #[test]
    fn a_256_gib_vhdx_compacts_reading_and_holding_only_its_blocks_and_bat() {
        let b = crate::vhdx::writer::VhdxBuilder::new(256 << 30).write(0, &[1; 4096]).write(200 << 30, &[0; 4096]);
        let input = b.write((255 << 30) + 512, &[2; 512]).build();
        let counted = crate::reader::Counting::new(input.clone());
        let disk = Disk::new(vec![open_layer(&input).unwrap()], false).unwrap();
        let mut out = Vec::new();
        let c = compact(&disk, vec![&counted as &dyn ReadAt], None, &mut out, &mut |_, _| {}).unwrap();
        assert_eq!((c.blocks_before, c.blocks_after), (3, 2));
        // The structures (3 MiB), the BAT (262,144 payload and 63 sector bitmap entries: just
        // over 2 MiB, so 3), two blocks.
        assert_eq!(out.len() as u64, (3 + 3 + 2) << 20);
        // Read: the three blocks, nothing else.
        assert_eq!(counted.bytes(), 3 << 20);
        let o = open_layer(&out).unwrap();
        assert_eq!(o.size(), 256 << 30);
        let copy = Disk::new(vec![o], false).unwrap();
        let mut r = DiskReader::new(&copy, vec![&out as &dyn ReadAt]).unwrap();
        let mut s = [0u8; 1024];
        r.read((255 << 30) + 512, &mut s).unwrap();
        assert!(s[..512] == [2; 512] && s[512..] == [0; 512]);
    }

    #[test]
    fn free_space_in_a_vhd_child_falls_through_to_the_parent() {
        let mut base = DiskBuilder::dynamic(4 << 20, 1 << 20);
        base.write(0, &[1; 16384]).write(2 << 20, &[2; 512]);
        let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 1 << 20);
        // Sectors 1 to 9 of block 0 changed; block 2's sector changed.
        child.write(512, &[7; 9 * 512]).write(2 << 20, &[8; 512]);
        let (b, c) = (base.build(), child.build());
        // Sectors 3 and 4 free, and block 2 wholly.
        let free = vec![(1536, 2560), (2 << 20, 3 << 20)];
        let (out, r) = run_trim(&[&c, &b], Some(free.clone()));
        let want = parent_where_free(&c, &b, &free);
        assert!(flatten(&[&out, &b]) == want);
        assert_eq!((r.blocks_before, r.blocks_after, r.bytes_free, r.bytes_kept), (2, 1, 3 * 512, 7 * 512));
        // The copy's bitmap: sectors 1, 2 and 5 to 9 (the VHD's bits from the most significant).
        let v = open_layer(&out).unwrap();
        let at = v.vhd().unwrap().block_offset(0).unwrap() as usize;
        assert_eq!(&out[at..at + 2], &[0b0110_0111, 0b1100_0000]);
    }

    fn run_bs(files: &[&Vec<u8>], block_size: u64, free: Option<Vec<(u64, u64)>>) -> Result<(Vec<u8>, Compacted)> {
        let disk = Disk::new(files.iter().map(|f| open_layer(*f).unwrap()).collect(), false).unwrap();
        let mut out = Vec::new();
        let trim = free.map(|f| Box::new(crate::newdisk::Listed(f)) as Box<dyn FreeRanges>);
        let sources = files.iter().map(|f| *f as &dyn ReadAt).collect();
        let c = compact_with_block_size(&disk, sources, trim, Some(block_size), &mut out, &mut |_, _| {})?;
        assert_eq!(out.len() as u64, c.file_len);
        clean(&out);
        Ok((out, c))
    }

    #[test]
    fn a_dynamic_vhd_takes_smaller_or_larger_blocks_and_keeps_its_id() {
        let mut d = DiskBuilder::dynamic(8 << 20, 1 << 20);
        d.write(0, &[1; 4096]).write((3 << 20) + (600 << 10), &[5; 512]).write(5 << 20, &[0; 512]);
        d.write((6 << 20) + 4096, &[6; 4096]);
        let input = d.build();
        // Block 6 holds data only in a sector trimmed away.
        let free = Some(vec![((6 << 20) + 4096, (6 << 20) + 8192)]);
        let mut want = flatten(&[&input]);
        want[(6 << 20) + 4096..(6 << 20) + 8192].fill(0);
        // 512 KiB: data in blocks 0 and 7; 4 MiB: block 0 only. 1 MiB (the input's): 0 and 3.
        for (bs, blocks) in [(512 << 10, 2), (4 << 20, 1), (1 << 20, 2)] {
            let (out, c) = run_bs(&[&input], bs, free.clone()).unwrap();
            assert!(flatten(&[&out]) == want, "{bs}");
            assert_eq!((c.blocks_before, c.blocks_after, c.block_size_before, c.block_size), (4, blocks, 1 << 20, bs));
            let (i, o) = (open_layer(&input).unwrap(), open_layer(&out).unwrap());
            assert_eq!((o.link_id(), o.block_size()), (i.link_id(), Some(bs)));
            // Each block with its sector bitmap (one bit per sector, whole sectors), the footer.
            let bitmap = (bs / 512 / 8).div_ceil(512) * 512;
            assert_eq!(c.file_len, o.vhd().unwrap().block_offset(0).unwrap() + blocks * (bs + bitmap) + 512);
        }
        assert_eq!(run_bs(&[&input], 3000, None).map(|_| ()).unwrap_err().code(), "chosen-block-size");
    }

    #[test]
    fn a_dynamic_vhdx_takes_smaller_or_larger_blocks_and_keeps_its_identity() {
        let mut b = vhdx_base();
        b.block_size = 2 << 20;
        let input = b.build();
        // 1 MiB: blocks 0, 2 and 8 hold data; 8 MiB: blocks 0 and 1.
        for (bs, blocks) in [(1 << 20, 3), (8 << 20, 2)] {
            let (out, c) = run_bs(&[&input], bs, None).unwrap();
            assert!(flatten(&[&out]) == flatten(&[&input]), "{bs}");
            assert_eq!((c.format, c.blocks_before, c.blocks_after, c.block_size), ("vhdx", 4, blocks, bs));
            let (i, o) = (open_layer(&input).unwrap(), open_layer(&out).unwrap());
            let (iv, ov) = (i.vhdx().unwrap(), o.vhdx().unwrap());
            assert_eq!(u64::from(ov.block_size), bs);
            assert_eq!((ov.data_write_guid(), ov.page83), (iv.data_write_guid(), iv.page83));
        }
        assert_eq!(run_bs(&[&input], 512 << 10, None).map(|_| ()).unwrap_err().code(), "vhdx-block-size");
    }

    #[test]
    fn a_vhd_child_takes_other_blocks_its_bitmaps_gathered() {
        let mut base = DiskBuilder::dynamic(4 << 20, 1 << 20);
        base.write(0, &[1; 16384]).write(2 << 20, &[2; 512]);
        let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 1 << 20);
        // Block 0: sectors 1 to 9 changed, 3 and 4 free; 600 KiB in: one sector rewritten the
        // same; block 1: one changed at its end; block 2: one changed, wholly free.
        child.write(512, &[7; 9 * 512]).write(600 << 10, &[0; 512]).write((2 << 20) - 512, &[3; 512]);
        child.write(2 << 20, &[8; 512]);
        let (b, c) = (base.build(), child.build());
        let free = vec![(1536, 2560), (2 << 20, 3 << 20)];
        let want = parent_where_free(&c, &b, &free);
        // 512 KiB: blocks 0 and 3 (the last sector of 1 MiB to 2 MiB); 2 MiB: block 0 only.
        for (bs, blocks) in [(512 << 10, 2), (2 << 20, 1)] {
            let (out, r) = run_bs(&[&c, &b], bs, Some(free.clone())).unwrap();
            assert!(flatten(&[&out, &b]) == want, "{bs}");
            assert_eq!((r.blocks_before, r.blocks_after, r.sectors_cleared, r.block_size), (3, blocks, 1, bs));
            let (o, i) = (open_layer(&out).unwrap(), open_layer(&c).unwrap());
            assert_eq!(o.link_id(), i.link_id());
            assert!(o.parent_matches(&open_layer(&b).unwrap()));
            // Block 0's bitmap: sectors 1, 2 and 5 to 9 (from the most significant bit), nothing
            // of the rewritten sector; the last sector of the 2 MiB block.
            let at = o.vhd().unwrap().block_offset(0).unwrap() as usize;
            assert_eq!(&out[at..at + 2], &[0b0110_0111, 0b1100_0000]);
            assert!(out[at + 2..at + (bs / 4096) as usize - 1].iter().all(|x| *x == 0), "{bs}");
            assert_eq!(out[at + (bs / 4096) as usize - 1], if bs == 2 << 20 { 1 } else { 0 });
        }
    }

    #[test]
    fn a_vhdx_child_takes_other_blocks_and_its_zero_blocks_read_zero() {
        use crate::image::BlockState;
        // Larger: the zero block 7 joins block 6's data, its zeros present where the parent
        // differs (it holds nothing there: none).
        let (c, b) = vhdx_chain();
        for bs in [2 << 20, 4 << 20] {
            let (out, r) = run_bs(&[&c, &b], bs, None).unwrap();
            assert!(flatten(&[&out, &b]) == flatten(&[&c, &b]), "{bs}");
            assert_eq!((r.blocks_after, r.block_size), (2, bs));
            let o = open_layer(&out).unwrap();
            assert!(o.parent_matches(&open_layer(&b).unwrap()));
            assert_eq!(o.link_id(), [0x77; 16]);
        }
        // Over a parent with data where the zero block lies: its zeros kept, as data.
        let base = crate::vhdx::writer::VhdxBuilder::new(8 << 20).write(0, &[5; 8 << 20]);
        let mut child = crate::vhdx::writer::VhdxBuilder::new(8 << 20).child_of(base.data_write_guid, "base.vhdx");
        child.data_write_guid = crate::vhdx::Guid([0x78; 16]);
        child = child.write(512, &[6; 512]);
        child.states = vec![(1, BlockState::Zero), (4, BlockState::Zero), (5, BlockState::Zero)];
        let (c, b) = (child.build(), base.build());
        let (out, r) = run_bs(&[&c, &b], 2 << 20, None).unwrap();
        assert!(flatten(&[&out, &b]) == flatten(&[&c, &b]));
        assert_eq!(r.blocks_after, 1);
        let o = open_layer(&out).unwrap();
        assert!(matches!(o.block_read(0), BlockRead::Partial { .. }));
        // Blocks 4 and 5, both zero: a zero block of 2 MiB.
        assert_eq!(o.block_read(2), BlockRead::Zero);
        // Wholly free, it is left to the parent.
        let (out, _) = run_bs(&[&c, &b], 2 << 20, Some(vec![(4 << 20, 6 << 20)])).unwrap();
        assert_eq!(open_layer(&out).unwrap().block_read(2), BlockRead::Below);
        // Smaller: a 4 MiB zero block becomes four 1 MiB zero blocks.
        let mut child = crate::vhdx::writer::VhdxBuilder::new(8 << 20).child_of(base.data_write_guid, "base.vhdx");
        child.block_size = 4 << 20;
        child.data_write_guid = crate::vhdx::Guid([0x79; 16]);
        child = child.write(512, &[6; 512]);
        child.states = vec![(1, BlockState::Zero)];
        let c = child.build();
        let (out, r) = run_bs(&[&c, &b], 1 << 20, None).unwrap();
        assert!(flatten(&[&out, &b]) == flatten(&[&c, &b]));
        assert_eq!(r.blocks_after, 1);
        let o = open_layer(&out).unwrap();
        for k in 4..8 {
            assert_eq!(o.block_read(k), BlockRead::Zero, "{k}");
        }
        assert_eq!(o.block_read(1), BlockRead::Below);
    }
}
