//! `parts`, `ls`, `get` and `owner`: what is on the virtual disk, read through the chain.

use std::io::Write;

use vhd_viewer::bitlocker::Key;
use vhd_viewer::fs::supply::supplier;
use vhd_viewer::fs::{self, Entry, EntryKind, FileSystem, Volume};
use vhd_viewer::parts::{self, Partition, Role, Table};
use vhd_viewer::reader::DiskReader;
use vhd_viewer::values::human_size;
use vhd_viewer::Error;

use super::chain::OpenChain;
use super::io_err;

fn user_err(message: String) -> Error {
    Error::Usage { message }
}

/// The partitions and LVM2 logical volumes whose file system is read, or the one asked for.
pub(super) fn chosen<'t>(table: &'t Table, on: &On) -> Result<Vec<&'t Partition>, Error> {
    let readable = |p: &&Partition| p.readable();
    match on {
        On { partition: Some(n), .. } => Ok(vec![table.readable_partition(*n)?]),
        On { volume: Some(v), .. } => Ok(vec![table.readable_volume(v)?]),
        On { .. } => {
            let lvs = table.volume_partitions.iter();
            let v: Vec<&Partition> = table.partitions.iter().chain(lvs).filter(readable).collect();
            if v.is_empty() {
                return Err(user_err(
                    "no partition holds a file system this viewer reads (FAT12/16/32, exFAT, NTFS, ext2/3/4, XFS); see `vhd-viewer parts`"
                        .into(),
                ));
            }
            Ok(v)
        }
    }
}

/// Which partition or LVM2 logical volume a command reads (`--partition N`, `--volume VG/LV`;
/// neither: every one whose file system is read).
#[derive(Debug, Clone, Default)]
pub struct On {
    /// `--partition N`.
    pub partition: Option<u32>,
    /// `--volume VG/LV`.
    pub volume: Option<String>,
}

fn opened<'r, 'a>(reader: &'r mut DiskReader<'a>, p: &Partition) -> Result<(Volume<&'r mut DiskReader<'a>>, FileSystem), Error> {
    p.open(reader)
}

/// The partition table, each BitLocker volume unlocked with `key` when one is given (the key
/// stretch's progress on stderr).
pub(super) fn table(reader: &mut DiskReader<'_>, key: Option<&Key>) -> Result<Table, Error> {
    let mut table = parts::read(reader)?;
    if let Some(key) = key {
        let mut shown = super::percent("unlocking");
        table.unlock_all(reader, key, &mut |done, total| shown(done, total))?;
    }
    Ok(table)
}

/// `cat --partition N [--decrypted]`: the partition's bytes, or the plain bytes of the unlocked
/// BitLocker volume it holds; `cat --volume VG/LV`: the logical volume's bytes; from `offset`
/// for `length` bytes (to its end by default).
pub fn cat_partition(c: &OpenChain, on: &On, decrypted: bool, key: Option<&Key>, offset: u64, length: Option<u64>) -> Result<i32, Error> {
    let mut reader = DiskReader::new(&c.disk, c.sources())?;
    let table = table(&mut reader, key)?;
    let mut vol = match on {
        On { volume: Some(v), .. } => table.volume(v)?.volume(&mut reader),
        On { partition, .. } => partition_bytes(&table, &mut reader, partition.unwrap_or(0), decrypted)?,
    };
    if offset > vol.len() {
        return Err(Error::ReadPastEnd { offset, len: None, size: vol.len() });
    }
    let end = offset.saturating_add(length.unwrap_or(u64::MAX)).min(vol.len());
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    let mut buf = vec![0u8; 1 << 20];
    let mut at = offset;
    while at < end {
        let n = (end - at).min(buf.len() as u64) as usize;
        vol.read_uncached(at, &mut buf[..n])?;
        out.write_all(&buf[..n]).map_err(io_err)?;
        at += n as u64;
    }
    out.flush().map_err(io_err)?;
    Ok(0)
}

/// Partition `index`'s bytes on `reader`, or the plain bytes of the unlocked BitLocker volume it holds.
fn partition_bytes<'r, 'a>(
    table: &Table,
    reader: &'r mut DiskReader<'a>,
    index: u32,
    decrypted: bool,
) -> Result<Volume<&'r mut DiskReader<'a>>, Error> {
    let partitions = table.partitions.iter().map(|p| p.index).collect();
    let p = table.partitions.iter().find(|p| p.index == index).ok_or(Error::NoSuchPartition { index, partitions })?;
    if decrypted && p.unlock.is_none() {
        return Err(user_err(format!(
            "partition {index} is {}: --decrypted needs an unlocked BitLocker volume (--password, --password-file, --recovery-password or --key-file)",
            if p.filesystem == Some(fs::FsKind::BitLocker) { "a locked BitLocker volume" } else { "not a BitLocker volume" }
        )));
    }
    Ok(if decrypted { p.volume(reader) } else { Volume::new(reader, p.offset(), p.len()) })
}

/// `parts`.
pub fn parts(c: &OpenChain, key: Option<&Key>, json: bool) -> Result<i32, Error> {
    let mut reader = DiskReader::new(&c.disk, c.sources())?;
    let table = table(&mut reader, key)?;
    let mut out = std::io::stdout().lock();
    if json {
        let j = table.json();
        serde_json::to_writer_pretty(&mut out, &j).map_err(std::io::Error::from).map_err(io_err)?;
        writeln!(out).map_err(io_err)?;
        return Ok(exit_status(&table));
    }
    let w = |out: &mut std::io::StdoutLock, s: String| writeln!(out, "{s}").map_err(io_err);
    let scheme = match table.scheme {
        parts::Scheme::Mbr => "MBR".to_string(),
        parts::Scheme::Gpt => format!("GPT, disk GUID {}", table.disk_guid.as_deref().unwrap_or("?")),
        parts::Scheme::None => "none".to_string(),
    };
    let ss = u64::from(table.sector_size);
    w(
        &mut out,
        format!("Partition table: {scheme} (disk of {}, {} sectors of {ss} bytes)", human_size(c.disk.size()), c.disk.size() / ss),
    )?;
    if table.partitions.is_empty() {
        w(&mut out, "No partitions.".into())?;
    } else {
        w(
            &mut out,
            format!(
                "{:>3}  {:>12}  {:>12}  {:>10}  {:<26} {:<6} {:<16} {:>8}  4K",
                "#", "Start", "Sectors", "Size", "Type", "FS", "Label", "Cluster"
            ),
        )?;
    }
    let block = c.disk.layers[0].block_size();
    for p in &table.partitions {
        let ty = if p.type_code.is_empty() {
            p.type_name.to_string()
        } else {
            format!("{} {}", if p.role == Role::Gpt { "" } else { &p.type_code }, p.type_name).trim().to_string()
        };
        let ty = match &p.name {
            Some(n) if !n.is_empty() => format!("{ty} \"{n}\""),
            _ => ty,
        };
        w(
            &mut out,
            format!(
                "{:>3}  {:>12}  {:>12}  {:>10}  {:<26} {:<6} {:<16} {:>8}  {}",
                p.index,
                p.start_sector,
                p.sector_count,
                human_size(p.len()),
                ty,
                p.filesystem.map_or("-", |k| k.name()),
                p.label.as_deref().unwrap_or("-"),
                p.cluster_size.map_or("-".to_string(), |c| c.to_string()),
                if p.role == Role::Extended {
                    "-"
                } else if p.aligned_4k {
                    "yes"
                } else {
                    "NO"
                }
            ),
        )?;
        if let Some(b) = &p.bitlocker {
            w(&mut out, format!("       {}", b.words()))?;
        }
        // The seed's question: where a cluster lands in the sector bitmaps.
        if let (Some(cs), Some(bs), Some(data)) = (p.cluster_size, block, p.data_offset) {
            let first =
                if p.filesystem.is_some_and(|k| matches!(k, fs::FsKind::Fat12 | fs::FsKind::Fat16 | fs::FsKind::Fat32)) { 2 } else { 0 };
            if (p.offset() + data) % 4096 != 0 || cs % 4096 != 0 && cs > ss {
                let place = parts::cluster_place((p.start_sector, ss), data, cs, first, first, bs);
                let bits: Vec<String> =
                    place.bits.iter().map(|(b, byte, mask)| format!("block {b} bitmap byte {byte:#x} bits {mask:#04x}")).collect();
                w(
                    &mut out,
                    format!(
                        "       cluster {}: sectors {}..={} -> {}",
                        place.cluster,
                        place.first_sector,
                        place.last_sector,
                        bits.join(", ")
                    ),
                )?;
                if let Some(k) = (first..first + bs / cs.max(1) + 2)
                    .find(|k| parts::cluster_place((p.start_sector, ss), data, cs, first, *k, bs).straddles_blocks)
                {
                    w(
                        &mut out,
                        format!("       cluster {k} straddles two {} blocks, and one cluster in every block after it", human_size(bs)),
                    )?;
                }
            }
        }
    }
    if !table.volumes.is_empty() {
        w(&mut out, String::new())?;
        w(&mut out, format!("LVM2 logical volumes:\n  {:<24} {:>10}  {:<26} {:<6} {:<16}", "VG/LV", "Size", "Segments", "FS", "Label"))?;
    }
    for v in &table.volumes {
        let place = |i: Option<u32>, pv: &str| i.map_or(format!("{pv} (absent)"), |i| format!("#{i}"));
        let segs: Vec<String> = v.segments.iter().map(|s| s.words(place, ",")).collect();
        w(
            &mut out,
            format!(
                "  {:<24} {:>10}  {:<26} {:<6} {:<16}{}",
                v.name(),
                human_size(v.size),
                segs.join("; "),
                v.filesystem.map_or("-", |k| k.name()),
                v.label.as_deref().unwrap_or("-"),
                v.unreadable.as_ref().map_or(String::new(), |why| format!("  not read: {why}"))
            ),
        )?;
    }
    if !table.findings.is_empty() {
        writeln!(out).map_err(io_err)?;
        super::output::write_findings(&mut out, &table.findings, &[]).map_err(io_err)?;
    }
    Ok(exit_status(&table))
}

/// `parts`' exit status, by `check`'s rule: 1 when a finding is an error (the table breaks a rule
/// of its spec: a bad CRC-32, a loop, overlapping partitions, one past the disk's end), else 0.
fn exit_status(table: &Table) -> i32 {
    i32::from(table.findings.iter().any(|f| f.severity == vhd_viewer::Severity::Error))
}

/// `ls`.
pub fn ls(c: &OpenChain, key: Option<&Key>, path: &str, on: &On, recursive: bool, deleted: bool, json: bool) -> Result<i32, Error> {
    let mut reader = DiskReader::new(&c.disk, c.sources())?;
    let table = table(&mut reader, key)?;
    let chosen: Vec<Partition> = chosen(&table, on)?.into_iter().cloned().collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let several = chosen.len() > 1;
    let mut found_any = false;
    let mut last_err = None;
    for p in &chosen {
        let (mut vol, mut fsys) = opened(&mut reader, p)?;
        let start = match fsys.lookup(&mut vol, path, true) {
            Ok(e) => e,
            Err(e) => {
                last_err = Some(e);
                continue;
            }
        };
        found_any = true;
        let mut line = |e: &Entry| -> Result<bool, Error> {
            if json {
                let mut l = fs::LsLine::new(p.index, e);
                l.volume = p.volume_name();
                serde_json::to_writer(&mut out, &l).map_err(std::io::Error::from).map_err(io_err)?;
                writeln!(out).map_err(io_err)?;
            } else {
                let t = match e.kind {
                    EntryKind::File => '-',
                    EntryKind::Dir => 'd',
                    EntryKind::Symlink => 'l',
                    EntryKind::Other => '?',
                };
                let prefix =
                    if several { format!("{}: ", p.volume_name().map_or(p.index.to_string(), str::to_string)) } else { String::new() };
                writeln!(
                    out,
                    "{t}{} {:>12}  {:<20}  {prefix}{}{}",
                    if e.deleted { '*' } else { ' ' },
                    e.size,
                    e.modified.map_or("-".into(), fs::iso8601),
                    e.path,
                    if e.kind == EntryKind::Dir && e.path != "/" { "/" } else { "" }
                )
                .map_err(io_err)?;
                // NTFS alternate data streams, as fls names them: PATH:STREAM.
                for st in &e.streams {
                    writeln!(
                        out,
                        "-{} {:>12}  {:<20}  {prefix}{}:{}",
                        if e.deleted { '*' } else { ' ' },
                        st.size,
                        e.modified.map_or("-".into(), fs::iso8601),
                        e.path,
                        st.name
                    )
                    .map_err(io_err)?;
                }
            }
            Ok(true)
        };
        if start.kind == EntryKind::Dir {
            fs::walk(&mut fsys, &mut vol, &start, recursive, deleted, &mut line)?;
        } else {
            line(&start)?;
        }
    }
    out.flush().map_err(io_err)?;
    if !found_any {
        return Err(last_err.unwrap_or_else(|| user_err(format!("{path}: not found"))));
    }
    Ok(0)
}

/// `get`.
pub fn get(c: &OpenChain, key: Option<&Key>, path: &str, on: &On) -> Result<i32, Error> {
    let mut reader = DiskReader::new(&c.disk, c.sources())?;
    let table = table(&mut reader, key)?;
    let chosen: Vec<Partition> = chosen(&table, on)?.into_iter().cloned().collect();
    // Where the path is: one partition, or an error naming them.
    let mut hits = Vec::new();
    let mut last_err = None;
    for p in &chosen {
        let (mut vol, mut fsys) = opened(&mut reader, p)?;
        match find(&mut fsys, &mut vol, path) {
            Ok((e, stream)) => hits.push((p.clone(), e, stream)),
            Err(e) => last_err = Some(e),
        }
    }
    if hits.len() > 1 {
        return Err(user_err(format!(
            "{path} is on {}: choose one with --partition or --volume",
            hits.iter().map(|h| h.0.place()).collect::<Vec<_>>().join(" and ")
        )));
    }
    let Some((p, e, stream)) = hits.pop() else {
        return Err(last_err.unwrap_or_else(|| user_err(format!("{path}: not found"))));
    };
    if e.kind == EntryKind::Dir && stream.is_none() {
        return Err(user_err(format!("{path} is a directory; `vhd-viewer ls` lists it")));
    }
    let (mut vol, mut fsys) = opened(&mut reader, &p)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    fsys.read(&mut vol, &e, stream.as_deref(), &mut |b| out.write_all(b).map_err(io_err))?;
    out.flush().map_err(io_err)?;
    Ok(0)
}

/// The entry at `path`, or on NTFS `path:stream`.
fn find<R: fs::ReadVirtual>(fsys: &mut FileSystem, vol: &mut Volume<R>, path: &str) -> Result<(Entry, Option<String>), Error> {
    match fsys.lookup(vol, path, true) {
        Ok(e) => Ok((e, None)),
        Err(err) => {
            if let (FileSystem::Ntfs(_), Some((file, stream))) = (&*fsys, path.rsplit_once(':')) {
                if !stream.contains('/') {
                    if let Ok(e) = fsys.lookup(vol, file, true) {
                        return Ok((e, Some(stream.to_string())));
                    }
                }
            }
            Err(err)
        }
    }
}

/// `owner`: `sector` is in the disk's logical sectors (512 bytes, or a VHDX's 4096).
pub fn owner(c: &OpenChain, key: Option<&Key>, sector: u64, json: bool) -> Result<i32, Error> {
    let mut reader = DiskReader::new(&c.disk, c.sources())?;
    let size = c.disk.size();
    let ss = u64::from(c.disk.sector_size());
    if sector.saturating_mul(ss) >= size {
        return Err(user_err(format!("sector {sector} is past the disk's end ({} sectors of {ss} bytes)", size / ss)));
    }
    let offset = sector * ss;
    // Which layer supplies the sector.
    let (source, layer) = supplier(reader.plan(offset, ss)?.first().map(|e| e.source));
    let table = table(&mut reader, key)?;
    let mut o = parts::owner(&mut reader, &table, offset)?;
    o.source = source;
    o.layer_file = layer.and_then(|l| c.names.get(l)).cloned();
    o.layer = layer.map(|l| l + c.base);
    if json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &o).map_err(std::io::Error::from).map_err(io_err)?;
        writeln!(out).map_err(io_err)?;
        return Ok(0);
    }
    let (kind, what, deleted, file_offset, fsname, layer, layer_file) =
        (o.kind.as_str(), &o.what, o.deleted, o.file_offset, o.filesystem, o.layer, o.layer_file.as_deref());
    let part = o.partition;
    let mut out = std::io::stdout().lock();
    let at = |o: Option<u64>| o.map_or(String::new(), |o| format!(" (byte {o} of it)"));
    let part_text = match (&o.volume, part) {
        (Some(v), Some(p)) => format!("logical volume {v} on partition {p} ({})", fsname.unwrap_or("-")),
        (_, Some(p)) => format!("partition {p} ({})", fsname.unwrap_or("-")),
        _ => "outside any partition".to_string(),
    };
    let owner_text = match kind {
        "file" | "dir" => format!("{} {what}{}{}", kind, if deleted { " (deleted)" } else { "" }, at(file_offset)),
        "free" => format!("free space: {what}"),
        _ => what.clone(),
    };
    writeln!(out, "Sector {sector} of {ss} bytes (virtual byte {offset:#x}): {part_text}: {owner_text}").map_err(io_err)?;
    let supplied = match (source, layer, layer_file) {
        ("data", Some(l), Some(f)) => format!("supplied by layer {l} ({f})"),
        ("missing", Some(l), Some(f)) => format!("not readable: the parent of layer {l} ({f}) is missing, or the file is cut short"),
        _ => "reads as zeros (no layer holds it)".to_string(),
    };
    writeln!(out, "  {supplied}").map_err(io_err)?;
    Ok(0)
}
