//! VHDX: the flattened disk against independent readers (`qemu-img convert -O raw`,
//! `7zz x -tVHDX -so`, libvhdi's `pyvhdi` and `vhdiinfo`), on disks qemu-img makes (fixed and
//! dynamic, block sizes 1 MiB to 256 MiB) and disks the project's writer makes (4096-byte
//! sectors, differencing chains, block states qemu never writes, a dirty log); the chain found
//! through the parent locator and verified by `parent_linkage`; hostile files; and how many
//! bytes opening reads.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

use vhd_viewer::reader::{open_layer, Counting, DiskReader, ReadAt};
use vhd_viewer::vhdx::format::MIB;
use vhd_viewer::vhdx::writer::{Kind, VhdxBuilder};
use vhd_viewer::vhdx::{BlockState, Guid};
use vhd_viewer::Disk;

/// A byte pattern that differs from sector to sector and from seed to seed.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u32).wrapping_mul(2654435761).rotate_left(seed as u32 % 31) as u8 ^ seed).collect()
}

/// A raw disk of `size` bytes with data in a few places (start, an unaligned middle stretch,
/// the last sector), written sparse.
fn raw_disk(dir: &Path, size: u64, seed: u8) -> (PathBuf, Vec<u8>) {
    let mut raw = vec![0u8; size as usize];
    let put = |raw: &mut Vec<u8>, at: u64, len: usize, s: u8| {
        let end = (at as usize + len).min(raw.len());
        raw[at as usize..end].copy_from_slice(&pattern(end - at as usize, s));
    };
    put(&mut raw, 0, 70_000, seed);
    put(&mut raw, size / 2 + 12_345 * 512, 3 * MIB as usize, seed.wrapping_add(1));
    put(&mut raw, size - 512, 512, seed.wrapping_add(2));
    let path = dir.join(format!("disk-{seed}.raw"));
    write_atomic(&path, &raw);
    (path, raw)
}

fn qemu_raw_vhdx(file: &Path) -> Vec<u8> {
    let out = file.with_extension(format!("qemu{}.raw", std::process::id()));
    run_ok(Command::new("qemu-img").args(["convert", "-f", "vhdx", "-O", "raw"]).arg(file).arg(&out));
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    bytes
}

/// `7zz x -tVHDX -so` (7-Zip's type name for VHDX is `VHDX`; it follows differencing parents
/// through the parent locator itself).
fn sevenzip_vhdx(file: &Path) -> Vec<u8> {
    run_ok(Command::new("7zz").args(["x", "-tVHDX", "-so"]).arg(file)).stdout
}

/// libvhdi's Python binding: the whole disk, with `parents` (outermost first) set by hand.
fn pyvhdi_vhdx(dir: &Path, file: &str, parents: &[&str], size: u64) -> Vec<u8> {
    let mut script = String::from("import pyvhdi, sys\nfs = []\n");
    for p in parents.iter().rev() {
        script += &format!("f = pyvhdi.file(); f.open('{p}')\nif fs: f.set_parent(fs[-1])\nfs.append(f)\n");
    }
    script += &format!(
        "c = pyvhdi.file(); c.open('{file}')\nif fs: c.set_parent(fs[-1])\nsys.stdout.buffer.write(c.read_buffer_at_offset({size}, 0))\n"
    );
    let out = Command::new("/usr/bin/python3")
        .args(["-c", &script])
        .current_dir(dir)
        .output()
        .expect("/usr/bin/python3 (run scripts/setup.sh native)");
    assert!(out.status.success(), "pyvhdi (python3-libvhdi) failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    write_atomic(&p, bytes);
    p
}

/// The expected content of a writer disk: zeros, then its writes in order.
fn model(b: &VhdxBuilder, below: Option<&[u8]>) -> Vec<u8> {
    let mut v = below.map(<[u8]>::to_vec).unwrap_or_else(|| vec![0; b.size as usize]);
    v.resize(b.size as usize, 0);
    for (off, bytes) in &b.writes {
        v[*off as usize..*off as usize + bytes.len()].copy_from_slice(bytes);
    }
    v
}

#[test]
fn qemu_fixed_and_dynamic_every_block_size_match_qemu_and_7zip() {
    let dir = scratch("vhdx-qemu");
    let size = 40 * MIB;
    let (raw_path, raw) = raw_disk(&dir, size, 7);
    for sub in ["dynamic", "fixed"] {
        for bs in ["1M", "2M", "8M", "32M", "256M"] {
            let name = format!("{sub}-{bs}.vhdx");
            let path = dir.join(&name);
            run_ok(
                Command::new("qemu-img")
                    .args(["convert", "-f", "raw", "-O", "vhdx", "-o"])
                    .arg(format!("subformat={sub},block_size={bs}"))
                    .arg(&raw_path)
                    .arg(&path),
            );
            let info = viewer_info(&path, &[]);
            assert_eq!(info["format"], "vhdx", "{name}");
            assert_eq!(info["disk_type"], sub, "{name}");
            assert_eq!(info["current_size"], size, "{name}");
            assert_eq!(info["block_size"].as_u64().unwrap(), bs.trim_end_matches('M').parse::<u64>().unwrap() * MIB, "{name}");
            assert_eq!(info["log_dirty"], false, "{name}");
            let ours = viewer_cat(&path, &[]);
            assert_same_bytes(&format!("{name}: vhd-viewer cat vs the raw disk"), &ours, &raw);
            assert_same_bytes(&format!("{name}: vhd-viewer cat vs qemu-img"), &ours, &qemu_raw_vhdx(&path));
            assert_same_bytes(&format!("{name}: vhd-viewer cat vs 7zz"), &ours, &sevenzip_vhdx(&path));
            let check = cli(&["check", path.to_str().unwrap()]);
            assert_eq!(check.status.code(), Some(0), "{name}: {}", stdout(&check));
            // vhdiinfo agrees on the fields both show.
            let v = vhdiinfo(&path);
            assert_eq!(v["Format"], "VHDX (version 2)");
            assert_eq!(vhdi_media_size(&v["Media size"]), size, "{name}");
            assert_eq!(v["Bytes per sector"], format!("{} bytes", info["logical_sector_size"]), "{name}");
            assert_eq!(v["Identifier"], info["data_write_guid"].as_str().unwrap(), "{name}");
            assert_eq!(v["Disk type"].to_lowercase(), sub, "{name}");
        }
    }
}

#[test]
fn qemu_map_agrees_with_the_writes() {
    let dir = scratch("vhdx-map");
    let size = 64 * MIB;
    let (raw_path, raw) = raw_disk(&dir, size, 3);
    let path = dir.join("d.vhdx");
    run_ok(Command::new("qemu-img").args(["convert", "-f", "raw", "-O", "vhdx", "-o", "block_size=1M"]).arg(&raw_path).arg(&path));
    let o = cli(&["map", "--json", path.to_str().unwrap()]);
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // Every range mapped to the file holds what the raw disk holds there; every zero range is zero.
    let file = std::fs::read(&path).unwrap();
    let mut covered = 0;
    for r in rows.as_array().unwrap() {
        let (off, len) = (r["start"].as_u64().unwrap() as usize, r["length"].as_u64().unwrap() as usize);
        covered += len;
        match r["kind"].as_str().unwrap() {
            "data" => {
                let at = r["file_offset"].as_u64().unwrap() as usize;
                assert!(file[at..at + len] == raw[off..off + len], "range {off:#x}+{len:#x}");
            }
            "zero" => assert!(raw[off..off + len].iter().all(|b| *b == 0), "zero range {off:#x} holds data"),
            k => panic!("unexpected source {k}"),
        }
    }
    assert_eq!(covered as u64, size);
}

#[test]
fn a_64_tib_sparse_disk_opens_in_few_bytes_and_maps_as_one_zero_range() {
    let dir = scratch("vhdx-large");
    let path = dir.join("huge.vhdx");
    run_ok(Command::new("qemu-img").args(["create", "-q", "-f", "vhdx", "-o", "block_size=256M"]).arg(&path).arg("64T"));
    let file = Counting::new(vhd_viewer::reader::KnownLen::new(std::fs::File::open(&path).unwrap()));
    let layer = open_layer(&file).unwrap();
    assert_eq!(layer.size(), 64 << 40);
    let v = layer.vhdx().unwrap();
    // 262144 payload blocks and 32 sector bitmap entries: 2 MiB of BAT.
    assert_eq!(v.payload_blocks, 262_144);
    // The first 512 bytes and the last 512 (is it a VHD?), of the first 320 KiB the identifier's
    // 520 bytes, the two 4 KiB headers and the two 64 KiB region tables, the log region
    // (clean: read to list the entries earlier sessions left in it), the metadata region (1 MiB)
    // and the BAT's entries.
    let bat = v.bat.len() as u64 * 8;
    let log = u64::from(v.header().log_length);
    assert_eq!(log, MIB);
    assert_eq!(file.bytes(), 1024 + 520 + 2 * 4096 + 2 * 0x10000 + log + MIB + bat, "bytes read to open");
    // The two probes, the five structures of the header section, the log and metadata regions,
    // the BAT: 10 reads.
    assert!(file.reads() <= 10, "{} reads", file.reads());
    let disk = Disk::new(vec![layer], false).unwrap();
    let mut reader = DiskReader::new(&disk, vec![&file as &dyn ReadAt]).unwrap();
    let before = file.bytes();
    let mut extents = Vec::new();
    reader
        .for_each_extent(0, u64::MAX, |e| {
            extents.push(e);
            Ok(())
        })
        .unwrap();
    assert_eq!(extents.len(), 1);
    assert_eq!(extents[0].len, 64 << 40);
    assert_eq!(file.bytes(), before, "mapping an empty disk reads nothing");
    // The last MiB reads as zeros through the command line.
    let tail = viewer_cat(&path, &["--offset", &format!("{}", (64u64 << 40) - MIB), "--length", "1M"]);
    assert!(tail.len() == MIB as usize && tail.iter().all(|b| *b == 0));
}

#[test]
fn writer_4096_byte_sectors_and_every_block_state_read_as_7zip_reads_them() {
    let dir = scratch("vhdx-4k");
    for (bs, sector) in [(MIB as u32, 4096u32), (32 * MIB as u32, 4096), (MIB as u32, 512)] {
        let mut b = VhdxBuilder::new(48 * MIB);
        b.block_size = bs;
        b.logical_sector_size = sector;
        let b = b.write(0, &pattern(8192, 1)).write(5 * MIB + 4096, &pattern(3 * 4096, 2)).write(48 * MIB - 4096, &pattern(4096, 3));
        let mut b = b;
        // States qemu never writes, on blocks without data: all read as zeros.
        let last = (48 * MIB).div_ceil(u64::from(bs)) - 1;
        b.states = vec![(1, BlockState::Zero), (2, BlockState::Unmapped), (3, BlockState::Undefined)]
            .into_iter()
            .filter(|(k, _)| *k < last && *k > 0)
            .collect();
        let name = format!("w-{bs}-{sector}.vhdx");
        let path = write_file(&dir, &name, &b.build());
        let info = viewer_info(&path, &[]);
        assert_eq!(info["logical_sector_size"], sector);
        assert!(info["findings"].as_array().unwrap().is_empty(), "{name}: {}", info["findings"]);
        let ours = viewer_cat(&path, &[]);
        assert_same_bytes(&format!("{name}: cat vs the writes"), &ours, &model(&b, None));
        assert_same_bytes(&format!("{name}: cat vs 7zz"), &ours, &sevenzip_vhdx(&path));
        if sector == 512 {
            // qemu-img refuses 4096-byte logical sectors ("Operation not supported").
            assert_same_bytes(&format!("{name}: cat vs qemu-img"), &ours, &qemu_raw_vhdx(&path));
        }
        assert_same_bytes(&format!("{name}: cat vs libvhdi"), &ours, &pyvhdi_vhdx(&dir, &name, &[], b.size));
    }
}

/// A base, a child and a grandchild written by the project's writer, as files in `dir`.
/// With `states`, two of the child's blocks without data, over the parent's data, are zero and
/// unmapped.
fn chain(dir: &Path, sector: u32, states: bool) -> (Vec<u8>, [VhdxBuilder; 3]) {
    let size = 20 * MIB;
    let mut base = VhdxBuilder::new(size);
    base.logical_sector_size = sector;
    base.data_write_guid = Guid([0xba; 16]);
    let base = base.write(0, &pattern(3 * MIB as usize, 10)).write(9 * MIB, &pattern(MIB as usize, 11));
    let s = sector as usize;
    let mut child = VhdxBuilder::new(size).child_of(base.data_write_guid, "base.vhdx");
    child.logical_sector_size = sector;
    child.data_write_guid = Guid([0xc1; 16]);
    // Single sectors, runs across a block boundary, a whole block (fully present), a sector past
    // the parent's data.
    let child = child
        .write(s as u64, &pattern(s, 20))
        .write(MIB - s as u64, &pattern(3 * s, 21))
        .write(4 * MIB, &pattern(MIB as usize, 22))
        .write(19 * MIB + 7 * s as u64, &pattern(s, 23));
    let mut child = child;
    if states {
        child.states = vec![(9, BlockState::Zero), (2, BlockState::Unmapped)];
    }
    let mut grand = VhdxBuilder::new(size).child_of(child.data_write_guid, "child.vhdx");
    grand.logical_sector_size = sector;
    grand.data_write_guid = Guid([0x6c; 16]);
    let grand = grand.write(0, &pattern(4 * s, 30)).write(9 * MIB + 2 * s as u64, &pattern(s, 31));
    write_file(dir, "base.vhdx", &base.build());
    write_file(dir, "child.vhdx", &child.build());
    write_file(dir, "grand.vhdx", &grand.build());
    let mut child_view = model(&child, Some(&model(&base, None)));
    if states {
        child_view[9 * MIB as usize..10 * MIB as usize].fill(0);
        child_view[2 * MIB as usize..3 * MIB as usize].fill(0);
    }
    let m = model(&grand, Some(&child_view));
    (m, [base, child, grand])
}

#[test]
fn differencing_chains_read_as_7zip_and_libvhdi_read_them() {
    for sector in [512u32, 4096] {
        let dir = scratch(&format!("vhdx-chain-{sector}"));
        let (want, _) = chain(&dir, sector, false);
        let grand = dir.join("grand.vhdx");
        let info = viewer_info(&grand, &[]);
        assert_eq!(info["disk_type"], "differencing");
        assert_eq!(info["chain"].as_array().unwrap().len(), 3, "found through relative_path: {}", info["chain"]);
        assert!(info["chain"].as_array().unwrap().iter().take(2).all(|c| c["parent_verified"] == true));
        assert_eq!(info["all_findings"].as_array().unwrap().len(), 0, "{}", info["all_findings"]);
        let ours = viewer_cat(&grand, &[]);
        assert_same_bytes("cat vs the writes", &ours, &want);
        assert_same_bytes("cat vs 7zz", &ours, &sevenzip_vhdx(&grand));
        assert_same_bytes("cat vs libvhdi", &ours, &pyvhdi_vhdx(&dir, "grand.vhdx", &["child.vhdx", "base.vhdx"], want.len() as u64));
        // --layer 1: the disk before the grandchild's writes.
        let child_view = viewer_cat(&grand, &["--layer", "1"]);
        assert_same_bytes("cat --layer 1 vs 7zz on the child", &child_view, &sevenzip_vhdx(&dir.join("child.vhdx")));
        // map names the layer of every range.
        let o = cli(&["map", "--json", grand.to_str().unwrap()]);
        let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let first = &rows[0];
        assert_eq!(first["layer"], 0, "{first}");
        assert_eq!(first["length"], 4 * sector, "{first}");
    }
}

/// A differencing disk's zero and unmapped blocks read as zeros, as 7-Zip reads them, not as
/// the parent's data, as libvhdi reads them (the spec names them zero and unmapped; only a block
/// not present is the parent's).
#[test]
fn zero_and_unmapped_blocks_of_a_child_read_as_zeros_as_7zip_reads_them() {
    let dir = scratch("vhdx-states");
    let (want, [base, _, _]) = chain(&dir, 512, true);
    let grand = dir.join("grand.vhdx");
    let ours = viewer_cat(&grand, &[]);
    assert_same_bytes("cat vs the writes", &ours, &want);
    assert_same_bytes("cat vs 7zz", &ours, &sevenzip_vhdx(&grand));
    let lib = pyvhdi_vhdx(&dir, "child.vhdx", &["base.vhdx"], want.len() as u64);
    let parent = model(&base, None);
    for block in [2usize, 9] {
        let r = block * MIB as usize..(block + 1) * MIB as usize;
        assert!(lib[r.clone()] == parent[r.clone()], "libvhdi reads the parent's data in block {block}");
        assert!(viewer_cat(&dir.join("child.vhdx"), &[])[r].iter().all(|b| *b == 0));
    }
}

#[test]
fn parents_are_verified_by_parent_linkage_and_can_be_given_or_forced() {
    let dir = scratch("vhdx-linkage");
    let (_, [base, child, _]) = chain(&dir, 512, false);
    // Another disk in the parent's place: refused, with what it means.
    let mut other = base.clone();
    other.data_write_guid = Guid([0x99; 16]);
    write_file(&dir, "other.vhdx", &other.build());
    let c = dir.join("child.vhdx");
    let o = cli(&["cat", c.to_str().unwrap(), "--parent", dir.join("other.vhdx").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("parent_linkage") && err.contains("changed after the child was made") && err.contains("--force"), "{err}");
    // --force reads it, with a finding.
    let o = cli(&["check", "--quick", "--json", c.to_str().unwrap(), "--parent", dir.join("other.vhdx").to_str().unwrap(), "--force"]);
    assert!(stdout(&o).contains("parent-id-mismatch"), "{}", stdout(&o));
    // --parent with the right file works wherever it is.
    let away = scratch("vhdx-linkage-away");
    std::fs::rename(dir.join("base.vhdx"), away.join("moved.vhdx")).unwrap();
    let o = cli(&["info", c.to_str().unwrap()]);
    assert!(stdout(&o).contains("parent-not-found"), "{}", stdout(&o));
    let ours = viewer_cat(&c, &["--parent", away.join("moved.vhdx").to_str().unwrap()]);
    assert_same_bytes("child with --parent", &ours, &model(&child, Some(&model(&base, None))));
    // A VHD given as the parent of a VHDX: refused.
    let vhd = dir.join("base.vhd");
    run_ok(Command::new("qemu-img").args(["create", "-q", "-f", "vpc"]).arg(&vhd).arg("20M"));
    let o = cli(&["info", c.to_str().unwrap(), "--parent", vhd.to_str().unwrap()]);
    assert!(stderr(&o).contains("all VHD or all VHDX"), "{}", stderr(&o));
}

#[test]
fn a_dirty_log_is_replayed_in_memory_and_a_bad_one_is_a_finding() {
    let dir = scratch("vhdx-log");
    let mut b = VhdxBuilder::new(24 * MIB).write(0, &pattern(3 * MIB as usize, 40)).write(17 * MIB, &pattern(4096, 41));
    b.dirty_log = true;
    let bytes = b.build();
    let path = write_file(&dir, "dirty.vhdx", &bytes);
    let before = std::fs::read(&path).unwrap();
    let info = viewer_info(&path, &[]);
    assert_eq!(info["log_dirty"], true);
    assert_eq!(info["log_replayed"], true);
    assert_eq!(info["log_entries"].as_array().unwrap().len(), 2);
    assert!(info["findings"].to_string().contains("vhdx-log-replayed"), "{}", info["findings"]);
    let text = stdout(&cli(&["info", path.to_str().unwrap()]));
    assert!(text.contains("DIRTY") && text.contains("replayed in memory"), "{text}");
    assert_same_bytes("dirty disk after replay", &viewer_cat(&path, &[]), &model(&b, None));
    assert_eq!(std::fs::read(&path).unwrap(), before, "the file is never written");
    // qemu-img replays the log too (`check -r all` writes it into the file, so on a copy).
    let copy = write_file(&dir, "copy.vhdx", &bytes);
    run_ok(Command::new("qemu-img").args(["check", "-q", "-r", "all", "-f", "vhdx"]).arg(&copy));
    assert_same_bytes("dirty disk: ours vs qemu-img's replay", &viewer_cat(&path, &[]), &qemu_raw_vhdx(&copy));

    // A log entry with a bad checksum: the log does not verify; the disk is read as stored (its
    // BAT, not yet updated, says every block is not present).
    let mut bad = bytes.clone();
    bad[MIB as usize + 4096 + 100] ^= 0xff; // in the first entry's data sector
    let path = write_file(&dir, "bad-log.vhdx", &bad);
    let o = cli(&["check", "--json", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let f: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let hit = f.as_array().unwrap().iter().find(|f| f["code"] == "vhdx-log-invalid").unwrap_or_else(|| panic!("{f}"));
    assert_eq!(hit["offset"], MIB, "{hit}");
    assert!(hit["message"].as_str().unwrap().contains("checksum"), "{hit}");
    assert!(viewer_cat(&path, &[]).iter().all(|b| *b == 0), "read as stored: no block present");
}

#[test]
fn a_clean_logs_entries_are_listed_with_why_they_are_not_replayed() {
    let dir = scratch("vhdx-clean-log");
    // qemu writes the BAT through the log and empties it (LogGuid zero) when it closes the file:
    // the entries stay in the log region.
    let path = dir.join("qemu.vhdx");
    let _ = std::fs::remove_file(&path);
    run_ok(Command::new("qemu-img").args(["create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=1M"]).arg(&path).arg("24M"));
    run_ok(Command::new("qemu-io").args(["-f", "vhdx", "-c", "write -P 0x5a 3M 4k", "-c", "write -P 0xa5 17M 64k"]).arg(&path));
    let bytes = std::fs::read(&path).unwrap();
    let info = viewer_info(&path, &[]);
    assert_eq!(info["log_dirty"], false);
    assert_eq!(info["log_replayed"], false);
    assert_eq!(info["log_region_note"], serde_json::Value::Null);
    // The entry headers in the log region, found here by their signature at the start of a
    // 4 KiB sector and read at the spec's offsets.
    let (log_at, log_len) = (info["log_offset"].as_u64().unwrap() as usize, info["log_length"].as_u64().unwrap() as usize);
    let le = |at: usize, n: usize| bytes[at..at + n].iter().rev().fold(0u64, |v, b| v << 8 | u64::from(*b));
    let want: Vec<(u64, u64, u64, u64)> = (log_at..log_at + log_len)
        .step_by(4096)
        .filter(|&at| &bytes[at..at + 4] == b"loge")
        .map(|at| (at as u64, le(at + 16, 8), le(at + 8, 4), le(at + 24, 4)))
        .collect();
    assert!(want.len() >= 2, "qemu left {} entries in the log", want.len());
    let listed = info["log_region_entries"].as_array().unwrap();
    let got: Vec<(u64, u64, u64, u64)> = listed
        .iter()
        .map(|e| {
            (
                e["offset"].as_u64().unwrap(),
                e["sequence_number"].as_u64().unwrap(),
                e["entry_length"].as_u64().unwrap(),
                e["descriptor_count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want);
    for e in listed {
        assert_eq!(e["verifies"], true, "{e}");
        assert_eq!(e["problem"], serde_json::Value::Null, "{e}");
        assert_eq!(e["replayed"], false, "{e}");
        assert!(e["writes"].as_u64().unwrap() >= 1, "{e}");
        assert_ne!(e["log_guid"], info["log_guid"], "an earlier session's GUID, not the header's zero: {e}");
        assert!(e["status"].as_str().unwrap().contains("closed cleanly") && e["status"].as_str().unwrap().contains("not current"), "{e}");
    }
    // Listed, not replayed: the disk reads as qemu reads it.
    assert_same_bytes("clean log: ours vs qemu-img", &viewer_cat(&path, &[]), &qemu_raw_vhdx(&path));
    let text = stdout(&cli(&["info", path.to_str().unwrap()]));
    for (at, seq, _, _) in &want {
        assert!(text.contains(&format!("Log entry:  at {at:#x}: sequence number {seq}, log GUID ")), "{text}");
    }
    assert!(
        text.contains("Log entry {} (not replayed: an earlier session's, the log is clean)".replace("{}", &want[0].1.to_string()).as_str()),
        "{text}"
    );

    // A torn entry (a byte of the second one changed): listed as not verifying, at its offset;
    // a clean log is never replayed, so the disk is not affected and nothing is an error.
    let mut torn = bytes.clone();
    torn[want[1].0 as usize + 100] ^= 0xff;
    let tpath = write_file(&dir, "torn.vhdx", &torn);
    let info = viewer_info(&tpath, &[]);
    let listed = info["log_region_entries"].as_array().unwrap();
    assert_eq!(listed.len(), want.len());
    assert_eq!(listed[0]["verifies"], true);
    assert_eq!(listed[1]["verifies"], false);
    assert_eq!(listed[1]["offset"], want[1].0);
    assert!(listed[1]["problem"].as_str().unwrap().contains("checksum"), "{}", listed[1]);
    assert!(listed[1]["status"].as_str().unwrap().starts_with("does not verify"), "{}", listed[1]);
    assert!(!info["findings"].to_string().contains("vhdx-log"), "{}", info["findings"]);
    assert_same_bytes("torn clean log: ours vs qemu-img", &viewer_cat(&tpath, &[]), &qemu_raw_vhdx(&path));

    // The writer's clean disk has an empty log region; its dirty one lists the entries it replays.
    let b = VhdxBuilder::new(24 * MIB).write(0, &pattern(4096, 42));
    let info = viewer_info(&write_file(&dir, "writer-clean.vhdx", &b.build()), &[]);
    assert_eq!(info["log_region_entries"], serde_json::json!([]));
    let mut b = b;
    b.dirty_log = true;
    let info = viewer_info(&write_file(&dir, "writer-dirty.vhdx", &b.build()), &[]);
    let listed = info["log_region_entries"].as_array().unwrap();
    let replayed: Vec<(u64, u64)> =
        info["log_entries"].as_array().unwrap().iter().map(|e| (e[0].as_u64().unwrap(), e[1].as_u64().unwrap())).collect();
    assert!(!replayed.is_empty());
    assert_eq!(
        listed.iter().map(|e| (e["sequence_number"].as_u64().unwrap(), e["offset"].as_u64().unwrap())).collect::<Vec<_>>(),
        replayed
    );
    assert!(listed.iter().all(|e| e["replayed"] == true && e["status"].as_str().unwrap().starts_with("replayed in memory")), "{listed:?}");
}

/// A hostile variant of a good writer disk: its name, bytes, and the error code or finding code
/// expected with its offset.
fn hostile_cases() -> Vec<(&'static str, Vec<u8>, &'static str, u64, bool)> {
    let good = VhdxBuilder::new(8 * MIB).write(0, &pattern(MIB as usize, 50)).build();
    let mut v = Vec::new();
    let mut one_header = good.clone();
    one_header[0x20000 + 200] ^= 1;
    v.push(("CRC wrong in one header", one_header, "vhdx-header-invalid", 0x20000, false));
    let mut both = good.clone();
    both[0x10000 + 200] ^= 1;
    both[0x20000 + 200] ^= 1;
    v.push(("CRC wrong in both headers", both, "vhdx-no-valid-header", 0x10000, true));
    let mut region = good.clone();
    for at in [0x30000usize, 0x40000] {
        // The BAT region's offset: far past the end of the file.
        region[at + 16 + 16..at + 16 + 24].copy_from_slice(&(1u64 << 40).to_le_bytes());
        region[at + 4..at + 8].fill(0);
        let crc = vhd_viewer::crc32c::crc32c(&region[at..at + 0x10000]);
        region[at + 4..at + 8].copy_from_slice(&crc.to_le_bytes());
    }
    v.push(("a region table pointing past the end", region, "out-of-file", 1 << 40, true));
    let mut into_log = good.clone();
    // Payload block 0's entry: fully present at 1 MiB, where the log is.
    into_log[3 * MIB as usize..3 * MIB as usize + 8].copy_from_slice(&(6u64 | 1 << 20).to_le_bytes());
    v.push(("a BAT entry into the log", into_log, "vhdx-block-overlaps-metadata", 3 * MIB, false));
    let mut block = good.clone();
    let m = 2 * MIB as usize + 0x10000;
    block[m..m + 4].copy_from_slice(&(3 * MIB as u32).to_le_bytes());
    v.push(("a block size that is not a power of two", block, "vhdx-block-size", 2 * MIB + 0x10000, true));
    let mut huge = good.clone();
    huge[m + 8..m + 16].copy_from_slice(&u64::MAX.to_le_bytes());
    v.push(("a virtual disk size of 2^64 - 1", huge, "vhdx-disk-size", 2 * MIB + 0x10008, true));
    let mut state = good.clone();
    state[3 * MIB as usize + 8..3 * MIB as usize + 16].copy_from_slice(&5u64.to_le_bytes());
    v.push(("a BAT state the spec does not define", state, "vhdx-bat-state", 3 * MIB + 8, false));
    let mut count = good;
    let e = 2 * MIB as usize + 10;
    count[e..e + 2].copy_from_slice(&u16::MAX.to_le_bytes());
    v.push(("a metadata entry count of 65535", count, "vhdx-metadata-count", 2 * MIB + 10, false));
    v
}

#[test]
fn hostile_vhdx_files_give_their_error_or_finding_with_the_offset() {
    let dir = scratch("vhdx-hostile");
    for (name, bytes, code, offset, fatal) in hostile_cases() {
        let layer = open_layer(&bytes);
        if fatal {
            let e = layer.expect_err(name);
            assert_eq!((e.code(), e.offset()), (code, Some(offset)), "{name}: {e}");
        } else {
            let l = layer.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(l.findings.iter().any(|f| f.code == code && f.offset == Some(offset)), "{name}: {:?}", l.findings);
        }
        let path = write_file(&dir, "h.vhdx", &bytes);
        let o = cli(&["check", path.to_str().unwrap()]);
        let status = o.status.code().unwrap();
        assert!(if fatal { status == 2 } else { status < 2 }, "{name}: status {status}: {}{}", stdout(&o), stderr(&o));
        assert!(format!("{}{}", stdout(&o), stderr(&o)).contains(&format!("{offset:#x}")), "{name}: the offset is named");
    }
}

#[test]
fn every_metadata_byte_of_a_vhdx_damaged_never_panics() {
    let b = VhdxBuilder::new(4 * MIB).child_of(Guid([1; 16]), "p.vhdx").write(512, &[7; 1024]);
    let good = b.build();
    // Bytes of the headers, region tables, metadata table and items, and the BAT's first
    // entries, set to 0xff: opening and reading give an answer, never a panic.
    // (Every other byte of the longer stretches: each case takes tens of milliseconds.)
    let places: Vec<usize> = (0x10000..0x10000 + 80)
        .chain(0x30000..0x30000 + 80)
        .chain((2 * MIB as usize..2 * MIB as usize + 224).step_by(3))
        .chain((2 * MIB as usize + 0x10000..2 * MIB as usize + 0x10000 + 300).step_by(3))
        .chain((3 * MIB as usize..3 * MIB as usize + 64).step_by(2))
        .collect();
    for at in places {
        let mut bytes = good.clone();
        bytes[at] = 0xff;
        if let Ok(layer) = open_layer(&bytes) {
            let disk = Disk::new(vec![layer], false).unwrap();
            let mut r = DiskReader::new(&disk, vec![&bytes as &dyn ReadAt]).unwrap();
            let _ = r.for_each_extent(0, u64::MAX, |_| Ok(()));
            let _ = vhd_viewer::info::info(&disk, &["x".into()]);
        }
    }
}

#[test]
fn writer_kinds_are_what_info_says() {
    for (kind, want) in [(Kind::Fixed, "fixed"), (Kind::Dynamic, "dynamic")] {
        let mut b = VhdxBuilder::new(3 * MIB);
        b.kind = kind;
        let l = open_layer(&b.build()).unwrap();
        assert_eq!(l.disk_type().name(), want);
        assert_eq!(l.format(), "vhdx");
    }
}

#[test]
fn convert_writes_a_vhdx_disk_as_a_vhd_and_compact_as_a_vhdx() {
    let dir = scratch("vhdx-convert");
    let (want, _) = chain(&dir, 512, false);
    let grand = dir.join("grand.vhdx");
    let out = dir.join("merged.vhd");
    run_ok(Command::new(bin()).args(["convert", grand.to_str().unwrap(), out.to_str().unwrap()]));
    assert_same_bytes("the chain merged into a VHD", &viewer_cat(&out, &[]), &want);
    assert_same_bytes("the merged VHD read by qemu-img", &qemu_raw(&out), &want);
    // compact copies a VHDX child as a VHDX child of the same parent.
    let compacted = dir.join("grand-compact.vhdx");
    run_ok(Command::new(bin()).args(["compact", grand.to_str().unwrap(), compacted.to_str().unwrap()]));
    assert_same_bytes("the compacted VHDX child", &viewer_cat(&compacted, &[]), &want);
    // `relink` and `repair` write a VHDX as a VHDX (tests/vhdx_fix.rs); a VHDX child's parent is
    // a VHDX.
    let o = cli(&["relink", grand.to_str().unwrap(), dir.join("x.vhdx").to_str().unwrap(), "--parent", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "relink: {}", stderr(&o));
    assert!(stderr(&o).contains("VHD"), "relink: {}", stderr(&o));
    assert!(!dir.join("x.vhd").exists() && !dir.join("x.vhdx").exists());
}

/// The page's map (`provenance`): the estimate from the BATs, then the exact scan reading the
/// sector bitmaps, equal cell by cell to the masks of the planned extents.
#[test]
fn the_provenance_map_of_a_vhdx_chain_is_exact() {
    use vhd_viewer::disk::BitmapCache;
    use vhd_viewer::provenance::{mask_of, Scan, Step, ESTIMATE};
    let dir = scratch("vhdx-provenance");
    let _ = chain(&dir, 512, true);
    let files: Vec<Vec<u8>> = ["grand.vhdx", "child.vhdx", "base.vhdx"].iter().map(|n| std::fs::read(dir.join(n)).unwrap()).collect();
    let disk = Disk::new(files.iter().map(|f| open_layer(f).unwrap()).collect(), false).unwrap();
    let cell = 256 << 10;
    let mut scan = Scan::new(&disk, cell).unwrap();
    let mut cache = BitmapCache::new(200);
    loop {
        match scan.step(&disk, &cache, 64, 32) {
            Step::Done => break,
            Step::Progress { .. } => {}
            Step::Need(reqs) => {
                for r in reqs {
                    let at = r.range.offset as usize;
                    cache.insert(r.layer, r.block, files[r.layer][at..at + r.range.len as usize].to_vec());
                }
            }
        }
    }
    let sources: Vec<&dyn ReadAt> = files.iter().map(|f| f as &dyn ReadAt).collect();
    let mut reader = DiskReader::new(&disk, sources).unwrap();
    for (i, m) in scan.masks().iter().enumerate() {
        assert_eq!(m & ESTIMATE, 0, "cell {i} left an estimate");
        let extents = reader.plan(i as u64 * cell, cell).unwrap();
        assert_eq!(*m, mask_of(&extents), "cell {i}");
    }
}

/// The page sorts dropped files into chains by id: a VHDX child names its parent by
/// `parent_linkage`, the parent's `DataWriteGuid`.
#[test]
fn dropped_vhdx_files_sort_into_their_chain() {
    let dir = scratch("vhdx-arrange");
    let _ = chain(&dir, 512, false);
    let layers: Vec<_> =
        ["base.vhdx", "grand.vhdx", "child.vhdx"].iter().map(|n| open_layer(&std::fs::read(dir.join(n)).unwrap()).unwrap()).collect();
    let a = vhd_viewer::chains::arrange(&layers.iter().collect::<Vec<_>>());
    assert_eq!(a.chains, vec![vec![1, 2, 0]]);
}

/// `check` reads the sector bitmap of every partially present block: one that marks no sector
/// present is reported (the block reads from the parent), and reading follows the bitmap.
#[test]
fn check_reads_the_sector_bitmaps_of_partially_present_blocks() {
    let dir = scratch("vhdx-check");
    let (_, [base, _, _]) = chain(&dir, 512, false);
    let child = dir.join("child.vhdx");
    let o = cli(&["check", child.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let mut bytes = std::fs::read(&child).unwrap();
    let layer = open_layer(&bytes).unwrap();
    let r = layer.vhdx().unwrap().bitmap_range(0).unwrap();
    bytes[r.offset as usize..r.end() as usize].fill(0);
    write_atomic(&child, &bytes);
    let o = cli(&["check", "--json", child.to_str().unwrap()]);
    let f: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let hit = f.as_array().unwrap().iter().find(|f| f["code"] == "vhdx-bitmap-uniform").unwrap_or_else(|| panic!("{f}"));
    assert_eq!(hit["offset"], r.offset);
    let first = viewer_cat(&child, &["--length", "1M"]);
    assert_same_bytes("block 0 from the parent", &first, &model(&base, None)[..MIB as usize]);
}

/// The parent is found by the file name of `absolute_win32_path` when `relative_path` leads
/// nowhere, and `parent_linkage2` is accepted, with a finding, when `parent_linkage` is not the
/// parent's id.
#[test]
fn absolute_path_fallback_and_parent_linkage2() {
    let dir = scratch("vhdx-locator");
    let mut base = VhdxBuilder::new(4 * MIB).write(0, &pattern(4096, 60));
    base.data_write_guid = Guid([0x42; 16]);
    write_file(&dir, "parent.vhdx", &base.build());
    let mut child = VhdxBuilder::new(4 * MIB).write(MIB, &pattern(512, 61));
    child.data_write_guid = Guid([0x43; 16]);
    child.kind = Kind::Differencing {
        locator: vec![
            ("parent_linkage".into(), format!("{{{}}}", Guid([0x99; 16]))),
            ("parent_linkage2".into(), format!("{{{}}}", base.data_write_guid)),
            ("relative_path".into(), ".\\gone\\parent.vhdx".into()),
            ("absolute_win32_path".into(), "D:\\VMs\\parent.vhdx".into()),
        ],
    };
    let c = write_file(&dir, "child.vhdx", &child.build());
    let info = viewer_info(&c, &[]);
    assert_eq!(info["chain"].as_array().unwrap().len(), 2, "{}", info["chain"]);
    assert_eq!(info["chain"][0]["parent_verified"], true, "{}", info["chain"]);
    assert!(info["all_findings"].to_string().contains("vhdx-parent-linkage2"), "{}", info["all_findings"]);
    assert_same_bytes("child over its parent", &viewer_cat(&c, &[]), &model(&child, Some(&model(&base, None))));
}

/// Found by the `vhdx_metadata` fuzz target: a metadata entry of length 0 whose offset lies past
/// the metadata region panicked (an empty slice taken at an offset past the end).
#[test]
fn fuzz_regression_empty_metadata_item_far_away() {
    let mut b = VhdxBuilder::new(2 * MIB).write(0, &[1; 512]).build();
    // A sixth entry: an unknown item, length 0, at offset 0xffff_0000.
    let m = 2 * MIB as usize;
    b[m + 10..m + 12].copy_from_slice(&6u16.to_le_bytes());
    let e = m + 32 + 5 * 32;
    b[e..e + 16].copy_from_slice(&[0x77; 16]);
    b[e + 16..e + 20].copy_from_slice(&0xffff_0000u32.to_le_bytes());
    let layer = open_layer(&b).unwrap();
    assert_eq!(layer.vhdx().unwrap().items.len(), 6);
}
