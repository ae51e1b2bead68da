//! Inputs the fuzz targets (fuzz/) found to crash, hang or exhaust memory, rebuilt from a short
//! hex description (no binary files), each run through the same path as the fuzz target that
//! found it, with a deadline. Each names the core fix that made it pass.

use std::time::{Duration, Instant};

use vhd_viewer::reader::{open_layer, DiskReader, ReadAt};
use vhd_viewer::Disk;

/// `len` bytes: `hex` at the start, zeros after.
fn from_hex(hex: &str, len: usize) -> Vec<u8> {
    let mut out: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
    assert!(out.len() <= len);
    out.resize(len, 0);
    out
}

/// What `vhd_viewer_fuzz::exercise` does with one file: open, map the whole disk, read its
/// start, check. Must finish within `deadline` without a panic.
#[allow(clippy::ptr_arg)]
fn exercise(file: &Vec<u8>, deadline: Duration) {
    let started = Instant::now();
    let Ok(layer) = open_layer(file) else { return };
    let Ok(disk) = Disk::new(vec![layer], true) else { return };
    let mut r = DiskReader::new(&disk, vec![file as &dyn ReadAt]).unwrap();
    let mut covered = 0u64;
    let mapped = r.for_each_extent(0, u64::MAX, |e| {
        assert_eq!(e.offset, covered);
        covered += e.len;
        Ok(())
    });
    if mapped.is_ok() {
        assert_eq!(covered, disk.size());
    }
    let mut buf = vec![0u8; disk.size().min(64 << 10) as usize];
    let _ = r.read(0, &mut buf);
    let _ = vhd_viewer::check::scan(&mut r, &mut |_, _| {});
    assert!(started.elapsed() < deadline, "took {:?}", started.elapsed());
}

/// fuzz target `footer`, timeout (found 2026-11-25): a 512-byte file that is only a fixed disk's
/// footer, whose current size is 0x54b08714a4000000 bytes (about 6.1 EiB). Mapping it stepped
/// through the disk 1 MiB at a time: 5.8e12 steps. Fixed in reader.rs (`step_end`: a stretch no
/// layer allocates is one step) and disk.rs (`plan`: unallocated blocks up to the next
/// allocated one, and everything past the BAT, in one step).
#[test]
fn footer_timeout_huge_fixed_disk() {
    let footer = from_hex(
        "636f6e6563746978000000020001000000000000ffffffff200000041100000002ffffebfbc3f846f7cd38762dacaf9d54b08714a40000000000001100000002ffffebfbc3f846f7cd38762dacaf9d54b08714a4",
        512,
    );
    let mut footer = footer;
    footer[131] = 0x7b;
    exercise(&footer, Duration::from_secs(5));
    // The same footer at the end of 16 KiB of data.
    let mut fixed = vec![0u8; 16 << 10];
    fixed.extend_from_slice(&footer);
    exercise(&fixed, Duration::from_secs(5));
}
