//! Pictures of a disk as SVG, for documentation and reports: the chain diagram, a layer's block
//! map, one block's sector bitmap, the provenance map, the partition layout and the Changes bar.
//!
//! Every picture is deterministic (the same disk and [`Style`] give the same bytes: no time, no
//! random ids, integer coordinates), holds no script, says what it shows in `<title>` and
//! `<desc>` (its text alternative) and its labels as `<text>`, and tells each kind apart by a
//! pattern and a label as well as by colour. The light and dark themes differ only in their
//! colours, which come from [`palette`], the palette the page's stylesheet follows too. A map
//! of many blocks or sectors is summarised into at most [`MAX_CELLS`] squares, so a picture's
//! size is bounded whatever the disk's.

mod bitmap;
mod blocks;
mod chain;
mod changes;
pub mod palette;
mod partitions;
mod provenance;

use crate::diff::Progress;
use crate::error::{Error, Result};
use crate::reader::ReadAt;
use crate::Disk;

pub use changes::{changes_svg, ChangesSummary};
pub use palette::Palette;

/// The narrowest picture drawn, in pixels.
pub const MIN_WIDTH: u32 = 240;
/// The widest picture drawn, in pixels.
pub const MAX_WIDTH: u32 = 4096;
/// The width when none is asked for.
pub const DEFAULT_WIDTH: u32 = 640;
/// The most squares a map is drawn with: past it, each square stands for several blocks,
/// sectors or cells of the disk.
pub const MAX_CELLS: u64 = 4096;

/// Light or dark colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    /// Dark text on a white background.
    #[default]
    Light,
    /// Light text on a dark background.
    Dark,
}

impl Theme {
    /// The theme's colours.
    pub fn palette(self) -> &'static Palette {
        match self {
            Theme::Light => &palette::LIGHT,
            Theme::Dark => &palette::DARK,
        }
    }

    /// `light` or `dark`.
    pub fn parse(s: &str) -> Result<Theme> {
        match s {
            "light" => Ok(Theme::Light),
            "dark" => Ok(Theme::Dark),
            _ => Err(Error::Usage { message: format!("no theme {s:?}: the themes are light and dark") }),
        }
    }
}

/// How a picture is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// The colours.
    pub theme: Theme,
    /// The picture's width in pixels, [`MIN_WIDTH`] to [`MAX_WIDTH`]; its height follows from
    /// what it shows.
    pub width: u32,
}

impl Default for Style {
    fn default() -> Self {
        Style { theme: Theme::Light, width: DEFAULT_WIDTH }
    }
}

/// Which picture, with what it needs besides the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Picture {
    /// The chain diagram: each file from the one opened down to its base, and whether each link
    /// is verified. `names` are the layers' file names, top first.
    Chain {
        /// The layers' file names, top first.
        names: Vec<String>,
    },
    /// Layer `layer`'s block map: how each block of its BAT is read.
    Bat {
        /// The layer (0 is the file opened).
        layer: usize,
    },
    /// One block's sector bitmap in layer `layer`: which sectors the file holds.
    Bitmap {
        /// The layer (0 is the file opened).
        layer: usize,
        /// The block's index in the layer's BAT.
        block: u64,
    },
    /// Which layer supplies each part of the disk as of layer `layer` (the chain from it down),
    /// from the sector bitmaps (exact).
    Provenance {
        /// The chain is read from this layer down (0: the whole chain).
        layer: usize,
        /// The layers' file names, top first (of the whole chain).
        names: Vec<String>,
    },
    /// The partition table's layout over the disk as of layer `layer`.
    Partitions {
        /// The chain is read from this layer down (0: the whole chain).
        layer: usize,
    },
    /// Where the bytes a child holds went (a `diff` report's numbers).
    Changes(ChangesSummary),
}

impl Picture {
    /// The picture the command line names `kind` (`chain`, `bat`, `bitmap`, `provenance`,
    /// `partitions`; `changes` needs a report: [`changes_svg`]), of layer `layer` (whose block
    /// map, bitmap, or the disk as of which), block `block` for a bitmap; `names` are the
    /// layers' file names, top first.
    pub fn named(kind: &str, layer: usize, block: Option<u64>, names: &[String]) -> Result<Picture> {
        let names = names.to_vec();
        Ok(match (kind, block) {
            ("chain", None) => Picture::Chain { names },
            ("bat", None) => Picture::Bat { layer },
            ("bitmap", Some(block)) => Picture::Bitmap { layer, block },
            ("bitmap", None) => return Err(Error::Usage { message: "a sector bitmap is a block's: give the block".to_string() }),
            ("provenance", None) => Picture::Provenance { layer, names },
            ("partitions", None) => Picture::Partitions { layer },
            ("chain" | "bat" | "provenance" | "partitions", Some(_)) => {
                return Err(Error::Usage { message: format!("a block is given only for a sector bitmap, not for {kind}") })
            }
            _ => {
                return Err(Error::Usage {
                    message: format!("no picture {kind:?}: the pictures are chain, bat, bitmap, provenance, partitions and changes"),
                })
            }
        })
    }
}

/// Draws `picture` of `disk` (whose layers' files are `sources`, top first) as SVG. The chain
/// and the block map read nothing; the bitmap reads one block's bitmap; the provenance map every
/// allocated block's bitmap; the partitions the table's sectors and each file system's first.
pub fn svg(disk: &Disk, sources: &[&dyn ReadAt], picture: &Picture, style: &Style) -> Result<String> {
    svg_with_progress(disk, sources, picture, style, &mut |_, _| true)
}

/// [`svg`], telling `progress(done, total)` how far the provenance map got (bytes of the disk
/// planned), the one picture whose reads grow with the disk; `progress` returning false stops it
/// (error `cancelled`).
pub fn svg_with_progress(
    disk: &Disk,
    sources: &[&dyn ReadAt],
    picture: &Picture,
    style: &Style,
    progress: &mut Progress<'_>,
) -> Result<String> {
    check_width(style.width)?;
    match picture {
        Picture::Chain { names } => Ok(chain::draw(disk, names, style)),
        Picture::Bat { layer } => blocks::draw(disk, *layer, style),
        Picture::Bitmap { layer, block } => bitmap::draw(disk, sources, *layer, *block, style),
        Picture::Provenance { layer, names } => {
            let (disk, sources) = as_of(disk, sources, *layer)?;
            provenance::draw(&disk, sources, names.get(*layer..).unwrap_or_default(), style, progress)
        }
        Picture::Partitions { layer } => {
            let (disk, sources) = as_of(disk, sources, *layer)?;
            partitions::draw(&disk, sources, style)
        }
        Picture::Changes(summary) => changes_svg(summary, style),
    }
}

fn check_width(width: u32) -> Result<()> {
    if !(MIN_WIDTH..=MAX_WIDTH).contains(&width) {
        return Err(Error::Usage { message: format!("a picture's width is {MIN_WIDTH} to {MAX_WIDTH} pixels, not {width}") });
    }
    Ok(())
}

/// The disk as of layer `k` and its files.
fn as_of<'s, 'r>(disk: &Disk, sources: &'s [&'r dyn ReadAt], k: usize) -> Result<(Disk, &'s [&'r dyn ReadAt])> {
    layer_of(disk, k)?;
    Ok((disk.cut(k)?, sources.get(k..).unwrap_or_default()))
}

fn layer_of(disk: &Disk, layer: usize) -> Result<&crate::Layer> {
    disk.layers.get(layer).ok_or_else(|| Error::Usage {
        message: format!("no layer {layer}: the chain has layers 0 to {} (0 is the file opened)", disk.layers.len() - 1),
    })
}

/// The margin around a picture, in pixels.
const M: u32 = 16;
/// Text sizes.
const TITLE: u32 = 15;
const BODY: u32 = 12;
/// Height of one legend or text line.
const LINE: u32 = 20;

/// How a kind of cell is filled: 0 solid, else a pattern drawn over the colour in the
/// background's colour (so kinds differ without colour too).
#[derive(Debug, Clone)]
pub(crate) struct Kind {
    label: String,
    colour: &'static str,
    pattern: u8,
}

impl Kind {
    pub(crate) fn new(label: impl Into<String>, colour: &'static str, pattern: u8) -> Kind {
        Kind { label: label.into(), colour, pattern }
    }
}

/// An SVG picture being drawn: its body, the patterns it uses, its height so far.
pub(crate) struct Svg<'a> {
    id: String,
    width: u32,
    pub(crate) y: u32,
    pub(crate) p: &'a Palette,
    body: String,
    defs: String,
    /// The kinds whose pattern is defined already.
    defined: Vec<usize>,
}

impl<'a> Svg<'a> {
    /// A picture whose ids are `vv-KIND-` and a hash of what it draws (so that several
    /// pictures inlined in one page never share a pattern or a title's id; the same picture
    /// gets the same ids).
    pub(crate) fn new(kind: &str, style: &Style) -> Svg<'a> {
        Svg {
            id: format!("vv-{kind}-{HASH}"),
            width: style.width,
            y: M,
            p: style.theme.palette(),
            body: String::new(),
            defs: String::new(),
            defined: Vec::new(),
        }
    }

    /// The width inside the margins.
    pub(crate) fn inner(&self) -> u32 {
        self.width - 2 * M
    }

    pub(crate) fn raw(&mut self, s: &str) {
        self.body.push_str(s);
    }

    /// Text at (`x`, `y`) (its baseline), cut with an ellipsis to `max` pixels.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn text(&mut self, x: u32, y: u32, size: u32, bold: bool, colour: &str, anchor: &str, s: &str, max: u32) {
        let weight = if bold { " font-weight=\"700\"" } else { "" };
        let anchor = if anchor == "start" { String::new() } else { format!(" text-anchor=\"{anchor}\"") };
        self.body.push_str(&format!(
            "<text x=\"{x}\" y=\"{y}\" font-size=\"{size}\"{weight}{anchor} fill=\"{colour}\">{}</text>\n",
            esc(&fit(s, max, size))
        ));
    }

    /// A title line at the top.
    pub(crate) fn heading(&mut self, s: &str) {
        let (x, y, w, fg) = (M, self.y + TITLE, self.inner(), self.p.fg);
        self.text(x, y, TITLE, true, fg, "start", s, w);
        self.y += TITLE + 10;
    }

    /// A line of plain text.
    pub(crate) fn line(&mut self, s: &str, muted: bool) {
        let (x, y, w) = (M, self.y + BODY, self.inner());
        let c = if muted { self.p.muted } else { self.p.fg };
        self.text(x, y, BODY, false, c, "start", s, w);
        self.y += LINE;
    }

    /// The fill of `kind`: its colour, or its pattern over its colour.
    pub(crate) fn fill(&mut self, kinds: &[Kind], k: usize) -> String {
        let kind = &kinds[k];
        if kind.pattern == 0 {
            return kind.colour.to_string();
        }
        let id = format!("{}-k{k}", self.id);
        if !self.defined.contains(&k) {
            self.defined.push(k);
            let bg = self.p.bg;
            let over = match kind.pattern % 8 {
                1 => format!("<path d=\"M-1 1L1 -1M0 6L6 0M5 7L7 5\" stroke=\"{bg}\" stroke-opacity=\"0.6\" stroke-width=\"1.5\"/>"),
                2 => format!("<circle cx=\"3\" cy=\"3\" r=\"1.3\" fill=\"{bg}\" fill-opacity=\"0.7\"/>"),
                3 => format!("<path d=\"M0 3H6\" stroke=\"{bg}\" stroke-opacity=\"0.6\" stroke-width=\"1.5\"/>"),
                4 => format!("<path d=\"M0 0L6 6M-1 5L1 7M5 -1L7 1\" stroke=\"{bg}\" stroke-opacity=\"0.6\" stroke-width=\"1.5\"/>"),
                5 => format!("<path d=\"M0 3H6M3 0V6\" stroke=\"{bg}\" stroke-opacity=\"0.6\" stroke-width=\"1\"/>"),
                6 => format!("<path d=\"M3 0V6\" stroke=\"{bg}\" stroke-opacity=\"0.6\" stroke-width=\"1.5\"/>"),
                _ => format!("<path d=\"M0 0H3V3H0ZM3 3H6V6H3Z\" fill=\"{bg}\" fill-opacity=\"0.5\"/>"),
            };
            self.defs.push_str(&format!(
                "<pattern id=\"{id}\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\"><rect width=\"6\" height=\"6\" fill=\"{}\"/>{over}</pattern>\n",
                kind.colour
            ));
        }
        format!("url(#{id})")
    }

    /// A legend: a swatch of each kind with its label, one a line.
    pub(crate) fn legend(&mut self, kinds: &[Kind], labels: &[(usize, String)]) {
        for (k, text) in labels {
            let fill = self.fill(kinds, *k);
            let (y, border) = (self.y, self.p.border);
            self.body.push_str(&format!("<rect x=\"{M}\" y=\"{y}\" width=\"14\" height=\"14\" fill=\"{fill}\" stroke=\"{border}\"/>\n"));
            let (w, fg) = (self.inner() - 22, self.p.fg);
            self.text(M + 22, y + 11, BODY, false, fg, "start", text, w);
            self.y += LINE;
        }
    }

    /// A map: `cells[i]` is the kind of square `i`, in rows of a power of two squares, left to
    /// right and top to bottom; a row's run of one kind is one rectangle.
    pub(crate) fn grid(&mut self, kinds: &[Kind], cells: &[u8]) {
        let n = cells.len().max(1) as u32;
        let mut cols = 1u32;
        while cols * 2 <= self.inner() / 8 && cols < n {
            cols *= 2;
        }
        let cell = (self.inner() / cols).min(24);
        let rows = n.div_ceil(cols);
        let top = self.y;
        for (r, row) in cells.chunks(cols as usize).enumerate() {
            let mut i = 0;
            while i < row.len() {
                let k = row[i];
                let mut j = i + 1;
                while j < row.len() && row[j] == k {
                    j += 1;
                }
                let fill = self.fill(kinds, k as usize);
                let (x, y, w) = (M + i as u32 * cell, top + r as u32 * cell, (j - i) as u32 * cell);
                self.body.push_str(&format!("<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{cell}\" fill=\"{fill}\"/>\n"));
                i = j;
            }
        }
        let border = self.p.border;
        self.body.push_str(&format!(
            "<rect x=\"{M}\" y=\"{top}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"{border}\"/>\n",
            cols * cell,
            rows * cell
        ));
        self.y = top + rows * cell + 12;
    }

    /// The finished picture, with `title` and `desc` as its text alternative.
    pub(crate) fn finish(self, title: &str, desc: &str) -> String {
        let (w, h, id) = (self.width, self.y + M, &self.id);
        let mut s = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"{id}-t {id}-d\" font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\">\n<title id=\"{id}-t\">{}</title>\n<desc id=\"{id}-d\">{}</desc>\n",
            esc(title),
            esc(desc)
        );
        if !self.defs.is_empty() {
            s.push_str("<defs>\n");
            s.push_str(&self.defs);
            s.push_str("</defs>\n");
        }
        s.push_str(&format!("<rect width=\"{w}\" height=\"{h}\" fill=\"{}\"/>\n", self.p.bg));
        s.push_str(&self.body);
        s.push_str("</svg>\n");
        s.replace(HASH, &format!("{:08x}", fnv1a(s.as_bytes()) as u32))
    }
}

/// Stands for the picture's hash in its ids until it is drawn whole (a character no text keeps:
/// [`esc`] drops controls).
const HASH: &str = "\u{1}";

/// FNV-1a, 64 bits.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// `items` things of kinds `kind(i)` summarised into at most [`MAX_CELLS`] squares: each square
/// the kind of its things, or `mixed` when they differ. Returns the squares and how many things
/// each stands for.
pub(crate) fn summarise(items: u64, mixed: u8, mut kind: impl FnMut(u64) -> u8) -> (Vec<u8>, u64) {
    let per = items.div_ceil(MAX_CELLS).max(1);
    let cells = items.div_ceil(per);
    let mut out = Vec::with_capacity(cells as usize);
    for c in 0..cells {
        let (start, end) = (c * per, ((c + 1) * per).min(items));
        let first = kind(start);
        let mut k = first;
        for i in start + 1..end {
            if kind(i) != first {
                k = mixed;
                break;
            }
        }
        out.push(k);
    }
    (out, per)
}

/// `n` with thousands separated by commas.
pub(crate) fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `n` and `word`, plural when `n` is not 1.
pub(crate) fn plural(n: u64, word: &str) -> String {
    format!("{} {word}{}", count(n), if n == 1 { "" } else { "s" })
}

/// `s` cut to about `max` pixels of text of `size` (an average glyph taken as 0.55 of the size),
/// with an ellipsis.
fn fit(s: &str, max: u32, size: u32) -> String {
    let room = (max * 20 / (size * 11)).max(1) as usize;
    if s.chars().count() <= room {
        return s.to_string();
    }
    let mut out: String = s.chars().take(room.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `s` as XML text: markup escaped, characters XML does not allow (controls) dropped.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || matches!(c as u32, 0x7f..=0x9f | 0xfffe | 0xffff) => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_controls() {
        assert_eq!(esc("a<b>&\"c'\u{0}\u{1b}d\te"), "a&lt;b&gt;&amp;&quot;c&#39;d e");
    }

    #[test]
    fn each_of_many_kinds_gets_its_own_pattern() {
        // A table of 4096 partitions is 4096 kinds: kind 258 is not kind 2.
        let kinds: Vec<Kind> = (0..300).map(|i| Kind::new(format!("k{i}"), "#123456", 1)).collect();
        let mut svg = Svg::new("t", &Style::default());
        let (a, b) = (svg.fill(&kinds, 2), svg.fill(&kinds, 258));
        assert_ne!(a, b);
        let out = svg.finish("t", "t");
        assert_eq!(out.matches("<pattern id=").count(), 2, "{out}");
        assert!(out.contains("-k2\"") && out.contains("-k258\""), "{out}");
    }

    #[test]
    fn summarises_past_max_cells() {
        let (cells, per) = summarise(MAX_CELLS * 3 + 1, 9, |i| u8::from(i % 2 == 0));
        assert_eq!(per, 4);
        assert_eq!(cells.len(), 3073);
        assert!(cells[..cells.len() - 1].iter().all(|&k| k == 9));
        // The last square holds one thing only: its own kind.
        assert_eq!(cells.last(), Some(&1));
        let (cells, per) = summarise(10, 9, |i| (i / 5) as u8);
        assert_eq!((cells, per), (vec![0, 0, 0, 0, 0, 1, 1, 1, 1, 1], 1));
    }

    #[test]
    fn counts_and_fits() {
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(999), "999");
        assert_eq!(plural(1, "block"), "1 block");
        assert_eq!(plural(2000, "block"), "2,000 blocks");
        assert_eq!(fit("abcdefghij", 33, 12), "abcd…");
    }
}
