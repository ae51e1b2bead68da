//! Every field of the VHDX structures as a row a person can read (offset, raw bytes, value,
//! meaning), grouped by structure, as `info` and the page show the VHD's.

use super::format::{guid_name, header_off as ho, log_off as lo, metadata_off as mo, region_off as ro, MIB};
use super::Vhdx;
use crate::bytes::{le16, le32, le64, Guid};
use crate::fields::{Raw, Structure};
use crate::values::human_size;

fn sig(b: &[u8], at: usize, n: usize) -> String {
    format!("\"{}\"", crate::error::show_bytes(b.get(at..at + n).unwrap_or_default()))
}

/// Every structure of the file, in file order.
pub fn structures(v: &Vhdx) -> Vec<Structure> {
    let mut out = Vec::new();
    let id = &v.identifier;
    let r = Raw { base: id.offset, bytes: &id.value.raw };
    out.push(Structure {
        name: "File type identifier".into(),
        offset: 0,
        fields: vec![
            r.row(
                (0, 8),
                "signature",
                "Signature",
                sig(&id.value.raw, 0, 8),
                "\"vhdxfile\": this is a VHDX file",
                &id.value.signature == super::format::SIGNATURE,
            ),
            r.row((8, 512), "creator", "Creator", format!("\"{}\"", id.value.creator), "the program that created the file (UTF-16)", true),
        ],
    });
    for (i, h) in v.headers.iter().enumerate() {
        let b = &h.value.raw;
        let r = Raw { base: h.offset, bytes: b };
        let current = i == v.current_header;
        out.push(Structure {
            name: format!(
                "Header {} ({})",
                i + 1,
                if current {
                    "current: the valid one with the larger sequence number"
                } else if h.value.valid() {
                    "valid, older"
                } else {
                    "NOT valid"
                }
            ),
            offset: h.offset,
            fields: vec![
                r.row((ho::SIGNATURE, 4), "signature", "Signature", sig(b, 0, 4), "\"head\"", &h.value.signature == b"head"),
                r.row(
                    (ho::CHECKSUM, 4),
                    "checksum",
                    "Checksum",
                    format!(
                        "{:#010x} ({})",
                        h.value.checksum,
                        if h.value.checksum == h.value.computed_checksum {
                            "good".to_string()
                        } else {
                            format!("WRONG: computed {:#010x}", h.value.computed_checksum)
                        }
                    ),
                    "CRC-32C of the 4 KiB header with this field zero",
                    h.value.checksum == h.value.computed_checksum,
                ),
                r.row(
                    (ho::SEQUENCE_NUMBER, 8),
                    "sequence_number",
                    "SequenceNumber",
                    h.value.sequence_number.to_string(),
                    "the valid header with the larger number is current",
                    true,
                ),
                r.row(
                    (ho::FILE_WRITE_GUID, 16),
                    "file_write_guid",
                    "FileWriteGuid",
                    h.value.file_write_guid.to_string(),
                    "changed the first time the file is written after it is opened",
                    true,
                ),
                r.row(
                    (ho::DATA_WRITE_GUID, 16),
                    "data_write_guid",
                    "DataWriteGuid",
                    h.value.data_write_guid.to_string(),
                    "changed the first time the disk's data is written after opening; children name their parent by it",
                    true,
                ),
                r.row(
                    (ho::LOG_GUID, 16),
                    "log_guid",
                    "LogGuid",
                    if h.value.log_guid.is_nil() {
                        "zero (the log is empty: closed cleanly)".into()
                    } else {
                        format!("{} (the log holds entries to replay)", h.value.log_guid)
                    },
                    "non-zero when the log must be replayed before the file is read",
                    true,
                ),
                r.row((ho::LOG_VERSION, 2), "log_version", "LogVersion", h.value.log_version.to_string(), "0", h.value.log_version == 0),
                r.row((ho::VERSION, 2), "version", "Version", h.value.version.to_string(), "1", h.value.version == 1),
                r.row(
                    (ho::LOG_LENGTH, 4),
                    "log_length",
                    "LogLength",
                    format!("{} ({})", h.value.log_length, human_size(u64::from(h.value.log_length))),
                    "bytes of log, a multiple of 1 MiB",
                    u64::from(h.value.log_length) % MIB == 0,
                ),
                r.row(
                    (ho::LOG_OFFSET, 8),
                    "log_offset",
                    "LogOffset",
                    format!("{:#x}", h.value.log_offset),
                    "where the log is, a multiple of 1 MiB",
                    h.value.log_offset % MIB == 0,
                ),
            ],
        });
    }
    for (i, t) in v.region_tables.iter().enumerate() {
        let b = &t.value.raw;
        let r = Raw { base: t.offset, bytes: b };
        let mut fields = vec![
            r.row((ro::SIGNATURE, 4), "signature", "Signature", sig(b, 0, 4), "\"regi\"", &t.value.signature == b"regi"),
            r.row(
                (ro::CHECKSUM, 4),
                "checksum",
                "Checksum",
                format!(
                    "{:#010x} ({})",
                    t.value.checksum,
                    if t.value.checksum == t.value.computed_checksum {
                        "good".to_string()
                    } else {
                        format!("WRONG: computed {:#010x}", t.value.computed_checksum)
                    }
                ),
                "CRC-32C of the 64 KiB table with this field zero",
                t.value.checksum == t.value.computed_checksum,
            ),
            r.row(
                (ro::ENTRY_COUNT, 4),
                "entry_count",
                "EntryCount",
                t.value.entry_count.to_string(),
                "entries that follow (at most 2047)",
                t.value.entry_count <= 2047,
            ),
        ];
        for e in &t.value.entries {
            let at = ro::ENTRIES + e.index * ro::ENTRY_SIZE;
            fields.push(r.row(
                (at, 16),
                "region_guid",
                "Guid",
                format!("{} ({})", e.guid, guid_name(&e.guid).unwrap_or("unknown region")),
                "which region",
                true,
            ));
            fields.push(r.row(
                (at + 16, 8),
                "region_file_offset",
                "FileOffset",
                format!("{:#x}", e.file_offset),
                "where the region is, a multiple of 1 MiB",
                e.file_offset % MIB == 0,
            ));
            fields.push(r.row(
                (at + 24, 4),
                "region_length",
                "Length",
                format!("{} ({})", e.length, human_size(u64::from(e.length))),
                "its length, a multiple of 1 MiB",
                u64::from(e.length) % MIB == 0,
            ));
            fields.push(r.row(
                (at + 28, 4),
                "region_required",
                "Required",
                e.required.to_string(),
                "1: a reader that does not know the region must refuse the file",
                e.required <= 1,
            ));
        }
        out.push(Structure {
            name: format!(
                "Region table {} ({})",
                i + 1,
                if i == v.current_region_table {
                    "read"
                } else if t.value.valid() {
                    "valid copy"
                } else {
                    "NOT valid"
                }
            ),
            offset: t.offset,
            fields,
        });
    }
    let mt = &v.metadata_table;
    let hb = &mt.value.raw_header;
    let r = Raw { base: mt.offset, bytes: hb };
    let mut fields = vec![
        r.row((mo::SIGNATURE, 8), "signature", "Signature", sig(hb, 0, 8), "\"metadata\"", &mt.value.signature == b"metadata"),
        r.row(
            (mo::ENTRY_COUNT, 2),
            "entry_count",
            "EntryCount",
            le16(hb, mo::ENTRY_COUNT).to_string(),
            "entries that follow (at most 2047)",
            mt.value.entry_count <= 2047,
        ),
    ];
    for e in &mt.value.entries {
        let mut raw = Vec::with_capacity(32);
        raw.extend_from_slice(&e.item_id.0);
        raw.extend_from_slice(&e.offset.to_le_bytes());
        raw.extend_from_slice(&e.length.to_le_bytes());
        raw.extend_from_slice(&e.flags.to_le_bytes());
        let r = Raw { base: mt.offset + (mo::ENTRIES + e.index * mo::ENTRY_SIZE) as u64, bytes: &raw };
        let mut flags = Vec::new();
        for (bit, name) in [(e.is_user(), "user"), (e.is_virtual_disk(), "virtual disk"), (e.is_required(), "required")] {
            if bit {
                flags.push(name);
            }
        }
        fields.push(r.row(
            (0, 16),
            "item_id",
            "ItemId",
            format!("{} ({})", e.item_id, guid_name(&e.item_id).unwrap_or("unknown item")),
            "which metadata item",
            true,
        ));
        fields.push(r.row(
            (16, 4),
            "item_offset",
            "Offset",
            format!("{:#x}", e.offset),
            "where the item is, from the start of the metadata region",
            true,
        ));
        fields.push(r.row((20, 4), "item_length", "Length", e.length.to_string(), "its length in bytes", true));
        fields.push(r.row(
            (24, 4),
            "item_flags",
            "Flags",
            format!("{:#x} ({})", e.flags, if flags.is_empty() { "none".to_string() } else { flags.join(", ") }),
            "IsUser, IsVirtualDisk, IsRequired",
            true,
        ));
    }
    out.push(Structure { name: "Metadata table".into(), offset: mt.offset, fields });
    for item in &v.items {
        let b = &item.bytes;
        let r = Raw { base: item.offset, bytes: b };
        let name = guid_name(&item.entry.item_id).unwrap_or("unknown item");
        let fields = match name {
            "file parameters" => {
                let flags = le32(b, 4);
                vec![
                    r.row(
                        (0, 4),
                        "block_size",
                        "BlockSize",
                        format!("{} ({})", v.block_size, human_size(u64::from(v.block_size))),
                        "bytes of virtual disk per payload block: a power of two from 1 MiB to 256 MiB",
                        true,
                    ),
                    r.row(
                        (4, 4),
                        "file_parameter_flags",
                        "LeaveBlocksAllocated, HasParent",
                        format!(
                            "{flags:#x} (leave blocks allocated: {}, has parent: {})",
                            if flags & 1 != 0 { "yes" } else { "no" },
                            if flags & 2 != 0 { "yes" } else { "no" }
                        ),
                        "bit 0: blocks are allocated up front (a fixed disk); bit 1: a differencing disk",
                        flags & !3 == 0,
                    ),
                ]
            }
            "virtual disk size" => vec![r.row(
                (0, 8),
                "virtual_disk_size",
                "VirtualDiskSize",
                format!("{} ({})", le64(b, 0), human_size(le64(b, 0))),
                "the virtual disk's size in bytes",
                true,
            )],
            "logical sector size" => vec![r.row(
                (0, 4),
                "logical_sector_size",
                "LogicalSectorSize",
                le32(b, 0).to_string(),
                "bytes per sector as the guest sees them: 512 or 4096",
                matches!(le32(b, 0), 512 | 4096),
            )],
            "physical sector size" => vec![r.row(
                (0, 4),
                "physical_sector_size",
                "PhysicalSectorSize",
                le32(b, 0).to_string(),
                "bytes per sector of the storage below: 512 or 4096",
                matches!(le32(b, 0), 512 | 4096),
            )],
            "page 83 data" => vec![r.row(
                (0, 16),
                "page83_data",
                "Page83Data",
                Guid::at(b, 0).to_string(),
                "the disk's SCSI identity (VPD page 0x83)",
                true,
            )],
            "parent locator" => {
                let mut f = vec![
                    r.row(
                        (0, 16),
                        "locator_type",
                        "LocatorType",
                        Guid::at(b, 0).to_string(),
                        "B04AEFB7-D19E-4A81-B789-25B8E9445913: a VHDX parent",
                        Guid::at(b, 0) == super::format::LOCATOR_TYPE_VHDX,
                    ),
                    r.row((18, 2), "key_value_count", "KeyValueCount", le16(b, 18).to_string(), "key/value entries that follow", true),
                ];
                if let Some(l) = &v.parent_locator {
                    // Offsets past the item are shown clamped to its end, with no raw bytes.
                    let at = |o: u32| usize::try_from(o).unwrap_or(usize::MAX).min(b.len());
                    for e in &l.value.entries {
                        f.push(r.row(
                            (at(e.key_offset), usize::from(e.key_length)),
                            "locator_key",
                            "Key",
                            format!("\"{}\"", e.key),
                            "the entry's key (UTF-16)",
                            e.valid,
                        ));
                        f.push(r.row(
                            (at(e.value_offset), usize::from(e.value_length)),
                            "locator_value",
                            "Value",
                            format!("\"{}\"", e.value),
                            locator_meaning(&e.key),
                            e.valid,
                        ));
                    }
                }
                f
            }
            _ => vec![r.row(
                (0, b.len().min(64)),
                "item_data",
                "Data",
                format!("{} bytes", b.len()),
                "an item this viewer does not decode",
                true,
            )],
        };
        out.push(Structure { name: format!("Metadata item: {name}"), offset: item.offset, fields });
    }
    for e in &v.log.entries {
        out.push(log_entry_structure(
            e.offset,
            &e.value,
            format!("Log entry {} (replayed in memory)", e.value.sequence_number),
            None,
            true,
        ));
    }
    // The entries left in the log region that were not replayed (a clean log's earlier sessions,
    // entries older than a dirty log's active sequence, torn ones), the first 64 of them.
    for e in v.log.region.iter().filter(|e| !e.replayed).take(64) {
        let h = &e.found.header;
        let why = if e.found.problem.is_some() {
            "does not verify"
        } else if !v.log.dirty {
            "an earlier session's, the log is clean"
        } else {
            "not current"
        };
        out.push(log_entry_structure(
            e.found.offset,
            h,
            format!("Log entry {} (not replayed: {why})", h.sequence_number),
            e.found.problem.as_deref(),
            false,
        ));
    }
    out
}

/// The fields of a log entry's header at `offset`: `problem` says why the entry does not verify.
fn log_entry_structure(offset: u64, h: &super::format::LogEntryHeader, name: String, problem: Option<&str>, replayed: bool) -> Structure {
    let mut raw = vec![0u8; lo::HEADER_SIZE];
    raw[0..4].copy_from_slice(&h.signature);
    raw[4..8].copy_from_slice(&h.checksum.to_le_bytes());
    raw[8..12].copy_from_slice(&h.entry_length.to_le_bytes());
    raw[12..16].copy_from_slice(&h.tail.to_le_bytes());
    raw[16..24].copy_from_slice(&h.sequence_number.to_le_bytes());
    raw[24..28].copy_from_slice(&h.descriptor_count.to_le_bytes());
    raw[32..48].copy_from_slice(&h.log_guid.0);
    raw[48..56].copy_from_slice(&h.flushed_file_offset.to_le_bytes());
    raw[56..64].copy_from_slice(&h.last_file_offset.to_le_bytes());
    let r = Raw { base: offset, bytes: &raw };
    Structure {
        name,
        offset,
        fields: vec![
            r.row((lo::SIGNATURE, 4), "signature", "Signature", "\"loge\"".into(), "a log entry", true),
            r.row(
                (lo::CHECKSUM, 4),
                "checksum",
                "Checksum",
                match problem {
                    None => format!("{:#010x} (good)", h.checksum),
                    Some(why) => format!("{:#010x} (the entry does not verify: {why})", h.checksum),
                },
                "CRC-32C of the whole entry with this field zero",
                problem.is_none(),
            ),
            r.row(
                (lo::ENTRY_LENGTH, 4),
                "entry_length",
                "EntryLength",
                h.entry_length.to_string(),
                "bytes of the entry, a multiple of 4 KiB",
                true,
            ),
            r.row((lo::TAIL, 4), "tail", "Tail", format!("{:#x}", h.tail), "where in the log the sequence this entry ends begins", true),
            r.row(
                (lo::SEQUENCE_NUMBER, 8),
                "sequence_number",
                "SequenceNumber",
                h.sequence_number.to_string(),
                "entries of a sequence count up by one",
                true,
            ),
            r.row(
                (lo::DESCRIPTOR_COUNT, 4),
                "descriptor_count",
                "DescriptorCount",
                h.descriptor_count.to_string(),
                "zero and data descriptors (writes) in the entry",
                true,
            ),
            r.row(
                (lo::LOG_GUID, 16),
                "log_guid",
                "LogGuid",
                h.log_guid.to_string(),
                if replayed { "the header's LogGuid" } else { "the session that wrote it" },
                true,
            ),
            r.row(
                (lo::FLUSHED_FILE_OFFSET, 8),
                "flushed_file_offset",
                "FlushedFileOffset",
                format!("{:#x}", h.flushed_file_offset),
                "the file's length when the entry was written",
                true,
            ),
            r.row(
                (lo::LAST_FILE_OFFSET, 8),
                "last_file_offset",
                "LastFileOffset",
                format!("{:#x}", h.last_file_offset),
                "the file is at least this long after replay",
                true,
            ),
        ],
    }
}

fn locator_meaning(key: &str) -> &'static str {
    match key {
        "parent_linkage" => "the parent's DataWriteGuid when this child was made: verifies the parent",
        "parent_linkage2" => "another DataWriteGuid the parent may have (after an interrupted write)",
        "relative_path" => "the parent's path relative to this file's folder (tried first)",
        "volume_path" => "the parent's path on its volume, by volume GUID",
        "absolute_win32_path" => "the parent's absolute Windows path",
        _ => "a key the spec does not define",
    }
}
