//! The BitLocker reader on the volumes `examples/bitlocker_volume.rs` writes (from the format's
//! notes, apart from this reader; `tests/web/fixtures/make-bitlocker-vhds.sh` checks each with
//! libbde or dislocker as it makes them): each method
//! and protector kind described as the writer's manifest says and unlocked by each key to the
//! plain volume it was made from, its files equal to what was written; the partial, paused,
//! suspended, Vista and FAT volumes; wrong keys; damaged metadata (bytes of a good volume
//! flipped here); and the command line's flags, compared with pybde.

mod common;
use common::bitlocker::{bitlocker_manifest as manifest, bitlocker_vhds as volumes};
use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use vhd_viewer::bitlocker::{self, Key};
use vhd_viewer::parts::{self, Table};

/// The cases of one protector kind or more, one per method.
const METHODS: [&str; 6] = ["cbc128", "cbc256", "cbc128-diffuser", "cbc256-diffuser", "xts128", "xts256"];

/// The encrypted volume of case `name` as stored (its partition 1's bytes, `cat --partition 1`),
/// read here as a whole-disk image: its offsets are the manifest's.
fn image(name: &str) -> Vec<u8> {
    let vhd = volumes().join(format!("{name}.vhd"));
    cli(&["cat", p(&vhd), "--partition", "1"]).stdout
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
    assert_eq!(b["method"], m["method"]);
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

/// The unlocked volume's files equal what was written: `hello.txt`, `numbers.txt` (and NTFS's
/// `random.bin`, FAT's `Docs/Deeper/NOTE.TXT`).
fn assert_files(t: &Table, img: &mut Vec<u8>, fat: bool) {
    let (mut vol, mut fsys) = t.partitions[0].open(&mut *img).unwrap();
    let names: &[(&str, &str)] = if fat {
        &[("/HELLO.TXT", "hello.txt"), ("/NUMBERS.TXT", "numbers.txt"), ("/Docs/Deeper/NOTE.TXT", "note.txt")]
    } else {
        &[("/hello.txt", "hello.txt"), ("/numbers.txt", "numbers.txt"), ("/random.bin", "random.bin")]
    };
    for (path, source) in names {
        let want = std::fs::read(volumes().join(source)).unwrap();
        let e = fsys.lookup(&mut vol, path, false).unwrap();
        let mut got = Vec::new();
        fsys.read(&mut vol, &e, None, &mut |b| {
            got.extend_from_slice(b);
            Ok(())
        })
        .unwrap();
        assert!(got == want, "{path}: {} bytes differ", got.len());
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
    let mut kinds = Vec::new();
    for m in METHODS {
        let man = manifest(m);
        let mut img = image(m);
        let locked = table(&mut img);
        assert_described(&locked, &man);
        assert!(!locked.partitions[0].readable());
        kinds.extend(locked.partitions[0].bitlocker.as_ref().unwrap().protectors.iter().map(|p| p.kind));
        let keys = keys_of(&man);
        assert!(!keys.is_empty(), "{m}");
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
    use bitlocker::ProtectorKind::*;
    for k in [Tpm, StartupKey, TpmPin, RecoveryPassword, Password] {
        assert!(kinds.contains(&k), "{k:?}");
    }
}

#[test]
fn suspended_partial_vista_and_fat_volumes_read_right() {
    let plain = std::fs::read(volumes().join("ntfs.img")).unwrap();
    // A clear key on the volume (suspended; a paused decryption): it opens with no key given.
    for (name, percent) in [("suspended", 100), ("decryption-paused", 62)] {
        let mut img = image(name);
        let t = table(&mut img);
        assert_described(&t, &manifest(name));
        let b = t.partitions[0].bitlocker.as_ref().unwrap();
        assert_eq!((b.suspended, b.percent_encrypted, b.unlocked), (true, percent, Some("ntfs")), "{name}");
        assert_eq!(b.protectors[0].kind, bitlocker::ProtectorKind::ClearKey);
        assert!(t.partitions[0].readable());
        assert!(plain_of(&t, &mut img) == plain, "{name}");
        assert_files(&t, &mut img, false);
    }
    // Either side of the conversion point while encrypting.
    let mut img = image("encrypting");
    let mut t = table(&mut img);
    assert_described(&t, &manifest("encrypting"));
    assert_eq!(t.partitions[0].bitlocker.as_ref().unwrap().percent_encrypted, 37);
    t.unlock(&mut img, 0, &Key::Password("bde-TEST".into()), &mut |_, _| true).unwrap();
    assert!(plain_of(&t, &mut img) == plain);
    assert_files(&t, &mut img, false);
    // Vista: the boot sector kept in place, its two fields put back.
    let mut img = image("vista");
    let mut t = table(&mut img);
    assert_described(&t, &manifest("vista"));
    t.unlock(&mut img, 0, &Key::Password("bde-TEST".into()), &mut |_, _| true).unwrap();
    assert!(plain_of(&t, &mut img) == plain);
    // FAT inside.
    let mut img = image("fat");
    let mut t = table(&mut img);
    assert_described(&t, &manifest("fat"));
    t.unlock(&mut img, 0, &Key::Password("bde-TEST".into()), &mut |_, _| true).unwrap();
    assert_eq!(t.partitions[0].bitlocker.as_ref().unwrap().unlocked, Some("fat16"));
    assert!(plain_of(&t, &mut img) == std::fs::read(volumes().join("fat.img")).unwrap());
    assert_files(&t, &mut img, true);
}

#[test]
fn wrong_keys_are_told_apart_and_unlock_nothing() {
    let mut img = image("xts128");
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
    let bek = |case: &str| {
        let m = manifest(case);
        let pr = m["protectors"].as_array().unwrap().iter().find(|p| p["kind"] == "startup-key").unwrap().clone();
        volumes().join(pr["bek_path"].as_str().unwrap())
    };
    let other = bek("cbc128-diffuser");
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

/// Block `block` of `img` with its byte `at` changed by `f`, its CRC-32 then made to match
/// (so that the damage reaches the parser) when `refresh`.
fn damage(img: &mut [u8], block: u64, at: usize, f: impl Fn(&mut u8), refresh: bool) {
    let b = block as usize;
    f(&mut img[b + at]);
    if refresh {
        let used = usize::from(u16::from_le_bytes([img[b + 8], img[b + 9]])) * 16;
        let crc = vhd_viewer::bytes::crc32(&img[b..b + used]);
        img[b + used + 4..b + used + 8].copy_from_slice(&crc.to_le_bytes());
    }
}

#[test]
fn damaged_metadata_gives_findings_with_offsets() {
    let man = manifest("cbc128");
    let blocks: Vec<u64> = man["metadata_offsets"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    let good = image("cbc128");
    let key = Key::Password("bde-TEST".into());
    let codes = |t: &Table| t.findings.iter().map(|f| (f.code, f.offset)).collect::<Vec<_>>();
    // Block 1's signature gone: read from block 2, and it still unlocks.
    let mut img = good.clone();
    damage(&mut img, blocks[0], 0, |b| *b ^= 0xff, false);
    let mut t = parts::read(&mut img).unwrap();
    assert_eq!(codes(&t), [("bitlocker-metadata-block", Some(blocks[0]))]);
    t.unlock(&mut img, 0, &key, &mut |_, _| true).unwrap();
    assert_files(&t, &mut img, false);
    // A byte of block 3 changed: its CRC-32 fails; with the CRC-32 made to match, it differs
    // from block 1 at that byte.
    let mut img = good.clone();
    damage(&mut img, blocks[2], 200, |b| *b ^= 1, false);
    let t = parts::read(&mut img).unwrap();
    assert_eq!(codes(&t), [("bitlocker-metadata-block", Some(blocks[2]))]);
    assert!(t.findings[0].message.contains("CRC-32"), "{}", t.findings[0].message);
    let mut img = good.clone();
    damage(&mut img, blocks[2], 200, |b| *b ^= 1, true);
    let t = parts::read(&mut img).unwrap();
    assert_eq!(codes(&t), [("bitlocker-metadata-differ", Some(blocks[2] + 200))]);
    // None of the three readable: a finding at the volume's start, and the partition is locked.
    let mut img = good.clone();
    for b in &blocks {
        damage(&mut img, *b, 0, |x| *x ^= 0xff, false);
    }
    let t = parts::read(&mut img).unwrap();
    assert!(t.findings.iter().any(|f| f.code == "bitlocker-metadata" && f.offset == Some(0)), "{:?}", t.findings);
    assert!(t.partitions[0].bitlocker.is_none());
    let e = t.clone().unlock(&mut img, 0, &key, &mut |_, _| true).unwrap_err();
    assert_eq!(e.code(), "bitlocker-metadata");
    // The wrapped FVEK damaged in every copy: the password opens the VMK, the FVEK's tag fails.
    let fvek = parts::read(&mut good.clone())
        .unwrap()
        .structures
        .iter()
        .find(|s| s.name.starts_with("Full-volume encryption key"))
        .unwrap()
        .offset
        - blocks[0];
    let mut img = good.clone();
    for b in &blocks {
        damage(&mut img, *b, fvek as usize + 40, |x| *x ^= 1, true);
    }
    let mut t = parts::read(&mut img).unwrap();
    let e = t.unlock(&mut img, 0, &key, &mut |_, _| true).unwrap_err();
    assert_eq!((e.code(), e.offset()), ("bitlocker-fvek", Some(blocks[0] + fvek)), "{e}");
    // An entry's size past the metadata's end: a finding at the entry, never a panic.
    let mut img = good.clone();
    for b in &blocks {
        damage(&mut img, *b, 64 + 48, |x| *x = 0xf0, true);
        damage(&mut img, *b, 64 + 49, |x| *x = 0xff, true);
    }
    let t = parts::read(&mut img).unwrap();
    assert!(t.findings.iter().any(|f| f.code == "bitlocker-entry-size" && f.offset == Some(blocks[0] + 112)), "{:?}", t.findings);
}

#[test]
fn a_copy_failing_its_crc_is_not_read() {
    let man = manifest("damaged");
    let block1 = man["metadata_offsets"][0].as_u64().unwrap();
    let mut img = image("damaged");
    let mut t = parts::read(&mut img).unwrap();
    let f: Vec<_> = t.findings.iter().map(|f| (f.code, f.offset)).collect();
    assert_eq!(f, [("bitlocker-metadata-block", Some(block1))], "{:?}", t.findings);
    assert!(t.findings[0].message.contains("CRC-32"), "{}", t.findings[0].message);
    assert_eq!(t.partitions[0].bitlocker.as_ref().unwrap().description.as_deref(), man["description"].as_str());
    t.unlock(&mut img, 0, &Key::Password("bde-TEST".into()), &mut |_, _| true).unwrap();
    assert_files(&t, &mut img, false);
}

/// pybde's plain bytes of `image` unlocked with `password`.
fn pybde_plain(image: &Path, password: &str) -> Vec<u8> {
    let script = "import pybde, sys\nv = pybde.volume()\nv.set_password(sys.argv[2])\nv.open(sys.argv[1])\nsys.stdout.buffer.write(v.read_buffer_at_offset(v.get_size(), 0))\n";
    run_ok(Command::new("/usr/bin/python3").args(["-c", script, p(image), password])).stdout
}

#[test]
fn the_command_line_unlocks_with_each_flag_and_agrees_with_pybde() {
    let dir = volumes();
    let vhd = dir.join("xts128.vhd");
    let man = manifest("xts128");
    let keys = man["protectors"].as_array().unwrap();
    let secret = |kind: &str, field: &str| keys.iter().find(|k| k["kind"] == kind).unwrap()[field].as_str().unwrap().to_string();
    let (password, recovery, bek) =
        (secret("password", "password"), secret("recovery-password", "recovery_password"), secret("startup-key", "bek_path"));
    let j: Value = serde_json::from_str(&vv(&["parts", p(&vhd), "--json"], 0)).unwrap();
    assert_eq!(j["partitions"][0]["filesystem"], "bitlocker");
    assert_eq!(j["partitions"][0]["bitlocker"]["unlocked"], Value::Null);
    assert_eq!(j["partitions"][0]["bitlocker"]["volume_id"], format!("{{{}}}", man["volume_guid"].as_str().unwrap()));
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
    let ours = cli(&["cat", p(&vhd), "--partition", "1", "--decrypted", "--password", &password]).stdout;
    let stored = dir.join("xts128-stored.tmp");
    std::fs::write(&stored, image("xts128")).unwrap();
    let theirs = pybde_plain(&stored, &password);
    let _ = std::fs::remove_file(&stored);
    assert!(theirs.len() >= ours.len() - 512 && ours[..theirs.len()] == theirs[..]);
    assert!(ours == std::fs::read(dir.join("ntfs.img")).unwrap());
    // A wrong password: exit status 2 and the words.
    let (_, err) = vv_both(&["ls", p(&vhd), "--password", "wrong"], 2);
    assert!(err.contains("this password does not unlock the volume"), "{err}");
    let (_, err) = vv_both(&["cat", p(&vhd), "--partition", "1", "--decrypted"], 2);
    assert!(err.contains("a locked BitLocker volume"), "{err}");
}

#[test]
fn diff_compares_a_bitlocker_volume_file_by_file_with_its_key() {
    let ex = common::bitlocker::writer();
    let script = format!(
        r#"set -euo pipefail
echo one > one.txt
echo added by the child > added.txt
truncate -s 4M plain-parent.img
mkntfs -q -F -Q -c 4096 -L BDEDIFF plain-parent.img >/dev/null 2>&1
ntfscp -q -f plain-parent.img one.txt /one.txt
cp plain-parent.img plain-child.img
ntfscp -q -f plain-child.img added.txt /added.txt
for side in parent child; do
  {w} --in plain-$side.img --out $side.raw --method aes-xts-128 --password pw --seed 9 --manifest $side.json >/dev/null
done
{v} dynamic parent.raw parent.vhd
{v} child parent.raw parent.vhd child.raw child.vhd
touch done
"#,
        w = ex.display(),
        v = ex.with_file_name("vhd_from_raw").display()
    );
    let dir = script_image("bitlocker", "diff", &script, &[], "done", &[]);
    let child = dir.join("child.vhd");
    let parent = dir.join("parent.vhd");
    let j: Value = serde_json::from_str(&vv(&["diff", p(&child), "--parent", p(&parent), "--json", "--password", "pw"], 0)).unwrap();
    let changes: Vec<(&str, &str)> = j["partitions"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["path"].as_str().unwrap(), c["kind"].as_str().unwrap()))
        .filter(|(path, _)| !path.starts_with("/$"))
        .collect();
    assert_eq!(changes, [("/added.txt", "added")], "{j}");
    // Without the key, the volume's files are not compared.
    let j: Value = serde_json::from_str(&vv(&["diff", p(&child), "--parent", p(&parent), "--json"], 0)).unwrap();
    assert!(j["partitions"][0]["changes"].as_array().unwrap().is_empty(), "{j}");
}

#[test]
fn parts_and_the_report_say_a_bitlocker_partition_in_words() {
    let dir = volumes();
    let man = manifest("xts128");
    let ids: Vec<String> = man["protectors"].as_array().unwrap().iter().map(|k| format!("{{{}}}", k["id"].as_str().unwrap())).collect();
    let password =
        man["protectors"].as_array().unwrap().iter().find(|k| k["kind"] == "password").unwrap()["password"].as_str().unwrap().to_string();
    let vhd = dir.join("xts128.vhd");
    let locked = vv(&["parts", p(&vhd)], 0);
    let pw_id = man["protectors"].as_array().unwrap().iter().find(|k| k["kind"] == "password").unwrap()["id"].as_str().unwrap().to_string();
    assert!(locked.contains("BitLocker (Windows 7+) aes-xts-128, encrypted; protectors: TPM {"), "{locked}");
    assert!(locked.contains(&format!("password {{{pw_id}}}")), "{locked}");
    assert!(locked.contains("; locked") && ids.iter().all(|id| locked.contains(id.as_str())), "{locked}");
    let open = vv(&["parts", p(&vhd), "--password", &password], 0);
    assert!(open.contains("; unlocked: ntfs"), "{open}");
    // A conversion under way says how far it got.
    let partly = vv(&["parts", p(&dir.join("encrypting.vhd"))], 0);
    let pct = manifest("encrypting")["encrypted_size"].as_u64().unwrap() * 100 / (8192 * 512);
    assert!(partly.contains(&format!("aes-xts-128, encrypting, {pct}% encrypted;")), "{partly}");
    // The report's partitions section says the same, unlocked by the key given.
    let html = vv(&["report", p(&vhd), "--password", &password], 0);
    assert!(
        html.contains("<p>Partition 1: BitLocker (Windows 7+) aes-xts-128, encrypted; protectors: ")
            && html.contains("; unlocked: ntfs</p>"),
        "{html}"
    );
    let (_, err) = vv_both(&["report", p(&vhd), "--password", "wrong"], 2);
    assert!(err.contains("this password does not unlock the volume"), "{err}");
}

#[test]
fn a_to_go_boot_sector_is_read_and_unlocked_as_pybde_unlocks_it() {
    // The FAT case's volume with its boot sector made To Go's (not written by the writer, which
    // has no To Go layout): OEM name MSWIN4.1, the identifier and the three metadata offsets at
    // 424 instead of 160. The metadata blocks and the sectors are the same.
    let mut img = image("fat");
    img[3..11].copy_from_slice(b"MSWIN4.1");
    let moved = img[160..200].to_vec();
    img[424..464].copy_from_slice(&moved);
    img[160..200].fill(0);
    let mut t = table(&mut img);
    let b = t.partitions[0].bitlocker.as_ref().unwrap();
    assert_eq!((b.version, b.method, b.unlocked), (bitlocker::Version::ToGo, "aes-xts-128", None), "{b:?}");
    assert!(b.words().starts_with("BitLocker (To Go) aes-xts-128, encrypted;"), "{}", b.words());
    t.unlock(&mut img, 0, &Key::Password("bde-TEST".into()), &mut |_, _| true).unwrap();
    assert_files(&t, &mut img, true);
    let ours = plain_of(&t, &mut img);
    assert!(ours == std::fs::read(volumes().join("fat.img")).unwrap());
    // libbde reads it as To Go too, to the same bytes (but the last sector it may leave out).
    let stored = volumes().join("togo-stored.tmp");
    std::fs::write(&stored, &img).unwrap();
    let theirs = pybde_plain(&stored, "bde-TEST");
    let _ = std::fs::remove_file(&stored);
    assert!(theirs.len() >= ours.len() - 512 && ours[..theirs.len()] == theirs[..], "pybde: {} bytes", theirs.len());
}
