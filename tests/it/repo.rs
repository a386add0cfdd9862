//! The repository's own promises: a Keep-a-Changelog CHANGELOG.md, a README whose quick start
//! names the Makefile targets that exist and whose directive compatibility table says what
//! bosun's own table says, and a CI script that runs `make test` and nothing else.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use bosun::unit::directive::{SECTION_NAMES, lookup};
use bosun::unit::syntax::parse_ini;

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

/// The rows of the README's directive compatibility table: (section, directive, what the
/// README says of it), in the table's order.
fn readme_directive_rows() -> Vec<(String, String, String)> {
    let readme = read("README.md");
    let start = readme
        .find("\n### Directive compatibility\n")
        .expect("README lacks the directive compatibility section");
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in readme[start..].lines().skip(2) {
        if line.starts_with("| directive |") {
            in_table = true;
            continue;
        }
        if !in_table || line.starts_with("|---") {
            continue;
        }
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let name = cells[0]
            .strip_prefix('`')
            .and_then(|c| c.strip_suffix("=`"))
            .unwrap_or_else(|| panic!("README directive row without `Name=`: {line}"));
        rows.push((cells[1].to_owned(), name.to_owned(), cells[2].to_owned()));
    }
    rows
}

/// Every (section, directive) assigned in `path`.
fn directives_in(path: &Path) -> BTreeSet<(String, String)> {
    let text = fs::read(path).unwrap();
    parse_ini(path, &text, &SECTION_NAMES)
        .assignments
        .into_iter()
        .map(|a| (a.section, a.key))
        .collect()
}

/// The README's directive table is bosun's: each row names a directive of that section with
/// the word `bosun verify --directives` uses for it, in name order; and it has a row for every
/// directive of `unit-examples/` and of the packaged units it lists that are on this machine.
#[test]
fn readme_directive_table_matches_bosuns_table() {
    let rows = readme_directive_rows();
    assert!(rows.len() > 50, "{} rows", rows.len());
    for (section, name, said) in &rows {
        let directive = lookup(section, name)
            .unwrap_or_else(|| panic!("README: {name}= is not a [{section}] directive"));
        assert_eq!(
            said,
            directive.support.label(),
            "README row for {name}= in [{section}]"
        );
    }
    for pair in rows.windows(2) {
        assert!(
            (&pair[0].1, &pair[0].0) < (&pair[1].1, &pair[1].0),
            "README directive rows out of order: {:?} then {:?}",
            pair[0],
            pair[1]
        );
    }
    let listed: BTreeSet<(String, String)> = rows.into_iter().map(|(s, n, _)| (s, n)).collect();

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = fs::read_dir(root.join("unit-examples"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x != "md"))
        .collect();
    // The packaged units the README names, where this machine has them (tests/deps.sh
    // installs the packages; timers come with the base system).
    let packaged = [
        "nginx.service",
        "apache2.service",
        "apache2@.service",
        "apache-htcacheclean.service",
        "apache-htcacheclean@.service",
        "redis-server.service",
        "redis-server@.service",
        "memcached.service",
        "postgresql.service",
        "postgresql@.service",
        "ssh.service",
        "ssh.socket",
        "rescue-ssh.target",
        "cron.service",
        "apt-daily.timer",
        "apt-daily-upgrade.timer",
        "dpkg-db-backup.timer",
        "e2scrub_all.timer",
        "fstrim.timer",
        "man-db.timer",
        "systemd-tmpfiles-clean.timer",
        "podman-auto-update.timer",
        "pg_basebackup@.timer",
        "pg_compresswal@.timer",
        "pg_dump@.timer",
    ];
    files.extend(
        packaged
            .iter()
            .map(|name| Path::new("/lib/systemd/system").join(name))
            .filter(|p| p.is_file()),
    );
    for file in &files {
        for (section, name) in directives_in(file) {
            assert!(
                listed.contains(&(section.clone(), name.clone())),
                "README's directive table lacks {name}= in [{section}], used by {}",
                file.display()
            );
        }
    }
}
