//! A Type=forking service's main process, found after its parent exits (core/service.c
//! service_sigchld_event() and service_enter_running()): PIDFile= read, read after
//! ExecStartPost=, or waited for until the start timeout; none to name, the unit runs while it
//! has processes. Pure, as the rest of the machine: the driver reads the file and /proc.

use std::time::{Duration, Instant};

use super::{Action, Outcome, Phase, Service, State};

/// How often a PIDFile= not yet written is read again (systemd watches it with inotify; a
/// short re-read is the same to the daemon, and to TimeoutStartSec=).
pub const PID_FILE_REREAD: Duration = Duration::from_millis(100);

impl Service {
    /// Whether the driver must tell the machine when the unit has no process left
    /// ([`super::Event::Empty`]): in a stop stage, while waiting for PIDFile=, or running without a
    /// known main process.
    pub fn waits_for_empty(&self) -> bool {
        self.in_signal_stage()
            || self.awaiting_pid_file
            || (self.main_unknown && self.state == State::Running)
    }
    /// Whether PIDFile= is still awaited (its re-reading is due).
    pub fn awaiting_pid_file(&self) -> bool {
        self.awaiting_pid_file
    }

    pub(super) fn on_main_pid(
        &mut self,
        pid: Option<i32>,
        others: bool,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        if !matches!(self.state, State::Start | State::StartPost) || self.control.is_some() {
            return;
        }
        self.others = others;
        // After Start, ExecStartPost= comes next; after it, running.
        let in_start = self.state == State::Start;
        let next = |me: &mut Self, out: &mut Vec<Action>| {
            if in_start {
                me.run_phase(Phase::StartPost, 0, now, out);
            } else {
                me.enter_running(now, out);
            }
        };
        match pid {
            Some(pid) => {
                self.stop_pid_file_wait(out);
                self.main_pid = Some(pid);
                next(self, out);
            }
            // The PID file may be ExecStartPost='s to write: read again after it.
            None if self.spec.has_pid_file
                && in_start
                && !self.spec.commands.of(Phase::StartPost).is_empty() =>
            {
                self.run_phase(Phase::StartPost, 0, now, out);
            }
            // systemd 252 service_sigchld_event(), Type=forking: a PID file not there yet is
            // waited for (until the start timeout) while the unit has processes that may
            // still write it; with none left, "Daemon never wrote its PID file".
            None if self.spec.has_pid_file && others => {
                self.awaiting_pid_file = true;
                out.push(Action::RereadPidFile(now.checked_add(PID_FILE_REREAD)));
            }
            None if self.spec.has_pid_file => {
                self.stop_pid_file_wait(out);
                self.enter_signal(State::StopSigterm, Outcome::Protocol, now, out);
            }
            // Forking without PIDFile= and no single process to guess: supervise without a
            // main process, as systemd does: running while the unit has processes.
            None => {
                self.main_unknown = true;
                next(self, out);
            }
        }
    }

    pub(super) fn stop_pid_file_wait(&mut self, out: &mut Vec<Action>) {
        if self.awaiting_pid_file {
            self.awaiting_pid_file = false;
            out.push(Action::RereadPidFile(None));
        }
    }

    /// The unit has no process left (besides main and control).
    pub(super) fn on_empty(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.awaiting_pid_file && matches!(self.state, State::Start | State::StartPost) {
            self.stop_pid_file_wait(out);
            return self.enter_signal(State::StopSigterm, Outcome::Protocol, now, out);
        }
        if self.state == State::Running && self.main_unknown && self.main_pid.is_none() {
            // core/service.c service_notify_cgroup_empty_event(): running decides again.
            return self.enter_running(now, out);
        }
        self.check_gone(now, out);
    }
}
