//! The command line: `info`, `check`, `map` and `cat`, over the core and its file driver.

mod chain;
mod output;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use vhd_viewer::disk::Source;
use vhd_viewer::reader::DiskReader;
use vhd_viewer::{Error, Severity};

use chain::OpenChain;

#[derive(Parser)]
#[command(
    name = "vhd-viewer",
    version,
    about = "Look inside Microsoft VHD disk images: fixed, dynamic and differencing.",
    long_about = "Look inside Microsoft VHD disk images (fixed, dynamic and differencing): every structure with its file offset, integrity findings, which file supplies each part of the disk, and the disk's bytes through a differencing chain.\n\nA differencing disk finds its parent through its parent locators (relative to the child's folder first), then through the parent's unicode name in the same folder, or through --parent. The parent's unique id is always verified.",
    after_help = "Examples:\n  vhd-viewer info disk.vhd\n  vhd-viewer check child.vhd --parent base.vhd\n  vhd-viewer map child.vhd --json\n  vhd-viewer cat disk.vhd > disk.raw"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every structure: footer and its copy, dynamic header, parent locators, BAT summary, chain.
    #[command(after_help = "Examples:\n  vhd-viewer info disk.vhd\n  vhd-viewer info child.vhd --parent base.vhd --json\n  vhd-viewer info disk.vhd --explain")]
    Info {
        #[command(flatten)]
        chain: ChainArgs,
        /// Print JSON (keys in snake_case after the spec's field names).
        #[arg(long)]
        json: bool,
        /// Print a one-line explanation under every field.
        #[arg(long)]
        explain: bool,
    },
    /// Integrity findings. Exit status: 0 no errors, 1 errors found, 2 not readable as a VHD.
    #[command(after_help = "Reads every allocated block's sector bitmap and, in dynamic disks, the sectors marked unused.\n\nExamples:\n  vhd-viewer check disk.vhd\n  vhd-viewer check child.vhd --parent base.vhd --json")]
    Check {
        #[command(flatten)]
        chain: ChainArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Check only the metadata (footers, header, locators, BAT): do not read the bitmaps.
        #[arg(long)]
        quick: bool,
    },
    /// The virtual disk's ranges and which file and offset supplies each (like `qemu-img map`).
    #[command(after_help = "Text output lists the ranges that hold data (and those whose parent is missing); --json lists every range, zero-filled ones too.\n\nExamples:\n  vhd-viewer map disk.vhd\n  vhd-viewer map child.vhd --parent base.vhd --json")]
    Map {
        #[command(flatten)]
        chain: ChainArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Virtual offset to start at (bytes; K, M, G suffixes and 0x accepted).
        #[arg(long, value_parser = parse_size, default_value = "0")]
        offset: u64,
        /// How many bytes to map (default: to the end of the disk).
        #[arg(long, value_parser = parse_size)]
        length: Option<u64>,
    },
    /// The virtual disk's bytes on stdout, flattened through the chain (like `qemu-img convert -O raw`).
    #[command(after_help = "Examples:\n  vhd-viewer cat disk.vhd > disk.raw\n  vhd-viewer cat child.vhd --offset 0x7e00 --length 512 | xxd")]
    Cat {
        #[command(flatten)]
        chain: ChainArgs,
        /// Virtual offset to start at (bytes; K, M, G suffixes and 0x accepted).
        #[arg(long, value_parser = parse_size, default_value = "0")]
        offset: u64,
        /// How many bytes to write (default: to the end of the disk).
        #[arg(long, value_parser = parse_size)]
        length: Option<u64>,
    },
}

#[derive(Args)]
struct ChainArgs {
    /// The VHD file.
    file: PathBuf,
    /// The parent of a differencing disk (repeat for grandparents, in order). Without it the
    /// parent is found through the disk's locators.
    #[arg(long = "parent", value_name = "FILE")]
    parents: Vec<PathBuf>,
    /// Read the chain even when a parent's unique id is not the one its child names.
    #[arg(long)]
    force: bool,
}

/// Parses `4096`, `0x1000`, `4K`, `2M`, `1G`, `1T` (binary units).
fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if "kKmMgGtT".contains(c) && !s.starts_with("0x") => {
            (&s[..i], 1u64 << (10 * (1 + "kmgt".find(c.to_ascii_lowercase()).unwrap_or(0))))
        }
        _ => (s, 1),
    };
    let n = match num.strip_prefix("0x").or_else(|| num.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => num.parse(),
    }
    .map_err(|e| format!("{s:?} is not a size: {e}"))?;
    n.checked_mul(mult).ok_or_else(|| format!("{s:?} is too large"))
}

/// Runs the command line; returns the exit status.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        // The reader of our output went away (e.g. `| head`): stop quietly, as `cat` does.
        Err(Error::Io { message, .. }) if message == OUTPUT_CLOSED => 0,
        Err(e) => {
            eprintln!("vhd-viewer: {e}");
            2
        }
    }
}

fn run(cli: Cli) -> Result<i32, Error> {
    match cli.command {
        Command::Info { chain, json, explain } => {
            let c = OpenChain::open(&chain.file, &chain.parents, chain.force, false)?;
            let info = vhd_viewer::info::info(&c.disk, &c.names);
            let mut out = std::io::stdout().lock();
            let written = if json {
                serde_json::to_writer_pretty(&mut out, &info).map_err(std::io::Error::from).and_then(|_| writeln!(out))
            } else {
                output::write_info(&mut out, &info, &c, explain)
            };
            written.map_err(io_err)?;
            Ok(0)
        }
        Command::Check { chain, json, quick } => {
            let c = OpenChain::open(&chain.file, &chain.parents, chain.force, false)?;
            let mut findings = c.disk.all_findings();
            findings.extend(c.unresolved.iter().cloned());
            if !quick {
                let sources = c.sources();
                let mut reader = DiskReader::new(&c.disk, sources)?;
                let tty = std::io::stderr().is_terminal();
                let mut progress = |done: u64, total: u64| {
                    if tty && total > 0 {
                        eprint!("\rchecking blocks: {done}/{total}");
                        if done == total {
                            eprintln!();
                        }
                    }
                };
                findings.extend(vhd_viewer::check::scan(&mut reader, &mut progress)?);
            }
            let errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
            let mut out = std::io::stdout().lock();
            let written = if json {
                serde_json::to_writer_pretty(&mut out, &findings).map_err(std::io::Error::from).and_then(|_| writeln!(out))
            } else {
                output::write_findings(&mut out, &findings, &c.names)
            };
            written.map_err(io_err)?;
            Ok(if errors > 0 { 1 } else { 0 })
        }
        Command::Map { chain, json, offset, length } => {
            let c = OpenChain::open(&chain.file, &chain.parents, chain.force, false)?;
            let mut reader = DiskReader::new(&c.disk, c.sources())?;
            let len = length.unwrap_or(u64::MAX);
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            output::write_map(&mut out, &mut reader, offset, len, &c.names, json)?;
            out.flush().map_err(io_err)?;
            Ok(0)
        }
        Command::Cat { chain, offset, length } => {
            let c = OpenChain::open(&chain.file, &chain.parents, chain.force, true)?;
            let mut reader = DiskReader::new(&c.disk, c.sources())?;
            let size = c.disk.size();
            if offset > size {
                return Err(Error::Invalid { offset, message: format!("the offset is past the end of the {size}-byte disk") });
            }
            let len = length.unwrap_or(size - offset).min(size - offset);
            cat(&mut reader, offset, len)?;
            Ok(0)
        }
    }
}

const OUTPUT_CLOSED: &str = "the output was closed";

pub(crate) fn io_err(e: std::io::Error) -> Error {
    let message = if e.kind() == std::io::ErrorKind::BrokenPipe { OUTPUT_CLOSED.to_string() } else { format!("writing the output: {e}") };
    Error::Io { offset: 0, message }
}

/// Streams the virtual disk's bytes to stdout in constant memory.
fn cat(reader: &mut DiskReader<'_>, offset: u64, len: u64) -> Result<(), Error> {
    const BUF: usize = 1 << 20;
    let mut out = std::io::stdout().lock();
    let mut buf = vec![0u8; BUF];
    let zeros = vec![0u8; BUF];
    let tty = std::io::stderr().is_terminal() && len >= 64 << 20;
    let mut last_pct = u64::MAX;
    let disk = reader.disk;
    let mut write = |bytes: &[u8]| -> Result<(), Error> {
        out.write_all(bytes).map_err(io_err)
    };
    let mut extents = Vec::new();
    // Plan chunk by chunk, then copy, so that memory stays constant.
    let chunk = disk.chunk_size().max(BUF as u64);
    let end = offset + len;
    let mut pos = offset;
    while pos < end {
        let stop = (pos + chunk).min(end);
        extents.clear();
        reader.for_each_extent(pos, stop - pos, |e| {
            extents.push(e);
            Ok(())
        })?;
        for e in &extents {
            let mut done = 0;
            while done < e.len {
                let n = (e.len - done).min(BUF as u64) as usize;
                match e.source {
                    Source::Zero => write(&zeros[..n])?,
                    Source::Data { layer, file_offset } => {
                        reader.read_file(layer, file_offset + done, &mut buf[..n])?;
                        write(&buf[..n])?;
                    }
                    Source::Missing { layer } => {
                        return Err(Error::Invalid {
                            offset: e.offset + done,
                            message: format!("this part of the disk lies in the parent of layer {layer} (or past the end of its file), which is not available"),
                        })
                    }
                }
                done += n as u64;
            }
        }
        pos = stop;
        if tty {
            let pct = (pos - offset) * 100 / len.max(1);
            if pct != last_pct {
                eprint!("\rwriting: {pct}%");
                last_pct = pct;
            }
        }
    }
    if tty {
        eprintln!();
    }
    out.flush().map_err(io_err)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("0x200"), Ok(512));
        assert_eq!(parse_size("2M"), Ok(2 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("x").is_err());
    }
}
