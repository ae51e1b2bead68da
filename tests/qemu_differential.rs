//! Differential tests on disks made by `qemu-img create -f vpc` with data written by `qemu-io`:
//! the flattened disk (`vhd-viewer cat`) must equal what the spec of the fixture says it holds,
//! what `qemu-img convert -O raw` gives and what `7zz x -tVHD -so` gives; `map` must agree with
//! `qemu-img map`; header fields must equal what `vhdiinfo -v` prints.
//!
//! qemu's own quirks are avoided here, not trusted: these fixtures are made by qemu itself
//! ("qemu" creator sized by CHS with a current size equal to the CHS size, or "qem2" with
//! force_size), so qemu's size is right for them. Where qemu is wrong, see `known_defects.rs`.

mod common;
use common::*;
use serde_json::Value;

fn check_content(spec: &QemuSpec) {
    let path = qemu_fixture(spec);
    let info = viewer_info(&path, &[]);
    let size = info["current_size"].as_u64().unwrap();
    let ours = viewer_cat(&path, &[]);
    // 1. The truth from the spec alone: zeros and the writes.
    assert_same_bytes(&format!("{}: vhd-viewer cat vs the writes", spec.name), &ours, &expected_content(spec, size));
    // 2. qemu-img.
    assert_same_bytes(&format!("{}: vhd-viewer cat vs qemu-img convert", spec.name), &ours, &qemu_raw(&path));
    // 3. 7-Zip.
    assert_same_bytes(&format!("{}: vhd-viewer cat vs 7zz", spec.name), &ours, &sevenzip_raw(&path));
}

#[test]
fn fixed_3m_content_matches_qemu_and_7zip() {
    check_content(&qemu_spec("qemu-fixed-3M"));
}

#[test]
fn fixed_force_size_content_matches_qemu_and_7zip() {
    check_content(&qemu_spec("qemu-fixed-force"));
}

#[test]
fn dynamic_10m_content_matches_qemu_and_7zip() {
    check_content(&qemu_spec("qemu-dynamic-10M"));
}

#[test]
fn dynamic_force_size_content_matches_qemu_and_7zip() {
    check_content(&qemu_spec("qemu-dynamic-force-5M"));
}

#[test]
fn empty_dynamic_content_is_zeros_like_qemu_and_7zip() {
    check_content(&qemu_spec("qemu-dynamic-empty"));
}

#[test]
fn sizes_follow_qemu_rules() {
    // qemu rounds a non-force_size disk up to the CHS geometry's size and records that as the
    // current size; with force_size it keeps the size asked for and writes creator "qem2".
    let j = viewer_info(&qemu_fixture(&qemu_spec("qemu-fixed-3M")), &[]);
    assert_eq!(j["current_size"], 3_168_256);
    assert_eq!(j["disk_type"], "fixed");
    assert_eq!(j["creator_application"], "qemu");
    let g = &j["geometry"];
    assert_eq!(g["cylinders"].as_u64().unwrap() * g["heads"].as_u64().unwrap() * g["sectors_per_track"].as_u64().unwrap() * 512, 3_168_256);
    let j = viewer_info(&qemu_fixture(&qemu_spec("qemu-fixed-force")), &[]);
    assert_eq!(j["current_size"], 4_194_816);
    assert_eq!(j["creator_application"], "qem2");
    let j = viewer_info(&qemu_fixture(&qemu_spec("qemu-dynamic-force-5M")), &[]);
    assert_eq!(j["current_size"], 5 << 20);
    assert_eq!(j["block_size"], 2 << 20);
    assert_eq!(j["max_table_entries"], 3);
    assert_eq!(j["allocated_blocks"], 2, "the writes touch blocks 0 and 2 only");
}

/// Merges adjacent `(start, length, offset)` ranges whose file offsets continue.
fn merge(mut v: Vec<(u64, u64, u64)>) -> Vec<(u64, u64, u64)> {
    v.sort();
    let mut out: Vec<(u64, u64, u64)> = Vec::new();
    for r in v {
        match out.last_mut() {
            Some(l) if l.0 + l.1 == r.0 && l.2 + l.1 == r.2 => l.1 += r.1,
            _ => out.push(r),
        }
    }
    out
}

#[test]
fn map_of_dynamic_disks_agrees_with_qemu_img_map() {
    for name in ["qemu-dynamic-10M", "qemu-dynamic-force-5M", "qemu-dynamic-empty"] {
        let path = qemu_fixture(&qemu_spec(name));
        let o = cli(&["map", "--json", path.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        let ours: Value = serde_json::from_slice(&o.stdout).unwrap();
        let ours = merge(
            ours.as_array()
                .unwrap()
                .iter()
                .filter(|r| r["kind"] == "data")
                .map(|r| (r["start"].as_u64().unwrap(), r["length"].as_u64().unwrap(), r["file_offset"].as_u64().unwrap()))
                .collect(),
        );
        let q = run_ok(std::process::Command::new("qemu-img").args(["map", "-f", "vpc", "--output=json"]).arg(&path));
        let theirs: Value = serde_json::from_slice(&q.stdout).unwrap();
        let theirs = merge(
            theirs
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["data"] == true)
                .map(|r| (r["start"].as_u64().unwrap(), r["length"].as_u64().unwrap(), r["offset"].as_u64().unwrap()))
                .collect(),
        );
        assert_eq!(ours, theirs, "{name}: data ranges (start, length, file offset) of vhd-viewer map vs qemu-img map");
    }
}

#[test]
fn map_extents_tile_the_disk_and_cover_every_write() {
    for spec in qemu_specs() {
        let path = qemu_fixture(&spec);
        let size = viewer_info(&path, &[])["current_size"].as_u64().unwrap();
        let o = cli(&["map", "--json", path.to_str().unwrap()]);
        let rows: Value = serde_json::from_slice(&o.stdout).unwrap();
        let mut pos = 0;
        let mut data = Vec::new();
        for r in rows.as_array().unwrap() {
            assert_eq!(r["start"].as_u64().unwrap(), pos, "{}: extents must be contiguous", spec.name);
            pos += r["length"].as_u64().unwrap();
            if r["kind"] == "data" {
                data.push((r["start"].as_u64().unwrap(), pos));
            }
        }
        assert_eq!(pos, size, "{}: extents must end at the disk's size", spec.name);
        for (_, off, len) in &spec.writes {
            // Every byte written lies in some data extent (a write may span two blocks).
            let mut at = *off;
            while at < off + len {
                let Some((_, e)) = data.iter().find(|(s, e)| *s <= at && at < *e) else {
                    panic!("{}: byte {at} of the write at {off} ({len} bytes) is not in a data extent: {data:?}", spec.name)
                };
                at = *e;
            }
        }
    }
}

#[test]
fn header_fields_match_vhdiinfo() {
    for spec in qemu_specs() {
        let path = qemu_fixture(&spec);
        let ours = viewer_info(&path, &[]);
        let theirs = vhdiinfo(&path);
        let dt = match ours["disk_type"].as_str().unwrap() {
            "fixed" => "Fixed",
            "dynamic" => "Dynamic",
            "differencing" => "Differential",
            t => panic!("disk type {t}"),
        };
        assert_eq!(theirs["Disk type"], dt, "{}", spec.name);
        // libvhdi takes the size from `original size`; in these fixtures both are equal, which
        // is asserted too so that the comparison means something.
        assert_eq!(ours["original_size"], ours["current_size"], "{}", spec.name);
        assert_eq!(vhdi_media_size(&theirs["Media size"]), ours["current_size"].as_u64().unwrap(), "{}", spec.name);
        assert_eq!(theirs["Identifier"], ours["unique_id"].as_str().unwrap(), "{}", spec.name);
        assert_eq!(theirs["Identifier"], id_text(&id_for(spec.name)), "{}: the id patched in", spec.name);
    }
}

#[test]
fn cat_ranges_match_the_writes() {
    // Unaligned --offset/--length inside, across and at the edges of the writes.
    let spec = qemu_spec("qemu-dynamic-10M");
    let path = qemu_fixture(&spec);
    let all = expected_content(&spec, 10_514_432);
    for (off, len) in [(0u64, 1u64), (2 * 1048576 - 701, 1402), (5 * 1048576 + 99, 12), (10_514_432 - 513, 513), (3, 2 * 1048576 + 5)] {
        let got = viewer_cat(&path, &["--offset", &off.to_string(), "--length", &len.to_string()]);
        assert_same_bytes(&format!("cat --offset {off} --length {len}"), &got, &all[off as usize..(off + len) as usize]);
    }
    // Hex offsets, and a length running past the end is clamped to the disk.
    let got = viewer_cat(&path, &["--offset", "0x1FFD44", "--length", "0x10"]);
    assert_eq!(got, all[0x1FFD44..0x1FFD54]);
    let got = viewer_cat(&path, &["--offset", "10514000", "--length", "4096"]);
    assert_eq!(got, all[10_514_000..]);
}
