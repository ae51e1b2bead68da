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

/// `len` bytes: each `(offset, hex)` piece at its offset, zeros elsewhere.
fn from_pieces(pieces: &[(usize, &str)], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    for (at, hex) in pieces {
        let b = from_hex(hex, hex.len() / 2);
        out[*at..*at + b.len()].copy_from_slice(&b);
    }
    out
}

/// fuzz target `ntfs`, crash (found 2026-12-07): an 8 MiB NTFS volume (mode byte 4, then the
/// volume's first bytes) whose root directory's `$INDEX_ROOT` (record 5, at 0x5400) says its
/// entries start at offset 0 of its index header, so that the first entry's length field is
/// the header's allocated size, 0. The `ntfs` crate 0.4.0 checked only that an entry's length
/// fits its node, cut the entry to 0 bytes and read its flags past the end: a panic at
/// `ntfs-0.4.0/src/index_entry.rs:205` (a length under 16 would also never advance). The input
/// here is the fuzzer's (65536 bytes, 3360 not zero) with every byte the panic did not need set
/// to zero. Fixed in the crate (vendor/ntfs: an entry shorter than its 16-byte header is refused,
/// and a resident value's position counts its value offset) and src/fs/ntfs.rs (the crate's
/// refusal becomes `ntfs-index-entry`, naming the entry's byte).
#[test]
fn ntfs_index_entry_shorter_than_its_header() {
    use vhd_viewer::fs::{walk, FileSystem, Volume};
    let head = from_pieces(
        &[
            (0x0003, "4e54465320202020000201"),
            (0x0030, "20"),
            (0x0040, "02"),
            (0x01fe, "55aa"),
            (0x4000, "46494c45300003"),
            (0x4014, "38000000980100000004"),
            (0x4030, "02"),
            (0x4038, "1000000060"),
            (0x4098, "3000000068"),
            (0x4100, "800000004800000001"),
            (0x4120, "40"),
            (0x4140, "113620"),
            (0x414c, "48"),
            (0x41fe, "02"),
            (0x43fe, "02"),
            (0x5400, "46494c45300003"),
            (0x5414, "380003"),
            (0x5430, "02"),
            (0x5438, "1000000048"),
            (0x5480, "3000000060"),
            (0x54e0, "5000000048"),
            (0x5528, "9000000058"),
            (0x5531, "0418"),
            (0x5538, "380000002000000024004900330030"),
            (0x555c, "28"),
            (0x55fe, "02"),
            (0x57fe, "02"),
        ],
        8 << 20,
    );
    let started = Instant::now();
    let mut vol = Volume::whole(head.clone());
    let mut fs = FileSystem::open(&mut vol).unwrap().expect("an NTFS volume");
    let root = fs.root();
    let err = fs.list(&mut vol, &root, false).unwrap_err();
    assert_eq!(err.code(), "ntfs-index-entry", "{err}");
    // The root's $INDEX_ROOT attribute is at 0x5528, its value at 0x5548 (value offset 0x20),
    // its index header at 0x5558, and the first entry at 0x5558 + 0 (the entries' offset).
    assert_eq!(err.offset(), Some(0x5558), "{err}");
    assert!(err.to_string().contains("length as 0 bytes"), "{err}");
    // The whole walk, as the fuzz target does it: errors, no panic.
    let _ = walk(&mut fs, &mut vol, &root, true, true, &mut |_| Ok(true));
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());

    // Made by hand from it (the same class in the index root's header): entries starting at
    // offset 0x20 of the header, past the used size's end, 0x10. The crate checked each end
    // against the value's length but not that the start comes before the end, and sliced
    // `[0x30..0x20]`: a panic in `NtfsIndexRoot::entry_ranges`.
    let mut head = head;
    head[0x5558..0x5560].copy_from_slice(&[0x20, 0, 0, 0, 0x10, 0, 0, 0]);
    let mut vol = Volume::whole(head);
    let mut fs = FileSystem::open(&mut vol).unwrap().expect("an NTFS volume");
    let err = fs.list(&mut vol, &root, false).unwrap_err();
    assert_eq!(err.code(), "ntfs-index-node", "{err}");
    // The node is the $INDEX_ROOT value, at 0x5548; its entries at bytes 0x30..0x20 of it.
    assert_eq!(err.offset(), Some(0x5548), "{err}");
}

/// fuzz target `ntfs`, crash (found 2026-12-07, in debug builds; release builds wrapped): an
/// 8 MiB NTFS volume whose record 8 holds a non-resident attribute claiming lowest virtual
/// cluster 0x3f00_0000_0000_0000. Asking who owns a byte built the owner index from every
/// record's runs, and the run's place in its attribute, virtual cluster times cluster size,
/// overflowed u64 (src/fs/ntfs.rs, `Ntfs::runs`). The fuzzer's input with every byte the panic
/// did not need set to zero. Fixed in `Ntfs::runs`: such a run, and the rest of its piece, hold
/// nothing a file can have and are left out.
#[test]
fn ntfs_run_past_two_to_the_64_bytes() {
    use vhd_viewer::fs::{FileSystem, Volume};
    let head = from_pieces(
        &[
            (0x0003, "4e54465320202020000201"),
            (0x0028, "ff0f"),
            (0x0030, "20"),
            (0x0040, "02"),
            (0x01fe, "55aa"),
            (0x4000, "46494c45300003"),
            (0x4014, "380000009801"),
            (0x4030, "02"),
            (0x403c, "60"),
            (0x409c, "68"),
            (0x4100, "800000004800000001"),
            (0x4120, "40"),
            (0x4131, "6c"),
            (0x4140, "1136"),
            (0x414c, "48"),
            (0x41fe, "02"),
            (0x43fe, "02"),
            (0x6000, "46494c45300003"),
            (0x6014, "380000007801"),
            (0x6030, "02"),
            (0x603c, "60"),
            (0x609c, "70"),
            (0x610c, "18"),
            (0x6124, "5000000001"),
            (0x6137, "3f"),
            (0x6140, "48"),
            (0x6168, "02000f"),
            (0x61fe, "02"),
            (0x63fe, "02"),
        ],
        8 << 20,
    );
    let started = Instant::now();
    let mut vol = Volume::whole(head);
    let mut fs = FileSystem::open(&mut vol).unwrap().expect("an NTFS volume");
    // The places the fuzz target asks about: each an owner or an error, no panic.
    for at in [0u64, 4096, 65536, 4 << 20] {
        let _ = fs.owner(&mut vol, at);
    }
    // The owner index was built past the bad record: a byte no run holds is said to be so.
    let far = fs.owner(&mut vol, 4 << 20).unwrap();
    assert!(far.what.contains("no record's runs hold it"), "{far:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}
