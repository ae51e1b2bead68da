//! Golden `info` output (text and `--json`) of every fixture, compared exactly with
//! `tests/golden/<fixture>.info.txt` and `.info.json`. Regenerate after an intended change with
//! `UPDATE_GOLDEN=1 cargo test --test golden`, and review the diff.
//!
//! Nothing needs masking: the command runs in the fixture's folder on its bare file name, the
//! qemu-made fixtures get a fixed unique id and time stamp patched in (checksums recomputed), and
//! the writer-made ones are deterministic.

mod common;
use common::*;
use std::path::Path;
use vhd_viewer::values::Uuid;
use vhd_viewer::vhd::writer::{BlockOrder, DiskBuilder};

const MIB: u64 = 1 << 20;

fn check_golden(name: &str, file: &Path, extra: &[&str]) {
    let dir = file.parent().unwrap();
    let base = file.file_name().unwrap().to_str().unwrap();
    let mut args = vec!["info", base];
    args.extend_from_slice(extra);
    let o = cli_in(dir, &args);
    assert!(o.status.success(), "{name}: {}", stderr(&o));
    golden(&format!("{name}.info.txt"), &stdout(&o));
    args.push("--json");
    let o = cli_in(dir, &args);
    assert!(o.status.success(), "{name}: {}", stderr(&o));
    // Valid JSON, then compared as text (key order and formatting are part of the contract).
    let _: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    golden(&format!("{name}.info.json"), &stdout(&o));
}

#[test]
fn golden_qemu_fixtures() {
    for spec in qemu_specs() {
        let p = qemu_fixture(&spec);
        check_golden(spec.name, &p, &[]);
    }
}

#[test]
fn golden_samples() {
    for name in ["hyperv2012r2-dynamic.vhd", "win10-dynamic-2G.vhd", "fat-differential.vhd", "image.vhd"] {
        let dir = scratch(&format!("golden-{name}"));
        let p = sample_into(name, &dir);
        check_golden(name.trim_end_matches(".vhd"), &p, &[]);
    }
    // image-differential with its parent beside it (found by its unicode name).
    let dir = scratch("golden-image-differential");
    sample_into("image.vhd", &dir);
    let p = sample_into("image-differential.vhd", &dir);
    check_golden("image-differential", &p, &[]);
}

#[test]
fn golden_writer_fixtures() {
    let dir = scratch("golden-writer");
    // A fixed disk that is not a whole number of MiB.
    let mut fx = DiskBuilder::fixed(3 * MIB + 512);
    fx.unique_id(Uuid(id_for("golden-fixed"))).timestamp(0x2b00_0000).creator(*b"vpc ", 0x0005_0003, *b"Wi2k").write(0, &[0xfa; 512]);
    std::fs::write(dir.join("writer-fixed.vhd"), fx.build()).unwrap();
    check_golden("writer-fixed", &dir.join("writer-fixed.vhd"), &[]);

    // A dynamic disk with 512 KiB blocks written out of order.
    let mut d = DiskBuilder::dynamic(5 * MIB, 512 << 10);
    d.unique_id(Uuid(id_for("golden-dynamic")))
        .timestamp(0x2b00_1000)
        .creator(*b"win ", 0x000a_0000, *b"Wi2k")
        .block_order(BlockOrder::Descending);
    d.write(0, &[1; 512]).write(MIB, &[2; 4096]).write(5 * MIB - 512, &[3; 512]);
    std::fs::write(dir.join("writer-dynamic.vhd"), d.build()).unwrap();
    check_golden("writer-dynamic", &dir.join("writer-dynamic.vhd"), &[]);

    // A differencing child with every kind of locator, its parent beside it.
    let mut child = DiskBuilder::differencing(&d.parent_ref("writer-dynamic.vhd"), 2 * MIB as u32);
    child
        .unique_id(Uuid(id_for("golden-child")))
        .timestamp(0x2b00_2000)
        .creator(*b"win ", 0x000a_0000, *b"Wi2k")
        .parent_locator(*b"W2ku", "C:\\VMs\\writer-dynamic.vhd")
        .parent_locator(*b"MacX", "file://localhost/Users/me/writer-dynamic.vhd")
        .write(1024, &[4; 512]);
    std::fs::write(dir.join("writer-child.vhd"), child.build()).unwrap();
    check_golden("writer-child", &dir.join("writer-child.vhd"), &[]);
}

/// VHDX: a dynamic base and a differencing child with a dirty log, from the VHDX writer (text
/// only: the JSON repeats every field twice and would be a large file to review).
#[test]
fn golden_vhdx_writer_fixtures() {
    use vhd_viewer::vhdx::writer::VhdxBuilder;
    use vhd_viewer::vhdx::Guid;
    let dir = scratch("golden-vhdx");
    let mut base = VhdxBuilder::new(5 * MIB).write(0, &[1; 4096]).write(3 * MIB, &[2; 512]);
    base.data_write_guid = Guid(id_for("golden-vhdx-base"));
    std::fs::write(dir.join("base.vhdx"), base.build()).unwrap();
    let mut child = VhdxBuilder::new(5 * MIB).child_of(base.data_write_guid, "base.vhdx").write(512, &[3; 1024]);
    child.data_write_guid = Guid(id_for("golden-vhdx-child"));
    child.dirty_log = true;
    std::fs::write(dir.join("child.vhdx"), child.build()).unwrap();
    for name in ["base", "child"] {
        let o = cli_in(&dir, &["info", &format!("{name}.vhdx")]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        golden(&format!("vhdx-{name}.info.txt"), &stdout(&o));
    }
}
