//! Errors that stop a disk from being read at all. Problems that still let the disk be read are
//! [`Finding`](crate::Finding)s instead.

use std::fmt;

mod fs;
pub use fs::{ChainBreak, FsError};

/// Why a VHD or VHDX could not be opened or read. Every variant that concerns a place in a file
/// names the byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The file is shorter than the smallest possible VHD (a 511-byte footer).
    TooSmall {
        /// Length of the file in bytes.
        len: u64,
    },
    /// Neither the end of the file nor offset 0 holds a footer with the `conectix` cookie.
    NoFooter {
        /// Where the end footer was expected.
        offset: u64,
        /// The eight bytes found there.
        found: [u8; 8],
    },
    /// The file is of another format that this viewer recognises but does not read.
    OtherFormat {
        /// Where the signature was found.
        offset: u64,
        /// What the file is, in plain words.
        what: &'static str,
    },
    /// A structure holds a value that makes reading impossible.
    Invalid {
        /// Which condition, as a stable code (see [`Error::code`]).
        code: &'static str,
        /// File offset of the field.
        offset: u64,
        /// What is wrong, in plain words.
        message: String,
    },
    /// A structure needed to read the disk lies (partly) outside the file.
    OutOfFile {
        /// The structure, e.g. "dynamic header".
        what: &'static str,
        /// Where it starts.
        offset: u64,
        /// How long it is.
        len: u64,
        /// Length of the file.
        file_len: u64,
    },
    /// The differencing chain is wrong: a parent is missing, does not match, loops or is too deep.
    Chain {
        /// Which condition, as a stable code (see [`Error::code`]).
        code: &'static str,
        /// What is wrong, in plain words.
        message: String,
    },
    /// A driver failed to read bytes from a file.
    Io {
        /// Where the read started.
        offset: u64,
        /// The operating system's or browser's message.
        message: String,
    },
    /// A driver handed the core fewer bytes than it asked for (a bug in the driver, or a file
    /// that shrank while it was being read).
    Missing {
        /// Where the missing range starts.
        offset: u64,
        /// How long it is.
        len: u64,
    },

    // The chain of layers, and the core asked for what it does not have: one variant per
    // condition, each with its fixed code.
    /// No file was given for a disk (`no-disk`).
    NoDisk,
    /// The chain is deeper than any real one (`chain-too-deep`).
    ChainTooDeep {
        /// The deepest chain read.
        max: usize,
    },
    /// Following the parents comes back to a disk above (`chain-loop`).
    ChainLoop {
        /// Where it loops, in words (the layer with the id of a layer above it, or the file that
        /// is its own ancestor).
        how: String,
    },
    /// A layer the chain does not have was asked for (`no-such-layer`).
    NoSuchLayer {
        /// The layer asked for.
        layer: usize,
        /// The layers the chain has.
        layers: usize,
    },
    /// A reader was given a number of files other than the chain's layers (`files-for-chain`).
    FilesForChain {
        /// Files given.
        files: usize,
        /// Layers of the chain.
        layers: usize,
    },
    /// A layer that is not a differencing disk was given a parent (`parent-not-expected`).
    ParentNotExpected {
        /// The layer (`layer 2`, or its file's name).
        child: String,
        /// Its disk type's name.
        disk_type: &'static str,
        /// What was given as its parent.
        given: String,
    },
    /// A layer and the file given as its parent are of different formats (`mixed-formats`).
    MixedFormats {
        /// The child layer.
        layer: usize,
        /// The child's format (`VHD` or `VHDX`).
        child: &'static str,
        /// The parent's format.
        parent: &'static str,
    },
    /// The file given as a layer's parent is not the disk the layer names (`parent-id-mismatch`).
    ParentIdMismatch {
        /// The child (`layer 0`, or its file's name).
        layer: String,
        /// Where the child names its parent.
        offset: u64,
        /// The id the child names.
        expected: String,
        /// The id the file given has.
        actual: String,
        /// How the format and the task say it.
        words: &'static MismatchWords,
    },

    // File systems and usage: one variant per condition.
    /// A volume's files could not be read as asked (its condition says why).
    FileSystem(FsError),
    /// The caller asked for something that cannot be done (a partition that is not there, a
    /// directory given where a file is wanted, ...): code `usage`.
    Usage {
        /// What is wrong, in plain words.
        message: String,
    },
    /// A long task (a diff) was stopped by its caller's progress callback: code `cancelled`.
    Cancelled {
        /// What was stopped.
        what: &'static str,
    },
}

impl From<FsError> for Error {
    fn from(e: FsError) -> Self {
        Error::FileSystem(e)
    }
}

impl Error {
    /// The file offset this error concerns, where there is one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            Error::TooSmall { .. }
            | Error::Chain { .. }
            | Error::NoDisk
            | Error::ChainTooDeep { .. }
            | Error::ChainLoop { .. }
            | Error::NoSuchLayer { .. }
            | Error::FilesForChain { .. }
            | Error::ParentNotExpected { .. }
            | Error::MixedFormats { .. }
            | Error::Usage { .. }
            | Error::Cancelled { .. } => None,
            Error::FileSystem(e) => e.offset(),
            Error::ParentIdMismatch { offset, .. } => Some(*offset),
            Error::NoFooter { offset, .. }
            | Error::OtherFormat { offset, .. }
            | Error::Invalid { offset, .. }
            | Error::OutOfFile { offset, .. }
            | Error::Io { offset, .. }
            | Error::Missing { offset, .. } => Some(*offset),
        }
    }

    /// A stable code for the condition, for scripts and for the page (which receives
    /// `{code, offset, message}`): one code per condition, kebab-case like the findings' codes.
    /// The variants that describe one condition have a fixed code; `Invalid` and `Chain` carry
    /// the code of the check that failed.
    pub fn code(&self) -> &'static str {
        match self {
            Error::TooSmall { .. } => "too-small",
            Error::NoFooter { .. } => "no-footer",
            Error::OtherFormat { .. } => "other-format",
            Error::Invalid { code, .. } | Error::Chain { code, .. } => code,
            Error::OutOfFile { .. } => "out-of-file",
            Error::Io { .. } => "io",
            Error::Missing { .. } => "bytes-not-supplied",
            Error::NoDisk => "no-disk",
            Error::ChainTooDeep { .. } => "chain-too-deep",
            Error::ChainLoop { .. } => "chain-loop",
            Error::NoSuchLayer { .. } => "no-such-layer",
            Error::FilesForChain { .. } => "files-for-chain",
            Error::ParentNotExpected { .. } => "parent-not-expected",
            Error::MixedFormats { .. } => "mixed-formats",
            Error::ParentIdMismatch { .. } => "parent-id-mismatch",
            Error::FileSystem(e) => e.code(),
            Error::Usage { .. } => "usage",
            Error::Cancelled { .. } => "cancelled",
        }
    }

    /// A [`Error::ParentIdMismatch`]'s words without its hint (for the finding made when the
    /// mismatch was forced); `None` for the other variants.
    pub fn mismatch(&self) -> Option<String> {
        let Error::ParentIdMismatch { layer, offset, expected, actual, words } = self else { return None };
        let MismatchWords { field, id, meaning, .. } = words;
        Some(format!(
            "{layer} names its parent by {id} {expected} ({field} at byte {offset:#x}), but the file given as its parent has {id} {actual}: {meaning}"
        ))
    }

    /// A structure's value that makes reading impossible, with the code of the check.
    pub fn invalid(code: &'static str, offset: u64, message: impl Into<String>) -> Self {
        Error::Invalid { code, offset, message: message.into() }
    }

    /// A chain that cannot be read, with the code of the check.
    pub fn chain(code: &'static str, message: impl Into<String>) -> Self {
        Error::Chain { code, message: message.into() }
    }
}

/// The words of an [`Error::ParentIdMismatch`] that depend on the format and the task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MismatchWords {
    /// The field that names the parent, as the format calls it (`its parent unique id field`,
    /// `parent_linkage in its parent locator`).
    pub field: &'static str,
    /// What the format calls the id (`unique id`, `DataWriteGuid`).
    pub id: &'static str,
    /// What the mismatch means for this format.
    pub meaning: &'static str,
    /// How to go on anyway.
    pub hint: &'static str,
}

/// How to read a chain whose parent does not match anyway ([`Error::ParentIdMismatch`]'s hint).
pub const FORCE_HINT: &str = "use --force to read it anyway, at the risk of garbage";

/// Bytes shown the way a person can read them: ASCII where printable, escapes elsewhere.
pub fn show_bytes(bytes: &[u8]) -> String {
    bytes.iter().flat_map(|b| std::ascii::escape_default(*b)).map(char::from).collect()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TooSmall { len } => write!(
                f,
                "the file is {len} bytes long: too short for a VHD, which ends with a 512-byte footer"
            ),
            Error::NoFooter { offset, found } => write!(
                f,
                "not a VHD: at byte {offset:#x} expected the footer cookie \"conectix\", found \"{}\", and there is no footer copy at byte 0 either",
                show_bytes(found)
            ),
            Error::OtherFormat { offset, what } => {
                write!(f, "at byte {offset:#x}: this is {what}, which this viewer does not read")
            }
            Error::Invalid { offset, message, .. } => write!(f, "at byte {offset:#x}: {message}"),
            Error::OutOfFile { what, offset, len, file_len } => write!(
                f,
                "the {what} at byte {offset:#x} ({len} bytes) reaches past the end of the file ({file_len} bytes)"
            ),
            Error::Chain { message, .. } => f.write_str(message),
            Error::Io { offset, message } => write!(f, "reading at byte {offset:#x} failed: {message}"),
            Error::Missing { offset, len } => write!(
                f,
                "{len} bytes at byte {offset:#x} were needed but not supplied (did the file change while it was read?)"
            ),
            Error::NoDisk => f.write_str("no disk was given"),
            Error::ChainTooDeep { max } => {
                write!(f, "the chain is more than {max} disks deep; real chains are a few disks deep, so this one is damaged or loops")
            }
            Error::ChainLoop { how } => write!(f, "the chain loops: {how}"),
            Error::NoSuchLayer { layer, layers } => write!(
                f,
                "there is no layer {layer}: the chain has layers 0 to {} (0 is the file opened, 1 its parent, and so on)",
                layers.saturating_sub(1)
            ),
            Error::FilesForChain { files, layers } => write!(f, "{files} files for a chain of {layers} disks"),
            Error::ParentNotExpected { child, disk_type, given } => {
                write!(f, "{child} is a {disk_type} disk, which has no parent, but {given} was given as its parent")
            }
            Error::MixedFormats { layer, child, parent } => write!(
                f,
                "layer {layer} is a {child} file and the file given as its parent a {parent} file: a chain is all VHD or all VHDX"
            ),
            Error::ParentIdMismatch { words, .. } => write!(f, "{} ({})", self.mismatch().unwrap_or_default(), words.hint),
            Error::FileSystem(e) => e.fmt(f),
            Error::Usage { message } => f.write_str(message),
            Error::Cancelled { what } => write!(f, "{what} was stopped"),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
