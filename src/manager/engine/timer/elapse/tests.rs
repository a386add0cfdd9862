//! The next-elapse computation, without processes or an engine.

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
