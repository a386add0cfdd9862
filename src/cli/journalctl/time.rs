//! journalctl's time specifications for `--since=` and `--until=`, as systemd 252's
//! parse_timestamp() reads them (basic/time-util.c, systemd.time(7)): `now`, `today`,
//! `yesterday`, `tomorrow`, `@SECONDS`, `-5min`/`+1h`/`5min ago`/`5min left`, and absolute
//! `[WEEKDAY] YYYY-MM-DD [HH:MM[:SS[.FRAC]]] [UTC]` or `HH:MM[:SS]` (today), all in UTC, the
//! zone bosun shows times in. Pure: the current time is passed in.

/// A time span as parse_sec() reads it (`5min`, `1h 30min`, `2.5s`, a bare number in
/// seconds), in microseconds: the units' reading ([`crate::unit::value::parse_timespan`]).
pub fn parse_span(text: &str) -> Option<u64> {
    let span = crate::unit::value::parse_timespan(text).ok()?.finite()?;
    u64::try_from(span.as_micros()).ok()
}

/// Days since the epoch of a civil date (the inverse of civil_from_days, Hinnant's
/// days_from_civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Midnight (UTC) of the day `us` falls in.
fn midnight(us: u64) -> u64 {
    us - us % 86_400_000_000
}

/// `HH:MM[:SS[.FRAC]]` as microseconds since midnight.
fn clock(text: &str) -> Option<u64> {
    let mut parts = text.split(':');
    let h: u64 = parts.next()?.parse().ok()?;
    let m: u64 = parts.next()?.parse().ok()?;
    let (s, frac) = match parts.next() {
        Some(sec) => {
            let (whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
            (whole.parse::<u64>().ok()?, frac)
        }
        None => (0, ""),
    };
    if parts.next().is_some() || h > 23 || m > 59 || s > 60 || frac.len() > 6 {
        return None;
    }
    if !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let micros: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().ok()?
    };
    Some(((h * 60 + m) * 60 + s) * 1_000_000 + micros)
}

/// `YYYY-MM-DD` (or `YY-MM-DD`, as systemd reads a two-digit year) as microseconds of its
/// midnight.
fn date(text: &str) -> Option<u64> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let mut year: i64 = y.parse().ok()?;
    if y.len() == 2 {
        year += if year < 70 { 2000 } else { 1900 };
    }
    let month: i64 = m.parse().ok()?;
    let day: i64 = d.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    u64::try_from(days).ok()?.checked_mul(86_400_000_000)
}

/// A time specification as microseconds since the epoch; `now_us` is the current time.
pub fn parse_timestamp(text: &str, now_us: u64) -> Option<u64> {
    let t = text.trim();
    match t {
        "now" => return Some(now_us),
        "today" => return Some(midnight(now_us)),
        "yesterday" => return midnight(now_us).checked_sub(86_400_000_000),
        "tomorrow" => return midnight(now_us).checked_add(86_400_000_000),
        _ => {}
    }
    if let Some(secs) = t.strip_prefix('@') {
        return parse_span(secs);
    }
    if let Some(span) = t.strip_prefix('-') {
        return now_us.checked_sub(parse_span(span)?);
    }
    if let Some(span) = t.strip_prefix('+') {
        return now_us.checked_add(parse_span(span)?);
    }
    if let Some(span) = t.strip_suffix(" ago") {
        return now_us.checked_sub(parse_span(span)?);
    }
    if let Some(span) = t.strip_suffix(" left") {
        return now_us.checked_add(parse_span(span)?);
    }
    // The zone: UTC (or nothing: bosun's local time is UTC).
    let t = t
        .strip_suffix(" UTC")
        .or_else(|| t.strip_suffix('Z'))
        .unwrap_or(t);
    // An optional weekday first, as format_timestamp() writes one.
    let t = match t.split_once(' ') {
        Some((day, rest)) if day.chars().all(|c| c.is_ascii_alphabetic()) => rest,
        _ => t,
    };
    let (day, time) = match t.split_once([' ', 'T']) {
        Some((d, c)) => (Some(d), Some(c)),
        None if t.contains(':') => (None, Some(t)),
        None => (Some(t), None),
    };
    let base = match day {
        Some(d) => date(d)?,
        None => midnight(now_us),
    };
    base.checked_add(time.map_or(Some(0), clock)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-06 13:00:00 UTC.
    const NOW: u64 = 1_796_562_000_000_000;

    #[test]
    fn absolute_times_as_systemd_writes_them() {
        assert_eq!(parse_timestamp("2026-12-06 13:00:00", NOW), Some(NOW));
        assert_eq!(parse_timestamp("2026-12-06 13:00", NOW), Some(NOW));
        assert_eq!(
            parse_timestamp("Sun 2026-12-06 13:00:00 UTC", NOW),
            Some(NOW)
        );
        assert_eq!(parse_timestamp("2026-12-06T13:00:00Z", NOW), Some(NOW));
        assert_eq!(parse_timestamp("26-12-06 13:00:00", NOW), Some(NOW));
        assert_eq!(
            parse_timestamp("2026-12-06 13:00:00.25", NOW),
            Some(NOW + 250_000)
        );
        assert_eq!(
            parse_timestamp("2026-12-06", NOW),
            Some(NOW - 13 * 3_600_000_000)
        );
        assert_eq!(parse_timestamp("13:00", NOW), Some(NOW));
        assert_eq!(parse_timestamp("@1796562000", NOW), Some(NOW));
        for bad in [
            "",
            "2026-13-01",
            "25:00",
            "soon",
            "2026-12-06 13:00:00 CET",
            "-5parsecs",
        ] {
            assert_eq!(parse_timestamp(bad, NOW), None, "{bad:?}");
        }
    }

    #[test]
    fn words_and_relative_times() {
        let midnight = NOW - 13 * 3_600_000_000;
        assert_eq!(parse_timestamp("now", NOW), Some(NOW));
        assert_eq!(parse_timestamp("today", NOW), Some(midnight));
        assert_eq!(
            parse_timestamp("yesterday", NOW),
            Some(midnight - 86_400_000_000)
        );
        assert_eq!(
            parse_timestamp("tomorrow", NOW),
            Some(midnight + 86_400_000_000)
        );
        assert_eq!(parse_timestamp("-5min", NOW), Some(NOW - 300_000_000));
        assert_eq!(parse_timestamp("5min ago", NOW), Some(NOW - 300_000_000));
        assert_eq!(parse_timestamp("+1h", NOW), Some(NOW + 3_600_000_000));
        assert_eq!(parse_timestamp("-1h 30min", NOW), Some(NOW - 5_400_000_000));
        assert_eq!(parse_span("2.5s"), Some(2_500_000));
        assert_eq!(parse_span("10"), Some(10_000_000));
    }
}
