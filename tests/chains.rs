//! Differencing chains made with the project's writer: content through the chain against an
//! expectation computed here and against `7zz` (which follows the parent through the W2ru
//! locator itself), finding the parent (locator, unicode name, `--parent`), verifying its id
//! (`--force`), missing parents and loops.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use vhd_viewer::values::Uuid;
use vhd_viewer::vhd::writer::{BlockOrder, DiskBuilder};

const MIB: u64 = 1 << 20;

/// A model of the virtual disk: every layer's writes applied in order, bottom layer first.
struct Model(Vec<u8>);
impl Model {
    fn new(size: u64) -> Self {
        Model(vec![0; size as usize])
    }
    /// Applies a write the way the spec says a layer supplies it: the written bytes, and zeros
    /// in the rest of each touched sector (the layer's copy of the sector replaces the parent's).
    fn write_sectors(&mut self, off: u64, data: &[u8]) {
        let s = (off / 512 * 512) as usize;
        let e = ((off + data.len() as u64).div_ceil(512) * 512).min(self.0.len() as u64) as usize;
        self.0[s..e].fill(0);
        self.0[off as usize..off as usize + data.len()].copy_from_slice(data);
    }
}

/// A three-level chain: base (dynamic, 1 MiB blocks) <- child (2 MiB blocks) <- grandchild
/// (512 KiB blocks), each writing some sectors, several inside the same bitmap byte as the
/// layer below, one across a block boundary, one in the last sector. Returns the grandchild's
/// path and the expected content.
fn three_level_chain(dir: &Path) -> (PathBuf, Vec<u8>) {
    let size = 6 * MIB;
    let mut m = Model::new(size);
    let mut base = DiskBuilder::dynamic(size, MIB as u32);
    base.unique_id(Uuid(id_for("chain-base"))).timestamp(0x2a00_0000).creator(*b"win ", 0x000a_0000, *b"Wi2k");
    let base_writes: Vec<(u64, Vec<u8>)> =
        vec![(0, vec![0xb0; 4096]), (MIB - 512, vec![0xb1; 1024]), (4 * MIB + 100, vec![0xb2; 3000]), (size - 512, vec![0xb3; 512])];
    for (o, d) in &base_writes {
        base.write(*o, d);
        m.write_sectors(*o, d);
    }
    let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 2 * MIB as u32);
    child.unique_id(Uuid(id_for("chain-child"))).timestamp(0x2a00_1000);
    let child_writes: Vec<(u64, Vec<u8>)> =
        vec![(512, vec![0xc0; 512]), (1536, vec![0xc1; 10]), (2 * MIB - 512, vec![0xc2; 1024]), (5 * MIB, vec![0xc3; 512])];
    for (o, d) in &child_writes {
        child.write(*o, d);
        m.write_sectors(*o, d);
    }
    let mut grand = DiskBuilder::differencing(&child.parent_ref("child.vhd"), 512 << 10);
    grand.unique_id(Uuid(id_for("chain-grand"))).timestamp(0x2a00_2000).block_order(BlockOrder::Descending);
    let grand_writes: Vec<(u64, Vec<u8>)> =
        vec![(1024, vec![0xd0; 512]), (3584, vec![0xd1; 512]), (MIB + 7, vec![0xd2; 5]), (size - 1024, vec![0xd3; 512])];
    for (o, d) in &grand_writes {
        grand.write(*o, d);
        m.write_sectors(*o, d);
    }
    std::fs::write(dir.join("base.vhd"), base.build()).unwrap();
    std::fs::write(dir.join("child.vhd"), child.build()).unwrap();
    let g = dir.join("grandchild.vhd");
    std::fs::write(&g, grand.build()).unwrap();
    (g, m.0)
}

#[test]
fn three_level_chain_reads_like_the_model_and_like_7zip() {
    let dir = scratch("chain3");
    let (g, want) = three_level_chain(&dir);
    let ours = viewer_cat(&g, &[]);
    assert_same_bytes("vhd-viewer cat grandchild vs the model", &ours, &want);
    // 7-Zip follows each W2ru locator (".\child.vhd", ".\base.vhd") on its own.
    assert_same_bytes("vhd-viewer cat grandchild vs 7zz", &ours, &sevenzip_raw(&g));
    // The child alone (its parent found through its locator) also agrees with 7zz.
    let c = dir.join("child.vhd");
    assert_same_bytes("vhd-viewer cat child vs 7zz", &viewer_cat(&c, &[]), &sevenzip_raw(&c));
    // The same chain given explicitly with --parent, from another folder.
    let other = scratch("chain3-explicit");
    for n in ["base.vhd", "child.vhd", "grandchild.vhd"] {
        std::fs::copy(dir.join(n), other.join(format!("renamed-{n}"))).unwrap();
    }
    let o = cli(&[
        "cat",
        other.join("renamed-grandchild.vhd").to_str().unwrap(),
        "--parent",
        other.join("renamed-child.vhd").to_str().unwrap(),
        "--parent",
        other.join("renamed-base.vhd").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_same_bytes("cat with --parent --parent", &o.stdout, &want);
}

#[test]
fn three_level_chain_info_and_map() {
    let dir = scratch("chain3-info");
    let (g, _) = three_level_chain(&dir);
    let j = viewer_info(&g, &[]);
    assert_eq!(j["disk_type"], "differencing");
    assert_eq!(j["parent_missing"], false);
    let chain = j["chain"].as_array().unwrap();
    assert_eq!(chain.len(), 3);
    assert_eq!(chain[0]["unique_id"], id_text(&id_for("chain-grand")));
    assert_eq!(chain[0]["parent_unique_id"], id_text(&id_for("chain-child")));
    assert_eq!(chain[1]["unique_id"], id_text(&id_for("chain-child")));
    assert_eq!(chain[2]["unique_id"], id_text(&id_for("chain-base")));
    assert_eq!(chain[0]["parent_verified"], true);
    assert_eq!(chain[1]["parent_verified"], true);
    assert_eq!(j["parent_unique_id"], id_text(&id_for("chain-child")));
    assert_eq!(j["parent_unicode_name"], "child.vhd");
    let locs = j["parent_locators"].as_array().unwrap();
    assert_eq!(locs.len(), 1);
    assert_eq!(locs[0]["platform_code"], "W2ru");
    assert_eq!(locs[0]["path"], ".\\child.vhd");
    // The grandchild's blocks are laid out in descending order: all but the first out of order.
    assert_eq!(j["block_size"], 512 << 10);
    let alloc = j["allocated_blocks"].as_u64().unwrap();
    assert_eq!(alloc, 3, "blocks 0, 2 and 11 of the 512 KiB grandchild");
    assert_eq!(j["out_of_order_blocks"], alloc - 1);

    // map: sector 2 (bytes 1024..1536) from the grandchild, sector 1 from the child, sector 0
    // from the base, and the first bytes of block 0 at the right file offsets.
    let o = cli(&["map", "--json", g.to_str().unwrap()]);
    assert!(o.status.success());
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let layer_at = |v: u64| -> (String, Option<u64>) {
        let r = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["start"].as_u64().unwrap() <= v && v < r["start"].as_u64().unwrap() + r["length"].as_u64().unwrap())
            .unwrap();
        let lay = match r["kind"].as_str().unwrap() {
            "data" => format!("layer{}", r["layer"]),
            k => k.to_string(),
        };
        (lay, r["file_offset"].as_u64().map(|fo| fo + v - r["start"].as_u64().unwrap()))
    };
    assert_eq!(layer_at(0).0, "layer2");
    assert_eq!(layer_at(512).0, "layer1");
    assert_eq!(layer_at(1024).0, "layer0");
    assert_eq!(layer_at(1536).0, "layer1", "the child wrote 10 bytes of sector 3: the whole sector is the child's");
    assert_eq!(layer_at(2048).0, "layer2");
    assert_eq!(layer_at(3584).0, "layer0");
    assert_eq!(layer_at(3 * MIB).0, "zero");
    // File offsets: the grandchild's block 0 data is right after its 512-byte bitmap.
    let gbytes = std::fs::read(&g).unwrap();
    let img = Image { bytes: gbytes.clone() };
    let block0 = u64::from(img.bat(0)) * 512;
    assert_eq!(layer_at(1024).1, Some(block0 + 512 + 1024));
    assert!(gbytes[(block0 + 512 + 1024) as usize..][..512].iter().all(|b| *b == 0xd0));
}

#[test]
fn parent_found_by_unicode_name_when_there_are_no_locators() {
    let dir = scratch("by-name");
    let mut base = DiskBuilder::dynamic(4 * MIB, 2 * MIB as u32);
    base.unique_id(Uuid(id_for("byname-base"))).write(0, &[0x77; 1024]);
    let mut child = DiskBuilder::differencing(&base.parent_ref("the parent.vhd"), 2 * MIB as u32);
    child.unique_id(Uuid(id_for("byname-child"))).clear_parent_locators().write(512, &[0x88; 512]);
    std::fs::write(dir.join("the parent.vhd"), base.build()).unwrap();
    let c = dir.join("child.vhd");
    std::fs::write(&c, child.build()).unwrap();
    let out = viewer_cat(&c, &[]);
    assert!(out[..512].iter().all(|b| *b == 0x77) && out[512..1024].iter().all(|b| *b == 0x88) && out[1024..].iter().all(|b| *b == 0));
    let j = viewer_info(&c, &[]);
    assert_eq!(j["chain"][0]["parent_verified"], true);
    let codes: Vec<_> = j["all_findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect();
    assert!(codes.contains(&"locators-none".to_string()), "{codes:?}");
}

#[test]
fn locators_of_every_platform_are_decoded() {
    let dir = scratch("locators");
    let mut base = DiskBuilder::dynamic(2 * MIB, 2 * MIB as u32);
    base.unique_id(Uuid(id_for("loc-base")));
    let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 2 * MIB as u32);
    child
        .unique_id(Uuid(id_for("loc-child")))
        .parent_locator(*b"W2ku", "C:\\Disks\\Ünïcødé\\base.vhd")
        .parent_locator(*b"MacX", "file://localhost/Users/me/My%20Disks/base.vhd")
        .parent_locator_raw(*b"Wi2r", b".\\BASE.VHD".to_vec());
    let c = dir.join("child.vhd");
    std::fs::write(&c, child.build()).unwrap();
    std::fs::write(dir.join("base.vhd"), base.build()).unwrap();
    let j = viewer_info(&c, &[]);
    let locs = j["parent_locators"].as_array().unwrap();
    let by_code = |code: &str| locs.iter().find(|l| l["platform_code"] == code).unwrap_or_else(|| panic!("no {code} in {locs:?}"));
    assert_eq!(by_code("W2ru")["path"], ".\\base.vhd");
    assert_eq!(by_code("W2ku")["path"], "C:\\Disks\\Ünïcødé\\base.vhd");
    // MacX holds a UTF-8 file URL; the viewer decodes it to the path it names.
    assert_eq!(by_code("MacX")["path"], "/Users/me/My Disks/base.vhd");
    assert_eq!(by_code("W2ku")["path_valid"], true);
    assert!(by_code("Wi2r")["path"].as_str().unwrap().contains("BASE.VHD"), "legacy codes shown raw: {}", by_code("Wi2r"));
    // The W2ru entry's data offset points at its UTF-16LE bytes in the file.
    let bytes = std::fs::read(&c).unwrap();
    let w = by_code("W2ru");
    let off = w["platform_data_offset"].as_u64().unwrap() as usize;
    let len = w["platform_data_length"].as_u64().unwrap() as usize;
    let units: Vec<u16> = bytes[off..off + len].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    assert_eq!(String::from_utf16(&units).unwrap(), ".\\base.vhd");
    // vhdiinfo agrees on the parent fields.
    let v = vhdiinfo(&c);
    assert_eq!(v["Disk type"], "Differential");
    assert_eq!(v["Parent identifier"], id_text(&id_for("loc-base")));
    assert_eq!(v["Parent filename"], "base.vhd");
    assert_eq!(v["Identifier"], id_text(&id_for("loc-child")));
}

/// A child whose locator names `base.vhd`, and a `base.vhd` that is another disk.
fn mismatched(dir: &Path) -> PathBuf {
    let mut real = DiskBuilder::dynamic(4 * MIB, 2 * MIB as u32);
    real.unique_id(Uuid(id_for("real-base")));
    let mut impostor = DiskBuilder::dynamic(4 * MIB, 2 * MIB as u32);
    impostor.unique_id(Uuid(id_for("impostor"))).write(0, &[0x99; 512]);
    let mut child = DiskBuilder::differencing(&real.parent_ref("base.vhd"), 2 * MIB as u32);
    child.unique_id(Uuid(id_for("mm-child"))).write(512, &[0x55; 512]);
    std::fs::write(dir.join("base.vhd"), impostor.build()).unwrap();
    let c = dir.join("child.vhd");
    std::fs::write(&c, child.build()).unwrap();
    c
}

#[test]
fn parent_id_mismatch_is_an_error_unless_forced() {
    let dir = scratch("mismatch");
    let c = mismatched(&dir);
    let cs = c.to_str().unwrap();
    for cmd in ["info", "cat", "map", "check"] {
        let o = cli(&[cmd, cs]);
        assert_eq!(o.status.code(), Some(2), "{cmd} on an id mismatch: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains(&id_text(&id_for("real-base"))) && e.contains(&id_text(&id_for("impostor"))),
            "{cmd}: the message names both ids: {e}"
        );
        assert!(e.contains("--force"), "{cmd}: the message says how to insist: {e}");
    }
    // --force reads it, and check reports the mismatch as an error finding (exit 1).
    let out = viewer_cat(&c, &["--force"]);
    assert!(out[..512].iter().all(|b| *b == 0x99) && out[512..1024].iter().all(|b| *b == 0x55));
    let o = cli(&["check", "--json", cs, "--force"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let f: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let hit = f.as_array().unwrap().iter().find(|x| x["code"] == "parent-id-mismatch").unwrap_or_else(|| panic!("{f}"));
    assert_eq!(hit["severity"], "error");
    assert_eq!(hit["offset"], 512 + 40, "the parent unique id field of the header at 0x200");
    // An explicit --parent with the wrong id: same rule.
    let o = cli(&["cat", cs, "--parent", dir.join("base.vhd").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn parent_timestamp_mismatch_is_a_warning() {
    let dir = scratch("ts");
    let mut base = DiskBuilder::dynamic(2 * MIB, 2 * MIB as u32);
    base.unique_id(Uuid(id_for("ts-base"))).timestamp(1000);
    let mut pref = base.parent_ref("base.vhd");
    pref.timestamp = vhd_viewer::values::Timestamp(999);
    let mut child = DiskBuilder::differencing(&pref, 2 * MIB as u32);
    child.unique_id(Uuid(id_for("ts-child")));
    std::fs::write(dir.join("base.vhd"), base.build()).unwrap();
    let c = dir.join("child.vhd");
    std::fs::write(&c, child.build()).unwrap();
    let o = cli(&["check", "--json", c.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "a warning is not an error: {}", stdout(&o));
    let f: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let hit = f.as_array().unwrap().iter().find(|x| x["code"] == "parent-timestamp").unwrap_or_else(|| panic!("{f}"));
    assert_eq!(hit["severity"], "warning");
    assert_eq!(hit["offset"], 512 + 56);
}

#[test]
fn missing_parent() {
    let dir = scratch("orphan");
    let mut base = DiskBuilder::dynamic(4 * MIB, 2 * MIB as u32);
    base.unique_id(Uuid(id_for("gone")));
    let mut child = DiskBuilder::differencing(&base.parent_ref("gone.vhd"), 2 * MIB as u32);
    child.unique_id(Uuid(id_for("orphan"))).write(2048, &[0x42; 512]);
    let c = dir.join("orphan.vhd");
    std::fs::write(&c, child.build()).unwrap();
    let cs = c.to_str().unwrap();
    // info works and says so; check finds an error; cat cannot produce the disk.
    let j = viewer_info(&c, &[]);
    assert_eq!(j["parent_missing"], true);
    let o = cli(&["check", cs]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("parent-not-found") && stdout(&o).contains("gone.vhd"), "{}", stdout(&o));
    let o = cli(&["cat", cs]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("gone.vhd") && stderr(&o).contains("--parent"), "{}", stderr(&o));
    // map still maps: the child's sector is data, the rest is missing.
    let o = cli(&["map", "--json", cs]);
    assert!(o.status.success());
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    let kinds: Vec<(u64, u64, &str)> =
        rows.iter().map(|r| (r["start"].as_u64().unwrap(), r["length"].as_u64().unwrap(), r["kind"].as_str().unwrap())).collect();
    assert_eq!(kinds, vec![(0, 2048, "missing"), (2048, 512, "data"), (2560, 4 * MIB - 2560, "missing")]);
}

#[test]
fn parent_found_through_a_macx_locator_alone() {
    let dir = scratch("macx-only");
    let mut base = DiskBuilder::dynamic(2 * MIB, 2 * MIB as u32);
    base.unique_id(Uuid(id_for("macx-base"))).write(0, &[0x31; 512]);
    // The unicode name says something else; only the MacX URL's file name leads to the parent.
    let mut child = DiskBuilder::differencing(&base.parent_ref("elsewhere.vhd"), 2 * MIB as u32);
    child
        .unique_id(Uuid(id_for("macx-child")))
        .clear_parent_locators()
        .parent_locator(*b"MacX", "file:///Volumes/Disk%20One/mac%20base.vhd");
    std::fs::write(dir.join("mac base.vhd"), base.build()).unwrap();
    let c = dir.join("child.vhd");
    std::fs::write(&c, child.build()).unwrap();
    let out = viewer_cat(&c, &[]);
    assert!(out[..512].iter().all(|b| *b == 0x31) && out[512..].iter().all(|b| *b == 0));
}

#[test]
fn chain_that_loops_through_locators_is_an_error_not_a_hang() {
    let dir = scratch("loop");
    // A's parent is B, B's parent is A: each names the other by id and locator.
    let id_a = Uuid(id_for("loop-a"));
    let id_b = Uuid(id_for("loop-b"));
    let base_a = {
        let mut d = DiskBuilder::dynamic(2 * MIB, 2 * MIB as u32);
        d.unique_id(id_a);
        d.parent_ref("a.vhd")
    };
    let base_b = {
        let mut d = DiskBuilder::dynamic(2 * MIB, 2 * MIB as u32);
        d.unique_id(id_b);
        d.parent_ref("b.vhd")
    };
    let mut a = DiskBuilder::differencing(&base_b, 2 * MIB as u32);
    a.unique_id(id_a);
    let mut b = DiskBuilder::differencing(&base_a, 2 * MIB as u32);
    b.unique_id(id_b);
    std::fs::write(dir.join("a.vhd"), a.build()).unwrap();
    std::fs::write(dir.join("b.vhd"), b.build()).unwrap();
    let a_path = dir.join("a.vhd");
    for cmd in ["info", "check", "map", "cat"] {
        let start = std::time::Instant::now();
        let o = cli(&[cmd, a_path.to_str().unwrap()]);
        assert!(start.elapsed().as_secs() < 10, "{cmd} took too long on a loop");
        assert_eq!(o.status.code(), Some(2), "{cmd}: {}{}", stdout(&o), stderr(&o));
        assert!(stderr(&o).contains("loops"), "{cmd}: {}", stderr(&o));
    }
    // Also through the library: a chain given with the same disk twice.
    let la = vhd_viewer::reader::open_layer(&std::fs::read(&a_path).unwrap()).unwrap();
    let lb = vhd_viewer::reader::open_layer(&std::fs::read(dir.join("b.vhd")).unwrap()).unwrap();
    let e = vhd_viewer::Disk::new(vec![la.clone(), lb, la], false).unwrap_err();
    assert!(matches!(e, vhd_viewer::Error::ChainLoop { .. }), "{e:?}");
    assert!(e.to_string().contains("loops"), "{e}");
}

#[test]
fn self_parent_is_a_loop() {
    let dir = scratch("selfloop");
    let id = Uuid(id_for("self"));
    let me = {
        let mut d = DiskBuilder::dynamic(2 * MIB, 2 * MIB as u32);
        d.unique_id(id);
        d.parent_ref("self.vhd")
    };
    let mut s = DiskBuilder::differencing(&me, 2 * MIB as u32);
    s.unique_id(id);
    let p = dir.join("self.vhd");
    std::fs::write(&p, s.build()).unwrap();
    let o = cli(&["info", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("loops"), "{}", stderr(&o));
}
