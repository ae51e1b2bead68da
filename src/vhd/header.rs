//! The dynamic disk header (spec: "Dynamic Disk Header Format"): 1024 bytes at the footer's
//! `data offset` in dynamic and differencing disks.

use super::locator::LocatorEntry;
use crate::bytes::{array, be32, be64, utf16be_checked};
use crate::values::{checksum, Timestamp, Uuid};

/// Size of the dynamic header in bytes.
pub const HEADER_SIZE: u64 = 1024;
/// The header's cookie.
pub const HEADER_COOKIE: &[u8; 8] = b"cxsparse";
/// The one header version the spec defines (1.0).
pub const HEADER_VERSION: u32 = 0x0001_0000;
/// Number of parent locator entries.
pub const LOCATOR_COUNT: usize = 8;

/// Byte offsets of the header's fields.
/// Byte offsets of the fields, named after the spec.
#[allow(missing_docs)]
pub mod off {
    pub const COOKIE: usize = 0;
    pub const DATA_OFFSET: usize = 8;
    pub const TABLE_OFFSET: usize = 16;
    pub const HEADER_VERSION: usize = 24;
    pub const MAX_TABLE_ENTRIES: usize = 28;
    pub const BLOCK_SIZE: usize = 32;
    pub const CHECKSUM: usize = 36;
    pub const PARENT_UNIQUE_ID: usize = 40;
    pub const PARENT_TIMESTAMP: usize = 56;
    pub const RESERVED1: usize = 60;
    pub const PARENT_UNICODE_NAME: usize = 64;
    pub const PARENT_LOCATORS: usize = 576;
    pub const LOCATOR_SIZE: usize = 24;
    pub const RESERVED2: usize = 768;
}

/// Every field of a dynamic header, decoded, with the raw bytes kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicHeader {
    /// The 1024 raw bytes.
    pub raw: Vec<u8>,
    /// `cookie`: `cxsparse`.
    pub cookie: [u8; 8],
    /// `data offset`: unused, all ones.
    pub data_offset: u64,
    /// `table offset`: file offset of the BAT.
    pub table_offset: u64,
    /// `header version`: 0x00010000.
    pub header_version: u32,
    /// `max table entries`: number of BAT entries.
    pub max_table_entries: u32,
    /// `block size`: bytes of disk data per block.
    pub block_size: u32,
    /// `checksum` as stored.
    pub checksum: u32,
    /// `parent unique id`.
    pub parent_unique_id: Uuid,
    /// `parent time stamp`.
    pub parent_timestamp: Timestamp,
    /// `reserved` (4 bytes after the parent time stamp).
    pub reserved1: u32,
    /// `parent unicode name`: the raw 512 bytes, UTF-16 big-endian.
    pub parent_unicode_name_raw: Vec<u8>,
    /// The eight `parent locator entries`.
    pub locators: Vec<LocatorEntry>,
    /// The checksum computed from the other bytes.
    pub computed_checksum: u32,
}

impl DynamicHeader {
    /// Decodes 1024 bytes as a dynamic header. Never fails: validity is judged by the caller.
    pub fn parse(bytes: &[u8]) -> DynamicHeader {
        let mut raw = vec![0u8; HEADER_SIZE as usize];
        let n = bytes.len().min(raw.len());
        raw[..n].copy_from_slice(&bytes[..n]);
        let b = &raw[..];
        let locators = (0..LOCATOR_COUNT)
            .map(|i| {
                let at = off::PARENT_LOCATORS + i * off::LOCATOR_SIZE;
                LocatorEntry::parse(i, &b[at..at + off::LOCATOR_SIZE])
            })
            .collect();
        DynamicHeader {
            cookie: array(b, off::COOKIE),
            data_offset: be64(b, off::DATA_OFFSET),
            table_offset: be64(b, off::TABLE_OFFSET),
            header_version: be32(b, off::HEADER_VERSION),
            max_table_entries: be32(b, off::MAX_TABLE_ENTRIES),
            block_size: be32(b, off::BLOCK_SIZE),
            checksum: be32(b, off::CHECKSUM),
            parent_unique_id: Uuid(array(b, off::PARENT_UNIQUE_ID)),
            parent_timestamp: Timestamp(be32(b, off::PARENT_TIMESTAMP)),
            reserved1: be32(b, off::RESERVED1),
            parent_unicode_name_raw: b[off::PARENT_UNICODE_NAME..off::PARENT_LOCATORS].to_vec(),
            locators,
            computed_checksum: checksum(b, off::CHECKSUM),
            raw,
        }
    }

    /// True when the cookie reads `cxsparse`.
    pub fn cookie_valid(&self) -> bool {
        &self.cookie == HEADER_COOKIE
    }

    /// True when the stored checksum equals the computed one.
    pub fn checksum_valid(&self) -> bool {
        self.checksum == self.computed_checksum
    }

    /// The parent unicode name decoded from UTF-16 big-endian up to the first NUL. Unpaired
    /// surrogates become U+FFFD; `None` says there were some.
    pub fn parent_unicode_name(&self) -> (String, bool) {
        utf16be_checked(&self.parent_unicode_name_raw)
    }

    /// Number of sectors in a block.
    pub fn sectors_per_block(&self) -> u64 {
        u64::from(self.block_size) / 512
    }

    /// Bytes of the sector bitmap at the start of each block: one bit per sector, padded to a
    /// whole sector.
    pub fn bitmap_size(&self) -> u64 {
        let bytes = self.sectors_per_block().div_ceil(8);
        bytes.div_ceil(512) * 512
    }

    /// True when the reserved area (768..1024) is all zero.
    pub fn reserved_is_zero(&self) -> bool {
        self.raw[off::RESERVED2..].iter().all(|b| *b == 0) && self.reserved1 == 0
    }
}
