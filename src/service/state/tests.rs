//! Transitions of the service state machine, one rule per test, without processes.

use super::*;

mod stopping;

fn base(kind: ServiceType) -> Spec {
    Spec {
        kind,
        remain_after_exit: false,
        has_pid_file: false,
        commands: Commands {
            start: vec![false],
            ..Commands::default()
        },
        restart: RestartPolicy::No,
        restart_delay: Duration::from_millis(100),
        timeout_start: Some(Duration::from_secs(90)),
        timeout_stop: Some(Duration::from_secs(90)),
        runtime_max: None,
        watchdog: None,
        success_status: ExitStatusSet::default(),
        restart_prevent: ExitStatusSet::default(),
        restart_force: ExitStatusSet::default(),
        notify_access: match kind {
            ServiceType::Notify | ServiceType::NotifyReload => NotifyAccess::Main,
            _ => NotifyAccess::None,
        },
        kill_mode: KillMode::ControlGroup,
        kill_signal: libc::SIGTERM,
        restart_kill_signal: libc::SIGTERM,
        final_kill_signal: libc::SIGKILL,
        watchdog_signal: libc::SIGABRT,
        send_sigkill: true,
        send_sighup: false,
        start_limit_interval: Duration::from_secs(10),
        start_limit_burst: 5,
    }
}

/// A service and a clock.
struct Rig {
    svc: Service,
    now: Instant,
}

impl Rig {
    fn new(spec: Spec) -> Rig {
        Rig {
            svc: Service::new(spec),
            now: Instant::now(),
        }
    }
    fn send(&mut self, event: Event) -> Vec<Action> {
        self.svc.handle(event, self.now)
    }
    fn exit(&mut self, pid: i32, code: i32) -> Vec<Action> {
        self.send(Event::Exited {
            pid,
            termination: Termination::Exited(code),
        })
    }
    fn killed(&mut self, pid: i32, signo: i32) -> Vec<Action> {
        self.send(Event::Exited {
            pid,
            termination: Termination::Signaled(signo),
        })
    }
    fn later(&mut self, d: Duration) {
        self.now += d;
    }
    /// Start a simple service whose main process gets `pid`.
    fn running(&mut self, pid: i32) {
        self.send(Event::Start);
        self.send(Event::Spawned { pid });
        assert_eq!(self.svc.state(), State::Running);
    }
    fn state(&self) -> State {
        self.svc.state()
    }
    /// Start a Type=forking service whose parent (pid 10) exits cleanly; answer the search
    /// for its main process with `pid`, the unit having other processes when `others`.
    fn forked(&mut self, pid: Option<i32>, others: bool) -> Vec<Action> {
        self.send(Event::Start);
        self.send(Event::Spawned { pid: 10 });
        self.exit(10, 0);
        self.send(Event::MainPid { pid, others })
    }
}

fn spawns(actions: &[Action]) -> Vec<(Phase, usize, bool)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Spawn { phase, index, main } => Some((*phase, *index, *main)),
            _ => None,
        })
        .collect()
}

fn signals(actions: &[Action]) -> Vec<(Target, i32)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Signal { target, signo } => Some((*target, *signo)),
            _ => None,
        })
        .collect()
}

#[test]
fn simple_runs_then_stops_cleanly() {
    let mut r = Rig::new(base(ServiceType::Simple));
    let a = r.send(Event::Start);
    assert_eq!(spawns(&a), [(Phase::Start, 0, true)]);
    r.send(Event::Spawned { pid: 10 });
    assert_eq!((r.state(), r.svc.main_pid()), (State::Running, Some(10)));
    assert_eq!(r.state().active(), Active::Active);

    let a = r.send(Event::Stop { for_restart: false });
    assert_eq!(r.state(), State::StopSigterm);
    assert_eq!(
        signals(&a),
        [
            (Target::Main, libc::SIGTERM),
            (Target::Main, libc::SIGCONT),
            (Target::Control, libc::SIGTERM),
            (Target::Control, libc::SIGCONT),
            (Target::Rest, libc::SIGTERM),
            (Target::Rest, libc::SIGCONT),
        ]
    );
    // As systemd: the main process gone, the stop goes on (no ExecStopPost= here) to the
    // final stage, which signals the rest again and waits until the unit is empty.
    let a = r.killed(10, libc::SIGTERM);
    assert_eq!(
        r.state(),
        State::FinalSigterm,
        "waits until the unit is empty"
    );
    assert!(signals(&a).contains(&(Target::Rest, libc::SIGTERM)));
    r.send(Event::Empty);
    assert_eq!(
        (r.state(), r.svc.outcome()),
        (State::Dead, Outcome::Success)
    );
}

#[test]
fn main_exit_while_running_fails_and_restarts_on_failure() {
    let mut spec = base(ServiceType::Simple);
    spec.restart = RestartPolicy::OnFailure;
    let mut r = Rig::new(spec);
    r.running(10);
    r.exit(10, 3);
    r.send(Event::Empty);
    assert_eq!(
        (r.state(), r.svc.outcome()),
        (State::AutoRestart, Outcome::ExitCode)
    );
    r.later(Duration::from_millis(100));
    let a = r.send(Event::Timer);
    assert_eq!(spawns(&a), [(Phase::Start, 0, true)]);
    assert_eq!(r.svc.restarts(), 1);
    assert_eq!(
        r.svc.outcome(),
        Outcome::Success,
        "a new run starts with a clean result"
    );
}

#[test]
fn restart_table() {
    use RestartPolicy::*;
    // (policy, how the main process ends, restarts?)
    let clean = Termination::Exited(0);
    let code = Termination::Exited(1);
    let term = Termination::Signaled(libc::SIGTERM);
    let segv = Termination::Signaled(libc::SIGSEGV);
    let cases = [
        (No, segv, false),
        (Always, clean, true),
        (OnSuccess, clean, true),
        (OnSuccess, term, true),
        (OnSuccess, code, false),
        (OnFailure, clean, false),
        (OnFailure, code, true),
        (OnFailure, segv, true),
        (OnAbnormal, code, false),
        (OnAbnormal, segv, true),
        (OnAbort, segv, true),
        (OnAbort, code, false),
        (OnWatchdog, segv, false),
    ];
    for (policy, termination, restarts) in cases {
        let mut spec = base(ServiceType::Simple);
        spec.restart = policy;
        let mut r = Rig::new(spec);
        r.running(10);
        r.send(Event::Exited {
            pid: 10,
            termination,
        });
        r.send(Event::Empty);
        assert_eq!(
            r.state() == State::AutoRestart,
            restarts,
            "{policy:?} after {termination:?}: {:?}",
            r.state()
        );
    }
}

#[test]
fn success_prevent_and_force_exit_status() {
    let mut spec = base(ServiceType::Simple);
    spec.restart = RestartPolicy::OnFailure;
    spec.success_status.codes.insert(42);
    spec.restart_prevent.codes.insert(3);
    spec.restart_force.signals.insert(libc::SIGUSR1);
    for (termination, state) in [
        (Termination::Exited(42), State::Dead),
        (Termination::Exited(3), State::Failed),
        (Termination::Exited(4), State::AutoRestart),
    ] {
        let mut r = Rig::new(spec.clone());
        r.running(10);
        r.send(Event::Exited {
            pid: 10,
            termination,
        });
        r.send(Event::Empty);
        assert_eq!(r.state(), state, "{termination:?}");
    }
    let mut spec = base(ServiceType::Simple);
    spec.restart_force.signals.insert(libc::SIGUSR1);
    let mut r = Rig::new(spec);
    r.running(10);
    r.killed(10, libc::SIGUSR1);
    r.send(Event::Empty);
    assert_eq!(r.state(), State::AutoRestart, "forced although Restart=no");
}

#[test]
fn start_limit_stops_a_crash_loop() {
    let mut spec = base(ServiceType::Simple);
    spec.restart = RestartPolicy::Always;
    spec.restart_delay = Duration::from_millis(100);
    let mut r = Rig::new(spec);
    r.send(Event::Start);
    for pid in 1..=5 {
        r.send(Event::Spawned { pid });
        r.exit(pid, 1);
        r.send(Event::Empty);
        if pid < 5 {
            assert_eq!(r.state(), State::AutoRestart);
            r.later(Duration::from_millis(100));
            r.send(Event::Timer);
        }
    }
    // Five starts within 10 s; the sixth is refused.
    r.later(Duration::from_millis(100));
    let a = r.send(Event::Timer);
    assert!(spawns(&a).is_empty());
    assert_eq!(
        (r.state(), r.svc.outcome()),
        (State::Failed, Outcome::StartLimitHit)
    );
    // Once the interval has passed, a manual start works again.
    r.later(Duration::from_secs(11));
    r.send(Event::Start);
    assert_eq!(r.state(), State::Start);
}

#[test]
fn notify_waits_for_ready_from_the_main_process_only() {
    let mut r = Rig::new(base(ServiceType::Notify));
    r.send(Event::Start);
    r.send(Event::Spawned { pid: 10 });
    assert_eq!(r.state(), State::Start);
    assert_eq!(r.state().active(), Active::Activating);
    let ready = |sender| Event::Notify {
        sender: Some(sender),
        notices: vec![Notice::Status("warming up".into()), Notice::Ready],
    };
    r.send(ready(11));
    assert_eq!(
        r.state(),
        State::Start,
        "NotifyAccess=main refuses other senders"
    );
    assert_eq!(r.svc.status_text(), None);
    r.send(ready(10));
    assert_eq!(r.state(), State::Running);
    assert_eq!(r.svc.status_text(), Some("warming up"));
}

#[test]
fn notify_exit_before_ready_is_a_protocol_failure() {
    let mut r = Rig::new(base(ServiceType::Notify));
    r.send(Event::Start);
    r.send(Event::Spawned { pid: 10 });
    r.exit(10, 0);
    r.send(Event::Empty);
    assert_eq!(
        (r.state(), r.svc.outcome()),
        (State::Failed, Outcome::Protocol)
    );
}

#[test]
fn notify_start_timeout_and_extension() {
    let mut spec = base(ServiceType::Notify);
    spec.timeout_start = Some(Duration::from_secs(5));
    let mut r = Rig::new(spec);
    r.send(Event::Start);
    r.send(Event::Spawned { pid: 10 });
    r.later(Duration::from_secs(4));
    let a = r.send(Event::Notify {
        sender: Some(10),
        notices: vec![Notice::ExtendTimeout(Duration::from_secs(10))],
    });
    assert_eq!(a, [Action::Timer(Some(r.now + Duration::from_secs(10)))]);
    r.later(Duration::from_secs(10));
    let a = r.send(Event::Timer);
    assert_eq!(r.state(), State::StopSigterm);
    assert!(signals(&a).contains(&(Target::Main, libc::SIGTERM)));
    r.killed(10, libc::SIGTERM);
    r.send(Event::Empty);
    assert_eq!(
        (r.state(), r.svc.outcome()),
        (State::Failed, Outcome::Timeout)
    );
}

#[test]
fn forking_reads_the_pid_file() {
    let mut spec = base(ServiceType::Forking);
    spec.has_pid_file = true;
    let mut r = Rig::new(spec.clone());
    let a = r.send(Event::Start);
    assert_eq!(
        spawns(&a),
        [(Phase::Start, 0, false)],
        "the parent is a control process"
    );
    r.send(Event::Spawned { pid: 10 });
    let a = r.exit(10, 0);
    assert_eq!(a, [Action::FindMainPid]);
    r.send(Event::MainPid {
        pid: Some(20),
        others: true,
    });
    assert_eq!((r.state(), r.svc.main_pid()), (State::Running, Some(20)));

    // No PIDFile written and nothing left to write it: a protocol failure at once.
    let mut r = Rig::new(spec.clone());
    r.forked(None, false);
    assert_eq!(
        (r.state(), r.svc.outcome()),
        (State::Failed, Outcome::Protocol)
    );

    // Not written yet while the daemon lives: read again until it is (issue #19,
    // varnishncsa), then running.
    let mut r = Rig::new(spec.clone());
    let a = r.forked(None, true);
    assert_eq!(a, [Action::RereadPidFile(Some(r.now + PID_FILE_REREAD))]);
    assert_eq!(r.state(), State::Start);
    assert!(r.svc.waits_for_empty());
    let a = r.send(Event::MainPid {
        pid: Some(20),
        others: true,
    });
    assert!(a.contains(&Action::RereadPidFile(None)), "{a:?}");
    assert_eq!((r.state(), r.svc.main_pid()), (State::Running, Some(20)));

    // Its processes gone before writing it: protocol ("never wrote its PID file").
    let mut r = Rig::new(spec.clone());
    r.forked(None, true);
    r.send(Event::Empty);
    assert_eq!(
        (r.state(), r.svc.outcome(), r.svc.awaiting_pid_file()),
        (State::Failed, Outcome::Protocol, false)
    );

    // Never written: TimeoutStartSec= ends the wait with 'timeout'.
    let mut r = Rig::new(spec);
    r.forked(None, true);
    let a = r.send(Event::Timer);
    assert!(a.contains(&Action::RereadPidFile(None)), "{a:?}");
    // Its processes are signalled, then waited for.
    assert_eq!(
        (r.state(), r.svc.outcome()),
        (State::FinalSigterm, Outcome::Timeout)
    );
    r.send(Event::Empty);
    assert_eq!(r.state(), State::Failed);
}

/// A PID file that ExecStartPost= writes is read after it (core/service.c: "The PID file
/// might actually be created by a START_POST script").
#[test]
fn forking_reads_the_pid_file_after_exec_start_post() {
    let mut spec = base(ServiceType::Forking);
    spec.has_pid_file = true;
    spec.commands.start_post = vec![false];
    let mut r = Rig::new(spec);
    let a = r.forked(None, true);
    assert_eq!(spawns(&a), [(Phase::StartPost, 0, false)]);
    r.send(Event::Spawned { pid: 11 });
    assert_eq!(r.exit(11, 0), [Action::FindMainPid]);
    r.send(Event::MainPid {
        pid: Some(20),
        others: true,
    });
    assert_eq!((r.state(), r.svc.main_pid()), (State::Running, Some(20)));
}

#[test]
fn forking_without_a_main_pid_runs_while_the_unit_has_processes() {
    // Issue #19 (postfix, slapd): `sh -c 'a & b & exit 0'`, or GuessMainPID=no.
    let mut r = Rig::new(base(ServiceType::Forking));
    r.forked(None, true);
    assert_eq!((r.state(), r.svc.main_pid()), (State::Running, None));
    assert!(r.svc.waits_for_empty());
    // Its last process gone: inactive, successfully.
    r.send(Event::Empty);
    assert_eq!(
        (r.state(), r.svc.outcome()),
        (State::Dead, Outcome::Success)
    );

    // Nothing left at all: not running (negative control).
    let mut r = Rig::new(base(ServiceType::Forking));
    r.forked(None, false);
    assert_eq!(r.state(), State::Dead);

    // A stop signals the rest of the unit and waits for it to go.
    let mut r = Rig::new(base(ServiceType::Forking));
    r.forked(None, true);
    let a = r.send(Event::Stop { for_restart: false });
    assert!(
        a.contains(&Action::Signal {
            target: Target::Rest,
            signo: libc::SIGTERM
        }),
        "{a:?}"
    );
    assert!(r.svc.waits_for_empty());
    assert_ne!(r.state(), State::Dead);
    r.send(Event::Empty);
    assert_eq!(r.state(), State::Dead);
}

#[test]
fn oneshot_runs_each_command_then_remains() {
    let mut spec = base(ServiceType::Oneshot);
    spec.commands.start = vec![false, false];
    spec.commands.stop = vec![false];
    spec.remain_after_exit = true;
    let mut r = Rig::new(spec);
    assert_eq!(spawns(&r.send(Event::Start)), [(Phase::Start, 0, false)]);
    r.send(Event::Spawned { pid: 10 });
    assert_eq!(spawns(&r.exit(10, 0)), [(Phase::Start, 1, false)]);
    r.send(Event::Spawned { pid: 11 });
    r.exit(11, 0);
    assert_eq!(r.state(), State::Exited);
    assert_eq!(r.state().active(), Active::Active);
    let a = r.send(Event::Stop { for_restart: false });
    assert_eq!(spawns(&a), [(Phase::Stop, 0, false)]);
    r.send(Event::Spawned { pid: 12 });
    r.exit(12, 0);
    r.send(Event::Empty);
    assert_eq!(r.state(), State::Dead);
}

#[test]
fn oneshot_failure_fails_the_unit() {
    let mut r = Rig::new(base(ServiceType::Oneshot));
    r.send(Event::Start);
    r.send(Event::Spawned { pid: 10 });
    r.exit(10, 2);
    r.send(Event::Empty);
    assert_eq!(
        (r.state(), r.svc.outcome()),
        (State::Failed, Outcome::ExitCode)
    );
}

#[test]
fn start_pre_failure_and_the_dash_prefix() {
    let mut spec = base(ServiceType::Simple);
    spec.commands.start_pre = vec![true, false];
    let mut r = Rig::new(spec);
    assert_eq!(spawns(&r.send(Event::Start)), [(Phase::StartPre, 0, false)]);
    r.send(Event::Spawned { pid: 5 });
    // `-`: its failure is recorded nowhere and the next command runs.
    assert_eq!(spawns(&r.exit(5, 1)), [(Phase::StartPre, 1, false)]);
    r.send(Event::Spawned { pid: 6 });
    let a = r.exit(6, 1);
    assert!(spawns(&a).is_empty(), "the main process never starts");
    r.send(Event::Empty);
    assert_eq!(
        (r.state(), r.svc.outcome()),
        (State::Failed, Outcome::ExitCode)
    );
}

#[test]
fn missing_executable() {
    // A `-` command whose executable is missing is skipped.
    let mut spec = base(ServiceType::Simple);
    spec.commands.start_pre = vec![true];
    let mut r = Rig::new(spec);
    r.send(Event::Start);
    let a = r.send(Event::SpawnFailed {
        errno: libc::ENOENT,
    });
    assert_eq!(spawns(&a), [(Phase::Start, 0, true)]);
    // The main process failing to exec is exit status 203/EXEC.
    r.send(Event::SpawnFailed {
        errno: libc::ENOENT,
    });
    assert_eq!(r.svc.main_exit(), Some(Termination::Exited(EXIT_EXEC)));
    r.send(Event::Empty);
    assert_eq!(
        (r.state(), r.svc.outcome()),
        (State::Failed, Outcome::ExitCode)
    );
}

#[test]
fn setup_failure_is_the_first_process_exiting_with_systemds_status() {
    // The main process: 243/CREDENTIALS, the unit fails with 'exit-code' and Restart= applies.
    let mut spec = base(ServiceType::Simple);
    spec.restart = RestartPolicy::OnFailure;
    let mut r = Rig::new(spec);
    assert_eq!(spawns(&r.send(Event::Start)), [(Phase::Start, 0, true)]);
    r.send(Event::SetupFailed { status: 243 });
    assert_eq!(r.svc.main_exit(), Some(Termination::Exited(243)));
    r.send(Event::Empty);
    assert_eq!(r.state(), State::AutoRestart);
    // A `-` ExecStartPre= that could not be set up is skipped like any failure of it.
    let mut spec = base(ServiceType::Simple);
    spec.commands.start_pre = vec![true];
    let mut r = Rig::new(spec);
    r.send(Event::Start);
    let a = r.send(Event::SetupFailed { status: 217 });
    assert_eq!(spawns(&a), [(Phase::Start, 0, true)]);
}

#[test]
fn exec_condition_skips_or_fails() {
    let mut spec = base(ServiceType::Simple);
    spec.commands.condition = vec![false];
    let mut r = Rig::new(spec.clone());
    r.send(Event::Start);
    assert_eq!(r.state(), State::Condition);
    r.send(Event::Spawned { pid: 5 });
    r.exit(5, 1);
    assert_eq!(r.state(), State::Dead);
    assert!(r.svc.condition_skipped());

    let mut r = Rig::new(spec);
    r.send(Event::Start);
    r.send(Event::Spawned { pid: 5 });
    r.exit(5, 255);
    r.send(Event::Empty);
    assert_eq!(r.state(), State::Failed);
}

#[test]
fn watchdog_kills_with_sigabrt_and_restarts_on_watchdog() {
    let mut spec = base(ServiceType::Notify);
    spec.watchdog = Some(Duration::from_secs(2));
    spec.restart = RestartPolicy::OnWatchdog;
    let mut r = Rig::new(spec);
    r.send(Event::Start);
    r.send(Event::Spawned { pid: 10 });
    let a = r.send(Event::Notify {
        sender: Some(10),
        notices: vec![Notice::Ready],
    });
    assert!(a.contains(&Action::Watchdog(Some(r.now + Duration::from_secs(2)))));
    r.later(Duration::from_secs(1));
    let a = r.send(Event::Notify {
        sender: Some(10),
        notices: vec![Notice::Watchdog],
    });
    assert_eq!(a, [Action::Watchdog(Some(r.now + Duration::from_secs(2)))]);
    let a = r.send(Event::Watchdog);
    assert!(signals(&a).contains(&(Target::Main, libc::SIGABRT)));
    r.killed(10, libc::SIGABRT);
    r.send(Event::Empty);
    assert_eq!(
        (r.state(), r.svc.outcome()),
        (State::AutoRestart, Outcome::Watchdog)
    );
}

#[test]
fn stopping_notice_waits_without_signalling() {
    let mut r = Rig::new(base(ServiceType::Notify));
    r.send(Event::Start);
    r.send(Event::Spawned { pid: 10 });
    r.send(Event::Notify {
        sender: Some(10),
        notices: vec![Notice::Ready],
    });
    let a = r.send(Event::Notify {
        sender: Some(10),
        notices: vec![Notice::Stopping],
    });
    assert_eq!(r.state(), State::StopSigterm);
    assert!(signals(&a).is_empty());
    r.exit(10, 0);
    r.send(Event::Empty);
    assert_eq!(r.state(), State::Dead);
}

#[test]
fn reload_success_failure_and_notify_reload() {
    let mut spec = base(ServiceType::Simple);
    spec.commands.reload = vec![false];
    let mut r = Rig::new(spec);
    r.running(10);
    assert!(r.svc.can_reload());
    assert_eq!(spawns(&r.send(Event::Reload)), [(Phase::Reload, 0, false)]);
    assert_eq!(r.state().active(), Active::Reloading);
    r.send(Event::Spawned { pid: 20 });
    r.exit(20, 1);
    assert_eq!(
        r.state(),
        State::Running,
        "a failed reload keeps the service up"
    );
    assert!(r.svc.reload_failed());

    let mut r = Rig::new(base(ServiceType::NotifyReload));
    r.send(Event::Start);
    r.send(Event::Spawned { pid: 10 });
    let ready = Event::Notify {
        sender: Some(10),
        notices: vec![Notice::Ready],
    };
    r.send(ready.clone());
    let a = r.send(Event::Reload);
    assert_eq!(signals(&a), [(Target::Main, libc::SIGHUP)]);
    assert_eq!(r.state(), State::Reload);
    r.send(ready);
    assert_eq!(r.state(), State::Running);

    assert!(!Rig::new(base(ServiceType::Simple)).svc.can_reload());
}

#[test]
fn mainpid_notice_moves_supervision() {
    let mut spec = base(ServiceType::Notify);
    spec.notify_access = NotifyAccess::All;
    let mut r = Rig::new(spec);
    r.send(Event::Start);
    r.send(Event::Spawned { pid: 10 });
    r.send(Event::Notify {
        sender: Some(10),
        notices: vec![Notice::MainPid(30), Notice::Ready],
    });
    assert_eq!((r.state(), r.svc.main_pid()), (State::Running, Some(30)));
    r.exit(10, 0); // the old main process is nobody now
    assert_eq!(r.state(), State::Running);
}

#[test]
fn spec_from_a_parsed_unit() {
    let text = "[Service]\nType=notify\nExecStart=/bin/true\nExecStartPre=-/bin/false\n\
                Restart=on-failure\nRestartSec=250ms\nTimeoutStopSec=0\nKillMode=mixed\n\
                KillSignal=SIGINT\n";
    let ctx = crate::unit::SpecifierContext::fixed();
    let name = crate::unit::UnitName::parse("t.service").expect("a name");
    let mut unit = crate::unit::Unit::new(name.clone());
    let mut applier = crate::unit::apply::Applier::new(&ctx, &name, None);
    applier.apply_file(
        &mut unit,
        std::path::Path::new("t.service"),
        text.as_bytes(),
    );
    let spec = Spec::from_section(
        unit.service().expect("a service"),
        (None, None),
        &Defaults::default(),
    );
    assert_eq!(spec.kind, ServiceType::Notify);
    assert_eq!(spec.commands.start_pre, [true]);
    assert_eq!(spec.restart_delay, Duration::from_millis(250));
    assert_eq!(spec.timeout_stop, None, "TimeoutStopSec=0 means no timeout");
    assert_eq!(spec.timeout_start, Some(Duration::from_secs(90)));
    assert_eq!(
        (spec.kill_mode, spec.kill_signal),
        (KillMode::Mixed, libc::SIGINT)
    );
    assert_eq!(spec.restart_kill_signal, libc::SIGINT);
    assert_eq!(spec.notify_access, NotifyAccess::Main);
}

#[test]
fn an_infinite_timeout_never_overflows() {
    let mut spec = base(ServiceType::Simple);
    spec.timeout_stop = Some(Duration::MAX);
    spec.watchdog = Some(Duration::MAX);
    let mut r = Rig::new(spec);
    r.running(10);
    let a = r.send(Event::Stop { for_restart: false });
    assert!(
        !a.iter().any(|x| matches!(x, Action::Timer(Some(_)))),
        "{a:?}"
    );
}

/// Issue 18: the longest a stop can take is one TimeoutStopSec= per stage it can go through.
#[test]
fn r18_a_stop_is_bounded_by_its_stages_timeouts() {
    let t = Duration::from_millis(200);
    let mut spec = base(ServiceType::Simple);
    spec.timeout_stop = Some(t);
    // stop-sigterm, stop-sigkill, final-sigterm, final-sigkill.
    assert_eq!(spec.stop_bound(), Some(t * 4));
    spec.commands.stop = vec![false];
    spec.commands.stop_post = vec![true, false];
    assert_eq!(spec.stop_bound(), Some(t * 6));
    spec.send_sigkill = false;
    assert_eq!(spec.stop_bound(), Some(t * 4));
    spec.timeout_stop = None;
    assert_eq!(
        spec.stop_bound(),
        None,
        "TimeoutStopSec=infinity has no bound"
    );
}
