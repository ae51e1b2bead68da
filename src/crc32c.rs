//! CRC-32C (Castagnoli): the checksum of VHDX headers, region tables and log entries
//! ([MS-VHDX] 2.2.2: "CRC-32C, using the Castagnoli polynomial 0x1EDC6F41"), and of XFS v5's
//! superblocks, inodes and B+tree blocks. A table-driven
//! implementation, eight bytes a step (slicing-by-8: eight tables of 256 entries): no dependency,
//! nothing added to the wasm build but the 8 KiB of tables. Opening a VHDX checksums its headers,
//! region tables and every entry of its log region (1 MiB as qemu and Hyper-V make it).

/// The reflected Castagnoli polynomial.
const POLY: u32 = 0x82f6_3b78;

/// `TABLES[0]`: the CRC of each byte value; `TABLES[k][i]`: of byte `i` followed by `k` zero bytes.
const TABLES: [[u32; 256]; 8] = {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            i += 1;
        }
        k += 1;
    }
    t
};

/// Continues `crc` (not inverted) over `part`, eight bytes a step.
fn update(mut crc: u32, part: &[u8]) -> u32 {
    let t = &TABLES;
    let mut chunks = part.chunks_exact(8);
    for c in &mut chunks {
        let lo = crc ^ u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        crc = t[7][(lo & 0xff) as usize]
            ^ t[6][((lo >> 8) & 0xff) as usize]
            ^ t[5][((lo >> 16) & 0xff) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][c[4] as usize]
            ^ t[2][c[5] as usize]
            ^ t[1][c[6] as usize]
            ^ t[0][c[7] as usize];
    }
    chunks.remainder().iter().fold(crc, |c, b| t[0][((c ^ u32::from(*b)) & 0xff) as usize] ^ (c >> 8))
}

/// CRC-32C of `bytes`, with the four bytes at `zeroed_at` (the checksum field) taken as zero.
pub fn crc32c_with_zeroed(bytes: &[u8], zeroed_at: usize) -> u32 {
    let (head, rest) = bytes.split_at(zeroed_at.min(bytes.len()));
    let (field, tail) = rest.split_at(rest.len().min(4));
    let crc = update(update(update(!0u32, head), &[0u8; 4][..field.len()]), tail);
    !crc
}

/// CRC-32C of `bytes`.
pub fn crc32c(bytes: &[u8]) -> u32 {
    crc32c_with_zeroed(bytes, usize::MAX - 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // RFC 3720 (iSCSI) appendix B.4 test vectors.
        assert_eq!(crc32c(&[0u8; 32]), 0x8a91_36aa);
        assert_eq!(crc32c(&[0xffu8; 32]), 0x62a8_ab43);
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        let mut b = b"12345678\xde\xad\xbe\xef".to_vec();
        let with = crc32c_with_zeroed(&b, 8);
        b[8..12].fill(0);
        assert_eq!(with, crc32c(&b));
    }

    /// Eight bytes a step gives what one byte a step gives, at every length and alignment.
    #[test]
    fn sliced_equals_bytewise() {
        let bytewise = |b: &[u8]| !b.iter().fold(!0u32, |c, x| TABLES[0][((c ^ u32::from(*x)) & 0xff) as usize] ^ (c >> 8));
        let data: Vec<u8> = (0..300u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        for start in 0..9 {
            for len in 0..data.len() - start {
                assert_eq!(crc32c(&data[start..start + len]), bytewise(&data[start..start + len]), "{start} {len}");
            }
        }
    }
}
