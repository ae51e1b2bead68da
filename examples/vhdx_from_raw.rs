//! Wraps a raw disk image into a dynamic VHDX with the project's writer, for tests that need what
//! qemu-img cannot make (qemu-img refuses 4096-byte logical sectors):
//!
//! `vhdx_from_raw RAW OUT.vhdx [--sector 512|4096] [--block-size BYTES] [--id BYTE]
//! [--child-of PARENT.raw PARENT_ID_BYTE PARENT_NAME]`: a dynamic VHDX of RAW's size (1 MiB blocks
//! and 512-byte sectors by default) holding RAW's sectors that are not all zeros, its
//! `DataWriteGuid` 16 times the byte `--id` (0x11 by default). With `--child-of`, a differencing
//! VHDX instead: a child of the VHDX made from PARENT.raw with `--id PARENT_ID_BYTE`, found at
//! PARENT_NAME (relative to the child), holding the sectors where RAW differs from PARENT.raw.

use vhd_viewer::vhdx::writer::VhdxBuilder;
use vhd_viewer::vhdx::Guid;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || {
        std::io::Error::other(
            "usage: vhdx_from_raw RAW OUT.vhdx [--sector 512|4096] [--block-size BYTES] [--id BYTE] [--child-of PARENT.raw PARENT_ID_BYTE PARENT_NAME]",
        )
    };
    let (raw, out) = match (args.first(), args.get(1)) {
        (Some(r), Some(o)) if !r.starts_with("--") && !o.starts_with("--") => (r, o),
        _ => return Err(usage()),
    };
    let mut sector = 512u32;
    let mut block_size = 1u32 << 20;
    let mut id = 0x11u8;
    let mut parent: Option<(Vec<u8>, u8, String)> = None;
    let mut rest = args[2..].iter();
    while let Some(flag) = rest.next() {
        let mut value = || rest.next().ok_or_else(usage);
        match flag.as_str() {
            "--sector" => {
                sector = value()?.parse().map_err(|_| usage()).and_then(|v| if v == 512 || v == 4096 { Ok(v) } else { Err(usage()) })?
            }
            "--block-size" => {
                block_size =
                    value()?.parse().ok().filter(|v: &u32| v.is_power_of_two() && (1 << 20..=256 << 20).contains(v)).ok_or_else(usage)?
            }
            "--id" => id = value()?.parse().map_err(|_| usage())?,
            "--child-of" => {
                let raw = std::fs::read(value()?)?;
                let pid = value()?.parse().map_err(|_| usage())?;
                parent = Some((raw, pid, value()?.clone()));
            }
            _ => return Err(usage()),
        }
    }
    let bytes = std::fs::read(raw)?;
    if bytes.len() % sector as usize != 0 {
        return Err(std::io::Error::other(format!("{raw} is {} bytes, not a whole number of {sector}-byte sectors", bytes.len())));
    }
    let mut b = VhdxBuilder::new(bytes.len() as u64);
    if let Some((_, pid, name)) = &parent {
        b = b.child_of(Guid([*pid; 16]), name);
    }
    b.data_write_guid = Guid([id; 16]);
    b.logical_sector_size = sector;
    b.block_size = block_size;
    let below = parent.as_ref().map(|(raw, _, _)| raw.as_slice());
    for (k, piece) in bytes.chunks(sector as usize).enumerate() {
        let at = k * sector as usize;
        // What the sector reads as without this file: the parent's bytes, or zeros.
        let under = below.and_then(|p| p.get(at..at + piece.len()));
        let differs = match under {
            Some(p) => p != piece,
            None => piece.iter().any(|x| *x != 0),
        };
        if differs {
            b.writes.push((at as u64, piece.to_vec()));
        }
    }
    std::fs::write(out, b.build())
}
