//! Text as systemctl formats it: shell quoting (basic/escape.c shell_maybe_quote()), and
//! timestamps absolute and relative (basic/time-util.c format_timestamp(),
//! format_timestamp_relative()), time spans (format_timespan()). Pure functions.

/// `s` as a shell word, quoted only when needed: `$'...'` with backslash escapes (POSIX
/// mode, as show-environment prints values), or `"..."` (as job failure hints print names).
pub fn shell_maybe_quote(s: &str, posix: bool) -> String {
    const NEEDS_QUOTES: &str = " \t\n\r\"\\`$*?['()<>|&;!";
    let cc = |c: char| (c as u32) < 32 || c as u32 == 127;
    let Some(first) = s.find(|c: char| cc(c) || NEEDS_QUOTES.contains(c)) else {
        return s.to_owned();
    };
    let bad = if posix { "\\'" } else { "\"\\`$" };
    let mut out = String::from(if posix { "$'" } else { "\"" });
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        if cc(c) {
            match c {
                '\x07' => out.push_str("\\a"),
                '\x08' => out.push_str("\\b"),
                '\x0c' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\x0b' => out.push_str("\\v"),
                other => out.push_str(&format!("\\{:03o}", other as u32)),
            }
        } else {
            if bad.contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push(if posix { '\'' } else { '"' });
    out
}

/// `Sun 2026-11-22 17:29:34 UTC` for milliseconds since the epoch (bosun shows UTC).
pub fn timestamp(ms: u64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    let secs = i64::try_from(ms / 1000).unwrap_or(0);
    let days = secs.div_euclid(86_400);
    let weekday = usize::try_from((days + 4).rem_euclid(7)).unwrap_or(0);
    format!("{} {}", DAYS[weekday], crate::vocab::time::utc_time(ms))
}

/// A span of microseconds as `systemctl show` prints a `...USec` property
/// (format_timespan() with no rounding): `2s`, `1min 30s`, `500ms`, `infinity` for u64::MAX.
pub fn timespan(usec: u64) -> String {
    const UNITS: [(&str, u64); 9] = [
        ("y", 31_557_600_000_000),
        ("month", 2_629_800_000_000),
        ("w", 604_800_000_000),
        ("d", 86_400_000_000),
        ("h", 3_600_000_000),
        ("min", 60_000_000),
        ("s", 1_000_000),
        ("ms", 1_000),
        ("us", 1),
    ];
    if usec == u64::MAX {
        return "infinity".to_owned();
    }
    if usec == 0 {
        return "0".to_owned();
    }
    let mut left = usec;
    let mut parts = Vec::new();
    for (name, size) in UNITS {
        if left >= size {
            parts.push(format!("{}{name}", left / size));
            left %= size;
        }
    }
    parts.join(" ")
}

/// How long before (`ago`) or after (`left`) `now_ms` the time `ms` is, as systemd says it.
pub fn relative(ms: u64, now_ms: u64) -> String {
    const SEC: u64 = 1_000_000;
    const MIN: u64 = 60 * SEC;
    const HOUR: u64 = 60 * MIN;
    const DAY: u64 = 24 * HOUR;
    const WEEK: u64 = 7 * DAY;
    const MONTH: u64 = 2_629_800 * SEC;
    const YEAR: u64 = 31_557_600 * SEC;
    let (d, s) = if now_ms > ms {
        ((now_ms - ms) * 1000, "ago")
    } else {
        ((ms - now_ms) * 1000, "left")
    };
    let plural = |n: u64, one: &str, many: &str| {
        if n == 1 {
            one.to_owned()
        } else {
            many.to_owned()
        }
    };
    if d >= YEAR {
        let (y, m) = (d / YEAR, d % YEAR / MONTH);
        format!(
            "{y} {} {m} {} {s}",
            plural(y, "year", "years"),
            plural(m, "month", "months")
        )
    } else if d >= MONTH {
        let (m, days) = (d / MONTH, d % MONTH / DAY);
        format!(
            "{m} {} {days} {} {s}",
            plural(m, "month", "months"),
            plural(days, "day", "days")
        )
    } else if d >= WEEK {
        let (w, days) = (d / WEEK, d % WEEK / DAY);
        format!(
            "{w} {} {days} {} {s}",
            plural(w, "week", "weeks"),
            plural(days, "day", "days")
        )
    } else if d >= 2 * DAY {
        format!("{} days {s}", d / DAY)
    } else if d >= 25 * HOUR {
        format!("1 day {}h {s}", (d - DAY) / HOUR)
    } else if d >= 6 * HOUR {
        format!("{}h {s}", d / HOUR)
    } else if d >= HOUR {
        format!("{}h {}min {s}", d / HOUR, d % HOUR / MIN)
    } else if d >= 5 * MIN {
        format!("{}min {s}", d / MIN)
    } else if d >= MIN {
        format!("{}min {}s {s}", d / MIN, d % MIN / SEC)
    } else if d >= SEC {
        format!("{}s {s}", d / SEC)
    } else if d >= 1000 {
        format!("{}ms {s}", d / 1000)
    } else if d > 0 {
        format!("{d}us {s}")
    } else {
        "now".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_as_systemd() {
        assert_eq!(shell_maybe_quote("plain", true), "plain");
        assert_eq!(shell_maybe_quote("two words", true), "$'two words'");
        assert_eq!(shell_maybe_quote("it's", true), "$'it\\'s'");
        assert_eq!(shell_maybe_quote("a\nb\x01", true), "$'a\\nb\\001'");
        assert_eq!(shell_maybe_quote("$x", true), "$'$x'");
        assert_eq!(shell_maybe_quote("$x", false), "\"\\$x\"");
        assert_eq!(shell_maybe_quote("a@b.service", false), "a@b.service");
        assert_eq!(shell_maybe_quote("", true), "");
    }

    #[test]
    fn times_as_systemd() {
        // 2024-01-01 was a Monday.
        assert_eq!(timestamp(1_704_067_200_000), "Mon 2024-01-01 00:00:00 UTC");
        assert_eq!(timestamp(0), "Thu 1970-01-01 00:00:00 UTC");
        let now = 1_704_067_200_000;
        assert_eq!(relative(now - 3_000, now), "3s ago");
        assert_eq!(relative(now - 65_000, now), "1min 5s ago");
        assert_eq!(relative(now - 7 * 60_000, now), "7min ago");
        assert_eq!(relative(now - 3_700_000, now), "1h 1min ago");
        assert_eq!(relative(now - 7 * 3_600_000, now), "7h ago");
        assert_eq!(relative(now - 26 * 3_600_000, now), "1 day 2h ago");
        assert_eq!(relative(now - 3 * 86_400_000, now), "3 days ago");
        assert_eq!(relative(now - 8 * 86_400_000, now), "1 week 1 day ago");
        assert_eq!(relative(now - 250, now), "250ms ago");
        assert_eq!(relative(now + 2_000, now), "2s left");
        assert_eq!(relative(now, now), "now");
    }

    #[test]
    fn timespans_as_systemd() {
        assert_eq!(timespan(2_000_000), "2s");
        assert_eq!(timespan(90_000_000), "1min 30s");
        assert_eq!(timespan(500_000), "500ms");
        assert_eq!(timespan(0), "0");
        assert_eq!(timespan(u64::MAX), "infinity");
    }
}
