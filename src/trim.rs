//! What `compact --trim` and `convert --trim` need not keep: the bytes of the virtual disk that
//! every recognised file system on it marks free. Space that no recognised file system covers
//! (unknown partitions, gaps, a partition table's own sectors) is never free here.

use std::sync::Arc;

use serde::Serialize;

use crate::disk::{BitmapCache, Steps};
use crate::error::Result;
use crate::fs::free::{FreeCursor, Map};
use crate::fs::survey::push_range;
use crate::fs::{FileSystem, ReadVirtual, Volume};
use crate::parts::{self, Partition, Role};
use crate::reader::{DiskReader, ReadAt};
use crate::Disk;

/// Free space on a disk, asked for in ascending stretches (a forward cursor), so that an
/// implementation reads each allocation map once and keeps only a window of it in memory.
pub trait FreeRanges {
    /// Appends to `out` the free byte ranges of the virtual disk within `[start, end)`, sorted
    /// and not overlapping. `disk` is the chain as of the layer being written (layer 0 first) and
    /// `sources[i]` reads layer `i`'s file: the allocation maps are read through them. Calls
    /// come with ascending, non-overlapping ranges.
    fn free_in(&mut self, disk: &Disk, sources: &[&dyn ReadAt], start: u64, end: u64, out: &mut Vec<(u64, u64)>) -> Result<()>;
}

/// One volume of the disk as [`FreeSpace`] found it: `compact --trim`'s summary lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrimVolume {
    /// The partition's number as `parts` numbers it (from 1); `None` for a file system that
    /// fills the disk without a partition table. An LVM2 logical volume: its first extent's.
    pub partition: Option<u32>,
    /// The LVM2 logical volume (`VG/LV`), when it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    /// Virtual byte offset of its first byte.
    pub start: u64,
    /// Its length in bytes.
    pub len: u64,
    /// The file system found in it (`ntfs`, `fat32`, `ext4`, ...), if any.
    pub filesystem: Option<String>,
    /// Bytes its allocation map marks free (0 when the map is not read).
    pub free_bytes: u64,
    /// True when its free space is given back; false when it is kept whole.
    pub trimmed: bool,
    /// Why it is kept whole, in plain words.
    pub reason: Option<String>,
}

/// The free space of every recognised file system on a disk, a forward cursor per volume over
/// its allocation map ([`crate::fs::free`]). Partitions of the MBR (logical ones inside an
/// extended partition too) or GPT, or a file system filling the disk without a table (WSL's
/// `ext4.vhdx`), in the disk's logical sectors (512 or 4096 bytes). A volume is kept whole
/// (never free) when its file system is not recognised or cannot be opened, was not closed
/// cleanly (its map may be stale), its map cannot be read, or it overlaps another partition.
///
/// [`FreeSpace::new`] reads the table, each volume's superblock and its whole map once (to
/// count [`TrimVolume::free_bytes`]); [`FreeRanges::free_in`] then reads each window of a map
/// at most once more, as ascending ranges reach it.
pub struct FreeSpace {
    volumes: Vec<TrimVolume>,
    /// Per volume, its cursor when it is trimmed.
    cursors: Vec<Option<FreeCursor>>,
    /// Per volume, an LVM2 logical volume's extents on the disk.
    extents: Vec<Option<Arc<crate::lvm::Map>>>,
    /// The bitmaps a reader of the disk has read, kept between calls.
    reader_parts: Option<(BitmapCache, Steps)>,
    bytes_read: u64,
}

impl FreeSpace {
    /// Reads the partition table of `disk` (read through `sources`, `sources[i]` layer `i`'s
    /// file: for a differencing disk, the disk as of its child, through the chain), opens each
    /// volume's file system and counts its free space.
    pub fn new(disk: &Disk, sources: &[&dyn ReadAt]) -> Result<FreeSpace> {
        let mut reader = DiskReader::new(disk, sources.to_vec())?;
        let table = parts::read(&mut reader)?;
        let mut volumes = Vec::new();
        let mut cursors = Vec::new();
        let mut bytes_read = 0u64;
        let mut extents = Vec::new();
        let mut parts: Vec<&Partition> = table.partitions.iter().filter(|p| p.role != Role::Extended && !p.is_empty()).collect();
        parts.sort_by_key(|p| (p.offset(), p.index));
        // The LVM2 logical volumes after the partitions (their physical volumes are kept whole).
        parts.extend(table.volume_partitions.iter());
        for p in &parts {
            let mut vol = if p.extents.is_some() { p.volume(&mut reader) } else { Volume::new(&mut reader, p.offset(), p.len()) };
            extents.push(p.extents.clone());
            let mut v = TrimVolume {
                partition: (p.role != Role::Whole).then_some(p.index),
                volume: p.volume_name().map(str::to_string),
                start: vol.start(),
                len: vol.len(),
                filesystem: p.filesystem.map(|k| k.name().to_string()),
                free_bytes: 0,
                trimmed: false,
                reason: None,
            };
            // An LV whose volume group's copies of metadata disagree: what one calls free the other may hold.
            let disputed = p.volume_name().and_then(|n| table.volumes.iter().find(|v| v.name() == n)?.disputed.clone());
            let cursor = match disputed.map_or_else(|| open_cursor(&mut vol), Err) {
                Ok((cursor, free)) => {
                    v.free_bytes = free;
                    Some(cursor)
                }
                Err(why) => {
                    let pv = p.extents.is_none()
                        && table.volumes.iter().flat_map(|l| &l.segments).flat_map(|s| &s.pvs).any(|x| x.partition == Some(p.index));
                    v.reason = Some(match pv {
                        true => "it is an LVM2 physical volume: its logical volumes are trimmed on their own".into(),
                        false => why,
                    });
                    None
                }
            };
            bytes_read += vol.bytes_fetched();
            v.trimmed = cursor.is_some();
            volumes.push(v);
            cursors.push(cursor);
        }
        // A volume that overlaps another (a damaged table) is kept whole, and so is the other:
        // what one calls free the other may hold.
        // Logical volumes: their extents on the disk, each pair compared (a partition holding a
        // physical volume holds no file system, so it is never trimmed).
        let areas: Vec<Vec<(u64, u64)>> = (0..volumes.len())
            .map(|i| match &extents[i] {
                Some(m) => m.areas().collect(),
                None => vec![(volumes[i].start, volumes[i].start.saturating_add(volumes[i].len))],
            })
            .collect();
        for i in 0..volumes.len() {
            for j in i + 1..volumes.len() {
                let (a, b) = (&volumes[i], &volumes[j]);
                let lvs = extents[i].is_some() || extents[j].is_some();
                let (ai, bj) = (&areas[i], &areas[j]);
                let overlap = ai.iter().any(|x| bj.iter().any(|y| x.0 < y.1 && y.0 < x.1));
                if !overlap || lvs && (extents[i].is_none() && a.filesystem.is_none() || extents[j].is_none() && b.filesystem.is_none()) {
                    continue;
                }
                let name = |v: &TrimVolume| match (&v.volume, v.partition) {
                    (Some(lv), _) => format!("logical volume {lv}"),
                    (None, Some(n)) => format!("partition {n}"),
                    (None, None) => "the whole-disk volume".to_string(),
                };
                let (na, nb) = (name(a), name(b));
                for (k, other) in [(i, nb), (j, na)] {
                    volumes[k].trimmed = false;
                    volumes[k].reason = Some(format!("it overlaps {other}, which may hold what it calls free"));
                    cursors[k] = None;
                }
            }
        }
        Ok(FreeSpace { volumes, cursors, extents, reader_parts: Some(reader.into_parts()), bytes_read })
    }

    /// The volumes found, in disk order, each trimmed or kept whole with its reason.
    pub fn volumes(&self) -> &[TrimVolume] {
        &self.volumes
    }

    /// Bytes of the virtual disk read so far (partition table, superblocks, allocation maps).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }
}

/// The volume's map and its free bytes, or why the volume is kept whole.
fn open_cursor<R: ReadVirtual>(vol: &mut Volume<R>) -> std::result::Result<(FreeCursor, u64), String> {
    let mut fs = match FileSystem::open(vol) {
        Ok(Some(fs)) => fs,
        Ok(None) => return Err("no file system this viewer reads is in it, so it is kept as it is".into()),
        Err(e) => return Err(format!("its file system cannot be opened: {e}")),
    };
    let map = match Map::open(&mut fs, vol) {
        Ok(Ok(map)) => map,
        Ok(Err(why)) => return Err(why),
        Err(e) => return Err(format!("its allocation map cannot be read: {e}")),
    };
    let mut cursor = FreeCursor::new(map);
    let free = cursor.free_bytes(vol).map_err(|e| format!("its allocation map cannot be read: {e}"))?;
    Ok((cursor, free))
}

impl FreeRanges for FreeSpace {
    fn free_in(&mut self, disk: &Disk, sources: &[&dyn ReadAt], start: u64, end: u64, out: &mut Vec<(u64, u64)>) -> Result<()> {
        let wanted: Vec<usize> = (0..self.volumes.len())
            .filter(|&i| {
                let v = &self.volumes[i];
                self.cursors[i].is_some()
                    && match &self.extents[i] {
                        Some(m) => m.areas().any(|(a, b)| a < end && start < b),
                        None => v.start < end && start < v.start.saturating_add(v.len),
                    }
            })
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let mut reader = match self.reader_parts.take() {
            Some((cache, steps)) => DiskReader::with_parts(disk, sources.to_vec(), cache, steps)?,
            None => DiskReader::new(disk, sources.to_vec())?,
        };
        let mut ranges = Vec::new();
        let mut mapped = Vec::new();
        for i in wanted {
            let v = &self.volumes[i];
            let Some(cursor) = self.cursors[i].as_mut() else { continue };
            if let Some(map) = &self.extents[i] {
                // A logical volume: each run of the disk range that holds its bytes, asked in
                // its own offsets and put back where its extents are.
                let mut vol = Volume::mapped(&mut reader, v.start, map.len(), map.clone());
                let mut runs = Vec::new();
                map.runs(start, end, |disk, len, lv| runs.push((disk, len, lv)));
                let mut done = Ok(());
                for (disk, len, lv) in runs {
                    ranges.clear();
                    done = cursor.free_in(&mut vol, lv, lv + len, &mut ranges);
                    if done.is_err() {
                        break;
                    }
                    mapped.extend(ranges.iter().map(|&(a, b)| (disk + (a - lv), disk + (b - lv))));
                }
                self.bytes_read += vol.bytes_fetched();
                done?;
                continue;
            }
            let mut vol = Volume::new(&mut reader, v.start, v.len);
            let (s, e) = (start.max(v.start) - v.start, end.min(v.start + v.len) - v.start);
            ranges.clear();
            let done = cursor.free_in(&mut vol, s, e, &mut ranges);
            self.bytes_read += vol.bytes_fetched();
            done?;
            for &(a, b) in &ranges {
                push_range(out, v.start + a, v.start + b);
            }
        }
        if !mapped.is_empty() {
            mapped.append(out);
            mapped.sort_unstable();
            for (a, b) in mapped {
                push_range(out, a, b);
            }
        }
        self.reader_parts = Some(reader.into_parts());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::open_layer;
    use crate::vhd::writer::DiskBuilder;

    /// Sectors of the test FAT16 volume: 1 reserved sector, 2 FATs of 32 sectors, 512 root
    /// entries (32 sectors), so cluster 2 is at sector 97 and there are 8095 clusters.
    const SECTORS: u64 = 8192;
    const DATA: u64 = 97 * 512;
    const CLUSTERS: u64 = SECTORS - 97;

    /// A FAT16 volume whose clusters `used` are in use; `entry1` is FAT entry 1.
    fn fat16(used: &[u64], entry1: u16) -> Vec<u8> {
        let mut v = vec![0u8; (SECTORS * 512) as usize];
        let put16 = |v: &mut Vec<u8>, at: usize, x: u16| v[at..at + 2].copy_from_slice(&x.to_le_bytes());
        v[..3].copy_from_slice(&[0xEB, 0x3C, 0x90]);
        put16(&mut v, 0x0B, 512);
        v[0x0D] = 1;
        put16(&mut v, 0x0E, 1);
        v[0x10] = 2;
        put16(&mut v, 0x11, 512);
        put16(&mut v, 0x13, SECTORS as u16);
        v[0x15] = 0xF8;
        put16(&mut v, 0x16, 32);
        v[0x26] = 0x29;
        v[510..512].copy_from_slice(&[0x55, 0xAA]);
        for fat in [512usize, 512 + 32 * 512] {
            put16(&mut v, fat, 0xFFF8);
            put16(&mut v, fat + 2, entry1);
            for &c in used {
                put16(&mut v, fat + 2 * c as usize, 0xFFFF);
            }
        }
        v
    }

    /// A fixed VHD of an MBR disk with the partitions `(start sector, sectors, volume)`.
    fn disk(parts: &[(u64, u64, &[u8])]) -> (Disk, Vec<u8>) {
        let size = parts.iter().map(|p| (p.0 + p.1) * 512).max().unwrap_or(0) + (1 << 20);
        let mut mbr = vec![0u8; 512];
        for (k, &(start, count, _)) in parts.iter().enumerate() {
            let e = 0x1BE + 16 * k;
            mbr[e + 4] = 0x06;
            mbr[e + 8..e + 12].copy_from_slice(&(start as u32).to_le_bytes());
            mbr[e + 12..e + 16].copy_from_slice(&(count as u32).to_le_bytes());
        }
        mbr[510..512].copy_from_slice(&[0x55, 0xAA]);
        let mut b = DiskBuilder::fixed(size);
        b.write(0, &mbr);
        for &(start, count, vol) in parts {
            b.write(start * 512, &vol[..vol.len().min((count * 512) as usize)]);
        }
        let file = b.build();
        let disk = Disk::new(vec![open_layer(&file).unwrap()], false).unwrap();
        (disk, file)
    }

    fn free_of(disk: &Disk, file: &dyn ReadAt, start: u64, end: u64) -> (FreeSpace, Vec<(u64, u64)>) {
        let sources: [&dyn ReadAt; 1] = [file];
        let mut free = FreeSpace::new(disk, &sources).unwrap();
        let mut out = Vec::new();
        free.free_in(disk, &sources, start, end, &mut out).unwrap();
        (free, out)
    }

    #[test]
    fn a_fat_volume_frees_its_clusters_with_entry_0_and_nothing_before_cluster_2() {
        let vol = fat16(&[2, 3, 4, 100], 0xFFFF);
        let (disk, file) = disk(&[(2048, SECTORS, &vol)]);
        let (free, out) = free_of(&disk, &file, 0, disk.size());
        let at = 2048 * 512 + DATA;
        assert_eq!(out, vec![(at + 3 * 512, at + 98 * 512), (at + 99 * 512, at + CLUSTERS * 512)]);
        let v = &free.volumes()[0];
        assert_eq!((v.partition, v.trimmed, v.free_bytes), (Some(1), true, (CLUSTERS - 4) * 512), "{v:?}");
        // A piece of a free cluster is free as asked; a piece of a used one is not.
        let (_, out) = free_of(&disk, &file, at + 3 * 512 + 100, at + 3 * 512 + 200);
        assert_eq!(out, vec![(at + 3 * 512 + 100, at + 3 * 512 + 200)]);
        let (_, out) = free_of(&disk, &file, at + 98 * 512 + 1, at + 99 * 512 - 1);
        assert!(out.is_empty());
    }

    #[test]
    fn overlapping_partitions_are_both_kept_whole() {
        let vol = fat16(&[], 0xFFFF);
        let (disk, file) = disk(&[(2048, SECTORS, &vol), (2048 + 4096, SECTORS, &vol)]);
        let (free, out) = free_of(&disk, &file, 0, disk.size());
        assert!(out.is_empty(), "{out:?}");
        for (v, other) in free.volumes().iter().zip(["partition 2", "partition 1"]) {
            assert!(!v.trimmed && v.reason.as_deref().unwrap().contains(other), "{v:?}");
        }
    }

    #[test]
    fn a_fat_claiming_more_than_its_partition_is_free_only_inside_it() {
        let vol = fat16(&[], 0xFFFF);
        // The partition holds half the volume the boot sector claims; a second one follows it.
        let other = fat16(&(2..CLUSTERS + 2).collect::<Vec<_>>(), 0xFFFF);
        let (disk, file) = disk(&[(2048, SECTORS / 2, &vol), (2048 + SECTORS / 2, SECTORS, &other)]);
        let (free, out) = free_of(&disk, &file, 0, disk.size());
        let end = (2048 + SECTORS / 2) * 512;
        assert_eq!(out, vec![(2048 * 512 + DATA, end)]);
        assert_eq!(free.volumes()[0].free_bytes, end - 2048 * 512 - DATA);
        assert_eq!(free.volumes()[1].free_bytes, 0, "every cluster of the second in use");
    }

    #[test]
    fn a_fat16_without_its_clean_shutdown_bit_is_kept_whole() {
        let vol = fat16(&[], 0x7FFF);
        let (disk, file) = disk(&[(2048, SECTORS, &vol)]);
        let (free, out) = free_of(&disk, &file, 0, disk.size());
        assert!(out.is_empty());
        let v = &free.volumes()[0];
        assert!(!v.trimmed && v.reason.as_deref().unwrap().contains("clean-shutdown"), "{v:?}");
        assert_eq!(v.filesystem.as_deref(), Some("fat16"));
    }

    #[test]
    fn an_exfat_whose_boot_sector_is_damaged_is_kept_whole() {
        let mut vol = vec![0u8; 4096 * 512];
        vol[3..11].copy_from_slice(b"EXFAT   ");
        vol[510..512].copy_from_slice(&[0x55, 0xAA]);
        let (disk, file) = disk(&[(2048, 4096, &vol)]);
        let (free, out) = free_of(&disk, &file, 0, disk.size());
        assert!(out.is_empty());
        let v = &free.volumes()[0];
        assert_eq!((v.filesystem.as_deref(), v.trimmed), (Some("exfat"), false));
        assert!(v.reason.as_deref().unwrap().contains("exFAT: the boot sector: bytes per sector"), "{v:?}");
    }

    #[test]
    fn a_disk_without_a_file_system_has_no_free_space() {
        let (disk, file) = disk(&[(2048, 4096, &[0x5A; 4096 * 512])]);
        let (free, out) = free_of(&disk, &file, 0, disk.size());
        assert!(out.is_empty());
        let v = &free.volumes()[0];
        assert!(!v.trimmed && v.filesystem.is_none() && v.reason.is_some(), "{v:?}");
    }
}
