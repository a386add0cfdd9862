//! Timer units (systemd.timer(5)) as the engine runs them, after systemd 252's
//! src/core/timer.c: a start arms the timer (`active (waiting)`); an elapse queues a start job
//! of the unit it triggers (`active (running)` until that unit is inactive again, then it
//! re-arms); a timer with nothing left to wait for stays `active (elapsed)` (RemainAfterElapse=,
//! or an OnUnit*Sec= trigger that may re-arm it) or goes `inactive (dead)`.
//!
//! The next elapse is computed purely ([`TimerRun::compute`]) from the clocks and the facts the
//! triggers count from: the timer's activation (OnActiveSec=), bosun's start (OnBootSec= and
//! OnStartupSec=: in a container the boot is the container's, as timer.c decides), the
//! triggered unit's last activation and deactivation (OnUnitActiveSec=, OnUnitInactiveSec=),
//! the last trigger (OnCalendar=, whose elapses are wall-clock times). A calendar elapse is
//! armed as an `Instant` and checked against the wall clock when that instant comes: when the
//! clock says it is not time yet (it was set back), it is armed again. AccuracySec= lets systemd
//! fire late to coalesce wake-ups; bosun fires on time, never early.
//!
//! Owns the timers' state and their Persistent= stamps (`stamp-NAME`, whose mtime is the last
//! trigger). Starts units only through the engine's job queue.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::{Engine, Note, Runtime};
use crate::manager::jobs::JobResult;
use crate::manager::transaction::JobKind;
use crate::manager::units::Entry;
use crate::service::state::Active;
use crate::unit::calendar::CalendarSpec;
use crate::unit::load::LoadState;
use crate::unit::model::TimerSection;

/// What a monotonic trigger counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    /// OnActiveSec=: the timer's activation.
    Active,
    /// OnBootSec=: bosun's start (the container's boot).
    Boot,
    /// OnStartupSec=: bosun's start.
    Startup,
    /// OnUnitActiveSec=: the triggered unit's last activation.
    UnitActive,
    /// OnUnitInactiveSec=: the triggered unit's last deactivation.
    UnitInactive,
}

#[derive(Debug, Clone)]
enum Trigger {
    Monotonic(Base, Duration),
    Calendar(CalendarSpec),
}

/// One trigger and whether it is spent (a single-shot one that elapsed; timer.c `disabled`).
#[derive(Debug, Clone)]
struct Value {
    trigger: Trigger,
    disabled: bool,
}

/// The states of timer.c, with their active states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TimerState {
    Dead,
    Waiting,
    Running,
    Elapsed,
    Failed,
}

impl TimerState {
    /// The sub-state as systemctl shows it.
    pub(super) fn name(self) -> &'static str {
        match self {
            TimerState::Dead => "dead",
            TimerState::Waiting => "waiting",
            TimerState::Running => "running",
            TimerState::Elapsed => "elapsed",
            TimerState::Failed => "failed",
        }
    }

    pub(super) fn active(self) -> Active {
        match self {
            TimerState::Dead => Active::Inactive,
            TimerState::Failed => Active::Failed,
            TimerState::Waiting | TimerState::Running | TimerState::Elapsed => Active::Active,
        }
    }
}

/// When the timer last triggered: on the wall clock (also read back from a Persistent= stamp)
/// and, when it triggered during this run of bosun, on the monotonic clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LastTrigger {
    real: SystemTime,
    mono: Option<Instant>,
}

/// The clocks one computation reads: now on both, and when bosun started.
#[derive(Debug, Clone, Copy)]
struct Clocks {
    mono: Instant,
    real: SystemTime,
    started: Instant,
}

impl Clocks {
    /// bosun's start on the wall clock.
    fn started_real(self) -> SystemTime {
        self.real - self.mono.saturating_duration_since(self.started)
    }
}

/// The next elapse on each clock; `leave` keeps a timer with nothing to wait for active
/// (an OnUnit*Sec= trigger may arm it again).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Next {
    mono: Option<Instant>,
    real: Option<SystemTime>,
    leave: bool,
}

/// A timer unit at run time.
#[derive(Debug)]
pub(super) struct TimerRun {
    values: Vec<Value>,
    /// RandomizedDelaySec=.
    random: Duration,
    /// FixedRandomDelay=: the hash of machine id and name the delay is taken from, instead of
    /// a new random number at each arming.
    fixed: Option<u64>,
    remain_after_elapse: bool,
    /// The unit it starts (canonical name).
    pub(super) unit: String,
    /// Persistent=: `stamp-NAME`.
    stamp: Option<PathBuf>,
    state: TimerState,
    /// `success`, or `resources` when the unit could not be started.
    result: &'static str,
    /// When it was last started (systemd's inactive-exit timestamp).
    activated: Option<(Instant, SystemTime)>,
    last_trigger: Option<LastTrigger>,
    /// The triggered unit's last activation and deactivation.
    unit_active: Option<Instant>,
    unit_inactive: Option<Instant>,
    /// What is armed (random delay included), while waiting.
    next: Next,
    /// When to look at the wall clock for `next.real`.
    wake_real: Option<Instant>,
}

impl TimerRun {
    fn new(
        section: &TimerSection,
        unit: String,
        stamp: Option<PathBuf>,
        fixed: Option<u64>,
    ) -> Self {
        let mut values = Vec::new();
        let lists = [
            (Base::Active, &section.on_active),
            (Base::Boot, &section.on_boot),
            (Base::Startup, &section.on_startup),
            (Base::UnitActive, &section.on_unit_active),
            (Base::UnitInactive, &section.on_unit_inactive),
        ];
        for (base, list) in lists {
            // `infinity` never elapses (timer.c adds it and never reaches it).
            values.extend(list.iter().filter_map(|t| t.finite()).map(|d| Value {
                trigger: Trigger::Monotonic(base, d),
                disabled: false,
            }));
        }
        values.extend(section.on_calendar.iter().map(|c| Value {
            trigger: Trigger::Calendar(c.clone()),
            disabled: false,
        }));
        TimerRun {
            values,
            random: section
                .randomized_delay
                .and_then(|t| t.finite())
                .unwrap_or_default(),
            fixed: fixed.filter(|_| section.fixed_random_delay),
            remain_after_elapse: section.remain_after_elapse.unwrap_or(true),
            unit,
            stamp: stamp.filter(|_| section.persistent),
            state: TimerState::Dead,
            result: "success",
            activated: None,
            last_trigger: None,
            unit_active: None,
            unit_inactive: None,
            next: Next::default(),
            wake_real: None,
        }
    }

    pub(super) fn state(&self) -> TimerState {
        self.state
    }

    pub(super) fn active(&self) -> Active {
        self.state.active()
    }

    pub(super) fn result(&self) -> &'static str {
        self.result
    }

    /// The deadline PID 1's loop wakes up at, while waiting.
    pub(super) fn deadline(&self) -> Option<Instant> {
        if self.state != TimerState::Waiting {
            return None;
        }
        [self.next.mono, self.wake_real].into_iter().flatten().min()
    }

    /// The next elapse on the wall clock (the monotonic one converted at `now`), as
    /// `list-timers` shows it (systemctl calc_next_elapse()).
    pub(super) fn next_elapse(&self, now: Instant, now_real: SystemTime) -> Option<SystemTime> {
        if self.state != TimerState::Waiting {
            return None;
        }
        let mono = self.next.mono.map(|m| {
            if m >= now {
                now_real + (m - now)
            } else {
                now_real - (now - m)
            }
        });
        [mono, self.next.real].into_iter().flatten().min()
    }

    /// When it last triggered, on the wall clock.
    pub(super) fn last_trigger(&self) -> Option<SystemTime> {
        self.last_trigger.map(|l| l.real)
    }

    /// The next elapses of the triggers not spent (timer.c timer_enter_waiting(), before the
    /// random delay). Spends single-shot triggers that elapsed already since the last trigger.
    fn compute(&mut self, c: Clocks) -> Next {
        let mut next = Next::default();
        let last_mono = self.last_trigger.and_then(|l| l.mono);
        for v in self.values.iter_mut().filter(|v| !v.disabled) {
            match &v.trigger {
                Trigger::Calendar(spec) => {
                    // From the last trigger when there was one (a Persistent= stamp included),
                    // else from the timer's activation.
                    let base = self
                        .last_trigger
                        .map(|l| l.real)
                        .or(self.activated.map(|a| a.1))
                        .unwrap_or(c.real);
                    let Some(mut at) = spec.next_after(base) else {
                        continue;
                    };
                    // An elapse missed before bosun started is due when bosun started, so
                    // that RandomizedDelaySec= still spreads the catch-up at boot.
                    let started = c.started_real();
                    if at < started {
                        at = started;
                    }
                    next.real = Some(next.real.map_or(at, |r| r.min(at)));
                }
                Trigger::Monotonic(base, span) => {
                    let from = match base {
                        Base::Active => self.activated.map_or(c.mono, |a| a.0),
                        Base::Boot | Base::Startup => c.started,
                        Base::UnitActive | Base::UnitInactive => {
                            next.leave = true;
                            let unit = if *base == Base::UnitActive {
                                self.unit_active
                            } else {
                                self.unit_inactive
                            };
                            match unit.max(last_mono) {
                                Some(t) => t,
                                None => continue,
                            }
                        }
                    };
                    let Some(at) = from.checked_add(*span) else {
                        continue;
                    };
                    if self.last_trigger.is_some()
                        && at < c.mono
                        && matches!(base, Base::Active | Base::Boot | Base::Startup)
                    {
                        // A single-shot trigger that elapsed: spent.
                        v.disabled = true;
                        continue;
                    }
                    next.mono = Some(next.mono.map_or(at, |m| m.min(at)));
                }
            }
        }
        next
    }

    /// RandomizedDelaySec=: a delay below it, random at each arming or (FixedRandomDelay=)
    /// the same for this machine and timer.
    fn delay(&self) -> Duration {
        let span = u64::try_from(self.random.as_micros()).unwrap_or(u64::MAX);
        if span == 0 {
            return Duration::ZERO;
        }
        Duration::from_micros(self.fixed.unwrap_or_else(random_u64) % span)
    }

    /// Arm the next elapse; false when there is none.
    fn arm(&mut self, c: Clocks) -> bool {
        let mut next = self.compute(c);
        if next.mono.is_none() && next.real.is_none() {
            self.next = next;
            self.wake_real = None;
            return false;
        }
        next.mono = next.mono.map(|m| m + self.delay());
        next.real = next.real.map(|r| r + self.delay());
        self.wake_real = next
            .real
            .map(|r| c.mono + r.duration_since(c.real).unwrap_or_default());
        self.next = next;
        true
    }

    /// Whether it is due at `now`: its monotonic elapse came, or its calendar one did by the
    /// wall clock. When the instant for the calendar elapse came but the wall clock says it is
    /// not time yet, that instant moves to when it will be.
    fn due(&mut self, now: Instant, now_real: SystemTime) -> bool {
        if self.state != TimerState::Waiting {
            return false;
        }
        if self.next.mono.is_some_and(|m| m <= now) {
            return true;
        }
        match (self.wake_real, self.next.real) {
            (Some(wake), Some(real)) if wake <= now => match real.duration_since(now_real) {
                Ok(left) if !left.is_zero() => {
                    self.wake_real = Some(now + left);
                    false
                }
                _ => true,
            },
            _ => false,
        }
    }

    /// A start (timer.c timer_start()): the last trigger forgotten, or read from the stamp;
    /// single-shot OnActiveSec= triggers armed again.
    fn prepare_start(&mut self, now: Instant, now_real: SystemTime) -> Option<Note> {
        self.last_trigger = None;
        self.activated = Some((now, now_real));
        self.result = "success";
        for v in &mut self.values {
            if matches!(v.trigger, Trigger::Monotonic(Base::Active, _)) {
                v.disabled = false;
            }
        }
        let path = self.stamp.as_ref()?;
        match read_stamp(path) {
            Ok(Some(t)) if t < now_real => {
                self.last_trigger = Some(LastTrigger {
                    real: t,
                    mono: None,
                });
                None
            }
            Ok(Some(_)) => Some(Note::Warning(format!(
                "Not using persistent file timestamp {} as it is in the future.",
                path.display()
            ))),
            // Never ran: the stamp is made now, so that the next start knows since when.
            // A container run as a user that may not write there (an arbitrary UID) cannot
            // keep stamps: said with -v only, as every Persistent= timer would say it.
            Ok(None) => write_stamp(path, None).err().map(|e| {
                let text = format!("Failed to create timestamp file {}: {e}", path.display());
                if e.kind() == std::io::ErrorKind::PermissionDenied {
                    Note::Detail(text)
                } else {
                    Note::Warning(text)
                }
            }),
            Err(e) => Some(Note::Warning(format!(
                "Failed to read {}: {e}",
                path.display()
            ))),
        }
    }
}

/// The mtime of a stamp file; None when it does not exist.
fn read_stamp(path: &Path) -> std::io::Result<Option<SystemTime>> {
    match std::fs::metadata(path) {
        Ok(m) => m.modified().map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Create the stamp (and its directory) with mtime `at`, or now (touch_file()).
fn write_stamp(path: &Path, at: Option<SystemTime>) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    file.set_modified(at.unwrap_or_else(SystemTime::now))
}

fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        // No entropy source: the clock's nanoseconds still spread timers apart.
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_nanos();
        return u64::from(nanos);
    }
    u64::from_le_bytes(bytes)
}

/// FixedRandomDelay='s number, as timer.c timer_get_fixed_delay_hash() computes it for the
/// system manager: SipHash-2-4 with its fixed key over the machine id's 16 bytes (zeros when
/// there is none) and the timer's name.
fn fixed_delay_hash(machine_id: &[u8; 16], name: &str) -> u64 {
    use std::hash::Hasher;
    const KEY: [u8; 16] = [
        0x51, 0x0a, 0xdb, 0x76, 0x29, 0x51, 0x42, 0xc2, 0x80, 0x35, 0xea, 0xe6, 0x8e, 0x3a, 0x37,
        0xbd,
    ];
    let (k0, k1) = KEY.split_at(8);
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
    // std's SipHasher is SipHash-2-4 (deprecated only because HashMap moved to SipHash-1-3);
    // `write` feeds the bytes as they are, as systemd's siphash24_compress() does.
    #[allow(deprecated)]
    let mut h = std::hash::SipHasher::new_with_keys(word(k0), word(k1));
    h.write(machine_id);
    h.write(name.as_bytes());
    h.finish()
}

/// /etc/machine-id under `root` as 16 bytes; zeros when it is missing or not an id.
fn machine_id(root: &Path) -> [u8; 16] {
    let text = std::fs::read_to_string(root.join("etc/machine-id")).unwrap_or_default();
    let hex = text.trim();
    let mut id = [0u8; 16];
    if hex.len() != 32 {
        return id;
    }
    for (k, byte) in id.iter_mut().enumerate() {
        match hex.get(2 * k..2 * k + 2).map(|h| u8::from_str_radix(h, 16)) {
            Some(Ok(b)) => *byte = b,
            _ => return [0u8; 16],
        }
    }
    id
}

impl Engine {
    /// The run-time part of timer `name`.
    pub(super) fn timer_runtime(&self, name: &str, section: &TimerSection) -> Runtime {
        let unit = self.canonical(&section.triggered(name));
        let stamp = self.settings.timer_stamps.join(format!("stamp-{name}"));
        let fixed = fixed_delay_hash(&machine_id(&self.settings.root), name);
        Runtime::Timer(Box::new(TimerRun::new(
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
            Some(Runtime::Timer(t)) => Some(t),
            _ => None,
        }
    }

    /// Move timer `name` to `state`, recording when its active state changed.
    fn set_timer_state(&mut self, name: &str, state: TimerState) {
        let Some(t) = self.timer_mut(name) else {
            return;
        };
        let before = t.state.active();
        t.state = state;
        if state != TimerState::Waiting {
            t.next = Next::default();
            t.wake_real = None;
        }
        if before != state.active() {
            self.mark_changed(name);
        }
    }

    /// Arm timer `name`, or leave it elapsed (or dead) when nothing is left to wait for.
    fn enter_waiting(&mut self, name: &str, now: Instant) {
        let clocks = self.clocks(now);
        let Some(t) = self.timer_mut(name) else {
            return;
        };
        let state = if t.arm(clocks) {
            TimerState::Waiting
        } else if t.remain_after_elapse || t.next.leave {
            TimerState::Elapsed
        } else {
            TimerState::Dead
        };
        self.set_timer_state(name, state);
    }

    /// A start or stop job of timer `name`.
    pub(super) fn run_timer_job(&mut self, name: &str, kind: JobKind, now: Instant) {
        let desc = self.describe(name);
        if kind == JobKind::Stop {
            let was = self.timer_mut(name).map(|t| t.state);
            self.set_timer_state(name, TimerState::Dead);
            if was.is_some_and(|s| s.active() != Active::Inactive) {
                self.notes.push(Note::Info(format!("Stopped {desc}.")));
            }
            return self.finish_job(name, JobResult::Done);
        }
        let Some(t) = self.timer_mut(name) else {
            return self.finish_job(name, JobResult::Failed);
        };
        if t.state.active() == Active::Active {
            return self.finish_job(name, JobResult::Done);
        }
        let unit = t.unit.clone();
        let loaded = match self.units.get(&unit) {
            Some(Entry::Loaded(l)) => l.state == LoadState::Loaded,
            Some(Entry::Builtin { .. }) => true,
            Some(Entry::Missing(_)) | None => false,
        };
        if !loaded {
            self.notes.push(Note::Error(format!(
                "{name}: Refusing to start, unit {unit} to trigger not loaded."
            )));
            if let Some(t) = self.timer_mut(name) {
                t.result = "resources";
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
                Runtime::Timer(t) => t.due(now, now_real).then(|| name.clone()),
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
        // Not while the timer itself is being stopped.
        if self
            .jobs
            .job(name)
            .is_some_and(|(kind, _)| kind == JobKind::Stop)
        {
            return;
        }
        let real = SystemTime::now();
        let Some(t) = self.timer_mut(name) else {
            return;
        };
        t.last_trigger = Some(LastTrigger {
            real,
            mono: Some(now),
        });
        let unit = t.unit.clone();
        let stamp = t.stamp.clone();
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
                t.result = "resources";
            }
            self.set_timer_state(name, TimerState::Failed);
        }
    }

    /// The timers that trigger `unit`.
    fn timers_of(&self, unit: &str) -> Vec<String> {
        self.runtime
            .iter()
            .filter(|(_, rt)| matches!(rt, Runtime::Timer(t) if t.unit == unit))
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
            if down(before) && !down(after) {
                t.unit_active = Some(now);
            }
            if !down(before) && down(after) {
                t.unit_inactive = Some(now);
            }
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
                .is_some_and(|t| t.state == TimerState::Running)
            {
                self.rearm_after_unit(&name, down, Instant::now());
            }
        }
    }

    fn rearm_after_unit(&mut self, name: &str, unit_down: bool, now: Instant) {
        let Some(t) = self.timer_mut(name) else {
            return;
        };
        for v in &mut t.values {
            if matches!(
                v.trigger,
                Trigger::Monotonic(Base::UnitActive | Base::UnitInactive, _)
            ) {
                v.disabled = false;
            }
        }
        match t.state {
            TimerState::Waiting | TimerState::Elapsed => self.enter_waiting(name, now),
            TimerState::Running if unit_down => self.enter_waiting(name, now),
            _ => {}
        }
    }

    /// What `status` and `list-timers` show of triggers: a timer's next elapse, last
    /// trigger and unit; the timers that trigger a unit. Each with its active state.
    pub(super) fn add_trigger_facts(&self, info: &mut crate::control::proto::UnitInfo) {
        let state = |u: &str| self.active_state(u).name().to_owned();
        if let Some(Runtime::Timer(t)) = self.runtime.get(&info.name) {
            let ms = |s: SystemTime| {
                s.duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            };
            info.next_elapse_ms = t.next_elapse(Instant::now(), SystemTime::now()).map(ms);
            info.last_trigger_ms = t.last_trigger().map(ms);
            info.triggers = vec![(t.unit.clone(), state(&t.unit))];
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit::Timespan;

    fn secs(n: u64) -> Timespan {
        Timespan::Finite(Duration::from_secs(n))
    }

    fn run(section: TimerSection) -> TimerRun {
        TimerRun::new(&section, "x.service".into(), None, None)
    }

    /// Clocks where bosun started `up` seconds ago, at wall-clock `real`.
    fn clocks(up: u64, real: SystemTime) -> Clocks {
        let mono = Instant::now() + Duration::from_secs(3600);
        Clocks {
            mono,
            real,
            started: mono - Duration::from_secs(up),
        }
    }

    fn at(unix: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(unix)
    }

    #[test]
    fn on_active_counts_from_the_start_and_fires_once() {
        let mut t = run(TimerSection {
            on_active: vec![secs(30)],
            ..TimerSection::default()
        });
        let c = clocks(100, at(1_000_000));
        t.prepare_start(c.mono, c.real);
        assert!(t.arm(c));
        assert_eq!(t.next.mono, Some(c.mono + Duration::from_secs(30)));
        assert_eq!(t.next.real, None);
        // It fired: 40 s later, nothing is left (single-shot), and it is not kept by OnUnit*.
        let later = Clocks {
            mono: c.mono + Duration::from_secs(40),
            real: c.real + Duration::from_secs(40),
            started: c.started,
        };
        t.last_trigger = Some(LastTrigger {
            real: later.real,
            mono: Some(c.mono + Duration::from_secs(30)),
        });
        assert!(!t.arm(later));
        assert!(!t.next.leave);
        // A new start arms it again.
        t.prepare_start(later.mono, later.real);
        assert!(t.arm(later));
        assert_eq!(t.next.mono, Some(later.mono + Duration::from_secs(30)));
    }

    #[test]
    fn on_boot_and_on_startup_count_from_bosuns_start() {
        let mut t = run(TimerSection {
            on_boot: vec![secs(300)],
            on_startup: vec![secs(200)],
            ..TimerSection::default()
        });
        let c = clocks(100, at(1_000_000));
        t.prepare_start(c.mono, c.real);
        assert!(t.arm(c));
        assert_eq!(t.next.mono, Some(c.started + Duration::from_secs(200)));
        // Already past when started late: with no trigger yet it is due now (not spent).
        let late = clocks(1000, at(1_000_000));
        let mut t = run(TimerSection {
            on_boot: vec![secs(300)],
            ..TimerSection::default()
        });
        t.prepare_start(late.mono, late.real);
        assert!(t.arm(late));
        assert!(t.next.mono.unwrap() < late.mono);
        t.state = TimerState::Waiting;
        assert!(t.due(late.mono, late.real));
    }

    #[test]
    fn on_unit_active_needs_the_unit_to_have_run_and_keeps_the_timer() {
        let mut t = run(TimerSection {
            on_unit_active: vec![secs(60)],
            ..TimerSection::default()
        });
        let c = clocks(100, at(1_000_000));
        t.prepare_start(c.mono, c.real);
        assert!(!t.arm(c), "the unit never ran: nothing to count from");
        assert!(
            t.next.leave,
            "but the timer stays (elapsed) for when it runs"
        );
        let ran = c.mono + Duration::from_secs(5);
        t.unit_active = Some(ran);
        assert!(t.arm(c));
        assert_eq!(t.next.mono, Some(ran + Duration::from_secs(60)));
        // The later of the unit's activation and the last trigger counts.
        t.last_trigger = Some(LastTrigger {
            real: c.real,
            mono: Some(ran + Duration::from_secs(10)),
        });
        assert!(t.arm(c));
        assert_eq!(t.next.mono, Some(ran + Duration::from_secs(70)));
    }

    /// An hourly UTC calendar timer started and armed 100 s after boot at 1_000_000 s
    /// (1970-01-12 13:46:40 UTC: the next full hour is 14:00:00).
    fn hourly_armed() -> (TimerRun, Clocks) {
        let spec = CalendarSpec::parse("*-*-* *:00:00 UTC").unwrap();
        let mut t = run(TimerSection {
            on_calendar: vec![spec],
            ..TimerSection::default()
        });
        let c = clocks(100, at(1_000_000));
        t.prepare_start(c.mono, c.real);
        assert!(t.arm(c));
        (t, c)
    }

    #[test]
    fn calendar_elapses_from_activation_then_from_the_last_trigger() {
        let (mut t, c) = hourly_armed();
        assert_eq!(t.next.real, Some(at(1_000_800)));
        assert_eq!(t.wake_real, Some(c.mono + Duration::from_secs(800)));
        assert!(!t.due(c.mono, c.real));
        // Triggered at 14:00:00.2: the next is 15:00.
        t.last_trigger = Some(LastTrigger {
            real: at(1_000_800) + Duration::from_millis(200),
            mono: None,
        });
        assert!(t.arm(c));
        assert_eq!(t.next.real, Some(at(1_004_400)));
    }

    #[test]
    fn a_calendar_instant_that_comes_early_by_the_wall_clock_waits_again() {
        let (mut t, _) = hourly_armed();
        t.state = TimerState::Waiting;
        // The instant came, but the clock was set back 10 s meanwhile.
        let wake = t.wake_real.unwrap();
        assert!(!t.due(wake, at(1_000_790)));
        assert_eq!(t.wake_real, Some(wake + Duration::from_secs(10)));
        assert!(t.due(wake + Duration::from_secs(10), at(1_000_800)));
    }

    #[test]
    fn persistent_catch_up_fires_once_at_start() {
        let spec = CalendarSpec::parse("*-*-* 00:00:00 UTC").unwrap();
        let section = TimerSection {
            on_calendar: vec![spec],
            persistent: true,
            ..TimerSection::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let stamp = dir.path().join("timers/stamp-x.timer");
        // Day 11 at 13:46:40, bosun up 100 s; the stamp says day 9 at noon: midnights of
        // days 10 and 11 were missed.
        let c = clocks(100, at(1_000_000));
        write_stamp(&stamp, Some(at(9 * 86_400 + 43_200))).unwrap();
        let mut t = TimerRun::new(&section, "x.service".into(), Some(stamp.clone()), None);
        assert_eq!(t.prepare_start(c.mono, c.real), None);
        assert!(t.arm(c));
        // Due at bosun's start (in the past, so at once) ...
        assert_eq!(t.next.real, Some(c.started_real()));
        t.state = TimerState::Waiting;
        assert!(t.due(c.mono, c.real));
        // ... once: after the trigger the next is the coming midnight.
        t.last_trigger = Some(LastTrigger {
            real: c.real,
            mono: Some(c.mono),
        });
        assert!(t.arm(c));
        assert_eq!(t.next.real, Some(at(12 * 86_400)));
        // Without Persistent= the stamp is not read: the next is the coming midnight.
        let mut plain = TimerRun::new(
            &TimerSection {
                persistent: false,
                ..section.clone()
            },
            "x.service".into(),
            Some(stamp.clone()),
            None,
        );
        plain.prepare_start(c.mono, c.real);
        assert!(plain.arm(c));
        assert_eq!(plain.next.real, Some(at(12 * 86_400)));
        // A first start with Persistent= creates the stamp and does not fire.
        let fresh = dir.path().join("timers/stamp-y.timer");
        let mut t = TimerRun::new(&section, "y.service".into(), Some(fresh.clone()), None);
        assert_eq!(t.prepare_start(c.mono, c.real), None);
        assert!(fresh.exists());
        assert!(t.arm(c));
        assert_eq!(t.next.real, Some(at(12 * 86_400)));
    }

    #[test]
    fn randomized_delay_stays_below_its_bound_and_fixed_is_stable() {
        let spec = CalendarSpec::parse("*-*-* *:00:00 UTC").unwrap();
        let section = TimerSection {
            on_calendar: vec![spec],
            on_active: vec![secs(10)],
            randomized_delay: Some(secs(60)),
            ..TimerSection::default()
        };
        let c = clocks(100, at(1_000_000));
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..50 {
            let mut t = run(section.clone());
            t.prepare_start(c.mono, c.real);
            assert!(t.arm(c));
            let real = t.next.real.unwrap().duration_since(at(1_000_800)).unwrap();
            let mono = t.next.mono.unwrap() - (c.mono + Duration::from_secs(10));
            assert!(real < Duration::from_secs(60) && mono < Duration::from_secs(60));
            seen.insert(real);
        }
        assert!(seen.len() > 1, "the delay is random at each arming");
        let fixed = TimerSection {
            fixed_random_delay: true,
            ..section
        };
        let hash = fixed_delay_hash(&[7; 16], "x.timer");
        let mut a = TimerRun::new(&fixed, "x.service".into(), None, Some(hash));
        let mut b = TimerRun::new(&fixed, "x.service".into(), None, Some(hash));
        a.prepare_start(c.mono, c.real);
        b.prepare_start(c.mono, c.real);
        assert!(a.arm(c) && b.arm(c));
        assert_eq!(a.next, b.next);
        assert_eq!(
            a.next.real,
            Some(at(1_000_800) + Duration::from_micros(hash % 60_000_000))
        );
        assert_ne!(hash, fixed_delay_hash(&[7; 16], "z.timer"));
    }

    #[test]
    fn the_fixed_delay_hash_is_siphash_2_4() {
        // The reference test vector of SipHash-2-4 (key 00..0f, empty message).
        use std::hash::Hasher;
        let key: Vec<u8> = (0u8..16).collect();
        let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap());
        #[allow(deprecated)]
        let h = std::hash::SipHasher::new_with_keys(word(&key[..8]), word(&key[8..]));
        assert_eq!(h.finish(), 0x726f_db47_dd0e_0e31);
    }

    #[test]
    fn machine_ids_are_read_as_bytes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/machine-id"),
            "000102030405060708090a0b0c0d0e0f\n",
        )
        .unwrap();
        let id = machine_id(dir.path());
        assert_eq!(id[1], 1);
        assert_eq!(id[15], 15);
        std::fs::write(dir.path().join("etc/machine-id"), "uninitialized\n").unwrap();
        assert_eq!(machine_id(dir.path()), [0; 16]);
    }

    #[test]
    fn states_are_systemds() {
        assert_eq!(TimerState::Waiting.active(), Active::Active);
        assert_eq!(TimerState::Elapsed.active(), Active::Active);
        assert_eq!(TimerState::Running.name(), "running");
        assert_eq!(TimerState::Dead.active(), Active::Inactive);
        assert_eq!(TimerState::Failed.active(), Active::Failed);
    }
}
