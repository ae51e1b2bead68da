//! ext2, ext3 and ext4, read by this project's own code: the superblock, group descriptors,
//! inodes, extent trees (ext4) and block maps (ext2/3), and linear directories (an htree
//! directory reads linearly too). `ext4-view` reads files well but keeps extents private, and a
//! file's runs are what says which layer supplies its bytes and which file owns a sector.

use super::free::Window;
use super::survey::{data_ranges, joined, Facts, FileId, Structure};
use super::{join, Entry, EntryKind, FileData, FsKind, Owner, ReadVirtual, Run, Times, Volume};
use crate::bytes::{le16, le32};
use crate::error::FsError;
use crate::error::{Error, Result};

/// The ext magic number at byte 0x38 of the superblock.
pub const MAGIC: u16 = 0xEF53;
/// The most extents (or mapped blocks' runs) one file may have.
pub const MAX_EXTENTS: usize = 1 << 20;

const INCOMPAT_FILETYPE: u32 = 0x2;
const INCOMPAT_EXTENTS: u32 = 0x40;
const INCOMPAT_64BIT: u32 = 0x80;
const INCOMPAT_META_BG: u32 = 0x10;
const INCOMPAT_FLEX_BG: u32 = 0x200;
const INCOMPAT_INLINE_DATA: u32 = 0x8000;
const COMPAT_HAS_JOURNAL: u32 = 0x4;

/// Which of ext2, ext3, ext4 a superblock (the 1024 bytes at byte 1024) describes, if any.
pub fn kind_of_superblock(sb: &[u8]) -> Option<FsKind> {
    if sb.len() < 0x100 || le16(sb, 0x38) != MAGIC {
        return None;
    }
    let (compat, incompat, ro) = (le32(sb, 0x5C), le32(sb, 0x60), le32(sb, 0x64));
    let ext4_incompat = INCOMPAT_EXTENTS | INCOMPAT_64BIT | INCOMPAT_FLEX_BG | INCOMPAT_INLINE_DATA | 0x1000 | 0x10000;
    let ext4_ro = 0x8 | 0x10 | 0x20 | 0x40 | 0x400;
    Some(if incompat & ext4_incompat != 0 || ro & ext4_ro != 0 {
        FsKind::Ext4
    } else if compat & COMPAT_HAS_JOURNAL != 0 {
        FsKind::Ext3
    } else {
        FsKind::Ext2
    })
}

/// 16 bytes as a UUID's text, in their order (`0123abcd-...`, lower case, as `blkid` writes it).
pub fn uuid_text(b: &[u8]) -> String {
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    if h.len() != 32 {
        return h;
    }
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// The parts of the superblock this reader uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superblock {
    /// ext2, ext3 or ext4.
    pub kind: FsKind,
    /// Bytes per block.
    pub block_size: u64,
    /// Blocks in the volume.
    pub blocks: u64,
    /// Inodes in the volume.
    pub inodes: u64,
    /// The first data block (1 for 1 KiB blocks, else 0).
    pub first_data_block: u64,
    /// Blocks per group.
    pub blocks_per_group: u64,
    /// Inodes per group.
    pub inodes_per_group: u64,
    /// Bytes per inode.
    pub inode_size: u64,
    /// Incompatible features.
    pub incompat: u32,
    /// Read-only compatible features.
    pub ro_compat: u32,
    /// Bytes per group descriptor.
    pub desc_size: u64,
    /// Reserved blocks after the group descriptors for growing.
    pub reserved_gdt: u64,
    /// The volume name.
    pub label: String,
    /// The journal's inode.
    pub journal_inode: u32,
    /// With `meta_bg`: the first meta block group (the groups of one block of descriptors)
    /// whose descriptors lie in its own groups rather than after the superblock.
    pub first_meta_bg: u64,
    /// The file system's UUID (`s_uuid`, byte 0x68), as `blkid` and fstab's `UUID=` write it.
    pub uuid: String,
    /// When the file system was made (`s_mkfs_time`, byte 0x108), seconds since 1970; 0 when
    /// not recorded.
    pub mkfs_time: u32,
    /// When it was last mounted (`s_mtime`, byte 0x2C); 0 when never.
    pub mount_time: u32,
    /// When the superblock was last written (`s_wtime`, byte 0x30): at unmount, for a file
    /// system unmounted cleanly.
    pub write_time: u32,
    /// True when the file system was unmounted cleanly (`s_state`, byte 0x3A, bit 0).
    pub clean: bool,
}

impl Superblock {
    /// Whether block group `g` holds a backup of the superblock (with sparse_super, groups 0, 1
    /// and the powers of 3, 5 and 7 only).
    pub fn has_backup(&self, g: u64) -> bool {
        if self.ro_compat & 1 == 0 || g <= 1 {
            return true;
        }
        [3u64, 5, 7].iter().any(|&p| {
            let mut x = p;
            while x < g {
                x = x.saturating_mul(p);
            }
            x == g
        })
    }

    /// Parses the 1024-byte superblock.
    pub fn parse(sb: &[u8]) -> std::result::Result<Superblock, String> {
        let kind = kind_of_superblock(sb).ok_or("no ext superblock (magic EF53 at byte 0x438)")?;
        let log = le32(sb, 0x18);
        if log > 6 {
            return Err(format!("the block size 1024 << {log} is not possible"));
        }
        let block_size = 1024u64 << log;
        let incompat = le32(sb, 0x60);
        let blocks = u64::from(le32(sb, 0x04)) | if incompat & INCOMPAT_64BIT != 0 { u64::from(le32(sb, 0x150)) << 32 } else { 0 };
        let (bpg, ipg) = (u64::from(le32(sb, 0x20)), u64::from(le32(sb, 0x28)));
        if bpg == 0 || ipg == 0 || blocks == 0 {
            return Err("0 blocks, or 0 blocks or inodes per group".into());
        }
        let inode_size = if le32(sb, 0x4C) >= 1 { u64::from(le16(sb, 0x58)) } else { 128 };
        if inode_size < 128 || !inode_size.is_power_of_two() || inode_size > block_size {
            return Err(format!("an inode size of {inode_size} is not possible"));
        }
        let desc_size = if incompat & INCOMPAT_64BIT != 0 { u64::from(le16(sb, 0xFE)).max(32) } else { 32 };
        if desc_size > 1024 || !desc_size.is_power_of_two() {
            return Err(format!("a group descriptor size of {desc_size} is not possible"));
        }
        let name = &sb[0x78..0x88];
        let label = String::from_utf8_lossy(&name[..name.iter().position(|b| *b == 0).unwrap_or(16)]).into_owned();
        Ok(Superblock {
            kind,
            block_size,
            blocks,
            inodes: u64::from(le32(sb, 0x00)),
            first_data_block: u64::from(le32(sb, 0x14)),
            blocks_per_group: bpg,
            inodes_per_group: ipg,
            inode_size,
            incompat,
            ro_compat: le32(sb, 0x64),
            desc_size,
            reserved_gdt: u64::from(le16(sb, 0xCE)),
            label,
            journal_inode: le32(sb, 0xE0),
            first_meta_bg: u64::from(le32(sb, 0x104)),
            uuid: uuid_text(&sb[0x68..0x78]),
            mkfs_time: if sb.len() >= 0x10C { le32(sb, 0x108) } else { 0 },
            mount_time: le32(sb, 0x2C),
            write_time: le32(sb, 0x30),
            clean: le16(sb, 0x3A) & 1 != 0,
        })
    }

    /// Number of block groups.
    pub fn groups(&self) -> u64 {
        self.blocks.saturating_sub(self.first_data_block).div_ceil(self.blocks_per_group)
    }

    /// Group descriptors per block.
    fn descs_per_block(&self) -> u64 {
        (self.block_size / self.desc_size).max(1)
    }

    /// True when descriptor block `m` (the descriptors of groups `m * descs_per_block ..`) lies
    /// in its own meta block group (`meta_bg`) rather than after the superblock.
    fn in_meta_bg(&self, m: u64) -> bool {
        self.incompat & INCOMPAT_META_BG != 0 && m >= self.first_meta_bg
    }

    /// The first block of group `g`.
    pub fn group_start(&self, g: u64) -> u64 {
        self.first_data_block.saturating_add(g.saturating_mul(self.blocks_per_group))
    }

    /// Volume byte offset of group `g`'s descriptor: in the blocks after the superblock, or with
    /// `meta_bg`, from the first meta block group on, in the first block of its meta block group
    /// (after that group's superblock backup, if it has one), as the kernel's `descriptor_loc`.
    pub fn desc_offset(&self, g: u64) -> u64 {
        let per = self.descs_per_block();
        let (m, k) = (g / per, g % per);
        let block = if self.in_meta_bg(m) {
            let first = m.saturating_mul(per);
            self.group_start(first).saturating_add(u64::from(self.has_backup(first)))
        } else {
            self.first_data_block.saturating_add(1).saturating_add(m)
        };
        block.saturating_mul(self.block_size).saturating_add(k * self.desc_size)
    }

    /// Blocks at the start of group `g` that the superblock backup and group descriptors take
    /// (and the blocks reserved for growing them), as the kernel's
    /// `ext4_num_base_meta_clusters` counts them.
    pub fn base_meta_blocks(&self, g: u64) -> u64 {
        let sb = u64::from(self.has_backup(g));
        let per = self.descs_per_block();
        let m = g / per;
        if self.in_meta_bg(m) {
            let k = g % per;
            sb + u64::from(k == 0 || k == 1 || k == per - 1)
        } else if sb == 0 {
            0
        } else if self.incompat & INCOMPAT_META_BG != 0 {
            1 + self.first_meta_bg + self.reserved_gdt
        } else {
            1 + self.groups().div_ceil(per) + self.reserved_gdt
        }
    }
}

/// A group descriptor's block locations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    /// The block bitmap.
    pub block_bitmap: u64,
    /// The inode bitmap.
    pub inode_bitmap: u64,
    /// The first block of the inode table.
    pub inode_table: u64,
    /// `bg_flags`: 0x1 inode table and bitmap not initialised, 0x2 block bitmap not
    /// initialised (`BLOCK_UNINIT`), 0x4 inode table zeroed.
    pub flags: u16,
}

impl Group {
    /// Parses a group descriptor (32 bytes, or 64 and more with the high halves).
    pub fn parse(d: &[u8]) -> Group {
        let hi = |o: usize| if d.len() >= 64 { u64::from(le32(d, o)) << 32 } else { 0 };
        Group {
            block_bitmap: u64::from(le32(d, 0)) | hi(0x20),
            inode_bitmap: u64::from(le32(d, 4)) | hi(0x24),
            inode_table: u64::from(le32(d, 8)) | hi(0x28),
            flags: le16(d, 0x12),
        }
    }
}

/// An inode's fields this reader uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inode {
    /// Its number.
    pub number: u64,
    /// Mode (type and permissions).
    pub mode: u16,
    /// Size in bytes.
    pub size: u64,
    /// Last modification (seconds since 1970).
    pub mtime: i64,
    /// Last access.
    pub atime: i64,
    /// Last change of the inode.
    pub ctime: i64,
    /// Creation (ext4, in an inode of more than 128 bytes).
    pub crtime: Option<i64>,
    /// Deletion time (0 when live).
    pub dtime: u32,
    /// Hard links.
    pub links: u16,
    /// Owner (`i_uid` and its high 16 bits).
    pub uid: u32,
    /// Group (`i_gid` and its high 16 bits).
    pub gid: u32,
    /// Nanoseconds of atime, mtime, ctime and crtime, where the inode's extra fields hold them
    /// (ext4's large inodes), else 0.
    pub nanos: [u32; 4],
    /// Flags (0x80000 extents, 0x10000000 inline data).
    pub flags: u32,
    /// The 60 bytes of `i_block`.
    pub block: [u8; 60],
    /// 512-byte units allocated.
    pub blocks512: u64,
}

/// The nanoseconds of the `*_extra` field at `at` (its high 30 bits), when the inode's
/// `i_extra_isize` covers it.
fn extra_nanos(b: &[u8], at: usize) -> u32 {
    let covered = b.len() >= at + 4 && b.len() > 0x81 && 0x80 + usize::from(le16(b, 0x80)) >= at + 4;
    if covered {
        le32(b, at) >> 2
    } else {
        0
    }
}

impl Inode {
    /// Parses an inode record.
    pub fn parse(b: &[u8], number: u64) -> Inode {
        let mut block = [0u8; 60];
        if let Some(s) = b.get(0x28..0x64) {
            block.copy_from_slice(s);
        }
        let mode = le16(b, 0);
        let hi = if mode & 0xF000 == 0x8000 { u64::from(le32(b, 0x6C)) << 32 } else { 0 };
        Inode {
            number,
            mode,
            size: u64::from(le32(b, 0x04)) | hi,
            mtime: i64::from(le32(b, 0x10)),
            atime: i64::from(le32(b, 0x08)),
            ctime: i64::from(le32(b, 0x0C)),
            crtime: (b.len() >= 0x94 && le16(b, 0x80) >= 0x14).then(|| i64::from(le32(b, 0x90))).filter(|t| *t != 0),
            dtime: le32(b, 0x14),
            links: le16(b, 0x1A),
            uid: u32::from(le16(b, 0x02)) | u32::from(le16(b, 0x78)) << 16,
            gid: u32::from(le16(b, 0x18)) | u32::from(le16(b, 0x7A)) << 16,
            nanos: [0x8C, 0x88, 0x84, 0x94].map(|at| extra_nanos(b, at)),
            flags: le32(b, 0x20),
            block,
            blocks512: u64::from(le32(b, 0x1C)),
        }
    }

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

/// An extent node's entry: (logical block, length, physical block); an index entry's length is 0.
pub type ExtentEntry = (u64, u64, Option<u64>);

/// Parses an extent node (header and entries). Returns leaf extents as (logical block, length,
/// physical block or `None` when uninitialized) or, for an index node, the child blocks.
pub fn parse_extent_node(b: &[u8]) -> std::result::Result<(u16, Vec<ExtentEntry>), String> {
    if le16(b, 0) != 0xF30A {
        return Err("the extent node lacks the magic F30A".into());
    }
    let (entries, depth) = (usize::from(le16(b, 2)), le16(b, 6));
    if depth > 5 {
        return Err(format!("the extent tree claims a depth of {depth} (at most 5 exist)"));
    }
    if 12 + entries * 12 > b.len() {
        return Err(format!("the extent node claims {entries} entries, more than fit in it"));
    }
    let mut out = Vec::with_capacity(entries);
    for k in 0..entries {
        let e = &b[12 + 12 * k..24 + 12 * k];
        let logical = u64::from(le32(e, 0));
        if depth == 0 {
            let raw = le16(e, 4);
            let (len, init) = if raw > 32768 { (raw - 32768, false) } else { (raw, true) };
            let phys = u64::from(le16(e, 6)) << 32 | u64::from(le32(e, 8));
            out.push((logical, u64::from(len), init.then_some(phys)));
        } else {
            let child = u64::from(le32(e, 4)) | u64::from(le16(e, 8)) << 32;
            out.push((logical, 0, Some(child)));
        }
    }
    Ok((depth, out))
}

/// An opened ext volume.
#[derive(Debug, Clone)]
pub struct Ext {
    /// The superblock.
    pub sb: Superblock,
    /// Which file's extents hold which blocks, made by the first [`Ext::owner`] that reaches the
    /// files (one walk of the tree) and kept for the next; `Err(())` when the volume has more
    /// than [`super::MAX_OWNER_RUNS`] runs or [`MAX_OWNER_PATH_BYTES`] of paths (each lookup
    /// then walks the tree again).
    owners: Option<std::result::Result<super::RunIndex, ()>>,
}

/// The most bytes of paths the owner index keeps.
pub const MAX_OWNER_PATH_BYTES: usize = 16 << 20;

impl Ext {
    /// Reads the superblock.
    pub fn open<R: ReadVirtual>(vol: &mut Volume<R>) -> Result<Ext> {
        let raw = vol.read_vec(1024, 1024)?;
        let sb = Superblock::parse(&raw).map_err(|damage| FsError::ExtSuperblock { offset: vol.start() + 1024, damage })?;
        if sb.blocks.saturating_mul(sb.block_size) > vol.len() {
            // Reads past the volume's end fail where they happen; the size alone is not fatal.
        }
        Ok(Ext { sb, owners: None })
    }

    /// ext2, ext3 or ext4.
    pub fn kind(&self) -> FsKind {
        self.sb.kind
    }

    /// Bytes per block.
    pub fn block_size(&self) -> u64 {
        self.sb.block_size
    }

    /// The volume name.
    pub fn label(&self) -> Option<String> {
        Some(self.sb.label.clone()).filter(|l| !l.is_empty())
    }

    fn bad(&self, vol_start: u64, at: u64, msg: String) -> Error {
        FsError::ExtDamaged { offset: vol_start + at, message: msg }.into()
    }

    /// Group `g`'s descriptor.
    pub fn group<R: ReadVirtual>(&self, vol: &mut Volume<R>, g: u64) -> Result<Group> {
        let at = self.sb.desc_offset(g);
        Ok(Group::parse(&vol.read_vec(at, self.sb.desc_size as usize)?))
    }

    /// Reads inode `n`.
    pub fn inode<R: ReadVirtual>(&self, vol: &mut Volume<R>, n: u64) -> Result<Inode> {
        if n == 0 || n > self.sb.inodes {
            return Err(self.bad(vol.start(), 1024, format!("inode {n} does not exist (the volume has {})", self.sb.inodes)));
        }
        let at = self.inode_offset(vol, n)?;
        let raw = vol.read_vec(at, self.sb.inode_size as usize)?;
        Ok(Inode::parse(&raw, n))
    }

    /// Where inode `n` is (a volume byte offset; `n` from 1 to the volume's inode count).
    pub fn inode_offset<R: ReadVirtual>(&self, vol: &mut Volume<R>, n: u64) -> Result<u64> {
        let n = n.max(1);
        let (g, i) = ((n - 1) / self.sb.inodes_per_group, (n - 1) % self.sb.inodes_per_group);
        let grp = self.group(vol, g)?;
        Ok(grp.inode_table.saturating_mul(self.sb.block_size).saturating_add(i * self.sb.inode_size))
    }

    /// How many inodes the volume has (sleuthkit numbers its `$OrphanFiles` one past them).
    pub fn inode_count(&self) -> u64 {
        self.sb.inodes
    }

    /// The root directory.
    pub fn root(&self) -> Entry {
        Entry::root(2, None)
    }

    /// The times in `e`'s inode.
    pub fn times<R: ReadVirtual>(&self, vol: &mut Volume<R>, e: &Entry) -> Result<Times> {
        let ino = self.inode(vol, e.id)?;
        Ok(Times { created: ino.crtime, modified: Some(ino.mtime), accessed: Some(ino.atime), changed: Some(ino.ctime) })
    }

    fn block_ok(&self, b: u64) -> bool {
        b < self.sb.blocks && b > 0
    }

    /// The runs of an inode's data: through its extent tree or its block map.
    pub fn runs<R: ReadVirtual>(&self, vol: &mut Volume<R>, ino: &Inode) -> Result<Vec<Run>> {
        let bs = self.sb.block_size;
        let need = ino.size.div_ceil(bs);
        let mut blocks: Vec<(u64, u64, Option<u64>)> = Vec::new(); // (logical, count, physical)
        if ino.flags & 0x80000 != 0 {
            let mut stack = vec![(ino.block.to_vec(), 0u32)];
            let mut nodes = 0usize;
            while let Some((node, level)) = stack.pop() {
                nodes += 1;
                if nodes > MAX_EXTENTS || level > 5 {
                    return Err(self.bad(vol.start(), 0, format!("inode {}'s extent tree is too large or too deep", ino.number)));
                }
                let (depth, entries) =
                    parse_extent_node(&node).map_err(|e| self.bad(vol.start(), 0, format!("inode {}: {e}", ino.number)))?;
                if depth == 0 {
                    blocks.extend(entries);
                    if blocks.len() > MAX_EXTENTS {
                        return Err(self.bad(vol.start(), 0, format!("inode {} has more than {MAX_EXTENTS} extents", ino.number)));
                    }
                } else {
                    for (_, _, child) in entries.into_iter().rev() {
                        let c = child.unwrap_or(0);
                        if !self.block_ok(c) {
                            return Err(self.bad(
                                vol.start(),
                                0,
                                format!("inode {}'s extent tree points at block {c}, outside the volume", ino.number),
                            ));
                        }
                        stack.push((vol.read_vec(c * bs, bs as usize)?, level + 1));
                    }
                }
            }
        } else {
            // The block map: 12 direct blocks, then single, double and triple indirect ones.
            let per = bs / 4;
            let ptr = |k: usize| u64::from(le32(&ino.block, 4 * k));
            let mut logical = 0u64;
            // Contiguous blocks are joined as they come, so that memory follows the fragments.
            let push = |blocks: &mut Vec<(u64, u64, Option<u64>)>, logical: &mut u64, p: u64| {
                let phys = (p != 0).then_some(p);
                match blocks.last_mut() {
                    Some(last)
                        if last.0 + last.1 == *logical
                            && match (last.2, phys) {
                                (Some(a), Some(b)) => a + last.1 == b,
                                (None, None) => true,
                                _ => false,
                            } =>
                    {
                        last.1 += 1
                    }
                    _ => blocks.push((*logical, 1, phys)),
                }
                *logical += 1;
            };
            for k in 0..12 {
                if logical >= need {
                    break;
                }
                push(&mut blocks, &mut logical, ptr(k));
            }
            for (k, level) in [(12usize, 1u32), (13, 2), (14, 3)] {
                if logical >= need {
                    break;
                }
                let span = per.saturating_pow(level);
                let top = ptr(k);
                if top == 0 {
                    let n = span.min(need - logical);
                    blocks.push((logical, n, None));
                    logical += n;
                    continue;
                }
                // Depth-first through the indirect blocks, bounded by the blocks needed.
                let mut stack = vec![(top, level)];
                while let Some((b, lv)) = stack.pop() {
                    if logical >= need {
                        break;
                    }
                    if b == 0 {
                        let n = per.saturating_pow(lv).min(need - logical);
                        blocks.push((logical, n, None));
                        logical += n;
                        continue;
                    }
                    if !self.block_ok(b) {
                        return Err(self.bad(
                            vol.start(),
                            0,
                            format!("inode {}'s block map points at block {b}, outside the volume", ino.number),
                        ));
                    }
                    if blocks.len() > MAX_EXTENTS {
                        return Err(self.bad(vol.start(), 0, format!("inode {} maps more than {MAX_EXTENTS} fragments", ino.number)));
                    }
                    let raw = vol.read_vec(b * bs, bs as usize)?;
                    if lv == 1 {
                        for i in 0..per as usize {
                            if logical >= need {
                                break;
                            }
                            push(&mut blocks, &mut logical, u64::from(le32(&raw, 4 * i)));
                        }
                    } else {
                        for i in (0..per as usize).rev() {
                            stack.push((u64::from(le32(&raw, 4 * i)), lv - 1));
                        }
                    }
                }
            }
        }
        blocks.sort_by_key(|b| b.0);
        let mut runs: Vec<Run> = Vec::new();
        let mut pos = 0u64; // in blocks
        for (logical, count, phys) in blocks {
            if logical >= need || count == 0 {
                continue;
            }
            if logical < pos {
                return Err(self.bad(vol.start(), 0, format!("inode {}'s extents overlap at block {logical}", ino.number)));
            }
            if logical > pos {
                runs.push(Run { file_offset: pos * bs, len: (logical - pos) * bs, volume_offset: None });
            }
            let count = count.min(need - logical);
            if let Some(p) = phys {
                if p.checked_add(count).none_or_past(self.sb.blocks) {
                    return Err(self.bad(
                        vol.start(),
                        0,
                        format!("inode {}'s data at block {p} ({count} blocks) lies outside the volume", ino.number),
                    ));
                }
            }
            let run = Run { file_offset: logical * bs, len: count * bs, volume_offset: phys.map(|p| p * bs) };
            Run::push(&mut runs, run);
            pos = logical + count;
        }
        if pos < need {
            runs.push(Run { file_offset: pos * bs, len: (need - pos) * bs, volume_offset: None });
        }
        Ok(runs)
    }

    fn inode_data<R: ReadVirtual>(&self, vol: &mut Volume<R>, ino: &Inode) -> Result<FileData> {
        if ino.flags & 0x1000_0000 != 0 {
            if ino.size > 60 {
                return Err(self.bad(vol.start(), 0, format!("inode {} keeps {} bytes inline, more than the 60 of i_block (the rest is in an extended attribute, which this viewer does not read)", ino.number, ino.size)));
            }
            return Ok(FileData::Inline(ino.block[..ino.size as usize].to_vec()));
        }
        // A fast symlink keeps its target in i_block.
        if ino.kind() == EntryKind::Symlink
            && ino.size < 60
            && (ino.blocks512 == 0 || ino.flags & 0x80000 == 0 && le32(&ino.block, 4) == 0 && ino.size <= 4)
        {
            return Ok(FileData::Inline(ino.block[..ino.size as usize].to_vec()));
        }
        Ok(FileData::Runs { runs: self.runs(vol, ino)?, size: ino.size })
    }

    fn entry(&self, dir: &str, name: &str, ino: &Inode, deleted: bool) -> Entry {
        let kind = ino.kind();
        Entry {
            name: name.to_string(),
            path: join(dir, name),
            kind,
            size: if kind == EntryKind::Dir { 0 } else { ino.size },
            modified: Some(ino.mtime),
            deleted,
            id: ino.number,
            attributes: Vec::new(),
            entry_offset: None,
            streams: Vec::new(),
            exfat: None,
        }
    }

    /// The entries of directory `dir`. With `deleted`, names left in the slack of the entry
    /// before them (where ext leaves a removed name) are listed too, marked deleted.
    pub fn list<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, dir: &Entry, deleted: bool) -> Result<Vec<Entry>> {
        let ino = self.inode(vol, dir.id)?;
        if ino.kind() != EntryKind::Dir {
            return Err(self.bad(vol.start(), 0, format!("{} (inode {}) is not a directory", dir.path, dir.id)));
        }
        let data = self.inode_data(vol, &ino)?;
        let mut bytes = Vec::new();
        super::read_data(vol, &data, &mut |b| {
            if bytes.len() < 64 << 20 {
                bytes.extend_from_slice(b);
            }
            Ok(())
        })?;
        let filetype = self.sb.incompat & INCOMPAT_FILETYPE != 0;
        let mut found: Vec<(u64, String, bool)> = Vec::new();
        let bs = self.sb.block_size as usize;
        for block in bytes.chunks(bs) {
            let mut at = 0usize;
            while at + 8 <= block.len() {
                let (inode, rec_len) = (u64::from(le32(block, at)), usize::from(le16(block, at + 4)));
                let name_len = if filetype { usize::from(block[at + 6]) } else { usize::from(le16(block, at + 6)) };
                if rec_len < 8 || at + rec_len > block.len() || rec_len % 4 != 0 {
                    break;
                }
                if inode != 0 && name_len > 0 && 8 + name_len <= rec_len {
                    let name = String::from_utf8_lossy(&block[at + 8..at + 8 + name_len]).into_owned();
                    if name != "." && name != ".." {
                        found.push((inode, name, false));
                    }
                }
                if deleted {
                    // Removed entries in the slack behind this one.
                    let used = if inode == 0 { 0 } else { (8 + name_len).div_ceil(4) * 4 };
                    let mut s = at + used;
                    while s + 12 <= at + rec_len {
                        let (di, dl) = (u64::from(le32(block, s)), usize::from(le16(block, s + 4)));
                        let dn = usize::from(block[s + 6]);
                        if di != 0 && di <= self.sb.inodes && dn > 0 && s + 8 + dn <= at + rec_len && dl >= 8 + dn && dl % 4 == 0 {
                            let raw = &block[s + 8..s + 8 + dn];
                            if raw.iter().all(|c| *c != 0 && *c != b'/') {
                                found.push((di, String::from_utf8_lossy(raw).into_owned(), true));
                            }
                            s += (8 + dn).div_ceil(4) * 4;
                        } else {
                            s += 4;
                        }
                    }
                }
                at += rec_len;
            }
            if found.len() >= super::MAX_DIR_ENTRIES {
                break;
            }
        }
        let mut out = Vec::with_capacity(found.len());
        for (n, name, del) in found {
            match self.inode(vol, n) {
                Ok(i) => out.push(self.entry(&dir.path, &name, &i, del)),
                Err(e) if !del => return Err(e),
                Err(_) => {}
            }
        }
        Ok(out)
    }

    /// Where the bytes of `e` are.
    pub fn data<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, e: &Entry) -> Result<FileData> {
        let ino = self.inode(vol, e.id)?;
        self.inode_data(vol, &ino)
    }

    fn has_super_backup(&self, g: u64) -> bool {
        self.sb.has_backup(g)
    }

    /// Calls `each` with every directory and file under the root and its runs, in the order
    /// [`Ext::owner`] looks at them (a directory's own blocks, then its files, its folders after;
    /// each directory once, at most [`super::MAX_DEPTH`] deep); `each` returns false to stop.
    fn each_owned<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, each: &mut dyn FnMut(&Entry, &[super::Run]) -> bool) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![(self.root(), 0usize)];
        while let Some((dir, depth)) = stack.pop() {
            if !seen.insert(dir.id) {
                continue;
            }
            for e in std::iter::once(dir.clone()).chain(if depth < super::MAX_DEPTH { self.list(vol, &dir, false)? } else { Vec::new() }) {
                if e.kind == EntryKind::Dir && e.path != dir.path {
                    stack.push((e, depth + 1));
                    continue;
                }
                if let Ok(FileData::Runs { runs, .. }) = self.data(vol, &e) {
                    if !each(&e, &runs) {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }

    /// What owns byte `offset` of the volume.
    pub fn owner<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, offset: u64) -> Result<Owner> {
        let bs = self.sb.block_size;
        let b = offset / bs;
        if offset < 1024 {
            return Ok(Owner::structure("boot block (unused by ext)"));
        }
        if offset < 2048 {
            return Ok(Owner::structure("superblock"));
        }
        let groups = self.sb.groups().min(1 << 20);
        let gdt_blocks = (groups * self.sb.desc_size).div_ceil(bs);
        let itable_blocks = (self.sb.inodes_per_group * self.sb.inode_size).div_ceil(bs);
        for g in 0..groups {
            let start = self.sb.first_data_block + g * self.sb.blocks_per_group;
            if self.has_super_backup(g) && b >= start && b < start + 1 + gdt_blocks + self.sb.reserved_gdt {
                let what = if b == start {
                    "superblock"
                } else if b <= start + gdt_blocks {
                    "group descriptors"
                } else {
                    "reserved group descriptor blocks"
                };
                return Ok(Owner::structure(format!("{what}{}", if g == 0 { String::new() } else { format!(" (backup in group {g})") })));
            }
            let grp = self.group(vol, g)?;
            if b == grp.block_bitmap {
                return Ok(Owner::structure(format!("block bitmap of group {g}")));
            }
            if b == grp.inode_bitmap {
                return Ok(Owner::structure(format!("inode bitmap of group {g}")));
            }
            if b >= grp.inode_table && b < grp.inode_table + itable_blocks {
                let first = g * self.sb.inodes_per_group + (b - grp.inode_table) * bs / self.sb.inode_size + 1;
                return Ok(Owner::structure(format!("inode table of group {g} (inodes {first}..{})", first + bs / self.sb.inode_size - 1)));
            }
        }
        // Files, through the tree (an index of it kept after the first walk), and the journal.
        if self.owners.is_none() {
            let mut ix = super::RunIndex::default();
            let mut path_bytes = 0usize;
            let mut full = false;
            self.each_owned(vol, &mut |e, runs| {
                path_bytes += e.path.len();
                full = path_bytes > MAX_OWNER_PATH_BYTES || !ix.add(Owner::of(e, 0), runs);
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
        if self.sb.journal_inode != 0 {
            let j = self.inode(vol, u64::from(self.sb.journal_inode))?;
            if let Some(at) = self.runs(vol, &j).ok().and_then(|r| super::in_runs(&r, offset)) {
                return Ok(Owner { id: Some(j.number), file_offset: Some(at), ..Owner::structure("journal") });
            }
        }
        let g = (b.saturating_sub(self.sb.first_data_block)) / self.sb.blocks_per_group;
        let grp = self.group(vol, g)?;
        let bit = (b - self.sb.first_data_block) % self.sb.blocks_per_group;
        let mut byte = [0u8; 1];
        vol.read_at(grp.block_bitmap * bs + bit / 8, &mut byte)?;
        Ok(if byte[0] & (1 << (bit % 8)) == 0 {
            Owner::free(format!("block {b}: free"))
        } else {
            Owner {
                kind: "unknown",
                ..Owner::structure(format!(
                    "block {b}: in use, but no file's extents hold it (an extent tree node, or a file outside the tree)"
                ))
            }
        })
    }
}

trait PastExt {
    fn none_or_past(self, limit: u64) -> bool;
}

impl PastExt for Option<u64> {
    fn none_or_past(self, limit: u64) -> bool {
        self.map_or(true, |v| v > limit)
    }
}

impl Ext {
    /// What the inode says of `e`, for a comparison ([`super::FileSystem::facts`]): inode and
    /// generation, and its mode, owner, times (not the access time), links and flags.
    pub fn facts<R: ReadVirtual>(&self, vol: &mut Volume<R>, e: &Entry) -> Facts {
        let mut f = Facts::default();
        let sb = &self.sb;
        if e.id == 0 || e.id > sb.inodes || sb.inodes_per_group == 0 {
            return f;
        }
        let (g, i) = ((e.id - 1) / sb.inodes_per_group, (e.id - 1) % sb.inodes_per_group);
        let Ok(grp) = self.group(vol, g) else { return f };
        let at = grp.inode_table.saturating_mul(sb.block_size).saturating_add(i * sb.inode_size);
        let Ok(raw) = vol.read_vec(at, sb.inode_size.min(256) as usize) else { return f };
        f.entry_at = Some((at, at + sb.inode_size));
        f.id = Some(FileId::inode(e.id, le32(&raw, 0x64)));
        // Mode, uid, ctime, mtime; gid, links; flags (not atime).
        f.meta = [
            raw.get(0..4).unwrap_or(&[]),
            raw.get(0x0C..0x14).unwrap_or(&[]),
            raw.get(0x18..0x1C).unwrap_or(&[]),
            raw.get(0x20..0x24).unwrap_or(&[]),
        ]
        .concat();
        f
    }

    /// The superblock and its backups with the group descriptors, every group's bitmaps and
    /// inode table, and the journal.
    pub fn structures<R: ReadVirtual>(&self, vol: &mut Volume<R>) -> Vec<Structure> {
        let sb = &self.sb;
        let bs = sb.block_size;
        let mut out = Vec::new();
        // Blocks `a..a + n` as bytes (saturating: group descriptors may hold anything).
        let blocks = |a: u64, n: u64| (a.saturating_mul(bs), a.saturating_add(n).saturating_mul(bs));
        out.push((0, 2048.max(blocks(sb.first_data_block, 1).1), "superblock and group descriptors"));
        let groups = sb.groups().min(1 << 16);
        let itable = sb.inodes_per_group.saturating_mul(sb.inode_size).div_ceil(bs.max(1));
        for g in 0..groups {
            let meta = sb.base_meta_blocks(g);
            if meta > 0 {
                let (a, b) = blocks(sb.group_start(g), meta);
                out.push((a, b, "superblock and group descriptors"));
            }
            let Ok(grp) = self.group(vol, g) else { break };
            let (a, b) = blocks(grp.block_bitmap, 1);
            out.push((a, b, "block bitmaps"));
            let (a, b) = blocks(grp.inode_bitmap, 1);
            out.push((a, b, "inode bitmaps"));
            let (a, b) = blocks(grp.inode_table, itable);
            out.push((a, b, "inode tables"));
        }
        if sb.journal_inode != 0 {
            if let Ok(j) = self.inode(vol, u64::from(sb.journal_inode)) {
                if let Ok(runs) = self.runs(vol, &j) {
                    out.extend(data_ranges(&runs, j.size, bs).into_iter().map(|(s, e)| (s, e, "journal")));
                }
            }
        }
        out
    }

    /// The blocks of inodes `ids`' extent trees (below the inode) and block maps' indirect
    /// blocks, as sorted byte ranges; bounded in blocks read.
    pub fn map_blocks<R: ReadVirtual>(&self, vol: &mut Volume<R>, ids: &[u64]) -> Vec<(u64, u64)> {
        let bs = self.sb.block_size;
        let mut budget = (vol.len() / bs.max(1)).saturating_add(1 << 16);
        let mut blocks: Vec<u64> = Vec::new();
        for &id in ids {
            let Ok(ino) = self.inode(vol, id) else { continue };
            if ino.flags & 0x80000 != 0 {
                let mut stack = vec![ino.block.to_vec()];
                while let Some(node) = stack.pop() {
                    let Ok((depth, entries)) = parse_extent_node(&node) else { continue };
                    if depth == 0 {
                        continue;
                    }
                    for c in entries.into_iter().filter_map(|e| e.2) {
                        if budget == 0 || c == 0 || c >= self.sb.blocks {
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
                let ptr = |k: usize| u64::from(le32(&ino.block, 4 * k));
                let mut stack: Vec<(u64, u32)> = vec![(ptr(12), 1), (ptr(13), 2), (ptr(14), 3)];
                while let Some((b, level)) = stack.pop() {
                    if budget == 0 || b == 0 || b >= self.sb.blocks {
                        continue;
                    }
                    budget -= 1;
                    blocks.push(b);
                    if level > 1 {
                        if let Ok(raw) = vol.read_vec(b.saturating_mul(bs), bs as usize) {
                            stack.extend((0..raw.len() / 4).map(|k| (u64::from(le32(&raw, 4 * k)), level - 1)));
                        }
                    }
                }
            }
        }
        joined(blocks.into_iter().map(|b| (b.saturating_mul(bs), b.saturating_add(1).saturating_mul(bs))).collect())
    }

    /// True when the block holding volume byte `at` is marked in its group's block bitmap (and
    /// for the blocks before the first group); true too when the bitmap cannot be read.
    pub fn in_use<R: ReadVirtual>(&self, vol: &mut Volume<R>, at: u64) -> bool {
        let sb = &self.sb;
        let blk = at / sb.block_size;
        if blk < sb.first_data_block || sb.blocks_per_group == 0 {
            return true;
        }
        let g = (blk - sb.first_data_block) / sb.blocks_per_group;
        let bit = (blk - sb.first_data_block) % sb.blocks_per_group;
        let Ok(grp) = self.group(vol, g) else { return true };
        let mut byte = [0u8; 1];
        vol.read_at(grp.block_bitmap.saturating_mul(sb.block_size).saturating_add(bit / 8), &mut byte)
            .map_or(true, |_| byte[0] & (1 << (bit % 8)) != 0)
    }
}

/// `bg_flags`: the group's block bitmap is not initialised.
const BG_BLOCK_UNINIT: u16 = 0x2;
/// Incompatible feature: the journal needs recovery.
const INCOMPAT_RECOVER: u32 = 0x4;
/// Incompatible feature: an external journal device, not a file system.
const INCOMPAT_JOURNAL_DEV: u32 = 0x8;
/// Read-only compatible feature: allocation in clusters of several blocks.
const RO_COMPAT_BIGALLOC: u32 = 0x200;
/// Read-only compatible feature: the orphan file holds inodes to be processed.
const RO_COMPAT_ORPHAN_PRESENT: u32 = 0x10000;

impl Ext {
    /// The block groups' bitmaps as a map of free blocks, or why the volume must be kept whole:
    /// its journal needs recovery, it was not unmounted cleanly, errors were found and not
    /// repaired, or orphan inodes wait to be freed (the bitmaps may then be stale); or it
    /// allocates in clusters (bigalloc), which this reader does not map.
    pub fn free_map<R: ReadVirtual>(&self, vol: &mut Volume<R>) -> Result<std::result::Result<ExtMap, String>> {
        let raw = vol.read_vec(1024, 1024)?;
        let (state, incompat, ro) = (le16(&raw, 0x3A), le32(&raw, 0x60), le32(&raw, 0x64));
        let why = if incompat & INCOMPAT_JOURNAL_DEV != 0 {
            Some("it is an external journal, not a file system")
        } else if incompat & INCOMPAT_RECOVER != 0 {
            Some("its journal needs recovery (it was not unmounted cleanly), so its block bitmaps may be stale")
        } else if state & 1 == 0 {
            Some("it was not unmounted cleanly (its state is not clean), so its block bitmaps may be stale")
        } else if state & 2 != 0 {
            Some("errors were found in it and not yet repaired (run e2fsck)")
        } else if le32(&raw, 0xE8) != 0 || ro & RO_COMPAT_ORPHAN_PRESENT != 0 {
            Some("orphan inodes wait to be freed (it was not unmounted cleanly)")
        } else if ro & RO_COMPAT_BIGALLOC != 0 {
            Some("it allocates in clusters of several blocks (bigalloc), which this viewer does not map")
        } else if !(256..=8 * self.sb.block_size).contains(&self.sb.blocks_per_group) || self.sb.blocks_per_group % 8 != 0 {
            Some("its superblock claims a number of blocks per group that mke2fs never makes (256 to 8 per byte of a block, a multiple of 8)")
        } else {
            None
        };
        Ok(match why {
            Some(w) => Err(w.to_string()),
            None => Ok(ExtMap { sb: self.sb.clone(), volume_start: vol.start() }),
        })
    }
}

/// ext's free blocks: each block group's block bitmap, read a window of whole groups at a time.
/// A group whose bitmap was never initialised (`BLOCK_UNINIT`) is read as the kernel reads it
/// (`ext4_init_block_bitmap`): every block free but the superblock backup and descriptors at its
/// start and its own bitmaps and inode table where they lie in it. Blocks before the first data
/// block (the boot block of a 1 KiB-block volume) are never free.
#[derive(Debug, Clone)]
pub struct ExtMap {
    sb: Superblock,
    volume_start: u64,
}

impl ExtMap {
    /// (volume offset of the first data block, block size, blocks from it).
    pub(crate) fn geometry(&self) -> (u64, u64, u64) {
        let sb = &self.sb;
        (sb.first_data_block * sb.block_size, sb.block_size, sb.blocks.saturating_sub(sb.first_data_block))
    }

    /// Whole groups, as near [`super::free::WINDOW_UNITS`] blocks as they come.
    pub(crate) fn window_units(&self) -> u64 {
        let bpg = self.sb.blocks_per_group;
        bpg.saturating_mul((super::free::WINDOW_UNITS / bpg).max(1))
    }

    /// Marks the free blocks of `win` (blocks counted from the first data block).
    pub(crate) fn fill<R: ReadVirtual>(&self, vol: &mut Volume<R>, win: &mut Window) -> Result<()> {
        let sb = &self.sb;
        let (bs, bpg) = (sb.block_size, sb.blocks_per_group);
        let units = self.geometry().2;
        let (g0, g1) = (win.first() / bpg, (win.first() + win.count()).div_ceil(bpg).min(sb.groups()));
        let itable = sb.inodes_per_group.saturating_mul(sb.inode_size).div_ceil(bs);
        let mut groups = Vec::with_capacity(g1.saturating_sub(g0) as usize);
        // The window's descriptors, read together where they follow each other (all of them
        // but with meta_bg, whose meta groups hold theirs apart).
        let (ds, mut held, mut descs) = (sb.desc_size, (0u64, 0u64), Vec::new());
        for g in g0..g1 {
            let at = sb.desc_offset(g);
            if !(held.0..held.1).contains(&at) || held.1 - at < ds {
                let mut n = 1;
                while g + n < g1 && n < 1 << 12 && sb.desc_offset(g + n) == at.saturating_add(n * ds) {
                    n += 1;
                }
                descs = vec![0u8; (n * ds) as usize];
                vol.read_uncached(at, &mut descs)?;
                held = (at, at.saturating_add(n * ds));
            }
            let from = (at - held.0) as usize;
            let grp = Group::parse(&descs[from..from + ds as usize]);
            // The group's blocks, from the first data block, and where they are in the window.
            let first = g * bpg;
            let n = bpg.min(units - first);
            let k = first - win.first();
            if grp.flags & BG_BLOCK_UNINIT != 0 {
                win.set_free_run(k, n);
                for b in 0..sb.base_meta_blocks(g).min(n) {
                    win.set_used(k + b);
                }
            } else {
                let bitmap = grp.block_bitmap.checked_mul(bs).filter(|_| grp.block_bitmap < sb.blocks).ok_or_else(|| {
                    Error::from(FsError::ExtDamaged {
                        offset: self.volume_start + at,
                        message: format!(
                            "group {g}'s block bitmap is at block {}, past the volume's {} blocks",
                            grp.block_bitmap, sb.blocks
                        ),
                    })
                })?;
                let mut map = vec![0u8; n.div_ceil(8) as usize];
                vol.read_uncached(bitmap, &mut map)?;
                win.free_where_clear(k, &map, n);
            }
            groups.push(grp);
        }
        // Every group's own bitmaps and inode table are in use wherever they lie in the window
        // (an uninitialised group's in it, as the kernel has them; the others' for safety).
        let (lo, hi) = (win.first(), win.first() + win.count());
        for grp in &groups {
            for (start, len) in [(grp.block_bitmap, 1), (grp.inode_bitmap, 1), (grp.inode_table, itable)] {
                let a = start.saturating_sub(sb.first_data_block).max(lo);
                let b = start.saturating_add(len).saturating_sub(sb.first_data_block).min(hi);
                for u in a..b {
                    win.set_used(u - lo);
                }
            }
        }
        Ok(())
    }
}
