//! Will the disk be accepted where it is going? [`check`] reads an opened [`Disk`] against the
//! rules a target states for the disks it takes (Azure's for an uploaded disk, Hyper-V's own
//! limits) and says, rule by rule, whether the disk passes, which field it read and where that
//! field is in the file, what it found and what the target expects. No I/O: everything comes
//! from the opened layer (its file length, its footers as found).
//!
//! Every number here is one a Microsoft document states; the document is named beside it and
//! in each rule's `source` (read 2026-12-07):
//!
//! - [`PREPARE_UPLOAD`]: Azure takes a VHD, not a VHDX, of fixed size; its virtual size aligned
//!   to 1 MiB and its file that size plus the 512-byte footer; an OS disk of a generation 1 VM at
//!   most 2,048 GiB; a data disk at most 32,767 GiB.
//! - [`UPLOAD_SIZE`]: the size of an upload, footer included, is between 20 MiB + 512 bytes and
//!   32,767 GiB + 512 bytes (the API's `uploadSizeBytes`; Azure's error for any other size is
//!   "The upload size in bytes N - 512 bytes for the VHD footer (M in this case) must be a
//!   multiple of MiB").
//! - [`MANAGED_DISKS`]: an OS disk holds at most 4,095 GiB; an MBR limits the usable size to
//!   2 TiB.
//! - [`HYPERV_GENERATIONS`] and [`ABOUT_VHD`]: a generation 1 VM boots from at most 2040 GB of
//!   VHD or 2 TB of VHDX, a generation 2 VM from a SCSI virtual hard disk (.VHDX) only; a VHD
//!   holds at most 2,040 GB; every virtual disk at least 3 MB.
//! - [`VHD_SPEC`]: the footer Azure reads at the end of the file is the specification's: its
//!   cookie `conectix`, its checksum the one's complement of the sum of its other bytes.

use serde::Serialize;

use crate::disk::Disk;
use crate::image::DiskType;
use crate::layer::Layer;
use crate::values::{human_size, show_bytes};
use crate::vhd::footer::{off, FOOTER_SIZE};
use crate::vhd::{FooterSource, MAX_DISK_SIZE as VHD_MAX_SIZE};

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// "Prepare a Windows VHD or VHDX to upload to Azure".
pub const PREPARE_UPLOAD: &str = "https://learn.microsoft.com/azure/virtual-machines/windows/prepare-for-upload-vhd-image";
/// `CreationData.uploadSizeBytes` of the Azure compute API (the managed disk an upload goes to).
pub const UPLOAD_SIZE: &str = "https://learn.microsoft.com/javascript/api/@azure/arm-compute-profile-2020-09-01-hybrid/creationdata";
/// "Introduction to Azure managed disks".
pub const MANAGED_DISKS: &str = "https://learn.microsoft.com/azure/virtual-machines/managed-disks-overview";
/// "Should I create a generation 1 or 2 virtual machine in Hyper-V?".
pub const HYPERV_GENERATIONS: &str =
    "https://learn.microsoft.com/windows-server/virtualization/hyper-v/plan/should-i-create-a-generation-1-or-2-virtual-machine-in-hyper-v";
/// "About VHD" (Windows virtual storage).
pub const ABOUT_VHD: &str = "https://learn.microsoft.com/windows/win32/vstor/about-vhd";
/// Microsoft's *Virtual Hard Disk Image Format Specification* (the "Hard Disk Footer Format"),
/// where "About VHD" links it.
pub const VHD_SPEC: &str =
    "https://download.microsoft.com/download/f/f/e/ffef50a5-07dd-4cf8-aaa3-442c0673a029/Virtual%20Hard%20Disk%20Format%20Spec_10_18_06.doc";

/// The smallest disk Azure takes: an upload of at least 20 MiB + 512 bytes ([`UPLOAD_SIZE`]).
pub const AZURE_MIN_SIZE: u64 = 20 * MIB;
/// The largest disk Azure takes: an upload of at most 35,183,298,347,520 bytes, 32,767 GiB +
/// 512 ([`UPLOAD_SIZE`]; [`PREPARE_UPLOAD`]: "the maximum size for a data disk is 32,767 GiB").
pub const AZURE_MAX_SIZE: u64 = 32_767 * GIB;
/// The largest OS disk: 4,095 GiB ([`MANAGED_DISKS`]).
pub const AZURE_OS_DISK_MAX: u64 = 4_095 * GIB;
/// The largest OS disk of a generation 1 VM, which boots from an MBR: 2,048 GiB
/// ([`PREPARE_UPLOAD`]; [`MANAGED_DISKS`]: "MBR limits the usable size to 2 TiB").
pub const AZURE_GEN1_OS_MAX: u64 = 2_048 * GIB;
/// The smallest virtual disk Windows makes: 3 MB, Microsoft's megabytes of 2^20 bytes
/// ([`ABOUT_VHD`]).
pub const HYPERV_MIN_SIZE: u64 = 3 * MIB;
/// The largest VHDX a generation 1 VM boots from: 2 TB, Microsoft's terabytes of 2^40 bytes
/// ([`HYPERV_GENERATIONS`]; a VHD: 2040 GB, as any VHD).
pub const HYPERV_GEN1_VHDX_BOOT_MAX: u64 = 2 << 40;

/// Where the disk is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// An upload to Azure (a managed disk, or a page blob to make one from).
    Azure,
    /// A Hyper-V virtual machine.
    HyperV,
}

impl Target {
    /// Every target, in the order help texts list them.
    pub const ALL: [Target; 2] = [Target::Azure, Target::HyperV];

    /// The target named `name` (`azure`, `hyper-v`; case and a missing hyphen do not matter).
    pub fn from_name(name: &str) -> Option<Target> {
        match name.trim().to_ascii_lowercase().as_str() {
            "azure" => Some(Target::Azure),
            "hyper-v" | "hyperv" => Some(Target::HyperV),
            _ => None,
        }
    }

    /// The target's name on the command line and in JSON: `azure`, `hyper-v`.
    pub fn name(self) -> &'static str {
        match self {
            Target::Azure => "azure",
            Target::HyperV => "hyper-v",
        }
    }

    /// The target as people write it: `Azure`, `Hyper-V`.
    pub fn title(self) -> &'static str {
        match self {
            Target::Azure => "Azure",
            Target::HyperV => "Hyper-V",
        }
    }
}

/// When a rule applies: to every disk, or only to a disk used in some way. Only the rules that
/// apply always decide [`FitReport::fits`]; the others are told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Every disk.
    Always,
    /// A disk a VM boots from (an OS disk).
    OsDisk,
    /// The boot disk of a generation 1 VM (BIOS, an MBR).
    Gen1Boot,
    /// The boot disk of a generation 2 VM (UEFI, a SCSI disk).
    Gen2Boot,
}

impl Scope {
    /// The scope in words, for a line of text: empty for [`Scope::Always`].
    pub fn words(self) -> &'static str {
        match self {
            Scope::Always => "",
            Scope::OsDisk => "for an OS disk",
            Scope::Gen1Boot => "for a generation 1 VM's boot disk",
            Scope::Gen2Boot => "for a generation 2 VM's boot disk",
        }
    }
}

/// One rule of a target, read on the disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// A stable code: `azure-fixed`, `hyperv-min-size`, ...
    pub code: &'static str,
    /// The rule in a plain sentence.
    pub rule: String,
    /// When the rule applies.
    pub scope: Scope,
    /// True when the disk keeps the rule.
    pub pass: bool,
    /// The field read: `footer.current_size`, `file length`, ...
    pub field: &'static str,
    /// Where that field is in the file, when it is in the file.
    pub offset: Option<u64>,
    /// What the disk has, in words (sizes in units and in bytes).
    pub found: String,
    /// What the target expects, in words.
    pub expected: String,
    /// The document that states the rule.
    pub source: &'static str,
}

/// The verdict on a disk for a target: every rule, and whether the disk fits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FitReport {
    /// The target's name ([`Target::name`]).
    pub target: &'static str,
    /// True when every rule of [`Scope::Always`] passes.
    pub fits: bool,
    /// The verdict in a line: `Ready for Azure: yes` or `Not ready for Azure: 2 of 11 rules
    /// fail`, with the uses a disk that fits is not ready for.
    pub verdict: String,
    /// The rules, in the order they are checked.
    pub rules: Vec<Rule>,
}

impl FitReport {
    /// The rules that fail, those that apply always first.
    pub fn failing(&self) -> impl Iterator<Item = &Rule> {
        let always = self.rules.iter().filter(|r| !r.pass && r.scope == Scope::Always);
        always.chain(self.rules.iter().filter(|r| !r.pass && r.scope != Scope::Always))
    }
}

/// The size Azure takes for a disk of `size` bytes: rounded up to a whole MiB, and at least
/// [`AZURE_MIN_SIZE`] (the size `convert --for azure` writes; its added tail reads as zeros).
/// Near 2^64 it stops at the largest whole MiB, which Azure's maximum is far below.
pub fn azure_size(size: u64) -> u64 {
    size.div_ceil(MIB).min(u64::MAX / MIB).saturating_mul(MIB).max(AZURE_MIN_SIZE)
}

/// Reads `disk` (its opened file, layer 0) against `target`'s rules.
pub fn check(disk: &Disk, target: Target) -> FitReport {
    let layer = &disk.layers[0];
    let rules = match target {
        Target::Azure => azure(layer),
        Target::HyperV => hyperv(layer),
    };
    let fits = rules.iter().all(|r| r.pass || r.scope != Scope::Always);
    let failing = rules.iter().filter(|r| !r.pass).count();
    let verdict = if !fits {
        let verb = if failing == 1 { "fails" } else { "fail" };
        format!("Not ready for {}: {failing} of {} rules {verb}", target.title(), rules.len())
    } else {
        let mut not_for: Vec<&str> = rules.iter().filter(|r| !r.pass).map(|r| r.scope.words()).collect();
        not_for.dedup();
        match not_for.as_slice() {
            [] => format!("Ready for {}: yes", target.title()),
            uses => format!("Ready for {}: yes, but not {}", target.title(), uses.join(" nor ")),
        }
    };
    FitReport { target: target.name(), fits, verdict, rules }
}

/// A size in units and in bytes: `100.24 MiB (105111552 bytes)`.
fn size_words(bytes: u64) -> String {
    if bytes < 1024 {
        return human_size(bytes);
    }
    format!("{} ({bytes} bytes)", human_size(bytes))
}

/// The field that holds the virtual size.
fn size_field(layer: &Layer) -> &'static str {
    if layer.vhd().is_some() {
        "footer.current_size"
    } else {
        "metadata.VirtualDiskSize"
    }
}

/// The field that holds the disk's type.
fn type_field(layer: &Layer) -> &'static str {
    if layer.vhd().is_some() {
        "footer.disk_type"
    } else {
        "metadata.file_parameters"
    }
}

/// The disk's type in words.
fn type_words(layer: &Layer) -> String {
    let t = layer.disk_type();
    let name = match t {
        DiskType::Fixed => "fixed",
        DiskType::Dynamic => "dynamic (dynamically expanding)",
        DiskType::Differencing => "differencing",
        DiskType::Other(_) => t.name(),
    };
    format!("{name} {}", layer.format().to_uppercase())
}

/// A rule on the virtual size: it passes when `ok(size)`.
struct SizeRule {
    code: &'static str,
    rule: String,
    scope: Scope,
    expected: String,
    source: &'static str,
    ok: fn(u64) -> bool,
}

impl SizeRule {
    fn read(self, layer: &Layer) -> Rule {
        let size = layer.size();
        Rule {
            code: self.code,
            rule: self.rule,
            scope: self.scope,
            pass: (self.ok)(size),
            field: size_field(layer),
            offset: Some(layer.size_offset()),
            found: size_words(size),
            expected: self.expected,
            source: self.source,
        }
    }
}

/// Azure's rules for an uploaded disk.
fn azure(layer: &Layer) -> Vec<Rule> {
    let size = layer.size();
    let vhd = layer.vhd();
    let mut rules = Vec::with_capacity(11);
    rules.push(Rule {
        code: "azure-format",
        rule: "The disk is a VHD file: Azure does not take VHDX".into(),
        scope: Scope::Always,
        pass: vhd.is_some(),
        field: "file format",
        offset: Some(0),
        found: match vhd {
            Some(_) => "a VHD".into(),
            None => "a VHDX (\"vhdxfile\" at byte 0)".into(),
        },
        expected: "a VHD (convert a VHDX to a fixed VHD)".into(),
        source: PREPARE_UPLOAD,
    });
    let disk_type = layer.disk_type();
    rules.push(Rule {
        code: "azure-fixed",
        rule: "The disk is of fixed size: Azure does not take dynamic or differencing disks".into(),
        scope: Scope::Always,
        pass: disk_type == DiskType::Fixed,
        field: type_field(layer),
        offset: Some(layer.disk_type_offset()),
        found: type_words(layer),
        expected: "a fixed VHD (disk type 2)".into(),
        source: PREPARE_UPLOAD,
    });
    let differencing = disk_type == DiskType::Differencing;
    let parent_field = match (differencing, vhd.is_some()) {
        (false, _) => type_field(layer),
        (true, true) => "header.parent_unique_id",
        (true, false) => "metadata.parent_locator",
    };
    rules.push(Rule {
        code: "azure-no-parent",
        rule: "The disk stands alone: a differencing disk's parent is not uploaded with it".into(),
        scope: Scope::Always,
        pass: !differencing,
        field: parent_field,
        offset: Some(layer.parent_link_offset().filter(|_| differencing).unwrap_or(layer.disk_type_offset())),
        found: if differencing {
            let parent = layer.parent_name();
            if parent.is_empty() {
                "a differencing disk".into()
            } else {
                format!("a differencing disk whose parent is {parent}")
            }
        } else {
            "no parent".into()
        },
        expected: "no parent (merge the chain into one disk)".into(),
        source: PREPARE_UPLOAD,
    });
    rules.push(
        SizeRule {
            code: "azure-whole-mib",
            rule: "The virtual size is a whole number of MiB (1,048,576 bytes)".into(),
            scope: Scope::Always,
            expected: if size % MIB == 0 {
                "a multiple of 1 MiB".into()
            } else {
                format!("a multiple of 1 MiB: {} rounded up", size_words(size.div_ceil(MIB).min(u64::MAX / MIB) * MIB))
            },
            source: PREPARE_UPLOAD,
            ok: |s| s % MIB == 0,
        }
        .read(layer),
    );
    rules.push(
        SizeRule {
            code: "azure-min-size",
            rule: "The virtual size is at least 20 MiB".into(),
            scope: Scope::Always,
            expected: format!("at least {}", size_words(AZURE_MIN_SIZE)),
            source: UPLOAD_SIZE,
            ok: |s| s >= AZURE_MIN_SIZE,
        }
        .read(layer),
    );
    rules.push(
        SizeRule {
            code: "azure-max-size",
            rule: "The virtual size is at most 32,767 GiB, the largest managed disk an upload makes".into(),
            scope: Scope::Always,
            expected: format!("at most 32,767 GiB ({AZURE_MAX_SIZE} bytes)"),
            source: UPLOAD_SIZE,
            ok: |s| s <= AZURE_MAX_SIZE,
        }
        .read(layer),
    );
    let want_len = size.checked_add(FOOTER_SIZE);
    rules.push(Rule {
        code: "azure-file-length",
        rule: "The file is exactly the virtual size plus the 512-byte footer (the size of the upload)".into(),
        scope: Scope::Always,
        pass: want_len == Some(layer.file_len),
        field: "file length",
        offset: None,
        found: size_words(layer.file_len),
        expected: match want_len {
            Some(n) => format!("{n} bytes (the virtual size + 512)"),
            None => "the virtual size + 512, which is past 2^64".into(),
        },
        source: PREPARE_UPLOAD,
    });
    let (cookie, checksum) = footer_rules(layer);
    rules.push(cookie);
    rules.push(checksum);
    rules.push(
        SizeRule {
            code: "azure-os-disk-4tib",
            rule: "An OS disk is at most 4,095 GiB".into(),
            scope: Scope::OsDisk,
            expected: format!("at most 4,095 GiB ({AZURE_OS_DISK_MAX} bytes) for an OS disk (a data disk may be larger)"),
            source: MANAGED_DISKS,
            ok: |s| s <= AZURE_OS_DISK_MAX,
        }
        .read(layer),
    );
    rules.push(
        SizeRule {
            code: "azure-gen1-mbr-2tib",
            rule: "The OS disk of a generation 1 VM, which boots from an MBR, is at most 2 TiB".into(),
            scope: Scope::Gen1Boot,
            expected: format!(
                "at most {} for a generation 1 VM's OS disk (a generation 2 VM boots from GPT)",
                size_words(AZURE_GEN1_OS_MAX)
            ),
            source: PREPARE_UPLOAD,
            ok: |s| s <= AZURE_GEN1_OS_MAX,
        }
        .read(layer),
    );
    rules
}

/// The rules on the footer Azure reads: the last 512 bytes of the file, its cookie and its
/// checksum.
fn footer_rules(layer: &Layer) -> (Rule, Rule) {
    let end = layer.file_len.saturating_sub(FOOTER_SIZE);
    let cookie_rule = "The file ends with a VHD footer: its cookie is \"conectix\"".to_string();
    let checksum_rule = "The footer's checksum is right".to_string();
    let Some(vhd) = layer.vhd() else {
        let none = |code, rule, field, expected: &str| Rule {
            code,
            rule,
            scope: Scope::Always,
            pass: false,
            field,
            offset: Some(end),
            found: "a VHDX, which has no VHD footer".into(),
            expected: expected.into(),
            source: VHD_SPEC,
        };
        return (
            none("azure-footer-cookie", cookie_rule, "footer.cookie", "\"conectix\" in the last 512 bytes"),
            none("azure-footer-checksum", checksum_rule, "footer.checksum", "the one's complement of the sum of the footer's other bytes"),
        );
    };
    // The end footer as the opener found it: `None` only when a 511-byte footer was read
    // (the last 512 bytes do not start with the cookie).
    let at_end = vhd.end_footer.as_ref().filter(|f| f.offset == end);
    let cookie = Rule {
        code: "azure-footer-cookie",
        rule: cookie_rule,
        scope: Scope::Always,
        pass: at_end.is_some_and(|f| f.value.cookie_valid()),
        field: "footer.cookie",
        offset: Some(end + off::COOKIE as u64),
        found: match at_end {
            Some(f) => format!("\"{}\"", show_bytes(&f.value.cookie)),
            None if vhd.footer_source == FooterSource::End511 => {
                format!("a 511-byte footer at byte {}: the last 512 bytes do not start with the cookie", vhd.footer.offset)
            }
            None => "no footer at the end of the file".into(),
        },
        expected: "\"conectix\"".into(),
        source: VHD_SPEC,
    };
    let checksum = Rule {
        code: "azure-footer-checksum",
        rule: checksum_rule,
        scope: Scope::Always,
        pass: at_end.is_some_and(|f| f.value.cookie_valid() && f.value.checksum_valid()),
        field: "footer.checksum",
        offset: Some(end + off::CHECKSUM as u64),
        found: match at_end {
            Some(f) if f.value.checksum_valid() => format!("{:#010x}", f.value.checksum),
            Some(f) => format!("{:#010x}, where the footer's bytes give {:#010x}", f.value.checksum, f.value.computed_checksum),
            None => "no 512-byte footer at the end of the file".into(),
        },
        expected: match at_end {
            Some(f) => format!("{:#010x}", f.value.computed_checksum),
            None => "the one's complement of the sum of the footer's other bytes".into(),
        },
        source: VHD_SPEC,
    };
    (cookie, checksum)
}

/// What Hyper-V itself refuses, past what the format's readers refuse (those are errors of the
/// opener, or findings of `check`).
fn hyperv(layer: &Layer) -> Vec<Rule> {
    let mut rules = vec![SizeRule {
        code: "hyperv-min-size",
        rule: "The virtual size is at least 3 MiB, the smallest virtual disk Windows makes".into(),
        scope: Scope::Always,
        expected: format!("at least {}", size_words(HYPERV_MIN_SIZE)),
        source: ABOUT_VHD,
        ok: |s| s >= HYPERV_MIN_SIZE,
    }
    .read(layer)];
    if layer.vhd().is_some() {
        rules.push(
            SizeRule {
                code: "hyperv-vhd-max",
                rule: "A VHD is at most 2,040 GiB (a larger disk needs VHDX)".into(),
                scope: Scope::Always,
                expected: format!("at most 2,040 GiB ({VHD_MAX_SIZE} bytes)"),
                source: ABOUT_VHD,
                ok: |s| s <= VHD_MAX_SIZE,
            }
            .read(layer),
        );
        rules.push(
            SizeRule {
                code: "hyperv-gen1-boot",
                rule: "A generation 1 VM boots from a VHD of at most 2,040 GiB".into(),
                scope: Scope::Gen1Boot,
                expected: format!("at most 2,040 GiB ({VHD_MAX_SIZE} bytes) for a generation 1 VM's boot disk"),
                source: HYPERV_GENERATIONS,
                ok: |s| s <= VHD_MAX_SIZE,
            }
            .read(layer),
        );
    } else {
        rules.push(
            SizeRule {
                code: "hyperv-gen1-boot",
                rule: "A generation 1 VM boots from a VHDX of at most 2 TiB (a generation 2 VM from up to 64 TiB)".into(),
                scope: Scope::Gen1Boot,
                expected: format!("at most {} for a generation 1 VM's boot disk", size_words(HYPERV_GEN1_VHDX_BOOT_MAX)),
                source: HYPERV_GENERATIONS,
                ok: |s| s <= HYPERV_GEN1_VHDX_BOOT_MAX,
            }
            .read(layer),
        );
    }
    // The document's table of boot methods: "Boot from a SCSI virtual hard disk (.VHDX)" is a
    // generation 2 VM's; "from IDE Controller virtual hard disk (.VHD)" a generation 1 VM's only.
    let vhd = layer.vhd().is_some();
    rules.push(Rule {
        code: "hyperv-gen2-boot",
        rule: "A generation 2 VM boots from a VHDX (a SCSI disk), not from a VHD".into(),
        scope: Scope::Gen2Boot,
        pass: !vhd,
        field: "file format",
        offset: Some(0),
        found: if vhd { "a VHD".into() } else { "a VHDX".into() },
        expected: "a VHDX for a generation 2 VM's boot disk (convert --to vhdx)".into(),
        source: HYPERV_GENERATIONS,
    });
    rules
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::open_layer;
    use crate::vhd::footer::encode;
    use crate::vhd::writer::DiskBuilder;
    use crate::vhdx::writer::VhdxBuilder;

    fn report(files: &[Vec<u8>], target: Target) -> FitReport {
        let layers = files.iter().map(|f| open_layer(f).unwrap()).collect();
        check(&Disk::new(layers, true).unwrap(), target)
    }

    fn failing(r: &FitReport) -> Vec<&'static str> {
        r.failing().map(|r| r.code).collect()
    }

    /// A fixed VHD whose footer says `size`, over `data` bytes of data (the footer edited: the
    /// opener takes a size larger than the file, with findings).
    fn fixed_saying(size: u64, data: u64) -> Vec<u8> {
        let mut file = DiskBuilder::fixed(data).build();
        let at = file.len() - FOOTER_SIZE as usize;
        let mut f = crate::vhd::footer::Footer::parse(&file[at..]);
        f.current_size = size;
        f.original_size = size;
        file[at..].copy_from_slice(&encode(&f));
        file
    }

    #[test]
    fn a_fixed_whole_mib_vhd_fits() {
        let r = report(&[DiskBuilder::fixed(20 * MIB).build()], Target::Azure);
        assert!(r.fits, "{r:#?}");
        assert_eq!(r.verdict, "Ready for Azure: yes");
        assert_eq!(r.rules.len(), 11);
        assert!(r.rules.iter().all(|r| r.pass));
        assert_eq!(r.target, "azure");
    }

    #[test]
    fn a_size_off_the_mib_fails_only_that_rule() {
        let r = report(&[DiskBuilder::fixed(20 * MIB + 512).build()], Target::Azure);
        assert!(!r.fits);
        assert_eq!(failing(&r), ["azure-whole-mib"]);
        let rule = &r.rules[3];
        assert_eq!(rule.field, "footer.current_size");
        assert_eq!(rule.found, "20 MiB (20972032 bytes)");
        assert!(rule.expected.contains("21 MiB (22020096 bytes)"), "{}", rule.expected);
        // The footer is the file's last 512 bytes; current size 48 bytes into it.
        assert_eq!(rule.offset, Some(20 * MIB + 512 + off::CURRENT_SIZE as u64));
    }

    #[test]
    fn small_and_huge_sizes() {
        let r = report(&[DiskBuilder::fixed(19 * MIB).build()], Target::Azure);
        assert_eq!(failing(&r), ["azure-min-size"]);
        // A footer claiming 32 TiB over a 1 MiB file: too large, and the file is not its length.
        let r = report(&[fixed_saying(32 << 40, MIB)], Target::Azure);
        assert_eq!(failing(&r), ["azure-max-size", "azure-file-length", "azure-os-disk-4tib", "azure-gen1-mbr-2tib"]);
        assert!(!r.fits);
        // 3 TiB: a data disk fits; an OS disk too, but not a generation 1 VM's.
        let r = report(&[fixed_saying(3 << 40, MIB)], Target::Azure);
        assert_eq!(failing(&r), ["azure-file-length", "azure-gen1-mbr-2tib"]);
        assert_eq!(r.verdict, "Not ready for Azure: 2 of 11 rules fail");
        assert_eq!(r.rules.iter().find(|r| r.code == "azure-gen1-mbr-2tib").map(|r| r.scope), Some(Scope::Gen1Boot));
    }

    #[test]
    fn hostile_sizes_do_not_overflow() {
        for size in [u64::MAX, u64::MAX - 511, 0] {
            let r = report(&[fixed_saying(size, MIB)], Target::Azure);
            assert!(!r.fits);
            let length = &r.rules[6];
            assert!(!length.pass);
            if size > u64::MAX - 512 {
                assert_eq!(length.expected, "the virtual size + 512, which is past 2^64");
            }
            assert!(report(&[fixed_saying(size, MIB)], Target::HyperV).rules.iter().all(|r| !r.found.is_empty()));
        }
    }

    #[test]
    fn scoped_rules_do_not_decide_the_verdict() {
        // 4,095 GiB + 1 MiB passes every rule of scope "always" but the file length, which a
        // footer edited over a small file cannot pass: set the length rule aside.
        let r = report(&[fixed_saying(AZURE_OS_DISK_MAX + MIB, MIB)], Target::Azure);
        let always: Vec<_> = r.failing().filter(|r| r.scope == Scope::Always).map(|r| r.code).collect();
        assert_eq!(always, ["azure-file-length"]);
        assert_eq!(failing(&r)[1..], ["azure-os-disk-4tib", "azure-gen1-mbr-2tib"]);
    }

    #[test]
    fn dynamic_differencing_and_vhdx() {
        let dynamic = DiskBuilder::dynamic(32 * MIB, 2 << 20).build();
        let r = report(std::slice::from_ref(&dynamic), Target::Azure);
        assert_eq!(failing(&r), ["azure-fixed", "azure-file-length"]);
        assert_eq!(r.rules[1].found, "dynamic (dynamically expanding) VHD");
        assert_eq!(r.rules[1].offset, Some(dynamic.len() as u64 - 512 + off::DISK_TYPE as u64));

        let base = DiskBuilder::dynamic(32 * MIB, 2 << 20);
        let child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 2 << 20).build();
        let r = report(&[child.clone(), base.build()], Target::Azure);
        assert_eq!(failing(&r), ["azure-fixed", "azure-no-parent", "azure-file-length"]);
        assert_eq!(r.rules[2].found, "a differencing disk whose parent is base.vhd");
        // Without its parent the verdict is the same.
        assert_eq!(failing(&report(&[child], Target::Azure)), ["azure-fixed", "azure-no-parent", "azure-file-length"]);

        let r = report(&[VhdxBuilder::new(32 * MIB).build()], Target::Azure);
        assert_eq!(failing(&r), ["azure-format", "azure-fixed", "azure-file-length", "azure-footer-cookie", "azure-footer-checksum"]);
        assert_eq!(r.rules[3].field, "metadata.VirtualDiskSize");
        assert!(r.rules[3].pass);
    }

    #[test]
    fn the_end_footer_is_what_is_read() {
        // A checksum off by one in a fixed disk: the disk opens, the rule fails.
        let mut file = DiskBuilder::fixed(20 * MIB).build();
        let at = file.len() - 512 + off::CHECKSUM;
        file[at + 3] ^= 1;
        let r = report(&[file], Target::Azure);
        assert_eq!(failing(&r), ["azure-footer-checksum"]);
        assert!(r.rules[8].found.contains(", where the footer's bytes give"), "{}", r.rules[8].found);

        // A dynamic disk whose end footer's cookie is damaged opens through its copy at byte 0.
        let mut file = DiskBuilder::dynamic(32 * MIB, 2 << 20).build();
        let at = file.len() - 512;
        file[at] = b'C';
        let r = report(&[file], Target::Azure);
        assert_eq!(failing(&r), ["azure-fixed", "azure-file-length", "azure-footer-cookie", "azure-footer-checksum"]);
        assert_eq!(r.rules[7].found, "\"Conectix\"");
    }

    #[test]
    fn a_511_byte_footer_is_no_footer_azure_reads() {
        // Early Virtual PC's footer: 511 bytes at the end. The disk opens through it; Azure's
        // footer, the last 512 bytes, has no cookie, and the file is a byte short.
        let mut file = DiskBuilder::fixed(20 * MIB).build();
        file.pop();
        let r = report(&[file], Target::Azure);
        assert_eq!(failing(&r), ["azure-file-length", "azure-footer-cookie", "azure-footer-checksum"]);
        assert_eq!(r.rules[7].found, format!("a 511-byte footer at byte {}: the last 512 bytes do not start with the cookie", 20 * MIB));
        assert_eq!(r.rules[7].offset, Some(20 * MIB - 1));
    }

    #[test]
    fn a_file_one_byte_longer() {
        let mut file = DiskBuilder::fixed(20 * MIB).build();
        let footer = file.split_off(file.len() - 512);
        file.push(0);
        file.extend(footer);
        let r = report(&[file], Target::Azure);
        assert_eq!(failing(&r), ["azure-file-length"]);
        assert_eq!(r.rules[6].found, "20 MiB (20972033 bytes)");
        assert_eq!(r.rules[6].offset, None);
    }

    #[test]
    fn hyper_v() {
        let r = report(&[DiskBuilder::fixed(2 * MIB).build()], Target::HyperV);
        assert_eq!(failing(&r), ["hyperv-min-size", "hyperv-gen2-boot"]);
        let r = report(&[DiskBuilder::fixed(20 * MIB).build()], Target::HyperV);
        assert_eq!(r.verdict, "Ready for Hyper-V: yes, but not for a generation 2 VM's boot disk");
        assert_eq!(r.target, "hyper-v");
        let r = report(&[fixed_saying(VHD_MAX_SIZE + MIB, MIB)], Target::HyperV);
        assert_eq!(failing(&r), ["hyperv-vhd-max", "hyperv-gen1-boot", "hyperv-gen2-boot"]);
        assert!(!r.fits);
        let r = report(&[VhdxBuilder::new(32 * MIB).build()], Target::HyperV);
        assert!(r.fits);
        assert_eq!(r.rules.len(), 3);
        // 3 TiB of VHDX: Hyper-V takes it, but a generation 1 VM does not boot from it.
        let r = report(&[VhdxBuilder::new(3 << 40).build()], Target::HyperV);
        assert_eq!(r.verdict, "Ready for Hyper-V: yes, but not for a generation 1 VM's boot disk");
    }

    #[test]
    fn sizes_azure_takes() {
        assert_eq!(azure_size(0), AZURE_MIN_SIZE);
        assert_eq!(azure_size(100 * MIB + 1), 101 * MIB);
        assert_eq!(azure_size(101 * MIB), 101 * MIB);
        assert_eq!(azure_size(u64::MAX) % MIB, 0);
        assert_eq!(Target::from_name("Hyper-V"), Some(Target::HyperV));
        assert_eq!(Target::from_name("vmware"), None);
        assert!(Target::ALL.iter().all(|t| Target::from_name(t.name()) == Some(*t)));
    }

    #[test]
    fn the_report_serializes_as_documented() {
        let r = report(&[DiskBuilder::fixed(20 * MIB).build()], Target::Azure);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["target"], "azure");
        assert_eq!(v["fits"], true);
        let rule = &v["rules"][0];
        for key in ["code", "rule", "scope", "pass", "field", "offset", "found", "expected", "source"] {
            assert!(rule.get(key).is_some(), "{key}");
        }
        assert_eq!(v["rules"][9]["scope"], "os-disk");
        assert_eq!(v["rules"][10]["scope"], "gen1-boot");
    }
}
