//! `timeline`: every file's and directory's times, through the chain, as sleuthkit's body file
//! or sorted by time (text, CSV, JSON lines).

use std::io::Write;

use vhd_viewer::bitlocker::Key;
use vhd_viewer::parts::Partition;
use vhd_viewer::reader::DiskReader;
use vhd_viewer::timeline::{self, Line, MAX_LINES};
use vhd_viewer::Error;

use super::chain::OpenChain;
use super::io_err;

/// How `timeline` writes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Sorted by time, one line per time: `TIME KIND SIZE LAYER PATH`.
    Text,
    /// sleuthkit's body file, in the order of the walk.
    Body,
    /// Sorted by time, CSV with a header.
    Csv,
    /// Sorted by time, one JSON object a line.
    Json,
}

/// `timeline` (BitLocker volumes unlocked with `key` when one is given).
pub fn timeline(c: &OpenChain, key: Option<&Key>, on: &super::files::On, deleted: bool, format: Format) -> Result<i32, Error> {
    let mut reader = DiskReader::new(&c.disk, c.sources())?;
    let table = super::files::table(&mut reader, key)?;
    let chosen: Vec<Partition> = super::files::chosen(&table, on)?.into_iter().cloned().collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if format == Format::Csv {
        writeln!(out, "{}", timeline::CSV_HEADER).map_err(io_err)?;
    }
    // The sorted forms hold every line (and its partition or volume) until the end.
    let (mut lines, mut of_part): (Vec<Line>, Vec<&Partition>) = (Vec::new(), Vec::new());
    let mut cut_short = false;
    timeline::chain_lines(&mut reader, &chosen, deleted, &mut |partition, l| {
        if format == Format::Body {
            writeln!(out, "{}", l.body()).map_err(io_err)?;
            return Ok(true);
        }
        if lines.len() >= MAX_LINES {
            cut_short = true;
            return Ok(false);
        }
        lines.push(l);
        of_part.push(partition);
        Ok(true)
    })?;
    if format != Format::Body {
        for (i, kind) in timeline::sorted(&lines) {
            let r = timeline::Row { volume: of_part[i].volume_name(), ..timeline::row(of_part[i].index, &lines[i], kind) };
            match format {
                Format::Csv => writeln!(out, "{}", timeline::csv(&r)).map_err(io_err)?,
                Format::Json => {
                    serde_json::to_writer(&mut out, &r).map_err(std::io::Error::from).map_err(io_err)?;
                    writeln!(out).map_err(io_err)?;
                }
                _ => {
                    let attr = r.attribute.map_or(String::new(), |a| format!(" ({a})"));
                    let layer = r.layer.map_or("-".into(), |l| l.to_string());
                    let del = if r.deleted { " (deleted)" } else { "" };
                    writeln!(out, "{}  {}{attr:<5}  {:>12}  layer {layer}  {}{del}", r.time, r.kind, r.size, r.path).map_err(io_err)?
                }
            }
        }
    }
    out.flush().map_err(io_err)?;
    if cut_short {
        eprintln!(
            "vhd-viewer: timeline: stopped at {MAX_LINES} lines (the sorted output holds them all); --bodyfile streams without a bound"
        );
        return Ok(1);
    }
    Ok(0)
}
