//! Partition tables: the input is the start of a 64 MiB disk (zeros after it): MBR entries, EBR
//! chains that loop or leave the disk, GPT headers and entry arrays claiming any count or size.
//! Bit 0 of byte 0x1BC (unused by the MBR) reads the disk in 4096-byte sectors instead of 512.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer::parts::{read, Sectors, MAX_GPT_ENTRIES, MAX_LOGICAL};
use vhd_viewer_fuzz::Padded;

fuzz_target!(|data: &[u8]| {
    let sector_size = if data.get(0x1BC).is_some_and(|b| b & 1 == 1) { 4096 } else { 512 };
    let mut disk = Sectors { inner: Padded { head: data.to_vec(), size: 64 << 20 }, sector_size };
    if let Ok(t) = read(&mut disk) {
        assert!(t.partitions.len() <= 4 + MAX_LOGICAL + 1 + MAX_GPT_ENTRIES as usize);
    }
});
