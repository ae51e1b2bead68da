//! The XFS reader against the real tools: disks made by `mkfs.xfs -p protofile` (v5 with
//! bigtime, and v4) and, where the kernel mounts them here, written through a loop mount (a file
//! fragmented into a B+tree extent map, a preallocated extent, deleted files, a log left dirty)
//! by `tests/web/fixtures/make-xfs-vhds.sh`. Listings are compared with `xfs_db -r -c 'ls DIR'`,
//! times with `xfs_db`'s inode print, file bytes with the sources' and the mount's SHA-256, free
//! space with each AGF's count, and `diff` of the mount's changes (a differencing disk). The GPT
//! disk is also a VHDX made by qemu-img: listed and read alike, and `compact --trim` of it keeps
//! every file and gives back the deleted files' blocks (qemu-img's allocated extents).

mod common;
use common::*;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;
use sha2::{Digest, Sha256};
use vhd_viewer::fs::{EntryKind, FileSystem, Volume};
use vhd_viewer::reader::{open_layer, DiskReader, ReadAt};
use vhd_viewer::trim::{FreeRanges, FreeSpace};

fn disks() -> PathBuf {
    static ONCE: OnceLock<PathBuf> = OnceLock::new();
    ONCE.get_or_init(|| fixture_script("xfs", "disks", "make-xfs-vhds.sh", "v4.vhd", &["m", "src"])).clone()
}

/// True when the script could write through the kernel's mount (else says why and skips).
fn mounted(dir: &Path) -> bool {
    match std::fs::read_to_string(dir.join("nomount")) {
        Ok(why) => {
            eprintln!("skipped the mounted parts: {why}");
            false
        }
        Err(_) => true,
    }
}

/// The two disks: (VHD, partition arguments, raw image of the file system, its tree file).
fn cases(dir: &Path) -> [(PathBuf, Vec<&'static str>, PathBuf, PathBuf); 2] {
    [
        (dir.join("gpt.vhd"), vec!["-p", "1"], dir.join("v5.img"), dir.join("tree.txt")),
        (dir.join("v4.vhd"), vec![], dir.join("v4.img"), dir.join("tree-v4.txt")),
    ]
}

fn xfs_db(img: &Path, cmds: &[&str]) -> String {
    let mut c = Command::new("xfs_db");
    c.env("TZ", "UTC").arg("-r");
    for k in cmds {
        c.args(["-c", k]);
    }
    String::from_utf8(run_ok(c.arg(img)).stdout).unwrap()
}

/// `ls --json` of `path` (with `extra` options) as (name, inode, deleted, JSON line).
fn ls(vhd: &Path, part: &[&str], path: &str, extra: &[&str]) -> Vec<(String, u64, bool, Value)> {
    let mut args = vec!["ls", "--json"];
    args.extend_from_slice(part);
    args.extend_from_slice(extra);
    args.extend_from_slice(&[vhd.to_str().unwrap(), path]);
    let out = cli(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let name = v["path"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
            (name, v["id"].as_u64().unwrap(), v["deleted"].as_bool().unwrap(), v)
        })
        .collect()
}

#[test]
fn listings_match_xfs_db_in_every_directory_form() {
    let dir = disks();
    let written = mounted(&dir);
    for (vhd, part, img, _) in cases(&dir) {
        let mut dirs = vec!["/", "/short", "/block", "/leaf", "/node"];
        if written && img.ends_with("v5.img") {
            dirs.extend(["/frag", "/gone"]);
        }
        for d in &dirs {
            let ours: BTreeSet<(String, u64)> = ls(&vhd, &part, d, &[]).into_iter().map(|(n, i, _, _)| (n, i)).collect();
            let theirs: BTreeSet<(String, u64)> = xfs_db(&img, &[&format!("ls {d}")])
                .lines()
                .skip(1)
                .filter_map(|l| {
                    let w: Vec<&str> = l.split_whitespace().collect();
                    (w.len() >= 7).then(|| (w[5..w.len() - 1].join(" "), w[1].parse().unwrap()))
                })
                .filter(|(n, _)| n != "." && n != "..")
                .collect();
            assert!(!theirs.is_empty() || *d == "/short", "{d}: xfs_db listed nothing");
            assert_eq!(ours, theirs, "{} {d}", img.display());
        }
        let all = ls(&vhd, &part, "/", &["-r"]);
        assert!(all.len() > 3320, "{} entries", all.len());
    }
    // The directory forms the test means to reach, as xfs_db prints the inodes' formats.
    let v5 = dir.join("v5.img");
    let format = |path: &str| {
        let out = xfs_db(&v5, &[&format!("path {path}"), "print core.format"]);
        out.trim().to_string()
    };
    assert_eq!(format("/short"), "core.format = 1 (local)");
    assert_eq!(format("/block"), "core.format = 2 (extents)");
    assert_eq!(format("/node"), "core.format = 3 (btree)");
    if written {
        assert_eq!(format("/frag/holes.bin"), "core.format = 3 (btree)", "a file with a B+tree extent map");
    }
}

#[test]
fn file_bytes_symlinks_and_times_match_the_sources_and_xfs_db() {
    let dir = disks();
    let long = "target".repeat(60);
    for (vhd, part, img, tree) in cases(&dir) {
        let get = |path: &str| {
            let mut args = vec!["get"];
            args.extend_from_slice(&part);
            args.extend_from_slice(&[vhd.to_str().unwrap(), path]);
            let out = cli(&args);
            assert!(out.status.success(), "{path}: {}", String::from_utf8_lossy(&out.stderr));
            out.stdout
        };
        let text = std::fs::read_to_string(&tree).unwrap();
        for line in text.lines() {
            let (path, sum) = line.split_once(' ').unwrap();
            let got = get(path);
            assert_eq!(format!("{:x}", Sha256::digest(&got)), sum, "{} {path} ({} bytes)", img.display(), got.len());
        }
        assert_eq!(get("/link"), b"hello.txt");
        assert_eq!(get("/longlink"), long.as_bytes(), "a remote symlink");
        if img.ends_with("v5.img") && mounted(&dir) {
            assert_eq!(get("/frag/longlink"), long.as_bytes(), "a remote symlink with its v5 header");
        }
        // Times: hello.txt's modification time as xfs_db prints it (bigtime on v5, not on v4).
        let ino = ls(&vhd, &part, "/", &[]).into_iter().find(|e| e.0 == "hello.txt").unwrap();
        let printed = xfs_db(&img, &[&format!("inode {}", ino.1), "print core.mtime.sec"]);
        let when = printed.trim().trim_start_matches("core.mtime.sec = ");
        let secs = String::from_utf8(run_ok(Command::new("date").env("TZ", "UTC").args(["-u", "-d", when, "+%Y-%m-%dT%H:%M:%SZ"])).stdout)
            .unwrap();
        assert_eq!(ino.3["modified"].as_str(), Some(secs.trim()), "{}", img.display());
    }
    let v5 = xfs_db(&dir.join("v5.img"), &["version"]);
    assert!(v5.contains("CRC") && v5.contains("BIGTIME"), "{v5}");
}

#[test]
fn deleted_names_are_found_in_the_free_space_of_directory_blocks() {
    let dir = disks();
    if !mounted(&dir) {
        return;
    }
    let vhd = dir.join("gpt.vhd");
    let live = ls(&vhd, &["-p", "1"], "/gone", &[]);
    let all = ls(&vhd, &["-p", "1"], "/gone", &["--deleted"]);
    let deleted: BTreeSet<&str> = all.iter().filter(|e| e.2).map(|e| e.0.as_str()).collect();
    assert_eq!(deleted, BTreeSet::from(["removed-file-2.txt", "removed-file-4.txt", "big-removed.bin"]));
    assert_eq!(live.len(), 38);
    assert!(live.iter().all(|e| !e.2));
    for e in all.iter().filter(|e| e.2) {
        assert_eq!(e.3["type"], "file", "{:?}", e.3);
    }
}

fn open_vhd(path: &Path) -> (Vec<u8>, vhd_viewer::Disk) {
    let bytes = std::fs::read(path).unwrap();
    let disk = vhd_viewer::Disk::new(vec![open_layer(&bytes).unwrap()], false).unwrap();
    (bytes, disk)
}

#[test]
fn free_space_matches_xfs_db_and_a_dirty_log_keeps_the_volume_whole() {
    let dir = disks();
    for (vhd, _, img, _) in cases(&dir) {
        let (bytes, disk) = open_vhd(&vhd);
        let sources = [&bytes as &dyn ReadAt];
        let mut free = FreeSpace::new(&disk, &sources).unwrap();
        let v = free.volumes().iter().find(|v| v.filesystem.as_deref() == Some("xfs")).unwrap().clone();
        assert!(v.trimmed, "{v:?}");
        // The free-space B+trees' blocks (each AGF's freeblks; xfs_db's freesp counts the AGFL's
        // reserved blocks too, which are kept).
        let agcount: u64 = xfs_db(&img, &["sb 0", "print agcount"]).trim().trim_start_matches("agcount = ").parse().unwrap();
        let blocks: u64 = (0..agcount)
            .map(|a| {
                xfs_db(&img, &[&format!("agf {a}"), "print freeblks"]).trim().trim_start_matches("freeblks = ").parse::<u64>().unwrap()
            })
            .sum();
        assert_eq!(v.free_bytes, blocks * 4096, "{}", img.display());
        let mut ranges = Vec::new();
        free.free_in(&disk, &sources, 0, disk.size(), &mut ranges).unwrap();
        let sum: u64 = ranges.iter().map(|r| r.1 - r.0).sum();
        assert_eq!(sum, v.free_bytes);
        // No free range meets a file's data.
        let mut reader = DiskReader::new(&disk, vec![&bytes as &dyn ReadAt]).unwrap();
        let mut vol = Volume::new(&mut reader, v.start, v.len);
        let mut fs = FileSystem::open(&mut vol).unwrap().unwrap();
        let e = fs.lookup(&mut vol, "/big.bin", false).unwrap();
        for r in fs.data(&mut vol, &e, None).unwrap().runs() {
            let at = v.start + r.volume_offset.unwrap();
            assert!(ranges.iter().all(|f| f.1 <= at || f.0 >= at + r.len), "big.bin's data at {at} is called free");
        }
    }
    if mounted(&dir) {
        let (bytes, disk) = open_vhd(&dir.join("dirty.vhd"));
        let free = FreeSpace::new(&disk, &[&bytes as &dyn ReadAt]).unwrap();
        let v = &free.volumes()[0];
        assert!(!v.trimmed && v.free_bytes == 0, "{v:?}");
        assert!(v.reason.as_deref().unwrap().contains("log was not closed cleanly"), "{v:?}");
    }
}

#[test]
fn owners_name_files_headers_and_tree_blocks() {
    let dir = disks();
    let (bytes, disk) = open_vhd(&dir.join("gpt.vhd"));
    let mut reader = DiskReader::new(&disk, vec![&bytes as &dyn ReadAt]).unwrap();
    let table = vhd_viewer::parts::read(&mut reader).unwrap();
    let p = table.partitions.iter().find(|p| p.filesystem == Some(vhd_viewer::fs::FsKind::Xfs)).unwrap().clone();
    let mut vol = Volume::new(&mut reader, p.offset(), p.len());
    let mut fs = FileSystem::open(&mut vol).unwrap().unwrap();
    assert_eq!(fs.label(&mut vol).as_deref(), Some("XFS-v5"));
    let uuid = xfs_db(&dir.join("v5.img"), &["uuid"]);
    assert_eq!(uuid.trim(), format!("UUID = {}", fs.uuid(&mut vol).unwrap()));
    assert_eq!(fs.owner(&mut vol, 10).unwrap().what, "superblock");
    let ag_blocks: u64 = xfs_db(&dir.join("v5.img"), &["sb 0", "print agblocks"]).trim().trim_start_matches("agblocks = ").parse().unwrap();
    assert_eq!(fs.owner(&mut vol, ag_blocks * 4096 + 600).unwrap().what, "AGF (free space header) of AG 1");
    let path = if mounted(&dir) { "/frag/holes.bin" } else { "/big.bin" };
    let e = fs.lookup(&mut vol, path, false).unwrap();
    assert_eq!(e.kind, EntryKind::File);
    let runs = fs.data(&mut vol, &e, None).unwrap().runs().to_vec();
    let r = runs.iter().rev().find(|r| r.volume_offset.is_some()).unwrap();
    let o = fs.owner(&mut vol, r.volume_offset.unwrap() + 5).unwrap();
    assert_eq!((o.what.as_str(), o.file_offset), (path, Some(r.file_offset + 5)));
    // The node directory's extent map B+tree block, by its magic.
    let node = fs.lookup(&mut vol, "/node", false).unwrap();
    let FileSystem::Xfs(x) = &mut fs else { panic!("not XFS") };
    let blocks = x.map_blocks(&mut vol, &[node.id]);
    assert!(!blocks.is_empty());
    assert!(fs.owner(&mut vol, blocks[0].0).unwrap().what.starts_with("extent map B+tree block of inode"));
}

#[test]
fn a_damaged_superblock_is_refused_naming_its_offset() {
    let dir = disks();
    let mut img = std::fs::read(dir.join("v5.img")).unwrap();
    img.truncate(64 << 20);
    img[0x90] ^= 1; // fdblocks: the CRC no longer matches
    let mut vol = Volume::whole(img);
    let err = FileSystem::open(&mut vol).err().expect("a damaged superblock opened").to_string();
    assert!(err.contains("CRC-32C") && err.contains("byte 0x0"), "{err}");
}

#[test]
fn diff_names_what_the_kernel_mount_changed() {
    let dir = disks();
    if !mounted(&dir) {
        return;
    }
    let out = cli(&["diff", "--json", dir.join("child.vhd").to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = &v["partitions"][0];
    assert_eq!(p["filesystem"], "xfs");
    let paths = |change: &str| -> BTreeSet<String> {
        p["changes"].as_array().unwrap().iter().filter(|c| c["kind"] == change).map(|c| c["path"].as_str().unwrap().to_string()).collect()
    };
    let added = paths("added");
    for f in ["/frag/holes.bin", "/frag/prealloc.bin", "/frag/longlink", "/gone/removed-file-1.txt", "/gone/removed-file-40.txt"] {
        assert!(added.contains(f), "{f} not added: {added:?}");
    }
    assert_eq!(added.len(), 43, "{added:?}");
    let transient = paths("transient");
    assert_eq!(transient, ["/gone/big-removed.bin", "/gone/removed-file-2.txt", "/gone/removed-file-4.txt"].map(String::from).into());
    assert!(paths("deleted").is_empty() && paths("modified").is_empty(), "{p}");
}

#[test]
fn a_hostile_extent_map_pointer_is_refused_naming_the_offset() {
    let dir = disks();
    let work = std::env::temp_dir().join(format!("xfs-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let img = work.join("h.img");
    run_ok(Command::new("cp").arg("--sparse=always").arg(dir.join("v4.img")).arg(&img));
    let node: u64 = xfs_db(&img, &["path /node", "print core.nextents"]).trim().trim_start_matches("core.nextents = ").parse().unwrap();
    assert!(node > 1, "/node's map has {node} extents: the test needs a B+tree");
    let wrap = vhd_from_raw();
    // The map's root points at block 64 (0x40000: not a BMAP block), then past
    // the file system's end.
    for (ptr, want) in [("64", "at byte 0x40000: XFS: inode"), ("9999999999", "outside the file system")] {
        run_ok(Command::new("xfs_db").args(["-x", "-c", "path /node", "-c", &format!("write u.bmbt.ptrs[1] {ptr}")]).arg(&img));
        run_ok(Command::new(&wrap).arg("dynamic").arg(&img).arg(work.join("h.vhd")));
        let out = cli(&["ls", work.join("h.vhd").to_str().unwrap(), "/node"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(want) && !err.contains("panicked"), "{ptr}: {err}");
    }
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn the_vhdx_lists_reads_and_compacts_with_its_free_space_given_back() {
    let dir = disks();
    let (vhd, vhdx) = (dir.join("gpt.vhd"), dir.join("gpt.vhdx"));
    let ls = |f: &Path| vv(&["ls", "-r", "--deleted", "--json", "--partition", "1", p(f)], 0);
    let listing = ls(&vhd);
    assert_eq!(listing, ls(&vhdx), "the VHDX lists as the VHD");
    let out = scratch("xfs-trim");
    std::fs::create_dir_all(&out).unwrap();
    let trimmed = out.join("trimmed.vhdx");
    let report = vv(&["compact", "--trim", p(&vhdx), p(&trimmed)], 0);
    assert!(!report.contains("kept as it is"), "{report}");
    // Deleted entries' names may stay; a live file's listing line does not change.
    let live = |l: &str| l.lines().filter(|l| l.contains("\"deleted\":false")).map(String::from).collect::<Vec<_>>();
    assert_eq!(live(&ls(&trimmed)), live(&listing));
    let text = std::fs::read_to_string(dir.join("tree.txt")).unwrap();
    for f in [&vhdx, &trimmed] {
        for line in text.lines() {
            let (path, sum) = line.split_once(' ').unwrap();
            let got = run_ok(Command::new(bin()).args(["get", "--partition", "1", p(f), path]));
            assert_eq!(sha256(&got.stdout), sum, "{} {path}", f.display());
        }
    }
    let (before, after) = (vhdx_allocated_blocks(&vhdx), vhdx_allocated_blocks(&trimmed));
    // The mount deleted 3 MB (big-removed.bin): at least two whole 1 MiB blocks come back.
    let want = if mounted(&dir) { 2 } else { 0 };
    assert!(after + want <= before, "{before} blocks allocated before, {after} after");
}
