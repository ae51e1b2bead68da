//! `relink`: a copy of a differencing disk that points to its parent's new place. The parent
//! locators (W2ru relative to the copy's folder, W2ku absolute, MacX a file URL) and the parent
//! unicode name are written anew; the blocks are copied as they are; the child keeps its own
//! unique id and time stamp, so that its own children still link to it.
//!
//! Reads the child through a [`ReadAt`] and writes through a [`WriteAt`], a window of at most
//! 1 MiB at a time.

use crate::check::Progress;
use crate::compact::same_identity;
use crate::error::{Error, Result};
use crate::footer::DiskType;
use crate::layer::Layer;
use crate::reader::ReadAt;
use crate::writer::{utf16le, ParentRef, SparseLayout, WriteAt};

/// What relinking wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Relinked {
    /// Blocks copied.
    pub blocks: u64,
    /// The copy's length.
    pub file_len: u64,
}

/// The three parent locators for a parent at `absolute` (as this machine spells it, `/` or `\`
/// separated), `relative` to the child's folder (`\` separated, as Windows writes it: `.\base.vhd`,
/// `..\disks\base.vhd`).
pub fn parent_locators(relative: &str, absolute: &str) -> Vec<([u8; 4], Vec<u8>)> {
    vec![(*b"W2ru", utf16le(relative)), (*b"W2ku", utf16le(absolute)), (*b"MacX", file_url(absolute).into_bytes())]
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
/// its parent link and `locators` as its parent locators.
pub fn relink(
    child: &Layer,
    src: &dyn ReadAt,
    parent: &ParentRef,
    locators: &[([u8; 4], Vec<u8>)],
    out: &mut dyn WriteAt,
    progress: Progress<'_>,
) -> Result<Relinked> {
    let Some(geo) = child.block_geometry().filter(|_| child.disk_type() == DiskType::Differencing) else {
        return Err(Error::Chain {
            code: "not-differencing",
            message: format!("only a differencing disk has a parent to relink; this is a {} disk", child.disk_type().name()),
        });
    };
    let footer = same_identity(child).footer;
    crate::writer::check_layout(child.size(), geo.block_size)?;
    let mut layout = SparseLayout::new(&footer, u32::try_from(geo.block_size).unwrap_or(0), Some(parent), locators);
    if layout.bitmap_size() != geo.bitmap_size {
        return Err(Error::Chain { code: "block-size", message: "the block size is not one this program can write a copy with".into() });
    }
    let total = child.allocated_blocks();
    let whole = geo.bitmap_size + geo.block_size;
    let mut buf = vec![0u8; whole.min(crate::convert::BUF as u64) as usize];
    let mut done = 0;
    for block in 0..child.bat.len() as u64 {
        let Some(at) = child.block_offset(block) else { continue };
        let to = layout
            .place(block)
            .ok_or_else(|| Error::Chain { code: "block-placed-twice", message: format!("block {block} was placed twice (a bug)") })?;
        let mut copied = 0;
        while copied < whole {
            let n = (whole - copied).min(buf.len() as u64);
            let piece = &mut buf[..n as usize];
            let from = at + copied;
            if from.saturating_add(n) > src.len() {
                return Err(Error::OutOfFile { what: "block", offset: from, len: n, file_len: src.len() });
            }
            src.read_at(from, piece)?;
            if piece.iter().any(|b| *b != 0) {
                out.write_at(to + copied, piece)?;
            }
            copied += n;
        }
        done += 1;
        progress(done, total);
    }
    for (at, bytes) in layout.finish() {
        out.write_at(at, &bytes)?;
    }
    out.set_len(layout.file_len())?;
    Ok(Relinked { blocks: total, file_len: layout.file_len() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::open_layer;
    use crate::writer::DiskBuilder;

    #[test]
    fn urls_escape_what_is_not_plain() {
        assert_eq!(file_url("/vms/My Disks/ü.vhd"), "file:///vms/My%20Disks/%C3%BC.vhd");
        let d = crate::locator::decode_path(crate::locator::Platform::MacOsX, file_url("/a b/c%.vhd").as_bytes());
        assert_eq!((d.path.as_str(), d.valid), ("/a b/c%.vhd", true));
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
        let locs = parent_locators("..\\elsewhere\\moved-base.vhd", "/srv/elsewhere/moved-base.vhd");
        let mut out = Vec::new();
        let r = relink(&layer, &c, &p, &locs, &mut out, &mut |_, _| {}).unwrap();
        assert_eq!(r.blocks, 2);
        let l = open_layer(&out).unwrap();
        assert_eq!(l.footer.value.unique_id, layer.footer.value.unique_id);
        let h = &l.header.as_ref().unwrap().value;
        assert_eq!(h.parent_unicode_name().0, "moved-base.vhd");
        assert_eq!(h.parent_timestamp.0, 12345);
        assert_eq!(
            l.parent_candidates(),
            ["../elsewhere/moved-base.vhd", "moved-base.vhd", "/srv/elsewhere/moved-base.vhd"].map(String::from).to_vec()
        );
        // Same blocks: the same bitmaps and data.
        for b in [0u64, 3] {
            let (i, o) = (layer.block_offset(b).unwrap() as usize, l.block_offset(b).unwrap() as usize);
            assert!(c[i..i + 512 + (1 << 20)] == out[o..o + 512 + (1 << 20)]);
        }
        let bad: Vec<_> = l.findings.iter().filter(|f| f.severity > crate::Severity::Info).collect();
        assert!(bad.is_empty(), "{bad:?}");
    }
}
