//! `vhd-viewer timeline` against sleuthkit: on a disk of FAT16, NTFS, ext4 and ext2 made by the real
//! tools (mkfs.vfat + mtools, mkntfs + ntfs-3g, mkfs.ext4 -d + debugfs) and a differencing child
//! of it, the body file equals `fls -r -m /` on the flattened disk (`vhd-viewer cat`), and
//! `mactime -b` reads ours as it reads fls's; the sorted forms are sorted; each line says which
//! layer supplies its metadata; a directory loop stays bounded.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The base disk (MBR: FAT16 at 2048, NTFS at 34816, ext4 at 67584, 16 MiB each; ext2 with 1 KiB
/// blocks at 100352, 8 MiB: block-mapped links, no creation time for sleuthkit) and a child
/// that rewrites a FAT file and sets an ext file's mtime; both as VHDs made by `vhd_from_raw`.
const DISKS: &str = r#"
set -euo pipefail
export LC_ALL=C.UTF-8 MTOOLS_SKIP_CHECK=1 TZ=UTC
truncate -s 60M base.raw
printf 'label: dos\nstart=2048, size=32768, type=6\nstart=34816, size=32768, type=7\nstart=67584, size=32768, type=83\nstart=100352, size=16384, type=83\n' | sfdisk -q base.raw
truncate -s 16M fat.img; mkfs.vfat -F 16 -n TIMEVOL -h 2048 fat.img >/dev/null
printf 'hello\n' > h; : > empty
mmd -i fat.img ::/Deep ::/Deep/Inner ::/Other
mcopy -i fat.img h "::/Deep/Inner/A long file name.txt"; mcopy -i fat.img h ::/Other/KEEP.TXT
mcopy -i fat.img empty ::/EMPTY.DAT; mcopy -i fat.img h ::/GONE.TXT; mdel -i fat.img ::/GONE.TXT
mcopy -i fat.img h "::/Deleted long name.txt"; mdel -i fat.img "::/Deleted long name.txt"
mattrib -i fat.img +r ::/Other/KEEP.TXT; mattrib -i fat.img +h ::/EMPTY.DAT
mmd -i fat.img ::/Deep/GoneDir; mcopy -i fat.img h "::/Deep/GoneDir/inner file.txt"; mdeltree -i fat.img ::/Deep/GoneDir
truncate -s 16M ntfs.img; mkntfs -q -F -c 4096 -p 34816 -H 255 -S 63 -L TIMENTFS ntfs.img >/dev/null 2>&1
mkdir -p m
if [ -e /dev/fuse ] && ntfs-3g -o streams_interface=windows ntfs.img m </dev/null >/dev/null 2>&1; then
  mkdir -p m/Dir/Sub; echo a > m/Dir/a.txt; echo v > m/s.txt; echo hidden > "m/s.txt:secret"
  ln m/s.txt m/Dir/hard; head -c 100000 /dev/urandom > m/Dir/Sub/big.bin
  echo g > m/gone.txt; rm m/gone.txt
  # 150 named streams: the record's attributes spill into extension records ($ATTRIBUTE_LIST).
  echo main > m/streams.txt; for k in $(seq 1 150); do printf 'stream %s %0300d\n' $k $k > "m/streams.txt:s$k"; done
  sync; umount m
else
  ntfscp -q -f ntfs.img h /s.txt; ntfscp -q -f ntfs.img empty /empty
fi
mkdir -p e/Deep/Inner e/Other e/GoneDir; echo x > e/Deep/Inner/file.txt; echo y > e/Other/keep.txt; : > e/empty
echo w > e/GoneDir/within.txt
ln -s Deep/Inner/file.txt e/link; ln -s "Deep/Inner/$(printf 'n%.0s' $(seq 1 80)).txt" e/longlink
ln e/Other/keep.txt e/hard; echo z > e/gone.txt
mkfs.ext4 -q -F -b 4096 -L TIMEEXT -d e ext.img 16M; debugfs -w -R "rm /gone.txt" ext.img >/dev/null 2>&1
debugfs -w -R "rm /GoneDir/within.txt" ext.img >/dev/null 2>&1; debugfs -w -R "rmdir /GoneDir" ext.img >/dev/null 2>&1
debugfs -w -R "sif /Other/keep.txt mtime_extra 4000" ext.img >/dev/null 2>&1
mkfs.ext2 -q -F -b 1024 -L TIMEEXT2 -d e ext2.img 8M
dd if=fat.img of=base.raw bs=512 seek=2048 conv=notrunc status=none
dd if=ntfs.img of=base.raw bs=512 seek=34816 conv=notrunc status=none
dd if=ext.img of=base.raw bs=512 seek=67584 conv=notrunc status=none
dd if=ext2.img of=base.raw bs=512 seek=100352 conv=notrunc status=none
cp base.raw child.raw
printf 'rewritten in the child\n' > new; mcopy -o -i "child.raw@@$((2048*512))" new ::/Other/KEEP.TXT 2>/dev/null || mattrib -i "child.raw@@$((2048*512))" -r ::/Other/KEEP.TXT
dd if=child.raw of=ext.img bs=512 skip=67584 count=32768 status=none
debugfs -w -R "sif /Deep/Inner/file.txt mtime 20200101000000" ext.img >/dev/null 2>&1
dd if=ext.img of=child.raw bs=512 seek=67584 conv=notrunc status=none
./vfr dynamic base.raw base.vhd
./vfr child base.raw base.vhd child.raw child.vhd
rm -f fat.img ntfs.img ext.img ext2.img
touch done
"#;

/// The partitions: (index, first sector).
const PARTS: [(u32, u64); 4] = [(1, 2048), (2, 34816), (3, 67584), (4, 100352)];

fn disks() -> PathBuf {
    let vfr = vhd_from_raw();
    script_image("timeline", "disks", DISKS, &[("vfr", &vfr)], "done", &["m", "e"])
}

/// `fls -r -m /` of partition at `start` of `raw`, sorted. sleuthkit 4.11 writes a zero NTFS
/// time as 3373865674 (4.12 writes 0, as we do); `$OrphanFiles`' content is not ours to list.
fn fls(raw: &Path, start: u64, deleted: bool) -> Vec<String> {
    let mut cmd = Command::new("fls");
    cmd.args(["-r", "-m", "/", "-o", &start.to_string()]);
    if !deleted {
        cmd.arg("-u");
    }
    let o = run_ok(cmd.arg(raw));
    let mut v: Vec<String> =
        stdout(&o).lines().filter(|l| !l.starts_with("0|/$OrphanFiles/")).map(|l| l.replace("|3373865674", "|0")).collect();
    v.sort();
    v
}

fn ours(vhd: &Path, part: u32, extra: &[&str]) -> Vec<String> {
    let p = part.to_string();
    let mut args = vec!["timeline", p_str(vhd), "--bodyfile", "--partition", &p];
    args.extend_from_slice(extra);
    let o = cli(&args);
    assert!(o.status.success(), "timeline {args:?}: {}", stderr(&o));
    let mut v: Vec<String> = stdout(&o).lines().map(String::from).collect();
    v.sort();
    v
}

/// sleuthkit (4.11 and today) does not give the target of an ext4 symbolic link kept in an
/// extent-mapped block (60 bytes or more; ext2's block-mapped ones it gives): where its listing
/// has a link's line without the target, ours is compared without it.
fn as_sleuthkit(mine: Vec<String>, theirs: &[String]) -> Vec<String> {
    let mut v: Vec<String> = mine
        .into_iter()
        .map(|line| {
            let cols: Vec<&str> = line.split('|').collect();
            match cols[1].split_once(" -> ") {
                Some((name, _)) if cols[3].starts_with("l/l") && !theirs.contains(&line) => {
                    let mut c = cols.clone();
                    c[1] = name;
                    c.join("|")
                }
                _ => line.clone(),
            }
        })
        .collect();
    v.sort();
    v
}

fn p_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn flat(vhd: &Path, extra: &[&str]) -> PathBuf {
    let out = vhd.with_extension(format!("flat{}.raw", extra.join("")));
    if !out.is_file() {
        write_atomic(&out, &viewer_cat(vhd, extra));
    }
    out
}

#[test]
fn the_body_file_is_fls_line_for_line_on_fat_ntfs_and_ext4_through_a_chain() {
    let dir = disks();
    for (vhd, extra) in [(dir.join("base.vhd"), vec![]), (dir.join("child.vhd"), vec![]), (dir.join("child.vhd"), vec!["--layer", "1"])] {
        let raw = flat(&vhd, &extra);
        for (part, start) in PARTS {
            for deleted in [false, true] {
                let mut args = extra.clone();
                if deleted {
                    args.push("--deleted");
                }
                let theirs = fls(&raw, start, deleted);
                let mine = as_sleuthkit(ours(&vhd, part, &args), &theirs);
                assert!(theirs.len() > 8, "fls lists {} lines on partition {part}", theirs.len());
                assert_eq!(mine, theirs, "{} {extra:?} partition {part} deleted {deleted}", vhd.display());
            }
        }
    }
    // What the comparison covers: a FAT deleted long name, an NTFS stream, $FILE_NAME line,
    // deleted file and attributes in extension records (sleuthkit's renumbered ids), an ext
    // symlink, files in deleted directories (entered as fls -r enters them).
    let child = dir.join("child.vhd");
    let all: Vec<String> = PARTS.iter().flat_map(|(p, _)| ours(&child, *p, &["--deleted"])).collect();
    for want in [
        "0|/Deleted long name.txt (deleted)|",
        "0|/s.txt:secret|",
        "0|/Dir/a.txt ($FILE_NAME)|",
        "0|/gone.txt (deleted)|",
        "0|/streams.txt:s150|",
        "0|/link -> Deep/Inner/file.txt|",
    ] {
        assert!(all.iter().any(|l| l.starts_with(want)), "no line {want}");
    }
}

#[test]
fn mactime_reads_our_body_file_as_it_reads_fls() {
    let dir = disks();
    let vhd = dir.join("child.vhd");
    let raw = flat(&vhd, &[]);
    let work = dir.join("mactime");
    std::fs::create_dir_all(&work).unwrap();
    for (part, start) in PARTS {
        let mac = |lines: &[String], name: &str| {
            let f = work.join(name);
            std::fs::write(&f, lines.join("\n") + "\n").unwrap();
            stdout(&run_ok(Command::new("mactime").args(["-b", p_str(&f), "-z", "UTC", "-d"])))
        };
        let theirs = fls(&raw, start, true);
        let (a, b) = (mac(&as_sleuthkit(ours(&vhd, part, &["--deleted"]), &theirs), "ours"), mac(&theirs, "fls"));
        assert!(a.lines().count() > 8);
        assert_eq!(a, b, "partition {part}");
    }
}

#[test]
fn csv_and_json_are_sorted_by_time_one_row_per_time() {
    let vhd = disks().join("child.vhd");
    let body = ours(&vhd, 2, &[]);
    let times: usize = body.iter().map(|l| l.split('|').skip(7).filter(|t| *t != "0").count()).sum();
    let o = cli(&["timeline", p_str(&vhd), "--partition", "2", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: Vec<Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), times, "one row per time of each line");
    let at = |r: &Value| (r["unix"].as_u64().unwrap(), r["nanos"].as_u64().unwrap());
    assert!(rows.windows(2).all(|w| at(&w[0]) <= at(&w[1])), "sorted by time");
    // NTFS keeps 100 ns steps: ntfs-3g writes them, and the ISO time shows them.
    let fine = rows.iter().find(|r| r["nanos"].as_u64() != Some(0)).expect("a time with nanoseconds");
    assert!(fine["time"].as_str().unwrap().contains('.'), "{fine}");
    // ext4: an inode's mtime_extra 4000 is 1000 ns (its high 30 bits).
    let o = cli(&["timeline", p_str(&vhd), "--partition", "3", "--json"]);
    let ext: Vec<Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let m = ext.iter().find(|r| r["path"] == "/Other/keep.txt" && r["kind"] == "m").unwrap();
    assert_eq!(m["nanos"], 1000, "{m}");
    for k in ["time", "unix", "nanos", "kind", "attribute", "partition", "path", "inode", "size", "deleted", "layer"] {
        assert!(rows[0].get(k).is_some(), "no {k}: {}", rows[0]);
    }
    assert!(rows.iter().any(|r| r["attribute"] == "fn") && rows.iter().any(|r| r["attribute"] == "si"));
    let o = cli(&["timeline", p_str(&vhd), "--partition", "2", "--csv"]);
    let text = stdout(&o);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("time,unix,nanos,kind,attribute,partition,path,inode,size,deleted,layer"));
    let unix: Vec<u64> = lines.map(|l| l.split(',').nth(1).unwrap().parse().unwrap()).collect();
    assert_eq!(unix.len(), times);
    assert!(unix.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn each_line_says_which_layer_wrote_its_metadata() {
    let vhd = disks().join("child.vhd");
    let rows = |part: &str| -> Vec<Value> {
        let o = cli(&["timeline", p_str(&vhd), "--partition", part, "--json"]);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    };
    // ext4: the child set one inode's mtime; the child holds the 4 KiB of the inode table
    // around it (16 inodes of 256 bytes), the parent every other inode.
    let ext = rows("3");
    let touched: u64 = ext.iter().find(|r| r["path"] == "/Deep/Inner/file.txt").unwrap()["inode"].as_str().unwrap().parse().unwrap();
    for r in &ext {
        let Ok(n) = r["inode"].as_str().unwrap().parse::<u64>() else { continue };
        let want = if (n - 1) / 16 == (touched - 1) / 16 { 0 } else { 1 };
        assert_eq!(r["layer"], want, "{r}");
    }
    assert!(ext.iter().any(|r| r["path"] == "/Deep/Inner/file.txt" && r["kind"] == "m" && r["unix"] == 1_577_836_800), "the child's mtime");
    // NTFS and ext2: the child wrote nothing there: every line from the parent.
    assert!(rows("2").iter().all(|r| r["layer"] == 1));
    assert!(rows("4").iter().all(|r| r["layer"] == 1));
    // FAT: the rewritten file's entry from the child; the root directory's entries (its own
    // region, which the child did not write) from the parent.
    let fat = rows("1");
    let layer = |path: &str| -> Vec<Value> { fat.iter().filter(|r| r["path"] == path).map(|r| r["layer"].clone()).collect() };
    assert_eq!(layer("/Other/KEEP.TXT"), [0, 0, 0]);
    assert_eq!(layer("/EMPTY.DAT"), [1, 1, 1]);
    assert_eq!(layer("/Deep"), [1, 1, 1]);
}

#[test]
fn a_directory_loop_is_listed_once() {
    // FAT16 whose /A/B points back at /A's cluster.
    let dir = script_image(
        "timeline",
        "loop",
        r#"
set -euo pipefail
export MTOOLS_SKIP_CHECK=1 TZ=UTC
truncate -s 20M disk.raw; mkfs.vfat -F 16 -n LOOP disk.raw >/dev/null
printf 'x\n' > x; mmd -i disk.raw ::/A ::/A/B; mcopy -i disk.raw x ::/A/file.txt
python3 - <<'PY'
b = bytearray(open('disk.raw', 'rb').read())
a = b.find(b'A          \x10'); c = b.find(b'B          \x10')
b[c + 26:c + 28] = b[a + 26:a + 28]
open('disk.raw', 'wb').write(b)
PY
touch done
"#,
        &[],
        "done",
        &[],
    );
    let raw = dir.join("disk.raw");
    let vhd = dir.join("loop.vhd");
    run_ok(Command::new(vhd_from_raw()).args(["dynamic", p_str(&raw), p_str(&vhd)]));
    let o = cli(&["timeline", p_str(&vhd), "--bodyfile"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert_eq!(text.lines().filter(|l| l.contains("/file.txt|")).count(), 1, "A/file.txt once, B (A again) not entered:\n{text}");
    assert!(text.lines().count() < 20, "{text}");
}

#[test]
fn a_bitlocker_volume_unlocked_gives_the_plain_volumes_times() {
    let dir = common::bitlocker::bitlocker_vhds();
    let vhd = dir.join("xts128.vhd");
    let man = common::bitlocker::bitlocker_manifest("xts128");
    let password =
        man["protectors"].as_array().unwrap().iter().find(|k| k["kind"] == "password").unwrap()["password"].as_str().unwrap().to_string();
    let theirs = fls(&dir.join("ntfs.img"), 0, true);
    let mine = as_sleuthkit(ours(&vhd, 1, &["--deleted", "--password", &password]), &theirs);
    assert!(theirs.len() > 8);
    assert_eq!(mine, theirs);
    // Locked, there is no file system to list.
    let o = cli(&["timeline", p_str(&vhd), "--partition", "1", "--bodyfile"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
