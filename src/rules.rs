//! What each writer accepts: which formats it reads, which disk types, and whether it needs the
//! parent. Decided here once; the command line and the page both ask [`Writer::accepts`] and
//! show its reason, and the writers themselves take the VHD it hands back.

use crate::disk::Disk;
use crate::error::{Error, ParentNeed, Result, WriteError};
use crate::image::DiskType;
use crate::layer::Layer;
use crate::vhd::Vhd;
use crate::vhdx::Vhdx;

/// The input a writer rewrites in its own format, as that format's structures: what `relink`
/// and `repair` copy in the input's own layout.
#[derive(Debug, Clone, Copy)]
pub enum Own<'a> {
    /// A VHD.
    Vhd(&'a Vhd),
    /// A VHDX.
    Vhdx(&'a Vhdx),
}

/// A writer of a new file from a disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// `convert`: the disk's bytes as a new VHD of any type.
    Convert,
    /// `compact`: a copy without the blocks (and sectors) that read as what is below them.
    Compact,
    /// `relink`: a differencing disk's copy with a new parent link.
    Relink,
    /// `repair`: a copy with what can be mended mended.
    Repair,
    /// `resize`: a copy in its own format with another virtual size.
    Resize,
}

/// The disk types each writer takes as its input's newest layer.
const ALL: &[DiskType] = &[DiskType::Fixed, DiskType::Dynamic, DiskType::Differencing];
const SPARSE: &[DiskType] = &[DiskType::Dynamic, DiskType::Differencing];
const CHILD: &[DiskType] = &[DiskType::Differencing];

impl Writer {
    /// The writer's name, as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            Writer::Convert => "convert",
            Writer::Compact => "compact",
            Writer::Relink => "relink",
            Writer::Repair => "repair",
            Writer::Resize => "resize",
        }
    }

    /// True when the writer reads the disk through any chain (`convert`), not a file's own
    /// structures.
    pub fn reads_vhdx(self) -> bool {
        self == Writer::Convert
    }

    /// True when the writer rewrites a VHDX's own structures too: `relink` and `repair` copy a
    /// VHDX in its own layout ([`crate::vhdx::copy`]), `compact` into a new VHDX of its kind.
    pub fn writes_vhdx(self) -> bool {
        matches!(self, Writer::Relink | Writer::Repair | Writer::Compact | Writer::Resize)
    }

    /// Whether the writer takes `layer` as its input's newest layer: a VHD, or a VHDX when it
    /// [writes VHDX](Writer::writes_vhdx), of a disk type it takes.
    pub fn check(self, layer: &Layer) -> Result<()> {
        if layer.vhdx().is_some() && self.writes_vhdx() {
            return self.type_check(layer);
        }
        self.vhd_of(layer).map(|_| ())
    }

    /// The input `layer` as its format's structures, once [`Writer::check`] accepts it.
    pub fn own(self, layer: &Layer) -> Result<Own<'_>> {
        self.check(layer)?;
        match layer.vhdx() {
            Some(v) => Ok(Own::Vhdx(v)),
            None => self.vhd_of(layer).map(Own::Vhd),
        }
    }

    /// A disk type the writer does not take: `compact-fixed`, `not-differencing`.
    fn type_check(self, layer: &Layer) -> Result<()> {
        let t = layer.disk_type();
        if self.disk_types().contains(&t) {
            return Ok(());
        }
        Err(match self {
            Writer::Compact => WriteError::CompactFixed.into(),
            _ => Error::NotDifferencing { disk_type: t.name(), task: self.name() },
        })
    }

    /// The disk types the writer takes.
    pub fn disk_types(self) -> &'static [DiskType] {
        match self {
            Writer::Convert | Writer::Repair | Writer::Resize => ALL,
            Writer::Compact => SPARSE,
            Writer::Relink => CHILD,
        }
    }

    /// True when the writer needs the parent of a differencing disk (compacting compares each
    /// sector with its parent's; a relinked copy records the parent's id and name; a resize
    /// reads the partition table and file systems through the chain).
    pub fn needs_parent(self) -> bool {
        matches!(self, Writer::Compact | Writer::Relink | Writer::Resize)
    }

    /// The writer of this name (`compact`, `relink`, `repair`, `convert`).
    pub fn from_name(name: &str) -> Option<Writer> {
        [Writer::Convert, Writer::Compact, Writer::Relink, Writer::Repair, Writer::Resize].into_iter().find(|w| w.name() == name)
    }

    /// The VHD the writer rewrites as `layer`, or why it cannot: a VHDX (`vhdx-not-supported`),
    /// a disk type it does not take (`compact-fixed`, `not-differencing`).
    pub fn vhd_of(self, layer: &Layer) -> Result<&Vhd> {
        let Some(vhd) = layer.vhd() else {
            return Err(WriteError::VhdxNotSupported { writer: self.name() }.into());
        };
        self.type_check(layer)?;
        Ok(vhd)
    }

    /// Whether the writer accepts `disk` (its newest layer, and the parent when it needs it);
    /// with the VHD it rewrites, `None` for `convert`, which reads the disk through the chain, and
    /// for a VHDX that `relink` or `repair` copies in its own layout.
    pub fn accepts(self, disk: &Disk) -> Result<Option<&Vhd>> {
        self.accepts_layer(disk, 0)
    }

    /// [`Writer::accepts`] for a copy of layer `k` of `disk` (the disk as it was when `k` was
    /// the newest layer, as the page offers a copy of any file of the chain).
    pub fn accepts_layer(self, disk: &Disk, k: usize) -> Result<Option<&Vhd>> {
        let top = disk.layers.get(k).ok_or(Error::NoSuchLayer { layer: k, layers: disk.layers.len() })?;
        if self.reads_vhdx() {
            return Ok(None);
        }
        self.check(top)?;
        if self.needs_parent() && top.disk_type() == DiskType::Differencing && disk.layers.len() < k + 2 {
            return Err(Error::ParentUnavailable(match self {
                Writer::Relink => ParentNeed::Relink,
                Writer::Resize => ParentNeed::Resize,
                _ => ParentNeed::Compact { missing: None },
            }));
        }
        Ok(top.vhd())
    }
}

/// The VHD a relinked copy links to as `parent`, or why it cannot: a VHD's parent link names a
/// VHD, so a VHDX parent is [`Error::MixedFormats`].
pub fn relink_parent(parent: &Layer) -> Result<&Vhd> {
    parent.vhd().ok_or(Error::MixedFormats { layer: 0, child: "VHD", parent: "VHDX" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::open_layer;
    use crate::vhd::writer::DiskBuilder;
    use crate::vhdx::writer::VhdxBuilder;

    #[test]
    fn each_writer_takes_what_its_table_says() {
        let fixed = open_layer(&DiskBuilder::fixed(1 << 20).build()).unwrap();
        let dynamic = DiskBuilder::dynamic(4 << 20, 2 << 20);
        let child = DiskBuilder::differencing(&dynamic.parent_ref("p.vhd"), 2 << 20);
        let (dynamic, child) = (open_layer(&dynamic.build()).unwrap(), open_layer(&child.build()).unwrap());
        let vhdx = open_layer(&VhdxBuilder::new(4 << 20).build()).unwrap();
        let code = |w: Writer, l: &Layer| w.vhd_of(l).err().map(|e| e.code());
        let disk = |l: &Layer| Disk::new(vec![l.clone()], false).unwrap();
        assert_eq!(code(Writer::Compact, &fixed), Some("compact-fixed"));
        assert_eq!(code(Writer::Compact, &dynamic), None);
        assert_eq!(code(Writer::Relink, &dynamic), Some("not-differencing"));
        assert_eq!(code(Writer::Relink, &child), None);
        assert_eq!(code(Writer::Repair, &fixed), None);
        for w in [Writer::Compact, Writer::Relink, Writer::Repair] {
            assert_eq!(code(w, &vhdx), Some("vhdx-not-supported"), "{}", w.name());
        }
        // Relink and repair copy a VHDX in its own layout, compact into a new VHDX.
        let vhdx_child = open_layer(&VhdxBuilder::new(4 << 20).child_of(crate::vhdx::Guid([1; 16]), "p.vhdx").build()).unwrap();
        let check = |w: Writer, l: &Layer| w.check(l).err().map(|e| e.code());
        assert_eq!(check(Writer::Compact, &vhdx), None);
        assert_eq!(check(Writer::Repair, &vhdx), None);
        assert_eq!(check(Writer::Relink, &vhdx), Some("not-differencing"));
        assert_eq!(check(Writer::Relink, &vhdx_child), None);
        assert!(Writer::Repair.accepts(&disk(&vhdx)).unwrap().is_none());
        assert_eq!(Writer::Relink.accepts(&disk(&vhdx_child)).err().map(|e| e.code()), Some("parent-unavailable"));
        assert!(Writer::Convert.accepts(&disk(&vhdx)).unwrap().is_none());
        assert_eq!(Writer::Compact.accepts(&disk(&child)).err().map(|e| e.code()), Some("parent-unavailable"));
        assert!(Writer::Compact.accepts(&Disk::new(vec![child, dynamic.clone()], true).unwrap()).unwrap().is_some());
        assert!(relink_parent(&dynamic).is_ok());
        assert!(matches!(relink_parent(&vhdx), Err(Error::MixedFormats { child: "VHD", parent: "VHDX", .. })));
    }
}
