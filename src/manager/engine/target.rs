//! Target units (systemd.target(5), after systemd 252's src/core/target.c): a synchronisation
//! point with no processes; a start makes it active ("Reached target"), a stop inactive. Owns
//! only that flag; its dependencies are the transaction's business.

use std::time::Instant;

use super::query::UnitSnapshot;
use super::unit_type::{UnitType, active_if};
use super::{Engine, Note, UnitRun};
use crate::manager::jobs::JobResult;
use crate::service::procs;
use crate::service::state::Active;

/// A target at run time.
#[derive(Debug, Default)]
pub(super) struct TargetRun {
    active: bool,
}

impl TargetRun {
    /// Enter `active`; whether that changed it.
    fn set(engine: &mut Engine, unit: &str, active: bool) -> bool {
        match engine.runtime.get_mut(unit) {
            Some(UnitRun::Target(run)) => std::mem::replace(&mut run.active, active) != active,
            _ => false,
        }
    }
}

impl UnitType for TargetRun {
    fn active(&self) -> Active {
        active_if(self.active)
    }

    fn snapshot(&self, _: &Engine, snap: &mut UnitSnapshot, _: Option<&mut Option<procs::Table>>) {
        snap.sub_state = if self.active { "active" } else { "dead" };
    }

    fn start(engine: &mut Engine, unit: &str, _: Instant) {
        if Self::set(engine, unit, true) {
            engine.mark_changed(unit);
        }
        engine.notes.push(Note::Detail(format!(
            "Reached target {}.",
            engine.describe(unit)
        )));
        engine.finish_job(unit, JobResult::Done);
    }

    fn stop(engine: &mut Engine, unit: &str, _: Instant) {
        if Self::set(engine, unit, false) {
            engine.mark_changed(unit);
        }
        engine.finish_job(unit, JobResult::Done);
    }
}
