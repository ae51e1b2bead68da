//! Why a file system could not be read as asked: one variant per condition, each with the
//! virtual-disk byte offset it concerns and what was expected and found, where that applies.
//! [`crate::Error::FileSystem`] carries one.

use std::fmt;

/// Bytes of an NTFS index entry's header: the least an entry can be.
const NTFS_INDEX_ENTRY_HEADER: usize = 16;

/// A condition met reading a volume's files.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FsError {
    /// A read of `len` bytes at byte `at` of a volume reaches past its end.
    PastVolumeEnd {
        /// Where the volume starts on the virtual disk.
        volume_start: u64,
        /// Its length in bytes.
        volume_len: u64,
        /// The read's offset in the volume.
        at: u64,
        /// The read's length.
        len: u64,
    },
    /// A directory has no entry of the name asked.
    NoSuchFile {
        /// The path asked for.
        path: String,
        /// The name not found.
        name: String,
        /// The directory it was looked for in.
        dir: String,
    },
    /// A path goes on through an entry that is not a directory.
    NotADirectory {
        /// That entry's path.
        path: String,
    },
    /// A file's runs do not follow each other: the next run starts elsewhere than where the
    /// last ended.
    RunsGap {
        /// Where the volume starts on the virtual disk.
        volume_start: u64,
        /// The byte of the file where a run was expected.
        expected: u64,
    },
    /// A file's runs end before its size.
    RunsShort {
        /// Where the volume starts on the virtual disk.
        volume_start: u64,
        /// The file's size.
        size: u64,
        /// Bytes its runs hold.
        held: u64,
    },
    /// A compressed file's compression unit is impossible (0, or over 1 MiB).
    CompressionUnit {
        /// Where the volume starts on the virtual disk.
        volume_start: u64,
        /// The unit in bytes.
        unit: u64,
    },
    /// A volume holds no file system this viewer reads (the child side of a diff).
    NoFileSystem {
        /// Where the volume starts on the virtual disk.
        volume_start: u64,
    },
    /// A FAT boot sector breaks a rule of its BIOS parameter block.
    FatBootSector {
        /// Where the volume (its boot sector) starts on the virtual disk.
        volume_start: u64,
        /// Which rule.
        why: &'static str,
    },
    /// A FAT volume's FATs and root directory reach past its end.
    FatLayout {
        /// Where the volume starts on the virtual disk.
        volume_start: u64,
        /// Where they end, in the volume.
        need: u64,
        /// The volume's length.
        volume_len: u64,
    },
    /// A cluster chain leaves the volume's clusters or meets a free or bad cluster.
    FatChain {
        /// Where the first FAT is on the virtual disk.
        fat_at: u64,
        /// The chain's first cluster.
        start: u32,
        /// The cluster where it breaks.
        cluster: u32,
        /// How it breaks.
        broken: ChainBreak,
    },
    /// A cluster chain comes back to a cluster it already went through.
    FatChainLoop {
        /// Where the first FAT is on the virtual disk.
        fat_at: u64,
        /// The chain's first cluster.
        start: u32,
        /// The cluster met twice.
        cluster: u32,
    },
    /// A deleted FAT file's clusters (taken as following each other) are not all on the volume.
    FatDeletedUnrecoverable {
        /// Its directory entry, on the virtual disk.
        entry_at: u64,
        /// Its first cluster.
        start: u32,
        /// Clusters its size needs.
        need: u64,
    },
    /// A FAT file's cluster chain ends before its size.
    FatChainShort {
        /// Its directory entry, on the virtual disk.
        entry_at: u64,
        /// Its path.
        path: String,
        /// Its size.
        size: u64,
        /// Clusters its size needs.
        need: u64,
        /// Its first cluster.
        start: u32,
        /// Clusters the chain holds.
        held: u64,
    },
    /// An exFAT structure is damaged: its boot region, its allocation bitmap or up-case table,
    /// a directory entry set, or a deleted file's clusters now held by another.
    ExFatDamaged {
        /// Where the damage is on the virtual disk.
        offset: u64,
        /// What is wrong.
        why: String,
    },
    /// The `ntfs` crate refused the volume (its boot sector or an index), in its words.
    NtfsDamaged {
        /// Where the volume starts on the virtual disk.
        volume_start: u64,
        /// The crate's message.
        message: String,
    },
    /// An entry of a directory index (its `$INDEX_ROOT` or an index record of its
    /// `$INDEX_ALLOCATION`) whose length is shorter than an entry's 16-byte header (it would
    /// never lead to the next entry) or longer than what is left of its index node.
    NtfsIndexEntry {
        /// Where the entry is on the virtual disk.
        offset: u64,
        /// The length it gives (16 when fewer than 16 bytes are left: its header does not fit).
        length: u16,
        /// The bytes left of its index node from the entry on.
        room: u16,
    },
    /// A directory index node (its `$INDEX_ROOT` or an index record) whose entries start past
    /// the end of its used bytes.
    NtfsIndexNode {
        /// Where the node is on the virtual disk (for `$INDEX_ROOT`, its value).
        offset: u64,
        /// Where its entries start, in the node.
        start: usize,
        /// Where its used bytes end, in the node.
        end: usize,
    },
    /// A directory's `$INDEX_ROOT` gives an index record size that is not a power of two from
    /// 512 to 65536.
    NtfsIndexRecordSize {
        /// Where its `$INDEX_ALLOCATION`'s data is on the virtual disk.
        offset: u64,
        /// The size it gives.
        size: u32,
    },
    /// A directory index whose subnodes go deeper than a bound: they refer back to a node above
    /// them, in a loop.
    NtfsIndexLoop {
        /// Where the directory's `$INDEX_ROOT` value is on the virtual disk.
        offset: u64,
        /// The most levels of subnodes followed.
        max: usize,
    },
    /// The boot sector gives an impossible MFT record size (not a power of two in 256..=65536).
    NtfsRecordSize {
        /// Where the volume starts on the virtual disk.
        volume_start: u64,
        /// The size it gives.
        size: u64,
    },
    /// The MFT's own record (record 0) is damaged, or has no non-resident `$DATA`.
    NtfsMft {
        /// Where record 0 is on the virtual disk.
        offset: u64,
        /// What is wrong with it; `None`: it has no non-resident `$DATA` attribute.
        damage: Option<String>,
    },
    /// A record number past the MFT's records (or in a hole of the MFT).
    NtfsRecordNumber {
        /// Where the volume starts on the virtual disk.
        volume_start: u64,
        /// The record asked for.
        record: u64,
        /// Records in the MFT.
        records: u64,
    },
    /// An MFT record is damaged (its signature, fixups or attributes).
    NtfsRecord {
        /// Where the record is on the virtual disk.
        offset: u64,
        /// The record's number.
        record: u64,
        /// What is wrong.
        damage: String,
    },
    /// A file has no `$DATA` attribute of the stream's name.
    NoSuchStream {
        /// Where its record is on the virtual disk.
        offset: u64,
        /// Its path.
        path: String,
        /// Its record.
        record: u64,
        /// The stream asked for (empty: the unnamed one).
        stream: String,
    },
    /// A file's run list is damaged.
    NtfsRunList {
        /// Where its record is on the virtual disk.
        offset: u64,
        /// Its path.
        path: String,
        /// What is wrong.
        damage: String,
    },
    /// A file's data attribute is neither resident nor non-resident.
    NtfsAttribute {
        /// Where its record is on the virtual disk.
        offset: u64,
        /// Its path.
        path: String,
    },
    /// A compressed file's compression unit is not 2^1..2^8 clusters.
    NtfsCompressionUnit {
        /// Where its record is on the virtual disk.
        offset: u64,
        /// Its path.
        path: String,
        /// The unit's power of two (in clusters) as stored.
        log2: u8,
    },
    /// An ext superblock that cannot be read.
    ExtSuperblock {
        /// Where the superblock is on the virtual disk.
        offset: u64,
        /// What is wrong.
        damage: String,
    },
    /// An ext structure (an inode, an extent tree, a block map, a directory) is damaged.
    ExtDamaged {
        /// Where the volume or the structure is on the virtual disk.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// An XFS superblock that cannot be read (bad magic, impossible geometry, a wrong CRC).
    XfsSuperblock {
        /// Where the superblock is on the virtual disk.
        offset: u64,
        /// What is wrong.
        damage: String,
    },
    /// An XFS structure (an inode, an extent map, a B+tree block, a directory block) is damaged.
    XfsDamaged {
        /// Where the structure (or the volume) is on the virtual disk.
        offset: u64,
        /// What is wrong.
        message: String,
    },
}

/// How a FAT cluster chain breaks ([`FsError::FatChain`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainBreak {
    /// It reaches a cluster outside `2..=last`.
    Outside {
        /// The volume's last cluster.
        last: u32,
    },
    /// It goes through a cluster whose FAT entry is free (0).
    Free,
    /// It goes through a cluster marked bad.
    Bad,
}

impl FsError {
    /// The virtual-disk byte offset it concerns, where there is one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            FsError::PastVolumeEnd { volume_start, at, .. } => Some(volume_start.saturating_add(*at)),
            FsError::RunsGap { volume_start, .. }
            | FsError::RunsShort { volume_start, .. }
            | FsError::CompressionUnit { volume_start, .. }
            | FsError::NoFileSystem { volume_start }
            | FsError::FatBootSector { volume_start, .. }
            | FsError::FatLayout { volume_start, .. } => Some(*volume_start),
            FsError::FatChain { fat_at, .. } | FsError::FatChainLoop { fat_at, .. } => Some(*fat_at),
            FsError::FatDeletedUnrecoverable { entry_at, .. } | FsError::FatChainShort { entry_at, .. } => Some(*entry_at),
            FsError::NtfsDamaged { volume_start, .. }
            | FsError::NtfsRecordSize { volume_start, .. }
            | FsError::NtfsRecordNumber { volume_start, .. } => Some(*volume_start),
            FsError::NtfsMft { offset, .. }
            | FsError::NtfsRecord { offset, .. }
            | FsError::NoSuchStream { offset, .. }
            | FsError::NtfsRunList { offset, .. }
            | FsError::NtfsAttribute { offset, .. }
            | FsError::NtfsCompressionUnit { offset, .. }
            | FsError::NtfsIndexEntry { offset, .. }
            | FsError::NtfsIndexNode { offset, .. }
            | FsError::NtfsIndexRecordSize { offset, .. }
            | FsError::NtfsIndexLoop { offset, .. }
            | FsError::ExtSuperblock { offset, .. }
            | FsError::ExtDamaged { offset, .. }
            | FsError::XfsSuperblock { offset, .. }
            | FsError::XfsDamaged { offset, .. }
            | FsError::ExFatDamaged { offset, .. } => Some(*offset),
            FsError::NoSuchFile { .. } | FsError::NotADirectory { .. } => None,
        }
    }

    /// Its stable code (see [`crate::Error::code`]).
    pub fn code(&self) -> &'static str {
        match self {
            FsError::PastVolumeEnd { .. } => "past-volume-end",
            FsError::NoSuchFile { .. } => "no-such-file",
            FsError::NotADirectory { .. } => "not-a-directory",
            FsError::RunsGap { .. } => "runs-gap",
            FsError::RunsShort { .. } => "runs-short",
            FsError::CompressionUnit { .. } => "compression-unit",
            FsError::NoFileSystem { .. } => "diff-no-filesystem",
            FsError::FatBootSector { .. } => "fat-boot-sector",
            FsError::FatLayout { .. } => "fat-layout",
            FsError::FatChain { .. } => "fat-chain",
            FsError::FatChainLoop { .. } => "fat-chain-loop",
            FsError::FatDeletedUnrecoverable { .. } => "fat-deleted-unrecoverable",
            FsError::FatChainShort { .. } => "fat-chain-short",
            FsError::NtfsDamaged { .. } => "ntfs-damaged",
            FsError::NtfsIndexEntry { .. } => "ntfs-index-entry",
            FsError::NtfsIndexNode { .. } => "ntfs-index-node",
            FsError::NtfsIndexRecordSize { .. } => "ntfs-index-record-size",
            FsError::NtfsIndexLoop { .. } => "ntfs-index-loop",
            FsError::NtfsRecordSize { .. } => "ntfs-record-size",
            FsError::NtfsMft { .. } => "ntfs-mft",
            FsError::NtfsRecordNumber { .. } => "ntfs-record-number",
            FsError::NtfsRecord { .. } => "ntfs-record",
            FsError::NoSuchStream { .. } => "no-such-stream",
            FsError::NtfsRunList { .. } => "ntfs-run-list",
            FsError::NtfsAttribute { .. } => "ntfs-attribute",
            FsError::NtfsCompressionUnit { .. } => "ntfs-compression-unit",
            FsError::ExtSuperblock { .. } => "ext-superblock",
            FsError::ExtDamaged { .. } => "ext-damaged",
            FsError::XfsSuperblock { .. } => "xfs-superblock",
            FsError::XfsDamaged { .. } => "xfs-damaged",
            FsError::ExFatDamaged { .. } => "exfat-damaged",
        }
    }
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(at) = self.offset() {
            write!(f, "at byte {at:#x}: ")?;
        }
        match self {
            FsError::PastVolumeEnd { volume_start, volume_len, at, len } => write!(
                f,
                "reading {len} bytes at byte {at:#x} of the volume goes past its end ({volume_len:#x} bytes; the volume starts at virtual byte {volume_start:#x})"
            ),
            FsError::NoSuchFile { path, name, dir } => write!(f, "{path}: no such file or directory (no {name:?} in {dir})"),
            FsError::NotADirectory { path } => write!(f, "{path} is not a directory"),
            FsError::RunsGap { expected, .. } => {
                write!(f, "the file's runs leave a gap at byte {expected} of the file (a bug or a damaged run list)")
            }
            FsError::RunsShort { size, held, .. } => {
                write!(f, "the file is {size} bytes but its clusters hold only {held}: its chain or run list ends early")
            }
            FsError::CompressionUnit { unit, .. } => write!(f, "a compression unit of {unit} bytes is not possible"),
            FsError::NoFileSystem { .. } => f.write_str("the child side holds no file system this viewer reads"),
            FsError::FatBootSector { why, .. } => write!(f, "not a FAT boot sector: {why}"),
            FsError::FatLayout { need, volume_len, .. } => {
                write!(f, "the FAT volume's FATs and root directory end at byte {need:#x}, past the volume's end ({volume_len:#x})")
            }
            FsError::FatChain { start, cluster, broken: ChainBreak::Outside { last }, .. } => {
                write!(f, "the cluster chain from cluster {start} reaches cluster {cluster:#x}, outside the volume's clusters 2..{last}")
            }
            FsError::FatChain { start, cluster, broken, .. } => write!(
                f,
                "the cluster chain from cluster {start} goes to cluster {cluster}, whose FAT entry is {}",
                if *broken == ChainBreak::Free { "free (0)" } else { "marked bad" }
            ),
            FsError::FatChainLoop { start, cluster, .. } => {
                write!(f, "the cluster chain from cluster {start} loops: cluster {cluster} comes twice")
            }
            FsError::FatDeletedUnrecoverable { start, need, .. } => write!(
                f,
                "the deleted file's clusters ({start} and {need} after it) are not all on the volume: it cannot be recovered"
            ),
            FsError::FatChainShort { path, size, need, start, held, .. } => write!(
                f,
                "{path} is {size} bytes ({need} clusters) but its cluster chain from cluster {start} ends after {held} clusters"
            ),
            FsError::NtfsDamaged { message, .. } => write!(f, "NTFS: {message}"),
            FsError::ExFatDamaged { why, .. } => write!(f, "exFAT: {why}"),
            FsError::NtfsIndexEntry { length, room, .. } if usize::from(*length) < NTFS_INDEX_ENTRY_HEADER => write!(
                f,
                "NTFS: a directory index entry gives its length as {length} bytes, shorter than its own {NTFS_INDEX_ENTRY_HEADER}-byte header ({room} bytes are left of its index node)"
            ),
            FsError::NtfsIndexEntry { length, room, .. } => {
                write!(f, "NTFS: a directory index entry needs {length} bytes, but only {room} bytes are left of its index node")
            }
            FsError::NtfsIndexNode { start, end, .. } => {
                write!(f, "NTFS: a directory index node puts its entries at bytes {start}..{end} of it, which start past their end")
            }
            FsError::NtfsIndexLoop { max, .. } => {
                write!(f, "NTFS: a directory index's subnodes go more than {max} levels deep: they refer back to a node above them")
            }
            FsError::NtfsIndexRecordSize { size, .. } => {
                write!(f, "NTFS: a directory's index records are {size} bytes each, not a power of two from 512 to 65536")
            }
            FsError::NtfsRecordSize { size, .. } => write!(f, "NTFS: a file record of {size} bytes is not possible"),
            FsError::NtfsMft { damage: Some(d), .. } => write!(f, "NTFS: MFT record 0 ($MFT): {d}"),
            FsError::NtfsMft { damage: None, .. } => f.write_str("NTFS: MFT record 0 ($MFT) has no non-resident $DATA attribute"),
            FsError::NtfsRecordNumber { record, records, .. } => {
                write!(f, "NTFS: MFT record {record} is not in the MFT ({records} records)")
            }
            FsError::NtfsRecord { record, damage, .. } => write!(f, "NTFS: MFT record {record}: {damage}"),
            FsError::NoSuchStream { path, record, stream, .. } => {
                write!(f, "NTFS: {path} (record {record}) has no $DATA attribute named {stream:?}")
            }
            FsError::NtfsRunList { path, damage, .. } => write!(f, "NTFS: the run list of {path} is damaged: {damage}"),
            FsError::NtfsAttribute { path, .. } => write!(f, "NTFS: {path}'s data attribute is neither resident nor non-resident"),
            FsError::NtfsCompressionUnit { path, log2, .. } => write!(
                f,
                "NTFS: {path} is marked compressed but its compression unit is 2^{log2} clusters; it is not read"
            ),
            FsError::ExtSuperblock { damage, .. } => write!(f, "ext superblock: {damage}"),
            FsError::ExtDamaged { message, .. } => write!(f, "ext: {message}"),
            FsError::XfsSuperblock { damage, .. } => write!(f, "XFS superblock: {damage}"),
            FsError::XfsDamaged { message, .. } => write!(f, "XFS: {message}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_offset_and_codes_stay_stable() {
        let e = FsError::PastVolumeEnd { volume_start: 0x100000, volume_len: 0x2000, at: 0x1ff0, len: 32 };
        assert_eq!(
            e.to_string(),
            "at byte 0x101ff0: reading 32 bytes at byte 0x1ff0 of the volume goes past its end (0x2000 bytes; the volume starts at virtual byte 0x100000)"
        );
        assert_eq!((e.code(), e.offset()), ("past-volume-end", Some(0x101ff0)));
        let e = FsError::NoSuchFile { path: "/a/b".into(), name: "b".into(), dir: "/a".into() };
        assert_eq!(e.to_string(), "/a/b: no such file or directory (no \"b\" in /a)");
        assert_eq!((e.code(), e.offset()), ("no-such-file", None));
        assert_eq!(FsError::RunsShort { volume_start: 512, size: 10, held: 4 }.code(), "runs-short");
        let e = FsError::FatChain { fat_at: 0x8200, start: 5, cluster: 0x9999, broken: ChainBreak::Outside { last: 100 } };
        assert_eq!(
            e.to_string(),
            "at byte 0x8200: the cluster chain from cluster 5 reaches cluster 0x9999, outside the volume's clusters 2..100"
        );
        let e = FsError::FatChain { fat_at: 0x8200, start: 5, cluster: 7, broken: ChainBreak::Bad };
        assert_eq!((e.code(), e.to_string().ends_with("whose FAT entry is marked bad")), ("fat-chain", true));
    }
}
