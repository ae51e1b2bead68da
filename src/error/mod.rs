//! Errors that stop a disk from being read at all. Problems that still let the disk be read are
//! [`Finding`](crate::Finding)s instead.
//!
//! One variant per condition, each with its stable code ([`Error::code`]) and the offset,
//! expected and found values where they apply; its message is made from them by `Display`.
//! The conditions of one room are grouped in an enum of their own, in a file here rather than in
//! the room (so that this module, which every other uses, imports none of them): [`VhdError`]
//! for a VHD's structures, [`VhdxError`] for a VHDX's, [`WriteError`] for the writers, and
//! [`FsError`] for file systems. [`Error::InFile`] names the file an error was met in and has no
//! code of its own.

use std::fmt;

pub mod bitlocker;
pub mod fs;
pub mod registry;
pub mod vhd;
pub mod vhdx;
pub mod write;

pub use crate::values::show_bytes;
pub use bitlocker::BitLockerError;
pub use fs::{ChainBreak, FsError};
pub use registry::HiveError;
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
    /// A partition the disk does not have was asked for (`no-such-partition`).
    NoSuchPartition {
        /// The partition asked for.
        index: u32,
        /// The partitions the disk has.
        partitions: Vec<u32>,
    },
    /// A partition's files were asked for, but it holds no file system this viewer reads
    /// (`not-readable`).
    NotReadable {
        /// The partition.
        index: u32,
        /// Where it starts on the virtual disk.
        offset: u64,
        /// The file system recognised there (that this viewer does not read), if any.
        recognised: Option<&'static str>,
    },
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
    FileSystem(FsError),
    /// A BitLocker volume could not be described or unlocked (its condition says why).
    BitLocker(BitLockerError),
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

impl From<BitLockerError> for Error {
    fn from(e: BitLockerError) -> Self {
        Error::BitLocker(e)
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
    /// `resize` of a differencing disk, which reads its partition table through the chain.
    Resize,
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
            Error::BitLocker(e) => e.offset(),
            Error::Vhd(e) => Some(e.offset()),
            Error::Vhdx(e) => Some(e.offset()),
            Error::Write(e) => e.offset(),
            Error::InFile { error, .. } => error.offset(),
            Error::ParentUnavailable(ParentNeed::Bytes { start, .. }) => Some(*start),
            Error::ParentUnavailable(_) => None,
            Error::NotReadable { offset, .. } => Some(*offset),
            Error::NoSuchPartition { .. } => None,
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
            Error::NoSuchPartition { .. } => "no-such-partition",
            Error::NotReadable { .. } => "not-readable",
            Error::ReadPastEnd { .. } => "read-past-end",
            Error::RangeTooLong { .. } => "range-too-long",
            Error::MapCellSize { .. } => "map-cell-size",
            Error::MapTooManyCells { .. } => "map-too-many-cells",
            Error::ExtentReadable { .. } => "extent-readable",
            Error::BitmapCache => "bitmap-cache",
            Error::Write(e) => e.code(),
            Error::FileSystem(e) => e.code(),
            Error::BitLocker(e) => e.code(),
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
                ParentNeed::Resize => f.write_str(
                    "the parent is needed (a resize reads the disk's partition table and file systems through the chain, to refuse a shrink that would cut one and to move a GPT's backup): add the parent's file (--parent)",
                ),
                ParentNeed::Relink => f.write_str(
                    "the parent is needed (its id and name are recorded in the copy): add the parent's file. A file is taken as the parent when its unique id is the one the child names; to link a different disk (a copy converted since, say), use vhd-viewer relink --force",
                ),
            },
            Error::NotDifferencing { disk_type, task } => {
                write!(f, "this is a {disk_type} disk: only a differencing disk has a parent to {task}")
            }
            Error::InFile { file, error, note } => write!(f, "{file}: {error}{note}"),
            Error::NoSuchPartition { index, partitions } => write!(
                f,
                "there is no partition {index}; the disk has {}",
                if partitions.is_empty() {
                    "none".to_string()
                } else {
                    partitions.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
                }
            ),
            Error::NotReadable { index, offset, recognised: Some(kind) } => write!(
                f,
                "partition {index} (at byte {offset:#x}) holds {kind} (recognised only), which this viewer does not read"
            ),
            Error::NotReadable { index, offset, recognised: None } => {
                write!(f, "partition {index} (at byte {offset:#x}) holds no file system this viewer reads")
            }
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
            Error::BitLocker(e) => e.fmt(f),
            Error::Usage { message } => f.write_str(message),
            Error::Cancelled { what } => write!(f, "{what} was stopped"),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::fs::ChainBreak;
    use super::vhdx::Invalidity;
    use super::write::{PathFault, Refusal};
    use super::*;
    use crate::bytes::Guid;
    use std::collections::BTreeMap;

    /// The place of each condition in the list below: a match without a wildcard, so that a new
    /// variant does not compile until it is numbered here (and then fails the test until
    /// [`every_condition`] gives a sample of it).
    fn index(e: &Error) -> usize {
        match e {
            Error::TooSmall { .. } => 0,
            Error::NoFooter { .. } => 1,
            Error::OtherFormat { .. } => 2,
            Error::OutOfFile { .. } => 3,
            Error::CannotOpen { .. } => 4,
            Error::Io { .. } => 5,
            Error::OutputClosed => 6,
            Error::Missing { .. } => 7,
            Error::NoDisk => 8,
            Error::ChainTooDeep { .. } => 9,
            Error::ChainLoop { .. } => 10,
            Error::NoSuchLayer { .. } => 11,
            Error::FilesForChain { .. } => 12,
            Error::ParentNotExpected { .. } => 13,
            Error::MixedFormats { .. } => 14,
            Error::ParentIdMismatch { .. } => 15,
            Error::ParentNotFound { .. } => 16,
            Error::NotDifferencing { .. } => 17,
            Error::ParentUnavailable(_) => 18,
            Error::ReadPastEnd { .. } => 19,
            Error::RangeTooLong { .. } => 20,
            Error::MapCellSize { .. } => 21,
            Error::MapTooManyCells { .. } => 22,
            Error::ExtentReadable { .. } => 23,
            Error::BitmapCache => 24,
            Error::Usage { .. } => 25,
            Error::Cancelled { .. } => 26,
            Error::NoSuchPartition { .. } => 27,
            Error::NotReadable { .. } => 28,
            Error::Vhd(e) => {
                100 + match e {
                    VhdError::DiskType { .. } => 0,
                    VhdError::DataOffset { .. } => 1,
                    VhdError::HeaderCookie { .. } => 2,
                    VhdError::BlockSize { .. } => 3,
                    VhdError::BlockSizeTooLarge { .. } => 4,
                    VhdError::BatTooLarge { .. } => 5,
                }
            }
            Error::Vhdx(e) => {
                200 + match e {
                    VhdxError::TooSmall { .. } => 0,
                    VhdxError::NoValidHeader { .. } => 1,
                    VhdxError::Version { .. } => 2,
                    VhdxError::NoValidRegionTable { .. } => 3,
                    VhdxError::RegionMissing { .. } => 4,
                    VhdxError::RegionUnknown { .. } => 5,
                    VhdxError::MetadataSize { .. } => 6,
                    VhdxError::MetadataSignature { .. } => 7,
                    VhdxError::MetadataUnknown { .. } => 8,
                    VhdxError::MetadataItemShort { .. } => 9,
                    VhdxError::MetadataItemMissing { .. } => 10,
                    VhdxError::BlockSize { .. } => 11,
                    VhdxError::DiskSize { .. } => 12,
                    VhdxError::SectorSize { .. } => 13,
                    VhdxError::BatTooLarge { .. } => 14,
                }
            }
            Error::Write(e) => {
                300 + match e {
                    WriteError::VhdxNotSupported { .. } => 0,
                    WriteError::CompactFixed => 1,
                    WriteError::BlockSize { .. } => 2,
                    WriteError::ChosenBlockSize { .. } => 3,
                    WriteError::BatTooLarge { .. } => 4,
                    WriteError::TooLargeForVhd { .. } => 5,
                    WriteError::SizeTooLarge { .. } => 6,
                    WriteError::HeaderUnreadable => 7,
                    WriteError::BadLocatorPath { .. } => 8,
                    WriteError::SplitDisk { .. } => 9,
                    WriteError::OutputRefused { .. } => 10,
                    WriteError::BlockPlacedTwice { .. } => 11,
                    WriteError::VhdxBlockSize { .. } => 20,
                    WriteError::SectorSize { .. } => 21,
                    WriteError::VhdxSize { .. } => 22,
                    WriteError::MetadataFull { .. } => 12,
                    WriteError::SizeBelowDisk { .. } => 13,
                    WriteError::SectorSizeChange { .. } => 14,
                    WriteError::ResizeSize { .. } => 30,
                    WriteError::ShrinkPastPartition { .. } => 31,
                    WriteError::ShrinkPastFileSystem { .. } => 32,
                    WriteError::ShrinkPastGpt { .. } => 33,
                    WriteError::GptDamaged { .. } => 34,
                }
            }
            Error::FileSystem(e) => {
                400 + match e {
                    FsError::PastVolumeEnd { .. } => 0,
                    FsError::NoSuchFile { .. } => 1,
                    FsError::NotADirectory { .. } => 2,
                    FsError::RunsGap { .. } => 3,
                    FsError::RunsShort { .. } => 4,
                    FsError::CompressionUnit { .. } => 5,
                    FsError::NoFileSystem { .. } => 6,
                    FsError::FatBootSector { .. } => 7,
                    FsError::FatLayout { .. } => 8,
                    FsError::FatChain { .. } => 9,
                    FsError::FatChainLoop { .. } => 10,
                    FsError::FatDeletedUnrecoverable { .. } => 11,
                    FsError::FatChainShort { .. } => 12,
                    FsError::NtfsDamaged { .. } => 13,
                    FsError::NtfsRecordSize { .. } => 14,
                    FsError::NtfsMft { .. } => 15,
                    FsError::NtfsRecordNumber { .. } => 16,
                    FsError::NtfsRecord { .. } => 17,
                    FsError::NoSuchStream { .. } => 18,
                    FsError::NtfsRunList { .. } => 19,
                    FsError::NtfsAttribute { .. } => 20,
                    FsError::NtfsCompressionUnit { .. } => 21,
                    FsError::ExtSuperblock { .. } => 22,
                    FsError::ExtDamaged { .. } => 23,
                    FsError::NtfsIndexEntry { .. } => 24,
                    FsError::NtfsIndexNode { .. } => 25,
                    FsError::NtfsIndexRecordSize { .. } => 26,
                    FsError::NtfsIndexLoop { .. } => 27,
                    FsError::XfsSuperblock { .. } => 28,
                    FsError::XfsDamaged { .. } => 29,
                    FsError::ExFatDamaged { .. } => 30,
                }
            }
            Error::BitLocker(e) => {
                500 + match e {
                    BitLockerError::NoMetadata { .. } => 0,
                    BitLockerError::NoProtector { .. } => 1,
                    BitLockerError::WrongKey { .. } => 2,
                    BitLockerError::RecoveryPassword { .. } => 3,
                    BitLockerError::KeyFile { .. } => 4,
                    BitLockerError::Fvek { .. } => 5,
                    BitLockerError::Method { .. } => 6,
                    BitLockerError::Stopped => 7,
                }
            }
            // Not a condition: it names the file its error was met in.
            Error::InFile { error, .. } => index(error),
        }
    }

    /// How many conditions each range of [`index`] has.
    const COUNTS: [(usize, usize); 7] = [(0, 29), (100, 6), (200, 15), (300, 15), (330, 5), (400, 31), (500, 8)];

    const WORDS: MismatchWords = MismatchWords { field: "its parent unique id field", id: "unique id", meaning: "m", hint: FORCE_HINT };

    /// One sample of every condition.
    fn every_condition() -> Vec<Error> {
        let s = String::from;
        let bad = Invalidity::Checksum { stored: 1, computed: 2 };
        let mut v = vec![
            Error::TooSmall { len: 6 },
            Error::NoFooter { offset: 0x5a8, found: *b"d to .vh" },
            Error::OtherFormat { offset: 0, what: "a QCOW2 image" },
            Error::OutOfFile { what: "dynamic header", offset: 0x1000, len: 1024, file_len: 512 },
            Error::CannotOpen { file: s("a.vhd"), message: s("No such file or directory") },
            Error::Io { offset: 0x200, message: s("NotReadableError") },
            Error::OutputClosed,
            Error::Missing { offset: 0x400, len: 3 },
            Error::NoDisk,
            Error::ChainTooDeep { max: 64 },
            Error::ChainLoop { how: s("a.vhd is its own ancestor") },
            Error::NoSuchLayer { layer: 3, layers: 2 },
            Error::FilesForChain { files: 1, layers: 2 },
            Error::ParentNotExpected { child: s("layer 1"), disk_type: "fixed", given: s("b.vhd") },
            Error::MixedFormats { layer: 0, child: "VHD", parent: "VHDX" },
            Error::ParentIdMismatch { layer: s("layer 0"), offset: 0x21c, expected: s("1"), actual: s("2"), words: &WORDS },
            Error::ParentNotFound { child: s("c.vhd"), name: s("p.vhd"), id_name: "unique id", id: s("1"), tried: vec![] },
            Error::NotDifferencing { disk_type: "fixed", task: "relink" },
            Error::ReadPastEnd { offset: 0x2000, len: Some(512), size: 0x2000 },
            Error::RangeTooLong { offset: 0x3000, len: 1 << 30, max: 256 << 20 },
            Error::MapCellSize { cell_size: 100, max: 1 << 20 },
            Error::MapTooManyCells { cells: 1 << 30, max: 1 << 22 },
            Error::ExtentReadable { offset: 0x4000 },
            Error::BitmapCache,
            Error::Usage { message: s("there is no partition 9") },
            Error::Cancelled { what: "the diff" },
            Error::NoSuchPartition { index: 9, partitions: vec![1, 2] },
            Error::NotReadable { index: 2, offset: 0x100000, recognised: Some("exFAT") },
            VhdError::DiskType { offset: 0x20c3c, value: 7 }.into(),
            VhdError::DataOffset { offset: 0x20c10, disk_type: "dynamic", data_offset: u64::MAX }.into(),
            VhdError::HeaderCookie { offset: 0x200, found: *b"cxsparsE" }.into(),
            VhdError::BlockSize { offset: 0x220, block_size: 1000 }.into(),
            VhdError::BlockSizeTooLarge { offset: 0x220, block_size: 1 << 31, max: 256 << 20 }.into(),
            VhdError::BatTooLarge { offset: 0x21c, entries: 1 << 23, max: 1 << 22 }.into(),
            VhdxError::TooSmall { len: 0x10000, need: 0x50000 }.into(),
            VhdxError::NoValidHeader { offset: 0x10000, second: 0x20000, first_why: bad, second_why: bad }.into(),
            VhdxError::Version { offset: 0x10048, version: 2 }.into(),
            VhdxError::NoValidRegionTable {
                offset: 0x30000,
                second: 0x40000,
                first_why: Invalidity::Signature { expected: *b"regi", actual: *b"REGI" },
                second_why: Invalidity::EntryCount { count: 4000 },
            }
            .into(),
            VhdxError::RegionMissing { offset: 0x30000, name: "BAT region", guid: Guid([1; 16]) }.into(),
            VhdxError::RegionUnknown { offset: 0x30010, guid: Guid([2; 16]) }.into(),
            VhdxError::MetadataSize { offset: 0x200000, len: 0, max: 32 << 20 }.into(),
            VhdxError::MetadataSignature { offset: 0x200000, found: [0; 8] }.into(),
            VhdxError::MetadataUnknown { offset: 0x200020, item: Guid([3; 16]) }.into(),
            VhdxError::MetadataItemShort { offset: 0x210000, item: "file parameters", len: 4, min: 8 }.into(),
            VhdxError::MetadataItemMissing { offset: 0x200000, item: "virtual disk size" }.into(),
            VhdxError::BlockSize { offset: 0x210000, block_size: 3 << 20 }.into(),
            VhdxError::DiskSize { offset: 0x210008, size: 0 }.into(),
            VhdxError::SectorSize { offset: 0x210010, size: 1024 }.into(),
            VhdxError::BatTooLarge { offset: 0x300000, entries: 1 << 24, max: 1 << 23 }.into(),
            WriteError::VhdxNotSupported { writer: "compact" }.into(),
            WriteError::CompactFixed.into(),
            WriteError::BlockSize { block_size: 1000 }.into(),
            WriteError::ChosenBlockSize { block_size: 3000 }.into(),
            WriteError::BatTooLarge { size: 1 << 40, block_size: 512, entries: 1 << 31, max: 1 << 22, chosen: true }.into(),
            WriteError::TooLargeForVhd { offset: 0x20c30, size: 3 << 40 }.into(),
            WriteError::SizeTooLarge { offset: 0x20c30, size: 3 << 40 }.into(),
            WriteError::HeaderUnreadable.into(),
            WriteError::BadLocatorPath { path: s("C:\\x.vhd"), fault: PathFault::NotRelative }.into(),
            WriteError::SplitDisk { offset: 0x7ffffe00, next: s("split.v01") }.into(),
            WriteError::OutputRefused { dest: s("out.vhd"), why: Refusal::Exists }.into(),
            WriteError::BlockPlacedTwice { block: 4 }.into(),
            WriteError::MetadataFull { offset: 0x200000, need: 0x100100, len: 0x100000 }.into(),
            WriteError::SizeBelowDisk { offset: 0x20c28, size: 20 << 20, disk_size: 100 << 20 }.into(),
            WriteError::SectorSizeChange { table: "GPT", offset: 0x1000, from: 4096, to: 512, first: Some(1 << 20) }.into(),
            WriteError::ResizeSize { size: 1000, sector_size: 512, max: 2040 << 30, format: "VHD" }.into(),
            WriteError::ShrinkPastPartition { partition: 2, extended: true, end: 0x300000, size: 2 << 20, min: 3 << 20 }.into(),
            WriteError::ShrinkPastFileSystem { partition: None, filesystem: "ext4", end: 0x300000, size: 2 << 20, min: 3 << 20 }.into(),
            WriteError::ShrinkPastGpt { end: 0x300000, backup: 16896, size: 3 << 20, min: 0x304200 }.into(),
            WriteError::GptDamaged { at: 0x200, why: s("its CRC-32 is wrong") }.into(),
        ];
        v.push(Error::ParentUnavailable(ParentNeed::Bytes { layer: 0, start: 0x600, end: 0x800 }));
        let fs = [
            FsError::PastVolumeEnd { volume_start: 0x100000, volume_len: 0x2000, at: 0x1ff0, len: 32 },
            FsError::NoSuchFile { path: s("/a/b"), name: s("b"), dir: s("/a") },
            FsError::NotADirectory { path: s("/a.bin") },
            FsError::RunsGap { volume_start: 0x100000, expected: 4096 },
            FsError::RunsShort { volume_start: 0x100000, size: 10, held: 4 },
            FsError::CompressionUnit { volume_start: 0x100000, unit: 0 },
            FsError::NoFileSystem { volume_start: 0x100000 },
            FsError::FatBootSector { volume_start: 0x100000, why: "bytes per sector 0" },
            FsError::FatLayout { volume_start: 0x100000, need: 0x9000, volume_len: 0x8000 },
            FsError::FatChain { fat_at: 0x8200, start: 5, cluster: 7, broken: ChainBreak::Free },
            FsError::FatChainLoop { fat_at: 0x8200, start: 5, cluster: 5 },
            FsError::FatDeletedUnrecoverable { entry_at: 0x9020, start: 9, need: 4 },
            FsError::FatChainShort { entry_at: 0x9040, path: s("/a"), size: 9000, need: 3, start: 3, held: 1 },
            FsError::NtfsDamaged { volume_start: 0x100000, message: s("no $MFT") },
            FsError::NtfsRecordSize { volume_start: 0x100000, size: 3 },
            FsError::NtfsMft { offset: 0x104000, damage: None },
            FsError::NtfsRecordNumber { volume_start: 0x100000, record: 90, records: 64 },
            FsError::NtfsRecord { offset: 0x104400, record: 1, damage: s("bad fixup") },
            FsError::NoSuchStream { offset: 0x104800, path: s("/a"), record: 40, stream: s("x") },
            FsError::NtfsRunList { offset: 0x104c00, path: s("/a"), damage: s("past the end") },
            FsError::NtfsAttribute { offset: 0x105000, path: s("/a") },
            FsError::NtfsCompressionUnit { offset: 0x105400, path: s("/a"), log2: 9 },
            FsError::ExtSuperblock { offset: 0x100400, damage: s("magic") },
            FsError::ExtDamaged { offset: 0x101000, message: s("inode 12") },
            FsError::NtfsIndexEntry { offset: 0x105538, length: 0, room: 40 },
            FsError::NtfsIndexNode { offset: 0x105548, start: 48, end: 32 },
            FsError::NtfsIndexRecordSize { offset: 0x200000, size: 0xFFFF_FFFF },
            FsError::NtfsIndexLoop { offset: 0x105548, max: 64 },
            FsError::XfsSuperblock { offset: 0x100000, damage: s("its CRC-32C is 0x1234abcd, its contents give 0x0") },
            FsError::XfsDamaged { offset: 0x108000, message: s("B+tree block at level 3 under a level-1 node") },
            FsError::ExFatDamaged { offset: 0x100600, why: s("entry type 0x85 is not a stream extension") },
        ];
        v.extend(fs.into_iter().map(Error::from));
        let bde = [
            BitLockerError::NoMetadata { offset: 0x100000, why: s("no signature") },
            BitLockerError::NoProtector { offset: 0x2100000, kind: "a password", has: vec!["recovery password"] },
            BitLockerError::WrongKey { offset: 0x2100400, kind: "this password" },
            BitLockerError::RecoveryPassword { why: s("group 2 is not a multiple of 11") },
            BitLockerError::KeyFile { offset: 4, why: s("version 2") },
            BitLockerError::Fvek { offset: 0x2100600, why: s("16 bytes, not 64") },
            BitLockerError::Method { offset: 0x2100064, value: 0x9000 },
            BitLockerError::Stopped,
        ];
        v.extend(bde.into_iter().map(Error::from));
        v
    }

    #[test]
    fn every_code_is_given_by_exactly_one_condition_and_messages_name_the_offset() {
        let all = every_condition();
        let mut by_code: BTreeMap<&str, usize> = BTreeMap::new();
        for e in &all {
            if let Some(other) = by_code.insert(e.code(), index(e)) {
                assert_eq!(other, index(e), "{} is the code of two conditions", e.code());
                panic!("{} is listed twice", e.code());
            }
            let c = e.code();
            assert!(!c.is_empty() && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{c}");
            let text = e.to_string();
            assert!(!text.is_empty(), "{c}");
            if let Some(offset) = e.offset() {
                assert!(text.contains(&format!("{offset:#x}")), "{c}: the message does not name byte {offset:#x}: {text}");
            }
        }
        // Every condition has its sample: the indices are exactly those `index` gives out.
        let mut got: Vec<usize> = all.iter().map(index).collect();
        got.sort_unstable();
        let want: Vec<usize> = COUNTS.iter().flat_map(|&(start, n)| start..start + n).collect();
        assert_eq!(got, want);
        // The codes the page, the --json outputs and docs/hostile-inputs.md name.
        for code in ["too-small", "no-footer", "other-format", "out-of-file", "io", "block-size", "bat-too-large", "vhdx-block-size"] {
            assert!(by_code.contains_key(code), "{code}");
        }
        for code in ["parent-unavailable", "parent-not-found", "chain-loop", "no-such-file", "not-a-directory", "split-disk"] {
            assert!(by_code.contains_key(code), "{code}");
        }
    }

    #[test]
    fn a_file_names_its_error_and_keeps_its_code_and_offset() {
        let inner: Error = VhdError::BlockSize { offset: 0x220, block_size: 1000 }.into();
        let e = inner.clone().in_file("a.vhd", ". The name says it is piece 1");
        assert_eq!((e.code(), e.offset()), ("block-size", Some(0x220)));
        assert_eq!(e.condition(), &inner);
        assert_eq!(
            e.to_string(),
            "a.vhd: at byte 0x220: block size 1000 is not a positive whole number of 512-byte sectors, so no block can be located. The name says it is piece 1"
        );
        let noted = e.with_note("; it cannot be repaired");
        assert!(noted.to_string().ends_with("piece 1; it cannot be repaired"), "{noted}");
        assert_eq!(Error::NoDisk.with_note("; x"), Error::NoDisk, "only a file's error takes a note");
    }

    #[test]
    fn the_parent_is_asked_for_in_the_words_of_the_task() {
        let bytes = Error::ParentUnavailable(ParentNeed::Bytes { layer: 1, start: 0, end: 0x200 });
        assert_eq!((bytes.offset(), bytes.to_string().contains("0x0..0x200 come from the parent of layer 1")), (Some(0), true));
        let cat = Error::ParentUnavailable(ParentNeed::Cat { missing: "the parent was not found".into() });
        assert_eq!(cat.to_string(), "the parent was not found (this range needs it; `map` shows which ranges the child holds itself)");
        assert_eq!(cat.offset(), None);
    }
}
