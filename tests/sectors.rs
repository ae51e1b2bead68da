//! Sectors as the disk says: disks of 4096-byte logical sectors (and the same disks in 512-byte
//! ones) made by the real tools (`fdisk -b`, `mkfs.ext4 -E offset`, `mkfs.vfat -S`, `debugfs`,
//! `mtools`), wrapped into VHDX files of those logical sectors by the project's writer (and into
//! VHDs for 512), a differencing child over each, and read back with `parts`, `ls`, `get`,
//! `owner`, `cat` and `diff`. Sleuthkit (`mmls -b`, `fls -b -o`) reads the raw images and 7-Zip the
//! VHDX; every file read must equal the file written.

mod common;
use common::*;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use vhd_viewer::parts::{self, Scheme, Sectors};
use vhd_viewer::values::Uuid;
use vhd_viewer::vhd::writer::DiskBuilder;
use vhd_viewer::vhdx::writer::VhdxBuilder;
use vhd_viewer::vhdx::Guid;

const MIB: u64 = 1 << 20;

/// What the image scripts share: `tree` (the files put in the volumes) and `child_files` (what
/// the child layer adds and rewrites).
const LIB: &str = r#"
set -euo pipefail
export LC_ALL=C.UTF-8 MTOOLS_SKIP_CHECK=1 TZ=UTC
mkdir -p tree/sub/deeper added
printf 'hello\n' > tree/hello.txt
head -c 300000 /dev/urandom > tree/sub/big.bin
head -c 70000 /dev/urandom > tree/sub/deeper/medium.bin
: > tree/empty
head -c 50000 /dev/urandom > added/added.bin
printf 'changed in the child\n' > added/hello.txt
M=$((1048576 / SS))
"#;

/// A GPT disk of 64 MiB with one ext4 partition from 1 MiB to 1 MiB before the end; the child
/// adds `/sub/added.bin` and rewrites `/hello.txt` through debugfs.
const GPT: &str = r#"
truncate -s 64M base.raw
printf 'g\nn\n1\n%d\n%d\nt\n20\nw\n' $M $((63 * M - 1)) | fdisk -b $SS base.raw >/dev/null
mkfs.ext4 -q -F -b 4096 -L SECTORS -d tree -E offset=1048576 base.raw $((62 * 256))
dd if=base.raw of=p.img bs=1M skip=1 count=62 status=none
printf 'cd /sub\nwrite added/added.bin added.bin\ncd /\nrm hello.txt\nwrite added/hello.txt hello.txt\n' > cmds
debugfs -w -f cmds p.img >/dev/null 2>&1
cp base.raw child.tmp; dd if=p.img of=child.tmp bs=1M seek=1 conv=notrunc status=none; rm p.img
mv child.tmp child.raw
"#;

/// An MBR disk of 96 MiB: ext4 in primary 1 at 1 MiB (32 MiB long), an extended partition from
/// 33 MiB to the end with FAT16 in logical 5 at 34 MiB (40 MiB long, sectors of the disk's size);
/// the child adds `/sub/added.bin` to the FAT and rewrites its `/hello.txt`.
const MBR: &str = r#"
truncate -s 96M base.raw
printf 'o\nn\np\n1\n%d\n%d\nn\ne\n2\n%d\n%d\nn\n%d\n%d\nt\n1\n83\nt\n5\n06\nw\n' \
  $M $((33 * M - 1)) $((33 * M)) $((96 * M - 1)) $((34 * M)) $((74 * M - 1)) | fdisk -b $SS base.raw >/dev/null
mkfs.ext4 -q -F -b 4096 -L SECTORS -d tree -E offset=1048576 base.raw $((32 * 256))
truncate -s 40M p5.img
mkfs.vfat -S $SS -s $((4096 / SS)) -F 16 -n LOGICAL -h $((34 * M)) p5.img >/dev/null
mmd -i p5.img ::/sub ::/sub/deeper
mcopy -i p5.img tree/hello.txt ::/hello.txt; mcopy -i p5.img tree/empty ::/empty
mcopy -i p5.img tree/sub/big.bin ::/sub/big.bin; mcopy -i p5.img tree/sub/deeper/medium.bin ::/sub/deeper/medium.bin
dd if=p5.img of=base.raw bs=1M seek=34 conv=notrunc status=none
mcopy -i p5.img added/added.bin ::/sub/added.bin; mcopy -o -i p5.img added/hello.txt ::/hello.txt
cp base.raw child.tmp; dd if=p5.img of=child.tmp bs=1M seek=34 conv=notrunc status=none; rm p5.img
mv child.tmp child.raw
"#;

/// The raw images of `script` for sectors of `ss` bytes: the folder holding `base.raw`,
/// `child.raw`, `tree/` and `added/`.
fn images(name: &str, script: &str, ss: u32) -> PathBuf {
    script_image("sectors", &format!("{name}-{ss}"), &format!("SS={ss}\n{LIB}{script}"), &[], "child.raw", &[])
}

/// A dynamic VHDX of `raw` with `ss`-byte logical sectors, its `DataWriteGuid` 16 times `id`;
/// with `parent` (its raw image, id and file name), a differencing child of it holding the
/// sectors where `raw` differs, as a hypervisor writes them.
fn vhdx(raw: &[u8], ss: u32, id: u8, parent: Option<(&[u8], u8, &str)>) -> Vec<u8> {
    let mut b = VhdxBuilder::new(raw.len() as u64);
    b.logical_sector_size = ss;
    b.data_write_guid = Guid([id; 16]);
    if let Some((_, pid, name)) = parent {
        b = b.child_of(Guid([pid; 16]), name);
    }
    for (k, chunk) in raw.chunks(ss as usize).enumerate() {
        let at = k * ss as usize;
        let keep = match parent {
            Some((p, _, _)) => p[at..at + chunk.len()] != *chunk,
            None => chunk.iter().any(|x| *x != 0),
        };
        if keep {
            match b.writes.last_mut() {
                Some((o, bytes)) if *o + bytes.len() as u64 == at as u64 => bytes.extend_from_slice(chunk),
                _ => b.writes.push((at as u64, chunk.to_vec())),
            }
        }
    }
    b.build()
}

/// The chain `child.EXT` over `base.EXT` in a scratch folder: VHDX of `ss`-byte sectors, or
/// (`vhd`) VHDs, which have 512-byte sectors.
fn chain(img: &Path, ss: u32, vhd: bool, name: &str) -> (PathBuf, PathBuf) {
    let (base, child) = (std::fs::read(img.join("base.raw")).unwrap(), std::fs::read(img.join("child.raw")).unwrap());
    let dir = scratch(name);
    if vhd {
        let b = dynamic_vhd(&base, &format!("{name}-base"));
        let mut c = DiskBuilder::differencing(&b.parent_ref("base.vhd"), 2 * MIB as u32);
        c.unique_id(Uuid(id_for(&format!("{name}-child"))));
        for (k, (x, y)) in base.chunks(512).zip(child.chunks(512)).enumerate() {
            if x != y {
                c.write(k as u64 * 512, y);
            }
        }
        std::fs::write(dir.join("base.vhd"), b.build()).unwrap();
        std::fs::write(dir.join("child.vhd"), c.build()).unwrap();
        return (dir.join("base.vhd"), dir.join("child.vhd"));
    }
    std::fs::write(dir.join("base.vhdx"), vhdx(&base, ss, 0x21, None)).unwrap();
    std::fs::write(dir.join("child.vhdx"), vhdx(&child, ss, 0x22, Some((&base, 0x21, "base.vhdx")))).unwrap();
    (dir.join("base.vhdx"), dir.join("child.vhdx"))
}

fn ok_json(args: &[&str]) -> Value {
    let o = cli(args);
    assert!(o.status.success(), "vhd-viewer {args:?}: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("vhd-viewer {args:?}: not JSON ({e})"))
}

/// `mmls -b SS`: (start, length) of each allocated partition, in `ss`-byte sectors.
fn mmls(raw: &Path, ss: u32) -> Vec<(u64, u64)> {
    let o = run_ok(Command::new("mmls").args(["-b", &ss.to_string()]).arg(raw));
    stdout(&o)
        .lines()
        .filter(|l| {
            l.split_whitespace().nth(1).is_some_and(|slot| slot.contains(':') && slot.chars().all(|c| c.is_ascii_digit() || c == ':'))
        })
        .map(|l| {
            let c: Vec<u64> = l.split_whitespace().skip(2).take(3).map(|v| v.parse().unwrap()).collect();
            (c[0], c[2])
        })
        .collect()
}

/// `fls -r -p -b SS -o START`: path -> (type, size) of the live entries, sleuthkit's virtual ones
/// left out.
fn fls(raw: &Path, ss: u32, start: u64) -> BTreeMap<String, (char, u64)> {
    let o = run_ok(Command::new("fls").args(["-r", "-p", "-l", "-b", &ss.to_string(), "-o", &start.to_string()]).arg(raw));
    stdout(&o)
        .lines()
        .filter_map(|l| {
            let (head, rest) = l.split_once(":\t")?;
            let cols: Vec<&str> = rest.split('\t').collect();
            let bad = head.contains(" * ") || head.starts_with("v/v") || head.starts_with("V/V") || cols[0].starts_with("$OrphanFiles");
            let size = cols.get(5)?.parse().ok()?;
            (!bad && !cols[0].ends_with("(Volume Label Entry)"))
                .then(|| (format!("/{}", cols[0]), (head.chars().nth(2).unwrap_or('?'), size)))
        })
        .collect()
}

/// `ls -r --json` of partition `part`: path -> (type, size), the system's own folders left out.
fn ls(disk: &Path, part: u64, extra: &[&str]) -> BTreeMap<String, (char, u64)> {
    let p = part.to_string();
    let mut args = vec!["ls", disk.to_str().unwrap(), "/", "-r", "--json", "--partition", &p];
    args.extend_from_slice(extra);
    let o = cli(&args);
    assert!(o.status.success(), "vhd-viewer {args:?}: {}", stderr(&o));
    stdout(&o)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["deleted"] == false && v["path"] != "/")
        .map(|v| {
            let t = match v["type"].as_str() {
                Some("dir") => 'd',
                Some("file") => 'r',
                _ => '?',
            };
            (v["path"].as_str().unwrap().to_string(), (t, v["size"].as_u64().unwrap()))
        })
        .collect()
}

fn get(disk: &Path, part: u64, path: &str, extra: &[&str]) -> Vec<u8> {
    let p = part.to_string();
    let mut args = vec!["get", disk.to_str().unwrap(), path, "--partition", &p];
    args.extend_from_slice(extra);
    let o = cli(&args);
    assert!(o.status.success(), "vhd-viewer {args:?}: {}", stderr(&o));
    o.stdout
}

/// Where the first `ss` bytes of `file` lie in `raw`, searched at `ss`-byte boundaries.
fn find_sector(raw: &[u8], file: &[u8], ss: usize) -> u64 {
    let want = &file[..ss];
    raw.chunks(ss).position(|c| c == want).unwrap_or_else(|| panic!("the file's first sector is not in the image")) as u64
}

/// `owner --json` of sector `sector`.
fn owner(disk: &Path, sector: u64, extra: &[&str]) -> Value {
    let s = sector.to_string();
    let mut args = vec!["owner", "--json", disk.to_str().unwrap(), &s];
    args.extend_from_slice(extra);
    ok_json(&args)
}

/// What the test expects of one disk: its partitions (index, first byte, bytes, file system,
/// label; each holds the files of `tree/`) and the one the child changes (with `added/`).
struct Want {
    scheme: Scheme,
    parts: Vec<(u64, u64, u64, &'static str, &'static str)>,
    changed: u64,
}

/// Everything about one chain: `parts` against `mmls` and what was written, `ls` against `fls`
/// and the folders written, `get` against the files written, `owner` against where the file's
/// bytes are in the image, and `cat` against the raw image, as of the child and of the parent.
fn check_chain(img: &Path, ss: u32, vhd: bool, want: &Want, name: &str) {
    let (base, child) = chain(img, ss, vhd, name);
    assert!(!vhd || ss == 512, "a VHD has 512-byte sectors: only the 512 images are wrapped as VHDs");
    let base_raw = std::fs::read(img.join("base.raw")).unwrap();
    let child_raw = std::fs::read(img.join("child.raw")).unwrap();
    // diff: the child holds the sectors that differ, whole sectors of the disk's size; the
    // changed partition has the file added and the file rewritten, the others nothing.
    let d = ok_json(&["diff", "--json", child.to_str().unwrap()]);
    let differing = base_raw.chunks(ss as usize).zip(child_raw.chunks(ss as usize)).filter(|(a, b)| a != b).count() as u64;
    assert_eq!(d["held_bytes"], differing * u64::from(ss), "{}: diff holds the differing sectors: {d}", child.display());
    assert_eq!(d["outside_partitions_bytes"], 0);
    for p in d["partitions"].as_array().unwrap() {
        let mut changes: Vec<(&str, &str)> =
            p["changes"].as_array().unwrap().iter().map(|c| (c["path"].as_str().unwrap(), c["kind"].as_str().unwrap())).collect();
        changes.sort();
        let want_changes = if p["index"] == want.changed { vec![("/hello.txt", "modified"), ("/sub/added.bin", "added")] } else { vec![] };
        assert_eq!(changes, want_changes, "{}: diff of partition {}", child.display(), p["index"]);
    }
    for (disk, extra, raw_name, raw) in [
        (&base, vec![], "base.raw", &base_raw),
        (&child, vec![], "child.raw", &child_raw),
        (&child, vec!["--layer", "1"], "base.raw", &base_raw),
    ] {
        let what = format!("{} {extra:?}", disk.display());
        assert_same_bytes(&format!("cat {what}"), &viewer_cat(disk, &extra), raw);
        let mut args = vec!["parts", "--json", disk.to_str().unwrap()];
        args.extend_from_slice(&extra);
        let t = ok_json(&args);
        assert_eq!(t["sector_size"], ss, "{what}: {t}");
        assert_eq!(t["scheme"], serde_json::to_value(want.scheme).unwrap(), "{what}");
        assert_eq!(t["findings"], serde_json::json!([]), "{what}: no findings on a sound table");
        let found: Vec<&Value> = t["partitions"].as_array().unwrap().iter().filter(|p| p["role"] != "extended").collect();
        let got: Vec<(u64, u64, u64, &str, &str)> = found
            .iter()
            .map(|p| {
                let (s, n) = (p["start_sector"].as_u64().unwrap(), p["sector_count"].as_u64().unwrap());
                (
                    p["index"].as_u64().unwrap(),
                    s * u64::from(ss),
                    n * u64::from(ss),
                    p["filesystem"].as_str().unwrap_or("-"),
                    p["label"].as_str().unwrap_or("-"),
                )
            })
            .collect();
        assert_eq!(got, want.parts, "{what}: partitions (index, byte offset, bytes, file system, label)");
        // Sleuthkit, told the sector size, places them the same (the extended container too).
        let all: Vec<(u64, u64)> = t["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["start_sector"].as_u64().unwrap(), p["sector_count"].as_u64().unwrap()))
            .collect();
        let raw_path = img.join(raw_name);
        for m in mmls(&raw_path, ss) {
            assert!(all.contains(&m), "{what}: mmls -b {ss} has {m:?}, we have {all:?}");
        }
        for &(index, offset, _, _, _) in &want.parts {
            let layer0 = extra.is_empty() && disk == &child && index == want.changed;
            let start = offset / u64::from(ss);
            let mine = ls(disk, index, &extra);
            // Sizes of files (a folder's differs: ext gives its blocks, we give none).
            let norm = |m: BTreeMap<String, (char, u64)>| -> BTreeMap<String, (char, u64)> {
                m.into_iter()
                    .filter(|(p, _)| !p.starts_with("/lost+found"))
                    .map(|(p, (t, n))| (p, (t, if t == 'd' { 0 } else { n })))
                    .collect()
            };
            let (mine, theirs) = (norm(mine), norm(fls(&raw_path, ss, start)));
            assert_eq!(mine, theirs, "{what}: partition {index}: ls against fls -b {ss} -o {start}");
            // The files written, byte for byte.
            let mut files = vec!["hello.txt", "empty", "sub/big.bin", "sub/deeper/medium.bin"];
            if layer0 {
                files.push("sub/added.bin");
            }
            for f in files {
                let from = if layer0 && f == "hello.txt" { img.join("added/hello.txt") } else { img.join("tree").join(f) };
                let expected =
                    if layer0 && f == "sub/added.bin" { std::fs::read(img.join("added/added.bin")) } else { std::fs::read(&from) };
                assert_same_bytes(
                    &format!("get {f} from {what} partition {index}"),
                    &get(disk, index, &format!("/{f}"), &extra),
                    &expected.unwrap(),
                );
            }
            // owner: the sector holding big.bin's first bytes (found in the image, not asked of
            // the core), and the child's new file, with the layer that supplies each.
            let big = std::fs::read(img.join("tree/sub/big.bin")).unwrap();
            let inside = &raw[offset as usize..];
            let s = start + find_sector(inside, &big, ss as usize);
            let o = owner(disk, s, &extra);
            assert_eq!(
                (o["path"].as_str(), o["file_offset"].as_u64(), o["partition"].as_u64()),
                (Some("/sub/big.bin"), Some(0), Some(index)),
                "{what}: owner {s}: {o}"
            );
            assert_eq!(o["sector"], s);
            assert_eq!(o["sector_size"], ss);
            let base_layer = if disk == &child { 1 } else { 0 };
            assert_eq!(o["layer"], base_layer, "{what}: owner {s}: big.bin is the parent's: {o}");
            if layer0 {
                let added = std::fs::read(img.join("added/added.bin")).unwrap();
                let s = start + find_sector(inside, &added, ss as usize);
                let o = owner(disk, s, &extra);
                assert_eq!((o["path"].as_str(), o["layer"].as_u64()), (Some("/sub/added.bin"), Some(0)), "{what}: owner {s}: {o}");
            }
        }
        // The table's own sectors.
        let o = owner(disk, 0, &extra);
        assert_eq!((o["kind"].as_str(), o["what"].as_str()), (Some("structure"), Some("MBR")), "{what}: {o}");
        if want.scheme == Scheme::Gpt {
            let o = owner(disk, 1, &extra);
            assert_eq!(o["what"], "GPT header (primary)", "{what}: {o}");
            let last = raw.len() as u64 / u64::from(ss) - 1;
            assert_eq!(owner(disk, last, &extra)["what"], "GPT header (backup)", "{what}");
        }
    }
}

fn gpt_want() -> Want {
    Want { scheme: Scheme::Gpt, parts: vec![(1, MIB, 62 * MIB, "ext4", "SECTORS")], changed: 1 }
}

fn mbr_want() -> Want {
    Want {
        scheme: Scheme::Mbr,
        parts: vec![(1, MIB, 32 * MIB, "ext4", "SECTORS"), (5, 34 * MIB, 40 * MIB, "fat16", "LOGICAL")],
        changed: 5,
    }
}

#[test]
fn a_gpt_disk_of_4096_byte_sectors_through_a_vhdx_chain() {
    check_chain(&images("gpt", GPT, 4096), 4096, false, &gpt_want(), "sectors-gpt-4096");
}

#[test]
fn an_mbr_disk_of_4096_byte_sectors_with_a_logical_partition_through_a_vhdx_chain() {
    check_chain(&images("mbr", MBR, 4096), 4096, false, &mbr_want(), "sectors-mbr-4096");
}

#[test]
fn the_same_disks_of_512_byte_sectors_through_vhdx_and_vhd_chains() {
    for (name, script, want) in [("gpt", GPT, gpt_want()), ("mbr", MBR, mbr_want())] {
        let img = images(name, script, 512);
        check_chain(&img, 512, false, &want, &format!("sectors-{name}-512x"));
        check_chain(&img, 512, true, &want, &format!("sectors-{name}-512v"));
    }
}

/// The raw images read in memory, told their sector size, give the tables the files do; read
/// in the other size, the GPT is not found where that size puts it, and the finding says where
/// it is instead.
#[test]
fn raw_bytes_read_in_the_sector_size_given() {
    for ss in [4096u32, 512] {
        let img = images("gpt", GPT, ss);
        let raw = std::fs::read(img.join("base.raw")).unwrap();
        let t = parts::read(&mut Sectors { inner: raw.clone(), sector_size: ss }).unwrap();
        assert_eq!((t.scheme, t.sector_size, t.findings.len()), (Scheme::Gpt, ss, 0), "{:?}", t.findings);
        assert_eq!(t.partitions.iter().map(|p| (p.offset(), p.len())).collect::<Vec<_>>(), vec![(MIB, 62 * MIB)]);
        let other = if ss == 512 { 4096 } else { 512 };
        let t = parts::read(&mut Sectors { inner: raw.clone(), sector_size: other }).unwrap();
        assert!(t.partitions.is_empty(), "{:?}", t.partitions);
        let f = t.findings.iter().find(|f| f.code == "gpt-signature").unwrap_or_else(|| panic!("{:?}", t.findings));
        assert!(f.message.contains(&format!("there is one at byte {ss}")), "{}", f.message);
        // Bytes without a sector size are read in 512-byte ones.
        assert_eq!(parts::read(&mut raw.clone()).unwrap().sector_size, 512);
    }
    let t = parts::read(&mut Sectors { inner: vec![0u8; 8192], sector_size: 1000 }).unwrap();
    assert_eq!(t.findings.iter().map(|f| f.code).collect::<Vec<_>>(), ["sector-size"]);
}

/// 7-Zip opens the VHDX of 4096-byte sectors itself (it reads the sector size from the VHDX
/// metadata): its listing of the ext4 volume equals ours, through the child too.
#[test]
fn sevenzip_lists_the_4096_byte_sector_gpt_disk_as_we_do() {
    let img = images("gpt", GPT, 4096);
    let (base, child) = chain(&img, 4096, false, "sectors-7z");
    for disk in [&base, &child] {
        let o = run_ok(Command::new("7zz").args(["l", "-slt"]).arg(disk));
        let text = stdout(&o);
        // The items follow a line of dashes (the archive's own properties come before it).
        let text = text.split_once("\n----------\n").map_or("", |(_, items)| items);
        let mut theirs = BTreeMap::new();
        for item in text.split("\n\n").filter(|b| b.contains("Path = ")) {
            let field = |k: &str| item.lines().find_map(|l| l.strip_prefix(&format!("{k} = ")).map(str::to_string));
            let (Some(path), Some(size)) = (field("Path"), field("Size")) else { continue };
            if path.starts_with("[SYS]") || path.starts_with("lost+found") || field("Folder").as_deref() == Some("+") {
                continue;
            }
            theirs.insert(format!("/{path}"), size.parse::<u64>().unwrap());
        }
        let mine: BTreeMap<String, u64> = ls(disk, 1, &[])
            .into_iter()
            .filter(|(p, (t, _))| *t == 'r' && !p.starts_with("/lost+found"))
            .map(|(p, (_, s))| (p, s))
            .collect();
        assert!(mine.len() >= 4, "{mine:?}");
        assert_eq!(mine, theirs, "{}: ls against 7zz l", disk.display());
    }
}

/// NTFS formatted with 4096-byte sectors (`mkntfs -s 4096`) on the whole disk, no table: one
/// partition of the disk's 4096-byte sectors, the file copied in read back whole, and the
/// sector holding its first bytes owned by it.
#[test]
fn an_ntfs_volume_of_4096_byte_sectors_on_the_whole_disk() {
    let script = "set -euo pipefail\nhead -c 300000 /dev/urandom > big.bin\ntruncate -s 64M disk.tmp\n\
                  mkntfs -q -F -Q -s 4096 -c 4096 -L NT4K disk.tmp >/dev/null\nntfscp -q -f disk.tmp big.bin /big.bin\nmv disk.tmp disk.raw\n";
    let img = script_image("sectors", "ntfs-4096", script, &[], "disk.raw", &[]);
    let raw = std::fs::read(img.join("disk.raw")).unwrap();
    let dir = scratch("sectors-ntfs-4096");
    let disk = dir.join("ntfs.vhdx");
    std::fs::write(&disk, vhdx(&raw, 4096, 0x31, None)).unwrap();
    let t = ok_json(&["parts", "--json", disk.to_str().unwrap()]);
    assert_eq!((t["scheme"].as_str(), t["sector_size"].as_u64()), (Some("none"), Some(4096)), "{t}");
    let p = &t["partitions"][0];
    assert_eq!(
        (p["start_sector"].as_u64(), p["sector_count"].as_u64(), p["filesystem"].as_str()),
        (Some(0), Some(16384), Some("ntfs")),
        "{t}"
    );
    assert_eq!(p["label"], "NT4K");
    let big = std::fs::read(img.join("big.bin")).unwrap();
    assert_same_bytes("get /big.bin", &get(&disk, 0, "/big.bin", &[]), &big);
    assert!(ls(&disk, 0, &[]).contains_key("/big.bin"));
    let s = find_sector(&raw, &big, 4096);
    let o = owner(&disk, s, &[]);
    assert_eq!((o["path"].as_str(), o["file_offset"].as_u64(), o["sector_size"].as_u64()), (Some("/big.bin"), Some(0), Some(4096)), "{o}");
}
