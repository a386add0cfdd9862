//! The pure half of timer units (systemd.timer(5), after systemd 252's src/core/timer.c): a
//! timer's triggers, its state, and when it elapses next. The next elapse is computed purely
//! ([`TimerRun::compute`]) from the clocks passed in and the facts the triggers count from: the
//! timer's activation (OnActiveSec=), bosun's start (OnBootSec= and OnStartupSec=: in a
//! container the boot is the container's, as timer.c decides), the triggered unit's last
//! activation and deactivation (OnUnitActiveSec=, OnUnitInactiveSec=), the last trigger
//! (OnCalendar=, whose elapses are wall-clock times). A calendar elapse is armed as an
//! `Instant` and checked against the wall clock when that instant comes: when the clock says it
//! is not time yet (it was set back), it is armed again. AccuracySec= lets systemd fire late to
//! coalesce wake-ups; bosun fires on time, never early.
//!
//! Owns the Persistent= stamps' format (`stamp-NAME`, whose mtime is the last trigger) and
//! FixedRandomDelay='s hash. Must not queue jobs or know other units: the glue in
//! [`super`] does that, against the engine.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::manager::engine::Note;
use crate::service::state::Active;
use crate::unit::calendar::CalendarSpec;
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
pub(in crate::manager::engine) enum TimerState {
    Dead,
    Waiting,
    Running,
    Elapsed,
    Failed,
}

impl TimerState {
    /// The sub-state as systemctl shows it.
    pub(in crate::manager::engine) fn name(self) -> &'static str {
        match self {
            TimerState::Dead => "dead",
            TimerState::Waiting => "waiting",
            TimerState::Running => "running",
            TimerState::Elapsed => "elapsed",
            TimerState::Failed => "failed",
        }
    }

    pub(in crate::manager::engine) fn active(self) -> Active {
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
pub(in crate::manager::engine) struct Clocks {
    pub(in crate::manager::engine) mono: Instant,
    pub(in crate::manager::engine) real: SystemTime,
    pub(in crate::manager::engine) started: Instant,
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
pub(in crate::manager::engine) struct TimerRun {
    values: Vec<Value>,
    /// RandomizedDelaySec=.
    random: Duration,
    /// FixedRandomDelay=: the hash of machine id and name the delay is taken from, instead of
    /// a new random number at each arming.
    fixed: Option<u64>,
    remain_after_elapse: bool,
    /// The unit it starts (canonical name).
    pub(in crate::manager::engine) unit: String,
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
    pub(in crate::manager::engine) fn new(
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

    pub(in crate::manager::engine) fn state(&self) -> TimerState {
        self.state
    }

    pub(in crate::manager::engine) fn active(&self) -> Active {
        self.state.active()
    }

    pub(in crate::manager::engine) fn result(&self) -> &'static str {
        self.result
    }

    /// `systemctl reset-failed`: a failed timer is dead again, its result forgotten.
    pub(in crate::manager::engine) fn reset_failed(&mut self) {
        if self.state == TimerState::Failed {
            self.state = TimerState::Dead;
        }
        self.result = "success";
    }

    /// The deadline PID 1's loop wakes up at, while waiting.
    pub(in crate::manager::engine) fn deadline(&self) -> Option<Instant> {
        if self.state != TimerState::Waiting {
            return None;
        }
        [self.next.mono, self.wake_real].into_iter().flatten().min()
    }

    /// The next elapse on the wall clock (the monotonic one converted at `now`), as
    /// `list-timers` shows it (systemctl calc_next_elapse()).
    pub(in crate::manager::engine) fn next_elapse(
        &self,
        now: Instant,
        now_real: SystemTime,
    ) -> Option<SystemTime> {
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
    pub(in crate::manager::engine) fn last_trigger(&self) -> Option<SystemTime> {
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
    pub(in crate::manager::engine) fn due(&mut self, now: Instant, now_real: SystemTime) -> bool {
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
    pub(in crate::manager::engine) fn prepare_start(
        &mut self,
        now: Instant,
        now_real: SystemTime,
    ) -> Option<Note> {
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

    /// Move to `state`; true when its active state changed. Leaving `waiting` disarms.
    pub(in crate::manager::engine) fn set_state(&mut self, state: TimerState) -> bool {
        let before = self.state.active();
        self.state = state;
        if state != TimerState::Waiting {
            self.next = Next::default();
            self.wake_real = None;
        }
        before != state.active()
    }

    /// Arm the next elapse (timer.c timer_enter_waiting()): the state to enter, `waiting`, or
    /// `elapsed` (or `dead`) when nothing is left to wait for.
    pub(in crate::manager::engine) fn enter_waiting(&mut self, c: Clocks) -> TimerState {
        if self.arm(c) {
            TimerState::Waiting
        } else if self.remain_after_elapse || self.next.leave {
            TimerState::Elapsed
        } else {
            TimerState::Dead
        }
    }

    /// The unit could not be started (not loaded, its job refused): the result is
    /// `resources`, as timer.c sets it.
    pub(in crate::manager::engine) fn lack_resources(&mut self) {
        self.result = "resources";
    }

    /// It elapses now (timer.c timer_enter_running()): the trigger recorded; the stamp to
    /// touch, when Persistent=.
    pub(in crate::manager::engine) fn record_trigger(
        &mut self,
        now: Instant,
        real: SystemTime,
    ) -> Option<PathBuf> {
        self.last_trigger = Some(LastTrigger {
            real,
            mono: Some(now),
        });
        self.stamp.clone()
    }

    /// The triggered unit's active state went from down to up (`became_up`) or the other way,
    /// at `now` (timer.c timer_trigger_notify()).
    pub(in crate::manager::engine) fn see_unit(
        &mut self,
        was_down: bool,
        is_down: bool,
        now: Instant,
    ) {
        if was_down && !is_down {
            self.unit_active = Some(now);
        }
        if !was_down && is_down {
            self.unit_inactive = Some(now);
        }
    }

    /// OnUnitActiveSec= and OnUnitInactiveSec= count again (the unit changed), and whether the
    /// timer re-arms now: when waiting or elapsed, or running and its unit is down.
    pub(in crate::manager::engine) fn rearm_unit_triggers(&mut self, unit_down: bool) -> bool {
        for v in &mut self.values {
            if matches!(
                v.trigger,
                Trigger::Monotonic(Base::UnitActive | Base::UnitInactive, _)
            ) {
                v.disabled = false;
            }
        }
        match self.state {
            TimerState::Waiting | TimerState::Elapsed => true,
            TimerState::Running => unit_down,
            _ => false,
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
pub(in crate::manager::engine) fn write_stamp(
    path: &Path,
    at: Option<SystemTime>,
) -> std::io::Result<()> {
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
pub(in crate::manager::engine) fn fixed_delay_hash(machine_id: &[u8; 16], name: &str) -> u64 {
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
pub(in crate::manager::engine) fn machine_id(root: &Path) -> [u8; 16] {
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
#[cfg(test)]
mod tests;
