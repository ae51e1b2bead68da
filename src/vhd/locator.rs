//! Parent locator entries (spec: "Parent Locator Entries") and the paths they hold.

use crate::bytes::{array, be32, be64, utf16le_checked};
use crate::values::FourCc;

/// The longest locator data this viewer reads: a Windows path is at most 32767 UTF-16 units.
pub const MAX_LOCATOR_DATA: u64 = 65_536;

/// One 24-byte parent locator entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatorEntry {
    /// Position among the eight entries (0-7).
    pub index: usize,
    /// `platform code`: 0 for an unused entry, else `W2ru`, `W2ku`, `MacX`, ...
    pub platform_code: FourCc,
    /// `platform data space`: room for the data, in sectors per the spec, in bytes for several
    /// writers (Windows among them).
    pub platform_data_space: u32,
    /// `platform data length`: bytes of locator data.
    pub platform_data_length: u32,
    /// `reserved`.
    pub reserved: u32,
    /// `platform data offset`: absolute file offset of the data.
    pub platform_data_offset: u64,
}

/// What a platform code says about its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Code 0: the entry is unused.
    None,
    /// `W2ru`: a Windows path relative to the child, UTF-16 little-endian.
    WindowsRelative,
    /// `W2ku`: an absolute Windows path, UTF-16 little-endian.
    WindowsAbsolute,
    /// `MacX`: a file URL, UTF-8.
    MacOsX,
    /// `Wi2r`, `Wi2k` (deprecated Windows paths) and `Mac ` (an alias record): shown raw.
    Legacy,
    /// Anything else.
    Unknown,
}

impl LocatorEntry {
    /// Decodes an entry from its 24 bytes.
    pub fn parse(index: usize, b: &[u8]) -> Self {
        LocatorEntry {
            index,
            platform_code: FourCc(array(b, 0)),
            platform_data_space: be32(b, 4),
            platform_data_length: be32(b, 8),
            reserved: be32(b, 12),
            platform_data_offset: be64(b, 16),
        }
    }

    /// What kind of entry this is.
    pub fn platform(&self) -> Platform {
        match &self.platform_code.0 {
            [0, 0, 0, 0] => Platform::None,
            b"W2ru" => Platform::WindowsRelative,
            b"W2ku" => Platform::WindowsAbsolute,
            b"MacX" => Platform::MacOsX,
            b"Wi2r" | b"Wi2k" | b"Mac " => Platform::Legacy,
            _ => Platform::Unknown,
        }
    }

    /// True for an unused entry (platform code 0).
    pub fn is_unused(&self) -> bool {
        self.platform() == Platform::None
    }

    /// The platform data space in bytes, reading the field as sectors (the spec) unless that
    /// cannot be meant: writers that store bytes store a multiple of 512 at least as large as the
    /// data length, and sectors would then be absurd (more than the 64 KiB a path can need).
    pub fn data_space_bytes(&self) -> u64 {
        let space = u64::from(self.platform_data_space);
        if space * 512 > MAX_LOCATOR_DATA && space >= u64::from(self.platform_data_length) {
            space
        } else {
            space * 512
        }
    }

    /// True when `platform data space` evidently counts bytes rather than sectors.
    pub fn data_space_in_bytes(&self) -> bool {
        self.data_space_bytes() == u64::from(self.platform_data_space) && self.platform_data_space != 0
    }
}

/// A locator's data decoded to a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedPath {
    /// The path (or URL decoded to a path) as text; for legacy codes the bytes read as Latin-1.
    pub path: String,
    /// False when the bytes were not valid in the encoding the platform code names.
    pub valid: bool,
}

/// Decodes locator data according to its platform code.
pub fn decode_path(platform: Platform, data: &[u8]) -> DecodedPath {
    match platform {
        Platform::WindowsRelative | Platform::WindowsAbsolute => {
            let (path, valid) = utf16le_checked(data);
            DecodedPath { path, valid }
        }
        Platform::MacOsX => {
            let text = trim_nul(data);
            match std::str::from_utf8(text) {
                Ok(s) => {
                    let (path, ok) = file_url_to_path(s);
                    DecodedPath { path, valid: ok }
                }
                Err(_) => DecodedPath { path: String::from_utf8_lossy(text).into_owned(), valid: false },
            }
        }
        Platform::Legacy | Platform::Unknown | Platform::None => {
            DecodedPath { path: trim_nul(data).iter().map(|b| char::from(*b)).collect(), valid: true }
        }
    }
}

fn trim_nul(data: &[u8]) -> &[u8] {
    let end = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    &data[..end]
}

/// Turns `file://host/path%20with%20escapes` into `/path with escapes`. Returns the text as it is
/// (and `false`) when it is not a file URL or an escape is broken.
fn file_url_to_path(url: &str) -> (String, bool) {
    let Some(rest) = url.strip_prefix("file://") else {
        return (url.to_string(), false);
    };
    // Skip the host ("localhost" or empty).
    let path = match rest.find('/') {
        Some(i) => &rest[i..],
        None => return (url.to_string(), false),
    };
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(v) => {
                    out.push(v);
                    i += 3;
                    continue;
                }
                None => return (url.to_string(), false),
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => (s, true),
        Err(_) => (url.to_string(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_paths_are_utf16le() {
        let data: Vec<u8> = ".\\a.vhd".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let d = decode_path(Platform::WindowsRelative, &data);
        assert_eq!(d, DecodedPath { path: ".\\a.vhd".into(), valid: true });
        let bad = [0x00u8, 0xd8, 0x41, 0x00]; // unpaired high surrogate
        assert!(!decode_path(Platform::WindowsRelative, &bad).valid);
    }

    #[test]
    fn macx_is_a_file_url() {
        let d = decode_path(Platform::MacOsX, b"file://localhost/Users/me/My%20Disk.vhd\0\0");
        assert_eq!(d, DecodedPath { path: "/Users/me/My Disk.vhd".into(), valid: true });
        assert!(!decode_path(Platform::MacOsX, b"file:///a%zz").valid);
        assert!(!decode_path(Platform::MacOsX, &[0xff, 0xfe]).valid);
    }

    #[test]
    fn data_space_units() {
        let mut e = LocatorEntry::parse(0, &[0; 24]);
        e.platform_data_space = 65_536;
        e.platform_data_length = 34;
        assert!(e.data_space_in_bytes());
        e.platform_data_space = 1;
        assert_eq!(e.data_space_bytes(), 512);
    }
}
