//! `vhd-viewer draw`: each picture of a three-file chain is the same bytes run after run, parses
//! as XML, holds no script, says what it shows as text, and differs between the light and dark
//! themes only in its colours; a 2 TB disk's block map is summarised; the palette is the page's.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

use vhd_viewer::vhd::writer::DiskBuilder;

const MIB: u64 = 1 << 20;

/// base (dynamic, an MBR with one partition) <- child <- grandchild, in `dir`.
fn chain(dir: &Path) -> PathBuf {
    let size = 16 * MIB;
    let mut base = DiskBuilder::dynamic(size, 2 * MIB as u32);
    let mut mbr = vec![0u8; 512];
    mbr[446 + 4] = 0x0c;
    mbr[446 + 8..446 + 12].copy_from_slice(&2048u32.to_le_bytes());
    mbr[446 + 12..446 + 16].copy_from_slice(&((size / 512 - 2048) as u32).to_le_bytes());
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    base.write(0, &mbr).write(5 * MIB, &[7; 4096]);
    let mut child = DiskBuilder::differencing(&base.parent_ref("base.vhd"), 2 * MIB as u32);
    // Sectors 1, 3 and 4 of block 0, and a run in block 3.
    child.write(512, &[1; 512]).write(1536, &[2; 1024]).write(6 * MIB + 4096, &[3; 8192]);
    let mut grand = DiskBuilder::differencing(&child.parent_ref("child.vhd"), 2 * MIB as u32);
    grand.write(9 * MIB, &[4; 512]);
    std::fs::write(dir.join("base.vhd"), base.build()).unwrap();
    std::fs::write(dir.join("child.vhd"), child.build()).unwrap();
    let top = dir.join("grandchild.vhd");
    std::fs::write(&top, grand.build()).unwrap();
    top
}

fn draw(disk: &Path, args: &[&str]) -> std::process::Output {
    Command::new(bin()).arg("draw").arg(disk).args(args).output().unwrap()
}

fn svg(disk: &Path, args: &[&str]) -> String {
    let out = draw(disk, args);
    assert_eq!(out.status.code(), Some(0), "draw {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The picture with its colours (`#rrggbb`) and its ids' hashes (`vv-KIND-xxxxxxxx`) blanked.
fn shape(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_hexdigit));
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'#' && hex(i + 1..i + 7) && !b.get(i + 7).is_some_and(u8::is_ascii_hexdigit) {
            out.push_str("#COLOUR");
            i += 7;
        } else if s[i..].starts_with("vv-") {
            let dash = s[i + 3..].find('-').map(|d| i + 3 + d).unwrap();
            out.push_str(&s[i..=dash]);
            assert!(hex(dash + 1..dash + 9), "an id without its hash at {i}");
            out.push_str("ID");
            i = dash + 9;
        } else {
            let ch = s[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

const PICTURES: [&[&str]; 8] = [
    &["chain"],
    &["bat"],
    &["bat", "--layer", "2"],
    &["bitmap", "0", "--layer", "1"],
    &["bitmap", "3", "--layer", "1"],
    &["provenance"],
    &["partitions"],
    &["changes", "--layer", "1"],
];

#[test]
fn each_picture_is_deterministic_valid_and_says_what_it_shows() {
    let dir = scratch("draw-pictures");
    let top = chain(&dir);
    for args in PICTURES {
        let light = svg(&top, args);
        assert_eq!(light, svg(&top, args), "{args:?}: two runs differ");
        let doc = roxmltree::Document::parse(&light).unwrap_or_else(|e| panic!("{args:?}: not XML: {e}\n{light}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(root.attribute("width"), Some("640"));
        assert_eq!(root.attribute("role"), Some("img"));
        for n in doc.descendants().filter(|n| n.is_element()) {
            assert_ne!(n.tag_name().name(), "script", "{args:?}");
            assert!(n.attributes().all(|a| !a.name().starts_with("on")), "{args:?}: an event handler");
        }
        // The text alternative: a title and a description, which aria-labelledby names.
        let text_of = |tag: &str| doc.descendants().find(|n| n.has_tag_name(tag)).and_then(|n| n.text()).unwrap_or_default().to_string();
        let (title, desc) = (text_of("title"), text_of("desc"));
        assert!(!title.is_empty() && desc.len() > 20, "{args:?}: title {title:?}, desc {desc:?}");
        let labelled = root.attribute("aria-labelledby").unwrap();
        for id in labelled.split(' ') {
            assert!(doc.descendants().any(|n| n.attribute("id") == Some(id)), "{args:?}: {id} not in the picture");
        }
        // Every fill that is a pattern is defined in the picture.
        for n in doc.descendants() {
            if let Some(url) = n.attribute("fill").and_then(|f| f.strip_prefix("url(#")) {
                let id = url.trim_end_matches(')');
                assert!(doc.descendants().any(|m| m.has_tag_name("pattern") && m.attribute("id") == Some(id)), "{args:?}: {id}");
            }
        }
        let texts: Vec<&str> = doc.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).collect();
        let has = |s: &str| texts.iter().any(|t| t.contains(s));
        match args[0] {
            "chain" => {
                for name in ["grandchild.vhd", "child.vhd", "base.vhd"] {
                    assert!(has(name), "{name} not labelled: {texts:?}");
                }
                assert_eq!(texts.iter().filter(|t| t.contains("parent link verified ✓")).count(), 2, "{texts:?}");
            }
            "bat" if args.len() == 1 => assert!(has("not allocated: 7") && has("stored in the file: 1"), "{texts:?}"),
            "bat" => assert!(has("not allocated: 6") && has("stored in the file: 2"), "{texts:?}"),
            "bitmap" if args[1] == "0" => {
                assert!(
                    has("held by this file (bit set): 3 sectors") && has("left to the layer below (bit clear): 4,093 sectors"),
                    "{texts:?}"
                )
            }
            "bitmap" => assert!(has("held by this file (bit set): 16 sectors"), "{texts:?}"),
            "provenance" => {
                assert!(has("layer 0 (grandchild.vhd): 512 bytes") && has("layer 1 (child.vhd): 9.50 KiB"), "{texts:?}");
                assert!(has("layer 2 (base.vhd)") && has("reads as zeros"), "{texts:?}")
            }
            "partitions" => assert!(has("partition 1: ") && has("from byte 1,048,576 (1 MiB)"), "{texts:?}"),
            // The child's sectors 1, 3 and 4 are before the partition; its 8 KiB in the partition
            // are in no file system read.
            _ => assert!(
                title.contains("9.50 KiB") && has("outside the partitions: 1.50 KiB") && has("elsewhere (partitions not read): 8 KiB"),
                "{title} {texts:?}"
            ),
        }
        // Dark differs from light in its colours only (and so in its ids' hashes).
        let dark = svg(&top, &[args, &["--theme", "dark"]].concat());
        assert_ne!(dark, light, "{args:?}");
        assert_eq!(shape(&dark), shape(&light), "{args:?}: dark differs in more than colours");
        // The width asked for.
        let wide = svg(&top, &[args, &["--width", "1000"]].concat());
        assert!(wide.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1000\""), "{args:?}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// The Changes bar drawn from `diff --json`'s report (as the page hands over the report it
/// holds) is the command line's picture, byte for byte.
#[test]
fn changes_from_the_json_report_are_the_same_picture() {
    let dir = scratch("draw-changes-json");
    let top = chain(&dir);
    let out = Command::new(bin()).args(["diff", top.to_str().unwrap(), "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: vhd_viewer::draw::ChangesSummary = serde_json::from_slice(&out.stdout).unwrap();
    let style = vhd_viewer::draw::Style { theme: vhd_viewer::draw::Theme::Dark, width: 500 };
    let from_json = vhd_viewer::draw::changes_svg(&summary, &style).unwrap();
    assert_eq!(from_json, svg(&top, &["changes", "--theme", "dark", "--width", "500"]));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_2_tb_disk_is_summarised_and_bad_requests_are_refused() {
    let dir = scratch("draw-huge");
    let mut d = DiskBuilder::dynamic(2 << 40, 2 * MIB as u32);
    d.write(0, &[1; 512]).write((2 << 40) - 512, &[2; 512]);
    // A name with markup and a control character: the picture stays XML.
    let p = dir.join("huge <&'\"\u{1}>.vhd");
    std::fs::write(&p, d.build()).unwrap();
    let chain = svg(&p, &["chain"]);
    roxmltree::Document::parse(&chain).unwrap_or_else(|e| panic!("{e}: {chain}"));
    assert!(chain.contains("top · huge &lt;&amp;&#39;&quot;&gt;.vhd"), "{chain}");
    for what in ["bat", "provenance"] {
        let t = std::time::Instant::now();
        let s = svg(&p, &[what]);
        assert!(t.elapsed().as_secs() < 20, "{what} took {:?}", t.elapsed());
        let rects = s.matches("<rect").count();
        assert!(rects < 4200 && s.len() < 400_000, "{what}: {rects} rects, {} bytes", s.len());
        assert!(s.contains("Each square: 256 blocks (512 MiB)"), "{what}: {s}");
        roxmltree::Document::parse(&s).unwrap();
    }
    let bat = svg(&p, &["bat"]);
    assert!(
        bat.contains("1,048,576 blocks of 2 MiB, 2 stored in the file") && bat.contains("a square of blocks of several kinds"),
        "{bat}"
    );
    let refused = |args: &[&str], says: &str| {
        let out = draw(&p, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    };
    refused(&["bitmap", "1048576"], "no block 1048576 in layer 0: it has blocks 0 to 1048575");
    refused(&["bat", "--layer", "1"], "no layer 1: the chain has layers 0 to 0");
    refused(&["chain", "--width", "100"], "a picture's width is 240 to 4096 pixels, not 100");
    refused(&["changes"], "not a differencing one");
    refused(&["chain", "3"], "a block is given only for a sector bitmap, not for chain");
    std::fs::remove_dir_all(&dir).ok();
}

/// The page's stylesheet and the element's defaults hold the palette the pictures use.
#[test]
fn the_page_follows_the_pictures_palette() {
    use vhd_viewer::draw::palette::{DARK, LIGHT};
    let css = std::fs::read_to_string(repo().join("www/css/style.css")).unwrap();
    let element = std::fs::read_to_string(repo().join("www/js/page/element-css.js")).unwrap();
    let (light_css, dark_css) = css.split_once("prefers-color-scheme: dark").unwrap();
    let (light_el, dark_el) = element.split_once("prefers-color-scheme: dark").unwrap();
    for (palette, page, el) in [(LIGHT, light_css, light_el), (DARK, dark_css, dark_el)] {
        for (name, colour) in palette.named() {
            assert!(page.contains(&format!("{name}: {colour};")), "style.css: {name} is not {colour}");
            let var = match name.as_str() {
                "--ooo" => "--vhd-out-of-order".to_string(),
                "--unalloc" => "--vhd-unallocated".to_string(),
                _ => name.replacen("--", "--vhd-", 1),
            };
            assert!(el.contains(&format!("{name}: var({var}, {colour});")), "element-css.js: {name} is not {colour}");
        }
    }
}

/// The pictures the README and `docs/pictures.md` show are `draw`'s, for the test chain above:
/// `make pictures` (`UPDATE_PICTURES=1`) draws them again after a change of the pictures.
#[test]
fn the_documents_pictures_are_what_draw_makes() {
    let dir = scratch("draw-docs");
    let top = chain(&dir);
    let docs = repo().join("docs/pictures");
    for (file, args) in [("chain.svg", &["chain"][..]), ("bitmap.svg", &["bitmap", "0", "--layer", "1"][..])] {
        let want = svg(&top, args);
        let path = docs.join(file);
        if std::env::var_os("UPDATE_PICTURES").is_some() {
            write_atomic(&path, want.as_bytes());
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(have == want, "{} is not what draw {args:?} makes: make pictures", path.display());
    }
    std::fs::remove_dir_all(&dir).ok();
}
