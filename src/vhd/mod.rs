//! VHD (Microsoft's *Virtual Hard Disk Image Format Specification*): the footer, dynamic
//! header, parent locators, geometry and BAT, each with the file offset where it was found, and
//! the opener that reads them without I/O (three rounds for a dynamic disk, one for a fixed
//! disk, whatever the size of the disk), run by [`crate::layer::Opener`] for a file that does not
//! start as a VHDX.

mod check;
pub mod fields;
pub mod footer;
pub mod geometry;
pub mod header;
pub mod info;
mod link;
pub mod locator;
pub(crate) mod open;
mod plan;
pub mod writer;
pub(crate) use link::check_parent;

use crate::image::{BlockRead, BlockTable, ByteRange, DiskType, Located};
use footer::Footer;
use header::DynamicHeader;
use locator::{DecodedPath, LocatorEntry, Platform};

/// The largest BAT this viewer loads: 2^22 entries (16 MiB), enough for a 2040 GiB disk with
/// 512 KiB blocks.
pub const MAX_BAT_ENTRIES: u64 = 1 << 22;
/// The largest block size this viewer reads (its sector bitmap is then 64 KiB).
pub const MAX_BLOCK_SIZE: u32 = 256 << 20;
/// The largest virtual size the format allows: 2040 GiB.
pub const MAX_DISK_SIZE: u64 = 2040 << 30;
/// BAT value of an unallocated block.
pub const UNALLOCATED: u32 = u32::MAX;

/// The allocated entries of a VHD BAT, `(block, entry)` in block order. Runs of unallocated
/// entries are passed over 64 at a time (one AND over the run, which the compiler vectorizes), so
/// that a sparse 2040 GiB disk's million entries cost a pass over 4 MiB, not a test per entry.
pub fn allocated_entries(bat: &[u32]) -> impl Iterator<Item = (usize, u32)> + '_ {
    const RUN: usize = 64;
    bat.chunks(RUN)
        .enumerate()
        .filter(|(_, run)| run.iter().fold(UNALLOCATED, |a, &e| a & e) != UNALLOCATED)
        .flat_map(|(k, run)| run.iter().enumerate().filter(|(_, e)| **e != UNALLOCATED).map(move |(j, &e)| (k * RUN + j, e)))
}

/// Which footer the layer is read through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FooterSource {
    /// The 512 bytes at the end of the file (normal).
    End,
    /// A 511-byte footer at the end of the file (early Virtual PC).
    End511,
    /// The copy at offset 0, because the end footer is missing or damaged.
    Copy,
}

/// A parent locator entry with its data and decoded path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locator {
    /// The 24-byte entry, and where it is in the header.
    pub entry: Located<LocatorEntry>,
    /// The raw data, when it lies inside the file and is of a sane length.
    pub data: Option<Vec<u8>>,
    /// The decoded path, when the data could be read.
    pub path: Option<DecodedPath>,
}

/// A VHD file's structures, each with the file offset it was found at.
#[derive(Debug, Clone)]
pub struct Vhd {
    /// The footer the disk is read through.
    pub footer: Located<Footer>,
    /// Where that footer came from.
    pub footer_source: FooterSource,
    /// Whatever the last 512 bytes of the file hold, decoded as a footer (it may be damaged).
    pub end_footer: Option<Located<Footer>>,
    /// The first 512 bytes decoded as a footer: the copy of a dynamic or differencing disk.
    /// `None` for fixed disks, whose first sector is disk data.
    pub footer_copy: Option<Located<Footer>>,
    /// The dynamic header of a dynamic or differencing disk.
    pub header: Option<Located<DynamicHeader>>,
    /// The non-empty parent locator entries.
    pub locators: Vec<Locator>,
    /// The BAT entries read (at most `max table entries`, at most the blocks the disk needs).
    pub bat: Vec<u32>,
    /// Where the BAT is and how long the part read is.
    pub bat_range: Option<ByteRange>,
}

/// Sizes that locate a sector inside a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockGeometry {
    /// Bytes of data per block.
    pub block_size: u64,
    /// Bytes of the sector bitmap before each block's data.
    pub bitmap_size: u64,
}

impl Vhd {
    /// The id a child names this disk by: its footer's unique id.
    pub fn link_id(&self) -> [u8; 16] {
        self.footer.value.unique_id.0
    }

    /// The parent unique id of a differencing disk, and that id as VHD shows ids; `None` when
    /// it names none.
    pub fn parent_link(&self) -> Option<([u8; 16], String)> {
        if self.disk_type() != DiskType::Differencing {
            return None;
        }
        self.header.as_ref().map(|h| (h.value.parent_unique_id.0, h.value.parent_unique_id.to_string()))
    }

    /// The disk's type.
    pub fn disk_type(&self) -> DiskType {
        self.footer.value.disk_type
    }

    /// The virtual disk's size in bytes (`current size`).
    pub fn size(&self) -> u64 {
        self.footer.value.current_size
    }

    /// Block and bitmap size, for dynamic and differencing disks.
    pub fn block_geometry(&self) -> Option<BlockGeometry> {
        self.header.as_ref().map(|h| BlockGeometry { block_size: u64::from(h.value.block_size), bitmap_size: h.value.bitmap_size() })
    }

    /// The file offset where block `block` starts (its bitmap), if allocated.
    pub fn block_offset(&self, block: u64) -> Option<u64> {
        let entry = *self.bat.get(usize::try_from(block).ok()?)?;
        (entry != UNALLOCATED).then(|| u64::from(entry) * 512)
    }

    /// How block `block` is read: an allocated block through its sector bitmap (which a dynamic
    /// disk's reader honours too: a clear bit reads as zeros), an unallocated one from the parent
    /// of a differencing disk, as zeros in a dynamic one.
    pub fn block_read(&self, block: u64) -> BlockRead {
        match (self.block_geometry(), self.block_offset(block)) {
            (Some(g), Some(o)) => BlockRead::Partial { data: o.saturating_add(g.bitmap_size), bitmap: ByteRange::new(o, g.bitmap_size) },
            _ if self.disk_type() == DiskType::Differencing => BlockRead::Below,
            _ => BlockRead::Zero,
        }
    }

    /// The block table as a map draws it: each block not allocated or in the file, at its BAT
    /// entry's sector.
    pub fn block_table(&self) -> BlockTable {
        let states = self.bat.iter().map(|e| if *e == UNALLOCATED { 0 } else { 6 }).collect();
        let offsets = self.bat.iter().map(|e| if *e == UNALLOCATED { 0 } else { *e }).collect();
        let bitmap = self.block_geometry().map_or(0, |g| u32::try_from(g.bitmap_size).unwrap_or(u32::MAX));
        let ooo = self.out_of_order_blocks().into_iter().map(u8::from).collect();
        BlockTable::new(self.bat.len() as u64, (states, offsets), (512, bitmap), ooo, |c| {
            if c == 0 {
                "not allocated"
            } else {
                "stored in the file"
            }
        })
    }

    /// Where the sector bitmap of block `block` is, if the block is allocated.
    pub fn bitmap_range(&self, block: u64) -> Option<ByteRange> {
        let geo = self.block_geometry()?;
        self.block_offset(block).map(|o| ByteRange::new(o, geo.bitmap_size))
    }

    /// Number of allocated blocks.
    pub fn allocated_blocks(&self) -> u64 {
        allocated_entries(&self.bat).count() as u64
    }

    /// Blocks whose file position is lower than that of a block before them in BAT order: the
    /// file was written out of order (normal for disks written randomly; shown as a colour).
    pub fn out_of_order_blocks(&self) -> Vec<bool> {
        let mut out = vec![false; self.bat.len()];
        for i in self.out_of_order() {
            out[i] = true;
        }
        out
    }

    /// How many blocks [`Vhd::out_of_order_blocks`] marks, without a flag per entry.
    pub fn out_of_order_count(&self) -> u64 {
        self.out_of_order().count() as u64
    }

    fn out_of_order(&self) -> impl Iterator<Item = usize> + '_ {
        let mut highest = 0u32;
        allocated_entries(&self.bat).filter_map(move |(i, e)| {
            if e < highest {
                Some(i)
            } else {
                highest = e;
                None
            }
        })
    }

    /// Candidate paths of the parent, most trustworthy first: the relative Windows path, the
    /// parent unicode name in the child's folder, the absolute paths' file names in the child's
    /// folder, then the absolute paths as they are. Paths use `/` as separator.
    pub fn parent_candidates(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut push = |p: String| {
            if !p.is_empty() && !out.contains(&p) {
                out.push(p);
            }
        };
        let paths = |platform: Platform| {
            self.locators
                .iter()
                .filter(move |l| l.entry.value.platform() == platform)
                .filter_map(|l| l.path.as_ref().map(|p| p.path.clone()))
        };
        for p in paths(Platform::WindowsRelative) {
            push(p.replace('\\', "/").trim_start_matches("./").to_string());
        }
        if let Some(h) = &self.header {
            push(h.value.parent_unicode_name().0.replace('\\', "/").rsplit('/').next().unwrap_or_default().to_string());
        }
        for p in paths(Platform::WindowsAbsolute).chain(paths(Platform::MacOsX)) {
            push(p.replace('\\', "/").rsplit('/').next().unwrap_or_default().to_string());
        }
        for p in paths(Platform::MacOsX) {
            push(p);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocated_entries_are_those_a_test_per_entry_finds() {
        // Runs of every length around the 64 passed over at once, at every phase.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in [0usize, 1, 63, 64, 65, 127, 128, 129, 1000, 4096 + 7] {
            for density in [0u64, 1, 8, 64, 1000] {
                let bat: Vec<u32> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        if density > 0 && seed % 1000 < density {
                            (seed >> 32) as u32 & 0x7fff_ffff
                        } else {
                            UNALLOCATED
                        }
                    })
                    .collect();
                let want: Vec<(usize, u32)> = bat.iter().copied().enumerate().filter(|(_, e)| *e != UNALLOCATED).collect();
                assert_eq!(allocated_entries(&bat).collect::<Vec<_>>(), want, "len {len}, density {density}");
            }
        }
    }
}
