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
                assert_eq!(g["pvs"].as_array().unwrap().len(), ranges.len(), "{name}");
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
        // lvm2's own checksums, as lvm::crc computes them: each metadata area header's and its text's.
        let img = raw(&dir);
        for mda in [PV0 + 4096, PV1 + 4096] {
            let stored = |at: usize| u32::from_le_bytes(img[at..at + 4].try_into().unwrap());
            assert_eq!(lvm::crc(&img[mda + 4..mda + 512]), stored(mda));
            let (o, len) = (lvm_text_offset(&img, mda), u64::from_le_bytes(img[mda + 48..mda + 56].try_into().unwrap()) as usize);
            assert_eq!(lvm::crc(&img[mda + o..mda + o + len]), stored(mda + 56));
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

    // A metadata text's bytes changed (its seqno kept): its checksum fails, and the other PV's
    // copy is read, the damaged one neither stale nor disagreeing.
    let mut img = good.clone();
    let mda = PV0 + 4096;
    let text = mda + lvm_text_offset(&img, mda);
    let at = text + img[text..].windows(6).position(|w| w == b"status").unwrap();
    img[at] = b'S';
    let t = parts::read(&mut img).unwrap();
    assert_eq!(codes(&t), ["lvm-text-checksum"], "{:?}", t.findings);
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
    let text = &text[..text.len().min((1 << 20) - 4096 - 512)];
    put_pv(&mut img, 0, UUID, &[(4096, (1 << 20) - 4096)], text, 512);
    img
}

const UUID: &[u8; 32] = b"AAAAAABBBBCCCCDDDDEEEEFFFFGGGGGG";

/// Writes a PV at `base` of `img` (to its end; UUID `uuid`; its label in sector 1, its data
/// area at 1 MiB) whose metadata areas `mdas` (offset, size) each hold `text` at `ro` from the
/// area's start, wrapping past the area's end to just after its header; checksums right.
fn put_pv(img: &mut [u8], base: usize, uuid: &[u8; 32], mdas: &[(usize, usize)], text: &[u8], ro: usize) {
    let len = (img.len() - base) as u64;
    let l = base + 512;
    img[l..l + 8].copy_from_slice(b"LABELONE");
    img[l + 8] = 1;
    img[l + 20] = 32;
    img[l + 24..l + 32].copy_from_slice(b"LVM2 001");
    img[l + 32..l + 64].copy_from_slice(uuid);
    img[l + 64..l + 72].copy_from_slice(&len.to_le_bytes());
    img[l + 72..l + 80].copy_from_slice(&(1u64 << 20).to_le_bytes()); // data area, then a terminator
    let mut at = l + 104;
    for &(o, size) in mdas {
        img[at..at + 8].copy_from_slice(&(o as u64).to_le_bytes());
        img[at + 8..at + 16].copy_from_slice(&(size as u64).to_le_bytes());
        at += 16;
        let m = base + o;
        img[m + 4..m + 20].copy_from_slice(b"\x20LVM2\x20x[5A%r0N*>");
        img[m + 20] = 1;
        img[m + 24..m + 32].copy_from_slice(&(o as u64).to_le_bytes());
        img[m + 32..m + 40].copy_from_slice(&(size as u64).to_le_bytes());
        img[m + 40..m + 48].copy_from_slice(&(ro as u64).to_le_bytes());
        img[m + 48..m + 56].copy_from_slice(&(text.len() as u64).to_le_bytes());
        img[m + 56..m + 60].copy_from_slice(&lvm::crc(text).to_le_bytes());
        let first = text.len().min(size - ro);
        img[m + ro..m + ro + first].copy_from_slice(&text[..first]);
        img[m + 512..m + 512 + text.len() - first].copy_from_slice(&text[first..]);
        mda_checksum(img, m);
    }
    img[at..at + 16].fill(0);
    let c = lvm::crc(&img[l + 20..l + 512]);
    img[l + 16..l + 20].copy_from_slice(&c.to_le_bytes());
}

/// Puts back the checksum of the metadata area header at `m`.
fn mda_checksum(img: &mut [u8], m: usize) {
    let c = lvm::crc(&img[m + 4..m + 512]);
    img[m..m + 4].copy_from_slice(&c.to_le_bytes());
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
            "past 2^64 bytes",
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
fn compact_trim_keeps_whole_the_logical_volumes_of_disagreeing_metadata() {
    // pv1's newest text changed but for its seqno (checksums put right): two layouts of one
    // sequence number; what one calls free the other may hold, so no LV of vgdata is trimmed.
    let Some(dir) = fixture() else { return };
    let mut img = raw(&dir);
    let mda = PV1 + 4096;
    let (o, len) = (lvm_text_offset(&img, mda), u64::from_le_bytes(img[mda + 48..mda + 56].try_into().unwrap()) as usize);
    let text = mda + o;
    let at = text + img[text..text + len].windows(15).position(|w| w == b"creation_host =").unwrap() + 17;
    img[at] ^= 0x20;
    let c = lvm::crc(&img[text..text + len]);
    img[mda + 56..mda + 60].copy_from_slice(&c.to_le_bytes());
    mda_checksum(&mut img, mda);
    let work = scratch("lvm-disagree");
    let (raw_path, vhd, out) = (work.join("d.raw"), work.join("d.vhd"), work.join("t.vhd"));
    std::fs::write(&raw_path, &img).unwrap();
    run_ok(std::process::Command::new(vhd_from_raw()).args(["dynamic", p(&raw_path), p(&vhd)]));
    let (summary, _) = vv_both(&["compact", p(&vhd), p(&out), "--trim", "--json"], 0);
    let s: Value = serde_json::from_str(&summary).unwrap();
    for lv in ["vgdata/root", "vgdata/home"] {
        let v = s["volumes"].as_array().unwrap().iter().find(|v| v["volume"] == lv).unwrap_or_else(|| panic!("{summary}"));
        assert_eq!(v["trimmed"], false, "{v}");
        assert!(v["reason"].as_str().unwrap().contains("differ"), "{v}");
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
        // Each PV's two metadata areas (pvcreate --pvmetadatacopies 2), both read, nothing wrong.
        let mdas =
            t["structures"].as_array().unwrap().iter().filter(|s| s["name"].as_str().unwrap().starts_with("LVM2 metadata area header"));
        assert_eq!(mdas.count(), 4, "{out}");
        assert!(t["findings"].as_array().unwrap().is_empty(), "{out}");
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
        // The partitions picture names each PV's volume group and draws the logical volumes in words.
        let (svg, _) = vv_both(&["draw", p(&d), "partitions"], 0);
        for words in [
            "partition 2: LVM2 physical volume of volume group rhel",
            "partition 3: LVM2 physical volume of volume group rhel",
            "logical volume rhel/root: xfs “root”, 16 MiB, linear on partition 2",
            "logical volume rhel/home: xfs “home”, 16 MiB, 2 stripes of 64 KiB on partition 2 and partition 3",
        ] {
            assert!(svg.contains(words), "{words} not in {svg}");
        }
        // compact --trim gives back the XFS logical volumes' free space (their free-space
        // B+trees) and keeps every file; a VHDX copy passes qemu-img check.
        let out = scratch(&format!("lvm-rhel-trim-{disk}")).join(disk);
        let (summary, _) = vv_both(&["compact", p(&d), p(&out), "--trim", "--json"], 0);
        let s: Value = serde_json::from_str(&summary).unwrap();
        for lv in ["rhel/root", "rhel/home"] {
            let v = s["volumes"].as_array().unwrap().iter().find(|v| v["volume"] == lv).unwrap_or_else(|| panic!("{summary}"));
            assert_eq!((&v["trimmed"], &v["filesystem"]), (&Value::from(true), &Value::from("xfs")), "{v}");
            assert!(v["free_bytes"].as_u64().unwrap() > 1 << 20, "{v}");
        }
        // (Their free space was never written: the fixture's copy holds no block of it to give back.)
        assert!(s["report"]["blocks_after"].as_u64() <= s["report"]["blocks_before"].as_u64(), "{summary}");
        if disk.ends_with(".vhdx") {
            run_ok(std::process::Command::new("qemu-img").args(["check", "-f", "vhdx"]).arg(&out));
        }
        for (lv, tree) in [("rhel/root", "xfs-root"), ("rhel/home", "xfs-home")] {
            for (path, bytes) in files(&dir.join(tree)) {
                assert!(cli(&["get", p(&out), &path, "--volume", lv]).stdout == bytes, "{disk} {lv}{path} after --trim");
            }
        }
    }
}

/// The metadata text of volume group `vg` (UUID `id`, sequence number `seq`, extents of 1 MiB)
/// whose PVs `pv0`, `pv1`... have the UUIDs `pvs` (their extents from 1 MiB, `count` of them),
/// and whose logical volumes are the sections `lvs`.
fn vg_text(vg: &str, id: &str, seq: u32, pvs: &[&[u8; 32]], count: u64, lvs: &str) -> String {
    let mut t = format!("{vg} {{\nid = \"{id}\"\nseqno = {seq}\nextent_size = 2048\nphysical_volumes {{\n");
    for (i, u) in pvs.iter().enumerate() {
        let u = std::str::from_utf8(*u).unwrap();
        let dashed = [&u[..6], &u[6..10], &u[10..14], &u[14..18], &u[18..22], &u[22..26], &u[26..]].join("-");
        t += &format!("pv{i} {{\nid = \"{dashed}\"\npe_start = 2048\npe_count = {count}\n}}\n");
    }
    t + &format!("}}\nlogical_volumes {{\n{lvs}}}\n}}\n")
}

/// A visible LV `name` of one segment of `extents` extents (`rest`: its type and stripes).
fn lv(name: &str, extents: u64, rest: &str) -> String {
    format!("{name} {{\nid = \"{name}-id\"\nstatus = [\"READ\", \"VISIBLE\"]\nsegment1 {{\nstart_extent = 0\nextent_count = {extents}\n{rest}\n}}\n}}\n")
}

const LINEAR: &str = "type = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", 0]";
const UUID1: &[u8; 32] = b"HHHHHHIIIIJJJJKKKKLLLLMMMMNNNNNN";

#[test]
fn hostile_layouts_are_refused_with_a_finding_never_a_panic_or_endless_work() {
    // A partition claiming 2^64 bytes on a 4 MiB disk, its PV's extents near 2^64: cut to the disk.
    let text =
        vg_text("vg", "v", 1, &[UUID], 1 << 44, &lv("lv", 1, "type = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", 17592186044415]"));
    let mut img = pv_with_text(text.as_bytes());
    let f = lvm::scan(&mut img, &[(0, u64::MAX, 1)]);
    assert!(f.volumes[0].unreadable.as_deref().unwrap().contains("past that PV's end"), "{:?}", f.volumes);
    // Stripe sizes lvm2 refuses (2 KiB, 12 KiB) are refused; 4 KiB is read.
    for (size, ok) in [(4, false), (24, false), (8, true)] {
        let stripes = format!("type = \"striped\"\nstripe_count = 2\nstripe_size = {size}\nstripes = [\"pv0\", 0, \"pv0\", 1]");
        let mut img = pv_with_text(vg_text("vg", "v", 1, &[UUID], 3, &lv("lv", 2, &stripes)).as_bytes());
        let t = parts::read(&mut img).unwrap();
        assert_eq!(t.volumes[0].unreadable.is_none(), ok, "{size}: {:?}", t.volumes[0].unreadable);
    }
    // A thin LV has the size of its extents, and one finding.
    let mut img = pv_with_text(vg_text("vg", "v", 1, &[UUID], 3, &lv("thin", 3, "type = \"thin\"\nthin_pool = \"pool\"")).as_bytes());
    let t = parts::read(&mut img).unwrap();
    assert_eq!(t.volumes[0].size, 3 << 20);
    assert_eq!(t.findings.iter().filter(|f| f.code.starts_with("lvm")).count(), 1, "{:?}", t.findings);
    // Two VGs of 600 LVs each: 1024 read in all, a finding at the first left out.
    let mut img = vec![0u8; 8 << 20];
    let many = |p: &str| (0..600).map(|i| format!("{p}{i} {{\nid = \"x\"\nstatus = [\"VISIBLE\"]\n}}\n")).collect::<String>();
    put_pv(&mut img[..4 << 20], 0, UUID, &[(4096, (1 << 20) - 4096)], vg_text("a", "a", 1, &[UUID], 3, &many("a")).as_bytes(), 512);
    put_pv(&mut img[4 << 20..], 0, UUID1, &[(4096, (1 << 20) - 4096)], vg_text("b", "b", 1, &[UUID1], 3, &many("b")).as_bytes(), 512);
    let f = lvm::scan(&mut img, &[(0, 4 << 20, 1), (4 << 20, 4 << 20, 2)]);
    assert_eq!(f.volumes.len(), 1024);
    assert_eq!(f.findings.iter().filter(|f| f.code == "lvm-lvs").count(), 1);
    // One device named twice is read once; two devices with one PV UUID: a finding, the first read.
    let f = lvm::scan(&mut img, &[(0, 4 << 20, 1), (0, 4 << 20, 3)]);
    assert!(
        f.findings.iter().all(|f| f.code != "lvm-pv-duplicate")
            && f.structures.iter().filter(|s| s.name.starts_with("LVM2 label")).count() == 1
    );
    let mut img = vec![0u8; 8 << 20];
    put_pv(&mut img[..4 << 20], 0, UUID, &[(4096, (1 << 20) - 4096)], vg_text("a", "a", 1, &[UUID], 3, "").as_bytes(), 512);
    img.copy_within(..4 << 20, 4 << 20);
    let f = lvm::scan(&mut img, &[(0, 4 << 20, 1), (4 << 20, 4 << 20, 2)]);
    let dup = f.findings.iter().find(|f| f.code == "lvm-pv-duplicate").unwrap();
    assert_eq!(dup.offset, Some((4 << 20) + 512 + 32));
    // Texts that fail to parse count against the bytes read: five of 3.5 MiB, the fifth not read.
    let junk = vec![b'@'; 7 << 19];
    let mut img = vec![0u8; 5 << 22];
    let devices: Vec<(u64, u64, u32)> = (0..5u32).map(|i| (u64::from(i) << 22, 4 << 20, i + 1)).collect();
    for i in 0..5 {
        let mut u = *UUID;
        u[0] = b'0' + i as u8;
        put_pv(&mut img[i << 22..(i + 1) << 22], 0, &u, &[(4096, (4 << 20) - 4096)], &junk, 512);
    }
    let f = lvm::scan(&mut img, &devices);
    let codes: Vec<&str> = f.findings.iter().map(|f| f.code).collect();
    assert_eq!(codes, ["lvm-text", "lvm-text", "lvm-text", "lvm-text", "lvm-text-total"]);
}

#[test]
fn metadata_areas_labels_and_structures_are_read_as_lvm2_reads_them() {
    // A text that wraps past its area's end: read whole; a damaged byte after the wrap is named where it is.
    let text = vg_text("vg", "v", 1, &[UUID], 2, &lv("lv", 2, LINEAR));
    let mda = (4096, 64 << 10);
    let ro = mda.1 - 100;
    let mut img = vec![0u8; 4 << 20];
    put_pv(&mut img, 0, UUID, &[mda], text.as_bytes(), ro);
    let t = parts::read(&mut img).unwrap();
    assert!(t.findings.iter().all(|f| !f.code.starts_with("lvm")), "{:?}", t.findings);
    assert!(t.volume("vg/lv").is_ok());
    // The VG, PV, LV and segment as structures, each field at its bytes in the text (after the wrap).
    let s = t.structures.iter().find(|s| s.name == "LVM2 segment vg/lv/segment1").unwrap();
    let f = s.fields.iter().find(|f| f.key == "extent_count").unwrap();
    assert_eq!(f.value, "2");
    assert!(f.offset > 4096 + 512 && f.offset < (4096 + ro) as u64);
    assert_eq!(&img[f.offset as usize..f.offset as usize + f.size as usize], b"extent_count = 2");
    for name in ["LVM2 volume group vg", "LVM2 physical volume vg/pv0", "LVM2 logical volume vg/lv"] {
        let s = t.structures.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("{name}"));
        for f in &s.fields {
            assert!(img[f.offset as usize..].starts_with(f.key.as_bytes()), "{name} {}", f.key);
        }
    }
    let mut bad = text.clone().into_bytes();
    bad[300] = b'@';
    put_pv(&mut img, 0, UUID, &[mda], &bad, ro);
    let t = parts::read(&mut img).unwrap();
    let f = t.findings.iter().find(|f| f.code == "lvm-text").unwrap();
    assert_eq!(f.offset, Some(4096 + 512 + 200));
    assert_eq!(img[4096 + 512 + 200], b'@');

    // A version lvm2 does not write: the area is refused. A damaged text: its checksum row is not ok.
    let mut img = pv_with_text(text.as_bytes());
    img[4096 + 20] = 2;
    mda_checksum(&mut img, 4096);
    let t = parts::read(&mut img).unwrap();
    assert!(t.findings.iter().any(|f| f.code == "lvm-mda-header" && f.offset == Some(4096 + 20)), "{:?}", t.findings);
    assert!(t.volumes.is_empty());
    let mut img = pv_with_text(text.as_bytes());
    let row = |img: &mut Vec<u8>| {
        let t = parts::read(img).unwrap();
        let s = t.structures.iter().find(|s| s.name.starts_with("LVM2 metadata area header")).unwrap();
        s.fields.iter().find(|f| f.key == "text_checksum").unwrap().ok
    };
    assert!(row(&mut img));
    img[4096 + 512 + 10] ^= 1;
    assert!(!row(&mut img));

    // A label with a wrong checksum in sector 0 is passed over for the whole one in sector 1; an
    // area list ends at offset 0 whatever its size; a second metadata area at the PV's end.
    let mut img = vec![0u8; 4 << 20];
    put_pv(&mut img, 0, UUID, &[(4096, 64 << 10), ((4 << 20) - (64 << 10), 64 << 10)], text.as_bytes(), 512);
    img[..8].copy_from_slice(b"LABELONE");
    img[512 + 96] = 77; // the data area list's terminator: offset 0, size 77
    let c = lvm::crc(&img[512 + 20..1024]);
    img[512 + 16..512 + 20].copy_from_slice(&c.to_le_bytes());
    let t = parts::read(&mut img).unwrap();
    assert!(t.findings.iter().all(|f| !f.code.starts_with("lvm")), "{:?}", t.findings);
    assert_eq!(t.structures.iter().filter(|s| s.name.starts_with("LVM2 metadata area header")).count(), 2, "{:?}", t.structures);
    assert_eq!(t.structures.iter().find(|s| s.name.starts_with("LVM2 label")).unwrap().offset, 512);

    // A whole-disk PV: a byte of its LV is the LV's, a byte of its label or metadata area LVM2's.
    let owner = |img: &mut Vec<u8>, at| {
        let t = parts::read(img).unwrap();
        parts::owner(img, &t, at).unwrap()
    };
    let o = owner(&mut img, (1 << 20) + 5);
    assert_eq!((o.volume.as_deref(), o.kind.as_str()), (Some("vg/lv"), "unknown"), "{}", o.what);
    for (at, what) in [(512, "LVM2 physical volume label (partition 0)"), (4096 + 700, "LVM2 metadata area (partition 0)")] {
        let o = owner(&mut img, at);
        assert_eq!((o.kind.as_str(), o.what.as_str()), ("structure", what));
    }
}

#[test]
fn copies_of_the_metadata_are_chosen_by_checksum_and_uuid() {
    let two = |a: &str, b: &str| {
        let mut img = vec![0u8; 8 << 20];
        put_pv(&mut img[..4 << 20], 0, UUID, &[(4096, (1 << 20) - 4096)], a.as_bytes(), 512);
        put_pv(&mut img[4 << 20..], 0, UUID1, &[(4096, (1 << 20) - 4096)], b.as_bytes(), 512);
        img
    };
    let scan = |img: &mut Vec<u8>| lvm::scan(img, &[(0, 4 << 20, 1), (4 << 20, 4 << 20, 2)]);
    let codes = |f: &lvm::Found| f.findings.iter().map(|f| f.code).collect::<Vec<_>>();
    let pvs: &[&[u8; 32]] = &[UUID, UUID1];
    // A newer copy whose checksum is wrong is not read, and does not make the older "stale".
    let (old, new) = (vg_text("vg", "v", 1, pvs, 3, &lv("old", 1, LINEAR)), vg_text("vg", "v", 2, pvs, 3, &lv("new", 1, LINEAR)));
    let mut img = two(&new, &old);
    img[4096 + 512 + new.find("new {").unwrap()] = b'm';
    let f = scan(&mut img);
    assert_eq!(codes(&f), ["lvm-text-checksum"]);
    assert_eq!(f.volumes[0].lv, "old");
    // Intact, the newer is read and the older is stale.
    let mut img = two(&new, &old);
    let f = scan(&mut img);
    assert_eq!((codes(&f), f.volumes[0].lv.as_str()), (vec!["lvm-metadata-stale"], "new"));
    // One seqno, two layouts: disagree, and the LVs are kept whole by compact --trim.
    let other = vg_text("vg", "v", 2, pvs, 3, &lv("new", 2, LINEAR));
    let mut img = two(&new, &other);
    let f = scan(&mut img);
    assert_eq!(codes(&f), ["lvm-metadata-disagree"]);
    assert!(f.volumes[0].disputed.is_some());
    // Two VGs of one name but different UUIDs are two VGs.
    let mut img = two(&vg_text("vg", "v1", 1, &[UUID], 3, &lv("a", 1, LINEAR)), &vg_text("vg", "v2", 1, &[UUID1], 3, &lv("b", 1, LINEAR)));
    let f = scan(&mut img);
    assert_eq!(codes(&f), ["lvm-vg-name"]);
    assert_eq!(f.volumes.iter().map(|v| v.lv.as_str()).collect::<Vec<_>>(), ["a", "b"]);
}

/// BitLocker case `name`'s volume as a linear LV `vg/lv` of a whole-disk PV, its extents after
/// the PV's first MiB.
fn bitlocker_in_a_logical_volume(name: &str) -> Vec<u8> {
    let vhd = common::bitlocker::bitlocker_vhds().join(format!("{name}.vhd"));
    let vol = cli(&["cat", p(&vhd), "--partition", "1"]).stdout;
    let extents = vol.len().div_ceil(1 << 20) as u64;
    let mut img = vec![0u8; (2 + extents as usize) << 20];
    put_pv(
        &mut img,
        0,
        UUID,
        &[(4096, (1 << 20) - 4096)],
        vg_text("vg", "v", 1, &[UUID], extents, &lv("lv", extents, LINEAR)).as_bytes(),
        512,
    );
    img[1 << 20..(1 << 20) + vol.len()].copy_from_slice(&vol);
    img
}

#[test]
fn a_bitlocker_volume_inside_a_logical_volume_reads_decrypted() {
    // The suspended (clear key) case: its BitLocker read through the extents, its NTFS inside
    // decrypted at once.
    let dir = common::bitlocker::bitlocker_vhds();
    let plain = std::fs::read(dir.join("ntfs.img")).unwrap();
    let mut img = bitlocker_in_a_logical_volume("suspended");
    let t = parts::read(&mut img).unwrap();
    let p = t.volume("vg/lv").unwrap();
    assert_eq!(p.bitlocker.as_ref().and_then(|b| b.unlocked), Some("ntfs"), "{:?}", t.findings);
    let mut v = p.volume(&mut img);
    assert!(v.read_vec(0, plain.len()).unwrap() == plain);
    drop(v);
    let (mut v, mut fs) = t.readable_volume("vg/lv").unwrap().open(&mut img).unwrap();
    let root = fs.root();
    let names: Vec<String> = fs.list(&mut v, &root, false).unwrap().into_iter().map(|e| e.name).collect();
    assert!(names.iter().any(|n| n == "hello.txt"), "{names:?}");
    // A password-protected volume (AES-XTS) in a logical volume: locked until the key flags'
    // unlock_all is given its password; a wrong one is refused.
    let man = common::bitlocker::bitlocker_manifest("xts128");
    let password = man["protectors"].as_array().unwrap().iter().find(|k| k["kind"] == "password").unwrap()["password"].as_str().unwrap();
    let mut img = bitlocker_in_a_logical_volume("xts128");
    let mut t = parts::read(&mut img).unwrap();
    assert!(t.readable_volume("vg/lv").is_err(), "locked, there is no file system to read");
    let wrong = t.unlock_all(&mut img, &vhd_viewer::bitlocker::Key::Password("not it".into()), &mut |_, _| true).unwrap_err();
    assert!(wrong.to_string().contains("does not unlock"), "{wrong}");
    t.unlock_all(&mut img, &vhd_viewer::bitlocker::Key::Password(password.into()), &mut |_, _| true).unwrap();
    let p = t.volume("vg/lv").unwrap();
    assert_eq!(p.bitlocker.as_ref().and_then(|b| b.unlocked), Some("ntfs"));
    assert!(p.volume(&mut img).read_vec(0, plain.len()).unwrap() == plain, "the plain volume, byte for byte");
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
