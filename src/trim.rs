//! What `compact --trim` and `convert --trim` need not keep: the bytes of the virtual disk that
//! every recognised file system on it marks free. Space that no recognised file system covers
//! (unknown partitions, gaps, a partition table's own sectors) is never free here.

use crate::error::Result;
use crate::reader::ReadAt;
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
