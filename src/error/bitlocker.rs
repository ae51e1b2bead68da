//! Why a BitLocker volume could not be described or unlocked: one variant per condition, each
//! with the virtual-disk byte offset it concerns where there is one. [`crate::Error::BitLocker`]
//! carries one.

use std::fmt;

/// A condition met reading or unlocking a BitLocker volume.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BitLockerError {
    /// None of the three FVE metadata blocks could be read (`bitlocker-metadata`).
    NoMetadata {
        /// Where the volume starts on the virtual disk.
        offset: u64,
        /// Why the first block named could not be read.
        why: String,
    },
    /// The volume has no key protector of the kind the key given opens (`bitlocker-no-protector`).
    NoProtector {
        /// Where the metadata block read starts on the virtual disk.
        offset: u64,
        /// The key given, in words ("a password", "a recovery password", ...).
        kind: &'static str,
        /// The protectors it has, in words.
        has: Vec<&'static str>,
    },
    /// The key given does not unlock the volume: its protector's AES-CCM tag does not match
    /// (`bitlocker-wrong-key`).
    WrongKey {
        /// Where that protector's encrypted key is on the virtual disk.
        offset: u64,
        /// The key given, in words ("this password", ...).
        kind: &'static str,
    },
    /// A recovery password that is not one: 48 digits in 8 groups, each a multiple of 11 below
    /// 720896 whose last digit checks the other five (`bitlocker-recovery-password`).
    RecoveryPassword {
        /// What is wrong with it.
        why: String,
    },
    /// A startup key (`.BEK`) file that could not be read as one (`bitlocker-key-file`).
    KeyFile {
        /// The byte of the file where it goes wrong.
        offset: u64,
        /// What is wrong.
        why: String,
    },
    /// The volume master key opened, but the full-volume encryption key it wraps did not, or is
    /// not one the method needs: damaged metadata (`bitlocker-fvek`).
    Fvek {
        /// Where the wrapped key is on the virtual disk.
        offset: u64,
        /// What is wrong.
        why: String,
    },
    /// The encryption method is none this viewer decrypts (`bitlocker-method`).
    Method {
        /// Where the method field is on the virtual disk.
        offset: u64,
        /// Its value.
        value: u32,
    },
    /// The key stretch was stopped (`cancelled` is its caller's; this is kept for the stretch
    /// inside an unlock, whose partial work is dropped) (`bitlocker-stopped`).
    Stopped,
}

impl BitLockerError {
    /// The virtual-disk byte offset it concerns, where there is one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            BitLockerError::NoMetadata { offset, .. }
            | BitLockerError::NoProtector { offset, .. }
            | BitLockerError::WrongKey { offset, .. }
            | BitLockerError::Fvek { offset, .. }
            | BitLockerError::Method { offset, .. } => Some(*offset),
            BitLockerError::RecoveryPassword { .. } | BitLockerError::KeyFile { .. } | BitLockerError::Stopped => None,
        }
    }

    /// Its stable code.
    pub fn code(&self) -> &'static str {
        match self {
            BitLockerError::NoMetadata { .. } => "bitlocker-metadata",
            BitLockerError::NoProtector { .. } => "bitlocker-no-protector",
            BitLockerError::WrongKey { .. } => "bitlocker-wrong-key",
            BitLockerError::RecoveryPassword { .. } => "bitlocker-recovery-password",
            BitLockerError::KeyFile { .. } => "bitlocker-key-file",
            BitLockerError::Fvek { .. } => "bitlocker-fvek",
            BitLockerError::Method { .. } => "bitlocker-method",
            BitLockerError::Stopped => "bitlocker-stopped",
        }
    }
}

impl fmt::Display for BitLockerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BitLockerError::NoMetadata { offset, why } => {
                write!(f, "the BitLocker volume at byte {offset:#x} has no FVE metadata block that can be read: {why}")
            }
            BitLockerError::NoProtector { offset, kind, has } => write!(
                f,
                "the BitLocker volume (metadata at byte {offset:#x}) cannot be unlocked with {kind}: its key protectors are {}",
                if has.is_empty() { "none".to_string() } else { has.join(", ") }
            ),
            BitLockerError::WrongKey { offset, kind } => {
                write!(f, "{kind} does not unlock the volume (the key it opens fails the check of the encrypted key at byte {offset:#x})")
            }
            BitLockerError::RecoveryPassword { why } => write!(f, "not a BitLocker recovery password: {why}"),
            BitLockerError::KeyFile { offset, why } => write!(f, "not a BitLocker startup key (.BEK) file: at byte {offset}: {why}"),
            BitLockerError::Fvek { offset, why } => {
                write!(f, "the volume's encryption key at byte {offset:#x} cannot be used: {why} (damaged metadata)")
            }
            BitLockerError::Method { offset, value } => {
                write!(f, "the BitLocker encryption method {value:#06x} at byte {offset:#x} is none this viewer decrypts")
            }
            BitLockerError::Stopped => write!(f, "the unlock was stopped"),
        }
    }
}
