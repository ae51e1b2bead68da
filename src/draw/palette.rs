//! The colours of the pictures, light and dark: the one palette the page's theme follows too
//! (`www/css/style.css` and the element's defaults in `www/js/page/element-css.js` hold the same
//! values under the same names; `tests/draw.rs` fails when they drift apart).

/// The colours of one theme, each a `#rrggbb` string named as the page's CSS variable is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    /// `--bg`: the background.
    pub bg: &'static str,
    /// `--fg`: text.
    pub fg: &'static str,
    /// `--muted`: secondary text.
    pub muted: &'static str,
    /// `--border`: frames and lines.
    pub border: &'static str,
    /// `--good`: a verified link.
    pub good: &'static str,
    /// `--bad`: a broken link.
    pub bad: &'static str,
    /// `--unalloc`: a block not allocated, a bitmap bit clear.
    pub unalloc: &'static str,
    /// `--ooo`: a block stored out of the file's order.
    pub ooo: &'static str,
    /// `--zero`: what reads as zeros.
    pub zero: &'static str,
    /// `--mixed`: a summarised cell whose parts differ.
    pub mixed: &'static str,
    /// `--missing`: what cannot be read.
    pub missing: &'static str,
    /// `--layer-0` to `--layer-7`: the layers of a chain (cycling after eight).
    pub layers: [&'static str; 8],
}

/// The light theme.
pub const LIGHT: Palette = Palette {
    bg: "#ffffff",
    fg: "#1b1f24",
    muted: "#57606a",
    border: "#d0d7de",
    good: "#1a7f37",
    bad: "#c4112f",
    unalloc: "#e3e7eb",
    ooo: "#e8912d",
    zero: "#d5dbe1",
    mixed: "#8a3ffc",
    missing: "#d62839",
    layers: ["#1f6feb", "#2da44e", "#bf8700", "#8250df", "#1b9aaa", "#cf222e", "#6e7781", "#bc4c00"],
};

/// The dark theme.
pub const DARK: Palette = Palette {
    bg: "#0d1117",
    fg: "#e6edf3",
    muted: "#9198a1",
    border: "#30363d",
    good: "#3fb950",
    bad: "#ff7b72",
    unalloc: "#262c36",
    ooo: "#db7b1b",
    zero: "#30363d",
    mixed: "#a371f7",
    missing: "#f85149",
    layers: ["#4493f8", "#3fb950", "#d29922", "#a371f7", "#39c5cf", "#ff7b72", "#9198a1", "#f0883e"],
};

impl Palette {
    /// The colour of layer `i` (cycling after eight, as the page's `layerColor`).
    pub fn layer(&self, i: usize) -> &'static str {
        self.layers[i % 8]
    }

    /// Every colour with its CSS variable's name, for checking the page's stylesheet against.
    pub fn named(&self) -> Vec<(String, &'static str)> {
        let mut v: Vec<(String, &'static str)> = [
            ("bg", self.bg),
            ("fg", self.fg),
            ("muted", self.muted),
            ("border", self.border),
            ("good", self.good),
            ("bad", self.bad),
            ("unalloc", self.unalloc),
            ("ooo", self.ooo),
            ("zero", self.zero),
            ("mixed", self.mixed),
            ("missing", self.missing),
        ]
        .iter()
        .map(|(n, c)| (format!("--{n}"), *c))
        .collect();
        v.extend(self.layers.iter().enumerate().map(|(i, c)| (format!("--layer-{i}"), *c)));
        v
    }
}
