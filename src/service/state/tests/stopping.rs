//! The state machine's stop path, without processes: ExecStop= before the signals, KillMode=
//! and its targets, escalation to SIGKILL, and that a stop never restarts.

use super::*;

#[test]
fn stop_escalates_to_sigkill_after_the_timeout() {
    let mut spec = base(ServiceType::Simple);
    spec.timeout_stop = Some(Duration::from_secs(3));
    let mut r = Rig::new(spec.clone());
    r.running(10);
    let a = r.send(Event::Stop { for_restart: false });
    assert!(a.contains(&Action::Timer(Some(r.now + Duration::from_secs(3)))));
    r.later(Duration::from_secs(3));
    let a = r.send(Event::Timer);
    assert_eq!(r.state(), State::StopSigkill);
    assert_eq!(
        signals(&a),
        [
            (Target::Main, libc::SIGKILL),
            (Target::Control, libc::SIGKILL),
            (Target::Rest, libc::SIGKILL)
        ]
    );
    r.killed(10, libc::SIGKILL);
    r.send(Event::Empty);
    assert_eq!(
        (r.state(), r.svc.outcome()),
        (State::Failed, Outcome::Timeout)
    );

    // SendSIGKILL=no: give up waiting instead.
    spec.send_sigkill = false;
    let mut r = Rig::new(spec);
    r.running(10);
    r.send(Event::Stop { for_restart: false });
    r.later(Duration::from_secs(3));
    let a = r.send(Event::Timer);
    assert!(!signals(&a).iter().any(|(_, s)| *s == libc::SIGKILL));
}

#[test]
fn kill_modes_choose_targets() {
    for (mode, first, last) in [
        (
            KillMode::Mixed,
            vec![
                (Target::Main, libc::SIGTERM),
                (Target::Control, libc::SIGTERM),
            ],
            vec![
                (Target::Main, libc::SIGKILL),
                (Target::Control, libc::SIGKILL),
                (Target::Rest, libc::SIGKILL),
            ],
        ),
        (
            KillMode::Process,
            vec![
                (Target::Main, libc::SIGTERM),
                (Target::Control, libc::SIGTERM),
            ],
            vec![
                (Target::Main, libc::SIGKILL),
                (Target::Control, libc::SIGKILL),
            ],
        ),
        (KillMode::None, vec![], vec![]),
    ] {
        let mut spec = base(ServiceType::Simple);
        spec.kill_mode = mode;
        let mut r = Rig::new(spec);
        r.running(10);
        let a = r.send(Event::Stop { for_restart: false });
        let terms: Vec<_> = signals(&a)
            .into_iter()
            .filter(|(_, s)| *s != libc::SIGCONT)
            .collect();
        assert_eq!(terms, first, "{mode:?}");
        r.later(Duration::from_secs(90));
        let a = r.send(Event::Timer);
        assert_eq!(signals(&a), last, "{mode:?}");
    }
    // KillMode=process does not wait for the rest of the unit.
    let mut spec = base(ServiceType::Simple);
    spec.kill_mode = KillMode::Process;
    let mut r = Rig::new(spec);
    r.running(10);
    r.send(Event::Stop { for_restart: false });
    r.killed(10, libc::SIGTERM);
    assert_eq!(r.state(), State::Dead);
}

#[test]
fn mixed_kills_the_rest_once_the_main_process_is_gone_and_none_waits_for_nobody() {
    let mut spec = base(ServiceType::Simple);
    spec.kill_mode = KillMode::Mixed;
    let mut r = Rig::new(spec);
    r.running(10);
    r.send(Event::Stop { for_restart: false });
    // The main process ends on SIGTERM; its child got nothing yet and gets SIGKILL now,
    // not after TimeoutStopSec=.
    let a = r.killed(10, libc::SIGTERM);
    assert!(
        signals(&a).contains(&(Target::Rest, libc::SIGKILL)),
        "{a:?}"
    );
    assert_eq!(r.state(), State::FinalSigkill);
    r.send(Event::Empty);
    assert_eq!(
        (r.state(), r.svc.outcome()),
        (State::Dead, Outcome::Success)
    );

    let mut spec = base(ServiceType::Simple);
    spec.kill_mode = KillMode::None;
    spec.commands.stop_post = vec![false];
    let mut r = Rig::new(spec);
    r.running(10);
    let a = r.send(Event::Stop { for_restart: false });
    assert_eq!(
        spawns(&a),
        [(Phase::StopPost, 0, false)],
        "no waiting for the main process"
    );
    r.send(Event::Spawned { pid: 20 });
    r.exit(20, 0);
    assert_eq!(
        (r.state(), r.svc.outcome()),
        (State::Dead, Outcome::Success)
    );
}

#[test]
fn kill_signals_sighup_and_restart_kill_signal() {
    let mut spec = base(ServiceType::Simple);
    spec.kill_signal = libc::SIGQUIT;
    spec.restart_kill_signal = libc::SIGUSR2;
    spec.send_sighup = true;
    spec.kill_mode = KillMode::Process;
    let mut r = Rig::new(spec.clone());
    r.running(10);
    let a = r.send(Event::Stop { for_restart: false });
    assert_eq!(
        signals(&a)[..3],
        [
            (Target::Main, libc::SIGQUIT),
            (Target::Main, libc::SIGHUP),
            (Target::Main, libc::SIGCONT)
        ]
    );
    let mut r = Rig::new(spec);
    r.running(10);
    let a = r.send(Event::Stop { for_restart: true });
    assert_eq!(signals(&a)[0], (Target::Main, libc::SIGUSR2));
}

#[test]
fn exec_stop_runs_before_signals() {
    let mut spec = base(ServiceType::Simple);
    spec.commands.stop = vec![false];
    spec.commands.stop_post = vec![false];
    let mut r = Rig::new(spec);
    r.running(10);
    let a = r.send(Event::Stop { for_restart: false });
    assert_eq!(spawns(&a), [(Phase::Stop, 0, false)]);
    assert!(signals(&a).is_empty());
    r.send(Event::Spawned { pid: 20 });
    r.exit(10, 0); // the main process ends while ExecStop= runs
    // Main and control gone: ExecStopPost= runs at once, whatever else is left.
    let a = r.exit(20, 0);
    assert_eq!(spawns(&a), [(Phase::StopPost, 0, false)]);
    assert_eq!(r.state(), State::StopPost);
    r.send(Event::Spawned { pid: 21 });
    r.exit(21, 0);
    r.send(Event::Empty);
    assert_eq!(r.state(), State::Dead);
}

#[test]
fn a_requested_stop_never_restarts() {
    let mut spec = base(ServiceType::Simple);
    spec.restart = RestartPolicy::Always;
    let mut r = Rig::new(spec);
    r.running(10);
    r.send(Event::Stop { for_restart: false });
    r.killed(10, libc::SIGTERM);
    r.send(Event::Empty);
    assert_eq!(r.state(), State::Dead);
    // Stop during the restart delay cancels the restart.
    let mut spec = base(ServiceType::Simple);
    spec.restart = RestartPolicy::Always;
    let mut r = Rig::new(spec);
    r.running(10);
    r.exit(10, 0);
    r.send(Event::Empty);
    assert_eq!(r.state(), State::AutoRestart);
    r.send(Event::Stop { for_restart: false });
    assert_eq!(r.state(), State::Dead);
}

/// Issue 18: a stop asked for while the service is already stopping on its own (its main
/// process failed, ExecStop= runs) is not followed by the automatic restart, or the stop job
/// would wait for ever (core/service.c service_stop() sets forbid_restart first).
#[test]
fn r18_a_stop_during_a_failure_stop_forbids_the_restart() {
    let mut spec = base(ServiceType::Simple);
    spec.restart = RestartPolicy::OnFailure;
    spec.commands.stop = vec![false];
    let mut r = Rig::new(spec.clone());
    r.running(10);
    let a = r.exit(10, 3);
    assert_eq!(spawns(&a), [(Phase::Stop, 0, false)]);
    r.send(Event::Spawned { pid: 20 });
    assert_eq!(r.state(), State::Stop);
    r.send(Event::Stop { for_restart: false });
    r.exit(20, 0);
    r.send(Event::Empty);
    assert_eq!(
        (r.state(), r.svc.outcome()),
        (State::Failed, Outcome::ExitCode),
        "restarted after a stop was asked for"
    );
    // Negative control: without the stop request it restarts.
    let mut r = Rig::new(spec);
    r.running(10);
    r.exit(10, 3);
    r.send(Event::Spawned { pid: 20 });
    r.exit(20, 0);
    r.send(Event::Empty);
    assert_eq!(r.state(), State::AutoRestart);
}

/// Issue 18: a control process that outlives its stage's timeout only ends the signal stage
/// the machine moved on to; it does not enter that stage again (a new timeout) nor resume its
/// command list.
#[test]
fn r18_a_control_process_ending_after_its_timeout_lets_the_stage_end() {
    let mut spec = base(ServiceType::Simple);
    spec.commands.stop = vec![false, false];
    let mut r = Rig::new(spec);
    r.running(10);
    r.send(Event::Stop { for_restart: false });
    r.send(Event::Spawned { pid: 20 });
    r.later(Duration::from_secs(90));
    r.send(Event::Timer);
    assert_eq!(r.state(), State::StopSigterm);
    r.killed(10, libc::SIGTERM);
    // ExecStop='s first command ends (cleanly) only now: the second is not run, and with the
    // main process gone ExecStopPost= (none) and the final stages follow.
    let a = r.exit(20, 0);
    assert!(spawns(&a).is_empty(), "{a:?}");
    r.send(Event::Empty);
    assert_eq!(
        (r.state(), r.svc.outcome()),
        (State::Failed, Outcome::Timeout)
    );

    // A stop during ExecStartPre=: the command ends cleanly on SIGTERM; the start does not go on.
    let mut spec = base(ServiceType::Simple);
    spec.commands.start_pre = vec![false];
    let mut r = Rig::new(spec);
    r.send(Event::Start);
    r.send(Event::Spawned { pid: 30 });
    assert_eq!(r.state(), State::StartPre);
    r.send(Event::Stop { for_restart: false });
    assert_eq!(r.state(), State::StopSigterm);
    let a = r.exit(30, 0);
    assert!(spawns(&a).is_empty(), "the start went on: {a:?}");
    r.send(Event::Empty);
    assert_eq!(r.state(), State::Dead);
}
