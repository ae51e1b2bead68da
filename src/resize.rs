//! `resize`: a copy of a disk file (layer 0) in its own format, type, block size, sector sizes
//! and identity, with another virtual size. A VHD keeps its unique id, time stamp, parent link
//! and locators (its footer's current size and geometry are the new size's:
//! [`crate::vhd::writer::resized_footer`]); a VHDX its `DataWriteGuid`, page 83 id and parent
//! locator, with a new `FileWriteGuid` as every writer gives it. Unlike `compact`, every block
//! the input allocates is copied as it is (a block of zeros stays allocated, a differencing
//! disk's bitmap is kept): a resize changes the size and nothing else. Blocks wholly past the
//! new end are dropped; a block across it is kept whole, its bytes past the end zeros (and, in a
//! differencing disk, their sectors not present). Growing, the new tail reads as zeros: bytes of
//! the input's last block past its old end are written as zeros.
//!
//! Shrinking is refused, before anything is written, when a partition (MBR primaries, the
//! extended container and its logical partitions, GPT entries) or a file system (by its own
//! size: FAT's and NTFS's total sectors, ext's blocks count; a file system filling the disk
//! without a table too) reaches past the new end, or when a GPT would have no room for its
//! backup after its last partition.
//!
//! On a GPT disk (unless [`ResizeOptions::gpt_fix`] is off) the copy's GPT is made whole at the
//! new size: the protective MBR's size, the primary header's `AlternateLBA` and
//! `LastUsableLBA` (and CRC), a backup entry array and header at the new end, and the old
//! backup header and its entry array zeroed where they now lie inside the disk (they become
//! free space, which reads as zeros like the rest of a grown disk's tail, and a stale "EFI
//! PART" in the middle of a disk is what `sgdisk -v` and guests' tools warn of). A damaged GPT
//! (a header or entry array whose CRC is wrong, the primary header unreadable) is not mended
//! silently: the resize is refused with the reason ([`WriteError::GptDamaged`]), and
//! `--no-gpt-fix` copies it as it is. The patched sectors go into the copy: over the data of a
//! block the input allocates (their bits set in a differencing disk), or into a block placed for
//! them (in a differencing disk, with only those sectors present).
//!
//! Steps like [`crate::compact::Compaction`]: [`Resizing`] copies a window of at most 1 MiB per
//! [`Resizing::step`], so that the page can write, show progress and stop between steps;
//! [`resize`] runs it in one call.

use std::collections::BTreeMap;

use crate::bytes::crc32;
use crate::check::Progress;
use crate::compact::{clear, gcd, read, sector_bits};
use crate::error::{Result, WriteError};
use crate::fs::{FileSystem, Volume};
use crate::image::{BlockRead, DiskType};
use crate::newdisk::{finish_into, NewLayout};
use crate::parts::{self, Role, Scheme, Table};
use crate::reader::{DiskReader, ReadAt};
use crate::rules::Writer;
use crate::vhd::writer::WriteAt;
use crate::Disk;

/// What Hyper-V does with a chain whose sizes differ: it refuses it, "The chain of virtual hard
/// disks is corrupted. There is a mismatch in the virtual sizes of the parent virtual hard disk
/// and differencing disk" (0xC03A0017), as Microsoft's support blog shows for a parent
/// expanded under its child ("Avoid expansion if you're snap-happy", 2010,
/// learn.microsoft.com/en-us/archive/blogs/mrsnrub/avoid-expansion-if-youre-snap-happy).
const HYPER_V_SIZES: &str = "Hyper-V refuses a differencing chain whose disks' sizes differ (\"There is a mismatch in the virtual sizes of the parent virtual hard disk and differencing disk\", 0xC03A0017); to run it there, merge the chain (convert) and resize the merged disk";

/// How to resize.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResizeOptions {
    /// Move a GPT's backup entry array and header to the new end and fix the protective MBR's
    /// size (`--no-gpt-fix` turns it off).
    pub gpt_fix: bool,
}

impl Default for ResizeOptions {
    fn default() -> Self {
        ResizeOptions { gpt_fix: true }
    }
}

/// What a resize will do, known before anything is written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ResizePlan {
    /// The copy's format: `vhd` or `vhdx` (the input's).
    pub format: &'static str,
    /// `fixed`, `dynamic` or `differencing` (the input's).
    pub disk_type: &'static str,
    /// The input's virtual size.
    pub old_size: u64,
    /// The copy's virtual size.
    pub new_size: u64,
    /// True when the disk grows (false when it shrinks or keeps its size).
    pub grows: bool,
    /// `mbr`, `gpt` or `none`: the partition table found.
    pub scheme: Scheme,
    /// True when the GPT's backup entry array and header were moved to the new end.
    pub gpt_moved: bool,
    /// Bytes at the end of the copy that no partition (or whole-disk file system) covers, before
    /// a GPT's backup: what a guest can grow its last partition into (0 on a disk with neither
    /// a partition table nor a file system).
    pub unpartitioned_bytes: u64,
    /// What else to know, in plain words.
    pub notes: Vec<String>,
}

/// What a resize wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Resized {
    /// The plan carried out.
    #[serde(flatten)]
    pub plan: ResizePlan,
    /// Blocks allocated in the input (its stretches of 1 MiB for a fixed VHD).
    pub blocks_before: u64,
    /// Blocks placed in the copy.
    pub blocks_after: u64,
    /// The copy's length.
    pub file_len: u64,
}

/// Resizes layer 0 of `disk` (read from `sources`, its parents after it) to `size` bytes into
/// `out`, which must start empty.
pub fn resize(
    disk: &Disk,
    sources: &[&dyn ReadAt],
    size: u64,
    options: ResizeOptions,
    out: &mut dyn WriteAt,
    progress: Progress<'_>,
) -> Result<Resized> {
    let mut r = Resizing::new(disk, sources, size, options)?;
    while r.step(sources, out)? {
        let (done, total) = r.progress();
        progress(done, total);
    }
    r.finish(out)
}

/// The block being copied.
struct Current {
    block: u64,
    /// Where its data starts in the input file; none for a block placed for patched sectors
    /// only, or a zero block, read as zeros.
    data: Option<u64>,
    /// A differencing disk's sectors present in the copy (one bit per sector from the least
    /// significant bit of each byte).
    bits: Vec<u8>,
    /// Where its data goes in the copy.
    at: u64,
    /// Bytes of it gone through.
    w: u64,
}

/// A resize in progress, a window of at most 1 MiB per [`Resizing::step`]; see the module
/// documentation.
pub struct Resizing {
    plan: ResizePlan,
    /// The layer copied.
    layer: crate::layer::Layer,
    layout: Box<dyn NewLayout>,
    block_size: u64,
    /// Bytes per bit of a block's sector bitmap.
    sector: u64,
    /// The input's bytes kept: the smaller of the two sizes.
    keep: u64,
    /// The input's blocks that hold its bytes (past them only patched blocks are placed).
    in_blocks: u64,
    /// A fixed VHD: its bytes from the file's start, no block table.
    flat: bool,
    differencing: bool,
    /// The sectors the copy holds other than the input (the GPT fix), by virtual offset.
    patches: BTreeMap<u64, Vec<u8>>,
    window: u64,
    data: Vec<u8>,
    next: u64,
    current: Option<Current>,
    done: u64,
    total: u64,
    blocks_before: u64,
}

/// The size asked for, checked for the layer's format.
fn check_size(layer: &crate::layer::Layer, size: u64) -> Result<()> {
    let ss = layer.logical_sector_size();
    let (max, format) = layer.size_limit();
    if size == 0 || size % u64::from(ss) != 0 || size > max {
        return Err(WriteError::ResizeSize { size, sector_size: ss, max, format }.into());
    }
    Ok(())
}

impl Resizing {
    /// Plans the resize of layer 0 of `disk` (its parents after it, read from `sources`) to
    /// `size` bytes: reads the partition table and file systems through the chain, refuses a
    /// shrink that would cut one, and works out the GPT's new sectors. Nothing is written.
    pub fn new(disk: &Disk, sources: &[&dyn ReadAt], size: u64, options: ResizeOptions) -> Result<Resizing> {
        Writer::Resize.accepts(disk)?;
        let layer = &disk.layers[0];
        check_size(layer, size)?;
        let old = layer.size();
        let mut reader = DiskReader::new(disk, sources.to_vec())?;
        let table = parts::read(&mut reader)?;
        let ss = u64::from(layer.logical_sector_size());
        let mut notes = Vec::new();
        let gpt = match table.scheme {
            Scheme::Gpt => match Gpt::read(&mut reader, ss, old)? {
                Ok(g) => Some(g),
                Err(e) if options.gpt_fix => return Err(e.into()),
                Err(_) => None,
            },
            _ => None,
        };
        let ends = Ends::of(&mut reader, &table)?;
        if size < old {
            ends.refuse_past(size, gpt.as_ref().filter(|_| options.gpt_fix))?;
        }
        let mut patches = BTreeMap::new();
        let mut gpt_moved = false;
        let mut usable_end = size;
        match &gpt {
            Some(g) if options.gpt_fix => {
                g.patch(&mut reader, size, &mut patches)?;
                gpt_moved = true;
                usable_end = g.usable_end(size);
            }
            _ if table.scheme != Scheme::Gpt || size == old => {}
            _ if size > old => notes.push(
                "the GPT was left as it is (--no-gpt-fix): its backup header stays at the old end, now in the middle of the disk, and the protective MBR and the primary header still give the old size; the guest's tools (or `sgdisk -e`) move it".into(),
            ),
            _ => notes.push(
                "the GPT was left as it is (--no-gpt-fix): its backup entry array and header, at the old end, are gone, and the primary header still names them; the guest's tools (or `sgdisk -e`) write them again".into(),
            ),
        }
        let unpartitioned_bytes = match table.scheme {
            Scheme::None if ends.last() == 0 => 0,
            _ => usable_end.saturating_sub(ends.last()),
        };
        if size > old && unpartitioned_bytes > 0 && ends.last() > 0 {
            notes.push(format!(
                "{} of unpartitioned space at the end; grow the partition inside the guest (diskpart extend / growpart / resize2fs)",
                crate::values::human_size(unpartitioned_bytes)
            ));
        }
        if layer.creator_misread_at(size) {
            notes.push(format!(
                "the footer's creator \"{}\" makes qemu-img size the disk by its CHS geometry, which cannot give {size} bytes: the copy names this program as its creator, so that qemu-img reads its current size",
                layer.creator()
            ));
        }
        if layer.disk_type() == DiskType::Differencing {
            let parent = disk.layers.get(1).map_or(0, |p| p.size());
            if size > parent {
                // Measured: 7-Zip 26.02 stops with "Unexpected end of data" (qemu-img does not
                // follow a VHD's parent, nor open a differencing VHDX, so it has no say).
                notes.push(format!(
                    "the copy is larger than its parent ({parent} bytes): past the parent's end the chain reads as zeros (as this viewer reads it; 7-Zip refuses such a chain with \"Unexpected end of data\"), and `check` warns that the sizes differ"
                ));
            } else if size != parent {
                notes.push(format!("the copy's size is not its parent's ({parent} bytes): `check` warns that the sizes differ"));
            }
            if size != parent {
                notes.push(HYPER_V_SIZES.into());
            }
        } else if size != old {
            notes.push(format!(
                "the copy keeps the disk's {}, so a differencing disk made from the original links to the copy too, and its size then no longer matches: {HYPER_V_SIZES}",
                layer.link_id_name()
            ));
        }
        let layout = layer.copy_layout(None, Some(size))?;
        let block_size = layout.block_size();
        // A fixed VHD has no block table: its data is in place.
        let flat = layer.bat_range().is_none();
        let keep = old.min(size);
        let in_blocks = keep.div_ceil(block_size);
        let blocks_before = if flat { old.div_ceil(block_size) } else { layer.allocated_blocks() };
        // Progress counts the blocks of the input's kept bytes and the patched blocks past them.
        let patched_past = {
            let mut b: Vec<u64> = patches.keys().map(|at| at / block_size).filter(|b| *b >= in_blocks).collect();
            b.dedup();
            b.len() as u64
        };
        let window = gcd(block_size, crate::convert::BUF as u64);
        let plan = ResizePlan {
            format: layout.format(),
            disk_type: layer.disk_type().name(),
            old_size: old,
            new_size: size,
            grows: size > old,
            scheme: table.scheme,
            gpt_moved,
            unpartitioned_bytes,
            notes,
        };
        Ok(Resizing {
            plan,
            layer: layer.clone(),
            sector: layout.sector_size(),
            layout,
            block_size,
            keep,
            in_blocks,
            flat,
            differencing: layer.disk_type() == DiskType::Differencing,
            patches,
            window,
            data: vec![0u8; window as usize],
            next: 0,
            current: None,
            done: 0,
            total: in_blocks + patched_past,
            blocks_before,
        })
    }

    /// What the resize does: sizes, the GPT moved, the unpartitioned space, notes.
    pub fn plan(&self) -> &ResizePlan {
        &self.plan
    }

    /// Blocks gone through, and blocks to go through in all (the blocks of the input's bytes
    /// kept, and those placed past them for the GPT's backup).
    pub fn progress(&self) -> (u64, u64) {
        (self.done.min(self.total), self.total)
    }

    /// True when a patched sector lies in block `b`.
    fn patched(&self, b: u64) -> bool {
        self.patches.range(b * self.block_size..(b + 1) * self.block_size).next().is_some()
    }

    /// The next block to copy, placed; false when none is left.
    fn next_block(&mut self, sources: &[&dyn ReadAt], out: &mut dyn WriteAt) -> Result<bool> {
        let layer_blocks = self.layout.blocks();
        let per = (self.block_size / self.sector).div_ceil(8) as usize;
        while self.next < layer_blocks {
            let mut block = self.next;
            if block >= self.in_blocks {
                // Past the input's bytes: only blocks with patched sectors.
                match self.patches.range(block * self.block_size..).next() {
                    Some((at, _)) if at / self.block_size < layer_blocks => block = at / self.block_size,
                    _ => break,
                }
            }
            self.next = block + 1;
            let patched = self.patched(block);
            let read = if self.flat {
                if block < self.in_blocks {
                    BlockRead::Data(block * self.block_size)
                } else {
                    BlockRead::Below
                }
            } else if block < self.in_blocks {
                self.layer.block_read(block)
            } else {
                BlockRead::Below
            };
            let (data, bits) = match read {
                BlockRead::Below if !patched => continue,
                BlockRead::Zero if !patched => {
                    self.layout.set_zero(block, out)?;
                    continue;
                }
                // Only the patched sectors present over the parent; every sector of a disk
                // without one (the layout keeps no bits then).
                BlockRead::Below if self.differencing => (None, vec![0; per]),
                BlockRead::Below | BlockRead::Zero => (None, vec![0xff; per]),
                BlockRead::Data(d) => (Some(d), vec![0xff; per]),
                BlockRead::Partial { data, bitmap } => (Some(data), sector_bits(&self.layer, sources[0], bitmap, per)?),
            };
            let at = self.layout.place(block, out)?;
            self.current = Some(Current { block, data, bits, at, w: 0 });
            return Ok(true);
        }
        self.next = layer_blocks;
        self.done = self.total;
        Ok(false)
    }

    /// Copies the next window of the next block, reading layer `i` of the disk from
    /// `sources[i]`. False when every block was copied.
    pub fn step(&mut self, sources: &[&dyn ReadAt], out: &mut dyn WriteAt) -> Result<bool> {
        if self.current.is_none() && !self.next_block(sources, out)? {
            return Ok(false);
        }
        let Some(mut cur) = self.current.take() else { return Ok(true) };
        let (window, ss) = (self.window, self.sector);
        let v = cur.block * self.block_size + cur.w;
        // The input's bytes of the window, zeros past the smaller size.
        self.data.fill(0);
        let n = self.keep.saturating_sub(v).min(window) as usize;
        if let (Some(d), true) = (cur.data, n > 0) {
            read(sources[0], d + cur.w, &mut self.data[..n])?;
        }
        for s in (n as u64).div_ceil(ss)..window / ss {
            if self.differencing {
                clear(&mut cur.bits, cur.w / ss + s);
            }
        }
        let mut any = cur.data.is_some();
        for (at, bytes) in self.patches.range(v..v + window) {
            let o = (at - v) as usize;
            self.data[o..o + bytes.len()].copy_from_slice(bytes);
            let s = cur.w / ss + (at - v) / ss;
            if let Some(b) = cur.bits.get_mut((s / 8) as usize) {
                *b |= 1 << (s % 8);
            }
            any = true;
        }
        if any {
            out.write_at(cur.at + cur.w, &self.data[..window as usize])?;
        }
        cur.w += window;
        if cur.w < self.block_size {
            self.current = Some(cur);
        } else {
            if self.differencing {
                self.layout.set_sectors(cur.block, &cur.bits, out)?;
            }
            self.done = if cur.block < self.in_blocks { cur.block + 1 } else { self.done + 1 };
        }
        Ok(true)
    }

    /// Writes the copy's closing structures (after the last step): a VHD's footers, header,
    /// parent locators and BAT; a VHDX's identifier, headers, region tables, metadata and BAT.
    pub fn finish(self, out: &mut dyn WriteAt) -> Result<Resized> {
        finish_into(self.layout.as_ref(), out)?;
        Ok(Resized {
            blocks_before: self.blocks_before,
            blocks_after: self.layout.placed(),
            file_len: self.layout.file_len(),
            plan: self.plan,
        })
    }
}

/// Little-endian fields of a sector.
fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap_or_default())
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or_default())
}

fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// Stores a GPT header's CRC-32 (over its first `size` bytes, the field zero while counted).
fn seal(h: &mut [u8], size: usize) {
    h[16..20].fill(0);
    let crc = crc32(&h[..size]);
    h[16..20].copy_from_slice(&crc.to_le_bytes());
}

/// The largest GPT entry array read (4096 entries of at most 4096 bytes).
const MAX_ARRAY: u64 = parts::MAX_GPT_ENTRIES as u64 * 4096;

/// A whole GPT (UEFI 2.10, 5.3): the protective MBR, the primary header and its entry array,
/// checked as a resize needs them.
struct Gpt {
    /// Bytes per logical sector (the unit of its LBAs).
    ss: u64,
    /// Sector 0.
    mbr: Vec<u8>,
    /// Sector 1, the primary header.
    header: Vec<u8>,
    /// The header's own size (`HeaderSize`).
    header_size: usize,
    first_usable: u64,
    last_usable: u64,
    /// `AlternateLBA`: where the backup header is.
    alternate: u64,
    /// The entry array's bytes.
    entries: Vec<u8>,
    /// Sectors the entry array takes.
    array_sectors: u64,
}

impl Gpt {
    /// Reads and checks the GPT of a disk of `size` bytes; the inner error says why it is
    /// damaged.
    fn read(reader: &mut DiskReader<'_>, ss: u64, size: u64) -> Result<std::result::Result<Gpt, WriteError>> {
        let damaged = |at: u64, why: String| Ok(Err(WriteError::GptDamaged { at, why }));
        let mut mbr = vec![0u8; ss as usize];
        reader.read(0, &mut mbr)?;
        let mut header = vec![0u8; ss as usize];
        reader.read(ss, &mut header)?;
        if &header[..8] != b"EFI PART" {
            return damaged(ss, "sector 1 does not start with \"EFI PART\": the primary header is missing".into());
        }
        let header_size = le32(&header, 12) as usize;
        if !(92..=ss as usize).contains(&header_size) {
            return damaged(ss + 12, format!("the primary header's size is {header_size} bytes, not from 92 to {ss}"));
        }
        let mut h = header.clone();
        seal(&mut h, header_size);
        if h[16..20] != header[16..20] {
            return damaged(ss + 16, format!("the primary header's CRC-32 is wrong (stored {:08x})", le32(&header, 16)));
        }
        if le64(&header, 24) != 1 {
            return damaged(ss + 24, format!("the primary header names sector {} as its own, not 1", le64(&header, 24)));
        }
        let (count, entry_size) = (u64::from(le32(&header, 80)), u64::from(le32(&header, 84)));
        if entry_size < 128 || entry_size % 8 != 0 || count.saturating_mul(entry_size) > MAX_ARRAY {
            return damaged(ss + 80, format!("{count} entries of {entry_size} bytes are not an entry array this viewer writes"));
        }
        let entries_lba = le64(&header, 72);
        let bytes = count * entry_size;
        let array_sectors = bytes.div_ceil(ss);
        if entries_lba < 2 || entries_lba.saturating_add(array_sectors).saturating_mul(ss) > size {
            return damaged(ss + 72, format!("the entry array at sector {entries_lba} lies outside the disk"));
        }
        let mut entries = vec![0u8; bytes as usize];
        reader.read(entries_lba * ss, &mut entries)?;
        if crc32(&entries) != le32(&header, 88) {
            return damaged(entries_lba * ss, format!("the entry array's CRC-32 is wrong (the header says {:08x})", le32(&header, 88)));
        }
        let (first_usable, last_usable, alternate) = (le64(&header, 40), le64(&header, 48), le64(&header, 32));
        Ok(Ok(Gpt { ss, mbr, header, header_size, first_usable, last_usable, alternate, entries, array_sectors }))
    }

    /// Where the usable sectors end (the backup entry array starts) on a disk of `size` bytes.
    fn usable_end(&self, size: u64) -> u64 {
        (size / self.ss).saturating_sub(1 + self.array_sectors) * self.ss
    }

    /// The smallest disk whose usable sectors reach `end` (bytes), with the backup after them.
    fn min_size(&self, end: u64) -> u64 {
        let used = end.div_ceil(self.ss).max(self.first_usable);
        (used + self.array_sectors + 1) * self.ss
    }

    /// The sectors of the GPT made whole on a disk of `size` bytes, into `patches`: the
    /// protective MBR's size, the primary header, the old backup zeroed where it lies inside
    /// the disk, the backup entry array and header at the new end.
    fn patch(&self, reader: &mut DiskReader<'_>, size: u64, patches: &mut BTreeMap<u64, Vec<u8>>) -> Result<()> {
        let ss = self.ss;
        let last = size / ss - 1;
        let array = last - self.array_sectors;
        // The old backup header (and its entry array, past the partitions), if it is one.
        if self.alternate > 1 && self.alternate < last {
            let mut old = vec![0u8; ss as usize];
            reader.read(self.alternate * ss, &mut old)?;
            if &old[..8] == b"EFI PART" && le64(&old, 24) == self.alternate {
                patches.insert(self.alternate * ss, vec![0; ss as usize]);
                let at = le64(&old, 72);
                if at > self.last_usable && at.saturating_add(self.array_sectors) <= self.alternate {
                    for s in at..at + self.array_sectors {
                        patches.insert(s * ss, vec![0; ss as usize]);
                    }
                }
            }
        }
        let mut mbr = self.mbr.clone();
        for i in 0..4 {
            let e = 0x1BE + 16 * i;
            if mbr[e + 4] == 0xEE {
                mbr[e + 12..e + 16].copy_from_slice(&(last.min(0xFFFF_FFFF) as u32).to_le_bytes());
            }
        }
        patches.insert(0, mbr);
        let mut primary = self.header.clone();
        put64(&mut primary, 32, last);
        put64(&mut primary, 48, array - 1);
        seal(&mut primary, self.header_size);
        let mut backup = primary.clone();
        put64(&mut backup, 24, last);
        put64(&mut backup, 32, 1);
        put64(&mut backup, 72, array);
        seal(&mut backup, self.header_size);
        patches.insert(ss, primary);
        let mut entries = self.entries.clone();
        entries.resize((self.array_sectors * ss) as usize, 0);
        for (i, sector) in entries.chunks(ss as usize).enumerate() {
            patches.insert((array + i as u64) * ss, sector.to_vec());
        }
        patches.insert(last * ss, backup);
        Ok(())
    }
}

/// Where the disk's partitions and file systems end.
struct Ends {
    /// Each partition (not a whole-disk volume): its number, whether it is an MBR's extended
    /// container, its end (virtual bytes).
    partitions: Vec<(u32, bool, u64)>,
    /// Each file system read: its partition's number (none for one filling the disk), its
    /// kind, its end by its own size.
    filesystems: Vec<(Option<u32>, &'static str, u64)>,
}

impl Ends {
    /// Reads the file systems of `table`'s partitions.
    fn of(reader: &mut DiskReader<'_>, table: &Table) -> Result<Ends> {
        let mut ends = Ends { partitions: Vec::new(), filesystems: Vec::new() };
        for p in &table.partitions {
            let end = p.offset().saturating_add(p.len());
            if p.role != Role::Whole {
                ends.partitions.push((p.index, p.role == Role::Extended, end));
            }
            if p.role == Role::Extended || p.is_empty() {
                continue;
            }
            let mut vol = Volume::new(&mut *reader, p.offset(), p.len());
            let number = (p.role != Role::Whole).then_some(p.index);
            match FileSystem::open(&mut vol) {
                Ok(Some(fs)) => ends.filesystems.push((number, fs.kind().name(), p.offset().saturating_add(fs.volume_size()))),
                // A file system filling the disk that cannot be read (exFAT, damaged) is taken
                // to fill it; in a partition, the partition bounds it.
                _ if p.role == Role::Whole => ends.filesystems.push((None, p.filesystem.map_or("unknown", |k| k.name()), end)),
                _ => {}
            }
        }
        Ok(ends)
    }

    /// The end of the last partition (or whole-disk file system).
    fn last(&self) -> u64 {
        let p = self.partitions.iter().map(|p| p.2).max().unwrap_or(0);
        p.max(self.filesystems.iter().filter(|f| f.0.is_none()).map(|f| f.2).max().unwrap_or(0))
    }

    /// Refuses `size` when something ends past it (with `gpt`, when its backup has no room).
    fn refuse_past(&self, size: u64, gpt: Option<&Gpt>) -> Result<()> {
        let reach = self.partitions.iter().map(|p| p.2).chain(self.filesystems.iter().map(|f| f.2)).max().unwrap_or(0);
        let min = gpt.map_or(reach, |g| g.min_size(reach)).max(reach);
        if let Some(&(partition, extended, end)) = self.partitions.iter().find(|p| p.2 > size) {
            return Err(WriteError::ShrinkPastPartition { partition, extended, end, size, min }.into());
        }
        if let Some(&(partition, filesystem, end)) = self.filesystems.iter().find(|f| f.2 > size) {
            return Err(WriteError::ShrinkPastFileSystem { partition, filesystem, end, size, min }.into());
        }
        if let Some(g) = gpt.filter(|_| size < min) {
            let end = reach.max(g.first_usable * g.ss);
            return Err(WriteError::ShrinkPastGpt { end, backup: (g.array_sectors + 1) * g.ss, size, min }.into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::BlockState;
    use crate::reader::flatten;
    use crate::reader::open_layer;
    use crate::vhd::writer::DiskBuilder;
    use crate::vhdx::writer::VhdxBuilder;

    fn run(files: &[&Vec<u8>], size: u64) -> Result<(Vec<u8>, Resized)> {
        let disk = Disk::new(files.iter().map(|f| open_layer(*f).unwrap()).collect(), false).unwrap();
        let sources: Vec<&dyn ReadAt> = files.iter().map(|f| *f as &dyn ReadAt).collect();
        let mut out = Vec::new();
        let mut seen = (0, 0);
        let r = resize(&disk, &sources, size, ResizeOptions::default(), &mut out, &mut |d, t| {
            assert!(d >= seen.0 && d <= t, "progress {d} of {t} after {seen:?}");
            seen = (d, t);
        })?;
        assert_eq!(out.len() as u64, r.file_len);
        let layer = open_layer(&out).unwrap();
        let bad: Vec<_> = layer.findings.iter().filter(|f| f.severity > crate::Severity::Info).collect();
        assert!(bad.is_empty(), "{bad:?}");
        Ok((out, r))
    }

    #[test]
    fn a_dynamic_vhd_grows_with_zeros_past_its_old_end_and_shrinks_dropping_blocks() {
        let size = 5 * (1 << 20) + 1536;
        let mut d = DiskBuilder::dynamic(size, 2 << 20);
        d.write(0, &[1; 4096]).write(3 << 20, &[2; 512]).write(size - 1024, &[3; 1024]);
        let mut input = d.build();
        // Bytes in the last block past the disk's end (not read until it grows): must not show.
        let v = open_layer(&input).unwrap();
        let last = v.vhd().unwrap().block_offset(2).unwrap() as usize + v.vhd().unwrap().block_geometry().unwrap().bitmap_size as usize;
        input[last + (size as usize - (4 << 20))..last + (2 << 20)].fill(9);
        let want = flatten(&[&input]);
        let (out, r) = run(&[&input], 8 << 20).unwrap();
        let got = flatten(&[&out]);
        assert!(got[..size as usize] == want[..] && got[size as usize..].iter().all(|b| *b == 0));
        assert_eq!((r.plan.grows, r.blocks_before, r.blocks_after, r.plan.scheme), (true, 3, 3, Scheme::None));
        let o = open_layer(&out).unwrap();
        assert_eq!((o.size(), o.link_id(), o.block_size()), (8 << 20, open_layer(&input).unwrap().link_id(), Some(2 << 20)));
        // The original size kept, the geometry the new size's.
        let f = &o.vhd().unwrap().footer.value;
        assert_eq!((f.original_size, f.geometry), (size, crate::vhd::geometry::Geometry::for_size(8 << 20)));
        // Shrunk to 3 MiB: block 2 dropped, block 1 kept whole (its bytes past the end zeros).
        let (out, r) = run(&[&input], 3 << 20).unwrap();
        assert!(flatten(&[&out])[..] == want[..3 << 20]);
        assert_eq!((r.plan.grows, r.blocks_after), (false, 2));
    }

    #[test]
    fn a_vhd_child_keeps_its_bitmaps_and_a_vhdx_child_its_zero_blocks() {
        let mut base = DiskBuilder::dynamic(4 << 20, 1 << 20);
        base.write(0, &[1; 16384]);
        let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 1 << 20);
        // A sector rewritten the same (kept: a resize is no compaction), one changed.
        child.write(512, &[1; 512]).write(4096, &[7; 512]);
        let (b, c) = (base.build(), child.build());
        let (out, r) = run(&[&c, &b], 6 << 20).unwrap();
        let want = flatten(&[&c, &b]);
        let got = flatten(&[&out, &b]);
        assert!(got[..4 << 20] == want[..] && got[4 << 20..].iter().all(|x| *x == 0));
        assert_eq!(r.blocks_after, 1);
        let bits = |f: &Vec<u8>| {
            let l = open_layer(f).unwrap();
            let at = l.vhd().unwrap().block_offset(0).unwrap() as usize;
            f[at..at + 256].to_vec()
        };
        assert_eq!(bits(&out), bits(&c));
        assert!(r.plan.notes.iter().any(|n| n.contains("larger than its parent")), "{:?}", r.plan.notes);
        // A VHDX child's zero block stays zero, its partial block partial.
        let base = VhdxBuilder::new(8 << 20).write(0, &[5; 8 << 20]);
        let mut child = VhdxBuilder::new(8 << 20).child_of(base.data_write_guid, "base.vhdx").write(512, &[6; 512]);
        child.data_write_guid = crate::vhdx::Guid([0x78; 16]);
        child.states = vec![(3, BlockState::Zero), (7, BlockState::Zero)];
        let (c, b) = (child.build(), base.build());
        let (out, r) = run(&[&c, &b], 7 << 20).unwrap();
        let o = open_layer(&out).unwrap();
        assert_eq!(o.block_read(3), BlockRead::Zero);
        assert!(matches!(o.block_read(0), BlockRead::Partial { .. }));
        assert_eq!((o.size(), r.blocks_after), (7 << 20, 1));
        assert!(flatten(&[&out, &b])[..] == flatten(&[&c, &b])[..7 << 20]);
    }

    #[test]
    fn a_vhdx_grown_to_2_tib_reads_only_its_blocks() {
        let mut b = VhdxBuilder::new(64 << 20).write(0, &[1; 4096]).write(40 << 20, &[2; 4096]);
        b.block_size = 32 << 20;
        let input = b.build();
        let counted = crate::reader::Counting::new(input.clone());
        let disk = Disk::new(vec![open_layer(&input).unwrap()], false).unwrap();
        let mut out = Vec::new();
        let mut r = Resizing::new(&disk, &[&counted], 2 << 40, ResizeOptions::default()).unwrap();
        let mut steps = 0;
        while r.step(&[&counted], &mut out).unwrap() {
            steps += 1;
        }
        assert_eq!(r.progress(), (2, 2));
        let done = r.finish(&mut out).unwrap();
        // Two blocks of 32 MiB, a window of 1 MiB a step; read: the two blocks and the first
        // sectors the table and file system probes look at.
        assert_eq!((steps, done.blocks_after), (64, 2));
        assert!(counted.bytes() < (64 << 20) + (1 << 20), "{}", counted.bytes());
        let o = open_layer(&out).unwrap();
        assert_eq!(o.size(), 2 << 40);
    }

    #[test]
    fn a_shrink_past_an_mbr_partition_is_refused_naming_it() {
        let mut mbr = vec![0u8; 512];
        // Partition 1 from sector 2048, 4096 sectors: it ends at 3 MiB.
        mbr[0x1BE + 4] = 0x83;
        mbr[0x1BE + 8..0x1BE + 12].copy_from_slice(&2048u32.to_le_bytes());
        mbr[0x1BE + 12..0x1BE + 16].copy_from_slice(&4096u32.to_le_bytes());
        mbr[510..].copy_from_slice(&[0x55, 0xAA]);
        let mut d = DiskBuilder::dynamic(8 << 20, 1 << 20);
        d.write(0, &mbr).write(2 << 20, &[4; 512]);
        let input = d.build();
        let e = run(&[&input], 2 << 20).map(|_| ()).unwrap_err();
        assert_eq!(e, WriteError::ShrinkPastPartition { partition: 1, extended: false, end: 3 << 20, size: 2 << 20, min: 3 << 20 }.into());
        let (out, r) = run(&[&input], 3 << 20).unwrap();
        assert!(flatten(&[&out])[..] == flatten(&[&input])[..3 << 20]);
        assert_eq!((r.plan.scheme, r.plan.unpartitioned_bytes), (Scheme::Mbr, 0));
        let (_, r) = run(&[&input], 10 << 20).unwrap();
        assert_eq!(r.plan.unpartitioned_bytes, 7 << 20);
        assert_eq!(run(&[&input], (3 << 20) + 100).map(|_| ()).unwrap_err().code(), "resize-size");
    }
}
