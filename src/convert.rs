//! `convert` (and `merge`): the disk read through its whole chain, or through the part of it
//! below some layer, written as one new standalone disk: raw bytes, a fixed VHD, or a dynamic
//! VHD whose blocks are allocated only where the disk holds non-zero data.
//!
//! Like the rest of the core it does no file handling of its own: it reads through a
//! [`DiskReader`] and writes through a [`WriteAt`], streaming, so that memory stays flat
//! whatever the disk's size (a 1 MiB buffer, plus the new BAT: at most 16 MiB).
//!
//! ```
//! use vhd_viewer::convert::{convert, Format, NewDisk};
//! use vhd_viewer::reader::{open_layer, DiskReader, ReadAt};
//! use vhd_viewer::writer::DiskBuilder;
//! use vhd_viewer::Disk;
//! let mut d = DiskBuilder::dynamic(8 << 20, 2 << 20);
//! d.write(5 << 20, &[7; 512]).write(0, &[0; 4096]);
//! let file = d.build();
//! let disk = Disk::new(vec![open_layer(&file).unwrap()], false).unwrap();
//! let mut reader = DiskReader::new(&disk, vec![&file as &dyn ReadAt]).unwrap();
//! let mut out = Vec::new();
//! let done = convert(&mut reader, Format::Dynamic, 2 << 20, &NewDisk::default(), &mut out, &mut |_, _| {}).unwrap();
//! // Block 0 was allocated but holds only zeros: the new disk allocates block 2 alone.
//! assert_eq!((done.blocks, done.blocks_allocated), (4, 1));
//! ```

use crate::check::Progress;
use crate::disk::{Source, Steps};
use crate::error::{Result, WriteError};
use crate::image::DiskType;
use crate::reader::{missing_error, DiskReader};
use crate::values::{FourCc, Timestamp, Uuid};
use crate::vhd::footer::{self, Footer, FILE_FORMAT_VERSION, FOOTER_COOKIE, FOOTER_SIZE, NO_DATA_OFFSET};
use crate::vhd::geometry::Geometry;
use crate::vhd::MAX_DISK_SIZE;
use crate::writer::{SparseLayout, WriteAt};

/// The most bytes read or written at once.
pub const BUF: usize = 1 << 20;

/// What `convert` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The virtual disk's bytes, as `cat` gives them.
    Raw,
    /// A fixed VHD: the bytes, then a footer.
    Fixed,
    /// A dynamic VHD allocating only blocks that hold non-zero data.
    Dynamic,
}

impl Format {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Raw => "raw",
            Format::Fixed => "fixed",
            Format::Dynamic => "dynamic",
        }
    }
}

/// The identity of a new disk: its unique id and time stamp (the caller picks them: the
/// command line a random id and the current time).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewDisk {
    /// The new disk's unique id.
    pub unique_id: Uuid,
    /// Its time stamp.
    pub timestamp: Timestamp,
}

/// What a conversion wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Converted {
    /// The virtual disk's size.
    pub size: u64,
    /// The length of the new file.
    pub file_len: u64,
    /// Bytes of non-zero data written (in whole pieces of at most 1 MiB, or extents: a piece
    /// holding any non-zero byte counts whole).
    pub data_bytes: u64,
    /// Blocks of the new dynamic disk (0 for raw and fixed output).
    pub blocks: u64,
    /// Of those, the blocks allocated.
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

/// Streams the disk's non-zero data: `each(virtual offset, bytes)` for every piece of at most
/// [`BUF`] bytes read from a layer's file that holds a non-zero byte, in ascending order, never
/// crossing a multiple of `align` (a power of two; the output's block size). Zero-filled
/// stretches, and pieces read that hold only zeros, are skipped. A part of the disk that cannot
/// be read (a missing parent, a file cut short) is an error naming it.
pub fn for_each_data(
    reader: &mut DiskReader<'_>,
    align: u64,
    progress: Progress<'_>,
    mut each: impl FnMut(u64, &[u8]) -> Result<()>,
) -> Result<()> {
    let disk = reader.disk;
    let size = disk.size();
    let chunk = disk.chunk_size().max(BUF as u64);
    // A stretch that no layer allocates is one step, however large the disk says it is.
    let steps = Steps::new(disk);
    let mut buf = vec![0u8; BUF];
    let mut extents = Vec::new();
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
                        if piece.iter().any(|b| *b != 0) {
                            each(v, piece)?;
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

/// Writes the disk `reader` reads as one new standalone disk in `format` (`block_size` for
/// dynamic output, checked by [`crate::writer::check_block_size`]). The output must start
/// empty: zero stretches are left unwritten.
pub fn convert(
    reader: &mut DiskReader<'_>,
    format: Format,
    block_size: u32,
    new: &NewDisk,
    out: &mut dyn WriteAt,
    progress: Progress<'_>,
) -> Result<Converted> {
    let disk = reader.disk;
    let size = disk.size();
    let template = disk.layers[0].geometry();
    if format != Format::Raw && size > MAX_DISK_SIZE {
        return Err(WriteError::TooLargeForVhd { offset: disk.layers[0].size_offset(), size }.into());
    }
    let mut data_bytes = 0;
    match format {
        Format::Raw | Format::Fixed => {
            for_each_data(reader, u64::MAX / 2 + 1, progress, |at, bytes| {
                data_bytes += bytes.len() as u64;
                out.write_at(at, bytes)
            })?;
            let file_len = if format == Format::Fixed {
                out.write_at(size, &new_footer(template, DiskType::Fixed, size, new))?;
                size + FOOTER_SIZE
            } else {
                size
            };
            out.set_len(file_len)?;
            Ok(Converted { size, file_len, data_bytes, blocks: 0, blocks_allocated: 0 })
        }
        Format::Dynamic => {
            crate::writer::check_block_size(size, u64::from(block_size))?;
            let footer = new_footer(template, DiskType::Dynamic, size, new);
            let mut layout = SparseLayout::new(&footer, block_size, None, &[]);
            let bs = layout.block_size();
            let bitmap = full_bitmap(&layout);
            let mut current: Option<(u64, u64)> = None;
            for_each_data(reader, bs, progress, |at, bytes| {
                data_bytes += bytes.len() as u64;
                let block = at / bs;
                let start = match current {
                    Some((b, start)) if b == block => start,
                    _ => {
                        let start = layout.place(block).ok_or(WriteError::BlockPlacedTwice { block })?;
                        out.write_at(start, &bitmap)?;
                        current = Some((block, start));
                        start
                    }
                };
                out.write_at(start + layout.bitmap_size() + at % bs, bytes)
            })?;
            for (at, bytes) in layout.finish() {
                out.write_at(at, &bytes)?;
            }
            out.set_len(layout.file_len())?;
            Ok(Converted { size, file_len: layout.file_len(), data_bytes, blocks: layout.blocks(), blocks_allocated: layout.placed() })
        }
    }
}

/// A sector bitmap with the bit of every sector of a block set.
pub fn full_bitmap(layout: &SparseLayout) -> Vec<u8> {
    let sectors = (layout.block_size() / 512) as usize;
    let mut bitmap = vec![0u8; layout.bitmap_size() as usize];
    bitmap[..sectors / 8].fill(0xff);
    if sectors % 8 != 0 {
        bitmap[sectors / 8] = 0xff << (8 - sectors % 8);
    }
    bitmap
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::{open_layer, ReadAt};
    use crate::writer::DiskBuilder;
    use crate::Disk;

    fn flatten(files: &[Vec<u8>]) -> Vec<u8> {
        let layers = files.iter().map(|f| open_layer(f).unwrap()).collect();
        let disk = Disk::new(layers, false).unwrap();
        let mut r = DiskReader::new(&disk, files.iter().map(|f| f as &dyn ReadAt).collect()).unwrap();
        let mut all = vec![0; disk.size() as usize];
        r.read(0, &mut all).unwrap();
        all
    }

    fn run(files: &[Vec<u8>], format: Format, bs: u32) -> (Vec<u8>, Converted) {
        let layers = files.iter().map(|f| open_layer(f).unwrap()).collect();
        let disk = Disk::new(layers, false).unwrap();
        let mut r = DiskReader::new(&disk, files.iter().map(|f| f as &dyn ReadAt).collect()).unwrap();
        let mut out = Vec::new();
        let new = NewDisk { unique_id: crate::writer::uuid_from_seed(9), timestamp: Timestamp(1) };
        let done = convert(&mut r, format, bs, &new, &mut out, &mut |_, _| {}).unwrap();
        (out, done)
    }

    #[test]
    fn a_chain_flattens_to_the_same_bytes_in_every_format() {
        let mut base = DiskBuilder::dynamic(6 << 20, 1 << 20);
        base.write(0, &[1; 2048]).write(3 << 20, &[2; 512]).write(4 << 20, &[0; 4096]);
        let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 512 << 10);
        child.write(1024, &[3; 512]).write((5 << 20) + 512, &[4; 1024]).write(3 << 20, &[0; 512]);
        let files = [child.build(), base.build()];
        let want = flatten(&files);
        let (raw, _) = run(&files, Format::Raw, 0);
        assert!(raw == want);
        let (fixed, _) = run(&files, Format::Fixed, 0);
        assert_eq!(fixed.len(), want.len() + 512);
        assert!(flatten(&[fixed]) == want);
        for bs in [512u32, 4096, 1 << 20, 2 << 20, 8 << 20] {
            let (dynamic, done) = run(&files, Format::Dynamic, bs);
            assert!(flatten(std::slice::from_ref(&dynamic)) == want, "block size {bs}");
            let layer = open_layer(&dynamic).unwrap();
            let bad: Vec<_> = layer.findings.iter().filter(|f| f.severity > crate::Severity::Info).collect();
            assert!(bad.is_empty(), "{bad:?}");
            // Allocated: exactly the blocks holding a non-zero byte.
            let nonzero = want.chunks(bs as usize).filter(|c| c.iter().any(|b| *b != 0)).count() as u64;
            assert_eq!(done.blocks_allocated, nonzero, "block size {bs}");
            assert_eq!(layer.allocated_blocks(), nonzero);
        }
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
        let e = convert(&mut r, Format::Raw, 0, &NewDisk::default(), &mut Vec::new(), &mut |_, _| {}).unwrap_err();
        assert_eq!(e, crate::Error::ParentUnavailable(crate::error::ParentNeed::Bytes { layer: 0, start: 0, end: 0x200 }), "{e}");
        assert!(e.to_string().contains("0x0..0x200"), "{e}");
    }
}
