//! The diff of two volumes (what a differencing disk changed, file by file) over hostile
//! file-system metadata: FAT chains that loop, directories and MFT records pointing anywhere,
//! inodes whose extents leave the volume. The input is two volumes' first bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vhd_viewer_fuzz::exercise_diff(data);
});
