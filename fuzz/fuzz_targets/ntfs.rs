//! NTFS: the first byte picks what the rest is: an MFT record (fixups, attributes), a run list
//! claiming terabytes, an attribute list, LZNT1 data, or the start of an 8 MiB volume (boot
//! sector, MFT, indexes) read as a whole.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer::fs::ntfs::lznt1;
use vhd_viewer::fs::ntfs::{parse_attribute_list, parse_record, parse_runs, MAX_RUNS};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    match mode % 5 {
        0 => {
            let _ = parse_record(rest, 0, 1 << 40);
        }
        1 => {
            if let Ok(runs) = parse_runs(rest, 0, 1 << 40) {
                assert!(runs.len() <= MAX_RUNS);
                assert!(runs.iter().all(|r| r.len <= 1 << 40 && r.lcn.map_or(true, |l| l + r.len <= 1 << 40)));
            }
        }
        2 => {
            let _ = parse_attribute_list(rest);
        }
        3 => {
            let mut out = Vec::new();
            lznt1::decompress(rest, &mut out, 65536);
            assert!(out.len() <= 65536);
        }
        _ => vhd_viewer_fuzz::exercise_volume(rest, 8 << 20),
    }
});
