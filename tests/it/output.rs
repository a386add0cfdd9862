//! Issue #16, "Output never blocks PID 1": bosun as a real PID 1 whose stderr or stdout is a
//! FIFO that nobody reads (a wedged conmon, a blocking log driver, Ctrl-S) keeps restarting
//! units, answering `initctl` and stopping on SIGTERM; what stdout dropped is reported per unit
//! with what the rings still hold, and a quiet unit keeps its lines beside a flooding one;
//! PID 1 stops on SIGTERM with nobody reading; `log.ring` bounds a unit's ring and
//! `log.ring_total` all of them, the largest first; service lines with control bytes reach
//! `initctl logs` and `systemctl status` as `[N blob data]` unless `-a`; a closed pipe ends
//! the command personalities quietly, as it ends systemctl.

use std::fs;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::symlink;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use nix::fcntl::{FcntlArg, OFlag, fcntl, open};
use nix::sys::stat::Mode;

use crate::harness::{Pid1, Scratch, bosun, enable, wait_until};

/// How long bosun may take to answer in a loaded CI.
const T: Duration = Duration::from_secs(30);

/// Lines of the flooding unit: with [`PAYLOAD`], about 2 MiB, twice what stdout's queue holds.
const FLOOD: usize = 20_000;
const PAYLOAD: &str =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";

/// `bosun ARGS` (a personality by its first word) for the bosun under `root`.
fn run(root: &Path, args: &[&str]) -> Output {
    Command::new(bosun())
        .args(args)
        .env("BOSUN_ROOT", root)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A FIFO with a one-page buffer, held open read-write by the test (so bosun's open never
/// waits for a reader) and never read until the test says so.
fn stuck_fifo(path: &Path) -> OwnedFd {
    nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o600)).unwrap();
    let fd = open(path, OFlag::O_RDWR | OFlag::O_NONBLOCK, Mode::empty()).unwrap();
    fcntl(&fd, FcntlArg::F_SETPIPE_SZ(4096)).unwrap();
    fd
}

/// Read what the FIFO holds now, without waiting.
fn read_now(fd: &OwnedFd) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 65536];
    while let Ok(n) = nix::unistd::read(fd.as_fd(), &mut buf) {
        if n == 0 {
            break;
        }
        all.extend_from_slice(&buf[..n]);
    }
    all
}

fn lines_in(path: &Path) -> usize {
    fs::read_to_string(path).unwrap_or_default().lines().count()
}

#[test]
fn r16_a_stderr_nobody_reads_never_freezes_pid1() {
    let dir = Scratch::new("output-stderr");
    let root = dir.join("root");
    let count = dir.join("starts");
    // Ten units restarting every 10 ms: bosun says a lot, fast.
    let unit = format!(
        "[Unit]\nStartLimitIntervalSec=0\n[Service]\n\
         ExecStart=/bin/sh -c 'echo x >> {}'\nRestart=always\nRestartSec=10ms\n",
        count.display()
    );
    let names: Vec<String> = (0..10).map(|i| format!("flap{i}.service")).collect();
    let units: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), unit.as_str())).collect();
    enable(&root, &units);
    let fifo = dir.join("stderr");
    let held = stuck_fifo(&fifo);
    let Some(pid1) = Pid1::bosun()
        .env("BOSUN_ROOT", &root)
        .env("BOSUN_VERBOSITY", "3")
        .setup(&format!("exec 2<>'{}'", fifo.display()))
        .start()
    else {
        return;
    };
    // 1000 starts say far more (some 150 bytes each) than the FIFO's 4 KiB and bosun's queue
    // (64 KiB) hold; before the fix PID 1 stopped in write(2) once the FIFO was full (after
    // some 30 starts), and the starts with it.
    assert!(
        wait_until(T, || lines_in(&count) >= 1000),
        "the unit stopped restarting after {} starts: PID 1 is stuck\n{}",
        lines_in(&count),
        pid1.stdout_now()
    );
    let answer = run(&root, &["ctl", "status"]);
    assert_eq!(answer.status.code(), Some(0), "{}", text(&answer));
    // The FIFO did fill: bosun wrote until the reader's buffer had no room for a line.
    let stuck = read_now(&held);
    assert!(stuck.len() > 3800, "only {} bytes in the FIFO", stuck.len());
    // Now read: what bosun dropped meanwhile is counted and said once stderr drains.
    let mut seen = String::new();
    let reported = wait_until(T, || {
        seen.push_str(&String::from_utf8_lossy(&read_now(&held)));
        seen.contains("line(s) dropped while stderr was not read: bosun ")
    });
    assert!(reported, "no drop report on stderr:\n{seen}");
    let report = seen
        .lines()
        .find(|l| l.contains("dropped while stderr"))
        .unwrap();
    assert!(report.ends_with("(not in `initctl logs`)"), "{report}");
    // SIGTERM is still heard: bosun stops.
    pid1.signal(libc::SIGTERM);
    let done = pid1.wait(T);
    assert_eq!(done.status.code(), Some(0), "{}", done.dump());
}

/// What one flood of a stdout nobody reads left: the drop report, how many flood lines were
/// shown and how many the ring kept, and everything read from stdout (None: no namespaces).
struct Flood {
    report: String,
    shown: usize,
    in_ring: usize,
    seen: String,
}

/// `flood.service` writes [`FLOOD`] long lines and one more, then `quiet.service` five short
/// ones, all while nobody reads bosun's stdout; then the test reads it until the drop report.
fn flood_stdout(ring: &str) -> Option<Flood> {
    let dir = Scratch::new("output-stdout");
    let root = dir.join("root");
    let flooded = dir.join("flooded");
    enable(
        &root,
        &[
            (
                "flood.service",
                &format!(
                    "[Service]\nType=oneshot\nRemainAfterExit=yes\n\
                     LogRateLimitIntervalSec=0\n\
                     ExecStart=/bin/sh -c 'yes flood {PAYLOAD} 2>/dev/null | head -n {FLOOD}; \
                     echo flood end; touch {}'\n",
                    flooded.display()
                ),
            ),
            (
                "quiet.service",
                &format!(
                    "[Service]\nExecStart=/bin/sh -c 'while [ ! -e {} ]; do sleep 0.01; done; \
                     for i in 1 2 3 4 5; do echo quiet $i; done; exec sleep 3600'\n",
                    flooded.display()
                ),
            ),
        ],
    );
    let fifo = dir.join("stdout");
    let held = stuck_fifo(&fifo);
    let pid1 = Pid1::bosun()
        .env("BOSUN_ROOT", &root)
        .env("BOSUN_LOG_RING", ring)
        .env("BOSUN_LOG_RING_TOTAL", "32M")
        .setup(&format!("exec 1<>'{}'", fifo.display()))
        .start()?;
    // Every line reaches the rings while stdout is stuck (and PID 1 answers meanwhile).
    let logged = |args: &[&str]| {
        let mut all = vec!["ctl", "logs"];
        all.extend_from_slice(args);
        String::from_utf8_lossy(&run(&root, &all).stdout).into_owned()
    };
    assert!(
        wait_until(T, || logged(&["-n", "all", "quiet"]).lines().count() == 5
            && logged(&["-n", "1", "flood"]).ends_with("]: flood end\n")),
        "{}\n{}",
        logged(&["-n", "all", "quiet"]),
        pid1.stderr_now()
    );
    let in_ring = logged(&["-n", "all", "flood"]).lines().count();
    // Now read stdout until the drop report comes.
    let mut seen = String::new();
    let reported = wait_until(T, || {
        seen.push_str(&String::from_utf8_lossy(&read_now(&held)));
        seen.contains("dropped while stdout was not read")
    });
    let tail: String = seen.lines().rev().take(8).collect::<Vec<_>>().join("\n");
    assert!(reported, "no drop report; last lines:\n{tail}");
    let report = seen
        .lines()
        .find(|l| l.contains("dropped while stdout"))
        .unwrap()
        .to_owned();
    let shown = seen.lines().filter(|l| l.starts_with("flood[")).count();
    drop(pid1);
    Some(Flood {
        report,
        shown,
        in_ring,
        seen,
    })
}

#[test]
fn r16_stdout_drops_are_reported_per_unit_and_a_quiet_unit_keeps_its_lines() {
    let Some(flood) = flood_stdout("16M") else {
        return;
    };
    let dropped = FLOOD + 1 - flood.shown;
    assert!(dropped > 0, "nothing was dropped: the FIFO never filled");
    assert_eq!(flood.in_ring, FLOOD + 1);
    assert_eq!(
        flood.report,
        format!(
            "bosun: {dropped} line(s) dropped while stdout was not read: flood.service \
             {dropped} (all still in `initctl logs flood.service`)"
        )
    );
    // The quiet unit lost nothing to the flood.
    for i in 1..=5 {
        assert!(
            flood.seen.contains(&format!("]: quiet {i}\n")),
            "quiet {i} was pushed out:\n{}",
            flood.report
        );
    }
}

#[test]
fn r16_the_drop_report_says_which_lines_the_ring_lost() {
    // A 64K ring keeps some 400 of the flood's lines: the report must not claim the rest.
    let Some(flood) = flood_stdout("64K") else {
        return;
    };
    let dropped = FLOOD + 1 - flood.shown;
    assert!(flood.in_ring < dropped, "{} in the ring", flood.in_ring);
    let prefix = format!(
        "bosun: {dropped} line(s) dropped while stdout was not read: flood.service {dropped} \
         (the last "
    );
    let rest = flood
        .report
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{}", flood.report));
    let (kept, lost) = rest
        .strip_suffix(" lost)")
        .and_then(|r| r.split_once(" still in `initctl logs flood.service`, "))
        .unwrap_or_else(|| panic!("{}", flood.report));
    let (kept, lost): (usize, usize) = (kept.parse().unwrap(), lost.parse().unwrap());
    assert_eq!(kept + lost, dropped, "{}", flood.report);
    // The queue was full from well before the ring's oldest line on: every line the ring
    // still holds was one stdout dropped, but the short last one, which may have fit.
    let end_shown = usize::from(flood.seen.contains("]: flood end\n"));
    assert_eq!(kept, flood.in_ring - end_shown, "{}", flood.report);
}

#[test]
fn r16_log_ring_and_ring_total_bound_what_initctl_logs_keeps() {
    let dir = Scratch::new("output-ring");
    let root = dir.join("root");
    enable(
        &root,
        &[
            (
                "quiet.service",
                "[Service]\nType=oneshot\nRemainAfterExit=yes\n\
                 ExecStart=/bin/sh -c 'seq 1 20'\n",
            ),
            (
                "talk.service",
                "[Unit]\nAfter=quiet.service\n[Service]\nType=oneshot\nRemainAfterExit=yes\n\
                 ExecStart=/bin/sh -c 'seq 1 2000'\n",
            ),
        ],
    );
    // Lines kept of (quiet, talk) with these settings.
    let kept = |settings: &[(&str, &str)]| {
        let mut builder = Pid1::bosun().env("BOSUN_ROOT", &root);
        for (k, v) in settings {
            builder = builder.env(k, v);
        }
        let pid1 = builder.start()?;
        let logs = |unit: &str, n: &str| {
            let out = run(&root, &["ctl", "logs", "-n", n, unit]);
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let done = wait_until(T, || logs("talk", "1").ends_with(": 2000\n"));
        assert!(done, "talk never finished\n{}", pid1.stderr_now());
        let count = |unit: &str| logs(unit, "all").lines().count();
        let counts = (count("quiet"), count("talk"));
        drop(pid1);
        Some(counts)
    };
    // 2000 lines of up to 4 bytes, 64 bytes of bookkeeping and a 48-byte Meta (priority,
    // facility, identifier) each: 8K holds about seventy.
    let Some((quiet, talk)) = kept(&[("BOSUN_LOG_RING", "8K")]) else {
        return;
    };
    assert_eq!(quiet, 20);
    assert!((60..=80).contains(&talk), "8K kept {talk} lines");
    // All rings under 6K: the largest ring (talk's) pays, down to the quiet one's size.
    let (quiet, talk) = kept(&[("BOSUN_LOG_RING_TOTAL", "6K")]).unwrap();
    assert_eq!(quiet, 20, "the quiet unit lost lines to the total");
    assert!(
        (20..=40).contains(&talk),
        "6K in all kept {talk} lines of talk"
    );
    // Negative control: the defaults (256K per unit, 16M in all) keep them all.
    assert_eq!(kept(&[]), Some((20, 2000)));
}

#[test]
fn r16_control_bytes_reach_a_terminal_only_when_asked() {
    let dir = Scratch::new("output-blob");
    let root = dir.join("root");
    enable(
        &root,
        &[(
            "title.service",
            "[Service]\nExecStart=/bin/sh -c 'printf \"plain\\\\tline\\\\n\\\\033]0;owned\\\\007\\\\n\
             \\\\377\\\\376\\\\n\"; exec sleep 3600'\n",
        )],
    );
    let Some(pid1) = Pid1::bosun().env("BOSUN_ROOT", &root).start() else {
        return;
    };
    let logs = |args: &[&str]| {
        let mut all = vec!["ctl", "logs"];
        all.extend_from_slice(args);
        all.push("title");
        run(&root, &all)
    };
    assert!(
        wait_until(T, || logs(&[]).stdout.split(|&b| b == b'\n').count() > 3),
        "{}",
        pid1.stderr_now()
    );
    let safe = logs(&[]);
    let out = String::from_utf8(safe.stdout.clone()).expect("no raw bytes without -a");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].ends_with("]: plain\tline"), "{out}");
    assert!(lines[1].ends_with("]: [10B blob data]"), "{out}");
    assert!(lines[2].ends_with("]: [2B blob data]"), "{out}");
    // -a: as the service wrote them.
    let raw = logs(&["-a"]).stdout;
    assert!(raw.windows(10).any(|w| w == b"\x1b]0;owned\x07"), "{raw:?}");
    assert!(raw.windows(3).any(|w| w == b"\xff\xfe\n"), "{raw:?}");
    // systemctl status: the same rule, and -a the same way out.
    let status = run(&root, &["systemctl", "status", "title"]);
    let shown = String::from_utf8(status.stdout.clone()).expect("no raw bytes without -a");
    assert!(shown.contains("]: [10B blob data]\n"), "{}", text(&status));
    assert!(shown.contains("]: plain\tline\n"), "{}", text(&status));
    let all = run(&root, &["systemctl", "status", "-a", "title"]).stdout;
    assert!(all.windows(10).any(|w| w == b"\x1b]0;owned\x07"), "{all:?}");
    // JSON escapes what it carries; bytes that are not UTF-8 come as numbers.
    let json = logs(&["--json"]);
    let text = String::from_utf8(json.stdout).unwrap();
    assert!(!text.contains('\x1b'), "{text}");
    assert!(text.contains("\"raw\":[255,254]"), "{text}");
    drop(pid1);
}

#[test]
fn r16_a_closed_pipe_ends_every_personality_quietly() {
    let dir = Scratch::new("output-pipe");
    let root = dir.join("root");
    enable(
        &root,
        &[(
            "web.service",
            "[Service]\nExecStart=/bin/sh -c 'seq 1 50; exec sleep 3600'\n",
        )],
    );
    let Some(pid1) = Pid1::bosun().env("BOSUN_ROOT", &root).start() else {
        return;
    };
    assert!(
        wait_until(T, || {
            String::from_utf8_lossy(&run(&root, &["ctl", "logs", "web"]).stdout).contains(": 50")
        }),
        "{}",
        pid1.stderr_now()
    );
    // The personalities by their names, as an image links them, and by bosun's first word.
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    for name in ["systemctl", "initctl"] {
        symlink(bosun(), bin.join(name)).unwrap();
    }
    let (systemctl, initctl) = (bin.join("systemctl"), bin.join("initctl"));
    let root_arg = format!("--root={}", root.display());
    let commands: [(&Path, &[&str]); 10] = [
        (&systemctl, &["status", "web"]),
        (&systemctl, &["list-unit-files", &root_arg]),
        (&initctl, &["status"]),
        (bosun(), &["systemctl", "status", "web"]),
        (bosun(), &["ctl", "logs", "web"]),
        (bosun(), &["ctl", "--help"]),
        (bosun(), &["verify", "--help"]),
        (bosun(), &["image", "--help"]),
        (bosun(), &["webdav", "--help"]),
        (bosun(), &["--help"]),
    ];
    for (program, args) in commands {
        let command = |stdout: Stdio| {
            Command::new(program)
                .args(args)
                .env("BOSUN_ROOT", &root)
                .stdin(Stdio::null())
                .stdout(stdout)
                .output()
                .unwrap()
        };
        // Negative control: with a reader, each prints and ends normally.
        let read = command(Stdio::piped());
        assert!(
            !read.stdout.is_empty() && read.status.code().is_some(),
            "{program:?} {args:?}: {}",
            text(&read)
        );
        // A pipe whose reader has gone: SIGPIPE ends it, as it ends systemctl, and nothing
        // is said (no "internal error", no exit 101).
        let (reader, writer) = nix::unistd::pipe().unwrap();
        drop(reader);
        let out = command(Stdio::from(writer));
        let (status, err) = (out.status, String::from_utf8_lossy(&out.stderr));
        assert_eq!(
            status.signal(),
            Some(libc::SIGPIPE),
            "{program:?} {args:?}: {status:?}\n{err}"
        );
        assert_eq!(err, "", "{program:?} {args:?}");
    }
    drop(pid1);
}

#[test]
fn r16_pid1_stops_while_nobody_reads_its_output() {
    let dir = Scratch::new("output-stop");
    let root = dir.join("root");
    enable(
        &root,
        &[("noisy.service", "[Service]\nExecStart=/usr/bin/yes noisy\n")],
    );
    let out = dir.join("stdout");
    let err = dir.join("stderr");
    let (held_out, held_err) = (stuck_fifo(&out), stuck_fifo(&err));
    let Some(pid1) = Pid1::bosun()
        .env("BOSUN_ROOT", &root)
        .env("BOSUN_VERBOSITY", "3")
        .setup(&format!(
            "exec 1<>'{}' 2<>'{}'",
            out.display(),
            err.display()
        ))
        .start()
    else {
        return;
    };
    // The unit floods a stdout nobody reads; bosun still answers...
    let mut last = String::new();
    assert!(
        wait_until(T, || {
            let logs = run(&root, &["ctl", "logs", "-n", "1", "noisy"]);
            last = text(&logs);
            logs.stdout.ends_with(b": noisy\n")
        }),
        "{last}"
    );
    // ... while its stdout fills (it may lag the ring by a moment: count what arrives until a
    // pipe's worth has, then leave the FIFO to fill again from the flood).
    let mut written = 0;
    assert!(
        wait_until(T, || {
            written += read_now(&held_out).len();
            written > 3800
        }),
        "stdout never filled: {written} bytes"
    );
    // ... and stops on SIGTERM with stdout full again at once (the flood goes on) and nobody
    // reading either output: what it has left to say gets one non-blocking attempt, then it
    // exits.
    pid1.signal(libc::SIGTERM);
    let done = pid1.wait(T);
    assert_eq!(done.status.code(), Some(0), "{}", done.dump());
    drop(held_err);
}
