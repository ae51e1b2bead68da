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
/// Rounds between two calls of an unlock's progress callback.
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
    /// The keys of volumes unlocked before (the page's Worker hands them to the Worker that
    /// runs a diff): each opens the volume of its GUID, and leaves the others locked.
    Unlocked(Vec<VolumeKey>),
}

/// What an unlocked volume was opened with, to open it again without its key's stretch: its
/// GUID and its volume master key. Shows no key material.
#[derive(Clone, PartialEq, Eq)]
pub struct VolumeKey {
    guid: Guid,
    vmk: [u8; 32],
}

impl std::fmt::Debug for VolumeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VolumeKey {{ {} }}", super::windows_guid(&self.guid))
    }
}

impl VolumeKey {
    /// Its 48 bytes (the GUID, then the key), to pass between the page's Workers.
    pub fn to_bytes(&self) -> Vec<u8> {
        [&self.guid.0[..], &self.vmk[..]].concat()
    }

    /// From [`VolumeKey::to_bytes`]'s 48 bytes; `None` for any other length.
    pub fn from_bytes(b: &[u8]) -> Option<VolumeKey> {
        let vmk = <[u8; 32]>::try_from(b.get(16..)?).ok()?;
        Some(VolumeKey { guid: Guid::at(b, 0), vmk })
    }

    /// Whether it opens the volume of `meta`.
    pub fn opens(&self, meta: &BitLocker) -> bool {
        self.guid == meta.guid
    }

    /// The GUID of the volume it opens, as `parts --json` writes it (`volume_id`).
    pub fn volume_id(&self) -> String {
        super::windows_guid(&self.guid)
    }
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
            Key::Unlocked(_) => "the keys of the volumes unlocked",
        }
    }

    fn kind_words(&self) -> &'static str {
        match self {
            Key::Password(_) => "a password",
            Key::RecoveryPassword(_) => "a recovery password",
            Key::KeyFile(_) => "a startup key file",
            Key::ClearKey => "a clear key (it is not suspended)",
            Key::Unlocked(_) => "the key of a volume unlocked before (it is another volume)",
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

/// The stretch: 2^20 rounds of SHA-256 over (last, initial, salt, count), a few rounds at a time.
///
/// The 88 bytes hashed are always two padded 64-byte blocks, so each round is two calls of the
/// compression function on blocks kept in place: the last hash and the count are written into
/// them, nothing else changes (no hasher's buffering per round: in a debug build, where sha2
/// alone is optimised, that buffering was most of the time).
pub struct Stretch {
    blocks: [GenericArray<u8, U64>; 2],
    state: [u32; 8],
    count: u64,
}

impl Stretch {
    /// The stretch of `initial` with `salt`, no round done.
    pub fn new(initial: &[u8; 32], salt: &[u8; 16]) -> Stretch {
        let mut blocks = [GenericArray::<u8, U64>::default(), GenericArray::<u8, U64>::default()];
        blocks[0][32..64].copy_from_slice(initial);
        blocks[1][..16].copy_from_slice(salt);
        blocks[1][24] = 0x80;
        blocks[1][56..64].copy_from_slice(&(88u64 * 8).to_be_bytes());
        Stretch { blocks, state: H0, count: 0 }
    }

    /// Runs up to `rounds` more rounds; true when all are done.
    pub fn run(&mut self, rounds: u32) -> bool {
        let end = (self.count + u64::from(rounds)).min(u64::from(STRETCH_ROUNDS));
        while self.count < end {
            self.blocks[1][16..24].copy_from_slice(&self.count.to_le_bytes());
            self.state = H0;
            sha2::compress256(&mut self.state, &self.blocks);
            for (i, w) in self.state.iter().enumerate() {
                self.blocks[0][4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
            }
            self.count += 1;
        }
        self.count == u64::from(STRETCH_ROUNDS)
    }

    /// Rounds done.
    pub fn done(&self) -> u64 {
        self.count
    }

    /// The key: the last hash.
    pub fn key(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(&self.blocks[0][..32]);
        out
    }
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

/// An unlocked volume: what decrypts its sectors, and what opened it. Cloning shares it; it shows
/// no key material.
#[derive(Clone)]
pub struct Unlock(pub(crate) Arc<Decryptor>, Arc<VolumeKey>);

impl Unlock {
    /// What decrypts the volume's sectors, for [`crate::fs::Volume::mapped`].
    pub fn decrypt(&self) -> Arc<dyn crate::fs::Mapping> {
        self.0.clone()
    }

    /// What opens this volume again without a key's stretch ([`Key::Unlocked`]).
    pub fn volume_key(&self) -> &VolumeKey {
        &self.1
    }
}

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

/// What a key gives before a protector's salt.
enum Given {
    /// The hash a stretch starts from (a password, a recovery password).
    Initial([u8; 32]),
    /// The key itself (a startup key file).
    Direct([u8; 32]),
    /// Each clear-key protector's own key.
    Clear,
    /// The volume opened already (by a [`VolumeKey`]).
    Ready(Unlock),
}

/// An unlock under way: each protector the key may open tried in turn, a stretch run a few
/// rounds at a time ([`Unlocking::step`]), so that its caller can show progress and stop it.
pub struct Unlocking {
    meta: BitLocker,
    words: &'static str,
    candidates: Vec<usize>,
    next: usize,
    given: Given,
    stretch: Option<Stretch>,
    stretched: u64,
    last_offset: u64,
}

impl Unlocking {
    /// Goes on for at most `rounds` stretch rounds: the volume unlocked, `None` when more
    /// rounds are needed, or [`BitLockerError::WrongKey`] when no protector opened.
    pub fn step(&mut self, rounds: u32) -> Result<Option<Unlock>> {
        if let Given::Ready(u) = &self.given {
            return Ok(Some(u.clone()));
        }
        loop {
            let Some(p) = self.candidates.get(self.next).map(|&i| &self.meta.protectors[i]) else {
                return Err(BitLockerError::WrongKey { offset: self.last_offset, kind: self.words }.into());
            };
            // Candidates are chosen among protectors with a wrapped key; one without is passed over.
            let Some(w) = &p.wrapped else {
                self.next += 1;
                continue;
            };
            self.last_offset = w.offset;
            let k = match (&self.given, p.salt, p.clear_key) {
                (Given::Initial(init), Some(salt), _) => {
                    let s = self.stretch.get_or_insert_with(|| Stretch::new(init, &salt));
                    if !s.run(rounds) {
                        return Ok(None);
                    }
                    let k = s.key();
                    self.stretch = None;
                    self.stretched += 1;
                    k
                }
                (Given::Direct(k), _, _) => *k,
                (Given::Clear, _, Some(k)) => k,
                _ => {
                    self.next += 1;
                    continue;
                }
            };
            self.next += 1;
            if let Some(vmk) = unwrap(&k, w).as_deref().and_then(key_of).and_then(|(_, k)| <[u8; 32]>::try_from(k.get(..32)?).ok()) {
                return self.meta.with_vmk(&vmk).map(Some);
            }
        }
    }

    /// Stretch rounds done and to do in all (0 of 0 for a key that needs none).
    pub fn progress(&self) -> (u64, u64) {
        let rounds = u64::from(STRETCH_ROUNDS);
        let total = match self.given {
            Given::Initial(_) => self.candidates.iter().filter(|&&i| self.meta.protectors[i].salt.is_some()).count() as u64 * rounds,
            _ => 0,
        };
        (self.stretched * rounds + self.stretch.as_ref().map_or(0, Stretch::done), total)
    }
}

impl BitLocker {
    /// Starts unlocking the volume with `key`: an error at once when the volume has no protector
    /// of its kind or the key is malformed (a recovery password's check digits, a key file).
    pub fn unlocking(&self, key: &Key) -> Result<Unlocking> {
        let at = self.structures.get(1).map_or(self.blocks[self.block_read], |s| s.offset);
        let job = |given| Unlocking {
            meta: self.clone(),
            words: key.words(),
            candidates: Vec::new(),
            next: 0,
            given,
            stretch: None,
            stretched: 0,
            last_offset: at,
        };
        let (kind, given) = match key {
            Key::Password(p) => (ProtectorKind::Password, Given::Initial(password_hash(p))),
            Key::RecoveryPassword(r) => (ProtectorKind::RecoveryPassword, Given::Initial(Sha256::digest(recovery_key(r)?).into())),
            Key::KeyFile(b) => (ProtectorKind::StartupKey, Given::Direct(key_file(b)?.1)),
            Key::ClearKey => (ProtectorKind::ClearKey, Given::Clear),
            Key::Unlocked(keys) => {
                return match keys.iter().find(|k| k.opens(self)) {
                    Some(k) => Ok(job(Given::Ready(self.with_vmk(&k.vmk)?))),
                    None => Err(BitLockerError::WrongKey { offset: at, kind: key.words() }.into()),
                };
            }
        };
        let candidates: Vec<usize> =
            (0..self.protectors.len()).filter(|&i| self.protectors[i].kind == kind && self.protectors[i].wrapped.is_some()).collect();
        if candidates.is_empty() {
            let has = self.protectors.iter().map(|p| p.kind.words()).collect();
            return Err(BitLockerError::NoProtector { offset: at, kind: key.kind_words(), has }.into());
        }
        Ok(Unlocking { candidates, ..job(given) })
    }

    /// Unlocks the volume with `key`; `progress(done, total)` follows the stretch (in rounds)
    /// and returns false to stop it. A key that opens no protector is
    /// [`BitLockerError::WrongKey`], never a volume of garbage.
    pub fn unlock(&self, key: &Key, progress: &mut dyn FnMut(u64, u64) -> bool) -> Result<Unlock> {
        let mut u = self.unlocking(key)?;
        loop {
            if let Some(done) = u.step(STRETCH_STEP)? {
                return Ok(done);
            }
            let (done, total) = u.progress();
            if !progress(done, total) {
                return Err(BitLockerError::Stopped.into());
            }
        }
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
        Ok(Unlock(Arc::new(d), Arc::new(VolumeKey { guid: self.guid, vmk: *vmk })))
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
    fn the_stretch_is_the_formats_run_a_step_at_a_time() {
        let (initial, salt) = (password_hash("bde-TEST"), [7u8; 16]);
        let mut s = Stretch::new(&initial, &salt);
        let mut steps = 0;
        while !s.run(STRETCH_STEP) {
            steps += 1;
        }
        assert_eq!((steps + 1, s.done()), (STRETCH_ROUNDS / STRETCH_STEP, u64::from(STRETCH_ROUNDS)));
        assert_eq!(s.key(), stretch_by_the_words(&initial, &salt));
    }
}
