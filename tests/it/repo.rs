//! The repository's own promises: a Keep-a-Changelog CHANGELOG.md, a README whose quick start
//! names the Makefile targets that exist, and a CI script that runs `make test` and nothing else.

use std::fs;
use std::path::Path;

fn read(name: &str) -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap()
}

#[test]
fn changelog_keeps_a_changelog() {
    let text = read("CHANGELOG.md");
    assert!(text.starts_with("# Changelog\n"));
    assert!(text.contains("\n## [Unreleased]\n"));
    let allowed = [
        "Added",
        "Changed",
        "Deprecated",
        "Removed",
        "Fixed",
        "Security",
    ];
    for line in text.lines().filter(|l| l.starts_with("### ")) {
        assert!(
            allowed.contains(&&line[4..]),
            "unknown changelog section {line:?}"
        );
    }
    for line in text.lines().filter(|l| l.starts_with("## ")) {
        assert!(
            line == "## [Unreleased]" || line.starts_with("## [") && line.contains("] - "),
            "release heading {line:?} is not `## [X.Y.Z] - YYYY-MM-DD`"
        );
    }
}

#[test]
fn readme_quick_start_matches_the_makefile_and_ci() {
    let readme = read("README.md");
    let makefile = read("Makefile");
    for target in ["demo", "test", "bench", "static", "lint", "fuzz"] {
        assert!(
            readme.contains(&format!("make {target}")),
            "README lacks make {target}"
        );
        assert!(
            makefile.contains(&format!("\n{target}:")),
            "Makefile lacks target {target}"
        );
    }
    let ci: Vec<String> = read(".ci/run")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    assert_eq!(
        ci.last().map(String::as_str),
        Some("exec make test"),
        "{ci:?}"
    );
}
