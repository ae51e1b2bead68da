//! `search`: every place a word or bytes occur on the virtual disk, through the chain, each with
//! the layer that supplies it and what owns it (a file and the offset in it, a deleted file, a
//! file-system structure, free space, or no partition).

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::Ordering;

use vhd_viewer::bitlocker::Key;
use vhd_viewer::fs::FileSystem;
use vhd_viewer::parts::{self, DiskOwner, Table};
use vhd_viewer::reader::DiskReader;
use vhd_viewer::search::{self, Found, HitLine, Pattern, PatternOptions, Scope};
use vhd_viewer::Error;

use super::chain::OpenChain;
use super::{io_err, percent};

/// The partitions' file systems, opened when a hit first lies in them (`None`: not readable).
struct Owners {
    /// The partition table, or why it cannot be read (a child searched without its parent).
    table: Result<Table, String>,
    /// By [`Partition::place`](vhd_viewer::parts::Partition::place) (a logical volume shares its partition's number).
    open: HashMap<String, Option<FileSystem>>,
}

impl Owners {
    fn owner(&mut self, reader: &mut DiskReader<'_>, offset: u64) -> Result<DiskOwner, Error> {
        let size = reader.disk.size();
        let table = match &self.table {
            Ok(t) => t,
            Err(why) => {
                return Ok(DiskOwner {
                    sector: offset / u64::from(reader.disk.sector_size()),
                    sector_size: reader.disk.sector_size(),
                    partition: None,
                    volume: None,
                    filesystem: None,
                    kind: "unknown".into(),
                    path: None,
                    what: format!("the partition table cannot be read: {why}"),
                    id: None,
                    file_offset: None,
                    deleted: false,
                    source: "data",
                    layer: None,
                    layer_file: None,
                })
            }
        };
        let open = &mut self.open;
        parts::owner_with(table, offset, size, |p, at| {
            let mut vol = p.volume(&mut *reader);
            let fsys = match open.entry(p.place()) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(FileSystem::open(&mut vol).ok().flatten()),
            };
            match fsys {
                Some(f) => Ok(Some((f.kind(), f.owner(&mut vol, at)?))),
                None => Ok(None),
            }
        })
    }
}

/// Runs `search`. `layer` is `--only-layer` (numbered in the whole chain); `key` unlocks BitLocker
/// volumes, whose plain bytes are then searched (their hits say `decrypted`) and owned by their
/// files.
pub fn search(
    c: &OpenChain,
    key: Option<&Key>,
    text: &str,
    opts: PatternOptions,
    only_layer: Option<usize>,
    json: bool,
) -> Result<i32, Error> {
    let pattern = Pattern::new(text, opts)?;
    let scope = Scope::only(only_layer, c.base, c.disk.layers.len())?;
    let mut reader = DiskReader::new(&c.disk, c.sources())?;
    // Without its parent, a child still gives what it holds (--only-layer): its hits' owners are
    // then unknown when the table lies in the parent's part.
    // A key given must unlock (a wrong one is an error, not owners left unknown).
    let table = match key {
        Some(_) => Ok(super::files::table(&mut reader, key)?),
        None => parts::read(&mut reader).map_err(|e| e.to_string()),
    };
    // An unlocked volume's plain bytes are searched, not its encrypted sectors.
    let mut s = search::Search::new(&c.disk, &pattern, scope)?;
    if let Ok(t) = &table {
        s = s.decrypting(t);
    }
    let mut owners = Owners { table, open: HashMap::new() };
    let stop = super::newfile::watch_interrupts()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut shown = percent("searching");
    let mut progress = |done: u64, total: u64| {
        shown(done, total);
        !stop.load(Ordering::Relaxed)
    };
    let base = c.base;
    let mut found = |reader: &mut DiskReader<'_>, hits: &[Found]| -> Result<(), Error> {
        for f in hits {
            let line = HitLine::new(f, owners.owner(reader, f.hit.offset)?, base);
            let written = if json {
                serde_json::to_writer(&mut out, &line).map_err(std::io::Error::from).and_then(|_| writeln!(out))
            } else {
                let supplier = match line.layer {
                    Some(l) => format!("layer {l} ({})", c.names.get(l - base).map_or("", String::as_str)),
                    None => "zeros".into(),
                };
                let part = line.partition.map_or("no partition".into(), |p| format!("partition {p}"));
                let o = &line.owner;
                let at = match (o.path.is_some(), o.file_offset) {
                    (true, Some(at)) => format!(", byte {at} of it"),
                    _ => String::new(),
                };
                let plain = if line.decrypted { ", decrypted" } else { "" };
                writeln!(out, "{:#x}\t{}{plain}\t{supplier}\t{part}\t{}: {}{at}", line.offset, line.encoding.name(), o.kind, o.what)
            };
            written.map_err(io_err)?;
        }
        Ok(())
    };
    let done = search::search(&mut reader, s, &mut found, &mut progress)?;
    out.flush().map_err(io_err)?;
    if !done.complete {
        eprintln!("\nvhd-viewer: search interrupted: {} hits so far", done.hits);
        return Ok(130);
    }
    Ok(if done.hits > 0 { 0 } else { 1 })
}
