//! `resize` (issue 23): VHD fixed, dynamic and differencing, VHDX dynamic, fixed and
//! differencing, of 512- and 4096-byte logical sectors, with an MBR (a primary, an extended and
//! a logical partition), a GPT (two partitions) or no table, grown and shrunk.
//!
//! The disks are made by the real tools: the tables by `fdisk -b`, an ext4 volume by
//! `mkfs.ext4`, VHDs by `qemu-img convert` (and the project's builder for the differencing
//! child and the VHDX of 4096-byte sectors). Every copy is read back by `qemu-img` (`convert -O
//! raw`, `info`; not a differencing disk, whose parent qemu does not follow), by 7-Zip (VHD),
//! by this viewer's `cat` and `check` (clean), its GPT by `sgdisk -v` (512-byte sectors) and by
//! `parts` (no warning); the bytes before the old end are the input's (but for the GPT's own
//! sectors), the new tail zeros. A shrink past a partition is refused with nothing written.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use vhd_viewer::reader::open_layer;
use vhd_viewer::vhd::writer::DiskBuilder;
use vhd_viewer::vhdx::writer::{Kind, VhdxBuilder};
use vhd_viewer::vhdx::Guid;

const MIB: u64 = 1 << 20;
/// The disks' size.
const OLD: u64 = 24 * MIB;
/// Where the data the differencing child writes lies (the parent holds zeros there).
const CHILD_DATA: [u64; 2] = [12 * MIB, 23 * MIB];

/// A raw disk of 24 MiB and `ss`-byte sectors with `scheme` (`mbr`, `gpt`, `none`), made by
/// `fdisk -b`: GPT partitions 1 (1 to 9 MiB, ext4) and 2 (9 to 17 MiB); MBR primary 1 (1 to
/// 9 MiB, ext4), extended 2 (9 to 17 MiB) holding logical 5 (10 to 16 MiB). Random data of 64
/// KiB at 4 KiB into partition 2's span (12 MiB), at 17.5 MiB (outside every partition) and at
/// 23 MiB (past where a shrink to 20 MiB ends).
fn raw_disk(scheme: &str, ss: u32) -> Vec<u8> {
    let table = match scheme {
        "gpt" => "printf 'g\\nn\\n1\\n%d\\n%d\\nn\\n2\\n%d\\n%d\\nw\\n' $M $((9*M-1)) $((9*M)) $((17*M-1)) | fdisk -b $SS disk.raw >/dev/null\nmkfs.ext4 -q -F -E offset=1048576 disk.raw 8M",
        "mbr" => "printf 'o\\nn\\np\\n1\\n%d\\n%d\\nn\\ne\\n2\\n%d\\n%d\\nn\\nl\\n%d\\n%d\\nw\\n' $M $((9*M-1)) $((9*M)) $((17*M-1)) $((10*M)) $((16*M-1)) | fdisk -b $SS disk.raw >/dev/null\nmkfs.ext4 -q -F -E offset=1048576 disk.raw 8M",
        _ => "",
    };
    let script = format!(
        "set -euo pipefail\nSS={ss}\nM=$((1048576 / SS))\ntruncate -s 24M disk.raw\n{table}\nfor at in 12288 17920 23552; do head -c 65536 /dev/urandom | dd of=disk.raw bs=1K seek=$at conv=notrunc status=none; done\nmv disk.raw done.raw\n"
    );
    let dir = script_image("resize", &format!("{scheme}-{ss}"), &script, &[], "done.raw", &[]);
    std::fs::read(dir.join("done.raw")).unwrap()
}

/// The raw disk without the differencing child's data (zeros where it writes).
fn parent_raw(raw: &[u8]) -> Vec<u8> {
    let mut b = raw.to_vec();
    for at in CHILD_DATA {
        b[at as usize..(at + 64 * 1024) as usize].fill(0);
    }
    b
}

fn qemu_convert(raw: &Path, out: &Path, opts: &[&str]) {
    run_ok(Command::new("qemu-img").args(["convert", "-f", "raw"]).args(opts).arg(raw).arg(out));
}

/// A VHDX of `raw` made by the project's builder: `kind`, `ss`-byte sectors, its data
/// written in 64 KiB pieces where non-zero (a child: where it differs from `parent`).
fn built_vhdx(raw: &[u8], ss: u32, kind: Kind, id: u8, parent: Option<&[u8]>) -> Vec<u8> {
    let mut b = VhdxBuilder::new(raw.len() as u64);
    b.logical_sector_size = ss;
    b.data_write_guid = Guid([id; 16]);
    b.kind = kind;
    if parent.is_some() {
        b = b.child_of(Guid([id - 1; 16]), "base.vhdx");
    }
    for (k, chunk) in raw.chunks(64 << 10).enumerate() {
        let at = k * (64 << 10);
        let keep = match parent {
            Some(p) => p[at..at + chunk.len()] != *chunk,
            None => chunk.iter().any(|x| *x != 0),
        };
        if keep {
            b.writes.push((at as u64, chunk.to_vec()));
        }
    }
    b.build()
}

/// The disk `kind` of `raw` in `dir`: its file (a differencing disk's parent beside it).
fn make(kind: &str, raw: &[u8], ss: u32, dir: &Path) -> PathBuf {
    let raw_path = dir.join("input.raw");
    std::fs::write(&raw_path, raw).unwrap();
    let out = match kind {
        "vhd-fixed" => {
            let out = dir.join("in.vhd");
            qemu_convert(&raw_path, &out, &["-O", "vpc", "-o", "subformat=fixed,force_size=on"]);
            out
        }
        "vhd-dynamic" => {
            let out = dir.join("in.vhd");
            qemu_convert(&raw_path, &out, &["-O", "vpc", "-o", "subformat=dynamic,force_size=on"]);
            out
        }
        "vhd-diff" => {
            let base_raw = parent_raw(raw);
            let base = dynamic_vhd(&base_raw, "resize-base");
            let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 2 << 20);
            child.unique_id(vhd_viewer::values::Uuid(id_for("resize-child")));
            for at in CHILD_DATA {
                child.write(at, &raw[at as usize..(at + 64 * 1024) as usize]);
            }
            std::fs::write(dir.join("base.vhd"), base.build()).unwrap();
            std::fs::write(dir.join("in.vhd"), child.build()).unwrap();
            dir.join("in.vhd")
        }
        "vhdx-dynamic" if ss == 512 => {
            let out = dir.join("in.vhdx");
            qemu_convert(&raw_path, &out, &["-O", "vhdx", "-o", "subformat=dynamic"]);
            out
        }
        "vhdx-dynamic" | "vhdx-fixed" => {
            let k = if kind == "vhdx-fixed" { Kind::Fixed } else { Kind::Dynamic };
            std::fs::write(dir.join("in.vhdx"), built_vhdx(raw, ss, k, 0x30, None)).unwrap();
            dir.join("in.vhdx")
        }
        "vhdx-diff" => {
            let base_raw = parent_raw(raw);
            std::fs::write(dir.join("base.vhdx"), built_vhdx(&base_raw, ss, Kind::Dynamic, 0x40, None)).unwrap();
            std::fs::write(dir.join("in.vhdx"), built_vhdx(raw, ss, Kind::Dynamic, 0x41, Some(&base_raw))).unwrap();
            dir.join("in.vhdx")
        }
        _ => unreachable!("{kind}"),
    };
    std::fs::remove_file(&raw_path).unwrap();
    out
}

/// `qemu-img convert -O raw` of a standalone VHD or VHDX.
fn qemu_bytes(file: &Path) -> Vec<u8> {
    let f = if file.extension().unwrap() == "vhdx" { "vhdx" } else { "vpc" };
    let out = file.with_extension("qemu.raw");
    run_ok(Command::new("qemu-img").args(["convert", "-f", f, "-O", "raw"]).arg(file).arg(&out));
    let b = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    b
}

fn qemu_size(file: &Path) -> u64 {
    let f = if file.extension().unwrap() == "vhdx" { "vhdx" } else { "vpc" };
    let q = run_ok(Command::new("qemu-img").args(["info", "--output=json", "-f", f]).arg(file));
    let q: serde_json::Value = serde_json::from_slice(&q.stdout).unwrap();
    q["virtual-size"].as_u64().unwrap()
}

/// `check` finds no warning or error (but, with `child`, the warning that a differencing disk's
/// size is not its parent's, which a resized child has).
fn checks_clean(file: &Path, child: bool) {
    let o = cli(&["check", "--json", p(file)]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
    let bad: Vec<_> = v.as_array().unwrap().iter().filter(|f| f["severity"] != "info" && !(child && f["code"] == "parent-size")).collect();
    assert!(bad.is_empty() && o.status.code() == Some(0), "check {}: {bad:?}", file.display());
}

/// `7zz x -so` of a VHD or VHDX (following a differencing disk's parent).
fn sevenzip(file: &Path) -> Vec<u8> {
    let t = if file.extension().unwrap() == "vhdx" { "-tVHDX" } else { "-tVHD" };
    run_ok(Command::new("7zz").args(["x", t, "-so"]).arg(file)).stdout
}

/// `parts --json`: the partitions' (index, start, count), and the findings above info.
fn parts(file: &Path) -> (Vec<(u64, u64, u64)>, Vec<serde_json::Value>) {
    let (out, _) = vv_both(&["parts", "--json", p(file)], 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let list = v["partitions"].as_array().unwrap();
    let parts = list
        .iter()
        .map(|q| (q["index"].as_u64().unwrap(), q["start_sector"].as_u64().unwrap(), q["sector_count"].as_u64().unwrap()))
        .collect();
    let bad = v["findings"].as_array().unwrap().iter().filter(|f| f["severity"] != "info").cloned().collect();
    (parts, bad)
}

fn sgdisk_clean(raw: &[u8], dir: &Path) {
    let f = dir.join("sgdisk.raw");
    std::fs::write(&f, raw).unwrap();
    let o = output(Command::new("sgdisk").arg("-v").arg(&f));
    std::fs::remove_file(&f).unwrap();
    assert!(stdout(&o).contains("No problems found"), "sgdisk -v: {}{}", stdout(&o), stderr(&o));
}

fn le32(b: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes(b[at..at + 4].try_into().unwrap()))
}
fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Checks the resized copy `out` of `input` (whose disk reads as `raw`), `size` bytes.
fn check_copy(kind: &str, scheme: &str, ss: u32, raw: &[u8], out: &Path, size: u64, dir: &Path) {
    let what = format!("{kind} {scheme} {ss} to {size}");
    let ours = viewer_cat(out, &[]);
    assert_eq!(ours.len() as u64, size, "{what}");
    let differencing = kind.ends_with("diff");
    // qemu-img does not follow a differencing disk's parent, nor open a VHDX of 4096-byte
    // logical sectors ("Operation not supported").
    if !differencing && ss == 512 {
        assert_same_bytes(&format!("qemu-img of {what}"), &qemu_bytes(out), &ours);
        assert_eq!(qemu_size(out), size, "{what}");
    }
    // 7-Zip follows the parent, but fails on a child larger than its parent ("Unexpected end
    // of data"): the summary's note says so.
    let grown_child = differencing && size > OLD;
    if !grown_child {
        assert_same_bytes(&format!("7zz of {what}"), &sevenzip(out), &ours);
    }
    checks_clean(out, differencing);
    // The input's bytes to the smaller end, zeros after; a GPT's own sectors apart.
    let ssu = ss as usize;
    let keep = (size.min(OLD)) as usize;
    let mut mask = vec![false; size as usize];
    if scheme == "gpt" {
        let array = (16384usize).div_ceil(ssu);
        mask[..(2 + array) * ssu].fill(true);
        mask[size as usize - (1 + array) * ssu..].fill(true);
        if size > OLD {
            mask[OLD as usize - (1 + array) * ssu..OLD as usize].fill(true);
            // The old backup is zeroed.
            assert!(ours[OLD as usize - (1 + array) * ssu..OLD as usize].iter().all(|b| *b == 0), "{what}: the old backup is left");
        }
        // The protective MBR covers the disk; the primary header names the new backup.
        assert_eq!(le32(&ours, 0x1BE + 12), size / u64::from(ss) - 1, "{what}");
        assert_eq!(le64(&ours, ssu + 32), size / u64::from(ss) - 1, "{what}");
        assert_eq!(&ours[size as usize - ssu..size as usize - ssu + 8], b"EFI PART", "{what}");
        if ss == 512 {
            sgdisk_clean(&ours, dir);
        }
    }
    for (i, m) in mask.iter().enumerate() {
        let want = if i < keep { raw[i] } else { 0 };
        if !m && ours[i] != want {
            panic!("{what}: byte {i:#x} is {:#04x}, not {want:#04x}", ours[i]);
        }
    }
    if scheme != "none" {
        let (before, _) = parts(&dir.join(if kind.starts_with("vhdx") { "in.vhdx" } else { "in.vhd" }));
        let (after, bad) = parts(out);
        assert_eq!(after, before, "{what}: the partitions");
        assert!(bad.is_empty(), "{what}: {bad:?}");
    }
}

fn grid(ss: u32, kinds: &[&str]) {
    for scheme in ["gpt", "mbr", "none"] {
        let raw = raw_disk(scheme, ss);
        for kind in kinds {
            let dir = scratch(&format!("resize-{kind}-{scheme}-{ss}"));
            let input = make(kind, &raw, ss, &dir);
            let before = sha256_file(&input);
            let ext = input.extension().unwrap().to_str().unwrap().to_string();
            for size in [40 * MIB, 20 * MIB] {
                let out = dir.join(format!("out-{}.{ext}", size / MIB));
                let (text, _) = vv_both(&["resize", p(&input), p(&out), "--size", &format!("{}M", size / MIB)], 0);
                assert!(text.contains(if size > OLD { "it grew" } else { "it shrank" }), "{text}");
                if scheme != "none" && size > OLD {
                    assert!(text.contains("of unpartitioned space at the end"), "{text}");
                }
                assert_eq!(text.contains("GPT: the backup entry array and header moved"), scheme == "gpt", "{text}");
                check_copy(kind, scheme, ss, &raw, &out, size, &dir);
                // The identity is kept.
                let (i, o) =
                    (open_layer(&std::fs::File::open(&input).unwrap()).unwrap(), open_layer(&std::fs::File::open(&out).unwrap()).unwrap());
                assert_eq!(
                    (o.link_id(), o.disk_type(), o.block_size(), o.logical_sector_size()),
                    (i.link_id(), i.disk_type(), i.block_size(), i.logical_sector_size())
                );
            }
            if scheme != "none" {
                // Past partition 2 (it ends at 17 MiB): refused, nothing written.
                let out = dir.join(format!("refused.{ext}"));
                let (_, err) = vv_both(&["resize", p(&input), p(&out), "--size", "16M"], 2);
                assert!(err.contains("partition 2") && err.contains("0x1100000"), "{kind} {scheme}: {err}");
                assert_eq!(err.contains("extended partition"), scheme == "mbr", "{err}");
                assert!(!out.exists());
            }
            assert_eq!(sha256_file(&input), before, "{kind}: the input was changed");
        }
    }
}

#[test]
fn vhds_grow_and_shrink_with_every_table() {
    grid(512, &["vhd-fixed", "vhd-dynamic", "vhd-diff"]);
}

#[test]
fn vhdxs_of_512_byte_sectors_grow_and_shrink_with_every_table() {
    grid(512, &["vhdx-dynamic", "vhdx-fixed", "vhdx-diff"]);
}

#[test]
fn vhdxs_of_4096_byte_sectors_grow_and_shrink_with_every_table() {
    grid(4096, &["vhdx-dynamic", "vhdx-fixed", "vhdx-diff"]);
}

#[test]
fn a_gpt_left_as_it_is_a_damaged_one_refused_and_the_room_for_its_backup() {
    let raw = raw_disk("gpt", 512);
    let dir = scratch("resize-gpt-options");
    let input = make("vhd-dynamic", &raw, 512, &dir);
    // --no-gpt-fix: the GPT's sectors are the input's, the backup stays in the middle.
    let out = dir.join("nofix.vhd");
    let (text, _) = vv_both(&["resize", p(&input), p(&out), "--size", "+16M", "--no-gpt-fix"], 0);
    assert!(text.contains("backup header stays at the old end") && !text.contains("GPT: the backup"), "{text}");
    let ours = viewer_cat(&out, &[]);
    assert!(ours[..OLD as usize] == raw[..], "the input's bytes, GPT and all");
    assert!(ours[OLD as usize..].iter().all(|b| *b == 0));
    let f = dir.join("nofix.raw");
    std::fs::write(&f, &ours).unwrap();
    let o = output(Command::new("sgdisk").arg("-v").arg(&f));
    assert!(stdout(&o).contains("doesn't reside\nat the end of the disk"), "{}", stdout(&o));
    // Shrunk: the backup is gone, and said so.
    let (text, _) = vv_both(&["resize", p(&input), p(&dir.join("nofix-small.vhd")), "--size", "20M", "--no-gpt-fix"], 0);
    assert!(text.contains("backup entry array and header, at the old end, are gone"), "{text}");
    // Past the room the backup needs after partition 2 (17 MiB + 32 sectors of entries + the
    // header): refused, with the smallest size.
    let (_, err) = vv_both(&["resize", p(&input), p(&dir.join("tight.vhd")), "--size", "17M"], 2);
    let min = 17 * MIB + 33 * 512;
    assert!(err.contains("backup entry array and header") && err.contains(&format!("smallest size allowed is {min} bytes")), "{err}");
    let (text, _) = vv_both(&["resize", p(&input), p(&dir.join("tight.vhd")), "--size", &min.to_string(), "--json"], 0);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let r = &v["report"];
    assert_eq!((r["old_size"].as_u64(), r["new_size"].as_u64(), r["grows"].as_bool()), (Some(OLD), Some(min), Some(false)));
    assert_eq!((r["gpt_moved"].as_bool(), r["unpartitioned_bytes"].as_u64(), r["scheme"].as_str()), (Some(true), Some(0), Some("gpt")));
    check_copy("vhd-dynamic", "gpt", 512, &raw, &dir.join("tight.vhd"), min, &dir);
    // A damaged primary header (its CRC): refused, not mended silently; --no-gpt-fix copies it.
    let mut bad = raw.clone();
    bad[512 + 24] ^= 1;
    let bad_dir = scratch("resize-gpt-damaged");
    let input = make("vhd-dynamic", &bad, 512, &bad_dir);
    let out = bad_dir.join("out.vhd");
    let (_, err) = vv_both(&["resize", p(&input), p(&out), "--size", "32M"], 2);
    assert!(err.contains("at byte 0x210") && err.contains("CRC-32 is wrong") && err.contains("--no-gpt-fix"), "{err}");
    assert!(!out.exists());
    vv_both(&["resize", p(&input), p(&out), "--size", "32M", "--no-gpt-fix"], 0);
    assert!(viewer_cat(&out, &[])[..OLD as usize] == bad[..]);
}

#[test]
fn a_whole_disk_file_system_bounds_a_shrink_by_its_own_size() {
    // ext4 of 20 MiB on a 24 MiB disk without a table (as WSL's disks are).
    let dir = scratch("resize-whole-fs");
    let img = script_image(
        "resize",
        "whole-ext4",
        "set -e\ntruncate -s 24M d.raw\nmkfs.ext4 -q -F d.raw 20M\nmv d.raw done.raw\n",
        &[],
        "done.raw",
        &[],
    );
    let raw = std::fs::read(img.join("done.raw")).unwrap();
    let input = make("vhdx-dynamic", &raw, 512, &dir);
    let (_, err) = vv_both(&["resize", p(&input), p(&dir.join("no.vhdx")), "--size", "19M"], 2);
    assert!(
        err.contains("ext4 file system filling the disk ends at byte 0x1400000") && err.contains("smallest size allowed is 20971520"),
        "{err}"
    );
    assert!(!dir.join("no.vhdx").exists());
    let out = dir.join("out.vhdx");
    let (text, _) = vv_both(&["resize", p(&input), p(&out), "--size", "20M"], 0);
    assert!(text.contains("it shrank"), "{text}");
    check_copy("vhdx-dynamic", "none", 512, &raw, &out, 20 * MIB, &dir);
    // Grown, the space after the file system is counted.
    let (text, _) = vv_both(&["resize", p(&input), p(&dir.join("big.vhdx")), "--size", "+8M"], 0);
    assert!(text.contains("12 MiB of unpartitioned space at the end"), "{text}");
}

#[test]
fn a_creator_qemu_sizes_by_chs_is_renamed_and_odd_sizes_are_refused() {
    let raw = raw_disk("mbr", 512);
    let dir = scratch("resize-creator");
    let raw_path = dir.join("d.raw");
    std::fs::write(&raw_path, &raw).unwrap();
    // Without force_size qemu writes creator "qemu" and a size rounded to its CHS geometry.
    let input = dir.join("in.vhd");
    qemu_convert(&raw_path, &input, &["-O", "vpc", "-o", "subformat=dynamic"]);
    let out = dir.join("out.vhd");
    let (text, _) = vv_both(&["resize", p(&input), p(&out), "--size", "40M"], 0);
    assert!(text.contains("creator \"qemu\" makes qemu-img size the disk by its CHS geometry"), "{text}");
    assert_eq!(qemu_size(&out), 40 * MIB);
    assert_eq!(&std::fs::read(&out).unwrap()[..0x20][0x1c..0x20], b"vhdv");
    checks_clean(&out, false);
    // Not a whole number of sectors; a 4096-byte VHDX's neither.
    let (_, err) = vv_both(&["resize", p(&input), p(&dir.join("odd.vhd")), "--size", "1000"], 2);
    assert!(err.contains("whole number of its 512-byte logical sectors"), "{err}");
    let x = make("vhdx-dynamic", &raw_disk("none", 4096), 4096, &dir);
    let (_, err) = vv_both(&["resize", p(&x), p(&dir.join("odd.vhdx")), "--size", &(20 * MIB + 512).to_string()], 2);
    assert!(err.contains("4096-byte logical sectors"), "{err}");
    let (_, err) = vv_both(&["resize", p(&input), p(&dir.join("huge.vhd")), "--size", "3T"], 2);
    assert!(err.contains("a VHD cannot be resized"), "{err}");
}

#[test]
fn a_differencing_disk_needs_its_parent() {
    let raw = raw_disk("gpt", 512);
    let dir = scratch("resize-no-parent");
    let input = make("vhd-diff", &raw, 512, &dir);
    std::fs::rename(dir.join("base.vhd"), dir.join("elsewhere.vhd")).unwrap();
    let out = dir.join("out.vhd");
    let (_, err) = vv_both(&["resize", p(&input), p(&out), "--size", "32M"], 2);
    assert!(err.contains("the parent is needed") && err.contains("--parent"), "{err}");
    assert!(!out.exists());
    let (text, _) = vv_both(&["resize", p(&input), p(&out), "--size", "32M", "--parent", p(&dir.join("elsewhere.vhd"))], 0);
    assert!(text.contains("larger than its parent"), "{text}");
}

#[test]
fn a_file_system_larger_than_its_partition_bounds_a_shrink() {
    // FAT16 of 12 MiB in partition 1, which is 8 MiB long (from 1 MiB): the file system's own
    // size reaches 13 MiB.
    let img = script_image(
        "resize",
        "fat-past-partition",
        "set -e\ntruncate -s 24M d.raw\nprintf 'o\\nn\\np\\n1\\n2048\\n18431\\nw\\n' | fdisk d.raw >/dev/null\nmkfs.fat --offset 2048 d.raw 12288 >/dev/null 2>&1\nmv d.raw done.raw\n",
        &[],
        "done.raw",
        &[],
    );
    let raw = std::fs::read(img.join("done.raw")).unwrap();
    let dir = scratch("resize-fat-past-partition");
    let input = make("vhd-fixed", &raw, 512, &dir);
    let (_, err) = vv_both(&["resize", p(&input), p(&dir.join("no.vhd")), "--size", "10M"], 2);
    assert!(
        err.contains("fat16 file system in partition 1 ends at byte 0xd00000") && err.contains("smallest size allowed is 13631488"),
        "{err}"
    );
    assert!(!dir.join("no.vhd").exists());
    let out = dir.join("out.vhd");
    vv_both(&["resize", p(&input), p(&out), "--size", "13M"], 0);
    check_copy("vhd-fixed", "mbr", 512, &raw, &out, 13 * MIB, &dir);
}
