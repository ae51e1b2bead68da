//! The hard disk footer (spec: "Hard Disk Footer Format"): 512 bytes at the end of every VHD,
//! copied to offset 0 in dynamic and differencing disks.

use super::geometry::Geometry;
use crate::bytes::{array, be32, be64};
use crate::image::DiskType;
use crate::values::{checksum, FourCc, Timestamp, Uuid};

/// Size of the footer in bytes.
pub const FOOTER_SIZE: u64 = 512;
/// The footer's cookie.
pub const FOOTER_COOKIE: &[u8; 8] = b"conectix";
/// `data offset` of a fixed disk: all 64 bits set.
pub const NO_DATA_OFFSET: u64 = u64::MAX;
/// The one file format version the spec defines (1.0).
pub const FILE_FORMAT_VERSION: u32 = 0x0001_0000;

/// Byte offsets of the footer's fields.
/// Byte offsets of the fields, named after the spec.
#[allow(missing_docs)]
pub mod off {
    pub const COOKIE: usize = 0;
    pub const FEATURES: usize = 8;
    pub const FILE_FORMAT_VERSION: usize = 12;
    pub const DATA_OFFSET: usize = 16;
    pub const TIMESTAMP: usize = 24;
    pub const CREATOR_APPLICATION: usize = 28;
    pub const CREATOR_VERSION: usize = 32;
    pub const CREATOR_HOST_OS: usize = 36;
    pub const ORIGINAL_SIZE: usize = 40;
    pub const CURRENT_SIZE: usize = 48;
    pub const DISK_GEOMETRY: usize = 56;
    pub const DISK_TYPE: usize = 60;
    pub const CHECKSUM: usize = 64;
    pub const UNIQUE_ID: usize = 68;
    pub const SAVED_STATE: usize = 84;
    pub const RESERVED: usize = 85;
}

/// Every field of a footer, decoded, with the raw bytes kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footer {
    /// The 512 raw bytes (a 511-byte footer is padded with one zero byte).
    pub raw: Vec<u8>,
    /// `cookie`: `conectix` in a good footer.
    pub cookie: [u8; 8],
    /// `features`: bit 0 temporary, bit 1 reserved (always set).
    pub features: u32,
    /// `file format version`: 0x00010000.
    pub file_format_version: u32,
    /// `data offset`: file offset of the dynamic header, all ones for fixed disks.
    pub data_offset: u64,
    /// `time stamp`: seconds since 2000-01-01 UTC.
    pub timestamp: Timestamp,
    /// `creator application`.
    pub creator_application: FourCc,
    /// `creator version`: major in the high 16 bits, minor in the low.
    pub creator_version: u32,
    /// `creator host OS`: `Wi2k` or `Mac `.
    pub creator_host_os: FourCc,
    /// `original size`: bytes at creation.
    pub original_size: u64,
    /// `current size`: the virtual disk's size in bytes.
    pub current_size: u64,
    /// `disk geometry`.
    pub geometry: Geometry,
    /// `disk type`.
    pub disk_type: DiskType,
    /// `checksum` as stored.
    pub checksum: u32,
    /// `unique id`.
    pub unique_id: Uuid,
    /// `saved state`: 1 when the disk was attached to a VM whose state was saved.
    pub saved_state: u8,
    /// The checksum computed from the other bytes.
    pub computed_checksum: u32,
}

impl Footer {
    /// Decodes 512 bytes (or 511: the early Virtual PC footer, padded with a zero) as a footer.
    /// Never fails: whether the result is a good footer is for [`Footer::cookie_valid`] and
    /// [`Footer::checksum_valid`] to say.
    pub fn parse(bytes: &[u8]) -> Footer {
        let mut raw = vec![0u8; FOOTER_SIZE as usize];
        let n = bytes.len().min(raw.len());
        raw[..n].copy_from_slice(&bytes[..n]);
        let b = &raw[..];
        Footer {
            cookie: array(b, off::COOKIE),
            features: be32(b, off::FEATURES),
            file_format_version: be32(b, off::FILE_FORMAT_VERSION),
            data_offset: be64(b, off::DATA_OFFSET),
            timestamp: Timestamp(be32(b, off::TIMESTAMP)),
            creator_application: FourCc(array(b, off::CREATOR_APPLICATION)),
            creator_version: be32(b, off::CREATOR_VERSION),
            creator_host_os: FourCc(array(b, off::CREATOR_HOST_OS)),
            original_size: be64(b, off::ORIGINAL_SIZE),
            current_size: be64(b, off::CURRENT_SIZE),
            geometry: Geometry::from_bytes(array(b, off::DISK_GEOMETRY)),
            disk_type: DiskType::from_u32(be32(b, off::DISK_TYPE)),
            checksum: be32(b, off::CHECKSUM),
            unique_id: Uuid(array(b, off::UNIQUE_ID)),
            saved_state: b[off::SAVED_STATE],
            computed_checksum: checksum(b, off::CHECKSUM),
            raw,
        }
    }

    /// True when the cookie reads `conectix`.
    pub fn cookie_valid(&self) -> bool {
        &self.cookie == FOOTER_COOKIE
    }

    /// True when the stored checksum equals the computed one.
    pub fn checksum_valid(&self) -> bool {
        self.checksum == self.computed_checksum
    }

    /// True when the reserved bytes (85..512) are all zero.
    pub fn reserved_is_zero(&self) -> bool {
        self.raw[off::RESERVED..].iter().all(|b| *b == 0)
    }

    /// `creator version` as `major.minor`.
    pub fn creator_version_text(&self) -> String {
        format!("{}.{}", self.creator_version >> 16, self.creator_version & 0xffff)
    }

    /// The names of the fields in which two footers differ (checksum excluded when only it
    /// differs because of another field).
    pub fn differences(&self, other: &Footer) -> Vec<&'static str> {
        let mut d = Vec::new();
        let mut diff = |name, differs: bool| {
            if differs {
                d.push(name)
            }
        };
        diff("cookie", self.cookie != other.cookie);
        diff("features", self.features != other.features);
        diff("file_format_version", self.file_format_version != other.file_format_version);
        diff("data_offset", self.data_offset != other.data_offset);
        diff("timestamp", self.timestamp != other.timestamp);
        diff("creator_application", self.creator_application != other.creator_application);
        diff("creator_version", self.creator_version != other.creator_version);
        diff("creator_host_os", self.creator_host_os != other.creator_host_os);
        diff("original_size", self.original_size != other.original_size);
        diff("current_size", self.current_size != other.current_size);
        diff("geometry", self.geometry != other.geometry);
        diff("disk_type", self.disk_type != other.disk_type);
        diff("checksum", self.checksum != other.checksum);
        diff("unique_id", self.unique_id != other.unique_id);
        diff("saved_state", self.saved_state != other.saved_state);
        diff("reserved", self.raw[off::RESERVED..] != other.raw[off::RESERVED..]);
        d
    }
}

/// Builds a footer's 512 bytes with a correct checksum: the inverse of [`Footer::parse`], used by
/// the project's own test writer and by repairs.
pub fn encode(f: &Footer) -> Vec<u8> {
    let mut b = f.raw.clone();
    b.resize(FOOTER_SIZE as usize, 0);
    b[off::COOKIE..off::COOKIE + 8].copy_from_slice(&f.cookie);
    b[off::FEATURES..off::FEATURES + 4].copy_from_slice(&f.features.to_be_bytes());
    b[off::FILE_FORMAT_VERSION..off::FILE_FORMAT_VERSION + 4].copy_from_slice(&f.file_format_version.to_be_bytes());
    b[off::DATA_OFFSET..off::DATA_OFFSET + 8].copy_from_slice(&f.data_offset.to_be_bytes());
    b[off::TIMESTAMP..off::TIMESTAMP + 4].copy_from_slice(&f.timestamp.0.to_be_bytes());
    b[off::CREATOR_APPLICATION..off::CREATOR_APPLICATION + 4].copy_from_slice(&f.creator_application.0);
    b[off::CREATOR_VERSION..off::CREATOR_VERSION + 4].copy_from_slice(&f.creator_version.to_be_bytes());
    b[off::CREATOR_HOST_OS..off::CREATOR_HOST_OS + 4].copy_from_slice(&f.creator_host_os.0);
    b[off::ORIGINAL_SIZE..off::ORIGINAL_SIZE + 8].copy_from_slice(&f.original_size.to_be_bytes());
    b[off::CURRENT_SIZE..off::CURRENT_SIZE + 8].copy_from_slice(&f.current_size.to_be_bytes());
    b[off::DISK_GEOMETRY..off::DISK_GEOMETRY + 2].copy_from_slice(&f.geometry.cylinders.to_be_bytes());
    b[off::DISK_GEOMETRY + 2] = f.geometry.heads;
    b[off::DISK_GEOMETRY + 3] = f.geometry.sectors_per_track;
    let dt = match f.disk_type {
        DiskType::Fixed => 2,
        DiskType::Dynamic => 3,
        DiskType::Differencing => 4,
        DiskType::Other(v) => v,
    };
    b[off::DISK_TYPE..off::DISK_TYPE + 4].copy_from_slice(&dt.to_be_bytes());
    b[off::UNIQUE_ID..off::UNIQUE_ID + 16].copy_from_slice(&f.unique_id.0);
    b[off::SAVED_STATE] = f.saved_state;
    let sum = checksum(&b, off::CHECKSUM);
    b[off::CHECKSUM..off::CHECKSUM + 4].copy_from_slice(&sum.to_be_bytes());
    b
}
