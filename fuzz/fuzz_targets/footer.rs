//! The footer: the input is 512 bytes (or fewer: a cut-short footer) put at the end of a fixed
//! disk, at both ends of a dynamic disk (the copy at 0 too when the last byte is even), and
//! opened as a whole file of its own.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer::vhd::footer::Footer;
use vhd_viewer_fuzz::*;

fuzz_target!(|data: &[u8]| {
    let f = Footer::parse(data);
    let _ = (f.cookie_valid(), f.checksum_valid(), f.reserved_is_zero(), f.creator_version_text(), f.geometry.size(), f.geometry.is_max());
    let good = Footer::parse(&base_dynamic().footer());
    let _ = f.differences(&good);
    exercise(&[data.to_vec()]);
    // Fixed: 16 KiB of data, then the input as the footer.
    let mut fixed = base_fixed().build();
    fixed.truncate(fixed.len() - 512);
    fixed.extend_from_slice(data);
    exercise(&[fixed]);
    // Dynamic: the input replaces the end footer, and the copy too when the last byte is even.
    let mut dynamic = base_dynamic().build();
    dynamic.truncate(dynamic.len() - 512);
    if data.last().is_some_and(|b| b % 2 == 0) {
        let n = data.len().min(512);
        dynamic[..n].copy_from_slice(&data[..n]);
    }
    dynamic.extend_from_slice(data);
    exercise(&[dynamic]);
});
