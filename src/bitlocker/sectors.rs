//! The sectors of an unlocked volume: AES-CBC (the IV is the sector's byte offset encrypted with
//! the key) with or without the Elephant diffuser, or AES-XTS (the tweak is the sector's
//! number); the first sectors read from where the metadata keeps them (Windows 7 and later) or
//! with the boot sector's two fields put back, in it and in its copy at the end (Vista); the metadata blocks' areas read as zeros;
//! what lies past the encrypted size (a conversion under way) read as it is.

use aes::cipher::consts::U16;
use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockCipher, BlockDecrypt, BlockDecryptMut, BlockEncrypt, BlockSizeUser, InnerIvInit, KeyInit};
use aes::{Aes128, Aes256};
use xts_mode::{get_tweak_default, Xts128};

use super::{BitLocker, Method, Version};
use crate::error::Result;
use crate::fs::{Mapping, ReadVirtual};

/// The cipher of the sectors.
enum Cipher {
    Cbc128 { key: Aes128, tweak: Option<Aes128> },
    Cbc256 { key: Aes256, tweak: Option<Aes256> },
    Xts128(Xts128<Aes128>),
    Xts256(Xts128<Aes256>),
}

/// Decrypts an unlocked volume's sectors, and knows which sectors are not encrypted.
pub struct Decryptor {
    cipher: Cipher,
    sector: u64,
    vista: bool,
    encrypted_size: u64,
    header_offset: u64,
    header_size: u64,
    mft_mirror: u64,
    zeros: Vec<(u64, u64)>,
}

impl Decryptor {
    /// The decryptor of `meta`'s volume with `method` and the key bytes `fvek`; `None` when the
    /// key is too short for the method.
    pub(crate) fn new(meta: &BitLocker, method: Method, fvek: &[u8]) -> Option<Decryptor> {
        let a128 = |at: usize| fvek.get(at..at + 16).and_then(|k| Aes128::new_from_slice(k).ok());
        let a256 = |at: usize| fvek.get(at..at + 32).and_then(|k| Aes256::new_from_slice(k).ok());
        let cipher = match method {
            Method::AesCbc128 => Cipher::Cbc128 { key: a128(0)?, tweak: None },
            Method::AesCbc256 => Cipher::Cbc256 { key: a256(0)?, tweak: None },
            Method::AesCbc128Diffuser => Cipher::Cbc128 { key: a128(0)?, tweak: Some(a128(32)?) },
            Method::AesCbc256Diffuser => Cipher::Cbc256 { key: a256(0)?, tweak: Some(a256(32)?) },
            Method::AesXts128 => Cipher::Xts128(Xts128::new(a128(0)?, a128(16)?)),
            Method::AesXts256 => Cipher::Xts256(Xts128::new(a256(0)?, a256(32)?)),
        };
        let mut zeros: Vec<(u64, u64)> = meta.blocks.iter().filter(|&&b| b != 0).map(|&b| (b, meta.block_area)).collect();
        if meta.header_size > 0 {
            zeros.push((meta.header_offset, meta.header_size));
        }
        Some(Decryptor {
            cipher,
            sector: u64::from(meta.sector_size),
            vista: meta.version == Version::Vista,
            encrypted_size: meta.encrypted_size,
            header_offset: meta.header_offset,
            header_size: meta.header_size,
            mft_mirror: meta.mft_mirror,
            zeros,
        })
    }

    /// Decrypts in place the sector that lies at byte `offset` of the volume.
    fn decrypt(&self, offset: u64, buf: &mut [u8]) {
        match &self.cipher {
            Cipher::Cbc128 { key, tweak } => cbc(key, tweak.as_ref(), offset, buf),
            Cipher::Cbc256 { key, tweak } => cbc(key, tweak.as_ref(), offset, buf),
            Cipher::Xts128(x) => x.decrypt_sector(buf, get_tweak_default(u128::from(offset / self.sector))),
            Cipher::Xts256(x) => x.decrypt_sector(buf, get_tweak_default(u128::from(offset / self.sector))),
        }
    }

    /// Fills `buf` with the plain bytes at byte `offset` of the volume `[start, start + len)` of
    /// `src`. Reads whole sectors (a sector the volume's end cuts is read as it is).
    fn plain<R: ReadVirtual + ?Sized>(&self, src: &mut R, start: u64, len: u64, offset: u64, buf: &mut [u8]) -> Result<()> {
        let ss = self.sector;
        let first = offset / ss * ss;
        let end = (offset + buf.len() as u64).div_ceil(ss) * ss;
        let mut tmp = vec![0u8; (end.min(len.max(offset + buf.len() as u64)) - first) as usize];
        src.read_virtual(start + first, &mut tmp)?;
        let mut at = first;
        for chunk in tmp.chunks_mut(ss as usize) {
            if chunk.len() as u64 == ss {
                self.sector_at(src, start, at, chunk)?;
            }
            at += ss;
        }
        let skip = (offset - first) as usize;
        buf.copy_from_slice(&tmp[skip..skip + buf.len()]);
        Ok(())
    }

    /// Turns the sector read at byte `at` of the volume into its plain bytes.
    fn sector_at<R: ReadVirtual + ?Sized>(&self, src: &mut R, start: u64, at: u64, s: &mut [u8]) -> Result<()> {
        let ss = self.sector;
        if self.vista {
            // The boot sector and its copy in the last sector are stored plain, as BitLocker's.
            if at == 0 || at + ss == self.encrypted_size {
                s[3..11].copy_from_slice(b"NTFS    ");
                s[56..64].copy_from_slice(&self.mft_mirror.to_le_bytes());
                return Ok(());
            }
            if at < 16 * ss {
                return Ok(());
            }
        } else if at < self.header_size {
            // The first sectors are kept (encrypted where the conversion has reached) elsewhere.
            let from = self.header_offset.saturating_add(at);
            src.read_virtual(start.saturating_add(from), s)?;
            if from < self.encrypted_size {
                self.decrypt(from, s);
            }
            return Ok(());
        }
        if self.zeros.iter().any(|&(z, n)| at >= z && at < z.saturating_add(n)) {
            s.fill(0);
        } else if at < self.encrypted_size {
            self.decrypt(at, s);
        }
        Ok(())
    }
}

/// AES-CBC decryption of one sector at byte `offset`, its IV the offset encrypted with the key;
/// then, with a tweak key, the Elephant diffuser undone and the sector key taken off.
fn cbc<C>(key: &C, tweak: Option<&C>, offset: u64, buf: &mut [u8])
where
    C: BlockCipher + BlockEncrypt + BlockDecrypt + Clone + BlockSizeUser<BlockSize = U16>,
{
    let mut iv = GenericArray::clone_from_slice(&u128::from(offset).to_le_bytes());
    key.encrypt_block(&mut iv);
    let mut dec = cbc::Decryptor::<C>::inner_iv_init(key.clone(), &iv);
    for block in buf.chunks_exact_mut(16) {
        dec.decrypt_block_mut(GenericArray::from_mut_slice(block));
    }
    let Some(tweak) = tweak else { return };
    let mut words: Vec<u32> = buf.chunks_exact(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])).collect();
    diffuser_b(&mut words);
    diffuser_a(&mut words);
    let mut sector_key = [0u8; 32];
    let mut lo = GenericArray::clone_from_slice(&u128::from(offset).to_le_bytes());
    tweak.encrypt_block(&mut lo);
    let mut hi_bytes = u128::from(offset).to_le_bytes();
    hi_bytes[15] = 0x80;
    let mut hi = GenericArray::clone_from_slice(&hi_bytes);
    tweak.encrypt_block(&mut hi);
    sector_key[..16].copy_from_slice(&lo);
    sector_key[16..].copy_from_slice(&hi);
    for (i, (out, w)) in buf.chunks_exact_mut(4).zip(words).enumerate() {
        let b = w.to_le_bytes();
        for j in 0..4 {
            out[j] = b[j] ^ sector_key[(4 * i + j) % 32];
        }
    }
}

/// Diffuser A undone: 5 cycles of d[i] += d[i-2] ^ rotl(d[i-5], Ra[i mod 4]).
fn diffuser_a(d: &mut [u32]) {
    const RA: [u32; 4] = [9, 0, 13, 0];
    let n = d.len();
    for _ in 0..5 {
        for i in 0..n {
            d[i] = d[i].wrapping_add(d[(i + n - 2) % n] ^ d[(i + n - 5) % n].rotate_left(RA[i % 4]));
        }
    }
}

/// Diffuser B undone: 3 cycles of d[i] += d[i+2] ^ rotl(d[i+5], Rb[i mod 4]).
fn diffuser_b(d: &mut [u32]) {
    const RB: [u32; 4] = [0, 10, 0, 25];
    let n = d.len();
    for _ in 0..3 {
        for i in 0..n {
            d[i] = d[i].wrapping_add(d[(i + 2) % n] ^ d[(i + 5) % n].rotate_left(RB[i % 4]));
        }
    }
}

impl Mapping for Decryptor {
    fn read(&self, src: &mut dyn ReadVirtual, start: u64, len: u64, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.plain(src, start, len, offset, buf)
    }
}
