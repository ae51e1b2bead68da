//! Wraps raw disk images into VHDs with the project's writer, for tests that make file systems
//! with the real tools (tests/web/files-api.test.mjs):
//!
//! - `vhd_from_raw dynamic RAW OUT.vhd`: a dynamic disk (2 MiB blocks) holding RAW's non-zero
//!   64 KiB pieces.
//! - `vhd_from_raw child PARENT.raw PARENT.vhd CHILD.raw OUT.vhd [SEED]`: a differencing disk on
//!   PARENT.vhd (made by `dynamic` from PARENT.raw) holding the 4 KiB pieces where CHILD.raw
//!   differs; SEED (a number) gives it a unique id of its own, for two children of one parent.

use vhd_viewer::values::Uuid;
use vhd_viewer::vhd::writer::DiskBuilder;

const BLOCK: u32 = 2 << 20;

fn dynamic(raw: &[u8], seed: u8) -> DiskBuilder {
    let mut b = DiskBuilder::dynamic(raw.len() as u64, BLOCK);
    b.unique_id(Uuid([seed; 16])).timestamp(0x2e60_0000);
    for (k, chunk) in raw.chunks(64 << 10).enumerate() {
        if chunk.iter().any(|x| *x != 0) {
            b.write(k as u64 * (64 << 10), chunk);
        }
    }
    b
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || std::io::Error::other("usage: vhd_from_raw dynamic RAW OUT | child PARENT.raw PARENT.vhd CHILD.raw OUT [SEED]");
    match args.first().map(String::as_str) {
        Some("dynamic") if args.len() == 3 => std::fs::write(&args[2], dynamic(&std::fs::read(&args[1])?, 0x5a).build()),
        Some("child") if args.len() == 5 || args.len() == 6 => {
            let (praw, craw) = (std::fs::read(&args[1])?, std::fs::read(&args[3])?);
            let parent = dynamic(&praw, 0x5a);
            let name = std::path::Path::new(&args[2]).file_name().and_then(|n| n.to_str()).ok_or_else(usage)?.to_string();
            let mut child = DiskBuilder::differencing(&parent.parent_ref(&name), BLOCK);
            child.timestamp(0x2e61_0000);
            if let Some(seed) = args.get(5) {
                child.unique_id(vhd_viewer::vhd::writer::uuid_from_seed(seed.parse().map_err(|_| usage())?));
            }
            for (k, (c, p)) in craw.chunks(4096).zip(praw.chunks(4096)).enumerate() {
                if c != p {
                    child.write(k as u64 * 4096, c);
                }
            }
            std::fs::write(&args[4], child.build())
        }
        _ => Err(usage()),
    }
}
