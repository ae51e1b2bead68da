//! Why a file system could not be read as asked: one variant per condition, each with the
//! virtual-disk byte offset it concerns and what was expected and found, where that applies.
//! [`crate::Error::FileSystem`] carries one.

use std::fmt;

/// A condition met reading a volume's files.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FsError {
    /// A read of `len` bytes at byte `at` of a volume reaches past its end.
    PastVolumeEnd {
        /// Where the volume starts on the virtual disk.
        volume_start: u64,
        /// Its length in bytes.
        volume_len: u64,
        /// The read's offset in the volume.
        at: u64,
        /// The read's length.
        len: u64,
    },
    /// A directory has no entry of the name asked.
    NoSuchFile {
        /// The path asked for.
        path: String,
        /// The name not found.
        name: String,
        /// The directory it was looked for in.
        dir: String,
    },
    /// A path goes on through an entry that is not a directory.
    NotADirectory {
        /// That entry's path.
        path: String,
    },
    /// A file's runs do not follow each other: the next run starts elsewhere than where the
    /// last ended.
    RunsGap {
        /// Where the volume starts on the virtual disk.
        volume_start: u64,
        /// The byte of the file where a run was expected.
        expected: u64,
    },
    /// A file's runs end before its size.
    RunsShort {
        /// Where the volume starts on the virtual disk.
        volume_start: u64,
        /// The file's size.
        size: u64,
        /// Bytes its runs hold.
        held: u64,
    },
    /// A compressed file's compression unit is impossible (0, or over 1 MiB).
    CompressionUnit {
        /// Where the volume starts on the virtual disk.
        volume_start: u64,
        /// The unit in bytes.
        unit: u64,
    },
    /// A volume holds no file system this viewer reads (the child side of a diff).
    NoFileSystem {
        /// Where the volume starts on the virtual disk.
        volume_start: u64,
    },
}

impl FsError {
    /// The virtual-disk byte offset it concerns, where there is one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            FsError::PastVolumeEnd { volume_start, at, .. } => Some(volume_start.saturating_add(*at)),
            FsError::RunsGap { volume_start, .. }
            | FsError::RunsShort { volume_start, .. }
            | FsError::CompressionUnit { volume_start, .. }
            | FsError::NoFileSystem { volume_start } => Some(*volume_start),
            FsError::NoSuchFile { .. } | FsError::NotADirectory { .. } => None,
        }
    }

    /// Its stable code (see [`crate::Error::code`]).
    pub fn code(&self) -> &'static str {
        match self {
            FsError::PastVolumeEnd { .. } => "past-volume-end",
            FsError::NoSuchFile { .. } => "no-such-file",
            FsError::NotADirectory { .. } => "not-a-directory",
            FsError::RunsGap { .. } => "runs-gap",
            FsError::RunsShort { .. } => "runs-short",
            FsError::CompressionUnit { .. } => "compression-unit",
            FsError::NoFileSystem { .. } => "diff-no-filesystem",
        }
    }
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(at) = self.offset() {
            write!(f, "at byte {at:#x}: ")?;
        }
        match self {
            FsError::PastVolumeEnd { volume_start, volume_len, at, len } => write!(
                f,
                "reading {len} bytes at byte {at:#x} of the volume goes past its end ({volume_len:#x} bytes; the volume starts at virtual byte {volume_start:#x})"
            ),
            FsError::NoSuchFile { path, name, dir } => write!(f, "{path}: no such file or directory (no {name:?} in {dir})"),
            FsError::NotADirectory { path } => write!(f, "{path} is not a directory"),
            FsError::RunsGap { expected, .. } => {
                write!(f, "the file's runs leave a gap at byte {expected} of the file (a bug or a damaged run list)")
            }
            FsError::RunsShort { size, held, .. } => {
                write!(f, "the file is {size} bytes but its clusters hold only {held}: its chain or run list ends early")
            }
            FsError::CompressionUnit { unit, .. } => write!(f, "a compression unit of {unit} bytes is not possible"),
            FsError::NoFileSystem { .. } => f.write_str("the child side holds no file system this viewer reads"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_offset_and_codes_stay_stable() {
        let e = FsError::PastVolumeEnd { volume_start: 0x100000, volume_len: 0x2000, at: 0x1ff0, len: 32 };
        assert_eq!(
            e.to_string(),
            "at byte 0x101ff0: reading 32 bytes at byte 0x1ff0 of the volume goes past its end (0x2000 bytes; the volume starts at virtual byte 0x100000)"
        );
        assert_eq!((e.code(), e.offset()), ("past-volume-end", Some(0x101ff0)));
        let e = FsError::NoSuchFile { path: "/a/b".into(), name: "b".into(), dir: "/a".into() };
        assert_eq!(e.to_string(), "/a/b: no such file or directory (no \"b\" in /a)");
        assert_eq!((e.code(), e.offset()), ("no-such-file", None));
        assert_eq!(FsError::RunsShort { volume_start: 512, size: 10, held: 4 }.code(), "runs-short");
    }
}
