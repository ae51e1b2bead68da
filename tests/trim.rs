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

/// The sizes of the issue divided by this (96 MiB ext4, 72 MiB NTFS, 56 MiB FAT32), unless the
/// environment's `TRIM_DIV` says otherwise (`TRIM_DIV=1`: the issue's sizes, minutes per test).
fn div() -> u32 {
    std::env::var("TRIM_DIV").ok().and_then(|v| v.parse().ok()).filter(|v| *v > 0).unwrap_or(8)
}

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
        let args = format!("set -- {} . {} {}\n", div(), ex.join("vhd_from_raw").display(), ex.join("vhdx_from_raw").display());
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

/// How a copy is compacted: by the command line, or by the library's `compact::compact` (the
/// path the command line takes, reachable before its flag is).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Via {
    Cli,
    Library,
}

/// Compacts `input` (its parent `parent` when it is a child) into `out`, with the file systems'
/// free space given back when `trim`, with blocks of `block` bytes if given: its summary.
fn compact(input: &Path, parent: Option<&Path>, out: &Path, trim: bool, block: Option<u64>, via: Via) -> String {
    if via == Via::Library {
        use vhd_viewer::reader::{open_layer, ReadAt};
        let files: Vec<std::fs::File> = std::iter::once(input).chain(parent).map(|p| std::fs::File::open(p).unwrap()).collect();
        let sources: Vec<&dyn ReadAt> = files.iter().map(|f| f as &dyn ReadAt).collect();
        let layers = sources.iter().map(|s| open_layer(*s).unwrap()).collect();
        let disk = vhd_viewer::Disk::new(layers, false).unwrap();
        let free: Option<Box<dyn vhd_viewer::trim::FreeRanges>> =
            if trim { Some(Box::new(vhd_viewer::trim::FreeSpace::new(&disk, &sources).unwrap())) } else { None };
        let mut file = std::fs::File::create(out).unwrap();
        let done = vhd_viewer::compact::compact_with_block_size(&disk, sources.clone(), free, block, &mut file, &mut |_, _| {})
            .unwrap_or_else(|e| panic!("compacting {}: {e}", input.display()));
        return format!("{done:?}");
    }
    let mut args = vec!["compact", input.to_str().unwrap(), out.to_str().unwrap()];
    if trim {
        args.push("--trim");
    }
    let block = block.map(|b| b.to_string());
    if let Some(b) = &block {
        args.extend(["--block-size", b.as_str()]);
    }
    let o = cli(&args);
    assert!(o.status.success(), "vhd-viewer {args:?} failed ({}): {}", o.status, stderr(&o));
    assert!(out.is_file(), "{args:?} wrote no file");
    stdout(&o)
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
    // libvhdi tests a VHD child's bitmap bit without masking it (tests/known_defects.rs): a
    // child whose bitmap bytes mix sectors of its own and its parent's, as trimming leaves them,
    // reads wrong there. Its VHDX reading and its lone disks are judged.
    let libvhdi = if differencing && ext == "vhd" { None } else { libvhdi_sha(copy, work) };
    match libvhdi {
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

/// sleuthkit's allocation map of the file system (`blkls -l -e`): its unit in bytes and, per
/// unit from the file system's start, whether it is allocated.
fn fs_allocation(d: &Disk, raw: &Path) -> (u64, Vec<bool>) {
    let o = run_ok(Command::new("blkls").args(["-l", "-e", "-o", &(d.start / 512).to_string()]).arg(raw));
    let alloc: Vec<bool> =
        stdout(&o).lines().filter_map(|l| l.split_once('|')).filter(|(a, _)| a.parse::<u64>().is_ok()).map(|(_, s)| s == "a").collect();
    assert!(!alloc.is_empty(), "blkls lists no unit of {}", raw.display());
    // The unit: a power of two, as many as fit in the file system (NTFS lists no unit for the
    // backup boot sector at its end).
    let unit = 1u64 << (d.len / alloc.len() as u64).ilog2();
    (unit, alloc)
}

/// The blocks (of `block` bytes) a trimmed copy must store, by sleuthkit's map and the input's
/// bytes: those holding a non-zero byte outside the file system or in a unit it allocates.
fn needed_blocks(d: &Disk, raw: &Path, block: u64) -> std::collections::BTreeSet<u64> {
    let (unit, alloc) = fs_allocation(d, raw);
    let bytes = std::fs::read(raw).unwrap();
    let used = |at: u64| at < d.start || at >= d.start + d.len || alloc.get(((at - d.start) / unit) as usize).copied().unwrap_or(true);
    let mut out = std::collections::BTreeSet::new();
    for (k, piece) in bytes.chunks(512).enumerate() {
        let at = k as u64 * 512;
        if piece.iter().any(|b| *b != 0) && used(at) {
            out.insert(at / block);
        }
    }
    out
}

/// The blocks a dynamic VHD or VHDX stores (its BAT's payload entries that point into the file),
/// read here from the specs rather than by the core: a VHD's BAT entries that are not
/// 0xFFFFFFFF; a VHDX's payload entries in state 6 (fully present) or 7 (partially present),
/// with a sector bitmap entry after every chunk ratio of them. Also the block size.
fn stored_blocks(copy: &Path, ext: &str) -> (u64, std::collections::BTreeSet<u64>) {
    let bytes = std::fs::read(copy).unwrap();
    let mut out = std::collections::BTreeSet::new();
    if ext == "vhd" {
        let img = Image { bytes };
        let (foot, bs) = (img.footer_at(), img.block_size());
        let blocks = get64(&img.bytes, foot + f::CURRENT_SIZE).div_ceil(bs);
        for k in 0..blocks {
            if img.bat(k as usize) != u32::MAX {
                out.insert(k);
            }
        }
        return (bs, out);
    }
    let le32 = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let le64 = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
    // The region table at 192 KiB: the BAT's entry.
    const BAT: [u8; 16] = [0x66, 0x77, 0xc2, 0x2d, 0x23, 0xf6, 0x00, 0x42, 0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08];
    let rt = 192 << 10;
    assert_eq!(&bytes[rt..rt + 4], b"regi", "{}: no region table", copy.display());
    let bat = (0..le32(rt + 8) as usize).map(|i| rt + 16 + 32 * i).find(|e| bytes[*e..*e + 16] == BAT).expect("a BAT region");
    let bat_at = le64(bat + 16) as usize;
    // Block size and logical sector size as qemu-img and libvhdi report them.
    let info: serde_json::Value =
        serde_json::from_slice(&run_ok(Command::new("qemu-img").args(["info", "--output=json", "-f", "vhdx"]).arg(copy)).stdout).unwrap();
    let (bs, size) = (info["cluster-size"].as_u64().unwrap(), info["virtual-size"].as_u64().unwrap());
    let sector: u64 = vhdiinfo(copy)["Bytes per sector"].trim_end_matches(" bytes").parse().unwrap();
    let ratio = (1u64 << 23) * sector / bs;
    for k in 0..size.div_ceil(bs) {
        let entry = le64(bat_at + 8 * (k + k / ratio) as usize);
        if matches!(entry & 7, 6 | 7) {
            out.insert(k);
        }
    }
    (bs, out)
}

/// Compares the blocks `copy` stores with those a copy of `input_raw` trimmed must store: equal
/// when trimmed (nothing wholly free or zero kept, nothing in use lost), more when not.
fn judge_blocks(d: &Disk, input_raw: &Path, copy: &Path, ext: &str, expect: Expect) {
    let (bs, stored) = stored_blocks(copy, ext);
    let needed = needed_blocks(d, input_raw, bs);
    let extra: Vec<&u64> = stored.difference(&needed).collect();
    let lost: Vec<&u64> = needed.difference(&stored).collect();
    eprintln!(
        "{}: {} blocks of {} KiB stored, {} needed ({} MiB); the file {} bytes",
        copy.display(),
        stored.len(),
        bs >> 10,
        needed.len(),
        (needed.len() as u64 * bs) >> 20,
        std::fs::metadata(copy).unwrap().len()
    );
    assert!(lost.is_empty(), "{}: blocks that hold data in use are not stored: {lost:?}", copy.display());
    match expect {
        Expect::Trimmed => assert!(extra.is_empty(), "{}: blocks stored that hold only free space or zeros: {extra:?}", copy.display()),
        Expect::Lossless => {
            assert!(!extra.is_empty(), "{}: a copy that keeps the deleted data stores only the blocks in use", copy.display())
        }
    }
}

/// What a copy must show: every byte of the input kept, or the file systems' free space given back.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Expect {
    Lossless,
    Trimmed,
}

/// Judges `copy_raw` (the copy, flattened and agreed on) against `input_raw` (the input, flat):
/// `deleted` is the sample of the deleted files' data; `copy` the copy's file and its format,
/// for its blocks and size.
fn judge(d: &Disk, input_raw: &Path, copy_raw: &Path, deleted: &Path, copy: Option<(&Path, &str)>, expect: Expect, work: &Path) {
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
    if let Some((copy, ext)) = copy {
        judge_blocks(d, input_raw, copy, ext, expect);
        let len = std::fs::metadata(copy).unwrap().len();
        // The issue's target, kept data + 5 % + 16 MiB of structures, is `make bench`'s to
        // measure at full size (the blocks a file touches do not shrink with the disk); here a
        // copy that keeps everything must be over it.
        let limit = d.kept + d.kept / 20 + 16 * MIB;
        eprintln!("{}: file {len} bytes, kept data {}, kept + 5 % + 16 MiB {limit}", copy_raw.display(), d.kept);
        if expect == Expect::Lossless {
            assert!(len > limit, "a copy that keeps the deleted data ({len} bytes) is under {limit}: the disk frees too little to tell");
        }
    }
}

/// Compacts the lone disk `d.KIND.ext` (trimmed or not) and judges the copy.
fn compact_lone(d: &Disk, ext: &str, expect: Expect, via: Via) {
    let input = d.file(&format!(".{ext}"));
    let what = format!("{} {ext} {expect:?} {via:?}", d.kind);
    let work = scratch(&format!("trim-{}-{ext}-{expect:?}-{via:?}", d.kind));
    let out = work.join(format!("copy.{ext}"));
    eprintln!("{what}: {}", compact(&input, None, &out, expect == Expect::Trimmed, None, via));
    let raw = flatten_agreed(&out, ext, false, &work);
    judge(d, &d.file(".raw"), &raw, &d.file(".deleted"), Some((&out, ext)), expect, &work);
    let _ = std::fs::remove_dir_all(&work);
}

/// Compacts the child `d.KIND-child.ext` with `--trim` (its parent found beside it; blocks of
/// `block` bytes if given) and judges the chain of the copy on the parent against the input
/// chain's bytes.
fn compact_child(d: &Disk, ext: &str, block: Option<u64>, via: Via) {
    let input = d.file(&format!("-child.{ext}"));
    let what = format!("{} child {ext} {block:?} {via:?}", d.kind);
    let work = scratch(&format!("trim-{}-child-{ext}-{}-{via:?}", d.kind, block.unwrap_or(0)));
    let out = work.join(format!("copy.{ext}"));
    let parent = format!("{}-base.{ext}", d.kind);
    eprintln!("{what}: {}", compact(&input, Some(&d.dir.join(&parent)), &out, true, block, via));
    // The parent, under the name the child's locators give, beside the copy.
    std::fs::copy(d.dir.join(&parent), work.join(&parent)).unwrap();
    // The input chain as the others read it is the script's child.raw (checked here too).
    let in_work = scratch(&format!("trim-{}-child-{ext}-{via:?}-input", d.kind));
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
    // With larger blocks than the input's, a copy may be larger: each block changed costs more.
    let own = vhd_viewer::reader::open_layer(&std::fs::File::open(&input).unwrap()).unwrap().block_size();
    if !block.is_some_and(|b| Some(b) > own) {
        assert!(len_out <= len_in, "the trimmed child ({len_out} bytes) is larger than the input ({len_in})");
    }
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
            Command::new("qemu-img")
                .args(["convert", "-f", "vpc", "-O", "vhdx", "-o", "subformat=dynamic,block_size=1M"])
                .arg(d.file(".vhd"))
                .arg(&copy),
        );
        let raw = flatten_agreed(&copy, "vhdx", false, &work);
        judge(d, &d.file(".raw"), &raw, &d.file(".deleted"), Some((&copy, "vhdx")), Expect::Lossless, &work);
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
            compact_lone(d, ext, Expect::Lossless, Via::Cli);
        }
    });
}

#[test]
fn trim_ext4_on_a_whole_disk() {
    let d = disk("ext4").unwrap();
    for ext in ["vhd", "vhdx"] {
        compact_lone(&d, ext, Expect::Trimmed, Via::Cli);
    }
}

#[test]
fn trim_ntfs_in_an_mbr() {
    match disk("ntfs") {
        Ok(d) => ["vhd", "vhdx"].into_iter().for_each(|ext| compact_lone(&d, ext, Expect::Trimmed, Via::Cli)),
        Err(why) => skip("ntfs", &why),
    }
}

#[test]
fn trim_fat32_in_gpt() {
    let d = disk("fat32").unwrap();
    for ext in ["vhd", "vhdx"] {
        compact_lone(&d, ext, Expect::Trimmed, Via::Cli);
    }
}

/// `convert --trim`, judged as `compact --trim` is: the file systems' free space
/// (`trim::FreeSpace`) fed to `convert::convert` writing the input's format, a dynamic VHD with
/// 2 MiB blocks through the library, a VHDX with 1 MiB blocks through the command line.
#[test]
fn convert_with_the_free_space_zeroed() {
    use vhd_viewer::convert::{convert, new_layout, Format, NewDisk};
    use vhd_viewer::reader::{open_layer, DiskReader, ReadAt};
    each_disk(|d| {
        for (ext, via) in [("vhd", Via::Library), ("vhdx", Via::Cli)] {
            let work = scratch(&format!("trim-convert-{}-{ext}", d.kind));
            let input = d.file(&format!(".{ext}"));
            let copy = work.join(format!("copy.{ext}"));
            if via == Via::Cli {
                let args = ["convert", "--trim", "--to", "vhdx", "--block-size", "1M", input.to_str().unwrap(), copy.to_str().unwrap()];
                let o = cli(&args);
                assert!(o.status.success(), "vhd-viewer {args:?}: {}", stderr(&o));
                assert!(stderr(&o).contains("given back"), "{}: the volume's line: {}", d.kind, stderr(&o));
            } else {
                let file = std::fs::File::open(&input).unwrap();
                let disk = vhd_viewer::Disk::new(vec![open_layer(&file).unwrap()], false).unwrap();
                let sources: Vec<&dyn ReadAt> = vec![&file];
                let mut free = vhd_viewer::trim::FreeSpace::new(&disk, &sources).unwrap();
                let trimmed: Vec<_> = free.volumes().iter().filter(|v| v.trimmed).collect();
                assert_eq!(trimmed.len(), 1, "{}: {:?}", d.kind, serde_json::to_string(free.volumes()).unwrap());
                let mut reader = DiskReader::new(&disk, sources.clone()).unwrap();
                let new = NewDisk { unique_id: vhd_viewer::vhd::writer::uuid_from_seed(22), timestamp: Default::default(), size: None };
                let mut layout = new_layout(&disk, Format::Dynamic, 2 << 20, 512, &new).unwrap();
                let mut out = std::fs::File::create(&copy).unwrap();
                let done = convert(&mut reader, layout.as_mut(), &mut out, Some(&mut free), &mut |_, _| {}).unwrap();
                eprintln!("{} {ext}: {done:?}", d.kind);
            }
            let raw = flatten_agreed(&copy, ext, false, &work);
            judge(d, &d.file(".raw"), &raw, &d.file(".deleted"), Some((&copy, ext)), Expect::Trimmed, &work);
            let _ = std::fs::remove_dir_all(&work);
        }
    });
}

/// A differencing child trimmed: what it freed falls through to its parent, every live file reads
/// as before, the file deleted in the child is gone from the chain.
#[test]
fn trim_a_differencing_child() {
    each_disk(|d| {
        for ext in ["vhd", "vhdx"] {
            compact_child(d, ext, None, Via::Cli);
        }
    });
}

/// The same through the library's `compact::compact` with `trim::FreeSpace`, what the command
/// line runs for `compact --trim`: every disk and every child, in both formats.
#[test]
fn the_library_compacts_every_disk_and_child_trimmed() {
    each_disk(|d| {
        for ext in ["vhd", "vhdx"] {
            compact_lone(d, ext, Expect::Trimmed, Via::Library);
            compact_child(d, ext, None, Via::Library);
        }
    });
}

/// `compact --trim --block-size 1M` of the ext4 VHD (2 MiB blocks): its unique id kept, judged
/// as any trimmed copy (the blocks needed counted in 1 MiB: none wholly free kept, none in use
/// lost; every live file the same through `icat`), and smaller than with its own blocks.
#[test]
fn trim_with_smaller_blocks_keeps_the_id_and_shrinks_the_copy() {
    let d = disk("ext4").unwrap();
    let input = d.file(".vhd");
    let work = scratch("trim-ext4-vhd-1m");
    let (own, small) = (work.join("own.vhd"), work.join("copy.vhd"));
    compact(&input, None, &own, true, None, Via::Cli);
    let args = ["compact", input.to_str().unwrap(), small.to_str().unwrap(), "--trim", "--block-size", "1M"];
    let o = cli(&args);
    assert!(o.status.success(), "vhd-viewer {args:?} failed ({}): {}", o.status, stderr(&o));
    assert!(stdout(&o).contains("blocks of 1 MiB (was 2 MiB)"), "{}", stdout(&o));
    let raw = flatten_agreed(&small, "vhd", false, &work);
    judge(&d, &d.file(".raw"), &raw, &d.file(".deleted"), Some((&small, "vhd")), Expect::Trimmed, &work);
    let id = |p: &Path| Image { bytes: std::fs::read(p).unwrap() }.unique_id();
    assert_eq!(id(&small), id(&input), "the copy has another unique id");
    let (a, b) = (std::fs::metadata(&own).unwrap().len(), std::fs::metadata(&small).unwrap().len());
    eprintln!("ext4 vhd trimmed: {a} bytes with 2 MiB blocks, {b} with 1 MiB");
    assert!(b < a, "the copy with 1 MiB blocks ({b} bytes) is not smaller than with 2 MiB ({a})");
    let _ = std::fs::remove_dir_all(&work);
}

/// A differencing child trimmed with other blocks: the VHD's 2 MiB to 512 KiB, the VHDX's 1 MiB
/// to 4 MiB, judged as any trimmed child (the readers agree, file systems clean, live files the
/// same, the file deleted in the child gone).
#[test]
fn trim_a_differencing_child_with_other_blocks() {
    let d = disk("ext4").unwrap();
    compact_child(&d, "vhd", Some(512 << 10), Via::Cli);
    compact_child(&d, "vhdx", Some(4 << 20), Via::Cli);
}
