//! A VHDX header: the input replaces header 1 of a dynamic VHDX and of a differencing child
//! (with its CRC-32C corrected when the last byte is even), then each is opened, mapped, read
//! and checked.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer::vhdx::format::Header;
use vhd_viewer_fuzz::*;

fuzz_target!(|data: &[u8]| {
    let _ = Header::parse(data).valid();
    let fix = data.last().is_some_and(|b| b % 2 == 0);
    let splice = |file: &'static Vec<u8>| {
        let mut file = Spliced::new(file).with(vhdx_at::HEADER1, &data[..data.len().min(4096)]);
        if fix {
            fix_vhdx_crc(&mut file, vhdx_at::HEADER1, 4096, 4);
        }
        file
    };
    let [base, child, _] = vhdx_files();
    exercise_with(&[splice(child), Spliced::new(base)], &[None, Some(vhdx_base_layer())]);
    exercise(&[splice(base)]);
});
