//! Issue #16, "a bug in bosun never takes the container down", with bosun as a real PID 1: a
//! panic in the loop or in a task ends in the ordered shutdown and exit 70 (debug builds'
//! BOSUN_TEST_PANIC switch injects it), a second one goes straight to the final sweep, the
//! control server comes back after one, a shutdown always ends (BOSUN_SHUTDOWN_TIMEOUT),
//! systemd's SIGRTMIN+N stop signals, `infinity` and the largest finite value in every duration,
//! and generators that run as children of the loop.

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use crate::harness::{Finished, Pid1, Pid1Builder, Scratch, bosun, run_pid1, wait_until};

const T: Duration = Duration::from_secs(60);

/// A unit tree with `keeper.service` enabled: its ExecStop= and a shutdown hook each leave a
/// marker in `state`, so an ordered shutdown can be told from a mere kill.
struct Tree {
    _dir: Scratch,
    root: PathBuf,
    state: PathBuf,
}

impl Tree {
    fn new(tag: &str) -> Tree {
        let dir = Scratch::new(tag);
        let root = dir.join("root");
        let state = dir.join("state");
        fs::create_dir_all(&state).unwrap();
        let tree = Tree {
            root,
            state,
            _dir: dir,
        };
        let s = tree.state.display();
        tree.unit(
            "keeper.service",
            &format!(
                "[Service]\nExecStart=/bin/sh -c 'echo $$$$ > {s}/keeper.pid; exec sleep 3600'\n\
                 ExecStop=/bin/sh -c 'echo stopped > {s}/keeper.stopped; kill $MAINPID'\n"
            ),
            true,
        );
        tree.executable(
            "etc/bosun/hooks/shutdown.d/10-mark",
            &format!("echo ran > {s}/hook.ran"),
        );
        tree
    }

    fn unit(&self, name: &str, text: &str, enable: bool) {
        crate::services::unit(&self.root, name, text, enable);
    }

    fn executable(&self, path: &str, body: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn marker(&self, name: &str) -> bool {
        self.state.join(name).exists()
    }

    /// bosun on this tree, saying `boot complete` (verbosity 2) for the tests to wait on.
    fn bosun(&self) -> Pid1Builder {
        Pid1::bosun()
            .env("BOSUN_ROOT", &self.root)
            .env("BOSUN_VERBOSITY", "2")
    }

    /// Boot (units only), wait until keeper runs and boot is complete, send `signo`, and
    /// wait for the end.
    fn boot_then_signal(&self, builder: Pid1Builder, signo: i32) -> Option<Finished> {
        let pid1 = builder.start()?;
        assert!(
            wait_until(T, || self.marker("keeper.pid")
                && pid1.stderr_now().contains("boot complete")),
            "keeper never started\n{}",
            pid1.stderr_now()
        );
        pid1.signal(signo);
        Some(pid1.wait(T))
    }
}

fn assert_has(run: &Finished, text: &str) {
    assert!(run.stderr.contains(text), "no {text:?}\n{}", run.dump());
}

fn assert_lacks(run: &Finished, text: &str) {
    assert!(!run.stderr.contains(text), "{text:?}\n{}", run.dump());
}

#[test]
fn r16_a_panic_in_the_loop_stops_the_units_in_order_and_exits_70() {
    // The negative control first: SIGUSR2 without the switch, then SIGTERM, is an ordinary
    // ordered shutdown that exits 0 (the switch, not the signal, makes the 70).
    let tree = Tree::new("panic-loop-control");
    let Some(run) = tree.boot_then_signal(tree.bosun(), libc::SIGTERM) else {
        return;
    };
    run.assert_code(0);
    assert!(tree.marker("keeper.stopped") && tree.marker("hook.ran"));
    assert_lacks(&run, "internal error");
    assert_lacks(&run, "BOSUN_SHUTDOWN_TIMEOUT");

    let tree = Tree::new("panic-loop");
    let run = tree
        .boot_then_signal(tree.bosun().env("BOSUN_TEST_PANIC", "loop"), libc::SIGUSR2)
        .unwrap();
    run.assert_code(70);
    assert_has(&run, "injected panic at loop");
    assert_has(
        &run,
        "internal error in a signal's handler: stopping the units in order, then exiting with \
         code 70",
    );
    assert!(
        tree.marker("keeper.stopped"),
        "ExecStop= did not run\n{}",
        run.dump()
    );
    assert!(
        tree.marker("hook.ran"),
        "the shutdown hook did not run\n{}",
        run.dump()
    );
    // Everything ended on its own: the final sweep had nothing to kill.
    assert_lacks(&run, "remaining process");
}

/// The main command is told to stop too (SIGTERM, as `systemctl exit` does): with an infinite
/// stop timeout nothing else would ever end it.
#[test]
fn r16_a_panic_ends_the_main_command_with_sigterm() {
    let tree = Tree::new("panic-main");
    let Some(run) = run_pid1(
        tree.bosun()
            .env("BOSUN_TEST_PANIC", "loop")
            .env("BOSUN_STOP_TIMEOUT", "infinity")
            .env("BOSUN_SHUTDOWN_TIMEOUT", "infinity")
            .args(["--", "sh", "-c", "kill -USR2 1; exec sleep 3600"]),
        T,
    ) else {
        return;
    };
    run.assert_code(70);
    assert_has(&run, "main command was killed by SIGTERM");
    assert!(tree.marker("keeper.stopped"), "{}", run.dump());
}

#[test]
fn r16_a_second_panic_during_shutdown_ends_everything_and_still_exits_70() {
    let tree = Tree::new("panic-twice");
    let Some(run) = tree.boot_then_signal(
        tree.bosun()
            .env("BOSUN_TEST_PANIC", "loop,shutdown")
            .env("BOSUN_STOP_TIMEOUT", "2s"),
        libc::SIGUSR2,
    ) else {
        return;
    };
    run.assert_code(70);
    assert_has(&run, "injected panic at shutdown");
    assert_has(&run, "while shutting down: the units are abandoned");
    // The units were abandoned before they were down: the shutdown hooks, which come after
    // them, never ran; the sweep's SIGTERM ended what was left.
    assert!(!tree.marker("hook.ran"), "{}", run.dump());
}

#[test]
fn r16_a_panic_in_an_output_reader_is_noticed_and_stops_the_units_in_order() {
    let tree = Tree::new("panic-task");
    tree.unit(
        "noisy.service",
        "[Unit]\nAfter=keeper.service\n\
         [Service]\nExecStart=/bin/sh -c 'while :; do echo noise; sleep 1; done'\n",
        true,
    );
    let Some(run) = run_pid1(
        tree.bosun().env("BOSUN_TEST_PANIC", "task:noisy.service"),
        T,
    ) else {
        return;
    };
    run.assert_code(70);
    assert_has(&run, "injected panic in the output reader of noisy.service");
    assert_has(
        &run,
        "internal error in the output reader of noisy.service: stopping the units in order",
    );
    assert!(tree.marker("keeper.stopped"), "{}", run.dump());
}

#[test]
fn r16_the_control_server_is_started_again_after_a_panic() {
    let tree = Tree::new("panic-control");
    // A call in flight when the server panicked is lost with it (its connection was in the
    // dead listener's backlog): the caller tries again, within a bound.
    let script = format!(
        "i=0; until {} systemctl is-active keeper.service; do \
           i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.05; done",
        bosun().display()
    );
    let Some(run) = run_pid1(
        tree.bosun()
            .env("BOSUN_TEST_PANIC", "task:control")
            .args(["--", "sh", "-c", &script]),
        T,
    ) else {
        return;
    };
    assert_has(&run, "injected panic in the control server");
    assert_has(
        &run,
        "internal error in the control server: starting it again (1 of 3)",
    );
    // The restarted server answered; bosun ends as the main command asked, not with 70.
    run.assert_code(0);
    assert_eq!(
        run.stdout_str().lines().last(),
        Some("active"),
        "{}",
        run.dump()
    );
}

#[test]
fn r16_a_shutdown_held_by_a_unit_ends_at_the_shutdown_timeout_and_names_it() {
    let tree = Tree::new("shutdown-deadline");
    tree.unit(
        "stuck.service",
        "[Service]\nExecStart=/bin/sleep 3600\nExecStop=/bin/sleep 3600\nTimeoutStopSec=infinity\n",
        true,
    );
    let builder = tree.bosun().env("BOSUN_SHUTDOWN_TIMEOUT", "1s");
    let Some(run) = tree.boot_then_signal(builder, libc::SIGTERM) else {
        return;
    };
    run.assert_code(0);
    assert_has(
        &run,
        "shutdown still not done after 1s (BOSUN_SHUTDOWN_TIMEOUT): held by unit(s) \
         stuck.service; process(es) ",
    );
    // keeper stopped in order meanwhile; the one that held the shutdown was killed.
    assert!(tree.marker("keeper.stopped"), "{}", run.dump());
}

#[test]
fn r16_systemds_rtmin_signals_halt_in_order_or_at_once() {
    // SIGRTMIN+3 (37, podman's stop signal for --systemd images), +4, +5: ordered, exit 0.
    for n in [3, 4, 5] {
        let tree = Tree::new("rtmin-ordered");
        let Some(run) = tree.boot_then_signal(tree.bosun(), 34 + n) else {
            return;
        };
        run.assert_code(0);
        assert_has(&run, &format!("received SIGRTMIN+{n}"));
        assert!(tree.marker("keeper.stopped"), "{}", run.dump());
        assert!(tree.marker("hook.ran"), "{}", run.dump());
    }
    // +13, +14, +15: every process ends at once; no ExecStop=, no shutdown hook.
    for n in [13, 14, 15] {
        let tree = Tree::new("rtmin-immediate");
        let run = tree.boot_then_signal(tree.bosun(), 34 + n).unwrap();
        run.assert_code(0);
        assert_has(&run, &format!("received SIGRTMIN+{n} (immediate"));
        assert!(!tree.marker("keeper.stopped"), "{}", run.dump());
        assert!(!tree.marker("hook.ran"), "{}", run.dump());
    }
    // With a main command (tini mode), it gets SIGRTMIN+3 forwarded, as it would SIGTERM, and
    // bosun exits 0 as systemd does on halt — not 128+37 for the killed command. The negative
    // control: SIGRTMIN+6 kills it as well, and its code is passed through.
    for (signo, code) in [(37, 0), (40, 128 + 40)] {
        let dir = Scratch::new("rtmin-main");
        let started = dir.join("started");
        let script = format!("touch {}; exec sleep 3600", started.display());
        let pid1 = Pid1::bosun()
            .args(["--", "sh", "-c", &script])
            .start()
            .unwrap();
        assert!(wait_until(T, || started.exists()), "{}", pid1.stderr_now());
        pid1.signal(signo);
        pid1.wait(T).assert_code(code);
    }
    // The negative control: SIGRTMIN+6 (kexec) is none of them; bosun runs on until SIGTERM.
    let tree = Tree::new("rtmin-other");
    let pid1 = tree.bosun().start().unwrap();
    assert!(wait_until(T, || pid1
        .stderr_now()
        .contains("boot complete")));
    pid1.signal(34 + 6);
    pid1.signal(libc::SIGTERM);
    let run = pid1.wait(T);
    assert_lacks(&run, "SIGRTMIN+6");
    assert_has(&run, "received SIGTERM: stopping");
}

/// Every duration setting, at `infinity` and at the largest finite value, at boot and at
/// daemon-reload, with a generator present: nothing overflows (a panic would now exit 70).
#[test]
fn r16_infinity_and_the_largest_durations_never_overflow() {
    // u64::MAX µs is systemd's USEC_INFINITY, which only `infinity` may say: one less is the
    // largest finite span.
    const LARGEST: &str = "18446744073709551614us";
    for value in ["infinity", LARGEST, "584542y"] {
        let tree = Tree::new("durations");
        tree.executable(
            "etc/systemd/system-generators/app-generator",
            "printf '[Service]\\nExecStart=/bin/sleep 3600\\n' > \"$1/generated.service\"",
        );
        tree.unit(
            "long.service",
            &format!(
                "[Unit]\nStartLimitIntervalSec={value}\nJobTimeoutSec={value}\n\
                 [Service]\nExecStart=/bin/sleep 3600\nTimeoutStartSec={value}\n\
                 TimeoutStopSec={value}\nRestartSec={value}\nRuntimeMaxSec={value}\n\
                 WatchdogSec={value}\nTimeoutAbortSec={value}\nRestart=always\n"
            ),
            true,
        );
        tree.unit(
            "long.timer",
            &format!(
                "[Timer]\nOnActiveSec={value}\nOnBootSec={value}\nOnUnitActiveSec={value}\n\
                 RandomizedDelaySec={value}\nAccuracySec={value}\nUnit=long.service\n"
            ),
            true,
        );
        let s = format!("{} systemctl", bosun().display());
        let script = format!(
            "{s} start generated.service && {s} is-active long.service long.timer && \
             {s} daemon-reload && {s} restart long.service && {s} is-active long.service \
             generated.service"
        );
        let run = run_pid1(
            tree.bosun()
                .env("BOSUN_GENERATOR_TIMEOUT", value)
                .env("BOSUN_STOP_TIMEOUT", value)
                .env("BOSUN_HOOK_TIMEOUT", value)
                .env("BOSUN_SHUTDOWN_TIMEOUT", value)
                .args(["--", "sh", "-c", &script]),
            T,
        );
        let Some(run) = run else {
            return;
        };
        run.assert_code(0);
        assert_lacks(&run, "internal error");
        assert_eq!(
            run.stdout_str().lines().collect::<Vec<_>>(),
            ["active", "active", "active", "active"],
            "{value}\n{}",
            run.dump()
        );
    }
}

/// The generators run as children of the loop: while one runs for daemon-reload, systemctl
/// gets its answers; daemon-reload's own answer comes once it is done.
#[test]
fn r16_the_loop_answers_while_daemon_reloads_generator_runs() {
    let tree = Tree::new("generator-loop");
    let s = tree.state.display();
    tree.executable(
        "etc/systemd/system-generators/slow-generator",
        &format!(
            "if [ -e {s}/block ]; then\n\
               touch {s}/gen.running\n\
               while [ ! -e {s}/go ]; do sleep 0.02; done\n\
               touch {s}/gen.finished\n\
             fi"
        ),
    );
    let ctl = format!("{} systemctl", bosun().display());
    let script = format!(
        "touch {s}/block\n\
         ({ctl} daemon-reload; echo reload-rc=$?\n\
           if [ -e {s}/gen.finished ]; then echo generator-finished-first; fi\n\
           touch {s}/reload.done) &\n\
         while [ ! -e {s}/gen.running ]; do sleep 0.02; done\n\
         {ctl} is-active keeper.service\n\
         if [ -e {s}/reload.done ]; then echo reload-answered-early; fi\n\
         touch {s}/go\n\
         wait"
    );
    let Some(run) = run_pid1(tree.bosun().args(["--", "sh", "-c", &script]), T) else {
        return;
    };
    run.assert_code(0);
    assert_eq!(
        run.stdout_str().lines().collect::<Vec<_>>(),
        ["active", "reload-rc=0", "generator-finished-first"],
        "{}",
        run.dump()
    );
}

/// At boot too: with BOSUN_GENERATOR_TIMEOUT=infinity (which used to panic at boot) and a
/// generator that hangs, SIGTERM still stops bosun: the generator is killed and bosun exits.
#[test]
fn r16_sigterm_during_a_hanging_boot_generator_with_infinite_timeout() {
    let tree = Tree::new("generator-hang");
    let s = tree.state.display();
    tree.executable(
        "etc/systemd/system-generators/hang-generator",
        &format!("touch {s}/gen.running; exec sleep 3600"),
    );
    let Some(pid1) = tree
        .bosun()
        .env("BOSUN_GENERATOR_TIMEOUT", "infinity")
        .start()
    else {
        return;
    };
    assert!(
        wait_until(T, || tree.marker("gen.running")),
        "{}",
        pid1.stderr_now()
    );
    pid1.signal(libc::SIGTERM);
    let run = pid1.wait(T);
    run.assert_code(0);
    assert_has(&run, "killing generator");
    // The units never booted: keeper did not start.
    assert!(!tree.marker("keeper.pid"), "{}", run.dump());
}
