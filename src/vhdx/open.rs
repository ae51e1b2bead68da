//! Opening a VHDX file without I/O: the same shape as the VHD opener, polled with more bytes
//! each round until it has what it needs; each round runs once, keeping what it found
//! ([`Rounds`]).

use super::format::{
    self, bat_parts, guid_name, header_off, FileIdentifier, Header, MetadataTable, ParentLocator, RegionEntry, RegionTable, HEADER_OFFSETS,
    HEADER_SECTION, HEADER_SIZE, IDENTIFIER_SIZE, KIB64, MAX_DISK_SIZE, MIB, REGION_BAT, REGION_METADATA, REGION_TABLE_OFFSETS,
    REGION_TABLE_SIZE,
};
use super::log::{replay, Write};
use super::{BlockState, Item, Log, Vhdx, MAX_BAT_ENTRIES, MAX_LOG, MAX_METADATA_REGION};
use std::borrow::Cow;

use crate::bytes::{le16, le32, le64, Guid};
use crate::error::vhdx::{Invalidity, VhdxError};
use crate::error::{Error, Result};
use crate::finding::{Finding, Severity};
use crate::image::{ByteRange, Fetch, Located, Opened, MAX_FINDINGS_PER_KIND};

/// `bytes` read at `base` with the log's writes that fall on them applied: borrowed as they are
/// when no write does (a clean log, or writes elsewhere), else a patched copy.
pub(crate) fn patched<'b>(bytes: &'b [u8], base: u64, writes: &[(u64, Write)]) -> Cow<'b, [u8]> {
    let range = ByteRange::new(base, bytes.len() as u64);
    let mut out = Cow::Borrowed(bytes);
    for (at, w) in writes {
        let (s, e) = ((*at).max(base), at.saturating_add(write_len(w)).min(range.end()));
        if s >= e {
            continue;
        }
        let dst = &mut out.to_mut()[(s - base) as usize..(e - base) as usize];
        match w {
            Write::Zero(_) => dst.fill(0),
            Write::Data(d) => dst.copy_from_slice(&d[(s - at) as usize..(e - at) as usize]),
        }
    }
    out
}

/// Picks the current header: the valid one with the larger sequence number ([MS-VHDX] 2.2.2.1).
fn choose_header(headers: &[Located<Header>], findings: &mut Vec<Finding>) -> Result<usize> {
    let valid: Vec<bool> = headers.iter().map(|h| h.value.valid()).collect();
    let why = |h: &Located<Header>| {
        if &h.value.signature != b"head" {
            Invalidity::Signature { expected: *b"head", actual: h.value.signature }
        } else {
            Invalidity::Checksum { stored: h.value.checksum, computed: h.value.computed_checksum }
        }
    };
    let current = match (valid[0], valid[1]) {
        (false, false) => {
            return Err(VhdxError::NoValidHeader {
                offset: headers[0].offset,
                second: headers[1].offset,
                first_why: why(&headers[0]),
                second_why: why(&headers[1]),
            }
            .into())
        }
        (true, false) | (false, true) => {
            let (good, bad) = if valid[0] { (0, 1) } else { (1, 0) };
            findings.push(Finding::warning(
                "vhdx-header-invalid",
                headers[bad].offset,
                format!(
                    "header {} at {:#x} is not valid: it has {}; header {} (sequence number {}) is current. A write interrupted while updating a header leaves this; the next writer repairs it",
                    bad + 1,
                    headers[bad].offset,
                    why(&headers[bad]),
                    good + 1,
                    headers[good].value.sequence_number
                ),
            ));
            good
        }
        (true, true) => {
            let (a, b) = (headers[0].value.sequence_number, headers[1].value.sequence_number);
            if a == b {
                findings.push(Finding::warning(
                    "vhdx-header-sequence",
                    headers[1].offset + header_off::SEQUENCE_NUMBER as u64,
                    format!("both headers have sequence number {a}; the spec makes the larger one current, so header 1 is used"),
                ));
            }
            usize::from(b > a)
        }
    };
    let h = &headers[current];
    let at = |o: usize| h.offset + o as u64;
    if h.value.version != 1 {
        return Err(VhdxError::Version { offset: at(header_off::VERSION), version: h.value.version }.into());
    }
    if h.value.log_version != 0 {
        findings.push(Finding::error(
            "vhdx-log-version",
            at(header_off::LOG_VERSION),
            format!("the log version is {}; only 0 is defined, so the log cannot be read", h.value.log_version),
        ));
    }
    if h.value.log_offset % MIB != 0 || u64::from(h.value.log_length) % MIB != 0 {
        findings.push(Finding::warning(
            "vhdx-log-unaligned",
            at(header_off::LOG_LENGTH),
            format!("the log at {:#x} ({} bytes) is not on 1 MiB boundaries as the spec requires", h.value.log_offset, h.value.log_length),
        ));
    }
    Ok(current)
}

/// Picks the region table to read: the first valid one (both should be identical).
fn choose_region_table(tables: &[Located<RegionTable>], findings: &mut Vec<Finding>) -> Result<usize> {
    let why = |t: &Located<RegionTable>| {
        if &t.value.signature != b"regi" {
            Invalidity::Signature { expected: *b"regi", actual: t.value.signature }
        } else if t.value.checksum != t.value.computed_checksum {
            Invalidity::Checksum { stored: t.value.checksum, computed: t.value.computed_checksum }
        } else {
            Invalidity::EntryCount { count: t.value.entry_count }
        }
    };
    let current = match (tables[0].value.valid(), tables[1].value.valid()) {
        (true, _) => 0,
        (false, true) => 1,
        (false, false) => {
            return Err(VhdxError::NoValidRegionTable {
                offset: tables[0].offset,
                second: tables[1].offset,
                first_why: why(&tables[0]),
                second_why: why(&tables[1]),
            }
            .into())
        }
    };
    let other = 1 - current;
    if !tables[other].value.valid() {
        findings.push(Finding::warning(
            "vhdx-region-table-invalid",
            tables[other].offset,
            format!(
                "region table {} at {:#x} is not valid: it has {}; region table {} is read",
                other + 1,
                tables[other].offset,
                why(&tables[other]),
                current + 1
            ),
        ));
    } else if tables[0].value.raw != tables[1].value.raw {
        findings.push(Finding::warning(
            "vhdx-region-tables-differ",
            tables[1].offset,
            "the two region tables are both valid but differ; the first is read",
        ));
    }
    Ok(current)
}

/// The region `guid`, checked to lie inside the file.
fn region(table: &Located<RegionTable>, guid: Guid, name: &'static str, file_len: u64, findings: &mut Vec<Finding>) -> Result<RegionEntry> {
    let Some(e) = table.value.find(guid).copied() else {
        return Err(VhdxError::RegionMissing { offset: table.offset, name, guid }.into());
    };
    let at = table.offset + (format::region_off::ENTRIES + e.index * format::region_off::ENTRY_SIZE) as u64;
    let range = ByteRange::new(e.file_offset, u64::from(e.length));
    if range.end() > file_len || e.file_offset > u64::MAX / 2 {
        return Err(Error::OutOfFile { what: name, offset: e.file_offset, len: u64::from(e.length), file_len });
    }
    if e.file_offset < MIB || e.file_offset % MIB != 0 || u64::from(e.length) % MIB != 0 {
        findings.push(Finding::warning(
            "vhdx-region-unaligned",
            at,
            format!(
                "the {name} at {:#x} ({} bytes) is not on 1 MiB boundaries past the first MiB, as the spec requires",
                e.file_offset, e.length
            ),
        ));
    }
    Ok(e)
}

/// What the first round found: the header section's structures and the two regions.
#[derive(Debug)]
struct Section {
    identifier: Located<FileIdentifier>,
    headers: Vec<Located<Header>>,
    current_header: usize,
    region_tables: Vec<Located<RegionTable>>,
    current_region_table: usize,
    bat_region: RegionEntry,
    metadata_region: RegionEntry,
}

impl Section {
    fn header(&self) -> &Header {
        &self.headers[self.current_header].value
    }
}

/// What the second round found: the log, the metadata table and items, and the BAT's shape.
#[derive(Debug)]
struct Metadata {
    log: Log,
    /// The log's writes, replayed on the bytes read after it (the BAT).
    writes: Vec<(u64, Write)>,
    metadata_table: Located<MetadataTable>,
    items: Vec<Item>,
    params: Params,
    parent_locator: Option<Located<ParentLocator>>,
    /// BAT entries to read.
    count: u64,
}

/// The metadata items every VHDX has, decoded.
#[derive(Debug)]
struct Params {
    block_size: u32,
    leave_blocks_allocated: bool,
    has_parent: bool,
    virtual_disk_size: u64,
    logical_sector_size: u32,
    physical_sector_size: u32,
    page83: Option<Guid>,
}

/// Where the open of a VHDX stands: one state per round of reads (as rc-zip drives its archive
/// reader), each holding what the earlier rounds found. Each round's function reads what the
/// bytes provided hold, or asks for its ranges.
#[derive(Debug, Default)]
enum Round {
    /// Round 1: the header section (file type identifier, headers, region tables).
    #[default]
    Start,
    /// Round 2: the metadata region and, when the disk was not closed cleanly (or to list its
    /// entries), the log.
    Metadata(Box<Section>),
    /// Round 3: the BAT.
    Bat(Box<Section>, Box<Metadata>),
}

/// The open of one VHDX file, polled until it is done: the round it has reached and the findings
/// of the rounds before. A round runs once, on its own bytes: a poll that lacks them leaves the
/// state as it was, and the next one starts where this one stopped (not from the header section
/// again, whose two region tables cost a 64 KiB CRC-32C each).
#[derive(Debug, Default)]
pub(crate) struct Rounds {
    round: Round,
    findings: Vec<Finding>,
    /// Only the identifying structures: no log, the metadata table and items rather than the
    /// whole region, no BAT ([`Rounds::identity`]).
    identify: bool,
}

impl Rounds {
    /// Rounds that read only what identifies the file: the header section as always, then the
    /// metadata table (its first 4 KiB, or its 64 KiB when it has more than 126 entries) and
    /// its items, not the rest of the metadata region, the log or
    /// the BAT. The VHDX they give has an empty BAT; a log that is not empty is not replayed,
    /// and a finding says so.
    pub(crate) fn identity() -> Rounds {
        Rounds { identify: true, ..Rounds::default() }
    }

    /// Runs the rounds the bytes provided allow: the VHDX once it is complete, else `None` with
    /// `need` filled. After an error the open is over.
    pub(crate) fn poll(&mut self, file_len: u64, fetch: &Fetch<'_>, need: &mut Vec<ByteRange>) -> Result<Option<Opened<Vhdx>>> {
        loop {
            // A round's findings are kept only when it completes (one that waits for its bytes
            // runs again in full).
            let mut found = Vec::new();
            self.round = match std::mem::take(&mut self.round) {
                Round::Start => match read_section(file_len, fetch, need, &mut found)? {
                    Some(s) => Round::Metadata(Box::new(s)),
                    None => return Ok(None),
                },
                Round::Metadata(s) => match read_metadata(&s, file_len, fetch, need, &mut found, self.identify)? {
                    Some(m) if self.identify => {
                        self.findings.append(&mut found);
                        let findings = std::mem::take(&mut self.findings);
                        return Ok(Some(Opened { file_len, data_end: file_len, findings, image: assemble(*s, m, Vec::new()) }));
                    }
                    Some(m) => Round::Bat(s, Box::new(m)),
                    None => {
                        self.round = Round::Metadata(s);
                        return Ok(None);
                    }
                },
                Round::Bat(s, m) => {
                    let Some(bat) = read_bat(&s, &m, fetch, need) else {
                        self.round = Round::Bat(s, m);
                        return Ok(None);
                    };
                    let vhdx = assemble(*s, *m, bat);
                    check_bat(&vhdx, file_len, &mut self.findings);
                    let findings = std::mem::take(&mut self.findings);
                    return Ok(Some(Opened { file_len, data_end: file_len, findings, image: vhdx }));
                }
            };
            self.findings.append(&mut found);
        }
    }
}

/// Round 1: the identifier, both headers and both region tables (137 KiB of the first 320 KiB:
/// no more than they hold, in one round); the current header and region table chosen, the BAT
/// and metadata regions found.
fn read_section(file_len: u64, fetch: &Fetch<'_>, need: &mut Vec<ByteRange>, findings: &mut Vec<Finding>) -> Result<Option<Section>> {
    if file_len < HEADER_SECTION {
        return Err(VhdxError::TooSmall { len: file_len, need: HEADER_SECTION }.into());
    }
    let structures = [(0, IDENTIFIER_SIZE)]
        .into_iter()
        .chain(HEADER_OFFSETS.map(|o| (o, HEADER_SIZE)))
        .chain(REGION_TABLE_OFFSETS.map(|o| (o, REGION_TABLE_SIZE)))
        .map(|(o, len)| ByteRange::new(o, len));
    let Some([id, h1, h2, t1, t2]) = structures.clone().map(fetch).collect::<Option<Vec<_>>>().and_then(|b| <[&[u8]; 5]>::try_from(b).ok())
    else {
        need.extend(structures);
        return Ok(None);
    };
    let identifier = Located { offset: 0, value: FileIdentifier::parse(id) };
    let headers: Vec<Located<Header>> =
        HEADER_OFFSETS.iter().zip([h1, h2]).map(|(&o, b)| Located { offset: o, value: Header::parse(b) }).collect();
    let current_header = choose_header(&headers, findings)?;
    let tables: Vec<Located<RegionTable>> =
        REGION_TABLE_OFFSETS.iter().zip([t1, t2]).map(|(&o, b)| Located { offset: o, value: RegionTable::parse(b) }).collect();
    let current_region_table = choose_region_table(&tables, findings)?;
    let table = &tables[current_region_table];
    check_region_guids(table, findings)?;
    let bat_region = region(table, REGION_BAT, "BAT region", file_len, findings)?;
    let metadata_region = region(table, REGION_METADATA, "metadata region", file_len, findings)?;
    let s = Section { identifier, headers, current_header, region_tables: tables, current_region_table, bat_region, metadata_region };
    check_regions_apart(&s, findings);
    Ok(Some(s))
}

/// Regions the spec does not define: an error when marked required, else a finding.
fn check_region_guids(table: &Located<RegionTable>, findings: &mut Vec<Finding>) -> Result<()> {
    for e in &table.value.entries {
        if guid_name(&e.guid).is_none() {
            let at = table.offset + (format::region_off::ENTRIES + e.index * format::region_off::ENTRY_SIZE) as u64;
            if e.required & 1 != 0 {
                return Err(VhdxError::RegionUnknown { offset: at, guid: e.guid }.into());
            }
            findings.push(Finding::info(
                "vhdx-region-unknown",
                at,
                format!("region {} is not one the spec defines; it is not required and is ignored", e.guid),
            ));
        }
    }
    Ok(())
}

/// The regions must not overlap each other, the log or the first MiB.
fn check_regions_apart(s: &Section, findings: &mut Vec<Finding>) {
    let h = s.header();
    let places = [
        ("header section", ByteRange::new(0, MIB)),
        ("log", ByteRange::new(h.log_offset, u64::from(h.log_length))),
        ("BAT region", ByteRange::new(s.bat_region.file_offset, u64::from(s.bat_region.length))),
        ("metadata region", ByteRange::new(s.metadata_region.file_offset, u64::from(s.metadata_region.length))),
    ];
    for (i, (a, ra)) in places.iter().enumerate() {
        for (b, rb) in &places[i + 1..] {
            if ra.overlaps(rb) {
                findings.push(Finding::error(
                    "vhdx-regions-overlap",
                    rb.offset,
                    format!(
                        "the {b} at {:#x} ({} bytes) overlaps the {a} at {:#x} ({} bytes): writing one damages the other",
                        rb.offset, rb.len, ra.offset, ra.len
                    ),
                ));
            }
        }
    }
}

/// Round 2: the metadata region and the log as [`log_plan`] says; the log replayed (in memory)
/// when the disk was not closed cleanly, the metadata items read and checked, the BAT sized.
/// When only identifying (`identify`), the log is not read and of the region only the table
/// and then its items are.
fn read_metadata(
    s: &Section,
    file_len: u64,
    fetch: &Fetch<'_>,
    need: &mut Vec<ByteRange>,
    findings: &mut Vec<Finding>,
    identify: bool,
) -> Result<Option<Metadata>> {
    let meta_len = u64::from(s.metadata_region.length);
    if !(KIB64..=MAX_METADATA_REGION).contains(&meta_len) {
        return Err(VhdxError::MetadataSize { offset: s.metadata_region.file_offset, len: meta_len, max: MAX_METADATA_REGION }.into());
    }
    let meta_range = ByteRange::new(s.metadata_region.file_offset, meta_len);
    let h = s.header();
    if identify {
        // The table's first 4 KiB hold its header and 126 entries (a disk has about 6); all its
        // 64 KiB are read only when it counts more.
        let head_range = ByteRange::new(meta_range.offset, 4096);
        let Some(head) = fetch(head_range) else {
            need.push(head_range);
            return Ok(None);
        };
        let count = usize::from(le16(head, format::metadata_off::ENTRY_COUNT).min(format::MAX_METADATA_ENTRIES));
        let table_range = if format::metadata_off::ENTRIES + count * format::metadata_off::ENTRY_SIZE <= head.len() {
            head_range
        } else {
            ByteRange::new(meta_range.offset, KIB64)
        };
        let Some(table) = fetch(table_range) else {
            need.push(table_range);
            return Ok(None);
        };
        let log = identity_log(h, s.current_header_offset(), findings);
        let Some((metadata_table, items)) = read_items(table, meta_range, (fetch, false), need, findings)? else { return Ok(None) };
        return metadata(metadata_table, items, log, Vec::new(), meta_range.offset, s, findings).map(Some);
    }
    let (mut log, log_range) = log_plan(h, file_len, s.current_header_offset(), findings);
    let meta_bytes = fetch(meta_range);
    let log_bytes = log_range.and_then(fetch);
    if meta_bytes.is_none() || log_range.is_some() && log_bytes.is_none() {
        need.push(meta_range);
        need.extend(log_range);
        return Ok(None);
    }
    let mut writes = Vec::new();
    if let (true, Some(lb)) = (log.dirty, log_bytes) {
        writes =
            replay_log(&mut log, lb, h, [ByteRange::new(s.bat_region.file_offset, u64::from(s.bat_region.length)), meta_range], findings);
    }
    if let Some(lb) = log_bytes {
        list_log_region(&mut log, lb, h.log_offset, h.log_guid);
    }
    let meta = patched(meta_bytes.unwrap_or_default(), meta_range.offset, &writes);
    let in_region = |r: ByteRange| meta.get((r.offset - meta_range.offset) as usize..(r.end() - meta_range.offset) as usize);
    let Some((metadata_table, items)) = read_items(&meta, meta_range, (&in_region, true), &mut Vec::new(), findings)? else {
        return Err(Error::Missing { offset: meta_range.offset, len: meta_range.len });
    };
    metadata(metadata_table, items, log, writes, meta_range.offset, s, findings).map(Some)
}

/// The log of a VHDX only identified: not read; a finding when it is not empty (the disk was
/// not closed cleanly), for then the file is identified as stored.
fn identity_log(h: &Header, header_at: u64, findings: &mut Vec<Finding>) -> Log {
    let dirty = !h.log_guid.is_nil();
    if dirty {
        findings.push(Finding::warning(
            "vhdx-log-not-replayed",
            header_at + header_off::LOG_GUID as u64,
            format!("the disk was not closed cleanly (log GUID {}): it is identified from its headers and metadata as stored, without replaying its log, which may change them", h.log_guid),
        ));
    }
    Log { dirty, region_note: Some("the log was not read: the file was only identified".into()), ..Log::default() }
}

/// Round 2's end: the parameters and parent locator read from the metadata items, the BAT sized.
fn metadata(
    metadata_table: Located<MetadataTable>,
    items: Vec<Item>,
    log: Log,
    writes: Vec<(u64, Write)>,
    meta_offset: u64,
    s: &Section,
    findings: &mut Vec<Finding>,
) -> Result<Metadata> {
    let params = read_params(&items, meta_offset, findings)?;
    let parent_locator = items
        .iter()
        .find(|i| i.entry.item_id == format::ITEM_PARENT_LOCATOR)
        .map(|i| Located { offset: i.offset, value: ParentLocator::parse(&i.bytes) });
    check_parent_locator(params.has_parent, parent_locator.as_ref(), meta_offset, findings);
    let count = bat_entries(&params, &s.bat_region, findings)?;
    Ok(Metadata { log, writes, metadata_table, items, params, parent_locator, count })
}

impl Section {
    fn current_header_offset(&self) -> u64 {
        self.headers[self.current_header].offset
    }
}

/// Whether the log is read, and the log as known before reading it: a dirty log is read to be
/// replayed (when it lies in the file and is not too long; else a finding), a clean one only to
/// list the entries of earlier sessions.
fn log_plan(h: &Header, file_len: u64, header_at: u64, findings: &mut Vec<Finding>) -> (Log, Option<ByteRange>) {
    let dirty = !h.log_guid.is_nil();
    let log_range = ByteRange::new(h.log_offset, u64::from(h.log_length));
    let mut log = Log { dirty, ..Log::default() };
    let outside = log_range.end() > file_len || h.log_offset > u64::MAX / 2 || log_range.len < 4096;
    let hat = |o: usize| header_at + o as u64;
    if dirty {
        if outside {
            findings.push(Finding::error(
                "vhdx-log-invalid",
                hat(header_off::LOG_OFFSET),
                format!("the disk was not closed cleanly (log GUID {}), but its log at {:#x} ({} bytes) does not lie inside the file: the disk is read as stored, which may be inconsistent", h.log_guid, h.log_offset, h.log_length),
            ));
        } else if log_range.len > MAX_LOG {
            findings.push(Finding::error(
                "vhdx-log-invalid",
                hat(header_off::LOG_LENGTH),
                format!("the disk was not closed cleanly, but its log is {} bytes, more than the {MAX_LOG} this viewer replays: the disk is read as stored", h.log_length),
            ));
        } else {
            return (log, Some(log_range));
        }
        return (log, None);
    }
    if log_range.len == 0 {
        log.region_note = Some("the log is empty (LogLength 0)".into());
    } else if outside || log_range.len > MAX_LOG {
        // A clean log is never replayed: a region that cannot be read is only not listed.
        log.region_note = Some(format!(
            "the log region at {:#x} ({} bytes) does not lie inside the file or is not 4 KiB to {MAX_LOG} bytes long: its entries are not listed",
            h.log_offset, h.log_length
        ));
    } else {
        return (log, Some(log_range));
    }
    (log, None)
}

/// The bytes a log write covers.
fn write_len(w: &Write) -> u64 {
    match w {
        Write::Zero(n) => *n,
        Write::Data(d) => d.len() as u64,
    }
}

/// Replays a dirty log `lb` in memory: its writes (those inside the BAT and the metadata region,
/// `inside`, are applied to what is read of them), or a finding when it does not verify.
fn replay_log(log: &mut Log, lb: &[u8], h: &Header, inside: [ByteRange; 2], findings: &mut Vec<Finding>) -> Vec<(u64, Write)> {
    match replay(lb, h.log_offset, h.log_guid) {
        Ok(r) => {
            log.entries = r.entries;
            log.replayed = true;
            log.writes = r.writes.iter().map(|(at, w)| ByteRange::new(*at, write_len(w))).collect();
            let outside = log.writes.iter().filter(|w| !inside.iter().any(|r| w.offset >= r.offset && w.end() <= r.end())).count();
            findings.push(Finding::warning(
                "vhdx-log-replayed",
                h.log_offset,
                format!(
                    "the disk was not closed cleanly: its log holds {} entries ({} writes) not yet made to the file. They were replayed in memory, and the disk is shown as it is after replay; the file itself was not written{}",
                    log.entries.len(),
                    log.writes.len(),
                    if outside > 0 { format!(" ({outside} writes fall outside the BAT and metadata region and are not applied)") } else { String::new() }
                ),
            ));
            r.writes
        }
        Err((at, why)) => {
            findings.push(Finding::error(
                "vhdx-log-invalid",
                at,
                format!("the disk was not closed cleanly (log GUID {}), but its log does not verify ({why}): it is not replayed, and the disk is read as stored, which may be inconsistent", h.log_guid),
            ));
            Vec::new()
        }
    }
}

/// The metadata table (`table`, the first 64 KiB of the region at `meta_range`) and its items'
/// bytes, which `item` gives by their file ranges; `None` with `need` filled when it lacks some.
/// Every item's bytes with `all`, else only those of the first item of each kind the spec
/// defines (what identifying a file reads: the others are left empty).
fn read_items<'m>(
    table: &[u8],
    meta_range: ByteRange,
    (item, all): (&dyn Fn(ByteRange) -> Option<&'m [u8]>, bool),
    need: &mut Vec<ByteRange>,
    findings: &mut Vec<Finding>,
) -> Result<Option<(Located<MetadataTable>, Vec<Item>)>> {
    let metadata_table = Located { offset: meta_range.offset, value: MetadataTable::parse(table) };
    if &metadata_table.value.signature != b"metadata" {
        return Err(VhdxError::MetadataSignature { offset: meta_range.offset, found: metadata_table.value.signature }.into());
    }
    if metadata_table.value.entry_count > format::MAX_METADATA_ENTRIES {
        findings.push(Finding::error(
            "vhdx-metadata-count",
            meta_range.offset + format::metadata_off::ENTRY_COUNT as u64,
            format!(
                "the metadata table's entry count {} is more than the 2047 allowed; the first 2047 are read",
                metadata_table.value.entry_count
            ),
        ));
    }
    let mut items = Vec::new();
    let mut missing = false;
    for e in &metadata_table.value.entries {
        let at = meta_range.offset + (format::metadata_off::ENTRIES + e.index * format::metadata_off::ENTRY_SIZE) as u64;
        let (start, len) = (u64::from(e.offset), u64::from(e.length));
        let inside = len == 0 || (start >= KIB64 && start + len <= meta_range.len && len <= MIB);
        if !inside {
            findings.push(Finding::error(
                "vhdx-metadata-item-range",
                at,
                format!(
                    "metadata item {} ({}) at offset {start:#x} ({len} bytes) does not lie in the metadata region past its table",
                    e.index,
                    guid_name(&e.item_id).unwrap_or("unknown")
                ),
            ));
        }
        if guid_name(&e.item_id).is_none() && e.is_required() {
            return Err(VhdxError::MetadataUnknown { offset: at, item: e.item_id }.into());
        }
        // (An empty item may name any offset: nothing of it is read.)
        let range = ByteRange::new(meta_range.offset + start, len);
        // Identifying reads only the first item of each kind the spec defines.
        let wanted = all || guid_name(&e.item_id).is_some() && metadata_table.value.find(e.item_id).map(|f| f.index) == Some(e.index);
        let bytes = if !inside || len == 0 || !wanted {
            Vec::new()
        } else if let Some(b) = item(range) {
            b.to_vec()
        } else {
            need.push(range);
            missing = true;
            Vec::new()
        };
        items.push(Item { entry: *e, offset: meta_range.offset + start, bytes });
    }
    Ok((!missing).then_some((metadata_table, items)))
}

/// Item `id`, when it holds at least `min` bytes: an error when it is missing or short.
fn required(items: &[Item], id: Guid, min: usize, meta_offset: u64) -> Result<&Item> {
    match items.iter().find(|i| i.entry.item_id == id) {
        Some(i) if i.bytes.len() >= min => Ok(i),
        Some(i) => {
            Err(VhdxError::MetadataItemShort { offset: i.offset, item: guid_name(&id).unwrap_or("?"), len: i.bytes.len(), min }.into())
        }
        None => Err(VhdxError::MetadataItemMissing { offset: meta_offset, item: guid_name(&id).unwrap_or("?") }.into()),
    }
}

/// The file parameters, virtual disk size, sector sizes and page 83 data, checked (in the order
/// of the spec's items, so that the first of several defects is the one reported).
fn read_params(items: &[Item], meta_offset: u64, findings: &mut Vec<Finding>) -> Result<Params> {
    let fp = required(items, format::ITEM_FILE_PARAMETERS, 8, meta_offset)?;
    let block_size = le32(&fp.bytes, 0);
    let flags = le32(&fp.bytes, 4);
    if !(MIB..=256 * MIB).contains(&u64::from(block_size)) || !block_size.is_power_of_two() {
        return Err(VhdxError::BlockSize { offset: fp.offset, block_size }.into());
    }
    let vs = required(items, format::ITEM_VIRTUAL_DISK_SIZE, 8, meta_offset)?;
    let virtual_disk_size = le64(&vs.bytes, 0);
    let (logical_sector_size, physical_sector_size) = read_sector_sizes(items, meta_offset, findings)?;
    let page83 =
        items.iter().find(|i| i.entry.item_id == format::ITEM_PAGE83).filter(|i| i.bytes.len() >= 16).map(|i| Guid::at(&i.bytes, 0));
    if page83.is_none() {
        findings.push(Finding::warning(
            "vhdx-metadata-item-missing",
            meta_offset,
            "the metadata table has no page 83 data item (the disk's SCSI identity), which the spec requires",
        ));
    }
    if virtual_disk_size == 0 || virtual_disk_size > MAX_DISK_SIZE {
        return Err(VhdxError::DiskSize { offset: vs.offset, size: virtual_disk_size }.into());
    }
    if virtual_disk_size % u64::from(logical_sector_size) != 0 {
        findings.push(Finding::warning(
            "vhdx-disk-size",
            vs.offset,
            format!("the virtual disk size {virtual_disk_size} is not a multiple of the logical sector size {logical_sector_size}"),
        ));
    }
    if flags & !3 != 0 {
        findings.push(Finding::warning(
            "vhdx-file-parameters",
            fp.offset + 4,
            format!("unknown file parameter bits are set ({flags:#010x})"),
        ));
    }
    Ok(Params {
        block_size,
        leave_blocks_allocated: flags & 1 != 0,
        has_parent: flags & 2 != 0,
        virtual_disk_size,
        logical_sector_size,
        physical_sector_size,
        page83,
    })
}

/// The logical sector size (512 or 4096, else an error) and the physical one (a finding when
/// it is neither).
fn read_sector_sizes(items: &[Item], meta_offset: u64, findings: &mut Vec<Finding>) -> Result<(u32, u32)> {
    let ls = required(items, format::ITEM_LOGICAL_SECTOR_SIZE, 4, meta_offset)?;
    let logical = le32(&ls.bytes, 0);
    if logical != 512 && logical != 4096 {
        return Err(VhdxError::SectorSize { offset: ls.offset, size: logical }.into());
    }
    let ps = required(items, format::ITEM_PHYSICAL_SECTOR_SIZE, 4, meta_offset)?;
    let physical = le32(&ps.bytes, 0);
    if physical != 512 && physical != 4096 {
        findings.push(Finding::warning(
            "vhdx-sector-size",
            ps.offset,
            format!("the physical sector size is {physical}; only 512 and 4096 are allowed"),
        ));
    }
    Ok((logical, physical))
}

/// How many BAT entries to read: as many as the disk needs (payload and sector bitmap blocks
/// interleaved), at most as many as the BAT region holds, at most [`MAX_BAT_ENTRIES`].
fn bat_entries(p: &Params, bat_region: &RegionEntry, findings: &mut Vec<Finding>) -> Result<u64> {
    let (chunk_ratio, payload_blocks, bitmap_blocks) = shape(p);
    let total = if p.has_parent { bitmap_blocks * (chunk_ratio + 1) } else { payload_blocks + (payload_blocks - 1) / chunk_ratio };
    let region_entries = u64::from(bat_region.length) / 8;
    let mut count = total;
    if total > region_entries {
        findings.push(Finding::error(
            "vhdx-bat-short",
            bat_region.file_offset,
            format!("the disk needs {total} BAT entries, but the BAT region holds only {region_entries}; the blocks past it read as not present"),
        ));
        count = region_entries;
    }
    if count > MAX_BAT_ENTRIES {
        return Err(VhdxError::BatTooLarge { offset: bat_region.file_offset, entries: count, max: MAX_BAT_ENTRIES }.into());
    }
    Ok(count)
}

/// The BAT's shape: payload blocks per sector bitmap block (2^23 × logical sector size / block
/// size), payload blocks, sector bitmap blocks.
fn shape(p: &Params) -> (u64, u64, u64) {
    let chunk_ratio = ((1u64 << 23) * u64::from(p.logical_sector_size)) / u64::from(p.block_size);
    let payload_blocks = p.virtual_disk_size.div_ceil(u64::from(p.block_size));
    (chunk_ratio, payload_blocks, payload_blocks.div_ceil(chunk_ratio))
}

/// Round 3: the BAT (patched with the log's writes to it, if any).
fn read_bat(s: &Section, m: &Metadata, fetch: &Fetch<'_>, need: &mut Vec<ByteRange>) -> Option<Vec<u64>> {
    let bat_range = ByteRange::new(s.bat_region.file_offset, m.count * 8);
    let Some(bat_bytes) = fetch(bat_range) else {
        need.push(bat_range);
        return None;
    };
    // Patched only where the log writes to it (a copy of an 8 MiB BAT costs as much as the rest
    // of opening a 64 TiB disk).
    let bat = patched(bat_bytes, bat_range.offset, &m.writes);
    Some(bat.chunks_exact(8).map(|c| le64(c, 0)).collect())
}

/// The VHDX of the three rounds' findings.
fn assemble(s: Section, m: Metadata, bat: Vec<u64>) -> Vhdx {
    let (chunk_ratio, payload_blocks, bitmap_blocks) = shape(&m.params);
    let p = m.params;
    Vhdx {
        identifier: s.identifier,
        headers: s.headers,
        current_header: s.current_header,
        region_tables: s.region_tables,
        current_region_table: s.current_region_table,
        bat_region: s.bat_region,
        metadata_region: s.metadata_region,
        metadata_table: m.metadata_table,
        items: m.items,
        block_size: p.block_size,
        leave_blocks_allocated: p.leave_blocks_allocated,
        has_parent: p.has_parent,
        virtual_disk_size: p.virtual_disk_size,
        logical_sector_size: p.logical_sector_size,
        physical_sector_size: p.physical_sector_size,
        page83: p.page83,
        parent_locator: m.parent_locator,
        chunk_ratio,
        payload_blocks,
        bitmap_blocks,
        bat,
        bat_offset: s.bat_region.file_offset,
        log: m.log,
    }
}

fn check_parent_locator(has_parent: bool, locator: Option<&Located<ParentLocator>>, meta_offset: u64, findings: &mut Vec<Finding>) {
    match (has_parent, locator) {
        (true, None) => findings.push(Finding::error(
            "vhdx-parent-locator-missing",
            meta_offset,
            "the disk is a differencing disk (has parent) but has no parent locator: its parent cannot be found or verified",
        )),
        (false, Some(l)) => findings.push(Finding::info(
            "vhdx-parent-locator-unused",
            l.offset,
            "the disk has a parent locator but is not a differencing disk",
        )),
        (true, Some(l)) => {
            let v = &l.value;
            if v.locator_type != format::LOCATOR_TYPE_VHDX {
                findings.push(Finding::warning(
                    "vhdx-parent-locator-type",
                    l.offset,
                    format!("the parent locator's type is {}, not the VHDX type {}", v.locator_type, format::LOCATOR_TYPE_VHDX),
                ));
            }
            if usize::from(v.key_value_count) > v.entries.len() {
                findings.push(Finding::error(
                    "vhdx-parent-locator-count",
                    l.offset + 18,
                    format!("the parent locator says it has {} entries, but only {} fit in it", v.key_value_count, v.entries.len()),
                ));
            }
            for e in v.entries.iter().filter(|e| !e.valid) {
                findings.push(Finding::error(
                    "vhdx-parent-locator-entry",
                    l.offset + 20 + 12 * e.index as u64,
                    format!("parent locator entry {}'s key or value lies outside the locator or is not valid UTF-16", e.index),
                ));
            }
            match v.get("parent_linkage") {
                None => findings.push(Finding::error(
                    "vhdx-parent-linkage",
                    l.offset,
                    "the parent locator has no parent_linkage, so the parent cannot be verified",
                )),
                Some(t) if Guid::parse(t).is_none() => findings.push(Finding::error(
                    "vhdx-parent-linkage",
                    l.offset,
                    format!("the parent locator's parent_linkage \"{t}\" is not a GUID"),
                )),
                _ => {}
            }
            if ["relative_path", "volume_path", "absolute_win32_path"].iter().all(|k| v.get(k).is_none()) {
                findings.push(Finding::error(
                    "vhdx-parent-locator-paths",
                    l.offset,
                    "the parent locator has none of relative_path, volume_path and absolute_win32_path: the parent can only be given with --parent",
                ));
            }
        }
        (false, None) => {}
    }
}

/// Lists every entry header in the log region (`lb`, read at `log_offset`) with what became of
/// it: replayed (the active sequence of a dirty log), or why not.
fn list_log_region(log: &mut Log, lb: &[u8], log_offset: u64, header_guid: super::Guid) {
    let (found, note) = super::log::entries(lb, log_offset);
    if note.is_some() {
        log.region_note = note;
    }
    let active: Vec<u64> = log.entries.iter().map(|e| e.offset).collect();
    let first = log.entries.first().map(|e| e.value.sequence_number);
    let last = log.entries.last().map(|e| e.value.sequence_number);
    for f in found {
        let g = f.header.log_guid;
        let seq = f.header.sequence_number;
        let replayed = log.replayed && active.contains(&f.offset);
        let status = if replayed {
            "replayed in memory: an entry of the active sequence (its log GUID is the header's)".to_string()
        } else if let Some(why) = &f.problem {
            format!("does not verify ({why}): not replayed")
        } else if !log.dirty {
            "verifies, not replayed: the header's LogGuid is zero (the disk was closed cleanly), so this entry of an earlier session is not current: its writes were made to the file then".to_string()
        } else if g != header_guid {
            format!("verifies, not replayed: its log GUID {g} is not the header's LogGuid {header_guid}: an earlier session's entry, not current")
        } else if let (true, Some(a), Some(b)) = (log.replayed, first, last) {
            format!("verifies, not replayed: sequence number {seq} is not in the active sequence ({a} to {b}): an older entry, not current")
        } else {
            "verifies, not replayed: the log's active sequence does not verify, so nothing is replayed".to_string()
        };
        log.region.push(super::LogRegionEntry { found: f, replayed, status });
    }
}

/// Findings of five kinds about the BAT, each kind listed up to [`MAX_FINDINGS_PER_KIND`] times.
struct Notes {
    counts: [usize; 5],
    out: Vec<Finding>,
}

impl Notes {
    fn note(&mut self, kind: usize, f: Finding) {
        self.counts[kind] += 1;
        if self.counts[kind] <= MAX_FINDINGS_PER_KIND {
            self.out.push(f);
        }
    }

    /// The findings, with a count of each kind listed only in part.
    fn finish(mut self, bat_offset: u64, findings: &mut Vec<Finding>) {
        for (kind, code, what) in [
            (0, "vhdx-bat-state", "BAT entries have invalid states or reserved bits"),
            (1, "vhdx-block-past-eof", "blocks reach past the end of the file"),
            (2, "vhdx-block-overlaps-metadata", "blocks overlap metadata"),
            (3, "vhdx-blocks-overlap", "pairs of blocks overlap"),
            (4, "vhdx-bitmap-missing", "partially present blocks have no sector bitmap"),
        ] {
            if self.counts[kind] > MAX_FINDINGS_PER_KIND {
                self.out.push(Finding::new(
                    Severity::Error,
                    code,
                    Some(bat_offset),
                    format!("{} {what} in all; only the first {MAX_FINDINGS_PER_KIND} are listed", self.counts[kind]),
                ));
            }
        }
        findings.extend(self.out);
    }
}

/// Findings about the BAT: states the spec does not allow, blocks past the end of the file, in
/// the metadata or the log, and overlapping.
fn check_bat(v: &Vhdx, file_len: u64, findings: &mut Vec<Finding>) {
    let meta = v.metadata_ranges();
    let mut notes = Notes { counts: [0; 5], out: Vec::new() };
    let mut placed: Vec<(ByteRange, u64)> = Vec::new();
    // Every (chunk ratio + 1)th entry is a sector bitmap entry: counted, not divided, per entry.
    let period = v.chunk_ratio.saturating_add(1);
    let mut in_chunk = 0u64;
    for (i, &e) in v.bat.iter().enumerate() {
        in_chunk += 1;
        let is_bitmap = in_chunk == period;
        if is_bitmap {
            in_chunk = 0;
        }
        // Not present (either kind of entry), or a payload block undefined, zero or unmapped,
        // nothing reserved: allowed, and no data to place.
        if e & 0xf_fff8 == 0 && (e & 7 == 0 || (!is_bitmap && e & 7 <= 3)) {
            continue;
        }
        placed.extend(check_entry(v, (i as u64, e, is_bitmap), file_len, &meta, &mut notes));
    }
    placed.sort_unstable_by_key(|(r, _)| r.offset);
    for w in placed.windows(2) {
        if w[0].0.overlaps(&w[1].0) {
            let msg = format!(
                "BAT entries {} and {} put blocks over each other (at {:#x} and {:#x})",
                w[0].1, w[1].1, w[0].0.offset, w[1].0.offset
            );
            notes.note(3, Finding::error("vhdx-blocks-overlap", v.bat_offset + w[1].1 * 8, msg));
        }
    }
    if v.has_parent {
        for b in 0..v.payload_blocks_in_bat() {
            if v.block(b).0 == BlockState::PartiallyPresent && v.bitmap_range(b).is_none() {
                let msg = format!(
                    "payload block {b} is partially present but its sector bitmap block is not present: it is read from the parent"
                );
                notes.note(4, Finding::error("vhdx-bitmap-missing", v.bat_offset + v.payload_index(b) * 8, msg));
            }
        }
    }
    notes.finish(v.bat_offset, findings);
}

/// Checks BAT entry `i` (`e`, a sector bitmap entry when `is_bitmap`): its state and reserved
/// bits, and where its block lies. Returns the block's place when it has one.
fn check_entry(
    v: &Vhdx,
    (i, e, is_bitmap): (u64, u64, bool),
    file_len: u64,
    meta: &[(&'static str, ByteRange)],
    notes: &mut Notes,
) -> Option<(ByteRange, u64)> {
    let at = v.bat_offset + i * 8;
    let (state, reserved, mb) = bat_parts(e);
    let (what, len, ok_state, has_data) = if is_bitmap {
        ("sector bitmap block", MIB, matches!(state, 0 | 6), state == 6)
    } else {
        let s = BlockState::from_bits(state);
        let ok = !matches!(s, BlockState::Other(_)) && (s != BlockState::PartiallyPresent || v.has_parent);
        ("payload block", u64::from(v.block_size), ok, s.has_data())
    };
    // Named only for a finding: formatting it for every entry of a million-entry BAT was most of
    // the time of opening a 64 TiB disk.
    let name = || {
        if is_bitmap {
            format!("sector bitmap block {}", i / (v.chunk_ratio + 1))
        } else {
            format!("payload block {}", i - i / (v.chunk_ratio + 1))
        }
    };
    if !ok_state {
        let parentless = if state == 7 { " in a disk without a parent" } else { "" };
        let msg = format!("BAT entry {i} ({}) has state {state}, which the spec does not allow for a {what}{parentless}", name());
        notes.note(0, Finding::error("vhdx-bat-state", at, msg));
    }
    if reserved != 0 {
        notes.note(0, Finding::warning("vhdx-bat-reserved", at, format!("BAT entry {i} ({}) has reserved bits set", name())));
    }
    if !has_data {
        return None;
    }
    let r = ByteRange::new(mb.saturating_mul(MIB), len);
    if r.end() > file_len {
        let msg = format!(
            "BAT entry {i} puts {} at {:#x}, but its {len} bytes reach past the end of the file ({file_len} bytes)",
            name(),
            r.offset
        );
        notes.note(1, Finding::error("vhdx-block-past-eof", at, msg));
    }
    if let Some((m, _)) = meta.iter().find(|(_, m)| m.overlaps(&r)) {
        notes.note(
            2,
            Finding::error("vhdx-block-overlaps-metadata", at, format!("BAT entry {i} puts {} at {:#x}, inside the {m}", name(), r.offset)),
        );
    }
    Some((r, i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vhdx::writer::VhdxBuilder;

    /// Runs `open` round by round, handing it what it asks for; returns the ranges of each round.
    fn rounds(file: &[u8]) -> (Vec<Vec<ByteRange>>, Opened<Vhdx>) {
        let mut chunks: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut asked = Vec::new();
        let mut rounds = Rounds::default();
        loop {
            let fetch =
                |r: ByteRange| chunks.iter().find(|(o, b)| *o == r.offset && b.len() as u64 >= r.len).map(|(_, b)| &b[..r.len as usize]);
            let mut need = Vec::new();
            if let Some(o) = rounds.poll(file.len() as u64, &fetch, &mut need).unwrap() {
                return (asked, o);
            }
            for r in &need {
                chunks.push((r.offset, file[r.offset as usize..r.end() as usize].to_vec()));
            }
            asked.push(need);
        }
    }

    #[test]
    fn three_rounds_header_section_metadata_bat() {
        let file = VhdxBuilder::new(8 << 20).write(3 << 20, &[7; 4096]).build();
        let (asked, o) = rounds(&file);
        let v = &o.image;
        assert_eq!(asked.len(), 3, "{asked:?}");
        let section = [(0, 520), (0x10000, 4096), (0x20000, 4096), (0x30000, 0x10000), (0x40000, 0x10000)];
        assert_eq!(asked[0], section.map(|(o, l)| ByteRange::new(o, l)), "no more of the header section than its structures");
        assert_eq!(asked[1][0], ByteRange::new(v.metadata_region.file_offset, u64::from(v.metadata_region.length)));
        assert_eq!(asked[2], vec![ByteRange::new(v.bat_offset, v.bat.len() as u64 * 8)]);
        assert_eq!((v.virtual_disk_size, v.allocated_blocks()), (8 << 20, 1));
        assert_eq!(o.data_end, file.len() as u64);
    }

    #[test]
    fn a_poll_without_new_bytes_repeats_its_ask_and_the_findings_come_once() {
        let mut b = VhdxBuilder::new(8 << 20).write(3 << 20, &[7; 4096]);
        b.dirty_log = true;
        let file = b.build();
        let (_, by_rounds) = rounds(&file);
        // The same file with every byte there from the start: one poll.
        let whole = |r: ByteRange| file.get(r.offset as usize..r.end() as usize);
        let at_once = Rounds::default().poll(file.len() as u64, &whole, &mut Vec::new()).unwrap().unwrap();
        // And polled twice more in each round without the bytes it asks for.
        let mut given: Vec<ByteRange> = Vec::new();
        let mut r = Rounds::default();
        let slow = loop {
            let fetch = |q: ByteRange| {
                given.iter().any(|g| g.offset == q.offset && g.len >= q.len).then(|| &file[q.offset as usize..q.end() as usize])
            };
            let (mut first, mut again) = (Vec::new(), Vec::new());
            if let Some(o) = r.poll(file.len() as u64, &fetch, &mut first).unwrap() {
                break o;
            }
            assert!(r.poll(file.len() as u64, &fetch, &mut again).unwrap().is_none());
            assert_eq!(first, again, "the same ask");
            given.extend(first);
        };
        let codes = |o: &Opened<Vhdx>| o.findings.iter().map(|f| (f.code, f.offset)).collect::<Vec<_>>();
        assert!(codes(&at_once).iter().any(|(c, _)| *c == "vhdx-log-replayed"), "{:?}", codes(&at_once));
        assert_eq!(codes(&by_rounds), codes(&at_once));
        assert_eq!(codes(&slow), codes(&at_once));
        assert_eq!(format!("{:?}", slow.image), format!("{:?}", at_once.image));
    }
}
