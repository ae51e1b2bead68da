//! exFAT: a data disk made by the real tools (`mkfs.exfat`, files written through `exfat-fuse`
//! by `tests/web/fixtures/make-exfat-vhds.sh`) is listed and read as the driver read it back
//! (every file's sha256 and size, `fsck.exfat -n` clean), as a VHD and a VHDX; names are matched
//! through the up-case table; a deleted file is read while its clusters are free; `owner` names
//! files and structures; `compact --trim` gives back the free clusters and keeps every file (of
//! the VHD and the VHDX, which `qemu-img check` finds clean and whose allocated extents shrink); and
//! damage (boot checksum, FAT loops, absurd entry sets) gives findings and errors, not panics;
//! the times of a directory's entries are read with its listing (bytes read grow linearly with
//! the number of files, not as its square).

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use vhd_viewer::fs::{walk, EntryKind, FileData, FileSystem};
use vhd_viewer::parts;

/// The fixture's folder, or `None` (with the reason printed) where this machine refuses a loop
/// device or FUSE.
fn fixture() -> Option<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run_ok(Command::new(cargo).current_dir(repo()).args(["build", "--quiet", "--example", "vhd_from_raw", "--example", "vhdx_from_raw"]));
    let ex = repo().join("target/debug/examples");
    let script = std::fs::read_to_string(repo().join("tests/web/fixtures/make-exfat-vhds.sh")).unwrap();
    let script = format!("set -- {} {}\n{script}", ex.join("vhd_from_raw").display(), ex.join("vhdx_from_raw").display());
    let dir = script_image("exfat", "data", &script, &[], "done", &["m"]);
    if let Ok(why) = std::fs::read_to_string(dir.join("SKIP")) {
        eprintln!("skipped: {}", why.trim());
        let _ = std::fs::remove_dir_all(&dir);
        return None;
    }
    Some(dir)
}

/// The driver's answer: path → (size, sha256).
fn manifest(dir: &std::path::Path) -> BTreeMap<String, (u64, String)> {
    std::fs::read_to_string(dir.join("manifest.txt"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut it = l.splitn(3, "  ");
            let (sum, size, path) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
            (path.to_string(), (size.parse().unwrap(), sum.to_string()))
        })
        .collect()
}

fn bytes_of(fs: &mut FileSystem, vol: &mut vhd_viewer::fs::Volume<&mut Vec<u8>>, e: &vhd_viewer::fs::Entry) -> Vec<u8> {
    let mut out = Vec::new();
    fs.read(vol, e, None, &mut |b| {
        out.extend_from_slice(b);
        Ok(())
    })
    .unwrap();
    out
}

#[test]
fn a_data_disk_reads_as_the_driver_wrote_it() {
    let Some(dir) = fixture() else { return };
    let mut raw = std::fs::read(dir.join("exfat.raw")).unwrap();
    let t = parts::read(&mut raw).unwrap();
    let p = &t.partitions[0];
    assert_eq!(p.filesystem.map(|k| k.name()), Some("exfat"));
    assert_eq!((p.label.as_deref(), p.cluster_size), (Some("Data Disk"), Some(4096)));
    assert!(p.uuid.as_deref().is_some_and(|u| u.len() == 9 && u.as_bytes()[4] == b'-'), "{:?}", p.uuid);
    assert!(t.findings.is_empty(), "{:?}", t.findings);
    let (mut vol, mut fs) = p.open(&mut raw).unwrap();
    let root = fs.root();
    let mut live = Vec::new();
    let mut deleted = Vec::new();
    walk(&mut fs, &mut vol, &root, true, true, &mut |e| {
        if e.deleted {
            deleted.push(e.clone());
        } else if e.kind == EntryKind::File {
            live.push(e.clone());
        }
        Ok(true)
    })
    .unwrap();
    let mut ours = BTreeMap::new();
    for e in &live {
        let b = bytes_of(&mut fs, &mut vol, e);
        assert_eq!(b.len() as u64, e.size, "{}", e.path);
        ours.insert(e.path.clone(), (e.size, sha256(&b)));
    }
    assert_eq!(ours, manifest(&dir), "every file, its size and its bytes, as the driver read them back");
    // The fragmented file: more than one run; a contiguous one is NoFatChain.
    let frag = live.iter().find(|e| e.path == "/fragmented.bin").unwrap();
    assert!(fs.data(&mut vol, frag, None).unwrap().runs().len() > 1, "fragmented.bin is in pieces");
    let cont = live.iter().find(|e| e.path == "/contiguous.bin").unwrap();
    assert!(cont.attributes.contains(&"contiguous") && fs.data(&mut vol, cont, None).unwrap().runs().len() == 1);
    // The deleted file: listed, its bytes whole while its clusters are free.
    let gone = deleted.iter().find(|e| e.path == "/deleted.bin").expect("the deleted file is listed");
    let want = std::fs::read_to_string(dir.join("deleted.txt")).unwrap();
    assert_eq!(sha256(&bytes_of(&mut fs, &mut vol, gone)), want.trim());
    // Names through the up-case table: non-ASCII letters in the other case find the file.
    let e = fs.lookup(&mut vol, "/ÜNÏCØDÉ ✓ NÄME WITH A RATHER LONG NAME PAST FIFTEEN CHARACTERS.TXT", false).unwrap();
    assert_eq!(e.path, "/Ünïcødé ✓ näme with a rather long name past fifteen characters.txt");
    assert!(fs.lookup(&mut vol, "/deep/A/b/C/d/E/BOTTOM FILE.txt", false).is_ok());
    // Times: created, modified and accessed, all set, modified as listed.
    let times = fs.times(&mut vol, frag).unwrap();
    assert!(times.created.is_some() && times.accessed.is_some() && times.modified == frag.modified, "{times:?}");
    assert!(frag.modified.unwrap() > 1_700_000_000);
}

#[test]
fn the_command_line_reads_the_vhd_and_the_vhdx_alike() {
    let Some(dir) = fixture() else { return };
    let (vhd, vhdx) = (dir.join("exfat.vhd"), dir.join("exfat.vhdx"));
    let ls = |f: &PathBuf| vv(&["ls", "-r", "--deleted", "--json", "--partition", "1", p(f)], 0);
    let a = ls(&vhd);
    assert_eq!(a, ls(&vhdx));
    assert!(a.contains("\"path\":\"/deleted.bin\"") && a.contains("\"deleted\":true"));
    let man = manifest(&dir);
    let got = run_ok(Command::new(bin()).args(["get", "--partition", "1", p(&vhdx), "/fragmented.bin"]));
    assert_eq!(sha256(&got.stdout), man["/fragmented.bin"].1);
    // parts --json: the label, cluster size and where cluster 2 starts.
    let parts: serde_json::Value = serde_json::from_str(&vv(&["parts", "--json", p(&vhd)], 0)).unwrap();
    let part = &parts["partitions"][0];
    assert_eq!(
        (part["filesystem"].as_str(), part["label"].as_str(), part["cluster_size"].as_u64()),
        (Some("exfat"), Some("Data Disk"), Some(4096))
    );
    assert!(part["data_offset"].as_u64().unwrap() > 0);
    // owner: a sector of the FAT, and one of a file.
    let data_offset = part["data_offset"].as_u64().unwrap();
    let raw = std::fs::read(dir.join("exfat.raw")).unwrap();
    let boot = &raw[2048 * 512..2049 * 512];
    let fat_sector = 2048 + u64::from(le32(boot, 80));
    let o = vv(&["owner", p(&vhd), &fat_sector.to_string()], 0);
    assert!(o.contains("FAT 1"), "{o}");
    let ls_json: Vec<serde_json::Value> = a.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let small = ls_json.iter().find(|e| e["path"] == "/small.bin").unwrap();
    let first = small["id"].as_u64().unwrap();
    let sector = 2048 + (data_offset + (first - 2) * 4096) / 512 + 1;
    let o = vv(&["owner", p(&vhd), &sector.to_string()], 0);
    assert!(o.contains("/small.bin"), "{o}");
}

#[test]
fn diff_names_what_the_child_changed() {
    let Some(dir) = fixture() else { return };
    let out = vv(&["diff", p(&dir.join("child.vhd"))], 0);
    // Each path under its heading, the headings in this order.
    let at = |what: &str| out.find(what).unwrap_or_else(|| panic!("no {what:?}: {out}"));
    assert!(at("  added (1)") < at("/new.txt") && at("/new.txt") < at("  deleted (1)"), "{out}");
    assert!(at("  deleted (1)") < at("/small.bin") && at("/small.bin") < at("  modified (1)"), "{out}");
    assert!(at("  modified (1)") < at("/hello.txt  (was 6 bytes)"), "{out}");
    assert!(out.contains("allocation bitmap"), "the bitmap is named as the file system's own: {out}");
}

#[test]
fn compact_trim_gives_back_free_clusters_and_keeps_the_files() {
    let Some(dir) = fixture() else { return };
    let out = scratch("exfat-trim");
    let _ = std::fs::create_dir_all(&out);
    let ls = |f: &PathBuf| vv(&["ls", "-r", "--json", "--partition", "1", p(f)], 0);
    for ext in ["vhd", "vhdx"] {
        let src = dir.join(format!("exfat.{ext}"));
        let (plain, trimmed) = (out.join(format!("plain.{ext}")), out.join(format!("trimmed.{ext}")));
        vv(&["compact", p(&src), p(&plain)], 0);
        let report = vv(&["compact", "--trim", p(&src), p(&trimmed)], 0);
        assert!(!report.contains("kept as it is"), "{report}");
        let (a, b) = (std::fs::metadata(&plain).unwrap().len(), std::fs::metadata(&trimmed).unwrap().len());
        assert!(b + (4 << 20) <= a, "{ext}: trimmed {b} bytes, untrimmed {a}");
        if ext == "vhdx" {
            let (before, after) = (vhdx_allocated_blocks(&src), vhdx_allocated_blocks(&trimmed));
            // The 6 MB deleted: at least four whole 1 MiB blocks.
            assert!(after + 4 <= before, "{before} blocks allocated before, {after} after");
        }
        assert_eq!(ls(&trimmed), ls(&src));
        for (path, (_, sum)) in manifest(&dir) {
            let got = run_ok(Command::new(bin()).args(["get", "--partition", "1", p(&trimmed), &path]));
            assert_eq!(&sha256(&got.stdout), &sum, "{ext} {path}");
        }
    }
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn put_le32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Where the allocation bitmap of the volume `img` starts (its entry in the root's first cluster).
fn bitmap_at(img: &[u8]) -> usize {
    let heap = u64::from(le32(img, 88)) * 512;
    let root_at = (heap + (u64::from(le32(img, 96)) - 2) * 4096) as usize;
    let bitmap_entry = (0..128).map(|k| root_at + 32 * k).find(|&at| img[at] == 0x81).expect("a bitmap entry");
    (heap + (u64::from(le32(img, bitmap_entry + 20)) - 2) * 4096) as usize
}

/// The partition's bytes of the fixture.
fn volume(dir: &std::path::Path) -> Vec<u8> {
    let raw = std::fs::read(dir.join("exfat.raw")).unwrap();
    raw[2048 * 512..].to_vec()
}

#[test]
fn damage_gives_findings_and_errors_never_a_panic() {
    let Some(dir) = fixture() else { return };
    let good = volume(&dir);
    let open = |img: &mut Vec<u8>| -> vhd_viewer::Result<FileSystem> {
        let mut vol = vhd_viewer::fs::Volume::whole(img);
        Ok(FileSystem::open(&mut vol)?.expect("exFAT"))
    };
    // A byte of the main boot region changed: its checksum fails; the backup is read.
    let mut img = good.clone();
    img[0x200 + 7] ^= 0xFF;
    let FileSystem::ExFat(x) = open(&mut img).unwrap() else { panic!("not exFAT") };
    assert_eq!(x.findings().iter().map(|f| (f.code, f.offset)).collect::<Vec<_>>(), [("exfat-boot-checksum", Some(11 * 512))]);
    assert!(x.findings()[0].message.contains("backup boot region is whole"));
    // The fragmented file's chain made to loop back to its first cluster.
    let mut img = good.clone();
    let (fat, heap) = (u64::from(le32(&img, 80)) * 512, u64::from(le32(&img, 88)) * 512);
    let mut fs = open(&mut img).unwrap();
    let mut vol = vhd_viewer::fs::Volume::whole(&mut img);
    let frag = fs.lookup(&mut vol, "/fragmented.bin", false).unwrap();
    let FileData::Runs { runs, .. } = fs.data(&mut vol, &frag, None).unwrap() else { panic!() };
    let last_cluster = (runs[0].volume_offset.unwrap() + runs[0].len - heap) / 4096 + 2 - 1;
    drop(vol);
    put_le32(&mut img, (fat + 4 * last_cluster) as usize, frag.id as u32);
    let mut vol = vhd_viewer::fs::Volume::whole(&mut img);
    let e = fs.data(&mut vol, &frag, None).unwrap_err();
    assert_eq!(e.code(), "fat-chain-loop", "{e}");
    assert!(e.to_string().contains(&format!("at byte {:#x}", fat)), "{e}");
    // Every entry of the root made a file entry claiming 18 secondaries: listed without panic.
    let mut img = good.clone();
    let root = u64::from(le32(&img, 96));
    let at = (heap + (root - 2) * 4096) as usize;
    for k in 0..128 {
        img[at + 32 * k] = 0x85;
        img[at + 32 * k + 1] = 18;
    }
    if let Ok(mut fs) = open(&mut img) {
        let mut vol = vhd_viewer::fs::Volume::whole(&mut img);
        let r = fs.root();
        assert!(fs.list(&mut vol, &r, true).unwrap().is_empty());
    }
    // The deleted file's first cluster marked in use again in the bitmap: its data is gone.
    let mut img = good.clone();
    let bitmap_at = bitmap_at(&img);
    let mut fs = open(&mut img).unwrap();
    let mut vol = vhd_viewer::fs::Volume::whole(&mut img);
    let gone = fs.lookup(&mut vol, "/deleted.bin", true).unwrap();
    assert!(gone.deleted);
    drop(vol);
    let bit = gone.id as usize - 2;
    img[bitmap_at + bit / 8] |= 1 << (bit % 8);
    let mut vol = vhd_viewer::fs::Volume::whole(&mut img);
    let e = fs.data(&mut vol, &gone, None).unwrap_err();
    assert!(e.code() == "exfat-damaged" && e.to_string().contains(&format!("cluster {} is in use again", gone.id)), "{e}");
    // A heap claimed larger than the volume: refused, naming the boot sector.
    let mut img = good.clone();
    put_le32(&mut img, 92, u32::MAX - 20);
    let e = open(&mut img).err().expect("refused");
    assert!(e.to_string().contains("cluster count (byte 92)"), "{e}");
}

#[test]
fn a_deleted_fragmented_file_is_read_by_its_chain_only_while_the_fat_holds_it() {
    let Some(dir) = fixture() else { return };
    let open = |img: &mut Vec<u8>| -> FileSystem { FileSystem::open(&mut vhd_viewer::fs::Volume::whole(img)).unwrap().expect("exFAT") };
    // exfat-fuse cleared its FAT chain on delete: no bytes, the reason said.
    let mut img = volume(&dir);
    let mut fs = open(&mut img);
    let mut vol = vhd_viewer::fs::Volume::whole(&mut img);
    let gone = fs.lookup(&mut vol, "/frag-deleted.bin", true).unwrap();
    // Its set's checksum is the one written while it was in use (InUse bits set).
    assert!(gone.deleted && !gone.attributes.contains(&"contiguous") && gone.size == 140_000, "{gone:?}");
    assert!(!gone.attributes.contains(&"bad-set-checksum"), "{gone:?}");
    let e = fs.data(&mut vol, &gone, None).unwrap_err();
    assert!(
        e.to_string().contains(&format!("its FAT chain (from cluster {}) was cleared", gone.id))
            && e.to_string().contains("cannot be recovered"),
        "{e}"
    );
    let out = cli(&["get", "--partition", "1", p(&dir.join("exfat.vhd")), "/frag-deleted.bin"]);
    assert!(!out.status.success() && out.stdout.is_empty() && stderr(&out).contains("cannot be recovered"), "{}", stderr(&out));
    // A delete that leaves the FAT as it was (Windows'): the live fragmented.bin's entry set
    // marked not in use and its clusters freed in the bitmap. Read by its chain: the bytes written.
    let mut img = volume(&dir);
    let bitmap = bitmap_at(&img);
    let mut fs = open(&mut img);
    let mut vol = vhd_viewer::fs::Volume::whole(&mut img);
    let frag = fs.lookup(&mut vol, "/fragmented.bin", false).unwrap();
    let FileData::Runs { runs, .. } = fs.data(&mut vol, &frag, None).unwrap() else { panic!() };
    assert!(runs.len() > 1 && !frag.attributes.contains(&"contiguous"));
    let heap = u64::from(le32(&img, 88)) * 512;
    let clusters: Vec<u64> =
        runs.iter().flat_map(|r| (0..r.len / 4096).map(move |k| (r.volume_offset.unwrap() - heap) / 4096 + 2 + k)).collect();
    let stream = frag.entry_offset.unwrap() as usize;
    let file_entry = stream - 32;
    assert_eq!((img[file_entry], img[stream]), (0x85, 0xC0));
    for k in 0..=usize::from(img[file_entry + 1]) {
        img[file_entry + 32 * k] &= 0x7F;
    }
    for &c in &clusters {
        img[bitmap + (c as usize - 2) / 8] &= !(1 << ((c - 2) % 8));
    }
    let mut fs = open(&mut img);
    let mut vol = vhd_viewer::fs::Volume::whole(&mut img);
    let e = fs.lookup(&mut vol, "/fragmented.bin", true).unwrap();
    assert!(e.deleted, "{e:?}");
    assert_eq!(sha256(&bytes_of(&mut fs, &mut vol, &e)), manifest(&dir)["/fragmented.bin"].1);
    // One of its later clusters in use again: its data is gone.
    let c = *clusters.last().unwrap();
    drop(vol);
    img[bitmap + (c as usize - 2) / 8] |= 1 << ((c - 2) % 8);
    let mut vol = vhd_viewer::fs::Volume::whole(&mut img);
    let err = fs.data(&mut vol, &e, None).unwrap_err();
    assert!(err.to_string().contains(&format!("cluster {c} is in use again")), "{err}");
}

/// A bare exFAT volume (no partition table) with `/Few` (200 empty files) and `/Lots` (2,000),
/// written through exfat-fuse; SKIP where the machine refuses a loop device or FUSE.
const MANY: &str = r#"set -euo pipefail
export LC_ALL=C TZ=UTC
truncate -s 16M p.img
mkfs.exfat -c 4096 p.img >/dev/null
mkdir -p m
loop=$(losetup -f --show p.img 2>/dev/null) || { echo "no loop device: losetup refused" > SKIP; exit 0; }
if ! mount.exfat-fuse "$loop" m </dev/null >/dev/null 2>&1; then
  losetup -d "$loop"
  echo "exfat-fuse could not mount (no FUSE here?)" > SKIP
  exit 0
fi
cleanup() { umount m 2>/dev/null || true; losetup -d "$loop" 2>/dev/null || true; }
trap cleanup EXIT
mkdir m/Few m/Lots
(cd m/Few && touch $(seq -f 'f%04g' 1 200))
(cd m/Lots && touch $(seq -f 'f%04g' 1 2000))
sync
cleanup
trap - EXIT
touch done
"#;

/// Bytes of an image, counting what is read.
struct Counted {
    raw: Vec<u8>,
    bytes: std::rc::Rc<std::cell::Cell<u64>>,
}

impl vhd_viewer::fs::ReadVirtual for Counted {
    fn size(&self) -> u64 {
        self.raw.len() as u64
    }
    fn sector_size(&self) -> u32 {
        512
    }
    fn read_virtual(&mut self, offset: u64, buf: &mut [u8]) -> vhd_viewer::Result<()> {
        self.bytes.set(self.bytes.get() + buf.len() as u64);
        self.raw.read_virtual(offset, buf)
    }
}

#[test]
fn a_directorys_times_are_read_with_its_listing_linear_in_its_files() {
    use vhd_viewer::fs::ReadVirtual;
    let dir = script_image("exfat", "many", MANY, &[], "done", &["m"]);
    if let Ok(why) = std::fs::read_to_string(dir.join("SKIP")) {
        eprintln!("skipped: {}", why.trim());
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    let bytes = std::rc::Rc::new(std::cell::Cell::new(0));
    let mut src = Counted { raw: std::fs::read(dir.join("p.img")).unwrap(), bytes: bytes.clone() };
    assert_eq!(src.size(), 16 << 20);
    let t = parts::read(&mut src).unwrap();
    let (mut vol, mut fs) = t.partitions[0].open(&mut src).unwrap();
    // Bytes read to list a folder and give every entry's times (as the timeline asks them), and
    // how many times were given.
    let mut read = |path: &str| {
        let before = bytes.get();
        let d = fs.lookup(&mut vol, path, false).unwrap();
        let entries = fs.list(&mut vol, &d, true).unwrap();
        let listed = bytes.get() - before;
        let mut set = 0;
        for e in &entries {
            let t = fs.times(&mut vol, e).unwrap();
            set += usize::from(t.created.is_some() && t.modified.is_some() && t.accessed.is_some());
        }
        (entries.len(), set, listed, bytes.get() - before)
    };
    let (few, few_set, few_listed, few_bytes) = read("/Few");
    let (lots, lots_set, lots_listed, lots_bytes) = read("/Lots");
    assert_eq!((few, few_set, lots, lots_set), (200, 200, 2000, 2000), "every file listed with its three times");
    // The times come with the listing: nothing more is read for them.
    assert_eq!((few_bytes, lots_bytes), (few_listed, lots_listed));
    // Ten times the files, about ten times the bytes (the directory's entry sets), not a hundred.
    assert!(lots_bytes <= 12 * few_bytes, "{lots_bytes} bytes for 2,000 files, {few_bytes} for 200");
    eprintln!("exFAT times: {few_bytes} bytes read for 200 files, {lots_bytes} for 2,000");
}
