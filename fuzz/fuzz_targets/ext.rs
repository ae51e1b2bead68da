//! ext2/3/4: the first byte picks an extent node alone, or the start of a 4 MiB volume
//! (superblock at byte 1024, group descriptors, inodes, extent trees and block maps, directories).
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer::fs::ext::{parse_extent_node, Superblock};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode % 2 == 0 {
        let _ = parse_extent_node(rest);
        let _ = Superblock::parse(rest);
    } else {
        vhd_viewer_fuzz::exercise_volume(rest, 4 << 20);
    }
});
