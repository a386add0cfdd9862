//! Issue 19, "bosun is the journal": the persistent journal (`log.persist`) with bosun as a
//! real PID 1 — lines of units, of `/dev/log` and bosun's own survive a restart on the same
//! data volume and are read with `initctl logs --boot -1` (and `--list-boots`); the cap
//! (`log.persist_max`) removes the oldest parts; a directory that cannot be written does not
//! stop boot and is said once. And `log.format: json` renders bosun's own messages as JSON
//! too: every line of its stderr parses.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::{Pid1, Scratch, bosun, enable, wait_until};

/// How long bosun may take to answer in a loaded CI.
const T: Duration = Duration::from_secs(30);

/// bosun run as `arg0` (`bosun`, `journalctl`) with `args` for the bosun under `root` (with
/// `env`): (code, stdout, stderr).
fn run_as(
    arg0: &str,
    root: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> (Option<i32>, String, String) {
    let out = Command::new(bosun())
        .arg0(arg0)
        .args(args)
        .env("BOSUN_ROOT", root)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `bosun ctl ARGS` for the bosun under `root` (with `env`): (stdout, stderr, code).
fn ctl(root: &Path, env: &[(&str, &str)], args: &[&str]) -> (String, String, Option<i32>) {
    let mut all = vec!["ctl"];
    all.extend(args);
    let (code, out, err) = run_as("bosun", root, env, &all);
    (out, err, code)
}

/// bosun as `journalctl` for the bosun under `root` (with `env`): (code, stdout, stderr).
fn jctl(root: &Path, env: &[(&str, &str)], args: &[&str]) -> (Option<i32>, String, String) {
    run_as("journalctl", root, env, args)
}

/// Bytes of the journal's files in `dir`.
fn journal_bytes(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".jsonl"))
                .map(|e| e.metadata().map_or(0, |m| m.len()))
                .sum()
        })
        .unwrap_or(0)
}

/// A root whose `/var/lib/app` is on the data volume (`bosun image prepare`): bosun manages
/// a volume, so `log.persist: auto` keeps the journal in `/data/.bosun/journal`.
fn volume_root(dir: &Scratch) -> std::path::PathBuf {
    let root = dir.join("root");
    let app = root.join("var/lib/app");
    fs::create_dir_all(&app).unwrap();
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::create_dir_all(root.join("dev")).unwrap();
    fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    fs::write(root.join("etc/group"), "root:x:0:\n").unwrap();
    fs::write(app.join("app.conf"), "v1\n").unwrap();
    let list = dir.join("list");
    fs::write(&list, "/var/lib/app\n").unwrap();
    let prepare = Command::new(bosun())
        .args(["image", "prepare", "--build-id", "b1", "--root"])
        .arg(&root)
        .arg(&list)
        .output()
        .unwrap();
    assert!(prepare.status.success(), "{prepare:?}");
    root
}

#[test]
fn lines_survive_a_restart_on_the_volume_and_are_read_with_boot_minus_one() {
    let dir = Scratch::new("persist-restart");
    let root = volume_root(&dir);
    let marker = dir.join("marker");
    // The syslog line comes from the unit's main process itself, which stays: a `logger`
    // run by the shell would be reaped before PID 1 reads its datagram, and a line whose
    // sender is gone is kept as `unknown` (journald loses such a sender's unit too).
    let python = "/usr/bin/python3";
    let logger = Path::new(python).exists();
    if !logger {
        eprintln!("SKIP: {python} missing: the /dev/log part of this test is not run");
    }
    let script = dir.join("say.py");
    fs::write(
        &script,
        format!(
            "import socket, time\n\
             s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
             s.sendto(b'<14>hello: syslog ' + open('{m}', 'rb').read(), '{log}')\n\
             time.sleep(1000)\n",
            log = root.join("dev/log").display(),
            m = marker.display()
        ),
    )
    .unwrap();
    let syslog = if logger {
        format!("; exec {python} {}", script.display())
    } else {
        "; exec sleep 1000".to_owned()
    };
    let unit = format!(
        "[Service]\nExecStart=/bin/sh -c 'echo \"stdout $(cat {m})\"; echo \"stderr $(cat {m})\" \
         >&2{syslog}'\n",
        m = marker.display()
    );
    enable(&root, &[("hello.service", &unit)]);
    let journal = root.join("data/.bosun/journal");
    let mut runs = Vec::new();
    for run in ["first", "second"] {
        fs::write(&marker, run).unwrap();
        let Some(pid1) = Pid1::bosun().env("BOSUN_ROOT", &root).start() else {
            return;
        };
        let mut seen = String::new();
        let expected = if logger { 3 } else { 2 };
        let up = wait_until(T, || {
            seen = ctl(&root, &[], &["logs", "hello.service"]).0;
            seen.matches(run).count() >= expected
        });
        assert!(up, "{run}: {seen}\n{}", pid1.stderr_now());
        // While it runs, the current run (0) is read from the files too.
        let mut current = String::new();
        let written = wait_until(T, || {
            current = ctl(&root, &[], &["logs", "--boot", "0", "hello.service"]).0;
            current.matches(run).count() >= expected
        });
        assert!(
            written,
            "{run}: not in the files:\n{current}\n{}",
            pid1.stderr_now()
        );
        pid1.signal(libc::SIGTERM);
        runs.push(pid1.wait(T).assert_code(0).stderr.clone());
    }
    // The run before: the first run's lines, every source, and only them.
    let (before, err, code) = ctl(&root, &[], &["logs", "--boot", "-1", "-n", "all"]);
    assert_eq!(code, Some(0), "{err}");
    for source in ["stdout first", "stderr first"] {
        assert!(before.contains(source), "{source}:\n{before}");
    }
    if logger {
        assert!(before.contains("syslog first"), "{before}");
    }
    assert!(!before.contains("second"), "{before}");
    // bosun's own messages, to the end of the run (its shutdown).
    assert!(before.contains(" bosun[1]"), "{before}");
    let last_said = runs[0].lines().rev().find(|l| l.starts_with("bosun: "));
    if let Some(last) = last_said {
        let text = last.trim_start_matches("bosun: ");
        assert!(before.contains(text), "{last:?} not persisted:\n{before}");
    }
    let (json, _, _) = ctl(&root, &[], &["logs", "--boot", "-1", "--json", "-n", "all"]);
    let own: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["unit"] == "bosun")
        .collect();
    assert!(!own.is_empty(), "{json}");
    assert!(
        own.iter().all(|v| v["syslog"]["priority"].is_u64()),
        "{own:?}"
    );
    // Offsets from the other end and the list of runs.
    let (oldest, _, _) = ctl(&root, &[], &["logs", "--boot", "1", "-n", "all"]);
    assert_eq!(oldest, before);
    let (list, _, code) = ctl(&root, &[], &["logs", "--list-boots"]);
    assert_eq!(code, Some(0));
    let rows: Vec<&str> = list.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{list}");
    assert!(rows[0].trim_start().starts_with("-1 "), "{list}");
    assert!(rows[1].trim_start().starts_with("0 "), "{list}");
    let (_, err, code) = ctl(&root, &[], &["logs", "--boot", "-2"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("holds no run -2"), "{err}");
    // The files: readable by bosun's user and group only; the directory too.
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&journal), 0o750);
    for file in fs::read_dir(&journal).unwrap().flatten() {
        assert_eq!(mode(&file.path()), 0o640, "{}", file.path().display());
    }
    // Negative control: `log.persist: off` keeps nothing of a third run.
    fs::write(&marker, "third").unwrap();
    let Some(pid1) = Pid1::bosun()
        .env("BOSUN_ROOT", &root)
        .env("BOSUN_LOG_PERSIST", "off")
        .start()
    else {
        return;
    };
    assert!(wait_until(T, || ctl(
        &root,
        &[],
        &["logs", "hello.service"]
    )
    .0
    .contains("stdout third")));
    pid1.signal(libc::SIGTERM);
    pid1.wait(T).assert_code(0);
    let (list, _, _) = ctl(&root, &[], &["logs", "--list-boots"]);
    assert_eq!(list.lines().count(), 3, "{list}");
}

/// A unit that says `lines` lines of about 100 bytes, then `done`.
fn flood_unit(lines: usize) -> String {
    format!(
        "[Service]\nExecStart=/bin/sh -c 'i=0; while [ $i -lt {lines} ]; do i=$((i+1)); \
         echo \"line $i 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567\"; \
         done; echo done; exec sleep 1000'\n"
    )
}

/// Run the flood under bosun with the journal in `/journal` capped at `max`; the files' bytes
/// and the first flood line still kept.
fn flood_with_cap(tag: &str, max: &str) -> Option<(u64, String)> {
    let dir = Scratch::new(tag);
    let root = dir.join("root");
    enable(&root, &[("flood.service", &flood_unit(3000))]);
    let env = [
        ("BOSUN_LOG_PERSIST", "/journal"),
        ("BOSUN_LOG_PERSIST_MAX", max),
    ];
    let pid1 = Pid1::bosun()
        .env("BOSUN_ROOT", &root)
        .env(env[0].0, env[0].1)
        .env(env[1].0, env[1].1)
        .start()?;
    let mut last = String::new();
    let done = wait_until(T, || {
        last = ctl(
            &root,
            &env,
            &["logs", "--boot", "0", "-n", "1", "flood.service"],
        )
        .0;
        last.ends_with(": done\n")
    });
    assert!(done, "{last}\n{}", pid1.stderr_now());
    let bytes = journal_bytes(&root.join("journal"));
    let (all, _, _) = ctl(
        &root,
        &env,
        &["logs", "--boot", "0", "-n", "all", "flood.service"],
    );
    let first = all.lines().next().unwrap_or_default().to_owned();
    pid1.signal(libc::SIGTERM);
    pid1.wait(T).assert_code(0);
    Some((bytes, first))
}

#[test]
fn the_cap_removes_the_oldest_parts_first() {
    let cap = 64 * 1024;
    let Some((bytes, first)) = flood_with_cap("persist-cap", "64K") else {
        return;
    };
    assert!(bytes <= cap, "{bytes} bytes kept, cap {cap}");
    // The oldest lines went, the newest stayed.
    assert!(!first.contains(": line 1 "), "{first}");
    // Negative control: with room, the same run takes far more, from its first line on.
    let Some((bytes, first)) = flood_with_cap("persist-nocap", "16M") else {
        return;
    };
    assert!(bytes > 4 * cap, "{bytes} bytes without the cap");
    assert!(first.contains(": line 1 "), "{first}");
}

#[test]
fn an_unwritable_directory_does_not_stop_boot_and_is_said_once() {
    let dir = Scratch::new("persist-unwritable");
    let root = dir.join("root");
    enable(
        &root,
        &[(
            "hello.service",
            "[Service]\nExecStart=/bin/sh -c 'echo up; exec sleep 1000'\n",
        )],
    );
    // Its parent is a file: no user, root included, can make the directory.
    fs::write(root.join("file"), "").unwrap();
    let Some(pid1) = Pid1::bosun()
        .env("BOSUN_ROOT", &root)
        .env("BOSUN_LOG_PERSIST", "/file/journal")
        .start()
    else {
        return;
    };
    assert!(
        wait_until(T, || ctl(&root, &[], &["logs", "hello.service"])
            .0
            .contains(": up")),
        "{}",
        pid1.stderr_now()
    );
    pid1.signal(libc::SIGTERM);
    let finished = pid1.wait(T).assert_code(0).stderr.clone();
    let said = finished
        .lines()
        .filter(|l| l.contains("cannot keep the persistent journal"))
        .count();
    assert_eq!(said, 1, "{finished}");
    assert!(finished.contains("/file/journal"), "{finished}");
}

#[test]
fn log_format_json_renders_bosuns_own_messages_as_json() {
    let dir = Scratch::new("persist-json");
    let root = dir.join("root");
    enable(
        &root,
        &[
            (
                "hello.service",
                "[Service]\nExecStart=/bin/sh -c 'echo hello; exec sleep 1000'\n",
            ),
            ("broken.service", "[Service]\nExecStart=/bin/false\n"),
        ],
    );
    let run = |format: &str| {
        let pid1 = Pid1::bosun()
            .env("BOSUN_ROOT", &root)
            .env("BOSUN_LOG_FORMAT", format)
            .env("BOSUN_VERBOSITY", "3")
            .start()?;
        assert!(
            wait_until(T, || ctl(&root, &[], &["logs", "hello.service"])
                .0
                .contains(": hello")),
            "{}",
            pid1.stderr_now()
        );
        pid1.signal(libc::SIGTERM);
        let finished = pid1.wait(T);
        Some((finished.stderr.clone(), finished.stdout_str()))
    };
    let Some((stderr, stdout)) = run("json") else {
        return;
    };
    assert!(stderr.lines().count() > 10, "{stderr}");
    let mut priorities = std::collections::BTreeSet::new();
    for line in stderr.lines() {
        let value: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}\n{stderr}"));
        assert_eq!(value["unit"], "bosun", "{line}");
        assert_eq!(value["stream"], "stderr", "{line}");
        assert!(
            value["time"].is_string() && value["message"].is_string(),
            "{line}"
        );
        priorities.insert(value["priority"].as_u64().unwrap());
    }
    // Errors (broken.service failed), notices and detail, each with its priority.
    for p in [3, 5, 6] {
        assert!(
            priorities.contains(&p),
            "no priority {p}: {priorities:?}\n{stderr}"
        );
    }
    // The services' lines are JSON with the same field names.
    let hello = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["message"] == "hello")
        .expect("hello on stdout");
    assert_eq!(hello["unit"], "hello.service");
    // Negative control: in text, bosun's messages are `bosun: ` lines, not JSON.
    let Some((stderr, _)) = run("text") else {
        return;
    };
    assert!(stderr.lines().all(|l| l.starts_with("bosun: ")), "{stderr}");
}

/// The `_BOOT_ID` of every line `journalctl ARGS -o json` prints.
fn boot_ids(root: &Path, args: &[&str]) -> Vec<String> {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    let (code, out, err) = jctl(root, &[], &all);
    assert_eq!(code, Some(0), "{err}");
    out.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["_BOOT_ID"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// Issue 19 (leftovers): `journalctl -b -1`, `-b ID[±N]` and `--list-boots` read the
/// persistent journal as systemd's journalctl reads its older boots, every filter applied as
/// for the live boot; the persisted run's id is PID 1's boot ID (`_BOOT_ID`).
#[test]
fn journalctl_reads_the_boot_before_with_every_filter() {
    let dir = Scratch::new("persist-journalctl");
    let root = volume_root(&dir);
    let marker = dir.join("marker");
    let m = marker.display();
    let x = format!(
        "[Service]\nExecStart=/bin/sh -c 'echo \"x-$(cat {m})\"; echo \"<3>x-bad-$(cat {m})\"; \
         echo \"x-last-$(cat {m})\"; exec sleep 1000'\n"
    );
    let y = format!("[Service]\nExecStart=/bin/sh -c 'echo \"y-$(cat {m})\"; exec sleep 1000'\n");
    enable(&root, &[("x.service", &x), ("y.service", &y)]);
    let mut ids = Vec::new();
    let mut ended_ms = 0;
    for run in ["first", "second"] {
        fs::write(&marker, run).unwrap();
        let Some(pid1) = Pid1::bosun().env("BOSUN_ROOT", &root).start() else {
            return;
        };
        let mut seen = String::new();
        let up = wait_until(T, || {
            seen = jctl(&root, &[], &["-u", "x", "-u", "y"]).1;
            seen.contains(&format!("x-last-{run}")) && seen.contains(&format!("y-{run}"))
        });
        assert!(up, "{run}: {seen}\n{}", pid1.stderr_now());
        // One id per boot: what PID 1 says (_BOOT_ID of the live lines) names the run's files.
        let live = boot_ids(&root, &["-b", "-u", "x"]);
        assert_eq!(live.len(), 3, "{live:?}");
        ids.push(live[0].clone());
        if run == "second" {
            check_both_boots(&root, &ids, ended_ms);
        }
        pid1.signal(libc::SIGTERM);
        pid1.wait(T).assert_code(0);
        ended_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis();
    }
    // With no bosun running, the files alone: boot 0 is the newest run.
    let (code, out, err) = jctl(&root, &[], &["-b", "-1", "-u", "x", "-o", "cat"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "x-first\nx-bad-first\nx-last-first\n");
    let (_, out, _) = jctl(&root, &[], &["-b", "-u", "x", "-o", "cat"]);
    assert_eq!(out, "x-second\nx-bad-second\nx-last-second\n");
    assert_eq!(boot_ids(&root, &["-b", "0", "-u", "y"]), [ids[1].clone()]);
    let (code, out, err) = jctl(&root, &[], &["-u", "x", "-o", "cat"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out,
        "x-first\nx-bad-first\nx-last-first\nx-second\nx-bad-second\nx-last-second\n"
    );
    let (code, _, err) = jctl(&root, &[], &["-u", "nomatch*"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("No data available"), "{err}");
    // Negative control: without log.persist, systemd 252's journalctl with runtime files only
    // says an offset has no effect and shows nothing (exit 0); boot 1's lines stay unread.
    let off = [("BOSUN_LOG_PERSIST", "off")];
    let (code, out, err) = jctl(&root, &off, &["-b", "-1", "-u", "x"]);
    assert_eq!((code, out.as_str()), (Some(0), ""), "{err}");
    assert!(
        err.starts_with(
            "Specifying boot ID or boot offset has no effect, no persistent journal was found."
        ),
        "{err}"
    );
    let (code, _, err) = jctl(&root, &off, &["-b", &ids[0]]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("No such boot ID in journal"), "{err}");
}

/// The second boot is running: `-b` over both, as journalctl counts them.
fn check_both_boots(root: &Path, ids: &[String], first_ended_ms: u128) {
    let cat = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["-o", "cat"]);
        let (code, out, err) = jctl(root, &[], &all);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        out
    };
    // The boot before: its lines of x only, then each filter as for the live boot.
    assert_eq!(
        cat(&["-b", "-1", "-u", "x"]),
        "x-first\nx-bad-first\nx-last-first\n"
    );
    assert_eq!(cat(&["-b", "-1", "-u", "x", "-p", "err"]), "x-bad-first\n");
    assert_eq!(cat(&["-b", "-1", "-u", "x", "-n", "1"]), "x-last-first\n");
    assert_eq!(
        cat(&["-b", "-1", "-u", "x", "-r", "-n", "2"]),
        "x-last-first\nx-bad-first\n"
    );
    assert_eq!(cat(&["-b", "-1", "-t", "sh", "-u", "y"]), "y-first\n");
    assert_eq!(cat(&["-b", "-1", "-t", "y"]), "");
    let after = format!("@{}", first_ended_ms / 1000 + 1);
    assert_eq!(cat(&["-b", "-1", "-u", "x", "--since", &after]), "");
    assert_eq!(
        cat(&["-b", "-1", "-u", "x", "--until", &after])
            .lines()
            .count(),
        3
    );
    // This boot, by offset, by ID, and by the ID before it plus one.
    for b in ["0", ids[1].as_str(), &format!("{}+1", ids[0])] {
        assert_eq!(
            cat(&["-b", b, "-u", "x"]),
            "x-second\nx-bad-second\nx-last-second\n",
            "-b {b}"
        );
    }
    assert_eq!(cat(&["-b", "1", "-u", "y"]), "y-first\n");
    assert_eq!(cat(&["-b", &ids[0], "-u", "y"]), "y-first\n");
    // Every line of the boot before carries its id, the one --list-boots gives it.
    let before = boot_ids(root, &["-b", "-1", "-u", "x", "-u", "y"]);
    assert_eq!(before.len(), 4, "{before:?}");
    assert!(before.iter().all(|id| *id == ids[0]), "{before:?} {ids:?}");
    assert_ne!(ids[0], ids[1]);
    let (code, list, err) = jctl(root, &[], &["--list-boots"]);
    assert_eq!(code, Some(0), "{err}");
    let rows: Vec<&str> = list.lines().collect();
    assert_eq!(rows.len(), 3, "{list}");
    assert!(rows[0].starts_with("IDX BOOT ID "), "{list}");
    assert!(rows[1].starts_with(&format!(" -1 {} ", ids[0])), "{list}");
    assert!(rows[2].starts_with(&format!("  0 {} ", ids[1])), "{list}");
    let (_, json, _) = jctl(root, &[], &["--list-boots", "-o", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json[0]["index"], -1, "{json}");
    assert_eq!(json[0]["boot_id"], ids[0].as_str(), "{json}");
    assert_eq!(json[1]["boot_id"], ids[1].as_str(), "{json}");
    // Without -b (and with -b all), every boot, as journalctl reads all its files: the last
    // lines of all together, `-- Boot ID --` between two boots in the modes for people.
    let both = "x-first\nx-bad-first\nx-last-first\nx-second\nx-bad-second\nx-last-second\n";
    assert_eq!(cat(&["-u", "x"]), both);
    assert_eq!(cat(&["-b", "all", "-u", "x"]), both);
    assert_eq!(
        cat(&["-u", "x", "-n", "4"]),
        "x-last-first\nx-second\nx-bad-second\nx-last-second\n"
    );
    assert_eq!(
        cat(&["-u", "x", "-n", "4", "-r"]),
        "x-last-second\nx-bad-second\nx-second\nx-last-first\n"
    );
    assert_eq!(
        cat(&["-u", "x", "-n", "2"]),
        "x-bad-second\nx-last-second\n"
    );
    assert_eq!(
        cat(&["-u", "x", "-p", "err"]),
        "x-bad-first\nx-bad-second\n"
    );
    let (_, short, _) = jctl(root, &[], &["-u", "x", "-n", "4"]);
    let rows: Vec<&str> = short.lines().collect();
    assert_eq!(rows.len(), 5, "{short}");
    assert!(rows[0].ends_with(": x-last-first"), "{short}");
    assert_eq!(rows[1], format!("-- Boot {} --", ids[1]), "{short}");
    assert!(rows[2].ends_with(": x-second"), "{short}");
    let (_, quiet, _) = jctl(root, &[], &["-u", "x", "-n", "4", "-q"]);
    assert_eq!(quiet.lines().count(), 4, "{quiet}");
    let every = boot_ids(root, &["-u", "x"]);
    assert_eq!(every.len(), 6, "{every:?}");
    assert_eq!(every[..3], [ids[0].clone(), ids[0].clone(), ids[0].clone()]);
    assert_eq!(every[3..], [ids[1].clone(), ids[1].clone(), ids[1].clone()]);
    // A boot the journal does not hold, and globs that match no unit of the boot: refused
    // as journalctl refuses them (exit 1).
    let (code, out, err) = jctl(root, &[], &["-b", "-2"]);
    assert_eq!((code, out.as_str()), (Some(1), ""), "{out}");
    assert_eq!(
        err,
        "Data from the specified boot (-2) is not available: No such boot ID in journal\n"
    );
    let (code, _, err) = jctl(root, &[], &["-b", "-1", "-u", "nomatch*"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("Failed to add filter for units: No data available"),
        "{err}"
    );
    assert_eq!(cat(&["-b", "-1", "-u", "x*", "-p", "err"]), "x-bad-first\n");
}
