//! BitLocker metadata: the input is the start of a 64 MiB volume (zeros after it): the boot
//! sector naming the three metadata blocks anywhere, the blocks' headers, sizes and entries
//! (protectors, wrapped keys, the moved boot sectors' place and size). What is read is unlocked
//! with the clear key and with the input's first 512 bytes taken as a startup key file, and the
//! unlocked volume's first 64 KiB and file system are read. Must not panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer::bitlocker::{self, Key};
use vhd_viewer::fs::{FileSystem, Volume};
use vhd_viewer_fuzz::Padded;

const SIZE: u64 = 64 << 20;

fuzz_target!(|data: &[u8]| {
    let _ = bitlocker::keys::key_file(data);
    let mut vol = Volume::whole(Padded { head: data.to_vec(), size: SIZE });
    let Ok(meta) = bitlocker::read(&mut vol) else { return };
    assert!(meta.protectors.len() <= 512);
    let _ = meta.summary();
    for key in [Key::ClearKey, Key::KeyFile(data[..data.len().min(512)].to_vec())] {
        if let Ok(unlock) = meta.unlock(&key, &mut |_, _| true) {
            let mut plain = Volume::mapped(Padded { head: data.to_vec(), size: SIZE }, 0, SIZE, unlock.decrypt());
            let mut buf = vec![0u8; 64 << 10];
            let _ = plain.read_at(0, &mut buf);
            let _ = plain.read_uncached(SIZE - 700, &mut buf[..700]);
            let _ = FileSystem::open(&mut plain);
        }
    }
});
