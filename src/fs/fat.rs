//! FAT12, FAT16 and FAT32, read by this project's own code (no FAT crate exposes cluster chains
//! and deleted entries): the boot sector's BIOS parameter block, the FAT, directories with VFAT
//! long names, deleted entries with the name that can still be recovered, and cluster chains
//! followed with bound and loop checks.

use super::free::Window;
use super::survey::{Facts, FileId, Structure};
use super::{join, Entry, EntryKind, FileData, FsKind, Owner, ReadVirtual, Run, Times, Volume};
use crate::bytes::{le16, le32};
use crate::error::Result;
use crate::error::{ChainBreak, FsError};

/// The BIOS parameter block of a FAT boot sector, and what follows from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bpb {
    /// FAT12, FAT16 or FAT32, by the count of clusters (the rule of Microsoft's specification).
    pub kind: FsKind,
    /// Bytes per sector.
    pub bytes_per_sector: u32,
    /// Sectors per cluster.
    pub sectors_per_cluster: u32,
    /// Sectors before the first FAT.
    pub reserved_sectors: u32,
    /// Number of FATs.
    pub fats: u32,
    /// Entries of the fixed root directory (FAT12/16).
    pub root_entries: u32,
    /// Sectors of the volume.
    pub total_sectors: u64,
    /// Sectors of one FAT.
    pub fat_sectors: u64,
    /// First cluster of the root directory (FAT32).
    pub root_cluster: u32,
    /// The label in the boot sector.
    pub label: Option<String>,
    /// First sector of the fixed root directory.
    pub root_dir_sector: u64,
    /// First sector of cluster 2.
    pub first_data_sector: u64,
    /// Number of data clusters (clusters 2 .. clusters + 2).
    pub clusters: u32,
    /// The volume serial number (the extended boot record's volume id), when the boot sector
    /// has one (signature 0x29).
    pub serial: Option<u32>,
}

impl Bpb {
    /// Parses a boot sector; fails, saying which rule it breaks, when it is not a FAT boot
    /// sector.
    pub fn parse(b: &[u8]) -> std::result::Result<Bpb, &'static str> {
        if b.len() < 512 {
            return Err("shorter than 512 bytes");
        }
        if b[0] != 0xEB && b[0] != 0xE9 {
            return Err("no jump instruction at byte 0");
        }
        let bps = u32::from(le16(b, 0x0B));
        if ![512, 1024, 2048, 4096].contains(&bps) {
            return Err("bytes per sector is not 512, 1024, 2048 or 4096");
        }
        let spc = u32::from(b[0x0D]);
        if spc == 0 || !spc.is_power_of_two() {
            return Err("sectors per cluster is not a power of two");
        }
        let reserved = u32::from(le16(b, 0x0E));
        let fats = u32::from(b[0x10]);
        let root_entries = u32::from(le16(b, 0x11));
        let total16 = u64::from(le16(b, 0x13));
        let fat16 = u64::from(le16(b, 0x16));
        let total32 = u64::from(le32(b, 0x20));
        let fat32 = u64::from(le32(b, 0x24));
        if reserved == 0 || fats == 0 || fats > 4 {
            return Err("no reserved sectors or no FAT");
        }
        let total = if total16 != 0 { total16 } else { total32 };
        let fat_sectors = if fat16 != 0 { fat16 } else { fat32 };
        if total == 0 || fat_sectors == 0 {
            return Err("0 sectors or an empty FAT");
        }
        if !matches!(b[0x15], 0xF0 | 0xF8..=0xFF) {
            return Err("the media byte is not F0 or F8-FF");
        }
        let root_dir_sectors = (u64::from(root_entries) * 32).div_ceil(u64::from(bps));
        let root_dir_sector = u64::from(reserved) + u64::from(fats) * fat_sectors;
        let first_data_sector = root_dir_sector + root_dir_sectors;
        if first_data_sector >= total {
            return Err("the FATs and root directory fill the whole volume");
        }
        let clusters = ((total - first_data_sector) / u64::from(spc)).min(0x0FFF_FFF5) as u32;
        let kind = if clusters < 4085 {
            FsKind::Fat12
        } else if clusters < 65525 {
            FsKind::Fat16
        } else {
            FsKind::Fat32
        };
        if kind == FsKind::Fat32 && root_entries != 0 || kind != FsKind::Fat32 && root_entries == 0 {
            return Err("the root directory's entry count does not fit the FAT type");
        }
        let label_at = if kind == FsKind::Fat32 { 0x47 } else { 0x2B };
        let sig_at = if kind == FsKind::Fat32 { 0x42 } else { 0x26 };
        let label = (b[sig_at] == 0x29)
            .then(|| short_text(&b[label_at..label_at + 11]).trim_end().to_string())
            .filter(|l| !l.is_empty() && l != "NO NAME");
        Ok(Bpb {
            kind,
            bytes_per_sector: bps,
            sectors_per_cluster: spc,
            reserved_sectors: reserved,
            fats,
            root_entries,
            total_sectors: total,
            fat_sectors,
            root_cluster: if kind == FsKind::Fat32 { le32(b, 0x2C) } else { 0 },
            label,
            root_dir_sector,
            first_data_sector,
            clusters,
            serial: (b[sig_at] == 0x29).then(|| le32(b, sig_at + 1)),
        })
    }

    /// Bytes per cluster.
    pub fn cluster_size(&self) -> u64 {
        u64::from(self.bytes_per_sector) * u64::from(self.sectors_per_cluster)
    }

    /// Volume byte offset of cluster `c` (2 is the first).
    pub fn cluster_offset(&self, c: u32) -> u64 {
        (self.first_data_sector + u64::from(c.saturating_sub(2)) * u64::from(self.sectors_per_cluster)) * u64::from(self.bytes_per_sector)
    }

    /// Volume byte offset where cluster 2 starts.
    pub fn data_offset(&self) -> u64 {
        self.first_data_sector * u64::from(self.bytes_per_sector)
    }

    fn end_of_chain(&self) -> u32 {
        match self.kind {
            FsKind::Fat12 => 0xFF8,
            FsKind::Fat16 => 0xFFF8,
            _ => 0x0FFF_FFF8,
        }
    }
}

/// Code page 437's upper half (short names are stored in an OEM code page; 437 is the usual).
const CP437_HIGH: &str =
    "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{a0}";

fn short_text(b: &[u8]) -> String {
    b.iter().map(|&c| if c < 0x80 { char::from(c) } else { CP437_HIGH.chars().nth(usize::from(c - 0x80)).unwrap_or('?') }).collect()
}

/// True for a byte a short name may hold (upper case, digits, the allowed punctuation, OEM).
fn short_char(b: u8) -> bool {
    b > 0x20 && b != 0xE5 && !b.is_ascii_lowercase() && !b"\"*+,./:;<=>?[\\]|".contains(&b)
}

/// The checksum of an 11-byte short name that its long-name entries carry.
pub fn lfn_checksum(name: &[u8]) -> u8 {
    name.iter().fold(0u8, |sum, &c| sum.rotate_right(1).wrapping_add(c))
}

/// One directory entry as found, before it becomes an [`Entry`].
#[derive(Debug, Clone)]
struct Slot {
    name: String,
    attr: u8,
    first_cluster: u32,
    size: u32,
    modified: Option<i64>,
    deleted: bool,
    offset: u64,
}

/// The times in `e`'s directory entry: created, modified, and the day of the last access (none
/// for the root, which has no entry).
pub fn times<R: ReadVirtual>(vol: &mut Volume<R>, e: &Entry) -> Result<Times> {
    let Some(at) = e.entry_offset else { return Ok(Times { modified: e.modified, ..Times::default() }) };
    let b = vol.read_vec(at, 32)?;
    Ok(Times {
        created: fat_time(le16(&b, 0x10), le16(&b, 0x0E)),
        modified: fat_time(le16(&b, 0x18), le16(&b, 0x16)),
        accessed: fat_time(le16(&b, 0x12), 0),
        changed: None,
    })
}

/// Seconds since 1970 of a FAT date and time (local time, taken as UTC).
pub fn fat_time(date: u16, time: u16) -> Option<i64> {
    if date == 0 {
        return None;
    }
    let (y, m, d) = (1980 + i64::from(date >> 9), u32::from(date >> 5 & 15), u32::from(date & 31));
    if !(1..=12).contains(&m) || d == 0 {
        return None;
    }
    let days = crate::values::days_from_civil(y, m, d);
    let secs = i64::from(time >> 11) * 3600 + i64::from(time >> 5 & 63) * 60 + i64::from(time & 31) * 2;
    Some(days * 86_400 + secs)
}

/// Parses the slots of a directory's bytes (`offsets[i]` is slot `i`'s volume offset). Long names are joined to the short entry they precede when their checksum fits; a
/// deleted entry's first byte is gone, so its long name is accepted when some first byte makes
/// the checksum fit, and that byte restores the short name too.
fn parse_dir(bytes: &[u8], offsets: &[u64], deleted: bool, out: &mut Vec<Slot>) {
    let mut lfn: Vec<(u8, u8, [u16; 13])> = Vec::new(); // (first byte, checksum, chars)
    for (i, e) in bytes.chunks_exact(32).enumerate() {
        let first = e[0];
        if first == 0 {
            break;
        }
        let attr = e[11];
        if attr & 0x3F == 0x0F {
            let mut chars = [0u16; 13];
            for (k, at) in [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30].iter().enumerate() {
                chars[k] = le16(e, *at);
            }
            if first != 0xE5 && first & 0x40 != 0 {
                lfn.clear();
            }
            lfn.push((first, e[13], chars));
            continue;
        }
        let pieces = std::mem::take(&mut lfn);
        let is_deleted = first == 0xE5;
        if is_deleted && !deleted || attr & 0x08 != 0 {
            continue;
        }
        let mut raw: [u8; 11] = e[..11].try_into().unwrap_or([b' '; 11]);
        if raw[0] == 0x05 {
            raw[0] = 0xE5;
        }
        if &raw == b".          " || &raw == b"..         " {
            continue;
        }
        // The long name, if its pieces belong to this entry.
        let long = if pieces.is_empty() {
            None
        } else {
            let sum = pieces[0].1;
            let same = pieces.iter().all(|p| p.1 == sum);
            let fits = if is_deleted {
                // The checksum is a bijection of the first byte: exactly one byte fits; it must
                // be one a short name can start with.
                (0x21..=0xFFu8).filter(|b| short_char(*b)).find(|b| {
                    raw[0] = *b;
                    lfn_checksum(&raw) == sum
                })
            } else {
                (lfn_checksum(&raw) == sum).then_some(raw[0])
            };
            let ordered = if is_deleted { true } else { pieces.iter().rev().enumerate().all(|(k, p)| usize::from(p.0 & 0x1F) == k + 1) };
            match fits {
                Some(b) if same && ordered => {
                    raw[0] = b;
                    let units: Vec<u16> = pieces.iter().rev().flat_map(|p| p.2).take_while(|&c| c != 0).collect();
                    Some(String::from_utf16_lossy(&units))
                }
                _ => {
                    if is_deleted {
                        raw[0] = 0xE5;
                    }
                    None
                }
            }
        };
        let case = e[12];
        let mut base_name = short_text(&raw[..8]).trim_end().to_string();
        let mut ext = short_text(&raw[8..]).trim_end().to_string();
        if case & 0x08 != 0 {
            base_name = base_name.to_lowercase();
        }
        if case & 0x10 != 0 {
            ext = ext.to_lowercase();
        }
        if is_deleted && raw[0] == 0xE5 {
            base_name.replace_range(..base_name.chars().next().map_or(0, char::len_utf8), "_");
        }
        let short = if ext.is_empty() { base_name } else { format!("{base_name}.{ext}") };
        let name = long.filter(|n| !n.is_empty()).unwrap_or(short);
        out.push(Slot {
            name,
            attr,
            first_cluster: u32::from(le16(e, 0x1A)) | u32::from(le16(e, 0x14)) << 16,
            size: le32(e, 0x1C),
            modified: fat_time(le16(e, 0x18), le16(e, 0x16)),
            deleted: is_deleted,
            offset: offsets.get(i).copied().unwrap_or(0),
        });
    }
}

/// The most bytes a FAT directory holds: 65536 entries of 32 bytes.
const MAX_DIR_BYTES: u64 = 65_536 * 32;

/// An opened FAT volume.
#[derive(Debug, Clone)]
pub struct Fat {
    /// The boot sector's parameters.
    pub bpb: Bpb,
}

impl Fat {
    /// Reads the boot sector.
    pub fn open<R: ReadVirtual>(vol: &mut Volume<R>) -> Result<Fat> {
        let boot = vol.read_vec(0, 512)?;
        let bpb = Bpb::parse(&boot).map_err(|why| FsError::FatBootSector { volume_start: vol.start(), why })?;
        let need = bpb.first_data_sector * u64::from(bpb.bytes_per_sector);
        if need > vol.len() {
            return Err(FsError::FatLayout { volume_start: vol.start(), need, volume_len: vol.len() }.into());
        }
        Ok(Fat { bpb })
    }

    /// The FAT entry of cluster `c` (in the first FAT).
    pub fn entry<R: ReadVirtual>(&self, vol: &mut Volume<R>, c: u32) -> Result<u32> {
        let fat = u64::from(self.bpb.reserved_sectors) * u64::from(self.bpb.bytes_per_sector);
        Ok(match self.bpb.kind {
            FsKind::Fat12 => {
                let at = u64::from(c) + u64::from(c / 2);
                let mut b = [0u8; 2];
                vol.read_at(fat + at, &mut b)?;
                let v = u32::from(u16::from_le_bytes(b));
                if c % 2 == 0 {
                    v & 0xFFF
                } else {
                    v >> 4
                }
            }
            FsKind::Fat16 => {
                let mut b = [0u8; 2];
                vol.read_at(fat + 2 * u64::from(c), &mut b)?;
                u32::from(u16::from_le_bytes(b))
            }
            _ => {
                let mut b = [0u8; 4];
                vol.read_at(fat + 4 * u64::from(c), &mut b)?;
                u32::from_le_bytes(b) & 0x0FFF_FFFF
            }
        })
    }

    fn valid_cluster(&self, c: u32) -> bool {
        c >= 2 && c < self.bpb.clusters.saturating_add(2)
    }

    /// The cluster chain from `start`, at most `max` clusters. Fails, naming the place, on a
    /// cluster out of range, a free or bad cluster inside the chain, or a loop.
    pub fn chain<R: ReadVirtual>(&self, vol: &mut Volume<R>, start: u32, max: u64) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        let fat_at = u64::from(self.bpb.reserved_sectors) * u64::from(self.bpb.bytes_per_sector) + vol.start();
        let mut c = start;
        let limit = max.min(u64::from(self.bpb.clusters));
        while (out.len() as u64) < limit {
            if !self.valid_cluster(c) {
                let broken = ChainBreak::Outside { last: self.bpb.clusters + 1 };
                return Err(FsError::FatChain { fat_at, start, cluster: c, broken }.into());
            }
            out.push(c);
            let next = self.entry(vol, c)?;
            if next >= self.bpb.end_of_chain() {
                break;
            }
            if next == 0 || next == self.bpb.end_of_chain() - 1 {
                let broken = if next == 0 { ChainBreak::Free } else { ChainBreak::Bad };
                return Err(FsError::FatChain { fat_at, start, cluster: c, broken }.into());
            }
            c = next;
        }
        let mut sorted = out.clone();
        sorted.sort_unstable();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(FsError::FatChainLoop { fat_at, start, cluster: w[0] }.into());
        }
        Ok(out)
    }

    fn runs_of(&self, clusters: &[u32]) -> Vec<Run> {
        let cs = self.bpb.cluster_size();
        let mut runs: Vec<Run> = Vec::new();
        for (i, &c) in clusters.iter().enumerate() {
            let at = self.bpb.cluster_offset(c);
            match runs.last_mut() {
                Some(r) if r.volume_offset.map(|v| v + r.len) == Some(at) => r.len += cs,
                _ => runs.push(Run { file_offset: i as u64 * cs, len: cs, volume_offset: Some(at) }),
            }
        }
        runs
    }

    /// The root directory.
    pub fn root(&self) -> Entry {
        Entry::root(if self.bpb.kind == FsKind::Fat32 { u64::from(self.bpb.root_cluster) } else { 0 }, None)
    }

    /// Where a directory's bytes are: the fixed root region, or its cluster chain.
    fn dir_runs<R: ReadVirtual>(&self, vol: &mut Volume<R>, dir: &Entry) -> Result<Vec<Run>> {
        if dir.path == "/" && self.bpb.kind != FsKind::Fat32 {
            let at = self.bpb.root_dir_sector * u64::from(self.bpb.bytes_per_sector);
            return Ok(vec![Run { file_offset: 0, len: u64::from(self.bpb.root_entries) * 32, volume_offset: Some(at) }]);
        }
        let start = dir.id as u32;
        let max = MAX_DIR_BYTES.div_ceil(self.bpb.cluster_size());
        if dir.deleted {
            // A deleted directory's chain is gone from the FAT: its first cluster only.
            return Ok(if self.valid_cluster(start) { self.runs_of(&[start]) } else { Vec::new() });
        }
        let chain = self.chain(vol, start, max)?;
        Ok(self.runs_of(&chain))
    }

    /// The entries of `dir`.
    pub fn list<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, dir: &Entry, deleted: bool) -> Result<Vec<Entry>> {
        // The clusters joined first: a long name may start in one cluster and end in the next.
        let (mut bytes, mut offsets) = (Vec::new(), Vec::new());
        for r in self.dir_runs(vol, dir)? {
            let Some(at) = r.volume_offset else { continue };
            let n = r.len.min(MAX_DIR_BYTES.saturating_sub(bytes.len() as u64));
            bytes.extend_from_slice(&vol.read_vec(at, n as usize)?);
            offsets.extend((0..n / 32).map(|k| at + 32 * k));
        }
        let mut slots = Vec::new();
        parse_dir(&bytes, &offsets, deleted, &mut slots);
        Ok(slots
            .into_iter()
            .map(|s| {
                let mut attributes = Vec::new();
                for (bit, word) in [(0x01, "read-only"), (0x02, "hidden"), (0x04, "system"), (0x20, "archive")] {
                    if s.attr & bit != 0 {
                        attributes.push(word);
                    }
                }
                let is_dir = s.attr & 0x10 != 0;
                Entry {
                    path: join(&dir.path, &s.name),
                    name: s.name,
                    kind: if is_dir { EntryKind::Dir } else { EntryKind::File },
                    size: if is_dir { 0 } else { u64::from(s.size) },
                    modified: s.modified,
                    deleted: s.deleted,
                    id: u64::from(s.first_cluster),
                    attributes,
                    entry_offset: Some(s.offset),
                    streams: Vec::new(),
                    exfat: None,
                }
            })
            .collect())
    }

    /// Where a file's bytes are. A deleted file's chain is gone: its clusters are taken to be
    /// contiguous from its first one (what recovery tools assume too).
    pub fn data<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, e: &Entry) -> Result<FileData> {
        if e.kind == EntryKind::Dir {
            let runs = self.dir_runs(vol, e)?;
            let size = runs.iter().map(|r| r.len).sum();
            return Ok(FileData::Runs { runs, size });
        }
        if e.size == 0 {
            return Ok(FileData::Runs { runs: Vec::new(), size: 0 });
        }
        let cs = self.bpb.cluster_size();
        let need = e.size.div_ceil(cs);
        let start = e.id as u32;
        if e.deleted {
            let last = u64::from(start) + need;
            if !self.valid_cluster(start) || last > u64::from(self.bpb.clusters) + 2 {
                return Err(FsError::FatDeletedUnrecoverable { entry_at: vol.start() + e.entry_offset.unwrap_or(0), start, need }.into());
            }
            return Ok(FileData::Runs {
                runs: vec![Run { file_offset: 0, len: need * cs, volume_offset: Some(self.bpb.cluster_offset(start)) }],
                size: e.size,
            });
        }
        let chain = self.chain(vol, start, need)?;
        if (chain.len() as u64) < need {
            let entry_at = vol.start() + e.entry_offset.unwrap_or(0);
            let (path, size, held) = (e.path.clone(), e.size, chain.len() as u64);
            return Err(FsError::FatChainShort { entry_at, path, size, need, start, held }.into());
        }
        Ok(FileData::Runs { runs: self.runs_of(&chain), size: e.size })
    }

    /// The volume label: the root directory's label entry, else the boot sector's.
    pub fn label<R: ReadVirtual>(&self, vol: &mut Volume<R>) -> Option<String> {
        let root = self.root();
        let runs = self.dir_runs(vol, &root).ok()?;
        let r = runs.first()?;
        let bytes = vol.read_vec(r.volume_offset?, r.len.min(self.bpb.cluster_size().max(512)) as usize).ok()?;
        for e in bytes.chunks_exact(32) {
            if e[0] == 0 {
                break;
            }
            if e[0] != 0xE5 && e[11] & 0x3F != 0x0F && e[11] & 0x08 != 0 {
                return Some(short_text(&e[..11]).trim_end().to_string());
            }
        }
        self.bpb.label.clone()
    }

    /// What owns byte `offset` of the volume.
    pub fn owner<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, offset: u64) -> Result<Owner> {
        let b = self.bpb.clone();
        let bps = u64::from(b.bytes_per_sector);
        let sector = offset / bps;
        if sector < u64::from(b.reserved_sectors) {
            return Ok(Owner::structure(if sector == 0 { "boot sector".to_string() } else { format!("reserved sector {sector}") }));
        }
        if sector < b.root_dir_sector {
            let k = (sector - u64::from(b.reserved_sectors)) / b.fat_sectors;
            let within = (sector - u64::from(b.reserved_sectors)) % b.fat_sectors * bps;
            let (first, last) = match b.kind {
                FsKind::Fat12 => (within * 2 / 3, (within + bps) * 2 / 3 - 1),
                FsKind::Fat16 => (within / 2, (within + bps) / 2 - 1),
                _ => (within / 4, (within + bps) / 4 - 1),
            };
            return Ok(Owner::structure(format!("FAT {} (entries of clusters {first}..{last})", k + 1)));
        }
        if sector < b.first_data_sector {
            return Ok(Owner::of(&self.root(), offset - b.root_dir_sector * bps));
        }
        let cluster = (sector - b.first_data_sector) / u64::from(b.sectors_per_cluster) + 2;
        if cluster >= u64::from(b.clusters) + 2 {
            return Ok(Owner::structure("sectors past the last cluster (unused)"));
        }
        let cluster = cluster as u32;
        let allocated = self.entry(vol, cluster)? != 0;
        // Walk the directories, live entries first, then deleted ones for a free cluster.
        let mut deleted_owner = None;
        let mut stack = vec![(self.root(), 0usize)];
        while let Some((dir, depth)) = stack.pop() {
            if let Ok(FileData::Runs { runs, .. }) = self.data(vol, &dir) {
                if let Some(at) = super::in_runs(&runs, offset) {
                    return Ok(Owner::of(&dir, at));
                }
            }
            if depth >= super::MAX_DEPTH {
                continue;
            }
            for e in self.list(vol, &dir, !allocated)? {
                if e.kind == EntryKind::Dir && !e.deleted {
                    stack.push((e, depth + 1));
                    continue;
                }
                if e.size == 0 || e.deleted && (allocated || deleted_owner.is_some()) {
                    continue;
                }
                let Ok(FileData::Runs { runs, size }) = self.data(vol, &e) else { continue };
                if let Some(at) = super::in_runs(&runs, offset).filter(|at| *at < size.div_ceil(b.cluster_size()) * b.cluster_size()) {
                    if e.deleted {
                        deleted_owner = Some(Owner::of(&e, at));
                    } else {
                        return Ok(Owner::of(&e, at));
                    }
                }
            }
        }
        if let Some(o) = deleted_owner {
            return Ok(o);
        }
        Ok(if allocated {
            Owner {
                kind: "unknown",
                ..Owner::structure(format!("cluster {cluster}: allocated in the FAT, but no file's chain holds it (lost cluster)"))
            }
        } else {
            Owner::free(format!("cluster {cluster}: free"))
        })
    }
}

/// What the directory slot says of `e`, for a comparison ([`super::FileSystem::facts`]): its
/// id (first cluster and creation time; the modification time and size for a file never
/// stamped), its attributes and times, and for a deleted entry whether its name is whole.
pub fn facts<R: ReadVirtual>(vol: &mut Volume<R>, e: &Entry) -> Facts {
    let mut f = Facts::default();
    let Some(at) = e.entry_offset else { return f };
    let Ok(raw) = vol.read_vec(at, 32) else { return f };
    f.entry_at = Some((at, at + 32));
    // Attributes, creation time (10 ms, time, date), modification time and date.
    f.meta = [&raw[11..12], &raw[13..18], &raw[22..26]].concat();
    let created = u64::from(raw[13]) | u64::from(le16(&raw, 14)) << 8 | u64::from(le16(&raw, 16)) << 24;
    let cluster = u64::from(le16(&raw, 0x1A)) | u64::from(le16(&raw, 0x14)) << 16;
    if cluster >= 2 {
        let stamp = if created != 0 { created } else { 1 << 48 | u64::from(le32(&raw, 0x1C)) << 16 | u64::from(le16(&raw, 0x18)) };
        f.id = Some(FileId::cluster(cluster, stamp));
    }
    if e.deleted {
        // The short name's first byte is gone: `_` stands for it unless a long name gave it;
        // and a long name is whole only when its last piece (the first slot) ends it.
        let short = short_name_with_underscore(&raw);
        f.name_complete = Some(!e.name.eq_ignore_ascii_case(&short) && long_name_ends(vol, at));
    }
    f
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
    [1usize, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30].iter().any(|&k| matches!(le16(top, k), 0 | 0xFFFF))
}

/// A deleted entry's short name, its lost first byte shown as `_`.
fn short_name_with_underscore(raw: &[u8]) -> String {
    let base = String::from_utf8_lossy(&raw[1..8]).trim_end().to_string();
    let ext = String::from_utf8_lossy(&raw[8..11]).trim_end().to_string();
    if ext.is_empty() {
        format!("_{base}")
    } else {
        format!("_{base}.{ext}")
    }
}

impl Fat {
    /// The regions at fixed places: boot sector and reserved sectors, the FATs, the root
    /// directory (FAT12/16), and what lies past the last cluster.
    pub fn structures<R: ReadVirtual>(&self, vol: &mut Volume<R>) -> Vec<Structure> {
        let b = &self.bpb;
        let bps = u64::from(b.bytes_per_sector);
        let end = b.cluster_offset(b.clusters.saturating_add(2));
        vec![
            (0, u64::from(b.reserved_sectors) * bps, "boot sector and reserved sectors"),
            (u64::from(b.reserved_sectors) * bps, b.root_dir_sector * bps, "FAT tables"),
            (b.root_dir_sector * bps, b.data_offset(), "directories"),
            (end, vol.len().max(end), "past the last cluster"),
        ]
    }

    /// True when the cluster holding volume byte `at` has a nonzero FAT entry (and for the
    /// regions before the first cluster); true too when the entry cannot be read.
    pub fn in_use<R: ReadVirtual>(&self, vol: &mut Volume<R>, at: u64) -> bool {
        let b = &self.bpb;
        if at < b.data_offset() {
            return true;
        }
        let c = (at - b.data_offset()) / b.cluster_size() + 2;
        c < u64::from(b.clusters) + 2 && !matches!(self.entry(vol, c as u32), Ok(0))
    }
}

impl Fat {
    /// The first FAT as a map of free clusters, or why the volume must be kept whole: it was
    /// not unmounted cleanly (the boot sector's dirty flag that Linux sets while it is mounted,
    /// or FAT16/32's clean-shutdown bit in FAT entry 1 cleared), or a write failed on it (the
    /// hard-error bit cleared), so the FAT may be stale.
    pub fn free_map<R: ReadVirtual>(&self, vol: &mut Volume<R>) -> Result<std::result::Result<FatMap, String>> {
        let b = &self.bpb;
        let boot = vol.read_vec(0, 512)?;
        let (state_at, clean_bit, error_bit) = match b.kind {
            FsKind::Fat12 => (0x25, 0, 0),
            FsKind::Fat16 => (0x25, 0x8000, 0x4000),
            _ => (0x41, 0x0800_0000, 0x0400_0000),
        };
        let entry1 = self.entry(vol, 1)?;
        let why = if boot[state_at] & 1 != 0 {
            Some("it was not unmounted cleanly (the boot sector's dirty flag is set), so its FAT may be stale")
        } else if clean_bit != 0 && entry1 & clean_bit == 0 {
            Some("it was not unmounted cleanly (the clean-shutdown bit of FAT entry 1 is cleared), so its FAT may be stale")
        } else if error_bit != 0 && entry1 & error_bit == 0 {
            Some("a disk error was met while it was mounted (the hard-error bit of FAT entry 1 is cleared)")
        } else {
            None
        };
        Ok(match why {
            Some(w) => Err(w.to_string()),
            None => Ok(FatMap { bpb: b.clone() }),
        })
    }
}

/// FAT's free clusters: the entries of the first FAT (0 is free), read a window at a time. The
/// boot and reserved sectors, the FATs and the fixed root directory come before cluster 2 and
/// are never free; nor is anything past the last cluster or past the FAT's end.
#[derive(Debug, Clone)]
pub struct FatMap {
    bpb: Bpb,
}

impl FatMap {
    /// (volume offset of cluster 2, bytes per cluster, clusters).
    pub(crate) fn geometry(&self) -> (u64, u64, u64) {
        (self.bpb.data_offset(), self.bpb.cluster_size(), u64::from(self.bpb.clusters))
    }

    /// Marks the free clusters of `win` (unit `k` is cluster `k + 2`).
    pub(crate) fn fill<R: ReadVirtual>(&self, vol: &mut Volume<R>, win: &mut Window) -> Result<()> {
        let b = &self.bpb;
        let bps = u64::from(b.bytes_per_sector);
        let (fat, fat_len) = (u64::from(b.reserved_sectors) * bps, b.fat_sectors * bps);
        let (c0, c1) = (win.first() + 2, win.first() + win.count() + 2);
        // Entry `c`'s first byte, and the bytes of entries `c0..c1`.
        let at = |c: u64| match b.kind {
            FsKind::Fat12 => c + c / 2,
            FsKind::Fat16 => 2 * c,
            _ => 4 * c,
        };
        let (from, to) = (at(c0), (at(c1) + 2).min(fat_len));
        if from >= to {
            return Ok(());
        }
        let mut raw = vec![0u8; (to - from) as usize];
        vol.read_uncached(fat + from, &mut raw)?;
        for c in c0..c1 {
            let o = (at(c) - from) as usize;
            let v = match b.kind {
                FsKind::Fat12 if o + 2 <= raw.len() => {
                    let v = u32::from(le16(&raw, o));
                    Some(if c % 2 == 0 { v & 0xFFF } else { v >> 4 })
                }
                FsKind::Fat16 if o + 2 <= raw.len() => Some(u32::from(le16(&raw, o))),
                FsKind::Fat32 if o + 4 <= raw.len() => Some(le32(&raw, o) & 0x0FFF_FFFF),
                _ => None,
            };
            if v == Some(0) {
                win.set_free(c - c0);
            }
        }
        Ok(())
    }
}
