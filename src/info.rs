//! The summary `vhd-viewer info --json` prints and the web page shows: every field of every
//! structure, keyed in snake_case after the spec's names.

use serde::Serialize;

use crate::disk::Disk;
use crate::fields::Field;
use crate::finding::Finding;
use crate::layer::{FormatInfo, Layer};
pub use crate::vhd::info::{DynamicInfo, FooterCopyInfo, LocatorInfo, VhdInfo};
pub use crate::vhdx::info::{LogRegionEntryInfo, VhdxInfo};

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

/// Summarises one layer.
pub fn layer_info(layer: &Layer, file: &str) -> LayerInfo {
    let FormatInfo { format, vhd, dynamic, vhdx, fields } = layer.format_info();
    LayerInfo {
        file: file.to_string(),
        file_size: layer.file_len,
        format,
        disk_type: layer.disk_type().name(),
        vhd,
        dynamic,
        vhdx,
        fields,
        findings: layer.findings.clone(),
    }
}

/// Each layer of `disk` as a link of its chain (`files` are the layers' file names, top
/// first): what `info`'s `chain` lists and the chain diagram draws.
pub fn chain_links(disk: &Disk, files: &[String]) -> Vec<ChainLink> {
    disk.layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let parent = l.parent_link();
            ChainLink {
                file: files.get(i).cloned().unwrap_or_default(),
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
}

/// Summarises a chain; `files[i]` names layer `i`.
pub fn info(disk: &Disk, files: &[String]) -> Info {
    let name = |i: usize| files.get(i).cloned().unwrap_or_default();
    let chain = if disk.layers.len() > 1 || disk.parent_missing() { chain_links(disk, files) } else { Vec::new() };
    Info { layer: layer_info(&disk.layers[0], &name(0)), chain, parent_missing: disk.parent_missing(), all_findings: disk.all_findings() }
}
