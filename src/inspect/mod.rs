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
use crate::parts::{Partition, Table};

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
    /// The partition of this disk it is, when found (a logical volume's: the partition of its
    /// first extent).
    pub partition: Option<u32>,
    /// The LVM2 logical volume (`VG/LV`) it is, when it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    /// How it was found: `uuid` (the file system's), `label`, `partuuid`, `partlabel` (the GPT
    /// entry's), `device` (a name such as `/dev/sda2`, taken as this disk's), or `lvm` (a
    /// logical volume's `/dev/mapper/VG-LV` or `/dev/VG/LV`).
    pub by: Option<&'static str>,
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
    /// The partition's number (0: the whole disk, no partition table; a logical volume's: the
    /// partition of its first extent).
    pub partition: u32,
    /// The LVM2 logical volume (`VG/LV`) it is on, when it is on one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
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

impl System {
    /// A system of kind `os` on `partition` of which nothing is known yet.
    pub fn new(partition: u32, os: Os) -> System {
        System {
            partition,
            volume: None,
            os,
            product: None,
            edition: None,
            version: None,
            build: None,
            id: None,
            hostname: None,
            timezone: None,
            install_date: None,
            last_shutdown: None,
            registered_owner: None,
            users: Vec::new(),
            programs: Vec::new(),
            interfaces: Vec::new(),
            mounts: Vec::new(),
            sources: BTreeMap::new(),
            notes: Vec::new(),
        }
    }
}

/// The systems on the disk `src` reads, one for each readable volume of `table` that holds one,
/// in the table's order (the partitions, then the LVM2 logical volumes). A volume whose file system cannot be opened is passed over (`parts`
/// says why); what goes wrong inside a system's files is in its [`System::notes`].
pub fn systems<R: ReadVirtual>(src: &mut R, table: &Table) -> Vec<System> {
    let lvs = table.volume_partitions.iter();
    table.partitions.iter().chain(lvs).filter_map(|p| system_on(&mut *src, table, p)).collect()
}

/// The system on partition `p` of `table` (the disk `src` reads), if it holds one.
pub fn system_on<R: ReadVirtual>(src: &mut R, table: &Table, p: &Partition) -> Option<System> {
    if !p.readable() {
        return None;
    }
    let (mut vol, mut fs) = p.open(&mut *src).ok()?;
    let mut s = match windows::inspect(&mut fs, &mut vol, p.index) {
        Ok(Some(s)) => s,
        _ => linux::inspect(&mut fs, &mut vol, p.index, table).ok().flatten()?,
    };
    s.volume = p.volume_name().map(str::to_string);
    Some(s)
}

/// True when the file at `path` (absolute, on a volume) is one the readers look at: a change to
/// it may change what [`systems`] answers (`diff` inspects both sides only then).
pub fn reads(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    linux::FILES.contains(&path) || lower.starts_with("/windows/system32/config/")
}

/// What kind of change a [`SystemChange`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// A system where there was none.
    SystemAdded,
    /// No system where there was one.
    SystemRemoved,
    /// One of the system's facts (`name` is its JSON name: `hostname`, `version`, ...).
    Field,
    /// A user who was not there.
    UserAdded,
    /// A user who is no longer there.
    UserRemoved,
    /// A program or package installed.
    ProgramAdded,
    /// A program or package removed.
    ProgramRemoved,
    /// A program or package whose version changed.
    ProgramChanged,
}

/// One thing a newer version of a disk changed in a system: a fact, a user, a program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SystemChange {
    /// The partition's number.
    pub partition: u32,
    /// Which kind of system.
    pub os: Os,
    /// What changed.
    pub kind: ChangeKind,
    /// The field's JSON name (`hostname`), the user's or the program's name, the system's product.
    pub name: String,
    /// The value before (a field's value, a user's id, a program's version).
    pub old: Option<String>,
    /// The value after.
    pub new: Option<String>,
    /// Where the newer value was read (the older's, for what was removed).
    pub source: Option<Source>,
    /// The change in plain words: `computer name: A -> B`, `program installed: X 1.2 (publisher)`,
    /// `user added: bob (uid 1001)`.
    pub message: String,
}

/// The facts [`compare`] compares: JSON name, name in words, the value.
fn facts(s: &System) -> [(&'static str, &'static str, &Option<String>); 10] {
    [
        ("product", "product", &s.product),
        ("edition", "edition", &s.edition),
        ("version", "version", &s.version),
        ("build", "build", &s.build),
        ("id", "distribution", &s.id),
        ("hostname", "computer name", &s.hostname),
        ("timezone", "time zone", &s.timezone),
        ("install_date", "install date", &s.install_date),
        ("last_shutdown", "last shutdown", &s.last_shutdown),
        ("registered_owner", "registered owner", &s.registered_owner),
    ]
}

fn or_none(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("(none)")
}

/// A user's id in words: `uid 1001`, `SID S-1-5-21-...`.
fn user_id(u: &User) -> Option<String> {
    u.sid.as_ref().map(|s| format!("SID {s}")).or_else(|| u.uid.map(|n| format!("uid {n}")))
}

/// What changed from the systems `before` to the systems `after` (each as [`systems`] gives
/// them), partition by partition: systems found or gone, facts that differ, users added or
/// removed (a Windows user known by SID, a Linux one by name), programs installed, removed, or
/// of another version.
pub fn compare(before: &[System], after: &[System]) -> Vec<SystemChange> {
    let mut out = Vec::new();
    let mut parts: Vec<u32> = before.iter().chain(after).map(|s| s.partition).collect();
    parts.sort_unstable();
    parts.dedup();
    for p in parts {
        let (b, a) = (before.iter().find(|s| s.partition == p), after.iter().find(|s| s.partition == p));
        let change = |s: &System, kind, name: String, old, new, source, message| SystemChange {
            partition: p,
            os: s.os,
            kind,
            name,
            old,
            new,
            source,
            message,
        };
        let (b, a) = match (b, a) {
            (Some(b), Some(a)) if b.os == a.os => (b, a),
            (b, a) => {
                if let Some(b) = b {
                    let what = b.product.clone().unwrap_or_else(|| format!("{:?}", b.os));
                    let m = format!("system removed: {what}");
                    out.push(change(b, ChangeKind::SystemRemoved, what, None, None, b.sources.get("product").cloned(), m));
                }
                if let Some(a) = a {
                    let what = a.product.clone().unwrap_or_else(|| format!("{:?}", a.os));
                    let m = format!("system added: {what}");
                    out.push(change(a, ChangeKind::SystemAdded, what, None, None, a.sources.get("product").cloned(), m));
                }
                continue;
            }
        };
        for ((field, words, old), (_, _, new)) in facts(b).into_iter().zip(facts(a)) {
            if old != new {
                let source = a.sources.get(field).or_else(|| b.sources.get(field)).cloned();
                let m = format!("{words}: {} -> {}", or_none(old), or_none(new));
                out.push(change(a, ChangeKind::Field, field.to_string(), old.clone(), new.clone(), source, m));
            }
        }
        let key = |u: &User| u.sid.clone().unwrap_or_else(|| u.name.clone());
        for u in &a.users {
            if !b.users.iter().any(|x| key(x) == key(u)) {
                let m = format!("user added: {}{}", u.name, user_id(u).map(|i| format!(" ({i})")).unwrap_or_default());
                out.push(change(a, ChangeKind::UserAdded, u.name.clone(), None, user_id(u), Some(u.source.clone()), m));
            }
        }
        for u in &b.users {
            if !a.users.iter().any(|x| key(x) == key(u)) {
                let m = format!("user removed: {}{}", u.name, user_id(u).map(|i| format!(" ({i})")).unwrap_or_default());
                out.push(change(b, ChangeKind::UserRemoved, u.name.clone(), user_id(u), None, Some(u.source.clone()), m));
            }
        }
        programs(&b.programs, &a.programs, &mut |kind, prog: &Program, old: Option<String>| {
            let v = |v: &Option<String>| v.as_ref().map(|v| format!(" {v}")).unwrap_or_default();
            let by = prog.publisher.as_ref().map(|p| format!(" ({p})")).unwrap_or_default();
            let m = match kind {
                ChangeKind::ProgramAdded => format!("program installed: {}{}{by}", prog.name, v(&prog.version)),
                ChangeKind::ProgramRemoved => format!("program removed: {}{}{by}", prog.name, v(&prog.version)),
                _ => format!("program changed: {} {} -> {}", prog.name, or_none(&old), or_none(&prog.version)),
            };
            let (o, n) = match kind {
                ChangeKind::ProgramRemoved => (prog.version.clone(), None),
                _ => (old, prog.version.clone()),
            };
            out.push(change(a, kind, prog.name.clone(), o, n, Some(prog.source.clone()), m));
        });
    }
    out
}

/// Calls `each` with the programs installed (in `after`, not `before`), removed, and changed
/// (one of a name on each side, of two versions: with the old version), matched by name; a
/// name held several times is matched version by version.
fn programs(before: &[Program], after: &[Program], each: &mut dyn FnMut(ChangeKind, &Program, Option<String>)) {
    fn by_name(v: &[Program]) -> BTreeMap<&str, Vec<&Program>> {
        let mut m: BTreeMap<&str, Vec<&Program>> = BTreeMap::new();
        for p in v {
            m.entry(p.name.as_str()).or_default().push(p);
        }
        m
    }
    let (b, a) = (by_name(before), by_name(after));
    let names: std::collections::BTreeSet<&str> = b.keys().chain(a.keys()).copied().collect();
    for name in names {
        let (old, new) = (b.get(name).map(Vec::as_slice).unwrap_or_default(), a.get(name).map(Vec::as_slice).unwrap_or_default());
        if let ([o], [n]) = (old, new) {
            if o.version != n.version {
                each(ChangeKind::ProgramChanged, n, o.version.clone());
            }
            continue;
        }
        for n in new.iter().filter(|n| !old.iter().any(|o| o.version == n.version)) {
            each(ChangeKind::ProgramAdded, n, None);
        }
        for o in old.iter().filter(|o| !new.iter().any(|n| n.version == o.version)) {
            each(ChangeKind::ProgramRemoved, o, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(path: &str) -> Source {
        Source { path: path.into(), key: None, value: None }
    }

    fn linux(hostname: &str, users: &[(&str, u32)], programs: &[(&str, &str)]) -> System {
        System {
            partition: 3,
            volume: None,
            os: Os::Linux,
            product: Some("Debian GNU/Linux 12 (bookworm)".into()),
            edition: None,
            version: Some("12".into()),
            build: None,
            id: Some("debian".into()),
            hostname: Some(hostname.into()),
            timezone: None,
            install_date: None,
            last_shutdown: None,
            registered_owner: None,
            users: users
                .iter()
                .map(|(n, uid)| User {
                    name: n.to_string(),
                    sid: None,
                    uid: Some(*uid),
                    home: None,
                    shell: None,
                    source: src("/etc/passwd"),
                })
                .collect(),
            programs: programs
                .iter()
                .map(|(n, v)| Program {
                    name: n.to_string(),
                    version: Some(v.to_string()),
                    publisher: Some("Debian".into()),
                    install_date: None,
                    source: src("/var/lib/dpkg/status"),
                })
                .collect(),
            interfaces: Vec::new(),
            mounts: Vec::new(),
            sources: [("hostname", src("/etc/hostname"))].into_iter().collect(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn compare_names_facts_users_programs() {
        let before = linux("old", &[("root", 0), ("ann", 1000), ("gone", 1002)], &[("bash", "5.2"), ("curl", "7"), ("vim", "9.0")]);
        let after = linux("new", &[("root", 0), ("ann", 1000), ("bob", 1001)], &[("bash", "5.2"), ("curl", "8"), ("git", "2.39")]);
        let (b, a) = (std::slice::from_ref(&before), std::slice::from_ref(&after));
        let msgs: Vec<String> = compare(b, a).into_iter().map(|c| c.message).collect();
        assert_eq!(
            msgs,
            [
                "computer name: old -> new",
                "user added: bob (uid 1001)",
                "user removed: gone (uid 1002)",
                "program changed: curl 7 -> 8",
                "program installed: git 2.39 (Debian)",
                "program removed: vim 9.0 (Debian)",
            ]
        );
        let c = compare(b, a);
        assert_eq!(
            (c[0].kind, c[0].name.as_str(), c[0].source.as_ref().map(|s| s.path.as_str())),
            (ChangeKind::Field, "hostname", Some("/etc/hostname"))
        );
        assert!(compare(a, a).is_empty());
        let gone = compare(a, &[]);
        assert_eq!((gone.len(), gone[0].kind), (1, ChangeKind::SystemRemoved));
        let found = compare(&[], &[after]);
        assert_eq!(found[0].message, "system added: Debian GNU/Linux 12 (bookworm)");
    }
}
