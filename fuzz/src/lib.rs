//! Shared by the fuzz targets and by the seed maker (`examples/make_seeds.rs`): the writer-made
//! base images each target splices its input into, and `exercise`, which runs an input through
//! the whole core (open, chain, map, read, check, info, free space) and asserts what must always
//! hold.
//! Nothing here uses libFuzzer, so the seed maker and the regression tests build without it.

use vhd_viewer::disk::{Extent, Source};
use vhd_viewer::reader::{open_layer, DiskReader, ReadAt};
use vhd_viewer::vhd::writer::{BlockOrder, DiskBuilder};
use vhd_viewer::{Disk, Layer};

/// Block size of the base images: small, so that images stay a few KiB.
pub const BS: u32 = 4096;
/// Virtual size of the base images.
pub const SIZE: u64 = 64 << 10;

/// A deterministic byte pattern.
pub fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) | 1).collect()
}

/// The base dynamic disk: 64 KiB, 4 KiB blocks, three blocks written out of order.
pub fn base_dynamic() -> DiskBuilder {
    let mut b = DiskBuilder::dynamic(SIZE, BS);
    b.write(5 * 4096 + 512, &pattern(1, 1024)).write(0, &pattern(2, 512)).write(9 * 4096, &pattern(3, 4096));
    b.block_order(BlockOrder::Descending);
    b
}

/// A differencing child of [`base_dynamic`] with a relative locator, a MacX locator and two
/// blocks, one sharing a bitmap byte with the parent's data.
pub fn child_of_base() -> DiskBuilder {
    let base = base_dynamic();
    let mut c = DiskBuilder::differencing(&base.parent_ref("base.vhd"), BS);
    c.parent_locator(*b"W2ku", "C:\\vms\\base.vhd").parent_locator(*b"MacX", "file://localhost/vms/base%20x.vhd");
    c.write(1024, &pattern(4, 512)).write(9 * 4096 + 2048, &pattern(5, 1536));
    c
}

/// The base fixed disk: 16 KiB.
pub fn base_fixed() -> DiskBuilder {
    let mut f = DiskBuilder::fixed(16 << 10);
    f.write(1000, &pattern(6, 3000));
    f
}

/// Offsets inside the writer's sparse images (footer copy, header, BAT, locators, blocks).
pub mod at {
    /// The dynamic header.
    pub const HEADER: usize = 512;
    /// The BAT.
    pub const BAT: usize = 1536;
    /// The first parent locator entry, inside the header.
    pub const LOCATOR0: usize = HEADER + 576;
}

/// What one input did: how many extents were mapped and bytes read, for the tests' sanity.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Layers opened.
    pub opened: usize,
    /// Whether a `Disk` could be made of them.
    pub disk: bool,
    /// Extents mapped over the whole disk.
    pub extents: usize,
}

/// Opens every file (each alone, then all as a chain, forced), maps the whole disk, reads a few
/// ranges, runs the deep check and builds the info. Panics (a fuzz crash) only when the core
/// breaks its own promises: extents that do not tile the disk, a read that disagrees with the
/// map.
pub fn exercise<F: ReadAt>(files: &[F]) -> Outcome {
    exercise_with(files, &[])
}

/// [`exercise`], where `opened[i]`, when given, is file `i` opened already: a writer-made image
/// that the input leaves as it is (a chain's unchanged base), whose open and whose run alone
/// would be the same for every input. It is not opened or run alone again; the chain over it is.
pub fn exercise_with<F: ReadAt>(files: &[F], opened: &[Option<&Layer>]) -> Outcome {
    let mut out = Outcome::default();
    let mut layers: Vec<Layer> = Vec::new();
    for (i, f) in files.iter().enumerate() {
        if let Some(l) = opened.get(i).copied().flatten() {
            layers.push(l.clone());
            continue;
        }
        match open_layer(f as &dyn ReadAt) {
            Ok(l) => layers.push(l),
            Err(e) => {
                let _ = e.to_string();
                let _ = e.offset();
                break;
            }
        }
    }
    out.opened = layers.len();
    let refs: Vec<&Layer> = layers.iter().collect();
    let arranged = vhd_viewer::chains::arrange(&refs);
    for chain in &arranged.chains {
        assert!(chain.iter().all(|i| *i < layers.len()));
    }
    for (i, l) in layers.iter().enumerate() {
        if opened.get(i).copied().flatten().is_some() {
            continue;
        }
        if let Ok(d) = Disk::new(vec![l.clone()], true) {
            run_disk(&d, &files[i..=i]);
        }
    }
    if layers.len() > 1 {
        if let Ok(d) = Disk::new(layers.clone(), true) {
            out.disk = true;
            out.extents = run_disk(&d, &files[..layers.len()]);
        }
    } else if let Some(l) = layers.first() {
        out.disk = true;
        out.extents = Disk::new(vec![l.clone()], true).map(|d| run_disk(&d, &files[..1])).unwrap_or(0);
    }
    out
}

/// The most bytes one read of the virtual disk asks for.
const READ_MAX: u64 = 256 << 10;

/// `len` bytes of `file` at `offset`, or `None` where the file has fewer.
fn bytes_at<F: ReadAt>(file: &F, offset: u64, len: u64) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; usize::try_from(len).ok()?];
    file.read_at(offset, &mut buf).ok()?;
    Some(buf)
}

fn run_disk<F: ReadAt>(disk: &Disk, files: &[F]) -> usize {
    let _ = disk.all_findings();
    let names: Vec<String> = (0..files.len()).map(|i| format!("f{i}.vhd")).collect();
    let _ = vhd_viewer::info::info(disk, &names);
    let sources: Vec<&dyn ReadAt> = files.iter().map(|f| f as &dyn ReadAt).collect();
    let Ok(mut reader) = DiskReader::new(disk, sources.clone()) else { return 0 };
    let size = disk.size();
    // The map of the whole disk must tile it.
    let mut extents: Vec<Extent> = Vec::new();
    let mut count = 0usize;
    let mapped = reader.for_each_extent(0, u64::MAX, |e| {
        count += 1;
        if extents.len() < 4096 {
            extents.push(e);
        }
        Ok(())
    });
    if mapped.is_ok() {
        let mut pos = 0u64;
        for e in &extents {
            assert_eq!(e.offset, pos, "extents must be contiguous");
            assert!(e.len > 0, "empty extent");
            pos += e.len;
        }
        if count == extents.len() {
            assert_eq!(pos, size, "extents must cover the disk");
        }
    }
    // Reads at the start, the middle and the end, each checked against the map.
    for start in [0, size / 2, size.saturating_sub(READ_MAX)] {
        let len = READ_MAX.min(size - start);
        let mut buf = vec![0u8; len as usize];
        if reader.read(start, &mut buf).is_ok() {
            let mut check = Vec::new();
            if reader
                .for_each_extent(start, len, |e| {
                    check.push(e);
                    Ok(())
                })
                .is_ok()
            {
                for e in check {
                    let at = (e.offset - start) as usize;
                    let got = &buf[at..at + e.len as usize];
                    match e.source {
                        // OR-ed, not compared byte by byte: under the fuzzer's instrumentation every
                        // comparison is a call, and this was a tenth of a VHDX target's time.
                        Source::Zero => assert_eq!(got.iter().fold(0, |a, b| a | b), 0, "a zero extent read as non-zero"),
                        Source::Data { layer, file_offset } => {
                            let want = bytes_at(&files[layer], file_offset, e.len).expect("a mapped extent lies in its file");
                            assert_eq!(got, &want[..], "read disagrees with the map");
                        }
                        Source::Missing { .. } => panic!("read succeeded over a missing extent"),
                    }
                }
            }
        }
    }
    let _ = vhd_viewer::check::scan(&mut reader, &mut |_, _| {});
    provenance(disk, files);
    free_space(disk, &sources);
    count
}

/// The file systems' free space (`compact --trim`'s), asked forward in pieces: every range
/// inside a volume that is trimmed, sorted and apart.
fn free_space(disk: &Disk, sources: &[&dyn ReadAt]) {
    use vhd_viewer::trim::{FreeRanges, FreeSpace};
    let Ok(mut free) = FreeSpace::new(disk, sources) else { return };
    // At most 64 pieces, whatever size the disk claims.
    let (mut ranges, mut pos, size) = (Vec::new(), 0u64, disk.size());
    let step = (size / 64).max(1 << 20);
    while pos < size && free.free_in(disk, sources, pos, pos.saturating_add(step).min(size), &mut ranges).is_ok() {
        pos = pos.saturating_add(step);
    }
    let vols = free.volumes();
    for r in &ranges {
        assert!(
            r.0 < r.1 && vols.iter().any(|v| v.trimmed && r.0 >= v.start && r.1 <= v.start + v.len),
            "{r:?} free outside the trimmed volumes {vols:?}"
        );
    }
    assert!(ranges.windows(2).all(|w| w[0].1 <= w[1].0), "free ranges out of order: {ranges:?}");
}

/// The web page's exact map (`provenance::Scan`), driven the way its JavaScript driver does:
/// step, read the bitmaps asked for into the cache, step again.
fn provenance<F: ReadAt>(disk: &Disk, files: &[F]) {
    use vhd_viewer::disk::BitmapCache;
    use vhd_viewer::provenance::{Scan, Step};
    let Ok(mut scan) = Scan::new(disk, disk.chunk_size()) else { return };
    let max_needs = 32;
    let mut cache = BitmapCache::new(max_needs + 4 * disk.layers.len() + 64);
    for _ in 0..100_000 {
        match scan.step(disk, &cache, 256, max_needs) {
            Step::Done => return,
            Step::Progress { done, total } => assert!(done <= total),
            Step::Need(reqs) => {
                for r in reqs {
                    let Some(bytes) = bytes_at(&files[r.layer], r.range.offset, r.range.len) else {
                        return; // past the end of the file: the page reports it and stops
                    };
                    cache.insert(r.layer, r.block, bytes);
                }
            }
        }
    }
    panic!("the provenance scan did not finish in 100000 steps");
}

/// Splits a `whole` input: byte 0 = number of files (1 or 2), then for two files a 4-byte
/// big-endian length of the first.
pub fn split_files(data: &[u8]) -> Vec<Vec<u8>> {
    match data.split_first() {
        Some((n, rest)) if n % 2 == 1 && rest.len() >= 4 => {
            let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            let rest = &rest[4..];
            let len = len.min(rest.len());
            vec![rest[..len].to_vec(), rest[len..].to_vec()]
        }
        Some((_, rest)) => vec![rest.to_vec()],
        None => vec![Vec::new()],
    }
}

/// The inverse of [`split_files`].
pub fn join_files(files: &[Vec<u8>]) -> Vec<u8> {
    match files {
        [one] => [&[0u8][..], one].concat(),
        [a, b] => [&[1u8][..], &(a.len() as u32).to_be_bytes(), a, b].concat(),
        _ => unreachable!("one or two files"),
    }
}

/// A virtual disk of `size` bytes whose first bytes are `head` and the rest zeros: a fuzz input
/// read as the start of a disk or volume that claims to be much larger.
pub struct Padded {
    /// The bytes at the start.
    pub head: Vec<u8>,
    /// The size claimed.
    pub size: u64,
}

impl vhd_viewer::fs::ReadVirtual for Padded {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_virtual(&mut self, offset: u64, buf: &mut [u8]) -> vhd_viewer::Result<()> {
        buf.fill(0);
        let start = offset.min(self.head.len() as u64) as usize;
        let end = (offset.saturating_add(buf.len() as u64)).min(self.head.len() as u64) as usize;
        if start < end {
            buf[..end - start].copy_from_slice(&self.head[start..end]);
        }
        Ok(())
    }
    fn sector_size(&self) -> u32 {
        512
    }
}

/// Opens the file system of `head` (a volume of `size` bytes, zeros past `head`), lists it
/// recursively with deleted entries, reads every file (at most 1 MiB each, 16 MiB in all) and
/// asks the owner of a few places and the free space of its allocation map. Must not panic;
/// errors are fine.
pub fn exercise_volume(head: &[u8], size: u64) {
    use vhd_viewer::fs::{walk, EntryKind, FileSystem, Volume};
    let mut vol = Volume::whole(Padded { head: head.to_vec(), size });
    let Ok(Some(mut fs)) = FileSystem::open(&mut vol) else { return };
    let _ = fs.label(&mut vol);
    let root = fs.root();
    let mut entries = Vec::new();
    let _ = walk(&mut fs, &mut vol, &root, true, true, &mut |e| {
        entries.push(e.clone());
        Ok(entries.len() < 10_000)
    });
    let mut total = 0usize;
    // Each file's data, and each NTFS stream (wherever its attribute list puts it).
    let reads = entries
        .iter()
        .filter(|e| e.kind != EntryKind::Dir)
        .map(|e| (e, None))
        .chain(entries.iter().flat_map(|e| e.streams.iter().take(64).map(move |s| (e, Some(s.name.as_str())))));
    for (e, stream) in reads {
        let mut got = 0usize;
        let _ = fs.read(&mut vol, e, stream, &mut |b| {
            got += b.len();
            total += b.len();
            if got > 1 << 20 || total > 16 << 20 {
                return Err(vhd_viewer::Error::Missing { offset: 0, len: 0 });
            }
            Ok(())
        });
        if total > 16 << 20 {
            break;
        }
    }
    for at in [0u64, 4096, 65536, size / 2] {
        let _ = fs.owner(&mut vol, at);
    }
    // The free space of its allocation map: counted whole, then asked forward in pieces; every
    // range inside the volume, sorted, apart, and adding up to no more than the count.
    if let Ok(Ok(map)) = vhd_viewer::fs::free::Map::open(&mut fs, &mut vol) {
        let mut cursor = vhd_viewer::fs::free::FreeCursor::new(map);
        if let Ok(free) = cursor.free_bytes(&mut vol) {
            let mut ranges = Vec::new();
            let (mut pos, len) = (0, vol.len());
            while pos < len && cursor.free_in(&mut vol, pos, (pos + 300_000).min(len), &mut ranges).is_ok() {
                pos += 300_000;
            }
            assert!(ranges.iter().all(|r| r.0 < r.1 && r.1 <= len), "a free range outside the volume: {ranges:?}");
            assert!(ranges.windows(2).all(|w| w[0].1 <= w[1].0), "free ranges out of order: {ranges:?}");
            assert!(ranges.iter().map(|r| r.1 - r.0).sum::<u64>() <= free, "more free in pieces than counted");
        }
    }
    // Looked up by path (NTFS: through the directory index's B-tree).
    for e in entries.iter().take(64) {
        let _ = fs.lookup(&mut vol, &e.path, e.deleted);
        let _ = fs.times(&mut vol, e);
    }
}

/// The diff over hostile file-system metadata: the input is two volumes' first bytes (as
/// [`split_files`] splits them; one alone is both sides), each the start of a 4 MiB disk with a
/// file system from sector 0 (zeros after it). The child holds every 4 KiB page where the two
/// differ and the first 64 KiB. Must not panic or hang; errors are fine.
pub fn exercise_diff(data: &[u8]) {
    use vhd_viewer::diff::{diff, Mode};
    const SIZE: u64 = 4 << 20;
    let files = split_files(data);
    let parent = files[0].clone();
    let child = files.last().cloned().unwrap_or_default();
    let mut held: Vec<(u64, u64)> = vec![(0, 64 << 10)];
    let longest = parent.len().max(child.len()) as u64;
    let mut at = 64 << 10;
    while at < longest.min(SIZE) {
        let (s, e) = (at as usize, (at + 4096) as usize);
        let page = |v: &Vec<u8>| v.get(s.min(v.len())..e.min(v.len())).map(<[u8]>::to_vec).unwrap_or_default();
        if page(&parent) != page(&child) {
            held.push((at, at + 4096));
        }
        at += 4096;
    }
    let p = Padded { head: parent, size: SIZE };
    let c = Padded { head: child, size: SIZE };
    let _ = diff(p, c, &held, Mode::Chain, &mut |_, _| true);
}

/// VHDX base images (the project's VHDX writer): a 2 MiB dynamic disk with two blocks of 1 MiB.
pub fn vhdx_base() -> vhd_viewer::vhdx::writer::VhdxBuilder {
    use vhd_viewer::vhdx::{writer::VhdxBuilder, Guid};
    let mut b = VhdxBuilder::new(2 << 20).write(0, &pattern(11, 4096)).write(1 << 20, &pattern(12, 512));
    b.data_write_guid = Guid([0xb0; 16]);
    b
}

/// A differencing child of [`vhdx_base`] found at `base.vhdx`, with sectors in both blocks.
pub fn vhdx_child() -> vhd_viewer::vhdx::writer::VhdxBuilder {
    use vhd_viewer::vhdx::writer::VhdxBuilder;
    VhdxBuilder::new(2 << 20)
        .child_of(vhdx_base().data_write_guid, "base.vhdx")
        .write(512, &pattern(13, 1024))
        .write((1 << 20) + 4096, &pattern(14, 512))
}

/// [`vhdx_base`] with a dirty log whose two entries hold its BAT.
pub fn vhdx_dirty() -> vhd_viewer::vhdx::writer::VhdxBuilder {
    let mut b = vhdx_base();
    b.dirty_log = true;
    b
}

/// [`vhdx_base`], [`vhdx_child`] and [`vhdx_dirty`] built once (each is a few MiB: building
/// them for every input would take most of a fuzz target's time).
pub fn vhdx_files() -> &'static [Vec<u8>; 3] {
    static FILES: std::sync::OnceLock<[Vec<u8>; 3]> = std::sync::OnceLock::new();
    FILES.get_or_init(|| [vhdx_base().build(), vhdx_child().build(), vhdx_dirty().build()])
}

/// [`vhdx_base`] opened, once: the parent of the chains the VHDX targets make, unchanged by
/// their inputs (see [`exercise_with`]).
pub fn vhdx_base_layer() -> &'static Layer {
    static LAYER: std::sync::OnceLock<Layer> = std::sync::OnceLock::new();
    LAYER.get_or_init(|| open_layer(&vhdx_files()[0]).expect("the writer's VHDX opens"))
}

/// Offsets inside the VHDX writer's files.
pub mod vhdx_at {
    /// Header 1 (header 2 follows 64 KiB later).
    pub const HEADER1: usize = 0x10000;
    /// Region table 1 (table 2 follows 64 KiB later).
    pub const REGION1: usize = 0x30000;
    /// The log.
    pub const LOG: usize = 1 << 20;
    /// The metadata region (its table; the items from 64 KiB on).
    pub const METADATA: usize = 2 << 20;
    /// The BAT.
    pub const BAT: usize = 3 << 20;
}

/// Sets the CRC-32C at `crc_at` (relative to `at`) of the `len` bytes at `at`.
pub fn fix_vhdx_crc(file: &mut Spliced<'_>, at: usize, len: usize, crc_at: usize) {
    let Some(s) = bytes_at(file, at as u64, len as u64).filter(|s| s.len() >= crc_at + 4) else { return };
    let crc = vhd_viewer::crc32c::crc32c_with_zeroed(&s, crc_at);
    file.splice(at + crc_at, &crc.to_le_bytes());
}

/// A writer-made image with ranges replaced by a fuzz input, read through [`ReadAt`] without
/// copying the image. A VHDX is several MiB: copying one for every input (twice, for a chain)
/// cost most of a VHDX target's time, page faults and all, so that CI's few seconds of fuzzing
/// ran a VHDX target only about a hundred times.
pub struct Spliced<'a> {
    base: &'a [u8],
    /// Replaced ranges, later ones over earlier ones: (offset, bytes), each inside the image.
    patches: Vec<(usize, Vec<u8>)>,
}

impl<'a> Spliced<'a> {
    /// The image as it is.
    pub fn new(base: &'a [u8]) -> Self {
        Spliced { base, patches: Vec::new() }
    }

    /// Replaces the bytes at `at` with `bytes`, as many of them as fit in the image.
    pub fn splice(&mut self, at: usize, bytes: &[u8]) -> &mut Self {
        let n = bytes.len().min(self.base.len().saturating_sub(at));
        if n > 0 {
            self.patches.push((at, bytes[..n].to_vec()));
        }
        self
    }

    /// [`Spliced::splice`], by value.
    pub fn with(mut self, at: usize, bytes: &[u8]) -> Self {
        self.splice(at, bytes);
        self
    }
}

impl ReadAt for Spliced<'_> {
    fn len(&self) -> u64 {
        self.base.len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> vhd_viewer::Result<()> {
        self.base.read_at(offset, buf)?;
        let start = offset as usize; // read_at succeeded: the range lies in the image
        let end = start + buf.len();
        for (at, bytes) in &self.patches {
            let (s, e) = ((*at).max(start), (at + bytes.len()).min(end));
            if s < e {
                buf[s - start..e - start].copy_from_slice(&bytes[s - at..e - at]);
            }
        }
        Ok(())
    }
}
