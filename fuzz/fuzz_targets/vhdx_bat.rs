//! The VHDX BAT: the input replaces the start of the BAT (payload and sector bitmap entries) of
//! a differencing child and of a dynamic VHDX, then each is opened, mapped, read and checked.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer_fuzz::*;

fuzz_target!(|data: &[u8]| {
    let splice = |mut file: Vec<u8>| {
        let n = data.len().min(1 << 20);
        file[vhdx_at::BAT..vhdx_at::BAT + n].copy_from_slice(&data[..n]);
        file
    };
    let [base, child, _] = vhdx_files();
    exercise(&[splice(child.clone()), base.clone()]);
    exercise(&[splice(base.clone())]);
});
