//! exFAT volumes: the input is the start of a 2 MiB volume (zeros after it): the boot region
//! and its checksum, FAT chains that loop or leave the heap, a bitmap or up-case table claimed
//! larger than the volume, entry sets with absurd counts or running past their directory.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vhd_viewer_fuzz::exercise_volume(data, 2 << 20);
});
