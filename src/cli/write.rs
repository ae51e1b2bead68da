//! The commands that write new disks: `convert` (also `merge`), `compact`, `relink` and
//! `repair`. The writing itself is in the core (`convert.rs`, `compact.rs`, `relink.rs`,
//! `repair.rs`); here are the files: the inputs opened read-only, the output through
//! [`NewFile`](super::newfile::NewFile).

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use vhd_viewer::convert::{Format, NewDisk};
use vhd_viewer::reader::DiskReader;
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
    /// The raw bytes (the same as `cat`).
    Raw,
}

#[derive(Args)]
pub struct ConvertArgs {
    /// The VHD file, read through its whole differencing chain.
    input: PathBuf,
    /// The new file.
    output: PathBuf,
    /// What to write.
    #[arg(long, value_enum, default_value = "dynamic")]
    to: To,
    /// Block size of a dynamic output: a power of two from 512 bytes to 256 MiB (K, M suffixes).
    #[arg(long, value_parser = parse_size, default_value = "2M")]
    block_size: u64,
    /// Write the disk as of layer K of the chain: 0 the file given, 1 its parent, 2 its
    /// grandparent, ... (the layers above K are left out).
    #[arg(long, value_name = "K", default_value_t = 0)]
    layer: usize,
    /// The parent of a differencing disk (repeat for grandparents, in order). Without it the
    /// parent is found through the disk's locators.
    #[arg(long = "parent", value_name = "FILE")]
    parents: Vec<PathBuf>,
    /// Replace OUTPUT if it exists (never an input), and read a chain whose parent unique ids do
    /// not match.
    #[arg(long)]
    force: bool,
}

/// Progress on stderr when it is a terminal and the work is large.
fn progress_printer(what: &'static str, total: u64) -> impl FnMut(u64, u64) {
    let tty = std::io::stderr().is_terminal() && total >= 64 << 20;
    let mut last = u64::MAX;
    move |done, total| {
        if tty {
            let pct = done * 100 / total.max(1);
            if pct != last {
                eprint!("\r{what}: {pct}%");
                last = pct;
                if done >= total {
                    eprintln!();
                }
            }
        }
    }
}

pub fn convert(a: ConvertArgs) -> Result<i32, Error> {
    let c = OpenChain::open(&a.input, &a.parents, a.force, true)?;
    // Every file of the chain is an input, also those above the layer written.
    let inputs = c.identities();
    let c = c.cut_at_layer(a.layer, a.force)?;
    let size = c.disk.size();
    let format = match a.to {
        To::Fixed => Format::Fixed,
        To::Dynamic => Format::Dynamic,
        To::Raw => Format::Raw,
    };
    let block_size = if format == Format::Dynamic {
        vhd_viewer::writer::check_block_size(size, a.block_size).map_err(|message| Error::Chain { message })?
    } else {
        0
    };
    let mut out = NewFile::create(&a.output, &inputs, a.force)?;
    let new = NewDisk { unique_id: random_id()?, timestamp: now() };
    let mut reader = DiskReader::new(&c.disk, c.sources())?;
    let mut progress = progress_printer("writing", size);
    let done = vhd_viewer::convert::convert(&mut reader, format, block_size, &new, &mut out.file, &mut progress)?;
    let dest = out.dest().display().to_string();
    out.commit()?;
    let what = match format {
        Format::Raw => "raw disk image".to_string(),
        Format::Fixed => "fixed VHD".to_string(),
        Format::Dynamic => {
            format!("dynamic VHD, {} of {} blocks of {} allocated", done.blocks_allocated, done.blocks, human_size(u64::from(block_size)))
        }
    };
    println!("wrote {dest}: {what}; the disk is {size} bytes ({}), the file {} bytes", human_size(size), done.file_len);
    if c.names.len() > 1 {
        println!("merged the chain of {} files: {}", c.names.len(), c.names.join(" <- "));
    } else if a.layer > 0 {
        println!("as of layer {}: {}", a.layer, c.names.join(""));
    }
    if format != Format::Raw {
        println!("its unique id is new: {}", new.unique_id);
    }
    Ok(0)
}
