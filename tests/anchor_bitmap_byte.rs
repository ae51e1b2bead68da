//! One bitmap byte, three readers. A differencing child whose block 0 bitmap is 0x20: of the
//! first eight sectors only sector 2 is in the child; sectors 0-1 and 3-7 are the parent's. The
//! child's file holds other bytes behind the clear bits (left-over data, as real files do), so a
//! reader that takes a sector from the child by mistake shows it.
//!
//! - vhd-viewer (core and `cat`): sector 2 from the child, the rest from the parent, as the
//!   spec says (a sector's own bit decides) and as the model computes.
//! - 7-Zip (`7zz x -tVHD -so`, which finds the parent through the locator): the same bytes.
//! - libvhdi (Debian's python3-libvhdi, module `pyvhdi`, which reads data; `vhdiinfo`
//!   prints only headers): tests the bit without masking the lower bits away, so once sector 2
//!   is in the child, sectors 3-7 of that byte come from the child too. The test asserts that it
//!   differs from the right answer in exactly those sectors.
//! - qemu-img reads the child alone as a plain dynamic disk, and (observed with qemu 10) does
//!   not look at sector bitmaps either: every sector of an allocated block comes from the
//!   child's file, left-over bytes behind clear bits included. Asserted exactly.

use std::path::{Path, PathBuf};
use std::process::Command;

use vhd_viewer::reader::{open_layer, DiskReader, ReadAt};
use vhd_viewer::writer::DiskBuilder;
use vhd_viewer::Disk;

const SIZE: u64 = 4 << 20;
const BS: u32 = 512 << 10;
const SECTORS: usize = 16;

fn parent_sector(s: usize) -> Vec<u8> {
    let mut v = vec![0xb0 + s as u8; 512];
    v[..8].copy_from_slice(b"PARENT00");
    v
}
fn child_sector(s: usize) -> Vec<u8> {
    let mut v = vec![0xc0 + s as u8; 512];
    v[..8].copy_from_slice(b"CHILD000");
    v
}

/// base.vhd (sectors 0-15 written) and child.vhd (bitmap 0x20 0x00: only sector 2), in a folder
/// of the test's own.
fn chain(tag: &str) -> (PathBuf, Vec<u8>, Vec<u8>) {
    let mut base = DiskBuilder::dynamic(SIZE, BS);
    for s in 0..SECTORS {
        base.write(s as u64 * 512, &parent_sector(s));
    }
    let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), BS);
    let behind: Vec<u8> = (0..SECTORS).flat_map(child_sector).collect();
    child.set_block_data(0, 0, &behind).set_bitmap(0, &[0x20, 0x00]);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("anchor-bitmap-byte").join(tag);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (b, c) = (base.build(), child.build());
    std::fs::write(dir.join("base.vhd"), &b).unwrap();
    std::fs::write(dir.join("child.vhd"), &c).unwrap();
    (dir, c, b)
}

/// The first 16 sectors when the sectors in `from_child` come from the child, the others from
/// the parent.
fn expected(from_child: &[usize]) -> Vec<u8> {
    (0..SECTORS).flat_map(|s| if from_child.contains(&s) { child_sector(s) } else { parent_sector(s) }).collect()
}

/// Which of the first 16 sectors of `got` hold the child's bytes.
fn child_sectors(got: &[u8]) -> Vec<usize> {
    (0..SECTORS).filter(|s| got[s * 512..s * 512 + 8] == *b"CHILD000").collect()
}

#[test]
fn ours_takes_only_the_sector_whose_bit_is_set() {
    let (dir, c, b) = chain("ours");
    let disk = Disk::new(vec![open_layer(&c).unwrap(), open_layer(&b).unwrap()], false).unwrap();
    let mut r = DiskReader::new(&disk, vec![&c as &dyn ReadAt, &b as &dyn ReadAt]).unwrap();
    let mut got = vec![0u8; SECTORS * 512];
    r.read(0, &mut got).unwrap();
    assert_eq!(child_sectors(&got), vec![2]);
    assert!(got == expected(&[2]));
    // The command line, finding base.vhd through the child's locator.
    let out =
        Command::new(env!("CARGO_BIN_EXE_vhd-viewer")).args(["cat", "child.vhd", "--length", "8K"]).current_dir(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout == expected(&[2]), "cat took sectors {:?} from the child", child_sectors(&out.stdout));
}

fn have(cmd: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {cmd}")).output().is_ok_and(|o| o.status.success())
}

#[test]
fn sevenzip_agrees_with_us() {
    assert!(have("7zz"), "7zz is not installed: run scripts/setup.sh native");
    let (dir, _, _) = chain("7zz");
    let out = Command::new("7zz").args(["x", "-tVHD", "-so", "child.vhd"]).current_dir(&dir).output().unwrap();
    assert!(out.status.success(), "7zz: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout.len() as u64, SIZE);
    assert_eq!(child_sectors(&out.stdout), vec![2], "7-Zip takes these sectors from the child");
    assert!(out.stdout[..SECTORS * 512] == expected(&[2]));
}

/// Reads the first 16 sectors through libvhdi's Python binding, the parent set by hand.
fn pyvhdi_read(dir: &Path) -> Vec<u8> {
    let script = "import pyvhdi, sys\n\
        p = pyvhdi.file(); p.open('base.vhd')\n\
        c = pyvhdi.file(); c.open('child.vhd'); c.set_parent(p)\n\
        sys.stdout.buffer.write(c.read_buffer_at_offset(8192, 0))\n";
    // Debian's python3 with Debian's python3-libvhdi (the same libvhdi as vhdiinfo), which
    // scripts/setup.sh native installs.
    let out = Command::new("/usr/bin/python3")
        .args(["-c", script])
        .current_dir(dir)
        .output()
        .expect("/usr/bin/python3 (run scripts/setup.sh native)");
    assert!(
        out.status.success(),
        "pyvhdi (Debian's python3-libvhdi; run scripts/setup.sh native) failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn libvhdi_takes_the_later_sectors_of_the_byte_from_the_child() {
    let (dir, _, _) = chain("libvhdi");
    let got = pyvhdi_read(&dir);
    assert_eq!(got.len(), SECTORS * 512);
    // The known defect, exactly: sector 2's bit set makes sectors 2-7 "present" (an unmasked
    // test of the byte shifted right); the next byte (0x00) is read right again.
    assert_eq!(child_sectors(&got), vec![2, 3, 4, 5, 6, 7], "libvhdi's reading changed: update this test and docs/who-is-right.md");
    assert!(got == expected(&[2, 3, 4, 5, 6, 7]));
    assert!(got != expected(&[2]));
}

#[test]
fn qemu_reads_the_child_as_a_dynamic_disk() {
    assert!(have("qemu-img"), "qemu-img is not installed: run scripts/setup.sh native");
    let (dir, _, _) = chain("qemu");
    let out = dir.join("qemu.raw");
    let st =
        Command::new("qemu-img").args(["convert", "-f", "vpc", "-O", "raw", "child.vhd"]).arg(&out).current_dir(&dir).output().unwrap();
    assert!(st.status.success(), "qemu-img: {}", String::from_utf8_lossy(&st.stderr));
    let got = std::fs::read(&out).unwrap();
    // Observed with qemu 10: every sector of an allocated block comes from the child's file,
    // whatever its bitmap bit says: the left-over bytes behind the clear bits included, and the
    // parent never. So qemu-img ignores the parent and the sector bitmap both.
    let want: Vec<u8> = (0..SECTORS).flat_map(child_sector).collect();
    assert_eq!(
        child_sectors(&got),
        (0..SECTORS).collect::<Vec<_>>(),
        "qemu-img's reading changed: update this test and docs/who-is-right.md"
    );
    assert!(got[..SECTORS * 512] == want[..]);
    assert!(want != expected(&[2]), "and so differs from the right answer");
}
