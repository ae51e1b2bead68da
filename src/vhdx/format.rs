//! The VHDX on-disk structures ([MS-VHDX] section 2), each decoded from its raw bytes without
//! failing: whether the result is good is for its own checks to say. All integers are
//! little-endian; strings are UTF-16LE.

use crate::crc32c::crc32c_with_zeroed;

/// `vhdxfile`, at byte 0 of every VHDX file.
pub const SIGNATURE: &[u8; 8] = b"vhdxfile";
/// 1 MiB, the unit of most VHDX offsets and lengths.
pub const MIB: u64 = 1 << 20;
/// 64 KiB, the size of the file type identifier and of a region or metadata table.
pub const KIB64: u64 = 64 << 10;
/// The bytes of the file type identifier that hold something: its signature and creator (the
/// rest of its 64 KiB is reserved).
pub const IDENTIFIER_SIZE: u64 = 520;
/// Where the two headers are.
pub const HEADER_OFFSETS: [u64; 2] = [0x10000, 0x20000];
/// Where the two region tables are.
pub const REGION_TABLE_OFFSETS: [u64; 2] = [0x30000, 0x40000];
/// Size of a header.
pub const HEADER_SIZE: u64 = 4096;
/// Size of a region table.
pub const REGION_TABLE_SIZE: u64 = KIB64;
/// Bytes at the start of the file holding the identifier, both headers and both region tables.
pub const HEADER_SECTION: u64 = 0x50000;
/// The most region table entries the spec allows.
pub const MAX_REGION_ENTRIES: u32 = 2047;
/// The most metadata table entries the spec allows.
pub const MAX_METADATA_ENTRIES: u16 = 2047;
/// Size of a sector bitmap block.
pub const SECTOR_BITMAP_BLOCK: u64 = MIB;
/// The largest virtual disk the spec allows: 64 TiB.
pub const MAX_DISK_SIZE: u64 = 64 << 40;

/// VHDX's GUIDs are the core's [`crate::bytes::Guid`]: stored as GPT stores them.
pub use crate::bytes::Guid;
use crate::bytes::{array, le16, le32, le64, utf16le_checked};

const fn g(b: [u8; 16]) -> Guid {
    Guid::from_text_order(b)
}

/// Region: the block allocation table, 2DC27766-F623-4200-9D64-115E9BFD4A08.
pub const REGION_BAT: Guid = g([0x2d, 0xc2, 0x77, 0x66, 0xf6, 0x23, 0x42, 0x00, 0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08]);
/// Region: the metadata region, 8B7CA206-4790-4B9A-B8FE-575F050F886E.
pub const REGION_METADATA: Guid = g([0x8b, 0x7c, 0xa2, 0x06, 0x47, 0x90, 0x4b, 0x9a, 0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e]);
/// Metadata item: file parameters, CAA16737-FA36-4D43-B3B6-33F0AA44E76B.
pub const ITEM_FILE_PARAMETERS: Guid = g([0xca, 0xa1, 0x67, 0x37, 0xfa, 0x36, 0x4d, 0x43, 0xb3, 0xb6, 0x33, 0xf0, 0xaa, 0x44, 0xe7, 0x6b]);
/// Metadata item: virtual disk size, 2FA54224-CD1B-4876-B211-5DBED83BF4B8.
pub const ITEM_VIRTUAL_DISK_SIZE: Guid =
    g([0x2f, 0xa5, 0x42, 0x24, 0xcd, 0x1b, 0x48, 0x76, 0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8]);
/// Metadata item: page 83 data (the disk's SCSI identity), BECA12AB-B2E6-4523-93EF-C309E000C746.
pub const ITEM_PAGE83: Guid = g([0xbe, 0xca, 0x12, 0xab, 0xb2, 0xe6, 0x45, 0x23, 0x93, 0xef, 0xc3, 0x09, 0xe0, 0x00, 0xc7, 0x46]);
/// Metadata item: logical sector size, 8141BF1D-A96F-4709-BA47-F233A8FAAB5F.
pub const ITEM_LOGICAL_SECTOR_SIZE: Guid =
    g([0x81, 0x41, 0xbf, 0x1d, 0xa9, 0x6f, 0x47, 0x09, 0xba, 0x47, 0xf2, 0x33, 0xa8, 0xfa, 0xab, 0x5f]);
/// Metadata item: physical sector size, CDA348C7-445D-4471-9CC9-E9885251C556.
pub const ITEM_PHYSICAL_SECTOR_SIZE: Guid =
    g([0xcd, 0xa3, 0x48, 0xc7, 0x44, 0x5d, 0x44, 0x71, 0x9c, 0xc9, 0xe9, 0x88, 0x52, 0x51, 0xc5, 0x56]);
/// Metadata item: parent locator, A8D35F2D-B30B-454D-ABF7-D3D84834AB0C.
pub const ITEM_PARENT_LOCATOR: Guid = g([0xa8, 0xd3, 0x5f, 0x2d, 0xb3, 0x0b, 0x45, 0x4d, 0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c]);
/// Parent locator type of a VHDX parent, B04AEFB7-D19E-4A81-B789-25B8E9445913.
pub const LOCATOR_TYPE_VHDX: Guid = g([0xb0, 0x4a, 0xef, 0xb7, 0xd1, 0x9e, 0x4a, 0x81, 0xb7, 0x89, 0x25, 0xb8, 0xe9, 0x44, 0x59, 0x13]);

/// The name of a known region or metadata item.
pub fn guid_name(g: &Guid) -> Option<&'static str> {
    Some(match *g {
        REGION_BAT => "BAT",
        REGION_METADATA => "metadata region",
        ITEM_FILE_PARAMETERS => "file parameters",
        ITEM_VIRTUAL_DISK_SIZE => "virtual disk size",
        ITEM_PAGE83 => "page 83 data",
        ITEM_LOGICAL_SECTOR_SIZE => "logical sector size",
        ITEM_PHYSICAL_SECTOR_SIZE => "physical sector size",
        ITEM_PARENT_LOCATOR => "parent locator",
        _ => return None,
    })
}

/// The file type identifier (2.2.1): 64 KiB at byte 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileIdentifier {
    /// `Signature`: `vhdxfile`.
    pub signature: [u8; 8],
    /// `Creator`: the program that made the file, UTF-16LE, 512 bytes.
    pub creator: String,
    /// The first 520 bytes as stored.
    pub raw: Vec<u8>,
}

impl FileIdentifier {
    /// Decodes the first bytes of the file.
    pub fn parse(b: &[u8]) -> FileIdentifier {
        FileIdentifier {
            signature: array(b, 0),
            creator: utf16le_checked(b.get(8..IDENTIFIER_SIZE as usize).unwrap_or_default()).0,
            raw: b.get(..IDENTIFIER_SIZE as usize).unwrap_or(b).to_vec(),
        }
    }
}

/// Byte offsets of the header's fields (2.2.2).
#[allow(missing_docs)]
pub mod header_off {
    pub const SIGNATURE: usize = 0;
    pub const CHECKSUM: usize = 4;
    pub const SEQUENCE_NUMBER: usize = 8;
    pub const FILE_WRITE_GUID: usize = 16;
    pub const DATA_WRITE_GUID: usize = 32;
    pub const LOG_GUID: usize = 48;
    pub const LOG_VERSION: usize = 64;
    pub const VERSION: usize = 66;
    pub const LOG_LENGTH: usize = 68;
    pub const LOG_OFFSET: usize = 72;
    pub const RESERVED: usize = 80;
}

/// A header (2.2.2): 4 KiB, two copies, the valid one with the larger sequence number current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The 4096 raw bytes.
    pub raw: Vec<u8>,
    /// `Signature`: `head`.
    pub signature: [u8; 4],
    /// `Checksum`: CRC-32C of the 4 KiB with this field zero.
    pub checksum: u32,
    /// The checksum computed.
    pub computed_checksum: u32,
    /// `SequenceNumber`: the larger is the newer header.
    pub sequence_number: u64,
    /// `FileWriteGuid`: changed the first time the file is written after it is opened.
    pub file_write_guid: Guid,
    /// `DataWriteGuid`: changed the first time the disk's data is written after it is opened;
    /// children name their parent by it.
    pub data_write_guid: Guid,
    /// `LogGuid`: non-zero when the log holds entries to replay.
    pub log_guid: Guid,
    /// `LogVersion`: 0.
    pub log_version: u16,
    /// `Version`: 1.
    pub version: u16,
    /// `LogLength`: bytes, a multiple of 1 MiB.
    pub log_length: u32,
    /// `LogOffset`: bytes, a multiple of 1 MiB.
    pub log_offset: u64,
}

impl Header {
    /// Decodes 4096 bytes.
    pub fn parse(b: &[u8]) -> Header {
        use header_off as o;
        let mut raw = b.get(..HEADER_SIZE as usize).unwrap_or(b).to_vec();
        raw.resize(HEADER_SIZE as usize, 0);
        let b = &raw[..];
        Header {
            signature: array(b, o::SIGNATURE),
            checksum: le32(b, o::CHECKSUM),
            computed_checksum: crc32c_with_zeroed(b, o::CHECKSUM),
            sequence_number: le64(b, o::SEQUENCE_NUMBER),
            file_write_guid: Guid::at(b, o::FILE_WRITE_GUID),
            data_write_guid: Guid::at(b, o::DATA_WRITE_GUID),
            log_guid: Guid::at(b, o::LOG_GUID),
            log_version: le16(b, o::LOG_VERSION),
            version: le16(b, o::VERSION),
            log_length: le32(b, o::LOG_LENGTH),
            log_offset: le64(b, o::LOG_OFFSET),
            raw,
        }
    }

    /// True when the signature is `head` and the checksum is right.
    pub fn valid(&self) -> bool {
        &self.signature == b"head" && self.checksum == self.computed_checksum
    }
}

/// Byte offsets of the region table's fields (2.2.3).
#[allow(missing_docs)]
pub mod region_off {
    pub const SIGNATURE: usize = 0;
    pub const CHECKSUM: usize = 4;
    pub const ENTRY_COUNT: usize = 8;
    pub const RESERVED: usize = 12;
    pub const ENTRIES: usize = 16;
    pub const ENTRY_SIZE: usize = 32;
}

/// A region table entry (2.2.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionEntry {
    /// Position in the table.
    pub index: usize,
    /// `Guid`: which region.
    pub guid: Guid,
    /// `FileOffset`: bytes, a multiple of 1 MiB.
    pub file_offset: u64,
    /// `Length`: bytes, a multiple of 1 MiB.
    pub length: u32,
    /// `Required` (bit 0): a reader that does not know the region must refuse the file.
    pub required: u32,
}

/// A region table (2.2.3): 64 KiB, two copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionTable {
    /// The 64 KiB raw bytes.
    pub raw: Vec<u8>,
    /// `Signature`: `regi`.
    pub signature: [u8; 4],
    /// `Checksum`: CRC-32C of the 64 KiB with this field zero.
    pub checksum: u32,
    /// The checksum computed.
    pub computed_checksum: u32,
    /// `EntryCount`: at most 2047.
    pub entry_count: u32,
    /// The entries (at most 2047 decoded).
    pub entries: Vec<RegionEntry>,
}

impl RegionTable {
    /// Decodes 64 KiB.
    pub fn parse(b: &[u8]) -> RegionTable {
        use region_off as o;
        let mut raw = b.get(..REGION_TABLE_SIZE as usize).unwrap_or(b).to_vec();
        raw.resize(REGION_TABLE_SIZE as usize, 0);
        let b = &raw[..];
        let entry_count = le32(b, o::ENTRY_COUNT);
        let entries = (0..entry_count.min(MAX_REGION_ENTRIES) as usize)
            .map(|i| {
                let at = o::ENTRIES + i * o::ENTRY_SIZE;
                RegionEntry {
                    index: i,
                    guid: Guid::at(b, at),
                    file_offset: le64(b, at + 16),
                    length: le32(b, at + 24),
                    required: le32(b, at + 28),
                }
            })
            .collect();
        RegionTable {
            signature: array(b, o::SIGNATURE),
            checksum: le32(b, o::CHECKSUM),
            computed_checksum: crc32c_with_zeroed(b, o::CHECKSUM),
            entry_count,
            entries,
            raw,
        }
    }

    /// True when the signature is `regi`, the checksum is right and the count is allowed.
    pub fn valid(&self) -> bool {
        &self.signature == b"regi" && self.checksum == self.computed_checksum && self.entry_count <= MAX_REGION_ENTRIES
    }

    /// The entry for region `guid`.
    pub fn find(&self, guid: Guid) -> Option<&RegionEntry> {
        self.entries.iter().find(|e| e.guid == guid)
    }
}

/// Byte offsets of the metadata table's fields (2.6.1).
#[allow(missing_docs)]
pub mod metadata_off {
    pub const SIGNATURE: usize = 0;
    pub const RESERVED: usize = 8;
    pub const ENTRY_COUNT: usize = 10;
    pub const RESERVED2: usize = 12;
    pub const ENTRIES: usize = 32;
    pub const ENTRY_SIZE: usize = 32;
}

/// A metadata table entry (2.6.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataEntry {
    /// Position in the table.
    pub index: usize,
    /// `ItemId`: which item.
    pub item_id: Guid,
    /// `Offset`: bytes from the start of the metadata region (at least 64 KiB), 0 with length 0.
    pub offset: u32,
    /// `Length`: bytes, at most 1 MiB.
    pub length: u32,
    /// Bit 0 `IsUser`, bit 1 `IsVirtualDisk`, bit 2 `IsRequired`.
    pub flags: u32,
}

impl MetadataEntry {
    /// `IsUser`: a user item, not a system one.
    pub fn is_user(&self) -> bool {
        self.flags & 1 != 0
    }
    /// `IsVirtualDisk`: describes the virtual disk (kept when the file is copied), not the file.
    pub fn is_virtual_disk(&self) -> bool {
        self.flags & 2 != 0
    }
    /// `IsRequired`: a reader that does not know the item must refuse the file.
    pub fn is_required(&self) -> bool {
        self.flags & 4 != 0
    }
}

/// The metadata table (2.6.1): 64 KiB at the start of the metadata region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataTable {
    /// The first 32 bytes (the table header) as stored.
    pub raw_header: Vec<u8>,
    /// `Signature`: `metadata`.
    pub signature: [u8; 8],
    /// `EntryCount`: at most 2047.
    pub entry_count: u16,
    /// The entries (at most 2047 decoded).
    pub entries: Vec<MetadataEntry>,
}

impl MetadataTable {
    /// Decodes the table's 64 KiB.
    pub fn parse(b: &[u8]) -> MetadataTable {
        use metadata_off as o;
        let entry_count = le16(b, o::ENTRY_COUNT);
        let entries = (0..usize::from(entry_count.min(MAX_METADATA_ENTRIES)))
            .map(|i| {
                let at = o::ENTRIES + i * o::ENTRY_SIZE;
                MetadataEntry {
                    index: i,
                    item_id: Guid::at(b, at),
                    offset: le32(b, at + 16),
                    length: le32(b, at + 20),
                    flags: le32(b, at + 24),
                }
            })
            .collect();
        MetadataTable { raw_header: b.get(..32).unwrap_or(b).to_vec(), signature: array(b, o::SIGNATURE), entry_count, entries }
    }

    /// The entry for item `id`.
    pub fn find(&self, id: Guid) -> Option<&MetadataEntry> {
        self.entries.iter().find(|e| e.item_id == id)
    }
}

/// One key/value entry of the parent locator (2.6.2.6.2), with its strings decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// Position among the entries.
    pub index: usize,
    /// `KeyOffset`: from the start of the parent locator item.
    pub key_offset: u32,
    /// `ValueOffset`: from the start of the parent locator item.
    pub value_offset: u32,
    /// `KeyLength`: bytes.
    pub key_length: u16,
    /// `ValueLength`: bytes.
    pub value_length: u16,
    /// The key, decoded (empty when it lies outside the item).
    pub key: String,
    /// The value, decoded.
    pub value: String,
    /// False when the key or value lies outside the item or is not valid UTF-16.
    pub valid: bool,
}

/// The parent locator (2.6.2.6): a type GUID and key/value pairs naming the parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentLocator {
    /// `LocatorType`: B04AEFB7-D19E-4A81-B789-25B8E9445913 for a VHDX parent.
    pub locator_type: Guid,
    /// `KeyValueCount`.
    pub key_value_count: u16,
    /// The entries (as many as fit in the item).
    pub entries: Vec<KeyValue>,
}

impl ParentLocator {
    /// Decodes the item's bytes.
    pub fn parse(b: &[u8]) -> ParentLocator {
        let count = le16(b, 18);
        let fit = b.len().saturating_sub(20) / 12;
        let entries = (0..usize::from(count).min(fit))
            .map(|i| {
                let at = 20 + i * 12;
                let (key_offset, value_offset, key_length, value_length) =
                    (le32(b, at), le32(b, at + 4), le16(b, at + 8), le16(b, at + 10));
                let text = |off: u32, len: u16| {
                    let start = usize::try_from(off).unwrap_or(usize::MAX);
                    start
                        .checked_add(usize::from(len))
                        .and_then(|end| b.get(start..end))
                        .map(utf16le_checked)
                        .unwrap_or((String::new(), false))
                };
                let (key, kv) = text(key_offset, key_length);
                let (value, vv) = text(value_offset, value_length);
                KeyValue { index: i, key_offset, value_offset, key_length, value_length, key, value, valid: kv && vv }
            })
            .collect();
        ParentLocator { locator_type: Guid::at(b, 0), key_value_count: count, entries }
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.iter().find(|e| e.key == key).map(|e| e.value.as_str())
    }
}

/// A BAT entry's parts: state (bits 0-2), reserved (3-19), `FileOffsetMB` (20-63).
pub fn bat_parts(entry: u64) -> (u8, u32, u64) {
    ((entry & 7) as u8, ((entry >> 3) & 0x1_ffff) as u32, entry >> 20)
}

/// Byte offsets of a log entry header's fields (2.3.1.1).
#[allow(missing_docs)]
pub mod log_off {
    pub const SIGNATURE: usize = 0;
    pub const CHECKSUM: usize = 4;
    pub const ENTRY_LENGTH: usize = 8;
    pub const TAIL: usize = 12;
    pub const SEQUENCE_NUMBER: usize = 16;
    pub const DESCRIPTOR_COUNT: usize = 24;
    pub const RESERVED: usize = 28;
    pub const LOG_GUID: usize = 32;
    pub const FLUSHED_FILE_OFFSET: usize = 48;
    pub const LAST_FILE_OFFSET: usize = 56;
    pub const HEADER_SIZE: usize = 64;
    pub const DESCRIPTOR_SIZE: usize = 32;
}

/// A log entry's header (2.3.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogEntryHeader {
    /// `Signature`: `loge`.
    pub signature: [u8; 4],
    /// `Checksum`: CRC-32C of the whole entry with this field zero.
    pub checksum: u32,
    /// `EntryLength`: bytes, a multiple of 4 KiB.
    pub entry_length: u32,
    /// `Tail`: offset in the log of the first entry of the sequence this entry ends.
    pub tail: u32,
    /// `SequenceNumber`.
    pub sequence_number: u64,
    /// `DescriptorCount`.
    pub descriptor_count: u32,
    /// `LogGuid`: must equal the header's.
    pub log_guid: Guid,
    /// `FlushedFileOffset`: the file's length when the entry was written.
    pub flushed_file_offset: u64,
    /// `LastFileOffset`: the file must be at least this long after replay.
    pub last_file_offset: u64,
}

impl LogEntryHeader {
    /// Decodes the first 64 bytes of an entry.
    pub fn parse(b: &[u8]) -> LogEntryHeader {
        use log_off as o;
        LogEntryHeader {
            signature: array(b, o::SIGNATURE),
            checksum: le32(b, o::CHECKSUM),
            entry_length: le32(b, o::ENTRY_LENGTH),
            tail: le32(b, o::TAIL),
            sequence_number: le64(b, o::SEQUENCE_NUMBER),
            descriptor_count: le32(b, o::DESCRIPTOR_COUNT),
            log_guid: Guid::at(b, o::LOG_GUID),
            flushed_file_offset: le64(b, o::FLUSHED_FILE_OFFSET),
            last_file_offset: le64(b, o::LAST_FILE_OFFSET),
        }
    }
}

/// A log descriptor (2.3.1.2, 2.3.1.3): a run of zeros or one 4 KiB sector of data to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogDescriptor {
    /// `zero`: `length` zero bytes at `file_offset`.
    Zero {
        /// `ZeroLength`.
        length: u64,
        /// `FileOffset`.
        file_offset: u64,
        /// `SequenceNumber`.
        sequence_number: u64,
    },
    /// `desc`: 4 KiB at `file_offset`, whose first 8 and last 4 bytes are kept here and the rest
    /// in the entry's next data sector.
    Data {
        /// `TrailingBytes`: the sector's last 4 bytes.
        trailing_bytes: [u8; 4],
        /// `LeadingBytes`: the sector's first 8 bytes.
        leading_bytes: [u8; 8],
        /// `FileOffset`.
        file_offset: u64,
        /// `SequenceNumber`.
        sequence_number: u64,
    },
    /// Any other signature.
    Invalid {
        /// The signature found.
        signature: [u8; 4],
    },
}

impl LogDescriptor {
    /// Decodes 32 bytes.
    pub fn parse(b: &[u8]) -> LogDescriptor {
        let signature: [u8; 4] = array(b, 0);
        match &signature {
            b"zero" => LogDescriptor::Zero { length: le64(b, 8), file_offset: le64(b, 16), sequence_number: le64(b, 24) },
            b"desc" => LogDescriptor::Data {
                trailing_bytes: array(b, 4),
                leading_bytes: array(b, 8),
                file_offset: le64(b, 16),
                sequence_number: le64(b, 24),
            },
            _ => LogDescriptor::Invalid { signature },
        }
    }
}
