//! XFS: the first byte picks the superblock and a packed extent alone, or the start of a 4 MiB
//! volume (superblock, AG headers, inodes, extent maps and their B+trees, directories in every
//! form, symlinks, the free-space B+trees and the log through owners and free space).
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer::fs::xfs::{extent, Superblock};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode % 2 == 0 {
        let _ = Superblock::parse(rest);
        let _ = extent(rest);
    } else {
        vhd_viewer_fuzz::exercise_volume(rest, 4 << 20);
    }
});
