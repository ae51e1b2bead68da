//! Partition tables: the input is the start of a 64 MiB disk (zeros after it): MBR entries, EBR
//! chains that loop or leave the disk, GPT headers and entry arrays claiming any count or size.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer::parts::{read, MAX_GPT_ENTRIES, MAX_LOGICAL};
use vhd_viewer_fuzz::Padded;

fuzz_target!(|data: &[u8]| {
    let mut disk = Padded { head: data.to_vec(), size: 64 << 20 };
    if let Ok(t) = read(&mut disk) {
        assert!(t.partitions.len() <= 4 + MAX_LOGICAL + 1 + MAX_GPT_ENTRIES as usize);
    }
});
