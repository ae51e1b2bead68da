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
//! The structures are the labels, PV headers and metadata area headers, and from the newest
//! text the volume group, its PVs, LVs and segments, each field at the bytes of the text where
//! it is written. Offsets in findings and structures are virtual disk bytes (after a ring's
//! wrap, where the wrapped bytes are). Everything is bounded: each device is cut to the disk
//! and read once, each metadata area once; the metadata text (at most [`MAX_TEXT`] bytes from
//! one area, 16 MiB read from all, parsed or not), its nesting and value count, the numbers of
//! LVs (across all VGs), segments and stripes; every extent range is checked against its PV in
//! checked arithmetic, and an LV's areas on the disk may not overlap.

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
/// The most bytes of metadata text read from all the disk's metadata areas together (parsed or not).
const MAX_TEXT_TOTAL: u64 = 16 << 20;
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
#[derive(Debug, Clone, PartialEq, Eq)]
struct PhysicalVolume {
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

impl Segment {
    /// The segment in words: `linear on P`, `N stripes of SIZE on P,Q`, or its type; each stripe's
    /// place as `place` names it (its partition, or `None` with the PV's name when the PV is
    /// not on this disk), joined by `sep`.
    pub fn words(&self, place: impl Fn(Option<u32>, &str) -> String, sep: &str) -> String {
        let on = self.pvs.iter().map(|p| place(p.partition, &p.pv)).collect::<Vec<_>>().join(sep);
        match (self.kind.as_str(), self.stripes) {
            ("striped", 1) => format!("linear on {on}"),
            ("striped", n) => format!("{n} stripes of {} on {on}", crate::values::human_size(self.stripe_size)),
            (k, _) => k.to_string(),
        }
    }
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
    /// Why its free space is not trimmed, when copies of its volume group's metadata at one
    /// sequence number disagree (what one calls free the other may hold).
    #[serde(skip)]
    pub disputed: Option<String>,
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

impl Piece {
    /// Bytes of each stripe's area on the disk.
    fn area(&self) -> u64 {
        self.len / self.bases.len() as u64
    }

    /// The LV's byte at byte `rel` of stripe `i`'s area.
    fn lv_offset(&self, i: usize, rel: u64) -> u64 {
        let n = self.bases.len() as u64;
        self.start + ((rel / self.stripe_size) * n + i as u64) * self.stripe_size + rel % self.stripe_size
    }
}

/// Where an LV's bytes are on the disk: its segments' extents, stripe by stripe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Map {
    pieces: Vec<Piece>,
    len: u64,
    /// Every stripe's disk bytes `[start, end)` with its piece and stripe, sorted by start and
    /// never overlapping ([`Map::new`] refuses that), for binary searches from the disk's side.
    areas: Vec<(u64, u64, usize, usize)>,
}

impl Map {
    /// The map of `pieces` (in LV order, each starting where the last ends), or `None` when two
    /// of their areas on the disk overlap or a piece ends past `u64`.
    fn new(pieces: Vec<Piece>) -> Option<Map> {
        let mut areas = Vec::new();
        let mut len = 0u64;
        for (i, p) in pieces.iter().enumerate() {
            if p.start != len || p.bases.is_empty() || p.stripe_size == 0 {
                return None;
            }
            len = p.start.checked_add(p.len)?;
            let area = p.area();
            for (j, &b) in p.bases.iter().enumerate() {
                areas.push((b, b.checked_add(area)?, i, j));
            }
        }
        areas.sort_unstable();
        if areas.windows(2).any(|w| w[1].0 < w[0].1) {
            return None;
        }
        Some(Map { pieces, len, areas })
    }

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
        let k = self.areas.partition_point(|a| a.1 <= disk);
        let &(b, _, i, j) = self.areas.get(k).filter(|a| a.0 <= disk)?;
        Some(self.pieces[i].lv_offset(j, disk - b))
    }

    /// Calls `f(disk, len, lv)` for each run of the disk bytes `[start, end)` that holds the LV's
    /// bytes `[lv, lv + len)`: stripe chunk by stripe chunk, in the disk's order.
    pub fn runs(&self, start: u64, end: u64, mut f: impl FnMut(u64, u64, u64)) {
        let from = self.areas.partition_point(|a| a.1 <= start);
        for &(b, e, i, j) in self.areas[from..].iter().take_while(|a| a.0 < end) {
            let p = &self.pieces[i];
            let (mut a, e) = (start.max(b), end.min(e));
            while a < e {
                let rel = a - b;
                let run = (p.stripe_size - rel % p.stripe_size).min(e - a);
                f(a, run, p.lv_offset(j, rel));
                a += run;
            }
        }
    }

    /// Every disk byte range its extents take, in the disk's order.
    pub fn areas(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.areas.iter().map(|a| (a.0, a.1))
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

/// An unlocked BitLocker volume inside an LV: decrypted from the LV's bytes where `map` puts them.
pub struct Inside {
    /// The LV's extents.
    pub map: Arc<Map>,
    /// What decrypts the volume, reading the LV's bytes as a disk of its own.
    pub unlock: crate::bitlocker::Unlock,
}

impl crate::fs::Mapping for Inside {
    fn read(&self, src: &mut dyn ReadVirtual, _start: u64, _len: u64, offset: u64, buf: &mut [u8]) -> Result<()> {
        let len = self.map.len;
        self.unlock.decrypt().read(&mut Through { src, map: &self.map }, 0, len, offset, buf)
    }

    fn size(&self) -> Option<u64> {
        Some(self.unlock.decrypt().size().map_or(self.map.len, |n| n.min(self.map.len)))
    }

    fn locate(&self, _start: u64, offset: u64) -> Option<(u64, u64)> {
        let (at, run) = self.unlock.decrypt().locate(0, offset)?;
        let (disk, more) = self.map.locate(at)?;
        Some((disk, run.min(more)))
    }
}

/// An LV's bytes as a disk of their own.
struct Through<'a> {
    src: &'a mut dyn ReadVirtual,
    map: &'a Map,
}

impl ReadVirtual for Through<'_> {
    fn size(&self) -> u64 {
        self.map.len
    }

    fn sector_size(&self) -> u32 {
        self.src.sector_size()
    }

    fn read_virtual(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.map.read(&mut *self.src, offset, buf)
    }
}

/// What was found: the PVs, the LVs, their structures and findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// The PVs on this disk.
    pvs: Vec<PhysicalVolume>,
    /// The LVs of their volume groups.
    pub volumes: Vec<LogicalVolume>,
    /// The labels, PV headers and metadata area headers, and the volume groups, PVs, LVs and
    /// segments of the metadata text, field by field.
    pub structures: Vec<Structure>,
    /// What is wrong or worth knowing.
    pub findings: Vec<Finding>,
}

impl Found {
    /// Each physical volume's partition and virtual byte offset, with the volume group its
    /// metadata names (PVs whose metadata was not read are left out).
    pub fn pv_groups(&self) -> impl Iterator<Item = (u32, u64, &str)> + '_ {
        self.pvs.iter().filter_map(|p| Some((p.partition, p.offset, p.vg.as_deref()?)))
    }

    /// The PVs' own bytes on the disk (virtual byte offset, length, what they are): each label's
    /// four sectors and each metadata area.
    pub fn areas(&self) -> impl Iterator<Item = (u64, u64, String)> + '_ {
        self.pvs.iter().flat_map(|p| {
            p.reserved.iter().enumerate().map(move |(i, &(s, e))| {
                let what = if i == 0 { "LVM2 physical volume label" } else { "LVM2 metadata area" };
                (p.offset + s, e.min(p.len).saturating_sub(s), format!("{what} (partition {})", p.partition))
            })
        })
    }
}

/// One metadata text read from a metadata area.
struct Text {
    /// Virtual byte offset of the text's first byte.
    at: u64,
    /// Its bytes before the area's end, and the virtual byte offset where the rest is (after
    /// the area's header: the area is a ring).
    first: u64,
    wrapped: u64,
    seqno: u64,
    /// The volume group's name and UUID.
    vg: String,
    id: String,
    value: Value,
    checksum_ok: bool,
    body: Vec<u8>,
}

impl Text {
    /// The virtual byte offset of the text's byte `i`.
    fn disk(&self, i: usize) -> u64 {
        disk_of(self.at, self.first, self.wrapped, i)
    }
}

/// The virtual byte offset of byte `i` of a text at `at` whose bytes from `first` on are at `wrapped`.
fn disk_of(at: u64, first: u64, wrapped: u64, i: usize) -> u64 {
    let i = i as u64;
    if i < first {
        at + i
    } else {
        wrapped + (i - first)
    }
}

/// What one scan has read so far: to bound it, and to read no device, area or PV twice.
#[derive(Default)]
struct Scan {
    texts: Vec<Text>,
    /// Bytes of metadata text read and values parsed, from every area (kept or not).
    read: u64,
    items: usize,
    /// Virtual byte offsets of the metadata areas read, and the PVs' UUIDs found.
    areas: std::collections::HashSet<u64>,
    ids: std::collections::HashSet<String>,
}

/// Whether the 512 bytes `label` are an LVM2 label lvm2 takes in sector `s`: `LABELONE`, its
/// own sector number, its checksum right.
fn label_ok(label: &[u8], s: usize) -> bool {
    &label[..8] == b"LABELONE" && le64(label, 8) == s as u64 && le32(label, 16) == crc(&label[20..])
}

/// Reads the PV label of the device `[offset, offset + len)` of `src` (partition `partition`),
/// when it has one; its metadata texts go to `scan`.
fn read_pv<R: ReadVirtual>(src: &mut R, (offset, len, partition): (u64, u64, u32), found: &mut Found, scan: &mut Scan) -> Result<()> {
    if len < 4 * 512 {
        return Ok(());
    }
    let mut head = vec![0u8; 4 * 512];
    src.read_virtual(offset, &mut head)?;
    // As lvm2: the first sector whose label is whole; else the first that says `LABELONE`, read
    // with what is wrong with it.
    let Some(s) = (0..4)
        .find(|&s| label_ok(&head[s * 512..s * 512 + 512], s))
        .or_else(|| (0..4).find(|s| &head[s * 512..s * 512 + 8] == b"LABELONE"))
    else {
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
    if sector != s as u64 {
        found.findings.push(Finding::error(
            "lvm-label-sector",
            lbase + 8,
            format!("the LVM2 label in sector {s} says it is in sector {sector}"),
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
            // As lvm2: a list ends at an offset of 0, whatever the size.
            if o == 0 {
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
    if !scan.ids.insert(id.clone()) {
        let first = found.pvs.iter().find(|p| p.id == id).map_or(0, |p| p.partition);
        found.findings.push(Finding::error(
            "lvm-pv-duplicate",
            hbase,
            format!("partition {partition} holds physical volume {id}, which partition {first} holds too: the first is read"),
        ));
        return Ok(());
    }
    let mut reserved = vec![(0, 4 * 512)];
    reserved.extend(mdas.iter().map(|&(o, l)| (o, o.saturating_add(l))));
    found.pvs.push(PhysicalVolume { id: id.clone(), offset, len, partition, vg: None, reserved });
    let first = scan.texts.len();
    let read = mdas.into_iter().try_for_each(|(o, l)| read_mda(src, (offset, len, partition), (o, l), found, scan));
    let vg = scan.texts.get(first..).and_then(|t| t.first()).map(|t| t.vg.clone());
    if let Some(pv) = found.pvs.last_mut() {
        pv.vg = vg;
    }
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
    scan: &mut Scan,
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
    // Each area once, whichever device names it.
    if !scan.areas.insert(base) {
        return Ok(());
    }
    let mut h = vec![0u8; 512];
    src.read_virtual(base, &mut h)?;
    let stored = le32(&h, 0);
    let computed = crc(&h[4..]);
    let r = Raw { base, bytes: &h };
    let version = le32(&h, 20);
    let start = le64(&h, 24);
    let size = le64(&h, 32);
    let (ro, rl, rc, rf) = (le64(&h, 40), le64(&h, 48), le32(&h, 56), le32(&h, 60));
    let mut fields = vec![
        r.row(
            (0, 4),
            "checksum",
            "Checksum",
            format!("{stored:#010x}"),
            "lvm2's CRC-32 of the header's bytes 4 to 511",
            stored == computed,
        ),
        r.row((4, 16), "magic", "Magic", String::from_utf8_lossy(&h[4..20]).into(), "\" LVM2 x[5A%r0N*>\"", &h[4..20] == MDA_MAGIC),
        r.row((20, 4), "version", "Version", version.to_string(), "1", version == 1),
        r.row((24, 8), "start", "Start", start.to_string(), "the area's offset in the PV", start == mo),
        r.row((32, 8), "size", "Size", size.to_string(), "the area's size in bytes", size == ml),
        r.row(
            (40, 8),
            "text_offset",
            "Metadata offset",
            ro.to_string(),
            "where the newest metadata text starts, from the area's start",
            ro < size,
        ),
        r.row((48, 8), "text_size", "Metadata size", rl.to_string(), "the text's length in bytes", rl < size),
        r.row((56, 4), "text_checksum", "Metadata checksum", format!("{rc:#010x}"), "lvm2's CRC-32 of the text", true),
        r.row((60, 4), "flags", "Flags", format!("{rf:#x}"), "1: the area is ignored", rf & !1 == 0),
    ];
    let text = read_text(src, base, (version, start, size, mo, ml), (ro, rl, rc, rf), &h, found, scan);
    // The text's checksum is right only when the text was read and matched it.
    fields[7].ok = text.unwrap_or(false);
    found.structures.push(Structure { name: format!("LVM2 metadata area header (partition {partition}, at {mo})"), offset: base, fields });
    Ok(())
}

/// Reads and parses the metadata text the area header `h` at `base` names (`version, start,
/// size` its own fields, `mo, ml` the area as the PV header gives it; `ro, rl, rc, rf` the raw
/// location); the text goes to `scan`. Whether its checksum is right, when it was read.
fn read_text<R: ReadVirtual>(
    src: &mut R,
    base: u64,
    (version, start, size, mo, ml): (u32, u64, u64, u64, u64),
    (ro, rl, rc, rf): (u64, u64, u32, u32),
    h: &[u8],
    found: &mut Found,
    scan: &mut Scan,
) -> Option<bool> {
    if &h[4..20] != MDA_MAGIC {
        found.findings.push(Finding::error(
            "lvm-mda-magic",
            base + 4,
            "the metadata area header's magic is not \" LVM2 x[5A%r0N*>\": the area is not read",
        ));
        return None;
    }
    let (stored, computed) = (le32(h, 0), crc(&h[4..]));
    if stored != computed {
        found.findings.push(Finding::error(
            "lvm-mda-checksum",
            base,
            format!("the metadata area header's checksum is {stored:#010x}, its bytes give {computed:#010x}"),
        ));
    }
    if version != 1 || start != mo || size > ml || size < 1024 {
        found.findings.push(Finding::error(
            "lvm-mda-header",
            base + 20,
            format!(
                "the metadata area header says version {version}, start {start}, size {size}; lvm2 writes version 1 and the area's own start ({mo}) and at most its size ({ml}): the area is not read"
            ),
        ));
        return None;
    }
    if rf & 1 != 0 || rl == 0 {
        return None;
    }
    // Bounds and the ring's wrap from the header's own size, as lvm2 (format-text.c).
    if ro < 512 || ro >= size || rl > size - 512 {
        found.findings.push(Finding::error(
            "lvm-text-range",
            base + 40,
            format!("the metadata text at {ro} ({rl} bytes) does not fit its {size}-byte area"),
        ));
        return None;
    }
    if rl > MAX_TEXT {
        found.findings.push(Finding::error(
            "lvm-text-size",
            base + 48,
            format!("the metadata text is {rl} bytes; at most {MAX_TEXT} are read"),
        ));
        return None;
    }
    if scan.read + rl > MAX_TEXT_TOTAL {
        found.findings.push(Finding::error(
            "lvm-text-total",
            base + 48,
            format!(
                "this metadata text ({rl} bytes) is not read: the disk's metadata texts already read take {} of the {MAX_TEXT_TOTAL} bytes allowed",
                scan.read
            ),
        ));
        return None;
    }
    scan.read += rl;
    // The area is a ring after its 512-byte header: the text may wrap to the start.
    let mut body = vec![0u8; rl as usize];
    let first = rl.min(size - ro);
    let (at, wrapped) = (base + ro, base + 512);
    if let Err(e) = src.read_virtual(at, &mut body[..first as usize]).and_then(|()| {
        if first < rl {
            src.read_virtual(wrapped, &mut body[first as usize..])
        } else {
            Ok(())
        }
    }) {
        found.findings.push(Finding::error("lvm-read", at, format!("the metadata text cannot be read: {e}")));
        return None;
    }
    let checksum_ok = crc(&body) == rc;
    if !checksum_ok {
        found.findings.push(Finding::error(
            "lvm-text-checksum",
            base + 56,
            format!("the metadata text's checksum is {rc:#010x}, its bytes give {:#010x}", crc(&body)),
        ));
    }
    // The values of all the texts parsed are bounded too (the parsed tree is larger than its text).
    let (parsed, count) = parse_at_most(&body, MAX_ITEMS.min(MAX_ITEMS_TOTAL.saturating_sub(scan.items)));
    scan.items += count;
    match parsed {
        Ok(value) => {
            let Some(e) = value.items().iter().find(|e| matches!(e.value, Value::Section(_))) else {
                found.findings.push(Finding::error("lvm-text", at, "the metadata text holds no volume group section"));
                return Some(checksum_ok);
            };
            let (vg, items) = (e.key.clone(), e.value.items());
            let seqno = get_int(items, "seqno").unwrap_or(0);
            let id = get_str(items, "id").unwrap_or(&vg).to_string();
            scan.texts.push(Text { at, first, wrapped, seqno, vg, id, value, checksum_ok, body });
        }
        Err((i, why)) => found.findings.push(Finding::error(
            "lvm-text",
            disk_of(at, first, wrapped, i),
            format!("the metadata text cannot be parsed: {why}"),
        )),
    }
    Some(checksum_ok)
}

/// A value of lvm2's config syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// An integer.
    Int(i64),
    /// A string (also a number that is not an integer).
    Str(String),
    /// `[a, b, ...]`.
    List(Vec<Value>),
    /// `name { key = value ... }` (also the whole text).
    Section(Vec<Entry>),
}

/// One `key = value` or `key { ... }` of a section, with where it lies in the text.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    key: String,
    value: Value,
    /// Its bytes in the text: from the key's first to the value's last.
    at: usize,
    end: usize,
}

/// Two entries are the same when their keys and values are: where they lie does not count.
impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        self.key == other.key && self.value == other.value
    }
}

impl Eq for Entry {}

impl Value {
    fn items(&self) -> &[Entry] {
        match self {
            Value::Section(v) => v,
            _ => &[],
        }
    }

    /// The value as the metadata text writes it (lists and sections shortened).
    fn show(&self) -> String {
        match self {
            Value::Int(n) => n.to_string(),
            Value::Str(s) => format!("{s:?}"),
            Value::List(l) => {
                let shown: Vec<String> = l.iter().take(16).map(Value::show).collect();
                format!("[{}{}]", shown.join(", "), if l.len() > 16 { ", ..." } else { "" })
            }
            Value::Section(v) => format!("{{ {} values }}", v.len()),
        }
    }
}

fn entry<'a>(items: &'a [Entry], key: &str) -> Option<&'a Entry> {
    items.iter().find(|e| e.key == key)
}

fn get<'a>(items: &'a [Entry], key: &str) -> Option<&'a Value> {
    entry(items, key).map(|e| &e.value)
}

fn get_int(items: &[Entry], key: &str) -> Option<u64> {
    match get(items, key) {
        Some(Value::Int(n)) => u64::try_from(*n).ok(),
        _ => None,
    }
}

fn get_str<'a>(items: &'a [Entry], key: &str) -> Option<&'a str> {
    match get(items, key) {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    }
}

/// Parses lvm2's config syntax (as its metadata text is written): `key = value`, `name { ... }`,
/// values integers, strings and lists; `#` comments; a NUL ends the text, as in lvm2. Bounded
/// in depth and in values: at most `limit`. The value, or the byte where it stopped and why;
/// and how many values it parsed either way.
fn parse_at_most(text: &[u8], limit: usize) -> (std::result::Result<Value, (usize, String)>, usize) {
    let text = &text[..text.iter().position(|&c| c == 0).unwrap_or(text.len())];
    let mut p = Parser { s: text, i: 0, items: 0, limit };
    let items = p.section(0, true);
    (items.map(Value::Section), p.items)
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
            } else if c.is_ascii_whitespace() {
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

    fn section(&mut self, depth: usize, top: bool) -> std::result::Result<Vec<Entry>, (usize, String)> {
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
                    items.push(Entry { key, value: Value::Section(inner), at: start, end: self.i });
                }
                Some(b'=') => {
                    self.i += 1;
                    let value = self.value(depth + 1)?;
                    items.push(Entry { key, value, at: start, end: self.i });
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
                        // lvm2 escapes only `"` and `\\` in its strings.
                        Some(b'\\') if matches!(self.s.get(self.i + 1), Some(b'"' | b'\\')) => {
                            self.i += 1;
                            out.push(self.s[self.i]);
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
/// and the logical volumes of their volume groups. Each device is cut to the disk's end and
/// read once.
pub fn scan<R: ReadVirtual>(src: &mut R, devices: &[(u64, u64, u32)]) -> Found {
    let size = src.size();
    let mut found = Found::default();
    let mut scan = Scan::default();
    let mut seen = std::collections::HashSet::new();
    for &(offset, len, partition) in devices {
        if offset >= size || !seen.insert(offset) {
            continue;
        }
        let d = (offset, len.min(size - offset), partition);
        if let Err(e) = read_pv(src, d, &mut found, &mut scan) {
            found.findings.push(Finding::error("lvm-read", d.0, format!("partition {}'s LVM2 label or metadata cannot be read: {e}", d.2)));
        }
    }
    // One VG per UUID: the newest text whose checksum is right wins (the newest of all when
    // none is); the copies whose checksum is right must have its seqno and agree with it.
    let mut texts = scan.texts;
    texts.sort_by(|a, b| a.id.cmp(&b.id));
    let pvs: HashMap<&str, &PhysicalVolume> = found.pvs.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut vgs = Vec::new();
    for copies in texts.chunk_by(|a, b| a.id == b.id) {
        let good: Vec<&Text> = copies.iter().filter(|t| t.checksum_ok).collect();
        let Some(best) = good.iter().copied().max_by_key(|t| t.seqno).or(copies.iter().max_by_key(|t| t.seqno)) else {
            continue;
        };
        let name = &best.vg;
        let mut disputed = false;
        for t in good {
            if t.seqno != best.seqno {
                found.findings.push(Finding::warning(
                    "lvm-metadata-stale",
                    t.at,
                    format!(
                        "this copy of volume group {name}'s metadata has sequence number {}, another {}: the newer is read",
                        t.seqno, best.seqno
                    ),
                ));
            } else if t.value != best.value {
                disputed = true;
                found.findings.push(Finding::error(
                    "lvm-metadata-disagree",
                    t.at,
                    format!(
                        "two copies of volume group {name}'s metadata have sequence number {} but differ: the one at {} is read, and compact --trim keeps its logical volumes whole",
                        t.seqno, best.at
                    ),
                ));
            }
        }
        vgs.push((best, disputed));
    }
    let mut names: Vec<(&str, u64)> = vgs.iter().map(|(t, _)| (t.vg.as_str(), t.at)).collect();
    names.sort_unstable();
    for w in names.windows(2).filter(|w| w[0].0 == w[1].0) {
        found.findings.push(Finding::warning(
            "lvm-vg-name",
            w[1].1,
            format!("two volume groups (different UUIDs) are named {}: --volume {}/LV takes the first", w[0].0, w[0].0),
        ));
    }
    let mut budget = Budget { lvs: MAX_LVS, structures: MAX_TEXT_STRUCTURES };
    for (text, disputed) in vgs {
        volume_group(text, disputed, &pvs, &mut budget, &mut found.volumes, &mut found.structures, &mut found.findings);
    }
    found
}

/// The most structures (volume groups, PVs, LVs, segments) taken from the metadata texts.
const MAX_TEXT_STRUCTURES: usize = 4096;

/// What is left of the disk's bounds on the LVs and the structures taken from the metadata.
struct Budget {
    lvs: usize,
    structures: usize,
}

/// One structure from the metadata text: `of`'s fields named in `keys` (key, name, what it
/// means), each at the bytes of the text where it is written.
fn text_structure(text: &Text, name: String, of: &Entry, keys: &[(&'static str, &'static str, &'static str)]) -> Structure {
    let fields = keys
        .iter()
        .filter_map(|&(key, label, explain)| {
            let e = entry(of.value.items(), key)?;
            let bytes = text.body.get(e.at..e.end)?;
            Some(Raw { base: text.disk(e.at), bytes }.row((0, bytes.len()), key, label, e.value.show(), explain, true))
        })
        .collect();
    Structure { name, offset: text.disk(of.at), fields }
}

const VG_KEYS: &[(&str, &str, &str)] = &[
    ("id", "VG UUID", "the volume group's identifier"),
    ("seqno", "Sequence number", "the metadata's version: the highest is read"),
    ("format", "Format", "lvm2 (text metadata)"),
    ("status", "Status", "what may be done with the volume group"),
    ("flags", "Flags", "more of its state"),
    ("extent_size", "Extent size", "sectors (of 512 bytes) per extent"),
    ("max_lv", "Max LVs", "the most logical volumes it may hold (0: no limit)"),
    ("max_pv", "Max PVs", "the most physical volumes it may hold (0: no limit)"),
    ("metadata_copies", "Metadata copies", "how many metadata areas lvm2 keeps in use"),
];
const PV_KEYS: &[(&str, &str, &str)] = &[
    ("id", "PV UUID", "the physical volume's identifier, as in its PV header"),
    ("device", "Device", "the device it was last seen as"),
    ("status", "Status", "what may be done with it"),
    ("dev_size", "Device size", "its size in sectors of 512 bytes"),
    ("pe_start", "First extent", "the sector (of 512 bytes) where its first extent starts"),
    ("pe_count", "Extents", "how many extents it holds"),
];
const LV_KEYS: &[(&str, &str, &str)] = &[
    ("id", "LV UUID", "the logical volume's identifier"),
    ("status", "Status", "READ, WRITE, VISIBLE (hidden ones are parts of others)"),
    ("flags", "Flags", "more of its state"),
    ("creation_time", "Created", "seconds since 1970 when it was made"),
    ("creation_host", "Created on", "the machine that made it"),
    ("segment_count", "Segments", "how many segments it has"),
];
const SEGMENT_KEYS: &[(&str, &str, &str)] = &[
    ("start_extent", "Start extent", "its first extent in the logical volume"),
    ("extent_count", "Extents", "how many extents it has"),
    ("type", "Type", "striped (linear when one stripe), thin, thin-pool, raid1, ..."),
    ("stripe_count", "Stripes", "how many physical volumes' areas it is spread over"),
    ("stripe_size", "Stripe size", "sectors (of 512 bytes) per stripe chunk"),
    ("stripes", "Stripes' extents", "each stripe's physical volume and first extent there"),
];

/// The LVs of the VG whose newest metadata is `text` (`disputed`: another copy of the same
/// seqno differs), and its structures; `pvs`: the PVs on this disk by UUID.
fn volume_group(
    text: &Text,
    disputed: bool,
    pvs: &HashMap<&str, &PhysicalVolume>,
    budget: &mut Budget,
    volumes: &mut Vec<LogicalVolume>,
    structures: &mut Vec<Structure>,
    findings: &mut Vec<Finding>,
) {
    let name = text.vg.as_str();
    let Some(vg_entry) = entry(text.value.items(), name) else { return };
    let vg = vg_entry.value.items();
    let mut structure = |s: &dyn Fn() -> Structure, at: u64, findings: &mut Vec<Finding>| {
        if budget.structures == 0 {
            return;
        }
        budget.structures -= 1;
        structures.push(s());
        if budget.structures == 0 {
            findings.push(Finding::info(
                "lvm-structures",
                at,
                format!("the metadata holds more volume groups, PVs, LVs and segments than the {MAX_TEXT_STRUCTURES} shown as structures"),
            ));
        }
    };
    structure(&|| text_structure(text, format!("LVM2 volume group {name}"), vg_entry, VG_KEYS), text.at, findings);
    let Some(extent) = get_int(vg, "extent_size").filter(|&e| e > 0 && e <= 1 << 32).map(|e| e * 512) else {
        findings.push(Finding::error("lvm-extent-size", text.at, format!("volume group {name} has no valid extent_size")));
        return;
    };
    // The VG's PVs: name -> (UUID, pe_start in bytes, pe_count).
    let mut vg_pvs: HashMap<&str, (String, u64, u64)> = HashMap::new();
    for e in get(vg, "physical_volumes").map(Value::items).unwrap_or(&[]) {
        let it = e.value.items();
        structure(&|| text_structure(text, format!("LVM2 physical volume {name}/{}", e.key), e, PV_KEYS), text.disk(e.at), findings);
        let id = get_str(it, "id").unwrap_or("").to_string();
        let pe_start = get_int(it, "pe_start").unwrap_or(0).saturating_mul(512);
        vg_pvs.insert(e.key.as_str(), (id, pe_start, get_int(it, "pe_count").unwrap_or(0)));
    }
    let lvs = get(vg, "logical_volumes").map(Value::items).unwrap_or(&[]);
    for (n, e) in lvs.iter().enumerate() {
        let lv = &e.key;
        let at = text.disk(e.at);
        let it = e.value.items();
        let visible = matches!(get(it, "status"), Some(Value::List(s)) if s.contains(&Value::Str("VISIBLE".into())));
        if !visible {
            continue;
        }
        if budget.lvs == 0 {
            findings.push(Finding::error(
                "lvm-lvs",
                at,
                format!(
                    "the disk's volume groups have more than {MAX_LVS} LVs: {name}/{lv} and the {} after it are not read",
                    lvs.len() - n - 1
                ),
            ));
            return;
        }
        budget.lvs -= 1;
        structure(&|| text_structure(text, format!("LVM2 logical volume {name}/{lv}"), e, LV_KEYS), at, findings);
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
            disputed: disputed.then(|| format!("two copies of volume group {name}'s metadata at one sequence number differ")),
            map: None,
        };
        let mut pieces = Vec::new();
        let mut why: Option<String> = None;
        let mut next = 0u64;
        let segs: Vec<&Entry> = it.iter().filter(|s| s.key.starts_with("segment") && s.key != "segment_count").collect();
        if segs.len() > MAX_SEGMENTS {
            why.get_or_insert(format!("it has {} segments, more than the {MAX_SEGMENTS} read", segs.len()));
        }
        for s in segs.into_iter().take(MAX_SEGMENTS) {
            structure(&|| text_structure(text, format!("LVM2 segment {name}/{lv}/{}", s.key), s, SEGMENT_KEYS), text.disk(s.at), findings);
            let si = s.value.items();
            let start_extent = get_int(si, "start_extent").unwrap_or(u64::MAX);
            let extent_count = get_int(si, "extent_count").unwrap_or(0);
            let kind = get_str(si, "type").unwrap_or("").to_string();
            let mut seg = Segment { start_extent, extent_count, kind: kind.clone(), stripes: 0, stripe_size: 0, pvs: Vec::new() };
            // Where the segment's bytes start in the LV, and where the next one's do.
            let (start, end) = (next.checked_mul(extent), next.checked_add(extent_count));
            let (Some(start), Some(end)) = (start, end.filter(|e| e.checked_mul(extent).is_some())) else {
                why.get_or_insert(format!("its segment at extent {start_extent} ends past 2^64 bytes"));
                vol.segments.push(seg);
                next = next.saturating_add(extent_count);
                continue;
            };
            if kind != "striped" {
                why.get_or_insert(format!(
                    "its segment at extent {start_extent} is of type `{kind}`, which this viewer names but does not read (thin pools, thin volumes, RAID, mirrors, snapshots and caches)"
                ));
                vol.segments.push(seg);
                next = end;
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
            let area = extent_count.checked_div(count).unwrap_or(0);
            let mut bases = Vec::new();
            for pair in list.chunks(2).take(MAX_STRIPES) {
                let (pv, first) = match pair {
                    [Value::Str(p), Value::Int(e)] if *e >= 0 => (p.clone(), *e as u64),
                    _ => {
                        why.get_or_insert(format!("its segment at extent {start_extent} has a malformed stripes list"));
                        continue;
                    }
                };
                let known = vg_pvs.get(pv.as_str());
                let here = known.and_then(|(id, ..)| pvs.get(id.as_str()));
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
                // The stripe's bytes in the PV, [a, b): within its extents and the device.
                let span = first.checked_add(area).filter(|&e| e <= *pe_count).and_then(|e| {
                    let a = first.checked_mul(extent)?.checked_add(*pe_start)?;
                    let b = e.checked_mul(extent)?.checked_add(*pe_start)?;
                    (b <= dev.len).then_some((a, b))
                });
                let Some((a, b)) = span else {
                    why.get_or_insert(format!("its extents {first}..{} on {pv} lie past that PV's end", first.saturating_add(area)));
                    continue;
                };
                if dev.reserved.iter().any(|&(s, e)| a < e && s < b) {
                    why.get_or_insert(format!("its extents {first}..{} on {pv} overlap that PV's label or metadata area", first + area));
                    continue;
                }
                bases.push(dev.offset + a);
            }
            let bytes = extent_count * extent;
            // lvm2's stripe sizes: a power of two, at least 4 KiB, dividing the extent.
            let sane = count >= 1
                && count as usize == n
                && n <= MAX_STRIPES
                && start_extent == next
                && extent_count > 0
                && extent_count % count == 0
                && (count == 1 || seg.stripe_size >= 4096 && seg.stripe_size.is_power_of_two() && extent % seg.stripe_size == 0);
            if !sane {
                why.get_or_insert(format!(
                    "its segment at extent {start_extent} is not a readable striped segment ({count} stripes of {n} listed, {extent_count} extents, stripe size {})",
                    seg.stripe_size
                ));
            }
            if why.is_none() && bases.len() == n {
                let stripe_size = if count == 1 { bytes } else { seg.stripe_size };
                pieces.push(Piece { start, len: bytes, stripe_size, bases });
            }
            next = end;
            vol.segments.push(seg);
        }
        vol.size = next.saturating_mul(extent);
        if vol.segments.is_empty() {
            why.get_or_insert("it has no segments".into());
        }
        if why.is_none() {
            match Map::new(pieces) {
                Some(m) => vol.map = Some(Arc::new(m)),
                None => why = Some("its extents overlap each other on the disk".into()),
            }
        }
        if let Some(w) = why {
            findings.push(Finding::warning("lvm-lv-unreadable", at, format!("logical volume {name}/{lv} is not read: {w}")));
            vol.unreadable = Some(w);
        }
        volumes.push(vol);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &[u8]) -> std::result::Result<Value, (usize, String)> {
        parse_at_most(text, MAX_ITEMS).0
    }

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
        // The values parsed count even when the text fails.
        assert_eq!(parse_at_most(b"a = 1\nb = 2\nc = [", 100).1, 6);
        // Only `\"` and `\\` are escapes; a NUL ends the text; a backslash at the end is inside the string.
        let v = parse(b"s = \"a\\\"b\\\\c\\nd\"\0garbage {").unwrap();
        assert_eq!(get_str(v.items(), "s"), Some("a\"b\\c\\nd"));
        assert_eq!(parse(b"s = \"a\\").unwrap_err(), (7, "the text ends inside a string".to_string()));
        // Each entry's bytes, from its key to its value's end.
        let v = parse(b"  vg {\n x = 12\n}").unwrap();
        let vg = entry(v.items(), "vg").unwrap();
        assert_eq!((vg.at, vg.end), (2, 16));
        let x = entry(vg.value.items(), "x").unwrap();
        assert_eq!((x.at, x.end), (8, 14));
    }

    #[test]
    fn a_striped_map_reads_chunk_by_chunk_across_its_stripes() {
        let m = Map::new(vec![
            Piece { start: 0, len: 8, stripe_size: 2, bases: vec![100, 200] },
            Piece { start: 8, len: 4, stripe_size: 4, bases: vec![50] },
        ])
        .unwrap();
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
        assert_eq!(runs, [(50, 4, 8), (100, 2, 0), (102, 2, 4), (200, 2, 2), (202, 2, 6)]);
        runs.clear();
        m.runs(101, 201, |d, n, lv| runs.push((d, n, lv)));
        assert_eq!(runs, [(101, 1, 1), (102, 2, 4), (200, 1, 2)]);
        assert_eq!(m.areas().collect::<Vec<_>>(), [(50, 54), (100, 104), (200, 204)]);
        // Areas that overlap on the disk, a piece past 2^64, a gap: no map.
        assert!(Map::new(vec![Piece { start: 0, len: 8, stripe_size: 2, bases: vec![100, 102] }]).is_none());
        assert!(Map::new(vec![Piece { start: 0, len: 8, stripe_size: 8, bases: vec![u64::MAX - 4] }]).is_none());
        assert!(Map::new(vec![Piece { start: 4, len: 8, stripe_size: 8, bases: vec![0] }]).is_none());
    }

    #[test]
    fn lvm_checksum_is_crc32_seeded_without_final_inversion() {
        // lvm2's calc_crc over nothing is its seed.
        assert_eq!(crc(&[]), CRC_SEED);
        assert_ne!(crc(b"a"), crc(b"b"));
    }
}
