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

use crate::disk::{Disk, Source};
use crate::error::FsError;
use crate::error::{Error, Result};
use crate::fs::survey::{data_ranges, joined, push_range, Facts, FileId};
use crate::fs::{self, Entry, EntryKind, FileData, FileSystem, ReadVirtual, Run, Volume};
use crate::inspect::{self, SystemChange};
use crate::parts::{self, Role};
use crate::reader::{DiskReader, ReadAt};

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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
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
    /// Its number (as `parts` numbers them; an LVM2 logical volume: its first extent's partition).
    pub index: u32,
    /// The LVM2 logical volume (`VG/LV`), when it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
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
    /// What the newer side changed in the operating systems on the disk (a program installed, a
    /// user added, the computer name), for the partitions where a file the inspection reads
    /// changed ([`crate::inspect::reads`]).
    pub systems: Vec<SystemChange>,
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

/// The ranges of the virtual disk any layer of `reader`'s chain holds (allocated, not zero-fill).
pub fn allocated_ranges(reader: &mut DiskReader<'_>) -> Result<Ranges> {
    held_ranges(reader, usize::MAX)
}

/// The union of two sorted range lists.
pub fn union(a: &[(u64, u64)], b: &[(u64, u64)]) -> Ranges {
    joined(a.iter().chain(b).copied().collect())
}

/// `ranges` clipped to `[start, end)` and moved by `-start`.
fn window(ranges: &[(u64, u64)], start: u64, end: u64) -> Ranges {
    let from = ranges.partition_point(|r| r.1 <= start);
    ranges[from..].iter().take_while(|r| r.0 < end).map(|r| (r.0.max(start) - start, r.1.min(end) - start)).collect()
}

/// The disk byte ranges `ranges` as an LVM2 logical volume's own offsets, where its extents `map` hold them.
fn through(map: &crate::lvm::Map, ranges: &[(u64, u64)]) -> Ranges {
    let mut lv = Vec::new();
    for &(s, e) in ranges {
        map.runs(s, e, |_, len, at| lv.push((at, at + len)));
    }
    lv.sort_unstable();
    let mut out = Vec::new();
    for (s, e) in lv {
        push_range(&mut out, s, e);
    }
    out
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
    Error::Cancelled { what: "the diff" }
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
    diff_with(parent, child, held, mode, None, progress)
}

/// [`diff`], the child's BitLocker volumes unlocked with `key` when one is given, both sides
/// then read through what it opens.
pub fn diff_with<P: ReadVirtual, C: ReadVirtual>(
    parent: P,
    child: C,
    held: &[(u64, u64)],
    mode: Mode,
    key: Option<&crate::bitlocker::Key>,
    progress: &mut Progress<'_>,
) -> Result<Report> {
    let mut parent = Counted { inner: parent, bytes: 0 };
    let mut child = Counted { inner: child, bytes: 0 };
    let size = child.size();
    // The caller's ranges sorted and joined first: anything may come in.
    let held: Ranges = window(&union(held, &[]), 0, size);
    let held_bytes = total(&held);
    // Progress: the held bytes compared, then one step per partition.
    let mut table = parts::read(&mut child)?;
    if let Some(key) = key {
        table.unlock_all(&mut child, key, &mut |_, _| true)?;
    }
    // The partitions, then the LVM2 logical volumes (read through their extents).
    let lvs = table.volume_partitions.iter();
    let parts: Vec<&parts::Partition> =
        table.partitions.iter().filter(|p| p.role != Role::Extended && !p.is_empty() && p.offset() < size).chain(lvs).collect();
    let all = held_bytes + parts.len() as u64;
    let mut done = 0u64;
    let changed = compare(&mut parent, &mut child, &held, &mut done, all, progress)?;
    let identical_bytes = held_bytes - total(&changed);
    let mut inside: Ranges = Vec::new();
    let mut partitions = Vec::new();
    let mut systems = Vec::new();
    let mut parent_table = None;
    for p in parts {
        let (start, end) = (p.offset(), p.offset().saturating_add(p.len()).min(size));
        let (ph, pc) = match &p.extents {
            Some(map) => (through(map, &held), through(map, &changed)),
            None => {
                push_range(&mut inside, start, end);
                (window(&held, start, end), window(&changed, start, end))
            }
        };
        let mut pd = PartitionDiff {
            index: p.index,
            volume: p.volume_name().map(str::to_string),
            filesystem: None,
            changes: Vec::new(),
            filesystem_metadata: Vec::new(),
            held: Held::default(),
            held_bytes: total(&ph),
            identical_bytes: total(&ph) - total(&pc),
            error: None,
        };
        if p.filesystem.is_some() {
            let (mut pv, mut cv) = match &p.unlock {
                _ if p.extents.is_some() => (p.volume(&mut parent), p.volume(&mut child)),
                Some(u) => (
                    Volume::mapped(&mut parent, start, end - start, u.decrypt()),
                    Volume::mapped(&mut child, start, end - start, u.decrypt()),
                ),
                None => (Volume::new(&mut parent, start, end - start), Volume::new(&mut child, start, end - start)),
            };
            if let Err(e) = partition(&mut pv, &mut cv, &ph, &pc, &mut pd) {
                if let Error::Cancelled { .. } = e {
                    return Err(e);
                }
                pd.error = Some(e.to_string());
            }
        }
        // The systems on both sides, when the child changed a file they are read from.
        if pd.changes.iter().any(|c| inspect::reads(&c.path) || c.old_path.as_deref().is_some_and(inspect::reads)) {
            let pt = parent_table.get_or_insert_with(|| parts::read(&mut parent).ok());
            let before = pt.as_ref().and_then(|t| {
                let q = match p.volume_name() {
                    Some(lv) => t.volume(lv).ok()?,
                    None => t.partitions.iter().find(|q| q.index == p.index)?,
                };
                inspect::system_on(&mut parent, t, q)
            });
            let after = inspect::system_on(&mut child, &table, p);
            systems.extend(inspect::compare(before.as_slice(), after.as_slice()));
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
    Ok(Report {
        mode,
        held_bytes,
        identical_bytes,
        outside_partitions_bytes: outside,
        bytes_read: parent.bytes + child.bytes,
        partitions,
        systems,
    })
}

/// Layer `from` (older) of the chain `disk` against layer `to` (newer, `to < from`): only
/// what layers `to..from` hold is compared. `sources[i]` reads layer `i`'s file.
pub fn layers(
    disk: &Disk,
    sources: &[&dyn ReadAt],
    from: usize,
    to: usize,
    key: Option<&crate::bitlocker::Key>,
    progress: &mut Progress<'_>,
) -> Result<Report> {
    let (pd, cd) = (disk.cut(from)?, disk.cut(to)?);
    let (ps, cs) = (sources.get(from..).unwrap_or_default(), sources.get(to..).unwrap_or_default());
    let mut cr = DiskReader::new(&cd, cs.to_vec())?;
    let held = held_ranges(&mut cr, from.saturating_sub(to))?;
    let pr = DiskReader::new(&pd, ps.to_vec())?;
    diff_with(pr, cr, &held, Mode::Chain, key, progress)
}

/// Disk `old` against disk `new` (each a chain with the readers of its files), not one chain:
/// every allocated sector of either is compared.
pub fn disks(
    old: (&Disk, Vec<&dyn ReadAt>),
    new: (&Disk, Vec<&dyn ReadAt>),
    key: Option<&crate::bitlocker::Key>,
    progress: &mut Progress<'_>,
) -> Result<Report> {
    let mut ar = DiskReader::new(old.0, old.1)?;
    let mut br = DiskReader::new(new.0, new.1)?;
    let held = union(&allocated_ranges(&mut ar)?, &allocated_ranges(&mut br)?);
    diff_with(ar, br, &held, Mode::Unrelated, key, progress)
}

/// Where the chain `onto` holds the old base of `child` (its layer 1), by identity: `Some(k)`
/// for layer `k` of `onto`, `None` when it does not (then the old and the new base are two
/// disks to compare whole).
pub fn old_base_in(child: &Disk, onto: &Disk) -> Option<usize> {
    let old = child.layers.get(1)?.link_id();
    onto.layers.iter().position(|l| l.link_id() == old)
}

/// One file or directory of a side, from the metadata.
#[derive(Debug, Clone)]
struct Item {
    entry: Entry,
    /// What the file system's metadata says of it: id, times, where its record is.
    facts: Facts,
    /// The data: runs on the volume, or inline bytes.
    runs: Vec<Run>,
    inline: Option<Vec<u8>>,
    /// Its other names (hard links), sorted; `entry.path` is the first of all its names.
    links: Vec<String>,
}

/// Lists one side's files with their identity, data and metadata, directory by directory (so
/// that the metadata just listed is still in the volume's cache when each entry is read again).
/// A directory that could not be listed does not stop the listing: the first such error is kept
/// in `trouble`. With `deleted`, deleted entries too: from the directories where they stay
/// there, else from the freed records in `changed` only (a transient file's record is one the
/// child wrote), not from a scan of the whole MFT.
fn inventory<R: ReadVirtual>(
    fsys: &mut FileSystem,
    vol: &mut Volume<R>,
    deleted: bool,
    changed: &[(u64, u64)],
    trouble: &mut Option<Error>,
) -> Result<Vec<Item>> {
    let in_dirs = fsys.deleted_in_directories();
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
        let list = match fsys.list(vol, &dir, deleted && in_dirs) {
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
    if deleted && !in_dirs {
        for e in fsys.freed_entries(vol, changed, MAX_FILES) {
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

/// Builds [`Item`]s from entries, within a budget.
struct Builder {
    /// Where each file found is in `out`, by identity.
    seen: HashMap<FileId, usize>,
    budget: u64,
    cluster: u64,
    out: Vec<Item>,
}

impl Builder {
    fn add<R: ReadVirtual>(&mut self, fsys: &mut FileSystem, vol: &mut Volume<R>, e: Entry) {
        let facts = fsys.facts(vol, &e);
        let mut item = Item { facts, runs: Vec::new(), inline: None, links: Vec::new(), entry: e };
        // A hard link: the same file under another name, kept as one of its names.
        if let (Some(id), false) = (item.facts.id, item.entry.deleted) {
            if let Some(&i) = self.seen.get(&id) {
                let links = &mut self.out[i].links;
                if links.len() < MAX_LINKS {
                    links.push(item.entry.path);
                }
                return;
            }
            self.seen.insert(id, self.out.len());
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
        // Structures whose bytes are in a named stream too.
        if let Some(Ok(FileData::Runs { runs, .. })) = item.facts.structure_stream.map(|st| fsys.data(vol, &item.entry, Some(st))) {
            item.runs.extend(runs);
        }
        self.out.push(item);
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

/// The structures of the child's file system, as claims: those at fixed places first, then the
/// items' (directories, NTFS `$` files, files' data).
fn structures<R: ReadVirtual>(fsys: &mut FileSystem, vol: &mut Volume<R>, items: &[Item]) -> Vec<(u64, u64, Owner)> {
    let mut claims: Vec<(u64, u64, Owner)> =
        fsys.structures(vol).into_iter().map(|(s, e, name)| (s, e, Owner::Meta(name.to_string()))).collect();
    let cluster = fsys.cluster_size();
    for (k, it) in items.iter().enumerate() {
        if it.entry.deleted {
            continue;
        }
        let owner = match (&it.facts.structure, it.entry.kind) {
            (Some(s), _) => Owner::Meta(s.clone()),
            (None, EntryKind::Dir) => Owner::Meta("directories".into()),
            _ => Owner::File(k),
        };
        let size = if it.entry.kind == EntryKind::Dir || it.facts.structure.is_some() { u64::MAX / 2 } else { it.entry.size };
        for (s, e) in data_ranges(&it.runs, size, cluster) {
            claims.push((s, e, owner.clone()));
        }
        for &(s, e) in &it.facts.allocated {
            claims.push((s, e, owner.clone()));
        }
    }
    claims
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
    let mut cfs = FileSystem::open(cv)?.ok_or(FsError::NoFileSystem { volume_start: cv.start() })?;
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
    let path_too = cfs.match_by_path();
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
    let mut lost_ranges: Ranges = Vec::new();
    for &(s, e) in &unowned_held {
        let mut pos = s;
        while pos < e {
            let stop = ((pos / cluster + 1) * cluster).min(e);
            if cfs.in_use(cv, pos) {
                push_range(&mut lost_ranges, pos, stop);
            } else {
                out.held.free_space += stop - pos;
            }
            pos = stop;
        }
    }
    let mut lost = total(&lost_ranges);
    if lost > 0 {
        // Allocated blocks no file's data holds are mostly the blocks that map files' data
        // (ext extent-tree nodes and indirect blocks): found only when needed (they cost a read
        // per node).
        let ids: Vec<u64> = citems.iter().filter(|i| !i.entry.deleted && !i.runs.is_empty()).map(|i| i.entry.id).collect();
        if let Some((name, maps)) = cfs.map_blocks(cv, &ids) {
            let in_maps: u64 = maps.iter().map(|r| overlap(&lost_ranges, r.0, r.1)).sum();
            if in_maps > 0 {
                out.held.filesystem_metadata += in_maps;
                meta.push(MetaBytes { name: name.into(), bytes_held: in_maps });
                lost -= in_maps;
            }
        }
    }
    if lost > 0 {
        out.held.filesystem_metadata += lost;
        meta.push(MetaBytes { name: "allocated, owned by no file".into(), bytes_held: lost });
    }
    meta.sort_by(|a, b| b.bytes_held.cmp(&a.bytes_held).then(a.name.cmp(&b.name)));
    out.filesystem_metadata = meta;

    // Matching: identity first, then path (for every file where ids are not stable, FAT).
    let mut by_ident: HashMap<FileId, usize> = HashMap::new();
    for (k, p) in pitems.iter().enumerate() {
        if let (Some(id), true) = (p.facts.id, p.entry.path != "/") {
            by_ident.entry(id).or_insert(k);
        }
    }
    let mut pair: Vec<Option<usize>> = vec![None; citems.len()];
    let mut taken = vec![false; pitems.len()];
    for (k, c) in citems.iter().enumerate() {
        let Some(id) = c.facts.id.filter(|_| ci(c)) else { continue };
        if let Some(&p) = by_ident.get(&id) {
            if !taken[p] && pitems[p].entry.kind == c.entry.kind {
                pair[k] = Some(p);
                taken[p] = true;
            }
        }
    }
    if path_too || citems.iter().any(|c| c.facts.id.is_none()) {
        let mut by_path: HashMap<String, usize> = HashMap::new();
        for (k, p) in pitems.iter().enumerate() {
            if !taken[k] && p.entry.path != "/" && (path_too || p.facts.id.is_none()) {
                by_path.entry(p.entry.path.to_lowercase()).or_insert(k);
            }
        }
        for (k, c) in citems.iter().enumerate() {
            if pair[k].is_some() || !ci(c) || !(path_too || c.facts.id.is_none()) {
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
        if !ci(c) || c.facts.structure.is_some() {
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
                } else if !dir && c.facts.meta != o.facts.meta {
                    changes.push(change(Kind::Metadata, Some(o), false));
                }
            }
        }
    }
    for (k, p) in pitems.iter().enumerate() {
        if taken[k] || p.entry.path == "/" || p.facts.structure.is_some() {
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
    let parent_live: HashSet<FileId> = pitems.iter().filter_map(|p| p.facts.id).collect();
    let parent_paths: HashSet<String> = pitems.iter().map(|p| p.entry.path.to_lowercase()).collect();
    let mut transient_seen = HashSet::new();
    for c in citems.iter().filter(|c| c.entry.deleted) {
        let Some((s, e)) = c.facts.entry_at else { continue };
        if overlap(changed, s, e) == 0 {
            continue;
        }
        // Where freeing a file changes its id, the same record under the same name is the same file.
        let same_file = match c.facts.id {
            Some(id) if id.changes_when_freed() => {
                pitems.iter().any(|p| p.facts.id.is_some_and(|q| q.same_slot(&id)) && p.entry.name == c.entry.name)
            }
            Some(id) => parent_live.contains(&id),
            None => parent_paths.contains(&c.entry.path.to_lowercase()),
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
        // Where a deleted file's runs are cleared (ext), its data cannot be followed, its record can.
        if changed_bytes == 0 && c.entry.size > 0 && cfs.deleted_runs_kept() {
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
            name_complete: c.facts.name_complete,
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
            systems: Vec::new(),
            partitions: vec![PartitionDiff {
                index: 1,
                volume: None,
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
