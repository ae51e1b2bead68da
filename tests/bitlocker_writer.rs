//! The BitLocker test volumes (`examples/bitlocker_volume.rs`) checked with two independent
//! readers, libbde 20190102 (Debian's `bdeinfo` and `pybde`) and dislocker 0.7.3
//! (`dislocker-file`): for every method, the volume is described as the manifest says (method,
//! volume GUID, description, each protector's ID and kind) and, opened with each key (password,
//! recovery password, startup key file, clear key), reads byte for byte as the plain volume it
//! was made from; likewise the partly encrypted states, the Vista layout, a FAT volume; a wrong
//! password unlocks nothing; a damaged metadata block fails dislocker's CRC-32 check while the
//! other two pass it; the same seed writes the same bytes.
//!
//! What each reader cannot do, and how it is covered: libbde 20190102 cannot decrypt AES-XTS 256
//! (its support came in July 2019): dislocker reads those with each key. libbde takes a Vista
//! metadata block header's MFT mirror cluster (offset 56) for a Windows 7 volume header offset and
//! refuses the volume, and dislocker 0.7.3 finds no size for it (its Vista support came later):
//! the Vista volume is read by libbde from a copy with that field zeroed (the boot sector's MFT
//! mirror field, which libbde restores from it, then left out of the comparison). dislocker
//! takes the encrypted size for the volume's size, so a partly encrypted volume is compared up to
//! there by it (and whole by libbde); it refuses a volume being converted (state 2) unless told
//! `-s`.

mod common;
use common::bitlocker::*;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The plain volumes of the fixture VHDs: `ntfs.img` and `fat.img` (4 MiB each, a few files).
fn plain() -> PathBuf {
    bitlocker_vhds()
}

/// Writes `out` from `plain` with `args`; returns the manifest.
fn write(dir: &Path, plain: &Path, out: &str, args: &[&str]) -> Value {
    let manifest = dir.join(format!("{out}.json"));
    run_ok(Command::new(writer()).args(["--in", p(plain), "--out", p(&dir.join(out)), "--manifest", p(&manifest)]).args(args));
    serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap()
}

/// Opens `image` with pybde once per key (`password:P`, `recovery:DIGITS`, `bek:PATH`, `none`)
/// and compares what it reads with `plain`; one line per key: `ok SIZE`, or what went wrong.
const PYBDE: &str = r#"
import pybde, sys
image, plain, keys = sys.argv[1], open(sys.argv[2], 'rb').read(), sys.argv[3:]
for key in keys:
    how, _, secret = key.partition(':')
    v = pybde.volume()
    try:
        if how == 'password': v.set_password(secret)
        elif how == 'recovery': v.set_recovery_password(secret)
        elif how == 'bek': v.read_startup_key(secret)
        v.open(image)
    except OSError as e:
        print('error', str(e).replace('\n', ' ')); continue
    if v.is_locked():
        print('locked'); continue
    size = v.get_size()
    data = v.read_buffer_at_offset(size, 0)
    bad = [k for k in range(0, size, 512) if data[k:k + 512] != plain[k:k + 512]]
    print('ok', size) if not bad else print('differs at sectors', bad[:8], 'of', size // 512)
"#;

/// pybde's answer for each key (see [`PYBDE`]).
fn pybde(image: &Path, plain: &Path, keys: &[String]) -> Vec<String> {
    let out = run_ok(Command::new("/usr/bin/python3").arg("-c").arg(PYBDE).arg(image).arg(plain).args(keys));
    stdout(&out).lines().map(str::to_string).collect()
}

/// What dislocker-file decrypts `image` to with `key` (as [`keys_of`] writes them), or its error.
fn dislocker(image: &Path, key: &str) -> Result<Vec<u8>, String> {
    let out = image.with_extension(format!("dislocker-{}", fnv(key.as_bytes())));
    let _ = std::fs::remove_file(&out);
    let (how, secret) = key.split_once(':').unwrap();
    let mut cmd = Command::new("dislocker-file");
    cmd.args(["-v", "-s", "-V", p(image)]);
    match how {
        "password" => cmd.arg(format!("-u{secret}")),
        "recovery" => cmd.arg(format!("-p{secret}")),
        "bek" => cmd.args(["-f", secret]),
        _ => cmd.arg("-c"),
    };
    let o = output(cmd.arg("--").arg(&out));
    let text = format!("{}{}", stdout(&o), stderr(&o));
    let bytes = std::fs::read(&out).map_err(|_| text.clone())?;
    let _ = std::fs::remove_file(&out);
    if !o.status.success() || bytes.is_empty() {
        return Err(text);
    }
    Ok(bytes)
}

/// dislocker read `image` with each key equal to the plain volume, up to the encrypted size.
fn assert_dislocker(image: &Path, plain: &Path, keys: &[String], m: &Value) {
    let plain = std::fs::read(plain).unwrap();
    let encrypted = m["encrypted_size"].as_u64().unwrap() as usize;
    for key in keys {
        let read = dislocker(image, key).unwrap_or_else(|e| panic!("dislocker {key}: {e}"));
        assert_eq!(read.len(), encrypted, "dislocker {key}");
        assert!(read == plain[..encrypted], "dislocker {key}: other bytes than the plain volume's");
    }
}

/// pybde read the whole volume equal to the plain one. libbde sizes a volume by its file system's
/// own count: NTFS leaves the last sector (its boot sector's copy) out, which libbde adds back only
/// when the volume is wholly encrypted.
fn assert_equal(answers: &[String], keys: &[String], size: u64) {
    assert_eq!(answers.len(), keys.len(), "{answers:?}");
    for (a, k) in answers.iter().zip(keys) {
        let read: Option<u64> = a.strip_prefix("ok ").and_then(|s| s.parse().ok());
        assert!(read.is_some_and(|r| r == size || r == size - 512), "{k}: {a}");
    }
}

/// The keys the manifest's protectors open the volume with.
fn keys_of(m: &Value) -> Vec<String> {
    let mut keys = Vec::new();
    for pr in m["protectors"].as_array().unwrap() {
        match pr["kind"].as_str().unwrap() {
            "password" => keys.push(format!("password:{}", pr["password"].as_str().unwrap())),
            "recovery-password" => keys.push(format!("recovery:{}", pr["recovery_password"].as_str().unwrap())),
            "startup-key" => keys.push(format!("bek:{}", pr["bek_path"].as_str().unwrap())),
            "clear-key" => keys.push("none:".into()),
            _ => {}
        }
    }
    keys
}

/// bdeinfo's description agrees with the manifest: method, volume GUID, description, and each
/// protector's ID and kind in order.
fn assert_described(image: &Path, m: &Value) {
    // bdeinfo exits 1 when no key unlocks the volume, having described it.
    let text = stdout(&output(Command::new("bdeinfo").arg(image)));
    let field = |name: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.trim().strip_prefix(name))
            .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string())
            .collect()
    };
    let method = match m["method"].as_str().unwrap() {
        "aes-cbc-128" => "AES-CBC 128-bit",
        "aes-cbc-256" => "AES-CBC 256-bit",
        "aes-cbc-128-diffuser" => "AES-CBC 128-bit with Diffuser",
        "aes-cbc-256-diffuser" => "AES-CBC 256-bit with Diffuser",
        "aes-xts-128" => "AES-XTS 128-bit",
        "aes-xts-256" => "AES-XTS 256-bit",
        other => panic!("{other}"),
    };
    assert_eq!(field("Encryption method"), [method], "{text}");
    assert_eq!(field("Volume identifier"), [m["volume_guid"].as_str().unwrap().to_lowercase()], "{text}");
    assert_eq!(field("Description"), [m["description"].as_str().unwrap()], "{text}");
    let protectors = m["protectors"].as_array().unwrap();
    let ids: Vec<String> = protectors.iter().map(|pr| pr["id"].as_str().unwrap().to_lowercase()).collect();
    assert_eq!(field("Identifier"), ids, "{text}");
    let kinds: Vec<&str> = protectors
        .iter()
        .map(|pr| match pr["kind"].as_str().unwrap() {
            "clear-key" => "Clear key",
            "tpm" => "TPM",
            "tpm-pin" => "Unknown (0x0500)", // libbde 20190102 has no name for TPM and PIN
            "startup-key" => "Startup key",
            "recovery-password" => "Recovery password",
            "password" => "Password",
            other => panic!("{other}"),
        })
        .collect();
    assert_eq!(field("Type"), kinds, "{text}");
    assert_eq!(field("Number of key protectors"), [protectors.len().to_string()], "{text}");
}

/// The manifest's offsets hold what it says: the three metadata blocks' signatures naming each
/// other, the boot sectors' copy named by the block header, and each protector's VMK entry
/// (entry type 2, value type 8) beginning with its ID (a GUID stored with its first three fields
/// little-endian); a startup key's file is named `{ID}.BEK`, as Windows names it.
fn assert_offsets(image: &Path, m: &Value) {
    let image = std::fs::read(image).unwrap();
    let le = |at: usize, n: usize| image[at..at + n].iter().rev().fold(0u64, |v, b| v << 8 | u64::from(*b));
    let blocks: Vec<usize> = m["metadata_offsets"].as_array().unwrap().iter().map(|b| b.as_u64().unwrap() as usize).collect();
    for &b in &blocks {
        assert_eq!(&image[b..b + 8], b"-FVE-FS-");
        for (k, &other) in blocks.iter().enumerate() {
            assert_eq!(le(b + 32 + 8 * k, 8), other as u64);
        }
        if let Some(h) = m["volume_header_offset"].as_u64() {
            assert_eq!(le(b + 56, 8), h);
        }
    }
    for pr in m["protectors"].as_array().unwrap() {
        if let Some(bek) = pr["bek_path"].as_str() {
            assert_eq!(Path::new(bek).file_name().unwrap().to_str().unwrap(), format!("{}.BEK", pr["id"].as_str().unwrap()));
            assert_eq!(std::fs::metadata(bek).unwrap().len(), 156, "libbde's notes: a BEK file is commonly 156 bytes");
        }
        let at = pr["offset"].as_u64().unwrap() as usize;
        assert_eq!((le(at + 2, 2), le(at + 4, 2)), (2, 8), "{pr}");
        let id = pr["id"].as_str().unwrap().replace('-', "");
        let hex: String = [&image[at + 8..at + 12], &image[at + 12..at + 14], &image[at + 14..at + 16]]
            .iter()
            .flat_map(|f| f.iter().rev())
            .chain(&image[at + 16..at + 24])
            .map(|b| format!("{b:02X}"))
            .collect();
        assert_eq!(hex, id, "{pr}");
    }
}

/// Every method with every protector kind: described by bdeinfo, and unlocked by each of the
/// password, the recovery password and the startup key file, reading equal to the plain volume:
/// by libbde (AES-XTS 256 aside, see the module's note), by dislocker with the startup key (with
/// every key for AES-XTS 256).
#[test]
fn every_method_with_every_protector() {
    let plain = plain().join("ntfs.img");
    let size = std::fs::metadata(&plain).unwrap().len();
    for (seed, method) in
        ["aes-cbc-128", "aes-cbc-256", "aes-cbc-128-diffuser", "aes-cbc-256-diffuser", "aes-xts-128", "aes-xts-256"].iter().enumerate()
    {
        let dir = scratch(&format!("bde-{method}"));
        let bek = dir.join("keys");
        std::fs::create_dir_all(&bek).unwrap();
        let seed = seed.to_string();
        let args = [
            "--method",
            method,
            "--password",
            "pass word 1",
            "--recovery-password",
            "auto",
            "--startup-key",
            p(&bek),
            "--tpm",
            "--tpm-pin",
            "--seed",
            &seed,
        ];
        let m = write(&dir, &plain, "enc.img", &args);
        assert_eq!(m["method"], *method);
        assert_eq!(m["protectors"].as_array().unwrap().len(), 5);
        assert_described(&dir.join("enc.img"), &m);
        assert_offsets(&dir.join("enc.img"), &m);
        let keys = keys_of(&m);
        assert_eq!(keys.len(), 3);
        let answers = pybde(&dir.join("enc.img"), &plain, &keys);
        if *method == "aes-xts-256" {
            for a in &answers {
                assert!(a.contains("invalid tweak key value too small"), "libbde 20190102 now reads AES-XTS 256? {a}");
            }
            assert_dislocker(&dir.join("enc.img"), &plain, &keys, &m);
        } else {
            assert_equal(&answers, &keys, size);
            let bek: Vec<String> = keys.iter().filter(|k| k.starts_with("bek:")).cloned().collect();
            assert_dislocker(&dir.join("enc.img"), &plain, &bek, &m);
        }
    }
}

/// A suspended volume (a clear key) opens with no key; a volume converted part way (encryption in
/// progress, decryption paused) reads right on both sides of the conversion point.
#[test]
fn clear_key_and_partly_encrypted_states() {
    let plain = plain().join("ntfs.img");
    let size = std::fs::metadata(&plain).unwrap().len();
    let dir = scratch("bde-states");
    let cases: [(&str, &[&str]); 3] = [
        ("suspended.img", &["--method", "aes-cbc-128", "--clear-key", "--tpm"]),
        ("encrypting.img", &["--method", "aes-xts-128", "--clear-key", "--encrypted-bytes", "1572864"]),
        (
            "paused.img",
            &["--method", "aes-cbc-256-diffuser", "--clear-key", "--encrypted-bytes", "2621440", "--state", "decryption-paused"],
        ),
    ];
    for (name, args) in cases {
        let m = write(&dir, &plain, name, args);
        assert_described(&dir.join(name), &m);
        let keys = vec!["none:".to_string()];
        assert_equal(&pybde(&dir.join(name), &plain, &keys), &keys, size);
        assert_dislocker(&dir.join(name), &plain, &keys, &m);
        let (image, plain_bytes) = (std::fs::read(dir.join(name)).unwrap(), std::fs::read(&plain).unwrap());
        let encrypted = m["encrypted_size"].as_u64().unwrap() as usize;
        let elsewhere = |o: usize| {
            let header = m["volume_header_offset"].as_u64().unwrap() as usize;
            (header..header + 8192).contains(&o)
                || m["metadata_offsets"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|b| (b.as_u64().unwrap() as usize..b.as_u64().unwrap() as usize + 65536).contains(&o))
        };
        let sectors = |from: usize, to: usize| (from..to).step_by(512).filter(move |&o| o >= 8192 && !elsewhere(o));
        if encrypted < image.len() {
            // Past the conversion point the sectors are stored plain; before it, none is.
            assert!(sectors(encrypted, image.len()).all(|o| image[o..o + 512] == plain_bytes[o..o + 512]), "{name}");
        }
        assert!(sectors(0, encrypted).all(|o| image[o..o + 512] != plain_bytes[o..o + 512]), "{name}");
    }
    let states: Vec<Value> = ["suspended.img", "encrypting.img", "paused.img"]
        .iter()
        .map(|n| serde_json::from_slice::<Value>(&std::fs::read(dir.join(format!("{n}.json"))).unwrap()).unwrap()["state"].clone())
        .collect();
    assert_eq!(states, ["encrypted", "encrypting", "decryption-paused"]);
}

/// Vista's layout (NTFS boot sector kept, first 16 sectors plain, the diffuser) and a FAT
/// volume in the Windows 7 layout.
#[test]
fn vista_layout_and_fat() {
    let dir = scratch("bde-layouts");
    let ntfs = plain().join("ntfs.img");
    let bek = dir.join("keys");
    std::fs::create_dir_all(&bek).unwrap();
    let m = write(
        &dir,
        &ntfs,
        "vista.img",
        &["--method", "aes-cbc-256-diffuser", "--layout", "vista", "--startup-key", p(&bek), "--password", "vista"],
    );
    assert_described(&dir.join("vista.img"), &m);
    assert_offsets(&dir.join("vista.img"), &m);
    let mut image = std::fs::read(dir.join("vista.img")).unwrap();
    assert_eq!(&image[3..11], b"-FVE-FS-");
    assert_eq!(image[512..8192], std::fs::read(&ntfs).unwrap()[512..8192], "the first 16 sectors stay plain");
    let keys = keys_of(&m);
    let answers = pybde(&dir.join("vista.img"), &ntfs, &keys);
    assert!(answers.iter().all(|a| a.contains("invalid volume header size")), "libbde 20190102 now reads Vista volumes? {answers:?}");
    for key in &keys {
        let e = dislocker(&dir.join("vista.img"), key).err().unwrap_or_default();
        assert!(e.contains("Can't initialize the volume's size"), "dislocker 0.7.3 now reads Vista volumes? {e}");
    }
    for b in m["metadata_offsets"].as_array().unwrap() {
        let b = b.as_u64().unwrap() as usize;
        image[b + 56..b + 64].fill(0);
    }
    std::fs::write(dir.join("vista-patched.img"), &image).unwrap();
    let mut expected = std::fs::read(&ntfs).unwrap();
    expected[56..64].fill(0);
    std::fs::write(dir.join("ntfs-no-mirror.img"), &expected).unwrap();
    assert_equal(&pybde(&dir.join("vista-patched.img"), &dir.join("ntfs-no-mirror.img"), &keys), &keys, expected.len() as u64);

    let fat = plain().join("fat.img");
    let m = write(
        &dir,
        &fat,
        "fat.img",
        &["--method", "aes-xts-128", "--recovery-password", "111111-222222-333333-444444-555555-666666-000000-110000"],
    );
    assert_eq!(m["filesystem"], "fat");
    assert_described(&dir.join("fat.img"), &m);
    let keys = keys_of(&m);
    assert_equal(&pybde(&dir.join("fat.img"), &fat, &keys), &keys, std::fs::metadata(&fat).unwrap().len());
    assert_dislocker(&dir.join("fat.img"), &fat, &keys, &m);
}

/// A wrong password or recovery password unlocks nothing; a malformed recovery password is
/// refused by the writer; the same seed writes the same bytes, another seed others.
#[test]
fn wrong_keys_and_determinism() {
    let dir = scratch("bde-wrong");
    let ntfs = plain().join("ntfs.img");
    let args = ["--method", "aes-cbc-128", "--password", "right", "--recovery-password", "auto", "--seed", "7"];
    let m = write(&dir, &ntfs, "a.img", &args);
    let wrong = ["password:wrong".to_string(), "recovery:000000-000000-000000-000000-000000-000000-000000-000011".to_string()];
    for a in pybde(&dir.join("a.img"), &ntfs, &wrong) {
        assert!(a == "locked" || a.starts_with("error"), "{a}");
    }
    write(&dir, &ntfs, "b.img", &args);
    assert!(std::fs::read(dir.join("a.img")).unwrap() == std::fs::read(dir.join("b.img")).unwrap(), "the same seed wrote other bytes");
    let other =
        write(&dir, &ntfs, "c.img", &["--method", "aes-cbc-128", "--password", "right", "--recovery-password", "auto", "--seed", "8"]);
    assert_ne!(m["volume_guid"], other["volume_guid"]);
    assert_ne!(m["protectors"][0]["recovery_password"], other["protectors"][0]["recovery_password"]);
    let bad = output(
        Command::new(writer())
            .args(["--in", p(&ntfs), "--out", p(&dir.join("d.img")), "--method", "aes-cbc-128"])
            .args(["--recovery-password", "111111-222222-333333-444444-555555-666666-777777-000001"]),
    );
    assert!(!bad.status.success() && stderr(&bad).contains("not a recovery password"), "{}", stderr(&bad));
}

/// A damaged metadata block (`--damage-block 1`): dislocker's CRC-32 check rejects block 1 and
/// accepts block 2 (so the writer's CRC-32 is the one dislocker computes), and the volume still
/// reads right through both readers.
#[test]
fn a_damaged_block_fails_its_check() {
    let dir = scratch("bde-damaged");
    let ntfs = plain().join("ntfs.img");
    let m = write(&dir, &ntfs, "d.img", &["--method", "aes-xts-128", "--clear-key", "--damage-block", "1"]);
    let image = dir.join("d.img");
    let at = m["damaged_offset"].as_u64().unwrap() as usize;
    let first = m["metadata_offsets"][0].as_u64().unwrap() as usize;
    assert!((first..first + 65536).contains(&at), "{m}");
    let o = output(Command::new("dislocker-file").args(["-vvvv", "-V", p(&image), "-c", "--", p(&dir.join("out.img"))]));
    let log = format!("{}{}", stdout(&o), stderr(&o));
    let checks: Vec<bool> = log
        .lines()
        .filter(|l| l.ends_with("for metadata validation"))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let k = w.iter().position(|x| *x == "==").unwrap();
            w[k - 1] == w[k + 1]
        })
        .collect();
    assert_eq!(checks[..2], [false, true], "{log}");
    assert!(std::fs::read(dir.join("out.img")).unwrap() == std::fs::read(&ntfs).unwrap(), "dislocker read other bytes");
    let keys = vec!["none:".to_string()];
    assert_equal(&pybde(&image, &ntfs, &keys), &keys, std::fs::metadata(&ntfs).unwrap().len());
}
