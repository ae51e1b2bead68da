//! A VHDX log entry: the input replaces the start of the log of a VHDX not closed cleanly (with
//! the first entry's CRC-32C corrected when the last byte is even), then it is opened (the log
//! replayed in memory when it verifies), mapped, read and checked; then the same bytes in the log
//! region of a VHDX closed cleanly (its entries listed, never replayed).
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer::vhdx::format::{LogDescriptor, LogEntryHeader};
use vhd_viewer_fuzz::*;

fuzz_target!(|data: &[u8]| {
    let h = LogEntryHeader::parse(data);
    let _ = data.get(64..96).map(LogDescriptor::parse);
    let mut file = vhdx_files()[2].clone();
    let n = data.len().min(1 << 20);
    file[vhdx_at::LOG..vhdx_at::LOG + n].copy_from_slice(&data[..n]);
    if data.last().is_some_and(|b| b % 2 == 0) {
        let len = (h.entry_length as usize).min(1 << 20);
        fix_vhdx_crc(&mut file, vhdx_at::LOG, len, 4);
    }
    let mut clean = vhdx_files()[0].clone();
    clean[vhdx_at::LOG..vhdx_at::LOG + n].copy_from_slice(&file[vhdx_at::LOG..vhdx_at::LOG + n]);
    exercise(&[file]);
    exercise(&[clean]);
});
