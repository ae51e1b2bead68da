//! NTFS. The `ntfs` crate validates the boot sector and walks directory indexes (the B+ trees
//! of `$INDEX_ROOT` and `$INDEX_ALLOCATION`, with their fixups); MFT records, attributes,
//! attribute lists and run lists are parsed here, because the crate does not expose raw runs (it
//! takes a run at cluster 0, `$Boot`'s, for a sparse one) nor the pieces of an attribute spread
//! over extension records, and a file's runs are what says which layer supplies its bytes and
//! which file owns a sector.
//!
//! Compressed files are listed with the attribute `compressed`; their data comes out as
//! [`FileData::Compressed`], which [`super::read_data`] decompresses with [`lznt1`].

pub mod lznt1;

use std::collections::HashMap;

use super::free::Window;
use super::survey::{joined, Facts, FileId, Structure};
use super::{from_io, join, Entry, EntryKind, FileData, Owner, ReadVirtual, Run, Stream, Times, Volume};
use crate::bytes::{le16, le32, le64, utf16le};
use crate::error::FsError;
use crate::error::{Error, Result};

/// Attribute type codes.
pub mod ty {
    /// `$STANDARD_INFORMATION`.
    pub const STANDARD_INFORMATION: u32 = 0x10;
    /// `$ATTRIBUTE_LIST`.
    pub const ATTRIBUTE_LIST: u32 = 0x20;
    /// `$FILE_NAME`.
    pub const FILE_NAME: u32 = 0x30;
    /// `$VOLUME_NAME`.
    pub const VOLUME_NAME: u32 = 0x60;
    /// `$DATA`.
    pub const DATA: u32 = 0x80;
    /// `$INDEX_ROOT`.
    pub const INDEX_ROOT: u32 = 0x90;
    /// `$INDEX_ALLOCATION`.
    pub const INDEX_ALLOCATION: u32 = 0xA0;
    /// `$BITMAP`.
    pub const BITMAP: u32 = 0xB0;
    /// `$REPARSE_POINT`.
    pub const REPARSE_POINT: u32 = 0xC0;
}

/// The most runs one run list may hold (a 1 KiB record holds far fewer).
pub const MAX_RUNS: usize = 4096;
/// The most records an MFT is read for (deleted files, owners).
pub const MAX_RECORDS: u64 = 1 << 24;
/// The most alternate data streams listed for one file.
pub const MAX_STREAMS: usize = 4096;

/// Extension records read for one file, by number.
type Extensions = HashMap<u64, Record>;

/// One run: `len` clusters from virtual cluster `vcn`, at logical cluster `lcn` (`None`: sparse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataRun {
    /// First virtual cluster (in the attribute).
    pub vcn: u64,
    /// Number of clusters.
    pub len: u64,
    /// First logical cluster (on the volume), or `None` for a sparse run.
    pub lcn: Option<u64>,
}

/// Parses a run list starting at virtual cluster `start_vcn`. Fails on a run past
/// `max_clusters`, a negative cluster, a length field over 8 bytes, or more than [`MAX_RUNS`].
pub fn parse_runs(b: &[u8], start_vcn: u64, max_clusters: u64) -> std::result::Result<Vec<DataRun>, String> {
    let mut out = Vec::new();
    let (mut i, mut vcn, mut lcn) = (0usize, start_vcn, 0i64);
    while i < b.len() && b[i] != 0 {
        let h = b[i];
        let (ls, os) = (usize::from(h & 0x0F), usize::from(h >> 4));
        if ls == 0 || ls > 8 || os > 8 {
            return Err(format!("run header {h:#04x} at byte {i} has a length field of {ls} bytes and an offset field of {os}"));
        }
        let field = b.get(i + 1..i + 1 + ls + os).ok_or_else(|| format!("the run at byte {i} goes past the end of the attribute"))?;
        let mut len = 0u64;
        for (k, x) in field[..ls].iter().enumerate() {
            len |= u64::from(*x) << (8 * k);
        }
        if len == 0 || len > max_clusters {
            return Err(format!("the run at byte {i} is {len} clusters long; the volume has {max_clusters}"));
        }
        let at = if os == 0 {
            None
        } else {
            let mut d = 0i64;
            for (k, x) in field[ls..].iter().enumerate() {
                d |= i64::from(*x) << (8 * k);
            }
            if os < 8 && d & (1 << (8 * os - 1)) != 0 {
                d -= 1 << (8 * os);
            }
            lcn = lcn.checked_add(d).ok_or_else(|| format!("the run at byte {i} overflows"))?;
            if lcn < 0 || (lcn as u64).saturating_add(len) > max_clusters {
                return Err(format!(
                    "the run at byte {i} puts clusters {lcn}..{} outside the volume's {max_clusters}",
                    lcn.saturating_add(len as i64)
                ));
            }
            Some(lcn as u64)
        };
        out.push(DataRun { vcn, len, lcn: at });
        if out.len() > MAX_RUNS {
            return Err(format!("the run list has more than {MAX_RUNS} runs"));
        }
        vcn = vcn.checked_add(len).ok_or("the runs' clusters overflow")?;
        i += 1 + ls + os;
    }
    Ok(out)
}

/// A non-resident attribute's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonResident {
    /// First virtual cluster this piece covers.
    pub lowest_vcn: u64,
    /// Allocated bytes.
    pub allocated_size: u64,
    /// Bytes of data.
    pub data_size: u64,
    /// Bytes written (past this, the data reads as zeros).
    pub initialized_size: u64,
    /// Clusters per compression unit as a power of two (0: not compressed).
    pub compression_unit: u8,
    /// The runs (empty if the run list could not be parsed: see `runs_error`).
    pub runs: Vec<DataRun>,
    /// Why the run list could not be parsed.
    pub runs_error: Option<String>,
}

/// One attribute of an MFT record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// Type code.
    pub ty: u32,
    /// Name (empty for the unnamed one).
    pub name: String,
    /// Flags: 0x0001 compressed, 0x4000 encrypted, 0x8000 sparse.
    pub flags: u16,
    /// Instance number in the record.
    pub instance: u16,
    /// Offset in the record.
    pub offset: usize,
    /// The value of a resident attribute.
    pub resident: Option<Vec<u8>>,
    /// The header of a non-resident attribute.
    pub non_resident: Option<NonResident>,
}

/// A parsed MFT record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its number.
    pub number: u64,
    /// 0x0001 in use, 0x0002 directory.
    pub flags: u16,
    /// Sequence number.
    pub sequence: u16,
    /// The base record of an extension record (0 for a base record).
    pub base: u64,
    /// Its attributes, in order.
    pub attributes: Vec<Attribute>,
}

impl Record {
    /// True when the record is in use.
    pub fn in_use(&self) -> bool {
        self.flags & 1 != 0
    }
    /// True for a directory.
    pub fn is_dir(&self) -> bool {
        self.flags & 2 != 0
    }
    /// The first attribute of type `t` named `name`.
    pub fn find(&self, t: u32, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.ty == t && a.name == name)
    }
    /// The $FILE_NAME attributes.
    pub fn names(&self) -> Vec<FileName> {
        self.attributes.iter().filter(|a| a.ty == ty::FILE_NAME).filter_map(|a| a.resident.as_deref().and_then(FileName::parse)).collect()
    }
    /// The best name: a Win32 or POSIX one before a DOS 8.3 alias.
    pub fn name(&self) -> Option<FileName> {
        let names = self.names();
        names.iter().find(|n| n.namespace != 2).or(names.first()).cloned()
    }
}

/// A `$FILE_NAME` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    /// The parent directory's record.
    pub parent: u64,
    /// The parent's sequence number.
    pub parent_sequence: u16,
    /// 0 POSIX, 1 Win32, 2 DOS, 3 Win32 and DOS.
    pub namespace: u8,
    /// The name.
    pub name: String,
}

impl FileName {
    /// Parses a `$FILE_NAME` value.
    pub fn parse(v: &[u8]) -> Option<FileName> {
        let len = usize::from(*v.get(0x40)?);
        let name = utf16le(v.get(0x42..0x42 + 2 * len)?);
        Some(FileName { parent: le64(v, 0) & 0xFFFF_FFFF_FFFF, parent_sequence: le16(v, 6), namespace: v[0x41], name })
    }
}

/// Applies the update sequence (fixups) of a multi-sector record in place: the last two bytes of
/// each 512-byte sector must equal the update sequence number and are replaced by the saved bytes.
pub fn apply_fixups(b: &mut [u8]) -> std::result::Result<(), String> {
    let (usa, count) = (usize::from(le16(b, 4)), usize::from(le16(b, 6)));
    if count == 0 || usa + 2 * count > b.len() || (count - 1) * 512 > b.len() {
        return Err(format!("the update sequence array (at {usa}, {count} entries) does not fit the {}-byte record", b.len()));
    }
    let usn = [b[usa], b[usa + 1]];
    for k in 1..count {
        let end = k * 512;
        if b[end - 2..end] != usn {
            return Err(format!(
                "sector {} of the record does not end with the update sequence number: the record was torn while written",
                k - 1
            ));
        }
        b[end - 2] = b[usa + 2 * k];
        b[end - 1] = b[usa + 2 * k + 1];
    }
    Ok(())
}

/// Parses an MFT record (fixups applied here). `max_clusters` bounds run lists.
pub fn parse_record(raw: &[u8], number: u64, max_clusters: u64) -> std::result::Result<Record, String> {
    if raw.get(..4) != Some(b"FILE") {
        return Err("the record does not start with \"FILE\"".into());
    }
    let mut b = raw.to_vec();
    apply_fixups(&mut b)?;
    let mut rec =
        Record { number, flags: le16(&b, 0x16), sequence: le16(&b, 0x10), base: le64(&b, 0x20) & 0xFFFF_FFFF_FFFF, attributes: Vec::new() };
    let used = (le32(&b, 0x18) as usize).min(b.len());
    let mut at = usize::from(le16(&b, 0x14));
    while at + 16 <= used {
        let t = le32(&b, at);
        if t == 0xFFFF_FFFF {
            break;
        }
        let len = le32(&b, at + 4) as usize;
        if len < 16 || at + len > used || len % 8 != 0 {
            return Err(format!("the attribute at byte {at:#x} of the record has length {len}, which does not fit the record"));
        }
        let a = &b[at..at + len];
        let (nlen, noff) = (usize::from(a[9]), usize::from(le16(a, 0x0A)));
        let name = a
            .get(noff..noff + 2 * nlen)
            .map(utf16le)
            .ok_or_else(|| format!("the name of the attribute at byte {at:#x} lies outside it"))?;
        let mut attr =
            Attribute { ty: t, name, flags: le16(a, 0x0C), instance: le16(a, 0x0E), offset: at, resident: None, non_resident: None };
        if a[8] == 0 {
            let (vlen, voff) = (le32(a, 0x10) as usize, usize::from(le16(a, 0x14)));
            attr.resident = Some(
                a.get(voff..voff + vlen).ok_or_else(|| format!("the value of the attribute at byte {at:#x} lies outside it"))?.to_vec(),
            );
        } else {
            if len < 0x40 {
                return Err(format!("the non-resident attribute at byte {at:#x} is too short ({len} bytes)"));
            }
            let lowest = le64(a, 0x10);
            let roff = usize::from(le16(a, 0x20));
            let (runs, runs_error) = match a.get(roff..).map(|r| parse_runs(r, lowest, max_clusters)) {
                Some(Ok(r)) => (r, None),
                Some(Err(e)) => (Vec::new(), Some(e)),
                None => (Vec::new(), Some("the run list's offset lies outside the attribute".into())),
            };
            attr.non_resident = Some(NonResident {
                lowest_vcn: lowest,
                allocated_size: le64(a, 0x28),
                data_size: le64(a, 0x30),
                initialized_size: le64(a, 0x38),
                compression_unit: a[0x22],
                runs,
                runs_error,
            });
        }
        rec.attributes.push(attr);
        at += len;
    }
    Ok(rec)
}

/// An entry of an `$ATTRIBUTE_LIST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    /// Type of the attribute.
    pub ty: u32,
    /// Its name.
    pub name: String,
    /// First virtual cluster of this piece.
    pub lowest_vcn: u64,
    /// The record holding it.
    pub record: u64,
    /// Its instance in that record.
    pub instance: u16,
}

/// Parses an `$ATTRIBUTE_LIST` value.
pub fn parse_attribute_list(v: &[u8]) -> Vec<ListEntry> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 26 <= v.len() {
        let len = usize::from(le16(v, at + 4));
        if len < 26 || at + len > v.len() {
            break;
        }
        let (nlen, noff) = (usize::from(v[at + 6]), usize::from(v[at + 7]));
        let name = v.get(at + noff..at + noff + 2 * nlen).map(utf16le).unwrap_or_default();
        out.push(ListEntry {
            ty: le32(v, at),
            name,
            lowest_vcn: le64(v, at + 8),
            record: le64(v, at + 0x10) & 0xFFFF_FFFF_FFFF,
            instance: le16(v, at + 0x18),
        });
        at += len;
    }
    out
}

/// NTFS time (100 ns since 1601) as seconds since 1970.
pub fn nt_time(t: u64) -> Option<i64> {
    (t != 0).then(|| (t / 10_000_000) as i64 - 11_644_473_600)
}

/// The `ntfs` crate's error `e` met reading the volume starting at virtual-disk byte
/// `volume_start`, as ours; `at` is where the structure asked for is (the volume, or the
/// directory's record), named by the conditions that have no position of their own.
fn ntfs_err(e: ::ntfs::NtfsError, volume_start: u64, at: u64) -> Error {
    // The crate's positions are volume bytes.
    let on_disk = |p: ::ntfs::types::NtfsPosition| volume_start + p.value().map_or(0, |p| p.get());
    match e {
        ::ntfs::NtfsError::Io(io) => from_io(io, at),
        ::ntfs::NtfsError::InvalidIndexEntrySize { position, expected, actual } => {
            FsError::NtfsIndexEntry { offset: on_disk(position), length: expected, room: actual }.into()
        }
        ::ntfs::NtfsError::InvalidIndexEntriesRange { position, start, end } => {
            FsError::NtfsIndexNode { offset: on_disk(position), start, end }.into()
        }
        ::ntfs::NtfsError::IndexTooDeep { position, max } => FsError::NtfsIndexLoop { offset: on_disk(position), max }.into(),
        ::ntfs::NtfsError::InvalidIndexRecordSize { position, actual } => {
            FsError::NtfsIndexRecordSize { offset: on_disk(position), size: actual }.into()
        }
        other => FsError::NtfsDamaged { volume_start: at, message: other.to_string() }.into(),
    }
}

/// What [`Ntfs::each_record`] calls with each record; false stops.
type RecordVisitor<'a, R> = dyn FnMut(&Ntfs, &mut Volume<R>, Record) -> Result<bool> + 'a;

/// An opened NTFS volume.
pub struct Ntfs {
    inner: ::ntfs::Ntfs,
    cluster: u64,
    record_size: u64,
    clusters: u64,
    mft_runs: Vec<Run>,
    mft_size: u64,
    deleted: Option<HashMap<u64, Vec<Entry>>>,
    /// True once `$UpCase` is read (for looking names up in directory indexes).
    upcase: bool,
    /// Which record's runs hold which clusters, made by the first [`Ntfs::owner`] (one read of
    /// the MFT) and kept for the next; `Err(())` when the volume has more runs than
    /// [`MAX_OWNER_RUNS`] (each lookup then reads the MFT again).
    owners: Option<std::result::Result<OwnerIndex, ()>>,
    /// `$Bitmap`'s runs, read by the first [`Ntfs::in_use`].
    bitmap: Option<Vec<Run>>,
}

/// The most runs the owner index keeps (48 bytes each, and at most one record entry of about
/// 32 bytes: at most 20 MiB).
pub use super::MAX_OWNER_RUNS;

/// A run of a non-resident attribute, for owner lookups.
#[derive(Debug, Clone, Copy)]
struct Held {
    /// Volume byte offset.
    start: u64,
    /// Bytes.
    len: u64,
    /// Its place in the attribute.
    file_offset: u64,
    /// The record holding the attribute, times 65536, plus the attribute's place in it: the
    /// order the MFT is scanned in.
    seq: u64,
    /// The attribute's type.
    ty: u32,
    /// Index of the attribute's name in [`OwnerIndex::names`].
    name: u32,
}

/// Every non-resident attribute's runs, by volume offset (a record in use and a deleted one may
/// hold the same clusters).
#[derive(Debug, Default)]
struct OwnerIndex {
    runs: Vec<Held>,
    /// The greatest end of `runs[..=i]`.
    max_end: Vec<u64>,
    /// Per record (by number): its base record, and whether it is in use.
    records: HashMap<u64, (u64, bool)>,
    names: Vec<String>,
}

/// What owns a byte: (base record, byte in the attribute, deleted, stream name, attribute type).
type Found = (u64, u64, bool, String, u32);

impl OwnerIndex {
    /// As the scan of the MFT answers: the first record in use (by number) whose runs hold
    /// `offset`, else the last record no longer in use that does.
    fn lookup(&self, offset: u64) -> Option<Found> {
        let mut best: Option<(&Held, bool)> = None;
        let mut i = self.runs.partition_point(|h| h.start <= offset);
        while i > 0 && self.max_end[i - 1] > offset {
            i -= 1;
            let h = &self.runs[i];
            if offset >= h.start + h.len {
                continue;
            }
            let live = self.records.get(&(h.seq >> 16)).is_some_and(|r| r.1);
            let better = match best {
                None => true,
                Some((b, blive)) => match (live, blive) {
                    (true, false) => true,
                    (false, true) => false,
                    (true, true) => h.seq < b.seq,
                    (false, false) => h.seq > b.seq,
                },
            };
            if better {
                best = Some((h, live));
            }
        }
        let (h, live) = best?;
        let base = self.records.get(&(h.seq >> 16)).map_or(h.seq >> 16, |r| r.0);
        Some((base, h.file_offset + (offset - h.start), !live, self.names.get(h.name as usize).cloned().unwrap_or_default(), h.ty))
    }
}

impl Ntfs {
    /// Reads the boot sector and the MFT's own record.
    pub fn open<R: ReadVirtual>(vol: &mut Volume<R>) -> Result<Ntfs> {
        let at = vol.start();
        let inner = ::ntfs::Ntfs::new(vol).map_err(|e| ntfs_err(e, at, at))?;
        let cluster = u64::from(inner.cluster_size());
        let record_size = u64::from(inner.file_record_size());
        if !(256..=65536).contains(&record_size) || !record_size.is_power_of_two() {
            return Err(FsError::NtfsRecordSize { volume_start: at, size: record_size }.into());
        }
        let clusters = inner.size() / cluster.max(1);
        let mft_at = inner.mft_position().value().map_or(0, |v| v.get());
        let raw = vol.read_vec(mft_at, record_size as usize)?;
        let rec0 = parse_record(&raw, 0, clusters).map_err(|e| FsError::NtfsMft { offset: at + mft_at, damage: Some(e) })?;
        let data =
            rec0.find(ty::DATA, "").and_then(|a| a.non_resident.clone()).ok_or(FsError::NtfsMft { offset: at + mft_at, damage: None })?;
        let mut ntfs = Ntfs {
            inner,
            cluster,
            record_size,
            clusters,
            mft_runs: Vec::new(),
            mft_size: data.data_size,
            deleted: None,
            upcase: false,
            owners: None,
            bitmap: None,
        };
        ntfs.mft_runs = ntfs.runs(&[data]);
        Ok(ntfs)
    }

    /// The volume's size by its boot sector (total sectors × bytes per sector).
    pub fn volume_size(&self) -> u64 {
        self.inner.size()
    }

    /// Bytes per cluster.
    pub fn cluster_size(&self) -> u64 {
        self.cluster
    }

    /// Bytes per MFT record.
    pub fn record_size(&self) -> u64 {
        self.record_size
    }

    /// Records in the MFT.
    pub fn record_count(&self) -> u64 {
        (self.mft_size / self.record_size).min(MAX_RECORDS)
    }

    /// Volume byte offset of record `n`.
    pub fn record_offset(&self, n: u64) -> Option<u64> {
        let at = n.checked_mul(self.record_size)?;
        if at >= self.mft_size {
            return None;
        }
        self.mft_runs
            .iter()
            .find_map(|r| (at >= r.file_offset && at - r.file_offset < r.len).then(|| r.volume_offset.map(|v| v + at - r.file_offset)))?
    }

    /// Reads and parses record `n`.
    pub fn record<R: ReadVirtual>(&self, vol: &mut Volume<R>, n: u64) -> Result<Record> {
        let at = self.record_offset(n).ok_or_else(|| FsError::NtfsRecordNumber {
            volume_start: vol.start(),
            record: n,
            records: self.record_count(),
        })?;
        let raw = vol.read_vec(at, self.record_size as usize)?;
        parse_record(&raw, n, self.clusters).map_err(|damage| FsError::NtfsRecord { offset: vol.start() + at, record: n, damage }.into())
    }

    /// The runs of `pieces` in bytes. A run whose place in its attribute is past 2^64 bytes (its
    /// virtual cluster comes from the attribute's lowest one, which the record may claim as it
    /// likes) holds nothing a file can have: it and the rest of its piece are left out.
    fn runs(&self, pieces: &[NonResident]) -> Vec<Run> {
        let c = self.cluster;
        let mut out: Vec<Run> = Vec::new();
        for p in pieces {
            for r in &p.runs {
                // The length and the logical cluster are within the volume (`parse_runs`).
                let (len, volume_offset) = (r.len * c, r.lcn.map(|l| l * c));
                let Some(file_offset) = r.vcn.checked_mul(c).filter(|f| f.checked_add(len).is_some()) else { break };
                Run::push(&mut out, Run { file_offset, len, volume_offset });
            }
        }
        out
    }

    /// The entries of record `rec`'s `$ATTRIBUTE_LIST` (resident, or non-resident and read
    /// through its runs, at most 1 MiB of it); `None` when it has none.
    pub fn attribute_list<R: ReadVirtual>(&self, vol: &mut Volume<R>, rec: &Record) -> Result<Option<Vec<ListEntry>>> {
        let Some(list) = rec.find(ty::ATTRIBUTE_LIST, "") else { return Ok(None) };
        let value = match (&list.resident, &list.non_resident) {
            (Some(v), _) => v.clone(),
            (None, Some(nr)) => {
                // Through the volume's cache (metadata, read again at each listing).
                let size = nr.data_size.min(1 << 20);
                let mut v = vec![0u8; size as usize];
                for r in self.runs(std::slice::from_ref(nr)) {
                    if r.file_offset >= size {
                        break;
                    }
                    let piece = &mut v[r.file_offset as usize..(r.file_offset + r.len).min(size) as usize];
                    if let Some(at) = r.volume_offset {
                        vol.read_at(at, piece)?;
                    }
                }
                v
            }
            _ => Vec::new(),
        };
        Ok(Some(parse_attribute_list(&value)))
    }

    /// Record `n`, an extension record of `base` (read once per file into `ext`); `None` when
    /// it says it belongs to another base record (a damaged or hostile attribute list).
    fn extension<'a, R: ReadVirtual>(
        &self,
        vol: &mut Volume<R>,
        base: &'a Record,
        n: u64,
        ext: &'a mut Extensions,
    ) -> Result<Option<&'a Record>> {
        if n == base.number {
            return Ok(Some(base));
        }
        let r = match ext.entry(n) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => v.insert(self.record(vol, n)?),
        };
        Ok((r.base == base.number).then_some(&*r))
    }

    /// The pieces of attribute (`t`, `name`) of record `rec`, through its attribute list
    /// `list` when it has one: each piece from the record the list names (the base record or
    /// an extension record), in the order of their first virtual clusters.
    fn pieces_in<R: ReadVirtual>(
        &self,
        vol: &mut Volume<R>,
        rec: &Record,
        list: Option<&[ListEntry]>,
        t: u32,
        name: &str,
        ext: &mut Extensions,
    ) -> Result<Vec<Attribute>> {
        let Some(list) = list else {
            return Ok(rec.attributes.iter().filter(|a| a.ty == t && a.name == name).cloned().collect());
        };
        let mut entries: Vec<&ListEntry> = list.iter().filter(|e| e.ty == t && e.name == name).collect();
        entries.sort_by_key(|e| e.lowest_vcn);
        entries.dedup_by_key(|e| e.lowest_vcn);
        entries.truncate(MAX_RUNS);
        let mut out = Vec::new();
        for e in entries {
            let Some(r) = self.extension(vol, rec, e.record, ext)? else { continue };
            if let Some(a) = r.attributes.iter().find(|a| a.ty == t && a.name == name && a.instance == e.instance) {
                out.push(a.clone());
            }
        }
        Ok(out)
    }

    /// The pieces of attribute (`t`, `name`) of record `rec`, through its attribute list.
    fn pieces<R: ReadVirtual>(&self, vol: &mut Volume<R>, rec: &Record, t: u32, name: &str) -> Result<Vec<Attribute>> {
        let list = self.attribute_list(vol, rec)?;
        self.pieces_in(vol, rec, list.as_deref(), t, name, &mut Extensions::new())
    }

    /// The named `$DATA` attributes of record `rec` (its alternate data streams) with their
    /// sizes, in the order the record or its attribute list holds them: those in extension
    /// records too. At most [`MAX_STREAMS`]; a stream whose record cannot be read is left out.
    fn streams_in<R: ReadVirtual>(
        &self,
        vol: &mut Volume<R>,
        rec: &Record,
        list: Option<&[ListEntry]>,
        ext: &mut Extensions,
    ) -> Vec<Stream> {
        let size =
            |a: &Attribute| a.resident.as_ref().map_or_else(|| a.non_resident.as_ref().map_or(0, |n| n.data_size), |v| v.len() as u64);
        let first_piece = |a: &Attribute| a.non_resident.as_ref().map_or(true, |n| n.lowest_vcn == 0);
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        match list {
            None => {
                for a in rec.attributes.iter().filter(|a| a.ty == ty::DATA && !a.name.is_empty() && first_piece(a)) {
                    if out.len() < MAX_STREAMS && seen.insert(a.name.as_str()) {
                        out.push(Stream { name: a.name.clone(), size: size(a) });
                    }
                }
            }
            Some(list) => {
                // Each stream's first piece (virtual cluster 0) says its size.
                for e in list.iter().filter(|e| e.ty == ty::DATA && !e.name.is_empty() && e.lowest_vcn == 0) {
                    if out.len() >= MAX_STREAMS || !seen.insert(e.name.as_str()) {
                        continue;
                    }
                    let Ok(Some(r)) = self.extension(vol, rec, e.record, ext) else { continue };
                    if let Some(a) = r.attributes.iter().find(|a| a.ty == ty::DATA && a.name == e.name && a.instance == e.instance) {
                        out.push(Stream { name: a.name.clone(), size: size(a) });
                    }
                }
            }
        }
        out
    }

    /// The best name of record `rec` (a Win32 or POSIX one before a DOS alias), from its own
    /// `$FILE_NAME` attributes or, when it has none, those its attribute list puts in extension
    /// records (ntfs-3g moves them there when the base record fills).
    pub fn name_of<R: ReadVirtual>(&self, vol: &mut Volume<R>, rec: &Record) -> Option<FileName> {
        if let Some(n) = rec.name() {
            return Some(n);
        }
        let list = self.attribute_list(vol, rec).ok().flatten()?;
        let mut ext = Extensions::new();
        let mut names = Vec::new();
        for e in list.iter().filter(|e| e.ty == ty::FILE_NAME).take(MAX_STREAMS) {
            let Ok(Some(r)) = self.extension(vol, rec, e.record, &mut ext) else { continue };
            if let Some(n) = r
                .attributes
                .iter()
                .find(|a| a.ty == ty::FILE_NAME && a.instance == e.instance)
                .and_then(|a| a.resident.as_deref().and_then(FileName::parse))
            {
                names.push(n);
            }
        }
        names.iter().find(|n| n.namespace != 2).or(names.first()).cloned()
    }

    /// The alternate data streams of record `n` (see [`Entry::streams`]).
    pub fn streams<R: ReadVirtual>(&self, vol: &mut Volume<R>, n: u64) -> Result<Vec<Stream>> {
        let rec = self.record(vol, n)?;
        let list = self.attribute_list(vol, &rec)?;
        Ok(self.streams_in(vol, &rec, list.as_deref(), &mut Extensions::new()))
    }

    /// The root directory.
    pub fn root(&self) -> Entry {
        Entry::root(5, self.record_offset(5))
    }

    /// An entry for record `rec` named `name` in directory `dir`.
    fn entry<R: ReadVirtual>(&self, vol: &mut Volume<R>, rec: &Record, dir: &str, name: &str, deleted: bool) -> Entry {
        let si = rec.find(ty::STANDARD_INFORMATION, "").and_then(|a| a.resident.clone()).unwrap_or_default();
        let fa = le32(&si, 0x20);
        let mut attributes = Vec::new();
        for (bit, w) in [
            (0x1, "read-only"),
            (0x2, "hidden"),
            (0x4, "system"),
            (0x20, "archive"),
            (0x200, "sparse"),
            (0x400, "reparse-point"),
            (0x800, "compressed"),
            (0x4000, "encrypted"),
        ] {
            if fa & bit != 0 {
                attributes.push(w);
            }
        }
        let list = self.attribute_list(vol, rec).ok().flatten();
        let mut ext = Extensions::new();
        let data = self.pieces_in(vol, rec, list.as_deref(), ty::DATA, "", &mut ext).unwrap_or_default();
        let size = data
            .first()
            .map_or(0, |a| a.resident.as_ref().map_or_else(|| a.non_resident.as_ref().map_or(0, |n| n.data_size), |v| v.len() as u64));
        if data.first().is_some_and(|a| a.flags & 1 != 0) && !attributes.contains(&"compressed") {
            attributes.push("compressed");
        }
        let reparse = rec.find(ty::REPARSE_POINT, "").and_then(|a| a.resident.as_ref()).map(|v| le32(v, 0));
        let kind = if rec.is_dir() {
            EntryKind::Dir
        } else if reparse == Some(0xA000_000C) {
            EntryKind::Symlink
        } else {
            EntryKind::File
        };
        Entry {
            name: name.to_string(),
            path: join(dir, name),
            kind,
            size: if kind == EntryKind::Dir { 0 } else { size },
            modified: nt_time(le64(&si, 0x08)),
            deleted,
            id: rec.number,
            attributes,
            entry_offset: self.record_offset(rec.number),
            streams: self.streams_in(vol, rec, list.as_deref(), &mut ext),
            exfat: None,
        }
    }

    /// The entries of directory `dir`, from its index (and, with `deleted`, the records no
    /// longer in use whose name points into it).
    pub fn list<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, dir: &Entry, deleted: bool) -> Result<Vec<Entry>> {
        let start = vol.start();
        let at = start + dir.entry_offset.unwrap_or(0);
        let mut names: Vec<(u64, String)> = Vec::new();
        {
            let file = self.inner.file(vol, dir.id).map_err(|e| ntfs_err(e, start, at))?;
            let index = file.directory_index(vol).map_err(|e| ntfs_err(e, start, at))?;
            let mut it = index.entries();
            while let Some(e) = it.next(vol) {
                let e = e.map_err(|e| ntfs_err(e, start, at))?;
                let Some(Ok(key)) = e.key() else { continue };
                if key.namespace() == ::ntfs::structured_values::NtfsFileNamespace::Dos {
                    continue;
                }
                let r = e.file_reference().file_record_number();
                let name = key.name().to_string_lossy();
                if r == dir.id && name == "." {
                    continue;
                }
                names.push((r, name));
                if names.len() >= super::MAX_DIR_ENTRIES {
                    break;
                }
            }
        }
        let mut out = Vec::with_capacity(names.len());
        for (r, name) in names {
            let rec = self.record(vol, r)?;
            out.push(self.entry(vol, &rec, &dir.path, &name, false));
        }
        if deleted {
            if self.deleted.is_none() {
                self.deleted = Some(self.scan_deleted(vol)?);
            }
            if let Some(d) = self.deleted.as_ref().and_then(|m| m.get(&dir.id)) {
                out.extend(d.iter().map(|e| Entry { path: join(&dir.path, &e.name), ..e.clone() }));
            }
        }
        Ok(out)
    }

    /// The live entry named exactly `name` in directory `dir`, found through the directory's
    /// index B-tree: the index root and the few index blocks on the way down, and the entry's own
    /// record, not every entry's record as [`Ntfs::list`] reads them. NTFS orders names through
    /// its `$UpCase` table (read once, 128 KiB). `None` when the index holds no such name, or
    /// only one that differs in case or is a DOS 8.3 alias: the caller then lists the directory.
    pub fn find<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, dir: &Entry, name: &str) -> Result<Option<Entry>> {
        let start = vol.start();
        let at = start + dir.entry_offset.unwrap_or(0);
        if !self.upcase {
            self.inner.read_upcase_table(vol).map_err(|e| ntfs_err(e, start, at))?;
            self.upcase = true;
        }
        let (r, key_name) = {
            let file = self.inner.file(vol, dir.id).map_err(|e| ntfs_err(e, start, at))?;
            let index = file.directory_index(vol).map_err(|e| ntfs_err(e, start, at))?;
            let mut finder = index.finder();
            let Some(found) = ::ntfs::indexes::NtfsFileNameIndex::find(&mut finder, &self.inner, vol, name) else { return Ok(None) };
            let found = found.map_err(|e| ntfs_err(e, start, at))?;
            let Some(Ok(key)) = found.key() else { return Ok(None) };
            if key.namespace() == ::ntfs::structured_values::NtfsFileNamespace::Dos {
                return Ok(None);
            }
            (found.file_reference().file_record_number(), key.name().to_string_lossy())
        };
        if key_name != name {
            return Ok(None);
        }
        let rec = self.record(vol, r)?;
        Ok(Some(self.entry(vol, &rec, &dir.path, &key_name, false)))
    }

    /// Every record of the MFT, read in large pieces, parsed (records that do not parse skipped).
    fn each_record<R: ReadVirtual>(&self, vol: &mut Volume<R>, each: &mut RecordVisitor<'_, R>) -> Result<()> {
        let count = self.record_count();
        let rs = self.record_size as usize;
        let per = (1 << 20) / rs;
        let mut n = 0u64;
        while n < count {
            let Some(at) = self.record_offset(n) else { break };
            // Records contiguous with this one, up to 1 MiB.
            let mut k = 1u64;
            while k < per as u64 && n + k < count && self.record_offset(n + k) == Some(at + k * self.record_size) {
                k += 1;
            }
            let mut buf = vec![0u8; k as usize * rs];
            vol.read_uncached(at, &mut buf)?;
            for (i, raw) in buf.chunks_exact(rs).enumerate() {
                if let Ok(rec) = parse_record(raw, n + i as u64, self.clusters) {
                    if !each(self, vol, rec)? {
                        return Ok(());
                    }
                }
            }
            n += k;
        }
        Ok(())
    }

    /// Records no longer in use that still hold a name, by parent directory.
    fn scan_deleted<R: ReadVirtual>(&self, vol: &mut Volume<R>) -> Result<HashMap<u64, Vec<Entry>>> {
        let mut map: HashMap<u64, Vec<Entry>> = HashMap::new();
        self.each_record(vol, &mut |me, vol, rec| {
            if rec.in_use() || rec.base != 0 {
                return Ok(true);
            }
            let Some(name) = me.name_of(vol, &rec) else { return Ok(true) };
            let e = me.entry(vol, &rec, "", &name.name, true);
            map.entry(name.parent).or_default().push(e);
            Ok(true)
        })?;
        Ok(map)
    }

    /// Where the bytes of `e` (its unnamed `$DATA`, or the stream `stream`) are.
    pub fn data<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, e: &Entry, stream: Option<&str>) -> Result<FileData> {
        let rec = self.record(vol, e.id)?;
        let at = vol.start() + e.entry_offset.unwrap_or(0);
        let (t, name) =
            if e.kind == EntryKind::Dir && stream.is_none() { (ty::INDEX_ALLOCATION, "$I30") } else { (ty::DATA, stream.unwrap_or("")) };
        let pieces = self.pieces(vol, &rec, t, name)?;
        let Some(first) = pieces.first() else {
            if e.kind == EntryKind::Dir {
                return Ok(FileData::Runs { runs: Vec::new(), size: 0 });
            }
            return Err(FsError::NoSuchStream { offset: at, path: e.path.clone(), record: e.id, stream: name.to_string() }.into());
        };
        if let Some(v) = &first.resident {
            return Ok(FileData::Inline(v.clone()));
        }
        let nr: Vec<NonResident> = pieces.iter().filter_map(|a| a.non_resident.clone()).collect();
        if let Some(err) = nr.iter().find_map(|n| n.runs_error.clone()) {
            return Err(FsError::NtfsRunList { offset: at, path: e.path.clone(), damage: err }.into());
        }
        let Some(head) = nr.first() else {
            return Err(FsError::NtfsAttribute { offset: at, path: e.path.clone() }.into());
        };
        let (size, cu, initialized) = (head.data_size, head.compression_unit, head.initialized_size);
        if first.flags & 1 != 0 {
            if cu == 0 || cu > 8 {
                return Err(FsError::NtfsCompressionUnit { offset: at, path: e.path.clone(), log2: cu }.into());
            }
            return Ok(FileData::Compressed { runs: self.runs(&nr), size, unit: self.cluster << cu });
        }
        let init = initialized.min(size);
        let mut runs = self.runs(&nr);
        // Past the initialized size the data reads as zeros.
        let mut clipped: Vec<Run> = Vec::new();
        for r in runs.drain(..) {
            if r.file_offset >= init {
                break;
            }
            let len = r.len.min(init - r.file_offset);
            clipped.push(Run { len, ..r });
        }
        let end = clipped.last().map_or(0, |r| r.file_offset + r.len);
        if end < size {
            clipped.push(Run { file_offset: end, len: size - end, volume_offset: None });
        }
        Ok(FileData::Runs { runs: clipped, size })
    }

    /// The times in `e`'s `$STANDARD_INFORMATION`.
    pub fn times<R: ReadVirtual>(&self, vol: &mut Volume<R>, e: &Entry) -> Result<Times> {
        let rec = self.record(vol, e.id)?;
        let si = rec.find(ty::STANDARD_INFORMATION, "").and_then(|a| a.resident.clone()).unwrap_or_default();
        Ok(Times {
            created: nt_time(le64(&si, 0x00)),
            modified: nt_time(le64(&si, 0x08)),
            changed: nt_time(le64(&si, 0x10)),
            accessed: nt_time(le64(&si, 0x18)),
        })
    }

    /// The volume label (`$Volume`'s `$VOLUME_NAME`).
    pub fn label<R: ReadVirtual>(&self, vol: &mut Volume<R>) -> Option<String> {
        let rec = self.record(vol, 3).ok()?;
        let v = rec.find(ty::VOLUME_NAME, "")?.resident.as_ref()?;
        Some(utf16le(v)).filter(|s| !s.is_empty())
    }

    /// The path of record `n`, from its names' parents (bounded).
    pub fn path_of<R: ReadVirtual>(&self, vol: &mut Volume<R>, n: u64) -> String {
        let mut parts = Vec::new();
        let mut cur = n;
        for _ in 0..super::MAX_DEPTH {
            if cur == 5 {
                break;
            }
            let Some(name) = self.record(vol, cur).ok().and_then(|r| self.name_of(vol, &r)) else {
                parts.push(format!("<record {cur}>"));
                break;
            };
            parts.push(name.name);
            if name.parent == cur {
                break;
            }
            cur = name.parent;
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
    }

    /// The runs of every non-resident attribute of every record, from one read of the MFT;
    /// `None` when there are more than [`MAX_OWNER_RUNS`].
    fn owner_index<R: ReadVirtual>(&self, vol: &mut Volume<R>) -> Result<Option<OwnerIndex>> {
        let mut ix = OwnerIndex::default();
        let mut names: HashMap<String, u32> = HashMap::new();
        let mut full = false;
        self.each_record(vol, &mut |me, _vol, rec| {
            let mut held = false;
            for (k, a) in rec.attributes.iter().enumerate() {
                let Some(nr) = &a.non_resident else { continue };
                let runs = me.runs(std::slice::from_ref(nr));
                if runs.iter().all(|r| r.volume_offset.is_none()) {
                    continue;
                }
                let next = names.len() as u32;
                let name = *names.entry(a.name.clone()).or_insert(next);
                for r in runs {
                    let Some(start) = r.volume_offset else { continue };
                    if ix.runs.len() >= MAX_OWNER_RUNS {
                        full = true;
                        return Ok(false);
                    }
                    ix.runs.push(Held {
                        start,
                        len: r.len,
                        file_offset: r.file_offset,
                        seq: rec.number << 16 | k.min(0xFFFF) as u64,
                        ty: a.ty,
                        name,
                    });
                    held = true;
                }
            }
            if held {
                ix.records.insert(rec.number, (if rec.base != 0 { rec.base } else { rec.number }, rec.in_use()));
            }
            Ok(true)
        })?;
        if full {
            return Ok(None);
        }
        ix.names = vec![String::new(); names.len()];
        for (n, i) in names {
            ix.names[i as usize] = n;
        }
        ix.runs.sort_by_key(|h| h.start);
        let mut m = 0u64;
        ix.max_end = ix
            .runs
            .iter()
            .map(|h| {
                m = m.max(h.start + h.len);
                m
            })
            .collect();
        Ok(Some(ix))
    }

    /// What owns byte `offset`, by reading every MFT record (when the index is too big to keep).
    fn scan_owner<R: ReadVirtual>(&self, vol: &mut Volume<R>, offset: u64) -> Result<Option<Found>> {
        let mut found: Option<Found> = None;
        self.each_record(vol, &mut |me, _vol, rec| {
            for a in &rec.attributes {
                let Some(nr) = &a.non_resident else { continue };
                let runs = me.runs(std::slice::from_ref(nr));
                if let Some(at) = super::in_runs(&runs, offset) {
                    let base = if rec.base != 0 { rec.base } else { rec.number };
                    if found.as_ref().map_or(true, |f| f.2) {
                        found = Some((base, at, !rec.in_use(), a.name.clone(), a.ty));
                    }
                    if rec.in_use() {
                        return Ok(false);
                    }
                }
            }
            Ok(true)
        })?;
        Ok(found)
    }

    /// What owns byte `offset` of the volume: the first call reads every MFT record's runs into
    /// an index (bounded: [`MAX_OWNER_RUNS`]) that the next calls look up.
    pub fn owner<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, offset: u64) -> Result<Owner> {
        if let Some(at) = super::in_runs(&self.mft_runs, offset) {
            let n = at / self.record_size;
            let path = self.path_of(vol, n);
            return Ok(Owner { id: Some(0), file_offset: Some(at), ..Owner::structure(format!("MFT record {n} ({path})")) });
        }
        if self.owners.is_none() {
            self.owners = Some(self.owner_index(vol)?.ok_or(()));
        }
        let found = match &self.owners {
            Some(Ok(index)) => index.lookup(offset),
            _ => self.scan_owner(vol, offset)?,
        };
        if let Some((n, at, deleted, stream, t)) = found {
            let path = self.path_of(vol, n);
            let rec = self.record(vol, n).ok();
            let is_dir = rec.as_ref().is_some_and(Record::is_dir) && t == ty::INDEX_ALLOCATION;
            let what = if t == ty::DATA && !stream.is_empty() { format!("{path}:{stream}") } else { path };
            return Ok(Owner {
                kind: if is_dir {
                    "dir"
                } else if t == ty::DATA {
                    "file"
                } else {
                    "structure"
                },
                what: if t == ty::DATA || is_dir { what } else { format!("{what} (attribute type {t:#x})") },
                id: Some(n),
                file_offset: Some(at),
                deleted,
            });
        }
        // Free or not: the $Bitmap file.
        let bitmap = self.record(vol, 6).ok().and_then(|r| r.find(ty::DATA, "").and_then(|a| a.non_resident.clone()));
        if let Some(nr) = bitmap {
            let c = offset / self.cluster;
            let runs = self.runs(std::slice::from_ref(&nr));
            if let Some(Run { volume_offset: Some(v), file_offset, .. }) =
                runs.iter().find(|r| (c / 8) >= r.file_offset && c / 8 - r.file_offset < r.len).copied()
            {
                let mut b = [0u8; 1];
                vol.read_at(v + c / 8 - file_offset, &mut b)?;
                if b[0] & (1 << (c % 8)) == 0 {
                    return Ok(Owner::free(format!("cluster {c}: free")));
                }
                return Ok(Owner {
                    kind: "unknown",
                    ..Owner::structure(format!("cluster {c}: marked in use in $Bitmap, but no record's runs hold it"))
                });
            }
        }
        Ok(Owner { kind: "unknown", ..Owner::structure(format!("cluster {}: no record's runs hold it", offset / self.cluster)) })
    }
}

impl Ntfs {
    /// What the MFT record says of `e`, for a comparison ([`super::FileSystem::facts`]): record
    /// and sequence number, the clusters its non-resident attributes hold, its times and
    /// attributes (not the access time), and whether it is one of the file system's own files.
    pub fn facts<R: ReadVirtual>(&self, vol: &mut Volume<R>, e: &Entry) -> Facts {
        let mut f = Facts::default();
        let Ok(rec) = self.record(vol, e.id) else { return f };
        f.id = Some(FileId::record(e.id, rec.sequence));
        if let Some(at) = self.record_offset(e.id) {
            f.entry_at = Some((at, at + self.record_size));
        }
        let cs = self.cluster;
        f.allocated = joined(
            rec.attributes
                .iter()
                .filter_map(|a| a.non_resident.as_ref())
                .flat_map(|nr| nr.runs.iter())
                .filter_map(|r| r.lcn.map(|l| (l.saturating_mul(cs), l.saturating_add(r.len).saturating_mul(cs))))
                .collect(),
        );
        if let Some(si) = rec.find(ty::STANDARD_INFORMATION, "").and_then(|a| a.resident.as_ref()) {
            // Created, modified, record changed; attributes (not the access time).
            f.meta = [si.get(0..0x18).unwrap_or(&[]), si.get(0x20..0x24).unwrap_or(&[])].concat();
        }
        let top = e.path.trim_start_matches('/');
        if e.path == "/$Extend" || top.starts_with("$Extend/") || !top.contains('/') && top.starts_with('$') {
            f.structure = Some(e.name.clone());
            // Structures whose bytes are in a named stream.
            f.structure_stream = match e.name.as_str() {
                "$UsnJrnl" => Some("$J"),
                "$Secure" => Some("$SDS"),
                _ => None,
            };
        }
        f
    }

    /// MFT records no longer in use, with a name, that lie in the `changed` volume bytes of the
    /// MFT (at most `limit`), as deleted entries.
    pub fn freed_entries<R: ReadVirtual>(&self, vol: &mut Volume<R>, changed: &[(u64, u64)], limit: usize) -> Vec<Entry> {
        let rs = self.record_size.max(1);
        let mut numbers = Vec::new();
        for r in &self.mft_runs {
            let Some(at) = r.volume_offset else { continue };
            let end = at.saturating_add(r.len);
            let from = changed.partition_point(|c| c.1 <= at);
            for &(a, b) in changed[from..].iter().take_while(|c| c.0 < end) {
                let (a, b) = (a.max(at) - at, b.min(end) - at);
                let (first, last) = ((r.file_offset + a) / rs, (r.file_offset + b).div_ceil(rs));
                numbers.extend(first..last.min(first.saturating_add(limit as u64)));
            }
            if numbers.len() >= limit {
                break;
            }
        }
        numbers.sort_unstable();
        numbers.dedup();
        let mut out = Vec::new();
        for k in numbers {
            let Ok(rec) = self.record(vol, k) else { continue };
            if rec.in_use() || rec.base != 0 {
                continue;
            }
            let Some(name) = self.name_of(vol, &rec) else { continue };
            let data = rec.find(ty::DATA, "");
            let size = data
                .map_or(0, |a| a.resident.as_ref().map_or_else(|| a.non_resident.as_ref().map_or(0, |x| x.data_size), |v| v.len() as u64));
            let dir = self.path_of(vol, name.parent);
            out.push(Entry {
                path: join(&dir, &name.name),
                name: name.name,
                kind: if rec.is_dir() { EntryKind::Dir } else { EntryKind::File },
                size: if rec.is_dir() { 0 } else { size },
                modified: None,
                deleted: true,
                id: k,
                attributes: Vec::new(),
                entry_offset: self.record_offset(k),
                streams: Vec::new(),
                exfat: None,
            });
        }
        out
    }

    /// The copy of the boot sector past the last whole cluster, in the volume's last sector
    /// (the MFT, `$LogFile` and the other structures are files, counted as such).
    pub fn structures<R: ReadVirtual>(&self, vol: &mut Volume<R>) -> Vec<Structure> {
        let cs = self.cluster.max(1);
        let boot = vol.read_vec(0, 512).unwrap_or_default();
        let bytes = le64(&boot, 0x28).saturating_mul(u64::from(le16(&boot, 0x0B)));
        let end = (bytes / cs).saturating_mul(cs).min(vol.len().saturating_sub(512));
        vec![(end, vol.len(), "$Boot")]
    }

    /// Where `$Bitmap`'s data is (record 6's unnamed data).
    fn bitmap_data<R: ReadVirtual>(&mut self, vol: &mut Volume<R>) -> Result<FileData> {
        let e = Entry { name: "$Bitmap".into(), path: "/$Bitmap".into(), kind: EntryKind::File, ..Entry::root(6, self.record_offset(6)) };
        self.data(vol, &e, None)
    }

    /// True when the cluster holding volume byte `at` is marked in `$Bitmap`; true too when
    /// that cannot be read.
    pub fn in_use<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, at: u64) -> bool {
        if self.bitmap.is_none() {
            self.bitmap = Some(self.bitmap_data(vol).map(|d| d.runs().to_vec()).unwrap_or_default());
        }
        let c = at / self.cluster.max(1);
        let x = c / 8;
        let place = self
            .bitmap
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|r| x >= r.file_offset && x - r.file_offset < r.len)
            .and_then(|r| r.volume_offset.map(|v| v + x - r.file_offset));
        let Some(place) = place else { return true };
        let mut byte = [0u8; 1];
        vol.read_at(place, &mut byte).map_or(true, |_| byte[0] & (1 << (c % 8)) != 0)
    }
}

/// The type code of `$VOLUME_INFORMATION`.
const VOLUME_INFORMATION: u32 = 0x70;
/// `$VOLUME_INFORMATION`'s flag: the volume is dirty (chkdsk runs at the next mount).
const VOLUME_IS_DIRTY: u16 = 0x0001;

impl Ntfs {
    /// `$Bitmap` as a map of free clusters, or why the volume must be kept whole: `$Volume`'s
    /// `$VOLUME_INFORMATION` says it is dirty (not closed cleanly, so `$Bitmap` may be stale),
    /// or it cannot be read, or `$Bitmap`'s data is not in plain runs.
    pub fn free_map<R: ReadVirtual>(&mut self, vol: &mut Volume<R>) -> Result<std::result::Result<BitmapMap, String>> {
        let flags = match self.record(vol, 3) {
            Ok(rec) => rec.find(VOLUME_INFORMATION, "").and_then(|a| a.resident.as_deref()).map(|v| le16(v, 0x0A)),
            Err(e) => return Ok(Err(format!("its $Volume record cannot be read ({e})"))),
        };
        match flags {
            None => return Ok(Err("its $Volume record holds no $VOLUME_INFORMATION to say whether it was closed cleanly".into())),
            Some(f) if f & VOLUME_IS_DIRTY != 0 => {
                return Ok(Err(
                    "it is marked dirty (not closed cleanly; chkdsk would run at the next mount), so its $Bitmap may be stale".into()
                ))
            }
            Some(_) => {}
        }
        if let Some(why) = self.logfile_unclean(vol) {
            return Ok(Err(why.into()));
        }
        Ok(match self.bitmap_data(vol) {
            Ok(FileData::Runs { runs, size }) => Ok(BitmapMap { runs, size, cluster: self.cluster, clusters: self.clusters }),
            Ok(_) => Err("its $Bitmap is not stored in plain runs".into()),
            Err(e) => Err(format!("its $Bitmap cannot be found ({e})")),
        })
    }
}

impl Ntfs {
    /// Why `$LogFile` says the volume was not closed cleanly, if it does (or cannot be read).
    fn logfile_unclean<R: ReadVirtual>(&mut self, vol: &mut Volume<R>) -> Option<&'static str> {
        let e = Entry { name: "$LogFile".into(), path: "/$LogFile".into(), kind: EntryKind::File, ..Entry::root(2, self.record_offset(2)) };
        let unreadable = "its $LogFile cannot be read to say whether it was closed cleanly";
        let Ok(data) = self.data(vol, &e, None) else { return Some(unreadable) };
        let Some(at) = data.runs().first().and_then(|r| r.volume_offset) else { return Some(unreadable) };
        let Ok(head) = vol.read_vec(at, 512) else { return Some(unreadable) };
        let size = le32(&head, 0x10);
        let size = if head.get(..4) == Some(b"RSTR") && (512..=65536).contains(&size) && size.is_power_of_two() { size } else { 512 };
        let Ok(mut page) = vol.read_vec(at, size as usize) else { return Some(unreadable) };
        logfile_unclean(&mut page)
    }
}

/// What the first restart page of `$LogFile` says: why the volume was not closed cleanly, or
/// `None` when it was (its restart area marked clean or with no client in use, as ntfs-3g
/// reads it) or the log is empty (filled with 0xFF, as mkntfs and ntfs-3g leave it).
pub fn logfile_unclean(page: &mut [u8]) -> Option<&'static str> {
    match page.get(..4) {
        Some(b"RSTR") => {}
        Some(b"CHKD") => return Some("its $LogFile's restart page is marked CHKD (chkdsk stopped part way), so its $Bitmap may be stale"),
        _ => return None,
    }
    if apply_fixups(page).is_err() {
        return Some("its $LogFile's restart page is torn, so it may not have been closed cleanly");
    }
    let ra = usize::from(le16(page, 0x18));
    if ra + 0x10 > page.len() {
        return Some("its $LogFile's restart area lies outside its page, so it may not have been closed cleanly");
    }
    let (in_use, flags) = (le16(page, ra + 0x0C), le16(page, ra + 0x0E));
    (in_use != 0xFFFF && flags & 0x0002 == 0).then_some(
        "its $LogFile holds transactions not yet applied (it was not closed cleanly, or Windows hibernated it with Fast Startup), so its $Bitmap may be stale",
    )
}

/// NTFS's free clusters: `$Bitmap`'s data, one bit per cluster (set: in use), read a window at
/// a time through its runs. Clusters past the volume's last one (the backup boot sector lies
/// after it), past `$Bitmap`'s size or in a hole of it are never free.
#[derive(Debug, Clone)]
pub struct BitmapMap {
    runs: Vec<Run>,
    size: u64,
    cluster: u64,
    clusters: u64,
}

impl BitmapMap {
    /// (0, bytes per cluster, clusters of the volume).
    pub(crate) fn geometry(&self) -> (u64, u64, u64) {
        (0, self.cluster, self.clusters)
    }

    /// Marks the free clusters of `win` (whose first unit is a multiple of 8).
    pub(crate) fn fill<R: ReadVirtual>(&self, vol: &mut Volume<R>, win: &mut Window) -> Result<()> {
        let from = win.first() / 8;
        let to = (win.first() + win.count()).div_ceil(8).min(self.size);
        for r in &self.runs {
            let (a, b) = (r.file_offset.max(from), r.file_offset.saturating_add(r.len).min(to));
            let Some(at) = r.volume_offset.filter(|_| a < b) else { continue };
            let mut map = vec![0u8; (b - a) as usize];
            vol.read_uncached(at + (a - r.file_offset), &mut map)?;
            win.free_where_clear((a - from) * 8, &map, (b - a) * 8);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::logfile_unclean;

    /// A 4 KiB restart page (8 sectors, update sequence at 0x1E) whose restart area at 0x30 has
    /// `in_use` as its client in-use list and `flags`.
    fn page(in_use: u16, flags: u16) -> Vec<u8> {
        let mut p = vec![0u8; 4096];
        p[..4].copy_from_slice(b"RSTR");
        p[4..6].copy_from_slice(&0x1Eu16.to_le_bytes());
        p[6..8].copy_from_slice(&9u16.to_le_bytes());
        p[0x10..0x14].copy_from_slice(&4096u32.to_le_bytes());
        p[0x18..0x1A].copy_from_slice(&0x30u16.to_le_bytes());
        p[0x30 + 0x0C..0x30 + 0x0E].copy_from_slice(&in_use.to_le_bytes());
        p[0x30 + 0x0E..0x30 + 0x10].copy_from_slice(&flags.to_le_bytes());
        // Update sequence number 7 at the end of every sector, the saved bytes zeros.
        p[0x1E..0x20].copy_from_slice(&7u16.to_le_bytes());
        for k in 1..=8 {
            p[k * 512 - 2..k * 512].copy_from_slice(&7u16.to_le_bytes());
        }
        p
    }

    #[test]
    fn a_restart_area_in_use_and_not_marked_clean_is_unclean() {
        assert!(logfile_unclean(&mut page(0, 0)).is_some_and(|w| w.contains("not yet applied")));
        assert_eq!(logfile_unclean(&mut page(0, 2)), None, "marked clean");
        assert_eq!(logfile_unclean(&mut page(0xFFFF, 0)), None, "no client in use");
        assert_eq!(logfile_unclean(&mut vec![0xFF; 4096]), None, "an empty log");
        let mut torn = page(0xFFFF, 2);
        torn[1022] = 0;
        assert!(logfile_unclean(&mut torn).is_some_and(|w| w.contains("torn")));
        let mut chkd = page(0xFFFF, 2);
        chkd[..4].copy_from_slice(b"CHKD");
        assert!(logfile_unclean(&mut chkd).is_some_and(|w| w.contains("CHKD")));
    }
}
