//! `diff` and `rebase-check`: what a differencing disk changed, file by file.
//!
//! Each pair is made by the real tools: a 48 MiB disk with one partition at sector 63 (FAT16,
//! FAT32 through mkfs.vfat --offset and mtools on IMG@@32256; NTFS through mkntfs and ntfs-3g;
//! ext4 through mkfs.ext4 -d and debugfs), then a copy changed the same way on each: a file
//! deleted and a new one created (on FAT in the slot and clusters the deleted one freed), a file
//! moved to another directory, one renamed and modified in place, an attribute or time changed,
//! files created and deleted (transient). The project's writer makes the child hold exactly the
//! 4 KiB pages, counted from the partition's first sector, whose bytes the change touched, plus
//! pages of an unchanged file rewritten with the same bytes. The expected answer is known by
//! construction.

mod common;
use common::*;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::Value;
use vhd_viewer::values::Uuid;
use vhd_viewer::vhd::writer::DiskBuilder;

const PART: u64 = 63 * 512;
const PAGE: usize = 4096;

/// Shell functions the pair scripts share.
const LIB: &str = r#"
set -euo pipefail
export LC_ALL=C.UTF-8 MTOOLS_SKIP_CHECK=1 TZ=UTC
rnd() { head -c "$1" /dev/urandom; }
n=$(( 48 * 1024 * 2 - 63 ))
table() { truncate -s 48M base.raw; printf 'label: dos\nstart=63, type=%s\n' "$1" | sfdisk -q base.raw; }
# The 4 KiB pages (from the partition's start) of a file, by sleuthkit: $1 image, $2 path, $3
# sectors per unit istat lists (FAT lists sectors: 8 a page; NTFS and ext list 4 KiB clusters).
pages() {
  istat -o 63 "$1" "$(ifind -o 63 -n "$2" "$1")" | awk -v per="$3" '
    /^(Sectors:|Direct Blocks:)/ || /^Type: \$DATA/ {on=1; next}
    /^[A-Za-z]/ {on=0}
    on {for (k=1;k<=NF;k++) if ($k ~ /^[0-9]+$/ && $k > 0) print int($k/per)}' | sort -un
}
"#;

/// FAT: $F bits, $S sectors per cluster, $T partition type.
const FAT: &str = r#"
table "$T"
mkfs.vfat -F "$F" -s "$S" --offset 63 -h 63 -n DIFFVOL base.raw $((n/2)) >/dev/null
i=base.raw@@32256
mmd -i $i ::/A ::/B
rnd 40000 > keep.bin; mcopy -i $i keep.bin ::/keep.bin
rnd 5000 > old; mcopy -i $i old ::/old.txt
printf 'mover\n' > m; mcopy -i $i m ::/A/mover.txt
rnd 6000 > ren; mcopy -i $i ren ::/ren.txt
printf 'attr\n' > a; mcopy -i $i a ::/attr.txt
printf 'slack\n' > s; mcopy -i $i s ::/slack.txt
cp base.raw child.raw; i=child.raw@@32256
sleep 2 # the child's files are created later than the base's
mdel -i $i ::/old.txt; rnd 9000 > new; mcopy -i $i new ::/new.txt
mmove -i $i ::/A/mover.txt ::/B/mover.txt
mren -i $i ::/ren.txt ::/ren2.txt
sec=$(pages child.raw /ren2.txt 1 | head -1)
rnd 512 | dd of=child.raw bs=512 seek=$((63 + sec)) conv=notrunc status=none
mattrib -i $i +r ::/attr.txt
# Bytes past slack.txt's end, in its last sector: slack, not content.
sec=$(pages child.raw /slack.txt 1 | head -1)
rnd 256 | dd of=child.raw bs=1 seek=$(((63 + sec) * 512 + 256)) conv=notrunc status=none
rnd 9000 > t; mcopy -i $i t "::/Temporary file with a long name.tmp"
rnd 3000 > t2; mcopy -i $i t2 ::/A/TMP.BIN
mdel -i $i "::/Temporary file with a long name.tmp" ::/A/TMP.BIN
pages base.raw /keep.bin 8 > rewrite.txt
pages base.raw /ren.txt 1 | head -1 > ren-sector.txt
fls -o 63 -r -p base.raw > fls-base.txt; fls -o 63 -r -p child.raw > fls-child.txt
"#;

const NTFS: &str = r#"
table 7
truncate -s $((n*512)) p.img; mkntfs -q -F -s 512 -c 4096 -p 63 -H 255 -S 63 -L DIFFNTFS p.img >/dev/null 2>&1
mkdir -p m
mnt() { ntfs-3g "$1" m </dev/null >/dev/null 2>&1; }
mnt p.img
mkdir m/A m/B
rnd 40000 > m/keep.bin; rnd 5000 > m/old.txt; printf 'mover\n' > m/A/mover.txt; rnd 6000 > m/ren.txt; printf 'attr\n' > m/attr.txt
touch -d '2020-01-01 00:00:00' m/attr.txt
sync; umount m
dd if=p.img of=base.raw bs=512 seek=63 conv=notrunc status=none
sleep 2
mnt p.img
rm m/old.txt; rnd 5000 > m/new.txt
mv m/A/mover.txt m/B/mover.txt
mv m/ren.txt m/ren2.txt; rnd 512 | dd of=m/ren2.txt bs=512 conv=notrunc status=none
touch -d '2021-06-01 00:00:00' m/attr.txt
rnd 9000 > m/tmp.bin; sync; rm m/tmp.bin
mkdir -p m/Windows/Prefetch; rnd 8192 > m/pagefile.sys; rnd 3000 > m/Windows/Prefetch/APP.EXE-12345678.pf
sync; umount m
cp base.raw child.raw; dd if=p.img of=child.raw bs=512 seek=63 conv=notrunc status=none
pages base.raw /keep.bin 1 > rewrite.txt
"#;

/// ext4 through debugfs. debugfs gives new inodes generation 0 where the kernel gives a random
/// one: the child's new inodes get one with `sif`, as the kernel would.
const EXT4: &str = r#"
table 83
mkdir -p e/A e/B
rnd 40000 > e/keep.bin; rnd 5000 > e/old.txt; printf 'mover\n' > e/A/mover.txt; rnd 6000 > e/ren.txt; printf 'attr\n' > e/attr.txt
mkfs.ext4 -q -F -b 4096 -L DIFFEXT -d e p.img $((n/2/4*4))k
dd if=p.img of=base.raw bs=512 seek=63 conv=notrunc status=none
rnd 5000 > new; rnd 9000 > t
cat > cmds <<CMDS
rm /old.txt
write new /new.txt
sif /new.txt generation 1234567
ln /A/mover.txt /B/mover.txt
unlink /A/mover.txt
ln /ren.txt /ren2.txt
unlink /ren.txt
sif /attr.txt mode 0100600
write t /tmp.bin
sif /tmp.bin generation 7654321
rm /tmp.bin
CMDS
debugfs -w -f cmds p.img >/dev/null 2>&1
blk=$(debugfs -R "blocks /ren2.txt" p.img 2>/dev/null | awk '{print $1}')
rnd 512 | dd of=p.img bs=512 seek=$((blk * 8)) conv=notrunc status=none
cp base.raw child.raw; dd if=p.img of=child.raw bs=512 seek=63 conv=notrunc status=none
pages base.raw /keep.bin 1 > rewrite.txt
"#;

/// A parent/child pair of VHDs.
struct Pair {
    dir: PathBuf,
    base: PathBuf,
    child: PathBuf,
    /// Pages the child holds, of them rewritten with the same bytes.
    held_pages: u64,
    rewrite_pages: u64,
}

fn pair(name: &str, tag: &str, vars: &str, script: &str) -> Pair {
    let img = script_image("diff", name, &format!("{LIB}{vars}{script}"), &[], "rewrite.txt", &["m", "e"]);
    let base_raw = std::fs::read(img.join("base.raw")).unwrap();
    let child_raw = std::fs::read(img.join("child.raw")).unwrap();
    let rewrite: BTreeSet<u64> =
        std::fs::read_to_string(img.join("rewrite.txt")).unwrap().lines().filter_map(|l| l.trim().parse().ok()).collect();
    assert!(!rewrite.is_empty(), "{name}: no pages of keep.bin found");
    let dir = scratch(&format!("diff-{name}-{tag}"));
    let base = dynamic_vhd(&base_raw, &format!("diff-{name}-base"));
    let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 2 << 20);
    child.unique_id(Uuid(id_for(&format!("diff-{name}-child"))));
    let (mut held, mut rewritten) = (0u64, 0u64);
    assert_eq!(base_raw[..PART as usize], child_raw[..PART as usize], "{name}: the change touched the table");
    for (p, (a, b)) in base_raw[PART as usize..].chunks(PAGE).zip(child_raw[PART as usize..].chunks(PAGE)).enumerate() {
        let same = a == b;
        if !same || rewrite.contains(&(p as u64)) {
            child.write(PART + (p * PAGE) as u64, b);
            held += 1;
            if same {
                rewritten += 1;
            }
        }
    }
    let basep = dir.join("base.vhd");
    let childp = dir.join("child.vhd");
    std::fs::write(&basep, base.build()).unwrap();
    std::fs::write(&childp, child.build()).unwrap();
    Pair { dir: img, base: basep, child: childp, held_pages: held, rewrite_pages: rewritten }
}

fn diff_json(p: &Pair, extra: &[&str]) -> Value {
    let mut args = vec!["diff", p.child.to_str().unwrap(), "--parent", p.base.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let o = cli(&args);
    assert!(o.status.success(), "diff: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(&o)))
}

/// (kind, path, old path, content changed) of every change but directories'.
type Row = (String, String, Option<String>, bool);

fn rows(part: &Value) -> BTreeSet<Row> {
    part["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] != "dir")
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_string(),
                c["path"].as_str().unwrap().to_string(),
                c["old_path"].as_str().map(str::to_string),
                c["content_changed"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn row(kind: &str, path: &str, old: Option<&str>, content: bool) -> Row {
    (kind.into(), path.into(), old.map(str::to_string), content)
}

/// The keys the issue names, exactly, and the sums that must hold.
fn check_shape(j: &Value, p: &Pair) {
    for k in ["held_bytes", "identical_bytes", "outside_partitions_bytes", "partitions"] {
        assert!(j.get(k).is_some(), "no {k}: {j}");
    }
    assert_eq!(j["mode"], "chain");
    assert_eq!(j["held_bytes"], p.held_pages * PAGE as u64, "held bytes: the pages the child holds");
    assert_eq!(j["outside_partitions_bytes"], 0);
    assert!(j["identical_bytes"].as_u64().unwrap() >= p.rewrite_pages * PAGE as u64, "identical rewrites counted");
    let parts = j["partitions"].as_array().unwrap();
    assert_eq!(parts.len(), 1);
    let part = &parts[0];
    for k in ["index", "filesystem", "changes", "filesystem_metadata", "held"] {
        assert!(part.get(k).is_some(), "partition lacks {k}: {part}");
    }
    assert!(part.get("error").is_none(), "{part}");
    for c in part["changes"].as_array().unwrap() {
        for k in ["path", "type", "kind", "old_path", "content_changed", "size", "old_size", "bytes_held", "identical_bytes"] {
            assert!(c.get(k).is_some(), "change lacks {k}: {c}");
        }
    }
    for m in part["filesystem_metadata"].as_array().unwrap() {
        assert!(m["name"].is_string() && m["bytes_held"].is_u64(), "{m}");
    }
    let h = &part["held"];
    let sum = h["files"].as_u64().unwrap() + h["filesystem_metadata"].as_u64().unwrap() + h["free_space"].as_u64().unwrap();
    assert_eq!(sum, j["held_bytes"].as_u64().unwrap(), "every held byte went somewhere: {h}");
    // Bounded: the held sectors of both sides and the metadata, far from the 48 MiB disk twice.
    let read = j["bytes_read"].as_u64().unwrap();
    assert!(read < 2 * j["held_bytes"].as_u64().unwrap() + (6 << 20), "read {read} bytes");
}

fn change<'a>(part: &'a Value, path: &str) -> &'a Value {
    part["changes"].as_array().unwrap().iter().find(|c| c["path"] == path).unwrap_or_else(|| panic!("no change for {path}: {part}"))
}

fn common_rows() -> BTreeSet<Row> {
    [
        row("added", "/new.txt", None, true),
        row("deleted", "/old.txt", None, true),
        row("renamed", "/B/mover.txt", Some("/A/mover.txt"), false),
        row("renamed", "/ren2.txt", Some("/ren.txt"), true),
        row("metadata", "/attr.txt", None, false),
    ]
    .into_iter()
    .collect()
}

fn fat(name: &str, vars: &str, fs: &str) {
    let p = pair(name, "kinds", vars, FAT);
    let j = diff_json(&p, &[]);
    check_shape(&j, &p);
    let part = &j["partitions"][0];
    assert_eq!(part["filesystem"], fs);
    let mut want = common_rows();
    want.insert(row("transient", "/Temporary file with a long name.tmp", None, true));
    want.insert(row("transient", "/A/_MP.BIN", None, true));
    assert_eq!(rows(part), want, "{part:#}");
    assert_eq!(change(part, "/Temporary file with a long name.tmp")["name_complete"], true);
    assert_eq!(change(part, "/A/_MP.BIN")["name_complete"], false);
    assert!(change(part, "/A/_MP.BIN")["bytes_held"].as_u64().unwrap() >= 3000);
    assert!(change(part, "/new.txt")["bytes_held"].as_u64().unwrap() >= 9000);
    assert!(!part["changes"].as_array().unwrap().iter().any(|c| c["path"] == "/slack.txt"), "a change in slack only is no change");
    let names: Vec<&str> = part["filesystem_metadata"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"FAT tables") && names.contains(&"directories"), "{names:?}");
    assert!(part["held"]["free_space"].as_u64().unwrap() >= 9000 + 3000, "the transient files' data is in free space");
    // sleuthkit numbers FAT files by directory slot: the new file took the deleted one's slot.
    let (fb, fc) =
        (std::fs::read_to_string(p.dir.join("fls-base.txt")).unwrap(), std::fs::read_to_string(p.dir.join("fls-child.txt")).unwrap());
    let slot =
        |l: &str, name: &str| l.lines().find(|x| x.ends_with(&format!("\t{name}"))).map(|x| x.split(':').next().unwrap().to_string());
    assert_eq!(
        slot(&fb, "old.txt").map(|s| s.replace("r/r ", "")),
        slot(&fc, "new.txt").map(|s| s.replace("r/r ", "")),
        "new.txt is in old.txt's slot"
    );
}

#[test]
fn fat16_every_kind() {
    fat("fat16", "F=16; S=8; T=6\n", "fat16");
}

#[test]
fn fat32_every_kind() {
    fat("fat32", "F=32; S=1; T=c\n", "fat32");
}

#[test]
fn ntfs_every_kind() {
    let p = pair("ntfs", "kinds", "", NTFS);
    let j = diff_json(&p, &[]);
    check_shape(&j, &p);
    let part = &j["partitions"][0];
    assert_eq!(part["filesystem"], "ntfs");
    let mut want = common_rows();
    want.insert(row("transient", "/tmp.bin", None, true));
    want.insert(row("added", "/pagefile.sys", None, true));
    want.insert(row("added", "/Windows/Prefetch/APP.EXE-12345678.pf", None, true));
    assert_eq!(rows(part), want, "{part:#}");
    // Windows' boot noise is flagged, not hidden.
    assert_eq!(change(part, "/pagefile.sys")["noise"], "pagefile");
    assert_eq!(change(part, "/Windows/Prefetch/APP.EXE-12345678.pf")["noise"], "prefetch");
    assert_eq!(change(part, "/new.txt")["noise"], Value::Null);
    assert_eq!(change(part, "/Windows")["kind"], "added");
    let names: Vec<&str> = part["filesystem_metadata"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    // ntfs-3g keeps no journal: $LogFile is not written.
    assert!(names.contains(&"$MFT") && names.contains(&"$Bitmap") && names.contains(&"directories"), "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with("allocated")), "every allocated cluster has an owner: {names:?}");
}

#[test]
fn ext4_every_kind() {
    let p = pair("ext4", "kinds", "", EXT4);
    let j = diff_json(&p, &[]);
    check_shape(&j, &p);
    let part = &j["partitions"][0];
    assert_eq!(part["filesystem"], "ext4");
    let mut want = common_rows();
    want.insert(row("transient", "/tmp.bin", None, true));
    assert_eq!(rows(part), want, "{part:#}");
    // debugfs's `rm` leaves the inode's extents, so its data is placed (the kernel clears them:
    // then the file is found by its name and inode alone, with no bytes).
    assert!(change(part, "/tmp.bin")["bytes_held"].as_u64().unwrap() > 0, "{part:#}");
    let names: Vec<&str> = part["filesystem_metadata"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"inode tables"), "{names:?}");
}

/// Identical rewrites alone: a child that holds only pages equal to its parent's changes nothing.
/// Hard links: one file of several names. The child adds a name to an unchanged file and removes
/// one of a file's two names.
const NTFS_LINKS: &str = r#"
table 7
truncate -s $((n*512)) p.img; mkntfs -q -F -s 512 -c 4096 -p 63 -H 255 -S 63 -L LINKS p.img >/dev/null 2>&1
mkdir -p m
mnt() { ntfs-3g "$1" m </dev/null >/dev/null 2>&1; }
mnt p.img
mkdir m/A m/B m/C
rnd 40000 > m/keep.bin; rnd 5000 > m/A/x.bin; ln m/A/x.bin m/B/x.bin; rnd 3000 > m/solo.bin
sync; umount m
dd if=p.img of=base.raw bs=512 seek=63 conv=notrunc status=none
mnt p.img
ln m/solo.bin m/C/solo-link.bin
rm m/B/x.bin
sync; umount m
cp base.raw child.raw; dd if=p.img of=child.raw bs=512 seek=63 conv=notrunc status=none
pages base.raw /keep.bin 1 > rewrite.txt
"#;

const EXT4_LINKS: &str = r#"
table 83
mkdir -p e/A e/B e/C
rnd 40000 > e/keep.bin; rnd 5000 > e/A/x.bin; ln e/A/x.bin e/B/x.bin; rnd 3000 > e/solo.bin
mkfs.ext4 -q -F -b 4096 -L LINKS -d e p.img $((n/2/4*4))k
dd if=p.img of=base.raw bs=512 seek=63 conv=notrunc status=none
cat > cmds <<CMDS
ln /solo.bin /C/solo-link.bin
unlink /B/x.bin
CMDS
debugfs -w -f cmds p.img >/dev/null 2>&1
cp base.raw child.raw; dd if=p.img of=child.raw bs=512 seek=63 conv=notrunc status=none
pages base.raw /keep.bin 1 > rewrite.txt
"#;

#[test]
fn hard_links_are_one_file_with_every_name() {
    for (name, script) in [("ntfs-links", NTFS_LINKS), ("ext4-links", EXT4_LINKS)] {
        let p = pair(name, "links", "", script);
        // sleuthkit sees the names the test means: two of x.bin in the parent, two of solo.bin in the child.
        let fls = |raw: &str| {
            let o = Command::new("fls").args(["-r", "-p", "-o", "63"]).arg(p.dir.join(raw)).output().unwrap();
            // Live names only (a deleted entry is marked `*`).
            String::from_utf8_lossy(&o.stdout).lines().filter(|l| !l.contains(" * ")).collect::<Vec<_>>().join("\n")
        };
        let (fb, fc) = (fls("base.raw"), fls("child.raw"));
        assert!(fb.contains("B/x.bin") && !fb.contains("solo-link.bin"), "{name}: {fb}");
        assert!(fc.contains("C/solo-link.bin") && !fc.contains("B/x.bin"), "{name}: {fc}");
        let j = diff_json(&p, &[]);
        let part = &j["partitions"][0];
        let want: BTreeSet<Row> = [
            // A name added to an unchanged file: the new name, the old one beside it.
            row("renamed", "/C/solo-link.bin", Some("/solo.bin"), false),
            // One of two names removed: the name left, and the one gone.
            row("renamed", "/A/x.bin", Some("/B/x.bin"), false),
        ]
        .into_iter()
        .collect();
        assert_eq!(rows(part), want, "{name}: {part:#}");
        assert_eq!(change(part, "/C/solo-link.bin")["links"], serde_json::json!(["/solo.bin"]), "{name}");
        assert!(change(part, "/A/x.bin").get("links").is_none(), "{name}: one name left");
    }
}

#[test]
fn identical_rewrites_only_change_nothing() {
    let p = pair("fat16", "identical", "F=16; S=8; T=6\n", FAT);
    let base_raw = std::fs::read(p.dir.join("base.raw")).unwrap();
    let base = dynamic_vhd(&base_raw, "diff-fat16-base");
    let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 2 << 20);
    let rewrite: Vec<u64> = std::fs::read_to_string(p.dir.join("rewrite.txt")).unwrap().lines().filter_map(|l| l.parse().ok()).collect();
    for pg in &rewrite {
        let at = (PART + pg * PAGE as u64) as usize;
        child.write(at as u64, &base_raw[at..at + PAGE]);
    }
    let dir = scratch("diff-identical");
    std::fs::write(dir.join("base.vhd"), base.build()).unwrap();
    std::fs::write(dir.join("child.vhd"), child.build()).unwrap();
    let o = cli(&["diff", dir.join("child.vhd").to_str().unwrap(), "--parent", dir.join("base.vhd").to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    let held = rewrite.len() as u64 * PAGE as u64;
    assert_eq!(j["held_bytes"], held);
    assert_eq!(j["identical_bytes"], held);
    let part = &j["partitions"][0];
    assert_eq!(part["changes"].as_array().unwrap().len(), 0, "{part:#}");
    assert_eq!(part["held"]["files"], held, "the pages are keep.bin's");
}

/// The text output: a table grouped by kind, and where the bytes went.
#[test]
fn text_output_groups_by_kind() {
    let p = pair("fat16", "text", "F=16; S=8; T=6\n", FAT);
    let o = cli(&["diff", p.child.to_str().unwrap(), "--parent", p.base.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = stdout(&o);
    for s in [
        "added (1):",
        "deleted (1):",
        "renamed (2):",
        "metadata (1):",
        "transient (2):",
        "/ren2.txt",
        "was /ren.txt",
        "first character lost",
        "file-system metadata held:",
        "FAT tables",
    ] {
        assert!(t.contains(s), "no {s:?} in:\n{t}");
    }
}

/// Two disks not of one chain: every allocated sector is compared, and the output says so.
#[test]
fn unrelated_disks_compare_every_allocated_sector() {
    let p = pair("fat16", "unrelated", "F=16; S=8; T=6\n", FAT);
    let child_raw = std::fs::read(p.dir.join("child.raw")).unwrap();
    let dir = scratch("diff-unrelated");
    let other = dir.join("other.vhd");
    std::fs::write(&other, dynamic_vhd(&child_raw, "diff-unrelated-other").build()).unwrap();
    let o = cli(&["diff", p.base.to_str().unwrap(), other.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["mode"], "unrelated");
    let part = &j["partitions"][0];
    let mut want = common_rows();
    want.insert(row("transient", "/Temporary file with a long name.tmp", None, true));
    want.insert(row("transient", "/A/_MP.BIN", None, true));
    assert_eq!(rows(part), want, "{part:#}");
    assert!(j["held_bytes"].as_u64().unwrap() > p.held_pages * PAGE as u64);
    let o = cli(&["diff", p.base.to_str().unwrap(), other.to_str().unwrap()]);
    assert!(stdout(&o).contains("two disks that are not one chain: every allocated sector of both was compared"), "{}", stdout(&o));
}

/// rebase-check: the child's changes against a new base's.
#[test]
fn rebase_check_sorts_child_base_and_conflicts() {
    let p = pair("fat16", "rebase", "F=16; S=8; T=6\n", FAT);
    let base_raw = std::fs::read(p.dir.join("base.raw")).unwrap();
    // The new base: the old one with keep.bin and ren.txt rewritten in place (new bytes).
    let mut nb = base_raw.clone();
    let keep: Vec<u64> = std::fs::read_to_string(p.dir.join("rewrite.txt")).unwrap().lines().filter_map(|l| l.parse().ok()).collect();
    let at = (PART + keep[0] * PAGE as u64) as usize + 1024;
    nb[at..at + 512].iter_mut().for_each(|b| *b ^= 0xFF);
    // ... and ren.txt, which the child renamed and modified: a conflict.
    let ren: u64 = std::fs::read_to_string(p.dir.join("ren-sector.txt")).unwrap().trim().parse().unwrap();
    let at = (PART + ren * 512) as usize + 100;
    nb[at..at + 10].iter_mut().for_each(|b| *b ^= 0xFF);
    let dir = scratch("diff-rebase");
    let newb = dir.join("new-base.vhd");
    std::fs::write(&newb, dynamic_vhd(&nb, "diff-rebase-new").build()).unwrap();
    let o =
        cli(&["rebase-check", p.child.to_str().unwrap(), "--parent", p.base.to_str().unwrap(), "--onto", newb.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(1), "conflicts: exit status 1; {}", stderr(&o));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    let paths =
        |k: &str| -> BTreeSet<String> { j[k].as_array().unwrap().iter().map(|i| i["path"].as_str().unwrap().to_string()).collect() };
    assert_eq!(paths("base_only"), ["/keep.bin".to_string()].into_iter().collect());
    let child_only = paths("child_only");
    for f in ["/new.txt", "/old.txt", "/ren2.txt", "/A/mover.txt", "/B/mover.txt", "/attr.txt"] {
        assert!(child_only.contains(f), "{f} not in child_only: {child_only:?}");
    }
    assert_eq!(paths("conflicts"), ["/ren.txt".to_string()].into_iter().collect());
    let c = &j["conflicts"][0];
    assert_eq!((c["child"].as_str(), c["base"].as_str()), (Some("renamed"), Some("modified")));

    // The new base as a child of the old one (the old base is a layer of its chain): its changes
    // are read through the chain, bounded by what it holds.
    let base = dynamic_vhd(&base_raw, "diff-fat16-base");
    let mut nc = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 2 << 20);
    nc.unique_id(Uuid(id_for("diff-rebase-new-child")));
    for (i, (a, b)) in base_raw.chunks(PAGE).zip(nb.chunks(PAGE)).enumerate() {
        if a != b {
            nc.write((i * PAGE) as u64, b);
        }
    }
    let ncp = p.base.parent().unwrap().join("new-child-base.vhd");
    std::fs::write(&ncp, nc.build()).unwrap();
    let o =
        cli(&["rebase-check", p.child.to_str().unwrap(), "--parent", p.base.to_str().unwrap(), "--onto", ncp.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let k: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(k, j, "the same answer through the new base's chain");
}

/// One regular file of a DFXML description (fiwalk): path, inode, size, md5.
#[derive(Debug, Clone)]
struct Dfxml {
    path: String,
    inode: String,
    size: u64,
    md5: String,
}

/// Runs fiwalk on a raw image: the allocated regular files with their hashes.
fn fiwalk(raw: &Path) -> Vec<Dfxml> {
    let o = run_ok(Command::new("fiwalk").arg("-x").arg(raw));
    let xml = stdout(&o);
    let field = |obj: &str, tag: &str| -> Option<String> {
        let open = format!("<{tag}");
        let at = obj.find(&open)?;
        let rest = &obj[at..];
        let start = rest.find('>')? + 1;
        let end = rest.find(&format!("</{tag}>"))?;
        Some(rest[start..end].to_string())
    };
    xml.split("<fileobject>")
        .skip(1)
        .filter_map(|obj| {
            // The object's own fields (its parent_object's inode comes first: skip it).
            let own = obj.split("</parent_object>").last().unwrap_or(obj);
            if field(own, "alloc").as_deref() != Some("1") || field(own, "name_type").as_deref() != Some("r") {
                return None;
            }
            let path = field(own, "filename")?;
            if path.contains("(Volume Label Entry)") || path.starts_with('$') {
                return None;
            }
            Some(Dfxml {
                path: format!("/{path}"),
                inode: field(own, "inode")?,
                size: field(own, "filesize")?.parse().ok()?,
                md5: own.split("<hashdigest type='md5'>").nth(1)?.split('<').next()?.to_string(),
            })
        })
        .collect()
}

/// What idifference2 makes of two DFXML descriptions: files matched by inode (on FAT, sleuthkit
/// numbers them by directory slot), a different path being a rename, a different hash a change.
fn idifference(before: &[Dfxml], after: &[Dfxml]) -> BTreeSet<Row> {
    let mut out = BTreeSet::new();
    for a in after {
        match before.iter().find(|b| b.inode == a.inode) {
            None => {
                out.insert(row("added", &a.path, None, true));
            }
            Some(b) if b.path != a.path => {
                out.insert(row("renamed", &a.path, Some(&b.path), b.md5 != a.md5));
            }
            Some(b) if b.md5 != a.md5 => {
                out.insert(row("modified", &a.path, None, true));
            }
            _ => {}
        }
    }
    for b in before.iter().filter(|b| !after.iter().any(|a| a.inode == b.inode)) {
        out.insert(row("deleted", &b.path, None, true));
    }
    out
}

/// The approach of sleuthkit's fiwalk and DFXML's idifference2 on the FAT16 pair: flatten both
/// disks, hash every file of both sides, match by inode. On FAT it is wrong where the issue says:
/// the new file in the deleted file's slot comes out as a rename of it, and the file really moved
/// as added (and deleted). Prints what each approach read and how long it took.
#[test]
fn fiwalk_and_idifference2_are_wrong_on_fat() {
    let p = pair("fat16", "fiwalk", "F=16; S=8; T=6\n", FAT);
    let (base_raw, child_raw) = (p.dir.join("base.raw"), p.dir.join("child.raw"));
    let t = Instant::now();
    let (before, after) = (fiwalk(&base_raw), fiwalk(&child_raw));
    let theirs = idifference(&before, &after);
    let their_time = t.elapsed();
    // Flattening both disks reads them whole; fiwalk then reads every file's bytes to hash them.
    let flat = std::fs::metadata(&base_raw).unwrap().len() + std::fs::metadata(&child_raw).unwrap().len();
    let hashed: u64 = before.iter().chain(&after).map(|f| f.size).sum();
    assert!(theirs.contains(&row("renamed", "/new.txt", Some("/old.txt"), true)), "{theirs:?}");
    assert!(theirs.contains(&row("added", "/B/mover.txt", None, true)), "{theirs:?}");
    assert!(theirs.contains(&row("deleted", "/A/mover.txt", None, true)), "{theirs:?}");

    let t = Instant::now();
    let j = diff_json(&p, &[]);
    let our_time = t.elapsed();
    let ours = rows(&j["partitions"][0]);
    assert!(ours.contains(&row("added", "/new.txt", None, true)) && ours.contains(&row("deleted", "/old.txt", None, true)), "{ours:?}");
    assert!(ours.contains(&row("renamed", "/B/mover.txt", Some("/A/mover.txt"), false)), "{ours:?}");
    let read = j["bytes_read"].as_u64().unwrap();
    assert!(read < flat + hashed, "ours read {read} bytes, theirs {flat} + {hashed}");
    eprintln!(
        "fiwalk+idifference2 approach: flatten {flat} bytes, hash {hashed} bytes of files, fiwalk took {} ms; vhd-viewer diff: read {read} bytes of the disks, took {} ms (the whole command)",
        their_time.as_millis(),
        our_time.as_millis()
    );
}

/// Hostile metadata on the child side: every FAT entry points to cluster 2 (chains loop through
/// it), and every root directory entry claims 4 GiB from a cluster past the end or inside the
/// loop. The diff ends with an answer or an error, and reads a bounded number of bytes.
#[test]
fn hostile_fat_metadata_is_bounded() {
    use vhd_viewer::diff::{diff, Mode};
    let p = pair("fat16", "hostile", "F=16; S=8; T=6\n", FAT);
    let base = std::fs::read(p.dir.join("base.raw")).unwrap();
    let mut child = std::fs::read(p.dir.join("child.raw")).unwrap();
    let v = PART as usize;
    let le16 = |b: &[u8], at: usize| usize::from(u16::from_le_bytes([b[at], b[at + 1]]));
    let (reserved, fats, fat_sectors, root_entries) =
        (le16(&child, v + 0x0E), child[v + 0x10] as usize, le16(&child, v + 0x16), le16(&child, v + 0x11));
    let fat = v + reserved * 512;
    for k in 2..fat_sectors * 256 {
        child[fat + 2 * k..fat + 2 * k + 2].copy_from_slice(&2u16.to_le_bytes());
    }
    let root = fat + fats * fat_sectors * 512;
    for (k, e) in child[root..root + root_entries * 32].chunks_mut(32).enumerate() {
        if e[0] == 0 || e[11] == 0x0F {
            continue;
        }
        e[0x1A..0x1C].copy_from_slice(&(if k % 2 == 0 { 0xFFF0u16 } else { 3 }).to_le_bytes());
        e[0x1C..0x20].copy_from_slice(&u32::MAX.to_le_bytes());
    }
    let mut held = Vec::new();
    for (i, (a, b)) in base.chunks(PAGE).zip(child.chunks(PAGE)).enumerate() {
        if a != b {
            held.push(((i * PAGE) as u64, ((i + 1) * PAGE) as u64));
        }
    }
    let held_bytes: u64 = held.iter().map(|r| r.1 - r.0).sum();
    let mut calls = 0u64;
    match diff(base, child, &held, Mode::Chain, &mut |_, _| {
        calls += 1;
        true
    }) {
        Ok(r) => {
            assert!(r.bytes_read < 2 * held_bytes + (8 << 20), "read {} bytes for {held_bytes} held", r.bytes_read);
            assert_eq!(r.partitions.len(), 1);
        }
        Err(e) => assert!(!e.code().is_empty()),
    }
    assert!(calls > 0, "progress was reported");
}

/// The progress callback stops the diff: error `cancelled`.
#[test]
fn progress_can_cancel() {
    use vhd_viewer::diff::{diff, Mode};
    let p = pair("fat16", "cancel", "F=16; S=8; T=6\n", FAT);
    let base = std::fs::read(p.dir.join("base.raw")).unwrap();
    let child = std::fs::read(p.dir.join("child.raw")).unwrap();
    let held = vec![(0u64, child.len() as u64)];
    let err = diff(base, child, &held, Mode::Chain, &mut |done, _| done < (4 << 20)).unwrap_err();
    assert_eq!(err.code(), "cancelled");
}

/// `--from K --to J` on a chain of three: a grandchild that changed nothing on top of the child.
#[test]
fn from_and_to_pick_two_layers() {
    let p = pair("fat16", "layers", "F=16; S=8; T=6\n", FAT);
    // The grandchild names the child pair() wrote by its unique id and time stamp.
    let child_bytes = std::fs::read(&p.child).unwrap();
    let footer = &child_bytes[child_bytes.len() - 512..];
    let mut id = [0u8; 16];
    id.copy_from_slice(&footer[0x44..0x54]);
    let mut grand = DiskBuilder::differencing(
        &vhd_viewer::vhd::writer::ParentRef {
            unique_id: Uuid(id),
            timestamp: vhd_viewer::values::Timestamp(u32::from_be_bytes(footer[0x18..0x1C].try_into().unwrap())),
            size: u64::from_be_bytes(footer[0x30..0x38].try_into().unwrap()),
            file_name: "child.vhd".into(),
        },
        2 << 20,
    );
    grand.unique_id(Uuid(id_for("diff-fat16-layers-grand")));
    let gp = p.child.parent().unwrap().join("grand.vhd");
    std::fs::write(&gp, grand.build()).unwrap();
    let (g, c, b) = (gp.to_str().unwrap(), p.child.to_str().unwrap(), p.base.to_str().unwrap());
    let run = |extra: &[&str]| -> Value {
        let mut args = vec!["diff", g, "--parent", c, "--parent", b, "--json"];
        args.extend_from_slice(extra);
        let o = cli(&args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    // The grandchild alone holds nothing.
    let top = run(&[]);
    assert_eq!(top["held_bytes"], 0);
    assert!(top["partitions"][0]["changes"].as_array().unwrap().is_empty());
    // Layers 2 (base) to 0 (grandchild): what the child changed.
    let all = run(&["--from", "2", "--to", "0"]);
    let mut want = common_rows();
    want.insert(row("transient", "/Temporary file with a long name.tmp", None, true));
    want.insert(row("transient", "/A/_MP.BIN", None, true));
    assert_eq!(rows(&all["partitions"][0]), want);
    assert_eq!(all["held_bytes"], p.held_pages * PAGE as u64);
    let o = cli(&["diff", g, "--parent", c, "--parent", b, "--from", "0", "--to", "1"]);
    assert_eq!(o.status.code(), Some(2), "an older --to than --from is refused");
}

/// A partition the child formatted (zeros in the parent): every file is added.
#[test]
fn a_partition_formatted_by_the_child_is_all_added() {
    let p = pair("fat16", "formatted", "F=16; S=8; T=6\n", FAT);
    let formatted = std::fs::read(p.dir.join("base.raw")).unwrap();
    let mut blank = formatted.clone();
    blank[PART as usize..].fill(0);
    let base = dynamic_vhd(&blank, "diff-formatted-base");
    let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 2 << 20);
    for (i, (a, b)) in blank.chunks(PAGE).zip(formatted.chunks(PAGE)).enumerate() {
        if a != b {
            child.write((i * PAGE) as u64, b);
        }
    }
    let dir = scratch("diff-formatted");
    std::fs::write(dir.join("base.vhd"), base.build()).unwrap();
    std::fs::write(dir.join("child.vhd"), child.build()).unwrap();
    let o = cli(&["diff", dir.join("child.vhd").to_str().unwrap(), "--parent", dir.join("base.vhd").to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    let part = &j["partitions"][0];
    let want: BTreeSet<Row> = ["/keep.bin", "/old.txt", "/A/mover.txt", "/ren.txt", "/attr.txt", "/slack.txt"]
        .iter()
        .map(|f| row("added", f, None, true))
        .collect();
    assert_eq!(rows(part), want, "{part:#}");
}

/// Every page the child changed (boot sectors aside) filled with pseudo-random bytes, on each
/// file system: MFT records, inodes, directories and FATs pointing anywhere. The diff ends, and
/// reads a bounded number of bytes.
#[test]
fn garbage_in_every_changed_page_is_bounded() {
    use vhd_viewer::diff::{diff, Mode};
    for (name, vars, script) in
        [("fat16", "F=16; S=8; T=6\n", FAT), ("fat32", "F=32; S=1; T=c\n", FAT), ("ntfs", "", NTFS), ("ext4", "", EXT4)]
    {
        let p = pair(name, "garbage", vars, script);
        let base = std::fs::read(p.dir.join("base.raw")).unwrap();
        let mut child = std::fs::read(p.dir.join("child.raw")).unwrap();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut held = Vec::new();
        let pages = (child.len() - PART as usize) / PAGE;
        for k in 1..pages {
            let at = PART as usize + k * PAGE;
            if base[at..at + PAGE] == child[at..at + PAGE] {
                continue;
            }
            for b in &mut child[at..at + PAGE] {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            held.push((at as u64, (at + PAGE) as u64));
        }
        let held_bytes: u64 = held.iter().map(|r| r.1 - r.0).sum();
        match diff(base, child, &held, Mode::Chain, &mut |_, _| true) {
            Ok(r) => assert!(r.bytes_read < 2 * held_bytes + (16 << 20), "{name}: read {} bytes for {held_bytes} held", r.bytes_read),
            Err(e) => assert!(!e.code().is_empty(), "{name}"),
        }
    }
}
