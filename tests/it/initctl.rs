//! Issue #5: `initctl` (`bosun ctl`) against bosun as a real PID 1 in a namespace, asked from
//! the test process over the control socket under the scratch root: the status header and
//! table, `status UNIT`, `logs -n` and `logs -f`, `is-ready` through boot, `--json`, the job
//! verbs, a non-root caller, `verify`, no bosun at all, and the `.bosun-new` files and `diff`
//! after a volume upgrade.

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::harness::{Pid1, Scratch, bosun, wait_until};

/// How long bosun may take to answer in a loaded CI.
const T: Duration = Duration::from_secs(30);

/// The exit code when no bosun answers.
const NOT_RUNNING: i32 = 69;

/// One run of `bosun ctl`.
struct Ctl {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    command: String,
}

impl Ctl {
    fn dump(&self) -> String {
        format!(
            "command: {}\ncode: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command, self.code, self.stdout, self.stderr
        )
    }

    #[track_caller]
    fn code(&self, expected: i32) -> &Self {
        assert_eq!(self.code, Some(expected), "{}", self.dump());
        self
    }

    #[track_caller]
    fn out_has(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}\n{}",
            self.dump()
        );
        self
    }

    #[track_caller]
    fn err_has(&self, text: &str) -> &Self {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}\n{}",
            self.dump()
        );
        self
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not one JSON document ({e})\n{}", self.dump()))
    }
}

fn run(mut cmd: Command) -> Ctl {
    let command = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{command}: {e}"));
    Ctl {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        command,
    }
}

/// `bosun ctl ARGS` for the bosun under `root`.
fn ctl(root: &Path, args: &[&str]) -> Ctl {
    let mut cmd = Command::new(bosun());
    cmd.arg("ctl").args(args).env("BOSUN_ROOT", root);
    run(cmd)
}

/// The same as user `nobody`.
fn ctl_as_nobody(root: &Path, args: &[&str]) -> Ctl {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(bosun())
        .arg("ctl")
        .args(args)
        .env("BOSUN_ROOT", root);
    run(cmd)
}

/// Wait until the bosun under `root` answers, and `ready` holds for `is-ready`'s answer.
fn wait_for(root: &Path, what: &str, ready: impl Fn(&Ctl) -> bool) -> Ctl {
    let mut last = None;
    let held = wait_until(T, || {
        let answer = ctl(root, &["is-ready"]);
        let ok = answer.code != Some(NOT_RUNNING) && ready(&answer);
        last = Some(answer);
        ok
    });
    let last = last.unwrap();
    assert!(held, "bosun never got {what}\n{}", last.dump());
    last
}

/// A unit tree under `root/etc/systemd/system`; `enabled` units are wanted at boot. `/bin`
/// points to the machine's, so `verify` finds the commands under the root.
fn units(root: &Path, files: &[(&str, &str, bool)]) {
    let dir = root.join("etc/systemd/system");
    fs::create_dir_all(dir.join("multi-user.target.wants")).unwrap();
    for (name, text, enabled) in files {
        fs::write(dir.join(name), text).unwrap();
        if *enabled {
            symlink(
                format!("../{name}"),
                dir.join("multi-user.target.wants").join(name),
            )
            .unwrap();
        }
    }
    if !root.join("bin").exists() {
        symlink("/bin", root.join("bin")).unwrap();
    }
}

/// The row of `unit` in a status table.
fn row<'a>(table: &'a str, unit: &str) -> Option<&'a str> {
    table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(unit))
}

/// The column where `word` starts in the table's header.
fn column(header: &str, word: &str) -> usize {
    header
        .find(word)
        .unwrap_or_else(|| panic!("{word} not in {header:?}"))
}

/// The main PID of `unit` from `status --json`.
fn main_pid(root: &Path, unit: &str) -> Option<i64> {
    let json = ctl(root, &["status", "--json", "--all"]).json();
    json["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == unit)
        .and_then(|u| u["main_pid"].as_i64())
}

#[test]
fn initctl_status_logs_and_jobs_as_pid1() {
    let dir = Scratch::new("initctl");
    let root = dir.join("root");
    units(
        &root,
        &[
            (
                "web.service",
                "[Unit]\nDescription=Web Server\n[Service]\n\
                 ExecStart=/bin/sh -c 'echo hello web; sleep 0.2; echo oops >&2; exec sleep 3600'\n",
                true,
            ),
            (
                "broken.service",
                "[Service]\nType=oneshot\nExecStart=/bin/false\n",
                true,
            ),
            (
                "skipped.service",
                "[Unit]\nConditionPathExists=/nonexistent\n[Service]\nExecStart=/bin/sleep 3600\n",
                true,
            ),
            (
                "extra.service",
                "[Unit]\nDescription=Extra\n[Service]\nExecStart=/bin/sleep 3600\n",
                false,
            ),
        ],
    );
    let Some(pid1) = Pid1::bosun().env("BOSUN_ROOT", &root).start() else {
        return;
    };
    wait_for(&root, "degraded", |c| c.stderr.contains("degraded"));
    // Both lines of web are in before the checks below count them.
    assert!(
        wait_until(T, || ctl(&root, &["logs", "web"]).stdout.contains("oops")),
        "{}",
        pid1.stderr_now()
    );

    // The header, then the table: services first, inactive units only with --all.
    let status = ctl(&root, &["status"]);
    status
        .code(0)
        .out_has(&format!("bosun {}\n", env!("CARGO_PKG_VERSION")))
        .out_has("      State: degraded\n")
        .out_has("      Phase: boot complete\n")
        .out_has("     Uptime: ")
        .out_has("     Volume: none managed (no template)\n")
        .out_has("     Failed: broken.service\n");
    let text = &status.stdout;
    let header = text
        .lines()
        .find(|l| l.starts_with("UNIT "))
        .unwrap_or_else(|| panic!("no table\n{}", status.dump()));
    let web = row(text, "web.service").unwrap_or_else(|| panic!("{}", status.dump()));
    let broken = row(text, "broken.service").unwrap_or_else(|| panic!("{}", status.dump()));
    let words: Vec<&str> = web.split_whitespace().collect();
    assert_eq!(words[1..3], ["active", "running"], "{}", status.dump());
    assert!(words[3].parse::<u32>().is_ok(), "main PID: {web}");
    assert_ne!(words[4], "-", "web has an uptime: {web}");
    assert!(web.ends_with("Web Server"), "{web}");
    // The columns line up with the header's.
    for (word, in_web, in_broken) in [
        ("STATE", "active", "failed"),
        ("SUB", "running", "failed"),
        ("PID", words[3], "-"),
        ("DESCRIPTION", "Web Server", "broken.service"),
    ] {
        let at = column(header, word);
        let starts = |row: &str, cell: &str| {
            row.get(at..).is_some_and(|r| r.starts_with(cell)) && row[..at].ends_with("  ")
        };
        assert!(starts(web, in_web), "{word}\n{text}");
        assert!(starts(broken, in_broken), "{word}\n{text}");
    }
    assert!(
        text.find("web.service").unwrap() < text.find("multi-user.target").unwrap(),
        "services first\n{text}"
    );
    assert!(row(text, "skipped.service").is_none(), "{text}");
    status.out_has(" inactive and ");
    status.out_has(" mounts or slices not shown (--all shows them)");
    let all = ctl(&root, &["status", "--all"]);
    let skipped = row(&all.stdout, "skipped.service").unwrap_or_else(|| panic!("{}", all.dump()));
    assert!(skipped.contains(" inactive "), "{skipped}");
    // Not a terminal: no glyphs, no colors.
    assert!(!text.contains('\x1b') && !text.contains('●'), "{text}");
    // On a terminal: both (a pty from script(1)).
    let mut tty = Command::new("script");
    tty.args(["-qec"])
        .arg(format!("{} ctl status", bosun().display()))
        .arg("/dev/null")
        .env("BOSUN_ROOT", &root)
        .env("TERM", "xterm")
        .env("LC_ALL", "C.UTF-8")
        .env_remove("NO_COLOR");
    let tty = run(tty);
    tty.code(0).out_has("\x1b[0;1;32m●\x1b[0m  web.service");
    tty.out_has("\x1b[0;1;31mfailed\x1b[0m");

    // status UNIT: systemctl's block with the last log lines; its exit codes.
    ctl(&root, &["status", "web", "-n", "2"])
        .code(0)
        .out_has("● web.service - Web Server\n")
        .out_has("     Active: active (running) since ")
        .out_has("]: hello web\n")
        .out_has("]: oops\n");
    let one = ctl(&root, &["status", "web", "-n", "1"]);
    assert!(!one.code(0).stdout.contains("hello web"), "{}", one.dump());
    ctl(&root, &["status", "broken"]).code(3);
    ctl(&root, &["status", "nope"])
        .code(4)
        .err_has("Unit nope.service could not be found.");

    // logs: the last N lines, time unit[pid]: text, stderr marked.
    let logs = ctl(&root, &["logs", "-n", "2", "web"]);
    let lines: Vec<&str> = logs.code(0).stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", logs.dump());
    let (stamp, rest) = lines[0].split_once(' ').unwrap();
    assert!(
        stamp.len() == 24 && stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
        "{stamp}"
    );
    assert!(rest.starts_with("web.service["), "{rest}");
    assert!(rest.ends_with("]: hello web"), "{rest}");
    assert!(lines[1].ends_with("] stderr: oops"), "{}", logs.dump());
    assert_eq!(
        ctl(&root, &["logs", "-n", "1", "web"])
            .stdout
            .lines()
            .count(),
        1
    );
    assert!(ctl(&root, &["logs", "-n", "0", "web"]).stdout.is_empty());
    // Every unit's lines without a unit.
    ctl(&root, &["logs", "-n", "all"])
        .code(0)
        .out_has("hello web");
    ctl(&root, &["logs", "web*"])
        .code(2)
        .err_has("\"web*\" is not a unit name");

    // --json: one document (JSON lines for logs), with the documented fields.
    let json = ctl(&root, &["status", "--json"]).json();
    assert_eq!(json["system"]["state"], "degraded");
    assert_eq!(json["system"]["phase"], "boot complete");
    assert_eq!(json["system"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        json["system"]["failed_units"],
        serde_json::json!(["broken.service"])
    );
    assert!(json["system"]["started_ms"].as_u64().unwrap() > 0);
    assert!(
        json["system"]["bosun_new_files"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let listed: Vec<&str> = json["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert!(listed.contains(&"web.service") && !listed.contains(&"skipped.service"));
    let web = json["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "web.service")
        .unwrap();
    for field in [
        "description",
        "active_state",
        "sub_state",
        "main_pid",
        "since_ms",
        "restarts",
    ] {
        assert!(!web[field].is_null(), "{field} in {web}");
    }
    let json = ctl(&root, &["status", "web", "--json", "-n", "2"]).json();
    assert_eq!(json["units"][0]["name"], "web.service");
    assert_eq!(json["units"][0]["active_state"], "active");
    assert_eq!(json["units"][0]["logs"][0]["text"], "hello web");
    assert_eq!(json["units"][0]["logs"][1]["stderr"], true);
    let logs = ctl(&root, &["logs", "--json", "-n", "2", "web"]);
    let lines: Vec<serde_json::Value> = logs
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", logs.dump());
    assert_eq!(lines[0]["unit"], "web.service");
    assert_eq!(lines[0]["stderr"], false);
    assert!(lines[0]["seq"].as_u64().unwrap() < lines[1]["seq"].as_u64().unwrap());
    assert!(lines[0]["pid"].as_i64().unwrap() > 0 && lines[0]["ms"].as_u64().unwrap() > 0);
    let ready = ctl(&root, &["is-ready", "--json"]);
    ready.code(1);
    assert_eq!(ready.json()["ready"], false);
    assert_eq!(
        ready.json()["reason"],
        "degraded: failed units: broken.service"
    );

    // The job verbs, with systemctl's words and exit codes.
    ctl(&root, &["start", "extra"]).code(0);
    let listed = ctl(&root, &["status"]);
    let extra = row(&listed.stdout, "extra.service").unwrap_or_else(|| panic!("{}", listed.dump()));
    assert!(extra.contains(" active "), "{extra}");
    ctl(&root, &["stop", "extra.service"]).code(0);
    assert!(row(&ctl(&root, &["status"]).stdout, "extra.service").is_none());
    let before = main_pid(&root, "web.service").unwrap();
    ctl(&root, &["restart", "web"]).code(0);
    let after = main_pid(&root, "web.service").unwrap();
    assert_ne!(before, after, "restart gave web a new main process");
    ctl(&root, &["reload", "web"])
        .code(3)
        .err_has("Job type reload is not applicable for unit web.service.");
    ctl(&root, &["start", "nope"])
        .code(5)
        .err_has("Unit nope.service not found.");

    // Anyone may read; only root changes anything.
    ctl_as_nobody(&root, &["status"])
        .code(0)
        .out_has("State: degraded");
    ctl_as_nobody(&root, &["logs", "web"])
        .code(0)
        .out_has("hello web");
    ctl_as_nobody(&root, &["stop", "web"])
        .code(4)
        .err_has("Access denied");
    // The refused stop changed nothing.
    assert_eq!(main_pid(&root, "web.service"), Some(after));

    // verify: `bosun verify` on the running root.
    ctl(&root, &["verify", "web.service"]).code(0);
    fs::write(
        root.join("etc/systemd/system/bad.service"),
        "[Service]\nExecStart=/nonexistent/daemon\n",
    )
    .unwrap();
    ctl(&root, &["verify", "bad.service"])
        .code(1)
        .out_has("bad.service")
        .out_has("/nonexistent/daemon");
    ctl(&root, &["verify"]).code(1).out_has("bad.service");
    drop(pid1);
}

#[test]
fn initctl_is_ready_follows_boot() {
    let dir = Scratch::new("initctl-ready");
    let root = dir.join("root");
    let go = dir.join("go");
    units(
        &root,
        &[
            (
                "web.service",
                "[Service]\nExecStart=/bin/sleep 3600\n",
                true,
            ),
            (
                "slow.service",
                "[Service]\nExecStartPre=/bin/sleep 2\nExecStart=/bin/sleep 3600\n",
                false,
            ),
            (
                "broken.service",
                "[Service]\nType=oneshot\nExecStart=/bin/false\n",
                false,
            ),
        ],
    );
    let hook = root.join("etc/bosun/hooks/boot.d/10-wait");
    fs::create_dir_all(hook.parent().unwrap()).unwrap();
    fs::write(
        &hook,
        format!(
            "#!/bin/sh\nwhile [ ! -e {} ]; do sleep 0.05; done\n",
            go.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let Some(pid1) = Pid1::bosun().env("BOSUN_ROOT", &root).start() else {
        return;
    };

    // A boot hook still runs: not ready, and why.
    let waiting = wait_for(&root, "to its boot hook", |c| c.stderr.contains("hooks"));
    waiting
        .code(1)
        .err_has("starting: running hooks (boot.d/10-wait)");
    let json = ctl(&root, &["is-ready", "--json"]);
    json.code(1);
    assert_eq!(json.json()["ready"], false);
    assert_eq!(json.json()["state"], "starting");
    ctl(&root, &["status"]).out_has("      Phase: running hooks (boot.d/10-wait)\n");

    // The hook ends: ready.
    fs::write(&go, "").unwrap();
    let ready = wait_for(&root, "ready", |c| c.code == Some(0));
    assert_eq!(ready.stderr, "", "{}", ready.dump());
    let json = ctl(&root, &["is-ready", "--json"]);
    json.code(0);
    assert_eq!(json.json()["ready"], true);
    assert_eq!(json.json()["reason"], serde_json::Value::Null);

    // A unit started once boot is over (a slow ExecStartPre=): the container stays ready, as
    // systemd's is-system-running stays `running`; the job shows in the status header.
    let mut start = Command::new(bosun())
        .args(["ctl", "start", "slow"])
        .env("BOSUN_ROOT", &root)
        .spawn()
        .unwrap();
    assert!(
        wait_until(T, || ctl(&root, &["status"])
            .stdout
            .contains("       Jobs: 1 queued or running\n")),
        "the start job never showed"
    );
    ctl(&root, &["is-ready"]).code(0);
    assert!(start.wait().unwrap().success());

    // A unit started later by hand fails: degraded, but ready all the same (ready.failed:
    // boot, the default: only what boot started counts).
    ctl(&root, &["start", "broken"]).code(1);
    ctl(&root, &["is-ready"]).code(0);
    let json = ctl(&root, &["is-ready", "--json"]);
    assert_eq!(json.json()["state"], "degraded", "{}", json.dump());
    assert_eq!(json.json()["failed_units"][0], "broken.service");
    // A unit boot started fails: not ready.
    let kill = Command::new(bosun())
        .args(["systemctl", "kill", "-s", "KILL", "web"])
        .env("BOSUN_ROOT", &root)
        .output()
        .unwrap();
    assert!(kill.status.success(), "{kill:?}");
    assert!(
        wait_until(T, || ctl(&root, &["is-ready"]).code == Some(1)),
        "web.service's failure never made it not ready"
    );
    ctl(&root, &["is-ready"])
        .code(1)
        .err_has("degraded: failed units: web.service");
    drop(pid1);
}

#[test]
fn initctl_logs_follow_a_unit_until_bosun_stops() {
    let dir = Scratch::new("initctl-follow");
    let root = dir.join("root");
    units(
        &root,
        &[
            (
                "ticker.service",
                "[Service]\nExecStart=/bin/sh -c 'i=0; while :; do i=$((i+1)); echo tick $i; \
                 sleep 0.05; done'\n",
                true,
            ),
            (
                "quiet.service",
                "[Service]\nExecStart=/bin/sh -c 'echo only line; exec sleep 3600'\n",
                true,
            ),
        ],
    );
    let Some(pid1) = Pid1::bosun().env("BOSUN_ROOT", &root).start() else {
        return;
    };
    wait_for(&root, "ready", |c| c.code == Some(0));
    assert!(wait_until(T, || ctl(&root, &["logs", "quiet"])
        .stdout
        .contains("only line")));

    // Following: every new line once, in order, none missed between polls.
    let mut follower = Command::new(bosun())
        .args(["ctl", "logs", "-f", "-n", "1", "ticker"])
        .env("BOSUN_ROOT", &root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = follower.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let mut ticks = Vec::new();
    while ticks.len() < 20 {
        let line = rx
            .recv_timeout(T)
            .unwrap_or_else(|_| panic!("no line after {ticks:?}"));
        let n: u64 = line
            .rsplit_once("]: tick ")
            .unwrap_or_else(|| panic!("{line}"))
            .1
            .parse()
            .unwrap();
        ticks.push(n);
    }
    for pair in ticks.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "{ticks:?}");
    }

    // A reader that goes away ends the follower, even when no new line comes to fail on.
    let mut piped = Command::new("sh");
    piped
        .arg("-c")
        .arg(format!(
            "{} ctl logs -f quiet | head -n 1",
            bosun().display()
        ))
        .env("BOSUN_ROOT", &root);
    let mut child = piped.stdout(Stdio::piped()).spawn().unwrap();
    let ended = wait_until(Duration::from_secs(10), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    if !ended {
        let _ = child.kill();
    }
    assert!(ended, "logs -f | head -n 1 did not end");
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    assert!(out.ends_with("]: only line\n"), "{out:?}");
    // Negative control: with a reader that stays, the follower stays.
    let mut stays = Command::new("timeout");
    stays
        .args([
            "1",
            &bosun().display().to_string(),
            "ctl",
            "logs",
            "-f",
            "quiet",
        ])
        .env("BOSUN_ROOT", &root);
    run(stays).code(124).out_has("only line");

    // bosun stops: the follower ends cleanly.
    pid1.signal(libc::SIGTERM);
    let stopped = wait_until(T, || matches!(follower.try_wait(), Ok(Some(_))));
    if !stopped {
        let _ = follower.kill();
    }
    assert!(stopped, "the follower outlived bosun");
    let status = follower.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut follower.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{status:?}\n{err}");
    assert!(err.contains("no more lines"), "{err}");
    pid1.wait(T).assert_code(0);
}

#[test]
fn initctl_without_bosun_and_its_command_line() {
    let dir = Scratch::new("initctl-none");
    let root = dir.join("root");
    fs::create_dir_all(&root).unwrap();
    let socket = root.join("run/bosun/control.sock");
    let message = format!(
        "bosun is not running here (no control socket at {})",
        socket.display()
    );
    for args in [
        &["status"][..],
        &["status", "web"],
        &["logs"],
        &["is-ready"],
        &["start", "web"],
    ] {
        ctl(&root, args).code(NOT_RUNNING).err_has(&message);
    }
    let json = ctl(&root, &["is-ready", "--json"]);
    json.code(NOT_RUNNING);
    assert_eq!(json.json()["ready"], false);
    assert_eq!(json.json()["reason"], message.as_str());
    // A socket file nobody answers on (bosun was killed): not running either.
    fs::create_dir_all(socket.parent().unwrap()).unwrap();
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    ctl(&root, &["status"])
        .code(NOT_RUNNING)
        .err_has("bosun is not running here (nothing answers on the control socket");
    // verify needs no bosun.
    units(
        &root,
        &[("a.service", "[Service]\nExecStart=/bin/true\n", false)],
    );
    ctl(&root, &["verify", "a.service"]).code(0);

    // The command line: help, version, mistakes (exit 2).
    let help = ctl(&root, &["--help"]);
    for verb in [
        "status", "logs", "is-ready", "verify", "diff", "restart", "--json",
    ] {
        help.code(0).out_has(verb);
    }
    ctl(&root, &["--version"])
        .code(0)
        .out_has(&format!("bosun {}", env!("CARGO_PKG_VERSION")));
    ctl(&root, &["frob"])
        .code(2)
        .err_has("bosun ctl: unknown command \"frob\"");
    ctl(&root, &["status", "--follow"])
        .code(2)
        .err_has("option --follow does not apply to status");
    ctl(&root, &["start"])
        .code(2)
        .err_has("start needs a unit name");

    // As the `initctl` link (what `bosun image link` installs): the same command.
    let image = dir.join("image");
    fs::create_dir_all(image.join("usr/local/bin")).unwrap();
    fs::copy(bosun(), image.join("usr/local/bin/bosun")).unwrap();
    let mut link = Command::new(bosun());
    link.args(["image", "link", "--bosun", "/usr/local/bin/bosun", "--root"])
        .arg(&image);
    run(link).code(0);
    assert_eq!(
        fs::read_link(image.join("usr/bin/initctl")).unwrap(),
        PathBuf::from("/usr/local/bin/bosun")
    );
    let initctl = dir.join("initctl");
    symlink(bosun(), &initctl).unwrap();
    let mut cmd = Command::new(&initctl);
    cmd.arg("--version").env("BOSUN_ROOT", &root);
    run(cmd).code(0).out_has("initctl (bosun ");
    let mut cmd = Command::new(&initctl);
    cmd.arg("is-ready").env("BOSUN_ROOT", &root);
    run(cmd)
        .code(NOT_RUNNING)
        .err_has("initctl: bosun is not running here");
    let mut cmd = Command::new(&initctl);
    cmd.arg("frob");
    run(cmd)
        .code(2)
        .err_has("initctl: unknown command")
        .err_has("Try 'initctl --help'");
}

#[test]
fn initctl_status_lists_bosun_new_files_after_an_upgrade() {
    let dir = Scratch::new("initctl-upgrade");
    let root = dir.join("root");
    let app = root.join("var/lib/app");
    fs::create_dir_all(&app).unwrap();
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    fs::write(root.join("etc/group"), "root:x:0:\n").unwrap();
    fs::write(app.join("edited.conf"), "v1\n").unwrap();
    fs::write(app.join("untouched.conf"), "v1\n").unwrap();
    let list = dir.join("list");
    fs::write(&list, "/var/lib/app\n").unwrap();
    let mut prepare = Command::new(bosun());
    prepare
        .args(["image", "prepare", "--build-id", "b1", "--root"])
        .arg(&root)
        .arg(&list);
    run(prepare).code(0);

    // The first boot seeds the volume.
    let Some(first) = Pid1::bosun()
        .env("BOSUN_ROOT", &root)
        .args(["--", "true"])
        .start()
    else {
        return;
    };
    first.wait(T).assert_code(0);
    let data = root.join("data/var/lib/app");
    fs::write(data.join("edited.conf"), "mine\n").unwrap();

    // A new image changes both files; the user changed one of them.
    let template = root.join("data-template/var/lib/app");
    fs::write(template.join("edited.conf"), "v2\n").unwrap();
    fs::write(template.join("untouched.conf"), "v2\n").unwrap();
    bosun::volume::image::write_template_manifest(&bosun::volume::image::Layout {
        root: root.clone(),
        template: "/data-template".into(),
        data: "/data".into(),
    })
    .unwrap();
    fs::write(root.join("etc/build-id"), "b2\n").unwrap();
    let Some(pid1) = Pid1::bosun().env("BOSUN_ROOT", &root).start() else {
        return;
    };
    wait_for(&root, "ready", |c| c.code == Some(0));
    let kept = data.join("edited.conf.bosun-new");
    assert!(kept.exists(), "{}", pid1.stderr_now());

    let status = ctl(&root, &["status"]);
    status
        .code(0)
        .out_has(&format!(
            "     Volume: {}, ready, build b2 (upgraded from b1 at this boot)\n",
            root.join("data").display()
        ))
        .out_has(&format!(" .bosun-new: {}\n", kept.display()))
        .out_has("then delete the .bosun-new file")
        .out_has("    Upgrade: merged build b2's template into ");
    assert!(
        !status.stdout.contains("untouched.conf.bosun-new"),
        "{}",
        status.dump()
    );
    let json = ctl(&root, &["status", "--json"]).json();
    let system = &json["system"];
    assert_eq!(
        system["bosun_new_files"],
        serde_json::json!([kept.display().to_string()])
    );
    assert_eq!(system["build_id"], "b2");
    assert_eq!(system["previous_build_id"], "b1");
    assert_eq!(system["life_cycle"], "upgrade");
    assert_eq!(system["volume_phase"], "ready");
    assert_eq!(system["volume"], root.join("data").display().to_string());
    assert!(
        system["upgrade_report"][0]
            .as_str()
            .unwrap()
            .starts_with("merged build b2's template"),
        "{system}"
    );

    // A restart (a routine boot): still listed, until the user has merged it.
    pid1.signal(libc::SIGTERM);
    pid1.wait(T).assert_code(0);
    let Some(pid1) = Pid1::bosun().env("BOSUN_ROOT", &root).start() else {
        return;
    };
    wait_for(&root, "ready", |c| c.code == Some(0));
    ctl(&root, &["status"])
        .code(0)
        .out_has(&format!(" .bosun-new: {}\n", kept.display()));

    // Merged and deleted: no longer listed (negative control for the list).
    fs::remove_file(&kept).unwrap();
    let status = ctl(&root, &["status"]);
    assert!(
        !status.code(0).stdout.contains(".bosun-new:"),
        "{}",
        status.dump()
    );
    let json = ctl(&root, &["status", "--json"]).json();
    assert_eq!(json["system"]["bosun_new_files"], serde_json::json!([]));

    // diff is `bosun image diff` on the running root.
    fs::write(root.join("etc/added.conf"), "x\n").unwrap();
    let diff = ctl(&root, &["diff"]);
    diff.code(0).out_has("A /etc/added.conf\n");
    let mut image_diff = Command::new(bosun());
    image_diff.args(["image", "diff", "--root"]).arg(&root);
    let image_diff = run(image_diff);
    assert_eq!(diff.stdout, image_diff.code(0).stdout);
    drop(pid1);
}
