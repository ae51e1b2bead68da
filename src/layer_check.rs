//! One layer's part of the deep check ([`crate::check`]), in words every format's checker
//! shares: the reads it asks for, where it is in the layer, and what it has found. Each format
//! steps through its own blocks ([`crate::vhd`]'s bitmaps and the sectors they mark unused,
//! [`crate::vhdx`]'s partially present blocks' bitmaps); the checker knows chains, not formats.

use std::collections::HashSet;

use crate::finding::Finding;
use crate::image::ByteRange;
use crate::plan::bit;

/// What a read of the deep check is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadKind {
    /// A block's sector bitmap.
    Bitmap,
    /// The stretch of a dynamic disk's block that holds all its sectors marked unused.
    Data,
}

/// One read the deep check needs: bytes of layer `layer`'s file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CheckRead {
    /// The layer whose file is read.
    pub layer: usize,
    /// The block the read is for.
    pub block: u64,
    /// Where in the file.
    pub range: ByteRange,
    /// What it is.
    pub kind: ReadKind,
}

/// Sectors of a dynamic disk's block whose bitmap bit is clear but whose bytes in the file are
/// not zero: they read as zeros, but hold left-over data. `data` is part of the block's data
/// area starting at sector `first` of the block (fewer bytes at the end of the file). Returns
/// the sector numbers within the block.
pub fn unused_nonzero_sectors(bitmap: &[u8], first: u64, data: &[u8]) -> Vec<u64> {
    data.chunks(512)
        .enumerate()
        .map(|(i, bytes)| (first + i as u64, bytes))
        .filter(|(s, bytes)| !bit(bitmap, *s) && bytes.iter().any(|b| *b != 0))
        .map(|(s, _)| s)
        .collect()
}

/// The first and last sector whose bit is clear in a VHD bitmap (the caller knows one is).
pub(crate) fn clear_span(bitmap: &[u8], sectors: u64) -> (u64, u64) {
    let first = (0..sectors).find(|s| !bit(bitmap, *s)).unwrap_or(0);
    let last = (0..sectors).rev().find(|s| !bit(bitmap, *s)).unwrap_or(first);
    (first, last)
}

/// Where the deep check is in the chain and what it has found so far.
#[derive(Debug, Default)]
pub(crate) struct LayerCheck {
    /// The layer being checked.
    pub(crate) layer: usize,
    /// The block being checked.
    pub(crate) block: u64,
    /// The bitmap of `block` while its data is wanted.
    pub(crate) bitmap: Option<Vec<u8>>,
    /// Blocks of the layer not to read (see [`crate::layer::Layer::overlapped_blocks`]).
    pub(crate) overlapped: HashSet<u64>,
    /// Blocks checked so far, in all layers.
    pub(crate) done: u64,
    /// What was found.
    pub(crate) findings: Vec<Finding>,
    /// Sectors marked unused that hold data, in this layer.
    pub(crate) leftover: u64,
    /// Blocks with such sectors, in this layer.
    pub(crate) leftover_blocks: u64,
}

/// What a format's checker says to do at the current block.
#[derive(Debug)]
pub(crate) enum CheckNext {
    /// Make this read.
    Read(CheckRead),
    /// The checker moved on (to the next block): ask again.
    Again,
    /// The layer has no more blocks to check.
    EndLayer,
}

impl LayerCheck {
    /// The current block is checked: on to the next.
    pub(crate) fn next_block(&mut self) {
        self.block += 1;
        self.done += 1;
    }

    /// A read of `range` for the current block.
    pub(crate) fn read(&self, range: ByteRange, kind: ReadKind) -> CheckNext {
        CheckNext::Read(CheckRead { layer: self.layer, block: self.block, range, kind })
    }

    /// Adds `finding`, as being about the current layer.
    pub(crate) fn found(&mut self, finding: Finding) {
        self.findings.push(Finding { layer: self.layer, ..finding });
    }
}
