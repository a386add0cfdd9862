//! The one shape of a journal line outside PID 1's rings: what the control protocol answers
//! (`initctl logs`, `journalctl`, `systemctl status`) and what the persistent journal's files
//! hold (with the run's id beside it, [`super::persist::Record`]). Owns the reading of a ring
//! [`Entry`] into that shape ([`LogLine::of`]) and the fields journalctl's matches look at.
//! Must not know the socket, the files or PID 1.

use serde::{Deserialize, Serialize};

use super::ring::{Entry, Meta, Stream};

/// One line of a unit's output (or of bosun's own, or of a hook's).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogLine {
    pub seq: u64,
    pub unit: String,
    pub pid: i32,
    pub ms: u64,
    pub stderr: bool,
    /// The line as text; bytes that are not UTF-8 read as U+FFFD here...
    pub text: String,
    /// ... and the line's bytes as they were, only when they are not UTF-8 (journalctl's JSON
    /// gives such a field as an array of numbers too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<Vec<u8>>,
    /// What a syslog or native line said about itself, and the priority of bosun's own
    /// messages (absent for stdout and stderr lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syslog: Option<SyslogFields>,
    /// journald's `_TRANSPORT=`: `stdout` (standard output and error), `syslog`, `journal`;
    /// empty from a bosun before it (then `syslog` when [`Self::syslog`] is there, else
    /// `stdout`) and for bosun's own messages.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub transport: String,
    /// What the journal keeps of a unit's stdout or stderr line beside its text: its priority
    /// (SyslogLevel= or its `<N>` prefix), SyslogFacility=, its identifier (SyslogIdentifier=
    /// or the executable's name); absent for syslog lines and lines of no unit (a hook's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdio: Option<SyslogFields>,
}

/// The fields of a line beyond its text: a syslog line's (`/dev/log`) or a stdout line's.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SyslogFields {
    /// 0 (emerg) to 7 (debug).
    pub priority: u8,
    /// 0 (kern) to 23 (local7).
    pub facility: u8,
    /// SYSLOG_IDENTIFIER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    /// Other fields: a native entry's own, the unit's LogExtraFields=; name and value as text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<(String, String)>,
}

impl SyslogFields {
    /// What a line's [`Meta`] says, as text.
    pub fn of(meta: &Meta) -> SyslogFields {
        SyslogFields {
            priority: meta.priority,
            facility: meta.facility,
            identifier: meta.identifier.as_deref().map(str::to_owned),
            fields: meta.fields_as_text(),
        }
    }
}

impl LogLine {
    /// A ring's entry in this shape: its fields under `syslog` when it came through a journal
    /// socket, under `stdio` when it came through a pipe or stream.
    pub fn of(e: &Entry) -> LogLine {
        let (text, raw) = e.text_and_raw();
        let fields = e.syslog.as_deref().map(SyslogFields::of);
        let stdio = matches!(e.stream, Stream::Stdout | Stream::Stderr);
        LogLine {
            seq: e.seq,
            unit: e.unit.to_string(),
            pid: e.pid,
            ms: e.ms(),
            stderr: e.stream == Stream::Stderr,
            text,
            raw,
            syslog: fields.clone().filter(|_| !stdio),
            stdio: fields.filter(|_| stdio),
            transport: e.stream.transport().to_owned(),
        }
    }

    /// A stdout line of `unit` (pid 1, at the epoch) with no fields, for tests.
    #[cfg(test)]
    pub fn sample(seq: u64, unit: &str, text: &str) -> LogLine {
        LogLine {
            seq,
            unit: unit.into(),
            pid: 1,
            ms: 0,
            stderr: false,
            text: text.into(),
            raw: None,
            syslog: None,
            transport: String::new(),
            stdio: None,
        }
    }

    /// The line's priority, facility and identifier, whichever way it came (`syslog` or
    /// `stdio`): what `journalctl -p` and `-t` match.
    pub fn journal_fields(&self) -> Option<&SyslogFields> {
        self.syslog.as_ref().or(self.stdio.as_ref())
    }

    /// The line's bytes as the service wrote them.
    pub fn bytes(&self) -> &[u8] {
        self.raw.as_deref().unwrap_or(self.text.as_bytes())
    }

    /// PRIORITY: what the line said, else info (journald's for a stream line).
    pub fn priority(&self) -> u8 {
        self.journal_fields()
            .map_or(crate::vocab::text::DEFAULT_PRIORITY, |s| s.priority)
    }

    /// SYSLOG_IDENTIFIER: what the line said, else the one bosun gives its unit.
    pub fn identifier(&self) -> &str {
        match self.journal_fields().and_then(|s| s.identifier.as_deref()) {
            Some(id) => id,
            None => crate::vocab::text::unit_identifier(&self.unit),
        }
    }

    /// `_TRANSPORT=`.
    pub fn transport(&self) -> &str {
        match (self.transport.as_str(), &self.syslog) {
            ("", Some(_)) => "syslog",
            ("", None) => "stdout",
            (t, _) => t,
        }
    }
}

impl super::ring::Matched for LogLine {
    fn unit(&self) -> &str {
        &self.unit
    }

    fn time(&self) -> std::time::SystemTime {
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(self.ms)
    }

    fn priority(&self) -> u8 {
        LogLine::priority(self)
    }

    fn identifier(&self) -> &str {
        LogLine::identifier(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::ring::{Filter, Journal};
    use std::sync::Arc;

    #[test]
    fn an_entry_reads_the_same_through_the_ring_and_as_a_line() {
        let mut j = Journal::new(1 << 20, 1 << 30);
        let meta = |priority| {
            Some(Box::new(Meta {
                priority,
                facility: 3,
                identifier: Some(Arc::from("web")),
                fields: vec![("X".into(), b"1".to_vec().into())],
            }))
        };
        j.append_with("web.service", 7, Stream::Stderr, (b"err", false), meta(3));
        j.append_with("web.service", 8, Stream::Syslog, (b"said", false), meta(6));
        j.append("cron.service", 9, Stream::Stdout, b"plain", false);
        let entries = j.tail(None, 10);
        let lines: Vec<LogLine> = entries.iter().map(|e| LogLine::of(e)).collect();
        assert_eq!(lines[0].stdio.as_ref().map(|s| s.priority), Some(3));
        assert!(lines[0].syslog.is_none() && lines[0].stderr);
        assert_eq!(lines[1].syslog.as_ref().map(|s| s.priority), Some(6));
        assert_eq!(lines[1].transport(), "syslog");
        assert_eq!(lines[2].identifier(), "cron");
        // One filter, the same answer for the ring's entry and the line.
        let filters = [
            Filter {
                priorities: Some(0b1111),
                ..Filter::default()
            },
            Filter {
                units: vec!["web*".into()],
                identifiers: vec!["web".into()],
                ..Filter::default()
            },
            Filter {
                until: Some(std::time::UNIX_EPOCH),
                ..Filter::default()
            },
        ];
        for filter in &filters {
            for (e, l) in entries.iter().zip(&lines) {
                assert_eq!(filter.matches(*e), filter.matches(l), "{filter:?} {l:?}");
            }
        }
        assert!(filters[0].matches(&lines[0]) && !filters[0].matches(&lines[2]));
        assert!(!filters[2].matches(&lines[1]));
    }
}
