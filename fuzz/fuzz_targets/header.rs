//! The dynamic header: the input replaces the 1024-byte header of a differencing child (and of
//! a dynamic disk), with its checksum corrected when the last byte is even, then the chain is
//! opened, mapped, read and checked.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer::vhd::header::DynamicHeader;
use vhd_viewer::vhd::writer::fix_header_checksum;
use vhd_viewer_fuzz::*;

fuzz_target!(|data: &[u8]| {
    let h = DynamicHeader::parse(data);
    let _ = (h.cookie_valid(), h.checksum_valid(), h.parent_unicode_name(), h.bitmap_size(), h.sectors_per_block(), h.reserved_is_zero());
    let fix = data.last().is_some_and(|b| b % 2 == 0);
    let splice = |mut file: Vec<u8>| {
        let n = data.len().min(1024);
        file[at::HEADER..at::HEADER + n].copy_from_slice(&data[..n]);
        if fix {
            fix_header_checksum(&mut file, at::HEADER);
        }
        file
    };
    let parent = base_dynamic().build();
    exercise(&[splice(child_of_base().build()), parent.clone()]);
    exercise(&[splice(parent)]);
});
