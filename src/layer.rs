//! One VHD file, opened: its footers, dynamic header, parent locators and BAT, each with the file
//! offset where it was found, plus the findings made while reading them.
//!
//! Opening does no I/O. [`Opener`] says which byte ranges it needs; a driver reads them and hands
//! them back, until the opener has what it needs (three rounds for a dynamic disk, one for a fixed
//! disk, whatever the size of the disk):
//!
//! ```
//! # use vhd_viewer::layer::{Opener, Poll};
//! # fn read(offset: u64, len: u64) -> Vec<u8> { vec![0; len as usize] }
//! let mut opener = Opener::new(4096);
//! let layer = loop {
//!     match opener.poll() {
//!         Ok(Poll::Need(ranges)) => {
//!             for r in ranges {
//!                 opener.provide(r.offset, read(r.offset, r.len));
//!             }
//!         }
//!         Ok(Poll::Ready(layer)) => break Ok(layer),
//!         Err(e) => break Err(e),
//!     }
//! };
//! assert!(layer.is_err()); // 4096 zero bytes are not a VHD
//! ```

use crate::error::{show_bytes, Error, Result};
use crate::finding::{Finding, Severity};
use crate::footer::{DiskType, Footer, FILE_FORMAT_VERSION, FOOTER_COOKIE, FOOTER_SIZE, NO_DATA_OFFSET};
use crate::geometry::{qemu_sizes_by_chs, virtual_pc_family, Geometry};
use crate::header::{DynamicHeader, HEADER_SIZE, HEADER_VERSION};
use crate::locator::{decode_path, DecodedPath, LocatorEntry, Platform, MAX_LOCATOR_DATA};
use crate::values::human_size;

/// A range of bytes in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ByteRange {
    /// First byte.
    pub offset: u64,
    /// Number of bytes.
    pub len: u64,
}

impl ByteRange {
    /// The range `[offset, offset + len)`.
    pub fn new(offset: u64, len: u64) -> Self {
        ByteRange { offset, len }
    }

    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.offset.saturating_add(self.len)
    }

    /// True when the two ranges share a byte.
    pub fn overlaps(&self, other: &ByteRange) -> bool {
        self.offset < other.end() && other.offset < self.end() && self.len > 0 && other.len > 0
    }
}

/// A structure together with the file offset it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// File offset of the first byte.
    pub offset: u64,
    /// The structure.
    pub value: T,
}

/// The largest BAT this viewer loads: 2^22 entries (16 MiB), enough for a 2040 GiB disk with
/// 512 KiB blocks.
pub const MAX_BAT_ENTRIES: u64 = 1 << 22;
/// The largest block size this viewer reads (its sector bitmap is then 64 KiB).
pub const MAX_BLOCK_SIZE: u32 = 256 << 20;
/// The largest virtual size the format allows: 2040 GiB.
pub const MAX_DISK_SIZE: u64 = 2040 << 30;
/// BAT value of an unallocated block.
pub const UNALLOCATED: u32 = u32::MAX;
/// The most findings of one kind listed one by one; the rest are counted in a final finding.
pub const MAX_FINDINGS_PER_KIND: usize = 16;

/// The allocated entries of a VHD BAT, `(block, entry)` in block order. Runs of unallocated
/// entries are passed over 64 at a time (one AND over the run, which the compiler vectorizes), so
/// that a sparse 2040 GiB disk's million entries cost a pass over 4 MiB, not a test per entry.
pub fn allocated_entries(bat: &[u32]) -> impl Iterator<Item = (usize, u32)> + '_ {
    const RUN: usize = 64;
    bat.chunks(RUN)
        .enumerate()
        .filter(|(_, run)| run.iter().fold(UNALLOCATED, |a, &e| a & e) != UNALLOCATED)
        .flat_map(|(k, run)| run.iter().enumerate().filter(|(_, e)| **e != UNALLOCATED).map(move |(j, &e)| (k * RUN + j, e)))
}

/// Which footer the layer is read through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FooterSource {
    /// The 512 bytes at the end of the file (normal).
    End,
    /// A 511-byte footer at the end of the file (early Virtual PC).
    End511,
    /// The copy at offset 0, because the end footer is missing or damaged.
    Copy,
}

/// A parent locator entry with its data and decoded path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locator {
    /// The 24-byte entry, and where it is in the header.
    pub entry: Located<LocatorEntry>,
    /// The raw data, when it lies inside the file and is of a sane length.
    pub data: Option<Vec<u8>>,
    /// The decoded path, when the data could be read.
    pub path: Option<DecodedPath>,
}

/// One opened VHD file.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Length of the file in bytes.
    pub file_len: u64,
    /// The footer the disk is read through.
    pub footer: Located<Footer>,
    /// Where that footer came from.
    pub footer_source: FooterSource,
    /// Whatever the last 512 bytes of the file hold, decoded as a footer (it may be damaged).
    pub end_footer: Option<Located<Footer>>,
    /// The first 512 bytes decoded as a footer: the copy of a dynamic or differencing disk.
    /// `None` for fixed disks, whose first sector is disk data.
    pub footer_copy: Option<Located<Footer>>,
    /// The dynamic header of a dynamic or differencing disk.
    pub header: Option<Located<DynamicHeader>>,
    /// The non-empty parent locator entries.
    pub locators: Vec<Locator>,
    /// The BAT entries read (at most `max table entries`, at most the blocks the disk needs).
    pub bat: Vec<u32>,
    /// Where the BAT is and how long the part read is.
    pub bat_range: Option<ByteRange>,
    /// The end of the data area: where the end footer starts (the file length when the footer
    /// was recovered from the copy).
    pub data_end: u64,
    /// What was noticed while opening.
    pub findings: Vec<Finding>,
    /// A VHDX file's structures (`None` for a VHD). A VHDX layer has no VHD footer, dynamic
    /// header or VHD BAT: its `footer` is made up of the fields the chain needs (disk type,
    /// size, and the `DataWriteGuid` as unique id), and its blocks are mapped through this.
    pub vhdx: Option<Box<crate::vhdx::Vhdx>>,
}

/// What the opener wants next.
#[derive(Debug)]
pub enum Poll {
    /// Read these ranges and [`Opener::provide`] them, then poll again.
    Need(Vec<ByteRange>),
    /// The layer is open.
    Ready(Box<Layer>),
}

/// Opens one VHD file from byte ranges handed to it. See the module documentation.
#[derive(Debug, Default)]
pub struct Opener {
    file_len: u64,
    chunks: Vec<Chunk>,
    provided: u64,
}

/// Bytes handed to an [`Opener`], kept in 4-byte words: the BAT's chunk becomes the layer's
/// entries in place (each word's bytes swapped), without a second buffer of its size.
#[derive(Debug)]
struct Chunk {
    offset: u64,
    len: usize,
    words: Vec<u32>,
}

impl Chunk {
    fn new(offset: u64, len: usize) -> Chunk {
        Chunk { offset, len, words: vec![0; len.div_ceil(4)] }
    }

    fn bytes(&self) -> &[u8] {
        &bytemuck::cast_slice(&self.words)[..self.len]
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut bytemuck::cast_slice_mut(&mut self.words)[..self.len]
    }
}

impl Opener {
    /// An opener for a file of `file_len` bytes.
    pub fn new(file_len: u64) -> Self {
        Opener { file_len, chunks: Vec::new(), provided: 0 }
    }

    /// Hands the opener bytes read at `offset` (normally a range it asked for).
    pub fn provide(&mut self, offset: u64, bytes: Vec<u8>) {
        let mut chunk = Chunk::new(offset, bytes.len());
        chunk.bytes_mut().copy_from_slice(&bytes);
        self.push(chunk);
    }

    /// Hands the opener `len` bytes at `offset`, which `fill` writes straight into the opener's
    /// own buffer (a driver that reads into a slice saves a copy: for the BAT, the largest thing
    /// an open reads, a buffer of its size). Nothing is kept when `fill` fails.
    pub fn provide_with<E>(
        &mut self,
        offset: u64,
        len: usize,
        fill: impl FnOnce(&mut [u8]) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let mut chunk = Chunk::new(offset, len);
        fill(chunk.bytes_mut())?;
        self.push(chunk);
        Ok(())
    }

    fn push(&mut self, chunk: Chunk) {
        self.provided += chunk.len as u64;
        self.chunks.push(chunk);
    }

    /// Total bytes handed to the opener so far.
    pub fn bytes_provided(&self) -> u64 {
        self.provided
    }

    /// Advances as far as the bytes provided allow. Once it answers [`Poll::Ready`], the BAT's
    /// bytes belong to the layer: the opener is done.
    pub fn poll(&mut self) -> Result<Poll> {
        let mut need = Vec::new();
        match open(self.file_len, &|r: ByteRange| self.get(r), &mut need)? {
            Some((mut layer, bat)) => {
                if let Some(r) = bat {
                    layer.bat = self.take_bat(r);
                    check_blocks(&mut layer);
                }
                Ok(Poll::Ready(Box::new(layer)))
            }
            None => {
                need.sort();
                need.dedup();
                Ok(Poll::Need(need))
            }
        }
    }

    /// The layer as far as it is known without its BAT: its footers, dynamic header and parent
    /// locators with their findings, once the bytes provided hold all of them (for a dynamic
    /// disk, after the round that asks for the BAT; for a differencing disk, only with the
    /// locators' data). A driver can show these structures while the BAT is still being read.
    /// `None` before that, and for a VHDX (whose structures come with its BAT). The layer's
    /// `bat` is empty and the findings about its blocks are not made: [`Opener::poll`] gives the
    /// layer itself.
    pub fn structures(&self) -> Option<Layer> {
        let mut need = Vec::new();
        let (layer, _) = open_with(self.file_len, &|r: ByteRange| self.get(r), &mut need, false).ok()??;
        Some(layer)
    }

    fn get(&self, r: ByteRange) -> Option<&[u8]> {
        self.chunks.iter().find_map(|c| {
            let start = r.offset.checked_sub(c.offset)?;
            let end = start.checked_add(r.len)?;
            c.bytes().get(usize::try_from(start).ok()?..usize::try_from(end).ok()?)
        })
    }

    /// The BAT's entries: the chunk provided for exactly its range turned into them in place,
    /// or (bytes provided in some other shape) decoded from where they lie.
    fn take_bat(&mut self, r: ByteRange) -> Vec<u32> {
        let exact = self.chunks.iter().position(|c| c.offset == r.offset && c.len as u64 == r.len && c.len % 4 == 0);
        if let Some(i) = exact {
            let mut words = self.chunks.swap_remove(i).words;
            for w in &mut words {
                *w = u32::from_be(*w);
            }
            return words;
        }
        self.get(r).map_or_else(Vec::new, |b| b.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect())
    }
}

/// How the open step reads: the bytes of a range, if they were provided.
pub(crate) type Fetch<'a> = dyn Fn(ByteRange) -> Option<&'a [u8]> + 'a;

/// Runs the whole open with the bytes at hand. Returns `None` (with `need` filled) when more
/// bytes are needed; with the layer, the range of a VHD's BAT, which [`Opener::poll`] turns into
/// the layer's entries (in place) and checks ([`check_blocks`]).
fn open<'a>(file_len: u64, fetch: &Fetch<'a>, need: &mut Vec<ByteRange>) -> Result<Option<(Layer, Option<ByteRange>)>> {
    open_with(file_len, fetch, need, true)
}

/// [`open`]; without `bat`, a VHD's BAT is neither asked for nor waited for
/// ([`Opener::structures`]).
fn open_with<'a>(file_len: u64, fetch: &Fetch<'a>, need: &mut Vec<ByteRange>, bat: bool) -> Result<Option<(Layer, Option<ByteRange>)>> {
    if file_len < FOOTER_SIZE - 1 {
        return Err(Error::TooSmall { len: file_len });
    }
    let first = ByteRange::new(0, FOOTER_SIZE.min(file_len));
    let last = ByteRange::new(file_len.saturating_sub(FOOTER_SIZE), FOOTER_SIZE.min(file_len));
    let (Some(first_bytes), Some(last_bytes)) = (fetch(first), fetch(last)) else {
        need.push(first);
        need.push(last);
        return Ok(None);
    };
    if first_bytes.starts_with(crate::vhdx::format::SIGNATURE) {
        if !bat {
            return Ok(None);
        }
        return Ok(crate::vhdx::open(file_len, fetch, need)?.map(|layer| (layer, None)));
    }
    let mut findings = Vec::new();
    let (footer, source, end_footer, copy) = choose_footer(file_len, first_bytes, last_bytes, &mut findings)?;
    let data_end = match source {
        FooterSource::End => file_len - FOOTER_SIZE,
        FooterSource::End511 => file_len - (FOOTER_SIZE - 1),
        FooterSource::Copy => file_len,
    };
    check_footer(&footer, &mut findings);
    let mut layer = Layer {
        file_len,
        footer,
        footer_source: source,
        end_footer,
        footer_copy: None,
        header: None,
        locators: Vec::new(),
        bat: Vec::new(),
        bat_range: None,
        data_end,
        findings,
        vhdx: None,
    };
    match layer.footer.value.disk_type {
        DiskType::Fixed => {
            open_fixed(&mut layer);
            Ok(Some((layer, None)))
        }
        DiskType::Dynamic | DiskType::Differencing => {
            layer.footer_copy = copy;
            compare_copies(&mut layer);
            open_sparse(layer, fetch, need, bat)
        }
        DiskType::Other(v) => Err(Error::invalid(
            "disk-type",
            layer.footer.offset + crate::footer::off::DISK_TYPE as u64,
            format!(
                "disk type {v} is not one of 2 (fixed), 3 (dynamic) or 4 (differencing){}",
                match v {
                    0 => ": 0 means \"none\"",
                    1 | 5 | 6 => ": the spec reserves this value",
                    _ => "",
                }
            ),
        )),
    }
}

/// Picks the footer to trust, preferring a good end footer, then a good copy, then an end footer
/// or copy with a bad checksum.
#[allow(clippy::type_complexity)]
fn choose_footer(
    file_len: u64,
    first: &[u8],
    last: &[u8],
    findings: &mut Vec<Finding>,
) -> Result<(Located<Footer>, FooterSource, Option<Located<Footer>>, Option<Located<Footer>>)> {
    let end_off = file_len.saturating_sub(FOOTER_SIZE);
    let end = (file_len >= FOOTER_SIZE).then(|| Located { offset: end_off, value: Footer::parse(last) });
    // A 511-byte footer: the cookie sits one byte later than in a 512-byte one.
    let end511 = (last.len() >= 511 && &last[last.len() - 511..last.len() - 503] == FOOTER_COOKIE)
        .then(|| Located { offset: file_len - 511, value: Footer::parse(&last[last.len() - 511..]) });
    let copy = (file_len >= 2 * FOOTER_SIZE)
        .then(|| Located { offset: 0, value: Footer::parse(first) })
        .filter(|c| c.value.cookie_valid() && c.value.disk_type.is_sparse());

    let good = |f: &Option<Located<Footer>>| f.as_ref().is_some_and(|f| f.value.cookie_valid() && f.value.checksum_valid());
    let readable = |f: &Option<Located<Footer>>| f.as_ref().is_some_and(|f| f.value.cookie_valid());
    let end_cookie_ok = readable(&end);

    let (chosen, source) = if good(&end) {
        (end.clone(), FooterSource::End)
    } else if !end_cookie_ok && good(&end511) {
        (end511.clone(), FooterSource::End511)
    } else if good(&copy) {
        (copy.clone(), FooterSource::Copy)
    } else if end_cookie_ok {
        (end.clone(), FooterSource::End)
    } else if readable(&end511) {
        (end511.clone(), FooterSource::End511)
    } else if readable(&copy) {
        (copy.clone(), FooterSource::Copy)
    } else {
        if first.starts_with(b"vhdxfile") {
            return Err(Error::OtherFormat { offset: 0, what: "a VHDX disk (the successor format of VHD)" });
        }
        if first.starts_with(b"KDMV") {
            return Err(Error::OtherFormat { offset: 0, what: "a VMware VMDK disk" });
        }
        if first.starts_with(b"QFI\xfb") {
            return Err(Error::OtherFormat { offset: 0, what: "a QEMU qcow2 disk" });
        }
        if first.len() >= 0x48 && &first[0x40..0x44] == b"\x7f\x10\xda\xbe" {
            return Err(Error::OtherFormat { offset: 0x40, what: "a VirtualBox VDI disk" });
        }
        let mut found = [0u8; 8];
        let n = last.len().min(8);
        found[..n].copy_from_slice(&last[..n]);
        return Err(Error::NoFooter { offset: end_off, found });
    };
    let Some(chosen) = chosen else {
        return Err(Error::NoFooter { offset: end_off, found: [0; 8] });
    };

    // Say what is wrong with each copy.
    match source {
        FooterSource::End511 => findings.push(Finding::error(
            "footer-511",
            chosen.offset,
            "the footer at the end is 511 bytes long instead of 512, as early Virtual PC versions wrote it; it is read as if padded with a zero byte, but libvhdi refuses such a file",
        )),
        FooterSource::Copy => {
            let (code, what) = match &end {
                Some(e) if e.value.cookie_valid() => ("footer-checksum", format!(
                    "the end footer at byte {:#x} has a wrong checksum (stored {:#010x}, computed {:#010x})",
                    e.offset, e.value.checksum, e.value.computed_checksum
                )),
                _ => ("footer-missing", format!(
                    "there is no footer at the end of the file (at byte {end_off:#x} expected \"conectix\", found \"{}\"): the file may have been cut short",
                    show_bytes(&last[..last.len().min(8)])
                )),
            };
            findings.push(Finding::error(
                code,
                end_off,
                format!("{what}; the disk is read through the good copy at byte 0"),
            ));
        }
        FooterSource::End => {}
    }
    if !chosen.value.checksum_valid() {
        findings.push(Finding::error(
            "footer-checksum",
            chosen.offset + crate::footer::off::CHECKSUM as u64,
            format!(
                "the footer checksum is wrong (stored {:#010x}, computed {:#010x}){}; its fields are shown as they are, but any of them may be damaged",
                chosen.value.checksum,
                chosen.value.computed_checksum,
                if copy.as_ref().is_some_and(|c| c.offset != chosen.offset) { ", and the copy at byte 0 is no better" } else { "" }
            ),
        ));
    }
    Ok((chosen, source, end.filter(|e| e.value.cookie_valid() || source != FooterSource::End511), copy))
}

/// Findings about the chosen footer's own fields.
fn check_footer(footer: &Located<Footer>, findings: &mut Vec<Finding>) {
    use crate::footer::off;
    let f = &footer.value;
    let at = |o: usize| footer.offset + o as u64;
    if f.file_format_version != FILE_FORMAT_VERSION {
        findings.push(Finding::error(
            "footer-version",
            at(off::FILE_FORMAT_VERSION),
            format!(
                "file format version is {:#010x}; the spec defines only 0x00010000 (1.0), and libvhdi refuses any other",
                f.file_format_version
            ),
        ));
    }
    if f.features & 2 == 0 {
        findings.push(Finding::info(
            "footer-features",
            at(off::FEATURES),
            "the reserved features bit (bit 1), which the spec says is always set, is clear",
        ));
    }
    if f.features & 1 != 0 {
        findings.push(Finding::info(
            "footer-temporary",
            at(off::FEATURES),
            "the disk is marked temporary: a hypervisor may delete it when the VM shuts down",
        ));
    }
    if f.features & !3 != 0 {
        findings.push(Finding::warning(
            "footer-features",
            at(off::FEATURES),
            format!("unknown feature bits are set ({:#010x})", f.features),
        ));
    }
    if f.current_size == 0 {
        findings.push(Finding::warning("size-zero", at(off::CURRENT_SIZE), "the current size is 0: the disk holds nothing"));
    } else if f.current_size > MAX_DISK_SIZE {
        findings.push(Finding::error(
            "size-too-large",
            at(off::CURRENT_SIZE),
            format!(
                "the current size is {} ({} bytes), more than the 2040 GiB the format allows",
                human_size(f.current_size),
                f.current_size
            ),
        ));
    }
    if f.current_size % 512 != 0 {
        findings.push(Finding::warning(
            "size-unaligned",
            at(off::CURRENT_SIZE),
            format!("the current size {} is not a whole number of 512-byte sectors", f.current_size),
        ));
    }
    if f.original_size > f.current_size {
        findings.push(Finding::info(
            "size-shrunk",
            at(off::ORIGINAL_SIZE),
            format!(
                "the original size ({} bytes) is larger than the current size ({} bytes): the disk was shrunk, or a reader that trusts the original size (libvhdi does) shows the wrong size",
                f.original_size, f.current_size
            ),
        ));
    }
    if f.unique_id.is_nil() {
        findings.push(Finding::warning(
            "unique-id-nil",
            at(off::UNIQUE_ID),
            "the unique id is all zeros: a differencing child cannot tell this disk from another",
        ));
    }
    if f.saved_state != 0 {
        findings.push(Finding::info(
            "saved-state",
            at(off::SAVED_STATE),
            "saved state is set: a VM was saved (hibernated by its host) while using this disk, so the disk may be mid-change",
        ));
    }
    if !f.reserved_is_zero() {
        findings.push(Finding::info("footer-reserved", at(off::RESERVED), "the reserved bytes of the footer are not all zero"));
    }
    check_geometry(footer, findings);
}

/// Compares the geometry with the spec's rule and the size it implies with `current size`.
fn check_geometry(footer: &Located<Footer>, findings: &mut Vec<Finding>) {
    let f = &footer.value;
    let at = footer.offset + crate::footer::off::DISK_GEOMETRY as u64;
    let expected = Geometry::for_size(f.current_size);
    let chs = f.geometry.size();
    if f.geometry != expected {
        findings.push(Finding::info(
            "geometry-rule",
            at,
            format!(
                "the geometry {} is not what the spec's rule gives for the current size ({}); the writer used its own rule",
                f.geometry, expected
            ),
        ));
    }
    if chs != f.current_size && !f.geometry.is_max() {
        let creator = f.creator_application;
        let shown = chs.min(f.current_size);
        let (severity, msg) = if qemu_sizes_by_chs(&creator.0) {
            (Severity::Warning, format!(
                "the geometry {} describes {chs} bytes, the current size is {} bytes; Virtual PC and qemu size a disk from creator \"{creator}\" by its geometry and show {shown} bytes, while the spec (and this viewer, and Hyper-V) use the current size",
                f.geometry, f.current_size
            ))
        } else if virtual_pc_family(&creator.0) {
            (Severity::Warning, format!(
                "the geometry {} describes {chs} bytes, the current size is {} bytes; Virtual PC and Virtual Server size a disk by its geometry and show {shown} bytes, while the spec (and this viewer, Hyper-V and qemu) use the current size",
                f.geometry, f.current_size
            ))
        } else {
            (Severity::Info, format!(
                "the geometry {} describes {chs} bytes, the current size is {} bytes; the creator \"{creator}\" sizes disks by the current size, as this viewer, Hyper-V and qemu do (only Virtual PC, which sizes every disk by its geometry, would show {shown} bytes)",
                f.geometry, f.current_size
            ))
        };
        findings.push(Finding::new(severity, "geometry-size", Some(at), msg));
    }
}

/// A fixed disk: everything before the footer is disk data.
fn open_fixed(layer: &mut Layer) {
    let f = &layer.footer.value;
    let at = layer.footer.offset + crate::footer::off::DATA_OFFSET as u64;
    if f.data_offset == u64::from(u32::MAX) {
        layer.findings.push(Finding::error(
            "data-offset-32bit",
            at,
            "the data offset is 0x00000000ffffffff: the writer set only 32 of the 64 bits that mean \"no dynamic header\"; this viewer and qemu-img read the disk, libvhdi refuses it",
        ));
    } else if f.data_offset != NO_DATA_OFFSET {
        layer.findings.push(Finding::error(
            "data-offset-fixed",
            at,
            format!("a fixed disk has data offset 0xffffffffffffffff, this one has {:#x}; libvhdi refuses it", f.data_offset),
        ));
    }
    if f.current_size > layer.data_end {
        layer.findings.push(Finding::error(
            "fixed-truncated",
            layer.footer.offset,
            format!(
                "the disk is {} bytes but the file holds only {} bytes of data before the footer: the bytes after {:#x} are missing",
                f.current_size, layer.data_end, layer.data_end
            ),
        ));
    } else if f.current_size < layer.data_end {
        layer.findings.push(Finding::warning(
            "fixed-extra",
            0,
            format!(
                "the file holds {} bytes of data before the footer, {} more than the current size",
                layer.data_end,
                layer.data_end - f.current_size
            ),
        ));
    }
}

/// Compares the footer copy at offset 0 with the end footer.
fn compare_copies(layer: &mut Layer) {
    match (&layer.footer_copy, &layer.end_footer) {
        (None, _) => layer.findings.push(Finding::error(
            "footer-copy-missing",
            0,
            "a dynamic or differencing disk starts with a copy of its footer, but the first 512 bytes do not hold one",
        )),
        (Some(copy), Some(end)) if layer.footer_source != FooterSource::Copy && end.value.cookie_valid() => {
            let diffs = end.value.differences(&copy.value);
            if !copy.value.checksum_valid() {
                layer.findings.push(Finding::error(
                    "footer-copy-checksum",
                    crate::footer::off::CHECKSUM as u64,
                    format!(
                        "the footer copy at byte 0 has a wrong checksum (stored {:#010x}, computed {:#010x}); the end footer is {}",
                        copy.value.checksum,
                        copy.value.computed_checksum,
                        if end.value.checksum_valid() { "good and is used" } else { "no better" }
                    ),
                ));
            }
            let real: Vec<_> = diffs.iter().filter(|d| **d != "checksum").collect();
            if !real.is_empty() {
                layer.findings.push(Finding::warning(
                    "footer-copies-differ",
                    0,
                    format!(
                        "the footer copy at byte 0 differs from the end footer in: {}",
                        real.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
        _ => {}
    }
}

/// A dynamic or differencing disk, in two rounds of reads: the dynamic header, then the BAT and
/// the parent locators' data together. Each step is a named check below; the BAT's entries are
/// taken from the bytes provided, and checked, by the caller ([`Opener::poll`]).
fn open_sparse<'a>(
    mut layer: Layer,
    fetch: &Fetch<'a>,
    need: &mut Vec<ByteRange>,
    want_bat: bool,
) -> Result<Option<(Layer, Option<ByteRange>)>> {
    let header_range = header_place(&mut layer)?;
    let Some(hb) = fetch(header_range) else {
        need.push(header_range);
        return Ok(None);
    };
    let header = Located { offset: header_range.offset, value: DynamicHeader::parse(hb) };
    check_header(&mut layer, &header)?;
    let bs = check_block_size(&mut layer, &header)?;
    let bat_range = bat_place(&mut layer, &header, bs, header_range)?;
    let locator_ranges = locator_places(&mut layer, &header);

    // One round for the BAT and all the locators.
    let bat_bytes = if want_bat { fetch(bat_range) } else { Some(&[][..]) };
    let loc_bytes: Vec<_> = locator_ranges.iter().map(|(_, _, r)| fetch(*r)).collect();
    if bat_bytes.is_none() || loc_bytes.iter().any(Option::is_none) {
        need.push(bat_range);
        need.extend(locator_ranges.iter().map(|(_, _, r)| *r));
        return Ok(None);
    }
    layer.bat_range = Some(bat_range);
    take_locators(&mut layer, locator_ranges, loc_bytes);
    layer.header = Some(header);
    if layer.disk_type() == DiskType::Differencing {
        check_differencing_header(&mut layer);
    }
    Ok(Some((layer, want_bat.then_some(bat_range))))
}

/// Where the dynamic header is: the footer's data offset, which must point inside the file.
fn header_place(layer: &mut Layer) -> Result<ByteRange> {
    let f = &layer.footer.value;
    let data_offset_at = layer.footer.offset + crate::footer::off::DATA_OFFSET as u64;
    let header_range = ByteRange::new(f.data_offset, HEADER_SIZE);
    if f.data_offset == NO_DATA_OFFSET || f.data_offset == u64::from(u32::MAX) {
        return Err(Error::invalid(
            "data-offset",
            data_offset_at,
            format!("a {} disk needs a data offset pointing at its dynamic header, but it is {:#x}", f.disk_type.name(), f.data_offset),
        ));
    }
    if header_range.end() > layer.data_end || f.data_offset > u64::MAX - HEADER_SIZE {
        return Err(Error::OutOfFile { what: "dynamic header", offset: f.data_offset, len: HEADER_SIZE, file_len: layer.file_len });
    }
    if f.data_offset < FOOTER_SIZE {
        let message = format!("the dynamic header at byte {:#x} overlaps the footer copy at byte 0", f.data_offset);
        layer.findings.push(Finding::error("header-overlaps-footer", data_offset_at, message));
    }
    Ok(header_range)
}

/// The dynamic header's own fields: its cookie (without which it is not a header), checksum,
/// version, unused data offset and reserved bytes.
fn check_header(layer: &mut Layer, header: &Located<DynamicHeader>) -> Result<()> {
    let h = &header.value;
    use crate::header::off;
    let hat = |o: usize| header.offset + o as u64;
    if !h.cookie_valid() {
        return Err(Error::invalid(
            "header-cookie",
            header.offset,
            format!("expected the dynamic header cookie \"cxsparse\", found \"{}\"", show_bytes(&h.cookie)),
        ));
    }
    if !h.checksum_valid() {
        layer.findings.push(Finding::error(
            "header-checksum",
            hat(off::CHECKSUM),
            format!(
                "the dynamic header checksum is wrong (stored {:#010x}, computed {:#010x}): the header may be damaged, and there is no copy of it",
                h.checksum, h.computed_checksum
            ),
        ));
    }
    if h.header_version != HEADER_VERSION {
        layer.findings.push(Finding::error(
            "header-version",
            hat(off::HEADER_VERSION),
            format!("header version is {:#010x}; the spec defines only 0x00010000, and libvhdi refuses any other", h.header_version),
        ));
    }
    if h.data_offset != NO_DATA_OFFSET {
        layer.findings.push(Finding::info(
            "header-data-offset",
            hat(off::DATA_OFFSET),
            format!("the header's unused data offset should be 0xffffffffffffffff, it is {:#x}", h.data_offset),
        ));
    }
    if !h.reserved_is_zero() {
        layer.findings.push(Finding::info("header-reserved", hat(off::RESERVED1), "reserved bytes of the dynamic header are not all zero"));
    }
    Ok(())
}

/// The block size: a whole number of sectors (else no block can be found) no larger than this
/// viewer reads, and a power of two as the spec requires.
fn check_block_size(layer: &mut Layer, header: &Located<DynamicHeader>) -> Result<u32> {
    use crate::header::off;
    let hat = |o: usize| header.offset + o as u64;
    let bs = header.value.block_size;
    if bs == 0 || bs % 512 != 0 {
        return Err(Error::invalid(
            "block-size",
            hat(off::BLOCK_SIZE),
            format!("block size {bs} is not a positive whole number of 512-byte sectors, so no block can be located"),
        ));
    }
    if bs > MAX_BLOCK_SIZE {
        return Err(Error::invalid(
            "block-size-too-large",
            hat(off::BLOCK_SIZE),
            format!(
                "block size {} ({bs} bytes) is larger than the 256 MiB this viewer reads; real writers use 512 KiB to 2 MiB",
                human_size(bs.into())
            ),
        ));
    }
    if !bs.is_power_of_two() {
        layer.findings.push(Finding::error(
            "block-size-not-power-of-two",
            hat(off::BLOCK_SIZE),
            format!("block size {bs} is not a power of two, as the spec requires; other readers will refuse or misread this disk"),
        ));
    }
    Ok(bs)
}

/// Where the BAT is and how many entries are read: as many as the disk needs, at most as many as
/// the header declares, inside the file and clear of the footer copy and the header.
fn bat_place(layer: &mut Layer, header: &Located<DynamicHeader>, bs: u32, header_range: ByteRange) -> Result<ByteRange> {
    use crate::header::off;
    let h = &header.value;
    let f = &layer.footer.value;
    let hat = |o: usize| header.offset + o as u64;
    let needed = f.current_size.div_ceil(u64::from(bs));
    let declared = u64::from(h.max_table_entries);
    if declared < needed {
        layer.findings.push(Finding::error(
            "bat-too-short",
            hat(off::MAX_TABLE_ENTRIES),
            format!(
                "max table entries is {declared}, but a disk of {} bytes with {bs}-byte blocks needs {needed}: the disk's last {} bytes have no BAT entry and read as {}",
                f.current_size,
                f.current_size.saturating_sub(declared * u64::from(bs)),
                if f.disk_type == DiskType::Differencing { "the parent's" } else { "zeros" }
            ),
        ));
    } else if declared > needed {
        // qemu-img reads every declared entry: a table that reaches past the end of the file, it
        // refuses ("free_data_block_offset points after the end of file"; measured with qemu 10).
        let past_end = h.table_offset.saturating_add(declared * 4) > layer.file_len;
        let absurd = declared > needed.saturating_mul(2).max(needed + 1024);
        let severity = if past_end {
            Severity::Error
        } else if absurd {
            Severity::Warning
        } else {
            Severity::Info
        };
        layer.findings.push(Finding::new(
            severity,
            "bat-too-long",
            Some(hat(off::MAX_TABLE_ENTRIES)),
            format!(
                "max table entries is {declared} but the disk needs only {needed}; the extra entries are ignored{}",
                if past_end {
                    " (a table that long reaches past the end of the file: qemu-img refuses the disk)"
                } else if absurd {
                    " (that many is absurd: a damaged or hostile header; qemu-img reads the extra entries as blocks)"
                } else {
                    ""
                }
            ),
        ));
    }
    let count = declared.min(needed);
    if count > MAX_BAT_ENTRIES {
        return Err(Error::invalid(
            "bat-too-large",
            hat(off::MAX_TABLE_ENTRIES),
            format!("the disk needs {count} BAT entries, more than the {MAX_BAT_ENTRIES} this viewer loads (a 2040 GiB disk with 512 KiB blocks needs 4177920)"),
        ));
    }
    let bat_range = ByteRange::new(h.table_offset, count * 4);
    if bat_range.end() > layer.data_end || h.table_offset > u64::MAX / 2 {
        return Err(Error::OutOfFile {
            what: "block allocation table (BAT)",
            offset: h.table_offset,
            len: count * 4,
            file_len: layer.file_len,
        });
    }
    if h.table_offset % 512 != 0 {
        layer.findings.push(Finding::warning(
            "bat-unaligned",
            hat(off::TABLE_OFFSET),
            format!("the BAT starts at byte {:#x}, not on a sector boundary", h.table_offset),
        ));
    }
    if bat_range.overlaps(&header_range) || bat_range.overlaps(&ByteRange::new(0, FOOTER_SIZE)) {
        layer.findings.push(Finding::error(
            "bat-overlaps-header",
            hat(off::TABLE_OFFSET),
            format!("the BAT at byte {:#x} overlaps the footer copy or the dynamic header", h.table_offset),
        ));
    }

    Ok(bat_range)
}

/// The parent locators whose data can be read, with the entry's offset and the data's range;
/// the others are findings (and kept without data).
fn locator_places(layer: &mut Layer, header: &Located<DynamicHeader>) -> Vec<(LocatorEntry, u64, ByteRange)> {
    use crate::header::off;
    let h = &header.value;
    let hat = |o: usize| header.offset + o as u64;
    let mut locator_ranges = Vec::new();
    for entry in &h.locators {
        let at = hat(off::PARENT_LOCATORS + entry.index * off::LOCATOR_SIZE);
        if entry.is_unused() {
            if entry.platform_data_length != 0 || entry.platform_data_offset != 0 {
                layer.findings.push(Finding::info(
                    "locator-unused-nonzero",
                    at,
                    format!("parent locator {} has no platform code but non-zero fields", entry.index),
                ));
            }
            continue;
        }
        let len = u64::from(entry.platform_data_length);
        let range = ByteRange::new(entry.platform_data_offset, len);
        let bad = if len > MAX_LOCATOR_DATA {
            Some(format!("its data length {len} is more than the {MAX_LOCATOR_DATA} bytes any path needs"))
        } else if range.end() > layer.data_end || entry.platform_data_offset > u64::MAX / 2 {
            Some(format!(
                "its data at byte {:#x} ({len} bytes) reaches past the end of the disk's data (byte {:#x})",
                entry.platform_data_offset, layer.data_end
            ))
        } else if u64::from(entry.platform_data_length) > entry.data_space_bytes() {
            layer.findings.push(Finding::warning(
                "locator-space",
                at,
                format!("parent locator {}'s data length {len} is larger than its data space", entry.index),
            ));
            None
        } else {
            None
        };
        if let Some(why) = bad {
            layer.findings.push(Finding::error(
                "locator-out-of-range",
                at,
                format!("parent locator {} ({}) cannot be read: {why}", entry.index, entry.platform_code),
            ));
            layer.locators.push(Locator { entry: Located { offset: at, value: entry.clone() }, data: None, path: None });
            continue;
        }
        if entry.platform() == Platform::Unknown {
            layer.findings.push(Finding::warning(
                "locator-platform",
                at,
                format!("parent locator {} has the unknown platform code \"{}\"", entry.index, entry.platform_code),
            ));
        }
        locator_ranges.push((entry.clone(), at, range));
    }
    if layer.disk_type() == DiskType::Dynamic && !locator_ranges.is_empty() {
        layer.findings.push(Finding::info(
            "locator-on-dynamic",
            hat(off::PARENT_LOCATORS),
            "a dynamic disk has parent locators, which only differencing disks use",
        ));
    }

    locator_ranges
}

/// The locators' data as read: each decoded into a path (a finding where it is not valid text).
fn take_locators(layer: &mut Layer, places: Vec<(LocatorEntry, u64, ByteRange)>, data: Vec<Option<&[u8]>>) {
    for ((entry, at, _), data) in places.into_iter().zip(data) {
        let data = data.unwrap_or_default().to_vec();
        let path = decode_path(entry.platform(), &data);
        if !path.valid {
            layer.findings.push(Finding::error(
                "locator-encoding",
                entry.platform_data_offset,
                format!(
                    "parent locator {} ({}) does not hold valid {} text",
                    entry.index,
                    entry.platform_code,
                    if entry.platform() == Platform::MacOsX { "UTF-8 file URL" } else { "UTF-16" }
                ),
            ));
        }
        layer.locators.push(Locator { entry: Located { offset: at, value: entry }, data: Some(data), path: Some(path) });
    }
    layer.locators.sort_by_key(|l| l.entry.value.index);
}

fn check_differencing_header(layer: &mut Layer) {
    let Some(header) = &layer.header else { return };
    let h = &header.value;
    use crate::header::off;
    let (name, valid) = h.parent_unicode_name();
    if !valid {
        layer.findings.push(Finding::error(
            "parent-name-encoding",
            header.offset + off::PARENT_UNICODE_NAME as u64,
            "the parent unicode name is not valid UTF-16 big-endian text",
        ));
    }
    if name.is_empty() && layer.locators.is_empty() {
        layer.findings.push(Finding::error(
            "parent-unnamed",
            header.offset + off::PARENT_UNICODE_NAME as u64,
            "the differencing disk names no parent: the parent unicode name is empty and there are no parent locators",
        ));
    } else if layer.locators.is_empty() {
        layer.findings.push(Finding::warning(
            "locators-none",
            header.offset + off::PARENT_LOCATORS as u64,
            format!("the differencing disk has no parent locators; its parent can only be found by its unicode name \"{name}\""),
        ));
    }
    if h.parent_unique_id.is_nil() {
        layer.findings.push(Finding::warning(
            "parent-id-nil",
            header.offset + off::PARENT_UNIQUE_ID as u64,
            "the parent unique id is all zeros, so the parent cannot be verified",
        ));
    }
}

/// Findings about where the blocks lie: past the end of the file, over the metadata, over each
/// other, out of file order.
fn check_blocks(layer: &mut Layer) {
    let Some(geo) = layer.block_geometry() else { return };
    let bat_at = layer.bat_range.map_or(0, |r| r.offset);
    let mut metadata = vec![("footer copy", ByteRange::new(0, FOOTER_SIZE))];
    if let Some(h) = &layer.header {
        metadata.push(("dynamic header", ByteRange::new(h.offset, HEADER_SIZE)));
    }
    if let Some(r) = layer.bat_range {
        metadata.push(("BAT", ByteRange::new(r.offset, r.len.div_ceil(512) * 512)));
    }
    for l in &layer.locators {
        if l.data.is_some() {
            metadata.push((
                "parent locator data",
                ByteRange::new(l.entry.value.platform_data_offset, u64::from(l.entry.value.platform_data_length)),
            ));
        }
    }
    let mut blocks: Vec<(ByteRange, usize)> = Vec::new();
    let mut counts = [0usize; 3];
    let mut findings = Vec::new();
    let mut note = |kind: usize, f: Finding| {
        counts[kind] += 1;
        if counts[kind] <= MAX_FINDINGS_PER_KIND {
            findings.push(f);
        }
    };
    for (i, entry) in allocated_entries(&layer.bat) {
        let r = ByteRange::new(u64::from(entry) * 512, geo.bitmap_size + geo.block_size);
        let at = bat_at + i as u64 * 4;
        if r.end() > layer.data_end {
            note(0, Finding::error(
                "block-past-eof",
                at,
                format!(
                    "BAT entry {i} puts block {i} at byte {:#x}, but the block ({} bytes with its bitmap) reaches past the end of the data at byte {:#x}: its sectors cannot be read",
                    r.offset, r.len, layer.data_end
                ),
            ));
        }
        if let Some((what, _)) = metadata.iter().find(|(_, m)| m.overlaps(&r)) {
            note(1, Finding::error("block-overlaps-metadata", at, format!("block {i} at byte {:#x} overlaps the {what}", r.offset)));
        }
        blocks.push((r, i));
    }
    blocks.sort_unstable_by_key(|(r, _)| r.offset);
    for w in blocks.windows(2) {
        let ((a, ia), (b, ib)) = (w[0], w[1]);
        if a.overlaps(&b) {
            let msg = if a.offset == b.offset {
                format!("blocks {ia} and {ib} are both at byte {:#x}: writing one overwrites the other", a.offset)
            } else {
                format!("block {ib} at byte {:#x} overlaps block {ia} at byte {:#x}", b.offset, a.offset)
            };
            note(2, Finding::error("blocks-overlap", bat_at + ib.max(ia) as u64 * 4, msg));
        }
    }
    for (kind, code, what) in [
        (0, "block-past-eof", "blocks reach past the end of the file"),
        (1, "block-overlaps-metadata", "blocks overlap metadata"),
        (2, "blocks-overlap", "pairs of blocks overlap"),
    ] {
        if counts[kind] > MAX_FINDINGS_PER_KIND {
            findings.push(Finding::error(
                code,
                bat_at,
                format!("{} {what} in all; only the first {MAX_FINDINGS_PER_KIND} are listed", counts[kind]),
            ));
        }
    }
    layer.findings.extend(findings);
}

/// Sizes that locate a sector inside a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockGeometry {
    /// Bytes of data per block.
    pub block_size: u64,
    /// Bytes of the sector bitmap before each block's data.
    pub bitmap_size: u64,
}

impl Layer {
    /// `vhd` or `vhdx`.
    pub fn format(&self) -> &'static str {
        if self.vhdx.is_some() {
            "vhdx"
        } else {
            "vhd"
        }
    }

    /// The id a child names this disk by: a VHD's unique id, a VHDX's `DataWriteGuid`.
    pub fn link_id(&self) -> [u8; 16] {
        match &self.vhdx {
            Some(v) => v.data_write_guid().0,
            None => self.footer.value.unique_id.0,
        }
    }

    /// The id by which a differencing disk names its parent (a VHD's parent unique id, a VHDX's
    /// `parent_linkage`), shown as the format shows ids; `None` when it names none.
    pub fn parent_link(&self) -> Option<([u8; 16], String)> {
        if self.disk_type() != DiskType::Differencing {
            return None;
        }
        match &self.vhdx {
            Some(v) => v.parent_linkage().0.map(|g| (g.0, g.to_string())),
            None => self.header.as_ref().map(|h| (h.value.parent_unique_id.0, h.value.parent_unique_id.to_string())),
        }
    }

    /// True when `parent` is the disk this differencing disk names as its parent (for a VHDX,
    /// by `parent_linkage` or `parent_linkage2`).
    pub fn parent_matches(&self, parent: &Layer) -> bool {
        let id = parent.link_id();
        match &self.vhdx {
            Some(v) => {
                let (a, b) = v.parent_linkage();
                self.disk_type() == DiskType::Differencing && (a.map(|g| g.0) == Some(id) || b.map(|g| g.0) == Some(id))
            }
            None => self.parent_link().is_some_and(|(p, _)| p == id),
        }
    }

    /// The disk's type.
    pub fn disk_type(&self) -> DiskType {
        self.footer.value.disk_type
    }

    /// The virtual disk's size in bytes (`current size`).
    pub fn size(&self) -> u64 {
        self.footer.value.current_size
    }

    /// Block and bitmap size, for dynamic and differencing disks.
    pub fn block_geometry(&self) -> Option<BlockGeometry> {
        self.header.as_ref().map(|h| BlockGeometry { block_size: u64::from(h.value.block_size), bitmap_size: h.value.bitmap_size() })
    }

    /// The file offset where block `block` starts (its bitmap), if allocated.
    pub fn block_offset(&self, block: u64) -> Option<u64> {
        let entry = *self.bat.get(usize::try_from(block).ok()?)?;
        (entry != UNALLOCATED).then(|| u64::from(entry) * 512)
    }

    /// Where the sector bitmap of block `block` is, if the block is allocated.
    pub fn bitmap_range(&self, block: u64) -> Option<ByteRange> {
        let geo = self.block_geometry()?;
        self.block_offset(block).map(|o| ByteRange::new(o, geo.bitmap_size))
    }

    /// Number of allocated blocks (payload blocks with data, for a VHDX).
    pub fn allocated_blocks(&self) -> u64 {
        if let Some(v) = &self.vhdx {
            return v.allocated_blocks();
        }
        allocated_entries(&self.bat).count() as u64
    }

    /// Findings, with every one of them marked as being about layer `index` of a chain.
    pub fn findings_as_layer(&self, index: usize) -> Vec<Finding> {
        self.findings
            .iter()
            .cloned()
            .map(|mut f| {
                f.layer = index;
                f
            })
            .collect()
    }

    /// Blocks whose file position is lower than that of a block before them in BAT order: the
    /// file was written out of order (normal for disks written randomly; shown as a colour).
    pub fn out_of_order_blocks(&self) -> Vec<bool> {
        let mut out = vec![false; self.bat.len()];
        for i in self.out_of_order() {
            out[i] = true;
        }
        out
    }

    /// How many blocks [`Layer::out_of_order_blocks`] marks, without a flag per entry.
    pub fn out_of_order_count(&self) -> u64 {
        self.out_of_order().count() as u64
    }

    fn out_of_order(&self) -> impl Iterator<Item = usize> + '_ {
        let mut highest = 0u32;
        allocated_entries(&self.bat).filter_map(move |(i, e)| {
            if e < highest {
                Some(i)
            } else {
                highest = e;
                None
            }
        })
    }

    /// Candidate paths of the parent, most trustworthy first: the relative Windows path, the
    /// parent unicode name in the child's folder, the absolute paths' file names in the child's
    /// folder, then the absolute paths as they are. Paths use `/` as separator.
    pub fn parent_candidates(&self) -> Vec<String> {
        if let Some(v) = &self.vhdx {
            return v.parent_candidates();
        }
        let mut out: Vec<String> = Vec::new();
        let mut push = |p: String| {
            if !p.is_empty() && !out.contains(&p) {
                out.push(p);
            }
        };
        let paths = |platform: Platform| {
            self.locators
                .iter()
                .filter(move |l| l.entry.value.platform() == platform)
                .filter_map(|l| l.path.as_ref().map(|p| p.path.clone()))
        };
        for p in paths(Platform::WindowsRelative) {
            push(p.replace('\\', "/").trim_start_matches("./").to_string());
        }
        if let Some(h) = &self.header {
            push(h.value.parent_unicode_name().0.replace('\\', "/").rsplit('/').next().unwrap_or_default().to_string());
        }
        for p in paths(Platform::WindowsAbsolute).chain(paths(Platform::MacOsX)) {
            push(p.replace('\\', "/").rsplit('/').next().unwrap_or_default().to_string());
        }
        for p in paths(Platform::MacOsX) {
            push(p);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::ReadAt;
    use crate::writer::{BlockOrder, DiskBuilder};

    #[test]
    fn allocated_entries_are_those_a_test_per_entry_finds() {
        // Runs of every length around the 64 passed over at once, at every phase.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in [0usize, 1, 63, 64, 65, 127, 128, 129, 1000, 4096 + 7] {
            for density in [0u64, 1, 8, 64, 1000] {
                let bat: Vec<u32> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        if density > 0 && seed % 1000 < density {
                            (seed >> 32) as u32 & 0x7fff_ffff
                        } else {
                            UNALLOCATED
                        }
                    })
                    .collect();
                let want: Vec<(usize, u32)> = bat.iter().copied().enumerate().filter(|(_, e)| *e != UNALLOCATED).collect();
                assert_eq!(allocated_entries(&bat).collect::<Vec<_>>(), want, "len {len}, density {density}");
            }
        }
    }

    fn open_from(file: &[u8], chunks: &[ByteRange]) -> Layer {
        let mut opener = Opener::new(file.len() as u64);
        for r in chunks {
            opener.provide(r.offset, file[r.offset as usize..r.end() as usize].to_vec());
        }
        loop {
            match opener.poll().unwrap() {
                Poll::Ready(layer) => return *layer,
                Poll::Need(ranges) => {
                    for r in ranges {
                        opener.provide_with(r.offset, r.len as usize, |b| file.read_at(r.offset, b)).unwrap();
                    }
                }
            }
        }
    }

    /// Drives an opener round by round; returns what `structures()` said after each round.
    fn rounds(file: &[u8]) -> (Vec<Option<Layer>>, Layer) {
        let mut opener = Opener::new(file.len() as u64);
        let mut seen = Vec::new();
        loop {
            match opener.poll().unwrap() {
                Poll::Ready(layer) => return (seen, *layer),
                Poll::Need(ranges) => {
                    seen.push(opener.structures());
                    for r in ranges {
                        opener.provide_with(r.offset, r.len as usize, |b| file.read_at(r.offset, b)).unwrap();
                    }
                }
            }
        }
    }

    #[test]
    fn structures_come_before_the_bat_of_a_dynamic_disk_and_with_the_locators_of_a_child() {
        let mut b = DiskBuilder::dynamic(64 << 20, 2 << 20);
        b.write(5 << 20, &[1; 512]);
        let parent = b.build();
        // Dynamic: footers, header, then the BAT; the structures are known in the BAT's round.
        let (seen, layer) = rounds(&parent);
        assert_eq!(seen.len(), 3);
        assert!(seen[0].is_none() && seen[1].is_none());
        let early = seen[2].as_ref().expect("the structures in the round that reads the BAT");
        assert!(early.bat.is_empty());
        assert_eq!(early.footer, layer.footer);
        assert_eq!(early.header, layer.header);
        assert_eq!(early.bat_range, layer.bat_range);
        let info = |l: &Layer| serde_json::to_value(crate::info::layer_info(l, "p.vhd")).unwrap();
        let (e, f) = (info(early), info(&layer));
        for k in ["fields", "footer_copy", "parent_locators", "header_checksum_valid", "checksum_valid"] {
            assert_eq!(e[k], f[k], "{k}");
        }
        // Differencing: its locators' data come with the BAT, so the structures come with the layer.
        let mut c = DiskBuilder::differencing(&b.parent_ref("p.vhd"), 2 << 20);
        c.write(0, &[2; 512]);
        let (seen, layer) = rounds(&c.build());
        assert!(seen.iter().all(Option::is_none));
        assert!(!layer.locators.is_empty());
        // A fixed disk is open after one round.
        let (seen, _) = rounds(&DiskBuilder::fixed(1 << 20).build());
        assert_eq!(seen.len(), 1);
        assert!(seen[0].is_none());
    }

    #[test]
    fn the_bat_taken_in_place_equals_the_bat_decoded_from_a_larger_chunk() {
        let mut b = DiskBuilder::dynamic(64 << 20, 2 << 20);
        b.block_order(BlockOrder::Descending);
        for block in [0u64, 3, 4, 17, 31] {
            b.write(block * (2 << 20) + 512, &[0xa5; 512]);
        }
        let mut file = b.build();
        // Damage the BAT so that the block checks find something: entry 1 past the end of the
        // file, entry 2 on the block of entry 0.
        let bat_at = u64::from_be_bytes(file[512 + 16..512 + 24].try_into().unwrap()) as usize;
        let first: [u8; 4] = file[bat_at..bat_at + 4].try_into().unwrap();
        file[bat_at + 4..bat_at + 8].copy_from_slice(&0x0fff_0000u32.to_be_bytes());
        file[bat_at + 8..bat_at + 12].copy_from_slice(&first);
        // Asked range by asked range: the BAT's chunk becomes the entries.
        let taken = open_from(&file, &[]);
        // The whole file in one chunk: the entries are decoded from inside it.
        let decoded = open_from(&file, &[ByteRange::new(0, file.len() as u64)]);
        assert_eq!(taken.bat, decoded.bat);
        assert_eq!(taken.bat.len(), 32);
        assert_eq!(taken.allocated_blocks(), 7);
        assert_eq!(taken.out_of_order_count(), taken.out_of_order_blocks().iter().filter(|b| **b).count() as u64);
        let codes = |l: &Layer| l.findings.iter().map(|f| (f.code, f.offset)).collect::<Vec<_>>();
        assert_eq!(codes(&taken), codes(&decoded));
        for code in ["block-past-eof", "blocks-overlap"] {
            assert!(taken.findings.iter().any(|f| f.code == code), "{code}: {:?}", codes(&taken));
        }
    }
}
