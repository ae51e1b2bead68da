//! LVM2 on a disk made by lvm2's own tools (`tests/web/fixtures/make-lvm-vhds.sh`: a GPT disk,
//! ext4 /boot, two PVs holding a linear LV of two segments and an LV striped over both): the
//! volume group, LVs and segments compared with `lvs`/`pvs`/`vgs --reportformat json`, the files
//! of each LV compared with the trees they were made from, in the VHD and the VHDX; then damage
//! (checksums, a missing PV, stale and disagreeing copies, hostile metadata text) read as
//! findings, never a panic; `owner`, `diff`, `timeline` and `compact --trim` through the extents; and the Red
//! Hat layout (GPT, /boot XFS, XFS root and home logical volumes, home striped).

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use vhd_viewer::lvm;
use vhd_viewer::parts;

/// The fixture's folder, or `None` (with the reason printed) where the machine refuses lvm2 on loop devices.
fn fixture() -> Option<PathBuf> {
    let dir = fixture_script("lvm", "lvm", "make-lvm-vhds.sh", "done", &["lvm-etc"]);
    if let Ok(why) = std::fs::read_to_string(dir.join("skipped")) {
        eprintln!("skipped: {why}");
        return None;
    }
    Some(dir)
}

fn report(dir: &Path, file: &str, key: &str) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&std::fs::read(dir.join(file)).unwrap()).unwrap();
    v["report"][0][key].as_array().unwrap().clone()
}

fn num(v: &Value) -> u64 {
    v.as_str().unwrap().trim().parse().unwrap()
}

#[test]
fn volumes_match_lvm2s_own_report_in_vhd_and_vhdx() {
    let Some(dir) = fixture() else { return };
    let segs = report(&dir, "lvs.json", "seg");
    let pvs = report(&dir, "pvs.json", "pv");
    let vg = &report(&dir, "vgs.json", "vg")[0];
    let extent = num(&vg["vg_extent_size"]);
    for disk in ["lvm.vhd", "lvm.vhdx"] {
        let (out, _) = vv_both(&["parts", p(&dir.join(disk)), "--json"], 0);
        let t: Value = serde_json::from_str(&out).unwrap();
        let vols = t["volumes"].as_array().unwrap();
        assert_eq!(vols.len(), 2, "{out}");
        assert!(t["findings"].as_array().unwrap().is_empty(), "{out}");
        // Partitions 2 and 3 hold the PVs: each names its volume group; /boot names none.
        let groups: Vec<&Value> = t["partitions"].as_array().unwrap().iter().map(|p| &p["volume_group"]).collect();
        assert_eq!(groups, [&Value::Null, &vg["vg_name"], &vg["vg_name"]], "{out}");
        for v in vols {
            let name = v["lv"].as_str().unwrap();
            assert_eq!(v["vg"], vg["vg_name"]);
            let mine: Vec<&Value> = segs.iter().filter(|s| s["lv_name"] == name).collect();
            assert_eq!(v["size"].as_u64().unwrap(), num(&mine[0]["lv_size"]), "{name}");
            let got = v["segments"].as_array().unwrap();
            assert_eq!(got.len(), mine.len(), "{name}");
            for (g, s) in got.iter().zip(&mine) {
                assert_eq!(g["start_extent"].as_u64().unwrap(), num(&s["seg_start_pe"]));
                assert_eq!(g["extent_count"].as_u64().unwrap(), num(&s["seg_size_pe"]));
                assert_eq!(g["type"], "striped");
                assert_eq!(u64::from(g["stripes"].as_u64().unwrap() as u32), num(&s["stripes"]));
                assert_eq!(g["stripe_size"].as_u64().unwrap(), num(&s["stripe_size"]));
                // Each stripe's PV (by UUID) and first extent, as lvm2 lists them ("/dev/loopN:6-9").
                let ranges: Vec<&str> = s["seg_pe_ranges"].as_str().unwrap().split_whitespace().collect();
                for (stripe, range) in g["pvs"].as_array().unwrap().iter().zip(&ranges) {
                    let (dev, span) = range.rsplit_once(':').unwrap();
                    let uuid = pvs.iter().find(|p| p["pv_name"] == dev).unwrap()["pv_uuid"].as_str().unwrap();
                    assert_eq!(stripe["id"], uuid);
                    assert_eq!(stripe["start_extent"].as_u64().unwrap(), span.split('-').next().unwrap().parse::<u64>().unwrap());
                    // pv0 is partition 2, pv1 partition 3.
                    let order = pvs.iter().position(|p| p["pv_name"] == dev).unwrap() as u64;
                    assert_eq!(stripe["partition"].as_u64().unwrap(), 2 + order);
                }
            }
            assert_eq!(v["filesystem"], "ext4");
            assert_eq!(v["label"], name.to_uppercase());
            assert_eq!(v["size"].as_u64().unwrap() % extent, 0);
        }
        // The structures name the label, PV header and metadata area of both PVs, at their bytes.
        let names: Vec<&str> = t["structures"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
        for n in ["LVM2 label (partition 2)", "LVM2 PV header (partition 3)", "LVM2 metadata area header (partition 3, at 4096)"] {
            assert!(names.contains(&n), "{names:?}");
        }
        let label = t["structures"].as_array().unwrap().iter().find(|s| s["name"] == "LVM2 label (partition 2)").unwrap();
        assert_eq!(label["offset"].as_u64().unwrap(), 18432 * 512 + 512);
        assert!(label["fields"].as_array().unwrap().iter().all(|f| f["ok"] == true), "{label}");
    }
}

/// Every file of `tree` (relative path, bytes).
fn files(tree: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![tree.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap().path();
            if e.is_dir() {
                stack.push(e);
            } else {
                out.push((format!("/{}", e.strip_prefix(tree).unwrap().display()), std::fs::read(&e).unwrap()));
            }
        }
    }
    out
}

#[test]
fn each_logical_volume_lists_and_reads_its_files() {
    let Some(dir) = fixture() else { return };
    for disk in ["lvm.vhd", "lvm.vhdx"] {
        let d = dir.join(disk);
        for (lv, tree) in [("vgdata/root", "src-root"), ("vgdata/home", "src-home")] {
            let want = files(&dir.join(tree));
            let (out, _) = vv_both(&["ls", p(&d), "/", "-r", "--volume", lv, "--json"], 0);
            let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
            for (path, bytes) in &want {
                let l = lines.iter().find(|l| l["path"] == path.as_str()).unwrap_or_else(|| panic!("{lv}: {path} not listed"));
                assert_eq!(l["volume"], lv);
                assert_eq!(l["size"].as_u64().unwrap(), bytes.len() as u64);
                let got = cli(&["get", p(&d), path, "--volume", lv]);
                assert!(got.status.success(), "{}", stderr(&got));
                assert!(got.stdout == *bytes, "{disk} {lv}{path}: bytes differ");
            }
        }
        // Without --volume, ls reads the partitions and the volumes; get finds a path on one.
        let (all, _) = vv_both(&["ls", p(&d), "/", "-r"], 0);
        for want in ["1: /grub.cfg", "vgdata/root: /etc/os-release", "vgdata/home: /alice/notes.txt"] {
            assert!(all.contains(want), "{all}");
        }
        assert_eq!(cli(&["get", p(&d), "/alice/notes.txt"]).stdout, b"notes\n");
        // The LV's bytes: its ext4 superblock's magic at 1080.
        let raw = cli(&["cat", p(&d), "--volume", "vgdata/home", "--offset", "1080", "--length", "2"]).stdout;
        assert_eq!(raw, [0x53, 0xEF]);
        let (_, err) = vv_both(&["ls", p(&d), "--volume", "vgdata/nope"], 2);
        assert!(err.contains("vgdata/root, vgdata/home"), "{err}");
        let (_, err) = vv_both(&["ls", p(&d), "--volume", "vgdata/home", "--partition", "1"], 2);
        assert!(err.contains("cannot be used with"), "{err}");
    }
}

/// The fixture's raw disk, read by the library.
fn raw(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join("lvm.raw")).unwrap()
}

fn codes(t: &parts::Table) -> Vec<&'static str> {
    t.findings.iter().map(|f| f.code).collect()
}

const PV0: usize = 18432 * 512;
const PV1: usize = 67584 * 512;

#[test]
fn damage_is_a_finding_naming_its_byte() {
    let Some(dir) = fixture() else { return };
    let good = raw(&dir);
    let lvs = |t: &parts::Table| t.volumes.iter().map(|v| (v.name(), v.map.is_some())).collect::<Vec<_>>();

    // The label's checksum.
    let mut img = good.clone();
    img[PV0 + 512 + 100] ^= 1;
    let t = parts::read(&mut img).unwrap();
    let f = t.findings.iter().find(|f| f.code == "lvm-label-checksum").unwrap();
    assert_eq!(f.offset, Some((PV0 + 512 + 16) as u64));

    // pv1 gone (its label zeroed): home needs it, root does not.
    let mut img = good.clone();
    img[PV1 + 512..PV1 + 520].fill(0);
    let t = parts::read(&mut img).unwrap();
    assert_eq!(lvs(&t), [("vgdata/root".to_string(), true), ("vgdata/home".to_string(), false)]);
    let why = t.volumes[1].unreadable.as_deref().unwrap();
    assert!(why.contains("pv1") && why.contains("not on this disk"), "{why}");

    // A metadata text's bytes changed: its checksum fails, and the other PV's copy is read.
    let mut img = good.clone();
    let mda = PV0 + 4096;
    let text = mda + lvm_text_offset(&img, mda);
    let at = text + img[text..].windows(5).position(|w| w == b"seqno").unwrap();
    img[at] = b'S';
    let t = parts::read(&mut img).unwrap();
    assert!(codes(&t).contains(&"lvm-text-checksum"), "{:?}", t.findings);
    assert_eq!(lvs(&t).len(), 2);
    assert!(t.volumes.iter().all(|v| v.map.is_some()));

    // The metadata area header's checksum.
    let mut img = good.clone();
    img[PV1 + 4096 + 200] ^= 1;
    let t = parts::read(&mut img).unwrap();
    assert!(t.findings.iter().any(|f| f.code == "lvm-mda-checksum" && f.offset == Some((PV1 + 4096) as u64)), "{:?}", t.findings);

    // A stale copy (pv1's header pointing at an older text of the ring): a finding, the newer read.
    let mut img = good.clone();
    let (mda1, newest) = (PV1 + 4096, lvm_text_offset(&good, PV1 + 4096));
    // lvm2 writes each new text after the last in the ring, 512-byte aligned: an older one is before.
    let o = (512..newest).step_by(512).find(|&o| img[mda1 + o..].starts_with(b"vgdata {")).expect("an older text in the ring");
    {
        let len = img[mda1 + o..].iter().position(|&b| b == 0).unwrap();
        img[mda1 + 40..mda1 + 48].copy_from_slice(&(o as u64).to_le_bytes());
        img[mda1 + 48..mda1 + 56].copy_from_slice(&(len as u64).to_le_bytes());
        let c = lvm::crc(&img[mda1 + o..mda1 + o + len]);
        img[mda1 + 56..mda1 + 60].copy_from_slice(&c.to_le_bytes());
        let h = lvm::crc(&img[mda1 + 4..mda1 + 512]);
        img[mda1..mda1 + 4].copy_from_slice(&h.to_le_bytes());
        let t = parts::read(&mut img).unwrap();
        assert!(codes(&t).contains(&"lvm-metadata-stale"), "{:?}", t.findings);
        assert_eq!(lvs(&t).len(), 2);
    }
}

/// Where the metadata area at `mda` says its newest text is, from the area's start.
fn lvm_text_offset(img: &[u8], mda: usize) -> usize {
    u64::from_le_bytes(img[mda + 40..mda + 48].try_into().unwrap()) as usize
}

/// A PV whose metadata text is `text` (checksums right), on a whole disk of 4 MiB.
fn pv_with_text(text: &[u8]) -> Vec<u8> {
    let mut img = vec![0u8; 4 << 20];
    let l = 512;
    img[l..l + 8].copy_from_slice(b"LABELONE");
    img[l + 8] = 1;
    img[l + 20] = 32;
    img[l + 24..l + 32].copy_from_slice(b"LVM2 001");
    img[l + 32..l + 64].copy_from_slice(b"AAAAAABBBBCCCCDDDDEEEEFFFFGGGGGG");
    img[l + 64..l + 72].copy_from_slice(&(4u64 << 20).to_le_bytes());
    img[l + 72..l + 80].copy_from_slice(&(1u64 << 20).to_le_bytes()); // data area
    img[l + 104..l + 112].copy_from_slice(&4096u64.to_le_bytes()); // metadata area
    img[l + 112..l + 120].copy_from_slice(&((1u64 << 20) - 4096).to_le_bytes());
    let c = lvm::crc(&img[l + 20..l + 512]);
    img[l + 16..l + 20].copy_from_slice(&c.to_le_bytes());
    let m = 4096;
    img[m + 4..m + 20].copy_from_slice(b"\x20LVM2\x20x[5A%r0N*>");
    img[m + 20] = 1;
    img[m + 24..m + 32].copy_from_slice(&4096u64.to_le_bytes());
    img[m + 32..m + 40].copy_from_slice(&((1u64 << 20) - 4096).to_le_bytes());
    let text = &text[..text.len().min((1 << 20) - 4096 - 512)];
    img[m + 40..m + 48].copy_from_slice(&512u64.to_le_bytes());
    img[m + 48..m + 56].copy_from_slice(&(text.len() as u64).to_le_bytes());
    img[m + 56..m + 60].copy_from_slice(&lvm::crc(text).to_le_bytes());
    img[m + 512..m + 512 + text.len()].copy_from_slice(text);
    let c = lvm::crc(&img[m + 4..m + 512]);
    img[m..m + 4].copy_from_slice(&c.to_le_bytes());
    img
}

const VG: &str = "vg {\nid = \"x\"\nseqno = 1\nextent_size = 2048\nphysical_volumes {\npv0 {\nid = \"AAAAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGGGG\"\npe_start = 2048\npe_count = 3\n}\n}\nlogical_volumes {\n";

#[test]
fn metadata_written_here_reads_and_hostile_metadata_is_bounded() {
    // A linear LV over the PV's 3 extents of 1 MiB: read where pe_start puts it.
    let lv = format!("{VG}lv {{\nid = \"y\"\nstatus = [\"READ\", \"VISIBLE\"]\nsegment1 {{\nstart_extent = 0\nextent_count = 3\ntype = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", 0]\n}}\n}}\n}}\n}}\n");
    let mut img = pv_with_text(lv.as_bytes());
    img[(1 << 20) + 7] = 0xAB;
    let t = parts::read(&mut img).unwrap();
    assert!(t.findings.iter().all(|f| !f.code.starts_with("lvm")), "{:?}", t.findings);
    let p = t.volume("vg/lv").unwrap();
    let mut vol = p.volume(&mut img);
    assert_eq!(vol.len(), 3 << 20);
    let mut b = [0u8; 8];
    vol.read_at(0, &mut b).unwrap();
    assert_eq!(b[7], 0xAB);
    assert!(vol.read_at((3 << 20) - 4, &mut b).is_err(), "past the LV's end");

    // Extents past the PV's end, a thin pool, an LV naming no PV, a gap between segments.
    for (seg, want) in [
        ("start_extent = 0\nextent_count = 9\ntype = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", 0]", "past that PV's end"),
        ("start_extent = 0\nextent_count = 1\ntype = \"thin-pool\"", "`thin-pool`"),
        ("start_extent = 0\nextent_count = 1\ntype = \"striped\"\nstripe_count = 1\nstripes = [\"pv7\", 0]", "not a physical volume"),
        (
            "start_extent = 5\nextent_count = 1\ntype = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", 0]",
            "not a readable striped segment",
        ),
        (
            "start_extent = 0\nextent_count = 9223372036854775807\ntype = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", 0]",
            "past that PV's end",
        ),
        (
            "start_extent = 0\nextent_count = 18446744073709551615\ntype = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", 0]",
            "not a readable striped segment",
        ),
        (
            "start_extent = 0\nextent_count = 2\ntype = \"striped\"\nstripe_count = 2\nstripe_size = 0\nstripes = [\"pv0\", 0, \"pv0\", 1]",
            "stripe size 0",
        ),
    ] {
        let text = format!("{VG}lv {{\nid = \"y\"\nstatus = [\"VISIBLE\"]\nsegment1 {{\n{seg}\n}}\n}}\n}}\n}}\n");
        let mut img = pv_with_text(text.as_bytes());
        let t = parts::read(&mut img).unwrap();
        let why = t.volumes[0].unreadable.as_deref().unwrap_or_else(|| panic!("{seg}: read"));
        assert!(why.contains(want), "{seg}: {why}");
        assert!(t.volume("vg/lv").is_err());
    }

    // Nesting, megabytes of text, an unterminated string: a finding at the byte, no panic.
    for text in ["a {".repeat(40_000), format!("vg {{ l = [{}] }}", "1, ".repeat(300_000)), "vg { a = \"open".to_string()] {
        let mut img = pv_with_text(text.as_bytes());
        let t = parts::read(&mut img).unwrap();
        assert!(t.volumes.is_empty());
        assert!(codes(&t).contains(&"lvm-text"), "{:?}", t.findings);
    }
}

#[test]
fn owner_names_the_file_of_a_logical_volume_that_holds_a_disk_byte() {
    let Some(dir) = fixture() else { return };
    let mut img = raw(&dir);
    let t = parts::read(&mut img).unwrap();
    let big = std::fs::read(dir.join("src-home/alice/docs/big.bin")).unwrap();
    // pv1's extents (stripe 1 of home, then free), 64 KiB apart: big.bin's bytes are where owner says.
    let mut hits = 0;
    for off in (PV1 + (1 << 20)..PV1 + (6 << 20)).step_by(64 << 10) {
        let o = parts::owner(&mut img, &t, off as u64).unwrap();
        assert_eq!(o.partition, Some(3));
        if o.path.as_deref() == Some("/alice/docs/big.bin") {
            assert_eq!(o.volume.as_deref(), Some("vgdata/home"));
            let at = o.file_offset.unwrap() as usize;
            let n = 4096.min(big.len() - at);
            assert_eq!(img[off..off + n], big[at..at + n], "disk byte {off}");
            hits += 1;
        }
    }
    assert!(hits >= 8, "{hits} chunks of big.bin found on pv1");
    // The command line says so too.
    let o = parts::owner(&mut img, &t, (PV0 + (1 << 20)) as u64).unwrap();
    assert_eq!(o.volume.as_deref(), Some("vgdata/root"));
    let (out, _) = vv_both(&["owner", p(&dir.join("lvm.vhd")), &((PV0 + (1 << 20)) / 512).to_string()], 0);
    assert!(out.contains("logical volume vgdata/root on partition 2 (ext4)"), "{out}");
}

#[test]
fn compact_trim_gives_back_a_logical_volumes_free_space_and_keeps_its_files() {
    let Some(dir) = fixture() else { return };
    let work = scratch("lvm-trim");
    let out = work.join("trimmed.vhd");
    let (summary, _) = vv_both(&["compact", p(&dir.join("lvm.vhd")), p(&out), "--trim", "--json"], 0);
    let s: Value = serde_json::from_str(&summary).unwrap();
    let vols = s["volumes"].as_array().unwrap();
    for lv in ["vgdata/root", "vgdata/home"] {
        let v = vols.iter().find(|v| v["volume"] == lv).unwrap_or_else(|| panic!("{summary}"));
        assert_eq!(v["trimmed"], true, "{v}");
        assert!(v["free_bytes"].as_u64().unwrap() > 1 << 20, "{v}");
    }
    // The physical volumes' partitions (no file system of their own) are kept whole.
    for n in [2, 3] {
        let pv = vols.iter().find(|v| v["partition"] == n && v["volume"].is_null()).unwrap();
        assert_eq!(pv["trimmed"], false);
        assert!(pv["reason"].as_str().unwrap().contains("LVM2 physical volume"), "{pv}");
    }
    // The deleted file's bytes in home's free space are gone; every file and the LVM2 metadata stay.
    let nonzero = |disk: &Path| cli(&["cat", p(disk), "--volume", "vgdata/home"]).stdout.iter().filter(|&&b| b != 0).count();
    let (before, after) = (nonzero(&dir.join("lvm.vhd")), nonzero(&out));
    assert!(before - after > 150_000, "non-zero bytes of home: {before} before, {after} after");
    assert_eq!(cli(&["parts", p(&out), "--json"]).stdout, cli(&["parts", p(&dir.join("lvm.vhd")), "--json"]).stdout);
    for (lv, tree) in [("vgdata/root", "src-root"), ("vgdata/home", "src-home")] {
        for (path, bytes) in files(&dir.join(tree)) {
            assert!(cli(&["get", p(&out), &path, "--volume", lv]).stdout == bytes, "{lv}{path} differs after --trim");
        }
    }
}

#[test]
fn diff_names_what_a_child_changed_inside_a_striped_logical_volume() {
    let Some(dir) = fixture() else { return };
    let (out, _) = vv_both(&["diff", p(&dir.join("child.vhd")), "--json"], 0);
    let r: Value = serde_json::from_str(&out).unwrap();
    let parts = r["partitions"].as_array().unwrap();
    let home = parts.iter().find(|p| p["volume"] == "vgdata/home").unwrap_or_else(|| panic!("{out}"));
    assert_eq!(home["filesystem"], "ext4");
    let added: Vec<&Value> = home["changes"].as_array().unwrap().iter().filter(|c| c["kind"] == "added").collect();
    assert_eq!(added.len(), 1, "{home}");
    assert_eq!(added[0]["path"], "/alice/added.txt");
    // Every byte the child holds is inside a partition; home's are counted through its extents.
    assert_eq!(r["outside_partitions_bytes"], 0);
    let pv_held: u64 = parts.iter().filter(|p| p["index"] != 1 && p["volume"].is_null()).map(|p| p["held_bytes"].as_u64().unwrap()).sum();
    assert_eq!(home["held_bytes"].as_u64().unwrap(), pv_held, "{out}");
    let root = parts.iter().find(|p| p["volume"] == "vgdata/root").unwrap();
    assert!(root["changes"].as_array().unwrap().is_empty());
    assert_eq!(cli(&["get", p(&dir.join("child.vhd")), "/alice/added.txt", "--volume", "vgdata/home"]).stdout, b"added in the child\n");
    // timeline --volume: each entry's layer found through the extents (the child's for the
    // added file's inode, the parent's for every entry of the unchanged root).
    let rows = |lv: &str| -> Vec<Value> {
        let (out, _) = vv_both(&["timeline", p(&dir.join("child.vhd")), "--volume", lv, "--json"], 0);
        out.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    };
    let home = rows("vgdata/home");
    let added: Vec<&Value> = home.iter().filter(|r| r["path"] == "/alice/added.txt").collect();
    assert!(!added.is_empty() && added.iter().all(|r| r["layer"] == 0), "{home:?}");
    let root = rows("vgdata/root");
    assert!(!root.is_empty() && root.iter().all(|r| r["layer"] == 1), "{root:?}");
    // Each row names its logical volume, not only the partition of its first extent.
    assert!(home.iter().all(|r| r["volume"] == "vgdata/home") && root.iter().all(|r| r["volume"] == "vgdata/root"), "{home:?}");
}

#[test]
fn a_red_hat_style_disk_reads_its_xfs_logical_volumes() {
    let Some(dir) = fixture() else { return };
    for disk in ["rhel.vhd", "rhel.vhdx"] {
        let d = dir.join(disk);
        let (out, _) = vv_both(&["parts", p(&d), "--json"], 0);
        let t: Value = serde_json::from_str(&out).unwrap();
        assert_eq!((&t["partitions"][0]["filesystem"], &t["partitions"][0]["label"]), (&Value::from("xfs"), &Value::from("boot")));
        let vols: Vec<(&str, &str, u64)> = t["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["lv"].as_str().unwrap(), v["filesystem"].as_str().unwrap(), v["segments"][0]["stripes"].as_u64().unwrap()))
            .collect();
        assert_eq!(vols, [("root", "xfs", 1), ("home", "xfs", 2)]);
        let segs = report(&dir, "rhel-lvs.json", "seg");
        for v in t["volumes"].as_array().unwrap() {
            let s = segs.iter().find(|s| s["lv_name"] == v["lv"]).unwrap();
            assert_eq!(v["size"].as_u64().unwrap(), num(&s["lv_size"]));
        }
        for (lv, tree) in [("rhel/root", "xfs-root"), ("rhel/home", "xfs-home")] {
            for (path, bytes) in files(&dir.join(tree)) {
                assert!(cli(&["get", p(&d), &path, "--volume", lv]).stdout == bytes, "{disk} {lv}{path}");
            }
        }
        // inspect finds the system on the root logical volume.
        let (out, _) = vv_both(&["inspect", p(&d), "--json"], 0);
        let s: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(s["systems"][0]["os"], "linux", "{out}");
        assert!(out.contains("Red Hat Enterprise Linux"), "{out}");
        // search: a hit in a logical volume names it, and its file there.
        let (out, _) = vv_both(&["search", p(&d), "Red Hat Enterprise", "--json"], 0);
        let hit: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
        assert_eq!((&hit["volume"], &hit["owner"]["path"]), (&Value::from("rhel/root"), &Value::from("/etc/os-release")), "{out}");
    }
}

#[test]
fn fstab_names_logical_volumes_by_device_mapper_and_vg_names() {
    let Some(dir) = fixture() else { return };
    let t = parts::read(&mut raw(&dir)).unwrap();
    let text = "/dev/mapper/vgdata-root / ext4 defaults 0 0\n/dev/vgdata/home /home ext4 defaults 0 0\nLABEL=HOME /h2 ext4 defaults 0 0\n/dev/mapper/vgdata-swap none swap sw 0 0\n";
    let got: Vec<(Option<String>, Option<u32>, Option<&str>)> =
        vhd_viewer::inspect::linux::fstab(text, &t).into_iter().map(|m| (m.volume, m.partition, m.by)).collect();
    let vol = |n: &str| t.volume(n).unwrap().index;
    assert_eq!(
        got,
        [
            (Some("vgdata/root".into()), Some(vol("vgdata/root")), Some("lvm")),
            (Some("vgdata/home".into()), Some(vol("vgdata/home")), Some("lvm")),
            (Some("vgdata/home".into()), Some(vol("vgdata/home")), Some("label")),
            (None, None, None),
        ]
    );
}
