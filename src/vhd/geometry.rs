//! Cylinder/head/sector geometry and the spec's rule (appendix "CHS calculation") for deriving it
//! from a disk size.

use serde::Serialize;

/// The footer's `disk geometry` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Geometry {
    /// Cylinders (2 bytes).
    pub cylinders: u16,
    /// Heads (1 byte).
    pub heads: u8,
    /// Sectors per track (1 byte).
    pub sectors_per_track: u8,
}

/// The largest number of sectors CHS can describe: 65535 x 16 x 255.
pub const MAX_CHS_SECTORS: u64 = 65_535 * 16 * 255;

impl Geometry {
    /// Decodes the four bytes of the field.
    pub fn from_bytes(b: [u8; 4]) -> Self {
        Geometry { cylinders: u16::from_be_bytes([b[0], b[1]]), heads: b[2], sectors_per_track: b[3] }
    }

    /// Number of sectors the geometry describes.
    pub fn sectors(&self) -> u64 {
        u64::from(self.cylinders) * u64::from(self.heads) * u64::from(self.sectors_per_track)
    }

    /// Bytes the geometry describes: the size that Virtual PC-era readers give the disk.
    pub fn size(&self) -> u64 {
        self.sectors() * 512
    }

    /// True when this is the largest geometry, which says "the size is too large for CHS; use
    /// `current size`".
    pub fn is_max(&self) -> bool {
        self.sectors() >= MAX_CHS_SECTORS || (self.cylinders == 65_535 && self.heads == 16 && self.sectors_per_track == 255)
    }

    /// The geometry the spec's algorithm gives for a disk of `size` bytes.
    pub fn for_size(size: u64) -> Self {
        let total = (size / 512).min(MAX_CHS_SECTORS);
        let (spt, heads, cth);
        if total >= 65_535 * 16 * 63 {
            spt = 255;
            heads = 16;
            cth = total / spt;
        } else {
            let mut s = 17;
            let mut c = total / s;
            let mut h = c.div_ceil(1024).max(4);
            if c >= h * 1024 || h > 16 {
                s = 31;
                h = 16;
                c = total / s;
            }
            if c >= h * 1024 {
                s = 63;
                h = 16;
                c = total / s;
            }
            spt = s;
            heads = h;
            cth = c;
        }
        Geometry { cylinders: (cth / heads).min(65_535) as u16, heads: heads as u8, sectors_per_track: spt as u8 }
    }
}

impl std::fmt::Display for Geometry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.cylinders, self.heads, self.sectors_per_track)
    }
}

/// Creator applications whose disks qemu sizes by their CHS geometry instead of `current size`:
/// Virtual PC's and QEMU's own (without `force_size`). Measured with qemu 10: every other
/// creator (`win `, `qem2`, `d2v `, `vs  `, `vbox`, `tap\0`, `wa\0\0`, unknown ones) is sized
/// by `current size`, except when the geometry is the largest (then always `current size`).
pub fn qemu_sizes_by_chs(creator: &[u8; 4]) -> bool {
    matches!(creator, b"vpc " | b"qemu")
}

/// Creator applications of the Virtual PC family, whose own readers size every disk by its CHS
/// geometry.
pub fn virtual_pc_family(creator: &[u8; 4]) -> bool {
    matches!(creator, b"vpc " | b"vs  ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_rule_matches_known_disks() {
        // Hyper-V's 127 GiB default disk.
        assert_eq!(Geometry::for_size(136_365_211_648).to_string(), "65278/16/255");
        // Windows' 2 GiB disk.
        assert_eq!(Geometry::for_size(2 << 30).to_string(), "4161/16/63");
        // 4 MiB.
        assert_eq!(Geometry::for_size(4 << 20).to_string(), "120/4/17");
    }
}
