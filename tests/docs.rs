//! The documents stay true to the tree they describe:
//!
//! - the code map in `docs/architecture.md` names every module under `src/`, `www/js/`, `tests/`,
//!   `scripts/`, `bench/`, `fuzz/` and `examples/`, once, and names nothing that does not exist;
//! - every relative link (and image) in `README.md` and `docs/*.md` leads to a file of the
//!   repository, and a link to a heading (`#anchor`) to a heading that is there; every document
//!   in `docs/` is linked from another;
//! - every path of the repository those documents name in code (`` `src/disk.rs` ``) exists, or
//!   lies in a folder `.gitignore` names (what the build makes: `dist/`, `bench-out/`, ...), so
//!   that a module moved or renamed is not left described under its old name;
//! - the README stays a front page (at most 400 lines), and it and `Cargo.toml` say VHD and VHDX.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The folders whose every module the code map names.
const MAPPED: &[&str] = &["src", "www/js", "tests", "scripts", "bench", "fuzz", "examples"];
/// What counts as a module: source files, not data.
const MODULE_EXTENSIONS: &[&str] = &["rs", "js", "mjs", "ts", "sh", "html"];
/// Folders that are built, installed or scratch, never committed.
const SKIPPED: &[&str] = &["target", "node_modules", "work", "corpus", "artifacts", "pkg", "samples"];
/// The README's length at most: a user's front page; the engine room goes to `docs/`.
const README_MAX_LINES: usize = 400;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every module under `dir` (relative to the repository, with `/`), skipping built folders.
fn modules(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if !SKIPPED.contains(&name.as_str()) {
                modules(&p, out);
            }
        } else if MODULE_EXTENSIONS.iter().any(|x| name.ends_with(&format!(".{x}"))) {
            out.push(relative(&p));
        }
    }
}

fn relative(p: &Path) -> String {
    let rel = p.strip_prefix(root()).unwrap_or(p);
    rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/")
}

/// One line of the code map: the path it names and what it says the path does.
#[derive(Debug, PartialEq)]
struct Row {
    path: String,
    what: String,
}

/// The code map's rows: each table row between the markers, one backticked path in its first
/// cell and the description in its second. A path ending in `/` names a folder and everything
/// in it.
fn code_map(doc: &str) -> Result<Vec<Row>, String> {
    let start = doc.find(MAP_START).ok_or("no `<!-- code map -->` marker")?;
    let end = doc.find(MAP_END).ok_or("no `<!-- end of code map -->` marker")?;
    let mut rows = Vec::new();
    for line in doc[start..end].lines() {
        if let Some(row) = map_row(line)? {
            rows.push(row);
        }
    }
    Ok(rows)
}

const MAP_START: &str = "<!-- code map -->";
const MAP_END: &str = "<!-- end of code map -->";

/// A code map row from one line, or `None` for a line that is not one (a heading, a table's
/// header).
fn map_row(line: &str) -> Result<Option<Row>, String> {
    let Some(row) = line.strip_prefix("| `") else { return Ok(None) };
    let Some(close) = row.find('`') else { return Err(format!("unclosed path in: {line}")) };
    let cell_end = row.find(" |").unwrap_or(row.len());
    if row[..cell_end].matches('`').count() != 1 {
        return Err(format!("one path per line, please: {line}"));
    }
    let what = row[cell_end..].trim_start_matches(" |").trim_end().trim_end_matches('|').trim();
    Ok(Some(Row { path: row[..close].to_string(), what: what.to_string() }))
}

/// What is wrong with the code map against the files there are: names missing from the map,
/// names in the map that do not exist, names given twice, lines that do not say what they name
/// does.
fn map_problems(rows: &[Row], files: &[String], exists: impl Fn(&str) -> bool) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for Row { path: n, what } in rows {
        if !seen.insert(n.as_str()) {
            problems.push(format!("named twice: `{n}`"));
        }
        if !exists(n) {
            problems.push(format!("names a path that does not exist (remove or rename its line): `{n}`"));
        }
        if what.is_empty() {
            problems.push(format!("says nothing of what `{n}` does"));
        }
    }
    for f in files {
        if !covered(rows, f) {
            problems.push(format!("not named (add a line `| `{f}` | what it does |`): {f}"));
        }
    }
    problems
}

fn covered(rows: &[Row], file: &str) -> bool {
    rows.iter().any(|r| r.path == file || (r.path.ends_with('/') && file.starts_with(r.path.as_str())))
}

/// The code map brought up to date with `files`: rows whose path is gone are dropped, and each
/// file not named gets a row after the row whose path shares the longest start with its own (so
/// that it lands in its folder's table), saying what the dropped row of the same file name said
/// (a module moved to another folder), else what `describe` finds (the first sentence of the
/// file's opening comment), else nothing, which the check then asks a person to write.
fn updated_map(doc: &str, files: &[String], exists: impl Fn(&str) -> bool, describe: impl Fn(&str) -> String) -> Result<String, String> {
    let start = doc.find(MAP_START).ok_or("no code map marker")?;
    let end = doc.find(MAP_END).ok_or("no end of code map marker")?;
    let mut lines: Vec<String> = doc[start..end].lines().map(str::to_string).collect();
    let rows = code_map(doc)?;
    let name = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    let gone: Vec<&Row> = rows.iter().filter(|r| !exists(&r.path)).collect();
    let new: Vec<&String> = files.iter().filter(|f| !covered(&rows, f)).collect();
    for f in new {
        let moved: Vec<&&Row> = gone.iter().filter(|r| name(&r.path) == name(f)).collect();
        let twins = files.iter().filter(|g| name(g) == name(f)).count();
        let what = if moved.len() == 1 && twins == 1 { moved[0].what.clone() } else { describe(f) };
        // Placed among the rows there were, gone ones included: a moved folder's modules land
        // where the folder's rows were.
        let shared = |l: &String| match map_row(l) {
            Ok(Some(r)) => r.path.chars().zip(f.chars()).take_while(|(a, b)| a == b).count(),
            _ => 0,
        };
        let best = lines.iter().map(shared).max().unwrap_or(0);
        let at = lines.iter().rposition(|l| best > 0 && shared(l) == best).map_or(lines.len(), |i| i + 1);
        lines.insert(at, format!("| `{f}` | {what} |"));
    }
    let mut kept = Vec::new();
    for line in lines {
        match map_row(&line)? {
            Some(r) if !exists(&r.path) => {}
            _ => kept.push(line),
        }
    }
    let lines = kept;
    Ok(format!("{}{}\n{}", &doc[..start], lines.join("\n"), &doc[end..]))
}

/// The first sentence of a module's opening comment (`//!`, `//`, `#` after a `#!` line, or an
/// HTML comment), or nothing.
fn describe(rel: &str) -> String {
    let text = std::fs::read_to_string(root().join(rel)).unwrap_or_default();
    let mut said = Vec::new();
    for line in text.lines().skip_while(|l| l.starts_with("#!")) {
        let l = line.trim();
        let comment = ["//!", "//", "#"]
            .iter()
            .find_map(|m| l.strip_prefix(m))
            .or_else(|| l.find("<!--").map(|i| l[i + 4..].trim_end_matches("-->")).filter(|_| said.is_empty() && l.contains("-->")));
        match comment {
            Some(c) if !c.trim().is_empty() => said.push(c.trim().to_string()),
            _ if said.is_empty() && (l.is_empty() || l.starts_with('<')) => continue,
            _ => break,
        }
    }
    let all = said.join(" ");
    let mut sentence = all.find(". ").map_or(all.as_str(), |i| &all[..=i]).trim_end_matches('.').to_string();
    if sentence.chars().count() > 160 {
        // A long opening: up to its last clause that fits, for a person to finish.
        let head: String = sentence.chars().take(160).collect();
        let cut = head.rfind([':', ';', ',']).unwrap_or(head.len());
        sentence = format!("{} …", &head[..cut]);
    }
    sentence.replace('|', "\\|")
}

fn module_files() -> Vec<String> {
    let mut files = Vec::new();
    for dir in MAPPED {
        modules(&root().join(dir), &mut files);
    }
    files.sort();
    files
}

fn exists_in_tree(p: &str) -> bool {
    let full = root().join(p);
    if p.ends_with('/') {
        full.is_dir()
    } else {
        full.is_file()
    }
}

#[test]
fn the_code_map_names_every_module_and_nothing_else() {
    let path = root().join("docs/architecture.md");
    let files = module_files();
    assert!(files.len() > 100, "the walk found only {} modules under {}", files.len(), root().display());
    assert!(files.iter().any(|f| f == "src/lib.rs") && files.iter().any(|f| f.starts_with("www/js/")));
    if std::env::var_os("UPDATE_CODE_MAP").is_some() {
        let doc = read("docs/architecture.md");
        let updated = updated_map(&doc, &files, exists_in_tree, describe).unwrap_or_else(|e| panic!("docs/architecture.md: {e}"));
        std::fs::write(&path, updated).unwrap();
    }
    let rows = code_map(&read("docs/architecture.md")).unwrap_or_else(|e| panic!("docs/architecture.md: {e}"));
    let problems = map_problems(&rows, &files, exists_in_tree);
    assert!(
        problems.is_empty(),
        "docs/architecture.md's code map is out of date (UPDATE_CODE_MAP=1 cargo test --test docs drops the lines of paths gone and \
         adds the modules not named, from their opening comments: review what it wrote):\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_code_map_check_finds_what_it_is_meant_to_find() {
    // The check above cannot pass by looking at nothing.
    let doc = "x\n<!-- code map -->\n| path | what |\n|---|---|\n| `src/a.rs` | a |\n| `src/gone.rs` | b |\n| `tests/data/` | c |\n| `src/a.rs` | again |\n| `src/b.rs` |  |\n<!-- end of code map -->\n";
    let rows = code_map(doc).unwrap();
    let paths: Vec<&str> = rows.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["src/a.rs", "src/gone.rs", "tests/data/", "src/a.rs", "src/b.rs"]);
    assert_eq!(rows[0].what, "a");
    let files: Vec<String> = ["src/a.rs", "src/b.rs", "src/new.rs", "tests/data/x.sh"].iter().map(|s| s.to_string()).collect();
    let problems = map_problems(&rows, &files, |p| p != "src/gone.rs");
    assert_eq!(problems.len(), 4, "{problems:?}");
    assert!(problems[0].contains("does not exist") && problems[0].contains("`src/gone.rs`"), "{problems:?}");
    assert!(problems[1].contains("named twice: `src/a.rs`"), "{problems:?}");
    assert!(problems[2].contains("says nothing") && problems[2].contains("`src/b.rs`"), "{problems:?}");
    assert!(problems[3].contains("not named") && problems[3].ends_with("src/new.rs"), "{problems:?}");
    assert!(code_map("<!-- code map -->\n| `a.rs`, `b.rs` | two |\n<!-- end of code map -->").is_err());
}

#[test]
fn the_code_map_update_moves_descriptions_and_places_new_rows() {
    let doc = "head\n<!-- code map -->\n### src\n\n| path | what |\n|---|---|\n| `src/a.rs` | a |\n| `src/old/b.rs` | b's words |\n\n\
               ### www\n\n| path | what |\n|---|---|\n| `www/js/x.js` | x |\n<!-- end of code map -->\ntail\n";
    let files: Vec<String> =
        ["src/a.rs", "src/new/b.rs", "src/c.rs", "www/js/page/y.js", "www/js/x.js"].iter().map(|s| s.to_string()).collect();
    let there = |p: &str| files.iter().any(|f| f == p);
    let updated =
        updated_map(doc, &files, there, |f| if f.ends_with("c.rs") { "c from its comment".into() } else { String::new() }).unwrap();
    assert_eq!(
        updated,
        "head\n<!-- code map -->\n### src\n\n| path | what |\n|---|---|\n| `src/a.rs` | a |\n| `src/new/b.rs` | b's words |\n\
         | `src/c.rs` | c from its comment |\n\n### www\n\n| path | what |\n|---|---|\n| `www/js/x.js` | x |\n| `www/js/page/y.js` |  |\n\
         <!-- end of code map -->\ntail\n"
    );
    // The row left empty is what the check then asks a person to write.
    let rows = code_map(&updated).unwrap();
    let problems = map_problems(&rows, &files, there);
    assert_eq!(problems, ["says nothing of what `www/js/page/y.js` does"]);
}

#[test]
fn a_module_is_described_by_the_first_sentence_of_its_opening_comment() {
    assert_eq!(describe("src/main.rs"), "The `vhd-viewer` command line");
    assert!(describe("scripts/setup.sh").starts_with("Installs what the project needs"), "{}", describe("scripts/setup.sh"));
    assert!(describe("tests/web/fixtures/files.html").starts_with("The files view"), "{}", describe("tests/web/fixtures/files.html"));
}

/// The text of a Markdown document with fenced code blocks and inline code spans blanked, so
/// that a link written as an example is not taken for a link.
fn prose(doc: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            out.push('\n');
            continue;
        }
        if fenced {
            out.push('\n');
            continue;
        }
        let mut in_code = false;
        for c in line.chars() {
            if c == '`' {
                in_code = !in_code;
            }
            out.push(if in_code || c == '`' { ' ' } else { c });
        }
        out.push('\n');
    }
    out
}

/// The link targets of a Markdown document: inline links and images `[text](target)` and
/// reference definitions `[label]: target`, each with its line number.
fn links(doc: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in prose(doc).lines().enumerate() {
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let end = after.find(')').unwrap_or(after.len());
            let target = after[..end].split_whitespace().next().unwrap_or("").trim_matches(['<', '>']);
            out.push((n + 1, target.to_string()));
            rest = &after[end..];
        }
        let t = line.trim_start();
        if let (true, Some(i)) = (t.starts_with('['), t.find("]: ")) {
            out.push((n + 1, t[i + 3..].split_whitespace().next().unwrap_or("").to_string()));
        }
    }
    out
}

/// A heading's anchor as GitHub makes it: lower case, letters, digits, `-` and `_` kept,
/// spaces made `-`, everything else dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a document's headings (outside code blocks), a repeated heading's with
/// `-1`, `-2`, ... as GitHub numbers them.
fn anchors(doc: &str) -> BTreeSet<String> {
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    let mut fenced = false;
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if fenced || hashes == 0 || hashes > 6 || !line[hashes..].starts_with(' ') {
            continue;
        }
        let s = slug(&line[hashes..].replace('`', ""));
        let k = count.entry(s.clone()).or_insert(0);
        out.insert(if *k == 0 { s.clone() } else { format!("{s}-{k}") });
        *k += 1;
    }
    out
}

/// The documents whose links are checked: the README and every `docs/*.md`.
fn documents() -> Vec<String> {
    let mut docs = vec!["README.md".to_string()];
    for e in std::fs::read_dir(root().join("docs")).expect("docs/").flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            docs.push(format!("docs/{name}"));
        }
    }
    docs.sort();
    docs
}

/// What is wrong with the relative links of `doc` (at `rel`, relative to the repository); the
/// files linked are added to `linked`.
fn link_problems(rel: &str, doc: &str, linked: &mut BTreeSet<PathBuf>) -> Vec<String> {
    let canon_root = root().canonicalize().expect("the repository");
    let dir = root().join(rel).parent().map(Path::to_path_buf).unwrap_or_else(|| root().to_path_buf());
    let mut problems = Vec::new();
    for (line, target) in links(doc) {
        if target.is_empty() {
            problems.push(format!("{rel}:{line}: an empty link"));
            continue;
        }
        if target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let (path, anchor) = match target.split_once('#') {
            Some((p, a)) => (p, Some(a)),
            None => (target.as_str(), None),
        };
        let file = if path.is_empty() { root().join(rel) } else { dir.join(path) };
        let Ok(found) = file.canonicalize() else {
            problems.push(format!("{rel}:{line}: `{target}` leads to no file"));
            continue;
        };
        if !found.starts_with(&canon_root) {
            problems.push(format!("{rel}:{line}: `{target}` leads outside the repository"));
            continue;
        }
        linked.insert(found.clone());
        if let Some(anchor) = anchor {
            let text = if found.extension().is_some_and(|x| x == "md") { std::fs::read_to_string(&found).ok() } else { None };
            match text {
                Some(t) if anchors(&t).contains(anchor) => {}
                Some(_) => problems.push(format!("{rel}:{line}: `{target}`: no heading with the anchor `#{anchor}` there")),
                None => problems.push(format!("{rel}:{line}: `{target}`: an anchor into a file that is not Markdown")),
            }
        }
    }
    problems
}

#[test]
fn every_relative_link_in_the_readme_and_docs_resolves() {
    let mut problems = Vec::new();
    let mut linked = BTreeSet::new();
    let docs = documents();
    assert!(docs.len() >= 4, "{docs:?}");
    for rel in &docs {
        problems.extend(link_problems(rel, &read(rel), &mut linked));
    }
    for rel in docs.iter().filter(|d| d.starts_with("docs/")) {
        let me = root().join(rel).canonicalize().unwrap();
        if !linked.contains(&me) {
            problems.push(format!("{rel} is linked from no other document (link it from the README or a doc)"));
        }
    }
    let images = root().join("docs/images");
    for e in std::fs::read_dir(&images).expect("docs/images").flatten() {
        let p = e.path().canonicalize().unwrap();
        if !linked.contains(&p) {
            problems.push(format!("{} is shown by no document", relative(&e.path())));
        }
    }
    assert!(problems.is_empty(), "links that do not resolve:\n{}", problems.join("\n"));
}

#[test]
fn the_link_check_finds_what_it_is_meant_to_find() {
    assert_eq!(slug("The page's engine room, measured (the core in a Worker)"), "the-pages-engine-room-measured-the-core-in-a-worker");
    assert_eq!(slug("Files on the disk"), "files-on-the-disk");
    let doc = "# Title\n\n## Two\n\n## Two\n\n```\n[not a link](nowhere.md)\n## not a heading\n```\n\
               See [a](README.md#title), [b](docs/missing.md), `[c](nowhere)`, ![i](README.md#two-1),\n\
               [d](#two) [e](#not-a-heading) [f](https://example.com/x)\n[ref]: Cargo.toml\n";
    let found: Vec<String> = links(doc).into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        found,
        ["README.md#title", "docs/missing.md", "README.md#two-1", "#two", "#not-a-heading", "https://example.com/x", "Cargo.toml"]
    );
    assert_eq!(anchors(doc), ["title", "two", "two-1"].iter().map(|s| s.to_string()).collect());
    // Checked as if it were the README, whose own headings it does not have.
    let problems = link_problems("README.md", doc, &mut BTreeSet::new());
    let said = problems.join("\n");
    assert!(said.contains("`README.md#title`: no heading"), "{said}");
    assert!(said.contains("`docs/missing.md` leads to no file"), "{said}");
    assert!(said.contains("`README.md#two-1`: no heading"), "{said}");
    assert!(said.contains("`#two`: no heading") && said.contains("`#not-a-heading`: no heading"), "{said}");
    assert_eq!(problems.len(), 5, "{said}");
}

/// The folders a path the documents name may start with.
const PATH_ROOTS: &[&str] =
    &["src/", "www/", "tests/", "scripts/", "bench/", "fuzz/", "examples/", "docs/", "package/", "dist/", "bench-out/"];

/// The inline code spans of a Markdown document outside fenced blocks, with their line numbers.
fn code_spans(doc: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (n, line) in doc.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut parts = line.split('`');
        parts.next(); // before the first backtick
        while let (Some(code), Some(_)) = (parts.next(), parts.next()) {
            out.push((n + 1, code.to_string()));
        }
    }
    out
}

/// The folders `.gitignore` names (`/dist/` gives `dist/`): what the build and the tests make,
/// which a fresh clone does not have.
fn ignored_folders() -> Vec<String> {
    read(".gitignore").lines().filter_map(|l| l.trim().strip_prefix('/').filter(|l| l.ends_with('/')).map(str::to_string)).collect()
}

/// What is wrong with the repository paths `doc` names in code: each must exist (a folder when
/// it ends in `/`; for a glob, its folder), unless it lies in a folder in `ignored`.
fn path_problems(rel: &str, doc: &str, ignored: &[String], exists: impl Fn(&str) -> bool) -> Vec<String> {
    let mut problems = Vec::new();
    for (line, code) in code_spans(doc) {
        let path = code.trim();
        let path_like = PATH_ROOTS.iter().any(|r| path.starts_with(r)) && !path.contains([' ', '<', '>', '(', ')', ':', '@']);
        if !path_like || ignored.iter().any(|i| path.starts_with(i.as_str())) {
            continue;
        }
        let checked = match path.find('*') {
            Some(star) => &path[..path[..star].rfind('/').map_or(0, |i| i + 1)],
            None => path,
        };
        if !exists(checked) {
            problems.push(format!("{rel}:{line}: `{path}` names a path that does not exist (moved or renamed?)"));
        }
    }
    problems
}

#[test]
fn every_path_the_documents_name_exists() {
    let ignored = ignored_folders();
    assert!(ignored.iter().any(|i| i == "dist/"), "{ignored:?}");
    let exists = |p: &str| if p.ends_with('/') { root().join(p).is_dir() } else { root().join(p).exists() };
    let mut problems = Vec::new();
    for rel in documents() {
        problems.extend(path_problems(&rel, &read(&rel), &ignored, exists));
    }
    assert!(problems.is_empty(), "the documents name paths that are not there:\n{}", problems.join("\n"));
}

#[test]
fn the_path_check_finds_what_it_is_meant_to_find() {
    let doc = "`src/disk.rs` and `src/gone.rs`, `www/js/` and `www/js/views/*.js`, `tests/nowhere/*.rs`,\n\
               `dist/vhd-viewer.html`, `Disk::cut(K)`, `tests/golden/<fixture>.info.txt`, `src/x.rs y`\n\
               ```\n`src/in-a-fence.rs`\n```\n";
    let there = ["src/disk.rs", "www/js/", "www/js/views/"];
    let problems = path_problems("README.md", doc, &["dist/".to_string()], |p| there.contains(&p));
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("`src/gone.rs`") && problems[0].starts_with("README.md:1:"), "{problems:?}");
    assert!(problems[1].contains("`tests/nowhere/*.rs`"), "{problems:?}");
}

#[test]
fn the_readme_is_a_front_page_and_says_vhd_and_vhdx() {
    let readme = read("README.md");
    let lines = readme.lines().count();
    assert!(lines <= README_MAX_LINES, "README.md has {lines} lines (at most {README_MAX_LINES}): move the engine room to docs/");
    let opening: String = readme.lines().take(6).collect::<Vec<_>>().join(" ");
    assert!(opening.contains("VHD ") && opening.contains("VHDX"), "the README's first lines must say VHD and VHDX: {opening}");
    let cargo = read("Cargo.toml");
    let description = cargo.lines().find(|l| l.starts_with("description")).expect("Cargo.toml's description");
    assert!(description.contains("VHD ") && description.contains("VHDX"), "{description}");
    let keywords = cargo.lines().find(|l| l.starts_with("keywords")).expect("Cargo.toml's keywords");
    assert!(keywords.contains("\"vhd\"") && keywords.contains("\"vhdx\""), "{keywords}");
}
