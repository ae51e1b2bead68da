//! Sector bitmaps, differentially: the input is the bitmap of block 9 of a differencing child
//! over a parent whose block 9 is full; every sector must read from the child exactly when its
//! own bit is set (the masked bit test libvhdi gets wrong), and the deep check's left-over scan
//! must agree with a naive one.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer::check::unused_nonzero_sectors;
use vhd_viewer::disk::bit;
use vhd_viewer::reader::{open_layer, DiskReader, ReadAt};
use vhd_viewer::vhd::writer::DiskBuilder;
use vhd_viewer::Disk;
use vhd_viewer_fuzz::*;

fuzz_target!(|data: &[u8]| {
    let block = 9u64;
    let sectors = u64::from(BS) / 512;
    // The same judgement as the core's, done naively.
    let naive = |s: u64| data.get((s / 8) as usize).is_some_and(|b| b & (0x80 >> (s % 8)) != 0);
    for s in 0..sectors * 2 {
        assert_eq!(bit(data, s), naive(s));
    }
    let block_data = pattern(9, BS as usize);
    let want_unused: Vec<u64> = (0..sectors).filter(|s| !naive(*s)).collect();
    assert_eq!(unused_nonzero_sectors(data, 0, &block_data), want_unused);

    let mut parent = DiskBuilder::dynamic(SIZE, BS);
    parent.write(block * u64::from(BS), &pattern(7, BS as usize));
    let mut child = DiskBuilder::differencing(&parent.parent_ref("p.vhd"), BS);
    child.set_bitmap(block, data).set_block_data(block, 0, &block_data);
    let files = [child.build(), parent.build()];
    let layers = files.iter().map(|f| open_layer(f).expect("writer output opens")).collect();
    let disk = Disk::new(layers, false).expect("writer chain is consistent");
    let sources: Vec<&dyn ReadAt> = files.iter().map(|f| f as &dyn ReadAt).collect();
    let mut r = DiskReader::new(&disk, sources).expect("reader");
    let mut got = vec![0u8; BS as usize];
    r.read(block * u64::from(BS), &mut got).expect("read");
    let parent_data = pattern(7, BS as usize);
    for s in 0..sectors as usize {
        let want = if naive(s as u64) { &block_data } else { &parent_data };
        assert_eq!(&got[s * 512..(s + 1) * 512], &want[s * 512..(s + 1) * 512], "sector {s}");
    }
    exercise(&files);
});
