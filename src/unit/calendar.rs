//! Calendar events, the `OnCalendar=` values of timer units (systemd.time(7), "Calendar
//! events"): [`CalendarSpec::parse`] accepts exactly what systemd 252's
//! `calendar_spec_from_string()` accepts, [`Display`](fmt::Display) prints systemd's normalized
//! form (as `systemd-analyze calendar` does), and [`CalendarSpec::next_after`] computes the
//! next elapse with systemd's algorithm (calendarspec.c `find_next`), in UTC, the local zone
//! or a named zone, including how it treats wall-clock times a DST change skips or repeats.
//!
//! The pure part of timers: nothing here arms a timer or reads the clock. The only I/O is
//! reading time zone files (`zone`), when an event names a zone and for the local zone.
//!
//! Files: `parse` reads the text, `check` normalises it and checks ranges, `next` computes
//! elapses, `civil` is C's `struct tm` with glibc's `mktime`, `zone` reads TZif files and
//! finds the local zone, `rule` applies POSIX `TZ` rules.

mod check;
mod civil;
mod next;
mod parse;
mod rule;
mod zone;

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use zone::{TimeZone, ZONEINFO, ZoneError};

/// Why a calendar event does not parse.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// The text breaks the grammar or a field is out of range; `why` names the part.
    #[error("{text:?} is not a calendar event: {why}")]
    Invalid {
        /// The expression as given.
        text: String,
        /// What is wrong, and in which part.
        why: String,
    },
    /// The expression names a time zone whose file cannot be used.
    #[error("{text:?} is not a calendar event: time zone {name:?} cannot be used")]
    Zone {
        /// The expression as given.
        text: String,
        /// The zone it names.
        name: String,
        /// Why the zone file cannot be used.
        #[source]
        source: ZoneError,
    },
}

/// One element of a list in one field: `start`, `start..stop`, `start/repeat` or
/// `start..stop/repeat`. Seconds are kept in microseconds. `stop` is -1 when there is none.
/// Ordered as systemd sorts them (start, stop, repeat).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Component {
    start: i64,
    stop: i64,
    repeat: i64,
}

/// The zone an event is computed in.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Zone {
    /// ` UTC` at the end (or `@EPOCH`). glibc's `gmtime` and `timegm` count the leap seconds
    /// of the zone `TZ` names (a `right/` zone): those of this zone, the local one, or the
    /// one named after `@EPOCH` (systemd computes in a child with `TZ` set to it).
    Utc(Arc<TimeZone>),
    /// No zone: the local zone as it was when the event was parsed. `dst` is set when the
    /// event ends with the zone's standard (`false`) or DST (`true`) abbreviation.
    Local {
        zone: Arc<TimeZone>,
        dst: Option<bool>,
    },
    /// A zone from /usr/share/zoneinfo, named at the end.
    Named(Arc<TimeZone>),
}

/// A parsed calendar event. An empty list in a field means `*` (any value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarSpec {
    /// Bit 0 = Monday .. bit 6 = Sunday; `None` for any day.
    weekdays: Option<u8>,
    year: Vec<Component>,
    month: Vec<Component>,
    day: Vec<Component>,
    /// `day` counts back from the end of the month (`~`).
    end_of_month: bool,
    hour: Vec<Component>,
    minute: Vec<Component>,
    /// Microseconds within the minute; never empty.
    second: Vec<Component>,
    zone: Zone,
}

/// The local zone, read once per process (glibc also reads it once, at the first `tzset`).
fn local_zone() -> Arc<TimeZone> {
    static LOCAL: OnceLock<Arc<TimeZone>> = OnceLock::new();
    LOCAL.get_or_init(|| Arc::new(TimeZone::local())).clone()
}

const USEC_PER_SEC: i64 = 1_000_000;

/// The latest year an event can elapse in (calendarspec.c MAX_YEAR).
const MAX_YEAR: i64 = 2199;

/// The earliest year an event can name (calendarspec.c MIN_YEAR).
const MIN_YEAR: i64 = 1970;

impl CalendarSpec {
    /// Parse a calendar event as systemd 252 does, in the local zone (`TZ`, else
    /// /etc/localtime) when the event names none.
    pub fn parse(text: &str) -> Result<CalendarSpec, CalendarError> {
        Self::parse_in(text, &local_zone())
    }

    /// [`Self::parse`] with `local` as the local zone.
    pub fn parse_in(text: &str, local: &Arc<TimeZone>) -> Result<CalendarSpec, CalendarError> {
        parse::parse(text, local, &|name| {
            TimeZone::is_valid_name(name).then(|| TimeZone::load(name).map(Arc::new))
        })
    }

    /// The first elapse strictly after `t`, or `None` when the event never elapses again
    /// (a date in the past, a day no month has, beyond the year 2199).
    pub fn next_after(&self, t: SystemTime) -> Option<SystemTime> {
        let usec = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_micros()).ok()?,
            // systemd's clock starts at the epoch: from before it, the epoch is the start.
            Err(_) => -1,
        };
        let next = self.next_usec(usec)?;
        Some(UNIX_EPOCH + Duration::from_micros(u64::try_from(next).ok()?))
    }
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

impl fmt::Display for CalendarSpec {
    /// systemd's normalized form (calendar_spec_to_string).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(bits) = self.weekdays {
            write_weekdays(f, bits)?;
            f.write_str(" ")?;
        }
        write_chain(f, 4, &self.year, false)?;
        f.write_str("-")?;
        write_chain(f, 2, &self.month, false)?;
        f.write_str(if self.end_of_month { "~" } else { "-" })?;
        write_chain(f, 2, &self.day, false)?;
        f.write_str(" ")?;
        write_chain(f, 2, &self.hour, false)?;
        f.write_str(":")?;
        write_chain(f, 2, &self.minute, false)?;
        f.write_str(":")?;
        write_chain(f, 2, &self.second, true)?;
        match &self.zone {
            Zone::Utc(_) => f.write_str(" UTC"),
            Zone::Named(zone) => write!(f, " {}", zone.name()),
            Zone::Local { zone, dst: Some(d) } => {
                let name = zone.tzname()[usize::from(*d)];
                if name.is_empty() {
                    Ok(())
                } else {
                    write!(f, " {name}")
                }
            }
            Zone::Local { dst: None, .. } => Ok(()),
        }
    }
}

/// Weekdays as systemd prints them: runs of three or more as `A..B`, pairs as `A,B`.
fn write_weekdays(f: &mut fmt::Formatter<'_>, bits: u8) -> fmt::Result {
    let mut run_start: Option<usize> = None;
    let mut need_comma = false;
    for x in 0..=WEEKDAYS.len() {
        let set = x < WEEKDAYS.len() && bits & (1 << x) != 0;
        if set {
            if run_start.is_none() {
                if need_comma {
                    f.write_str(",")?;
                }
                need_comma = true;
                f.write_str(WEEKDAYS[x])?;
                run_start = Some(x);
            }
        } else if let Some(l) = run_start.take()
            && x > l + 1
        {
            f.write_str(if x > l + 2 { ".." } else { "," })?;
            f.write_str(WEEKDAYS[x - 1])?;
        }
    }
    Ok(())
}

/// One field as systemd prints it (calendarspec.c `format_chain`): zero-padded to `width`,
/// seconds with six decimals when they have a fraction.
fn write_chain(
    f: &mut fmt::Formatter<'_>,
    width: usize,
    chain: &[Component],
    usec: bool,
) -> fmt::Result {
    let d = if usec { USEC_PER_SEC } else { 1 };
    // chain_is_star: no element, or seconds with one element covering all of them (0/1).
    let all_seconds = |c: &Component| c.start == 0 && c.stop < 0 && c.repeat == USEC_PER_SEC;
    if chain.is_empty() || (usec && chain.iter().any(all_seconds)) {
        return f.write_str("*");
    }
    for (i, c) in chain.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "{:0width$}", c.start / d)?;
        if c.start % d > 0 {
            write!(f, ".{:06}", c.start % d)?;
        }
        if c.stop > 0 {
            write!(f, "..{:0width$}", c.stop / d)?;
        }
        if c.stop % d > 0 {
            write!(f, ".{:06}", c.stop % d)?;
        }
        if c.repeat > 0 && !(c.stop > 0 && c.repeat == d) {
            write!(f, "/{}", c.repeat / d)?;
        }
        if c.repeat % d > 0 {
            write!(f, ".{:06}", c.repeat % d)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::civil::Tm;
    use super::*;

    /// The zones of these tests, independent of the machine's tz database: the local zone is
    /// UTC unless a test says otherwise, `Europe/Berlin` and `America/New_York` are their
    /// current rules.
    fn spec_in(text: &str, local: &Arc<TimeZone>) -> Result<CalendarSpec, CalendarError> {
        parse::parse(text, local, &|name| {
            let rule = match name {
                "Europe/Berlin" => "CET-1CEST,M3.5.0,M10.5.0/3",
                "America/New_York" => "EST5EDT,M3.2.0,M11.1.0",
                "Asia/Tokyo" => "JST-9",
                _ => return None,
            };
            let mut zone = TimeZone::from_posix(rule)?;
            zone.rename(name);
            Some(Ok(Arc::new(zone)))
        })
    }

    fn spec(text: &str) -> CalendarSpec {
        spec_in(text, &Arc::new(TimeZone::utc())).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Seconds since the epoch of a UTC date and time.
    fn utc(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> SystemTime {
        let (t, _) = civil::timegm(&Tm {
            year: y,
            mon: mo - 1,
            mday: d,
            hour: h,
            min: mi,
            sec: s,
            wday: 0,
            yday: 0,
            isdst: 0,
            gmtoff: 0,
        });
        UNIX_EPOCH + Duration::from_secs(u64::try_from(t).unwrap())
    }

    /// A time as `systemd-analyze calendar` prints it in UTC.
    fn show(t: SystemTime) -> String {
        let d = t.duration_since(UNIX_EPOCH).unwrap();
        let tm = civil::breakdown(i64::try_from(d.as_secs()).unwrap(), 0, 0);
        let wday = WEEKDAYS[usize::try_from((tm.wday + 6) % 7).unwrap()];
        let frac = d.subsec_micros();
        let frac = if frac > 0 {
            format!(".{frac:06}")
        } else {
            String::new()
        };
        format!(
            "{wday} {:04}-{:02}-{:02} {:02}:{:02}:{:02}{frac}",
            tm.year,
            tm.mon + 1,
            tm.mday,
            tm.hour,
            tm.min,
            tm.sec
        )
    }

    /// The next `n` elapses of `s` after `from`, as [`show`] prints them.
    fn elapses(s: &CalendarSpec, from: SystemTime, n: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut t = from;
        for _ in 0..n {
            match s.next_after(t) {
                Some(next) => {
                    assert!(next > t, "{s}: {} is not after {}", show(next), show(t));
                    out.push(show(next));
                    t = next;
                }
                None => break,
            }
        }
        out
    }

    #[test]
    fn normalized_forms_match_systemd_analyze() {
        // Checked against systemd-analyze calendar (systemd 252) on a machine in UTC.
        let cases = [
            ("minutely", "*-*-* *:*:00"),
            ("hourly", "*-*-* *:00:00"),
            ("daily", "*-*-* 00:00:00"),
            ("monthly", "*-*-01 00:00:00"),
            ("weekly", "Mon *-*-* 00:00:00"),
            ("yearly", "*-01-01 00:00:00"),
            ("Annually", "*-01-01 00:00:00"),
            ("anually", "*-01-01 00:00:00"),
            ("quarterly", "*-01,04,07,10-01 00:00:00"),
            ("semi-annually", "*-01,07-01 00:00:00"),
            ("biannually", "*-01,07-01 00:00:00"),
            ("*-*-* 00:00:00", "*-*-* 00:00:00"),
            ("Mon..Fri 08:00", "Mon..Fri *-*-* 08:00:00"),
            ("mon..wed,fri", "Mon..Wed,Fri *-*-* 00:00:00"),
            ("Monday-Wednesday", "Mon..Wed *-*-* 00:00:00"),
            ("Mon..Sun", "*-*-* 00:00:00"),
            ("Sat,Sun,Mon", "Mon,Sat,Sun *-*-* 00:00:00"),
            ("Tue,Wed,Thu,Sat", "Tue..Thu,Sat *-*-* 00:00:00"),
            ("mon,", "Mon *-*-* 00:00:00"),
            ("Mon, 12:00", "Mon *-*-* 12:00:00"),
            ("Mon  12:00", "Mon *-*-* 12:00:00"),
            ("*:0/15", "*-*-* *:00/15:00"),
            ("*:0..59/15", "*-*-* *:00..45/15:00"),
            ("0..23/6:00", "*-*-* 00..18/6:00:00"),
            ("*-*-* 10..10:00", "*-*-* 10:00:00"),
            ("*-*-* 10..12/5:00", "*-*-* 10:00:00"),
            ("*-*-* 10..20/5:00", "*-*-* 10..20/5:00:00"),
            ("*:*:1.5..3", "*-*-* *:*:01.500000..02.500000"),
            ("*:*:1.5..3.2/0.5", "*-*-* *:*:01.500000..03/0.500000"),
            ("*:*:00/0.25", "*-*-* *:*:00/0.250000"),
            ("*:*:0..59", "*-*-* *:*:00..59"),
            ("*:*:0.5,0/1", "*-*-* *:*:*"),
            ("*:*:*", "*-*-* *:*:*"),
            ("*:*:59.999999", "*-*-* *:*:59.999999"),
            (
                "*-*-* 00:00:00.000001/0.000001",
                "*-*-* 00:00:00.000001/0.000001",
            ),
            ("*-*~03", "*-*~03 00:00:00"),
            ("*-*~1..3", "*-*~01..03 00:00:00"),
            ("2024-*~7/2", "2024-*~07/2 00:00:00"),
            ("*~*", "*-*-* 00:00:00"),
            ("12-1", "*-12-01 00:00:00"),
            ("70-01-01", "1970-01-01 00:00:00"),
            ("69-01-01", "2069-01-01 00:00:00"),
            ("2024..2030/3-01-01", "2024..2030/3-01-01 00:00:00"),
            ("*-*-1,15,1..3/1", "*-*-01,01..03,15 00:00:00"),
            ("*-1..12/3-1", "*-01..10/3-01 00:00:00"),
            ("1,2,3,3,2,1:00", "*-*-* 01,02,03:00:00"),
            ("1..3,5:00", "*-*-* 01..03,05:00:00"),
            ("@0", "1970-01-01 00:00:00 UTC"),
            ("@ 5", "1970-01-01 00:00:05 UTC"),
            ("@+1700000000", "2023-11-14 22:13:20 UTC"),
            ("@1700000000 Europe/Berlin", "2023-11-14 22:13:20 UTC"),
            ("daily utc", "*-*-* 00:00:00 UTC"),
            ("hourly Europe/Berlin", "*-*-* *:00:00 Europe/Berlin"),
            ("weekly Asia/Tokyo", "Mon *-*-* 00:00:00 Asia/Tokyo"),
            ("*-*-* 6,18:00", "*-*-* 06,18:00:00"),
            ("Sun *-*-* 03:10:00", "Sun *-*-* 03:10:00"),
        ];
        for (text, normal) in cases {
            assert_eq!(spec(text).to_string(), normal, "{text:?}");
            // The normalized form parses to itself.
            assert_eq!(spec(normal).to_string(), normal, "{normal:?}");
        }
    }

    #[test]
    fn next_elapses_in_utc() {
        let base = utc(2024, 3, 30, 12, 0, 0);
        let cases: [(&str, &[&str]); 14] = [
            (
                "Mon..Fri 08:00",
                &["Mon 2024-04-01 08:00:00", "Tue 2024-04-02 08:00:00"],
            ),
            (
                "*:0/15",
                &["Sat 2024-03-30 12:15:00", "Sat 2024-03-30 12:30:00"],
            ),
            (
                "*-*~03",
                &["Sun 2024-04-28 00:00:00", "Wed 2024-05-29 00:00:00"],
            ),
            (
                "*-*~28",
                &["Wed 2024-04-03 00:00:00", "Sat 2024-05-04 00:00:00"],
            ),
            (
                "*-02-29",
                &["Tue 2028-02-29 00:00:00", "Sun 2032-02-29 00:00:00"],
            ),
            (
                "*-*-31",
                &["Sun 2024-03-31 00:00:00", "Fri 2024-05-31 00:00:00"],
            ),
            (
                "Mon *-*-1..7 00:00",
                &["Mon 2024-04-01 00:00:00", "Mon 2024-05-06 00:00:00"],
            ),
            (
                "2024..2030/3-01-01",
                &["Fri 2027-01-01 00:00:00", "Tue 2030-01-01 00:00:00"],
            ),
            (
                "*:*:1.5..3",
                &[
                    "Sat 2024-03-30 12:00:01.500000",
                    "Sat 2024-03-30 12:00:02.500000",
                ],
            ),
            ("*-02-30", &[]),
            ("2023-01-01", &[]),
            ("@1700000000", &[]),
            ("2199-12-31 23:59:59", &["Tue 2199-12-31 23:59:59"]),
            (
                "quarterly",
                &["Mon 2024-04-01 00:00:00", "Mon 2024-07-01 00:00:00"],
            ),
        ];
        for (text, want) in cases {
            assert_eq!(elapses(&spec(text), base, 2), want, "{text:?}");
        }
        // Strictly after: an elapse at the base itself is not the next one.
        let s = spec("*-*-* 12:00:00");
        assert_eq!(elapses(&s, base, 1), ["Sun 2024-03-31 12:00:00"]);
        assert_eq!(
            show(s.next_after(base - Duration::from_micros(1)).unwrap()),
            show(base)
        );
    }

    #[test]
    fn next_elapses_in_a_named_zone_across_dst() {
        // Europe/Berlin: DST starts 2024-03-31 at 02:00 (the wall clock skips to 03:00) and
        // ends 2024-10-27 at 03:00 (02:00..03:00 happens twice). Checked against
        // systemd-analyze calendar --base-time (the elapses in UTC).
        let cases: [(&str, SystemTime, &[&str]); 5] = [
            // A skipped time is skipped for that day.
            (
                "*-*-* 02:30 Europe/Berlin",
                utc(2024, 3, 30, 12, 0, 0),
                &["Mon 2024-04-01 00:30:00", "Tue 2024-04-02 00:30:00"],
            ),
            (
                "*-03-31 02:30 Europe/Berlin",
                utc(2024, 3, 30, 12, 0, 0),
                &["Mon 2025-03-31 00:30:00", "Tue 2026-03-31 00:30:00"],
            ),
            // A repeated time elapses once, at its first (DST) instant.
            (
                "*-10-27 02:30 Europe/Berlin",
                utc(2024, 3, 30, 12, 0, 0),
                &["Sun 2024-10-27 00:30:00", "Mon 2025-10-27 01:30:00"],
            ),
            (
                "daily Europe/Berlin",
                utc(2024, 1, 1, 0, 0, 0),
                &["Mon 2024-01-01 23:00:00", "Tue 2024-01-02 23:00:00"],
            ),
            (
                "*-*-* 2:00/15 Europe/Berlin",
                utc(2024, 10, 26, 23, 50, 0),
                &["Sun 2024-10-27 00:00:00", "Sun 2024-10-27 00:15:00"],
            ),
        ];
        for (text, base, want) in cases {
            assert_eq!(elapses(&spec(text), base, want.len()), want, "{text:?}");
        }
    }

    #[test]
    fn local_zone_and_its_abbreviations() {
        // As systemd-analyze with TZ=Europe/Berlin: CET/CEST at the end select standard or
        // DST for mktime, and print as written in the zone's own case.
        let berlin = Arc::new(TimeZone::from_posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap());
        let s = spec_in("daily cet", &berlin).unwrap();
        assert_eq!(s.to_string(), "*-*-* 00:00:00 CET");
        assert_eq!(
            elapses(&s, utc(2024, 3, 30, 12, 0, 0), 1),
            ["Sat 2024-03-30 23:00:00"]
        );
        let s = spec_in("*-*-* 02:30", &berlin).unwrap();
        assert_eq!(
            elapses(&s, utc(2024, 10, 26, 12, 0, 0), 2),
            ["Sun 2024-10-27 00:30:00", "Mon 2024-10-28 01:30:00"]
        );
        let s = spec_in("*-*-* 02:30 CEST", &berlin).unwrap();
        assert_eq!(s.to_string(), "*-*-* 02:30:00 CEST");
        assert_eq!(
            elapses(&s, utc(2024, 10, 26, 12, 0, 0), 2),
            ["Sun 2024-10-27 00:30:00", "Mon 2024-10-28 01:30:00"]
        );
        // Outside the local zone the abbreviations are not zones (CET would be a file under
        // /usr/share/zoneinfo on a real machine; this test has none).
        assert!(spec_in("daily CET", &Arc::new(TimeZone::utc())).is_err());
    }
}
