//! EnvironmentFile= contents, read with systemd's rules (parse_env_file): `#`/`;` comment
//! lines, `KEY=VALUE`, single quotes (literal), double quotes (backslash escapes only `"`, `\`,
//! `` ` ``, `$` and newline), unquoted values with backslash escapes and trailing whitespace
//! dropped, backslash-newline continuation. Reading the files named by a unit (with the `-`
//! prefix for optional ones) happens at start time; this module offers both the pure parser
//! and the reader.

use std::io;
use std::path::{Path, PathBuf};

use super::model::EnvironmentFileRef;

/// Why environment files cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum EnvFileError {
    /// A file without the `-` prefix cannot be read.
    #[error("cannot read environment file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    PreKey,
    Key,
    PreValue,
    Value,
    ValueEscape,
    SingleQuote,
    DoubleQuote,
    DoubleQuoteEscape,
    Comment,
    CommentEscape,
}

/// A valid environment variable name (systemd's env_name_is_valid()).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A valid `NAME=VALUE` (systemd's env_assignment_is_valid(): any value, control characters
/// included, but the name must be valid).
pub fn valid_assignment(text: &str) -> bool {
    text.split_once('=')
        .is_some_and(|(name, _)| valid_name(name))
}

/// Parse the text of an environment file into `(name, value)` pairs in file order.
/// Assignments with invalid names are skipped, as systemd does.
pub fn parse_env_text(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut state = State::PreKey;
    let mut key = String::new();
    let mut value = String::new();
    // Length of `value` up to its last non-whitespace character (unquoted values are
    // right-trimmed, quoted parts are not).
    let mut value_keep = 0;
    let push =
        |key: &mut String, value: &mut String, keep: usize, out: &mut Vec<(String, String)>| {
            let k = key.trim_end().to_owned();
            value.truncate(keep.min(value.len()));
            if valid_name(&k) {
                out.push((k, std::mem::take(value)));
            }
            key.clear();
            value.clear();
        };
    for c in text.chars() {
        state = match state {
            State::PreKey => match c {
                '#' | ';' => State::Comment,
                c if c.is_whitespace() => State::PreKey,
                c => {
                    key.push(c);
                    State::Key
                }
            },
            State::Key => match c {
                '\n' | '\r' => {
                    key.clear();
                    State::PreKey
                }
                '=' => {
                    value_keep = 0;
                    State::PreValue
                }
                c => {
                    key.push(c);
                    State::Key
                }
            },
            State::PreValue | State::Value => match c {
                '\n' | '\r' => {
                    push(&mut key, &mut value, value_keep, &mut out);
                    State::PreKey
                }
                '\'' => State::SingleQuote,
                '"' => State::DoubleQuote,
                '\\' => State::ValueEscape,
                c if c.is_whitespace() && state == State::PreValue => State::PreValue,
                c => {
                    value.push(c);
                    if !c.is_whitespace() {
                        value_keep = value.len();
                    }
                    State::Value
                }
            },
            State::ValueEscape => {
                if c != '\n' {
                    value.push(c);
                    value_keep = value.len();
                }
                State::Value
            }
            State::SingleQuote => {
                if c == '\'' {
                    State::Value
                } else {
                    value.push(c);
                    value_keep = value.len();
                    State::SingleQuote
                }
            }
            State::DoubleQuote => match c {
                '"' => State::Value,
                '\\' => State::DoubleQuoteEscape,
                c => {
                    value.push(c);
                    value_keep = value.len();
                    State::DoubleQuote
                }
            },
            State::DoubleQuoteEscape => {
                match c {
                    '"' | '\\' | '`' | '$' => value.push(c),
                    '\n' => {}
                    c => {
                        value.push('\\');
                        value.push(c);
                    }
                }
                value_keep = value.len();
                State::DoubleQuote
            }
            State::Comment => match c {
                '\\' => State::CommentEscape,
                '\n' | '\r' => State::PreKey,
                _ => State::Comment,
            },
            State::CommentEscape => State::Comment,
        };
    }
    if matches!(
        state,
        State::PreValue
            | State::Value
            | State::ValueEscape
            | State::SingleQuote
            | State::DoubleQuote
            | State::DoubleQuoteEscape
    ) {
        push(&mut key, &mut value, value_keep, &mut out);
    }
    out
}

/// Read the environment files of a unit in order, under `root`. A missing or unreadable file
/// with the `-` prefix is skipped; without it, it is an error. A wildcard in the file name
/// (glob(3), as systemd) reads every match in name order (no match counts as a missing file).
pub fn read_env_files(
    files: &[EnvironmentFileRef],
    root: &Path,
) -> Result<Vec<(String, String)>, EnvFileError> {
    let mut out = Vec::new();
    for file in files {
        let on_disk = root.join(file.path.strip_prefix("/").unwrap_or(&file.path));
        let paths = match file.path.to_str() {
            Some(pattern) if super::glob::is_glob(pattern) => {
                super::glob::paths(root, pattern, false)
            }
            _ => vec![on_disk.clone()],
        };
        if paths.is_empty() && !file.optional {
            let source = io::Error::new(io::ErrorKind::NotFound, "no file matches the wildcard");
            return Err(EnvFileError::Read {
                path: on_disk,
                source,
            });
        }
        for path in paths {
            match std::fs::read(&path) {
                Ok(bytes) => out.extend(parse_env_text(&String::from_utf8_lossy(&bytes))),
                Err(_) if file.optional => {}
                Err(source) => return Err(EnvFileError::Read { path, source }),
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn golden_env_file() {
        let text = "# comment \\\n  still comment\n; other\nA=1\n  B = two words   \nC='single $x \\n'\n\
                    D=\"dq \\\"q\\\" \\$HOME \\n\"\nE=a\\\n b\nF=\"multi\nline\"\n1BAD=x\nG=\nH=x # not a comment\n\
                    I=\"a\"'b'c\nJ=\\ lead\nK=last";
        assert_eq!(
            parse_env_text(text),
            kv(&[
                ("A", "1"),
                ("B", "two words"),
                ("C", "single $x \\n"),
                ("D", "dq \"q\" $HOME \\n"),
                ("E", "a b"),
                ("F", "multi\nline"),
                ("G", ""),
                ("H", "x # not a comment"),
                ("I", "abc"),
                ("J", " lead"),
                ("K", "last"),
            ])
        );
    }

    #[test]
    fn optional_files() {
        let dir = std::env::temp_dir().join(format!("bosun-envfile-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        std::fs::write(dir.join("etc/app.env"), "X=1\n").unwrap();
        std::fs::write(dir.join("etc/b.conf"), "B=2\n").unwrap();
        std::fs::write(dir.join("etc/a.conf"), "A=1\n").unwrap();
        std::fs::write(dir.join("etc/.hidden.conf"), "H=1\n").unwrap();
        let files = [
            EnvironmentFileRef {
                path: "/etc/app.env".into(),
                optional: false,
            },
            EnvironmentFileRef {
                path: "/etc/missing.env".into(),
                optional: true,
            },
        ];
        assert_eq!(read_env_files(&files, &dir).unwrap(), kv(&[("X", "1")]));
        let glob = [EnvironmentFileRef {
            path: "/etc/*.conf".into(),
            optional: false,
        }];
        assert_eq!(
            read_env_files(&glob, &dir).unwrap(),
            kv(&[("A", "1"), ("B", "2")])
        );
        let none = |optional| {
            [EnvironmentFileRef {
                path: "/etc/*.nothing".into(),
                optional,
            }]
        };
        assert!(read_env_files(&none(true), &dir).unwrap().is_empty());
        assert!(read_env_files(&none(false), &dir).is_err());
        let missing = [EnvironmentFileRef {
            path: "/etc/missing.env".into(),
            optional: false,
        }];
        let err = read_env_files(&missing, &dir).unwrap_err();
        assert!(err.to_string().contains("missing.env"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
