//! The project's own VHDX writer, for tests and fuzz seeds: fixed, dynamic and differencing
//! disks with 512- or 4096-byte logical sectors, any block state, and a dirty log whose entries
//! hold the BAT (so that the file read as stored and the file read after replay differ). Other
//! tools cannot make differencing VHDX files or dirty logs; 7-Zip reads what this writes.
//!
//! The layout is fixed: identifier, headers and region tables in the first 320 KiB, the log at
//! 1 MiB (1 MiB long), the metadata region at 2 MiB (1 MiB), the BAT at 3 MiB, then the
//! payload and sector bitmap blocks in BAT order.

use super::crc32c::{crc32c, crc32c_with_zeroed};
use super::format::{
    Guid, ITEM_FILE_PARAMETERS, ITEM_LOGICAL_SECTOR_SIZE, ITEM_PAGE83, ITEM_PARENT_LOCATOR, ITEM_PHYSICAL_SECTOR_SIZE,
    ITEM_VIRTUAL_DISK_SIZE, MIB, REGION_BAT, REGION_METADATA,
};
use crate::image::BlockState;

/// What kind of disk to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Every payload block allocated (`LeaveBlocksAllocated`).
    Fixed,
    /// Blocks allocated where data was written.
    Dynamic,
    /// A child of the parent whose `DataWriteGuid` is `parent_linkage`: written sectors are
    /// partially present blocks with sector bitmaps.
    Differencing {
        /// Locator key/value pairs (e.g. `parent_linkage`, `relative_path`).
        locator: Vec<(String, String)>,
    },
}

/// A VHDX to write.
#[derive(Debug, Clone)]
pub struct VhdxBuilder {
    /// Virtual disk size in bytes.
    pub size: u64,
    /// Payload block size.
    pub block_size: u32,
    /// 512 or 4096.
    pub logical_sector_size: u32,
    /// 512 or 4096.
    pub physical_sector_size: u32,
    /// Fixed, dynamic or differencing.
    pub kind: Kind,
    /// The `DataWriteGuid` (children name it as `parent_linkage`).
    pub data_write_guid: Guid,
    /// Virtual writes, in order: (virtual offset, bytes); offsets and lengths whole sectors.
    pub writes: Vec<(u64, Vec<u8>)>,
    /// Block states to force (for blocks without data): (payload block, state).
    pub states: Vec<(u64, BlockState)>,
    /// Leave the BAT in the file as it was before the data was written (every block not
    /// present) and put the real BAT in the log, as a disk not closed cleanly has it.
    pub dirty_log: bool,
}

impl VhdxBuilder {
    /// A dynamic disk of `size` bytes with 1 MiB blocks and 512-byte sectors.
    pub fn new(size: u64) -> Self {
        VhdxBuilder {
            size,
            block_size: MIB as u32,
            logical_sector_size: 512,
            physical_sector_size: 4096,
            kind: Kind::Dynamic,
            data_write_guid: Guid([0x11; 16]),
            writes: Vec::new(),
            states: Vec::new(),
            dirty_log: false,
        }
    }

    /// A differencing child of `parent_guid` found at `relative_path`.
    pub fn child_of(mut self, parent_guid: Guid, relative_path: &str) -> Self {
        self.kind = Kind::Differencing {
            locator: vec![
                ("parent_linkage".into(), format!("{{{parent_guid}}}")),
                ("relative_path".into(), relative_path.replace('/', "\\")),
                ("absolute_win32_path".into(), format!("C:\\disks\\{}", relative_path.rsplit('/').next().unwrap_or(relative_path))),
            ],
        };
        self
    }

    /// Writes `bytes` at virtual `offset`.
    pub fn write(mut self, offset: u64, bytes: &[u8]) -> Self {
        self.writes.push((offset, bytes.to_vec()));
        self
    }

    /// The file's bytes.
    pub fn build(&self) -> Vec<u8> {
        let bs = u64::from(self.block_size);
        let ss = u64::from(self.logical_sector_size);
        let chunk_ratio = ((1u64 << 23) * ss) / bs;
        let payload = self.size.div_ceil(bs);
        let chunks = payload.div_ceil(chunk_ratio);
        let diff = matches!(self.kind, Kind::Differencing { .. });
        let entries = if diff { chunks * (chunk_ratio + 1) } else { payload + payload.saturating_sub(1) / chunk_ratio };
        let bat_len = (entries * 8).div_ceil(MIB) * MIB;
        let bat_at = 3 * MIB;
        let mut next = bat_at + bat_len;
        let mut bat = vec![0u64; entries as usize];
        let pidx = |b: u64| (b + b / chunk_ratio) as usize;
        let bidx = |c: u64| (c * (chunk_ratio + 1) + chunk_ratio) as usize;

        // Which sectors each block holds.
        let sectors_per_block = bs / ss;
        let mut present: std::collections::BTreeMap<u64, Vec<bool>> = std::collections::BTreeMap::new();
        for (off, bytes) in &self.writes {
            let mut s = off / ss;
            while s * ss < off + bytes.len() as u64 {
                let b = s * ss / bs;
                present.entry(b).or_insert_with(|| vec![false; sectors_per_block as usize])[((s * ss % bs) / ss) as usize] = true;
                s += 1;
            }
        }
        let mut file = vec![0u8; next as usize];
        let mut block_at = std::collections::HashMap::new();
        for b in 0..payload {
            let (state, alloc) = match (&self.kind, present.get(&b)) {
                (Kind::Fixed, _) => (6u64, true),
                (Kind::Dynamic, Some(_)) => (6, true),
                (Kind::Differencing { .. }, Some(p)) => (if p.iter().all(|x| *x) { 6 } else { 7 }, true),
                (_, None) => (self.states.iter().find(|(k, _)| *k == b).map_or(0, |(_, s)| state_bits(*s)), false),
            };
            if alloc {
                block_at.insert(b, next);
                bat[pidx(b)] = state | (next / MIB) << 20;
                next += bs;
            } else {
                bat[pidx(b)] = state;
            }
        }
        file.resize(next as usize, 0);
        if diff {
            for c in 0..chunks {
                let blocks: Vec<u64> =
                    (c * chunk_ratio..((c + 1) * chunk_ratio).min(payload)).filter(|b| present.contains_key(b)).collect();
                if blocks.is_empty() {
                    continue;
                }
                let at = next;
                next += MIB;
                file.resize(next as usize, 0);
                bat[bidx(c)] = 6 | (at / MIB) << 20;
                for b in blocks {
                    let base = at + (b % chunk_ratio) * sectors_per_block / 8;
                    for (i, p) in present[&b].iter().enumerate() {
                        if *p {
                            file[(base + i as u64 / 8) as usize] |= 1 << (i % 8);
                        }
                    }
                }
            }
        }
        for (off, bytes) in &self.writes {
            for (i, chunk) in bytes.chunks(ss as usize).enumerate() {
                let v = off + i as u64 * ss;
                let at = block_at[&(v / bs)] + v % bs;
                file[at as usize..at as usize + chunk.len()].copy_from_slice(chunk);
            }
        }
        let bat_bytes: Vec<u8> = bat.iter().flat_map(|e| e.to_le_bytes()).collect();
        let log_guid = if self.dirty_log { Guid([0x4c; 16]) } else { Guid::default() };
        if self.dirty_log {
            // The file keeps the BAT of an empty disk; the log holds the real one.
            let empty: Vec<u8> =
                bat.iter().map(|e| if e & 7 == 6 || e & 7 == 7 { 0 } else { *e }).flat_map(|e: u64| e.to_le_bytes()).collect();
            file[bat_at as usize..bat_at as usize + empty.len()].copy_from_slice(&empty);
            let sectors: Vec<(u64, Vec<u8>)> = bat_bytes
                .chunks(4096)
                .enumerate()
                .filter(|(_, c)| c.iter().any(|b| *b != 0))
                // The 1 MiB log holds about 250 sectors: enough for the disks tests write.
                .take(200)
                .map(|(i, c)| {
                    let mut s = c.to_vec();
                    s.resize(4096, 0);
                    (bat_at + i as u64 * 4096, s)
                })
                .collect();
            let log = write_log(&sectors, log_guid, next);
            file[MIB as usize..MIB as usize + log.len()].copy_from_slice(&log);
        } else {
            file[bat_at as usize..bat_at as usize + bat_bytes.len()].copy_from_slice(&bat_bytes);
        }

        // Identifier, headers, region tables.
        file[..8].copy_from_slice(b"vhdxfile");
        for (i, u) in "vhd-viewer writer".encode_utf16().enumerate() {
            file[8 + 2 * i..10 + 2 * i].copy_from_slice(&u.to_le_bytes());
        }
        for (i, at) in [0x10000usize, 0x20000].into_iter().enumerate() {
            let h = &mut file[at..at + 4096];
            h[0..4].copy_from_slice(b"head");
            h[8..16].copy_from_slice(&(10 + i as u64).to_le_bytes());
            // FileWriteGuid: derived from the DataWriteGuid, so that every file's differs.
            h[16..32].copy_from_slice(&self.data_write_guid.0.map(|b| b ^ 0x22));
            h[32..48].copy_from_slice(&self.data_write_guid.0);
            h[48..64].copy_from_slice(&log_guid.0);
            h[66..68].copy_from_slice(&1u16.to_le_bytes());
            h[68..72].copy_from_slice(&(MIB as u32).to_le_bytes());
            h[72..80].copy_from_slice(&MIB.to_le_bytes());
            let crc = crc32c(h);
            h[4..8].copy_from_slice(&crc.to_le_bytes());
        }
        for at in [0x30000usize, 0x40000] {
            let t = &mut file[at..at + 0x10000];
            t[0..4].copy_from_slice(b"regi");
            t[8..12].copy_from_slice(&2u32.to_le_bytes());
            for (k, (g, off, len)) in [(REGION_BAT, bat_at, bat_len), (REGION_METADATA, 2 * MIB, MIB)].into_iter().enumerate() {
                let e = 16 + 32 * k;
                t[e..e + 16].copy_from_slice(&g.0);
                t[e + 16..e + 24].copy_from_slice(&off.to_le_bytes());
                t[e + 24..e + 28].copy_from_slice(&(len as u32).to_le_bytes());
                t[e + 28..e + 32].copy_from_slice(&1u32.to_le_bytes());
            }
            let crc = crc32c(t);
            t[4..8].copy_from_slice(&crc.to_le_bytes());
        }

        // Metadata region.
        let flags_params = u32::from(self.kind == Kind::Fixed) | (u32::from(diff) << 1);
        let mut items: Vec<(Guid, Vec<u8>, u32)> = vec![
            (ITEM_FILE_PARAMETERS, [self.block_size.to_le_bytes(), flags_params.to_le_bytes()].concat(), 4),
            (ITEM_VIRTUAL_DISK_SIZE, self.size.to_le_bytes().to_vec(), 6),
            (ITEM_PAGE83, self.data_write_guid.0.map(|b| b ^ 0x83).to_vec(), 6),
            (ITEM_LOGICAL_SECTOR_SIZE, self.logical_sector_size.to_le_bytes().to_vec(), 6),
            (ITEM_PHYSICAL_SECTOR_SIZE, self.physical_sector_size.to_le_bytes().to_vec(), 6),
        ];
        if let Kind::Differencing { locator } = &self.kind {
            items.push((ITEM_PARENT_LOCATOR, super::encode::parent_locator(locator), 4));
        }
        let m = 2 * MIB as usize;
        file[m..m + 8].copy_from_slice(b"metadata");
        file[m + 10..m + 12].copy_from_slice(&(items.len() as u16).to_le_bytes());
        let mut item_at = 0x10000usize;
        for (k, (g, bytes, flags)) in items.iter().enumerate() {
            let e = m + 32 + 32 * k;
            file[e..e + 16].copy_from_slice(&g.0);
            file[e + 16..e + 20].copy_from_slice(&(item_at as u32).to_le_bytes());
            file[e + 20..e + 24].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
            file[e + 24..e + 28].copy_from_slice(&flags.to_le_bytes());
            file[m + item_at..m + item_at + bytes.len()].copy_from_slice(bytes);
            item_at += bytes.len().div_ceil(8) * 8;
        }
        file
    }
}

fn state_bits(s: BlockState) -> u64 {
    u64::from(s.code() & 7)
}

/// A log of two entries (sequence numbers 100 and 101) whose data descriptors write `sectors`
/// (each 4 KiB at a file offset), split between the entries; `file_len` is the file's length.
pub fn write_log(sectors: &[(u64, Vec<u8>)], log_guid: Guid, file_len: u64) -> Vec<u8> {
    let half = sectors.len().div_ceil(2);
    let mut log = Vec::new();
    for (k, part) in [&sectors[..half], &sectors[half..]].into_iter().enumerate() {
        let seq = 100 + k as u64;
        let n = part.len();
        let desc_sectors = (64 + 32 * n).div_ceil(4096);
        let len = (desc_sectors + n) * 4096;
        let mut e = vec![0u8; len];
        e[0..4].copy_from_slice(b"loge");
        e[8..12].copy_from_slice(&(len as u32).to_le_bytes());
        e[12..16].copy_from_slice(&0u32.to_le_bytes()); // tail: the first entry, at 0
        e[16..24].copy_from_slice(&seq.to_le_bytes());
        e[24..28].copy_from_slice(&(n as u32).to_le_bytes());
        e[32..48].copy_from_slice(&log_guid.0);
        e[48..56].copy_from_slice(&file_len.to_le_bytes());
        e[56..64].copy_from_slice(&file_len.to_le_bytes());
        for (i, (off, s)) in part.iter().enumerate() {
            let d = 64 + 32 * i;
            e[d..d + 4].copy_from_slice(b"desc");
            e[d + 4..d + 8].copy_from_slice(&s[4092..4096]);
            e[d + 8..d + 16].copy_from_slice(&s[..8]);
            e[d + 16..d + 24].copy_from_slice(&off.to_le_bytes());
            e[d + 24..d + 32].copy_from_slice(&seq.to_le_bytes());
            let ds = (desc_sectors + i) * 4096;
            e[ds..ds + 4].copy_from_slice(b"data");
            e[ds + 4..ds + 8].copy_from_slice(&((seq >> 32) as u32).to_le_bytes());
            e[ds + 8..ds + 4092].copy_from_slice(&s[8..4092]);
            e[ds + 4092..ds + 4096].copy_from_slice(&(seq as u32).to_le_bytes());
        }
        let crc = crc32c_with_zeroed(&e, 4);
        e[4..8].copy_from_slice(&crc.to_le_bytes());
        log.extend_from_slice(&e);
    }
    log
}
