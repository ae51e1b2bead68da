//! The BitLocker test volumes: the writer (`examples/bitlocker_volume.rs`, written from the
//! format's public notes) built once, and the VHDs of `tests/web/fixtures/make-bitlocker-vhds.sh`
//! made once, in `tests/work/bitlocker-vhds/<key>` where the key hashes the script and the
//! writer's source (the page's tests, `tests/web/bitlocker-fixtures.mjs`, find the same folder).

use super::{repo, run_ok, work};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::process::Command;

/// The writer's binary, built once per test process.
pub fn writer() -> PathBuf {
    static ONCE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        run_ok(Command::new(cargo).current_dir(repo()).args([
            "build",
            "--quiet",
            "--example",
            "bitlocker_volume",
            "--example",
            "vhd_from_raw",
        ]));
        repo().join("target/debug/examples/bitlocker_volume")
    })
    .clone()
}

/// The fixture folder: `cases.json` (each case's name, partition table, plain volume and the
/// writer's arguments), `NAME.vhd` and its manifest `NAME.json` per case, `keys/{ID}.BEK`, the
/// plain volumes `ntfs.img` and `fat.img` and the files they hold.
pub fn bitlocker_vhds() -> PathBuf {
    static ONCE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        let script = repo().join("tests/web/fixtures/make-bitlocker-vhds.sh");
        let mut h = Sha256::new();
        h.update(std::fs::read(&script).unwrap());
        h.update(std::fs::read(repo().join("examples/bitlocker_volume.rs")).unwrap());
        let key: String = h.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect();
        let dir = work("bitlocker-vhds").join(key);
        if dir.join("cases.json").is_file() {
            return dir;
        }
        let bde = writer();
        let tmp = dir.with_extension(format!("building{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).unwrap();
        run_ok(Command::new("bash").arg(&script).arg(bde.with_file_name("vhd_from_raw")).arg(&bde).current_dir(&tmp));
        // The folder appears whole, by a rename; another test process may have made it first.
        if std::fs::rename(&tmp, &dir).is_err() {
            assert!(dir.join("cases.json").is_file(), "cannot move {} to {}", tmp.display(), dir.display());
            let _ = std::fs::remove_dir_all(&tmp);
        }
        dir
    })
    .clone()
}

/// A case's manifest (`NAME.json` in [`bitlocker_vhds`]).
pub fn bitlocker_manifest(name: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(bitlocker_vhds().join(format!("{name}.json"))).unwrap()).unwrap()
}
