//! `draw`: a picture of the disk as SVG on stdout, for documentation pipelines.

use std::io::Write;

use clap::{Args, ValueEnum};
use vhd_viewer::draw::{self, ChangesSummary, Picture, Style, Theme};
use vhd_viewer::Error;

use super::chain::OpenChain;
use super::{io_err, ChainArgs};

/// Which picture.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum What {
    /// The chain diagram: each file down to the base, each link verified or not.
    Chain,
    /// Layer K's block map (its BAT).
    Bat,
    /// One block's sector bitmap in layer K: which sectors the file holds.
    Bitmap,
    /// Which layer supplies each part of the disk (reads every sector bitmap).
    Provenance,
    /// The partition layout.
    Partitions,
    /// Where the bytes layer K holds went, against its parent (what `diff` reports).
    Changes,
}

/// `draw`'s arguments.
#[derive(Args)]
pub struct DrawArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// The picture.
    #[arg(value_enum)]
    what: What,
    /// The block (for `bitmap`), as the block map numbers them.
    #[arg(required_if_eq("what", "bitmap"))]
    block: Option<u64>,
    /// The layer (0 is the file opened, 1 its parent, ...): whose block map, bitmap or changes;
    /// for `provenance` and `partitions`, the disk as of that layer.
    #[arg(long = "layer", value_name = "K", default_value = "0")]
    layer: usize,
    /// The colours: light or dark.
    #[arg(long, default_value = "light", value_parser = ["light", "dark"])]
    theme: String,
    /// The picture's width in pixels (240 to 4096); its height follows.
    #[arg(long, default_value_t = draw::DEFAULT_WIDTH)]
    width: u32,
}

/// `draw`.
pub fn draw(args: DrawArgs) -> Result<i32, Error> {
    let c = OpenChain::open(&args.chain.file, &args.chain.parents, args.chain.force, false)?;
    let style = Style { theme: Theme::parse(&args.theme)?, width: args.width };
    // The files' own names, as the page knows them, so that its pictures are the same bytes.
    let names = c.file_names();
    let k = args.layer;
    let svg = if args.what == What::Changes {
        if args.block.is_some() {
            return Err(Error::Usage { message: "a block is given only for a sector bitmap, not for changes".to_string() });
        }
        let report = super::diff::chain_report(&c, k + 1, k, None)?;
        draw::changes_svg(&ChangesSummary::from(&report), &style)?
    } else {
        let kind = args.what.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default();
        draw::svg(&c.disk, &c.sources(), &Picture::named(&kind, k, args.block, &names)?, &style)?
    };
    let mut out = std::io::stdout().lock();
    out.write_all(svg.as_bytes()).and_then(|_| out.flush()).map_err(io_err)?;
    Ok(0)
}
