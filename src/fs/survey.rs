//! What a comparison of two versions of one volume asks of its file system (`crate::diff`):
//! who each file is across the versions, where its own record lies, which of its stored bytes
//! are its times and attributes, which bytes of the volume are the file system's structures,
//! which clusters are in use, and which deleted files left a trace. Each file system answers
//! here, so that the comparison knows none of them by name.

use super::{fat, Entry, FileSystem, ReadVirtual, Run, Volume};

/// Who a file is across two versions of a volume (its directory slot or name may change):
/// NTFS record and sequence number, ext inode and generation, FAT first cluster and creation
/// time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileId {
    scheme: Scheme,
    number: u64,
    version: u64,
}

/// How a file system numbers its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Scheme {
    /// A record whose sequence number goes up when it is freed (NTFS).
    Record,
    /// An inode and its generation (ext).
    Inode,
    /// A first cluster and a creation stamp (FAT).
    Cluster,
}

impl FileId {
    /// NTFS: record `record`, sequence number `sequence`.
    pub(crate) fn record(record: u64, sequence: u16) -> FileId {
        FileId { scheme: Scheme::Record, number: record, version: u64::from(sequence) }
    }

    /// ext: inode `inode` of generation `generation`.
    pub(crate) fn inode(inode: u64, generation: u32) -> FileId {
        FileId { scheme: Scheme::Inode, number: inode, version: u64::from(generation) }
    }

    /// FAT: first cluster `cluster`, created at `stamp` (date, time and 10 ms as stored).
    pub(crate) fn cluster(cluster: u64, stamp: u64) -> FileId {
        FileId { scheme: Scheme::Cluster, number: cluster, version: stamp }
    }

    /// True when freeing the file changes its id (NTFS raises a record's sequence number): a
    /// deleted file is then the same as a live one of the other version when [`FileId::same_slot`]
    /// and the name agree.
    pub fn changes_when_freed(&self) -> bool {
        self.scheme == Scheme::Record
    }

    /// True when both are the same record or inode, whatever its version.
    pub fn same_slot(&self, other: &FileId) -> bool {
        self.scheme == other.scheme && self.number == other.number
    }
}

/// What the file system's own metadata says of one entry, beyond the entry itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Who the file is; `None` when it has no stable identity (a FAT file without clusters, the
    /// root): then it is matched by path.
    pub id: Option<FileId>,
    /// Its times and attributes as stored (the access time left out): a change in them is a
    /// metadata change.
    pub meta: Vec<u8>,
    /// Where the entry itself lies (FAT directory slot, MFT record, inode), volume bytes.
    pub entry_at: Option<(u64, u64)>,
    /// The name of the structure of the file system it is (NTFS `$` files), if it is one.
    pub structure: Option<String>,
    /// A stream whose bytes belong to the structure too (`$UsnJrnl:$J`, `$Secure:$SDS`).
    pub structure_stream: Option<&'static str>,
    /// For a deleted FAT entry: false when its name lost its first character.
    pub name_complete: Option<bool>,
    /// Clusters the file's record has allocated (whole clusters, past the initialized size
    /// too), sorted and joined: NTFS's non-resident attributes.
    pub allocated: Vec<(u64, u64)>,
}

/// A structure of the file system: `[start, end)` volume bytes and its name.
pub type Structure = (u64, u64, &'static str);

impl FileSystem {
    /// What the metadata says of `entry` (read again from its directory slot, record or inode);
    /// what cannot be read is left out.
    pub fn facts<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, entry: &Entry) -> Facts {
        match self {
            FileSystem::Fat(_) => fat::facts(vol, entry),
            FileSystem::ExFat(x) => x.facts(entry),
            FileSystem::Ntfs(n) => n.facts(vol, entry),
            FileSystem::Ext(x) => x.facts(vol, entry),
            FileSystem::Xfs(x) => x.facts(vol, entry),
        }
    }

    /// True when files are matched by path as well as by id: FAT's and exFAT's id (first
    /// cluster and creation time) changes when a program saves by writing a new file.
    pub fn match_by_path(&self) -> bool {
        matches!(self, FileSystem::Fat(_) | FileSystem::ExFat(_))
    }

    /// True when deleted entries stay in directories (FAT, ext) and [`FileSystem::list`] gives
    /// them; false when they are found in freed records instead
    /// ([`FileSystem::freed_entries`]).
    pub fn deleted_in_directories(&self) -> bool {
        !matches!(self, FileSystem::Ntfs(_))
    }

    /// True when a deleted file's runs still say where its data was (ext clears a deleted
    /// inode's extents: its inode can be followed, its data cannot).
    pub fn deleted_runs_kept(&self) -> bool {
        !matches!(self, FileSystem::Ext(_) | FileSystem::Xfs(_))
    }

    /// Deleted entries, with a name, whose records lie in the `changed` volume bytes (NTFS:
    /// MFT records no longer in use), at most `limit`; none where deleted entries stay in
    /// directories.
    pub fn freed_entries<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, changed: &[(u64, u64)], limit: usize) -> Vec<Entry> {
        match self {
            FileSystem::Ntfs(n) => n.freed_entries(vol, changed, limit),
            FileSystem::Fat(_) | FileSystem::ExFat(_) | FileSystem::Ext(_) | FileSystem::Xfs(_) => Vec::new(),
        }
    }

    /// The structures at fixed places (boot sectors, FAT tables, root directory, group
    /// descriptors, bitmaps, inode tables, journal), in the order they claim bytes: where two
    /// claim the same bytes the first listed wins.
    pub fn structures<R: ReadVirtual>(&mut self, vol: &mut Volume<R>) -> Vec<Structure> {
        match self {
            FileSystem::Fat(f) => f.structures(vol),
            FileSystem::ExFat(x) => x.structures(vol),
            FileSystem::Ntfs(n) => n.structures(vol),
            FileSystem::Ext(x) => x.structures(vol),
            FileSystem::Xfs(x) => x.structures(vol),
        }
    }

    /// Blocks that map files' data outside their records (ext extent-tree nodes below the
    /// inode and indirect blocks) for the files numbered `ids`, as sorted volume byte ranges,
    /// with their name; `None` where files' maps live in records and tables already counted.
    pub fn map_blocks<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, ids: &[u64]) -> Option<(&'static str, Vec<(u64, u64)>)> {
        match self {
            FileSystem::Ext(x) => Some(("extent trees and indirect blocks", x.map_blocks(vol, ids))),
            FileSystem::Xfs(x) => Some(("extent map B+tree blocks", x.map_blocks(vol, ids))),
            FileSystem::Fat(_) | FileSystem::ExFat(_) | FileSystem::Ntfs(_) => None,
        }
    }

    /// True when the cluster (block) holding volume byte `at` is marked in use; true too when
    /// that cannot be read.
    pub fn in_use<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, at: u64) -> bool {
        match self {
            FileSystem::Fat(f) => f.in_use(vol, at),
            FileSystem::ExFat(x) => x.in_use(vol, at),
            FileSystem::Ntfs(n) => n.in_use(vol, at),
            FileSystem::Ext(x) => x.in_use(vol, at),
            FileSystem::Xfs(x) => x.in_use(vol, at),
        }
    }
}

/// Byte ranges of a file's data on the volume (runs `runs`, `size` bytes, rounded up to whole
/// clusters of `cluster` bytes), sorted and joined.
pub fn data_ranges(runs: &[Run], size: u64, cluster: u64) -> Vec<(u64, u64)> {
    let limit = size.div_ceil(cluster.max(1)).saturating_mul(cluster.max(1));
    let v: Vec<(u64, u64)> = runs
        .iter()
        .filter(|r| r.file_offset < limit)
        .filter_map(|r| r.volume_offset.map(|at| (at, at.saturating_add(r.len.min(limit - r.file_offset)))))
        .collect();
    joined(v)
}

/// Ranges in any order, sorted and joined where they touch or overlap.
pub fn joined(mut v: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    v.sort_unstable();
    let mut out = Vec::new();
    for (s, e) in v {
        push_range(&mut out, s, e);
    }
    out
}

/// Appends `[s, e)` to sorted, joined ranges whose last starts at or before `s`.
pub fn push_range(out: &mut Vec<(u64, u64)>, s: u64, e: u64) {
    if s >= e {
        return;
    }
    match out.last_mut() {
        Some(l) if s <= l.1 => l.1 = l.1.max(e),
        _ => out.push((s, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_different_schemes_never_match() {
        assert_ne!(FileId::record(5, 1), FileId::inode(5, 1));
        assert_ne!(FileId::inode(5, 1), FileId::cluster(5, 1));
        assert!(!FileId::record(5, 1).same_slot(&FileId::inode(5, 1)));
        assert!(FileId::record(5, 1).same_slot(&FileId::record(5, 2)));
        assert!(FileId::record(5, 1).changes_when_freed() && !FileId::inode(5, 1).changes_when_freed());
    }

    #[test]
    fn data_ranges_round_up_to_clusters_and_join() {
        let run = |file_offset, len, volume_offset| Run { file_offset, len, volume_offset };
        let runs = [run(0, 4096, Some(8192)), run(4096, 4096, Some(12288)), run(8192, 4096, None), run(12288, 8192, Some(0))];
        // 13000 bytes: the last run counts to the end of its first cluster (16384 in the file).
        assert_eq!(data_ranges(&runs, 13000, 4096), vec![(0, 4096), (8192, 16384)]);
        assert_eq!(data_ranges(&runs, 0, 4096), vec![]);
        assert_eq!(joined(vec![(5, 9), (0, 5), (20, 20), (8, 12)]), vec![(0, 12)]);
    }
}
