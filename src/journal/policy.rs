//! How the journal shapes and limits one unit's lines, as systemd-journald does with what PID 1
//! tells it about the unit (systemd.exec(5), "Logging and Standard Input/Output"): the
//! identifier, facility and default level of its stdout and stderr lines and whether a `<N>`
//! prefix sets a line's level (SyslogIdentifier=, SyslogFacility=, SyslogLevel=,
//! SyslogLevelPrefix=), which levels are kept at all (LogLevelMax=), its rate limit
//! (LogRateLimitIntervalSec=, LogRateLimitBurst=) and the fields added to each of its lines
//! (LogExtraFields=). Built once per unit when the engine loads it ([`LogPolicy::of`]); pure:
//! counting against the rate limit is [`super::ratelimit`]'s, storing a line [`super::ring`]'s.

use std::sync::Arc;
use std::time::Duration;

use super::ratelimit;
use super::ring::Meta;
use crate::unit::model::ExecContext;

/// LOG_DAEMON: SyslogFacility='s default.
pub const FACILITY_DAEMON: u8 = 3;

/// LOG_INFO: SyslogLevel='s default.
pub const LEVEL_INFO: u8 = 6;

/// LOG_DEBUG: LogLevelMax='s default (nothing dropped).
pub const LEVEL_DEBUG: u8 = 7;

/// One unit's logging settings, with systemd's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPolicy {
    /// SyslogIdentifier=; None: the executed binary's name ([`Self::identifier_for`]).
    pub identifier: Option<Arc<str>>,
    /// SyslogFacility= (default daemon).
    pub facility: u8,
    /// SyslogLevel=: a stdout or stderr line's priority (default info).
    pub level: u8,
    /// SyslogLevelPrefix= (default yes): a stdout or stderr line's `<N>` is its priority.
    pub level_prefix: bool,
    /// LogLevelMax=: lines of a higher (less important) priority are dropped (default debug).
    pub level_max: u8,
    /// LogRateLimitIntervalSec= (default journald's 30 s; zero: no limit).
    pub rate_interval: Duration,
    /// LogRateLimitBurst= (default journald's 10,000; zero: no limit).
    pub rate_burst: u32,
    /// LogExtraFields=, as stored with each line.
    pub fields: Vec<(Box<str>, Box<[u8]>)>,
}

impl Default for LogPolicy {
    fn default() -> LogPolicy {
        LogPolicy {
            identifier: None,
            facility: FACILITY_DAEMON,
            level: LEVEL_INFO,
            level_prefix: true,
            level_max: LEVEL_DEBUG,
            rate_interval: ratelimit::INTERVAL,
            rate_burst: ratelimit::BURST,
            fields: Vec::new(),
        }
    }
}

impl LogPolicy {
    /// The policy of a unit with the execution settings `exec`.
    pub fn of(exec: &ExecContext) -> LogPolicy {
        let log = &exec.log;
        let default = LogPolicy::default();
        LogPolicy {
            identifier: exec.syslog_identifier.as_deref().map(Arc::from),
            facility: log.facility.unwrap_or(default.facility),
            level: log.level.unwrap_or(default.level),
            level_prefix: log.level_prefix.unwrap_or(default.level_prefix),
            level_max: log.level_max.unwrap_or(default.level_max),
            rate_interval: log.rate_limit_interval.unwrap_or(default.rate_interval),
            rate_burst: log.rate_limit_burst.unwrap_or(default.rate_burst),
            fields: log
                .extra_fields
                .iter()
                .map(|(k, v)| (Box::from(k.as_str()), Box::from(v.as_bytes())))
                .collect(),
        }
    }

    /// The identifier of the stdout and stderr lines of a process running `executable`:
    /// SyslogIdentifier=, else the executable's file name (systemd passes
    /// `basename(command->path)` to journald).
    pub fn identifier_for(&self, executable: &str) -> Arc<str> {
        match &self.identifier {
            Some(ident) => Arc::clone(ident),
            None => Arc::from(executable.rsplit('/').next().unwrap_or(executable)),
        }
    }

    /// A stdout or stderr line's priority and the text kept: with SyslogLevelPrefix=, a
    /// leading `<0>` to `<7>` sets the level and is removed (sd-daemon(3)); otherwise the
    /// line is kept as written at SyslogLevel=.
    pub fn shape<'a>(&self, line: &'a [u8]) -> (u8, &'a [u8]) {
        if self.level_prefix
            && let Some((level, rest)) = level_prefix(line)
        {
            return (level, rest);
        }
        (self.level, line)
    }

    /// Whether a line of `priority` is kept (LogLevelMax=).
    pub fn admits(&self, priority: u8) -> bool {
        priority <= self.level_max
    }

    /// The [`Meta`] of a line: its priority, facility and identifier, and the unit's
    /// LogExtraFields=.
    pub fn meta(&self, priority: u8, facility: u8, identifier: Option<Arc<str>>) -> Meta {
        Meta {
            priority,
            facility,
            identifier,
            fields: self.fields.clone(),
        }
    }
}

/// A kernel-style level prefix as journald reads one on a stream (syslog_parse_priority
/// without a facility): `<` one to three decimal digits `>`, the value 0 to 7 (`<03>` too);
/// the level and the text after it. Anything else is no prefix.
pub fn level_prefix(line: &[u8]) -> Option<(u8, &[u8])> {
    let body = line.strip_prefix(b"<")?;
    let close = body.iter().position(|&b| b == b'>')?;
    let digits = &body[..close];
    if digits.is_empty() || digits.len() > 3 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let (last, lead) = digits.split_last()?;
    if lead.iter().any(|&d| d != b'0') || *last > b'7' {
        return None;
    }
    Some((last - b'0', &body[close + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit::model::LogContext;

    #[test]
    fn level_prefixes_as_journald_reads_them() {
        assert_eq!(
            level_prefix(b"<3>disk on fire"),
            Some((3, &b"disk on fire"[..]))
        );
        assert_eq!(level_prefix(b"<007>x"), Some((7, &b"x"[..])));
        assert_eq!(level_prefix(b"<0>"), Some((0, &b""[..])));
        // Negative controls: a facility, out of range, not digits, too long, unclosed.
        for line in [
            &b"<11>x"[..],
            b"<8>x",
            b"<a>x",
            b"<0003>x",
            b"<>x",
            b"<3 x",
            b" <3>x",
        ] {
            assert_eq!(
                level_prefix(line),
                None,
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn defaults_shape_and_filter() {
        let p = LogPolicy::default();
        assert_eq!(p.shape(b"<2>crit"), (2, &b"crit"[..]));
        assert_eq!(p.shape(b"plain"), (LEVEL_INFO, &b"plain"[..]));
        assert!(p.admits(LEVEL_DEBUG));
        assert_eq!(&*p.identifier_for("/usr/sbin/nginx"), "nginx");
        assert_eq!(&*p.identifier_for("sh"), "sh");
        let exec = ExecContext {
            syslog_identifier: Some("web".to_owned()),
            log: LogContext {
                level: Some(5),
                level_prefix: Some(false),
                level_max: Some(4),
                facility: Some(19),
                extra_fields: vec![("A".to_owned(), "1".to_owned())],
                ..LogContext::default()
            },
            ..ExecContext::default()
        };
        let p = LogPolicy::of(&exec);
        // SyslogLevelPrefix=no: the prefix is text, the line has SyslogLevel=.
        assert_eq!(p.shape(b"<2>crit"), (5, &b"<2>crit"[..]));
        assert_eq!(&*p.identifier_for("/usr/sbin/nginx"), "web");
        assert!(p.admits(4) && !p.admits(5));
        let meta = p.meta(5, p.facility, None);
        assert_eq!(meta.facility, 19);
        assert_eq!(&*meta.fields[0].0, "A");
        assert_eq!(&*meta.fields[0].1, b"1");
    }
}
