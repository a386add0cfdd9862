//! How PID 1 ends when it is not a plain SIGTERM: systemd's own stop signals (halt, poweroff,
//! reboot, and their immediate variants), a unit's `JobTimeoutAction=` (mapped the same way),
//! its own bugs (a panic in the loop or in a task: an
//! ordered shutdown and exit 70; a second one: straight to the final sweep), and the global
//! shutdown deadline after which whatever still holds the shutdown is killed and named.
//! Also the final sweep: which processes remain, and SIGKILL for them. Must not stop units
//! itself (the engine does, through [`Supervisor::begin_shutdown`]).

use tokio::time::Instant;

use super::{KILL_GRACE, Stop, Supervisor, reaper};
use crate::manager::engine::UnitAction;
use crate::service::procs;
use crate::service::status::Active;
use crate::task::{Task, TaskPanic};
use crate::vocab::exit::Exit;
use crate::vocab::signal::SIGRTMIN;
use crate::vocab::time::humanize;

/// How often the control server is started again after a panic before bosun gives up and
/// shuts down as for any other internal error.
const CONTROL_RESTARTS: u32 = 3;

/// What a systemd stop signal asks for (systemd's manager_dispatch_signal_fd()).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// SIGRTMIN+3, +4, +5 (halt.target, poweroff.target, reboot.target): the units stop in
    /// order, as on SIGTERM (the main command gets the signal forwarded, as it gets SIGTERM);
    /// in a container each ends it with code 0 (systemd-shutdown exits when it may not
    /// reboot), whatever the main command's code.
    Ordered(&'static str),
    /// SIGRTMIN+13, +14, +15: no unit is stopped; every process gets SIGTERM, then SIGKILL.
    Immediate(&'static str),
}

impl Objective {
    /// The objective signal `signo` asks for, if any.
    pub fn of_signal(signo: i32) -> Option<Objective> {
        Some(match signo.checked_sub(SIGRTMIN)? {
            3 => Objective::Ordered("halt"),
            4 => Objective::Ordered("poweroff"),
            5 => Objective::Ordered("reboot"),
            13 => Objective::Immediate("halt"),
            14 => Objective::Immediate("poweroff"),
            15 => Objective::Immediate("reboot"),
            _ => return None,
        })
    }

    /// What an emergency action (`JobTimeoutAction=`) asks for in a container, if anything:
    /// reboot, poweroff, halt, kexec and exit stop the units in order; their `-force` and
    /// `-immediate` variants stop none.
    pub fn of_action(action: crate::vocab::emergency::EmergencyAction) -> Option<Objective> {
        use crate::vocab::emergency::Ending;
        Some(match action.ending()? {
            Ending::Ordered => Objective::Ordered(action.verb()),
            Ending::Immediate => Objective::Immediate(action.verb()),
        })
    }
}

impl Supervisor<'_> {
    /// Run a handler of the loop; a panic in it is said and begins the shutdown.
    pub(super) fn guarded(&mut self, what: &str, handler: impl FnOnce(&mut Self)) {
        if crate::task::guard(|| handler(self)).is_err() {
            self.on_panic(what);
        }
    }

    /// An internal error: the first begins the ordered shutdown, one during it (or one the
    /// ordered shutdown cannot begin after) goes straight to the final sweep. Either way bosun
    /// exits 70.
    pub(super) fn on_panic(&mut self, what: &str) {
        self.panics += 1;
        if self.panics == 1 && !self.abandoned {
            crate::log::error(format_args!(
                "internal error in {what}: stopping the units in order, then exiting with code {}",
                Exit::Software.code()
            ));
            if self.stop.is_some() {
                // The final sweep is on already; it ends everything.
                return;
            }
            let now = Instant::now().into_std();
            if crate::task::guard(|| self.begin_shutdown(now)).is_ok() {
                self.terminate_main();
                return;
            }
            self.panics += 1;
        }
        if !self.abandoned {
            crate::log::error(format_args!(
                "another internal error ({what}) while shutting down: the units are abandoned; \
                 ending every process now (SIGTERM, then SIGKILL)"
            ));
        }
        self.abandon();
    }

    /// Leave the units and hooks as they are and end every process (the main command too).
    fn abandon(&mut self) {
        self.abandoned = true;
        self.shutting_down = true;
        if self.stop.is_none() {
            self.begin_stop(&[]);
            if !reaper::children_exist() {
                self.done = true;
            }
        }
    }

    /// A task ended with a panic: the control server is started again (a few times), any
    /// other task's loss shuts down as a panic in the loop does.
    pub(super) fn on_task_panic(&mut self, report: TaskPanic) {
        if report.task == Task::ControlServer
            && self.control_restarts < CONTROL_RESTARTS
            && !self.done
        {
            self.control_restarts += 1;
            crate::log::error(format_args!(
                "internal error in the control server: starting it again ({} of {CONTROL_RESTARTS})",
                self.control_restarts
            ));
            if let Some(path) = self
                .options
                .units
                .as_ref()
                .map(|u| crate::control::socket_path(&u.root))
            {
                self.serve_control(&path);
            }
            return;
        }
        if let Task::OutputReader { unit } = &report.task {
            crate::log::error(format_args!(
                "the output of {unit} is no longer read after an internal error"
            ));
        }
        self.on_panic(&report.task.to_string());
    }

    /// Bind the control socket at `path` and serve it in a watched task.
    pub(super) fn serve_control(&mut self, path: &std::path::Path) {
        match crate::control::server::bind(path) {
            Ok(listener) => {
                self.control = crate::control::server::Bound::of(path);
                crate::task::spawn(
                    Task::ControlServer,
                    crate::control::server::serve(listener, self.control_calls.clone()),
                );
            }
            Err(e) => crate::log::warn(format_args!(
                "no control socket at {}: {e}; systemctl will not reach this bosun",
                path.display()
            )),
        }
    }

    /// systemd's halt, poweroff and reboot signals.
    pub(super) fn on_objective(&mut self, objective: Objective, signo: i32) {
        let name = crate::vocab::signal::name(signo);
        let why = match objective {
            Objective::Ordered(what) => format!("received {name} ({what})"),
            Objective::Immediate(what) => format!("received {name} (immediate {what})"),
        };
        self.pursue(objective, &why);
    }

    /// The JobTimeoutAction= of units whose jobs timed out, as systemd's emergency_action()
    /// carries it out in a container.
    pub(super) fn run_unit_actions(&mut self) {
        let Some(svc) = self.units_mut() else {
            return;
        };
        for UnitAction {
            unit,
            action,
            reboot_argument,
        } in svc.engine.take_actions()
        {
            let Some(objective) = Objective::of_action(action) else {
                continue;
            };
            let argument = reboot_argument
                .map(|a| format!(", JobTimeoutRebootArgument={a} unused in a container"))
                .unwrap_or_default();
            let why = format!(
                "{unit}: job timed out: JobTimeoutAction={}{argument}",
                action.name()
            );
            crate::log::notice(format_args!("{why}"));
            self.pursue(objective, &why);
            // No signal reached the main command this time: it hears SIGTERM as for
            // `systemctl exit`.
            self.terminate_main();
        }
    }

    /// End as `objective` asks, saying `why`: an ordered shutdown (once) or an immediate one.
    fn pursue(&mut self, objective: Objective, why: &str) {
        match objective {
            Objective::Ordered(_) => {
                if self.shutting_down {
                    return;
                }
                crate::log::info(format_args!("{why}: stopping"));
                // The main command got the signal itself, as it gets SIGTERM.
                self.requested_exit = Some(0);
                self.begin_shutdown(Instant::now().into_std());
            }
            Objective::Immediate(_) => {
                if self.abandoned {
                    return;
                }
                crate::log::notice(format_args!(
                    "{why}: ending every process now, without stopping the units"
                ));
                self.requested_exit.get_or_insert(0);
                self.interrupt_boot();
                self.abandon();
            }
        }
    }

    /// `systemctl exit CODE` (poweroff, halt, reboot: 0): stop as on SIGTERM and exit with
    /// `code`. The main command hears SIGTERM too (it is spared the final sweep, which would
    /// otherwise SIGKILL it at the timeout).
    pub(super) fn exit_requested(&mut self, code: u8) {
        self.requested_exit = Some(code);
        self.begin_shutdown(Instant::now().into_std());
        self.terminate_main();
    }

    /// Send SIGTERM to the main command (its group with `-g`), as SIGTERM to bosun would be
    /// forwarded: a shutdown that bosun decides on ends it too.
    fn terminate_main(&self) {
        if let Some(target) = self.forward_target().filter(|_| self.main_alive())
            && let Err(err) = crate::sys::send_signal(target, libc::SIGTERM)
            && err.raw_os_error() != Some(libc::ESRCH)
        {
            crate::log::warn(format_args!(
                "cannot send SIGTERM to the main command: {err}"
            ));
        }
    }

    /// The exit code, once everything is gone.
    pub(super) fn exit(&self) -> Exit {
        if self.panics > 0 {
            return Exit::Software;
        }
        // The main command's code (a failed first-boot or upgrade hook's; boot mode: success).
        let exit = self
            .requested_exit
            .map(Exit::Code)
            .or(self.main_exit)
            .or(self
                .boot
                .as_ref()
                .and_then(crate::boot::hook_runner::VolumeHooks::failure));
        exit.unwrap_or(if self.options.command.is_empty() {
            Exit::Success
        } else {
            Exit::Failure
        })
    }

    /// Start counting the shutdown's time, once.
    pub(super) fn arm_shutdown_deadline(&mut self) {
        if self.shutdown_deadline.is_none() {
            // `infinity` (or a span too large to add): no deadline.
            self.shutdown_deadline = Instant::now().checked_add(self.options.shutdown_timeout);
        }
    }

    /// The shutdown took longer than BOSUN_SHUTDOWN_TIMEOUT: say what held it, then SIGKILL
    /// everything and exit once it is reaped (or the kill grace is over).
    pub(super) fn on_shutdown_deadline(&mut self) {
        self.shutdown_deadline = None;
        if self.done || self.stop.is_some_and(|s| s.killed) {
            return;
        }
        crate::log::error(format_args!(
            "shutdown still not done after {} (BOSUN_SHUTDOWN_TIMEOUT): held by {}; killing \
             every remaining process",
            humanize(self.options.shutdown_timeout),
            self.holders()
        ));
        self.stop = Some(Stop {
            deadline: Instant::now() + KILL_GRACE,
            killed: true,
        });
        self.kill_remaining();
        if !reaper::children_exist() {
            self.done = true;
        }
    }

    /// What the shutdown waits for, in words: the units not stopped yet, the shutdown hook
    /// running, or the processes left.
    fn holders(&self) -> String {
        let mut held = Vec::new();
        if let Some(svc) = self.services.as_ref().filter(|_| !self.abandoned) {
            // The units stopping now hold it; the others wait for them (ordering). Without any
            // stopping, whatever still has a job or is not down.
            let all = svc.engine.kept_units();
            let state = |u: &String| svc.engine.active_state(u);
            let mut units: Vec<String> = all
                .iter()
                .filter(|u| state(u) == Active::Deactivating)
                .cloned()
                .collect();
            if units.is_empty() {
                units = all
                    .into_iter()
                    .filter(|u| {
                        svc.engine.job_of(u).is_some()
                            || !matches!(state(u), Active::Inactive | Active::Failed)
                    })
                    .collect();
            }
            if !units.is_empty() {
                held.push(format!("unit(s) {}", units.join(" ")));
            }
        }
        if let Some(hook) = self
            .boot
            .as_ref()
            .and_then(crate::boot::hook_runner::VolumeHooks::running_hook)
        {
            held.push(format!("the hook {hook}"));
        }
        let left: Vec<String> = self
            .remaining(&[])
            .iter()
            .map(|e| {
                let comm = std::fs::read_to_string(format!("/proc/{}/comm", e.pid));
                format!("{} ({})", e.pid, comm.unwrap_or_default().trim())
            })
            .collect();
        if !left.is_empty() {
            held.push(format!("process(es) {}", left.join(", ")));
        }
        if held.is_empty() {
            "nothing that is still running".to_owned()
        } else {
            held.join("; ")
        }
    }

    /// When the loop must wake up next: the final sweep's, the shutdown's, a unit's, a
    /// hook's or a generator's deadline.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let managed = !self.abandoned;
        [
            self.stop.map(|stop| stop.deadline),
            self.shutdown_deadline,
            self.services
                .as_ref()
                .filter(|_| managed)
                .and_then(|s| s.engine.next_deadline())
                .map(Instant::from_std),
            self.boot
                .as_ref()
                .filter(|_| managed)
                .and_then(crate::boot::hook_runner::VolumeHooks::next_deadline)
                .map(Instant::from_std),
            self.generating
                .as_ref()
                .filter(|_| managed)
                .and_then(crate::boot::generator_runner::Run::next_deadline)
                .map(Instant::from_std),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// The final sweep: which processes remain, and SIGKILL for all of them.
impl Supervisor<'_> {
    /// Processes that remain: everything in our PID namespace when we are PID 1, our
    /// descendants otherwise. Zombies are not counted (they are ours to reap, not to signal).
    pub(super) fn remaining(&self, exclude: &[i32]) -> Vec<procs::ProcEntry> {
        let table = procs::snapshot();
        let candidates = if self.is_pid1 {
            table
                .into_iter()
                .filter(|e| e.pid != self.self_pid)
                .collect()
        } else {
            procs::descendants(&table, self.self_pid)
        };
        let excluded = |e: &procs::ProcEntry| {
            exclude.contains(&e.pid)
                || (self.options.kill_process_group && exclude.contains(&e.pgrp))
        };
        candidates
            .into_iter()
            .filter(|e| e.state != b'Z' && !excluded(e))
            .collect()
    }

    /// SIGKILL every remaining process.
    pub(super) fn kill_remaining(&self) {
        if self.is_pid1 {
            // kill(-1) from a namespace's init reaches every other process in it atomically,
            // including any forked since we last looked.
            let _ = crate::sys::send_signal(-1, libc::SIGKILL);
            return;
        }
        for entry in self.remaining(&[]) {
            let _ = crate::sys::send_signal(entry.pid, libc::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemd_stop_signals_count_from_34() {
        assert_eq!(Objective::of_signal(37), Some(Objective::Ordered("halt")));
        assert_eq!(
            Objective::of_signal(38),
            Some(Objective::Ordered("poweroff"))
        );
        assert_eq!(Objective::of_signal(39), Some(Objective::Ordered("reboot")));
        assert_eq!(Objective::of_signal(47), Some(Objective::Immediate("halt")));
        assert_eq!(
            Objective::of_signal(49),
            Some(Objective::Immediate("reboot"))
        );
        // SIGRTMIN+0 (default.target) and +6 (kexec) are not stop signals here; SIGTERM
        // (15) is handled elsewhere.
        for signo in [15, 34, 40, 46, 50, 64] {
            assert_eq!(Objective::of_signal(signo), None, "{signo}");
        }
    }
}
