//! The INI dialect of systemd.syntax(7), read exactly as systemd's conf-parser reads it: `#` and
//! `;` comment lines (skipped even inside a continuation), backslash continuation (the
//! backslash becomes a space, the next line is appended verbatim), whitespace stripped around
//! keys and values, `[Section]` headers, unknown sections warned about and `X-` sections
//! ignored silently. The result is the ordered list of assignments; what a key means is
//! decided elsewhere. This module must not interpret values.

use std::path::Path;

use super::{Diagnostic, DiagnosticKind};

/// One `Key=Value` line, after continuation and stripping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The section it appeared in.
    pub section: String,
    /// The key, as written.
    pub key: String,
    /// The value, stripped of surrounding whitespace (may be empty: a reset).
    pub value: String,
    /// The 1-based line number of the last physical line of the assignment, as systemd
    /// reports it.
    pub line: usize,
}

/// A file split into assignments, with the syntax diagnostics found on the way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IniFile {
    /// Every assignment of a known section, in file order.
    pub assignments: Vec<Assignment>,
    /// Warnings and errors about the syntax.
    pub diagnostics: Vec<Diagnostic>,
}

const WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// Split `text` (the content of `path`) into assignments. `sections` lists the sections this
/// kind of file may contain; others are warned about and skipped.
pub fn parse_ini(path: &Path, text: &[u8], sections: &[&str]) -> IniFile {
    let mut parser = Parser {
        path,
        sections,
        section: None,
        section_ignored: false,
        out: IniFile::default(),
    };
    let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
    let mut continuation: Option<Vec<u8>> = None;
    let mut line_no = 0;
    for raw in split_lines(text) {
        line_no += 1;
        let first = raw.iter().find(|b| !b" \t\n\r".contains(b));
        if matches!(first, Some(b'#' | b';')) {
            continue;
        }
        let mut current = match continuation.take() {
            Some(mut c) => {
                c.extend_from_slice(raw);
                c
            }
            None => raw.to_vec(),
        };
        let mut escaped = false;
        for b in &current {
            escaped = !escaped && *b == b'\\';
        }
        if escaped {
            if let Some(last) = current.last_mut() {
                *last = b' ';
            }
            continuation = Some(current);
            continue;
        }
        parser.parse_line(&current, line_no);
        current.clear();
    }
    if let Some(rest) = continuation {
        parser.parse_line(&rest, line_no);
    }
    parser.out
}

/// Split `text` into lines as systemd's read_line does: a line ends at `\n`, `\r` or NUL, and
/// one end-of-line marker may combine one of each (`\r\n`, `\n\r`), ending right after a NUL.
fn split_lines(text: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let start = i;
        while i < text.len() && !matches!(text[i], b'\n' | b'\r' | 0) {
            i += 1;
        }
        lines.push(&text[start..i]);
        let mut seen = 0u8;
        while let Some(&b) = text.get(i) {
            let bit = match b {
                b'\n' => 1,
                b'\r' => 2,
                0 => 4,
                _ => 0,
            };
            if bit == 0 || seen & 4 != 0 || seen & bit != 0 {
                break;
            }
            seen |= bit;
            i += 1;
        }
    }
    lines
}

struct Parser<'a> {
    path: &'a Path,
    sections: &'a [&'a str],
    section: Option<String>,
    section_ignored: bool,
    out: IniFile,
}

impl Parser<'_> {
    fn report(&mut self, line: usize, kind: DiagnosticKind, message: String) {
        self.out
            .diagnostics
            .push(Diagnostic::new(self.path, Some(line), kind, message));
    }

    fn parse_line(&mut self, bytes: &[u8], line: usize) {
        let Ok(text) = std::str::from_utf8(bytes) else {
            self.report(
                line,
                DiagnosticKind::SyntaxError,
                "line is not valid UTF-8, ignoring".to_owned(),
            );
            return;
        };
        let l = text.trim_matches(WHITESPACE);
        if l.is_empty() {
            return;
        }
        if l.starts_with('[') {
            let Some(name) = l.strip_suffix(']').map(|n| &n[1..]) else {
                self.report(
                    line,
                    DiagnosticKind::SyntaxError,
                    format!("Invalid section header '{l}'"),
                );
                return;
            };
            if name
                .chars()
                .any(|c| c < ' ' || c == '\x7f' || matches!(c, '\\' | '"' | '\''))
            {
                self.report(
                    line,
                    DiagnosticKind::SyntaxError,
                    format!("Bad characters in section header '{l}'"),
                );
                return;
            }
            if self.sections.contains(&name) {
                self.section = Some(name.to_owned());
                self.section_ignored = false;
            } else {
                if !name.starts_with("X-") {
                    self.report(
                        line,
                        DiagnosticKind::UnknownSection,
                        format!("Unknown section '{name}'. Ignoring."),
                    );
                }
                self.section = Some(name.to_owned());
                self.section_ignored = true;
            }
            return;
        }
        let section = match &self.section {
            Some(s) if !self.section_ignored => s.clone(),
            Some(_) => return,
            None => {
                self.report(
                    line,
                    DiagnosticKind::SyntaxWarning,
                    "Assignment outside of section. Ignoring.".to_owned(),
                );
                return;
            }
        };
        let Some((key, value)) = l.split_once('=') else {
            self.report(
                line,
                DiagnosticKind::SyntaxWarning,
                "Missing '=', ignoring line.".to_owned(),
            );
            return;
        };
        if key.is_empty() {
            self.report(
                line,
                DiagnosticKind::SyntaxWarning,
                "Missing key name before '=', ignoring line.".to_owned(),
            );
            return;
        }
        self.out.assignments.push(Assignment {
            section,
            key: key.trim_matches(WHITESPACE).to_owned(),
            value: value.trim_matches(WHITESPACE).to_owned(),
            line,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> IniFile {
        parse_ini(
            Path::new("/u/x.service"),
            text.as_bytes(),
            &["Unit", "Service", "Install"],
        )
    }

    fn pairs(file: &IniFile) -> Vec<(String, String, String, usize)> {
        file.assignments
            .iter()
            .map(|a| (a.section.clone(), a.key.clone(), a.value.clone(), a.line))
            .collect()
    }

    fn a(s: &str, k: &str, v: &str, l: usize) -> (String, String, String, usize) {
        (s.to_owned(), k.to_owned(), v.to_owned(), l)
    }

    #[test]
    fn golden_continuation_and_comments() {
        let f = parse(
            "# head\n[Unit]\n  Description = A  \\\n# inside\n; also inside\n   long one\nAfter=a\\\\\n\
             [Service]\nExecStart=/bin/echo \\\n  a \\\n\n  Type=simple\r\n",
        );
        assert_eq!(
            pairs(&f),
            [
                a("Unit", "Description", "A      long one", 6),
                a("Unit", "After", "a\\\\", 7),
                a("Service", "ExecStart", "/bin/echo    a", 11),
                a("Service", "Type", "simple", 12),
            ]
        );
        assert!(f.diagnostics.is_empty(), "{:?}", f.diagnostics);
    }

    #[test]
    fn continuation_at_end_of_file_is_kept() {
        let f = parse("[Service]\nExecStart=/bin/true \\");
        assert_eq!(pairs(&f), [a("Service", "ExecStart", "/bin/true", 2)]);
    }

    #[test]
    fn line_ends_like_read_line() {
        assert_eq!(
            split_lines(b"a\r\nb\n\rc\r\rd\0e\n\0\nf"),
            [&b"a"[..], b"b", b"c", b"", b"d", b"e", b"", b"f"]
        );
        assert_eq!(split_lines(b"a\n\n"), [&b"a"[..], b""]);
        assert!(split_lines(b"").is_empty());
    }

    #[test]
    fn sections_and_bad_lines() {
        let f = parse(
            "Before=x\n[Socket]\nListenStream=80\n[X-Vendor]\nFoo=1\n[Unit]\njunk\n=v\n[Unit\nEmpty=\n",
        );
        assert_eq!(pairs(&f), [a("Unit", "Empty", "", 10)]);
        let text: Vec<String> = f.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "/u/x.service:1: Assignment outside of section. Ignoring.",
                "/u/x.service:2: Unknown section 'Socket'. Ignoring.",
                "/u/x.service:7: Missing '=', ignoring line.",
                "/u/x.service:8: Missing key name before '=', ignoring line.",
                "/u/x.service:9: Invalid section header '[Unit'",
            ]
        );
    }
}
