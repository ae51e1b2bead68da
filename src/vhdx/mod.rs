//! VHDX, the successor of VHD (Microsoft's "[MS-VHDX]: Virtual Hard Disk v2 (VHDX) File Format"):
//! its file type identifier, two headers, two region tables, metadata region, BAT and log, each
//! with the file offset where it was found.
//!
//! A VHDX file opens into a [`Vhdx`], which [`crate::layer::Layer`] puts beside a VHD behind one
//! type, so that the [`Disk`](crate::Disk)'s planning, the readers and the commands work on both.
//! Opening does no I/O either: [`crate::layer::Opener`] polls the VHDX's rounds when the file
//! starts with `vhdxfile`, and they ask for three rounds of ranges (the identifier, headers and
//! region tables of the first 320 KiB; the metadata region and the log, when it is to be replayed
//! or listed; the BAT), one named state per round, each run once.

mod check;
pub(crate) mod copy;
pub mod encode;
pub mod fields;
pub mod format;
pub mod info;
mod link;
pub mod log;
mod open;
mod plan;
pub(crate) use link::check_parent;
pub mod layout;
pub mod writer;

pub use crate::image::{BlockRead, BlockState};
pub use format::Guid;
pub(crate) use open::Rounds;

use crate::image::{BlockTable, ByteRange, DiskType, Located};
use format::{FileIdentifier, Header, LogEntryHeader, MetadataEntry, MetadataTable, ParentLocator, RegionEntry, RegionTable, MIB};

/// The most BAT entries this viewer loads: 2^23 (64 MiB of table), enough for a 64 TiB disk with
/// 8 MiB blocks, or 8 TiB with 1 MiB blocks.
pub const MAX_BAT_ENTRIES: u64 = 1 << 23;
/// The largest metadata region this viewer reads (the spec's items fit in 1 MiB).
pub const MAX_METADATA_REGION: u64 = 32 * MIB;
/// The largest log this viewer reads to replay.
pub const MAX_LOG: u64 = 64 * MIB;

/// A metadata item as found: its table entry, where its bytes are, and the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The table entry.
    pub entry: MetadataEntry,
    /// Absolute file offset of the item's bytes.
    pub offset: u64,
    /// The bytes (at most 1 MiB; empty when they lie outside the region, and in a file only
    /// identified ([`crate::layer::Opener::identity`]) for an item of a kind the spec does not
    /// define or a repeat of one).
    pub bytes: Vec<u8>,
}

/// What the log says and what was done with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Log {
    /// True when the current header's `LogGuid` is not zero: the disk was not closed cleanly and
    /// the log holds writes that were not yet made to the file.
    pub dirty: bool,
    /// The entries of the active sequence, in the order they are replayed.
    pub entries: Vec<Located<LogEntryHeader>>,
    /// True when the log was replayed in memory: what is shown is the disk after replay (the file
    /// itself is never written).
    pub replayed: bool,
    /// The writes the replay made: (file offset, length).
    pub writes: Vec<ByteRange>,
    /// Every entry header in the log region, replayed or not (a clean log keeps the entries of
    /// earlier sessions), in log order.
    pub region: Vec<LogRegionEntry>,
    /// Why the log region was not read or not listed whole, if so.
    pub region_note: Option<String>,
}

/// An entry found in the log region and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRegionEntry {
    /// The entry as found, verified under its own log GUID.
    pub found: log::Found,
    /// True when it was replayed (part of the active sequence of a dirty log).
    pub replayed: bool,
    /// Why it was or was not replayed, in words.
    pub status: String,
}

/// Everything a VHDX file's metadata says, as found.
#[derive(Debug, Clone)]
pub struct Vhdx {
    /// The file type identifier at byte 0.
    pub identifier: Located<FileIdentifier>,
    /// Both headers, at 64 KiB and 128 KiB.
    pub headers: Vec<Located<Header>>,
    /// Which header is current (0 or 1): the valid one with the larger sequence number.
    pub current_header: usize,
    /// Both region tables, at 192 KiB and 256 KiB.
    pub region_tables: Vec<Located<RegionTable>>,
    /// Which region table is read (the first valid one).
    pub current_region_table: usize,
    /// The BAT region's entry.
    pub bat_region: RegionEntry,
    /// The metadata region's entry.
    pub metadata_region: RegionEntry,
    /// The metadata table at the start of the metadata region.
    pub metadata_table: Located<MetadataTable>,
    /// The metadata items, in table order.
    pub items: Vec<Item>,
    /// File parameters `BlockSize`.
    pub block_size: u32,
    /// File parameters `LeaveBlocksAllocated`: blocks are allocated up front (a fixed disk).
    pub leave_blocks_allocated: bool,
    /// File parameters `HasParent`: a differencing disk.
    pub has_parent: bool,
    /// `VirtualDiskSize`.
    pub virtual_disk_size: u64,
    /// `LogicalSectorSize`: 512 or 4096.
    pub logical_sector_size: u32,
    /// `PhysicalSectorSize`: 512 or 4096.
    pub physical_sector_size: u32,
    /// `Page83Data`: the disk's SCSI identity.
    pub page83: Option<Guid>,
    /// The parent locator of a differencing disk.
    pub parent_locator: Option<Located<ParentLocator>>,
    /// Payload blocks per sector bitmap block: 2^23 × logical sector size / block size.
    pub chunk_ratio: u64,
    /// Payload blocks of the virtual disk.
    pub payload_blocks: u64,
    /// Sector bitmap blocks (chunks).
    pub bitmap_blocks: u64,
    /// The BAT entries read (payload and sector bitmap entries interleaved).
    pub bat: Vec<u64>,
    /// Where the BAT starts.
    pub bat_offset: u64,
    /// The log.
    pub log: Log,
}

impl Vhdx {
    /// The disk's type, after the file parameters: `HasParent` a differencing disk,
    /// `LeaveBlocksAllocated` a fixed one, else a dynamic one.
    pub fn disk_type(&self) -> DiskType {
        if self.has_parent {
            DiskType::Differencing
        } else if self.leave_blocks_allocated {
            DiskType::Fixed
        } else {
            DiskType::Dynamic
        }
    }

    /// Where the `VirtualDiskSize` item's bytes are (the metadata table's offset when it has none).
    pub fn virtual_disk_size_offset(&self) -> u64 {
        self.items.iter().find(|i| i.entry.item_id == format::ITEM_VIRTUAL_DISK_SIZE).map_or(self.metadata_table.offset, |i| i.offset)
    }

    /// The current header.
    pub fn header(&self) -> &Header {
        &self.headers[self.current_header].value
    }

    /// The BAT index of payload block `block`.
    pub fn payload_index(&self, block: u64) -> u64 {
        block + block / self.chunk_ratio.max(1)
    }

    /// The BAT index of the sector bitmap entry of chunk `chunk`.
    pub fn bitmap_index(&self, chunk: u64) -> u64 {
        chunk * (self.chunk_ratio + 1) + self.chunk_ratio
    }

    /// Bytes of sector bitmap per payload block.
    pub fn bitmap_bytes_per_block(&self) -> u64 {
        u64::from(self.block_size) / u64::from(self.logical_sector_size.max(1)) / 8
    }

    /// The raw BAT entry of payload block `block`, or 0 (not present) past the table read.
    pub fn payload_entry(&self, block: u64) -> u64 {
        usize::try_from(self.payload_index(block)).ok().and_then(|i| self.bat.get(i)).copied().unwrap_or(0)
    }

    /// Payload block `block`'s state and file offset.
    pub fn block(&self, block: u64) -> (BlockState, u64) {
        let e = self.payload_entry(block);
        let (state, _, mb) = format::bat_parts(e);
        (BlockState::from_bits(state), mb.saturating_mul(MIB))
    }

    /// How payload block `block` is read.
    pub fn block_read(&self, block: u64) -> BlockRead {
        let (state, offset) = self.block(block);
        match state {
            BlockState::FullyPresent => BlockRead::Data(offset),
            BlockState::PartiallyPresent if self.has_parent => match self.bitmap_range(block) {
                Some(bitmap) => BlockRead::Partial { data: offset, bitmap },
                None => BlockRead::Below,
            },
            // Partially present in a disk without a parent: every sector is in the file.
            BlockState::PartiallyPresent => BlockRead::Data(offset),
            // Only a block not present comes from the parent. Undefined, zero and unmapped
            // blocks read as zeros, as 7-Zip reads them (libvhdi reads the parent's data there).
            BlockState::NotPresent if self.has_parent => BlockRead::Below,
            _ => BlockRead::Zero,
        }
    }

    /// Where the part of the sector bitmap that covers payload block `block` is, when its
    /// sector bitmap block is present.
    pub fn bitmap_range(&self, block: u64) -> Option<ByteRange> {
        let chunk = block / self.chunk_ratio.max(1);
        let e = usize::try_from(self.bitmap_index(chunk)).ok().and_then(|i| self.bat.get(i)).copied()?;
        let (state, _, mb) = format::bat_parts(e);
        (state == 6).then(|| {
            let per = self.bitmap_bytes_per_block();
            ByteRange::new(mb.saturating_mul(MIB).saturating_add((block % self.chunk_ratio.max(1)) * per), per)
        })
    }

    /// Payload blocks whose entries are in the BAT read: the others are not present.
    pub fn payload_blocks_in_bat(&self) -> u64 {
        let n = self.bat.len() as u64;
        (n - n / (self.chunk_ratio + 1)).min(self.payload_blocks)
    }

    /// The BAT entries of the payload blocks in the table, in block order (the sector bitmap
    /// entries between them skipped, without a division per block).
    fn payload_entries(&self) -> impl Iterator<Item = u64> + '_ {
        let r = usize::try_from(self.chunk_ratio.max(1)).unwrap_or(usize::MAX - 1);
        let in_bat = usize::try_from(self.payload_blocks_in_bat()).unwrap_or(usize::MAX);
        self.bat.chunks(r.saturating_add(1)).flat_map(move |c| c[..c.len().min(r)].iter().copied()).take(in_bat)
    }

    /// The payload blocks as a map draws them: each block's state and `FileOffsetMB`, for every
    /// block of the disk (those past the entries of the BAT read are not present).
    pub fn block_table(&self) -> BlockTable {
        let (states, offsets) = self
            .payload_entries()
            .map(|e| {
                let (state, _, mb) = format::bat_parts(e);
                (state, if BlockState::from_bits(state).has_data() { u32::try_from(mb).unwrap_or(u32::MAX) } else { 0 })
            })
            .unzip();
        BlockTable::new(self.payload_blocks, (states, offsets), (MIB as u32, 0), Vec::new(), |c| BlockState::from_bits(c).name())
    }

    /// Payload blocks whose bytes are in the file (fully or partially present).
    pub fn allocated_blocks(&self) -> u64 {
        self.payload_entries().filter(|e| BlockState::from_bits(format::bat_parts(*e).0).has_data()).count() as u64
    }

    /// Count of payload blocks in each state, in the order of [`BlockState`]'s variants.
    pub fn state_counts(&self) -> Vec<(BlockState, u64)> {
        let mut counts: Vec<(BlockState, u64)> = Vec::new();
        let in_bat = self.payload_blocks_in_bat();
        if in_bat < self.payload_blocks {
            counts.push((BlockState::NotPresent, self.payload_blocks - in_bat));
        }
        // By the state's 3 bits first, then named.
        let mut by_bits = [0u64; 8];
        for e in self.payload_entries() {
            by_bits[(format::bat_parts(e).0 & 7) as usize] += 1;
        }
        for (bits, n) in by_bits.into_iter().enumerate().filter(|(_, n)| *n > 0) {
            let s = BlockState::from_bits(bits as u8);
            match counts.iter_mut().find(|(k, _)| *k == s) {
                Some((_, k)) => *k += n,
                None => counts.push((s, n)),
            }
        }
        // The spec's states by their codes, then any other value after them.
        counts.sort_by_key(|(s, _)| match s {
            BlockState::Other(v) => 8 + u32::from(*v),
            known => u32::from(known.code()),
        });
        counts
    }

    /// The sector bitmap blocks: their count present.
    pub fn bitmap_blocks_present(&self) -> u64 {
        (0..self.bitmap_blocks)
            .filter(|c| {
                usize::try_from(self.bitmap_index(*c)).ok().and_then(|i| self.bat.get(i)).is_some_and(|e| format::bat_parts(*e).0 == 6)
            })
            .count() as u64
    }

    /// The id a child names this disk by: the current header's `DataWriteGuid`.
    pub fn data_write_guid(&self) -> Guid {
        self.header().data_write_guid
    }

    /// The parent's `DataWriteGuid` as the child's `parent_linkage` names it, and its
    /// `parent_linkage2` (the id the parent had before a write that was not completed).
    pub fn parent_linkage(&self) -> (Option<Guid>, Option<Guid>) {
        let Some(l) = &self.parent_locator else { return (None, None) };
        (l.value.get("parent_linkage").and_then(Guid::parse), l.value.get("parent_linkage2").and_then(Guid::parse))
    }

    /// Where the parent may be, most trustworthy first, with `/` as separator: `relative_path`
    /// (relative to the child's folder), the file names of `absolute_win32_path` and
    /// `volume_path` in the child's folder, then those paths as they are.
    pub fn parent_candidates(&self) -> Vec<String> {
        let Some(l) = &self.parent_locator else { return Vec::new() };
        let mut out: Vec<String> = Vec::new();
        let mut push = |p: String| {
            if !p.is_empty() && !out.contains(&p) {
                out.push(p);
            }
        };
        if let Some(p) = l.value.get("relative_path") {
            push(p.replace('\\', "/").trim_start_matches("./").to_string());
        }
        let abs: Vec<String> =
            ["absolute_win32_path", "volume_path"].iter().filter_map(|k| l.value.get(k)).map(|p| p.replace('\\', "/")).collect();
        for p in &abs {
            push(p.rsplit('/').next().unwrap_or_default().to_string());
        }
        for p in abs {
            push(p);
        }
        out
    }

    /// The byte ranges that hold metadata (identifier, headers, region tables, log, BAT,
    /// metadata region), with their names: what a payload block must not overlap.
    pub fn metadata_ranges(&self) -> Vec<(&'static str, ByteRange)> {
        let h = self.header();
        let mut v = vec![
            ("header section", ByteRange::new(0, format::HEADER_SECTION)),
            ("BAT", ByteRange::new(self.bat_region.file_offset, u64::from(self.bat_region.length))),
            ("metadata region", ByteRange::new(self.metadata_region.file_offset, u64::from(self.metadata_region.length))),
        ];
        if h.log_length > 0 {
            v.push(("log", ByteRange::new(h.log_offset, u64::from(h.log_length))));
        }
        v
    }
}
