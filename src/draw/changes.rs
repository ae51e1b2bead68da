//! The Changes bar: where the bytes a differencing disk holds went (files, file-system
//! structures, free space, outside the partitions), from a `diff` report's numbers.

use serde::Deserialize;

use super::{check_width, count, Kind, Style, Svg, M};
use crate::diff::{Held, Report};
use crate::error::Result;
use crate::values::human_size;

/// Height of the bar.
const BAR: u32 = 36;

/// The numbers of a [`Report`] the Changes bar draws. It reads from a report's JSON too (its
/// other keys ignored), which is how the page hands over the report it holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ChangesSummary {
    /// Bytes the child holds.
    pub held_bytes: u64,
    /// Of those, bytes equal to the parent's (identical rewrites).
    pub identical_bytes: u64,
    /// Held bytes outside every partition.
    pub outside_partitions_bytes: u64,
    /// Where each partition's held bytes went.
    #[serde(default)]
    pub partitions: Vec<PartitionHeld>,
}

/// One partition's part of a [`ChangesSummary`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct PartitionHeld {
    /// Where its held bytes went.
    #[serde(default)]
    pub held: Held,
}

impl From<&Report> for ChangesSummary {
    fn from(r: &Report) -> Self {
        ChangesSummary {
            held_bytes: r.held_bytes,
            identical_bytes: r.identical_bytes,
            outside_partitions_bytes: r.outside_partitions_bytes,
            partitions: r.partitions.iter().map(|p| PartitionHeld { held: p.held }).collect(),
        }
    }
}

impl ChangesSummary {
    /// Where the held bytes went, always these five in this order (the bar's, and the page's
    /// Changes view's): files, file-system structures, free space, outside the partitions, and
    /// elsewhere, what the partitions' counts do not cover (a partition not read); as (label,
    /// bytes).
    pub fn destinations(&self) -> [(&'static str, u64); 5] {
        let sum = |f: fn(&Held) -> u64| self.partitions.iter().fold(0u64, |n, p| n.saturating_add(f(&p.held)));
        let mut parts = vec![
            ("files", sum(|h| h.files)),
            ("file-system structures", sum(|h| h.filesystem_metadata)),
            ("free space (data the file system freed)", sum(|h| h.free_space)),
            ("outside the partitions", self.outside_partitions_bytes),
        ];
        let known = parts.iter().fold(0u64, |n, (_, b)| n.saturating_add(*b));
        parts.push(("elsewhere (partitions not read)", self.held_bytes.saturating_sub(known)));
        [parts[0], parts[1], parts[2], parts[3], parts[4]]
    }
}

/// Draws the Changes bar of `summary` (what [`super::svg`] draws for [`super::Picture::Changes`]).
pub fn changes_svg(summary: &ChangesSummary, style: &Style) -> Result<String> {
    check_width(style.width)?;
    let mut svg = Svg::new("changes", style);
    let p = svg.p;
    let kinds = [
        Kind::new("files", p.layer(0), 0),
        Kind::new("file-system structures", p.layer(1), 1),
        Kind::new("free space", p.layer(2), 2),
        Kind::new("outside the partitions", p.layer(3), 3),
        Kind::new("elsewhere", p.unalloc, 4),
    ];
    let title = format!("Where the {} the child holds went", human_size(summary.held_bytes));
    svg.heading(&title);
    let identical = match summary.identical_bytes {
        0 => "None of them is an identical rewrite (the parent's bytes again).".to_string(),
        n => format!("{} of them ({} bytes) are identical rewrites: the parent's bytes again.", human_size(n), count(n)),
    };
    svg.line(&identical, true);
    let dest = summary.destinations();
    let total: u64 = dest.iter().fold(0u64, |n, (_, b)| n.saturating_add(*b)).max(1);
    let dest: Vec<(usize, &str, u64)> = dest.iter().enumerate().filter(|(_, (_, b))| *b > 0).map(|(k, (l, b))| (k, *l, *b)).collect();
    let (inner, top) = (svg.inner(), svg.y);
    let fill = svg.fill(&kinds, 4);
    svg.raw(&format!("<rect x=\"{M}\" y=\"{top}\" width=\"{inner}\" height=\"{BAR}\" fill=\"{fill}\"/>\n"));
    let mut at = 0u64;
    let mut labels = Vec::new();
    for (k, label, bytes) in &dest {
        let k = *k;
        let x0 = M + (u128::from(at) * u128::from(inner) / u128::from(total)) as u32;
        at = at.saturating_add(*bytes);
        let x1 = M + (u128::from(at) * u128::from(inner) / u128::from(total)) as u32;
        let fill = svg.fill(&kinds, k);
        svg.raw(&format!(
            "<rect x=\"{x0}\" y=\"{top}\" width=\"{}\" height=\"{BAR}\" fill=\"{fill}\" stroke=\"{}\"/>\n",
            (x1 - x0).max(2),
            p.bg
        ));
        labels.push((k, format!("{label}: {} ({} bytes)", human_size(*bytes), count(*bytes))));
    }
    svg.raw(&format!("<rect x=\"{M}\" y=\"{top}\" width=\"{inner}\" height=\"{BAR}\" fill=\"none\" stroke=\"{}\"/>\n", p.border));
    svg.y = top + BAR + 12;
    if labels.is_empty() {
        svg.line("The child holds no sectors.", false);
    }
    let desc = format!("{title}: {}. {identical}", labels.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>().join("; "));
    svg.legend(&kinds, &labels);
    Ok(svg.finish(&title, &desc))
}
