//! Whether a VHD is the parent a differencing VHD names.

use super::{footer, header, Vhd};
use crate::error::{Error, MismatchWords, Result, FORCE_HINT};

/// How a VHD's parent mismatch is said.
const WORDS: MismatchWords = MismatchWords {
    field: "its parent unique id field",
    id: "unique id",
    meaning: "it is not the disk the child was made from",
    hint: FORCE_HINT,
};
use crate::finding::{Finding, Severity};
use crate::image::DiskType;

/// Checks that `parent` is the parent VHD `child` (layer `i` of a chain) names: its unique id is
/// the child's parent unique id (with `force`, a mismatch is a finding instead of an error), and
/// its time stamp and size are the ones the child recorded.
pub(crate) fn check_parent(i: usize, child: &Vhd, parent: &Vhd, force: bool, findings: &mut Vec<Finding>) -> Result<()> {
    let Some(h) = child.header.as_ref().filter(|_| child.disk_type() == DiskType::Differencing) else {
        return Err(Error::ParentNotExpected {
            child: format!("layer {i}"),
            disk_type: child.disk_type().name(),
            given: format!("layer {}", i + 1),
        });
    };
    let at = h.offset + header::off::PARENT_UNIQUE_ID as u64;
    let want = h.value.parent_unique_id;
    let got = parent.footer.value.unique_id;
    if want != got {
        let e = Error::ParentIdMismatch {
            layer: format!("layer {i}"),
            offset: at,
            expected: want.to_string(),
            actual: got.to_string(),
            words: &WORDS,
        };
        if !force {
            return Err(e);
        }
        let msg = e.mismatch().unwrap_or_default();
        findings
            .push(Finding { layer: i, ..Finding::error("parent-id-mismatch", at, format!("{msg}; read anyway because it was forced")) });
    }
    let pts = h.value.parent_timestamp;
    let parent_ts = parent.footer.value.timestamp;
    if pts.0 != 0 && pts != parent_ts {
        findings.push(Finding {
            layer: i,
            ..Finding::warning(
                "parent-timestamp",
                h.offset + header::off::PARENT_TIMESTAMP as u64,
                format!(
                    "the child records its parent's time stamp as {}, the parent's footer says {}: the parent may have been changed after the child was made",
                    pts.iso8601(),
                    parent_ts.iso8601()
                ),
            )
        });
    }
    if child.size() != parent.size() {
        findings.push(Finding {
            layer: i,
            ..Finding::new(
                Severity::Warning,
                "parent-size",
                Some(child.footer.offset + footer::off::CURRENT_SIZE as u64),
                format!(
                    "layer {i} is {} bytes, its parent {} bytes; sectors past the parent's end read as zeros",
                    child.size(),
                    parent.size()
                ),
            )
        });
    }
    Ok(())
}
