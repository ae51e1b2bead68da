//! A layer's block map: how each block of its BAT is read, in the page's colours.

use super::{count, layer_of, plural, summarise, Kind, Style, Svg};
use crate::error::{Error, Result};
use crate::values::human_size;
use crate::Disk;

/// Kind of a block stored out of the file's order.
const OOO: u8 = 8;
/// Kind of a square of blocks of several kinds.
const MIXED: u8 = 9;

pub(super) fn draw(disk: &Disk, layer: usize, style: &Style) -> Result<String> {
    let l = layer_of(disk, layer)?;
    let Some(bs) = l.block_size() else {
        return Err(Error::Usage { message: format!("layer {layer} is a fixed disk: it has no block table to draw") });
    };
    let table = l.block_table();
    let mut svg = Svg::new("bat", style);
    let p = svg.p;
    let c = p.layer(layer);
    let name = |code: u8| table.legend.iter().find(|(k, _, _)| *k == code).map_or("", |(_, n, _)| *n);
    let kinds = [
        Kind::new(name(0), p.unalloc, 0),
        Kind::new(name(1), p.mixed, 6),
        Kind::new(name(2), p.zero, 3),
        Kind::new(name(3), p.zero, 4),
        Kind::new(name(4), p.missing, 5),
        Kind::new(name(5), p.missing, 5),
        Kind::new(name(6), c, 0),
        Kind::new(name(7), c, 1),
        Kind::new("stored out of the file's order", p.ooo, 2),
        Kind::new("several kinds", p.mixed, 7),
    ];
    let state = |i: u64| -> u8 {
        let s = table.states.get(i as usize).map_or(0, |s| s & 7);
        if table.out_of_order.get(i as usize) == Some(&1) {
            OOO
        } else {
            s
        }
    };
    let (cells, per) = summarise(table.blocks, MIXED, state);
    let ooo = table.out_of_order.iter().filter(|o| **o == 1).count() as u64;
    svg.heading(&format!("Block map of layer {layer}"));
    svg.line(
        &format!("{} of {}, {} stored in the file", plural(table.blocks, "block"), human_size(bs), count(l.allocated_blocks())),
        false,
    );
    svg.line(&square_says(per, "block", bs), true);
    svg.grid(&kinds, &cells);
    let mut labels: Vec<(usize, String)> = Vec::new();
    for (code, what, n) in &table.legend {
        // Out-of-order blocks are counted apart from the stored ones.
        let n = if *code == 6 { n - ooo.min(*n) } else { *n };
        if n > 0 {
            labels.push((usize::from(*code), format!("{what}: {}", count(n))));
        }
    }
    if ooo > 0 {
        labels.push((usize::from(OOO), format!("stored out of the file's order: {}", count(ooo))));
    }
    if cells.contains(&MIXED) {
        labels.push((usize::from(MIXED), "a square of blocks of several kinds".to_string()));
    }
    let desc = format!(
        "Layer {layer} has {} of {}: {}.",
        plural(table.blocks, "block"),
        human_size(bs),
        labels.iter().filter(|(k, _)| *k != usize::from(MIXED)).map(|(_, s)| s.as_str()).collect::<Vec<_>>().join("; ")
    );
    svg.legend(&kinds, &labels);
    Ok(svg.finish(&format!("Block map of layer {layer}"), &desc))
}

/// What one square stands for, in words.
pub(super) fn square_says(per: u64, unit: &str, bytes_each: u64) -> String {
    if per == 1 {
        format!("One square per {unit}, in order from the top left.")
    } else {
        format!("Each square: {} ({}), in order from the top left.", plural(per, unit), human_size(per.saturating_mul(bytes_each)))
    }
}
