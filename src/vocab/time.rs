//! Wall-clock helpers every layer shares: milliseconds since the epoch (what the manager
//! records and the CLI compares with), RFC 3339 and `systemctl status` timestamps, and the
//! one civil-date conversion (days since the epoch to year, month, day) that the calendar,
//! the volume's hook stamps and WebDAV's `creationdate` use; a duration as people write it in
//! messages ([`humanize`]). Pure except [`now_ms`], which
//! reads the clock; part of the leaf vocabulary.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `time` as RFC 3339 in UTC with microseconds: `2026-11-23T14:10:00.123456Z`.
pub fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let c = civil(i64::try_from(since.as_secs()).unwrap_or(0));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        c.year,
        c.month,
        c.day,
        c.hour,
        c.minute,
        c.second,
        since.subsec_micros()
    )
}

/// `YYYY-MM-DD HH:MM:SS UTC` for a time in milliseconds since the Unix epoch (systemctl
/// status's timestamps; containers run in UTC).
pub fn utc_time(ms: u64) -> String {
    let c = civil(i64::try_from(ms / 1000).unwrap_or(0));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// A UTC wall-clock time, broken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    /// 1..=12.
    pub month: u32,
    /// 1..=31.
    pub day: u32,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
}

/// The UTC date and time `secs` seconds after the Unix epoch (before it when negative): the
/// one broken-down conversion behind every timestamp bosun writes (these, the volume's hook
/// log names, WebDAV's dates).
pub fn civil(secs: i64) -> Civil {
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    Civil {
        year,
        month,
        day,
        hour: t / 3600,
        minute: t % 3600 / 60,
        second: t % 60,
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`). Also used for WebDAV's `creationdate`.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// A duration as a person writes it: `5s`, `1.5s`, `250ms`.
pub fn humanize(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else if d.as_secs() == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.3}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let t = UNIX_EPOCH + Duration::from_micros(1_795_443_000_123_456);
        assert_eq!(rfc3339(t), "2026-11-23T14:10:00.123456Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000000Z");
        assert_eq!(utc_time(1_795_443_000_123), "2026-11-23 14:10:00 UTC");
        let before = civil(-1);
        assert_eq!(
            (before.year, before.month, before.day, before.second),
            (1969, 12, 31, 59)
        );
    }
}
