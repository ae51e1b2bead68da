//! LVM2: the input is the start of a 64 MiB disk holding one physical volume without a partition
//! table (zeros after it): the label in any of the first four sectors, the PV header's area
//! lists, the metadata area headers and their ring of metadata text (a seed from lvm2 itself
//! when `tests/work/lvm` holds the fixture). Each logical volume read is opened: its first
//! 64 KiB and last bytes read through its extents, its file system opened; the owners of a few
//! bytes of the PV asked. Must not panic (built with overflow checks: fuzz/run.sh's -a).
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer::fs::FileSystem;
use vhd_viewer::parts::read;
use vhd_viewer_fuzz::Padded;

const SIZE: u64 = 64 << 20;

fuzz_target!(|data: &[u8]| {
    let mut disk = Padded { head: data.to_vec(), size: SIZE };
    let Ok(t) = read(&mut disk) else { return };
    // At most 1024 LVs across all the volume groups.
    assert!(t.volumes.len() <= 1024);
    // Who owns bytes of the label, the metadata area and the first extents (through the LVs' maps).
    for at in [512, 4096, 1 << 20, (1 << 20) + 4097] {
        let _ = vhd_viewer::parts::owner(&mut disk, &t, at);
    }
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
