//! Damaged and hostile variants, derived in code by patching the bytes of good images (made by
//! the writer or by qemu-img): each must give the exact finding (code, severity, offset) or the
//! exact error (variant, offset), never a panic; and the command line must exit with 0, 1 or 2
//! and name the offset.

mod common;
use common::*;
use vhd_viewer::error::{VhdError, VhdxError};
use vhd_viewer::reader::{open_layer, DiskReader, ReadAt};
use vhd_viewer::values::Uuid;
use vhd_viewer::writer::DiskBuilder;
use vhd_viewer::{Disk, Error, Severity};

const MIB: u64 = 1 << 20;

/// A good dynamic disk: 8 MiB, 2 MiB blocks, blocks 0 and 3 written (in that order).
/// Layout: copy 0, header 0x200, BAT 0x600 (4 entries, one sector), block 0 at 0x800,
/// block 3 at 0x800 + 0x200200, footer at the end.
fn good_dynamic() -> Image {
    let mut d = DiskBuilder::dynamic(8 * MIB, 2 * MIB as u32);
    d.unique_id(Uuid(id_for("damaged-base"))).timestamp(0x2a00_0000);
    d.write(0, &[0x11; 4096]).write(7 * MIB, &[0x33; 512]).write(8 * MIB - 512, &[0x34; 512]);
    let img = Image { bytes: d.build() };
    // The layout the cases below rely on (checked here, from the file's own fields).
    assert_eq!(img.header_at(), 0x200);
    assert_eq!(img.table_at(), 0x600);
    assert_eq!(img.bat(0), 4);
    assert_eq!(img.bat(3), 4 + (512 + 2 * MIB as u32) / 512);
    assert_eq!(img.len(), 0x800 + 2 * (0x200 + 2 * MIB) + 512);
    img
}

/// A good differencing child of a 4 MiB parent, with a W2ru and a W2ku locator (indexes 0, 1).
fn good_child() -> Image {
    let mut p = DiskBuilder::dynamic(4 * MIB, 2 * MIB as u32);
    p.unique_id(Uuid(id_for("damaged-parent")));
    let mut c = DiskBuilder::differencing(&p.parent_ref("parent.vhd"), 2 * MIB as u32);
    c.unique_id(Uuid(id_for("damaged-child"))).parent_locator(*b"W2ku", "C:\\vm\\parent.vhd").write(512, &[0x22; 512]);
    Image { bytes: c.build() }
}

fn good_fixed() -> Image {
    let mut d = DiskBuilder::fixed(MIB);
    d.unique_id(Uuid(id_for("damaged-fixed"))).write(0, &[0x44; 512]);
    Image { bytes: d.build() }
}

/// What a case must give.
enum Want {
    /// Opens, with this finding among the layer's findings.
    Finding { code: &'static str, severity: Severity, offset: u64 },
    /// Does not open: this error (checked by `is`) naming this offset.
    Error { code: &'static str, is: fn(&Error) -> bool, offset: Option<u64> },
}

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    want: Want,
    /// Exit status of `vhd-viewer check`.
    check_exit: i32,
}

fn finding(code: &'static str, severity: Severity, offset: u64) -> Want {
    Want::Finding { code, severity, offset }
}

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    let g = good_dynamic();
    let end = g.footer_at() as u64;
    let len = g.len();

    // Footer cookies and checksums.
    let mut b = g.clone();
    b.bytes[end as usize + 7] = b'y'; // "conectiy"
    v.push(Case { name: "end-cookie-wrong", bytes: b.bytes, want: finding("footer-missing", Severity::Error, end), check_exit: 1 });

    let mut b = g.clone();
    b.bytes[end as usize + 64] ^= 1;
    v.push(Case { name: "end-checksum-wrong", bytes: b.bytes, want: finding("footer-checksum", Severity::Error, end), check_exit: 1 });

    let mut b = g.clone();
    b.bytes[64] ^= 1;
    v.push(Case { name: "copy-checksum-wrong", bytes: b.bytes, want: finding("footer-copy-checksum", Severity::Error, 64), check_exit: 1 });

    let mut b = g.clone();
    b.bytes[64] ^= 1;
    b.bytes[end as usize + 64] ^= 1;
    v.push(Case {
        name: "both-checksums-wrong",
        bytes: b.bytes.clone(),
        want: finding("footer-checksum", Severity::Error, end + 64),
        check_exit: 1,
    });
    v.push(Case {
        name: "both-checksums-wrong (copy)",
        bytes: b.bytes,
        want: finding("footer-copy-checksum", Severity::Error, 64),
        check_exit: 1,
    });

    let mut b = g.clone();
    b.bytes[0..8].copy_from_slice(b"XXXXXXXX");
    v.push(Case { name: "copy-cookie-wrong", bytes: b.bytes, want: finding("footer-copy-missing", Severity::Error, 0), check_exit: 1 });

    let mut b = g.clone();
    put32(&mut b.bytes, f::TIMESTAMP, 12345);
    b.fix_footer(0);
    v.push(Case { name: "copies-differ", bytes: b.bytes, want: finding("footer-copies-differ", Severity::Warning, 0), check_exit: 0 });

    // Missing and short end footers.
    let mut b = g.clone();
    b.bytes.truncate(end as usize);
    v.push(Case { name: "end-footer-missing", bytes: b.bytes, want: finding("footer-missing", Severity::Error, end - 512), check_exit: 1 });

    let mut b = g.clone();
    b.bytes.pop(); // the footer's last (reserved, zero) byte
    v.push(Case { name: "footer-511", bytes: b.bytes, want: finding("footer-511", Severity::Error, len - 1 - 511), check_exit: 1 });

    // Truncated in the middle of block 3: the footer is recovered from the copy, block 3 is past EOF.
    let mut b = g.clone();
    let cut = 0x800 + (0x200 + 2 * MIB) + MIB;
    b.bytes.truncate(cut as usize);
    v.push(Case { name: "truncated", bytes: b.bytes.clone(), want: finding("footer-missing", Severity::Error, cut - 512), check_exit: 1 });
    v.push(Case { name: "truncated (block)", bytes: b.bytes, want: finding("block-past-eof", Severity::Error, 0x600 + 12), check_exit: 1 });

    // BAT damage.
    let mut b = g.clone();
    b.set_bat(1, 0x0100_0000); // 8 GiB into a 4 MiB file
    v.push(Case { name: "bat-entry-past-eof", bytes: b.bytes, want: finding("block-past-eof", Severity::Error, 0x600 + 4), check_exit: 1 });

    let mut b = g.clone();
    let e0 = b.bat(0);
    b.set_bat(3, e0);
    v.push(Case { name: "blocks-overlap", bytes: b.bytes, want: finding("blocks-overlap", Severity::Error, 0x600 + 12), check_exit: 1 });

    let mut b = g.clone();
    let e0 = b.bat(0);
    b.set_bat(2, e0 + 1); // one sector into block 0
    v.push(Case {
        name: "blocks-overlap-partly",
        bytes: b.bytes,
        want: finding("blocks-overlap", Severity::Error, 0x600 + 8),
        check_exit: 1,
    });

    let mut b = g.clone();
    b.set_bat(1, 1); // over the dynamic header
    v.push(Case {
        name: "block-over-metadata",
        bytes: b.bytes,
        want: finding("block-overlaps-metadata", Severity::Error, 0x600 + 4),
        check_exit: 1,
    });

    // Dynamic header damage.
    let mut b = g.clone();
    b.edit_header(|h| put32(h, h::BLOCK_SIZE, 3 * MIB as u32));
    v.push(Case {
        name: "block-size-not-power-of-two",
        bytes: b.bytes,
        want: finding("block-size-not-power-of-two", Severity::Error, 0x200 + 32),
        check_exit: 1,
    });

    let mut b = g.clone();
    b.edit_header(|h| put32(h, h::BLOCK_SIZE, 1000));
    v.push(Case {
        name: "block-size-not-sectors",
        bytes: b.bytes,
        want: Want::Error {
            code: "block-size",
            is: |e| matches!(e, Error::Vhd(VhdError::BlockSize { block_size: 1000, .. })),
            offset: Some(0x200 + 32),
        },
        check_exit: 2,
    });

    let mut b = g.clone();
    b.edit_header(|h| put32(h, h::BLOCK_SIZE, 0));
    v.push(Case {
        name: "block-size-zero",
        bytes: b.bytes,
        want: Want::Error {
            code: "block-size",
            is: |e| matches!(e, Error::Vhd(VhdError::BlockSize { block_size: 0, .. })),
            offset: Some(0x200 + 32),
        },
        check_exit: 2,
    });

    let mut b = g.clone();
    b.edit_header(|h| put32(h, h::BLOCK_SIZE, 0x8000_0000));
    v.push(Case {
        name: "block-size-2g",
        bytes: b.bytes,
        want: Want::Error {
            code: "block-size-too-large",
            is: |e| matches!(e, Error::Vhd(VhdError::BlockSizeTooLarge { .. })),
            offset: Some(0x200 + 32),
        },
        check_exit: 2,
    });

    let mut b = g.clone();
    b.edit_header(|h| put32(h, h::MAX_TABLE_ENTRIES, 0));
    v.push(Case {
        name: "max-table-entries-0",
        bytes: b.bytes,
        want: finding("bat-too-short", Severity::Error, 0x200 + 28),
        check_exit: 1,
    });

    let mut b = g.clone();
    b.edit_header(|h| put32(h, h::MAX_TABLE_ENTRIES, 0xFFFF_FFFF));
    v.push(Case {
        name: "max-table-entries-ffffffff",
        bytes: b.bytes,
        want: finding("bat-too-long", Severity::Error, 0x200 + 28),
        check_exit: 1,
    });

    // A 2040 GiB disk with 4 KiB blocks would need 535 million BAT entries: refused, not allocated.
    let mut b = g.clone();
    b.edit_footers(|ft| put64(ft, f::CURRENT_SIZE, 2040 << 30));
    b.edit_header(|h| {
        put32(h, h::MAX_TABLE_ENTRIES, 0xFFFF_FFFF);
        put32(h, h::BLOCK_SIZE, 4096);
    });
    v.push(Case {
        name: "bat-absurdly-large",
        bytes: b.bytes,
        want: Want::Error {
            code: "bat-too-large",
            is: |e| matches!(e, Error::Vhd(VhdError::BatTooLarge { .. })),
            offset: Some(0x200 + 28),
        },
        check_exit: 2,
    });

    let mut b = g.clone();
    b.edit_header(|h| put64(h, h::TABLE_OFFSET, 1 << 40));
    v.push(Case {
        name: "bat-past-eof",
        bytes: b.bytes,
        want: Want::Error { code: "out-of-file", is: |e| matches!(e, Error::OutOfFile { .. }), offset: Some(1 << 40) },
        check_exit: 2,
    });

    let mut b = g.clone();
    b.edit_header(|h| put64(h, h::TABLE_OFFSET, u64::MAX - 3));
    v.push(Case {
        name: "bat-offset-overflows",
        bytes: b.bytes,
        want: Want::Error { code: "out-of-file", is: |e| matches!(e, Error::OutOfFile { .. }), offset: Some(u64::MAX - 3) },
        check_exit: 2,
    });

    let mut b = g.clone();
    b.bytes[0x200] = b'X';
    v.push(Case {
        name: "header-cookie-wrong",
        bytes: b.bytes,
        want: Want::Error { code: "header-cookie", is: |e| matches!(e, Error::Vhd(VhdError::HeaderCookie { .. })), offset: Some(0x200) },
        check_exit: 2,
    });

    let mut b = g.clone();
    b.bytes[0x200 + 100] ^= 0x40;
    v.push(Case {
        name: "header-checksum-wrong",
        bytes: b.bytes,
        want: finding("header-checksum", Severity::Error, 0x200 + 36),
        check_exit: 1,
    });

    let mut b = g.clone();
    b.edit_footers(|ft| put64(ft, f::DATA_OFFSET, 1 << 50));
    v.push(Case {
        name: "header-past-eof",
        bytes: b.bytes,
        want: Want::Error { code: "out-of-file", is: |e| matches!(e, Error::OutOfFile { .. }), offset: Some(1 << 50) },
        check_exit: 2,
    });

    let mut b = g.clone();
    b.edit_footers(|ft| put32(ft, f::DISK_TYPE, 5));
    v.push(Case {
        name: "disk-type-5",
        bytes: b.bytes,
        want: Want::Error { code: "disk-type", is: |e| matches!(e, Error::Vhd(VhdError::DiskType { .. })), offset: Some(end + 60) },
        check_exit: 2,
    });

    let mut b = g.clone();
    b.edit_footers(|ft| put64(ft, f::CURRENT_SIZE, 4 * MIB));
    v.push(Case { name: "bat-longer-than-size", bytes: b.bytes, want: finding("bat-too-long", Severity::Info, 0x200 + 28), check_exit: 0 });

    let mut b = g.clone();
    b.edit_footers(|ft| ft[f::UNIQUE_ID..f::UNIQUE_ID + 16].fill(0));
    v.push(Case { name: "unique-id-nil", bytes: b.bytes, want: finding("unique-id-nil", Severity::Warning, end + 68), check_exit: 0 });

    // Differencing: locators.
    let c = good_child();
    let loc0 = 0x200 + h::LOCATORS as u64;
    let loc1 = loc0 + 24;
    let mut b = c.clone();
    b.edit_header(|h| put64(h, h::LOCATORS + 24 + 16, 1 << 40));
    v.push(Case {
        name: "locator-out-of-range",
        bytes: b.bytes,
        want: finding("locator-out-of-range", Severity::Error, loc1),
        check_exit: 1,
    });

    let mut b = c.clone();
    b.edit_header(|h| put32(h, h::LOCATORS + 8, 0x0100_0000));
    v.push(Case { name: "locator-too-long", bytes: b.bytes, want: finding("locator-out-of-range", Severity::Error, loc0), check_exit: 1 });

    let mut b = c.clone();
    b.edit_header(|h| h[h::PARENT_NAME..h::PARENT_NAME + 512].fill(0));
    b.edit_header(|h| h[h::LOCATORS..h::LOCATORS + 192].fill(0));
    v.push(Case { name: "parent-unnamed", bytes: b.bytes, want: finding("parent-unnamed", Severity::Error, 0x200 + 64), check_exit: 1 });

    let mut b = c.clone();
    b.edit_header(|h| h[h::PARENT_ID..h::PARENT_ID + 16].fill(0));
    v.push(Case {
        name: "parent-id-nil",
        bytes: b.bytes,
        want: finding("parent-id-nil", Severity::Warning, 0x200 + 40),
        check_exit: 1, /* parent not found */
    });

    // Fixed disks.
    let fx = good_fixed();
    let fend = fx.footer_at() as u64;
    let mut b = fx.clone();
    b.bytes.drain(..4096); // data cut short, footer kept
    v.push(Case { name: "fixed-truncated", bytes: b.bytes, want: finding("fixed-truncated", Severity::Error, fend - 4096), check_exit: 1 });

    let mut b = fx.clone();
    b.bytes[fend as usize] = b'C';
    v.push(Case {
        name: "fixed-cookie-wrong",
        bytes: b.bytes,
        want: Want::Error { code: "no-footer", is: |e| matches!(e, Error::NoFooter { .. }), offset: Some(fend) },
        check_exit: 2,
    });

    let mut b = fx.clone();
    b.bytes[fend as usize + 64] ^= 0xff;
    v.push(Case {
        name: "fixed-checksum-wrong",
        bytes: b.bytes,
        want: finding("footer-checksum", Severity::Error, fend + 64),
        check_exit: 1,
    });

    let mut b = fx.clone();
    b.edit_footers(|ft| put64(ft, f::DATA_OFFSET, 0x200));
    v.push(Case {
        name: "fixed-data-offset",
        bytes: b.bytes,
        want: finding("data-offset-fixed", Severity::Error, fend + 16),
        check_exit: 1,
    });

    // Not VHDs at all.
    let text: Vec<u8> = "This is a plain text file, not a disk image.\n".repeat(100).into_bytes();
    let tlen = text.len() as u64;
    v.push(Case {
        name: "text-file",
        bytes: text,
        want: Want::Error { code: "no-footer", is: |e| matches!(e, Error::NoFooter { .. }), offset: Some(tlen - 512) },
        check_exit: 2,
    });
    v.push(Case {
        name: "tiny-file",
        bytes: b"hello\n".to_vec(),
        want: Want::Error { code: "too-small", is: |e| matches!(e, Error::TooSmall { len: 6 }), offset: None },
        check_exit: 2,
    });
    v.push(Case {
        name: "empty-file",
        bytes: Vec::new(),
        want: Want::Error { code: "too-small", is: |e| matches!(e, Error::TooSmall { len: 0 }), offset: None },
        check_exit: 2,
    });
    let mut vhdx = vec![0u8; MIB as usize];
    vhdx[..8].copy_from_slice(b"vhdxfile");
    v.push(Case {
        name: "vhdx",
        bytes: vhdx,
        // A VHDX whose headers are both zeros: read as a VHDX, refused at the first header.
        want: Want::Error {
            code: "vhdx-no-valid-header",
            is: |e| matches!(e, Error::Vhdx(VhdxError::NoValidHeader { .. })),
            offset: Some(0x10000),
        },
        check_exit: 2,
    });
    let mut qcow = vec![0u8; 4096];
    qcow[..4].copy_from_slice(b"QFI\xfb");
    v.push(Case {
        name: "qcow2",
        bytes: qcow,
        want: Want::Error { code: "other-format", is: |e| matches!(e, Error::OtherFormat { .. }), offset: Some(0) },
        check_exit: 2,
    });
    v
}

/// Reads the whole virtual disk through the library, as far as it can be read; must not panic.
#[allow(clippy::ptr_arg)]
fn read_everything(bytes: &Vec<u8>) {
    read_with(bytes, true)
}

/// Opens, maps the whole disk, reads one sector of every block (and the whole disk when `all`),
/// and scans; must not panic. (`&Vec`, not `&[u8]`: a `dyn ReadAt` needs a sized type.)
#[allow(clippy::ptr_arg)]
fn read_with(bytes: &Vec<u8>, all: bool) {
    let Ok(layer) = open_layer(bytes) else { return };
    let Ok(disk) = Disk::new(vec![layer], false) else { return };
    let sources: Vec<&dyn ReadAt> = vec![bytes];
    let Ok(mut r) = DiskReader::new(&disk, sources) else { return };
    let _ = r.for_each_extent(0, u64::MAX, |_| Ok(()));
    let size = disk.size();
    let mut sector = [0u8; 512];
    let step = disk.chunk_size().max(512);
    let mut pos = 0;
    while pos + 512 <= size && pos < 64 * step {
        let _ = r.read(pos, &mut sector);
        pos += step;
    }
    if size >= 512 {
        let _ = r.read(size / 512 * 512 - 512, &mut sector);
    }
    if all {
        read_whole(&mut r, size);
    }
}

fn read_whole(r: &mut DiskReader<'_>, size: u64) {
    let size = size.min(64 * MIB);
    let mut buf = vec![0u8; MIB as usize];
    let mut pos = 0;
    while pos < size {
        let n = (size - pos).min(MIB);
        let _ = r.read(pos, &mut buf[..n as usize]);
        pos += n;
    }
    let _ = vhd_viewer::check::scan(r, &mut |_, _| {});
}

#[test]
fn each_damage_gives_its_finding_or_error_through_the_library() {
    let mut failures = Vec::new();
    for c in cases() {
        let got = open_layer(&c.bytes);
        match (&c.want, got) {
            (Want::Finding { code, severity, offset }, Ok(layer)) => {
                let hit = layer.findings.iter().find(|f| f.code == *code);
                match hit {
                    Some(f) if f.severity == *severity && f.offset == Some(*offset) => {}
                    Some(f) => failures.push(format!(
                        "{}: {code} is {:?} at {:?}, want {severity:?} at {offset:#x}",
                        c.name,
                        f.severity,
                        f.offset.map(|o| format!("{o:#x}"))
                    )),
                    None => failures.push(format!(
                        "{}: no {code} finding; findings: {:?}",
                        c.name,
                        layer.findings.iter().map(|f| (f.code, f.offset)).collect::<Vec<_>>()
                    )),
                }
            }
            (Want::Finding { code, .. }, Err(e)) => failures.push(format!("{}: wanted finding {code}, got error {e:?}", c.name)),
            (Want::Error { code, is, offset }, Err(e)) => {
                if !is(&e) || e.code() != *code || e.offset() != *offset {
                    failures.push(format!(
                        "{}: got error {e:?} (code {}, offset {:?}), want {code} at {offset:?}",
                        c.name,
                        e.code(),
                        e.offset()
                    ));
                }
            }
            (Want::Error { .. }, Ok(_)) => failures.push(format!("{}: opened, but an error was wanted", c.name)),
        }
        read_everything(&c.bytes);
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n  {}", failures.len(), cases().len(), failures.join("\n  "));
}

#[test]
fn each_damage_gives_the_right_exit_status_and_names_the_offset() {
    let dir = scratch("damaged-cli");
    let mut failures = Vec::new();
    for c in cases() {
        let path = dir.join(format!("{}.vhd", c.name.replace([' ', '(', ')'], "_")));
        std::fs::write(&path, &c.bytes).unwrap();
        let p = path.to_str().unwrap();
        let o = cli(&["check", p]);
        let code = o.status.code().unwrap_or(-1);
        if code != c.check_exit {
            failures.push(format!("{}: check exited {code}, want {}: {}{}", c.name, c.check_exit, stdout(&o), stderr(&o)));
            continue;
        }
        let (text, offset) = match &c.want {
            Want::Finding { offset, .. } => (stdout(&o), Some(*offset)),
            Want::Error { offset, .. } => (stderr(&o), *offset),
        };
        if let Some(off) = offset {
            if !text.contains(&format!("{off:#x}")) {
                failures.push(format!("{}: the output does not name offset {off:#x}: {text}", c.name));
            }
        }
        if code == 2 && !stderr(&o).starts_with("vhd-viewer: ") {
            failures.push(format!("{}: error not on stderr: {}", c.name, stderr(&o)));
        }
        // info and map never crash either: 0 when openable, 2 when not. A block whose bitmap
        // lies past the end of the file is mapped as missing (cut short), not read as zeros.
        for cmd in ["info", "map"] {
            let o = cli(&[cmd, p]);
            let want = if c.check_exit == 2 { 2 } else { 0 };
            if o.status.code() != Some(want) {
                failures.push(format!("{}: {cmd} exited {:?}, want {want}: {}", c.name, o.status.code(), stderr(&o)));
            }
            if cmd == "map"
                && c.name == "bat-entry-past-eof"
                && !String::from_utf8_lossy(&o.stdout)
                    .contains("0x200000            0x200000            -                   past the end of")
            {
                failures.push(format!("{}: map does not show block 1 as missing: {}", c.name, String::from_utf8_lossy(&o.stdout)));
            }
        }
        let o = cli(&["check", "--json", p]);
        if c.check_exit != 2 {
            if let Want::Finding { code, offset, .. } = &c.want {
                let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
                if !v.as_array().unwrap().iter().any(|f| f["code"] == *code && f["offset"] == *offset) {
                    failures.push(format!("{}: check --json lacks {code} at {offset}", c.name));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n  {}", failures.len(), failures.join("\n  "));
}

#[test]
fn recovered_footers_read_the_same_data() {
    // End footer missing, 511 bytes long, or with a bad checksum: the disk still reads whole.
    let g = good_dynamic();
    let want = {
        let l = open_layer(&g.bytes).unwrap();
        let d = Disk::new(vec![l], false).unwrap();
        let mut r = DiskReader::new(&d, vec![&g.bytes as &dyn ReadAt]).unwrap();
        let mut buf = vec![0u8; (8 * MIB) as usize];
        r.read(0, &mut buf).unwrap();
        buf
    };
    // The model: what the writer was told to write.
    assert!(want[..4096].iter().all(|b| *b == 0x11) && want[7 * MIB as usize..][..512].iter().all(|b| *b == 0x33));
    for name in ["end-cookie-wrong", "end-checksum-wrong", "end-footer-missing", "footer-511", "copy-checksum-wrong"] {
        let c = cases().into_iter().find(|c| c.name == name).unwrap();
        let l = open_layer(&c.bytes).unwrap();
        let d = Disk::new(vec![l], false).unwrap();
        let mut r = DiskReader::new(&d, vec![&c.bytes as &dyn ReadAt]).unwrap();
        let mut buf = vec![0u8; (8 * MIB) as usize];
        r.read(0, &mut buf).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(buf == want, "{name}: the data differ");
    }
}

#[test]
fn reading_a_block_past_eof_fails_with_its_offset() {
    let c = cases().into_iter().find(|c| c.name == "bat-entry-past-eof").unwrap();
    let l = open_layer(&c.bytes).unwrap();
    let d = Disk::new(vec![l], false).unwrap();
    let mut r = DiskReader::new(&d, vec![&c.bytes as &dyn ReadAt]).unwrap();
    // Block 0 still reads.
    let mut buf = vec![0u8; 4096];
    r.read(0, &mut buf).unwrap();
    assert!(buf.iter().all(|b| *b == 0x11));
    // Block 1's bitmap would be at 0x0100_0000 * 512 = 8 GiB: an error naming that offset.
    let e = r.read(2 * MIB, &mut buf).unwrap_err();
    assert_eq!(e.offset(), Some(0x0100_0000u64 * 512), "{e:?}");
    // And the command line: exit 2 with the offset.
    let dir = scratch("past-eof-cli");
    let p = dir.join("d.vhd");
    std::fs::write(&p, &c.bytes).unwrap();
    let o = cli(&["cat", p.to_str().unwrap(), "--offset", "2M", "--length", "512"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("0x200000000"), "{}", stderr(&o));
}

#[test]
fn leftover_data_in_unused_sectors_is_reported() {
    let mut d = DiskBuilder::dynamic(4 * MIB, 2 * MIB as u32);
    d.unique_id(Uuid(id_for("leftover"))).write(0, &[0x10; 512]);
    d.set_block_data(0, 5 * 512 + 3, b"secret"); // sector 5: bitmap bit clear
    let bytes = d.build();
    let l = open_layer(&bytes).unwrap();
    let block0 = l.vhd().unwrap().block_offset(0).unwrap();
    let disk = Disk::new(vec![l], false).unwrap();
    let mut r = DiskReader::new(&disk, vec![&bytes as &dyn ReadAt]).unwrap();
    let mut buf = vec![0u8; 512];
    r.read(5 * 512, &mut buf).unwrap();
    assert!(buf.iter().all(|b| *b == 0), "a clear bit reads as zeros whatever the file holds");
    let f = vhd_viewer::check::scan(&mut r, &mut |_, _| {}).unwrap();
    let hit = f.iter().find(|x| x.code == "unused-sectors-nonzero").unwrap_or_else(|| panic!("{f:?}"));
    assert_eq!(hit.severity, Severity::Warning);
    assert_eq!(hit.offset, Some(block0 + 512 + 5 * 512));
    // --quick skips the scan.
    let dir = scratch("leftover");
    let p = dir.join("d.vhd");
    std::fs::write(&p, &bytes).unwrap();
    assert!(stdout(&cli(&["check", p.to_str().unwrap()])).contains("unused-sectors-nonzero"));
    assert!(!stdout(&cli(&["check", "--quick", p.to_str().unwrap()])).contains("unused-sectors-nonzero"));
}

#[test]
fn every_metadata_byte_damaged_never_panics() {
    // Each byte of the footer copy, header, BAT and end footer set to 0xff and to 0x00 in turn,
    // and each 4-byte field to 0x7fffffff: open, read the whole disk, scan. Only a panic or a
    // hang fails this.
    let g = good_dynamic();
    let end = g.footer_at();
    // Every byte of the footer fields (both copies), of the header's fields and locator entries,
    // and of the BAT.
    let places: Vec<usize> =
        (0..85).chain(0x200..0x240).chain(0x200 + h::LOCATORS..0x200 + h::LOCATORS + 48).chain(0x600..0x610).chain(end..end + 85).collect();
    let start = std::time::Instant::now();
    for &at in &places {
        for v in [0xffu8, 0x00, 0x80] {
            if g.bytes[at] == v {
                continue;
            }
            let mut b = g.bytes.clone();
            b[at] = v;
            read_with(&b, false);
            // Checksums recomputed, so that the damage is taken at face value.
            let mut i = Image { bytes: b };
            i.fix_footer(0);
            i.fix_footer(end);
            let hc = vhd_checksum(&i.bytes[0x200..0x600], h::CHECKSUM);
            put32(&mut i.bytes, 0x200 + h::CHECKSUM, hc);
            read_with(&i.bytes, false);
        }
    }
    assert!(start.elapsed().as_secs() < 60, "took {:?}", start.elapsed());
}
