//! The commands that write new disks (issue 13): `convert` (and `merge`), `compact`, `relink`,
//! `repair` and `resize` (issue 23) (its run over the hostile suite is in `tests/hostile.rs`, which has the cases).
//!
//! Every output is read by the independent readers: `qemu-img convert -O raw` and `qemu-img
//! info` (fixed and dynamic; qemu ignores a differencing disk's parent), `7zz x -tVHD -so` (all,
//! following a differencing disk's parent itself), `vhdiinfo`, and this viewer's own `check`
//! (no warnings or errors). The flattened bytes must equal the input's. Each safety rule is
//! tested on its own, for every command: the inputs are never written to.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use vhd_viewer::reader::open_layer;
use vhd_viewer::vhd::writer::{uuid_from_seed, DiskBuilder};

const MIB: u64 = 1 << 20;

/// A three-file chain in `dir`: base.vhd (dynamic, 2 MiB blocks) <- mid.vhd (512 KiB blocks)
/// <- top.vhd (2 MiB blocks), each found through its locators; data in each, zeros written
/// over data, whole blocks written with zeros, a partial last block (the disk is 9 MiB + 3
/// sectors). Returns the top's path.
fn chain(dir: &Path) -> PathBuf {
    let size = 9 * MIB + 1536;
    let mut base = DiskBuilder::dynamic(size, 2 << 20);
    base.unique_id(uuid_from_seed(131))
        .write(0, &pattern(1, 8192))
        .write(3 * MIB, &pattern(2, 2 * MIB as usize))
        .write(6 * MIB, &vec![0; 2 * MIB as usize]);
    base.write(size - 1024, &pattern(3, 1024));
    let mut mid = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 512 << 10);
    mid.unique_id(uuid_from_seed(132)).write(4096, &pattern(4, 1024)).write(3 * MIB + 512, &vec![0; 4096]).write(8 * MIB, &[0; 512]);
    let mut top = DiskBuilder::differencing(&mid.parent_ref("mid.vhd"), 2 << 20);
    top.unique_id(uuid_from_seed(133)).write(100 * 512, &pattern(5, 512)).write(5 * MIB - 512, &pattern(6, 2048));
    write_atomic(&dir.join("base.vhd"), &base.build());
    write_atomic(&dir.join("mid.vhd"), &mid.build());
    write_atomic(&dir.join("top.vhd"), &top.build());
    dir.join("top.vhd")
}

/// No file of `dir` is a left-over temporary file.
fn no_partial_files(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        assert!(!n.ends_with(".part"), "a partial file was left: {}", e.path().display());
    }
}

/// The viewer's `check --json` of `file` finds no warning or error.
fn checks_clean(file: &Path, extra: &[&str]) {
    let mut args = vec!["check", "--json", p(file)];
    args.extend_from_slice(extra);
    let o = cli(&args);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {}", stderr(&o)));
    let bad: Vec<_> = v.as_array().unwrap().iter().filter(|f| f["severity"] != "info").collect();
    assert!(bad.is_empty() && o.status.code() == Some(0), "{args:?}: {bad:?}");
}

/// A standalone fixed or dynamic VHD read by every reader: the same bytes as `want`.
fn every_reader_agrees(file: &Path, want: &[u8], disk_type: &str) {
    let what = file.display().to_string();
    assert_same_bytes(&format!("qemu-img convert of {what}"), &qemu_raw(file), want);
    assert_same_bytes(&format!("7zz x of {what}"), &sevenzip_raw(file), want);
    assert_same_bytes(&format!("vhd-viewer cat of {what}"), &viewer_cat(file, &[]), want);
    let info = vhdiinfo(file);
    assert_eq!(vhdi_media_size(&info["Media size"]), want.len() as u64, "vhdiinfo of {what}: {info:?}");
    assert_eq!(info["Disk type"], disk_type, "vhdiinfo of {what}");
    let q = run_ok(Command::new("qemu-img").args(["info", "--output=json", "-f", "vpc"]).arg(file));
    let q: serde_json::Value = serde_json::from_slice(&q.stdout).unwrap();
    assert_eq!(q["virtual-size"], want.len() as u64, "qemu-img info of {what}");
    checks_clean(file, &[]);
}

/// Blocks of `bs` bytes of `data` that hold a non-zero byte.
fn nonzero_blocks(data: &[u8], bs: usize) -> u64 {
    data.chunks(bs).filter(|c| c.iter().any(|b| *b != 0)).count() as u64
}

#[test]
fn convert_writes_the_same_disk_in_every_format_for_every_reader() {
    let dir = scratch("writers-convert");
    let top = chain(&dir);
    let mut inputs: Vec<(PathBuf, Vec<u8>)> = vec![(top.clone(), sevenzip_raw(&top))];
    for name in ["qemu-dynamic-10M", "qemu-fixed-3M", "qemu-dynamic-force-5M"] {
        let spec = qemu_spec(name);
        let path = qemu_fixture(&spec);
        let size = viewer_info(&path, &[])["current_size"].as_u64().unwrap();
        inputs.push((path, expected_content(&spec, size)));
    }
    // The chain's content as 7-Zip reads it is the viewer's too (checked elsewhere); and zeros
    // were written over data, so whole blocks of the chain read as zeros.
    assert_same_bytes("the chain", &viewer_cat(&top, &[]), &inputs[0].1);
    for (input, want) in &inputs {
        let name = input.file_stem().unwrap().to_string_lossy().into_owned();
        let before = sha256_file(input);
        for (to, bs, disk_type) in [("dynamic", "2M", "Dynamic"), ("dynamic", "512K", "Dynamic"), ("fixed", "2M", "Fixed")] {
            let out = dir.join(format!("{name}-{to}-{bs}.vhd"));
            let text = vv(&["convert", p(input), p(&out), "--to", to, "--block-size", bs], 0);
            assert!(text.contains("wrote"), "{text}");
            every_reader_agrees(&out, want, disk_type);
            let layer = open_layer(&std::fs::File::open(&out).unwrap()).unwrap();
            if to == "dynamic" {
                let bs = if bs == "2M" { 2 << 20 } else { 512 << 10 };
                assert_eq!(layer.allocated_blocks(), nonzero_blocks(want, bs), "{}: only blocks with non-zero data", out.display());
                assert!(text.contains(&format!("{} of", layer.allocated_blocks())), "{text}");
            } else {
                assert_eq!(std::fs::metadata(&out).unwrap().len(), want.len() as u64 + 512);
            }
        }
        let raw = dir.join(format!("{name}.raw"));
        vv(&["convert", p(input), p(&raw), "--to", "raw"], 0);
        assert_same_bytes("convert --to raw", &std::fs::read(&raw).unwrap(), want);
        assert_eq!(sha256_file(input), before, "{} was changed", input.display());
    }
    no_partial_files(&dir);
}

#[test]
fn convert_of_a_real_windows_disk() {
    // The Windows 10 sample: 2 GiB, 10 blocks; its known content hash (tests/data/README.md).
    let dir = scratch("writers-win10");
    let input = sample("win10-dynamic-2G.vhd");
    let out = dir.join("w.vhd");
    let text = vv(&["convert", p(&input), p(&out)], 0);
    let want = "84dfc92af40416602b7c4207f78d24466e097cfbd56459764d974ceb6c483793";
    assert_eq!(sha256_stdout(Command::new("7zz").args(["x", "-tVHD", "-so"]).arg(&out)), want);
    let raw = dir.join("q.raw");
    run_ok(Command::new("qemu-img").args(["convert", "-f", "vpc", "-O", "raw"]).arg(&out).arg(&raw));
    assert_eq!(sha256_file(&raw), want);
    checks_clean(&out, &[]);
    let layer = open_layer(&std::fs::File::open(&out).unwrap()).unwrap();
    assert!(layer.allocated_blocks() <= 10 && text.contains(&format!("{} of 1024 blocks", layer.allocated_blocks())), "{text}");
}

#[test]
fn merge_is_convert_and_layer_cuts_the_chain() {
    let dir = scratch("writers-layer");
    let top = chain(&dir);
    for (k, file) in [(0, "top.vhd"), (1, "mid.vhd"), (2, "base.vhd")] {
        // 7-Zip flattens each file of the chain on its own (following its parents).
        let want = sevenzip_raw(&dir.join(file));
        let out = dir.join(format!("layer{k}.vhd"));
        let text = vv(&["merge", p(&top), p(&out), "--layer", &k.to_string()], 0);
        if k < 2 {
            assert!(text.contains("merged the chain of"), "{text}");
        }
        every_reader_agrees(&out, &want, "Dynamic");
    }
    let o = cli(&["convert", p(&top), p(&dir.join("layer3.vhd")), "--layer", "3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("layers 0 to 2"), "{}", stderr(&o));
    assert!(!dir.join("layer3.vhd").exists());
    // Bad block sizes are refused before anything is written.
    for bs in ["1000", "3K", "512M"] {
        let o = cli(&["convert", p(&top), p(&dir.join("bs.vhd")), "--block-size", bs]);
        assert_eq!(o.status.code(), Some(2), "{bs}");
        assert!(stderr(&o).contains("block size"), "{}", stderr(&o));
        assert!(!dir.join("bs.vhd").exists());
    }
    no_partial_files(&dir);
}

#[test]
fn memory_stays_flat_converting_a_2040_gib_disk() {
    // qemu's 2040 GiB dynamic disk with a sector near each end, converted under an address
    // space limit of 200 MiB: the 4 MiB BAT and a 1 MiB buffer, never the disk.
    let gib = 1u64 << 30;
    let spec = QemuSpec {
        name: "qemu-dynamic-2040G",
        subformat: "dynamic",
        size: "2040G",
        force_size: true,
        writes: vec![(0x5a, 2040 * gib - 4096, 512), (0xa5, 1536, 512)],
    };
    let input = qemu_fixture(&spec);
    let dir = scratch("writers-2040g");
    let out = dir.join("big.vhd");
    let o = output(Command::new("prlimit").arg("--as=209715200").arg(bin()).args(["convert", p(&input), p(&out)]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("2 of 1044480 blocks"), "{}", stdout(&o));
    // The file: the BAT (4 MiB) and two blocks.
    assert_eq!(std::fs::metadata(&out).unwrap().len(), 512 + 1024 + 1_044_480 * 4 + 2 * (512 + 2 * MIB) + 512);
    let end = viewer_cat(&out, &["--offset", &(2040 * gib - 4096).to_string(), "--length", "512"]);
    assert!(end.iter().all(|b| *b == 0x5a));
    let start = viewer_cat(&out, &["--offset", "1536", "--length", "512"]);
    assert!(start.iter().all(|b| *b == 0xa5));
    let info = vhdiinfo(&out);
    assert_eq!(vhdi_media_size(&info["Media size"]), 2040 * gib);
    checks_clean(&out, &["--quick"]);
}

// ---------------------------------------------------------------------------------------------
// Safety, each rule on its own, for every command.

/// The inputs of each command in `dir`: (command line without OUT, files it reads).
fn commands(dir: &Path) -> Vec<(&'static str, Vec<String>, Vec<PathBuf>)> {
    let top = chain(dir);
    let base = dir.join("base.vhd");
    let mid = dir.join("mid.vhd");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    vec![
        ("convert", vec!["convert".into(), s(&top)], vec![top.clone(), mid.clone(), base.clone()]),
        (
            "convert-for-azure",
            vec!["convert".into(), s(&top), "--for".into(), "azure".into()],
            vec![top.clone(), mid.clone(), base.clone()],
        ),
        ("compact", vec!["compact".into(), s(&top)], vec![top.clone(), mid.clone(), base.clone()]),
        ("relink", vec!["relink".into(), s(&top), "--parent".into(), s(&mid)], vec![top.clone(), mid.clone()]),
        ("repair", vec!["repair".into(), s(&base)], vec![base.clone()]),
        ("resize", vec!["resize".into(), s(&top), "--size".into(), "+1M".into()], vec![top.clone(), mid.clone(), base.clone()]),
    ]
}

fn with_out(args: &[String], out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a = args.to_vec();
    a.insert(2, out.to_str().unwrap().to_string());
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn run_args(args: &[String]) -> std::process::Output {
    cli(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn hashes(files: &[PathBuf]) -> Vec<String> {
    files.iter().map(|f| sha256_file(f)).collect()
}

#[test]
fn an_input_is_never_the_output_by_name() {
    let dir = scratch("safety-name");
    for (cmd, args, inputs) in commands(&dir) {
        let before = hashes(&inputs);
        for input in &inputs {
            for force in [&[][..], &["--force"][..]] {
                let o = run_args(&with_out(&args, input, force));
                assert_eq!(o.status.code(), Some(2), "{cmd} onto {}", input.display());
                assert!(stderr(&o).contains("is the same file as the input"), "{cmd}: {}", stderr(&o));
            }
        }
        assert_eq!(hashes(&inputs), before, "{cmd} changed an input");
        no_partial_files(&dir);
    }
}

#[test]
fn an_input_is_never_the_output_through_a_symbolic_link() {
    let dir = scratch("safety-symlink");
    for (cmd, args, inputs) in commands(&dir) {
        let before = hashes(&inputs);
        for (i, input) in inputs.iter().enumerate() {
            let link = dir.join(format!("{cmd}-link{i}.vhd"));
            std::os::unix::fs::symlink(input, &link).unwrap();
            let o = run_args(&with_out(&args, &link, &["--force"]));
            assert_eq!(o.status.code(), Some(2), "{cmd} onto a link to {}", input.display());
            assert!(stderr(&o).contains("is the same file as the input"), "{cmd}: {}", stderr(&o));
            assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link itself is left too");
        }
        assert_eq!(hashes(&inputs), before, "{cmd} changed an input");
        no_partial_files(&dir);
    }
}

#[test]
fn an_input_is_never_the_output_through_a_hard_link() {
    let dir = scratch("safety-hardlink");
    for (cmd, args, inputs) in commands(&dir) {
        let before = hashes(&inputs);
        for (i, input) in inputs.iter().enumerate() {
            let link = dir.join(format!("{cmd}-hard{i}.vhd"));
            std::fs::hard_link(input, &link).unwrap();
            let o = run_args(&with_out(&args, &link, &["--force"]));
            assert_eq!(o.status.code(), Some(2), "{cmd} onto a hard link to {}", input.display());
            assert!(stderr(&o).contains("is the same file as the input"), "{cmd}: {}", stderr(&o));
        }
        assert_eq!(hashes(&inputs), before, "{cmd} changed an input");
        no_partial_files(&dir);
    }
}

#[test]
fn an_existing_output_is_replaced_only_with_force() {
    let dir = scratch("safety-exists");
    for (cmd, args, _) in commands(&dir) {
        let out = dir.join(format!("{cmd}-out.vhd"));
        std::fs::write(&out, b"someone's file").unwrap();
        let o = run_args(&with_out(&args, &out, &[]));
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        assert!(stderr(&o).contains("exists; add --force"), "{cmd}: {}", stderr(&o));
        assert_eq!(std::fs::read(&out).unwrap(), b"someone's file");
        let o = run_args(&with_out(&args, &out, &["--force"]));
        assert_eq!(o.status.code(), Some(0), "{cmd} --force: {}", stderr(&o));
        assert!(open_layer(&std::fs::File::open(&out).unwrap()).is_ok(), "{cmd}: the new file replaced it");
        no_partial_files(&dir);
    }
}

#[test]
fn a_failure_midway_leaves_no_file() {
    // The base of the chain is cut short inside the data of its last block (the disk's last
    // KiB, written at 1 MiB + 512 into that block): every command reading it fails after the
    // top's data was written, names the offset, and leaves nothing behind.
    let dir = scratch("safety-failure");
    let top = chain(&dir);
    let base = dir.join("base.vhd");
    let mut bytes = std::fs::read(&base).unwrap();
    let last_block_data = bytes.len() - 512 - 2 * MIB as usize;
    bytes.truncate(last_block_data + MIB as usize + 600);
    std::fs::write(&base, &bytes).unwrap();
    let out = dir.join("out.vhd");
    let mid = dir.join("mid.vhd");
    let mut runs: Vec<Vec<&str>> = vec![
        vec!["convert", p(&top), p(&out)],
        vec!["convert", p(&top), p(&out), "--to", "fixed"],
        vec!["convert", p(&top), p(&out), "--to", "raw"],
        vec!["convert", p(&top), p(&out), "--for", "azure"],
    ];
    // The top itself cut short inside its second block (the data written at 5 MiB - 512 lies
    // across the cut): compact and relink copy its first block, then fail.
    let cut = dir.join("cut.vhd");
    let mut bytes = std::fs::read(&top).unwrap();
    bytes.truncate(bytes.len() - 512 - MIB as usize);
    std::fs::write(&cut, &bytes).unwrap();
    runs.push(vec!["compact", p(&cut), p(&out), "--parent", p(&mid)]);
    runs.push(vec!["relink", p(&cut), p(&out), "--parent", p(&mid)]);
    runs.push(vec!["resize", p(&cut), p(&out), "--parent", p(&mid), "--size", "+1M"]);
    for args in runs {
        let o = cli(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stdout(&o));
        assert!(stderr(&o).contains("0x"), "{args:?}: the error names no offset: {}", stderr(&o));
        assert!(!out.exists(), "{args:?} left its output");
        no_partial_files(&dir);
    }
}

// ---------------------------------------------------------------------------------------------
// compact

#[test]
fn compact_drops_zero_blocks_and_sectors_identical_to_the_parent() {
    let dir = scratch("writers-compact");
    let top = chain(&dir);
    let base = dir.join("base.vhd");
    // The dynamic base (5 blocks): block 3 (6-8 MiB) was written with zeros only.
    let out = dir.join("base-compact.vhd");
    let text = vv(&["compact", p(&base), p(&out)], 0);
    let want = sevenzip_raw(&base);
    every_reader_agrees(&out, &want, "Dynamic");
    let (before, after) =
        (open_layer(&std::fs::File::open(&base).unwrap()).unwrap(), open_layer(&std::fs::File::open(&out).unwrap()).unwrap());
    assert_eq!((before.allocated_blocks(), after.allocated_blocks()), (5, 4), "{text}");
    assert_eq!(after.link_id(), before.link_id(), "the same disk");
    let saved = std::fs::metadata(&base).unwrap().len() - std::fs::metadata(&out).unwrap().len();
    assert!(text.contains(&format!("{saved} bytes")) && text.contains("4 now (1 dropped)"), "{text}");
    // The middle layer (a differencing disk) wrote zeros over zeros at 8 MiB: dropped; and over
    // the base's data at 3 MiB + 512: kept. In a folder of its own, found through its locators.
    let sub = dir.join("c");
    std::fs::create_dir(&sub).unwrap();
    std::fs::copy(&base, sub.join("base.vhd")).unwrap();
    let mid = dir.join("mid.vhd");
    let out = sub.join("mid.vhd");
    let text = vv(&["compact", p(&mid), p(&out)], 0);
    assert!(text.contains("sectors the child held identical to its parent, now taken from the parent: 1"), "{text}");
    assert_same_bytes("7zz of the compacted child", &sevenzip_raw(&out), &sevenzip_raw(&mid));
    checks_clean(&out, &[]);
    let l = open_layer(&std::fs::File::open(&out).unwrap()).unwrap();
    assert_eq!(l.allocated_blocks(), open_layer(&std::fs::File::open(&mid).unwrap()).unwrap().allocated_blocks() - 1);
    // And the top still links to the compacted middle (it kept its unique id).
    std::fs::copy(&top, sub.join("top.vhd")).unwrap();
    assert_same_bytes("7zz of the top over the compacted middle", &sevenzip_raw(&sub.join("top.vhd")), &sevenzip_raw(&top));
    // A fixed disk: refused, nothing written.
    let fixed = qemu_fixture(&qemu_spec("qemu-fixed-3M"));
    let o = cli(&["compact", p(&fixed), p(&dir.join("f.vhd"))]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("fixed disk"), "{}", stderr(&o));
    assert!(!dir.join("f.vhd").exists());
    no_partial_files(&dir);
}

/// `compact --block-size`: a dynamic VHD and VHDX copied with smaller and larger blocks read the
/// same in the other readers and keep their ids, and so does a differencing VHD.
#[test]
fn compact_with_another_block_size_keeps_the_disk() {
    let dir = scratch("writers-compact-reblock");
    chain(&dir);
    let base = dir.join("base.vhd");
    let want = sevenzip_raw(&base);
    let id = open_layer(&std::fs::File::open(&base).unwrap()).unwrap().link_id();
    for (size, name) in [("512K", "512 KiB"), ("4M", "4 MiB")] {
        let out = dir.join(format!("base-{size}.vhd"));
        let text = vv(&["compact", p(&base), p(&out), "--block-size", size], 0);
        assert!(text.contains(&format!("blocks of {name} (was 2 MiB)")), "{text}");
        every_reader_agrees(&out, &want, "Dynamic");
        let l = open_layer(&std::fs::File::open(&out).unwrap()).unwrap();
        assert_eq!((l.link_id(), l.block_size()), (id, Some(if size == "4M" { 4 << 20 } else { 512 << 10 })));
    }
    // A VHDX with 1 MiB blocks, compacted to 8 MiB blocks: qemu-img reads the same and checks it.
    let vhdx = dir.join("base.vhdx");
    vv(&["convert", p(&base), p(&vhdx), "--to", "vhdx", "--block-size", "1M"], 0);
    let out = dir.join("base-8M.vhdx");
    let text = vv(&["compact", p(&vhdx), p(&out), "--block-size", "8M"], 0);
    assert!(text.contains("blocks of 8 MiB (was 1 MiB)"), "{text}");
    let raw = dir.join("base-8M.raw");
    run_ok(Command::new("qemu-img").args(["convert", "-f", "vhdx", "-O", "raw"]).arg(&out).arg(&raw));
    assert_same_bytes("qemu-img convert of the VHDX with 8 MiB blocks", &std::fs::read(&raw).unwrap(), &want);
    run_ok(Command::new("qemu-img").args(["check", "-f", "vhdx"]).arg(&out));
    checks_clean(&out, &[]);
    let (a, b) = (open_layer(&std::fs::File::open(&vhdx).unwrap()).unwrap(), open_layer(&std::fs::File::open(&out).unwrap()).unwrap());
    assert_eq!(b.link_id(), a.link_id(), "the same DataWriteGuid");
    // A differencing disk (512 KiB blocks): the same over its parent, and its child still links
    // to it.
    let sub = dir.join("c");
    std::fs::create_dir(&sub).unwrap();
    std::fs::copy(&base, sub.join("base.vhd")).unwrap();
    let mid = dir.join("mid.vhd");
    let text = vv(&["compact", p(&mid), p(&sub.join("mid.vhd")), "--block-size", "2M"], 0);
    assert!(text.contains("blocks of 2 MiB (was 512 KiB)"), "{text}");
    assert_same_bytes("7zz of the child with 2 MiB blocks", &sevenzip_raw(&sub.join("mid.vhd")), &sevenzip_raw(&mid));
    checks_clean(&sub.join("mid.vhd"), &[]);
    std::fs::copy(dir.join("top.vhd"), sub.join("top.vhd")).unwrap();
    assert_same_bytes("7zz of the top over it", &sevenzip_raw(&sub.join("top.vhd")), &sevenzip_raw(&dir.join("top.vhd")));
    no_partial_files(&dir);
}

// ---------------------------------------------------------------------------------------------
// relink

#[test]
fn relink_after_moving_the_parent() {
    let dir = scratch("writers-relink");
    let old = dir.join("old");
    std::fs::create_dir(&old).unwrap();
    let top = chain(&old);
    let want = sevenzip_raw(&top);
    let child_id = viewer_info(&old.join("mid.vhd"), &[])["unique_id"].clone();
    let want_mid = sevenzip_raw(&old.join("mid.vhd"));
    // The middle layer's parent moves to another folder: the middle no longer opens whole.
    let moved = dir.join("moved").join("deeper");
    std::fs::create_dir_all(&moved).unwrap();
    std::fs::rename(old.join("base.vhd"), moved.join("the base.vhd")).unwrap();
    let o = cli(&["cat", p(&old.join("mid.vhd"))]);
    assert_eq!(o.status.code(), Some(2), "the parent is gone");
    // Relinked into a third folder, beside a copy of the top.
    let new = dir.join("new");
    std::fs::create_dir(&new).unwrap();
    std::fs::copy(&top, new.join("top.vhd")).unwrap();
    let out = new.join("mid.vhd");
    let text = vv(&["relink", p(&old.join("mid.vhd")), p(&out), "--parent", p(&moved.join("the base.vhd"))], 0);
    assert!(text.contains("W2ru (relative to") && text.contains("..\\moved\\deeper\\the base.vhd"), "{text}");
    assert!(text.contains("keeps the child's own unique id"), "{text}");
    assert!(text.contains("finds its parent"), "{text}");
    // This viewer finds the parent through the new locators (no --parent).
    let info = viewer_info(&out, &[]);
    assert_eq!(info["unique_id"], child_id, "the child keeps its unique id");
    assert_eq!(info["parent_locators"][0]["path"], "..\\moved\\deeper\\the base.vhd", "{info}");
    assert_same_bytes("vhd-viewer cat of the relinked middle", &viewer_cat(&out, &[]), &want_mid);
    // The top (whose locators name mid.vhd beside it) reads through the relinked middle, which
    // kept its unique id, and the moved base.
    assert_same_bytes("vhd-viewer cat of the top over the relinked middle", &viewer_cat(&new.join("top.vhd"), &[]), &want);
    checks_clean(&out, &[]);
    let v = vhdiinfo(&out);
    assert_eq!(v["Disk type"], "Differential", "{v:?}");
    // 7-Zip opens a parent only from the child's own folder (it looks the relative locator's
    // name up there; `..\\` and folders are not followed, with either separator): the child
    // relinked beside the moved parent, whose name changed, opens in 7-Zip through `.\\the base.vhd`.
    let beside = moved.join("mid.vhd");
    let text = vv(&["relink", p(&old.join("mid.vhd")), p(&beside), "--parent", p(&moved.join("the base.vhd"))], 0);
    assert!(text.contains(".\\the base.vhd"), "{text}");
    assert_same_bytes("7zz of the middle relinked beside its parent", &sevenzip_raw(&beside), &want_mid);
    std::fs::copy(&top, moved.join("top.vhd")).unwrap();
    assert_same_bytes("7zz of the top over it", &sevenzip_raw(&moved.join("top.vhd")), &want);
    checks_clean(&beside, &[]);
    // Run from another folder with relative paths: the locator is still relative to OUT's folder.
    let out2 = new.join("mid2.vhd");
    let o = cli_in(&dir, &["relink", "old/mid.vhd", "new/mid2.vhd", "--parent", "moved/deeper/the base.vhd"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_same_bytes("the relinked middle (relative paths)", &viewer_cat(&out2, &[]), &want_mid);
}

#[test]
fn relink_to_another_disk_needs_force_and_warns() {
    let dir = scratch("writers-relink-force");
    chain(&dir);
    let mid = dir.join("mid.vhd");
    let mut other = DiskBuilder::dynamic(9 * MIB + 1536, 2 << 20);
    other.unique_id(uuid_from_seed(999)).timestamp(0x3000_0000).write(0, &[0x77; 4096]);
    let other_path = dir.join("other.vhd");
    write_atomic(&other_path, &other.build());
    let out = dir.join("forced.vhd");
    let o = cli(&["relink", p(&mid), p(&out), "--parent", p(&other_path)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not the disk the child was made from") && stderr(&o).contains("--force"), "{}", stderr(&o));
    assert!(!out.exists());
    let o = cli(&["relink", p(&mid), p(&out), "--parent", p(&other_path), "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("WARNING"), "{}", stderr(&o));
    let info = viewer_info(&out, &[]);
    let other_id = viewer_info(&other_path, &[])["unique_id"].clone();
    assert_eq!(info["parent_unique_id"], other_id, "{info}");
    // The child keeps its own id; the chain opens (over the other disk) without --force now.
    assert_eq!(info["unique_id"], viewer_info(&mid, &[])["unique_id"]);
    checks_clean(&out, &[]);
    // A dynamic disk has no parent to relink.
    let o = cli(&["relink", p(&other_path), p(&dir.join("x.vhd")), "--parent", p(&mid)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("only a differencing disk"), "{}", stderr(&o));
}

#[test]
fn ctrl_c_removes_the_partial_file() {
    // 256 MiB of data (made by qemu, cached): long enough to be interrupted while it is written.
    let spec = QemuSpec {
        name: "qemu-dynamic-256M-full",
        subformat: "dynamic",
        size: "256M",
        force_size: true,
        writes: vec![(0x6b, 0, 256 * MIB)],
    };
    let input = qemu_fixture(&spec);
    let dir = scratch("safety-interrupt");
    let out = dir.join("out.vhd");
    for (cmd, extra) in
        [("convert", &[][..]), ("compact", &[]), ("repair", &[]), ("convert", &["--for", "azure"]), ("resize", &["--size", "+1M"])]
    {
        let child = Command::new(bin())
            .args([cmd, p(&input), p(&out)])
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The partial file appears once the signals are watched; interrupt then.
        let started = std::time::Instant::now();
        let part = loop {
            let found = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).find(|p| p.to_string_lossy().ends_with(".part"));
            if let Some(p) = found {
                break p;
            }
            assert!(started.elapsed() < std::time::Duration::from_secs(30), "{cmd}: no partial file appeared");
            std::thread::sleep(std::time::Duration::from_millis(1));
        };
        assert!(part.file_name().unwrap().to_string_lossy().starts_with(".out.vhd."), "{}: beside OUT, named after it", part.display());
        run_ok(Command::new("kill").args(["-INT", &child.id().to_string()]));
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{cmd}: {}{}", stdout(&o), stderr(&o));
        assert!(stderr(&o).contains("interrupted"), "{cmd}: {}", stderr(&o));
        assert!(!out.exists(), "{cmd} left its output");
        no_partial_files(&dir);
    }
}
