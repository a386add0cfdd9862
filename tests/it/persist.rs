//! Issue 19, "bosun is the journal": the persistent journal (`log.persist`) with bosun as a
//! real PID 1 — lines of units, of `/dev/log` and bosun's own survive a restart on the same
//! data volume and are read with `initctl logs --boot -1` (and `--list-boots`); the cap
//! (`log.persist_max`) removes the oldest parts; a directory that cannot be written does not
//! stop boot and is said once. And `log.format: json` renders bosun's own messages as JSON
//! too: every line of its stderr parses.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::{Pid1, Scratch, bosun, wait_until};

/// How long bosun may take to answer in a loaded CI.
const T: Duration = Duration::from_secs(30);

/// A unit tree under `root/etc/systemd/system`, every unit wanted at boot.
fn enable(root: &Path, units: &[(&str, &str)]) {
    let dir = root.join("etc/systemd/system");
    fs::create_dir_all(dir.join("multi-user.target.wants")).unwrap();
    for (name, text) in units {
        fs::write(dir.join(name), text).unwrap();
        symlink(
            format!("../{name}"),
            dir.join("multi-user.target.wants").join(name),
        )
        .unwrap();
    }
}

/// `bosun ctl ARGS` for the bosun under `root` (with `env`): (stdout, stderr, code).
fn ctl(root: &Path, env: &[(&str, &str)], args: &[&str]) -> (String, String, Option<i32>) {
    let out = Command::new(bosun())
        .arg("ctl")
        .args(args)
        .env("BOSUN_ROOT", root)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
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
