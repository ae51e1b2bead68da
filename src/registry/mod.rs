//! Windows registry hive files (REGF), read from their bytes: this project's own reader (the
//! `nt-hive` crate is GPL), after the format notes of libyal's libregf and Maxim Suhanov's
//! "Windows registry file format specification".
//!
//! A hive file is a 4096-byte base block (signature `regf`, two sequence numbers that differ
//! while a write is under way, the root key's cell, the hive bins' size, a checksum at 0x1FC)
//! and hive bins holding cells. A cell is a 32-bit size (negative while allocated) and a record:
//! a key (`nk`), a subkey list (`lf`, `lh`, `li`, or an index root `ri` of such lists), a value
//! (`vk`), the list of a key's values, value data, or a big-data record (`db`) whose segments
//! hold data over 16344 bytes. Offsets between cells are from the first hive bin (file byte
//! 0x1000).
//!
//! Hostile hives are normal input: every cell is checked to lie inside the hive bins, every
//! count against the cell that holds it, a key or list met twice in one key's subkeys is a
//! [`HiveError::Loop`], and nothing is allocated beyond what the hive's own bytes could hold.
//! Each condition names the byte of the hive file it was met at. A dirty hive (its sequence
//! numbers differ: its `.LOG1`/`.LOG2` hold writes not yet in it) is read as stored; the
//! transaction logs are not replayed.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::bytes::{le16, le32, le64, utf16le_nul};
pub use crate::error::HiveError;

/// The largest hive file read (into memory): 512 MiB (Windows' own limit for a hive is 2 GiB,
/// real ones are at most a few hundred MiB).
pub const MAX_HIVE: u64 = 512 << 20;

/// Where the hive bins start in the file: cell offsets count from here.
const BINS: u64 = 0x1000;
/// Offset of the base block's checksum: the XOR of the 127 32-bit words before it.
pub const CHECKSUM_AT: u64 = 0x1FC;
/// Bytes of data a big-data segment holds.
const SEGMENT: usize = 16344;
/// Bytes of an `nk` record before its name.
const NK_NAME: usize = 0x4C;
/// Bytes of a `vk` record before its name.
const VK_NAME: usize = 0x14;
/// The "no cell" offset.
const NONE: u32 = u32::MAX;

/// Value types.
pub mod kind {
    /// No type.
    pub const NONE: u32 = 0;
    /// UTF-16LE text, NUL-terminated.
    pub const SZ: u32 = 1;
    /// UTF-16LE text with `%VARIABLES%`.
    pub const EXPAND_SZ: u32 = 2;
    /// Bytes.
    pub const BINARY: u32 = 3;
    /// A little-endian `u32`.
    pub const DWORD: u32 = 4;
    /// A big-endian `u32`.
    pub const DWORD_BE: u32 = 5;
    /// A symbolic link (UTF-16LE).
    pub const LINK: u32 = 6;
    /// UTF-16LE texts, each NUL-terminated, an empty one last.
    pub const MULTI_SZ: u32 = 7;
    /// A little-endian `u64`.
    pub const QWORD: u32 = 11;
}

/// What the base block says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The primary sequence number (at 0x04).
    pub sequence1: u32,
    /// The secondary sequence number (at 0x08).
    pub sequence2: u32,
    /// When the hive was last written (FILETIME, at 0x0C).
    pub last_written: u64,
    /// The minor version (at 0x18): 3 to 6.
    pub minor: u32,
    /// The root key's cell offset (at 0x24).
    pub root: u32,
    /// The hive bins' size in bytes (at 0x28).
    pub bins_size: u32,
    /// The checksum as stored (at 0x1FC).
    pub checksum: u32,
    /// The checksum the base block's bytes give.
    pub checksum_computed: u32,
    /// The file name stored in the base block (UTF-16LE at 0x30, the last 64 bytes of the path).
    pub file_name: String,
}

impl Header {
    /// True when the sequence numbers differ: a write was not finished, the log files hold
    /// what the hive lacks.
    pub fn dirty(&self) -> bool {
        self.sequence1 != self.sequence2
    }

    /// True when the checksum is right.
    pub fn checksum_ok(&self) -> bool {
        self.checksum == self.checksum_computed
    }
}

/// A hive read from its file's bytes.
#[derive(Debug, Clone)]
pub struct Hive<'a> {
    data: &'a [u8],
    /// Where the hive bins end in `data` (the base block's size, cut to the file).
    end: u64,
    /// The base block.
    pub header: Header,
}

impl<'a> Hive<'a> {
    /// Reads the base block of the hive file `data`. Keys and values are read when asked for.
    pub fn parse(data: &'a [u8]) -> Result<Hive<'a>, HiveError> {
        let len = data.len() as u64;
        if len > MAX_HIVE {
            return Err(HiveError::TooLarge { len, max: MAX_HIVE });
        }
        if len < BINS + 0x20 {
            return Err(HiveError::TooShort { len });
        }
        if &data[..4] != b"regf" {
            return Err(HiveError::Signature { found: [data[0], data[1], data[2], data[3]] });
        }
        let major = le32(data, 0x14);
        if major != 1 {
            return Err(HiveError::Version { major });
        }
        let checksum_computed = match (0..CHECKSUM_AT as usize).step_by(4).fold(0u32, |x, at| x ^ le32(data, at)) {
            u32::MAX => u32::MAX - 1,
            0 => 1,
            x => x,
        };
        let header = Header {
            sequence1: le32(data, 0x04),
            sequence2: le32(data, 0x08),
            last_written: le64(data, 0x0C),
            minor: le32(data, 0x18),
            root: le32(data, 0x24),
            bins_size: le32(data, 0x28),
            checksum: le32(data, CHECKSUM_AT as usize),
            checksum_computed,
            file_name: utf16le_nul(&data[0x30..0x70]),
        };
        let end = (BINS + u64::from(header.bins_size)).min(len);
        Ok(Hive { data, end, header })
    }

    /// True when the file ends before the hive bins the base block counts.
    pub fn truncated(&self) -> bool {
        BINS + u64::from(self.header.bins_size) > self.data.len() as u64
    }

    /// The bytes of the cell at offset `off` (from the first hive bin), after its size field;
    /// `from` is the byte of the file that names it (for the error).
    fn cell(&self, off: u32, from: u64) -> Result<(&'a [u8], u64), HiveError> {
        let at = BINS + u64::from(off);
        if off == NONE || at + 4 > self.end {
            return Err(HiveError::CellOutside { from, at, end: self.end });
        }
        let size = le32(self.data, at as usize) as i32;
        let bytes = u64::from(size.unsigned_abs());
        if bytes < 4 {
            return Err(HiveError::CellSize { at, size });
        }
        if at + bytes > self.end {
            return Err(HiveError::CellPastEnd { at, size: bytes, end: self.end });
        }
        Ok((&self.data[(at + 4) as usize..(at + bytes) as usize], at))
    }

    /// The cell at `off` holding the record whose signature is `sig` (`nk`, `vk`, `db`).
    fn record(&self, off: u32, from: u64, sig: &'static str) -> Result<(&'a [u8], u64), HiveError> {
        let (c, at) = self.cell(off, from)?;
        let found = [c.first().copied().unwrap_or(0), c.get(1).copied().unwrap_or(0)];
        if found != *sig.as_bytes() {
            return Err(HiveError::Record { at, expected: sig, found });
        }
        Ok((c, at))
    }

    /// The root key.
    pub fn root(&self) -> Result<Key<'_, 'a>, HiveError> {
        Key::at(self, self.header.root, 0x24)
    }

    /// The key at `path` under the root (`\`-separated, case-insensitive as Windows compares
    /// names; `""` is the root), `None` when one of its names is not there.
    pub fn key(&self, path: &str) -> Result<Option<Key<'_, 'a>>, HiveError> {
        let mut key = self.root()?;
        for name in path.split('\\').filter(|n| !n.is_empty()) {
            match key.subkey(name)? {
                Some(k) => key = k,
                None => return Ok(None),
            }
        }
        Ok(Some(key))
    }
}

/// Two names equal as Windows compares key and value names (case-insensitive).
pub fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || (!a.is_ascii() && a.to_uppercase() == b.to_uppercase())
}

/// A name stored as Latin-1 bytes (`compressed`) or UTF-16LE.
fn name(b: &[u8], compressed: bool) -> String {
    if compressed {
        b.iter().map(|&c| char::from(c)).collect()
    } else {
        crate::bytes::utf16le(b)
    }
}

/// A key (`nk` record).
#[derive(Debug, Clone, Copy)]
pub struct Key<'h, 'a> {
    hive: &'h Hive<'a>,
    cell: &'a [u8],
    at: u64,
}

impl<'h, 'a> Key<'h, 'a> {
    fn at(hive: &'h Hive<'a>, off: u32, from: u64) -> Result<Self, HiveError> {
        let (cell, at) = hive.record(off, from, "nk")?;
        let need = NK_NAME as u64 + u64::from(le16(cell, 0x48));
        if (cell.len() as u64) < need {
            return Err(HiveError::RecordShort { at, what: "a key", need, len: cell.len() as u64 });
        }
        Ok(Key { hive, cell, at })
    }

    /// Where its cell is in the hive file.
    pub fn offset(&self) -> u64 {
        self.at
    }

    /// Its name.
    pub fn name(&self) -> String {
        let len = usize::from(le16(self.cell, 0x48));
        name(&self.cell[NK_NAME..NK_NAME + len], le16(self.cell, 0x02) & 0x0020 != 0)
    }

    /// When it was last written (FILETIME: 100 ns since 1601).
    pub fn last_written(&self) -> u64 {
        le64(self.cell, 0x04)
    }

    /// The number of subkeys it claims (the list is what is read).
    pub fn subkey_count(&self) -> u32 {
        le32(self.cell, 0x14)
    }

    /// Its subkeys, in the list's order (by name, as Windows keeps them).
    pub fn subkeys(&self) -> Result<Vec<Key<'h, 'a>>, HiveError> {
        let list = le32(self.cell, 0x1C);
        if self.subkey_count() == 0 || list == NONE {
            return Ok(Vec::new());
        }
        let mut offsets = Vec::new();
        let mut lists = HashSet::new();
        self.list(list, self.at + 4 + 0x1C, true, &mut offsets, &mut lists)?;
        let mut seen = HashSet::from([self.at]);
        let mut keys = Vec::with_capacity(offsets.len());
        for (off, from, list_at) in offsets {
            let key = Key::at(self.hive, off, from)?;
            if !seen.insert(key.at) {
                return Err(HiveError::Loop { list: list_at, at: key.at });
            }
            keys.push(key);
        }
        Ok(keys)
    }

    /// Adds the key offsets of the subkey list at `off` to `out` (with the byte naming each and
    /// the list's byte); `root` while an index root may still be met.
    fn list(&self, off: u32, from: u64, root: bool, out: &mut Vec<(u32, u64, u64)>, lists: &mut HashSet<u64>) -> Result<(), HiveError> {
        let (c, at) = self.hive.cell(off, from)?;
        if !lists.insert(at) {
            return Err(HiveError::Loop { list: from, at });
        }
        let count = u64::from(le16(c, 2));
        let (step, sub) = match c.get(..2) {
            Some(b"lf" | b"lh") => (8, false),
            Some(b"li") => (4, false),
            Some(b"ri") if root => (4, true),
            Some(b"ri") => return Err(HiveError::ListNested { at }),
            _ => {
                let found = [c.first().copied().unwrap_or(0), c.get(1).copied().unwrap_or(0)];
                return Err(HiveError::Record { at, expected: "a subkey list (lf, lh, li, ri)", found });
            }
        };
        let need = 4 + count * step;
        if (c.len() as u64) < need {
            return Err(HiveError::RecordShort { at, what: "a subkey list", need, len: c.len() as u64 });
        }
        for k in 0..count as usize {
            let field = 4 + k * step as usize;
            let target = le32(c, field);
            let named_at = at + 4 + field as u64;
            if sub {
                self.list(target, named_at, false, out, lists)?;
            } else {
                out.push((target, named_at, at));
            }
        }
        Ok(())
    }

    /// The subkey named `name` (case-insensitive), if there is one.
    pub fn subkey(&self, name: &str) -> Result<Option<Key<'h, 'a>>, HiveError> {
        Ok(self.subkeys()?.into_iter().find(|k| same_name(&k.name(), name)))
    }

    /// Its values, in the order stored.
    pub fn values(&self) -> Result<Vec<Value<'a>>, HiveError> {
        self.value_records()?.map(|vk| self.value_of(vk?)).collect()
    }

    /// The value named `name` (case-insensitive; `""` is the key's default value), if there is
    /// one. Only its own data is read: another value's damage does not stop it.
    pub fn value(&self, name: &str) -> Result<Option<Value<'a>>, HiveError> {
        for vk in self.value_records()? {
            let vk = vk?;
            if same_name(&vk.name, name) {
                return self.value_of(vk).map(Some);
            }
        }
        Ok(None)
    }

    /// Each value's record, from the key's value list.
    fn value_records(&self) -> Result<impl Iterator<Item = Result<Vk<'a>, HiveError>> + '_, HiveError> {
        let count = u64::from(le32(self.cell, 0x24));
        let list = le32(self.cell, 0x28);
        let (c, at) = if count == 0 || list == NONE { (&[][..], 0) } else { self.hive.cell(list, self.at + 4 + 0x28)? };
        if (c.len() as u64) < count * 4 {
            return Err(HiveError::RecordShort { at, what: "a value list", need: count * 4, len: c.len() as u64 });
        }
        Ok((0..c.len().min(count as usize * 4) / 4).map(move |k| {
            let (vk, vk_at) = self.hive.record(le32(c, k * 4), at + 4 + k as u64 * 4, "vk")?;
            let name_len = usize::from(le16(vk, 2));
            let need = (VK_NAME + name_len) as u64;
            if (vk.len() as u64) < need {
                return Err(HiveError::RecordShort { at: vk_at, what: "a value", need, len: vk.len() as u64 });
            }
            Ok(Vk { name: name(&vk[VK_NAME..VK_NAME + name_len], le16(vk, 0x10) & 1 != 0), cell: vk, at: vk_at })
        }))
    }

    /// The value of a `vk` record, with its data.
    fn value_of(&self, Vk { name, cell: c, at }: Vk<'a>) -> Result<Value<'a>, HiveError> {
        let size = le32(c, 4);
        let len = u64::from(size & 0x7FFF_FFFF);
        let data = if size & 0x8000_0000 != 0 {
            // Inline: the data is the offset field itself (at most 4 bytes).
            Cow::Borrowed(&c[8..8 + (len.min(4) as usize)])
        } else if len == 0 {
            Cow::Borrowed(&[][..])
        } else {
            self.data(le32(c, 8), at, len)?
        };
        Ok(Value { name, kind: le32(c, 0x0C), data, offset: at })
    }

    /// `len` bytes of a value's data in the cell at `off` (or in the segments of a `db` record
    /// there); `at` is the value's cell.
    fn data(&self, off: u32, at: u64, len: u64) -> Result<Cow<'a, [u8]>, HiveError> {
        let max = self.hive.end - BINS;
        if len > max {
            return Err(HiveError::DataLength { at, len, max });
        }
        let (c, cell_at) = self.hive.cell(off, at + 4 + 8)?;
        if c.get(..2) == Some(b"db") && len as usize > SEGMENT && self.hive.header.minor >= 4 {
            let count = u64::from(le16(c, 2));
            let (list, list_at) = self.hive.cell(le32(c, 4), cell_at + 4 + 4)?;
            if (list.len() as u64) < count * 4 {
                return Err(HiveError::RecordShort {
                    at: list_at,
                    what: "a big-data segment list",
                    need: count * 4,
                    len: list.len() as u64,
                });
            }
            let mut out = Vec::new();
            for k in 0..count as usize {
                if out.len() as u64 >= len {
                    break;
                }
                let (seg, _) = self.hive.cell(le32(list, k * 4), list_at + 4 + k as u64 * 4)?;
                let take = (len as usize - out.len()).min(SEGMENT).min(seg.len());
                out.extend_from_slice(&seg[..take]);
            }
            if (out.len() as u64) < len {
                return Err(HiveError::RecordShort { at: cell_at, what: "a big-data record", need: len, len: out.len() as u64 });
            }
            return Ok(Cow::Owned(out));
        }
        match c.get(..len as usize) {
            Some(d) => Ok(Cow::Borrowed(d)),
            None => Err(HiveError::RecordShort { at: cell_at, what: "a value's data", need: len, len: c.len() as u64 }),
        }
    }
}

/// A value's record (`vk`) before its data is read: its name, cell and the cell's offset.
struct Vk<'a> {
    name: String,
    cell: &'a [u8],
    at: u64,
}

/// A value (`vk` record) and its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value<'a> {
    /// Its name (`""`: the key's default value).
    pub name: String,
    /// Its type ([`kind`]); for some keys (the `SAM`'s names) a number of another meaning.
    pub kind: u32,
    /// Its data.
    pub data: Cow<'a, [u8]>,
    /// Where its cell is in the hive file.
    pub offset: u64,
}

impl Value<'_> {
    /// Its data.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// The text of a `REG_SZ`, `REG_EXPAND_SZ` or `REG_LINK` value, up to its first NUL.
    pub fn as_string(&self) -> Option<String> {
        matches!(self.kind, kind::SZ | kind::EXPAND_SZ | kind::LINK).then(|| utf16le_nul(&self.data))
    }

    /// The number of a `REG_DWORD` (or big-endian `REG_DWORD_BIG_ENDIAN`) value.
    pub fn as_u32(&self) -> Option<u32> {
        let b: [u8; 4] = self.data.get(..4)?.try_into().ok()?;
        match self.kind {
            kind::DWORD => Some(u32::from_le_bytes(b)),
            kind::DWORD_BE => Some(u32::from_be_bytes(b)),
            _ => None,
        }
    }

    /// The number of a `REG_QWORD` value, or of a `REG_DWORD` one.
    pub fn as_u64(&self) -> Option<u64> {
        match self.kind {
            kind::QWORD => Some(u64::from_le_bytes(self.data.get(..8)?.try_into().ok()?)),
            _ => self.as_u32().map(u64::from),
        }
    }

    /// The texts of a `REG_MULTI_SZ` value (up to the empty one that ends the list).
    pub fn as_multi(&self) -> Option<Vec<String>> {
        (self.kind == kind::MULTI_SZ).then(|| {
            let units: Vec<u16> = crate::bytes::utf16_units(&self.data).collect();
            units.split(|u| *u == 0).take_while(|s| !s.is_empty()).map(String::from_utf16_lossy).collect()
        })
    }
}

#[cfg(test)]
mod tests;
