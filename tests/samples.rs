//! Known-answer tests on real disks made by other software (`tests/data`, described in
//! its README): the answers come from that README and from the independent readers, not from
//! this viewer.

mod common;
use common::*;
use serde_json::Value;
use vhd_viewer::reader::{open_layer, Counting, KnownLen};

fn findings(path: &std::path::Path, extra: &[&str]) -> (i32, Vec<Value>) {
    let mut args = vec!["check", "--json", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = cli(&args);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("check --json: {e}: {}", stderr(&o)));
    (o.status.code().unwrap(), v.as_array().unwrap().clone())
}

fn find<'a>(f: &'a [Value], code: &str) -> &'a Value {
    f.iter().find(|x| x["code"] == code).unwrap_or_else(|| panic!("no {code} finding in {f:?}"))
}

/// The README's hash, which qemu-img and libvhdi agree on.
const WIN10_SHA256: &str = "84dfc92af40416602b7c4207f78d24466e097cfbd56459764d974ceb6c483793";

#[test]
fn win10_dynamic_flattened_hash() {
    // 2 GiB: hashed as a stream rather than held in memory.
    let p = sample("win10-dynamic-2G.vhd");
    let ours = sha256_stdout(std::process::Command::new(bin()).arg("cat").arg(&p));
    assert_eq!(ours, WIN10_SHA256);
    let j = viewer_info(&p, &[]);
    assert_eq!(j["allocated_blocks"], 10);
    assert_eq!(j["creator_application"], "win ");
    assert_eq!(j["creator_version"], "10.0");
    assert_eq!(j["current_size"], 2u64 << 30);
    let v = vhdiinfo(&p);
    assert_eq!(v["Identifier"], j["unique_id"].as_str().unwrap());
    assert_eq!(vhdi_media_size(&v["Media size"]), 2u64 << 30);
    let (code, f) = findings(&p, &[]);
    assert_eq!(code, 0, "{f:?}");
}

#[test]
fn win10_dynamic_independent_readers_agree_with_the_hash() {
    // If these fail, the anchor changed, not necessarily the viewer.
    let p = sample("win10-dynamic-2G.vhd");
    assert_eq!(sha256_stdout(std::process::Command::new("7zz").args(["x", "-tVHD", "-so"]).arg(&p)), WIN10_SHA256, "7zz");
    let raw = scratch("win10-qemu").join("win10.raw");
    run_ok(std::process::Command::new("qemu-img").args(["convert", "-f", "vpc", "-O", "raw"]).arg(&p).arg(&raw));
    assert_eq!(sha256_file(&raw), WIN10_SHA256, "qemu-img");
    let _ = std::fs::remove_file(&raw);
}

#[test]
fn hyperv_2012r2_empty_127g() {
    let p = sample("hyperv2012r2-dynamic.vhd");
    let j = viewer_info(&p, &[]);
    assert_eq!(j["current_size"], 136_365_211_648u64);
    assert_eq!(j["geometry"]["cylinders"], 65278);
    assert_eq!(j["geometry"]["heads"], 16);
    assert_eq!(j["geometry"]["sectors_per_track"], 255);
    assert_eq!(j["geometry_size"], 136_363_130_880u64);
    assert_eq!(j["max_table_entries"], 65024);
    assert_eq!(j["bat_entries"], 65024);
    assert_eq!(j["allocated_blocks"], 0);
    assert_eq!(j["creator_application"], "win ");
    assert_eq!(j["creator_version"], "6.3");
    // A "win " disk is sized by current size: that the geometry says less is only information.
    let (code, f) = findings(&p, &[]);
    assert_eq!(code, 0);
    let g = find(&f, "geometry-size");
    assert_eq!(g["severity"], "info");
    let footer = std::fs::metadata(&p).unwrap().len() - 512;
    assert_eq!(g["offset"], footer + 56);
    // The independent readers agree on the size.
    let v = vhdiinfo(&p);
    assert_eq!(vhdi_media_size(&v["Media size"]), 136_365_211_648);
    assert_eq!(v["Identifier"], j["unique_id"].as_str().unwrap());
    let q = run_ok(std::process::Command::new("qemu-img").args(["info", "--output=json", "-f", "vpc"]).arg(&p));
    let q: Value = serde_json::from_slice(&q.stdout).unwrap();
    assert_eq!(q["virtual-size"], 136_365_211_648u64);
    // Empty: map has a single zero extent, and a read anywhere is zeros.
    let o = cli(&["map", "--json", p.to_str().unwrap()]);
    let rows: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows, serde_json::json!([{"start": 0, "length": 136_365_211_648u64, "kind": "zero", "file": null}]));
    let tail = viewer_cat(&p, &["--offset", "136365211136", "--length", "4096"]);
    assert_eq!(tail, vec![0u8; 512]);
}

#[test]
fn hyperv_open_reads_only_the_metadata() {
    let p = sample("hyperv2012r2-dynamic.vhd");
    let f = Counting::new(KnownLen::new(std::fs::File::open(&p).unwrap()));
    let layer = open_layer(&f).unwrap();
    assert_eq!(layer.vhd().unwrap().bat.len(), 65024);
    // Footer, footer copy, dynamic header, BAT (65024 entries of 4 bytes).
    assert_eq!(f.bytes(), 512 + 512 + 1024 + 65024 * 4);
}

#[test]
fn image_vhd_bad_checksums_in_both_copies_but_readable() {
    let p = sample("image.vhd");
    let j = viewer_info(&p, &[]);
    assert_eq!(j["checksum_valid"], false);
    assert_eq!(j["footer_copy"]["checksum_valid"], false);
    assert_eq!(j["current_size"], 104_448);
    let (code, f) = findings(&p, &[]);
    assert_eq!(code, 1, "wrong checksums are errors: {f:?}");
    let footer = std::fs::metadata(&p).unwrap().len() - 512;
    let e = find(&f, "footer-checksum");
    assert_eq!(e["severity"], "error");
    assert_eq!(e["offset"], footer + 64);
    let e = find(&f, "footer-copy-checksum");
    assert_eq!(e["severity"], "error");
    assert_eq!(e["offset"], 64);
    // Readable all the same: the data are intact (an ext2 file system: magic 0xEF53 at 1080).
    let ours = viewer_cat(&p, &[]);
    assert_eq!(ours.len(), 104_448);
    assert_eq!(&ours[1080..1082], &[0x53, 0xef]);
    // qemu-img refuses the file; with the two checksums repaired (by this test, not the viewer)
    // it reads it, and must read what we read from the damaged file.
    assert!(
        !output(std::process::Command::new("qemu-img").args(["info", "-f", "vpc"]).arg(&p)).status.success(),
        "qemu-img used to refuse image.vhd"
    );
    let mut img = Image::read(&p);
    img.fix_footer(0);
    let end = img.footer_at();
    img.fix_footer(end);
    let dir = scratch("image-repaired");
    let fixed = dir.join("image.vhd");
    img.write(&fixed);
    assert_same_bytes("image.vhd ours (damaged) vs qemu-img (repaired)", &ours, &qemu_raw(&fixed));
    assert_same_bytes("image.vhd ours (damaged) vs 7zz (repaired)", &ours, &sevenzip_raw(&fixed));
}

#[test]
fn image_differential_finds_its_parent_by_unicode_name_only() {
    let dir = scratch("image-diff");
    let child = sample_into("image-differential.vhd", &dir);
    sample_into("image.vhd", &dir);
    let j = viewer_info(&child, &[]);
    assert_eq!(j["parent_locators"], serde_json::json!([]));
    assert_eq!(j["parent_unicode_name"], "image.vhd");
    assert_eq!(j["parent_missing"], false);
    assert_eq!(j["chain"].as_array().unwrap().len(), 2);
    assert_eq!(j["chain"][0]["parent_verified"], true);
    assert!(j["chain"][1]["file"].as_str().unwrap().ends_with("image.vhd"));
    let (code, f) = findings(&child, &[]);
    assert_eq!(code, 1);
    assert_eq!(find(&f, "locators-none")["severity"], "warning");
    let h = find(&f, "header-checksum");
    assert_eq!(h["severity"], "error");
    assert_eq!(h["offset"], 512 + 36);
    assert_eq!(h["layer"], 0);
    // Its bitmap is all ones: the content is the child's own block, i.e. what qemu (which
    // ignores parents) reads from a repaired copy.
    let ours = viewer_cat(&child, &[]);
    let mut img = Image::read(&child);
    img.fix_footer(0);
    let end = img.footer_at();
    img.fix_footer(end);
    img.edit_header(|_| {});
    let fixed = scratch("image-diff-repaired").join("image-differential.vhd");
    img.write(&fixed);
    assert_same_bytes("image-differential ours vs qemu-img (repaired)", &ours, &qemu_raw(&fixed));
    // Without the parent beside it, the parent is not found, and the message says where it looked.
    let alone = scratch("image-diff-alone");
    let c2 = sample_into("image-differential.vhd", &alone);
    let o = cli(&["info", c2.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("parent-not-found") && stdout(&o).contains("image.vhd"), "{}", stdout(&o));
}

#[test]
fn fat_differential_header_fields_match_vhdiinfo() {
    let p = sample("fat-differential.vhd");
    let j = viewer_info(&p, &[]);
    let v = vhdiinfo(&p);
    assert_eq!(v["Disk type"], "Differential");
    assert_eq!(j["disk_type"], "differencing");
    assert_eq!(vhdi_media_size(&v["Media size"]), j["current_size"].as_u64().unwrap());
    assert_eq!(v["Identifier"], j["unique_id"].as_str().unwrap());
    assert_eq!(v["Parent identifier"], j["parent_unique_id"].as_str().unwrap());
    assert_eq!(v["Parent filename"], j["parent_unicode_name"].as_str().unwrap());
    // And the README's facts.
    assert_eq!(j["unique_id"], "f84f1636-cd9e-9041-a69e-dcc2380e416a");
    assert_eq!(j["parent_unique_id"], "5fa21a55-f394-aa4d-9958-1951a67d5540");
    assert_eq!(j["parent_timestamp"], "2000-01-01T00:00:00Z");
    let locs = j["parent_locators"].as_array().unwrap();
    assert_eq!(locs.len(), 2);
    assert_eq!(locs[0]["platform_code"], "W2ku");
    assert_eq!(locs[0]["path"], "C:\\Projects\\dfvfs\\test_data\\fat-parent.vhd");
    assert_eq!(locs[0]["platform_data_space"], 4096);
    assert_eq!(locs[1]["platform_code"], "W2ru");
    assert_eq!(locs[1]["path"], ".\\fat-parent.vhd");
    assert_eq!(locs[1]["platform_data_space"], 65536);
    // Windows stores the data space in bytes: neither entry is "out of range" for it.
    let (code, f) = findings(&p, &[]);
    assert!(f.iter().all(|x| x["code"] != "locator-out-of-range" && x["code"] != "locator-space"), "{f:?}");
    assert_eq!(code, 1, "the parent is missing: an error");
    assert!(f.iter().any(|x| x["code"] == "parent-not-found"));
}

#[test]
fn fat_differential_without_parent_cannot_be_catted() {
    let p = sample("fat-differential.vhd");
    let o = cli(&["cat", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("fat-parent.vhd"), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "nothing is written before the error");
}
