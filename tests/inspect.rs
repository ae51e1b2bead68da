//! `inspect`: the operating system on a disk, as of each layer of a chain, and what a child
//! changed in it (`diff`'s "systems").
//!
//! The Linux disk is made by the real tools (`tests/web/fixtures/make-linux-vhds.sh`: sfdisk,
//! mkfs.vfat, mkfs.ext4 -d, debugfs); the expected answers are read here from the trees the
//! script gave mkfs.ext4, from the ids it gave the tools and from dumpe2fs, never from the
//! viewer. The hostile disk holds an os-release link loop, binary garbage in passwd and a
//! 100 MiB dpkg status file.

mod common;
use common::*;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

/// The folder `make-linux-vhds.sh` filled (made once per content of the script).
fn linux() -> PathBuf {
    static ONCE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| fixture_script("inspect", "linux", "make-linux-vhds.sh", "linux-child.vhd", &[])).clone()
}

/// The folder `make-windows-vhds.sh` filled (the one `tests/inspect_windows.rs` reads).
fn windows() -> PathBuf {
    static ONCE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| fixture_script("windows", "disks", "make-windows-vhds.sh", "windows-child.vhd", &["m"])).clone()
}

fn inspect_json(args: &[&str]) -> Value {
    let mut a = vec!["inspect", "--json"];
    a.extend_from_slice(args);
    serde_json::from_str(&vv(&a, 0)).expect("inspect --json is JSON")
}

/// `KEY=value` lines, quotes stripped (the fixture's os-release has no escapes).
fn keys(text: &str) -> BTreeMap<String, String> {
    text.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string())).collect()
}

/// What `inspect --json` must say of the root whose files are under `tree`, its superblock as
/// dumpe2fs printed it in `sb`.
fn expected(dir: &Path, tree: &str, sb: &str) -> Value {
    let t = dir.join(tree);
    let read = |p: &str| std::fs::read_to_string(t.join(p)).unwrap();
    let rel = keys(&read("usr/lib/os-release"));
    let users: Vec<Value> = read("etc/passwd")
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .filter(|f| {
            let base = f[6].rsplit('/').next().unwrap();
            !["nologin", "false", "sync"].contains(&base) || f[5].starts_with("/home/")
        })
        .map(|f| json!({"name": f[0], "uid": f[2].parse::<u32>().unwrap(), "home": f[5], "shell": f[6]}))
        .collect();
    let mut programs: Vec<Value> = read("var/lib/dpkg/status")
        .split("\n\n")
        .filter(|para| para.contains("\nStatus: install ok installed\n"))
        .map(|para| {
            let f: BTreeMap<&str, &str> = para.lines().filter_map(|l| l.split_once(": ")).collect();
            json!({"name": f["Package"], "version": f["Version"], "publisher": f["Maintainer"]})
        })
        .collect();
    programs.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let dumpe2fs: BTreeMap<&str, &str> = sb.lines().filter_map(|l| l.split_once(':')).map(|(k, v)| (k, v.trim())).collect();
    let date = |k: &str| {
        let o = run_ok(Command::new("date").args(["-u", "-d", dumpe2fs[k], "+%Y-%m-%dT%H:%M:%SZ"]));
        stdout(&o).trim().to_string()
    };
    json!({
        "product": rel["PRETTY_NAME"], "version": rel["VERSION_ID"], "id": rel["ID"],
        "hostname": read("etc/hostname").trim(), "timezone": read("etc/timezone").trim(),
        "install_date": date("Filesystem created"), "last_shutdown": date("Last write time"),
        "users": users, "programs": programs,
    })
}

/// The parts of a system `expected` names, from `inspect --json`'s system `s`.
fn got(s: &Value) -> Value {
    let users: Vec<Value> = s["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| json!({"name": u["name"], "uid": u["uid"], "home": u["home"], "shell": u["shell"]}))
        .collect();
    let programs: Vec<Value> = s["programs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| json!({"name": p["name"], "version": p["version"], "publisher": p["publisher"]}))
        .collect();
    json!({
        "product": s["product"], "version": s["version"], "id": s["id"], "hostname": s["hostname"],
        "timezone": s["timezone"], "install_date": s["install_date"], "last_shutdown": s["last_shutdown"],
        "users": users, "programs": programs,
    })
}

#[test]
fn linux_as_of_each_layer() {
    let dir = linux();
    let child = dir.join("linux-child.vhd");
    let sb = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    for (layer, tree, superblock) in [("0", "tree-child", "root-child-superblock.txt"), ("1", "tree", "root-superblock.txt")] {
        let j = inspect_json(&[p(&child), "--layer", layer]);
        let systems = j["systems"].as_array().unwrap();
        assert_eq!(systems.len(), 1, "layer {layer}: {j}");
        let s = &systems[0];
        assert_eq!((s["partition"].as_u64(), s["os"].as_str()), (Some(3), Some("linux")));
        assert_eq!(got(s), expected(&dir, tree, &sb(superblock)), "layer {layer}");
        // Where each answer was read: os-release through its link, the rest as named.
        assert_eq!(s["sources"]["product"], json!({"path": "/usr/lib/os-release", "value": "PRETTY_NAME"}));
        assert_eq!(s["sources"]["hostname"]["path"], "/etc/hostname");
        assert_eq!(s["sources"]["programs"]["path"], "/var/lib/dpkg/status");
        assert_eq!(s["users"][0]["source"]["path"], "/etc/passwd");
        assert_eq!(s["notes"], json!([]), "layer {layer}");
    }
    // The parent is the same disk read whole: no --layer needed.
    assert_eq!(inspect_json(&[p(&dir.join("linux.vhd"))]), inspect_json(&[p(&child), "--layer", "1"]));
}

#[test]
fn fstab_mapped_to_the_partitions() {
    let dir = linux();
    let ids: BTreeMap<String, String> = std::fs::read_to_string(dir.join("ids.txt"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let disk = p(&dir.join("linux.vhd")).to_string();
    // The partitions as `parts` reads them: their ids are the ones the script gave the tools.
    let parts: Value = serde_json::from_str(&vv(&["parts", &disk, "--json"], 0)).unwrap();
    let index_where = |key: &str, value: &str| -> Value {
        let found = parts["partitions"].as_array().unwrap().iter().find(|q| q[key] == value);
        found.map(|q| q["index"].clone()).unwrap_or_else(|| panic!("no partition with {key} {value}: {parts}"))
    };
    assert_eq!(index_where("uuid", &ids["root_uuid"]), index_where("partuuid", &ids["root_partuuid"]));
    assert_eq!(index_where("uuid", &ids["boot_uuid"]), index_where("partuuid", &ids["boot_partuuid"]));
    assert_eq!(index_where("uuid", &ids["efi_uuid"]), index_where("partuuid", &ids["efi_partuuid"]));
    let j = inspect_json(&[&disk]);
    let mounts = &j["systems"][0]["mounts"];
    let want = json!([
        {"spec": format!("UUID={}", ids["root_uuid"]), "target": "/", "fstype": "ext4", "partition": index_where("uuid", &ids["root_uuid"]), "by": "uuid"},
        {"spec": "LABEL=boot", "target": "/boot", "fstype": "ext4", "partition": index_where("label", "boot"), "by": "label"},
        {"spec": format!("PARTUUID={}", ids["efi_partuuid"]), "target": "/boot/efi", "fstype": "vfat", "partition": index_where("partuuid", &ids["efi_partuuid"]), "by": "partuuid"},
        {"spec": "/dev/sdb1", "target": "/mnt/backup", "fstype": "ext4", "partition": null, "by": null},
        {"spec": "tmpfs", "target": "/tmp", "fstype": "tmpfs", "partition": null, "by": null},
    ]);
    assert_eq!(mounts, &want);
}

#[test]
fn diff_names_the_user_the_package_and_the_hostname() {
    let dir = linux();
    let child = p(&dir.join("linux-child.vhd")).to_string();
    let j: Value = serde_json::from_str(&vv(&["diff", &child, "--json"], 0)).unwrap();
    let changes: Vec<(String, String, Value, Value)> = j["systems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["kind"].as_str().unwrap().to_string(), c["name"].as_str().unwrap().to_string(), c["old"].clone(), c["new"].clone()))
        .collect();
    let has = |kind: &str, name: &str, old: Value, new: Value| {
        assert!(changes.contains(&(kind.into(), name.into(), old.clone(), new.clone())), "no {kind} {name} {old} -> {new} in {changes:?}")
    };
    has("field", "hostname", json!("web01"), json!("web02"));
    has("user-added", "carol", json!(null), json!("uid 1002"));
    has("program-added", "nginx", json!(null), json!("1.22.1-9"));
    // The superblock's times moved too (the child's root was mounted and unmounted again).
    has("field", "last_shutdown", json!("2024-03-01T18:00:00Z"), json!("2024-03-05T18:00:00Z"));
    assert_eq!(changes.len(), 4, "{changes:?}");
    assert!(j["systems"].as_array().unwrap().iter().all(|c| c["partition"] == 3 && c["os"] == "linux"));
    let text = vv(&["diff", &child], 0);
    for line in [
        "computer name: web01 -> web02  [/etc/hostname]",
        "user added: carol (uid 1002)  [/etc/passwd]",
        "program installed: nginx 1.22.1-9 (Debian Nginx Maintainers <pkg-nginx-maintainers@alioth-lists.debian.net>)  [/var/lib/dpkg/status]",
    ] {
        assert!(text.contains(line), "{line:?} not in:\n{text}");
    }
}

#[test]
fn text_output_for_people() {
    let dir = linux();
    let child = p(&dir.join("linux-child.vhd")).to_string();
    let text = vv(&["inspect", &child], 0);
    for want in [
        "Partition 3: Linux",
        "Product:          Debian GNU/Linux 12 (bookworm)  [/usr/lib/os-release: PRETTY_NAME]",
        "Computer name:    web02  [/etc/hostname]",
        "Time zone:        Europe/Berlin  [/etc/timezone]",
        "Users (5):  [/etc/passwd]",
        "carol                uid 1002     /home/carol  /bin/bash",
        "Programs (12):  [/var/lib/dpkg/status]",
        "    nginx 1.22.1-9  (Debian Nginx Maintainers",
        "/boot/efi    vfat   PARTUUID=",
        "/mnt/backup  ext4   /dev/sdb1  -> no partition of this disk",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
    let before = vv(&["inspect", &child, "--layer", "1"], 0);
    assert!(before.contains("Computer name:    web01") && !before.contains("carol") && !before.contains("nginx"), "{before}");
    // Layers that do not exist, and files that are not disks: usage and read errors.
    let (_, err) = vv_both(&["inspect", &child, "--layer", "2"], 2);
    assert!(err.contains("layer"), "{err}");
    let (_, err) = vv_both(&["inspect", p(&dir.join("ids.txt"))], 2);
    assert!(!err.is_empty());
}

#[test]
fn a_disk_without_a_system() {
    // A blank disk, and an ext4 volume with files but no system.
    let dir = work("inspect");
    std::fs::create_dir_all(&dir).unwrap();
    let blank = dir.join("blank.vhd");
    write_atomic(&blank, &dynamic_vhd(&vec![0u8; 4 << 20], "inspect-blank").build());
    let plain = hostile().with_file_name("plain.vhd");
    for disk in [&blank, &plain] {
        assert_eq!(inspect_json(&[p(disk)]), json!({"systems": []}));
        let text = vv(&["inspect", p(disk)], 0);
        assert!(text.starts_with("No operating system found on this disk"), "{text}");
    }
    assert!(vv(&["ls", p(&plain), "/etc"], 0).contains("motd"));
}

/// A whole-disk ext4 (no table) whose files are hostile: `/etc/os-release` a loop of links (the
/// system is found through `/usr/lib/os-release`), passwd binary garbage around two users, a
/// 100 MiB dpkg status (one package, then a hole), the time zone only as a link. Beside it,
/// `plain.vhd`: an ext4 volume with files and no system; `mbr.vhd`: an MBR disk (signature
/// 1a2b3c4d) whose fstab names its partitions by PARTUUID, device name and an escaped label.
fn hostile() -> PathBuf {
    static ONCE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ONCE.get_or_init(make_hostile).clone()
}

fn make_hostile() -> PathBuf {
    let wrap = vhd_from_raw();
    let script = format!(
        r#"set -euo pipefail
export TZ=UTC
mkdir -p t/etc t/usr/lib t/var/lib/dpkg t/var/lib/rpm
ln -s /etc/a t/etc/os-release; ln -s os-release t/etc/a
printf 'PRETTY_NAME="Fedora Linux 39"\nVERSION_ID=39\nID=fedora\n' > t/usr/lib/os-release
{{ echo 'root:x:0:0:root:/root:/bin/bash'; head -c 20000 /dev/urandom; printf '\nann:x:1000:1000::/home/ann:/bin/bash\n'; }} > t/etc/passwd
ln -s ../usr/share/zoneinfo/America/New_York t/etc/localtime
printf 'Package: one\nStatus: install ok installed\nVersion: 1\n\n' > t/var/lib/dpkg/status
truncate -s 100M t/var/lib/dpkg/status
: > t/var/lib/rpm/rpmdb.sqlite
mkfs.ext4 -q -F -L hostile -d t disk.raw 16M
{wrap} dynamic disk.raw hostile.vhd
mkdir -p m/etc; printf 'ID=alpine\nVERSION_ID=3.19.1\n' > m/etc/os-release
printf 'PARTUUID=1a2b3c4d-01 / ext4 rw 0 1\n/dev/sda2 /data ext4 rw 0 2\n/dev/vda9 /none ext4 rw 0 2\nLABEL=data\\040disk /d2 ext4 rw 0 2\n' > m/etc/fstab
mkfs.ext4 -q -F -L root -d m r.img 8M; mkfs.ext4 -q -F -L 'data disk' d.img 8M
truncate -s 20M mbr.raw; printf 'label: dos\nlabel-id: 0x1a2b3c4d\nstart=2048, size=16384, type=83\nstart=18432, size=16384, type=83\n' | sfdisk -q mbr.raw
dd if=r.img of=mbr.raw bs=512 seek=2048 conv=notrunc status=none; dd if=d.img of=mbr.raw bs=512 seek=18432 conv=notrunc status=none
{wrap} dynamic mbr.raw mbr.vhd
mkdir -p plain/etc; echo hello > plain/etc/motd
mkfs.ext4 -q -F -L plain -d plain plain.raw 8M
{wrap} dynamic plain.raw plain.vhd
rm -rf t disk.raw plain plain.raw m r.img d.img mbr.raw
"#,
        wrap = wrap.display()
    );
    script_image("inspect", "hostile", &script, &[], "hostile.vhd", &[]).join("hostile.vhd")
}

#[test]
fn hostile_files_are_bounded() {
    let disk = hostile();
    let t = std::time::Instant::now();
    let j = inspect_json(&[p(&disk)]);
    let s = &j["systems"][0];
    assert_eq!((s["partition"].as_u64(), s["product"].as_str(), s["version"].as_str()), (Some(0), Some("Fedora Linux 39"), Some("39")));
    assert_eq!(s["timezone"], "America/New_York");
    assert_eq!(s["sources"]["timezone"], json!({"path": "/etc/localtime", "value": "symbolic link"}));
    let names: Vec<&str> = s["users"].as_array().unwrap().iter().filter_map(|u| u["name"].as_str()).collect();
    assert_eq!(names.first(), Some(&"root"));
    assert_eq!(names.last(), Some(&"ann"));
    assert_eq!(s["programs"].as_array().unwrap().len(), 1);
    let codes: Vec<(&str, &str)> =
        s["notes"].as_array().unwrap().iter().map(|n| (n["code"].as_str().unwrap(), n["path"].as_str().unwrap())).collect();
    for want in [
        ("link-loop", "/etc/os-release"),
        ("passwd-line", "/etc/passwd"),
        ("file-cut", "/var/lib/dpkg/status"),
        ("rpm-not-read", "/var/lib/rpm/rpmdb.sqlite"),
    ] {
        assert!(codes.contains(&want), "{want:?} not in {codes:?}");
    }
    let cut = s["notes"].as_array().unwrap().iter().find(|n| n["code"] == "file-cut").unwrap();
    assert!(cut["message"].as_str().unwrap().contains(&format!("{}", 100u64 << 20)), "{cut}");
    // 32 MiB of holes read, not 100 MiB: well under a few seconds even in a debug build.
    assert!(t.elapsed().as_secs() < 30, "{:?}", t.elapsed());
}

#[test]
fn windows_child_named_by_diff() {
    let dir = windows();
    let child = p(&dir.join("windows-child.vhd")).to_string();
    let host = |layer: &str| inspect_json(&[&child, "--layer", layer])["systems"][0]["hostname"].clone();
    let (before, after) = (host("1"), host("0"));
    assert_ne!(before, after);
    let j: Value = serde_json::from_str(&vv(&["diff", &child, "--json"], 0)).unwrap();
    let systems = j["systems"].as_array().unwrap();
    let renamed = systems.iter().find(|c| c["kind"] == "field" && c["name"] == "hostname").expect("the computer name's change");
    assert_eq!((&renamed["old"], &renamed["new"], &renamed["os"]), (&before, &after, &json!("windows")));
    assert_eq!(renamed["source"]["path"], "/Windows/System32/config/SYSTEM");
    // The program the child installed: the one its layer lists and its parent does not.
    let names = |layer: &str| -> Vec<String> {
        let s = &inspect_json(&[&child, "--layer", layer])["systems"][0];
        s["programs"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
    };
    let (old, new) = (names("1"), names("0"));
    let installed: Vec<&String> = new.iter().filter(|n| !old.contains(n)).collect();
    assert_eq!(installed.len(), 1, "{new:?} against {old:?}");
    let added: Vec<&Value> = systems.iter().filter(|c| c["kind"] == "program-added").collect();
    assert_eq!(added.len(), 1, "{systems:?}");
    assert_eq!(&added[0]["name"], installed[0].as_str());
    let text = vv(&["diff", &child], 0);
    assert!(text.contains(&format!("computer name: {} -> {}", before.as_str().unwrap(), after.as_str().unwrap())), "{text}");
    assert!(text.contains(&format!("program installed: {}", installed[0])), "{text}");
}

#[test]
fn fstab_on_an_mbr_disk() {
    let disk = hostile().with_file_name("mbr.vhd");
    let j = inspect_json(&[p(&disk)]);
    let s = &j["systems"][0];
    assert_eq!((s["partition"].as_u64(), s["id"].as_str(), s["product"].as_str()), (Some(1), Some("alpine"), None));
    let mapped: Vec<(&str, Value, Value)> =
        s["mounts"].as_array().unwrap().iter().map(|m| (m["target"].as_str().unwrap(), m["partition"].clone(), m["by"].clone())).collect();
    assert_eq!(
        mapped,
        [
            ("/", json!(1), json!("partuuid")),
            ("/data", json!(2), json!("device")),
            ("/none", json!(null), json!(null)),
            ("/d2", json!(2), json!("label")),
        ]
    );
}
