//! Linux, from the usual files under `/etc` and `/var/lib`: `os-release` (name, version, id),
//! `hostname`, `timezone` or the `localtime` link, `passwd` (the users who log in), dpkg's
//! `status` (the installed packages), `fstab` (mapped to the disk's partitions), and the root
//! file system's superblock (when it was made, when it was last unmounted cleanly).
//!
//! Every file is read through the volume's [`FileSystem`], at most [`MAX_FILE`] bytes of it
//! ([`MAX_STATUS`] of dpkg's status), its symbolic links followed within the volume, at most
//! [`MAX_LINKS`] of them for one path. What cannot be read, or was cut at the limit, is a
//! [`Note`].

use std::collections::{BTreeMap, VecDeque};

use super::{Mount, Note, Os, Program, Source, System, User};
use crate::error::{Error, FsError, Result};
use crate::finding::Severity;
use crate::fs::{iso8601, join, read_data, Entry, EntryKind, FileSystem, ReadVirtual, Volume};
use crate::parts::{Partition, Table};

/// The most bytes read of one file (os-release, passwd, fstab, ...): 4 MiB.
pub const MAX_FILE: u64 = 4 << 20;
/// The most bytes read of dpkg's status file: 32 MiB (a desktop's is about 10 MiB).
pub const MAX_STATUS: u64 = 32 << 20;
/// The most symbolic links followed to resolve one path (Linux's own limit).
pub const MAX_LINKS: usize = 40;
/// The most users, packages or mounts kept.
pub const MAX_ITEMS: usize = 1 << 16;

/// Where dpkg keeps what is installed.
pub const DPKG_STATUS: &str = "/var/lib/dpkg/status";
/// Where an RPM-based system keeps its package database (not read here: a Berkeley DB or an
/// SQLite file).
const RPM_DATABASES: [&str; 4] =
    ["/var/lib/rpm/rpmdb.sqlite", "/var/lib/rpm/Packages", "/usr/lib/sysimage/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/Packages"];

/// The files this reader looks at: a change to one of them may change what it answers.
pub const FILES: [&str; 8] = [
    "/etc/os-release",
    "/usr/lib/os-release",
    "/etc/hostname",
    "/etc/timezone",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/fstab",
    DPKG_STATUS,
];

/// The Linux system on the volume, when it holds `/etc/os-release` (or `/usr/lib/os-release`);
/// `Ok(None)` when it does not. `table` maps fstab's mounts to the disk's partitions.
pub fn inspect<R: ReadVirtual>(fs: &mut FileSystem, vol: &mut Volume<R>, partition: u32, table: &Table) -> Result<Option<System>> {
    let mut r = Reader { fs, vol, notes: Vec::new() };
    let Some((release_path, release)) = r.first_text(&["/etc/os-release", "/usr/lib/os-release"], MAX_FILE) else {
        return Ok(None);
    };
    let mut s = System::new(partition, Os::Linux);
    let fields = os_release(&release);
    let src = |value: &str| Source { path: release_path.clone(), key: None, value: Some(value.to_string()) };
    for (field, key) in [("product", "PRETTY_NAME"), ("version", "VERSION_ID"), ("id", "ID")] {
        let Some(v) = fields.get(key).filter(|v| !v.is_empty()) else { continue };
        let slot = match field {
            "product" => &mut s.product,
            "version" => &mut s.version,
            _ => &mut s.id,
        };
        *slot = Some(v.clone());
        s.sources.insert(field, src(key));
    }
    if s.product.is_none() {
        // os-release(5): NAME defaults to "Linux", PRETTY_NAME to "Linux".
        if let Some(n) = fields.get("NAME").filter(|v| !v.is_empty()) {
            s.product = Some(n.clone());
            s.sources.insert("product", src("NAME"));
        }
    }
    if let Some((path, text)) = r.first_text(&["/etc/hostname", "/etc/HOSTNAME"], MAX_FILE) {
        if let Some(h) = first_line(&text) {
            s.hostname = Some(h);
            s.sources.insert("hostname", Source { path, key: None, value: None });
        }
    }
    timezone(&mut r, &mut s);
    times(&mut r, &mut s);
    if let Some((path, text)) = r.first_text(&["/etc/passwd"], MAX_FILE) {
        s.users = users(&text, &path, &mut r.notes);
        s.sources.insert("users", Source { path, key: None, value: None });
    }
    if let Some((path, text)) = r.first_text(&[DPKG_STATUS], MAX_STATUS) {
        s.programs = dpkg(&text, &path, &mut r.notes);
        s.sources.insert("programs", Source { path, key: None, value: None });
    }
    for db in RPM_DATABASES {
        if matches!(r.resolve(db, true), Ok(Some(_))) {
            r.notes.push(Note {
                severity: Severity::Info,
                code: "rpm-not-read",
                path: db.to_string(),
                offset: None,
                message: format!(
                    "the system keeps an RPM package database ({db}), which this viewer does not read: its packages are not listed"
                ),
            });
            break;
        }
    }
    if let Some((path, text)) = r.first_text(&["/etc/fstab"], MAX_FILE) {
        s.mounts = fstab(&text, table);
        s.sources.insert("mounts", Source { path, key: None, value: None });
    }
    s.notes = r.notes;
    Ok(Some(s))
}

/// The time zone: `/etc/timezone`'s line, else the zone the `/etc/localtime` link names.
fn timezone<R: ReadVirtual>(r: &mut Reader<'_, R>, s: &mut System) {
    if let Some((path, text)) = r.first_text(&["/etc/timezone"], MAX_FILE) {
        if let Some(z) = first_line(&text) {
            s.timezone = Some(z);
            s.sources.insert("timezone", Source { path, key: None, value: None });
            return;
        }
    }
    match r.resolve("/etc/localtime", false) {
        Ok(Some(e)) if e.kind == EntryKind::Symlink => {
            if let Some(target) = r.text(&e, 4096) {
                if let Some(z) = zone_of_link(&target) {
                    s.timezone = Some(z);
                    s.sources.insert("timezone", Source { path: e.path, key: None, value: Some("symbolic link".into()) });
                }
            }
        }
        Ok(_) => {}
        Err(note) => r.notes.push(note),
    }
}

/// The zone a `localtime` link's target names: what follows its `zoneinfo/`
/// (`../usr/share/zoneinfo/Europe/Berlin` gives `Europe/Berlin`).
pub fn zone_of_link(target: &str) -> Option<String> {
    let at = target.rfind("zoneinfo/")?;
    let zone = target[at + "zoneinfo/".len()..].trim_matches('/');
    // `posix/` and `right/` are the same zones with and without leap seconds.
    let zone = zone.strip_prefix("posix/").or_else(|| zone.strip_prefix("right/")).unwrap_or(zone);
    (!zone.is_empty()).then(|| zone.to_string())
}

/// When the system was installed and last shut down, from the root file system's superblock
/// (ext only: the others keep no such times).
fn times<R: ReadVirtual>(r: &mut Reader<'_, R>, s: &mut System) {
    let FileSystem::Ext(e) = &*r.fs else { return };
    let sb = &e.sb;
    let at = |field: &str| Source { path: "/".into(), key: None, value: Some(format!("ext superblock {field}")) };
    if sb.mkfs_time != 0 {
        s.install_date = Some(iso8601(i64::from(sb.mkfs_time)));
        s.sources.insert("install_date", at("s_mkfs_time"));
    }
    // A file system mounted at least once and marked clean was last written when it was
    // unmounted: the system's last orderly shutdown (or the last time it was unmounted
    // elsewhere). One never mounted, or not unmounted cleanly, says nothing of a shutdown.
    if sb.mount_time != 0 && sb.clean && sb.write_time >= sb.mount_time {
        s.last_shutdown = Some(iso8601(i64::from(sb.write_time)));
        s.sources.insert("last_shutdown", at("s_wtime"));
    }
}

/// The first line that is not empty or a comment, trimmed.
fn first_line(text: &str) -> Option<String> {
    text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_string)
}

/// os-release's `KEY=value` lines (os-release(5)): a value may be quoted with `"` or `'`;
/// inside double quotes (and unquoted) `\` escapes `"`, `\`, `$` and `` ` ``. Comments and
/// lines without `=` are passed over.
pub fn os_release(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else { continue };
        let k = k.trim();
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        out.insert(k.to_string(), unquote(v.trim()));
    }
    out
}

/// A shell-like value: quotes removed, backslash escapes applied.
fn unquote(v: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => out.push(c),
            (_, '\\') => match chars.next() {
                Some(n @ ('"' | '\\' | '$' | '`' | '\'')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            },
            (None, '#') if out.is_empty() => break,
            (_, c) => out.push(c),
        }
    }
    out
}

/// True for a shell no one logs in with.
fn no_login(shell: &str) -> bool {
    let base = shell.rsplit('/').next().unwrap_or(shell);
    matches!(base, "nologin" | "false" | "sync" | "halt" | "shutdown")
}

/// The users of `/etc/passwd` (`name:password:uid:gid:gecos:home:shell`) who have a login shell
/// or a home under `/home`; lines that are not seven fields with a numeric uid are passed over
/// and counted in a note.
pub fn users(text: &str, path: &str, notes: &mut Vec<Note>) -> Vec<User> {
    let mut out = Vec::new();
    let (mut bad, mut first_bad) = (0usize, None);
    let mut offset = 0u64;
    for line in text.split_inclusive('\n') {
        let at = offset;
        offset += line.len() as u64;
        let line = line.trim_end_matches(['\n', '\r']);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // NIS compat lines (`+`, `-name`) name no local user.
        if line.starts_with('+') || line.starts_with('-') {
            continue;
        }
        let f: Vec<&str> = line.split(':').collect();
        let uid = f.get(2).and_then(|u| u.parse::<u32>().ok());
        let (7, Some(uid)) = (f.len(), uid) else {
            bad += 1;
            first_bad.get_or_insert(at);
            continue;
        };
        if f[0].is_empty() || f[0].chars().any(char::is_control) {
            bad += 1;
            first_bad.get_or_insert(at);
            continue;
        }
        let (home, shell) = (f[5], f[6]);
        // passwd(5): an empty shell is /bin/sh.
        let login = shell.is_empty() || !no_login(shell);
        if !(login || home == "/home" || home.starts_with("/home/")) {
            continue;
        }
        if out.len() >= MAX_ITEMS {
            notes.push(cut_note(path, "users", MAX_ITEMS));
            break;
        }
        out.push(User {
            name: f[0].to_string(),
            sid: None,
            uid: Some(uid),
            home: Some(home.to_string()).filter(|h| !h.is_empty()),
            shell: Some(if shell.is_empty() { "/bin/sh" } else { shell }.to_string()),
            source: Source { path: path.to_string(), key: None, value: None },
        });
    }
    if let Some(at) = first_bad {
        notes.push(Note {
            severity: Severity::Warning,
            code: "passwd-line",
            path: path.to_string(),
            offset: Some(at),
            message: format!(
                "{bad} line(s) are not a user (seven fields separated by `:`, the third a number): passed over, the first at byte {at}"
            ),
        });
    }
    out
}

fn cut_note(path: &str, what: &str, n: usize) -> Note {
    Note {
        severity: Severity::Warning,
        code: "too-many",
        path: path.to_string(),
        offset: None,
        message: format!("more than {n} {what}: the first {n} are listed"),
    }
}

/// The packages dpkg's status file says are installed (`Status: install ok installed`), sorted
/// by name: name, version, maintainer (as the publisher).
pub fn dpkg(text: &str, path: &str, notes: &mut Vec<Note>) -> Vec<Program> {
    let mut out = Vec::new();
    let mut cur: BTreeMap<&str, &str> = BTreeMap::new();
    let flush = |cur: &mut BTreeMap<&str, &str>, out: &mut Vec<Program>| {
        let installed = cur.get("Status").is_some_and(|s| s.split_whitespace().collect::<Vec<_>>() == ["install", "ok", "installed"]);
        if let (true, Some(name)) = (installed, cur.get("Package").filter(|n| !n.is_empty())) {
            out.push(Program {
                name: name.to_string(),
                version: cur.get("Version").map(|v| v.to_string()),
                publisher: cur.get("Maintainer").map(|v| v.to_string()),
                install_date: None,
                source: Source { path: path.to_string(), key: None, value: None },
            });
        }
        cur.clear();
    };
    for line in text.lines() {
        if line.trim().is_empty() {
            flush(&mut cur, &mut out);
            if out.len() > MAX_ITEMS {
                break;
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            if matches!(k, "Package" | "Status" | "Version" | "Maintainer") {
                cur.insert(k, v.trim());
            }
        }
    }
    flush(&mut cur, &mut out);
    if out.len() > MAX_ITEMS {
        out.truncate(MAX_ITEMS);
        notes.push(cut_note(path, "packages", MAX_ITEMS));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.version.cmp(&b.version)));
    out
}

/// fstab's mounts (`spec target type options dump pass`), each mapped to the partition or LVM2
/// logical volume of `table` it names: by the file system's UUID or label, the partition's
/// PARTUUID or GPT name, a device name (`/dev/sda2`, taken as this disk), or a logical volume's
/// (`/dev/mapper/VG-LV`, `/dev/VG/LV`).
pub fn fstab(text: &str, table: &Table) -> Vec<Mount> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<String> = line.split_whitespace().map(octal_escapes).collect();
        if f.len() < 3 {
            continue;
        }
        if out.len() >= MAX_ITEMS {
            break;
        }
        let (partition, volume, by) = match mapped(&f[0], table) {
            Some((p, by)) => (Some(p.index), p.volume_name().map(str::to_string), Some(by)),
            None => (None, None, None),
        };
        out.push(Mount { spec: f[0].clone(), target: f[1].clone(), fstype: f[2].clone(), partition, volume, by });
    }
    out
}

/// fstab's `\040`-style escapes (a space in a path) applied.
fn octal_escapes(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            let v = b[i + 1..i + 4].iter().fold(0u32, |a, c| a * 8 + u32::from(c - b'0'));
            out.push(v as u8);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The partition (or logical volume) fstab's `spec` names, and how it was found.
fn mapped<'t>(spec: &str, table: &'t Table) -> Option<(&'t Partition, &'static str)> {
    if let Some(name) = lv_device(spec) {
        return table.volume_partitions.iter().find(|p| p.volume_name() == Some(name.as_str())).map(|p| (p, "lvm"));
    }
    let (how, value) = if let Some((k, v)) = spec.split_once('=') {
        (k, v.trim_matches('"').to_string())
    } else if let Some(rest) = spec.strip_prefix("/dev/disk/by-") {
        let (k, v) = rest.split_once('/')?;
        (k, octal_escapes(&v.replace("\\x20", " ")))
    } else {
        let n = device_number(spec)?;
        return table.partitions.iter().find(|p| p.index == n && n != 0).map(|p| (p, "device"));
    };
    let eq =
        |a: &Option<String>, exact: bool| a.as_deref().is_some_and(|a| if exact { a == value } else { a.eq_ignore_ascii_case(&value) });
    let found = table.partitions.iter().chain(&table.volume_partitions).find(|p| match how.to_ascii_lowercase().as_str() {
        "uuid" => eq(&p.uuid, false),
        "label" => eq(&p.label, true),
        "partuuid" => eq(&p.partuuid, false),
        "partlabel" => eq(&p.name, true),
        _ => false,
    })?;
    let by = match how.to_ascii_lowercase().as_str() {
        "uuid" => "uuid",
        "label" => "label",
        "partuuid" => "partuuid",
        _ => "partlabel",
    };
    Some((found, by))
}

/// `VG/LV` of a logical volume's device name: `/dev/mapper/VG-LV` (device-mapper doubles a
/// name's own `-`) or `/dev/VG/LV`.
fn lv_device(spec: &str) -> Option<String> {
    if let Some(dm) = spec.strip_prefix("/dev/mapper/") {
        // The single `-` between the two names; `--` is a `-` of a name.
        let b = dm.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'-' {
                if b.get(i + 1) == Some(&b'-') {
                    i += 2;
                    continue;
                }
                let (vg, lv) = (&dm[..i], &dm[i + 1..]);
                return (!vg.is_empty() && !lv.is_empty()).then(|| format!("{}/{}", vg.replace("--", "-"), lv.replace("--", "-")));
            }
            i += 1;
        }
        return None;
    }
    let (vg, lv) = spec.strip_prefix("/dev/")?.split_once('/')?;
    (!vg.is_empty() && !lv.is_empty() && !lv.contains('/') && vg != "disk").then(|| format!("{vg}/{lv}"))
}

/// The partition number of the first disk's device name: `/dev/sda2`, `/dev/vda2`,
/// `/dev/xvda2`, `/dev/hda2`, `/dev/nvme0n1p2`, `/dev/mmcblk0p2`.
fn device_number(spec: &str) -> Option<u32> {
    let dev = spec.strip_prefix("/dev/")?;
    let rest = ["sda", "vda", "xvda", "hda", "nvme0n1p", "mmcblk0p"].iter().find_map(|p| dev.strip_prefix(p))?;
    (!rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())).then(|| rest.parse().ok()).flatten()
}

/// Reads files of one volume, following its symbolic links, and keeps notes of what failed.
struct Reader<'a, R> {
    fs: &'a mut FileSystem,
    vol: &'a mut Volume<R>,
    notes: Vec<Note>,
}

impl<R: ReadVirtual> Reader<'_, R> {
    fn note(&mut self, code: &'static str, path: &str, message: String) {
        self.notes.push(Note { severity: Severity::Warning, code, path: path.to_string(), offset: None, message });
    }

    /// The first of `paths` that is a file, as text (its resolved path with it); a file that
    /// exists but cannot be read is a note, and the next path is tried.
    fn first_text(&mut self, paths: &[&str], limit: u64) -> Option<(String, String)> {
        for p in paths {
            match self.resolve(p, true) {
                Ok(Some(e)) if e.kind == EntryKind::File => {
                    if let Some(t) = self.text(&e, limit) {
                        return Some((e.path, t));
                    }
                }
                Ok(_) => {}
                Err(n) => self.notes.push(n),
            }
        }
        None
    }

    /// At most `limit` bytes of `e` as text (not UTF-8 is replaced); `None`, with a note, when
    /// it cannot be read; a note when it was cut.
    fn text(&mut self, e: &Entry, limit: u64) -> Option<String> {
        let data = match self.fs.data(self.vol, e, None) {
            Ok(d) => d,
            Err(err) => {
                self.note("unreadable", &e.path, format!("could not be read: {err}"));
                return None;
            }
        };
        let (part, _) = data.window(0, limit);
        let mut buf = Vec::new();
        if let Err(err) = read_data(self.vol, &part, &mut |b| {
            buf.extend_from_slice(b);
            Ok(())
        }) {
            self.note("unreadable", &e.path, format!("could not be read: {err}"));
            return None;
        }
        if e.size > limit {
            self.note("file-cut", &e.path, format!("it holds {} bytes: only its first {limit} were read", e.size));
        }
        // Valid UTF-8 (the usual case) is kept as it is, not copied.
        Some(String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    /// The entry at absolute `path`, its symbolic links followed (the last one too with
    /// `follow_last`) within the volume; `Ok(None)` when nothing is there; a note when the
    /// links loop or go on past [`MAX_LINKS`], or a directory cannot be read.
    fn resolve(&mut self, path: &str, follow_last: bool) -> std::result::Result<Option<Entry>, Note> {
        let root = self.fs.root();
        let mut dirs = vec![root];
        let mut todo: VecDeque<String> = path.split('/').filter(|c| !c.is_empty()).map(str::to_string).collect();
        let mut links = 0usize;
        while let Some(c) = todo.pop_front() {
            if c == "." {
                continue;
            }
            if c == ".." {
                if dirs.len() > 1 {
                    dirs.pop();
                }
                continue;
            }
            let dir = dirs.last().cloned().unwrap_or_else(|| self.fs.root());
            if dir.kind != EntryKind::Dir {
                return Ok(None);
            }
            let at = join(&dir.path, &c);
            let e = match self.fs.lookup(self.vol, &at, false) {
                Ok(e) => e,
                Err(Error::FileSystem(FsError::NoSuchFile { .. } | FsError::NotADirectory { .. })) => return Ok(None),
                Err(err) => {
                    return Err(Note {
                        severity: Severity::Warning,
                        code: "unreadable",
                        path: at.clone(),
                        offset: None,
                        message: format!("could not be read: {err}"),
                    })
                }
            };
            if e.kind == EntryKind::Symlink && (follow_last || !todo.is_empty()) {
                links += 1;
                if links > MAX_LINKS {
                    return Err(Note {
                        severity: Severity::Warning,
                        code: "link-loop",
                        path: path.to_string(),
                        offset: None,
                        message: format!("more than {MAX_LINKS} symbolic links to follow (a loop?): not read"),
                    });
                }
                let Some(target) = self.text(&e, 4096) else { return Ok(None) };
                if target.starts_with('/') {
                    dirs.truncate(1);
                }
                for part in target.split('/').filter(|p| !p.is_empty()).rev() {
                    todo.push_front(part.to_string());
                }
                continue;
            }
            dirs.push(e);
        }
        Ok(dirs.pop())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_quotes_and_escapes() {
        let f = os_release(
            "# comment\nNAME=\"Debian GNU/Linux\"\nPRETTY_NAME='Debian 12 (it\\'s)'\nVERSION_ID=\"12\"\nID=debian\nX=\"a \\\"q\\\" \\$HOME \\\\ b\"\nbad line\n=novalue\n",
        );
        assert_eq!(f["NAME"], "Debian GNU/Linux");
        assert_eq!(f["PRETTY_NAME"], "Debian 12 (it\\s)");
        assert_eq!(f["VERSION_ID"], "12");
        assert_eq!(f["ID"], "debian");
        assert_eq!(f["X"], "a \"q\" $HOME \\ b");
        assert_eq!(f.len(), 5);
    }

    #[test]
    fn zones_of_links() {
        assert_eq!(zone_of_link("../usr/share/zoneinfo/Europe/Berlin").as_deref(), Some("Europe/Berlin"));
        assert_eq!(zone_of_link("/usr/share/zoneinfo/posix/America/New_York").as_deref(), Some("America/New_York"));
        assert_eq!(zone_of_link("/usr/share/zoneinfo/UTC").as_deref(), Some("UTC"));
        assert_eq!(zone_of_link("/etc/elsewhere"), None);
        assert_eq!(zone_of_link("/usr/share/zoneinfo/"), None);
    }

    #[test]
    fn passwd_users_and_garbage() {
        let mut notes = Vec::new();
        let text = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nsync:x:4:65534:sync:/bin:/bin/sync\n\u{1}\u{2}garbage\nann:x:1000:1000:Ann,,,:/home/ann:/bin/bash\nsvc:x:998:998::/home/svc:/usr/sbin/nologin\nbad:x:notanumber:1::/home/bad:/bin/sh\n+::::::\n";
        let u = users(text, "/etc/passwd", &mut notes);
        let names: Vec<(&str, Option<u32>)> = u.iter().map(|u| (u.name.as_str(), u.uid)).collect();
        assert_eq!(names, [("root", Some(0)), ("ann", Some(1000)), ("svc", Some(998))]);
        assert_eq!(u[1].home.as_deref(), Some("/home/ann"));
        assert_eq!(u[1].shell.as_deref(), Some("/bin/bash"));
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].code, "passwd-line");
        assert_eq!(notes[0].offset, Some(text.find('\u{1}').unwrap() as u64));
        assert!(notes[0].message.starts_with("2 line(s)"), "{}", notes[0].message);
    }

    #[test]
    fn dpkg_installed_only_sorted() {
        let mut notes = Vec::new();
        let text = "Package: zsh\nStatus: install ok installed\nVersion: 5.9-4\nMaintainer: Debian Zsh <z@d.org>\nDescription: shell\n multi line\n Package: fake\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: bash\nStatus: install ok installed\nVersion: 5.2.15-2\n";
        let p = dpkg(text, DPKG_STATUS, &mut notes);
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].name.as_str(), p[0].version.as_deref(), p[0].publisher.as_deref()), ("bash", Some("5.2.15-2"), None));
        assert_eq!(p[1].publisher.as_deref(), Some("Debian Zsh <z@d.org>"));
        assert!(notes.is_empty());
    }

    #[test]
    fn device_names() {
        assert_eq!(device_number("/dev/sda2"), Some(2));
        assert_eq!(device_number("/dev/nvme0n1p15"), Some(15));
        assert_eq!(device_number("/dev/sdb2"), None);
        assert_eq!(device_number("/dev/sda"), None);
        assert_eq!(lv_device("/dev/mapper/rhel-root").as_deref(), Some("rhel/root"));
        assert_eq!(lv_device("/dev/mapper/my--vg-lv--home").as_deref(), Some("my-vg/lv-home"));
        assert_eq!(lv_device("/dev/mapper/rhel--root"), None);
        assert_eq!(lv_device("/dev/rhel/home").as_deref(), Some("rhel/home"));
        assert_eq!(lv_device("/dev/disk/by-uuid"), None);
        assert_eq!(lv_device("/dev/sda2"), None);
        assert_eq!(octal_escapes("/mnt/my\\040disk"), "/mnt/my disk");
    }
}
