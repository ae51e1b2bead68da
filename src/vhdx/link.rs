//! Whether a VHDX is the parent a differencing VHDX names.

use super::Vhdx;
use crate::error::{Error, MismatchWords, Result, FORCE_HINT};

/// How a VHDX's parent mismatch is said.
const WORDS: MismatchWords = MismatchWords {
    field: "parent_linkage in its parent locator",
    id: "DataWriteGuid",
    meaning: "the parent's data was changed after the child was made (or it is another disk), so the child's sectors may not fit it",
    hint: FORCE_HINT,
};
use crate::finding::Finding;

/// Checks that `p` is the parent VHDX `c` (layer `i` of a chain) names: its `DataWriteGuid` is the child's
/// `parent_linkage` (or `parent_linkage2`).
pub(crate) fn check_parent(i: usize, c: &Vhdx, p: &Vhdx, force: bool, findings: &mut Vec<Finding>) -> Result<()> {
    if !c.has_parent {
        return Err(Error::ParentNotExpected {
            child: format!("layer {i}"),
            disk_type: c.disk_type().name(),
            given: format!("layer {}", i + 1),
        });
    }
    let at = c.parent_locator.as_ref().map_or(c.metadata_table.offset, |l| l.offset);
    let got = p.data_write_guid();
    let (linkage, linkage2) = c.parent_linkage();
    if linkage != Some(got) && linkage2 == Some(got) {
        findings.push(Finding {
            layer: i,
            ..Finding::info(
                "vhdx-parent-linkage2",
                at,
                format!("the parent's DataWriteGuid {got} is the child's parent_linkage2, the id the parent had before a write that was interrupted: accepted, as the spec allows"),
            )
        });
    } else if linkage != Some(got) {
        let want = linkage.map_or_else(|| "no id".to_string(), |g| g.to_string());
        let e = Error::ParentIdMismatch { layer: format!("layer {i}"), offset: at, expected: want, actual: got.to_string(), words: &WORDS };
        if !force {
            return Err(e);
        }
        let msg = e.mismatch().unwrap_or_default();
        findings
            .push(Finding { layer: i, ..Finding::error("parent-id-mismatch", at, format!("{msg}; read anyway because it was forced")) });
    }
    if c.logical_sector_size != p.logical_sector_size {
        findings.push(Finding {
            layer: i,
            ..Finding::error(
                "vhdx-parent-sector-size",
                at,
                format!("layer {i} has {}-byte logical sectors, its parent {}-byte ones", c.logical_sector_size, p.logical_sector_size),
            )
        });
    }
    if c.virtual_disk_size != p.virtual_disk_size {
        findings.push(Finding {
            layer: i,
            ..Finding::warning(
                "parent-size",
                at,
                format!(
                    "layer {i} is {} bytes, its parent {} bytes; sectors past the parent's end read as zeros",
                    c.virtual_disk_size, p.virtual_disk_size
                ),
            )
        });
    }
    Ok(())
}
