//! Opening a VHD file without I/O: the footers (one round), then for a dynamic or differencing
//! disk the dynamic header (a second), then its BAT with the parent locators' data (a third).
//! Each step is a short named check; [`crate::layer::Opener`] runs [`open`] again with more
//! bytes each round until it has what it needs.

use super::footer::{Footer, FILE_FORMAT_VERSION, FOOTER_COOKIE, FOOTER_SIZE, NO_DATA_OFFSET};
use super::geometry::{qemu_sizes_by_chs, virtual_pc_family, Geometry};
use super::header::{DynamicHeader, HEADER_SIZE, HEADER_VERSION};
use super::locator::{decode_path, LocatorEntry, Platform, MAX_LOCATOR_DATA};
use super::{allocated_entries, FooterSource, Locator, Vhd, MAX_BAT_ENTRIES, MAX_BLOCK_SIZE, MAX_DISK_SIZE};
use crate::error::vhd::VhdError;
use crate::error::{show_bytes, Error, Result};
use crate::finding::{Finding, Severity};
use crate::image::{ByteRange, DiskType, Fetch, Located, Opened, MAX_FINDINGS_PER_KIND};
use crate::values::human_size;

/// A VHD being opened: its structures so far, and what was noticed.
type Opening = Opened<Vhd>;

/// Runs the whole open of a VHD with the bytes at hand. Returns `None` (with `need` filled) when
/// more bytes are needed; with the VHD, the range of its BAT, which the caller turns into the
/// table's entries (in place) and checks ([`check_blocks`]). Without `bat`, the BAT is neither
/// asked for nor waited for (the structures shown while it is read).
pub(crate) fn open<'a>(
    file_len: u64,
    fetch: &Fetch<'a>,
    need: &mut Vec<ByteRange>,
    bat: bool,
) -> Result<Option<(Opening, Option<ByteRange>)>> {
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
    let mut findings = Vec::new();
    let (footer, source, end_footer, copy) = choose_footer(file_len, first_bytes, last_bytes, &mut findings)?;
    let data_end = match source {
        FooterSource::End => file_len - FOOTER_SIZE,
        FooterSource::End511 => file_len - (FOOTER_SIZE - 1),
        FooterSource::Copy => file_len,
    };
    check_footer(&footer, &mut findings);
    let image = Vhd {
        footer,
        footer_source: source,
        end_footer,
        footer_copy: None,
        header: None,
        locators: Vec::new(),
        bat: Vec::new(),
        bat_range: None,
    };
    let mut layer = Opening { file_len, data_end, findings, image };
    match layer.image.footer.value.disk_type {
        DiskType::Fixed => {
            open_fixed(&mut layer);
            Ok(Some((layer, None)))
        }
        DiskType::Dynamic | DiskType::Differencing => {
            layer.image.footer_copy = copy;
            compare_copies(&mut layer);
            open_sparse(layer, fetch, need, bat)
        }
        DiskType::Other(value) => {
            Err(VhdError::DiskType { offset: layer.image.footer.offset + super::footer::off::DISK_TYPE as u64, value }.into())
        }
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
        return Err(not_a_vhd(first, last, end_off));
    };
    let Some(chosen) = chosen else {
        return Err(Error::NoFooter { offset: end_off, found: [0; 8] });
    };

    note_source(source, &chosen, end.as_ref(), (end_off, last), findings);
    if !chosen.value.checksum_valid() {
        findings.push(Finding::error(
            "footer-checksum",
            chosen.offset + super::footer::off::CHECKSUM as u64,
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

/// The error for a file with no footer: another format it is recognised as, or what the end
/// of the file holds instead of the cookie.
fn not_a_vhd(first: &[u8], last: &[u8], end_off: u64) -> Error {
    if first.starts_with(b"vhdxfile") {
        return Error::OtherFormat { offset: 0, what: "a VHDX disk (the successor format of VHD)" };
    }
    if first.starts_with(b"KDMV") {
        return Error::OtherFormat { offset: 0, what: "a VMware VMDK disk" };
    }
    if first.starts_with(b"QFI\xfb") {
        return Error::OtherFormat { offset: 0, what: "a QEMU qcow2 disk" };
    }
    if first.len() >= 0x48 && &first[0x40..0x44] == b"\x7f\x10\xda\xbe" {
        return Error::OtherFormat { offset: 0x40, what: "a VirtualBox VDI disk" };
    }
    let mut found = [0u8; 8];
    let n = last.len().min(8);
    found[..n].copy_from_slice(&last[..n]);
    Error::NoFooter { offset: end_off, found }
}

/// Says why the footer was read from where it was: a 511-byte end footer, or the copy at byte 0
/// because the end footer (at `end_off`, whose bytes are `last`) is damaged or missing.
fn note_source(
    source: FooterSource,
    chosen: &Located<Footer>,
    end: Option<&Located<Footer>>,
    (end_off, last): (u64, &[u8]),
    findings: &mut Vec<Finding>,
) {
    // Say what is wrong with each copy.
    match source {
        FooterSource::End511 => findings.push(Finding::error(
            "footer-511",
            chosen.offset,
            "the footer at the end is 511 bytes long instead of 512, as early Virtual PC versions wrote it; it is read as if padded with a zero byte, but libvhdi refuses such a file",
        )),
        FooterSource::Copy => {
            let (code, what) = match end {
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
}

/// Findings about the chosen footer's own fields.
fn check_footer(footer: &Located<Footer>, findings: &mut Vec<Finding>) {
    use super::footer::off;
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
    check_sizes(footer, findings);
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

/// Findings about the footer's sizes: zero, too large, not whole sectors, shrunk.
fn check_sizes(footer: &Located<Footer>, findings: &mut Vec<Finding>) {
    use super::footer::off;
    let f = &footer.value;
    let at = |o: usize| footer.offset + o as u64;
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
}

/// Compares the geometry with the spec's rule and the size it implies with `current size`.
fn check_geometry(footer: &Located<Footer>, findings: &mut Vec<Finding>) {
    let f = &footer.value;
    let at = footer.offset + super::footer::off::DISK_GEOMETRY as u64;
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
fn open_fixed(layer: &mut Opening) {
    let f = &layer.image.footer.value;
    let at = layer.image.footer.offset + super::footer::off::DATA_OFFSET as u64;
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
            layer.image.footer.offset,
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
fn compare_copies(layer: &mut Opening) {
    match (&layer.image.footer_copy, &layer.image.end_footer) {
        (None, _) => layer.findings.push(Finding::error(
            "footer-copy-missing",
            0,
            "a dynamic or differencing disk starts with a copy of its footer, but the first 512 bytes do not hold one",
        )),
        (Some(copy), Some(end)) if layer.image.footer_source != FooterSource::Copy && end.value.cookie_valid() => {
            let diffs = end.value.differences(&copy.value);
            if !copy.value.checksum_valid() {
                layer.findings.push(Finding::error(
                    "footer-copy-checksum",
                    super::footer::off::CHECKSUM as u64,
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
/// taken from the bytes provided, and checked, by the caller ([`crate::layer::Opener::poll`]).
fn open_sparse<'a>(
    mut layer: Opening,
    fetch: &Fetch<'a>,
    need: &mut Vec<ByteRange>,
    want_bat: bool,
) -> Result<Option<(Opening, Option<ByteRange>)>> {
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
        if want_bat {
            need.push(bat_range);
        }
        need.extend(locator_ranges.iter().map(|(_, _, r)| *r));
        return Ok(None);
    }
    layer.image.bat_range = Some(bat_range);
    take_locators(&mut layer, locator_ranges, loc_bytes);
    layer.image.header = Some(header);
    if layer.image.disk_type() == DiskType::Differencing {
        check_differencing_header(&mut layer);
    }
    Ok(Some((layer, want_bat.then_some(bat_range))))
}

/// Where the dynamic header is: the footer's data offset, which must point inside the file.
fn header_place(layer: &mut Opening) -> Result<ByteRange> {
    let f = &layer.image.footer.value;
    let data_offset_at = layer.image.footer.offset + super::footer::off::DATA_OFFSET as u64;
    let header_range = ByteRange::new(f.data_offset, HEADER_SIZE);
    if f.data_offset == NO_DATA_OFFSET || f.data_offset == u64::from(u32::MAX) {
        return Err(VhdError::DataOffset { offset: data_offset_at, disk_type: f.disk_type.name(), data_offset: f.data_offset }.into());
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
fn check_header(layer: &mut Opening, header: &Located<DynamicHeader>) -> Result<()> {
    let h = &header.value;
    use super::header::off;
    let hat = |o: usize| header.offset + o as u64;
    if !h.cookie_valid() {
        return Err(VhdError::HeaderCookie { offset: header.offset, found: h.cookie }.into());
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
fn check_block_size(layer: &mut Opening, header: &Located<DynamicHeader>) -> Result<u32> {
    use super::header::off;
    let hat = |o: usize| header.offset + o as u64;
    let bs = header.value.block_size;
    if bs == 0 || bs % 512 != 0 {
        return Err(VhdError::BlockSize { offset: hat(off::BLOCK_SIZE), block_size: bs }.into());
    }
    if bs > MAX_BLOCK_SIZE {
        return Err(VhdError::BlockSizeTooLarge { offset: hat(off::BLOCK_SIZE), block_size: bs, max: MAX_BLOCK_SIZE }.into());
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
fn bat_place(layer: &mut Opening, header: &Located<DynamicHeader>, bs: u32, header_range: ByteRange) -> Result<ByteRange> {
    use super::header::off;
    let h = &header.value;
    let f = &layer.image.footer.value;
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
        return Err(VhdError::BatTooLarge { offset: hat(off::MAX_TABLE_ENTRIES), entries: count, max: MAX_BAT_ENTRIES }.into());
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
fn locator_places(layer: &mut Opening, header: &Located<DynamicHeader>) -> Vec<(LocatorEntry, u64, ByteRange)> {
    use super::header::off;
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
            layer.image.locators.push(Locator { entry: Located { offset: at, value: entry.clone() }, data: None, path: None });
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
    if layer.image.disk_type() == DiskType::Dynamic && !locator_ranges.is_empty() {
        layer.findings.push(Finding::info(
            "locator-on-dynamic",
            hat(off::PARENT_LOCATORS),
            "a dynamic disk has parent locators, which only differencing disks use",
        ));
    }

    locator_ranges
}

/// The locators' data as read: each decoded into a path (a finding where it is not valid text).
fn take_locators(layer: &mut Opening, places: Vec<(LocatorEntry, u64, ByteRange)>, data: Vec<Option<&[u8]>>) {
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
        layer.image.locators.push(Locator { entry: Located { offset: at, value: entry }, data: Some(data), path: Some(path) });
    }
    layer.image.locators.sort_by_key(|l| l.entry.value.index);
}

fn check_differencing_header(layer: &mut Opening) {
    let Some(header) = &layer.image.header else { return };
    let h = &header.value;
    use super::header::off;
    let (name, valid) = h.parent_unicode_name();
    if !valid {
        layer.findings.push(Finding::error(
            "parent-name-encoding",
            header.offset + off::PARENT_UNICODE_NAME as u64,
            "the parent unicode name is not valid UTF-16 big-endian text",
        ));
    }
    if name.is_empty() && layer.image.locators.is_empty() {
        layer.findings.push(Finding::error(
            "parent-unnamed",
            header.offset + off::PARENT_UNICODE_NAME as u64,
            "the differencing disk names no parent: the parent unicode name is empty and there are no parent locators",
        ));
    } else if layer.image.locators.is_empty() {
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
pub(crate) fn check_blocks(layer: &mut Opening) {
    let Some(geo) = layer.image.block_geometry() else { return };
    let bat_at = layer.image.bat_range.map_or(0, |r| r.offset);
    let mut metadata = vec![("footer copy", ByteRange::new(0, FOOTER_SIZE))];
    if let Some(h) = &layer.image.header {
        metadata.push(("dynamic header", ByteRange::new(h.offset, HEADER_SIZE)));
    }
    if let Some(r) = layer.image.bat_range {
        metadata.push(("BAT", ByteRange::new(r.offset, r.len.div_ceil(512) * 512)));
    }
    for l in &layer.image.locators {
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
    for (i, entry) in allocated_entries(&layer.image.bat) {
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
