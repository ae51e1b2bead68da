//! The virtual disk seen through a chain of layers: the opened file first, then its parent, its
//! grandparent, down to a fixed or dynamic base. Maps any virtual byte range to *extents*: which
//! layer supplies each part and where in that layer's file, or zero-fill.
//!
//! Like opening, mapping does no I/O. [`Disk::plan`] asks for the sector bitmaps it lacks; the
//! driver reads them into a [`BitmapCache`] and plans again.

use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::image::DiskType;
use crate::layer::Layer;
use crate::plan::LayerPlan;
pub use crate::plan::{bit, bit_lsb, run_end, run_end_in, run_end_lsb, BitmapCache, BitmapRequest, BlockHasher, Extent, Sink, Source};

/// The deepest chain this viewer follows. Real chains are a handful of layers deep.
pub const MAX_CHAIN_DEPTH: usize = 256;

/// What [`Disk::plan`] answers.
#[derive(Debug)]
pub enum Plan {
    /// Read these bitmaps into the cache and plan again.
    Need(Vec<BitmapRequest>),
    /// The range's extents, in order, adjacent ones merged.
    Extents(Vec<Extent>),
}

impl BitmapCache {
    /// A cache large enough for planning `disk` block by block.
    pub fn for_disk(disk: &Disk) -> Self {
        Self::new(64 + 4 * disk.layers.len())
    }
}

/// Where the steps of mapping a whole disk end, so that it takes time in proportion to the
/// allocated blocks, not to the size the footer claims (which may be 2^64 bytes): the command
/// line's reader and the page both step with it.
#[derive(Debug, Clone, Default)]
pub struct Steps {
    /// Per layer, the indices of its allocated blocks, ascending (empty for fixed disks).
    allocated: Vec<Vec<u64>>,
}

impl Steps {
    /// The steps of `disk`.
    pub fn new(disk: &Disk) -> Steps {
        let allocated = disk.layers.iter().map(Layer::blocks_with_data).collect();
        Steps { allocated }
    }

    /// Where the planning step of `disk` starting at `pos` ends (at most `end`): inside one block
    /// of every layer whose block at `pos` is allocated, and before the next allocated block of
    /// every other layer. A step then needs at most one bitmap per layer, and a stretch that no
    /// layer allocates is one step.
    pub fn end(&self, disk: &Disk, pos: u64, end: u64) -> u64 {
        let mut stop = end;
        for (layer, alloc) in disk.layers.iter().zip(&self.allocated) {
            let Some(block_size) = layer.block_size() else {
                continue;
            };
            let block = pos / block_size;
            let limit = match alloc.binary_search(&block) {
                Ok(_) => (block + 1).saturating_mul(block_size),
                Err(i) => alloc.get(i).map_or(u64::MAX, |b| b.saturating_mul(block_size)),
            };
            stop = stop.min(limit);
        }
        stop
    }
}

/// The error for a chain deeper than [`MAX_CHAIN_DEPTH`]: the same words whoever finds it (the
/// command line following locators, the page sorting files by unique id).
pub fn too_deep() -> Error {
    Error::ChainTooDeep { max: MAX_CHAIN_DEPTH }
}

/// A chain of opened layers, checked against each other.
#[derive(Debug, Clone)]
pub struct Disk {
    /// The opened file first, then its parent, and so on.
    pub layers: Vec<Layer>,
    /// What was noticed about the chain (the layers' own findings are in each layer).
    pub findings: Vec<Finding>,
}

impl Disk {
    /// Builds a disk from a chain. Each layer but the last must be a differencing disk whose
    /// parent unique id is the next layer's unique id; with `force`, a mismatch is a finding
    /// instead of an error. A differencing last layer is allowed: its parent is then missing, and
    /// the sectors it would supply map to [`Source::Missing`].
    pub fn new(layers: Vec<Layer>, force: bool) -> Result<Disk> {
        if layers.is_empty() {
            return Err(Error::NoDisk);
        }
        if layers.len() > MAX_CHAIN_DEPTH {
            return Err(too_deep());
        }
        let mut findings = Vec::new();
        for (i, pair) in layers.windows(2).enumerate() {
            let (child, parent) = (&pair[0], &pair[1]);
            child.check_parent(i, parent, force, &mut findings)?;
        }
        let mut seen = std::collections::HashSet::new();
        for (i, l) in layers.iter().enumerate() {
            if !seen.insert(l.link_id()) {
                return Err(Error::ChainLoop { how: format!("layer {i} has the unique id {} of a disk above it", l.link_id_text()) });
            }
        }
        Ok(Disk { layers, findings })
    }

    /// The disk as it was when layer `k` was the newest: the chain cut at `k` (layer `k` and
    /// its ancestors; 0 is the whole chain). The chain's findings about those layers are kept,
    /// renumbered from the new top.
    pub fn cut(&self, k: usize) -> Result<Disk> {
        if k >= self.layers.len() {
            return Err(Error::NoSuchLayer { layer: k, layers: self.layers.len() });
        }
        let findings = self
            .findings
            .iter()
            .filter(|f| f.layer >= k)
            .cloned()
            .map(|mut f| {
                f.layer -= k;
                f
            })
            .collect();
        Ok(Disk { layers: self.layers[k..].to_vec(), findings })
    }

    /// The virtual disk's size: the opened file's `current size`.
    pub fn size(&self) -> u64 {
        self.layers[0].size()
    }

    /// The virtual disk's logical sector size as its guest sees it: the opened file's (a VHDX's
    /// `LogicalSectorSize`, 512 or 4096; always 512 for a VHD).
    pub fn sector_size(&self) -> u32 {
        self.layers[0].logical_sector_size()
    }

    /// True when the last layer is a differencing disk whose parent was not given.
    pub fn parent_missing(&self) -> bool {
        self.layers.last().is_some_and(|l| l.disk_type() == DiskType::Differencing)
    }

    /// Every finding: the chain's and each layer's (marked with its layer index).
    pub fn all_findings(&self) -> Vec<Finding> {
        let mut all: Vec<Finding> = self.layers.iter().enumerate().flat_map(|(i, l)| l.findings_as_layer(i)).collect();
        all.extend(self.findings.iter().cloned());
        all
    }

    /// A size of chunk for which planning needs at most two bitmaps per layer: the smallest
    /// block size in the chain (1 MiB for a chain of fixed disks).
    pub fn chunk_size(&self) -> u64 {
        self.layers.iter().filter_map(Layer::block_size).min().unwrap_or(1 << 20)
    }

    /// Maps `[offset, offset + len)` (clamped to the disk's size) to extents, or says which
    /// bitmaps are needed first. Needs at most two bitmaps per layer when `len` is at most
    /// [`Disk::chunk_size`]; the cache must be able to hold them (see [`BitmapCache::for_disk`]).
    pub fn plan(&self, offset: u64, len: u64, cache: &BitmapCache) -> Plan {
        let mut extents = Vec::new();
        let needs = self.plan_into(offset, len, cache, &mut extents);
        if !needs.is_empty() {
            return Plan::Need(needs);
        }
        extents.sort_by_key(|e| e.offset);
        let mut merged: Vec<Extent> = Vec::with_capacity(extents.len());
        for e in extents {
            match merged.last_mut() {
                Some(last) if last.continues_with(&e) => last.len += e.len,
                _ => merged.push(e),
            }
        }
        Plan::Extents(merged)
    }

    /// What [`Disk::plan`] works out, put into `sink` (in no order, not merged); returns the
    /// bitmaps needed first (then what `sink` got is incomplete). A sink that wants no runs
    /// ([`Sink::RUNS`] false: which sources supply the range, not where) is told of a base
    /// layer's block at most once per kind, however many runs its bitmap has.
    pub fn plan_into<S: Sink>(&self, offset: u64, len: u64, cache: &BitmapCache, extents: &mut S) -> Vec<BitmapRequest> {
        let end = offset.saturating_add(len).min(self.size());
        let mut needs = Vec::new();
        // Work list of (layer, offset, end, speculative): speculative work only gathers needs.
        let mut work = vec![(0usize, offset, end, false)];
        while let Some((li, start, stop, spec)) = work.pop() {
            if start >= stop {
                continue;
            }
            let Some(layer) = self.layers.get(li) else {
                if !spec {
                    extents.push(Extent { offset: start, len: stop - start, source: Source::Missing { layer: li - 1 } });
                }
                continue;
            };
            // Past this layer's own size (a parent smaller than its child): zeros.
            let own_end = stop.min(layer.size());
            if own_end < stop && !spec {
                extents.push(Extent { offset: own_end.max(start), len: stop - own_end.max(start), source: Source::Zero });
            }
            if start >= own_end {
                continue;
            }
            let differencing = layer.disk_type() == DiskType::Differencing;
            let mut p =
                LayerPlan { layer: li, data_end: layer.data_end, differencing, spec, cache, work: &mut work, extents, needs: &mut needs };
            layer.plan_range(&mut p, start, own_end);
        }
        needs.sort();
        needs.dedup();
        needs
    }
}
