//! A synchronous driver: feeds the core from anything that can read bytes at an offset (a file,
//! a byte buffer, a counting wrapper in tests). The browser has its own asynchronous driver in
//! JavaScript over the same core.

use std::cell::Cell;

use crate::disk::{BitmapCache, Disk, Extent, Plan, Source, Steps};
use crate::error::{Error, ParentNeed, Result};
use crate::image::BlockRead;
use crate::layer::{Layer, Opener, Poll};

pub use crate::image::ReadAt;

/// A file of known length: the length asked once, not per read.
pub struct KnownLen<R> {
    inner: R,
    len: u64,
}

impl<R: ReadAt> KnownLen<R> {
    /// Wraps `inner`, reading its length now.
    pub fn new(inner: R) -> Self {
        let len = inner.len();
        KnownLen { inner, len }
    }

    /// The wrapped reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }
}

impl<R: ReadAt> ReadAt for KnownLen<R> {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.inner.read_at(offset, buf)
    }
}

/// Counts the reads and bytes that go through it, so tests can assert how much was read.
pub struct Counting<R> {
    inner: R,
    reads: Cell<u64>,
    bytes: Cell<u64>,
}

impl<R> Counting<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Counting { inner, reads: Cell::new(0), bytes: Cell::new(0) }
    }
    /// Number of reads so far.
    pub fn reads(&self) -> u64 {
        self.reads.get()
    }
    /// Bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes.get()
    }
}

impl<R: ReadAt> ReadAt for Counting<R> {
    fn len(&self) -> u64 {
        self.inner.len()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.reads.set(self.reads.get() + 1);
        self.bytes.set(self.bytes.get() + buf.len() as u64);
        self.inner.read_at(offset, buf)
    }
}

fn read_vec(src: &dyn ReadAt, offset: u64, len: u64) -> Result<Vec<u8>> {
    // Every range the core asks for is bounded (at most the BAT, 16 MiB), so this allocation is.
    let n = usize::try_from(len).map_err(|_| Error::Missing { offset, len })?;
    let mut buf = vec![0u8; n];
    src.read_at(offset, &mut buf)?;
    Ok(buf)
}

/// Reads `len` bytes of a structure the layer's metadata points at; a range past the end of the
/// file (a BAT entry pointing past it, a file cut short) is [`Error::OutOfFile`], naming it.
fn read_structure(src: &dyn ReadAt, what: &'static str, offset: u64, len: u64) -> Result<Vec<u8>> {
    if offset.saturating_add(len) > src.len() {
        return Err(Error::OutOfFile { what, offset, len, file_len: src.len() });
    }
    read_vec(src, offset, len)
}

/// Opens one file: the core's [`Opener`] fed by `src`.
pub fn open_layer(src: &dyn ReadAt) -> Result<Layer> {
    drive(&mut Opener::new(src.len()), src)
}

/// Feeds `opener` the ranges it asks for from `src` until it gives its layer (or fails); what it
/// was given, [`Opener::bytes_provided`], is what was read.
pub fn drive(opener: &mut Opener, src: &dyn ReadAt) -> Result<Layer> {
    loop {
        match opener.poll()? {
            Poll::Ready(layer) => return Ok(*layer),
            Poll::Need(ranges) => {
                for r in ranges {
                    // Every range the core asks for is bounded (at most the BAT, 16 MiB).
                    let len = usize::try_from(r.len).map_err(|_| Error::Missing { offset: r.offset, len: r.len })?;
                    opener.provide_with(r.offset, len, |buf| src.read_at(r.offset, buf))?;
                }
            }
        }
    }
}

/// The whole disk of a chain of files held in memory (top first), read through the chain: the
/// unit tests' expected bytes.
#[cfg(test)]
pub(crate) fn flatten<F: std::borrow::Borrow<Vec<u8>>>(files: &[F]) -> Vec<u8> {
    let disk = Disk::new(files.iter().map(|f| open_layer(f.borrow()).unwrap()).collect(), false).unwrap();
    let mut r = DiskReader::new(&disk, files.iter().map(|f| f.borrow() as &dyn ReadAt).collect()).unwrap();
    let mut all = vec![0; disk.size() as usize];
    r.read(0, &mut all).unwrap();
    all
}

/// Reads a [`Disk`] through its layers' files.
pub struct DiskReader<'a> {
    /// The chain.
    pub disk: &'a Disk,
    sources: Vec<&'a dyn ReadAt>,
    cache: BitmapCache,
    /// Where planning steps end.
    steps: Steps,
}

impl<'a> DiskReader<'a> {
    /// A reader of `disk` whose layer `i` is read from `sources[i]`.
    pub fn new(disk: &'a Disk, sources: Vec<&'a dyn ReadAt>) -> Result<Self> {
        if sources.len() != disk.layers.len() {
            return Err(Error::FilesForChain { files: sources.len(), layers: disk.layers.len() });
        }
        Ok(DiskReader { disk, sources, cache: BitmapCache::for_disk(disk), steps: Steps::new(disk) })
    }

    /// A reader that starts from the bitmaps and steps a reader of the same disk kept
    /// ([`DiskReader::into_parts`]): a caller that makes a reader per read (the page's, whose
    /// sources outlive no call) does not read the bitmaps or walk the BATs again.
    pub fn with_parts(disk: &'a Disk, sources: Vec<&'a dyn ReadAt>, cache: BitmapCache, steps: Steps) -> Result<Self> {
        if sources.len() != disk.layers.len() {
            return Err(Error::FilesForChain { files: sources.len(), layers: disk.layers.len() });
        }
        Ok(DiskReader { disk, sources, cache, steps })
    }

    /// The files read: layer `i`'s is `sources()[i]`.
    pub fn sources(&self) -> &[&'a dyn ReadAt] {
        &self.sources
    }

    /// The bitmaps read and the steps, for [`DiskReader::with_parts`].
    pub fn into_parts(self) -> (BitmapCache, Steps) {
        (self.cache, self.steps)
    }

    /// Reads bytes of layer `layer`'s file (not of the virtual disk); bytes past the end of the
    /// file (a block of a file cut short) are [`Error::OutOfFile`], naming the offset.
    pub fn read_file(&self, layer: usize, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.check_file_range(layer, offset, buf.len() as u64)?;
        self.sources[layer].read_at(offset, buf)
    }

    /// Whether `len` bytes at `offset` of layer `layer`'s file lie inside it: [`Error::OutOfFile`],
    /// naming the offset, when they do not. For a caller that has the bytes copied by other means
    /// (the command line's `cat` has the kernel copy them from the file to its output).
    pub fn check_file_range(&self, layer: usize, offset: u64, len: u64) -> Result<()> {
        let file_len = self.sources[layer].len();
        if offset.saturating_add(len) > file_len {
            return Err(Error::OutOfFile { what: "block", offset, len, file_len });
        }
        Ok(())
    }

    /// The extents of `[offset, offset + len)`, read chunk by chunk so that memory stays
    /// bounded; `each` is called with every merged extent in order.
    pub fn for_each_extent(&mut self, offset: u64, len: u64, mut each: impl FnMut(Extent) -> Result<()>) -> Result<()> {
        let end = offset.saturating_add(len).min(self.disk.size());
        let mut pos = offset;
        let mut pending: Option<Extent> = None;
        while pos < end {
            let stop = self.steps.end(self.disk, pos, end);
            for e in self.plan(pos, stop - pos)? {
                match &mut pending {
                    Some(p) if p.continues_with(&e) => p.len += e.len,
                    _ => {
                        if let Some(p) = pending.replace(e) {
                            each(p)?;
                        }
                    }
                }
            }
            pos = stop;
        }
        if let Some(p) = pending {
            each(p)?;
        }
        Ok(())
    }

    /// Plans one range, reading the bitmaps it needs.
    pub fn plan(&mut self, offset: u64, len: u64) -> Result<Vec<Extent>> {
        for _ in 0..=self.disk.layers.len() {
            match self.disk.plan(offset, len, &self.cache) {
                Plan::Extents(e) => return Ok(e),
                Plan::Need(reqs) => {
                    for r in reqs {
                        let bytes = read_structure(self.sources[r.layer], "sector bitmap", r.range.offset, r.range.len)?;
                        self.cache.insert(r.layer, r.block, bytes);
                    }
                }
            }
        }
        Err(Error::BitmapCache)
    }

    /// Fills `buf` with the virtual disk's bytes at `offset`. Fails with the offset when a part
    /// cannot be read (a missing parent, a truncated file).
    pub fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let len = buf.len() as u64;
        if offset.saturating_add(len) > self.disk.size() {
            return Err(Error::ReadPastEnd { offset, len: Some(len), size: self.disk.size() });
        }
        let sources = self.sources.clone();
        let disk = self.disk;
        self.for_each_extent(offset, len, |e| {
            let at = (e.offset - offset) as usize;
            let out = &mut buf[at..at + e.len as usize];
            match e.source {
                Source::Zero => out.fill(0),
                Source::Data { layer, file_offset } => {
                    if file_offset.saturating_add(e.len) > sources[layer].len() {
                        return Err(Error::OutOfFile {
                            what: "block data",
                            offset: file_offset,
                            len: e.len,
                            file_len: sources[layer].len(),
                        });
                    }
                    sources[layer].read_at(file_offset, out)?
                }
                Source::Missing { .. } => return Err(missing_error(disk, &e)),
            }
            Ok(())
        })
    }
}

/// Why a part of the disk cannot be read: the core's answer, which the command line words as an
/// error and the page words with the files' names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "why", rename_all = "kebab-case")]
pub enum Unreadable {
    /// It comes from the parent of layer `layer`, a differencing disk whose parent is not given.
    Parent {
        /// The differencing disk whose parent is missing.
        layer: usize,
    },
    /// Block `block` of layer `layer` has its sector bitmap at `file_offset`, past the end of the file.
    Bitmap {
        /// The layer.
        layer: usize,
        /// The block.
        block: u64,
        /// Where the bitmap should be.
        file_offset: u64,
    },
    /// Block `block` of layer `layer` has this part's data at `file_offset`, past the end of the file.
    Data {
        /// The layer.
        layer: usize,
        /// The block.
        block: u64,
        /// Where the data should be.
        file_offset: u64,
    },
    /// A fixed disk's file is cut short: this part's data would be at `file_offset`.
    CutShort {
        /// The layer.
        layer: usize,
        /// Where the data should be.
        file_offset: u64,
    },
}

/// Why extent `e` cannot be read, or None when it can (it is not [`Source::Missing`]).
pub fn unreadable(disk: &Disk, e: &Extent) -> Option<Unreadable> {
    let Source::Missing { layer } = e.source else { return None };
    let l = disk.layers.get(layer)?;
    let differencing = l.disk_type() == crate::image::DiskType::Differencing;
    let Some(bs) = l.block_size() else {
        // A fixed disk's file cut short.
        return Some(if differencing { Unreadable::Parent { layer } } else { Unreadable::CutShort { layer, file_offset: e.offset } });
    };
    // A block's bitmap or data past the end of the file, else the missing parent.
    let (block, within) = (e.offset / bs, e.offset % bs);
    Some(match l.block_read(block) {
        BlockRead::Partial { bitmap, .. } if bitmap.end() > l.data_end => Unreadable::Bitmap { layer, block, file_offset: bitmap.offset },
        BlockRead::Data(data) | BlockRead::Partial { data, .. } if !differencing || data.saturating_add(within) >= l.data_end => {
            Unreadable::Data { layer, block, file_offset: data.saturating_add(within) }
        }
        _ => Unreadable::Parent { layer },
    })
}

/// The error for reading an extent that cannot be read: the part of the disk that a missing
/// parent supplies (named by its virtual offset), or a block of a file cut short (named by the
/// file offset where its bitmap or data should be).
pub fn missing_error(disk: &Disk, e: &Extent) -> Error {
    let file_len = |layer: usize| disk.layers.get(layer).map_or(0, |l| l.file_len);
    let (what, offset, layer) = match unreadable(disk, e) {
        None => return Error::ExtentReadable { offset: e.offset },
        Some(Unreadable::Parent { layer }) => {
            return Error::ParentUnavailable(ParentNeed::Bytes { layer, start: e.offset, end: e.offset + e.len })
        }
        Some(Unreadable::CutShort { layer, file_offset }) => ("disk data", file_offset, layer),
        Some(Unreadable::Bitmap { layer, file_offset, .. }) => ("sector bitmap", file_offset, layer),
        Some(Unreadable::Data { layer, file_offset, .. }) => ("block data", file_offset, layer),
    };
    Error::OutOfFile { what, offset, len: e.len, file_len: file_len(layer) }
}
