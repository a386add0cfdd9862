//! Issue #5 acceptance: every systemctl verb against one running bosun PID 1, for units that
//! are active, inactive, failed, activating, masked, static, not found, templates and their
//! instances, one and several per call; each row's exit code, stdout and stderr must be what
//! systemd 252's systemctl gives (derived from its source, systemctl-*.c of v252; the file
//! verbs compared with the machine's own `systemctl --root` on a copy of the tree).
//!
//! The table lives in [`table`]; this file runs it. Each command runs inside bosun's PID and
//! mount namespaces (`nsenter`), as a process in the container would, so that pids, `/proc`
//! and the control socket are the container's. Paths under the scratch root print as the
//! container sees them (the root prefix is removed before comparing). Every row is checked and
//! all differences are reported at once.

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::harness::{Pid1, Scratch, bosun, wait_until};
use crate::systemctl::{REAL, build, real_systemctl_252, tree, words};

mod changes;
mod table;

/// What a row expects.
#[derive(Debug)]
pub enum Check {
    /// This exit code, stdout and stderr; `{*}` in them stands for any text.
    Is(i32, &'static str, &'static str),
    /// What systemd 252's own `systemctl --root` prints on a copy of the tree, with the same
    /// links made or removed (file verbs: the same words online as offline when they succeed).
    Real,
    /// This exit code and stdout within a few seconds (a state that settles after the row
    /// before, such as a killed service's).
    Soon(i32, &'static str),
    /// Not a command: write this file (the row's line is its path under the root).
    Write(&'static str),
    /// Start the command and go on while it runs (a `start` that waits for its job).
    Behind,
    /// The command started [`Check::Behind`] ended with this exit code, stdout and stderr
    /// (the row's line is not run).
    Joined(i32, &'static str, &'static str),
}

/// One command and what it must give.
#[derive(Debug)]
pub struct Row {
    /// systemctl's arguments (single quotes group words); `@nobody ` first runs it as uid 65534.
    pub line: &'static str,
    pub check: Check,
}

/// Whether `text` is `pattern`, where `{*}` in the pattern matches any text (newlines too).
pub fn matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split("{*}").collect();
    let [first, .., last] = parts.as_slice() else {
        return pattern == text;
    };
    if text.len() < first.len() + last.len() || !text.starts_with(first) || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

/// A command's exit code, stdout and stderr, with `root` removed from paths.
type Seen = (Option<i32>, String, String);

fn seen(out: &Output, root: &Path) -> Seen {
    let clean = |b: &[u8]| String::from_utf8_lossy(b).replace(&root.display().to_string(), "");
    (out.status.code(), clean(&out.stdout), clean(&out.stderr))
}

/// The environment every systemctl of the table runs with (both implementations).
fn clean_env(cmd: &mut Command) {
    cmd.env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("LC_ALL", "C.UTF-8")
        .env("HOME", "/root");
}

/// bosun's systemctl inside the namespaces of PID 1 (host pid `pid`).
fn ours(pid: i32, root: &Path, line: &str) -> Seen {
    let out = command(pid, root, line)
        .output()
        .unwrap_or_else(|e| panic!("run {line}: {e}"));
    seen(&out, root)
}

fn command(pid: i32, root: &Path, line: &str) -> Command {
    let (nobody, line) = match line.strip_prefix("@nobody ") {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let mut cmd = Command::new("nsenter");
    cmd.args(["-t", &pid.to_string(), "-p", "-m", "--"]);
    if nobody {
        cmd.args([
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
        ]);
    }
    cmd.arg(bosun()).arg("systemctl").args(words(line));
    clean_env(&mut cmd);
    cmd.env("BOSUN_ROOT", root);
    cmd
}

/// Whether a systemctl below process `pid` (nsenter's) sent its request and is reading the
/// answer from the control socket.
fn waits_for_answer(pid: u32) -> bool {
    let children = |p: u32| -> Vec<u32> {
        let Ok(tasks) = fs::read_dir(format!("/proc/{p}/task")) else {
            return Vec::new();
        };
        tasks
            .flatten()
            .flat_map(|t| {
                fs::read_to_string(t.path().join("children"))
                    .unwrap_or_default()
                    .split_whitespace()
                    .filter_map(|c| c.parse().ok())
                    .collect::<Vec<u32>>()
            })
            .collect()
    };
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let comm = fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
        let wchan = fs::read_to_string(format!("/proc/{p}/wchan")).unwrap_or_default();
        if comm.trim() == "bosun" && wchan.contains("unix_stream_read") {
            return true;
        }
        todo.extend(children(p));
    }
    false
}

/// The unit directories a file verb may change, copied to `to`.
fn copy_units(root: &Path, to: &Path) {
    fs::create_dir_all(to.join("run")).unwrap();
    for dir in ["etc", "lib", "usr", "run/systemd"] {
        if root.join(dir).exists() {
            let status = Command::new("cp")
                .arg("-a")
                .arg(root.join(dir))
                .arg(to.join(dir))
                .status()
                .unwrap();
            assert!(status.success(), "copy {dir}");
        }
    }
}

fn units_tree(root: &Path) -> Vec<String> {
    let mut all = Vec::new();
    for dir in ["etc", "run/systemd"] {
        if root.join(dir).exists() {
            all.extend(
                tree(&root.join(dir))
                    .into_iter()
                    .map(|e| format!("{dir}/{e}")),
            );
        }
    }
    all
}

fn describe(n: usize, line: &str, what: &str, want: &Seen, got: &Seen) -> String {
    format!(
        "row {n}: systemctl {line}\n  {what}: exit {:?}\n--- stdout ---\n{}--- stderr ---\n{}  bosun: exit {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
        want.0, want.1, want.2, got.0, got.1, got.2
    )
}

/// Run the table against the bosun whose host pid is `pid`; every difference, described.
fn run_table(pid: i32, root: &Path, scratch: &Path, rows: &[Row]) -> Vec<String> {
    let real = real_systemctl_252();
    let mut diffs = Vec::new();
    let mut behind: Option<(&str, std::process::Child)> = None;
    for (n, row) in rows.iter().enumerate() {
        let line = row.line;
        match &row.check {
            Check::Behind => {
                let child = command(pid, root, line)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                // Its request has reached PID 1 once it waits for the answer.
                let asked = wait_until(Duration::from_secs(10), || waits_for_answer(child.id()));
                assert!(asked, "systemctl {line} never asked PID 1");
                std::thread::sleep(Duration::from_millis(100));
                behind = Some((line, child));
            }
            Check::Joined(code, out, err) => {
                let (line, child) = behind.take().expect("a row Behind before");
                let got = seen(&child.wait_with_output().unwrap(), root);
                if got.0 != Some(*code) || !matches(out, &got.1) || !matches(err, &got.2) {
                    let want = (Some(*code), (*out).to_owned(), (*err).to_owned());
                    diffs.push(describe(n, line, "systemd 252", &want, &got));
                }
            }
            Check::Write(text) => {
                let path = root.join(line);
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(path, text).unwrap();
            }
            Check::Is(code, out, err) => {
                let got = ours(pid, root, line);
                if got.0 != Some(*code) || !matches(out, &got.1) || !matches(err, &got.2) {
                    let want = (Some(*code), (*out).to_owned(), (*err).to_owned());
                    diffs.push(describe(n, line, "systemd 252", &want, &got));
                }
            }
            Check::Soon(code, out) => {
                let mut got = ours(pid, root, line);
                let deadline = Instant::now() + Duration::from_secs(10);
                while (got.0 != Some(*code) || !matches(out, &got.1)) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                    got = ours(pid, root, line);
                }
                if got.0 != Some(*code) || !matches(out, &got.1) {
                    let want = (Some(*code), (*out).to_owned(), got.2.clone());
                    diffs.push(describe(n, line, "within 10 s", &want, &got));
                }
            }
            Check::Real if !real => {}
            Check::Real => {
                let copy = scratch.join(format!("real-{n}"));
                copy_units(root, &copy);
                let mut cmd = Command::new(REAL);
                cmd.arg(format!("--root={}", copy.display()))
                    .args(words(line));
                clean_env(&mut cmd);
                let want = seen(&cmd.output().unwrap(), &copy);
                let got = ours(pid, root, line);
                if want != got {
                    diffs.push(describe(n, line, "systemd 252 --root", &want, &got));
                }
                let (a, b) = (units_tree(&copy), units_tree(root));
                if a != b {
                    let only_real: Vec<&String> = a.iter().filter(|e| !b.contains(e)).collect();
                    let only_ours: Vec<&String> = b.iter().filter(|e| !a.contains(e)).collect();
                    diffs.push(format!(
                        "row {n}: after `systemctl {line}` the unit trees differ\n  only systemd 252's: {only_real:#?}\n  only bosun's: {only_ours:#?}"
                    ));
                }
                let _ = fs::remove_dir_all(&copy);
            }
        }
    }
    diffs
}

#[test]
fn every_verb_like_systemd_252() {
    let dir = Scratch::new("verbs");
    let root: PathBuf = dir.join("root");
    build(&root, &table::tree());
    let Some(pid1) = Pid1::bosun()
        .env("BOSUN_ROOT", &root)
        .args(["--", "sleep", "3600"])
        .start()
    else {
        return;
    };
    let pid = pid1.pid();
    let booted = wait_until(Duration::from_secs(30), || {
        ours(pid, &root, "is-active web").1 == "active\n"
    });
    assert!(
        booted,
        "web.service never became active\n{}\n{}",
        pid1.stdout_now(),
        pid1.stderr_now()
    );
    let started = Instant::now();
    let rows = table::rows();
    let diffs = run_table(pid, &root, dir.path(), &rows);
    println!(
        "{} rows in {:.1} s",
        rows.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        diffs.is_empty(),
        "{} of {} rows differ from systemd 252:\n\n{}\n\nbosun's output:\n{}",
        diffs.len(),
        rows.len(),
        diffs.join("\n\n"),
        pid1.stderr_now()
    );
    // The last word: `systemctl exit N` ends the container with N. The client lives in the
    // container's PID namespace: it exits 0 once answered, unless the container's end (the
    // final sweep, or the kernel when PID 1 exits) kills it first, as it would kill a
    // systemctl inside a systemd container. Either way it says nothing.
    let out = command(pid, &root, "exit 5").output().unwrap();
    let (code, signal) = (out.status.code(), out.status.signal());
    assert!(
        (code == Some(0) || matches!(signal, Some(libc::SIGTERM | libc::SIGKILL)))
            && out.stderr.is_empty(),
        "{:?}",
        seen(&out, &root)
    );
    pid1.wait(Duration::from_secs(30)).assert_code(5);
}

/// Negative control for the table: the same rows with one wrong expectation are reported.
#[test]
fn the_table_sees_a_difference() {
    assert!(matches("active\n", "active\n"));
    assert!(!matches("active\n", "inactive\n"));
    assert!(matches(
        "● {*} ago\n{*}",
        "● web since x; 3s ago\n   Main PID: 4\n"
    ));
    assert!(!matches("● {*} ago\n{*}", "● web since x; 3s\n"));
    assert!(matches("a{*}b{*}c", "abc"));
    assert!(!matches("a{*}b{*}c", "acb"));
    assert!(!matches("", "x"));
    let dir = Scratch::new("verbs-control");
    let root = dir.join("root");
    build(&root, &table::tree());
    let Some(pid1) = Pid1::bosun()
        .env("BOSUN_ROOT", &root)
        .args(["--", "sleep", "3600"])
        .start()
    else {
        return;
    };
    let pid = pid1.pid();
    assert!(wait_until(Duration::from_secs(30), || {
        ours(pid, &root, "is-active web").1 == "active\n"
    }));
    let rows = [
        Row {
            line: "is-active web",
            check: Check::Is(0, "active\n", ""),
        },
        Row {
            line: "is-active idle",
            check: Check::Is(0, "active\n", ""),
        },
    ];
    let diffs = run_table(pid, &root, dir.path(), &rows);
    assert_eq!(diffs.len(), 1, "{diffs:#?}");
    assert!(diffs[0].starts_with("row 1: systemctl is-active idle"));
}
