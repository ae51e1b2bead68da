//! Wraps a raw disk image into a dynamic VHDX with the project's writer, for tests that need what
//! qemu-img cannot make (qemu-img refuses 4096-byte logical sectors):
//!
//! `vhdx_from_raw RAW OUT.vhdx [--sector 512|4096] [--block-size BYTES]`: a dynamic VHDX of RAW's
//! size (1 MiB blocks and 512-byte sectors by default) holding RAW's sectors that are not all
//! zeros.

use vhd_viewer::vhdx::writer::VhdxBuilder;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || std::io::Error::other("usage: vhdx_from_raw RAW OUT.vhdx [--sector 512|4096] [--block-size BYTES]");
    let (raw, out) = match (args.first(), args.get(1)) {
        (Some(r), Some(o)) if !r.starts_with("--") && !o.starts_with("--") => (r, o),
        _ => return Err(usage()),
    };
    let mut sector = 512u32;
    let mut block_size = 1u32 << 20;
    let mut rest = args[2..].iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().and_then(|v| v.parse::<u32>().ok()).ok_or_else(usage)?;
        match flag.as_str() {
            "--sector" if value == 512 || value == 4096 => sector = value,
            "--block-size" if value.is_power_of_two() && (1 << 20..=256 << 20).contains(&value) => block_size = value,
            _ => return Err(usage()),
        }
    }
    let bytes = std::fs::read(raw)?;
    if bytes.len() % sector as usize != 0 {
        return Err(std::io::Error::other(format!("{raw} is {} bytes, not a whole number of {sector}-byte sectors", bytes.len())));
    }
    let mut b = VhdxBuilder::new(bytes.len() as u64);
    b.logical_sector_size = sector;
    b.block_size = block_size;
    for (k, piece) in bytes.chunks(sector as usize).enumerate() {
        if piece.iter().any(|x| *x != 0) {
            b.writes.push((k as u64 * u64::from(sector), piece.to_vec()));
        }
    }
    std::fs::write(out, b.build())
}
