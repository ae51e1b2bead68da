//! Text output of the commands.

use std::io::{self, Write};

use vhd_viewer::disk::{Extent, Source};
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

/// `check --for` as text: the verdict, then one line per rule (failing rules of every disk
/// first, then those of some uses, then those that pass), and the way to a copy that fits.
pub fn write_fit(out: &mut dyn Write, report: &vhd_viewer::fit::FitReport, file: &str) -> io::Result<()> {
    use vhd_viewer::fit::Scope;
    writeln!(out, "{file}: {}", report.verdict)?;
    let passing = report.rules.iter().filter(|r| r.pass);
    for r in report.failing().chain(passing) {
        let mark = if r.pass { "PASS" } else { "FAIL" };
        let scope = if r.scope == Scope::Always { String::new() } else { format!(" ({})", r.scope.words()) };
        let at = r.offset.map(|o| format!(" at byte {o}")).unwrap_or_default();
        writeln!(out, "{mark}  {}{scope}: found {}; expected {} [{}{at}]", r.rule, r.found, r.expected, r.field)?;
    }
    if report.target == vhd_viewer::fit::Target::Azure.name() && report.failing().next().is_some() {
        writeln!(out, "A copy Azure takes: vhd-viewer convert --for azure {file} OUT.vhd")?;
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
    writeln!(out, "Log:        {}", x.log_words())?;
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

/// The decimal digits of 0 to 99, two bytes each.
const PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// How much of `map`'s output is gathered before it is written.
const MAP_BUF: usize = 256 << 10;

/// `map`'s output: rows are formatted straight into one buffer through a cursor (numbers digit
/// by digit in place, with no temporary to copy from) and written `MAP_BUF` bytes at a time. A
/// fragmented disk has tens of millions of rows (the 127 GiB benchmark disk 37 million).
struct Rows<'o> {
    out: &'o mut dyn Write,
    /// `MAP_BUF` bytes plus room for the longest row.
    buf: Vec<u8>,
    at: usize,
}

impl<'o> Rows<'o> {
    /// A buffer over `out` for rows of at most `room` bytes.
    fn new(out: &'o mut dyn Write, room: usize) -> Self {
        Rows { out, buf: vec![0; MAP_BUF + room], at: 0 }
    }

    fn put(&mut self, b: &[u8]) {
        self.buf[self.at..self.at + b.len()].copy_from_slice(b);
        self.at += b.len();
    }

    /// `v` in decimal, as `{v}` writes it, two digits at a time, in place from the last.
    fn decimal(&mut self, mut v: u64) {
        let n = v.checked_ilog10().map_or(1, |d| d as usize + 1);
        let digits = &mut self.buf[self.at..self.at + n];
        let mut i = n;
        while v >= 100 {
            let p = (v % 100) as usize * 2;
            v /= 100;
            i -= 2;
            digits[i..i + 2].copy_from_slice(&PAIRS[p..p + 2]);
        }
        if v >= 10 {
            digits[..2].copy_from_slice(&PAIRS[v as usize * 2..v as usize * 2 + 2]);
        } else {
            digits[0] = b'0' + v as u8;
        }
        self.at += n;
    }

    /// `v` as `{:<#19x} `: `0x` and lower-case hex digits, padded with spaces to 19 characters,
    /// then a space.
    fn hex_cell(&mut self, v: u64) {
        let cell = &mut self.buf[self.at..self.at + 20];
        cell.fill(b' ');
        cell[..2].copy_from_slice(b"0x");
        let digits = (64 - v.leading_zeros()).div_ceil(4).max(1) as usize;
        for (i, c) in cell[2..2 + digits].iter_mut().rev().enumerate() {
            *c = b"0123456789abcdef"[((v >> (4 * i)) & 15) as usize];
        }
        self.at += 20;
    }

    /// One row of `map --json`: the same text as serde_json gives for
    /// `{start, length, kind (and layer, file_offset), file}`, where `file` is the row's file
    /// name already written as JSON (a quoted, escaped string, or `null`).
    fn json(&mut self, e: &Extent, file: &[u8]) {
        self.put(b"{\"start\":");
        self.decimal(e.offset);
        self.put(b",\"length\":");
        self.decimal(e.len);
        match e.source {
            Source::Zero => self.put(b",\"kind\":\"zero\""),
            Source::Data { layer, file_offset } => {
                self.put(b",\"kind\":\"data\",\"layer\":");
                self.decimal(layer as u64);
                self.put(b",\"file_offset\":");
                self.decimal(file_offset);
            }
            Source::Missing { layer } => {
                self.put(b",\"kind\":\"missing\",\"layer\":");
                self.decimal(layer as u64);
            }
        }
        self.put(b",\"file\":");
        self.put(file);
        self.put(b"}");
    }

    /// Ends a row: writes the buffer out once it holds `MAP_BUF` bytes.
    fn end_row(&mut self) -> io::Result<()> {
        if self.at >= MAP_BUF {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf[..self.at])?;
        self.at = 0;
        Ok(())
    }
}

/// `map`: text lists data (and missing) ranges like `qemu-img map`; JSON lists every range.
/// Each file's name is escaped for JSON once, not once per row.
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
    // Each layer's file name as JSON, then `null` for the zero ranges (which have no file).
    let mut json_names: Vec<Vec<u8>> = names.iter().map(|n| serde_json::to_vec(n).unwrap_or_else(|_| b"null".to_vec())).collect();
    let null = json_names.len();
    json_names.push(b"null".to_vec());
    // A row is at most 3 numbers of 20 digits, a layer's name and 120 bytes of words.
    let mut rows = Rows::new(out, 256 + json_names.iter().map(Vec::len).max().unwrap_or(0));
    if json {
        rows.put(b"[");
    } else {
        rows.put(format!("{:<19} {:<19} {:<19} File\n", "Offset", "Length", "Mapped to").as_bytes());
    }
    let mut first = true;
    reader.for_each_extent(offset, len, |e| {
        let layer = match e.source {
            Source::Data { layer, .. } | Source::Missing { layer } => Some(layer),
            Source::Zero => None,
        };
        if json {
            // Layers numbered as in the whole chain (`--layer` cuts it).
            let row = Extent {
                source: match e.source {
                    Source::Data { layer, file_offset } => Source::Data { layer: layer + base, file_offset },
                    Source::Missing { layer } => Source::Missing { layer: layer + base },
                    Source::Zero => Source::Zero,
                },
                ..e
            };
            rows.put(if first { b"\n" } else { b",\n" });
            first = false;
            rows.json(&row, &json_names[layer.filter(|l| *l < null).unwrap_or(null)]);
        } else {
            let file = layer.and_then(|l| names.get(l)).map_or("?", String::as_str);
            match e.source {
                Source::Data { file_offset, .. } => {
                    for v in [e.offset, e.len, file_offset] {
                        rows.hex_cell(v);
                    }
                    rows.put(file.as_bytes());
                    rows.put(b"\n");
                }
                Source::Missing { layer } => {
                    let why = if reader.disk.layers.get(layer).is_some_and(|l| l.disk_type() == vhd_viewer::image::DiskType::Differencing) {
                        "parent of"
                    } else {
                        "past the end of"
                    };
                    rows.put(format!("{:<#19x} {:<#19x} {:<19} {why} {file} (missing)\n", e.offset, e.len, "-").as_bytes());
                }
                Source::Zero => {}
            }
        }
        rows.end_row().map_err(io)
    })?;
    if json {
        rows.put(b"\n]\n");
    }
    rows.flush().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::Rows;
    use vhd_viewer::disk::{Extent, Source};

    #[test]
    fn hex_cells_are_the_formatted_text() {
        for v in [0u64, 1, 0xf, 0x10, 0x1fe00, 0x7fff_ffff, 1 << 40, u64::MAX] {
            let mut line = Vec::new();
            let mut rows = Rows::new(&mut line, 20);
            rows.hex_cell(v);
            rows.flush().unwrap();
            assert_eq!(String::from_utf8(line).unwrap(), format!("{v:<#19x} "));
        }
    }

    #[test]
    fn decimals_are_the_formatted_text() {
        let mut values = vec![0u64, 9, 10, 99, 100, 101, 999, 1000, 4096, 2097152, u64::MAX, u64::MAX - 1];
        values.extend((0..20).map(|k| 10u64.pow(k)));
        values.extend((1..20).map(|k| 10u64.pow(k) - 1));
        values.extend((0..64).map(|k| 0x9e37_79b9_7f4a_7c15u64 >> k));
        for v in values {
            let mut line = Vec::new();
            let mut rows = Rows::new(&mut line, 21);
            rows.put(b"x");
            rows.decimal(v);
            rows.flush().unwrap();
            assert_eq!(String::from_utf8(line).unwrap(), format!("x{v}"));
        }
    }

    /// What `map --json` printed with serde_json, one row at a time.
    #[derive(serde::Serialize)]
    struct MapRow<'a> {
        start: u64,
        length: u64,
        #[serde(flatten)]
        source: Source,
        file: Option<&'a str>,
    }

    #[test]
    fn json_rows_are_serde_json_rows() {
        let sources = [
            Source::Zero,
            Source::Data { layer: 0, file_offset: 0 },
            Source::Data { layer: 7, file_offset: 0x1f_ffff_fe00 },
            Source::Missing { layer: 3 },
            Source::Missing { layer: usize::MAX },
        ];
        let names = [None, Some("disk.vhd"), Some("a \"quoted\" \\ name\twith\u{1} control and \u{e9}t\u{e9}.vhdx")];
        for source in sources {
            for name in names {
                for (start, length) in [(0, 512), (1 << 40, 2097152), (u64::MAX - 1, 1)] {
                    let row = MapRow { start, length, source, file: name };
                    let mut line = Vec::new();
                    let file = serde_json::to_vec(&name).unwrap();
                    let mut rows = Rows::new(&mut line, 256 + file.len());
                    rows.json(&Extent { offset: start, len: length, source }, &file);
                    rows.flush().unwrap();
                    assert_eq!(String::from_utf8(line).unwrap(), serde_json::to_string(&row).unwrap());
                }
            }
        }
    }
}
