//! Which layer of a chain supplies each part of the virtual disk, summarised for a map: one
//! 32-bit mask per cell of the disk (a bit per layer, plus zero-fill and missing), and one byte
//! per sector for a close-up.
//!
//! The quick [`estimate`] uses only the BATs (no reads at all). The exact answer needs the sector
//! bitmaps; [`Scan`] walks the disk cell by cell without doing I/O itself: it says which bitmaps
//! it needs (like [`Disk::plan`]), the driver reads them into the [`BitmapCache`] and steps again.

use crate::disk::{BitmapCache, BitmapRequest, Disk, Extent, Source};
use crate::error::{Error, Result};
use crate::image::BlockRead;

/// Mask bit: some of the cell reads as zeros.
pub const ZERO: u32 = 1 << 29;
/// Mask bit: some of the cell cannot be read (missing parent, file cut short).
pub const MISSING: u32 = 1 << 30;
/// Mask bit: the mask is an estimate from the BATs; the bitmaps were not read.
pub const ESTIMATE: u32 = 1 << 31;
/// Layers with their own mask bit; deeper layers share bit `LAYER_BITS - 1`.
pub const LAYER_BITS: usize = 29;

/// Sector code: reads as zeros.
pub const SECTOR_ZERO: u8 = 255;
/// Sector code: cannot be read.
pub const SECTOR_MISSING: u8 = 254;
/// Sector code for layers this deep or deeper.
pub const SECTOR_DEEP: u8 = 253;

/// The largest number of cells a map is made of.
pub const MAX_CELLS: u64 = 1 << 22;
/// The longest range [`sector_sources`] describes: 256 MiB, the largest block size.
pub const MAX_SECTOR_RANGE: u64 = 256 << 20;

/// The mask bit of layer `layer`.
pub fn layer_bit(layer: usize) -> u32 {
    1 << layer.min(LAYER_BITS - 1)
}

/// The mask of a list of extents: the sources that supply any of their bytes.
pub fn mask_of(extents: &[Extent]) -> u32 {
    extents.iter().fold(0, |m, e| m | source_bit(e))
}

/// The bit of the source that supplies an extent.
fn source_bit(e: &Extent) -> u32 {
    match e.source {
        Source::Zero => ZERO,
        Source::Missing { .. } => MISSING,
        Source::Data { layer, .. } => layer_bit(layer),
    }
}

/// A [`crate::disk::Sink`] that keeps only the mask of what it is given: which sources supply a
/// range, worked out without a list of extents (a bitmap of thousands of runs costs no more).
#[derive(Debug, Default)]
pub struct SourceMask(pub u32);

impl crate::disk::Sink for SourceMask {
    const RUNS: bool = false;
    fn push(&mut self, e: Extent) {
        if e.len > 0 {
            self.0 |= source_bit(&e);
        }
    }
}

/// One byte per sector of `sector_size` bytes (the disk's logical sectors) of
/// `[offset, offset + len)`: the layer index that supplies it, [`SECTOR_ZERO`] or
/// [`SECTOR_MISSING`]. `extents` are the range's extents as [`Disk::plan`] gives them; sectors
/// they do not cover read as zeros. A sector partly supplied by two sources gets the last one's.
pub fn sector_sources(extents: &[Extent], offset: u64, len: u64, sector_size: u32) -> Result<Vec<u8>> {
    let ss = u64::from(sector_size.max(1));
    if len > MAX_SECTOR_RANGE {
        return Err(Error::RangeTooLong { offset, len, max: MAX_SECTOR_RANGE });
    }
    let mut out = vec![SECTOR_ZERO; len.div_ceil(ss) as usize];
    let end = offset.saturating_add(len);
    for e in extents {
        let start = e.offset.max(offset);
        let stop = e.offset.saturating_add(e.len).min(end);
        if start >= stop {
            continue;
        }
        let code = match e.source {
            Source::Zero => SECTOR_ZERO,
            Source::Missing { .. } => SECTOR_MISSING,
            Source::Data { layer, .. } => u8::try_from(layer).unwrap_or(SECTOR_DEEP).min(SECTOR_DEEP),
        };
        let first = ((start - offset) / ss) as usize;
        let last = ((stop - offset).div_ceil(ss) as usize).min(out.len());
        out[first..last].fill(code);
    }
    Ok(out)
}

/// The mask of `[offset, offset + len)` from the BATs alone, without reading anything: the
/// topmost layer whose BAT allocates a block there (with [`ESTIMATE`] set, because its bitmap may
/// pass sectors down), or, where no layer allocates one, the exact answer: zeros, the fixed base,
/// or missing.
pub fn estimate(disk: &Disk, offset: u64, len: u64) -> u32 {
    let end = offset.saturating_add(len).min(disk.size());
    if offset >= end {
        return 0;
    }
    let mut mask = 0;
    for (li, layer) in disk.layers.iter().enumerate() {
        let own_end = end.min(layer.size());
        if own_end < end {
            mask |= ZERO;
        }
        if offset >= own_end {
            return mask;
        }
        let Some(bs) = layer.block_size() else {
            // A fixed VHD: the file's data up to where the footer starts.
            if own_end > layer.data_end {
                mask |= MISSING;
            }
            if offset < layer.data_end {
                mask |= layer_bit(li);
            }
            return mask;
        };
        let mut below = false;
        for b in offset / bs..=(own_end - 1) / bs {
            match layer.block_read(b) {
                BlockRead::Data(_) | BlockRead::Partial { .. } => return mask | layer_bit(li) | ESTIMATE,
                BlockRead::Zero => mask |= ZERO,
                BlockRead::Below => below = true,
            }
        }
        if !below {
            return mask;
        }
    }
    mask | MISSING
}

/// A walk over the whole disk that makes the exact map, cell by cell. See the module
/// documentation.
#[derive(Debug, Clone)]
pub struct Scan {
    cell_size: u64,
    next: u64,
    /// Cells before this one have had their bitmaps asked for (by [`Scan::step`] or
    /// [`Scan::ahead`]).
    asked: u64,
    done: u64,
    total: u64,
    masks: Vec<u32>,
}

/// What [`Scan::step`] answers.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Read these bitmaps into the cache and step again.
    Need(Vec<BitmapRequest>),
    /// Cells done so far, of the cells that need their bitmaps read.
    Progress {
        /// Cells done.
        done: u64,
        /// Cells in all.
        total: u64,
    },
    /// Every cell is exact.
    Done,
}

impl Scan {
    /// A scan of `disk` in cells of `cell_size` bytes, at most [`Disk::chunk_size`] (so that a
    /// cell needs at most two bitmaps per layer) and at least 512. Starts from [`estimate`]'s
    /// masks; only cells with [`ESTIMATE`] set need reading.
    pub fn new(disk: &Disk, cell_size: u64) -> Result<Scan> {
        if cell_size < 512 || cell_size > disk.chunk_size() {
            return Err(Error::MapCellSize { cell_size, max: disk.chunk_size() });
        }
        let cells = disk.size().div_ceil(cell_size);
        if cells > MAX_CELLS {
            return Err(Error::MapTooManyCells { cells, max: MAX_CELLS });
        }
        let masks: Vec<u32> = (0..cells).map(|c| estimate(disk, c * cell_size, cell_size)).collect();
        let total = masks.iter().filter(|m| *m & ESTIMATE != 0).count() as u64;
        Ok(Scan { cell_size, next: 0, asked: 0, done: 0, total, masks })
    }

    /// The masks so far: exact where [`ESTIMATE`] is clear.
    pub fn masks(&self) -> &[u32] {
        &self.masks
    }

    /// The cell size in bytes.
    pub fn cell_size(&self) -> u64 {
        self.cell_size
    }

    /// Advances over at most `budget` cells that need bitmaps. Asks for at most about `max_needs`
    /// bitmaps at a time; the cache must hold that many plus two per layer.
    pub fn step(&mut self, disk: &Disk, cache: &BitmapCache, budget: u64, max_needs: usize) -> Step {
        let cells = self.masks.len() as u64;
        let mut needs: Vec<BitmapRequest> = Vec::new();
        let mut cell = self.next;
        let mut visited = 0;
        while cell < cells && visited < budget.max(1) && needs.len() < max_needs.max(1) {
            let i = cell as usize;
            cell += 1;
            if self.masks[i] & ESTIMATE == 0 {
                if needs.is_empty() {
                    self.next = cell;
                }
                continue;
            }
            visited += 1;
            let mut mask = SourceMask(0);
            let need = disk.plan_into((cell - 1) * self.cell_size, self.cell_size, cache, &mut mask);
            if !need.is_empty() {
                needs.extend(need);
            } else if needs.is_empty() {
                self.masks[i] = mask.0;
                self.done += 1;
                self.next = cell;
            }
        }
        if !needs.is_empty() {
            self.asked = self.asked.max(cell);
            needs.sort();
            needs.dedup();
            return Step::Need(needs);
        }
        if self.next >= cells {
            Step::Done
        } else {
            Step::Progress { done: self.done, total: self.total }
        }
    }

    /// The bitmaps of the next cells not asked for yet, about `max_needs` of them, without
    /// working out any cell: a caller reads them while [`Scan::step`] works out the cells whose
    /// bitmaps it has, so that reading and working overlap. At most `4 * max_needs + 64` cells
    /// that need bitmaps are looked at.
    pub fn ahead(&mut self, disk: &Disk, cache: &BitmapCache, max_needs: usize) -> Vec<BitmapRequest> {
        let cells = self.masks.len() as u64;
        let mut needs: Vec<BitmapRequest> = Vec::new();
        let mut cell = self.asked.max(self.next);
        let mut visited = 0;
        while cell < cells && needs.len() < max_needs.max(1) && visited < 4 * max_needs + 64 {
            let i = cell as usize;
            cell += 1;
            if self.masks[i] & ESTIMATE == 0 {
                continue;
            }
            visited += 1;
            needs.extend(disk.plan_into((cell - 1) * self.cell_size, self.cell_size, cache, &mut SourceMask(0)));
        }
        self.asked = cell;
        needs.sort();
        needs.dedup();
        needs
    }

    /// Cells done and cells in all.
    pub fn progress(&self) -> (u64, u64) {
        (self.done, self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::Plan;
    use crate::image::DiskType;
    use crate::image::Located;
    use crate::image::Opened;
    use crate::layer::Layer;
    use crate::values::Uuid;
    use crate::vhd::footer::{Footer, FOOTER_SIZE};
    use crate::vhd::header::{DynamicHeader, HEADER_SIZE};
    use crate::vhd::{FooterSource, Vhd, UNALLOCATED};

    /// A sparse layer of `blocks` 4 KiB blocks (8 sectors, a 512-byte bitmap) whose BAT is `bat`.
    fn sparse(id: u8, parent: Option<u8>, bat: Vec<u32>) -> Layer {
        let mut f = Footer::parse(&[0u8; FOOTER_SIZE as usize]);
        f.unique_id = Uuid([id; 16]);
        f.current_size = bat.len() as u64 * 4096;
        f.disk_type = if parent.is_some() { DiskType::Differencing } else { DiskType::Dynamic };
        let mut h = DynamicHeader::parse(&[0u8; HEADER_SIZE as usize]);
        h.parent_unique_id = Uuid([parent.unwrap_or(0); 16]);
        h.block_size = 4096;
        h.max_table_entries = bat.len() as u32;
        let image = Vhd {
            footer: Located { offset: 0, value: f },
            footer_source: FooterSource::End,
            end_footer: None,
            footer_copy: None,
            header: Some(Located { offset: 512, value: h }),
            locators: Vec::new(),
            bat,
            bat_range: None,
        };
        Layer::from(Opened { file_len: 1 << 20, data_end: 1 << 20, findings: Vec::new(), image })
    }

    #[test]
    fn estimate_and_exact_scan() {
        // Child: block 0 allocated at sector 100. Parent: blocks 0 and 1 allocated.
        let child = sparse(2, Some(1), vec![100, UNALLOCATED, UNALLOCATED]);
        let parent = sparse(1, None, vec![200, 300, UNALLOCATED]);
        let disk = Disk::new(vec![child, parent], false).unwrap();
        assert_eq!(estimate(&disk, 0, 4096), layer_bit(0) | ESTIMATE);
        assert_eq!(estimate(&disk, 4096, 4096), layer_bit(1) | ESTIMATE);
        assert_eq!(estimate(&disk, 8192, 4096), ZERO);

        let mut scan = Scan::new(&disk, 4096).unwrap();
        assert_eq!(scan.progress(), (0, 2));
        let mut cache = BitmapCache::new(64);
        let mut rounds = 0;
        loop {
            match scan.step(&disk, &cache, 100, 16) {
                Step::Need(reqs) => {
                    for r in reqs {
                        // Child block 0: first four sectors its own; parent blocks: all set.
                        let bits = if r.layer == 0 { 0xf0 } else { 0xff };
                        let mut b = vec![0u8; 512];
                        b[0] = bits;
                        cache.insert(r.layer, r.block, b);
                    }
                }
                Step::Progress { .. } => {}
                Step::Done => break,
            }
            rounds += 1;
            assert!(rounds < 10);
        }
        assert_eq!(scan.masks(), &[layer_bit(0) | layer_bit(1), layer_bit(1), ZERO]);

        let Plan::Extents(e) = disk.plan(0, 4096, &cache) else { panic!("bitmaps are cached") };
        assert_eq!(sector_sources(&e, 0, 4096, 512).unwrap(), vec![0, 0, 0, 0, 1, 1, 1, 1]);
        assert_eq!(sector_sources(&e, 1024, 1024, 512).unwrap(), vec![0, 0]);
    }

    #[test]
    fn the_source_mask_is_the_mask_of_the_extents() {
        // Two- and three-layer chains and a base alone, with random bitmaps (runs of 1 to 9
        // sectors, full and empty bytes), any range: the mask worked out without extents is the
        // mask of the planned extents.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for case in 0..300 {
            let blocks = 3;
            let depth = 1 + case % 3;
            let mut layers = Vec::new();
            for l in 0..depth {
                let parent = (l + 1 < depth).then_some((l + 2) as u8);
                let bat = (0..blocks).map(|b| if next() % 4 == 0 { UNALLOCATED } else { 16 + (l * blocks + b) as u32 * 16 }).collect();
                layers.push(sparse((l + 1) as u8, parent, bat));
            }
            let disk = Disk::new(layers, false).unwrap();
            let mut cache = BitmapCache::new(64);
            for l in 0..depth {
                for b in 0..blocks {
                    let mut bits = vec![0u8; 512];
                    match next() % 4 {
                        0 => bits[0] = 0xff,
                        1 => {}
                        _ => bits[0] = next() as u8,
                    }
                    cache.insert(l, b as u64, bits);
                }
            }
            let off = next() % (blocks as u64 * 4096);
            let len = 1 + next() % (blocks as u64 * 4096 - off);
            let Plan::Extents(e) = disk.plan(off, len, &cache) else { panic!("every bitmap is cached") };
            let mut m = SourceMask(0);
            assert!(disk.plan_into(off, len, &cache, &mut m).is_empty());
            assert_eq!(m.0, mask_of(&e), "case {case}: {off}+{len}");
        }
    }

    #[test]
    fn missing_parent_and_bad_cells() {
        let child = sparse(2, Some(1), vec![UNALLOCATED, UNALLOCATED]);
        let disk = Disk::new(vec![child], false).unwrap();
        assert_eq!(estimate(&disk, 0, 8192), MISSING);
        assert!(Scan::new(&disk, 8192).is_err());
        assert!(Scan::new(&disk, 100).is_err());
        let mut scan = Scan::new(&disk, 4096).unwrap();
        assert_eq!(scan.step(&disk, &BitmapCache::new(4), 10, 10), Step::Done);
        assert!(sector_sources(&[], 0, MAX_SECTOR_RANGE + 512, 512).is_err());
        assert_eq!(sector_sources(&[], 0, 1000, 512).unwrap(), vec![SECTOR_ZERO; 2]);
        // In 4096-byte sectors: one byte per 4096.
        assert_eq!(sector_sources(&[], 0, 8192 + 1, 4096).unwrap(), vec![SECTOR_ZERO; 3]);
    }
}
