//! `chains` and the core's folder survey ([`vhd_viewer::folder`]): issue 24's test folder (made
//! by `examples/folder_fixture.rs`, included here) answered exactly, as JSON and as text; the
//! bytes read per file bounded and independent of the disk's size; 500 files; hostile sets (a
//! parent loop, a disk its own parent, copies, absurd locator and metadata lengths, files that
//! are not disks, link loops and deep folders); the relink command printed for a moved parent
//! (VHD and VHDX), run; a VHD parent replaced by another disk; and real disks made by other
//! software.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

use vhd_viewer::folder::{identify, survey};
use vhd_viewer::reader::{Counting, ReadAt};
use vhd_viewer::vhd::writer::{uuid_from_seed, DiskBuilder, ParentRef};
use vhd_viewer::vhdx::writer::VhdxBuilder;
use vhd_viewer::vhdx::Guid;

#[path = "../examples/folder_fixture.rs"]
#[allow(dead_code)]
mod folder_fixture;

const MIB: u64 = 1 << 20;

/// The answer for the fixture folder, stated here (worked out from what the fixture writes:
/// the VHDX base and its branches c1 <- c2 <- c3 and c1 <- d2 <- d3, c3 not closed cleanly;
/// the copied base; db.vhdx written to after its checkpoint; the orphan; the VHD chain; the
/// moved app.vhd; the truncated VHDX and the text file). A VHD's identity is 2 KiB (footer and
/// copy, header) plus its locators' data; a VHDX's 139,784 bytes of header section (identifier,
/// two headers, two region tables), the first 4 KiB of its metadata table and its items.
const EXPECTED_JSON: &str = r#"{
  "trees": [
    {
      "file": "Archive/app.vhd",
      "format": "vhd",
      "disk_type": "dynamic",
      "role": "base",
      "id": "97958853-37f9-ef66-44af-50ee9269bc92",
      "parent_id": null,
      "size": 67108864,
      "children": [
        {
          "file": "Moved/app_0A4C9588-E357-4C4A-FC5D-6D97BE302029.avhd",
          "format": "vhd",
          "disk_type": "differencing",
          "role": "leaf",
          "id": "0a4c9588-e357-4c4a-fc5d-6d97be302029",
          "parent_id": "97958853-37f9-ef66-44af-50ee9269bc92",
          "size": 67108864,
          "children": []
        }
      ]
    },
    {
      "file": "Backup/web.vhdx",
      "format": "vhdx",
      "disk_type": "dynamic",
      "role": "base",
      "id": "5d65adb3-f047-c660-7065-d8908f7e123f",
      "parent_id": null,
      "size": 67108864,
      "children": []
    },
    {
      "file": "Hyper-V/Web/Virtual Hard Disks/db.vhdx",
      "format": "vhdx",
      "disk_type": "dynamic",
      "role": "base",
      "id": "64d64661-bbfd-5df1-f336-dcae205ab5a2",
      "parent_id": null,
      "size": 67108864,
      "children": []
    },
    {
      "file": "Hyper-V/Web/Virtual Hard Disks/db_55C6C378-2E35-3B27-5E82-F622C761F1E1.avhdx",
      "format": "vhdx",
      "disk_type": "differencing",
      "role": "leaf",
      "id": "55c6c378-2e35-3b27-5e82-f622c761f1e1",
      "parent_id": "7733653f-8fcd-9e7c-2a96-8f9aff524894",
      "size": 67108864,
      "orphan": true,
      "children": []
    },
    {
      "file": "Hyper-V/Web/Virtual Hard Disks/old_C1D6D945-A201-F20B-3866-3204A249AF79.avhdx",
      "format": "vhdx",
      "disk_type": "differencing",
      "role": "leaf",
      "id": "c1d6d945-a201-f20b-3866-3204a249af79",
      "parent_id": "04c754a1-9399-073d-8f3c-7f92cdf05458",
      "size": 67108864,
      "orphan": true,
      "children": []
    },
    {
      "file": "Hyper-V/Web/Virtual Hard Disks/web.vhdx",
      "format": "vhdx",
      "disk_type": "dynamic",
      "role": "base",
      "id": "5d65adb3-f047-c660-7065-d8908f7e123f",
      "parent_id": null,
      "size": 67108864,
      "children": [
        {
          "file": "Hyper-V/Web/Virtual Hard Disks/web_2A23DA4F-8BFB-880F-1E92-692F5254D30E.avhdx",
          "format": "vhdx",
          "disk_type": "differencing",
          "role": "checkpoint",
          "id": "2a23da4f-8bfb-880f-1e92-692f5254d30e",
          "parent_id": "5d65adb3-f047-c660-7065-d8908f7e123f",
          "size": 67108864,
          "children": [
            {
              "file": "Hyper-V/Web/Virtual Hard Disks/web_A4F3D3CB-1B22-B209-974F-1A7AA2062BD2.avhdx",
              "format": "vhdx",
              "disk_type": "differencing",
              "role": "checkpoint",
              "id": "a4f3d3cb-1b22-b209-974f-1a7aa2062bd2",
              "parent_id": "2a23da4f-8bfb-880f-1e92-692f5254d30e",
              "size": 67108864,
              "children": [
                {
                  "file": "Hyper-V/Web/Virtual Hard Disks/web_9B40827B-87EE-937F-02F1-5C8B54B8A9F8.avhdx",
                  "format": "vhdx",
                  "disk_type": "differencing",
                  "role": "leaf",
                  "id": "9b40827b-87ee-937f-02f1-5c8b54b8a9f8",
                  "parent_id": "a4f3d3cb-1b22-b209-974f-1a7aa2062bd2",
                  "size": 67108864,
                  "children": []
                }
              ]
            },
            {
              "file": "Hyper-V/Web/Virtual Hard Disks/web_CDAA4754-0425-C652-8CD8-B75BD95B44D8.avhdx",
              "format": "vhdx",
              "disk_type": "differencing",
              "role": "checkpoint",
              "id": "cdaa4754-0425-c652-8cd8-b75bd95b44d8",
              "parent_id": "2a23da4f-8bfb-880f-1e92-692f5254d30e",
              "size": 67108864,
              "children": [
                {
                  "file": "Hyper-V/Web/Virtual Hard Disks/web_9FB24039-8323-0B4C-E6B2-FF07E382358A.avhdx",
                  "format": "vhdx",
                  "disk_type": "differencing",
                  "role": "leaf",
                  "id": "9fb24039-8323-0b4c-e6b2-ff07e382358a",
                  "parent_id": "cdaa4754-0425-c652-8cd8-b75bd95b44d8",
                  "size": 67108864,
                  "notes": [
                    "the disk was not closed cleanly (log GUID 4c4c4c4c-4c4c-4c4c-4c4c-4c4c4c4c4c4c): it is identified from its headers and metadata as stored, without replaying its log, which may change them"
                  ],
                  "children": []
                }
              ]
            }
          ]
        }
      ]
    },
    {
      "file": "Virtual PC/xp.vhd",
      "format": "vhd",
      "disk_type": "dynamic",
      "role": "base",
      "id": "4ef008ec-ee09-4df5-7e94-2e6fbd3a6852",
      "parent_id": null,
      "size": 67108864,
      "children": [
        {
          "file": "Virtual PC/xp_8BBAE6B9-E0B3-4781-26F3-95416539192C.avhd",
          "format": "vhd",
          "disk_type": "differencing",
          "role": "checkpoint",
          "id": "8bbae6b9-e0b3-4781-26f3-95416539192c",
          "parent_id": "4ef008ec-ee09-4df5-7e94-2e6fbd3a6852",
          "size": 67108864,
          "children": [
            {
              "file": "Virtual PC/xp_4C0348D5-0D27-FB22-8E1F-6C225F8FCEA2.avhd",
              "format": "vhd",
              "disk_type": "differencing",
              "role": "leaf",
              "id": "4c0348d5-0d27-fb22-8e1f-6c225f8fcea2",
              "parent_id": "8bbae6b9-e0b3-4781-26f3-95416539192c",
              "size": 67108864,
              "children": []
            }
          ]
        }
      ]
    }
  ],
  "orphans": [
    {
      "file": "Hyper-V/Web/Virtual Hard Disks/old_C1D6D945-A201-F20B-3866-3204A249AF79.avhdx",
      "parent_id": "04c754a1-9399-073d-8f3c-7f92cdf05458",
      "looks_for": [
        "Hyper-V/Web/Virtual Hard Disks/old.vhdx",
        "D:/Hyper-V/Web/Virtual Hard Disks/old.vhdx",
        "//?/Volume{5b8c2f40-0000-0000-0000-100000000000}/Hyper-V/Web/Virtual Hard Disks/old.vhdx"
      ]
    }
  ],
  "moved": [
    {
      "file": "Moved/app_0A4C9588-E357-4C4A-FC5D-6D97BE302029.avhd",
      "parent": "Archive/app.vhd",
      "locator_says": "Moved/app.vhd",
      "relink": "vhd-viewer relink --parent Archive/app.vhd Moved/app_0A4C9588-E357-4C4A-FC5D-6D97BE302029.avhd Moved/app_0A4C9588-E357-4C4A-FC5D-6D97BE302029-relinked.avhd"
    }
  ],
  "modified": [
    {
      "file": "Hyper-V/Web/Virtual Hard Disks/db_55C6C378-2E35-3B27-5E82-F622C761F1E1.avhdx",
      "expected_id": "7733653f-8fcd-9e7c-2a96-8f9aff524894",
      "found": "Hyper-V/Web/Virtual Hard Disks/db.vhdx",
      "found_id": "64d64661-bbfd-5df1-f336-dcae205ab5a2"
    }
  ],
  "duplicates": [
    [
      "Backup/web.vhdx",
      "Hyper-V/Web/Virtual Hard Disks/web.vhdx"
    ]
  ],
  "unreadable": [
    {
      "file": "Hyper-V/Web/Virtual Hard Disks/broken.vhdx",
      "reason": "at byte 0x0: the file starts like a VHDX but is 204800 bytes long, shorter than the 327680 bytes of its headers and region tables"
    },
    {
      "file": "notes.txt",
      "reason": "the file is 53 bytes long: too short for a VHD, which ends with a 512-byte footer"
    }
  ],
  "bytes_read": [
    {
      "file": "Archive/app.vhd",
      "bytes": 2048
    },
    {
      "file": "Backup/web.vhdx",
      "bytes": 144944
    },
    {
      "file": "Hyper-V/Web/Virtual Hard Disks/broken.vhdx",
      "bytes": 1024
    },
    {
      "file": "Hyper-V/Web/Virtual Hard Disks/db.vhdx",
      "bytes": 144944
    },
    {
      "file": "Hyper-V/Web/Virtual Hard Disks/db_55C6C378-2E35-3B27-5E82-F622C761F1E1.avhdx",
      "bytes": 145476
    },
    {
      "file": "Hyper-V/Web/Virtual Hard Disks/old_C1D6D945-A201-F20B-3866-3204A249AF79.avhdx",
      "bytes": 145482
    },
    {
      "file": "Hyper-V/Web/Virtual Hard Disks/web.vhdx",
      "bytes": 144944
    },
    {
      "file": "Hyper-V/Web/Virtual Hard Disks/web_2A23DA4F-8BFB-880F-1E92-692F5254D30E.avhdx",
      "bytes": 145482
    },
    {
      "file": "Hyper-V/Web/Virtual Hard Disks/web_9B40827B-87EE-937F-02F1-5C8B54B8A9F8.avhdx",
      "bytes": 145710
    },
    {
      "file": "Hyper-V/Web/Virtual Hard Disks/web_9FB24039-8323-0B4C-E6B2-FF07E382358A.avhdx",
      "bytes": 145710
    },
    {
      "file": "Hyper-V/Web/Virtual Hard Disks/web_A4F3D3CB-1B22-B209-974F-1A7AA2062BD2.avhdx",
      "bytes": 145710
    },
    {
      "file": "Hyper-V/Web/Virtual Hard Disks/web_CDAA4754-0425-C652-8CD8-B75BD95B44D8.avhdx",
      "bytes": 145710
    },
    {
      "file": "Moved/app_0A4C9588-E357-4C4A-FC5D-6D97BE302029.avhd",
      "bytes": 2106
    },
    {
      "file": "Virtual PC/xp.vhd",
      "bytes": 2048
    },
    {
      "file": "Virtual PC/xp_4C0348D5-0D27-FB22-8E1F-6C225F8FCEA2.avhd",
      "bytes": 2264
    },
    {
      "file": "Virtual PC/xp_8BBAE6B9-E0B3-4781-26F3-95416539192C.avhd",
      "bytes": 2112
    },
    {
      "file": "notes.txt",
      "bytes": 0
    }
  ]
}"#;

/// The same answer in words.
const EXPECTED_TEXT: &str = r#"15 disks in 7 trees:
  Archive/app.vhd  (base, VHD dynamic, 64 MiB)
    Moved/app_0A4C9588-E357-4C4A-FC5D-6D97BE302029.avhd  (leaf, VHD differencing, 64 MiB)
  Backup/web.vhdx  (base, VHDX dynamic, 64 MiB)
  Hyper-V/Web/Virtual Hard Disks/db.vhdx  (base, VHDX dynamic, 64 MiB)
  Hyper-V/Web/Virtual Hard Disks/db_55C6C378-2E35-3B27-5E82-F622C761F1E1.avhdx  (leaf, VHDX differencing, 64 MiB, its parent not found)
  Hyper-V/Web/Virtual Hard Disks/old_C1D6D945-A201-F20B-3866-3204A249AF79.avhdx  (leaf, VHDX differencing, 64 MiB, its parent not found)
  Hyper-V/Web/Virtual Hard Disks/web.vhdx  (base, VHDX dynamic, 64 MiB)
    Hyper-V/Web/Virtual Hard Disks/web_2A23DA4F-8BFB-880F-1E92-692F5254D30E.avhdx  (checkpoint, VHDX differencing, 64 MiB)
      Hyper-V/Web/Virtual Hard Disks/web_A4F3D3CB-1B22-B209-974F-1A7AA2062BD2.avhdx  (checkpoint, VHDX differencing, 64 MiB)
        Hyper-V/Web/Virtual Hard Disks/web_9B40827B-87EE-937F-02F1-5C8B54B8A9F8.avhdx  (leaf, VHDX differencing, 64 MiB)
      Hyper-V/Web/Virtual Hard Disks/web_CDAA4754-0425-C652-8CD8-B75BD95B44D8.avhdx  (checkpoint, VHDX differencing, 64 MiB)
        Hyper-V/Web/Virtual Hard Disks/web_9FB24039-8323-0B4C-E6B2-FF07E382358A.avhdx  (leaf, VHDX differencing, 64 MiB)
            ! the disk was not closed cleanly (log GUID 4c4c4c4c-4c4c-4c4c-4c4c-4c4c4c4c4c4c): it is identified from its headers and metadata as stored, without replaying its log, which may change them
  Virtual PC/xp.vhd  (base, VHD dynamic, 64 MiB)
    Virtual PC/xp_8BBAE6B9-E0B3-4781-26F3-95416539192C.avhd  (checkpoint, VHD differencing, 64 MiB)
      Virtual PC/xp_4C0348D5-0D27-FB22-8E1F-6C225F8FCEA2.avhd  (leaf, VHD differencing, 64 MiB)

Orphans: the parent is in no file given.
  Hyper-V/Web/Virtual Hard Disks/old_C1D6D945-A201-F20B-3866-3204A249AF79.avhdx: its parent's id is 04c754a1-9399-073d-8f3c-7f92cdf05458; its locators look for
      Hyper-V/Web/Virtual Hard Disks/old.vhdx
      D:/Hyper-V/Web/Virtual Hard Disks/old.vhdx
      //?/Volume{5b8c2f40-0000-0000-0000-100000000000}/Hyper-V/Web/Virtual Hard Disks/old.vhdx
    Fix: find the parent and give it with --parent, or put it back where the locators look; `vhd-viewer relink --parent PARENT CHILD OUT` writes a copy that looks where it is.

Moved parents: the parent is here by id, but not where the locators look.
  Moved/app_0A4C9588-E357-4C4A-FC5D-6D97BE302029.avhd: its parent is Archive/app.vhd, but its locators look for Moved/app.vhd
    Fix: vhd-viewer relink --parent Archive/app.vhd Moved/app_0A4C9588-E357-4C4A-FC5D-6D97BE302029.avhd Moved/app_0A4C9588-E357-4C4A-FC5D-6D97BE302029-relinked.avhd
    (a copy that finds its parent where it is; the child is not touched: use the copy in its place)

Modified parents: the file where the locators look has another id.
  Hyper-V/Web/Virtual Hard Disks/db_55C6C378-2E35-3B27-5E82-F622C761F1E1.avhdx: its locators name Hyper-V/Web/Virtual Hard Disks/db.vhdx, whose id is 64d64661-bbfd-5df1-f336-dcae205ab5a2, not 7733653f-8fcd-9e7c-2a96-8f9aff524894
    Hyper-V/Web/Virtual Hard Disks/db.vhdx was written to after the child was made (or is another disk): the child's changes no longer fit on it.
    Fix: find the parent as it was (a backup with id 7733653f-8fcd-9e7c-2a96-8f9aff524894); `--force` reads the chain anyway, at your own risk.

Duplicates: files with one id (copies of one disk).
  Backup/web.vhdx, Hyper-V/Web/Virtual Hard Disks/web.vhdx
    Backup/web.vhdx: no child opens it
    Hyper-V/Web/Virtual Hard Disks/web.vhdx: 1 child opens it

Not read: not disks, or too damaged to identify.
  Hyper-V/Web/Virtual Hard Disks/broken.vhdx: at byte 0x0: the file starts like a VHDX but is 204800 bytes long, shorter than the 327680 bytes of its headers and region tables
  notes.txt: the file is 53 bytes long: too short for a VHD, which ends with a 512-byte footer
"#;

/// The fixture folder, written afresh into a scratch folder `name`.
fn fixture(name: &str) -> PathBuf {
    let dir = scratch(name);
    folder_fixture::write_fixture(&dir).unwrap();
    dir
}

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", stdout(o), stderr(o)))
}

#[test]
fn the_fixture_folder_is_answered_exactly() {
    let dir = fixture("exact");
    let o = cli_in(&dir, &["chains", ".", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let expected: serde_json::Value = serde_json::from_str(EXPECTED_JSON).unwrap();
    assert_eq!(json(&o), expected, "{}", stdout(&o));
    let o = cli_in(&dir, &["chains", "."]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), EXPECTED_TEXT);
    // The same files given one by one (and in another order) are the same answer.
    let mut names: Vec<String> =
        expected["bytes_read"].as_array().unwrap().iter().map(|b| b["file"].as_str().unwrap().to_string()).collect();
    names.reverse();
    let args: Vec<&str> = ["chains", "--json"].into_iter().chain(names.iter().map(String::as_str)).collect();
    assert_eq!(json(&cli_in(&dir, &args)), expected);
    // A file given again by its name is not a copy of itself.
    assert_eq!(json(&cli_in(&dir, &["chains", ".", "--json", "notes.txt", "./Virtual PC/xp.vhd"])), expected);
    // The fixture's bytes are the same every run.
    let again = fixture("exact-again");
    for b in expected["bytes_read"].as_array().unwrap() {
        let f = b["file"].as_str().unwrap();
        assert!(std::fs::read(dir.join(f)).unwrap() == std::fs::read(again.join(f)).unwrap(), "{f} differs between runs");
    }
    // Usage errors are status 2.
    assert_eq!(cli_in(&dir, &["chains"]).status.code(), Some(2));
    assert_eq!(cli_in(&dir, &["chains", "no-such-folder"]).status.code(), Some(2));
}

/// Bytes `identify` reads of `file`, checked against what a counting reader saw.
fn identity_bytes(file: &[u8]) -> u64 {
    let c = Counting::new(file.to_vec());
    let id = identify(&c).unwrap();
    assert_eq!(id.bytes_read, c.bytes());
    id.bytes_read
}

#[test]
fn bytes_read_are_bounded_and_do_not_grow_with_the_disk() {
    let dir = fixture("bytes");
    let answer = json(&cli_in(&dir, &["chains", ".", "--json"]));
    for b in answer["bytes_read"].as_array().unwrap() {
        let (file, bytes) = (b["file"].as_str().unwrap(), b["bytes"].as_u64().unwrap());
        // What the survey says it read is what was read.
        let data = std::fs::read(dir.join(file)).unwrap();
        let counting = Counting::new(data.clone());
        let s = survey(&[(file.to_string(), &counting as &dyn ReadAt)]);
        assert_eq!((s.bytes_read[0].bytes, counting.bytes()), (bytes, bytes), "{file}");
        let limit = if file.ends_with("vhdx") { 139_784 + 4096 + 2048 } else { 4096 };
        assert!(bytes <= limit, "{file}: {bytes} bytes read");
        assert!(bytes < data.len() as u64 / 20 || data.len() < 4096, "{file}: {bytes} of {} bytes read", data.len());
    }
    // A 2 TiB disk costs what a 64 MiB one does: VHD and VHDX, base and child.
    let vhd = |size: u64| {
        let mut b = DiskBuilder::dynamic(size, 2 * MIB as u32);
        b.unique_id(uuid_from_seed(7));
        let mut c = DiskBuilder::differencing(&b.parent_ref("base.vhd"), 2 * MIB as u32);
        c.parent_locator(*b"W2ku", "D:\\disks\\base.vhd");
        (identity_bytes(&b.build()), identity_bytes(&c.build()))
    };
    let (small, big) = (vhd(64 * MIB), vhd(2 << 40));
    assert_eq!(small, big);
    assert_eq!(small.0, 2048);
    assert!(small.1 <= 4096, "{small:?}");
    let vhdx = |size: u64| {
        let base = VhdxBuilder::new(size).write(size - 4096, &[1; 4096]);
        let child = VhdxBuilder::new(size).child_of(base.data_write_guid, "base.vhdx").write(0, &[2; 4096]);
        (identity_bytes(&base.build()), identity_bytes(&child.build()))
    };
    let (small, big) = (vhdx(64 * MIB), vhdx(2 << 40));
    assert_eq!(small, big);
    assert!(small.1 < 146 * 1024, "{small:?}");
}

#[test]
fn five_hundred_files_are_sorted_reading_only_their_identities() {
    let dir = scratch("five-hundred");
    // 100 chains of a base and 4 checkpoints, all in one folder.
    for i in 0..100u64 {
        let mut parent = DiskBuilder::dynamic(64 * MIB, 2 * MIB as u32);
        parent.unique_id(uuid_from_seed(1000 * i));
        let mut name = format!("vm{i:03}.vhd");
        write_atomic(&dir.join(&name), &parent.build());
        for k in 1..5 {
            let mut c = DiskBuilder::differencing(&parent.parent_ref(&name), 2 * MIB as u32);
            c.unique_id(uuid_from_seed(1000 * i + k));
            name = format!("vm{i:03}_{k}.avhd");
            write_atomic(&dir.join(&name), &c.build());
            parent = c;
        }
    }
    let o = cli_in(&dir, &["chains", ".", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let a = json(&o);
    let trees = a["trees"].as_array().unwrap();
    assert_eq!(trees.len(), 100);
    for (i, t) in trees.iter().enumerate() {
        let mut n = t;
        for k in 0..5 {
            let want = if k == 0 { format!("vm{i:03}.vhd") } else { format!("vm{i:03}_{k}.avhd") };
            assert_eq!(n["file"], want.as_str());
            assert_eq!(n["role"], ["base", "checkpoint", "checkpoint", "checkpoint", "leaf"][k]);
            assert_eq!(n["children"].as_array().unwrap().len(), usize::from(k < 4));
            if k < 4 {
                n = &n["children"][0];
            }
        }
    }
    let reads = a["bytes_read"].as_array().unwrap();
    assert_eq!(reads.len(), 500);
    assert!(reads.iter().all(|b| b["bytes"].as_u64().unwrap() <= 4096), "{reads:?}");
    let o = cli_in(&dir, &["chains", "."]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(
        text.starts_with(
            "500 disks in 100 trees:\n  vm000.vhd  (base, VHD dynamic, 64 MiB)\n    vm000_1.avhd  (checkpoint, VHD differencing, 64 MiB)\n"
        ),
        "{text}"
    );
    assert!(text.ends_with("\nAll well: every child's parent is where its locators look.\n"), "{text}");
}

/// A VHD child of the disk with id `parent` known as `name`, of its own id `id`.
fn vhd_child(id: u64, parent: u64, name: &str) -> DiskBuilder {
    let p = ParentRef {
        unique_id: uuid_from_seed(parent),
        timestamp: vhd_viewer::values::Timestamp(0x2000_0000),
        size: 64 * MIB,
        file_name: name.into(),
    };
    let mut c = DiskBuilder::differencing(&p, 2 * MIB as u32);
    c.unique_id(uuid_from_seed(id));
    c
}

#[test]
fn hostile_sets_are_answered_in_bounded_reads() {
    let dir = scratch("hostile");
    // Two disks each the other's parent, and one its own.
    write_atomic(&dir.join("loop-a.avhd"), &vhd_child(1, 2, "loop-b.avhd").build());
    write_atomic(&dir.join("loop-b.avhd"), &vhd_child(2, 1, "loop-a.avhd").build());
    write_atomic(&dir.join("self.avhd"), &vhd_child(3, 3, "self.avhd").build());
    // A base, two copies of it, and a child whose first locator is absurdly long (it still
    // finds its parent through the parent unicode name).
    let mut base = DiskBuilder::dynamic(64 * MIB, 2 * MIB as u32);
    base.unique_id(uuid_from_seed(10));
    for n in ["base.vhd", "copy1.vhd", "sub/base.vhd"] {
        std::fs::create_dir_all(dir.join(n).parent().unwrap()).unwrap();
        write_atomic(&dir.join(n), &base.build());
    }
    let mut child = Image { bytes: vhd_child(11, 10, "base.vhd").build() };
    child.edit_header(|h| put32(h, 576 + 8, 0xffff_fff0));
    child.write(&dir.join("long-locator.avhd"));
    // A VHDX whose metadata table claims 65535 entries.
    let mut vhdx = VhdxBuilder::new(64 * MIB);
    vhdx.data_write_guid = Guid([0x5a; 16]);
    let mut bytes = vhdx.build();
    bytes[2 * MIB as usize + 10..2 * MIB as usize + 12].copy_from_slice(&[0xff, 0xff]);
    write_atomic(&dir.join("many-items.vhdx"), &bytes);
    // Not disks: random bytes, an empty file.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let random: Vec<u8> = (0..MIB)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    write_atomic(&dir.join("random.bin"), &random);
    write_atomic(&dir.join("empty.vhd"), &[]);
    // A link back to the folder (not followed) and a disk 40 folders deep (past the walk).
    std::os::unix::fs::symlink(".", dir.join("again")).unwrap();
    let deep: PathBuf = (0..40).map(|i| format!("d{i}")).collect();
    std::fs::create_dir_all(dir.join(&deep)).unwrap();
    write_atomic(&dir.join(&deep).join("deep.vhd"), &base.build());

    let o = cli_in(&dir, &["chains", ".", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let a = json(&o);
    let files = |k: &str| -> Vec<String> { a[k].as_array().unwrap().iter().map(|x| x["file"].as_str().unwrap().to_string()).collect() };
    assert_eq!(
        files("bytes_read"),
        [
            "base.vhd",
            "copy1.vhd",
            "empty.vhd",
            "long-locator.avhd",
            "loop-a.avhd",
            "loop-b.avhd",
            "many-items.vhdx",
            "random.bin",
            "self.avhd",
            "sub/base.vhd"
        ]
    );
    assert_eq!(files("orphans"), ["loop-a.avhd", "self.avhd"]);
    assert_eq!(a["duplicates"], serde_json::json!([["base.vhd", "copy1.vhd", "sub/base.vhd"]]));
    assert_eq!(files("trees"), ["base.vhd", "copy1.vhd", "loop-a.avhd", "many-items.vhdx", "self.avhd", "sub/base.vhd"]);
    let tree = |f: &str| a["trees"].as_array().unwrap().iter().find(|t| t["file"] == f).unwrap().clone();
    assert_eq!(tree("base.vhd")["children"][0]["file"], "long-locator.avhd");
    assert_eq!(tree("loop-a.avhd")["orphan"], true);
    assert_eq!(tree("loop-a.avhd")["children"][0]["file"], "loop-b.avhd");
    assert_eq!(tree("self.avhd")["children"], serde_json::json!([]));
    // The entry count is capped at what a table holds, and said.
    assert!(tree("many-items.vhdx")["notes"][0].as_str().unwrap().contains("more than the 2047 allowed"), "{}", tree("many-items.vhdx"));
    let unreadable = files("unreadable");
    assert!(unreadable.contains(&"random.bin".to_string()) && unreadable.contains(&"empty.vhd".to_string()), "{unreadable:?}");
    for b in a["bytes_read"].as_array().unwrap() {
        let limit = if b["file"] == "many-items.vhdx" { 210 * 1024 } else { 4096 };
        assert!(b["bytes"].as_u64().unwrap() <= limit, "{b}");
    }

    // A chain deeper than a chain may be: cut, never a stack overflow.
    let disks: Vec<Vec<u8>> = (0..600u64)
        .map(|i| if i == 0 { base.build() } else { vhd_child(100 + i, if i == 1 { 10 } else { 99 + i }, "x.vhd").build() })
        .collect();
    let named: Vec<(String, &dyn ReadAt)> = disks.iter().enumerate().map(|(i, d)| (format!("{i:04}.vhd"), d as &dyn ReadAt)).collect();
    let s = survey(&named);
    assert_eq!(s.trees.len(), 3);
    // Each child found by id (its locators name x.vhd), but those cut are orphans.
    assert_eq!(s.moved.len(), 597);
    assert_eq!(s.orphans.iter().map(|o| o.file.as_str()).collect::<Vec<_>>(), ["0256.vhd", "0512.vhd"]);
    serde_json::to_string(&s).unwrap();
}

/// Runs a `vhd-viewer ...` command line as printed, with the built binary first on PATH.
fn run_printed(dir: &Path, line: &str) -> std::process::Output {
    let bin_dir = Path::new(bin()).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    output(Command::new("sh").arg("-c").arg(line).current_dir(dir).env("PATH", path))
}

#[test]
fn the_printed_relink_command_fixes_the_moved_child() {
    // The fixture in a folder whose name needs quoting, given by that name.
    let root = scratch("relink");
    folder_fixture::write_fixture(&root.join("VM's folder")).unwrap();
    let a = json(&cli_in(&root, &["chains", "VM's folder", "--json"]));
    let moved = &a["moved"][0];
    let child = moved["file"].as_str().unwrap();
    assert!(child.starts_with("VM's folder/Moved/app_"), "{moved}");
    let line = moved["relink"].as_str().unwrap();
    assert!(line.starts_with("vhd-viewer relink --parent 'VM'\\''s folder/Archive/app.vhd' "), "{line}");
    let o = run_printed(&root, line);
    assert!(o.status.success(), "{line}: {}{}", stdout(&o), stderr(&o));
    let out = child.replace(".avhd", "-relinked.avhd");
    // The copy finds its parent: the disk reads through it.
    let o = cli_in(&root, &["cat", &out, "--length", "512"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.starts_with(b"app base"));
    // Put in the child's place, nothing is moved any more.
    std::fs::rename(root.join(&out), root.join(child)).unwrap();
    let after = json(&cli_in(&root, &["chains", "VM's folder", "--json"]));
    assert_eq!(after["moved"], serde_json::json!([]));
    assert_eq!((&after["orphans"], &after["modified"], &after["duplicates"]), (&a["orphans"], &a["modified"], &a["duplicates"]));
    let app = after["trees"].as_array().unwrap().iter().find(|t| t["file"] == "VM's folder/Archive/app.vhd").unwrap();
    assert_eq!(app["children"][0]["file"], child);
}

#[test]
fn real_disks_made_by_other_software() {
    // A real pair (made by the dfvfs authors): the child has no locators, only the parent
    // unicode name, and both have bad footer checksums.
    let dir = scratch("real");
    sample_into("image.vhd", &dir);
    sample_into("image-differential.vhd", &dir);
    // A real Windows child whose parent is not here.
    sample_into("fat-differential.vhd", &dir);
    let a = json(&cli_in(&dir, &["chains", ".", "--json"]));
    let trees = a["trees"].as_array().unwrap();
    assert_eq!(trees.len(), 2, "{a}");
    assert_eq!(trees[0]["file"], "fat-differential.vhd");
    assert_eq!(trees[0]["orphan"], true);
    assert_eq!(trees[1]["file"], "image.vhd");
    assert_eq!(trees[1]["children"][0]["file"], "image-differential.vhd");
    assert_eq!(trees[1]["children"][0]["role"], "leaf");
    assert!(trees[1]["notes"][0].as_str().unwrap().contains("footer checksum"), "{}", trees[1]);
    assert_eq!(
        a["orphans"],
        serde_json::json!([{
            "file": "fat-differential.vhd",
            "parent_id": trees[0]["parent_id"],
            "looks_for": ["fat-parent.vhd"]
        }])
    );
    assert_eq!((a["moved"].as_array().unwrap().len(), a["modified"].as_array().unwrap().len()), (0, 0));
    // The Hyper-V disk: a base alone, about 2 KiB read of its 266,240 bytes.
    let h = identity_bytes(&std::fs::read(sample("hyperv2012r2-dynamic.vhd")).unwrap());
    assert_eq!(h, 2048);
}

#[test]
fn a_moved_vhdx_parent_is_relinked_and_a_replaced_vhd_parent_is_modified() {
    let dir = scratch("vhdx-moved");
    // A VHDX checkpoint whose base was moved to another folder.
    let base = VhdxBuilder::new(64 * MIB).write(0, &[0xba; 512]);
    let mut child = VhdxBuilder::new(64 * MIB).child_of(base.data_write_guid, "base.vhdx").write(4096, &[0xc1; 512]);
    child.data_write_guid = Guid([0xc1; 16]);
    std::fs::create_dir_all(dir.join("vm")).unwrap();
    std::fs::create_dir_all(dir.join("moved here")).unwrap();
    write_atomic(&dir.join("moved here/base.vhdx"), &base.build());
    write_atomic(&dir.join("vm/child.avhdx"), &child.build());
    // A VHD child whose parent's place holds another disk (another unique id).
    let mut old = DiskBuilder::dynamic(64 * MIB, 2 * MIB as u32);
    old.unique_id(uuid_from_seed(40));
    let mut other = DiskBuilder::dynamic(64 * MIB, 2 * MIB as u32);
    other.unique_id(uuid_from_seed(41));
    write_atomic(&dir.join("vm/disk.vhd"), &other.build());
    write_atomic(&dir.join("vm/disk_1.avhd"), &DiskBuilder::differencing(&old.parent_ref("disk.vhd"), 2 * MIB as u32).build());

    let a = json(&cli_in(&dir, &["chains", ".", "--json"]));
    assert_eq!(
        a["moved"],
        serde_json::json!([{
            "file": "vm/child.avhdx",
            "parent": "moved here/base.vhdx",
            "locator_says": "vm/base.vhdx",
            "relink": "vhd-viewer relink --parent 'moved here/base.vhdx' vm/child.avhdx vm/child-relinked.avhdx"
        }])
    );
    assert_eq!(
        a["modified"],
        serde_json::json!([{
            "file": "vm/disk_1.avhd",
            "expected_id": uuid_from_seed(40).to_string(),
            "found": "vm/disk.vhd",
            "found_id": uuid_from_seed(41).to_string()
        }])
    );
    assert_eq!(a["orphans"], serde_json::json!([]));
    let o = run_printed(&dir, a["moved"][0]["relink"].as_str().unwrap());
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let o = cli_in(&dir, &["cat", "vm/child-relinked.avhdx", "--length", "8192"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!((&o.stdout[..512], &o.stdout[4096..4608]), (&[0xba; 512][..], &[0xc1; 512][..]));
}
