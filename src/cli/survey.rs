//! `chains`: a folder (or files) of disks sorted into trees and problems by the core's
//! [`vhd_viewer::folder::survey`]; the walk of the folders, and the answer in words.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use vhd_viewer::folder::{Node, Survey};
use vhd_viewer::reader::ReadAt;
use vhd_viewer::values::human_size;
use vhd_viewer::Error;

/// How deep a folder given is walked.
const MAX_DEPTH: usize = 32;
/// The most files one run takes.
const MAX_FILES: usize = 100_000;

/// A file opened for each read and closed after it: a survey of thousands of files holds none
/// open (each is read a few times, only to identify it).
struct LazyFile {
    path: PathBuf,
    len: u64,
}

impl ReadAt for LazyFile {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> vhd_viewer::error::Result<()> {
        let file =
            File::open(&self.path).map_err(|e| Error::CannotOpen { file: self.path.display().to_string(), message: e.to_string() })?;
        file.read_exact_at(buf, offset).map_err(|e| Error::Io { offset, message: format!("reading {}: {e}", self.path.display()) })
    }
}

/// The files under `paths`: a folder walked (its entries in name order, at most [`MAX_DEPTH`]
/// folders deep, links not followed), a file as it is; each with its name, the path as given
/// joined to the path under it with `/` (a leading `./` dropped).
fn walk(paths: &[PathBuf]) -> Result<Vec<(String, LazyFile)>, Error> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| Error::CannotOpen { file: p.display().to_string(), message: e.to_string() })?;
        let name = p.to_string_lossy().replace('\\', "/");
        let name = name.trim_start_matches("./").trim_end_matches('/').to_string();
        if meta.is_dir() {
            let base = if name == "." || name.is_empty() { String::new() } else { name };
            walk_dir(p, &base, 0, &mut out)?;
        } else {
            out.push((name, LazyFile { path: p.clone(), len: meta.len() }));
        }
        if out.len() > MAX_FILES {
            return Err(Error::Usage { message: format!("more than {MAX_FILES} files given: survey fewer at a time") });
        }
    }
    Ok(out)
}

fn walk_dir(dir: &Path, name: &str, depth: usize, out: &mut Vec<(String, LazyFile)>) -> Result<(), Error> {
    if depth > MAX_DEPTH || out.len() > MAX_FILES {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| Error::CannotOpen { file: dir.display().to_string(), message: e.to_string() })?;
    let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let Ok(kind) = e.file_type() else { continue };
        let child = match name {
            "" => e.file_name().to_string_lossy().into_owned(),
            n => format!("{n}/{}", e.file_name().to_string_lossy()),
        };
        if kind.is_dir() {
            walk_dir(&e.path(), &child, depth + 1, out)?;
        } else if kind.is_file() {
            let len = e.metadata().map(|m| m.len()).unwrap_or(0);
            out.push((child, LazyFile { path: e.path(), len }));
        }
    }
    Ok(())
}

/// Runs `chains`: exit status 0 when all is well, 1 when anything is orphaned, moved, modified,
/// duplicated or unreadable.
pub fn chains(paths: &[PathBuf], json: bool) -> Result<i32, Error> {
    let mut files = walk(paths)?;
    // A file given twice (in a folder given and by its name) is one file.
    let mut seen = std::collections::HashSet::new();
    files.retain(|(name, _)| seen.insert(name.clone()));
    let refs: Vec<(String, &dyn ReadAt)> = files.iter().map(|(n, f)| (n.clone(), f as &dyn ReadAt)).collect();
    let survey = vhd_viewer::folder::survey(&refs);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = if json {
        serde_json::to_writer_pretty(&mut out, &survey).map_err(std::io::Error::from).and_then(|_| writeln!(out))
    } else {
        write_survey(&mut out, &survey)
    }
    .and_then(|_| out.flush());
    written.map_err(super::io_err)?;
    Ok(if survey.all_well() { 0 } else { 1 })
}

/// The answer in words: the trees drawn with indentation, then each problem with its fix.
pub fn write_survey(out: &mut dyn Write, s: &Survey) -> std::io::Result<()> {
    let disks = count(&s.trees);
    writeln!(out, "{} in {}:", plural(disks, "disk"), plural(s.trees.len(), "tree"))?;
    let mut stack: Vec<(&Node, usize)> = s.trees.iter().rev().map(|n| (n, 1)).collect();
    while let Some((n, depth)) = stack.pop() {
        let orphan = if n.orphan { ", its parent not found" } else { "" };
        let size = human_size(n.size);
        writeln!(out, "{:w$}{}  ({}, {} {}, {size}{orphan})", "", n.file, role(n), n.format.to_uppercase(), n.disk_type, w = 2 * depth)?;
        for note in &n.notes {
            writeln!(out, "{:w$}! {note}", "", w = 2 * depth + 4)?;
        }
        stack.extend(n.children.iter().rev().map(|c| (c, depth + 1)));
    }
    if !s.orphans.is_empty() {
        writeln!(out, "\nOrphans: the parent is in no file given.")?;
        for o in &s.orphans {
            let id = o.parent_id.as_deref().unwrap_or("(none readable)");
            writeln!(out, "  {}: its parent's id is {id}; its locators look for", o.file)?;
            for p in &o.looks_for {
                writeln!(out, "      {p}")?;
            }
            writeln!(out, "    Fix: find the parent and give it with --parent, or put it back where the locators look; `vhd-viewer relink --parent PARENT CHILD OUT` writes a copy that looks where it is.")?;
        }
    }
    if !s.moved.is_empty() {
        writeln!(out, "\nMoved parents: the parent is here by id, but not where the locators look.")?;
        for m in &s.moved {
            writeln!(out, "  {}: its parent is {}, but its locators look for {}", m.file, m.parent, m.locator_says)?;
            writeln!(out, "    Fix: {}", m.relink)?;
            writeln!(out, "    (a copy that finds its parent where it is; the child is not touched: use the copy in its place)")?;
        }
    }
    if !s.modified.is_empty() {
        writeln!(out, "\nModified parents: the file where the locators look has another id.")?;
        for m in &s.modified {
            writeln!(out, "  {}: its locators name {}, whose id is {}, not {}", m.file, m.found, m.found_id, m.expected_id)?;
            writeln!(
                out,
                "    {} was written to after the child was made (or is another disk): the child's changes no longer fit on it.",
                m.found
            )?;
            writeln!(
                out,
                "    Fix: find the parent as it was (a backup with id {}); `--force` reads the chain anyway, at your own risk.",
                m.expected_id
            )?;
        }
    }
    if !s.duplicates.is_empty() {
        let children = children_of(&s.trees);
        writeln!(out, "\nDuplicates: files with one id (copies of one disk).")?;
        for group in &s.duplicates {
            writeln!(out, "  {}", group.join(", "))?;
            for f in group {
                let opens = match children.get(f.as_str()).map_or(0, |c| *c) {
                    0 => "no child opens it".to_string(),
                    1 => "1 child opens it".to_string(),
                    n => format!("{n} children open it"),
                };
                writeln!(out, "    {f}: {opens}")?;
            }
        }
    }
    if !s.unreadable.is_empty() {
        writeln!(out, "\nNot read: not disks, or too damaged to identify.")?;
        for u in &s.unreadable {
            writeln!(out, "  {}: {}", u.file, u.reason)?;
        }
    }
    if s.all_well() {
        writeln!(out, "\nAll well: every child's parent is where its locators look.")?;
    }
    Ok(())
}

fn role(n: &Node) -> &'static str {
    match n.role {
        vhd_viewer::folder::Role::Base => "base",
        vhd_viewer::folder::Role::Checkpoint => "checkpoint",
        vhd_viewer::folder::Role::Leaf => "leaf",
    }
}

fn count(nodes: &[Node]) -> usize {
    nodes.iter().map(|n| 1 + count(&n.children)).sum()
}

/// How many children each disk has in the trees.
fn children_of(nodes: &[Node]) -> HashMap<&str, usize> {
    let mut out = HashMap::new();
    let mut stack: Vec<&Node> = nodes.iter().collect();
    while let Some(n) = stack.pop() {
        out.insert(n.file.as_str(), n.children.len());
        stack.extend(&n.children);
    }
    out
}

fn plural(n: usize, word: &str) -> String {
    match n {
        1 => format!("1 {word}"),
        n => format!("{n} {word}s"),
    }
}
