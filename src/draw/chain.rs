//! The chain diagram: each file from the one opened down to its base, and under each child
//! whether its parent is the one it names.

use super::{count, Style, Svg, BODY, M};
use crate::info::chain_links;
use crate::values::human_size;
use crate::Disk;

/// Height of one file's box.
const BOX: u32 = 86;
/// Height of the arrow between two boxes.
const ARROW: u32 = 34;

pub(super) fn draw(disk: &Disk, names: &[String], style: &Style) -> String {
    let links = chain_links(disk, names);
    let missing = disk.parent_missing();
    let mut svg = Svg::new("chain", style);
    let p = svg.p;
    let heading = if links.len() > 1 || missing { "The chain, from the file opened down to its base" } else { "One disk, no parent" };
    svg.heading(heading);
    let (x, w) = (M, svg.inner());
    let mut said = Vec::new();
    for (i, l) in links.iter().enumerate() {
        let top = svg.y;
        let c = p.layer(i);
        svg.raw(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{BOX}\" rx=\"6\" fill=\"{}\" stroke=\"{c}\" stroke-width=\"3\"/>\n",
            x + 1,
            top + 1,
            w - 2,
            p.bg
        ));
        let which = if i == 0 { "top".to_string() } else { format!("layer {i}") };
        let lines = [
            (format!("{which} · {}", l.file), true, p.fg),
            (format!("{} {} disk by “{}”", l.format.to_uppercase(), l.disk_type, l.creator_application.trim()), false, p.fg),
            (
                format!(
                    "{} ({} bytes) · {} stored in this file",
                    human_size(l.current_size),
                    count(l.current_size),
                    blocks(l.allocated_blocks)
                ),
                false,
                p.fg,
            ),
            (format!("id {}", l.unique_id), false, p.muted),
        ];
        for (k, (text, bold, colour)) in lines.iter().enumerate() {
            svg.text(x + 14, top + 22 + k as u32 * 18, BODY + u32::from(*bold), *bold, colour, "start", text, w - 28);
        }
        said.push(format!("{which}: {}, a {} {} disk of {}", l.file, l.format.to_uppercase(), l.disk_type, human_size(l.current_size)));
        svg.y = top + BOX;
        let Some(verified) = l.parent_verified else { continue };
        let last = i + 1 == links.len();
        let (colour, words) = match (verified, last) {
            (true, _) => (p.good, "parent link verified ✓".to_string()),
            (false, true) => (p.bad, "parent not given ✗".to_string()),
            (false, false) => (p.bad, "parent link BROKEN ✗".to_string()),
        };
        let words = format!("{words} (parent id {})", l.parent_unique_id.as_deref().unwrap_or("?"));
        let (ax, y0) = (x + 28, svg.y);
        svg.raw(&format!(
            "<path d=\"M{ax} {}V{}\" stroke=\"{colour}\" stroke-width=\"2\"/><path d=\"M{} {}L{ax} {}L{} {}Z\" fill=\"{colour}\"/>\n",
            y0 + 2,
            y0 + ARROW - 8,
            ax - 6,
            y0 + ARROW - 10,
            y0 + ARROW - 2,
            ax + 6,
            y0 + ARROW - 10
        ));
        svg.text(ax + 16, y0 + ARROW / 2 + 4, BODY, false, colour, "start", &words, w - 60);
        said.push(words);
        svg.y = y0 + ARROW;
    }
    if missing {
        let top = svg.y;
        let name = disk.layers.last().map(|l| l.parent_name()).unwrap_or_default();
        let name = if name.is_empty() { "a parent with no recorded name".to_string() } else { name };
        svg.raw(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"{}\" stroke=\"{}\" stroke-width=\"3\" stroke-dasharray=\"8 5\"/>\n",
            x + 1,
            top + 1,
            w - 2,
            BOX - 36,
            p.bg,
            p.missing
        ));
        svg.text(x + 14, top + 22, BODY + 1, true, p.fg, "start", &format!("missing · {name}"), w - 28);
        svg.text(x + 14, top + 40, BODY, false, p.muted, "start", "Not given: the disk cannot be read whole without it.", w - 28);
        said.push(format!("missing: {name}"));
        svg.y = top + BOX - 36;
    }
    svg.y += 4;
    svg.finish(heading, &(said.join(". ") + "."))
}

fn blocks(n: u64) -> String {
    super::plural(n, "block")
}
