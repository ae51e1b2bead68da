//! `repair`: a copy of one damaged file with each recoverable defect fixed, each fix named with
//! its offset in the damaged file:
//!
//! - the end footer rewritten from its copy at byte 0, or the copy from the end footer; a
//!   511-byte footer written as 512 bytes; checksums recomputed where the fields are sane (the
//!   disk could be opened through them);
//! - a cut-off end restored: the footer written back; a fixed disk's missing bytes written as
//!   zeros (lost, reported);
//! - a BAT whose `max table entries` is smaller than the disk needs: the rest of the BAT read
//!   from the file when every entry there is plausible;
//! - BAT entries pointing past the end of the file, into the metadata, or into another block:
//!   cleared (the data they pointed at is lost, reported); a block cut short keeps what the file
//!   holds;
//! - parent locators whose data cannot be read: dropped (the parent is still named by the
//!   others and by its unicode name);
//! - with `scrub`, left-over bytes behind clear bitmap bits zeroed.
//!
//! A VHDX is copied in its own layout ([`crate::vhdx::copy`]), its structures written anew:
//!
//! - a header or region table whose signature or checksum is bad rewritten from the good one
//!   (both headers with sequence numbers moved on, the copy's log clean);
//! - a dirty log replayed into the copy (or, when it does not verify, reported lost);
//! - BAT entries with states or reserved bits the spec does not allow written as the state
//!   they read as; blocks past the end of the file, in a structure or in another block made not
//!   present (the data lost is named), a block cut short kept with zeros; a partially present
//!   block without its sector bitmap made not present (it read from the parent);
//! - with `scrub`, a differencing disk's sectors behind clear sector bitmap bits zeroed.
//!
//! What cannot be repaired (both headers or both region tables bad, the metadata missing a
//! required item) is the opener's error, naming the offset.
//!
//! What cannot be fixed is reported ([`ActionKind::NotFixed`]). The copy is laid out anew by the
//! writer, so that fields nobody reads (header version, unused offsets) come out right too.
//! Reads through a [`ReadAt`], writes through a [`WriteAt`], a window of at most 1 MiB at a time.

use crate::check::Progress;
use crate::compact::same_identity;
use crate::disk::bit;
use crate::error::{Result, WriteError};
use crate::image::ByteRange;
use crate::image::DiskType;
use crate::layer::Layer;
use crate::reader::ReadAt;
use crate::rules::{Own, Writer};
use crate::vhd::footer::{self, FOOTER_SIZE, NO_DATA_OFFSET};
use crate::vhd::header::HEADER_SIZE;
use crate::vhd::writer::{SparseLayout, WriteAt};
use crate::vhd::Vhd;
use crate::vhd::{FooterSource, MAX_BAT_ENTRIES, MAX_DISK_SIZE, UNALLOCATED};
use crate::vhdx::copy::{self as vhdx_copy, VhdxCopy};
use crate::vhdx::format::MIB;
use crate::vhdx::{BlockState, Vhdx};

/// What became of a defect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Fixed without loss.
    Fixed,
    /// Fixed, but data was lost (it is named).
    Lost,
    /// Left as it is.
    NotFixed,
}

impl ActionKind {
    /// The word printed before the action.
    pub fn word(self) -> &'static str {
        match self {
            ActionKind::Fixed => "fixed",
            ActionKind::Lost => "lost",
            ActionKind::NotFixed => "not fixed",
        }
    }
}

/// One thing repair did or could not do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Action {
    /// Fixed, lost or not fixed.
    pub kind: ActionKind,
    /// The offset in the damaged file it concerns.
    pub offset: Option<u64>,
    /// The finding code of the defect, when it is one the opener reports.
    pub code: &'static str,
    /// What was done, in plain words.
    pub message: String,
}

/// What repair wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Repaired {
    /// Every fix, loss and defect left.
    pub actions: Vec<Action>,
    /// Blocks copied.
    pub blocks: u64,
    /// Sectors whose left-over bytes were zeroed (`scrub`).
    pub sectors_scrubbed: u64,
    /// The copy's length.
    pub file_len: u64,
}

impl Repaired {
    /// True when nothing was lost and nothing left unfixed.
    pub fn complete(&self) -> bool {
        self.actions.iter().all(|a| a.kind == ActionKind::Fixed)
    }
}

fn act(actions: &mut Vec<Action>, kind: ActionKind, code: &'static str, offset: Option<u64>, message: String) {
    actions.push(Action { kind, offset, code, message });
}

fn has(layer: &Layer, code: &str) -> bool {
    layer.findings.iter().any(|f| f.code == code)
}

/// Repairs `layer` (opened from `src`) into `out`, which must start empty. Errors when no
/// useful copy can be written (nothing is then to be kept of `out`).
pub fn repair(layer: &Layer, src: &dyn ReadAt, scrub: bool, out: &mut dyn WriteAt, progress: Progress<'_>) -> Result<Repaired> {
    let mut r = Repairing::new(layer, src, scrub)?;
    while r.step(src, out)? {
        let (done, total) = r.progress();
        progress(done, total);
    }
    r.finish(out)
}

/// A repaired copy in progress, a window of at most 1 MiB per [`Repairing::step`]: the caller
/// owns the loop, so that a page can write each step's bytes, show progress and stop between
/// steps. What is fixed, lost and left is decided when it is planned ([`Repairing::new`]).
pub struct Repairing {
    actions: Vec<Action>,
    plan: Plan,
}

enum Plan {
    /// A fixed disk: `copy_len` bytes of data copied as they are, then the footer at `data_len`.
    Fixed {
        copy_len: u64,
        copied: u64,
        data_len: u64,
        footer: Vec<u8>,
        buf: Vec<u8>,
    },
    Sparse(Box<Sparse>),
    /// A VHDX, copied in its own layout; the payload blocks it holds.
    Vhdx(Box<VhdxCopy>, u64),
}

/// A dynamic or differencing disk: the blocks kept, copied into a layout made anew.
struct Sparse {
    geo: crate::vhd::BlockGeometry,
    data_end: u64,
    bat_at: u64,
    bat: Vec<u32>,
    keep: Vec<bool>,
    layout: SparseLayout,
    scrub: bool,
    buf: Vec<u8>,
    window: u64,
    /// The next BAT entry to look at.
    next: usize,
    /// The block being copied: its bitmap, where its data is in the input and in the copy, the
    /// bytes of it the file holds, and the bytes gone through.
    current: Option<(Vec<u8>, u64, u64, u64, u64)>,
    blocks: u64,
    scrubbed: u64,
    total: u64,
}

impl Repairing {
    /// Decides what the copy of `layer` (opened from `src`) fixes, loses and leaves.
    pub fn new(layer: &Layer, src: &dyn ReadAt, scrub: bool) -> Result<Self> {
        if let Own::Vhdx(v) = Writer::Repair.own(layer)? {
            let mut actions = Vec::new();
            let plan = plan_vhdx(layer, v, src, scrub, &mut actions)?;
            return Ok(Repairing { actions, plan });
        }
        let v = Writer::Repair.vhd_of(layer)?;
        let size = layer.size();
        if size > MAX_DISK_SIZE {
            return Err(WriteError::SizeTooLarge { offset: v.footer.offset + footer::off::CURRENT_SIZE as u64, size }.into());
        }
        let mut actions = Vec::new();
        footer_actions(layer, v, &mut actions);
        let plan = match layer.disk_type() {
            DiskType::Fixed => plan_fixed(layer, v, &mut actions),
            _ => Plan::Sparse(Box::new(plan_sparse(layer, v, src, scrub, &mut actions)?)),
        };
        Ok(Repairing { actions, plan })
    }

    /// Work done and in all: bytes of a fixed disk, blocks of a sparse one.
    pub fn progress(&self) -> (u64, u64) {
        match &self.plan {
            Plan::Fixed { copy_len, copied, .. } => (*copied, *copy_len),
            Plan::Sparse(p) => (p.blocks, p.total),
            Plan::Vhdx(c, _) => c.progress(),
        }
    }

    /// Copies the next window. False when everything is copied.
    pub fn step(&mut self, src: &dyn ReadAt, out: &mut dyn WriteAt) -> Result<bool> {
        match &mut self.plan {
            Plan::Fixed { copy_len, copied, buf, .. } => {
                // Bytes past the end of the input are not copied (they read as zeros in the copy).
                let avail = src.len().min(*copy_len);
                if *copied >= avail {
                    *copied = *copy_len;
                    return Ok(false);
                }
                let n = (avail - *copied).min(crate::convert::BUF as u64);
                copy_range(src, *copied, n, out, *copied, buf)?;
                *copied += n;
                Ok(true)
            }
            Plan::Sparse(p) => p.step(src, out, &mut self.actions),
            Plan::Vhdx(c, _) => c.step(src, out),
        }
    }

    /// Writes the copy's metadata (after the last step).
    pub fn finish(mut self, out: &mut dyn WriteAt) -> Result<Repaired> {
        match self.plan {
            Plan::Fixed { data_len, footer, .. } => {
                out.write_at(data_len, &footer)?;
                out.set_len(data_len + FOOTER_SIZE)?;
                Ok(Repaired { actions: self.actions, blocks: 0, sectors_scrubbed: 0, file_len: data_len + FOOTER_SIZE })
            }
            Plan::Sparse(p) => {
                if p.scrub {
                    act(
                        &mut self.actions,
                        ActionKind::Fixed,
                        "unused-sectors-nonzero",
                        None,
                        format!("{} sectors behind clear bitmap bits held left-over bytes: zeroed (--scrub)", p.scrubbed),
                    );
                }
                for (at, bytes) in p.layout.finish() {
                    out.write_at(at, &bytes)?;
                }
                out.set_len(p.layout.file_len())?;
                Ok(Repaired { actions: self.actions, blocks: p.blocks, sectors_scrubbed: p.scrubbed, file_len: p.layout.file_len() })
            }
            Plan::Vhdx(c, blocks) => {
                let scrubbed = c.scrubbed();
                if c.scrubs() {
                    act(
                        &mut self.actions,
                        ActionKind::Fixed,
                        "unused-sectors-nonzero",
                        None,
                        format!("{scrubbed} sectors behind clear sector bitmap bits held left-over bytes: zeroed (--scrub)"),
                    );
                }
                let file_len = c.finish(out)?;
                Ok(Repaired { actions: self.actions, blocks, sectors_scrubbed: scrubbed, file_len })
            }
        }
    }
}

fn footer_actions(layer: &Layer, v: &Vhd, actions: &mut Vec<Action>) {
    use ActionKind::*;
    let f = &v.footer;
    let sparse = layer.disk_type().is_sparse();
    let end_at = layer.file_len.saturating_sub(FOOTER_SIZE);
    match v.footer_source {
        FooterSource::Copy => {
            let why = match &v.end_footer {
                Some(e) if e.value.cookie_valid() => "its checksum was wrong",
                _ if layer.file_len % 512 != 0 => "the file was cut short",
                _ => "it was missing",
            };
            act(
                actions,
                Fixed,
                if has(layer, "footer-missing") { "footer-missing" } else { "footer-checksum" },
                Some(end_at),
                format!("the end footer is written from the good copy at byte 0 ({why})"),
            );
        }
        FooterSource::End511 => {
            act(actions, Fixed, "footer-511", Some(f.offset), "the 511-byte footer at the end is written as a whole 512-byte footer".into())
        }
        FooterSource::End => {}
    }
    if f.value.file_format_version != footer::FILE_FORMAT_VERSION {
        act(
            actions,
            Fixed,
            "footer-version",
            Some(f.offset + footer::off::FILE_FORMAT_VERSION as u64),
            format!(
                "the file format version {:#010x} is written as 0x00010000, the only one the spec defines",
                f.value.file_format_version
            ),
        );
    }
    if !f.value.checksum_valid() {
        act(
            actions,
            Fixed,
            "footer-checksum",
            Some(f.offset + footer::off::CHECKSUM as u64),
            format!(
                "the footer checksum is recomputed ({:#010x}, was {:#010x}): its fields are sane (the disk opens through them){}",
                f.value.computed_checksum,
                f.value.checksum,
                if sparse { ", and both copies are written with it" } else { "" }
            ),
        );
    }
    if sparse && v.footer_source != FooterSource::Copy {
        for (code, what) in [
            ("footer-copy-missing", "the footer copy at byte 0 was missing"),
            ("footer-copy-checksum", "the footer copy at byte 0 had a wrong checksum"),
            ("footer-copies-differ", "the footer copy at byte 0 differed from the end footer"),
        ] {
            if has(layer, code) {
                act(actions, Fixed, code, Some(0), format!("{what}: it is written from the end footer"));
            }
        }
    }
}

fn plan_fixed(layer: &Layer, v: &Vhd, actions: &mut Vec<Action>) -> Plan {
    let size = layer.size();
    let mut f = v.footer.value.clone();
    f.file_format_version = footer::FILE_FORMAT_VERSION;
    if f.data_offset != NO_DATA_OFFSET {
        act(
            actions,
            ActionKind::Fixed,
            if f.data_offset == u64::from(u32::MAX) { "data-offset-32bit" } else { "data-offset-fixed" },
            Some(v.footer.offset + footer::off::DATA_OFFSET as u64),
            format!("the data offset {:#x} is written as 0xffffffffffffffff (a fixed disk has no dynamic header)", f.data_offset),
        );
        f.data_offset = NO_DATA_OFFSET;
    }
    let held = layer.data_end;
    // Every byte of data the file holds is copied (more than the disk's size too: which of the
    // two is right is not known).
    if held > size {
        act(
            actions,
            ActionKind::NotFixed,
            "fixed-extra",
            Some(0),
            format!(
                "the file holds {held} bytes of data but the footer says the disk is {size} bytes; which one is right is not known, so every byte is kept and the footer left saying {size}"
            ),
        );
    }
    let copy_len = held;
    let data_len = copy_len.max(size);
    if size > held {
        act(
            actions,
            ActionKind::Lost,
            "fixed-truncated",
            Some(held),
            format!(
                "the file was cut short: the disk's bytes {held:#x}..{size:#x} ({} bytes) are missing and are written as zeros",
                size - held
            ),
        );
    }
    Plan::Fixed { copy_len, copied: 0, data_len, footer: footer::encode(&f), buf: vec![0u8; crate::convert::BUF] }
}

/// Copies `len` bytes of `src` at `from` to `out` at `to` through `buf`, leaving all-zero
/// pieces unwritten; bytes past the end of `src` are not copied (they read as zeros in the output).
fn copy_range(src: &dyn ReadAt, from: u64, len: u64, out: &mut dyn WriteAt, to: u64, buf: &mut [u8]) -> Result<()> {
    let avail = src.len().saturating_sub(from).min(len);
    let mut done = 0;
    while done < avail {
        let n = (avail - done).min(buf.len() as u64) as usize;
        let piece = &mut buf[..n];
        src.read_at(from + done, piece)?;
        if piece.iter().any(|b| *b != 0) {
            out.write_at(to + done, piece)?;
        }
        done += n as u64;
    }
    Ok(())
}

fn plan_sparse(layer: &Layer, v: &Vhd, src: &dyn ReadAt, scrub: bool, actions: &mut Vec<Action>) -> Result<Sparse> {
    use ActionKind::*;
    let (Some(header), Some(geo)) = (v.header.as_ref(), v.block_geometry()) else {
        return Err(WriteError::HeaderUnreadable.into());
    };
    let size = layer.size();
    crate::vhd::writer::check_layout(size, geo.block_size)?;
    let h = &header.value;
    let hat = |o: usize| header.offset + o as u64;
    use crate::vhd::header::off;
    if !h.checksum_valid() {
        act(
            actions,
            Fixed,
            "header-checksum",
            Some(hat(off::CHECKSUM)),
            format!(
                "the dynamic header checksum is recomputed (was {:#010x}, the fields give {:#010x}): its fields are sane (the BAT and blocks were found through them)",
                h.checksum, h.computed_checksum
            ),
        );
    }
    if !geo.block_size.is_power_of_two() {
        act(
            actions,
            NotFixed,
            "block-size-not-power-of-two",
            Some(hat(off::BLOCK_SIZE)),
            format!(
                "the block size {} is not a power of two; the right one is not known, so the copy keeps it (`convert` writes a sound dynamic disk of the same content)",
                geo.block_size
            ),
        );
    }
    if has(layer, "bat-overlaps-header") {
        act(
            actions,
            NotFixed,
            "bat-overlaps-header",
            Some(hat(off::TABLE_OFFSET)),
            format!(
                "the BAT offset {:#x} points into the footer copy or the dynamic header: the entries read there are header bytes, and the real BAT is not known; the blocks they name are copied only where they look sane",
                h.table_offset
            ),
        );
    }
    // The BAT: as read, or read further when max table entries was too small.
    let needed = size.div_ceil(geo.block_size);
    let mut bat = v.bat.clone();
    let mut bat_bytes = v.bat_range.map_or(0, |r| r.len);
    if (bat.len() as u64) < needed {
        if recover_bat(layer, v, src, needed, &mut bat, actions)? {
            bat_bytes = needed * 4;
        }
    } else if has(layer, "bat-too-long") {
        act(
            actions,
            Fixed,
            "bat-too-long",
            Some(hat(off::MAX_TABLE_ENTRIES)),
            format!("max table entries {} is written as {needed}, the number of blocks the disk has", h.max_table_entries),
        );
    }
    // Metadata the blocks must not overlap.
    let mut metadata =
        vec![("footer copy", ByteRange::new(0, FOOTER_SIZE)), ("dynamic header", ByteRange::new(header.offset, HEADER_SIZE))];
    if let Some(r) = v.bat_range {
        metadata.push(("BAT", ByteRange::new(r.offset, bat_bytes.div_ceil(512) * 512)));
    }
    for l in &v.locators {
        if l.data.is_some() {
            let e = &l.entry.value;
            metadata.push(("parent locator data", ByteRange::new(e.platform_data_offset, u64::from(e.platform_data_length))));
        }
    }
    for l in &v.locators {
        let e = &l.entry.value;
        let why = match (&l.data, &l.path) {
            (None, _) => Some("its data lies outside the file or is of an absurd length"),
            (Some(_), Some(p)) if !p.valid => Some("its data is not valid text"),
            _ => None,
        };
        if let Some(why) = why {
            act(
                actions,
                Fixed,
                if l.data.is_none() { "locator-out-of-range" } else { "locator-encoding" },
                Some(l.entry.offset),
                format!(
                    "parent locator {} ({}) is dropped: {why} (the parent is still named by the others and its unicode name)",
                    e.index, e.platform_code
                ),
            );
        } else if has(layer, "locator-space") && u64::from(e.platform_data_length) > e.data_space_bytes() {
            act(
                actions,
                Fixed,
                "locator-space",
                Some(l.entry.offset),
                format!("parent locator {}'s data space is written large enough for its {} bytes of data", e.index, e.platform_data_length),
            );
        }
    }
    // Which blocks can be copied.
    let block_len = geo.bitmap_size + geo.block_size;
    let bat_at = v.bat_range.map_or(0, |r| r.offset);
    let mut candidates: Vec<(u64, usize)> = Vec::new();
    let lose = |actions: &mut Vec<Action>, code: &'static str, i: usize, why: String| {
        let v = i as u64 * geo.block_size;
        act(
            actions,
            Lost,
            code,
            Some(bat_at + 4 * i as u64),
            format!(
                "BAT entry {i} is cleared: {why}; block {i} (virtual bytes {v:#x}..{:#x}) now reads as {}, and what it held is lost",
                (v + geo.block_size).min(size),
                if layer.disk_type() == DiskType::Differencing { "the parent's" } else { "zeros" }
            ),
        );
    };
    for (i, &e) in bat.iter().enumerate() {
        if e == UNALLOCATED {
            continue;
        }
        let r = ByteRange::new(u64::from(e) * 512, block_len);
        if r.offset.saturating_add(geo.bitmap_size) > layer.data_end {
            lose(
                actions,
                "block-past-eof",
                i,
                format!("it pointed at byte {:#x}, past the end of the data at byte {:#x}", r.offset, layer.data_end),
            );
        } else if let Some((what, _)) = metadata.iter().find(|(_, m)| m.overlaps(&r)) {
            lose(actions, "block-overlaps-metadata", i, format!("it pointed at byte {:#x}, into the {what}", r.offset));
        } else {
            candidates.push((r.offset, i));
        }
    }
    candidates.sort_unstable();
    let mut keep = vec![false; bat.len()];
    let mut reach: Option<(u64, usize)> = None;
    for &(offset, i) in &candidates {
        match reach {
            Some((end, j)) if offset < end => lose(
                actions,
                "blocks-overlap",
                i,
                format!("it pointed at byte {offset:#x}, inside block {j} (kept: the one earlier in the file, or of the lower index at the same byte)"),
            ),
            _ => {
                keep[i] = true;
                reach = Some((offset + block_len, i));
            }
        }
    }
    // Write.
    let crate::compact::Identity { footer: mut footer_bytes, parent, locators } = same_identity(v);
    let v = footer::off::FILE_FORMAT_VERSION;
    footer_bytes[v..v + 4].copy_from_slice(&footer::FILE_FORMAT_VERSION.to_be_bytes());
    crate::vhd::writer::fix_footer_checksum(&mut footer_bytes, 0);
    let layout = SparseLayout::new(&footer_bytes, u32::try_from(geo.block_size).unwrap_or(0), parent.as_ref(), &locators);
    let total = keep.iter().filter(|k| **k).count() as u64;
    let window = geo.block_size.min(crate::convert::BUF as u64);
    Ok(Sparse {
        geo,
        data_end: layer.data_end,
        bat_at,
        bat,
        keep,
        layout,
        scrub,
        buf: vec![0u8; window as usize],
        window,
        next: 0,
        current: None,
        blocks: 0,
        scrubbed: 0,
        total,
    })
}

impl Sparse {
    fn step(&mut self, src: &dyn ReadAt, out: &mut dyn WriteAt, actions: &mut Vec<Action>) -> Result<bool> {
        let geo = self.geo;
        if self.current.is_none() {
            while self.next < self.bat.len() && !self.keep[self.next] {
                self.next += 1;
            }
            if self.next == self.bat.len() {
                return Ok(false);
            }
            let i = self.next;
            self.next += 1;
            let from = u64::from(self.bat[i]) * 512;
            let to = self.layout.place(i as u64).ok_or(WriteError::BlockPlacedTwice { block: i as u64 })?;
            let mut bitmap = vec![0u8; geo.bitmap_size as usize];
            src.read_at(from, &mut bitmap)?;
            out.write_at(to, &bitmap)?;
            let data_from = from + geo.bitmap_size;
            let held = self.data_end.saturating_sub(data_from).min(geo.block_size);
            if held < geo.block_size {
                act(
                    actions,
                    ActionKind::Lost,
                    "block-past-eof",
                    Some(self.bat_at + 4 * i as u64),
                    format!(
                        "block {i} at byte {from:#x} is cut short by the end of the file: its last {} bytes are missing and are written as zeros",
                        geo.block_size - held
                    ),
                );
            }
            // Bytes past the end of the input are not copied (they read as zeros in the copy).
            let held = src.len().saturating_sub(data_from).min(held);
            self.current = Some((bitmap, data_from, to + geo.bitmap_size, held, 0));
        }
        let Some((bitmap, data_from, data_to, held, w)) = self.current.as_mut() else { return Ok(true) };
        if *w < *held {
            let n = (*held - *w).min(self.window) as usize;
            let piece = &mut self.buf[..n];
            src.read_at(*data_from + *w, piece)?;
            if self.scrub {
                for (k, sector) in piece.chunks_mut(512).enumerate() {
                    if !bit(bitmap, *w / 512 + k as u64) && sector.iter().any(|b| *b != 0) {
                        sector.fill(0);
                        self.scrubbed += 1;
                    }
                }
            }
            if piece.iter().any(|b| *b != 0) {
                out.write_at(*data_to + *w, piece)?;
            }
            *w += n as u64;
        }
        if *w >= *held {
            self.current = None;
            self.blocks += 1;
        }
        Ok(true)
    }
}

/// `max table entries` is smaller than the disk needs: the entries after those declared are
/// read from the file, and used when every one of them is unallocated or points inside the
/// file at a whole sector past the BAT. True when they are.
fn recover_bat(layer: &Layer, v: &Vhd, src: &dyn ReadAt, needed: u64, bat: &mut Vec<u32>, actions: &mut Vec<Action>) -> Result<bool> {
    let Some((header, r)) = v.header.as_ref().zip(v.bat_range) else { return Ok(false) };
    let at = header.offset + crate::vhd::header::off::MAX_TABLE_ENTRIES as u64;
    let declared = bat.len() as u64;
    let range = ByteRange::new(r.offset, needed.saturating_mul(4));
    let bat_end = range.offset.saturating_add(needed.saturating_mul(4).div_ceil(512) * 512);
    let why_not = if needed > MAX_BAT_ENTRIES || range.end() > layer.data_end {
        format!("the {needed} entries it needs would reach past the end of the data")
    } else {
        let mut bytes = vec![0u8; (needed * 4) as usize];
        src.read_at(range.offset, &mut bytes)?;
        let entries: Vec<u32> = bytes.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect();
        let bad = entries[declared as usize..]
            .iter()
            .position(|&e| e != UNALLOCATED && !(u64::from(e) * 512 >= bat_end && u64::from(e) * 512 < layer.data_end));
        let Some(k) = bad else {
            let found = entries[declared as usize..].iter().filter(|e| **e != UNALLOCATED).count();
            act(
                actions,
                ActionKind::Fixed,
                "bat-too-short",
                Some(at),
                format!(
                    "max table entries was {declared} but the disk needs {needed}: the BAT is read on to its full length at byte {:#x} (every entry there is sane; {found} more blocks found) and written with {needed} entries",
                    range.offset
                ),
            );
            *bat = entries;
            return Ok(true);
        };
        format!(
            "entry {} there ({:#010x}) is neither unallocated nor a place in the file past the BAT, so the bytes there are not a BAT",
            declared as usize + k,
            entries[declared as usize + k]
        )
    };
    act(
        actions,
        ActionKind::NotFixed,
        "bat-too-short",
        Some(at),
        format!(
            "max table entries is {declared} but the disk needs {needed}; the rest of the BAT is not used because {}: blocks {declared} and on are unallocated in the copy (if they held data, it is lost)",
            why_not
        ),
    );
    bat.resize(needed as usize, UNALLOCATED);
    Ok(false)
}

/// What the repaired copy of the VHDX `v` (the layer `layer`, read from `src`) fixes, loses and
/// leaves, and the copy.
fn plan_vhdx(layer: &Layer, v: &Vhdx, src: &dyn ReadAt, scrub: bool, actions: &mut Vec<Action>) -> Result<Plan> {
    use ActionKind::*;
    let cur = v.current_header;
    let seq = v.header().sequence_number;
    for (k, h) in v.headers.iter().enumerate() {
        if !h.value.valid() {
            let why = if &h.value.signature != b"head" { "its signature is not \"head\"" } else { "its checksum is wrong" };
            act(
                actions,
                Fixed,
                "vhdx-header-invalid",
                Some(h.offset),
                format!("header {} ({why}) is written from header {} (sequence number {seq})", k + 1, cur + 1),
            );
        }
    }
    if has(layer, "vhdx-header-sequence") {
        act(
            actions,
            Fixed,
            "vhdx-header-sequence",
            Some(v.headers[1].offset),
            format!("both headers had sequence number {seq}: they are written with {} and {}", seq + 1, seq + 2),
        );
    }
    let t = v.current_region_table;
    for (k, r) in v.region_tables.iter().enumerate() {
        if k != t && !r.value.valid() {
            act(
                actions,
                Fixed,
                "vhdx-region-table-invalid",
                Some(r.offset),
                format!("region table {} is written from region table {}", k + 1, t + 1),
            );
        } else if k != t && r.value.raw != v.region_tables[t].value.raw {
            act(
                actions,
                Fixed,
                "vhdx-region-tables-differ",
                Some(r.offset),
                format!("region table {} is written as region table {}", k + 1, t + 1),
            );
        }
    }
    let h = v.header();
    let writes = vhdx_copy::log_writes(v, src)?;
    if v.log.dirty && v.log.replayed {
        let log = ByteRange::new(h.log_offset, u64::from(h.log_length));
        let skipped = writes.iter().filter(|(at, _)| *at < MIB || (log.offset..log.end()).contains(at)).count();
        act(
            actions,
            Fixed,
            "vhdx-log-replayed",
            Some(h.log_offset),
            format!(
                "the disk was not closed cleanly: the log's {} entries ({} writes) are replayed into the copy, whose log is clean{}",
                v.log.entries.len(),
                writes.len(),
                if skipped > 0 {
                    format!(" ({skipped} writes to the header section or the log itself are not applied)")
                } else {
                    String::new()
                }
            ),
        );
    } else if v.log.dirty {
        act(
            actions,
            Lost,
            "vhdx-log-invalid",
            Some(h.log_offset),
            format!("the disk was not closed cleanly (log GUID {}), but its log does not verify or cannot be read: its writes are lost, the copy holds the disk as stored and its log is clean", h.log_guid),
        );
    }
    let bat = vhdx_bat(layer, v, actions);
    // Errors repair does not mend: the copy keeps the layout, the metadata and the parent locator.
    const MENDED: [&str; 12] = [
        "vhdx-header-invalid",
        "vhdx-header-sequence",
        "vhdx-region-table-invalid",
        "vhdx-region-tables-differ",
        "vhdx-log-replayed",
        "vhdx-log-invalid",
        "vhdx-bat-state",
        "vhdx-bat-reserved",
        "vhdx-block-past-eof",
        "vhdx-block-overlaps-metadata",
        "vhdx-blocks-overlap",
        "vhdx-bitmap-missing",
    ];
    for f in layer.findings.iter().filter(|f| f.severity == crate::Severity::Error && !MENDED.contains(&f.code)) {
        act(
            actions,
            NotFixed,
            f.code,
            f.offset,
            format!("{}: left as it is (the copy keeps the file's layout, metadata items and parent locator; relink writes a new parent locator)", f.message),
        );
    }
    let metadata = vhdx_copy::metadata_region(v, src, &writes)?;
    let blocks = {
        let period = v.chunk_ratio + 1;
        bat.iter().enumerate().filter(|(i, e)| (*i as u64 + 1) % period != 0 && BlockState::from_bits(**e as u8).has_data()).count() as u64
    };
    Ok(Plan::Vhdx(Box::new(VhdxCopy::new(v, src.len(), bat, metadata, writes, scrub)), blocks))
}

/// The repaired copy's BAT: each entry as it reads, where blocks lie checked (VHD repair's rule:
/// of two blocks over each other the one earlier in the file is kept).
fn vhdx_bat(layer: &Layer, v: &Vhdx, actions: &mut Vec<Action>) -> Vec<u64> {
    use ActionKind::*;
    let mut bat = v.bat.clone();
    let period = v.chunk_ratio.max(1) + 1;
    let is_bitmap = |i: usize| (i as u64 + 1) % period == 0;
    let at = |i: usize| v.bat_offset + 8 * i as u64;
    let what = |i: usize| {
        if is_bitmap(i) {
            format!("the sector bitmap block of chunk {}", i as u64 / period)
        } else {
            format!("payload block {}", i as u64 - i as u64 / period)
        }
    };
    let reads_as = |i: usize| {
        if is_bitmap(i) {
            "its partially present blocks now read from the parent".to_string()
        } else {
            let b = i as u64 - i as u64 / period;
            let s = b * u64::from(v.block_size);
            format!(
                "payload block {b} (virtual bytes {s:#x}..{:#x}) now reads as {}",
                (s + u64::from(v.block_size)).min(layer.size()),
                if v.has_parent { "the parent's" } else { "zeros" }
            )
        }
    };
    // States and reserved bits: written as the entry reads.
    for (i, e) in bat.iter_mut().enumerate() {
        let (state, reserved, mb) = crate::vhdx::format::bat_parts(*e);
        let new_state = match (is_bitmap(i), BlockState::from_bits(state)) {
            (true, _) if state != 0 && state != 6 => Some(0),
            (false, BlockState::Other(_)) => Some(2),
            (false, BlockState::PartiallyPresent) if !v.has_parent => Some(6),
            _ => None,
        };
        if let Some(n) = new_state {
            let name = BlockState::from_bits(n).name();
            act(
                actions,
                Fixed,
                "vhdx-bat-state",
                Some(at(i)),
                format!(
                    "BAT entry {i} ({}) had state {state}, which the spec does not allow there: written as {name}, as it was read",
                    what(i)
                ),
            );
            *e = if n == 6 { 6 | (mb << 20) } else { u64::from(n) };
        } else if reserved != 0 {
            act(actions, Fixed, "vhdx-bat-reserved", Some(at(i)), format!("BAT entry {i} ({}) had reserved bits set: cleared", what(i)));
            *e &= !0xf_fff8;
        }
    }
    // Where the blocks lie.
    let len = |i: usize| if is_bitmap(i) { MIB } else { u64::from(v.block_size) };
    let meta = v.metadata_ranges();
    let mut candidates: Vec<(u64, usize)> = Vec::new();
    for (i, e) in bat.iter_mut().enumerate() {
        let (state, _, mb) = crate::vhdx::format::bat_parts(*e);
        let has_data = if is_bitmap(i) { state == 6 } else { BlockState::from_bits(state).has_data() };
        if !has_data {
            continue;
        }
        let r = ByteRange::new(mb.saturating_mul(MIB), len(i));
        if r.offset >= layer.file_len {
            act(actions, Lost, "vhdx-block-past-eof", Some(at(i)), format!("BAT entry {i} ({}) is made not present: it pointed at byte {:#x}, past the end of the file at {:#x}; {}, and what it held is lost", what(i), r.offset, layer.file_len, reads_as(i)));
            *e = 0;
        } else if let Some((m, _)) = meta.iter().find(|(_, m)| m.overlaps(&r)) {
            act(
                actions,
                Lost,
                "vhdx-block-overlaps-metadata",
                Some(at(i)),
                format!(
                    "BAT entry {i} ({}) is made not present: it pointed at byte {:#x}, into the {m}; {}, and what it held is lost",
                    what(i),
                    r.offset,
                    reads_as(i)
                ),
            );
            *e = 0;
        } else {
            candidates.push((r.offset, i));
        }
    }
    candidates.sort_unstable();
    let mut reach: Option<(u64, usize)> = None;
    for (offset, i) in candidates {
        match reach {
            Some((end, j)) if offset < end => {
                act(actions, Lost, "vhdx-blocks-overlap", Some(at(i)), format!("BAT entry {i} ({}) is made not present: it pointed at byte {offset:#x}, inside the block of BAT entry {j} (kept: the one earlier in the file, or of the lower index at the same byte); {}, and what it held is lost", what(i), reads_as(i)));
                bat[i] = 0;
            }
            _ => {
                let end = offset + len(i);
                if end > layer.file_len {
                    act(actions, Lost, "vhdx-block-past-eof", Some(at(i)), format!("{} at byte {offset:#x} is cut short by the end of the file: its last {} bytes are missing and are written as zeros", what(i), end - layer.file_len));
                }
                reach = Some((end, i));
            }
        }
    }
    // A partially present block must have its sector bitmap.
    if v.has_parent {
        for (i, e) in bat.clone().iter().enumerate() {
            if is_bitmap(i) || e & 7 != 7 {
                continue;
            }
            let chunk = i as u64 / period;
            let b = usize::try_from(chunk * period + period - 1).ok().and_then(|k| bat.get(k)).copied().unwrap_or(0);
            if b & 7 != 6 {
                act(actions, Fixed, "vhdx-bitmap-missing", Some(at(i)), format!("BAT entry {i} ({}) is partially present but its sector bitmap block is not present: made not present, as it was read (from the parent)", what(i)));
                bat[i] = 0;
            }
        }
    }
    bat
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::open_layer;
    use crate::vhd::writer::{fix_footer_checksum, DiskBuilder};

    fn content(file: &[u8]) -> Vec<u8> {
        let file = &file.to_vec();
        let disk = crate::Disk::new(vec![open_layer(file).unwrap()], false).unwrap();
        let mut r = crate::reader::DiskReader::new(&disk, vec![file as &dyn ReadAt]).unwrap();
        let mut all = vec![0; disk.size() as usize];
        r.read(0, &mut all).unwrap();
        all
    }

    fn run(file: &[u8], scrub: bool) -> (Vec<u8>, Repaired) {
        let file = &file.to_vec();
        let layer = open_layer(file).unwrap();
        let mut out = Vec::new();
        let r = repair(&layer, file, scrub, &mut out, &mut |_, _| {}).unwrap();
        (out, r)
    }

    fn sound(file: &[u8]) {
        let l = open_layer(&file.to_vec()).unwrap();
        let bad: Vec<_> = l.findings.iter().filter(|f| f.severity > crate::Severity::Info).collect();
        assert!(bad.is_empty(), "{bad:?}");
    }

    #[test]
    fn footers_and_bat_entries() {
        let mut d = DiskBuilder::dynamic(4 << 20, 1 << 20);
        d.unique_id(crate::vhd::writer::uuid_from_seed(3)).write(0, &[1; 4096]).write(2 << 20, &[2; 512]);
        let good = d.build();
        let want = content(&good);
        // The end footer's checksum broken: rewritten from the copy, nothing lost.
        let mut f = good.clone();
        let n = f.len();
        f[n - 512 + 64] ^= 1;
        let (out, r) = run(&f, false);
        assert!(r.complete(), "{:?}", r.actions);
        assert_eq!(r.actions.len(), 1);
        assert_eq!(r.actions[0].offset, Some((n - 512) as u64));
        assert!(content(&out) == want);
        sound(&out);
        // Both checksums broken: recomputed.
        let mut f = good.clone();
        f[100] ^= 1;
        f[n - 512 + 100] ^= 1;
        fix_footer_checksum(&mut f, 0);
        f[64] ^= 1;
        f[n - 512 + 64] ^= 1;
        let (out, r) = run(&f, false);
        assert!(r.complete() && content(&out) == want, "{:?}", r.actions);
        sound(&out);
        // Block 2's BAT entry past the end of the file: cleared, its data lost.
        let mut f = good.clone();
        f[1536 + 8..1536 + 12].copy_from_slice(&0x00ff_ffffu32.to_be_bytes());
        let (out, r) = run(&f, false);
        assert!(!r.complete());
        assert_eq!(r.actions.iter().filter(|a| a.kind == ActionKind::Lost).map(|a| a.offset).collect::<Vec<_>>(), [Some(1536 + 8)]);
        let mut w = want.clone();
        w[2 << 20..(2 << 20) + 512].fill(0);
        assert!(content(&out) == w);
        sound(&out);
    }

    #[test]
    fn scrub_zeroes_left_overs() {
        let mut d = DiskBuilder::dynamic(2 << 20, 1 << 20);
        d.write(0, &[1; 512]).set_block_data(0, 4096, &[9; 10]);
        let f = d.build();
        let (out, r) = run(&f, true);
        assert_eq!(r.sectors_scrubbed, 1);
        assert!(content(&out) == content(&f));
        let l = open_layer(&out).unwrap();
        let at = l.vhd().unwrap().block_offset(0).unwrap() as usize + 512;
        assert!(out[at + 4096..at + 4106].iter().all(|b| *b == 0));
        let (out, r) = run(&f, false);
        assert_eq!(r.sectors_scrubbed, 0);
        let at = open_layer(&out).unwrap().vhd().unwrap().block_offset(0).unwrap() as usize + 512;
        assert_eq!(out[at + 4096], 9);
    }

    /// A VHDX chain's content (the child over its parent, both in memory).
    fn chain_content(child: &[u8], parent: &[u8]) -> Vec<u8> {
        let (c, p) = (&child.to_vec(), &parent.to_vec());
        let disk = crate::Disk::new(vec![open_layer(c).unwrap(), open_layer(p).unwrap()], true).unwrap();
        let mut r = crate::reader::DiskReader::new(&disk, vec![c as &dyn ReadAt, p as &dyn ReadAt]).unwrap();
        let mut all = vec![0; disk.size() as usize];
        r.read(0, &mut all).unwrap();
        all
    }

    fn codes(r: &Repaired) -> Vec<(ActionKind, &'static str)> {
        r.actions.iter().map(|a| (a.kind, a.code)).collect()
    }

    #[test]
    fn vhdx_bat_entries_are_written_as_they_read_or_made_not_present() {
        use crate::vhdx::writer::VhdxBuilder;
        let b = VhdxBuilder::new(8 << 20).write(0, &[1; 4096]).write(2 << 20, &[2; 4096]).write(5 << 20, &[3; 512]);
        let good = b.build();
        let want = content(&good);
        let v = open_layer(&good).unwrap().vhdx().unwrap().clone();
        let entry = |f: &mut Vec<u8>, block: u64, e: u64| {
            let at = (v.bat_offset + 8 * v.payload_index(block)) as usize;
            f[at..at + 8].copy_from_slice(&e.to_le_bytes());
        };
        // Block 5 on top of block 2: the later entry is made not present, its data lost.
        let mut f = good.clone();
        entry(&mut f, 5, v.payload_entry(2));
        let (out, r) = run(&f, false);
        assert_eq!(codes(&r), [(ActionKind::Lost, "vhdx-blocks-overlap")]);
        assert_eq!(r.actions[0].offset, Some(v.bat_offset + 8 * v.payload_index(5)));
        let mut w = want.clone();
        w[5 << 20..(5 << 20) + 512].fill(0);
        assert!(content(&out) == w);
        sound(&out);
        // Partially present in a disk without a parent (read as fully present), state 5 (read as
        // zeros) and reserved bits: each written as it reads.
        let mut f = good.clone();
        entry(&mut f, 0, v.payload_entry(0) | 1);
        entry(&mut f, 3, 5);
        entry(&mut f, 2, v.payload_entry(2) | 0x100);
        let (out, r) = run(&f, false);
        assert!(r.complete(), "{:?}", r.actions);
        assert_eq!(codes(&r).iter().filter(|(_, c)| *c == "vhdx-bat-state").count(), 2, "{:?}", r.actions);
        assert!(codes(&r).contains(&(ActionKind::Fixed, "vhdx-bat-reserved")));
        assert!(content(&out) == want);
        sound(&out);
        let copy = open_layer(&out).unwrap();
        let c = copy.vhdx().unwrap();
        assert_eq!((c.block(0).0, c.block(3).0), (BlockState::FullyPresent, BlockState::Zero));
    }

    #[test]
    fn vhdx_scrub_and_a_missing_sector_bitmap() {
        use crate::vhdx::writer::VhdxBuilder;
        let mut base = VhdxBuilder::new(4 << 20).write(0, &[5; 8192]).write(3 << 20, &[6; 4096]);
        base.data_write_guid = crate::vhdx::Guid([0x42; 16]);
        let parent = base.build();
        let child = VhdxBuilder::new(4 << 20).child_of(base.data_write_guid, "p.vhdx").write(512, &[7; 512]).write(3 << 20, &[8; 512]);
        let mut f = child.build();
        let v = open_layer(&f).unwrap().vhdx().unwrap().clone();
        let want = chain_content(&f, &parent);
        // Left-over bytes in block 0's sector 2, which its bitmap does not mark present.
        let (_, data) = v.block(0);
        f[data as usize + 1024..data as usize + 1030].fill(9);
        assert!(chain_content(&f, &parent) == want);
        let (out, r) = run(&f, true);
        assert_eq!(r.sectors_scrubbed, 1, "{:?}", r.actions);
        assert!(codes(&r).contains(&(ActionKind::Fixed, "unused-sectors-nonzero")));
        assert!(out[data as usize + 1024..data as usize + 1030].iter().all(|b| *b == 0));
        assert!(chain_content(&out, &parent) == want);
        let (out, r) = run(&f, false);
        assert_eq!((r.sectors_scrubbed, out[data as usize + 1024]), (0, 9));
        // The sector bitmap block not present: the partially present blocks read from the parent,
        // and are made not present.
        let at = (v.bat_offset + 8 * v.bitmap_index(0)) as usize;
        f[at..at + 8].fill(0);
        let (out, r) = run(&f, false);
        assert_eq!(codes(&r), [(ActionKind::Fixed, "vhdx-bitmap-missing"), (ActionKind::Fixed, "vhdx-bitmap-missing")]);
        assert!(chain_content(&out, &parent) == content(&parent));
        let c = open_layer(&out).unwrap();
        let bad: Vec<_> = c.findings.iter().filter(|f| f.severity > crate::Severity::Info).collect();
        assert!(bad.is_empty(), "{bad:?}");
    }
}
