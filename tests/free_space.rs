//! The file systems' free space (`trim::FreeSpace`, what `compact --trim` gives back), compared
//! with the tools of each file system and with sleuthkit. Every image is made by the real tools
//! (sgdisk/sfdisk, mkfs.ext4/ext2 -d + debugfs, mkfs.vfat + mtools, mkntfs + ntfs-3g), with files
//! written then deleted (their data still on the disk). The free bytes found per volume must equal
//! what `dumpe2fs` (free blocks × block size), `fsck.fat -v` (clusters not in use) and `ntfsinfo
//! -m` (free clusters) say; every byte called free must lie in a block `blkls` lists as
//! unallocated; nothing outside a recognised volume is ever free; an unclean ext4 is kept whole.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

use vhd_viewer::parts;
use vhd_viewer::reader::{open_layer, DiskReader, ReadAt};
use vhd_viewer::trim::{FreeRanges, FreeSpace, TrimVolume};
use vhd_viewer::vhd::writer::DiskBuilder;
use vhd_viewer::vhdx::writer::VhdxBuilder;
use vhd_viewer::Disk;

const MIB: u64 = 1 << 20;

/// Shell functions the image scripts share.
const LIB: &str = r#"
set -euo pipefail
export LC_ALL=C.UTF-8 MTOOLS_SKIP_CHECK=1 TZ=UTC
rnd() { head -c "$1" /dev/urandom; }
ext_tree() {
  mkdir -p "$1/dir/sub"
  rnd 700000 > "$1/keep.bin"; rnd 2500000 > "$1/gone1.bin"; rnd 1500000 > "$1/dir/gone2.bin"; rnd 300000 > "$1/dir/sub/keep2.bin"
  for k in $(seq 1 20); do rnd $((k * 1000)) > "$1/dir/f$k"; done
}
# An ext file system with files written, then some deleted: image size mkfs-arguments...
ext_make() {
  local img="$1" size="$2"; shift 2
  rm -rf tree; ext_tree tree
  mkfs.ext4 -q -F -d tree "$@" "$img" "$size" >/dev/null
  debugfs -w -R "rm /gone1.bin" "$img" >/dev/null 2>&1
  debugfs -w -R "rm /dir/gone2.bin" "$img" >/dev/null 2>&1
  for k in 3 7 11; do debugfs -w -R "rm /dir/f$k" "$img" >/dev/null 2>&1; done
}
# FAT: image bits sectors-per-cluster hidden-sectors [mkfs.vfat arguments...]
fat_make() {
  local img="$1" bits="$2" spc="$3" hidden="$4"; shift 4
  mkfs.vfat -F "$bits" -s "$spc" -h "$hidden" "$@" "$img" >/dev/null
  rnd 900000 > a; rnd 1200000 > b; rnd 30000 > c; rnd 500000 > d
  mmd -i "$img" ::/Dir
  mcopy -i "$img" a ::/a.bin; mcopy -i "$img" b ::/Dir/b.bin; mcopy -i "$img" c ::/c.bin; mcopy -i "$img" d ::/d.bin
  mdel -i "$img" ::/Dir/b.bin; mdel -i "$img" ::/c.bin
}
# NTFS through ntfs-3g (FUSE): image start-sector
ntfs_make() {
  mkntfs -q -F -s 512 -c 4096 -p "$2" -H 255 -S 63 "$1" >/dev/null 2>&1
  mkdir -p m; ntfs-3g "$1" m
  rnd 3000000 > m/gone1.bin; rnd 2000000 > m/keep.bin; mkdir m/dir; rnd 1000000 > m/dir/gone2.bin; rnd 50000 > m/dir/keep2.bin
  sync; rm m/gone1.bin m/dir/gone2.bin; sync; umount m
}
place() { dd if="$1" of=disk.raw bs=512 seek="$2" conv=notrunc status=none; }
"#;

/// GPT: ext4 (4 KiB blocks, 16 MiB groups, flex_bg, 64-bit), ext2 (1 KiB blocks, first data
/// block 1), ext4 with meta_bg (1 KiB blocks, 32 groups: two meta groups, descriptors in their
/// groups), FAT32, and a partition of random bytes.
const GPT: &str = r#"
truncate -s 160M disk.raw
sgdisk -n 1:2048:+48M -t 1:8300 -n 2:0:+16M -t 2:8300 -n 3:0:+16M -t 3:8300 -n 4:0:+40M -t 4:0700 -n 5:0:+4M -t 5:8300 disk.raw >/dev/null
st() { sgdisk -i "$1" disk.raw | awk '/First sector/ {print $3}'; }
ext_make p1.img 48M -b 4096 -g 4096
ext_make p2.img 16M -t ext2 -b 1024
ext_make p3.img 16M -b 1024 -g 512 -O meta_bg,^resize_inode
truncate -s 40M p4.img; fat_make p4.img 32 1 "$(st 4)"
rnd $((4 << 20)) > p5.img
for k in 1 2 3 4 5; do place p$k.img "$(st $k)"; done
touch done
"#;

/// MBR: NTFS (1), FAT16 (2), and an extended partition (3) with FAT12 (5) and ext4 (6).
const MBR: &str = r#"
truncate -s 120M disk.raw
printf 'label: dos\nstart=2048, size=81920, type=7\nstart=83968, size=40960, type=6\nstart=124928, size=86016, type=5\nstart=126976, size=16384, type=1\nstart=145408, size=65536, type=83\n' | sfdisk -q disk.raw
truncate -s $((81920*512)) p1.img; ntfs_make p1.img 2048
truncate -s $((40960*512)) p2.img; fat_make p2.img 16 4 83968
truncate -s $((16384*512)) p5.img; fat_make p5.img 12 8 126976
ext_make p6.img 32M -b 4096
place p1.img 2048; place p2.img 83968; place p5.img 126976; place p6.img 145408
# dirty.raw: NTFS marked dirty in $Volume's $VOLUME_INFORMATION, FAT16's clean-shutdown bit of FAT
# entry 1 cleared (as Windows leaves a volume it did not dismount), FAT12's boot sector dirty flag
# set (as Linux leaves one it did not unmount); the ext4 untouched.
cp disk.raw dirty.raw
python3 - <<'PY'
import struct
f = open('dirty.raw', 'r+b')
def rd(at, n):
    f.seek(at); return f.read(n)
def wr(at, b):
    f.seek(at); f.write(b)
base = 2048 * 512
boot = rd(base, 512)
cluster = struct.unpack_from('<H', boot, 0x0B)[0] * boot[0x0D]
size = struct.unpack_from('<b', boot, 0x40)[0]
size = 1 << -size if size < 0 else size * cluster
rec = base + struct.unpack_from('<Q', boot, 0x30)[0] * cluster + 3 * size
r = rd(rec, size)
at = struct.unpack_from('<H', r, 0x14)[0]
while True:
    ty, ln = struct.unpack_from('<II', r, at)
    assert ty != 0xFFFFFFFF, 'no $VOLUME_INFORMATION'
    if ty == 0x70:
        flags = rec + at + struct.unpack_from('<H', r, at + 0x14)[0] + 0x0A
        assert (flags - rec) % 512 < 510, 'the flags lie under a fixup'
        wr(flags, struct.pack('<H', struct.unpack_from('<H', rd(flags, 2))[0] | 1))
        break
    at += ln
fat16 = 83968 * 512
fat = fat16 + struct.unpack_from('<H', rd(fat16, 512), 0x0E)[0] * 512
wr(fat + 2, struct.pack('<H', struct.unpack_from('<H', rd(fat + 2, 2))[0] & 0x7FFF))
fat12 = 126976 * 512
wr(fat12 + 0x25, bytes([rd(fat12 + 0x25, 1)[0] | 1]))
PY
touch done
"#;

/// A whole disk of ext4 without a partition table, as WSL's `ext4.vhdx` (16 MiB groups, so that
/// flex_bg leaves groups whose bitmaps were never initialised); `before.raw` is it before the
/// deletions (the parent of a differencing disk), `unclean.raw` it with needs_recovery set.
const WHOLE: &str = r#"
rm -rf tree; ext_tree tree
mkfs.ext4 -q -F -d tree -b 4096 -g 4096 before.raw 96M >/dev/null
cp before.raw disk.raw
debugfs -w -R "rm /gone1.bin" disk.raw >/dev/null 2>&1
debugfs -w -R "rm /dir/gone2.bin" disk.raw >/dev/null 2>&1
cp disk.raw unclean.raw
debugfs -w -R "feature needs_recovery" unclean.raw >/dev/null 2>&1
touch done
"#;

/// 4096-byte logical sectors: an MBR counting 4 KiB sectors with ext4 at sector 256 (1 MiB) and
/// FAT16 of 4 KiB sectors after it.
const SECTORS_4K: &str = r#"
truncate -s 64M disk.raw
ext_make p1.img 24M -b 4096
truncate -s 24M p2.img; fat_make p2.img 16 1 0 -S 4096
python3 - <<'PY'
import struct
mbr = bytearray(open('disk.raw', 'rb').read(512))
for slot, (ty, start, count) in enumerate([(0x83, 256, 24 * 256), (0x06, 256 + 24 * 256, 24 * 256)]):
    mbr[0x1BE + 16 * slot:0x1BE + 16 * slot + 16] = struct.pack('<B3sB3sII', 0, b'\xfe\xff\xff', ty, b'\xfe\xff\xff', start, count)
mbr[510:512] = b'\x55\xaa'
with open('disk.raw', 'r+b') as f:
    f.write(mbr)
PY
dd if=p1.img of=disk.raw bs=4096 seek=256 conv=notrunc status=none
dd if=p2.img of=disk.raw bs=4096 seek=$((256 + 24 * 256)) conv=notrunc status=none
touch done
"#;

fn image(name: &str, script: &str) -> PathBuf {
    script_image("free", name, &format!("{LIB}{script}"), &[], "done", &["tree", "m"])
}

/// A one-layer disk of `raw` as a dynamic VHD.
fn vhd_of(raw: &[u8], seed: &str) -> Vec<u8> {
    dynamic_vhd(raw, seed).build()
}

fn disk_of(files: &[&Vec<u8>]) -> Disk {
    let layers = files.iter().map(|f| open_layer(*f).unwrap()).collect();
    Disk::new(layers, false).unwrap()
}

/// Asks `free` for the whole disk in ascending steps of `step` bytes.
fn all_free(free: &mut FreeSpace, disk: &Disk, sources: &[&dyn ReadAt], step: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < disk.size() {
        let end = (pos + step).min(disk.size());
        let before = out.len();
        free.free_in(disk, sources, pos, end, &mut out).unwrap();
        for &(a, b) in &out[before.saturating_sub(1)..] {
            assert!(a < b, "an empty range {a}..{b}");
        }
        for &(a, b) in out.get(before..).unwrap_or(&[]) {
            assert!(a >= pos && b <= end, "{a}..{b} asked for {pos}..{end}");
        }
        pos = end;
    }
    // Sorted and apart.
    for w in out.windows(2) {
        assert!(w[0].1 <= w[1].0, "ranges overlap or are out of order: {w:?}");
    }
    out
}

fn tool(cmd: &mut Command) -> String {
    stdout(&run_ok(cmd))
}

fn field(text: &str, name: &str) -> u64 {
    let line = text.lines().find(|l| l.trim_start().starts_with(name)).unwrap_or_else(|| panic!("no {name:?} in\n{text}"));
    let v = line.trim_start()[name.len()..].trim_start_matches(':').split_whitespace().next().unwrap();
    v.parse().unwrap_or_else(|_| panic!("{name}: {line}"))
}

/// The free bytes the file system's own tool counts in `img` (one volume), and the unit in
/// which sleuthkit numbers its blocks.
fn truth(fs: &str, img: &Path) -> (u64, u64) {
    match fs {
        "ext2" | "ext3" | "ext4" => {
            let t = tool(Command::new("dumpe2fs").arg("-h").arg(img));
            let bs = field(&t, "Block size");
            (field(&t, "Free blocks") * bs, bs)
        }
        "fat12" | "fat16" | "fat32" => {
            let t = tool(Command::new("fsck.fat").arg("-n").arg("-v").arg(img));
            let per = t.lines().find_map(|l| l.trim().strip_suffix(" bytes per cluster")).unwrap().trim().parse::<u64>().unwrap();
            let sector = t.lines().find_map(|l| l.trim().strip_suffix(" bytes per logical sector")).unwrap().trim().parse::<u64>().unwrap();
            let last = t.lines().rev().find(|l| l.contains(" clusters")).unwrap();
            let counts = last.split_whitespace().rev().nth(1).unwrap();
            let (used, total) = counts.split_once('/').unwrap();
            ((total.parse::<u64>().unwrap() - used.parse::<u64>().unwrap()) * per, sector)
        }
        "ntfs" => {
            let t = tool(Command::new("ntfsinfo").args(["-m", "-f"]).arg(img));
            let cs = field(&t, "Cluster Size");
            (field(&t, "Free Clusters") * cs, cs)
        }
        other => panic!("no tool for {other}"),
    }
}

/// The volume's unallocated blocks per sleuthkit (`blkls -l` on the flattened image), as sorted
/// byte ranges of the volume.
fn unallocated(raw: &Path, start_512: u64, unit: u64) -> Vec<(u64, u64)> {
    let t = tool(Command::new("blkls").args(["-l", "-o", &start_512.to_string()]).arg(raw));
    let mut out: Vec<(u64, u64)> = Vec::new();
    for line in t.lines() {
        let Some((addr, flag)) = line.split_once('|') else { continue };
        let (Ok(a), "f") = (addr.parse::<u64>(), flag) else { continue };
        let (s, e) = (a * unit, (a + 1) * unit);
        match out.last_mut() {
            Some(l) if l.1 == s => l.1 = e,
            _ => out.push((s, e)),
        }
    }
    out
}

/// True when `[a, b)` lies within the sorted, joined `ranges`.
fn covered(ranges: &[(u64, u64)], a: u64, b: u64) -> bool {
    let i = ranges.partition_point(|r| r.1 <= a);
    ranges.get(i).is_some_and(|r| r.0 <= a && b <= r.1)
}

/// The free ranges `all` within volume `v`, relative to it.
fn within(all: &[(u64, u64)], v: &TrimVolume) -> Vec<(u64, u64)> {
    all.iter()
        .filter(|r| r.0 < v.start + v.len && r.1 > v.start)
        .map(|&(a, b)| (a.max(v.start) - v.start, b.min(v.start + v.len) - v.start))
        .collect()
}

/// Checks every recognised volume of the image in `dir` against the tools: `expect` lists
/// (partition, file system, image of the volume); `sector` is the disk's logical sector size.
fn check_disk(dir: &Path, disk: &Disk, sources: &[&dyn ReadAt], expect: &[(Option<u32>, &str, &str)]) -> FreeSpace {
    let mut free = FreeSpace::new(disk, sources).unwrap();
    let vols = free.volumes().to_vec();
    let after_new = free.bytes_read();
    let all = all_free(&mut free, disk, sources, 2 * MIB);
    let pass = free.bytes_read() - after_new;
    // Asked in small steps, the maps are read no more: each window of a map once.
    let mut again = FreeSpace::new(disk, sources).unwrap();
    let start = again.bytes_read();
    let small = all_free(&mut again, disk, sources, 64 << 10);
    assert_eq!(small, all, "the same free ranges whatever the steps");
    assert_eq!(again.bytes_read() - start, pass, "asked in 64 KiB steps, the maps are read once, as in 2 MiB steps");
    assert!(pass <= after_new, "the pass read {pass} bytes, more than the whole maps and superblocks ({after_new})");
    // Nothing outside the trimmed volumes.
    for &(a, b) in &all {
        assert!(
            vols.iter().any(|v| v.trimmed && a >= v.start && b <= v.start + v.len),
            "{a}..{b} is free outside every trimmed volume: {vols:#?}"
        );
    }
    for &(part, fs, img) in expect {
        let v = vols.iter().find(|v| v.partition == part).unwrap_or_else(|| panic!("no volume {part:?}: {vols:#?}"));
        assert_eq!(v.filesystem.as_deref(), Some(fs), "{v:?}");
        assert!(v.trimmed, "{v:?}");
        let (want, unit) = truth(fs, &dir.join(img));
        assert_eq!(v.free_bytes, want, "{fs} in {img}: free bytes against its tool ({v:?})");
        let mine = within(&all, v);
        let sum: u64 = mine.iter().map(|r| r.1 - r.0).sum();
        assert_eq!(sum, v.free_bytes, "{fs}: the ranges add up to the count");
        assert!(v.free_bytes > 3 * MIB, "{fs}: the deleted files are free ({} bytes)", v.free_bytes);
        let unalloc = unallocated(&dir.join("disk.raw"), v.start / 512, unit);
        for &(a, b) in &mine {
            assert!(covered(&unalloc, a, b), "{fs} in {img}: bytes {a}..{b} of the volume are free here but allocated per blkls");
        }
    }
    free
}

#[test]
fn gpt_ext4_ext2_meta_bg_and_fat32_match_their_tools_and_sleuthkit() {
    let dir = image("gpt", GPT);
    let vhd = vhd_of(&std::fs::read(dir.join("disk.raw")).unwrap(), "free-gpt");
    let disk = disk_of(&[&vhd]);
    let free = check_disk(
        &dir,
        &disk,
        &[&vhd],
        &[(Some(1), "ext4", "p1.img"), (Some(2), "ext2", "p2.img"), (Some(3), "ext4", "p3.img"), (Some(4), "fat32", "p4.img")],
    );
    let p5 = free.volumes().iter().find(|v| v.partition == Some(5)).unwrap();
    assert!(!p5.trimmed && p5.free_bytes == 0 && p5.filesystem.is_none(), "{p5:?}");
    assert!(p5.reason.as_deref().unwrap().contains("no file system"), "{p5:?}");
    // The meta_bg volume reads as the others do now (its descriptors in their meta groups).
    let mut reader = DiskReader::new(&disk, vec![&vhd as &dyn ReadAt]).unwrap();
    let table = parts::read(&mut reader).unwrap();
    let (mut vol, mut fs) = table.readable_partition(3).unwrap().open(&mut reader).unwrap();
    let e = fs.lookup(&mut vol, "/dir/sub/keep2.bin", false).unwrap();
    let mut got = Vec::new();
    fs.read(&mut vol, &e, None, &mut |b| {
        got.extend_from_slice(b);
        Ok(())
    })
    .unwrap();
    let icat = run_ok(
        Command::new("icat")
            .args(["-o", &(table.readable_partition(3).unwrap().offset() / 512).to_string()])
            .arg(dir.join("disk.raw"))
            .arg(e.id.to_string()),
    );
    assert!(got.len() == 300_000 && got == icat.stdout, "meta_bg: the file reads as icat reads it");
}

#[test]
fn mbr_ntfs_fat16_and_logical_fat12_and_ext4_match_their_tools_and_sleuthkit() {
    let dir = image("mbr", MBR);
    let vhd = vhd_of(&std::fs::read(dir.join("disk.raw")).unwrap(), "free-mbr");
    let disk = disk_of(&[&vhd]);
    let free = check_disk(
        &dir,
        &disk,
        &[&vhd],
        &[(Some(1), "ntfs", "p1.img"), (Some(2), "fat16", "p2.img"), (Some(5), "fat12", "p5.img"), (Some(6), "ext4", "p6.img")],
    );
    assert!(free.volumes().iter().all(|v| v.partition != Some(3)), "the extended partition is a container, not a volume");
}

#[test]
fn a_whole_disk_ext4_as_wsl_has_it_and_through_a_differencing_chain() {
    let dir = image("whole", WHOLE);
    let after = std::fs::read(dir.join("disk.raw")).unwrap();
    let before = std::fs::read(dir.join("before.raw")).unwrap();
    let vhd = vhd_of(&after, "free-whole");
    let disk = disk_of(&[&vhd]);
    let free = check_disk(&dir, &disk, &[&vhd], &[(None, "ext4", "disk.raw")]);
    assert_eq!(free.volumes().len(), 1);

    // The parent before the deletions, the child holding what changed: as of the child, the
    // deleted files are free; as of the parent, they are not.
    let base = dynamic_vhd(&before, "free-whole-base");
    let parent = base.build();
    let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 2 * MIB as u32);
    for (k, (a, b)) in after.chunks(4096).zip(before.chunks(4096)).enumerate() {
        if a != b {
            child.write(k as u64 * 4096, a);
        }
    }
    let child = child.build();
    let chain = disk_of(&[&child, &parent]);
    let sources: [&dyn ReadAt; 2] = [&child, &parent];
    let mut as_child = FreeSpace::new(&chain, &sources).unwrap();
    assert_eq!(as_child.volumes()[0].free_bytes, truth("ext4", &dir.join("disk.raw")).0);
    let of_child = all_free(&mut as_child, &chain, &sources, 2 * MIB);
    let parent_disk = chain.cut(1).unwrap();
    let mut as_parent = FreeSpace::new(&parent_disk, &sources[1..]).unwrap();
    assert_eq!(as_parent.volumes()[0].free_bytes, truth("ext4", &dir.join("before.raw")).0);
    let of_parent = all_free(&mut as_parent, &parent_disk, &sources[1..], 2 * MIB);
    let total = |v: &[(u64, u64)]| v.iter().map(|r| r.1 - r.0).sum::<u64>();
    assert!(total(&of_child) >= total(&of_parent) + 3 * MIB, "the child's deletions are free as of the child");
}

#[test]
fn an_ext4_whose_journal_needs_recovery_is_kept_whole() {
    let dir = image("whole", WHOLE);
    let vhd = vhd_of(&std::fs::read(dir.join("unclean.raw")).unwrap(), "free-unclean");
    let disk = disk_of(&[&vhd]);
    let mut free = FreeSpace::new(&disk, &[&vhd]).unwrap();
    let v = &free.volumes()[0];
    assert_eq!((v.partition, v.filesystem.as_deref(), v.trimmed, v.free_bytes), (None, Some("ext4"), false, 0), "{v:?}");
    assert!(v.reason.as_deref().unwrap().contains("journal needs recovery"), "{v:?}");
    assert!(all_free(&mut free, &disk, &[&vhd], 8 * MIB).is_empty());
}

#[test]
fn a_vhdx_of_4096_byte_sectors_maps_its_partitions_in_them() {
    let dir = image("sectors4k", SECTORS_4K);
    let raw = std::fs::read(dir.join("disk.raw")).unwrap();
    let mut b = VhdxBuilder::new(raw.len() as u64);
    b.logical_sector_size = 4096;
    for (k, chunk) in raw.chunks(MIB as usize).enumerate() {
        if chunk.iter().any(|x| *x != 0) {
            b = b.write(k as u64 * MIB, chunk);
        }
    }
    let vhdx = b.build();
    let disk = disk_of(&[&vhdx]);
    assert_eq!(disk.sector_size(), 4096);
    let free = check_disk(&dir, &disk, &[&vhdx], &[(Some(1), "ext4", "p1.img"), (Some(2), "fat16", "p2.img")]);
    assert_eq!(free.volumes()[0].start, MIB, "sector 256 of 4096 bytes");
}

#[test]
fn ntfs_and_fat_not_closed_cleanly_are_kept_whole() {
    let dir = image("mbr", MBR);
    let vhd = vhd_of(&std::fs::read(dir.join("dirty.raw")).unwrap(), "free-dirty");
    let disk = disk_of(&[&vhd]);
    let mut free = FreeSpace::new(&disk, &[&vhd]).unwrap();
    let vols = free.volumes().to_vec();
    let vol = |n: u32| vols.iter().find(|v| v.partition == Some(n)).unwrap();
    for (n, why) in [(1, "marked dirty"), (2, "clean-shutdown bit"), (5, "dirty flag")] {
        let v = vol(n);
        assert!(!v.trimmed && v.free_bytes == 0, "{v:?}");
        assert!(v.reason.as_deref().unwrap().contains(why), "partition {n}: {v:?}");
    }
    assert!(vol(6).trimmed, "the clean ext4 beside them is trimmed: {:?}", vol(6));
    let all = all_free(&mut free, &disk, &[&vhd], 8 * MIB);
    let v6 = vol(6);
    assert!(!all.is_empty() && all.iter().all(|r| r.0 >= v6.start && r.1 <= v6.start + v6.len), "only the ext4 is free");
}

#[test]
fn a_hostile_group_descriptor_keeps_its_volume_whole_naming_the_offset() {
    let dir = image("whole", WHOLE);
    let mut raw = std::fs::read(dir.join("disk.raw")).unwrap();
    // Group 0's descriptor (4 KiB blocks: the table at block 1) says its block bitmap is at a
    // block far past the volume's end.
    raw[4096..4100].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let vhd = vhd_of(&raw, "free-hostile");
    let disk = disk_of(&[&vhd]);
    let mut free = FreeSpace::new(&disk, &[&vhd]).unwrap();
    let v = &free.volumes()[0];
    assert!(!v.trimmed, "{v:?}");
    let why = v.reason.as_deref().unwrap();
    assert!(why.contains("at byte 0x1000") && why.contains("past the volume"), "{why}");
    assert!(all_free(&mut free, &disk, &[&vhd], 8 * MIB).is_empty());
}
