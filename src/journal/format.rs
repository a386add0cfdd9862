//! How a line of service output is printed on PID 1's stdout: `name[pid]: text` (the syslog
//! shape people grep for), the bare text when prefixes are off, or one JSON object per line
//! for log collectors, each line shown by the one rule of [`crate::vocab::text::shown`]. Pure;
//! writing is the caller's job.

use super::ring::{Entry, Stream};
use crate::vocab::text::{Format, shown};
use crate::vocab::time::rfc3339;
/// The name shown in the prefix: the unit name without `.service` (`nginx`, `postgresql@15-main`).
pub fn short_name(unit: &str) -> &str {
    unit.strip_suffix(".service").unwrap_or(unit)
}

/// Render `entry` as one output line, newline included. In the prefix, a syslog line's own
/// identifier, or for stdout and stderr lines `ident` (SyslogIdentifier=), replaces the unit's
/// name. Unless `raw`, the text follows [`shown`]'s rule (JSON is escaped either way); JSON
/// carries the line's priority, facility, identifier and extra fields (LogExtraFields=).
pub fn render(entry: &Entry, ident: Option<&str>, format: Format, raw: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(entry.line.len() + 48);
    let meta = entry.syslog.as_deref();
    let own = meta.and_then(|m| m.identifier.as_deref());
    let prefix = match entry.stream {
        Stream::Syslog | Stream::Journal => own.or(ident),
        Stream::Stdout | Stream::Stderr => ident,
    };
    match format {
        Format::Prefixed => {
            out.extend_from_slice(prefix.unwrap_or(short_name(&entry.unit)).as_bytes());
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
            out.push(b'"');
            if let Some(meta) = meta {
                let fields = format!(
                    ",\"priority\":{},\"facility\":{}",
                    meta.priority, meta.facility
                );
                out.extend_from_slice(fields.as_bytes());
                if let Some(ident) = own {
                    out.extend_from_slice(b",\"identifier\":");
                    push_json_string(&mut out, ident.as_bytes());
                }
                if !meta.fields.is_empty() {
                    out.extend_from_slice(b",\"fields\":{");
                    for (i, (name, value)) in meta.fields.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        push_json_string(&mut out, name.as_bytes());
                        out.push(b':');
                        push_json_string(&mut out, value);
                    }
                    out.push(b'}');
                }
            }
            out.extend_from_slice(b",\"message\":");
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
    use crate::journal::ring::Journal;
    use std::sync::Arc;

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
    fn stdout_lines_keep_the_units_prefix_and_give_their_fields_in_json() {
        use crate::journal::ring::Meta;
        let mut j = Journal::new(1 << 20, 1 << 30);
        let meta = Meta {
            priority: 3,
            facility: 3,
            identifier: Some(Arc::from("sh")),
            fields: vec![(Box::from("TEAM"), Box::from(&b"web \"a\""[..]))],
        };
        let e = j
            .append_with(
                "web.service",
                7,
                Stream::Stdout,
                (b"boom", false),
                Some(Box::new(meta)),
            )
            .clone();
        // The executable's name is the line's identifier, not its prefix: the unit's name
        // (or SyslogIdentifier=, passed in) is.
        assert_eq!(render(&e, None, Format::Prefixed, true), b"web[7]: boom\n");
        assert_eq!(
            render(&e, Some("api"), Format::Prefixed, true),
            b"api[7]: boom\n"
        );
        let json = String::from_utf8(render(&e, None, Format::Json, true)).unwrap();
        assert!(
            json.ends_with(
                "\"stream\":\"stdout\",\"priority\":3,\"facility\":3,\"identifier\":\"sh\",\
                 \"fields\":{\"TEAM\":\"web \\\"a\\\"\"},\"message\":\"boom\"}\n"
            ),
            "{json}"
        );
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["fields"]["TEAM"], "web \"a\"");
    }
}
