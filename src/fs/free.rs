//! Free space from a file system's allocation map, read forward a window at a time: what
//! `compact --trim` need not keep ([`crate::trim::FreeSpace`] puts the volumes of a disk
//! together). The format knowledge is each file system's: NTFS's `$Bitmap`
//! ([`super::ntfs::BitmapMap`]), the FAT ([`super::fat::FatMap`]), exFAT's allocation bitmap ([`super::exfat::ExFatMap`]), ext's block-group bitmaps
//! ([`super::ext::ExtMap`]), XFS's free-space B+trees ([`super::xfs::XfsMap`]). What they share is here: the map as *units* (clusters or blocks)
//! of a fixed size from a base offset in the volume, a window of them held as bits, and the
//! cursor that turns the windows into byte ranges of the volume.
//!
//! A map is read a window at a time (at most [`WINDOW_UNITS`] units, rounded to whole block
//! groups for ext), so memory stays flat whatever the volume's size; the cursor keeps the last
//! window, and ranges are asked in ascending order, so each window is read once.

use super::survey::push_range;
use super::{exfat, ext, fat, ntfs, xfs, FileSystem, ReadVirtual, Volume};
use crate::error::Result;

/// The most units a window holds (32 KiB of bits).
pub const WINDOW_UNITS: u64 = 1 << 18;

/// The free units of `[first, first + count)`: bit `k` set when unit `first + k` is free. A
/// map's `fill` sets the bits of the units it finds free; every other unit is in use.
#[derive(Debug, Clone, Default)]
pub struct Window {
    first: u64,
    count: u64,
    bits: Vec<u64>,
}

impl Window {
    /// Clears the window to `[first, first + count)`, every unit in use.
    fn reset(&mut self, first: u64, count: u64) {
        self.first = first;
        self.count = count;
        self.bits.clear();
        self.bits.resize(count.div_ceil(64) as usize, 0);
    }

    /// The first unit.
    pub fn first(&self) -> u64 {
        self.first
    }

    /// The number of units.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Marks unit `first + k` free (ignored past the window).
    pub fn set_free(&mut self, k: u64) {
        if k < self.count {
            self.bits[(k / 64) as usize] |= 1 << (k % 64);
        }
    }

    /// Marks units `first + k .. first + k + n` free (clipped to the window).
    pub fn set_free_run(&mut self, k: u64, n: u64) {
        for u in k..k.saturating_add(n).min(self.count) {
            self.set_free(u);
        }
    }

    /// Marks unit `first + k` in use (ignored past the window).
    pub fn set_used(&mut self, k: u64) {
        if k < self.count {
            self.bits[(k / 64) as usize] &= !(1 << (k % 64));
        }
    }

    /// Marks free the units whose bit is clear in `map`, bit `b` of byte `b / 8` (LSB first)
    /// standing for unit `first + at + b` (an allocation bitmap: 1 is in use); `bits` bits of it.
    pub fn free_where_clear(&mut self, at: u64, map: &[u8], bits: u64) {
        let bits = bits.min(map.len() as u64 * 8).min(self.count.saturating_sub(at));
        if at % 8 != 0 {
            for b in 0..bits {
                if map[(b / 8) as usize] & (1 << (b % 8)) == 0 {
                    self.set_free(at + b);
                }
            }
            return;
        }
        // A byte at a time: its clear bits, as set ones, into the word that holds them.
        for (i, &byte) in map.iter().enumerate().take(bits.div_ceil(8) as usize) {
            let left = bits - 8 * i as u64;
            let mask = if left >= 8 { 0xFF } else { (1u8 << left) - 1 };
            let free = !byte & mask;
            if free != 0 {
                let pos = at + 8 * i as u64;
                self.bits[(pos / 64) as usize] |= u64::from(free) << (pos % 64);
            }
        }
    }

    /// The free units in `[from, to)` (window-relative), as runs `(start, end)`.
    fn runs(&self, from: u64, to: u64, mut each: impl FnMut(u64, u64)) {
        let to = to.min(self.count);
        let mut k = from;
        while k < to {
            let w = self.bits[(k / 64) as usize] >> (k % 64);
            if w == 0 {
                k = (k / 64 + 1) * 64;
                continue;
            }
            k += u64::from(w.trailing_zeros());
            if k >= to {
                break;
            }
            let start = k;
            loop {
                let w = !self.bits[(k / 64) as usize] >> (k % 64);
                let step = if w == 0 { 64 - k % 64 } else { u64::from(w.trailing_zeros()) };
                k += step;
                if w != 0 || k >= to {
                    break;
                }
            }
            each(start, k.min(to));
        }
    }

    /// Free units in the window.
    fn free_units(&self) -> u64 {
        self.bits.iter().map(|w| u64::from(w.count_ones())).sum()
    }
}

/// The allocation map of one file system.
#[derive(Debug, Clone)]
pub enum Map {
    /// FAT12/16/32: the first FAT.
    Fat(fat::FatMap),
    /// exFAT: the allocation bitmap.
    ExFat(exfat::ExFatMap),
    /// NTFS: `$Bitmap`.
    Ntfs(ntfs::BitmapMap),
    /// ext2/3/4: the block groups' bitmaps.
    Ext(ext::ExtMap),
    /// XFS: the allocation groups' free-space B+trees.
    Xfs(xfs::XfsMap),
}

impl Map {
    /// The map of `fs`, or why its volume must be kept whole (not closed cleanly, so the map
    /// may be stale; or the map cannot be found).
    pub fn open<R: ReadVirtual>(fs: &mut FileSystem, vol: &mut Volume<R>) -> Result<std::result::Result<Map, String>> {
        Ok(match fs {
            FileSystem::Fat(f) => f.free_map(vol)?.map(Map::Fat),
            FileSystem::ExFat(x) => x.free_map().map(Map::ExFat),
            FileSystem::Ntfs(n) => n.free_map(vol)?.map(Map::Ntfs),
            FileSystem::Ext(x) => x.free_map(vol)?.map(Map::Ext),
            FileSystem::Xfs(x) => x.free_map(vol)?.map(Map::Xfs),
        })
    }

    /// (volume byte offset of unit 0, bytes per unit, number of units).
    fn geometry(&self) -> (u64, u64, u64) {
        match self {
            Map::Fat(m) => m.geometry(),
            Map::ExFat(m) => m.geometry(),
            Map::Ntfs(m) => m.geometry(),
            Map::Ext(m) => m.geometry(),
            Map::Xfs(m) => m.geometry(),
        }
    }

    /// Units per window, and the unit windows start from.
    fn window_units(&self) -> u64 {
        match self {
            Map::Ext(m) => m.window_units(),
            Map::Fat(_) | Map::ExFat(_) | Map::Ntfs(_) | Map::Xfs(_) => WINDOW_UNITS,
        }
    }

    fn fill<R: ReadVirtual>(&self, vol: &mut Volume<R>, win: &mut Window) -> Result<()> {
        match self {
            Map::Fat(m) => m.fill(vol, win),
            Map::ExFat(m) => m.fill(vol, win),
            Map::Ntfs(m) => m.fill(vol, win),
            Map::Ext(m) => m.fill(vol, win),
            Map::Xfs(m) => m.fill(vol, win),
        }
    }
}

/// A forward cursor over a volume's free space: [`FreeCursor::free_in`] answers ascending
/// ranges, reading each window of the map once.
#[derive(Debug, Clone)]
pub struct FreeCursor {
    map: Map,
    window: Window,
    loaded: bool,
}

impl FreeCursor {
    /// A cursor over `map`.
    pub fn new(map: Map) -> FreeCursor {
        FreeCursor { map, window: Window::default(), loaded: false }
    }

    /// Bytes per unit (cluster or block).
    pub fn unit(&self) -> u64 {
        self.map.geometry().1
    }

    fn load<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, index: u64) -> Result<()> {
        let per = self.map.window_units().max(1);
        let first = index / per * per;
        if self.loaded && self.window.first == first {
            return Ok(());
        }
        let units = self.map.geometry().2;
        self.window.reset(first, per.min(units - first));
        self.loaded = false;
        self.map.fill(vol, &mut self.window)?;
        self.loaded = true;
        Ok(())
    }

    /// Appends to `out` the free bytes of the volume in `[start, end)` (volume offsets), sorted
    /// and joined; only the units inside the volume count.
    pub fn free_in<R: ReadVirtual>(&mut self, vol: &mut Volume<R>, start: u64, end: u64, out: &mut Vec<(u64, u64)>) -> Result<()> {
        let (base, unit, units) = self.map.geometry();
        if unit == 0 || units == 0 {
            return Ok(());
        }
        // Units wholly inside the volume only.
        let units = units.min(vol.len().saturating_sub(base) / unit);
        let end = end.min(base.saturating_add(units.saturating_mul(unit)));
        if start >= end || end <= base {
            return Ok(());
        }
        let (first, last) = (start.max(base).saturating_sub(base) / unit, (end - base).div_ceil(unit));
        let mut u = first;
        while u < last {
            self.load(vol, u)?;
            let (wf, wc) = (self.window.first, self.window.count);
            let stop = last.min(wf + wc);
            self.window.runs(u - wf, stop - wf, |a, b| {
                let (s, e) = (base + (wf + a) * unit, base + (wf + b) * unit);
                push_range(out, s.max(start), e.min(end));
            });
            u = stop;
        }
        Ok(())
    }

    /// The free bytes of the whole volume, the map read from start to end once.
    pub fn free_bytes<R: ReadVirtual>(&mut self, vol: &mut Volume<R>) -> Result<u64> {
        let (base, unit, units) = self.map.geometry();
        let units = units.min(vol.len().saturating_sub(base) / unit.max(1));
        let mut free = 0u64;
        let mut u = 0;
        while u < units {
            self.load(vol, u)?;
            let stop = units.min(self.window.first + self.window.count);
            if stop == self.window.first + self.window.count {
                free += self.window.free_units();
            } else {
                self.window.runs(u - self.window.first, stop - self.window.first, |a, b| free += b - a);
            }
            u = stop;
        }
        Ok(free.saturating_mul(unit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_runs_cross_words_and_stop_at_the_bounds() {
        let mut w = Window::default();
        w.reset(1000, 300);
        w.set_free_run(3, 2);
        w.set_free_run(60, 80);
        w.set_free(299);
        w.set_free(300);
        w.set_used(100);
        let mut got = Vec::new();
        w.runs(0, 300, |a, b| got.push((a, b)));
        assert_eq!(got, vec![(3, 5), (60, 100), (101, 140), (299, 300)]);
        got.clear();
        w.runs(4, 70, |a, b| got.push((a, b)));
        assert_eq!(got, vec![(4, 5), (60, 70)]);
        assert_eq!(w.free_units(), 2 + 79 + 1);
        w.reset(0, 16);
        w.free_where_clear(0, &[0b1111_0000, 0xFF], 12);
        got.clear();
        w.runs(0, 16, |a, b| got.push((a, b)));
        assert_eq!(got, vec![(0, 4)], "a clear bit is free, past `bits` is in use");
        // Not on a byte's boundary, and cut at the window's end.
        w.reset(0, 16);
        w.free_where_clear(3, &[0b0000_0101, 0x00], 16);
        got.clear();
        w.runs(0, 16, |a, b| got.push((a, b)));
        assert_eq!(got, vec![(4, 5), (6, 16)]);
    }
}
