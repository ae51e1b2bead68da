//! `relink`: a copy of a differencing disk that points to its parent's new place; the blocks are
//! copied as they are, and the child keeps its own identity (a VHD's unique id and time stamp, a
//! VHDX's `DataWriteGuid`), so that its own children still link to it.
//!
//! - A VHD: the parent locators (W2ru relative to the copy's folder, W2ku absolute, MacX a file
//!   URL) and the parent unicode name are written anew, in a layout made anew.
//! - A VHDX: the parent locator item ([MS-VHDX] 2.6.2.6) names the new parent by its
//!   `DataWriteGuid` (`parent_linkage`) and its place (`relative_path`, and `absolute_win32_path`
//!   for a Windows path); `parent_linkage2` and `volume_path`, which named the old parent, are
//!   dropped, other keys kept. The file keeps its layout ([`crate::vhdx::copy`]): a dirty log is
//!   replayed into the copy and the copy's log is clean.
//!
//! Reads the child through a [`ReadAt`] and writes through a [`WriteAt`], a window of at most
//! 1 MiB at a time: [`relink`] in one call, or [`Relinking`] a step at a time.

use crate::check::Progress;
use crate::compact::same_identity;
use crate::error::write::PathFault;
use crate::error::MismatchWords;
use crate::error::{Error, Result, WriteError};
use crate::layer::Layer;
use crate::reader::ReadAt;
use crate::rules::{relink_parent, Own, Writer};
use crate::vhdx::copy::{self, VhdxCopy};
use crate::vhdx::{encode, Guid, Vhdx};

/// How relinking to a parent of another id is said.
const RELINK_WORDS: MismatchWords = MismatchWords {
    field: "its parent unique id field",
    id: "unique id",
    meaning: "it is not the disk the child was made from",
    hint: "use --force to link it anyway: the copy then reads garbage unless that disk holds the same data",
};
/// How relinking a VHDX to a parent of another `DataWriteGuid` is said.
const VHDX_RELINK_WORDS: MismatchWords = MismatchWords {
    field: "parent_linkage in its parent locator",
    id: "DataWriteGuid",
    meaning: "it is not the disk the child was made from, or its data changed since",
    hint: RELINK_WORDS.hint,
};
use crate::vhd::writer::{utf16le, ParentRef, SparseLayout, WriteAt};
use crate::vhd::Vhd;

/// The parent a relinked copy records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewParent {
    /// A VHD child's link: the parent's unique id, time stamp, size and file name.
    Vhd(ParentRef),
    /// A VHDX child's link: the parent's `DataWriteGuid` (`parent_linkage`).
    Vhdx {
        /// The parent's `DataWriteGuid`.
        data_write_guid: Guid,
        /// The parent's file name (for messages).
        file_name: String,
    },
}

impl NewParent {
    /// The parent's file name.
    pub fn file_name(&self) -> &str {
        match self {
            NewParent::Vhd(p) => &p.file_name,
            NewParent::Vhdx { file_name, .. } => file_name,
        }
    }
}

/// Where the parent is, as a relinked copy's locators say: `relative` to the copy's folder
/// (`\` separated, starting `.\` or `..\`) and, when known, `absolute` (a Windows path
/// `C:\...` or `\\server\...`, or a POSIX one `/...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentPaths {
    /// Relative to the copy's folder.
    pub relative: String,
    /// The full path, when known.
    pub absolute: Option<String>,
}

impl ParentPaths {
    /// True when the absolute path is a Windows one (a drive or a server share).
    fn windows_absolute(&self) -> Option<&str> {
        self.absolute.as_deref().filter(|a| !a.starts_with('/'))
    }

    /// The VHD parent locators: W2ru always, W2ku with an absolute path, MacX (a `file://` URL)
    /// with a POSIX one.
    pub fn vhd_locators(&self) -> Vec<([u8; 4], Vec<u8>)> {
        let mut locators = vec![(*b"W2ru", utf16le(&self.relative))];
        if let Some(abs) = &self.absolute {
            locators.push((*b"W2ku", utf16le(abs)));
            if abs.starts_with('/') {
                locators.push((*b"MacX", file_url(abs).into_bytes()));
            }
        }
        locators
    }

    /// The VHDX parent locator's key/value pairs for a parent of `data_write_guid`, keeping the
    /// keys of `old` (the child's locator) that do not name the old parent.
    pub fn vhdx_entries(&self, data_write_guid: Guid, old: Option<&crate::vhdx::format::ParentLocator>) -> Vec<(String, String)> {
        let mut kv =
            vec![("parent_linkage".to_string(), encode::guid_text(data_write_guid)), ("relative_path".into(), self.relative.clone())];
        if let Some(abs) = self.windows_absolute() {
            kv.push(("absolute_win32_path".into(), abs.to_string()));
        }
        const NAMING: [&str; 5] = ["parent_linkage", "parent_linkage2", "relative_path", "volume_path", "absolute_win32_path"];
        for e in old.map_or(&[][..], |l| &l.entries[..]) {
            if !NAMING.contains(&e.key.as_str()) && e.valid {
                kv.push((e.key.clone(), e.value.clone()));
            }
        }
        kv
    }
}

/// What relinking wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Relinked {
    /// Blocks copied.
    pub blocks: u64,
    /// The copy's length.
    pub file_len: u64,
}

/// The parent's place for a parent at `absolute` (as this machine spells it, `/` or `\`
/// separated), `relative` to the child's folder (`\` separated, as Windows writes it: `.\base.vhd`,
/// `..\disks\base.vhd`).
pub fn parent_paths(relative: &str, absolute: &str) -> ParentPaths {
    ParentPaths { relative: relative.to_string(), absolute: Some(absolute.to_string()) }
}

/// The parent link a relinked copy of `child` records for `parent` (named `parent_name`, the
/// file name the copy records; `child_name` and `parent_name` are used in messages), and the
/// warnings to give. The parent's id (a VHD's unique id, a VHDX's `DataWriteGuid`) must be the one
/// the child names; with `force` a different one is accepted, recorded, and warned about loudly.
pub fn parent_link(child: &Layer, child_name: &str, parent: &Layer, parent_name: &str, force: bool) -> Result<(NewParent, Vec<String>)> {
    let own = Writer::Relink.own(child).map_err(|e| e.in_file(child_name, ""))?;
    let file_name = parent_name.rsplit(['/', '\\']).next().unwrap_or(parent_name).to_string();
    let mut warnings = Vec::new();
    let link = match own {
        Own::Vhdx(c) => vhdx_link(c, child_name, parent, parent_name, file_name, force, &mut warnings)?,
        Own::Vhd(_) => NewParent::Vhd(vhd_link(child, child_name, parent, parent_name, file_name, force, &mut warnings)?),
    };
    if parent.size() != child.size() {
        warnings.push(format!(
            "warning: the parent is {} bytes, the child {} bytes; sectors past the parent's end read as zeros",
            parent.size(),
            child.size()
        ));
    }
    Ok((link, warnings))
}

/// [`parent_link`] for a VHD child.
fn vhd_link(
    child: &Layer,
    child_name: &str,
    parent: &Layer,
    parent_name: &str,
    file_name: String,
    force: bool,
    warnings: &mut Vec<String>,
) -> Result<ParentRef> {
    let c = Writer::Relink.vhd_of(child).map_err(|e| e.in_file(child_name, ""))?;
    let Some(h) = c.header.as_ref() else {
        return Err(Error::NotDifferencing { disk_type: child.disk_type().name(), task: Writer::Relink.name() }.in_file(child_name, ""));
    };
    let parent_vhd = relink_parent(parent)?;
    let want = h.value.parent_unique_id;
    let got = parent_vhd.footer.value.unique_id;
    let mut link = ParentRef { unique_id: want, timestamp: h.value.parent_timestamp, size: child.size(), file_name };
    if want != got {
        let e = Error::ParentIdMismatch {
            layer: child_name.to_string(),
            offset: h.offset + crate::vhd::header::off::PARENT_UNIQUE_ID as u64,
            expected: want.to_string(),
            actual: format!("{got} ({parent_name})"),
            words: &RELINK_WORDS,
        };
        if !force {
            return Err(e);
        }
        let msg = e.mismatch().unwrap_or_default();
        link.unique_id = got;
        link.timestamp = parent_vhd.footer.value.timestamp;
        warnings.push(format!(
            "WARNING: {msg}. Linked anyway because of --force: the copy records the parent unique id {got} and time stamp {}; what it reads is garbage unless that disk holds the same data as the original parent",
            parent_vhd.footer.value.timestamp.iso8601()
        ));
    }
    Ok(link)
}

/// [`parent_link`] for a VHDX child: the parent's `DataWriteGuid` must be the child's
/// `parent_linkage` (or `parent_linkage2`, as the opener accepts it).
fn vhdx_link(
    c: &Vhdx,
    child_name: &str,
    parent: &Layer,
    parent_name: &str,
    file_name: String,
    force: bool,
    warnings: &mut Vec<String>,
) -> Result<NewParent> {
    if parent.format() != "vhdx" {
        return Err(Error::MixedFormats { layer: 0, child: "VHDX", parent: "VHD" });
    }
    let got = Guid(parent.link_id());
    let (linkage, linkage2) = c.parent_linkage();
    if linkage != Some(got) && linkage2 != Some(got) {
        let e = Error::ParentIdMismatch {
            layer: child_name.to_string(),
            offset: c.parent_locator.as_ref().map_or(c.metadata_table.offset, |l| l.offset),
            expected: linkage.map_or_else(|| "no id".to_string(), |g| g.to_string()),
            actual: format!("{got} ({parent_name})"),
            words: &VHDX_RELINK_WORDS,
        };
        if !force {
            return Err(e);
        }
        warnings.push(format!(
            "WARNING: {}. Linked anyway because of --force: the copy records the parent's DataWriteGuid {got} as its parent_linkage; what it reads is garbage unless that disk holds the same data as the original parent",
            e.mismatch().unwrap_or_default()
        ));
    }
    if c.log.dirty && !c.log.replayed {
        warnings.push(format!(
            "warning: the child was not closed cleanly and its log at {:#x} does not verify: its writes are not in the copy, which holds the child as stored (as it is read here) with a clean log; `repair` reports the same loss",
            c.header().log_offset
        ));
    }
    if c.logical_sector_size != parent.logical_sector_size() {
        warnings.push(format!(
            "warning: the child has {}-byte logical sectors, the parent {}-byte ones: a differencing disk's sectors must be its parent's",
            c.logical_sector_size,
            parent.logical_sector_size()
        ));
    }
    Ok(NewParent::Vhdx { data_write_guid: got, file_name })
}

/// The parent's place as a person names it (the page asks): `relative` to the child's folder
/// (`/` or `\` separated; `.\` put in front of a plain name), and `absolute`, its full path
/// (`C:\VMs\base.vhd`, `\\server\share\base.vhd` or `/srv/base.vhd`), or empty when it is not
/// known.
pub fn named_paths(relative: &str, absolute: &str) -> Result<ParentPaths> {
    let bad = |path: &str, fault: PathFault| Error::from(WriteError::BadLocatorPath { path: path.to_string(), fault });
    let rel = relative.trim().replace('/', "\\");
    let drive = |p: &str| p.len() >= 2 && p.as_bytes()[0].is_ascii_alphabetic() && p.as_bytes()[1] == b':';
    if rel.is_empty() {
        return Err(bad(relative, PathFault::Empty));
    }
    if rel.starts_with('\\') || drive(&rel) {
        return Err(bad(relative, PathFault::NotRelative));
    }
    if rel.ends_with('\\') || rel.split('\\').any(|c| c.is_empty()) {
        return Err(bad(relative, PathFault::NotAFile));
    }
    let relative = if rel.starts_with(".\\") || rel.starts_with("..\\") { rel } else { format!(".\\{rel}") };
    let abs = absolute.trim();
    let absolute = if abs.is_empty() {
        None
    } else if abs.starts_with('/') {
        Some(abs.to_string())
    } else if (drive(abs) && abs[2..].starts_with(['\\', '/'])) || abs.starts_with("\\\\") {
        Some(abs.replace('/', "\\"))
    } else {
        return Err(bad(absolute, PathFault::NotAbsolute));
    };
    Ok(ParentPaths { relative, absolute })
}

/// `/path with spaces/ü.vhd` as `file:///path%20with%20spaces/%C3%BC.vhd`: every byte but
/// letters, digits, `/` and `-._~` percent-escaped.
pub fn file_url(path: &str) -> String {
    let mut url = String::from("file://");
    if !path.starts_with('/') {
        url.push('/');
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

/// Copies the differencing disk `child` (read from `src`) into `out` (empty) with `parent` as
/// its parent link and `paths` as its parent's place.
pub fn relink(
    child: &Layer,
    src: &dyn ReadAt,
    parent: &NewParent,
    paths: &ParentPaths,
    out: &mut dyn WriteAt,
    progress: Progress<'_>,
) -> Result<Relinked> {
    let mut r = Relinking::new(child, src, parent, paths)?;
    while r.step(src, out)? {
        let (done, total) = r.progress();
        progress(done, total);
    }
    r.finish(out)
}

/// A relinked copy in progress, a window of at most 1 MiB per [`Relinking::step`]: the caller
/// owns the loop, so that a page can write each step's bytes, show progress and stop between steps.
pub struct Relinking(Format);

enum Format {
    Vhd(Box<VhdRelinking>),
    Vhdx { copy: Box<VhdxCopy>, blocks: u64 },
}

/// A VHD's relinked copy: the blocks copied into a layout made anew.
struct VhdRelinking {
    child: Vhd,
    layout: SparseLayout,
    /// Bitmap and data bytes of a block.
    whole: u64,
    buf: Vec<u8>,
    /// The next block to look at.
    next: u64,
    /// The block being copied: where it is in the child, where in the copy, bytes copied.
    current: Option<(u64, u64, u64)>,
    done: u64,
    total: u64,
}

impl Relinking {
    /// Plans the copy of the differencing disk `child` (read from `src`) with `parent` as its
    /// parent link and `paths` as its parent's place.
    pub fn new(child: &Layer, src: &dyn ReadAt, parent: &NewParent, paths: &ParentPaths) -> Result<Self> {
        match (Writer::Relink.own(child)?, parent) {
            (Own::Vhdx(v), NewParent::Vhdx { data_write_guid, .. }) => {
                let writes = copy::log_writes(v, src)?;
                let region = copy::metadata_region(v, src, &writes)?;
                let old = v.parent_locator.as_ref().map(|l| &l.value);
                let locator = encode::parent_locator(&paths.vhdx_entries(*data_write_guid, old));
                let metadata = copy::with_parent_locator(v, &region, locator)?;
                let copy = VhdxCopy::new(v, src.len(), v.bat.clone(), metadata, writes, false);
                Ok(Relinking(Format::Vhdx { copy: Box::new(copy), blocks: v.allocated_blocks() }))
            }
            (Own::Vhd(_), NewParent::Vhd(p)) => Ok(Relinking(Format::Vhd(Box::new(VhdRelinking::new(child, p, &paths.vhd_locators())?)))),
            (Own::Vhdx(_), NewParent::Vhd(_)) => Err(Error::MixedFormats { layer: 0, child: "VHDX", parent: "VHD" }),
            (Own::Vhd(_), NewParent::Vhdx { .. }) => Err(Error::MixedFormats { layer: 0, child: "VHD", parent: "VHDX" }),
        }
    }

    /// Blocks copied, and blocks to copy in all.
    pub fn progress(&self) -> (u64, u64) {
        match &self.0 {
            Format::Vhd(r) => (r.done, r.total),
            Format::Vhdx { copy, .. } => copy.progress(),
        }
    }

    /// Copies the next window of the next allocated block. False when every block is copied.
    pub fn step(&mut self, src: &dyn ReadAt, out: &mut dyn WriteAt) -> Result<bool> {
        match &mut self.0 {
            Format::Vhd(r) => r.step(src, out),
            Format::Vhdx { copy, .. } => copy.step(src, out),
        }
    }

    /// Writes the copy's structures (after the last step): a VHD's footers, header, parent
    /// locators and BAT; a VHDX's header section, metadata region and BAT.
    pub fn finish(self, out: &mut dyn WriteAt) -> Result<Relinked> {
        match self.0 {
            Format::Vhd(r) => {
                for (at, bytes) in r.layout.finish() {
                    out.write_at(at, &bytes)?;
                }
                out.set_len(r.layout.file_len())?;
                Ok(Relinked { blocks: r.total, file_len: r.layout.file_len() })
            }
            Format::Vhdx { copy, blocks } => Ok(Relinked { blocks, file_len: copy.finish(out)? }),
        }
    }
}

impl VhdRelinking {
    fn new(child: &Layer, parent: &ParentRef, locators: &[([u8; 4], Vec<u8>)]) -> Result<Self> {
        let child = Writer::Relink.vhd_of(child)?;
        let Some(geo) = child.block_geometry() else {
            return Err(Error::NotDifferencing { disk_type: child.disk_type().name(), task: Writer::Relink.name() });
        };
        let footer = same_identity(child).footer;
        crate::vhd::writer::check_layout(child.size(), geo.block_size)?;
        let layout = SparseLayout::new(&footer, u32::try_from(geo.block_size).unwrap_or(0), Some(parent), locators);
        if layout.bitmap_size() != geo.bitmap_size {
            return Err(WriteError::BlockSize { block_size: geo.block_size }.into());
        }
        let whole = geo.bitmap_size + geo.block_size;
        Ok(VhdRelinking {
            child: child.clone(),
            layout,
            whole,
            buf: vec![0u8; whole.min(crate::convert::BUF as u64) as usize],
            next: 0,
            current: None,
            done: 0,
            total: child.allocated_blocks(),
        })
    }

    fn step(&mut self, src: &dyn ReadAt, out: &mut dyn WriteAt) -> Result<bool> {
        let (at, to, copied) = match self.current {
            Some(c) => c,
            None => {
                let blocks = self.child.bat.len() as u64;
                while self.next < blocks && self.child.block_offset(self.next).is_none() {
                    self.next += 1;
                }
                let Some(at) = self.child.block_offset(self.next) else { return Ok(false) };
                let block = self.next;
                self.next += 1;
                let to = self.layout.place(block).ok_or(WriteError::BlockPlacedTwice { block })?;
                (at, to, 0)
            }
        };
        let n = (self.whole - copied).min(self.buf.len() as u64);
        let piece = &mut self.buf[..n as usize];
        let from = at + copied;
        if from.saturating_add(n) > src.len() {
            return Err(Error::OutOfFile { what: "block", offset: from, len: n, file_len: src.len() });
        }
        src.read_at(from, piece)?;
        if piece.iter().any(|b| *b != 0) {
            out.write_at(to + copied, piece)?;
        }
        if copied + n < self.whole {
            self.current = Some((at, to, copied + n));
        } else {
            self.current = None;
            self.done += 1;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::open_layer;
    use crate::vhd::writer::DiskBuilder;

    #[test]
    fn urls_escape_what_is_not_plain() {
        assert_eq!(file_url("/vms/My Disks/ü.vhd"), "file:///vms/My%20Disks/%C3%BC.vhd");
        let d = crate::vhd::locator::decode_path(crate::vhd::locator::Platform::MacOsX, file_url("/a b/c%.vhd").as_bytes());
        assert_eq!((d.path.as_str(), d.valid), ("/a b/c%.vhd", true));
    }

    #[test]
    fn paths_a_person_types_become_locators_or_a_reason() {
        let names = |rel: &str, abs: &str| -> Vec<(String, String)> {
            named_paths(rel, abs)
                .unwrap()
                .vhd_locators()
                .into_iter()
                .map(|(c, d)| {
                    let code = String::from_utf8_lossy(&c).into_owned();
                    let p = crate::vhd::locator::decode_path(
                        if &c == b"MacX" { crate::vhd::locator::Platform::MacOsX } else { crate::vhd::locator::Platform::WindowsRelative },
                        &d,
                    );
                    (code, p.path)
                })
                .collect()
        };
        assert_eq!(names("base.vhd", ""), [("W2ru".to_string(), ".\\base.vhd".to_string())]);
        assert_eq!(
            names("../disks/base.vhd", " D:/VMs/base.vhd "),
            [("W2ru".into(), "..\\disks\\base.vhd".into()), ("W2ku".into(), "D:\\VMs\\base.vhd".into())]
        );
        assert_eq!(names(".\\b.vhd", "/srv/a b/b.vhd").len(), 3);
        for (rel, abs) in [
            ("", ""),
            ("C:\\x.vhd", ""),
            ("\\x.vhd", ""),
            ("disks\\", ""),
            ("a\\\\b.vhd", ""),
            ("b.vhd", "relative\\b.vhd"),
            ("b.vhd", "C:"),
        ] {
            let e = named_paths(rel, abs).unwrap_err();
            assert_eq!(e.code(), "bad-locator-path", "{rel:?} {abs:?}");
        }
    }

    #[test]
    fn the_copy_points_to_the_new_place_and_keeps_its_identity_and_blocks() {
        let mut base = DiskBuilder::dynamic(4 << 20, 1 << 20);
        base.write(0, &[1; 4096]);
        let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 1 << 20);
        child.write(512, &[7; 1024]).write(3 << 20, &[8; 512]);
        let c = child.build();
        let layer = open_layer(&c).unwrap();
        let mut p = base.parent_ref("moved-base.vhd");
        p.timestamp = crate::values::Timestamp(12345);
        let paths = parent_paths("..\\elsewhere\\moved-base.vhd", "/srv/elsewhere/moved-base.vhd");
        let mut out = Vec::new();
        let r = relink(&layer, &c, &NewParent::Vhd(p), &paths, &mut out, &mut |_, _| {}).unwrap();
        assert_eq!(r.blocks, 2);
        let l = open_layer(&out).unwrap();
        assert_eq!(l.link_id(), layer.link_id());
        let h = &l.vhd().unwrap().header.as_ref().unwrap().value;
        assert_eq!(h.parent_unicode_name().0, "moved-base.vhd");
        assert_eq!(h.parent_timestamp.0, 12345);
        assert_eq!(
            l.parent_candidates(),
            ["../elsewhere/moved-base.vhd", "moved-base.vhd", "/srv/elsewhere/moved-base.vhd"].map(String::from).to_vec()
        );
        // Same blocks: the same bitmaps and data.
        for b in [0u64, 3] {
            let (i, o) = (layer.vhd().unwrap().block_offset(b).unwrap() as usize, l.vhd().unwrap().block_offset(b).unwrap() as usize);
            assert!(c[i..i + 512 + (1 << 20)] == out[o..o + 512 + (1 << 20)]);
        }
        let bad: Vec<_> = l.findings.iter().filter(|f| f.severity > crate::Severity::Info).collect();
        assert!(bad.is_empty(), "{bad:?}");
    }

    #[test]
    fn a_vhdx_child_names_its_new_parent_and_keeps_the_keys_that_do_not_name_the_old_one() {
        use crate::vhdx::writer::{Kind, VhdxBuilder};
        let mut base = VhdxBuilder::new(4 << 20).write(0, &[1; 4096]);
        base.data_write_guid = Guid([0x42; 16]);
        let parent = open_layer(&base.build()).unwrap();
        let mut child = VhdxBuilder::new(4 << 20).write(1 << 20, &[7; 512]);
        child.data_write_guid = Guid([0x43; 16]);
        child.dirty_log = true;
        child.kind = Kind::Differencing {
            locator: vec![
                ("parent_linkage".into(), encode::guid_text(Guid([0x99; 16]))),
                ("parent_linkage2".into(), encode::guid_text(base.data_write_guid)),
                ("volume_path".into(), "\\\\?\\Volume{1}\\old\\base.vhdx".into()),
                ("relative_path".into(), ".\\old\\base.vhdx".into()),
                ("vendor_key".into(), "kept".into()),
            ],
        };
        let c = child.build();
        let layer = open_layer(&c).unwrap();
        // parent_linkage2 names the parent: accepted without --force.
        let (link, warnings) = parent_link(&layer, "child.vhdx", &parent, "/srv/new/base.vhdx", false).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(link, NewParent::Vhdx { data_write_guid: Guid([0x42; 16]), file_name: "base.vhdx".into() });
        let paths = named_paths("new/base.vhdx", "D:/VMs/new/base.vhdx").unwrap();
        let mut out = Vec::new();
        let r = relink(&layer, &c, &link, &paths, &mut out, &mut |_, _| {}).unwrap();
        assert_eq!((r.blocks, r.file_len), (1, out.len() as u64));
        let copy = open_layer(&out).unwrap();
        let v = copy.vhdx().unwrap();
        let l = &v.parent_locator.as_ref().unwrap().value;
        let keys: Vec<(&str, &str)> = l.entries.iter().map(|e| (e.key.as_str(), e.value.as_str())).collect();
        assert_eq!(
            keys,
            [
                ("parent_linkage", "{42424242-4242-4242-4242-424242424242}"),
                ("relative_path", ".\\new\\base.vhdx"),
                ("absolute_win32_path", "D:\\VMs\\new\\base.vhdx"),
                ("vendor_key", "kept")
            ]
        );
        assert!(!v.log.dirty);
        assert_eq!(v.data_write_guid(), Guid([0x43; 16]));
        let bad: Vec<_> = copy.findings.iter().filter(|f| f.severity > crate::Severity::Info).collect();
        assert!(bad.is_empty(), "{bad:?}");
        // Another disk: refused without --force, naming the locator's offset.
        let e = parent_link(&copy, "copy.vhdx", &layer, "child.vhdx", false).unwrap_err();
        assert_eq!((e.code(), e.offset()), ("parent-id-mismatch", Some(v.parent_locator.as_ref().unwrap().offset)));
        // A dirty log that does not verify: said.
        let mut broken = c.clone();
        broken[(1 << 20) + 100] ^= 1;
        let (_, warnings) = parent_link(&open_layer(&broken).unwrap(), "child.vhdx", &parent, "base.vhdx", false).unwrap();
        assert!(warnings.iter().any(|w| w.contains("log at 0x100000 does not verify")), "{warnings:?}");
        // A locator the metadata region cannot hold.
        let region = crate::vhdx::copy::metadata_region(v, &out, &[]).unwrap();
        let e = crate::vhdx::copy::with_parent_locator(v, &region, vec![1; 1 << 20]).unwrap_err();
        assert_eq!((e.code(), e.offset()), ("metadata-full", Some(v.metadata_region.file_offset)));
    }
}
