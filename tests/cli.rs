//! The command line's contract: help with examples, exit statuses of `check`, `--parent`,
//! `--force`, `cat --offset/--length`, the shape of `map --json`, errors on stderr.

mod common;
use common::*;
use serde_json::Value;
use vhd_viewer::values::Uuid;
use vhd_viewer::vhd::writer::DiskBuilder;

const MIB: u64 = 1 << 20;

#[test]
fn help_of_every_command_has_an_example() {
    // The commands that write new files (issue 13) and read files (issue 11) too; `merge` is `convert`'s other name.
    for cmd in [
        None,
        Some("info"),
        Some("check"),
        Some("map"),
        Some("cat"),
        Some("convert"),
        Some("merge"),
        Some("compact"),
        Some("relink"),
        Some("repair"),
        Some("parts"),
        Some("ls"),
        Some("get"),
        Some("owner"),
        Some("report"),
    ] {
        let mut args: Vec<&str> = cmd.into_iter().collect();
        args.push("--help");
        let o = cli(&args);
        assert!(o.status.success(), "{args:?}");
        let text = stdout(&o);
        assert!(text.contains("Example"), "{args:?} shows no example:\n{text}");
        let c = cmd.unwrap_or("info");
        assert!(text.contains(&format!("vhd-viewer {c} ")), "{args:?}: no example of `vhd-viewer {c}`:\n{text}");
        // `repair` reads the damaged file alone: it takes no parent.
        if cmd.is_some() && cmd != Some("repair") {
            assert!(text.contains("--parent"), "{args:?}: --parent is not explained");
        }
    }
    // check's help states the exit statuses.
    let t = stdout(&cli(&["check", "--help"]));
    assert!(t.contains('0') && t.contains('1') && t.contains('2') && t.to_lowercase().contains("exit"), "{t}");
}

#[test]
fn usage_errors_go_to_stderr_and_fail() {
    let o = cli(&[]);
    assert!(!o.status.success());
    assert!(o.stdout.is_empty());
    assert!(!stderr(&o).is_empty());
    let o = cli(&["cat"]);
    assert!(!o.status.success());
    let o = cli(&["info", "/nonexistent/disk.vhd"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/disk.vhd"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn check_exit_statuses() {
    let dir = scratch("cli-exit");
    // 0: a good disk (qemu-made).
    let good = qemu_fixture(&qemu_spec("qemu-dynamic-10M"));
    let o = cli(&["check", good.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // 1: a readable disk with an error (the footer copy's checksum).
    let mut img = Image::read(&good);
    img.bytes[64] ^= 0x10;
    let bad = dir.join("bad.vhd");
    img.write(&bad);
    let o = cli(&["check", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("footer-copy-checksum") && stdout(&o).contains("0x40"));
    // 2: not a VHD.
    let junk = dir.join("junk.vhd");
    std::fs::write(&junk, vec![0x20u8; 4096]).unwrap();
    let o = cli(&["check", junk.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("0xe00"), "names the offset where the footer was expected: {}", stderr(&o));
    // --json findings carry severity, code, layer, offset, message.
    let o = cli(&["check", "--json", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = &v.as_array().unwrap()[0];
    for k in ["severity", "code", "layer", "offset", "message"] {
        assert!(f.get(k).is_some(), "finding lacks {k}: {f}");
    }
}

#[test]
fn cat_offset_and_length() {
    let spec = qemu_spec("qemu-fixed-3M");
    let p = qemu_fixture(&spec);
    let all = expected_content(&spec, 3_168_256);
    let ps = p.to_str().unwrap();
    for (off, len) in [("0", "512"), ("999", "3002"), ("1K", "1K"), ("0x3e8", "0x10"), ("3167744", "512")] {
        let o = cli(&["cat", ps, "--offset", off, "--length", len]);
        assert!(o.status.success(), "{off} {len}: {}", stderr(&o));
        let parse = |s: &str| -> usize {
            if let Some(h) = s.strip_prefix("0x") {
                usize::from_str_radix(h, 16).unwrap()
            } else if let Some(k) = s.strip_suffix('K') {
                k.parse::<usize>().unwrap() * 1024
            } else {
                s.parse().unwrap()
            }
        };
        let (o2, l2) = (parse(off), parse(len));
        assert_same_bytes(&format!("cat --offset {off} --length {len}"), &o.stdout, &all[o2..o2 + l2]);
    }
    // Zero length: nothing. At the end: nothing. Past the end: an error (exit 2) naming it.
    let o = cli(&["cat", ps, "--offset", "100", "--length", "0"]);
    assert!(o.status.success() && o.stdout.is_empty());
    let o = cli(&["cat", ps, "--offset", "3168256"]);
    assert!(o.status.success() && o.stdout.is_empty());
    let o = cli(&["cat", ps, "--offset", "3168257"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    // Bad numbers are usage errors.
    let o = cli(&["cat", ps, "--offset", "banana"]);
    assert!(!o.status.success());
}

#[test]
fn map_json_shape() {
    let spec = qemu_spec("qemu-dynamic-force-5M");
    let p = qemu_fixture(&spec);
    let o = cli(&["map", "--json", p.to_str().unwrap()]);
    assert!(o.status.success());
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert!(!rows.is_empty());
    let mut pos = 0;
    for r in rows {
        let m = r.as_object().unwrap();
        assert_eq!(m["start"].as_u64().unwrap(), pos);
        let len = m["length"].as_u64().unwrap();
        assert!(len > 0);
        pos += len;
        match m["kind"].as_str().unwrap() {
            "data" => {
                let mut keys: Vec<_> = m.keys().map(String::as_str).collect();
                keys.sort();
                assert_eq!(keys, ["file", "file_offset", "kind", "layer", "length", "start"]);
                assert!(m["file"].as_str().unwrap().ends_with("qemu-dynamic-force-5M.vhd"));
            }
            "zero" => {
                let mut keys: Vec<_> = m.keys().map(String::as_str).collect();
                keys.sort();
                assert_eq!(keys, ["file", "kind", "length", "start"]);
                assert!(m["file"].is_null());
            }
            k => panic!("kind {k}"),
        }
    }
    assert_eq!(pos, 5 * MIB);
    // --offset/--length limit the map.
    let o = cli(&["map", "--json", p.to_str().unwrap(), "--offset", "4M", "--length", "8K"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.first().unwrap()["start"], 4 * MIB);
    let last = rows.last().unwrap();
    assert_eq!(last["start"].as_u64().unwrap() + last["length"].as_u64().unwrap(), 4 * MIB + 8192);
    // Text output: a header line, then data ranges in hex like qemu-img map.
    let t = stdout(&cli(&["map", p.to_str().unwrap()]));
    let mut lines = t.lines();
    assert!(lines.next().unwrap().starts_with("Offset"));
    let first = lines.next().unwrap();
    assert!(first.starts_with("0x0 "), "{first}");
}

#[test]
fn parent_and_force_options() {
    let dir = scratch("cli-parent");
    let mut base = DiskBuilder::dynamic(4 * MIB, 2 * MIB as u32);
    base.unique_id(Uuid(id_for("cli-base"))).write(0, &[0x61; 1024]);
    let mut other = DiskBuilder::dynamic(4 * MIB, 2 * MIB as u32);
    other.unique_id(Uuid(id_for("cli-other"))).write(0, &[0x62; 1024]);
    let mut child = DiskBuilder::differencing(&base.parent_ref("nowhere.vhd"), 2 * MIB as u32);
    child.unique_id(Uuid(id_for("cli-child"))).write(512, &[0x63; 512]);
    std::fs::write(dir.join("b.vhd"), base.build()).unwrap();
    std::fs::write(dir.join("o.vhd"), other.build()).unwrap();
    let c = dir.join("c.vhd");
    std::fs::write(&c, child.build()).unwrap();
    let (cs, bs, os) = (c.to_str().unwrap(), dir.join("b.vhd"), dir.join("o.vhd"));
    // The locator leads nowhere: --parent is needed.
    assert_eq!(cli(&["cat", cs]).status.code(), Some(2));
    let o = cli(&["cat", cs, "--parent", bs.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout[..512].iter().all(|b| *b == 0x61) && o.stdout[512..1024].iter().all(|b| *b == 0x63));
    // The wrong parent: refused, unless forced.
    let o = cli(&["cat", cs, "--parent", os.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let o = cli(&["cat", cs, "--parent", os.to_str().unwrap(), "--force"]);
    assert!(o.status.success());
    assert!(o.stdout[..512].iter().all(|b| *b == 0x62));
    let o = cli(&["info", cs, "--parent", os.to_str().unwrap(), "--force"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("MISMATCH"), "{}", stdout(&o));
    // A parent given to a disk that has none.
    let o = cli(&["info", bs.to_str().unwrap(), "--parent", os.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no parent"), "{}", stderr(&o));
    // One --parent too many for the chain: the same.
    let o = cli(&["cat", cs, "--parent", bs.to_str().unwrap(), "--parent", os.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "an unused --parent is not silently ignored");
    assert!(o.stdout.is_empty());
}

#[test]
fn info_json_has_the_issue_keys() {
    let dir = scratch("cli-keys");
    let mut base = DiskBuilder::dynamic(4 * MIB, 2 * MIB as u32);
    base.unique_id(Uuid(id_for("keys-base")));
    let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 2 * MIB as u32);
    child.unique_id(Uuid(id_for("keys-child"))).timestamp(0);
    std::fs::write(dir.join("base.vhd"), base.build()).unwrap();
    let c = dir.join("child.vhd");
    std::fs::write(&c, child.build()).unwrap();
    let j = viewer_info(&c, &[]);
    for k in [
        "disk_type",
        "current_size",
        "original_size",
        "creator_application",
        "creator_host_os",
        "unique_id",
        "timestamp",
        "checksum_valid",
        "geometry",
        "block_size",
        "max_table_entries",
        "table_offset",
        "allocated_blocks",
        "parent_unique_id",
        "parent_unicode_name",
        "parent_locators",
    ] {
        assert!(j.get(k).is_some(), "info --json lacks {k}");
    }
    for k in ["cylinders", "heads", "sectors_per_track"] {
        assert!(j["geometry"][k].is_u64(), "geometry.{k}");
    }
    assert_eq!(j["timestamp"], "2000-01-01T00:00:00Z");
    assert_eq!(j["unique_id"], id_text(&id_for("keys-child")));
    let l = &j["parent_locators"][0];
    assert!(l.get("platform_code").is_some() && l.get("path").is_some());
    // A fixed disk has none of the dynamic keys.
    let f = viewer_info(&qemu_fixture(&qemu_spec("qemu-fixed-3M")), &[]);
    assert_eq!(f["disk_type"], "fixed");
    assert!(f.get("block_size").is_none() && f.get("table_offset").is_none());
    assert_eq!(f["timestamp"], "2021-06-01T00:00:00Z", "the time stamp patched into the fixture");
}

/// Without its parent, `cat` gives the sectors the child holds itself, and refuses (before
/// writing anything) a range that needs the parent.
#[test]
fn cat_without_the_parent_gives_what_the_child_holds() {
    let dir = std::env::temp_dir().join(format!("vhd-viewer-cat-orphan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut base = vhd_viewer::vhd::writer::DiskBuilder::dynamic(4 << 20, 1 << 20);
    base.write(0, &[1; 4096]);
    let mut child = vhd_viewer::vhd::writer::DiskBuilder::differencing(&base.parent_ref("gone.vhd"), 1 << 20);
    child.write(1024, &[9; 512]);
    let p = dir.join("child.vhd");
    std::fs::write(&p, child.build()).unwrap();
    let bin = env!("CARGO_BIN_EXE_vhd-viewer");
    let held = std::process::Command::new(bin).args(["cat", p.to_str().unwrap(), "--offset", "1024", "--length", "512"]).output().unwrap();
    assert_eq!(held.status.code(), Some(0), "{}", String::from_utf8_lossy(&held.stderr));
    assert_eq!(held.stdout, vec![9u8; 512]);
    let needs = std::process::Command::new(bin).args(["cat", p.to_str().unwrap(), "--offset", "512", "--length", "1024"]).output().unwrap();
    assert_eq!(needs.status.code(), Some(2));
    assert!(needs.stdout.is_empty(), "wrote {} bytes before refusing", needs.stdout.len());
    assert!(String::from_utf8_lossy(&needs.stderr).contains("gone.vhd"), "{}", String::from_utf8_lossy(&needs.stderr));
    std::fs::remove_dir_all(&dir).ok();
}

/// `cat` has the kernel copy long data extents from the file to its output when that is a file
/// (`copy_file_range`) and writes the rest, and everything into a pipe, from its buffer: the
/// bytes are the disk's, in order, whatever the output is: a pipe, a file, a file opened to
/// append (where the kernel refuses `copy_file_range`), and from an offset that is not a sector's.
#[test]
fn cat_into_a_pipe_a_file_and_an_appended_file() {
    let dir = scratch("cli-cat-outputs");
    // Long runs (whole blocks, copied by the kernel) between short runs, zeros and clear bits.
    let size = 8 * MIB;
    let mut disk = DiskBuilder::dynamic(size, 2 * MIB as u32);
    let pattern = |n: usize, seed: u8| (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 9) as u8).collect::<Vec<u8>>();
    disk.write(0, &pattern(2 * MIB as usize, 1)); // block 0 whole
    disk.write(2 * MIB + 4096, &pattern(1024, 2)); // block 1: two sectors
    disk.write(2 * MIB + 8192, &pattern(600 << 10, 3)); // and a long run after a gap
    disk.write(6 * MIB + 512, &pattern(MIB as usize, 4)); // block 3 from sector 1; block 2 unallocated
    let p = dir.join("d.vhd");
    std::fs::write(&p, disk.build()).unwrap();
    let ps = p.to_str().unwrap();
    let mut all = vec![0u8; size as usize];
    for (at, n, seed) in [
        (0usize, 2 * MIB as usize, 1),
        (2 * MIB as usize + 4096, 1024, 2),
        (2 * MIB as usize + 8192, 600 << 10, 3),
        (6 * MIB as usize + 512, MIB as usize, 4),
    ] {
        all[at..at + n].copy_from_slice(&pattern(n, seed));
    }
    for (off, len) in [(0u64, size), (1000, size - 3000), (2 * MIB + 5000, 3 * MIB)] {
        let want = &all[off as usize..(off + len) as usize];
        let args = ["cat", ps, "--offset", &off.to_string(), "--length", &len.to_string()];
        // A pipe.
        let o = cli(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_same_bytes(&format!("cat {off} {len} into a pipe"), &o.stdout, want);
        // A file, then the same file opened to append after a few bytes already in it.
        let out = dir.join("out.raw");
        let file = std::fs::File::create(&out).unwrap();
        let o = std::process::Command::new(bin()).args(args).stdout(file).output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        assert_same_bytes(&format!("cat {off} {len} into a file"), &std::fs::read(&out).unwrap(), want);
        std::fs::write(&out, b"abc").unwrap();
        let file = std::fs::OpenOptions::new().append(true).open(&out).unwrap();
        let o = std::process::Command::new(bin()).args(args).stdout(file).output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let got = std::fs::read(&out).unwrap();
        assert_eq!(&got[..3], b"abc");
        assert_same_bytes(&format!("cat {off} {len} appended to a file"), &got[3..], want);
    }
}
