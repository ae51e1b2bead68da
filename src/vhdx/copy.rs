//! A VHDX copied in its own layout, its structures written anew: what `relink` and `repair`
//! write for a VHDX. Every payload and sector bitmap block the copy's BAT names is copied to the
//! same file offset, a window of at most 1 MiB per [`VhdxCopy::step`]; a dirty log's writes
//! (data and zero descriptors) are applied at their file offsets as they are copied, found by
//! the same replay the opener runs in memory ([`super::log::replay`]); then [`VhdxCopy::finish`]
//! writes the header section (the file type identifier, both headers with sequence numbers moved
//! on, a new `FileWriteGuid` and `LogGuid` zero, both region tables), the metadata region and the
//! BAT. The log region is left zero: nothing is to be replayed in the copy.

use super::encode::{self, HeaderFields};
use super::format::{bat_parts, metadata_off, HEADER_OFFSETS, KIB64, MIB, REGION_BAT, REGION_METADATA, REGION_TABLE_OFFSETS};
use super::log::{replay, Write};
use super::open::patched;
use super::Vhdx;
use crate::error::{Result, WriteError};
use crate::image::ByteRange;
use crate::image::{ReadAt, WriteAt, BUF};
use crate::plan::bit_lsb;

/// The log's writes a copy applies: the active sequence of a dirty log that the opener replayed
/// (read again from `src`), or none.
pub fn log_writes(v: &Vhdx, src: &dyn ReadAt) -> Result<Vec<(u64, Write)>> {
    let h = v.header();
    if !v.log.replayed {
        return Ok(Vec::new());
    }
    let mut log = vec![0u8; h.log_length as usize];
    src.read_at(h.log_offset, &mut log)?;
    // The opener replayed these bytes already: they verify.
    Ok(replay(&log, h.log_offset, h.log_guid).map(|r| r.writes).unwrap_or_default())
}

/// The bytes of the metadata region, as stored with the log's `writes` applied.
pub fn metadata_region(v: &Vhdx, src: &dyn ReadAt, writes: &[(u64, Write)]) -> Result<Vec<u8>> {
    let r = &v.metadata_region;
    let mut b = vec![0u8; r.length as usize];
    src.read_at(r.file_offset, &mut b)?;
    Ok(patched(&b, r.file_offset, writes).into_owned())
}

/// The metadata region `region` of `v` with the parent locator item's bytes replaced by
/// `locator` (added when it has none): the items laid out again one after another past the
/// table, in the table's order, each at a multiple of 8 bytes.
pub fn with_parent_locator(v: &Vhdx, region: &[u8], locator: Vec<u8>) -> Result<Vec<u8>> {
    use metadata_off as o;
    let id = super::format::ITEM_PARENT_LOCATOR;
    let mut items: Vec<(usize, Vec<u8>)> =
        v.items.iter().map(|i| (i.entry.index, if i.entry.item_id == id { locator.clone() } else { i.bytes.clone() })).collect();
    let mut out = vec![0u8; region.len()];
    let table = (KIB64 as usize).min(region.len());
    out[..table].copy_from_slice(&region[..table]);
    if !v.items.iter().any(|i| i.entry.item_id == id) {
        // A new entry after the others: the parent locator, IsRequired.
        let k = v.metadata_table.value.entries.len();
        let at = o::ENTRIES + o::ENTRY_SIZE * k;
        if at + o::ENTRY_SIZE > table {
            return Err(WriteError::MetadataFull { offset: v.metadata_region.file_offset, need: at as u64 + 32, len: table as u64 }.into());
        }
        out[at..at + 16].copy_from_slice(&id.0);
        out[at + 24..at + 28].copy_from_slice(&4u32.to_le_bytes());
        out[o::ENTRY_COUNT..o::ENTRY_COUNT + 2].copy_from_slice(&(k as u16 + 1).to_le_bytes());
        items.push((k, locator));
    }
    let need = KIB64 + items.iter().map(|(_, b)| b.len().div_ceil(8) as u64 * 8).sum::<u64>();
    if need > region.len() as u64 {
        return Err(WriteError::MetadataFull { offset: v.metadata_region.file_offset, need, len: region.len() as u64 }.into());
    }
    let mut next = KIB64 as usize;
    for (k, bytes) in items {
        let e = o::ENTRIES + o::ENTRY_SIZE * k;
        let (offset, len) = if bytes.is_empty() { (0, 0) } else { (next, bytes.len()) };
        out[e + 16..e + 20].copy_from_slice(&(offset as u32).to_le_bytes());
        out[e + 20..e + 24].copy_from_slice(&(len as u32).to_le_bytes());
        out[offset..offset + len].copy_from_slice(&bytes);
        next += len.div_ceil(8) * 8;
    }
    Ok(out)
}

/// The block being copied: where, its length, the bytes gone through, and for `--scrub` the
/// sector bitmap of a partially present block.
struct Piece {
    at: u64,
    len: u64,
    done: u64,
    bitmap: Option<Vec<u8>>,
}

/// A VHDX copy in progress.
pub struct VhdxCopy {
    /// The copy's BAT.
    bat: Vec<u64>,
    /// Payload blocks per sector bitmap block.
    chunk_ratio: u64,
    block_size: u64,
    sector_size: u64,
    /// Regions other than the BAT and the metadata region, copied as stored.
    extra: Vec<ByteRange>,
    writes: Vec<(u64, Write)>,
    scrub: bool,
    /// The structures written last: (offset, bytes).
    structures: Vec<(u64, Vec<u8>)>,
    src_len: u64,
    file_len: u64,
    /// The next region of `extra`, then the next BAT entry, to look at.
    next_extra: usize,
    next: usize,
    current: Option<Piece>,
    buf: Vec<u8>,
    done: u64,
    total: u64,
    scrubbed: u64,
}

impl VhdxCopy {
    /// Plans the copy of `v` (a file of `src_len` bytes) with `bat` as its BAT, `metadata` as its
    /// metadata region's bytes and the log's `writes` applied; with `scrub`, the sectors of a
    /// partially present block that its bitmap does not mark present are written as zeros.
    pub fn new(v: &Vhdx, src_len: u64, bat: Vec<u64>, metadata: Vec<u8>, writes: Vec<(u64, Write)>, scrub: bool) -> VhdxCopy {
        let h = v.header();
        let table = &v.region_tables[v.current_region_table].value;
        let extra: Vec<ByteRange> = table
            .entries
            .iter()
            .filter(|e| e.guid != REGION_BAT && e.guid != REGION_METADATA)
            .map(|e| ByteRange::new(e.file_offset, u64::from(e.length)))
            .filter(|r| r.end() <= src_len && r.offset >= MIB)
            .collect();
        let mut c = VhdxCopy {
            chunk_ratio: v.chunk_ratio.max(1),
            block_size: u64::from(v.block_size),
            sector_size: u64::from(v.logical_sector_size.max(1)),
            extra,
            writes,
            scrub: scrub && v.has_parent,
            structures: Vec::new(),
            src_len,
            file_len: src_len,
            next_extra: 0,
            next: 0,
            current: None,
            buf: vec![0u8; BUF],
            done: 0,
            total: 0,
            scrubbed: 0,
            bat,
        };
        c.total = c.extra.len() as u64 + (0..c.bat.len()).filter(|i| c.block_at(*i).is_some()).count() as u64;
        // The header section: the identifier as stored, both headers, both region tables.
        let mut identifier = v.identifier.value.raw.clone();
        identifier.resize(KIB64 as usize, 0);
        c.structures.push((0, identifier));
        let file_write_guid = encode::next_file_write_guid(h.file_write_guid, h.sequence_number);
        for (k, at) in HEADER_OFFSETS.into_iter().enumerate() {
            let f = HeaderFields {
                sequence_number: h.sequence_number.saturating_add(1 + k as u64),
                file_write_guid,
                data_write_guid: h.data_write_guid,
                log_guid: super::Guid::default(),
                log_length: h.log_length,
                log_offset: h.log_offset,
            };
            c.structures.push((at, encode::header(&f)));
        }
        let regions = encode::region_table(&table.entries);
        for at in REGION_TABLE_OFFSETS {
            c.structures.push((at, regions.clone()));
        }
        c.structures.push((v.metadata_region.file_offset, metadata));
        // The entries read (at most MAX_BAT_ENTRIES); the rest of the region (inside the input,
        // as the opener checked) is left zero.
        c.structures.push((v.bat_region.file_offset, c.bat.iter().flat_map(|e| e.to_le_bytes()).collect()));
        c
    }

    /// True when BAT entry `i` is a sector bitmap entry.
    fn is_bitmap(&self, i: usize) -> bool {
        (i as u64 + 1) % (self.chunk_ratio + 1) == 0
    }

    /// Where BAT entry `i`'s block is and how long, when the copy holds it: a payload block
    /// fully or partially present, a sector bitmap block present, that starts inside the input.
    fn block_at(&self, i: usize) -> Option<ByteRange> {
        let (state, _, mb) = bat_parts(*self.bat.get(i)?);
        let len = if self.is_bitmap(i) { (state == 6).then_some(MIB)? } else { matches!(state, 6 | 7).then_some(self.block_size)? };
        let at = mb.checked_mul(MIB)?;
        (at < self.src_len).then(|| ByteRange::new(at, len))
    }

    /// Blocks (and other regions) copied, and in all.
    pub fn progress(&self) -> (u64, u64) {
        (self.done, self.total)
    }

    /// True when the copy zeroes the sectors behind clear sector bitmap bits (`scrub` on a
    /// differencing disk).
    pub fn scrubs(&self) -> bool {
        self.scrub
    }

    /// Sectors whose left-over bytes were zeroed (`scrub`).
    pub fn scrubbed(&self) -> u64 {
        self.scrubbed
    }

    /// The sector bitmap bytes of payload block `block`, when its sector bitmap block is present.
    fn bitmap_of(&self, block: u64, src: &dyn ReadAt) -> Result<Option<Vec<u8>>> {
        let chunk = block / self.chunk_ratio;
        let i = chunk * (self.chunk_ratio + 1) + self.chunk_ratio;
        let Some(r) = usize::try_from(i).ok().and_then(|i| self.block_at(i)) else { return Ok(None) };
        let per = self.block_size / self.sector_size / 8;
        let at = r.offset + (block % self.chunk_ratio) * per;
        let mut b = vec![0u8; per as usize];
        let held = self.src_len.saturating_sub(at).min(per) as usize;
        src.read_at(at, &mut b[..held])?;
        Ok(Some(patched(&b, at, &self.writes).into_owned()))
    }

    /// Copies the next window of the next block. False when every block is copied.
    pub fn step(&mut self, src: &dyn ReadAt, out: &mut dyn WriteAt) -> Result<bool> {
        if self.current.is_none() {
            let (range, block) = if self.next_extra < self.extra.len() {
                self.next_extra += 1;
                (self.extra[self.next_extra - 1], None)
            } else {
                while self.next < self.bat.len() && self.block_at(self.next).is_none() {
                    self.next += 1;
                }
                let Some(r) = self.block_at(self.next) else { return Ok(false) };
                let i = self.next as u64;
                self.next += 1;
                (r, (!self.is_bitmap(i as usize)).then(|| i - i / (self.chunk_ratio + 1)))
            };
            self.file_len = self.file_len.max(range.end());
            let partially_present = block.is_some() && bat_parts(self.bat[self.next - 1]).0 == 7;
            let bitmap = match block {
                Some(b) if self.scrub && partially_present => self.bitmap_of(b, src)?,
                _ => None,
            };
            self.current = Some(Piece { at: range.offset, len: range.len, done: 0, bitmap });
        }
        let Some(p) = self.current.as_mut() else { return Ok(true) };
        let from = p.at + p.done;
        let n = (p.len - p.done).min(self.buf.len() as u64) as usize;
        // Bytes past the end of the input are not read: they are zeros in the copy.
        let held = self.src_len.saturating_sub(from).min(n as u64) as usize;
        self.buf[held..n].fill(0);
        src.read_at(from, &mut self.buf[..held])?;
        let mut piece = patched(&self.buf[..n], from, &self.writes);
        if let Some(bitmap) = &p.bitmap {
            let ss = self.sector_size as usize;
            for (k, sector) in piece.to_mut().chunks_mut(ss).enumerate() {
                if !bit_lsb(bitmap, p.done / self.sector_size + k as u64) && sector.iter().any(|b| *b != 0) {
                    sector.fill(0);
                    self.scrubbed += 1;
                }
            }
        }
        if piece.iter().any(|b| *b != 0) {
            out.write_at(from, &piece)?;
        }
        p.done += n as u64;
        if p.done >= p.len {
            self.current = None;
            self.done += 1;
        }
        Ok(true)
    }

    /// Writes the header section, the metadata region and the BAT (after the last step), and
    /// gives the copy its length.
    pub fn finish(self, out: &mut dyn WriteAt) -> Result<u64> {
        let mut len = self.file_len;
        for (at, bytes) in &self.structures {
            out.write_at(*at, bytes)?;
            len = len.max(at + bytes.len() as u64);
        }
        out.set_len(len)?;
        Ok(len)
    }
}
