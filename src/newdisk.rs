//! The layout of a new disk file, whatever its format: what `convert`, `compact` and the page's
//! "Save as" ask without naming the format. A [`NewLayout`] places a block as it comes and says
//! where its data goes, records a differencing block's present sectors, marks a block zero, and
//! at the end gives the structures to write and the file's length. A dynamic or differencing
//! VHD is [`SparseLayout`]'s, a VHDX [`VhdxLayout`]'s, a fixed VHD or raw image [`FlatLayout`]'s.

use crate::error::Result;
use crate::vhd::footer::FOOTER_SIZE;
use crate::vhd::writer::{SparseLayout, WriteAt};
use crate::vhdx::layout::VhdxLayout;

/// Where a new disk's blocks go, streamed: see the module documentation. Blocks are placed in
/// any order, each once; the data of a placed block is written by the caller at the offset
/// [`NewLayout::place`] gives (runs of zeros may be left unwritten: the output reads them as
/// zeros).
pub trait NewLayout {
    /// `vhd`, `vhdx` or `raw`.
    fn format(&self) -> &'static str;
    /// The new disk's virtual size.
    fn size(&self) -> u64;
    /// Bytes of data per block.
    fn block_size(&self) -> u64;
    /// Blocks of the disk.
    fn blocks(&self) -> u64;
    /// Bytes per bit of [`NewLayout::set_sectors`]: 512 for a VHD, a VHDX's logical sector size.
    fn sector_size(&self) -> u64;
    /// Gives block `block` its place and returns the file offset of its data; every sector of it
    /// is present until [`NewLayout::set_sectors`] says otherwise (a dynamic VHD's sector bitmap
    /// is written to `out` here).
    fn place(&mut self, block: u64, out: &mut dyn WriteAt) -> Result<u64>;
    /// Records which sectors of placed block `block` a differencing disk holds: one bit per
    /// [`NewLayout::sector_size`] bytes, from the least significant bit of each byte. Of a disk
    /// without a parent every sector of a placed block is present (the caller writes zeros where
    /// it holds none), and this does nothing.
    fn set_sectors(&mut self, block: u64, bits: &[u8], out: &mut dyn WriteAt) -> Result<()>;
    /// Makes block `block` (not placed) read as zeros over the parent of a differencing disk: a
    /// VHDX's `PAYLOAD_BLOCK_ZERO`, a VHD's block of zeros with every bit set. Nothing to do on
    /// a disk without a parent, whose unplaced blocks read as zeros.
    fn set_zero(&mut self, block: u64, out: &mut dyn WriteAt) -> Result<()>;
    /// Blocks placed so far.
    fn placed(&self) -> u64;
    /// The finished file's length, with the blocks placed so far.
    fn file_len(&self) -> u64;
    /// The structures to write once every block is written, as (file offset, bytes).
    fn finish(&self) -> Vec<(u64, Vec<u8>)>;
}

/// Writes `layout`'s closing structures to `out` and gives it the file's length.
pub fn finish_into(layout: &dyn NewLayout, out: &mut dyn WriteAt) -> Result<()> {
    for (at, bytes) in layout.finish() {
        out.write_at(at, &bytes)?;
    }
    out.set_len(layout.file_len())
}

impl NewLayout for SparseLayout {
    fn format(&self) -> &'static str {
        "vhd"
    }
    fn size(&self) -> u64 {
        SparseLayout::size(self)
    }
    fn block_size(&self) -> u64 {
        SparseLayout::block_size(self)
    }
    fn blocks(&self) -> u64 {
        SparseLayout::blocks(self)
    }
    fn sector_size(&self) -> u64 {
        512
    }
    fn place(&mut self, block: u64, out: &mut dyn WriteAt) -> Result<u64> {
        let at = SparseLayout::place(self, block).ok_or(crate::error::WriteError::BlockPlacedTwice { block })?;
        if !self.differencing() {
            out.write_at(at, &self.full_bitmap())?;
        }
        Ok(at + self.bitmap_size())
    }
    fn set_sectors(&mut self, block: u64, bits: &[u8], out: &mut dyn WriteAt) -> Result<()> {
        let Some(at) = self.bitmap_offset(block) else {
            return Err(crate::error::WriteError::BlockPlacedTwice { block }.into());
        };
        if !self.differencing() {
            return Ok(());
        }
        // A VHD's bits run from the most significant bit of each byte.
        let mut bitmap = vec![0u8; self.bitmap_size() as usize];
        for (d, s) in bitmap.iter_mut().zip(bits) {
            *d = s.reverse_bits();
        }
        out.write_at(at, &bitmap)
    }
    fn set_zero(&mut self, block: u64, out: &mut dyn WriteAt) -> Result<()> {
        if self.differencing() {
            let at = SparseLayout::place(self, block).ok_or(crate::error::WriteError::BlockPlacedTwice { block })?;
            out.write_at(at, &self.full_bitmap())?;
        }
        Ok(())
    }
    fn placed(&self) -> u64 {
        SparseLayout::placed(self)
    }
    fn file_len(&self) -> u64 {
        SparseLayout::file_len(self)
    }
    fn finish(&self) -> Vec<(u64, Vec<u8>)> {
        SparseLayout::finish(self)
    }
}

impl NewLayout for VhdxLayout {
    fn format(&self) -> &'static str {
        "vhdx"
    }
    fn size(&self) -> u64 {
        self.params().size
    }
    fn block_size(&self) -> u64 {
        VhdxLayout::block_size(self)
    }
    fn blocks(&self) -> u64 {
        VhdxLayout::blocks(self)
    }
    fn sector_size(&self) -> u64 {
        u64::from(self.params().logical_sector_size)
    }
    fn place(&mut self, block: u64, _out: &mut dyn WriteAt) -> Result<u64> {
        VhdxLayout::place(self, block)
    }
    fn set_sectors(&mut self, block: u64, bits: &[u8], out: &mut dyn WriteAt) -> Result<()> {
        VhdxLayout::set_sectors(self, block, bits, out)
    }
    fn set_zero(&mut self, block: u64, _out: &mut dyn WriteAt) -> Result<()> {
        if self.params().parent_locator.is_some() {
            self.set_state(block, crate::image::BlockState::Zero)?;
        }
        Ok(())
    }
    fn placed(&self) -> u64 {
        VhdxLayout::placed(self)
    }
    fn file_len(&self) -> u64 {
        VhdxLayout::file_len(self)
    }
    fn finish(&self) -> Vec<(u64, Vec<u8>)> {
        VhdxLayout::finish(self)
    }
}

/// The stretches a [`FlatLayout`] counts as its blocks: 1 MiB.
pub const FLAT_BLOCK: u64 = 1 << 20;

/// The layout of a file that holds the disk's bytes in place: a raw image, or a fixed VHD (the
/// bytes, then its footer). Its blocks are stretches of [`FLAT_BLOCK`] bytes; none is ever
/// "placed" but where it lies.
#[derive(Debug, Clone)]
pub struct FlatLayout {
    size: u64,
    footer: Option<Vec<u8>>,
    placed: u64,
}

impl FlatLayout {
    /// A raw image of `size` bytes (no footer), or a fixed VHD with `footer` after the bytes.
    pub fn new(size: u64, footer: Option<Vec<u8>>) -> FlatLayout {
        FlatLayout { size, footer, placed: 0 }
    }
}

impl NewLayout for FlatLayout {
    fn format(&self) -> &'static str {
        if self.footer.is_some() {
            "vhd"
        } else {
            "raw"
        }
    }
    fn size(&self) -> u64 {
        self.size
    }
    fn block_size(&self) -> u64 {
        FLAT_BLOCK
    }
    fn blocks(&self) -> u64 {
        self.size.div_ceil(FLAT_BLOCK)
    }
    fn sector_size(&self) -> u64 {
        512
    }
    fn place(&mut self, block: u64, _out: &mut dyn WriteAt) -> Result<u64> {
        self.placed += 1;
        Ok(block * FLAT_BLOCK)
    }
    fn set_sectors(&mut self, _block: u64, _bits: &[u8], _out: &mut dyn WriteAt) -> Result<()> {
        Ok(())
    }
    fn set_zero(&mut self, _block: u64, _out: &mut dyn WriteAt) -> Result<()> {
        Ok(())
    }
    fn placed(&self) -> u64 {
        self.placed
    }
    fn file_len(&self) -> u64 {
        self.size + if self.footer.is_some() { FOOTER_SIZE } else { 0 }
    }
    fn finish(&self) -> Vec<(u64, Vec<u8>)> {
        self.footer.iter().map(|f| (self.size, f.clone())).collect()
    }
}

/// Free space as a fixed list of ranges, for the writers' tests.
#[cfg(test)]
pub(crate) struct Listed(pub Vec<(u64, u64)>);

#[cfg(test)]
impl crate::trim::FreeRanges for Listed {
    fn free_in(
        &mut self,
        _: &crate::Disk,
        _: &[&dyn crate::reader::ReadAt],
        start: u64,
        end: u64,
        out: &mut Vec<(u64, u64)>,
    ) -> Result<()> {
        out.extend(self.0.iter().filter(|(s, e)| *s < end && *e > start).map(|(s, e)| ((*s).max(start), (*e).min(end))));
        Ok(())
    }
}
