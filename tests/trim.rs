//! `compact --trim` (issue 22) on the three kinds of disk `scripts/make-trim-disks.sh` makes with
//! the real tools (ext4 on a whole disk, NTFS in an MBR, FAT32 in GPT; files written, then deleted
//! with their data left on the disk), each as a dynamic VHD and VHDX and as a differencing child,
//! at an eighth of the issue's sizes. Every copy is judged by other software only:
//!
//! - flattened by `qemu-img convert -O raw`, `7zz x -so` and libvhdi (`vhdimount`), which must
//!   agree; a VHDX copy passes `qemu-img check`;
//! - its file system checks clean (`e2fsck -fn`, `ntfsfix -n`, `fsck.vfat -n` on its bytes);
//! - every live file (sleuthkit's `fls -r -p`) reads the same bytes through `icat` as in the input;
//! - the bytes no file system covers (partition tables, GPT's backup) are the input's;
//! - trimmed, the deleted files' sectors read as zeros (none of their data is left), and the
//!   file is at most the kept data + 5 % + 16 MiB of structures; not trimmed, every byte is kept.
//!
//! The checks are first run on copies that keep everything (lossless `compact`, `qemu-img
//! convert`), where the trimming criteria must fail: so the tests of the trimmed copies can fail.

mod common;
use common::*;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const MIB: u64 = 1 << 20;

/// The sizes of the issue divided by this (96 MiB ext4, 72 MiB NTFS, 56 MiB FAT32).
const DIV: u32 = 8;

const KINDS: [&str; 3] = ["ext4", "ntfs", "fat32"];

/// The folder of the disks, made once per content of the script.
fn disks() -> PathBuf {
    static ONCE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        run_ok(Command::new(cargo).current_dir(repo()).args([
            "build",
            "--quiet",
            "--example",
            "vhd_from_raw",
            "--example",
            "vhdx_from_raw",
        ]));
        let ex = repo().join("target/debug/examples");
        let script = std::fs::read_to_string(repo().join("scripts/make-trim-disks.sh")).unwrap();
        let args = format!("set -- {DIV} . {} {}\n", ex.join("vhd_from_raw").display(), ex.join("vhdx_from_raw").display());
        script_image("trim", "disks", &format!("{args}{script}"), &[], "done", &[])
    })
    .clone()
}

/// One kind of disk as the script describes it (`KIND.txt`).
struct Disk {
    kind: &'static str,
    dir: PathBuf,
    fs: String,
    start: u64,
    len: u64,
    kept: u64,
}

/// The disk of `kind`, or why it cannot be made here.
fn disk(kind: &'static str) -> Result<Disk, String> {
    let dir = disks();
    if let Ok(why) = std::fs::read_to_string(dir.join(format!("{kind}.skipped"))) {
        return Err(why.trim().to_string());
    }
    let txt = std::fs::read_to_string(dir.join(format!("{kind}.txt"))).unwrap();
    let v: BTreeMap<&str, &str> = txt.lines().filter_map(|l| l.split_once(' ')).collect();
    let num = |k: &str| v[k].parse::<u64>().unwrap_or_else(|_| panic!("{kind}.txt: {k}"));
    Ok(Disk { kind, fs: v["fs"].to_string(), start: num("start"), len: num("len"), kept: num("kept"), dir })
}

impl Disk {
    fn file(&self, suffix: &str) -> PathBuf {
        self.dir.join(format!("{}{suffix}", self.kind))
    }
}

/// The format's name for qemu-img and 7-Zip.
fn formats(ext: &str) -> (&'static str, &'static str) {
    match ext {
        "vhd" => ("vpc", "-tVHD"),
        "vhdx" => ("vhdx", "-tVHDX"),
        _ => unreachable!("{ext}"),
    }
}

/// `vhd-viewer compact [--trim] IN OUT`: `Err(reason)` when the command line cannot do it yet
/// (no `--trim`, no VHDX writer), so that the test says what it skipped.
fn compact(input: &Path, out: &Path, trim: bool) -> Result<String, String> {
    let mut args = vec!["compact", input.to_str().unwrap(), out.to_str().unwrap()];
    if trim {
        args.push("--trim");
    }
    let o = cli(&args);
    let err = stderr(&o);
    if !o.status.success() && (err.contains("does not write VHDX") || (trim && err.contains("'--trim'"))) {
        return Err(format!("vhd-viewer {}: {}", args.join(" "), err.trim()));
    }
    assert!(o.status.success(), "vhd-viewer {args:?} failed ({}): {err}", o.status);
    assert!(out.is_file(), "{args:?} wrote no file");
    Ok(stdout(&o))
}

fn skip(what: &str, why: &str) {
    eprintln!("SKIPPED {what}: {why}");
}

// ---------------------------------------------------------------------------------------------
// Reading a copy with the other readers

/// Unmounts a `vhdimount` when dropped.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).output();
    }
}

/// The sha256 of the disk as libvhdi reads it (the top of the chain `vhdimount` exposes, through
/// FUSE), or `None` without FUSE.
fn libvhdi_sha(file: &Path, work: &Path) -> Option<String> {
    if !Path::new("/dev/fuse").exists() {
        return None;
    }
    let mnt = work.join("vhdimount");
    std::fs::create_dir_all(&mnt).unwrap();
    let o = output(Command::new("vhdimount").arg(file).arg(&mnt));
    if !o.status.success() {
        panic!("vhdimount {} failed: {}{}", file.display(), stdout(&o), stderr(&o));
    }
    let _m = Mounted(mnt.clone());
    let n = std::fs::read_dir(&mnt).unwrap().filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("vhdi")).count();
    Some(sha256_file(&mnt.join(format!("vhdi{n}"))))
}

/// Flattens `copy` (a lone disk, or a child whose parents lie beside it) to `work/copy.raw` and
/// checks that qemu-img (lone disks: it reads no VHD or VHDX parent), 7-Zip, libvhdi and
/// `vhd-viewer cat` read the same bytes; a VHDX passes `qemu-img check`.
fn flatten_agreed(copy: &Path, ext: &str, differencing: bool, work: &Path) -> PathBuf {
    let (qfmt, seven) = formats(ext);
    let raw = work.join("copy.raw");
    if differencing {
        std::fs::write(&raw, viewer_cat(copy, &[])).unwrap();
    } else {
        run_ok(Command::new("qemu-img").args(["convert", "-f", qfmt, "-O", "raw"]).arg(copy).arg(&raw));
        let ours = sha256_stdout(Command::new(bin()).arg("cat").arg(copy));
        assert_eq!(ours, sha256_file(&raw), "{}: vhd-viewer cat and qemu-img read different bytes", copy.display());
    }
    if ext == "vhdx" && !differencing {
        let o = output(Command::new("qemu-img").args(["check", "-f", "vhdx"]).arg(copy));
        assert!(o.status.success(), "qemu-img check {}: {}{}", copy.display(), stdout(&o), stderr(&o));
    }
    let want = sha256_file(&raw);
    let s7 = sha256_stdout(Command::new("7zz").args(["x", seven, "-so"]).arg(copy));
    assert_eq!(s7, want, "{}: 7-Zip reads other bytes", copy.display());
    match libvhdi_sha(copy, work) {
        Some(s) => assert_eq!(s, want, "{}: libvhdi reads other bytes", copy.display()),
        None => {
            // No FUSE: libvhdi's metadata at least.
            let info = vhdiinfo(copy);
            let size = info.get("Media size").map(|v| vhdi_media_size(v)).expect("vhdiinfo prints a media size");
            assert_eq!(size, std::fs::metadata(&raw).unwrap().len(), "{}: vhdiinfo's media size", copy.display());
        }
    }
    raw
}

// ---------------------------------------------------------------------------------------------
// The file systems' view

/// The file system at `d.start..d.start + d.len` of `raw` checks clean with its own checker.
fn fs_clean(d: &Disk, raw: &Path, work: &Path) {
    let part = work.join("part.img");
    let bytes = std::fs::read(raw).unwrap();
    std::fs::write(&part, &bytes[d.start as usize..(d.start + d.len) as usize]).unwrap();
    let mut cmd = match d.fs.as_str() {
        "ext4" => Command::new("e2fsck"),
        "ntfs" => Command::new("ntfsfix"),
        "fat32" => Command::new("fsck.vfat"),
        fs => panic!("no checker for {fs}"),
    };
    cmd.arg(if d.fs == "ext4" { "-fn" } else { "-n" }).arg(&part);
    let o = output(&mut cmd);
    assert!(o.status.success(), "{:?} on {} ({}): {}{}", cmd, raw.display(), o.status, stdout(&o), stderr(&o));
    let _ = std::fs::remove_file(&part);
}

/// The live files `fls -r -p` lists on `raw`'s file system: path -> sleuthkit address. NTFS
/// streams are files of their own (`name:stream`, address `inode-type-id`); the virtual entries
/// ($OrphanFiles, $MBR, $FAT1...) and `$BadClus` (a sparse file the size of the volume) are left out.
fn live_files(d: &Disk, raw: &Path) -> BTreeMap<String, String> {
    let o = run_ok(Command::new("fls").args(["-r", "-p", "-o", &(d.start / 512).to_string()]).arg(raw));
    let mut out = BTreeMap::new();
    for line in stdout(&o).lines() {
        let Some((head, path)) = line.split_once(":\t") else { continue };
        let mut f = head.split_whitespace();
        let (ty, addr) = (f.next().unwrap_or(""), f.last().unwrap_or(""));
        if head.contains(" * ")
            || !ty.ends_with("/r")
            || ty.starts_with('v')
            || path.starts_with("$OrphanFiles")
            || path.starts_with("$BadClus")
        {
            continue;
        }
        out.insert(path.to_string(), addr.to_string());
    }
    out
}

/// `icat`'s bytes of a file.
fn icat(d: &Disk, raw: &Path, addr: &str) -> Vec<u8> {
    run_ok(Command::new("icat").args(["-o", &(d.start / 512).to_string()]).arg(raw).arg(addr)).stdout
}

/// Every live file of `input_raw` reads the same through `icat` in `copy_raw`; returns how many.
fn same_files(d: &Disk, input_raw: &Path, copy_raw: &Path) -> usize {
    let theirs = live_files(d, input_raw);
    let mine = live_files(d, copy_raw);
    assert_eq!(mine.keys().collect::<Vec<_>>(), theirs.keys().collect::<Vec<_>>(), "{}: the copy lists other files", copy_raw.display());
    for (path, addr) in &theirs {
        let (a, b) = (icat(d, input_raw, addr), icat(d, copy_raw, &mine[path]));
        assert!(
            a == b,
            "{path} ({addr}): {} bytes in the input, {} in the copy; sha256 {} vs {}",
            a.len(),
            b.len(),
            sha256(&a),
            sha256(&b)
        );
    }
    assert!(theirs.keys().any(|p| p.ends_with("keep.bin")), "no kept file among {:?}", theirs.keys());
    theirs.len()
}

/// The offsets of the sectors of `raw` that hold a sector of `sample` (a deleted file's data).
fn sectors_of(sample: &Path, raw: &[u8]) -> Vec<u64> {
    let want: HashSet<Vec<u8>> = std::fs::read(sample).unwrap().chunks(512).map(<[u8]>::to_vec).collect();
    raw.chunks(512).enumerate().filter(|(_, c)| want.contains(*c)).map(|(k, _)| k as u64 * 512).collect()
}

/// What a copy must show: every byte of the input kept, or the file systems' free space given back.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Expect {
    Lossless,
    Trimmed,
}

/// Judges `copy_raw` (the copy, flattened and agreed on) against `input_raw` (the input, flat):
/// `deleted` is the sample of the deleted files' data; `file_len` the copy's file, for the size.
fn judge(d: &Disk, input_raw: &Path, copy_raw: &Path, deleted: &Path, file_len: Option<u64>, expect: Expect, work: &Path) {
    let (a, b) = (std::fs::read(input_raw).unwrap(), std::fs::read(copy_raw).unwrap());
    assert_eq!(a.len(), b.len(), "{}: the copy's disk has another size", copy_raw.display());
    // Outside the file system: the partition table, the gap before the partition, GPT's backup.
    let (s, e) = (d.start as usize, (d.start + d.len) as usize);
    assert_same_bytes("the bytes before the file system", &b[..s], &a[..s]);
    assert_same_bytes("the bytes after the file system", &b[e..], &a[e..]);
    fs_clean(d, copy_raw, work);
    let n = same_files(d, input_raw, copy_raw);
    eprintln!("{}: {n} files read the same through icat", copy_raw.display());
    // The deleted data: on the input (else the disk proves nothing), and on the copy only if kept.
    let before = sectors_of(deleted, &a);
    let want = std::fs::metadata(deleted).unwrap().len() / 512;
    assert!(before.len() as u64 * 10 >= want * 9, "only {} of the {want} sampled sectors of deleted files are on the input", before.len());
    let after = sectors_of(deleted, &b);
    match expect {
        Expect::Lossless => assert_same_bytes("a copy that keeps everything", &b, &a),
        Expect::Trimmed => {
            assert!(after.is_empty(), "{} sectors of deleted files are left in the copy, the first at byte {}", after.len(), after[0]);
            for at in &before {
                let z = &b[*at as usize..*at as usize + 512];
                assert!(z.iter().all(|x| *x == 0), "a deleted file's sector at byte {at} does not read as zeros in the copy");
            }
        }
    }
    if let Some(len) = file_len {
        let limit = d.kept + d.kept / 20 + 16 * MIB;
        eprintln!("{}: file {len} bytes, kept data {}, limit {limit}", copy_raw.display(), d.kept);
        match expect {
            Expect::Trimmed => {
                assert!(len <= limit, "the trimmed copy is {len} bytes, over the kept data {} + 5 % + 16 MiB = {limit}", d.kept)
            }
            Expect::Lossless => assert!(
                len > limit,
                "a copy that keeps the deleted data ({len} bytes) is under the trimmed limit {limit}: the disk frees too little to tell"
            ),
        }
    }
}

/// Compacts the lone disk `d.KIND.ext` (trimmed or not) and judges the copy.
fn compact_lone(d: &Disk, ext: &str, expect: Expect) {
    let input = d.file(&format!(".{ext}"));
    let what = format!("{} {ext} {expect:?}", d.kind);
    let work = scratch(&format!("trim-{}-{ext}-{expect:?}", d.kind));
    let out = work.join(format!("copy.{ext}"));
    match compact(&input, &out, expect == Expect::Trimmed) {
        Ok(summary) => eprintln!("{what}: {summary}"),
        Err(why) => return skip(&what, &why),
    }
    let raw = flatten_agreed(&out, ext, false, &work);
    judge(d, &d.file(".raw"), &raw, &d.file(".deleted"), Some(std::fs::metadata(&out).unwrap().len()), expect, &work);
    let _ = std::fs::remove_dir_all(&work);
}

/// Compacts the child `d.KIND-child.ext` with `--trim` (its parent found beside it) and judges
/// the chain of the copy on the parent against the input chain's bytes.
fn compact_child(d: &Disk, ext: &str) {
    let input = d.file(&format!("-child.{ext}"));
    let what = format!("{} child {ext}", d.kind);
    let work = scratch(&format!("trim-{}-child-{ext}", d.kind));
    let out = work.join(format!("copy.{ext}"));
    match compact(&input, &out, true) {
        Ok(summary) => eprintln!("{what}: {summary}"),
        Err(why) => return skip(&what, &why),
    }
    // The parent, under the name the child's locators give, beside the copy.
    let parent = format!("{}-base.{ext}", d.kind);
    std::fs::copy(d.dir.join(&parent), work.join(&parent)).unwrap();
    // The input chain as the others read it is the script's child.raw (checked here too).
    let in_work = scratch(&format!("trim-{}-child-{ext}-input", d.kind));
    let in_raw = flatten_agreed(&input, ext, true, &in_work);
    assert_same_bytes("the input chain", &std::fs::read(&in_raw).unwrap(), &std::fs::read(d.file("-child.raw")).unwrap());
    let raw = flatten_agreed(&out, ext, true, &work);
    let (a, b) = (std::fs::read(d.file("-child.raw")).unwrap(), std::fs::read(&raw).unwrap());
    assert_eq!(a.len(), b.len());
    let (s, e) = (d.start as usize, (d.start + d.len) as usize);
    assert_same_bytes("the bytes before the file system", &b[..s], &a[..s]);
    assert_same_bytes("the bytes after the file system", &b[e..], &a[e..]);
    fs_clean(d, &raw, &work);
    let n = same_files(d, &d.file("-child.raw"), &raw);
    eprintln!("{what}: {n} files read the same through icat");
    // The file written and deleted in the child: on the input chain, not through the copy's.
    let gone = d.file("-child.deleted");
    assert!(!sectors_of(&gone, &a).is_empty(), "the child's deleted file is not on the input");
    let left = sectors_of(&gone, &b);
    assert!(left.is_empty(), "{} sectors of the file deleted in the child are left, the first at byte {}", left.len(), left[0]);
    let (len_in, len_out) = (std::fs::metadata(&input).unwrap().len(), std::fs::metadata(&out).unwrap().len());
    eprintln!("{what}: the child's file {len_in} bytes, its trimmed copy {len_out}");
    assert!(len_out <= len_in, "the trimmed child ({len_out} bytes) is larger than the input ({len_in})");
    let _ = std::fs::remove_dir_all(&work);
    let _ = std::fs::remove_dir_all(&in_work);
}

fn each_disk(f: impl Fn(&Disk)) {
    for kind in KINDS {
        match disk(kind) {
            Ok(d) => f(&d),
            Err(why) => skip(kind, &why),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The tests

/// The disks and the judge themselves: the script's VHD and VHDX (made by qemu-img) read as the
/// raw disk in every reader, their file systems check clean, and a copy that keeps everything
/// (qemu-img's conversion of the VHD to VHDX) passes as lossless but fails both trimming
/// criteria (the deleted data is found; the file is over the limit).
#[test]
fn the_disks_and_the_judge() {
    each_disk(|d| {
        for ext in ["vhd", "vhdx"] {
            let work = scratch(&format!("trim-judge-{}-{ext}", d.kind));
            let raw = flatten_agreed(&d.file(&format!(".{ext}")), ext, false, &work);
            assert_same_bytes(
                "qemu-img's VHD/VHDX of the raw disk",
                &std::fs::read(&raw).unwrap(),
                &std::fs::read(d.file(".raw")).unwrap(),
            );
            let _ = std::fs::remove_dir_all(&work);
        }
        let work = scratch(&format!("trim-judge-{}", d.kind));
        let copy = work.join("qemu.vhdx");
        run_ok(
            Command::new("qemu-img").args(["convert", "-f", "vpc", "-O", "vhdx", "-o", "subformat=dynamic"]).arg(d.file(".vhd")).arg(&copy),
        );
        let raw = flatten_agreed(&copy, "vhdx", false, &work);
        let len = std::fs::metadata(&copy).unwrap().len();
        judge(d, &d.file(".raw"), &raw, &d.file(".deleted"), Some(len), Expect::Lossless, &work);
        let trimmed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            judge(d, &d.file(".raw"), &raw, &d.file(".deleted"), None, Expect::Trimmed, &work)
        }));
        assert!(trimmed.is_err(), "{}: a copy that keeps the deleted data passed as trimmed", d.kind);
        let _ = std::fs::remove_dir_all(&work);
    });
}

/// Without `--trim`, `compact` keeps every byte, of VHD and VHDX alike.
#[test]
fn compact_without_trim_is_lossless() {
    each_disk(|d| {
        for ext in ["vhd", "vhdx"] {
            compact_lone(d, ext, Expect::Lossless);
        }
    });
}

#[test]
fn trim_ext4_on_a_whole_disk() {
    let d = disk("ext4").unwrap();
    for ext in ["vhd", "vhdx"] {
        compact_lone(&d, ext, Expect::Trimmed);
    }
}

#[test]
fn trim_ntfs_in_an_mbr() {
    match disk("ntfs") {
        Ok(d) => ["vhd", "vhdx"].into_iter().for_each(|ext| compact_lone(&d, ext, Expect::Trimmed)),
        Err(why) => skip("ntfs", &why),
    }
}

#[test]
fn trim_fat32_in_gpt() {
    let d = disk("fat32").unwrap();
    for ext in ["vhd", "vhdx"] {
        compact_lone(&d, ext, Expect::Trimmed);
    }
}

/// A differencing child trimmed: what it freed falls through to its parent, every live file reads
/// as before, the file deleted in the child is gone from the chain.
#[test]
fn trim_a_differencing_child() {
    each_disk(|d| {
        for ext in ["vhd", "vhdx"] {
            compact_child(d, ext);
        }
    });
}
