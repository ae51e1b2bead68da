//! What is *on* the virtual disk: file systems read through the chain.
//!
//! The core still does no I/O of its own. Everything here reads the virtual disk through
//! [`ReadVirtual`] ("fill this buffer with the virtual bytes at this offset"), which a driver
//! implements: the command line with [`DiskReader`] over the layers' files, tests with a byte
//! buffer. A [`Volume`] is one partition's window on it, with a bounded page cache, and is also
//! `Read + Seek` for crates that want that (the `ntfs` crate). The FAT and ext readers are this
//! project's own ([`fat`], [`ext`]); NTFS goes through the `ntfs` crate ([`ntfs`]).
//!
//! "As of layer K" is the chain cut at K ([`crate::disk::Disk::cut`]): a [`DiskReader`] over the
//! cut chain reads the disk as it was when layer K was the newest.
//!
//! [`FileSystem`] is the one interface over the three: listing, lookup, data and owners here;
//! what a comparison of two versions asks (ids, structures, clusters in use, freed records) in
//! [`survey`], so that `crate::diff` names no file system; which layer supplies a file's parts in
//! [`supply`]; every condition that stops a read in [`crate::error::FsError`].

pub mod exfat;
pub mod ext;
pub mod fat;
pub mod free;
pub mod ntfs;
pub mod supply;
pub mod survey;
pub mod xfs;

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::Arc;

use serde::Serialize;

use crate::error::FsError;
use crate::error::{Error, Result};
use crate::reader::{DiskReader, ReadAt};

/// Reads bytes of the virtual disk (or of anything laid out like it).
pub trait ReadVirtual {
    /// The size in bytes.
    fn size(&self) -> u64;
    /// Fills `buf` with the bytes at `offset`; fails if any of them cannot be read.
    fn read_virtual(&mut self, offset: u64, buf: &mut [u8]) -> Result<()>;
    /// Bytes per logical sector, the unit of the partition table's sector numbers: the disk's
    /// own (512, or a VHDX's 4096).
    fn sector_size(&self) -> u32;
}

impl ReadVirtual for DiskReader<'_> {
    fn size(&self) -> u64 {
        self.disk.size()
    }
    fn sector_size(&self) -> u32 {
        self.disk.sector_size()
    }
    fn read_virtual(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.read(offset, buf)
    }
}

/// Bytes of a raw image, which does not say its sector size: 512-byte sectors, as tools read a
/// raw image unless told otherwise (wrap it in [`crate::parts::Sectors`] to say another).
impl ReadVirtual for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn sector_size(&self) -> u32 {
        512
    }
    fn read_virtual(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        ReadAt::read_at(self, offset, buf)
    }
}

/// As for `[u8]`: 512-byte sectors.
impl ReadVirtual for Vec<u8> {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn sector_size(&self) -> u32 {
        512
    }
    fn read_virtual(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        ReadAt::read_at(self.as_slice(), offset, buf)
    }
}

impl<T: ReadVirtual + ?Sized> ReadVirtual for &mut T {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn sector_size(&self) -> u32 {
        (**self).sector_size()
    }
    fn read_virtual(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        (**self).read_virtual(offset, buf)
    }
}

/// What gives a volume's bytes when they are not a plain window of the disk: an unlocked
/// BitLocker volume's, decrypted ([`crate::bitlocker`]); an LVM2 logical volume's, gathered from
/// its extents ([`crate::lvm`]). A [`Volume::mapped`] reads through it.
pub trait Mapping {
    /// Fills `buf` with the volume's bytes at its byte `offset`, read from `src` (the whole disk);
    /// `[start, start + len)` is the volume's window on it.
    fn read(&self, src: &mut dyn ReadVirtual, start: u64, len: u64, offset: u64, buf: &mut [u8]) -> Result<()>;

    /// The volume's length when the mapping fixes it (an LVM2 logical volume's extents may lie
    /// anywhere on the disk); `None`: the window's, clipped to the disk.
    fn size(&self) -> Option<u64> {
        None
    }

    /// Where the volume's byte `offset` is on the disk, and how many bytes from there follow it
    /// there (`None`: nowhere). By default at `offset` of its window from `start`, as a decrypted
    /// volume's bytes are; an LVM2 logical volume's where its extents are.
    fn locate(&self, start: u64, offset: u64) -> Option<(u64, u64)> {
        Some((start.saturating_add(offset), u64::MAX))
    }
}

/// Bytes of a page of a [`Volume`]'s cache.
pub const PAGE: u64 = 8 << 10;
/// Pages a [`Volume`] keeps (16 MiB).
pub const PAGES: usize = 2048;

/// One partition (or the whole disk) as a window `[start, start + len)` on the virtual disk,
/// with a bounded cache of [`PAGE`]-byte pages (the oldest are dropped). Offsets given to it are
/// relative to the window's start. It is also `Read + Seek` (reading past the window's end
/// gives end of file).
pub struct Volume<R> {
    src: R,
    start: u64,
    len: u64,
    pos: u64,
    pages: HashMap<u64, Vec<u8>>,
    order: VecDeque<u64>,
    bytes_fetched: u64,
    mapping: Option<Arc<dyn Mapping>>,
}

impl<R: ReadVirtual> Volume<R> {
    /// The window `[start, start + len)` of `src`, clipped to its size.
    pub fn new(src: R, start: u64, len: u64) -> Self {
        let len = len.min(src.size().saturating_sub(start));
        Volume { src, start, len, pos: 0, pages: HashMap::new(), order: VecDeque::new(), bytes_fetched: 0, mapping: None }
    }

    /// The volume `[start, start + len)` of `src` whose bytes `mapping` gives, each page through
    /// it as it is fetched: an unlocked BitLocker volume (the plain volume inside its window), an
    /// LVM2 logical volume (its extents; `start`, its first byte on the disk, names it in errors).
    pub fn mapped(src: R, start: u64, len: u64, mapping: Arc<dyn Mapping>) -> Self {
        let v = Self::new(src, start, len);
        Volume { len: mapping.size().unwrap_or(v.len), mapping: Some(mapping), ..v }
    }

    /// Fills `buf` with the volume's bytes at `at` from the source, through its mapping when it has one.
    fn fetch(&mut self, at: u64, buf: &mut [u8]) -> Result<()> {
        self.bytes_fetched += buf.len() as u64;
        match &self.mapping {
            Some(d) => d.read(&mut self.src, self.start, self.len, at, buf),
            None => self.src.read_virtual(self.start + at, buf),
        }
    }

    /// The whole of `src`.
    pub fn whole(src: R) -> Self {
        let len = src.size();
        Self::new(src, 0, len)
    }

    /// Where the window starts on the disk.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// Where the volume's byte `at` is on the disk, and how many of its bytes from there follow
    /// it there up to its end: the window's, or through its mapping (an LVM2 logical volume's
    /// extent and stripe). `None` past its end or where nothing holds it.
    pub fn disk_run(&self, at: u64) -> Option<(u64, u64)> {
        let left = self.len.checked_sub(at).filter(|&n| n > 0)?;
        let (disk, run) = match &self.mapping {
            Some(m) => m.locate(self.start, at)?,
            None => (self.start.saturating_add(at), left),
        };
        Some((disk, run.min(left))).filter(|&(_, r)| r > 0)
    }

    /// `runs` (offsets in the volume) as runs whose offsets are the disk's: cut where the
    /// volume's bytes are not contiguous on the disk (an LVM2 logical volume's extents and
    /// stripes); a part the volume maps nowhere reads as a hole.
    pub fn disk_runs(&self, runs: &[Run]) -> Vec<Run> {
        let mut out = Vec::new();
        for r in runs {
            let Some(v) = r.volume_offset else {
                Run::push(&mut out, *r);
                continue;
            };
            let mut done = 0;
            while done < r.len {
                let file_offset = r.file_offset + done;
                match self.disk_run(v.saturating_add(done)) {
                    Some((disk, n)) => {
                        let n = n.min(r.len - done);
                        Run::push(&mut out, Run { file_offset, len: n, volume_offset: Some(disk) });
                        done += n;
                    }
                    None => {
                        Run::push(&mut out, Run { file_offset, len: r.len - done, volume_offset: None });
                        break;
                    }
                }
            }
        }
        out
    }

    /// The window's length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when the window is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes asked of the source so far (cache misses and uncached reads).
    pub fn bytes_fetched(&self) -> u64 {
        self.bytes_fetched
    }

    /// The source.
    pub fn source(&mut self) -> &mut R {
        &mut self.src
    }

    fn check(&self, offset: u64, len: u64) -> Result<()> {
        if offset.checked_add(len).map_or(true, |end| end > self.len) {
            return Err(FsError::PastVolumeEnd { volume_start: self.start, volume_len: self.len, at: offset, len }.into());
        }
        Ok(())
    }

    fn page(&mut self, index: u64) -> Result<&[u8]> {
        if !self.pages.contains_key(&index) {
            let at = index * PAGE;
            let n = PAGE.min(self.len - at) as usize;
            let mut buf = vec![0u8; n];
            self.fetch(at, &mut buf)?;
            self.pages.insert(index, buf);
            self.order.push_back(index);
            while self.order.len() > PAGES {
                if let Some(old) = self.order.pop_front() {
                    self.pages.remove(&old);
                }
            }
        }
        Ok(self.pages.get(&index).map(Vec::as_slice).unwrap_or(&[]))
    }

    /// Fills `buf` with the volume's bytes at `offset`, through the cache.
    pub fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.check(offset, buf.len() as u64)?;
        let mut done = 0usize;
        while done < buf.len() {
            let at = offset + done as u64;
            let (index, inside) = (at / PAGE, (at % PAGE) as usize);
            let page = self.page(index)?;
            let n = (page.len() - inside).min(buf.len() - done);
            if n == 0 {
                return Err(Error::Missing { offset: self.start + at, len: (buf.len() - done) as u64 });
            }
            buf[done..done + n].copy_from_slice(&page[inside..inside + n]);
            done += n;
        }
        Ok(())
    }

    /// `len` bytes at `offset` as a vector (`len` is bounded by the caller).
    pub fn read_vec(&mut self, offset: u64, len: usize) -> Result<Vec<u8>> {
        let mut v = vec![0u8; len];
        self.read_at(offset, &mut v)?;
        Ok(v)
    }

    /// Fills `buf` straight from the source, not through the cache (file contents).
    pub fn read_uncached(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.check(offset, buf.len() as u64)?;
        self.fetch(offset, buf)
    }
}

impl<R: ReadVirtual> ReadVirtual for Volume<R> {
    fn size(&self) -> u64 {
        self.len
    }
    fn sector_size(&self) -> u32 {
        self.src.sector_size()
    }
    fn read_virtual(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.read_at(offset, buf)
    }
}

/// Our error as an `io::Error` (for crates that read through `Read`), and back.
pub(crate) fn to_io(e: Error) -> io::Error {
    io::Error::other(e)
}

/// An `io::Error` made by [`to_io`] as the error it carries; others as [`Error::Io`].
pub(crate) fn from_io(e: io::Error, offset: u64) -> Error {
    if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        if let Some(inner) = e.into_inner() {
            if let Ok(ours) = inner.downcast::<Error>() {
                return *ours;
            }
        }
        return Error::Io { offset, message: "read failed".into() };
    }
    Error::Io { offset, message: e.to_string() }
}

impl<R: ReadVirtual> io::Read for Volume<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.len.saturating_sub(self.pos)) as usize;
        if n == 0 {
            return Ok(0);
        }
        // At most to the end of the page, so that a large read does not fill the cache.
        let n = n.min((PAGE - self.pos % PAGE) as usize).max(1);
        self.read_at(self.pos, &mut buf[..n]).map_err(to_io)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: ReadVirtual> io::Seek for Volume<R> {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        let new = match pos {
            io::SeekFrom::Start(p) => Some(p),
            io::SeekFrom::End(d) => self.len.checked_add_signed(d),
            io::SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let new = new.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start of the volume"))?;
        self.pos = new;
        Ok(new)
    }
}

/// The file systems this viewer recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FsKind {
    /// FAT with 12-bit entries.
    Fat12,
    /// FAT with 16-bit entries.
    Fat16,
    /// FAT with 32-bit entries.
    Fat32,
    /// exFAT.
    ExFat,
    /// NTFS.
    Ntfs,
    /// ext2 (no journal).
    Ext2,
    /// ext3 (a journal, no ext4 features).
    Ext3,
    /// ext4.
    Ext4,
    /// A BitLocker volume (its file system is read once it is unlocked).
    BitLocker,
    /// XFS (v4 or v5).
    Xfs,
}

impl FsKind {
    /// The name `parts --json` uses.
    pub fn name(self) -> &'static str {
        match self {
            FsKind::Fat12 => "fat12",
            FsKind::Fat16 => "fat16",
            FsKind::Fat32 => "fat32",
            FsKind::ExFat => "exfat",
            FsKind::Ntfs => "ntfs",
            FsKind::Ext2 => "ext2",
            FsKind::Ext3 => "ext3",
            FsKind::Ext4 => "ext4",
            FsKind::BitLocker => "bitlocker",
            FsKind::Xfs => "xfs",
        }
    }
}

/// Which file system the volume holds, from its first 2 KiB; `None` when none is recognised.
pub fn probe<R: ReadVirtual>(vol: &mut Volume<R>) -> Option<FsKind> {
    let mut head = vec![0u8; 2048.min(vol.len()) as usize];
    vol.read_at(0, &mut head).ok()?;
    probe_bytes(&head)
}

/// BitLocker's signature at byte 3 of the boot sector and at the start of each metadata block.
pub const BITLOCKER_SIGNATURE: &[u8; 8] = b"-FVE-FS-";
/// The BitLocker identifier, 4967d63b-2e29-4ad8-8399-f6a339e3d001, at byte 160 of the boot
/// sector (at 424 of To Go's FAT32-looking one, whose last byte libbde's notes give otherwise:
/// only the first fifteen are compared there).
pub const BITLOCKER_GUID: crate::bytes::Guid =
    crate::bytes::Guid::from_text_order([0x49, 0x67, 0xd6, 0x3b, 0x2e, 0x29, 0x4a, 0xd8, 0x83, 0x99, 0xf6, 0xa3, 0x39, 0xe3, 0xd0, 0x01]);
/// True when these first bytes of a volume are a BitLocker boot sector (read by
/// `crate::bitlocker`, which is put over this module: its decryption reaches a [`Volume`] through
/// [`Mapping`]).
pub fn is_bitlocker(head: &[u8]) -> bool {
    head.get(3..11) == Some(BITLOCKER_SIGNATURE)
        || (head.get(3..11) == Some(b"MSWIN4.1") && head.get(424..439) == Some(&BITLOCKER_GUID.0[..15]))
}

/// [`probe`] on the volume's first bytes (2 KiB are enough for every kind).
pub fn probe_bytes(head: &[u8]) -> Option<FsKind> {
    if is_bitlocker(head) {
        return Some(FsKind::BitLocker);
    }
    if head.get(3..11) == Some(b"NTFS    ") {
        return Some(FsKind::Ntfs);
    }
    if head.get(3..11) == Some(b"EXFAT   ") {
        return Some(FsKind::ExFat);
    }
    if let Some(k) = xfs::probe(head) {
        return Some(k);
    }
    if let Ok(bpb) = fat::Bpb::parse(head) {
        return Some(bpb.kind);
    }
    if head.len() >= 2048 {
        return ext::kind_of_superblock(&head[1024..2048]);
    }
    None
}

/// What a directory entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// Anything else (device, socket, fifo, reparse point).
    Other,
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The name as stored (in UTF-8; FAT short names with their case flags applied).
    pub name: String,
    /// The absolute path, with `/`.
    pub path: String,
    /// What it is.
    #[serde(rename = "type")]
    pub kind: EntryKind,
    /// Size in bytes.
    pub size: u64,
    /// Last modification, seconds since 1970 UTC (FAT stores local time, taken as UTC).
    pub modified: Option<i64>,
    /// True for a deleted entry (recovered from a directory or the MFT).
    pub deleted: bool,
    /// The file system's number for it: the NTFS record, the ext inode, the FAT first cluster.
    pub id: u64,
    /// Attributes in words (`hidden`, `system`, `compressed`, `sparse`, ...).
    pub attributes: Vec<&'static str>,
    /// For FAT: where the directory entry is (volume byte offset); NTFS: the record's.
    pub entry_offset: Option<u64>,
    /// NTFS: its named data streams (alternate data streams), wherever their attributes are
    /// (the base record or extension records reached through `$ATTRIBUTE_LIST`).
    pub streams: Vec<Stream>,
    /// exFAT: its entry set as the listing read it (its times and facts are read from it).
    #[serde(skip)]
    pub exfat: Option<Box<exfat::SetHead>>,
}

/// A named data stream of an NTFS file (an alternate data stream).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stream {
    /// Its name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
}

impl Entry {
    /// The root directory of a volume: `id` is the file system's number for it, `entry_offset`
    /// where its own record is (NTFS), if anywhere.
    pub fn root(id: u64, entry_offset: Option<u64>) -> Entry {
        Entry {
            name: String::new(),
            path: "/".into(),
            kind: EntryKind::Dir,
            size: 0,
            modified: None,
            deleted: false,
            id,
            attributes: Vec::new(),
            entry_offset,
            streams: Vec::new(),
            exfat: None,
        }
    }
}

/// One line of `vhd-viewer ls --json` (and an entry of the page's `list()`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LsLine<'a> {
    /// The partition's index.
    pub partition: u32,
    /// The LVM2 logical volume (`VG/LV`) it is on, when it is on one (`partition` then holds its first extent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<&'a str>,
    /// The absolute path.
    pub path: &'a str,
    /// What it is.
    #[serde(rename = "type")]
    pub kind: EntryKind,
    /// Size in bytes.
    pub size: u64,
    /// Last modification, ISO 8601 UTC.
    pub modified: Option<String>,
    /// True for a deleted entry.
    pub deleted: bool,
    /// The file system's number for it.
    pub id: u64,
    /// Attributes in words.
    pub attributes: &'a [&'static str],
    /// NTFS: its named data streams (`{"name", "size"}`), left out when it has none.
    #[serde(skip_serializing_if = "<[Stream]>::is_empty")]
    pub streams: &'a [Stream],
}

impl<'a> LsLine<'a> {
    /// The line of `e` on partition `partition`.
    pub fn new(partition: u32, e: &'a Entry) -> Self {
        LsLine {
            partition,
            volume: None,
            path: &e.path,
            kind: e.kind,
            size: e.size,
            modified: e.modified.map(iso8601),
            deleted: e.deleted,
            id: e.id,
            attributes: &e.attributes,
            streams: &e.streams,
        }
    }
}

/// A file's times, seconds since 1970 UTC (FAT stores local time, taken as UTC): what its file
/// system keeps (FAT: no change time, the access day only; ext2/3: no creation time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Times {
    /// Creation.
    pub created: Option<i64>,
    /// Last change of the data.
    pub modified: Option<i64>,
    /// Last access.
    pub accessed: Option<i64>,
    /// Last change of the metadata (NTFS: of the MFT record; ext: of the inode).
    pub changed: Option<i64>,
}

/// A stretch of a file's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Run {
    /// Offset in the file.
    pub file_offset: u64,
    /// Length in bytes.
    pub len: u64,
    /// Byte offset in the volume, or `None` for a hole (reads as zeros).
    pub volume_offset: Option<u64>,
}

impl Run {
    /// Appends `run` to `runs`, joined to the last one when it continues it (the next file bytes
    /// at the next volume bytes, or a hole after a hole).
    pub fn push(runs: &mut Vec<Run>, run: Run) {
        if let Some(l) = runs.last_mut() {
            let continues = match (l.volume_offset, run.volume_offset) {
                (Some(a), Some(b)) => a + l.len == b,
                (None, None) => true,
                _ => false,
            };
            if l.file_offset + l.len == run.file_offset && continues {
                l.len += run.len;
                return;
            }
        }
        runs.push(run);
    }
}

/// Where a file's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileData {
    /// Held inside the metadata (an NTFS resident attribute, an ext inline symlink).
    Inline(Vec<u8>),
    /// Runs on the volume; `size` bytes in all (the last run may hold more).
    Runs {
        /// The runs, in file order.
        runs: Vec<Run>,
        /// The file's size.
        size: u64,
    },
    /// NTFS-compressed runs: in each compression unit of `unit` bytes, a unit whose clusters
    /// are all on the volume is stored as it is, one with fewer is LZNT1-compressed into them,
    /// and one with none reads as zeros.
    Compressed {
        /// The runs, in file order (holes as `volume_offset: None`).
        runs: Vec<Run>,
        /// The file's size.
        size: u64,
        /// Bytes per compression unit.
        unit: u64,
    },
}

impl FileData {
    /// The runs, if the data is on the volume.
    pub fn runs(&self) -> &[Run] {
        match self {
            FileData::Inline(_) => &[],
            FileData::Runs { runs, .. } | FileData::Compressed { runs, .. } => runs,
        }
    }

    /// The part that holds file bytes `[offset, offset + len)`, as data of its own, and how
    /// many of its first bytes come before `offset` (a compressed file is cut at whole units).
    pub fn window(&self, offset: u64, len: u64) -> (FileData, u64) {
        let cut = |runs: &[Run], from: u64, to: u64| -> Vec<Run> {
            let mut out = Vec::new();
            for r in runs {
                let (a, b) = (r.file_offset.max(from), (r.file_offset + r.len).min(to));
                if a < b {
                    out.push(Run { file_offset: a - from, len: b - a, volume_offset: r.volume_offset.map(|v| v + (a - r.file_offset)) });
                }
            }
            out
        };
        match self {
            FileData::Inline(b) => {
                let start = (offset as usize).min(b.len());
                let end = (offset.saturating_add(len) as usize).min(b.len());
                (FileData::Inline(b[start..end].to_vec()), 0)
            }
            FileData::Runs { runs, size } => {
                let from = offset.min(*size);
                let to = offset.saturating_add(len).min(*size);
                (FileData::Runs { runs: cut(runs, from, to), size: to - from }, 0)
            }
            FileData::Compressed { runs, size, unit } => {
                let u = (*unit).max(1);
                let from = (offset.min(*size) / u) * u;
                let to = offset.saturating_add(len).min(*size).div_ceil(u).saturating_mul(u);
                let size = size.min(&to).saturating_sub(from);
                (FileData::Compressed { runs: cut(runs, from, to), size, unit: *unit }, offset.min(from + size) - from)
            }
        }
    }
}

/// The most entries one directory listing returns: a damaged directory cannot claim more.
pub const MAX_DIR_ENTRIES: usize = 1 << 20;
/// The deepest directory a walk descends into.
pub const MAX_DEPTH: usize = 256;

/// An opened file system.
#[allow(clippy::large_enum_variant)]
pub enum FileSystem {
    /// FAT12/16/32.
    Fat(fat::Fat),
    /// exFAT.
    ExFat(exfat::ExFat),
    /// NTFS.
    Ntfs(ntfs::Ntfs),
    /// ext2/3/4.
    Ext(ext::Ext),
    /// XFS.
    Xfs(xfs::Xfs),
}

impl FileSystem {
    /// Opens the file system on `vol`; `Ok(None)` when none this viewer reads is there.
    pub fn open<R: ReadVirtual>(vol: &mut Volume<R>) -> Result<Option<FileSystem>> {
        Ok(match probe(vol) {
            Some(FsKind::Fat12 | FsKind::Fat16 | FsKind::Fat32) => Some(FileSystem::Fat(fat::Fat::open(vol)?)),
            Some(FsKind::Ntfs) => Some(FileSystem::Ntfs(ntfs::Ntfs::open(vol)?)),
            Some(FsKind::Ext2 | FsKind::Ext3 | FsKind::Ext4) => Some(FileSystem::Ext(ext::Ext::open(vol)?)),
            Some(FsKind::ExFat) => Some(FileSystem::ExFat(exfat::ExFat::open(vol)?)),
            Some(FsKind::Xfs) => Some(FileSystem::Xfs(xfs::Xfs::open(vol)?)),
            Some(FsKind::BitLocker) | None => None,
        })
    }

    /// Which kind it is.
    pub fn kind(&self) -> FsKind {
        match self {
            FileSystem::Fat(f) => f.bpb.kind,
            FileSystem::ExFat(_) => FsKind::ExFat,
            FileSystem::Ntfs(_) => FsKind::Ntfs,
            FileSystem::Ext(e) => e.kind(),
            FileSystem::Xfs(_) => FsKind::Xfs,
        }
    }

    /// The volume's size by its own superblock: FAT's total sectors, NTFS's total sectors, ext's
    /// blocks count (what a partition must hold for the file system to stay whole).
    pub fn volume_size(&self) -> u64 {
        match self {
            FileSystem::Fat(f) => f.bpb.total_sectors.saturating_mul(u64::from(f.bpb.bytes_per_sector)),
            FileSystem::ExFat(x) => x.boot.volume_size(),
            FileSystem::Ntfs(n) => n.volume_size(),
            FileSystem::Ext(e) => e.sb.blocks.saturating_mul(e.sb.block_size),
            FileSystem::Xfs(x) => x.sb.blocks.saturating_mul(x.sb.block_size),
        }
    }

    /// The bytes of a cluster (FAT, NTFS) or block (ext).
    pub fn cluster_size(&self) -> u64 {
        match self {
            FileSystem::Fat(f) => f.bpb.cluster_size(),
            FileSystem::ExFat(x) => x.boot.cluster_size(),
            FileSystem::Ntfs(n) => n.cluster_size(),
            FileSystem::Ext(e) => e.block_size(),
            FileSystem::Xfs(x) => x.block_size(),
        }
    }

    /// The volume label, if any.
    pub fn label<R: ReadVirtual>(&mut self, vol: &mut Volume<R>) -> Option<String> {
        match self {
            FileSystem::Fat(f) => f.label(vol),
            FileSystem::ExFat(x) => x.label(),
            FileSystem::Ntfs(n) => n.label(vol),
            FileSystem::Ext(e) => e.label(),
            FileSystem::Xfs(x) => x.label(),
        }
    }

    /// The file system's UUID as Linux's `blkid` (and fstab's `UUID=`) writes it: ext's
    /// superblock UUID, FAT's volume serial `XXXX-XXXX`, NTFS's 64-bit serial in 16 hex digits.
    pub fn uuid<R: ReadVirtual>(&self, vol: &mut Volume<R>) -> Option<String> {
        match self {
            FileSystem::Fat(f) => f.bpb.serial.map(|s| format!("{:04X}-{:04X}", s >> 16, s & 0xFFFF)),
            FileSystem::ExFat(x) => Some(format!("{:04X}-{:04X}", x.boot.serial >> 16, x.boot.serial & 0xFFFF)),
            FileSystem::Ntfs(_) => vol.read_vec(0, 512).ok().map(|b| format!("{:016X}", crate::bytes::le64(&b, 0x48))),
            FileSystem::Ext(e) => Some(e.sb.uuid.clone()),
            FileSystem::Xfs(x) => Some(x.sb.uuid.clone()),
        }
    }

    /// The root directory.
    pub fn root(&self) -> Entry {
        match self {
            FileSystem::Fat(f) => f.root(),
            FileSystem::ExFat(x) => x.root(),
            FileSystem::Ntfs(n) => n.root(),
            FileSystem::Ext(e) => e.root(),
            FileSystem::Xfs(x) => x.root(),
        }
    }

    /// The entries of directory `dir` (without `.` and `..`), deleted ones too with `deleted`.
    pub fn list<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, dir: &Entry, deleted: bool) -> Result<Vec<Entry>> {
        let mut v = match self {
            FileSystem::Fat(f) => f.list(vol, dir, deleted)?,
            FileSystem::ExFat(x) => x.list(vol, dir, deleted)?,
            FileSystem::Ntfs(n) => n.list(vol, dir, deleted)?,
            FileSystem::Ext(e) => e.list(vol, dir, deleted)?,
            FileSystem::Xfs(x) => x.list(vol, dir, deleted)?,
        };
        v.truncate(MAX_DIR_ENTRIES);
        Ok(v)
    }

    /// Where the bytes of `entry` are. For NTFS, `stream` names an alternate data stream.
    pub fn data<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, entry: &Entry, stream: Option<&str>) -> Result<FileData> {
        match self {
            FileSystem::Fat(f) => f.data(vol, entry),
            FileSystem::ExFat(x) => x.data(vol, entry),
            FileSystem::Ntfs(n) => n.data(vol, entry, stream),
            FileSystem::Ext(e) => e.data(vol, entry),
            FileSystem::Xfs(x) => x.data(vol, entry),
        }
    }

    /// The entry at `path` (absolute, `/`-separated; live entries only, and deleted ones when
    /// no live entry has the name and `deleted` is set).
    pub fn lookup<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, path: &str, deleted: bool) -> Result<Entry> {
        let mut cur = self.root();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            if cur.kind != EntryKind::Dir {
                return Err(FsError::NotADirectory { path: cur.path }.into());
            }
            // NTFS: through the directory's index B-tree, when it has the exact name.
            if let FileSystem::Ntfs(n) = self {
                if let Ok(Some(e)) = n.find(vol, &cur, part) {
                    cur = e;
                    continue;
                }
            }
            let list = self.list(vol, &cur, deleted)?;
            let found = list
                .iter()
                .find(|e| e.name == part && !e.deleted)
                .or_else(|| list.iter().find(|e| e.name == part))
                .or_else(|| list.iter().find(|e| !e.deleted && self.same_name(&e.name, part)));
            cur = match found {
                Some(e) => e.clone(),
                None => return Err(FsError::NoSuchFile { path: path.to_string(), name: part.to_string(), dir: cur.path }.into()),
            };
        }
        Ok(cur)
    }

    /// True when the file system takes `a` and `b` for the same name: ext and XFS never (they are
    /// case sensitive), exFAT through its up-case table, FAT and NTFS ignoring ASCII case.
    fn same_name(&self, a: &str, b: &str) -> bool {
        match self {
            FileSystem::Ext(_) | FileSystem::Xfs(_) => false,
            FileSystem::ExFat(x) => x.same_name(a, b),
            _ => a.eq_ignore_ascii_case(b),
        }
    }

    /// The times of `entry` (read again from its directory entry, MFT record or inode).
    pub fn times<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, entry: &Entry) -> Result<Times> {
        match self {
            FileSystem::Fat(_) => fat::times(vol, entry),
            FileSystem::ExFat(x) => Ok(x.times(entry)),
            FileSystem::Ntfs(n) => n.times(vol, entry),
            FileSystem::Ext(e) => e.times(vol, entry),
            FileSystem::Xfs(x) => x.times(vol, entry),
        }
    }

    /// Streams the bytes of `entry` to `sink` in pieces of at most 1 MiB.
    pub fn read<R: ReadVirtual>(
        &mut self,
        vol: &mut Volume<R>,
        entry: &Entry,
        stream: Option<&str>,
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<()> {
        let data = self.data(vol, entry, stream)?;
        read_data(vol, &data, sink)
    }

    /// What owns byte `offset` of the volume: a file, a structure of the file system, or free
    /// space. Walks the whole file system's metadata.
    pub fn owner<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, offset: u64) -> Result<Owner> {
        match self {
            FileSystem::Fat(f) => f.owner(vol, offset),
            FileSystem::ExFat(x) => x.owner(vol, offset),
            FileSystem::Ntfs(n) => n.owner(vol, offset),
            FileSystem::Ext(e) => e.owner(vol, offset),
            FileSystem::Xfs(x) => x.owner(vol, offset),
        }
    }
}

/// Walks from `start`: calls `each` with every entry of directory `start` (and, with
/// `recursive`, of the directories under it, each directory's entries right after it), in the
/// order the directory holds them. Deleted directories are listed but not entered. A directory
/// met twice (a damaged FAT pointing back up) and anything deeper than [`MAX_DEPTH`] are
/// skipped. `each` returns false to stop.
pub fn walk<R: ReadVirtual>(
    fs: &mut FileSystem,
    vol: &mut Volume<R>,
    start: &Entry,
    recursive: bool,
    deleted: bool,
    each: &mut dyn FnMut(&Entry) -> Result<bool>,
) -> Result<()> {
    walk_with(fs, vol, start, recursive, deleted, false, &mut |_, _, e| each(e))
}

/// What [`walk_with`] calls with each entry.
pub type WalkEach<'a, R> = dyn FnMut(&mut FileSystem, &mut Volume<R>, &Entry) -> Result<bool> + 'a;

/// [`walk`], with the file system and the volume handed to `each` too (to read more of each
/// entry as it comes), and, with `enter_deleted`, deleted directories entered as sleuthkit's
/// `fls -r` enters them (what can still be read of them: a FAT directory's first cluster, an
/// ext directory's blocks; one that cannot be read is passed over).
pub fn walk_with<R: ReadVirtual>(
    fs: &mut FileSystem,
    vol: &mut Volume<R>,
    start: &Entry,
    recursive: bool,
    deleted: bool,
    enter_deleted: bool,
    each: &mut WalkEach<'_, R>,
) -> Result<()> {
    // Directories met, by id and whether met deleted: a deleted directory whose number a live
    // one took since (an XFS inode reused at once, a FAT cluster) never hides the live one.
    let mut seen = std::collections::HashSet::new();
    seen.insert((start.id, start.deleted));
    walk_in(fs, vol, start, (recursive, deleted, enter_deleted), each, &mut seen, 0).map(|_| ())
}

fn walk_in<R: ReadVirtual>(
    fs: &mut FileSystem,
    vol: &mut Volume<R>,
    dir: &Entry,
    (recursive, deleted, enter_deleted): (bool, bool, bool),
    each: &mut WalkEach<'_, R>,
    seen: &mut std::collections::HashSet<(u64, bool)>,
    depth: usize,
) -> Result<bool> {
    let entries = match fs.list(vol, dir, deleted) {
        Ok(v) => v,
        Err(_) if dir.deleted => return Ok(true),
        Err(e) => return Err(e),
    };
    for e in entries {
        if !each(fs, vol, &e)? {
            return Ok(false);
        }
        if recursive
            && e.kind == EntryKind::Dir
            && (!e.deleted || enter_deleted)
            && depth < MAX_DEPTH
            && seen.insert((e.id, e.deleted))
            && !walk_in(fs, vol, &e, (recursive, deleted, enter_deleted), each, seen, depth + 1)?
        {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Streams `data` to `sink` in pieces of at most 1 MiB.
pub fn read_data<R: ReadVirtual>(vol: &mut Volume<R>, data: &FileData, sink: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
    const CHUNK: u64 = 1 << 20;
    match data {
        FileData::Inline(b) => sink(b),
        FileData::Runs { runs, size } => {
            let mut buf = vec![0u8; CHUNK as usize];
            let mut pos = 0u64;
            for r in runs {
                if pos >= *size {
                    break;
                }
                if r.file_offset != pos {
                    return Err(FsError::RunsGap { volume_start: vol.start(), expected: pos }.into());
                }
                let len = r.len.min(size - pos);
                let mut done = 0u64;
                while done < len {
                    let n = (len - done).min(CHUNK) as usize;
                    match r.volume_offset {
                        None => buf[..n].fill(0),
                        Some(at) => vol.read_uncached(at + done, &mut buf[..n])?,
                    }
                    sink(&buf[..n])?;
                    done += n as u64;
                }
                pos += len;
            }
            if pos < *size {
                return Err(FsError::RunsShort { volume_start: vol.start(), size: *size, held: pos }.into());
            }
            Ok(())
        }
        FileData::Compressed { runs, size, unit } => {
            if *unit == 0 || *unit > 1 << 20 {
                return Err(FsError::CompressionUnit { volume_start: vol.start(), unit: *unit }.into());
            }
            let mut pos = 0u64;
            let mut out = Vec::with_capacity(*unit as usize);
            while pos < *size {
                // The unit's stored bytes: its clusters that are on the volume, in order.
                let mut stored = Vec::new();
                let mut holes = 0u64;
                for r in runs.iter().filter(|r| r.file_offset < pos + unit && r.file_offset + r.len > pos) {
                    let from = pos.max(r.file_offset);
                    let to = (pos + unit).min(r.file_offset + r.len);
                    match r.volume_offset {
                        Some(at) => {
                            let k = stored.len();
                            stored.resize(k + (to - from) as usize, 0);
                            vol.read_uncached(at + (from - r.file_offset), &mut stored[k..])?;
                        }
                        None => holes += to - from,
                    }
                }
                out.clear();
                if stored.len() as u64 >= *unit {
                    out.extend_from_slice(&stored[..*unit as usize]);
                } else if !stored.is_empty() {
                    ntfs::lznt1::decompress(&stored, &mut out, *unit as usize);
                }
                let _ = holes;
                out.resize(*unit as usize, 0);
                let n = (*unit).min(size - pos) as usize;
                sink(&out[..n])?;
                pos += *unit;
            }
            Ok(())
        }
    }
}

/// What owns a place on a volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owner {
    /// `file`, `dir`, `structure`, `free` or `unknown`.
    pub kind: &'static str,
    /// The file's path, or the structure's name (`FAT 1`, `MFT record 5`, `inode table of group 0`).
    pub what: String,
    /// The file system's number for the file (NTFS record, ext inode, FAT first cluster).
    pub id: Option<u64>,
    /// Where in the file the byte lies.
    pub file_offset: Option<u64>,
    /// True when the owner is a deleted file whose data is still there.
    pub deleted: bool,
}

impl Owner {
    pub(crate) fn structure(what: impl Into<String>) -> Owner {
        Owner { kind: "structure", what: what.into(), id: None, file_offset: None, deleted: false }
    }
    pub(crate) fn free(what: impl Into<String>) -> Owner {
        Owner { kind: "free", what: what.into(), id: None, file_offset: None, deleted: false }
    }
    pub(crate) fn of(e: &Entry, file_offset: u64) -> Owner {
        Owner {
            kind: if e.kind == EntryKind::Dir { "dir" } else { "file" },
            what: e.path.clone(),
            id: Some(e.id),
            file_offset: Some(file_offset),
            deleted: e.deleted,
        }
    }
}

/// The most runs an owner index keeps (NTFS: every non-resident attribute's; ext: every file's).
pub const MAX_OWNER_RUNS: usize = 1 << 18;

/// Which file holds which volume bytes, for repeated owner lookups: each file's runs, sorted by
/// volume offset; a byte held by several (a damaged volume) is the first added's.
#[derive(Debug, Clone, Default)]
pub struct RunIndex {
    /// (volume offset, length, file offset, owner): sorted by volume offset once finished.
    runs: Vec<(u64, u64, u64, u32)>,
    /// The greatest end among `runs[..=i]`.
    max_end: Vec<u64>,
    owners: Vec<Owner>,
}

impl RunIndex {
    /// Adds `owner` (its `file_offset` ignored) holding `runs`; false (nothing added) when the
    /// index would hold more than [`MAX_OWNER_RUNS`] runs.
    pub fn add(&mut self, owner: Owner, runs: &[Run]) -> bool {
        let held = runs.iter().filter(|r| r.volume_offset.is_some() && r.len > 0).count();
        if self.runs.len() + held > MAX_OWNER_RUNS || self.owners.len() >= u32::MAX as usize {
            return false;
        }
        if held == 0 {
            return true;
        }
        let k = self.owners.len() as u32;
        self.owners.push(owner);
        for r in runs.iter().filter(|r| r.len > 0) {
            if let Some(v) = r.volume_offset {
                self.runs.push((v, r.len, r.file_offset, k));
            }
        }
        true
    }

    /// Sorts the runs: ready for [`RunIndex::lookup`].
    pub fn finish(mut self) -> Self {
        self.runs.sort_unstable_by_key(|r| (r.0, r.3));
        let mut m = 0u64;
        self.max_end = self
            .runs
            .iter()
            .map(|r| {
                m = m.max(r.0.saturating_add(r.1));
                m
            })
            .collect();
        self
    }

    /// The owner of volume byte `offset` (the first added, of several), with the byte's place in it.
    pub fn lookup(&self, offset: u64) -> Option<Owner> {
        let mut best: Option<(u32, u64)> = None;
        let mut i = self.runs.partition_point(|r| r.0 <= offset);
        while i > 0 && self.max_end[i - 1] > offset {
            i -= 1;
            let (v, len, at, k) = self.runs[i];
            if offset - v < len && best.map_or(true, |b| k < b.0) {
                best = Some((k, at + (offset - v)));
            }
        }
        let (k, at) = best?;
        self.owners.get(k as usize).map(|o| Owner { file_offset: Some(at), ..o.clone() })
    }
}

/// If `offset` lies in one of `runs`, where in the file.
pub fn in_runs(runs: &[Run], offset: u64) -> Option<u64> {
    runs.iter().find_map(|r| {
        let at = r.volume_offset?;
        (offset >= at && offset - at < r.len).then(|| r.file_offset + (offset - at))
    })
}

/// Seconds since 1970 as ISO 8601 UTC, e.g. `2024-05-01T12:00:00Z`.
pub fn iso8601(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = crate::values::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem / 60 % 60, rem % 60)
}

/// Joins a directory path and a name.
pub fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, id: u64) -> Owner {
        Owner { kind: "file", what: path.into(), id: Some(id), file_offset: None, deleted: false }
    }

    fn run(file_offset: u64, len: u64, volume_offset: Option<u64>) -> Run {
        Run { file_offset, len, volume_offset }
    }

    #[test]
    fn run_index_finds_the_first_added_owner_and_the_place_in_it() {
        let mut ix = RunIndex::default();
        // A long run added first, a short one inside it later (a damaged volume), a hole.
        assert!(ix.add(file("/long", 1), &[run(0, 1000, Some(5000)), run(1000, 500, None), run(1500, 10, Some(100))]));
        assert!(ix.add(file("/inside", 2), &[run(0, 10, Some(5500))]));
        assert!(ix.add(file("/after", 3), &[run(0, 4096, Some(9000))]));
        assert!(ix.add(file("/only a hole", 4), &[run(0, 4096, None)]));
        let ix = ix.finish();
        let at = |o: u64| ix.lookup(o).map(|o| (o.what, o.file_offset.unwrap()));
        assert_eq!(at(5000), Some(("/long".into(), 0)));
        assert_eq!(at(5505), Some(("/long".into(), 505)), "the first added wins where two overlap");
        assert_eq!(at(5999), Some(("/long".into(), 999)));
        assert_eq!(at(6000), None);
        assert_eq!(at(105), Some(("/long".into(), 1505)));
        assert_eq!(at(110), None);
        assert_eq!(at(8999), None);
        assert_eq!(at(9000 + 4095), Some(("/after".into(), 4095)));
        assert_eq!(at(9000 + 4096), None);
        assert_eq!(at(0), None);
    }

    #[test]
    fn run_index_refuses_more_than_its_bound() {
        let mut ix = RunIndex::default();
        let runs: Vec<Run> = (0..MAX_OWNER_RUNS as u64).map(|k| run(k * 2, 1, Some(k * 2))).collect();
        assert!(ix.add(file("/a", 1), &runs));
        assert!(!ix.add(file("/b", 2), &[run(0, 1, Some(1))]), "one run past the bound");
        assert!(ix.add(file("/c", 3), &[run(0, 1, None)]), "a hole holds nothing");
        let ix = ix.finish();
        assert_eq!(ix.lookup(2 * 1000).map(|o| o.file_offset), Some(Some(2000)));
        assert_eq!(ix.lookup(1), None);
    }

    #[test]
    fn a_window_of_file_data_cuts_runs_and_whole_compression_units() {
        let runs = vec![run(0, 4096, Some(8192)), run(4096, 4096, None), run(8192, 8192, Some(100_000))];
        let data = FileData::Runs { runs: runs.clone(), size: 15_000 };
        assert_eq!(
            data.window(4000, 5000),
            (FileData::Runs { runs: vec![run(0, 96, Some(12_192)), run(96, 4096, None), run(4192, 808, Some(100_000))], size: 5000 }, 0)
        );
        assert_eq!(data.window(20_000, 10), (FileData::Runs { runs: vec![], size: 0 }, 0), "past the end: nothing");
        assert_eq!(FileData::Inline(b"hello".to_vec()).window(1, 100), (FileData::Inline(b"ello".to_vec()), 0));
        // Compressed, units of 8192: bytes 9000..9100 are in the second unit, 808 bytes into it.
        let c = FileData::Compressed { runs, size: 15_000, unit: 8192 };
        assert_eq!(
            c.window(9000, 100),
            (FileData::Compressed { runs: vec![run(0, 8192, Some(100_000))], size: 15_000 - 8192, unit: 8192 }, 808)
        );
    }
}
