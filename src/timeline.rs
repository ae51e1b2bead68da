//! Every file's and directory's times, as sleuthkit's `fls -r -m` writes them (its body file,
//! `MD5|name|inode|mode|UID|GID|size|atime|mtime|ctime|crtime`, which `mactime` reads), and as
//! time-sorted rows (one per entry and kind of time) for CSV and JSON lines.
//!
//! The lines follow sleuthkit's `tsk_fs_name_print_mac_md5` and `fls_lib`'s choices:
//! - NTFS: a line per `$DATA` attribute (a named one as `name:stream`, inode `N-128-ID`) and per
//!   `$INDEX_ROOT` (`$I30` unnamed, inode `N-144-ID`), each with that attribute's size and the
//!   `$STANDARD_INFORMATION` times; one more line ` ($FILE_NAME)` (`N-48-ID`, the size of the
//!   `$FILE_NAME` attribute) with the times of the last non-DOS `$FILE_NAME` sleuthkit reads
//!   (none when that one is in an extension record: sleuthkit renumbers those). UID is
//!   `$STANDARD_INFORMATION`'s owner id. The mode: `x` always, `r` unless read-only, `w` unless
//!   hidden (FAT likewise).
//! - ext: one line per name, the inode's mode, owner, size and atime, mtime, ctime, crtime; a
//!   symbolic link's name followed by ` -> TARGET`.
//! - FAT: inode numbers as sleuthkit makes them (3 + the directory slot's index counted from the
//!   first sector after the FATs), atime the access day, ctime 0, crtime the creation time
//!   (its hundredths rounding up a second as sleuthkit does); a directory's size its clusters'
//!   bytes; the volume label's entry, and sleuthkit's virtual files `$MBR`, `$FAT1`, `$FAT2`.
//! - FAT, NTFS and ext: `$OrphanFiles` (a virtual directory, inode one past the last). Its
//!   content (sleuthkit's `OrphanFile-N`, records or inodes no directory names) is not listed.
//! - Times are printed as sleuthkit prints them: seconds as an unsigned 32-bit number, 0 for
//!   none.
//!
//! Deleted entries (with `deleted`) are those [`FileSystem::list`] finds: FAT slots, NTFS
//! records no longer in use (sleuthkit finds NTFS names in the slack of directory indexes
//! instead, so the two lists can differ), ext names left in directory slack; deleted
//! directories are entered, as `fls -r` enters them.
//!
//! Each line also says which layer of a chain supplies its metadata (the directory entry, the
//! MFT record, the inode): the newest layer holding any of its sectors (the lowest number: 0 is
//! the file opened).

use serde::Serialize;

use std::collections::{HashMap, HashSet};

use crate::bytes::{le16, le32, le64};
use crate::error::Result;
use crate::fs::ntfs::{nt_time, ty, ListEntry, Ntfs, Record};
use crate::fs::supply::supplier;
use crate::fs::{self, fat, walk_with, Entry, EntryKind, FileData, FileSystem, ReadVirtual, Volume};
use crate::parts::Partition;
use crate::reader::DiskReader;

/// The most lines held for output sorted by time (about 200 bytes each: 2 million lines are
/// some 400 MB); the command line stops there and says so. The body file is not held.
pub const MAX_LINES: usize = 2_000_000;

/// The extension records read for one NTFS file at most (sleuthkit reads 256).
const MAX_EXTENSIONS: usize = 256;

/// The bytes of a symbolic link's target read at most.
const MAX_LINK: usize = 4096;

/// Which times a line carries: a file system's own, or NTFS's `$STANDARD_INFORMATION` or
/// `$FILE_NAME` ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// FAT's directory entry or ext's inode.
    Entry,
    /// NTFS's `$STANDARD_INFORMATION`.
    Si,
    /// NTFS's `$FILE_NAME`.
    Fn,
    /// One of sleuthkit's virtual files (`$MBR`, `$FAT1`, `$OrphanFiles`): no times.
    Virtual,
}

/// One line of the body file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The absolute path (`/` first), with `:STREAM` for an NTFS named stream.
    pub path: String,
    /// Which times it carries.
    pub source: Source,
    /// A symbolic link's target.
    pub link: Option<String>,
    /// A deleted entry.
    pub deleted: bool,
    /// The inode column: a number, or NTFS's `RECORD-TYPE-ID`.
    pub inode: String,
    /// The mode column, e.g. `r/rrwxr-xr-x` (the name's type, then the metadata's).
    pub mode: String,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Size in bytes (of the stream or attribute the line is about).
    pub size: u64,
    /// Last access, seconds since 1970 (0: none).
    pub atime: u32,
    /// Last modification.
    pub mtime: u32,
    /// Last change of the metadata.
    pub ctime: u32,
    /// Creation.
    pub crtime: u32,
    /// The nanoseconds of atime, mtime, ctime and crtime, where the file system keeps them
    /// (NTFS: 100 ns steps; ext4's large inodes; FAT's creation time: 10 ms), else 0. The body
    /// file has whole seconds; the sorted rows have these too.
    pub nanos: [u32; 4],
    /// The layer that supplies its metadata (`None` for sleuthkit's virtual files).
    pub layer: Option<usize>,
}

impl Line {
    /// The name column as `fls -m` writes it: control characters as `^`, then ` ($FILE_NAME)`,
    /// ` -> TARGET`, ` (deleted)` as they apply.
    pub fn name(&self) -> String {
        let mut s: String = self.path.chars().map(|c| if (c as u32) < 0x20 { '^' } else { c }).collect();
        if self.source == Source::Fn {
            s.push_str(" ($FILE_NAME)");
        }
        if let Some(l) = &self.link {
            s.push_str(" -> ");
            s.push_str(l);
        }
        if self.deleted {
            s.push_str(" (deleted)");
        }
        s
    }

    /// The body-file line (without its newline).
    pub fn body(&self) -> String {
        format!(
            "0|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
            self.name(),
            self.inode,
            self.mode,
            self.uid,
            self.gid,
            self.size,
            self.atime,
            self.mtime,
            self.ctime,
            self.crtime
        )
    }

    /// The time of kind `kind` (`a`, `m`, `c`, `b`): seconds since 1970 (0: none) and nanoseconds.
    pub fn time(&self, kind: &str) -> (u32, u32) {
        match kind {
            "a" => (self.atime, self.nanos[0]),
            "m" => (self.mtime, self.nanos[1]),
            "c" => (self.ctime, self.nanos[2]),
            _ => (self.crtime, self.nanos[3]),
        }
    }

    /// The kinds of time it has (not 0), in the order `m`, `a`, `c`, `b`.
    pub fn kinds(&self) -> impl Iterator<Item = &'static str> + '_ {
        ["m", "a", "c", "b"].into_iter().filter(|k| self.time(k).0 != 0)
    }
}

/// One row of the sorted timeline: a time of a [`Line`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row<'a> {
    /// The partition's index (an LVM2 logical volume's: the partition of its first extent).
    pub partition: u32,
    /// The LVM2 logical volume (`VG/LV`), when the entry is in one (set by the caller).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<&'a str>,
    /// ISO 8601 UTC.
    pub time: String,
    /// Seconds since 1970.
    pub unix: u32,
    /// Nanoseconds past `unix` (0 where the file system keeps whole seconds).
    pub nanos: u32,
    /// `m` (modified), `a` (accessed), `c` (metadata changed), `b` (born, created).
    pub kind: &'static str,
    /// `si` or `fn` for NTFS's two sets of times, absent for the others.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<&'static str>,
    /// The path (with `:STREAM` for a named stream).
    pub path: &'a str,
    /// The inode column.
    pub inode: &'a str,
    /// Size in bytes.
    pub size: u64,
    /// A deleted entry.
    pub deleted: bool,
    /// The layer that supplies its metadata.
    pub layer: Option<usize>,
}

/// The rows of `lines`, sorted by time (then path, then kind): (line index, kind).
pub fn sorted(lines: &[Line]) -> Vec<(usize, &'static str)> {
    let mut v: Vec<(usize, &'static str)> = lines.iter().enumerate().flat_map(|(i, l)| l.kinds().map(move |k| (i, k))).collect();
    v.sort_by(|a, b| (lines[a.0].time(a.1), &lines[a.0].path, a.1).cmp(&(lines[b.0].time(b.1), &lines[b.0].path, b.1)));
    v
}

/// The row of `line`'s time of kind `kind`, on partition `partition`.
pub fn row<'a>(partition: u32, line: &'a Line, kind: &'static str) -> Row<'a> {
    let (unix, nanos) = line.time(kind);
    let mut time = fs::iso8601(i64::from(unix));
    if nanos != 0 {
        time.pop();
        time.push('.');
        time.push_str(format!("{nanos:09}").trim_end_matches('0'));
        time.push('Z');
    }
    Row {
        partition,
        volume: None,
        time,
        unix,
        nanos,
        kind,
        attribute: match line.source {
            Source::Si => Some("si"),
            Source::Fn => Some("fn"),
            _ => None,
        },
        path: &line.path,
        inode: &line.inode,
        size: line.size,
        deleted: line.deleted,
        layer: line.layer,
    }
}

/// The CSV header of [`csv`].
pub const CSV_HEADER: &str = "time,unix,nanos,kind,attribute,partition,path,inode,size,deleted,layer";

/// A row as a CSV line (RFC 4180 quoting of the path).
pub fn csv(r: &Row) -> String {
    format!(
        "{},{},{},{},{},{},\"{}\",{},{},{},{}",
        r.time,
        r.unix,
        r.nanos,
        r.kind,
        r.attribute.unwrap_or(""),
        r.partition,
        r.path.replace('"', "\"\""),
        r.inode,
        r.size,
        r.deleted,
        r.layer.map_or(String::new(), |l| l.to_string())
    )
}

/// Says which layer supplies the bytes `[offset, offset + len)` of the volume (the newest that
/// holds any of them), for a chain (0 the file opened, 1 its parent, ...); `None` when not known.
pub type LayerOf<'f, R> = dyn FnMut(&mut Volume<R>, u64, u64) -> Option<usize> + 'f;

/// Walks the whole volume and calls `each` with its lines as it goes (FAT's volume label first,
/// then each entry, a directory's content right after it), then sleuthkit's virtual files.
/// `each` returns false to stop.
pub fn lines<R: ReadVirtual>(
    fs: &mut FileSystem,
    vol: &mut Volume<R>,
    deleted: bool,
    layer_of: &mut LayerOf<'_, R>,
    each: &mut dyn FnMut(Line) -> Result<bool>,
) -> Result<()> {
    let root = fs.root();
    let mut go = true;
    if let FileSystem::Fat(f) = fs {
        for l in fat_label(f, vol, layer_of)? {
            go = go && each(l)?;
        }
    }
    if !go {
        return Ok(());
    }
    let mut failed = None;
    let mut stopped = false;
    walk_with(fs, vol, &root, true, deleted, deleted, &mut |fs, vol, e| {
        let mut out = Vec::new();
        // An entry whose metadata cannot be read is left out; the first such error is returned
        // once the rest is listed.
        if let Err(err) = entry_lines(fs, vol, e, layer_of, &mut out) {
            failed.get_or_insert(err);
        }
        for l in out {
            if !each(l)? {
                stopped = true;
                return Ok(false);
            }
        }
        Ok(true)
    })?;
    if stopped {
        return Ok(());
    }
    for l in virtual_lines(fs) {
        if !each(l)? {
            return Ok(());
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The newest layer (lowest number) of the chain `reader` reads supplying any byte of
/// `[at, at + len)` of the volume; `None` where no layer holds them (zeros).
pub fn layer_in_chain(vol: &mut Volume<&mut DiskReader<'_>>, at: u64, len: u64) -> Option<usize> {
    // Run by run of the disk (an LVM2 logical volume's bytes are where its extents are).
    let (mut pos, end) = (at, at.saturating_add(len));
    let mut best: Option<usize> = None;
    while pos < end {
        let Some((disk, run)) = vol.disk_run(pos) else { break };
        let n = run.min(end - pos);
        vol.source()
            .for_each_extent(disk, n, |e| {
                if let (_, Some(l)) = supplier(Some(e.source)) {
                    best = Some(best.map_or(l, |b| b.min(l)));
                }
                Ok(())
            })
            .ok()?;
        pos += n;
    }
    best
}

/// The lines of each of `partitions` of the chain `reader` reads, in turn, with the partition
/// (or LVM2 logical volume) and the layer supplying each entry's metadata (what `vhd-viewer timeline` writes).
/// `each` returns false to stop.
pub fn chain_lines<'p>(
    reader: &mut DiskReader<'_>,
    partitions: &'p [Partition],
    deleted: bool,
    each: &mut dyn FnMut(&'p Partition, Line) -> Result<bool>,
) -> Result<()> {
    for p in partitions {
        let (mut vol, mut fsys) = p.open(&mut *reader)?;
        let mut stopped = false;
        lines(&mut fsys, &mut vol, deleted, &mut layer_in_chain, &mut |l| {
            let go = each(p, l)?;
            stopped = !go;
            Ok(go)
        })?;
        if stopped {
            break;
        }
    }
    Ok(())
}

/// `ls`-style mode string (sleuthkit's `tsk_fs_meta_make_ls`): the metadata's type and the
/// nine permission characters (with set-uid, set-gid and sticky bits).
fn mode_string(ty: char, mode: u32) -> String {
    let mut s = String::with_capacity(10);
    s.push(ty);
    let b = |bit: u32, c: char| if mode & bit != 0 { c } else { '-' };
    let x = |xbit: u32, special: u32, lower: char, upper: char| match (mode & special != 0, mode & xbit != 0) {
        (true, true) => lower,
        (true, false) => upper,
        (false, true) => 'x',
        (false, false) => '-',
    };
    s.push(b(0o400, 'r'));
    s.push(b(0o200, 'w'));
    s.push(x(0o100, 0o4000, 's', 'S'));
    s.push(b(0o040, 'r'));
    s.push(b(0o020, 'w'));
    s.push(x(0o010, 0o2000, 's', 'S'));
    s.push(b(0o004, 'r'));
    s.push(b(0o002, 'w'));
    s.push(x(0o001, 0o1000, 't', 'T'));
    s
}

/// The DOS attributes' mode: `x` always, `r` unless read-only, `w` unless hidden.
fn dos_mode(attr: u32) -> u32 {
    let mut m = 0o111;
    if attr & 1 == 0 {
        m |= 0o444;
    }
    if attr & 2 == 0 {
        m |= 0o222;
    }
    m
}

/// The body file's letter for an entry of `kind` (`other` for a device, socket, fifo...).
fn type_letter(kind: EntryKind, other: char) -> char {
    match kind {
        EntryKind::File => 'r',
        EntryKind::Dir => 'd',
        EntryKind::Symlink => 'l',
        EntryKind::Other => other,
    }
}

fn secs(t: Option<i64>) -> u32 {
    t.map_or(0, |t| t as u32)
}

/// sleuthkit's NTFS time (4.12 on): seconds since 1970; 0 before 1970 or past 2106 (sleuthkit
/// 4.11 wrapped those around 32 bits: a zero time came out as 3373865674).
fn nt_secs(t: u64) -> u32 {
    nt_time(t).and_then(|t| u32::try_from(t).ok()).unwrap_or(0)
}

/// An NTFS time as ([`nt_secs`], nanoseconds; 0 with no time).
fn nt_stamp(t: u64) -> (u32, u32) {
    let secs = nt_secs(t);
    (secs, if secs == 0 { 0 } else { (t % 10_000_000) as u32 * 100 })
}

/// The lines of one entry.
fn entry_lines<R: ReadVirtual>(
    fs: &mut FileSystem,
    vol: &mut Volume<R>,
    e: &Entry,
    layer_of: &mut LayerOf<'_, R>,
    out: &mut Vec<Line>,
) -> Result<()> {
    match fs {
        FileSystem::Fat(_) => {
            let Some(at) = e.entry_offset else { return Ok(()) };
            let d = vol.read_vec(at, 32)?;
            let size = if e.kind == EntryKind::Dir { dir_size(fs, vol, e)? } else { e.size };
            let FileSystem::Fat(f) = fs else { return Ok(()) };
            out.push(fat_line(f, e.path.clone(), &d, at, size, e.deleted, layer_of(vol, at, 32)));
        }
        FileSystem::Ext(x) => {
            let ino = x.inode(vol, e.id)?;
            let at = x.inode_offset(vol, e.id)?;
            let layer = layer_of(vol, at, x.sb.inode_size);
            // sleuthkit reads the creation time on ext4 only (ext2/3 inodes of 256 bytes hold one
            // too, which mke2fs -d fills; the ext2/3 drivers do not keep it).
            let crtime = if x.kind() == fs::FsKind::Ext4 { secs(ino.crtime) } else { 0 };
            let ty = match ino.mode & 0xF000 {
                0x8000 => 'r',
                0x4000 => 'd',
                0xA000 => 'l',
                0x1000 => 'p',
                0x2000 => 'c',
                0x6000 => 'b',
                0xC000 => 's',
                _ => '-',
            };
            let name_ty = type_letter(e.kind, ty);
            let link = if ino.kind() == EntryKind::Symlink { Some(read_link(fs, vol, e)?) } else { None };
            out.push(Line {
                path: e.path.clone(),
                source: Source::Entry,
                link,
                deleted: e.deleted,
                inode: e.id.to_string(),
                mode: format!("{name_ty}/{}", mode_string(ty, u32::from(ino.mode))),
                uid: ino.uid,
                gid: ino.gid,
                size: ino.size,
                atime: ino.atime as u32,
                mtime: ino.mtime as u32,
                ctime: ino.ctime as u32,
                crtime,
                nanos: [ino.nanos[0], ino.nanos[1], ino.nanos[2], if crtime == 0 { 0 } else { ino.nanos[3] }],
                layer,
            });
        }
        FileSystem::Ntfs(n) => ntfs_lines(n, vol, e, layer_of, out)?,
        // Its times as the reader gives them (to the second); not compared with fls, which numbers
        // exFAT's entries its own way.
        FileSystem::ExFat(_) => {
            let t = fs.times(vol, e)?;
            let layer = match e.entry_offset {
                Some(at) => layer_of(vol, at, 32),
                None => None,
            };
            let ty = type_letter(e.kind, '-');
            out.push(Line {
                path: e.path.clone(),
                source: Source::Entry,
                link: None,
                deleted: e.deleted,
                inode: e.id.to_string(),
                mode: format!("{ty}/{}", mode_string(ty, if e.kind == EntryKind::Dir { 0o777 } else { 0o666 })),
                uid: 0,
                gid: 0,
                size: e.size,
                atime: secs(t.accessed),
                mtime: secs(t.modified),
                ctime: 0,
                crtime: secs(t.created),
                nanos: [0; 4],
                layer,
            });
        }
        // sleuthkit 4.11 reads no XFS: the line is made as ext's is (times to the second).
        FileSystem::Xfs(x) => {
            let ino = x.inode(vol, e.id)?;
            let layer = layer_of(vol, ino.at, ino.core.len().max(1) as u64);
            let ty = type_letter(ino.kind(), '-');
            let be32 = |at: usize| ino.core.get(at..at + 4).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
            let link = if ino.kind() == EntryKind::Symlink { Some(read_link(fs, vol, e)?) } else { None };
            out.push(Line {
                path: e.path.clone(),
                source: Source::Entry,
                link,
                deleted: e.deleted,
                inode: e.id.to_string(),
                mode: format!("{ty}/{}", mode_string(ty, u32::from(ino.mode))),
                uid: be32(8),
                gid: be32(12),
                size: ino.size,
                atime: secs(ino.times[0]),
                mtime: secs(ino.times[1]),
                ctime: secs(ino.times[2]),
                crtime: secs(ino.times[3]),
                nanos: [0; 4],
                layer,
            });
        }
    }
    Ok(())
}

/// A symbolic link's target (its first [`MAX_LINK`] bytes: a damaged inode's size is not trusted).
fn read_link<R: ReadVirtual>(fs: &mut FileSystem, vol: &mut Volume<R>, e: &Entry) -> Result<String> {
    let (data, _) = fs.data(vol, e, None)?.window(0, MAX_LINK as u64);
    let mut t = Vec::new();
    fs::read_data(vol, &data, &mut |b| {
        t.extend_from_slice(b);
        Ok(())
    })?;
    t.truncate(MAX_LINK);
    Ok(String::from_utf8_lossy(&t).into_owned())
}

/// A FAT directory's size as sleuthkit counts it: its chain's clusters, whole (a deleted one's
/// first cluster only when that cluster is free, else 0).
fn dir_size<R: ReadVirtual>(fs: &mut FileSystem, vol: &mut Volume<R>, e: &Entry) -> Result<u64> {
    let FileSystem::Fat(f) = fs else { return Ok(0) };
    if e.deleted {
        let free = f.entry(vol, e.id as u32).map(|v| v == 0).unwrap_or(false);
        return Ok(if free { f.bpb.cluster_size() } else { 0 });
    }
    Ok(match fs.data(vol, e, None)? {
        FileData::Runs { runs, .. } => runs.iter().map(|r| r.len).sum(),
        _ => 0,
    })
}

/// sleuthkit's FAT inode number of the directory slot at volume byte `at`.
fn fat_inode(f: &fat::Fat, at: u64) -> u64 {
    let base = (u64::from(f.bpb.reserved_sectors) + u64::from(f.bpb.fats) * f.bpb.fat_sectors) * u64::from(f.bpb.bytes_per_sector);
    3 + at.saturating_sub(base) / 32
}

/// The line of FAT directory entry `d` (at volume byte `at`).
fn fat_line(f: &fat::Fat, path: String, d: &[u8], at: u64, size: u64, deleted: bool, layer: Option<usize>) -> Line {
    let attr = d[0x0B];
    let ty = if attr & 0x10 != 0 { 'd' } else { 'r' };
    let created = fat::fat_time(le16(d, 0x10), le16(d, 0x0E)).map(|t| t + i64::from(d[0x0D] >= 100));
    let created_nanos = if created.is_some() { u32::from(d[0x0D] % 100) * 10_000_000 } else { 0 };
    Line {
        path,
        source: Source::Entry,
        link: None,
        deleted,
        inode: fat_inode(f, at).to_string(),
        mode: format!("{ty}/{}", mode_string(ty, dos_mode(u32::from(attr)))),
        uid: 0,
        gid: 0,
        size,
        atime: secs(fat::fat_time(le16(d, 0x12), 0)),
        mtime: secs(fat::fat_time(le16(d, 0x18), le16(d, 0x16))),
        ctime: 0,
        crtime: secs(created),
        nanos: [0, 0, 0, created_nanos],
        layer,
    }
}

/// The volume label's entry in a FAT root directory, as sleuthkit lists it: `/LABEL
/// (Volume Label Entry)`, the 11 bytes as stored.
fn fat_label<R: ReadVirtual>(f: &mut fat::Fat, vol: &mut Volume<R>, layer_of: &mut LayerOf<'_, R>) -> Result<Vec<Line>> {
    let root = f.root();
    let runs = match f.data(vol, &root)? {
        FileData::Runs { runs, .. } => runs,
        _ => return Ok(Vec::new()),
    };
    let mut out = Vec::new();
    for r in runs {
        let Some(start) = r.volume_offset else { continue };
        let b = vol.read_vec(start, r.len as usize)?;
        for (k, d) in b.chunks_exact(32).enumerate() {
            if d[0] == 0 {
                return Ok(out);
            }
            if d[0] != 0xE5 && d[0x0B] & 0x3F != 0x0F && d[0x0B] & 0x08 != 0 {
                let at = start + 32 * k as u64;
                let name = format!("/{} (Volume Label Entry)", String::from_utf8_lossy(&d[..11]));
                out.push(fat_line(f, name, d, at, u64::from(le32(d, 0x1C)), false, layer_of(vol, at, 32)));
            }
        }
    }
    Ok(out)
}

/// sleuthkit's virtual files: FAT's `$MBR`, `$FAT1`, `$FAT2`, and `$OrphanFiles` everywhere.
fn virtual_lines(fs: &FileSystem) -> Vec<Line> {
    let line = |path: &str, inode: u64, ty: char, size: u64| Line {
        path: path.into(),
        source: Source::Virtual,
        link: None,
        deleted: false,
        inode: inode.to_string(),
        mode: format!("{ty}/{ty}---------"),
        uid: 0,
        gid: 0,
        size,
        atime: 0,
        mtime: 0,
        ctime: 0,
        crtime: 0,
        nanos: [0; 4],
        layer: None,
    };
    match fs {
        FileSystem::Fat(f) => {
            let b = &f.bpb;
            let base = u64::from(b.reserved_sectors) + u64::from(b.fats) * b.fat_sectors;
            let first = 3 + b.total_sectors.saturating_sub(base) * u64::from(b.bytes_per_sector / 32);
            let mut v = vec![line("/$MBR", first, 'v', u64::from(b.bytes_per_sector))];
            for k in 1..=u64::from(b.fats) {
                v.push(line(&format!("/$FAT{k}"), first + k, 'v', b.fat_sectors * u64::from(b.bytes_per_sector)));
            }
            v.push(line("/$OrphanFiles", first + u64::from(b.fats) + 1, 'V', 0));
            v
        }
        FileSystem::Ntfs(n) => vec![line("/$OrphanFiles", n.record_count(), 'V', 0)],
        FileSystem::Ext(x) => vec![line("/$OrphanFiles", x.sb.inodes + 1, 'V', 0)],
        FileSystem::ExFat(_) | FileSystem::Xfs(_) => Vec::new(),
    }
}

/// An attribute of an NTFS file as sleuthkit sees it: type, id, name, size.
struct Attr {
    ty: u32,
    id: u16,
    name: String,
    size: u64,
}

/// The `$FILE_NAME` whose times sleuthkit shows: the last one not in the DOS namespace that it
/// reads (the base record's, then the extension records'), by the id in its attribute header.
struct LastName {
    id: u16,
    value: Vec<u8>,
}

/// The attributes of record `rec` as sleuthkit numbers them, and its [`LastName`]. With an
/// `$ATTRIBUTE_LIST`, sleuthkit (`ntfs_proc_attrlist`) keeps the base record's ids and gives each
/// attribute first met in an extension record a new id, counting up from the largest id of the
/// list (and of the list's own attribute); it reads the extension records after the base one.
fn ntfs_attrs<R: ReadVirtual>(n: &Ntfs, vol: &mut Volume<R>, rec: &Record) -> Result<(Vec<Attr>, Option<LastName>)> {
    let size = |a: &fs::ntfs::Attribute| {
        a.resident.as_ref().map_or_else(|| a.non_resident.as_ref().map_or(0, |r| r.data_size), |v| v.len() as u64)
    };
    let mut last: Option<LastName> = None;
    let note_names = |r: &Record, last: &mut Option<LastName>| {
        for a in r.attributes.iter().filter(|a| a.ty == ty::FILE_NAME) {
            if let Some(v) = a.resident.as_ref().filter(|v| v.len() >= 0x42 && v[0x41] != 2) {
                *last = Some(LastName { id: a.instance, value: v.clone() });
            }
        }
    };
    note_names(rec, &mut last);
    let Some(list) = n.attribute_list(vol, rec)? else {
        let attrs = rec
            .attributes
            .iter()
            .filter(|a| a.non_resident.as_ref().map_or(true, |r| r.lowest_vcn == 0))
            .map(|a| Attr { ty: a.ty, id: a.instance, name: a.name.clone(), size: size(a) })
            .collect();
        return Ok((attrs, last));
    };
    let own = rec.find(ty::ATTRIBUTE_LIST, "").map_or(0, |a| a.instance);
    let mut next = list.iter().map(|l| l.instance).max().unwrap_or(0).max(own);
    // Each attribute's first piece (the one from cluster 0), found in one pass: a hostile list
    // of thousands of entries costs no more than a listing of them.
    let mut first: HashMap<(u32, &str), &ListEntry> = HashMap::new();
    for l in list.iter().rev() {
        if l.lowest_vcn == 0 || !first.contains_key(&(l.ty, l.name.as_str())) {
            first.insert((l.ty, l.name.as_str()), l);
        }
    }
    let mut others: Vec<Record> = Vec::new();
    let mut out: Vec<Attr> = Vec::new();
    let mut met: HashSet<(u32, &str)> = HashSet::new();
    for le in &list {
        if le.record != rec.number && others.len() < MAX_EXTENSIONS && !others.iter().any(|o| o.number == le.record) {
            if let Ok(o) = n.record(vol, le.record) {
                others.push(o);
            }
        }
        if !met.insert((le.ty, le.name.as_str())) {
            continue;
        }
        let id = if le.record == rec.number {
            le.instance
        } else {
            next = next.wrapping_add(1);
            next
        };
        // The attribute's first piece gives its size.
        let first = first.get(&(le.ty, le.name.as_str())).copied().unwrap_or(le);
        let holder = if first.record == rec.number { Some(rec) } else { others.iter().find(|o| o.number == first.record) };
        let Some(a) = holder.and_then(|r| r.attributes.iter().find(|a| a.ty == first.ty && a.instance == first.instance)) else { continue };
        out.push(Attr { ty: le.ty, id, name: le.name.clone(), size: size(a) });
    }
    for o in &others {
        note_names(o, &mut last);
    }
    Ok((out, last))
}

/// The lines of an NTFS entry.
fn ntfs_lines<R: ReadVirtual>(n: &Ntfs, vol: &mut Volume<R>, e: &Entry, layer_of: &mut LayerOf<'_, R>, out: &mut Vec<Line>) -> Result<()> {
    let rec = n.record(vol, e.id)?;
    let layer = n.record_offset(e.id).and_then(|at| layer_of(vol, at, n.record_size()));
    let si = rec.find(ty::STANDARD_INFORMATION, "").and_then(|a| a.resident.clone()).unwrap_or_default();
    let at = |v: &[u8], o: usize| if v.len() >= o + 8 { nt_stamp(le64(v, o)) } else { (0, 0) };
    let dos = if si.len() >= 0x24 { le32(&si, 0x20) } else { 0 };
    // The owner id is at byte 0x30 of a 72-byte $STANDARD_INFORMATION. sleuthkit reads it
    // from a 48-byte one (NTFS 1.2's, which mkntfs still writes for some system files) too: it
    // then gets the next attribute's type code (or the end marker), which is matched here.
    let uid = if si.len() >= 0x34 {
        le32(&si, 0x30)
    } else {
        let k = rec.attributes.iter().position(|a| a.ty == ty::STANDARD_INFORMATION);
        k.and_then(|k| rec.attributes.get(k + 1)).map_or(0xFFFF_FFFF, |a| a.ty)
    };
    let ty_char = if rec.is_dir() { 'd' } else { 'r' };
    let name_ty = if e.deleted { '-' } else { ty_char };
    let mode = format!("{name_ty}/{}", mode_string(ty_char, dos_mode(dos)));
    let (attrs, last) = ntfs_attrs(n, vol, &rec)?;
    let base = |source: Source, path: String, inode: String, size: u64, t: [(u32, u32); 4]| Line {
        path,
        source,
        link: None,
        deleted: e.deleted,
        inode,
        mode: mode.clone(),
        uid,
        gid: 0,
        size,
        atime: t[0].0,
        mtime: t[1].0,
        ctime: t[2].0,
        crtime: t[3].0,
        nanos: t.map(|(_, n)| n),
        layer,
    };
    let si_t = [at(&si, 0x18), at(&si, 0x08), at(&si, 0x10), at(&si, 0x00)];
    let mut printed = false;
    for a in &attrs {
        let shown = match a.ty {
            ty::DATA => true,
            ty::INDEX_ROOT => true,
            ty::FILE_NAME => {
                if let Some(v) = last.as_ref().filter(|l| l.id == a.id).map(|l| l.value.as_slice()) {
                    let t = [at(v, 0x20), at(v, 0x10), at(v, 0x18), at(v, 0x08)];
                    out.push(base(Source::Fn, e.path.clone(), format!("{}-48-{}", e.id, a.id), a.size, t));
                }
                false
            }
            _ => false,
        };
        if shown {
            printed = true;
            let ads = !(a.name.is_empty() || a.ty == ty::INDEX_ROOT && a.name == "$I30");
            let path = if ads { format!("{}:{}", e.path, a.name) } else { e.path.clone() };
            out.push(base(Source::Si, path, format!("{}-{}-{}", e.id, a.ty, a.id), a.size, si_t));
        }
    }
    if !printed {
        out.push(base(Source::Si, e.path.clone(), e.id.to_string(), e.size, si_t));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(path: &str, source: Source, times: [u32; 4]) -> Line {
        Line {
            path: path.into(),
            source,
            link: None,
            deleted: false,
            inode: "5".into(),
            mode: "r/rrwxrwxrwx".into(),
            uid: 0,
            gid: 0,
            size: 1,
            atime: times[0],
            mtime: times[1],
            ctime: times[2],
            crtime: times[3],
            nanos: [0, 500, 0, 0],
            layer: Some(0),
        }
    }

    #[test]
    fn the_mode_string_is_sleuthkits() {
        assert_eq!(mode_string('r', 0o644), "rrw-r--r--");
        assert_eq!(mode_string('d', 0o755), "drwxr-xr-x");
        assert_eq!(mode_string('r', 0o4755), "rrwsr-xr-x");
        assert_eq!(mode_string('r', 0o2644), "rrw-r-Sr--");
        assert_eq!(mode_string('d', 0o1777), "drwxrwxrwt");
        assert_eq!(mode_string('d', 0o1776), "drwxrwxrwT");
        // DOS attributes: read-only takes r away, hidden w.
        assert_eq!(mode_string('r', dos_mode(0x20)), "rrwxrwxrwx");
        assert_eq!(mode_string('r', dos_mode(0x01)), "r-wx-wx-wx");
        assert_eq!(mode_string('r', dos_mode(0x06)), "rr-xr-xr-x");
    }

    #[test]
    fn the_name_column_says_what_fls_says() {
        let mut l = line("/a\tb\u{1}", Source::Fn, [0; 4]);
        l.deleted = true;
        assert_eq!(l.name(), "/a^b^ ($FILE_NAME) (deleted)");
        let mut l = line("/link", Source::Entry, [1, 2, 3, 0]);
        l.link = Some("target".into());
        assert_eq!(l.body(), "0|/link -> target|5|r/rrwxrwxrwx|0|0|1|1|2|3|0");
    }

    #[test]
    fn ntfs_times_before_1970_or_past_2106_are_zero() {
        assert_eq!(nt_secs(0), 0);
        assert_eq!(nt_secs(116_444_736_000_000_000 - 1), 0);
        assert_eq!(nt_secs(116_444_736_000_000_000 + 10_000_000), 1);
        assert_eq!(nt_secs(116_444_736_000_000_000 + (1u64 << 32) * 10_000_000), 0);
    }

    #[test]
    fn rows_are_sorted_by_time_then_path_and_kind_and_csv_quotes_paths() {
        let lines = vec![line("/b", Source::Si, [30, 10, 0, 10]), line("/a \"q\"", Source::Fn, [10, 20, 0, 0])];
        // /b's m is 10 s and 500 ns: after its b (10 s).
        let order: Vec<(usize, &str)> = sorted(&lines);
        assert_eq!(order, vec![(1, "a"), (0, "b"), (0, "m"), (1, "m"), (0, "a")]);
        let r = row(2, &lines[1], "a");
        assert_eq!(csv(&r), "1970-01-01T00:00:10Z,10,0,a,fn,2,\"/a \"\"q\"\"\",5,1,false,0");
        let r = row(2, &lines[0], "m");
        assert_eq!((r.time.as_str(), r.unix, r.nanos), ("1970-01-01T00:00:10.0000005Z", 10, 500));
        assert_eq!(nt_stamp(116_444_736_000_000_000 + 10_000_000 + 1234), (1, 123_400));
    }
}
