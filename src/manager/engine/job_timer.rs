//! Job timeouts, as systemd 252's core/job.c job_start_timer() and job_dispatch_timer():
//! `JobTimeoutSec=` counts from when a job was queued, `JobRunningTimeoutSec=` (by default
//! `JobTimeoutSec=`'s value) from when it began to run, whichever ends first; 0 and
//! `infinity` mean none, the default. A job that times out ends with result `timeout` (a start
//! fails the jobs that require it, as any failed start does), its unit goes on with whatever
//! it was doing, and the unit's `JobTimeoutAction=` is handed to PID 1 ([`Engine::take_actions`]).
//! During shutdown a stop job has one more bound, the one that makes shutdown end (see
//! `shutdown.rs`). Must not act on processes itself (giving up on a unit is `shutdown.rs`'s).

use std::time::{Duration, Instant};

use super::{Engine, Note};
use crate::manager::jobs::{JobResult, JobTimes};
use crate::manager::transaction::JobKind;
use crate::manager::units::Entry;
use crate::unit::value::Timespan;
use crate::vocab::emergency::EmergencyAction;

/// A unit's `JobTimeoutAction=` that a timed-out job calls for, for PID 1 to carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitAction {
    pub unit: String,
    pub action: EmergencyAction,
    /// `JobTimeoutRebootArgument=`: what systemd would hand reboot(2); said, not used.
    pub reboot_argument: Option<String>,
}

impl Engine {
    /// `unit`'s JobTimeoutSec= and its running timeout (JobRunningTimeoutSec=, else
    /// JobTimeoutSec=: systemd's parser sets both unless the running one is given).
    fn job_limits(&self, unit: &str) -> (Option<Duration>, Option<Duration>) {
        let Some(Entry::Loaded(loaded)) = self.units.get(unit) else {
            return (None, None);
        };
        let u = &loaded.unit.unit;
        (
            u.job_timeout.and_then(Timespan::as_timeout),
            u.job_running_timeout
                .or(u.job_timeout)
                .and_then(Timespan::as_timeout),
        )
    }

    /// When `unit`'s job, queued and run at `times`, times out by its unit's settings.
    fn job_deadline(&self, unit: &str, times: &JobTimes) -> Option<Instant> {
        let (timeout, running) = self.job_limits(unit);
        let queued = timeout.and_then(|t| times.since.checked_add(t));
        let ran = running
            .zip(times.running_since)
            .and_then(|(t, since)| since.checked_add(t));
        queued.into_iter().chain(ran).min()
    }

    /// The earliest instant a job times out (its unit's timeouts or shutdown's bound).
    pub(super) fn next_job_deadline(&self) -> Option<Instant> {
        self.jobs
            .times()
            .filter_map(|(unit, times)| {
                let own = self.job_deadline(unit, &times);
                own.into_iter()
                    .chain(self.give_up_deadline(unit, &times))
                    .min()
            })
            .min()
    }

    /// Time out every job due at `now`: by its unit's settings (result `timeout`, then the
    /// unit's JobTimeoutAction=), or, during shutdown, by the bound of its unit's stop.
    pub(super) fn fire_job_timers(&mut self, now: Instant) {
        let due: Vec<(String, JobTimes, bool)> = self
            .jobs
            .times()
            .filter_map(|(unit, times)| {
                let own = self.job_deadline(unit, &times).is_some_and(|d| d <= now);
                let bound = self
                    .give_up_deadline(unit, &times)
                    .is_some_and(|d| d <= now);
                (own || bound).then(|| (unit.to_owned(), times, own))
            })
            .collect();
        for (unit, times, own) in due {
            if own {
                self.time_out_job(&unit, times.kind);
            }
            if times.kind == JobKind::Stop && self.shutting_down() {
                self.give_up(&unit, times.running_since, now);
            }
        }
    }

    /// core/job.c job_dispatch_timer(): the job ends with `timeout`, said as systemd says it,
    /// and the unit's JobTimeoutAction= is handed on.
    fn time_out_job(&mut self, unit: &str, kind: JobKind) {
        self.notes.push(Note::Warning(format!(
            "{unit}: Job {unit}/{} timed out.",
            kind.name()
        )));
        let doing = match kind {
            JobKind::Start => "starting",
            JobKind::Stop => "stopping",
        };
        self.notes.push(Note::Error(format!(
            "Timed out {doing} {}.",
            self.describe(unit)
        )));
        self.finish_job(unit, JobResult::Timeout);
        let Some(Entry::Loaded(loaded)) = self.units.get(unit) else {
            return;
        };
        let u = &loaded.unit.unit;
        if u.job_timeout_action != EmergencyAction::None {
            self.actions.push(UnitAction {
                unit: unit.to_owned(),
                action: u.job_timeout_action,
                reboot_argument: u.job_timeout_reboot_argument.clone(),
            });
        }
    }

    /// The JobTimeoutAction= calls since the last call, for PID 1 to carry out.
    pub fn take_actions(&mut self) -> Vec<UnitAction> {
        std::mem::take(&mut self.actions)
    }
}
