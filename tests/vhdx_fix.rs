//! `relink` and `repair` of VHDX files: the copies read against independent readers
//! (`qemu-img check` and `convert` where qemu reads the disk: it has no VHDX differencing
//! support; `7zz x -tVHDX`, which follows a child's parent locator itself; libvhdi's `vhdiinfo`
//! and `pyvhdi` with the parent set by hand) and this viewer's own `check`. Inputs are made by
//! `qemu-img` and by the project's writer (`VhdxBuilder`: differencing disks and dirty logs).

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

use vhd_viewer::reader::open_layer;
use vhd_viewer::vhdx::format::{Header, RegionTable, MIB};
use vhd_viewer::vhdx::writer::VhdxBuilder;
use vhd_viewer::vhdx::Guid;

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u32).wrapping_mul(2654435761).rotate_left(seed as u32 % 31) as u8 ^ seed).collect()
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d).unwrap();
    }
    write_atomic(&p, bytes);
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The expected content of a writer disk: `below` (or zeros), then its writes in order.
fn model(b: &VhdxBuilder, below: Option<&[u8]>) -> Vec<u8> {
    let mut v = below.map(<[u8]>::to_vec).unwrap_or_else(|| vec![0; b.size as usize]);
    v.resize(b.size as usize, 0);
    for (off, bytes) in &b.writes {
        v[*off as usize..*off as usize + bytes.len()].copy_from_slice(bytes);
    }
    v
}

fn sevenzip_vhdx(file: &Path) -> Vec<u8> {
    run_ok(Command::new("7zz").args(["x", "-tVHDX", "-so"]).arg(file)).stdout
}

fn qemu_raw_vhdx(file: &Path) -> Vec<u8> {
    let out = file.with_extension(format!("qemu{}.raw", std::process::id()));
    run_ok(Command::new("qemu-img").args(["convert", "-f", "vhdx", "-O", "raw"]).arg(file).arg(&out));
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    bytes
}

/// `qemu-img check` of a VHDX: no errors, no leaks.
fn qemu_check_clean(file: &Path) {
    let o = output(Command::new("qemu-img").args(["check", "-f", "vhdx"]).arg(file));
    assert!(o.status.success(), "qemu-img check {}: {}{}", file.display(), stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("No errors were found"), "qemu-img check {}: {}", file.display(), stdout(&o));
}

/// libvhdi's Python binding: the child read over `parent`.
fn pyvhdi_over(child: &Path, parent: &Path, size: u64) -> Vec<u8> {
    let script = format!(
        "import pyvhdi, sys\np = pyvhdi.file(); p.open('{}')\nc = pyvhdi.file(); c.open('{}')\nc.set_parent(p)\nsys.stdout.buffer.write(c.read_buffer_at_offset({size}, 0))\n",
        s(parent),
        s(child)
    );
    run_ok(Command::new("/usr/bin/python3").args(["-c", &script])).stdout
}

/// Our own check: no errors, no warnings.
fn our_check_clean(file: &Path, extra: &[&str]) {
    let mut args = vec!["check", s(file)];
    args.extend_from_slice(extra);
    let o = cli(&args);
    assert_eq!(o.status.code(), Some(0), "check {}: {}{}", file.display(), stdout(&o), stderr(&o));
}

/// Both headers valid, sequence numbers moved on past `seq`, the log clean, the
/// `DataWriteGuid` kept and the `FileWriteGuid` new.
fn headers_written_anew(copy: &[u8], input: &[u8]) {
    let old = |at: usize| Header::parse(&input[at..at + 4096]);
    let seq = [old(0x10000), old(0x20000)].iter().filter(|h| h.valid()).map(|h| h.sequence_number).max().unwrap();
    let cur = [old(0x10000), old(0x20000)].into_iter().find(|h| h.valid() && h.sequence_number == seq).unwrap();
    let h1 = Header::parse(&copy[0x10000..0x11000]);
    let h2 = Header::parse(&copy[0x20000..0x21000]);
    assert!(h1.valid() && h2.valid());
    assert_eq!((h1.sequence_number, h2.sequence_number), (seq + 1, seq + 2));
    for h in [&h1, &h2] {
        assert!(h.log_guid.is_nil(), "the copy's log is clean");
        assert_eq!(h.data_write_guid, cur.data_write_guid);
        assert_ne!(h.file_write_guid, cur.file_write_guid);
        assert_eq!((h.log_offset, h.log_length), (cur.log_offset, cur.log_length));
    }
    let t1 = RegionTable::parse(&copy[0x30000..0x40000]);
    assert!(t1.valid());
    assert_eq!(copy[0x30000..0x40000], copy[0x40000..0x50000]);
}

/// A child with a dirty log, relinked to its parent moved and renamed: the copy finds it through
/// its own locator, reads the replayed disk in this viewer, 7-Zip and libvhdi, and its log is clean.
#[test]
fn relink_a_vhdx_child_to_its_moved_parent() {
    for sector in [512, 4096] {
        relink_moved(sector);
    }
}

fn relink_moved(sector: u32) {
    let dir = scratch(&format!("vhdx-relink-{sector}"));
    let mut base = VhdxBuilder::new(8 * MIB);
    base.logical_sector_size = sector;
    let mut base = base.write(0, &pattern(3 * MIB as usize, 1)).write(6 * MIB, &pattern(4096, 2));
    base.data_write_guid = Guid([0x42; 16]);
    write_file(&dir, "old/base.vhdx", &base.build());
    let mut child = VhdxBuilder::new(8 * MIB);
    child.logical_sector_size = sector;
    let mut child = child
        .child_of(base.data_write_guid, "base.vhdx")
        .write(4096, &pattern(8192, 3))
        .write(2 * MIB + 4096, &pattern(MIB as usize, 4))
        .write(7 * MIB, &pattern(4096, 5));
    child.data_write_guid = Guid([0x43; 16]);
    child.dirty_log = true;
    let child_bytes = child.build();
    let c = write_file(&dir, "old/child.vhdx", &child_bytes);
    let want = model(&child, Some(&model(&base, None)));
    assert_same_bytes("the input child over its parent", &viewer_cat(&c, &[]), &want);
    std::fs::create_dir_all(dir.join("moved")).unwrap();
    std::fs::rename(dir.join("old/base.vhdx"), dir.join("moved/parent-2.vhdx")).unwrap();
    let out = dir.join("new/child.vhdx");
    std::fs::create_dir_all(dir.join("new")).unwrap();
    let o = cli(&["relink", s(&c), s(&out), "--parent", s(&dir.join("moved/parent-2.vhdx"))]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("relative_path (relative to"), "{}", stdout(&o));
    assert!(stdout(&o).contains("..\\moved\\parent-2.vhdx"), "{}", stdout(&o));
    assert!(stdout(&o).contains("finds its parent"), "{}", stdout(&o));
    let copy = std::fs::read(&out).unwrap();
    headers_written_anew(&copy, &child_bytes);
    let layer = open_layer(&copy).unwrap();
    let v = layer.vhdx().unwrap();
    assert!(!v.log.dirty);
    assert_eq!(v.parent_linkage(), (Some(base.data_write_guid), None));
    assert_eq!(v.parent_candidates()[0], "../moved/parent-2.vhdx");
    // The blocks are where they were: the same BAT as the replayed input's.
    assert_eq!(v.bat, open_layer(&child_bytes).unwrap().vhdx().unwrap().bat);
    let info = viewer_info(&out, &[]);
    assert_eq!(info["chain"].as_array().unwrap().len(), 2, "{}", info["chain"]);
    assert_eq!(info["chain"][0]["parent_verified"], true);
    our_check_clean(&out, &[]);
    assert_same_bytes("vhd-viewer cat of the relinked copy", &viewer_cat(&out, &[]), &want);
    // 7-Zip on Linux follows a relative_path of `.\name` but not `..\folder\name`: it reads
    // the copy relinked beside its parent.
    let beside = dir.join("moved/child.vhdx");
    let o = cli(&["relink", s(&c), s(&beside), "--parent", s(&dir.join("moved/parent-2.vhdx"))]);
    assert!(stdout(&o).contains("relative_path (relative to") && stdout(&o).contains(": .\\parent-2.vhdx"), "{}", stdout(&o));
    assert_same_bytes("7zz of the copy relinked beside its parent", &sevenzip_vhdx(&beside), &want);
    assert_same_bytes("pyvhdi of the relinked copy", &pyvhdi_over(&out, &dir.join("moved/parent-2.vhdx"), 8 * MIB), &want);
    let vi = vhdiinfo(&out);
    assert_eq!(vi["Disk type"], "Differential", "{vi:?}");
    assert_eq!(vi["Parent identifier"], Guid([0x42; 16]).to_string(), "{vi:?}");
    // The input is untouched.
    assert_eq!(std::fs::read(&c).unwrap(), child_bytes);
}

/// A parent whose `DataWriteGuid` is not the one the child names: refused, naming the locator's
/// offset; linked with --force, and said loudly.
#[test]
fn relink_a_vhdx_child_to_another_disk_needs_force() {
    let dir = scratch("vhdx-relink-force");
    let mut base = VhdxBuilder::new(4 * MIB).write(0, &pattern(4096, 1));
    base.data_write_guid = Guid([0x42; 16]);
    let mut other = base.clone();
    other.data_write_guid = Guid([0x44; 16]);
    let p = write_file(&dir, "other.vhdx", &other.build());
    let c =
        write_file(&dir, "child.vhdx", &VhdxBuilder::new(4 * MIB).child_of(base.data_write_guid, "base.vhdx").write(0, &[9; 512]).build());
    let out = dir.join("out.vhdx");
    let o = cli(&["relink", s(&c), s(&out), "--parent", s(&p)]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("DataWriteGuid"), "{}", stderr(&o));
    assert!(!out.exists());
    let o = cli(&["relink", s(&c), s(&out), "--parent", s(&p), "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("WARNING"), "{}", stderr(&o));
    let copy = std::fs::read(&out).unwrap();
    assert_eq!(open_layer(&copy).unwrap().vhdx().unwrap().parent_linkage().0, Some(Guid([0x44; 16])));
    // A VHD parent for a VHDX child is refused.
    let vhd = dir.join("p.vhd");
    run_ok(Command::new("qemu-img").args(["create", "-f", "vpc", "-q"]).arg(&vhd).arg("4M"));
    let o = cli(&["relink", s(&c), s(&dir.join("out2.vhdx")), "--parent", s(&vhd)]);
    assert_ne!(o.status.code(), Some(0));
}

/// A dynamic VHDX made by qemu, with data.
fn qemu_vhdx(dir: &Path, name: &str) -> (PathBuf, Vec<u8>) {
    let size = 24 * MIB as usize;
    let mut raw = vec![0u8; size];
    raw[..3 * MIB as usize].copy_from_slice(&pattern(3 * MIB as usize, 7));
    raw[10 * MIB as usize + 512..11 * MIB as usize].copy_from_slice(&pattern(MIB as usize - 512, 8));
    raw[size - 4096..].copy_from_slice(&pattern(4096, 9));
    let r = write_file(dir, &format!("{name}.raw"), &raw);
    let p = dir.join(name);
    run_ok(Command::new("qemu-img").args(["convert", "-f", "raw", "-O", "vhdx", "-o", "block_size=1M"]).arg(&r).arg(&p));
    (p, raw)
}

fn repair(input: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["repair", s(input), s(out)];
    args.extend_from_slice(extra);
    cli(&args)
}

/// Damaged copies of a qemu VHDX: a header's checksum, a region table's signature, a BAT entry
/// past the end of the file. Each repaired copy checks clean in qemu-img and here, and reads what
/// the input held (less the block that was lost).
#[test]
fn repair_damaged_vhdx_files() {
    let dir = scratch("vhdx-repair");
    let (good, raw) = qemu_vhdx(&dir, "good.vhdx");
    let bytes = std::fs::read(&good).unwrap();
    let layer = open_layer(&bytes).unwrap();
    let v = layer.vhdx().unwrap();
    let current = v.headers[v.current_header].offset as usize;
    let bat_at = v.bat_offset + 8 * v.payload_index(10);
    // (name, the bytes written over the good file, the action's code and offset, nothing lost)
    let cases = [
        ("header", (current, vec![bytes[current + 100] ^ 1]), "vhdx-header-invalid", current as u64, true),
        ("region", (0x40000, b"x".to_vec()), "vhdx-region-table-invalid", 0x40000, true),
        ("bat", (bat_at as usize, (6u64 | (4000u64 << 20)).to_le_bytes().to_vec()), "vhdx-block-past-eof", bat_at, false),
    ];
    for (name, (at, patch), code, offset, complete) in cases {
        let mut b = bytes.clone();
        b[at..at + patch.len()].copy_from_slice(&patch);
        let input = write_file(&dir, &format!("{name}.vhdx"), &b);
        let out = dir.join(format!("{name}-repaired.vhdx"));
        let o = repair(&input, &out, &[]);
        assert_eq!(o.status.code(), Some(if complete { 0 } else { 1 }), "{name}: {}{}", stdout(&o), stderr(&o));
        let text = stdout(&o);
        assert!(text.contains(&format!("[{code}]")), "{name}: {text}");
        assert!(text.contains(&format!("{offset:#x}")), "{name}: {text}");
        assert!(text.contains("no errors, no warnings"), "{name}: {text}");
        qemu_check_clean(&out);
        our_check_clean(&out, &[]);
        let mut want = raw.clone();
        if !complete {
            want[10 * MIB as usize..11 * MIB as usize].fill(0);
        }
        assert_same_bytes(&format!("{name}: qemu-img of the repaired copy"), &qemu_raw_vhdx(&out), &want);
        assert_same_bytes(&format!("{name}: 7zz of the repaired copy"), &sevenzip_vhdx(&out), &want);
        assert_same_bytes(&format!("{name}: vhd-viewer of the repaired copy"), &viewer_cat(&out, &[]), &want);
        headers_written_anew(&std::fs::read(&out).unwrap(), &b);
    }
    // A fixed disk: header 1's signature broken.
    let fixed = dir.join("fixed.vhdx");
    run_ok(Command::new("qemu-img").args(["convert", "-f", "vhdx", "-O", "vhdx", "-o", "subformat=fixed"]).arg(&good).arg(&fixed));
    let mut b = std::fs::read(&fixed).unwrap();
    b[0x10000] = b'H';
    let input = write_file(&dir, "fixed-damaged.vhdx", &b);
    let out = dir.join("fixed-repaired.vhdx");
    let o = repair(&input, &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("[vhdx-header-invalid]"), "{}", stdout(&o));
    qemu_check_clean(&out);
    assert_eq!(viewer_info(&out, &[])["disk_type"], "fixed");
    assert_same_bytes("qemu-img of the repaired fixed copy", &qemu_raw_vhdx(&out), &raw);
    // Both headers bad: not repaired, the error names the offset.
    let mut b = bytes.clone();
    b[0x10000] = b'x';
    b[0x20000] = b'x';
    let input = write_file(&dir, "headers.vhdx", &b);
    let o = repair(&input, &dir.join("headers-repaired.vhdx"), &[]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("0x10000"), "{}", stderr(&o));
    assert!(!dir.join("headers-repaired.vhdx").exists());
    // The virtual disk size item missing (its entry another, optional item): not repaired, the
    // error names the metadata region.
    let mut b = bytes.clone();
    let k = v.items.iter().position(|i| i.entry.item_id == vhd_viewer::vhdx::format::ITEM_VIRTUAL_DISK_SIZE).unwrap();
    let e = (v.metadata_region.file_offset + 32 + 32 * k as u64) as usize;
    b[e..e + 16].copy_from_slice(&[0x5a; 16]);
    b[e + 24..e + 28].fill(0);
    let input = write_file(&dir, "no-size.vhdx", &b);
    let o = repair(&input, &dir.join("no-size-repaired.vhdx"), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("{:#x}", v.metadata_region.file_offset)), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot be repaired"), "{}", stderr(&o));
    assert!(!dir.join("no-size-repaired.vhdx").exists());
}

/// A dirty log (the BAT only in the log): the repaired copy holds the replayed BAT, its log is
/// clean, and qemu-img reads it as this viewer reads the input.
#[test]
fn repair_replays_a_dirty_vhdx_log() {
    let dir = scratch("vhdx-repair-log");
    let mut b = VhdxBuilder::new(16 * MIB).write(0, &pattern(2 * MIB as usize, 1)).write(9 * MIB + 512, &pattern(8192, 2));
    b.dirty_log = true;
    let bytes = b.build();
    let input = write_file(&dir, "dirty.vhdx", &bytes);
    let want = model(&b, None);
    assert_same_bytes("the input after replay", &viewer_cat(&input, &[]), &want);
    let out = dir.join("clean.vhdx");
    let o = repair(&input, &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("[vhdx-log-replayed]"), "{}", stdout(&o));
    let copy = std::fs::read(&out).unwrap();
    headers_written_anew(&copy, &bytes);
    assert!(!open_layer(&copy).unwrap().vhdx().unwrap().log.dirty);
    qemu_check_clean(&out);
    our_check_clean(&out, &[]);
    assert_same_bytes("qemu-img of the replayed copy", &qemu_raw_vhdx(&out), &want);
    assert_same_bytes("7zz of the replayed copy", &sevenzip_vhdx(&out), &want);
    let vi = vhdiinfo(&out);
    assert_eq!(vhdi_media_size(&vi["Media size"]), 16 * MIB);
}
