//! LVM2 physical volumes, volume groups and logical volumes.
//!
//! A physical volume (PV) carries a label (`LABELONE`, in one of its first four 512-byte
//! sectors), a PV header (its UUID, size, and the lists of data and metadata areas), and in each
//! metadata area a header (` LVM2 x[5A%r0N*>`, checksummed) whose raw locations point at the
//! volume group's metadata: text in lvm2's config syntax (`vg { physical_volumes { ... }
//! logical_volumes { ... } }`), the newest (highest `seqno`) of all copies winning. Each logical
//! volume (LV) is a list of segments of extents; a linear or striped segment maps its extents to
//! the PVs' extents, which start at the PV's `pe_start`. Other segment types (thin pools, RAID,
//! mirrors, snapshots, caches) are named with a finding and not read.
//!
//! Offsets in findings and structures are virtual disk bytes. Everything is bounded: the
//! metadata text (at most [`MAX_TEXT`] bytes), its nesting and item count, the numbers of PVs,
//! LVs, segments and stripes, and every extent range is checked against its PV.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::bytes::{le32, le64};
use crate::error::{Error, Result};
use crate::fields::{Raw, Structure};
use crate::finding::Finding;
use crate::fs::ReadVirtual;

/// The most bytes of metadata text read from one metadata area.
pub const MAX_TEXT: u64 = 4 << 20;
/// The most bytes of metadata text kept from all the disk's metadata areas together.
pub const MAX_TEXT_TOTAL: u64 = 16 << 20;
/// The deepest nesting of sections and lists in the metadata text.
const MAX_DEPTH: usize = 16;
/// The most values (sections, keys, list items) parsed from one metadata text, and from all.
const MAX_ITEMS: usize = 200_000;
const MAX_ITEMS_TOTAL: usize = 400_000;
/// The most LVs, segments per LV, and stripes per segment taken from one VG.
const MAX_LVS: usize = 1024;
const MAX_SEGMENTS: usize = 4096;
const MAX_STRIPES: usize = 128;
/// The most metadata areas read from one PV header.
const MAX_AREAS: usize = 8;
/// The PV header's magic type, and the metadata area header's.
const LABEL_TYPE: &[u8; 8] = b"LVM2 001";
const MDA_MAGIC: &[u8; 16] = b"\x20LVM2\x20x[5A%r0N*>";
/// lvm2's CRC-32 seed (the reflected CRC-32 polynomial, no final inversion).
const CRC_SEED: u32 = 0xf597_a6cf;

/// lvm2's checksum of `data` (`calc_crc` with its seed).
pub fn crc(data: &[u8]) -> u32 {
    crate::bytes::crc32_update(CRC_SEED, data)
}

/// One physical volume found on the disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhysicalVolume {
    /// Its UUID as lvm2 writes it (`xxxxxx-xxxx-...`).
    pub id: String,
    /// Virtual byte offset of the device (partition) holding it.
    pub offset: u64,
    /// The device's length in bytes.
    pub len: u64,
    /// The partition holding it (0: the whole disk).
    pub partition: u32,
    /// The volume group its metadata names, when a metadata area is read.
    pub vg: Option<String>,
    /// Its own bytes (the label's sectors, the metadata areas), offsets in the PV: no extent may hold them.
    #[serde(skip)]
    pub reserved: Vec<(u64, u64)>,
}

/// Where one stripe of a segment lies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stripe {
    /// The PV's name in the metadata (`pv0`), or the LV it names.
    pub pv: String,
    /// The PV's UUID, when the metadata names one.
    pub id: Option<String>,
    /// The first extent on that PV.
    pub start_extent: u64,
    /// The partition holding that PV, when it is on this disk.
    pub partition: Option<u32>,
}

/// One segment of a logical volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// Its first extent in the LV.
    pub start_extent: u64,
    /// How many extents it has.
    pub extent_count: u64,
    /// lvm2's segment type: `striped` (linear when one stripe), `thin-pool`, `raid1`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The number of stripes (1: linear).
    pub stripes: u32,
    /// Bytes per stripe chunk (0 when linear).
    pub stripe_size: u64,
    /// The stripes' PVs and first extents.
    pub pvs: Vec<Stripe>,
}

/// One logical volume: `parts --json`'s `volumes` entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogicalVolume {
    /// The volume group's name.
    pub vg: String,
    /// The LV's name.
    pub lv: String,
    /// The LV's UUID.
    pub id: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its segments.
    pub segments: Vec<Segment>,
    /// The file system found in it (when its extents are all on this disk).
    pub filesystem: Option<crate::fs::FsKind>,
    /// The file system's label.
    pub label: Option<String>,
    /// The file system's UUID as Linux names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Why its bytes are not read, when they are not (a PV not on this disk, a thin or RAID segment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
    /// Where its bytes are on the disk, when all its extents are on this disk's PVs and its
    /// segments are read ([`crate::parts`] makes a partition of it).
    #[serde(skip)]
    pub map: Option<Arc<Map>>,
}

impl LogicalVolume {
    /// `VG/LV`, as `--volume` takes it.
    pub fn name(&self) -> String {
        format!("{}/{}", self.vg, self.lv)
    }
}

/// One run of an LV's bytes: `stripes` areas on the disk, read `stripe_size` bytes from each in turn.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Piece {
    /// First byte in the LV.
    start: u64,
    /// Bytes.
    len: u64,
    /// Bytes per stripe chunk (the whole piece when linear).
    stripe_size: u64,
    /// Each stripe's first byte on the disk.
    bases: Vec<u64>,
}

/// Where an LV's bytes are on the disk: its segments' extents, stripe by stripe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Map {
    pieces: Vec<Piece>,
    len: u64,
}

impl Map {
    /// The LV's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when it maps no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The disk byte holding the LV's byte `at`, and how many bytes from there are contiguous.
    pub fn locate(&self, at: u64) -> Option<(u64, u64)> {
        let i = self.pieces.partition_point(|p| p.start + p.len <= at);
        let p = self.pieces.get(i).filter(|p| p.start <= at)?;
        let local = at - p.start;
        let n = p.bases.len() as u64;
        let chunk = local / p.stripe_size;
        let inside = local % p.stripe_size;
        let base = p.bases[(chunk % n) as usize];
        let run = (p.stripe_size - inside).min(p.len - local);
        Some((base + (chunk / n) * p.stripe_size + inside, run))
    }

    /// The LV's byte at disk byte `disk`, when one of its extents holds it.
    pub fn reverse(&self, disk: u64) -> Option<u64> {
        self.pieces.iter().find_map(|p| {
            let n = p.bases.len() as u64;
            let area = p.len / n;
            let (i, base) = p.bases.iter().enumerate().find(|(_, &b)| disk >= b && disk - b < area)?;
            let rel = disk - base;
            Some(p.start + ((rel / p.stripe_size) * n + i as u64) * p.stripe_size + rel % p.stripe_size)
        })
    }

    /// Calls `f(disk, len, lv)` for each run of the disk bytes `[start, end)` that holds the LV's
    /// bytes `[lv, lv + len)`: stripe chunk by stripe chunk, in the pieces' order.
    pub fn runs(&self, start: u64, end: u64, mut f: impl FnMut(u64, u64, u64)) {
        for p in &self.pieces {
            let n = p.bases.len() as u64;
            let area = p.len / n;
            for (i, &b) in p.bases.iter().enumerate() {
                let (mut a, e) = (start.max(b), end.min(b + area));
                while a < e {
                    let rel = a - b;
                    let run = (p.stripe_size - rel % p.stripe_size).min(e - a);
                    f(a, run, p.start + ((rel / p.stripe_size) * n + i as u64) * p.stripe_size + rel % p.stripe_size);
                    a += run;
                }
            }
        }
    }

    /// Every disk byte range its extents take.
    pub fn areas(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.pieces.iter().flat_map(|p| p.bases.iter().map(move |&b| (b, b + p.len / p.bases.len() as u64)))
    }

    /// Fills `buf` with the LV's bytes at `at`, read from `src` (the whole disk).
    pub fn read<R: ReadVirtual + ?Sized>(&self, src: &mut R, at: u64, buf: &mut [u8]) -> Result<()> {
        let mut done = 0usize;
        while done < buf.len() {
            let pos = at + done as u64;
            let (disk, run) =
                self.locate(pos).ok_or(Error::ReadPastEnd { offset: pos, len: Some((buf.len() - done) as u64), size: self.len })?;
            let n = run.min((buf.len() - done) as u64) as usize;
            src.read_virtual(disk, &mut buf[done..done + n])?;
            done += n;
        }
        Ok(())
    }
}

impl crate::fs::Mapping for Map {
    fn read(&self, src: &mut dyn ReadVirtual, _start: u64, _len: u64, offset: u64, buf: &mut [u8]) -> Result<()> {
        Map::read(self, src, offset, buf)
    }

    fn size(&self) -> Option<u64> {
        Some(self.len)
    }

    fn locate(&self, _start: u64, offset: u64) -> Option<(u64, u64)> {
        Map::locate(self, offset)
    }
}

/// What was found: the PVs, the LVs, their structures and findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// The PVs on this disk.
    pub pvs: Vec<PhysicalVolume>,
    /// The LVs of their volume groups.
    pub volumes: Vec<LogicalVolume>,
    /// The label, PV header and metadata area headers, field by field.
    pub structures: Vec<Structure>,
    /// What is wrong or worth knowing.
    pub findings: Vec<Finding>,
}

/// One metadata text read from a metadata area.
struct Text {
    /// How many values its tree holds.
    items: usize,
    /// Virtual byte offset of the text.
    at: u64,
    seqno: u64,
    vg: String,
    value: Value,
    checksum_ok: bool,
    body: Vec<u8>,
}

/// Reads the PV label of the device `[offset, offset + len)` of `src` (partition `partition`),
/// when it has one; its metadata texts go to `texts`.
fn read_pv<R: ReadVirtual>(src: &mut R, (offset, len, partition): (u64, u64, u32), found: &mut Found, texts: &mut Vec<Text>) -> Result<()> {
    if len < 4 * 512 {
        return Ok(());
    }
    let mut head = vec![0u8; 4 * 512];
    src.read_virtual(offset, &mut head)?;
    let Some(s) = (0..4).find(|s| &head[s * 512..s * 512 + 8] == b"LABELONE") else {
        return Ok(());
    };
    let label = &head[s * 512..s * 512 + 512];
    let lbase = offset + s as u64 * 512;
    let sector = le64(label, 8);
    let stored = le32(label, 16);
    let content = le32(label, 20) as usize;
    let computed = crc(&label[20..]);
    let r = Raw { base: lbase, bytes: label };
    found.structures.push(Structure {
        name: format!("LVM2 label (partition {partition})"),
        offset: lbase,
        fields: vec![
            r.row((0, 8), "id", "Identifier", "LABELONE".into(), "marks an LVM2 physical volume's label", true),
            r.row((8, 8), "sector", "Sector", sector.to_string(), "the label's own sector (of 512 bytes)", sector == s as u64),
            r.row(
                (16, 4),
                "checksum",
                "Checksum",
                format!("{stored:#010x}"),
                "lvm2's CRC-32 of the label's bytes 20 to 511",
                stored == computed,
            ),
            r.row(
                (20, 4),
                "offset",
                "Contents offset",
                content.to_string(),
                "where the PV header starts in the label",
                (32..=400).contains(&content),
            ),
            r.row((24, 8), "type", "Type", String::from_utf8_lossy(&label[24..32]).into(), "LVM2 001", &label[24..32] == LABEL_TYPE),
        ],
    });
    if stored != computed {
        found.findings.push(Finding::error(
            "lvm-label-checksum",
            lbase + 16,
            format!("the LVM2 label's checksum is {stored:#010x}, its bytes give {computed:#010x}"),
        ));
    }
    if !(32..=400).contains(&content) || &label[24..32] != LABEL_TYPE {
        found.findings.push(Finding::error(
            "lvm-label",
            lbase + 20,
            "the LVM2 label's PV header offset or type is not lvm2's (32, \"LVM2 001\"): the PV is not read",
        ));
        return Ok(());
    }
    let h = &label[content..];
    let hbase = lbase + content as u64;
    let id = pv_id(&h[..32]);
    let dev_size = le64(h, 32);
    let hr = Raw { base: hbase, bytes: h };
    let mut fields = vec![
        hr.row((0, 32), "pv_uuid", "PV UUID", id.clone(), "the physical volume's identifier", true),
        hr.row((32, 8), "device_size", "Device size", dev_size.to_string(), "the PV's size in bytes", dev_size <= len),
    ];
    let mut at = 40usize;
    let mut mdas = Vec::new();
    for list in ["data", "metadata"] {
        for n in 0..=MAX_AREAS {
            if at + 16 > h.len() {
                break;
            }
            let (o, l) = (le64(h, at), le64(h, at + 8));
            if o == 0 && l == 0 {
                at += 16;
                break;
            }
            if n == MAX_AREAS {
                found.findings.push(Finding::error(
                    "lvm-areas",
                    hbase + at as u64,
                    format!("the PV header lists more than {MAX_AREAS} {list} areas"),
                ));
                return Ok(());
            }
            let (key, name) = if list == "data" { ("data_area", "Data area") } else { ("metadata_area", "Metadata area") };
            fields.push(hr.row(
                (at, 16),
                key,
                name,
                format!("offset {o}, size {l}"),
                "an area's offset and size in bytes (size 0: to the end)",
                o < len,
            ));
            if list == "metadata" {
                mdas.push((o, l));
            }
            at += 16;
        }
    }
    found.structures.push(Structure { name: format!("LVM2 PV header (partition {partition})"), offset: hbase, fields });
    let mut reserved = vec![(0, 4 * 512)];
    reserved.extend(mdas.iter().map(|&(o, l)| (o, o.saturating_add(l))));
    let first = texts.len();
    let read = mdas.into_iter().try_for_each(|(o, l)| read_mda(src, (offset, len, partition), (o, l), found, texts));
    let vg = texts.get(first..).and_then(|t| t.first()).map(|t| t.vg.clone());
    found.pvs.push(PhysicalVolume { id: id.clone(), offset, len, partition, vg, reserved });
    read
}

/// The 32 characters of a PV UUID as lvm2 writes it: 6-4-4-4-4-4-6.
fn pv_id(raw: &[u8]) -> String {
    let s: String = raw.iter().map(|&b| if b.is_ascii_alphanumeric() { b as char } else { '?' }).collect();
    let mut out = String::new();
    let mut i = 0;
    for (n, w) in [6, 4, 4, 4, 4, 4, 6].into_iter().enumerate() {
        if n > 0 {
            out.push('-');
        }
        out.push_str(&s[i..i + w]);
        i += w;
    }
    out
}

/// Reads the metadata area at `mda` (offset, size in the PV) and the text its first raw location names.
fn read_mda<R: ReadVirtual>(
    src: &mut R,
    (offset, len, partition): (u64, u64, u32),
    (mo, ml): (u64, u64),
    found: &mut Found,
    texts: &mut Vec<Text>,
) -> Result<()> {
    if !mo.checked_add(ml).is_some_and(|e| e <= len) || ml < 1024 {
        found.findings.push(Finding::error(
            "lvm-mda-range",
            offset,
            format!("the metadata area at {mo} ({ml} bytes) does not fit the PV's {len} bytes"),
        ));
        return Ok(());
    }
    let base = offset + mo;
    let mut h = vec![0u8; 512];
    src.read_virtual(base, &mut h)?;
    let stored = le32(&h, 0);
    let computed = crc(&h[4..]);
    let r = Raw { base, bytes: &h };
    let start = le64(&h, 24);
    let size = le64(&h, 32);
    let (ro, rl, rc, rf) = (le64(&h, 40), le64(&h, 48), le32(&h, 56), le32(&h, 60));
    found.structures.push(Structure {
        name: format!("LVM2 metadata area header (partition {partition}, at {mo})"),
        offset: base,
        fields: vec![
            r.row(
                (0, 4),
                "checksum",
                "Checksum",
                format!("{stored:#010x}"),
                "lvm2's CRC-32 of the header's bytes 4 to 511",
                stored == computed,
            ),
            r.row((4, 16), "magic", "Magic", String::from_utf8_lossy(&h[4..20]).into(), "\" LVM2 x[5A%r0N*>\"", &h[4..20] == MDA_MAGIC),
            r.row((20, 4), "version", "Version", le32(&h, 20).to_string(), "1", le32(&h, 20) == 1),
            r.row((24, 8), "start", "Start", start.to_string(), "the area's offset in the PV", start == mo),
            r.row((32, 8), "size", "Size", size.to_string(), "the area's size in bytes", size == ml),
            r.row(
                (40, 8),
                "text_offset",
                "Metadata offset",
                ro.to_string(),
                "where the newest metadata text starts, from the area's start",
                ro < ml,
            ),
            r.row((48, 8), "text_size", "Metadata size", rl.to_string(), "the text's length in bytes", rl < ml),
            r.row((56, 4), "text_checksum", "Metadata checksum", format!("{rc:#010x}"), "lvm2's CRC-32 of the text", true),
            r.row((60, 4), "flags", "Flags", format!("{rf:#x}"), "1: the area is ignored", rf & !1 == 0),
        ],
    });
    if &h[4..20] != MDA_MAGIC {
        found.findings.push(Finding::error(
            "lvm-mda-magic",
            base + 4,
            "the metadata area header's magic is not \" LVM2 x[5A%r0N*>\": the area is not read",
        ));
        return Ok(());
    }
    if stored != computed {
        found.findings.push(Finding::error(
            "lvm-mda-checksum",
            base,
            format!("the metadata area header's checksum is {stored:#010x}, its bytes give {computed:#010x}"),
        ));
    }
    if rf & 1 != 0 || rl == 0 {
        return Ok(());
    }
    if ro < 512 || ro >= ml || rl > ml - 512 {
        found.findings.push(Finding::error(
            "lvm-text-range",
            base + 40,
            format!("the metadata text at {ro} ({rl} bytes) does not fit its {ml}-byte area"),
        ));
        return Ok(());
    }
    if rl > MAX_TEXT {
        found.findings.push(Finding::error(
            "lvm-text-size",
            base + 48,
            format!("the metadata text is {rl} bytes; at most {MAX_TEXT} are read"),
        ));
        return Ok(());
    }
    let kept: u64 = texts.iter().map(|t| t.body.len() as u64).sum();
    if kept + rl > MAX_TEXT_TOTAL {
        found.findings.push(Finding::error(
            "lvm-text-total",
            base + 48,
            format!("this metadata text ({rl} bytes) is not read: the disk's metadata texts already read take {kept} of the {MAX_TEXT_TOTAL} bytes allowed"),
        ));
        return Ok(());
    }
    // The area is a ring after its 512-byte header: the text may wrap to the start.
    let mut body = vec![0u8; rl as usize];
    let first = rl.min(ml - ro) as usize;
    src.read_virtual(base + ro, &mut body[..first])?;
    if first < body.len() {
        src.read_virtual(base + 512, &mut body[first..])?;
    }
    let checksum_ok = crc(&body) == rc;
    if !checksum_ok {
        found.findings.push(Finding::error(
            "lvm-text-checksum",
            base + 56,
            format!("the metadata text's checksum is {rc:#010x}, its bytes give {:#010x}", crc(&body)),
        ));
    }
    let text_at = base + ro;
    // The values of all the texts kept are bounded too (the parsed tree is larger than its text).
    let used: usize = texts.iter().map(|t| t.items).sum();
    match parse_at_most(&body, MAX_ITEMS.min(MAX_ITEMS_TOTAL.saturating_sub(used))) {
        Ok((value, count)) => {
            let Some((vg, Value::Section(items))) =
                value.items().iter().find(|(_, v)| matches!(v, Value::Section(_))).map(|(k, v)| (k.clone(), v))
            else {
                found.findings.push(Finding::error("lvm-text", text_at, "the metadata text holds no volume group section"));
                return Ok(());
            };
            let seqno = get_int(items, "seqno").unwrap_or(0);
            texts.push(Text { at: text_at, seqno, vg, value, checksum_ok, body, items: count });
        }
        Err((at, why)) => {
            found.findings.push(Finding::error("lvm-text", text_at + at as u64, format!("the metadata text cannot be parsed: {why}")))
        }
    }
    Ok(())
}

/// A value of lvm2's config syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// An integer.
    Int(i64),
    /// A string (also a number that is not an integer).
    Str(String),
    /// `[a, b, ...]`.
    List(Vec<Value>),
    /// `name { key = value ... }` (also the whole text).
    Section(Vec<(String, Value)>),
}

impl Value {
    fn items(&self) -> &[(String, Value)] {
        match self {
            Value::Section(v) => v,
            _ => &[],
        }
    }
}

fn get<'a>(items: &'a [(String, Value)], key: &str) -> Option<&'a Value> {
    items.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn get_int(items: &[(String, Value)], key: &str) -> Option<u64> {
    match get(items, key) {
        Some(Value::Int(n)) => u64::try_from(*n).ok(),
        _ => None,
    }
}

fn get_str<'a>(items: &'a [(String, Value)], key: &str) -> Option<&'a str> {
    match get(items, key) {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    }
}

/// Parses lvm2's config syntax (as its metadata text is written): `key = value`, `name { ... }`,
/// values integers, strings and lists; `#` comments. Bounded in depth and items; the error
/// names the byte where it stopped.
pub fn parse(text: &[u8]) -> std::result::Result<Value, (usize, String)> {
    parse_at_most(text, MAX_ITEMS).map(|(v, _)| v)
}

/// [`parse`] with at most `limit` values; the value and how many it holds.
fn parse_at_most(text: &[u8], limit: usize) -> std::result::Result<(Value, usize), (usize, String)> {
    let mut p = Parser { s: text, i: 0, items: 0, limit };
    let items = p.section(0, true)?;
    Ok((Value::Section(items), p.items))
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    items: usize,
    limit: usize,
}

impl Parser<'_> {
    fn err<T>(&self, why: impl Into<String>) -> std::result::Result<T, (usize, String)> {
        Err((self.i, why.into()))
    }

    fn skip(&mut self) {
        while let Some(&c) = self.s.get(self.i) {
            if c == b'#' {
                while self.s.get(self.i).is_some_and(|&c| c != b'\n') {
                    self.i += 1;
                }
            } else if c.is_ascii_whitespace() || c == 0 {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn count(&mut self) -> std::result::Result<(), (usize, String)> {
        self.items += 1;
        if self.items > self.limit {
            return self.err(format!("more than {} values", self.limit));
        }
        Ok(())
    }

    fn section(&mut self, depth: usize, top: bool) -> std::result::Result<Vec<(String, Value)>, (usize, String)> {
        if depth > MAX_DEPTH {
            return self.err(format!("nested deeper than {MAX_DEPTH}"));
        }
        let mut items = Vec::new();
        loop {
            self.skip();
            match self.s.get(self.i) {
                None if top => return Ok(items),
                None => return self.err("the text ends inside a section"),
                Some(b'}') if !top => {
                    self.i += 1;
                    return Ok(items);
                }
                _ => {}
            }
            let start = self.i;
            while self.s.get(self.i).is_some_and(|&c| c.is_ascii_alphanumeric() || b"_-.+".contains(&c)) {
                self.i += 1;
            }
            if self.i == start {
                return self.err(format!("unexpected byte {:#04x}", self.s[self.i]));
            }
            let key = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
            self.count()?;
            self.skip();
            match self.s.get(self.i) {
                Some(b'{') => {
                    self.i += 1;
                    let inner = self.section(depth + 1, false)?;
                    items.push((key, Value::Section(inner)));
                }
                Some(b'=') => {
                    self.i += 1;
                    let v = self.value(depth + 1)?;
                    items.push((key, v));
                }
                _ => return self.err(format!("`{key}` is followed by neither `=` nor `{{`")),
            }
        }
    }

    fn value(&mut self, depth: usize) -> std::result::Result<Value, (usize, String)> {
        if depth > MAX_DEPTH {
            return self.err(format!("nested deeper than {MAX_DEPTH}"));
        }
        self.count()?;
        self.skip();
        match self.s.get(self.i) {
            Some(b'[') => {
                self.i += 1;
                let mut v = Vec::new();
                loop {
                    self.skip();
                    match self.s.get(self.i) {
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Value::List(v));
                        }
                        Some(b',') if !v.is_empty() => self.i += 1,
                        None => return self.err("the text ends inside a list"),
                        _ => v.push(self.value(depth + 1)?),
                    }
                }
            }
            Some(b'"') => {
                self.i += 1;
                let mut out = Vec::new();
                loop {
                    match self.s.get(self.i) {
                        None => return self.err("the text ends inside a string"),
                        Some(b'"') => break,
                        Some(b'\\') => {
                            self.i += 1;
                            if let Some(&c) = self.s.get(self.i) {
                                out.push(c);
                            }
                        }
                        Some(&c) => out.push(c),
                    }
                    self.i += 1;
                }
                self.i += 1;
                Ok(Value::Str(String::from_utf8_lossy(&out).into_owned()))
            }
            Some(c) if c.is_ascii_digit() || *c == b'-' || *c == b'+' => {
                let start = self.i;
                while self.s.get(self.i).is_some_and(|&c| c.is_ascii_alphanumeric() || b"-+.".contains(&c)) {
                    self.i += 1;
                }
                let t = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                Ok(t.parse::<i64>().map(Value::Int).unwrap_or(Value::Str(t)))
            }
            _ => self.err("a value was expected"),
        }
    }
}

/// Finds the LVM2 PVs among `devices` (virtual byte offset, length, partition number) of `src`
/// and the logical volumes of their volume groups.
pub fn scan<R: ReadVirtual>(src: &mut R, devices: &[(u64, u64, u32)]) -> Found {
    let mut found = Found::default();
    let mut texts = Vec::new();
    for &d in devices {
        if let Err(e) = read_pv(src, d, &mut found, &mut texts) {
            found.findings.push(Finding::error("lvm-read", d.0, format!("partition {}'s LVM2 label or metadata cannot be read: {e}", d.2)));
        }
    }
    // One VG per name: the newest text wins; copies of the same seqno must agree.
    let mut names: Vec<String> = texts.iter().map(|t| t.vg.clone()).collect();
    names.dedup();
    names.sort();
    names.dedup();
    for name in names {
        let copies: Vec<&Text> = texts.iter().filter(|t| t.vg == name).collect();
        let Some(best) = copies.iter().filter(|t| t.checksum_ok).max_by_key(|t| t.seqno).or(copies.iter().max_by_key(|t| t.seqno)) else {
            continue;
        };
        for t in &copies {
            if t.seqno != best.seqno {
                found.findings.push(Finding::warning(
                    "lvm-metadata-stale",
                    t.at,
                    format!(
                        "this copy of volume group {name}'s metadata has sequence number {}, another {}: the newer is read",
                        t.seqno, best.seqno
                    ),
                ));
            } else if t.body != best.body && t.value != best.value {
                found.findings.push(Finding::error(
                    "lvm-metadata-disagree",
                    t.at,
                    format!("two copies of volume group {name}'s metadata have sequence number {} but differ", t.seqno),
                ));
            }
        }
        volume_group(&name, best, &mut found);
    }
    found
}

/// The LVs of the VG whose newest metadata is `text`.
fn volume_group(name: &str, text: &Text, found: &mut Found) {
    let vg = get(text.value.items(), name).map(Value::items).unwrap_or(&[]);
    let Some(extent) = get_int(vg, "extent_size").filter(|&e| e > 0 && e <= 1 << 32).map(|e| e * 512) else {
        found.findings.push(Finding::error("lvm-extent-size", text.at, format!("volume group {name} has no valid extent_size")));
        return;
    };
    // The VG's PVs: name -> (UUID, pe_start in bytes, pe_count).
    let mut pvs: HashMap<&str, (String, u64, u64)> = HashMap::new();
    for (pv, v) in get(vg, "physical_volumes").map(Value::items).unwrap_or(&[]) {
        let it = v.items();
        let id = get_str(it, "id").unwrap_or("").to_string();
        let pe_start = get_int(it, "pe_start").unwrap_or(0).saturating_mul(512);
        pvs.insert(pv.as_str(), (id, pe_start, get_int(it, "pe_count").unwrap_or(0)));
    }
    let lvs = get(vg, "logical_volumes").map(Value::items).unwrap_or(&[]);
    if lvs.len() > MAX_LVS {
        found.findings.push(Finding::error(
            "lvm-lvs",
            text.at,
            format!("volume group {name} has {} LVs; the first {MAX_LVS} are read", lvs.len()),
        ));
    }
    for (lv, v) in lvs.iter().take(MAX_LVS) {
        let it = v.items();
        let visible = matches!(get(it, "status"), Some(Value::List(s)) if s.contains(&Value::Str("VISIBLE".into())));
        if !visible {
            continue;
        }
        let mut vol = LogicalVolume {
            vg: name.to_string(),
            lv: lv.clone(),
            id: get_str(it, "id").unwrap_or("").to_string(),
            size: 0,
            segments: Vec::new(),
            filesystem: None,
            label: None,
            uuid: None,
            unreadable: None,
            map: None,
        };
        let mut pieces = Vec::new();
        let mut why: Option<String> = None;
        let mut next = 0u64;
        let segs: Vec<&Value> = it.iter().filter(|(k, _)| k.starts_with("segment") && k != "segment_count").map(|(_, v)| v).collect();
        if segs.len() > MAX_SEGMENTS {
            why.get_or_insert(format!("it has {} segments, more than the {MAX_SEGMENTS} read", segs.len()));
        }
        for s in segs.into_iter().take(MAX_SEGMENTS) {
            let si = s.items();
            let start_extent = get_int(si, "start_extent").unwrap_or(u64::MAX);
            let extent_count = get_int(si, "extent_count").unwrap_or(0);
            let kind = get_str(si, "type").unwrap_or("").to_string();
            let mut seg = Segment { start_extent, extent_count, kind: kind.clone(), stripes: 0, stripe_size: 0, pvs: Vec::new() };
            if kind != "striped" {
                // One finding per LV: its first segment of another type.
                if !vol.segments.iter().any(|s| s.kind != "striped") {
                    found.findings.push(Finding::info(
                        "lvm-segment-type",
                        text.at,
                        format!("logical volume {name}/{lv} has a `{kind}` segment (thin pools, thin volumes, RAID, mirrors, snapshots and caches are named, not read)"),
                    ));
                }
                why.get_or_insert(format!(
                    "its segment at extent {start_extent} is of type `{kind}`, which this viewer names but does not read"
                ));
                vol.segments.push(seg);
                continue;
            }
            let list = match get(si, "stripes") {
                Some(Value::List(l)) => l.as_slice(),
                _ => &[],
            };
            let n = list.len() / 2;
            let count = get_int(si, "stripe_count").unwrap_or(n as u64);
            seg.stripes = count.min(u64::from(u32::MAX)) as u32;
            seg.stripe_size = get_int(si, "stripe_size").unwrap_or(0).saturating_mul(512);
            let mut bases = Vec::new();
            for pair in list.chunks(2).take(MAX_STRIPES) {
                let (pv, first) = match pair {
                    [Value::Str(p), Value::Int(e)] if *e >= 0 => (p.clone(), *e as u64),
                    _ => {
                        why.get_or_insert(format!("its segment at extent {start_extent} has a malformed stripes list"));
                        continue;
                    }
                };
                let known = pvs.get(pv.as_str());
                let here = known.and_then(|(id, ..)| found.pvs.iter().find(|p| &p.id == id));
                seg.pvs.push(Stripe {
                    pv: pv.clone(),
                    id: known.map(|k| k.0.clone()),
                    start_extent: first,
                    partition: here.map(|p| p.partition),
                });
                let (Some((_, pe_start, pe_count)), Some(dev)) = (known, here) else {
                    why.get_or_insert(match known {
                        Some((id, ..)) => format!("it needs physical volume {pv} ({id}), which is not on this disk"),
                        None => format!("it names {pv}, which is not a physical volume of {name}"),
                    });
                    continue;
                };
                let area = extent_count.checked_div(count).unwrap_or(0);
                if first.saturating_add(area) > *pe_count || pe_start.saturating_add((first + area).saturating_mul(extent)) > dev.len {
                    why.get_or_insert(format!("its extents {first}..{} on {pv} lie past that PV's end", first.saturating_add(area)));
                    continue;
                }
                let (a, b) = (pe_start + first * extent, pe_start + (first + area) * extent);
                if dev.reserved.iter().any(|&(s, e)| a < e && s < b) {
                    why.get_or_insert(format!("its extents {first}..{} on {pv} overlap that PV's label or metadata area", first + area));
                    continue;
                }
                bases.push(dev.offset + pe_start + first * extent);
            }
            let bytes = extent_count.saturating_mul(extent);
            let sane = count >= 1
                && count as usize == n
                && n <= MAX_STRIPES
                && start_extent == next
                && extent_count > 0
                && extent_count % count == 0
                && (count == 1 || seg.stripe_size > 0 && extent % seg.stripe_size == 0);
            if !sane {
                why.get_or_insert(format!(
                    "its segment at extent {start_extent} is not a readable striped segment ({count} stripes of {} listed, {extent_count} extents, stripe size {})",
                    n, seg.stripe_size
                ));
            }
            if why.is_none() && bases.len() == n {
                let stripe_size = if count == 1 { bytes } else { seg.stripe_size };
                pieces.push(Piece { start: next.saturating_mul(extent), len: bytes, stripe_size, bases });
            }
            next = next.saturating_add(extent_count);
            vol.segments.push(seg);
        }
        vol.size = next.saturating_mul(extent);
        if vol.segments.is_empty() {
            why.get_or_insert("it has no segments".into());
        }
        match why {
            Some(w) => {
                found.findings.push(Finding::warning("lvm-lv-unreadable", text.at, format!("logical volume {name}/{lv} is not read: {w}")));
                vol.unreadable = Some(w);
            }
            None => vol.map = Some(Arc::new(Map { pieces, len: vol.size })),
        }
        found.volumes.push(vol);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lvm2_config_text_and_refuses_damage_with_the_byte() {
        let v = parse(b"# c\nvg {\nid = \"a-b\"\nseqno = 3\nlist = [\"pv0\", 0, \"pv1\", 7]\nx { y = -1 }\n}\nversion = 1\n").unwrap();
        let vg = get(v.items(), "vg").unwrap().items();
        assert_eq!(get_str(vg, "id"), Some("a-b"));
        assert_eq!(get_int(vg, "seqno"), Some(3));
        assert_eq!(
            get(vg, "list"),
            Some(&Value::List(vec![Value::Str("pv0".into()), Value::Int(0), Value::Str("pv1".into()), Value::Int(7)]))
        );
        assert_eq!(get(get(vg, "x").unwrap().items(), "y"), Some(&Value::Int(-1)));
        assert_eq!(parse(b"vg { a = 1 ").unwrap_err().0, 11);
        assert!(parse(b"a = \"open").is_err());
        let deep = "a {".repeat(100);
        assert!(parse(deep.as_bytes()).unwrap_err().1.contains("deeper"));
        let wide = format!("a = [{}]", "1,".repeat(MAX_ITEMS + 1));
        assert!(parse(wide.as_bytes()).unwrap_err().1.contains("values"));
    }

    #[test]
    fn a_striped_map_reads_chunk_by_chunk_across_its_stripes() {
        let m = Map {
            pieces: vec![
                Piece { start: 0, len: 8, stripe_size: 2, bases: vec![100, 200] },
                Piece { start: 8, len: 4, stripe_size: 4, bases: vec![50] },
            ],
            len: 12,
        };
        assert_eq!(m.locate(0), Some((100, 2)));
        assert_eq!(m.locate(3), Some((201, 1)));
        assert_eq!(m.locate(5), Some((103, 1)));
        assert_eq!(m.locate(9), Some((51, 3)));
        assert_eq!(m.locate(12), None);
        for at in 0..12 {
            assert_eq!(m.reverse(m.locate(at).unwrap().0), Some(at));
        }
        assert_eq!(m.reverse(99), None);
        let mut runs = Vec::new();
        m.runs(0, 1000, |d, n, lv| runs.push((d, n, lv)));
        assert_eq!(runs, [(100, 2, 0), (102, 2, 4), (200, 2, 2), (202, 2, 6), (50, 4, 8)]);
        runs.clear();
        m.runs(101, 201, |d, n, lv| runs.push((d, n, lv)));
        assert_eq!(runs, [(101, 1, 1), (102, 2, 4), (200, 1, 2)]);
        assert_eq!(m.areas().collect::<Vec<_>>(), [(100, 104), (200, 204), (50, 54)]);
    }

    #[test]
    fn lvm_checksum_is_crc32_seeded_without_final_inversion() {
        // lvm2's calc_crc over nothing is its seed.
        assert_eq!(crc(&[]), CRC_SEED);
        assert_ne!(crc(b"a"), crc(b"b"));
    }
}
