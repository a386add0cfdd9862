//! Stopping every unit at shutdown, in a way that always ends (issue 18). [`Engine::stop_all`]
//! queues the stops as one transaction (systemd's shutdown transaction), so every After=/Before=
//! orders them, reversed. From then on:
//!
//! - nothing starts: a start request is refused as destructive, a socket's activity, a timer's
//!   elapse and an automatic restart are suppressed while a stop is pending
//!   ([`Engine::stop_pending`]), as systemd suppresses them (`unit_stop_pending()`);
//! - every running stop job has a bound, its unit's longest possible stop
//!   ([`crate::service::spec::Spec::stop_bound`]) plus [`GIVE_UP_GRACE`]; past it the engine gives up
//!   on the unit: it says which unit and in which state, SIGKILLs what is left of it, ends the
//!   job with `timeout` and counts the unit as stopped, so the jobs ordered after it run;
//! - a queue whose jobs all wait on each other (an ordering cycle across transactions) is
//!   unblocked, and said;
//! - a unit found up (or on its way up) with no job, its stop having ended without bringing it
//!   down, is stopped again, once; the second time it is given up on.
//!
//! So shutdown's units are down within the longest chain of ordered stops' bounds; PID 1 then
//! ends what is left (the final grace). Must not decide when shutdown begins (PID 1 does).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::{Engine, Note, UnitRun};
use crate::manager::jobs::{JobResult, JobTimes};
use crate::manager::transaction::{JobKind, build_shutdown};
use crate::service::state::{Active, Target};
use crate::vocab::time::humanize;

/// How long past its unit's longest possible stop a stop job is given before the engine gives
/// up on the unit: the unit's own timers end each stage first.
pub const GIVE_UP_GRACE: Duration = Duration::from_secs(1);

/// The engine's shutdown: the units given up on, and those stopped a second time.
#[derive(Debug, Default)]
pub(super) struct Shutdown {
    given_up: BTreeSet<String>,
    stopped_again: BTreeSet<String>,
}

impl Engine {
    /// Stop every unit that is not inactive, in reverse dependency order (shutdown). The stop
    /// jobs are one transaction, queued first and dispatched once, against one reading of the
    /// process table: stopping N units costs one pass, not N (shutdown within the timeout).
    pub fn stop_all(&mut self, now: Instant) {
        self.table = None;
        self.shutdown.get_or_insert_with(Shutdown::default);
        self.jobs.cancel_waiting();
        let names: Vec<String> = self
            .runtime
            .keys()
            .filter(|name| self.active_state(name) != Active::Inactive)
            .cloned()
            .collect();
        let tx = build_shutdown(&self.graph, &names);
        for note in &tx.notes {
            self.notes.push(Note::Warning(note.clone()));
        }
        for canceled in self.jobs.add(tx) {
            self.notes
                .push(Note::Info(format!("Job for {canceled} canceled.")));
        }
        self.dispatch(now);
    }

    /// Whether the engine is stopping every unit.
    pub fn shutting_down(&self) -> bool {
        self.shutdown.is_some()
    }

    /// Whether `unit` is to go down (systemd's unit_stop_pending()): a stop job of its own, or
    /// shutdown. Triggers (sockets, timers, paths) and automatic restarts hold back then.
    pub(super) fn stop_pending(&self, unit: &str) -> bool {
        self.shutting_down()
            || self
                .jobs
                .job(unit)
                .is_some_and(|(kind, _)| kind == JobKind::Stop)
    }

    /// Whether shutdown gave up on `unit` (it counts as stopped).
    pub(super) fn given_up(&self, unit: &str) -> bool {
        self.shutdown
            .as_ref()
            .is_some_and(|s| s.given_up.contains(unit))
    }

    /// The longest `unit`'s stop may take: its stages' timeouts for a service, nothing for a
    /// unit that stops at once. None: no bound (TimeoutStopSec=infinity) but the shutdown's.
    fn longest_stop(&self, unit: &str) -> Option<Duration> {
        match self.runtime.get(unit) {
            Some(UnitRun::Service(run)) => run.svc.spec().stop_bound(),
            _ => Some(Duration::ZERO),
        }
    }

    /// During shutdown, when the engine gives up on `unit`'s running stop job.
    pub(super) fn give_up_deadline(&self, unit: &str, times: &JobTimes) -> Option<Instant> {
        if !self.shutting_down() || times.kind != JobKind::Stop {
            return None;
        }
        let bound = self.longest_stop(unit)?.checked_add(GIVE_UP_GRACE)?;
        times.running_since?.checked_add(bound)
    }

    /// Shutdown gives up on `unit`: said with its state, what is left of it is SIGKILLed, its
    /// stop job ends with `timeout`, and it counts as stopped from now on.
    /// `since`: when its stop job began to run.
    pub(super) fn give_up(&mut self, unit: &str, since: Option<Instant>, now: Instant) {
        let Some(shutdown) = self.shutdown.as_mut() else {
            return;
        };
        if !shutdown.given_up.insert(unit.to_owned()) {
            return;
        }
        let waited = since.map_or_else(String::new, |since| {
            format!(" after {}", humanize(now.saturating_duration_since(since)))
        });
        let state = match self.runtime.get(unit) {
            Some(UnitRun::Service(run)) => run.svc.state().name(),
            Some(rt) => rt.unit().active().name(),
            None => "gone",
        };
        self.notes.push(Note::Error(format!(
            "{unit}: shutdown gave up waiting for its stop{waited} (state {state}); killing \
             what is left of it and going on"
        )));
        self.table = None;
        for target in [Target::Main, Target::Control, Target::Rest] {
            self.signal(unit, target, libc::SIGKILL);
        }
        if self.jobs.job(unit).is_some() {
            self.finish_job(unit, JobResult::Timeout);
        }
    }

    /// During shutdown, when no job may run: a stall is broken (see below), and a unit that is
    /// not down and has no job (its stop ended, yet it came back: a bug, or one of the ways
    /// issue 18 found) gets a stop job again, once; the second time it is given up on. True
    /// when there may be jobs to run now.
    pub(super) fn unstall(&mut self, now: Instant) -> bool {
        if !self.shutting_down() {
            return false;
        }
        if self.unblock() {
            return true;
        }
        let up: Vec<String> = self
            .runtime
            .iter()
            .filter(|(name, rt)| {
                !rt.unit().stopped() && !self.given_up(name) && self.jobs.job(name).is_none()
            })
            .map(|(name, _)| name.clone())
            .collect();
        let mut queued = false;
        for unit in up {
            let again = self
                .shutdown
                .as_mut()
                .is_some_and(|s| s.stopped_again.insert(unit.clone()));
            if !again || !self.graph.contains(&unit) {
                self.give_up(&unit, None, now);
                continue;
            }
            let state = self.active_state(&unit).name();
            self.notes.push(Note::Warning(format!(
                "{unit}: {state} again during shutdown; stopping it again"
            )));
            let tx = build_shutdown(&self.graph, std::slice::from_ref(&unit));
            self.jobs.add(tx);
            queued = true;
        }
        queued
    }

    /// When every queued job waits on another and none runs, drop the order (said) so that
    /// they run; true when it did.
    fn unblock(&mut self) -> bool {
        if !self.jobs.stalled() {
            return false;
        }
        let edges: Vec<String> = self
            .jobs
            .drop_order()
            .into_iter()
            .map(|(a, b)| format!("{b} after {a}"))
            .collect();
        self.notes.push(Note::Error(format!(
            "shutdown: the stop jobs wait on each other ({}); running them without that order",
            edges.join(", ")
        )));
        true
    }
}
