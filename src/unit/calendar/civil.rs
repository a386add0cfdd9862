//! Broken-down time, C's `struct tm`, and the conversions calendar events are computed with:
//! from a UNIX time to wall-clock fields at a UTC offset, and back with glibc's `mktime`
//! rules. systemd's calendar arithmetic (calendarspec.c) leans on `mktime` to normalise
//! out-of-range fields (the 32nd of a month, hour 24) and to place wall-clock times that a DST
//! change skips or repeats, so bosun reproduces that behaviour here rather than inventing its
//! own. Pure arithmetic: no I/O, no clock.

/// Broken-down time. Fields may be out of their usual range before normalisation, as in C.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tm {
    /// The full year (not minus 1900).
    pub year: i64,
    /// Month, 0 = January.
    pub mon: i64,
    /// Day of the month, from 1.
    pub mday: i64,
    pub hour: i64,
    pub min: i64,
    pub sec: i64,
    /// Day of the week, 0 = Sunday (set by conversions).
    pub wday: i64,
    /// Day of the year, 0 = January 1st (set by conversions).
    pub yday: i64,
    /// Daylight saving time: 1 yes, 0 no, -1 unknown (a request to `mktime`).
    pub isdst: i32,
    /// Seconds east of UTC (set by conversions).
    pub gmtoff: i64,
}

const SECS_PER_DAY: i64 = 86_400;

/// Days before each month, in common and leap years.
const MON_YDAY: [[i64; 13]; 2] = [
    [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365],
    [0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366],
];

/// Whether `year` is a Gregorian leap year.
pub(crate) fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// The days before `month` (1..=12) of `year`.
pub(crate) fn days_before_month(year: i64, month: usize) -> i64 {
    MON_YDAY[usize::from(is_leap(year))][month.saturating_sub(1).min(12)]
}

/// The length of `month` (1..=12) of `year`.
pub(crate) fn month_length(year: i64, month: usize) -> i64 {
    let m = month.clamp(1, 12);
    let table = &MON_YDAY[usize::from(is_leap(year))];
    table[m] - table[m - 1]
}

/// Days from 1970-01-01 to January 1st of `year` (proleptic Gregorian).
pub(crate) fn days_to_year(year: i64) -> i64 {
    let y = year - 1;
    365 * (year - 1970) + (y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400))
        - (1969 / 4 - 1969 / 100 + 1969 / 400)
}

/// Seconds from the epoch to the given day of the year and time, with no zone: the "local
/// seconds" both directions of conversion compare.
fn linear(year: i64, yday: i64, hour: i64, min: i64, sec: i64) -> i64 {
    (days_to_year(year) + yday) * SECS_PER_DAY + hour * 3600 + min * 60 + sec
}

/// The fields of `t + gmtoff` seconds after the epoch, tagged with `isdst` and `gmtoff`.
pub(crate) fn breakdown(t: i64, gmtoff: i64, isdst: i32) -> Tm {
    let local = t + gmtoff;
    let days = local.div_euclid(SECS_PER_DAY);
    let rem = local.rem_euclid(SECS_PER_DAY);
    // 1970-01-01 was a Thursday.
    let wday = (days + 4).rem_euclid(7);
    let (year, month, mday) = crate::vocab::time::civil_from_days(days);
    // tm's months count from 0.
    let mon = i64::from(month) - 1;
    let mday = i64::from(mday);
    let yday = MON_YDAY[usize::from(is_leap(year))][usize::try_from(mon).unwrap_or(0)] + mday - 1;
    Tm {
        year,
        mon,
        mday,
        hour: rem / 3600,
        min: rem % 3600 / 60,
        sec: rem % 60,
        wday,
        yday,
        isdst,
        gmtoff,
    }
}

/// The year and day of the year `tm` asks for once its month is brought into 0..=11 (the
/// other fields may stay out of range: [`linear`] absorbs them).
fn requested_day(tm: &Tm) -> (i64, i64) {
    let year = tm.year + tm.mon.div_euclid(12);
    let mon = tm.mon.rem_euclid(12);
    let before = MON_YDAY[usize::from(is_leap(year))][usize::try_from(mon).unwrap_or(0)];
    (year, before + tm.mday - 1)
}

/// The wall-clock seconds of `tm` (no zone), for fields in any range.
fn wall_seconds(tm: &Tm) -> i64 {
    let (year, yday) = requested_day(tm);
    linear(year, yday, tm.hour, tm.min, tm.sec)
}

/// `timegm`: the UNIX time of `tm` read as UTC, and `tm` normalised.
pub(crate) fn timegm(tm: &Tm) -> (i64, Tm) {
    let t = wall_seconds(tm);
    (t, breakdown(t, 0, 0))
}

/// Conversions are kept within this many seconds of the epoch (about 35,000 years), as glibc
/// keeps them within `time_t`: far beyond any calendar event (years 1970 to 2199).
const T_LIMIT: i64 = 1 << 50;

/// glibc's `mktime`: the UNIX time whose conversion by `convert` shows the fields of `tm`,
/// and those fields normalised. `offset` carries the guess between calls (glibc keeps it in a
/// static): it decides which of two instants a repeated wall-clock time names, as it does in
/// systemd. The rules of gnulib's mktime.c, re-implemented:
///
/// - probe from the guessed offset, correcting by the difference of wall-clock seconds, at
///   most six times;
/// - a time inside a spring-forward gap makes the probes oscillate between two instants; take
///   the one the DST flags prefer (without a request, the DST side);
/// - when `tm.isdst` asks for DST (1) or standard time (0) and the match has the other flag,
///   look a week at a time (up to about 7 years either way) for an instant with the wanted
///   flag and use its offset, or else assume DST is one hour;
/// - a second of 60 (or below 0) is carried over after the match.
///
/// `None` when no probe converges.
pub(crate) fn mktime(tm: &Tm, offset: &mut i64, convert: &dyn Fn(i64) -> Tm) -> Option<(i64, Tm)> {
    let (year, yday) = requested_day(tm);
    let isdst = tm.isdst;
    let sec_requested = tm.sec;
    // Leap seconds are possible: probe with the second within 0..=59 and add the rest after.
    let sec = tm.sec.clamp(0, 59);
    let wall = linear(year, yday, tm.hour, tm.min, sec);
    let diff = |probe: &Tm| wall - linear(probe.year, probe.yday, probe.hour, probe.min, probe.sec);
    let ranged = |t: i64| {
        let t = t.clamp(-T_LIMIT, T_LIMIT);
        (t, convert(t))
    };

    let t0 = wall + *offset;
    let (mut t1, mut t2) = (t0, t0);
    let (mut t, mut now) = ranged(t0);
    let mut dst2 = false;
    let mut probes = 6;
    loop {
        let gt = t + diff(&now);
        if gt == t {
            break;
        }
        let oscillating = t == t1 && t != t2;
        let prefer_here = now.isdst < 0
            || if isdst < 0 {
                dst2 <= (now.isdst != 0)
            } else {
                (isdst != 0) != (now.isdst != 0)
            };
        if oscillating && prefer_here {
            return Some(found(t, t0, now, sec, sec_requested, offset, convert));
        }
        probes -= 1;
        if probes == 0 {
            return None;
        }
        t1 = t2;
        t2 = t;
        dst2 = now.isdst != 0;
        (t, now) = ranged(gt);
    }

    if isdst_differ(isdst, now.isdst) {
        // The week-long stride is shorter than any DST period in the tz database, the bound
        // half the longest one (glibc 2.36's constants).
        const STRIDE: i64 = 601_200;
        const BOUND: i64 = 457_243_200 / 2 + STRIDE;
        let mut delta = STRIDE;
        while delta < BOUND {
            for direction in [-1, 1] {
                let (ot, other) = ranged(t + delta * direction);
                if !isdst_differ(isdst, other.isdst) {
                    (t, now) = ranged(ot + diff(&other));
                    return Some(found(t, t0, now, sec, sec_requested, offset, convert));
                }
            }
            delta += STRIDE;
        }
        // No instant with the wanted flag nearby: assume DST is one hour.
        let dst_difference = i64::from(isdst == 0) - i64::from(now.isdst == 0);
        (t, now) = ranged(t + 3600 * dst_difference);
    }
    Some(found(t, t0, now, sec, sec_requested, offset, convert))
}

/// The end of [`mktime`]: remember the offset for the next call and carry a leap second.
fn found(
    t: i64,
    t0: i64,
    now: Tm,
    sec: i64,
    sec_requested: i64,
    offset: &mut i64,
    convert: &dyn Fn(i64) -> Tm,
) -> (i64, Tm) {
    *offset += t - t0;
    if sec_requested != now.sec {
        let adjust = i64::from(sec == 0 && now.sec == 60) - sec;
        let t = t + sec_requested + adjust;
        return (t, convert(t));
    }
    (t, now)
}

/// Whether two `tm_isdst` values disagree: one zero and the other positive.
fn isdst_differ(a: i32, b: i32) -> bool {
    (a == 0) != (b == 0) && a >= 0 && b >= 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tm(year: i64, mon: i64, mday: i64, hour: i64, min: i64, sec: i64) -> Tm {
        Tm {
            year,
            mon,
            mday,
            hour,
            min,
            sec,
            wday: 0,
            yday: 0,
            isdst: -1,
            gmtoff: 0,
        }
    }

    #[test]
    fn breakdown_and_timegm_agree_on_known_dates() {
        let t = breakdown(0, 0, 0);
        assert_eq!((t.year, t.mon, t.mday, t.wday, t.yday), (1970, 0, 1, 4, 0));
        // 2024-02-29 12:34:56 UTC, a Thursday.
        let t = breakdown(1_709_210_096, 0, 0);
        assert_eq!(
            (t.year, t.mon, t.mday, t.hour, t.min, t.sec, t.wday, t.yday),
            (2024, 1, 29, 12, 34, 56, 4, 59)
        );
        assert_eq!(timegm(&tm(2024, 1, 29, 12, 34, 56)).0, 1_709_210_096);
        // Out-of-range fields roll over as in C: month 12 is next January, day 0 the last of
        // the month before, hour 24 the next day.
        let (_, n) = timegm(&tm(2023, 12, 0, 24, 0, 0));
        assert_eq!((n.year, n.mon, n.mday, n.hour), (2024, 0, 1, 0));
        let (_, n) = timegm(&tm(2024, 2, 1 - 28, 0, 0, 0));
        assert_eq!((n.mon, n.mday), (1, 2));
        for t in [
            -86_400 * 366,
            -1,
            0,
            951_782_400,
            4_102_444_800,
            7_258_118_399,
        ] {
            let b = breakdown(t, 0, 0);
            assert_eq!(timegm(&b).0, t, "{b:?}");
        }
    }

    #[test]
    fn month_lengths() {
        assert_eq!(month_length(2024, 2), 29);
        assert_eq!(month_length(2100, 2), 28);
        assert_eq!(month_length(2000, 2), 29);
        assert_eq!(month_length(2023, 12), 31);
        assert_eq!(days_before_month(2024, 3), 60);
        assert_eq!(days_to_year(2000), 10_957);
    }

    /// A zone one hour east of UTC with one hour of DST from 1000000 to 2000000 seconds.
    fn toy(t: i64) -> Tm {
        if (1_000_000..2_000_000).contains(&t) {
            breakdown(t, 7200, 1)
        } else {
            breakdown(t, 3600, 0)
        }
    }

    #[test]
    fn mktime_places_gaps_and_folds_like_glibc() {
        let mut offset = 0;
        // A plain time converges whatever the guess.
        let at = toy(500_000);
        let (t, _) = mktime(&at, &mut offset, &toy).unwrap();
        assert_eq!(t, 500_000);
        assert_eq!(offset, -3600);
        // Inside the gap (wall clock 1000000+3600 .. +7200 does not exist): glibc returns the
        // instant after the gap, on the DST side.
        let mut gap = toy(1_000_000 - 1800);
        gap.min += 60;
        gap.isdst = -1;
        let (t, n) = mktime(&gap, &mut offset, &toy).unwrap();
        assert_eq!((t, n.isdst), (1_000_000 + 1800, 1));
        // In the fold the guess decides: the last offset (DST) picks the first instant, a
        // standard-time guess the second.
        let mut fold = toy(2_000_000 - 1800);
        fold.isdst = -1;
        let mut dst_guess = -7200;
        assert_eq!(
            mktime(&fold, &mut dst_guess, &toy).unwrap().0,
            2_000_000 - 1800
        );
        let mut std_guess = -3600;
        assert_eq!(
            mktime(&fold, &mut std_guess, &toy).unwrap().0,
            2_000_000 + 1800
        );
        // An explicit flag picks its instant whatever the guess.
        fold.isdst = 1;
        let mut guess = -3600;
        assert_eq!(mktime(&fold, &mut guess, &toy).unwrap().0, 2_000_000 - 1800);
    }
}
