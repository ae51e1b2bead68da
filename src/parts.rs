//! Partition tables on the virtual disk: MBR (primaries, the extended/logical chain, the
//! protective MBR), GPT (the header and entry array with their CRC-32s, the backup header
//! compared with the primary), or none (a file system from sector 0).
//!
//! Sector numbers are in the disk's logical sectors ([`ReadVirtual::sector_size`]: 512, or a
//! VHDX's 4096): on a 4096-byte-sector disk the GPT header is at byte 4096 and an MBR's starts and
//! lengths count 4096-byte sectors. The MBR and each EBR are the first 512 bytes of their sector
//! (the boot signature at byte 510 of it, whatever the sector's size).
//!
//! Findings here carry *virtual disk* byte offsets (the place on the disk, not in a VHD file).
//! Damage is a finding, never a panic or a hang: the logical chain is followed with a visited
//! set and a bound, and GPT entry arrays are bounded.

use serde::Serialize;

use crate::bytes::{crc32, le16, le32, le64, utf16le_nul, Guid};
use crate::error::{Error, Result};
use crate::fields::{Raw, Structure};
use crate::finding::{Finding, Severity};
use crate::fs::{self, FsKind, ReadVirtual, Volume};

/// Bytes of an MBR (or EBR): the start of its sector, whatever the sector's size.
const MBR_LEN: usize = 512;
/// The most logical partitions followed in an extended partition.
pub const MAX_LOGICAL: usize = 128;
/// The most GPT entries read.
pub const MAX_GPT_ENTRIES: u32 = 4096;

/// A disk read in sectors of `sector_size` bytes: raw bytes (which [`ReadVirtual`] reads in
/// 512-byte sectors) or another disk, read as a disk of other sectors.
#[derive(Debug, Clone)]
pub struct Sectors<R> {
    /// The disk.
    pub inner: R,
    /// Bytes per sector.
    pub sector_size: u32,
}

impl<R: ReadVirtual> ReadVirtual for Sectors<R> {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn read_virtual(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.inner.read_virtual(offset, buf)
    }
    fn sector_size(&self) -> u32 {
        self.sector_size
    }
}

/// Which kind of table the disk has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// A master boot record.
    Mbr,
    /// A GUID partition table (behind a protective MBR).
    Gpt,
    /// No table: a file system from sector 0, or nothing recognised.
    None,
}

/// What role a partition has in its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// An MBR primary partition.
    Primary,
    /// An MBR extended partition (the container of the logical ones).
    Extended,
    /// A logical partition inside the extended one.
    Logical,
    /// A GPT entry.
    Gpt,
    /// The whole disk (no table).
    Whole,
    /// An LVM2 logical volume (in [`Table::volumes`], not in the table itself).
    Volume,
}

/// One partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Partition {
    /// Numbered as Linux numbers them: MBR primaries 1-4 by slot, logicals from 5; GPT entry numbers.
    pub index: u32,
    /// First sector (the disk's logical sectors, [`Table::sector_size`] bytes each).
    pub start_sector: u64,
    /// Number of sectors (the disk's logical sectors).
    pub sector_count: u64,
    /// Bytes per sector of the disk (the table's [`Table::sector_size`]; not written out).
    #[serde(skip)]
    pub sector_size: u32,
    /// The type: `0x07` for MBR, the type GUID for GPT.
    #[serde(rename = "type")]
    pub type_code: String,
    /// The type in words.
    pub type_name: &'static str,
    /// The GPT name.
    pub name: Option<String>,
    /// Its role.
    pub role: Role,
    /// Virtual byte offset of its table entry.
    pub entry_offset: Option<u64>,
    /// True when the start is a multiple of 4 KiB.
    pub aligned_4k: bool,
    /// The file system found in it.
    pub filesystem: Option<FsKind>,
    /// The volume label.
    pub label: Option<String>,
    /// The file system's UUID as Linux names it (fstab's `UUID=`; [`fs::FileSystem::uuid`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// The partition's own id as Linux names it (fstab's `PARTUUID=`): a GPT entry's unique GUID,
    /// an MBR partition's disk signature and number (`1a2b3c4d-01`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partuuid: Option<String>,
    /// Bytes per cluster (ext: per block).
    pub cluster_size: Option<u64>,
    /// Where cluster 2 (FAT) or cluster 0 (NTFS, ext) starts, in bytes from the partition's start.
    pub data_offset: Option<u64>,
    /// A BitLocker volume's method, state, protectors and, once unlocked, the file system inside.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bitlocker: Option<crate::bitlocker::Summary>,
    /// What decrypts it, once unlocked ([`Table::unlock`]); never written out.
    #[serde(skip)]
    pub unlock: Option<crate::bitlocker::Unlock>,
    /// The LVM2 volume group whose physical volume this partition (or the whole disk) holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_group: Option<String>,
    /// An LVM2 logical volume's extents on the disk, when this is one ([`Table::volume`]).
    #[serde(skip)]
    pub extents: Option<std::sync::Arc<crate::lvm::Map>>,
}

impl Partition {
    /// A partition of `sector_count` sectors of `sector_size` bytes from `start_sector`, of type
    /// `type_code` (`type_name` in words), with nothing else known yet: `identify` looks at its
    /// file system.
    fn bare(
        index: u32,
        (start_sector, sector_count, sector_size): (u64, u64, u32),
        type_code: String,
        type_name: &'static str,
        role: Role,
    ) -> Partition {
        Partition {
            index,
            start_sector,
            sector_count,
            sector_size,
            type_code,
            type_name,
            name: None,
            role,
            entry_offset: None,
            aligned_4k: aligned_4k(start_sector, sector_size),
            filesystem: None,
            label: None,
            uuid: None,
            partuuid: None,
            cluster_size: None,
            data_offset: None,
            bitlocker: None,
            unlock: None,
            volume_group: None,
            extents: None,
        }
    }

    /// Its file system, opened on `src` (the whole disk): the error says when what it holds turns
    /// out not to be one this viewer reads after all.
    pub fn open<R: ReadVirtual>(&self, src: R) -> Result<(Volume<R>, fs::FileSystem)> {
        let mut vol = self.volume(src);
        let fs =
            fs::FileSystem::open(&mut vol)?.ok_or(Error::NotReadable { index: self.index, offset: self.offset(), recognised: None })?;
        Ok((vol, fs))
    }

    /// Its window on `src` (the whole disk): the plain volume inside once it is unlocked (an
    /// LVM2 logical volume's through its extents).
    pub fn volume<R: ReadVirtual>(&self, src: R) -> Volume<R> {
        let mapping: Option<std::sync::Arc<dyn fs::Mapping>> = match (&self.extents, &self.unlock) {
            (Some(map), Some(u)) => Some(std::sync::Arc::new(crate::lvm::Inside { map: map.clone(), unlock: u.clone() })),
            (Some(map), None) => Some(map.clone()),
            (None, Some(u)) => Some(u.decrypt()),
            (None, None) => None,
        };
        match mapping {
            Some(m) => Volume::mapped(src, self.offset(), self.len(), m),
            None => Volume::new(src, self.offset(), self.len()),
        }
    }

    /// `VG/LV` when this is an LVM2 logical volume ([`Table::volume`]).
    pub fn volume_name(&self) -> Option<&str> {
        self.name.as_deref().filter(|_| self.role == Role::Volume)
    }

    /// How the command line names it: `partition 2`, or `volume vg/root`.
    pub fn place(&self) -> String {
        match self.volume_name() {
            Some(v) => format!("volume {v}"),
            None => format!("partition {}", self.index),
        }
    }

    /// Virtual byte offset of the first sector.
    pub fn offset(&self) -> u64 {
        self.start_sector.saturating_mul(u64::from(self.sector_size))
    }
    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.sector_count.saturating_mul(u64::from(self.sector_size))
    }
    /// True when it has no sectors.
    pub fn is_empty(&self) -> bool {
        self.sector_count == 0
    }
    /// True when its file system is one this viewer reads (not the extended container; a
    /// BitLocker volume once unlocked).
    pub fn readable(&self) -> bool {
        self.role != Role::Extended
            && self.filesystem.is_some_and(|k| k != FsKind::BitLocker || self.unlock.is_some())
            && self.cluster_size.is_some()
    }
}

/// A piece of the disk that the table itself takes (the MBR, an EBR, a GPT header or entry
/// array): what `owner` names for a byte outside every partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Area {
    /// Virtual byte offset.
    pub offset: u64,
    /// Length in bytes (whole sectors).
    pub len: u64,
    /// What it is, e.g. `GPT header (primary)`.
    pub what: String,
}

/// The partition table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    /// The kind of table.
    pub scheme: Scheme,
    /// Bytes per sector: the unit of every sector number in the table (512, or 4096 on a disk
    /// with 4096-byte logical sectors).
    pub sector_size: u32,
    /// The partitions, in table order (GPT by entry number; MBR primaries, then logicals).
    pub partitions: Vec<Partition>,
    /// The GPT disk GUID.
    pub disk_guid: Option<String>,
    /// The table's structures, field by field.
    pub structures: Vec<Structure>,
    /// What is wrong or worth knowing (offsets are virtual byte offsets).
    pub findings: Vec<Finding>,
    /// Where the table's own sectors are.
    pub areas: Vec<Area>,
    /// The LVM2 logical volumes of the physical volumes in the partitions (or the whole disk).
    pub volumes: Vec<crate::lvm::LogicalVolume>,
    /// Those of [`Table::volumes`] that are read, as partitions whose bytes are their extents
    /// (named `VG/LV`, [`Role::Volume`]), in the same order.
    pub volume_partitions: Vec<Partition>,
    /// Where the LVM2 physical volumes' own bytes are (labels, metadata areas).
    #[serde(skip)]
    pub lvm_areas: Vec<Area>,
}

impl Table {
    fn empty(sector_size: u32) -> Self {
        Table {
            scheme: Scheme::None,
            sector_size,
            partitions: Vec::new(),
            disk_guid: None,
            structures: Vec::new(),
            findings: Vec::new(),
            areas: Vec::new(),
            volumes: Vec::new(),
            volume_partitions: Vec::new(),
            lvm_areas: Vec::new(),
        }
    }

    fn area(&mut self, offset: u64, len: u64, what: impl Into<String>) {
        self.areas.push(Area { offset, len, what: what.into() });
    }
}

/// The table as `vhd-viewer parts --json` writes it (and the page's `partitions()` returns).
#[derive(Debug, Serialize)]
pub struct TableJson<'a> {
    /// The kind of table.
    pub scheme: Scheme,
    /// Bytes per sector, the unit of `start_sector` and `sector_count`.
    pub sector_size: u32,
    /// The GPT disk GUID.
    pub disk_guid: &'a Option<String>,
    /// The partitions.
    pub partitions: &'a [Partition],
    /// The LVM2 logical volumes.
    pub volumes: &'a [crate::lvm::LogicalVolume],
    /// The findings.
    pub findings: &'a [Finding],
    /// The structures, field by field.
    pub structures: &'a [Structure],
}

impl Table {
    /// Partition `index`, when its file system is one this viewer reads; otherwise the error says
    /// which partitions there are, or what this one holds.
    pub fn readable_partition(&self, index: u32) -> Result<&Partition> {
        let p = self
            .partitions
            .iter()
            .find(|p| p.index == index)
            .ok_or_else(|| Error::NoSuchPartition { index, partitions: self.partitions.iter().map(|p| p.index).collect() })?;
        if !p.readable() {
            return Err(Error::NotReadable { index, offset: p.offset(), recognised: p.filesystem.map(|k| k.name()) });
        }
        Ok(p)
    }

    /// LVM2 logical volume `name` (`VG/LV`) as a partition whose bytes are its extents;
    /// otherwise the error says which volumes there are, or why this one is not read.
    pub fn volume(&self, name: &str) -> Result<&Partition> {
        let v = self.volumes.iter().find(|v| v.name() == name).ok_or_else(|| Error::Usage {
            message: if self.volumes.is_empty() {
                format!("no LVM2 logical volume {name}: the disk has none")
            } else {
                let names: Vec<String> = self.volumes.iter().map(|v| v.name()).collect();
                format!("no LVM2 logical volume {name}; the disk has {}", names.join(", "))
            },
        })?;
        self.volume_partitions.iter().find(|p| p.volume_name() == Some(name)).ok_or_else(|| Error::Usage {
            message: format!(
                "logical volume {name} is not read: {}",
                v.unreadable.as_deref().unwrap_or("its extents are not on this disk")
            ),
        })
    }

    /// LVM2 logical volume `name` ([`Table::volume`]), when its file system is one this viewer reads.
    pub fn readable_volume(&self, name: &str) -> Result<&Partition> {
        let p = self.volume(name)?;
        if !p.readable() {
            return Err(Error::Usage {
                message: format!(
                    "logical volume {name} holds {}, not a file system this viewer reads",
                    p.filesystem.map_or("nothing recognised", |k| k.name())
                ),
            });
        }
        Ok(p)
    }

    /// Unlocks BitLocker partition `index` with `key` (`progress` follows the key stretch and
    /// stops it by returning false): its `bitlocker` object then names the file system inside,
    /// and its files read as any other partition's.
    pub fn unlock<R: ReadVirtual>(
        &mut self,
        src: &mut R,
        index: u32,
        key: &crate::bitlocker::Key,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<()> {
        let unlock = self.bitlocker(src, index)?.unlock(key, progress)?;
        self.unlocked(src, index, unlock);
        Ok(())
    }

    /// BitLocker partition `index`'s metadata, read again (to unlock it step by step:
    /// [`crate::bitlocker::BitLocker::unlocking`], then [`Table::unlocked`]).
    pub fn bitlocker<R: ReadVirtual>(&self, src: &mut R, index: u32) -> Result<crate::bitlocker::BitLocker> {
        let partitions: Vec<u32> = self.partitions.iter().map(|p| p.index).collect();
        let p = self.partitions.iter().find(|p| p.index == index).ok_or(Error::NoSuchPartition { index, partitions })?;
        if p.filesystem != Some(FsKind::BitLocker) {
            return Err(Error::Usage { message: format!("partition {index} is not a BitLocker volume") });
        }
        crate::bitlocker::read(&mut Volume::new(&mut *src, p.offset(), p.len()))
    }

    /// Partition `index` unlocked by `unlock` (from its [`Table::bitlocker`]): its file system
    /// inside is identified, and its files read as any other partition's.
    pub fn unlocked<R: ReadVirtual>(&mut self, src: &mut R, index: u32, unlock: crate::bitlocker::Unlock) {
        if let Some(p) = self.partitions.iter_mut().find(|p| p.index == index) {
            opened(src, p, unlock);
        }
    }

    /// Unlocks every BitLocker partition and LVM2 logical volume that `key` opens; the error of
    /// the first it does not.
    /// The keys of volumes unlocked before ([`crate::bitlocker::Key::Unlocked`]) open theirs
    /// and leave the others locked.
    pub fn unlock_all<R: ReadVirtual>(
        &mut self,
        src: &mut R,
        key: &crate::bitlocker::Key,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<()> {
        // The locked volumes: partitions, then LVM2 logical volumes.
        let locked = |p: &&mut Partition| p.filesystem == Some(FsKind::BitLocker) && p.unlock.is_none();
        let mut todo: Vec<&mut Partition> = self.partitions.iter_mut().chain(self.volume_partitions.iter_mut()).filter(locked).collect();
        if let crate::bitlocker::Key::Unlocked(keys) = key {
            todo.retain(|p| p.bitlocker.as_ref().is_some_and(|b| keys.iter().any(|k| k.volume_id() == b.volume_id)));
        } else if todo.is_empty() {
            return Err(Error::Usage { message: "a key was given, but the disk has no BitLocker volume".into() });
        }
        todo.into_iter().try_for_each(|p| {
            let unlock = crate::bitlocker::read(&mut p.volume(&mut *src))?.unlock(key, progress)?;
            opened(src, p, unlock);
            Ok(())
        })
    }

    /// The table as `parts --json` writes it.
    pub fn json(&self) -> TableJson<'_> {
        TableJson {
            scheme: self.scheme,
            sector_size: self.sector_size,
            disk_guid: &self.disk_guid,
            partitions: &self.partitions,
            volumes: &self.volumes,
            findings: &self.findings,
            structures: &self.structures,
        }
    }
}

/// Who owns a byte of the virtual disk: `vhd-viewer owner --json` (and the page's `owner()`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiskOwner {
    /// The sector (the disk's logical sectors, `sector_size` bytes each).
    pub sector: u64,
    /// Bytes per sector.
    pub sector_size: u32,
    /// The partition it lies in.
    pub partition: Option<u32>,
    /// The LVM2 logical volume (`VG/LV`) whose extent holds it, when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    /// That partition's file system, if read.
    pub filesystem: Option<&'static str>,
    /// `file`, `dir`, `structure`, `free`, `outside` or `unknown`.
    pub kind: String,
    /// The file's or directory's path.
    pub path: Option<String>,
    /// The path, or the structure in words.
    pub what: String,
    /// The file system's number for the file.
    pub id: Option<u64>,
    /// Where in the file the byte lies.
    pub file_offset: Option<u64>,
    /// True for a deleted file whose data is still there.
    pub deleted: bool,
    /// `data`, `zero` or `missing`: how the chain supplies the sector (set by the caller).
    pub source: &'static str,
    /// The layer that supplies it (set by the caller).
    pub layer: Option<usize>,
    /// That layer's file name (set by the caller).
    pub layer_file: Option<String>,
}

/// Who owns virtual byte `offset` (its sector, of the table's size): the partition table's
/// structures, a gap, or a partition's file, file-system structure or free space. `source`,
/// `layer` and `layer_file` are left for the caller, which knows the chain.
pub fn owner<R: ReadVirtual>(src: &mut R, table: &Table, offset: u64) -> Result<DiskOwner> {
    let size = src.size();
    owner_with(table, offset, size, |p, at| {
        let mut vol = p.volume(&mut *src);
        match fs::FileSystem::open(&mut vol) {
            Ok(Some(mut fsys)) => Ok(Some((fsys.kind(), fsys.owner(&mut vol, at)?))),
            _ => Ok(None),
        }
    })
}

/// [`owner`] for a caller that keeps file systems open: `fs_owner` is given the partition (or
/// LVM2 logical volume) holding the byte and the byte's offset in it, and answers with its file
/// system and what owns the byte in it, or `None` when it holds no file system this viewer
/// reads. `size` is the disk's.
pub fn owner_with(
    table: &Table,
    offset: u64,
    size: u64,
    fs_owner: impl FnOnce(&Partition, u64) -> Result<Option<(FsKind, fs::Owner)>>,
) -> Result<DiskOwner> {
    let sector = offset / u64::from(table.sector_size.max(1));
    let part = table
        .partitions
        .iter()
        .filter(|p| p.role != Role::Extended)
        .find(|p| sector >= p.start_sector && sector - p.start_sector < p.sector_count);
    // A physical volume's byte: the logical volume whose extent holds it.
    // (On a whole-disk PV too, which no partition holds.) A PV's label or metadata area: LVM2's.
    let lv = table.volume_partitions.iter().find_map(|p| Some((p, p.extents.as_ref()?.reverse(offset)?)));
    let within = |a: &&Area| offset >= a.offset && offset - a.offset < a.len;
    let pv_area = table.lvm_areas.iter().find(within).filter(|_| lv.is_none());
    let held = lv.or_else(|| part.filter(|_| pv_area.is_none()).map(|p| (p, offset - p.offset())));
    let mut o = DiskOwner {
        sector,
        sector_size: table.sector_size,
        partition: part.map(|p| p.index),
        volume: held.and_then(|(p, _)| p.volume_name()).map(str::to_string),
        filesystem: None,
        kind: String::new(),
        path: None,
        what: String::new(),
        id: None,
        file_offset: None,
        deleted: false,
        source: "zero",
        layer: None,
        layer_file: None,
    };
    match held {
        None => match pv_area.or_else(|| table.areas.iter().find(within)) {
            Some(a) => {
                o.kind = "structure".into();
                o.what = a.what.clone();
            }
            None => {
                o.kind = "outside".into();
                o.what = if offset < size { "no partition (space between or after the partitions)" } else { "past the disk's end" }.into();
            }
        },
        Some((p, at)) => match fs_owner(p, at)? {
            Some((kind, w)) => {
                o.kind = w.kind.to_string();
                o.id = w.id;
                o.file_offset = w.file_offset;
                o.deleted = w.deleted;
                o.filesystem = Some(kind.name());
                o.path = matches!(w.kind, "file" | "dir").then(|| w.what.clone());
                o.what = w.what;
            }
            None => {
                o.kind = "unknown".into();
                o.what = format!("{}: no file system this viewer reads", p.place());
            }
        },
    }
    Ok(o)
}

fn mbr_type_name(t: u8) -> &'static str {
    match t {
        0x00 => "empty",
        0x01 => "FAT12",
        0x04 => "FAT16 (under 32 MiB)",
        0x05 => "extended (CHS)",
        0x06 => "FAT16",
        0x07 => "NTFS, exFAT or HPFS",
        0x0B => "FAT32 (CHS)",
        0x0C => "FAT32 (LBA)",
        0x0E => "FAT16 (LBA)",
        0x0F => "extended (LBA)",
        0x11 | 0x14 | 0x16 | 0x17 | 0x1B | 0x1C | 0x1E => "hidden FAT/NTFS",
        0x27 => "Windows recovery",
        0x42 => "Windows dynamic disk (LDM)",
        0x82 => "Linux swap",
        0x83 => "Linux",
        0x85 => "Linux extended",
        0x8E => "Linux LVM",
        0xA5 => "FreeBSD",
        0xA6 => "OpenBSD",
        0xAF => "Apple HFS+",
        0xEE => "GPT protective",
        0xEF => "EFI system",
        0xFD => "Linux RAID",
        _ => "unknown",
    }
}

fn is_extended(t: u8) -> bool {
    matches!(t, 0x05 | 0x0F | 0x85)
}

fn gpt_type_name(g: &str) -> &'static str {
    match g {
        "c12a7328-f81f-11d2-ba4b-00a0c93ec93b" => "EFI system",
        "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7" => "Microsoft basic data",
        "e3c9e316-0b5c-4db8-817d-f92df00215ae" => "Microsoft reserved",
        "de94bba4-06d1-4d40-a16a-bfd50179d6ac" => "Windows recovery",
        "5808c8aa-7e8f-42e0-85d2-e1e90434cfb3" => "Windows LDM metadata",
        "af9b60a0-1431-4f62-bc68-3311714a69ad" => "Windows LDM data",
        "0fc63daf-8483-4772-8e79-3d69d8477de4" => "Linux filesystem",
        "0657fd6d-a4ab-4c43-84e5-0933c84b4f4f" => "Linux swap",
        "e6d6d379-f507-44c2-a23c-238f2a3df928" => "Linux LVM",
        "4f68bce3-e8cd-4db1-96e7-fbcaf984b709" => "Linux root (x86-64)",
        "933ac7e1-2eb4-4f13-b844-0e14e2aef915" => "Linux home",
        "21686148-6449-6e6f-744e-656564454649" => "BIOS boot",
        "48465300-0000-11aa-aa11-00306543ecac" => "Apple HFS+",
        _ => "unknown",
    }
}

/// Reads the partition table of the disk `src`, in its logical sectors
/// ([`ReadVirtual::sector_size`]), and what file system each partition holds.
pub fn read<R: ReadVirtual>(src: &mut R) -> Result<Table> {
    let size = src.size();
    let ss = src.sector_size();
    let mut t = Table::empty(ss);
    if !ss.is_power_of_two() || !(512..=1 << 16).contains(&ss) {
        t.findings.push(Finding::new(
            Severity::Error,
            "sector-size",
            None,
            format!("the disk's sector size is {ss} bytes; a partition table is read in sectors of a power of two from 512 to 65536 bytes"),
        ));
        return Ok(t);
    }
    let ssb = u64::from(ss);
    let sectors = size / ssb;
    if size < ssb {
        return Ok(t);
    }
    let mut mbr = vec![0u8; MBR_LEN];
    src.read_virtual(0, &mut mbr)?;
    // A file system's boot sector at sector 0 (it may end in 55 AA too): no table.
    let mut head = vec![0u8; 2048.min(size) as usize];
    src.read_virtual(0, &mut head)?;
    let whole_fs = fs::probe_bytes(&head);
    if mbr[510..512] != [0x55, 0xAA] || whole_fs.is_some_and(|k| !matches!(k, FsKind::Ext2 | FsKind::Ext3 | FsKind::Ext4)) {
        if whole_fs.is_none() && mbr[510..512] != [0x55, 0xAA] {
            t.findings.push(Finding::info(
                "no-partition-table",
                510,
                "sector 0 ends without the boot signature 55 AA and holds no file system this viewer recognises: the disk has no partition table",
            ));
        }
        if whole_fs.is_some() {
            t.partitions.push(Partition::bare(0, (0, sectors, ss), String::new(), "whole disk", Role::Whole));
        }
        identify(src, &mut t);
        return Ok(t);
    }
    t.scheme = Scheme::Mbr;
    t.area(0, ssb, "MBR");
    let entries = mbr_entries(&mbr, 0);
    let mut s = Structure { name: "MBR".into(), offset: 0, fields: Vec::new() };
    s.fields.push(Raw { base: 0, bytes: &mbr }.row(
        (0x1B8, 4),
        "disk_signature",
        "Disk signature",
        format!("{:08x}", le32(&mbr, 0x1B8)),
        "a number Windows uses to tell disks apart",
        true,
    ));
    s.fields.push(Raw { base: 0, bytes: &mbr }.row(
        (510, 2),
        "boot_signature",
        "Boot signature",
        "55 AA".into(),
        "marks a valid MBR",
        true,
    ));
    t.structures.push(s);
    for (slot, e) in entries.iter().enumerate() {
        t.structures.push(entry_structure(&mbr, 0, slot, &format!("MBR partition entry {}", slot + 1)));
        if e.ty == 0 {
            if e.start != 0 || e.count != 0 {
                t.findings.push(Finding::warning(
                    "mbr-empty-entry-nonzero",
                    e.at,
                    format!("MBR entry {} has type 0 (empty) but a start or size; it is ignored", slot + 1),
                ));
            }
            continue;
        }
        if e.status != 0 && e.status != 0x80 {
            t.findings.push(Finding::warning(
                "mbr-status",
                e.at,
                format!("MBR entry {}'s status byte is {:#04x}; only 0x00 and 0x80 (bootable) are defined", slot + 1, e.status),
            ));
        }
    }
    if entries.iter().any(|e| e.ty == 0xEE) {
        if entries.iter().any(|e| e.ty != 0xEE && e.ty != 0) {
            t.findings.push(Finding::warning(
                "gpt-hybrid",
                0x1BE,
                "the MBR has a GPT protective entry and other partitions too (a hybrid MBR): the GPT is read, the other MBR entries are only shown",
            ));
        }
        if let Some(p) = entries.iter().find(|e| e.ty == 0xEE) {
            let want = (sectors - 1).min(0xFFFF_FFFF);
            // Windows writes 0xFFFFFFFF whatever the disk's size; that is common, not worth a note.
            if p.start != 1 || u64::from(p.count) != want && p.count != 0xFFFF_FFFF {
                t.findings.push(Finding::info(
                    "gpt-protective-size",
                    p.at,
                    format!(
                        "the protective MBR entry covers sectors {}..{} ({} sectors); the specification asks for sector 1 to the disk's end ({want} sectors)",
                        p.start,
                        u64::from(p.start) + u64::from(p.count),
                        p.count
                    ),
                ));
            }
        }
        t.scheme = Scheme::Gpt;
        read_gpt(src, sectors, &mut t)?;
    } else {
        read_mbr_partitions(src, sectors, &entries, &mut t)?;
        // Linux's PARTUUID of an MBR partition: the disk signature and the partition's number.
        let sig = le32(&mbr, 0x1B8);
        for p in t.partitions.iter_mut().filter(|_| sig != 0) {
            p.partuuid = Some(format!("{sig:08x}-{:02x}", p.index));
        }
    }
    check_layout(sectors, &mut t);
    identify(src, &mut t);
    Ok(t)
}

#[derive(Debug, Clone, Copy)]
struct MbrEntry {
    status: u8,
    ty: u8,
    start: u32,
    count: u32,
    at: u64,
}

fn mbr_entries(sector: &[u8], base: u64) -> [MbrEntry; 4] {
    let e = |i: usize| {
        let o = 0x1BE + 16 * i;
        MbrEntry { status: sector[o], ty: sector[o + 4], start: le32(sector, o + 8), count: le32(sector, o + 12), at: base + o as u64 }
    };
    [e(0), e(1), e(2), e(3)]
}

fn chs(b: &[u8]) -> String {
    let (h, s, c) = (b[0], b[1] & 0x3F, u16::from(b[1] & 0xC0) << 2 | u16::from(b[2]));
    format!("cylinder {c}, head {h}, sector {s}")
}

fn entry_structure(sector: &[u8], base: u64, slot: usize, name: &str) -> Structure {
    let o = 0x1BE + 16 * slot;
    let r = &sector[o..o + 16];
    let b = base + o as u64;
    let ty = r[4];
    Structure {
        name: name.into(),
        offset: b,
        fields: vec![
            Raw { base: b, bytes: r }.row(
                (0, 1),
                "status",
                "Status",
                if r[0] == 0x80 { "0x80 (bootable)".into() } else { format!("{:#04x}", r[0]) },
                "0x80 marks the partition the BIOS boots; 0x00 otherwise",
                r[0] == 0 || r[0] == 0x80,
            ),
            Raw { base: b, bytes: r }.row(
                (1, 3),
                "chs_first",
                "First sector (CHS)",
                chs(&r[1..4]),
                "the first sector as cylinder/head/sector; modern systems use the LBA field instead",
                true,
            ),
            Raw { base: b, bytes: r }.row(
                (4, 1),
                "partition_type",
                "Partition type",
                format!("{ty:#04x} ({})", mbr_type_name(ty)),
                "what the partition holds, by convention",
                true,
            ),
            Raw { base: b, bytes: r }.row(
                (5, 3),
                "chs_last",
                "Last sector (CHS)",
                chs(&r[5..8]),
                "the last sector as cylinder/head/sector",
                true,
            ),
            Raw { base: b, bytes: r }.row(
                (8, 4),
                "first_lba",
                "First sector (LBA)",
                le32(r, 8).to_string(),
                "where the partition starts, in sectors (relative to the table for logical partitions)",
                true,
            ),
            Raw { base: b, bytes: r }.row(
                (12, 4),
                "sector_count",
                "Sectors",
                le32(r, 12).to_string(),
                "how many sectors the partition has",
                true,
            ),
        ],
    }
}

/// True when sector `start` of `sector_size` bytes begins on a 4 KiB boundary.
fn aligned_4k(start: u64, sector_size: u32) -> bool {
    start.checked_mul(u64::from(sector_size)).is_some_and(|b| b % 4096 == 0)
}

fn part(index: u32, (start, count, ss): (u64, u64, u32), ty: u8, role: Role, at: u64) -> Partition {
    Partition { entry_offset: Some(at), ..Partition::bare(index, (start, count, ss), format!("{ty:#04x}"), mbr_type_name(ty), role) }
}

fn read_mbr_partitions<R: ReadVirtual>(src: &mut R, sectors: u64, entries: &[MbrEntry; 4], t: &mut Table) -> Result<()> {
    let mut extended = None;
    for (slot, e) in entries.iter().enumerate() {
        if e.ty == 0 {
            continue;
        }
        let role = if is_extended(e.ty) { Role::Extended } else { Role::Primary };
        t.partitions.push(part(slot as u32 + 1, (u64::from(e.start), u64::from(e.count), t.sector_size), e.ty, role, e.at));
        if role == Role::Extended {
            if extended.is_some() {
                t.findings.push(Finding::error(
                    "mbr-multiple-extended",
                    e.at,
                    format!("MBR entry {} is a second extended partition; only the first is followed", slot + 1),
                ));
            } else {
                extended = Some((u64::from(e.start), u64::from(e.count)));
            }
        }
    }
    let Some((ext_start, ext_count)) = extended else { return Ok(()) };
    // The chain of extended boot records: each holds one logical partition (relative to that
    // EBR) and a link to the next EBR (relative to the extended partition's start).
    let mut seen = std::collections::HashSet::new();
    let mut ebr = ext_start;
    let mut index = 5u32;
    let mut from = entries.iter().find(|e| is_extended(e.ty)).map_or(0, |e| e.at);
    loop {
        if !seen.insert(ebr) {
            t.findings.push(Finding::error(
                "ebr-loop",
                from,
                format!("the chain of extended boot records loops: the link at byte {from:#x} points back to the EBR at sector {ebr}, already read; the chain is cut there"),
            ));
            break;
        }
        if seen.len() > MAX_LOGICAL {
            t.findings.push(Finding::error(
                "ebr-too-many",
                from,
                format!("the extended partition has more than {MAX_LOGICAL} logical partitions; the rest are not read"),
            ));
            break;
        }
        if ebr >= sectors || ebr < ext_start || ebr >= ext_start.saturating_add(ext_count) {
            t.findings.push(Finding::error(
                "ebr-outside",
                from,
                format!("the link at byte {from:#x} points to an extended boot record at sector {ebr}, outside the extended partition (sectors {ext_start}..{}) or past the disk's end", ext_start + ext_count),
            ));
            break;
        }
        let base = ebr * u64::from(t.sector_size);
        let mut sec = vec![0u8; MBR_LEN];
        src.read_virtual(base, &mut sec)?;
        if sec[510..512] != [0x55, 0xAA] {
            t.findings.push(Finding::error(
                "ebr-signature",
                base + 510,
                format!("the extended boot record at sector {ebr} lacks the signature 55 AA; the logical partitions end here"),
            ));
            break;
        }
        let es = mbr_entries(&sec, base);
        t.area(base, u64::from(t.sector_size), format!("EBR at sector {ebr}"));
        t.structures.push(entry_structure(&sec, base, 0, &format!("EBR at sector {ebr}: logical partition {index}")));
        t.structures.push(entry_structure(&sec, base, 1, &format!("EBR at sector {ebr}: link to the next EBR")));
        if es[0].ty != 0 && es[0].count != 0 {
            let start = ebr + u64::from(es[0].start);
            t.partitions.push(part(index, (start, u64::from(es[0].count), t.sector_size), es[0].ty, Role::Logical, es[0].at));
            if start + u64::from(es[0].count) > ext_start + ext_count {
                t.findings.push(Finding::error(
                    "logical-outside",
                    es[0].at,
                    format!(
                        "logical partition {index} (sectors {start}..{}) reaches past the end of the extended partition (sector {})",
                        start + u64::from(es[0].count),
                        ext_start + ext_count
                    ),
                ));
            }
            index += 1;
        }
        if es[2].ty != 0 || es[3].ty != 0 {
            t.findings.push(Finding::warning(
                "ebr-extra-entries",
                base + 0x1DE,
                format!(
                    "the extended boot record at sector {ebr} uses its third or fourth entry, which EBRs leave empty; they are ignored"
                ),
            ));
        }
        if es[1].ty == 0 || es[1].start == 0 && es[1].count == 0 {
            break;
        }
        from = es[1].at;
        ebr = ext_start + u64::from(es[1].start);
    }
    Ok(())
}

struct GptHeader {
    at: u64,
    /// Bytes per sector of the disk it was read from.
    sector_size: u64,
    raw: Vec<u8>,
    crc_ok: bool,
    current: u64,
    backup: u64,
    first_usable: u64,
    last_usable: u64,
    disk_guid: String,
    entries_lba: u64,
    count: u32,
    entry_size: u32,
    entries_crc: u32,
}

/// The GPT header in `sec`, one whole sector read from virtual byte `at`.
fn parse_gpt_header(sec: &[u8], at: u64) -> Option<GptHeader> {
    if &sec[..8] != b"EFI PART" {
        return None;
    }
    let hsize = le32(sec, 12) as usize;
    let crc_ok = (92..=sec.len()).contains(&hsize) && {
        let mut h = sec[..hsize].to_vec();
        h[16..20].fill(0);
        crc32(&h) == le32(sec, 16)
    };
    Some(GptHeader {
        at,
        sector_size: sec.len() as u64,
        raw: sec.to_vec(),
        crc_ok,
        current: le64(sec, 24),
        backup: le64(sec, 32),
        first_usable: le64(sec, 40),
        last_usable: le64(sec, 48),
        disk_guid: Guid::at(sec, 56).to_string(),
        entries_lba: le64(sec, 72),
        count: le32(sec, 80),
        entry_size: le32(sec, 84),
        entries_crc: le32(sec, 88),
    })
}

fn header_structure(h: &GptHeader, name: &str) -> Structure {
    let r = &h.raw;
    let b = h.at;
    let hsize = le32(r, 12);
    Structure {
        name: name.into(),
        offset: b,
        fields: vec![
            Raw { base: b, bytes: r }.row((0, 8), "signature", "Signature", "EFI PART".into(), "marks a GPT header", true),
            Raw { base: b, bytes: r }.row(
                (8, 4),
                "revision",
                "Revision",
                format!("{}.{}", le16(r, 10), le16(r, 8)),
                "the GPT version (1.0)",
                true,
            ),
            Raw { base: b, bytes: r }.row(
                (12, 4),
                "header_size",
                "Header size",
                hsize.to_string(),
                "bytes covered by the header CRC (92)",
                (92..=h.raw.len() as u32).contains(&hsize),
            ),
            Raw { base: b, bytes: r }.row(
                (16, 4),
                "header_crc32",
                "Header CRC-32",
                format!("{:08x} ({})", le32(r, 16), if h.crc_ok { "good" } else { "WRONG" }),
                "CRC-32 of the header with this field zeroed",
                h.crc_ok,
            ),
            Raw { base: b, bytes: r }.row(
                (24, 8),
                "current_lba",
                "This header's sector",
                h.current.to_string(),
                "the sector this header is in",
                h.current.checked_mul(h.sector_size) == Some(b),
            ),
            Raw { base: b, bytes: r }.row(
                (32, 8),
                "backup_lba",
                "Other header's sector",
                h.backup.to_string(),
                "where the other copy of the header is (the primary names the backup and the backup the primary)",
                true,
            ),
            Raw { base: b, bytes: r }.row(
                (40, 8),
                "first_usable_lba",
                "First usable sector",
                h.first_usable.to_string(),
                "partitions may start here",
                true,
            ),
            Raw { base: b, bytes: r }.row(
                (48, 8),
                "last_usable_lba",
                "Last usable sector",
                h.last_usable.to_string(),
                "partitions must end by here",
                true,
            ),
            Raw { base: b, bytes: r }.row((56, 16), "disk_guid", "Disk GUID", h.disk_guid.clone(), "the disk's unique id", true),
            Raw { base: b, bytes: r }.row(
                (72, 8),
                "entries_lba",
                "Entry array sector",
                h.entries_lba.to_string(),
                "where the partition entries start",
                true,
            ),
            Raw { base: b, bytes: r }.row(
                (80, 4),
                "entry_count",
                "Entries",
                h.count.to_string(),
                "how many entries the array has (128 usually)",
                h.count <= MAX_GPT_ENTRIES,
            ),
            Raw { base: b, bytes: r }.row(
                (84, 4),
                "entry_size",
                "Entry size",
                h.entry_size.to_string(),
                "bytes per entry (128 usually)",
                h.entry_size >= 128 && h.entry_size % 8 == 0,
            ),
            Raw { base: b, bytes: r }.row(
                (88, 4),
                "entries_crc32",
                "Entry array CRC-32",
                format!("{:08x}", h.entries_crc),
                "CRC-32 of the whole entry array",
                true,
            ),
        ],
    }
}

/// Where a GPT header written for sectors of another size would be: the disk's other usual
/// sector size (512 or 4096), if sector 1 of it holds "EFI PART". For the finding that says why
/// the header is not where this disk's sectors put it.
fn gpt_of_other_size<R: ReadVirtual>(src: &mut R, ss: u64) -> Result<Option<u64>> {
    let other = if ss == 512 { 4096 } else { 512 };
    if src.size() < other + 8 {
        return Ok(None);
    }
    let mut sig = [0u8; 8];
    src.read_virtual(other, &mut sig)?;
    Ok((&sig == b"EFI PART").then_some(other))
}

/// The GPT's own sectors, for `owner`: the headers where they were found (else where they
/// belong, sector 1 and the last), and the entry arrays they name (else the usual 16 KiB of 128
/// entries after the primary header and before the backup).
fn gpt_areas(t: &mut Table, sectors: u64, primary: Option<&GptHeader>, backup: Option<&GptHeader>) {
    let ss = u64::from(t.sector_size);
    let usual = 16384u64.div_ceil(ss) * ss;
    let array = |h: &GptHeader| (h.entries_lba.saturating_mul(ss), (u64::from(h.count) * u64::from(h.entry_size)).div_ceil(ss) * ss);
    let last = (sectors - 1) * ss;
    t.area(ss, ss, "GPT header (primary)");
    let (at, len) = primary.map_or((2 * ss, usual), array);
    t.area(at, len, "GPT partition entries (primary)");
    t.area(backup.map_or(last, |b| b.at), ss, "GPT header (backup)");
    let (at, len) = backup.map_or((last.saturating_sub(usual), usual), array);
    t.area(at, len, "GPT partition entries (backup)");
}

fn read_gpt<R: ReadVirtual>(src: &mut R, sectors: u64, t: &mut Table) -> Result<()> {
    let ss = u64::from(t.sector_size);
    let mut sec = vec![0u8; ss as usize];
    src.read_virtual(ss, &mut sec)?;
    let primary = parse_gpt_header(&sec, ss);
    let backup_lba = primary.as_ref().map(|p| p.backup).filter(|b| *b > 1 && *b < sectors).unwrap_or(sectors - 1);
    let mut bsec = vec![0u8; ss as usize];
    src.read_virtual(backup_lba * ss, &mut bsec)?;
    let mut backup = parse_gpt_header(&bsec, backup_lba * ss);
    if backup.is_none() && backup_lba != sectors - 1 {
        src.read_virtual((sectors - 1) * ss, &mut bsec)?;
        backup = parse_gpt_header(&bsec, (sectors - 1) * ss);
    }
    gpt_areas(t, sectors, primary.as_ref(), backup.as_ref());
    match &primary {
        None => {
            let other = match gpt_of_other_size(src, ss)? {
                Some(at) => format!(
                    "; there is one at byte {at}, where disks of {at}-byte sectors have it: the table was written for sectors of another size than this disk's {ss}"
                ),
                None => String::new(),
            };
            t.findings.push(Finding::error(
                "gpt-signature",
                ss,
                format!("the protective MBR announces a GPT, but sector 1 (byte {ss}) does not start with \"EFI PART\"{other}"),
            ))
        }
        Some(p) if !p.crc_ok => t.findings.push(Finding::error(
            "gpt-header-crc",
            ss + 16,
            format!("the primary GPT header's CRC-32 is wrong (stored {:08x}): the header is damaged", le32(&p.raw, 16)),
        )),
        _ => {}
    }
    match &backup {
        None => t.findings.push(Finding::error(
            "gpt-backup-missing",
            backup_lba * ss,
            format!("there is no backup GPT header at sector {backup_lba} (the disk's last sector holds none either)"),
        )),
        Some(b) if !b.crc_ok => t.findings.push(Finding::error(
            "gpt-backup-crc",
            b.at + 16,
            format!("the backup GPT header's CRC-32 is wrong (stored {:08x})", le32(&b.raw, 16)),
        )),
        _ => {}
    }
    if let Some(p) = &primary {
        t.structures.push(header_structure(p, "GPT header (primary)"));
        if p.backup != sectors - 1 {
            t.findings.push(Finding::warning(
                "gpt-backup-not-last",
                ss + 32,
                format!("the primary header puts the backup header at sector {}, not at the disk's last sector {}: the disk may have been resized", p.backup, sectors - 1),
            ));
        }
    }
    if let Some(b) = &backup {
        t.structures.push(header_structure(b, "GPT header (backup)"));
    }
    if let (Some(p), Some(b)) = (&primary, &backup) {
        let mut diffs = Vec::new();
        if p.disk_guid != b.disk_guid {
            diffs.push("disk GUID");
        }
        if p.first_usable != b.first_usable || p.last_usable != b.last_usable {
            diffs.push("usable sectors");
        }
        if p.count != b.count || p.entry_size != b.entry_size {
            diffs.push("entry count or size");
        }
        if p.entries_crc != b.entries_crc {
            diffs.push("entry array CRC-32");
        }
        if p.current != b.backup || b.current != p.backup {
            diffs.push("the sectors each names for the other");
        }
        if !diffs.is_empty() {
            t.findings.push(Finding::error(
                "gpt-backup-differs",
                b.at,
                format!("the backup GPT header differs from the primary in: {}", diffs.join(", ")),
            ));
        }
    }
    // Use the primary if its CRC is good, else the backup.
    let use_backup = !primary.as_ref().is_some_and(|p| p.crc_ok) && backup.as_ref().is_some_and(|b| b.crc_ok);
    let Some(h) = (if use_backup { backup.as_ref() } else { primary.as_ref().or(backup.as_ref()) }) else { return Ok(()) };
    if use_backup {
        t.findings.push(Finding::warning("gpt-using-backup", h.at, "the partitions are read through the backup GPT header"));
    }
    t.disk_guid = Some(h.disk_guid.clone());
    if h.entry_size < 128 || h.entry_size % 8 != 0 || h.entry_size > 4096 {
        t.findings.push(Finding::error(
            "gpt-entry-size",
            h.at + 84,
            format!("the GPT entry size is {}; it must be a multiple of 8 of at least 128", h.entry_size),
        ));
        return Ok(());
    }
    let mut count = h.count;
    if count > MAX_GPT_ENTRIES {
        t.findings.push(Finding::error(
            "gpt-too-many-entries",
            h.at + 80,
            format!("the GPT claims {count} entries; only the first {MAX_GPT_ENTRIES} are read"),
        ));
        count = MAX_GPT_ENTRIES;
    }
    let bytes = u64::from(count) * u64::from(h.entry_size);
    if h.entries_lba >= sectors || h.entries_lba.saturating_mul(ss).saturating_add(bytes) > sectors * ss {
        t.findings.push(Finding::error(
            "gpt-entries-outside",
            h.at + 72,
            format!("the GPT entry array at sector {} reaches past the disk's end", h.entries_lba),
        ));
        return Ok(());
    }
    let mut arr = vec![0u8; bytes as usize];
    src.read_virtual(h.entries_lba * ss, &mut arr)?;
    if count == h.count && crc32(&arr) != h.entries_crc {
        t.findings.push(Finding::error(
            "gpt-entries-crc",
            h.at + 88,
            format!("the GPT entry array's CRC-32 is {:08x}, the header says {:08x}: the entries are damaged", crc32(&arr), h.entries_crc),
        ));
    }
    // The backup's own entry array, compared.
    if let (Some(p), Some(b)) = (&primary, &backup) {
        if !use_backup
            && b.count == p.count
            && b.entry_size == p.entry_size
            && b.entries_lba < sectors
            && b.entries_lba.saturating_mul(ss).saturating_add(bytes) <= sectors * ss
        {
            let mut barr = vec![0u8; bytes as usize];
            src.read_virtual(b.entries_lba * ss, &mut barr)?;
            if barr != arr {
                t.findings.push(Finding::error(
                    "gpt-backup-entries-differ",
                    b.entries_lba * ss,
                    "the backup GPT entry array differs from the primary's",
                ));
            }
        }
    }
    for i in 0..count as usize {
        let e = &arr[i * h.entry_size as usize..(i + 1) * h.entry_size as usize];
        if e[..16].iter().all(|b| *b == 0) {
            continue;
        }
        let at = h.entries_lba * ss + (i * h.entry_size as usize) as u64;
        let ty = Guid::at(e, 0).to_string();
        let (first, last) = (le64(e, 32), le64(e, 40));
        let name = utf16le_nul(&e[56..128]);
        t.structures.push(Structure {
            name: format!("GPT entry {}", i + 1),
            offset: at,
            fields: vec![
                Raw { base: at, bytes: e }.row(
                    (0, 16),
                    "type_guid",
                    "Type GUID",
                    format!("{ty} ({})", gpt_type_name(&ty)),
                    "what the partition holds",
                    true,
                ),
                Raw { base: at, bytes: e }.row(
                    (16, 16),
                    "unique_guid",
                    "Unique GUID",
                    Guid::at(e, 16).to_string(),
                    "this partition's own id",
                    true,
                ),
                Raw { base: at, bytes: e }.row(
                    (32, 8),
                    "first_lba",
                    "First sector",
                    first.to_string(),
                    "where the partition starts",
                    first >= h.first_usable,
                ),
                Raw { base: at, bytes: e }.row(
                    (40, 8),
                    "last_lba",
                    "Last sector",
                    last.to_string(),
                    "where it ends (inclusive)",
                    last >= first && last <= h.last_usable,
                ),
                Raw { base: at, bytes: e }.row(
                    (48, 8),
                    "attributes",
                    "Attributes",
                    format!("{:#018x}", le64(e, 48)),
                    "bit 0 required by the platform, bit 60 read-only, bit 62 hidden, bit 63 no drive letter (Microsoft)",
                    true,
                ),
                Raw { base: at, bytes: e }.row((56, 72), "name", "Name", name.clone(), "the partition's name, UTF-16", true),
            ],
        });
        if last < first {
            t.findings.push(Finding::error(
                "gpt-entry-range",
                at + 32,
                format!("GPT entry {} ends (sector {last}) before it starts (sector {first})", i + 1),
            ));
            continue;
        }
        if first < h.first_usable || last > h.last_usable {
            t.findings.push(Finding::error(
                "gpt-entry-outside-usable",
                at + 32,
                format!(
                    "GPT entry {} (sectors {first}..={last}) lies outside the usable sectors {}..={}",
                    i + 1,
                    h.first_usable,
                    h.last_usable
                ),
            ));
        }
        t.partitions.push(Partition {
            name: Some(name),
            entry_offset: Some(at),
            partuuid: Some(Guid::at(e, 16).to_string()),
            ..Partition::bare(i as u32 + 1, (first, last - first + 1, t.sector_size), ty.clone(), gpt_type_name(&ty), Role::Gpt)
        });
    }
    Ok(())
}

/// Partitions past the disk's end, overlapping each other, not 4 KiB aligned.
fn check_layout(sectors: u64, t: &mut Table) {
    let parts: Vec<&Partition> = t.partitions.iter().filter(|p| p.role != Role::Extended).collect();
    for p in &t.partitions {
        let at = p.entry_offset.unwrap_or(0);
        if p.sector_count == 0 {
            t.findings.push(Finding::warning("part-empty", at, format!("partition {} has 0 sectors", p.index)));
        }
        if p.start_sector.saturating_add(p.sector_count) > sectors {
            t.findings.push(Finding::error(
                "part-past-end",
                at,
                format!(
                    "partition {} (sectors {}..{}) reaches past the disk's end at sector {sectors}: its last {} sectors do not exist",
                    p.index,
                    p.start_sector,
                    p.start_sector.saturating_add(p.sector_count),
                    p.start_sector.saturating_add(p.sector_count) - sectors
                ),
            ));
        }
        if p.role != Role::Extended && !p.aligned_4k {
            t.findings.push(Finding::new(
                Severity::Info,
                "part-unaligned",
                Some(at),
                format!(
                    "partition {} starts at sector {} ({:#x}), not on a 4 KiB boundary: each of its 4 KiB clusters spans two bytes of a sector bitmap, and one cluster per block straddles two VHD blocks",
                    p.index,
                    p.start_sector,
                    p.offset()
                ),
            ));
        }
    }
    let mut overlaps = Vec::new();
    for (i, a) in parts.iter().enumerate() {
        for b in &parts[i + 1..] {
            let (ae, be) = (a.start_sector.saturating_add(a.sector_count), b.start_sector.saturating_add(b.sector_count));
            if a.sector_count > 0 && b.sector_count > 0 && a.start_sector < be && b.start_sector < ae {
                overlaps.push(Finding::error(
                    "parts-overlap",
                    b.entry_offset.unwrap_or(0),
                    format!(
                        "partitions {} (sectors {}..{ae}) and {} (sectors {}..{be}) overlap",
                        a.index, a.start_sector, b.index, b.start_sector
                    ),
                ));
            }
        }
    }
    t.findings.extend(overlaps.into_iter().take(64));
}

/// Partition `p` unlocked by `unlock`: the file system inside, its label and cluster size.
fn opened<R: ReadVirtual>(src: &mut R, p: &mut Partition, unlock: crate::bitlocker::Unlock) {
    p.unlock = Some(unlock);
    let mut vol = p.volume(&mut *src);
    let inner = fs::probe(&mut vol);
    if let Ok(Some(mut f)) = fs::FileSystem::open(&mut vol) {
        p.cluster_size = Some(f.cluster_size());
        p.label = f.label(&mut vol);
        p.data_offset = Some(match &f {
            fs::FileSystem::Fat(fat) => fat.bpb.data_offset(),
            fs::FileSystem::ExFat(x) => x.boot.data_offset(),
            _ => 0,
        });
    }
    if let Some(b) = &mut p.bitlocker {
        b.unlocked = inner.map(FsKind::name);
    }
}

/// Finds each partition's file system, label and cluster size; a BitLocker volume with a clear
/// key on it (protection suspended) is unlocked with it.
fn identify<R: ReadVirtual>(src: &mut R, t: &mut Table) {
    let (mut structures, mut findings) = (Vec::new(), Vec::new());
    for p in &mut t.partitions {
        identify_one(src, p, &mut structures, &mut findings);
    }
    t.structures.extend(structures);
    t.findings.extend(findings);
    // LVM2: a PV in any partition holding no file system (or on the whole disk).
    let mut devices: Vec<(u64, u64, u32)> = t
        .partitions
        .iter()
        .filter(|p| p.role != Role::Extended && p.filesystem.is_none())
        .map(|p| (p.offset(), p.len(), p.index))
        .collect();
    if t.partitions.is_empty() {
        devices.push((0, src.size(), 0));
    }
    let mut found = crate::lvm::scan(src, &devices);
    let (mut structures, mut findings) = (Vec::new(), Vec::new());
    for v in &mut found.volumes {
        if let Some(map) = &v.map {
            let mut p = volume_partition(v, map.clone(), t.sector_size);
            identify_one(src, &mut p, &mut structures, &mut findings);
            (v.filesystem, v.label, v.uuid) = (p.filesystem, p.label.clone(), p.uuid.clone());
            t.volume_partitions.push(p);
        }
    }
    t.lvm_areas = found.areas().map(|(offset, len, what)| Area { offset, len, what }).collect();
    for (index, offset, vg) in found.pv_groups() {
        if let Some(p) = t.partitions.iter_mut().find(|p| p.index == index && p.offset() == offset) {
            p.volume_group = Some(vg.to_string());
        }
    }
    t.structures.extend(found.structures);
    t.structures.extend(structures);
    t.findings.extend(found.findings);
    t.findings.extend(findings);
    t.volumes = found.volumes;
}

/// LVM2 logical volume `vol` as a partition whose bytes are where `map` puts them: named `VG/LV`,
/// numbered as the partition holding its first extent.
fn volume_partition(vol: &crate::lvm::LogicalVolume, map: std::sync::Arc<crate::lvm::Map>, sector_size: u32) -> Partition {
    let first = map.locate(0).map_or(0, |(d, _)| d);
    let ss = u64::from(sector_size);
    let (index, sectors) = (vol.segments.first().and_then(|s| s.pvs.first()).and_then(|p| p.partition).unwrap_or(0), map.len() / ss);
    let bare = Partition::bare(index, (first / ss, sectors, sector_size), vol.id.clone(), "LVM2 logical volume", Role::Volume);
    Partition { name: Some(vol.name()), extents: Some(map), ..bare }
}

/// The file system of partition (or logical volume) `p`: its kind, label, UUID, cluster size; a
/// BitLocker volume's metadata (unlocked at once when it has a clear key).
fn identify_one<R: ReadVirtual>(src: &mut R, p: &mut Partition, structures: &mut Vec<Structure>, findings: &mut Vec<Finding>) {
    if p.role == Role::Extended || p.sector_count == 0 {
        return;
    }
    {
        let mut vol = p.volume(&mut *src);
        p.filesystem = fs::probe(&mut vol);
        if p.filesystem == Some(FsKind::BitLocker) {
            match crate::bitlocker::read(&mut vol) {
                Ok(meta) => {
                    p.bitlocker = Some(meta.summary());
                    if meta.protectors.iter().any(|k| k.kind == crate::bitlocker::ProtectorKind::ClearKey) {
                        match meta.unlock(&crate::bitlocker::Key::ClearKey, &mut |_, _| true) {
                            Ok(u) => opened(src, p, u),
                            Err(e) => findings.push(Finding::error("bitlocker-clear-key", p.offset(), e.to_string())),
                        }
                    }
                    structures.extend(meta.structures);
                    findings.extend(meta.findings);
                }
                Err(e) => findings.push(Finding::error("bitlocker-metadata", p.offset(), e.to_string())),
            }
            return;
        }
        if let Ok(Some(mut f)) = fs::FileSystem::open(&mut vol) {
            p.cluster_size = Some(f.cluster_size());
            p.label = f.label(&mut vol);
            p.uuid = f.uuid(&mut vol);
            p.data_offset = Some(match &f {
                fs::FileSystem::Fat(fat) => fat.bpb.data_offset(),
                fs::FileSystem::ExFat(x) => x.boot.data_offset(),
                _ => 0,
            });
            if let fs::FileSystem::ExFat(x) = &f {
                findings.extend_from_slice(x.findings());
            }
        }
    }
}

/// Where one cluster of a partition falls in a VHD's sector bitmaps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterPlace {
    /// The cluster.
    pub cluster: u64,
    /// Its first virtual sector (of the `sector_size` given to [`cluster_place`]).
    pub first_sector: u64,
    /// The last sector (inclusive).
    pub last_sector: u64,
    /// Per block it touches: (block, bitmap byte, mask of the bits in it), in order.
    pub bits: Vec<(u64, u64, u8)>,
    /// True when the cluster straddles two blocks.
    pub straddles_blocks: bool,
}

/// Where cluster `cluster` (counted from the data area at `data_offset` bytes into a partition
/// starting at sector `start_sector` of `sector_size` bytes, `cluster_size` bytes each; FAT's
/// first is cluster 2) falls in the sector bitmaps (one bit per sector, the first the high
/// bit, as a VHD's) of blocks of `block_size` bytes: the seed's alignment question.
pub fn cluster_place(
    (start_sector, sector_size): (u64, u64),
    data_offset: u64,
    cluster_size: u64,
    first_cluster: u64,
    cluster: u64,
    block_size: u64,
) -> ClusterPlace {
    let ss = sector_size.max(1);
    let per = (cluster_size / ss).max(1);
    let first = start_sector + data_offset / ss + cluster.saturating_sub(first_cluster) * per;
    let last = first + per - 1;
    let spb = (block_size / ss).max(1);
    let mut bits: Vec<(u64, u64, u8)> = Vec::new();
    for s in first..=last {
        let (block, within) = (s / spb, s % spb);
        let (byte, mask) = (within / 8, 0x80u8 >> (within % 8));
        match bits.last_mut() {
            Some(b) if b.0 == block && b.1 == byte => b.2 |= mask,
            _ => bits.push((block, byte, mask)),
        }
    }
    ClusterPlace { cluster, first_sector: first, last_sector: last, straddles_blocks: first / spb != last / spb, bits }
}

#[cfg(test)]
mod tests {
    use super::{cluster_place, crc32, read, Scheme, Sectors};

    /// A GPT disk of 256 sectors of 4096 bytes, written here by the UEFI layout: the protective
    /// MBR, the header at sector 1 with 128 entries at sector 2, one partition on sectors
    /// 6..=250, the backup entries at 251 and the backup header at 255.
    fn gpt_4096() -> Vec<u8> {
        const SS: usize = 4096;
        let mut d = vec![0u8; 256 * SS];
        d[0x1BE + 4] = 0xEE;
        d[0x1BE + 8..0x1BE + 12].copy_from_slice(&1u32.to_le_bytes());
        d[0x1BE + 12..0x1BE + 16].copy_from_slice(&255u32.to_le_bytes());
        d[510..512].copy_from_slice(&[0x55, 0xAA]);
        let mut entries = vec![0u8; 128 * 128];
        entries[..16].copy_from_slice(&[0xAF, 0x3D, 0xC6, 0x0F, 0x83, 0x84, 0x72, 0x47, 0x8E, 0x79, 0x3D, 0x69, 0xD8, 0x47, 0x7D, 0xE4]);
        entries[16..32].fill(0x42);
        entries[32..40].copy_from_slice(&6u64.to_le_bytes());
        entries[40..48].copy_from_slice(&250u64.to_le_bytes());
        for (header, other, array) in [(1u64, 255u64, 2u64), (255, 1, 251)] {
            d[array as usize * SS..][..entries.len()].copy_from_slice(&entries);
            let h = &mut d[header as usize * SS..][..92];
            h[..8].copy_from_slice(b"EFI PART");
            h[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
            h[12..16].copy_from_slice(&92u32.to_le_bytes());
            for (at, v) in [(24, header), (32, other), (40, 6), (48, 250), (72, array)] {
                h[at..at + 8].copy_from_slice(&v.to_le_bytes());
            }
            h[56..72].fill(0x24);
            h[80..84].copy_from_slice(&128u32.to_le_bytes());
            h[84..88].copy_from_slice(&128u32.to_le_bytes());
            h[88..92].copy_from_slice(&crc32(&entries).to_le_bytes());
            let crc = crc32(h);
            h[16..20].copy_from_slice(&crc.to_le_bytes());
        }
        d
    }

    #[test]
    fn a_gpt_of_4096_byte_sectors_is_read_in_them_and_through_its_backup() {
        let disk = gpt_4096();
        let t = read(&mut Sectors { inner: disk.clone(), sector_size: 4096 }).unwrap();
        assert_eq!((t.scheme, t.sector_size), (Scheme::Gpt, 4096));
        assert!(t.findings.is_empty(), "{:?}", t.findings);
        let p = &t.partitions[0];
        assert_eq!((p.start_sector, p.sector_count, p.offset(), p.len()), (6, 245, 6 * 4096, 245 * 4096));
        assert_eq!(p.entry_offset, Some(2 * 4096));
        assert!(p.aligned_4k);
        let at = |what: &str| t.areas.iter().find(|a| a.what == what).map(|a| (a.offset, a.len));
        assert_eq!(at("GPT partition entries (primary)"), Some((2 * 4096, 4 * 4096)));
        assert_eq!(at("GPT header (backup)"), Some((255 * 4096, 4096)));
        assert_eq!(at("GPT partition entries (backup)"), Some((251 * 4096, 4 * 4096)));

        // The primary header gone: the backup at the last 4096-byte sector gives the partition,
        // and the findings name the bytes of the sector that lacks it.
        let mut damaged = disk.clone();
        damaged[4096..4096 + 8].fill(0);
        let t = read(&mut Sectors { inner: damaged, sector_size: 4096 }).unwrap();
        let codes: Vec<(&str, Option<u64>)> = t.findings.iter().map(|f| (f.code, f.offset)).collect();
        assert_eq!(codes, [("gpt-signature", Some(4096)), ("gpt-using-backup", Some(255 * 4096))]);
        assert_eq!(t.partitions.iter().map(|p| p.offset()).collect::<Vec<_>>(), [6 * 4096]);

        // Read in 512-byte sectors, the same bytes hold no GPT where such sectors put it; the
        // finding says where it is.
        let t = read(&mut disk.clone()).unwrap();
        assert!(t.partitions.is_empty());
        let f = t.findings.iter().find(|f| f.code == "gpt-signature").unwrap();
        assert!(f.message.contains("there is one at byte 4096"), "{}", f.message);
    }

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    /// The seed's complaint: a partition at sector 63 with 4 KiB clusters; the first cluster
    /// covers sectors 63..=70, bit 0x01 of bitmap byte 7 and bits 0xFE of byte 8.
    #[test]
    fn a_cluster_of_a_partition_at_63_spans_two_bitmap_bytes() {
        let p = cluster_place((63, 512), 0, 4096, 0, 0, 2 << 20);
        assert_eq!((p.first_sector, p.last_sector), (63, 70));
        assert_eq!(p.bits, vec![(0, 7, 0x01), (0, 8, 0xFE)]);
        assert!(!p.straddles_blocks);
        // The cluster holding the block boundary (sector 4096) straddles blocks 0 and 1.
        let k = (4096 - 63) / 8;
        let p = cluster_place((63, 512), 0, 4096, 0, k, 2 << 20);
        assert!(p.straddles_blocks, "{p:?}");
        assert_eq!(p.bits.first().map(|b| b.0), Some(0));
        assert_eq!(p.bits.last().map(|b| (b.0, b.1)), Some((1, 0)));
        // Aligned at 2048: one byte per cluster, none straddles.
        let p = cluster_place((2048, 512), 0, 4096, 0, 5, 2 << 20);
        assert_eq!(p.bits, vec![(0, (2048 + 40) / 8, 0xFF)]);
    }
}
