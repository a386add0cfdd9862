//! Issue #2, the PID 1 core: exit codes, reaping, signal forwarding, the child's clean signal
//! state, orderly shutdown of remaining processes, subreaper mode, argv and the terminal — each
//! checked on a real PID 1, with a negative control where one makes sense.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::harness::{Finished, PYTHON, Pid1, Scratch, bosun, run_pid1, wait_until};

const T: Duration = Duration::from_secs(60);

fn sh(script: &str) -> [String; 3] {
    ["sh".into(), "-c".into(), script.into()]
}

fn bosun_sh(script: &str) -> Option<Finished> {
    run_pid1(Pid1::bosun().arg("--").args(sh(script)), T)
}

#[test]
fn exit_codes_0_to_255_pass_through() {
    for code in 0..=255 {
        let Some(run) = bosun_sh(&format!("exit {code}")) else {
            return;
        };
        run.assert_code(code);
    }
}

#[test]
fn killed_by_signal_n_exits_128_plus_n() {
    for (name, n) in [
        ("TERM", 15),
        ("KILL", 9),
        ("USR1", 10),
        ("USR2", 12),
        ("SEGV", 11),
    ] {
        let Some(run) = bosun_sh(&format!("ulimit -c 0; kill -{name} $$; sleep 5")) else {
            return;
        };
        run.assert_code(128 + n);
    }
}

#[test]
fn command_not_found_is_127_and_not_executable_is_126() {
    let dir = Scratch::new("exec");
    let plain = dir.join("not-executable");
    fs::write(&plain, "#!/bin/sh\n").unwrap();
    let missing = dir.join("missing");
    for (target, code, reason) in [
        (missing.as_path(), 127, "No such file or directory"),
        (plain.as_path(), 126, "Permission denied"),
        (dir.path(), 126, "Permission denied"),
        (
            Path::new("no-such-command-anywhere"),
            127,
            "No such file or directory",
        ),
    ] {
        let Some(run) = run_pid1(Pid1::bosun().arg("--").arg(target), T) else {
            return;
        };
        run.assert_code(code);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{}", run.dump());
        assert!(
            lines[0].contains(reason) && lines[0].contains("cannot run"),
            "{}",
            run.dump()
        );
    }
}

#[test]
fn expect_exit_remaps_codes_to_zero() {
    let Some(run) = run_pid1(Pid1::bosun().args(["-e", "3", "--"]).args(sh("exit 3")), T) else {
        return;
    };
    run.assert_code(0);
    // Negative control: another code is not remapped.
    run_pid1(Pid1::bosun().args(["-e", "3", "--"]).args(sh("exit 4")), T)
        .unwrap()
        .assert_code(4);
    // tini applies -e to 128+N too; and -e is repeatable.
    run_pid1(
        Pid1::bosun()
            .args(["-e", "1", "-e143", "--"])
            .args(sh("kill $$")),
        T,
    )
    .unwrap()
    .assert_code(0);
}

/// Spawns 1,000 orphans that exit at once, then waits up to POLLS×10 ms for the namespace to
/// hold no zombie and prints how many are left.
const ORPHANS: &str = r#"#!/bin/sh
i=0; while [ $i -lt 1000 ]; do ( true & ); i=$((i+1)); done
n=0
while :; do
  z=$(ps -e -o stat= | grep -c '^Z')
  [ "$z" -eq 0 ] && break
  n=$((n+1)); [ $n -ge "$1" ] && break
  sleep 0.01
done
echo "zombies=$z"
"#;

#[test]
fn reaps_1000_orphans() {
    let dir = Scratch::new("orphans");
    let script = dir.script("orphans.sh", ORPHANS);
    let Some(run) = run_pid1(
        Pid1::bosun()
            .arg("--")
            .args([script.as_os_str()])
            .arg("2000"),
        T,
    ) else {
        return;
    };
    run.assert_code(0);
    assert_eq!(run.stdout_str().trim(), "zombies=0", "{}", run.dump());

    // Negative control: a PID 1 that waits only for its own child leaves all 1,000.
    let control = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)";
    let run = run_pid1(
        Pid1::program(PYTHON)
            .args(["-c", control, "sh"])
            .arg(&script)
            .arg("100"),
        T,
    )
    .unwrap();
    assert_eq!(run.stdout_str().trim(), "zombies=1000", "{}", run.dump());
}

/// Catches every catchable signal, appends its number to OUT, exits 0 on SIGTERM/SIGINT.
const CATCHER: &str = r#"
import os, signal, sys
out = sys.argv[1]
def record(signo, frame):
    with open(out, "a") as f:
        f.write("%d\n" % signo)
    if signo in (signal.SIGTERM, signal.SIGINT):
        sys.exit(0)
for n in range(1, 65):
    if n in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD):
        continue
    try:
        signal.signal(n, record)
    except (OSError, ValueError, RuntimeError):
        pass
open(out + ".ready", "w").close()
while True:
    signal.pause()
"#;

fn received(path: &Path) -> Vec<i32> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect()
}

fn ready(path: &Path) -> bool {
    let mut ready = path.as_os_str().to_owned();
    ready.push(".ready");
    Path::new(&ready).exists()
}

#[test]
fn forwards_every_signal_to_the_main_command() {
    let dir = Scratch::new("forward");
    let catcher = dir.script("catcher.py", CATCHER);
    let out = dir.join("main.out");
    // HUP QUIT USR1 USR2 PIPE ALRM STKFLT CONT TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO
    // PWR, then real-time signals (SIGRTMIN+3, 37, is forwarded too, but also stops bosun:
    // resilience.rs checks it).
    let signals = [
        1, 3, 10, 12, 13, 14, 16, 18, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 35, 40, 64,
    ];
    let Some(pid1) = Pid1::bosun()
        .args(["--", PYTHON])
        .arg(&catcher)
        .arg(&out)
        .start()
    else {
        return;
    };
    assert!(wait_until(T, || ready(&out)), "catcher never got ready");
    for signo in signals {
        pid1.signal(signo);
        assert!(
            wait_until(T, || received(&out).contains(&signo)),
            "signal {signo} not forwarded; got {:?}\n{}",
            received(&out),
            pid1.stderr_now()
        );
    }
    pid1.signal(15);
    let run = pid1.wait(T);
    run.assert_code(0);
    assert_eq!(received(&out).last(), Some(&15), "{}", run.dump());
}

#[test]
fn sigint_is_forwarded_and_stops() {
    let dir = Scratch::new("sigint");
    let catcher = dir.script("catcher.py", CATCHER);
    let out = dir.join("main.out");
    let Some(pid1) = Pid1::bosun()
        .args(["--", PYTHON])
        .arg(&catcher)
        .arg(&out)
        .start()
    else {
        return;
    };
    assert!(wait_until(T, || ready(&out)));
    pid1.signal(2);
    pid1.wait(T).assert_code(0);
    assert_eq!(received(&out), [2]);
}

#[test]
fn kill_process_group_reaches_the_whole_group() {
    let dir = Scratch::new("group");
    let catcher = dir.script("catcher.py", CATCHER);
    let (main_out, grand_out) = (dir.join("main.out"), dir.join("grand.out"));
    // The grandchild stays in the main command's process group (no job control in sh -c).
    let script = format!(
        "{PYTHON} {c} {g} & exec {PYTHON} {c} {m}",
        c = catcher.display(),
        g = grand_out.display(),
        m = main_out.display()
    );
    for (group, env) in [
        (true, None),
        (true, Some(("BOSUN_KILL_PROCESS_GROUP", "1"))),
        (false, None),
    ] {
        for stale in ["main.out", "grand.out", "main.out.ready", "grand.out.ready"] {
            let _ = fs::remove_file(dir.join(stale));
        }
        let mut builder = Pid1::bosun();
        if let Some((k, v)) = env {
            builder = builder.env(k, v);
        } else if group {
            builder = builder.arg("-g");
        }
        let Some(pid1) = builder.arg("--").args(sh(&script)).start() else {
            return;
        };
        assert!(wait_until(T, || ready(&main_out) && ready(&grand_out)));
        pid1.signal(10);
        assert!(
            wait_until(T, || received(&main_out) == [10]),
            "main missed SIGUSR1"
        );
        if group {
            assert!(
                wait_until(T, || received(&grand_out) == [10]),
                "group member missed SIGUSR1"
            );
        } else {
            // Negative control: without -g only the main command gets it.
            std::thread::sleep(Duration::from_millis(300));
            assert!(
                received(&grand_out).is_empty(),
                "signal leaked to the group without -g"
            );
        }
        pid1.signal(15);
        pid1.wait(T).assert_code(0);
    }
}

fn sig_fields(status: &str) -> Vec<String> {
    status
        .lines()
        .filter(|l| l.starts_with("SigBlk:") || l.starts_with("SigIgn:"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn child_starts_with_empty_mask_and_default_dispositions() {
    // A parent that ignores SIGHUP and SIGINT and blocks SIGUSR1 and SIGTERM, then execs argv.
    let dirty = "import os, signal, sys\n\
        signal.signal(signal.SIGHUP, signal.SIG_IGN)\n\
        signal.signal(signal.SIGINT, signal.SIG_IGN)\n\
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGTERM})\n\
        os.execv(sys.argv[1], sys.argv[1:])";
    let Some(run) = run_pid1(
        Pid1::program(PYTHON)
            .args(["-c", dirty])
            .arg(bosun())
            .args(["--", "cat", "/proc/self/status"]),
        T,
    ) else {
        return;
    };
    run.assert_code(0);
    assert_eq!(
        sig_fields(&run.stdout_str()),
        ["SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000"],
        "{}",
        run.dump()
    );
    // Negative control: the same parent without bosun passes its dirt on (SIGUSR1 and SIGTERM
    // blocked: bits 9 and 14; SIGHUP and SIGINT ignored: bits 0 and 1).
    let run = run_pid1(
        Pid1::program(PYTHON)
            .args(["-c", dirty])
            .args(["/bin/cat", "/proc/self/status"]),
        T,
    )
    .unwrap();
    let fields = sig_fields(&run.stdout_str());
    let mask = |i: usize| u64::from_str_radix(fields[i].split('\t').nth(1).unwrap(), 16).unwrap();
    assert_eq!(mask(0) & 0x4200, 0x4200, "{}", run.dump());
    assert_eq!(mask(1) & 0x3, 0x3, "{}", run.dump());
}

/// A background process that writes OUT when it gets SIGTERM (or ignores SIGTERM with
/// `ignore`), and creates READY once its handler is installed.
const TRAPPER: &str = r#"
import signal, sys, time
out, ready, mode = sys.argv[1:4]
def cleanup(signo, frame):
    with open(out, "w") as f:
        f.write("cleaned up\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, signal.SIG_IGN if mode == "ignore" else cleanup)
open(ready, "w").close()
while True:
    time.sleep(3600)
"#;

struct Trap {
    _dir: Scratch,
    out: std::path::PathBuf,
    script: String,
}

fn trap(mode: &str, then: &str) -> Trap {
    let dir = Scratch::new("trap");
    let trapper = dir.script("trapper.py", TRAPPER);
    let (out, ready) = (dir.join("cleaned"), dir.join("ready"));
    let script = format!(
        "{PYTHON} {t} {o} {r} {mode} & while [ ! -e {r} ]; do sleep 0.01; done; {then}",
        t = trapper.display(),
        o = out.display(),
        r = ready.display()
    );
    Trap {
        _dir: dir,
        out,
        script,
    }
}

#[test]
fn background_process_cleans_up_when_main_command_exits() {
    let t = trap("handle", "exit 0");
    let Some(run) = bosun_sh(&t.script) else {
        return;
    };
    run.assert_code(0);
    assert_eq!(
        fs::read_to_string(&t.out).unwrap_or_default(),
        "cleaned up\n",
        "{}",
        run.dump()
    );

    // Negative control: a PID 1 that just exits with its child (as tini does) takes the
    // background process down with SIGKILL, before it can clean up.
    let t = trap("handle", "exit 0");
    let control = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)";
    let run = run_pid1(
        Pid1::program(PYTHON)
            .args(["-c", control])
            .args(sh(&t.script)),
        T,
    )
    .unwrap();
    run.assert_code(0);
    assert!(
        !t.out.exists(),
        "control cleaned up too: the test proves nothing"
    );
}

#[test]
fn background_process_cleans_up_when_bosun_gets_sigterm() {
    let t = trap("handle", "exec sleep 1000");
    let Some(pid1) = Pid1::bosun().arg("--").args(sh(&t.script)).start() else {
        return;
    };
    // The main command becomes `sleep` only after the trapper is ready.
    assert!(wait_until(T, || fs::read_to_string(format!(
        "/proc/{}/task/{0}/children",
        pid1.pid()
    ))
    .ok()
    .and_then(|c| c.split_whitespace().next().map(str::to_owned))
    .and_then(|p| fs::read_to_string(format!("/proc/{p}/comm")).ok())
    .is_some_and(|comm| comm.trim() == "sleep")));
    pid1.signal(15);
    let run = pid1.wait(T);
    run.assert_code(128 + 15);
    assert_eq!(
        fs::read_to_string(&t.out).unwrap_or_default(),
        "cleaned up\n",
        "{}",
        run.dump()
    );
}

#[test]
fn process_ignoring_sigterm_is_killed_after_the_stop_timeout() {
    let t = trap("ignore", "exit 7");
    let Some(pid1) = Pid1::bosun()
        .env("BOSUN_STOP_TIMEOUT", "1s")
        .arg("--")
        .args(sh(&t.script))
        .start()
    else {
        return;
    };
    let run = pid1.wait(T);
    run.assert_code(7);
    assert!(
        run.stderr
            .contains("stop timeout (1s) expired: killing 1 remaining process(es)"),
        "{}",
        run.dump()
    );
    assert!(!t.out.exists());

    // Negative control: with a long stop timeout bosun is still waiting for it.
    let t = trap("ignore", "exit 7");
    let mut pid1 = Pid1::bosun()
        .args(["-t", "1min", "--"])
        .args(sh(&t.script))
        .start()
        .unwrap();
    assert!(
        !wait_until(Duration::from_secs(2), || !pid1.running()),
        "bosun did not wait"
    );
}

#[test]
fn subreaper_outside_pid1_reaps_orphans_once_warned() {
    let dir = Scratch::new("subreaper");
    // 200 orphans that exit at once; then wait for bosun ($PPID) to have no zombie child.
    let script = dir.script(
        "orphans.sh",
        r#"#!/bin/sh
i=0; while [ $i -lt 200 ]; do ( true & ); i=$((i+1)); done
n=0
while :; do
  z=$(ps -o stat= --ppid $PPID | grep -c '^Z')
  [ "$z" -eq 0 ] && break
  n=$((n+1)); [ $n -ge "$1" ] && break
  sleep 0.01
done
echo "zombies=$z"
"#,
    );
    let run = run_pid1(
        Pid1::bosun()
            .without_namespace()
            .arg("--")
            .arg(&script)
            .arg("2000"),
        T,
    )
    .unwrap();
    run.assert_code(0);
    assert_eq!(run.stdout_str().trim(), "zombies=0", "{}", run.dump());
    let warnings: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        warnings,
        ["bosun: warning: not running as PID 1: reaping orphans as a child subreaper"],
        "{}",
        run.dump()
    );

    // Negative control: a subreaper that does not reap keeps all 200 as zombies.
    let control = "import ctypes, subprocess, sys\n\
        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER\n\
        sys.exit(subprocess.run(sys.argv[1:]).returncode)";
    let run = run_pid1(
        Pid1::program(PYTHON)
            .without_namespace()
            .args(["-c", control])
            .arg(&script)
            .arg("100"),
        T,
    )
    .unwrap();
    assert_eq!(run.stdout_str().trim(), "zombies=200", "{}", run.dump());
}

#[test]
fn subreaper_shutdown_spares_processes_that_are_not_its_own() {
    let mut bystander = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let run = run_pid1(
        Pid1::bosun()
            .without_namespace()
            .arg("--")
            .args(sh("sleep 60 & exit 0")),
        T,
    )
    .unwrap();
    run.assert_code(0);
    assert!(
        bystander.try_wait().unwrap().is_none(),
        "bosun signalled a process not its own"
    );
    bystander.kill().unwrap();
    bystander.wait().unwrap();
}

#[test]
fn argv_passes_through_byte_for_byte() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let args: [&OsStr; 8] = [
        OsStr::new(""),
        OsStr::new("a b"),
        OsStr::from_bytes(b"\xff\xfe not utf-8"),
        OsStr::new("--"),
        OsStr::new("-e"),
        OsStr::new("$HOME"),
        OsStr::new("*"),
        OsStr::new("line\nbreak"),
    ];
    let Some(run) = run_pid1(
        Pid1::bosun()
            .args(["--", "sh", "-c", "printf '%s\\0' \"$@\"", "sh"])
            .args(args),
        T,
    ) else {
        return;
    };
    run.assert_code(0);
    let expected: Vec<u8> = args
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    assert_eq!(run.stdout, expected, "{}", run.dump());
}

#[test]
fn main_command_gets_the_terminal_foreground() {
    if !Path::new("/usr/bin/script").exists() {
        println!("SKIP: script(1) not installed (apt-get install bsdutils); TTY test not run");
        return;
    }
    // script(1) gives bosun a pseudo-terminal as stdin; the child must become its foreground
    // process group (its pgid equals the terminal's tpgid), in its own group, not bosun's.
    let dir = Scratch::new("tty");
    let probe = dir.script(
        "probe.sh",
        "#!/bin/sh\necho \"pgid=$(ps -o pgid= -p $$ | tr -d ' ') \
         tpgid=$(ps -o tpgid= -p $$ | tr -d ' ') parent=$PPID\"\n",
    );
    let inner = format!("{} -- {}", bosun().display(), probe.display());
    let out = std::process::Command::new("script")
        .args(["-qec", &inner, "/dev/null"])
        .env("BOSUN_ROOT", dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("pgid="))
        .unwrap_or_else(|| panic!("{text}"));
    let field = |name: &str| -> i32 {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in {line:?}"))
    };
    assert_eq!(field("pgid="), field("tpgid="), "{text}");
    assert_ne!(
        field("pgid="),
        field("parent="),
        "child shares bosun's group: {text}"
    );
}

#[test]
fn help_version_and_unknown_words() {
    let out = std::process::Command::new(bosun())
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("bosun {}\n", env!("CARGO_PKG_VERSION"))
    );
    let out = std::process::Command::new(bosun())
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for option in [
        "--kill-process-group",
        "--expect-exit",
        "--stop-timeout",
        "--parent-death-signal",
        "--subreaper",
        "--warn-on-reap",
        "--verbose",
        "--quiet",
        "--license",
        "--version",
    ] {
        assert!(help.contains(option), "--help does not document {option}");
    }
    let out = std::process::Command::new(bosun())
        .arg("frobnicate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bosun -- frobnicate"));
    let out = std::process::Command::new(bosun())
        .args(["-t", "soon", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn static_binary_is_pid1_in_an_empty_root() {
    // `make test` builds the static binary and names it here; a bare `cargo test` cannot.
    let Some(binary) = std::env::var_os("BOSUN_STATIC_BIN") else {
        println!("SKIP: BOSUN_STATIC_BIN not set (run `make test`); static-binary test not run");
        return;
    };
    let busybox = Path::new("/bin/busybox");
    if !busybox.exists() || !crate::harness::namespaces_work() {
        println!("SKIP: /bin/busybox (busybox-static) or namespaces missing; static test not run");
        return;
    }
    // A root with nothing but bosun, busybox and an empty /proc: like a FROM scratch image.
    let root = Scratch::new("scratch-root");
    fs::create_dir_all(root.join("bin")).unwrap();
    fs::create_dir_all(root.join("proc")).unwrap();
    fs::copy(&binary, root.join("bosun")).unwrap();
    fs::copy(busybox, root.join("bin/busybox")).unwrap();
    let script = "i=0; while [ $i -lt 100 ]; do ( /bin/busybox true & ); i=$((i+1)); done; \
        n=0; while /bin/busybox cat /proc/[0-9]*/stat | /bin/busybox grep -q ') Z '; do \
        n=$((n+1)); [ $n -gt 2000 ] && break; /bin/busybox usleep 10000; done; \
        echo zombies=$(/bin/busybox cat /proc/[0-9]*/stat | /bin/busybox grep -c ') Z '); exit 3";
    let mut cmd = std::process::Command::new("unshare");
    if !nix::unistd::geteuid().is_root() {
        cmd.args(["--user", "--map-root-user"]);
    }
    let out = cmd
        .args(["--pid", "--fork", "--mount-proc", "--kill-child", "--root"])
        .arg(root.path())
        .args(["/bosun", "--", "/bin/busybox", "sh", "-c", script])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.trim(), "zombies=0");
}

/// Regression: run from a shell (not PID 1), `bosun -- CMD` once applied the machine's
/// tmpfiles.d, whose `D /tmp` emptied the host's /tmp. Outside PID 1, units and tmpfiles are
/// left alone unless BOSUN_UNITS=on says otherwise.
#[test]
fn outside_pid1_the_machines_units_and_tmpfiles_are_left_alone() {
    let root = Scratch::new("host-root");
    fs::create_dir_all(root.join("usr/lib/tmpfiles.d")).unwrap();
    fs::write(
        root.join("usr/lib/tmpfiles.d/tmp.conf"),
        "D /victim 1777 - - -\n",
    )
    .unwrap();
    fs::create_dir_all(root.join("victim")).unwrap();
    fs::write(root.join("victim/precious"), "keep me").unwrap();
    let run = |units: Option<&str>| {
        let mut b = Pid1::bosun()
            .without_namespace()
            .env("BOSUN_ROOT", root.path());
        if let Some(v) = units {
            b = b.env("BOSUN_UNITS", v);
        }
        run_pid1(b.args(["--", "true"]), T).unwrap()
    };
    run(None).assert_code(0);
    assert!(
        root.join("victim/precious").exists(),
        "tmpfiles.d applied outside PID 1"
    );
    // Negative control: asked for explicitly, the same run does apply them.
    run(Some("on")).assert_code(0);
    assert!(
        !root.join("victim/precious").exists(),
        "BOSUN_UNITS=on did not boot units"
    );
    // Without a command, outside PID 1, bosun refuses instead of booting this machine.
    let out = std::process::Command::new(bosun())
        .env("BOSUN_ROOT", root.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("set BOSUN_UNITS=on"));
}

/// `D /tmp` at boot empties /tmp but never enters what is mounted inside it (a volume, the
/// host's X11 socket directory, the test's own checkout when it lives under /tmp), as
/// systemd's rm_rf() stops at mount points. A symlink inside is removed, not followed.
#[test]
fn tmpfiles_d_stops_at_mount_points_and_symlinks() {
    let dir = Scratch::new("tmpfiles-mounts");
    let root = dir.join("root");
    fs::create_dir_all(root.join("usr/lib/tmpfiles.d")).unwrap();
    fs::write(
        root.join("usr/lib/tmpfiles.d/scratch.conf"),
        "D /scratch 1777 - - -\n",
    )
    .unwrap();
    fs::create_dir_all(root.join("scratch/bound")).unwrap();
    fs::create_dir_all(root.join("scratch/stale-dir")).unwrap();
    fs::write(root.join("scratch/stale-dir/f"), "x").unwrap();
    fs::write(root.join("scratch/stale"), "x").unwrap();
    let outside = dir.join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("precious"), "keep me").unwrap();
    let linked = dir.join("linked");
    fs::create_dir_all(&linked).unwrap();
    fs::write(linked.join("precious"), "keep me too").unwrap();
    std::os::unix::fs::symlink(&linked, root.join("scratch/link")).unwrap();
    let Some(run) = run_pid1(
        Pid1::bosun()
            .env("BOSUN_ROOT", &root)
            .setup(&format!(
                "mount --bind '{}' '{}'",
                outside.display(),
                root.join("scratch/bound").display()
            ))
            .args(["--", "true"]),
        T,
    ) else {
        return;
    };
    run.assert_code(0);
    assert!(
        outside.join("precious").exists(),
        "went into a mount\n{}",
        run.dump()
    );
    assert!(
        linked.join("precious").exists(),
        "followed a symlink\n{}",
        run.dump()
    );
    // The rest was emptied (the negative control: D did act).
    assert!(!root.join("scratch/stale").exists(), "{}", run.dump());
    assert!(!root.join("scratch/stale-dir").exists(), "{}", run.dump());
    assert!(fs::symlink_metadata(root.join("scratch/link")).is_err());
}

/// A SIGTERM already pending when bosun starts (a wrapper that blocked it, was signalled, then
/// exec'd bosun: the sender is bosun's own pid) is a request like any other. It used to be taken
/// for one bosun raised itself and dropped: the main command ran to its end and bosun exited 0.
#[test]
fn r16_a_sigterm_pending_at_exec_is_acted_on() {
    let dir = Scratch::new("pending");
    let wrapper = dir.join("wrapper.py");
    fs::write(
        &wrapper,
        "import os, signal, sys\n\
         signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])\n\
         if sys.argv[1] == 'send':\n    os.kill(os.getpid(), signal.SIGTERM)\n\
         os.execv(sys.argv[2], sys.argv[2:])\n",
    )
    .unwrap();
    let marker = dir.join("ran-to-its-end");
    let main = format!("sleep 30; touch {}", marker.display());
    let run = |mode: &str, main: &str| {
        run_pid1(
            Pid1::program(PYTHON)
                .arg(&wrapper)
                .arg(mode)
                .arg(bosun())
                .args(["--", "sh", "-c", main]),
            T,
        )
        .unwrap()
    };
    let signalled = run("send", &main);
    signalled.assert_code(143);
    assert!(!marker.exists(), "{}", signalled.dump());
    // Negative control: the same wrapper without the signal lets the main command finish.
    let quiet = run("keep", "exit 7");
    quiet.assert_code(7);
}
