//! Why a VHDX's own structures cannot be read: one variant per condition, each with the file
//! offset of the structure or field and the values found. [`crate::Error::Vhdx`] carries one.

use std::fmt;

use super::show_bytes;
use crate::bytes::Guid;

/// Why one copy of a VHDX header or region table is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalidity {
    /// Its signature is not the expected one.
    Signature {
        /// The signature expected (`head`, `regi`).
        expected: [u8; 4],
        /// The bytes found.
        actual: [u8; 4],
    },
    /// Its CRC-32C is wrong.
    Checksum {
        /// The checksum stored.
        stored: u32,
        /// The checksum computed.
        computed: u32,
    },
    /// A region table's entry count is over 2047.
    EntryCount {
        /// The count found.
        count: u32,
    },
}

impl fmt::Display for Invalidity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Invalidity::Signature { expected, actual } => {
                write!(f, "no signature \"{}\" (found \"{}\")", show_bytes(expected), show_bytes(actual))
            }
            Invalidity::Checksum { stored, computed } => write!(f, "a wrong CRC-32C (stored {stored:#010x}, computed {computed:#010x})"),
            Invalidity::EntryCount { count } => write!(f, "an entry count of {count}, more than the 2047 allowed"),
        }
    }
}

/// A condition met reading a VHDX's headers, region table or metadata that makes reading
/// impossible.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VhdxError {
    /// The file is shorter than its headers and region tables (`vhdx-too-small`).
    TooSmall {
        /// The file's length.
        len: u64,
        /// The bytes of the headers and region tables.
        need: u64,
    },
    /// Neither header is valid (`vhdx-no-valid-header`).
    NoValidHeader {
        /// Where the first header is.
        offset: u64,
        /// Where the second header is.
        second: u64,
        /// Why the first is not valid.
        first_why: Invalidity,
        /// Why the second is not valid.
        second_why: Invalidity,
    },
    /// The current header's version is not 1 (`vhdx-version`).
    Version {
        /// The version field.
        offset: u64,
        /// The version found.
        version: u16,
    },
    /// Neither region table is valid (`vhdx-no-valid-region-table`).
    NoValidRegionTable {
        /// Where the first table is.
        offset: u64,
        /// Where the second table is.
        second: u64,
        /// Why the first is not valid.
        first_why: Invalidity,
        /// Why the second is not valid.
        second_why: Invalidity,
    },
    /// The region table has no entry for a region every VHDX needs (`vhdx-region-missing`).
    RegionMissing {
        /// Where the region table is.
        offset: u64,
        /// The region's name.
        name: &'static str,
        /// The region's GUID.
        guid: Guid,
    },
    /// A region marked required is not one the spec defines (`vhdx-region-unknown`).
    RegionUnknown {
        /// The region table entry.
        offset: u64,
        /// The region's GUID.
        guid: Guid,
    },
    /// The metadata region's size is impossible or larger than this viewer reads
    /// (`vhdx-metadata-size`).
    MetadataSize {
        /// Where the metadata region starts.
        offset: u64,
        /// Its length in bytes.
        len: u64,
        /// The most this viewer reads.
        max: u64,
    },
    /// The metadata table does not start with `metadata` (`vhdx-metadata-signature`).
    MetadataSignature {
        /// Where the metadata table starts.
        offset: u64,
        /// The bytes found.
        found: [u8; 8],
    },
    /// A metadata item marked required is not one the spec defines (`vhdx-metadata-unknown`).
    MetadataUnknown {
        /// The metadata table entry.
        offset: u64,
        /// The item's GUID.
        item: Guid,
    },
    /// A metadata item is shorter than its value (`vhdx-metadata-item-short`).
    MetadataItemShort {
        /// Where the item is.
        offset: u64,
        /// The item's name.
        item: &'static str,
        /// Its length.
        len: usize,
        /// The length its value needs.
        min: usize,
    },
    /// A metadata item every VHDX needs is missing (`vhdx-metadata-item-missing`).
    MetadataItemMissing {
        /// Where the metadata region starts.
        offset: u64,
        /// The item's name.
        item: &'static str,
    },
    /// The block size is not a power of two from 1 MiB to 256 MiB (`vhdx-block-size`).
    BlockSize {
        /// The file parameters item.
        offset: u64,
        /// The block size found.
        block_size: u32,
    },
    /// The virtual disk size is 0 or over 64 TiB (`vhdx-disk-size`).
    DiskSize {
        /// The virtual disk size item.
        offset: u64,
        /// The size found.
        size: u64,
    },
    /// The logical sector size is neither 512 nor 4096 (`vhdx-sector-size`).
    SectorSize {
        /// The logical sector size item.
        offset: u64,
        /// The size found.
        size: u32,
    },
    /// The disk needs more BAT entries than this viewer loads (`vhdx-bat-too-large`).
    BatTooLarge {
        /// Where the BAT region starts.
        offset: u64,
        /// The entries the disk needs.
        entries: u64,
        /// The most this viewer loads.
        max: u64,
    },
}

impl VhdxError {
    /// The file offset of the structure or field.
    pub fn offset(&self) -> u64 {
        match self {
            VhdxError::TooSmall { .. } => 0,
            VhdxError::NoValidHeader { offset, .. }
            | VhdxError::Version { offset, .. }
            | VhdxError::NoValidRegionTable { offset, .. }
            | VhdxError::RegionMissing { offset, .. }
            | VhdxError::RegionUnknown { offset, .. }
            | VhdxError::MetadataSize { offset, .. }
            | VhdxError::MetadataSignature { offset, .. }
            | VhdxError::MetadataUnknown { offset, .. }
            | VhdxError::MetadataItemShort { offset, .. }
            | VhdxError::MetadataItemMissing { offset, .. }
            | VhdxError::BlockSize { offset, .. }
            | VhdxError::DiskSize { offset, .. }
            | VhdxError::SectorSize { offset, .. }
            | VhdxError::BatTooLarge { offset, .. } => *offset,
        }
    }

    /// The condition's stable code.
    pub fn code(&self) -> &'static str {
        match self {
            VhdxError::TooSmall { .. } => "vhdx-too-small",
            VhdxError::NoValidHeader { .. } => "vhdx-no-valid-header",
            VhdxError::Version { .. } => "vhdx-version",
            VhdxError::NoValidRegionTable { .. } => "vhdx-no-valid-region-table",
            VhdxError::RegionMissing { .. } => "vhdx-region-missing",
            VhdxError::RegionUnknown { .. } => "vhdx-region-unknown",
            VhdxError::MetadataSize { .. } => "vhdx-metadata-size",
            VhdxError::MetadataSignature { .. } => "vhdx-metadata-signature",
            VhdxError::MetadataUnknown { .. } => "vhdx-metadata-unknown",
            VhdxError::MetadataItemShort { .. } => "vhdx-metadata-item-short",
            VhdxError::MetadataItemMissing { .. } => "vhdx-metadata-item-missing",
            VhdxError::BlockSize { .. } => "vhdx-block-size",
            VhdxError::DiskSize { .. } => "vhdx-disk-size",
            VhdxError::SectorSize { .. } => "vhdx-sector-size",
            VhdxError::BatTooLarge { .. } => "vhdx-bat-too-large",
        }
    }
}

impl fmt::Display for VhdxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {:#x}: ", self.offset())?;
        match self {
            VhdxError::TooSmall { len, need } => write!(
                f,
                "the file starts like a VHDX but is {len} bytes long, shorter than the {need} bytes of its headers and region tables"
            ),
            VhdxError::NoValidHeader { offset, second, first_why, second_why } => write!(
                f,
                "neither VHDX header is valid: the header at {offset:#x} has {first_why}, the one at {second:#x} has {second_why}"
            ),
            VhdxError::Version { version, .. } => {
                write!(f, "the header's version is {version}; VHDX version 1 is the only one defined")
            }
            VhdxError::NoValidRegionTable { offset, second, first_why, second_why } => write!(
                f,
                "neither region table is valid: the one at {offset:#x} has {first_why}, the one at {second:#x} has {second_why}"
            ),
            VhdxError::RegionMissing { name, guid, .. } => {
                write!(f, "the region table has no entry for the {name} (region {guid}), which every VHDX needs")
            }
            VhdxError::RegionUnknown { guid, .. } => {
                write!(f, "region {guid} is marked required but is not one this viewer (or the spec) knows")
            }
            VhdxError::MetadataSize { len, max, .. } => write!(
                f,
                "the metadata region is {len} bytes; it must hold the 64 KiB table, and this viewer reads at most {max}"
            ),
            VhdxError::MetadataSignature { found, .. } => {
                write!(f, "the metadata table has no signature \"metadata\" (found \"{}\")", show_bytes(found))
            }
            VhdxError::MetadataUnknown { item, .. } => {
                write!(f, "metadata item {item} is marked required but is not one this viewer (or the spec) knows")
            }
            VhdxError::MetadataItemShort { item, len, min, .. } => write!(f, "the {item} item is {len} bytes, less than its {min}"),
            VhdxError::MetadataItemMissing { item, .. } => {
                write!(f, "the metadata table has no {item} item, which every VHDX needs")
            }
            VhdxError::BlockSize { block_size, .. } => {
                write!(f, "the block size is {block_size}; the spec allows powers of two from 1 MiB to 256 MiB")
            }
            VhdxError::DiskSize { size, .. } => {
                write!(f, "the virtual disk size is {size} bytes; the spec allows 1 sector to 64 TiB")
            }
            VhdxError::SectorSize { size, .. } => write!(f, "the logical sector size is {size}; only 512 and 4096 are allowed"),
            VhdxError::BatTooLarge { entries, max, .. } => write!(
                f,
                "the disk needs {entries} BAT entries, more than the {max} this viewer loads (a 64 TiB disk with 8 MiB blocks needs about 8.4 million)"
            ),
        }
    }
}
