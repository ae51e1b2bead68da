//! Writes the BitLocker volume Windows would make of a plain volume image, for the tests: written
//! from the format's public notes (libyal's "BitLocker Drive Encryption (BDE) format", dislocker's
//! structures, Ferguson's "AES-CBC + Elephant diffuser"), never from this project's reader, so that
//! a misreading on either side shows as a disagreement; `tests/bitlocker_writer.rs` checks every
//! kind it writes with an independent reader (libbde's `bdeinfo` and `pybde`).
//!
//! ```text
//! bitlocker_volume --in PLAIN.img --out ENC.img --method METHOD [--password P]
//!     [--recovery-password 123456-...|auto] [--startup-key OUT.BEK|FOLDER] [--clear-key] [--tpm] [--tpm-pin]
//!     [--encrypted-bytes N] [--state STATE] [--layout win7|vista] [--seed S]
//!     [--description TEXT] [--manifest OUT.json] [--damage-block N]
//! ```
//!
//! - METHOD: `aes-cbc-128`, `aes-cbc-256`, `aes-cbc-128-diffuser`, `aes-cbc-256-diffuser`,
//!   `aes-xts-128`, `aes-xts-256`.
//! - Protectors, one VMK entry each: a password and a 48-digit recovery password (their keys
//!   stretched with SHA-256 2^20 times from a salt; `auto` draws the recovery password from the
//!   seed), a startup key (the `.BEK` file written at OUT.BEK, named by the key's ID as Windows
//!   does), a clear key (a suspended volume: the VMK's key stored in clear), TPM and TPM+PIN
//!   (described only: their sealed blobs are seeded bytes that no TPM can unseal).
//! - STATE: `encrypted` (the default), `encrypting`, `encryption-paused`, `decrypting`,
//!   `decryption-paused`; with `--encrypted-bytes N` the bytes from N on are stored plain (the
//!   conversion point; a partly encrypted volume).
//! - Layouts: `win7` (the default: the first 8 KiB are stored encrypted elsewhere, in the "volume
//!   header block"; the FVE boot sector names the three 64 KiB metadata blocks) or `vista` (NTFS
//!   only: the NTFS boot sector with `-FVE-FS-` and the first metadata block's cluster, the first
//!   16 sectors and the last (NTFS's copy of its boot sector, here the changed one) plain, 16 KiB
//!   metadata blocks).
//! - Everything (keys, salts, GUIDs, serial numbers) comes from `--seed` (a number, 0 by default):
//!   the same arguments write the same bytes.
//! - The metadata blocks and the relocated boot sectors take all-zero places of the plain image
//!   (a reader shows those places as zeros), so the decrypted volume equals the plain image byte
//!   for byte.
//! - `--damage-block N` (1 to 3) changes one byte of metadata block N's description after its
//!   CRC-32 is taken: that block disagrees with the other two and fails its check.
//! - The manifest (JSON) says what a reader should find: method, state, GUIDs, description,
//!   offsets, sizes, each protector with its kind, ID, offset and secret.

use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
use aes::{Aes128, Aes256};
use ccm::aead::AeadInPlace;
use ccm::consts::{U12, U16};
use serde_json::json;
use sha2::{Digest, Sha256};
use xts_mode::{get_tweak_default, Xts128};

const SECTOR: usize = 512;
/// The BitLocker identifier {4967D63B-2E29-4AD8-8399-F6A339E3D001} as stored.
const BITLOCKER_ID: [u8; 16] = [0x3b, 0xd6, 0x67, 0x49, 0x29, 0x2e, 0xd8, 0x4a, 0x83, 0x99, 0xf6, 0xa3, 0x39, 0xe3, 0xd0, 0x01];
/// 2024-01-01 00:00:00 UTC as a FILETIME: the creation time and every nonce's time.
const FILETIME: u64 = 133_485_408_000_000_000;
/// Entry types and value types of FVE metadata entries.
const E_PROPERTY: u16 = 0;
const E_VMK: u16 = 2;
const E_FVEK: u16 = 3;
const E_STARTUP_KEY: u16 = 6;
const E_DESCRIPTION: u16 = 7;
const E_VOLUME_HEADER: u16 = 0xf;
const V_KEY: u16 = 1;
const V_STRING: u16 = 2;
const V_STRETCH_KEY: u16 = 3;
const V_AES_CCM: u16 = 5;
const V_TPM: u16 = 6;
const V_VMK: u16 = 8;
const V_EXTERNAL_KEY: u16 = 9;
const V_OFFSET_SIZE: u16 = 0xf;
/// The method of a VMK's own key, a startup key's key and a clear key (libbde's "AES-CCM 256").
const M_VMK: u32 = 0x2000;

#[derive(Clone, Copy, PartialEq)]
enum Method {
    Cbc128Diffuser,
    Cbc256Diffuser,
    Cbc128,
    Cbc256,
    Xts128,
    Xts256,
}

impl Method {
    const ALL: [(Method, &'static str); 6] = [
        (Method::Cbc128Diffuser, "aes-cbc-128-diffuser"),
        (Method::Cbc256Diffuser, "aes-cbc-256-diffuser"),
        (Method::Cbc128, "aes-cbc-128"),
        (Method::Cbc256, "aes-cbc-256"),
        (Method::Xts128, "aes-xts-128"),
        (Method::Xts256, "aes-xts-256"),
    ];
    fn name(self) -> &'static str {
        Self::ALL.iter().find(|m| m.0 == self).map(|m| m.1).unwrap_or_default()
    }
    /// The value in the metadata header and the FVEK's key entry: 0x8000 + the list's position.
    fn code(self) -> u32 {
        0x8000 + Self::ALL.iter().position(|m| m.0 == self).unwrap_or_default() as u32
    }
    /// The FVEK's key data: with the diffuser 64 bytes (the FVEK's 32, the tweak key's 32, of
    /// which AES-128 uses the first 16 each); XTS's two keys.
    fn key_len(self) -> usize {
        match self {
            Method::Cbc128 => 16,
            Method::Cbc256 | Method::Xts128 => 32,
            Method::Cbc128Diffuser | Method::Cbc256Diffuser | Method::Xts256 => 64,
        }
    }
}

enum Aes {
    A128(Box<Aes128>),
    A256(Box<Aes256>),
}

impl Aes {
    fn new(key: &[u8]) -> Aes {
        match key.len() {
            16 => Aes::A128(Box::new(Aes128::new(GenericArray::from_slice(key)))),
            _ => Aes::A256(Box::new(Aes256::new(GenericArray::from_slice(key)))),
        }
    }
    fn encrypt(&self, block: &mut [u8]) {
        let b = GenericArray::from_mut_slice(block);
        match self {
            Aes::A128(c) => c.encrypt_block(b),
            Aes::A256(c) => c.encrypt_block(b),
        }
    }
    /// The 16-byte little-endian `value` encrypted (AES-ECB).
    fn of(&self, value: u128) -> [u8; 16] {
        let mut b = value.to_le_bytes();
        self.encrypt(&mut b);
        b
    }
}

enum SectorCipher {
    Cbc { fvek: Aes, tweak: Option<Aes> },
    Xts128(Box<Xts128<Aes128>>),
    Xts256(Box<Xts128<Aes256>>),
}

impl SectorCipher {
    fn new(method: Method, key: &[u8]) -> SectorCipher {
        match method {
            Method::Cbc128 | Method::Cbc256 => SectorCipher::Cbc { fvek: Aes::new(key), tweak: None },
            Method::Cbc128Diffuser => SectorCipher::Cbc { fvek: Aes::new(&key[..16]), tweak: Some(Aes::new(&key[32..48])) },
            Method::Cbc256Diffuser => SectorCipher::Cbc { fvek: Aes::new(&key[..32]), tweak: Some(Aes::new(&key[32..])) },
            Method::Xts128 => SectorCipher::Xts128(Box::new(Xts128::new(
                Aes128::new(GenericArray::from_slice(&key[..16])),
                Aes128::new(GenericArray::from_slice(&key[16..])),
            ))),
            Method::Xts256 => SectorCipher::Xts256(Box::new(Xts128::new(
                Aes256::new(GenericArray::from_slice(&key[..32])),
                Aes256::new(GenericArray::from_slice(&key[32..])),
            ))),
        }
    }

    /// Encrypts one sector that lies at byte `offset` of the volume (where it is stored).
    fn encrypt(&self, data: &mut [u8], offset: u64) {
        match self {
            SectorCipher::Cbc { fvek, tweak } => {
                if let Some(tweak) = tweak {
                    // The sector key: the offset, then the offset with its 16th byte 0x80, each
                    // encrypted with the tweak key, XORed over the sector 32 bytes at a time.
                    let mut key = [0; 32];
                    key[..16].copy_from_slice(&tweak.of(offset as u128));
                    key[16..].copy_from_slice(&tweak.of(offset as u128 | 0x80 << 120));
                    for (k, b) in data.iter_mut().enumerate() {
                        *b ^= key[k % 32];
                    }
                    let mut words: Vec<u32> = data.chunks(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])).collect();
                    diffuser_a_encrypt(&mut words);
                    diffuser_b_encrypt(&mut words);
                    for (w, out) in words.iter().zip(data.chunks_mut(4)) {
                        out.copy_from_slice(&w.to_le_bytes());
                    }
                }
                let mut chain = fvek.of(offset as u128);
                for block in data.chunks_mut(16) {
                    for (b, c) in block.iter_mut().zip(chain) {
                        *b ^= c;
                    }
                    fvek.encrypt(block);
                    chain.copy_from_slice(block);
                }
            }
            SectorCipher::Xts128(x) => x.encrypt_sector(data, get_tweak_default(offset as u128 / SECTOR as u128)),
            SectorCipher::Xts256(x) => x.encrypt_sector(data, get_tweak_default(offset as u128 / SECTOR as u128)),
        }
    }
}

/// Ferguson's diffuser A runs, when decrypting, 5 cycles of d[i] += d[i-2] ^ (d[i-5] <<< R[i mod 4])
/// over the sector's 32-bit words (indices mod n), R = 9, 0, 13, 0; encrypting undoes them, last
/// step first.
fn diffuser_a_encrypt(d: &mut [u32]) {
    const R: [u32; 4] = [9, 0, 13, 0];
    let n = d.len();
    for _ in 0..5 {
        for i in (0..n).rev() {
            d[i] = d[i].wrapping_sub(d[(i + n - 2) % n] ^ d[(i + n - 5) % n].rotate_left(R[i % 4]));
        }
    }
}

/// Diffuser B, when decrypting: 3 cycles of d[i] += d[i+2] ^ (d[i+5] <<< R[i mod 4]),
/// R = 0, 10, 0, 25.
fn diffuser_b_encrypt(d: &mut [u32]) {
    const R: [u32; 4] = [0, 10, 0, 25];
    let n = d.len();
    for _ in 0..3 {
        for i in (0..n).rev() {
            d[i] = d[i].wrapping_sub(d[(i + 2) % n] ^ d[(i + 5) % n].rotate_left(R[i % 4]));
        }
    }
}

/// Seeded bytes: SHA-256 of a label, the seed and a counter.
struct Rng {
    seed: u64,
    n: u64,
}

impl Rng {
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 32);
        while out.len() < len {
            let mut h = Sha256::new();
            h.update(b"bitlocker_volume");
            h.update(self.seed.to_le_bytes());
            h.update(self.n.to_le_bytes());
            self.n += 1;
            out.extend_from_slice(&h.finalize());
        }
        out.truncate(len);
        out
    }
    fn key32(&mut self) -> [u8; 32] {
        self.bytes(32).try_into().unwrap_or_default()
    }
    fn guid(&mut self) -> [u8; 16] {
        let mut g: [u8; 16] = self.bytes(16).try_into().unwrap_or_default();
        g[7] = (g[7] & 0x0f) | 0x40;
        g[8] = (g[8] & 0x3f) | 0x80;
        g
    }
}

/// A GUID as Windows shows it (the first three fields little-endian), upper case.
fn guid_text(g: &[u8; 16]) -> String {
    let hex: String = g[10..].iter().map(|b| format!("{b:02X}")).collect();
    format!(
        "{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{hex}",
        u32::from_le_bytes([g[0], g[1], g[2], g[3]]),
        u16::from_le_bytes([g[4], g[5]]),
        u16::from_le_bytes([g[6], g[7]]),
        g[8],
        g[9]
    )
}

fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16().chain([0]).flat_map(u16::to_le_bytes).collect()
}

/// An FVE metadata entry: size (header included), entry type, value type, version 1, data.
fn entry(etype: u16, vtype: u16, data: &[u8]) -> Vec<u8> {
    let mut e = Vec::with_capacity(8 + data.len());
    e.extend_from_slice(&(8 + data.len() as u16).to_le_bytes());
    e.extend_from_slice(&etype.to_le_bytes());
    e.extend_from_slice(&vtype.to_le_bytes());
    e.extend_from_slice(&1u16.to_le_bytes());
    e.extend_from_slice(data);
    e
}

/// A key property: its method, then the key.
fn key_entry(method: u32, key: &[u8]) -> Vec<u8> {
    entry(E_PROPERTY, V_KEY, &[&method.to_le_bytes()[..], key].concat())
}

/// The AES-CCM encryptions of one metadata: nonces are the FILETIME and a counter.
struct Sealer {
    counter: u32,
}

impl Sealer {
    /// The value of an AES-CCM encrypted key entry: nonce time, nonce counter, then the encrypted
    /// MAC (16 bytes) and the encrypted `plain` (AES-256-CCM, 12-byte nonce).
    fn seal(&mut self, key: &[u8; 32], plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0; 12];
        nonce[..8].copy_from_slice(&FILETIME.to_le_bytes());
        nonce[8..].copy_from_slice(&self.counter.to_le_bytes());
        self.counter += 1;
        let mut body = plain.to_vec();
        let ccm = ccm::Ccm::<Aes256, U16, U12>::new(GenericArray::from_slice(key));
        let tag = ccm.encrypt_in_place_detached(GenericArray::from_slice(&nonce), b"", &mut body).expect("AES-CCM of a short key");
        [&nonce[..], &tag[..], &body[..]].concat()
    }
}

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// The key a password or recovery key unlocks: 2^20 rounds of SHA-256 over (last hash, initial
/// hash, salt, count), 88 bytes: two SHA-256 blocks, the second's padding written once (the
/// compression function is called directly: a debug build's generic hashing code took 6 s).
fn stretch(initial: [u8; 32], salt: &[u8; 16]) -> [u8; 32] {
    const IV: [u32; 8] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    let mut blocks = [[0u8; 64]; 2];
    blocks[0][32..].copy_from_slice(&initial);
    blocks[1][..16].copy_from_slice(salt);
    blocks[1][24] = 0x80;
    blocks[1][56..].copy_from_slice(&(88u64 * 8).to_be_bytes());
    for count in 0..1u64 << 20 {
        blocks[1][16..24].copy_from_slice(&count.to_le_bytes());
        let mut state = IV;
        sha2::compress256(&mut state, &blocks.map(GenericArray::from));
        for (k, w) in state.iter().enumerate() {
            blocks[0][4 * k..4 * k + 4].copy_from_slice(&w.to_be_bytes());
        }
    }
    blocks[0][..32].try_into().unwrap_or_default()
}

/// A recovery password's 16-byte key: each group of six digits is a multiple of 11 below
/// 65536 x 11 whose sixth digit is the checksum (d1 - d2 + d3 - d4 + d5) mod 11 (true of every
/// multiple of 11); group / 11 is a little-endian 16-bit piece of the key.
fn recovery_key(password: &str) -> Result<[u8; 16], String> {
    let groups: Vec<&str> = password.split('-').collect();
    let bad = || format!("not a recovery password (8 groups of 6 digits, each a multiple of 11): {password}");
    if groups.len() != 8 {
        return Err(bad());
    }
    let mut key = [0; 16];
    for (k, g) in groups.iter().enumerate() {
        let d: Vec<i32> = g.bytes().map(|b| b as i32 - '0' as i32).collect();
        if d.len() != 6 || d.iter().any(|x| !(0..=9).contains(x)) {
            return Err(bad());
        }
        let value: i32 = g.parse().map_err(|_| bad())?;
        if value % 11 != 0 || value >= 720_896 || (d[0] - d[1] + d[2] - d[3] + d[4]).rem_euclid(11) != d[5] {
            return Err(bad());
        }
        key[2 * k..2 * k + 2].copy_from_slice(&((value / 11) as u16).to_le_bytes());
    }
    Ok(key)
}

fn recovery_password_from(rng: &mut Rng) -> String {
    let b = rng.bytes(16);
    b.chunks(2).map(|c| format!("{:06}", u16::from_le_bytes([c[0], c[1]]) as u32 * 11)).collect::<Vec<_>>().join("-")
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Password,
    RecoveryPassword,
    StartupKey,
    ClearKey,
    Tpm,
    TpmPin,
}

struct Options {
    input: String,
    output: String,
    method: Method,
    password: Option<String>,
    recovery: Option<String>,
    startup_key: Option<String>,
    clear_key: bool,
    tpm: bool,
    tpm_pin: bool,
    encrypted_bytes: Option<u64>,
    state: String,
    vista: bool,
    seed: u64,
    description: String,
    manifest: Option<String>,
    damage_block: Option<usize>,
}

const USAGE: &str = "usage: bitlocker_volume --in PLAIN.img --out ENC.img --method aes-cbc-128|aes-cbc-256|aes-cbc-128-diffuser|aes-cbc-256-diffuser|aes-xts-128|aes-xts-256 [--password P] [--recovery-password DIGITS|auto] [--startup-key OUT.BEK|FOLDER] [--clear-key] [--tpm] [--tpm-pin] [--encrypted-bytes N] [--state encrypted|encrypting|encryption-paused|decrypting|decryption-paused] [--layout win7|vista] [--seed S] [--description TEXT] [--manifest OUT.json] [--damage-block 1|2|3]";

fn options() -> Result<Options, String> {
    let mut o = Options {
        input: String::new(),
        output: String::new(),
        method: Method::Xts128,
        password: None,
        recovery: None,
        startup_key: None,
        clear_key: false,
        tpm: false,
        tpm_pin: false,
        encrypted_bytes: None,
        state: String::new(),
        vista: false,
        seed: 0,
        description: "VHDVIEWER-TEST E: 1/1/2024".into(),
        manifest: None,
        damage_block: None,
    };
    let mut method = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--in" => o.input = value()?,
            "--out" => o.output = value()?,
            "--method" => {
                let v = value()?;
                method = Some(Method::ALL.iter().find(|m| m.1 == v).ok_or(format!("unknown method {v}"))?.0);
            }
            "--password" => o.password = Some(value()?),
            "--recovery-password" => o.recovery = Some(value()?),
            "--startup-key" => o.startup_key = Some(value()?),
            "--clear-key" => o.clear_key = true,
            "--tpm" => o.tpm = true,
            "--tpm-pin" => o.tpm_pin = true,
            "--encrypted-bytes" => o.encrypted_bytes = Some(value()?.parse().map_err(|_| "--encrypted-bytes takes a number")?),
            "--state" => o.state = value()?,
            "--layout" => match value()?.as_str() {
                "win7" => o.vista = false,
                "vista" => o.vista = true,
                v => return Err(format!("unknown layout {v}")),
            },
            "--seed" => o.seed = value()?.parse().map_err(|_| "--seed takes a number")?,
            "--description" => o.description = value()?,
            "--manifest" => o.manifest = Some(value()?),
            "--damage-block" => {
                o.damage_block = Some(value()?.parse().ok().filter(|n| (1..=3).contains(n)).ok_or("--damage-block takes 1, 2 or 3")?)
            }
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    o.method = method.ok_or("--method is required")?;
    if o.input.is_empty() || o.output.is_empty() {
        return Err("--in and --out are required".into());
    }
    if o.state.is_empty() {
        o.state = if o.encrypted_bytes.is_some() { "encrypting" } else { "encrypted" }.into();
    }
    Ok(o)
}

/// The (current, next) state codes of the metadata block header (dislocker's names).
fn state_codes(state: &str) -> Result<(u16, u16), String> {
    Ok(match state {
        "encrypted" => (4, 4),
        "encrypting" => (2, 4),
        "encryption-paused" => (5, 4),
        "decrypting" => (2, 1),
        "decryption-paused" => (5, 1),
        _ => return Err(format!("unknown state {state}")),
    })
}

/// Places of `size` bytes, aligned to `align`, all zero in `plain`, from `from` on.
fn zero_places(plain: &[u8], size: usize, align: usize, from: usize) -> Vec<usize> {
    (from.div_ceil(align) * align..plain.len().saturating_sub(size - 1))
        .step_by(align)
        .filter(|&p| plain[p..p + size].iter().all(|&b| b == 0))
        .collect()
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn run() -> Result<(), String> {
    let o = options()?;
    let plain = std::fs::read(&o.input).map_err(|e| format!("{}: {e}", o.input))?;
    let size = plain.len();
    if size % SECTOR != 0 || size < 1 << 20 {
        return Err(format!("{}: {size} bytes: a volume of whole sectors, 1 MiB at least", o.input));
    }
    let ntfs = &plain[3..11] == b"NTFS    ";
    if o.vista && !ntfs {
        return Err("the vista layout is NTFS's only".into());
    }
    let (cur_state, next_state) = state_codes(&o.state)?;
    let encrypted = o.encrypted_bytes.unwrap_or(size as u64);
    if encrypted % SECTOR as u64 != 0 || encrypted > size as u64 || (o.state != "encrypted") == (encrypted == size as u64) {
        return Err(format!(
            "--encrypted-bytes {encrypted}: whole sectors, below the volume's {size} bytes exactly when the state is not \"encrypted\""
        ));
    }
    if o.vista && encrypted != size as u64 {
        return Err("a partly encrypted volume is written in the win7 layout only".into());
    }
    let mut rng = Rng { seed: o.seed, n: 0 };

    // Where the metadata blocks and the boot sectors' copy go: all-zero places, spread.
    let cluster = (plain[13].max(1) as usize) * SECTOR;
    let block_size = if o.vista { 16 << 10 } else { 64 << 10 };
    let places = zero_places(&plain, block_size, block_size.max(cluster), 64 << 10);
    if places.len() < 3 + usize::from(!o.vista) {
        return Err(format!("{}: too few all-zero {block_size}-byte places for the metadata", o.input));
    }
    let n = places.len();
    let blocks = [places[n / 4], places[n / 2], places[3 * n / 4]];
    let in_blocks = |p: usize| blocks.iter().any(|&b| p < b + block_size && b < p + 8192);
    let header_copy = if o.vista {
        None
    } else {
        let free = zero_places(&plain, 8192, 8192, blocks[0] + block_size).into_iter().chain(zero_places(&plain, 8192, 8192, 8192));
        Some(free.into_iter().find(|&p| !in_blocks(p)).ok_or("no all-zero 8 KiB place for the boot sectors' copy")?)
    };

    // Keys.
    let volume_guid = rng.guid();
    let vmk = rng.key32();
    let fvek = rng.bytes(o.method.key_len());
    let fvek_data = match o.method {
        Method::Cbc128Diffuser => [&fvek[..16], &[0; 16], &fvek[32..48], &[0; 16]].concat(),
        _ => fvek.clone(),
    };
    let mut sealer = Sealer { counter: 1 };
    let vmk_plain = key_entry(M_VMK, &vmk);

    let mut kinds = Vec::new();
    for (on, kind) in [
        (o.clear_key, Kind::ClearKey),
        (o.tpm, Kind::Tpm),
        (o.tpm_pin, Kind::TpmPin),
        (o.startup_key.is_some(), Kind::StartupKey),
        (o.recovery.is_some(), Kind::RecoveryPassword),
        (o.password.is_some(), Kind::Password),
    ] {
        if on {
            kinds.push(kind);
        }
    }
    if kinds.is_empty() {
        return Err("at least one protector: --password, --recovery-password, --startup-key, --clear-key, --tpm, --tpm-pin".into());
    }

    let mut entries = Vec::new();
    let mut protectors = Vec::new();
    for kind in kinds {
        let id = rng.guid();
        let mut props = Vec::new();
        let mut info = json!({ "id": guid_text(&id) });
        let (code, name) = match kind {
            Kind::ClearKey => {
                let clear = rng.key32();
                props.extend(key_entry(M_VMK, &clear));
                props.extend(entry(E_PROPERTY, V_AES_CCM, &sealer.seal(&clear, &vmk_plain)));
                info["clear_key"] = hex(&clear).into();
                (0x0000, "clear-key")
            }
            Kind::Tpm | Kind::TpmPin => {
                if kind == Kind::TpmPin {
                    // The PIN's stretch key: a salt (what the PIN would be stretched with).
                    let salt: [u8; 16] = rng.bytes(16).try_into().unwrap_or_default();
                    props.extend(stretch_entry(0x1001, &salt, &rng.key32(), &mut sealer, &mut rng));
                }
                // In place of a TPM-sealed blob: 80 seeded bytes (no TPM can unseal them).
                props.extend(entry(E_PROPERTY, V_TPM, &rng.bytes(0x50)));
                if kind == Kind::Tpm {
                    (0x0100, "tpm")
                } else {
                    (0x0500, "tpm-pin")
                }
            }
            Kind::StartupKey => {
                let key = rng.key32();
                props.extend(entry(E_PROPERTY, V_STRING, &utf16z("ExternalKey")));
                props.extend(entry(E_PROPERTY, V_AES_CCM, &sealer.seal(&key, &vmk_plain)));
                // A folder gets the file under Windows' name for it, {ID}.BEK.
                let mut path = std::path::PathBuf::from(o.startup_key.as_deref().unwrap_or_default());
                if path.is_dir() {
                    path.push(format!("{}.BEK", guid_text(&id)));
                }
                std::fs::write(&path, bek_file(&id, &key)).map_err(|e| format!("{}: {e}", path.display()))?;
                info["bek_file"] = format!("{}.BEK", guid_text(&id)).into();
                info["bek_path"] = path.display().to_string().into();
                info["key"] = hex(&key).into();
                (0x0200, "startup-key")
            }
            Kind::RecoveryPassword => {
                let text = match o.recovery.as_deref() {
                    Some(t) if t != "auto" => t.to_string(),
                    _ => recovery_password_from(&mut rng),
                };
                let salt: [u8; 16] = rng.bytes(16).try_into().unwrap_or_default();
                let key = stretch(sha256(&recovery_key(&text)?), &salt);
                props.extend(stretch_entry(0x1000, &salt, &key, &mut sealer, &mut rng));
                props.extend(entry(E_PROPERTY, V_AES_CCM, &sealer.seal(&key, &vmk_plain)));
                info["recovery_password"] = text.into();
                (0x0800, "recovery-password")
            }
            Kind::Password => {
                let text = o.password.clone().unwrap_or_default();
                let salt: [u8; 16] = rng.bytes(16).try_into().unwrap_or_default();
                let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
                let key = stretch(sha256(&sha256(&utf16)), &salt);
                props.extend(stretch_entry(0x1001, &salt, &key, &mut sealer, &mut rng));
                props.extend(entry(E_PROPERTY, V_AES_CCM, &sealer.seal(&key, &vmk_plain)));
                info["password"] = text.into();
                (0x2000, "password")
            }
        };
        let mut value = id.to_vec();
        value.extend_from_slice(&FILETIME.to_le_bytes());
        value.extend_from_slice(&0u16.to_le_bytes());
        value.extend_from_slice(&(code as u16).to_le_bytes());
        value.extend(props);
        info["kind"] = name.into();
        info["type"] = code.into();
        info["entry_at"] = entries.len().into();
        entries.extend(entry(E_VMK, V_VMK, &value));
        protectors.push(info);
    }
    entries.extend(entry(E_FVEK, V_AES_CCM, &sealer.seal(&vmk, &key_entry(o.method.code(), &fvek_data))));
    if let Some(copy) = header_copy {
        entries.extend(entry(E_VOLUME_HEADER, V_OFFSET_SIZE, &[(copy as u64).to_le_bytes(), 8192u64.to_le_bytes()].concat()));
    }
    entries.extend(entry(E_DESCRIPTION, V_STRING, &utf16z(&o.description)));

    // The metadata block: block header, metadata header, entries, the validation (CRC-32).
    let metadata_size = 48 + entries.len();
    let mut block = vec![0u8; 64];
    block[..8].copy_from_slice(b"-FVE-FS-");
    let used = (64 + metadata_size).div_ceil(16) * 16;
    let size_field = if o.vista { used } else { used / 16 };
    block[8..10].copy_from_slice(&(size_field as u16).to_le_bytes());
    block[10..12].copy_from_slice(&(if o.vista { 1u16 } else { 2 }).to_le_bytes());
    block[12..14].copy_from_slice(&cur_state.to_le_bytes());
    block[14..16].copy_from_slice(&next_state.to_le_bytes());
    if !o.vista {
        block[16..24].copy_from_slice(&encrypted.to_le_bytes());
        block[28..32].copy_from_slice(&16u32.to_le_bytes());
    }
    for (k, b) in blocks.iter().enumerate() {
        block[32 + 8 * k..40 + 8 * k].copy_from_slice(&(*b as u64).to_le_bytes());
    }
    match header_copy {
        Some(copy) => block[56..64].copy_from_slice(&(copy as u64).to_le_bytes()),
        None => block[56..64].copy_from_slice(&plain[56..64]),
    }
    block.extend_from_slice(&(metadata_size as u32).to_le_bytes());
    block.extend_from_slice(&1u32.to_le_bytes());
    block.extend_from_slice(&48u32.to_le_bytes());
    block.extend_from_slice(&(metadata_size as u32).to_le_bytes());
    block.extend_from_slice(&volume_guid);
    block.extend_from_slice(&sealer.counter.to_le_bytes());
    block.extend_from_slice(&o.method.code().to_le_bytes());
    block.extend_from_slice(&FILETIME.to_le_bytes());
    block.extend_from_slice(&entries);
    block.resize(used, 0);
    let crc = crc32(&block);
    block.extend_from_slice(&8u16.to_le_bytes());
    block.extend_from_slice(&(if o.vista { 1u16 } else { 2 }).to_le_bytes());
    block.extend_from_slice(&crc.to_le_bytes());
    if block.len() > block_size {
        return Err(format!("the metadata ({} bytes) does not fit its {block_size}-byte block", block.len()));
    }

    // The volume: boot sector, metadata, sectors encrypted where they are stored.
    let cipher = SectorCipher::new(o.method, &fvek_data);
    let mut out = vec![0u8; size];
    let serial = rng.bytes(4);
    let boot = if o.vista {
        let mut b = plain[..SECTOR].to_vec();
        b[3..11].copy_from_slice(b"-FVE-FS-");
        b[56..64].copy_from_slice(&((blocks[0] / cluster) as u64).to_le_bytes());
        b
    } else {
        let mut b = vec![0u8; SECTOR];
        b[..3].copy_from_slice(&[0xeb, 0x58, 0x90]);
        b[3..11].copy_from_slice(b"-FVE-FS-");
        b[11..13].copy_from_slice(&(SECTOR as u16).to_le_bytes());
        b[13] = plain[13].max(1);
        b[21] = 0xf8;
        b[24] = 0x3f;
        b[26] = 0xff;
        b[28..32].copy_from_slice(&plain[28..32]);
        if !ntfs {
            // Windows leaves the sector count 0 over NTFS (a reader takes it from the NTFS boot
            // sector); over FAT it is written here, where libbde 20190102 looks for it.
            b[32..36].copy_from_slice(&((size / SECTOR) as u32).to_le_bytes());
        }
        b[36..40].copy_from_slice(&0x1fe0u32.to_le_bytes());
        b[48] = 1;
        b[50] = 6;
        b[64] = 0x80;
        b[66] = 0x29;
        b[67..71].copy_from_slice(&serial);
        b[71..82].copy_from_slice(b"NO NAME    ");
        b[82..90].copy_from_slice(b"FAT32   ");
        b[160..176].copy_from_slice(&BITLOCKER_ID);
        for (k, p) in blocks.iter().enumerate() {
            b[176 + 8 * k..184 + 8 * k].copy_from_slice(&(*p as u64).to_le_bytes());
        }
        b[510] = 0x55;
        b[511] = 0xaa;
        b
    };
    for p in (0..size).step_by(SECTOR) {
        let sector = &mut out[p..p + SECTOR];
        if blocks.iter().any(|&b| (b..b + block_size).contains(&p)) {
            continue;
        }
        if p == 0 {
            sector.copy_from_slice(&boot);
            continue;
        }
        if p < 8192 {
            if o.vista {
                sector.copy_from_slice(&plain[p..p + SECTOR]);
            }
            continue;
        }
        let source = match header_copy {
            Some(copy) if (copy..copy + 8192).contains(&p) => p - copy,
            _ => p,
        };
        sector.copy_from_slice(&plain[source..source + SECTOR]);
        if (p as u64) < encrypted {
            cipher.encrypt(sector, p as u64);
        }
    }
    for b in blocks {
        out[b..b + block.len()].copy_from_slice(&block);
    }
    // A damaged copy: one byte of the description's text in block N changed after its CRC-32 was
    // taken (the key entries intact), so that block disagrees with the other two and fails its check.
    let damaged = o.damage_block.map(|n| {
        let at = blocks[n - 1] + 64 + 48 + entries.len() - 4;
        out[at] ^= 0x20;
        at
    });
    if o.vista {
        // Vista keeps NTFS's last sector (its boot sector's copy) plain, as the changed boot
        // sector (dislocker reads it so; libbde leaves that sector out of the volume).
        out[size - SECTOR..].copy_from_slice(&boot);
    }
    std::fs::write(&o.output, &out).map_err(|e| format!("{}: {e}", o.output))?;

    if let Some(path) = &o.manifest {
        for p in &mut protectors {
            let at = p["entry_at"].as_u64().unwrap_or_default() as usize;
            p["offset"] = (blocks[0] + 64 + 48 + at).into();
            if let Some(map) = p.as_object_mut() {
                map.remove("entry_at");
            }
        }
        let manifest = json!({
            "layout": if o.vista { "vista" } else { "win7" },
            "version": if o.vista { 1 } else { 2 },
            "filesystem": if ntfs { "ntfs" } else { "fat" },
            "method": o.method.name(),
            "method_code": o.method.code(),
            "state": o.state,
            "state_codes": [cur_state, next_state],
            "volume_guid": guid_text(&volume_guid),
            "description": o.description,
            "created_filetime": FILETIME,
            "size": size,
            "encrypted_size": encrypted,
            "metadata_offsets": blocks,
            "metadata_block_size": block_size,
            "metadata_size": metadata_size,
            "volume_header_offset": header_copy,
            "volume_header_size": header_copy.map(|_| 8192),
            "vmk": hex(&vmk),
            "fvek": hex(&fvek_data),
            "protectors": protectors,
            "damaged_block": o.damage_block,
            "damaged_offset": damaged,
        });
        std::fs::write(path, serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n").map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}

/// A stretch key property: method, salt, then an AES-CCM entry (Windows writes one there; its
/// content is not documented, so this one seals seeded bytes with the stretched key).
fn stretch_entry(method: u32, salt: &[u8; 16], key: &[u8; 32], sealer: &mut Sealer, rng: &mut Rng) -> Vec<u8> {
    let inner = entry(E_PROPERTY, V_AES_CCM, &sealer.seal(key, &key_entry(M_VMK, &rng.key32())));
    entry(E_PROPERTY, V_STRETCH_KEY, &[&method.to_le_bytes()[..], salt, &inner].concat())
}

/// A `.BEK` file: a metadata header (version 1, 48 bytes) naming the key's ID, then the startup
/// key entry: an external key with that ID, its description and the 32-byte key.
fn bek_file(id: &[u8; 16], key: &[u8; 32]) -> Vec<u8> {
    let mut value = id.to_vec();
    value.extend_from_slice(&FILETIME.to_le_bytes());
    value.extend(entry(E_PROPERTY, V_STRING, &utf16z("ExternalKey")));
    value.extend(key_entry(M_VMK, key));
    let e = entry(E_STARTUP_KEY, V_EXTERNAL_KEY, &value);
    let size = 48 + e.len() as u32;
    let mut f = Vec::new();
    f.extend_from_slice(&size.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(&48u32.to_le_bytes());
    f.extend_from_slice(&size.to_le_bytes());
    f.extend_from_slice(id);
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(&0u32.to_le_bytes());
    f.extend_from_slice(&FILETIME.to_le_bytes());
    f.extend(e);
    f
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn main() {
    if let Err(e) = run() {
        eprintln!("bitlocker_volume: {e}\n{USAGE}");
        std::process::exit(2);
    }
}
