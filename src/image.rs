//! The format-neutral types every disk format's reader turns its bytes into, and that the rest
//! of the core works with: byte ranges to read, structures with the offset they were found at,
//! the disk's type, a block's state and how it is read, and an opened file with its findings.
//! This module imports neither format: [`crate::vhd`] and [`crate::vhdx`] build on it, and
//! [`crate::layer`] puts one [`Layer`](crate::layer::Layer) over both.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::finding::Finding;

/// A range of bytes in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ByteRange {
    /// First byte.
    pub offset: u64,
    /// Number of bytes.
    pub len: u64,
}

impl ByteRange {
    /// The range `[offset, offset + len)`.
    pub fn new(offset: u64, len: u64) -> Self {
        ByteRange { offset, len }
    }

    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.offset.saturating_add(self.len)
    }

    /// True when the two ranges share a byte.
    pub fn overlaps(&self, other: &ByteRange) -> bool {
        self.offset < other.end() && other.offset < self.end() && self.len > 0 && other.len > 0
    }
}

/// A structure together with the file offset it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// File offset of the first byte.
    pub offset: u64,
    /// The structure.
    pub value: T,
}

/// The most findings of one kind listed one by one; the rest are counted in a final finding.
pub const MAX_FINDINGS_PER_KIND: usize = 16;

/// How an opener reads: the bytes of a range, if they were provided.
pub(crate) type Fetch<'a> = dyn Fn(ByteRange) -> Option<&'a [u8]> + 'a;

/// What a format's opener gives: the file's structures (`image`), where its data area ends, and
/// what was noticed while reading them.
#[derive(Debug, Clone)]
pub struct Opened<T> {
    /// Length of the file in bytes.
    pub file_len: u64,
    /// The end of the data area: a VHD's end footer starts there (the file length when the
    /// footer was recovered from the copy, and for a VHDX).
    pub data_end: u64,
    /// What was noticed while opening.
    pub findings: Vec<Finding>,
    /// The format's structures.
    pub image: T,
}

/// The type of a disk, whatever its format: a VHD footer's `disk type`, or what a VHDX's file
/// parameters say (`LeaveBlocksAllocated`: fixed; `HasParent`: differencing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskType {
    /// 2: raw data followed by the footer.
    Fixed,
    /// 3: blocks allocated as written.
    Dynamic,
    /// 4: like dynamic; unwritten sectors come from the parent.
    Differencing,
    /// Any other value (0 none, 1, 5 and 6 reserved, or garbage).
    Other(u32),
}

impl DiskType {
    /// Decodes the field.
    pub fn from_u32(v: u32) -> Self {
        match v {
            2 => DiskType::Fixed,
            3 => DiskType::Dynamic,
            4 => DiskType::Differencing,
            other => DiskType::Other(other),
        }
    }

    /// The name used in JSON: `fixed`, `dynamic`, `differencing`, or `unknown`.
    pub fn name(self) -> &'static str {
        match self {
            DiskType::Fixed => "fixed",
            DiskType::Dynamic => "dynamic",
            DiskType::Differencing => "differencing",
            DiskType::Other(_) => "unknown",
        }
    }

    /// True for dynamic and differencing disks, which have a dynamic header and a BAT.
    pub fn is_sparse(self) -> bool {
        matches!(self, DiskType::Dynamic | DiskType::Differencing)
    }
}

/// A payload block's state (2.5.1.1), bits 0-2 of its BAT entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockState {
    /// 0 `PAYLOAD_BLOCK_NOT_PRESENT`: not in the file (zeros; a differencing disk's parent).
    NotPresent,
    /// 1 `PAYLOAD_BLOCK_UNDEFINED`: contents undefined (read as zeros, in a differencing disk
    /// too, as 7-Zip reads them; libvhdi reads the parent's data).
    Undefined,
    /// 2 `PAYLOAD_BLOCK_ZERO`: reads as zeros.
    Zero,
    /// 3 `PAYLOAD_BLOCK_UNMAPPED`: unmapped by a trim (read as zeros, as for undefined).
    Unmapped,
    /// 6 `PAYLOAD_BLOCK_FULLY_PRESENT`: every sector is in the file.
    FullyPresent,
    /// 7 `PAYLOAD_BLOCK_PARTIALLY_PRESENT`: the sector bitmap says which sectors are in the file
    /// (differencing disks).
    PartiallyPresent,
    /// 4 or 5: not defined by the spec.
    Other(u8),
}

impl BlockState {
    /// Decodes bits 0-2.
    pub fn from_bits(v: u8) -> BlockState {
        match v & 7 {
            0 => BlockState::NotPresent,
            1 => BlockState::Undefined,
            2 => BlockState::Zero,
            3 => BlockState::Unmapped,
            6 => BlockState::FullyPresent,
            7 => BlockState::PartiallyPresent,
            o => BlockState::Other(o),
        }
    }

    /// The spec's name.
    pub fn name(self) -> &'static str {
        match self {
            BlockState::NotPresent => "not present",
            BlockState::Undefined => "undefined",
            BlockState::Zero => "zero",
            BlockState::Unmapped => "unmapped",
            BlockState::FullyPresent => "fully present",
            BlockState::PartiallyPresent => "partially present",
            BlockState::Other(_) => "invalid",
        }
    }

    /// The state's code: bits 0-2 of a VHDX BAT entry.
    pub fn code(self) -> u8 {
        match self {
            BlockState::NotPresent => 0,
            BlockState::Undefined => 1,
            BlockState::Zero => 2,
            BlockState::Unmapped => 3,
            BlockState::FullyPresent => 6,
            BlockState::PartiallyPresent => 7,
            BlockState::Other(v) => v,
        }
    }

    /// True when the block has a place in the file.
    pub fn has_data(self) -> bool {
        matches!(self, BlockState::FullyPresent | BlockState::PartiallyPresent)
    }
}

/// A layer's block table as a map draws it, whatever the format and the disk's size: per block
/// its state and where it is in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BlockTable {
    /// The number of blocks; those past the entries of `states` are not present (a VHDX whose
    /// BAT is short).
    pub blocks: u64,
    /// Per block, its state's [`BlockState::code`]: a VHD's blocks are not present (0) or in the
    /// file (6); a VHDX's payload blocks are in any of its six states.
    pub states: Vec<u8>,
    /// Per block in the file, where it starts, in `unit`s (0 for the others): a VHD's BAT entry
    /// (the sector of the block's bitmap), a VHDX's `FileOffsetMB` (its data).
    pub offsets: Vec<u32>,
    /// Bytes per unit of `offsets`: 512 for a VHD, 1 MiB for a VHDX.
    pub unit: u32,
    /// Bytes of sector bitmap before each block's data in the file (a VHD's; 0 for a VHDX,
    /// whose sector bitmaps are in blocks of their own).
    pub bitmap_before: u32,
    /// Per block, 1 when it lies in the file before a block with a lower index (empty when the
    /// format does not say: a VHDX).
    pub out_of_order: Vec<u8>,
    /// The states present, in code order, as (code, name, count of blocks): what a legend shows.
    pub legend: Vec<(u8, &'static str, u64)>,
}

impl BlockTable {
    /// The table of `blocks` blocks, the first ones in `states` (with `offsets`, `unit`,
    /// `bitmap_before` and `out_of_order` as [`BlockTable`] says), with its legend's names from
    /// `name`.
    pub fn new(
        blocks: u64,
        (states, offsets): (Vec<u8>, Vec<u32>),
        (unit, bitmap_before): (u32, u32),
        out_of_order: Vec<u8>,
        name: impl Fn(u8) -> &'static str,
    ) -> Self {
        let mut counts = [0u64; 8];
        counts[0] = blocks.saturating_sub(states.len() as u64);
        for s in &states {
            counts[usize::from(s & 7)] += 1;
        }
        let legend = (0u8..8).filter(|c| counts[usize::from(*c)] > 0).map(|c| (c, name(c), counts[usize::from(c)])).collect();
        BlockTable { blocks, states, offsets, unit, bitmap_before, out_of_order, legend }
    }
}

/// How a block of one layer is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockRead {
    /// From the layer below (a differencing disk's parent), or zeros when there is none.
    Below,
    /// Zeros.
    Zero,
    /// All sectors from the file, starting at this offset.
    Data(u64),
    /// Sectors whose bit is set in the bitmap at `bitmap` from the file at `data`, the others
    /// from below.
    Partial {
        /// Where the block's data is.
        data: u64,
        /// Where its part of the sector bitmap is.
        bitmap: ByteRange,
    },
}

/// Bytes handed to an opener, kept in 4-byte words: a chunk of big-endian words (a VHD's BAT)
/// becomes a table in place (each word's bytes swapped), without a second buffer of its size.
#[derive(Debug, Default)]
pub(crate) struct Store {
    chunks: Vec<Chunk>,
    provided: u64,
}

#[derive(Debug)]
struct Chunk {
    offset: u64,
    len: usize,
    words: Vec<u32>,
}

impl Chunk {
    fn new(offset: u64, len: usize) -> Chunk {
        Chunk { offset, len, words: vec![0; len.div_ceil(4)] }
    }

    fn bytes(&self) -> &[u8] {
        &bytemuck::cast_slice(&self.words)[..self.len]
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut bytemuck::cast_slice_mut(&mut self.words)[..self.len]
    }
}

impl Store {
    /// Keeps `len` bytes at `offset`, which `fill` writes in place; nothing is kept when it fails.
    pub(crate) fn provide_with<E>(
        &mut self,
        offset: u64,
        len: usize,
        fill: impl FnOnce(&mut [u8]) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let mut chunk = Chunk::new(offset, len);
        fill(chunk.bytes_mut())?;
        self.provided += chunk.len as u64;
        self.chunks.push(chunk);
        Ok(())
    }

    /// Total bytes provided so far.
    pub(crate) fn provided(&self) -> u64 {
        self.provided
    }

    /// The bytes of `r`, if one chunk holds them.
    pub(crate) fn get(&self, r: ByteRange) -> Option<&[u8]> {
        self.chunks.iter().find_map(|c| {
            let start = r.offset.checked_sub(c.offset)?;
            let end = start.checked_add(r.len)?;
            c.bytes().get(usize::try_from(start).ok()?..usize::try_from(end).ok()?)
        })
    }

    /// The big-endian 4-byte words of `r`: the chunk provided for exactly that range turned
    /// into them in place, or (bytes provided in some other shape) decoded from where they lie.
    pub(crate) fn take_be_words(&mut self, r: ByteRange) -> Vec<u32> {
        let exact = self.chunks.iter().position(|c| c.offset == r.offset && c.len as u64 == r.len && c.len % 4 == 0);
        if let Some(i) = exact {
            let mut words = self.chunks.swap_remove(i).words;
            for w in &mut words {
                *w = u32::from_be(*w);
            }
            return words;
        }
        self.get(r).map_or_else(Vec::new, |b| b.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect())
    }
}

/// Where a writer puts bytes: a file written at offsets (the command line's temporary file), or
/// a buffer. Writers of new files never write a range twice except the metadata they finish
/// with, and leave runs of zeros unwritten: a file reads them as zeros (a hole), a buffer is
/// zero-filled as it grows.
pub trait WriteAt {
    /// Writes `bytes` at `offset`.
    fn write_at(&mut self, offset: u64, bytes: &[u8]) -> Result<()>;
    /// Makes the output exactly `len` bytes long (zeros past what was written).
    fn set_len(&mut self, len: u64) -> Result<()>;
}

impl WriteAt for Vec<u8> {
    fn write_at(&mut self, offset: u64, bytes: &[u8]) -> Result<()> {
        let too_large = || Error::Io { offset, message: "the output is too large to be held in memory".into() };
        let start = usize::try_from(offset).map_err(|_| too_large())?;
        let end = start.checked_add(bytes.len()).ok_or_else(too_large)?;
        if self.len() < end {
            self.resize(end, 0);
        }
        self[start..end].copy_from_slice(bytes);
        Ok(())
    }
    fn set_len(&mut self, len: u64) -> Result<()> {
        let n =
            usize::try_from(len).map_err(|_| Error::Io { offset: len, message: "the output is too large to be held in memory".into() })?;
        self.resize(n, 0);
        Ok(())
    }
}

#[cfg(unix)]
impl WriteAt for std::fs::File {
    fn write_at(&mut self, offset: u64, bytes: &[u8]) -> Result<()> {
        use std::os::unix::fs::FileExt;
        self.write_all_at(bytes, offset).map_err(|e| Error::Io { offset, message: format!("writing the output: {e}") })
    }
    fn set_len(&mut self, len: u64) -> Result<()> {
        std::fs::File::set_len(self, len).map_err(|e| Error::Io { offset: len, message: format!("sizing the output: {e}") })
    }
}
