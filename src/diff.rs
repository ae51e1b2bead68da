//! What a differencing disk changed, file by file.
//!
//! Two sides of one disk are compared: the *parent side* (the disk as of layer K) and the *child
//! side* (as of layer J, newer). The comparison is bounded by what the child holds: the sectors
//! its layers' bitmaps mark ([`held_ranges`]), the parent's bytes at the same places, and the
//! file-system metadata of both sides (directories, FAT, MFT records, inodes); file data is never
//! hashed. Each held sector is compared with the parent's: equal bytes are an *identical
//! rewrite*. Both sides' files are listed from their metadata and matched by identity (NTFS
//! record and sequence number, ext inode and generation, FAT start cluster and creation time,
//! then path; never the directory slot), and each held byte is put where it went: a file, a
//! structure of the file system, or free space.
//!
//! Two disks that are not one chain can be compared too ([`allocated_ranges`] of both): then
//! every allocated sector is read ([`Mode::Unrelated`]).
//!
//! [`diff`] takes a progress callback that may stop it, so that the page can run it in a worker.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::disk::Source;
use crate::error::{Error, Result};
use crate::fs::{self, ntfs, Entry, EntryKind, FileData, FileSystem, FsKind, ReadVirtual, Run, Volume};
use crate::parts::{self, Role};
use crate::reader::DiskReader;

/// Bytes per sector.
pub const SECTOR: u64 = 512;
/// The most files (live and deleted) listed per side and partition; a damaged or hostile file
/// system cannot make the diff list more.
pub const MAX_FILES: usize = 1 << 20;
/// Names kept of one file (hard links); more are left out.
const MAX_LINKS: usize = 64;
/// The most bytes compared in one read.
const CHUNK: u64 = 1 << 20;

/// Sorted, disjoint byte ranges `[start, end)`.
pub type Ranges = Vec<(u64, u64)>;

/// How the two sides relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Two layers of one chain: only the sectors the newer layers hold are read.
    Chain,
    /// Two disks that are not one chain: every allocated sector of either is read.
    Unrelated,
}

/// What happened to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// New in the child.
    Added,
    /// Gone in the child.
    Deleted,
    /// Same path, other content.
    Modified,
    /// Another path (a move between directories too); `content_changed` says if the content changed.
    Renamed,
    /// Only times or attributes changed.
    Metadata,
    /// Created and deleted while the child was in use: a deleted entry the child wrote, whose
    /// data the child holds.
    Transient,
}

impl Kind {
    /// The word used in output.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Added => "added",
            Kind::Deleted => "deleted",
            Kind::Modified => "modified",
            Kind::Renamed => "renamed",
            Kind::Metadata => "metadata",
            Kind::Transient => "transient",
        }
    }
}

/// One changed file or directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The path on the child side (the parent side's for a deleted file).
    pub path: String,
    /// `file` or `dir` (or `symlink`, `other`).
    #[serde(rename = "type")]
    pub entry_type: EntryKind,
    /// What happened.
    pub kind: Kind,
    /// The path on the parent side, when it differs (renamed).
    pub old_path: Option<String>,
    /// True when the content differs (always for added, deleted and modified).
    pub content_changed: bool,
    /// Size on the child side (0 when deleted).
    pub size: u64,
    /// Size on the parent side (0 when added).
    pub old_size: u64,
    /// Bytes of the file's data the child holds.
    pub bytes_held: u64,
    /// Of those, bytes equal to the parent's at the same place.
    pub identical_bytes: u64,
    /// Noise Windows makes on every boot (`pagefile`, `hiberfil`, `registry log`, `prefetch`,
    /// `event log`, ...), flagged, not hidden.
    pub noise: Option<&'static str>,
    /// For a deleted FAT entry (transient): false when its first character is lost (shown as
    /// `_`), true when long-name entries gave all of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_complete: Option<bool>,
    /// The file's other names (NTFS and ext hard links), on its side: one file, several paths.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
}

/// Bytes of one structure of the file system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetaBytes {
    /// Its name (`FAT tables`, `directories`, `$MFT`, `$LogFile`, `inode tables`, ...).
    pub name: String,
    /// Bytes of it the child holds.
    pub bytes_held: u64,
}

/// Where a partition's held bytes went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Held {
    /// Data of files.
    pub files: u64,
    /// Structures of the file system.
    pub filesystem_metadata: u64,
    /// Clusters the child's file system marks free (deleted temporary files' data included).
    pub free_space: u64,
}

/// One partition's changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionDiff {
    /// Its number (as `parts` numbers them).
    pub index: u32,
    /// Its file system on the child side (`fat16`, `ntfs`, ...), if one is read.
    pub filesystem: Option<&'static str>,
    /// Changed files, by kind then path.
    pub changes: Vec<Change>,
    /// Structures of the file system the child holds bytes of, by name.
    pub filesystem_metadata: Vec<MetaBytes>,
    /// Where the held bytes went.
    pub held: Held,
    /// Bytes of the partition the child holds.
    pub held_bytes: u64,
    /// Of those, bytes equal to the parent's.
    pub identical_bytes: u64,
    /// Why the files could not be compared (the file system did not open on one side).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The whole answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `chain` or `unrelated`.
    pub mode: Mode,
    /// Bytes the child holds (unrelated: bytes allocated in either disk).
    pub held_bytes: u64,
    /// Held bytes equal to the parent's at the same place.
    pub identical_bytes: u64,
    /// Held bytes outside every partition (tables, gaps).
    pub outside_partitions_bytes: u64,
    /// Bytes of the virtual disks read to answer (both sides, data and metadata).
    pub bytes_read: u64,
    /// Per partition.
    pub partitions: Vec<PartitionDiff>,
}

/// A progress callback: `(done, total)`; returning false stops the diff (error `cancelled`).
pub type Progress<'a> = dyn FnMut(u64, u64) -> bool + 'a;

/// The ranges of the virtual disk that layers `0..layers` of `reader`'s chain hold (the child
/// side's own sectors, from their bitmaps). Reads only bitmaps.
pub fn held_ranges(reader: &mut DiskReader<'_>, layers: usize) -> Result<Ranges> {
    let mut out: Ranges = Vec::new();
    let size = reader.disk.size();
    reader.for_each_extent(0, size, |e| {
        if matches!(e.source, Source::Data { layer, .. } if layer < layers) {
            push_range(&mut out, e.offset, e.offset + e.len);
        }
        Ok(())
    })?;
    Ok(out)
}

/// [`held_ranges`] from extents planned elsewhere (the page plans with [`crate::disk::Disk::plan`]
/// and its own reads): the ranges that layers `0..layers` supply.
pub fn held_from_extents<'a>(extents: impl IntoIterator<Item = &'a crate::disk::Extent>, layers: usize) -> Ranges {
    let v: Vec<(u64, u64)> = extents
        .into_iter()
        .filter(|e| matches!(e.source, Source::Data { layer, .. } if layer < layers))
        .map(|e| (e.offset, e.offset + e.len))
        .collect();
    joined(v)
}

/// The ranges of the virtual disk any layer of `reader`'s chain holds (allocated, not zero-fill).
pub fn allocated_ranges(reader: &mut DiskReader<'_>) -> Result<Ranges> {
    held_ranges(reader, usize::MAX)
}

/// The union of two sorted range lists.
pub fn union(a: &[(u64, u64)], b: &[(u64, u64)]) -> Ranges {
    joined(a.iter().chain(b).copied().collect())
}

/// Ranges in any order, sorted and joined where they touch or overlap.
fn joined(mut v: Vec<(u64, u64)>) -> Ranges {
    v.sort_unstable();
    let mut out = Vec::new();
    for (s, e) in v {
        push_range(&mut out, s, e);
    }
    out
}

fn push_range(out: &mut Ranges, s: u64, e: u64) {
    if s >= e {
        return;
    }
    match out.last_mut() {
        Some(l) if s <= l.1 => l.1 = l.1.max(e),
        _ => out.push((s, e)),
    }
}

/// `ranges` clipped to `[start, end)` and moved by `-start`.
fn window(ranges: &[(u64, u64)], start: u64, end: u64) -> Ranges {
    let from = ranges.partition_point(|r| r.1 <= start);
    ranges[from..].iter().take_while(|r| r.0 < end).map(|r| (r.0.max(start) - start, r.1.min(end) - start)).collect()
}

fn total(ranges: &[(u64, u64)]) -> u64 {
    ranges.iter().map(|r| r.1 - r.0).sum()
}

/// Bytes of `ranges` inside `[s, e)`.
fn overlap(ranges: &[(u64, u64)], s: u64, e: u64) -> u64 {
    let from = ranges.partition_point(|r| r.1 <= s);
    ranges[from..].iter().take_while(|r| r.0 < e).map(|r| r.1.min(e) - r.0.max(s)).sum()
}

/// Counts what is read, and reads zeros past the end (the other side may be smaller).
struct Counted<R> {
    inner: R,
    bytes: u64,
}

impl<R: ReadVirtual> ReadVirtual for Counted<R> {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn sector_size(&self) -> u32 {
        self.inner.sector_size()
    }
    fn read_virtual(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.bytes += buf.len() as u64;
        let size = self.inner.size();
        let n = size.saturating_sub(offset).min(buf.len() as u64) as usize;
        buf[n..].fill(0);
        if n > 0 {
            self.inner.read_virtual(offset, &mut buf[..n])?;
        }
        Ok(())
    }
}

/// Compares the held sectors of both sides; returns the ranges whose bytes differ.
fn compare<P: ReadVirtual, C: ReadVirtual>(
    parent: &mut P,
    child: &mut C,
    held: &[(u64, u64)],
    done: &mut u64,
    all: u64,
    progress: &mut Progress<'_>,
) -> Result<Ranges> {
    let mut changed = Vec::new();
    let (mut a, mut b) = (vec![0u8; CHUNK as usize], vec![0u8; CHUNK as usize]);
    for &(s, e) in held {
        let mut pos = s;
        while pos < e {
            let n = (e - pos).min(CHUNK) as usize;
            parent.read_virtual(pos, &mut a[..n])?;
            child.read_virtual(pos, &mut b[..n])?;
            let mut k = 0usize;
            while k < n {
                let m = (SECTOR as usize).min(n - k);
                if a[k..k + m] != b[k..k + m] {
                    push_range(&mut changed, pos + k as u64, pos + (k + m) as u64);
                }
                k += m;
            }
            pos += n as u64;
            *done += n as u64;
            if !progress(*done, all) {
                return Err(cancelled());
            }
        }
    }
    Ok(changed)
}

fn cancelled() -> Error {
    Error::chain("cancelled", "the diff was stopped")
}

/// Compares the disk `parent` (older) with `child` (newer) over `held`, the child's held
/// ranges ([`held_ranges`]; for two unrelated disks the union of both [`allocated_ranges`]).
pub fn diff<P: ReadVirtual, C: ReadVirtual>(
    parent: P,
    child: C,
    held: &[(u64, u64)],
    mode: Mode,
    progress: &mut Progress<'_>,
) -> Result<Report> {
    let mut parent = Counted { inner: parent, bytes: 0 };
    let mut child = Counted { inner: child, bytes: 0 };
    let size = child.size();
    // The caller's ranges sorted and joined first: anything may come in.
    let held: Ranges = window(&union(held, &[]), 0, size);
    let held_bytes = total(&held);
    // Progress: the held bytes compared, then one step per partition.
    let table = parts::read(&mut child)?;
    let parts: Vec<&parts::Partition> =
        table.partitions.iter().filter(|p| p.role != Role::Extended && !p.is_empty() && p.offset() < size).collect();
    let all = held_bytes + parts.len() as u64;
    let mut done = 0u64;
    let changed = compare(&mut parent, &mut child, &held, &mut done, all, progress)?;
    let identical_bytes = held_bytes - total(&changed);
    let mut inside: Ranges = Vec::new();
    let mut partitions = Vec::new();
    for p in parts {
        let (start, end) = (p.offset(), p.offset().saturating_add(p.len()).min(size));
        push_range(&mut inside, start, end);
        let ph = window(&held, start, end);
        let pc = window(&changed, start, end);
        let mut pd = PartitionDiff {
            index: p.index,
            filesystem: None,
            changes: Vec::new(),
            filesystem_metadata: Vec::new(),
            held: Held::default(),
            held_bytes: total(&ph),
            identical_bytes: total(&ph) - total(&pc),
            error: None,
        };
        if p.filesystem.is_some() {
            let mut pv = Volume::new(&mut parent, start, end - start);
            let mut cv = Volume::new(&mut child, start, end - start);
            if let Err(e) = partition(&mut pv, &mut cv, &ph, &pc, &mut pd) {
                if e.code() == "cancelled" {
                    return Err(e);
                }
                pd.error = Some(e.to_string());
            }
        }
        partitions.push(pd);
        done += 1;
        if !progress(done, all) {
            return Err(cancelled());
        }
    }
    inside.sort_unstable();
    let mut merged = Vec::new();
    for (s, e) in inside {
        push_range(&mut merged, s, e);
    }
    let outside = held_bytes - merged.iter().map(|r| overlap(&held, r.0, r.1)).sum::<u64>();
    Ok(Report { mode, held_bytes, identical_bytes, outside_partitions_bytes: outside, bytes_read: parent.bytes + child.bytes, partitions })
}

/// Who a file is, across the two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Ident {
    /// NTFS record and sequence number.
    Ntfs(u64, u16),
    /// ext inode and generation.
    Ext(u64, u32),
    /// FAT start cluster and creation time (date, time and 10 ms).
    Fat(u64, u64),
    /// No identity (a FAT file without clusters, the root): matched by path.
    None,
}

/// One file or directory of a side, from the metadata.
#[derive(Debug, Clone)]
struct Item {
    entry: Entry,
    ident: Ident,
    /// The data: runs on the volume, or inline bytes.
    runs: Vec<Run>,
    inline: Option<Vec<u8>>,
    /// Times and attributes as stored (access time left out), to see a metadata change.
    meta: Vec<u8>,
    /// Where the entry itself lies (FAT directory slot, MFT record, inode), volume bytes.
    entry_at: Option<(u64, u64)>,
    /// A structure of the file system rather than a user file (NTFS `$` files).
    structure: Option<String>,
    name_complete: Option<bool>,
    /// Its other names (hard links), sorted; `entry.path` is the first of all its names.
    links: Vec<String>,
    /// NTFS: the clusters every non-resident attribute of the base record has allocated (whole
    /// clusters, past the initialized size too).
    allocated: Ranges,
}

/// Byte ranges of an item's data on the volume, sorted.
fn data_ranges(runs: &[Run], size: u64, cluster: u64) -> Ranges {
    let limit = size.div_ceil(cluster.max(1)).saturating_mul(cluster.max(1));
    let v: Vec<(u64, u64)> = runs
        .iter()
        .filter(|r| r.file_offset < limit)
        .filter_map(|r| r.volume_offset.map(|at| (at, at.saturating_add(r.len.min(limit - r.file_offset)))))
        .collect();
    joined(v)
}

/// Lists one side's files with their identity, data and metadata, directory by directory (so
/// that the metadata just listed is still in the volume's cache when each entry is read again).
/// A directory that could not be listed does not stop the listing: the first such error is kept
/// in `trouble`. With `deleted`, deleted entries too: FAT and ext from the directories; NTFS from
/// the MFT records in `changed` only (a transient file's record is one the child wrote), not
/// from a scan of the whole MFT.
fn inventory<R: ReadVirtual>(
    fsys: &mut FileSystem,
    vol: &mut Volume<R>,
    deleted: bool,
    changed: &[(u64, u64)],
    trouble: &mut Option<Error>,
) -> Result<Vec<Item>> {
    let ntfs = matches!(fsys, FileSystem::Ntfs(_));
    let root = fsys.root();
    let mut b = Builder {
        seen: HashMap::new(),
        // A budget of clusters to follow: a sound file system's files (hard links counted once)
        // fit in its clusters; a hostile one (every entry claiming the whole volume through a
        // looping chain) runs out of it, and the rest of its files are listed without their data.
        budget: (vol.len() / fsys.cluster_size().max(512)).saturating_mul(4).saturating_add(1 << 16),
        cluster: fsys.cluster_size().max(512),
        out: Vec::new(),
    };
    b.add(fsys, vol, root.clone());
    let mut dirs = vec![(root.clone(), 0usize)];
    let mut entered = HashSet::new();
    entered.insert(root.id);
    while let Some((dir, depth)) = dirs.pop() {
        let list = match fsys.list(vol, &dir, deleted && !ntfs) {
            Ok(l) => l,
            Err(e) => {
                if trouble.is_none() {
                    *trouble = Some(e);
                }
                continue;
            }
        };
        for e in list {
            if b.out.len() >= MAX_FILES {
                break;
            }
            if e.kind == EntryKind::Dir && !e.deleted && depth < fs::MAX_DEPTH && entered.insert(e.id) {
                dirs.push((e.clone(), depth + 1));
            }
            b.add(fsys, vol, e);
        }
    }
    if deleted && ntfs {
        for e in changed_records(fsys, vol, &b.out, changed) {
            if b.out.len() >= MAX_FILES {
                break;
            }
            b.add(fsys, vol, e);
        }
    }
    // A file of several names is named by the first of them in order, so that which one the walk
    // met first does not matter.
    for it in b.out.iter_mut().filter(|it| !it.links.is_empty()) {
        it.links.push(std::mem::take(&mut it.entry.path));
        it.links.sort();
        it.links.dedup();
        it.entry.path = it.links.remove(0);
        it.entry.name = it.entry.path.rsplit('/').next().unwrap_or_default().to_string();
    }
    Ok(b.out)
}

/// NTFS records no longer in use, with a name, that lie in the `changed` bytes of the `$MFT`.
fn changed_records<R: ReadVirtual>(fsys: &mut FileSystem, vol: &mut Volume<R>, items: &[Item], changed: &[(u64, u64)]) -> Vec<Entry> {
    let FileSystem::Ntfs(n) = fsys else { return Vec::new() };
    let Some(mft) = items.iter().find(|i| i.entry.path == "/$MFT") else { return Vec::new() };
    let rs = n.record_size().max(1);
    let mut numbers = Vec::new();
    for r in &mft.runs {
        let Some(at) = r.volume_offset else { continue };
        for (a, b) in window(changed, at, at.saturating_add(r.len)) {
            let (first, last) = ((r.file_offset + a) / rs, (r.file_offset + b).div_ceil(rs));
            numbers.extend(first..last.min(first.saturating_add(MAX_FILES as u64)));
        }
        if numbers.len() >= MAX_FILES {
            break;
        }
    }
    numbers.sort_unstable();
    numbers.dedup();
    let mut out = Vec::new();
    for k in numbers {
        let Ok(rec) = n.record(vol, k) else { continue };
        if rec.in_use() || rec.base != 0 {
            continue;
        }
        let Some(name) = n.name_of(vol, &rec) else { continue };
        let data = rec.find(ntfs::ty::DATA, "");
        let size =
            data.map_or(0, |a| a.resident.as_ref().map_or_else(|| a.non_resident.as_ref().map_or(0, |x| x.data_size), |v| v.len() as u64));
        let dir = n.path_of(vol, name.parent);
        out.push(Entry {
            path: fs::join(&dir, &name.name),
            name: name.name,
            kind: if rec.is_dir() { EntryKind::Dir } else { EntryKind::File },
            size: if rec.is_dir() { 0 } else { size },
            modified: None,
            deleted: true,
            id: k,
            attributes: Vec::new(),
            entry_offset: n.record_offset(k),
            streams: Vec::new(),
        });
    }
    out
}

/// Builds [`Item`]s from entries, within a budget.
struct Builder {
    /// Where each file found is in `out`, by identity.
    seen: HashMap<Ident, usize>,
    budget: u64,
    cluster: u64,
    out: Vec<Item>,
}

impl Builder {
    fn add<R: ReadVirtual>(&mut self, fsys: &mut FileSystem, vol: &mut Volume<R>, e: Entry) {
        let mut item = Item {
            ident: Ident::None,
            runs: Vec::new(),
            inline: None,
            meta: Vec::new(),
            entry_at: None,
            structure: None,
            name_complete: None,
            links: Vec::new(),
            allocated: Vec::new(),
            entry: e,
        };
        identify(fsys, vol, &mut item);
        // A hard link: the same file under another name, kept as one of its names.
        if item.ident != Ident::None && !item.entry.deleted {
            if let Some(&i) = self.seen.get(&item.ident) {
                let links = &mut self.out[i].links;
                if links.len() < MAX_LINKS {
                    links.push(item.entry.path);
                }
                return;
            }
            self.seen.insert(item.ident, self.out.len());
        }
        let cost = if item.entry.kind == EntryKind::Dir { 1 } else { item.entry.size.div_ceil(self.cluster) + 1 };
        if cost > self.budget {
            self.out.push(item);
            return;
        }
        self.budget -= cost;
        match fsys.data(vol, &item.entry, None) {
            Ok(FileData::Inline(b)) => item.inline = Some(b),
            Ok(FileData::Runs { runs, .. } | FileData::Compressed { runs, .. }) => item.runs = runs,
            Err(_) => {}
        }
        if let (FileSystem::Ntfs(_), Some(s)) = (&*fsys, &item.structure) {
            // Structures whose bytes are in a named stream.
            let stream = match s.as_str() {
                "$UsnJrnl" => Some("$J"),
                "$Secure" => Some("$SDS"),
                _ => None,
            };
            if let Some(Ok(FileData::Runs { runs, .. })) = stream.map(|st| fsys.data(vol, &item.entry, Some(st))) {
                item.runs.extend(runs);
            }
        }
        self.out.push(item);
    }
}

/// Fills an item's identity, metadata bytes and entry place from the raw metadata.
fn identify<R: ReadVirtual>(fsys: &mut FileSystem, vol: &mut Volume<R>, item: &mut Item) {
    let e = &item.entry;
    match fsys {
        FileSystem::Fat(_) => {
            let Some(at) = e.entry_offset else { return };
            let Ok(raw) = vol.read_vec(at, 32) else { return };
            item.entry_at = Some((at, at + 32));
            // Attributes, creation time (10 ms, time, date), modification time and date.
            item.meta = [&raw[11..12], &raw[13..18], &raw[22..26]].concat();
            let created = u64::from(raw[13]) | u64::from(fs::le16(&raw, 14)) << 8 | u64::from(fs::le16(&raw, 16)) << 24;
            let cluster = u64::from(fs::le16(&raw, 0x1A)) | u64::from(fs::le16(&raw, 0x14)) << 16;
            if cluster >= 2 {
                let stamp =
                    if created != 0 { created } else { 1 << 48 | u64::from(fs::le32(&raw, 0x1C)) << 16 | u64::from(fs::le16(&raw, 0x18)) };
                item.ident = Ident::Fat(cluster, stamp);
            }
            if e.deleted {
                // The short name's first byte is gone: `_` stands for it unless a long name gave
                // it; and a long name is whole only when its last piece (the first slot) ends it.
                let short = short_name_with_underscore(&raw);
                item.name_complete = Some(!e.name.eq_ignore_ascii_case(&short) && long_name_ends(vol, at));
            }
        }
        FileSystem::Ntfs(n) => {
            let Ok(rec) = n.record(vol, e.id) else { return };
            item.ident = Ident::Ntfs(e.id, rec.sequence);
            if let Some(at) = n.record_offset(e.id) {
                item.entry_at = Some((at, at + n.record_size()));
            }
            let cs = n.cluster_size();
            let mut v: Vec<(u64, u64)> = rec
                .attributes
                .iter()
                .filter_map(|a| a.non_resident.as_ref())
                .flat_map(|nr| nr.runs.iter())
                .filter_map(|r| r.lcn.map(|l| (l.saturating_mul(cs), l.saturating_add(r.len).saturating_mul(cs))))
                .collect();
            v.sort_unstable();
            for (s, e) in v {
                push_range(&mut item.allocated, s, e);
            }
            if let Some(si) = rec.find(ntfs::ty::STANDARD_INFORMATION, "").and_then(|a| a.resident.as_ref()) {
                // Created, modified, record changed; attributes (not the access time).
                item.meta = [si.get(0..0x18).unwrap_or(&[]), si.get(0x20..0x24).unwrap_or(&[])].concat();
            }
            let top = e.path.trim_start_matches('/');
            if e.path == "/$Extend" || top.starts_with("$Extend/") || !top.contains('/') && top.starts_with('$') {
                item.structure = Some(e.name.clone());
            }
        }
        FileSystem::Ext(x) => {
            let sb = &x.sb;
            if e.id == 0 || e.id > sb.inodes || sb.inodes_per_group == 0 {
                return;
            }
            let (g, i) = ((e.id - 1) / sb.inodes_per_group, (e.id - 1) % sb.inodes_per_group);
            let Ok(grp) = x.group(vol, g) else { return };
            let at = grp.inode_table.saturating_mul(sb.block_size).saturating_add(i * sb.inode_size);
            let Ok(raw) = vol.read_vec(at, sb.inode_size.min(256) as usize) else { return };
            item.entry_at = Some((at, at + sb.inode_size));
            item.ident = Ident::Ext(e.id, fs::le32(&raw, 0x64));
            // Mode, uid, ctime, mtime; gid, links; flags (not atime).
            item.meta = [
                raw.get(0..4).unwrap_or(&[]),
                raw.get(0x0C..0x14).unwrap_or(&[]),
                raw.get(0x18..0x1C).unwrap_or(&[]),
                raw.get(0x20..0x24).unwrap_or(&[]),
            ]
            .concat();
        }
    }
}

/// True when the long-name slots before the short entry at `at` (in the same 4 KiB at most)
/// end the name: the slot farthest back holds its terminator (0x0000) or padding (0xFFFF). A
/// deleted name whose first slots were taken by a newer entry does not end.
fn long_name_ends<R: ReadVirtual>(vol: &mut Volume<R>, at: u64) -> bool {
    let from = at.saturating_sub(20 * 32).max(at - at % 4096);
    let Ok(b) = vol.read_vec(from, (at - from) as usize) else { return false };
    let mut top: Option<&[u8]> = None;
    for slot in b.chunks_exact(32).rev() {
        if slot[11] & 0x3F != 0x0F {
            break;
        }
        top = Some(slot);
    }
    let Some(top) = top else { return false };
    [1usize, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30].iter().any(|&k| matches!(fs::le16(top, k), 0 | 0xFFFF))
}

fn short_name_with_underscore(raw: &[u8]) -> String {
    let base = String::from_utf8_lossy(&raw[1..8]).trim_end().to_string();
    let ext = String::from_utf8_lossy(&raw[8..11]).trim_end().to_string();
    if ext.is_empty() {
        format!("_{base}")
    } else {
        format!("_{base}.{ext}")
    }
}

/// Noise Windows makes on every boot, by path.
pub fn noise(path: &str) -> Option<&'static str> {
    let p = path.to_ascii_lowercase();
    let name = p.rsplit('/').next().unwrap_or("");
    if name == "pagefile.sys" || name == "swapfile.sys" {
        return Some("pagefile");
    }
    if name == "hiberfil.sys" {
        return Some("hiberfil");
    }
    if name.ends_with(".log1") || name.ends_with(".log2") || name.ends_with(".regtrans-ms") || name.ends_with(".blf") {
        return Some("registry log");
    }
    if p.contains("/windows/prefetch/") {
        return Some("prefetch");
    }
    if name.ends_with(".evtx") {
        return Some("event log");
    }
    if p.starts_with("/system volume information") {
        return Some("system volume information");
    }
    None
}

/// Who owns a stretch of the child's volume.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owner {
    /// A child-side item (by index).
    File(usize),
    /// A structure of the file system, by name.
    Meta(String),
}

/// Disjoint, sorted `(start, end, owner)`; where two claim the same bytes the first built wins.
fn disjoint(mut claims: Vec<(u64, u64, Owner)>) -> Vec<(u64, u64, Owner)> {
    // Stable: among claims of the same start, the first stays first.
    claims.sort_by_key(|c| c.0);
    let mut out: Vec<(u64, u64, Owner)> = Vec::with_capacity(claims.len());
    let mut reach = 0u64;
    for (s, e, o) in claims {
        let s = s.max(reach);
        if s < e {
            out.push((s, e, o));
            reach = e;
        }
    }
    out
}

/// The structures of the child's file system, as claims.
fn structures<R: ReadVirtual>(fsys: &mut FileSystem, vol: &mut Volume<R>, items: &[Item]) -> Vec<(u64, u64, Owner)> {
    let mut claims = Vec::new();
    let meta = |s: &str| Owner::Meta(s.to_string());
    match fsys {
        FileSystem::Fat(f) => {
            let b = &f.bpb;
            let bps = u64::from(b.bytes_per_sector);
            claims.push((0, u64::from(b.reserved_sectors) * bps, meta("boot sector and reserved sectors")));
            claims.push((u64::from(b.reserved_sectors) * bps, b.root_dir_sector * bps, meta("FAT tables")));
            claims.push((b.root_dir_sector * bps, b.data_offset(), meta("directories")));
            let end = b.cluster_offset(b.clusters.saturating_add(2));
            claims.push((end, vol.len().max(end), meta("past the last cluster")));
        }
        FileSystem::Ntfs(n) => {
            // Past the last whole cluster: the boot sector's copy, in the volume's last sector.
            let cs = n.cluster_size().max(1);
            let boot = vol.read_vec(0, 512).unwrap_or_default();
            let bytes = fs::le64(&boot, 0x28).saturating_mul(u64::from(fs::le16(&boot, 0x0B)));
            let end = (bytes / cs).saturating_mul(cs).min(vol.len().saturating_sub(512));
            claims.push((end, vol.len(), meta("$Boot")));
        }
        FileSystem::Ext(x) => {
            let sb = x.sb.clone();
            let bs = sb.block_size;
            // Blocks `a..a + n` as bytes (saturating: group descriptors may hold anything).
            let blocks = |a: u64, n: u64| (a.saturating_mul(bs), a.saturating_add(n).saturating_mul(bs));
            claims.push((0, 2048.max(blocks(sb.first_data_block, 1).1), meta("superblock and group descriptors")));
            let groups = sb.groups().min(1 << 16);
            let gdt_blocks = groups.saturating_mul(sb.desc_size).div_ceil(bs.max(1));
            let itable = sb.inodes_per_group.saturating_mul(sb.inode_size).div_ceil(bs.max(1));
            for g in 0..groups {
                let start = sb.first_data_block.saturating_add(g.saturating_mul(sb.blocks_per_group));
                if sb.has_backup(g) {
                    let (a, b) = blocks(start, 1u64.saturating_add(gdt_blocks).saturating_add(sb.reserved_gdt));
                    claims.push((a, b, meta("superblock and group descriptors")));
                }
                let Ok(grp) = x.group(vol, g) else { break };
                let (a, b) = blocks(grp.block_bitmap, 1);
                claims.push((a, b, meta("block bitmaps")));
                let (a, b) = blocks(grp.inode_bitmap, 1);
                claims.push((a, b, meta("inode bitmaps")));
                let (a, b) = blocks(grp.inode_table, itable);
                claims.push((a, b, meta("inode tables")));
            }
            if sb.journal_inode != 0 {
                if let Ok(j) = x.inode(vol, u64::from(sb.journal_inode)) {
                    if let Ok(runs) = x.runs(vol, &j) {
                        for (s, e) in data_ranges(&runs, j.size, bs) {
                            claims.push((s, e, meta("journal")));
                        }
                    }
                }
            }
        }
    }
    let cluster = fsys.cluster_size();
    for (k, it) in items.iter().enumerate() {
        if it.entry.deleted {
            continue;
        }
        let owner = match (&it.structure, it.entry.kind) {
            (Some(s), _) => Owner::Meta(s.clone()),
            (None, EntryKind::Dir) => meta("directories"),
            _ => Owner::File(k),
        };
        let size = if it.entry.kind == EntryKind::Dir || it.structure.is_some() { u64::MAX / 2 } else { it.entry.size };
        for (s, e) in data_ranges(&it.runs, size, cluster) {
            claims.push((s, e, owner.clone()));
        }
        for &(s, e) in &it.allocated {
            claims.push((s, e, owner.clone()));
        }
    }
    claims
}

/// The blocks of live ext files' extent trees (below the inode) and block maps' indirect
/// blocks, as byte ranges; bounded in blocks read.
fn ext_tree_blocks<R: ReadVirtual>(x: &fs::ext::Ext, vol: &mut Volume<R>, items: &[Item]) -> Ranges {
    let bs = x.sb.block_size;
    let mut budget = (vol.len() / bs.max(1)).saturating_add(1 << 16);
    let mut blocks: Vec<u64> = Vec::new();
    for it in items.iter().filter(|i| !i.entry.deleted && !i.runs.is_empty()) {
        let Ok(ino) = x.inode(vol, it.entry.id) else { continue };
        if ino.flags & 0x80000 != 0 {
            let mut stack = vec![ino.block.to_vec()];
            while let Some(node) = stack.pop() {
                let Ok((depth, entries)) = fs::ext::parse_extent_node(&node) else { continue };
                if depth == 0 {
                    continue;
                }
                for c in entries.into_iter().filter_map(|e| e.2) {
                    if budget == 0 || c == 0 || c >= x.sb.blocks {
                        continue;
                    }
                    budget -= 1;
                    blocks.push(c);
                    if let Ok(b) = vol.read_vec(c.saturating_mul(bs), bs as usize) {
                        stack.push(b);
                    }
                }
            }
        } else if ino.flags & 0x1000_0000 == 0 {
            let ptr = |k: usize| u64::from(fs::le32(&ino.block, 4 * k));
            let mut stack: Vec<(u64, u32)> = vec![(ptr(12), 1), (ptr(13), 2), (ptr(14), 3)];
            while let Some((b, level)) = stack.pop() {
                if budget == 0 || b == 0 || b >= x.sb.blocks {
                    continue;
                }
                budget -= 1;
                blocks.push(b);
                if level > 1 {
                    if let Ok(raw) = vol.read_vec(b.saturating_mul(bs), bs as usize) {
                        stack.extend(raw.chunks_exact(4).map(|c| (u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]])), level - 1)));
                    }
                }
            }
        }
    }
    blocks.sort_unstable();
    let mut out = Vec::new();
    for b in blocks {
        push_range(&mut out, b.saturating_mul(bs), b.saturating_add(1).saturating_mul(bs));
    }
    out
}

/// True when cluster (block) holding volume byte `at` is marked in use by the child's file system.
fn allocated<R: ReadVirtual>(fsys: &mut FileSystem, vol: &mut Volume<R>, at: u64, ntfs_bitmap: &[Run]) -> bool {
    match fsys {
        FileSystem::Fat(f) => {
            let b = f.bpb.clone();
            if at < b.data_offset() {
                return true;
            }
            let c = (at - b.data_offset()) / b.cluster_size() + 2;
            c < u64::from(b.clusters) + 2 && !matches!(f.entry(vol, c as u32), Ok(0))
        }
        FileSystem::Ntfs(n) => {
            let c = at / n.cluster_size();
            let Some(place) = volume_offset_of(ntfs_bitmap, c / 8) else { return true };
            let mut byte = [0u8; 1];
            vol.read_at(place, &mut byte).map_or(true, |_| byte[0] & (1 << (c % 8)) != 0)
        }
        FileSystem::Ext(x) => {
            let sb = x.sb.clone();
            let blk = at / sb.block_size;
            if blk < sb.first_data_block || sb.blocks_per_group == 0 {
                return true;
            }
            let g = (blk - sb.first_data_block) / sb.blocks_per_group;
            let bit = (blk - sb.first_data_block) % sb.blocks_per_group;
            let Ok(grp) = x.group(vol, g) else { return true };
            let mut byte = [0u8; 1];
            vol.read_at(grp.block_bitmap.saturating_mul(sb.block_size).saturating_add(bit / 8), &mut byte)
                .map_or(true, |_| byte[0] & (1 << (bit % 8)) != 0)
        }
    }
}

/// Where byte `x` of a file lies on the volume, through its runs.
fn volume_offset_of(runs: &[Run], x: u64) -> Option<u64> {
    runs.iter().find(|r| x >= r.file_offset && x - r.file_offset < r.len).and_then(|r| r.volume_offset.map(|v| v + x - r.file_offset))
}

/// Sums `ranges` by owner: bytes per owner index in `owners`, and the unowned ranges.
fn attribute(owners: &[(u64, u64, Owner)], ranges: &[(u64, u64)]) -> (Vec<u64>, Ranges) {
    let mut per = vec![0u64; owners.len()];
    let mut unowned = Vec::new();
    let mut k = 0usize;
    for &(s, e) in ranges {
        let mut pos = s;
        while k < owners.len() && owners[k].1 <= pos {
            k += 1;
        }
        let mut j = k;
        while pos < e {
            match owners.get(j) {
                Some(o) if o.0 < e => {
                    if o.0 > pos {
                        push_range(&mut unowned, pos, o.0);
                        pos = o.0;
                    }
                    let stop = o.1.min(e);
                    per[j] += stop - pos;
                    pos = stop;
                    if o.1 <= e {
                        j += 1;
                    }
                }
                _ => {
                    push_range(&mut unowned, pos, e);
                    pos = e;
                }
            }
        }
    }
    (per, unowned)
}

/// True when the file's bytes (runs `runs`, `size` bytes, the same on both sides) differ
/// somewhere in the `changed` sectors. Slack past the file's end is not its content: in a last
/// sector that holds both, only the file's bytes are compared (read again from both sides).
fn bytes_differ<P: ReadVirtual, C: ReadVirtual>(
    pv: &mut Volume<P>,
    cv: &mut Volume<C>,
    runs: &[Run],
    size: u64,
    changed: &[(u64, u64)],
) -> Result<bool> {
    let tail = size % SECTOR;
    let last = (tail != 0).then(|| volume_offset_of(runs, size - tail)).flatten();
    for (s, e) in data_ranges(runs, size, SECTOR) {
        for (a, b) in window(changed, s, e) {
            let (a, b) = (a + s, b + s);
            match last {
                // Only the last, partly used sector changed: compare the file's bytes in it.
                Some(l) if a == l && b == l + SECTOR => {
                    let (x, y) = (pv.read_vec(l, tail as usize)?, cv.read_vec(l, tail as usize)?);
                    if x != y {
                        return Ok(true);
                    }
                }
                Some(l) if a <= l && b == l + SECTOR => {
                    return Ok(true);
                }
                _ => return Ok(true),
            }
        }
    }
    Ok(false)
}

fn same_runs(a: &[Run], b: &[Run], size: u64) -> bool {
    let clip = |r: &[Run]| -> Vec<Run> {
        let mut v = Vec::new();
        for x in r.iter().filter(|x| x.file_offset < size) {
            Run::push(&mut v, Run { len: x.len.min(size - x.file_offset), ..*x });
        }
        v
    };
    clip(a) == clip(b)
}

/// One partition: files of both sides, matched, classified; held bytes attributed.
fn partition<P: ReadVirtual, C: ReadVirtual>(
    pv: &mut Volume<P>,
    cv: &mut Volume<C>,
    held: &[(u64, u64)],
    changed: &[(u64, u64)],
    out: &mut PartitionDiff,
) -> Result<()> {
    let mut cfs = FileSystem::open(cv)?
        .ok_or_else(|| Error::invalid("diff-no-filesystem", cv.start(), "the child side holds no file system this viewer reads"))?;
    out.filesystem = Some(cfs.kind().name());
    // No file system on the parent side (the child formatted the partition): every file is new.
    let mut pfs = FileSystem::open(pv).ok().flatten();
    let cluster = cfs.cluster_size().max(1);
    let mut trouble = None;
    let citems = inventory(&mut cfs, cv, true, changed, &mut trouble)?;
    let pitems = match &mut pfs {
        Some(pfs) => inventory(pfs, pv, false, &[], &mut trouble)?,
        None => Vec::new(),
    };
    if let Some(e) = trouble {
        out.error = Some(format!("some directories could not be listed; the first: {e}"));
    }
    let is_fat = matches!(cfs.kind(), FsKind::Fat12 | FsKind::Fat16 | FsKind::Fat32);
    let ci = |i: &Item| !i.entry.deleted && i.entry.path != "/";

    // Where the held bytes went.
    let owners = disjoint(structures(&mut cfs, cv, &citems));
    let (held_per, unowned_held) = attribute(&owners, held);
    let (changed_per, unowned_changed) = attribute(&owners, changed);
    let mut file_held: HashMap<usize, (u64, u64)> = HashMap::new();
    let mut meta: Vec<MetaBytes> = Vec::new();
    for (k, o) in owners.iter().enumerate() {
        if held_per[k] == 0 {
            continue;
        }
        match &o.2 {
            Owner::File(i) => {
                let f = file_held.entry(*i).or_default();
                f.0 += held_per[k];
                f.1 += changed_per[k];
                out.held.files += held_per[k];
            }
            Owner::Meta(name) => {
                out.held.filesystem_metadata += held_per[k];
                match meta.iter_mut().find(|m| &m.name == name) {
                    Some(m) => m.bytes_held += held_per[k],
                    None => meta.push(MetaBytes { name: name.clone(), bytes_held: held_per[k] }),
                }
            }
        }
    }
    // Unowned held bytes: free space, or allocated without an owner we know.
    let bitmap: Vec<Run> = match &mut cfs {
        FileSystem::Ntfs(_) => citems.iter().find(|i| i.entry.path == "/$Bitmap").map(|i| i.runs.clone()).unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut lost_ranges: Ranges = Vec::new();
    for &(s, e) in &unowned_held {
        let mut pos = s;
        while pos < e {
            let stop = ((pos / cluster + 1) * cluster).min(e);
            if allocated(&mut cfs, cv, pos, &bitmap) {
                push_range(&mut lost_ranges, pos, stop);
            } else {
                out.held.free_space += stop - pos;
            }
            pos = stop;
        }
    }
    let mut lost = total(&lost_ranges);
    if lost > 0 {
        // On ext, allocated blocks no file's data holds are mostly files' extent-tree nodes and
        // indirect blocks: found only when needed (they cost a read per node).
        if let FileSystem::Ext(x) = &cfs {
            let tree = ext_tree_blocks(x, cv, &citems);
            let in_tree: u64 = tree.iter().map(|r| overlap(&lost_ranges, r.0, r.1)).sum();
            if in_tree > 0 {
                out.held.filesystem_metadata += in_tree;
                meta.push(MetaBytes { name: "extent trees and indirect blocks".into(), bytes_held: in_tree });
                lost -= in_tree;
            }
        }
    }
    if lost > 0 {
        out.held.filesystem_metadata += lost;
        meta.push(MetaBytes { name: "allocated, owned by no file".into(), bytes_held: lost });
    }
    meta.sort_by(|a, b| b.bytes_held.cmp(&a.bytes_held).then(a.name.cmp(&b.name)));
    out.filesystem_metadata = meta;

    // Matching: identity first, then (FAT) path.
    let mut by_ident: HashMap<Ident, usize> = HashMap::new();
    for (k, p) in pitems.iter().enumerate() {
        if p.ident != Ident::None && p.entry.path != "/" {
            by_ident.entry(p.ident).or_insert(k);
        }
    }
    let mut pair: Vec<Option<usize>> = vec![None; citems.len()];
    let mut taken = vec![false; pitems.len()];
    for (k, c) in citems.iter().enumerate() {
        if !ci(c) || c.ident == Ident::None {
            continue;
        }
        if let Some(&p) = by_ident.get(&c.ident) {
            if !taken[p] && pitems[p].entry.kind == c.entry.kind {
                pair[k] = Some(p);
                taken[p] = true;
            }
        }
    }
    if is_fat || citems.iter().any(|c| c.ident == Ident::None) {
        let mut by_path: HashMap<String, usize> = HashMap::new();
        for (k, p) in pitems.iter().enumerate() {
            if !taken[k] && p.entry.path != "/" && (is_fat || p.ident == Ident::None) {
                by_path.entry(p.entry.path.to_lowercase()).or_insert(k);
            }
        }
        for (k, c) in citems.iter().enumerate() {
            if pair[k].is_some() || !ci(c) || !(is_fat || c.ident == Ident::None) {
                continue;
            }
            if let Some(&p) = by_path.get(&c.entry.path.to_lowercase()) {
                if !taken[p] && pitems[p].entry.kind == c.entry.kind {
                    pair[k] = Some(p);
                    taken[p] = true;
                }
            }
        }
    }

    let held_of = |k: usize| file_held.get(&k).copied().unwrap_or((0, 0));
    let mut changes = Vec::new();
    for (k, c) in citems.iter().enumerate() {
        if !ci(c) || c.structure.is_some() {
            continue;
        }
        let (bytes_held, changed_bytes) = held_of(k);
        // With hard links, a name the child added is the path, and a name it removed the old path.
        let names = |i: &Item| std::iter::once(i.entry.path.clone()).chain(i.links.iter().cloned()).collect::<Vec<_>>();
        let change = |kind: Kind, old: Option<&Item>, content_changed: bool| {
            let (cn, on) = (names(c), old.map(names).unwrap_or_default());
            let path = cn.iter().find(|n| !on.contains(n)).unwrap_or(&c.entry.path).clone();
            let old_path = old.map(|o| on.iter().find(|n| !cn.contains(n)).unwrap_or(&o.entry.path).clone()).filter(|o| *o != path);
            Change {
                links: cn.iter().filter(|n| **n != path).cloned().collect(),
                noise: noise(&path),
                path,
                entry_type: c.entry.kind,
                kind,
                old_path,
                content_changed,
                size: c.entry.size,
                old_size: old.map_or(0, |o| o.entry.size),
                bytes_held,
                identical_bytes: bytes_held - changed_bytes,
                name_complete: None,
            }
        };
        match pair[k] {
            None => changes.push(change(Kind::Added, None, true)),
            Some(p) => {
                let o = &pitems[p];
                let dir = c.entry.kind == EntryKind::Dir;
                let content = !dir
                    && (c.entry.size != o.entry.size
                        || c.inline != o.inline
                        || !same_runs(&c.runs, &o.runs, c.entry.size)
                        || changed_bytes > 0 && bytes_differ(pv, cv, &c.runs, c.entry.size, changed)?);
                // Moved: a name of the file changed (any of them, for a file of several names).
                let moved = c.entry.path != o.entry.path || c.links != o.links;
                if moved {
                    changes.push(change(Kind::Renamed, Some(o), content));
                } else if content {
                    changes.push(change(Kind::Modified, Some(o), true));
                } else if !dir && c.meta != o.meta {
                    changes.push(change(Kind::Metadata, Some(o), false));
                }
            }
        }
    }
    for (k, p) in pitems.iter().enumerate() {
        if taken[k] || p.entry.path == "/" || p.structure.is_some() {
            continue;
        }
        changes.push(Change {
            path: p.entry.path.clone(),
            entry_type: p.entry.kind,
            kind: Kind::Deleted,
            old_path: None,
            content_changed: true,
            size: 0,
            old_size: p.entry.size,
            bytes_held: 0,
            identical_bytes: 0,
            noise: noise(&p.entry.path),
            name_complete: None,
            links: p.links.clone(),
        });
    }
    // Transient: deleted entries the child wrote that are no file of the parent's, whose data
    // lies in the changed bytes nobody else owns.
    let parent_live: HashSet<Ident> = pitems.iter().filter(|p| p.ident != Ident::None).map(|p| p.ident).collect();
    let parent_paths: HashSet<String> = pitems.iter().map(|p| p.entry.path.to_lowercase()).collect();
    let mut transient_seen = HashSet::new();
    for c in citems.iter().filter(|c| c.entry.deleted) {
        let Some((s, e)) = c.entry_at else { continue };
        if overlap(changed, s, e) == 0 {
            continue;
        }
        let same_file = match c.ident {
            Ident::Ntfs(rec, _) => pitems.iter().any(|p| matches!(p.ident, Ident::Ntfs(r, _) if r == rec) && p.entry.name == c.entry.name),
            Ident::None => parent_paths.contains(&c.entry.path.to_lowercase()),
            other => parent_live.contains(&other),
        };
        if same_file || !transient_seen.insert((c.entry.path.clone(), s)) {
            continue;
        }
        let data = data_ranges(&c.runs, c.entry.size, cluster);
        let mut bytes_held = 0;
        let mut changed_bytes = 0;
        for &(a, b) in &data {
            bytes_held += window(&unowned_held, a, b).iter().map(|r| r.1 - r.0).sum::<u64>();
            changed_bytes += window(&unowned_changed, a, b).iter().map(|r| r.1 - r.0).sum::<u64>();
        }
        let ext = matches!(cfs, FileSystem::Ext(_));
        // ext clears a deleted inode's extents: its data cannot be followed, the inode can.
        if changed_bytes == 0 && c.entry.size > 0 && !ext {
            continue;
        }
        changes.push(Change {
            path: c.entry.path.clone(),
            entry_type: c.entry.kind,
            kind: Kind::Transient,
            old_path: None,
            content_changed: true,
            size: c.entry.size,
            old_size: 0,
            bytes_held,
            identical_bytes: bytes_held - changed_bytes,
            noise: noise(&c.entry.path),
            name_complete: c.name_complete,
            links: Vec::new(),
        });
    }
    changes.sort_by(|a, b| a.kind.cmp(&b.kind).then_with(|| a.path.cmp(&b.path)));
    out.changes = changes;
    Ok(())
}

/// One path's change on each side, for [`rebase_check`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RebaseItem {
    /// The partition.
    pub partition: u32,
    /// The path (on the child's side; for a rename also the old path).
    pub path: String,
    /// What the child did to it.
    pub child: Option<Kind>,
    /// What the new base did to it.
    pub base: Option<Kind>,
    /// Noise Windows makes on every boot (see [`Change::noise`]).
    pub noise: Option<&'static str>,
}

/// Can a child move onto a new base? Per file: changed only by the child (can be carried over),
/// only by the new base, or by both (a conflict).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Rebase {
    /// Changed only by the child.
    pub child_only: Vec<RebaseItem>,
    /// Changed only by the new base.
    pub base_only: Vec<RebaseItem>,
    /// Changed by both.
    pub conflicts: Vec<RebaseItem>,
}

/// Puts the old base → child diff and the old base → new base diff side by side, by path
/// (a renamed file under both its paths).
pub fn rebase_check(child: &Report, base: &Report) -> Rebase {
    let index = |r: &Report| {
        let mut m: std::collections::BTreeMap<(u32, String), (Kind, Option<&'static str>, String)> = std::collections::BTreeMap::new();
        for p in &r.partitions {
            for c in &p.changes {
                // A transient file is in neither disk: nothing to carry over.
                if c.kind == Kind::Transient {
                    continue;
                }
                if c.entry_type == EntryKind::Dir && c.kind != Kind::Renamed && c.kind != Kind::Deleted {
                    // A directory added holds the files listed under it.
                    if c.kind != Kind::Added {
                        continue;
                    }
                }
                m.insert((p.index, c.path.to_lowercase()), (c.kind, c.noise, c.path.clone()));
                if let Some(o) = &c.old_path {
                    m.insert((p.index, o.to_lowercase()), (c.kind, c.noise, o.clone()));
                }
            }
        }
        m
    };
    let (a, b) = (index(child), index(base));
    let mut out = Rebase::default();
    for (k, (kind, noise, path)) in &a {
        let item = RebaseItem { partition: k.0, path: path.clone(), child: Some(*kind), base: b.get(k).map(|x| x.0), noise: *noise };
        if b.contains_key(k) {
            out.conflicts.push(item);
        } else {
            out.child_only.push(item);
        }
    }
    for (k, (kind, noise, path)) in &b {
        if !a.contains_key(k) {
            out.base_only.push(RebaseItem { partition: k.0, path: path.clone(), child: None, base: Some(*kind), noise: *noise });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_join_clip_and_count() {
        let u = union(&[(0, 10), (20, 30)], &[(5, 22), (40, 50)]);
        assert_eq!(u, vec![(0, 30), (40, 50)]);
        assert_eq!(window(&u, 25, 45), vec![(0, 5), (15, 20)]);
        assert_eq!(overlap(&u, 25, 45), 10);
        assert_eq!(total(&u), 40);
    }

    #[test]
    fn bytes_go_to_their_owner_first_claim_wins() {
        let owners = disjoint(vec![(10, 20, Owner::Meta("a".into())), (15, 30, Owner::File(1)), (40, 50, Owner::File(2))]);
        assert_eq!(owners, vec![(10, 20, Owner::Meta("a".into())), (20, 30, Owner::File(1)), (40, 50, Owner::File(2))]);
        let (per, unowned) = attribute(&owners, &[(0, 12), (18, 45), (49, 60)]);
        assert_eq!(per, vec![4, 10, 6]);
        assert_eq!(unowned, vec![(0, 10), (30, 40), (50, 60)]);
    }

    #[test]
    fn noise_is_named() {
        assert_eq!(noise("/pagefile.sys"), Some("pagefile"));
        assert_eq!(noise("/hiberfil.sys"), Some("hiberfil"));
        assert_eq!(noise("/Windows/System32/config/SYSTEM.LOG1"), Some("registry log"));
        assert_eq!(noise("/Windows/Prefetch/CMD.EXE-1234.pf"), Some("prefetch"));
        assert_eq!(noise("/Windows/System32/winevt/Logs/System.evtx"), Some("event log"));
        assert_eq!(noise("/Users/a/notes.txt"), None);
    }

    #[test]
    fn rebase_sorts_by_path() {
        let change = |path: &str, kind: Kind, old: Option<&str>| Change {
            path: path.into(),
            entry_type: EntryKind::File,
            kind,
            old_path: old.map(str::to_string),
            content_changed: true,
            size: 1,
            old_size: 1,
            bytes_held: 0,
            identical_bytes: 0,
            noise: None,
            name_complete: None,
            links: Vec::new(),
        };
        let report = |changes: Vec<Change>| Report {
            mode: Mode::Chain,
            held_bytes: 0,
            identical_bytes: 0,
            outside_partitions_bytes: 0,
            bytes_read: 0,
            partitions: vec![PartitionDiff {
                index: 1,
                filesystem: Some("ntfs"),
                changes,
                filesystem_metadata: Vec::new(),
                held: Held::default(),
                held_bytes: 0,
                identical_bytes: 0,
                error: None,
            }],
        };
        let child =
            report(vec![change("/b2", Kind::Renamed, Some("/b")), change("/c", Kind::Added, None), change("/t", Kind::Transient, None)]);
        let base = report(vec![change("/B", Kind::Modified, None), change("/d", Kind::Deleted, None)]);
        let r = rebase_check(&child, &base);
        let paths = |v: &[RebaseItem]| v.iter().map(|i| i.path.clone()).collect::<Vec<_>>();
        assert_eq!(paths(&r.conflicts), vec!["/b"]);
        assert_eq!(paths(&r.child_only), vec!["/b2", "/c"]);
        assert_eq!(paths(&r.base_only), vec!["/d"]);
    }
}
