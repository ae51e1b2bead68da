//! `inspect`: what system is on the disk, from its files (Windows' registry hives, Linux's
//! `/etc`), as of any layer of a chain.

use std::io::Write;

use vhd_viewer::bitlocker::Key;
use vhd_viewer::inspect::{self, Source, System};
use vhd_viewer::reader::DiskReader;
use vhd_viewer::Error;

use super::chain::OpenChain;
use super::io_err;

/// Where an answer was read, in words: `/etc/os-release: PRETTY_NAME`,
/// `/Windows/System32/config/SOFTWARE: Microsoft\Windows NT\CurrentVersion\ProductName`.
pub(super) fn place(s: &Source) -> String {
    match (&s.key, &s.value) {
        (Some(k), Some(v)) => format!("{}: {k}\\{v}", s.path),
        (Some(k), None) => format!("{}: {k}", s.path),
        (None, Some(v)) => format!("{}: {v}", s.path),
        (None, None) => s.path.clone(),
    }
}

/// The JSON `inspect --json` prints.
#[derive(serde::Serialize)]
struct Answer<'a> {
    systems: &'a [System],
}

/// `inspect`, each BitLocker volume unlocked with `key` when one is given.
pub fn inspect(c: &OpenChain, key: Option<&Key>, json: bool) -> Result<i32, Error> {
    let mut reader = DiskReader::new(&c.disk, c.sources())?;
    let table = super::files::table(&mut reader, key)?;
    let systems = inspect::systems(&mut reader, &table);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if json {
        serde_json::to_writer_pretty(&mut out, &Answer { systems: &systems }).map_err(std::io::Error::from).map_err(io_err)?;
        writeln!(out).map_err(io_err)?;
    } else if systems.is_empty() {
        writeln!(out, "No operating system found on this disk (no volume holds Windows' registry hives or Linux's os-release).")
            .map_err(io_err)?;
    } else {
        for (i, s) in systems.iter().enumerate() {
            if i > 0 {
                writeln!(out).map_err(io_err)?;
            }
            write_system(&mut out, s).map_err(io_err)?;
        }
    }
    out.flush().map_err(io_err)?;
    Ok(0)
}

fn write_system(out: &mut dyn Write, s: &System) -> std::io::Result<()> {
    let os = match s.os {
        inspect::Os::Windows => "Windows",
        inspect::Os::Linux => "Linux",
    };
    let whole = if s.partition == 0 { "The whole disk".to_string() } else { format!("Partition {}", s.partition) };
    writeln!(out, "{whole}: {os}")?;
    let from = |field: &str| s.sources.get(field).map(|src| format!("  [{}]", place(src))).unwrap_or_default();
    for (field, words, value) in [
        ("product", "Product", &s.product),
        ("edition", "Edition", &s.edition),
        ("version", "Version", &s.version),
        ("build", "Build", &s.build),
        ("id", "Distribution", &s.id),
        ("hostname", "Computer name", &s.hostname),
        ("timezone", "Time zone", &s.timezone),
        ("install_date", "Installed", &s.install_date),
        ("last_shutdown", "Last shutdown", &s.last_shutdown),
        ("registered_owner", "Registered owner", &s.registered_owner),
    ] {
        if let Some(v) = value {
            writeln!(out, "  {:<17} {v}{}", format!("{words}:"), from(field))?;
        }
    }
    writeln!(out, "  Users ({}):{}", s.users.len(), from("users"))?;
    for u in &s.users {
        let id = u.sid.as_ref().map(|x| format!("SID {x}")).or(u.uid.map(|n| format!("uid {n}"))).unwrap_or_default();
        let shell = u.shell.as_ref().map(|x| format!("  {x}")).unwrap_or_default();
        writeln!(out, "    {:<20} {:<12} {}{shell}", u.name, id, u.home.as_deref().unwrap_or("-"))?;
    }
    writeln!(out, "  Programs ({}):{}", s.programs.len(), from("programs"))?;
    for p in &s.programs {
        let mut line = format!("    {}", p.name);
        if let Some(v) = &p.version {
            line += &format!(" {v}");
        }
        if let Some(by) = &p.publisher {
            line += &format!("  ({by})");
        }
        if let Some(d) = &p.install_date {
            line += &format!("  installed {d}");
        }
        writeln!(out, "{line}")?;
    }
    if !s.interfaces.is_empty() {
        writeln!(out, "  Network interfaces ({}):", s.interfaces.len())?;
        for i in &s.interfaces {
            writeln!(out, "    {}  {}{}", i.name, i.addresses.join(", "), if i.dhcp { "  (DHCP)" } else { "" })?;
        }
    }
    if !s.mounts.is_empty() {
        writeln!(out, "  Mounts ({}):{}", s.mounts.len(), from("mounts"))?;
        for m in &s.mounts {
            let on = match (m.partition, m.by) {
                (Some(p), Some(by)) => format!("partition {p} (by {by})"),
                (Some(p), None) => format!("partition {p}"),
                _ => "no partition of this disk".to_string(),
            };
            writeln!(out, "    {:<12} {:<6} {}  -> {on}", m.target, m.fstype, m.spec)?;
        }
    }
    if !s.notes.is_empty() {
        writeln!(out, "  Notes:")?;
        for n in &s.notes {
            let severity = match n.severity {
                vhd_viewer::Severity::Info => "info",
                vhd_viewer::Severity::Warning => "warning",
                vhd_viewer::Severity::Error => "error",
            };
            writeln!(out, "    {severity}: {}: {}", n.path, n.message)?;
        }
    }
    Ok(())
}
