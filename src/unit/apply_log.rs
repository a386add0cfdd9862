//! The logging keys of systemd.exec(5) ("Logging and Standard Input/Output") that shape a
//! unit's lines in the journal: SyslogFacility=, SyslogLevel=, SyslogLevelPrefix=,
//! LogLevelMax=, LogRateLimitIntervalSec=, LogRateLimitBurst=, LogExtraFields=. Parsing only,
//! with systemd 252's spellings (level and facility names or numbers) and its leniency: a
//! value that does not parse is a warning naming `path:line` and the assignment is ignored, as
//! load-fragment.c does. Applying them is the journal's (`journal::policy`).

use super::DiagnosticKind;
use super::apply::Applier;
use super::model::LogContext;
use super::value::{self, Timespan};

/// syslog(3)'s level names, by number (systemd's log_level_table).
const LEVELS: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// syslog(3)'s facility names, by number (systemd's log_facility_unshifted_table; 12 to 15
/// have no name).
const FACILITIES: [(&str, u8); 20] = [
    ("kern", 0),
    ("user", 1),
    ("mail", 2),
    ("daemon", 3),
    ("auth", 4),
    ("syslog", 5),
    ("lpr", 6),
    ("news", 7),
    ("uucp", 8),
    ("cron", 9),
    ("authpriv", 10),
    ("ftp", 11),
    ("local0", 16),
    ("local1", 17),
    ("local2", 18),
    ("local3", 19),
    ("local4", 20),
    ("local5", 21),
    ("local6", 22),
    ("local7", 23),
];

/// The largest facility number systemd takes (LOG_FAC(~0)).
const FACILITY_MAX: u8 = 127;

/// A level: a name of [`LEVELS`] or its number 0 to 7 (log_level_from_string).
pub fn parse_level(text: &str) -> Option<u8> {
    LEVELS
        .iter()
        .position(|l| *l == text)
        .and_then(|i| u8::try_from(i).ok())
        .or_else(|| text.parse::<u8>().ok().filter(|&n| n <= 7))
}

/// A facility: a name of [`FACILITIES`] or a number 0 to 127
/// (log_facility_unshifted_from_string).
pub fn parse_facility(text: &str) -> Option<u8> {
    FACILITIES
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, n)| *n)
        .or_else(|| text.parse::<u8>().ok().filter(|&n| n <= FACILITY_MAX))
}

/// A journal field name a unit may set (journal_field_valid without protected fields): 1 to
/// 64 of `A-Z`, `0-9`, `_`, not starting with a digit or `_`.
pub fn valid_field_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

impl Applier<'_> {
    /// Apply one of the keys above; false when `key` is not one of them.
    pub(super) fn log_key(&mut self, log: &mut LogContext, key: &str, v: &str) -> bool {
        match key {
            "SyslogFacility" => match parse_facility(v) {
                Some(f) => log.facility = Some(f),
                None => self.warn(format!("Failed to parse log facility, ignoring: {v}")),
            },
            "SyslogLevel" | "LogLevelMax" => match parse_level(v) {
                Some(l) if key == "SyslogLevel" => log.level = Some(l),
                Some(l) => log.level_max = Some(l),
                None => self.warn(format!("Failed to parse log level, ignoring: {v}")),
            },
            "SyslogLevelPrefix" => match value::parse_bool(v) {
                Ok(b) => log.level_prefix = Some(b),
                Err(_) => self.warn(format!(
                    "Failed to parse boolean value for {key}=, ignoring: {v}"
                )),
            },
            "LogRateLimitIntervalSec" => match value::parse_timespan(v) {
                Ok(Timespan::Finite(d)) => log.rate_limit_interval = Some(d),
                Ok(Timespan::Infinity) => log.rate_limit_interval = Some(std::time::Duration::MAX),
                Err(_) => self.warn(format!(
                    "Failed to parse time span value for {key}=, ignoring: {v}"
                )),
            },
            "LogRateLimitBurst" => match v.parse::<u32>() {
                Ok(n) => log.rate_limit_burst = Some(n),
                Err(_) => self.warn(format!(
                    "Failed to parse unsigned integer value for {key}=, ignoring: {v}"
                )),
            },
            "LogExtraFields" => self.extra_fields(log, v),
            _ => return false,
        }
        true
    }

    /// LogExtraFields=: `FIELD=value` words (quotes and C escapes resolved, then specifiers);
    /// empty resets the list; a word without `=` or with a bad name is skipped with a warning.
    fn extra_fields(&mut self, log: &mut LogContext, v: &str) {
        if v.is_empty() {
            log.extra_fields.clear();
            return;
        }
        let words = match self.words(v) {
            Ok(words) => words,
            Err(e) => {
                self.warn(format!("Invalid syntax, ignoring: {v}: {e}"));
                return;
            }
        };
        for word in words {
            match word.split_once('=') {
                None => self.warn(format!(
                    "Log field lacks '=' character, ignoring field: {word}"
                )),
                Some((name, _)) if !valid_field_name(name) => {
                    self.warn(format!("Log field name is invalid, ignoring field: {word}"));
                }
                Some((name, value)) => log.extra_fields.push((name.to_owned(), value.to_owned())),
            }
        }
    }

    fn warn(&mut self, text: String) {
        self.report(DiagnosticKind::ValueWarning, text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit::model::{Unit, UnitKind};
    use crate::unit::{SpecifierContext, UnitName};
    use std::path::Path;
    use std::time::Duration;

    /// The LogContext of a service with `lines` in [Service], and the diagnostics as text.
    fn applied(lines: &str) -> (LogContext, Vec<String>) {
        let spec = SpecifierContext::fixed();
        let name = UnitName::parse("web.service").unwrap();
        let path = Path::new("/etc/systemd/system/web.service");
        let mut unit = Unit::new(name.clone());
        let mut applier = Applier::new(&spec, &name, Some(path));
        let text = format!("[Service]\nExecStart=/bin/true\n{lines}");
        applier.apply_file(&mut unit, path, text.as_bytes());
        let UnitKind::Service(s) = unit.kind else {
            panic!("not a service")
        };
        let said = applier.diagnostics.iter().map(|d| d.to_string()).collect();
        (s.exec.log, said)
    }

    #[test]
    fn levels_and_facilities_by_name_and_number() {
        assert_eq!(parse_level("err"), Some(3));
        assert_eq!(parse_level("debug"), Some(7));
        assert_eq!(parse_level("4"), Some(4));
        assert_eq!(parse_facility("local3"), Some(19));
        assert_eq!(parse_facility("daemon"), Some(3));
        assert_eq!(parse_facility("100"), Some(100));
        // Negative controls: not a level, out of range, not a facility.
        for bad in ["error", "8", "-1", "", "Err", "warn"] {
            assert_eq!(parse_level(bad), None, "{bad}");
        }
        for bad in ["local8", "128", "", "12x", "DAEMON"] {
            assert_eq!(parse_facility(bad), None, "{bad}");
        }
    }

    #[test]
    fn field_names_as_journald_takes_them() {
        assert!(valid_field_name("FOO"));
        assert!(valid_field_name("A_1"));
        for bad in ["", "foo", "_PROTECTED", "1ABC", "A-B", &"A".repeat(65)] {
            assert!(!valid_field_name(bad), "{bad}");
        }
    }

    #[test]
    fn every_key_is_read_into_the_log_context() {
        let (log, said) = applied(
            "SyslogFacility=local2\nSyslogLevel=notice\nSyslogLevelPrefix=no\n\
             LogLevelMax=warning\nLogRateLimitIntervalSec=2s\nLogRateLimitBurst=5\n\
             LogExtraFields=A=1 \"B=two words\"\nLogExtraFields=C=%n\n",
        );
        assert!(said.is_empty(), "{said:?}");
        assert_eq!(log.facility, Some(18));
        assert_eq!(log.level, Some(5));
        assert_eq!(log.level_prefix, Some(false));
        assert_eq!(log.level_max, Some(4));
        assert_eq!(log.rate_limit_interval, Some(Duration::from_secs(2)));
        assert_eq!(log.rate_limit_burst, Some(5));
        let fields: Vec<(&str, &str)> = log
            .extra_fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            fields,
            [("A", "1"), ("B", "two words"), ("C", "web.service")]
        );
        // An empty LogExtraFields= resets the list; an unset key keeps systemd's default.
        let (log, _) = applied("LogExtraFields=A=1\nLogExtraFields=\nLogExtraFields=D=4\n");
        assert_eq!(log.extra_fields, [("D".to_owned(), "4".to_owned())]);
        assert_eq!(
            log,
            LogContext {
                extra_fields: log.extra_fields.clone(),
                ..LogContext::default()
            }
        );
    }

    #[test]
    fn bad_values_are_warnings_with_path_and_line_and_change_nothing() {
        let (log, said) = applied(
            "SyslogLevel=loud\nSyslogFacility=local9\nSyslogLevelPrefix=maybe\n\
             LogLevelMax=8\nLogRateLimitIntervalSec=soon\nLogRateLimitBurst=-1\n\
             LogExtraFields=NOEQUALS lower=x OK=1\n",
        );
        assert_eq!(log.level, None);
        assert_eq!(log.facility, None);
        assert_eq!(log.level_prefix, None);
        assert_eq!(log.level_max, None);
        assert_eq!(log.rate_limit_interval, None);
        assert_eq!(log.rate_limit_burst, None);
        assert_eq!(log.extra_fields, [("OK".to_owned(), "1".to_owned())]);
        let at = |line: usize, text: &str| {
            let want = format!("/etc/systemd/system/web.service:{line}: {text}");
            assert!(said.contains(&want), "{want} not in {said:#?}");
        };
        at(3, "Failed to parse log level, ignoring: loud");
        at(4, "Failed to parse log facility, ignoring: local9");
        at(
            5,
            "Failed to parse boolean value for SyslogLevelPrefix=, ignoring: maybe",
        );
        at(6, "Failed to parse log level, ignoring: 8");
        at(
            7,
            "Failed to parse time span value for LogRateLimitIntervalSec=, ignoring: soon",
        );
        at(
            8,
            "Failed to parse unsigned integer value for LogRateLimitBurst=, ignoring: -1",
        );
        at(9, "Log field lacks '=' character, ignoring field: NOEQUALS");
        at(9, "Log field name is invalid, ignoring field: lower=x");
        assert_eq!(said.len(), 8, "{said:#?}");
    }
}
