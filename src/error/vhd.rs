//! Why a VHD's own structures cannot be read: one variant per condition, each with the file
//! offset of the field and the value found there. [`crate::Error::Vhd`] carries one.

use std::fmt;

use super::show_bytes;
use crate::values::human_size;

/// A condition met reading a VHD's footer, dynamic header or BAT that makes reading impossible.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VhdError {
    /// The footer's disk type is not fixed, dynamic or differencing (`disk-type`).
    DiskType {
        /// The disk type field.
        offset: u64,
        /// The value found.
        value: u32,
    },
    /// A dynamic or differencing disk's data offset does not point at a dynamic header
    /// (`data-offset`).
    DataOffset {
        /// The data offset field.
        offset: u64,
        /// The disk type's name.
        disk_type: &'static str,
        /// The value found.
        data_offset: u64,
    },
    /// The dynamic header does not start with `cxsparse` (`header-cookie`).
    HeaderCookie {
        /// Where the header starts.
        offset: u64,
        /// The eight bytes found there.
        found: [u8; 8],
    },
    /// The block size is not a positive whole number of 512-byte sectors (`block-size`).
    BlockSize {
        /// The block size field.
        offset: u64,
        /// The value found.
        block_size: u32,
    },
    /// The block size is larger than this viewer reads (`block-size-too-large`).
    BlockSizeTooLarge {
        /// The block size field.
        offset: u64,
        /// The value found.
        block_size: u32,
        /// The largest this viewer reads.
        max: u32,
    },
    /// The disk needs more BAT entries than this viewer loads (`bat-too-large`).
    BatTooLarge {
        /// The max table entries field.
        offset: u64,
        /// The entries the disk needs.
        entries: u64,
        /// The most this viewer loads.
        max: u64,
    },
}

impl VhdError {
    /// The file offset of the field.
    pub fn offset(&self) -> u64 {
        match self {
            VhdError::DiskType { offset, .. }
            | VhdError::DataOffset { offset, .. }
            | VhdError::HeaderCookie { offset, .. }
            | VhdError::BlockSize { offset, .. }
            | VhdError::BlockSizeTooLarge { offset, .. }
            | VhdError::BatTooLarge { offset, .. } => *offset,
        }
    }

    /// The condition's stable code.
    pub fn code(&self) -> &'static str {
        match self {
            VhdError::DiskType { .. } => "disk-type",
            VhdError::DataOffset { .. } => "data-offset",
            VhdError::HeaderCookie { .. } => "header-cookie",
            VhdError::BlockSize { .. } => "block-size",
            VhdError::BlockSizeTooLarge { .. } => "block-size-too-large",
            VhdError::BatTooLarge { .. } => "bat-too-large",
        }
    }
}

impl fmt::Display for VhdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {:#x}: ", self.offset())?;
        match self {
            VhdError::DiskType { value, .. } => write!(
                f,
                "disk type {value} is not one of 2 (fixed), 3 (dynamic) or 4 (differencing){}",
                match value {
                    0 => ": 0 means \"none\"",
                    1 | 5 | 6 => ": the spec reserves this value",
                    _ => "",
                }
            ),
            VhdError::DataOffset { disk_type, data_offset, .. } => {
                write!(f, "a {disk_type} disk needs a data offset pointing at its dynamic header, but it is {data_offset:#x}")
            }
            VhdError::HeaderCookie { found, .. } => {
                write!(f, "expected the dynamic header cookie \"cxsparse\", found \"{}\"", show_bytes(found))
            }
            VhdError::BlockSize { block_size, .. } => {
                write!(f, "block size {block_size} is not a positive whole number of 512-byte sectors, so no block can be located")
            }
            VhdError::BlockSizeTooLarge { block_size, max, .. } => write!(
                f,
                "block size {} ({block_size} bytes) is larger than the {} this viewer reads; real writers use 512 KiB to 2 MiB",
                human_size((*block_size).into()),
                human_size((*max).into())
            ),
            VhdError::BatTooLarge { entries, max, .. } => write!(
                f,
                "the disk needs {entries} BAT entries, more than the {max} this viewer loads (a 2040 GiB disk with 512 KiB blocks needs 4177920)"
            ),
        }
    }
}
