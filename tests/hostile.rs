//! Hostile and damaged input (issue 5): every case of the list, built from the writer's
//! output with byte patches, fed to the core and to the command line. Each must give a clear
//! error or finding naming the right offset, with no panic, within bounded memory (bytes read
//! are counted) and bounded time (every command line run has a deadline).
//!
//! The same cases make the table in `docs/hostile-inputs.md`: `hostile_table_is_current`
//! regenerates it from what the command line actually prints and fails when the committed file
//! differs (`UPDATE_HOSTILE_TABLE=1 cargo test --test hostile` rewrites it).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use vhd_viewer::disk::MAX_CHAIN_DEPTH;
use vhd_viewer::reader::{open_layer, Counting, DiskReader, ReadAt};
use vhd_viewer::values::Uuid;
use vhd_viewer::vhd::footer::off as foff;
use vhd_viewer::vhd::header::off as hoff;
use vhd_viewer::vhd::writer::{fix_footer_checksum, fix_header_checksum, uuid_from_seed, DiskBuilder, ParentRef};
use vhd_viewer::{Disk, Error, Finding, Severity};

// ---------------------------------------------------------------------------------------------
// The images. The writer lays a sparse disk out as: footer copy at 0, dynamic header at 512,
// BAT at 1536 (padded to whole sectors), locator data, then the blocks; the footer at the end.

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
const HDR: usize = 512;
const BAT: usize = 1536;
/// 4 MiB dynamic disk with 64 KiB blocks: 64 BAT entries, one sector of BAT.
const DSIZE: u64 = 4 * MIB;
const DBS: u32 = 64 << 10;
/// Where the writer puts the blocks of the dynamic disk (after one sector of BAT).
const BLOCKS: usize = BAT + 512;
const BLOCK_LEN: usize = 512 + DBS as usize;

fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(37).wrapping_add(seed) | 1).collect()
}

/// The dynamic disk: blocks 0 and 16 written (in that order in the file).
fn dynamic() -> DiskBuilder {
    let mut d = DiskBuilder::dynamic(DSIZE, DBS);
    d.write(0, &pattern(1, 4096)).write(MIB + 512, &pattern(2, 1024));
    d
}

fn fixed() -> DiskBuilder {
    let mut f = DiskBuilder::fixed(MIB);
    f.write(4096, &pattern(3, 8192));
    f
}

/// A differencing child of [`dynamic`], named `base.vhd` by its locators, with one block.
fn child() -> DiskBuilder {
    let mut c = DiskBuilder::differencing(&dynamic().parent_ref("base.vhd"), DBS);
    c.write(512, &pattern(4, 512));
    c
}

fn be32(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}
fn be64(v: u64) -> [u8; 8] {
    v.to_be_bytes()
}

/// Patches the footer field at `field` in both footers of a sparse image (or the one of a fixed
/// image), with checksums recomputed.
fn patch_footers(file: &mut [u8], field: usize, bytes: &[u8], sparse: bool) {
    let end = file.len() - 512;
    let mut places = vec![end];
    if sparse {
        places.push(0);
    }
    for at in places {
        file[at + field..at + field + bytes.len()].copy_from_slice(bytes);
        fix_footer_checksum(file, at);
    }
}

fn patch_header(file: &mut [u8], field: usize, bytes: &[u8]) {
    file[HDR + field..HDR + field + bytes.len()].copy_from_slice(bytes);
    fix_header_checksum(file, HDR);
}

// ---------------------------------------------------------------------------------------------
// The cases.

/// What a case must give.
#[derive(Debug, Clone)]
enum Expect {
    /// The core refuses it: an error whose Display contains `text`, at `offset` (if any).
    Error { text: &'static str, offset: Option<u64> },
    /// The core opens it, with this finding (in layer 0 unless said) at this offset.
    Finding { code: &'static str, severity: Severity, offset: Option<u64> },
    /// The core opens it without any warning or error whose code starts with this.
    NoFinding(&'static str),
    /// Only the command line can tell (it looks at the files beside the one opened): its
    /// `check` prints this finding code (`error` false) or an error containing this text, with
    /// this offset. The core must merely not panic.
    Cli { text: &'static str, offset: Option<u64>, error: bool },
}

struct Case {
    /// Short name: the table's first column, and the test file's name.
    name: &'static str,
    /// The files, the opened one first (its parents are found through its locators).
    files: Vec<(String, Vec<u8>)>,
    expect: Expect,
    /// The command line's exit status for `check`.
    status: i32,
}

fn err(text: &'static str, offset: Option<u64>) -> Expect {
    Expect::Error { text, offset }
}
fn finding(code: &'static str, severity: Severity, offset: u64) -> Expect {
    Expect::Finding { code, severity, offset: Some(offset) }
}

fn one(name: &'static str, bytes: Vec<u8>, expect: Expect, status: i32) -> Case {
    Case { name, files: vec![(format!("{name}.vhd"), bytes)], expect, status }
}

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    let d = dynamic().build();
    let dend = (d.len() - 512) as u64;
    let fx = fixed().build();
    let fend = (fx.len() - 512) as u64;

    // --- Not a VHD at all.
    v.push(one("empty-file", Vec::new(), err("0 bytes long", None), 2));
    let text = "This is a text file, renamed to .vhd by mistake.\n".repeat(40).into_bytes();
    let tlen = text.len() as u64;
    v.push(one("text-file", text, err("not a VHD", Some(tlen - 512)), 2));
    let mut vhdx = b"vhdxfile".to_vec();
    vhdx.extend_from_slice(&utf16("vhd-viewer test"));
    vhdx.resize(64 * KIB as usize, 0);
    v.push(one("vhdx-file", vhdx, err("VHDX", Some(0)), 2));

    // --- Footers.
    let mut cut = fx.clone();
    cut.truncate(cut.len() - 512);
    let clen = cut.len() as u64;
    v.push(one("fixed-footer-missing", cut, err("not a VHD", Some(clen - 512)), 2));
    let mut cut = d.clone();
    cut.truncate(cut.len() - 512);
    let clen = cut.len() as u64;
    v.push(one("dynamic-footer-missing", cut, finding("footer-missing", Severity::Error, clen - 512), 1));
    let mut cut = d.clone();
    cut.truncate(cut.len() - 200);
    let clen = cut.len() as u64;
    v.push(one("dynamic-footer-cut-short", cut, finding("footer-missing", Severity::Error, clen - 512), 1));
    let mut f511 = fx.clone();
    f511.pop(); // the footer's last reserved byte: a 511-byte footer, as early Virtual PC wrote
    v.push(one("footer-511-bytes", f511, finding("footer-511", Severity::Error, fend), 1));
    let mut both = d.clone();
    both[0] = b'C';
    let n = both.len();
    both[n - 512] = b'C';
    v.push(one("both-footers-bad-cookie", both, err("Conectix", Some(dend)), 2));
    let mut cookie = d.clone();
    cookie[dend as usize..dend as usize + 8].copy_from_slice(b"conectiX");
    v.push(one("end-footer-wrong-cookie", cookie, finding("footer-missing", Severity::Error, dend), 1));
    let mut sum = d.clone();
    sum[dend as usize + foff::CHECKSUM] ^= 0x55;
    v.push(one("end-footer-wrong-checksum", sum, finding("footer-checksum", Severity::Error, dend), 1));
    let mut sum = d.clone();
    sum[foff::CHECKSUM] ^= 0x55;
    v.push(one("footer-copy-wrong-checksum", sum, finding("footer-copy-checksum", Severity::Error, foff::CHECKSUM as u64), 1));
    let mut sum = d.clone();
    sum[foff::CHECKSUM] ^= 0x55;
    sum[dend as usize + foff::CHECKSUM] ^= 0x55;
    v.push(one("both-footers-wrong-checksum", sum, finding("footer-checksum", Severity::Error, dend + foff::CHECKSUM as u64), 1));
    let mut sum = fx.clone();
    sum[fend as usize + foff::CHECKSUM] ^= 0x55;
    v.push(one("fixed-footer-wrong-checksum", sum, finding("footer-checksum", Severity::Error, fend + foff::CHECKSUM as u64), 1));
    let mut copy = d.clone();
    copy[..8].copy_from_slice(b"xxxxxxxx");
    v.push(one("footer-copy-missing", copy, finding("footer-copy-missing", Severity::Error, 0), 1));

    // --- Disk type and size.
    for (name, t) in [("disk-type-0", 0u32), ("disk-type-1", 1), ("disk-type-5", 5), ("disk-type-6", 6), ("disk-type-unknown", 0x1234_5678)]
    {
        let mut f = d.clone();
        patch_footers(&mut f, foff::DISK_TYPE, &be32(t), true);
        v.push(one(name, f, err("disk type", Some(dend + foff::DISK_TYPE as u64)), 2));
    }
    let mut f = fx.clone();
    patch_footers(&mut f, foff::CURRENT_SIZE, &be64(0), false);
    v.push(one("current-size-0", f, finding("size-zero", Severity::Warning, fend + foff::CURRENT_SIZE as u64), 0));
    let mut f = d.clone();
    patch_footers(&mut f, foff::CURRENT_SIZE, &be64(2041 * GIB), true);
    v.push(one("current-size-2041-gib", f, finding("size-too-large", Severity::Error, dend + foff::CURRENT_SIZE as u64), 1));
    let mut f = fx.clone();
    patch_footers(&mut f, foff::CURRENT_SIZE, &be64(u64::MAX - 511), false);
    v.push(one("fixed-current-size-2^64", f, finding("size-too-large", Severity::Error, fend + foff::CURRENT_SIZE as u64), 1));
    // 2040 GiB with 2 MiB blocks needs 1044480 BAT entries: 4 MiB of BAT, past the end of the file.
    let mut f = d.clone();
    patch_footers(&mut f, foff::CURRENT_SIZE, &be64(2040 * GIB), true);
    patch_header(&mut f, hoff::BLOCK_SIZE, &be32(2 << 20));
    patch_header(&mut f, hoff::MAX_TABLE_ENTRIES, &be32(1_044_480));
    v.push(one(
        "2040-gib-bat-past-eof",
        f,
        err("block allocation table (BAT) at byte 0x600 (4177920 bytes) reaches past the end", Some(BAT as u64)),
        2,
    ));

    // --- Dynamic header.
    let mut f = d.clone();
    patch_footers(&mut f, foff::DATA_OFFSET, &be64(GIB), true);
    v.push(one("data-offset-past-eof", f, err("dynamic header at byte 0x40000000", Some(GIB)), 2));
    let mut f = d.clone();
    patch_footers(&mut f, foff::DATA_OFFSET, &be64(0xffff_ffff), true);
    v.push(one("dynamic-data-offset-32bit", f, err("needs a data offset", Some(dend + foff::DATA_OFFSET as u64)), 2));
    let mut f = fx.clone();
    patch_footers(&mut f, foff::DATA_OFFSET, &be64(0xffff_ffff), false);
    v.push(one("fixed-data-offset-32bit", f, finding("data-offset-32bit", Severity::Error, fend + foff::DATA_OFFSET as u64), 1));
    let mut f = fx.clone();
    patch_footers(&mut f, foff::DATA_OFFSET, &be64(0x200), false);
    v.push(one("fixed-data-offset-0x200", f, finding("data-offset-fixed", Severity::Error, fend + foff::DATA_OFFSET as u64), 1));
    let mut f = d.clone();
    patch_footers(&mut f, foff::FILE_FORMAT_VERSION, &be32(0x0002_0000), true);
    v.push(one("footer-version-2", f, finding("footer-version", Severity::Error, dend + foff::FILE_FORMAT_VERSION as u64), 1));
    let mut f = d.clone();
    patch_header(&mut f, hoff::HEADER_VERSION, &be32(0x0002_0000));
    v.push(one("header-version-2", f, finding("header-version", Severity::Error, (HDR + hoff::HEADER_VERSION) as u64), 1));
    let mut f = d.clone();
    f[HDR..HDR + 8].copy_from_slice(b"cxsparsX");
    v.push(one("header-wrong-cookie", f, err("cxsparse", Some(HDR as u64)), 2));
    let mut f = d.clone();
    f[HDR + hoff::CHECKSUM] ^= 1;
    v.push(one("header-wrong-checksum", f, finding("header-checksum", Severity::Error, (HDR + hoff::CHECKSUM) as u64), 1));
    let mut f = d.clone();
    patch_header(&mut f, hoff::TABLE_OFFSET, &be64(GIB));
    v.push(one("bat-offset-past-eof", f, err("block allocation table (BAT) at byte 0x40000000", Some(GIB)), 2));
    let mut f = d.clone();
    patch_header(&mut f, hoff::TABLE_OFFSET, &be64(1024));
    v.push(one("bat-overlaps-header", f, finding("bat-overlaps-header", Severity::Error, (HDR + hoff::TABLE_OFFSET) as u64), 1));
    let mut f = d.clone();
    patch_header(&mut f, hoff::MAX_TABLE_ENTRIES, &be32(0));
    v.push(one("max-table-entries-0", f, finding("bat-too-short", Severity::Error, (HDR + hoff::MAX_TABLE_ENTRIES) as u64), 1));
    let mut f = d.clone();
    patch_header(&mut f, hoff::MAX_TABLE_ENTRIES, &be32(u32::MAX));
    v.push(one("max-table-entries-ffffffff", f, finding("bat-too-long", Severity::Error, (HDR + hoff::MAX_TABLE_ENTRIES) as u64), 1));
    // A few entries more than needed, inside the BAT's padded sector: the extra ones are unused.
    let mut f = d.clone();
    patch_header(&mut f, hoff::MAX_TABLE_ENTRIES, &be32(128));
    v.push(one("max-table-entries-128", f, finding("bat-too-long", Severity::Info, (HDR + hoff::MAX_TABLE_ENTRIES) as u64), 0));
    let mut f = d.clone();
    patch_footers(&mut f, foff::CURRENT_SIZE, &be64(2040 * GIB), true);
    patch_header(&mut f, hoff::BLOCK_SIZE, &be32(512));
    patch_header(&mut f, hoff::MAX_TABLE_ENTRIES, &be32(u32::MAX));
    v.push(one(
        "max-table-entries-ffffffff-needed",
        f,
        err("more than the 4194304 this viewer loads", Some((HDR + hoff::MAX_TABLE_ENTRIES) as u64)),
        2,
    ));
    // A BAT far too short for the size, with the smallest blocks: mapping the disk block by
    // block would take billions of steps; the stretch no BAT entry covers is one.
    let mut f = d.clone();
    patch_footers(&mut f, foff::CURRENT_SIZE, &be64(2040 * GIB), true);
    patch_header(&mut f, hoff::BLOCK_SIZE, &be32(512));
    v.push(one("bat-too-short-512-byte-blocks", f, finding("bat-too-short", Severity::Error, (HDR + hoff::MAX_TABLE_ENTRIES) as u64), 1));
    let mut f = d.clone();
    patch_header(&mut f, hoff::BLOCK_SIZE, &be32(0));
    v.push(one("block-size-0", f, err("block size 0", Some((HDR + hoff::BLOCK_SIZE) as u64)), 2));
    let mut f = d.clone();
    patch_header(&mut f, hoff::BLOCK_SIZE, &be32(1000));
    v.push(one("block-size-not-sectors", f, err("block size 1000", Some((HDR + hoff::BLOCK_SIZE) as u64)), 2));
    let mut f = d.clone();
    patch_header(&mut f, hoff::BLOCK_SIZE, &be32(3 * 512));
    v.push(one(
        "block-size-not-power-of-two",
        f,
        finding("block-size-not-power-of-two", Severity::Error, (HDR + hoff::BLOCK_SIZE) as u64),
        1,
    ));
    let mut f = d.clone();
    patch_header(&mut f, hoff::BLOCK_SIZE, &be32(1 << 31));
    v.push(one("block-size-huge", f, err("larger than the 256 MiB", Some((HDR + hoff::BLOCK_SIZE) as u64)), 2));

    // --- BAT entries.
    let mut f = d.clone();
    f[BAT + 4 * 16..BAT + 4 * 16 + 4].copy_from_slice(&be32(0x00ff_ffff));
    v.push(one("bat-entry-past-eof", f, finding("block-past-eof", Severity::Error, (BAT + 4 * 16) as u64), 1));
    let mut f = d.clone();
    f[BAT + 4 * 16..BAT + 4 * 16 + 4].copy_from_slice(&be32(1));
    v.push(one("bat-entry-into-metadata", f, finding("block-overlaps-metadata", Severity::Error, (BAT + 4 * 16) as u64), 1));
    let mut f = d.clone();
    let first = f[BAT..BAT + 4].to_vec();
    f[BAT + 4 * 16..BAT + 4 * 16 + 4].copy_from_slice(&first);
    v.push(one("bat-same-block-twice", f, finding("blocks-overlap", Severity::Error, (BAT + 4 * 16) as u64), 1));
    // Cut in the middle of the second block's bitmap: the end footer goes too.
    let mut f = d.clone();
    f.truncate(BLOCKS + BLOCK_LEN + 100);
    v.push(one("bitmap-cut-short", f, finding("block-past-eof", Severity::Error, (BAT + 4 * 16) as u64), 1));

    // --- Parent locators (on a differencing child; its parent base.vhd is beside it).
    let base = ("base.vhd".to_string(), d.clone());
    let c = child().build();
    let loc0 = HDR + hoff::PARENT_LOCATORS;
    let loc_data = u64::from_be_bytes(c[loc0 + 16..loc0 + 24].try_into().unwrap()) as usize;
    let with_base = |name: &'static str, child: Vec<u8>, expect: Expect, status: i32| Case {
        name,
        files: vec![(format!("{name}.vhd"), child), base.clone()],
        expect,
        status,
    };
    let mut f = c.clone();
    patch_header(&mut f, hoff::PARENT_LOCATORS + 16, &be64(GIB));
    v.push(with_base("locator-offset-past-eof", f, finding("locator-out-of-range", Severity::Error, loc0 as u64), 1));
    let mut f = c.clone();
    patch_header(&mut f, hoff::PARENT_LOCATORS + 16, &be64(32 * KIB));
    patch_header(&mut f, hoff::PARENT_LOCATORS + 8, &be32(60_000));
    v.push(with_base("locator-length-past-eof", f, finding("locator-out-of-range", Severity::Error, loc0 as u64), 1));
    let mut f = c.clone();
    patch_header(&mut f, hoff::PARENT_LOCATORS + 8, &be32(u32::MAX));
    v.push(with_base("locator-length-huge", f, finding("locator-out-of-range", Severity::Error, loc0 as u64), 1));
    let mut f = c.clone();
    f[loc_data..loc_data + 2].copy_from_slice(&[0x00, 0xd8]); // an unpaired high surrogate, little-endian
    v.push(with_base("locator-invalid-utf16", f, finding("locator-encoding", Severity::Error, loc_data as u64), 1));
    let mut mac = child();
    mac.clear_parent_locators().parent_locator_raw(*b"MacX", b"file:///vms/base\xff.vhd".to_vec());
    let f = mac.build();
    v.push(with_base("locator-invalid-utf8", f, finding("locator-encoding", Severity::Error, loc_data as u64), 1));
    let mut f = c.clone();
    patch_header(&mut f, hoff::PARENT_LOCATORS + 4, &be32(512));
    v.push(with_base("locator-space-in-bytes", f, Expect::NoFinding("locator"), 0));
    let mut f = c.clone();
    patch_header(&mut f, hoff::PARENT_LOCATORS + 4, &be32(0));
    v.push(with_base("locator-space-too-small", f, finding("locator-space", Severity::Warning, loc0 as u64), 0));

    // --- Size quirks: a 1 MiB disk, whose CHS geometry (30/4/17) describes 2040 sectors, not 2048.
    for (name, app, severity) in [
        ("creator-vpc", *b"vpc ", Severity::Warning),
        ("creator-qemu", *b"qemu", Severity::Warning),
        ("creator-win", *b"win ", Severity::Info),
        ("creator-qem2", *b"qem2", Severity::Info),
        ("creator-d2v", *b"d2v ", Severity::Info),
        ("creator-tap", *b"tap\0", Severity::Info),
        ("creator-wa", *b"wa\0\0", Severity::Info),
        // Virtual Server sizes by geometry like Virtual PC; qemu 10 uses the current size.
        ("creator-vs", *b"vs  ", Severity::Warning),
        // Any other creator: qemu 10 uses the current size (measured), as the spec says.
        ("creator-vbox", *b"vbox", Severity::Info),
        ("creator-vhd-viewer", *b"vhdv", Severity::Info),
    ] {
        let mut f = fixed();
        f.creator(app, 0x0005_0000, *b"Wi2k");
        v.push(one(name, f.build(), finding("geometry-size", severity, fend + foff::DISK_GEOMETRY as u64), 0));
    }

    // --- A Virtual PC split disk: the dynamic disk's file cut after its first block into
    // split.vhd and split.v01 (the end footer in the last piece).
    let at = BLOCKS + BLOCK_LEN;
    let pieces = vec![("split.vhd".to_string(), d[..at].to_vec()), ("split.v01".to_string(), d[at..].to_vec())];
    v.push(Case {
        name: "split-disk-first-piece",
        files: pieces.clone(),
        expect: Expect::Cli { text: "split-disk", offset: Some(at as u64), error: false },
        status: 1,
    });
    let mut later = pieces;
    later.reverse();
    v.push(Case {
        name: "split-disk-later-piece",
        files: later,
        expect: Expect::Cli { text: "piece 1 of a Virtual PC split disk", offset: None, error: true },
        status: 2,
    });

    // --- Chains.
    let mut other = dynamic();
    other.unique_id(uuid_from_seed(77));
    v.push(Case {
        name: "parent-id-mismatch",
        files: vec![("child.vhd".into(), c.clone()), ("base.vhd".into(), other.build())],
        expect: err("names its parent by unique id", Some((HDR + hoff::PARENT_UNIQUE_ID) as u64)),
        status: 2,
    });
    let (a, b) = looping_pair();
    v.push(Case { name: "chain-loops", files: vec![("a.vhd".into(), a), ("b.vhd".into(), b)], expect: err("loops", None), status: 2 });
    v.push(Case { name: "chain-1000-deep", files: deep_chain(1000), expect: err("more than 256 disks deep", None), status: 2 });
    v.extend(vhdx_cases());
    v
}

/// VHDX cases, made from the project's VHDX writer (identifier, headers at 64 and 128 KiB,
/// region tables at 192 and 256 KiB, the log at 1 MiB, the metadata region at 2 MiB, the BAT at
/// 3 MiB, the blocks after).
fn vhdx_cases() -> Vec<Case> {
    use vhd_viewer::crc32c::crc32c_with_zeroed;
    let fix = |f: &mut [u8], at: usize, len: usize| {
        let crc = crc32c_with_zeroed(&f[at..at + len], 4);
        f[at + 4..at + 8].copy_from_slice(&crc.to_le_bytes());
    };
    let good = vhdx_good();
    let base = good.build();
    let (log, meta, bat) = (MIB as usize, 2 * MIB as usize, 3 * MIB as usize);
    let items = meta + 0x10000;
    let mut v = Vec::new();
    let mut b = base.clone();
    b[0x20000 + 100] ^= 1;
    v.push(one("vhdx-header-crc-one", b, finding("vhdx-header-invalid", Severity::Warning, 0x20000), 0));
    let mut b = base.clone();
    b[0x10000 + 100] ^= 1;
    b[0x20000 + 100] ^= 1;
    v.push(one("vhdx-header-crc-both", b, err("neither VHDX header is valid", Some(0x10000)), 2));
    let mut b = base.clone();
    for at in [0x30000, 0x40000] {
        b[at + 16 + 16..at + 16 + 24].copy_from_slice(&(1u64 << 40).to_le_bytes());
        fix(&mut b, at, 0x10000);
    }
    v.push(one("vhdx-region-past-eof", b, err("reaches past the end of the file", Some(1 << 40)), 2));
    let mut b = base.clone();
    for at in [0x30000, 0x40000] {
        b[at + 8..at + 12].copy_from_slice(&3u32.to_le_bytes());
        b[at + 16 + 64..at + 16 + 80].copy_from_slice(&[0x5a; 16]);
        b[at + 16 + 92..at + 16 + 96].copy_from_slice(&1u32.to_le_bytes());
        fix(&mut b, at, 0x10000);
    }
    v.push(one("vhdx-region-unknown-required", b, err("marked required", Some(0x30000 + 16 + 64)), 2));
    let mut b = base.clone();
    b[bat..bat + 8].copy_from_slice(&(6u64 | 1 << 20).to_le_bytes());
    v.push(one("vhdx-bat-entry-into-log", b, finding("vhdx-block-overlaps-metadata", Severity::Error, bat as u64), 1));
    let mut b = base.clone();
    b[bat + 8..bat + 16].copy_from_slice(&5u64.to_le_bytes());
    v.push(one("vhdx-bat-state-5", b, finding("vhdx-bat-state", Severity::Error, bat as u64 + 8), 1));
    let mut dirty = good.clone();
    dirty.dirty_log = true;
    let mut b = dirty.build();
    b[log + 4096 + 100] ^= 1;
    v.push(one("vhdx-log-bad-checksum", b, finding("vhdx-log-invalid", Severity::Error, MIB), 1));
    let mut b = base.clone();
    b[items..items + 4].copy_from_slice(&(3 * MIB as u32).to_le_bytes());
    v.push(one("vhdx-block-size-3mib", b, err("block size is 3145728", Some(items as u64)), 2));
    let mut b = base.clone();
    b[items..items + 4].fill(0);
    v.push(one("vhdx-block-size-0", b, err("block size is 0", Some(items as u64)), 2));
    let mut b = base.clone();
    b[items + 8..items + 16].copy_from_slice(&u64::MAX.to_le_bytes());
    v.push(one("vhdx-disk-size-2^64", b, err("virtual disk size is", Some(items as u64 + 8)), 2));
    let mut b = base.clone();
    b[meta + 10..meta + 12].copy_from_slice(&u16::MAX.to_le_bytes());
    v.push(one("vhdx-metadata-count-65535", b, finding("vhdx-metadata-count", Severity::Error, meta as u64 + 10), 1));
    let mut b = base;
    b[meta..meta + 8].copy_from_slice(b"metadatx");
    v.push(one("vhdx-metadata-signature", b, err("no signature \"metadata\"", Some(meta as u64)), 2));
    v
}

/// The intact VHDX the VHDX cases are made from: a dynamic disk with data in blocks 0 and 3.
fn vhdx_good() -> vhd_viewer::vhdx::writer::VhdxBuilder {
    vhd_viewer::vhdx::writer::VhdxBuilder::new(4 * MIB).write(0, &pattern(20, 8192)).write(3 * MIB, &pattern(21, 512))
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// a.vhd names b.vhd as its parent and b.vhd names a.vhd, each by locator and unique id.
fn looping_pair() -> (Vec<u8>, Vec<u8>) {
    let (ia, ib) = (uuid_from_seed(1001), uuid_from_seed(1002));
    let pref = |id: Uuid, name: &str| ParentRef {
        unique_id: id,
        timestamp: vhd_viewer::values::Timestamp(0x2000_0000),
        size: DSIZE,
        file_name: name.into(),
    };
    let mut a = DiskBuilder::differencing(&pref(ib, "b.vhd"), DBS);
    a.unique_id(ia).write(0, &[1; 512]);
    let mut b = DiskBuilder::differencing(&pref(ia, "a.vhd"), DBS);
    b.unique_id(ib).write(512, &[2; 512]);
    (a.build(), b.build())
}

/// `d0.vhd` <- `d1.vhd` <- ... : `n` differencing disks over a dynamic base, the deepest opened.
fn deep_chain(n: usize) -> Vec<(String, Vec<u8>)> {
    let mut base = DiskBuilder::dynamic(DSIZE, DBS);
    base.unique_id(uuid_from_seed(5000));
    let mut files = vec![("d0.vhd".to_string(), base.build())];
    let mut parent = base;
    for i in 1..=n {
        let mut c = DiskBuilder::differencing(&parent.parent_ref(&format!("d{}.vhd", i - 1)), DBS);
        c.unique_id(uuid_from_seed(5000 + i as u64));
        files.push((format!("d{i}.vhd"), c.build()));
        parent = c;
    }
    files.reverse();
    files
}

// ---------------------------------------------------------------------------------------------
// The core.

/// What the core says about a case: the chain as the command line would open it (parents in
/// the order given), or the error; plus the bytes read while opening.
struct CoreAnswer {
    result: Result<Vec<Finding>, Error>,
    bytes_read: u64,
    disk: Option<Disk>,
}

fn core(case: &Case) -> CoreAnswer {
    let counting: Vec<Counting<Vec<u8>>> = case.files.iter().map(|(_, b)| Counting::new(b.clone())).collect();
    let mut layers = Vec::new();
    let mut error = None;
    for c in counting.iter().take(MAX_CHAIN_DEPTH + 1) {
        match open_layer(c) {
            Ok(l) => {
                let diff = l.disk_type() == vhd_viewer::image::DiskType::Differencing;
                layers.push(l);
                if !diff {
                    break;
                }
            }
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let bytes_read = counting.iter().map(|c| c.bytes()).sum();
    if let Some(e) = error {
        return CoreAnswer { result: Err(e), bytes_read, disk: None };
    }
    // A looping chain: the opened file again after the last.
    if case.name == "chain-loops" {
        layers.push(layers[0].clone());
    }
    match Disk::new(layers, false) {
        Ok(disk) => CoreAnswer { result: Ok(disk.all_findings()), bytes_read, disk: Some(disk) },
        Err(e) => CoreAnswer { result: Err(e), bytes_read, disk: None },
    }
}

#[test]
fn core_gives_the_expected_error_or_finding_with_its_offset() {
    let mut failures = Vec::new();
    for case in cases() {
        let answer = core(&case);
        let total: u64 = case.files.iter().map(|(_, b)| b.len() as u64).sum();
        // Bounded memory: opening never reads more than the files hold (and the BAT cap).
        assert!(answer.bytes_read <= total.max(4096), "{}: read {} bytes of {}", case.name, answer.bytes_read, total);
        match (&case.expect, &answer.result) {
            (Expect::Error { text, offset }, Err(e)) => {
                if !e.to_string().contains(text)
                    || (offset.is_some() && e.offset() != *offset && !e.to_string().contains(&format!("{:#x}", offset.unwrap_or(0))))
                {
                    failures.push(format!("{}: expected an error with {text:?} at {offset:?}, got {e:?} ({e})", case.name));
                }
            }
            (Expect::Cli { .. }, _) => {}
            (Expect::NoFinding(prefix), Ok(findings)) => {
                let bad: Vec<_> = findings.iter().filter(|f| f.severity > Severity::Info && f.code.starts_with(prefix)).collect();
                if !bad.is_empty() {
                    failures.push(format!("{}: expected no warnings or errors, got {bad:?}", case.name));
                }
            }
            (Expect::Finding { code, severity, offset }, Ok(findings)) => {
                if !findings.iter().any(|f| f.code == *code && f.severity == *severity && f.offset == *offset && f.layer == 0) {
                    failures.push(format!("{}: expected finding {code} ({severity:?}) at {offset:?}, got {findings:#?}", case.name));
                }
            }
            (want, got) => failures.push(format!(
                "{}: expected {want:?}, got {:?}",
                case.name,
                got.as_ref().map(|f| f.iter().map(|f| f.code).collect::<Vec<_>>())
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every case that opens can be mapped whole and read (or refuses a read with an error naming
/// the offset), reading a bounded number of bytes, and the deep check runs.
#[test]
fn core_maps_reads_and_checks_every_openable_case_within_bounds() {
    for case in cases() {
        let answer = core(&case);
        let Some(disk) = answer.disk else { continue };
        let counting: Vec<Counting<Vec<u8>>> = case.files.iter().take(disk.layers.len()).map(|(_, b)| Counting::new(b.clone())).collect();
        let sources: Vec<&dyn ReadAt> = counting.iter().map(|c| c as &dyn ReadAt).collect();
        let mut r = DiskReader::new(&disk, sources).unwrap();
        let started = Instant::now();
        let mut extents = 0u64;
        let mut covered = 0u64;
        let mapped = r.for_each_extent(0, u64::MAX, |e| {
            assert_eq!(e.offset, covered, "{}: extents must be contiguous", case.name);
            covered += e.len;
            extents += 1;
            Ok(())
        });
        match mapped {
            Ok(()) => assert_eq!(covered, disk.size(), "{}: the map must cover the disk", case.name),
            Err(e) => assert!(e.offset().is_some(), "{}: a map error must name an offset: {e}", case.name),
        }
        // Read the first and last 64 KiB.
        for at in [0, disk.size().saturating_sub(64 * KIB)] {
            let mut buf = vec![0u8; (64 * KIB).min(disk.size() - at) as usize];
            if let Err(e) = r.read(at, &mut buf) {
                assert!(e.offset().is_some(), "{}: a read error must name an offset: {e}", case.name);
            }
        }
        let _ = vhd_viewer::check::scan(&mut r, &mut |_, _| {}).map_err(|e| assert!(e.offset().is_some(), "{}: {e}", case.name));
        let total: u64 = case.files.iter().map(|(_, b)| b.len() as u64).sum();
        let read: u64 = counting.iter().map(|c| c.bytes()).sum();
        assert!(read <= 4 * total, "{}: read {read} bytes for files of {total}", case.name);
        assert!(extents < 10_000, "{}: {extents} extents", case.name);
        assert!(started.elapsed() < Duration::from_secs(10), "{}: took {:?}", case.name, started.elapsed());
    }
}

// ---------------------------------------------------------------------------------------------
// The command line.

/// The case's files in a folder of their own (`tag` keeps tests running at once apart).
fn dir_for(case: &Case, tag: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hostile").join(tag).join(case.name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    for (name, bytes) in &case.files {
        std::fs::write(d.join(name), bytes).unwrap();
    }
    d
}

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Runs the command line with a deadline; a run past it is killed and fails the test.
fn run(args: &[&str], cwd: &Path, deadline: Duration) -> Run {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vhd-viewer"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = std::thread::scope(|s| {
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let o = s.spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
        let e = s.spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            if started.elapsed() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("vhd-viewer {args:?} in {} did not finish within {deadline:?}", cwd.display());
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        Run { status: status.code().unwrap_or(-1), stdout: o.join().unwrap(), stderr: e.join().unwrap(), took: started.elapsed() }
    });
    assert!(!out.stderr.contains("panicked"), "vhd-viewer {args:?} panicked: {}", out.stderr);
    out
}

/// The line of `check`'s output that carries the expected finding (or the error on stderr).
fn cli_answer(case: &Case, r: &Run) -> String {
    match &case.expect {
        Expect::Error { .. } | Expect::Cli { error: true, .. } => r.stderr.trim().lines().next().unwrap_or_default().to_string(),
        Expect::Cli { text, .. } => {
            let tag = format!("[{text}]");
            r.stdout.lines().find(|l| l.contains(&tag)).unwrap_or_default().trim().to_string()
        }
        Expect::NoFinding(_) => r.stdout.lines().next().unwrap_or_default().trim().to_string(),
        Expect::Finding { code, .. } => {
            let tag = format!("[{code}]");
            r.stdout.lines().find(|l| l.contains(&tag)).unwrap_or_default().trim().to_string()
        }
    }
}

#[test]
fn command_line_survives_every_case() {
    let mut failures = Vec::new();
    for case in cases() {
        let dir = dir_for(&case, "cli");
        let file = case.files[0].0.as_str();
        let r = run(&["check", file], &dir, Duration::from_secs(60));
        let line = cli_answer(&case, &r);
        if r.status != case.status {
            failures.push(format!("{}: check exited {} (expected {}): {}{}", case.name, r.status, case.status, r.stdout, r.stderr));
        }
        match &case.expect {
            Expect::Error { text, offset } | Expect::Cli { text, offset, error: true } => {
                if !line.contains(text) || offset.is_some_and(|o| !line.contains(&format!("{o:#x}"))) {
                    failures.push(format!("{}: expected an error with {text:?} at {offset:?}, got {line:?}", case.name));
                }
            }
            Expect::NoFinding(prefix) => {
                if r.stdout.contains(&format!("[{prefix}")) {
                    failures.push(format!("{}: expected no {prefix} finding, got:\n{}", case.name, r.stdout));
                }
            }
            Expect::Finding { offset, .. } | Expect::Cli { offset, .. } => {
                if line.is_empty() || offset.is_some_and(|o| !line.contains(&format!("{o:#x}"))) {
                    failures.push(format!("{}: expected the finding at {offset:?}, got:\n{}", case.name, r.stdout));
                }
            }
        }
        // info, map and (for small disks) cat finish too, without a panic; exit 0, 1 or 2.
        for args in [
            vec!["info", file],
            vec!["info", file, "--json"],
            vec!["map", file],
            vec!["map", file, "--json"],
            vec!["check", file, "--quick"],
        ] {
            let r = run(&args, &dir, Duration::from_secs(60));
            assert!((0..=2).contains(&r.status), "{}: {args:?} exited {}", case.name, r.status);
            assert!(r.took < Duration::from_secs(30), "{}: {args:?} took {:?}", case.name, r.took);
        }
        let r = run(&["cat", file, "--length", "1M"], &dir, Duration::from_secs(60));
        assert!(r.status == 0 || r.status == 2, "{}: cat exited {}", case.name, r.status);
        // The commands that write new files (issues 13 and 23) finish too: written (0) or
        // refused with a reason (2); a refused one leaves nothing. `repair` has its own test below.
        for args in [
            vec!["convert", file, "out.vhd"],
            vec!["convert", file, "out.vhd", "--to", "fixed"],
            vec!["convert", file, "out.vhd", "--for", "azure"],
            vec!["compact", file, "out.vhd"],
            vec!["resize", file, "out.vhd", "--size", "+1M"],
            vec!["resize", file, "out.vhd", "--size", "1M"],
        ] {
            let _ = std::fs::remove_file(dir.join("out.vhd"));
            let r = run(&args, &dir, Duration::from_secs(60));
            assert!(r.status == 0 || r.status == 2, "{}: {args:?} exited {}: {}", case.name, r.status, r.stderr);
            assert!(r.took < Duration::from_secs(30), "{}: {args:?} took {:?}", case.name, r.took);
            assert_eq!(r.status == 0, dir.join("out.vhd").exists(), "{}: {args:?}", case.name);
            if r.status == 2 {
                assert!(r.stderr.starts_with("vhd-viewer: "), "{}: {args:?} refused without a reason", case.name);
            }
        }
        if r.status == 2 && case.status != 2 {
            assert!(r.stderr.contains("0x"), "{}: cat's error names no offset: {}", case.name, r.stderr);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---------------------------------------------------------------------------------------------
// The table in docs/hostile-inputs.md.

/// What was done to the writer's file, in words.
fn describe(name: &str) -> &'static str {
    match name {
        "empty-file" => "a 0-byte file",
        "text-file" => "a text file renamed `.vhd`",
        "vhdx-file" => "a VHDX file cut short after 64 KiB (signature `vhdxfile` at byte 0)",
        "fixed-footer-missing" => "a fixed disk without its footer (cut short by 512 bytes)",
        "vhdx-header-crc-one" => "a VHDX whose header 2 (the current one) has a wrong CRC-32C",
        "vhdx-header-crc-both" => "a VHDX whose headers both have a wrong CRC-32C",
        "vhdx-region-past-eof" => "a VHDX whose region tables put the BAT 1 TiB past the end of the file",
        "vhdx-region-unknown-required" => "a VHDX whose region tables have an unknown region marked required",
        "vhdx-bat-entry-into-log" => "a VHDX whose BAT entry 0 puts payload block 0 in the log",
        "vhdx-bat-state-5" => "a VHDX whose BAT entry 1 has state 5, which the spec does not define",
        "vhdx-log-bad-checksum" => "a VHDX not closed cleanly whose first log entry has a wrong CRC-32C",
        "vhdx-block-size-3mib" => "a VHDX with a block size of 3 MiB (not a power of two: no whole chunk ratio)",
        "vhdx-block-size-0" => "a VHDX with a block size of 0 (the chunk ratio would divide by zero)",
        "vhdx-disk-size-2^64" => "a VHDX with a virtual disk size of 2^64 - 1 bytes",
        "vhdx-metadata-count-65535" => "a VHDX whose metadata table says it has 65535 entries",
        "vhdx-metadata-signature" => "a VHDX whose metadata table has a wrong signature",
        "dynamic-footer-missing" => "a dynamic disk without its end footer",
        "dynamic-footer-cut-short" => "a dynamic disk cut short inside its end footer (200 bytes missing)",
        "footer-511-bytes" => "a fixed disk with a 511-byte footer (early Virtual PC)",
        "both-footers-bad-cookie" => "a dynamic disk whose footer and footer copy both have a wrong cookie",
        "end-footer-wrong-cookie" => "a dynamic disk whose end footer has a wrong cookie",
        "end-footer-wrong-checksum" => "a dynamic disk whose end footer has a wrong checksum",
        "footer-copy-wrong-checksum" => "a dynamic disk whose footer copy at byte 0 has a wrong checksum",
        "both-footers-wrong-checksum" => "a dynamic disk whose footer and copy both have wrong checksums",
        "fixed-footer-wrong-checksum" => "a fixed disk whose footer has a wrong checksum",
        "footer-copy-missing" => "a dynamic disk whose first 512 bytes are not a footer copy",
        "disk-type-0" => "disk type 0 (none)",
        "disk-type-1" => "disk type 1 (reserved)",
        "disk-type-5" => "disk type 5 (reserved)",
        "disk-type-6" => "disk type 6 (reserved)",
        "disk-type-unknown" => "disk type 0x12345678",
        "current-size-0" => "a fixed disk whose current size is 0",
        "current-size-2041-gib" => "a dynamic disk whose current size is 2041 GiB (its BAT covers 4 MiB)",
        "fixed-current-size-2^64" => "a fixed disk whose current size is 2^64 - 512 bytes",
        "2040-gib-bat-past-eof" => "a 2040 GiB dynamic disk with 2 MiB blocks: its 4 MiB BAT lies past the end of the file",
        "data-offset-past-eof" => "a dynamic disk whose data offset (the header's place) is 1 GiB, past the end",
        "dynamic-data-offset-32bit" => "a dynamic disk whose data offset is 0xFFFFFFFF",
        "fixed-data-offset-32bit" => "a fixed disk whose data offset is 0xFFFFFFFF instead of all 64 bits set",
        "header-wrong-cookie" => "a dynamic header with the cookie `cxsparsX`",
        "header-wrong-checksum" => "a dynamic header with a wrong checksum",
        "bat-offset-past-eof" => "a BAT offset of 1 GiB, past the end",
        "bat-overlaps-header" => "a BAT offset of 1024: inside the dynamic header",
        "max-table-entries-0" => "`max table entries` 0",
        "max-table-entries-ffffffff" => "`max table entries` 0xFFFFFFFF on a 4 MiB disk",
        "max-table-entries-128" => {
            "`max table entries` 128 on a 4 MiB disk of 64 KiB blocks that needs 64 (the extra entries in the BAT sector's padding)"
        }
        "fixed-data-offset-0x200" => "a fixed disk whose data offset is 0x200 instead of 0xFFFFFFFFFFFFFFFF",
        "footer-version-2" => "a dynamic disk whose footer says file format version 2.0",
        "header-version-2" => "a dynamic header that says version 2.0",
        "max-table-entries-ffffffff-needed" => "`max table entries` 0xFFFFFFFF on a 2040 GiB disk with 512-byte blocks",
        "bat-too-short-512-byte-blocks" => "a 2040 GiB dynamic disk with 512-byte blocks and a BAT of 64 entries",
        "block-size-0" => "block size 0",
        "block-size-not-sectors" => "block size 1000 (not whole sectors)",
        "block-size-not-power-of-two" => "block size 1536 (whole sectors, not a power of two)",
        "block-size-huge" => "block size 2 GiB",
        "bat-entry-past-eof" => "a BAT entry pointing past the end of the file",
        "bat-entry-into-metadata" => "a BAT entry pointing at sector 1 (the dynamic header)",
        "bat-same-block-twice" => "two BAT entries pointing at the same block",
        "bitmap-cut-short" => "a dynamic disk cut short inside a block's sector bitmap",
        "locator-offset-past-eof" => "a parent locator whose data offset is past the end",
        "locator-length-past-eof" => "a parent locator whose data length reaches past the end",
        "locator-length-huge" => "a parent locator whose data length is 0xFFFFFFFF",
        "locator-invalid-utf16" => "a `W2ru` locator holding an unpaired UTF-16 surrogate",
        "locator-invalid-utf8" => "a `MacX` locator holding invalid UTF-8",
        "locator-space-in-bytes" => "a locator whose data space is in bytes (512), not sectors",
        "locator-space-too-small" => "a locator whose data space (0) is less than its data length",
        "parent-id-mismatch" => "a child whose parent (found by its locator) has another unique id",
        "chain-loops" => "a.vhd's parent is b.vhd, b.vhd's is a.vhd (by locators and unique ids)",
        "chain-1000-deep" => "a chain of 1000 differencing disks over a dynamic base",
        "split-disk-first-piece" => {
            "`split.vhd` beside `split.v01`: a dynamic disk's file split after its first block, as Virtual PC splits on FAT volumes"
        }
        "split-disk-later-piece" => "`split.v01`, the later piece of that split disk, opened alone",
        "creator-vpc" => "creator `vpc ` (Virtual PC), CHS 30/4/17 = 1044480 bytes, current size 1 MiB",
        "creator-qemu" => "creator `qemu`, CHS 30/4/17 = 1044480 bytes, current size 1 MiB",
        "creator-win" => "creator `win ` (Hyper-V), CHS 30/4/17 = 1044480 bytes, current size 1 MiB",
        "creator-qem2" => "creator `qem2` (qemu-img with force_size), same sizes",
        "creator-d2v" => "creator `d2v ` (Disk2vhd), same sizes",
        "creator-tap" => "creator `tap\\0` (Xen blktap), same sizes",
        "creator-wa" => "creator `wa\\0\\0` (Azure), same sizes",
        "creator-vs" => "creator `vs  ` (Virtual Server), same sizes",
        "creator-vbox" => "creator `vbox` (VirtualBox), same sizes",
        "creator-vhd-viewer" => "creator `vhdv` (this project's writer), same sizes",
        _ => "",
    }
}

fn table() -> String {
    let mut out = String::from(
        "# What the viewer says about hostile and damaged files\n\n\
         Generated by `tests/hostile.rs` from what `vhd-viewer check FILE` prints for each case (the\n\
         test fails when this file differs; `UPDATE_HOSTILE_TABLE=1 cargo test --test hostile`\n\
         rewrites it). Every file is made by the project's writer and then patched. Exit status:\n\
         0 no errors, 1 errors found (the disk can still be read, except where the finding says\n\
         otherwise), 2 not readable as a VHD. One rule sets each finding's severity: an error is\n\
         what the spec forbids or what Hyper-V, libvhdi or qemu-img refuse to open; a warning is\n\
         allowed (or only a \"should\" of the spec) but read differently by another reader, or\n\
         very unusual; info is worth knowing, nothing is wrong. Offsets are file offsets; `-` where the problem is\n\
         not at one place. `info`, `map` and `cat` are run on every case as well and finish\n\
         without a panic, within seconds. The web page is given every case too\n\
         (`tests/web/hostile.test.mjs`, from the files and answers `write_cases` makes): it reports\n\
         each as the command line does (a chain it sorts by unique id instead of following\n\
         locators: the same ids and offsets), and its full check, exact map and export finish.\n\n\
         | Input | `check` exit | Code | Offset | What the viewer says |\n\
         |---|---|---|---|---|\n",
    );
    for case in cases() {
        let dir = dir_for(&case, "table");
        let file = case.files[0].0.as_str();
        let r = run(&["check", file], &dir, Duration::from_secs(60));
        let line = cli_answer(&case, &r);
        let (code, offset, said) = match &case.expect {
            Expect::Error { .. } | Expect::Cli { error: true, .. } => {
                let msg = line.trim_start_matches("vhd-viewer: ").trim_start_matches(&format!("{file}: ")).to_string();
                let code = match core(&case).result {
                    Err(e) => error_name(&e),
                    Ok(_) => "?".into(),
                };
                let offset = core(&case).result.err().and_then(|e| e.offset()).map_or("-".to_string(), |o| format!("{o:#x}"));
                (code, offset, msg)
            }
            Expect::NoFinding(prefix) => ("-".into(), "-".into(), format!("no `{prefix}` finding; {}", line.trim_end_matches(':'))),
            Expect::Finding { code, offset, .. } | Expect::Cli { text: code, offset, .. } => {
                let msg = line.split_once("] ").map_or(line.clone(), |(_, m)| m.to_string());
                let sev = line.split_whitespace().next().unwrap_or_default();
                (format!("{sev} `{code}`"), offset.map_or("-".into(), |o| format!("{o:#x}")), msg)
            }
        };
        let said = if said.chars().count() > 260 { format!("{}…", said.chars().take(260).collect::<String>()) } else { said };
        out += &format!("| {} | {} | {} | {} | {} |\n", describe(case.name), r.status, code, offset, said.replace('|', "\\|"));
    }
    out
}

/// Where tests/files_hostile.rs's table starts in docs/hostile-inputs.md.
const FILES_MARK: &str = "\n## Partition tables and file systems\n";

fn error_name(e: &Error) -> String {
    format!("error `{}`", e.code())
}

#[test]
fn every_case_has_a_description() {
    for case in cases() {
        assert!(!describe(case.name).is_empty(), "{} has no description", case.name);
    }
}

#[test]
fn hostile_table_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs").join("hostile-inputs.md");
    let want = table();
    let whole = std::fs::read_to_string(&path).unwrap_or_default();
    // The partition and file-system table below belongs to tests/files_hostile.rs.
    let (have, rest) = whole.split_at(whole.find(FILES_MARK).unwrap_or(whole.len()));
    if std::env::var_os("UPDATE_HOSTILE_TABLE").is_some() {
        std::fs::write(&path, format!("{want}{rest}")).unwrap();
        return;
    }
    if have != want {
        let diff: Vec<String> = want
            .lines()
            .zip(have.lines().chain(std::iter::repeat("")))
            .filter(|(a, b)| a != b)
            .take(5)
            .map(|(a, b)| format!("- {b}\n+ {a}"))
            .collect();
        panic!(
            "docs/hostile-inputs.md is out of date (UPDATE_HOSTILE_TABLE=1 cargo test --test hostile rewrites it):\n{}",
            diff.join("\n")
        );
    }
}

/// Whatever the creator, the viewer reads the disk by `current size` (the spec's rule) and says
/// how other readers size it; the sector past the CHS size reads back as written.
#[test]
fn size_quirks_read_by_current_size() {
    for app in [*b"vpc ", *b"qemu", *b"win ", *b"qem2", *b"d2v ", *b"tap\0", *b"wa\0\0"] {
        let mut f = fixed();
        f.creator(app, 0x0005_0000, *b"Wi2k").write(MIB - 512, &[0x5a; 512]);
        let bytes = f.build();
        let disk = Disk::new(vec![open_layer(&bytes).unwrap()], false).unwrap();
        assert_eq!(disk.size(), MIB);
        let chs = disk.layers[0].geometry().size();
        assert_eq!(chs, 1_044_480);
        let mut last = [0u8; 512];
        DiskReader::new(&disk, vec![&bytes as &dyn ReadAt]).unwrap().read(MIB - 512, &mut last).unwrap();
        assert_eq!(last, [0x5a; 512]);
        let f = disk.all_findings().into_iter().find(|f| f.code == "geometry-size").expect("geometry-size");
        assert!(f.message.contains("1044480") && f.message.contains("1048576"), "{}", f.message);
    }
}

/// Opening reads only what it needs, however large the header says the BAT is: the two
/// footers, the header and at most the BAT entries the disk's size needs.
#[test]
fn opening_reads_little_for_huge_tables() {
    let by_name = |name: &str| cases().into_iter().find(|c| c.name == name).unwrap();
    // max table entries 0xFFFFFFFF on a 4 MiB disk: 64 entries (256 bytes) are read.
    let a = core(&by_name("max-table-entries-ffffffff"));
    assert!(a.result.is_ok());
    assert!(a.bytes_read <= 512 + 512 + 1024 + 256, "read {} bytes", a.bytes_read);
    // 2040 GiB with its 4 MiB BAT past the end: refused before the BAT is read.
    let b = core(&by_name("2040-gib-bat-past-eof"));
    assert!(matches!(b.result, Err(Error::OutOfFile { .. })));
    assert!(b.bytes_read <= 512 + 512 + 1024, "read {} bytes", b.bytes_read);
    // 0xFFFFFFFF entries that a 2040 GiB disk with 512-byte blocks would need: refused unread.
    let c = core(&by_name("max-table-entries-ffffffff-needed"));
    assert!(matches!(c.result, Err(Error::Vhd(vhd_viewer::error::VhdError::BatTooLarge { .. }))), "{:?}", c.result);
    assert!(c.bytes_read <= 512 + 512 + 1024, "read {} bytes", c.bytes_read);
}

// ---------------------------------------------------------------------------------------------
// The cases for the page's test (tests/web/hostile.test.mjs).

/// Writes every case's files, each case in a folder of its own named after it, into
/// `HOSTILE_CASES_DIR` (or a folder under the target directory when it is not set), with a
/// `cases.json` manifest of what the command line says about each: `check --json`'s exit status
/// and findings, the message it prints when the file cannot be read (exit 2), and `info --json`'s
/// `all_findings` otherwise. The page test compares the page with these; nothing here restates
/// an expectation, and the exit status must be the case's.
#[test]
fn write_cases() {
    use serde_json::{json, Value};
    let root = std::env::var_os("HOSTILE_CASES_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hostile").join("cases"), PathBuf::from);
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let mut manifest = Vec::new();
    for case in cases() {
        let dir = root.join(case.name);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in &case.files {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
        let file = case.files[0].0.as_str();
        let check = run(&["check", file, "--json"], &dir, Duration::from_secs(60));
        assert_eq!(check.status, case.status, "{}: check --json exited {}: {}", case.name, check.status, check.stderr);
        let (error, findings, check_findings) = if check.status == 2 {
            // "vhd-viewer: FILE: message" (the file's name only when the error is about one file).
            let line = check.stderr.trim().lines().next().unwrap_or_default();
            let msg = line.strip_prefix("vhd-viewer: ").unwrap_or(line);
            assert!(!msg.is_empty(), "{}: exit 2 without a message", case.name);
            (Value::String(msg.to_string()), Value::Null, Value::Null)
        } else {
            let info = run(&["info", file, "--json"], &dir, Duration::from_secs(60));
            assert!(info.status == 0, "{}: info --json exited {}: {}", case.name, info.status, info.stderr);
            let info: Value = serde_json::from_str(&info.stdout).unwrap();
            let check: Value = serde_json::from_str(&check.stdout).unwrap();
            (Value::Null, info["all_findings"].clone(), check)
        };
        let core_error = core(&case).result.err();
        manifest.push(json!({
            "name": case.name,
            "description": describe(case.name),
            "files": case.files.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            "status": check.status,
            "error": error,
            "error_offset": core_error.as_ref().and_then(|e| e.offset()),
            "findings": findings,
            "check_findings": check_findings,
        }));
    }
    std::fs::write(root.join("cases.json"), serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
}

/// The exit status's rule, checked against the readers it names: a case that `check` passes (exit
/// 0: no errors) is one that qemu-img and libvhdi both open. Where either refuses a case, the
/// viewer must call it an error (the cases above include every such refusal found here:
/// `footer-511-bytes`, `fixed-data-offset-*`, `footer-version-2`, `header-version-2`,
/// `max-table-entries-ffffffff`).
#[test]
fn a_disk_check_passes_is_one_qemu_img_and_libvhdi_open() {
    let mut refused = Vec::new();
    let mut passed = 0;
    for case in cases().into_iter().filter(|c| c.status == 0) {
        let dir = dir_for(&case, "rule");
        let file = dir.join(&case.files[0].0);
        let format = if case.name.starts_with("vhdx-") { "vhdx" } else { "vpc" };
        for (tool, args) in [("qemu-img", vec!["info", "-f", format]), ("vhdiinfo", vec![])] {
            let o = Command::new("timeout").arg("30").arg(tool).args(&args).arg(&file).stdin(Stdio::null()).output().unwrap();
            if !o.status.success() {
                refused.push(format!("{}: {tool} refuses it: {}", case.name, String::from_utf8_lossy(&o.stderr).trim()));
            }
        }
        passed += 1;
    }
    assert!(passed >= 10, "only {passed} cases pass check");
    assert!(refused.is_empty(), "check passes these, but a reader refuses them:\n{}", refused.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// `repair` (issue 13) on every case.

/// What `repair` must do with a case: its exit status, and the intact file the case was made
/// from (whose content the repaired copy must hold where nothing was lost).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Intact {
    /// Not repairable: exit 2, nothing written.
    Nothing,
    /// [`dynamic`].
    Dynamic,
    /// [`fixed`].
    Fixed,
    /// [`child`] over [`dynamic`] (`base.vhd` beside it).
    Child,
    /// The file itself is intact (the case is about its chain or its creator's quirks).
    Itself,
    /// [`vhdx_good`].
    Vhdx,
}

/// Every case's expected repair: (exit status, intact original). A new case without a line
/// here fails `repair_gives_back_what_is_recoverable_and_reports_the_rest`.
fn repair_expectation(name: &str) -> Option<(i32, Intact)> {
    use Intact::*;
    Some(match name {
        "empty-file"
        | "text-file"
        | "vhdx-file"
        | "fixed-footer-missing"
        | "both-footers-bad-cookie"
        | "disk-type-0"
        | "disk-type-1"
        | "disk-type-5"
        | "disk-type-6"
        | "disk-type-unknown"
        | "current-size-2041-gib"
        | "fixed-current-size-2^64"
        | "2040-gib-bat-past-eof"
        | "data-offset-past-eof"
        | "dynamic-data-offset-32bit"
        | "header-wrong-cookie"
        | "bat-offset-past-eof"
        | "max-table-entries-ffffffff-needed"
        | "bat-too-short-512-byte-blocks"
        | "block-size-0"
        | "block-size-not-sectors"
        | "block-size-huge"
        | "split-disk-first-piece"
        | "split-disk-later-piece" => (2, Nothing),
        // A VHDX: repaired in its own layout. Both headers bad, a region or metadata the disk
        // cannot be read without: not repairable.
        "vhdx-header-crc-one" | "vhdx-bat-state-5" => (0, Vhdx),
        // Block 0 in the log: made not present, lost.
        "vhdx-bat-entry-into-log" => (1, Vhdx),
        // The log's writes are lost: the copy reads as the input reads (as stored).
        "vhdx-log-bad-checksum" => (1, Itself),
        // Which metadata entries are real is not known: not fixed.
        "vhdx-metadata-count-65535" => (1, Vhdx),
        n if n.starts_with("vhdx-") => (2, Nothing),
        "dynamic-footer-missing"
        | "dynamic-footer-cut-short"
        | "end-footer-wrong-cookie"
        | "end-footer-wrong-checksum"
        | "footer-copy-wrong-checksum"
        | "both-footers-wrong-checksum"
        | "footer-copy-missing"
        | "header-wrong-checksum"
        | "max-table-entries-0"
        | "max-table-entries-ffffffff"
        | "max-table-entries-128"
        | "footer-version-2"
        | "header-version-2" => (0, Dynamic),
        "footer-511-bytes" | "fixed-footer-wrong-checksum" | "fixed-data-offset-32bit" | "fixed-data-offset-0x200" => (0, Fixed),
        "locator-offset-past-eof"
        | "locator-length-past-eof"
        | "locator-length-huge"
        | "locator-invalid-utf16"
        | "locator-invalid-utf8"
        | "locator-space-in-bytes"
        | "locator-space-too-small" => (0, Child),
        "parent-id-mismatch" | "chain-loops" | "chain-1000-deep" => (0, Itself),
        n if n.starts_with("creator-") => (0, Itself),
        // A block lost (reported), the rest recovered.
        "bat-entry-past-eof" | "bat-entry-into-metadata" | "bat-same-block-twice" | "bitmap-cut-short" => (1, Dynamic),
        // Defects with no right answer in the file: reported as not fixed.
        "current-size-0" => (1, Fixed),
        "bat-overlaps-header" | "block-size-not-power-of-two" => (1, Dynamic),
        _ => return None,
    })
}

/// The sectors a file holds itself, as (virtual sector, bytes), read by the core: a sparse
/// disk's sectors whose bitmap bit is set, a fixed disk's non-zero sectors.
fn held_sectors(bytes: &[u8]) -> Vec<(u64, Vec<u8>)> {
    let layer = open_layer(&bytes.to_vec()).unwrap();
    let size = layer.size();
    let mut out = Vec::new();
    if layer.vhdx().is_some() {
        // A VHDX without a parent: the non-zero sectors of its disk.
        let b = bytes.to_vec();
        let disk = Disk::new(vec![layer], false).unwrap();
        let mut rd = DiskReader::new(&disk, vec![&b as &dyn ReadAt]).unwrap();
        let mut all = vec![0u8; size as usize];
        rd.read(0, &mut all).unwrap();
        return all.chunks(512).enumerate().filter(|(_, c)| c.iter().any(|x| *x != 0)).map(|(s, c)| (s as u64, c.to_vec())).collect();
    }
    let vhd = layer.vhd().unwrap();
    match vhd.block_geometry() {
        None => {
            for (s, c) in bytes[..size.min(layer.data_end) as usize].chunks(512).enumerate() {
                if c.iter().any(|b| *b != 0) {
                    out.push((s as u64, c.to_vec()));
                }
            }
        }
        Some(geo) => {
            for b in 0..vhd.bat.len() as u64 {
                let Some(at) = vhd.block_offset(b) else { continue };
                let at = at as usize;
                let bitmap = &bytes[at..at + geo.bitmap_size as usize];
                for s in 0..geo.block_size / 512 {
                    let v = b * geo.block_size + s * 512;
                    if bitmap[(s / 8) as usize] & (0x80 >> (s % 8)) != 0 && v < size {
                        let d = at + geo.bitmap_size as usize + (s * 512) as usize;
                        out.push((v / 512, bytes[d..d + 512].to_vec()));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn repair_gives_back_what_is_recoverable_and_reports_the_rest() {
    let mut failures = Vec::new();
    for case in cases() {
        let Some((status, intact)) = repair_expectation(case.name) else {
            failures.push(format!("{}: no repair expectation (add it to repair_expectation)", case.name));
            continue;
        };
        let dir = dir_for(&case, "repair");
        let file = case.files[0].0.as_str();
        let r = run(&["repair", file, "repaired.vhd"], &dir, Duration::from_secs(60));
        let out = dir.join("repaired.vhd");
        let fail = |why: String| format!("{}: {why}\nstdout: {}\nstderr: {}", case.name, r.stdout, r.stderr);
        if r.status != status {
            failures.push(fail(format!("repair exited {} (expected {status})", r.status)));
            continue;
        }
        let leftovers: Vec<_> =
            std::fs::read_dir(&dir).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().ends_with(".part")).collect();
        assert!(leftovers.is_empty(), "{}: a partial file was left", case.name);
        if status == 2 {
            if out.exists() || !r.stderr.contains("vhd-viewer: ") {
                failures.push(fail("exit 2 must write nothing and say why".into()));
            }
            continue;
        }
        let repaired = std::fs::read(&out).unwrap();
        // The copy is sound: the viewer's deep check finds no error, unless a defect was left.
        // (The chain cases' copies are sound files in a broken chain, as their originals are:
        // `check` of the chain fails on the chain; repair's own check of the file alone is used.)
        let check = run(&["check", "repaired.vhd"], &dir, Duration::from_secs(60));
        let not_fixed = r.stdout.lines().any(|l| l.trim_start().starts_with("not fixed"));
        let chain_case = matches!(case.name, "parent-id-mismatch" | "chain-loops" | "chain-1000-deep");
        if chain_case
            && (check.status != case.status || !r.stdout.contains("the copy's own check (vhd-viewer check repaired.vhd): no errors"))
        {
            failures.push(fail(format!("the copy of a sound file in a broken chain: check exited {}", check.status)));
        } else if !chain_case && check.status != 0 && !not_fixed {
            failures.push(fail(format!("the copy's check exited {}: {}", check.status, check.stdout)));
        }
        let original = match intact {
            Intact::Dynamic => dynamic().build(),
            Intact::Fixed => fixed().build(),
            Intact::Child => child().build(),
            Intact::Vhdx => vhdx_good().build(),
            Intact::Itself | Intact::Nothing => case.files[0].1.clone(),
        };
        let want = held_sectors(&original);
        let got = held_sectors(&repaired);
        if status == 0 {
            if got != want {
                failures.push(fail("the copy does not hold the intact file's sectors".into()));
            }
            // Independent readers: the flattened disk, where the case has one.
            let flat = |bytes: &[u8]| {
                let l = open_layer(&bytes.to_vec()).unwrap();
                let disk = Disk::new(vec![l], false).unwrap();
                let b = bytes.to_vec();
                let mut rd = DiskReader::new(&disk, vec![&b as &dyn ReadAt]).unwrap();
                let mut all = vec![0u8; disk.size() as usize];
                rd.read(0, &mut all).unwrap();
                all
            };
            match intact {
                Intact::Dynamic | Intact::Fixed | Intact::Vhdx => {
                    let w = flat(&original);
                    let (t, f) = if intact == Intact::Vhdx { ("-tVHDX", "vhdx") } else { ("-tVHD", "vpc") };
                    let z = Command::new("7zz").args(["x", t, "-so"]).arg(&out).output().unwrap();
                    let q = dir.join("q.raw");
                    let qs = Command::new("qemu-img").args(["convert", "-f", f, "-O", "raw"]).arg(&out).arg(&q).status().unwrap();
                    if !z.status.success() || z.stdout != w || !qs.success() || std::fs::read(&q).unwrap() != w {
                        failures.push(fail("7zz or qemu-img reads other bytes from the copy".into()));
                    }
                    let qc = Command::new("qemu-img").args(["check", "-f", f]).arg(&out).output().unwrap();
                    if intact == Intact::Vhdx && !qc.status.success() {
                        failures.push(fail(format!("qemu-img check of the copy: {}", String::from_utf8_lossy(&qc.stdout))));
                    }
                }
                Intact::Child => {
                    // 7-Zip finds base.vhd beside the copy.
                    let base = dynamic().build();
                    let (c, b) = (original.clone(), base.clone());
                    let disk = Disk::new(vec![open_layer(&c).unwrap(), open_layer(&b).unwrap()], false).unwrap();
                    let mut rd = DiskReader::new(&disk, vec![&c as &dyn ReadAt, &b as &dyn ReadAt]).unwrap();
                    let mut w = vec![0u8; disk.size() as usize];
                    rd.read(0, &mut w).unwrap();
                    let z = Command::new("7zz").args(["x", "-tVHD", "-so"]).arg(&out).output().unwrap();
                    if !z.status.success() || z.stdout != w {
                        failures.push(fail("7zz reads other bytes from the copy over base.vhd".into()));
                    }
                }
                _ => {}
            }
        } else {
            // Exit 1: the report says what was lost or left, with offsets; whatever is not
            // reported lost is recovered.
            let reported: Vec<&str> =
                r.stdout.lines().filter(|l| l.trim_start().starts_with("lost") || l.trim_start().starts_with("not fixed")).collect();
            if reported.is_empty() || !reported.iter().all(|l| l.contains("0x") || l.contains("in all; only the first")) {
                failures.push(fail("exit 1 without a lost or not fixed line naming its offset".into()));
            }
            // The virtual ranges reported lost.
            let lost: Vec<(u64, u64)> = r
                .stdout
                .lines()
                .filter(|l| l.trim_start().starts_with("lost"))
                .filter_map(|l| l.split("virtual bytes ").nth(1))
                .filter_map(|t| {
                    let (a, b) = t.split_once("..")?;
                    let b = b.split(')').next()?;
                    Some((
                        u64::from_str_radix(a.trim_start_matches("0x"), 16).ok()?,
                        u64::from_str_radix(b.trim_start_matches("0x"), 16).ok()?,
                    ))
                })
                .collect();
            if intact == Intact::Itself {
                // What was lost is not on the disk as the input reads it (a log that does not
                // verify): the copy reads as the input does.
                if got != want {
                    failures.push(fail("the copy should read as the input reads".into()));
                }
            } else if !not_fixed {
                let outside = |v: &Vec<(u64, Vec<u8>)>| -> Vec<(u64, Vec<u8>)> {
                    v.iter().filter(|(s, _)| !lost.iter().any(|(a, b)| s * 512 >= *a && s * 512 < *b)).cloned().collect()
                };
                if lost.is_empty() || outside(&got) != outside(&want) || got.len() >= want.len() {
                    failures.push(fail(format!("the copy should hold every sector outside the lost ranges {lost:x?}, and none inside")));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn repair_scrub_zeroes_left_overs_behind_clear_bits() {
    // The dynamic disk's block 0 with a left-over byte behind a clear bit (sector 20).
    let mut d = dynamic();
    d.set_block_data(0, 20 * 512 + 7, &[0x42]);
    let case = one("left-over", d.build(), Expect::NoFinding("x"), 0);
    let dir = dir_for(&case, "scrub");
    let r = run(&["check", "left-over.vhd"], &dir, Duration::from_secs(30));
    assert!(r.stdout.contains("unused-sectors-nonzero"), "{}", r.stdout);
    // Without --scrub the left-over is kept, and the copy's check says so (a warning: exit 0).
    let r = run(&["repair", "left-over.vhd", "plain.vhd"], &dir, Duration::from_secs(30));
    assert_eq!(r.status, 0, "{}", r.stdout);
    assert!(r.stdout.contains("still finds") && r.stdout.contains("[unused-sectors-nonzero]"), "{}", r.stdout);
    let r = run(&["repair", "left-over.vhd", "scrubbed.vhd", "--scrub"], &dir, Duration::from_secs(30));
    assert_eq!(r.status, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("1 sectors behind clear bitmap bits"), "{}", r.stdout);
    let r = run(&["check", "scrubbed.vhd"], &dir, Duration::from_secs(30));
    assert_eq!(r.status, 0, "{}", r.stdout);
    assert!(!r.stdout.contains("unused-sectors-nonzero"), "{}", r.stdout);
    let scrubbed = std::fs::read(dir.join("scrubbed.vhd")).unwrap();
    assert!(held_sectors(&scrubbed) == held_sectors(&dynamic().build()));
}
