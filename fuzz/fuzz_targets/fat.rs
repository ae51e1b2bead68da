//! FAT12/16/32 volumes: the input is the start of a 4 MiB volume (zeros after it): the boot
//! sector, FATs whose chains loop or leave the volume, directories with long names and deleted
//! entries.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vhd_viewer_fuzz::exercise_volume(data, 4 << 20);
});
