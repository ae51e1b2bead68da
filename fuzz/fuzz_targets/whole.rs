//! The whole path on arbitrary bytes: one file, or a child and its parent (see `split_files`),
//! opened, chained, mapped, read and checked.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer_fuzz::*;

fuzz_target!(|data: &[u8]| {
    exercise(&split_files(data));
});
