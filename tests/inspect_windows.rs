//! What `inspect` says of a Windows volume, on disks made by `tests/web/fixtures/make-windows-vhds.sh`
//! (hives written by hivex's `hivexsh -w`, an NTFS volume filled by ntfs-3g): every value equals
//! what the script wrote and what hivex's `hivexget` reads in the same hive files (taken off the
//! disk by `vhd-viewer get`, through each source the answer names), as of the parent and of the
//! child (renamed, one program installed). Dirty, damaged and broken hives give notes, and the
//! rest still answers.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

use vhd_viewer::fs::{FileSystem, Volume};
use vhd_viewer::inspect::{Os, System};
use vhd_viewer::reader::{open_layer, DiskReader, ReadAt};
use vhd_viewer::registry::Hive;

const SID: &str = "S-1-5-21-1402562148-2716339456-3170215113";
const CONFIG: &str = "/Windows/System32/config";
const UNINSTALL: &str = "Microsoft\\Windows\\CurrentVersion\\Uninstall";

/// The folder holding `windows.vhd` and `windows-child.vhd`, made once per content of the script.
fn disks() -> PathBuf {
    static ONCE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| fixture_script("windows", "disks", "make-windows-vhds.sh", "windows-child.vhd", &["m"])).clone()
}

/// The systems on `bytes` read as a raw disk.
fn systems_raw(bytes: &mut Vec<u8>) -> Vec<System> {
    let table = vhd_viewer::parts::read(bytes).unwrap();
    vhd_viewer::inspect::systems(bytes, &table)
}

/// The systems of the child's chain as of layer `k` (0: the child, 1: its parent).
fn systems_at(k: usize) -> Vec<System> {
    let dir = disks();
    let files = [std::fs::File::open(dir.join("windows-child.vhd")).unwrap(), std::fs::File::open(dir.join("windows.vhd")).unwrap()];
    let layers = files.iter().map(|f| open_layer(f as &dyn ReadAt).unwrap()).collect();
    let disk = vhd_viewer::Disk::new(layers, false).unwrap().cut(k).unwrap();
    let mut reader = DiskReader::new(&disk, files[k..].iter().map(|f| f as &dyn ReadAt).collect()).unwrap();
    let table = vhd_viewer::parts::read(&mut reader).unwrap();
    vhd_viewer::inspect::systems(&mut reader, &table)
}

/// What hivex's `hivexget` reads of value `value` of `key` in the hive file `hive`.
fn hivexget(hive: &Path, key: &str, value: &str) -> String {
    let o = run_ok(Command::new("hivexget").arg(hive).arg(format!("\\{key}")).arg(value));
    stdout(&o).trim_end_matches('\n').to_string()
}

/// Every answer of `s` compared with `hivexget` on the hive its source names, taken off the disk
/// by `vhd-viewer get --layer k`.
fn check_with_hivex(s: &System, k: usize, dir: &Path) {
    let vhd = disks().join("windows-child.vhd");
    let mut taken = std::collections::HashMap::new();
    let mut hive = |path: &str| -> PathBuf {
        taken
            .entry(path.to_string())
            .or_insert_with(|| {
                let o = cli(&["get", "--layer", &k.to_string(), "-p", &s.partition.to_string(), p(&vhd), path]);
                assert!(o.status.success(), "vhd-viewer get {path}: {}", stderr(&o));
                let file = dir.join(format!("{k}-{}", path.rsplit('/').next().unwrap()));
                std::fs::write(&file, &o.stdout).unwrap();
                file
            })
            .clone()
    };
    let text = [
        ("product", &s.product),
        ("edition", &s.edition),
        ("version", &s.version),
        ("registered_owner", &s.registered_owner),
        ("hostname", &s.hostname),
        ("timezone", &s.timezone),
    ];
    for (field, ours) in text {
        let src = &s.sources[field];
        let theirs = hivexget(&hive(&src.path), src.key.as_deref().unwrap(), src.value.as_deref().unwrap());
        assert_eq!(ours.as_deref(), Some(theirs.as_str()), "{field} at {src:?}");
    }
    let src = &s.sources["build"];
    let h = hive(&src.path);
    let key = src.key.as_deref().unwrap();
    let build = format!("{}.{}", hivexget(&h, key, src.value.as_deref().unwrap()), hivexget(&h, key, "UBR"));
    assert_eq!(s.build.as_deref(), Some(build.as_str()));
    let src = &s.sources["install_date"];
    let secs: i64 = hivexget(&hive(&src.path), src.key.as_deref().unwrap(), "InstallDate").parse().unwrap();
    assert_eq!(s.install_date, Some(vhd_viewer::fs::iso8601(secs)));
    for u in &s.users {
        let got = hivexget(&hive(&u.source.path), u.source.key.as_deref().unwrap(), "ProfileImagePath");
        assert_eq!(u.home.as_deref(), Some(got.as_str()), "{u:?}");
        assert!(u.source.key.as_deref().unwrap().ends_with(u.sid.as_deref().unwrap()));
    }
    for pr in &s.programs {
        let (h, key) = (hive(&pr.source.path), pr.source.key.as_deref().unwrap());
        assert_eq!(hivexget(&h, key, "DisplayName"), pr.name);
        assert_eq!(pr.version.as_deref(), Some(hivexget(&h, key, "DisplayVersion").as_str()));
        assert_eq!(pr.publisher.as_deref(), Some(hivexget(&h, key, "Publisher").as_str()));
    }
    for i in &s.interfaces {
        let got = hivexget(&hive(&i.source.path), i.source.key.as_deref().unwrap(), i.source.value.as_deref().unwrap());
        // hivexget prints a REG_MULTI_SZ one text a line.
        assert_eq!(i.addresses, got.lines().collect::<Vec<_>>(), "{i:?}");
    }
}

#[test]
fn the_parent_and_the_child_say_what_the_script_wrote_and_hivex_reads() {
    let dir = scratch("inspect-windows");
    for k in [1, 0] {
        let t = std::time::Instant::now();
        let found = systems_at(k);
        eprintln!("inspect as of layer {k}: {:?}", t.elapsed());
        assert_eq!(found.len(), 1, "{found:#?}");
        let s = &found[0];
        assert_eq!((s.partition, s.os), (1, Os::Windows));
        assert!(s.notes.is_empty(), "{:#?}", s.notes);
        assert_eq!(s.product.as_deref(), Some("Windows 10 Pro"));
        assert_eq!(s.edition.as_deref(), Some("Professional"));
        assert_eq!(s.version.as_deref(), Some("22H2"));
        assert_eq!(s.build.as_deref(), Some("19045.3803"));
        assert_eq!(s.registered_owner.as_deref(), Some("Alice Example"));
        assert_eq!(s.install_date.as_deref(), Some("2023-11-14T22:13:20Z"));
        assert_eq!(s.timezone.as_deref(), Some("W. Europe Standard Time"));
        assert_eq!(s.last_shutdown.as_deref(), Some("2024-03-05T17:42:10Z"));
        assert_eq!(s.hostname.as_deref(), Some(if k == 0 { "DESKTOP-RENAMED" } else { "DESKTOP-ALICE01" }));
        let hostname = &s.sources["hostname"];
        assert_eq!(hostname.path, format!("{CONFIG}/SYSTEM"));
        assert_eq!(hostname.key.as_deref(), Some("ControlSet001\\Control\\ComputerName\\ComputerName"), "Select\\Current's set");
        assert_eq!(s.sources["product"].path, format!("{CONFIG}/SOFTWARE"));

        let mut users: Vec<(&str, &str, &str)> =
            s.users.iter().map(|u| (u.name.as_str(), u.sid.as_deref().unwrap(), u.home.as_deref().unwrap())).collect();
        users.sort();
        let (alice, bob) = (format!("{SID}-1001"), format!("{SID}-1002"));
        let carol = "S-1-5-21-1111111111-2222222222-3333333333-1001";
        let want = [
            ("Alice", alice.as_str(), "C:\\Users\\alice"),
            ("bob", bob.as_str(), "C:\\Users\\bob.DESKTOP"),
            ("carol.CORP", carol, "C:\\Users\\carol.CORP"),
            ("systemprofile", "S-1-5-18", "%systemroot%\\system32\\config\\systemprofile"),
        ];
        assert_eq!(users, want, "SAM's names where it has the RID in the machine's domain, else the folder's");

        let programs: Vec<(&str, Option<&str>, Option<&str>)> =
            s.programs.iter().map(|p| (p.name.as_str(), p.version.as_deref(), p.publisher.as_deref())).collect();
        let mut want = vec![
            ("7-Zip 23.01 (x64)", Some("23.01"), Some("Igor Pavlov")),
            ("Microsoft Visual C++ 2015-2022 Redistributable (x86) - 14.36.32532", Some("14.36.32532.0"), Some("Microsoft Corporation")),
            ("Mozilla Firefox (x64 en-US)", Some("120.0.1"), Some("Mozilla")),
            ("Notepad++ (32-bit x86)", Some("8.5.8"), Some("Notepad++ Team")),
        ];
        if k == 0 {
            want.push(("VLC media player", Some("3.0.20"), Some("VideoLAN")));
        }
        assert_eq!(programs, want, "both Uninstall keys, those without DisplayName left out, by name");
        let npp = s.programs.iter().find(|p| p.name.starts_with("Notepad++")).unwrap();
        assert_eq!(npp.install_date.as_deref(), Some("20231120"));
        assert!(npp.source.key.as_deref().unwrap().starts_with("WOW6432Node\\"));

        let ifs: Vec<(&str, bool, Vec<&str>)> =
            s.interfaces.iter().map(|i| (i.name.as_str(), i.dhcp, i.addresses.iter().map(String::as_str).collect())).collect();
        assert_eq!(
            ifs,
            [("Ethernet", true, vec!["192.168.1.23"]), ("{9A0C5D7E-2B1F-4E3A-8C6D-665544332211}", false, vec!["10.0.0.5", "10.0.0.6"]),],
            "the connection's name where the network class has it, else the GUID; the interface without an address left out"
        );
        check_with_hivex(s, k, &dir);
        // The command line says the same.
        let o = cli(&["inspect", "--json", "--layer", &k.to_string(), p(&disks().join("windows-child.vhd"))]);
        assert!(o.status.success(), "{}", stderr(&o));
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(json, serde_json::json!({ "systems": found }), "inspect --json as of layer {k}");
    }
}

/// The virtual disk of `windows.vhd`, read once (by qemu-img).
fn parent_raw() -> Vec<u8> {
    static ONCE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| qemu_raw(&disks().join("windows.vhd"))).clone()
}

/// An edit of one hive file.
type Edit<'a> = (&'a str, Box<dyn FnOnce(&mut Vec<u8>) + 'a>);

/// The raw virtual disk of `windows.vhd` with each hive named changed by its edit (written back
/// where its clusters are).
fn edited(edits: Vec<Edit>) -> Vec<u8> {
    let mut raw = parent_raw();
    let table = vhd_viewer::parts::read(&mut raw).unwrap();
    let part = table.partitions.iter().find(|p| p.index == 1).unwrap().clone();
    for (name, edit) in edits {
        let (mut bytes, runs) = {
            let mut vol = Volume::new(&mut raw, part.offset(), part.len());
            let mut fs = FileSystem::open(&mut vol).unwrap().unwrap();
            let entry = fs.lookup(&mut vol, &format!("{CONFIG}/{name}"), false).unwrap();
            let mut bytes = Vec::new();
            fs.read(&mut vol, &entry, None, &mut |b| {
                bytes.extend_from_slice(b);
                Ok(())
            })
            .unwrap();
            (bytes, fs.data(&mut vol, &entry, None).unwrap().runs().to_vec())
        };
        let len = bytes.len();
        edit(&mut bytes);
        assert_eq!(bytes.len(), len, "an edit keeps the file's length");
        for r in runs {
            let at = (part.offset() + r.volume_offset.unwrap()) as usize;
            raw[at..at + r.len as usize].copy_from_slice(&bytes[r.file_offset as usize..(r.file_offset + r.len) as usize]);
        }
    }
    raw
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn set_le32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Sets the base block's checksum right.
fn fix_checksum(h: &mut [u8]) {
    let sum = (0..0x1FC).step_by(4).fold(0u32, |x, at| x ^ le32(h, at));
    set_le32(h, 0x1FC, sum);
}

#[test]
fn a_dirty_hive_is_read_as_stored_and_its_logs_named() {
    let mut raw = edited(vec![(
        "SYSTEM",
        Box::new(|h: &mut Vec<u8>| {
            let seq = le32(h, 4);
            set_le32(h, 8, seq + 1);
            fix_checksum(h);
        }),
    )]);
    let s = &systems_raw(&mut raw)[0];
    assert_eq!(s.hostname.as_deref(), Some("DESKTOP-ALICE01"), "read as stored");
    assert_eq!(s.notes.len(), 1, "{:#?}", s.notes);
    let n = &s.notes[0];
    assert_eq!((n.code, n.path.as_str(), n.offset), ("hive-dirty", "/Windows/System32/config/SYSTEM", Some(4)));
    assert!(n.message.contains("SYSTEM.LOG1 and SYSTEM.LOG2"), "{}", n.message);
}

#[test]
fn a_damaged_key_and_a_broken_hive_give_notes_and_the_rest_answers() {
    // The 64-bit Uninstall key's cell claims to reach past the end; SAM is no hive at all; the
    // SYSTEM's checksum is wrong.
    let mut at = 0;
    let mut raw = edited(vec![
        (
            "SOFTWARE",
            Box::new(|h: &mut Vec<u8>| {
                at = Hive::parse(h).unwrap().key(UNINSTALL).unwrap().unwrap().offset();
                set_le32(h, at as usize, (-0x7FFF_0000i32) as u32);
            }),
        ),
        ("SAM", Box::new(|h: &mut Vec<u8>| h[..4].copy_from_slice(b"nope"))),
        ("SYSTEM", Box::new(|h: &mut Vec<u8>| h[0x1FC] ^= 0xFF)),
    ]);
    let t = std::time::Instant::now();
    let s = &systems_raw(&mut raw)[0];
    eprintln!("inspect of the damaged disk: {:?}", t.elapsed());
    let notes: Vec<(&str, &str, Option<u64>)> = s.notes.iter().map(|n| (n.code, n.path.rsplit('/').next().unwrap(), n.offset)).collect();
    assert!(notes.contains(&("hive-damaged", "SOFTWARE", Some(at))), "{:#?}", s.notes);
    assert!(notes.contains(&("hive-damaged", "SAM", Some(0))), "{:#?}", s.notes);
    assert!(notes.contains(&("hive-damaged", "SYSTEM", Some(0x1FC))), "{:#?}", s.notes);
    assert_eq!(notes.len(), 3, "{:#?}", s.notes);
    assert_eq!(s.product.as_deref(), Some("Windows 10 Pro"));
    assert_eq!(s.hostname.as_deref(), Some("DESKTOP-ALICE01"));
    let programs: Vec<&str> = s.programs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(programs.len(), 2, "the 32-bit ones still: {programs:?}");
    assert!(programs.iter().all(|p| p.starts_with("Microsoft Visual") || p.starts_with("Notepad++")));
    let mut names: Vec<&str> = s.users.iter().map(|u| u.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["alice", "bob.DESKTOP", "carol.CORP", "systemprofile"], "without SAM, the profile folders' names");
}

#[test]
fn windows_11_is_said_where_product_name_says_10() {
    // CurrentBuild and CurrentBuildNumber "19045" become "22631" (the same length: edited in place).
    let (from, to): (Vec<u8>, Vec<u8>) = ["19045", "22631"].map(|t| t.encode_utf16().flat_map(u16::to_le_bytes).collect()).into();
    let mut raw = edited(vec![(
        "SOFTWARE",
        Box::new(move |h: &mut Vec<u8>| {
            let mut found = 0;
            for k in 0..h.len() - from.len() {
                if h[k..k + from.len()] == from[..] {
                    h[k..k + from.len()].copy_from_slice(&to);
                    found += 1;
                }
            }
            assert_eq!(found, 2, "CurrentBuild and CurrentBuildNumber");
        }),
    )]);
    let s = &systems_raw(&mut raw)[0];
    assert_eq!((s.product.as_deref(), s.build.as_deref()), (Some("Windows 10 Pro"), Some("22631.3803")), "as stored");
    let notes: Vec<(&str, &str)> = s.notes.iter().map(|n| (n.code, n.message.as_str())).collect();
    assert_eq!(notes, [("windows-11", "build 22631 is Windows 11, which keeps \"Windows 10 Pro\" in ProductName")]);
}

#[test]
fn a_windows_volume_inside_bitlocker_is_inspected_once_unlocked() {
    // The parent's NTFS volume encrypted by the BitLocker test writer, put back where it was.
    let mut raw = parent_raw();
    let table = vhd_viewer::parts::read(&mut raw).unwrap();
    let part = table.partitions.iter().find(|p| p.index == 1).unwrap();
    let (at, len) = (part.offset() as usize, part.len() as usize);
    let dir = scratch("inspect-bitlocker");
    std::fs::write(dir.join("plain.img"), &raw[at..at + len]).unwrap();
    let bde = common::bitlocker::writer();
    run_ok(Command::new(&bde).arg("--in").arg(dir.join("plain.img")).arg("--out").arg(dir.join("enc.img")).args([
        "--method",
        "aes-xts-128",
        "--password",
        "bde-TEST",
        "--seed",
        "25",
    ]));
    let enc = std::fs::read(dir.join("enc.img")).unwrap();
    assert_eq!(enc.len(), len);
    raw[at..at + len].copy_from_slice(&enc);
    std::fs::write(dir.join("disk.raw"), &raw).unwrap();
    run_ok(Command::new(bde.with_file_name("vhd_from_raw")).arg("dynamic").arg(dir.join("disk.raw")).arg(dir.join("disk.vhd")));
    let disk = dir.join("disk.vhd");

    let plain: serde_json::Value = serde_json::from_str(&vv(&["inspect", p(&disks().join("windows.vhd")), "--json"], 0)).unwrap();
    let locked: serde_json::Value = serde_json::from_str(&vv(&["inspect", p(&disk), "--json"], 0)).unwrap();
    assert_eq!(locked["systems"], serde_json::json!([]), "nothing is read of a locked volume");
    let unlocked: serde_json::Value = serde_json::from_str(&vv(&["inspect", p(&disk), "--json", "--password", "bde-TEST"], 0)).unwrap();
    assert_eq!(unlocked, plain, "the unlocked volume answers as the plain one");
    assert_eq!(unlocked["systems"][0]["hostname"], "DESKTOP-ALICE01");
    let (_, err) = vv_both(&["inspect", p(&disk), "--json", "--password", "not the password"], 2);
    assert!(err.contains("does not unlock"), "{err}");
}
