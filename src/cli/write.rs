//! The commands that write new disks: `convert` (also `merge`), `compact`, `relink`, `repair`
//! and `resize`. The writing itself is in the core (`convert.rs`, `compact.rs`, `relink.rs`,
//! `repair.rs`, `resize.rs`); here are the files: the inputs opened read-only, the output through
//! [`NewFile`](super::newfile::NewFile).

use std::path::PathBuf;
use vhd_viewer::rules::{Own, Writer};
use vhd_viewer::trim::{FreeRanges, FreeSpace, TrimVolume};

use clap::{Args, ValueEnum};
use vhd_viewer::convert::{Format, NewDisk};
use vhd_viewer::error::{ParentNeed, WriteError};
use vhd_viewer::reader::DiskReader;
use vhd_viewer::relink::NewParent;
use vhd_viewer::values::human_size;
use vhd_viewer::Error;

use super::chain::OpenChain;
use super::newfile::{now, random_id, NewFile};
use super::parse_size;

/// What `convert --to` writes.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum To {
    /// A fixed VHD: the disk's bytes, then a footer.
    Fixed,
    /// A dynamic VHD, with blocks allocated only where the disk holds non-zero data.
    Dynamic,
    /// A dynamic VHDX (blocks of 32 MiB unless --block-size says), allocated only where the
    /// disk holds non-zero data.
    Vhdx,
    /// A fixed VHDX: every block allocated.
    VhdxFixed,
    /// The raw bytes (the same as `cat`).
    Raw,
}

/// Where `convert --for` makes the disk fit.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum For {
    /// Azure: a fixed VHD, its size rounded up to a whole MiB (at least 20 MiB), the added tail
    /// zeros, its geometry as Hyper-V fills it.
    Azure,
}

#[derive(Args)]
pub struct ConvertArgs {
    /// The VHD or VHDX file, read through its whole differencing chain.
    input: PathBuf,
    /// The new file.
    output: PathBuf,
    /// What to write (dynamic unless given; with --for azure, fixed).
    #[arg(long, value_enum)]
    to: Option<To>,
    /// Make the copy fit where it is going: `azure` writes a fixed VHD whose size is rounded up
    /// to a whole MiB (at least 20 MiB), zeros added at the end, that passes `check --for azure`.
    #[arg(long = "for", value_enum, value_name = "TARGET")]
    target: Option<For>,
    /// Block size of a dynamic VHD (a power of two from 512 bytes to 256 MiB; 2M unless given)
    /// or of a VHDX (from 1 MiB to 256 MiB; 32M unless given), with K and M suffixes.
    #[arg(long, value_parser = parse_size)]
    block_size: Option<u64>,
    /// Logical sector size of a VHDX: 512 or 4096 (the input's unless given; a VHD's is 512).
    #[arg(long, value_name = "BYTES")]
    sector_size: Option<u32>,
    /// Write the disk as of layer K of the chain: 0 the file given, 1 its parent, 2 its
    /// grandparent, ... (the layers above K are left out).
    #[arg(long, value_name = "K", default_value_t = 0)]
    layer: usize,
    /// Also leave out what the file systems (NTFS, FAT, ext) mark free: written as zeros, so a
    /// dynamic output does not allocate blocks for it. The copy holds nothing of deleted files.
    #[arg(long)]
    trim: bool,
    /// The parent of a differencing disk (repeat for grandparents, in order). Without it the
    /// parent is found through the disk's locators.
    #[arg(long = "parent", value_name = "FILE")]
    parents: Vec<PathBuf>,
    /// Replace OUTPUT if it exists (never an input), and read a chain whose parent unique ids do
    /// not match.
    #[arg(long)]
    force: bool,
}

/// The file systems' free space on `c`'s disk when `trim` asks for it, each volume's part said
/// on stderr as the copy starts.
fn free_space(c: &OpenChain, trim: bool, say: bool) -> Result<Option<FreeSpace>, Error> {
    if !trim {
        return Ok(None);
    }
    let free = FreeSpace::new(&c.disk, &c.sources())?;
    if say {
        for v in free.volumes() {
            eprintln!("{}", volume_line(v));
        }
    }
    Ok(Some(free))
}

/// One volume of `--trim`'s report, in words.
fn volume_line(v: &TrimVolume) -> String {
    let place = match (&v.volume, v.partition) {
        (Some(lv), _) => format!("logical volume {lv}"),
        (None, Some(n)) => format!("partition {n}"),
        (None, None) => "the whole disk".to_string(),
    };
    let fs = v.filesystem.as_deref().unwrap_or("no file system read");
    match (&v.reason, v.trimmed) {
        (_, true) => format!("trim: {place} ({fs}, {}): {} free, given back", human_size(v.len), human_size(v.free_bytes)),
        (Some(why), false) => format!("trim: {place} ({fs}, {}): kept whole: {why}", human_size(v.len)),
        (None, false) => format!("trim: {place} ({fs}, {}): kept whole", human_size(v.len)),
    }
}

/// Progress on stderr when it is a terminal and the work is large.
fn progress_printer(what: &'static str, total: u64) -> impl FnMut(u64, u64) {
    let big = total >= 64 << 20;
    let mut percent = super::percent(what);
    move |done, total| {
        if big {
            percent(done, total);
        }
    }
}

/// The new file, read back before it is given its name: its file and its layer.
fn read_back(out: &NewFile) -> Result<(vhd_viewer::reader::KnownLen<std::fs::File>, vhd_viewer::Layer), Error> {
    let copy = out.file.try_clone().map_err(|e| Error::Io { offset: 0, message: format!("reading the copy back: {e}") })?;
    let copy = vhd_viewer::reader::KnownLen::new(copy);
    let layer = vhd_viewer::reader::open_layer(&copy)?;
    Ok((copy, layer))
}

pub fn convert(a: ConvertArgs) -> Result<i32, Error> {
    let c = OpenChain::open(&a.input, &a.parents, a.force, true)?;
    // Every file of the chain is an input, also those above the layer written.
    let inputs = c.identities();
    let c = c.cut(a.layer)?;
    let size = c.disk.size();
    let to = match (a.target, a.to) {
        (None, to) => to.unwrap_or(To::Dynamic),
        (Some(For::Azure), None | Some(To::Fixed)) => To::Fixed,
        (Some(For::Azure), Some(_)) => {
            return Err(Error::Usage {
                message: "--for azure writes a fixed VHD, the only kind Azure takes (it refuses dynamic VHDs and VHDX): leave --to out, or give --to fixed".into(),
            })
        }
    };
    let format = match to {
        To::Fixed => Format::Fixed,
        To::Dynamic => Format::Dynamic,
        To::Vhdx => Format::Vhdx,
        To::VhdxFixed => Format::VhdxFixed,
        To::Raw => Format::Raw,
    };
    let sector_size = match (format.is_vhdx(), a.sector_size) {
        (true, s) => s.unwrap_or_else(|| c.disk.layers[0].logical_sector_size()),
        (false, None | Some(512)) => 512,
        (false, Some(s)) => {
            return Err(Error::Usage {
                message: format!("--sector-size {s}: a VHD's sectors are 512 bytes; --to vhdx writes 4096-byte sectors"),
            })
        }
    };
    let block_size = a.block_size.unwrap_or(if format.is_vhdx() { 32 << 20 } else { 2 << 20 });
    let block_size = u32::try_from(block_size).map_err(|_| WriteError::ChosenBlockSize { block_size })?;
    let new = match a.target {
        Some(For::Azure) => NewDisk::for_azure(&c.disk, random_id()?, now()),
        None => NewDisk { unique_id: random_id()?, timestamp: now(), size: None },
    };
    let mut layout = vhd_viewer::convert::new_layout(&c.disk, format, block_size, sector_size, &new)?;
    if format != Format::Raw {
        let table = vhd_viewer::parts::read(&mut DiskReader::new(&c.disk, c.sources())?)?;
        vhd_viewer::convert::check_sector_size(&table, sector_size)?;
    }
    let mut out = NewFile::create(&a.output, &inputs, a.force)?;
    let mut free = free_space(&c, a.trim, true)?;
    let mut reader = DiskReader::new(&c.disk, c.sources())?;
    let mut progress = progress_printer("writing", size);
    let trim = free.as_mut().map(|f| f as &mut dyn FreeRanges);
    let done = vhd_viewer::convert::convert(&mut reader, layout.as_mut(), &mut out.writer(), trim, &mut progress)?;
    // A copy for Azure is checked as `check --for azure` checks it, before it is given its name.
    let fit = match a.target {
        Some(For::Azure) => {
            let copy = vhd_viewer::Disk::new(vec![read_back(&out)?.1], true)?;
            Some((vhd_viewer::fit::check(&copy, vhd_viewer::fit::Target::Azure), copy.layers[0].geometry()))
        }
        None => None,
    };
    let dest = out.dest().display().to_string();
    out.commit()?;
    let bs = human_size(u64::from(block_size));
    let what = match format {
        Format::Raw => "raw disk image".to_string(),
        Format::Fixed if a.target == Some(For::Azure) => "fixed VHD for Azure".to_string(),
        Format::Fixed => "fixed VHD".to_string(),
        Format::Dynamic => format!("dynamic VHD, {} of {} blocks of {bs} allocated", done.blocks_allocated, done.blocks),
        Format::VhdxFixed => format!("fixed VHDX, {} blocks of {bs}, {sector_size}-byte logical sectors", done.blocks),
        Format::Vhdx => format!(
            "dynamic VHDX, {} of {} blocks of {bs} allocated, {sector_size}-byte logical sectors",
            done.blocks_allocated, done.blocks
        ),
    };
    if done.size == size {
        println!("wrote {dest}: {what}; the disk is {size} bytes ({}), the file {} bytes", human_size(size), done.file_len);
    } else {
        let added = done.size - size;
        println!("wrote {dest}: {what}; the disk is {} bytes ({}), the file {} bytes", done.size, human_size(done.size), done.file_len);
        println!("the disk read was {size} bytes ({}): {added} bytes ({}) of zeros added at its end", human_size(size), human_size(added));
    }
    if let Some((_, g)) = &fit {
        if done.size == size {
            println!("no zeros added: the disk is a whole number of MiB, at least 20 MiB, already");
        }
        println!("its footer: current and original size {}, geometry {g} (cylinders/heads/sectors per track)", done.size);
    }
    if a.trim {
        let kept = if format == Format::Fixed || format == Format::Raw || format == Format::VhdxFixed {
            "; a fixed disk's file is no smaller for it, but the zeros compress"
        } else {
            "; a block that holds nothing else is not allocated"
        };
        println!("free space in the file systems written as zeros: {} bytes ({}){kept}", done.bytes_free, human_size(done.bytes_free));
    }
    if c.names.len() > 1 {
        println!("merged the chain of {} files: {}", c.names.len(), c.names.join(" <- "));
    } else if a.layer > 0 {
        println!("as of layer {}: {}", a.layer, c.names.join(""));
    }
    if format.is_vhdx() {
        println!("its DataWriteGuid is new: {}", vhd_viewer::vhdx::Guid(new.unique_id.0));
    } else if format != Format::Raw {
        println!("its unique id is new: {}", new.unique_id);
    }
    match fit {
        Some((r, _)) if r.fits => println!("it passes check --for azure ({})", r.verdict),
        Some((r, _)) => {
            println!("but it does not pass check --for azure (a bug):");
            super::output::write_fit(&mut std::io::stdout(), &r, &dest).map_err(|e| Error::Io { offset: 0, message: e.to_string() })?;
            return Ok(1);
        }
        None => {}
    }
    Ok(0)
}

#[derive(Args)]
pub struct CompactArgs {
    /// The dynamic or differencing disk.
    input: PathBuf,
    /// The new file.
    output: PathBuf,
    /// The parent of a differencing disk (repeat for grandparents, in order). Without it the
    /// parent is found through the disk's locators.
    #[arg(long = "parent", value_name = "FILE")]
    parents: Vec<PathBuf>,
    /// Also give back what the file systems (NTFS, FAT, ext) mark free: a block wholly free or
    /// zero is not allocated, free sectors in a kept block are written as zeros (a differencing
    /// disk leaves them to its parent). Volumes not closed cleanly, unknown partitions and space
    /// outside any volume are kept as they are.
    #[arg(long)]
    trim: bool,
    /// Blocks of this size in the copy (K and M suffixes), its identity kept: smaller blocks
    /// drop more of what --trim frees around kept files. A dynamic VHD's: a power of two from
    /// 512 bytes to 256 MiB (Windows makes 2M, Azure's tools 512K); a VHDX's: 1 MiB to
    /// 256 MiB. A differencing disk's too: its blocks' sectors present are regrouped.
    #[arg(long, value_parser = parse_size)]
    block_size: Option<u64>,
    /// The summary as JSON: `{"report": {...}, "volumes": [...]}` (`volumes` with --trim).
    #[arg(long)]
    json: bool,
    /// Replace OUTPUT if it exists (never an input), and read a chain whose parent unique ids do
    /// not match.
    #[arg(long)]
    force: bool,
}

/// Whether `writer` takes `layer` (the file `file`): the core's rule, its reason naming the file.
fn accepted(writer: Writer, layer: &vhd_viewer::Layer, file: &std::path::Path) -> Result<(), Error> {
    writer.check(layer).map_err(|e| e.in_file(file.display().to_string(), ""))
}

pub fn compact(a: CompactArgs) -> Result<i32, Error> {
    let c = OpenChain::open(&a.input, &a.parents, a.force, false)?;
    let top = &c.disk.layers[0];
    accepted(Writer::Compact, top, &a.input)?;
    if let Some(f) = c.unresolved.iter().find(|f| f.code == "parent-not-found") {
        return Err(Error::ParentUnavailable(ParentNeed::Compact { missing: Some(f.message.clone()) }));
    }
    let inputs = c.identities();
    let mut out = NewFile::create(&a.output, &inputs, a.force)?;
    let block = top.block_size().unwrap_or(2 << 20);
    let mut progress = progress_printer("compacting", top.allocated_blocks().saturating_mul(block));
    let free = free_space(&c, a.trim, false)?;
    let volumes = free.as_ref().map(|f| f.volumes().to_vec());
    let trim = free.map(|f| Box::new(f) as Box<dyn FreeRanges>);
    let r = vhd_viewer::compact::compact_with_block_size(&c.disk, c.sources(), trim, a.block_size, &mut out.writer(), &mut progress)?;
    let dest = out.dest().display().to_string();
    out.commit()?;
    if a.json {
        let v = serde_json::json!({ "file": dest, "report": r, "volumes": volumes });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Ok(0);
    }
    for v in volumes.iter().flatten() {
        println!("{}", volume_line(v));
    }
    println!(
        "wrote {dest}: a compacted copy of {} ({} {} disk, same {} {})",
        c.names[0],
        r.format.to_uppercase(),
        top.disk_type().name(),
        top.link_id_name(),
        top.link_id_text()
    );
    if r.block_size == r.block_size_before {
        println!(
            "blocks: {} allocated before, {} now ({} dropped)",
            r.blocks_before,
            r.blocks_after,
            r.blocks_before.saturating_sub(r.blocks_after)
        );
    } else {
        println!(
            "blocks: {} allocated before, {} now, blocks of {} (was {})",
            r.blocks_before,
            r.blocks_after,
            human_size(r.block_size),
            human_size(r.block_size_before)
        );
    }
    if top.disk_type() == vhd_viewer::image::DiskType::Differencing {
        println!("sectors the child held identical to its parent, now taken from the parent: {}", r.sectors_cleared);
    }
    println!(
        "data: {} bytes ({}) kept, {} ({}) dropped as {}, {} ({}) dropped as free in a file system",
        r.bytes_kept,
        human_size(r.bytes_kept),
        r.bytes_zero,
        human_size(r.bytes_zero),
        if top.disk_type() == vhd_viewer::image::DiskType::Differencing { "the parent's bytes" } else { "zeros" },
        r.bytes_free,
        human_size(r.bytes_free)
    );
    let (before, after) = (r.file_len_before, r.file_len);
    if after <= before {
        println!("file: {before} bytes before, {after} now: {} bytes ({}) saved", before - after, human_size(before - after));
    } else {
        println!("file: {before} bytes before, {after} now: {} bytes larger (the input's layout was tighter)", after - before);
    }
    Ok(0)
}

#[derive(Args)]
pub struct RelinkArgs {
    /// The differencing disk whose parent moved.
    child: PathBuf,
    /// The new copy of the child.
    output: PathBuf,
    /// The parent at its new place.
    #[arg(long = "parent", value_name = "NEW/PATH/parent.vhd")]
    parent: PathBuf,
    /// Replace OUTPUT if it exists (never an input); and accept a parent whose unique id is not
    /// the one the child names, recording that parent's unique id and time stamp in the copy
    /// (with a warning: the copy reads garbage unless that disk has the same content).
    #[arg(long)]
    force: bool,
}

/// The path to `to` from the folder `from`, as Windows writes a relative locator: `.\a.vhd`,
/// `..\disks\a.vhd`.
fn windows_relative(from: &std::path::Path, to: &std::path::Path) -> String {
    let a: Vec<_> = from.components().collect();
    let b: Vec<_> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = (common..a.len()).map(|_| "..".to_string()).collect();
    parts.extend(b[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()));
    if !matches!(parts.first(), Some(p) if p == "..") {
        parts.insert(0, ".".into());
    }
    parts.join("\\")
}

pub fn relink(a: RelinkArgs) -> Result<i32, Error> {
    let canon = |p: &std::path::Path| p.canonicalize().map_err(|e| Error::Io { offset: 0, message: format!("{}: {e}", p.display()) });
    let (child_file, child) = super::chain::open_file(&a.child)?;
    accepted(Writer::Relink, &child, &a.child)?;
    let (parent_file, parent) = super::chain::open_file(&a.parent)?;
    // The copy records the parent's file name (the last part of the path).
    let (link, warnings) =
        vhd_viewer::relink::parent_link(&child, &a.child.display().to_string(), &parent, &a.parent.display().to_string(), a.force)?;
    let inputs = vec![
        super::newfile::identity(child_file.get_ref(), &a.child.display().to_string())?,
        super::newfile::identity(parent_file.get_ref(), &a.parent.display().to_string())?,
    ];
    let dir = match a.output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let absolute = canon(&a.parent)?;
    let relative = windows_relative(&canon(&dir)?, &absolute);
    let absolute = absolute.to_string_lossy().into_owned();
    let paths = vhd_viewer::relink::parent_paths(&relative, &absolute);
    let mut out = NewFile::create(&a.output, &inputs, a.force)?;
    let mut progress = progress_printer("copying", child.allocated_blocks().saturating_mul(2 << 20));
    let r = vhd_viewer::relink::relink(&child, &child_file, &link, &paths, &mut out.writer(), &mut progress)?;
    let dest = out.dest().display().to_string();
    out.commit()?;
    for w in &warnings {
        eprintln!("vhd-viewer: {w}");
    }
    println!("wrote {dest}: {} relinked to {} ({} blocks copied, {} bytes)", a.child.display(), a.parent.display(), r.blocks, r.file_len);
    let id = match &link {
        NewParent::Vhd(_) => {
            println!("  parent unicode name: {}", link.file_name());
            println!("  W2ru (relative to {}): {relative}", dir.display());
            println!("  W2ku (absolute): {absolute}");
            if absolute.starts_with('/') {
                println!("  MacX: {}", vhd_viewer::relink::file_url(&absolute));
            }
            "unique id"
        }
        NewParent::Vhdx { data_write_guid, .. } => {
            println!("  parent_linkage (the parent's DataWriteGuid): {data_write_guid}");
            println!("  relative_path (relative to {}): {relative}", dir.display());
            if absolute.starts_with('/') {
                println!("  no absolute_win32_path: {absolute} is not a Windows path (volume_path and parent_linkage2, which named the old parent, are dropped)");
            } else {
                println!("  absolute_win32_path: {absolute}");
            }
            if matches!(Writer::Relink.own(&child), Ok(Own::Vhdx(v)) if v.log.dirty) {
                println!("  the child's log was replayed into the copy; the copy's log is clean");
            }
            "DataWriteGuid"
        }
    };
    println!(
        "the copy keeps the child's own {id} {}, so disks made from the child still link to it (their locators name the child's old file: relink them too when it moves)",
        child.link_id_text()
    );
    // Read it back: the copy must find its parent through its own locators.
    match OpenChain::open(std::path::Path::new(&dest), &[], a.force, true) {
        Ok(c) => println!("checked: {dest} finds its parent {} through its locators", c.names.get(1).map(String::as_str).unwrap_or("?")),
        Err(e) => {
            eprintln!("vhd-viewer: warning: {dest} was written, but opening it again failed: {e}");
            return Ok(1);
        }
    }
    Ok(0)
}

#[derive(Args)]
pub struct RepairArgs {
    /// The damaged VHD or VHDX file (only this file is read: a differencing disk's parent is not
    /// needed).
    input: PathBuf,
    /// The repaired copy.
    output: PathBuf,
    /// Also zero the left-over bytes behind clear bitmap bits (they read as zeros, or as the
    /// parent's bytes, but still hold old data).
    #[arg(long)]
    scrub: bool,
    /// Replace OUTPUT if it exists (never the input).
    #[arg(long)]
    force: bool,
}

pub fn repair(a: RepairArgs) -> Result<i32, Error> {
    use vhd_viewer::repair::ActionKind;
    use vhd_viewer::Severity;
    let (file, layer) = super::chain::open_file(&a.input).map_err(|e| {
        e.with_note("; it cannot be repaired: this program fixes only what leaves the disk readable through its other copies and fields")
    })?;
    accepted(Writer::Repair, &layer, &a.input)?;
    if let Some(next) = super::chain::split_next(&a.input) {
        return Err(WriteError::SplitDisk { offset: layer.file_len, next: next.display().to_string() }.into());
    }
    let inputs = vec![super::newfile::identity(file.get_ref(), &a.input.display().to_string())?];
    let mut out = NewFile::create(&a.output, &inputs, a.force)?;
    let mut progress = progress_printer("copying", layer.allocated_blocks().saturating_mul(2 << 20));
    let r = vhd_viewer::repair::repair(&layer, &file, a.scrub, &mut out.writer(), &mut progress)?;
    // The copy's own check, before it is given its name.
    let (copy, copied) = read_back(&out)?;
    let disk = vhd_viewer::Disk::new(vec![copied], true)?;
    let mut remaining = disk.all_findings();
    let mut reader = DiskReader::new(&disk, vec![&copy as &dyn vhd_viewer::reader::ReadAt])?;
    remaining.extend(vhd_viewer::check::scan(&mut reader, &mut |_, _| {})?);
    remaining.retain(|f| f.severity > Severity::Info);
    let dest = out.dest().display().to_string();
    out.commit()?;
    println!(
        "wrote {dest}: a repaired copy of {} ({} disk, {} blocks copied, {} bytes)",
        a.input.display(),
        layer.disk_type().name(),
        r.blocks,
        r.file_len
    );
    let offset = |o: Option<u64>| o.map(|o| format!("{o:#x}")).unwrap_or_else(|| "-".into());
    let mut lines = Vec::new();
    // At most 16 lines of one kind and code; the rest counted.
    let mut shown: Vec<(ActionKind, &str, usize)> = Vec::new();
    for act in &r.actions {
        let n = match shown.iter_mut().find(|(k, c, _)| *k == act.kind && *c == act.code) {
            Some(e) => {
                e.2 += 1;
                e.2
            }
            None => {
                shown.push((act.kind, act.code, 1));
                1
            }
        };
        if n <= vhd_viewer::image::MAX_FINDINGS_PER_KIND {
            lines.push(format!("  {:<10} {:<10} [{}] {}", act.kind.word(), offset(act.offset), act.code, act.message));
        }
    }
    for (kind, code, n) in &shown {
        if *n > vhd_viewer::image::MAX_FINDINGS_PER_KIND {
            lines.push(format!(
                "  {:<10} {:<10} [{code}] {n} in all; only the first {} are listed",
                kind.word(),
                "-",
                vhd_viewer::image::MAX_FINDINGS_PER_KIND
            ));
        }
    }
    // A VHD's copy is laid out anew; a VHDX's keeps its layout, its structures written anew.
    let anew = if layer.format() == "vhdx" { "its structures written anew" } else { "laid out anew" };
    // The input's other defects: gone in the copy, or still there.
    let mut seen: Vec<&str> = r.actions.iter().map(|a| a.code).collect();
    // Blocks cleared answer every finding about where blocks lie.
    if r.actions.iter().any(|a| a.kind == ActionKind::Lost) {
        seen.extend([
            "block-past-eof",
            "block-overlaps-metadata",
            "blocks-overlap",
            "vhdx-block-past-eof",
            "vhdx-block-overlaps-metadata",
            "vhdx-blocks-overlap",
        ]);
    }
    for f in layer.findings.iter().filter(|f| f.severity > Severity::Info) {
        if seen.contains(&f.code) {
            continue;
        }
        seen.push(f.code);
        if !remaining.iter().any(|g| g.code == f.code) {
            lines.push(format!("  {:<10} {:<10} [{}] {} (the copy: {anew})", "fixed", offset(f.offset), f.code, f.message));
        }
    }
    if lines.is_empty() {
        println!("nothing to repair: no defect was found in {}; the copy holds the same disk, {anew}", a.input.display());
    } else {
        println!("in {} (offsets in the damaged file):", a.input.display());
        for l in &lines {
            println!("{l}");
        }
    }
    let errors = remaining.iter().filter(|f| f.severity == Severity::Error).count();
    if remaining.is_empty() {
        println!("the copy's own check (vhd-viewer check {dest}): no errors, no warnings");
    } else {
        println!("the copy's own check (vhd-viewer check {dest}) still finds:");
        for f in &remaining {
            println!("  {:<10} {:<10} [{}] {}", format!("{:?}", f.severity).to_lowercase(), offset(f.offset), f.code, f.message);
        }
    }
    let lost = r.actions.iter().any(|a| a.kind == ActionKind::Lost);
    let unfixed = r.actions.iter().any(|a| a.kind == ActionKind::NotFixed);
    if lost || unfixed || errors > 0 {
        println!(
            "not everything could be recovered{}{}: exit status 1",
            if lost { "; data was lost (see \"lost\")" } else { "" },
            if unfixed || errors > 0 { "; some defects remain (see \"not fixed\" and the copy's check)" } else { "" }
        );
        return Ok(1);
    }
    Ok(0)
}

/// What `resize --size` asks: a size, or (`+N`) the disk's size grown by N.
#[derive(Clone, Copy, Debug)]
pub enum NewSize {
    /// The new size in bytes.
    To(u64),
    /// Bytes to add.
    Grow(u64),
}

fn parse_new_size(s: &str) -> Result<NewSize, String> {
    match s.trim().strip_prefix('+') {
        Some(n) => parse_size(n).map(NewSize::Grow),
        None => parse_size(s).map(NewSize::To),
    }
}

#[derive(Args)]
pub struct ResizeArgs {
    /// The VHD or VHDX file (fixed, dynamic or differencing).
    input: PathBuf,
    /// The new file.
    output: PathBuf,
    /// The new virtual size: bytes or with K, M, G, T suffixes (binary: 1K = 1024); +N grows
    /// the disk by N. A whole number of the disk's logical sectors (512, or a VHDX's 4096).
    #[arg(long, value_parser = parse_new_size, allow_hyphen_values = false)]
    size: NewSize,
    /// Leave a GPT as it is: its backup header stays at the old end (grow: in the middle of the
    /// disk; shrink: gone), and the protective MBR keeps the old size.
    #[arg(long)]
    no_gpt_fix: bool,
    /// The parent of a differencing disk (repeat for grandparents, in order): the partition
    /// table is read through the chain. Without it the parent is found through the locators.
    #[arg(long = "parent", value_name = "FILE")]
    parents: Vec<PathBuf>,
    /// The summary as JSON.
    #[arg(long)]
    json: bool,
    /// Replace OUTPUT if it exists (never an input), and read a chain whose parent unique ids do
    /// not match.
    #[arg(long)]
    force: bool,
}

pub fn resize(a: ResizeArgs) -> Result<i32, Error> {
    use vhd_viewer::resize::{ResizeOptions, Resizing};
    let c = OpenChain::open(&a.input, &a.parents, a.force, false)?;
    let top = &c.disk.layers[0];
    accepted(Writer::Resize, top, &a.input)?;
    if c.unresolved.iter().any(|f| f.code == "parent-not-found") {
        return Err(Error::ParentUnavailable(ParentNeed::Resize));
    }
    let size = match a.size {
        NewSize::To(n) => n,
        NewSize::Grow(n) => {
            top.size().checked_add(n).ok_or_else(|| Error::Usage { message: format!("+{n} grows the disk past any size") })?
        }
    };
    let sources = c.sources();
    // Planned (and refused) before the output is created: nothing is written then.
    let mut r = Resizing::new(&c.disk, &sources, size, ResizeOptions { gpt_fix: !a.no_gpt_fix })?;
    let inputs = c.identities();
    let mut out = NewFile::create(&a.output, &inputs, a.force)?;
    let block = top.block_size().unwrap_or(1 << 20);
    let mut progress = progress_printer("resizing", top.allocated_blocks().saturating_mul(block));
    {
        let mut w = out.writer();
        while r.step(&sources, &mut w)? {
            let (done, total) = r.progress();
            progress(done, total);
        }
    }
    let done = r.finish(&mut out.writer())?;
    let dest = out.dest().display().to_string();
    out.commit()?;
    if a.json {
        let v = serde_json::json!({ "file": dest, "report": done });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Ok(0);
    }
    let p = &done.plan;
    println!(
        "wrote {dest}: {} resized ({} {} disk, same {} {})",
        c.names[0],
        p.format.to_uppercase(),
        p.disk_type,
        top.link_id_name(),
        top.link_id_text()
    );
    let how = match p.new_size.cmp(&p.old_size) {
        std::cmp::Ordering::Greater => "grew",
        std::cmp::Ordering::Less => "shrank",
        std::cmp::Ordering::Equal => "kept its size",
    };
    println!(
        "size: {} bytes ({}) before, {} bytes ({}) now: it {how}",
        p.old_size,
        human_size(p.old_size),
        p.new_size,
        human_size(p.new_size)
    );
    if p.gpt_moved {
        println!("GPT: the backup entry array and header moved to the new end, the protective MBR's size fixed");
    }
    println!("blocks: {} allocated before, {} in the copy; file: {} bytes", done.blocks_before, done.blocks_after, done.file_len);
    for n in &p.notes {
        println!("note: {n}");
    }
    Ok(0)
}
