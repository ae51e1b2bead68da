//! `check --for azure` and `check --for hyper-v` (issue 23) on disks made by other software:
//! qemu-img's fixed VHD rounded to a CHS geometry (fails the size rule) and forced to a whole
//! MiB (passes), its dynamic VHD and its VHDX, a differencing VHD, the real Hyper-V disk in
//! `tests/data`; and on damaged variants derived in code: a footer checksum off by one, a wrong
//! cookie in the end footer, a file one byte longer, sizes under Azure's minimum and over its
//! maximum. Each verdict is read rule by rule from the JSON, and the exit status and the text
//! with it.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const MIB: u64 = 1 << 20;

/// A qemu-img VHD of `size`, cached.
fn qemu_vhd(name: &'static str, subformat: &'static str, size: &'static str, force_size: bool) -> PathBuf {
    qemu_fixture(&QemuSpec { name, subformat, size, force_size, writes: vec![(0x5a, MIB, 4096)] })
}

/// `check FILE --for TARGET --json`: the exit status and the report.
fn fit(file: &Path, target: &str) -> (i32, Value) {
    let o = cli(&["check", file.to_str().unwrap(), "--for", target, "--json"]);
    let code = o.status.code().unwrap_or(-1);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&o), stderr(&o)));
    (code, report)
}

/// The codes of the rules that fail.
fn failing(report: &Value) -> Vec<String> {
    report["rules"].as_array().unwrap().iter().filter(|r| r["pass"] == false).map(|r| r["code"].as_str().unwrap().to_string()).collect()
}

fn rule<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["rules"].as_array().unwrap().iter().find(|r| r["code"] == code).unwrap_or_else(|| panic!("no rule {code}"))
}

/// Checks that the exit status follows the verdict: 0 when the disk fits, 1 when not.
fn assert_verdict(code: i32, report: &Value, fits: bool) {
    assert_eq!(report["fits"], fits, "{report:#}");
    assert_eq!(code, if fits { 0 } else { 1 });
}

#[test]
fn a_fixed_vhd_rounded_to_chs_fails_the_size_rule_only() {
    let file = qemu_vhd("fit-fixed-chs-100M", "fixed", "100M", false);
    let (code, r) = fit(&file, "azure");
    assert_verdict(code, &r, false);
    assert_eq!(failing(&r), ["azure-whole-mib"]);
    let size = rule(&r, "azure-whole-mib");
    // qemu-img sizes the disk by a CHS geometry: 104,865,792 bytes, not 100 MiB.
    let current = std::fs::metadata(&file).unwrap().len() - 512;
    assert_ne!(current % MIB, 0);
    assert_eq!(size["field"], "footer.current_size");
    assert_eq!(size["offset"], current + f::CURRENT_SIZE as u64);
    assert!(size["found"].as_str().unwrap().contains(&format!("({current} bytes)")), "{size}");
    let rounded = current.div_ceil(MIB) * MIB;
    assert!(size["expected"].as_str().unwrap().contains(&format!("({rounded} bytes)")), "{size}");
    assert_eq!(r["verdict"], "Not ready for Azure: 1 of 11 rules fails");

    // The text: the verdict, the failing rule first with what was found and where, the fix.
    let o = cli_in(file.parent().unwrap(), &["check", "fit-fixed-chs-100M.vhd", "--for", "azure"]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "fit-fixed-chs-100M.vhd: Not ready for Azure: 1 of 11 rules fails");
    assert!(lines[1].starts_with("FAIL  The virtual size is a whole number of MiB"), "{text}");
    assert!(lines[1].ends_with(&format!("[footer.current_size at byte {}]", current + 48)), "{text}");
    assert_eq!(lines.iter().filter(|l| l.starts_with("PASS  ")).count(), 10, "{text}");
    assert_eq!(lines.last(), Some(&"A copy Azure takes: vhd-viewer convert --for azure fit-fixed-chs-100M.vhd OUT.vhd"));
}

#[test]
fn a_fixed_vhd_of_a_whole_mib_passes() {
    let file = qemu_vhd("fit-fixed-64M", "fixed", "64M", true);
    let (code, r) = fit(&file, "azure");
    assert_verdict(code, &r, true);
    assert!(failing(&r).is_empty());
    assert_eq!(r["rules"].as_array().unwrap().len(), 11);
    assert_eq!(r["verdict"], "Ready for Azure: yes");
    let o = cli(&["check", file.to_str().unwrap(), "--for", "azure"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(!stdout(&o).contains("FAIL") && !stdout(&o).contains("convert --for"), "{}", stdout(&o));
}

#[test]
fn a_dynamic_vhd_fails_the_type() {
    let file = qemu_vhd("fit-dynamic-64M", "dynamic", "64M", true);
    let (code, r) = fit(&file, "azure");
    assert_verdict(code, &r, false);
    assert_eq!(failing(&r), ["azure-fixed", "azure-file-length"]);
    let t = rule(&r, "azure-fixed");
    assert_eq!(t["found"], "dynamic (dynamically expanding) VHD");
    assert_eq!(t["offset"], std::fs::metadata(&file).unwrap().len() - 512 + f::DISK_TYPE as u64);
}

#[test]
fn a_vhdx_fails_the_format() {
    let dir = scratch("fit-vhdx");
    let file = dir.join("disk.vhdx");
    run_ok(Command::new("qemu-img").args(["create", "-q", "-f", "vhdx"]).arg(&file).arg("64M"));
    let (code, r) = fit(&file, "azure");
    assert_verdict(code, &r, false);
    assert_eq!(failing(&r), ["azure-format", "azure-fixed", "azure-file-length", "azure-footer-cookie", "azure-footer-checksum"]);
    // The size is still read: a whole number of MiB, what a VHD of it needs.
    assert_eq!(rule(&r, "azure-whole-mib")["pass"], true);
    assert_eq!(rule(&r, "azure-whole-mib")["field"], "metadata.VirtualDiskSize");
    // Hyper-V takes it.
    let (code, r) = fit(&file, "hyper-v");
    assert_verdict(code, &r, true);
}

#[test]
fn a_differencing_vhd_fails_without_its_parent_being_needed() {
    use vhd_viewer::vhd::writer::DiskBuilder;
    let dir = scratch("fit-differencing");
    let base = DiskBuilder::fixed(32 * MIB);
    let child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 2 << 20).build();
    let file = dir.join("child.vhd");
    std::fs::write(&file, child).unwrap();
    // No base.vhd beside it.
    let (code, r) = fit(&file, "azure");
    assert_verdict(code, &r, false);
    assert_eq!(failing(&r), ["azure-fixed", "azure-no-parent", "azure-file-length"]);
    let p = rule(&r, "azure-no-parent");
    assert_eq!(p["found"], "a differencing disk whose parent is base.vhd");
    assert_eq!(p["field"], "header.parent_unique_id");
    // A base.vhd beside it that is not its parent (another unique id): `check` refuses the
    // chain, `check --for` reads the child alone, as before.
    let mut other = DiskBuilder::fixed(32 * MIB);
    other.unique_id(vhd_viewer::vhd::writer::uuid_from_seed(77));
    std::fs::write(dir.join("base.vhd"), other.build()).unwrap();
    assert_eq!(cli(&["check", file.to_str().unwrap(), "--quick"]).status.code(), Some(2));
    let (code, again) = fit(&file, "azure");
    assert_eq!(code, 1);
    assert_eq!(again, r);
}

#[test]
fn the_real_hyper_v_disk() {
    // Hyper-V's 127 GiB dynamic disk: its size is a whole number of MiB, but it is dynamic.
    let (code, r) = fit(&sample("hyperv2012r2-dynamic.vhd"), "azure");
    assert_verdict(code, &r, false);
    assert_eq!(failing(&r), ["azure-fixed", "azure-file-length"]);
    assert_eq!(rule(&r, "azure-whole-mib")["found"], "127 GiB (136365211648 bytes)");
    let (code, r) = fit(&sample("hyperv2012r2-dynamic.vhd"), "hyper-v");
    assert_verdict(code, &r, true);
    assert_eq!(r["verdict"], "Ready for Hyper-V: yes, but not for a generation 2 VM's boot disk");
}

/// A copy of the forced 64 MiB fixed disk, edited by `edit`, in `dir`.
fn edited(dir: &Path, name: &str, edit: impl FnOnce(&mut Image)) -> PathBuf {
    let mut img = Image::read(&qemu_vhd("fit-fixed-64M", "fixed", "64M", true));
    edit(&mut img);
    let path = dir.join(name);
    img.write(&path);
    path
}

#[test]
fn damaged_footers() {
    let dir = scratch("fit-damaged");
    // The checksum off by one: the disk still opens, the rule fails.
    let file = edited(&dir, "checksum.vhd", |img| {
        let at = img.footer_at() + f::CHECKSUM + 3;
        img.bytes[at] ^= 1;
    });
    let (code, r) = fit(&file, "azure");
    assert_verdict(code, &r, false);
    assert_eq!(failing(&r), ["azure-footer-checksum"]);
    let c = rule(&r, "azure-footer-checksum");
    assert_eq!(c["offset"], 64 * MIB + f::CHECKSUM as u64);
    assert!(c["found"].as_str().unwrap().contains("where the footer's bytes give"), "{c}");

    // A dynamic disk whose end footer's cookie is wrong opens through its copy at byte 0.
    let mut img = Image::read(&qemu_vhd("fit-dynamic-64M", "dynamic", "64M", true));
    let at = img.footer_at();
    img.bytes[at..at + 8].copy_from_slice(b"conectiX");
    let file = dir.join("cookie.vhd");
    img.write(&file);
    let (code, r) = fit(&file, "azure");
    assert_verdict(code, &r, false);
    assert_eq!(failing(&r), ["azure-fixed", "azure-file-length", "azure-footer-cookie", "azure-footer-checksum"]);
    assert_eq!(rule(&r, "azure-footer-cookie")["found"], "\"conectiX\"");
    assert_eq!(rule(&r, "azure-footer-cookie")["offset"], at as u64);
}

#[test]
fn a_file_one_byte_longer() {
    let dir = scratch("fit-longer");
    let file = edited(&dir, "longer.vhd", |img| {
        let at = img.footer_at();
        img.bytes.insert(at, 0);
    });
    let (code, r) = fit(&file, "azure");
    assert_verdict(code, &r, false);
    assert_eq!(failing(&r), ["azure-file-length"]);
    let l = rule(&r, "azure-file-length");
    assert_eq!(l["found"], format!("64 MiB ({} bytes)", 64 * MIB + 513));
    assert_eq!(l["expected"], format!("{} bytes (the virtual size + 512)", 64 * MIB + 512));
    assert_eq!(l["offset"], Value::Null);
}

#[test]
fn sizes_under_the_minimum_and_over_the_maximum() {
    let (code, r) = fit(&qemu_vhd("fit-fixed-16M", "fixed", "16M", true), "azure");
    assert_verdict(code, &r, false);
    assert_eq!(failing(&r), ["azure-min-size"]);

    // A footer edited to say 33 TiB over the 64 MiB file (the opener takes it, with findings).
    let dir = scratch("fit-sizes");
    let size = 33u64 << 40;
    let file = edited(&dir, "huge.vhd", |img| {
        img.edit_footers(|ft| {
            put64(ft, f::CURRENT_SIZE, size);
            put64(ft, f::ORIGINAL_SIZE, size);
        })
    });
    let (code, r) = fit(&file, "azure");
    assert_verdict(code, &r, false);
    assert_eq!(failing(&r), ["azure-max-size", "azure-file-length", "azure-os-disk-4tib", "azure-gen1-mbr-2tib"]);
    assert_eq!(rule(&r, "azure-max-size")["expected"], "at most 32,767 GiB (35183298347008 bytes)");
    assert_eq!(rule(&r, "azure-os-disk-4tib")["scope"], "os-disk");
    assert_eq!(rule(&r, "azure-gen1-mbr-2tib")["scope"], "gen1-boot");
    // Hyper-V: more than a VHD holds.
    let (code, r) = fit(&file, "hyper-v");
    assert_verdict(code, &r, false);
    assert_eq!(failing(&r), ["hyperv-vhd-max", "hyperv-gen1-boot", "hyperv-gen2-boot"]);

    // 3 TiB: Azure takes it as a data disk and an OS disk, but not a generation 1 VM's (the
    // file is not 3 TiB long: that rule fails too, and the verdict with it).
    let file = edited(&dir, "3t.vhd", |img| img.edit_footers(|ft| put64(ft, f::CURRENT_SIZE, 3 << 40)));
    let (_, r) = fit(&file, "azure");
    assert_eq!(failing(&r), ["azure-file-length", "azure-gen1-mbr-2tib"]);

    // Under Hyper-V's 3 MiB.
    let (code, r) = fit(&qemu_vhd("fit-fixed-2M", "fixed", "2M", true), "hyper-v");
    assert_verdict(code, &r, false);
    assert_eq!(failing(&r), ["hyperv-min-size", "hyperv-gen2-boot"]);
}

#[test]
fn the_json_report_and_the_exit_statuses() {
    let (_, r) = fit(&qemu_vhd("fit-fixed-64M", "fixed", "64M", true), "azure");
    let mut keys: Vec<&String> = r.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["fits", "rules", "target", "verdict"]);
    assert_eq!(r["target"], "azure");
    for rule in r["rules"].as_array().unwrap() {
        let mut keys: Vec<&String> = rule.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["code", "expected", "field", "found", "offset", "pass", "rule", "scope", "source"]);
        let source = rule["source"].as_str().unwrap();
        assert!(source.starts_with("https://learn.microsoft.com/") || source.starts_with("https://download.microsoft.com/"), "{rule}");
    }

    // A file that is no disk: 2, as `check` says.
    let dir = scratch("fit-status");
    let junk = dir.join("junk.vhd");
    std::fs::write(&junk, vec![0u8; 4096]).unwrap();
    let o = cli(&["check", junk.to_str().unwrap(), "--for", "azure"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // An unknown target: 2, with the targets named.
    let o = cli(&["check", junk.to_str().unwrap(), "--for", "vmware"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("one of azure, hyper-v"), "{}", stderr(&o));
}
