//! A VHDX region table: the input replaces both region tables of a dynamic VHDX (with their
//! CRC-32C corrected when the last byte is even), then it is opened, mapped, read and checked.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer::vhdx::format::RegionTable;
use vhd_viewer_fuzz::*;

fuzz_target!(|data: &[u8]| {
    let _ = RegionTable::parse(data).valid();
    let fix = data.last().is_some_and(|b| b % 2 == 0);
    let mut file = Spliced::new(&vhdx_files()[0]);
    for at in [vhdx_at::REGION1, vhdx_at::REGION1 + 0x10000] {
        file.splice(at, &data[..data.len().min(0x10000)]);
        if fix {
            fix_vhdx_crc(&mut file, at, 0x10000, 4);
        }
    }
    exercise(&[file]);
});
