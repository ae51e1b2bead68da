//! The repository stands alone: no source, test, script or document reaches for a folder beside
//! it (such as the workplace's `shared` folder, which a person who clones the repository does not
//! have). Every file the build and the tests read is inside the repository.

use std::path::{Path, PathBuf};

/// Folders that are built, installed or scratch, never committed.
const SKIPPED: &[&str] =
    &[".git", "target", "node_modules", "dist", "bench-out", "screenshots", "work", "pkg", "samples", "artifacts", "corpus"];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if p.is_dir() {
            if !SKIPPED.contains(&name.as_ref()) {
                files(&p, out);
            }
        } else {
            out.push(p);
        }
    }
}

/// The ways a path outside the repository has been or could be spelt: the parent folder then
/// `shared`, with either separator,
/// and a join of `".."` with `"shared"`. The needles are assembled here so that this file does
/// not name them itself.
fn needles() -> Vec<String> {
    let up = "..";
    let s = "shared";
    vec![format!("{up}/{s}"), format!("{up}\\{s}"), format!("join(\"{s}\")"), format!("'{up}', '{s}'"), format!("\"{up}\", \"{s}\"")]
}

#[test]
fn nothing_names_a_folder_outside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    files(root, &mut all);
    assert!(all.len() > 50, "the walk found only {} files under {}", all.len(), root.display());
    let needles = needles();
    let mut found = Vec::new();
    for p in &all {
        let Ok(bytes) = std::fs::read(p) else { continue };
        if bytes.contains(&0) {
            continue; // a binary file (a sample disk)
        }
        let text = String::from_utf8_lossy(&bytes);
        for (n, line) in text.lines().enumerate() {
            if needles.iter().any(|k| line.contains(k.as_str())) {
                found.push(format!("{}:{}: {}", p.strip_prefix(root).unwrap_or(p).display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "these lines reach outside the repository; keep what they need inside it (tests/data):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_needles_find_what_they_are_meant_to_find() {
    // The check above cannot pass by looking for nothing.
    let n = needles();
    let bad = format!("repo().join(\"..\").join(\"{}\")", "shared");
    assert!(n.iter().any(|k| bad.contains(k.as_str())));
    assert!(n.iter().any(|k| format!("{}/samples", n[0]).contains(k.as_str())));
}
