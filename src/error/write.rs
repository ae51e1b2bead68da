//! Why a writer (`convert`, `compact`, `relink`, `repair`) will not write its copy: one variant
//! per condition, with the values that decided it. [`crate::Error::Write`] carries one.

use std::fmt;

/// Why a locator path given to `relink` cannot be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathFault {
    /// The relative path is empty.
    Empty,
    /// The relative path starts at a root or a drive.
    NotRelative,
    /// The relative path has an empty part or ends in a separator.
    NotAFile,
    /// The absolute path is not one.
    NotAbsolute,
}

/// Why the output file is refused before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// It is one of the inputs (the same device and inode).
    SameAsInput {
        /// The input's name.
        input: String,
        /// Its device.
        dev: u64,
        /// Its inode.
        ino: u64,
    },
    /// It is a folder.
    Folder,
    /// It exists and `--force` was not given.
    Exists,
    /// It names no file.
    NotAFile,
}

/// What the `split-disk` finding says of a file that ends at byte `end` with the piece `next`
/// beside it.
pub fn split_piece(next: &str, end: u64) -> String {
    format!(
        "{next} lies beside this file: this looks like the first piece of a Virtual PC split disk (Virtual PC splits a disk file that outgrows a FAT volume into name.vhd, name.v01, ...). This file ends at byte {end:#x}; what lies past it (blocks, the end footer) is in the other pieces, which this viewer does not read"
    )
}

/// A condition that stops a writer before or while it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteError {
    /// The writer rewrites a VHD's own structures and was given a VHDX (`vhdx-not-supported`).
    VhdxNotSupported {
        /// The writer's name.
        writer: &'static str,
    },
    /// `compact` was given a fixed disk (`compact-fixed`).
    CompactFixed,
    /// The block size of the disk copied cannot be written (`write-block-size`).
    BlockSize {
        /// The block size.
        block_size: u64,
    },
    /// The block size asked for a new disk is not a power of two from 512 bytes to 256 MiB
    /// (`chosen-block-size`).
    ChosenBlockSize {
        /// The block size asked for.
        block_size: u64,
    },
    /// The copy would need more BAT entries than a copy may have (`write-bat-too-large`).
    BatTooLarge {
        /// The disk's size.
        size: u64,
        /// The block size.
        block_size: u64,
        /// The entries it needs.
        entries: u64,
        /// The most a copy may have.
        max: u64,
        /// True when the block size was asked for (then larger blocks are the way out).
        chosen: bool,
    },
    /// The disk is larger than a VHD may hold, so it can only be written raw
    /// (`too-large-for-vhd`).
    TooLargeForVhd {
        /// The newest layer's size field.
        offset: u64,
        /// The disk's size.
        size: u64,
    },
    /// The footer's current size is over 2040 GiB, so the disk's real size is not known and no
    /// copy is repaired (`size-too-large`).
    SizeTooLarge {
        /// The current size field.
        offset: u64,
        /// The size found.
        size: u64,
    },
    /// The dynamic header a repair needs could not be read (`header-unreadable`).
    HeaderUnreadable,
    /// A locator path given to `relink` cannot be written (`bad-locator-path`).
    BadLocatorPath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        fault: PathFault,
    },
    /// The file to repair is the first piece of a split disk (`split-disk`).
    SplitDisk {
        /// Where the piece ends (its length).
        offset: u64,
        /// The next piece, found beside it.
        next: String,
    },
    /// The output file is refused (`output-refused`).
    OutputRefused {
        /// The output as given.
        dest: String,
        /// Why.
        why: Refusal,
    },
    /// The metadata region of a VHDX copy cannot hold its items with the new parent locator
    /// (`metadata-full`).
    MetadataFull {
        /// The metadata region.
        offset: u64,
        /// The bytes the table and items need.
        need: u64,
        /// The bytes the region (or its table) holds.
        len: u64,
    },
    /// A block was placed twice in the copy's layout: a bug (`block-placed-twice`).
    BlockPlacedTwice {
        /// The block.
        block: u64,
    },
    /// The block size asked for a new VHDX is not a power of two from 1 MiB to 256 MiB
    /// (`vhdx-block-size`).
    VhdxBlockSize {
        /// The block size asked for.
        block_size: u64,
    },
    /// A sector size is neither 512 nor 4096 (`sector-size`).
    SectorSize {
        /// The sector size asked for.
        sector_size: u32,
    },
    /// A new disk was asked to be smaller than the disk it is a copy of (`size-below-disk`):
    /// converting only adds zeros at the end; making a disk smaller is `resize`'s.
    SizeBelowDisk {
        /// The disk's size field (its newest layer's).
        offset: u64,
        /// The size asked for.
        size: u64,
        /// The disk's size.
        disk_size: u64,
    },
    /// A copy would have logical sectors of another size than the ones the disk's partition
    /// table counts in (`sector-size-change`): every partition would be read at the wrong bytes.
    SectorSizeChange {
        /// `MBR` or `GPT`.
        table: &'static str,
        /// Where the table's header is (the MBR's sector 0, the GPT header's sector 1).
        offset: u64,
        /// The disk's logical sector size: the table's unit.
        from: u32,
        /// The copy's.
        to: u32,
        /// The first partition's start in bytes, where there is one.
        first: Option<u64>,
    },
    /// A new VHDX cannot have this size: none, not a whole number of its logical sectors, or
    /// more than 64 TiB (`vhdx-size`).
    VhdxSize {
        /// The disk's size.
        size: u64,
        /// Its logical sector size.
        sector_size: u32,
    },
    /// The size asked for a resized copy is not one its format takes: none, not a whole
    /// number of its logical sectors, or over its largest (`resize-size`).
    ResizeSize {
        /// The size asked for.
        size: u64,
        /// The disk's logical sector size.
        sector_size: u32,
        /// The largest size of the format.
        max: u64,
        /// `VHD` or `VHDX`.
        format: &'static str,
    },
    /// A shrink would cut a partition: it reaches past the new end (`shrink-past-partition`).
    ShrinkPastPartition {
        /// The partition, numbered as `parts` numbers them (from 1).
        partition: u32,
        /// True for an MBR's extended partition (the container of the logical ones).
        extended: bool,
        /// The virtual byte where it ends (its last byte + 1).
        end: u64,
        /// The size asked for.
        size: u64,
        /// The smallest size that keeps every partition, file system and GPT structure.
        min: u64,
    },
    /// A shrink would cut a file system: its own size (from its superblock) reaches past the
    /// new end (`shrink-past-file-system`).
    ShrinkPastFileSystem {
        /// Its partition, numbered as `parts` numbers them; none for a file system that fills
        /// the disk without a partition table.
        partition: Option<u32>,
        /// `ntfs`, `fat32`, `ext4`, ...
        filesystem: &'static str,
        /// The virtual byte where it ends.
        end: u64,
        /// The size asked for.
        size: u64,
        /// The smallest size allowed.
        min: u64,
    },
    /// A shrink leaves no room after the last GPT partition for the backup entry array and
    /// header (`shrink-past-gpt`).
    ShrinkPastGpt {
        /// The virtual byte where the partitions' usable area must end (the last partition's
        /// end).
        end: u64,
        /// Bytes the backup entry array and header take.
        backup: u64,
        /// The size asked for.
        size: u64,
        /// The smallest size allowed.
        min: u64,
    },
    /// The GPT is damaged, so a resize does not move its backup (`gpt-damaged`).
    GptDamaged {
        /// The virtual byte of the damaged structure.
        at: u64,
        /// What is wrong, in plain words.
        why: String,
    },
}

impl WriteError {
    /// The file offset the condition concerns, where there is one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            WriteError::TooLargeForVhd { offset, .. }
            | WriteError::SizeTooLarge { offset, .. }
            | WriteError::SplitDisk { offset, .. }
            | WriteError::MetadataFull { offset, .. }
            | WriteError::SizeBelowDisk { offset, .. }
            | WriteError::SectorSizeChange { offset, .. } => Some(*offset),
            _ => None,
        }
    }

    /// The condition's stable code.
    pub fn code(&self) -> &'static str {
        match self {
            WriteError::VhdxNotSupported { .. } => "vhdx-not-supported",
            WriteError::CompactFixed => "compact-fixed",
            WriteError::BlockSize { .. } => "write-block-size",
            WriteError::ChosenBlockSize { .. } => "chosen-block-size",
            WriteError::BatTooLarge { .. } => "write-bat-too-large",
            WriteError::TooLargeForVhd { .. } => "too-large-for-vhd",
            WriteError::SizeTooLarge { .. } => "size-too-large",
            WriteError::HeaderUnreadable => "header-unreadable",
            WriteError::BadLocatorPath { .. } => "bad-locator-path",
            WriteError::SplitDisk { .. } => "split-disk",
            WriteError::OutputRefused { .. } => "output-refused",
            WriteError::BlockPlacedTwice { .. } => "block-placed-twice",
            WriteError::VhdxBlockSize { .. } => "vhdx-block-size",
            WriteError::SectorSize { .. } => "sector-size",
            WriteError::VhdxSize { .. } => "vhdx-size",
            WriteError::SizeBelowDisk { .. } => "size-below-disk",
            WriteError::SectorSizeChange { .. } => "sector-size-change",
            WriteError::MetadataFull { .. } => "metadata-full",
            WriteError::ResizeSize { .. } => "resize-size",
            WriteError::ShrinkPastPartition { .. } => "shrink-past-partition",
            WriteError::ShrinkPastFileSystem { .. } => "shrink-past-file-system",
            WriteError::ShrinkPastGpt { .. } => "shrink-past-gpt",
            WriteError::GptDamaged { .. } => "gpt-damaged",
        }
    }
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::VhdxNotSupported { writer } => write!(
                f,
                "this is a VHDX file; {writer} rewrites a VHD's own structures and does not write VHDX files (converting writes its disk as a VHD)"
            ),
            WriteError::CompactFixed => f.write_str(
                "a fixed disk has no blocks to drop: it is as compact as it gets as a fixed disk (`convert --to dynamic`, or `--to vhdx`, makes a dynamic copy that allocates only non-zero blocks; with `--trim`, none for what the file systems mark free)",
            ),
            WriteError::BlockSize { block_size } => write!(f, "a copy cannot be written with blocks of {block_size} bytes"),
            WriteError::ChosenBlockSize { block_size } => {
                write!(f, "the block size must be a power of two from 512 bytes to 256 MiB, not {block_size}")
            }
            WriteError::BatTooLarge { size, block_size, entries, max, chosen: true } => write!(
                f,
                "a {size}-byte disk in blocks of {block_size} bytes needs {entries} blocks, more than the {max} a BAT may hold here; choose larger blocks"
            ),
            WriteError::BatTooLarge { size, block_size, entries, max, chosen: false } => write!(
                f,
                "a {size}-byte disk in blocks of {block_size} bytes needs {entries} BAT entries, more than the {max} a copy may have"
            ),
            WriteError::TooLargeForVhd { offset, size } => write!(
                f,
                "at byte {offset:#x}: the disk is {size} bytes, more than the 2040 GiB a VHD may hold: it can only be written raw (--to raw)"
            ),
            WriteError::SizeTooLarge { offset, size } => write!(
                f,
                "the current size {size} (at byte {offset:#x}) is more than the 2040 GiB the format allows: the field is damaged and the disk's real size is not known, so no copy is written"
            ),
            WriteError::HeaderUnreadable => f.write_str("the dynamic header could not be read"),
            WriteError::BadLocatorPath { path, fault } => match fault {
                PathFault::Empty => {
                    f.write_str("the parent's place relative to the child is empty (e.g. .\\base.vhd for a parent beside the child)")
                }
                PathFault::NotRelative => write!(
                    f,
                    "{path} is not a relative path (it starts at a root or a drive): give the full path as the absolute one"
                ),
                PathFault::NotAFile => {
                    write!(f, "{path} does not name a file (an empty part between separators, or a folder)")
                }
                PathFault::NotAbsolute => write!(f, "{path} is not an absolute path (C:\\..., \\\\server\\... or /...)"),
            },
            WriteError::SplitDisk { offset, next } => write!(
                f,
                "{}. Join the pieces first (`cat piece.vhd piece.v01 ... > whole.vhd`), then repair the whole file; repairing this piece alone would drop what the others hold",
                split_piece(next, *offset)
            ),
            WriteError::OutputRefused { dest, why } => match why {
                Refusal::SameAsInput { input, dev, ino } => write!(
                    f,
                    "{dest} is the same file as the input {input} (device {dev}, inode {ino}): the inputs are never written to; choose another output"
                ),
                Refusal::Folder => write!(f, "{dest} is a folder; give the new file's name"),
                Refusal::Exists => write!(f, "{dest} exists; add --force to replace it"),
                Refusal::NotAFile => write!(f, "{dest} does not name a file"),
            },
            WriteError::BlockPlacedTwice { block } => write!(f, "block {block} was placed twice (a bug)"),
            WriteError::VhdxBlockSize { block_size } => {
                write!(f, "a VHDX's block size must be a power of two from 1 MiB to 256 MiB, not {block_size}")
            }
            WriteError::SectorSize { sector_size } => write!(f, "a sector size must be 512 or 4096, not {sector_size}"),
            WriteError::SizeBelowDisk { offset, size, disk_size } => write!(
                f,
                "a new disk of {size} bytes cannot hold this disk of {disk_size} bytes (its size at byte {offset:#x}): a copy only adds zeros at the end; `vhd-viewer resize` makes a disk smaller"
            ),
            WriteError::SectorSizeChange { table, offset, from, to, first } => {
                write!(f, "the disk's {table} (at byte {offset:#x}) counts in its {from}-byte sectors, and a copy with {to}-byte sectors would read every partition at the wrong bytes")?;
                if let Some(start) = first {
                    write!(f, " (the first, at byte {start}, at byte {})", start / u64::from(*from) * u64::from(*to))?;
                }
                let keep = if *to == 512 && *from != 512 {
                    "a VHD's sectors are 512 bytes: keep the disk a VHDX (--to vhdx, --sector-size {from})"
                } else {
                    "keep the disk's sector size (leave --sector-size out)"
                };
                write!(f, ": {}, or copy its bytes as they are with --to raw", keep.replace("{from}", &from.to_string()))
            }
            WriteError::VhdxSize { size, sector_size } => write!(
                f,
                "a VHDX cannot be {size} bytes: its size must be a whole number of its {sector_size}-byte logical sectors, from one to 64 TiB"
            ),
            WriteError::MetadataFull { offset, need, len } => write!(
                f,
                "the metadata region at byte {offset:#x} holds {len} bytes, but its table and items with the new parent locator need {need}: shorter paths fit"
            ),
            WriteError::ResizeSize { size, sector_size, max, format } => write!(
                f,
                "a {format} cannot be resized to {size} bytes: its size must be a whole number of its {sector_size}-byte logical sectors, from one sector to {max} bytes"
            ),
            WriteError::ShrinkPastPartition { partition, extended, end, size, min } => write!(
                f,
                "{} ends at byte {end:#x} ({end} bytes), past the new end at {size} bytes: shrinking would cut it off; the smallest size allowed is {min} bytes (shrink the partition inside the guest first)",
                if *extended { format!("partition {partition} (the extended partition holding the logical ones)") } else { format!("partition {partition}") }
            ),
            WriteError::ShrinkPastFileSystem { partition, filesystem, end, size, min } => write!(
                f,
                "the {filesystem} file system {} ends at byte {end:#x} ({end} bytes) by its own size, past the new end at {size} bytes: shrinking would cut it off; the smallest size allowed is {min} bytes (shrink the file system inside the guest first)",
                match partition { Some(n) => format!("in partition {n}"), None => "filling the disk".to_string() }
            ),
            WriteError::ShrinkPastGpt { end, backup, size, min } => write!(
                f,
                "the GPT's partitions may reach byte {end:#x} ({end} bytes), and its backup entry array and header take {backup} bytes after them: a size of {size} bytes leaves no room for them; the smallest size allowed is {min} bytes"
            ),
            WriteError::GptDamaged { at, why } => write!(
                f,
                "the GPT is damaged at byte {at:#x}: {why}. Its backup is not moved over a damaged table: repair the table inside the guest first, or resize with --no-gpt-fix to copy it as it is"
            ),
        }
    }
}
