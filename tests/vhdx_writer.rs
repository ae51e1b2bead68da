//! The VHDX the project writes (issue 22: `convert --to vhdx`, `compact` of a VHDX), read by
//! the independent readers: `qemu-img check` clean and `qemu-img compare` equal (qemu reads
//! 512-byte logical sectors and no differencing VHDX), `7zz x -tVHDX -so` and libvhdi
//! (`vhdiinfo`, and the whole disk through its Python binding, parents set by hand) the same
//! bytes as the input, and this viewer's own `check` clean.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use vhd_viewer::image::BlockState;
use vhd_viewer::reader::open_layer;
use vhd_viewer::vhd::writer::{uuid_from_seed, DiskBuilder};
use vhd_viewer::vhdx::writer::VhdxBuilder;
use vhd_viewer::vhdx::Guid;

const MIB: u64 = 1 << 20;

/// `qemu-img check` finds nothing, and `qemu-img compare` finds the VHDX equal to `raw`.
fn qemu_agrees(file: &Path, raw: &Path) {
    let o = run_ok(Command::new("qemu-img").args(["check", "-f", "vhdx"]).arg(file));
    assert!(stdout(&o).contains("No errors were found"), "qemu-img check {}: {}", file.display(), stdout(&o));
    let o = run_ok(Command::new("qemu-img").args(["compare", "-f", "vhdx", "-F", "raw"]).arg(file).arg(raw));
    assert!(stdout(&o).contains("Images are identical"), "qemu-img compare {}: {}", file.display(), stdout(&o));
}

/// libvhdi's Python binding: the whole disk, with `parents` (outermost first) set by hand.
fn pyvhdi(dir: &Path, file: &str, parents: &[&str], size: u64) -> Vec<u8> {
    let mut script = String::from("import pyvhdi, sys\nfs = []\n");
    for p in parents.iter().rev() {
        script += &format!("f = pyvhdi.file(); f.open('{p}')\nif fs: f.set_parent(fs[-1])\nfs.append(f)\n");
    }
    script += &format!(
        "c = pyvhdi.file(); c.open('{file}')\nif fs: c.set_parent(fs[-1])\nsys.stdout.buffer.write(c.read_buffer_at_offset({size}, 0))\n"
    );
    let out = Command::new("/usr/bin/python3").args(["-c", &script]).current_dir(dir).output().expect("/usr/bin/python3");
    assert!(out.status.success(), "pyvhdi failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// The viewer's `check --json` finds no warning or error.
fn checks_clean(file: &Path) {
    let o = cli(&["check", "--json", p(file)]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
    let bad: Vec<_> = v.as_array().unwrap().iter().filter(|f| f["severity"] != "info").collect();
    assert!(bad.is_empty() && o.status.code() == Some(0), "check {}: {bad:?}", file.display());
}

/// Every reader of a standalone VHDX: the same bytes as `want`.
fn every_reader_agrees(dir: &Path, file: &Path, want: &[u8], raw: &Path, sector: u32) {
    let name = file.file_name().unwrap().to_str().unwrap();
    assert_same_bytes(&format!("vhd-viewer cat of {name}"), &viewer_cat(file, &[]), want);
    // 7-Zip refuses a VHDX whose size is an odd number of logical sectors: it tests the size's
    // bit of the sector size (`VirtualDiskSize & (1 << LogicalSectorSize_Log)`) where it means
    // the bits below it; the spec asks for whole sectors only.
    if (want.len() as u64 / u64::from(sector)) % 2 == 0 {
        let theirs = run_ok(Command::new("7zz").args(["x", "-tVHDX", "-so"]).arg(file)).stdout;
        assert_same_bytes(&format!("7zz x of {name}"), &theirs, want);
    }
    assert_same_bytes(&format!("libvhdi of {name}"), &pyvhdi(dir, name, &[], want.len() as u64), want);
    let info = vhdiinfo(file);
    assert_eq!(vhdi_media_size(&info["Media size"]), want.len() as u64, "vhdiinfo of {name}: {info:?}");
    assert_eq!(info["Bytes per sector"], format!("{sector} bytes"), "vhdiinfo of {name}");
    if sector == 512 {
        // qemu-img refuses 4096-byte logical sectors ("Operation not supported").
        qemu_agrees(file, raw);
    }
    checks_clean(file);
}

/// A dynamic VHD of `size` bytes with data here and there, zeros written over a whole block,
/// and data in the last sector.
fn vhd_input(dir: &Path, size: u64) -> (PathBuf, Vec<u8>, PathBuf) {
    let mut d = DiskBuilder::dynamic(size, 2 << 20);
    d.unique_id(uuid_from_seed(221)).write(0, &pattern(1, 70_000)).write(5 * MIB + 512, &pattern(2, 3 * MIB as usize));
    d.write(9 * MIB, &vec![0; 2 * MIB as usize]).write(size - 4096, &pattern(3, 4096));
    let path = dir.join(format!("in-{size}.vhd"));
    write_atomic(&path, &d.build());
    let want = viewer_cat(&path, &[]);
    assert_same_bytes("the input as qemu reads it", &qemu_raw(&path), &want);
    let raw = dir.join(format!("in-{size}.raw"));
    write_atomic(&raw, &want);
    (path, want, raw)
}

#[test]
fn convert_writes_vhdx_that_every_reader_reads_the_same() {
    let dir = scratch("vhdx-writer-convert");
    // Odd sizes (not whole MiB, not whole blocks; an odd number of sectors) for 512-byte
    // sectors, and 4096-byte sectors.
    for (size, sector) in [(13 * MIB + 2 * 512, 512u32), (13 * MIB + 3 * 512, 512), (14 * MIB, 4096)] {
        let (input, want, raw) = vhd_input(&dir, size);
        for (to, bs) in [("vhdx", None), ("vhdx", Some("1M")), ("vhdx-fixed", Some("2M")), ("vhdx-fixed", None)] {
            let out = dir.join(format!("out-{size}-{to}-{}-{sector}.vhdx", bs.unwrap_or("default")));
            let ss = sector.to_string();
            let mut args = vec!["convert", p(&input), p(&out), "--to", to, "--sector-size", &ss];
            if let Some(bs) = bs {
                args.extend(["--block-size", bs]);
            }
            let text = vv(&args, 0);
            assert!(text.contains("VHDX"), "{text}");
            every_reader_agrees(&dir, &out, &want, &raw, sector);
            let layer = open_layer(&std::fs::File::open(&out).unwrap()).unwrap();
            let bs = match bs {
                Some("1M") => MIB,
                Some("2M") => 2 * MIB,
                _ => 32 * MIB,
            };
            assert_eq!(layer.block_size(), Some(bs));
            assert_eq!(layer.logical_sector_size(), sector);
            let blocks = size.div_ceil(bs);
            let nonzero = want.chunks(bs as usize).filter(|c| c.iter().any(|b| *b != 0)).count() as u64;
            assert_eq!(layer.allocated_blocks(), if to == "vhdx" { nonzero } else { blocks }, "{}", out.display());
            // 1 MiB aligned, the structures in the first 3 MiB plus the BAT's MiB.
            assert_eq!(std::fs::metadata(&out).unwrap().len(), 4 * MIB + layer.allocated_blocks() * bs);
        }
    }
}

#[test]
fn a_vhd_refuses_4096_byte_sectors_and_a_vhdx_odd_block_sizes() {
    let dir = scratch("vhdx-writer-refusals");
    let (input, _, _) = vhd_input(&dir, 13 * MIB + 512);
    let out = dir.join("x.vhdx");
    for (args, says) in [
        (vec!["--to", "dynamic", "--sector-size", "4096"], "a VHD's sectors are 512 bytes"),
        (vec!["--to", "vhdx", "--block-size", "512K"], "from 1 MiB to 256 MiB"),
        (vec!["--to", "vhdx", "--sector-size", "1024"], "512 or 4096"),
        // 13 MiB + 512 is not whole 4096-byte sectors.
        (vec!["--to", "vhdx", "--sector-size", "4096"], "whole number of its 4096-byte logical sectors"),
    ] {
        let mut a = vec!["convert", p(&input), p(&out)];
        a.extend(args.iter().copied());
        let o = cli(&a);
        assert_ne!(o.status.code(), Some(0), "{a:?}");
        assert!(stderr(&o).contains(says), "{a:?}: {}", stderr(&o));
        assert!(!out.exists());
    }
}

#[test]
fn a_dynamic_vhdx_with_a_dirty_log_compacts_to_a_clean_vhdx_that_qemu_reads() {
    let dir = scratch("vhdx-writer-compact");
    let size = 20 * MIB;
    let mut b = VhdxBuilder::new(size).write(0, &pattern(7, 8192)).write(3 * MIB, &vec![0; 2 * MIB as usize]);
    b = b.write(7 * MIB + 4096, &pattern(8, MIB as usize)).write(size - 512, &pattern(9, 512));
    b.data_write_guid = Guid([0x5d; 16]);
    b.dirty_log = true;
    let input = dir.join("dirty.vhdx");
    write_atomic(&input, &b.build());
    let want = viewer_cat(&input, &[]);
    let raw = dir.join("dirty.raw");
    write_atomic(&raw, &want);
    let out = dir.join("compact.vhdx");
    let text = vv(&["compact", p(&input), p(&out)], 0);
    assert!(text.contains("VHDX dynamic disk") && text.contains("DataWriteGuid"), "{text}");
    every_reader_agrees(&dir, &out, &want, &raw, 512);
    let (i, o) = (open_layer(&std::fs::File::open(&input).unwrap()).unwrap(), open_layer(&std::fs::File::open(&out).unwrap()).unwrap());
    assert_eq!(o.link_id(), i.link_id());
    // Blocks 3 and 4 held only zeros.
    assert_eq!((i.allocated_blocks(), o.allocated_blocks()), (6, 4));
    assert!(!o.vhdx().unwrap().log.dirty);
}

#[test]
fn a_differencing_vhdx_compacts_to_a_child_of_the_same_parent() {
    for sector in [512u32, 4096] {
        let dir = scratch(&format!("vhdx-writer-child-{sector}"));
        let size = 24 * MIB;
        let s = sector as usize;
        let mut base = VhdxBuilder::new(size);
        base.logical_sector_size = sector;
        base.data_write_guid = Guid([0xb1; 16]);
        let base = base.write(0, &pattern(1, 3 * MIB as usize)).write(10 * MIB, &pattern(2, MIB as usize));
        let mut child = VhdxBuilder::new(size).child_of(base.data_write_guid, "base.vhdx");
        child.logical_sector_size = sector;
        child.block_size = 2 << 20;
        child.data_write_guid = Guid([0xc2; 16]);
        // Identical rewrites (dropped), changes, a block of nothing but identical sectors, a
        // zero block over the parent's data.
        let same = pattern(1, 3 * MIB as usize);
        let mut child = child
            .write(s as u64, &same[s..3 * s])
            .write(5 * s as u64, &pattern(3, s))
            .write(2 * MIB, &same[2 * MIB as usize..2 * MIB as usize + 4 * s])
            .write(16 * MIB + 7 * s as u64, &pattern(4, 3 * s));
        child.states = vec![(5, BlockState::Zero)];
        write_atomic(&dir.join("base.vhdx"), &base.build());
        write_atomic(&dir.join("child.vhdx"), &child.build());
        let input = dir.join("child.vhdx");
        let want = viewer_cat(&input, &[]);
        let sevenzip = |f: &Path| run_ok(Command::new("7zz").args(["x", "-tVHDX", "-so"]).arg(f)).stdout;
        assert_same_bytes("the child as 7-Zip reads it", &sevenzip(&input), &want);
        let out = dir.join("compact.vhdx");
        let text = vv(&["compact", p(&input), p(&out)], 0);
        assert!(text.contains("identical to its parent"), "{text}");
        assert_same_bytes("the compacted child", &viewer_cat(&out, &[]), &want);
        assert_same_bytes("the compacted child as 7-Zip reads it", &sevenzip(&out), &want);
        // libvhdi reads a child's zero block as the parent's data (block 5, as in the input).
        let mut vhdi_want = want.clone();
        vhdi_want[10 * MIB as usize..12 * MIB as usize].copy_from_slice(&pattern(2, 2 * MIB as usize)[..2 * MIB as usize]);
        vhdi_want[11 * MIB as usize..12 * MIB as usize].fill(0);
        assert_same_bytes("the input as libvhdi reads it", &pyvhdi(&dir, "child.vhdx", &["base.vhdx"], size), &vhdi_want);
        assert_same_bytes("the compacted child as libvhdi reads it", &pyvhdi(&dir, "compact.vhdx", &["base.vhdx"], size), &vhdi_want);
        let info = viewer_info(&out, &[]);
        assert_eq!(info["chain"].as_array().unwrap().len(), 2, "{}", info["chain"]);
        assert!(info["chain"][0]["parent_verified"] == true, "{}", info["chain"]);
        checks_clean(&out);
        let o = open_layer(&std::fs::File::open(&out).unwrap()).unwrap();
        // Block 0 keeps its changed sector; block 1 (2 MiB) held only identical sectors; block 8
        // its new data; block 5 stays zero.
        assert_eq!(o.allocated_blocks(), 2);
        assert_eq!(o.vhdx().unwrap().block(5).0, BlockState::Zero);
        assert_eq!(o.vhdx().unwrap().block(0).0, BlockState::PartiallyPresent);
        assert_eq!(o.link_id(), [0xc2; 16]);
    }
}

#[test]
fn a_vhdx_chain_converts_to_a_vhdx_of_its_own_sector_size() {
    let dir = scratch("vhdx-writer-chain");
    let size = 16 * MIB;
    let mut base = VhdxBuilder::new(size);
    base.logical_sector_size = 4096;
    base.data_write_guid = Guid([0xa1; 16]);
    let base = base.write(0, &pattern(5, 2 * MIB as usize)).write(9 * MIB, &pattern(6, 8192));
    let mut child = VhdxBuilder::new(size).child_of(base.data_write_guid, "base.vhdx");
    child.logical_sector_size = 4096;
    let child = child.write(4096, &pattern(7, 4096)).write(15 * MIB, &pattern(8, 4096));
    write_atomic(&dir.join("base.vhdx"), &base.build());
    write_atomic(&dir.join("child.vhdx"), &child.build());
    let input = dir.join("child.vhdx");
    let want = viewer_cat(&input, &[]);
    let raw = dir.join("child.raw");
    write_atomic(&raw, &want);
    let out = dir.join("merged.vhdx");
    let text = vv(&["convert", p(&input), p(&out), "--to", "vhdx", "--block-size", "4M"], 0);
    assert!(text.contains("merged the chain of 2 files") && text.contains("4096-byte logical sectors"), "{text}");
    every_reader_agrees(&dir, &out, &want, &raw, 4096);
    // As of layer 1: the base alone.
    let base_out = dir.join("base-copy.vhdx");
    vv(&["convert", p(&input), p(&base_out), "--to", "vhdx", "--layer", "1", "--sector-size", "512"], 0);
    let base_want = viewer_cat(&dir.join("base.vhdx"), &[]);
    let base_raw = dir.join("base.raw");
    write_atomic(&base_raw, &base_want);
    every_reader_agrees(&dir, &base_out, &base_want, &base_raw, 512);
}
