//! A VHDX's part of `info`: its headers, regions, log, metadata, BAT and parent locator,
//! summarised as [`crate::info::LayerInfo`] shows them.

use serde::Serialize;

use super::{Guid, Vhdx};
use crate::image::BlockState;

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
    pub structures: Vec<crate::fields::Structure>,
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

impl VhdxInfo {
    /// The log's state in words: clean, replayed in memory, or dirty and not verifying.
    pub fn log_words(&self) -> String {
        if !self.log_dirty {
            "clean (closed properly: nothing to replay)".to_string()
        } else if self.log_replayed {
            format!(
                "DIRTY: {} entries replayed in memory; the disk is shown after replay (the file is not written)",
                self.log_entries.len()
            )
        } else {
            "DIRTY, and the log does not verify: the disk is read as stored".to_string()
        }
    }
}

impl Vhdx {
    /// The summary of this VHDX's structures.
    pub(crate) fn info(&self) -> VhdxInfo {
        let v = self;
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
            structures: super::fields::structures(v),
        }
    }
}
