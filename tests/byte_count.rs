//! How much the core reads, counted with `reader::Counting`: opening reads only the footer, its
//! copy, the dynamic header and the BAT, whatever the size of the disk; reading one sector reads
//! at most one bitmap and that sector.

mod common;
use common::*;
use vhd_viewer::reader::{open_layer, Counting, DiskReader, KnownLen, ReadAt};
use vhd_viewer::Disk;

const GIB: u64 = 1 << 30;

/// A 2040 GiB sparse dynamic disk made by qemu-img (force_size: exactly 2040 GiB), with one
/// sector written near the end and one at the start.
fn huge() -> (std::path::PathBuf, QemuSpec) {
    let spec = QemuSpec {
        name: "qemu-dynamic-2040G",
        subformat: "dynamic",
        size: "2040G",
        force_size: true,
        writes: vec![(0x5a, 2040 * GIB - 4096, 512), (0xa5, 1536, 512)],
    };
    (qemu_fixture(&spec), spec)
}

#[test]
fn opening_a_2040g_disk_reads_only_the_metadata() {
    let (path, _) = huge();
    let file = Counting::new(KnownLen::new(std::fs::File::open(&path).unwrap()));
    let start = std::time::Instant::now();
    let layer = open_layer(&file).unwrap();
    let took = start.elapsed();
    assert_eq!(layer.size(), 2040 * GIB);
    // 2040 GiB / 2 MiB = 1044480 BAT entries; the header says so, independently of the core.
    let img_header = {
        let mut h = vec![0u8; 1024];
        std::fs::File::open(&path).unwrap().read_at(512, &mut h).unwrap();
        h
    };
    let entries = u64::from(get32(&img_header, h::MAX_TABLE_ENTRIES));
    assert_eq!(entries, 1_044_480);
    assert_eq!(layer.vhd().unwrap().bat.len() as u64, entries);
    // Footer, footer copy, dynamic header, BAT: exactly.
    assert_eq!(file.bytes(), 512 + 512 + 1024 + entries * 4, "bytes read to open ({} reads)", file.reads());
    assert!(file.reads() <= 4, "{} reads", file.reads());
    assert!(took.as_secs() < 2, "opening took {took:?}");
}

#[test]
fn reading_one_sector_reads_one_bitmap_and_one_sector() {
    let (path, _) = huge();
    let file = Counting::new(KnownLen::new(std::fs::File::open(&path).unwrap()));
    let layer = open_layer(&file).unwrap();
    let disk = Disk::new(vec![layer], false).unwrap();
    let sources: Vec<&dyn ReadAt> = vec![&file];
    let mut r = DiskReader::new(&disk, sources).unwrap();
    let mut sector = [0u8; 512];

    // An allocated block: its bitmap (512 bytes for 2 MiB blocks), then the sector.
    let before = file.bytes();
    r.read(2040 * GIB - 4096, &mut sector).unwrap();
    assert!(sector.iter().all(|b| *b == 0x5a));
    let read = file.bytes() - before;
    assert!(read <= 512 + 512, "one sector of an allocated block read {read} bytes");
    assert_eq!(read, 512 + 512, "the bitmap was not yet cached, so both are read");

    // The same block again: the bitmap is cached, only the sector is read.
    let before = file.bytes();
    r.read(2040 * GIB - 3584, &mut sector).unwrap();
    assert!(sector.iter().all(|b| *b == 0), "a sector qemu did not write");
    assert!(file.bytes() - before <= 512);

    // An unallocated block: nothing at all.
    let before = file.bytes();
    r.read(1000 * GIB, &mut sector).unwrap();
    assert!(sector.iter().all(|b| *b == 0));
    assert_eq!(file.bytes() - before, 0, "an unallocated block reads as zeros without any I/O");

    // The first block.
    let before = file.bytes();
    r.read(1536, &mut sector).unwrap();
    assert!(sector.iter().all(|b| *b == 0xa5));
    assert!(file.bytes() - before <= 1024);
}

#[test]
fn mapping_a_2040g_disk_reads_only_the_allocated_blocks_bitmaps() {
    let (path, _) = huge();
    let file = Counting::new(KnownLen::new(std::fs::File::open(&path).unwrap()));
    let layer = open_layer(&file).unwrap();
    let disk = Disk::new(vec![layer], false).unwrap();
    let mut r = DiskReader::new(&disk, vec![&file as &dyn ReadAt]).unwrap();
    let before = file.bytes();
    let mut data = Vec::new();
    let start = std::time::Instant::now();
    r.for_each_extent(0, u64::MAX, |e| {
        if let vhd_viewer::Source::Data { .. } = e.source {
            data.push((e.offset, e.len));
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(file.bytes() - before, 2 * 512, "two allocated blocks, one bitmap each");
    assert_eq!(data, vec![(0, 2 << 20), (2040 * GIB - (2 << 20), 2 << 20)], "qemu marks whole blocks present");
    assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
}

#[test]
fn cli_info_on_the_2040g_disk_is_quick() {
    let (path, _) = huge();
    let start = std::time::Instant::now();
    let j = viewer_info(&path, &[]);
    assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
    assert_eq!(j["current_size"], 2040 * GIB);
    assert_eq!(j["creator_application"], "qem2");
    assert_eq!(j["allocated_blocks"], 2);
    let v = vhdiinfo(&path);
    assert_eq!(vhdi_media_size(&v["Media size"]), 2040 * GIB);
    // The last 4 KiB: as qemu-io wrote them.
    let tail = viewer_cat(&path, &["--offset", &(2040 * GIB - 4096).to_string()]);
    assert_eq!(tail.len(), 4096);
    assert!(tail[..512].iter().all(|b| *b == 0x5a) && tail[512..].iter().all(|b| *b == 0));
}
