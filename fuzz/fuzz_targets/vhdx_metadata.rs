//! The VHDX metadata region: the input replaces the start of the metadata region (its table,
//! then from byte 65536 on the items) of a differencing child and of a dynamic VHDX, then each
//! is opened, mapped, read and checked.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer::vhdx::format::{MetadataTable, ParentLocator};
use vhd_viewer_fuzz::*;

fuzz_target!(|data: &[u8]| {
    let _ = MetadataTable::parse(data);
    let _ = ParentLocator::parse(data);
    let splice = |file: &'static Vec<u8>| Spliced::new(file).with(vhdx_at::METADATA, &data[..data.len().min(1 << 20)]);
    let [base, child, _] = vhdx_files();
    exercise_with(&[splice(child), Spliced::new(base)], &[None, Some(vhdx_base_layer())]);
    exercise(&[splice(base)]);
});
