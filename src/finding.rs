//! Integrity findings: what is wrong (or merely odd) about a disk that can still be read.

use serde::Serialize;

/// How bad a finding is, by one rule (docs/who-is-right.md, docs/hostile-inputs.md), applied to
/// every finding code:
/// - `Error`: the spec forbids it (a required value, a checksum, a structure out of place), or a
///   reader people rely on (Hyper-V, libvhdi, qemu-img) refuses to open the disk because of it.
///   `check` exits 1.
/// - `Warning`: the spec allows it or only says "should", and the common readers open the disk,
///   but one of them reads it differently (e.g. sizes it by its geometry) or it is very unusual.
/// - `Info`: worth knowing; nothing is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; nothing is wrong.
    Info,
    /// Allowed (or only a "should" of the spec), but read differently by another reader, or unusual.
    Warning,
    /// Forbidden by the spec, or refused by Hyper-V, libvhdi or qemu-img: damage, or a disk other
    /// software will not open.
    Error,
}

/// One thing the checks noticed, with the place in the file where it was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How bad it is.
    pub severity: Severity,
    /// A stable short name for the kind of finding, e.g. `footer-checksum`.
    pub code: &'static str,
    /// Which file of a chain it concerns: 0 for the opened file, 1 for its parent, and so on.
    pub layer: usize,
    /// The file offset it concerns, where there is one.
    pub offset: Option<u64>,
    /// A plain sentence saying what is wrong and what it means.
    pub message: String,
}

impl Finding {
    pub(crate) fn new(severity: Severity, code: &'static str, offset: Option<u64>, message: impl Into<String>) -> Self {
        Finding { severity, code, layer: 0, offset, message: message.into() }
    }

    pub(crate) fn error(code: &'static str, offset: u64, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, Some(offset), message)
    }

    pub(crate) fn warning(code: &'static str, offset: u64, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, Some(offset), message)
    }

    pub(crate) fn info(code: &'static str, offset: u64, message: impl Into<String>) -> Self {
        Self::new(Severity::Info, code, Some(offset), message)
    }
}
