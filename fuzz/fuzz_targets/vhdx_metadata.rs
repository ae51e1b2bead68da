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
    let splice = |mut file: Vec<u8>| {
        let n = data.len().min(1 << 20);
        file[vhdx_at::METADATA..vhdx_at::METADATA + n].copy_from_slice(&data[..n]);
        file
    };
    let [base, child, _] = vhdx_files();
    exercise(&[splice(child.clone()), base.clone()]);
    exercise(&[splice(base.clone())]);
});
