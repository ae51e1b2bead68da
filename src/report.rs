//! The report `vhd-viewer report` writes and the page's "Save report" saves: one self-contained
//! static HTML file to file with a case. On top the tool's version and each file's size and
//! SHA-256; then the summary, the findings (the metadata's and `check`'s), the pictures as inline
//! SVG, the partitions, what a child changed (`diff`), and every structure's fields. No script is
//! needed to read it; its CSS is inline, with print rules, so that it prints to PDF as it shows.
//!
//! [`gather`] reads what the report says (the hashing reads every byte of every file, a window
//! of [`WINDOW`] bytes at a time, so memory stays flat) and [`html`] writes it. The same disk
//! gives the same bytes: nothing in it depends on the time or the machine. It is well-formed XML
//! as well as HTML (void elements closed, only XML's entities), so that tools of either kind read it.

use std::fmt::Write as _;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::diff::{self, Progress};
use crate::disk::Disk;
use crate::draw::{self, ChangesSummary, Picture, Style};
use crate::error::{Error, Result};
use crate::fields::{Field, Structure};
use crate::finding::{Finding, Severity};
use crate::image::BlockRead;
use crate::info::{self, Info, LayerInfo};
use crate::parts::{self, Scheme, Table};
use crate::reader::{DiskReader, ReadAt};
use crate::values::{hex, human_size};

/// The version of the tool that writes the report.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Bytes hashed at once.
pub const WINDOW: usize = 1 << 20;

/// One file of the chain, as the report's top names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileHash {
    /// The file's name as the caller gave it.
    pub name: String,
    /// Its length in bytes.
    pub size: u64,
    /// The SHA-256 of its bytes, in lowercase hex (as `sha256sum` prints it).
    pub sha256: String,
}

/// The SHA-256 of the `len` bytes of `src`, read [`WINDOW`] bytes at a time. `progress(bytes)`
/// is told the bytes hashed after each window, and stops the hashing (error `cancelled`) by
/// returning false.
pub fn sha256(src: &dyn ReadAt, len: u64, progress: &mut dyn FnMut(u64) -> bool) -> Result<String> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; WINDOW];
    let mut at = 0u64;
    while at < len {
        let n = usize::try_from(len - at).map_or(WINDOW, |r| r.min(WINDOW));
        src.read_at(at, &mut buf[..n])?;
        hasher.update(&buf[..n]);
        at += n as u64;
        if !progress(n as u64) {
            return Err(Error::Cancelled { what: "the report" });
        }
    }
    Ok(hex(&hasher.finalize()))
}

/// A picture of the disk, as SVG, with its title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figure {
    /// What it shows, e.g. `The chain`.
    pub title: String,
    /// The picture: an `<svg>` element (`draw::svg`), or why it could not be drawn.
    pub svg: std::result::Result<String, String>,
}

/// What the report says, gathered by [`gather`].
#[derive(Debug, Clone)]
pub struct Contents {
    /// Each file of the chain, layer 0 first.
    pub files: Vec<FileHash>,
    /// The summary and every structure's fields (`info --json`), the chain's too.
    pub info: Info,
    /// Every layer's own summary, layer 0 first (its structures field by field).
    pub layers: Vec<LayerInfo>,
    /// Every finding: each layer's, the chain's, and `check`'s reading of the sector bitmaps.
    pub findings: Vec<Finding>,
    /// The pictures.
    pub figures: Vec<Figure>,
    /// The partition table (`parts --json`), or why it could not be read.
    pub partitions: std::result::Result<Table, String>,
    /// For a differencing disk, what it changed over its parent (`diff --json`), or why that could
    /// not be said; `None` for a disk that is not a child.
    pub changes: Option<std::result::Result<diff::Report, String>>,
}

/// Progress is told in thousandths: hashing takes the first [`HASHING`], then the check, the
/// diff and the provenance map [`STEP`] each.
const HASHING: u64 = 700;
const STEP: u64 = 100;
const ALL: u64 = 1000;

/// Reads what the report of `disk` says: `sources[i]` reads layer `i`'s file, `names[i]` names it.
/// `missing` are the findings about parents that could not be found (they belong to the
/// chain, not to a layer). `progress(done, total)` is told how far it got in thousandths and stops
/// it (error `cancelled`) by returning false.
pub fn gather(
    disk: &Disk,
    sources: &[&dyn ReadAt],
    names: &[String],
    missing: &[Finding],
    key: Option<&crate::bitlocker::Key>,
    progress: &mut Progress<'_>,
) -> Result<Contents> {
    if sources.len() != disk.layers.len() {
        return Err(Error::FilesForChain { files: sources.len(), layers: disk.layers.len() });
    }
    let total: u64 = disk.layers.iter().map(|l| l.file_len).sum::<u64>().max(1);
    let mut hashed = 0u64;
    let mut files = Vec::with_capacity(disk.layers.len());
    for ((layer, src), name) in disk.layers.iter().zip(sources).zip(names) {
        let sha256 = sha256(*src, layer.file_len, &mut |n| {
            hashed += n;
            progress(hashed * HASHING / total, ALL)
        })?;
        files.push(FileHash { name: name.clone(), size: layer.file_len, sha256 });
    }
    let info = info::info(disk, names);
    let layers = disk.layers.iter().zip(names).map(|(l, n)| info::layer_info(l, n)).collect();
    let mut findings = disk.all_findings();
    findings.extend(missing.iter().cloned());
    let mut reader = DiskReader::new(disk, sources.to_vec())?;
    let mut stopped = false;
    findings.extend(crate::check::scan(&mut reader, &mut |done, total| {
        stopped |= !progress(HASHING + done * STEP / total.max(1), ALL);
    })?);
    if stopped {
        return Err(Error::Cancelled { what: "the report" });
    }
    let mut partitions = parts::read(&mut reader).map_err(|e| e.to_string());
    if let (Ok(t), Some(key)) = (&mut partitions, key) {
        t.unlock_all(&mut reader, key, &mut |_, _| true)?;
    }
    let changes = if disk.layers.len() > 1 {
        let diffed = diff::layers(disk, sources, 1, 0, key, &mut |done, total| progress(HASHING + STEP + done * STEP / total.max(1), ALL));
        match diffed {
            Err(e @ Error::Cancelled { .. }) => return Err(e),
            other => Some(other.map_err(|e| e.to_string())),
        }
    } else if disk.parent_missing() {
        Some(Err("its parent was not found, so what it changed cannot be said".to_string()))
    } else {
        None
    };
    let mut drawing = |done: u64, total: u64| progress(HASHING + 2 * STEP + done * STEP / total.max(1), ALL);
    let figures = figures_of(disk, sources, names, changes.as_ref().and_then(|c| c.as_ref().ok()), &mut drawing)?;
    progress(ALL, ALL);
    Ok(Contents { files, info, layers, findings, figures, partitions, changes })
}

/// The pictures of the report ([`draw`], in its default style): the chain, layer 0's block map
/// and the sector bitmap of the first block it holds part of (else the first it holds whole),
/// the provenance map (telling `progress` how far it got), the partitions, and for a child where
/// its bytes went. A picture that cannot be drawn says why; only a stop is an error.
fn figures_of(
    disk: &Disk,
    sources: &[&dyn ReadAt],
    names: &[String],
    changes: Option<&diff::Report>,
    progress: &mut Progress<'_>,
) -> Result<Vec<Figure>> {
    let style = Style::default();
    let mut drawn = |title: String, picture: Picture| match draw::svg_with_progress(disk, sources, &picture, &style, progress) {
        Err(e @ Error::Cancelled { .. }) => Err(e),
        svg => Ok(Figure { title, svg: svg.map_err(|e| e.to_string()) }),
    };
    let names = names.to_vec();
    let top = &disk.layers[0];
    let mut figures = vec![drawn("The chain".into(), Picture::Chain { names: names.clone() })?];
    if let Some(bs) = top.block_size() {
        figures.push(drawn("The block map of layer 0".into(), Picture::Bat { layer: 0 })?);
        // The first block the layer holds part of, else the first it holds: among the blocks
        // its table allocates (bounded by the table, whatever size the disk claims).
        let blocks = top.size().div_ceil(bs.max(1));
        let held: Vec<u64> = top.blocks_with_data().into_iter().filter(|&b| b < blocks).collect();
        let partial = held.iter().copied().find(|&b| matches!(top.block_read(b), BlockRead::Partial { .. }));
        if let Some(block) = partial.or_else(|| held.iter().copied().find(|&b| matches!(top.block_read(b), BlockRead::Data(_)))) {
            figures.push(drawn(format!("The sector bitmap of block {block} in layer 0"), Picture::Bitmap { layer: 0, block })?);
        }
    }
    figures.push(drawn("Which layer supplies each part of the disk".into(), Picture::Provenance { layer: 0, names })?);
    figures.push(drawn("The partitions".into(), Picture::Partitions { layer: 0 })?);
    if let Some(report) = changes {
        let svg = draw::changes_svg(&ChangesSummary::from(report), &style).map_err(|e| e.to_string());
        figures.push(Figure { title: "Where the bytes the child holds went".into(), svg });
    }
    Ok(figures)
}

/// `s` as HTML (and XML) text: markup escaped, control characters dropped, as the pictures'
/// text is ([`crate::draw::esc`]): a creator's raw bytes or a label may hold any byte.
fn esc(s: impl std::fmt::Display) -> String {
    crate::draw::esc(&s.to_string())
}

/// A size in words and in bytes: `4 MiB (4,194,304 bytes)`.
fn size(bytes: u64) -> String {
    format!("{} ({bytes} bytes)", human_size(bytes))
}

/// The styles: plain, readable on screen and on paper; tables do not break across a row, and
/// the headings stay with what follows them.
const CSS: &str = "body{font:14px/1.45 system-ui,sans-serif;color:#1b1b1b;background:#fff;margin:2em auto;max-width:70em;padding:0 1em}
h1{font-size:1.6em;margin:0 0 .3em}h2{font-size:1.3em;margin:1.6em 0 .4em;border-bottom:1px solid #888}
h3{font-size:1.1em;margin:1.2em 0 .3em}h4{font-size:1em;margin:1em 0 .3em}table{border-collapse:collapse;margin:.4em 0 1em;width:100%}
th,td{border:1px solid #bbb;padding:.2em .45em;text-align:left;vertical-align:top}th{background:#eee}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}code,.h{font-family:ui-monospace,monospace;font-size:.92em;overflow-wrap:anywhere}
.bad{color:#a00000;font-weight:600}.error{color:#a00000}.warning{color:#7a4a00}.info{color:#1b4f8a}
figure{margin:1em 0;break-inside:avoid}figure svg{max-width:100%;height:auto}figcaption{font-weight:600;margin-bottom:.3em}
nav ol{columns:2}
@media print{body{margin:0;max-width:none;font-size:10pt}nav{display:none}h2,h3,h4{break-after:avoid}tr,figure{break-inside:avoid}
a{color:inherit;text-decoration:none}@page{margin:15mm}}
";

/// The report as one HTML document.
pub fn html(c: &Contents) -> String {
    let mut h = String::new();
    let title = c.files.first().map_or("disk", |f| f.name.as_str());
    // Writing to a String cannot fail.
    let _ = write_all(&mut h, c, title);
    h
}

/// The sections, in order: (anchor, heading), those that have something to say.
fn sections(c: &Contents) -> Vec<(&'static str, &'static str)> {
    let mut s = vec![("files", "Files"), ("summary", "Summary"), ("findings", "Findings")];
    if !c.figures.is_empty() {
        s.push(("pictures", "Pictures"));
    }
    s.push(("partitions", "Partitions"));
    if c.changes.is_some() {
        s.push(("changes", "What the child changed"));
    }
    s.push(("structures", "Structures"));
    s
}

fn write_all(h: &mut String, c: &Contents, title: &str) -> std::fmt::Result {
    writeln!(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />")?;
    writeln!(h, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />")?;
    writeln!(h, "<meta name=\"generator\" content=\"vhd-viewer {VERSION}\" />")?;
    writeln!(h, "<title>Report on {}</title>\n<style>\n{CSS}</style>\n</head>\n<body>", esc(title))?;
    writeln!(h, "<header>\n<h1>Report on {}</h1>", esc(title))?;
    writeln!(h, "<p>Written by vhd-viewer {VERSION}. The files were only read; each one's SHA-256 is below.</p>\n</header>")?;
    writeln!(h, "<nav aria-label=\"Contents\"><ol>")?;
    for (id, name) in sections(c) {
        writeln!(h, "<li><a href=\"#{id}\">{name}</a></li>")?;
    }
    writeln!(h, "</ol></nav>\n<main>")?;
    files(h, c)?;
    summary(h, &c.info)?;
    findings(h, &c.findings, &c.files)?;
    figures(h, &c.figures)?;
    partitions(h, &c.partitions)?;
    if let Some(changes) = &c.changes {
        changed(h, changes)?;
    }
    structures(h, &c.layers)?;
    writeln!(h, "</main>\n</body>\n</html>")
}

fn files(h: &mut String, c: &Contents) -> std::fmt::Result {
    writeln!(h, "<section id=\"files\">\n<h2>Files</h2>")?;
    writeln!(h, "<table>\n<thead><tr><th scope=\"col\">Layer</th><th scope=\"col\">File</th><th scope=\"col\">Size</th><th scope=\"col\">SHA-256</th></tr></thead>\n<tbody>")?;
    for (i, f) in c.files.iter().enumerate() {
        writeln!(
            h,
            "<tr><td class=\"n\">{i}</td><td>{}</td><td class=\"n\">{}</td><td class=\"h\">{}</td></tr>",
            esc(&f.name),
            size(f.size),
            f.sha256
        )?;
    }
    writeln!(h, "</tbody>\n</table>")?;
    if c.info.parent_missing {
        writeln!(h, "<p class=\"bad\">The last file's parent was not found: the chain is incomplete.</p>")?;
    }
    writeln!(h, "</section>")
}

fn summary(h: &mut String, info: &Info) -> std::fmt::Result {
    let l = &info.layer;
    writeln!(h, "<section id=\"summary\">\n<h2>Summary</h2>\n<table>")?;
    let row = |h: &mut String, k: &str, v: String| writeln!(h, "<tr><th scope=\"row\">{k}</th><td>{v}</td></tr>");
    row(h, "File", esc(&l.file))?;
    row(h, "Format", l.format.to_uppercase())?;
    row(h, "Type", l.disk_type.to_string())?;
    row(h, "Virtual size", size(l.current_size()))?;
    row(h, "File size", size(l.file_size))?;
    if let Some(v) = &l.vhd {
        row(
            h,
            "Created",
            format!(
                "{} by {} {} on {}",
                v.timestamp.iso8601(),
                esc(v.creator_application),
                esc(&v.creator_version),
                esc(v.creator_host_os)
            ),
        )?;
        row(h, "Unique id", format!("<code>{}</code>", esc(v.unique_id)))?;
    }
    if let Some(x) = &l.vhdx {
        row(h, "Creator", esc(&x.creator))?;
        row(h, "Block size", size(u64::from(x.block_size)))?;
        row(h, "Sectors", format!("{} bytes logical, {} bytes physical", x.logical_sector_size, x.physical_sector_size))?;
        row(h, "Data id (DataWriteGuid)", format!("<code>{}</code>", esc(x.data_write_guid)))?;
        row(h, "Log", esc(x.log_words()))?;
    }
    if let Some(d) = &l.dynamic {
        row(h, "Block size", size(u64::from(d.block_size)))?;
        row(h, "Blocks", format!("{} in the table, {} allocated", d.max_table_entries, d.allocated_blocks))?;
    }
    writeln!(h, "</table>")?;
    if !info.chain.is_empty() {
        writeln!(h, "<h3>The chain</h3>\n<table>\n<thead><tr><th scope=\"col\">Layer</th><th scope=\"col\">File</th><th scope=\"col\">Type</th><th scope=\"col\">Unique id</th><th scope=\"col\">Parent it names</th><th scope=\"col\">Allocated blocks</th></tr></thead>\n<tbody>")?;
        for (i, link) in info.chain.iter().enumerate() {
            let last = i + 1 == info.chain.len();
            let parent = match (&link.parent_unique_id, link.parent_verified) {
                (Some(p), Some(true)) => format!("<code>{}</code> (the next layer: verified)", esc(p)),
                (Some(p), _) if last && info.parent_missing => format!("<code>{}</code> <span class=\"bad\">(not found)</span>", esc(p)),
                (Some(p), _) => format!("<code>{}</code> <span class=\"bad\">(not the next layer's)</span>", esc(p)),
                (None, _) => "none".to_string(),
            };
            writeln!(
                h,
                "<tr><td class=\"n\">{i}</td><td>{}</td><td>{} {}</td><td><code>{}</code></td><td>{parent}</td><td class=\"n\">{}</td></tr>",
                esc(&link.file),
                link.format.to_uppercase(),
                link.disk_type,
                esc(&link.unique_id),
                link.allocated_blocks
            )?;
        }
        writeln!(h, "</tbody>\n</table>")?;
    }
    writeln!(h, "</section>")
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

fn findings(h: &mut String, list: &[Finding], files: &[FileHash]) -> std::fmt::Result {
    writeln!(h, "<section id=\"findings\">\n<h2>Findings</h2>")?;
    let count = |s| list.iter().filter(|f| f.severity == s).count();
    writeln!(
        h,
        "<p>{}, {}, {}. Every sector bitmap was read (as <code>vhd-viewer check</code> does).</p>",
        crate::draw::plural(count(Severity::Error) as u64, "error"),
        crate::draw::plural(count(Severity::Warning) as u64, "warning"),
        crate::draw::plural(count(Severity::Info) as u64, "note")
    )?;
    if !list.is_empty() {
        writeln!(h, "<table>\n<thead><tr><th scope=\"col\">Severity</th><th scope=\"col\">Code</th><th scope=\"col\">File</th><th scope=\"col\">Offset</th><th scope=\"col\">What</th></tr></thead>\n<tbody>")?;
        for f in list {
            let s = severity(f.severity);
            let file = files.get(f.layer).map_or_else(|| format!("layer {}", f.layer), |x| esc(&x.name));
            let offset = f.offset.map_or("-".to_string(), |o| format!("{o:#x}"));
            writeln!(
                h,
                "<tr><td class=\"{s}\">{s}</td><td><code>{}</code></td><td>{file}</td><td class=\"n h\">{offset}</td><td>{}</td></tr>",
                f.code,
                esc(&f.message)
            )?;
        }
        writeln!(h, "</tbody>\n</table>")?;
    }
    writeln!(h, "</section>")
}

fn figures(h: &mut String, list: &[Figure]) -> std::fmt::Result {
    if list.is_empty() {
        return Ok(());
    }
    writeln!(h, "<section id=\"pictures\">\n<h2>Pictures</h2>")?;
    for (i, f) in list.iter().enumerate() {
        writeln!(h, "<figure>\n<figcaption>Picture {}. {}</figcaption>", i + 1, esc(&f.title))?;
        match &f.svg {
            Ok(svg) => writeln!(h, "{}", svg.trim())?,
            Err(why) => writeln!(h, "<p>Not drawn: {}</p>", esc(why))?,
        }
        writeln!(h, "</figure>")?;
    }
    writeln!(h, "</section>")
}

fn partitions(h: &mut String, table: &std::result::Result<Table, String>) -> std::fmt::Result {
    writeln!(h, "<section id=\"partitions\">\n<h2>Partitions</h2>")?;
    let t = match table {
        Ok(t) => t,
        Err(why) => return writeln!(h, "<p class=\"bad\">The partition table could not be read: {}</p>\n</section>", esc(why)),
    };
    let scheme = match t.scheme {
        Scheme::Mbr => "MBR".to_string(),
        Scheme::Gpt => format!("GPT, disk GUID <code>{}</code>", esc(t.disk_guid.as_deref().unwrap_or("?"))),
        Scheme::None => "none".to_string(),
    };
    writeln!(h, "<p>Partition table: {scheme}; sectors of {} bytes.</p>", t.sector_size)?;
    if t.partitions.is_empty() {
        writeln!(h, "<p>No partitions.</p>")?;
    } else {
        writeln!(h, "<table>\n<thead><tr><th scope=\"col\">#</th><th scope=\"col\">Start sector</th><th scope=\"col\">Sectors</th><th scope=\"col\">Size</th><th scope=\"col\">Type</th><th scope=\"col\">File system</th><th scope=\"col\">Label</th><th scope=\"col\">Cluster</th><th scope=\"col\">4 KiB aligned</th></tr></thead>\n<tbody>")?;
        for p in &t.partitions {
            let ty = match &p.name {
                Some(n) if !n.is_empty() => format!("{} {} “{}”", p.type_code, p.type_name, n),
                _ => format!("{} {}", p.type_code, p.type_name),
            };
            writeln!(
                h,
                "<tr><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                p.index,
                p.start_sector,
                p.sector_count,
                human_size(p.len()),
                esc(ty.trim()),
                p.filesystem.map_or("-", |k| k.name()),
                esc(p.label.as_deref().unwrap_or("-")),
                p.cluster_size.map_or("-".to_string(), |c| c.to_string()),
                if p.aligned_4k { "yes" } else { "no" }
            )?;
        }
        writeln!(h, "</tbody>\n</table>")?;
        for p in &t.partitions {
            if let Some(b) = &p.bitlocker {
                writeln!(h, "<p>Partition {}: {}</p>", p.index, esc(b.words()))?;
            }
        }
    }
    for f in &t.findings {
        writeln!(h, "<p class=\"{}\">{}: {}</p>", severity(f.severity), f.code, esc(&f.message))?;
    }
    for s in &t.structures {
        structure(h, s, 3, "virtual byte")?;
    }
    writeln!(h, "</section>")
}

fn changed(h: &mut String, changes: &std::result::Result<diff::Report, String>) -> std::fmt::Result {
    writeln!(h, "<section id=\"changes\">\n<h2>What the child changed</h2>")?;
    let r = match changes {
        Ok(r) => r,
        Err(why) => return writeln!(h, "<p class=\"bad\">Not compared: {}</p>\n</section>", esc(why)),
    };
    writeln!(
        h,
        "<p>The child (layer 0) against its parent (layer 1), as <code>vhd-viewer diff</code> says it. The child holds {}, of which {} are identical to its parent; {} lie outside every partition.</p>",
        size(r.held_bytes),
        size(r.identical_bytes),
        size(r.outside_partitions_bytes)
    )?;
    for p in &r.partitions {
        writeln!(h, "<h3>Partition {} ({})</h3>", p.index, p.filesystem.unwrap_or("file system not read"))?;
        writeln!(
            h,
            "<p>Held {}: files {}, file-system metadata {}, free space {}; identical to the parent {}.</p>",
            human_size(p.held_bytes),
            human_size(p.held.files),
            human_size(p.held.filesystem_metadata),
            human_size(p.held.free_space),
            human_size(p.identical_bytes)
        )?;
        if let Some(e) = &p.error {
            writeln!(h, "<p class=\"bad\">{}</p>", esc(e))?;
        }
        if p.changes.is_empty() {
            writeln!(h, "<p>No file changed.</p>")?;
            continue;
        }
        writeln!(h, "<table>\n<thead><tr><th scope=\"col\">What</th><th scope=\"col\">Path</th><th scope=\"col\">Size</th><th scope=\"col\">Bytes the child holds</th><th scope=\"col\">Note</th></tr></thead>\n<tbody>")?;
        for ch in &p.changes {
            let path = match &ch.old_path {
                Some(old) => format!("{} (was {})", esc(&ch.path), esc(old)),
                None => esc(&ch.path),
            };
            let sizes = if ch.size == ch.old_size { ch.size.to_string() } else { format!("{} → {}", ch.old_size, ch.size) };
            let note = ch.noise.map_or(String::new(), |n| format!("Windows noise: {n}"));
            writeln!(
                h,
                "<tr><td>{}</td><td>{path}</td><td class=\"n\">{sizes}</td><td class=\"n\">{}</td><td>{note}</td></tr>",
                ch.kind.name(),
                ch.bytes_held
            )?;
        }
        writeln!(h, "</tbody>\n</table>")?;
    }
    writeln!(h, "</section>")
}

/// One structure's fields as a table under a heading of level `level`; `space` says what the
/// offsets count (`file byte`, ...).
fn structure(h: &mut String, s: &Structure, level: u8, space: &str) -> std::fmt::Result {
    writeln!(h, "<h{level}>{} at {space} {:#x}</h{level}>", esc(&s.name), s.offset)?;
    fields(h, &s.fields)
}

fn fields(h: &mut String, rows: &[Field]) -> std::fmt::Result {
    writeln!(h, "<table>\n<thead><tr><th scope=\"col\">Offset</th><th scope=\"col\">Field</th><th scope=\"col\">Value</th><th scope=\"col\">Raw bytes</th><th scope=\"col\">Meaning</th></tr></thead>\n<tbody>")?;
    for f in rows {
        let value = if f.ok { esc(&f.value) } else { format!("<span class=\"bad\">{} (wrong by the spec)</span>", esc(&f.value)) };
        writeln!(
            h,
            "<tr><td class=\"n h\">{:#x}</td><td>{}</td><td>{value}</td><td class=\"h\">{}</td><td>{}</td></tr>",
            f.offset,
            esc(f.name),
            esc(&f.raw),
            esc(f.explain)
        )?;
    }
    writeln!(h, "</tbody>\n</table>")
}

fn structures(h: &mut String, layers: &[LayerInfo]) -> std::fmt::Result {
    writeln!(
        h,
        "<section id=\"structures\">\n<h2>Structures</h2>\n<p>Every field of every structure of each file, at its file offset.</p>"
    )?;
    for (i, l) in layers.iter().enumerate() {
        writeln!(h, "<h3>Layer {i}: {}</h3>", esc(&l.file))?;
        match &l.vhdx {
            Some(x) => {
                for s in &x.structures {
                    structure(h, s, 4, "file byte")?;
                }
            }
            None => {
                // A VHD's rows: its footer's, then (dynamic and differencing disks) its header's
                // and its parent locators'.
                let split = l.fields.iter().position(|f| f.key == "header_cookie").unwrap_or(l.fields.len());
                let (footer, header) = l.fields.split_at(split);
                writeln!(h, "<h4>Footer</h4>")?;
                fields(h, footer)?;
                if !header.is_empty() {
                    writeln!(h, "<h4>Dynamic header and parent locators</h4>")?;
                    fields(h, header)?;
                }
            }
        }
    }
    writeln!(h, "</section>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::open_layer;
    use crate::vhd::writer::DiskBuilder;

    #[test]
    fn the_hash_is_sha256_of_every_byte_read_a_window_at_a_time() {
        // Two windows and a piece: the empty string's and "abc"'s digests are the standard ones.
        assert_eq!(
            sha256(&Vec::<u8>::new(), 0, &mut |_| true).unwrap(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(sha256(&b"abc".to_vec(), 3, &mut |_| true).unwrap(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let big = vec![7u8; 2 * WINDOW + 5];
        let mut told = Vec::new();
        let whole = sha256(&big, big.len() as u64, &mut |n| {
            told.push(n);
            true
        })
        .unwrap();
        assert_eq!(told, [WINDOW as u64, WINDOW as u64, 5]);
        assert_eq!(whole, hex(&Sha256::digest(&big)));
        assert!(matches!(sha256(&big, big.len() as u64, &mut |_| false), Err(Error::Cancelled { .. })));
    }

    #[test]
    fn what_a_file_names_is_escaped_and_nothing_runs() {
        let mut d = DiskBuilder::dynamic(4 << 20, 1 << 20);
        d.write(0, &[1; 512]);
        let bytes = d.build();
        let layer = open_layer(&bytes).unwrap();
        let disk = Disk::new(vec![layer], false).unwrap();
        // A name with a control character too (XML allows none): dropped, the page stays XML.
        let name = "<script>alert(1)</script>&\u{1}.vhd".to_string();
        let mut told = Vec::new();
        let c = gather(&disk, &[&bytes], &[name], &[], None, &mut |done, total| {
            told.push((done, total));
            true
        })
        .unwrap();
        assert!(told.windows(2).all(|w| w[0].0 <= w[1].0 && w[1].1 == ALL), "progress only grows: {told:?}");
        assert_eq!(told.last(), Some(&(ALL, ALL)));
        let page = html(&c);
        assert!(!page.contains("<script"), "a file's name became markup");
        assert!(!page.contains('\u{1}'), "a control character is not XML");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;.vhd"));
        assert!(page.contains(&c.files[0].sha256));
        assert_eq!(c.files[0].sha256, hex(&Sha256::digest(&bytes)));
        assert!(c.changes.is_none());
        assert!(matches!(gather(&disk, &[&bytes], &["a".into()], &[], None, &mut |_, _| false), Err(Error::Cancelled { .. })));
    }
}
