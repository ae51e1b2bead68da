//! Parent locators: the input's first 24 bytes replace locator entry 0 of a differencing child
//! (checksum corrected), the rest is decoded as the data of every platform, and written over
//! the child's locator data.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer::vhd::locator::{decode_path, LocatorEntry, Platform};
use vhd_viewer::vhd::writer::fix_header_checksum;
use vhd_viewer_fuzz::*;

fuzz_target!(|data: &[u8]| {
    let (entry, payload) = data.split_at(data.len().min(24));
    for p in [Platform::None, Platform::WindowsRelative, Platform::WindowsAbsolute, Platform::MacOsX, Platform::Legacy, Platform::Unknown] {
        let d = decode_path(p, payload);
        let _ = (d.path.len(), d.valid);
    }
    let mut e24 = [0u8; 24];
    e24[..entry.len()].copy_from_slice(entry);
    let e = LocatorEntry::parse(0, &e24);
    let _ = (e.platform(), e.is_unused(), e.data_space_bytes(), e.data_space_in_bytes());

    let mut child = child_of_base().build();
    // The writer puts the first locator's data right after the BAT (64 KiB / 4 KiB = 16 entries: one sector).
    let data_at = at::BAT + 512;
    child[at::LOCATOR0..at::LOCATOR0 + entry.len()].copy_from_slice(entry);
    let n = payload.len().min(512);
    child[data_at..data_at + n].copy_from_slice(&payload[..n]);
    fix_header_checksum(&mut child, at::HEADER);
    exercise(&[child, base_dynamic().build()]);
});
