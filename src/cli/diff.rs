//! `diff` and `rebase-check`: what a differencing disk changed, file by file.

use std::io::Write;
use std::path::Path;

use vhd_viewer::bitlocker::Key;
use vhd_viewer::diff::{self, Kind, Mode, Report};
use vhd_viewer::error::ParentNeed;
use vhd_viewer::values::human_size;
use vhd_viewer::Error;

use super::chain::OpenChain;
use super::io_err;

fn user_err(message: String) -> Error {
    Error::Usage { message }
}

/// Refuses a chain whose parent is missing where the layers compared need it.
fn complete(c: &OpenChain) -> Result<(), Error> {
    match c.unresolved.iter().find(|f| f.code == "parent-not-found") {
        Some(f) => Err(Error::ParentUnavailable(ParentNeed::Diff { missing: f.message.clone() })),
        None => Ok(()),
    }
}

/// The report of layer `from` (older) against layer `to` (newer) of one chain.
pub(super) fn chain_report(c: &OpenChain, from: usize, to: usize, key: Option<&Key>) -> Result<Report, Error> {
    let n = c.disk.layers.len();
    if from >= n {
        complete(c)?;
    }
    if n == 1 {
        return Err(user_err(format!(
            "{} is a {} disk, not a differencing one: it has no parent to compare with (give a second disk to compare two disks: vhd-viewer diff A.vhd B.vhd)",
            c.names[0],
            c.disk.layers[0].disk_type().name()
        )));
    }
    if from <= to || from >= n {
        return Err(user_err(format!(
            "--from {from} --to {to}: the older layer (--from) must be above the newer (--to), and the chain has layers 0 to {} (0 is the file opened, 1 its parent, ...)",
            n - 1
        )));
    }
    complete(c)?;
    diff::layers(&c.disk, &c.sources(), from, to, key, &mut super::percent("comparing"))
}

/// The report of two disks that are not one chain: every allocated sector of either.
fn unrelated_report(a: &OpenChain, b: &OpenChain, key: Option<&Key>) -> Result<Report, Error> {
    complete(a)?;
    complete(b)?;
    diff::disks((&a.disk, a.sources()), (&b.disk, b.sources()), key, &mut super::percent("comparing"))
}

/// `diff`.
pub fn diff(c: &OpenChain, other: Option<&Path>, force: bool, from: usize, to: usize, key: Option<&Key>, json: bool) -> Result<i32, Error> {
    let (report, what) = match other {
        Some(b) => {
            let oc = OpenChain::open(b, &[], force, false)?;
            let r = unrelated_report(c, &oc, key)?;
            (
                r,
                format!(
                    "{} with {}, two disks that are not one chain: every allocated sector of both was compared",
                    c.names[0], oc.names[0]
                ),
            )
        }
        None => {
            let r = chain_report(c, from, to, key)?;
            (r, format!("layer {from} ({}) against layer {to} ({})", c.names[from], c.names[to]))
        }
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if json {
        serde_json::to_writer_pretty(&mut out, &report).map_err(std::io::Error::from).map_err(io_err)?;
        writeln!(out).map_err(io_err)?;
    } else {
        write_report(&mut out, &report, &what).map_err(io_err)?;
    }
    out.flush().map_err(io_err)?;
    Ok(0)
}

fn write_report(out: &mut dyn Write, r: &Report, what: &str) -> std::io::Result<()> {
    writeln!(out, "Compared {what}.")?;
    let held = if r.mode == Mode::Chain { "The child holds" } else { "Allocated in either" };
    writeln!(
        out,
        "{held}: {} ({} identical to the other side); outside partitions: {}; read: {}.",
        human_size(r.held_bytes),
        human_size(r.identical_bytes),
        human_size(r.outside_partitions_bytes),
        human_size(r.bytes_read)
    )?;
    for p in &r.partitions {
        writeln!(out)?;
        writeln!(
            out,
            "{} ({}): held {}, identical {}; files {}, file-system metadata {}, free space {}",
            p.volume.as_ref().map_or(format!("Partition {}", p.index), |lv| format!("Logical volume {lv}")),
            p.filesystem.unwrap_or("no file system read"),
            human_size(p.held_bytes),
            human_size(p.identical_bytes),
            human_size(p.held.files),
            human_size(p.held.filesystem_metadata),
            human_size(p.held.free_space)
        )?;
        if let Some(e) = &p.error {
            writeln!(out, "  files not compared: {e}")?;
        }
        let mut last: Option<Kind> = None;
        for c in &p.changes {
            if last != Some(c.kind) {
                let n = p.changes.iter().filter(|x| x.kind == c.kind).count();
                writeln!(out, "  {} ({n}):", c.kind.name())?;
                writeln!(out, "    {:>10} {:>10} {:>10}  Path", "Size", "Held", "Identical")?;
                last = Some(c.kind);
            }
            let size = if c.kind == Kind::Deleted { c.old_size } else { c.size };
            let mut note = Vec::new();
            if let Some(o) = &c.old_path {
                note.push(format!("was {o}"));
            }
            if c.kind == Kind::Renamed {
                note.push(if c.content_changed { "content changed".into() } else { "same content".into() });
            }
            if c.kind == Kind::Modified && c.old_size != c.size {
                note.push(format!("was {}", human_size(c.old_size)));
            }
            if c.name_complete == Some(false) {
                note.push("first character lost".into());
            }
            if let Some(n) = c.noise {
                note.push(format!("noise: {n}"));
            }
            writeln!(
                out,
                "    {:>10} {:>10} {:>10}  {}{}{}",
                human_size(size),
                human_size(c.bytes_held),
                human_size(c.identical_bytes),
                c.path,
                if c.entry_type == vhd_viewer::fs::EntryKind::Dir && c.path != "/" { "/" } else { "" },
                if note.is_empty() { String::new() } else { format!("  ({})", note.join("; ")) }
            )?;
        }
        if p.changes.is_empty() && p.error.is_none() {
            writeln!(out, "  no file changed")?;
        }
        if !p.filesystem_metadata.is_empty() {
            let list: Vec<String> = p.filesystem_metadata.iter().map(|m| format!("{} {}", m.name, human_size(m.bytes_held))).collect();
            writeln!(out, "  file-system metadata held: {}", list.join(", "))?;
        }
        let systems: Vec<_> = r.systems.iter().filter(|s| s.partition == p.index).collect();
        if !systems.is_empty() {
            writeln!(out, "  system changes ({}):", systems.len())?;
            for s in systems {
                writeln!(
                    out,
                    "    {}{}",
                    s.message,
                    s.source.as_ref().map(|s| format!("  [{}]", super::inspect::place(s))).unwrap_or_default()
                )?;
            }
        }
    }
    Ok(())
}

/// `rebase-check`.
pub fn rebase_check(c: &OpenChain, onto: &Path, force: bool, json: bool) -> Result<i32, Error> {
    if c.disk.layers.len() < 2 {
        return Err(user_err(format!("{} is not a differencing disk: it has no old base to compare with", c.names[0])));
    }
    let child = chain_report(c, 1, 0, None)?;
    let nb = OpenChain::open(onto, &[], force, false)?;
    let base = match diff::old_base_in(&c.disk, &nb.disk) {
        Some(0) => return Err(user_err(format!("{} is the child's own parent: nothing to rebase onto", onto.display()))),
        Some(k) => chain_report(&nb, k, 0, None)?,
        None => {
            let old = c.cut_ref(1)?;
            complete(&nb)?;
            diff::disks((&old.0, old.1), (&nb.disk, nb.sources()), None, &mut super::percent("comparing"))?
        }
    };
    let r = diff::rebase_check(&child, &base);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if json {
        serde_json::to_writer_pretty(&mut out, &r).map_err(std::io::Error::from).map_err(io_err)?;
        writeln!(out).map_err(io_err)?;
    } else {
        let kind = |k: Option<Kind>| k.map_or("-", Kind::name);
        for (title, list) in [
            ("Changed only by the child (can be carried over)", &r.child_only),
            ("Changed only by the new base", &r.base_only),
            ("Changed by both (conflicts)", &r.conflicts),
        ] {
            writeln!(out, "{title}: {}", list.len()).map_err(io_err)?;
            for i in list {
                writeln!(
                    out,
                    "  {}: {}  child {}, base {}{}",
                    i.partition,
                    i.path,
                    kind(i.child),
                    kind(i.base),
                    i.noise.map_or(String::new(), |n| format!("  (noise: {n})"))
                )
                .map_err(io_err)?;
            }
        }
    }
    out.flush().map_err(io_err)?;
    Ok(if r.conflicts.is_empty() { 0 } else { 1 })
}
