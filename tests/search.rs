//! `vhd-viewer search` against `LC_ALL=C grep -obaF` on the flattened disk (`vhd-viewer cat`),
//! and each hit's owner against sleuthkit's `ifind -d` (and `ffind` on FAT): FAT16, NTFS and
//! ext4 through a chain, UTF-16 hits, hits across a 2 MiB block boundary and across a layer
//! boundary, `--only-layer`, the bytes read on a 2040 GiB empty disk, and hostile patterns.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const WORD: &str = "zebracorn";

/// A 64 MiB MBR disk: FAT16 at sector 16384 (8 MiB), NTFS at 32768, ext4 at 65536, the word in
/// files of each (as UTF-16LE in one NTFS file), in a FAT file the child deletes, in freed ext4 blocks,
/// outside the partitions, and across the 2 MiB block boundary at 2 MiB. The child (`child.raw`)
/// adds a FAT file holding it and deletes one, and holds the first half of a hit whose second half the parent
/// holds (at 4 MiB + 4092).
const DISK: &str = r#"
set -e
w=zebracorn
truncate -s 64M base.raw
printf 'label: dos\nstart=16384, size=16384, type=6\nstart=32768, size=32768, type=7\nstart=65536, size=61440, type=83\n' | sfdisk -q base.raw
put() { printf '%s' "$2" | dd of="$3" bs=1 seek="$1" conv=notrunc status=none; }
put $((2*1024*1024 - 4)) "$w" base.raw
put 1000 "before $w the partitions" base.raw
put $((4*1024*1024 + 4096)) "acorn" base.raw
truncate -s 8M fat.img; mkfs.vfat -F 16 -s 1 -n FATVOL -h 16384 fat.img >/dev/null
printf 'a fat file with %s in it\n' "$w" > f1.txt; mcopy -i fat.img f1.txt ::/f1.txt
mmd -i fat.img ::/Sub; { head -c 5000 /dev/zero | tr '\0' 'x'; printf '%s' "$w"; } > f2.txt; mcopy -i fat.img f2.txt ::/Sub/f2.txt
{ head -c 2000 /dev/zero | tr '\0' 'q'; printf 'deleted %s here\n' "$w"; } > gone.txt; mcopy -i fat.img gone.txt ::/gone.txt
truncate -s 16M ntfs.img; mkntfs -F -Q -q -c 4096 -p 32768 -L NTFSVOL ntfs.img >/dev/null 2>&1
{ head -c 9000 /dev/zero | tr '\0' 'y'; printf 'an ntfs file with %s\n' "$w"; } > n1.txt; ntfscp -q -f ntfs.img n1.txt /n1.txt
printf 'wide %s text' "$w" | iconv -f UTF-8 -t UTF-16LE > n2.txt; ntfscp -q -f ntfs.img n2.txt /n2.txt
mkdir -p e/dir; printf 'ext file %s\n' "$w" > e/dir/e1.txt; { head -c 20000 /dev/zero | tr '\0' 'z'; printf '%s' "$w"; } > e/e2.txt
printf 'freed %s\n' "$w" > e/freed.txt
mkfs.ext4 -q -F -b 4096 -L EXTVOL -d e ext.img 30M; debugfs -w -R "rm /freed.txt" ext.img >/dev/null 2>&1
dd if=fat.img of=base.raw bs=512 seek=16384 conv=notrunc status=none
dd if=ntfs.img of=base.raw bs=512 seek=32768 conv=notrunc status=none
dd if=ext.img of=base.raw bs=512 seek=65536 conv=notrunc status=none
cp base.raw child.raw
put $((4*1024*1024 + 4092)) "zebr" child.raw
printf 'the child wrote %s\n' "$w" > c1.txt; mcopy -i child.raw@@$((16384*512)) c1.txt ::/Sub/c1.txt; mdel -i child.raw@@$((16384*512)) ::/gone.txt
"$VFR" dynamic base.raw base.vhd
"$VFR" child base.raw base.vhd child.raw child.vhd
"#;

/// The folder holding base.vhd, child.vhd and their raw images.
fn disks() -> PathBuf {
    let vfr = vhd_from_raw();
    script_image("search", "chain", &format!("VFR={}\n{DISK}", vfr.display()), &[], "child.vhd", &["e"])
}

/// `search --json` lines.
fn search(vhd: &Path, args: &[&str]) -> (i32, Vec<Value>) {
    let mut all = vec!["search", p(vhd), "--json"];
    all.extend_from_slice(args);
    let o = cli(&all);
    let hits = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"))).collect();
    (o.status.code().unwrap_or(-1), hits)
}

/// `grep -obaF` offsets of `needle` (which may hold any bytes) in `raw`.
fn grep(raw: &Path, needle: &[u8]) -> Vec<u64> {
    let dir = raw.parent().unwrap();
    let pat = dir.join(format!("pattern-{}.bin", fnv(needle)));
    std::fs::write(&pat, needle).unwrap();
    let o = output(Command::new("grep").env("LC_ALL", "C").args(["-obaF", "-f"]).arg(&pat).arg(raw));
    stdout(&o).lines().map(|l| l.split(':').next().unwrap().parse().unwrap()).collect()
}

/// The hits' offsets of one encoding.
fn offsets(hits: &[Value], encoding: &str) -> Vec<u64> {
    hits.iter().filter(|h| h["encoding"] == encoding).map(|h| h["offset"].as_u64().unwrap()).collect()
}

fn utf16(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

#[test]
fn search_finds_what_grep_finds_with_the_owner_ifind_gives() {
    let dir = disks();
    let child = dir.join("child.vhd");
    let flat = scratch("search-flat").join("flat.raw");
    std::fs::write(&flat, viewer_cat(&child, &[])).unwrap();
    assert_eq!(std::fs::read(&flat).unwrap(), std::fs::read(dir.join("child.raw")).unwrap(), "the chain reads as child.raw");
    let (code, hits) = search(&child, &[WORD]);
    assert_eq!(code, 0);
    let grepped = grep(&flat, WORD.as_bytes());
    assert_eq!(offsets(&hits, "utf-8"), grepped, "UTF-8 hits");
    assert_eq!(offsets(&hits, "utf-16le"), grep(&flat, &utf16(WORD)), "UTF-16LE hits");
    assert_eq!(offsets(&hits, "utf-16le").len(), 1, "the NTFS file's wide text");
    assert!(grepped.len() >= 9, "{grepped:?}");
    for h in &hits {
        assert_eq!(h["length"], if h["encoding"] == "utf-8" { 9 } else { 18 }, "{h}");
    }
    let at = |off: u64| hits.iter().find(|h| h["offset"] == off).unwrap_or_else(|| panic!("no hit at {off}"));
    // Across the 2 MiB block boundary of the base, outside any partition.
    let across = at(2 * 1024 * 1024 - 4);
    assert_eq!((across["layer"].as_u64(), &across["owner"]["kind"]), (Some(1), &Value::from("outside")), "{across}");
    // Across the layer boundary: the child holds the first half.
    let layers = at(4 * 1024 * 1024 + 4092);
    assert_eq!(layers["layer"], 0, "{layers}");
    assert_eq!(at(1007)["owner"]["kind"], "outside");

    // Owners against sleuthkit, per partition: (start sector, data unit size).
    let parts = [(16384u64, 512u64, "fat"), (32768, 4096, "ntfs"), (65536, 4096, "ext")];
    let mut checked = 0;
    for h in &hits {
        let off = h["offset"].as_u64().unwrap();
        let owner = &h["owner"];
        let Some(&(start, unit, fs)) = parts.iter().rev().find(|(s, _, _)| off >= s * 512 && h["partition"].is_u64()) else {
            continue;
        };
        let du = (off - start * 512) / unit;
        let o = output(Command::new("ifind").args(["-o", &start.to_string(), "-d", &du.to_string()]).arg(&flat));
        let found = stdout(&o).trim().to_string();
        let inode = found.split('-').next().unwrap_or("");
        let kind = owner["kind"].as_str().unwrap();
        if !o.status.success() || inode.is_empty() || !inode.chars().all(|c| c.is_ascii_digit()) {
            assert!(kind != "file", "{off} ({fs}): ifind finds no file ({found}), we say {h}");
            checked += 1;
            continue;
        }
        if fs == "fat" {
            let ff = output(Command::new("ffind").args(["-o", &start.to_string()]).arg(&flat).arg(inode));
            let names: Vec<String> = stdout(&ff).lines().map(|l| l.trim_start_matches("* ").replace("//", "/")).collect();
            let path = owner["path"].as_str().unwrap_or_else(|| panic!("{off}: ifind {inode} {names:?}, we say {h}"));
            assert!(names.iter().any(|n| n.eq_ignore_ascii_case(path)), "{off}: we say {path}, ffind {names:?}");
        } else if fs == "ext" && kind == "free" {
            // The ext reader names no deleted inode: sleuthkit names the deleted one whose block
            // pointers still lead here.
            let istat = stdout(&run_ok(Command::new("istat").args(["-o", &start.to_string()]).arg(&flat).arg(inode)));
            assert!(istat.contains("Not Allocated"), "{off}: ifind {inode}, allocated, we say {h}: {istat}");
        } else {
            assert_eq!(owner["id"].as_u64().map(|i| i.to_string()).as_deref(), Some(inode), "{off} ({fs}): ifind {found}, we say {h}");
        }
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} hits checked");
    let kinds: Vec<&str> = hits.iter().map(|h| h["owner"]["kind"].as_str().unwrap()).collect();
    for k in ["file", "deleted file", "outside"] {
        assert!(kinds.contains(&k), "no {k} among {kinds:?}");
    }
    let paths: Vec<&str> = hits.iter().filter_map(|h| h["owner"]["path"].as_str()).collect();
    for p in ["/f1.txt", "/Sub/f2.txt", "/n1.txt", "/dir/e1.txt", "/e2.txt", "/Sub/c1.txt"] {
        assert!(paths.iter().any(|q| q.eq_ignore_ascii_case(p)), "{p} not among {paths:?}");
    }
    // The wide text is resident: in its MFT record, as ifind says (the MFT, record 0).
    let wide = hits.iter().find(|h| h["encoding"] == "utf-16le").unwrap();
    assert_eq!((&wide["owner"]["kind"], &wide["owner"]["what"]), (&Value::from("structure"), &Value::from("MFT record 65 (/n2.txt)")));
    let n1 = hits.iter().find(|h| h["owner"]["path"] == "/n1.txt").unwrap();
    assert_eq!(n1["owner"]["file_offset"], 9000 + "an ntfs file with ".len(), "{n1}");

    // --utf16 alone; --ignore-case; the parent alone (--layer 1) is base.raw.
    let (_, wide) = search(&child, &["--utf16", WORD]);
    assert_eq!(offsets(&wide, "utf-16le"), offsets(&hits, "utf-16le"));
    assert_eq!(wide.len(), 1);
    let (_, upper) = search(&child, &["-i", "ZEBRACORN"]);
    assert_eq!(upper.len(), hits.len());
    let (_, hex) = search(&child, &["--hex", &WORD.bytes().map(|b| format!("{b:02x}")).collect::<String>()]);
    assert_eq!(offsets(&hex, "bytes"), grepped);
    let (_, before) = search(&child, &["--layer", "1", WORD]);
    assert_eq!(offsets(&before, "utf-8"), grep(&dir.join("base.raw"), WORD.as_bytes()));
    assert!(before.iter().all(|h| h["layer"] == 1), "numbered in the whole chain");
}

#[test]
fn only_layer_searches_what_the_layer_holds() {
    let child = disks().join("child.vhd");
    let (_, all) = search(&child, &[WORD]);
    let (_, own) = search(&child, &["--only-layer", "0", WORD]);
    assert!(!own.is_empty());
    assert!(own.iter().all(|h| h["layer"] == 0 && all.contains(h)), "{own:?}");
    assert!(own.iter().any(|h| h["owner"]["path"].as_str().is_some_and(|p| p.eq_ignore_ascii_case("/Sub/c1.txt"))), "{own:?}");
    let boundary = 4 * 1024 * 1024 + 4092;
    assert!(own.iter().all(|h| h["offset"] != boundary), "half of it is the parent's");
    let (_, parent) = search(&child, &["--only-layer", "1", WORD]);
    assert!(parent.iter().all(|h| h["layer"] == 1 && h["offset"] != boundary));
    assert_eq!(own.len() + parent.len() + 1, all.len(), "every hit but the one across layers is one layer's");
    let o = cli(&["search", p(&child), "--only-layer", "2", WORD]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn hostile_patterns() {
    let child = disks().join("child.vhd");
    for (args, why) in [
        (vec![""], "empty"),
        (vec!["--hex", "00 00"], "zeros only"),
        (vec!["--hex", "abc"], "odd digits"),
        (vec!["--hex", "zz"], "not hex"),
        (vec!["--hex", "--utf16", "ab"], "hex with utf16"),
    ] {
        let mut all = vec!["search", p(&child)];
        all.extend_from_slice(&args);
        let o = cli(&all);
        assert_eq!(o.status.code(), Some(2), "{why}: {}", stderr(&o));
        assert!(!stderr(&o).is_empty() && stdout(&o).is_empty(), "{why}");
    }
    // Longer than a tiny disk: no hit, no failure.
    let dir = scratch("search-tiny");
    let tiny = dir.join("tiny.vhd");
    std::fs::write(&tiny, dynamic_vhd(&[b'a'; 1024], "search-tiny").build()).unwrap();
    let (code, hits) = search(&tiny, &[&"a".repeat(2048)]);
    assert_eq!((code, hits.len()), (1, 0));
    let (code, hits) = search(&tiny, &["aaaa"]);
    assert_eq!((code, hits.len()), (0, 256), "{hits:?}");
}

#[test]
fn an_empty_2040g_disk_is_searched_without_reading_its_data() {
    use vhd_viewer::reader::{open_layer, Counting, DiskReader, KnownLen, ReadAt};
    use vhd_viewer::search::{search, Pattern, PatternOptions, Scope, Search};
    const GIB: u64 = 1 << 30;
    let spec = QemuSpec {
        name: "qemu-dynamic-2040G",
        subformat: "dynamic",
        size: "2040G",
        force_size: true,
        writes: vec![(0x5a, 2040 * GIB - 4096, 512), (0xa5, 1536, 512)],
    };
    let path = qemu_fixture(&spec);
    let file = Counting::new(KnownLen::new(std::fs::File::open(&path).unwrap()));
    let layer = open_layer(&file).unwrap();
    let disk = vhd_viewer::Disk::new(vec![layer], false).unwrap();
    let opened = file.bytes();
    let sources: Vec<&dyn ReadAt> = vec![&file];
    let mut r = DiskReader::new(&disk, sources).unwrap();
    let pattern = Pattern::new("5a 5a 5a 5a", PatternOptions { hex: true, ..Default::default() }).unwrap();
    let mut offsets = Vec::new();
    let started = std::time::Instant::now();
    let done = search(
        &mut r,
        Search::new(&disk, &pattern, Scope::Disk).unwrap(),
        &mut |_, hits| {
            offsets.extend(hits.iter().map(|f| f.hit.offset));
            Ok(())
        },
        &mut |_, _| true,
    )
    .unwrap();
    assert!(done.complete);
    assert_eq!(offsets, (0..128).map(|k| 2040 * GIB - 4096 + 4 * k).collect::<Vec<_>>());
    // Two allocated blocks: their bitmaps and data (2 MiB each), nothing else.
    let read = file.bytes() - opened;
    assert!(read <= 2 * (2 << 20) + 2 * 512, "{read} bytes read after opening");
    assert_eq!(done.data_bytes + 2 * 512, read, "the data searched and two bitmaps");
    assert!(started.elapsed().as_secs() < 20, "took {:?}", started.elapsed());
}

#[test]
fn a_search_stepped_a_piece_at_a_time_finds_the_same_hits() {
    use vhd_viewer::reader::{open_layer, DiskReader, KnownLen, ReadAt};
    use vhd_viewer::search::{Pattern, PatternOptions, Scope, Search};
    let dir = disks();
    let (_, all) = search(&dir.join("child.vhd"), &[WORD]);
    let files: Vec<_> = ["child.vhd", "base.vhd"].iter().map(|n| KnownLen::new(std::fs::File::open(dir.join(n)).unwrap())).collect();
    let layers = files.iter().map(|f| open_layer(f).unwrap()).collect();
    let disk = vhd_viewer::Disk::new(layers, false).unwrap();
    let mut r = DiskReader::new(&disk, files.iter().map(|f| f as &dyn ReadAt).collect()).unwrap();
    let mut s = Search::new(&disk, &Pattern::new(WORD, PatternOptions::default()).unwrap(), Scope::Disk).unwrap();
    let mut got = Vec::new();
    let mut steps = 0;
    let mut last = 0;
    while !s
        .step(&mut r, 1, &mut |_, hits| {
            got.extend(hits.iter().map(|f| (f.hit.offset, f.layer)));
            Ok(())
        })
        .unwrap()
    {
        assert!(s.searched().position >= last, "progress goes forward");
        last = s.searched().position;
        steps += 1;
    }
    assert!(steps > 10, "{steps} steps");
    assert_eq!(s.searched().position, disk.size());
    let want: Vec<(u64, Option<usize>)> =
        all.iter().map(|h| (h["offset"].as_u64().unwrap(), h["layer"].as_u64().map(|l| l as usize))).collect();
    assert_eq!(got, want);
}

#[test]
fn without_its_parent_a_child_is_searched_only_in_what_it_holds() {
    let dir = disks();
    let alone = scratch("search-alone");
    std::fs::copy(dir.join("child.vhd"), alone.join("child.vhd")).unwrap();
    let child = alone.join("child.vhd");
    let o = cli(&["search", p(&child), WORD]);
    assert_eq!(o.status.code(), Some(2), "the parent's part cannot be read: {}", stderr(&o));
    assert!(stderr(&o).contains("parent"), "{}", stderr(&o));
    let (code, own) = search(&child, &["--only-layer", "0", WORD]);
    let (_, with_parent) = search(&dir.join("child.vhd"), &["--only-layer", "0", WORD]);
    assert_eq!(code, 0);
    let at = |hits: &[Value]| hits.iter().map(|h| h["offset"].as_u64().unwrap()).collect::<Vec<_>>();
    assert_eq!(at(&own), at(&with_parent), "what the child holds is found without its parent");
    assert!(own.iter().all(|h| h["owner"]["kind"] == "unknown"), "the partition table is the parent's: {own:?}");
}

/// With the key, an unlocked BitLocker volume is searched in its plain bytes: a word of a file
/// written into it is found exactly where `grep -obaF` finds it in the plain volume the test
/// writer encrypted (at the partition's offset on the disk), each hit `decrypted` and owned by
/// the file; without the key, in the ciphertext, it is not found. The FAT case: its file's data
/// is its own clusters.
#[test]
fn an_unlocked_bitlocker_volume_is_searched_in_its_plain_bytes() {
    let dir = common::bitlocker::bitlocker_vhds();
    let vhd = dir.join("fat.vhd");
    let word = "hello from a BitLocker volume";
    let (code, locked) = search(&vhd, &[word]);
    assert_eq!((code, locked.len()), (1, 0), "the ciphertext holds no such word: {locked:?}");
    let (code, hits) = search(&vhd, &["--password", "bde-TEST", word]);
    assert_eq!(code, 0);
    let parts: Value = serde_json::from_slice(&cli(&["parts", p(&vhd), "--json"]).stdout).unwrap();
    let start = parts["partitions"].as_array().unwrap().iter().find(|x| x["index"] == 1).unwrap()["start_sector"].as_u64().unwrap() * 512;
    let want: Vec<u64> = grep(&dir.join("fat.img"), word.as_bytes()).iter().map(|o| o + start).collect();
    assert!(!want.is_empty());
    assert_eq!(offsets(&hits, "utf-8"), want);
    assert!(hits.iter().all(|h| h["decrypted"] == true && h["partition"] == 1), "{hits:?}");
    let file = hits.iter().find(|h| h["owner"]["path"] == "/HELLO.TXT").unwrap_or_else(|| panic!("no hit in /HELLO.TXT: {hits:?}"));
    assert_eq!(file["owner"]["kind"], "file");
    assert_eq!(file["owner"]["file_offset"], 0);
}
