//! Little-endian integers (and the big-endian ones of VHD), UTF-16 text and GUIDs read out of raw
//! structures, for the whole core: one set of readers that never panic (bytes past the end read as zero, as a damaged or
//! short structure must not crash the reader; whether the structure is good is for its own
//! checks to say).

use serde::{Serialize, Serializer};

/// `N` bytes at `at`, zeros where `b` ends first.
pub fn array<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut a = [0u8; N];
    if let Some(s) = at.checked_add(N).and_then(|end| b.get(at..end)) {
        a.copy_from_slice(s);
    }
    a
}

/// The little-endian `u16` at `at` (zero when it does not fit in `b`).
pub fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(array(b, at))
}

/// The little-endian `u32` at `at` (zero when it does not fit in `b`).
pub fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(array(b, at))
}

/// The little-endian `u64` at `at` (zero when it does not fit in `b`).
pub fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(array(b, at))
}

/// The big-endian `u32` at `at` (zero when it does not fit in `b`).
pub fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(array(b, at))
}

/// The big-endian `u64` at `at` (zero when it does not fit in `b`).
pub fn be64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(array(b, at))
}

/// The UTF-16LE code units of `b` (an odd last byte left out).
pub fn utf16_units(b: &[u8]) -> impl Iterator<Item = u16> + '_ {
    b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]))
}

/// `b` as UTF-16LE text, unpaired surrogates replaced (an odd last byte left out).
pub fn utf16le(b: &[u8]) -> String {
    String::from_utf16_lossy(&utf16_units(b).collect::<Vec<_>>())
}

/// [`utf16le`] up to the first NUL code unit.
pub fn utf16le_nul(b: &[u8]) -> String {
    String::from_utf16_lossy(&utf16_units(b).take_while(|u| *u != 0).collect::<Vec<_>>())
}

/// UTF-16LE text up to the first NUL code unit, unpaired surrogates replaced; `false` when
/// there were some or `b` has an odd number of bytes.
pub fn utf16le_checked(b: &[u8]) -> (String, bool) {
    checked(utf16_units(b), b.len())
}

/// [`utf16le_checked`] for UTF-16 big-endian (a VHD header's parent name).
pub fn utf16be_checked(b: &[u8]) -> (String, bool) {
    checked(b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])), b.len())
}

fn checked(units: impl Iterator<Item = u16>, len: usize) -> (String, bool) {
    let mut valid = len % 2 == 0;
    let text = char::decode_utf16(units.take_while(|u| *u != 0))
        .map(|r| {
            r.unwrap_or_else(|_| {
                valid = false;
                char::REPLACEMENT_CHARACTER
            })
        })
        .collect();
    (text, valid)
}

/// A GUID as Microsoft stores it (GPT, VHDX): the first three fields little-endian, the last
/// eight bytes in order. Shown the way Windows shows it (`2dc27766-f623-4200-9d64-115e9bfd4a08`).
///
/// Not the VHD's [`Uuid`](crate::values::Uuid): the same 16 bytes, but a VHD's ids are shown in
/// stored order (as `vhdiinfo` does), so the two show the same bytes differently and stay two
/// types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    /// The 16 bytes at `at` of `b` (zeros where `b` ends first).
    pub fn at(b: &[u8], at: usize) -> Guid {
        Guid(array(b, at))
    }

    /// The GUID from its text form, with or without braces.
    pub fn parse(text: &str) -> Option<Guid> {
        let t = text.trim().trim_start_matches('{').trim_end_matches('}');
        let hex: String = t.chars().filter(|c| *c != '-').collect();
        if hex.len() != 32 || t.len() != 36 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let mut be = [0u8; 16];
        for (i, b) in be.iter_mut().enumerate() {
            *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Guid::from_text_order(be))
    }

    /// The GUID whose text form has these bytes in this order.
    pub const fn from_text_order(b: [u8; 16]) -> Guid {
        Guid([b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]])
    }

    /// True when all sixteen bytes are zero.
    pub fn is_nil(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl std::fmt::Display for Guid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = &self.0;
        write!(f, "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-", le32(b, 0), le16(b, 4), le16(b, 6), b[8], b[9])?;
        b[10..].iter().try_for_each(|x| write!(f, "{x:02x}"))
    }
}

impl Serialize for Guid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// CRC-32 (IEEE 802.3, as GPT and BitLocker's metadata use it).
pub fn crc32(data: &[u8]) -> u32 {
    !crc32_update(!0, data)
}

/// The CRC-32 register after `data`, from `seed`, without the final inversion (lvm2's `calc_crc`).
pub fn crc32_update(seed: u32, data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let t = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
            *e = c;
        }
        t
    });
    data.iter().fold(seed, |c, &b| t[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_little_endian_and_zero_past_the_end() {
        let b = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09];
        assert_eq!(le16(&b, 0), 0x0201);
        assert_eq!(le32(&b, 1), 0x0504_0302);
        assert_eq!(le64(&b, 1), 0x0908_0706_0504_0302);
        assert_eq!(le16(&b, 8), 0, "one byte short");
        assert_eq!(le32(&b, 6), 0);
        assert_eq!(le64(&b, 2), 0);
        assert_eq!(le64(&b, usize::MAX), 0, "an offset that overflows");
    }

    #[test]
    fn big_endian_integers_are_zero_past_the_end() {
        let b = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09];
        assert_eq!(be32(&b, 1), 0x0203_0405);
        assert_eq!(be64(&b, 1), 0x0203_0405_0607_0809);
        assert_eq!((be32(&b, 6), be64(&b, 2), be64(&b, usize::MAX)), (0, 0, 0));
    }

    #[test]
    fn checked_utf16_says_whether_it_was_valid() {
        let le: Vec<u8> = "a\\b.vhd\0c".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(utf16le_checked(&le), ("a\\b.vhd".to_string(), true));
        assert_eq!(utf16le_checked(&le[..le.len() - 1]), ("a\\b.vhd".to_string(), false), "an odd length");
        let be: Vec<u8> = "ä".encode_utf16().flat_map(u16::to_be_bytes).chain([0xd8, 0x00, 0, 0x41]).collect();
        assert_eq!(utf16be_checked(&be), ("ä\u{fffd}A".to_string(), false), "an unpaired surrogate");
        assert_eq!(utf16be_checked(&be[..2]), ("ä".to_string(), true));
    }

    #[test]
    fn utf16_text_stops_where_asked() {
        let b: Vec<u8> = "héllo\0x".encode_utf16().flat_map(u16::to_le_bytes).chain([0x41]).collect();
        assert_eq!(utf16le_nul(&b), "héllo");
        assert_eq!(utf16le(&b), "héllo\0x", "the odd last byte is left out");
    }

    #[test]
    fn guid_reads_mixed_endian_and_round_trips_its_text() {
        // The GPT basic data partition type as stored on disk.
        let stored = [0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44, 0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7];
        let g = Guid::at(&stored, 0);
        assert_eq!(g.to_string(), "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7");
        assert_eq!(Guid::parse("{EBD0A0A2-B9E5-4433-87C0-68B6B72699C7}"), Some(g));
        assert_eq!(Guid::parse("ebd0a0a2b9e5443387c068b6b72699c7"), None, "hyphens are required");
        assert_eq!(Guid::parse("ebd0a0a2-b9e5-4433-87c0-68b6b72699cg"), None);
        assert!(Guid::at(&stored, 1).0[15] == 0 && !g.is_nil() && Guid::default().is_nil());
    }
}
