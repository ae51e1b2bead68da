//! The small value types the VHD format is made of: the VHD checksum,
//! timestamps counted from 2000-01-01, UUIDs and four-character codes.

use serde::{Serialize, Serializer};

/// The VHD checksum: the ones' complement of the sum of all bytes, with the four bytes of the
/// checksum field itself (at `checksum_at`) taken as zero.
pub fn checksum(bytes: &[u8], checksum_at: usize) -> u32 {
    let sum = bytes
        .iter()
        .enumerate()
        .filter(|(i, _)| !(checksum_at..checksum_at + 4).contains(i))
        .fold(0u32, |sum, (_, b)| sum.wrapping_add(u32::from(*b)));
    !sum
}

/// Seconds since 2000-01-01 00:00:00 UTC, as the format stores time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Timestamp(pub u32);

/// Seconds from 1970-01-01 to 2000-01-01.
pub const VHD_EPOCH_UNIX: u64 = 946_684_800;

impl Timestamp {
    /// Seconds since the Unix epoch.
    pub fn unix(self) -> u64 {
        VHD_EPOCH_UNIX + u64::from(self.0)
    }

    /// The time as ISO 8601 in UTC, e.g. `2014-03-01T12:00:00Z`.
    pub fn iso8601(self) -> String {
        let secs = self.unix();
        let (days, rem) = (secs / 86_400, secs % 86_400);
        let (y, m, d) = civil_from_days(days as i64);
        format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem / 60 % 60, rem % 60)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.iso8601())
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the inverse of [`civil_from_days`]).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A VHD's 16-byte unique id, shown lower-case and hyphenated with the bytes in stored order (the
/// way `vhdiinfo` prints it). Not a [`Guid`](crate::bytes::Guid), which VHDX and GPT store with
/// its first three fields little-endian and which is shown with those fields reversed: the same
/// bytes show differently, so the two stay two types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// True when all sixteen bytes are zero.
    pub fn is_nil(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl std::fmt::Display for Uuid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl Serialize for Uuid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A four-byte code such as a creator application (`win `) or a platform code (`W2ru`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FourCc(pub [u8; 4]);

impl std::fmt::Display for FourCc {
    /// Printable ASCII as it is (trailing spaces kept), other bytes as `\xNN` escapes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&show_bytes(&self.0))
    }
}

impl Serialize for FourCc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Bytes shown the way a person can read them: ASCII where printable, escapes elsewhere.
pub fn show_bytes(bytes: &[u8]) -> String {
    bytes.iter().flat_map(|b| std::ascii::escape_default(*b)).map(char::from).collect()
}

/// Bytes as lower-case hex without separators.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A byte count the way a person reads it: `2 GiB`, `4.5 MiB`, `512 bytes`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else if value.fract() == 0.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.2} {}", UNITS[unit]).replace(".00 ", " ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(Timestamp(0).iso8601(), "2000-01-01T00:00:00Z");
        // 2000 was a leap year: day 59 is 29 February.
        assert_eq!(Timestamp(59 * 86_400 + 3_661).iso8601(), "2000-02-29T01:01:01Z");
        assert_eq!(Timestamp(u32::MAX).iso8601(), "2136-02-07T06:28:15Z");
    }

    #[test]
    fn uuid_in_stored_order() {
        let u = Uuid([0xf8, 0x4f, 0x16, 0x36, 0xcd, 0x9e, 0x90, 0x41, 0xa6, 0x9e, 0xdc, 0xc2, 0x38, 0x0e, 0x41, 0x6a]);
        assert_eq!(u.to_string(), "f84f1636-cd9e-9041-a69e-dcc2380e416a");
    }

    #[test]
    fn checksum_skips_its_own_field() {
        let mut b = [1u8; 16];
        b[4..8].copy_from_slice(&[9, 9, 9, 9]);
        assert_eq!(checksum(&b, 4), !12u32);
    }

    #[test]
    fn sizes() {
        assert_eq!(human_size(512), "512 bytes");
        assert_eq!(human_size(2 << 30), "2 GiB");
        assert_eq!(human_size(1536), "1.50 KiB");
    }
}
