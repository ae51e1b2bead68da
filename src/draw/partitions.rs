//! The partition layout: the table's partitions along the disk, in proportion, with the
//! table's own sectors and the space no partition covers.

use super::{Kind, Style, Svg, BODY, M};
use crate::error::Result;
use crate::parts::{self, Role, Scheme};
use crate::reader::{DiskReader, ReadAt};
use crate::values::human_size;
use crate::Disk;

/// Height of the bar.
const BAR: u32 = 44;

pub(super) fn draw(disk: &Disk, sources: &[&dyn ReadAt], style: &Style) -> Result<String> {
    let mut reader = DiskReader::new(disk, sources.to_vec())?;
    let table = parts::read(&mut reader)?;
    let size = disk.size().max(1);
    let mut svg = Svg::new("partitions", style);
    let p = svg.p;
    let scheme = match table.scheme {
        Scheme::Mbr => "an MBR",
        Scheme::Gpt => "a GPT",
        Scheme::None => "no partition table",
    };
    let title = format!("Partitions: {scheme} on a disk of {}", human_size(disk.size()));
    svg.heading(&title);
    let shown: Vec<&parts::Partition> = table.partitions.iter().filter(|q| q.role != Role::Extended).collect();
    // Kinds: the space no partition covers, the table's sectors, then each partition shown.
    let mut kinds = vec![Kind::new("not in a partition", p.unalloc, 0), Kind::new("the partition table's sectors", p.muted, 5)];
    kinds.extend(shown.iter().enumerate().map(|(i, q)| Kind::new(format!("partition {}", q.index), p.layer(i), (i % 7 + 1) as u8)));
    let inner = svg.inner();
    let x_of = |off: u64| M + (u128::from(off.min(size)) * u128::from(inner) / u128::from(size)) as u32;
    let top = svg.y;
    let fill0 = svg.fill(&kinds, 0);
    svg.raw(&format!("<rect x=\"{M}\" y=\"{top}\" width=\"{inner}\" height=\"{BAR}\" fill=\"{fill0}\"/>\n"));
    let segment = |svg: &mut Svg, k: usize, off: u64, len: u64, label: &str| {
        let (x0, x1) = (x_of(off), x_of(off.saturating_add(len)));
        let w = (x1 - x0).max(2);
        let fill = svg.fill(&kinds, k);
        svg.raw(&format!("<rect x=\"{x0}\" y=\"{top}\" width=\"{w}\" height=\"{BAR}\" fill=\"{fill}\" stroke=\"{}\"/>\n", p.bg));
        if !label.is_empty() && w >= 24 {
            let (cx, y) = (x0 + w / 2, top + BAR / 2 + 5);
            svg.raw(&format!("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"18\" rx=\"3\" fill=\"{}\"/>\n", cx - 10, y - 13, 20, p.bg));
            svg.text(cx, y, BODY, true, p.fg, "middle", label, w);
        }
    };
    for a in &table.areas {
        segment(&mut svg, 1, a.offset, a.len, "");
    }
    for (i, q) in shown.iter().enumerate() {
        segment(&mut svg, i + 2, q.offset(), q.len(), &q.index.to_string());
    }
    let border = p.border;
    svg.raw(&format!("<rect x=\"{M}\" y=\"{top}\" width=\"{inner}\" height=\"{BAR}\" fill=\"none\" stroke=\"{border}\"/>\n"));
    svg.y = top + BAR;
    // Each extended partition as a bracket under the bar.
    for q in table.partitions.iter().filter(|q| q.role == Role::Extended) {
        let (x0, x1, y) = (x_of(q.offset()), x_of(q.offset().saturating_add(q.len())), svg.y + 4);
        svg.raw(&format!("<path d=\"M{x0} {y}v6H{x1}v-6\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"/>\n", p.muted));
        svg.text(x0 + 4, y + 20, BODY, false, p.muted, "start", &format!("extended partition {}", q.index), x1.saturating_sub(x0).max(120));
        svg.y += 26;
    }
    svg.y += 6;
    let (y, muted) = (svg.y + BODY, p.muted);
    svg.text(M, y, BODY, false, muted, "start", "byte 0", inner / 2);
    svg.text(M + inner, y, BODY, false, muted, "end", &format!("{} bytes", super::count(disk.size())), inner / 2);
    svg.y += LINE_GAP;
    let mut labels: Vec<(usize, String)> = Vec::new();
    let mut said = Vec::new();
    for (i, q) in shown.iter().enumerate() {
        let fs = match (q.filesystem, &q.volume_group) {
            (Some(f), _) => f.name().to_string(),
            (None, Some(vg)) => format!("LVM2 physical volume of volume group {vg}"),
            (None, None) => "no file system read".to_string(),
        };
        let label = q.label.as_deref().filter(|l| !l.is_empty()).map_or(String::new(), |l| format!(" “{l}”"));
        let text = format!(
            "partition {}: {fs}{label}, {} from byte {} ({}), {}",
            q.index,
            human_size(q.len()),
            super::count(q.offset()),
            human_size(q.offset()),
            q.type_name
        );
        said.push(text.clone());
        labels.push((i + 2, text));
    }
    // LVM2 logical volumes: in words under the legend (their extents lie in the PVs' partitions).
    let mut volumes = Vec::new();
    for v in &table.volumes {
        let place = |i: Option<u32>, pv: &str| i.map_or(format!("{pv} (not on this disk)"), |i| format!("partition {i}"));
        let segs: Vec<String> = v.segments.iter().map(|s| s.words(place, " and ")).collect();
        let fs = v.filesystem.map_or("no file system read".to_string(), |f| f.name().to_string());
        let label = v.label.as_deref().filter(|l| !l.is_empty()).map_or(String::new(), |l| format!(" “{l}”"));
        let (head, layout) = (format!("logical volume {}: {fs}{label}, {}", v.name(), human_size(v.size)), segs.join("; "));
        said.push(format!("{head}, {layout}"));
        volumes.push((head, layout));
    }
    for q in table.partitions.iter().filter(|q| q.role == Role::Extended) {
        said.push(format!("extended partition {}: {} from byte {}", q.index, human_size(q.len()), super::count(q.offset())));
    }
    if !table.areas.is_empty() {
        labels.push((1, "the partition table's own sectors".to_string()));
    }
    labels.push((0, "not in a partition".to_string()));
    svg.legend(&kinds, &labels);
    for (head, layout) in &volumes {
        svg.text(M, svg.y + 4 + BODY, BODY, false, p.fg, "start", head, inner);
        svg.text(M + 22, svg.y + 22 + BODY, BODY, false, p.muted, "start", layout, inner - 22);
        svg.y += 42;
    }
    let desc = if said.is_empty() { format!("{title}: no partitions.") } else { format!("{title}. {}.", said.join("; ")) };
    Ok(svg.finish(&title, &desc))
}

/// Space under the bar's scale.
const LINE_GAP: u32 = 24;
