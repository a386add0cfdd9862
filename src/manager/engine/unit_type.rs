//! What the engine asks of every unit type, as systemd's unit vtable (src/core/unit.h
//! UnitVTable): start and stop (a job's work), a process of the unit ended, the next deadline,
//! the state, the snapshot. Each type implements it in its own module (service, socket, timer,
//! target) and owns its arms; the engine dispatches and must not know a type's insides.
//! Also [`Inert`], the unit that cannot run. Owns no state of its own.

use std::time::Instant;

use super::query::UnitSnapshot;
use super::{Engine, Note};
use crate::manager::jobs::JobResult;
use crate::service::procs;
use crate::service::state::Active;
use crate::vocab::termination::Termination;

/// One unit type. `start`, `stop` and `on_exit` act on the engine (a unit's job touches the
/// queue, notes and other units), so they take it and the unit's name rather than `self`.
pub(super) trait UnitType {
    /// The active state, as systemctl names it.
    fn active(&self) -> Active;

    /// The earliest instant it waits for (a service's timeout or watchdog, a timer's elapse).
    fn next_deadline(&self) -> Option<Instant> {
        None
    }

    /// Whether it is at rest, so that a daemon-reload may replace it with its new load state
    /// (masked, not found, another type); one that runs stays as it is, as in systemd.
    fn at_rest(&self) -> bool {
        self.active() == Active::Inactive
    }

    /// Whether it lets shutdown go on (a service whose processes are all gone).
    fn stopped(&self) -> bool {
        true
    }

    /// `systemctl reset-failed`: a failed unit goes back to inactive and forgets its result
    /// (core/unit.c unit_reset_failed(), the type's reset_failed). Types that cannot fail
    /// have nothing to forget.
    fn reset_failed(&mut self) {}

    /// What this type knows of unit `snap.name`, added to its snapshot; `table` is the process
    /// table of this round, read once for all the units asked about.
    fn snapshot(
        &self,
        engine: &Engine,
        snap: &mut UnitSnapshot,
        table: Option<&mut Option<procs::Table>>,
    );

    /// Run a start job of `unit`.
    fn start(engine: &mut Engine, unit: &str, now: Instant)
    where
        Self: Sized;

    /// Run a stop job of `unit`.
    fn stop(engine: &mut Engine, unit: &str, now: Instant)
    where
        Self: Sized;

    /// Process `pid` of `unit` ended (only services own processes).
    fn on_exit(engine: &mut Engine, unit: &str, pid: i32, termination: Termination, now: Instant)
    where
        Self: Sized,
    {
        let _ = (engine, unit, pid, termination, now);
    }
}

/// `active` when up, else `inactive`: the state of a unit that runs nothing (a target, a
/// slice, one bosun provides).
pub(super) fn active_if(up: bool) -> Active {
    if up { Active::Active } else { Active::Inactive }
}

/// A unit that cannot run: load errors, masked, not found, or a type bosun does not run yet.
/// A start fails with the reason; a stop is done.
#[derive(Debug)]
pub(super) struct Inert {
    pub(super) reason: String,
}

impl Inert {
    pub(super) fn new(reason: String) -> Inert {
        Inert { reason }
    }
}

impl UnitType for Inert {
    fn active(&self) -> Active {
        Active::Inactive
    }

    fn snapshot(&self, _: &Engine, snap: &mut UnitSnapshot, _: Option<&mut Option<procs::Table>>) {
        if snap.load_error.is_none() {
            snap.load_error = Some(self.reason.clone());
        }
    }

    fn start(engine: &mut Engine, unit: &str, _: Instant) {
        if let Some(super::UnitRun::Inert(inert)) = engine.runtime.get(unit) {
            engine.notes.push(Note::Error(inert.reason.clone()));
        }
        engine.finish_job(unit, JobResult::Failed);
    }

    fn stop(engine: &mut Engine, unit: &str, _: Instant) {
        engine.finish_job(unit, JobResult::Done);
    }
}
