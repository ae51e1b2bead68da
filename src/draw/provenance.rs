//! The provenance map: which layer of the chain supplies each part of the disk, exact (from the
//! sector bitmaps), in squares of the disk's blocks.

use super::blocks::square_says;
use super::{Kind, Style, Svg};
use crate::diff::Progress;
use crate::disk::Source;
use crate::error::{Error, Result};
use crate::provenance::{layer_bit, mask_of, LAYER_BITS, MISSING, ZERO};
use crate::reader::{DiskReader, ReadAt};
use crate::values::human_size;
use crate::Disk;

pub(super) fn draw(disk: &Disk, sources: &[&dyn ReadAt], names: &[String], style: &Style, progress: &mut Progress<'_>) -> Result<String> {
    let size = disk.size();
    let unit = disk.chunk_size();
    let per = size.div_ceil(unit).div_ceil(super::MAX_CELLS).max(1);
    let cell = per * unit;
    let cells = size.div_ceil(cell) as usize;
    let layers = disk.layers.len().min(LAYER_BITS);
    let mut masks = vec![0u32; cells];
    // Bytes supplied by each layer, then zeros, then missing.
    let mut bytes = vec![0u64; layers + 2];
    let mut reader = DiskReader::new(disk, sources.to_vec())?;
    let mut told = 0;
    reader.for_each_extent(0, size, |e| {
        // Told once a square at most.
        let done = (e.offset + e.len) / cell;
        if done > told {
            told = done;
            if !progress(e.offset + e.len, size) {
                return Err(Error::Cancelled { what: "the provenance map" });
            }
        }
        let bit = mask_of(std::slice::from_ref(&e));
        let k = match e.source {
            Source::Data { layer, .. } => layer.min(layers - 1),
            Source::Zero => layers,
            Source::Missing { .. } => layers + 1,
        };
        bytes[k] += e.len;
        let (first, last) = ((e.offset / cell) as usize, (e.offset + e.len).div_ceil(cell) as usize);
        for m in &mut masks[first..last.min(cells)] {
            *m |= bit;
        }
        Ok(())
    })?;
    let (zero, missing, mixed) = (layers as u8, layers as u8 + 1, layers as u8 + 2);
    let kind = |m: u32| -> u8 {
        if m.count_ones() != 1 {
            mixed
        } else if m == ZERO {
            zero
        } else if m == MISSING {
            missing
        } else {
            (0..layers).find(|k| layer_bit(*k) == m).unwrap_or(layers - 1) as u8
        }
    };
    let squares: Vec<u8> = masks.iter().map(|m| kind(*m)).collect();
    let mut svg = Svg::new("provenance", style);
    let p = svg.p;
    let name = |k: usize| names.get(k).map_or(String::new(), |n| format!(" ({n})"));
    let mut kinds: Vec<Kind> =
        (0..layers).map(|k| Kind::new(format!("layer {k}{}", name(k)), p.layer(k), ((k + k / 8) % 8) as u8)).collect();
    kinds.push(Kind::new("reads as zeros", p.zero, 3));
    kinds.push(Kind::new("missing: cannot be read", p.missing, 5));
    kinds.push(Kind::new("several sources", p.mixed, 7));
    let title = "Which file supplies each part of the disk";
    svg.heading(title);
    svg.line(
        &format!("{} disk of {} layer{}, from the sector bitmaps", human_size(size), layers, if layers == 1 { "" } else { "s" }),
        false,
    );
    svg.line(&square_says(per, "block", unit), true);
    svg.grid(&kinds, &squares);
    let mut labels: Vec<(usize, String)> = Vec::new();
    for (k, b) in bytes.iter().enumerate() {
        if *b > 0 {
            labels.push((k, format!("{}: {}", kinds[k].label, human_size(*b))));
        }
    }
    if squares.contains(&mixed) {
        labels.push((usize::from(mixed), "a square supplied by several sources".to_string()));
    }
    let desc = format!(
        "The disk's {} come from: {}.",
        human_size(size),
        labels.iter().filter(|(k, _)| *k != usize::from(mixed)).map(|(_, s)| s.as_str()).collect::<Vec<_>>().join("; ")
    );
    svg.legend(&kinds, &labels);
    Ok(svg.finish(title, &desc))
}
