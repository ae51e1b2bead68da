//! Windows, from its registry hives under `Windows/System32/config`: `SOFTWARE` (the product,
//! version and build, owner, install date, user profiles, installed programs), `SYSTEM` (through
//! `Select\Current`'s control set: the computer name, time zone, last shutdown, network
//! interfaces) and `SAM` when present (the local accounts' names). Each hive is read whole into
//! memory (at most [`MAX_HIVE`] bytes) by [`crate::registry`]; one that cannot be read, or a key
//! or value in it that is damaged, gives a [`Note`] naming the hive and the byte, and the rest
//! still answers. A dirty hive is read as stored: its logs are named, not replayed.

use std::collections::HashMap;

use super::{Interface, Note, Os, Program, Source, System, User};
use crate::error::Result;
use crate::finding::Severity;
use crate::fs::ntfs::nt_time;
use crate::fs::{iso8601, EntryKind, FileSystem, ReadVirtual, Volume};
use crate::registry::{Hive, HiveError, Key, Value, CHECKSUM_AT, MAX_HIVE};

/// Where the hives are.
const CONFIG: &str = "/Windows/System32/config";
/// The key of the version and the install.
const CURRENT_VERSION: &str = "Microsoft\\Windows NT\\CurrentVersion";
/// The installed programs' keys: 64-bit (or native) and 32-bit on 64-bit Windows.
const UNINSTALL: [&str; 2] =
    ["Microsoft\\Windows\\CurrentVersion\\Uninstall", "WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall"];
/// The local accounts' names in `SAM`; each one's default value's type is its RID.
const SAM_NAMES: &str = "SAM\\Domains\\Account\\Users\\Names";
/// The first build of Windows 11.
const WINDOWS_11: u32 = 22000;
/// The device class of network adapters, under `Control\\Network`: each interface's connection
/// name is in `{GUID}\\Connection\\Name`.
const NETWORK_CLASS: &str = "{4D36E972-E325-11CE-BFC1-08002BE10318}";
/// The key whose `V` value ends with the machine's SID (`S-1-5-21-a-b-c`, 24 bytes).
const SAM_ACCOUNT: &str = "SAM\\Domains\\Account";

/// The Windows system on the volume, when it holds `Windows/System32/config/SOFTWARE` and
/// `SYSTEM`; `Ok(None)` when it does not.
pub fn inspect<R: ReadVirtual>(fs: &mut FileSystem, vol: &mut Volume<R>, partition: u32) -> Result<Option<System>> {
    let (Some(software), Some(system)) = (find(fs, vol, "SOFTWARE"), find(fs, vol, "SYSTEM")) else {
        return Ok(None);
    };
    let mut s = System::new(partition, Os::Windows);
    // One hive in memory at a time: SAM's names first, for SOFTWARE's profiles.
    let mut notes = Vec::new();
    let accounts = find(fs, vol, "SAM")
        .and_then(|e| {
            let bytes = load(fs, vol, &e, &mut notes)?;
            Some(open(&e.path, &bytes, &mut notes)?.accounts(&mut notes))
        })
        .unwrap_or_default();
    if let Some(bytes) = load(fs, vol, &software, &mut notes) {
        if let Some(h) = open(&software.path, &bytes, &mut notes) {
            h.software(&mut s, &accounts, &mut notes);
        }
    }
    if let Some(bytes) = load(fs, vol, &system, &mut notes) {
        if let Some(h) = open(&system.path, &bytes, &mut notes) {
            h.system(&mut s, &mut notes);
        }
    }
    s.notes = notes;
    Ok(Some(s))
}

/// The file `name` in the hives' folder, if it is there.
fn find<R: ReadVirtual>(fs: &mut FileSystem, vol: &mut Volume<R>, name: &str) -> Option<crate::fs::Entry> {
    fs.lookup(vol, &format!("{CONFIG}/{name}"), false).ok().filter(|e| e.kind == EntryKind::File)
}

/// A note of `severity` about `path`.
fn note(notes: &mut Vec<Note>, severity: Severity, code: &'static str, path: &str, offset: Option<u64>, message: String) {
    let n = Note { severity, code, path: path.to_string(), offset, message };
    if !notes.contains(&n) {
        notes.push(n);
    }
}

/// The bytes of the hive file `entry`, or a note saying why not.
fn load<R: ReadVirtual>(fs: &mut FileSystem, vol: &mut Volume<R>, entry: &crate::fs::Entry, notes: &mut Vec<Note>) -> Option<Vec<u8>> {
    if entry.size > MAX_HIVE {
        let e = HiveError::TooLarge { len: entry.size, max: MAX_HIVE };
        note(notes, Severity::Warning, "hive-too-large", &entry.path, None, format!("not read: {e}"));
        return None;
    }
    let mut bytes = Vec::with_capacity(entry.size as usize);
    match fs.read(vol, entry, None, &mut |b| {
        bytes.extend_from_slice(b);
        Ok(())
    }) {
        Ok(()) => {}
        Err(e) => {
            note(notes, Severity::Error, "unreadable", &entry.path, None, format!("the hive could not be read: {e}"));
            return None;
        }
    }
    if let Some(parsed) = Hive::parse(&bytes).ok().filter(|h| h.header.dirty()) {
        let logs: Vec<String> = ["LOG1", "LOG2"]
            .iter()
            .filter_map(|ext| fs.lookup(vol, &format!("{}.{ext}", entry.path), false).ok())
            .map(|e| e.name)
            .collect();
        let (s1, s2) = (parsed.header.sequence1, parsed.header.sequence2);
        let logs = if logs.is_empty() { "no .LOG1 or .LOG2 beside it".to_string() } else { logs.join(" and ") };
        let message = format!(
            "the hive was not closed cleanly (sequence numbers {s1} and {s2}): read as stored, without the writes its logs hold ({logs})"
        );
        note(notes, Severity::Warning, "hive-dirty", &entry.path, Some(4), message);
    }
    Some(bytes)
}

/// `bytes` read as the hive at `path`, or a note saying why not; notes its checksum and length.
fn open<'a>(path: &str, bytes: &'a [u8], notes: &mut Vec<Note>) -> Option<Read<'a>> {
    match Hive::parse(bytes) {
        Ok(hive) => {
            if !hive.header.checksum_ok() {
                let (found, want) = (hive.header.checksum, hive.header.checksum_computed);
                let message = format!("the base block's checksum is {found:#010x}, its bytes give {want:#010x}");
                note(notes, Severity::Warning, "hive-damaged", path, Some(CHECKSUM_AT), message);
            }
            if hive.truncated() {
                let message = format!("the base block counts {} bytes of hive bins; the file ends before", hive.header.bins_size);
                note(notes, Severity::Error, "hive-damaged", path, Some(0x28), message);
            }
            Some(Read { path: path.to_string(), hive })
        }
        Err(e) => {
            note(notes, Severity::Error, "hive-damaged", path, Some(e.offset()), format!("not read as a hive: {e}"));
            None
        }
    }
}

/// `SAM`'s local accounts.
#[derive(Debug, Default)]
struct Accounts {
    /// The machine's SID (`S-1-5-21-a-b-c`), when `SAM` holds it.
    machine: Option<String>,
    /// RID to account name.
    names: HashMap<u32, String>,
}

impl Accounts {
    /// The local account name of `sid`: its RID's, when its domain is the machine's (or the
    /// machine's SID is not known and `sid` is a machine or domain account's).
    fn name(&self, sid: &str) -> Option<String> {
        let (domain, rid) = sid.rsplit_once('-')?;
        let local = match &self.machine {
            Some(m) => m == domain,
            None => domain.starts_with("S-1-5-21-"),
        };
        local.then(|| self.names.get(&rid.parse().ok()?).cloned())?
    }
}

/// A binary security identifier as text (`S-1-5-21-...`): revision, count, 48-bit big-endian
/// authority, that many little-endian 32-bit sub-authorities; `None` unless `b` is exactly one.
fn sid_text(b: &[u8]) -> Option<String> {
    let (&[rev, count], rest) = b.split_first_chunk::<2>()?;
    let authority = rest.get(..6)?.iter().fold(0u64, |a, x| a << 8 | u64::from(*x));
    let subs = rest.get(6..)?;
    if rev != 1 || subs.len() != usize::from(count) * 4 {
        return None;
    }
    let mut text = format!("S-1-{authority}");
    for c in subs.chunks_exact(4) {
        text.push_str(&format!("-{}", u32::from_le_bytes([c[0], c[1], c[2], c[3]])));
    }
    Some(text)
}

/// The text of `found`, its source kept in `s.sources` under `field`.
fn set(s: &mut System, field: &'static str, found: Option<(String, Source)>) -> Option<String> {
    let (text, source) = found?;
    s.sources.insert(field, source);
    Some(text)
}

/// A hive being read, and where it is on the volume.
struct Read<'a> {
    path: String,
    hive: Hive<'a>,
}

impl<'a> Read<'a> {
    fn source(&self, key: &str, value: &str) -> Source {
        Source { path: self.path.clone(), key: Some(key.to_string()), value: Some(value.to_string()) }
    }

    fn damaged(&self, notes: &mut Vec<Note>, e: HiveError) {
        note(notes, Severity::Error, "hive-damaged", &self.path, Some(e.offset()), e.to_string());
    }

    /// The key at `path`, `None` when absent or damaged (noted).
    fn key(&self, path: &str, notes: &mut Vec<Note>) -> Option<Key<'_, 'a>> {
        self.hive.key(path).unwrap_or_else(|e| {
            self.damaged(notes, e);
            None
        })
    }

    /// The subkeys of the key at `path` (none when absent or damaged: noted).
    fn subkeys(&self, path: &str, notes: &mut Vec<Note>) -> Vec<Key<'_, 'a>> {
        self.key(path, notes).map_or_else(Vec::new, |k| {
            k.subkeys().unwrap_or_else(|e| {
                self.damaged(notes, e);
                Vec::new()
            })
        })
    }

    /// The value `name` of `key`, `None` when absent or damaged (noted).
    fn value(&self, key: &Key<'_, 'a>, name: &str, notes: &mut Vec<Note>) -> Option<Value<'a>> {
        key.value(name).unwrap_or_else(|e| {
            self.damaged(notes, e);
            None
        })
    }

    /// The text of value `name` of `key`, `None` when absent, empty or not text.
    fn text(&self, key: &Key<'_, 'a>, name: &str, notes: &mut Vec<Note>) -> Option<String> {
        self.value(key, name, notes)?.as_string().filter(|t| !t.trim().is_empty())
    }

    /// The first of `names` of the key at `path` that holds text, with its source.
    fn field(&self, path: &str, names: &[&str], notes: &mut Vec<Note>) -> Option<(String, Source)> {
        let key = self.key(path, notes)?;
        names.iter().find_map(|n| Some((self.text(&key, n, notes)?, self.source(path, n))))
    }

    /// `SAM`'s local accounts: the machine's SID when `SAM` says it, and RID to name.
    fn accounts(&self, notes: &mut Vec<Note>) -> Accounts {
        let machine = self.key(SAM_ACCOUNT, notes).and_then(|k| self.value(&k, "V", notes)).and_then(|v| {
            let b = v.bytes();
            sid_text(b.get(b.len().checked_sub(24)?..)?).filter(|s| s.starts_with("S-1-5-21-"))
        });
        let names = self.subkeys(SAM_NAMES, notes).into_iter().filter_map(|k| Some((self.value(&k, "", notes)?.kind, k.name()))).collect();
        Accounts { machine, names }
    }

    /// What `SOFTWARE` says: the product, version, owner, install date, users and programs.
    fn software(&self, s: &mut System, accounts: &Accounts, notes: &mut Vec<Note>) {
        s.product = set(s, "product", self.field(CURRENT_VERSION, &["ProductName"], notes));
        s.edition = set(s, "edition", self.field(CURRENT_VERSION, &["EditionID"], notes));
        s.version = set(s, "version", self.field(CURRENT_VERSION, &["DisplayVersion", "ReleaseId", "CurrentVersion"], notes));
        s.registered_owner = set(s, "registered_owner", self.field(CURRENT_VERSION, &["RegisteredOwner"], notes));
        let cv = self.key(CURRENT_VERSION, notes);
        let ubr = cv.as_ref().and_then(|k| self.value(k, "UBR", notes)).and_then(|v| v.as_u32());
        let build = self.field(CURRENT_VERSION, &["CurrentBuild", "CurrentBuildNumber"], notes);
        s.build = set(s, "build", build.map(|(b, src)| (ubr.map_or_else(|| b.clone(), |u| format!("{b}.{u}")), src)));
        // Windows 11 kept "Windows 10" in ProductName: its builds start at 22000.
        let number = s.build.as_deref().and_then(|b| b.split('.').next()?.parse::<u32>().ok());
        if let (Some(n @ WINDOWS_11..), Some(p)) = (number, s.product.as_deref().filter(|p| p.starts_with("Windows 10"))) {
            let message = format!("build {n} is Windows 11, which keeps \"{p}\" in ProductName");
            note(notes, Severity::Info, "windows-11", &self.path, None, message);
        }
        if let Some(cv) = &cv {
            let date = self.value(cv, "InstallDate", notes).and_then(|v| v.as_u32()).filter(|d| *d != 0);
            let install = match date {
                Some(d) => Some((iso8601(i64::from(d)), "InstallDate")),
                None => {
                    self.value(cv, "InstallTime", notes).and_then(|v| v.as_u64()).and_then(nt_time).map(|t| (iso8601(t), "InstallTime"))
                }
            };
            s.install_date = set(s, "install_date", install.map(|(d, n)| (d, self.source(CURRENT_VERSION, n))));
        }
        let profiles = format!("{CURRENT_VERSION}\\ProfileList");
        for k in self.subkeys(&profiles, notes) {
            let sid = k.name();
            let home = self.text(&k, "ProfileImagePath", notes);
            let name = accounts.name(&sid).or_else(|| {
                let folder = home.as_deref()?.rsplit(['\\', '/']).next()?;
                (!folder.is_empty()).then(|| folder.to_string())
            });
            let source = self.source(&format!("{profiles}\\{sid}"), "ProfileImagePath");
            s.users.push(User { name: name.unwrap_or_else(|| sid.clone()), sid: Some(sid), uid: None, home, shell: None, source });
        }
        for base in UNINSTALL {
            for k in self.subkeys(base, notes) {
                let Some(name) = self.text(&k, "DisplayName", notes) else { continue };
                s.programs.push(Program {
                    name,
                    version: self.text(&k, "DisplayVersion", notes),
                    publisher: self.text(&k, "Publisher", notes),
                    install_date: self.text(&k, "InstallDate", notes),
                    source: self.source(&format!("{base}\\{}", k.name()), "DisplayName"),
                });
            }
        }
        s.programs.sort_by_cached_key(|p| (p.name.to_lowercase(), p.version.clone()));
    }

    /// What `SYSTEM` says, through the current control set: the computer's name, time zone,
    /// last shutdown and network interfaces.
    fn system(&self, s: &mut System, notes: &mut Vec<Note>) {
        let select = self.key("Select", notes);
        let current = ["Current", "Default"].iter().find_map(|n| self.value(select.as_ref()?, n, notes)?.as_u32()).unwrap_or(1);
        let cs = format!("ControlSet{current:03}");
        let path = format!("{cs}\\Control\\ComputerName\\ComputerName");
        s.hostname = set(s, "hostname", self.field(&path, &["ComputerName"], notes));
        let path = format!("{cs}\\Control\\TimeZoneInformation");
        s.timezone = set(s, "timezone", self.field(&path, &["TimeZoneKeyName"], notes));
        let path = format!("{cs}\\Control\\Windows");
        let shutdown = self.key(&path, notes).and_then(|k| self.value(&k, "ShutdownTime", notes));
        if let Some(t) = shutdown.and_then(|v| Some(u64::from_le_bytes(v.bytes().get(..8)?.try_into().ok()?))).and_then(nt_time) {
            s.last_shutdown = Some(iso8601(t));
            s.sources.insert("last_shutdown", self.source(&path, "ShutdownTime"));
        }
        let path = format!("{cs}\\Services\\Tcpip\\Parameters\\Interfaces");
        for k in self.subkeys(&path, notes) {
            let dhcp = self.value(&k, "EnableDHCP", notes).and_then(|v| v.as_u32()) == Some(1);
            let (value, addresses) = if dhcp {
                ("DhcpIPAddress", self.text(&k, "DhcpIPAddress", notes).into_iter().collect())
            } else {
                (
                    "IPAddress",
                    self.value(&k, "IPAddress", notes)
                        .and_then(|v| v.as_multi().or_else(|| v.as_string().map(|t| vec![t])))
                        .unwrap_or_default(),
                )
            };
            let addresses: Vec<String> = addresses.into_iter().filter(|a| !a.is_empty() && a != "0.0.0.0").collect();
            if !addresses.is_empty() {
                let guid = k.name();
                // The name the user sees ("Ethernet", "Wi-Fi"), from the network class's key.
                let connection = format!("{cs}\\Control\\Network\\{NETWORK_CLASS}\\{guid}\\Connection");
                let name = self.key(&connection, notes).and_then(|c| self.text(&c, "Name", notes));
                let source = self.source(&format!("{path}\\{guid}"), value);
                s.interfaces.push(Interface { name: name.unwrap_or(guid), addresses, dhcp, source });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binary_sid_reads_as_text_and_a_wrong_one_does_not() {
        let mut b = vec![1, 4, 0, 0, 0, 0, 0, 5];
        for x in [21u32, 1402562148, 2716339456, 3170215113] {
            b.extend_from_slice(&x.to_le_bytes());
        }
        assert_eq!(sid_text(&b).as_deref(), Some("S-1-5-21-1402562148-2716339456-3170215113"));
        assert_eq!(sid_text(&b[..b.len() - 1]), None, "a sub-authority cut short");
        b[1] = 5;
        assert_eq!(sid_text(&b), None, "more sub-authorities counted than held");
        assert_eq!(sid_text(&[1]), None);
    }

    #[test]
    fn a_local_name_only_for_the_machines_domain() {
        let names = HashMap::from([(1001, "Alice".to_string())]);
        let known = Accounts { machine: Some("S-1-5-21-1-2-3".into()), names: names.clone() };
        assert_eq!(known.name("S-1-5-21-1-2-3-1001").as_deref(), Some("Alice"));
        assert_eq!(known.name("S-1-5-21-9-9-9-1001"), None);
        assert_eq!(known.name("S-1-5-21-1-2-3-1002"), None);
        let unknown = Accounts { machine: None, names };
        assert_eq!(unknown.name("S-1-5-21-9-9-9-1001").as_deref(), Some("Alice"), "the RID alone when SAM has no machine SID");
        assert_eq!(unknown.name("S-1-5-18"), None);
    }
}
