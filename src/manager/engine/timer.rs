//! Timer units as the engine runs them (systemd.timer(5), after systemd 252's
//! src/core/timer.c): a start arms the timer (`active (waiting)`); an elapse queues a start job
//! of the unit it triggers (`active (running)` until that unit is inactive again, then it
//! re-arms); a timer with nothing left to wait for stays `active (elapsed)` (RemainAfterElapse=,
//! or an OnUnit*Sec= trigger that may re-arm it) or goes `inactive (dead)`.
//!
//! This is the glue: jobs, notes, the triggered unit's transitions. When a timer elapses is
//! computed in [`elapse`], purely. Starts units only through the engine's job queue.

mod elapse;

use std::time::{Instant, SystemTime};

use elapse::{Clocks, fixed_delay_hash, machine_id, write_stamp};
pub(super) use elapse::{TimerRun, TimerState};

use super::query::UnitSnapshot;
use super::unit_type::UnitType;
use super::{Engine, Note, UnitRun};
use crate::manager::jobs::JobResult;
use crate::manager::transaction::JobKind;
use crate::manager::units::Entry;
use crate::service::procs;
use crate::service::state::Active;
use crate::unit::model::TimerSection;

impl UnitType for TimerRun {
    fn active(&self) -> Active {
        TimerRun::active(self)
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.deadline()
    }

    /// A failed timer is at rest too.
    fn at_rest(&self) -> bool {
        TimerRun::active(self) != Active::Active
    }

    fn reset_failed(&mut self) {
        TimerRun::reset_failed(self);
    }

    fn snapshot(&self, _: &Engine, snap: &mut UnitSnapshot, _: Option<&mut Option<procs::Table>>) {
        snap.sub_state = self.state().name();
        snap.result = self.result();
    }

    fn start(engine: &mut Engine, unit: &str, now: Instant) {
        engine.run_timer_job(unit, JobKind::Start, now);
    }

    fn stop(engine: &mut Engine, unit: &str, now: Instant) {
        engine.run_timer_job(unit, JobKind::Stop, now);
    }
}

impl Engine {
    /// The run-time part of timer `name`.
    pub(super) fn timer_runtime(&self, name: &str, section: &TimerSection) -> UnitRun {
        let unit = self.canonical(&section.triggered(name));
        let stamp = self.settings.timer_stamps.join(format!("stamp-{name}"));
        let fixed = fixed_delay_hash(&machine_id(&self.settings.root), name);
        UnitRun::Timer(Box::new(TimerRun::new(
            section,
            unit,
            Some(stamp),
            Some(fixed),
        )))
    }

    fn clocks(&self, now: Instant) -> Clocks {
        Clocks {
            mono: now,
            real: SystemTime::now(),
            started: self.settings.started,
        }
    }

    fn timer_mut(&mut self, name: &str) -> Option<&mut TimerRun> {
        match self.runtime.get_mut(name) {
            Some(UnitRun::Timer(t)) => Some(t),
            _ => None,
        }
    }

    /// Move timer `name` to `state`, recording when its active state changed.
    fn set_timer_state(&mut self, name: &str, state: TimerState) {
        if self.timer_mut(name).is_some_and(|t| t.set_state(state)) {
            self.mark_changed(name);
        }
    }

    /// Arm timer `name`, or leave it elapsed (or dead) when nothing is left to wait for.
    fn enter_waiting(&mut self, name: &str, now: Instant) {
        let clocks = self.clocks(now);
        let Some(t) = self.timer_mut(name) else {
            return;
        };
        let state = t.enter_waiting(clocks);
        self.set_timer_state(name, state);
    }

    /// A start or stop job of timer `name`.
    pub(super) fn run_timer_job(&mut self, name: &str, kind: JobKind, now: Instant) {
        let desc = self.describe(name);
        if kind == JobKind::Stop {
            let was = self.timer_mut(name).map(|t| t.state());
            self.set_timer_state(name, TimerState::Dead);
            if was.is_some_and(|s| s.active() != Active::Inactive) {
                self.notes.push(Note::Info(format!("Stopped {desc}.")));
            }
            return self.finish_job(name, JobResult::Done);
        }
        let Some(t) = self.timer_mut(name) else {
            return self.finish_job(name, JobResult::Failed);
        };
        if t.active() == Active::Active {
            return self.finish_job(name, JobResult::Done);
        }
        let unit = t.unit.clone();
        if !self.trigger_loaded(name, &unit) {
            if let Some(t) = self.timer_mut(name) {
                t.lack_resources();
            }
            self.set_timer_state(name, TimerState::Failed);
            return self.finish_job(name, JobResult::Failed);
        }
        if let Some(Entry::Loaded(l)) = self.units.get(name) {
            let u = &l.unit.unit;
            use crate::manager::condition::{Verdict, evaluate};
            if let Verdict::Fail(why) = evaluate(&u.conditions, &self.system, "Condition") {
                self.notes.push(Note::Info(format!(
                    "{name}: condition check resulted in {why} being false; skipped"
                )));
                return self.finish_job(name, JobResult::Skipped);
            }
            if let Verdict::Fail(why) = evaluate(&u.asserts, &self.system, "Assert") {
                self.notes
                    .push(Note::Error(format!("{name}: assertion {why} failed")));
                return self.finish_job(name, JobResult::Failed);
            }
        }
        let now_real = SystemTime::now();
        if let Some(t) = self.timer_mut(name)
            && let Some(note) = t.prepare_start(now, now_real)
        {
            self.notes.push(note.about(name));
        }
        self.enter_waiting(name, now);
        self.notes.push(Note::Info(format!("Started {desc}.")));
        self.finish_job(name, JobResult::Done);
    }

    /// Fire every timer due at `now`.
    pub(super) fn elapse_timers(&mut self, now: Instant) {
        let now_real = SystemTime::now();
        let due: Vec<String> = self
            .runtime
            .iter_mut()
            .filter_map(|(name, rt)| match rt {
                UnitRun::Timer(t) => t.due(now, now_real).then(|| name.clone()),
                _ => None,
            })
            .collect();
        for name in due {
            self.elapse(&name, now);
        }
    }

    /// timer.c timer_enter_running(): record the trigger (and its stamp), then queue a start
    /// job of the unit, replacing a stop job it may have.
    fn elapse(&mut self, name: &str, now: Instant) {
        // Not while the timer itself is being stopped, nor during shutdown (timer.c
        // timer_enter_running(): unit_stop_pending()).
        if self.stop_pending(name) {
            return;
        }
        let real = SystemTime::now();
        let Some(t) = self.timer_mut(name) else {
            return;
        };
        let stamp = t.record_trigger(now, real);
        let unit = t.unit.clone();
        if let Some(path) = stamp
            && let Err(e) = write_stamp(&path, Some(real))
        {
            self.notes.push(Note::Warning(format!(
                "{name}: cannot write {}: {e}",
                path.display()
            )));
        }
        // Running before the job is queued: the unit's first transitions reach a timer that
        // already waits for it to end.
        self.set_timer_state(name, TimerState::Running);
        if let Err(e) = self.request(&unit, JobKind::Start, now) {
            self.notes.push(Note::Warning(format!(
                "{name}: Failed to queue unit startup job: {e}"
            )));
            if let Some(t) = self.timer_mut(name) {
                t.lack_resources();
            }
            self.set_timer_state(name, TimerState::Failed);
        }
    }

    /// The timers that trigger `unit`.
    fn timers_of(&self, unit: &str) -> Vec<String> {
        self.runtime
            .iter()
            .filter(|(_, rt)| matches!(rt, UnitRun::Timer(t) if t.unit == unit))
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// `unit`'s active state went from `before` to `after` (timer.c timer_trigger_notify()):
    /// its timers note when it was activated or deactivated, and re-arm.
    pub(super) fn timers_see_transition(
        &mut self,
        unit: &str,
        before: Option<Active>,
        after: Option<Active>,
    ) {
        let timers = self.timers_of(unit);
        if timers.is_empty() {
            return;
        }
        let now = Instant::now();
        let down = |a: Option<Active>| matches!(a, None | Some(Active::Inactive | Active::Failed));
        for name in timers {
            let Some(t) = self.timer_mut(&name) else {
                continue;
            };
            t.see_unit(down(before), down(after), now);
            self.rearm_after_unit(&name, down(after), now);
        }
    }

    /// A job of `unit` ended: a timer still running for it re-arms when it did not start
    /// (a skipped condition, a dependency that failed), as systemd notifies a unit's
    /// triggers when its job finishes.
    pub(super) fn timers_see_job_end(&mut self, unit: &str) {
        let timers = self.timers_of(unit);
        if timers.is_empty() {
            return;
        }
        let down = matches!(self.active_state(unit), Active::Inactive | Active::Failed);
        for name in timers {
            if self
                .timer_mut(&name)
                .is_some_and(|t| t.state() == TimerState::Running)
            {
                self.rearm_after_unit(&name, down, Instant::now());
            }
        }
    }

    fn rearm_after_unit(&mut self, name: &str, unit_down: bool, now: Instant) {
        let Some(t) = self.timer_mut(name) else {
            return;
        };
        if t.rearm_unit_triggers(unit_down) {
            self.enter_waiting(name, now);
        }
    }

    /// What `status` and `list-timers` show of triggers: a timer's next elapse, last
    /// trigger and unit; the timers that trigger a unit. Each with its active state.
    /// A timer's next and last elapse and the unit it triggers; with `whole`, also the timers
    /// that trigger the unit (a look at every unit).
    pub(super) fn add_trigger_facts(&self, info: &mut super::UnitSnapshot, whole: bool) {
        let state = |u: &str| self.active_state(u);
        if let Some(UnitRun::Timer(t)) = self.runtime.get(&info.name) {
            info.next_elapse = t.next_elapse(Instant::now(), SystemTime::now());
            info.last_trigger = t.last_trigger();
            info.triggers = vec![(t.unit.clone(), state(&t.unit))];
        }
        if !whole {
            return;
        }
        info.triggered_by = self
            .timers_of(&info.name)
            .into_iter()
            .map(|timer| {
                let s = state(&timer);
                (timer, s)
            })
            .collect();
    }
}
