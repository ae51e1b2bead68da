//! Files on the virtual disk, compared with sleuthkit. Every image is made by the real tools
//! (sfdisk/sgdisk, mkfs.vfat + mtools, mkntfs + ntfs-3g, mkfs.ext4/ext2 -d + debugfs), wrapped
//! into VHDs by the project's writer (and by `qemu-img convert -O vpc`), and read back with
//! `vhd-viewer parts/ls/get/owner`; sleuthkit's `mmls`, `fls -r -p -l`, `icat`, `ifind -d` and
//! `ffind` read the raw image. Listings (paths, types, sizes) and every file's sha256 must agree,
//! through a differencing chain too, as of either layer.

mod common;
use common::*;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use vhd_viewer::values::Uuid;
use vhd_viewer::vhd::writer::DiskBuilder;

const MIB: u64 = 1 << 20;

/// Shell functions the image scripts share.
const LIB: &str = r#"
set -euo pipefail
export LC_ALL=C.UTF-8 MTOOLS_SKIP_CHECK=1 TZ=UTC
rnd() { head -c "$1" /dev/urandom; }
# FAT content through mtools: $1 is the image spec (file or file@@offset).
fat_fill() {
  local i="$1"
  printf 'hello\n' > hello.txt
  mmd -i "$i" ::/Deep ::/Deep/a ::/Deep/a/b ::/Deep/a/b/c ::/Deep/a/b/c/d ::/Deep/a/b/c/d/e ::/Deep/a/b/c/d/e/f ::/Deep/a/b/c/d/e/f/g ::/Many
  mcopy -i "$i" hello.txt "::/Deep/a/b/c/d/e/f/g/bottom file.txt"
  mcopy -i "$i" hello.txt "::/Ünïcødé ✓ name.txt"
  : > empty; mcopy -i "$i" empty ::/EMPTY.DAT
  rnd 3000 > a; rnd 5000 > b; rnd 3000 > c; rnd 20000 > big
  mcopy -i "$i" a ::/a.bin; mcopy -i "$i" b ::/b.bin; mcopy -i "$i" c ::/c.bin; mdel -i "$i" ::/b.bin
  mcopy -i "$i" big "::/A fragmented file with a long name.bin"
  mcopy -i "$i" hello.txt "::/Deleted long name.txt"; mdel -i "$i" "::/Deleted long name.txt"
  mcopy -i "$i" hello.txt ::/GONE.TXT; mdel -i "$i" ::/GONE.TXT
  mkdir -p many; for k in $(seq 1 30); do printf 'file %s\n' "$k" > "many/Many file number $k.txt"; done
  mcopy -i "$i" many/* ::/Many/
}
# NTFS content: through ntfs-3g (FUSE), else ntfscp into the root.
ntfs_fill() {
  local img="$1" n="$2"
  mkdir -p m
  if [ -e /dev/fuse ] && ntfs-3g -o streams_interface=windows "$img" m 2>/dev/null; then
    mkdir -p m/Deep/a/b/c/d/e/f/g m/Many
    echo bottom > "m/Deep/a/b/c/d/e/f/g/bottom file.txt"
    echo uni > "m/Ünïcødé ✓ name.txt"; : > m/empty
    rnd 300000 > m/big.bin
    for k in $(seq 1 12); do rnd 40000 > "m/piece$k"; done
    for k in 2 4 6 8 10 12; do rm "m/piece$k"; done
    rnd 400000 > m/fragmented.bin
    echo visible > "m/with stream.txt"; echo hidden data > "m/with stream.txt:secret"
    ln m/big.bin "m/Deep/hard link to big.bin"
    truncate -s 3M m/sparse.bin; echo tail >> m/sparse.bin
    echo gone > m/deleted.txt; rm m/deleted.txt
    for k in $(seq 1 "$n"); do echo "$k" > "m/Many/f$k.txt"; done
    sync; umount m
  else
    echo uni > u.txt; rnd 300000 > big.bin; : > empty
    ntfscp -q -f "$img" u.txt "/Ünïcødé ✓ name.txt"; ntfscp -q -f "$img" big.bin /big.bin; ntfscp -q -f "$img" empty /empty
  fi
}
# A directory tree for mkfs.ext* -d.
ext_tree() {
  local d="$1"
  mkdir -p "$d/Deep/a/b/c/d/e/f/g" "$d/Many"
  echo bottom > "$d/Deep/a/b/c/d/e/f/g/bottom file.txt"
  echo uni > "$d/Ünïcødé ✓ name.txt"; : > "$d/empty"
  rnd 300000 > "$d/big.bin"; rnd 70000 > "$d/medium.bin"
  ln -s big.bin "$d/short link"
  ln -s "Deep/a/b/c/d/e/f/g/a target name long enough not to fit in the inode itself.txt" "$d/long link"
  ln "$d/big.bin" "$d/Deep/hard link"
  echo gone > "$d/gone.txt"
  for k in $(seq 1 30); do echo "$k" > "$d/Many/f$k.txt"; done
}
"#;

/// MBR: FAT12 at sector 63, FAT16 at 2048, an extended partition with FAT32 (logical 5) and
/// NTFS (logical 6).
const MBR: &str = r#"
truncate -s 128M disk.raw
printf 'label: dos\nstart=63, size=1985, type=1\nstart=2048, size=40960, type=6\nstart=43008, size=219136, type=5\nstart=45056, size=131072, type=c\nstart=178176, size=81920, type=7\n' | sfdisk -q disk.raw
truncate -s $((1985*512)) p1.img; mkfs.vfat -F 12 -s 1 -n FAT12VOL -h 63 p1.img >/dev/null; fat_fill p1.img
truncate -s $((40960*512)) p2.img; mkfs.vfat -F 16 -s 2 -n FAT16VOL -h 2048 p2.img >/dev/null; fat_fill p2.img
truncate -s $((131072*512)) p5.img; mkfs.vfat -F 32 -s 1 -n FAT32VOL -h 45056 p5.img >/dev/null; fat_fill p5.img
truncate -s $((81920*512)) p6.img; mkntfs -q -F -s 512 -c 4096 -p 178176 -H 255 -S 63 -L NTFSVOL p6.img >/dev/null 2>&1; ntfs_fill p6.img 40
dd if=p1.img of=disk.raw bs=512 seek=63 conv=notrunc status=none
dd if=p2.img of=disk.raw bs=512 seek=2048 conv=notrunc status=none
dd if=p5.img of=disk.raw bs=512 seek=45056 conv=notrunc status=none
dd if=p6.img of=disk.raw bs=512 seek=178176 conv=notrunc status=none
"#;

/// GPT: NTFS (with enough files that its MFT is megabytes), ext4, ext2 with 1 KiB blocks.
const GPT: &str = r#"
truncate -s 128M disk.raw
sgdisk -n 1:2048:+60M -t 1:0700 -c 1:"Basic data" -n 2:0:+40M -t 2:8300 -c 2:"linux" -n 3:0:+12M -t 3:8300 disk.raw >/dev/null
s1=$(sgdisk -i 1 disk.raw | awk '/First sector/ {print $3}'); s2=$(sgdisk -i 2 disk.raw | awk '/First sector/ {print $3}'); s3=$(sgdisk -i 3 disk.raw | awk '/First sector/ {print $3}')
truncate -s 60M p1.img; mkntfs -q -F -c 4096 -p "$s1" -L GPTNTFS p1.img >/dev/null 2>&1; ntfs_fill p1.img 3000
ext_tree e4; mkfs.ext4 -q -F -L EXT4VOL -d e4 p2.img 40M; debugfs -w -R "rm /gone.txt" p2.img >/dev/null 2>&1
ext_tree e2; mkfs.ext2 -q -F -b 1024 -L EXT2VOL -d e2 p3.img 12M
dd if=p1.img of=disk.raw bs=512 seek="$s1" conv=notrunc status=none
dd if=p2.img of=disk.raw bs=512 seek="$s2" conv=notrunc status=none
dd if=p3.img of=disk.raw bs=512 seek="$s3" conv=notrunc status=none
"#;

/// No table: FAT16 from sector 0.
const NONE: &str = r#"
truncate -s 24M disk.raw; mkfs.vfat -F 16 -n WHOLEDISK disk.raw >/dev/null; fat_fill disk.raw
"#;

/// The child of MBR: on the FAT16 partition a file rewritten, one added, one deleted, a directory added.
const CHILD: &str = r#"
cp base.raw disk.raw
i=disk.raw@@$((2048*512))
rnd 4000 > new; mcopy -o -i "$i" new ::/a.bin
printf 'made in the child\n' > added.txt; mcopy -i "$i" added.txt "::/Added in child.txt"
mdel -i "$i" ::/c.bin
mmd -i "$i" ::/ChildDir; mcopy -i "$i" added.txt ::/ChildDir/inside.txt
"#;

/// MBR with NTFS at sector 63 whose files keep attributes in extension records, reached
/// through `$ATTRIBUTE_LIST` (ntfs-3g moves them there when the base record is full): a file
/// with 200 named streams (and a big non-resident one), a sparse file of 1200 pieces whose run
/// list fills several extension records, and a file written in two passes (even clusters, then
/// odd ones) whose 2400 runs do too. Without FUSE, no `fuse` file (the test then skips).
const ADS: &str = r#"
truncate -s 48M disk.raw
printf 'label: dos\nstart=63, size=90000, type=7\n' | sfdisk -q disk.raw
truncate -s $((90000*512)) p1.img; mkntfs -q -F -s 512 -c 4096 -p 63 -H 255 -S 63 -L ADSVOL p1.img >/dev/null 2>&1
mkdir -p m
if [ -e /dev/fuse ] && ntfs-3g -o streams_interface=windows p1.img m </dev/null >/dev/null 2>&1; then
  echo main data > "m/many streams.txt"
  for k in $(seq 1 200); do printf 'stream %s %0300d\n' "$k" "$k" > "m/many streams.txt:s$k"; done
  rnd 300000 > "m/many streams.txt:big"
  echo small > m/plain.txt
  python3 - <<'PY'
import os
fd = os.open('m/holes.bin', os.O_WRONLY | os.O_CREAT)
os.ftruncate(fd, 1200 * 8192)
for k in range(1200):
    os.pwrite(fd, os.urandom(4096), k * 8192)
os.close(fd)
fd = os.open('m/frag.bin', os.O_WRONLY | os.O_CREAT)
for k in list(range(0, 2400, 2)) + list(range(1, 2400, 2)):
    os.pwrite(fd, os.urandom(4096), k * 4096)
os.close(fd)
PY
  sync; umount m
  touch fuse
fi
dd if=p1.img of=disk.raw bs=512 seek=63 conv=notrunc status=none
rm -f p1.img
"#;

/// Runs `script` (after [`LIB`]) in a fresh folder, once per content of the script: the folder
/// `tests/work/files/<name>-<hash>/`, which holds `disk.raw` when done.
fn image(name: &str, script: &str, inputs: &[(&str, &Path)]) -> PathBuf {
    script_image("files", name, &format!("{LIB}{script}"), inputs, "disk.raw", &["m", "many", "e4", "e2"])
}

/// What `fls -r -p -l` lists: path -> (type char, size, inode); deleted entries and sleuthkit's
/// virtual ones ($OrphanFiles, $MBR, $FAT1, the volume label) left out. NTFS streams
/// (`name:stream`) are folded into their file.
fn fls(raw: &Path, start: u64, deleted: bool) -> BTreeMap<String, (char, Option<u64>, String)> {
    let mut cmd = Command::new("fls");
    cmd.args(["-r", "-p", "-l", "-o", &start.to_string()]);
    if deleted {
        cmd.arg("-d");
    }
    let o = run_ok(cmd.arg(raw));
    let mut out = BTreeMap::new();
    for line in stdout(&o).lines() {
        let Some((head, rest)) = line.split_once(":\t") else { continue };
        let cols: Vec<&str> = rest.split('\t').collect();
        let path = cols[0];
        let is_deleted = head.contains(" * ");
        if is_deleted != deleted
            || head.starts_with("v/v")
            || head.starts_with("V/V")
            || path.starts_with("$OrphanFiles")
            || path.ends_with("(Volume Label Entry)")
        {
            continue;
        }
        let ty = head.chars().nth(2).unwrap_or('?');
        let inode = head.rsplit(' ').next().unwrap_or("").to_string();
        let size = cols.get(5).and_then(|s| s.parse().ok());
        // A stream: `file:stream` (test names hold no colon).
        let (p, stream) = match path.rsplit_once(':') {
            Some((f, _)) if !f.is_empty() => (f, true),
            _ => (path, false),
        };
        let key = format!("/{p}");
        if stream {
            out.entry(key).or_insert((ty, None, inode.split('-').next().unwrap_or("").to_string()));
        } else {
            out.insert(key, (ty, size, inode));
        }
    }
    out
}

fn ours(vhd: &Path, extra: &[&str], part: u32, deleted: bool) -> BTreeMap<String, (char, u64, u64)> {
    let mut args = vec!["ls", vhd.to_str().unwrap(), "/", "-r", "--json", "--partition"];
    let p = part.to_string();
    args.push(&p);
    if deleted {
        args.push("--deleted");
    }
    args.extend_from_slice(extra);
    let o = cli(&args);
    assert!(o.status.success(), "vhd-viewer {args:?}: {}", stderr(&o));
    let mut out = BTreeMap::new();
    for line in stdout(&o).lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        for k in ["partition", "path", "type", "size", "modified", "deleted"] {
            assert!(v.get(k).is_some(), "ls --json line lacks {k}: {line}");
        }
        if v["deleted"].as_bool() != Some(deleted) {
            continue;
        }
        let ty = match v["type"].as_str().unwrap() {
            "file" => 'r',
            "dir" => 'd',
            "symlink" => 'l',
            _ => '?',
        };
        out.insert(v["path"].as_str().unwrap().to_string(), (ty, v["size"].as_u64().unwrap(), v["id"].as_u64().unwrap_or(0)));
    }
    out
}

/// Compares one partition's listing and every file's bytes with sleuthkit.
fn compare_partition(vhd: &Path, extra: &[&str], raw: &Path, part: u32, start: u64) -> usize {
    let theirs = fls(raw, start, false);
    let mine = ours(vhd, extra, part, false);
    let tp: Vec<&String> = theirs.keys().collect();
    let mp: Vec<&String> = mine.keys().collect();
    assert_eq!(mp, tp, "{}: partition {part}: paths differ from fls", vhd.display());
    let p = part.to_string();
    let mut files = 0;
    for (path, (ty, size, inode)) in &theirs {
        let (my_ty, my_size, _) = mine[path];
        assert_eq!(my_ty, *ty, "{path}: type");
        // Only a stream of it listed (an NTFS file with no unnamed $DATA): nothing to read.
        let Some(size) = size else { continue };
        // sleuthkit 4.11's icat reads an ext fast symlink (its target inside the inode) as
        // zeros: the links' targets are checked by the test that made them.
        if *ty != 'r' {
            continue;
        }
        assert_eq!(my_size, *size, "{path}: size");
        // In a directory of thousands of files, a sample is read (each `get` lists the directory).
        if path.starts_with("/Many/") && !path.ends_with("1.txt") {
            continue;
        }
        let icat = run_ok(Command::new("icat").args(["-o", &start.to_string()]).arg(raw).arg(inode.split('-').next().unwrap()));
        let mut args = vec!["get", vhd.to_str().unwrap(), path.as_str(), "--partition", &p];
        args.extend_from_slice(extra);
        let o = cli(&args);
        assert!(o.status.success(), "vhd-viewer {args:?}: {}", stderr(&o));
        assert!(
            o.stdout == icat.stdout,
            "{path} (inode {inode}): {} bytes from us, {} from icat; sha256 {} vs {}",
            o.stdout.len(),
            icat.stdout.len(),
            sha256(&o.stdout),
            sha256(&icat.stdout)
        );
        files += 1;
    }
    files
}

/// `parts --json` parsed.
fn parts_json(vhd: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["parts", "--json", vhd.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = cli(&args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Partitions of `mmls` (start sectors of the non-meta, allocated rows).
fn mmls(raw: &Path) -> Vec<u64> {
    let o = run_ok(Command::new("mmls").arg(raw));
    stdout(&o)
        .lines()
        .filter(|l| {
            l.contains(':')
                && !l.contains("Meta")
                && !l.contains("-------")
                && l.trim_start().chars().next().is_some_and(|c| c.is_ascii_digit())
        })
        .filter_map(|l| l.split_whitespace().nth(2)?.parse().ok())
        .collect()
}

fn write_vhd(dir: &Path, name: &str, b: &DiskBuilder) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, b.build()).unwrap();
    p
}

#[test]
fn mbr_fat12_16_32_and_ntfs_match_sleuthkit() {
    let img = image("mbr", MBR, &[]);
    let raw = img.join("disk.raw");
    let dir = scratch("files-mbr");
    let vhd = write_vhd(&dir, "mbr.vhd", &dynamic_vhd(&std::fs::read(&raw).unwrap(), "files-mbr"));
    let t = parts_json(&vhd, &[]);
    assert_eq!(t["scheme"], "mbr");
    let parts = t["partitions"].as_array().unwrap();
    for p in parts {
        for k in ["index", "start_sector", "sector_count", "type", "name", "filesystem", "label", "cluster_size", "aligned_4k"] {
            assert!(p.get(k).is_some(), "partition lacks {k}: {p}");
        }
    }
    let row = |i: u64| parts.iter().find(|p| p["index"] == i).unwrap_or_else(|| panic!("no partition {i}: {t}"));
    let want = [
        (1, 63, "fat12", "FAT12VOL", false),
        (2, 2048, "fat16", "FAT16VOL", true),
        (5, 45056, "fat32", "FAT32VOL", true),
        (6, 178176, "ntfs", "NTFSVOL", true),
    ];
    for (i, start, fs, label, aligned) in want {
        let p = row(i);
        assert_eq!(p["start_sector"], start, "{p}");
        assert_eq!(p["filesystem"], fs, "{p}");
        assert_eq!(p["label"], label, "{p}");
        assert_eq!(p["aligned_4k"], aligned, "{p}");
    }
    assert_eq!(row(3)["type"], "0x05");
    // The same starts as mmls.
    let mut starts: Vec<u64> = parts.iter().filter(|p| p["type"] != "0x05").map(|p| p["start_sector"].as_u64().unwrap()).collect();
    starts.sort();
    assert_eq!(starts, mmls(&raw));
    for (i, start, ..) in want {
        let n = compare_partition(&vhd, &[], &raw, i as u32, start);
        assert!(n > 5, "partition {i}: only {n} files compared");
    }
    // Deleted entries on FAT: the same names as fls -d (the long name recovered).
    for (i, start) in [(1u32, 63u64), (2, 2048), (5, 45056)] {
        let theirs: Vec<String> = fls(&raw, start, true).into_keys().collect();
        let mine: Vec<String> = ours(&vhd, &[], i, true).into_keys().collect();
        assert_eq!(mine, theirs, "partition {i}: deleted entries");
        assert!(mine.iter().any(|p| p == "/Deleted long name.txt"), "{mine:?}");
    }
}

#[test]
fn gpt_ntfs_ext4_ext2_match_sleuthkit_also_through_qemu_img() {
    let img = image("gpt", GPT, &[]);
    let raw = img.join("disk.raw");
    let dir = scratch("files-gpt");
    let vhd = dir.join("gpt-qemu.vhd");
    run_ok(
        Command::new("qemu-img").args(["convert", "-f", "raw", "-O", "vpc", "-o", "subformat=dynamic,force_size=on"]).arg(&raw).arg(&vhd),
    );
    let t = parts_json(&vhd, &[]);
    assert_eq!(t["scheme"], "gpt");
    let findings = t["findings"].as_array().unwrap();
    assert!(findings.iter().all(|f| f["severity"] != "error"), "{findings:?}");
    let parts = t["partitions"].as_array().unwrap();
    let fs: Vec<&str> = parts.iter().map(|p| p["filesystem"].as_str().unwrap_or("-")).collect();
    assert_eq!(fs, ["ntfs", "ext4", "ext2"]);
    assert_eq!(parts[0]["name"], "Basic data");
    assert_eq!(parts[1]["label"], "EXT4VOL");
    assert_eq!(parts[2]["cluster_size"], 1024);
    let mut starts: Vec<u64> = parts.iter().map(|p| p["start_sector"].as_u64().unwrap()).collect();
    starts.sort();
    assert_eq!(starts, mmls(&raw));
    for p in parts {
        let (i, start) = (p["index"].as_u64().unwrap() as u32, p["start_sector"].as_u64().unwrap());
        let n = compare_partition(&vhd, &[], &raw, i, start);
        assert!(n > 5, "partition {i}: only {n} files compared");
        // Deleted names: NTFS records no longer in use, ext names left in directory slack.
        let theirs: Vec<String> = fls(&raw, start, true).into_keys().collect();
        let mine: Vec<String> = ours(&vhd, &[], i, true).into_keys().collect();
        assert_eq!(mine, theirs, "partition {i}: deleted entries");
    }
    assert!(ours(&vhd, &[], 2, true).contains_key("/gone.txt"), "the name debugfs removed from ext4");
    // Symbolic links read as their targets, kept in the inode or in a block.
    for p in ["2", "3"] {
        let o = cli(&["get", vhd.to_str().unwrap(), "/short link", "--partition", p]);
        assert_eq!(stdout(&o), "big.bin", "{}", stderr(&o));
        let o = cli(&["get", vhd.to_str().unwrap(), "/long link", "--partition", p]);
        assert_eq!(stdout(&o), "Deep/a/b/c/d/e/f/g/a target name long enough not to fit in the inode itself.txt", "{}", stderr(&o));
    }
}

#[test]
fn a_disk_without_a_table_is_one_file_system() {
    let img = image("none", NONE, &[]);
    let raw = img.join("disk.raw");
    let dir = scratch("files-none");
    let vhd = write_vhd(&dir, "none.vhd", &dynamic_vhd(&std::fs::read(&raw).unwrap(), "files-none"));
    let t = parts_json(&vhd, &[]);
    assert_eq!(t["scheme"], "none");
    assert_eq!(t["partitions"][0]["index"], 0);
    assert_eq!(t["partitions"][0]["filesystem"], "fat16");
    assert_eq!(t["partitions"][0]["label"], "WHOLEDISK");
    assert!(compare_partition(&vhd, &[], &raw, 0, 0) > 5);
}

#[test]
fn a_differencing_chain_reads_as_of_either_layer() {
    let base_img = image("mbr", MBR, &[]);
    let base_raw_path = base_img.join("disk.raw");
    let child_img = image("mbr-child", CHILD, &[("base.raw", &base_raw_path)]);
    let child_raw_path = child_img.join("disk.raw");
    let (base_raw, child_raw) = (std::fs::read(&base_raw_path).unwrap(), std::fs::read(&child_raw_path).unwrap());
    let dir = scratch("files-chain");
    let base = dynamic_vhd(&base_raw, "files-chain-base");
    let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 2 * MIB as u32);
    child.unique_id(Uuid(id_for("files-chain-child")));
    // The child holds the 4 KiB pieces that changed, as a hypervisor would write them.
    let mut changed = 0;
    for (k, (a, b)) in base_raw.chunks(4096).zip(child_raw.chunks(4096)).enumerate() {
        if a != b {
            child.write(k as u64 * 4096, b);
            changed += 1;
        }
    }
    assert!(changed > 0 && changed < 200, "{changed} pieces changed");
    write_vhd(&dir, "base.vhd", &base);
    let vhd = write_vhd(&dir, "child.vhd", &child);
    // Layer 0 is the child's disk, layer 1 the parent's.
    let n0 = compare_partition(&vhd, &[], &child_raw_path, 2, 2048);
    let n1 = compare_partition(&vhd, &["--layer", "1"], &base_raw_path, 2, 2048);
    assert!(n0 > 5 && n1 > 5);
    let now = ours(&vhd, &[], 2, false);
    let before = ours(&vhd, &["--layer", "1"], 2, false);
    assert!(now.contains_key("/Added in child.txt") && !before.contains_key("/Added in child.txt"));
    assert!(!now.contains_key("/c.bin") && before.contains_key("/c.bin"));
    // cat and map as of layer 1 are the parent's disk; owner names the layer supplying a sector.
    assert_same_bytes("cat --layer 1", &viewer_cat(&vhd, &["--layer", "1"]), &base_raw);
    assert_same_bytes("cat", &viewer_cat(&vhd, &[]), &child_raw);
    let o = cli(&["map", "--json", "--layer", "1", vhd.to_str().unwrap()]);
    let m: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(m.as_array().unwrap().iter().all(|r| r["kind"] != "data" || r["layer"] == 1), "map --layer 1 numbers layers as the chain does");
    let info = viewer_info(&vhd, &["--layer", "1"]);
    assert_eq!(info["disk_type"], "dynamic", "{info}");
    // The rewritten file: its sector comes from layer 0, and as of layer 1 the old one's does.
    for (extra, want) in [(vec![], 0u64), (vec!["--layer", "1"], 1)] {
        let sector = first_sector_of(&vhd, &extra, "/a.bin").to_string();
        let mut args = vec!["owner", vhd.to_str().unwrap(), "--json"];
        args.extend_from_slice(&extra);
        args.push(&sector);
        let o = cli(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["path"], "/a.bin", "{v}");
        assert_eq!(v["partition"], 2);
        assert_eq!(v["layer"], want, "{v}");
    }
}

/// The first virtual sector of a file, from sleuthkit-independent `owner` search: the file's
/// first cluster found through `istat` on the flattened disk.
fn first_sector_of(vhd: &Path, extra: &[&str], path: &str) -> u64 {
    let dir = vhd.parent().unwrap();
    let raw = dir.join(format!("flat{}.raw", extra.len()));
    let mut args = vec!["cat", vhd.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = cli(&args);
    std::fs::write(&raw, &o.stdout).unwrap();
    let listing = run_ok(Command::new("fls").args(["-r", "-p", "-o", "2048"]).arg(&raw));
    let inode = stdout(&listing)
        .lines()
        .find(|l| l.ends_with(&format!("\t{}", path.trim_start_matches('/'))) && !l.contains(" * "))
        .and_then(|l| l.split_whitespace().nth(1))
        .map(|s| s.trim_end_matches(':').to_string())
        .unwrap_or_else(|| panic!("{path} not in fls"));
    let istat = run_ok(Command::new("istat").args(["-o", "2048"]).arg(&raw).arg(&inode));
    let text = stdout(&istat);
    let after = text.split("Sectors:").nth(1).unwrap_or_else(|| panic!("istat: {text}"));
    let first: u64 = after.split_whitespace().next().unwrap().parse().unwrap();
    2048 + first
}

/// `owner` agrees with `ifind -d` + `ffind` on sectors spread over every partition.
#[test]
fn owner_agrees_with_ifind() {
    let img = image("mbr", MBR, &[]);
    let raw = img.join("disk.raw");
    let gimg = image("gpt", GPT, &[]);
    let graw = gimg.join("disk.raw");
    let dir = scratch("files-owner");
    let vhd = write_vhd(&dir, "mbr.vhd", &dynamic_vhd(&std::fs::read(&raw).unwrap(), "files-owner"));
    let gvhd = write_vhd(&dir, "gpt.vhd", &dynamic_vhd(&std::fs::read(&graw).unwrap(), "files-owner-gpt"));
    let mut checked = 0;
    for (vhd, raw) in [(&vhd, &raw), (&gvhd, &graw)] {
        let t = parts_json(vhd, &[]);
        for p in t["partitions"].as_array().unwrap().iter().filter(|p| !p["filesystem"].is_null()) {
            let (start, count) = (p["start_sector"].as_u64().unwrap(), p["sector_count"].as_u64().unwrap());
            let fs = p["filesystem"].as_str().unwrap();
            // sleuthkit's data units: sectors on FAT, clusters on NTFS, blocks on ext.
            let unit = if fs.starts_with("fat") { 512 } else { p["cluster_size"].as_u64().unwrap() };
            for k in 0..40u64 {
                // Most data lies in the first part of these small volumes.
                let sector = start + count / 4 * k / 40 + k % 7;
                let du = (sector - start) * 512 / unit;
                let o = output(Command::new("ifind").args(["-o", &start.to_string(), "-d", &du.to_string()]).arg(raw));
                let found = stdout(&o).trim().to_string();
                let mine: Value =
                    serde_json::from_slice(&cli(&["owner", "--json", vhd.to_str().unwrap(), &sector.to_string()]).stdout).unwrap();
                let inode = found.split('-').next().unwrap_or("");
                if !o.status.success() || inode.is_empty() || !inode.chars().all(|c| c.is_ascii_digit()) {
                    assert!(
                        mine["kind"] != "file" || mine["deleted"] == true,
                        "sector {sector} ({fs}): ifind finds no file, we say {mine}"
                    );
                    continue;
                }
                let ff = output(Command::new("ffind").args(["-o", &start.to_string()]).arg(raw).arg(inode));
                let names: Vec<String> = stdout(&ff).lines().map(|l| l.trim_start_matches("* ").replace("//", "/")).collect();
                if inode == "0" && fs == "ntfs" {
                    assert_eq!(mine["id"], 0, "sector {sector}: the MFT: {mine}");
                } else if (mine["kind"] == "file" || mine["kind"] == "dir") && !fs.starts_with("fat") {
                    // A hard link: the same inode or record by any of its names.
                    assert_eq!(
                        mine["id"].as_u64().map(|i| i.to_string()).as_deref(),
                        Some(inode),
                        "sector {sector} ({fs}): we say {mine}, ifind {found} ({names:?})"
                    );
                } else if mine["kind"] == "file" || mine["kind"] == "dir" {
                    let path = mine["path"].as_str().unwrap();
                    assert!(
                        names.iter().any(|n| n == path || n.starts_with(&format!("{path}:"))),
                        "sector {sector} ({fs}): we say {path}, ffind {names:?}"
                    );
                } else {
                    assert!(
                        fs.starts_with("ext") || mine["kind"] != "free",
                        "sector {sector} ({fs}): ifind says inode {inode} ({names:?}), we say {mine}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 30, "only {checked} sectors had an owner in sleuthkit");
}

/// Listing the root of an NTFS volume whose MFT is megabytes reads its boot sector and the few
/// records and index blocks it needs, not the MFT.
#[test]
fn listing_an_ntfs_root_does_not_read_the_mft() {
    use vhd_viewer::fs::{FileSystem, Volume};
    use vhd_viewer::reader::{open_layer, Counting, DiskReader, ReadAt};
    let img = image("gpt", GPT, &[]);
    let raw = img.join("disk.raw");
    let dir = scratch("files-count");
    let vhd = write_vhd(&dir, "gpt.vhd", &dynamic_vhd(&std::fs::read(&raw).unwrap(), "files-count"));
    let file = Counting::new(std::fs::File::open(&vhd).unwrap());
    let layer = open_layer(&file).unwrap();
    let disk = vhd_viewer::Disk::new(vec![layer], false).unwrap();
    let mut reader = DiskReader::new(&disk, vec![&file as &dyn ReadAt]).unwrap();
    let table = vhd_viewer::parts::read(&mut reader).unwrap();
    let p = table.partitions.iter().find(|p| p.filesystem == Some(vhd_viewer::fs::FsKind::Ntfs)).unwrap().clone();
    let mut vol = Volume::new(&mut reader, p.offset(), p.len());
    let before = file.bytes();
    let mut fs = FileSystem::open(&mut vol).unwrap().unwrap();
    let root = fs.root();
    let list = fs.list(&mut vol, &root, false).unwrap();
    let read = file.bytes() - before;
    assert!(list.iter().any(|e| e.name == "Many") && list.iter().any(|e| e.name == "$MFT"), "{list:?}");
    let mft = list.iter().find(|e| e.name == "$MFT").unwrap().size;
    assert!(mft > 3 * MIB, "the MFT is only {mft} bytes: the test needs a large one");
    assert!(read < 256 << 10, "listing the root read {read} bytes (the MFT is {mft})");
    // Listing the directory of 3000 files reads its index and those records: about the MFT's
    // size, not the whole volume.
    let many = list.iter().find(|e| e.name == "Many").unwrap().clone();
    let before = file.bytes();
    let files = fs.list(&mut vol, &many, false).unwrap();
    assert_eq!(files.len(), 3000);
    let read = file.bytes() - before;
    assert!(read < mft + (2 * MIB), "listing 3000 files read {read} bytes");
}

#[test]
fn an_ntfs_path_is_looked_up_through_the_index_b_tree() {
    use vhd_viewer::fs::{FileSystem, Volume};
    use vhd_viewer::reader::{open_layer, Counting, DiskReader, ReadAt};
    let img = image("gpt", GPT, &[]);
    let raw = img.join("disk.raw");
    let dir = scratch("files-btree");
    let vhd = write_vhd(&dir, "gpt.vhd", &dynamic_vhd(&std::fs::read(&raw).unwrap(), "files-btree"));
    let file = Counting::new(std::fs::File::open(&vhd).unwrap());
    let layer = open_layer(&file).unwrap();
    let disk = vhd_viewer::Disk::new(vec![layer], false).unwrap();
    let mut reader = DiskReader::new(&disk, vec![&file as &dyn ReadAt]).unwrap();
    let table = vhd_viewer::parts::read(&mut reader).unwrap();
    let p = table.partitions.iter().find(|p| p.filesystem == Some(vhd_viewer::fs::FsKind::Ntfs)).unwrap().clone();
    let mut vol = Volume::new(&mut reader, p.offset(), p.len());
    let mut fs = FileSystem::open(&mut vol).unwrap().unwrap();
    // The first lookup also reads $UpCase (128 KiB), once.
    fs.lookup(&mut vol, "/Deep", false).unwrap();
    // In a directory of 3000 files, whose records alone are about 3 MiB: a few index blocks.
    let mut found = Vec::new();
    for (k, name) in ["f2999.txt", "f1.txt", "f1500.txt", "f3000.txt"].into_iter().enumerate() {
        let before = file.bytes();
        let e = fs.lookup(&mut vol, &format!("/Many/{name}"), false).unwrap();
        let read = file.bytes() - before;
        assert_eq!(e.path, format!("/Many/{name}"));
        assert_eq!(e.size, name.trim_start_matches('f').trim_end_matches(".txt").len() as u64 + 1);
        let limit = if k == 0 { 256 << 10 } else { 64 << 10 };
        assert!(read < limit, "looking up /Many/{name} read {read} bytes");
        found.push(e);
    }
    // The same entries as the directory's listing gives.
    let many = fs.lookup(&mut vol, "/Many", false).unwrap();
    let listed = fs.list(&mut vol, &many, false).unwrap();
    for e in &found {
        assert_eq!(listed.iter().find(|x| x.name == e.name), Some(e));
    }
    // A name in another case, and one that is not there, are still answered (by the listing).
    assert_eq!(fs.lookup(&mut vol, "/MANY/F7.TXT", false).unwrap().path, "/Many/f7.txt");
    assert!(fs.lookup(&mut vol, "/Many/nothing.txt", false).is_err());
}

/// The Windows 10 sample: GPT with FAT32, NTFS and FAT16 volumes made by Windows.
#[test]
fn windows_10_sample_matches_sleuthkit() {
    let vhd = sample("win10-dynamic-2G.vhd");
    let dir = scratch("files-win10");
    let raw = dir.join("win10.raw");
    std::fs::write(&raw, viewer_cat(&vhd, &[])).unwrap();
    let t = parts_json(&vhd, &[]);
    assert_eq!(t["scheme"], "gpt");
    let parts = t["partitions"].as_array().unwrap();
    let fs: Vec<&str> = parts.iter().map(|p| p["filesystem"].as_str().unwrap_or("-")).collect();
    assert_eq!(fs, ["-", "fat32", "ntfs", "fat16"]);
    let labels: Vec<&str> = parts.iter().map(|p| p["label"].as_str().unwrap_or("-")).collect();
    assert_eq!(labels, ["-", "32BIT FAT", "Win10 NTFS", "16BIT FAT"]);
    assert_eq!(parts[0]["name"], "Microsoft reserved partition");
    assert!(t["findings"].as_array().unwrap().iter().all(|f| f["severity"] != "error"), "{t}");
    let mut starts: Vec<u64> = parts.iter().map(|p| p["start_sector"].as_u64().unwrap()).collect();
    starts.sort();
    assert_eq!(starts, mmls(&raw));
    for p in &parts[1..] {
        let (i, start) = (p["index"].as_u64().unwrap() as u32, p["start_sector"].as_u64().unwrap());
        let n = compare_partition(&vhd, &[], &raw, i, start);
        assert!(n >= 3, "partition {i}: {n} files");
    }
    let o = cli(&["get", vhd.to_str().unwrap(), "/README.txt", "--partition", "3"]);
    assert!(stdout(&o).len() > 100, "{}", stderr(&o));
    // Without --partition the path is ambiguous.
    let o = cli(&["get", vhd.to_str().unwrap(), "/README.txt"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--partition"), "{}", stderr(&o));
}

/// NTFS attributes in extension records (through `$ATTRIBUTE_LIST`): every named stream of a
/// file with 200 listed, sized and read as sleuthkit does, wherever ntfs-3g put it; files whose
/// run lists span several extension records read whole, and a cluster of their last extent
/// owned by them.
#[test]
fn ntfs_streams_and_runs_in_extension_records_match_sleuthkit() {
    let img = image("ads", ADS, &[]);
    if !img.join("fuse").is_file() {
        eprintln!("skipped: the NTFS volume could not be mounted with ntfs-3g (no FUSE), so it has no extension records");
        return;
    }
    let raw = img.join("disk.raw");
    let dir = scratch("files-ads");
    let vhd = write_vhd(&dir, "ads.vhd", &dynamic_vhd(&std::fs::read(&raw).unwrap(), "files-ads"));
    let v = vhd.to_str().unwrap();
    // The files really keep attributes in other records: their $ATTRIBUTE_LIST names records
    // other than their own.
    let fls_out = stdout(&run_ok(Command::new("fls").args(["-r", "-p", "-l", "-o", "63"]).arg(&raw)));
    let id_of = |path: &str| -> String {
        fls_out
            .lines()
            .find_map(|l| {
                let (head, rest) = l.split_once(":\t")?;
                (rest.split('\t').next() == Some(path)).then(|| head.rsplit(' ').next().unwrap().to_string())
            })
            .unwrap_or_else(|| panic!("{path} not in fls"))
    };
    for f in ["many streams.txt", "holes.bin", "frag.bin"] {
        let inode = id_of(f);
        let record = inode.split('-').next().unwrap().to_string();
        let istat = stdout(&run_ok(Command::new("istat").args(["-o", "63"]).arg(&raw).arg(&record)));
        let list = istat.split("$ATTRIBUTE_LIST Attribute Values:").nth(1).unwrap_or_else(|| panic!("{f}: no $ATTRIBUTE_LIST: {istat}"));
        let others = list
            .lines()
            .skip_while(|l| l.trim().is_empty())
            .take_while(|l| l.starts_with("Type:"))
            .filter(|l| l.starts_with("Type: 128-") && !l.contains(&format!("MFT Entry: {record} \t")))
            .count();
        assert!(others >= 3, "{f}: only {others} $DATA pieces in extension records:\n{list}");
    }
    // The streams: fls lists `many streams.txt:NAME` with its size and attribute id.
    let mut theirs = BTreeMap::new();
    for l in fls_out.lines() {
        let Some((head, rest)) = l.split_once(":\t") else { continue };
        let cols: Vec<&str> = rest.split('\t').collect();
        if let Some(name) = cols[0].strip_prefix("many streams.txt:") {
            theirs.insert(name.to_string(), (cols[5].parse::<u64>().unwrap(), head.rsplit(' ').next().unwrap().to_string()));
        }
    }
    assert_eq!(theirs.len(), 201, "fls lists {} streams", theirs.len());
    let o = cli(&["ls", v, "/many streams.txt", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let line: Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    let mine: BTreeMap<String, u64> = line["streams"]
        .as_array()
        .unwrap_or_else(|| panic!("no streams: {line}"))
        .iter()
        .map(|s| (s["name"].as_str().unwrap().to_string(), s["size"].as_u64().unwrap()))
        .collect();
    let want: BTreeMap<String, u64> = theirs.iter().map(|(k, (size, _))| (k.clone(), *size)).collect();
    assert_eq!(mine, want, "the streams and their sizes");
    // The text listing names each as PATH:STREAM.
    let text = stdout(&cli(&["ls", v, "/"]));
    assert_eq!(text.lines().filter(|l| l.contains("/many streams.txt:")).count(), 201, "{text}");
    // Every stream's bytes, and the files whose runs span extension records, equal icat's.
    let mut reads: Vec<(String, String)> = theirs.iter().map(|(k, (_, id))| (format!("/many streams.txt:{k}"), id.clone())).collect();
    for f in ["many streams.txt", "holes.bin", "frag.bin", "plain.txt"] {
        reads.push((format!("/{f}"), id_of(f)));
    }
    for (path, id) in &reads {
        let icat = run_ok(Command::new("icat").args(["-o", "63"]).arg(&raw).arg(id));
        let o = cli(&["get", v, path]);
        assert!(o.status.success(), "get {path}: {}", stderr(&o));
        assert!(o.stdout == icat.stdout, "{path} ({id}): {} bytes from us, {} from icat", o.stdout.len(), icat.stdout.len());
    }
    // The whole listing equals fls's too (streams folded into their files).
    assert!(compare_partition(&vhd, &[], &raw, 1, 63) >= 4);
    // The last cluster of frag.bin is in the run list of its last extension record.
    let record = id_of("frag.bin").split('-').next().unwrap().to_string();
    let istat = stdout(&run_ok(Command::new("istat").args(["-o", "63"]).arg(&raw).arg(&record)));
    let clusters: Vec<u64> = istat
        .split("Type: $DATA")
        .nth(1)
        .unwrap()
        .lines()
        .skip(1)
        .flat_map(|l| l.split_whitespace().map(|w| w.parse::<u64>().unwrap_or(u64::MAX)))
        .take_while(|c| *c != u64::MAX)
        .collect();
    assert_eq!(clusters.len(), 2400, "{istat}");
    let last = *clusters.last().unwrap();
    let sector = 63 + last * 8 + 3;
    let o: Value = serde_json::from_slice(&cli(&["owner", "--json", v, &sector.to_string()]).stdout).unwrap();
    assert_eq!(o["path"], "/frag.bin", "{o}");
    assert_eq!(o["file_offset"], 2399 * 4096 + 3 * 512, "{o}");

    // Hostile: an extension record that says it belongs to another file (its base reference
    // changed to the root's) is not taken as this file's: its stream is not listed, and reading
    // it is refused instead of giving another file's bytes.
    let mut bytes = std::fs::read(&raw).unwrap();
    let mft_istat = stdout(&run_ok(Command::new("istat").args(["-o", "63"]).arg(&raw).arg("0")));
    let mft_clusters: Vec<u64> = mft_istat
        .split("Type: $DATA")
        .nth(1)
        .unwrap()
        .lines()
        .skip(1)
        .flat_map(|l| l.split_whitespace().map(|w| w.parse::<u64>().unwrap_or(u64::MAX)))
        .take_while(|c| *c != u64::MAX)
        .collect();
    let list =
        stdout(&run_ok(Command::new("istat").args(["-o", "63"]).arg(&raw).arg(id_of("many streams.txt").split('-').next().unwrap())));
    let ext: u64 = list
        .lines()
        .filter(|l| l.starts_with("Type: 128-"))
        .filter_map(|l| l.split("MFT Entry: ").nth(1)?.split_whitespace().next()?.parse().ok())
        .filter(|r| *r != 64)
        .nth(100)
        .unwrap();
    let at = (63 * 512 + mft_clusters[(ext / 4) as usize] * 4096 + ext % 4 * 1024) as usize;
    assert_eq!(&bytes[at..at + 4], b"FILE");
    assert_eq!(u64::from_le_bytes(bytes[at + 0x20..at + 0x28].try_into().unwrap()) & 0xFFFF_FFFF_FFFF, 64, "record {ext}'s base");
    bytes[at + 0x20..at + 0x28].copy_from_slice(&5u64.to_le_bytes());
    let bad = write_vhd(&dir, "ads-hostile.vhd", &dynamic_vhd(&bytes, "files-ads-hostile"));
    let b = bad.to_str().unwrap();
    let o = cli(&["ls", b, "/many streams.txt", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let line: Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    let left: Vec<&str> = line["streams"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    let gone: Vec<&String> = mine.keys().filter(|k| !left.contains(&k.as_str())).collect();
    assert_eq!(gone.len(), 1, "{gone:?}");
    let o = cli(&["get", b, &format!("/many streams.txt:{}", gone[0])]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("no $DATA attribute named"), "{}", stderr(&o));
}

/// `owner` on NTFS reads the MFT once, on ext4 walks the tree once: the file system kept open
/// answers the next lookups from its index of runs, reading a few records at most, and answers
/// as a fresh one does.
#[test]
fn a_second_owner_lookup_reads_a_few_records_not_the_mft_nor_the_tree() {
    use vhd_viewer::fs::{FileSystem, Volume};
    use vhd_viewer::reader::{open_layer, Counting, DiskReader, ReadAt};
    let img = image("gpt", GPT, &[]);
    let raw = img.join("disk.raw");
    let dir = scratch("files-owner-index");
    let vhd = write_vhd(&dir, "gpt.vhd", &dynamic_vhd(&std::fs::read(&raw).unwrap(), "files-owner-index"));
    let file = Counting::new(std::fs::File::open(&vhd).unwrap());
    let layer = open_layer(&file).unwrap();
    let disk = vhd_viewer::Disk::new(vec![layer], false).unwrap();
    let mut reader = DiskReader::new(&disk, vec![&file as &dyn ReadAt]).unwrap();
    let table = vhd_viewer::parts::read(&mut reader).unwrap();
    let p = table.partitions.iter().find(|p| p.filesystem == Some(vhd_viewer::fs::FsKind::Ntfs)).unwrap().clone();
    let mut vol = Volume::new(&mut reader, p.offset(), p.len());
    let mut fs = FileSystem::open(&mut vol).unwrap().unwrap();
    let big = fs.lookup(&mut vol, "/big.bin", false).unwrap();
    let mft = fs.lookup(&mut vol, "/$MFT", false).unwrap().size;
    assert!(mft > 3 * MIB, "the MFT is only {mft} bytes: the test needs a large one");
    let runs = fs.data(&mut vol, &big, None).unwrap().runs().to_vec();
    let at = runs[0].volume_offset.unwrap() + 5000;
    let before = file.bytes();
    let first = fs.owner(&mut vol, at).unwrap();
    let first_read = file.bytes() - before;
    assert_eq!((first.what.as_str(), first.file_offset), ("/big.bin", Some(5000)));
    assert!(first_read >= mft / 2, "the first lookup read {first_read} bytes; the MFT is {mft}");
    // Other bytes: of the same file, of the index of a directory of 3000 files, and free space.
    let many = fs.lookup(&mut vol, "/Many", false).unwrap();
    let index_at = fs.data(&mut vol, &many, None).unwrap().runs()[0].volume_offset.unwrap();
    let last = runs.iter().rev().find_map(|r| r.volume_offset.map(|v| v + r.len - 1)).unwrap();
    for (offset, want) in [(at + 4096, "/big.bin"), (index_at + 10, "/Many"), (last, "/big.bin"), (p.len() - 4096 * 40, "")] {
        let before = file.bytes();
        let o = fs.owner(&mut vol, offset).unwrap();
        let read = file.bytes() - before;
        assert!(read < 64 << 10, "a later lookup read {read} bytes (the first {first_read})");
        if !want.is_empty() {
            assert_eq!(o.what, want, "{o:?}");
        }
        // The same answer as a file system opened afresh, which reads the MFT again.
        let o2 = vhd_viewer::parts::owner(vol.source(), &table, p.offset() + offset).unwrap();
        assert_eq!((o2.kind.as_str(), o2.what.as_str(), o2.file_offset, o2.deleted), (o.kind, o.what.as_str(), o.file_offset, o.deleted));
    }
    drop(vol);
    // ext4: the first lookup that reaches the files walks the tree (every directory's blocks and
    // every inode); the next ones look the index up.
    let p = table.partitions.iter().find(|p| p.filesystem == Some(vhd_viewer::fs::FsKind::Ext4)).unwrap().clone();
    let mut vol = Volume::new(&mut reader, p.offset(), p.len());
    let mut fs = FileSystem::open(&mut vol).unwrap().unwrap();
    let mut places = Vec::new();
    for path in ["/big.bin", "/medium.bin", "/Many", "/Deep/a/b/c/d/e/f/g"] {
        let e = fs.lookup(&mut vol, path, false).unwrap();
        let runs = fs.data(&mut vol, &e, None).unwrap().runs().to_vec();
        places.push((path, runs.last().unwrap().volume_offset.unwrap() + 100, runs.last().unwrap().file_offset + 100));
    }
    let mut reads = Vec::new();
    for (path, at, file_offset) in &places {
        let before = file.bytes();
        let o = fs.owner(&mut vol, *at).unwrap();
        reads.push(file.bytes() - before);
        assert_eq!((o.what.as_str(), o.file_offset), (*path, Some(*file_offset)), "{o:?}");
        let o2 = vhd_viewer::parts::owner(vol.source(), &table, p.offset() + at).unwrap();
        assert_eq!((o2.kind.as_str(), o2.what.as_str(), o2.file_offset), (o.kind, o.what.as_str(), o.file_offset));
    }
    assert!(reads[0] >= 16 << 10, "the first ext4 lookup read only {} bytes: the tree was not walked", reads[0]);
    assert!(reads[1..].iter().all(|r| *r < 4096), "later ext4 lookups read {:?} bytes (the first {})", &reads[1..], reads[0]);
}
