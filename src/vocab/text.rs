//! How bosun shows text that others wrote, and the words for it: the output format of service
//! lines (`log.format`, `log.prefix`), and journalctl's rule for showing a service's line to a
//! person ([`shown`]: PID 1's stdout when it is a terminal, `initctl logs`, `systemctl
//! status`): a line with control characters or invalid UTF-8 is `[N blob data]` unless raw
//! output was asked for. Pure; part of the leaf vocabulary.

use std::borrow::Cow;

use super::size::format_bytes;

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

/// The priority of a line that says none (journald's for stream lines, stderr's too): info.
pub const DEFAULT_PRIORITY: u8 = 6;

/// The SYSLOG_IDENTIFIER bosun gives a line that names none: its unit's name without the type
/// suffix (`web.service` → `web`), where journald would give the process name.
pub fn unit_identifier(unit: &str) -> &str {
    match unit.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => unit,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
