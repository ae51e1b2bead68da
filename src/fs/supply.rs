//! Which layer of the chain supplies each part of a file: the files view's "supplied by"
//! column, and `owner`'s last line.

use serde::Serialize;

use super::Run;
use crate::error::Result;
use crate::plan::Source;
use crate::reader::DiskReader;

/// Parts of a file's supply listed at most.
pub const MAX_SUPPLY: usize = 4096;

/// A part of a file's runs and where the chain takes it from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Supply {
    /// Where the part starts in the file.
    pub file_offset: u64,
    /// Its length in bytes.
    pub len: u64,
    /// `data` (from layer `layer`), `zero` (no layer holds it: zeros), `missing` (from layer
    /// `layer`'s parent, not given, or a file cut short), or `sparse` (a hole of the file).
    pub kind: &'static str,
    /// The layer, for `data` and `missing`.
    pub layer: Option<usize>,
}

/// How `source` is named in output (`data`, `missing` or `zero`), and its layer.
pub fn supplier(source: Option<Source>) -> (&'static str, Option<usize>) {
    match source {
        Some(Source::Data { layer, .. }) => ("data", Some(layer)),
        Some(Source::Missing { layer }) => ("missing", Some(layer)),
        Some(Source::Zero) | None => ("zero", None),
    }
}

/// Which layer supplies each part of `runs` (volume offsets from virtual byte `start`) up to
/// the file's `size` (not the slack of its last cluster), neighbours of one source merged, in
/// file order: the first [`MAX_SUPPLY`] parts, and true when there are more. Reads only bitmaps.
pub fn supply_of(reader: &mut DiskReader<'_>, start: u64, runs: &[Run], size: u64) -> Result<(Vec<Supply>, bool)> {
    let mut out: Vec<Supply> = Vec::new();
    let mut push = |file_offset: u64, len: u64, kind: &'static str, layer: Option<usize>| -> bool {
        if let Some(l) = out.last_mut() {
            if l.kind == kind && l.layer == layer && l.file_offset + l.len == file_offset {
                l.len += len;
                return true;
            }
        }
        if out.len() >= MAX_SUPPLY {
            return false;
        }
        out.push(Supply { file_offset, len, kind, layer });
        true
    };
    for r in runs {
        if r.file_offset >= size {
            break;
        }
        let r = &Run { len: r.len.min(size - r.file_offset), ..*r };
        let Some(v) = r.volume_offset else {
            if !push(r.file_offset, r.len, "sparse", None) {
                return Ok((out, true));
            }
            continue;
        };
        let at = start.saturating_add(v);
        let mut full = false;
        reader.for_each_extent(at, r.len, |e| {
            let (kind, layer) = supplier(Some(e.source));
            if !full && !push(r.file_offset + (e.offset - at), e.len, kind, layer) {
                full = true;
            }
            Ok(())
        })?;
        if full {
            return Ok((out, true));
        }
    }
    Ok((out, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::Disk;
    use crate::reader::{open_layer, ReadAt};
    use crate::vhd::writer::DiskBuilder;

    /// A parent holding its first block (64 KiB blocks), a child holding sectors 2..4 of it and
    /// all of its third block; the disk is 1 MiB.
    fn chain() -> (Vec<u8>, Vec<u8>) {
        let mut parent = DiskBuilder::dynamic(1 << 20, 64 << 10);
        parent.write(0, &[1u8; 64 << 10]);
        let mut child = DiskBuilder::differencing(&parent.parent_ref("p.vhd"), 64 << 10);
        child.write(1024, &[2u8; 1024]).write(128 << 10, &[3u8; 64 << 10]);
        (child.build(), parent.build())
    }

    fn supply(runs: &[Run], size: u64, start: u64) -> (Vec<Supply>, bool) {
        let (c, p) = chain();
        let disk = Disk::new(vec![open_layer(&c).unwrap(), open_layer(&p).unwrap()], false).unwrap();
        let mut reader = DiskReader::new(&disk, vec![&c as &dyn ReadAt, &p as &dyn ReadAt]).unwrap();
        supply_of(&mut reader, start, runs, size).unwrap()
    }

    fn part(file_offset: u64, len: u64, kind: &'static str, layer: Option<usize>) -> Supply {
        Supply { file_offset, len, kind, layer }
    }

    #[test]
    fn each_part_names_its_layer_merged_and_clipped_to_the_size() {
        let run = |file_offset, len, volume_offset| Run { file_offset, len, volume_offset };
        // The volume starts at virtual byte 512: volume byte 0 is disk byte 512.
        let runs = [run(0, 4096, Some(0)), run(4096, 8192, None), run(12288, 70 << 10, Some(126 << 10))];
        let (got, more) = supply(&runs, 12288 + (66 << 10), 512);
        assert!(!more);
        assert_eq!(
            got,
            vec![
                part(0, 512, "data", Some(1)),
                part(512, 1024, "data", Some(0)),
                part(1536, 2560, "data", Some(1)),
                part(4096, 8192, "sparse", None),
                // Disk bytes from 126.5 KiB: zeros up to the child's block at 128 KiB, the child's
                // 64 KiB, zeros to the file's end (the run's last 4 KiB are past it).
                part(12288, 1536, "zero", None),
                part(12288 + 1536, 64 << 10, "data", Some(0)),
                part(12288 + 1536 + (64 << 10), 512, "zero", None),
            ]
        );
    }

    #[test]
    fn a_file_of_more_parts_than_listed_says_so() {
        // Alternating holes and held bytes, one more part than is listed.
        let runs: Vec<Run> =
            (0..=MAX_SUPPLY as u64).map(|k| Run { file_offset: k * 512, len: 512, volume_offset: (k % 2 == 0).then_some(0) }).collect();
        let (got, more) = supply(&runs, u64::MAX, 0);
        assert_eq!(got.len(), MAX_SUPPLY);
        assert!(more);
        assert_eq!(supplier(None), ("zero", None));
    }
}
