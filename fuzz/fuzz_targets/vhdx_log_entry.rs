//! A VHDX log entry: the input replaces the start of the log of a VHDX not closed cleanly (with
//! the first entry's CRC-32C corrected when the last byte is even), then it is opened (the log
//! replayed in memory when it verifies), mapped, read and checked; then the same bytes in the log
//! region of a VHDX closed cleanly (its entries listed, never replayed).
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer::reader::ReadAt;
use vhd_viewer::vhdx::format::{LogDescriptor, LogEntryHeader};
use vhd_viewer_fuzz::*;

fuzz_target!(|data: &[u8]| {
    let h = LogEntryHeader::parse(data);
    let _ = data.get(64..96).map(LogDescriptor::parse);
    let [clean, _, dirty] = vhdx_files();
    let input = &data[..data.len().min(1 << 20)];
    let mut file = Spliced::new(dirty).with(vhdx_at::LOG, input);
    if data.last().is_some_and(|b| b % 2 == 0) {
        let len = (h.entry_length as usize).min(1 << 20);
        fix_vhdx_crc(&mut file, vhdx_at::LOG, len, 4);
    }
    // The same log region (CRC and all) in the clean image, whose header names no log.
    let mut log = vec![0u8; input.len()];
    let _ = file.read_at(vhdx_at::LOG as u64, &mut log);
    exercise(&[file]);
    exercise(&[Spliced::new(clean).with(vhdx_at::LOG, &log)]);
});
