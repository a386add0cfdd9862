//! Reading one syslog datagram as journald does: the `<PRI>` prefix split into priority and
//! facility, then either an RFC 5424 header (`1 TIMESTAMP HOST APP PROCID MSGID SD`) or the
//! RFC 3164 shape glibc's syslog(3) and util-linux's logger send (`Mmm dd hh:mm:ss IDENT[PID]:
//! MSG`), the date skipped and the identifier and pid taken from the line. Pure: which unit
//! sent it is the caller's business (from the socket's credentials, never from the text).

/// LOG_USER: the facility of a line without `<PRI>` (journald's default).
pub const FACILITY_USER: u8 = 1;

/// LOG_INFO: the priority of a line without `<PRI>` (journald's default).
pub const PRIORITY_INFO: u8 = 6;

/// What a syslog line says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 0 (emerg) to 7 (debug).
    pub priority: u8,
    /// 0 (kern) to 23 (local7).
    pub facility: u8,
    /// SYSLOG_IDENTIFIER: the tag before the colon, or RFC 5424's APP-NAME.
    pub identifier: Option<String>,
    /// SYSLOG_PID as the line claims it (`ident[PID]:`, RFC 5424's PROCID).
    pub pid: Option<i32>,
    /// The message after the header.
    pub message: Vec<u8>,
}

/// Parse one datagram (trailing newlines and NULs are not part of the message).
pub fn parse(datagram: &[u8]) -> Record {
    let mut end = datagram.len();
    while end > 0 && matches!(datagram[end - 1], b'\n' | b'\0' | b'\r') {
        end -= 1;
    }
    let line = &datagram[..end];
    let (pri, rest) = split_priority(line);
    let (priority, facility) = match pri {
        Some(value) => (value & 7, value >> 3),
        None => (PRIORITY_INFO, FACILITY_USER),
    };
    let (identifier, pid, message) = match parse_rfc5424(rest) {
        Some(parts) => parts,
        None => parse_rfc3164(rest),
    };
    Record {
        priority,
        facility,
        identifier,
        pid,
        message: message.to_vec(),
    }
}

/// `<N>` with 1 to 3 digits and N at most 191 (facility local7, debug); the rest of the line.
pub fn split_priority(line: &[u8]) -> (Option<u8>, &[u8]) {
    let Some(body) = line.strip_prefix(b"<") else {
        return (None, line);
    };
    let Some(close) = body.iter().take(4).position(|&b| b == b'>') else {
        return (None, line);
    };
    let digits = &body[..close];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return (None, line);
    }
    let value = digits
        .iter()
        .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    match u8::try_from(value) {
        Ok(v) if v <= 191 => (Some(v), &body[close + 1..]),
        _ => (None, line),
    }
}

/// The next space-separated field and what follows its single separating space.
fn field(text: &[u8]) -> Option<(&[u8], &[u8])> {
    let space = text.iter().position(|&b| b == b' ')?;
    Some((&text[..space], &text[space + 1..]))
}

type Parts<'a> = (Option<String>, Option<i32>, &'a [u8]);

/// `1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]`; None when the line is
/// not RFC 5424 (its version is not `1` followed by a timestamp or `-`).
fn parse_rfc5424(text: &[u8]) -> Option<Parts<'_>> {
    let (version, rest) = field(text)?;
    if version != b"1" {
        return None;
    }
    let (stamp, rest) = field(rest)?;
    if stamp != b"-" && !stamp.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let (_host, rest) = field(rest)?;
    let (app, rest) = field(rest)?;
    let (procid, rest) = field(rest)?;
    let (_msgid, rest) = field(rest)?;
    let message = skip_structured_data(rest);
    let message = message
        .strip_prefix("\u{feff}".as_bytes())
        .unwrap_or(message);
    let nil = |f: &[u8]| (f != b"-" && !f.is_empty()).then(|| String::from_utf8_lossy(f).into());
    let pid = std::str::from_utf8(procid)
        .ok()
        .and_then(|p| p.parse().ok());
    Some((nil(app), pid, message))
}

/// Past `-` or the `[id k="v" ...]` elements (a `]` inside a quoted value is escaped), and
/// the space before the message.
fn skip_structured_data(text: &[u8]) -> &[u8] {
    if let Some(rest) = text.strip_prefix(b"-") {
        return rest.strip_prefix(b" ").unwrap_or(rest);
    }
    let mut i = 0;
    while text.get(i) == Some(&b'[') {
        let mut quoted = false;
        i += 1;
        while let Some(&b) = text.get(i) {
            i += 1;
            match b {
                b'\\' if quoted => i += 1,
                b'"' => quoted = !quoted,
                b']' if !quoted => break,
                _ => {}
            }
        }
    }
    let rest = text.get(i..).unwrap_or_default();
    rest.strip_prefix(b" ").unwrap_or(rest)
}

/// RFC 3164 as journald reads it: an optional `Mmm dd hh:mm:ss ` date skipped, then the first
/// word when it ends in `:` is the identifier, with `[PID]` split off its end.
fn parse_rfc3164(text: &[u8]) -> Parts<'_> {
    let text = skip_date(text);
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    let word = &text[start..];
    let len = word
        .iter()
        .position(u8::is_ascii_whitespace)
        .unwrap_or(word.len());
    let Some(tag) = word[..len].strip_suffix(b":") else {
        return (None, None, text);
    };
    let mut rest = &word[len..];
    if let Some(&b) = rest.first()
        && b.is_ascii_whitespace()
    {
        rest = &rest[1..];
    }
    let (ident, pid) = match tag.strip_suffix(b"]") {
        Some(inner) => match inner.iter().rposition(|&b| b == b'[') {
            Some(open) => (&inner[..open], Some(&inner[open + 1..])),
            None => (tag, None),
        },
        None => (tag, None),
    };
    let pid = pid
        .and_then(|p| std::str::from_utf8(p).ok())
        .and_then(|p| p.parse().ok());
    (Some(String::from_utf8_lossy(ident).into_owned()), pid, rest)
}

/// Past `Mmm dd hh:mm:ss ` when the line starts with one (journald's syslog_skip_date).
fn skip_date(text: &[u8]) -> &[u8] {
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let Some(date) = text.get(..16) else {
        return text;
    };
    let digit_or_space = |b: u8| b.is_ascii_digit() || b == b' ';
    let ok = MONTHS.contains(&&date[..3])
        && date[3] == b' '
        && digit_or_space(date[4])
        && date[5].is_ascii_digit()
        && date[6] == b' '
        && date[7..9].iter().all(u8::is_ascii_digit)
        && date[9] == b':'
        && date[10..12].iter().all(u8::is_ascii_digit)
        && date[12] == b':'
        && date[13..15].iter().all(u8::is_ascii_digit)
        && date[15] == b' ';
    if ok { &text[16..] } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(p: u8, f: u8, ident: Option<&str>, pid: Option<i32>, msg: &str) -> Record {
        Record {
            priority: p,
            facility: f,
            identifier: ident.map(str::to_owned),
            pid,
            message: msg.as_bytes().to_vec(),
        }
    }

    #[test]
    fn glibc_and_logger_rfc3164() {
        // glibc's syslog(3): LOG_CRON|LOG_INFO from CRON with LOG_PID.
        assert_eq!(
            parse(b"<78>Dec  6 12:00:01 CRON[4242]: (root) CMD (true)\n"),
            rec(6, 9, Some("CRON"), Some(4242), "(root) CMD (true)")
        );
        // logger -t tag -p local3.err without a pid.
        assert_eq!(
            parse(b"<155>Dec 16 01:02:03 tag: hello  world"),
            rec(3, 19, Some("tag"), None, "hello  world")
        );
        // No date, no identifier: the whole text is the message.
        assert_eq!(parse(b"<13>just text"), rec(5, 1, None, None, "just text"));
    }

    #[test]
    fn rfc5424() {
        assert_eq!(
            parse(
                b"<165>1 2026-12-06T12:00:00.123+00:00 host app 77 ID47 \
                  [ex@1 a=\"x]y\\\"\"][b c=\"d\"] \xef\xbb\xbfthe message"
            ),
            rec(5, 20, Some("app"), Some(77), "the message")
        );
        assert_eq!(
            parse(b"<14>1 - - - - - - bare"),
            rec(6, 1, None, None, "bare")
        );
    }

    #[test]
    fn malformed_priorities_are_text() {
        // Negative controls: out of range, not digits, unclosed.
        for line in [&b"<192>x"[..], b"<a>x", b"<1234>x", b"<13 x"] {
            let r = parse(line);
            assert_eq!((r.priority, r.facility), (PRIORITY_INFO, FACILITY_USER));
            assert_eq!(r.message, line);
        }
        // A word not ending in ':' is no identifier; a bad date is not skipped.
        assert_eq!(
            parse(b"<11>Foo  6 12:00:01 x: y"),
            rec(3, 1, None, None, "Foo  6 12:00:01 x: y")
        );
        assert_eq!(parse(b"").message, b"");
    }
}
