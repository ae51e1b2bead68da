//! LZNT1, the compression of NTFS's compressed files: chunks of at most 4 KiB, each stored as
//! it is or as literals and back references under flag bytes.

use crate::bytes::le16;

/// Decompresses LZNT1 (NTFS compression) from `src`, appending at most `limit` bytes to `out`.
/// Stops at a zero chunk header, the end of `src`, or damage (a back reference before the start).
pub fn decompress(src: &[u8], out: &mut Vec<u8>, limit: usize) {
    let end = out.len() + limit;
    let mut i = 0usize;
    while i + 2 <= src.len() && out.len() < end {
        let h = le16(src, i);
        i += 2;
        if h == 0 {
            break;
        }
        let size = usize::from(h & 0x0FFF) + 1;
        let chunk = &src[i..(i + size).min(src.len())];
        i += size;
        if h & 0x8000 == 0 {
            let n = chunk.len().min(end - out.len());
            out.extend_from_slice(&chunk[..n]);
            continue;
        }
        let start = out.len();
        let mut j = 0usize;
        'chunk: while j < chunk.len() {
            let flags = chunk[j];
            j += 1;
            for bit in 0..8 {
                if j >= chunk.len() || out.len() >= end {
                    break 'chunk;
                }
                if flags & (1 << bit) == 0 {
                    out.push(chunk[j]);
                    j += 1;
                    continue;
                }
                if j + 1 >= chunk.len() {
                    break 'chunk;
                }
                let t = usize::from(le16(chunk, j));
                j += 2;
                let pos = out.len() - start;
                if pos == 0 {
                    break 'chunk;
                }
                let mut lg = 0;
                let mut x = pos - 1;
                while x >= 0x10 {
                    lg += 1;
                    x >>= 1;
                }
                let offset = (t >> (12 - lg)) + 1;
                let length = (t & (0xFFF >> lg)) + 3;
                if offset > pos {
                    break 'chunk;
                }
                for _ in 0..length {
                    if out.len() >= end {
                        break 'chunk;
                    }
                    let b = out[out.len() - offset];
                    out.push(b);
                }
            }
        }
    }
}
