//! Damaged and hostile partition tables and file systems: each is a finding or an error with its
//! offset, never a panic or a hang. The cases make the second table of
//! `docs/hostile-inputs.md` (`UPDATE_HOSTILE_TABLE=1 cargo test --test files_hostile` rewrites
//! it); the test fails when it drifts.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use vhd_viewer::values::Uuid;
use vhd_viewer::vhd::writer::DiskBuilder;

/// The marker before this table in docs/hostile-inputs.md (tests/hostile.rs owns what is above).
const MARK: &str = "\n## Partition tables and file systems\n";

const SIZE: u64 = 8 << 20;

/// CRC-32 (IEEE), bit by bit: written here, not taken from the core.
fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 };
        }
    }
    !c
}

fn le32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn mbr_entry(d: &mut [u8], slot: usize, ty: u8, start: u32, count: u32) {
    let o = 0x1BE + 16 * slot;
    d[o + 4] = ty;
    le32(d, o + 8, start);
    le32(d, o + 12, count);
    d[510] = 0x55;
    d[511] = 0xAA;
}

/// A GPT disk made by sgdisk (one partition), as raw bytes.
fn sgdisk_disk(dir: &Path) -> Vec<u8> {
    let raw = dir.join("gpt.raw");
    std::fs::write(&raw, vec![0u8; SIZE as usize]).unwrap();
    run_ok(
        Command::new("sgdisk")
            .args([
                "-U",
                "11111111-2222-3333-4444-555555555555",
                "-n",
                "1:2048:+4M",
                "-t",
                "1:0700",
                "-u",
                "1:66666666-7777-8888-9999-aaaaaaaaaaaa",
            ])
            .arg(&raw),
    );
    std::fs::read(&raw).unwrap()
}

/// Recomputes the GPT header CRC of the header at `at`.
fn fix_gpt_crc(d: &mut [u8], at: usize) {
    le32(d, at + 16, 0);
    let c = crc32(&d[at..at + 92]);
    le32(d, at + 16, c);
}

/// A FAT16 disk (no table) with a file of three clusters, `/three.bin`, made by mkfs.vfat + mtools.
fn fat_disk(dir: &Path) -> (Vec<u8>, usize) {
    let raw = dir.join("fat.raw");
    std::fs::write(&raw, vec![0u8; SIZE as usize]).unwrap();
    run_ok(Command::new("mkfs.vfat").args(["-F", "16", "-s", "1", "-i", "12345678"]).arg(&raw));
    std::fs::write(dir.join("three.bin"), vec![0x5a; 5000]).unwrap();
    run_ok(Command::new("mcopy").env("MTOOLS_SKIP_CHECK", "1").arg("-i").arg(&raw).arg(dir.join("three.bin")).arg("::/three.bin"));
    let d = std::fs::read(&raw).unwrap();
    let reserved = u16::from_le_bytes([d[14], d[15]]) as usize * 512;
    (d, reserved)
}

/// An NTFS disk (no table) with `/many.txt` holding 60 named streams, written by ntfscp (no
/// FUSE needed), which moves them to extension records reached through `$ATTRIBUTE_LIST`.
fn ntfs_streams_disk(dir: &Path) -> Vec<u8> {
    let raw = dir.join("ntfs.raw");
    std::fs::write(&raw, vec![0u8; SIZE as usize]).unwrap();
    run_ok(Command::new("mkntfs").args(["-q", "-F", "-c", "4096", "-H", "0", "-S", "0", "-p", "0"]).arg(&raw));
    let src = dir.join("stream.txt");
    std::fs::write(&src, b"main\n").unwrap();
    run_ok(Command::new("ntfscp").arg("-q").arg(&raw).arg(&src).arg("/many.txt"));
    for k in 1..=60 {
        std::fs::write(&src, format!("stream {k} {}\n", "0".repeat(300))).unwrap();
        run_ok(Command::new("ntfscp").args(["-q", "-N", &format!("s{k}")]).arg(&raw).arg(&src).arg("/many.txt"));
    }
    std::fs::read(&raw).unwrap()
}

/// The last MFT record on `d` (1 KiB records) that is an extension record of record `base`
/// holding a named $DATA attribute: its offset and the attribute's name.
fn extension_record_of(d: &[u8], base: u64) -> (usize, String) {
    let mut found = None;
    for at in (0..d.len() - 1024).step_by(1024) {
        let r = &d[at..at + 1024];
        if &r[..4] != b"FILE" || u64::from_le_bytes(r[0x20..0x28].try_into().unwrap()) & 0xFFFF_FFFF_FFFF != base {
            continue;
        }
        let mut a = u16::from_le_bytes([r[0x14], r[0x15]]) as usize;
        while a + 16 < 1024 && r[a..a + 4] != [0xFF; 4] {
            let len = u32::from_le_bytes(r[a + 4..a + 8].try_into().unwrap()) as usize;
            if len == 0 {
                break;
            }
            let (nlen, noff) = (r[a + 9] as usize, u16::from_le_bytes([r[a + 10], r[a + 11]]) as usize);
            if u32::from_le_bytes(r[a..a + 4].try_into().unwrap()) == 0x80 && nlen > 0 {
                let units: Vec<u16> = r[a + noff..a + noff + 2 * nlen].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
                found = Some((at, String::from_utf16_lossy(&units)));
            }
            a += len;
        }
    }
    found.expect("no extension record holds a stream")
}

struct Case {
    name: &'static str,
    what: &'static str,
    disk: Vec<u8>,
    /// The command, after the disk's path.
    args: Vec<&'static str>,
    /// What the output must contain (a finding code, or words of the error).
    expect: &'static str,
}

fn cases(dir: &Path) -> Vec<Case> {
    let mut v = Vec::new();
    let blank = vec![0u8; SIZE as usize];
    // MBR: an extended partition whose EBR links to itself.
    let mut d = blank.clone();
    mbr_entry(&mut d, 0, 0x05, 2048, 8192);
    let ebr = 2048 * 512;
    mbr_entry(&mut d[ebr..ebr + 512], 0, 0x83, 2048, 100);
    mbr_entry(&mut d[ebr..ebr + 512], 1, 0x05, 0, 100);
    v.push(Case {
        name: "ebr-loop",
        what: "an extended boot record whose link points back at itself",
        disk: d,
        args: vec!["parts"],
        expect: "ebr-loop",
    });
    // MBR: a partition past the disk's end.
    let mut d = blank.clone();
    mbr_entry(&mut d, 0, 0x07, 2048, 1_000_000_000);
    v.push(Case {
        name: "part-past-end",
        what: "an MBR partition of 10^9 sectors on an 8 MiB disk",
        disk: d,
        args: vec!["parts"],
        expect: "part-past-end",
    });
    // MBR: overlapping partitions.
    let mut d = blank.clone();
    mbr_entry(&mut d, 0, 0x83, 2048, 8000);
    mbr_entry(&mut d, 1, 0x83, 6000, 4000);
    v.push(Case { name: "parts-overlap", what: "two MBR partitions that overlap", disk: d, args: vec!["parts"], expect: "parts-overlap" });
    // GPT: the primary header's CRC is wrong: read through the backup.
    let g = sgdisk_disk(dir);
    let mut d = g.clone();
    d[512 + 60] ^= 0xFF;
    v.push(Case {
        name: "gpt-header-crc",
        what: "a GPT whose primary header has a wrong CRC-32 (the backup is good)",
        disk: d,
        args: vec!["parts"],
        expect: "gpt-header-crc",
    });
    // GPT: the entry array is damaged.
    let mut d = g.clone();
    d[1024 + 40] ^= 0xFF;
    v.push(Case {
        name: "gpt-entries-crc",
        what: "a GPT whose entry array does not match its CRC-32",
        disk: d,
        args: vec!["parts"],
        expect: "gpt-entries-crc",
    });
    // GPT: no backup header.
    let mut d = g.clone();
    let last = d.len() - 512;
    d[last..].fill(0);
    v.push(Case {
        name: "gpt-backup-missing",
        what: "a GPT without its backup header",
        disk: d,
        args: vec!["parts"],
        expect: "gpt-backup-missing",
    });
    // GPT: 2^32 - 1 entries (the header CRC made right).
    let mut d = g.clone();
    le32(&mut d, 512 + 80, u32::MAX);
    fix_gpt_crc(&mut d, 512);
    v.push(Case {
        name: "gpt-too-many-entries",
        what: "a GPT header claiming 4294967295 entries",
        disk: d,
        args: vec!["parts"],
        expect: "gpt-too-many-entries",
    });
    // FAT: a cluster chain that loops.
    let (f, fat) = fat_disk(dir);
    let first = f.windows(11).position(|w| w == b"THREE   BIN").map(|at| u16::from_le_bytes([f[at + 26], f[at + 27]]) as usize).unwrap();
    let mut d = f.clone();
    let e = fat + 2 * (first + 1);
    d[e..e + 2].copy_from_slice(&(first as u16).to_le_bytes());
    v.push(Case {
        name: "fat-chain-loop",
        what: "a FAT file whose cluster chain loops back to its first cluster",
        disk: d,
        args: vec!["get", "/three.bin"],
        expect: "loops",
    });
    // FAT: a chain that leaves the volume.
    let mut d = f.clone();
    let e = fat + 2 * first;
    d[e..e + 2].copy_from_slice(&0xFFF0u16.to_le_bytes());
    v.push(Case {
        name: "fat-chain-outside",
        what: "a FAT file whose chain points at cluster 0xfff0, past the last cluster",
        disk: d,
        args: vec!["get", "/three.bin"],
        expect: "outside the volume's clusters",
    });
    // NTFS: an extension record that names another base record (the root's) than the file whose
    // attribute list points at it: its stream is not taken as the file's.
    let mut d = ntfs_streams_disk(dir);
    let (at, stream) = extension_record_of(&d, 64);
    d[at + 0x20..at + 0x28].copy_from_slice(&5u64.to_le_bytes());
    v.push(Case {
        name: "ntfs-extension-other-base",
        what: "an NTFS extension record, holding a stream of a file's attribute list, whose base reference names another file",
        disk: d,
        args: vec!["get", Box::leak(format!("/many.txt:{stream}").into_boxed_str())],
        expect: "no $DATA attribute named",
    });
    v
}

fn vhd_of(dir: &Path, name: &str, raw: &[u8]) -> PathBuf {
    let mut b = DiskBuilder::dynamic(raw.len() as u64, 2 << 20);
    b.unique_id(Uuid(id_for(name)));
    for (k, c) in raw.chunks(64 << 10).enumerate() {
        if c.iter().any(|x| *x != 0) {
            b.write(k as u64 * (64 << 10), c);
        }
    }
    let p = dir.join(format!("{name}.vhd"));
    std::fs::write(&p, b.build()).unwrap();
    p
}

fn table() -> String {
    let dir = scratch("files-hostile");
    let mut out = String::from(MARK);
    out += "\nGenerated by `tests/files_hostile.rs` (`UPDATE_HOSTILE_TABLE=1 cargo test --test files_hostile`\n\
            rewrites this part). Each disk is made by the real tools (`sgdisk`, `mkfs.vfat` + mtools) or\n\
            written byte by byte, then patched, and wrapped into a dynamic VHD. Offsets are virtual disk\n\
            bytes. Every case also runs `parts`, `ls -r --deleted` and `owner` and finishes within seconds\n\
            without a panic.\n\n\
            | Input | Command | Exit | Code | Offset | What the viewer says |\n|---|---|---|---|---|---|\n";
    for c in cases(&dir) {
        let vhd = vhd_of(&dir, c.name, &c.disk);
        let v = vhd.to_str().unwrap();
        for extra in [vec!["parts", v], vec!["ls", v, "-r", "--deleted"], vec!["owner", v, "2100"]] {
            let t = Instant::now();
            let o = cli(&extra);
            assert!(o.status.code().is_some_and(|c| c <= 2), "{}: {extra:?} crashed: {}", c.name, stderr(&o));
            assert!(t.elapsed() < Duration::from_secs(20), "{}: {extra:?} took {:?}", c.name, t.elapsed());
        }
        let mut args = vec![c.args[0], v];
        args.extend_from_slice(&c.args[1..]);
        let o = cli(&args);
        let text = format!("{}{}", stdout(&o), stderr(&o));
        let line = text
            .lines()
            .find(|l| l.contains(c.expect))
            .unwrap_or_else(|| panic!("{}: {args:?} does not say {:?}:\n{text}", c.name, c.expect))
            .trim();
        let (code, offset, said) = match line.split_once("] ") {
            Some((head, msg)) => {
                let mut w = head.split_whitespace();
                let sev = w.next().unwrap_or("");
                let off = w.next().unwrap_or("-");
                (format!("{sev} `{}`", c.expect), off.to_string(), msg.to_string())
            }
            None => {
                let msg = line.trim_start_matches("vhd-viewer: ").to_string();
                let off = msg.strip_prefix("at byte ").and_then(|r| r.split(':').next()).unwrap_or("-").to_string();
                ("error".to_string(), off, msg)
            }
        };
        let cmd = c.args.join(" ");
        out +=
            &format!("| {} | `{cmd}` | {} | {code} | {offset} | {} |\n", c.what, o.status.code().unwrap_or(-1), said.replace('|', "\\|"));
    }
    out
}

#[test]
fn files_hostile_table_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs").join("hostile-inputs.md");
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    let (head, tail) = match have.find(MARK) {
        Some(i) => (have[..i].to_string(), have[i..].to_string()),
        None => (have.clone(), String::new()),
    };
    let want = table();
    if std::env::var_os("UPDATE_HOSTILE_TABLE").is_some() {
        std::fs::write(&path, format!("{head}{want}")).unwrap();
        return;
    }
    assert_eq!(tail, want, "docs/hostile-inputs.md's partition and file-system table is out of date (UPDATE_HOSTILE_TABLE=1 cargo test --test files_hostile rewrites it)");
}

/// `parts` exits as `check` does: 1 when the table has an error finding (what its spec forbids),
/// 0 when it has only warnings and notes, the same with `--json`.
#[test]
fn parts_exit_status_follows_checks_rule() {
    let dir = scratch("files-hostile-exit");
    let mut disks: Vec<(&str, Vec<u8>)> = cases(&dir).into_iter().filter(|c| c.args == ["parts"]).map(|c| (c.name, c.disk)).collect();
    disks.push(("clean-gpt", sgdisk_disk(&dir)));
    let mut mbr = vec![0u8; SIZE as usize];
    mbr_entry(&mut mbr, 0, 0x83, 63, 2000);
    disks.push(("unaligned-mbr", mbr));
    for (name, disk) in disks {
        let vhd = vhd_of(&dir, name, &disk);
        let v = vhd.to_str().unwrap();
        let json = cli(&["parts", v, "--json"]);
        let t: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap_or_else(|e| panic!("{name}: {e}: {}", stderr(&json)));
        let errors = t["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "error").count();
        let want = if errors > 0 { 1 } else { 0 };
        assert_eq!(json.status.code(), Some(want), "{name}: parts --json with {errors} errors: {}", t["findings"]);
        assert_eq!(cli(&["parts", v]).status.code(), Some(want), "{name}: parts");
        let expect_error = !matches!(name, "clean-gpt" | "unaligned-mbr");
        assert_eq!(errors > 0, expect_error, "{name}: {}", t["findings"]);
    }
}

/// mkntfs's root directory (an index too large for its `$INDEX_ROOT`, with index records in
/// `$INDEX_ALLOCATION`) whose `$INDEX_ROOT` says index records are 0xFFFF_FFFF bytes: the `ntfs`
/// crate 0.4.0 allocated that much for the first record it read. Listing the root is the error
/// `ntfs-index-record-size` (vendor/ntfs refuses a size that is not a power of two from 512 to
/// 65536), naming where the records' data is.
#[test]
fn ntfs_index_record_size_is_bounded() {
    use vhd_viewer::fs::ntfs::{parse_record, ty};
    use vhd_viewer::fs::{FileSystem, Volume};
    let dir = scratch("ntfs-index-record-size");
    let raw = dir.join("ntfs.raw");
    std::fs::write(&raw, vec![0u8; SIZE as usize]).unwrap();
    run_ok(Command::new("mkntfs").args(["-q", "-F", "-c", "4096", "-H", "0", "-S", "0", "-p", "0"]).arg(&raw));
    let mut d = std::fs::read(&raw).unwrap();
    // Record 5 (the root), 1 KiB records from the MFT's first cluster.
    let le = |at: usize, n: usize| d[at..at + n].iter().rev().fold(0usize, |v, b| v << 8 | usize::from(*b));
    let at = le(0x30, 8) * 4096 + 5 * 1024;
    let rec = parse_record(&d[at..at + 1024], 5, SIZE / 4096).unwrap();
    assert!(rec.find(ty::INDEX_ALLOCATION, "$I30").is_some(), "mkntfs's root has index records");
    let root = rec.find(ty::INDEX_ROOT, "$I30").unwrap().offset;
    let value = at + root + le(at + root + 0x14, 2);
    // The index record size, at byte 8 of the value (not a sector's last two bytes).
    assert_eq!(le(value + 8, 4), 4096);
    d[value + 8..value + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut vol = Volume::whole(d);
    let mut fs = FileSystem::open(&mut vol).unwrap().expect("an NTFS volume");
    let root = fs.root();
    let err = fs.list(&mut vol, &root, false).unwrap_err();
    assert_eq!(err.code(), "ntfs-index-record-size", "{err}");
    assert!(err.to_string().contains("4294967295 bytes"), "{err}");
}

/// mkntfs's root directory whose first index record (VCN 0) gets, in its first entry, a subnode
/// that is VCN 0 again: a loop. The `ntfs` crate 0.4.0 descended into it forever, reading one
/// more 4 KiB record a level. Listing the root is the error `ntfs-index-loop` (vendor/ntfs stops
/// past 64 levels), quickly.
#[test]
fn ntfs_index_subnode_loop_is_an_error() {
    use vhd_viewer::fs::ntfs::{parse_record, ty};
    use vhd_viewer::fs::{FileSystem, Volume};
    let dir = scratch("ntfs-index-loop");
    let raw = dir.join("ntfs.raw");
    std::fs::write(&raw, vec![0u8; SIZE as usize]).unwrap();
    run_ok(Command::new("mkntfs").args(["-q", "-F", "-c", "4096", "-H", "0", "-S", "0", "-p", "0"]).arg(&raw));
    let mut d = std::fs::read(&raw).unwrap();
    let le = |d: &[u8], at: usize, n: usize| d[at..at + n].iter().rev().fold(0usize, |v, b| v << 8 | usize::from(*b));
    let at = le(&d, 0x30, 8) * 4096 + 5 * 1024;
    let rec = parse_record(&d[at..at + 1024], 5, SIZE / 4096).unwrap();
    let alloc = rec.find(ty::INDEX_ALLOCATION, "$I30").and_then(|a| a.non_resident.clone()).expect("mkntfs's root has index records");
    let indx = alloc.runs[0].lcn.unwrap() as usize * 4096;
    assert_eq!(&d[indx..indx + 4], b"INDX");
    // The first entry (its length at byte 8, its flags at byte 12): a subnode, VCN 0, in its
    // last 8 bytes.
    let entry = indx + 0x18 + le(&d, indx + 0x18, 4);
    let len = le(&d, entry + 8, 2);
    assert!(len >= 24 && entry + len < indx + 510, "{len}");
    d[entry + 12] |= 1;
    d[entry + len - 8..entry + len].fill(0);
    let started = Instant::now();
    let mut vol = Volume::whole(d);
    let mut fs = FileSystem::open(&mut vol).unwrap().expect("an NTFS volume");
    let root = fs.root();
    let err = fs.list(&mut vol, &root, false).unwrap_err();
    assert_eq!(err.code(), "ntfs-index-loop", "{err}");
    // Looking a name up walks down the B-tree instead ("!" sorts before the first entry, so the
    // search descends into its subnode): the same error.
    let err = fs.lookup(&mut vol, "/!", false).unwrap_err();
    assert_eq!(err.code(), "ntfs-index-loop", "{err}");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}
