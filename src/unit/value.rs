//! Scalar values of unit files, parsed exactly as systemd parses them: booleans
//! (parse_boolean), time spans (systemd.time(7)), sizes (base 1024), octal modes, signals and
//! exit-status lists. Pure functions; the PID 1 core also uses [`parse_timespan`] for its own
//! `BOSUN_STOP_TIMEOUT`. This module must not know which key a value belongs to.

use std::collections::BTreeSet;
use std::time::Duration;

/// Why a value does not parse. The message names the value and says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Not one of yes/no/true/false/on/off/1/0.
    #[error("{value:?} is not a boolean (use yes, no, true, false, on, off, 1 or 0)")]
    Boolean {
        /// The text given.
        value: String,
    },
    /// Not a systemd.time(7) span.
    #[error("{value:?} is not a time span (such as 90, 1min 30s, 2.5s, 500ms or infinity)")]
    Timespan {
        /// The text given.
        value: String,
    },
    /// Not a size.
    #[error("{value:?} is not a size (such as 4096, 64K, 1.5G or infinity)")]
    Size {
        /// The text given.
        value: String,
    },
    /// Not an octal access mode.
    #[error("{value:?} is not an octal access mode (such as 0755)")]
    Mode {
        /// The text given.
        value: String,
    },
    /// Not a signal.
    #[error("{value:?} is not a signal name or number (such as SIGTERM, TERM or 15)")]
    Signal {
        /// The text given.
        value: String,
    },
    /// Not an exit status.
    #[error("{value:?} is not an exit status (0-255), exit status name or signal name")]
    ExitStatus {
        /// The text given.
        value: String,
    },
    /// Not an integer in range.
    #[error("{value:?} is not {expected}")]
    Number {
        /// The text given.
        value: String,
        /// What was expected, such as "an integer from -20 to 19".
        expected: &'static str,
    },
    /// Not one of a fixed set of words.
    #[error("{value:?} is not one of: {choices}")]
    Choice {
        /// The text given.
        value: String,
        /// The accepted words, comma separated.
        choices: &'static str,
    },
    /// Some other rule is broken.
    #[error("{value:?}: {why}")]
    Other {
        /// The text given.
        value: String,
        /// What is wrong.
        why: &'static str,
    },
}

/// Parse a boolean the way systemd's parse_boolean does (case-insensitive).
pub fn parse_bool(text: &str) -> Result<bool, ValueError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Ok(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Ok(false),
        _ => Err(ValueError::Boolean {
            value: text.to_owned(),
        }),
    }
}

/// A systemd time span: finite, or `infinity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timespan {
    /// A finite span.
    Finite(Duration),
    /// `infinity`.
    Infinity,
}

impl Timespan {
    /// Parse a span as systemd.time(7) writes it (`5`, `500ms`, `1min 30s`, `infinity`); bare
    /// numbers are seconds. Unit files, `bosun -t`, the `BOSUN_*_TIMEOUT` settings and
    /// `bosun.yaml` all read durations through this.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        parse_timespan(text)
    }

    /// The span as a duration, `infinity` as [`Duration::MAX`] (never escalate, never end).
    pub fn as_duration(self) -> Duration {
        match self {
            Timespan::Finite(d) => d,
            Timespan::Infinity => Duration::MAX,
        }
    }

    /// The span as a timeout: `None` for `infinity` and for `0`, which systemd reads as "no
    /// timeout" for TimeoutStartSec=, TimeoutStopSec=, TimeoutAbortSec=, RuntimeMaxSec= and
    /// WatchdogSec= (systemd.service(5)). Do not use this for RestartSec=, where 0 means 0.
    pub fn as_timeout(self) -> Option<Duration> {
        match self {
            Timespan::Finite(d) if !d.is_zero() => Some(d),
            _ => None,
        }
    }

    /// The finite duration, `None` for `infinity`.
    pub fn finite(self) -> Option<Duration> {
        match self {
            Timespan::Finite(d) => Some(d),
            Timespan::Infinity => None,
        }
    }
}

/// The unit words of systemd.time(7), matched as prefixes in this order (extract_multiplier).
const TIME_UNITS: [(&str, u64); 30] = [
    ("seconds", 1_000_000),
    ("second", 1_000_000),
    ("sec", 1_000_000),
    ("s", 1_000_000),
    ("minutes", 60_000_000),
    ("minute", 60_000_000),
    ("min", 60_000_000),
    ("months", 2_629_800_000_000),
    ("month", 2_629_800_000_000),
    ("M", 2_629_800_000_000),
    ("msec", 1_000),
    ("ms", 1_000),
    ("m", 60_000_000),
    ("hours", 3_600_000_000),
    ("hour", 3_600_000_000),
    ("hr", 3_600_000_000),
    ("h", 3_600_000_000),
    ("days", 86_400_000_000),
    ("day", 86_400_000_000),
    ("d", 86_400_000_000),
    ("weeks", 604_800_000_000),
    ("week", 604_800_000_000),
    ("w", 604_800_000_000),
    ("years", 31_557_600_000_000),
    ("year", 31_557_600_000_000),
    ("y", 31_557_600_000_000),
    ("usec", 1),
    ("us", 1),
    ("\u{3bc}s", 1),
    ("\u{b5}s", 1),
];

/// Parse a time span whose bare numbers are seconds: `90`, `1min 30s`, `2.5s`, `500ms`,
/// `1h30min`, `infinity` (systemd.time(7), parse_sec).
pub fn parse_timespan(text: &str) -> Result<Timespan, ValueError> {
    parse_timespan_in(text, 1_000_000)
}

/// Parse a time span whose bare numbers are in `default_usec` microseconds (parse_time).
pub fn parse_timespan_in(text: &str, default_usec: u64) -> Result<Timespan, ValueError> {
    let bad = || ValueError::Timespan {
        value: text.to_owned(),
    };
    let trimmed = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if trimmed == "infinity" {
        return Ok(Timespan::Infinity);
    }
    let mut rest = trimmed;
    let mut total: u64 = 0;
    let mut something = false;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
        if rest.is_empty() {
            break;
        }
        // strtoll() takes a '+' sign; '-' is refused (no negative spans).
        if let Some(unsigned) = rest.strip_prefix('+') {
            rest = unsigned;
        }
        let int_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (int_part, after) = rest.split_at(int_len);
        let (frac_part, after) = match after.strip_prefix('.') {
            // "3." and "3.sec" are refused, as in systemd's parse_time.
            Some(f) => match f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len()) {
                0 => return Err(bad()),
                n => f.split_at(n),
            },
            None if int_part.is_empty() => return Err(bad()),
            None => ("", after),
        };
        let spaced = after.trim_start_matches(|c: char| c.is_ascii_whitespace());
        let unit = TIME_UNITS.iter().find(|(u, _)| spaced.starts_with(u));
        let (multiplier, tail) = match unit {
            Some((u, m)) => (*m, &spaced[u.len()..]),
            None if spaced.len() == after.len() && !after.is_empty() => return Err(bad()),
            None => (default_usec, spaced),
        };
        let whole: u64 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| bad())?
        };
        let mut value = whole.checked_mul(multiplier).ok_or_else(bad)?;
        // Fractions: digits beyond microsecond precision are dropped, as systemd does.
        let mut scale = multiplier;
        for digit in frac_part.bytes().take(20) {
            scale /= 10;
            value = value
                .checked_add(u64::from(digit - b'0') * scale)
                .ok_or_else(bad)?;
        }
        total = total.checked_add(value).ok_or_else(bad)?;
        something = true;
        rest = tail;
    }
    // u64::MAX microseconds is systemd's USEC_INFINITY: only `infinity` may say it.
    if !something || total == u64::MAX {
        return Err(bad());
    }
    Ok(Timespan::Finite(Duration::from_micros(total)))
}

/// A size in bytes, or `infinity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Size {
    /// A number of bytes.
    Bytes(u64),
    /// `infinity`.
    Infinity,
}

/// Parse a size with base-1024 suffixes B, K, M, G, T, P, E, fractions and sums (`1G 512M`), or
/// `infinity` (parse_size with base 1024).
pub fn parse_size(text: &str) -> Result<Size, ValueError> {
    let bad = || ValueError::Size {
        value: text.to_owned(),
    };
    let trimmed = text.trim();
    if trimmed == "infinity" {
        return Ok(Size::Infinity);
    }
    let mut rest = trimmed;
    let mut total: u64 = 0;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let int_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (int_part, after) = rest.split_at(int_len);
        let (frac_part, after) = match after.strip_prefix('.') {
            Some(f) => {
                let n = f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len());
                f.split_at(n)
            }
            None => ("", after),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(bad());
        }
        let after = after.trim_start();
        let (factor, after): (u64, &str) = match after.chars().next() {
            Some('B') => (1, &after[1..]),
            Some('K') => (1 << 10, &after[1..]),
            Some('M') => (1 << 20, &after[1..]),
            Some('G') => (1 << 30, &after[1..]),
            Some('T') => (1 << 40, &after[1..]),
            Some('P') => (1 << 50, &after[1..]),
            Some('E') => (1 << 60, &after[1..]),
            _ => (1, after),
        };
        let whole: u64 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| bad())?
        };
        let mut value = whole.checked_mul(factor).ok_or_else(bad)?;
        let digits = &frac_part[..frac_part.len().min(18)];
        if !digits.is_empty() {
            let numerator: u128 = digits.parse().map_err(|_| bad())?;
            let fraction = numerator * u128::from(factor)
                / 10u128.pow(u32::try_from(digits.len()).unwrap_or(18));
            value = value
                .checked_add(u64::try_from(fraction).map_err(|_| bad())?)
                .ok_or_else(bad)?;
        }
        total = total.checked_add(value).ok_or_else(bad)?;
        let next = after.trim_start();
        if next.len() == after.len()
            && !next.is_empty()
            && !next.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(bad());
        }
        rest = next;
    }
    Ok(Size::Bytes(total))
}

/// Parse an octal access mode such as `0755` or `755` (at most 07777).
pub fn parse_mode(text: &str) -> Result<u32, ValueError> {
    let t = text.trim();
    u32::from_str_radix(t, 8)
        .ok()
        .filter(|m| *m <= 0o7777 && !t.is_empty() && !t.starts_with('+'))
        .ok_or_else(|| ValueError::Mode {
            value: text.to_owned(),
        })
}

/// Parse a signal name or number (`SIGTERM`, `TERM`, `15`, `RTMIN+3`).
pub fn parse_signal(text: &str) -> Result<i32, ValueError> {
    crate::vocab::signal::parse(text).ok_or_else(|| ValueError::Signal {
        value: text.to_owned(),
    })
}

/// Parse an integer within `range`, naming the expectation in the error.
pub fn parse_int(
    text: &str,
    range: std::ops::RangeInclusive<i64>,
    expected: &'static str,
) -> Result<i64, ValueError> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| ValueError::Number {
            value: text.to_owned(),
            expected,
        })
}

/// systemd's exit status names (exit-status.c): LSB, BSD sysexits.h and systemd's own.
pub const EXIT_STATUS_NAMES: [(&str, u8); 67] = [
    ("SUCCESS", 0),
    ("FAILURE", 1),
    ("INVALIDARGUMENT", 2),
    ("NOTIMPLEMENTED", 3),
    ("NOPERMISSION", 4),
    ("NOTINSTALLED", 5),
    ("NOTCONFIGURED", 6),
    ("NOTRUNNING", 7),
    ("USAGE", 64),
    ("DATAERR", 65),
    ("NOINPUT", 66),
    ("NOUSER", 67),
    ("NOHOST", 68),
    ("UNAVAILABLE", 69),
    ("SOFTWARE", 70),
    ("OSERR", 71),
    ("OSFILE", 72),
    ("CANTCREAT", 73),
    ("IOERR", 74),
    ("TEMPFAIL", 75),
    ("PROTOCOL", 76),
    ("NOPERM", 77),
    ("CONFIG", 78),
    ("CHDIR", 200),
    ("NICE", 201),
    ("FDS", 202),
    ("EXEC", 203),
    ("MEMORY", 204),
    ("LIMITS", 205),
    ("OOM_ADJUST", 206),
    ("SIGNAL_MASK", 207),
    ("STDIN", 208),
    ("STDOUT", 209),
    ("CHROOT", 210),
    ("IOPRIO", 211),
    ("TIMERSLACK", 212),
    ("SECUREBITS", 213),
    ("SETSCHEDULER", 214),
    ("CPUAFFINITY", 215),
    ("GROUP", 216),
    ("USER", 217),
    ("CAPABILITIES", 218),
    ("CGROUP", 219),
    ("SETSID", 220),
    ("CONFIRM", 221),
    ("STDERR", 222),
    ("PAM", 224),
    ("NETWORK", 225),
    ("NAMESPACE", 226),
    ("NO_NEW_PRIVILEGES", 227),
    ("SECCOMP", 228),
    ("SELINUX_CONTEXT", 229),
    ("PERSONALITY", 230),
    ("APPARMOR_PROFILE", 231),
    ("ADDRESS_FAMILIES", 232),
    ("RUNTIME_DIRECTORY", 233),
    ("CHOWN", 235),
    ("SMACK_PROCESS_LABEL", 236),
    ("KEYRING", 237),
    ("STATE_DIRECTORY", 238),
    ("CACHE_DIRECTORY", 239),
    ("LOGS_DIRECTORY", 240),
    ("CONFIGURATION_DIRECTORY", 241),
    ("NUMA_POLICY", 242),
    ("CREDENTIALS", 243),
    ("BPF", 245),
    ("EXCEPTION", 255),
];

/// A set of exit codes and signals, as SuccessExitStatus= and RestartPreventExitStatus= hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExitStatusSet {
    /// Exit codes.
    pub codes: BTreeSet<u8>,
    /// Signal numbers.
    pub signals: BTreeSet<i32>,
}

impl ExitStatusSet {
    /// Whether nothing is listed.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty() && self.signals.is_empty()
    }
}

/// Add every word of `text` (numbers, exit status names, signal names) to `set`
/// (config_parse_set_status). The caller handles the empty assignment (a reset).
pub fn parse_exit_status_list(text: &str, set: &mut ExitStatusSet) -> Result<(), ValueError> {
    for word in text.split_ascii_whitespace() {
        if let Ok(code) = word.parse::<u8>() {
            set.codes.insert(code);
        } else if let Some((_, code)) = EXIT_STATUS_NAMES.iter().find(|(n, _)| *n == word) {
            set.codes.insert(*code);
        } else if word.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(ValueError::ExitStatus {
                value: word.to_owned(),
            });
        } else if let Some(signo) = crate::vocab::signal::parse(word) {
            set.signals.insert(signo);
        } else {
            return Err(ValueError::ExitStatus {
                value: word.to_owned(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Timespan {
        Timespan::Finite(Duration::from_secs_f64(s))
    }

    #[test]
    fn booleans() {
        for t in ["yes", "Y", "true", "on", "1", "t"] {
            assert!(parse_bool(t).unwrap());
        }
        for f in ["no", "N", "false", "off", "0", "F"] {
            assert!(!parse_bool(f).unwrap());
        }
        assert!(parse_bool("maybe").is_err());
        assert!(parse_bool("").is_err());
    }

    #[test]
    fn timespans_follow_systemd_time() {
        assert_eq!(parse_timespan("90").unwrap(), secs(90.0));
        assert_eq!(parse_timespan("1min 30s").unwrap(), secs(90.0));
        assert_eq!(parse_timespan("1min30s").unwrap(), secs(90.0));
        assert_eq!(parse_timespan("2.5s").unwrap(), secs(2.5));
        assert_eq!(parse_timespan(".5s").unwrap(), secs(0.5));
        assert_eq!(parse_timespan("500ms").unwrap(), secs(0.5));
        assert_eq!(parse_timespan("500 msec").unwrap(), secs(0.5));
        assert_eq!(parse_timespan("2h").unwrap(), secs(7200.0));
        assert_eq!(parse_timespan("1d 2h").unwrap(), secs(93600.0));
        assert_eq!(parse_timespan("1w").unwrap(), secs(604800.0));
        assert_eq!(
            parse_timespan("10us").unwrap(),
            Timespan::Finite(Duration::from_micros(10))
        );
        assert_eq!(parse_timespan("3M").unwrap(), secs(3.0 * 2_629_800.0));
        assert_eq!(parse_timespan(" infinity ").unwrap(), Timespan::Infinity);
        assert_eq!(
            parse_timespan("0").unwrap(),
            Timespan::Finite(Duration::ZERO)
        );
        assert_eq!(parse_timespan("0").unwrap().as_timeout(), None);
        assert_eq!(
            parse_timespan("5s").unwrap().as_timeout(),
            Some(Duration::from_secs(5))
        );
        for bad in [
            "",
            "soon",
            "-1",
            "5 parsecs",
            "1.2.3",
            "5sx",
            "5 mins",
            "s",
            "99999999999999999999",
        ] {
            assert!(parse_timespan(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sizes_modes_signals() {
        assert_eq!(parse_size("4096").unwrap(), Size::Bytes(4096));
        assert_eq!(parse_size("64K").unwrap(), Size::Bytes(65536));
        assert_eq!(parse_size("1.5G").unwrap(), Size::Bytes(3 << 29));
        assert_eq!(parse_size("1G 512M").unwrap(), Size::Bytes(3 << 29));
        assert_eq!(parse_size("infinity").unwrap(), Size::Infinity);
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("").is_err());
        assert_eq!(parse_mode("0755").unwrap(), 0o755);
        assert_eq!(parse_mode("027").unwrap(), 0o27);
        assert!(parse_mode("0999").is_err());
        assert!(parse_mode("17777").is_err());
        assert_eq!(parse_signal("SIGHUP").unwrap(), libc::SIGHUP);
        assert_eq!(parse_signal("9").unwrap(), 9);
        assert!(parse_signal("SIGNOPE").is_err());
    }

    #[test]
    fn exit_status_lists() {
        let mut set = ExitStatusSet::default();
        parse_exit_status_list("0 1 SIGTERM NOTINSTALLED KILL", &mut set).unwrap();
        assert_eq!(set.codes.iter().copied().collect::<Vec<_>>(), [0, 1, 5]);
        assert_eq!(
            set.signals.iter().copied().collect::<Vec<_>>(),
            [libc::SIGKILL, libc::SIGTERM]
        );
        assert!(parse_exit_status_list("256", &mut set).is_err());
        assert!(parse_exit_status_list("BOGUS", &mut set).is_err());
    }
}
