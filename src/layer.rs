//! One disk image file, opened, whatever its format: a [`Layer`] is a VHD's or a VHDX's
//! structures behind one type, as the `object` crate puts one `File` over its per-format
//! readers. The rest of the core asks a layer its identity and parent link, type, size, block
//! size, sector size and how each block is read; the methods here are the only place that
//! matches on the format, and [`Opener`] the only one that chooses it (by the file's first bytes).
//!
//! Opening does no I/O. [`Opener`] says which byte ranges it needs; a driver reads them and hands
//! them back, until the opener has what it needs (three rounds for a dynamic VHD, one for a fixed
//! one, three or four for a VHDX, whatever the size of the disk):
//!
//! ```
//! # use vhd_viewer::layer::{Opener, Poll};
//! # fn read(offset: u64, len: u64) -> Vec<u8> { vec![0; len as usize] }
//! let mut opener = Opener::new(4096);
//! let layer = loop {
//!     match opener.poll() {
//!         Ok(Poll::Need(ranges)) => {
//!             for r in ranges {
//!                 opener.provide(r.offset, read(r.offset, r.len));
//!             }
//!         }
//!         Ok(Poll::Ready(layer)) => break Ok(layer),
//!         Err(e) => break Err(e),
//!     }
//! };
//! assert!(layer.is_err()); // 4096 zero bytes are neither a VHD nor a VHDX
//! ```

use crate::error::{Error, Result, WriteError};
use crate::finding::Finding;
use crate::image::{BlockRead, BlockTable, ByteRange, DiskType, Opened, Store};
use crate::layer_check::{CheckNext, LayerCheck};
use crate::plan::{LayerPlan, Sink};
use crate::vhd::footer::FOOTER_SIZE;
use crate::vhd::geometry::Geometry;
use crate::vhd::{self, Vhd};
use crate::vhdx::{self, Vhdx};

/// One opened disk image file: what every format has (its length, the end of its data, the
/// findings made while reading it) and the format's own structures.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Length of the file in bytes.
    pub file_len: u64,
    /// The end of the data area: where a VHD's end footer starts (the file length when the
    /// footer was recovered from the copy, and for a VHDX).
    pub data_end: u64,
    /// What was noticed while opening.
    pub findings: Vec<Finding>,
    /// The format's structures.
    pub image: Image,
}

/// A layer's structures, by format.
#[derive(Debug, Clone)]
pub enum Image {
    /// A VHD file.
    Vhd(Box<Vhd>),
    /// A VHDX file.
    Vhdx(Box<Vhdx>),
}

impl From<Opened<Vhd>> for Layer {
    fn from(o: Opened<Vhd>) -> Layer {
        Layer { file_len: o.file_len, data_end: o.data_end, findings: o.findings, image: Image::Vhd(Box::new(o.image)) }
    }
}

impl From<Opened<Vhdx>> for Layer {
    fn from(o: Opened<Vhdx>) -> Layer {
        Layer { file_len: o.file_len, data_end: o.data_end, findings: o.findings, image: Image::Vhdx(Box::new(o.image)) }
    }
}

/// The format's part of a layer's summary: one of `vhd` (with `dynamic` for a sparse disk) and
/// `vhdx`, and every field of its structures as rows.
#[derive(Debug)]
pub(crate) struct FormatInfo {
    /// `vhd` or `vhdx`.
    pub(crate) format: &'static str,
    /// A VHD's footer.
    pub(crate) vhd: Option<vhd::info::VhdInfo>,
    /// A VHD's dynamic header.
    pub(crate) dynamic: Option<vhd::info::DynamicInfo>,
    /// A VHDX's structures.
    pub(crate) vhdx: Option<vhdx::info::VhdxInfo>,
    /// Every field as a row.
    pub(crate) fields: Vec<crate::fields::Field>,
}

/// What the opener wants next.
#[derive(Debug)]
pub enum Poll {
    /// Read these ranges and [`Opener::provide`] them, then poll again.
    Need(Vec<ByteRange>),
    /// The layer is open.
    Ready(Box<Layer>),
}

/// Opens one VHD or VHDX file from byte ranges handed to it. See the module documentation.
#[derive(Debug, Default)]
pub struct Opener {
    file_len: u64,
    store: Store,
    /// How far a VHDX's open has come (its rounds are not run again on each poll).
    vhdx: vhdx::Rounds,
    /// Only the identifying structures are read ([`Opener::identity`]).
    identify: bool,
}

impl Opener {
    /// An opener for a file of `file_len` bytes.
    pub fn new(file_len: u64) -> Self {
        Opener { file_len, store: Store::default(), vhdx: vhdx::Rounds::default(), identify: false }
    }

    /// An opener for a file of `file_len` bytes that reads only what identifies it, never its
    /// block table nor its data: a VHD's footer and its copy, dynamic header and parent
    /// locators' data; a VHDX's file identifier, headers, region tables, metadata table and
    /// items (the parent locator among them), but not its log (a VHDX not closed cleanly is
    /// identified as stored, and a finding says so) nor its BAT. What [`Opener::poll`] gives is a
    /// layer whose BAT is empty: its identity, parent link, type and size are known, its blocks
    /// are not (see [`crate::folder::identify`]).
    pub fn identity(file_len: u64) -> Self {
        Opener { file_len, store: Store::default(), vhdx: vhdx::Rounds::identity(), identify: true }
    }

    /// Hands the opener bytes read at `offset` (normally a range it asked for).
    pub fn provide(&mut self, offset: u64, bytes: Vec<u8>) {
        let done: std::result::Result<(), std::convert::Infallible> = self.store.provide_with(offset, bytes.len(), |b| {
            b.copy_from_slice(&bytes);
            Ok(())
        });
        let Ok(()) = done;
    }

    /// Hands the opener `len` bytes at `offset`, which `fill` writes straight into the opener's
    /// own buffer (a driver that reads into a slice saves a copy: for the BAT, the largest thing
    /// an open reads, a buffer of its size). Nothing is kept when `fill` fails.
    pub fn provide_with<E>(
        &mut self,
        offset: u64,
        len: usize,
        fill: impl FnOnce(&mut [u8]) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        self.store.provide_with(offset, len, fill)
    }

    /// Total bytes handed to the opener so far.
    pub fn bytes_provided(&self) -> u64 {
        self.store.provided()
    }

    /// Advances as far as the bytes provided allow. Once it answers [`Poll::Ready`], the BAT's
    /// bytes belong to the layer: the opener is done.
    pub fn poll(&mut self) -> Result<Poll> {
        let mut need = Vec::new();
        let want = if self.identify { Want::Identity(&mut self.vhdx) } else { Want::Layer(&mut self.vhdx) };
        let opened = match Self::open(self.file_len, &self.store, want, &mut need)? {
            Some(Opening::Vhdx(o)) => return Ok(Poll::Ready(Box::new(Layer::from(o)))),
            Some(Opening::Vhd(o, bat)) => Some((o, bat)),
            None => None,
        };
        let Some((mut o, bat)) = opened else {
            need.sort();
            need.dedup();
            return Ok(Poll::Need(need));
        };
        if let Some(r) = bat {
            o.image.bat = self.store.take_be_words(r);
            vhd::open::check_blocks(&mut o);
        }
        Ok(Poll::Ready(Box::new(Layer::from(o))))
    }

    /// The layer as far as it is known without its BAT: a VHD's footers, dynamic header and
    /// parent locators with their findings, once the bytes provided hold all of them (for a
    /// dynamic disk, after the round that asks for the BAT; for a differencing disk, only with
    /// the locators' data). A driver can show these structures while the BAT is still being
    /// read. `None` before that, and for a VHDX (whose structures come with its BAT). The
    /// layer's BAT is empty and the findings about its blocks are not made: [`Opener::poll`]
    /// gives the layer itself.
    pub fn structures(&self) -> Option<Layer> {
        let mut need = Vec::new();
        match Self::open(self.file_len, &self.store, Want::Structures, &mut need).ok()?? {
            Opening::Vhd(o, _) => Some(Layer::from(o)),
            Opening::Vhdx(_) => None,
        }
    }

    /// The one place that chooses the format: a file that starts with `vhdxfile` is opened as a
    /// VHDX (carried on from where its rounds stand), any other as a VHD (whose opener says what
    /// else it may be).
    fn open(file_len: u64, store: &Store, want: Want<'_>, need: &mut Vec<ByteRange>) -> Result<Option<Opening>> {
        let fetch = |r: ByteRange| store.get(r);
        let first = ByteRange::new(0, FOOTER_SIZE.min(file_len));
        let is_vhdx = fetch(first).is_some_and(|b| b.starts_with(vhdx::format::SIGNATURE));
        match (is_vhdx, want) {
            (false, want) => {
                let bat = matches!(want, Want::Layer(_));
                Ok(vhd::open::open(file_len, &fetch, need, bat)?.map(|(o, r)| Opening::Vhd(o, r)))
            }
            (true, Want::Layer(rounds) | Want::Identity(rounds)) => Ok(rounds.poll(file_len, &fetch, need)?.map(Opening::Vhdx)),
            (true, Want::Structures) => Ok(None),
        }
    }
}

/// What [`Opener::open`] is run for.
enum Want<'a> {
    /// The whole layer, a VHDX's rounds carried on in these.
    Layer(&'a mut vhdx::Rounds),
    /// The identifying structures only ([`Opener::identity`]): a VHD without its BAT, a VHDX
    /// through rounds made by [`vhdx::Rounds::identity`].
    Identity(&'a mut vhdx::Rounds),
    /// A VHD's structures without its BAT ([`Opener::structures`]); a VHDX gives none early.
    Structures,
}

/// A file opened by its format's opener; a VHD's with the range of its BAT, still to be taken.
enum Opening {
    Vhd(Opened<Vhd>, Option<ByteRange>),
    Vhdx(Opened<Vhdx>),
}

impl Layer {
    /// The VHD's structures, when the layer is a VHD.
    pub fn vhd(&self) -> Option<&Vhd> {
        match &self.image {
            Image::Vhd(v) => Some(v),
            Image::Vhdx(_) => None,
        }
    }

    /// The VHDX's structures, when the layer is a VHDX.
    pub fn vhdx(&self) -> Option<&Vhdx> {
        match &self.image {
            Image::Vhdx(v) => Some(v),
            Image::Vhd(_) => None,
        }
    }

    /// `vhd` or `vhdx`.
    pub fn format(&self) -> &'static str {
        match &self.image {
            Image::Vhd(_) => "vhd",
            Image::Vhdx(_) => "vhdx",
        }
    }

    /// The largest virtual size the layer's format holds (a VHD's 2040 GiB, a VHDX's 64 TiB)
    /// and the format's name as a sentence says it (`VHD`, `VHDX`).
    pub fn size_limit(&self) -> (u64, &'static str) {
        match &self.image {
            Image::Vhd(_) => (vhd::MAX_DISK_SIZE, "VHD"),
            Image::Vhdx(_) => (vhdx::format::MAX_DISK_SIZE, "VHDX"),
        }
    }

    /// True when a copy of this layer resized to `size` bytes must name this program as its
    /// creator so that qemu-img reads its size right: a VHD whose creator qemu-img sizes by the
    /// CHS geometry, which cannot give `size` ([`vhd::writer::creator_misread_at`]). A VHDX's size
    /// is read as stored.
    pub fn creator_misread_at(&self, size: u64) -> bool {
        match &self.image {
            Image::Vhd(v) => vhd::writer::creator_misread_at(&v.footer.value.creator_application.0, size),
            Image::Vhdx(_) => false,
        }
    }

    /// The id a child names this disk by: a VHD's unique id, a VHDX's `DataWriteGuid`.
    pub fn link_id(&self) -> [u8; 16] {
        match &self.image {
            Image::Vhd(v) => v.link_id(),
            Image::Vhdx(v) => v.data_write_guid().0,
        }
    }

    /// The application that made the file: a VHD's `creator application`, a VHDX's file type
    /// identifier's `Creator`.
    pub fn creator(&self) -> String {
        match &self.image {
            Image::Vhd(v) => v.footer.value.creator_application.to_string(),
            Image::Vhdx(v) => v.identifier.value.creator.clone(),
        }
    }

    /// What the format calls [`Layer::link_id`]: `unique id` or `DataWriteGuid`.
    pub fn link_id_name(&self) -> &'static str {
        match &self.image {
            Image::Vhd(_) => "unique id",
            Image::Vhdx(_) => "DataWriteGuid",
        }
    }

    /// The parent's name as a differencing disk records it: a VHD's `parent unicode name`, the
    /// first place a VHDX's parent locator names (empty when there is none).
    pub fn parent_name(&self) -> String {
        match &self.image {
            Image::Vhd(v) => v.header.as_ref().map(|h| h.value.parent_unicode_name().0).unwrap_or_default(),
            Image::Vhdx(v) => v.parent_candidates().into_iter().next().unwrap_or_default(),
        }
    }

    /// [`Layer::link_id`] as the format shows ids.
    pub fn link_id_text(&self) -> String {
        match &self.image {
            Image::Vhd(v) => v.footer.value.unique_id.to_string(),
            Image::Vhdx(v) => v.data_write_guid().to_string(),
        }
    }

    /// The id by which a differencing disk names its parent (a VHD's parent unique id, a VHDX's
    /// `parent_linkage`), shown as the format shows ids; `None` when it names none.
    pub fn parent_link(&self) -> Option<([u8; 16], String)> {
        match &self.image {
            Image::Vhd(v) => v.parent_link(),
            Image::Vhdx(v) => v.parent_linkage().0.filter(|_| v.has_parent).map(|g| (g.0, g.to_string())),
        }
    }

    /// True when `parent` is the disk this differencing disk names as its parent (for a VHDX,
    /// by `parent_linkage` or `parent_linkage2`).
    pub fn parent_matches(&self, parent: &Layer) -> bool {
        self.parent_ids().contains(&parent.link_id())
    }

    /// The [`Layer::link_id`]s this disk takes as its parent's: [`Layer::parent_link`]'s, and a
    /// differencing VHDX's `parent_linkage2`; none for a disk without a parent.
    pub fn parent_ids(&self) -> Vec<[u8; 16]> {
        let mut ids: Vec<[u8; 16]> = self.parent_link().map(|(id, _)| id).into_iter().collect();
        if let Image::Vhdx(v) = &self.image {
            ids.extend(v.parent_linkage().1.filter(|_| v.has_parent).map(|g| g.0));
        }
        ids
    }

    /// The disk's type.
    pub fn disk_type(&self) -> DiskType {
        match &self.image {
            Image::Vhd(v) => v.disk_type(),
            Image::Vhdx(v) => v.disk_type(),
        }
    }

    /// The virtual disk's size in bytes (a VHD's `current size`, a VHDX's `VirtualDiskSize`).
    pub fn size(&self) -> u64 {
        match &self.image {
            Image::Vhd(v) => v.size(),
            Image::Vhdx(v) => v.virtual_disk_size,
        }
    }

    /// Where the virtual size is recorded in the file (a VHD's footer `current size`, a VHDX's
    /// `VirtualDiskSize` item), for findings and errors about it.
    pub fn size_offset(&self) -> u64 {
        match &self.image {
            Image::Vhd(v) => v.footer.offset + vhd::footer::off::CURRENT_SIZE as u64,
            Image::Vhdx(v) => v.virtual_disk_size_offset(),
        }
    }

    /// Where the disk's type is recorded in the file (a VHD's footer `disk type`, a VHDX's file
    /// parameters item, or its metadata table's offset when it has none).
    pub fn disk_type_offset(&self) -> u64 {
        match &self.image {
            Image::Vhd(v) => v.footer.offset + vhd::footer::off::DISK_TYPE as u64,
            Image::Vhdx(v) => {
                v.items.iter().find(|i| i.entry.item_id == vhdx::format::ITEM_FILE_PARAMETERS).map_or(v.metadata_table.offset, |i| i.offset)
            }
        }
    }

    /// The cylinder/head/sector geometry a guest sees: a VHD's footer's; for a VHDX, which
    /// records none, the one the VHD spec derives from its size.
    pub fn geometry(&self) -> Geometry {
        match &self.image {
            Image::Vhd(v) => v.footer.value.geometry,
            Image::Vhdx(v) => Geometry::for_size(v.virtual_disk_size),
        }
    }

    /// Where the block table is and how much of it was read: a VHD's BAT (4-byte entries), a
    /// VHDX's (8-byte entries, payload and sector bitmap blocks); `None` for a fixed VHD.
    pub fn bat_range(&self) -> Option<ByteRange> {
        match &self.image {
            Image::Vhd(v) => v.bat_range,
            Image::Vhdx(v) => Some(ByteRange::new(v.bat_offset, v.bat.len() as u64 * 8)),
        }
    }

    /// Bytes of sector bitmap before each block's data in the file: a VHD's; 0 for a fixed VHD
    /// and for a VHDX, whose sector bitmaps are in blocks of their own.
    pub fn bitmap_before_data(&self) -> u64 {
        match &self.image {
            Image::Vhd(v) => v.block_geometry().map_or(0, |g| g.bitmap_size),
            Image::Vhdx(_) => 0,
        }
    }

    /// True when a sector bitmap's bits run from the least significant of each byte (a VHDX),
    /// false when from the most significant (a VHD).
    pub fn bitmap_lsb_first(&self) -> bool {
        match &self.image {
            Image::Vhd(_) => false,
            Image::Vhdx(_) => true,
        }
    }

    /// Where the field naming the parent is: a VHD's `parent unique id` in its dynamic header,
    /// a VHDX's parent locator item; `None` when there is none.
    pub fn parent_link_offset(&self) -> Option<u64> {
        match &self.image {
            Image::Vhd(v) => v.header.as_ref().map(|h| h.offset + vhd::header::off::PARENT_UNIQUE_ID as u64),
            Image::Vhdx(v) => v.parent_locator.as_ref().map(|l| l.offset),
        }
    }

    /// Bytes of data per block; `None` for a fixed VHD, which has no blocks.
    pub fn block_size(&self) -> Option<u64> {
        match &self.image {
            Image::Vhd(v) => v.block_geometry().map(|g| g.block_size),
            Image::Vhdx(v) => Some(u64::from(v.block_size)),
        }
    }

    /// The logical sector size the guest sees: a VHDX's `LogicalSectorSize` (512 or 4096),
    /// always 512 for a VHD.
    pub fn logical_sector_size(&self) -> u32 {
        match &self.image {
            Image::Vhd(_) => 512,
            Image::Vhdx(v) => v.logical_sector_size,
        }
    }

    /// Number of blocks whose data is in the file (a VHD's allocated blocks, a VHDX's fully
    /// and partially present payload blocks).
    pub fn allocated_blocks(&self) -> u64 {
        match &self.image {
            Image::Vhd(v) => v.allocated_blocks(),
            Image::Vhdx(v) => v.allocated_blocks(),
        }
    }

    /// The indices of the blocks whose data is in the file, ascending.
    pub fn blocks_with_data(&self) -> Vec<u64> {
        match &self.image {
            Image::Vhd(v) => vhd::allocated_entries(&v.bat).map(|(i, _)| i as u64).collect(),
            Image::Vhdx(v) => (0..v.payload_blocks_in_bat()).filter(|b| v.block(*b).0.has_data()).collect(),
        }
    }

    /// The layout of a copy of this layer in its own format that keeps its identity and parent
    /// link (what `compact` and `resize` write): a VHD's footer, parent link and locators; a
    /// VHDX's sector sizes, `DataWriteGuid`, page 83 id and parent locator. Its blocks are the
    /// layer's, or of `block_size` bytes (checked for the format; a fixed VHD has none, and its
    /// copy's stretches are 1 MiB); its size the layer's, or
    /// `size` (a resized copy). A fixed VHD's copy is its bytes and footer
    /// ([`crate::newdisk::FlatLayout`]), a fixed VHDX's has every block placed.
    pub fn copy_layout(&self, block_size: Option<u64>, size: Option<u64>) -> Result<Box<dyn crate::newdisk::NewLayout>> {
        match &self.image {
            Image::Vhd(v) if v.disk_type() == DiskType::Fixed => {
                let footer = vhd::writer::resized_identity(v, size.unwrap_or(v.size())).footer;
                Ok(Box::new(crate::newdisk::FlatLayout::new(size.unwrap_or(v.size()), Some(footer))))
            }
            Image::Vhd(v) => Ok(Box::new(vhd::writer::copy_layout(v, block_size, size)?)),
            Image::Vhdx(v) => {
                let bs = block_size.map(|b| u32::try_from(b).map_err(|_| WriteError::VhdxBlockSize { block_size: b })).transpose()?;
                Ok(Box::new(vhdx::layout::VhdxLayout::new(vhdx::layout::copy_params(v, bs, size))?))
            }
        }
    }

    /// How block `block` is read; for a fixed VHD, which has no blocks, from below.
    pub fn block_read(&self, block: u64) -> BlockRead {
        match &self.image {
            Image::Vhd(v) => v.block_read(block),
            Image::Vhdx(v) => v.block_read(block),
        }
    }

    /// Plans `[start, stop)` of this layer (within its size) into `p`: what the layer holds,
    /// what reads as zeros, and what is left for the layer below. Called once per layer and
    /// range: the format's planner steps through its blocks.
    pub(crate) fn plan_range<S: Sink>(&self, p: &mut LayerPlan<'_, S>, start: u64, stop: u64) {
        match &self.image {
            Image::Vhd(v) => v.plan_range(p, start, stop),
            Image::Vhdx(v) => v.plan_range(p, start, stop),
        }
    }

    /// Blocks the deep check does not read: a VHD's blocks that start inside a block laid out
    /// before them in the file (none for a VHDX).
    pub(crate) fn overlapped_blocks(&self) -> std::collections::HashSet<u64> {
        match &self.image {
            Image::Vhd(v) => v.overlapped_blocks(),
            Image::Vhdx(_) => Default::default(),
        }
    }

    /// What the deep check does at `c`'s block of this layer: a read, or move on.
    pub(crate) fn check_next(&self, c: &mut LayerCheck) -> CheckNext {
        match &self.image {
            Image::Vhd(v) => v.check_next(c, self.data_end),
            Image::Vhdx(v) => v.check_next(c, self.file_len),
        }
    }

    /// Takes the bytes of the read [`Layer::check_next`] asked for.
    pub(crate) fn check_provide(&self, c: &mut LayerCheck, bytes: &[u8]) {
        match &self.image {
            Image::Vhd(v) => v.check_provide(c, bytes),
            Image::Vhdx(v) => v.check_provide(c, bytes),
        }
    }

    /// The format's part of the layer's summary (see [`crate::info::layer_info`]).
    pub(crate) fn format_info(&self) -> FormatInfo {
        match &self.image {
            Image::Vhd(v) => {
                let (vhd, dynamic, fields) = v.info();
                FormatInfo { format: "vhd", vhd: Some(vhd), dynamic, vhdx: None, fields }
            }
            Image::Vhdx(v) => {
                let vhdx = v.info();
                let fields = vhdx.structures.iter().flat_map(|s| s.fields.iter().cloned()).collect();
                FormatInfo { format: "vhdx", vhd: None, dynamic: None, vhdx: Some(vhdx), fields }
            }
        }
    }

    /// Checks that `parent` is the parent this layer (layer `i` of a chain) names, adding what
    /// was noticed to `findings`; an error when it is not (unless `force`), when this layer has
    /// no parent, or when the two are not of one format.
    pub fn check_parent(&self, i: usize, parent: &Layer, force: bool, findings: &mut Vec<Finding>) -> Result<()> {
        match (&self.image, &parent.image) {
            (Image::Vhd(c), Image::Vhd(p)) => vhd::check_parent(i, c, p, force, findings),
            (Image::Vhdx(c), Image::Vhdx(p)) => vhdx::check_parent(i, c, p, force, findings),
            (Image::Vhd(_), _) => Err(Error::MixedFormats { layer: i, child: "VHD", parent: "VHDX" }),
            (Image::Vhdx(_), _) => Err(Error::MixedFormats { layer: i, child: "VHDX", parent: "VHD" }),
        }
    }

    /// The block table as a map draws it: per block its state and place in the file (empty for
    /// a fixed VHD, which has no blocks).
    pub fn block_table(&self) -> BlockTable {
        match &self.image {
            Image::Vhd(v) => v.block_table(),
            Image::Vhdx(v) => v.block_table(),
        }
    }

    /// Findings, with every one of them marked as being about layer `index` of a chain.
    pub fn findings_as_layer(&self, index: usize) -> Vec<Finding> {
        self.findings
            .iter()
            .cloned()
            .map(|mut f| {
                f.layer = index;
                f
            })
            .collect()
    }

    /// Candidate paths of the parent, most trustworthy first, with `/` as separator.
    pub fn parent_candidates(&self) -> Vec<String> {
        match &self.image {
            Image::Vhd(v) => v.parent_candidates(),
            Image::Vhdx(v) => v.parent_candidates(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::ReadAt;
    use crate::vhd::writer::{BlockOrder, DiskBuilder};

    fn vhd(l: &Layer) -> &Vhd {
        l.vhd().expect("a VHD")
    }

    fn open_from(file: &[u8], chunks: &[ByteRange]) -> Layer {
        let mut opener = Opener::new(file.len() as u64);
        for r in chunks {
            opener.provide(r.offset, file[r.offset as usize..r.end() as usize].to_vec());
        }
        loop {
            match opener.poll().unwrap() {
                Poll::Ready(layer) => return *layer,
                Poll::Need(ranges) => {
                    for r in ranges {
                        opener.provide_with(r.offset, r.len as usize, |b| file.read_at(r.offset, b)).unwrap();
                    }
                }
            }
        }
    }

    /// Drives an opener round by round; returns what `structures()` said after each round.
    fn rounds(file: &[u8]) -> (Vec<Option<Layer>>, Layer) {
        let mut opener = Opener::new(file.len() as u64);
        let mut seen = Vec::new();
        loop {
            match opener.poll().unwrap() {
                Poll::Ready(layer) => return (seen, *layer),
                Poll::Need(ranges) => {
                    seen.push(opener.structures());
                    for r in ranges {
                        opener.provide_with(r.offset, r.len as usize, |b| file.read_at(r.offset, b)).unwrap();
                    }
                }
            }
        }
    }

    #[test]
    fn structures_come_before_the_bat_of_a_dynamic_disk_and_with_the_locators_of_a_child() {
        let mut b = DiskBuilder::dynamic(64 << 20, 2 << 20);
        b.write(5 << 20, &[1; 512]);
        let parent = b.build();
        // Dynamic: footers, header, then the BAT; the structures are known in the BAT's round.
        let (seen, layer) = rounds(&parent);
        assert_eq!(seen.len(), 3);
        assert!(seen[0].is_none() && seen[1].is_none());
        let early = seen[2].as_ref().expect("the structures in the round that reads the BAT");
        assert!(vhd(early).bat.is_empty());
        assert_eq!(vhd(early).footer, vhd(&layer).footer);
        assert_eq!(vhd(early).header, vhd(&layer).header);
        assert_eq!(vhd(early).bat_range, vhd(&layer).bat_range);
        let info = |l: &Layer| serde_json::to_value(crate::info::layer_info(l, "p.vhd")).unwrap();
        let (e, f) = (info(early), info(&layer));
        for k in ["fields", "footer_copy", "parent_locators", "header_checksum_valid", "checksum_valid"] {
            assert_eq!(e[k], f[k], "{k}");
        }
        // Differencing: its locators' data come with the BAT, so the structures come with the layer.
        let mut c = DiskBuilder::differencing(&b.parent_ref("p.vhd"), 2 << 20);
        c.write(0, &[2; 512]);
        let (seen, layer) = rounds(&c.build());
        assert!(seen.iter().all(Option::is_none));
        assert!(!vhd(&layer).locators.is_empty());
        // A fixed disk is open after one round.
        let (seen, _) = rounds(&DiskBuilder::fixed(1 << 20).build());
        assert_eq!(seen.len(), 1);
        assert!(seen[0].is_none());
    }

    #[test]
    fn the_bat_taken_in_place_equals_the_bat_decoded_from_a_larger_chunk() {
        let mut b = DiskBuilder::dynamic(64 << 20, 2 << 20);
        b.block_order(BlockOrder::Descending);
        for block in [0u64, 3, 4, 17, 31] {
            b.write(block * (2 << 20) + 512, &[0xa5; 512]);
        }
        let mut file = b.build();
        // Damage the BAT so that the block checks find something: entry 1 past the end of the
        // file, entry 2 on the block of entry 0.
        let bat_at = u64::from_be_bytes(file[512 + 16..512 + 24].try_into().unwrap()) as usize;
        let first: [u8; 4] = file[bat_at..bat_at + 4].try_into().unwrap();
        file[bat_at + 4..bat_at + 8].copy_from_slice(&0x0fff_0000u32.to_be_bytes());
        file[bat_at + 8..bat_at + 12].copy_from_slice(&first);
        // Asked range by asked range: the BAT's chunk becomes the entries.
        let taken = open_from(&file, &[]);
        // The whole file in one chunk: the entries are decoded from inside it.
        let decoded = open_from(&file, &[ByteRange::new(0, file.len() as u64)]);
        assert_eq!(vhd(&taken).bat, vhd(&decoded).bat);
        assert_eq!(vhd(&taken).bat.len(), 32);
        assert_eq!(taken.allocated_blocks(), 7);
        assert_eq!(vhd(&taken).out_of_order_count(), vhd(&taken).out_of_order_blocks().iter().filter(|b| **b).count() as u64);
        let codes = |l: &Layer| l.findings.iter().map(|f| (f.code, f.offset)).collect::<Vec<_>>();
        assert_eq!(codes(&taken), codes(&decoded));
        for code in ["block-past-eof", "blocks-overlap"] {
            assert!(taken.findings.iter().any(|f| f.code == code), "{code}: {:?}", codes(&taken));
        }
    }

    #[test]
    fn a_vhdx_block_table_is_its_payload_blocks_in_their_states_past_2_tib() {
        use crate::image::BlockState;
        use crate::reader::open_layer;
        // 3 TiB of 1 MiB blocks: one written 2.5 TiB in, three forced to other states.
        let at = (5u64 << 39) + (3 << 20);
        let mut b = crate::vhdx::writer::VhdxBuilder::new(3 << 40).write(at, &[7; 4096]);
        b.states = vec![(1, BlockState::Zero), (2, BlockState::Unmapped), (3, BlockState::Undefined)];
        let file = b.build();
        let t = open_layer(&file).unwrap().block_table();
        assert_eq!(t.blocks, 3 << 20);
        let block = usize::try_from(at >> 20).unwrap();
        assert_eq!(t.states[block], 6);
        let data = usize::try_from(u64::from(t.offsets[block]) * u64::from(t.unit)).unwrap();
        assert_eq!(file[data..data + 4096], [7; 4096]);
        assert_eq!(t.states[1..4], [2, 3, 1]);
        assert_eq!(
            t.legend,
            vec![(0, "not present", (3 << 20) - 4), (1, "undefined", 1), (2, "zero", 1), (3, "unmapped", 1), (6, "fully present", 1)]
        );
        assert!(t.out_of_order.is_empty());
    }

    #[test]
    fn a_vhd_block_table_is_its_bat() {
        let mut b = DiskBuilder::dynamic(64 << 20, 2 << 20);
        b.block_order(BlockOrder::Descending);
        for block in [0u64, 3, 17] {
            b.write(block * (2 << 20), &[0xa5; 512]);
        }
        let layer = open_from(&b.build(), &[]);
        let (v, t) = (vhd(&layer), layer.block_table());
        assert_eq!((t.blocks, t.unit, u64::from(t.bitmap_before)), (32, 512, v.block_geometry().unwrap().bitmap_size));
        for i in 0..32u64 {
            let k = i as usize;
            assert_eq!(t.states[k] == 6, v.block_offset(i).is_some(), "block {i}");
            assert_eq!(v.block_offset(i).unwrap_or(0), u64::from(t.offsets[k]) * 512);
        }
        assert_eq!(t.out_of_order, v.out_of_order_blocks().into_iter().map(u8::from).collect::<Vec<_>>());
        assert_eq!(t.legend, vec![(0, "not allocated", 29), (6, "stored in the file", 3)]);
    }
}
