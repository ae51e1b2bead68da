//! Every field of the footer, the dynamic header and the parent locator entries as a row a
//! person can read (see [`crate::fields`]).

use super::footer::{self, Footer};
use super::header::{self, DynamicHeader};
use super::Locator;
use crate::fields::{Field, Raw};
use crate::image::{DiskType, Located};
use crate::values::human_size;

/// The footer's fields.
pub fn footer_fields(f: &Located<Footer>) -> Vec<Field> {
    use footer::off;
    let v = &f.value;
    let r = &v.raw;
    let raw = Raw { base: f.offset, bytes: r };
    let dt = match v.disk_type {
        DiskType::Other(n) => format!("{n} (not a valid disk type)"),
        t => format!(
            "{} ({})",
            t.name(),
            match t {
                DiskType::Fixed => 2,
                DiskType::Dynamic => 3,
                _ => 4,
            }
        ),
    };
    let mut feats = Vec::new();
    if v.features & 1 != 0 {
        feats.push("temporary");
    }
    if v.features & 2 != 0 {
        feats.push("reserved bit set");
    }
    let expected = crate::vhd::geometry::Geometry::for_size(v.current_size);
    vec![
        raw.row(
            (off::COOKIE, 8),
            "cookie",
            "Cookie",
            format!("\"{}\"", crate::error::show_bytes(&v.cookie)),
            "Marks a VHD footer; always \"conectix\".",
            v.cookie_valid(),
        ),
        raw.row(
            (off::FEATURES, 4),
            "features",
            "Features",
            format!("{:#010x} ({})", v.features, if feats.is_empty() { "none".into() } else { feats.join(", ") }),
            "Bit 0: a temporary disk that may be deleted on shutdown. Bit 1: reserved, always set.",
            v.features & 2 != 0,
        ),
        raw.row(
            (off::FILE_FORMAT_VERSION, 4),
            "file_format_version",
            "File Format Version",
            format!("{}.{}", v.file_format_version >> 16, v.file_format_version & 0xffff),
            "Version of the format; 1.0 is the only one.",
            v.file_format_version == footer::FILE_FORMAT_VERSION,
        ),
        raw.row(
            (off::DATA_OFFSET, 8),
            "data_offset",
            "Data Offset",
            if v.data_offset == u64::MAX { "none (fixed disk)".into() } else { format!("{:#x}", v.data_offset) },
            "Where the dynamic header is; all ones in a fixed disk, which has none.",
            true,
        ),
        raw.row(
            (off::TIMESTAMP, 4),
            "timestamp",
            "Time Stamp",
            v.timestamp.iso8601(),
            "When the disk was created, in seconds since 1 January 2000 UTC.",
            true,
        ),
        raw.row(
            (off::CREATOR_APPLICATION, 4),
            "creator_application",
            "Creator Application",
            format!("\"{}\" ({})", v.creator_application, creator_name(&v.creator_application.0)),
            "The program that created the disk.",
            true,
        ),
        raw.row(
            (off::CREATOR_VERSION, 4),
            "creator_version",
            "Creator Version",
            v.creator_version_text(),
            "Version of that program (major.minor).",
            true,
        ),
        raw.row(
            (off::CREATOR_HOST_OS, 4),
            "creator_host_os",
            "Creator Host OS",
            format!(
                "\"{}\" ({})",
                v.creator_host_os,
                match &v.creator_host_os.0 {
                    b"Wi2k" => "Windows",
                    b"Mac " => "Macintosh",
                    _ => "unknown",
                }
            ),
            "The operating system the disk was created on.",
            true,
        ),
        raw.row(
            (off::ORIGINAL_SIZE, 8),
            "original_size",
            "Original Size",
            format!("{} bytes ({})", v.original_size, human_size(v.original_size)),
            "The disk's size when it was created.",
            true,
        ),
        raw.row(
            (off::CURRENT_SIZE, 8),
            "current_size",
            "Current Size",
            format!("{} bytes ({})", v.current_size, human_size(v.current_size)),
            "The disk's size now, as the virtual machine sees it.",
            v.current_size > 0 && v.current_size <= crate::vhd::MAX_DISK_SIZE,
        ),
        raw.row(
            (off::DISK_GEOMETRY, 4),
            "geometry",
            "Disk Geometry",
            format!(
                "{} cylinders, {} heads, {} sectors per track = {} bytes",
                v.geometry.cylinders,
                v.geometry.heads,
                v.geometry.sectors_per_track,
                v.geometry.size()
            ),
            "The disk's shape for old BIOSes; Virtual PC-era programs size the disk by it.",
            v.geometry == expected || v.geometry.is_max(),
        ),
        raw.row(
            (off::DISK_TYPE, 4),
            "disk_type",
            "Disk Type",
            dt,
            "Fixed: raw data then this footer. Dynamic: blocks allocated as written. Differencing: changes to a parent disk.",
            !matches!(v.disk_type, DiskType::Other(_)),
        ),
        raw.row(
            (off::CHECKSUM, 4),
            "checksum",
            "Checksum",
            format!("{:#010x} ({}; computed {:#010x})", v.checksum, if v.checksum_valid() { "good" } else { "WRONG" }, v.computed_checksum),
            "Ones' complement of the sum of the footer's bytes; shows whether the footer is intact.",
            v.checksum_valid(),
        ),
        raw.row(
            (off::UNIQUE_ID, 16),
            "unique_id",
            "Unique Id",
            v.unique_id.to_string(),
            "Identifies this disk; a differencing child names its parent by it.",
            !v.unique_id.is_nil(),
        ),
        raw.row(
            (off::SAVED_STATE, 1),
            "saved_state",
            "Saved State",
            if v.saved_state == 0 { "0 (no)".into() } else { format!("{} (yes)", v.saved_state) },
            "Set when a virtual machine was saved while using this disk.",
            true,
        ),
        raw.row(
            (off::RESERVED, 427),
            "reserved",
            "Reserved",
            if v.reserved_is_zero() { "all zero".into() } else { "not all zero".into() },
            "Unused; should be zeros.",
            v.reserved_is_zero(),
        ),
    ]
}

/// The dynamic header's fields (the parent locator entries are [`locator_fields`]).
pub fn header_fields(h: &Located<DynamicHeader>) -> Vec<Field> {
    use header::off;
    let v = &h.value;
    let r = &v.raw;
    let raw = Raw { base: h.offset, bytes: r };
    let (name, name_ok) = v.parent_unicode_name();
    vec![
        raw.row(
            (off::COOKIE, 8),
            "header_cookie",
            "Cookie",
            format!("\"{}\"", crate::error::show_bytes(&v.cookie)),
            "Marks the dynamic header; always \"cxsparse\".",
            v.cookie_valid(),
        ),
        raw.row(
            (off::DATA_OFFSET, 8),
            "header_data_offset",
            "Data Offset",
            format!("{:#x}", v.data_offset),
            "Unused; all ones.",
            v.data_offset == u64::MAX,
        ),
        raw.row(
            (off::TABLE_OFFSET, 8),
            "table_offset",
            "Table Offset",
            format!("{}", v.table_offset),
            "Where the block allocation table (BAT) starts in the file.",
            true,
        ),
        raw.row(
            (off::HEADER_VERSION, 4),
            "header_version",
            "Header Version",
            format!("{}.{}", v.header_version >> 16, v.header_version & 0xffff),
            "Version of this header; 1.0 is the only one.",
            v.header_version == header::HEADER_VERSION,
        ),
        raw.row(
            (off::MAX_TABLE_ENTRIES, 4),
            "max_table_entries",
            "Max Table Entries",
            v.max_table_entries.to_string(),
            "Number of entries in the BAT: one per block of the disk.",
            true,
        ),
        raw.row(
            (off::BLOCK_SIZE, 4),
            "block_size",
            "Block Size",
            format!("{} bytes ({})", v.block_size, human_size(v.block_size.into())),
            "How much of the disk one block holds; space in the file is allocated a block at a time.",
            v.block_size.is_power_of_two() && v.block_size >= 512,
        ),
        raw.row(
            (off::CHECKSUM, 4),
            "header_checksum",
            "Checksum",
            format!("{:#010x} ({}; computed {:#010x})", v.checksum, if v.checksum_valid() { "good" } else { "WRONG" }, v.computed_checksum),
            "Ones' complement of the sum of the header's bytes; shows whether the header is intact.",
            v.checksum_valid(),
        ),
        raw.row(
            (off::PARENT_UNIQUE_ID, 16),
            "parent_unique_id",
            "Parent Unique Id",
            v.parent_unique_id.to_string(),
            "Differencing disks: the unique id of the parent this disk records changes to.",
            true,
        ),
        raw.row(
            (off::PARENT_TIMESTAMP, 4),
            "parent_timestamp",
            "Parent Time Stamp",
            if v.parent_timestamp.0 == 0 { "0 (not recorded)".into() } else { v.parent_timestamp.iso8601() },
            "Differencing disks: when the parent was last changed, to notice a parent changed behind the child's back.",
            true,
        ),
        raw.row(
            (off::RESERVED1, 4),
            "header_reserved",
            "Reserved",
            format!("{:#010x}", v.reserved1),
            "Unused; should be zero.",
            v.reserved1 == 0,
        ),
        raw.row(
            (off::PARENT_UNICODE_NAME, 512),
            "parent_unicode_name",
            "Parent Unicode Name",
            format!("\"{name}\""),
            "Differencing disks: the parent's file name, in UTF-16 big-endian.",
            name_ok,
        ),
        raw.row(
            (off::RESERVED2, 256),
            "header_reserved2",
            "Reserved",
            if r[off::RESERVED2..].iter().all(|x| *x == 0) { "all zero".into() } else { "not all zero".into() },
            "Unused; should be zeros.",
            r[off::RESERVED2..].iter().all(|x| *x == 0),
        ),
    ]
}

/// One parent locator entry's fields, and its data.
pub fn locator_fields(l: &Locator) -> Vec<Field> {
    let e = &l.entry.value;
    let mut bytes = Vec::with_capacity(24);
    bytes.extend_from_slice(&e.platform_code.0);
    bytes.extend_from_slice(&e.platform_data_space.to_be_bytes());
    bytes.extend_from_slice(&e.platform_data_length.to_be_bytes());
    bytes.extend_from_slice(&e.reserved.to_be_bytes());
    bytes.extend_from_slice(&e.platform_data_offset.to_be_bytes());
    let raw = Raw { base: l.entry.offset, bytes: &bytes };
    let code_meaning = match &e.platform_code.0 {
        b"W2ru" => "Windows path relative to this file",
        b"W2ku" => "absolute Windows path",
        b"Wi2r" => "relative Windows path, deprecated",
        b"Wi2k" => "absolute Windows path, deprecated",
        b"MacX" => "Mac OS X file URL",
        b"Mac " => "Mac OS alias",
        _ => "unknown",
    };
    let mut rows = vec![
        raw.row(
            (0, 4),
            "platform_code",
            "Platform Code",
            format!("\"{}\" ({code_meaning})", e.platform_code),
            "How the parent's location is written.",
            code_meaning != "unknown",
        ),
        raw.row(
            (4, 4),
            "platform_data_space",
            "Platform Data Space",
            format!(
                "{} ({})",
                e.platform_data_space,
                if e.data_space_in_bytes() { "bytes, as Windows writes it" } else { "sectors, as the spec says" }
            ),
            "Room reserved for the locator's data.",
            true,
        ),
        raw.row(
            (8, 4),
            "platform_data_length",
            "Platform Data Length",
            format!("{} bytes", e.platform_data_length),
            "Length of the locator's data.",
            true,
        ),
        raw.row((12, 4), "locator_reserved", "Reserved", format!("{:#010x}", e.reserved), "Unused; should be zero.", e.reserved == 0),
        raw.row(
            (16, 8),
            "platform_data_offset",
            "Platform Data Offset",
            format!("{}", e.platform_data_offset),
            "Where the locator's data is in the file.",
            l.data.is_some(),
        ),
    ];
    if let Some(data) = &l.data {
        let valid = l.path.as_ref().is_some_and(|p| p.valid);
        rows.push(Raw { base: e.platform_data_offset, bytes: data }.row(
            (0, data.len()),
            "path",
            "Path",
            l.path.as_ref().map(|p| format!("\"{}\"", p.path)).unwrap_or_default(),
            "The parent's location, decoded.",
            valid,
        ));
    }
    rows
}

/// A creator application code in words.
pub fn creator_name(code: &[u8; 4]) -> &'static str {
    match code {
        b"vpc " => "Microsoft Virtual PC",
        b"vs  " => "Microsoft Virtual Server",
        b"win " => "Microsoft Windows / Hyper-V",
        b"d2v " => "Disk2vhd",
        b"qemu" => "QEMU",
        b"qem2" => "QEMU (sized by current size)",
        b"vbox" => "VirtualBox",
        b"tap\0" => "Xen blktap",
        b"wa\0\0" => "Windows Azure",
        b"CTXS" => "Citrix XenConverter",
        b"vhdv" => "vhd-viewer",
        _ => "unknown",
    }
}
