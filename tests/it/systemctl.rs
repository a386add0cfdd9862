//! bosun's `systemctl` without a running bosun, against the real thing: for each fixture unit
//! tree (enabled, disabled, static, masked, aliases, templates, DefaultInstance, Also,
//! RequiredBy, linked and dangling files, presets, generators, merged /usr, conflicts), the
//! machine's `/usr/bin/systemctl --root=A` (systemd 252) and bosun's `systemctl --root=B` run the
//! same commands on identical copies; stdout, stderr, exit codes and the whole resulting trees
//! must be equal. Then what differs on purpose: runtime verbs offline, the control-socket
//! switch, `cat`, `--version`; and `bosun image link` with a package installed over it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::symlink;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};

use crate::harness::{Scratch, bosun};

mod fixtures;
mod link;
mod status_lines;

pub(crate) const REAL: &str = "/usr/bin/systemctl";

/// The machine's systemctl is systemd 252 (what the expectations are); prints SKIP otherwise.
pub(crate) fn real_systemctl_252() -> bool {
    let version = Command::new(REAL).arg("--version").output();
    match version {
        Ok(out) if String::from_utf8_lossy(&out.stdout).starts_with("systemd 252 ") => true,
        Ok(out) => {
            println!(
                "SKIP: {REAL} is not systemd 252 ({}); the offline systemctl comparison did not run",
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .next()
                    .unwrap_or("?")
            );
            false
        }
        Err(e) => {
            println!(
                "SKIP: {REAL} cannot run ({e}); install Debian 12's systemd to compare bosun's offline systemctl with it"
            );
            false
        }
    }
}

/// One entry of a fixture tree.
#[derive(Debug, Clone)]
pub enum Entry {
    /// A file with this content.
    File(String, String),
    /// A symlink to this target.
    Link(String, String),
    /// A directory.
    Dir(String),
}

pub(crate) fn build(root: &Path, entries: &[Entry]) {
    fs::create_dir_all(root).unwrap();
    for e in entries {
        let (path, place) = match e {
            Entry::File(p, _) | Entry::Link(p, _) | Entry::Dir(p) => (p, root.join(p)),
        };
        if let Some(parent) = place.parent() {
            fs::create_dir_all(parent).unwrap_or_else(|err| panic!("{path}: {err}"));
        }
        match e {
            Entry::File(_, text) => fs::write(&place, text).unwrap(),
            Entry::Link(_, target) => symlink(target, &place).unwrap(),
            Entry::Dir(_) => fs::create_dir_all(&place).unwrap(),
        }
    }
}

/// Every entry under `root`: directories, files with their content, links with targets.
pub(crate) fn tree(root: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let ft = entry.file_type().unwrap();
            if ft.is_symlink() {
                out.insert(format!(
                    "{rel} -> {}",
                    fs::read_link(&path).unwrap().display()
                ));
            } else if ft.is_dir() {
                out.insert(format!("{rel}/"));
                walk(root, &path, out);
            } else if std::os::unix::fs::FileTypeExt::is_socket(&ft) {
                // PID 1's journal sockets under run/systemd/journal.
                out.insert(format!("{rel} (socket)"));
            } else {
                let text = fs::read(&path).unwrap();
                out.insert(format!("{rel} = {:?}", String::from_utf8_lossy(&text)));
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, root, &mut out);
    out
}

/// Split a command line written with single quotes for arguments containing spaces.
pub(crate) fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    out.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(word);
    }
    out
}

/// A `systemctl` command with a clean, identical environment for both implementations.
fn systemctl(program: &Path, root: &Path, args: &[String]) -> Output {
    Command::new(program)
        .arg0("systemctl")
        .arg(format!("--root={}", root.display()))
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()))
}

/// What one run printed, with the root directory replaced by `ROOT`.
fn seen(out: &Output, root: &Path) -> (Option<i32>, String, String) {
    let clean = |b: &[u8]| String::from_utf8_lossy(b).replace(&root.display().to_string(), "ROOT");
    (out.status.code(), clean(&out.stdout), clean(&out.stderr))
}

/// The one deliberate difference: systemd warns when `WantedBy=` names a target with no unit
/// file; bosun supplies the standard targets itself (an image without systemd has no
/// multi-user.target file), so it does not warn about those.
fn without_builtin_target_warnings(stderr: &str) -> String {
    stderr
        .lines()
        .filter(|line| {
            let builtin = line
                .strip_suffix('.')
                .and_then(|l| l.rsplit_once(" is added as a dependency to a non-existent unit "))
                .is_some_and(|(_, target)| bosun::unit::special::is_special(target));
            !builtin
        })
        .flat_map(|line| [line, "\n"])
        .collect()
}

/// Run `commands` with the real systemctl on one copy of `entries` and bosun's on another;
/// every difference, described.
fn compare(name: &str, entries: &[Entry], commands: &[impl AsRef<str>]) -> Vec<String> {
    let scratch = Scratch::new(&format!("systemctl-{name}"));
    let (a, b) = (scratch.join("A"), scratch.join("B"));
    build(&a, entries);
    build(&b, entries);
    let shim = scratch.join("bin/systemctl");
    fs::create_dir_all(shim.parent().unwrap()).unwrap();
    symlink(bosun(), &shim).unwrap();
    let mut diffs = Vec::new();
    for line in commands {
        let line = line.as_ref();
        let args = words(line);
        let mut real = seen(&systemctl(Path::new(REAL), &a, &args), &a);
        real.2 = without_builtin_target_warnings(&real.2);
        let ours = seen(&systemctl(&shim, &b, &args), &b);
        if real != ours {
            diffs.push(format!(
                "[{name}] systemctl {line}\n  systemd 252: exit {:?}\n--- stdout ---\n{}--- stderr ---\n{}  bosun: exit {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
                real.0, real.1, real.2, ours.0, ours.1, ours.2
            ));
        }
        let read_only = ["is-enabled", "list-unit-files", "get-default"]
            .iter()
            .any(|v| line.starts_with(v));
        if read_only {
            continue; // a stray write shows at the next comparison of the trees
        }
        let (ta, tb) = (tree(&a), tree(&b));
        if ta != tb {
            let only_real: Vec<&String> = ta.difference(&tb).collect();
            let only_ours: Vec<&String> = tb.difference(&ta).collect();
            diffs.push(format!(
                "[{name}] after `systemctl {line}` the trees differ\n  only systemd 252's: {only_real:#?}\n  only bosun's: {only_ours:#?}"
            ));
            // Carry on from the same state.
            fs::remove_dir_all(&b).unwrap();
            Command::new("cp")
                .arg("-a")
                .arg(&a)
                .arg(&b)
                .status()
                .unwrap();
        }
    }
    if tree(&a) != tree(&b) {
        diffs.push(format!("[{name}] the trees differ at the end"));
    }
    diffs
}

fn check(name: &str, entries: &[Entry], commands: &[&str]) {
    if !real_systemctl_252() {
        return;
    }
    let diffs = compare(name, entries, commands);
    assert!(
        diffs.is_empty(),
        "{} difference(s) from systemd 252:\n\n{}",
        diffs.len(),
        diffs.join("\n\n")
    );
}

#[test]
fn offline_enable_disable_like_systemd_252() {
    check("basic", &fixtures::basic(), fixtures::BASIC_COMMANDS);
}

#[test]
fn offline_unit_file_states_like_systemd_252() {
    check("states", &fixtures::states(), fixtures::STATES_COMMANDS);
}

#[test]
fn offline_presets_like_systemd_252() {
    check("presets", &fixtures::presets(), fixtures::PRESETS_COMMANDS);
}

#[test]
fn offline_preset_all_like_systemd_252() {
    if !real_systemctl_252() {
        return;
    }
    let mut diffs = compare(
        "preset-all",
        &fixtures::presets(),
        fixtures::PRESET_ALL_COMMANDS,
    );
    let more = [
        "preset-all",
        "list-unit-files",
        "preset-all --preset-mode=disable-only",
        "list-unit-files",
    ];
    for (name, entries) in [
        ("preset-all-states", fixtures::states()),
        ("preset-all-templates", fixtures::templates()),
        ("preset-all-edges", fixtures::edges()),
        ("preset-all-conflicts", fixtures::conflicts()),
    ] {
        diffs.extend(compare(name, &entries, &more));
    }
    assert!(
        diffs.is_empty(),
        "{} difference(s) from systemd 252:\n\n{}",
        diffs.len(),
        diffs.join("\n\n")
    );
}

#[test]
fn offline_templates_aliases_also_like_systemd_252() {
    check(
        "templates",
        &fixtures::templates(),
        fixtures::TEMPLATES_COMMANDS,
    );
}

#[test]
fn offline_merged_usr_like_systemd_252() {
    check(
        "merged-usr",
        &fixtures::merged_usr(),
        fixtures::MERGED_USR_COMMANDS,
    );
}

#[test]
fn offline_edge_cases_like_systemd_252() {
    check("edges", &fixtures::edges(), fixtures::EDGES_COMMANDS);
}

#[test]
fn offline_conflicts_and_linked_files_like_systemd_252() {
    check(
        "conflicts",
        &fixtures::conflicts(),
        fixtures::CONFLICTS_COMMANDS,
    );
}

/// Negative control for the comparison itself: where bosun differs on purpose (it names
/// itself where systemd names systemd), the comparison must see it.
#[test]
fn the_comparison_sees_a_difference() {
    if !real_systemctl_252() {
        return;
    }
    let diffs = compare(
        "control",
        &fixtures::basic(),
        &["enable --now a", "is-enabled a"],
    );
    assert_eq!(diffs.len(), 1, "{diffs:#?}");
    assert!(
        diffs[0].contains("System has not been booted with bosun"),
        "{}",
        diffs[0]
    );
    assert!(
        diffs[0].contains("System has not been booted with systemd"),
        "{}",
        diffs[0]
    );
}

/// The unit files of this machine (Debian's real packages: aliases such as dbus-org.*,
/// getty@, templates, sockets, timers, presets): every name looked up, then preset, disabled
/// and enabled all at once.
#[test]
fn offline_on_this_machines_unit_files_like_systemd_252() {
    if !real_systemctl_252() {
        return;
    }
    let mut entries = Vec::new();
    let mut names = BTreeSet::new();
    let mut seen_dirs = Vec::new();
    for dir in [
        "/etc/systemd/system",
        "/lib/systemd/system",
        "/usr/lib/systemd/system",
        "/lib/systemd/system-preset",
        "/usr/lib/systemd/system-preset",
    ] {
        let Ok(real) = fs::canonicalize(dir) else {
            continue;
        };
        if seen_dirs.contains(&real) {
            continue;
        }
        seen_dirs.push(real);
        collect(Path::new(dir), &mut entries);
        if dir.ends_with("/system") && !dir.starts_with("/etc") {
            for e in fs::read_dir(dir).unwrap().flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                let unit = [
                    ".service", ".socket", ".target", ".timer", ".path", ".mount",
                ]
                .iter()
                .any(|s| n.ends_with(s));
                if unit {
                    names.insert(n);
                }
            }
        }
    }
    if names.is_empty() {
        println!("SKIP: no unit files on this machine to compare on");
        return;
    }
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    let all = all.join(" ");
    let mut commands = vec!["list-unit-files".to_owned()];
    // In small groups: is-enabled stops at the first name it cannot look up.
    let listed: Vec<&String> = names.iter().collect();
    commands.extend(listed.chunks(8).map(|group| {
        let group: Vec<&str> = group.iter().map(|n| n.as_str()).collect();
        format!("is-enabled {}", group.join(" "))
    }));
    commands.extend([
        format!("preset {all}"),
        "list-unit-files".to_owned(),
        format!("disable {all}"),
        "list-unit-files".to_owned(),
        format!("enable {all}"),
        "list-unit-files".to_owned(),
        format!("preset --preset-mode=disable-only {all}"),
        "list-unit-files".to_owned(),
        "get-default".to_owned(),
        "set-default graphical".to_owned(),
    ]);
    let diffs = compare("machine", &entries, &commands);
    assert!(
        diffs.is_empty(),
        "{} difference(s) from systemd 252:\n\n{}",
        diffs.len(),
        diffs.join("\n\n")
    );
}

/// The tree under `dir` (a path on this machine) as fixture entries at the same place.
fn collect(dir: &Path, out: &mut Vec<Entry>) {
    let rel = |p: &Path| p.strip_prefix("/").unwrap().display().to_string();
    out.push(Entry::Dir(rel(dir)));
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let ft = e.file_type().unwrap();
        if ft.is_symlink() {
            let target = fs::read_link(&path).unwrap().display().to_string();
            out.push(Entry::Link(rel(&path), target));
        } else if ft.is_dir() {
            collect(&path, out);
        } else if ft.is_file() {
            let text = fs::read(&path).unwrap_or_default();
            out.push(Entry::File(
                rel(&path),
                String::from_utf8_lossy(&text).into_owned(),
            ));
        }
    }
}

#[test]
fn command_line_errors_like_systemd_252() {
    check("errors", &fixtures::basic(), fixtures::ERROR_COMMANDS);
}

/// bosun's systemctl run the way an image build runs it: no `--root`, `BOSUN_ROOT` naming
/// the image, no bosun running.
fn offline(root: &Path, args: &[&str]) -> Output {
    Command::new(bosun())
        .arg("systemctl")
        .args(args)
        .env("BOSUN_ROOT", root)
        .env_remove("BOSUN_UNIT_PATH")
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn offline_runtime_verbs_say_not_booted() {
    let scratch = Scratch::new("systemctl-runtime");
    build(scratch.path(), &fixtures::basic());
    let not_booted =
        "System has not been booted with bosun as init system (PID 1). Can't operate.\n";
    for args in [
        &["start", "a"][..],
        &["stop", "a"],
        &["restart", "a"],
        &["try-restart", "a"],
        &["reload", "a"],
        &["kill", "a"],
        &["status", "a"],
        &["show", "a"],
        &["is-active", "a"],
        &["is-failed", "a"],
        &["list-units"],
        &[],
        &["list-dependencies"],
        &["reset-failed"],
        &["poweroff"],
        &["exit", "3"],
        &["daemon-reexec"],
        &["show-environment"],
        &["set-environment", "A=1"],
        &["default"],
    ] {
        let out = offline(scratch.path(), args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stderr), not_booted, "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // Negative control: the same binary does answer the file verbs offline.
    let out = offline(scratch.path(), &["is-enabled", "s"]);
    assert_eq!(text(&out.stdout), "static\n");
    assert_eq!(out.status.code(), Some(0));
    // The shim by its own name (argv[0]) behaves the same.
    let shim = scratch.join("systemctl");
    symlink(bosun(), &shim).unwrap();
    let out = Command::new(&shim)
        .arg("start")
        .arg("a")
        .env("BOSUN_ROOT", scratch.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), not_booted);
    // With --root, systemd's own refusal.
    let out = offline(scratch.path(), &["--root=/", "start", "a"]);
    assert_eq!(
        text(&out.stderr),
        "Verb 'start' cannot be used with --root= or --image=.\n"
    );
    assert_eq!(out.status.code(), Some(1));
    // What an image build's postinst calls must succeed or answer as systemd does offline.
    let out = offline(scratch.path(), &["daemon-reload"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = offline(scratch.path(), &["--system", "daemon-reload"]);
    assert_eq!(out.status.code(), Some(0));
    let out = offline(scratch.path(), &["is-system-running"]);
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(1), "offline\n".to_owned())
    );
    // --now: the links are made, then starting needs a running manager, as with systemd.
    let out = offline(scratch.path(), &["enable", "--now", "a"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).ends_with(not_booted),
        "{}",
        text(&out.stderr)
    );
    assert!(
        scratch
            .join("etc/systemd/system/multi-user.target.wants/a.service")
            .is_symlink()
    );
}

#[test]
fn a_listening_control_socket_switches_to_online() {
    let scratch = Scratch::new("systemctl-online");
    build(scratch.path(), &fixtures::basic());
    let socket = scratch.join("run/bosun/control.sock");
    fs::create_dir_all(socket.parent().unwrap()).unwrap();
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    // Something that accepts and hangs up without an answer: systemctl went online (it did
    // not say "not booted") and reports the lost connection. (The connection that tells
    // bosun runs serves the call that follows: one connection or two, all hung up on.)
    let accepting = listener.try_clone().unwrap();
    accepting.set_nonblocking(true).unwrap();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = std::sync::Arc::clone(&done);
    let hangups = std::thread::spawn(move || {
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            match accepting.accept() {
                Ok(connection) => drop(connection),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(1)),
            }
        }
    });
    let out = offline(scratch.path(), &["start", "a"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("Failed to connect to bosun: "),
        "{}",
        text(&out.stderr)
    );
    // File verbs still do their file work (--no-reload: this socket would never answer the
    // daemon-reload that follows them).
    let out = offline(scratch.path(), &["enable", "--no-reload", "a"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(scratch.join("etc/systemd/system/aa.service").is_symlink());
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    hangups.join().unwrap();
    // Negative control: a stale socket nobody listens on is not a running bosun.
    drop(listener);
    let out = offline(scratch.path(), &["start", "a"]);
    assert!(text(&out.stderr).starts_with("System has not been booted with bosun"));
}

#[test]
fn version_names_systemd_252_and_bosun() {
    let out = Command::new(bosun())
        .args(["systemctl", "--version"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some(format!("systemd 252 (bosun {})", env!("CARGO_PKG_VERSION")).as_str())
    );
    assert!(lines.next().unwrap().starts_with("-PAM -AUDIT"));
    // What Debian's scripts do with it.
    let number: u32 = stdout.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert_eq!(number, 252);
}

#[test]
fn cat_prints_files_and_dropins_offline() {
    let scratch = Scratch::new("systemctl-cat");
    let root = scratch.path();
    build(
        root,
        &[
            Entry::File(
                "lib/systemd/system/web.service".into(),
                "[Service]\nExecStart=/bin/true".into(),
            ),
            Entry::File(
                "etc/systemd/system/web.service.d/10-env.conf".into(),
                "[Service]\nEnvironment=A=1\n".into(),
            ),
            Entry::File(
                "lib/systemd/system/other.service".into(),
                "[Service]\nExecStart=/bin/false\n".into(),
            ),
            Entry::Link("etc/systemd/system/gone.service".into(), "/dev/null".into()),
        ],
    );
    let r = root.display();
    let out = offline(root, &["cat", "web", "gone", "other"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "# {r}/lib/systemd/system/web.service\n[Service]\nExecStart=/bin/true\n\n# {r}/etc/systemd/system/web.service.d/10-env.conf\n[Service]\nEnvironment=A=1\n# Unit gone.service is masked.\n\n# {r}/lib/systemd/system/other.service\n[Service]\nExecStart=/bin/false\n"
        )
    );
    let out = offline(root, &["cat", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "No files found for nope.service.\n");
    let out = offline(root, &["cat", "o*"]);
    assert!(text(&out.stdout).starts_with(&format!("# {r}/lib/systemd/system/other.service\n")));
}
