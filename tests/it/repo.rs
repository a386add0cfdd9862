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

// ---- Layering: dependencies point one way (issue 17; DESIGN.md "Architecture") ----

/// What each top-level module of `src/` may not use. `vocab` (the leaf vocabulary) and `unit`
/// are held tighter still, by [`ONLY`]. A module not named here is unconstrained (`init`, the
/// PID-1 core, sits on top; `main.rs` and `lib.rs` wire everything).
const FORBIDDEN: &[(&str, &[&str])] = &[
    // service/ knows neither the manager nor PID 1 nor who asked (nor the journal above it).
    (
        "service",
        &["manager", "init", "boot", "control", "cli", "journal"],
    ),
    // The manager does not speak the wire protocol and does not know PID 1.
    ("manager", &["init", "boot", "control", "cli"]),
    // The control socket carries what init/ maps; it does not drive the engine itself.
    ("control", &["manager", "init", "boot", "cli"]),
    // The CLI reaches PID 1 only through the protocol (cli/bosun.rs, the PID-1 entry point,
    // is excepted below).
    ("cli", &["init", "boot", "manager", "service", "journal"]),
    // webdav/ and volume/ know no supervision.
    (
        "webdav",
        &["init", "boot", "manager", "service", "control", "cli"],
    ),
    (
        "volume",
        &["init", "boot", "manager", "service", "control", "cli"],
    ),
    // bosun's own diagnostics are below everything that logs, the journal included.
    (
        "log",
        &[
            "init", "boot", "manager", "service", "control", "cli", "unit", "volume", "webdav",
            "config", "journal",
        ],
    ),
    // The journal (service output: lines, rings, rendering) sits above service/, beside the
    // manager; it knows neither PID 1's loop nor the protocol.
    ("journal", &["init", "boot", "manager", "control", "cli"]),
    // The boot-time features are called by PID 1's core, never the other way round; they know
    // neither the manager nor the control socket.
    ("boot", &["init", "manager", "control", "cli"]),
    // The panic-reporting task wrapper serves PID 1's loop and the boot phase alike and knows
    // neither.
    (
        "task",
        &[
            "init", "boot", "manager", "service", "control", "cli", "journal",
        ],
    ),
    // Configuration is resolved once, below the command line that feeds it.
    ("config", &["cli", "init", "boot", "manager", "service"]),
    (
        "sys",
        &[
            "init", "boot", "manager", "service", "control", "cli", "unit",
        ],
    ),
];

/// Modules that may use nothing but the modules listed (and themselves).
const ONLY: &[(&str, &[&str])] = &[("vocab", &[]), ("unit", &["vocab"])];

/// Files excepted from [`FORBIDDEN`] by design: bosun's PID-1 personality is started from the
/// command line, which hands it the volume's set-up and the journal's default bounds (and
/// starts the persistent journal's writer process); `initctl logs --boot` reads the
/// persistent journal's files, not PID 1 (which it still reaches only through the protocol);
/// `bosun verify --security` judges unit files without PID 1.
const ENTRY_POINTS: &[(&str, &str)] = &[
    ("cli/bosun.rs", "init"),
    ("cli/bosun.rs", "boot"),
    ("cli/bosun.rs", "journal"),
    ("cli/initctl/logs.rs", "journal"),
    // `bosun verify --security` judges unit files where no bosun runs (an image build) with
    // the assessment PID 1 makes; with a running bosun it asks it over the protocol.
    ("cli/verify.rs", "service"),
];

/// Upward imports that remain, each (file under src/, module used). None is left; an entry
/// that no longer occurs fails the test, so this list only ever shrinks.
const NOT_YET: &[(&str, &str)] = &[];

/// The top-level modules `text` (one Rust file) refers to: `crate::x`, `crate::{x, y::z}`
/// (over several lines too), and, in a file at the top of its module, `super::x`. Comments are
/// skipped, so a doc link is not an import.
fn modules_used(text: &str, top_of_module: bool) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with("//") {
                ""
            } else {
                line.split(" // ").next().unwrap_or("")
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut used = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut prefixes = vec!["crate::"];
    if top_of_module {
        prefixes.push("super::");
    }
    for prefix in prefixes {
        for (at, _) in code.match_indices(prefix) {
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let rest = &code[at + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                // A use tree: each top-level item's first segment, nested braces skipped.
                let mut depth = 0;
                let mut item_start = true;
                for (i, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => item_start = true,
                        c if item_start && !c.is_whitespace() => {
                            item_start = false;
                            used.insert(ident(&group[i..]));
                        }
                        _ => {}
                    }
                }
            } else {
                used.insert(ident(rest));
            }
        }
    }
    used.retain(|m| !m.is_empty() && m != "self");
    used
}

/// Every `.rs` file under `dir`, with its path relative to `base`.
fn rust_files(base: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(base, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.push((rel, path));
        }
    }
}

/// Every import in `files` ((path under src/, text)) that breaks the layering, as
/// (file, module used), exceptions not yet applied.
fn upward_imports(files: &[(String, String)]) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (rel, text) in files {
        let top = rel.split('/').next().unwrap().trim_end_matches(".rs");
        // `super::` reaches the crate root only from src/x.rs and src/x/mod.rs.
        let top_of_module = !rel.contains('/') || *rel == format!("{top}/mod.rs");
        for used in modules_used(text, top_of_module) {
            if used == top {
                continue;
            }
            let only = ONLY.iter().find(|(m, _)| *m == top);
            let forbidden = FORBIDDEN.iter().find(|(m, _)| *m == top);
            let bad = match (only, forbidden) {
                (Some((_, allowed)), _) => !allowed.contains(&used.as_str()),
                (None, Some((_, banned))) => banned.contains(&used.as_str()),
                (None, None) => false,
            };
            if bad {
                found.insert((rel.clone(), used));
            }
        }
    }
    found
}

#[test]
fn imports_point_down_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&src, &src, &mut paths);
    assert!(paths.len() > 100, "src/ looks empty: {}", paths.len());
    let files: Vec<(String, String)> = paths
        .iter()
        .map(|(rel, path)| (rel.clone(), fs::read_to_string(path).unwrap()))
        .collect();
    let found = upward_imports(&files);
    let excepted = |(file, module): &(String, String)| {
        ENTRY_POINTS
            .iter()
            .chain(NOT_YET)
            .any(|(f, m)| f == file && m == module)
    };
    let upward: Vec<_> = found.iter().filter(|i| !excepted(i)).collect();
    assert!(
        upward.is_empty(),
        "imports against the layering (DESIGN.md \"Architecture\"): {upward:#?}"
    );
    let stale: Vec<_> = NOT_YET
        .iter()
        .filter(|(f, m)| !found.contains(&((*f).to_owned(), (*m).to_owned())))
        .collect();
    assert!(
        stale.is_empty(),
        "no longer imported, remove from NOT_YET: {stale:?}"
    );
}

/// The negative control: the scanner sees each form of an upward import, and no comment.
#[test]
fn the_layering_check_sees_upward_imports() {
    let file = |rel: &str, text: &str| (rel.to_owned(), text.to_owned());
    let files = [
        file(
            "unit/value.rs",
            "fn f() { crate::init::signals::parse(x) }\n",
        ),
        file(
            "service/state.rs",
            "use crate::{\n    unit::model,\n    manager::{engine, units},\n};\n",
        ),
        file("vocab/mod.rs", "use super::log;\n"),
        file("unit/install/mod.rs", "use super::specifier;\n"),
        file(
            "cli/initctl/mod.rs",
            "let n = crate::manager::engine::now_ms();\n",
        ),
        file("cli/bosun.rs", "use crate::init;\n"),
        // Not imports: a comment, a doc link, a longer path, a module's own paths.
        file(
            "manager/units.rs",
            "//! see [`crate::init`]\nuse crate::unit::load; // crate::init\nuse bosun::crate::init;\nuse crate::manager::graph;\n",
        ),
    ];
    let found: Vec<(String, String)> = upward_imports(&files).into_iter().collect();
    let expect = |f: &str, m: &str| (f.to_owned(), m.to_owned());
    assert_eq!(
        found,
        vec![
            expect("cli/bosun.rs", "init"),
            expect("cli/initctl/mod.rs", "manager"),
            expect("service/state.rs", "manager"),
            expect("unit/value.rs", "init"),
            expect("vocab/mod.rs", "log"),
        ]
    );
}
