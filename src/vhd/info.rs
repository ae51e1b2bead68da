//! A VHD's part of `info`: its footer, the copy at offset 0, the dynamic header, the parent
//! locators and the BAT's summary, as [`crate::info::LayerInfo`] shows them.

use serde::Serialize;

use super::fields::{footer_fields, header_fields, locator_fields};
use super::footer::Footer;
use super::geometry::Geometry;
use super::{FooterSource, Vhd};
use crate::fields::Field;
use crate::image::Located;
use crate::values::{FourCc, Timestamp, Uuid};

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
    pub geometry: Geometry,
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

impl Vhd {
    /// The footer's summary, the dynamic header's (for a dynamic or differencing disk), and
    /// every field of both and of the locators as rows.
    pub(crate) fn info(&self) -> (VhdInfo, Option<DynamicInfo>, Vec<Field>) {
        let (v, vhd_layer) = (self, self);
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
        (vhd, dynamic, fields)
    }
}
