//! Writes the seed corpora of the fuzz targets from writer-made images (nothing binary is
//! committed): `cargo run --manifest-path fuzz/Cargo.toml --example make_seeds -- fuzz/corpus`.
//! Each target gets a folder; existing files are overwritten, others left alone.

use std::path::PathBuf;

use vhd_viewer::vhd::writer::{fix_footer_checksum, DiskBuilder};
use vhd_viewer_fuzz::*;

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fuzz/corpus".into()));
    let base = base_dynamic().build();
    let child = child_of_base().build();
    let fixed = base_fixed().build();
    let mut qemu = DiskBuilder::dynamic(SIZE, BS);
    qemu.creator(*b"qemu", 0x0005_0003, *b"Wi2k").write(4096, &pattern(8, 700));
    let qemu = qemu.build();
    let mut tiny_blocks = DiskBuilder::dynamic(8 << 10, 512);
    tiny_blocks.write(1024, &pattern(9, 2048));
    let tiny_blocks = tiny_blocks.build();
    // A fixed disk with a 511-byte footer (early Virtual PC).
    let mut f511 = fixed.clone();
    let footer_at = f511.len() - 512;
    let mut footer511 = f511[footer_at..].to_vec();
    footer511.pop();
    f511.truncate(footer_at);
    f511.extend_from_slice(&footer511);
    // A fixed disk whose data offset is 0x00000000ffffffff.
    let mut f32 = fixed.clone();
    let at32 = f32.len() - 512;
    f32[at32 + 16..at32 + 24].copy_from_slice(&0xffff_ffffu64.to_be_bytes());
    fix_footer_checksum(&mut f32, at32);

    let tail = |f: &Vec<u8>| f[f.len() - 512..].to_vec();
    let (vbase, vchild, vdirty) = (vhdx_base().build(), vhdx_child().build(), vhdx_dirty().build());
    let cut = |f: &Vec<u8>, at: usize, len: usize| f[at..at + len].to_vec();
    let sets: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("footer", vec![tail(&fixed), tail(&base), tail(&child), tail(&qemu), footer511.clone(), tail(&f32)]),
        ("header", vec![base[at::HEADER..at::HEADER + 1024].to_vec(), child[at::HEADER..at::HEADER + 1024].to_vec()]),
        ("locator", {
            let mut v = Vec::new();
            for i in 0..3 {
                let e = at::LOCATOR0 + 24 * i;
                let off = u64::from_be_bytes(child[e + 16..e + 24].try_into().unwrap()) as usize;
                let len = u32::from_be_bytes(child[e + 8..e + 12].try_into().unwrap()) as usize;
                v.push([&child[e..e + 24], &child[off..off + len]].concat());
            }
            v
        }),
        (
            "bat",
            vec![
                [&base[at::BAT..at::BAT + 64], &base[at::HEADER + 28..at::HEADER + 32]].concat(),
                [&child[at::BAT..at::BAT + 64], &child[at::HEADER + 28..at::HEADER + 32]].concat(),
                base[at::BAT..at::BAT + 64].to_vec(),
            ],
        ),
        (
            "vhdx_header",
            vec![cut(&vbase, vhdx_at::HEADER1, 4096), cut(&vchild, vhdx_at::HEADER1 + 0x10000, 4096), cut(&vdirty, vhdx_at::HEADER1, 4096)],
        ),
        ("vhdx_region_table", vec![cut(&vbase, vhdx_at::REGION1, 0x10000), cut(&vbase, vhdx_at::REGION1, 64)]),
        ("vhdx_log_entry", vec![cut(&vdirty, vhdx_at::LOG, 12288), cut(&vdirty, vhdx_at::LOG, 4096)]),
        ("vhdx_metadata", vec![cut(&vchild, vhdx_at::METADATA, 0x10000 + 512), cut(&vbase, vhdx_at::METADATA, 0x10000 + 64)]),
        ("vhdx_bat", vec![cut(&vchild, vhdx_at::BAT, 64), cut(&vbase, vhdx_at::BAT, 64)]),
        ("bitmap", vec![vec![0x80], vec![0x40, 0xff], vec![0xff], vec![0x01], vec![0xaa, 0x55]]),
        (
            "whole",
            vec![
                join_files(&[base.clone()]),
                join_files(&[fixed.clone()]),
                join_files(&[child.clone(), base.clone()]),
                join_files(&[qemu]),
                join_files(&[tiny_blocks]),
                join_files(&[f511]),
                join_files(&[f32]),
                join_files(&[child[..child.len() - 512].to_vec(), base.clone()]),
            ],
        ),
    ];
    for (target, seeds) in sets {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).expect("create the corpus folder");
        for (i, s) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:02}")), s).expect("write a seed");
        }
        println!("{target}: {} seeds in {}", seeds.len(), dir.display());
    }
}
