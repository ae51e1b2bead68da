//! Text output of the commands.

use std::io::{self, Write};

use vhd_viewer::disk::Source;
use vhd_viewer::fields::Field;
use vhd_viewer::info::Info;
use vhd_viewer::reader::DiskReader;
use vhd_viewer::values::human_size;
use vhd_viewer::{Error, Finding};

use super::chain::OpenChain;

fn fields(out: &mut dyn Write, rows: &[Field], explain: bool) -> io::Result<()> {
    for f in rows {
        let mark = if f.ok { " " } else { "!" };
        writeln!(out, "  {:#010x} {mark} {:<22} {}", f.offset, f.name, f.value)?;
        if explain {
            writeln!(out, "  {:12} {:22} {}", "", "", f.explain)?;
        }
    }
    Ok(())
}

/// `info` as text.
pub fn write_info(out: &mut dyn Write, info: &Info, chain: &OpenChain, explain: bool) -> io::Result<()> {
    let l = &info.layer;
    writeln!(out, "File:       {} ({} bytes)", l.file, l.file_size)?;
    writeln!(out, "Disk:       {}, {} ({} bytes)", l.disk_type, human_size(l.current_size()), l.current_size())?;
    if let Some(x) = &l.vhdx {
        write_vhdx(out, x, explain)?;
    }
    if let Some(v) = &l.vhd {
        write_vhd(out, l, v, explain)?;
    }
    write_chain(out, info, chain)
}

/// The VHDX part of `info` as text.
fn write_vhdx(out: &mut dyn Write, x: &vhd_viewer::info::VhdxInfo, explain: bool) -> io::Result<()> {
    writeln!(out, "Format:     VHDX, created by \"{}\"", x.creator)?;
    writeln!(
        out,
        "Blocks:     {} ({} bytes; {} payload blocks, {}-byte logical sectors, {}-byte physical), {} with data",
        human_size(u64::from(x.block_size)),
        x.block_size,
        x.payload_blocks,
        x.logical_sector_size,
        x.physical_sector_size,
        x.allocated_blocks
    )?;
    let states: Vec<String> = x.block_states.iter().map(|(s, n)| format!("{n} {}", s.name())).collect();
    writeln!(out, "States:     {}", states.join(", "))?;
    writeln!(
        out,
        "Header:     {} is current (sequence numbers {} and {}; valid: {} and {})",
        x.current_header, x.header_sequence_numbers[0], x.header_sequence_numbers[1], x.headers_valid[0], x.headers_valid[1]
    )?;
    writeln!(out, "Data id:    {} (DataWriteGuid)", x.data_write_guid)?;
    let log = if !x.log_dirty {
        "clean (closed properly: nothing to replay)".to_string()
    } else if x.log_replayed {
        format!("DIRTY: {} entries replayed in memory; the disk is shown after replay (the file is not written)", x.log_entries.len())
    } else {
        "DIRTY, and the log does not verify: the disk is read as stored".to_string()
    };
    writeln!(out, "Log:        {log}")?;
    // The entries left in the log region: replayed, or why not (a clean log's earlier sessions).
    const SHOWN: usize = 16;
    for e in x.log_region_entries.iter().take(SHOWN) {
        writeln!(
            out,
            "Log entry:  at {:#x}: sequence number {}, log GUID {}, {} writes; {}",
            e.offset, e.sequence_number, e.log_guid, e.writes, e.status
        )?;
    }
    if x.log_region_entries.len() > SHOWN {
        writeln!(out, "Log entry:  ... and {} more (info --json lists every one)", x.log_region_entries.len() - SHOWN)?;
    }
    if let Some(note) = &x.log_region_note {
        writeln!(out, "Log region: {note}")?;
    }
    for (k, v) in &x.parent_locator {
        writeln!(out, "Parent:     {k} = {v}")?;
    }
    for st in &x.structures {
        writeln!(out, "\n{} at {:#x}", st.name, st.offset)?;
        fields(out, &st.fields, explain)?;
    }
    Ok(())
}

/// The VHD part of `info` as text.
fn write_vhd(out: &mut dyn Write, l: &vhd_viewer::info::LayerInfo, v: &vhd_viewer::info::VhdInfo, explain: bool) -> io::Result<()> {
    writeln!(
        out,
        "Created:    {} by \"{}\" {} on \"{}\"",
        v.timestamp.iso8601(),
        v.creator_application,
        v.creator_version,
        v.creator_host_os
    )?;
    writeln!(out, "Unique id:  {}", v.unique_id)?;
    let source = match v.footer_source {
        "end" => "at the end of the file",
        "end-511" => "at the end of the file, 511 bytes long",
        _ => "the copy at byte 0, used because the end footer is missing or damaged",
    };
    writeln!(out, "\nFooter at {:#x} ({source}); ! marks a value that is wrong by the spec", v.footer_offset)?;
    let footer_rows = l.fields.iter().take_while(|f| f.key != "header_cookie").cloned().collect::<Vec<_>>();
    fields(out, &footer_rows, explain)?;
    if let Some(copy) = &v.footer_copy {
        if copy.identical {
            writeln!(out, "\nFooter copy at 0x0: identical to the end footer")?;
        } else if v.footer_source == "copy" {
            writeln!(out, "\nFooter copy at 0x0: in use (see above)")?;
        } else {
            writeln!(
                out,
                "\nFooter copy at 0x0: checksum {}; differs from the end footer in: {}",
                if copy.checksum_valid { "good" } else { "WRONG" },
                copy.differences.join(", ")
            )?;
            fields(out, &copy.fields, explain)?;
        }
    }
    if let Some(d) = &l.dynamic {
        writeln!(out, "\nDynamic header at {:#x}", d.header_offset)?;
        let rows = l.fields.iter().skip_while(|f| f.key != "header_cookie").cloned().collect::<Vec<_>>();
        fields(out, &rows, explain)?;
        for loc in &d.parent_locators {
            writeln!(out, "\nParent locator {} at {:#x}", loc.index, loc.offset)?;
            fields(out, &loc.fields, explain)?;
        }
        writeln!(
            out,
            "\nBAT at {:#x}: {} entries, {} blocks allocated ({}), {} out of file order",
            d.table_offset,
            d.bat_entries,
            d.allocated_blocks,
            human_size(d.allocated_blocks * u64::from(d.block_size)),
            d.out_of_order_blocks
        )?;
    }
    Ok(())
}

fn write_chain(out: &mut dyn Write, info: &Info, chain: &OpenChain) -> io::Result<()> {
    if !info.chain.is_empty() {
        writeln!(out, "\nChain (the opened file first):")?;
        for (i, c) in info.chain.iter().enumerate() {
            let link = match c.parent_verified {
                Some(true) => "parent verified".to_string(),
                Some(false) if i + 1 == info.chain.len() => "parent NOT FOUND".to_string(),
                Some(false) => "parent unique id MISMATCH".to_string(),
                None => "base".to_string(),
            };
            writeln!(
                out,
                "  {i}: {} ({}, \"{}\", {}, {} blocks, id {}; {link})",
                c.file,
                c.disk_type,
                c.creator_application,
                human_size(c.current_size),
                c.allocated_blocks,
                c.unique_id
            )?;
        }
    }
    let mut all = info.all_findings.clone();
    all.extend(chain.unresolved.iter().cloned());
    writeln!(out)?;
    write_findings(out, &all, &chain.names)
}

/// Findings as text, most severe first.
pub fn write_findings(out: &mut dyn Write, findings: &[Finding], names: &[String]) -> io::Result<()> {
    if findings.is_empty() {
        return writeln!(out, "No findings: the structures are consistent.");
    }
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let errors = findings.iter().filter(|f| f.severity == vhd_viewer::Severity::Error).count();
    writeln!(out, "Findings ({} in all, {errors} errors):", findings.len())?;
    for f in sorted {
        let sev = match f.severity {
            vhd_viewer::Severity::Error => "error  ",
            vhd_viewer::Severity::Warning => "warning",
            vhd_viewer::Severity::Info => "info   ",
        };
        let at = f.offset.map(|o| format!("{o:#x}")).unwrap_or_else(|| "-".into());
        let file = if names.len() > 1 { format!("{}: ", names.get(f.layer).map(String::as_str).unwrap_or("?")) } else { String::new() };
        writeln!(out, "  {sev} {at:>12}  [{}] {file}{}", f.code, f.message)?;
    }
    Ok(())
}

#[derive(serde::Serialize)]
struct MapRow<'a> {
    start: u64,
    length: u64,
    #[serde(flatten)]
    source: Source,
    file: Option<&'a str>,
}

/// Appends `v` as `{:<#19x} `: `0x` and lower-case hex digits, padded with spaces to 19
/// characters, then a space.
fn hex_cell(line: &mut Vec<u8>, v: u64) {
    let start = line.len();
    line.extend_from_slice(b"0x");
    let digits = (64 - v.leading_zeros()).div_ceil(4).max(1);
    for i in (0..digits).rev() {
        line.push(b"0123456789abcdef"[((v >> (4 * i)) & 15) as usize]);
    }
    line.resize(start + 19, b' ');
    line.push(b' ');
}

/// `map`: text lists data (and missing) ranges like `qemu-img map`; JSON lists every range.
pub fn write_map(
    out: &mut dyn Write,
    reader: &mut DiskReader<'_>,
    offset: u64,
    len: u64,
    names: &[String],
    json: bool,
    base: usize,
) -> Result<(), Error> {
    let io = super::io_err;
    if json {
        out.write_all(b"[").map_err(io)?;
    } else {
        writeln!(out, "{:<19} {:<19} {:<19} File", "Offset", "Length", "Mapped to").map_err(io)?;
    }
    let mut first = true;
    let mut line = Vec::with_capacity(128);
    reader.for_each_extent(offset, len, |e| {
        let file = match e.source {
            Source::Data { layer, .. } | Source::Missing { layer } => names.get(layer).map(String::as_str),
            Source::Zero => None,
        };
        if json {
            // Layers numbered as in the whole chain (`--layer` cuts it).
            let source = match e.source {
                Source::Data { layer, file_offset } => Source::Data { layer: layer + base, file_offset },
                Source::Missing { layer } => Source::Missing { layer: layer + base },
                Source::Zero => Source::Zero,
            };
            let row = MapRow { start: e.offset, length: e.len, source, file };
            let sep = if first { "\n" } else { ",\n" };
            first = false;
            write!(out, "{sep}{}", serde_json::to_string(&row).unwrap_or_default()).map_err(io)
        } else {
            match e.source {
                Source::Data { file_offset, .. } => {
                    // The same text as `{:<#19x} {:<#19x} {:<#19x} {}`, without the formatting
                    // machinery: a fragmented disk has millions of these rows.
                    line.clear();
                    for v in [e.offset, e.len, file_offset] {
                        hex_cell(&mut line, v);
                    }
                    line.extend_from_slice(file.unwrap_or("?").as_bytes());
                    line.push(b'\n');
                    out.write_all(&line).map_err(io)
                }
                Source::Missing { layer } => {
                    let why = if reader.disk.layers.get(layer).is_some_and(|l| l.disk_type() == vhd_viewer::image::DiskType::Differencing) {
                        "parent of"
                    } else {
                        "past the end of"
                    };
                    writeln!(out, "{:<#19x} {:<#19x} {:<19} {why} {} (missing)", e.offset, e.len, "-", file.unwrap_or("?")).map_err(io)
                }
                Source::Zero => Ok(()),
            }
        }
    })?;
    if json {
        out.write_all(b"\n]\n").map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::hex_cell;

    #[test]
    fn hex_cells_are_the_formatted_text() {
        for v in [0u64, 1, 0xf, 0x10, 0x1fe00, 0x7fff_ffff, 1 << 40, u64::MAX] {
            let mut line = Vec::new();
            hex_cell(&mut line, v);
            assert_eq!(String::from_utf8(line).unwrap(), format!("{v:<#19x} "));
        }
    }
}
