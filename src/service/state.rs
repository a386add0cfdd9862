//! One service's life as a pure state machine, with systemd.service(5) semantics: events in
//! ([`Event`]: start/stop/reload requests, process exits, notifications, timers), actions out
//! ([`Action`]: spawn the next command, signal processes, read the PIDFile, arm timers). Time
//! is passed in, nothing here touches a process or a clock, so every transition is unit-tested.
//!
//! The states and their names are systemd's (`systemctl status` shows them as sub-states).
//! Jobs, ordering and dependencies are the manager's business, not this module's.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::service::notify::Notice;
use crate::unit::model::{KillMode, NotifyAccess, RestartPolicy, ServiceType};
use crate::unit::value::ExitStatusSet;
use crate::vocab::termination::Termination;

pub use super::spec::{Commands, Defaults, Spec};
pub use super::status::{Active, Outcome, State};

/// systemd's exit code for "exec failed" (203/EXEC), reported when a main process cannot start.
pub const EXIT_EXEC: i32 = 203;

/// Which command list a control process comes from, in the order of systemd's properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Condition,
    StartPre,
    Start,
    StartPost,
    Reload,
    Stop,
    StopPost,
}

/// Whom a signal goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Main,
    Control,
    /// Every process of the unit that is neither main nor control.
    Rest,
}

/// What the driver must do for the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Spawn command `index` of `phase`; as the main process when `main`. Answer with
    /// [`Event::Spawned`] or [`Event::SpawnFailed`] before anything else.
    Spawn {
        phase: Phase,
        index: usize,
        main: bool,
    },
    /// Send `signo` to `target` (no-op if it has no process).
    Signal { target: Target, signo: i32 },
    /// Read PIDFile= (or guess the main PID); answer with [`Event::MainPid`].
    FindMainPid,
    /// PIDFile= is not there yet: read it again at this instant, answering with
    /// [`Event::MainPid`] (None: stop re-reading).
    RereadPidFile(Option<Instant>),
    /// The state timer: fire [`Event::Timer`] at this instant (None: disarm).
    Timer(Option<Instant>),
    /// The watchdog timer: fire [`Event::Watchdog`] at this instant (None: disarm).
    Watchdog(Option<Instant>),
}

/// What happened to the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Start,
    /// Stop; `for_restart` selects RestartKillSignal=.
    Stop {
        for_restart: bool,
    },
    Reload,
    Spawned {
        pid: i32,
    },
    SpawnFailed {
        errno: i32,
    },
    /// The run could not be prepared (user, directories, credentials): its process is taken
    /// to have exited with `status` before its exec, as systemd's forked child does.
    SetupFailed {
        status: i32,
    },
    /// A main or control process of this service ended.
    Exited {
        pid: i32,
        termination: Termination,
    },
    /// The unit has no process left at all (cgroup empty, or no descendants found).
    Empty,
    Notify {
        sender: Option<i32>,
        notices: Vec<Notice>,
    },
    /// Answer to [`Action::FindMainPid`]: the main process found, and whether the unit has
    /// processes at all (besides main and control).
    MainPid {
        pid: Option<i32>,
        others: bool,
    },
    Timer,
    Watchdog,
}

/// One service at run time.
#[derive(Debug, Clone)]
pub struct Service {
    spec: Spec,
    state: State,
    outcome: Outcome,
    main_pid: Option<i32>,
    control_pid: Option<i32>,
    /// The control command running or being spawned: (phase, index).
    control: Option<(Phase, usize)>,
    /// A Spawn action is outstanding for the main process.
    spawning_main: bool,
    main_exit: Option<Termination>,
    /// The unit still has processes besides main and control (as far as the driver knows).
    others: bool,
    /// Type=forking without PIDFile= and no main process found: the unit runs while it has
    /// processes (systemd's main_pid_good() < 0 with cgroup_good()).
    main_unknown: bool,
    /// Type=forking waits in Start for PIDFile= to appear (service_demand_pid_file()).
    awaiting_pid_file: bool,
    /// A stop was asked for: do not restart automatically.
    stop_requested: bool,
    /// This stop is part of a restart (RestartKillSignal=).
    stopping_for_restart: bool,
    /// ExecCondition= said "skip": the unit ends inactive, not failed.
    condition_skipped: bool,
    status_text: Option<String>,
    status_errno: Option<i32>,
    watchdog_interval: Option<Duration>,
    timer: Option<Instant>,
    start_times: VecDeque<Instant>,
    restarts: u32,
    reload_failed: bool,
}

impl Service {
    pub fn new(spec: Spec) -> Service {
        Service {
            watchdog_interval: spec.watchdog,
            spec,
            state: State::Dead,
            outcome: Outcome::Success,
            main_pid: None,
            control_pid: None,
            control: None,
            spawning_main: false,
            main_exit: None,
            others: false,
            main_unknown: false,
            awaiting_pid_file: false,
            stop_requested: false,
            stopping_for_restart: false,
            condition_skipped: false,
            status_text: None,
            status_errno: None,
            timer: None,
            start_times: VecDeque::new(),
            restarts: 0,
            reload_failed: false,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }
    pub fn main_pid(&self) -> Option<i32> {
        self.main_pid
    }
    pub fn control_pid(&self) -> Option<i32> {
        self.control_pid
    }
    /// How the main process ended (for `$EXIT_CODE`/`$EXIT_STATUS` and status output).
    pub fn main_exit(&self) -> Option<Termination> {
        self.main_exit
    }
    pub fn status_text(&self) -> Option<&str> {
        self.status_text.as_deref()
    }
    pub fn status_errno(&self) -> Option<i32> {
        self.status_errno
    }
    /// Automatic restarts so far (systemd's NRestarts).
    pub fn restarts(&self) -> u32 {
        self.restarts
    }
    pub fn condition_skipped(&self) -> bool {
        self.condition_skipped
    }
    /// The last reload failed (the service kept running).
    pub fn reload_failed(&self) -> bool {
        self.reload_failed
    }
    /// Whether `reload` does anything for this service.
    pub fn can_reload(&self) -> bool {
        !self.spec.commands.reload.is_empty() || self.spec.kind == ServiceType::NotifyReload
    }
    /// `systemctl reset-failed`: a failed service becomes dead, its result and start limit
    /// counter cleared.
    pub fn reset_failed(&mut self) {
        if self.state == State::Failed {
            self.state = State::Dead;
        }
        self.outcome = Outcome::Success;
        self.start_times.clear();
    }
    pub fn spec(&self) -> &Spec {
        &self.spec
    }
    /// daemon-reload: run with `spec` from now on (the state, pids and counters stay).
    pub fn reconfigure(&mut self, spec: Spec) {
        self.watchdog_interval = spec.watchdog;
        self.spec = spec;
    }
    /// A control command (ExecStartPre=, ExecReload=, ...) runs: its place in the command
    /// list must not change under it.
    pub fn in_control(&self) -> bool {
        self.control.is_some()
    }

    /// Feed one event; get the actions to carry out, in order.
    pub fn handle(&mut self, event: Event, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        match event {
            Event::Start => self.on_start(now, &mut out),
            Event::Stop { for_restart } => self.on_stop(for_restart, now, &mut out),
            Event::Reload => self.on_reload(now, &mut out),
            Event::Spawned { pid } => {
                self.others = true;
                if self.spawning_main {
                    self.spawning_main = false;
                    self.main_pid = Some(pid);
                    self.after_main_spawned(now, &mut out);
                } else {
                    self.control_pid = Some(pid);
                }
            }
            Event::SpawnFailed { errno } => self.on_spawn_failed(errno, now, &mut out),
            Event::SetupFailed { status } => {
                if self.spawning_main {
                    self.spawning_main = false;
                    self.on_main_exit(Termination::Exited(status), now, &mut out);
                } else {
                    self.on_control_exit(Termination::Exited(status), now, &mut out);
                }
            }
            Event::Exited { pid, termination } => {
                if Some(pid) == self.main_pid {
                    self.main_pid = None;
                    self.on_main_exit(termination, now, &mut out);
                } else if Some(pid) == self.control_pid {
                    self.control_pid = None;
                    self.on_control_exit(termination, now, &mut out);
                }
            }
            Event::Empty => {
                self.others = false;
                self.on_empty(now, &mut out);
            }
            Event::Notify { sender, notices } => self.on_notify(sender, notices, now, &mut out),
            Event::MainPid { pid, others } => self.on_main_pid(pid, others, now, &mut out),
            Event::Timer => self.on_timer(now, &mut out),
            Event::Watchdog => {
                if matches!(
                    self.state,
                    State::Running | State::Reload | State::StartPost
                ) {
                    self.enter_signal(State::StopSigterm, Outcome::Watchdog, now, &mut out);
                }
            }
        }
        out
    }

    fn set_timer(&mut self, at: Option<Instant>, out: &mut Vec<Action>) {
        if self.timer != at {
            self.timer = at;
            out.push(Action::Timer(at));
        }
    }

    fn arm(&mut self, timeout: Option<Duration>, now: Instant, out: &mut Vec<Action>) {
        // A span too large to add (`infinity` read as Duration::MAX) is no timeout.
        self.set_timer(timeout.and_then(|t| now.checked_add(t)), out);
    }

    fn fail_with(&mut self, outcome: Outcome) {
        if self.outcome == Outcome::Success {
            self.outcome = outcome;
        }
    }

    // ---- start ----

    fn on_start(&mut self, now: Instant, out: &mut Vec<Action>) {
        if !matches!(self.state, State::Dead | State::Failed | State::AutoRestart) {
            return; // already active or on its way; a stop in progress is the manager's to queue
        }
        let from_auto_restart = self.state == State::AutoRestart;
        self.start_times.push_back(now);
        while self
            .start_times
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.spec.start_limit_interval)
        {
            self.start_times.pop_front();
        }
        let starts = u32::try_from(self.start_times.len()).unwrap_or(u32::MAX);
        if self.spec.start_limit_burst > 0 && starts > self.spec.start_limit_burst {
            self.outcome = Outcome::StartLimitHit;
            self.state = State::Failed;
            self.set_timer(None, out);
            return;
        }
        if from_auto_restart {
            self.restarts += 1;
        }
        self.outcome = Outcome::Success;
        self.main_exit = None;
        self.main_pid = None;
        self.control_pid = None;
        self.main_unknown = false;
        self.stop_pid_file_wait(out);
        self.stop_requested = false;
        self.stopping_for_restart = false;
        self.condition_skipped = false;
        self.status_text = None;
        self.status_errno = None;
        self.reload_failed = false;
        self.watchdog_interval = self.spec.watchdog;
        self.run_phase(Phase::Condition, 0, now, out);
    }

    /// Run command `index` of `phase`, or move past the phase when there is none.
    fn run_phase(&mut self, phase: Phase, index: usize, now: Instant, out: &mut Vec<Action>) {
        let count = self.spec.commands.of(phase).len();
        if index >= count {
            self.control = None;
            return self.phase_done(phase, now, out);
        }
        self.state = match phase {
            Phase::Condition => State::Condition,
            Phase::StartPre => State::StartPre,
            Phase::Start => State::Start,
            Phase::StartPost => State::StartPost,
            Phase::Reload => State::Reload,
            Phase::Stop => State::Stop,
            Phase::StopPost => State::StopPost,
        };
        let timeout = match phase {
            Phase::Stop | Phase::StopPost => self.spec.timeout_stop,
            _ => self.spec.timeout_start,
        };
        if index == 0 {
            self.arm(timeout, now, out);
        }
        let main = phase == Phase::Start
            && !matches!(self.spec.kind, ServiceType::Oneshot | ServiceType::Forking);
        self.control = (!main).then_some((phase, index));
        self.spawning_main = main;
        out.push(Action::Spawn { phase, index, main });
    }

    /// Every command of `phase` succeeded (or may fail).
    fn phase_done(&mut self, phase: Phase, now: Instant, out: &mut Vec<Action>) {
        match phase {
            Phase::Condition => self.run_phase(Phase::StartPre, 0, now, out),
            Phase::StartPre => {
                if self.spec.commands.start.is_empty() {
                    // Only a oneshot may have no ExecStart= (the loader enforces it).
                    self.run_phase(Phase::StartPost, 0, now, out);
                } else {
                    self.run_phase(Phase::Start, 0, now, out);
                }
            }
            Phase::Start => match self.spec.kind {
                ServiceType::Forking => out.push(Action::FindMainPid),
                _ => self.run_phase(Phase::StartPost, 0, now, out),
            },
            // A PID file that ExecStartPost= was to write is read after it (service.c).
            Phase::StartPost
                if self.spec.has_pid_file
                    && self.main_pid.is_none()
                    && self.spec.kind == ServiceType::Forking =>
            {
                out.push(Action::FindMainPid);
            }
            Phase::StartPost => self.enter_running(now, out),
            Phase::Reload => {
                self.enter_running(now, out);
            }
            Phase::Stop => self.enter_signal(State::StopSigterm, Outcome::Success, now, out),
            Phase::StopPost => self.enter_signal(State::FinalSigterm, Outcome::Success, now, out),
        }
    }

    fn after_main_spawned(&mut self, now: Instant, out: &mut Vec<Action>) {
        match self.spec.kind {
            // Type=notify waits for READY=1 in Start.
            ServiceType::Notify | ServiceType::NotifyReload => {}
            _ => self.run_phase(Phase::StartPost, 0, now, out),
        }
    }

    fn enter_running(&mut self, now: Instant, out: &mut Vec<Action>) {
        // core/service.c service_enter_running(): a known main process, or none known and
        // the unit still has processes.
        if self.main_pid.is_some() || (self.main_unknown && self.others) {
            self.state = State::Running;
            self.arm(self.spec.runtime_max, now, out);
            let at = self.watchdog_interval.and_then(|w| now.checked_add(w));
            out.push(Action::Watchdog(at));
        } else if self.spec.remain_after_exit {
            self.state = State::Exited;
            self.set_timer(None, out);
        } else {
            self.enter_stop(Outcome::Success, now, out);
        }
    }

    // ---- process exits ----

    fn on_spawn_failed(&mut self, errno: i32, now: Instant, out: &mut Vec<Action>) {
        if self.spawning_main {
            // As if the forked child had failed to exec: 203/EXEC; with `-`, a missing
            // executable is skipped and its child exits 0 (systemd 252 exec_child()).
            self.spawning_main = false;
            let skipped = errno == libc::ENOENT && self.spec.commands.may_fail(Phase::Start, 0);
            let status = if skipped { 0 } else { EXIT_EXEC };
            self.on_main_exit(Termination::Exited(status), now, out);
            return;
        }
        let Some((phase, index)) = self.control else {
            return;
        };
        let may_fail = self.spec.commands.may_fail(phase, index);
        if may_fail && errno == libc::ENOENT {
            // systemd: "-" also skips a missing executable.
            self.run_phase(phase, index + 1, now, out);
        } else {
            self.control = None;
            self.after_control_failure(phase, Outcome::Resources, now, out);
        }
    }

    fn on_control_exit(&mut self, termination: Termination, now: Instant, out: &mut Vec<Action>) {
        let Some((phase, index)) = self.control.take() else {
            return self.check_gone(now, out);
        };
        if self.in_signal_stage() {
            // The command was still running when its stage timed out and the machine moved on
            // to signalling (core/service.c service_sigchld_event(): in the stop-sigterm,
            // final-sigterm ... states a control process's end only lets the stage end); its
            // list is not resumed, and a failure is not entered again.
            if termination != Termination::Exited(0) && !self.spec.commands.may_fail(phase, index) {
                self.fail_with(failure_of(termination));
            }
            return self.check_gone(now, out);
        }
        let may_fail = self.spec.commands.may_fail(phase, index);
        if phase == Phase::Condition {
            // ExecCondition=: 0 continue, 1..254 skip the unit, 255 or a signal fail it.
            return match termination {
                Termination::Exited(0) => self.run_phase(phase, index + 1, now, out),
                Termination::Exited(1..=254) => {
                    self.condition_skipped = true;
                    self.enter_dead(Outcome::Success, false, now, out);
                }
                other => self.after_control_failure(phase, failure_of(other), now, out),
            };
        }
        if termination == Termination::Exited(0) || may_fail {
            self.run_phase(phase, index + 1, now, out);
        } else {
            self.after_control_failure(phase, failure_of(termination), now, out);
        }
    }

    fn after_control_failure(
        &mut self,
        phase: Phase,
        outcome: Outcome,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        match phase {
            Phase::Condition | Phase::StartPre | Phase::Start => {
                self.enter_signal(State::StopSigterm, outcome, now, out);
            }
            Phase::StartPost => self.enter_stop(outcome, now, out),
            Phase::Reload => {
                self.reload_failed = true;
                self.enter_running(now, out);
            }
            Phase::Stop => self.enter_signal(State::StopSigterm, outcome, now, out),
            Phase::StopPost => self.enter_signal(State::FinalSigterm, outcome, now, out),
        }
    }

    fn on_main_exit(&mut self, termination: Termination, now: Instant, out: &mut Vec<Action>) {
        self.main_exit = Some(termination);
        let outcome = if self.is_clean(termination) {
            Outcome::Success
        } else {
            failure_of(termination)
        };
        match self.state {
            State::Start => {
                if outcome != Outcome::Success {
                    self.enter_signal(State::StopSigterm, outcome, now, out);
                } else if matches!(
                    self.spec.kind,
                    ServiceType::Notify | ServiceType::NotifyReload
                ) {
                    // Exited before READY=1.
                    self.enter_signal(State::StopSigterm, Outcome::Protocol, now, out);
                } else {
                    self.run_phase(Phase::StartPost, 0, now, out);
                }
            }
            State::Running => {
                self.fail_with(outcome);
                out.push(Action::Watchdog(None));
                self.enter_running(now, out);
            }
            // A control process is running; its end decides what happens next.
            State::StartPost | State::Reload | State::Stop | State::StopPost => {
                self.fail_with(outcome);
            }
            State::StopSigterm | State::StopSigkill | State::FinalSigterm | State::FinalSigkill => {
                self.check_gone(now, out);
            }
            _ => {}
        }
    }

    /// Whether the main process ended cleanly: exit 0, SIGHUP/SIGINT/SIGTERM/SIGPIPE, or a
    /// status listed in SuccessExitStatus=.
    fn is_clean(&self, termination: Termination) -> bool {
        match termination {
            Termination::Exited(code) => {
                code == 0
                    || u8::try_from(code).is_ok_and(|c| self.spec.success_status.codes.contains(&c))
            }
            Termination::Signaled(signo) => {
                matches!(
                    signo,
                    libc::SIGHUP | libc::SIGINT | libc::SIGTERM | libc::SIGPIPE
                ) || self.spec.success_status.signals.contains(&signo)
            }
        }
    }

    // ---- stop ----

    fn on_stop(&mut self, for_restart: bool, now: Instant, out: &mut Vec<Action>) {
        // A stop asked for is never followed by an automatic restart, whatever the service is
        // doing (core/service.c service_stop() sets forbid_restart before anything else): a
        // service already stopping on its own (its main process failed, a watchdog, a timeout)
        // would otherwise come back after the stop job and keep that job waiting for ever.
        if !matches!(self.state, State::Dead | State::Failed) {
            self.stop_requested = true;
        }
        match self.state {
            State::Dead | State::Failed => {}
            State::AutoRestart => {
                self.stop_requested = true;
                self.state = State::Dead;
                self.set_timer(None, out);
            }
            State::Condition | State::StartPre | State::Start => {
                self.stop_requested = true;
                self.stopping_for_restart = for_restart;
                self.enter_signal(State::StopSigterm, Outcome::Success, now, out);
            }
            State::StartPost | State::Running | State::Exited | State::Reload => {
                self.stop_requested = true;
                self.stopping_for_restart = for_restart;
                self.enter_stop(Outcome::Success, now, out);
            }
            _ => {} // already stopping
        }
    }

    fn enter_stop(&mut self, outcome: Outcome, now: Instant, out: &mut Vec<Action>) {
        self.fail_with(outcome);
        out.push(Action::Watchdog(None));
        self.run_phase(Phase::Stop, 0, now, out);
    }

    /// Send the stage's signal to what the kill mode covers and wait for it to go.
    fn enter_signal(
        &mut self,
        state: State,
        outcome: Outcome,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        self.fail_with(outcome);
        self.stop_pid_file_wait(out);
        out.push(Action::Watchdog(None));
        self.state = state;
        let first = matches!(state, State::StopSigterm | State::FinalSigterm);
        let signo = if !first {
            self.spec.final_kill_signal
        } else if outcome == Outcome::Watchdog {
            self.spec.watchdog_signal
        } else if self.stopping_for_restart {
            self.spec.restart_kill_signal
        } else {
            self.spec.kill_signal
        };
        let mode = self.spec.kill_mode;
        if mode != KillMode::None {
            let mut targets = vec![Target::Main, Target::Control];
            if mode == KillMode::ControlGroup || (mode == KillMode::Mixed && !first) {
                targets.push(Target::Rest);
            }
            for &target in &targets {
                out.push(Action::Signal { target, signo });
                if first && signo != libc::SIGKILL && signo != libc::SIGCONT {
                    if self.spec.send_sighup {
                        out.push(Action::Signal {
                            target,
                            signo: libc::SIGHUP,
                        });
                    }
                    out.push(Action::Signal {
                        target,
                        signo: libc::SIGCONT,
                    });
                }
            }
        }
        self.arm(self.spec.timeout_stop, now, out);
        self.check_gone(now, out);
    }

    /// Whether the machine signals and waits for processes to go (a stop or final stage).
    fn in_signal_stage(&self) -> bool {
        matches!(
            self.state,
            State::StopSigterm | State::StopSigkill | State::FinalSigterm | State::FinalSigkill
        )
    }

    /// In a signal stage: move on once nothing we wait for is left.
    fn check_gone(&mut self, now: Instant, out: &mut Vec<Action>) {
        if !self.in_signal_stage() {
            return;
        }
        // As systemd's service.c: the stop stages wait for the main and control processes
        // only (KillMode=none signals nobody, so waits for nobody), then ExecStopPost= runs;
        // the final stages wait for what they signalled. KillMode=mixed signals the rest only
        // with the final SIGKILL, so a rest that survives the final SIGTERM stage gets it.
        let mode = self.spec.kill_mode;
        let waited =
            mode != KillMode::None && (self.main_pid.is_some() || self.control_pid.is_some());
        match self.state {
            State::StopSigterm | State::StopSigkill => {
                if !waited {
                    self.enter_stop_post(now, out);
                }
            }
            _ if waited => {}
            State::FinalSigterm if self.others && mode == KillMode::Mixed => {
                self.enter_signal(State::FinalSigkill, Outcome::Success, now, out);
            }
            _ if self.others && matches!(mode, KillMode::ControlGroup | KillMode::Mixed) => {}
            _ => self.enter_dead(Outcome::Success, true, now, out),
        }
    }

    fn enter_stop_post(&mut self, now: Instant, out: &mut Vec<Action>) {
        self.run_phase(Phase::StopPost, 0, now, out);
    }

    fn enter_dead(
        &mut self,
        outcome: Outcome,
        allow_restart: bool,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        self.fail_with(outcome);
        self.main_pid = None;
        self.control_pid = None;
        self.control = None;
        self.main_unknown = false;
        self.stop_pid_file_wait(out);
        out.push(Action::Watchdog(None));
        if allow_restart && !self.stop_requested && self.should_restart() {
            self.state = State::AutoRestart;
            self.arm(Some(self.spec.restart_delay), now, out);
            return;
        }
        self.state = if self.outcome == Outcome::Success {
            State::Dead
        } else {
            State::Failed
        };
        self.set_timer(None, out);
    }

    /// The Restart= table of systemd.service(5), with RestartPreventExitStatus= and
    /// RestartForceExitStatus=.
    fn should_restart(&self) -> bool {
        let listed = |set: &ExitStatusSet| match self.main_exit {
            Some(Termination::Exited(code)) => {
                u8::try_from(code).is_ok_and(|c| set.codes.contains(&c))
            }
            Some(Termination::Signaled(signo)) => set.signals.contains(&signo),
            None => false,
        };
        if listed(&self.spec.restart_force) {
            return true;
        }
        if listed(&self.spec.restart_prevent) || self.outcome == Outcome::StartLimitHit {
            return false;
        }
        let o = self.outcome;
        match self.spec.restart {
            RestartPolicy::No => false,
            RestartPolicy::Always => true,
            RestartPolicy::OnSuccess => o == Outcome::Success,
            RestartPolicy::OnFailure => o != Outcome::Success,
            RestartPolicy::OnAbnormal => matches!(
                o,
                Outcome::Signal | Outcome::CoreDump | Outcome::Timeout | Outcome::Watchdog
            ),
            RestartPolicy::OnAbort => matches!(o, Outcome::Signal | Outcome::CoreDump),
            RestartPolicy::OnWatchdog => o == Outcome::Watchdog,
        }
    }

    // ---- reload, notifications, timers ----

    fn on_reload(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.state != State::Running && self.state != State::Exited {
            return;
        }
        self.reload_failed = false;
        if self.spec.kind == ServiceType::NotifyReload && self.spec.commands.reload.is_empty() {
            self.state = State::Reload;
            self.arm(self.spec.timeout_start, now, out);
            out.push(Action::Signal {
                target: Target::Main,
                signo: libc::SIGHUP,
            });
        } else {
            self.run_phase(Phase::Reload, 0, now, out);
        }
    }

    fn on_notify(
        &mut self,
        sender: Option<i32>,
        notices: Vec<Notice>,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let allowed = match self.spec.notify_access {
            NotifyAccess::None => false,
            NotifyAccess::All => true,
            NotifyAccess::Main => sender.is_some() && sender == self.main_pid,
            NotifyAccess::Exec => {
                sender.is_some() && (sender == self.main_pid || sender == self.control_pid)
            }
        };
        if !allowed {
            return;
        }
        for notice in notices {
            match notice {
                Notice::MainPid(pid) => {
                    if !matches!(self.state, State::Dead | State::Failed | State::AutoRestart) {
                        self.main_pid = Some(pid);
                    }
                }
                Notice::Status(text) => self.status_text = Some(text),
                Notice::Errno(errno) => self.status_errno = Some(errno),
                Notice::Ready => match self.state {
                    State::Start
                        if matches!(
                            self.spec.kind,
                            ServiceType::Notify | ServiceType::NotifyReload
                        ) =>
                    {
                        self.run_phase(Phase::StartPost, 0, now, out);
                    }
                    State::Reload if self.control.is_none() => self.enter_running(now, out),
                    _ => {}
                },
                Notice::Reloading => {
                    if self.state == State::Running {
                        self.state = State::Reload;
                        self.arm(self.spec.timeout_start, now, out);
                    }
                }
                Notice::Stopping => {
                    if matches!(self.state, State::Running | State::Reload) {
                        // The service stops on its own: wait for it without signalling.
                        self.state = State::StopSigterm;
                        out.push(Action::Watchdog(None));
                        self.arm(self.spec.timeout_stop, now, out);
                    }
                }
                Notice::Watchdog => {
                    if let Some(interval) = self.watchdog_interval
                        && self.state == State::Running
                    {
                        out.push(Action::Watchdog(now.checked_add(interval)));
                    }
                }
                Notice::WatchdogTrigger => {
                    if matches!(self.state, State::Running | State::Reload) {
                        self.enter_signal(State::StopSigterm, Outcome::Watchdog, now, out);
                    }
                }
                Notice::WatchdogTimeout(interval) => {
                    self.watchdog_interval = (!interval.is_zero()).then_some(interval);
                    if self.state == State::Running {
                        out.push(Action::Watchdog(
                            self.watchdog_interval.and_then(|w| now.checked_add(w)),
                        ));
                    }
                }
                Notice::ExtendTimeout(extra) => {
                    if let Some(at) = self.timer
                        && now.checked_add(extra).is_some_and(|t| t > at)
                        && !matches!(self.state, State::Running | State::AutoRestart)
                    {
                        self.set_timer(now.checked_add(extra), out);
                    }
                }
                Notice::ExitStatus(_) | Notice::Ignored(_) | Notice::Invalid { .. } => {}
            }
        }
    }
}

fn failure_of(termination: Termination) -> Outcome {
    match termination {
        Termination::Exited(_) => Outcome::ExitCode,
        Termination::Signaled(_) => Outcome::Signal,
    }
}

mod forking;
mod timeouts;

pub use forking::PID_FILE_REREAD;

#[cfg(test)]
mod tests;
