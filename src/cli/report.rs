//! `report`: one self-contained HTML file about the disk (`vhd_viewer::report`), on stdout.

use std::io::Write;

use vhd_viewer::report;
use vhd_viewer::Error;

use super::chain::OpenChain;
use super::io_err;

/// `report`: hashes every file, checks, compares a child with its parent, and writes the HTML;
/// the files are named without their folders, as the page names them, so that it writes the
/// page's bytes wherever it is run from. `key` unlocks the BitLocker volumes.
pub fn report(c: &OpenChain, key: Option<&vhd_viewer::bitlocker::Key>) -> Result<i32, Error> {
    let mut progress = super::percent("report");
    let contents = report::gather(&c.disk, &c.sources(), &c.file_names(), &c.unresolved, key, &mut progress)?;
    let mut out = std::io::stdout().lock();
    out.write_all(report::html(&contents).as_bytes()).and_then(|_| out.flush()).map_err(io_err)?;
    Ok(0)
}
