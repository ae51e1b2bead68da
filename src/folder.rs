//! A folder of disks sorted out: which file is a base, which checkpoint belongs to which (any
//! depth, branching), which children are orphans, whose parent moved or was written to after
//! the child was made, which files are copies of one another, and which are not disks at all.
//!
//! Each file is only identified ([`identify`]): the core's [`Opener`] in its identity mode reads
//! a VHD's footers, dynamic header and parent locators' data, a VHDX's header section, metadata
//! table and items; never a block table, never data, so a 2 TB disk costs what a 2 MB one does.
//! [`survey`] then links the files by id (a VHD's unique id, a VHDX's `DataWriteGuid`) and
//! resolves each child's parent locators as the command line does (relative to the child's
//! folder first), but against the names of the files given only: it touches no file system, so
//! the page runs it on dropped files as the command line does on a folder.

use std::collections::HashMap;

use crate::disk::MAX_CHAIN_DEPTH;
use crate::error::Result;
use crate::finding::Severity;
use crate::image::DiskType;
use crate::layer::{Layer, Opener};
use crate::reader::{drive, ReadAt};

/// What identifies one file: its structures without its block table.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The file's structures as [`Opener::identity`] reads them (its BAT empty).
    pub layer: Layer,
    /// Bytes read to identify it.
    pub bytes_read: u64,
}

/// Identifies one file from its identifying structures only (see [`Opener::identity`]): a few
/// KiB of a VHD, the header section, metadata table and items of a VHDX, whatever the disk's
/// size. A VHDX not closed cleanly is identified from its structures as stored (its log is not
/// replayed), and its findings say so.
pub fn identify(src: &dyn ReadAt) -> Result<Identity> {
    let (layer, bytes_read) = identify_counted(src);
    Ok(Identity { layer: layer?, bytes_read })
}

/// [`identify`]'s layer, and the bytes read whether or not it could be identified.
fn identify_counted(src: &dyn ReadAt) -> (Result<Layer>, u64) {
    let mut opener = Opener::identity(src.len());
    let layer = drive(&mut opener, src);
    (layer, opener.bytes_provided())
}

/// The answer for a set of files. Every list is in the order of the files' names.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Survey {
    /// The disks as trees: each base (or child whose parent is not among the files) with its
    /// children, theirs, and so on.
    pub trees: Vec<Node>,
    /// Children whose parent is not among the files: no file has its id, and no file is where
    /// its locators look (or following parents loops, or goes deeper than a chain may).
    pub orphans: Vec<Orphan>,
    /// Children whose parent was found by id under another path than its locators give.
    pub moved: Vec<Moved>,
    /// Children whose locators name a file that is there but has another id: written to after
    /// the child was made (a VHDX's `DataWriteGuid` changes on its first write), or another disk.
    pub modified: Vec<Modified>,
    /// Files with one id: copies of one disk. Which one each child opens is where the child
    /// is in [`Survey::trees`].
    pub duplicates: Vec<Vec<String>>,
    /// Files that could not be identified: not disks, or too damaged.
    pub unreadable: Vec<Unreadable>,
    /// Bytes read of each file, every file given.
    pub bytes_read: Vec<BytesRead>,
}

/// What a disk is in its tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A disk with no parent (fixed or dynamic).
    Base,
    /// A differencing disk with children of its own.
    Checkpoint,
    /// A differencing disk nothing among the files is made from.
    Leaf,
}

/// One disk in a tree.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Node {
    /// Its name among the files given.
    pub file: String,
    /// `vhd` or `vhdx`.
    pub format: &'static str,
    /// `fixed`, `dynamic` or `differencing`.
    pub disk_type: &'static str,
    /// Base, checkpoint or leaf.
    pub role: Role,
    /// The id children name it by (a VHD's unique id, a VHDX's `DataWriteGuid`).
    pub id: String,
    /// The id of the parent it names; `None` for a base.
    pub parent_id: Option<String>,
    /// The virtual disk's size in bytes.
    pub size: u64,
    /// True for a differencing disk at the root of a tree: its parent is not among the files
    /// (see [`Survey::orphans`] and [`Survey::modified`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub orphan: bool,
    /// What identifying it noticed that matters: its errors, and a log not replayed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The disks made from it, by name.
    pub children: Vec<Node>,
}

/// A child whose parent is not among the files.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Orphan {
    /// The child.
    pub file: String,
    /// The id it names its parent by (`None` when it names none it can be read from).
    pub parent_id: Option<String>,
    /// The paths its locators look in, as the command line tries them (relative to the child's
    /// folder, in the names' terms; absolute ones as they are).
    pub looks_for: Vec<String>,
}

/// A child whose parent is among the files, but not where its locators look.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Moved {
    /// The child.
    pub file: String,
    /// The parent, found by id.
    pub parent: String,
    /// Where the child's locators look first.
    pub locator_says: String,
    /// The command line that writes a copy of the child pointing to the parent where it is.
    pub relink: String,
}

/// A child whose locators name a file with another id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Modified {
    /// The child.
    pub file: String,
    /// The id the child names its parent by.
    pub expected_id: String,
    /// The file its locators name.
    pub found: String,
    /// That file's id.
    pub found_id: String,
}

/// A file that could not be identified.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unreadable {
    /// The file.
    pub file: String,
    /// Why, with the byte offset where it applies.
    pub reason: String,
}

/// The bytes read of one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BytesRead {
    /// The file.
    pub file: String,
    /// Bytes read.
    pub bytes: u64,
}

impl Survey {
    /// True when nothing is orphaned, moved, modified, duplicated or unreadable.
    pub fn all_well(&self) -> bool {
        self.orphans.is_empty()
            && self.moved.is_empty()
            && self.modified.is_empty()
            && self.duplicates.is_empty()
            && self.unreadable.is_empty()
    }
}

/// What the survey keeps of an identified file (not its structures: a VHDX's are 137 KiB).
struct Found {
    /// Its name among the files given.
    file: String,
    format: &'static str,
    disk_type: DiskType,
    /// [`Layer::link_id`] and its text.
    id: [u8; 16],
    id_text: String,
    /// [`Layer::parent_ids`], and the first as shown; none for a base.
    parent_ids: Vec<[u8; 16]>,
    parent_id: Option<String>,
    size: u64,
    /// [`looks_for`].
    looks_for: Vec<String>,
    /// See [`Node::notes`].
    notes: Vec<String>,
}

impl Found {
    fn new(file: &str, l: &Layer) -> Found {
        Found {
            file: file.to_string(),
            format: l.format(),
            disk_type: l.disk_type(),
            id: l.link_id(),
            id_text: l.link_id_text(),
            parent_ids: l.parent_ids(),
            parent_id: l.parent_link().map(|(_, shown)| shown),
            size: l.size(),
            looks_for: looks_for(file, l),
            notes: l
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error || f.code == "vhdx-log-not-replayed")
                .map(|f| f.message.clone())
                .collect(),
        }
    }

    fn differencing(&self) -> bool {
        self.disk_type == DiskType::Differencing
    }
}

/// How a child's parent was found.
enum Link {
    /// No parent: a base.
    None,
    /// The parent, at the place its locators give.
    Found(usize),
    /// The parent by id elsewhere than the locators look.
    Moved(usize),
    /// No file has the id; the locators name file `.0`.
    Modified(usize),
    /// Nothing.
    Orphan,
}

/// Sorts `files` (names relative to one root with `/` separators, and their readers) into
/// trees and problems. Each file is read only as far as [`identify`] reads it; a file that
/// cannot be identified is a line in [`Survey::unreadable`], never a stop.
pub fn survey(files: &[(String, &dyn ReadAt)]) -> Survey {
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by(|&a, &b| files[a].0.cmp(&files[b].0));
    let mut out = Survey::default();
    // The disks identified, in the order of their names.
    let mut disks: Vec<Found> = Vec::new();
    for &i in &order {
        let (name, src) = (&files[i].0, files[i].1);
        let (layer, bytes) = identify_counted(src);
        out.bytes_read.push(BytesRead { file: name.clone(), bytes });
        match layer {
            Ok(l) => disks.push(Found::new(name, &l)),
            Err(e) => {
                out.unreadable.push(Unreadable { file: name.clone(), reason: format!("{e}{}", crate::chains::split_piece_note(name)) })
            }
        }
    }
    let mut by_id: HashMap<[u8; 16], Vec<usize>> = HashMap::new();
    for (i, d) in disks.iter().enumerate() {
        by_id.entry(d.id).or_default().push(i);
    }
    let mut groups: Vec<&Vec<usize>> = by_id.values().filter(|g| g.len() > 1).collect();
    groups.sort();
    out.duplicates = groups.iter().map(|g| g.iter().map(|&i| disks[i].file.clone()).collect()).collect();

    let by_name: HashMap<String, usize> = disks.iter().enumerate().map(|(i, d)| (normalize(&d.file), i)).collect();
    let links: Vec<Link> = (0..disks.len()).map(|i| link(i, &disks, &by_id, &by_name)).collect();
    let mut parent: Vec<Option<usize>> =
        links.iter().map(|l| if let Link::Found(p) | Link::Moved(p) = l { Some(*p) } else { None }).collect();
    let cut = cut_loops_and_depth(&mut parent);

    for (i, l) in links.iter().enumerate() {
        let d = &disks[i];
        let orphan = || Orphan { file: d.file.clone(), parent_id: d.parent_id.clone(), looks_for: d.looks_for.clone() };
        match l {
            _ if cut[i] => out.orphans.push(orphan()),
            Link::None | Link::Found(_) => {}
            Link::Moved(p) => out.moved.push(Moved {
                file: d.file.clone(),
                parent: disks[*p].file.clone(),
                locator_says: d.looks_for.first().cloned().unwrap_or_default(),
                relink: relink_command(&disks[*p].file, &d.file),
            }),
            Link::Modified(f) => out.modified.push(Modified {
                file: d.file.clone(),
                expected_id: d.parent_id.clone().unwrap_or_default(),
                found: disks[*f].file.clone(),
                found_id: disks[*f].id_text.clone(),
            }),
            Link::Orphan => out.orphans.push(orphan()),
        }
    }

    let mut children: Vec<Vec<usize>> = vec![Vec::new(); disks.len()];
    for (i, p) in parent.iter().enumerate() {
        if let Some(p) = p {
            children[*p].push(i);
        }
    }
    out.trees = (0..disks.len()).filter(|&i| parent[i].is_none()).map(|i| node(i, &disks, &children, true)).collect();
    out
}

/// The tree under disk `i`, a tree's root when `root` (no deeper than [`MAX_CHAIN_DEPTH`]:
/// [`cut_loops_and_depth`]).
fn node(i: usize, disks: &[Found], children: &[Vec<usize>], root: bool) -> Node {
    let d = &disks[i];
    let role = match (d.differencing(), children[i].is_empty()) {
        (false, _) => Role::Base,
        (true, false) => Role::Checkpoint,
        (true, true) => Role::Leaf,
    };
    Node {
        file: d.file.clone(),
        format: d.format,
        disk_type: d.disk_type.name(),
        role,
        id: d.id_text.clone(),
        parent_id: d.parent_id.clone(),
        size: d.size,
        orphan: root && d.differencing(),
        notes: d.notes.clone(),
        children: children[i].iter().map(|&c| node(c, disks, children, false)).collect(),
    }
}

/// How disk `i` finds its parent among `disks`: as the command line does, the first place its
/// locators give that holds a file whose id it names; else a file with that id elsewhere
/// (moved); else the first place that holds a file at all (modified); else none (an orphan).
fn link(i: usize, disks: &[Found], by_id: &HashMap<[u8; 16], Vec<usize>>, by_name: &HashMap<String, usize>) -> Link {
    let child = &disks[i];
    if !child.differencing() {
        return Link::None;
    }
    let is_parent = |p: usize| p != i && disks[p].format == child.format && child.parent_ids.contains(&disks[p].id);
    let at_paths: Vec<usize> = child.looks_for.iter().filter_map(|p| by_name.get(p).copied()).collect();
    if let Some(&p) = at_paths.iter().find(|&&p| is_parent(p)) {
        return Link::Found(p);
    }
    let mut by_id_found: Vec<usize> =
        child.parent_ids.iter().flat_map(|id| by_id.get(id).into_iter().flatten().copied()).filter(|&p| is_parent(p)).collect();
    by_id_found.sort_unstable();
    if let Some(&p) = by_id_found.first() {
        return Link::Moved(p);
    }
    match at_paths.into_iter().find(|&p| p != i) {
        Some(f) if !child.parent_ids.is_empty() => Link::Modified(f),
        _ => Link::Orphan,
    }
}

/// Breaks parent loops and chains deeper than [`MAX_CHAIN_DEPTH`]: the disk of a loop that
/// comes first (by name), and a disk that deep, lose their parent. True for each disk that lost
/// it.
fn cut_loops_and_depth(parent: &mut [Option<usize>]) -> Vec<bool> {
    let n = parent.len();
    let mut cut = vec![false; n];
    // Loops first. 0 not seen, 1 on the walk under way, 2 done.
    let mut state = vec![0u8; n];
    for start in 0..n {
        let mut walk = Vec::new();
        let mut at = Some(start);
        while let Some(a) = at.filter(|&a| state[a] != 2) {
            if state[a] == 1 {
                let from = walk.iter().position(|&w| w == a).unwrap_or(0);
                let first = walk[from..].iter().copied().min().unwrap_or(a);
                parent[first] = None;
                cut[first] = true;
                break;
            }
            state[a] = 1;
            walk.push(a);
            at = parent[a];
        }
        for w in walk {
            state[w] = 2;
        }
    }
    // Then depths, from the top of each walk down (each step's parent is the next).
    let mut depth: Vec<Option<usize>> = vec![None; n];
    for start in 0..n {
        let mut walk = Vec::new();
        let mut at = Some(start);
        while let Some(a) = at.filter(|&a| depth[a].is_none()) {
            walk.push(a);
            at = parent[a];
        }
        for &w in walk.iter().rev() {
            let d = parent[w].and_then(|p| depth[p]).map_or(0, |d| d + 1);
            depth[w] = Some(if d >= MAX_CHAIN_DEPTH {
                parent[w] = None;
                cut[w] = true;
                0
            } else {
                d
            });
        }
    }
    cut
}

/// The paths `child`'s locators look in, most trustworthy first, in the terms of the names
/// given: relative ones from the child's folder, absolute ones (`/...`, `C:/...`) as they are.
fn looks_for(file: &str, child: &Layer) -> Vec<String> {
    let dir = file.rsplit_once('/').map_or("", |(d, _)| d);
    let mut out: Vec<String> = Vec::new();
    for c in child.parent_candidates() {
        let p = if is_absolute(&c) || dir.is_empty() { normalize(&c) } else { normalize(&format!("{dir}/{c}")) };
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// True for `/...`, `//server/...` and `C:/...`.
fn is_absolute(p: &str) -> bool {
    let b = p.as_bytes();
    p.starts_with('/') || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
}

/// `p` with `\` as `/`, without `.` and empty parts, and with `..` taking off the part before it
/// where there is one; a leading `/` or `//` (a Windows `\\server\` or `\\?\` path) kept.
fn normalize(p: &str) -> String {
    let p = p.replace('\\', "/");
    let lead = if p.starts_with("//") {
        "//"
    } else if p.starts_with('/') {
        "/"
    } else {
        ""
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    format!("{lead}{}", parts.join("/"))
}

/// `vhd-viewer relink --parent PARENT CHILD OUT`: a copy of the child beside it (`name-relinked`
/// with the child's extension) whose locators point to the parent where it is.
pub fn relink_command(parent: &str, child: &str) -> String {
    let out = match child.rsplit_once('.').filter(|(stem, ext)| !stem.is_empty() && !stem.ends_with('/') && !ext.contains('/')) {
        Some((stem, ext)) => format!("{stem}-relinked.{ext}"),
        None => format!("{child}-relinked"),
    };
    format!("vhd-viewer relink --parent {} {} {}", shell_quote(parent), shell_quote(child), shell_quote(&out))
}

/// `s` as one word for a POSIX shell: as it is when it holds only characters no shell treats
/// specially, else in single quotes.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty() && !s.starts_with('-') && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-./+=:,@%".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_as_the_command_line_resolves_them() {
        assert_eq!(normalize("a/./b/../c.vhd"), "a/c.vhd");
        assert_eq!(normalize("../x.vhd"), "../x.vhd");
        assert_eq!(normalize("a\\..\\..\\x.vhd"), "../x.vhd");
        assert_eq!(normalize("/srv//d/x.vhd"), "/srv/d/x.vhd");
        assert_eq!(normalize("\\\\?\\Volume{1}\\x.vhdx"), "//?/Volume{1}/x.vhdx");
        assert!(is_absolute("C:/x.vhd") && is_absolute("/x") && !is_absolute("x/C:"));
    }

    #[test]
    fn commands_are_quoted_for_a_shell() {
        assert_eq!(shell_quote("a/b-c.vhd"), "a/b-c.vhd");
        assert_eq!(shell_quote("Virtual Hard Disks/x.avhdx"), "'Virtual Hard Disks/x.avhdx'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("-x"), "'-x'");
        assert_eq!(relink_command("p.vhd", "d/c.avhd"), "vhd-viewer relink --parent p.vhd d/c.avhd d/c-relinked.avhd");
        assert_eq!(relink_command("p", "d.x/c"), "vhd-viewer relink --parent p d.x/c d.x/c-relinked");
    }

    #[test]
    fn identity_is_what_opening_finds_of_it() {
        use crate::reader::{open_layer, Counting};
        use crate::vhd::writer::DiskBuilder;
        use crate::vhdx::writer::VhdxBuilder;
        let mut base = DiskBuilder::dynamic(64 << 20, 2 << 20);
        base.write(3 << 20, &[1; 512]);
        let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 2 << 20);
        child.parent_locator(*b"W2ku", "D:\\vms\\base.vhd").write(0, &[2; 512]);
        let vhdx = VhdxBuilder::new(64 << 20).write(0, &[3; 512]);
        let mut dirty = VhdxBuilder::new(64 << 20).child_of(vhdx.data_write_guid, "../x.vhdx").write(5 << 20, &[4; 512]);
        dirty.data_write_guid = crate::vhdx::Guid([0x42; 16]);
        dirty.dirty_log = true;
        let mut replayed_logs = Vec::new();
        for file in [base.build(), child.build(), vhdx.build(), dirty.build()] {
            let full = Counting::new(file.clone());
            let opened = open_layer(&full).unwrap();
            let id = identify(&file).unwrap();
            let l = &id.layer;
            assert_eq!((l.format(), l.disk_type(), l.size()), (opened.format(), opened.disk_type(), opened.size()));
            assert_eq!(
                (l.link_id(), l.parent_link(), l.parent_candidates()),
                (opened.link_id(), opened.parent_link(), opened.parent_candidates())
            );
            assert!(id.bytes_read < full.bytes(), "{} of {}", id.bytes_read, full.bytes());
            let replayed = opened.vhdx().is_some_and(|v| v.log.replayed);
            assert_eq!(l.findings.iter().any(|f| f.code == "vhdx-log-not-replayed"), replayed);
            replayed_logs.push(replayed);
        }
        assert_eq!(replayed_logs, [false, false, false, true]);
    }

    #[test]
    fn loops_and_deep_chains_are_cut() {
        let mut parent = vec![Some(1), Some(2), Some(0), None, Some(3)];
        assert_eq!(cut_loops_and_depth(&mut parent), vec![true, false, false, false, false]);
        assert_eq!(parent, vec![None, Some(2), Some(0), None, Some(3)]);
        let mut parent: Vec<Option<usize>> = (0..600usize).map(|i| i.checked_sub(1)).collect();
        let cut = cut_loops_and_depth(&mut parent);
        assert_eq!(cut.iter().filter(|c| **c).count(), 2);
        assert!(cut[MAX_CHAIN_DEPTH] && cut[2 * MAX_CHAIN_DEPTH]);
        let mut parent = vec![Some(0)];
        assert_eq!(cut_loops_and_depth(&mut parent), vec![true]);
    }
}
