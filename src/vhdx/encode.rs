//! Encoders of the VHDX structures a writer writes anew ([MS-VHDX] 2.2.2, 2.2.3, 2.6.2.6): a
//! header, a region table and a parent locator, each with its CRC-32C where it has one. The
//! decoders are in [`super::format`].

use super::format::{header_off, region_off, Guid, RegionEntry, HEADER_SIZE, LOCATOR_TYPE_VHDX, REGION_TABLE_SIZE};
use crate::crc32c::{crc32c, crc32c_with_zeroed};

/// The fields of a header (2.2.2) a writer chooses; the rest of its 4 KiB is zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderFields {
    /// `SequenceNumber`: the larger of the two headers' is current.
    pub sequence_number: u64,
    /// `FileWriteGuid`.
    pub file_write_guid: Guid,
    /// `DataWriteGuid`: children name their parent by it.
    pub data_write_guid: Guid,
    /// `LogGuid`: zero when the log holds nothing to replay.
    pub log_guid: Guid,
    /// `LogLength`.
    pub log_length: u32,
    /// `LogOffset`.
    pub log_offset: u64,
}

/// A header's 4 KiB: signature `head`, `LogVersion` 0, `Version` 1, the checksum over the whole.
pub fn header(f: &HeaderFields) -> Vec<u8> {
    use header_off as o;
    let mut h = vec![0u8; HEADER_SIZE as usize];
    h[o::SIGNATURE..o::SIGNATURE + 4].copy_from_slice(b"head");
    h[o::SEQUENCE_NUMBER..o::SEQUENCE_NUMBER + 8].copy_from_slice(&f.sequence_number.to_le_bytes());
    h[o::FILE_WRITE_GUID..o::FILE_WRITE_GUID + 16].copy_from_slice(&f.file_write_guid.0);
    h[o::DATA_WRITE_GUID..o::DATA_WRITE_GUID + 16].copy_from_slice(&f.data_write_guid.0);
    h[o::LOG_GUID..o::LOG_GUID + 16].copy_from_slice(&f.log_guid.0);
    h[o::VERSION..o::VERSION + 2].copy_from_slice(&1u16.to_le_bytes());
    h[o::LOG_LENGTH..o::LOG_LENGTH + 4].copy_from_slice(&f.log_length.to_le_bytes());
    h[o::LOG_OFFSET..o::LOG_OFFSET + 8].copy_from_slice(&f.log_offset.to_le_bytes());
    let crc = crc32c(&h);
    h[o::CHECKSUM..o::CHECKSUM + 4].copy_from_slice(&crc.to_le_bytes());
    h
}

/// A region table's 64 KiB (signature `regi`) holding `entries` in their order, with its checksum.
pub fn region_table(entries: &[RegionEntry]) -> Vec<u8> {
    use region_off as o;
    let mut t = vec![0u8; REGION_TABLE_SIZE as usize];
    t[o::SIGNATURE..o::SIGNATURE + 4].copy_from_slice(b"regi");
    t[o::ENTRY_COUNT..o::ENTRY_COUNT + 4].copy_from_slice(&(entries.len() as u32).to_le_bytes());
    for (k, e) in entries.iter().enumerate() {
        let at = o::ENTRIES + o::ENTRY_SIZE * k;
        t[at..at + 16].copy_from_slice(&e.guid.0);
        t[at + 16..at + 24].copy_from_slice(&e.file_offset.to_le_bytes());
        t[at + 24..at + 28].copy_from_slice(&e.length.to_le_bytes());
        t[at + 28..at + 32].copy_from_slice(&e.required.to_le_bytes());
    }
    let crc = crc32c_with_zeroed(&t, o::CHECKSUM);
    t[o::CHECKSUM..o::CHECKSUM + 4].copy_from_slice(&crc.to_le_bytes());
    t
}

/// A parent locator item (2.6.2.6) of the VHDX type holding the key/value pairs `kv` (UTF-16LE,
/// keys and values after the entries, in order).
pub fn parent_locator(kv: &[(String, String)]) -> Vec<u8> {
    let mut b = vec![0u8; 20 + 12 * kv.len()];
    b[..16].copy_from_slice(&LOCATOR_TYPE_VHDX.0);
    b[18..20].copy_from_slice(&(kv.len() as u16).to_le_bytes());
    for (i, (k, v)) in kv.iter().enumerate() {
        let enc = |s: &str| s.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>();
        let (ke, ve) = (enc(k), enc(v));
        let e = 20 + 12 * i;
        let ko = b.len();
        b.extend_from_slice(&ke);
        let vo = b.len();
        b.extend_from_slice(&ve);
        b[e..e + 4].copy_from_slice(&(ko as u32).to_le_bytes());
        b[e + 4..e + 8].copy_from_slice(&(vo as u32).to_le_bytes());
        b[e + 8..e + 10].copy_from_slice(&(ke.len() as u16).to_le_bytes());
        b[e + 10..e + 12].copy_from_slice(&(ve.len() as u16).to_le_bytes());
    }
    b
}

/// A GUID as Windows writes it in a parent locator: `{83A4F2C1-...}`, upper case, in braces.
pub fn guid_text(g: Guid) -> String {
    format!("{{{}}}", g.to_string().to_uppercase())
}

/// A `FileWriteGuid` for a copy of a file whose current header has `old` and `sequence_number`:
/// derived from them (the core has no source of randomness; the same input gives the same copy),
/// never `old` itself, marked as a random (version 4) GUID.
pub fn next_file_write_guid(old: Guid, sequence_number: u64) -> Guid {
    let mut seed = old.0.to_vec();
    seed.extend_from_slice(&sequence_number.to_le_bytes());
    let mut out = [0u8; 16];
    for (k, piece) in out.chunks_mut(4).enumerate() {
        seed.push(k as u8 + 1);
        piece.copy_from_slice(&crc32c(&seed).to_le_bytes());
    }
    // Version 4 (bits of the third group), variant 10 (the fourth group's first byte).
    out[7] = (out[7] & 0x0f) | 0x40;
    out[8] = (out[8] & 0x3f) | 0x80;
    let g = Guid(out);
    if g == old {
        Guid(out.map(|b| b ^ 0x5a))
    } else {
        g
    }
}

#[cfg(test)]
mod tests {
    use super::super::format::{Header, ParentLocator, RegionTable, REGION_BAT};
    use super::*;

    #[test]
    fn encoded_structures_decode_and_verify() {
        let f = HeaderFields {
            sequence_number: 7,
            file_write_guid: Guid([1; 16]),
            data_write_guid: Guid([2; 16]),
            log_guid: Guid::default(),
            log_length: 1 << 20,
            log_offset: 1 << 20,
        };
        let h = Header::parse(&header(&f));
        assert!(h.valid());
        assert_eq!((h.sequence_number, h.data_write_guid, h.version, h.log_offset), (7, Guid([2; 16]), 1, 1 << 20));
        let e = RegionEntry { index: 0, guid: REGION_BAT, file_offset: 3 << 20, length: 1 << 20, required: 1 };
        let t = RegionTable::parse(&region_table(&[e]));
        assert!(t.valid());
        assert_eq!(t.entries, vec![e]);
        let l = ParentLocator::parse(&parent_locator(&[("relative_path".into(), ".\\b.vhdx".into())]));
        assert_eq!((l.locator_type, l.get("relative_path")), (LOCATOR_TYPE_VHDX, Some(".\\b.vhdx")));
        let g = Guid([0x11; 16]);
        assert_eq!(Guid::parse(&guid_text(g)), Some(g));
        let n = next_file_write_guid(g, 10);
        assert!(n != g && n != next_file_write_guid(g, 11));
    }
}
