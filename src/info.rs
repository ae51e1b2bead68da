//! The summary `vhd-viewer info --json` prints and the web page shows: every field of every
//! structure, keyed in snake_case after the spec's names.

use serde::Serialize;

use crate::disk::Disk;
use crate::fields::Field;
use crate::finding::Finding;
use crate::image::BlockState;
use crate::image::Located;
use crate::layer::{Image, Layer};
use crate::values::{FourCc, Timestamp, Uuid};
use crate::vhd::fields::{footer_fields, header_fields, locator_fields};
use crate::vhd::footer::Footer;
use crate::vhd::FooterSource;
use crate::vhdx::Guid;

/// Everything about one file (one layer of a chain).
#[derive(Debug, Clone, Serialize)]
pub struct LayerInfo {
    /// The file's name as the caller gave it.
    pub file: String,
    /// Length of the file in bytes.
    pub file_size: u64,
    /// `vhd` or `vhdx`.
    pub format: &'static str,
    /// `fixed`, `dynamic`, `differencing` (or `unknown`).
    pub disk_type: &'static str,
    /// A VHD's footer (absent for a VHDX).
    #[serde(flatten)]
    pub vhd: Option<VhdInfo>,
    /// The dynamic header, for dynamic and differencing disks.
    #[serde(flatten)]
    pub dynamic: Option<DynamicInfo>,
    /// A VHDX's structures.
    #[serde(flatten)]
    pub vhdx: Option<VhdxInfo>,
    /// Every field as a row: offset, raw bytes, value, meaning.
    pub fields: Vec<Field>,
    /// What the checks noticed.
    pub findings: Vec<Finding>,
}

impl LayerInfo {
    /// The virtual disk's size.
    pub fn current_size(&self) -> u64 {
        self.vhd.as_ref().map(|v| v.current_size).or(self.vhdx.as_ref().map(|v| v.current_size)).unwrap_or(0)
    }
}

/// A VHD's footer fields.
#[derive(Debug, Clone, Serialize)]
pub struct VhdInfo {
    /// Footer `cookie`.
    pub cookie: String,
    /// Footer `features`.
    pub features: u32,
    /// Footer `file format version` as major.minor.
    pub file_format_version: String,
    /// Footer `data offset` in hex (all ones for a fixed disk: too large for a JSON number).
    pub data_offset: String,
    /// Footer `time stamp` as ISO 8601 UTC.
    pub timestamp: Timestamp,
    /// The raw time stamp: seconds since 2000-01-01.
    pub timestamp_seconds: u32,
    /// Footer `creator application`.
    pub creator_application: FourCc,
    /// Footer `creator version` as major.minor.
    pub creator_version: String,
    /// Footer `creator host OS`.
    pub creator_host_os: FourCc,
    /// Footer `original size` in bytes.
    pub original_size: u64,
    /// Footer `current size` in bytes: the virtual disk's size.
    pub current_size: u64,
    /// Footer `disk geometry`.
    pub geometry: crate::vhd::geometry::Geometry,
    /// Bytes the geometry describes.
    pub geometry_size: u64,
    /// Footer `checksum` as stored.
    pub checksum: u32,
    /// Whether it matches the footer's bytes.
    pub checksum_valid: bool,
    /// Footer `unique id`.
    pub unique_id: Uuid,
    /// Footer `saved state`.
    pub saved_state: u8,
    /// Where the footer in use is.
    pub footer_offset: u64,
    /// `end`, `end-511` or `copy` (recovered from offset 0).
    pub footer_source: &'static str,
    /// The copy at offset 0 (dynamic and differencing disks).
    pub footer_copy: Option<FooterCopyInfo>,
}

/// A VHDX's structures, summarised; keys shared with a VHD's (`current_size`, `block_size`,
/// `bat_entries`, `allocated_blocks`) mean the same.
#[derive(Debug, Clone, Serialize)]
pub struct VhdxInfo {
    /// The file type identifier's `Creator`.
    pub creator: String,
    /// `VirtualDiskSize`: the virtual disk's size in bytes.
    pub current_size: u64,
    /// `BlockSize`.
    pub block_size: u32,
    /// `LogicalSectorSize`.
    pub logical_sector_size: u32,
    /// `PhysicalSectorSize`.
    pub physical_sector_size: u32,
    /// File parameters `LeaveBlocksAllocated`.
    pub leave_blocks_allocated: bool,
    /// File parameters `HasParent`.
    pub has_parent: bool,
    /// `Page83Data`.
    pub page83_data: Option<Guid>,
    /// Which header is current: 1 or 2.
    pub current_header: usize,
    /// Why: the valid header with the larger sequence number.
    pub header_sequence_numbers: [u64; 2],
    /// Whether each header's signature and CRC-32C are good.
    pub headers_valid: [bool; 2],
    /// Whether each region table's signature and CRC-32C are good.
    pub region_tables_valid: [bool; 2],
    /// The current header's `FileWriteGuid`.
    pub file_write_guid: Guid,
    /// The current header's `DataWriteGuid`: what a child's `parent_linkage` names.
    pub data_write_guid: Guid,
    /// The current header's `LogGuid`.
    pub log_guid: Guid,
    /// `LogOffset`.
    pub log_offset: u64,
    /// `LogLength`.
    pub log_length: u32,
    /// True when the disk was not closed cleanly (`LogGuid` not zero).
    pub log_dirty: bool,
    /// True when the log was replayed in memory and the disk is shown after replay.
    pub log_replayed: bool,
    /// The replayed entries' sequence numbers and offsets.
    pub log_entries: Vec<(u64, u64)>,
    /// Every entry header found in the log region, replayed or not (a clean log keeps the
    /// entries of earlier sessions; a dirty one may hold entries older than its active
    /// sequence), in log order, each verified under its own log GUID.
    pub log_region_entries: Vec<LogRegionEntryInfo>,
    /// Why the log region was not read or not listed whole, if so.
    pub log_region_note: Option<String>,
    /// Where the BAT is.
    pub bat_offset: u64,
    /// BAT entries read (payload and sector bitmap entries).
    pub bat_entries: u64,
    /// Payload blocks per sector bitmap block.
    pub chunk_ratio: u64,
    /// Payload blocks of the disk.
    pub payload_blocks: u64,
    /// Sector bitmap blocks (chunks) of the disk.
    pub sector_bitmap_blocks: u64,
    /// Sector bitmap blocks present in the file.
    pub sector_bitmap_blocks_present: u64,
    /// Payload blocks whose data is in the file (fully or partially present).
    pub allocated_blocks: u64,
    /// Payload blocks in each state (state name, count).
    pub block_states: Vec<(BlockState, u64)>,
    /// Where the metadata region is.
    pub metadata_offset: u64,
    /// The parent locator's entries (key, value).
    pub parent_locator: Vec<(String, String)>,
    /// Every structure with its fields.
    pub structures: Vec<crate::vhdx::fields::Structure>,
}

/// An entry header found in a VHDX's log region.
#[derive(Debug, Clone, Serialize)]
pub struct LogRegionEntryInfo {
    /// Where its header is in the file.
    pub offset: u64,
    /// `SequenceNumber`.
    pub sequence_number: u64,
    /// `LogGuid`: the session that wrote it.
    pub log_guid: Guid,
    /// `EntryLength`.
    pub entry_length: u32,
    /// `Tail`.
    pub tail: u32,
    /// `DescriptorCount`.
    pub descriptor_count: u32,
    /// `FlushedFileOffset`.
    pub flushed_file_offset: u64,
    /// `LastFileOffset`.
    pub last_file_offset: u64,
    /// True when it verifies under its own log GUID (length, CRC-32C, descriptors, data sectors).
    pub verifies: bool,
    /// Why it does not verify.
    pub problem: Option<String>,
    /// The writes it holds (when it verifies).
    pub writes: usize,
    /// True when it was replayed (the active sequence of a dirty log).
    pub replayed: bool,
    /// Why it was or was not replayed, in words.
    pub status: String,
}

fn vhdx_info(v: &crate::vhdx::Vhdx) -> VhdxInfo {
    let h = v.header();
    VhdxInfo {
        creator: v.identifier.value.creator.clone(),
        current_size: v.virtual_disk_size,
        block_size: v.block_size,
        logical_sector_size: v.logical_sector_size,
        physical_sector_size: v.physical_sector_size,
        leave_blocks_allocated: v.leave_blocks_allocated,
        has_parent: v.has_parent,
        page83_data: v.page83,
        current_header: v.current_header + 1,
        header_sequence_numbers: [v.headers[0].value.sequence_number, v.headers[1].value.sequence_number],
        headers_valid: [v.headers[0].value.valid(), v.headers[1].value.valid()],
        region_tables_valid: [v.region_tables[0].value.valid(), v.region_tables[1].value.valid()],
        file_write_guid: h.file_write_guid,
        data_write_guid: h.data_write_guid,
        log_guid: h.log_guid,
        log_offset: h.log_offset,
        log_length: h.log_length,
        log_dirty: v.log.dirty,
        log_replayed: v.log.replayed,
        log_entries: v.log.entries.iter().map(|e| (e.value.sequence_number, e.offset)).collect(),
        log_region_entries: v
            .log
            .region
            .iter()
            .map(|e| {
                let h = &e.found.header;
                LogRegionEntryInfo {
                    offset: e.found.offset,
                    sequence_number: h.sequence_number,
                    log_guid: h.log_guid,
                    entry_length: h.entry_length,
                    tail: h.tail,
                    descriptor_count: h.descriptor_count,
                    flushed_file_offset: h.flushed_file_offset,
                    last_file_offset: h.last_file_offset,
                    verifies: e.found.problem.is_none(),
                    problem: e.found.problem.clone(),
                    writes: e.found.writes,
                    replayed: e.replayed,
                    status: e.status.clone(),
                }
            })
            .collect(),
        log_region_note: v.log.region_note.clone(),
        bat_offset: v.bat_offset,
        bat_entries: v.bat.len() as u64,
        chunk_ratio: v.chunk_ratio,
        payload_blocks: v.payload_blocks,
        sector_bitmap_blocks: v.bitmap_blocks,
        sector_bitmap_blocks_present: v.bitmap_blocks_present(),
        allocated_blocks: v.allocated_blocks(),
        block_states: v.state_counts(),
        metadata_offset: v.metadata_region.file_offset,
        parent_locator: v
            .parent_locator
            .as_ref()
            .map(|l| l.value.entries.iter().map(|e| (e.key.clone(), e.value.clone())).collect())
            .unwrap_or_default(),
        structures: crate::vhdx::fields::structures(v),
    }
}

/// The footer copy at offset 0, compared with the footer in use.
#[derive(Debug, Clone, Serialize)]
pub struct FooterCopyInfo {
    /// Always 0.
    pub offset: u64,
    /// Whether the copy's checksum is right.
    pub checksum_valid: bool,
    /// Whether it equals the end footer byte for byte.
    pub identical: bool,
    /// The fields in which it differs from the end footer.
    pub differences: Vec<&'static str>,
    /// Its fields.
    pub fields: Vec<Field>,
}

/// The dynamic header's fields and the BAT's summary.
#[derive(Debug, Clone, Serialize)]
pub struct DynamicInfo {
    /// Where the header is.
    pub header_offset: u64,
    /// Header `table offset`.
    pub table_offset: u64,
    /// Header `header version` as major.minor.
    pub header_version: String,
    /// Header `max table entries`.
    pub max_table_entries: u32,
    /// Header `block size`.
    pub block_size: u32,
    /// Header `checksum`.
    pub header_checksum: u32,
    /// Whether it matches.
    pub header_checksum_valid: bool,
    /// Header `parent unique id`.
    pub parent_unique_id: Uuid,
    /// Header `parent time stamp`, ISO 8601 UTC.
    pub parent_timestamp: Timestamp,
    /// Header `parent unicode name`.
    pub parent_unicode_name: String,
    /// The non-empty parent locator entries.
    pub parent_locators: Vec<LocatorInfo>,
    /// BAT entries read (at most the blocks the disk needs).
    pub bat_entries: u64,
    /// Blocks allocated in this file.
    pub allocated_blocks: u64,
    /// Blocks whose place in the file is before that of a block with a lower index.
    pub out_of_order_blocks: u64,
    /// Bytes of sector bitmap at the start of each block.
    pub bitmap_size: u64,
}

/// A parent locator entry.
#[derive(Debug, Clone, Serialize)]
pub struct LocatorInfo {
    /// Position among the eight entries.
    pub index: usize,
    /// Where the 24-byte entry is.
    pub offset: u64,
    /// `platform code`.
    pub platform_code: FourCc,
    /// `platform data space` as stored.
    pub platform_data_space: u32,
    /// `platform data length`.
    pub platform_data_length: u32,
    /// `platform data offset`.
    pub platform_data_offset: u64,
    /// The decoded path, if the data could be read.
    pub path: Option<String>,
    /// Whether the data was valid text in its encoding.
    pub path_valid: bool,
    /// Its fields.
    pub fields: Vec<Field>,
}

/// The whole chain and the opened file's own summary.
#[derive(Debug, Clone, Serialize)]
pub struct Info {
    /// The opened file (layer 0), its keys at the top level.
    #[serde(flatten)]
    pub layer: LayerInfo,
    /// Every layer of the chain, the opened file first (only when it is a differencing disk).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<ChainLink>,
    /// True when the last differencing layer's parent was not found.
    pub parent_missing: bool,
    /// Every finding: each layer's and the chain's.
    pub all_findings: Vec<Finding>,
}

/// One layer of a chain, briefly.
#[derive(Debug, Clone, Serialize)]
pub struct ChainLink {
    /// The file.
    pub file: String,
    /// Its type.
    pub disk_type: &'static str,
    /// `vhd` or `vhdx`.
    pub format: &'static str,
    /// Its creator (a VHD's creator application, a VHDX's creator).
    pub creator_application: String,
    /// Its size.
    pub current_size: u64,
    /// Its unique id (a VHDX's `DataWriteGuid`).
    pub unique_id: String,
    /// The parent it names (differencing disks; a VHDX's `parent_linkage`).
    pub parent_unique_id: Option<String>,
    /// True when the next layer's unique id is the one this layer names.
    pub parent_verified: Option<bool>,
    /// Blocks allocated in this file.
    pub allocated_blocks: u64,
}

fn copy_info(copy: &Located<Footer>, end: Option<&Located<Footer>>) -> FooterCopyInfo {
    let differences = end.map(|e| e.value.differences(&copy.value)).unwrap_or_default();
    FooterCopyInfo {
        offset: copy.offset,
        checksum_valid: copy.value.checksum_valid(),
        identical: end.is_some_and(|e| e.value.raw == copy.value.raw),
        differences,
        fields: footer_fields(copy),
    }
}

/// Summarises one layer.
pub fn layer_info(layer: &Layer, file: &str) -> LayerInfo {
    let v = match &layer.image {
        Image::Vhd(v) => v,
        Image::Vhdx(v) => {
            let vi = vhdx_info(v);
            return LayerInfo {
                file: file.to_string(),
                file_size: layer.file_len,
                format: "vhdx",
                disk_type: layer.disk_type().name(),
                vhd: None,
                dynamic: None,
                fields: vi.structures.iter().flat_map(|s| s.fields.iter().cloned()).collect(),
                vhdx: Some(vi),
                findings: layer.findings.clone(),
            };
        }
    };
    let vhd_layer = v;
    let f = &v.footer.value;
    let mut fields = footer_fields(&vhd_layer.footer);
    let dynamic = vhd_layer.header.as_ref().map(|h| {
        let v = &h.value;
        fields.extend(header_fields(h));
        DynamicInfo {
            header_offset: h.offset,
            table_offset: v.table_offset,
            header_version: format!("{}.{}", v.header_version >> 16, v.header_version & 0xffff),
            max_table_entries: v.max_table_entries,
            block_size: v.block_size,
            header_checksum: v.checksum,
            header_checksum_valid: v.checksum_valid(),
            parent_unique_id: v.parent_unique_id,
            parent_timestamp: v.parent_timestamp,
            parent_unicode_name: v.parent_unicode_name().0,
            parent_locators: vhd_layer
                .locators
                .iter()
                .map(|l| LocatorInfo {
                    index: l.entry.value.index,
                    offset: l.entry.offset,
                    platform_code: l.entry.value.platform_code,
                    platform_data_space: l.entry.value.platform_data_space,
                    platform_data_length: l.entry.value.platform_data_length,
                    platform_data_offset: l.entry.value.platform_data_offset,
                    path: l.path.as_ref().map(|p| p.path.clone()),
                    path_valid: l.path.as_ref().is_some_and(|p| p.valid),
                    fields: locator_fields(l),
                })
                .collect(),
            bat_entries: vhd_layer.bat.len() as u64,
            allocated_blocks: vhd_layer.allocated_blocks(),
            out_of_order_blocks: vhd_layer.out_of_order_count(),
            bitmap_size: v.bitmap_size(),
        }
    });
    let end = vhd_layer.end_footer.as_ref().filter(|e| e.value.cookie_valid());
    let vhd = VhdInfo {
        cookie: crate::error::show_bytes(&f.cookie),
        features: f.features,
        file_format_version: format!("{}.{}", f.file_format_version >> 16, f.file_format_version & 0xffff),
        data_offset: format!("{:#018x}", f.data_offset),
        timestamp: f.timestamp,
        timestamp_seconds: f.timestamp.0,
        creator_application: f.creator_application,
        creator_version: f.creator_version_text(),
        creator_host_os: f.creator_host_os,
        original_size: f.original_size,
        current_size: f.current_size,
        geometry: f.geometry,
        geometry_size: f.geometry.size(),
        checksum: f.checksum,
        checksum_valid: f.checksum_valid(),
        unique_id: f.unique_id,
        saved_state: f.saved_state,
        footer_offset: vhd_layer.footer.offset,
        footer_source: match vhd_layer.footer_source {
            FooterSource::End => "end",
            FooterSource::End511 => "end-511",
            FooterSource::Copy => "copy",
        },
        footer_copy: vhd_layer.footer_copy.as_ref().map(|c| copy_info(c, end)),
    };
    LayerInfo {
        file: file.to_string(),
        file_size: layer.file_len,
        format: "vhd",
        disk_type: f.disk_type.name(),
        vhd: Some(vhd),
        dynamic,
        vhdx: None,
        fields,
        findings: layer.findings.clone(),
    }
}

/// Summarises a chain; `files[i]` names layer `i`.
pub fn info(disk: &Disk, files: &[String]) -> Info {
    let name = |i: usize| files.get(i).cloned().unwrap_or_default();
    let chain = if disk.layers.len() > 1 || disk.parent_missing() {
        disk.layers
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let parent = l.parent_link();
                ChainLink {
                    file: name(i),
                    disk_type: l.disk_type().name(),
                    format: l.format(),
                    creator_application: l.creator(),
                    current_size: l.size(),
                    unique_id: l.link_id_text(),
                    parent_verified: parent.as_ref().map(|_| disk.layers.get(i + 1).is_some_and(|n| l.parent_matches(n))),
                    parent_unique_id: parent.map(|(_, shown)| shown),
                    allocated_blocks: l.allocated_blocks(),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    Info { layer: layer_info(&disk.layers[0], &name(0)), chain, parent_missing: disk.parent_missing(), all_findings: disk.all_findings() }
}
