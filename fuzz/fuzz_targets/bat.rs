//! The BAT: the input replaces the BAT of a dynamic disk and of a differencing child (its
//! first 4 bytes, when the input is longer than the BAT, become `max table entries`).
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer::vhd::writer::fix_header_checksum;
use vhd_viewer_fuzz::*;

fuzz_target!(|data: &[u8]| {
    let splice = |mut file: Vec<u8>| {
        let entries = (SIZE / u64::from(BS)) as usize;
        let (bat, extra) = data.split_at(data.len().min(entries * 4));
        file[at::BAT..at::BAT + bat.len()].copy_from_slice(bat);
        if extra.len() >= 4 {
            file[at::HEADER + 28..at::HEADER + 32].copy_from_slice(&extra[..4]);
            fix_header_checksum(&mut file, at::HEADER);
        }
        file
    };
    let parent = base_dynamic().build();
    exercise(&[splice(parent.clone())]);
    exercise(&[splice(child_of_base().build()), parent]);
});
