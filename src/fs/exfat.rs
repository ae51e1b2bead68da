//! exFAT, read by this project's own code after Microsoft's specification (2019): the boot
//! region (main and backup, with its checksum sector), the FAT, the allocation bitmap, the
//! up-case table (case-insensitive names through it), and directory entry sets (file, stream
//! extension and file name entries, with the set checksum and the name hash). Files are
//! contiguous (NoFatChain) or FAT-chained; bytes past the valid data length read as zeros;
//! deleted sets (InUse clear) are listed and read where their clusters are still free (a
//! FAT-chained one by its chain where the FAT still holds it).
//!
//! An [`Entry`]'s `entry_offset` is the volume offset of its stream extension entry (where its
//! clusters and lengths are), `id` its first cluster.

use super::free::Window;
use super::survey::{Facts, FileId, Structure};
use super::{join, Entry, EntryKind, FileData, Owner, ReadVirtual, Run, Times, Volume, MAX_DEPTH, MAX_DIR_ENTRIES};
use crate::bytes::{le16, le32, le64};
use crate::error::{ChainBreak, FsError, Result};
use crate::finding::Finding;

/// Sectors of one boot region (boot sector, 8 extended boot sectors, OEM parameters, a
/// reserved sector, the checksum sector); the backup region follows the main one.
const BOOT_REGION_SECTORS: u64 = 12;
/// The most bytes of a directory read (the specification's bound is 256 MiB; this is the most
/// entries a listing returns).
const MAX_DIR_BYTES: u64 = MAX_DIR_ENTRIES as u64 * 32;
/// The most bytes an up-case table may claim (a full uncompressed table is 128 KiB).
const MAX_UPCASE_BYTES: u64 = 256 << 10;

/// The boot sector's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boot {
    /// Bytes per sector (512 to 4096).
    pub bytes_per_sector: u64,
    /// Sectors per cluster.
    pub sectors_per_cluster: u64,
    /// The volume's length in sectors.
    pub volume_sectors: u64,
    /// First sector of the first FAT.
    pub fat_offset: u64,
    /// Sectors of one FAT.
    pub fat_length: u64,
    /// First sector of the cluster heap (cluster 2).
    pub heap_offset: u64,
    /// Clusters in the heap.
    pub clusters: u32,
    /// First cluster of the root directory.
    pub root_cluster: u32,
    /// The volume serial number.
    pub serial: u32,
    /// Volume flags: bit 0 the active FAT, bit 1 dirty, bit 2 media failure.
    pub flags: u16,
    /// Number of FATs (1, or 2 for TexFAT).
    pub fats: u8,
}

impl Boot {
    /// Parses a boot sector; fails, saying which rule it breaks, when it is not an exFAT one.
    pub fn parse(b: &[u8]) -> std::result::Result<Boot, &'static str> {
        if b.len() < 512 || &b[3..11] != b"EXFAT   " {
            return Err("no \"EXFAT   \" name at byte 3");
        }
        if b[11..64].iter().any(|&x| x != 0) {
            return Err("bytes 11..64 (where FAT keeps its BIOS parameter block) are not zero");
        }
        if b[510..512] != [0x55, 0xAA] {
            return Err("no boot signature 55 AA at byte 510");
        }
        let (bps_shift, spc_shift) = (u32::from(b[108]), u32::from(b[109]));
        if !(9..=12).contains(&bps_shift) {
            return Err("bytes per sector (byte 108) is not 512 to 4096");
        }
        if bps_shift + spc_shift > 25 {
            return Err("a cluster (bytes 108, 109) is larger than 32 MiB");
        }
        let boot = Boot {
            bytes_per_sector: 1 << bps_shift,
            sectors_per_cluster: 1 << spc_shift,
            volume_sectors: le64(b, 72),
            fat_offset: u64::from(le32(b, 80)),
            fat_length: u64::from(le32(b, 84)),
            heap_offset: u64::from(le32(b, 88)),
            clusters: le32(b, 92),
            root_cluster: le32(b, 96),
            serial: le32(b, 100),
            flags: le16(b, 106),
            fats: b[110],
        };
        if !(1..=2).contains(&boot.fats) {
            return Err("the number of FATs (byte 110) is not 1 or 2");
        }
        if boot.fat_offset < 24 || boot.fat_length == 0 {
            return Err("the FAT (bytes 80..88) overlaps the boot regions or is empty");
        }
        let fats_end = boot.fat_offset + boot.fat_length * u64::from(boot.fats);
        if boot.heap_offset < fats_end {
            return Err("the cluster heap (byte 88) starts inside the FATs");
        }
        if boot.fat_length * boot.bytes_per_sector < (u64::from(boot.clusters) + 2) * 4 {
            return Err("the FAT (byte 84) is too short for the cluster count (byte 92)");
        }
        let heap_end = boot.heap_offset + u64::from(boot.clusters) * boot.sectors_per_cluster;
        if boot.clusters == 0 || boot.clusters > 0xFFFF_FFF5 || heap_end > boot.volume_sectors {
            return Err("the cluster count (byte 92) does not fit the volume length (byte 72)");
        }
        if !boot.valid_cluster(boot.root_cluster) {
            return Err("the root directory's first cluster (byte 96) is not in the heap");
        }
        Ok(boot)
    }

    /// Bytes per cluster.
    pub fn cluster_size(&self) -> u64 {
        self.bytes_per_sector * self.sectors_per_cluster
    }

    /// Volume byte offset of cluster `c` (2 is the first).
    pub fn cluster_offset(&self, c: u32) -> u64 {
        self.data_offset() + u64::from(c.saturating_sub(2)) * self.cluster_size()
    }

    /// Volume byte offset of the cluster heap (cluster 2).
    pub fn data_offset(&self) -> u64 {
        self.heap_offset * self.bytes_per_sector
    }

    /// Volume byte offset of the active FAT (the second when flag bit 0 says so and there are two).
    pub fn fat_at(&self) -> u64 {
        let k = u64::from(self.flags & 1 != 0 && self.fats == 2);
        (self.fat_offset + k * self.fat_length) * self.bytes_per_sector
    }

    /// The volume's size in bytes by its boot sector.
    pub fn volume_size(&self) -> u64 {
        self.volume_sectors.saturating_mul(self.bytes_per_sector)
    }

    fn valid_cluster(&self, c: u32) -> bool {
        c >= 2 && u64::from(c) < u64::from(self.clusters) + 2
    }
}

/// The boot checksum of a boot region's first 11 sectors (`b`), the volume flags and percent
/// in use left out.
pub fn boot_checksum(b: &[u8]) -> u32 {
    b.iter()
        .enumerate()
        .filter(|(i, _)| !matches!(i, 106 | 107 | 112))
        .fold(0u32, |sum, (_, &x)| sum.rotate_right(1).wrapping_add(u32::from(x)))
}

/// The checksum of an up-case table's bytes.
pub fn table_checksum(b: &[u8]) -> u32 {
    b.iter().fold(0u32, |sum, &x| sum.rotate_right(1).wrapping_add(u32::from(x)))
}

/// The checksum of a directory entry set's bytes (its own field, bytes 2 and 3, left out).
pub fn set_checksum(b: &[u8]) -> u16 {
    b.iter().enumerate().filter(|(i, _)| !matches!(i, 2 | 3)).fold(0u16, |sum, (_, &x)| sum.rotate_right(1).wrapping_add(u16::from(x)))
}

/// The checksum a set had while in use: a deleted set's entries have lost their InUse bit (bit 7
/// of each type byte) since the checksum was written.
fn live_checksum(set: &[u8], deleted: bool) -> u16 {
    if !deleted {
        return set_checksum(set);
    }
    let mut live = set.to_vec();
    for k in (0..live.len()).step_by(32) {
        live[k] |= 0x80;
    }
    set_checksum(&live)
}

/// Seconds since 1970 UTC of an exFAT timestamp, its 10 ms increment and its UTC offset (bit 7
/// set: the low 7 bits are a signed count of 15 minutes); a time without an offset is taken as UTC.
fn exfat_time(stamp: u32, ten_ms: u8, utc: u8) -> Option<i64> {
    if stamp == 0 {
        return None;
    }
    let (y, m, d) = (1980 + i64::from(stamp >> 25), stamp >> 21 & 15, stamp >> 16 & 31);
    if !(1..=12).contains(&m) || d == 0 {
        return None;
    }
    let secs =
        i64::from(stamp >> 11 & 31) * 3600 + i64::from(stamp >> 5 & 63) * 60 + i64::from(stamp & 31) * 2 + i64::from(ten_ms.min(199)) / 100;
    let offset = if utc & 0x80 != 0 { i64::from(((utc << 1) as i8) >> 1) * 15 * 60 } else { 0 };
    Some(crate::values::days_from_civil(y, m, d) * 86_400 + secs - offset)
}

/// Where an entry set lies, with its file entry and stream extension: what an entry's times and
/// facts are read from. The listing keeps it in each [`Entry`] (`Entry::exfat`), so that a
/// timeline or a comparison of a directory of N files reads the directory once, not N times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetHead {
    /// The file entry (and the stream extension's) volume offsets.
    file_at: u64,
    stream_at: u64,
    /// Entries in the set after the file entry.
    secondaries: u8,
    /// The file entry and stream extension (64 bytes).
    head: [u8; 64],
}

/// One directory entry set as found.
#[derive(Debug, Clone)]
struct Set {
    at: SetHead,
    name: String,
    deleted: bool,
    checksum_ok: bool,
    hash_ok: bool,
}

impl SetHead {
    fn attributes(&self) -> u16 {
        le16(&self.head, 4)
    }
    fn first_cluster(&self) -> u32 {
        le32(&self.head, 32 + 20)
    }
    fn data_length(&self) -> u64 {
        le64(&self.head, 32 + 24)
    }
}

/// An opened exFAT volume.
#[derive(Debug, Clone)]
pub struct ExFat {
    /// The boot sector's fields (of the main boot region, or the backup when the main is damaged).
    pub boot: Boot,
    /// The allocation bitmap: its length in bytes and where they are.
    bitmap: Option<(u64, Vec<Run>)>,
    /// Where the up-case table's bytes are.
    upcase: Vec<Run>,
    /// Each UTF-16 unit's upper case, by the up-case table.
    upper: Vec<u16>,
    /// The volume label (the root directory's label entry).
    label: Option<String>,
    /// What was found wrong while opening.
    findings: Vec<Finding>,
}

impl ExFat {
    /// Reads the boot region (the backup when the main one's checksum is wrong), then the root
    /// directory's bitmap, up-case table and label entries.
    pub fn open<R: ReadVirtual>(vol: &mut Volume<R>) -> Result<ExFat> {
        let base = vol.start();
        let first = vol.read_vec(0, 512)?;
        let why = |offset: u64, why: String| FsError::ExFatDamaged { offset, why };
        let boot = Boot::parse(&first).map_err(|w| why(base, format!("the boot sector: {w}")))?;
        let mut findings = Vec::new();
        let bps = boot.bytes_per_sector;
        let region_ok = |vol: &mut Volume<R>, k: u64| -> Result<std::result::Result<Vec<u8>, String>> {
            let at = k * BOOT_REGION_SECTORS * bps;
            let r = vol.read_vec(at, (BOOT_REGION_SECTORS * bps) as usize)?;
            let sum = boot_checksum(&r[..(11 * bps) as usize]);
            let stored = &r[(11 * bps) as usize..];
            Ok(if stored.chunks_exact(4).all(|c| le32(c, 0) == sum) {
                Ok(r)
            } else {
                Err(format!("the boot checksum sector at byte {:#x} does not hold the region's checksum {sum:#010x}", base + at + 11 * bps))
            })
        };
        if boot.heap_offset * bps > vol.len() || boot.volume_size() > vol.len() {
            findings.push(Finding::warning(
                "exfat-volume-length",
                base,
                format!("the exFAT volume is {} bytes by its boot sector, but its partition holds only {}", boot.volume_size(), vol.len()),
            ));
        }
        let boot = match region_ok(vol, 0)? {
            Ok(_) => boot,
            Err(main) => {
                let backup = match region_ok(vol, 1)? {
                    Ok(r) => Boot::parse(&r).ok(),
                    Err(_) => None,
                };
                let used = backup.is_some();
                findings.push(Finding::error(
                    "exfat-boot-checksum",
                    base + 11 * bps,
                    format!(
                        "{main}; {}",
                        if used { "the backup boot region is whole and is read instead" } else { "the backup boot region is no better" }
                    ),
                ));
                backup.unwrap_or(boot)
            }
        };
        let mut fs = ExFat { boot, bitmap: None, upcase: Vec::new(), upper: Vec::new(), label: None, findings };
        fs.read_root(vol)?;
        Ok(fs)
    }

    /// The root directory's special entries: the allocation bitmap (of the active FAT), the
    /// up-case table (checked against its checksum) and the volume label.
    fn read_root<R: ReadVirtual>(&mut self, vol: &mut Volume<R>) -> Result<()> {
        let base = vol.start();
        let runs = self.dir_runs(vol, &self.root())?;
        let active = u8::from(self.boot.flags & 1 != 0 && self.boot.fats == 2);
        let mut bitmaps = Vec::new();
        let mut table = None;
        'scan: for r in &runs {
            let Some(at) = r.volume_offset else { continue };
            let bytes = vol.read_vec(at, r.len as usize)?;
            for (k, e) in bytes.chunks_exact(32).enumerate() {
                match e[0] {
                    0 => break 'scan,
                    0x81 => bitmaps.push((e[1] & 1, le32(e, 20), le64(e, 24))),
                    0x82 if table.is_none() => table = Some((le32(e, 4), le32(e, 20), le64(e, 24), at + 32 * k as u64)),
                    0x83 if self.label.is_none() => {
                        let n = usize::from(e[1]).min(11);
                        let units: Vec<u16> = (0..n).map(|i| le16(e, 2 + 2 * i)).collect();
                        self.label = Some(String::from_utf16_lossy(&units)).filter(|l| !l.is_empty());
                    }
                    _ => {}
                }
            }
        }
        match bitmaps.iter().find(|b| b.0 == active).or(bitmaps.first()) {
            None => self.findings.push(Finding::error("exfat-bitmap", base, "the root directory has no allocation bitmap entry")),
            Some(&(_, c, len)) => {
                let need = u64::from(self.boot.clusters).div_ceil(8);
                let runs = if len < need || len > need + self.boot.cluster_size() {
                    Err(format!("its length {len} does not fit {} clusters", self.boot.clusters))
                } else {
                    self.runs_of_stream(vol, c, len, false).map_err(|e| e.to_string())
                };
                match runs {
                    Ok(runs) => self.bitmap = Some((len, runs)),
                    Err(why) => {
                        self.findings.push(Finding::error("exfat-bitmap", base, format!("the allocation bitmap (cluster {c}): {why}")))
                    }
                }
            }
        }
        // Identity first; the table's entries over it.
        self.upper = (0..=u16::MAX).collect();
        if let Some((sum, c, len, entry_at)) = table {
            if !self.boot.valid_cluster(c) || len > MAX_UPCASE_BYTES || len % 2 != 0 {
                self.findings.push(Finding::error(
                    "exfat-upcase",
                    base + entry_at,
                    format!("the up-case table (cluster {c}, {len} bytes) is not in the heap or larger than {MAX_UPCASE_BYTES} bytes"),
                ));
            } else {
                let runs = self.runs_of_stream(vol, c, len, false)?;
                let mut raw = Vec::new();
                for r in &runs {
                    if let Some(at) = r.volume_offset {
                        raw.extend_from_slice(&vol.read_vec(at, r.len.min(len - raw.len() as u64) as usize)?);
                    }
                }
                if table_checksum(&raw) != sum {
                    self.findings.push(Finding::warning(
                        "exfat-upcase-checksum",
                        base + entry_at,
                        format!("the up-case table's checksum is {:#010x}, its entry says {sum:#010x}", table_checksum(&raw)),
                    ));
                }
                self.upcase = runs;
                self.load_upcase(&raw);
            }
        }
        Ok(())
    }

    /// Fills the mapping from a table: a unit maps to itself unless the table says otherwise;
    /// `FFFF n` skips `n` units (they map to themselves).
    fn load_upcase(&mut self, raw: &[u8]) {
        let mut ch = 0usize;
        let mut k = 0;
        while k + 1 < raw.len() && ch <= usize::from(u16::MAX) {
            let v = le16(raw, k);
            k += 2;
            if v == 0xFFFF && k + 1 < raw.len() {
                ch += usize::from(le16(raw, k));
                k += 2;
                continue;
            }
            self.upper[ch] = v;
            ch += 1;
        }
    }

    /// The name in upper case through the up-case table, as UTF-16 units.
    fn upcased(&self, name: &str) -> Vec<u16> {
        name.encode_utf16().map(|u| self.upper.get(usize::from(u)).copied().unwrap_or(u)).collect()
    }

    /// True when `a` and `b` are the same name to exFAT (equal through the up-case table).
    pub fn same_name(&self, a: &str, b: &str) -> bool {
        self.upcased(a) == self.upcased(b)
    }

    /// The name hash of `name` (over its up-cased UTF-16 units, low byte first).
    pub fn name_hash(&self, name: &str) -> u16 {
        self.upcased(name).iter().flat_map(|u| u.to_le_bytes()).fold(0u16, |h, x| h.rotate_right(1).wrapping_add(u16::from(x)))
    }

    /// What was found wrong opening the volume (boot checksum, bitmap, up-case table), with
    /// virtual-disk offsets.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// The volume label.
    pub fn label(&self) -> Option<String> {
        self.label.clone()
    }

    /// The root directory.
    pub fn root(&self) -> Entry {
        Entry::root(u64::from(self.boot.root_cluster), None)
    }

    /// The FAT entry of cluster `c` (in the active FAT).
    pub fn entry<R: ReadVirtual>(&self, vol: &mut Volume<R>, c: u32) -> Result<u32> {
        let mut b = [0u8; 4];
        vol.read_at(self.boot.fat_at() + 4 * u64::from(c), &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// The cluster chain from `start`, at most `max` clusters: fails, naming the place, on a
    /// cluster out of the heap, a free or bad one inside the chain, or a loop.
    pub fn chain<R: ReadVirtual>(&self, vol: &mut Volume<R>, start: u32, max: u64) -> Result<Vec<u32>> {
        let fat_at = vol.start() + self.boot.fat_at();
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut c = start;
        // No chain is longer than the clusters the volume holds (a boot sector may claim more
        // than the partition has), and a cluster met twice is a loop, said at once.
        let fit = vol.len().saturating_sub(self.boot.cluster_offset(2)) / self.boot.cluster_size().max(1);
        let limit = max.min(u64::from(self.boot.clusters)).min(fit);
        while (out.len() as u64) < limit {
            if !self.boot.valid_cluster(c) {
                let broken = ChainBreak::Outside { last: self.boot.clusters.saturating_add(1) };
                return Err(FsError::FatChain { fat_at, start, cluster: c, broken }.into());
            }
            if !seen.insert(c) {
                return Err(FsError::FatChainLoop { fat_at, start, cluster: c }.into());
            }
            out.push(c);
            let next = self.entry(vol, c)?;
            if next == 0xFFFF_FFFF {
                break;
            }
            if next == 0 || next == 0xFFFF_FFF7 {
                let broken = if next == 0 { ChainBreak::Free } else { ChainBreak::Bad };
                return Err(FsError::FatChain { fat_at, start, cluster: c, broken }.into());
            }
            c = next;
        }
        Ok(out)
    }

    /// The runs of `len` bytes from cluster `first`: contiguous (`no_chain`), else by the FAT;
    /// a table whose FAT entry is free (some formatters leave it so) is taken as contiguous.
    fn runs_of_stream<R: ReadVirtual>(&self, vol: &mut Volume<R>, first: u32, len: u64, no_chain: bool) -> Result<Vec<Run>> {
        let cs = self.boot.cluster_size();
        let need = len.div_ceil(cs);
        if need == 0 {
            return Ok(Vec::new());
        }
        let contiguous = no_chain || self.entry(vol, first)? == 0;
        if contiguous {
            if !self.boot.valid_cluster(first) || u64::from(first) + need > u64::from(self.boot.clusters) + 2 {
                let broken = ChainBreak::Outside { last: self.boot.clusters.saturating_add(1) };
                let cluster = (u64::from(first) + need - 1).min(u64::from(u32::MAX)) as u32;
                return Err(FsError::FatChain { fat_at: vol.start() + self.boot.fat_at(), start: first, cluster, broken }.into());
            }
            return Ok(vec![Run { file_offset: 0, len: need * cs, volume_offset: Some(self.boot.cluster_offset(first)) }]);
        }
        let chain = self.chain(vol, first, need)?;
        let mut runs = Vec::new();
        for (i, &c) in chain.iter().enumerate() {
            Run::push(&mut runs, Run { file_offset: i as u64 * cs, len: cs, volume_offset: Some(self.boot.cluster_offset(c)) });
        }
        Ok(runs)
    }

    /// The stream extension at `at` (an entry's `entry_offset`), checked to be one.
    fn stream<R: ReadVirtual>(&self, vol: &mut Volume<R>, at: u64) -> Result<[u8; 32]> {
        let mut b = [0u8; 32];
        vol.read_at(at, &mut b)?;
        if b[0] & 0x7F != 0x40 {
            return Err(FsError::ExFatDamaged {
                offset: vol.start() + at,
                why: format!("entry type {:#04x} is not a stream extension", b[0]),
            }
            .into());
        }
        Ok(b)
    }

    /// Where a directory's bytes are: the root's FAT chain, or its stream extension's clusters.
    fn dir_runs<R: ReadVirtual>(&self, vol: &mut Volume<R>, dir: &Entry) -> Result<Vec<Run>> {
        let cs = self.boot.cluster_size();
        let Some(at) = dir.entry_offset else {
            let chain = self.chain(vol, self.boot.root_cluster, MAX_DIR_BYTES.div_ceil(cs))?;
            let mut runs = Vec::new();
            for (i, &c) in chain.iter().enumerate() {
                Run::push(&mut runs, Run { file_offset: i as u64 * cs, len: cs, volume_offset: Some(self.boot.cluster_offset(c)) });
            }
            return Ok(runs);
        };
        let s = self.stream(vol, at)?;
        let len = le64(&s, 24).min(MAX_DIR_BYTES);
        self.runs_of_stream(vol, le32(&s, 20), len, s[1] & 2 != 0 || dir.deleted)
    }

    /// The entry sets of a directory's bytes (`offsets[i]`: slot `i`'s volume offset).
    fn sets(&self, bytes: &[u8], offsets: &[u64], deleted: bool) -> Vec<Set> {
        let mut out = Vec::new();
        let slots = bytes.len() / 32;
        let mut i = 0;
        while i < slots {
            let e = &bytes[32 * i..32 * i + 32];
            if e[0] == 0 {
                break;
            }
            let is_deleted = e[0] == 0x05;
            if e[0] != 0x85 && !(is_deleted && deleted) {
                i += 1;
                continue;
            }
            let n = usize::from(e[1]);
            // A set needs its stream extension and a name entry, and lies inside the directory.
            if !(2..=18).contains(&n) || i + n >= slots {
                i += 1;
                continue;
            }
            let set = &bytes[32 * i..32 * (i + n + 1)];
            let want = if is_deleted { 0x40 } else { 0xC0 };
            if set[32] != want {
                i += 1;
                continue;
            }
            let name_len = usize::from(set[32 + 3]);
            let mut units = Vec::with_capacity(name_len);
            for k in 2..=n {
                let s = &set[32 * k..32 * k + 32];
                if s[0] != want + 1 {
                    break;
                }
                units.extend((0..15).map(|j| le16(s, 2 + 2 * j)));
            }
            units.truncate(name_len);
            let name = String::from_utf16_lossy(&units);
            let mut head = [0u8; 64];
            head.copy_from_slice(&set[..64]);
            let hash_ok = name_len > 0 && units.len() == name_len && self.name_hash(&name) == le16(set, 32 + 4);
            out.push(Set {
                at: SetHead { file_at: offsets[i], stream_at: offsets[i + 1], secondaries: e[1], head },
                name,
                deleted: is_deleted,
                checksum_ok: live_checksum(set, is_deleted) == le16(set, 2),
                hash_ok,
            });
            // A live set is skipped whole; a deleted one's slots may hold a newer set's.
            i += if is_deleted { 1 } else { n + 1 };
        }
        out
    }

    /// The sets of directory `dir`.
    fn dir_sets<R: ReadVirtual>(&self, vol: &mut Volume<R>, dir: &Entry, deleted: bool) -> Result<Vec<Set>> {
        let (mut bytes, mut offsets) = (Vec::new(), Vec::new());
        for r in self.dir_runs(vol, dir)? {
            let Some(at) = r.volume_offset else { continue };
            let n = r.len.min(MAX_DIR_BYTES.saturating_sub(bytes.len() as u64));
            bytes.extend_from_slice(&vol.read_vec(at, n as usize)?);
            offsets.extend((0..n / 32).map(|k| at + 32 * k));
        }
        Ok(self.sets(&bytes, &offsets, deleted))
    }

    /// The entries of `dir`.
    pub fn list<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, dir: &Entry, deleted: bool) -> Result<Vec<Entry>> {
        Ok(self.dir_sets(vol, dir, deleted)?.into_iter().map(|s| self.entry_of(&dir.path, &s)).collect())
    }

    fn entry_of(&self, dir: &str, set: &Set) -> Entry {
        let s = &set.at;
        let attr = s.attributes();
        let mut attributes = Vec::new();
        for (bit, word) in [(0x01, "read-only"), (0x02, "hidden"), (0x04, "system"), (0x20, "archive")] {
            if attr & bit != 0 {
                attributes.push(word);
            }
        }
        if s.head[32 + 1] & 2 != 0 {
            attributes.push("contiguous");
        }
        if !set.checksum_ok {
            attributes.push("bad-set-checksum");
        }
        if !set.hash_ok {
            attributes.push("bad-name-hash");
        }
        let is_dir = attr & 0x10 != 0;
        Entry {
            path: join(dir, &set.name),
            name: set.name.clone(),
            kind: if is_dir { EntryKind::Dir } else { EntryKind::File },
            size: if is_dir { 0 } else { s.data_length() },
            modified: exfat_time(le32(&s.head, 12), s.head[21], s.head[23]),
            deleted: set.deleted,
            id: u64::from(s.first_cluster()),
            attributes,
            entry_offset: Some(s.stream_at),
            streams: Vec::new(),
            exfat: Some(Box::new(s.clone())),
        }
    }

    /// Where a file's bytes are: its clusters up to the valid data length, zeros past it. A
    /// deleted file's clusters are read only while the bitmap has them all free.
    pub fn data<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, e: &Entry) -> Result<FileData> {
        if e.kind == EntryKind::Dir {
            let runs = self.dir_runs(vol, e)?;
            let size = runs.iter().map(|r| r.len).sum();
            return Ok(FileData::Runs { runs, size });
        }
        let Some(at) = e.entry_offset else { return Ok(FileData::Runs { runs: Vec::new(), size: 0 }) };
        let s = self.stream(vol, at)?;
        let (first, valid, size) = (le32(&s, 20), le64(&s, 8), le64(&s, 24));
        if size == 0 {
            return Ok(FileData::Runs { runs: Vec::new(), size: 0 });
        }
        if valid > size {
            let why = format!("the valid data length {valid} is past the data length {size}");
            return Err(FsError::ExFatDamaged { offset: vol.start() + at, why }.into());
        }
        let chained = s[1] & 2 == 0;
        let mut runs = if e.deleted && chained {
            self.deleted_chain(vol, at, first, size)?
        } else {
            self.runs_of_stream(vol, first, size, !chained || e.deleted)?
        };
        if e.deleted && !chained {
            let n = size.div_ceil(self.boot.cluster_size());
            if let Some(c) = self.first_in_use(vol, u64::from(first), n) {
                let why = format!("the deleted file's cluster {c} is in use again: its data is gone");
                return Err(FsError::ExFatDamaged { offset: vol.start() + at, why }.into());
            }
        }
        let held: u64 = runs.iter().map(|r| r.len).sum();
        if held < size {
            return Err(FsError::RunsShort { volume_start: vol.start(), size, held }.into());
        }
        // Past the valid data length: zeros, whatever the clusters hold.
        if valid < size {
            runs.retain(|r| r.file_offset < valid);
            if let Some(last) = runs.last_mut() {
                last.len = last.len.min(valid - last.file_offset);
            }
            runs.push(Run { file_offset: valid, len: size - valid, volume_offset: None });
        }
        Ok(FileData::Runs { runs, size })
    }

    /// The runs of a deleted FAT-chained file whose stream extension is at `at`: its chain where
    /// the FAT still holds it (Windows leaves it; exfat-fuse clears it) and every cluster of it is
    /// free in the bitmap, else an error saying that its data cannot be recovered.
    fn deleted_chain<R: ReadVirtual>(&self, vol: &mut Volume<R>, at: u64, first: u32, size: u64) -> Result<Vec<Run>> {
        let cs = self.boot.cluster_size();
        let need = size.div_ceil(cs);
        let offset = vol.start() + at;
        let gone = |why: String| -> crate::error::Error {
            FsError::ExFatDamaged { offset, why: format!("the deleted file {why}: its data cannot be recovered") }.into()
        };
        if !self.boot.valid_cluster(first) {
            return Err(gone(format!("starts at cluster {first}, not one of the volume's")));
        }
        // A single cluster needs no chain; a longer file's first FAT entry freed means that the
        // chain was cleared on delete.
        let chain = if need == 1 {
            vec![first]
        } else if self.entry(vol, first)? == 0 {
            return Err(gone(format!("was in pieces and its FAT chain (from cluster {first}) was cleared")));
        } else {
            match self.chain(vol, first, need) {
                Ok(c) if c.len() as u64 == need => c,
                Ok(c) => return Err(gone(format!("holds {size} bytes but its FAT chain ends after {} clusters", c.len()))),
                Err(err) => return Err(gone(format!("was in pieces and its FAT chain is broken ({err})"))),
            }
        };
        let mut runs = Vec::new();
        for (i, &c) in chain.iter().enumerate() {
            if self.allocated(vol, c)? {
                let why = format!("the deleted file's cluster {c} is in use again: its data is gone");
                return Err(FsError::ExFatDamaged { offset, why }.into());
            }
            Run::push(&mut runs, Run { file_offset: i as u64 * cs, len: cs, volume_offset: Some(self.boot.cluster_offset(c)) });
        }
        Ok(runs)
    }

    /// True when the bitmap marks cluster `c` in use (an error when it has no bitmap).
    fn allocated<R: ReadVirtual>(&self, vol: &mut Volume<R>, c: u32) -> Result<bool> {
        let Some((len, runs)) = &self.bitmap else {
            return Err(FsError::ExFatDamaged { offset: vol.start(), why: "no allocation bitmap".into() }.into());
        };
        let bit = u64::from(c.saturating_sub(2));
        if bit / 8 >= *len {
            return Ok(true);
        }
        let byte = bit / 8;
        let at = runs.iter().find_map(|r| {
            r.volume_offset.filter(|_| byte >= r.file_offset && byte - r.file_offset < r.len).map(|v| v + byte - r.file_offset)
        });
        let Some(at) = at else { return Ok(true) };
        let mut b = [0u8; 1];
        vol.read_at(at, &mut b)?;
        Ok(b[0] & 1 << (bit % 8) != 0)
    }

    /// The first of clusters `first .. first + n` that the bitmap marks in use (or cannot say
    /// of), read a piece of the bitmap at a time.
    fn first_in_use<R: ReadVirtual>(&self, vol: &mut Volume<R>, first: u64, n: u64) -> Option<u64> {
        const PIECE: u64 = 64 << 10;
        let Some((len, runs)) = &self.bitmap else { return Some(first) };
        let (from, to) = (first.saturating_sub(2), first.saturating_sub(2).saturating_add(n));
        let mut bit = from;
        while bit < to {
            let byte = bit / 8;
            let run = runs.iter().find(|r| byte >= r.file_offset && byte - r.file_offset < r.len && byte < *len);
            let Some((r, at)) = run.and_then(|r| r.volume_offset.map(|v| (r, v))) else { return Some(bit + 2) };
            let take = PIECE.min(r.file_offset + r.len - byte).min(len - byte).min((to - bit).div_ceil(8) + 1);
            let Ok(b) = vol.read_vec(at + (byte - r.file_offset), take as usize) else { return Some(bit + 2) };
            for (k, x) in b.iter().enumerate() {
                for j in 0..8 {
                    let c = (byte + k as u64) * 8 + j;
                    if c >= from && c < to && x & (1 << j) != 0 {
                        return Some(c + 2);
                    }
                }
            }
            bit = (byte + take) * 8;
        }
        None
    }

    /// The times in `e`'s file entry: created, modified, accessed.
    pub fn times(&self, e: &Entry) -> Times {
        let Some(s) = e.exfat.as_deref() else { return Times { modified: e.modified, ..Times::default() } };
        let h = &s.head;
        Times {
            created: exfat_time(le32(h, 8), h[20], h[22]),
            modified: exfat_time(le32(h, 12), h[21], h[23]),
            accessed: exfat_time(le32(h, 16), 0, h[24]),
            changed: None,
        }
    }

    /// The regions at fixed places and the tables in the heap: boot regions, FATs, the
    /// allocation bitmap, the up-case table, what lies past the last cluster.
    pub fn structures<R: ReadVirtual>(&self, vol: &mut Volume<R>) -> Vec<Structure> {
        let b = &self.boot;
        let bps = b.bytes_per_sector;
        let end = b.cluster_offset(b.clusters.saturating_add(2));
        let mut v = vec![
            (0, BOOT_REGION_SECTORS * bps, "main boot region"),
            (BOOT_REGION_SECTORS * bps, 2 * BOOT_REGION_SECTORS * bps, "backup boot region"),
            (b.fat_offset * bps, (b.fat_offset + b.fat_length * u64::from(b.fats)) * bps, "FAT"),
        ];
        let bitmap = self.bitmap.as_ref().map_or(&[][..], |b| &b.1[..]);
        for (runs, name) in [(bitmap, "allocation bitmap"), (&self.upcase[..], "up-case table")] {
            for r in runs {
                if let Some(at) = r.volume_offset {
                    v.push((at, at + r.len, name));
                }
            }
        }
        v.push((end, vol.len().max(end), "past the last cluster"));
        v
    }

    /// True when the cluster holding volume byte `at` is marked in use in the bitmap (and for
    /// everything before the heap); true too when that cannot be read.
    pub fn in_use<R: ReadVirtual>(&self, vol: &mut Volume<R>, at: u64) -> bool {
        let b = &self.boot;
        if at < b.data_offset() {
            return true;
        }
        let c = (at - b.data_offset()) / b.cluster_size() + 2;
        c >= u64::from(b.clusters) + 2 || self.allocated(vol, c as u32).unwrap_or(true)
    }

    /// What the entry set says of `e` for a comparison: its id (first cluster and creation
    /// time), its attributes and times (the access time left out), where the set lies.
    pub fn facts(&self, e: &Entry) -> Facts {
        let mut f = Facts::default();
        let Some(s) = e.exfat.as_deref() else { return f };
        f.entry_at = Some((s.file_at, s.stream_at + 32 * u64::from(s.secondaries)));
        let h = &s.head;
        f.meta = [&h[4..6], &h[8..16], &h[20..22], &h[22..24]].concat();
        if s.first_cluster() >= 2 {
            f.id = Some(FileId::cluster(u64::from(s.first_cluster()), u64::from(le32(h, 8)) | u64::from(h[20]) << 32));
        }
        if e.deleted {
            f.name_complete = Some(true);
        }
        f
    }

    /// What owns byte `offset` of the volume: a boot region, a FAT, the bitmap or up-case
    /// table, a file or directory (live, else a deleted one whose clusters are free), or free
    /// or lost space.
    pub fn owner<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, offset: u64) -> Result<Owner> {
        let b = self.boot.clone();
        let bps = b.bytes_per_sector;
        if offset < 2 * BOOT_REGION_SECTORS * bps {
            let sector = offset / bps;
            let region = if sector < BOOT_REGION_SECTORS { "main" } else { "backup" };
            return Ok(Owner::structure(format!("{region} boot region, sector {}", sector % BOOT_REGION_SECTORS)));
        }
        let fats_end = (b.fat_offset + b.fat_length * u64::from(b.fats)) * bps;
        if offset >= b.fat_offset * bps && offset < fats_end {
            let within = offset - b.fat_offset * bps;
            let (k, at) = (within / (b.fat_length * bps), within % (b.fat_length * bps));
            let first = at / bps * bps / 4;
            return Ok(Owner::structure(format!("FAT {} (entries of clusters {first}..{})", k + 1, first + bps / 4 - 1)));
        }
        if offset < b.data_offset() {
            return Ok(Owner::structure("reserved sectors"));
        }
        let cluster = (offset - b.data_offset()) / b.cluster_size() + 2;
        if cluster >= u64::from(b.clusters) + 2 {
            return Ok(Owner::structure("sectors past the last cluster (unused)"));
        }
        let bitmap = self.bitmap.as_ref().map_or(&[][..], |b| &b.1[..]);
        for (runs, name) in [(bitmap, "allocation bitmap"), (&self.upcase[..], "up-case table")] {
            if let Some(at) = super::in_runs(runs, offset) {
                return Ok(Owner { file_offset: Some(at), ..Owner::structure(name) });
            }
        }
        let allocated = self.allocated(vol, cluster as u32).unwrap_or(true);
        let mut deleted_owner = None;
        let mut stack = vec![(self.root(), 0usize)];
        let mut seen = std::collections::HashSet::new();
        while let Some((dir, depth)) = stack.pop() {
            if !seen.insert(dir.entry_offset) {
                continue;
            }
            if let Ok(FileData::Runs { runs, .. }) = self.data(vol, &dir) {
                if let Some(at) = super::in_runs(&runs, offset) {
                    return Ok(Owner::of(&dir, at));
                }
            }
            if depth >= MAX_DEPTH {
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
                let Ok(FileData::Runs { runs, .. }) = self.data(vol, &e) else { continue };
                if let Some(at) = super::in_runs(&runs, offset) {
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
                ..Owner::structure(format!("cluster {cluster}: in use in the bitmap, but no file holds it (lost cluster)"))
            }
        } else {
            Owner::free(format!("cluster {cluster}: free"))
        })
    }

    /// The allocation bitmap as a map of free clusters, or why the volume must be kept whole:
    /// it was not unmounted cleanly (the dirty flag), a media failure was met, or it has no
    /// readable bitmap.
    pub fn free_map(&self) -> std::result::Result<ExFatMap, String> {
        if self.boot.flags & 2 != 0 {
            return Err("it was not unmounted cleanly (the boot sector's dirty flag is set), so its allocation bitmap may be stale".into());
        }
        if self.boot.flags & 4 != 0 {
            return Err("a media failure was met while it was mounted (the boot sector's media-failure flag)".into());
        }
        let Some((_, runs)) = &self.bitmap else { return Err("its allocation bitmap cannot be found or read".into()) };
        let runs = runs.clone();
        Ok(ExFatMap {
            data_offset: self.boot.data_offset(),
            cluster: self.boot.cluster_size(),
            clusters: u64::from(self.boot.clusters),
            runs,
        })
    }
}

/// exFAT's free clusters: the allocation bitmap (bit `k` for cluster `k + 2`, clear is free),
/// read a window at a time.
#[derive(Debug, Clone)]
pub struct ExFatMap {
    data_offset: u64,
    cluster: u64,
    clusters: u64,
    /// Where the bitmap's bytes are.
    runs: Vec<Run>,
}

impl ExFatMap {
    /// (volume offset of cluster 2, bytes per cluster, clusters).
    pub(crate) fn geometry(&self) -> (u64, u64, u64) {
        (self.data_offset, self.cluster, self.clusters)
    }

    /// Marks the free clusters of `win` (unit `k` is cluster `k + 2`).
    pub(crate) fn fill<R: ReadVirtual>(&self, vol: &mut Volume<R>, win: &mut Window) -> Result<()> {
        // Windows start on a multiple of 8 units: a byte boundary of the bitmap.
        let (from, to) = (win.first() / 8, (win.first() + win.count()).div_ceil(8));
        for r in &self.runs {
            let (a, b) = (r.file_offset.max(from), (r.file_offset + r.len).min(to));
            let Some(at) = r.volume_offset.filter(|_| a < b) else { continue };
            let bytes = vol.read_vec(at + (a - r.file_offset), (b - a) as usize)?;
            let k = (a - from) * 8;
            win.free_where_clear(k, &bytes, win.count().saturating_sub(k));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_apply_the_10ms_increment_and_the_utc_offset() {
        // 2024-05-01 12:30:10 local, +1.5 s, UTC+2 (8 quarter hours, bit 7 set).
        let stamp = (44 << 25) | (5 << 21) | (1 << 16) | (12 << 11) | (30 << 5) | 5;
        let utc = crate::values::days_from_civil(2024, 5, 1) * 86_400 + 12 * 3600 + 30 * 60 + 11;
        assert_eq!(exfat_time(stamp, 150, 0x80 | 8), Some(utc - 2 * 3600));
        // UTC-5: -20 quarter hours in 7 bits.
        assert_eq!(exfat_time(stamp, 0, 0x80 | (-20i8 as u8 & 0x7F)), Some(utc - 1 + 5 * 3600));
        assert_eq!(exfat_time(stamp, 0, 0), Some(utc - 1), "no valid offset: taken as UTC");
        assert_eq!(exfat_time(0, 0, 0), None);
    }

    #[test]
    fn checksums_follow_the_specification() {
        // A set's checksum leaves out its own two bytes; the rotation is a 16-bit one.
        let mut set = [0u8; 64];
        set[0] = 0x85;
        set[1] = 1;
        let sum = set_checksum(&set);
        set[2] = 0xAB;
        set[3] = 0xCD;
        assert_eq!(set_checksum(&set), sum);
        set[4] = 1;
        assert_ne!(set_checksum(&set), sum);
        // The boot checksum leaves out the flags (106, 107) and the percent in use (112).
        let mut region = vec![0u8; 11 * 512];
        region[0] = 0xEB;
        let sum = boot_checksum(&region);
        region[106] = 2;
        region[112] = 50;
        assert_eq!(boot_checksum(&region), sum);
        region[113] = 1;
        assert_ne!(boot_checksum(&region), sum);
        assert_eq!(table_checksum(&[1, 0]), 0x8000_0000u32.wrapping_add(0), "1 rotated right, then 0 added");
    }
}
