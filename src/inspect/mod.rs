//! What system is on the disk: the operating system of each volume, its name, version, users
//! and programs, each answer with the file (or the hive, key and value) it came from.
//!
//! [`systems`] looks at every readable partition (or the whole disk) of a virtual disk: a volume
//! with `Windows/System32/config/SOFTWARE` and `SYSTEM` is read by [`windows`] (the registry
//! hives, through [`crate::registry`]); one with `/etc/os-release` (or `/usr/lib/os-release`) by
//! [`linux`]. Nothing here writes; a hive or file that cannot be read gives a [`Note`], never a
//! failed inspection.

pub mod linux;
pub mod windows;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::finding::Severity;
use crate::fs::ReadVirtual;
use crate::parts::Table;

/// Which kind of operating system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    /// Microsoft Windows (NT family).
    Windows,
    /// A Linux distribution.
    Linux,
}

/// Where an answer was read: a file of the volume, and for the registry the key and value in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// The file's absolute path on the volume, with `/` (`/Windows/System32/config/SOFTWARE`,
    /// `/etc/os-release`): the file browser opens it.
    pub path: String,
    /// The registry key, from the hive's root, with `\` (`Microsoft\Windows NT\CurrentVersion`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The registry value's name (`ProductName`), or the file's field (`PRETTY_NAME`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// One user of the system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// The account name (Windows: from `SAM` where present, else the profile folder's name).
    pub name: String,
    /// Windows: the security identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Linux: the user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// The home folder or profile path, as the system names it.
    pub home: Option<String>,
    /// Linux: the login shell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell: Option<String>,
    /// Where it was read.
    pub source: Source,
}

/// One installed program (Windows) or package (Linux).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Program {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: Option<String>,
    /// Its publisher (Windows) or maintainer (Linux).
    pub publisher: Option<String>,
    /// When it was installed, as stored (Windows' `InstallDate`, `YYYYMMDD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub install_date: Option<String>,
    /// Where it was read.
    pub source: Source,
}

/// A network interface's last known addresses (Windows: the TCP/IP interface keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interface {
    /// The interface's name or GUID.
    pub name: String,
    /// Its addresses (static, or the last DHCP lease).
    pub addresses: Vec<String>,
    /// True when the address came from DHCP.
    pub dhcp: bool,
    /// Where it was read.
    pub source: Source,
}

/// A file system mounted by the system (Linux `/etc/fstab`), mapped to a partition found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mount {
    /// What fstab names (`UUID=...`, `LABEL=...`, `/dev/sda1`).
    pub spec: String,
    /// Where it is mounted.
    pub target: String,
    /// The file system type fstab gives.
    pub fstype: String,
    /// The partition of this disk it is, when found.
    pub partition: Option<u32>,
}

/// Something worth knowing about how the answers were read: a dirty hive, a damaged one, a file
/// that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// How bad it is.
    pub severity: Severity,
    /// A stable short name (`hive-dirty`, `hive-damaged`, `unreadable`, ...).
    pub code: &'static str,
    /// The file it concerns, on the volume.
    pub path: String,
    /// The byte offset in that file, where there is one.
    pub offset: Option<u64>,
    /// A plain sentence.
    pub message: String,
}

/// The system found on one volume. Fields are `None` (or empty) where the system does not say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct System {
    /// The partition's number (0: the whole disk, no partition table).
    pub partition: u32,
    /// Which kind.
    pub os: Os,
    /// Windows: `ProductName`; Linux: `PRETTY_NAME`.
    pub product: Option<String>,
    /// Windows: the edition (`EditionID`); Linux: none.
    pub edition: Option<String>,
    /// Windows: `DisplayVersion` (or `ReleaseId`, or `CurrentVersion`); Linux: `VERSION_ID`.
    pub version: Option<String>,
    /// Windows: `CurrentBuild` (with `.UBR` when present); Linux: none.
    pub build: Option<String>,
    /// Linux: `ID` (`debian`, `rhel`, ...).
    pub id: Option<String>,
    /// The computer's name.
    pub hostname: Option<String>,
    /// Windows: `TimeZoneKeyName`; Linux: `/etc/timezone` or the `/etc/localtime` link's zone.
    pub timezone: Option<String>,
    /// When the system was installed (ISO 8601, UTC).
    pub install_date: Option<String>,
    /// When it was last shut down (ISO 8601, UTC).
    pub last_shutdown: Option<String>,
    /// Windows: `RegisteredOwner`.
    pub registered_owner: Option<String>,
    /// The users.
    pub users: Vec<User>,
    /// The installed programs or packages.
    pub programs: Vec<Program>,
    /// Network interfaces' last addresses.
    pub interfaces: Vec<Interface>,
    /// Linux: fstab's mounts.
    pub mounts: Vec<Mount>,
    /// Where each field above was read, by the field's JSON name.
    pub sources: BTreeMap<&'static str, Source>,
    /// How the answers were read.
    pub notes: Vec<Note>,
}

/// The systems on the disk `src` reads, one for each readable volume of `table` that holds one,
/// in the table's order. A volume whose file system cannot be opened is passed over (`parts`
/// says why); what goes wrong inside a system's files is in its [`System::notes`].
pub fn systems<R: ReadVirtual>(src: &mut R, table: &Table) -> Vec<System> {
    let mut found = Vec::new();
    for p in table.partitions.iter().filter(|p| p.readable()) {
        let Ok((mut vol, mut fs)) = p.open(&mut *src) else { continue };
        if let Ok(Some(s)) = windows::inspect(&mut fs, &mut vol, p.index) {
            found.push(s);
        } else if let Ok(Some(s)) = linux::inspect(&mut fs, &mut vol, p.index, table) {
            found.push(s);
        }
    }
    found
}
