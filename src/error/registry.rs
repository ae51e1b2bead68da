//! Why a Windows registry hive (REGF) could not be read as asked: one variant per condition,
//! each with the byte offset in the hive file it concerns. [`crate::registry`] gives them.

use std::fmt;

/// A condition met reading a registry hive file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HiveError {
    /// The file is shorter than a base block and a hive bin's header.
    TooShort {
        /// The file's length.
        len: u64,
    },
    /// The file is larger than this reader reads into memory.
    TooLarge {
        /// The file's length.
        len: u64,
        /// The bound.
        max: u64,
    },
    /// The base block does not start with `regf`.
    Signature {
        /// The four bytes found.
        found: [u8; 4],
    },
    /// The base block's major version is not 1.
    Version {
        /// The version found.
        major: u32,
    },
    /// A cell is referenced past the end of the hive bins.
    CellOutside {
        /// Where the reference is (the byte of the hive file holding the cell's offset).
        from: u64,
        /// Where the cell would be in the hive file.
        at: u64,
        /// Where the hive bins end.
        end: u64,
    },
    /// A cell's size is too small to hold its own size field (zero, or below 4 bytes).
    CellSize {
        /// The cell's byte in the hive file.
        at: u64,
        /// The size field as stored.
        size: i32,
    },
    /// A cell's size reaches past the end of the hive bins.
    CellPastEnd {
        /// The cell's byte in the hive file.
        at: u64,
        /// Its size in bytes.
        size: u64,
        /// Where the hive bins end.
        end: u64,
    },
    /// A cell does not hold the record expected there (`nk`, `vk`, a subkey list, `db`).
    Record {
        /// The cell's byte in the hive file.
        at: u64,
        /// What was expected.
        expected: &'static str,
        /// The two signature bytes found.
        found: [u8; 2],
    },
    /// A record is shorter than its fields (a name or list) say.
    RecordShort {
        /// The cell's byte in the hive file.
        at: u64,
        /// What it is.
        what: &'static str,
        /// The bytes the fields need.
        need: u64,
        /// The bytes the cell holds.
        len: u64,
    },
    /// An index root (`ri`) lists another index root: the format has one level.
    ListNested {
        /// The inner list's byte in the hive file.
        at: u64,
    },
    /// A key or a list is met again in one key's subkeys (a loop, or a list listed twice).
    Loop {
        /// The list that names it again.
        list: u64,
        /// The key's (or list's) byte in the hive file.
        at: u64,
    },
    /// A value claims more data than the hive holds.
    DataLength {
        /// The value's (`vk`) byte in the hive file.
        at: u64,
        /// The length claimed.
        len: u64,
        /// The most it could be.
        max: u64,
    },
}

impl HiveError {
    /// The byte offset in the hive file the condition concerns.
    pub fn offset(&self) -> u64 {
        match *self {
            HiveError::TooShort { .. } | HiveError::TooLarge { .. } | HiveError::Signature { .. } => 0,
            HiveError::Version { .. } => 0x14,
            HiveError::CellOutside { from, .. } => from,
            HiveError::CellSize { at, .. }
            | HiveError::CellPastEnd { at, .. }
            | HiveError::Record { at, .. }
            | HiveError::RecordShort { at, .. }
            | HiveError::ListNested { at }
            | HiveError::DataLength { at, .. } => at,
            HiveError::Loop { list, .. } => list,
        }
    }

    /// Its stable code.
    pub fn code(&self) -> &'static str {
        match self {
            HiveError::TooShort { .. } => "hive-too-short",
            HiveError::TooLarge { .. } => "hive-too-large",
            HiveError::Signature { .. } => "hive-signature",
            HiveError::Version { .. } => "hive-version",
            HiveError::CellOutside { .. } => "hive-cell-outside",
            HiveError::CellSize { .. } => "hive-cell-size",
            HiveError::CellPastEnd { .. } => "hive-cell-past-end",
            HiveError::Record { .. } => "hive-record",
            HiveError::RecordShort { .. } => "hive-record-short",
            HiveError::ListNested { .. } => "hive-list-nested",
            HiveError::Loop { .. } => "hive-loop",
            HiveError::DataLength { .. } => "hive-data-length",
        }
    }
}

impl fmt::Display for HiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {:#x}: ", self.offset())?;
        match self {
            HiveError::TooShort { len } => write!(f, "a hive is a 4096-byte base block and hive bins; the file has {len} bytes"),
            HiveError::TooLarge { len, max } => write!(f, "the hive is {len} bytes, more than the {max} this reader reads"),
            HiveError::Signature { found } => write!(f, "not a registry hive: expected \"regf\", found {found:02x?}"),
            HiveError::Version { major } => write!(f, "registry format version {major}, expected 1"),
            HiveError::CellOutside { at, end, .. } => write!(f, "a cell referenced at byte {at:#x}, past the hive bins' end at {end:#x}"),
            HiveError::CellSize { size, .. } => write!(f, "a cell of size {size}, too small to be one"),
            HiveError::CellPastEnd { size, end, .. } => write!(f, "a cell of {size} bytes reaches past the hive bins' end at {end:#x}"),
            HiveError::Record { expected, found, .. } => {
                write!(f, "expected {expected}, found {:?}", String::from_utf8_lossy(found))
            }
            HiveError::RecordShort { what, need, len, .. } => write!(f, "{what} needs {need} bytes, its cell holds {len}"),
            HiveError::ListNested { .. } => write!(f, "an index root lists another index root"),
            HiveError::Loop { at, .. } => write!(f, "the subkey list names the key or list at {at:#x} again (a loop)"),
            HiveError::DataLength { len, max, .. } => write!(f, "a value claims {len} bytes of data, more than the {max} the hive holds"),
        }
    }
}

impl std::error::Error for HiveError {}
