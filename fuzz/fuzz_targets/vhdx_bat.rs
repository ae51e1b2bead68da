//! The VHDX BAT: the input replaces the start of the BAT (payload and sector bitmap entries) of
//! a differencing child and of a dynamic VHDX, then each is opened, mapped, read and checked.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer_fuzz::*;

fuzz_target!(|data: &[u8]| {
    let splice = |file: &'static Vec<u8>| Spliced::new(file).with(vhdx_at::BAT, &data[..data.len().min(1 << 20)]);
    let [base, child, _] = vhdx_files();
    exercise_with(&[splice(child), Spliced::new(base)], &[None, Some(vhdx_base_layer())]);
    exercise(&[splice(base)]);
});
