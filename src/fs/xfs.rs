//! XFS (v5, and v4), read by this project's own code from "XFS Algorithms & Data Structures":
//! the superblock (its CRC checked on v5), the allocation groups' headers, inodes located by
//! their numbers, data forks in the three formats (local, extent list, B+tree extent map),
//! directories in every form (short-form in the inode; block, leaf, node and B+tree ones by
//! their data blocks, free space skipped), symlinks, times (with `bigtime`), deleted names left
//! in the free space of directory blocks, free space from the by-block free-space B+trees, and
//! whether the log was closed cleanly (the last log record is an unmount record).
//!
//! XFS is big-endian on disk, but for its CRCs (CRC-32C, stored little-endian).

use super::free::Window;
use super::survey::{joined, Facts, FileId, Structure};
use super::{join, Entry, EntryKind, FileData, FsKind, Owner, ReadVirtual, Run, Times, Volume};
use crate::bytes::{be32, be64, le32};
use crate::error::FsError;
use crate::error::{Error, Result};

/// The superblock's magic, `XFSB`.
pub const MAGIC: &[u8; 4] = b"XFSB";
/// The most extents one file's map may hold.
pub const MAX_EXTENTS: usize = 1 << 20;
/// The most blocks one B+tree walk reads (an extent map's, or a free-space tree's for one window):
/// a tree whose pointers loop or repeat stops there.
pub const MAX_MAP_BLOCKS: usize = 1 << 16;
/// The most bytes of a directory's data blocks read for one listing.
pub const MAX_DIR_BYTES: u64 = 256 << 20;
/// The deepest B+tree this reader descends (the kernel's are at most 9 levels).
pub const MAX_LEVELS: u32 = 9;
/// Where a directory's leaf blocks start in its file offsets (32 GiB): its data blocks are below.
const DIR_LEAF_OFFSET: u64 = 1 << 35;

const INCOMPAT_FTYPE: u32 = 0x1;
const INCOMPAT_SPINODES: u32 = 0x2;
const INCOMPAT_NEEDSREPAIR: u32 = 0x10;
const VERSION2_FTYPE: u32 = 0x200;
const DIFLAG2_BIGTIME: u64 = 0x8;
const DIFLAG2_NREXT64: u64 = 0x10;
/// Seconds between XFS's bigtime epoch (1901-12-13) and 1970.
const BIGTIME_EPOCH_OFFSET: i64 = 1 << 31;

/// True when the little-endian CRC-32C at `at` in `b` is that of `b` with it zeroed.
fn crc_ok(b: &[u8], at: usize) -> bool {
    at + 4 <= b.len() && crate::crc32c::crc32c_with_zeroed(b, at) == le32(b, at)
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes(crate::bytes::array(b, at))
}

/// The parts of the superblock this reader uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superblock {
    /// 4 or 5 (v5 has CRCs on every structure).
    pub version: u16,
    /// Bytes per block.
    pub block_size: u64,
    /// Blocks in the data section.
    pub blocks: u64,
    /// Blocks per allocation group (the last may be shorter).
    pub ag_blocks: u64,
    /// Allocation groups.
    pub ag_count: u64,
    /// Bytes per sector (the AG headers each take one).
    pub sector_size: u64,
    /// Bytes per inode.
    pub inode_size: u64,
    /// log2 of inodes per block.
    pub inopb_log: u32,
    /// log2 of `ag_blocks` rounded up: the bits of an AG's block numbers.
    pub agblk_log: u32,
    /// Bytes per directory block.
    pub dir_block_size: u64,
    /// The root directory's inode.
    pub root_ino: u64,
    /// The internal log's first block (a file system block number), 0 when the log is external.
    pub log_start: u64,
    /// The log's length in blocks.
    pub log_blocks: u64,
    /// Incompatible features (v5).
    pub incompat: u32,
    /// Directory entries carry the file's type.
    pub ftype: bool,
    /// The volume name.
    pub label: String,
    /// The file system's UUID, as `blkid` writes it.
    pub uuid: String,
    /// Set while mkfs is still writing the file system.
    pub in_progress: bool,
}

impl Superblock {
    /// Parses the superblock (its first sector); checks its CRC on v5.
    pub fn parse(b: &[u8]) -> std::result::Result<Superblock, String> {
        if b.len() < 512 || &b[0..4] != MAGIC {
            return Err("no XFS superblock (magic XFSB at byte 0)".into());
        }
        let version = be16(b, 0x64) & 0xF;
        if version != 4 && version != 5 {
            return Err(format!("version {version} is not 4 or 5"));
        }
        let (blocklog, sectlog, inodelog, inopblog, agblklog) =
            (u32::from(b[0x78]), u32::from(b[0x79]), u32::from(b[0x7A]), u32::from(b[0x7B]), u32::from(b[0x7C]));
        let block_size = u64::from(be32(b, 0x04));
        if !(9..=16).contains(&blocklog) || block_size != 1 << blocklog {
            return Err(format!("a block size of {block_size} (log {blocklog}) is not possible"));
        }
        let sector_size = u64::from(be16(b, 0x66));
        if !(9..=15).contains(&sectlog) || sector_size != 1 << sectlog || sector_size > block_size {
            return Err(format!("a sector size of {sector_size} is not possible"));
        }
        let inode_size = u64::from(be16(b, 0x68));
        if !(8..=11).contains(&inodelog) || inode_size != 1 << inodelog || inopblog != blocklog - inodelog {
            return Err(format!("an inode size of {inode_size} in blocks of {block_size} is not possible"));
        }
        let (ag_blocks, ag_count, blocks) = (u64::from(be32(b, 0x54)), u64::from(be32(b, 0x58)), be64(b, 0x08));
        if ag_blocks < 16 || ag_count == 0 || !(1..=31).contains(&agblklog) || ag_blocks > 1 << agblklog || blocks == 0 {
            return Err(format!("{ag_count} allocation groups of {ag_blocks} blocks (log {agblklog}) are not possible"));
        }
        if blocks > ag_blocks.saturating_mul(ag_count) || blocks.checked_mul(block_size).is_none() {
            return Err(format!("{blocks} blocks do not fit in {ag_count} groups of {ag_blocks}"));
        }
        if (b.len() as u64) < sector_size {
            return Err(format!("the superblock's sector of {sector_size} bytes was not read whole"));
        }
        let dirblklog = u32::from(b[0xC0]);
        if blocklog + dirblklog > 16 {
            return Err(format!("directory blocks of 2^{} bytes are not possible", blocklog + dirblklog));
        }
        let incompat = if version == 5 { be32(b, 0xD8) } else { 0 };
        if version == 5 && !crc_ok(&b[..sector_size as usize], 0xE0) {
            return Err(format!("its CRC-32C is not {:08x} (the superblock is damaged)", le32(b, 0xE0)));
        }
        let features2 = if be16(b, 0x64) & 0x8000 != 0 { be32(b, 0xC8) } else { 0 };
        let name = &b[0x6C..0x78];
        let label = String::from_utf8_lossy(&name[..name.iter().position(|c| *c == 0).unwrap_or(12)]).into_owned();
        Ok(Superblock {
            version,
            block_size,
            blocks,
            ag_blocks,
            ag_count,
            sector_size,
            inode_size,
            inopb_log: inopblog,
            agblk_log: agblklog,
            dir_block_size: block_size << dirblklog,
            root_ino: be64(b, 0x38),
            log_start: be64(b, 0x30),
            log_blocks: u64::from(be32(b, 0x60)),
            incompat,
            ftype: version == 5 && incompat & INCOMPAT_FTYPE != 0 || features2 & VERSION2_FTYPE != 0,
            label,
            uuid: super::ext::uuid_text(&b[0x20..0x30]),
            in_progress: b[0x7E] != 0,
        })
    }

    /// Bytes of a short-form (per-AG) B+tree block's header.
    fn short_header(&self) -> usize {
        if self.version == 5 {
            56
        } else {
            16
        }
    }

    /// Bytes of a long-form (extent map) B+tree block's header.
    fn long_header(&self) -> usize {
        if self.version == 5 {
            72
        } else {
            24
        }
    }

    /// The volume byte offset of file system block `fsb` (AG number in the high bits), if it is
    /// inside the file system.
    pub fn fsb_offset(&self, fsb: u64) -> Option<u64> {
        let (ag, agb) = (fsb >> self.agblk_log, fsb & ((1u64 << self.agblk_log) - 1));
        let lin = ag.checked_mul(self.ag_blocks)?.checked_add(agb)?;
        // `blocks * block_size` fits (checked by `parse`), so does `lin * block_size`.
        (ag < self.ag_count && agb < self.ag_blocks && lin < self.blocks).then(|| lin * self.block_size)
    }

    /// The volume byte offset of inode `ino`, if the number is possible.
    pub fn inode_offset(&self, ino: u64) -> Option<u64> {
        let off = ino & ((1u64 << self.inopb_log) - 1);
        let fsb = ino >> self.inopb_log;
        self.fsb_offset(fsb).map(|b| b + off * self.inode_size)
    }

    /// The first block of AG `ag`, in the linear numbering (`ag * ag_blocks`).
    fn ag_start(&self, ag: u64) -> u64 {
        ag * self.ag_blocks
    }
}

/// An inode's fields this reader uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inode {
    /// Its number.
    pub number: u64,
    /// Where it is on the volume.
    pub at: u64,
    /// Mode (type and permissions); 0 for a free inode.
    pub mode: u16,
    /// 1 local, 2 extents, 3 B+tree.
    pub format: u8,
    /// Size in bytes.
    pub size: u64,
    /// Extents in the data fork.
    pub nextents: u64,
    /// Generation.
    pub gen: u32,
    /// Times: access, modification, change, creation (v5), seconds since 1970.
    pub times: [Option<i64>; 4],
    /// The data fork's bytes.
    pub fork: Vec<u8>,
    /// The raw core (for comparisons).
    pub core: Vec<u8>,
}

impl Inode {
    /// What it is.
    pub fn kind(&self) -> EntryKind {
        match self.mode & 0xF000 {
            0x4000 => EntryKind::Dir,
            0x8000 => EntryKind::File,
            0xA000 => EntryKind::Symlink,
            _ => EntryKind::Other,
        }
    }
}

/// A time stamp as stored: seconds and nanoseconds, or with bigtime nanoseconds since 1901.
fn stamp(b: &[u8], at: usize, big: bool) -> i64 {
    if big {
        (be64(b, at) / 1_000_000_000) as i64 - BIGTIME_EPOCH_OFFSET
    } else {
        i64::from(be32(b, at) as i32)
    }
}

/// One extent of a data fork: (file block, blocks, file system block or `None` when unwritten).
pub type Extent = (u64, u64, Option<u64>);

/// Parses a 16-byte packed extent record.
pub fn extent(r: &[u8]) -> Extent {
    let (l0, l1) = (be64(r, 0), be64(r, 8));
    let startoff = (l0 & 0x7FFF_FFFF_FFFF_FFFF) >> 9;
    let startblock = ((l0 & 0x1FF) << 43) | (l1 >> 21);
    let count = l1 & 0x1F_FFFF;
    (startoff, count, (l0 >> 63 == 0).then_some(startblock))
}

/// An opened XFS volume.
#[derive(Debug, Clone)]
pub struct Xfs {
    /// The superblock.
    pub sb: Superblock,
    /// Which file holds which blocks, made by the first [`Xfs::owner`] (as ext's).
    owners: Option<std::result::Result<super::RunIndex, ()>>,
}

impl Xfs {
    /// Reads the superblock.
    pub fn open<R: ReadVirtual>(vol: &mut Volume<R>) -> Result<Xfs> {
        let head = vol.read_vec(0, 512)?;
        let sect = u64::from(be16(&head, 0x66)).clamp(512, 1 << 15);
        let raw = if sect > 512 { vol.read_vec(0, sect as usize)? } else { head };
        let sb = Superblock::parse(&raw).map_err(|damage| FsError::XfsSuperblock { offset: vol.start(), damage })?;
        Ok(Xfs { sb, owners: None })
    }

    /// Bytes per block.
    pub fn block_size(&self) -> u64 {
        self.sb.block_size
    }

    /// The volume name.
    pub fn label(&self) -> Option<String> {
        Some(self.sb.label.clone()).filter(|l| !l.is_empty())
    }

    fn bad(&self, vol_start: u64, at: u64, message: String) -> Error {
        FsError::XfsDamaged { offset: vol_start + at, message }.into()
    }

    /// The root directory.
    pub fn root(&self) -> Entry {
        Entry::root(self.sb.root_ino, None)
    }

    /// Reads inode `n`.
    pub fn inode<R: ReadVirtual>(&self, vol: &mut Volume<R>, n: u64) -> Result<Inode> {
        let sb = &self.sb;
        let at = sb.inode_offset(n).ok_or_else(|| self.bad(vol.start(), 0, format!("inode {n} is outside the file system")))?;
        let raw = vol.read_vec(at, sb.inode_size as usize)?;
        if &raw[0..2] != b"IN" {
            return Err(self.bad(vol.start(), at, format!("inode {n} lacks the magic IN")));
        }
        let version = raw[4];
        if sb.version == 5 && (version != 3 || !crc_ok(&raw, 0x64)) {
            return Err(self.bad(vol.start(), at, format!("inode {n}'s CRC-32C is wrong (the inode is damaged)")));
        }
        let core = if version >= 3 { 176 } else { 100 };
        let forkoff = usize::from(raw[0x52]) * 8;
        let fork_len = if forkoff != 0 { forkoff } else { raw.len() - core };
        if core + fork_len > raw.len() {
            return Err(self.bad(vol.start(), at, format!("inode {n}'s attribute fork offset {forkoff} is past the inode")));
        }
        let flags2 = if version >= 3 { be64(&raw, 0x78) } else { 0 };
        let big = flags2 & DIFLAG2_BIGTIME != 0;
        let nextents = if flags2 & DIFLAG2_NREXT64 != 0 { be64(&raw, 0x18) } else { u64::from(be32(&raw, 0x4C)) };
        Ok(Inode {
            number: n,
            at,
            mode: be16(&raw, 2),
            format: raw[5],
            size: be64(&raw, 0x38),
            nextents,
            gen: be32(&raw, 0x5C),
            times: [
                Some(stamp(&raw, 0x20, big)),
                Some(stamp(&raw, 0x28, big)),
                Some(stamp(&raw, 0x30, big)),
                (version >= 3).then(|| stamp(&raw, 0x90, big)),
            ],
            fork: raw[core..core + fork_len].to_vec(),
            core: raw[..core].to_vec(),
        })
    }

    /// The extents of an inode's data fork, in file order: its extent list, or the leaves of its
    /// B+tree extent map (bounded in blocks read and levels).
    pub fn extents<R: ReadVirtual>(&self, vol: &mut Volume<R>, ino: &Inode) -> Result<Vec<Extent>> {
        let n = ino.number;
        let mut out = Vec::new();
        match ino.format {
            2 => {
                if ino.nextents > (ino.fork.len() / 16) as u64 {
                    return Err(self.bad(vol.start(), ino.at, format!("inode {n} claims {} extents, more than fit in it", ino.nextents)));
                }
                out.extend(ino.fork.chunks_exact(16).take(ino.nextents as usize).map(extent));
            }
            3 => {
                let f = &ino.fork;
                let (level, recs) = (u32::from(be16(f, 0)), usize::from(be16(f, 2)));
                let maxrecs = f.len().saturating_sub(4) / 16;
                if level == 0 || level > MAX_LEVELS || recs > maxrecs {
                    return Err(self.bad(
                        vol.start(),
                        ino.at,
                        format!("inode {n}'s extent map root claims level {level} and {recs} records"),
                    ));
                }
                let ptrs: Vec<u64> = (0..recs).map(|k| be64(f, 4 + maxrecs * 8 + 8 * k)).collect();
                let mut blocks_read = 0usize;
                self.bmbt(vol, (n, ino.at), &ptrs, level - 1, &mut out, &mut blocks_read)?;
            }
            _ => return Err(self.bad(vol.start(), ino.at, format!("inode {n}'s data fork is in format {}, not extents", ino.format))),
        }
        Ok(out)
    }

    /// Appends the extents under extent map blocks `ptrs` (of level `level`) of inode `n` (at
    /// volume byte `ino_at`), counting the blocks read in `read`.
    fn bmbt<R: ReadVirtual>(
        &self,
        vol: &mut Volume<R>,
        (n, ino_at): (u64, u64),
        ptrs: &[u64],
        level: u32,
        out: &mut Vec<Extent>,
        read: &mut usize,
    ) -> Result<()> {
        let bs = self.sb.block_size as usize;
        let hdr = self.sb.long_header();
        for &p in ptrs {
            *read += 1;
            if *read > MAX_MAP_BLOCKS {
                return Err(self.bad(
                    vol.start(),
                    ino_at,
                    format!("inode {n}'s extent map has more than {MAX_MAP_BLOCKS} blocks (or loops)"),
                ));
            }
            let at = self.sb.fsb_offset(p).ok_or_else(|| {
                self.bad(vol.start(), ino_at, format!("inode {n}'s extent map points at block {p}, outside the file system"))
            })?;
            let b = vol.read_vec(at, bs)?;
            let magic = if self.sb.version == 5 { b"BMA3" } else { b"BMAP" };
            let (lv, recs) = (u32::from(be16(&b, 4)), usize::from(be16(&b, 6)));
            if &b[0..4] != magic || lv != level {
                return Err(self.bad(
                    vol.start(),
                    at,
                    format!("inode {n}'s extent map block {p} is not a {} block of level {level}", String::from_utf8_lossy(magic)),
                ));
            }
            if self.sb.version == 5 && (!crc_ok(&b, 0x40) || be64(&b, 0x38) != n) {
                return Err(self.bad(vol.start(), at, format!("inode {n}'s extent map block {p} has a wrong CRC-32C or owner")));
            }
            if level == 0 {
                if recs > (bs - hdr) / 16 {
                    return Err(self.bad(vol.start(), at, format!("extent map block {p} claims {recs} records")));
                }
                out.extend(b[hdr..hdr + recs * 16].chunks_exact(16).map(extent));
                if out.len() > MAX_EXTENTS {
                    return Err(self.bad(vol.start(), at, format!("inode {n} has more than {MAX_EXTENTS} extents")));
                }
            } else {
                let maxrecs = (bs - hdr) / 16;
                if recs > maxrecs {
                    return Err(self.bad(vol.start(), at, format!("extent map block {p} claims {recs} records")));
                }
                let child: Vec<u64> = (0..recs).map(|k| be64(&b, hdr + maxrecs * 8 + 8 * k)).collect();
                self.bmbt(vol, (n, ino_at), &child, level - 1, out, read)?;
            }
        }
        Ok(())
    }

    /// The runs of the first `size` bytes of an inode's data fork.
    pub fn runs<R: ReadVirtual>(&self, vol: &mut Volume<R>, ino: &Inode, size: u64) -> Result<Vec<Run>> {
        let bs = self.sb.block_size;
        // XFS files end below 2^63 bytes: a larger size (a damaged inode) is cut there, so that
        // no block number times the block size overflows.
        let need = size.min(i64::MAX as u64).div_ceil(bs);
        let mut ext = self.extents(vol, ino)?;
        ext.sort_by_key(|e| e.0);
        let mut runs = Vec::new();
        let mut pos = 0u64;
        for (off, count, phys) in ext {
            if off >= need || count == 0 {
                continue;
            }
            if off < pos {
                return Err(self.bad(vol.start(), ino.at, format!("inode {}'s extents overlap at file block {off}", ino.number)));
            }
            if off > pos {
                runs.push(Run { file_offset: pos * bs, len: (off - pos) * bs, volume_offset: None });
            }
            let count = count.min(need - off);
            let at = match phys {
                Some(p) => {
                    let a = self.sb.fsb_offset(p).filter(|_| (p & ((1 << self.sb.agblk_log) - 1)) + count <= self.sb.ag_blocks);
                    Some(a.ok_or_else(|| {
                        self.bad(
                            vol.start(),
                            ino.at,
                            format!("inode {}'s extent at block {p} ({count} blocks) lies outside the file system", ino.number),
                        )
                    })?)
                }
                None => None,
            };
            Run::push(&mut runs, Run { file_offset: off * bs, len: count * bs, volume_offset: at });
            pos = off + count;
        }
        if pos < need {
            runs.push(Run { file_offset: pos * bs, len: (need - pos) * bs, volume_offset: None });
        }
        Ok(runs)
    }

    fn inode_data<R: ReadVirtual>(&self, vol: &mut Volume<R>, ino: &Inode) -> Result<FileData> {
        if ino.format == 1 {
            if ino.size > ino.fork.len() as u64 {
                return Err(self.bad(
                    vol.start(),
                    ino.at,
                    format!("inode {} keeps {} bytes in a fork of {}", ino.number, ino.size, ino.fork.len()),
                ));
            }
            return Ok(FileData::Inline(ino.fork[..ino.size as usize].to_vec()));
        }
        if ino.kind() == EntryKind::Symlink {
            // On v5 each remote symlink block starts with a 56-byte header (XSLM); mkfs.xfs -p
            // (xfsprogs 6.1) writes them without it, which is read as v4's plain blocks.
            if ino.size > 1024 {
                return Err(self.bad(
                    vol.start(),
                    ino.at,
                    format!("symlink inode {} claims {} bytes (at most 1024)", ino.number, ino.size),
                ));
            }
            let need = ino.size as usize;
            let bs = self.sb.block_size;
            let len = ino.size.div_ceil(bs - 56) * bs;
            let runs = self.runs(vol, ino, len)?;
            let mut blocks = Vec::new();
            super::read_data(vol, &FileData::Runs { runs, size: len }, &mut |b| {
                blocks.extend_from_slice(b);
                Ok(())
            })?;
            if self.sb.version == 4 || blocks.get(0..4) != Some(b"XSLM".as_slice()) {
                blocks.truncate(need);
                return Ok(FileData::Inline(blocks));
            }
            let mut target = Vec::new();
            for blk in blocks.chunks(bs as usize) {
                if target.len() >= need {
                    break;
                }
                if blk.len() < 56 || &blk[0..4] != b"XSLM" {
                    return Err(self.bad(vol.start(), ino.at, format!("symlink inode {}'s block lacks the magic XSLM", ino.number)));
                }
                let n = (be32(blk, 8) as usize).min(blk.len() - 56).min(need - target.len());
                target.extend_from_slice(&blk[56..56 + n]);
            }
            return Ok(FileData::Inline(target));
        }
        let runs = self.runs(vol, ino, ino.size)?;
        Ok(FileData::Runs { runs, size: ino.size })
    }

    fn entry(&self, dir: &str, name: &str, ino: &Inode, deleted: bool) -> Entry {
        let kind = ino.kind();
        Entry {
            name: name.to_string(),
            path: join(dir, name),
            kind,
            size: if kind == EntryKind::Dir { 0 } else { ino.size },
            modified: ino.times[1],
            deleted,
            id: ino.number,
            attributes: Vec::new(),
            entry_offset: None,
            streams: Vec::new(),
            exfat: None,
        }
    }

    /// A directory's names: (inode, name, file type, deleted).
    fn names<R: ReadVirtual>(&self, vol: &mut Volume<R>, ino: &Inode, deleted: bool) -> Result<Vec<(u64, String, u8, bool)>> {
        let mut found = Vec::new();
        let ft = usize::from(self.sb.ftype);
        if ino.format == 1 {
            // Short form: count, count of 8-byte inode numbers, parent, then the entries.
            let f = &ino.fork;
            let (count, i8) = (usize::from(f.first().copied().unwrap_or(0)), f.get(1).copied().unwrap_or(0));
            let isz = if i8 > 0 { 8 } else { 4 };
            let num = |b: &[u8], at: usize| if isz == 8 { be64(b, at) } else { u64::from(be32(b, at)) };
            let mut at = 2 + isz;
            for _ in 0..count.max(usize::from(i8)) {
                let Some(&nl) = f.get(at) else { break };
                let nl = usize::from(nl);
                let end = at + 3 + nl + ft + isz;
                if nl == 0 || end > f.len() {
                    return Err(self.bad(
                        vol.start(),
                        ino.at,
                        format!("directory inode {}'s short-form entries run past its fork", ino.number),
                    ));
                }
                let name = String::from_utf8_lossy(&f[at + 3..at + 3 + nl]).into_owned();
                let t = if ft == 1 { f[at + 3 + nl] } else { 0 };
                found.push((num(f, at + 3 + nl + ft), name, t, false));
                at = end;
            }
            return Ok(found);
        }
        let size = ino.size.min(DIR_LEAF_OFFSET).min(MAX_DIR_BYTES);
        let data = FileData::Runs { runs: self.runs(vol, ino, size)?, size };
        let dbs = self.sb.dir_block_size as usize;
        let mut block = Vec::with_capacity(dbs);
        let mut result = Ok(());
        super::read_data(vol, &data, &mut |b| {
            let mut b = b;
            while !b.is_empty() {
                let n = (dbs - block.len()).min(b.len());
                block.extend_from_slice(&b[..n]);
                b = &b[n..];
                if block.len() == dbs {
                    if found.len() < super::MAX_DIR_ENTRIES {
                        if let Err(e) = self.data_block(&block, deleted, &mut found) {
                            result = Err(e);
                        }
                    }
                    block.clear();
                }
            }
            Ok(())
        })?;
        result.map_err(|m| self.bad(vol.start(), ino.at, format!("directory inode {}: {m}", ino.number)))?;
        Ok(found)
    }

    /// The entries of one directory data block (`XDB3`/`XD2B` block form, `XDD3`/`XD2D` data).
    fn data_block(&self, b: &[u8], deleted: bool, found: &mut Vec<(u64, String, u8, bool)>) -> std::result::Result<(), String> {
        let v5 = self.sb.version == 5;
        let (hdr, end) = match &b[0..4] {
            b"XDB3" | b"XD2B" => {
                let count = be32(b, b.len() - 8) as usize;
                (
                    if v5 { 64 } else { 16 },
                    b.len().checked_sub(8 + count.saturating_mul(8)).ok_or("a block directory's leaf count is larger than its block")?,
                )
            }
            b"XDD3" | b"XD2D" => (if v5 { 64 } else { 16 }, b.len()),
            _ => return Ok(()), // a hole, or not yet a data block
        };
        let ft = usize::from(self.sb.ftype);
        let mut at = hdr;
        // A free tag takes 8 bytes at least, an entry 9 before its name (its name length at 8).
        while at + 8 <= end {
            if be16(b, at) == 0xFFFF {
                let len = usize::from(be16(b, at + 2));
                if len < 8 || len % 8 != 0 || at + len > end {
                    return Err(format!("a free space of {len} bytes at byte {at} of a directory block"));
                }
                if deleted {
                    self.freed_names(b, at, at + len, found);
                }
                at += len;
                continue;
            }
            let Some(&nl) = b.get(at + 8).filter(|_| at + 9 <= end) else {
                return Err(format!("an entry at byte {at} of a directory block runs past it"));
            };
            let nl = usize::from(nl);
            let size = (8 + 1 + nl + ft + 2).div_ceil(8) * 8;
            if nl == 0 || at + size > end {
                return Err(format!("an entry at byte {at} of a directory block runs past it"));
            }
            let name = String::from_utf8_lossy(&b[at + 9..at + 9 + nl]).into_owned();
            let t = if ft == 1 { b[at + 9 + nl] } else { 0 };
            if name != "." && name != ".." {
                found.push((be64(b, at), name, t, false));
            }
            at += size;
        }
        Ok(())
    }

    /// Names of removed entries in the free space `[from, to)` of a directory block: a removed
    /// entry keeps its name, type and the low 32 bits of its inode number (the free tag and
    /// length overwrite the high ones), and its tag (its own offset) at its end.
    fn freed_names(&self, b: &[u8], from: usize, to: usize, found: &mut Vec<(u64, String, u8, bool)>) {
        let ft = usize::from(self.sb.ftype);
        let mut p = from;
        while p + 16 <= to {
            let nl = usize::from(b[p + 8]);
            let size = (8 + 1 + nl + ft + 2).div_ceil(8) * 8;
            let ok = nl > 0
                && p + size <= to
                && usize::from(be16(b, p + size - 2)) == p
                && b[p + 9..p + 9 + nl].iter().all(|c| *c != 0 && *c != b'/');
            if ok {
                let hi = if p == from { 0 } else { u64::from(be32(b, p)) };
                let ino = hi << 32 | u64::from(be32(b, p + 4));
                if self.sb.inode_offset(ino).is_some() {
                    let name = String::from_utf8_lossy(&b[p + 9..p + 9 + nl]).into_owned();
                    found.push((ino, name, if ft == 1 { b[p + 9 + nl] } else { 0 }, true));
                }
                p += size;
            } else {
                p += 8;
            }
        }
    }

    /// The entries of directory `dir`; with `deleted`, names left in the free space of its
    /// blocks too, with the type the entry kept, size 0 and no data (their inodes are freed,
    /// or reused by another file since), modified when the inode was freed (its change time).
    pub fn list<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, dir: &Entry, deleted: bool) -> Result<Vec<Entry>> {
        let ino = self.inode(vol, dir.id)?;
        if ino.kind() != EntryKind::Dir {
            return Err(self.bad(vol.start(), ino.at, format!("{} (inode {}) is not a directory", dir.path, dir.id)));
        }
        let mut out = Vec::new();
        for (n, name, ftype, del) in self.names(vol, &ino, deleted)? {
            match self.inode(vol, n) {
                Ok(i) if !del && i.mode != 0 => out.push(self.entry(&dir.path, &name, &i, false)),
                Ok(i) if del => {
                    // The inode was freed (or reused since): the entry's own type, no data.
                    let kind = match ftype {
                        1 => EntryKind::File,
                        2 => EntryKind::Dir,
                        7 => EntryKind::Symlink,
                        _ => EntryKind::Other,
                    };
                    let modified = if i.mode == 0 { i.times[2] } else { None };
                    out.push(Entry { kind, size: 0, modified, ..self.entry(&dir.path, &name, &i, true) });
                }
                Ok(i) => return Err(self.bad(vol.start(), i.at, format!("{} names inode {n}, which is free", join(&dir.path, &name)))),
                Err(e) if !del => return Err(e),
                Err(_) => {}
            }
        }
        Ok(out)
    }

    /// Where the bytes of `e` are; none for a deleted entry (XFS frees its inode's extents).
    pub fn data<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, e: &Entry) -> Result<FileData> {
        if e.deleted {
            return Ok(FileData::Inline(Vec::new()));
        }
        let ino = self.inode(vol, e.id)?;
        self.inode_data(vol, &ino)
    }

    /// The times in `e`'s inode.
    pub fn times<R: ReadVirtual>(&self, vol: &mut Volume<R>, e: &Entry) -> Result<Times> {
        let t = self.inode(vol, e.id)?.times;
        Ok(Times { accessed: t[0], modified: t[1], changed: t[2], created: t[3] })
    }

    /// Calls `each` with every directory and file under the root and its runs (a directory's
    /// data blocks first, then its files; each directory once, at most [`super::MAX_DEPTH`]
    /// deep); `each` returns false to stop.
    fn each_owned<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, each: &mut dyn FnMut(&Entry, &[Run]) -> bool) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![(self.root(), 0usize)];
        while let Some((dir, depth)) = stack.pop() {
            if !seen.insert(dir.id) {
                continue;
            }
            let dino = self.inode(vol, dir.id)?;
            if dino.format != 1 {
                if let Ok(runs) = self.runs(vol, &dino, DIR_LEAF_OFFSET.saturating_mul(2)) {
                    if !each(&dir, &runs) {
                        return Ok(());
                    }
                }
            }
            if depth >= super::MAX_DEPTH {
                continue;
            }
            for e in self.list(vol, &dir, false)? {
                if e.kind == EntryKind::Dir {
                    stack.push((e, depth + 1));
                    continue;
                }
                let Ok(ino) = self.inode(vol, e.id) else { continue };
                if ino.format == 2 || ino.format == 3 {
                    if let Ok(runs) = self.runs(vol, &ino, ino.size.max(1)) {
                        if !each(&e, &runs) {
                            return Ok(());
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// What owns byte `offset` of the volume: an AG header, the log, a file or directory, a
    /// block told by its magic (B+tree blocks, inode chunks, directory leaves), or free space.
    pub fn owner<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, offset: u64) -> Result<Owner> {
        let sb = self.sb.clone();
        let bs = sb.block_size;
        let lin = offset / bs;
        let (ag, agb) = (lin / sb.ag_blocks, lin % sb.ag_blocks);
        if lin >= sb.blocks {
            return Ok(Owner::structure("past the file system's end"));
        }
        let in_ag = offset - sb.ag_start(ag) * bs;
        if in_ag < 4 * sb.sector_size {
            let what =
                ["superblock", "AGF (free space header)", "AGI (inode header)", "AGFL (free list)"][(in_ag / sb.sector_size) as usize];
            return Ok(Owner::structure(if ag == 0 && in_ag < sb.sector_size { what.to_string() } else { format!("{what} of AG {ag}") }));
        }
        if agb < (4 * sb.sector_size).div_ceil(bs) {
            return Ok(Owner::structure(format!("AG {ag} headers' block")));
        }
        if sb.log_start != 0 {
            if let Some(l) = sb.fsb_offset(sb.log_start) {
                if offset >= l && offset - l < sb.log_blocks * bs {
                    return Ok(Owner::structure("log"));
                }
            }
        }
        if self.owners.is_none() {
            let mut ix = super::RunIndex::default();
            let mut path_bytes = 0usize;
            let mut full = false;
            self.each_owned(vol, &mut |e, runs| {
                path_bytes += e.path.len();
                full = path_bytes > super::ext::MAX_OWNER_PATH_BYTES || !ix.add(Owner::of(e, 0), runs);
                !full
            })?;
            self.owners = Some(if full { Err(()) } else { Ok(ix.finish()) });
        }
        if let Some(Ok(ix)) = &self.owners {
            if let Some(o) = ix.lookup(offset) {
                return Ok(o);
            }
        } else {
            let mut found = None;
            self.each_owned(vol, &mut |e, runs| {
                found = super::in_runs(runs, offset).map(|at| Owner::of(e, at));
                found.is_none()
            })?;
            if let Some(o) = found {
                return Ok(o);
            }
        }
        let mut free = Vec::new();
        let (start, end) = (lin * bs, (lin + 1) * bs);
        if self.free_runs(vol, ag, agb, agb + 1, &mut |a, n| free.push((a, n))).is_ok() && !free.is_empty() {
            return Ok(Owner::free(format!("block {lin}: free")));
        }
        let blk = vol.read_vec(start, (end - start) as usize)?;
        let what = match &blk[0..4] {
            b"AB3B" | b"ABTB" => format!("free-space B+tree (by block) of AG {ag}"),
            b"AB3C" | b"ABTC" => format!("free-space B+tree (by size) of AG {ag}"),
            b"IAB3" | b"IABT" => format!("inode B+tree of AG {ag}"),
            b"FIB3" | b"FIBT" => format!("free inode B+tree of AG {ag}"),
            b"RMB3" => format!("reverse-mapping B+tree of AG {ag}"),
            b"R3FC" => format!("reference-count B+tree of AG {ag}"),
            b"BMA3" | b"BMAP" => format!("extent map B+tree block of inode {}", if sb.version == 5 { be64(&blk, 0x38) } else { 0 }),
            b"XDB3" | b"XD2B" | b"XDD3" | b"XD2D" => "directory data block".to_string(),
            b"XDF3" | b"XD2F" => "directory free-index block".to_string(),
            _ if &blk[8..10] == b"\xd2\xf1" || &blk[8..10] == b"\xd2\xff" || &blk[8..10] == b"\x3d\xf1" || &blk[8..10] == b"\x3d\xff" => {
                "directory leaf or node block".to_string()
            }
            _ if &blk[0..2] == b"IN" => {
                let first = ((ag << sb.agblk_log) | agb) << sb.inopb_log;
                format!("inode chunk (inodes {first}..{})", first + (1 << sb.inopb_log) - 1)
            }
            _ => {
                return Ok(Owner {
                    kind: "unknown",
                    ..Owner::structure(format!("block {lin}: in use, but no file's extents hold it and its contents name no structure"))
                })
            }
        };
        Ok(Owner::structure(what))
    }

    /// Calls `each(first AG block, blocks)` with the free extents of AG `ag` that meet AG blocks
    /// `[lo, hi)`, from its by-block free-space B+tree (bounded in blocks read and levels).
    fn free_runs<R: ReadVirtual>(&self, vol: &mut Volume<R>, ag: u64, lo: u64, hi: u64, each: &mut dyn FnMut(u64, u64)) -> Result<()> {
        let sb = &self.sb;
        let (bs, ss) = (sb.block_size, sb.sector_size);
        if ag >= sb.ag_count || sb.ag_start(ag) >= sb.blocks {
            return Ok(());
        }
        let agf_at = sb.ag_start(ag) * bs + ss;
        let agf = vol.read_vec(agf_at, ss as usize)?;
        if &agf[0..4] != b"XAGF" || u64::from(be32(&agf, 8)) != ag {
            return Err(self.bad(vol.start(), agf_at, format!("AG {ag}'s AGF lacks the magic XAGF or its number")));
        }
        if sb.version == 5 && !crc_ok(&agf, 0xD8) {
            return Err(self.bad(vol.start(), agf_at, format!("AG {ag}'s AGF has a wrong CRC-32C")));
        }
        let (root, levels) = (u64::from(be32(&agf, 0x10)), be32(&agf, 0x1C));
        if levels == 0 || levels > MAX_LEVELS {
            return Err(self.bad(vol.start(), agf_at, format!("AG {ag}'s free-space B+tree claims {levels} levels")));
        }
        let hdr = sb.short_header();
        let magic: &[u8; 4] = if sb.version == 5 { b"AB3B" } else { b"ABTB" };
        let mut stack = vec![(root, levels - 1)];
        let mut budget = sb.ag_blocks.min(MAX_MAP_BLOCKS as u64);
        while let Some((b, level)) = stack.pop() {
            if b >= sb.ag_blocks || sb.ag_start(ag) + b >= sb.blocks || budget == 0 {
                return Err(self.bad(
                    vol.start(),
                    agf_at,
                    format!("AG {ag}'s free-space B+tree points at block {b}, outside the AG, or loops"),
                ));
            }
            budget -= 1;
            let at = (sb.ag_start(ag) + b) * bs;
            let blk = vol.read_vec(at, bs as usize)?;
            let (lv, recs) = (u32::from(be16(&blk, 4)), usize::from(be16(&blk, 6)));
            if &blk[0..4] != magic || lv != level || (sb.version == 5 && !crc_ok(&blk, 0x34)) {
                return Err(self.bad(
                    vol.start(),
                    at,
                    format!("AG {ag}'s free-space B+tree block {b} is damaged (magic, level or CRC-32C)"),
                ));
            }
            let space = bs as usize - hdr;
            if level == 0 {
                if recs > space / 8 {
                    return Err(self.bad(vol.start(), at, format!("free-space B+tree block {b} claims {recs} records")));
                }
                for k in 0..recs {
                    let (s, n) = (u64::from(be32(&blk, hdr + 8 * k)), u64::from(be32(&blk, hdr + 8 * k + 4)));
                    if s.saturating_add(n) > lo && s < hi && s + n <= sb.ag_blocks {
                        each(s, n);
                    }
                }
            } else {
                let maxrecs = space / 12;
                if recs > maxrecs {
                    return Err(self.bad(vol.start(), at, format!("free-space B+tree block {b} claims {recs} records")));
                }
                // Children whose key range meets [lo, hi): from the last key at or below lo.
                let keys: Vec<u64> = (0..recs).map(|k| u64::from(be32(&blk, hdr + 8 * k))).collect();
                let first = keys.partition_point(|&k| k <= lo).saturating_sub(1);
                for k in (first..recs).rev() {
                    if keys[k] < hi {
                        stack.push((u64::from(be32(&blk, hdr + maxrecs * 8 + 4 * k)), level - 1));
                    }
                }
            }
        }
        Ok(())
    }

    /// The structures, for a comparison: each AG's headers (superblock, AGF, AGI, AGFL), its
    /// allocated inode chunks (from its inode B+tree), and the internal log.
    pub fn structures<R: ReadVirtual>(&self, vol: &mut Volume<R>) -> Vec<Structure> {
        let sb = &self.sb;
        let bs = sb.block_size;
        let mut out: Vec<Structure> = Vec::new();
        for ag in 0..sb.ag_count.min(1 << 16) {
            if sb.ag_start(ag) >= sb.blocks {
                break;
            }
            let at = sb.ag_start(ag) * bs;
            out.push((at, at + 4 * sb.sector_size, "AG headers (superblock, AGF, AGI, AGFL)"));
            // Damaged inode B+trees add no chunks: the chunks are named where they can be read.
            let _ = self.inode_chunks(vol, ag, &mut |a, b| out.push((a, b, "inode chunks")));
        }
        if let Some(l) = sb.fsb_offset(sb.log_start).filter(|_| sb.log_start != 0) {
            out.push((l, l.saturating_add(sb.log_blocks * bs), "log"));
        }
        out
    }

    /// Calls `each(start, end)` with the volume bytes of AG `ag`'s allocated inode chunks (64
    /// inodes each, less a sparse chunk's holes of 4), from its inode B+tree (bounded as
    /// [`Xfs::free_runs`]).
    fn inode_chunks<R: ReadVirtual>(&self, vol: &mut Volume<R>, ag: u64, each: &mut dyn FnMut(u64, u64)) -> Result<()> {
        let sb = &self.sb;
        let (bs, ss) = (sb.block_size, sb.sector_size);
        let agi_at = sb.ag_start(ag) * bs + 2 * ss;
        let agi = vol.read_vec(agi_at, ss as usize)?;
        if &agi[0..4] != b"XAGI" || u64::from(be32(&agi, 8)) != ag || (sb.version == 5 && !crc_ok(&agi, 0x138)) {
            return Err(self.bad(vol.start(), agi_at, format!("AG {ag}'s AGI lacks the magic XAGI, its number or its CRC-32C")));
        }
        let (root, levels) = (u64::from(be32(&agi, 0x14)), be32(&agi, 0x18));
        if levels == 0 || levels > MAX_LEVELS {
            return Err(self.bad(vol.start(), agi_at, format!("AG {ag}'s inode B+tree claims {levels} levels")));
        }
        let sparse = sb.incompat & INCOMPAT_SPINODES != 0;
        let hdr = sb.short_header();
        let magic: &[u8; 4] = if sb.version == 5 { b"IAB3" } else { b"IABT" };
        let mut stack = vec![(root, levels - 1)];
        let mut budget = MAX_MAP_BLOCKS;
        while let Some((b, level)) = stack.pop() {
            if b >= sb.ag_blocks || sb.ag_start(ag) + b >= sb.blocks || budget == 0 {
                return Err(self.bad(vol.start(), agi_at, format!("AG {ag}'s inode B+tree points at block {b}, outside the AG, or loops")));
            }
            budget -= 1;
            let at = (sb.ag_start(ag) + b) * bs;
            let blk = vol.read_vec(at, bs as usize)?;
            let (lv, recs) = (u32::from(be16(&blk, 4)), usize::from(be16(&blk, 6)));
            if &blk[0..4] != magic || lv != level || (sb.version == 5 && !crc_ok(&blk, 0x34)) {
                return Err(self.bad(vol.start(), at, format!("AG {ag}'s inode B+tree block {b} is damaged (magic, level or CRC-32C)")));
            }
            let space = bs as usize - hdr;
            if level == 0 {
                for k in 0..recs.min(space / 16) {
                    let r = hdr + 16 * k;
                    let (agino, holes) = (u64::from(be32(&blk, r)), if sparse { be16(&blk, r + 4) } else { 0 });
                    for g in (0..16).filter(|g| holes & (1 << g) == 0) {
                        let ino = agino + 4 * g;
                        let blkno = ino >> sb.inopb_log;
                        if blkno < sb.ag_blocks {
                            let a = (sb.ag_start(ag) + blkno) * bs + (ino & ((1 << sb.inopb_log) - 1)) * sb.inode_size;
                            each(a, a + 4 * sb.inode_size);
                        }
                    }
                }
            } else {
                let maxrecs = space / 8;
                for k in (0..recs.min(maxrecs)).rev() {
                    stack.push((u64::from(be32(&blk, hdr + maxrecs * 4 + 4 * k)), level - 1));
                }
            }
        }
        Ok(())
    }

    /// The blocks of inodes `ids`' B+tree extent maps, as sorted byte ranges (bounded).
    pub fn map_blocks<R: ReadVirtual>(&self, vol: &mut Volume<R>, ids: &[u64]) -> Vec<(u64, u64)> {
        let bs = self.sb.block_size;
        let mut out = Vec::new();
        let mut budget = 1usize << 16;
        for &id in ids {
            let Ok(ino) = self.inode(vol, id) else { continue };
            if ino.format != 3 {
                continue;
            }
            let f = &ino.fork;
            let (level, recs) = (u32::from(be16(f, 0)), usize::from(be16(f, 2)));
            let maxrecs = f.len().saturating_sub(4) / 16;
            let mut stack: Vec<(u64, u32)> =
                (0..recs.min(maxrecs)).map(|k| (be64(f, 4 + maxrecs * 8 + 8 * k), level.saturating_sub(1))).collect();
            while let Some((p, lv)) = stack.pop() {
                let Some(at) = self.sb.fsb_offset(p) else { continue };
                if budget == 0 {
                    break;
                }
                budget -= 1;
                out.push((at, at + bs));
                if lv > 0 && lv < MAX_LEVELS {
                    let Ok(b) = vol.read_vec(at, bs as usize) else { continue };
                    let hdr = self.sb.long_header();
                    let (n, max) = (usize::from(be16(&b, 6)), (bs as usize - hdr) / 16);
                    stack.extend((0..n.min(max)).map(|k| (be64(&b, hdr + max * 8 + 8 * k), lv - 1)));
                }
            }
        }
        joined(out)
    }

    /// True when the block holding volume byte `at` is not in the free-space B+tree; true too
    /// when that cannot be read.
    pub fn in_use<R: ReadVirtual>(&self, vol: &mut Volume<R>, at: u64) -> bool {
        let lin = at / self.sb.block_size;
        let (ag, agb) = (lin / self.sb.ag_blocks, lin % self.sb.ag_blocks);
        let mut free = false;
        self.free_runs(vol, ag, agb, agb + 1, &mut |_, _| free = true).map_or(true, |_| !free)
    }

    /// What the inode says of `e`, for a comparison: inode and generation, and its mode,
    /// owner, links, times (not the access time), size and flags.
    pub fn facts<R: ReadVirtual>(&self, vol: &mut Volume<R>, e: &Entry) -> Facts {
        let mut f = Facts::default();
        let Ok(ino) = self.inode(vol, e.id) else { return f };
        f.entry_at = Some((ino.at, ino.at + self.sb.inode_size));
        f.id = Some(FileId::inode(e.id, ino.gen));
        let c = &ino.core;
        f.meta = [c.get(0..0x20).unwrap_or(&[]), c.get(0x28..0x5E).unwrap_or(&[]), c.get(0x90..0x98).unwrap_or(&[])].concat();
        f
    }

    /// Free space from the free-space B+trees, or why the volume must be kept whole: mkfs did
    /// not finish, the file system needs repair, the log is external, or the log was not closed
    /// cleanly (its last record is not an unmount record: the trees may be stale until it is
    /// replayed).
    pub fn free_map<R: ReadVirtual>(&self, vol: &mut Volume<R>) -> Result<std::result::Result<XfsMap, String>> {
        let sb = &self.sb;
        let why = if sb.in_progress {
            Some("mkfs had not finished writing it".to_string())
        } else if sb.incompat & INCOMPAT_NEEDSREPAIR != 0 {
            Some("it is marked as needing repair (run xfs_repair)".to_string())
        } else if sb.log_start == 0 {
            Some("its log is on another device, so whether it was closed cleanly cannot be told".to_string())
        } else {
            self.log_clean(vol)?.err()
        };
        Ok(match why {
            Some(w) => Err(w),
            None => Ok(XfsMap { xfs: Xfs { sb: sb.clone(), owners: None } }),
        })
    }

    /// Whether the log's last record (found as the kernel finds the head: where the cycle
    /// number stamped in each 512-byte block drops) is an unmount record; `Err(why)` when not.
    pub fn log_clean<R: ReadVirtual>(&self, vol: &mut Volume<R>) -> Result<std::result::Result<(), String>> {
        let sb = &self.sb;
        let start = sb
            .fsb_offset(sb.log_start)
            .ok_or_else(|| self.bad(vol.start(), 0, format!("the log's first block {} is outside the file system", sb.log_start)))?;
        let bbs = sb.log_blocks * sb.block_size / 512;
        if bbs < 2 || start + bbs * 512 > vol.len() {
            return Err(self.bad(vol.start(), 0, format!("the log ({} blocks at byte {start}) does not fit in the volume", sb.log_blocks)));
        }
        let bb = |vol: &mut Volume<R>, i: u64| -> Result<Vec<u8>> { vol.read_vec(start + i * 512, 512) };
        let cycle = |b: &[u8]| if be32(b, 0) == 0xFEED_BABE { be32(b, 4) } else { be32(b, 0) };
        let first = cycle(&bb(vol, 0)?);
        let last = cycle(&bb(vol, bbs - 1)?);
        // The head: the first block whose cycle is below the first block's (none: the end).
        let head = if first == last {
            bbs
        } else {
            let (mut lo, mut hi) = (0u64, bbs - 1); // cycle(lo) == first, cycle(hi) != first
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if cycle(&bb(vol, mid)?) == first {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            hi
        };
        // The last record header before the head (records are at most 256 KiB plus headers).
        let mut i = head;
        let mut seen = 0u64;
        while seen < 1024 {
            i = if i == 0 { bbs - 1 } else { i - 1 };
            seen += 1;
            let h = bb(vol, i)?;
            if be32(&h, 0) != 0xFEED_BABE {
                continue;
            }
            let hsize = be32(&h, 320);
            let hblks = if be32(&h, 8) & 2 != 0 && hsize > 32768 { u64::from(hsize.div_ceil(32768)) } else { 1 };
            let data = bb(vol, (i + hblks) % bbs)?;
            return Ok(if be32(&h, 40) == 1 && data[9] & 0x20 != 0 {
                Ok(())
            } else {
                Err("its log was not closed cleanly (the last log record is not an unmount record), so its free-space B+trees may be stale"
                    .into())
            });
        }
        Ok(Err("no record was found before the log's head, so whether it was closed cleanly cannot be told".into()))
    }
}

/// XFS's free blocks, in the linear numbering (`AG * blocks per AG + block`): each AG's
/// by-block free-space B+tree, walked only where it meets the window.
#[derive(Debug, Clone)]
pub struct XfsMap {
    xfs: Xfs,
}

impl XfsMap {
    /// (volume offset of unit 0, block size, blocks).
    pub(crate) fn geometry(&self) -> (u64, u64, u64) {
        (0, self.xfs.sb.block_size, self.xfs.sb.blocks)
    }

    /// Marks the free blocks of `win`.
    pub(crate) fn fill<R: ReadVirtual>(&self, vol: &mut Volume<R>, win: &mut Window) -> Result<()> {
        let sb = &self.xfs.sb;
        let (lo, hi) = (win.first(), win.first() + win.count());
        for ag in lo / sb.ag_blocks..hi.div_ceil(sb.ag_blocks).min(sb.ag_count) {
            let base = sb.ag_start(ag);
            let (a, b) = (lo.max(base) - base, (hi - base).min(sb.ag_blocks));
            self.xfs.free_runs(vol, ag, a, b, &mut |s, n| {
                let (s, e) = ((base + s).max(lo), (base + s + n).min(hi));
                if s < e {
                    win.set_free_run(s - lo, e - s);
                }
            })?;
        }
        Ok(())
    }
}

/// The file system kind of a volume starting `head`, if it is XFS.
pub fn probe(head: &[u8]) -> Option<FsKind> {
    (head.get(0..4) == Some(MAGIC.as_slice())).then_some(FsKind::Xfs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_extents_unpack() {
        // startoff 5, startblock 0x1_2345_6789, count 300, written; then the same unwritten.
        let (off, blk, n) = (5u64, 0x1_2345_6789u64, 300u64);
        let l0 = (off << 9) | (blk >> 43);
        let l1 = (blk << 21) | n;
        let mut r = [0u8; 16];
        r[..8].copy_from_slice(&l0.to_be_bytes());
        r[8..].copy_from_slice(&l1.to_be_bytes());
        assert_eq!(extent(&r), (5, 300, Some(blk)));
        r[0] |= 0x80;
        assert_eq!(extent(&r), (5, 300, None));
    }

    #[test]
    fn a_bigtime_stamp_counts_from_1901() {
        let mut b = [0u8; 8];
        b.copy_from_slice(&((BIGTIME_EPOCH_OFFSET as u64 + 1_700_000_000) * 1_000_000_000 + 5).to_be_bytes());
        assert_eq!(stamp(&b, 0, true), 1_700_000_000);
        assert_eq!(stamp(&0xFFFF_FFFFu32.to_be_bytes(), 0, false), -1);
    }
}
