//! Writes the sample disks the web page offers, with the project's own writer:
//! `cargo run --release --example make_samples -- www/samples`
//!
//! - `dynamic.vhd`: a 64 MiB dynamic disk with an old-style MBR (first partition at sector 63)
//!   and some written clusters, blocks laid out out of order.
//! - `base.vhd` <- `child.vhd` <- `grandchild.vhd`: a two-level differencing chain; each layer
//!   changes a few sectors, some in the same bitmap byte as its parent's.
//! - `huge-2040g.vhd`: an empty 2040 GiB dynamic disk (a 4 MiB file): opens as fast as a small one.
//!
//! Also writes `index.json`, the list the page shows.

use std::path::PathBuf;

use vhd_viewer::vhd::writer::{BlockOrder, DiskBuilder};
use vhd_viewer::vhdx::writer::VhdxBuilder;
use vhd_viewer::vhdx::Guid;

const MIB: u64 = 1 << 20;

/// A master boot record with one partition starting at sector 63, as Windows XP made them.
fn mbr(sectors: u64) -> Vec<u8> {
    let mut m = vec![0u8; 512];
    m[..40].copy_from_slice(b"vhd-viewer sample disk: MBR at sector 0.");
    let p = &mut m[446..462];
    p[0] = 0x80; // bootable
    p[4] = 0x0c; // FAT32 LBA
    p[8..12].copy_from_slice(&63u32.to_le_bytes());
    p[12..16].copy_from_slice(&((sectors - 63) as u32).to_le_bytes());
    m[510] = 0x55;
    m[511] = 0xaa;
    m
}

/// A sector whose text says what it is, so the hex view shows something a person can read.
fn text_sector(what: &str) -> Vec<u8> {
    let mut s = vec![0u8; 512];
    let t = what.as_bytes();
    for (i, chunk) in s.chunks_mut(64).enumerate() {
        let n = t.len().min(63);
        chunk[..n].copy_from_slice(&t[..n]);
        chunk[63] = b'0' + (i as u8);
    }
    s
}

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "www/samples".into()));
    std::fs::create_dir_all(&dir)?;

    // A size the CHS geometry describes exactly, so that Virtual PC and qemu agree on it.
    let size = vhd_viewer::vhd::geometry::Geometry::for_size(64 * MIB).size();
    let mut d = DiskBuilder::dynamic(size, 2 * MIB as u32);
    d.timestamp(0x2e5f_1a00).block_order(BlockOrder::Written);
    d.write(0, &mbr(size / 512));
    // A few 8-sector clusters of the partition that starts at sector 63: they straddle bitmap bytes.
    for (cluster, label) in [(0u64, "boot sector"), (1, "FAT"), (300, "a file"), (4000, "another file"), (7000, "a directory")] {
        let sector = 63 + cluster * 8;
        for k in 0..8 {
            d.write((sector + k) * 512, &text_sector(&format!("{label}: cluster {cluster}, sector {}", sector + k)));
        }
    }
    d.write(size - 512, &text_sector("the last sector of the disk"));
    std::fs::write(dir.join("dynamic.vhd"), d.build())?;

    let mut base = DiskBuilder::dynamic(size, 2 * MIB as u32);
    base.timestamp(0x2e60_0000);
    base.write(0, &mbr(size / 512));
    for s in 63..63 + 64 {
        base.write(s * 512, &text_sector(&format!("base: sector {s}")));
    }
    base.write(20 * MIB, &vec![0xb5; 2 * MIB as usize]);
    let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 2 * MIB as u32);
    child.timestamp(0x2e61_0000);
    for s in [64u64, 65, 70, 71, 72, 100] {
        child.write(s * 512, &text_sector(&format!("child: sector {s} changed")));
    }
    child.write(20 * MIB + 4096, &vec![0xc4; 8192]);
    child.write(40 * MIB, &text_sector("child: a new file"));
    let mut grand = DiskBuilder::differencing(&child.parent_ref("child.vhd"), 2 * MIB as u32);
    grand.timestamp(0x2e62_0000);
    for s in [66u64, 71, 101, 102] {
        grand.write(s * 512, &text_sector(&format!("grandchild: sector {s} changed")));
    }
    grand.write(20 * MIB + 8192, &vec![0xd3; 512]);
    std::fs::write(dir.join("base.vhd"), base.build())?;
    std::fs::write(dir.join("child.vhd"), child.build())?;
    std::fs::write(dir.join("grandchild.vhd"), grand.build())?;

    // VHDX, Hyper-V's current format: a dynamic base with the same partition table, and a
    // differencing child that was not closed cleanly (its block table is in its log, replayed
    // when read).
    let mut vbase = VhdxBuilder::new(size);
    vbase.data_write_guid = Guid([0x5b; 16]);
    let mut vbase = vbase.write(0, &mbr(size / 512));
    for s in 63..63 + 16 {
        vbase = vbase.write(s * 512, &text_sector(&format!("VHDX base: sector {s}")));
    }
    let mut vchild = VhdxBuilder::new(size).child_of(vbase.data_write_guid, "base.vhdx");
    vchild.data_write_guid = Guid([0xc5; 16]);
    vchild.dirty_log = true;
    for s in [64u64, 65, 70] {
        vchild = vchild.write(s * 512, &text_sector(&format!("VHDX child: sector {s} changed")));
    }
    std::fs::write(dir.join("base.vhdx"), vbase.build())?;
    std::fs::write(dir.join("child.vhdx"), vchild.build())?;

    let huge = DiskBuilder::dynamic(2040 << 30, 2 * MIB as u32);
    std::fs::write(dir.join("huge-2040g.vhd"), huge.build())?;

    let index = serde_json::json!([
        { "title": "Dynamic disk, 64 MB", "files": ["dynamic.vhd"],
          "description": "A dynamic disk with an old-style partition table (first partition at sector 63) and a few written clusters, stored out of order in the file." },
        { "title": "Differencing chain, two levels", "files": ["grandchild.vhd", "child.vhd", "base.vhd"],
          "description": "A grandchild on a child on a base disk: each layer holds only the sectors it changed; the rest comes from below." },
        { "title": "VHDX differencing disk, not closed cleanly", "files": ["child.vhdx", "base.vhdx"],
          "description": "Hyper-V's current format: a child on a base disk, whose block table is still in its log (read as if the log were replayed; the file is not changed)." },
        { "title": "Empty 2040 GiB disk", "files": ["huge-2040g.vhd"],
          "description": "The largest disk the format allows, with nothing written: a 4 MiB file with a million-entry block table." }
    ]);
    std::fs::write(dir.join("index.json"), serde_json::to_string_pretty(&index)? + "\n")?;
    eprintln!("wrote sample disks to {}", dir.display());
    Ok(())
}
