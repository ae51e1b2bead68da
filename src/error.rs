//! Errors that stop a disk from being read at all. Problems that still let the disk be read are
//! [`Finding`](crate::Finding)s instead.

use std::fmt;

/// Why a VHD could not be opened or read. Every variant that concerns a place in a file names
/// the byte offset.
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

impl From<crate::fs::error::FsError> for Error {
    fn from(e: crate::fs::error::FsError) -> Self {
        Error::FileSystem(e)
    }
}

impl Error {
    /// The file offset this error concerns, where there is one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            Error::TooSmall { .. } | Error::Chain { .. } | Error::Usage { .. } | Error::Cancelled { .. } => None,
            Error::FileSystem(e) => e.offset(),
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
            Error::FileSystem(e) => e.code(),
            Error::Usage { .. } => "usage",
            Error::Cancelled { .. } => "cancelled",
        }
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
            Error::FileSystem(e) => e.fmt(f),
            Error::Usage { message } => f.write_str(message),
            Error::Cancelled { what } => write!(f, "{what} was stopped"),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
