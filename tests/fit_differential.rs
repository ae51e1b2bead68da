//! Issue 23's writers read by other software, over a grid: `resize` (grow, grow `--no-gpt-fix`,
//! shrink, shrink to the smallest size allowed, and shrinks past a partition refused) and `convert --for azure` of VHD (fixed,
//! dynamic, differencing) and VHDX (dynamic, fixed, differencing) disks of 512- and (VHDX)
//! 4096-byte logical sectors, with an MBR, a GPT or no partition table. Every output is judged by
//! other software only:
//!
//! - `qemu-img convert -O raw` (not of a differencing disk: qemu-img reads a VHD child without
//!   its parent and refuses a VHDX child), `7zz x -so` (VHD and VHDX, chains included) and our own
//!   `cat` all read the expected disk: the input's bytes up to the new end, zeros past the old
//!   one; on a GPT disk fixed by `resize`, everything but the protective MBR, the primary header
//!   and the backup GPT (old and new place), which `sgdisk -v` must then find clean (through a
//!   loop device of 4096-byte sectors for those), with the partitions `fdisk -l` lists
//!   unchanged; with `--no-gpt-fix`, every byte kept and `sgdisk -v` finding the misplaced backup;
//! - `qemu-img info`'s and `vhdiinfo`'s size is the new size (libvhdi's of a VHD: its original
//!   size, which `resize` keeps), `vhdiinfo`'s sector size the input's; a VHDX passes `qemu-img
//!   check`; `vhd-viewer check` finds no error;
//! - a shrink past the partition (or, with no table, the file system) ends with status 2, names
//!   the byte where it ends, and writes no file;
//! - `convert --for azure`: a fixed VHD of the disk rounded up to a whole MiB, exactly that plus
//!   its 512-byte footer long, current and original size both that size, that `check --for azure`
//!   passes (and the input fails), read by all three as the input plus zeros; its partitions
//!   where the input has them (`azure_copy_keeps_the_partitions`); a disk whose MBR or GPT counts
//!   4096-byte sectors refused (a VHD's are 512: its table would name the wrong bytes);
//! - the space `resize --json` says is left after the last partition is what `sfdisk -F` finds.
//!
//! Where a reader cannot read a copy, the test says which limit of that reader it is (they are
//! listed in docs/who-is-right.md) and checks what it can. The disks are small (12 MiB and 36
//! KiB, grown to 20 MiB and 36 KiB) and made once per content of their script
//! (`tests/work/fitdiff/`) by fdisk and mkfs.ext4, wrapped by qemu-img where it can make the
//! format and by the project's writers where it cannot (children, 4096-byte sectors).

mod common;
use common::*;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;

use vhd_viewer::vhd::writer::DiskBuilder;
use vhd_viewer::vhdx::writer::{Kind as VhdxKind, VhdxBuilder};
use vhd_viewer::vhdx::Guid;

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
/// The disks' size: not a whole MiB (so that `convert --for azure` rounds it), whole 4 KiB.
const SIZE: u64 = 12 * MIB + 36 * KIB;
/// Grown by 8 MiB.
const GROWN: u64 = SIZE + 8 * MIB;
/// Where the partition (or, with no table, the file system) ends.
const PART_END: u64 = 7 * MIB;
/// Shrunk, everything still inside.
const SHRUNK: u64 = 10 * MIB;
/// Shrunk past the partition: refused.
const TOO_SMALL: u64 = 6 * MIB;
/// The size `convert --for azure` makes: SIZE rounded up to a whole MiB, at least Azure's
/// smallest disk (20 MiB).
const AZURE: u64 = 20 * MIB;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Scheme {
    None,
    Mbr,
    Gpt,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    VhdFixed,
    VhdDynamic,
    VhdChild,
    VhdxDynamic,
    VhdxFixed,
    VhdxChild,
}

impl Kind {
    fn ext(self) -> &'static str {
        if self.vhdx() {
            "vhdx"
        } else {
            "vhd"
        }
    }
    fn vhdx(self) -> bool {
        matches!(self, Kind::VhdxDynamic | Kind::VhdxFixed | Kind::VhdxChild)
    }
    fn child(self) -> bool {
        matches!(self, Kind::VhdChild | Kind::VhdxChild)
    }
}

/// The raw disks of `scheme` in sectors of `ss` bytes: the folder holding `base.raw` and
/// `child.raw` (the base with some of its unpartitioned data rewritten). The partition (ext4)
/// spans 1 MiB to 7 MiB; with no table an ext4 of 7 MiB starts the disk. Random data fills 8 MiB
/// to 64 KiB before the end, so that every byte moved or lost shows.
fn raws(scheme: Scheme, ss: u64) -> PathBuf {
    let table = match scheme {
        Scheme::None => "OFF=0; FS=7168",
        Scheme::Mbr => "printf 'o\\nn\\np\\n1\\n%d\\n%d\\nw\\n' $M $((7 * M - 1)) | fdisk -b $SS base.raw >/dev/null; OFF=1048576; FS=6144",
        Scheme::Gpt => "printf 'g\\nn\\n1\\n%d\\n%d\\nw\\n' $M $((7 * M - 1)) | fdisk -b $SS base.raw >/dev/null; OFF=1048576; FS=6144",
    };
    let script = format!(
        r#"set -euo pipefail
export LC_ALL=C.UTF-8 TZ=UTC
SS={ss}; S={SIZE}; M=$((1048576 / SS))
mkdir -p tree/sub
printf 'hello\n' > tree/hello.txt
head -c 300000 /dev/urandom > tree/sub/big.bin
truncate -s $S base.raw
{table}
mkfs.ext4 -q -F -b 4096 -L FITDIFF -d tree -E offset=$OFF base.raw ${{FS}}k
head -c $((S - 65536 - 8 * 1048576)) /dev/urandom | dd of=base.raw bs=1M seek=8 conv=notrunc status=none
[ "$(stat -c %s base.raw)" = "$S" ]
cp base.raw child.tmp
head -c 65536 /dev/urandom | dd of=child.tmp bs=4096 seek=$((9 * 256 + 1)) conv=notrunc status=none
head -c 4096 /dev/urandom | dd of=child.tmp bs=4096 seek=$(((S - 131072) / 4096)) conv=notrunc status=none
mv child.tmp child.raw
"#
    );
    script_image("fitdiff", &format!("{scheme:?}-{ss}"), &script, &[], "child.raw", &["tree"])
}

/// The input of `kind` made from the raw disks in `dir`; returns the file and the disk it holds.
fn input(kind: Kind, scheme: Scheme, ss: u64, dir: &Path) -> (PathBuf, Vec<u8>) {
    let raw = raws(scheme, ss);
    let base = std::fs::read(raw.join("base.raw")).unwrap();
    let child = std::fs::read(raw.join("child.raw")).unwrap();
    let qemu = |fmt: &str, opts: &str, out: &Path| {
        run_ok(Command::new("qemu-img").args(["convert", "-q", "-f", "raw", "-O", fmt, "-o", opts]).arg(raw.join("base.raw")).arg(out));
    };
    let vhdx = |raw: &[u8], id: u8, kind: VhdxKind, below: Option<&[u8]>| {
        let mut b = VhdxBuilder::new(SIZE);
        b.kind = kind;
        b.logical_sector_size = ss as u32;
        b.data_write_guid = Guid([id; 16]);
        for (k, piece) in raw.chunks(64 * KIB as usize).enumerate() {
            let at = k * 64 * KIB as usize;
            let differs = match below {
                Some(p) => p[at..at + piece.len()] != *piece,
                None => piece.iter().any(|x| *x != 0),
            };
            if differs {
                b.writes.push((at as u64, piece.to_vec()));
            }
        }
        b.build()
    };
    let file = dir.join(format!("in.{}", kind.ext()));
    match kind {
        Kind::VhdFixed => qemu("vpc", "subformat=fixed,force_size=on", &file),
        Kind::VhdDynamic => qemu("vpc", "subformat=dynamic,force_size=on", &file),
        Kind::VhdxDynamic if ss == 512 => qemu("vhdx", "subformat=dynamic,block_size=1M", &file),
        Kind::VhdxFixed if ss == 512 => qemu("vhdx", "subformat=fixed", &file),
        Kind::VhdxDynamic => std::fs::write(&file, vhdx(&base, 0x21, VhdxKind::Dynamic, None)).unwrap(),
        Kind::VhdxFixed => std::fs::write(&file, vhdx(&base, 0x21, VhdxKind::Fixed, None)).unwrap(),
        Kind::VhdChild => {
            let parent = dynamic_vhd(&base, "fitdiff-base");
            std::fs::write(dir.join("base.vhd"), parent.build()).unwrap();
            let mut c = DiskBuilder::differencing(&parent.parent_ref("base.vhd"), 2 << 20);
            for (k, (a, b)) in child.chunks(4096).zip(base.chunks(4096)).enumerate() {
                if a != b {
                    c.write(k as u64 * 4096, a);
                }
            }
            std::fs::write(&file, c.build()).unwrap();
        }
        Kind::VhdxChild => {
            std::fs::write(dir.join("base.vhdx"), vhdx(&base, 0x21, VhdxKind::Dynamic, None)).unwrap();
            let c = VhdxBuilder::new(SIZE).child_of(Guid([0x21; 16]), "base.vhdx");
            std::fs::write(&file, vhdx(&child, 0x22, c.kind, Some(&base))).unwrap();
        }
    }
    (file, if kind.child() { child } else { base })
}

/// What the checks found that they should not have, all of them (so that one run lists every
/// disagreement).
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }

    /// `got` is `want` outside the ranges `skip`; the first difference named.
    fn same(&mut self, what: &str, got: &[u8], want: &[u8], skip: &[Range<u64>]) {
        if got.len() != want.len() {
            self.0.push(format!("{what}: {} bytes, expected {}", got.len(), want.len()));
            return;
        }
        // The pieces between the skipped ranges, compared a slice at a time.
        let mut cuts: Vec<(usize, usize)> =
            skip.iter().map(|r| ((r.start as usize).min(got.len()), (r.end as usize).min(got.len()))).collect();
        cuts.sort();
        let (mut at, mut pieces) = (0, Vec::new());
        for (start, end) in cuts {
            if start > at {
                pieces.push(at..start);
            }
            at = at.max(end);
        }
        pieces.push(at..got.len());
        for p in pieces {
            if got[p.clone()] != want[p.clone()] {
                let i = p.clone().find(|i| got[*i] != want[*i]).unwrap();
                self.0.push(format!("{what}: first difference at byte {i} (read {:#04x}, expected {:#04x})", got[i], want[i]));
                return;
            }
        }
    }

    fn done(self, what: &str) {
        assert!(self.0.is_empty(), "{what}: {} disagreements:\n- {}", self.0.len(), self.0.join("\n- "));
    }
}

/// The disk as `qemu-img convert -O raw` reads it.
fn qemu_read(file: &Path, fmt: &str) -> Result<Vec<u8>, String> {
    let out = file.with_extension(format!("{fmt}.qemu.raw"));
    let o = output(Command::new("qemu-img").args(["convert", "-f", fmt, "-O", "raw"]).arg(file).arg(&out));
    if !o.status.success() {
        return Err(stderr(&o));
    }
    let bytes = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    Ok(bytes)
}

/// `qemu-img info --output=json`'s virtual size.
fn qemu_size(file: &Path, fmt: &str) -> Result<u64, String> {
    let o = output(Command::new("qemu-img").args(["info", "--output=json", "-f", fmt]).arg(file));
    if !o.status.success() {
        return Err(stderr(&o));
    }
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    Ok(j["virtual-size"].as_u64().unwrap())
}

/// What `tool ARGS` prints about a raw disk of `ss`-byte sectors. sgdisk and sfdisk take a
/// file's sectors to be 512 bytes (sgdisk then finds no GPT on a disk of 4096-byte sectors, and
/// says "No problems found"): such a disk is shown to them as a read-only loop device of those
/// sectors.
fn on_disk(tool: &str, args: &[&str], raw: &[u8], ss: u64, dir: &Path) -> Result<String, String> {
    let file = dir.join("disk.raw");
    std::fs::write(&file, raw).unwrap();
    let said = if ss == 512 {
        stdout(&output(Command::new(tool).args(args).arg(&file)))
    } else {
        let o = output(Command::new("losetup").args(["--sector-size", &ss.to_string(), "-r", "-f", "--show"]).arg(&file));
        if !o.status.success() {
            return Err(format!("no loop device for a disk of {ss}-byte sectors: {}", stderr(&o).trim()));
        }
        let dev = stdout(&o).trim().to_string();
        let said = stdout(&output(Command::new(tool).args(args).arg(&dev)));
        run_ok(Command::new("losetup").arg("-d").arg(&dev));
        said
    };
    std::fs::remove_file(&file).unwrap();
    Ok(said)
}

/// `sgdisk -v`: (no problem found, what it said).
fn sgdisk_verify(raw: &[u8], ss: u64, dir: &Path) -> Result<(bool, String), String> {
    on_disk("sgdisk", &["-v"], raw, ss, dir).map(|said| (said.contains("No problems found"), said))
}

/// The bytes of the last free stretch `sfdisk -F` lists (the space after the last partition).
fn sfdisk_free_at_end(raw: &[u8], ss: u64, dir: &Path) -> Result<Option<u64>, String> {
    let said = on_disk("sfdisk", &["-F"], raw, ss, dir)?;
    let last = said.lines().skip_while(|l| !l.trim_start().starts_with("Start")).skip(1).filter(|l| !l.trim().is_empty()).last();
    Ok(last.and_then(|l| l.split_whitespace().nth(2)).and_then(|n| n.parse::<u64>().ok()).map(|n| n * ss))
}

/// The partitions `fdisk -b SS -l` lists on a raw disk of `ss`-byte sectors: (start, sectors,
/// type). (This sfdisk has no `--sector-size`.)
fn fdisk_parts(raw: &[u8], ss: u64, dir: &Path) -> Vec<(u64, u64, String)> {
    let file = dir.join("fdisk.raw");
    std::fs::write(&file, raw).unwrap();
    let o = output(Command::new("fdisk").args(["-b", &ss.to_string(), "-l", "-o", "Device,Start,Sectors,Type"]).arg(&file));
    std::fs::remove_file(&file).unwrap();
    let listing = stdout(&o);
    let rows = listing.lines().skip_while(|l| !l.starts_with("Device")).skip(1).take_while(|l| !l.trim().is_empty());
    rows.map(|l| {
        let w: Vec<&str> = l.split_whitespace().collect();
        (w[1].parse().unwrap(), w[2].parse().unwrap(), w[3..].join(" "))
    })
    .collect()
}

/// The bytes of a GPT disk of `size` bytes a fix of its backup changes: the protective MBR, the
/// primary header, and the backup (128 entries of 128 bytes and its header) at the end.
fn gpt_moved(ss: u64, size: u64) -> Vec<Range<u64>> {
    let backup = 128 * 128 + ss;
    vec![0..512, ss..2 * ss, size - backup..size]
}

/// Reads an output with every reader and checks it holds `want` (outside `skip`), of `ss`-byte
/// sectors.
fn judge(f: &mut Findings, what: &str, out: &Path, kind: Kind, ss: u64, want: &[u8], skip: &[Range<u64>]) {
    let vhdx = kind.vhdx();
    let fmt = if vhdx { "vhdx" } else { "vpc" };
    let size = want.len() as u64;
    if !out.is_file() {
        f.0.push(format!("{what}: no file written"));
        return;
    }
    // qemu-img opens no VHDX of 4096-byte logical sectors and no differencing VHDX ("Operation
    // not supported").
    let qemu = !(vhdx && (ss == 4096 || kind.child()));
    match qemu_size(out, fmt) {
        _ if !qemu => {}
        Ok(s) => f.check(s == size, || format!("{what}: qemu-img info's virtual size {s}, expected {size}")),
        Err(e) => f.0.push(format!("{what}: qemu-img info failed: {}", e.trim())),
    }
    if qemu && !kind.child() {
        match qemu_read(out, fmt) {
            Ok(b) => f.same(&format!("{what}: qemu-img convert -O raw"), &b, want, skip),
            Err(e) => f.0.push(format!("{what}: qemu-img convert failed: {}", e.trim())),
        }
    }
    if qemu && vhdx {
        let o = output(Command::new("qemu-img").args(["check", "-f", "vhdx"]).arg(out));
        f.check(o.status.success(), || format!("{what}: qemu-img check: {}{}", stdout(&o).trim(), stderr(&o).trim()));
    }
    let o = output(Command::new("7zz").args(["x", if vhdx { "-tVHDX" } else { "-tVHD" }, "-so"]).arg(out));
    let odd = |n: u64| (n / ss) % 2 == 1;
    let read = o.stdout.len();
    if o.status.success() {
        f.same(&format!("{what}: 7zz x -so"), &o.stdout, want, skip);
    } else if vhdx && (odd(size) || (kind.child() && odd(SIZE))) {
        // 7-Zip opens no VHDX of an odd number of logical sectors, nor a child of one ("Cannot
        // open the file as [VHDX] archive", "Unsupported Method"; MS-VHDX asks only for whole
        // logical sectors).
    } else if kind.child() && size > SIZE && read >= (SIZE / MIB * MIB) as usize && read < want.len() {
        // 7-Zip reads a child larger than its parent only as far as the parent goes, then
        // stops ("Unexpected end of data", or "Data Error" within the parent's last block):
        // what it wrote by then must be right.
        eprintln!("NOTE {what}: 7zz stops after {read} of {} bytes ({})", want.len(), stderr(&o).trim().replace('\n', " "));
        f.same(&format!("{what}: 7zz x -so (as far as it reads)"), &o.stdout, &want[..read], skip);
    } else {
        f.0.push(format!("{what}: 7zz failed: {}", stderr(&o).trim()));
    }
    let o = cli(&["cat", out.to_str().unwrap()]);
    if o.status.success() {
        f.same(&format!("{what}: vhd-viewer cat"), &o.stdout, want, skip);
    } else {
        f.0.push(format!("{what}: vhd-viewer cat failed: {}", stderr(&o).trim()));
    }
    let o = cli(&["check", out.to_str().unwrap()]);
    f.check(o.status.success(), || format!("{what}: vhd-viewer check ({}): {}{}", o.status, stdout(&o).trim(), stderr(&o).trim()));
    let v = vhdiinfo(out);
    let media = v.get("Media size").map(|m| vhdi_media_size(m));
    // libvhdi sizes a VHD by its footer's original size (tests/known_defects.rs), which a resized
    // VHD keeps, as the specification has it ("at creation time").
    let original = (!vhdx).then(|| {
        let bytes = std::fs::read(out).unwrap();
        get64(&bytes[bytes.len() - 512..], f::ORIGINAL_SIZE)
    });
    match media {
        Some(m) if m != size && Some(m) == original => {
            eprintln!("NOTE {what}: vhdiinfo's media size {m} is the footer's original size, not its current size {size}")
        }
        _ => f.check(media == Some(size), || format!("{what}: vhdiinfo's media size {media:?}, expected {size}")),
    }
    let bps = v.get("Bytes per sector").cloned();
    f.check(bps.as_deref() == Some(&format!("{ss} bytes")), || format!("{what}: vhdiinfo's bytes per sector {bps:?}, expected {ss}"));
}

/// Runs the command line, returning its status and what it said.
fn run(args: &[&str]) -> (i32, String) {
    let o = cli(args);
    (o.status.code().unwrap_or(-1), format!("{}{}", stdout(&o), stderr(&o)))
}

/// Every case of one kind, scheme and sector size, in a folder of its own.
fn case(f: &mut Findings, kind: Kind, scheme: Scheme, ss: u64) {
    let name = format!("{kind:?}-{scheme:?}-{ss}");
    let dir = scratch(&format!("fitdiff-{name}"));
    let (file, disk) = input(kind, scheme, ss, &dir);
    let inp = file.to_str().unwrap();
    let ext = kind.ext();
    let out = |n: &str| dir.join(format!("{n}.{ext}"));
    let padded = |len: u64| {
        let mut v = disk.clone();
        v.resize(len as usize, 0);
        v
    };
    let parts_in = fdisk_parts(&disk, ss, &dir);
    // The input as read by the others first: the grid's disks must be what they say.
    judge(f, &format!("{name}: the input"), &file, kind, ss, &disk, &[]);

    // Grown (the GPT's backup moved to the new end).
    let grown = out("grown");
    let (code, said) = run(&["resize", inp, grown.to_str().unwrap(), "--size", &GROWN.to_string(), "--json"]);
    f.check(code == 0, || format!("{name}: resize --size {GROWN} ended with {code}: {said}"));
    let want = padded(GROWN);
    // The space it says is left after the last partition, as sfdisk -F finds it.
    if scheme != Scheme::None && code == 0 {
        let plan: serde_json::Value = serde_json::from_str(&said).unwrap_or_else(|e| panic!("{name}: resize --json: {e}: {said}"));
        let ours = plan["report"]["unpartitioned_bytes"].as_u64();
        match sfdisk_free_at_end(&viewer_cat(&grown, &[]), ss, &dir) {
            Ok(theirs) => {
                f.check(ours.is_some() && ours == theirs, || format!("{name}: grown: unpartitioned_bytes {ours:?}, sfdisk -F {theirs:?}"))
            }
            Err(e) => eprintln!("SKIPPED sfdisk -F of {name}: {e}"),
        }
    }
    let skip = if scheme == Scheme::Gpt { [gpt_moved(ss, GROWN), gpt_moved(ss, SIZE)].concat() } else { vec![] };
    judge(f, &format!("{name}: grown"), &grown, kind, ss, &want, &skip);
    if scheme == Scheme::Gpt && grown.is_file() {
        gpt_fixed(f, &format!("{name}: grown"), &grown, ss, &disk, &parts_in, &dir);
    }

    // Grown, the GPT left as it was: every byte kept, and sgdisk finds the backup misplaced.
    if scheme == Scheme::Gpt {
        let kept = out("grown-nofix");
        let (code, said) = run(&["resize", inp, kept.to_str().unwrap(), "--size", &GROWN.to_string(), "--no-gpt-fix"]);
        f.check(code == 0, || format!("{name}: resize --no-gpt-fix ended with {code}: {said}"));
        judge(f, &format!("{name}: grown --no-gpt-fix"), &kept, kind, ss, &want, &[]);
        match sgdisk_verify(&want, ss, &dir) {
            Ok((clean, said)) => {
                f.check(!clean, || format!("{name}: sgdisk -v finds nothing wrong with a GPT whose backup is not at the end: {said}"))
            }
            Err(e) => eprintln!("SKIPPED sgdisk -v of {name}: {e}"),
        }
    }

    // Shrunk, everything still inside.
    let shrunk = out("shrunk");
    let (code, said) = run(&["resize", inp, shrunk.to_str().unwrap(), "--size", &SHRUNK.to_string()]);
    f.check(code == 0, || format!("{name}: resize --size {SHRUNK} ended with {code}: {said}"));
    let skip = if scheme == Scheme::Gpt { gpt_moved(ss, SHRUNK) } else { vec![] };
    judge(f, &format!("{name}: shrunk"), &shrunk, kind, ss, &disk[..SHRUNK as usize], &skip);
    if scheme == Scheme::Gpt && shrunk.is_file() {
        gpt_fixed(f, &format!("{name}: shrunk"), &shrunk, ss, &disk, &parts_in, &dir);
    }

    // Shrunk past the partition (or the whole-disk file system): refused, nothing written.
    refused(f, &name, inp, &out("too-small"), TOO_SMALL);

    // Shrunk to the smallest size it allows: the partition (and a GPT's backup after it) ending
    // at the new end; a sector less is refused.
    let least = PART_END + if scheme == Scheme::Gpt { 128 * 128 + ss } else { 0 };
    let tight = out("least");
    let (code, said) = run(&["resize", inp, tight.to_str().unwrap(), "--size", &least.to_string()]);
    f.check(code == 0, || format!("{name}: resize to the smallest size, {least}, ended with {code}: {said}"));
    let skip = if scheme == Scheme::Gpt { gpt_moved(ss, least) } else { vec![] };
    judge(f, &format!("{name}: shrunk to {least}"), &tight, kind, ss, &disk[..least as usize], &skip);
    if scheme == Scheme::Gpt && tight.is_file() {
        gpt_fixed(f, &format!("{name}: shrunk to {least}"), &tight, ss, &disk, &parts_in, &dir);
    }
    refused(f, &name, inp, &out("least-minus-one"), least - ss);

    // Azure: a fixed VHD of a whole MiB; the input fails check --for azure, the copy passes.
    let (code, said) = run(&["check", "--for", "azure", inp]);
    f.check(code == 1, || format!("{name}: check --for azure of the input ended with {code}, not 1: {said}"));
    let azure = dir.join("azure.vhd");
    let (code, said) = run(&["convert", "--for", "azure", inp, azure.to_str().unwrap()]);
    // A table that counts 4096-byte sectors cannot go into a VHD (azure_copy_keeps_the_partitions).
    let refused = ss != 512 && scheme != Scheme::None;
    f.check(code == if refused { 2 } else { 0 }, || format!("{name}: convert --for azure ended with {code}: {said}"));
    if azure.is_file() {
        let (code, said) = run(&["check", "--for", "azure", azure.to_str().unwrap()]);
        f.check(code == 0, || format!("{name}: check --for azure of the copy ended with {code}: {said}"));
        let img = Image::read(&azure);
        f.check(img.len() == AZURE + 512, || format!("{name}: the Azure copy is {} bytes, expected {}", img.len(), AZURE + 512));
        let foot = &img.bytes[img.footer_at()..];
        let (cur, orig, ty) = (get64(foot, f::CURRENT_SIZE), get64(foot, f::ORIGINAL_SIZE), get32(foot, f::DISK_TYPE));
        f.check(cur == AZURE && orig == AZURE && ty == 2, || {
            format!("{name}: the Azure copy's footer: current {cur}, original {orig}, type {ty}")
        });
        // Its sectors are 512 bytes whatever the input's: a disk of 4096-byte sectors (with no
        // table here) is judged as bytes.
        judge(f, &format!("{name}: convert --for azure"), &azure, Kind::VhdFixed, 512, &padded(AZURE), &[]);
        if scheme == Scheme::Gpt && ss == 512 {
            if let Ok((clean, _)) = sgdisk_verify(&padded(AZURE), 512, &dir) {
                eprintln!(
                    "NOTE {name}: the Azure copy's GPT (backup kept where it was): sgdisk -v {}",
                    if clean { "clean" } else { "finds the backup misplaced" }
                );
            }
        }
    }
}

/// `resize` to `size`, past the partition or file system ending at [`PART_END`]: refused with
/// status 2, naming where it ends, no file left.
fn refused(f: &mut Findings, name: &str, inp: &str, out: &Path, size: u64) {
    let (code, said) = run(&["resize", inp, out.to_str().unwrap(), "--size", &size.to_string()]);
    f.check(code == 2, || format!("{name}: resize to {size} ended with {code}, not 2: {said}"));
    f.check(said.contains(&PART_END.to_string()) || said.contains(&(PART_END - 1).to_string()), || {
        format!("{name}: the refusal of {size} does not name the byte where the partition ends ({PART_END}): {said}")
    });
    let stem = out.file_stem().unwrap().to_string_lossy().into_owned();
    let left: Vec<_> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("{stem}.")) || n.starts_with(&format!(".{stem}")))
        .collect();
    f.check(left.is_empty(), || format!("{name}: the refused resize to {size} left {left:?}"));
}

/// A GPT fixed by `resize`: `sgdisk -v` finds nothing wrong, the partitions are the input's, and
/// the protective MBR covers the new disk; grown, the old backup is either left or zeroed.
fn gpt_fixed(f: &mut Findings, what: &str, out: &Path, ss: u64, was: &[u8], parts_in: &[(u64, u64, String)], dir: &Path) {
    let o = cli(&["cat", out.to_str().unwrap()]);
    if !o.status.success() {
        return; // judged already
    }
    let raw = o.stdout;
    match sgdisk_verify(&raw, ss, dir) {
        Ok((clean, said)) => f.check(clean, || format!("{what}: sgdisk -v: {said}")),
        Err(e) => eprintln!("SKIPPED sgdisk -v of {what}: {e}"),
    }
    let parts = fdisk_parts(&raw, ss, dir);
    f.check(parts.len() == 1 && parts == parts_in, || format!("{what}: fdisk lists {parts:?}, the input {parts_in:?}"));
    let size = raw.len() as u64;
    let old = gpt_moved(ss, was.len() as u64)[2].clone();
    if size > was.len() as u64 {
        let (now, then) = (&raw[old.start as usize..old.end as usize], &was[old.start as usize..old.end as usize]);
        let zeroed = now.iter().all(|x| *x == 0);
        f.check(zeroed || now == then, || format!("{what}: the old backup GPT ({old:?}) is neither kept nor zeroed"));
        eprintln!("NOTE {what}: the old backup GPT is {}", if zeroed { "zeroed" } else { "left where it was" });
    }
    let mbr_size = u64::from(get32(&raw, 446 + 12).swap_bytes());
    let expect = (size / ss - 1).min(0xffff_ffff);
    f.check(mbr_size == expect, || format!("{what}: the protective MBR's size is {mbr_size} sectors, expected {expect}"));
}

fn grid(kinds: &[Kind], ss: u64) {
    let mut f = Findings::default();
    for kind in kinds {
        for scheme in [Scheme::None, Scheme::Mbr, Scheme::Gpt] {
            case(&mut f, *kind, scheme, ss);
        }
    }
    f.done(&format!("{kinds:?}, {ss}-byte sectors"));
}

#[test]
fn vhd() {
    grid(&[Kind::VhdFixed, Kind::VhdDynamic, Kind::VhdChild], 512);
}

#[test]
fn vhdx_512() {
    grid(&[Kind::VhdxDynamic, Kind::VhdxFixed, Kind::VhdxChild], 512);
}

#[test]
fn vhdx_4096() {
    grid(&[Kind::VhdxDynamic, Kind::VhdxFixed, Kind::VhdxChild], 4096);
}

/// The partitions of an Azure copy are the input's, in bytes. A VHD's sectors are 512 bytes, so
/// a disk whose MBR or GPT counts 4096-byte sectors cannot be copied into one without its tables
/// naming the wrong bytes: that copy is refused (`sector-size-change`, exit 2, no file), and
/// so is `convert --to vhdx --sector-size 512` of it, while the 4096-byte VHDX copy is written.
#[test]
fn azure_copy_keeps_the_partitions() {
    let mut f = Findings::default();
    for ss in [512, 4096] {
        for scheme in [Scheme::Mbr, Scheme::Gpt] {
            let name = format!("VhdxDynamic-{scheme:?}-{ss}");
            let dir = scratch(&format!("fitdiff-parts-{name}"));
            let (file, disk) = input(Kind::VhdxDynamic, scheme, ss, &dir);
            let azure = dir.join("azure.vhd");
            let (code, said) = run(&["convert", "--for", "azure", file.to_str().unwrap(), azure.to_str().unwrap()]);
            if ss == 4096 {
                f.check(code == 2 && said.contains("4096-byte sectors") && !azure.exists(), || {
                    format!("{name}: convert --for azure of a disk whose table counts 4096-byte sectors ended with {code} (a file written: {}): {said}", azure.exists())
                });
                let other = dir.join("512.vhdx");
                let (code, said) =
                    run(&["convert", "--to", "vhdx", "--sector-size", "512", file.to_str().unwrap(), other.to_str().unwrap()]);
                f.check(code == 2 && said.contains("sector") && !other.exists(), || {
                    format!("{name}: convert --sector-size 512 ended with {code}: {said}")
                });
                let same = dir.join("4096.vhdx");
                let (code, said) = run(&["convert", "--to", "vhdx", file.to_str().unwrap(), same.to_str().unwrap()]);
                f.check(code == 0, || format!("{name}: convert --to vhdx (its own sectors) ended with {code}: {said}"));
                continue;
            }
            f.check(code == 0, || format!("{name}: convert --for azure ended with {code}: {said}"));
            let bytes = |p: Vec<(u64, u64, String)>, ss: u64| p.into_iter().map(|(s, n, _)| (s * ss, n * ss)).collect::<Vec<_>>();
            let want = bytes(fdisk_parts(&disk, ss, &dir), ss);
            let copy = viewer_cat(&azure, &[]);
            let got = bytes(fdisk_parts(&copy, 512, &dir), 512);
            f.check(!want.is_empty() && got == want, || {
                format!("{name}: the Azure copy's partitions (bytes) {got:?}, the input's {want:?}")
            });
        }
    }
    f.done("the Azure copies' partitions");
}
