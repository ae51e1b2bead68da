//! Sorting a heap of opened files into differencing chains by unique id: what the web page does
//! with the files a person drops, where there are no folders to look in. A child names its parent
//! by the parent's unique id; every file that is nobody's parent starts a chain.

use std::collections::HashMap;

use crate::layer::Layer;
use crate::values::Uuid;

/// The files sorted into chains.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Arranged {
    /// Each chain as indices into the files given: the top (the file nobody names as parent)
    /// first, then its parent, and so on as far as the files given reach.
    pub chains: Vec<Vec<usize>>,
    /// Files whose unique id is that of an earlier file (the same disk given twice, or a copy):
    /// `(index, index of the earlier file)`. They are left out of the chains.
    pub duplicates: Vec<(usize, usize)>,
}

/// The piece number of a file named like a later piece of a Virtual PC split disk (`.v01` to
/// `.v99`, any case). Virtual PC splits a dynamic or differencing disk's file where it crosses the
/// file size limit of a FAT volume (2 GiB on FAT16, 4 GiB on FAT32) into `name.vhd`, `name.v01`,
/// ... `name` is a file name or path (either slash).
pub fn split_piece_number(name: &str) -> Option<u32> {
    let file = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let (stem, ext) = file.rsplit_once('.')?;
    let digits = ext.strip_prefix(['v', 'V']).filter(|d| !stem.is_empty() && d.len() == 2 && d.bytes().all(|b| b.is_ascii_digit()))?;
    digits.parse().ok().filter(|n| *n >= 1)
}

/// What to add to the error of a file that cannot be opened when its name is that of a later
/// piece of a split disk (see [`split_piece_number`]); empty otherwise.
pub fn split_piece_note(name: &str) -> String {
    match split_piece_number(name) {
        Some(n) => format!(". The name says it is piece {n} of a Virtual PC split disk (name.vhd, name.v01, name.v02, ...), which this viewer does not read"),
        None => String::new(),
    }
}

/// The parent unique id a layer names, if it is a differencing disk with a header (a VHDX's
/// `parent_linkage`, which names the parent's `DataWriteGuid`: a VHDX layer's `unique_id`).
pub fn parent_id(layer: &Layer) -> Option<Uuid> {
    layer.parent_link().map(|(id, _)| Uuid(id))
}

/// Sorts `layers` into chains. A file that is the parent of another file given is not the top of
/// a chain; one parent shared by two children appears in both chains. A chain stops where its
/// last file's parent was not given (see [`Disk::parent_missing`](crate::Disk::parent_missing))
/// or where following parents would loop. Files that are only part of a loop start a chain of
/// their own so that none is lost.
pub fn arrange(layers: &[&Layer]) -> Arranged {
    let mut out = Arranged::default();
    let mut by_id: HashMap<Uuid, usize> = HashMap::new();
    let mut kept = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        match by_id.get(&Uuid(l.link_id())) {
            Some(&first) => out.duplicates.push((i, first)),
            None => {
                by_id.insert(Uuid(l.link_id()), i);
                kept.push(i);
            }
        }
    }
    // By any id the layer takes as its parent's (a VHDX's parent_linkage2 too), as a chain
    // checks its links (`Layer::parent_matches`) and a folder's survey links its files.
    let parent_of = |i: usize| layers[i].parent_ids().into_iter().find_map(|p| by_id.get(&Uuid(p)).copied()).filter(|&p| p != i);
    let mut is_parent = vec![false; layers.len()];
    for &i in &kept {
        if let Some(p) = parent_of(i) {
            is_parent[p] = true;
        }
    }
    let mut placed = vec![false; layers.len()];
    let follow = |top: usize, placed: &mut Vec<bool>| {
        let mut chain = vec![top];
        placed[top] = true;
        let mut at = top;
        while let Some(p) = parent_of(at) {
            if chain.contains(&p) {
                break;
            }
            chain.push(p);
            placed[p] = true;
            at = p;
        }
        chain
    };
    for &i in &kept {
        if !is_parent[i] {
            let chain = follow(i, &mut placed);
            out.chains.push(chain);
        }
    }
    // Files in a loop are everybody's parent: start from the first one left.
    for &i in &kept {
        if !placed[i] {
            let chain = follow(i, &mut placed);
            out.chains.push(chain);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Located;
    use crate::image::{DiskType, Opened};
    use crate::vhd::footer::{Footer, FOOTER_SIZE};
    use crate::vhd::header::DynamicHeader;
    use crate::vhd::{FooterSource, Vhd};

    fn layer(id: u8, parent: Option<u8>) -> Layer {
        let mut f = Footer::parse(&[0u8; FOOTER_SIZE as usize]);
        f.unique_id = Uuid([id; 16]);
        f.disk_type = if parent.is_some() { DiskType::Differencing } else { DiskType::Dynamic };
        let mut h = DynamicHeader::parse(&[0u8; crate::vhd::header::HEADER_SIZE as usize]);
        h.parent_unique_id = Uuid([parent.unwrap_or(0); 16]);
        let image = Vhd {
            footer: Located { offset: 0, value: f },
            footer_source: FooterSource::End,
            end_footer: None,
            footer_copy: None,
            header: Some(Located { offset: 512, value: h }),
            locators: Vec::new(),
            bat: Vec::new(),
            bat_range: None,
        };
        Layer::from(Opened { file_len: 0, data_end: 0, findings: Vec::new(), image })
    }

    fn run(ls: &[Layer]) -> Arranged {
        arrange(&ls.iter().collect::<Vec<_>>())
    }

    #[test]
    fn chain_in_any_order() {
        // base (1) <- mid (2) <- top (3), given as base, top, mid.
        let a = run(&[layer(1, None), layer(3, Some(2)), layer(2, Some(1))]);
        assert_eq!(a.chains, vec![vec![1, 2, 0]]);
        assert!(a.duplicates.is_empty());
    }

    #[test]
    fn missing_parent_ends_the_chain() {
        let a = run(&[layer(3, Some(2)), layer(7, None)]);
        assert_eq!(a.chains, vec![vec![0], vec![1]]);
    }

    #[test]
    fn shared_parent_and_duplicates() {
        let a = run(&[layer(1, None), layer(2, Some(1)), layer(3, Some(1)), layer(2, Some(1))]);
        assert_eq!(a.chains, vec![vec![1, 0], vec![2, 0]]);
        assert_eq!(a.duplicates, vec![(3, 1)]);
    }

    #[test]
    fn split_piece_names() {
        assert_eq!(split_piece_number("split.v01"), Some(1));
        assert_eq!(split_piece_number("C:\\vms\\disk.V12"), Some(12));
        assert_eq!(split_piece_number("/a.b/disk.v00"), None);
        assert_eq!(split_piece_number("disk.vhd"), None);
        assert_eq!(split_piece_number(".v01"), None);
        assert_eq!(split_piece_number("disk.v1"), None);
        assert!(split_piece_note("x.v03").starts_with(". The name says it is piece 3 of"));
        assert_eq!(split_piece_note("x.vhd"), "");
    }

    #[test]
    fn loops_terminate() {
        let a = run(&[layer(1, Some(2)), layer(2, Some(1))]);
        assert_eq!(a.chains, vec![vec![0, 1]]);
        let a = run(&[layer(5, Some(5))]);
        assert_eq!(a.chains, vec![vec![0]]);
    }

    #[test]
    fn a_vhdx_child_named_by_its_parent_linkage2_is_chained() {
        use crate::reader::open_layer;
        use crate::vhdx::writer::{Kind, VhdxBuilder};
        use crate::vhdx::Guid;
        let mut base = VhdxBuilder::new(4 << 20);
        base.data_write_guid = Guid([0x42; 16]);
        let mut child = VhdxBuilder::new(4 << 20);
        child.data_write_guid = Guid([0x43; 16]);
        child.kind = Kind::Differencing {
            locator: vec![
                ("parent_linkage".into(), format!("{{{}}}", Guid([0x99; 16]))),
                ("parent_linkage2".into(), format!("{{{}}}", base.data_write_guid)),
                ("relative_path".into(), ".\\parent.vhdx".into()),
            ],
        };
        let (child, base) = (open_layer(&child.build()).unwrap(), open_layer(&base.build()).unwrap());
        assert_eq!(arrange(&[&child, &base]).chains, vec![vec![0, 1]]);
    }
}
