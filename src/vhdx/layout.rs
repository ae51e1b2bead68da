//! The layout of a new VHDX file, for writers that stream its blocks ([MS-VHDX] 2): the file
//! type identifier, both headers and both region tables in the first 320 KiB, a clean log at
//! 1 MiB (1 MiB long), the metadata region at 2 MiB (1 MiB), the BAT at 3 MiB (whole MiB), then
//! payload blocks in the order they are placed, each 1 MiB aligned, and a differencing disk's
//! sector bitmap blocks where they are first needed. [`VhdxLayout::place`] gives a block its
//! place as it comes, [`VhdxLayout::set_sectors`] writes a differencing block's bits into its
//! sector bitmap block as the block is done, and [`VhdxLayout::finish`] gives the structures to
//! write at the end (the BAT is only known then). Memory: the BAT (8 bytes an entry), never the
//! data nor the bitmaps.
//!
//! Headers, region tables and parent locators are [`super::encode`]'s (relink and repair write
//! theirs with them too); the metadata region is encoded here. The tests'
//! [`VhdxBuilder`](super::writer::VhdxBuilder) lays its files out with this layout too.

use super::encode::{header, next_file_write_guid, parent_locator, region_table, HeaderFields};
use super::format::{
    Guid, RegionEntry, HEADER_OFFSETS, ITEM_FILE_PARAMETERS, ITEM_LOGICAL_SECTOR_SIZE, ITEM_PAGE83, ITEM_PARENT_LOCATOR,
    ITEM_PHYSICAL_SECTOR_SIZE, ITEM_VIRTUAL_DISK_SIZE, KIB64, MAX_DISK_SIZE, MIB, REGION_BAT, REGION_METADATA, REGION_TABLE_OFFSETS,
    SIGNATURE,
};
use super::MAX_BAT_ENTRIES;
use crate::error::{Result, WriteError};
use crate::image::BlockState;
use crate::image::WriteAt;

/// Where the log region is (1 MiB long).
pub const LOG_OFFSET: u64 = MIB;
/// The log region's length.
pub const LOG_LENGTH: u64 = MIB;
/// Where the metadata region is (1 MiB long).
pub const METADATA_OFFSET: u64 = 2 * MIB;
/// The metadata region's length.
pub const METADATA_LENGTH: u64 = MIB;
/// Where the BAT is.
pub const BAT_OFFSET: u64 = 3 * MIB;
/// The smallest payload block a new VHDX may have (2.2.2.1 of the file parameters: 1 MiB).
pub const MIN_BLOCK_SIZE: u64 = MIB;
/// The largest (256 MiB).
pub const MAX_BLOCK_SIZE: u64 = 256 * MIB;
/// Hyper-V's block size for a new dynamic disk: 32 MiB.
pub const DEFAULT_BLOCK_SIZE: u32 = 32 << 20;
/// What the file type identifier names as the creator.
pub const CREATOR: &str = "vhd-viewer";

/// What a new VHDX is: its geometry, identity and parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VhdxParams {
    /// Virtual disk size in bytes (a whole number of logical sectors).
    pub size: u64,
    /// Payload block size: a power of two from 1 MiB to 256 MiB.
    pub block_size: u32,
    /// 512 or 4096.
    pub logical_sector_size: u32,
    /// 512 or 4096.
    pub physical_sector_size: u32,
    /// Every payload block allocated up front (`LeaveBlocksAllocated`).
    pub fixed: bool,
    /// The `DataWriteGuid` (children name it as `parent_linkage`).
    pub data_write_guid: Guid,
    /// The `FileWriteGuid`.
    pub file_write_guid: Guid,
    /// The `Page83Data`: the disk's SCSI identity.
    pub page83: Guid,
    /// A differencing disk's parent locator entries (`HasParent`): key/value pairs, among them
    /// `parent_linkage`.
    pub parent_locator: Option<Vec<(String, String)>>,
}

impl VhdxParams {
    /// Checks the parameters against the spec and against what this viewer reads back.
    pub fn check(&self) -> Result<()> {
        let bs = u64::from(self.block_size);
        if !bs.is_power_of_two() || !(MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE).contains(&bs) {
            return Err(WriteError::VhdxBlockSize { block_size: bs }.into());
        }
        for s in [self.logical_sector_size, self.physical_sector_size] {
            if s != 512 && s != 4096 {
                return Err(WriteError::SectorSize { sector_size: s }.into());
            }
        }
        let ss = u64::from(self.logical_sector_size);
        if self.size == 0 || self.size % ss != 0 || self.size > MAX_DISK_SIZE {
            return Err(WriteError::VhdxSize { size: self.size, sector_size: self.logical_sector_size }.into());
        }
        let entries = bat_entries(self);
        if entries > MAX_BAT_ENTRIES {
            return Err(WriteError::BatTooLarge { size: self.size, block_size: bs, entries, max: MAX_BAT_ENTRIES, chosen: true }.into());
        }
        Ok(())
    }
}

/// Payload blocks per sector bitmap block (2.5.1): 2^23 × logical sector size / block size.
fn chunk_ratio(p: &VhdxParams) -> u64 {
    ((1u64 << 23) * u64::from(p.logical_sector_size)) / u64::from(p.block_size).max(1)
}

/// BAT entries (2.5.1): payload entries with a sector bitmap entry after each chunk's; a
/// differencing disk has every chunk's, the others only those between payload entries.
fn bat_entries(p: &VhdxParams) -> u64 {
    let cr = chunk_ratio(p).max(1);
    let payload = p.size.div_ceil(u64::from(p.block_size).max(1));
    if p.parent_locator.is_some() {
        payload.div_ceil(cr) * (cr + 1)
    } else {
        payload + payload.saturating_sub(1) / cr
    }
}

/// The parameters a copy of the VHDX `v` keeps: its block size (or `block_size`, checked by
/// [`VhdxLayout::new`]), its size (or `size`: a resized copy, whose BAT's length follows),
/// sector sizes, whether it is fixed, `DataWriteGuid`, page 83 id and parent locator; a new
/// `FileWriteGuid` (derived from the input's: the file is a new one).
pub fn copy_params(v: &super::Vhdx, block_size: Option<u32>, size: Option<u64>) -> VhdxParams {
    let h = v.header();
    VhdxParams {
        size: size.unwrap_or(v.virtual_disk_size),
        block_size: block_size.unwrap_or(v.block_size),
        logical_sector_size: v.logical_sector_size,
        physical_sector_size: v.physical_sector_size,
        fixed: v.disk_type() == crate::image::DiskType::Fixed,
        data_write_guid: h.data_write_guid,
        file_write_guid: next_file_write_guid(h.file_write_guid, h.sequence_number),
        page83: v.page83.unwrap_or_else(|| next_file_write_guid(h.data_write_guid, 0x83)),
        // A child keeps its locator's entries as they are (none, if it had no locator: it stays
        // a child, whose sectors not held come from its parent).
        parent_locator: v.has_parent.then(|| {
            v.parent_locator
                .as_ref()
                .map(|l| l.value.entries.iter().map(|e| (e.key.clone(), e.value.clone())).collect())
                .unwrap_or_default()
        }),
    }
}

/// The layout of a new VHDX file; see the module documentation.
#[derive(Debug, Clone)]
pub struct VhdxLayout {
    p: VhdxParams,
    chunk_ratio: u64,
    payload: u64,
    bat: Vec<u64>,
    bat_len: u64,
    next: u64,
}

impl VhdxLayout {
    /// The layout of a new file with these parameters (checked).
    pub fn new(p: VhdxParams) -> Result<VhdxLayout> {
        p.check()?;
        let chunk_ratio = chunk_ratio(&p);
        let bs = u64::from(p.block_size);
        let payload = p.size.div_ceil(bs);
        let entries = bat_entries(&p);
        let bat_len = (entries * 8).div_ceil(MIB).max(1) * MIB;
        let mut l = VhdxLayout { chunk_ratio, payload, bat: vec![0; entries as usize], bat_len, next: BAT_OFFSET + bat_len, p };
        if l.p.fixed {
            for b in 0..payload {
                l.place(b)?;
            }
        }
        Ok(l)
    }

    /// The parameters.
    pub fn params(&self) -> &VhdxParams {
        &self.p
    }

    /// Bytes of data per block.
    pub fn block_size(&self) -> u64 {
        u64::from(self.p.block_size)
    }

    /// Payload blocks of the disk.
    pub fn blocks(&self) -> u64 {
        self.payload
    }

    fn payload_index(&self, block: u64) -> usize {
        (block + block / self.chunk_ratio) as usize
    }

    fn bitmap_index(&self, chunk: u64) -> usize {
        (chunk * (self.chunk_ratio + 1) + self.chunk_ratio) as usize
    }

    /// Payload block `block`'s state.
    pub fn state(&self, block: u64) -> BlockState {
        BlockState::from_bits((self.bat[self.payload_index(block)] & 7) as u8)
    }

    /// The file offset of payload block `block`'s data, if it has a place.
    pub fn data_offset(&self, block: u64) -> Option<u64> {
        let e = *self.bat.get(self.payload_index(block))?;
        BlockState::from_bits((e & 7) as u8).has_data().then_some((e >> 20) * MIB)
    }

    fn allocate(&mut self, len: u64) -> u64 {
        let at = self.next;
        self.next += len.div_ceil(MIB) * MIB;
        at
    }

    /// Gives block `block` a place after those placed so far (fully present) and returns the
    /// file offset of its data; a fixed disk's blocks have their places from the start, and
    /// placing one again gives it. An error when the disk has no such block, or when a block of
    /// a dynamic or differencing disk is placed twice.
    pub fn place(&mut self, block: u64) -> Result<u64> {
        if block >= self.payload {
            return Err(WriteError::BlockPlacedTwice { block }.into());
        }
        if let Some(at) = self.data_offset(block) {
            if self.p.fixed {
                return Ok(at);
            }
            return Err(WriteError::BlockPlacedTwice { block }.into());
        }
        let at = self.allocate(self.block_size());
        let i = self.payload_index(block);
        self.bat[i] = u64::from(BlockState::FullyPresent.code()) | ((at / MIB) << 20);
        Ok(at)
    }

    /// Sets the state of block `block`, which has no place (zero, not present, and for the
    /// tests any other).
    pub fn set_state(&mut self, block: u64, state: BlockState) -> Result<()> {
        if block >= self.payload || self.data_offset(block).is_some() {
            return Err(WriteError::BlockPlacedTwice { block }.into());
        }
        let i = self.payload_index(block);
        self.bat[i] = u64::from(state.code() & 7);
        Ok(())
    }

    /// Records which sectors of placed block `block` a differencing disk holds: `bits`, one per
    /// logical sector from the least significant bit of each byte (`block_size / sector / 8`
    /// bytes). Every bit set: the block is fully present; some: partially present, its bits
    /// written into its chunk's sector bitmap block (given a place the first time one is
    /// needed). Of a disk without a parent, every sector of a placed block is present (the
    /// caller wrote zeros where it holds none) and `bits` are not kept.
    pub fn set_sectors(&mut self, block: u64, bits: &[u8], out: &mut dyn WriteAt) -> Result<()> {
        let Some(data) = self.data_offset(block) else {
            return Err(WriteError::BlockPlacedTwice { block }.into());
        };
        if self.p.parent_locator.is_none() {
            return Ok(());
        }
        let per = (self.block_size() / u64::from(self.p.logical_sector_size) / 8) as usize;
        let bits = &bits[..per.min(bits.len())];
        let i = self.payload_index(block);
        if bits.len() == per && bits.iter().all(|b| *b == 0xff) {
            self.bat[i] = u64::from(BlockState::FullyPresent.code()) | ((data / MIB) << 20);
            return Ok(());
        }
        let chunk = block / self.chunk_ratio;
        let bi = self.bitmap_index(chunk);
        if self.bat[bi] & 7 != 6 {
            let at = self.allocate(MIB);
            self.bat[bi] = 6 | ((at / MIB) << 20);
        }
        let at = (self.bat[bi] >> 20) * MIB + (block % self.chunk_ratio) * per as u64;
        out.write_at(at, bits)?;
        self.bat[i] = u64::from(BlockState::PartiallyPresent.code()) | ((data / MIB) << 20);
        Ok(())
    }

    /// Payload blocks with a place in the file.
    pub fn placed(&self) -> u64 {
        (0..self.payload).filter(|b| self.state(*b).has_data()).count() as u64
    }

    /// The length of the finished file.
    pub fn file_len(&self) -> u64 {
        self.next
    }

    /// The BAT's bytes (its region's length).
    pub fn bat_bytes(&self) -> Vec<u8> {
        let mut b: Vec<u8> = self.bat.iter().flat_map(|e| e.to_le_bytes()).collect();
        b.resize(self.bat_len as usize, 0);
        b
    }

    /// The structures to write once every block is written, as (offset, bytes): the file type
    /// identifier, both headers (sequence numbers 1 and 2, a clean log), both region tables,
    /// the metadata region and the BAT. The log region is left zero (clean).
    pub fn finish(&self) -> Vec<(u64, Vec<u8>)> {
        let mut out = vec![(0, identifier(CREATOR))];
        for (i, at) in HEADER_OFFSETS.into_iter().enumerate() {
            out.push((at, encode_header(1 + i as u64, self.p.file_write_guid, self.p.data_write_guid, Guid::default())));
        }
        let table = encode_region_table(self.bat_len);
        for at in REGION_TABLE_OFFSETS {
            out.push((at, table.clone()));
        }
        out.push((METADATA_OFFSET, encode_metadata(&self.p)));
        out.push((BAT_OFFSET, self.bat_bytes()));
        out
    }

    /// Writes [`VhdxLayout::finish`]'s structures to `out` and gives it its length.
    pub fn finish_into(&self, out: &mut dyn WriteAt) -> Result<()> {
        for (at, bytes) in self.finish() {
            out.write_at(at, &bytes)?;
        }
        out.set_len(self.file_len())
    }
}

/// The file type identifier's first bytes (2.2.1): the signature and the creator.
fn identifier(creator: &str) -> Vec<u8> {
    let mut b = vec![0u8; super::format::IDENTIFIER_SIZE as usize];
    b[..8].copy_from_slice(SIGNATURE);
    for (i, u) in creator.encode_utf16().take(256).enumerate() {
        b[8 + 2 * i..10 + 2 * i].copy_from_slice(&u.to_le_bytes());
    }
    b
}

/// A header (2.2.2) with its CRC-32C: the log at [`LOG_OFFSET`], `log_guid` zero for a clean
/// log.
pub fn encode_header(sequence: u64, file_write_guid: Guid, data_write_guid: Guid, log_guid: Guid) -> Vec<u8> {
    header(&HeaderFields {
        sequence_number: sequence,
        file_write_guid,
        data_write_guid,
        log_guid,
        log_length: LOG_LENGTH as u32,
        log_offset: LOG_OFFSET,
    })
}

/// The region table (2.2.3): the BAT at [`BAT_OFFSET`] and the metadata region at
/// [`METADATA_OFFSET`], both required.
fn encode_region_table(bat_len: u64) -> Vec<u8> {
    let entry = |index, guid, file_offset, length: u64| RegionEntry { index, guid, file_offset, length: length as u32, required: 1 };
    region_table(&[entry(0, REGION_BAT, BAT_OFFSET, bat_len), entry(1, REGION_METADATA, METADATA_OFFSET, METADATA_LENGTH)])
}

/// The metadata region's bytes (2.6): the table, then the items from 64 KiB on, each 8-byte
/// aligned. Flags: bit 1 `IsVirtualDisk`, bit 2 `IsRequired`.
fn encode_metadata(p: &VhdxParams) -> Vec<u8> {
    let flags_params = u32::from(p.fixed) | (u32::from(p.parent_locator.is_some()) << 1);
    let mut items: Vec<(Guid, Vec<u8>, u32)> = vec![
        (ITEM_FILE_PARAMETERS, [p.block_size.to_le_bytes(), flags_params.to_le_bytes()].concat(), 4),
        (ITEM_VIRTUAL_DISK_SIZE, p.size.to_le_bytes().to_vec(), 6),
        (ITEM_PAGE83, p.page83.0.to_vec(), 6),
        (ITEM_LOGICAL_SECTOR_SIZE, p.logical_sector_size.to_le_bytes().to_vec(), 6),
        (ITEM_PHYSICAL_SECTOR_SIZE, p.physical_sector_size.to_le_bytes().to_vec(), 6),
    ];
    if let Some(kv) = &p.parent_locator {
        items.push((ITEM_PARENT_LOCATOR, parent_locator(kv), 4));
    }
    let mut m = vec![0u8; KIB64 as usize];
    m[..8].copy_from_slice(b"metadata");
    m[10..12].copy_from_slice(&(items.len() as u16).to_le_bytes());
    for (k, (g, bytes, flags)) in items.iter().enumerate() {
        let at = m.len();
        let e = 32 + 32 * k;
        m[e..e + 16].copy_from_slice(&g.0);
        m[e + 16..e + 20].copy_from_slice(&(at as u32).to_le_bytes());
        m[e + 20..e + 24].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
        m[e + 24..e + 28].copy_from_slice(&flags.to_le_bytes());
        m.extend_from_slice(bytes);
        m.resize(m.len().div_ceil(8) * 8, 0);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::{open_layer, DiskReader, ReadAt};
    use crate::Disk;

    fn params(size: u64, bs: u32, ss: u32) -> VhdxParams {
        VhdxParams {
            size,
            block_size: bs,
            logical_sector_size: ss,
            physical_sector_size: 4096,
            fixed: false,
            data_write_guid: Guid([0x31; 16]),
            file_write_guid: Guid([0x32; 16]),
            page83: Guid([0x33; 16]),
            parent_locator: None,
        }
    }

    #[test]
    fn a_streamed_dynamic_disk_reads_back_its_blocks() {
        let mut l = VhdxLayout::new(params(10 << 20, 1 << 20, 4096)).unwrap();
        let mut out = Vec::new();
        // Blocks placed out of order land in the order placed.
        let a = l.place(7).unwrap();
        let b = l.place(2).unwrap();
        assert!(a < b && a % MIB == 0 && b % MIB == 0);
        assert!(l.place(7).is_err());
        out.write_at(a, &[7; 4096]).unwrap();
        out.write_at(b + 4096, &[2; 4096]).unwrap();
        l.set_state(3, BlockState::Zero).unwrap();
        l.finish_into(&mut out).unwrap();
        assert_eq!(out.len() as u64, l.file_len());
        let layer = open_layer(&out).unwrap();
        let bad: Vec<_> = layer.findings.iter().filter(|f| f.severity > crate::Severity::Info).collect();
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!((layer.format(), layer.logical_sector_size(), layer.size()), ("vhdx", 4096, 10 << 20));
        assert_eq!(layer.link_id(), [0x31; 16]);
        let disk = Disk::new(vec![layer], false).unwrap();
        let mut r = DiskReader::new(&disk, vec![&out as &dyn ReadAt]).unwrap();
        let mut all = vec![0u8; 10 << 20];
        r.read(0, &mut all).unwrap();
        let mut want = vec![0u8; 10 << 20];
        want[7 << 20..(7 << 20) + 4096].fill(7);
        want[(2 << 20) + 4096..(2 << 20) + 8192].fill(2);
        assert!(all == want);
    }

    #[test]
    fn parameters_out_of_the_spec_are_refused() {
        let code = |p: VhdxParams| VhdxLayout::new(p).err().map(|e| e.code());
        assert_eq!(code(params(8 << 20, 512 << 10, 512)), Some("vhdx-block-size"));
        assert_eq!(code(params(8 << 20, 3 << 20, 512)), Some("vhdx-block-size"));
        assert_eq!(code(params(8 << 20, 1 << 20, 1024)), Some("sector-size"));
        assert_eq!(code(params((8 << 20) + 512, 1 << 20, 4096)), Some("vhdx-size"));
        assert_eq!(code(params(0, 1 << 20, 512)), Some("vhdx-size"));
        assert_eq!(code(params(1 << 50, 1 << 20, 512)), Some("vhdx-size"));
        assert_eq!(code(params(16 << 40, 1 << 20, 512)), Some("write-bat-too-large"));
        assert_eq!(code(params(16 << 40, 32 << 20, 512)), None);
    }
}
