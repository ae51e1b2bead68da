//! Writes VHD files: fixed, dynamic and differencing, with chosen block sizes, bitmaps, data,
//! locators and ids. The tests build their chains and damaged variants with it (damage is done
//! by patching the bytes it returns), and the page's sample disks come from it. Files too large
//! to hold in memory (what `convert`, `compact`, `relink` and `repair` write) are laid out by
//! [`SparseLayout`] block by block and written through [`WriteAt`].
//!
//! ```
//! use vhd_viewer::vhd::writer::DiskBuilder;
//! let mut base = DiskBuilder::dynamic(8 << 20, 2 << 20);
//! base.write(0, &[0xaa; 4096]);
//! let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 2 << 20);
//! child.write(512, &[0xbb; 512]);
//! let (base_bytes, child_bytes) = (base.build(), child.build());
//! assert_eq!(base_bytes.len() % 512, 0);
//! assert!(child_bytes.len() > base_bytes.len() / 2);
//! ```

use std::collections::BTreeMap;

use crate::error::{Result, WriteError};
use crate::image::DiskType;
use crate::values::{checksum, FourCc, Timestamp, Uuid};
use crate::vhd::footer::{self, Footer, FILE_FORMAT_VERSION, FOOTER_COOKIE, FOOTER_SIZE};
use crate::vhd::geometry::Geometry;
use crate::vhd::header::{self, HEADER_COOKIE, HEADER_SIZE, HEADER_VERSION};
use crate::vhd::{MAX_BAT_ENTRIES, MAX_BLOCK_SIZE};

/// What a child needs to know of its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentRef {
    /// The parent's unique id.
    pub unique_id: Uuid,
    /// The parent's time stamp.
    pub timestamp: Timestamp,
    /// The parent's size.
    pub size: u64,
    /// The parent's file name, stored as the child's parent unicode name.
    pub file_name: String,
}

/// In what order allocated blocks are laid out in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockOrder {
    /// Ascending block index (as a disk written front to back).
    Ascending,
    /// Descending block index (every block but the first is out of BAT order).
    Descending,
    /// The order in which the blocks were first written (as real writers do).
    Written,
}

/// Builds one VHD file in memory.
#[derive(Debug, Clone)]
pub struct DiskBuilder {
    disk_type: DiskType,
    size: u64,
    block_size: u32,
    creator_application: [u8; 4],
    creator_version: u32,
    creator_host_os: [u8; 4],
    unique_id: Uuid,
    timestamp: Timestamp,
    geometry: Option<Geometry>,
    original_size: Option<u64>,
    parent: Option<ParentRef>,
    locators: Vec<([u8; 4], Vec<u8>)>,
    order: BlockOrder,
    /// Fixed disks: the data. Sparse disks: unused.
    fixed_data: Vec<u8>,
    /// Sparse disks: block index -> (bitmap, data).
    blocks: BTreeMap<u64, (Vec<u8>, Vec<u8>)>,
    written_order: Vec<u64>,
}

/// A deterministic unique id derived from a seed (tests want stable files).
pub fn uuid_from_seed(seed: u64) -> Uuid {
    let mut x = seed ^ 0x9e37_79b9_7f4a_7c15;
    let mut out = [0u8; 16];
    for chunk in out.chunks_mut(8) {
        // splitmix64
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_be_bytes());
    }
    Uuid(out)
}

impl DiskBuilder {
    fn new(disk_type: DiskType, size: u64, block_size: u32) -> Self {
        DiskBuilder {
            disk_type,
            size,
            block_size,
            creator_application: *b"vhdv",
            creator_version: 0x0001_0000,
            creator_host_os: *b"Wi2k",
            unique_id: uuid_from_seed(size ^ u64::from(block_size) ^ 0x5644_4856),
            timestamp: Timestamp(0x2000_0000),
            geometry: None,
            original_size: None,
            parent: None,
            locators: Vec::new(),
            order: BlockOrder::Written,
            fixed_data: Vec::new(),
            blocks: BTreeMap::new(),
            written_order: Vec::new(),
        }
    }

    /// A fixed disk of `size` bytes (held in memory: keep it small).
    pub fn fixed(size: u64) -> Self {
        let mut b = Self::new(DiskType::Fixed, size, 0);
        b.fixed_data = vec![0; usize::try_from(size).unwrap_or(0)];
        b
    }

    /// A dynamic disk of `size` bytes with blocks of `block_size` bytes.
    pub fn dynamic(size: u64, block_size: u32) -> Self {
        Self::new(DiskType::Dynamic, size, block_size)
    }

    /// A differencing disk on top of `parent`, of the parent's size.
    pub fn differencing(parent: &ParentRef, block_size: u32) -> Self {
        let mut b = Self::new(DiskType::Differencing, parent.size, block_size);
        b.unique_id = uuid_from_seed(u64::from_be_bytes(parent.unique_id.0[..8].try_into().unwrap_or_default()) ^ 0xc41d);
        b.parent = Some(parent.clone());
        b.locators.push((*b"W2ru", utf16le(&format!(".\\{}", parent.file_name))));
        b
    }

    /// Sets the creator application, its version (major << 16 | minor) and host OS.
    pub fn creator(&mut self, app: [u8; 4], version: u32, host_os: [u8; 4]) -> &mut Self {
        self.creator_application = app;
        self.creator_version = version;
        self.creator_host_os = host_os;
        self
    }

    /// Sets the unique id.
    pub fn unique_id(&mut self, id: Uuid) -> &mut Self {
        self.unique_id = id;
        self
    }

    /// Sets the time stamp (seconds since 2000-01-01 UTC).
    pub fn timestamp(&mut self, secs: u32) -> &mut Self {
        self.timestamp = Timestamp(secs);
        self
    }

    /// Stores this geometry instead of the one the spec's rule gives.
    pub fn geometry(&mut self, g: Geometry) -> &mut Self {
        self.geometry = Some(g);
        self
    }

    /// Stores this original size instead of the current size.
    pub fn original_size(&mut self, size: u64) -> &mut Self {
        self.original_size = Some(size);
        self
    }

    /// Sets the block layout order.
    pub fn block_order(&mut self, order: BlockOrder) -> &mut Self {
        self.order = order;
        self
    }

    /// Replaces the parent locators with none at all.
    pub fn clear_parent_locators(&mut self) -> &mut Self {
        self.locators.clear();
        self
    }

    /// Adds a parent locator: `W2ru`/`W2ku` paths are stored as UTF-16LE, `MacX` as a UTF-8
    /// file URL (give the URL), anything else as the bytes of `path`.
    pub fn parent_locator(&mut self, code: [u8; 4], path: &str) -> &mut Self {
        let data = match &code {
            b"W2ru" | b"W2ku" => utf16le(path),
            _ => path.as_bytes().to_vec(),
        };
        self.locators.push((code, data));
        self
    }

    /// Adds a parent locator with raw data.
    pub fn parent_locator_raw(&mut self, code: [u8; 4], data: Vec<u8>) -> &mut Self {
        self.locators.push((code, data));
        self
    }

    /// What a child of this disk needs, the child naming this disk `file_name`.
    pub fn parent_ref(&self, file_name: &str) -> ParentRef {
        ParentRef { unique_id: self.unique_id, timestamp: self.timestamp, size: self.size, file_name: file_name.to_string() }
    }

    fn sectors_per_block(&self) -> u64 {
        u64::from(self.block_size) / 512
    }

    fn bitmap_size(&self) -> usize {
        (self.sectors_per_block().div_ceil(8).div_ceil(512) * 512) as usize
    }

    fn block_mut(&mut self, block: u64) -> &mut (Vec<u8>, Vec<u8>) {
        if !self.blocks.contains_key(&block) {
            self.written_order.push(block);
        }
        let (bm, bs) = (self.bitmap_size(), self.block_size as usize);
        self.blocks.entry(block).or_insert_with(|| (vec![0; bm], vec![0; bs]))
    }

    /// Writes `data` at virtual `offset`, allocating blocks and setting the bitmap bit of every
    /// sector touched (a partly written sector keeps zeros in the rest). Bytes past the disk's
    /// end are dropped.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> &mut Self {
        let end = offset.saturating_add(data.len() as u64).min(self.size);
        if offset >= end {
            return self;
        }
        if self.disk_type == DiskType::Fixed {
            self.fixed_data[offset as usize..end as usize].copy_from_slice(&data[..(end - offset) as usize]);
            return self;
        }
        let bs = u64::from(self.block_size);
        let mut pos = offset;
        while pos < end {
            let block = pos / bs;
            let in_block = pos - block * bs;
            let n = (bs - in_block).min(end - pos);
            let src = &data[(pos - offset) as usize..(pos - offset + n) as usize];
            let (bitmap, bytes) = self.block_mut(block);
            bytes[in_block as usize..(in_block + n) as usize].copy_from_slice(src);
            for s in in_block / 512..(in_block + n).div_ceil(512) {
                bitmap[(s / 8) as usize] |= 0x80 >> (s % 8);
            }
            pos += n;
        }
        self
    }

    /// Allocates `block` (if needed) and sets its sector bitmap to `bits` (shorter input is
    /// padded with zeros), leaving its data as it is.
    pub fn set_bitmap(&mut self, block: u64, bits: &[u8]) -> &mut Self {
        let (bitmap, _) = self.block_mut(block);
        bitmap.fill(0);
        let n = bits.len().min(bitmap.len());
        bitmap[..n].copy_from_slice(&bits[..n]);
        self
    }

    /// Puts bytes into a block's data area without touching its bitmap (e.g. left-over data in
    /// sectors marked unused).
    pub fn set_block_data(&mut self, block: u64, in_block: usize, data: &[u8]) -> &mut Self {
        let (_, bytes) = self.block_mut(block);
        let end = (in_block + data.len()).min(bytes.len());
        if in_block < end {
            bytes[in_block..end].copy_from_slice(&data[..end - in_block]);
        }
        self
    }

    /// The footer this disk gets.
    pub fn footer(&self) -> Vec<u8> {
        let f = Footer {
            raw: vec![0; FOOTER_SIZE as usize],
            cookie: *FOOTER_COOKIE,
            features: 2,
            file_format_version: FILE_FORMAT_VERSION,
            data_offset: if self.disk_type == DiskType::Fixed { u64::MAX } else { FOOTER_SIZE },
            timestamp: self.timestamp,
            creator_application: FourCc(self.creator_application),
            creator_version: self.creator_version,
            creator_host_os: FourCc(self.creator_host_os),
            original_size: self.original_size.unwrap_or(self.size),
            current_size: self.size,
            geometry: self.geometry.unwrap_or_else(|| Geometry::for_size(self.size)),
            disk_type: self.disk_type,
            checksum: 0,
            unique_id: self.unique_id,
            saved_state: 0,
            computed_checksum: 0,
        };
        footer::encode(&f)
    }

    /// The whole file.
    pub fn build(&self) -> Vec<u8> {
        let footer = self.footer();
        if self.disk_type == DiskType::Fixed {
            let mut out = self.fixed_data.clone();
            out.extend_from_slice(&footer);
            return out;
        }
        let mut layout = SparseLayout::new(&footer, self.block_size, self.parent.as_ref(), &self.locators);
        let order: Vec<u64> = match self.order {
            BlockOrder::Ascending => self.blocks.keys().copied().collect(),
            BlockOrder::Descending => self.blocks.keys().rev().copied().collect(),
            BlockOrder::Written => self.written_order.clone(),
        };
        let mut placed = Vec::new();
        for b in order {
            if let Some(at) = layout.place(b) {
                placed.push((b, at));
            }
        }
        let mut out = Vec::new();
        for (at, bytes) in layout.finish() {
            let _ = out.write_at(at, &bytes);
        }
        for (b, at) in placed {
            let (bitmap, data) = &self.blocks[&b];
            let _ = out.write_at(at, bitmap);
            let _ = out.write_at(at + bitmap.len() as u64, data);
        }
        out
    }
}

pub use crate::image::WriteAt;

/// The layout of a new dynamic or differencing file, for writers that stream its blocks: the
/// footer copy at 0, the dynamic header at 512, the BAT at 1536 (whole sectors), the parent
/// locators' data (whole sectors each), then the blocks in the order they are placed, then the
/// footer. [`SparseLayout::place`] gives each block its place as it comes; [`SparseLayout::finish`]
/// gives the metadata to write once all blocks are written (the BAT is only known then). The
/// in-memory [`DiskBuilder`] lays its files out with it too.
#[derive(Debug, Clone)]
pub struct SparseLayout {
    footer: Vec<u8>,
    block_size: u32,
    bat: Vec<u32>,
    table_offset: u64,
    header: Vec<u8>,
    locators: Vec<(u64, Vec<u8>)>,
    next: u64,
    differencing: bool,
}

/// Where the dynamic header of a file laid out by [`SparseLayout`] is.
pub const LAYOUT_HEADER_OFFSET: u64 = FOOTER_SIZE;

impl SparseLayout {
    /// The layout of a file with this footer (512 bytes; its data offset should be 512), block
    /// size, parent and parent locators (`code`, data; at most 8 are kept). The caller checks
    /// the block size and the number of BAT entries it implies (see [`check_block_size`]).
    pub fn new(footer: &[u8], block_size: u32, parent: Option<&ParentRef>, locators: &[([u8; 4], Vec<u8>)]) -> SparseLayout {
        let size = Footer::parse(footer).current_size;
        // Bounded whatever the caller passes (see check_layout).
        let entries = size.div_ceil(u64::from(block_size.max(512))).min(MAX_BAT_ENTRIES);
        let table_offset = FOOTER_SIZE + HEADER_SIZE;
        let bat_bytes = (entries * 4).div_ceil(512) * 512;
        let mut pos = table_offset + bat_bytes;
        let mut placed = Vec::new();
        let mut h = vec![0u8; HEADER_SIZE as usize];
        h[header::off::COOKIE..header::off::COOKIE + 8].copy_from_slice(HEADER_COOKIE);
        h[header::off::DATA_OFFSET..header::off::DATA_OFFSET + 8].copy_from_slice(&u64::MAX.to_be_bytes());
        h[header::off::TABLE_OFFSET..header::off::TABLE_OFFSET + 8].copy_from_slice(&table_offset.to_be_bytes());
        h[header::off::HEADER_VERSION..header::off::HEADER_VERSION + 4].copy_from_slice(&HEADER_VERSION.to_be_bytes());
        h[header::off::MAX_TABLE_ENTRIES..header::off::MAX_TABLE_ENTRIES + 4].copy_from_slice(&(entries as u32).to_be_bytes());
        h[header::off::BLOCK_SIZE..header::off::BLOCK_SIZE + 4].copy_from_slice(&block_size.to_be_bytes());
        if let Some(p) = parent {
            h[header::off::PARENT_UNIQUE_ID..header::off::PARENT_UNIQUE_ID + 16].copy_from_slice(&p.unique_id.0);
            h[header::off::PARENT_TIMESTAMP..header::off::PARENT_TIMESTAMP + 4].copy_from_slice(&p.timestamp.0.to_be_bytes());
            for (i, u) in p.file_name.encode_utf16().take(255).enumerate() {
                let at = header::off::PARENT_UNICODE_NAME + 2 * i;
                h[at..at + 2].copy_from_slice(&u.to_be_bytes());
            }
        }
        for (i, (code, data)) in locators.iter().take(header::LOCATOR_COUNT).enumerate() {
            let space = (data.len() as u64).div_ceil(512).max(1) * 512;
            let at = header::off::PARENT_LOCATORS + i * header::off::LOCATOR_SIZE;
            h[at..at + 4].copy_from_slice(code);
            h[at + 4..at + 8].copy_from_slice(&((space / 512) as u32).to_be_bytes());
            h[at + 8..at + 12].copy_from_slice(&(data.len() as u32).to_be_bytes());
            h[at + 16..at + 24].copy_from_slice(&pos.to_be_bytes());
            placed.push((pos, data.clone()));
            pos += space;
        }
        let sum = checksum(&h, header::off::CHECKSUM);
        h[header::off::CHECKSUM..header::off::CHECKSUM + 4].copy_from_slice(&sum.to_be_bytes());
        SparseLayout {
            footer: footer.to_vec(),
            block_size,
            bat: vec![u32::MAX; usize::try_from(entries).unwrap_or(0)],
            table_offset,
            header: h,
            locators: placed,
            next: pos,
            differencing: parent.is_some(),
        }
    }

    /// Bytes of the sector bitmap before each block's data (whole sectors).
    pub fn bitmap_size(&self) -> u64 {
        (u64::from(self.block_size) / 512).div_ceil(8).div_ceil(512) * 512
    }

    /// The disk's virtual size: its footer's current size.
    pub fn size(&self) -> u64 {
        Footer::parse(&self.footer).current_size
    }

    /// Bytes of data per block.
    pub fn block_size(&self) -> u64 {
        u64::from(self.block_size)
    }

    /// Number of BAT entries (blocks of the disk).
    pub fn blocks(&self) -> u64 {
        self.bat.len() as u64
    }

    /// Places block `block` after the blocks placed so far and returns the file offset of its
    /// bitmap (its data follows); `None` when the disk has no such block or it is placed already.
    pub fn place(&mut self, block: u64) -> Option<u64> {
        let entry = self.bat.get_mut(usize::try_from(block).ok()?)?;
        if *entry != u32::MAX {
            return None;
        }
        let at = self.next;
        *entry = u32::try_from(at / 512).ok()?;
        self.next += self.bitmap_size() + u64::from(self.block_size);
        Some(at)
    }

    /// True for a differencing disk's layout (made with a parent).
    pub fn differencing(&self) -> bool {
        self.differencing
    }

    /// Where placed block `block`'s sector bitmap is (its data follows).
    pub fn bitmap_offset(&self, block: u64) -> Option<u64> {
        let e = *self.bat.get(usize::try_from(block).ok()?)?;
        (e != u32::MAX).then_some(u64::from(e) * 512)
    }

    /// A sector bitmap with the bit of every sector of a block set.
    pub fn full_bitmap(&self) -> Vec<u8> {
        let sectors = (self.block_size() / 512) as usize;
        let mut bitmap = vec![0u8; self.bitmap_size() as usize];
        bitmap[..sectors / 8].fill(0xff);
        if sectors % 8 != 0 {
            bitmap[sectors / 8] = 0xff << (8 - sectors % 8);
        }
        bitmap
    }

    /// Blocks placed so far.
    pub fn placed(&self) -> u64 {
        self.bat.iter().filter(|e| **e != u32::MAX).count() as u64
    }

    /// The length of the finished file.
    pub fn file_len(&self) -> u64 {
        self.next + FOOTER_SIZE
    }

    /// The metadata to write when every block is written: the footer copy, the dynamic header,
    /// the BAT, the locators' data and the footer at the end, as (offset, bytes).
    pub fn finish(&self) -> Vec<(u64, Vec<u8>)> {
        let mut out = vec![(0, self.footer.clone()), (LAYOUT_HEADER_OFFSET, self.header.clone())];
        let mut bat: Vec<u8> = self.bat.iter().flat_map(|e| e.to_be_bytes()).collect();
        bat.resize(bat.len().div_ceil(512) * 512, 0);
        out.push((self.table_offset, bat));
        out.extend(self.locators.iter().cloned());
        out.push((self.next, self.footer.clone()));
        out
    }
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
pub fn same_identity(layer: &crate::vhd::Vhd) -> Identity {
    identity_of(layer, layer.footer.value.clone())
}

/// What a copy of `layer` of another size keeps: [`same_identity`] with the footer of
/// [`resized_footer`].
pub fn resized_identity(layer: &crate::vhd::Vhd, size: u64) -> Identity {
    identity_of(layer, resized_footer(&layer.footer.value, size))
}

/// True when qemu-img would read a disk with this footer's creator at `size` bytes by its CHS
/// geometry, and so at another size than `size` ([`crate::vhd::geometry::qemu_sizes_by_chs`]):
/// a resized copy then names this program as its creator.
pub fn creator_misread_at(creator: &[u8; 4], size: u64) -> bool {
    let g = Geometry::for_size(size);
    crate::vhd::geometry::qemu_sizes_by_chs(creator) && !g.is_max() && g.size() != size
}

/// The footer `f` of a disk resized to `size` bytes: the current size `size`, the geometry the
/// spec's algorithm gives for it (as Hyper-V fills it), and the creator this program when
/// [`creator_misread_at`] says qemu-img would read it at another size. The original size is
/// kept: the spec calls it the size "at creation time", stored for information, and a resize
/// does not create the disk anew (its unique id, time stamp and parent link stay too).
pub fn resized_footer(f: &Footer, size: u64) -> Footer {
    let mut f = f.clone();
    if creator_misread_at(&f.creator_application.0, size) {
        f.creator_application = FourCc(*b"vhdv");
        f.creator_version = 0x0001_0000;
    }
    f.current_size = size;
    f.geometry = Geometry::for_size(size);
    f
}

fn identity_of(layer: &crate::vhd::Vhd, mut f: Footer) -> Identity {
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

/// The layout of a copy of the dynamic or differencing VHD `v` that keeps its identity (footer,
/// parent link, locators) and its block size, or takes `block_size` (checked as
/// [`check_block_size`] checks a new disk's): what `compact` writes. With `size`, the copy is
/// of that size ([`resized_identity`]: what `resize` writes), its BAT as long as that size needs.
pub fn copy_layout(v: &crate::vhd::Vhd, block_size: Option<u64>, size: Option<u64>) -> Result<SparseLayout> {
    let Some(geo) = v.block_geometry() else {
        return Err(WriteError::CompactFixed.into());
    };
    let Identity { footer, parent, locators } = match size {
        Some(s) => resized_identity(v, s),
        None => same_identity(v),
    };
    let size = size.unwrap_or(v.size());
    let bs = match block_size.filter(|b| *b != geo.block_size) {
        Some(b) => check_block_size(size, b)?,
        None => {
            check_layout(size, geo.block_size)?;
            u32::try_from(geo.block_size).unwrap_or(0)
        }
    };
    let layout = SparseLayout::new(&footer, bs, parent.as_ref(), &locators);
    if u64::from(bs) == geo.block_size && layout.bitmap_size() != geo.bitmap_size {
        return Err(WriteError::BlockSize { block_size: geo.block_size }.into());
    }
    Ok(layout)
}

/// Checks that a copy of a disk of `size` bytes can be laid out with blocks of `block_size`
/// bytes (as the input has them: a whole number of sectors up to 256 MiB, at most
/// [`MAX_BAT_ENTRIES`] blocks). [`check_block_size`] is stricter, for new disks.
pub fn check_layout(size: u64, block_size: u64) -> Result<()> {
    if block_size == 0 || block_size % 512 != 0 || block_size > u64::from(MAX_BLOCK_SIZE) {
        return Err(WriteError::BlockSize { block_size }.into());
    }
    let entries = size.div_ceil(block_size);
    if entries > MAX_BAT_ENTRIES {
        return Err(WriteError::BatTooLarge { size, block_size, entries, max: MAX_BAT_ENTRIES, chosen: false }.into());
    }
    Ok(())
}

/// Checks a block size for a new dynamic disk of `size` bytes: a power of two from 512 bytes to
/// 256 MiB, giving at most [`MAX_BAT_ENTRIES`] blocks.
pub fn check_block_size(size: u64, block_size: u64) -> Result<u32> {
    if !block_size.is_power_of_two() || !(512..=u64::from(MAX_BLOCK_SIZE)).contains(&block_size) {
        return Err(WriteError::ChosenBlockSize { block_size }.into());
    }
    let entries = size.div_ceil(block_size);
    if entries > MAX_BAT_ENTRIES {
        return Err(WriteError::BatTooLarge { size, block_size, entries, max: MAX_BAT_ENTRIES, chosen: true }.into());
    }
    Ok(block_size as u32)
}

/// A path as UTF-16 little-endian bytes, as `W2ru`/`W2ku` locators store it.
pub fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Recomputes and stores the checksum of a 512-byte footer at `at` in `file` (after a test has
/// patched a field).
pub fn fix_footer_checksum(file: &mut [u8], at: usize) {
    let f = &mut file[at..at + FOOTER_SIZE as usize];
    let sum = checksum(f, footer::off::CHECKSUM);
    f[footer::off::CHECKSUM..footer::off::CHECKSUM + 4].copy_from_slice(&sum.to_be_bytes());
}

/// Recomputes and stores the checksum of a 1024-byte dynamic header at `at` in `file`.
pub fn fix_header_checksum(file: &mut [u8], at: usize) {
    let h = &mut file[at..at + HEADER_SIZE as usize];
    let sum = checksum(h, header::off::CHECKSUM);
    h[header::off::CHECKSUM..header::off::CHECKSUM + 4].copy_from_slice(&sum.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::{open_layer, DiskReader, ReadAt};
    use crate::Disk;

    fn read_all(layers: &[Vec<u8>]) -> Vec<u8> {
        let opened: Vec<_> = layers.iter().map(|b| open_layer(b).unwrap()).collect();
        let disk = Disk::new(opened, false).unwrap();
        let sources: Vec<&dyn ReadAt> = layers.iter().map(|b| b as &dyn ReadAt).collect();
        let mut r = DiskReader::new(&disk, sources).unwrap();
        let mut out = vec![0u8; disk.size() as usize];
        r.read(0, &mut out).unwrap();
        out
    }

    #[test]
    fn round_trip_through_a_chain() {
        let mut base = DiskBuilder::dynamic(6 << 20, 1 << 20);
        base.write(0, &[1; 2048]).write(3 << 20, &[2; 512]);
        let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 1 << 20);
        child.write(1024, &[3; 512]).write((5 << 20) + 512, &[4; 1024]);
        let mut grand = DiskBuilder::differencing(&child.parent_ref("child.vhd"), 512 << 10);
        grand.write(1536, &[5; 512]).block_order(BlockOrder::Descending);
        let data = read_all(&[grand.build(), child.build(), base.build()]);
        let mut want = vec![0u8; 6 << 20];
        want[..2048].fill(1);
        want[3 << 20..(3 << 20) + 512].fill(2);
        want[1024..1536].fill(3);
        want[(5 << 20) + 512..(5 << 20) + 1536].fill(4);
        want[1536..2048].fill(5);
        assert!(data == want);
    }

    #[test]
    fn fixed_disks() {
        let mut d = DiskBuilder::fixed(1 << 20);
        d.write(4096, b"hello");
        let bytes = d.build();
        assert_eq!(bytes.len(), (1 << 20) + 512);
        let data = read_all(&[bytes]);
        assert_eq!(&data[4096..4101], b"hello");
        assert!(data[..4096].iter().all(|b| *b == 0));
    }
}
