//! `vhd-viewer report`: one static HTML file about a chain of three files (a FAT16 disk made by
//! mkfs.vfat and mtools; the child adds a file, the grandchild deletes one). The report parses
//! (as XML too), holds no script, holds each section, names the SHA-256 of each file as
//! `sha256sum` computes it, lists what the grandchild changed, and is the same bytes every run.

mod common;
use common::*;

use std::path::{Path, PathBuf};

use vhd_viewer::values::Uuid;
use vhd_viewer::vhd::writer::DiskBuilder;

const PART: u64 = 63 * 512;
const PAGE: usize = 4096;

/// Three raw disks: `base.raw` (two files), `child.raw` (one added), `grand.raw` (one deleted).
const SCRIPT: &str = r#"
set -euo pipefail
export LC_ALL=C.UTF-8 MTOOLS_SKIP_CHECK=1 TZ=UTC
truncate -s 16M base.raw
printf 'label: dos\nstart=63, type=6\n' | sfdisk -q base.raw
mkfs.vfat -F 16 -s 4 --offset 63 -h 63 -i 12345678 -n REPORT base.raw $(( (16 * 2048 - 63) / 2 )) >/dev/null
i=base.raw@@32256
head -c 20000 /dev/zero | tr '\0' 'k' > keep.txt; mcopy -i $i keep.txt ::/keep.txt
printf 'old\n' > old.txt; mcopy -i $i old.txt ::/old.txt
cp base.raw child.raw
printf 'added by the child\n' > added.txt; mcopy -i child.raw@@32256 added.txt ::/added.txt
cp child.raw grand.raw
mdel -i grand.raw@@32256 ::/old.txt
touch done
"#;

/// The chain's three files, in a folder of their own for each test (`tag`): `grand.vhd`,
/// `child.vhd`, `base.vhd`.
fn chain(tag: &str) -> PathBuf {
    let img = script_image("report", "fat16-chain", SCRIPT, &[], "done", &[]);
    let raw = |n: &str| std::fs::read(img.join(n)).unwrap();
    let (base_raw, child_raw, grand_raw) = (raw("base.raw"), raw("child.raw"), raw("grand.raw"));
    let base = dynamic_vhd(&base_raw, "report-base");
    // A child holding the pages of `new` that differ from `old`.
    let over = |parent: &DiskBuilder, name: &str, old: &[u8], new: &[u8], seed: &str| {
        let mut d = DiskBuilder::differencing(&parent.parent_ref(name), 2 << 20);
        d.unique_id(Uuid(id_for(seed)));
        for (p, (a, b)) in old.chunks(PAGE).zip(new.chunks(PAGE)).enumerate() {
            if a != b {
                d.write((p * PAGE) as u64, b);
            }
        }
        d
    };
    let child = over(&base, "base.vhd", &base_raw, &child_raw, "report-child");
    let grand = over(&child, "child.vhd", &child_raw, &grand_raw, "report-grand");
    assert_eq!(base_raw[..PART as usize], grand_raw[..PART as usize]);
    let dir = scratch(&format!("report-chain-{tag}"));
    for (name, d) in [("base.vhd", &base), ("child.vhd", &child), ("grand.vhd", &grand)] {
        std::fs::write(dir.join(name), d.build()).unwrap();
    }
    dir
}

fn report(dir: &Path) -> String {
    let o = cli_in(dir, &["report", "grand.vhd", "--parent", "child.vhd", "--parent", "base.vhd"]);
    assert!(o.status.success(), "report: {}", stderr(&o));
    String::from_utf8(o.stdout).expect("UTF-8")
}

#[test]
fn a_three_file_chain_reports_every_section_its_hashes_and_what_changed() {
    let dir = chain("sections");
    let html = report(&dir);
    assert_eq!(html, report(&dir), "two runs gave other bytes");
    // Run from elsewhere, with the files' full paths: the same bytes (the files are named as the
    // page names them, without their folders).
    let (g, c, b) = (dir.join("grand.vhd"), dir.join("child.vhd"), dir.join("base.vhd"));
    assert_eq!(vv(&["report", p(&g), "--parent", p(&c), "--parent", p(&b)], 0), html, "run from another folder");

    // It parses, as XML too, and nothing in it runs.
    let doc = roxmltree::Document::parse_with_options(&html, roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() })
        .unwrap_or_else(|e| panic!("the report is not well-formed: {e}"));
    let lower = html.to_lowercase();
    assert!(!lower.contains("<script"), "a script");
    assert!(!doc.descendants().any(|n| n.attributes().any(|a| a.name().starts_with("on"))), "an event handler");
    assert!(!lower.contains("javascript:"));

    // Each section, with its heading.
    let ids: Vec<&str> = doc.descendants().filter(|n| n.has_tag_name("section")).filter_map(|n| n.attribute("id")).collect();
    for want in ["files", "summary", "findings", "partitions", "changes", "structures"] {
        assert!(ids.contains(&want), "no section {want}: {ids:?}");
    }
    assert!(html.contains(&format!("vhd-viewer {}", env!("CARGO_PKG_VERSION"))), "the version");

    // The Files table: each file's SHA-256 as sha256sum computes it, in the chain's order.
    let files = doc.descendants().find(|n| n.attribute("id") == Some("files")).unwrap();
    let rows: Vec<Vec<String>> = files
        .descendants()
        .filter(|n| n.has_tag_name("tr"))
        .skip(1)
        .map(|r| r.children().filter(|c| c.has_tag_name("td")).map(|c| c.text().unwrap_or("").to_string()).collect())
        .collect();
    let names = ["grand.vhd", "child.vhd", "base.vhd"];
    assert_eq!(rows.len(), 3, "{rows:?}");
    for (row, name) in rows.iter().zip(names) {
        assert_eq!(row[1], name);
        assert_eq!(row[3], sha256_file(&dir.join(name)), "{name}");
        let len = std::fs::metadata(dir.join(name)).unwrap().len();
        assert!(row[2].contains(&format!("({len} bytes)")), "{row:?}");
    }

    // What the grandchild changed: old.txt deleted, as `diff` says it.
    let diff = vv_both(
        &["diff", p(&dir.join("grand.vhd")), "--parent", p(&dir.join("child.vhd")), "--parent", p(&dir.join("base.vhd")), "--json"],
        0,
    )
    .0;
    let diff: serde_json::Value = serde_json::from_str(&diff).unwrap();
    let changes = &diff["partitions"][0]["changes"];
    assert_eq!(changes.as_array().map(Vec::len), Some(1), "{changes}");
    assert_eq!((changes[0]["kind"].as_str(), changes[0]["path"].as_str()), (Some("deleted"), Some("/old.txt")));
    let section = |id: &str| {
        let s = doc.descendants().find(|n| n.attribute("id") == Some(id)).unwrap();
        s.descendants().filter_map(|n| n.text()).collect::<Vec<_>>().join(" ")
    };
    let changed = section("changes");
    assert!(changed.contains("deleted") && changed.contains("/old.txt"), "{changed}");
    assert!(!changed.contains("added.txt"), "the child's change is not the grandchild's: {changed}");

    // The pictures, inline, each as `vhd-viewer draw` draws it.
    let pictures = doc.descendants().find(|n| n.attribute("id") == Some("pictures")).expect("a pictures section");
    let svgs: Vec<_> = pictures.descendants().filter(|n| n.has_tag_name(("http://www.w3.org/2000/svg", "svg"))).collect();
    assert_eq!(svgs.len(), 6, "chain, block map, bitmap, provenance, partitions, changes");
    assert!(svgs.iter().all(|s| s.children().any(|c| c.has_tag_name(("http://www.w3.org/2000/svg", "title")))), "each with its title");
    for args in [&["chain"][..], &["bat"], &["provenance"], &["partitions"], &["changes"]] {
        let mut all = vec!["draw", "grand.vhd", "--parent", "child.vhd", "--parent", "base.vhd"];
        all.extend_from_slice(args);
        let o = cli_in(&dir, &all);
        assert!(o.status.success(), "{all:?}: {}", stderr(&o));
        assert!(html.contains(stdout(&o).trim()), "draw {args:?} is inlined as drawn");
    }

    // The partition and its file system; the structures of each layer; the findings counted.
    let parts = section("partitions");
    assert!(parts.contains("fat16") && parts.contains("REPORT"), "{parts}");
    let structures = section("structures");
    for name in names {
        assert!(structures.contains(name), "{name} in the structures");
    }
    assert!(structures.contains("Cookie") && structures.contains("Parent Unique Id"), "the footer's and header's fields");
    let findings = section("findings");
    assert!(findings.contains("0 errors"), "{findings}");
}

#[test]
fn a_lone_disk_has_no_changes_section_and_a_missing_parent_is_said() {
    let dir = chain("lone");
    let o = cli_in(&dir, &["report", "base.vhd"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = stdout(&o);
    assert!(!html.contains("id=\"changes\""));
    assert!(html.contains(&sha256_file(&dir.join("base.vhd"))));

    // The child alone, its parent moved away: the report is still written, and says so.
    let alone = scratch("report-alone");
    std::fs::copy(dir.join("child.vhd"), alone.join("child.vhd")).unwrap();
    let o = cli_in(&alone, &["report", "child.vhd"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = stdout(&o);
    assert!(html.contains("parent-not-found"), "the finding");
    assert!(html.contains("its parent was not found"), "the changes section says why it is empty");
    assert!(html.contains("(not found)"), "the chain says which parent is missing");
}
