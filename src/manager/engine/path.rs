//! Path units as the engine runs them (systemd.path(5), after systemd 252's src/core/path.c):
//! a start arms the unit (`active (waiting)`): its paths are watched with inotify, and PID 1's
//! loop waits on those descriptors ([`Engine::path_watches`], [`Engine::on_path_ready`]). A
//! condition met queues a start job of the unit it triggers and the path unit is
//! `active (running)`, unwatched, until that unit is down again; then it re-checks and re-arms
//! (path_trigger_notify()). PathExists=, PathExistsGlob= and DirectoryNotEmpty= are levels:
//! while one holds and the unit is down it is started again (so one already met at the start
//! triggers at once). PathChanged= and PathModified= are edges: an event on the path itself,
//! or the path appearing or vanishing while watched. Too many triggers in the interval
//! (TriggerLimitIntervalSec=, TriggerLimitBurst=) fail it with `trigger-limit-hit`.
//!
//! This is the glue: states, jobs, notes. The filesystem side is [`watch`]. Starts units only
//! through the engine's job queue.

mod watch;

use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

use watch::Watch;

use super::query::{PathFacts, UnitSnapshot};
use super::unit_type::UnitType;
use super::{Engine, Note, UnitRun};
use crate::manager::jobs::JobResult;
use crate::manager::transaction::JobKind;
use crate::manager::units::Entry;
use crate::service::procs;
use crate::service::state::Active;
use crate::unit::load::LoadState;
use crate::unit::model::PathSection;

/// TriggerLimitIntervalSec= and TriggerLimitBurst= defaults of path units (path_add_extras()).
const TRIGGER_INTERVAL: Duration = Duration::from_secs(2);
const TRIGGER_BURST: u32 = 200;
/// DirectoryMode= default.
const DIRECTORY_MODE: u32 = 0o755;

/// Where a path unit is (path.c PathState).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PathState {
    Dead,
    /// Watching.
    Waiting,
    /// Its unit was started (or runs); not watching until it is down.
    Running,
    Failed,
}

impl PathState {
    pub(super) fn name(self) -> &'static str {
        match self {
            PathState::Dead => "dead",
            PathState::Waiting => "waiting",
            PathState::Running => "running",
            PathState::Failed => "failed",
        }
    }

    pub(super) fn active(self) -> Active {
        match self {
            PathState::Dead => Active::Inactive,
            PathState::Waiting | PathState::Running => Active::Active,
            PathState::Failed => Active::Failed,
        }
    }
}

/// systemd's RateLimit as the trigger limit uses it: at most `burst` triggers in a window of
/// `interval` that opens with the first of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TriggerLimit {
    interval: Duration,
    burst: u32,
    begin: Option<Instant>,
    count: u32,
}

impl TriggerLimit {
    pub(super) fn new(interval: Duration, burst: u32) -> TriggerLimit {
        TriggerLimit {
            interval,
            burst,
            begin: None,
            count: 0,
        }
    }

    /// ratelimit_below(): whether one more trigger at `now` is allowed (and count it). A zero
    /// interval or burst means no limit.
    pub(super) fn allow(&mut self, now: Instant) -> bool {
        if self.interval.is_zero() || self.burst == 0 {
            return true;
        }
        match self.begin {
            Some(begin) if now.saturating_duration_since(begin) <= self.interval => {
                if self.count < self.burst {
                    self.count += 1;
                    true
                } else {
                    false
                }
            }
            _ => {
                self.begin = Some(now);
                self.count = 1;
                true
            }
        }
    }
}

/// One watched path at run time.
#[derive(Debug)]
struct SpecRun {
    /// Whether the path existed at the last check (PathChanged=, PathModified=).
    previous_exists: bool,
    /// The inotify watch, while the unit waits.
    watch: Option<Watch>,
}

/// A path unit at run time.
#[derive(Debug)]
pub(super) struct PathRun {
    section: PathSection,
    /// The unit it triggers (canonical name).
    pub(super) unit: String,
    state: PathState,
    /// `success`, `resources`, `trigger-limit-hit`, `unit-start-limit-hit`.
    result: &'static str,
    specs: Vec<SpecRun>,
    limit: TriggerLimit,
    /// The dispatch (`Engine::path_round`) in which it last followed its unit: once per
    /// dispatch, so that a unit that never comes up (with no trigger limit) cannot hold PID 1's
    /// loop; a second time waits for the next turn ([`UnitType::next_deadline`]).
    followed: u64,
    /// It has to follow its unit again on the next turn (since then).
    follow_due: Option<Instant>,
}

impl PathRun {
    fn new(section: PathSection, unit: String) -> PathRun {
        let interval = section
            .trigger_limit_interval
            .map_or(TRIGGER_INTERVAL, |t| t.finite().unwrap_or(Duration::MAX));
        let burst = section.trigger_limit_burst.unwrap_or(TRIGGER_BURST);
        let specs = section
            .specs
            .iter()
            .map(|_| SpecRun {
                previous_exists: false,
                watch: None,
            })
            .collect();
        PathRun {
            section,
            unit,
            state: PathState::Dead,
            result: "success",
            specs,
            limit: TriggerLimit::new(interval, burst),
            followed: 0,
            follow_due: None,
        }
    }

    /// daemon-reload of a path unit that is not at rest: it takes the new file's paths, unit
    /// and limits and keeps its state and trigger count; its old watches go (the caller has it
    /// watch again, as systemd's path_coldplug() re-enters the waiting state after a reload).
    fn reconfigure(&mut self, new: PathRun) {
        let count = (self.limit.begin, self.limit.count);
        let state = self.state;
        let result = self.result;
        *self = PathRun {
            state,
            result,
            ..new
        };
        (self.limit.begin, self.limit.count) = count;
    }

    fn unwatch(&mut self) {
        for s in &mut self.specs {
            s.watch = None;
        }
    }

    /// path_check_good(): whether any of its paths meets its condition now.
    fn check(&mut self, root: &std::path::Path, initial: bool, from_trigger_notify: bool) -> bool {
        // As systemd, the first that holds ends the round: the lines after it are read next time.
        self.section
            .specs
            .iter()
            .zip(&mut self.specs)
            .any(|(spec, run)| {
                watch::check(
                    spec,
                    root,
                    &mut run.previous_exists,
                    initial,
                    from_trigger_notify,
                )
            })
    }
}

impl UnitType for PathRun {
    fn active(&self) -> Active {
        self.state.active()
    }

    /// At once when it has to follow its unit again (see `followed`).
    fn next_deadline(&self) -> Option<Instant> {
        self.follow_due
    }

    /// A failed path unit is not: it keeps its state until reset.
    fn at_rest(&self) -> bool {
        self.state == PathState::Dead
    }

    fn snapshot(
        &self,
        engine: &Engine,
        snap: &mut UnitSnapshot,
        _: Option<&mut Option<procs::Table>>,
    ) {
        snap.sub_state = self.state.name();
        snap.result = self.result;
        snap.triggers = vec![(self.unit.clone(), engine.active_state(&self.unit))];
        snap.path = Some(PathFacts {
            paths: self
                .section
                .specs
                .iter()
                .map(|s| (s.condition.name(), s.path.display().to_string()))
                .collect(),
            make_directory: self.section.make_directory,
            directory_mode: self.section.directory_mode.unwrap_or(DIRECTORY_MODE),
            trigger_limit_interval: self.limit.interval,
            trigger_limit_burst: self.limit.burst,
        });
    }

    fn start(engine: &mut Engine, unit: &str, now: Instant) {
        engine.start_path(unit, now);
    }

    fn stop(engine: &mut Engine, unit: &str, _: Instant) {
        engine.stop_path(unit);
    }
}

impl Engine {
    /// The run-time part of path unit `name`.
    pub(super) fn path_runtime(&self, name: &str, section: &PathSection) -> UnitRun {
        let unit = self.canonical(&section.triggered(name));
        UnitRun::Path(Box::new(PathRun::new(section.clone(), unit)))
    }

    fn path_mut(&mut self, name: &str) -> Option<&mut PathRun> {
        match self.runtime.get_mut(name) {
            Some(UnitRun::Path(p)) => Some(p),
            _ => None,
        }
    }

    /// Move path unit `name` to `state` (unwatching it unless it waits), recording when its
    /// active state changed.
    fn set_path_state(&mut self, name: &str, state: PathState) {
        let Some(p) = self.path_mut(name) else { return };
        let before = std::mem::replace(&mut p.state, state);
        if state != PathState::Waiting {
            p.unwatch();
        }
        if before != state {
            self.mark_changed(name);
        }
    }

    /// path_enter_dead(): down, failed when `result` is not success (the first failure's
    /// result is kept).
    fn path_enter_dead(&mut self, name: &str, result: &'static str) {
        let Some(p) = self.path_mut(name) else { return };
        if p.result == "success" {
            p.result = result;
        }
        let result = p.result;
        if result == "success" {
            self.set_path_state(name, PathState::Dead);
        } else {
            self.notes.push(Note::Error(format!(
                "{name}: Failed with result '{result}'."
            )));
            self.set_path_state(name, PathState::Failed);
        }
    }

    /// After daemon-reload: path units that kept running take their new configuration
    /// (`fresh`) and one that was waiting watches its new paths (path_coldplug(): enter
    /// waiting again, as at start, so a PathChanged= that already happened does not trigger).
    pub(super) fn reload_path(&mut self, name: &str, fresh: UnitRun, now: Instant) {
        let UnitRun::Path(new) = fresh else { return };
        let Some(p) = self.path_mut(name) else { return };
        p.reconfigure(*new);
        if p.state == PathState::Waiting {
            self.path_enter_waiting(name, true, false, now);
        }
    }

    /// A start job of path unit `name` (path_start()).
    pub(super) fn start_path(&mut self, name: &str, now: Instant) {
        let Some(p) = self.path_mut(name) else {
            return self.finish_job(name, JobResult::Failed);
        };
        if p.state.active() == Active::Active {
            return self.finish_job(name, JobResult::Done);
        }
        let unit = p.unit.clone();
        if !self.trigger_loaded(name, &unit) {
            return self.finish_job(name, JobResult::Failed);
        }
        if let Some(result) = self.conditions_fail(name) {
            return self.finish_job(name, result);
        }
        let root = self.settings.root.clone();
        let Some(p) = self.path_mut(name) else { return };
        let mut warnings = Vec::new();
        if p.section.make_directory {
            let mode = p.section.directory_mode.unwrap_or(DIRECTORY_MODE);
            for spec in &p.section.specs {
                if let Err(e) = watch::make_directory(spec, &root, mode) {
                    warnings.push(format!(
                        "{name}: mkdir({}) failed: {e}",
                        spec.path.display()
                    ));
                }
            }
        }
        p.result = "success";
        self.notes.extend(warnings.into_iter().map(Note::Warning));
        self.path_enter_waiting(name, true, false, now);
        let desc = self.describe(name);
        self.notes.push(Note::Info(format!("Started {desc}.")));
        self.finish_job(name, JobResult::Done);
    }

    /// A stop job of path unit `name`.
    pub(super) fn stop_path(&mut self, name: &str) {
        let was = self.path_mut(name).map(|p| p.state);
        if let Some(p) = self.path_mut(name) {
            p.result = "success";
        }
        self.set_path_state(name, PathState::Dead);
        if was.is_some_and(|s| s.active() == Active::Active) {
            let desc = self.describe(name);
            self.notes.push(Note::Info(format!("Stopped {desc}.")));
        }
        self.finish_job(name, JobResult::Done);
    }

    /// path_enter_waiting(): running while its unit is up; else triggered when a condition
    /// holds; else watch, check once more (a path may have changed meanwhile), and wait.
    fn path_enter_waiting(
        &mut self,
        name: &str,
        initial: bool,
        from_trigger_notify: bool,
        now: Instant,
    ) {
        let root = self.settings.root.clone();
        let Some(unit) = self.path_mut(name).map(|p| p.unit.clone()) else {
            return;
        };
        if !matches!(self.active_state(&unit), Active::Inactive | Active::Failed) {
            return self.set_path_state(name, PathState::Running);
        }
        let Some(p) = self.path_mut(name) else { return };
        if p.check(&root, initial, from_trigger_notify) {
            return self.path_enter_running(name, now);
        }
        let mut failure = None;
        for (spec, run) in p.section.specs.iter().zip(&mut p.specs) {
            match Watch::new(spec, &root) {
                Ok(w) => run.watch = Some(w),
                Err(e) => {
                    failure = Some(crate::log::error_chain(&e));
                    break;
                }
            }
        }
        if let Some(why) = failure {
            self.notes.push(Note::Warning(format!(
                "{name}: Failed to enter waiting state: {why}"
            )));
            return self.path_enter_dead(name, "resources");
        }
        if p.check(&root, false, from_trigger_notify) {
            return self.path_enter_running(name, now);
        }
        self.set_path_state(name, PathState::Waiting);
    }

    /// path_enter_running(): queue a start job of the unit (not while the path unit itself is
    /// to go down, nor during shutdown: unit_stop_pending()), within the trigger limit.
    fn path_enter_running(&mut self, name: &str, now: Instant) {
        if self.stop_pending(name) {
            return;
        }
        let Some(p) = self.path_mut(name) else { return };
        if !p.limit.allow(now) {
            self.notes.push(Note::Warning(format!(
                "{name}: Trigger limit hit, refusing further activation."
            )));
            return self.path_enter_dead(name, "trigger-limit-hit");
        }
        let unit = p.unit.clone();
        // Running before the job is queued: the unit's first transitions find a path unit
        // that already waits for it to end.
        self.set_path_state(name, PathState::Running);
        if let Err(e) = self.queue(&unit, JobKind::Start, false) {
            self.notes.push(Note::Warning(format!(
                "{name}: Failed to queue unit startup job: {e}"
            )));
            self.path_enter_dead(name, "resources");
        }
    }

    /// The descriptors PID 1 should watch: those of waiting path units, as (unit, path line,
    /// fd), borrowed: the engine owns them and drops them when the unit stops waiting.
    pub fn path_watches(&self) -> Vec<(&str, usize, BorrowedFd<'_>)> {
        let mut out = Vec::new();
        for (name, rt) in &self.runtime {
            if let UnitRun::Path(p) = rt
                && p.state == PathState::Waiting
            {
                for (i, s) in p.specs.iter().enumerate() {
                    if let Some(w) = &s.watch {
                        out.push((name.as_str(), i, w.fd()));
                    }
                }
            }
        }
        out
    }

    /// Events on the watch of line `index` of path unit `unit` (path_dispatch_io()): an event
    /// on a PathChanged=/PathModified= path itself triggers; any other re-checks and re-arms.
    pub fn on_path_ready(&mut self, unit: &str, index: usize, now: Instant) {
        self.table = None;
        let Some(p) = self.path_mut(unit) else { return };
        if !matches!(p.state, PathState::Waiting | PathState::Running) {
            return;
        }
        let Some(w) = p.specs.get(index).and_then(|s| s.watch.as_ref()) else {
            return;
        };
        match w.read() {
            Ok(true) => self.path_enter_running(unit, now),
            Ok(false) => self.path_enter_waiting(unit, false, false, now),
            Err(e) => {
                self.notes.push(Note::Error(format!(
                    "{unit}: {}",
                    crate::log::error_chain(&e)
                )));
                self.path_enter_dead(unit, "resources");
            }
        }
        self.dispatch(now);
    }

    /// path_trigger_notify(), for every path unit at once, when the jobs have run: one whose
    /// unit went down (and has no job) re-checks and re-arms; one waiting whose unit came up
    /// by other means is running. A unit whose start it queued hit its start limit: the path
    /// unit fails too.
    /// Whether a job was queued (the caller dispatches again).
    pub(super) fn paths_follow_units(&mut self, now: Instant) -> bool {
        let before = self.jobs.len();
        let round = self.path_round;
        let due: Vec<(String, String)> = self
            .runtime
            .iter()
            .filter_map(|(name, rt)| match rt {
                UnitRun::Path(p) if matches!(p.state, PathState::Waiting | PathState::Running) => {
                    Some((name.clone(), p.unit.clone()))
                }
                _ => None,
            })
            .collect();
        for (name, unit) in due {
            if self.jobs.job(&unit).is_some() {
                continue;
            }
            let state = self.active_state(&unit);
            let running = self.path_mut(&name).map(|p| p.state) == Some(PathState::Running);
            // Its start refused by the unit's start limit (not a limit hit before it ran).
            if running && state == Active::Failed && self.result_of(&unit) == "start-limit-hit" {
                self.path_enter_dead(&name, "unit-start-limit-hit");
                continue;
            }
            let down = matches!(state, Active::Inactive | Active::Failed);
            let Some(p) = self.path_mut(&name) else {
                continue;
            };
            if (p.state == PathState::Running) != down {
                continue;
            }
            if p.followed == round {
                p.follow_due = Some(now);
                continue;
            }
            p.followed = round;
            p.follow_due = None;
            self.path_enter_waiting(&name, false, true, now);
        }
        self.jobs.len() != before
    }

    /// `reset-failed` of path unit `name` (path_reset_failed()): a failed one is dead, and its
    /// result success.
    pub(super) fn path_reset_failed(&mut self, name: &str) {
        let Some(p) = self.path_mut(name) else { return };
        p.result = "success";
        if p.state == PathState::Failed {
            self.set_path_state(name, PathState::Dead);
        }
    }

    /// unit_test_trigger_loaded(): whether `unit`, which `name` triggers, is loaded; if not,
    /// say that `name` refuses to start.
    pub(super) fn trigger_loaded(&mut self, name: &str, unit: &str) -> bool {
        let loaded = match self.units.get(unit) {
            Some(Entry::Loaded(l)) => l.state == LoadState::Loaded,
            Some(Entry::Builtin { .. }) => true,
            Some(Entry::Missing(_)) | None => false,
        };
        if !loaded {
            self.notes.push(Note::Error(format!(
                "{name}: Refusing to start, unit {unit} to trigger not loaded."
            )));
        }
        loaded
    }

    /// The path units that trigger `unit`.
    pub(super) fn paths_triggering(&self, unit: &str) -> Vec<String> {
        self.runtime
            .iter()
            .filter(|(_, rt)| matches!(rt, UnitRun::Path(p) if p.unit == unit))
            .map(|(n, _)| n.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trigger_limit_opens_a_window_with_its_first_trigger() {
        let t0 = Instant::now();
        let mut l = TriggerLimit::new(Duration::from_secs(2), 3);
        assert!(l.allow(t0));
        assert!(l.allow(t0 + Duration::from_millis(500)));
        assert!(l.allow(t0 + Duration::from_millis(1000)));
        assert!(!l.allow(t0 + Duration::from_millis(1500)));
        // A new window.
        assert!(l.allow(t0 + Duration::from_millis(2500)));
    }

    #[test]
    fn a_zero_limit_is_no_limit() {
        let t0 = Instant::now();
        let mut l = TriggerLimit::new(Duration::ZERO, 1);
        assert!((0..1000).all(|_| l.allow(t0)));
        let mut l = TriggerLimit::new(Duration::from_secs(2), 0);
        assert!((0..1000).all(|_| l.allow(t0)));
    }

    #[test]
    fn states_map_to_active_states_as_systemd() {
        assert_eq!(PathState::Waiting.active(), Active::Active);
        assert_eq!(PathState::Running.active(), Active::Active);
        assert_eq!(PathState::Failed.active(), Active::Failed);
        assert_eq!(PathState::Dead.active(), Active::Inactive);
        assert_eq!(PathState::Waiting.name(), "waiting");
    }
}
