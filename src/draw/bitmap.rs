//! One block's sector bitmap in one layer: which sectors the file holds itself (the bit set)
//! and which it leaves to the layer below.

use super::blocks::square_says;
use super::{layer_of, plural, summarise, Kind, Style, Svg};
use crate::error::{Error, Result};
use crate::image::BlockRead;
use crate::reader::ReadAt;
use crate::values::human_size;
use crate::Disk;

const HELD: u8 = 0;
const BELOW: u8 = 1;
const ZERO: u8 = 2;
const MIXED: u8 = 3;

pub(super) fn draw(disk: &Disk, sources: &[&dyn ReadAt], layer: usize, block: u64, style: &Style) -> Result<String> {
    let l = layer_of(disk, layer)?;
    let Some(bs) = l.block_size() else {
        return Err(Error::Usage { message: format!("layer {layer} is a fixed disk: it has no blocks, and no sector bitmaps") });
    };
    let blocks = l.size().div_ceil(bs);
    if block >= blocks {
        return Err(Error::Usage {
            message: format!("no block {block} in layer {layer}: it has blocks 0 to {}", blocks.saturating_sub(1)),
        });
    }
    let ss = u64::from(l.logical_sector_size().max(1));
    let sectors = bs.min(l.size() - block * bs).div_ceil(ss);
    let read = l.block_read(block);
    let mut bits = Vec::new();
    let (all, how) = match read {
        BlockRead::Below if layer + 1 < disk.layers.len() || disk.parent_missing() => {
            (BELOW, "is not in this file: every sector is read from the layer below")
        }
        BlockRead::Below | BlockRead::Zero => (ZERO, "is not in this file: every sector reads as zeros"),
        BlockRead::Data(_) => (HELD, "is stored whole: the file holds every sector"),
        BlockRead::Partial { bitmap, .. } => {
            let src = sources.get(layer).ok_or_else(|| Error::Usage { message: format!("the file of layer {layer} was not given") })?;
            let len = bitmap.len.min(sectors.div_ceil(8));
            bits = vec![0u8; len as usize];
            src.read_at(bitmap.offset, &mut bits)?;
            (HELD, "is stored with a sector bitmap: a set bit means the file holds the sector")
        }
    };
    let lsb = l.bitmap_lsb_first();
    let kind = |i: u64| -> u8 {
        if !matches!(read, BlockRead::Partial { .. }) {
            return all;
        }
        let byte = bits.get((i / 8) as usize).copied().unwrap_or(0);
        let bit = if lsb { byte >> (i % 8) } else { byte >> (7 - i % 8) };
        if bit & 1 == 1 {
            HELD
        } else {
            BELOW
        }
    };
    let mut counts = [0u64; 3];
    for i in 0..sectors {
        counts[usize::from(kind(i))] += 1;
    }
    let (cells, per) = summarise(sectors, MIXED, kind);
    let mut svg = Svg::new("bitmap", style);
    let p = svg.p;
    let kinds = [
        Kind::new("held by this file (bit set)", p.layer(layer), 0),
        Kind::new("left to the layer below (bit clear)", p.unalloc, 1),
        Kind::new("reads as zeros", p.zero, 3),
        Kind::new("a square of sectors of several kinds", p.mixed, 7),
    ];
    let first = block * bs / ss;
    let title = format!("Sector bitmap of block {block}, layer {layer}");
    svg.heading(&title);
    svg.line(
        &format!(
            "{} of {} bytes, sectors {first} to {} of the disk ({})",
            plural(sectors, "sector"),
            ss,
            first + sectors - 1,
            human_size(bs)
        ),
        false,
    );
    svg.line(&square_says(per, "sector", ss), true);
    svg.grid(&kinds, &cells);
    let mut labels: Vec<(usize, String)> = Vec::new();
    for (k, n) in counts.iter().enumerate() {
        if *n > 0 {
            labels.push((k, format!("{}: {}", kinds[k].label, plural(*n, "sector"))));
        }
    }
    if cells.contains(&MIXED) {
        labels.push((usize::from(MIXED), kinds[usize::from(MIXED)].label.clone()));
    }
    let desc = format!(
        "Block {block} of layer {layer} {how}. {}.",
        labels.iter().filter(|(k, _)| *k != usize::from(MIXED)).map(|(_, s)| s.as_str()).collect::<Vec<_>>().join("; ")
    );
    svg.legend(&kinds, &labels);
    Ok(svg.finish(&title, &desc))
}
