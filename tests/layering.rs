//! The library's top-level modules (a file `src/x.rs` or a folder `src/x/`) import each other
//! without a circle: reading `crate::x` paths outside test modules, the graph of who uses whom
//! has no cycle. A circle would mean two rooms that cannot be understood (or moved) apart, as
//! `layer.rs` and `vhdx/` once were.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The text of a source file without its `#[cfg(test)]` items (from the attribute to the end of
/// the file: test modules come last in this crate).
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |i| &text[..i])
}

/// The top-level modules `text` names as `crate::name` in its code (comments, which may link
/// anywhere, are not read).
fn uses(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let code: String = without_tests(text).lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if !name.is_empty() && name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
            out.insert(name);
        }
        // `use crate::{a, b}`: each name in the braces.
        if let Some(list) = after.strip_prefix('{') {
            let end = list.find('}').unwrap_or(list.len());
            for part in list[..end].split(',') {
                let name: String = part.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        }
        rest = after;
    }
    out
}

/// Every `.rs` file under `dir`.
fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Module `name`'s graph of uses among the library's top-level modules.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut all = Vec::new();
    files(&src, &mut all);
    for p in all {
        let rel = p.strip_prefix(&src).unwrap();
        let top = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        // The command line is the binary's, not the library's; lib.rs and main.rs only declare.
        if matches!(top.as_str(), "cli" | "lib" | "main") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let entry = g.entry(top.clone()).or_default();
        entry.extend(uses(&text).into_iter().filter(|u| *u != top));
    }
    g
}

/// A cycle in `g`, as the modules along it, if there is one.
fn cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    // 0 unseen, 1 on the path, 2 done.
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        path.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            match state.get(m.as_str()).copied().unwrap_or(0) {
                1 => {
                    let start = path.iter().position(|p| p == m).unwrap();
                    let mut c = path[start..].to_vec();
                    c.push(m.clone());
                    return Some(c);
                }
                0 => {
                    if let Some(c) = visit(m, g, state, path) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(n, g, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn the_finder_sees_a_circle_and_the_paths_in_braces() {
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), uses("use crate::{b, c::D};")),
        ("b".to_string(), uses("fn f() { crate::c::g() }")),
        ("c".to_string(), uses("use crate::a::X;\n/// [`crate::e`]\n#[cfg(test)]\nmod tests { use crate::d; }")),
    ]
    .into_iter()
    .collect();
    assert_eq!(g["a"], ["b", "c"].iter().map(|s| s.to_string()).collect());
    assert_eq!(g["c"], ["a"].iter().map(|s| s.to_string()).collect(), "neither comments nor test modules are counted");
    assert_eq!(cycle(&g), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
}

#[test]
fn no_top_level_module_imports_itself_through_others() {
    let g = graph();
    assert!(g.contains_key("vhd") && g.contains_key("vhdx") && g.contains_key("image"), "{:?}", g.keys());
    if let Some(c) = cycle(&g) {
        panic!("the modules import each other in a circle: {}", c.join(" -> "));
    }
    // The format-neutral types import neither format, and the formats do not import the layer
    // that is put over them.
    for (m, forbidden) in [("image", ["vhd", "vhdx", "layer"]), ("vhd", ["vhdx", "layer", "disk"]), ("vhdx", ["vhd", "layer", "disk"])] {
        for f in forbidden {
            assert!(!g[m].contains(f), "{m} imports {f}");
        }
    }
}

/// The lines of `text` outside test modules that name a format's variant of the layer's image
/// (`Image::Vhd`, `Image::Vhdx`) or ask a layer for one format's structures (`.vhd()`,
/// `.vhdx()`): branches on the format.
fn format_branches(text: &str) -> Vec<String> {
    let code = without_tests(text);
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .filter(|l| ["Image::Vhd", ".vhd()", ".vhdx()"].iter().any(|p| l.contains(p)))
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn the_branch_finder_sees_each_way_of_naming_a_format() {
    let text = "let a = match &l.image { Image::Vhd(v) => 1, Image::Vhdx(v) => 2 };\nlet b = l.vhd();\nlet c = l.vhdx().unwrap();\n// l.vhd() in a comment\nlet d = l.vhd_of();\n#[cfg(test)]\nmod tests { fn t() { l.vhd(); } }";
    assert_eq!(format_branches(text).len(), 3, "{:?}", format_branches(text));
}

/// Only the format folders, the layer put over them (the one place that matches on the format
/// and chooses the opener), the writers' rules (which say that most writers rewrite a VHD) and
/// the targets' rules (`fit.rs`: Azure takes only a VHD and reads its footer, Hyper-V boots each
/// VM generation from one format) know which format a layer is: everything else asks the layer.
#[test]
fn only_the_format_folders_and_the_layer_branch_on_the_format() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut found = Vec::new();
    for p in all {
        let rel = p.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
        if rel.starts_with("vhd/") || rel.starts_with("vhdx/") || rel == "layer.rs" || rel == "rules.rs" || rel == "fit.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        found.extend(format_branches(&text).into_iter().map(|l| format!("src/{rel}: {l}")));
    }
    assert!(found.is_empty(), "branches on the format outside the format folders:\n{}", found.join("\n"));
}
