//! Slice units (systemd.slice(5), after systemd 252's core/slice.c), without resource control:
//! a start makes a slice active ("Created slice"), a stop inactive; `-.slice` and
//! `system.slice` are active from the start and stay so (perpetual). Owns only that flag: which
//! slice a unit runs in is not enforced (Slice= is one of the cgroup directives bosun ignores).

use std::time::Instant;

use super::query::UnitSnapshot;
use super::unit_type::{UnitType, active_if};
use super::{Engine, Note, UnitRun};
use crate::manager::jobs::JobResult;
use crate::manager::tracked::is_perpetual_slice;
use crate::service::procs;
use crate::service::state::Active;

/// A slice at run time.
#[derive(Debug)]
pub(super) struct SliceRun {
    active: bool,
    perpetual: bool,
}

impl SliceRun {
    pub(super) fn new(name: &str) -> SliceRun {
        let perpetual = is_perpetual_slice(name);
        SliceRun {
            active: perpetual,
            perpetual,
        }
    }

    /// A start (`active`) or stop job: enter the state (a perpetual slice stays active), say
    /// so in systemd's words when it changed, and end the job.
    fn switch(engine: &mut Engine, unit: &str, active: bool) {
        let changed = match engine.runtime.get_mut(unit) {
            Some(UnitRun::Slice(run)) => {
                let active = active || run.perpetual;
                std::mem::replace(&mut run.active, active) != active
            }
            _ => false,
        };
        if changed {
            engine.mark_changed(unit);
            let verb = if active { "Created" } else { "Removed" };
            let text = format!("{verb} slice {}.", engine.describe(unit));
            engine.notes.push(Note::Detail(text));
        }
        engine.finish_job(unit, JobResult::Done);
    }
}

impl UnitType for SliceRun {
    fn active(&self) -> Active {
        active_if(self.active)
    }

    /// No process: a daemon-reload may replace it unless it was started.
    fn at_rest(&self) -> bool {
        !self.active || self.perpetual
    }

    fn snapshot(&self, _: &Engine, snap: &mut UnitSnapshot, _: Option<&mut Option<procs::Table>>) {
        snap.sub_state = if self.active { "active" } else { "dead" };
    }

    fn start(engine: &mut Engine, unit: &str, _: Instant) {
        Self::switch(engine, unit, true);
    }

    fn stop(engine: &mut Engine, unit: &str, _: Instant) {
        Self::switch(engine, unit, false);
    }
}
