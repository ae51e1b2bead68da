//! Errors that stop a disk from being read at all. Problems that still let the disk be read are
//! [`Finding`](crate::Finding)s instead.

use std::fmt;

pub mod fs;
pub mod vhd;
pub mod vhdx;
pub mod write;

pub use fs::FsError;
pub use vhd::VhdError;
pub use vhdx::VhdxError;
pub use write::WriteError;

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
    /// A VHD's footer, dynamic header or BAT holds a value that makes reading impossible.
    Vhd(VhdError),
    /// A VHDX's headers, region table or metadata hold a value that makes reading impossible.
    Vhdx(VhdxError),
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
    /// A file could not be opened (`cannot-open`).
    CannotOpen {
        /// The file's name as given.
        file: String,
        /// The operating system's message.
        message: String,
    },
    /// A driver failed to read bytes from a file.
    Io {
        /// Where the read started.
        offset: u64,
        /// The operating system's or browser's message.
        message: String,
    },
    /// The reader of the command line's output went away (`| head`): code `output-closed`, never
    /// shown (the command stops quietly, as `cat` does).
    OutputClosed,
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

    /// A differencing disk's parent was not found beside it or where its locators point
    /// (`parent-not-found`).
    ParentNotFound {
        /// The child, as opened.
        child: String,
        /// The parent's name as the child records it.
        name: String,
        /// What the format calls the id the child names its parent by.
        id_name: &'static str,
        /// That id.
        id: String,
        /// The paths looked at.
        tried: Vec<String>,
    },
    /// A task that works on a parent was given a disk that has none (`not-differencing`).
    NotDifferencing {
        /// The disk type's name.
        disk_type: &'static str,
        /// The task (`relink`, `compare with`).
        task: &'static str,
    },
    /// A part of the disk or a task needs a parent that was not given (`parent-unavailable`).
    ParentUnavailable(ParentNeed),
    /// A file given as a layer could not be read; `error` says why (its code is the condition's
    /// own: this variant only names the file).
    InFile {
        /// The file's name as given.
        file: String,
        /// Why it could not be read.
        error: Box<Error>,
        /// What follows (e.g. that the name is a piece of a split disk), or nothing.
        note: String,
    },

    // The core asked for what it does not have.
    /// A read reaches past the end of the virtual disk (`read-past-end`).
    ReadPastEnd {
        /// Where the read starts on the virtual disk.
        offset: u64,
        /// Its length, when one was asked.
        len: Option<u64>,
        /// The disk's size.
        size: u64,
    },
    /// A sector map was asked for a range longer than it covers (`range-too-long`).
    RangeTooLong {
        /// Where the range starts on the virtual disk.
        offset: u64,
        /// Its length.
        len: u64,
        /// The longest a map covers.
        max: u64,
    },
    /// A provenance map was asked with a cell size it cannot have (`map-cell-size`).
    MapCellSize {
        /// The cell size asked.
        cell_size: u64,
        /// The largest: the chain's smallest block size.
        max: u64,
    },
    /// A provenance map would have more cells than are drawn (`map-too-many-cells`).
    MapTooManyCells {
        /// The cells it would have.
        cells: u64,
        /// The most drawn.
        max: u64,
    },
    /// A part of the disk that can be read was reported as unreadable: a bug
    /// (`extent-readable`).
    ExtentReadable {
        /// Where it starts on the virtual disk.
        offset: u64,
    },
    /// The bitmaps a read needs did not fit in the cache: a bug (`bitmap-cache`).
    BitmapCache,
    /// A writer will not write its copy (its condition says why).
    Write(WriteError),

    // File systems and usage: one variant per condition.
    /// A volume's files could not be read as asked (its condition says why).
    FileSystem(crate::fs::error::FsError),
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

impl From<VhdError> for Error {
    fn from(e: VhdError) -> Self {
        Error::Vhd(e)
    }
}

impl From<VhdxError> for Error {
    fn from(e: VhdxError) -> Self {
        Error::Vhdx(e)
    }
}

impl From<WriteError> for Error {
    fn from(e: WriteError) -> Self {
        Error::Write(e)
    }
}

/// What needs the parent that was not given ([`Error::ParentUnavailable`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParentNeed {
    /// Bytes of the virtual disk that the parent of `layer` supplies.
    Bytes {
        /// The child layer.
        layer: usize,
        /// Where the bytes start on the virtual disk.
        start: u64,
        /// Where they end.
        end: u64,
    },
    /// A range written out by `cat`; `missing` is the `parent-not-found` finding's words.
    Cat {
        /// Why the parent is missing.
        missing: String,
    },
    /// A comparison with the parent; `missing` is the `parent-not-found` finding's words.
    Diff {
        /// Why the parent is missing.
        missing: String,
    },
    /// `compact` of a differencing disk, which compares its sectors with its parent's.
    Compact {
        /// Why the parent is missing, when a finding says it.
        missing: Option<String>,
    },
    /// `relink`, which records the parent's id and name in the copy.
    Relink,
}

impl Error {
    /// The file offset this error concerns, where there is one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            Error::TooSmall { .. }
            | Error::OutputClosed
            | Error::CannotOpen { .. }
            | Error::NotDifferencing { .. }
            | Error::ParentNotFound { .. }
            | Error::MapCellSize { .. }
            | Error::MapTooManyCells { .. }
            | Error::BitmapCache
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
            Error::Vhd(e) => Some(e.offset()),
            Error::Vhdx(e) => Some(e.offset()),
            Error::Write(e) => e.offset(),
            Error::InFile { error, .. } => error.offset(),
            Error::ParentUnavailable(ParentNeed::Bytes { start, .. }) => Some(*start),
            Error::ParentUnavailable(_) => None,
            Error::ReadPastEnd { offset, .. } | Error::RangeTooLong { offset, .. } | Error::ExtentReadable { offset } => Some(*offset),
            Error::ParentIdMismatch { offset, .. } => Some(*offset),
            Error::NoFooter { offset, .. }
            | Error::OtherFormat { offset, .. }
            | Error::OutOfFile { offset, .. }
            | Error::Io { offset, .. }
            | Error::Missing { offset, .. } => Some(*offset),
        }
    }

    /// A stable code for the condition, for scripts and for the page (which receives
    /// `{code, offset, message}`): one code per condition, kebab-case like the findings' codes.
    /// Each variant (or the condition it wraps) has its own; [`Error::InFile`] gives its error's.
    pub fn code(&self) -> &'static str {
        match self {
            Error::TooSmall { .. } => "too-small",
            Error::NoFooter { .. } => "no-footer",
            Error::OtherFormat { .. } => "other-format",
            Error::Vhd(e) => e.code(),
            Error::Vhdx(e) => e.code(),
            Error::OutOfFile { .. } => "out-of-file",
            Error::Io { .. } => "io",
            Error::CannotOpen { .. } => "cannot-open",
            Error::OutputClosed => "output-closed",
            Error::Missing { .. } => "bytes-not-supplied",
            Error::NoDisk => "no-disk",
            Error::ChainTooDeep { .. } => "chain-too-deep",
            Error::ChainLoop { .. } => "chain-loop",
            Error::NoSuchLayer { .. } => "no-such-layer",
            Error::FilesForChain { .. } => "files-for-chain",
            Error::ParentNotExpected { .. } => "parent-not-expected",
            Error::MixedFormats { .. } => "mixed-formats",
            Error::ParentIdMismatch { .. } => "parent-id-mismatch",
            Error::ParentNotFound { .. } => "parent-not-found",
            Error::ParentUnavailable(_) => "parent-unavailable",
            Error::NotDifferencing { .. } => "not-differencing",
            Error::InFile { error, .. } => error.code(),
            Error::ReadPastEnd { .. } => "read-past-end",
            Error::RangeTooLong { .. } => "range-too-long",
            Error::MapCellSize { .. } => "map-cell-size",
            Error::MapTooManyCells { .. } => "map-too-many-cells",
            Error::ExtentReadable { .. } => "extent-readable",
            Error::BitmapCache => "bitmap-cache",
            Error::Write(e) => e.code(),
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

    /// This error as the reading of file `file` met it, with `note` after its words.
    pub fn in_file(self, file: impl Into<String>, note: impl Into<String>) -> Self {
        Error::InFile { file: file.into(), error: Box::new(self), note: note.into() }
    }

    /// An [`Error::InFile`] with `note` added after its words (what a task says of a file it
    /// could not read); other errors as they are.
    pub fn with_note(self, note: &str) -> Self {
        match self {
            Error::InFile { file, error, note: before } => Error::InFile { file, error, note: before + note },
            e => e,
        }
    }

    /// The condition itself: the error an [`Error::InFile`] carries, else this one.
    pub fn condition(&self) -> &Error {
        match self {
            Error::InFile { error, .. } => error.condition(),
            e => e,
        }
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
            Error::Vhd(e) => e.fmt(f),
            Error::Vhdx(e) => e.fmt(f),
            Error::OutOfFile { what, offset, len, file_len } => write!(
                f,
                "the {what} at byte {offset:#x} ({len} bytes) reaches past the end of the file ({file_len} bytes)"
            ),
            Error::Io { offset, message } => write!(f, "reading at byte {offset:#x} failed: {message}"),
            Error::OutputClosed => f.write_str("the output was closed"),
            Error::CannotOpen { file, message } => write!(f, "cannot open {file}: {message}"),
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
            Error::ParentNotFound { child, name, id_name, id, tried } => write!(
                f,
                "the parent of {child} (\"{name}\", {id_name} {id}) was not found; looked for: {}. Give it with --parent",
                if tried.is_empty() { "nothing (no locator or name)".to_string() } else { tried.join(", ") }
            ),
            Error::ParentUnavailable(need) => match need {
                ParentNeed::Bytes { layer, start, end } => write!(
                    f,
                    "at byte {start:#x}: virtual bytes {start:#x}..{end:#x} come from the parent of layer {layer}, which is not available"
                ),
                ParentNeed::Cat { missing } => {
                    write!(f, "{missing} (this range needs it; `map` shows which ranges the child holds itself)")
                }
                ParentNeed::Diff { missing } => f.write_str(missing),
                ParentNeed::Compact { missing: Some(missing) } => {
                    write!(f, "compacting a differencing disk compares its sectors with its parent's: {missing}")
                }
                ParentNeed::Compact { missing: None } => f.write_str(
                    "the parent is needed (compacting a differencing disk compares its sectors with its parent's): add the parent's file",
                ),
                ParentNeed::Relink => f.write_str(
                    "the parent is needed (its id and name are recorded in the copy): add the parent's file. A file is taken as the parent when its unique id is the one the child names; to link a different disk (a copy converted since, say), use vhd-viewer relink --force",
                ),
            },
            Error::NotDifferencing { disk_type, task } => {
                write!(f, "this is a {disk_type} disk: only a differencing disk has a parent to {task}")
            }
            Error::InFile { file, error, note } => write!(f, "{file}: {error}{note}"),
            Error::ReadPastEnd { offset, len: Some(len), size } => write!(
                f,
                "at byte {offset:#x}: reading {len} bytes at virtual offset {offset:#x} goes past the end of the {size}-byte disk"
            ),
            Error::ReadPastEnd { offset, len: None, size } => {
                write!(f, "at byte {offset:#x}: the offset is past the end of the {size}-byte disk")
            }
            Error::RangeTooLong { offset, len, max } => {
                write!(f, "at byte {offset:#x}: a range of {len} bytes is longer than the {max} bytes a sector map covers")
            }
            Error::MapCellSize { cell_size, max } => write!(
                f,
                "a map cell of {cell_size} bytes: it must be from 512 bytes to the chain's smallest block size, {max} bytes"
            ),
            Error::MapTooManyCells { cells, max } => {
                write!(f, "a map of {cells} cells is more than the {max} this viewer draws; use larger cells")
            }
            Error::ExtentReadable { offset } => write!(f, "at byte {offset:#x}: this part of the disk can be read"),
            Error::BitmapCache => {
                f.write_str("the bitmaps needed did not fit in the cache (a bug: the range planned was too large)")
            }
            Error::Write(e) => e.fmt(f),
            Error::FileSystem(e) => e.fmt(f),
            Error::Usage { message } => f.write_str(message),
            Error::Cancelled { what } => write!(f, "{what} was stopped"),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
