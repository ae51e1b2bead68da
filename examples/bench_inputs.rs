//! Makes the benchmark's input disks (never committed; `bench/run.mjs` calls this), and counts
//! what opening a disk reads.
//!
//! ```sh
//! cargo run --release --example bench_inputs -- make bench-out/inputs [NAME...]  # only the missing ones (of NAMEs)
//! cargo run --release --example bench_inputs -- open-reads FILE...      # JSON: reads per open
//! cargo run --release --example bench_inputs -- warm FILE                # cache what is stored
//! ```
//!
//! `warm` reads into the page cache the parts of a dynamic disk's file that hold bytes on disk
//! here: the metadata, and per allocated block the 4 KiB holding its bitmap and the 4 KiB
//! holding its first present sector (where the 127 GiB input keeps its only data). The rest of
//! that input is holes, which no cache needs to hold: reading them costs the same every time.
//!
//! The inputs:
//! - `sparse-2040g.vhd`: a 2040 GiB dynamic disk (the format's largest), 64 blocks written with a
//!   pattern, spread over the disk; the project's writer makes it (a 4 MiB BAT, a ~132 MiB file).
//! - `full-127g.vhd`: a 127 GiB dynamic disk with *every* block allocated and varied sector
//!   bitmaps (full, empty, halves, 8-sector clusters from sector 63, every other sector, a few
//!   random runs), streamed to a sparse file: footer copy, header and BAT, then per block its
//!   bitmap and a 16-byte marker in its first present sector, with the rest of each block left a
//!   hole (`du` shows a few hundred MiB).
//! - `data-4g.vhd`: a 4 GiB dynamic disk full of data (every bitmap bit set, every byte a
//!   non-repeating pattern), streamed.
//! - `chain8-0.vhd` (base) .. `chain8-7.vhd` (top): a differencing chain 8 files deep, made by the
//!   project's writer: a 1 GiB base full of data, and 7 layers that each change ~1000 scattered
//!   runs of 1..8 sectors in 64 of its 512 blocks.
//! - `files-ext4.vhd` and `files-ntfs.vhd` (with `.raw`, the same disk flattened, for sleuthkit):
//!   a 1 GiB MBR disk whose partition (from sector 2048) holds 100,000 files in 1,010 nested
//!   folders, made by `mkfs.ext4 -d` and by mkntfs + ntfs-3g (FUSE; about a minute): the
//!   recursive listing against `fls -r`.
//! - `sparse-64t.vhdx`: a 64 TiB dynamic VHDX (the format's largest), empty: `qemu-img create -f
//!   vhdx` (64 MiB blocks, a 16 MiB file with an 8 MiB BAT).
//! - `data-4g.vhdx`: the 4 GiB of `data-4g.vhd` (the same bytes of virtual disk) as a dynamic VHDX:
//!   streamed to a raw file, then `qemu-img convert -O vhdx` (the raw file is removed after).
//! - `half-4g.vhd` and `half-4g.vhdx`: 4 GiB half full (issue 23's `resize` and `convert --for
//!   azure`): the first 32 MiB of every 64 MiB written with a pattern, the rest never written
//!   (the VHD streamed with 2 MiB blocks, 1024 of its 2048 allocated; the VHDX by `qemu-img
//!   convert -O vhdx` of the same bytes, which allocates the blocks holding data).
//!
//! Every file is written under a temporary name and renamed when complete, so an interrupted run
//! never leaves a half-made input behind.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use vhd_viewer::reader::{open_layer, Counting, KnownLen, ReadAt};
use vhd_viewer::vhd::header;
use vhd_viewer::vhd::writer::{BlockOrder, DiskBuilder};

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
const BLOCK: u64 = 2 * MIB;

/// xorshift64*: a fast, deterministic pattern source.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Fills `buf` with a pattern unique to (`seed`, position): never a run of zeros, never repeats.
fn fill_pattern(buf: &mut [u8], seed: u64) {
    let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    for c in buf.chunks_mut(8) {
        let v = r.next().to_le_bytes();
        c.copy_from_slice(&v[..c.len()]);
    }
}

/// The metadata of an empty dynamic disk made by the project's writer: footer copy, dynamic
/// header, BAT (all unallocated), and the footer. Returns (prefix up to the end of the BAT,
/// footer, BAT offset, BAT entries).
fn skeleton(size: u64) -> (Vec<u8>, Vec<u8>, u64, u64) {
    let empty = DiskBuilder::dynamic(size, BLOCK as u32).build();
    let footer = empty[empty.len() - 512..].to_vec();
    let h = &empty[512..512 + header::HEADER_SIZE as usize];
    let be64 = |at: usize| u64::from_be_bytes(h[at..at + 8].try_into().unwrap());
    let be32 = |at: usize| u64::from(u32::from_be_bytes(h[at..at + 4].try_into().unwrap()));
    let table_offset = be64(header::off::TABLE_OFFSET);
    let entries = be32(header::off::MAX_TABLE_ENTRIES);
    let prefix = empty[..empty.len() - 512].to_vec();
    assert_eq!(prefix.len() as u64, (table_offset + entries * 4).div_ceil(512) * 512, "the writer's layout changed");
    (prefix, footer, table_offset, entries)
}

/// Sets BAT entry `i` to the `slot`th block laid out right after the prefix and returns the
/// block's file offset.
fn place(prefix: &mut [u8], table_offset: u64, i: u64, slot: u64) -> u64 {
    let first = prefix.len() as u64;
    let at = first + slot * (512 + BLOCK);
    let e = table_offset as usize + 4 * i as usize;
    prefix[e..e + 4].copy_from_slice(&((at / 512) as u32).to_be_bytes());
    at
}

/// One of eight kinds of sector bitmap (4096 sectors, 512 bytes), chosen by block index.
fn varied_bitmap(i: u64, rng: &mut Rng) -> [u8; 512] {
    let mut b = [0u8; 512];
    let set = |b: &mut [u8; 512], from: u64, to: u64| {
        for s in from..to.min(4096) {
            b[(s / 8) as usize] |= 0x80 >> (s % 8);
        }
    };
    match i % 8 {
        0 => b.fill(0xff),            // every sector present
        1 => {}                       // allocated, nothing present
        2 => set(&mut b, 0, 2048),    // first half
        3 => set(&mut b, 2048, 4096), // second half
        4 => {
            // 8-sector clusters from sector 63, every other one: straddle bitmap bytes.
            let mut s = 63;
            while s < 4096 {
                set(&mut b, s, s + 8);
                s += 16;
            }
        }
        5 => b.fill(0xaa), // every other sector
        6 => {
            // a few random runs
            for _ in 0..8 {
                let from = rng.below(4096);
                let len = 1 + rng.below(256);
                set(&mut b, from, from + len);
            }
        }
        _ => set(&mut b, 0, 1), // only the first sector
    }
    b
}

fn tmp_name(path: &Path) -> PathBuf {
    path.with_extension(format!("partial{}", std::process::id()))
}

/// 127 GiB, every block allocated, varied bitmaps; a sparse file.
fn make_full_127g(path: &Path) -> std::io::Result<()> {
    let size = 127 * GIB;
    let (mut prefix, footer, table_offset, entries) = skeleton(size);
    let tmp = tmp_name(path);
    let f = File::create(&tmp)?;
    let total = prefix.len() as u64 + entries * (512 + BLOCK) + 512;
    f.set_len(total)?; // all hole until written
    let mut rng = Rng(0x127);
    for i in 0..entries {
        let at = place(&mut prefix, table_offset, i, i);
        let bitmap = varied_bitmap(i, &mut rng);
        f.write_all_at(&bitmap, at)?;
        // A few bytes of data in the block's first present sector: the rest stays a hole. (Not
        // in a sector whose bit is clear: 7-Zip rightly calls non-zero bytes there a data error.)
        if let Some(s) = (0..4096u64).find(|s| bitmap[(s / 8) as usize] & (0x80 >> (s % 8)) != 0) {
            f.write_all_at(format!("block {i:>10} data").as_bytes(), at + 512 + s * 512)?;
        }
    }
    f.write_all_at(&prefix, 0)?;
    f.write_all_at(&footer, total - 512)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

/// 4 GiB, every block allocated and full of data.
fn make_data_4g(path: &Path) -> std::io::Result<()> {
    make_4g(path, |_| true, 0x4000)
}

/// The 4 GiB of `data-4g.vhd` as a dynamic VHDX made by qemu-img from a raw image.
fn make_data_4g_vhdx(path: &Path) -> std::io::Result<()> {
    make_4g_vhdx(path, |_| true, 0x4000)
}

/// Whether 2 MiB block `i` of `half-4g` holds data: the first 32 MiB of every 64 MiB.
fn half_written(i: u64) -> bool {
    (i * BLOCK) % (64 * MIB) < 32 * MIB
}

/// 4 GiB half full: the blocks of [`half_written`] allocated and full of a pattern, the others
/// not allocated.
fn make_half_4g(path: &Path) -> std::io::Result<()> {
    make_4g(path, half_written, 0x4a1f)
}

/// The bytes of `half-4g.vhd` as a dynamic VHDX made by qemu-img from a sparse raw image.
fn make_half_4g_vhdx(path: &Path) -> std::io::Result<()> {
    make_4g_vhdx(path, half_written, 0x4a1f)
}

/// A dynamic VHD of 4 GiB whose 2 MiB blocks `i` with `written(i)` are allocated, one after the
/// other in block order, each full of the pattern of `seed + i`; the others not allocated.
fn make_4g(path: &Path, written: fn(u64) -> bool, seed: u64) -> std::io::Result<()> {
    let (mut prefix, footer, table_offset, entries) = skeleton(4 * GIB);
    let written: Vec<u64> = (0..entries).filter(|i| written(*i)).collect();
    let tmp = tmp_name(path);
    let mut w = BufWriter::with_capacity(4 << 20, File::create(&tmp)?);
    for (slot, i) in written.iter().enumerate() {
        place(&mut prefix, table_offset, *i, slot as u64);
    }
    w.write_all(&prefix)?;
    let mut data = vec![0u8; BLOCK as usize];
    for i in &written {
        w.write_all(&[0xff; 512])?;
        fill_pattern(&mut data, seed + i);
        w.write_all(&data)?;
    }
    w.write_all(&footer)?;
    let f = w.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

/// The bytes of [`make_4g`]'s disk as a dynamic VHDX made by qemu-img from a sparse raw image.
fn make_4g_vhdx(path: &Path, written: fn(u64) -> bool, seed: u64) -> std::io::Result<()> {
    let raw = path.with_extension("raw.tmp");
    {
        let f = File::create(&raw)?;
        f.set_len(4 * GIB)?;
        let mut data = vec![0u8; BLOCK as usize];
        for i in (0..4 * GIB / BLOCK).filter(|i| written(*i)) {
            fill_pattern(&mut data, seed + i);
            f.write_all_at(&data, i * BLOCK)?;
        }
    }
    let tmp = tmp_name(path);
    let made = qemu_img(&["convert", "-q", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic"], &[&raw, &tmp]);
    std::fs::remove_file(&raw)?;
    made?;
    std::fs::rename(&tmp, path)
}

/// 64 TiB, empty: what `qemu-img create -f vhdx` makes.
fn make_sparse_64t_vhdx(path: &Path) -> std::io::Result<()> {
    let tmp = tmp_name(path);
    qemu_img(&["create", "-q", "-f", "vhdx"], &[&tmp, Path::new("64T")])?;
    std::fs::rename(&tmp, path)
}

/// Runs `qemu-img ARGS PATHS...`.
fn qemu_img(args: &[&str], paths: &[&Path]) -> std::io::Result<()> {
    let status = std::process::Command::new("qemu-img").args(args).args(paths).status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("qemu-img {} failed: {status}", args.join(" "))))
    }
}

/// 2040 GiB, 64 blocks written, spread over the disk.
fn make_sparse_2040g(path: &Path) -> std::io::Result<()> {
    let size = 2040 * GIB;
    let mut d = DiskBuilder::dynamic(size, BLOCK as u32);
    d.block_order(BlockOrder::Written);
    let blocks = size / BLOCK;
    let mut data = vec![0u8; BLOCK as usize];
    for k in 0..64u64 {
        let block = k * (blocks / 64) + (k * 7919) % 97;
        fill_pattern(&mut data, 0x2040 + k);
        // A whole block, or its first half: two kinds of bitmap.
        let n = if k % 2 == 0 { BLOCK } else { BLOCK / 2 };
        d.write(block * BLOCK, &data[..n as usize]);
    }
    write_file(path, &d.build())
}

/// The chain: a 1 GiB base full of data and 7 differencing layers, written base first.
fn make_chain(dir: &Path) -> std::io::Result<()> {
    let size = GIB;
    let blocks = size / BLOCK;
    let mut base = DiskBuilder::dynamic(size, BLOCK as u32);
    base.block_order(BlockOrder::Ascending);
    let mut data = vec![0u8; BLOCK as usize];
    for b in 0..blocks {
        fill_pattern(&mut data, 0xba5e + b);
        base.write(b * BLOCK, &data);
    }
    let mut parent_ref = base.parent_ref("chain8-0.vhd");
    let mut files = vec![base.build()];
    drop(base);
    let mut rng = Rng(0xc4a1);
    for level in 1..8u64 {
        let mut d = DiskBuilder::differencing(&parent_ref, BLOCK as u32);
        d.timestamp(0x2000_0000 + level as u32);
        // 64 blocks of this layer, some shared with the layers below (the first 16 every time).
        let chosen: Vec<u64> = (0..64).map(|k| if k < 16 { k * 31 % blocks } else { rng.below(blocks) }).collect();
        let mut sector = vec![0u8; 8 * 512];
        for _ in 0..1000 {
            let block = chosen[rng.below(64) as usize];
            let s = rng.below(4096 - 8);
            let n = 1 + rng.below(8);
            fill_pattern(&mut sector, level << 40 | block << 12 | s);
            d.write(block * BLOCK + s * 512, &sector[..(n * 512) as usize]);
        }
        parent_ref = d.parent_ref(&format!("chain8-{level}.vhd"));
        files.push(d.build());
    }
    for (level, bytes) in files.iter().enumerate() {
        write_file(&dir.join(format!("chain8-{level}.vhd")), bytes)?;
    }
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = tmp_name(path);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Makes the inputs of `only` (file names; all when empty) that are missing.
fn make(dir: &Path, only: &[String]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    type Maker = fn(&Path) -> std::io::Result<()>;
    let singles: [(&str, Maker); 9] = [
        ("sparse-2040g.vhd", make_sparse_2040g),
        ("full-127g.vhd", make_full_127g),
        ("data-4g.vhd", make_data_4g),
        ("files-ext4.vhd", make_files_ext4),
        ("files-ntfs.vhd", make_files_ntfs),
        ("sparse-64t.vhdx", make_sparse_64t_vhdx),
        ("data-4g.vhdx", make_data_4g_vhdx),
        ("half-4g.vhd", make_half_4g),
        ("half-4g.vhdx", make_half_4g_vhdx),
    ];
    for (name, maker) in singles {
        let path = dir.join(name);
        if path.exists() || !wanted(name) {
            continue;
        }
        eprintln!("bench_inputs: making {}", path.display());
        maker(&path)?;
    }
    let chain_wanted = (0..8).any(|l| wanted(&format!("chain8-{l}.vhd")));
    if chain_wanted && (!dir.join("chain8-7.vhd").exists() || !(0..8).all(|l| dir.join(format!("chain8-{l}.vhd")).exists())) {
        eprintln!("bench_inputs: making the 8-deep chain in {}", dir.display());
        make_chain(dir)?;
    }
    Ok(())
}

/// Files of the listing benchmark: 10 folders of 100 folders of 100 files (100,000 files, 1,010
/// folders), each file a line of text.
const FILES_TOP: usize = 10;
const FILES_MID: usize = 100;
const FILES_LEAF: usize = 100;
/// Where the listing benchmark's partition starts (sectors).
const FILES_START: u64 = 2048;
/// Its disk's size.
const FILES_DISK: u64 = GIB + 2 * MIB;

/// Writes the 100,000 files under `src`.
fn write_tree(src: &Path) -> std::io::Result<()> {
    for a in 0..FILES_TOP {
        for b in 0..FILES_MID {
            let d = src.join(format!("folder {a}")).join(format!("sub {b:02}"));
            std::fs::create_dir_all(&d)?;
            for c in 0..FILES_LEAF {
                std::fs::write(d.join(format!("file {c:02}.txt")), format!("file {c} of folder {a}/{b}\n"))?;
            }
        }
    }
    Ok(())
}

/// Runs `script` with bash in `dir`, failing with its stderr.
fn bash(dir: &Path, script: &str) -> std::io::Result<()> {
    let o = std::process::Command::new("bash").args(["-euo", "pipefail", "-c", script]).current_dir(dir).output()?;
    if !o.status.success() {
        return Err(std::io::Error::other(format!("{script}: {}", String::from_utf8_lossy(&o.stderr))));
    }
    Ok(())
}

/// `raw` (an MBR disk) as a dynamic VHD at `path`, and the raw kept beside it (`.raw`) for
/// sleuthkit, which reads it flattened.
fn wrap_files(work: &Path, path: &Path) -> std::io::Result<()> {
    let raw = std::fs::read(work.join("disk.raw"))?;
    let mut b = DiskBuilder::dynamic(raw.len() as u64, BLOCK as u32);
    for (k, chunk) in raw.chunks(64 << 10).enumerate() {
        if chunk.iter().any(|x| *x != 0) {
            b.write(k as u64 * (64 << 10), chunk);
        }
    }
    drop(raw);
    let tmp = tmp_name(path);
    std::fs::write(&tmp, b.build())?;
    std::fs::rename(work.join("disk.raw"), path.with_extension("raw"))?;
    std::fs::rename(&tmp, path)?;
    std::fs::remove_dir_all(work)
}

/// A fresh work folder beside `path` with the tree in `src/` and an MBR disk `disk.raw` whose
/// one partition starts at [`FILES_START`].
fn files_work(path: &Path, ty: &str) -> std::io::Result<PathBuf> {
    let work = path.with_extension("work");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    write_tree(&work.join("src"))?;
    bash(
        &work,
        &format!("truncate -s {FILES_DISK} disk.raw; printf 'label: dos\\nstart={FILES_START}, type={ty}\\n' | sfdisk -q disk.raw"),
    )?;
    Ok(work)
}

/// ext4 holding the 100,000 files, made by `mkfs.ext4 -d` into the partition.
fn make_files_ext4(path: &Path) -> std::io::Result<()> {
    let work = files_work(path, "83")?;
    let size_k = (FILES_DISK - FILES_START * 512) / 1024;
    bash(&work, &format!("mkfs.ext4 -q -F -N 110000 -L FILES -d src -E offset={} disk.raw {size_k}k", FILES_START * 512))?;
    wrap_files(&work, path)
}

/// NTFS holding the 100,000 files, made by mkntfs and copied in through ntfs-3g (FUSE; about a
/// minute).
fn make_files_ntfs(path: &Path) -> std::io::Result<()> {
    let work = files_work(path, "7")?;
    let bytes = FILES_DISK - FILES_START * 512;
    bash(
        &work,
        &format!(
            "truncate -s {bytes} p.img; mkntfs -q -F -c 4096 -p {FILES_START} -L FILES p.img >/dev/null 2>&1; mkdir -p m
             ntfs-3g p.img m </dev/null >/dev/null 2>&1 || {{ echo 'ntfs-3g could not mount (FUSE is needed)' >&2; exit 1; }}
             cp -r src/. m/; sync; umount m
             dd if=p.img of=disk.raw bs=1M seek={} conv=notrunc,sparse status=none; rm p.img",
            FILES_START * 512 / MIB
        ),
    )?;
    wrap_files(&work, path)
}

/// Opens each file through a counting reader and prints what the open read, as JSON lines.
fn open_reads(files: &[String]) -> Result<(), String> {
    for name in files {
        let file = File::open(name).map_err(|e| format!("{name}: {e}"))?;
        let counting = Counting::new(KnownLen::new(file));
        let layer = open_layer(&counting).map_err(|e| format!("{name}: {e}"))?;
        let bat_bytes = layer.bat_range().map_or(0, |r| r.len);
        let bat_reads = u64::from(bat_bytes > 0);
        println!(
            "{}",
            serde_json::json!({
                "file": name,
                "format": layer.format(),
                "reads": counting.reads(),
                "bytes": counting.bytes(),
                "bat_bytes": bat_bytes,
                "small_reads": counting.reads() - bat_reads,
                "small_bytes": counting.bytes() - bat_bytes,
            })
        );
    }
    Ok(())
}

/// Reads the stored parts of `path` (see the module documentation) so that they are cached.
fn warm(path: &str) -> Result<(), String> {
    let file = File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let src = KnownLen::new(file);
    let layer = open_layer(&src).map_err(|e| format!("{path}: {e}"))?;
    let Some((layer, geo)) = layer.vhd().and_then(|v| Some((v, v.block_geometry()?))) else { return Ok(()) };
    let mut page = vec![0u8; 4096];
    let page_of = |o: u64| o / 4096 * 4096;
    let read = |o: u64, buf: &mut Vec<u8>| -> Result<(), String> {
        let at = page_of(o);
        let n = 4096.min(src.len().saturating_sub(at)) as usize;
        src.read_at(at, &mut buf[..n]).map_err(|e| e.to_string())
    };
    for block in 0..layer.bat.len() as u64 {
        let Some(range) = layer.bitmap_range(block) else { continue };
        let mut bitmap = vec![0u8; range.len as usize];
        src.read_at(range.offset, &mut bitmap).map_err(|e| e.to_string())?;
        read(range.offset, &mut page)?;
        let sectors = geo.block_size / 512;
        if let Some(s) = (0..sectors).find(|s| vhd_viewer::disk::bit(&bitmap, *s)) {
            read(range.end() + s * 512, &mut page)?;
        }
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("make") => {
            make(Path::new(args.get(1).map_or("bench-out/inputs", String::as_str)), args.get(2..).unwrap_or(&[])).map_err(|e| e.to_string())
        }
        Some("open-reads") => open_reads(&args[1..]),
        Some("warm") => args[1..].iter().try_for_each(|f| warm(f)),
        _ => Err("usage: bench_inputs make DIR [NAME...] | open-reads FILE... | warm FILE...".to_string()),
    };
    if let Err(e) = result {
        eprintln!("bench_inputs: {e}");
        std::process::exit(1);
    }
}
