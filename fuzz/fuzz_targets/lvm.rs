//! LVM2: the input is the start of a 64 MiB disk holding one physical volume without a partition
//! table (zeros after it): the label in any of the first four sectors, the PV header's area
//! lists, the metadata area headers and their ring of metadata text (a seed from lvm2 itself
//! when `tests/work/lvm` holds the fixture). Each logical volume read is opened: its first
//! 64 KiB and last bytes read through its extents, its file system opened. Must not panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer::fs::FileSystem;
use vhd_viewer::parts::read;
use vhd_viewer_fuzz::Padded;

const SIZE: u64 = 64 << 20;

fuzz_target!(|data: &[u8]| {
    let mut disk = Padded { head: data.to_vec(), size: SIZE };
    let Ok(t) = read(&mut disk) else { return };
    assert!(t.volumes.len() <= 1024);
    for p in &t.volume_partitions {
        let mut vol = p.volume(&mut disk);
        let mut buf = vec![0u8; 64 << 10];
        let n = buf.len().min(vol.len() as usize);
        let _ = vol.read_at(0, &mut buf[..n]);
        let end = vol.len().saturating_sub(700);
        let _ = vol.read_uncached(end, &mut buf[..700.min(vol.len() as usize)]);
        let _ = FileSystem::open(&mut vol);
    }
});
