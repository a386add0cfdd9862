//! How a line of service output is printed on PID 1's stdout: `name[pid]: text` (the syslog
//! shape people grep for), the bare text when prefixes are off, or one JSON object per line
//! for log collectors. And the one rule for showing a service's line to a person ([`shown`]:
//! PID 1's stdout when it is a terminal, `initctl logs`, `systemctl status`): journalctl's, a
//! line with control characters or invalid UTF-8 is `[N blob data]` unless raw output was
//! asked for. Pure; writing is the caller's job.

use super::ring::Entry;
use crate::vocab::time::rfc3339;
use std::borrow::Cow;

/// The output format of service lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `name[pid]: text`
    Prefixed,
    /// the text only
    Bare,
    /// `{"time":...,"unit":...,"pid":...,"stream":...,"message":...}`
    Json,
}

/// The name shown in the prefix: the unit name without `.service` (`nginx`, `postgresql@15-main`).
pub fn short_name(unit: &str) -> &str {
    unit.strip_suffix(".service").unwrap_or(unit)
}

/// Whether a service's line may reach a terminal as it is: journalctl's utf8_is_printable(),
/// valid UTF-8 without a control character other than TAB (C0, DEL and C1 are control).
pub fn printable(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|text| {
        !text
            .chars()
            .any(|c| (c < ' ' && c != '\t') || ('\u{7f}'..='\u{9f}').contains(&c))
    })
}

/// The one rule for showing a service's line to a person, as journalctl 252's short output
/// (src/shared/logs-show.c): the line itself when [`printable`] or when `raw` (`--all`) asks
/// for it as written, else `[N blob data]`, so a service cannot retitle, clear or overwrite
/// the operator's terminal.
pub fn shown(bytes: &[u8], raw: bool) -> Cow<'_, [u8]> {
    if raw || printable(bytes) {
        Cow::Borrowed(bytes)
    } else {
        Cow::Owned(
            format!(
                "[{} blob data]",
                format_bytes(u64::try_from(bytes.len()).unwrap_or(u64::MAX))
            )
            .into_bytes(),
        )
    }
}

/// One journal line as a person reads it (`initctl logs`, `systemctl status`):
/// `TIME UNIT[PID]TAG: text`, newline included, the text as [`shown`] rules. `tag` is what
/// follows the PID (` stderr` for standard error in `initctl logs`, or nothing).
pub fn journal_line(
    time: &str,
    unit: &str,
    pid: i32,
    tag: &str,
    text: &[u8],
    raw: bool,
) -> Vec<u8> {
    let mut out = format!("{time} {unit}[{pid}]{tag}: ").into_bytes();
    out.extend_from_slice(&shown(text, raw));
    out.push(b'\n');
    out
}

/// systemd's FORMAT_BYTES(): IEC units with one decimal, rounded down (`512B`, `1.4K`,
/// `48.0K`, `2.0M`).
pub fn format_bytes(n: u64) -> String {
    const UNITS: [(&str, u32); 6] = [("E", 6), ("P", 5), ("T", 4), ("G", 3), ("M", 2), ("K", 1)];
    for (suffix, power) in UNITS {
        let factor = 1024u64.pow(power);
        if n >= factor {
            let tenth = n / (factor / 1024) * 10 / 1024 % 10;
            return format!("{}.{tenth}{suffix}", n / factor);
        }
    }
    format!("{n}B")
}

/// Render `entry` as one output line, newline included. `ident` (SyslogIdentifier=) replaces
/// the unit's name in the prefix. Unless `raw`, the text follows [`shown`]'s rule (JSON is
/// escaped either way).
pub fn render(entry: &Entry, ident: Option<&str>, format: Format, raw: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(entry.line.len() + 48);
    match format {
        Format::Prefixed => {
            out.extend_from_slice(ident.unwrap_or(short_name(&entry.unit)).as_bytes());
            out.extend_from_slice(format!("[{}]: ", entry.pid).as_bytes());
            out.extend_from_slice(&shown(&entry.line, raw));
            if entry.truncated {
                out.extend_from_slice(" …".as_bytes());
            }
        }
        Format::Bare => out.extend_from_slice(&shown(&entry.line, raw)),
        Format::Json => {
            out.extend_from_slice(b"{\"time\":\"");
            out.extend_from_slice(rfc3339(entry.time).as_bytes());
            out.extend_from_slice(b"\",\"unit\":");
            push_json_string(&mut out, entry.unit.as_bytes());
            out.extend_from_slice(format!(",\"pid\":{},\"stream\":\"", entry.pid).as_bytes());
            out.extend_from_slice(entry.stream.as_str().as_bytes());
            out.extend_from_slice(b"\",\"message\":");
            push_json_string(&mut out, &entry.line);
            if entry.truncated {
                out.extend_from_slice(b",\"truncated\":true");
            }
            out.push(b'}');
        }
    }
    out.push(b'\n');
    out
}

/// Append `bytes` as a JSON string; invalid UTF-8 becomes U+FFFD.
fn push_json_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                out.extend_from_slice(format!("\\u{:04x}", u32::from(c)).as_bytes());
            }
            c => {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::ring::{Journal, Stream};

    #[test]
    fn prefixed_bare_and_json() {
        let mut j = Journal::new(1 << 20, 1 << 30);
        let e = j
            .append(
                "nginx.service",
                812,
                Stream::Stderr,
                b"say \"hi\"\t\x01\xff",
                false,
            )
            .clone();
        assert_eq!(
            render(&e, None, Format::Prefixed, true),
            b"nginx[812]: say \"hi\"\t\x01\xff\n"
        );
        assert_eq!(
            render(&e, Some("web"), Format::Prefixed, true),
            b"web[812]: say \"hi\"\t\x01\xff\n"
        );
        assert_eq!(
            render(&e, None, Format::Prefixed, false),
            b"nginx[812]: [11B blob data]\n"
        );
        assert_eq!(
            render(&e, None, Format::Bare, true),
            b"say \"hi\"\t\x01\xff\n"
        );
        let json = String::from_utf8(render(&e, None, Format::Json, false)).unwrap();
        assert!(json.starts_with("{\"time\":\""), "{json}");
        assert!(
            json.ends_with(
                "\",\"unit\":\"nginx.service\",\"pid\":812,\"stream\":\"stderr\",\
                 \"message\":\"say \\\"hi\\\"\\t\\u0001\u{fffd}\"}\n"
            ),
            "{json}"
        );
    }

    #[test]
    fn blobs_as_journalctl_shows_them() {
        assert!(printable("tab\there, ünïcödé, emoji 🚢".as_bytes()));
        for bad in [
            &b"\x1b]0;owned\x07"[..],
            b"\x1b[2J",
            b"over\rwrite",
            b"bell\x07",
            b"del\x7f",
            "c1 \u{9b}31m".as_bytes(),
            b"\xff\xfe",
            b"cut \xe2\x82",
        ] {
            assert!(!printable(bad), "{bad:?}");
            assert_eq!(
                shown(bad, false).as_ref(),
                format!("[{}B blob data]", bad.len()).as_bytes()
            );
            assert_eq!(shown(bad, true).as_ref(), bad);
        }
        assert_eq!(format_bytes(0), "0B");
        assert_eq!(format_bytes(1023), "1023B");
        assert_eq!(format_bytes(1024), "1.0K");
        assert_eq!(format_bytes(1500), "1.4K");
        assert_eq!(format_bytes(48 * 1024), "48.0K");
        assert_eq!(format_bytes(3 * 1024 * 1024 + 1024 * 1023), "3.9M");
        assert_eq!(format_bytes(5 << 30), "5.0G");
    }
}
