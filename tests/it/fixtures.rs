//! Issue #4's fixture units, end to end: every service type, command prefix, restart rule and
//! kill mode, each run by bosun as PID 1 from a unit file written here, and judged by what the
//! processes themselves recorded.

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use crate::harness::{Finished, PYTHON, Pid1, Scratch, wait_until};

const T: Duration = Duration::from_secs(60);

/// A unit tree and a state directory the units write into.
pub(crate) struct Fixture {
    _dir: Scratch,
    pub(crate) root: PathBuf,
    pub(crate) state: PathBuf,
    scripts: PathBuf,
}

impl Fixture {
    pub(crate) fn new(tag: &str) -> Fixture {
        let dir = Scratch::new(tag);
        let (root, state, scripts) = (dir.join("root"), dir.join("state"), dir.join("scripts"));
        fs::create_dir_all(root.join("etc/systemd/system/multi-user.target.wants")).unwrap();
        fs::create_dir_all(&state).unwrap();
        fs::create_dir_all(&scripts).unwrap();
        // Services running as nobody write here too.
        fs::set_permissions(&state, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
        Fixture {
            _dir: dir,
            root,
            state,
            scripts,
        }
    }

    /// Write an enabled unit; `@S@` in `text` stands for the state directory, `@R@` for the
    /// root (bosun reads the paths in unit files, such as PIDFile=, under `BOSUN_ROOT`).
    pub(crate) fn unit(&self, name: &str, text: &str) {
        self.unit_file(name, text);
        std::os::unix::fs::symlink(
            format!("../{name}"),
            self.root
                .join("etc/systemd/system/multi-user.target.wants")
                .join(name),
        )
        .unwrap();
    }

    /// Write a unit that nothing enables.
    pub(crate) fn unit_file(&self, name: &str, text: &str) {
        let text = text
            .replace("@S@", &self.state.display().to_string())
            .replace("@R@", &self.root.display().to_string());
        fs::write(self.root.join("etc/systemd/system").join(name), text).unwrap();
    }

    pub(crate) fn script(&self, name: &str, body: &str) -> String {
        let path = self.scripts.join(name);
        fs::write(&path, body).unwrap();
        path.display().to_string()
    }

    pub(crate) fn read(&self, name: &str) -> String {
        fs::read_to_string(self.state.join(name)).unwrap_or_default()
    }

    pub(crate) fn lines(&self, name: &str) -> Vec<String> {
        self.read(name).lines().map(str::to_owned).collect()
    }

    pub(crate) fn exists(&self, name: &str) -> bool {
        self.state.join(name).exists()
    }

    pub(crate) fn boot(&self) -> Option<Pid1> {
        Pid1::bosun().env("BOSUN_ROOT", &self.root).start()
    }

    /// Boot in a container whose bounding set lacks `caps` (setpriv's words:
    /// `-sys_admin,-setpcap`), as a runtime that does not grant them.
    pub(crate) fn boot_without(&self, caps: &str) -> Option<Pid1> {
        Pid1::program("setpriv")
            .args(["--bounding-set", caps, "--"])
            .arg(crate::harness::bosun())
            .env("BOSUN_ROOT", &self.root)
            .start()
    }
}

pub(crate) fn stop(pid1: Pid1) -> Finished {
    pid1.signal(libc::SIGTERM);
    let run = pid1.wait(T);
    run.assert_code(0);
    run
}

/// A Type=notify helper: sends `messages` (one datagram each, `{child}` replaced by the pid of
/// a `sleep` it starts) with `pause` seconds before each, then exits or sleeps.
fn notifier(f: &Fixture, name: &str, messages: &[&str], pause: f64, exit_after: bool) -> String {
    let body = format!(
        "import os, socket, subprocess, sys, time\n\
         child = subprocess.Popen(['sleep', '3600']) if {spawn} else None\n\
         child and open(__file__ + '.child', 'w').write(str(child.pid))\n\
         a = os.environ['NOTIFY_SOCKET']\n\
         s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
         s.connect('\\0' + a[1:] if a[0] == '@' else a)\n\
         for m in {messages:?}:\n\
         \x20   time.sleep({pause})\n\
         \x20   s.send(m.replace('{{child}}', str(child.pid if child else 0)).encode())\n\
         sys.exit(0) if {exit_after} else time.sleep(3600)\n",
        spawn = if messages.iter().any(|m| m.contains("{child}")) {
            "True"
        } else {
            "False"
        },
        exit_after = if exit_after { "True" } else { "False" },
    );
    f.script(name, &body)
}

#[test]
fn every_service_type_starts_as_systemd_defines_it() {
    let f = Fixture::new("types");
    // exec: a command that cannot be executed fails the start, and what requires it never runs.
    f.unit(
        "exec-missing.service",
        "[Unit]\nDescription=Exec Missing\n[Service]\nType=exec\nExecStart=/nonexistent/daemon\n",
    );
    f.unit(
        "needs-exec.service",
        "[Unit]\nRequires=exec-missing.service\nAfter=exec-missing.service\n\
         [Service]\nExecStart=/bin/sh -c 'touch @S@/needs-exec.ran; exec sleep 3600'\n",
    );
    // forking with PIDFile=: MAINPID is the daemon the pid file names.
    f.unit(
        "fork-pidfile.service",
        "[Service]\nType=forking\nPIDFile=/fork.pid\n\
         ExecStart=/bin/sh -c 'sleep 3600 & echo $! > @R@/fork.pid'\n\
         ExecStop=/bin/sh -c 'echo $MAINPID > @S@/fork.mainpid; kill $MAINPID'\n",
    );
    // forking without PIDFile=: the one daemon left behind is guessed as the main process.
    f.unit(
        "fork-guess.service",
        "[Service]\nType=forking\n\
         ExecStart=/bin/sh -c 'sleep 3600 & echo $! > @S@/guess.pid'\n\
         ExecStop=/bin/sh -c 'echo $MAINPID > @S@/guess.mainpid; kill $MAINPID'\n",
    );
    // oneshot: several ExecStart= in order, and After= waits for all of them.
    f.unit(
        "oneshot.service",
        "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'sleep 0.3; echo one >> @S@/oneshot'\n\
         ExecStart=/bin/sh -c 'echo two >> @S@/oneshot'\n",
    );
    f.unit(
        "after-oneshot.service",
        "[Unit]\nAfter=oneshot.service\n[Service]\nType=oneshot\nRemainAfterExit=yes\n\
         ExecStart=/bin/sh -c 'cp @S@/oneshot @S@/seen-by-after'\n",
    );
    // notify: MAINPID= hands the main process over to a child before the first one exits.
    let handover = notifier(&f, "handover.py", &["MAINPID={child}\nREADY=1"], 0.1, true);
    f.unit(
        "notify-mainpid.service",
        &format!(
            "[Service]\nType=notify\nExecStart={PYTHON} {handover}\n\
             ExecStop=/bin/sh -c 'echo $MAINPID > @S@/handover.mainpid; kill $MAINPID'\n"
        ),
    );
    // notify: EXTEND_TIMEOUT_USEC= keeps a slow start inside TimeoutStartSec=.
    let slow = notifier(
        &f,
        "slow.py",
        &["EXTEND_TIMEOUT_USEC=4000000", "STATUS=almost", "READY=1"],
        0.7,
        false,
    );
    f.unit(
        "notify-extend.service",
        &format!(
            "[Unit]\nDescription=Slow Extender\n[Service]\nType=notify\nTimeoutStartSec=1\n\
             ExecStart={PYTHON} {slow}\nExecStartPost=/bin/touch @S@/extend.ready\n"
        ),
    );
    // Negative control: the same slow start without the extension times out.
    let late = notifier(&f, "late.py", &["STATUS=almost", "READY=1"], 1.2, false);
    f.unit(
        "notify-late.service",
        &format!(
            "[Unit]\nDescription=Slow Without Extension\n[Service]\nType=notify\nTimeoutStartSec=1\n\
             ExecStart={PYTHON} {late}\nExecStartPost=/bin/touch @S@/late.ready\n"
        ),
    );
    // idle runs as simple; dbus too, with a warning.
    f.unit(
        "idle.service",
        "[Service]\nType=idle\nExecStart=/bin/sh -c 'touch @S@/idle.ran; exec sleep 3600'\n",
    );
    f.unit(
        "bus.service",
        "[Service]\nType=dbus\nBusName=org.example.Bus\n\
         ExecStart=/bin/sh -c 'touch @S@/dbus.ran; exec sleep 3600'\n",
    );

    let Some(pid1) = f.boot() else { return };
    let all = [
        "guess.pid",
        "seen-by-after",
        "extend.ready",
        "idle.ran",
        "dbus.ran",
    ];
    // "Started" is logged after ExecStartPost= (which made extend.ready) has been reaped.
    assert!(
        wait_until(T, || all.iter().all(|n| f.exists(n))
            && pid1
                .stderr_now()
                .contains("Failed to start Slow Without Extension.")
            && pid1.stderr_now().contains("Started Slow Extender.")),
        "missing {:?}\n{}",
        all.iter().filter(|n| !f.exists(n)).collect::<Vec<_>>(),
        pid1.stderr_now()
    );
    let err = pid1.stderr_now();
    assert!(err.contains("Failed to start Exec Missing."), "{err}");
    assert!(
        !f.exists("needs-exec.ran"),
        "ran without its requirement\n{err}"
    );
    assert!(!f.exists("late.ready"), "{err}");
    assert!(err.contains("Started Slow Extender."), "{err}");
    assert!(
        err.contains("bus.service") && err.contains("Type=dbus"),
        "{err}"
    );
    assert_eq!(f.lines("seen-by-after"), ["one", "two"], "{err}");

    let run = stop(pid1);
    assert!(
        !run.stderr.contains("notify-mainpid.service: Failed"),
        "{}",
        run.dump()
    );
    assert_eq!(
        f.read("fork.mainpid"),
        fs::read_to_string(f.root.join("fork.pid")).unwrap(),
        "{}",
        run.dump()
    );
    assert_eq!(
        f.read("guess.mainpid"),
        f.read("guess.pid"),
        "{}",
        run.dump()
    );
    let child = fs::read_to_string(f.scripts.join("handover.py.child")).unwrap();
    assert_eq!(
        f.read("handover.mainpid").trim(),
        child,
        "MAINPID= not taken\n{}",
        run.dump()
    );
    assert!(
        run.stderr.contains("Finished oneshot.service."),
        "{}",
        run.dump()
    );
}

#[test]
fn command_prefixes_and_exec_phases() {
    let f = Fixture::new("prefixes");
    // `-`: a failing ExecStartPre= is ignored; without it the start fails.
    f.unit(
        "dash.service",
        "[Service]\nExecStartPre=-/bin/false\nExecStart=/bin/sh -c 'touch @S@/dash.ran; exec sleep 3600'\n",
    );
    f.unit(
        "nodash.service",
        "[Unit]\nDescription=No Dash\n[Service]\nExecStartPre=/bin/false\n\
         ExecStart=/bin/sh -c 'touch @S@/nodash.ran; exec sleep 3600'\n",
    );
    // `@`: the second word is argv[0].
    f.unit(
        "at.service",
        "[Service]\nType=oneshot\nExecStart=@/bin/sh renamed -c 'echo $0 > @S@/at.argv0'\n",
    );
    // `:`: no variable expansion; without it, ${GREETING} is expanded by bosun.
    for (name, prefix) in [("colon", ":"), ("nocolon", "")] {
        f.unit(
            &format!("{name}.service"),
            &format!(
                "[Service]\nType=oneshot\nEnvironment=GREETING=hello\n\
                 StandardOutput=truncate:/{name}\nExecStart={prefix}/bin/echo ${{GREETING}} $GREETING $$\n"
            ),
        );
    }
    // `+` runs with full privileges; `!` runs privileged without the user switch (User=
    // not applied); `!!` only where ambient capabilities are missing, so here as User=.
    f.unit(
        "plus.service",
        "[Service]\nUser=nobody\nExecStartPre=+/bin/sh -c 'id -u > @S@/plus.uid'\n\
         ExecStartPre=!/bin/sh -c 'id -u > @S@/bang.uid'\n\
         ExecStartPre=!!/bin/sh -c 'id -u > @S@/bangbang.uid'\n\
         ExecStart=/bin/sh -c 'id -u > @S@/user.uid; exec sleep 3600'\n",
    );
    // ExecCondition=: exit 1 skips the unit (not a failure), 255 fails it, 0 runs it.
    for (name, code) in [("cond-skip", 1), ("cond-fail", 255), ("cond-run", 0)] {
        f.unit(
            &format!("{name}.service"),
            &format!(
                "[Unit]\nDescription={name}\n[Service]\nExecCondition=/bin/sh -c 'exit {code}'\n\
                 ExecStart=/bin/sh -c 'touch @S@/{name}.ran; exec sleep 3600'\n"
            ),
        );
    }
    // ExecStartPost= runs once the main process started; ExecStopPost= gets the result.
    f.unit(
        "phases.service",
        "[Service]\nExecStartPre=/bin/sh -c 'echo pre >> @S@/phases'\n\
         ExecStart=/bin/sh -c 'echo main >> @S@/phases; sleep 0.5; exit 3'\n\
         ExecStartPost=/bin/sh -c 'echo post >> @S@/phases'\n\
         ExecStopPost=/bin/sh -c 'echo \"stoppost $$SERVICE_RESULT $$EXIT_CODE $$EXIT_STATUS\" >> @S@/phases'\n",
    );

    // StandardOutput= paths are under BOSUN_ROOT, as every path bosun opens for a unit.
    let out = |name: &str| fs::read_to_string(f.root.join(name)).unwrap_or_default();
    let Some(pid1) = f.boot() else { return };
    assert!(
        wait_until(T, || f.read("phases").contains("stoppost")
            && out("colon").ends_with('\n')
            && out("nocolon").ends_with('\n')
            && f.exists("user.uid")
            && f.exists("cond-run.ran")),
        "{}",
        pid1.stderr_now()
    );
    let err = pid1.stderr_now();
    assert!(f.exists("dash.ran"), "{err}");
    assert!(!f.exists("nodash.ran"), "{err}");
    assert!(err.contains("Failed to start No Dash."), "{err}");
    assert_eq!(f.read("at.argv0"), "renamed\n");
    assert_eq!(out("colon"), "${GREETING} $GREETING $$\n", "{err}");
    assert_eq!(out("nocolon"), "hello hello $\n", "{err}");
    assert_eq!(f.read("plus.uid"), "0\n");
    assert_eq!(f.read("bang.uid"), "0\n", "{err}");
    assert_eq!(f.read("bangbang.uid"), "65534\n");
    assert_eq!(f.read("user.uid"), "65534\n");
    assert!(
        !f.exists("cond-skip.ran") && !f.exists("cond-fail.ran"),
        "{err}"
    );
    assert!(
        err.contains("cond-skip.service: skipped by ExecCondition="),
        "{err}"
    );
    assert!(!err.contains("Failed to start cond-skip."), "{err}");
    assert!(err.contains("Failed to start cond-fail."), "{err}");
    // ExecStartPost= starts as soon as the main process is forked (Type=simple), so its line
    // and the main process's may come in either order; the pre line is first, the stop-post
    // line last.
    let mut phases = f.lines("phases");
    if phases.len() >= 3 {
        phases[1..3].sort();
    }
    assert_eq!(
        phases,
        ["pre", "main", "post", "stoppost exit-code exited 3"],
        "{err}"
    );
    stop(pid1);
}

#[test]
fn restart_rules_and_the_start_limit() {
    let f = Fixture::new("restart");
    // (unit, Restart=, how the process ends, extra keys, expected number of starts).
    let cases: [(&str, &str, &str, &str, usize); 11] = [
        ("success-on-success", "on-success", "exit 0", "", 3),
        ("fail-on-success", "on-success", "exit 1", "", 1),
        ("fail-on-failure", "on-failure", "exit 1", "", 3),
        ("success-on-failure", "on-failure", "exit 0", "", 1),
        (
            "custom-success",
            "on-failure",
            "exit 7",
            "SuccessExitStatus=7",
            1,
        ),
        (
            "prevented",
            "always",
            "exit 42",
            "RestartPreventExitStatus=42",
            1,
        ),
        ("kill-on-abnormal", "on-abnormal", "kill -KILL $$$$", "", 3),
        ("fail-on-abnormal", "on-abnormal", "exit 1", "", 1),
        (
            "abort-on-abort",
            "on-abort",
            "kill -ABRT $$$$",
            "LimitCORE=0",
            3,
        ),
        ("term-on-abort", "on-abort", "kill -TERM $$$$", "", 1),
        ("fail-no", "no", "exit 1", "", 1),
    ];
    for (name, restart, end, extra, _) in cases {
        f.unit(
            &format!("{name}.service"),
            &format!(
                "[Unit]\nDescription={name}\nStartLimitIntervalSec=60\nStartLimitBurst=3\n\
                 [Service]\nRestart={restart}\nRestartSec=50ms\n{extra}\n\
                 ExecStart=/bin/sh -c 'echo start >> @S@/{name}; {end}'\n"
            ),
        );
    }
    // The watchdog: a daemon that stops pinging is aborted and restarted; one that pings lives.
    let silent = notifier(&f, "silent.py", &["READY=1"], 0.0, false);
    let pinging = f.script(
        "pinging.py",
        "import os, socket, time\n\
         a = os.environ['NOTIFY_SOCKET']\n\
         s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
         s.connect('\\0' + a[1:] if a[0] == '@' else a)\n\
         s.send(b'READY=1')\n\
         while True:\n    time.sleep(0.2)\n    s.send(b'WATCHDOG=1')\n",
    );
    for (name, script) in [("silent", &silent), ("pinging", &pinging)] {
        f.unit(
            &format!("watchdog-{name}.service"),
            &format!(
                "[Service]\nType=notify\nWatchdogSec=1\nRestart=on-watchdog\nRestartSec=50ms\n\
                 ExecStartPre=/bin/sh -c 'echo start >> @S@/watchdog-{name}'\n\
                 ExecStart={PYTHON} {script}\n"
            ),
        );
    }

    let Some(pid1) = f.boot() else { return };
    assert!(
        wait_until(T, || cases
            .iter()
            .all(|(name, .., n)| f.lines(name).len() >= *n)
            && f.lines("watchdog-silent").len() >= 2),
        "{}",
        pid1.stderr_now()
    );
    // Long enough for any wrong restart to show (RestartSec=50ms, watchdog 1 s).
    std::thread::sleep(Duration::from_millis(1500));
    let err = pid1.stderr_now();
    for (name, restart, end, _, n) in cases {
        assert_eq!(
            f.lines(name).len(),
            n,
            "{name}: Restart={restart} after `{end}`\n{err}"
        );
    }
    for (name, .., n) in cases {
        if n == 3 {
            assert!(
                err.contains(&format!(
                    "{name}.service: Start request repeated too quickly."
                )),
                "{name}\n{err}"
            );
        }
    }
    assert!(
        err.contains("watchdog-silent.service: Watchdog timeout"),
        "{err}"
    );
    assert_eq!(f.lines("watchdog-pinging").len(), 1, "{err}");
    stop(pid1);
}

/// A daemon with one child; each records the signals it gets in `log`, and the daemon writes
/// `log.ready` once both are set up. TERM and INT end them 0.3 s later (so a SIGHUP sent
/// right after is recorded too); HUP does not.
const SIGNAL_RECORDER: &str = "import os, signal, sys, time\n\
log = sys.argv[1]\n\
who = 'main'\n\
end = None\n\
def record(sig, frame):\n\
\x20   global end\n\
\x20   with open(log, 'a') as f:\n\
\x20       f.write(who + ' ' + signal.Signals(sig).name + '\\n')\n\
\x20   if sig != signal.SIGHUP and end is None:\n\
\x20       end = time.time() + 0.3\n\
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n\
\x20   signal.signal(s, record)\n\
if os.fork() == 0:\n\
\x20   who = 'child'\n\
else:\n\
\x20   time.sleep(0.2)\n\
\x20   open(log + '.ready', 'w').close()\n\
while end is None or time.time() < end:\n\
\x20   time.sleep(0.05)\n\
os._exit(0)\n";

#[test]
fn kill_modes_signal_whom_systemd_signals() {
    let f = Fixture::new("killmode");
    let recorder = f.script("recorder.py", SIGNAL_RECORDER);
    let modes = [
        ("control-group", "control-group", ""),
        ("mixed", "mixed", ""),
        ("process", "process", ""),
        ("none", "none", ""),
        ("sigint", "control-group", "KillSignal=SIGINT\n"),
        ("hup", "control-group", "SendSIGHUP=yes\n"),
    ];
    for (name, mode, extra) in modes {
        f.unit(
            &format!("{name}.service"),
            &format!(
                "[Service]\nKillMode={mode}\n{extra}TimeoutStopSec=2\n\
                 ExecStart={PYTHON} {recorder} @S@/{name}\n\
                 ExecStopPost=/bin/sh -c 'echo stopped >> @S@/{name}'\n"
            ),
        );
    }
    let Some(pid1) = f.boot() else { return };
    assert!(
        wait_until(T, || modes
            .iter()
            .all(|(name, ..)| f.exists(&format!("{name}.ready")))),
        "{}",
        pid1.stderr_now()
    );
    let run = stop(pid1);
    let dump = run.dump();
    assert!(!run.stderr.contains("Failed with result"), "{dump}");
    // What each process got before the unit counted as stopped, and after (bosun's final
    // sweep of every remaining process).
    let split = |name: &str| {
        let lines = f.lines(name);
        let at = lines
            .iter()
            .position(|l| l == "stopped")
            .unwrap_or_else(|| panic!("{name}: ExecStopPost= never ran: {lines:?}\n{dump}"));
        let mut before = lines[..at].to_vec();
        let mut after = lines[at + 1..].to_vec();
        before.sort();
        after.sort();
        (before, after)
    };
    // `after: None`: the final stage may signal the rest of the unit again (systemd runs
    // ExecStopPost= as soon as the main process is gone), so only `before` is judged.
    let expect = |name: &str, before: &[&str], after: Option<&[&str]>| {
        let (b, a) = split(name);
        assert_eq!(
            b,
            v(before),
            "KillMode {name}: before ExecStopPost=\n{dump}"
        );
        if let Some(after) = after {
            assert_eq!(a, v(after), "KillMode {name}: after ExecStopPost=\n{dump}");
        }
    };
    expect("control-group", &["child SIGTERM", "main SIGTERM"], None);
    // mixed: SIGTERM to the main process only; the rest gets SIGKILL, so records nothing.
    expect("mixed", &["main SIGTERM"], Some(&[]));
    // process: the child outlives the unit and meets bosun's final sweep.
    expect("process", &["main SIGTERM"], Some(&["child SIGTERM"]));
    // none: nothing is signalled by the unit's stop.
    expect("none", &[], Some(&["child SIGTERM", "main SIGTERM"]));
    expect("sigint", &["child SIGINT", "main SIGINT"], None);
    expect(
        "hup",
        &[
            "child SIGHUP",
            "child SIGTERM",
            "main SIGHUP",
            "main SIGTERM",
        ],
        None,
    );
}

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn failure_hooks_bindings_and_ordering_cycles() {
    let f = Fixture::new("deps");
    // OnFailure=: a failed unit starts its rescue.
    f.unit(
        "broken.service",
        "[Unit]\nOnFailure=rescue.service\n[Service]\nExecStart=/bin/sh -c 'exit 1'\n",
    );
    f.unit_file(
        "rescue.service",
        "[Service]\nType=oneshot\nExecStart=/bin/touch @S@/rescued\n",
    );
    // BindsTo=: when the bound unit goes away, the bound one stops too.
    f.unit(
        "carrier.service",
        "[Service]\nExecStart=/bin/sh -c 'sleep 1'\n",
    );
    f.unit(
        "rider.service",
        "[Unit]\nBindsTo=carrier.service\nAfter=carrier.service\n\
         [Service]\nExecStart=/bin/sleep 3600\nExecStopPost=/bin/touch @S@/rider.stopped\n",
    );
    // Negative control: Wants= does not bind.
    f.unit(
        "walker.service",
        "[Unit]\nWants=carrier.service\nAfter=carrier.service\n\
         [Service]\nExecStart=/bin/sleep 3600\nExecStopPost=/bin/touch @S@/walker.stopped\n",
    );
    // Requisite=: a unit that is not already active fails the start.
    f.unit(
        "requisite.service",
        "[Unit]\nDescription=Needs Idle Thing\nRequisite=never-started.service\n\
         [Service]\nExecStart=/bin/sh -c 'touch @S@/requisite.ran; exec sleep 3600'\n",
    );
    f.unit_file(
        "never-started.service",
        "[Service]\nExecStart=/bin/sleep 3600\n",
    );
    // An ordering cycle: bosun says which job it deleted, and the rest still starts.
    f.unit(
        "cycle-a.service",
        "[Unit]\nAfter=cycle-b.service\n[Service]\nExecStart=/bin/sh -c 'touch @S@/cycle-a; exec sleep 3600'\n",
    );
    f.unit(
        "cycle-b.service",
        "[Unit]\nAfter=cycle-a.service\n[Service]\nExecStart=/bin/sh -c 'touch @S@/cycle-b; exec sleep 3600'\n",
    );

    let Some(pid1) = f.boot() else { return };
    assert!(
        wait_until(T, || f.exists("rescued") && f.exists("rider.stopped")),
        "{}",
        pid1.stderr_now()
    );
    let err = pid1.stderr_now();
    assert!(
        !f.exists("walker.stopped"),
        "Wants= acted like BindsTo=\n{err}"
    );
    assert!(!f.exists("requisite.ran"), "{err}");
    assert!(err.contains("Found ordering cycle"), "{err}");
    assert!(err.contains("breaking it by deleting job cycle-"), "{err}");
    assert!(
        wait_until(T, || f.exists("cycle-a") || f.exists("cycle-b")),
        "{err}"
    );
    stop(pid1);
}

/// A Type=notify service that hands its main process over (`MAINPID=` then `READY=1`) and
/// exits at once: the datagram is queued before the exit, so the exit is judged on it, as
/// systemd ranks its notification source above SIGCHLD. Twenty of them at once; each must be
/// active with its child as main process, none `Failed with result 'protocol'` (PID 1 once
/// picked the exit first under load). The control: one that exits without a word fails with
/// 'protocol'.
#[test]
fn what_a_service_said_before_exiting_counts_before_its_exit() {
    let f = Fixture::new("last-words");
    let handover = notifier(&f, "handover.py", &["MAINPID={child}\nREADY=1"], 0.0, true);
    for i in 0..20 {
        f.unit(
            &format!("hand{i}.service"),
            &format!("[Service]\nType=notify\nExecStart={PYTHON} {handover}\n"),
        );
    }
    f.unit(
        "mute.service",
        &format!("[Service]\nType=notify\nExecStart={PYTHON} -c 'pass'\n"),
    );
    let Some(pid1) = f.boot() else { return };
    assert!(
        wait_until(T, || {
            let err = pid1.stderr_now();
            (0..20).all(|i| {
                err.contains(&format!("Started hand{i}.service."))
                    || err.contains(&format!("hand{i}.service: Failed"))
            }) && err.contains("mute.service: Failed")
        }),
        "{}",
        pid1.stderr_now()
    );
    let run = stop(pid1);
    let failed: Vec<usize> = (0..20)
        .filter(|i| run.stderr.contains(&format!("hand{i}.service: Failed")))
        .collect();
    assert!(failed.is_empty(), "{failed:?}\n{}", run.dump());
    assert!(
        run.stderr
            .contains("mute.service: Failed with result 'protocol'"),
        "{}",
        run.dump()
    );
}
