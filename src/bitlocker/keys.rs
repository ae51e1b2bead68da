//! Unlocking: from a password, a recovery password, a startup key file or the clear key to the
//! volume master key (VMK, unwrapped with AES-CCM), and from it to the full-volume encryption
//! key (FVEK) that [`super::sectors`] decrypts the sectors with.
//!
//! A password's key is SHA-256 of SHA-256 of its UTF-16LE, a recovery password's SHA-256 of its
//! 16 bytes (each group divided by 11, a 16-bit number); either is then stretched: 2^20 rounds of
//! SHA-256 over (last, initial, salt, count). The AES-CCM tag tells a wrong key from a right one.

use std::sync::Arc;

use aes::Aes256;
use ccm::aead::generic_array::GenericArray;
use ccm::aead::{AeadInPlace, KeyInit};
use ccm::consts::{U12, U16, U64};
use sha2::{Digest, Sha256};

use super::sectors::Decryptor;
use super::{BitLocker, Method, ProtectorKind, Wrapped};
use crate::bytes::{le16, le32, Guid};
use crate::error::{BitLockerError, Result};

/// Rounds of the key stretch.
pub const STRETCH_ROUNDS: u32 = 1 << 20;
/// Rounds between two calls of the stretch's progress callback.
pub const STRETCH_STEP: u32 = 1 << 14;

/// What unlocks a volume.
#[derive(Clone, PartialEq, Eq)]
pub enum Key {
    /// The password (BitLocker To Go's, or an operating system volume's).
    Password(String),
    /// The 48-digit recovery password (groups may be separated by dashes or spaces).
    RecoveryPassword(String),
    /// The bytes of a startup key (`.BEK`) file.
    KeyFile(Vec<u8>),
    /// None: the clear key a suspended volume keeps.
    ClearKey,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself.
        f.write_str(self.words())
    }
}

impl Key {
    /// The key in words, as an error names it ("this password", ...).
    pub fn words(&self) -> &'static str {
        match self {
            Key::Password(_) => "this password",
            Key::RecoveryPassword(_) => "this recovery password",
            Key::KeyFile(_) => "this startup key file",
            Key::ClearKey => "the clear key",
        }
    }

    fn kind_words(&self) -> &'static str {
        match self {
            Key::Password(_) => "a password",
            Key::RecoveryPassword(_) => "a recovery password",
            Key::KeyFile(_) => "a startup key file",
            Key::ClearKey => "a clear key (it is not suspended)",
        }
    }
}

/// The 16 bytes of a recovery password: 8 groups of 6 digits, each a multiple of 11 below
/// 720896 whose last digit is the alternating sum of its first five, mod 11.
pub fn recovery_key(text: &str) -> Result<[u8; 16]> {
    let digits: Vec<u8> = text.bytes().filter(|b| !matches!(b, b'-' | b' ')).collect();
    let bad = |why: String| BitLockerError::RecoveryPassword { why };
    if digits.len() != 48 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad(format!("it has {} characters that are not dashes or spaces; it needs 48 digits", digits.len())).into());
    }
    let mut key = [0u8; 16];
    for (g, group) in digits.chunks(6).enumerate() {
        let d: Vec<i32> = group.iter().map(|b| i32::from(b - b'0')).collect();
        let n = d.iter().fold(0i32, |n, x| n * 10 + x);
        if n % 11 != 0 || n >= 720_896 {
            return Err(bad(format!("group {} ({n:06}) is not a multiple of 11 below 720896", g + 1)).into());
        }
        if (d[0] - d[1] + d[2] - d[3] + d[4]).rem_euclid(11) != d[5] {
            return Err(bad(format!("group {} ({n:06}) fails its check digit: a digit is mistyped", g + 1)).into());
        }
        key[2 * g..2 * g + 2].copy_from_slice(&((n / 11) as u16).to_le_bytes());
    }
    Ok(key)
}

/// SHA-256's initial state.
const H0: [u32; 8] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// The stretch: 2^20 rounds of SHA-256 over (last, initial, salt, count). `progress` is called
/// with the rounds done every [`STRETCH_STEP`] rounds; it returns false to stop (then `None`).
///
/// The 88 bytes hashed are always two padded 64-byte blocks, so each round is two calls of the
/// compression function on blocks kept in place: the last hash and the count are written into
/// them, nothing else changes (no hasher's buffering per round: in a debug build, where sha2
/// alone is optimised, that buffering was most of the time).
pub fn stretch(initial: &[u8; 32], salt: &[u8; 16], progress: &mut dyn FnMut(u32) -> bool) -> Option<[u8; 32]> {
    let mut blocks = [GenericArray::<u8, U64>::default(), GenericArray::<u8, U64>::default()];
    blocks[0][32..64].copy_from_slice(initial);
    blocks[1][..16].copy_from_slice(salt);
    blocks[1][24] = 0x80;
    blocks[1][56..64].copy_from_slice(&(88u64 * 8).to_be_bytes());
    let mut state = H0;
    for count in 0..u64::from(STRETCH_ROUNDS) {
        blocks[1][16..24].copy_from_slice(&count.to_le_bytes());
        state = H0;
        sha2::compress256(&mut state, &blocks);
        for (i, w) in state.iter().enumerate() {
            blocks[0][4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
        }
        if (count + 1) % u64::from(STRETCH_STEP) == 0 && !progress((count + 1) as u32) {
            return None;
        }
    }
    let mut out = [0u8; 32];
    for (i, w) in state.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
    }
    Some(out)
}

/// The initial hash of a password: SHA-256 of SHA-256 of its UTF-16LE.
pub fn password_hash(password: &str) -> [u8; 32] {
    let utf16: Vec<u8> = password.encode_utf16().flat_map(u16::to_le_bytes).collect();
    Sha256::digest(Sha256::digest(utf16)).into()
}

/// The key datum wrapped in `w`, unwrapped with `key`: `None` when the tag does not match.
fn unwrap(key: &[u8; 32], w: &Wrapped) -> Option<Vec<u8>> {
    let cipher = ccm::Ccm::<Aes256, U16, U12>::new(GenericArray::from_slice(key));
    let mut data = w.data.clone();
    cipher.decrypt_in_place_detached(GenericArray::from_slice(&w.nonce), &[], &mut data, GenericArray::from_slice(&w.tag)).ok()?;
    Some(data)
}

/// The key bytes of an unwrapped key datum (value type 1: a method, then the key), with the
/// method's value.
fn key_of(datum: &[u8]) -> Option<(u32, &[u8])> {
    let size = usize::from(le16(datum, 0)).min(datum.len());
    (size >= 12 && le16(datum, 4) == 1).then(|| (le32(datum, 8), &datum[12..size]))
}

/// A startup key file's identifier and key: a 48-byte header like the metadata's, then an
/// external key entry (value type 9: identifier, time, then entries of which a key, value type 1).
pub fn key_file(bytes: &[u8]) -> Result<(Guid, [u8; 32])> {
    let bad = |offset: u64, why: &str| BitLockerError::KeyFile { offset, why: why.into() };
    if bytes.len() < 48 + 8 || le32(bytes, 4) != 1 || le32(bytes, 8) != 48 {
        return Err(bad(4, "its header is not a version 1 metadata header of 48 bytes").into());
    }
    let size = (le32(bytes, 0) as usize).min(bytes.len());
    let mut f = Vec::new();
    for e in super::entries(&bytes[..size], 48, 0, &mut f) {
        if e.vtype == 9 && e.data.len() >= 24 {
            let guid = Guid::at(e.data, 0);
            for n in super::entries(&e.data[24..], 0, 0, &mut f) {
                if n.vtype == 1 && n.data.len() >= 36 {
                    let mut k = [0u8; 32];
                    k.copy_from_slice(&n.data[4..36]);
                    return Ok((guid, k));
                }
            }
            return Err(bad(e.at as u64, "its external key holds no 256-bit key").into());
        }
    }
    Err(bad(48, "it holds no external key entry").into())
}

/// An unlocked volume: what decrypts its sectors. Cloning shares it; it shows no key material.
#[derive(Clone)]
pub struct Unlock(pub(crate) Arc<Decryptor>);

impl PartialEq for Unlock {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
impl Eq for Unlock {}

impl std::fmt::Debug for Unlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Unlock")
    }
}

impl BitLocker {
    /// Unlocks the volume with `key`; `progress` follows a stretch (rounds done of
    /// [`STRETCH_ROUNDS`]) and returns false to stop it. A key that opens no protector is
    /// [`BitLockerError::WrongKey`], never a volume of garbage.
    pub fn unlock(&self, key: &Key, progress: &mut dyn FnMut(u32) -> bool) -> Result<Unlock> {
        let at = self.blocks[self.block_read];
        let kinds: &[ProtectorKind] = match key {
            Key::Password(_) => &[ProtectorKind::Password],
            Key::RecoveryPassword(_) => &[ProtectorKind::RecoveryPassword],
            Key::KeyFile(_) => &[ProtectorKind::StartupKey],
            Key::ClearKey => &[ProtectorKind::ClearKey],
        };
        let candidates: Vec<_> = self.protectors.iter().filter(|p| kinds.contains(&p.kind) && p.wrapped.is_some()).collect();
        if candidates.is_empty() {
            let has = self.protectors.iter().map(|p| p.kind.words()).collect();
            return Err(BitLockerError::NoProtector {
                offset: self.structures.get(1).map_or(at, |s| s.offset),
                kind: key.kind_words(),
                has,
            }
            .into());
        }
        // What the key gives before a protector's salt: the initial hash, or the key itself.
        let (initial, file) = match key {
            Key::Password(p) => (Some(password_hash(p)), None),
            Key::RecoveryPassword(r) => (Some(Sha256::digest(recovery_key(r)?).into()), None),
            Key::KeyFile(b) => (None, Some(key_file(b)?)),
            Key::ClearKey => (None, None),
        };
        let mut last_offset = 0;
        let mut stretched: Vec<([u8; 16], [u8; 32])> = Vec::new();
        for p in candidates {
            let Some(w) = &p.wrapped else { continue };
            last_offset = w.offset;
            let k = match (&initial, &file) {
                (Some(init), _) => {
                    let Some(salt) = p.salt else { continue };
                    match stretched.iter().find(|(s, _)| *s == salt) {
                        Some((_, k)) => *k,
                        None => {
                            let k = stretch(init, &salt, progress).ok_or(BitLockerError::Stopped)?;
                            stretched.push((salt, k));
                            k
                        }
                    }
                }
                (None, Some((_, k))) => *k,
                (None, None) => match p.clear_key {
                    Some(k) => k,
                    None => continue,
                },
            };
            if let Some(vmk) = unwrap(&k, w).as_deref().and_then(key_of).and_then(|(_, k)| <[u8; 32]>::try_from(k.get(..32)?).ok()) {
                return self.with_vmk(&vmk);
            }
        }
        Err(BitLockerError::WrongKey { offset: last_offset, kind: key.words() }.into())
    }

    /// Unlocks with the volume master key itself.
    fn with_vmk(&self, vmk: &[u8; 32]) -> Result<Unlock> {
        let w = self.fvek.as_ref().ok_or(BitLockerError::Fvek { offset: self.blocks[self.block_read], why: "there is none".into() })?;
        let datum = unwrap(vmk, w).ok_or(BitLockerError::Fvek { offset: w.offset, why: "its AES-CCM tag does not match".into() })?;
        let (value, fvek) = key_of(&datum).ok_or(BitLockerError::Fvek { offset: w.offset, why: "it is not a key".into() })?;
        let method = match self.method {
            Some(m) => m,
            None => Method::from_value(value).ok_or(BitLockerError::Method { offset: self.method_value.1, value: self.method_value.0 })?,
        };
        let d = Decryptor::new(self, method, fvek).ok_or_else(|| BitLockerError::Fvek {
            offset: w.offset,
            why: format!("it has {} bytes, too few for {}", fvek.len(), method.name()),
        })?;
        Ok(Unlock(Arc::new(d)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recovery_password_is_checked_group_by_group() {
        // libbde's example password.
        let k = recovery_key("471207-278498-422125-177177-561902-537405-468006-693451").unwrap();
        assert_eq!(u16::from_le_bytes([k[0], k[1]]), (471207 / 11) as u16);
        let e = recovery_key("471207-278498-422125-177177-561902-537405-468006-69345").unwrap_err();
        assert!(e.to_string().contains("48 digits"), "{e}");
        let e = recovery_key("471207-278499-422125-177177-561902-537405-468006-693451").unwrap_err();
        assert!(e.to_string().contains("group 2"), "{e}");
        // 000011 = 11: 0-0+0-0+1 = 1, its check digit; 000121 = 11 × 11: 0-0+0-1+2 = 1.
        assert!(recovery_key(&"000011".repeat(8)).is_ok());
        assert!(recovery_key(&"000121 ".repeat(8)).is_ok());
        // 720896 = 2^16 × 11: one past the largest group.
        let e = recovery_key(&format!("{}{}", "000011".repeat(7), "720896")).unwrap_err();
        assert!(e.to_string().contains("group 8"), "{e}");
    }

    /// The format's words: SHA-256 of (last, initial, salt, count), 2^20 times.
    fn stretch_by_the_words(initial: &[u8; 32], salt: &[u8; 16]) -> [u8; 32] {
        let mut block = [0u8; 88];
        block[32..64].copy_from_slice(initial);
        block[64..80].copy_from_slice(salt);
        for count in 0..u64::from(STRETCH_ROUNDS) {
            block[80..88].copy_from_slice(&count.to_le_bytes());
            let h = Sha256::digest(block);
            block[..32].copy_from_slice(&h);
        }
        block[..32].try_into().unwrap()
    }

    #[test]
    fn the_stretch_is_the_formats_and_stops_when_asked() {
        let (initial, salt) = (password_hash("bde-TEST"), [7u8; 16]);
        let mut steps = 0;
        assert_eq!(
            stretch(&initial, &salt, &mut |_| {
                steps += 1;
                true
            }),
            Some(stretch_by_the_words(&initial, &salt))
        );
        assert_eq!(steps, STRETCH_ROUNDS / STRETCH_STEP);
        let mut calls = 0;
        assert_eq!(
            stretch(&[1; 32], &[2; 16], &mut |_| {
                calls += 1;
                calls < 3
            }),
            None
        );
        assert_eq!(calls, 3);
    }
}
