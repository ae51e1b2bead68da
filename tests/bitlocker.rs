//! The BitLocker reader on the volumes `examples/bitlocker_volume.rs` writes (from the format's
//! notes, apart from this reader; libbde checks them in `tests/bitlocker_writer.rs`): each method
//! and protector kind described as the writer's manifest says and unlocked by each key to the
//! plain volume it was made from, its files equal to what was written; the partial, paused,
//! suspended, Vista and FAT volumes; wrong keys; damaged metadata (bytes of a good volume
//! flipped here); and the command line's flags, compared with pybde.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use vhd_viewer::bitlocker::{self, Key};
use vhd_viewer::parts::{self, Table};

const METHODS: [&str; 6] = ["aes-cbc-128", "aes-cbc-256", "aes-cbc-128-diffuser", "aes-cbc-256-diffuser", "aes-xts-128", "aes-xts-256"];

/// The volumes, made once per content of the script: `METHOD.img` (NTFS, 4 MiB, every protector:
/// password, recovery password, startup key in `keys-METHOD/`, TPM, TPM+PIN) with `METHOD.json`;
/// `suspended`, `encrypting`, `paused` (decryption paused), `vista`, `fat`; `xts.vhd` (the
/// `aes-xts-128` volume in a dynamic VHD) for the command line.
fn volumes() -> PathBuf {
    static ONCE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        run_ok(Command::new(cargo).current_dir(repo()).args(["build", "--quiet", "--example", "bitlocker_volume", "--example", "vhd_from_raw"]));
        let ex = repo().join("target/debug/examples");
        let script = format!(
            r#"set -euo pipefail
W={w}
export MTOOLS_SKIP_CHECK=1
echo hello from a BitLocker volume > hello.txt
seq 1 60000 > numbers.txt
truncate -s 4M ntfs.img
mkntfs -q -F -Q -c 4096 -s 512 -p 2048 -H 255 -S 63 -L BDENTFS ntfs.img >/dev/null 2>&1
ntfscp -q -f ntfs.img hello.txt /hello.txt
ntfscp -q -f ntfs.img numbers.txt /numbers.txt
truncate -s 4M fatplain.img
mkfs.vfat -n BDEFAT fatplain.img >/dev/null
mcopy -i fatplain.img hello.txt ::/HELLO.TXT
mcopy -i fatplain.img numbers.txt ::/NUMBERS.TXT
seed=1
for m in {methods}; do
  mkdir keys-$m
  "$W" --in ntfs.img --out $m.img --manifest $m.json --method $m --password "pw $m" --recovery-password auto \
    --startup-key keys-$m --tpm --tpm-pin --seed $seed
  seed=$((seed + 1))
done
"$W" --in ntfs.img --out suspended.img --manifest suspended.json --method aes-cbc-128 --clear-key --tpm --seed 20
"$W" --in ntfs.img --out encrypting.img --manifest encrypting.json --method aes-xts-128 --password pw --encrypted-bytes 1572864 --state encrypting --seed 21
"$W" --in ntfs.img --out paused.img --manifest paused.json --method aes-cbc-256-diffuser --password pw --encrypted-bytes 2621440 --state decryption-paused --seed 22
"$W" --in ntfs.img --out vista.img --manifest vista.json --method aes-cbc-128-diffuser --layout vista --password vista --seed 23
"$W" --in fatplain.img --out fat.img --manifest fat.json --method aes-cbc-128 --password fat --seed 24
{v} dynamic aes-xts-128.img xts.vhd
touch done
"#,
            w = ex.join("bitlocker_volume").display(),
            v = ex.join("vhd_from_raw").display(),
            methods = METHODS.join(" ")
        );
        script_image("bitlocker", "reader", &script, &[], "done", &[])
    })
    .clone()
}

fn manifest(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(volumes().join(format!("{name}.json"))).unwrap()).unwrap()
}

fn image(name: &str) -> Vec<u8> {
    std::fs::read(volumes().join(format!("{name}.img"))).unwrap()
}

/// The whole-volume partition 0 of `img`, read.
fn table(img: &mut Vec<u8>) -> Table {
    let t = parts::read(img).unwrap();
    assert_eq!(t.partitions.len(), 1);
    assert_eq!(t.partitions[0].filesystem.map(|k| k.name()), Some("bitlocker"));
    t
}

/// The `bitlocker` object says what the manifest says.
fn assert_described(t: &Table, m: &Value) {
    let b = serde_json::to_value(t.partitions[0].bitlocker.as_ref().unwrap()).unwrap();
    assert_eq!(b["method"], m["method"], "{b}");
    let clear = m["protectors"].as_array().unwrap().iter().any(|p| p["kind"] == "clear-key");
    let state = if clear && m["state"] == "encrypted" { "suspended" } else { m["state"].as_str().unwrap() };
    assert_eq!(b["state"], state, "{b}");
    assert_eq!(b["suspended"], clear);
    assert_eq!(b["version"], if m["layout"] == "vista" { "vista" } else { "windows7" });
    assert_eq!(b["volume_id"], format!("{{{}}}", m["volume_guid"].as_str().unwrap()));
    assert_eq!(b["description"], m["description"]);
    assert_eq!(b["encrypted_bytes"], m["encrypted_size"]);
    let got: Vec<(&str, &str, u64)> = b["protectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["kind"].as_str().unwrap(), p["id"].as_str().unwrap(), p["offset"].as_u64().unwrap()))
        .collect();
    let ids: Vec<String> = m["protectors"].as_array().unwrap().iter().map(|p| format!("{{{}}}", p["id"].as_str().unwrap())).collect();
    let want: Vec<(&str, &str, u64)> = m["protectors"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&ids)
        .map(|(p, id)| (p["kind"].as_str().unwrap(), id.as_str(), p["offset"].as_u64().unwrap()))
        .collect();
    assert_eq!(got, want);
    // Each protector is a structure at its offset.
    for (_, id, offset) in &want {
        assert!(t.structures.iter().any(|s| s.offset == *offset && s.name.contains(id)), "{id} at {offset:#x}");
    }
    assert!(t.findings.is_empty(), "{:?}", t.findings);
}

/// The keys the manifest's protectors open the volume with.
fn keys_of(m: &Value) -> Vec<Key> {
    m["protectors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| match p["kind"].as_str().unwrap() {
            "password" => Some(Key::Password(p["password"].as_str().unwrap().into())),
            "recovery-password" => Some(Key::RecoveryPassword(p["recovery_password"].as_str().unwrap().into())),
            "startup-key" => Some(Key::KeyFile(std::fs::read(volumes().join(p["bek_path"].as_str().unwrap())).unwrap())),
            _ => None,
        })
        .collect()
}

/// The unlocked volume's files: `hello.txt` and `numbers.txt` as written.
fn assert_files(t: &Table, img: &mut Vec<u8>, upper: bool) {
    let (mut vol, mut fsys) = t.partitions[0].open(&mut *img).unwrap();
    for (name, want) in
        [("hello.txt", "hello from a BitLocker volume\n".to_string()), ("numbers.txt", (1..=60000).map(|n| format!("{n}\n")).collect())]
    {
        let path = if upper { format!("/{}", name.to_uppercase()) } else { format!("/{name}") };
        let e = fsys.lookup(&mut vol, &path, false).unwrap();
        let mut got = Vec::new();
        fsys.read(&mut vol, &e, None, &mut |b| {
            got.extend_from_slice(b);
            Ok(())
        })
        .unwrap();
        assert!(got == want.as_bytes(), "{path}: {} bytes differ", got.len());
    }
}

/// The whole unlocked volume, read through its page cache.
fn plain_of(t: &Table, img: &mut Vec<u8>) -> Vec<u8> {
    let mut vol = t.partitions[0].volume(&mut *img);
    vol.read_vec(0, vol.len() as usize).unwrap()
}

#[test]
fn every_method_and_protector_is_described_and_each_key_unlocks_it() {
    let plain = std::fs::read(volumes().join("ntfs.img")).unwrap();
    for m in METHODS {
        let man = manifest(m);
        let mut img = image(m);
        let locked = table(&mut img);
        assert_described(&locked, &man);
        assert!(!locked.partitions[0].readable());
        let keys = keys_of(&man);
        assert_eq!(keys.len(), 3, "{m}");
        for (i, key) in keys.iter().enumerate() {
            let mut t = locked.clone();
            t.unlock(&mut img, 0, key, &mut |_, _| true).unwrap_or_else(|e| panic!("{m} {key:?}: {e}"));
            let p = &t.partitions[0];
            assert!(p.readable());
            assert_eq!(p.bitlocker.as_ref().unwrap().unlocked, Some("ntfs"));
            assert_eq!(p.label.as_deref(), Some("BDENTFS"));
            assert_files(&t, &mut img, false);
            if i == 0 {
                assert!(plain_of(&t, &mut img) == plain, "{m}: the unlocked volume differs from the plain one");
            }
        }
    }
}

#[test]
fn suspended_partial_vista_and_fat_volumes_read_right() {
    let plain = std::fs::read(volumes().join("ntfs.img")).unwrap();
    // Suspended: the clear key opens it with no key given.
    let mut img = image("suspended");
    let t = table(&mut img);
    assert_described(&t, &manifest("suspended"));
    assert!(t.partitions[0].readable());
    assert!(plain_of(&t, &mut img) == plain);
    let kinds: Vec<_> = t.partitions[0].bitlocker.as_ref().unwrap().protectors.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, [bitlocker::ProtectorKind::ClearKey, bitlocker::ProtectorKind::Tpm]);
    // Either side of the conversion point, encrypting and decryption paused.
    for (name, percent) in [("encrypting", 37), ("paused", 62)] {
        let mut img = image(name);
        let mut t = table(&mut img);
        assert_described(&t, &manifest(name));
        assert_eq!(t.partitions[0].bitlocker.as_ref().unwrap().percent_encrypted, percent);
        t.unlock(&mut img, 0, &Key::Password("pw".into()), &mut |_, _| true).unwrap();
        assert!(plain_of(&t, &mut img) == plain, "{name}");
        assert_files(&t, &mut img, false);
    }
    // Vista: the boot sector kept in place, its two fields put back.
    let mut img = image("vista");
    let mut t = table(&mut img);
    assert_described(&t, &manifest("vista"));
    t.unlock(&mut img, 0, &Key::Password("vista".into()), &mut |_, _| true).unwrap();
    assert!(plain_of(&t, &mut img) == plain);
    // FAT inside.
    let mut img = image("fat");
    let mut t = table(&mut img);
    assert_described(&t, &manifest("fat"));
    t.unlock(&mut img, 0, &Key::Password("fat".into()), &mut |_, _| true).unwrap();
    assert_eq!(t.partitions[0].bitlocker.as_ref().unwrap().unlocked, Some("fat12"));
    assert!(plain_of(&t, &mut img) == std::fs::read(volumes().join("fatplain.img")).unwrap());
    assert_files(&t, &mut img, true);
}

#[test]
fn wrong_keys_are_told_apart_and_unlock_nothing() {
    let mut img = image("aes-cbc-128");
    let t = table(&mut img);
    let mut code = |key: Key| {
        let mut t = t.clone();
        let e = t.unlock(&mut img, 0, &key, &mut |_, _| true).unwrap_err();
        assert!(t.partitions[0].unlock.is_none() && !t.partitions[0].readable());
        (e.code(), e.to_string())
    };
    let (c, text) = code(Key::Password("not it".into()));
    assert_eq!(c, "bitlocker-wrong-key");
    assert!(text.starts_with("this password does not unlock the volume"), "{text}");
    // A well-formed recovery password that is not this volume's (every group 11 × n, checked).
    let (c, text) = code(Key::RecoveryPassword("000000-000011-000022-000033-000044-000055-000066-000077".into()));
    assert_eq!(c, "bitlocker-wrong-key", "{text}");
    assert!(text.starts_with("this recovery password does not unlock"), "{text}");
    let (c, text) = code(Key::RecoveryPassword("000000-000011-000022-000033-000044-000055-000066-000078".into()));
    assert_eq!(c, "bitlocker-recovery-password");
    assert!(text.contains("group 8"), "{text}");
    // Another volume's startup key; a file that is none.
    let other = std::fs::read_dir(volumes().join("keys-aes-xts-256")).unwrap().next().unwrap().unwrap().path();
    assert_eq!(code(Key::KeyFile(std::fs::read(other).unwrap())).0, "bitlocker-wrong-key");
    assert_eq!(code(Key::KeyFile(b"not a key file".to_vec())).0, "bitlocker-key-file");
    // A protector the volume does not have.
    let (c, text) = code(Key::ClearKey);
    assert_eq!(c, "bitlocker-no-protector");
    assert!(text.ends_with("its key protectors are TPM, TPM and PIN, startup key, recovery password, password"), "{text}");
    // Stopped during the stretch.
    let mut t2 = t.clone();
    let e = t2.unlock(&mut img, 0, &Key::Password("x".into()), &mut |done, _| done < 1 << 16).unwrap_err();
    assert_eq!(e.code(), "bitlocker-stopped");
}

#[test]
fn damaged_metadata_gives_findings_with_offsets() {
    let man = manifest("aes-cbc-128");
    let blocks: Vec<u64> = man["metadata_offsets"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    let good = image("aes-cbc-128");
    let key = Key::Password("pw aes-cbc-128".into());
    // Block 1's signature gone: read from block 2, and it still unlocks.
    let mut img = good.clone();
    img[blocks[0] as usize] ^= 0xff;
    let mut t = parts::read(&mut img).unwrap();
    let f: Vec<_> = t.findings.iter().map(|f| (f.code, f.offset)).collect();
    assert_eq!(f, [("bitlocker-metadata-block", Some(blocks[0]))]);
    t.unlock(&mut img, 0, &key, &mut |_, _| true).unwrap();
    assert_files(&t, &mut img, false);
    // Block 3 differs in an entry: named at the byte.
    let mut img = good.clone();
    let at = blocks[2] as usize + 200;
    img[at] ^= 1;
    let t = parts::read(&mut img).unwrap();
    let f: Vec<_> = t.findings.iter().map(|f| (f.code, f.offset)).collect();
    assert_eq!(f, [("bitlocker-metadata-differ", Some(at as u64))]);
    // None of the three readable: a finding at the volume's start, and the partition is locked.
    let mut img = good.clone();
    for b in &blocks {
        img[*b as usize] ^= 0xff;
    }
    let t = parts::read(&mut img).unwrap();
    assert!(t.findings.iter().any(|f| f.code == "bitlocker-metadata" && f.offset == Some(0)), "{:?}", t.findings);
    assert!(t.partitions[0].bitlocker.is_none());
    let e = t.clone().unlock(&mut img, 0, &key, &mut |_, _| true).unwrap_err();
    assert_eq!(e.code(), "bitlocker-metadata");
    // The wrapped FVEK damaged in every copy: the password opens the VMK, the FVEK's tag fails.
    let mut img = good.clone();
    let t = parts::read(&mut img.clone()).unwrap();
    let fvek = t.structures.iter().find(|s| s.name.starts_with("Full-volume encryption key")).unwrap().offset - blocks[0];
    for b in &blocks {
        img[(b + fvek) as usize + 40] ^= 1;
    }
    let mut t = parts::read(&mut img).unwrap();
    let e = t.unlock(&mut img, 0, &key, &mut |_, _| true).unwrap_err();
    assert_eq!((e.code(), e.offset()), ("bitlocker-fvek", Some(blocks[0] + fvek)), "{e}");
    // An entry's size past the metadata's end: a finding at the entry, never a panic.
    let mut img = good.clone();
    let first_entry = blocks[0] as usize + 64 + 48;
    for b in &blocks {
        let at = *b as usize + 64 + 48;
        img[at..at + 2].copy_from_slice(&0xfff0u16.to_le_bytes());
    }
    let t = parts::read(&mut img).unwrap();
    assert!(t.findings.iter().any(|f| f.code == "bitlocker-entry-size" && f.offset == Some(first_entry as u64)), "{:?}", t.findings);
}

/// pybde's plain bytes of `image` unlocked with `password`.
fn pybde_plain(image: &Path, password: &str) -> Vec<u8> {
    let script = "import pybde, sys\nv = pybde.volume()\nv.set_password(sys.argv[2])\nv.open(sys.argv[1])\nsys.stdout.buffer.write(v.read_buffer_at_offset(v.get_size(), 0))\n";
    run_ok(Command::new("/usr/bin/python3").args(["-c", script, p(image), password])).stdout
}

#[test]
fn the_command_line_unlocks_with_each_flag_and_agrees_with_pybde() {
    let dir = volumes();
    let vhd = dir.join("xts.vhd");
    let man = manifest("aes-xts-128");
    let keys = man["protectors"].as_array().unwrap();
    let secret = |kind: &str, field: &str| keys.iter().find(|k| k["kind"] == kind).unwrap()[field].as_str().unwrap().to_string();
    let (password, recovery, bek) =
        (secret("password", "password"), secret("recovery-password", "recovery_password"), secret("startup-key", "bek_path"));
    let j: Value = serde_json::from_str(&vv(&["parts", p(&vhd), "--json"], 0)).unwrap();
    assert_eq!(j["partitions"][0]["filesystem"], "bitlocker");
    assert_eq!(j["partitions"][0]["bitlocker"]["unlocked"], Value::Null);
    let j: Value = serde_json::from_str(&vv(&["parts", p(&vhd), "--json", "--recovery-password", &recovery], 0)).unwrap();
    assert_eq!(j["partitions"][0]["bitlocker"]["unlocked"], "ntfs");
    assert!(vv(&["ls", p(&vhd), "--key-file", p(&dir.join(&bek))], 0).contains("/numbers.txt"));
    // The password on standard input.
    let mut child = Command::new(bin())
        .args(["get", p(&vhd), "/hello.txt", "--password-file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), format!("{password}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from a BitLocker volume\n");
    // The plain volume: ours, pybde's and the image it was made from agree (pybde leaves out the
    // last sector, NTFS's copy of its boot sector).
    let ours = cli(&["cat", p(&vhd), "--partition", "0", "--decrypted", "--password", &password]).stdout;
    let theirs = pybde_plain(&dir.join("aes-xts-128.img"), &password);
    assert!(theirs.len() >= ours.len() - 512 && ours[..theirs.len()] == theirs[..]);
    assert!(ours == std::fs::read(dir.join("ntfs.img")).unwrap());
    // A wrong password: exit status 2 and the words.
    let (_, err) = vv_both(&["ls", p(&vhd), "--password", "wrong"], 2);
    assert!(err.contains("this password does not unlock the volume"), "{err}");
    let (_, err) = vv_both(&["cat", p(&vhd), "--partition", "0", "--decrypted"], 2);
    assert!(err.contains("a locked BitLocker volume"), "{err}");
}
