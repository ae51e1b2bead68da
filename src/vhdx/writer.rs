//! The project's own VHDX writer, for tests and fuzz seeds: fixed, dynamic and differencing
//! disks with 512- or 4096-byte logical sectors, any block state, and a dirty log whose entries
//! hold the BAT (so that the file read as stored and the file read after replay differ). Other
//! tools cannot make differencing VHDX files or dirty logs; 7-Zip reads what this writes.
//!
//! The file is laid out by [`VhdxLayout`], as `convert` and `compact` lay theirs out: identifier,
//! headers and region tables in the first 320 KiB, the log at 1 MiB (1 MiB long), the metadata
//! region at 2 MiB (1 MiB), the BAT at 3 MiB, then the payload blocks in block order and the
//! sector bitmap blocks after them.

use super::format::{Guid, HEADER_OFFSETS, MIB};
use super::layout::{encode_header, VhdxLayout, VhdxParams, BAT_OFFSET, LOG_OFFSET};
use crate::crc32c::crc32c_with_zeroed;
use crate::image::BlockState;
use crate::image::WriteAt;

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

    /// The file's bytes, laid out by [`VhdxLayout`]: blocks with data placed in block order,
    /// then the sector bitmap blocks of a differencing disk.
    pub fn build(&self) -> Vec<u8> {
        let diff = matches!(self.kind, Kind::Differencing { .. });
        let mut layout = VhdxLayout::new(VhdxParams {
            size: self.size,
            block_size: self.block_size,
            logical_sector_size: self.logical_sector_size,
            physical_sector_size: self.physical_sector_size,
            fixed: self.kind == Kind::Fixed,
            data_write_guid: self.data_write_guid,
            // Derived from the DataWriteGuid, so that every file's differ.
            file_write_guid: Guid(self.data_write_guid.0.map(|b| b ^ 0x22)),
            page83: Guid(self.data_write_guid.0.map(|b| b ^ 0x83)),
            parent_locator: match &self.kind {
                Kind::Differencing { locator } => Some(locator.clone()),
                _ => None,
            },
        })
        .expect("the builder's parameters");
        let bs = u64::from(self.block_size);
        let ss = u64::from(self.logical_sector_size);

        // Which sectors each block holds, as sector bitmap bytes (least significant bit first).
        let per = (bs / ss / 8) as usize;
        let mut present: std::collections::BTreeMap<u64, Vec<u8>> = std::collections::BTreeMap::new();
        for (off, bytes) in &self.writes {
            let mut s = off / ss;
            while s * ss < off + bytes.len() as u64 {
                let i = s % (bs / ss);
                present.entry(s * ss / bs).or_insert_with(|| vec![0; per])[(i / 8) as usize] |= 1 << (i % 8);
                s += 1;
            }
        }
        for b in present.keys() {
            layout.place(*b).expect("a block of the disk");
        }
        for (b, state) in &self.states {
            if !layout.state(*b).has_data() {
                layout.set_state(*b, *state).expect("a block of the disk");
            }
        }
        let mut file = Vec::new();
        if diff {
            for (b, bits) in &present {
                layout.set_sectors(*b, bits, &mut file).expect("a placed block");
            }
        }
        for (off, bytes) in &self.writes {
            for (i, chunk) in bytes.chunks(ss as usize).enumerate() {
                let v = off + i as u64 * ss;
                let at = layout.data_offset(v / bs).expect("a placed block") + v % bs;
                let _ = file.write_at(at, chunk);
            }
        }
        for (at, bytes) in layout.finish() {
            let _ = file.write_at(at, &bytes);
        }
        let _ = WriteAt::set_len(&mut file, layout.file_len());
        if self.dirty_log {
            // The file keeps the BAT of an empty disk; the log holds the real one.
            let bat = layout.bat_bytes();
            let empty: Vec<u8> = bat
                .chunks(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
                .map(|e| if e & 7 == 6 || e & 7 == 7 { 0 } else { e })
                .flat_map(|e| e.to_le_bytes())
                .collect();
            let _ = file.write_at(BAT_OFFSET, &empty);
            let sectors: Vec<(u64, Vec<u8>)> = bat
                .chunks(4096)
                .enumerate()
                .filter(|(_, c)| c.iter().any(|b| *b != 0))
                // The 1 MiB log holds about 250 sectors: enough for the disks tests write.
                .take(200)
                .map(|(i, c)| (BAT_OFFSET + i as u64 * 4096, c.to_vec()))
                .collect();
            let log_guid = Guid([0x4c; 16]);
            let _ = file.write_at(LOG_OFFSET, &write_log(&sectors, log_guid, layout.file_len()));
            let p = layout.params();
            for (i, at) in HEADER_OFFSETS.into_iter().enumerate() {
                let _ = file.write_at(at, &encode_header(1 + i as u64, p.file_write_guid, p.data_write_guid, log_guid));
            }
        }
        file
    }
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
