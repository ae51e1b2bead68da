//! BitLocker volumes: the `-FVE-FS-` boot sector (Vista's, Windows 7's and later, To Go's), the
//! three FVE metadata blocks and whether they agree, their entries (the volume master key's
//! protectors, the wrapped full-volume encryption key, the description, where the real boot
//! sectors went), described field by field ([`read`]); unlocked with a password, a recovery
//! password, a startup key file or a suspended volume's clear key ([`keys`]); and read as the
//! plain volume it hides, sector by sector ([`sectors`]), so that the file systems above read it
//! as any other.
//!
//! Learnt from libbde's format notes ("BitLocker Drive Encryption (BDE) format") and dislocker's
//! sources; written here from them. Offsets in structures and findings are virtual-disk byte
//! offsets; those inside the volume (the metadata's) are relative to the volume's start.

pub mod keys;
pub mod sectors;

use serde::Serialize;

use crate::bytes::{le16, le32, le64, utf16le_nul, Guid};
use crate::error::{BitLockerError, Result};
use crate::fields::{Raw, Structure};
use crate::finding::Finding;
use crate::fs::{ReadVirtual, Volume};

pub use crate::fs::{is_bitlocker, BITLOCKER_GUID, BITLOCKER_SIGNATURE as SIGNATURE};
pub use keys::{Key, Unlock, VolumeKey};

/// The most bytes of one metadata block read (its header, the metadata header and entries).
pub const MAX_METADATA: usize = 64 << 10;
/// The most entries read from one metadata block, and nested in one entry.
const MAX_ENTRIES: usize = 512;
/// Bytes of the block header, then of the metadata header.
const BLOCK_HEADER: usize = 64;
const METADATA_HEADER: usize = 48;

/// Which BitLocker wrote the volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Version {
    /// Windows Vista: metadata block header version 1, the boot sector kept in place.
    Vista,
    /// Windows 7 and later: version 2, the boot sectors moved (encrypted) elsewhere.
    Windows7,
    /// BitLocker To Go on a FAT volume (version 2 behind a FAT32-looking boot sector).
    ToGo,
}

/// How the sectors are encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Method {
    /// AES-CBC with a 128-bit key and the Elephant diffuser (0x8000).
    #[serde(rename = "aes-cbc-128-diffuser")]
    AesCbc128Diffuser,
    /// AES-CBC with a 256-bit key and the Elephant diffuser (0x8001).
    #[serde(rename = "aes-cbc-256-diffuser")]
    AesCbc256Diffuser,
    /// AES-CBC with a 128-bit key (0x8002).
    #[serde(rename = "aes-cbc-128")]
    AesCbc128,
    /// AES-CBC with a 256-bit key (0x8003).
    #[serde(rename = "aes-cbc-256")]
    AesCbc256,
    /// AES-XTS with two 128-bit keys (0x8004).
    #[serde(rename = "aes-xts-128")]
    AesXts128,
    /// AES-XTS with two 256-bit keys (0x8005).
    #[serde(rename = "aes-xts-256")]
    AesXts256,
}

impl Method {
    /// The method of this value of the metadata's field (its low 16 bits).
    pub fn from_value(v: u32) -> Option<Method> {
        Some(match v & 0xffff {
            0x8000 => Method::AesCbc128Diffuser,
            0x8001 => Method::AesCbc256Diffuser,
            0x8002 => Method::AesCbc128,
            0x8003 => Method::AesCbc256,
            0x8004 => Method::AesXts128,
            0x8005 => Method::AesXts256,
            _ => return None,
        })
    }

    /// Its name in `parts --json`.
    pub fn name(self) -> &'static str {
        match self {
            Method::AesCbc128Diffuser => "aes-cbc-128-diffuser",
            Method::AesCbc256Diffuser => "aes-cbc-256-diffuser",
            Method::AesCbc128 => "aes-cbc-128",
            Method::AesCbc256 => "aes-cbc-256",
            Method::AesXts128 => "aes-xts-128",
            Method::AesXts256 => "aes-xts-256",
        }
    }
}

/// Where the volume is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Wholly encrypted, protected by its key protectors.
    Encrypted,
    /// Wholly encrypted, but with a clear key on the volume: protection suspended.
    Suspended,
    /// Decrypted (the metadata is still there).
    Decrypted,
    /// Being encrypted: the front is encrypted, the rest still plain.
    Encrypting,
    /// Encryption paused part way.
    EncryptionPaused,
    /// Being decrypted: the front is still encrypted, the rest already plain.
    Decrypting,
    /// Decryption paused part way.
    DecryptionPaused,
}

/// What kind of key protects a copy of the volume master key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProtectorKind {
    /// The key itself, in the clear: protection suspended (0x0000).
    ClearKey,
    /// The TPM (0x0100).
    Tpm,
    /// A startup key in a `.BEK` file (0x0200).
    StartupKey,
    /// The TPM and a PIN (0x0500).
    TpmPin,
    /// A 48-digit recovery password (0x0800).
    RecoveryPassword,
    /// A password (0x2000).
    Password,
    /// Another value (kept as it is).
    Other,
}

impl ProtectorKind {
    fn from_value(v: u16) -> ProtectorKind {
        match v {
            0x0000 => ProtectorKind::ClearKey,
            0x0100 => ProtectorKind::Tpm,
            0x0200 => ProtectorKind::StartupKey,
            0x0500 => ProtectorKind::TpmPin,
            0x0800 => ProtectorKind::RecoveryPassword,
            0x2000 => ProtectorKind::Password,
            _ => ProtectorKind::Other,
        }
    }

    /// In words.
    pub fn words(self) -> &'static str {
        match self {
            ProtectorKind::ClearKey => "clear key",
            ProtectorKind::Tpm => "TPM",
            ProtectorKind::StartupKey => "startup key",
            ProtectorKind::TpmPin => "TPM and PIN",
            ProtectorKind::RecoveryPassword => "recovery password",
            ProtectorKind::Password => "password",
            ProtectorKind::Other => "other",
        }
    }
}

/// A key wrapped with AES-CCM: its nonce, its tag and the encrypted bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Wrapped {
    /// Virtual-disk byte offset of the entry.
    pub offset: u64,
    /// The 12-byte nonce (a FILETIME and a counter).
    pub nonce: [u8; 12],
    /// The 16-byte message authentication code.
    pub tag: [u8; 16],
    /// The encrypted key datum.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Wrapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Wrapped {{ offset: {:#x}, {} bytes }}", self.offset, self.data.len())
    }
}

/// One copy of the volume master key and what protects it.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Protector {
    /// Its kind.
    pub kind: ProtectorKind,
    /// The protection type's value.
    pub value: u16,
    /// Its identifier as Windows shows it (`{6A5C…}`, upper case in braces).
    pub id: String,
    /// Virtual-disk byte offset of its entry.
    pub offset: u64,
    /// When it was last changed (ISO 8601), if the time is a valid one.
    pub modified: Option<String>,
    /// Its stretch key's salt (password and recovery password).
    #[serde(skip)]
    pub salt: Option<[u8; 16]>,
    /// The volume master key, wrapped.
    #[serde(skip)]
    pub wrapped: Option<Wrapped>,
    /// The key that unwraps it, when it is a clear key.
    #[serde(skip)]
    pub clear_key: Option<[u8; 32]>,
    /// Its identifier's bytes.
    #[serde(skip)]
    pub guid: Guid,
}

impl std::fmt::Debug for Protector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Protector {{ {:?} {} at {:#x} }}", self.kind, self.id, self.offset)
    }
}

/// A GUID as Windows shows a protector's: upper case, in braces.
pub fn windows_guid(g: &Guid) -> String {
    format!("{{{}}}", g.to_string().to_uppercase())
}

/// A BitLocker volume's metadata, read from its boot sector and metadata blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitLocker {
    /// Which BitLocker wrote it.
    pub version: Version,
    /// Bytes per sector (the boot sector's).
    pub sector_size: u32,
    /// The three metadata blocks' offsets from the volume's start.
    pub blocks: [u64; 3],
    /// Which of them was read (0-2).
    pub block_read: usize,
    /// The encryption method.
    pub method: Option<Method>,
    /// The method field's value and its virtual-disk offset.
    pub method_value: (u32, u64),
    /// The state.
    pub state: State,
    /// Bytes from the volume's start that are encrypted (the rest is plain).
    pub encrypted_size: u64,
    /// The volume's size.
    pub volume_size: u64,
    /// Where the original boot sectors are kept (encrypted), from the volume's start (Windows 7+).
    pub header_offset: u64,
    /// How many bytes of them.
    pub header_size: u64,
    /// Vista: the MFT mirror's cluster, which the boot sector's field at 56 held.
    pub mft_mirror: u64,
    /// Bytes each metadata block's area takes (shown as zeros in the unlocked volume).
    pub block_area: u64,
    /// The volume's identifier.
    pub guid: Guid,
    /// The description (computer name, drive and date), if there is one.
    pub description: Option<String>,
    /// When it was encrypted (ISO 8601).
    pub created: Option<String>,
    /// The protectors.
    pub protectors: Vec<Protector>,
    /// The full-volume encryption key, wrapped with the volume master key.
    pub fvek: Option<Wrapped>,
    /// The structures, field by field (virtual-disk offsets).
    pub structures: Vec<Structure>,
    /// What is wrong or worth knowing.
    pub findings: Vec<Finding>,
}

/// What `parts --json` says of a BitLocker partition (its `bitlocker` object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The method's name (`aes-xts-128`, ...), or `unknown`.
    pub method: &'static str,
    /// The state: `suspended` when wholly encrypted with a clear key on the volume.
    pub state: State,
    /// True when a clear key is on the volume: protection is off, and it opens without a key.
    pub suspended: bool,
    /// Which BitLocker wrote it.
    pub version: Version,
    /// The volume's identifier.
    pub volume_id: String,
    /// The description.
    pub description: Option<String>,
    /// Bytes from the start that are encrypted.
    pub encrypted_bytes: u64,
    /// Percent of the volume encrypted (100 when wholly).
    pub percent_encrypted: u32,
    /// The key protectors.
    pub protectors: Vec<Protector>,
    /// Once unlocked, the file system inside (`ntfs`, `fat32`, ...), or `null` while locked.
    pub unlocked: Option<&'static str>,
}

impl Summary {
    /// In one line, as `parts` and the report say it: the version, method, state (and how far
    /// a conversion got), each protector with its ID, and the file system inside once unlocked.
    pub fn words(&self) -> String {
        let version = match self.version {
            Version::Vista => "Vista",
            Version::Windows7 => "Windows 7+",
            Version::ToGo => "To Go",
        };
        let state = match self.state {
            State::Encrypted => "encrypted",
            State::Suspended => "suspended (a clear key is on the volume)",
            State::Decrypted => "decrypted",
            State::Encrypting => "encrypting",
            State::EncryptionPaused => "encryption paused",
            State::Decrypting => "decrypting",
            State::DecryptionPaused => "decryption paused",
        };
        let partly = if self.percent_encrypted < 100 { format!(", {}% encrypted", self.percent_encrypted) } else { String::new() };
        let protectors: Vec<String> = self.protectors.iter().map(|p| format!("{} {}", p.kind.words(), p.id)).collect();
        let inside = match self.unlocked {
            Some(fs) => format!("unlocked: {fs}"),
            None => "locked".to_string(),
        };
        format!(
            "BitLocker ({version}) {}, {state}{partly}; protectors: {}; {inside}",
            self.method,
            if protectors.is_empty() { "none".to_string() } else { protectors.join(", ") }
        )
    }
}

impl BitLocker {
    /// Its `parts --json` summary (locked).
    pub fn summary(&self) -> Summary {
        let percent = if self.volume_size == 0 {
            0
        } else {
            (u128::from(self.encrypted_size.min(self.volume_size)) * 100 / u128::from(self.volume_size)) as u32
        };
        Summary {
            method: self.method.map_or("unknown", Method::name),
            state: self.state,
            suspended: self.protectors.iter().any(|p| p.kind == ProtectorKind::ClearKey),
            version: self.version,
            volume_id: windows_guid(&self.guid),
            description: self.description.clone(),
            encrypted_bytes: self.encrypted_size,
            percent_encrypted: percent,
            protectors: self.protectors.clone(),
            unlocked: None,
        }
    }
}

/// One metadata entry: where it is in the bytes read and its parts.
#[derive(Debug, Clone, Copy)]
struct Entry<'a> {
    at: usize,
    etype: u16,
    vtype: u16,
    data: &'a [u8],
}

/// The entries of `b` (a run of them), stopping at a zero size; a size that does not fit is a
/// finding at `base + at`.
fn entries<'a>(b: &'a [u8], at0: usize, base: u64, findings: &mut Vec<Finding>) -> Vec<Entry<'a>> {
    let mut out = Vec::new();
    let mut at = at0;
    while at + 8 <= b.len() && out.len() < MAX_ENTRIES {
        let size = usize::from(le16(b, at));
        if size == 0 {
            break;
        }
        if size < 8 || at + size > b.len() {
            findings.push(Finding::error(
                "bitlocker-entry-size",
                base + at as u64,
                format!(
                    "a BitLocker metadata entry's size {size} is {}: the entries after it are not read",
                    if size < 8 { "less than its 8-byte header" } else { "past the end of the metadata" }
                ),
            ));
            break;
        }
        out.push(Entry { at, etype: le16(b, at + 2), vtype: le16(b, at + 4), data: &b[at + 8..at + size] });
        at += size;
    }
    out
}

/// A wrapped key from an AES-CCM entry's data (value type 5).
fn wrapped(e: &Entry, base: u64) -> Option<Wrapped> {
    if e.vtype != 5 || e.data.len() < 12 + 16 {
        return None;
    }
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&e.data[..12]);
    let mut tag = [0u8; 16];
    tag.copy_from_slice(&e.data[12..28]);
    Some(Wrapped { offset: base + e.at as u64, nonce, tag, data: e.data[28..].to_vec() })
}

fn filetime(t: u64) -> Option<String> {
    crate::fs::ntfs::nt_time(t).map(crate::fs::iso8601)
}

/// The boot sector's facts: version, sector size, the metadata blocks' offsets.
struct Boot {
    version: Version,
    sector_size: u32,
    sectors_per_cluster: u32,
    blocks: [u64; 3],
}

fn boot(b: &[u8], base: u64, structures: &mut Vec<Structure>) -> Boot {
    let sector_size = u32::from(le16(b, 11));
    let spc = u32::from(b[13]);
    let togo = b.get(3..11) == Some(b"MSWIN4.1");
    let vista = !togo && b[0..3] == [0xeb, 0x52, 0x90];
    let raw = Raw { base, bytes: b };
    let mut s = Structure { name: "BitLocker boot sector".into(), offset: base, fields: Vec::new() };
    s.fields.push(raw.row(
        (3, 8),
        "signature",
        "Signature",
        String::from_utf8_lossy(&b[3..11]).into_owned(),
        "-FVE-FS- (To Go: MSWIN4.1 and the To Go identifier at 424)",
        true,
    ));
    s.fields.push(raw.row(
        (11, 2),
        "bytes_per_sector",
        "Bytes per sector",
        sector_size.to_string(),
        "the unit of the volume's sectors",
        matches!(sector_size, 512 | 1024 | 2048 | 4096),
    ));
    s.fields.push(raw.row(
        (13, 1),
        "sectors_per_cluster",
        "Sectors per cluster",
        spc.to_string(),
        "Vista: the unit of the metadata block's cluster number",
        true,
    ));
    let (version, blocks) = if vista {
        let c = le64(b, 56);
        let bytes = u64::from(spc) * u64::from(sector_size);
        s.fields.push(raw.row(
            (56, 8),
            "fve_metadata_cluster",
            "FVE metadata block 1 cluster",
            c.to_string(),
            "Vista: the cluster of the first metadata block (the others are named by it)",
            true,
        ));
        (Version::Vista, [c.saturating_mul(bytes), 0, 0])
    } else {
        let at = if togo { 424 } else { 160 };
        s.fields.push(raw.row(
            (at, 16),
            "bitlocker_id",
            "BitLocker identifier",
            Guid::at(b, at).to_string(),
            "4967d63b-2e29-4ad8-8399-f6a339e3d001: BitLocker",
            Guid::at(b, at).0[..15] == BITLOCKER_GUID.0[..15],
        ));
        let names = [
            ("fve_metadata_1", "FVE metadata block 1 offset"),
            ("fve_metadata_2", "FVE metadata block 2 offset"),
            ("fve_metadata_3", "FVE metadata block 3 offset"),
        ];
        let mut blocks = [0u64; 3];
        for (i, (key, name)) in names.iter().enumerate() {
            blocks[i] = le64(b, at + 16 + 8 * i);
            s.fields.push(raw.row((at + 16 + 8 * i, 8), key, name, format!("{:#x}", blocks[i]), "bytes from the volume's start", true));
        }
        (if togo { Version::ToGo } else { Version::Windows7 }, blocks)
    };
    structures.push(s);
    Boot { version, sector_size, sectors_per_cluster: spc, blocks }
}

/// One metadata block as read: its bytes (block header, metadata header, entries), from the
/// volume's offset `at`.
fn read_block<R: ReadVirtual>(vol: &mut Volume<R>, at: u64) -> std::result::Result<Vec<u8>, String> {
    if at == 0 || at.checked_add((BLOCK_HEADER + METADATA_HEADER) as u64).map_or(true, |e| e > vol.len()) {
        return Err(format!("its offset {at:#x} is outside the volume"));
    }
    let head = vol.read_vec(at, BLOCK_HEADER + METADATA_HEADER).map_err(|e| e.to_string())?;
    if &head[..8] != SIGNATURE {
        return Err("it has no -FVE-FS- signature".into());
    }
    let size = le32(&head, BLOCK_HEADER) as usize;
    if !(METADATA_HEADER..=MAX_METADATA - BLOCK_HEADER).contains(&size) {
        return Err(format!("its metadata size {size} is not between {METADATA_HEADER} and {}", MAX_METADATA - BLOCK_HEADER));
    }
    if at + (BLOCK_HEADER + size) as u64 > vol.len() {
        return Err(format!("its {size} bytes of metadata reach past the volume's end"));
    }
    // The validation after it (its CRC-32), when the volume holds it.
    let with = (BLOCK_HEADER + size + 24).min((vol.len() - at) as usize);
    let mut bytes = vol.read_vec(at, with).map_err(|e| e.to_string())?;
    if let Some((used, false)) = validation(&bytes) {
        return Err(format!("its CRC-32 (at its byte {}) does not match its first {used} bytes: it is damaged", used + 4));
    }
    bytes.truncate(BLOCK_HEADER + size);
    Ok(bytes)
}

/// A metadata block's validation: where the bytes it covers end and whether its CRC-32 matches
/// them; `None` when the block has none where its header's size says (8 bytes: size 8, version,
/// CRC-32 of the block's bytes before it; the size is in bytes for Vista, in 16-byte units after).
fn validation(b: &[u8]) -> Option<(usize, bool)> {
    let f = usize::from(le16(b, 8));
    let used = if le16(b, 10) == 1 { f } else { f * 16 };
    if used < BLOCK_HEADER + METADATA_HEADER || used + 8 > b.len() || le16(b, used) != 8 {
        return None;
    }
    Some((used, crate::bytes::crc32(&b[..used]) == le32(b, used + 4)))
}

/// Reads the BitLocker metadata of the volume `vol` (a partition's window; its first sector is
/// the BitLocker boot sector). Damage that leaves one metadata block readable is a finding;
/// none readable is an error.
pub fn read<R: ReadVirtual>(vol: &mut Volume<R>) -> Result<BitLocker> {
    let base = vol.start();
    let mut structures = Vec::new();
    let mut findings = Vec::new();
    let mut b = [0u8; 512];
    vol.read_at(0, &mut b)?;
    let mut boot = boot(&b, base, &mut structures);
    if !matches!(boot.sector_size, 512 | 1024 | 2048 | 4096) {
        findings.push(Finding::error(
            "bitlocker-sector-size",
            base + 11,
            format!("the BitLocker boot sector's bytes per sector {} is none of 512, 1024, 2048, 4096: read as 512", boot.sector_size),
        ));
        boot.sector_size = 512;
    }
    let mut blocks = boot.blocks;
    let mut got: Option<(usize, Vec<u8>)> = None;
    let mut first_why = None;
    let mut datas: Vec<Option<Vec<u8>>> = vec![None, None, None];
    let mut i = 0;
    while i < 3 {
        match read_block(vol, blocks[i]) {
            Ok(bytes) => {
                if boot.version == Version::Vista && i == 0 {
                    // Vista names the other two blocks only in the first block's header.
                    blocks = [blocks[0], le64(&bytes, 40), le64(&bytes, 48)];
                }
                if got.is_none() {
                    got = Some((i, bytes.clone()));
                }
                datas[i] = Some(bytes);
            }
            Err(why) => {
                findings.push(Finding::error(
                    "bitlocker-metadata-block",
                    base.saturating_add(blocks[i]),
                    format!("BitLocker metadata block {} at byte {:#x} of the volume cannot be read: {why}", i + 1, blocks[i]),
                ));
                first_why.get_or_insert(why);
            }
        }
        i += 1;
    }
    let Some((block_read, m)) = got else {
        return Err(BitLockerError::NoMetadata { offset: base, why: first_why.unwrap_or_default() }.into());
    };
    // The three copies must agree (from byte 16 of the header on: the first 16 hold states
    // that the copies share, the rest offsets and entries).
    for (j, d) in datas.iter().enumerate() {
        if let Some(d) = d {
            if j != block_read && d[..] != m[..] {
                let at = d.iter().zip(m.iter()).position(|(a, b)| a != b).unwrap_or(d.len().min(m.len()));
                findings.push(Finding::error(
                    "bitlocker-metadata-differ",
                    base + blocks[j] + at as u64,
                    format!(
                        "BitLocker metadata block {} differs from block {} from its byte {at} on: block {} is the one read",
                        j + 1,
                        block_read + 1,
                        block_read + 1
                    ),
                ));
            }
        }
    }
    let at_block = base + blocks[block_read];
    let raw = Raw { base: at_block, bytes: &m };
    let hv = le16(&m, 10);
    let (curr, next) = (le16(&m, 12), le16(&m, 14));
    let mut s = Structure { name: format!("FVE metadata block {} (read)", block_read + 1), offset: at_block, fields: Vec::new() };
    s.fields.push(raw.row((0, 8), "signature", "Signature", String::from_utf8_lossy(&m[..8]).into_owned(), "-FVE-FS-", true));
    s.fields.push(raw.row((10, 2), "version", "Version", hv.to_string(), "1: Vista; 2: Windows 7 and later", matches!(hv, 1 | 2)));
    s.fields.push(raw.row(
        (12, 2),
        "current_state",
        "Current state",
        state_words(curr).into(),
        "1 decrypted, 2 converting, 4 encrypted, 5 conversion paused",
        true,
    ));
    s.fields.push(raw.row((14, 2), "next_state", "Next state", state_words(next).into(), "where a conversion goes", true));
    let volume_size = vol.len();
    let (encrypted_size, header_sectors, header_offset, mft_mirror) = if hv >= 2 {
        s.fields.push(raw.row(
            (16, 8),
            "encrypted_size",
            "Encrypted volume size",
            le64(&m, 16).to_string(),
            "bytes from the volume's start that are encrypted",
            true,
        ));
        s.fields.push(raw.row(
            (28, 4),
            "header_sectors",
            "Volume header sectors",
            le32(&m, 28).to_string(),
            "how many of the first sectors are kept elsewhere",
            true,
        ));
        s.fields.push(raw.row(
            (56, 8),
            "header_offset",
            "Volume header offset",
            format!("{:#x}", le64(&m, 56)),
            "where the original first sectors are kept (encrypted)",
            true,
        ));
        (le64(&m, 16), u64::from(le32(&m, 28)), le64(&m, 56), 0)
    } else {
        s.fields.push(raw.row(
            (56, 8),
            "mft_mirror",
            "MFT mirror cluster",
            le64(&m, 56).to_string(),
            "Vista: the boot sector's value this field replaced",
            true,
        ));
        (volume_size, 0, 0, le64(&m, 56))
    };
    for k in 0..3 {
        s.fields.push(raw.row(
            (32 + 8 * k, 8),
            ["block_1", "block_2", "block_3"][k],
            ["FVE metadata block 1 offset", "FVE metadata block 2 offset", "FVE metadata block 3 offset"][k],
            format!("{:#x}", le64(&m, 32 + 8 * k)),
            "bytes from the volume's start",
            le64(&m, 32 + 8 * k) == blocks[k],
        ));
    }
    let h = BLOCK_HEADER;
    let method_value = le32(&m, h + 36);
    let method = Method::from_value(method_value);
    let guid = Guid::at(&m, h + 16);
    s.fields.push(raw.row(
        (h, 4),
        "metadata_size",
        "Metadata size",
        le32(&m, h).to_string(),
        "bytes of the metadata header and its entries",
        true,
    ));
    s.fields.push(raw.row((h + 4, 4), "metadata_version", "Metadata version", le32(&m, h + 4).to_string(), "1", le32(&m, h + 4) == 1));
    s.fields.push(raw.row((h + 16, 16), "volume_id", "Volume identifier", windows_guid(&guid), "the volume's GUID", true));
    s.fields.push(raw.row(
        (h + 36, 4),
        "encryption_method",
        "Encryption method",
        method.map_or_else(|| format!("{method_value:#x} (unknown)"), |x| x.name().into()),
        "0x8000-1 AES-CBC + diffuser, 0x8002-3 AES-CBC, 0x8004-5 AES-XTS",
        method.is_some(),
    ));
    s.fields.push(raw.row(
        (h + 40, 8),
        "created",
        "Creation time",
        filetime(le64(&m, h + 40)).unwrap_or_default(),
        "when the volume was encrypted",
        true,
    ));
    structures.push(s);
    if method.is_none() && curr != 1 {
        findings.push(Finding::error(
            "bitlocker-method",
            at_block + (h + 36) as u64,
            format!("BitLocker encryption method {method_value:#x} is none known"),
        ));
    }

    let mut protectors = Vec::new();
    let mut fvek = None;
    let mut description = None;
    let mut virt = None;
    for e in entries(&m, h + METADATA_HEADER, at_block, &mut findings) {
        let at = at_block + e.at as u64;
        match (e.etype, e.vtype) {
            (2, 8) if e.data.len() >= 28 => {
                let p = protector(&e, at_block, &mut findings);
                structures.push(Structure {
                    name: format!("Key protector: {} {}", p.kind.words(), p.id),
                    offset: at,
                    fields: vec![
                        Raw { base: at, bytes: &m[e.at..e.at + 8 + e.data.len()] }.row(
                            (8, 16),
                            "id",
                            "Key identifier",
                            p.id.clone(),
                            "as Windows shows it",
                            true,
                        ),
                        Raw { base: at, bytes: &m[e.at..e.at + 8 + e.data.len()] }.row(
                            (34, 2),
                            "protection",
                            "Protection type",
                            format!("{:#06x} ({})", p.value, p.kind.words()),
                            "0 clear key, 0x100 TPM, 0x200 startup key, 0x500 TPM+PIN, 0x800 recovery password, 0x2000 password",
                            p.kind != ProtectorKind::Other,
                        ),
                    ],
                });
                protectors.push(p);
            }
            (3, 5) => {
                fvek = wrapped(&e, at_block);
                structures.push(Structure {
                    name: "Full-volume encryption key (wrapped)".into(),
                    offset: at,
                    fields: vec![Raw { base: at, bytes: &m[e.at..e.at + 8 + e.data.len()] }.row(
                        (20, 16),
                        "tag",
                        "AES-CCM tag",
                        String::new(),
                        "checks the key once unwrapped with the volume master key",
                        true,
                    )],
                });
            }
            (7, 2) => {
                let d = utf16le_nul(e.data);
                structures.push(Structure {
                    name: "Description".into(),
                    offset: at,
                    fields: vec![Raw { base: at, bytes: &m[e.at..e.at + 8 + e.data.len()] }.row(
                        (8, e.data.len()),
                        "description",
                        "Description",
                        d.clone(),
                        "computer name, drive and date",
                        true,
                    )],
                });
                description = Some(d);
            }
            (15, 15) if e.data.len() >= 16 => virt = Some((le64(e.data, 0), le64(e.data, 8))),
            _ => {}
        }
    }
    if fvek.is_none() {
        findings.push(Finding::error(
            "bitlocker-no-fvek",
            at_block,
            "the BitLocker metadata holds no wrapped full-volume encryption key: the volume cannot be unlocked",
        ));
    }
    if protectors.is_empty() {
        findings.push(Finding::error(
            "bitlocker-no-protector",
            at_block,
            "the BitLocker metadata holds no key protector: the volume cannot be unlocked",
        ));
    }
    let sector = u64::from(boot.sector_size);
    let (header_offset, header_size) = match (hv, virt) {
        (1, _) => (0, 0),
        (_, Some((o, n))) => (o, n),
        _ => (header_offset, header_sectors.saturating_mul(sector)),
    };
    let block_area = if hv == 1 {
        let c = u64::from(boot.sectors_per_cluster.max(1)) * sector;
        (c + 0x3fff) & !(c - 1)
    } else {
        (sector + 0xffff) & !(sector - 1)
    };
    let clear = protectors.iter().any(|p| p.kind == ProtectorKind::ClearKey);
    let state = match curr {
        1 => State::Decrypted,
        4 if clear => State::Suspended,
        4 => State::Encrypted,
        5 if next == 1 => State::DecryptionPaused,
        5 => State::EncryptionPaused,
        _ if next == 1 => State::Decrypting,
        _ => State::Encrypting,
    };
    if !matches!(curr, 1 | 2 | 4 | 5) {
        findings.push(Finding::warning(
            "bitlocker-state",
            at_block + 12,
            format!("BitLocker state {curr} is none known; read as a conversion under way"),
        ));
    }
    if state != State::Decrypted && encrypted_size > volume_size {
        findings.push(Finding::error(
            "bitlocker-encrypted-size",
            at_block + 16,
            format!("the encrypted size {encrypted_size} is more than the volume's {volume_size} bytes"),
        ));
    }
    Ok(BitLocker {
        version: if hv == 1 { Version::Vista } else { boot.version },
        sector_size: boot.sector_size,
        blocks,
        block_read,
        method,
        method_value: (method_value, at_block + (h + 36) as u64),
        state,
        encrypted_size: if state == State::Decrypted { 0 } else { encrypted_size.min(volume_size) },
        volume_size,
        header_offset,
        header_size,
        mft_mirror,
        block_area,
        guid,
        description,
        created: filetime(le64(&m, h + 40)),
        protectors,
        fvek,
        structures,
        findings,
    })
}

fn state_words(v: u16) -> &'static str {
    match v {
        1 => "1 (decrypted)",
        2 => "2 (converting)",
        3 => "3 (encrypt-on-write)",
        4 => "4 (encrypted)",
        5 => "5 (conversion paused)",
        _ => "unknown",
    }
}

/// A volume master key entry's protector.
fn protector(e: &Entry, base: u64, findings: &mut Vec<Finding>) -> Protector {
    let d = e.data;
    let guid = Guid::at(d, 0);
    let value = le16(d, 26);
    let mut p = Protector {
        kind: ProtectorKind::from_value(value),
        value,
        id: windows_guid(&guid),
        offset: base + e.at as u64,
        modified: filetime(le64(d, 16)),
        salt: None,
        wrapped: None,
        clear_key: None,
        guid,
    };
    // The nested entries start after the VMK's 28 bytes, i.e. at e.at + 8 + 28 in the block.
    let nested_base = base + e.at as u64 + 8 + 28;
    for n in entries(&d[28..], 0, nested_base, findings) {
        match n.vtype {
            1 if n.data.len() >= 4 + 32 => {
                let mut k = [0u8; 32];
                k.copy_from_slice(&n.data[4..36]);
                p.clear_key = Some(k);
            }
            3 if n.data.len() >= 20 => {
                let mut s = [0u8; 16];
                s.copy_from_slice(&n.data[4..20]);
                p.salt = Some(s);
            }
            5 => p.wrapped = wrapped(&n, nested_base),
            _ => {}
        }
    }
    if p.wrapped.is_none()
        && matches!(p.kind, ProtectorKind::ClearKey | ProtectorKind::StartupKey | ProtectorKind::Password | ProtectorKind::RecoveryPassword)
    {
        findings.push(Finding::error(
            "bitlocker-protector",
            p.offset,
            format!("the {} protector {} holds no wrapped volume master key", p.kind.words(), p.id),
        ));
    }
    p
}
