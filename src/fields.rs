//! A field of an on-disk structure as a row a person can read: where it is, its raw bytes, its
//! decoded value, and one line saying what it means. Each format (and the partition tables) cuts
//! its structures into these rows; the command line's `info` and the web page show them.

use serde::Serialize;

use crate::values::hex;

/// A structure with its fields, for showing it field by field: a VHDX header, a region table, an
/// MBR entry, a GPT header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Structure {
    /// What it is, e.g. `Header 1 (current)`, `GPT header`.
    pub name: String,
    /// Where it starts: a file offset for a disk format's structures, a virtual byte offset for a
    /// partition table's.
    pub offset: u64,
    /// Its fields, at offsets in the same space.
    pub fields: Vec<Field>,
}

/// One field of a structure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// The key `info --json` uses for it (snake_case, after the spec's name).
    pub key: &'static str,
    /// The spec's name of the field.
    pub name: &'static str,
    /// Absolute file offset.
    pub offset: u64,
    /// Size in bytes.
    pub size: u64,
    /// The raw bytes in hex (at most 64 bytes shown; longer fields are elided).
    pub raw: String,
    /// The decoded value as text.
    pub value: String,
    /// What the field means, in plain words.
    pub explain: &'static str,
    /// False when the value is wrong by the spec.
    pub ok: bool,
}

/// The bytes of one structure and the file offset they were read at, from which each field's row is cut.
pub(crate) struct Raw<'a> {
    pub(crate) base: u64,
    pub(crate) bytes: &'a [u8],
}

impl Raw<'_> {
    /// The row of the `size` bytes at `at`: key and name, the decoded value, what it means, and
    /// whether the spec allows it.
    pub(crate) fn row(
        &self,
        (at, size): (usize, usize),
        key: &'static str,
        name: &'static str,
        value: String,
        explain: &'static str,
        ok: bool,
    ) -> Field {
        let bytes = self.bytes.get(at..at + size).unwrap_or(&[]);
        let shown = if bytes.len() > 64 { format!("{}…", hex(&bytes[..64])) } else { hex(bytes) };
        Field { key, name, offset: self.base + at as u64, size: size as u64, raw: shown, value, explain, ok }
    }
}
