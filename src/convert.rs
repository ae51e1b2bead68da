//! `convert` (and `merge`): the disk read through its whole chain, or through the part of it
//! below some layer, written as one new standalone disk: raw bytes, a fixed or dynamic VHD, or a
//! fixed or dynamic VHDX, whose blocks are allocated only where the disk holds non-zero data.
//! With a [`FreeRanges`], what the file systems mark free is written as zeros (and so not
//! allocated).
//!
//! Like the rest of the core it does no file handling of its own: it reads through a
//! [`DiskReader`] and writes through a [`WriteAt`], streaming, so that memory stays flat
//! whatever the disk's size (a 1 MiB buffer, plus the new BAT). Where the blocks go is the
//! format's [`NewLayout`], made by [`new_layout`].
//!
//! ```
//! use vhd_viewer::convert::{convert, new_layout, Format, NewDisk};
//! use vhd_viewer::reader::{open_layer, DiskReader, ReadAt};
//! use vhd_viewer::vhd::writer::DiskBuilder;
//! use vhd_viewer::Disk;
//! let mut d = DiskBuilder::dynamic(8 << 20, 2 << 20);
//! d.write(5 << 20, &[7; 512]).write(0, &[0; 4096]);
//! let file = d.build();
//! let disk = Disk::new(vec![open_layer(&file).unwrap()], false).unwrap();
//! let mut reader = DiskReader::new(&disk, vec![&file as &dyn ReadAt]).unwrap();
//! let mut layout = new_layout(&disk, Format::Dynamic, 2 << 20, 512, &NewDisk::default()).unwrap();
//! let mut out = Vec::new();
//! let done = convert(&mut reader, layout.as_mut(), &mut out, None, &mut |_, _| {}).unwrap();
//! // Block 0 was allocated but holds only zeros: the new disk allocates block 2 alone.
//! assert_eq!((done.blocks, done.blocks_allocated), (4, 1));
//! ```

use crate::check::Progress;
use crate::disk::{Disk, Source, Steps};
use crate::error::{Result, WriteError};
use crate::image::DiskType;
use crate::newdisk::{finish_into, FlatLayout, NewLayout};
use crate::parts::{Scheme, Table};
use crate::reader::{missing_error, DiskReader, ReadAt};
use crate::trim::FreeRanges;
use crate::values::{FourCc, Timestamp, Uuid};
use crate::vhd::footer::{self, Footer, FILE_FORMAT_VERSION, FOOTER_COOKIE, FOOTER_SIZE, NO_DATA_OFFSET};
use crate::vhd::geometry::Geometry;
use crate::vhd::writer::{SparseLayout, WriteAt};
use crate::vhd::MAX_DISK_SIZE;
use crate::vhdx::encode::next_file_write_guid;
use crate::vhdx::layout::{VhdxLayout, VhdxParams};
use crate::vhdx::Guid;

/// The most bytes read or written at once.
pub use crate::image::BUF;

/// What `convert` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The virtual disk's bytes, as `cat` gives them.
    Raw,
    /// A fixed VHD: the bytes, then a footer.
    Fixed,
    /// A dynamic VHD allocating only blocks that hold non-zero data.
    Dynamic,
    /// A dynamic VHDX allocating only blocks that hold non-zero data.
    Vhdx,
    /// A fixed VHDX: every block allocated (`LeaveBlocksAllocated`).
    VhdxFixed,
}

impl Format {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Raw => "raw",
            Format::Fixed => "fixed",
            Format::Dynamic => "dynamic",
            Format::Vhdx => "vhdx",
            Format::VhdxFixed => "vhdx-fixed",
        }
    }

    /// The format of this name (`raw`, `fixed`, `dynamic`, `vhdx`, `vhdx-fixed`).
    pub fn from_name(name: &str) -> Option<Format> {
        [Format::Raw, Format::Fixed, Format::Dynamic, Format::Vhdx, Format::VhdxFixed].into_iter().find(|f| f.name() == name)
    }

    /// True for the VHDX formats.
    pub fn is_vhdx(self) -> bool {
        matches!(self, Format::Vhdx | Format::VhdxFixed)
    }
}

/// What is chosen for a new disk: its identity, a unique id and time stamp (the caller picks
/// them: the command line a random id and the current time; a VHDX's `DataWriteGuid` is the
/// unique id, its `FileWriteGuid` and page 83 id are derived from it), and its size when it is
/// to be larger than the disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewDisk {
    /// The new disk's unique id.
    pub unique_id: Uuid,
    /// Its time stamp.
    pub timestamp: Timestamp,
    /// Its virtual size, at least the disk's: the bytes past the disk's end read as zeros (never
    /// read from the input, never written). A VHD then has the geometry the spec's algorithm
    /// gives for this size, as Hyper-V fills it. `None`: the disk's own size, and a VHD the
    /// newest layer's geometry.
    pub size: Option<u64>,
}

impl NewDisk {
    /// A new disk of `disk` fit for Azure (`convert --for azure`, the page's "Save an
    /// Azure-ready copy…"): a fixed VHD ([`Format::Fixed`]) of [`crate::fit::azure_size`] of the
    /// disk's size, with this identity.
    pub fn for_azure(disk: &Disk, unique_id: Uuid, timestamp: Timestamp) -> NewDisk {
        NewDisk { unique_id, timestamp, size: Some(crate::fit::azure_size(disk.size())) }
    }
}

/// What a conversion wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Converted {
    /// `raw`, `vhd` or `vhdx`.
    pub format: &'static str,
    /// The new disk's virtual size.
    pub size: u64,
    /// The size of the disk read (less than [`Converted::size`] when zeros were added at the
    /// end, [`NewDisk::size`]).
    pub disk_size: u64,
    /// The length of the new file.
    pub file_len: u64,
    /// Bytes of non-zero data written (in whole pieces of at most 1 MiB, or extents: a piece
    /// holding any non-zero byte counts whole).
    pub data_bytes: u64,
    /// Bytes of data written as zeros because a file system marks them free.
    pub bytes_free: u64,
    /// Blocks of the new disk (its BAT's payload entries; stretches of 1 MiB for raw and
    /// fixed VHD output).
    pub blocks: u64,
    /// Of those, the blocks allocated (written to, for raw and fixed VHD output).
    pub blocks_allocated: u64,
}

/// The footer of a new standalone disk: `geometry` (what a guest sees), sizes set to `size`,
/// this program as the creator, and the new identity.
pub fn new_footer(geometry: Geometry, disk_type: DiskType, size: u64, new: &NewDisk) -> Vec<u8> {
    let f = Footer {
        raw: vec![0; FOOTER_SIZE as usize],
        cookie: *FOOTER_COOKIE,
        features: 2,
        file_format_version: FILE_FORMAT_VERSION,
        data_offset: if disk_type == DiskType::Fixed { NO_DATA_OFFSET } else { FOOTER_SIZE },
        timestamp: new.timestamp,
        creator_application: FourCc(*b"vhdv"),
        creator_version: 0x0001_0000,
        creator_host_os: FourCc(*b"Wi2k"),
        original_size: size,
        current_size: size,
        geometry,
        disk_type,
        checksum: 0,
        unique_id: new.unique_id,
        saved_state: 0,
        computed_checksum: 0,
    };
    footer::encode(&f)
}

/// Refuses a VHD of `size` bytes past the 2040 GiB a VHD may hold, naming the disk's size field
/// at `offset`. [`new_layout`] checks it; the page asks it before offering an Azure-ready copy.
pub fn check_vhd_size(size: u64, offset: u64) -> Result<()> {
    if size > MAX_DISK_SIZE {
        return Err(WriteError::TooLargeForVhd { offset, size }.into());
    }
    Ok(())
}

/// Refuses a copy with logical sectors of `sector_size` bytes of a disk whose partition table
/// `table` counts in sectors of another size: an MBR with partitions, or a GPT (its header is in
/// sector 1), would name the wrong bytes in the copy. [`Format::Raw`] has no sectors of its own
/// and needs no check. The command line's `convert` and the page's "Save as…" ask it before
/// writing.
pub fn check_sector_size(table: &Table, sector_size: u32) -> Result<()> {
    let name = match table.scheme {
        Scheme::Gpt => "GPT",
        Scheme::Mbr if !table.partitions.is_empty() => "MBR",
        _ => return Ok(()),
    };
    if table.sector_size == sector_size {
        return Ok(());
    }
    let offset = if table.scheme == Scheme::Gpt { u64::from(table.sector_size) } else { 0 };
    let first = table.partitions.iter().map(|p| p.offset()).min();
    Err(WriteError::SectorSizeChange { table: name, offset, from: table.sector_size, to: sector_size, first }.into())
}

/// The layout of a new standalone copy of `disk` in `format`: `block_size` for dynamic VHD
/// (checked by [`crate::vhd::writer::check_block_size`]) and VHDX output (both VHDX formats; a
/// power of two from 1 MiB to 256 MiB), `sector_size` the logical sector size of a VHDX (512
/// or 4096; a VHD's is 512), `new` the identity and size. A VHD's geometry is the newest
/// layer's, or with a size given the spec's for that size. A size less than the disk's is
/// refused.
pub fn new_layout(disk: &Disk, format: Format, block_size: u32, sector_size: u32, new: &NewDisk) -> Result<Box<dyn NewLayout>> {
    let size = new.size.unwrap_or(disk.size());
    if size < disk.size() {
        return Err(WriteError::SizeBelowDisk { offset: disk.layers[0].size_offset(), size, disk_size: disk.size() }.into());
    }
    let template = if new.size.is_some() { Geometry::for_size(size) } else { disk.layers[0].geometry() };
    if matches!(format, Format::Fixed | Format::Dynamic) {
        check_vhd_size(size, disk.layers[0].size_offset())?;
    }
    Ok(match format {
        Format::Raw => Box::new(FlatLayout::new(size, None)),
        Format::Fixed => Box::new(FlatLayout::new(size, Some(new_footer(template, DiskType::Fixed, size, new)))),
        Format::Dynamic => {
            let bs = crate::vhd::writer::check_block_size(size, u64::from(block_size))?;
            Box::new(SparseLayout::new(&new_footer(template, DiskType::Dynamic, size, new), bs, None, &[]))
        }
        Format::Vhdx | Format::VhdxFixed => {
            let data_write_guid = Guid(new.unique_id.0);
            Box::new(VhdxLayout::new(VhdxParams {
                size,
                block_size,
                logical_sector_size: sector_size,
                physical_sector_size: 4096,
                fixed: format == Format::VhdxFixed,
                data_write_guid,
                // Derived from the new id, each its own.
                file_write_guid: next_file_write_guid(data_write_guid, 1),
                page83: next_file_write_guid(data_write_guid, 0x83),
                parent_locator: None,
            })?)
        }
    })
}

/// Streams the disk's non-zero data: `each(virtual offset, bytes)` for every piece of at most
/// [`BUF`] bytes read from a layer's file that holds a non-zero byte, in ascending order, never
/// crossing a multiple of `align` (a power of two; the output's block size). Zero-filled
/// stretches, and pieces read that hold only zeros, are skipped; with `trim`, the bytes of a
/// piece that a file system marks free are zeroed first (`each` may change the bytes too). A
/// part of the disk that cannot be read (a missing parent, a file cut short) is an error naming
/// it.
pub fn for_each_data(
    reader: &mut DiskReader<'_>,
    align: u64,
    mut trim: Option<&mut dyn FreeRanges>,
    progress: Progress<'_>,
    mut each: impl FnMut(u64, &mut [u8], u64) -> Result<()>,
) -> Result<()> {
    let disk = reader.disk;
    let sources: Vec<&dyn ReadAt> = reader.sources().to_vec();
    let size = disk.size();
    let chunk = disk.chunk_size().max(BUF as u64);
    // A stretch that no layer allocates is one step, however large the disk says it is.
    let steps = Steps::new(disk);
    let mut buf = vec![0u8; BUF];
    let mut extents = Vec::new();
    let mut free = Vec::new();
    let mut pos = 0;
    while pos < size {
        let stop = pos.saturating_add(chunk).min(size).max(steps.end(disk, pos, size));
        extents.clear();
        reader.for_each_extent(pos, stop - pos, |e| {
            extents.push(e);
            Ok(())
        })?;
        for e in &extents {
            match e.source {
                Source::Zero => {}
                Source::Missing { .. } => return Err(missing_error(disk, e)),
                Source::Data { layer, file_offset } => {
                    let mut done = 0;
                    while done < e.len {
                        let v = e.offset + done;
                        let to_boundary = align - v % align;
                        let n = (e.len - done).min(BUF as u64).min(to_boundary) as usize;
                        let piece = &mut buf[..n];
                        reader.read_file(layer, file_offset + done, piece)?;
                        let mut freed = 0;
                        if let Some(t) = trim.as_deref_mut() {
                            free.clear();
                            t.free_in(disk, &sources, v, v + n as u64, &mut free)?;
                            for &(s, end) in &free {
                                let (s, end) = (s.max(v) - v, end.min(v + n as u64) - v);
                                if s < end {
                                    piece[s as usize..end as usize].fill(0);
                                    freed += end - s;
                                }
                            }
                        }
                        if piece.iter().any(|b| *b != 0) {
                            each(v, piece, freed)?;
                        } else if freed > 0 {
                            each(v, &mut [], freed)?;
                        }
                        done += n as u64;
                    }
                }
            }
        }
        pos = stop;
        progress(pos, size);
    }
    Ok(())
}

/// Writes the disk `reader` reads as one new standalone disk laid out by `layout` (from
/// [`new_layout`]); with `trim`, what the file systems mark free as zeros. The output must
/// start empty: zero stretches are left unwritten, and so is a new disk's tail past the disk's
/// end (only the disk's own bytes are read).
pub fn convert(
    reader: &mut DiskReader<'_>,
    layout: &mut dyn NewLayout,
    out: &mut dyn WriteAt,
    trim: Option<&mut dyn FreeRanges>,
    progress: Progress<'_>,
) -> Result<Converted> {
    let disk_size = reader.disk.size();
    if layout.size() < disk_size {
        return Err(WriteError::SizeBelowDisk { offset: reader.disk.layers[0].size_offset(), size: layout.size(), disk_size }.into());
    }
    let bs = layout.block_size();
    let (mut data_bytes, mut bytes_free) = (0, 0);
    let mut current: Option<(u64, u64)> = None;
    for_each_data(reader, bs, trim, progress, |at, bytes, freed| {
        bytes_free += freed;
        if bytes.is_empty() {
            return Ok(());
        }
        data_bytes += bytes.len() as u64;
        let block = at / bs;
        let start = match current {
            Some((b, start)) if b == block => start,
            _ => {
                let start = layout.place(block, out)?;
                current = Some((block, start));
                start
            }
        };
        out.write_at(start + at % bs, bytes)
    })?;
    finish_into(layout, out)?;
    Ok(Converted {
        format: layout.format(),
        size: layout.size(),
        disk_size,
        file_len: layout.file_len(),
        data_bytes,
        bytes_free,
        blocks: layout.blocks(),
        blocks_allocated: layout.placed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::flatten;
    use crate::reader::open_layer;
    use crate::vhd::writer::DiskBuilder;

    fn run_with(files: &[Vec<u8>], format: Format, bs: u32, ss: u32, trim: Option<&mut dyn FreeRanges>) -> (Vec<u8>, Converted) {
        let layers = files.iter().map(|f| open_layer(f).unwrap()).collect();
        let disk = Disk::new(layers, false).unwrap();
        let mut r = DiskReader::new(&disk, files.iter().map(|f| f as &dyn ReadAt).collect()).unwrap();
        let mut out = Vec::new();
        let new = NewDisk { unique_id: crate::vhd::writer::uuid_from_seed(9), timestamp: Timestamp(1), size: None };
        let mut layout = new_layout(&disk, format, bs, ss, &new).unwrap();
        let done = convert(&mut r, layout.as_mut(), &mut out, trim, &mut |_, _| {}).unwrap();
        (out, done)
    }

    fn run(files: &[Vec<u8>], format: Format, bs: u32) -> (Vec<u8>, Converted) {
        run_with(files, format, bs, 512, None)
    }

    fn chain() -> [Vec<u8>; 2] {
        let mut base = DiskBuilder::dynamic(6 << 20, 1 << 20);
        base.write(0, &[1; 2048]).write(3 << 20, &[2; 512]).write(4 << 20, &[0; 4096]);
        let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 512 << 10);
        child.write(1024, &[3; 512]).write((5 << 20) + 512, &[4; 1024]).write(3 << 20, &[0; 512]);
        [child.build(), base.build()]
    }

    fn clean(file: &dyn ReadAt) {
        let layer = open_layer(file).unwrap();
        let bad: Vec<_> = layer.findings.iter().filter(|f| f.severity > crate::Severity::Info).collect();
        assert!(bad.is_empty(), "{bad:?}");
    }

    #[test]
    fn a_chain_flattens_to_the_same_bytes_in_every_format() {
        let files = chain();
        let want = flatten(&files);
        let (raw, _) = run(&files, Format::Raw, 0);
        assert!(raw == want);
        let (fixed, _) = run(&files, Format::Fixed, 0);
        assert_eq!(fixed.len(), want.len() + 512);
        assert!(flatten(&[fixed]) == want);
        for bs in [512u32, 4096, 1 << 20, 2 << 20, 8 << 20] {
            let (dynamic, done) = run(&files, Format::Dynamic, bs);
            assert!(flatten(std::slice::from_ref(&dynamic)) == want, "block size {bs}");
            clean(&dynamic);
            // Allocated: exactly the blocks holding a non-zero byte.
            let nonzero = want.chunks(bs as usize).filter(|c| c.iter().any(|b| *b != 0)).count() as u64;
            assert_eq!(done.blocks_allocated, nonzero, "block size {bs}");
            assert_eq!(open_layer(&dynamic).unwrap().allocated_blocks(), nonzero);
        }
    }

    #[test]
    fn a_chain_flattens_to_a_vhdx_of_either_sector_size() {
        let files = chain();
        let want = flatten(&files);
        for (format, bs, ss) in [(Format::Vhdx, 1u32 << 20, 512u32), (Format::Vhdx, 2 << 20, 4096), (Format::VhdxFixed, 1 << 20, 4096)] {
            let (vhdx, done) = run_with(&files, format, bs, ss, None);
            clean(&vhdx);
            let layer = open_layer(&vhdx).unwrap();
            assert_eq!((layer.format(), layer.logical_sector_size(), layer.block_size()), ("vhdx", ss, Some(u64::from(bs))));
            assert_eq!(layer.disk_type(), if format == Format::VhdxFixed { DiskType::Fixed } else { DiskType::Dynamic });
            assert_eq!(layer.link_id(), crate::vhd::writer::uuid_from_seed(9).0);
            assert!(flatten(std::slice::from_ref(&vhdx)) == want, "{format:?} {bs} {ss}");
            let nonzero = want.chunks(bs as usize).filter(|c| c.iter().any(|b| *b != 0)).count() as u64;
            let all = want.len().div_ceil(bs as usize) as u64;
            assert_eq!(done.blocks_allocated, if format == Format::VhdxFixed { all } else { nonzero });
            assert_eq!(vhdx.len() as u64, done.file_len);
        }
    }

    #[test]
    fn free_space_is_written_as_zeros() {
        let files = chain();
        let mut want = flatten(&files);
        // Block 0 free but for its first 1024 bytes, block 3 wholly free.
        let free = vec![(1024, 1 << 20), (3 << 20, 4 << 20)];
        for (s, e) in &free {
            want[*s as usize..*e as usize].fill(0);
        }
        let (vhdx, done) = run_with(&files, Format::Vhdx, 1 << 20, 512, Some(&mut crate::newdisk::Listed(free)));
        assert!(flatten(std::slice::from_ref(&vhdx)) == want);
        // Blocks 0 and 5 hold data; 3 held only its 512 bytes of 2, now free.
        assert_eq!(done.blocks_allocated, 2);
        // Free data: block 0's sectors 2 and 3 (the base's 1s) and block 3's sector (the
        // child's zeros over the base's 2s); the rest of those blocks held no data.
        assert_eq!(done.bytes_free, 1024 + 512);
    }

    /// Records each write's range, and the length set.
    #[derive(Default)]
    struct Writes(Vec<(u64, u64)>, Vec<u8>);

    impl WriteAt for Writes {
        fn write_at(&mut self, offset: u64, bytes: &[u8]) -> Result<()> {
            self.0.push((offset, offset + bytes.len() as u64));
            WriteAt::write_at(&mut self.1, offset, bytes)
        }
        fn set_len(&mut self, len: u64) -> Result<()> {
            WriteAt::set_len(&mut self.1, len)
        }
    }

    fn converted_to(files: &[Vec<u8>], format: Format, bs: u32, ss: u32, new: &NewDisk) -> Result<(Writes, Converted)> {
        let layers = files.iter().map(|f| open_layer(f).unwrap()).collect();
        let disk = Disk::new(layers, false).unwrap();
        let mut r = DiskReader::new(&disk, files.iter().map(|f| f as &dyn ReadAt).collect()).unwrap();
        let mut out = Writes::default();
        let mut layout = new_layout(&disk, format, bs, ss, new)?;
        let done = convert(&mut r, layout.as_mut(), &mut out, None, &mut |_, _| {})?;
        Ok((out, done))
    }

    #[test]
    fn a_larger_size_adds_zeros_at_the_end_in_every_format() {
        let files = chain();
        let mut want = flatten(&files);
        let disk_size = want.len() as u64;
        // 6 MiB, made 9 MiB + 512 bytes: not a whole number of any block.
        let size = (9 << 20) + 512;
        want.resize(size as usize, 0);
        let new = NewDisk { unique_id: crate::vhd::writer::uuid_from_seed(3), timestamp: Timestamp(5), size: Some(size) };
        for (format, bs, ss) in [
            (Format::Raw, 0, 512),
            (Format::Fixed, 0, 512),
            (Format::Dynamic, 2 << 20, 512),
            (Format::Vhdx, 1 << 20, 512),
            (Format::Vhdx, 1 << 20, 4096),
        ] {
            if format == Format::Vhdx && ss == 4096 {
                // A VHDX's size is whole logical sectors.
                let e = converted_to(&files, format, bs, ss, &new).map(|_| ()).unwrap_err();
                assert_eq!(e.code(), "vhdx-size", "{e}");
                continue;
            }
            let (out, done) = converted_to(&files, format, bs, ss, &new).unwrap();
            assert_eq!((done.size, done.disk_size), (size, disk_size), "{format:?}");
            let file = out.1;
            assert_eq!(file.len() as u64, done.file_len, "{format:?}");
            if format == Format::Raw {
                assert!(file == want);
                continue;
            }
            clean(&file);
            let layer = open_layer(&file).unwrap();
            assert_eq!(layer.size(), size, "{format:?}");
            assert!(flatten(std::slice::from_ref(&file)) == want, "{format:?}");
            if format != Format::Vhdx {
                // The footer: both sizes the new one, the spec's geometry for it.
                let f = Footer::parse(&file[file.len() - 512..]);
                assert_eq!((f.current_size, f.original_size, f.geometry), (size, size, Geometry::for_size(size)), "{format:?}");
                assert_eq!(f.creator_application, FourCc(*b"vhdv"));
            }
            if format == Format::Fixed {
                assert_eq!(file.len() as u64, size + 512);
                // Nothing was written past the disk's end but the footer: the tail is the
                // file's length, set at the end.
                assert!(out.0.iter().all(|&(s, e)| e <= disk_size || (s, e) == (size, size + 512)), "{:?}", out.0);
            }
        }
    }

    #[test]
    fn azure_gets_a_whole_mib_of_at_least_20_mib() {
        use crate::fit::azure_size;
        const MIB: u64 = 1 << 20;
        assert_eq!(azure_size(0), 20 * MIB);
        assert_eq!(azure_size(20 * MIB - 512), 20 * MIB);
        assert_eq!(azure_size(20 * MIB + 512), 21 * MIB);
        // qemu-img create -f vpc -o subformat=fixed 100M: 1004/12/17, 104865792 bytes.
        assert_eq!(azure_size(104_865_792), 101 * MIB);
        assert_eq!(azure_size(100 * MIB), 100 * MIB);
        assert_eq!(azure_size(MAX_DISK_SIZE), MAX_DISK_SIZE);
        assert_eq!(azure_size(u64::MAX) % MIB, 0);
        // A 6 MiB chain: a fixed VHD of 20 MiB with the spec's geometry (40960 sectors: 17 per
        // track, 2409 cylinders x heads, 4 heads: 602 cylinders).
        let files = chain();
        let disk = Disk::new(files.iter().map(|f| open_layer(f).unwrap()).collect(), false).unwrap();
        let new = NewDisk::for_azure(&disk, crate::vhd::writer::uuid_from_seed(4), Timestamp(6));
        assert_eq!(new.size, Some(20 * MIB));
        let (out, done) = converted_to(&files, Format::Fixed, 0, 512, &new).unwrap();
        assert_eq!((done.format, done.size, out.1.len() as u64), ("vhd", 20 * MIB, 20 * MIB + 512));
        let f = Footer::parse(&out.1[out.1.len() - 512..]);
        assert_eq!((f.disk_type, f.geometry.to_string(), f.unique_id), (DiskType::Fixed, "602/4/17".to_string(), new.unique_id));
    }

    #[test]
    fn a_copy_in_other_sectors_than_its_table_counts_is_refused() {
        use crate::parts::{read, Sectors};
        // An MBR with one partition from sector 256 of 256 sectors, read as a disk of 4096-byte
        // sectors (byte 1 MiB) and of 512-byte sectors (byte 128 KiB).
        let mut disk = vec![0u8; 4 << 20];
        disk[446 + 4] = 0x07;
        disk[446 + 8..446 + 12].copy_from_slice(&256u32.to_le_bytes());
        disk[446 + 12..446 + 16].copy_from_slice(&256u32.to_le_bytes());
        disk[510..512].copy_from_slice(&[0x55, 0xAA]);
        let table = read(&mut Sectors { inner: disk.clone(), sector_size: 4096 }).unwrap();
        assert_eq!((table.scheme, table.partitions.len()), (Scheme::Mbr, 1));
        check_sector_size(&table, 4096).unwrap();
        let e = check_sector_size(&table, 512).unwrap_err();
        assert_eq!((e.code(), e.offset()), ("sector-size-change", Some(0)));
        let said = e.to_string();
        assert!(
            said.contains("MBR") && said.contains("at byte 1048576, at byte 131072") && said.contains("a VHD's sectors are 512 bytes"),
            "{said}"
        );
        let table = read(&mut Sectors { inner: disk.clone(), sector_size: 512 }).unwrap();
        check_sector_size(&table, 512).unwrap();
        let e = check_sector_size(&table, 4096).unwrap_err();
        assert!(e.to_string().contains("leave --sector-size out"), "{e}");
        // No partition, or no table: nothing is misread.
        disk[446 + 4] = 0;
        let table = read(&mut Sectors { inner: disk.clone(), sector_size: 4096 }).unwrap();
        assert!(table.partitions.is_empty());
        check_sector_size(&table, 512).unwrap();
        let table = read(&mut Sectors { inner: vec![0u8; 1 << 20], sector_size: 4096 }).unwrap();
        check_sector_size(&table, 512).unwrap();
    }

    #[test]
    fn a_size_below_the_disk_is_refused_before_anything_is_written() {
        let files = chain();
        let new = NewDisk { size: Some((6 << 20) - 512), ..NewDisk::default() };
        for format in [Format::Raw, Format::Fixed, Format::Dynamic, Format::Vhdx] {
            let e = converted_to(&files, format, 1 << 20, 512, &new).map(|_| ()).unwrap_err();
            assert_eq!((e.code(), e.offset()), ("size-below-disk", Some(open_layer(&files[0]).unwrap().size_offset())), "{e}");
            assert!(e.to_string().contains("resize"), "{e}");
        }
        // A layout made for a smaller disk is refused by convert too.
        let small = DiskBuilder::fixed(1 << 20).build();
        let small = Disk::new(vec![open_layer(&small).unwrap()], false).unwrap();
        let mut layout = new_layout(&small, Format::Raw, 0, 512, &NewDisk::default()).unwrap();
        let disk = Disk::new(files.iter().map(|f| open_layer(f).unwrap()).collect(), false).unwrap();
        let mut r = DiskReader::new(&disk, files.iter().map(|f| f as &dyn ReadAt).collect()).unwrap();
        let mut out = Writes::default();
        let e = convert(&mut r, layout.as_mut(), &mut out, None, &mut |_, _| {}).unwrap_err();
        assert_eq!(e.code(), "size-below-disk");
        assert!(out.0.is_empty());
    }

    #[test]
    fn a_missing_parent_is_an_error_naming_the_range() {
        let mut base = DiskBuilder::dynamic(4 << 20, 1 << 20);
        base.write(0, &[1; 512]);
        let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 1 << 20);
        child.write(512, &[3; 512]);
        let c = child.build();
        let disk = Disk::new(vec![open_layer(&c).unwrap()], false).unwrap();
        let mut r = DiskReader::new(&disk, vec![&c as &dyn ReadAt]).unwrap();
        let mut layout = new_layout(&disk, Format::Raw, 0, 512, &NewDisk::default()).unwrap();
        let e = convert(&mut r, layout.as_mut(), &mut Vec::new(), None, &mut |_, _| {}).unwrap_err();
        assert_eq!(e, crate::Error::ParentUnavailable(crate::error::ParentNeed::Bytes { layer: 0, start: 0, end: 0x200 }), "{e}");
        assert!(e.to_string().contains("0x0..0x200"), "{e}");
    }
}
