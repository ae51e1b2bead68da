//! Writes the test folder of issue 24 into DIR (created; files in it are replaced), the same
//! bytes every run: `cargo run --example folder_fixture -- DIR`.
//!
//! - `Hyper-V/Web/Virtual Hard Disks/`: a VHDX base `web.vhdx` and checkpoints named as Hyper-V
//!   names them (`web_GUID.avhdx`) in two branches three deep from the first checkpoint (the VM
//!   reverted to it, then checkpointed again); the newest checkpoint of the first branch was not
//!   closed cleanly (its log is not empty, as a running VM's is). `db.vhdx` was written to after
//!   its checkpoint `db_GUID.avhdx` was made (its `DataWriteGuid` changed). `old_GUID.avhdx` is
//!   an orphan (its parent `old.vhdx` is gone). `broken.vhdx` is the first 200 KiB of a VHDX.
//! - `Backup/web.vhdx`: a copy of the base.
//! - `Virtual PC/`: a VHD chain, `xp.vhd` and two `.avhd` checkpoints.
//! - `Moved/app_GUID.avhd`: a VHD child whose parent `app.vhd` was moved to `Archive/app.vhd`.
//! - `notes.txt`: not a disk.
//!
//! It prints nothing; the tests state what the answer for it is (`tests/folder.rs` includes this
//! file and calls [`write_fixture`]).

use std::path::Path;

use vhd_viewer::vhd::writer::{uuid_from_seed, DiskBuilder, ParentRef};
use vhd_viewer::vhdx::writer::{Kind, VhdxBuilder};
use vhd_viewer::vhdx::Guid;

/// The VHDX disks' virtual size.
const VHDX_SIZE: u64 = 64 << 20;
/// The VHD disks' virtual size and block size.
const VHD_SIZE: u64 = 64 << 20;
const VHD_BLOCK: u32 = 512 << 10;

/// A deterministic GUID from a seed.
fn guid(seed: u64) -> Guid {
    Guid(uuid_from_seed(seed).0)
}

/// A Hyper-V checkpoint's name: `stem_ID.ext`, its id (as the format shows it) in upper case.
fn checkpoint_name(stem: &str, id: impl std::fmt::Display, ext: &str) -> String {
    format!("{stem}_{}.{ext}", id.to_string().to_uppercase())
}

/// A VHDX checkpoint of the disk whose `DataWriteGuid` is `parent`, found at `.\parent_name` as
/// Hyper-V's locators give it (relative path, volume path and absolute path).
fn vhdx_child(id: Guid, parent: Guid, parent_name: &str) -> VhdxBuilder {
    let mut b = VhdxBuilder::new(VHDX_SIZE);
    b.data_write_guid = id;
    b.kind = Kind::Differencing {
        locator: vec![
            ("parent_linkage".into(), format!("{{{parent}}}")),
            ("relative_path".into(), format!(".\\{parent_name}")),
            (
                "volume_path".into(),
                format!("\\\\?\\Volume{{5b8c2f40-0000-0000-0000-100000000000}}\\Hyper-V\\Web\\Virtual Hard Disks\\{parent_name}"),
            ),
            ("absolute_win32_path".into(), format!("D:\\Hyper-V\\Web\\Virtual Hard Disks\\{parent_name}")),
        ],
    };
    b
}

/// A VHD checkpoint of `parent` (known to the child as `parent_name`), its locators relative
/// and absolute (on `D:\VMs\folder`).
fn vhd_child(parent: &ParentRef, seed: u64, folder: &str, label: &str) -> DiskBuilder {
    let mut b = DiskBuilder::differencing(parent, VHD_BLOCK);
    b.unique_id(uuid_from_seed(seed));
    b.parent_locator(*b"W2ku", &format!("D:\\VMs\\{folder}\\{}", parent.file_name));
    b.write(1 << 20, &sector(label));
    b
}

/// One 512-byte sector holding `text`.
fn sector(text: &str) -> Vec<u8> {
    let mut s = text.as_bytes().to_vec();
    s.resize(512, 0);
    s
}

fn put(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let path = dir.join(name);
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p)?;
    }
    std::fs::write(path, bytes)
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir] = args.as_slice() else {
        return Err(std::io::Error::other("usage: folder_fixture DIR"));
    };
    write_fixture(Path::new(dir))
}

/// Writes the folder into `dir` (`tests/folder.rs` includes this file to call it).
pub fn write_fixture(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let vhd_dir = "Hyper-V/Web/Virtual Hard Disks";

    // The VHDX base and its two branches: web <- c1 <- c2 <- c3, c1 <- d2 <- d3.
    let web = guid(0x3eb0);
    let mut base = VhdxBuilder::new(VHDX_SIZE).write(0, &sector("web base"));
    base.data_write_guid = web;
    let base_bytes = base.build();
    put(dir, &format!("{vhd_dir}/web.vhdx"), &base_bytes)?;
    put(dir, "Backup/web.vhdx", &base_bytes)?;
    let mut parent = (web, "web.vhdx".to_string());
    let mut c1_name = String::new();
    for (seed, branch_from_c1) in [(0x3eb1, false), (0x3eb2, false), (0x3eb3, false), (0x3eb4, true), (0x3eb5, false)] {
        let id = guid(seed);
        if branch_from_c1 {
            parent = (guid(0x3eb1), c1_name.clone());
        }
        let mut b = vhdx_child(id, parent.0, &parent.1);
        if seed == 0x3eb3 {
            // The running VM's newest checkpoint: written to, its log not yet emptied.
            b = b.write(2 << 20, &sector("running"));
            b.dirty_log = true;
        }
        let name = checkpoint_name("web", id, "avhdx");
        put(dir, &format!("{vhd_dir}/{name}"), &b.build())?;
        if seed == 0x3eb1 {
            c1_name = name.clone();
        }
        parent = (id, name);
    }

    // A parent written to after its child was made: the child names its old DataWriteGuid.
    let (db_old, db_now) = (guid(0xdb00), guid(0xdb01));
    let mut db = VhdxBuilder::new(VHDX_SIZE);
    db.data_write_guid = db_now;
    put(dir, &format!("{vhd_dir}/db.vhdx"), &db.build())?;
    let db_child = guid(0xdb02);
    put(dir, &format!("{vhd_dir}/{}", checkpoint_name("db", db_child, "avhdx")), &vhdx_child(db_child, db_old, "db.vhdx").build())?;

    // An orphan: its parent old.vhdx is gone.
    let old = guid(0x01d1);
    put(dir, &format!("{vhd_dir}/{}", checkpoint_name("old", old, "avhdx")), &vhdx_child(old, guid(0x01d0), "old.vhdx").build())?;

    // A VHDX cut short while being copied.
    let mut broken = VhdxBuilder::new(VHDX_SIZE);
    broken.data_write_guid = guid(0xb40c);
    put(dir, &format!("{vhd_dir}/broken.vhdx"), &broken.build()[..200 << 10])?;

    // A VHD chain: xp.vhd <- xp_1 <- xp_2.
    let mut xp = DiskBuilder::dynamic(VHD_SIZE, VHD_BLOCK);
    xp.unique_id(uuid_from_seed(0x9e00)).write(0, &sector("xp base"));
    put(dir, "Virtual PC/xp.vhd", &xp.build())?;
    let mut parent = xp.parent_ref("xp.vhd");
    for seed in [0x9e01, 0x9e02] {
        let child = vhd_child(&parent, seed, "Virtual PC", "xp checkpoint");
        let name = checkpoint_name("xp", uuid_from_seed(seed), "avhd");
        put(dir, &format!("Virtual PC/{name}"), &child.build())?;
        parent = child.parent_ref(&name);
    }

    // A moved parent: Moved/app_GUID.avhd looks for Moved/app.vhd, which is now Archive/app.vhd.
    let mut app = DiskBuilder::dynamic(VHD_SIZE, VHD_BLOCK);
    app.unique_id(uuid_from_seed(0xa900)).write(0, &sector("app base"));
    put(dir, "Archive/app.vhd", &app.build())?;
    let child = vhd_child(&app.parent_ref("app.vhd"), 0xa901, "Moved", "app checkpoint");
    put(dir, &format!("Moved/{}", checkpoint_name("app", uuid_from_seed(0xa901), "avhd")), &child.build())?;

    put(dir, "notes.txt", b"Checkpoints of the web VM, taken before each update.\n")?;
    Ok(())
}
