//! Command lines of Exec*= keys (systemd.service(5) "Command lines"): systemd's word splitting
//! with quotes and C escapes (extract_first_word with UNQUOTE|CUNESCAPE), the prefixes
//! `@ - : + ! !!`, `;` between commands, specifiers per word, and — at exec time — `$VAR`
//! (split into words) and `${VAR}` (one word) expansion (replace_env_argv). The executable is
//! searched in systemd's fixed path, never the caller's PATH. No process is started here.

use std::path::{Path, PathBuf};

/// Why a command line is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// A quote is not closed.
    #[error("unbalanced quoting in {value:?}")]
    UnbalancedQuoting {
        /// The whole value.
        value: String,
    },
    /// The first word is only prefixes.
    #[error("empty executable path in {value:?}")]
    EmptyPath {
        /// The whole value.
        value: String,
    },
    /// The executable is not usable as a path or a file name.
    #[error("{path:?} is {why}")]
    BadPath {
        /// The executable.
        path: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// `@` without an argv\[0\].
    #[error("empty executable name or zeroeth argument in {value:?}")]
    EmptyArgv0 {
        /// The whole value.
        value: String,
    },
    /// A word with a specifier that does not resolve.
    #[error("cannot resolve specifiers in {word:?}: {why}")]
    Specifier {
        /// The word.
        word: String,
        /// Why.
        why: String,
    },
}

/// The prefixes of a command (systemd.service(5), table "Special executable prefixes").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecFlags {
    /// `-`: a failure exit code is recorded but otherwise ignored.
    pub ignore_failure: bool,
    /// `:`: no environment variable substitution.
    pub no_env_expand: bool,
    /// `+`: run with full privileges (User=, sandboxing ignored).
    pub full_privileges: bool,
    /// `!`: credentials changed but no other privilege restriction.
    pub no_setuid: bool,
    /// `!!`: like `!` only where ambient capabilities are unsupported.
    pub ambient_magic: bool,
}

/// One command of an Exec*= line, with specifiers resolved and environment variables not yet
/// expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecCommand {
    /// The executable: an absolute path or a bare name to search in [`DEFAULT_PATH`].
    pub path: String,
    /// The arguments, argv\[0\] included (with `@`, argv\[0\] is the second word).
    pub argv: Vec<String>,
    /// The prefixes.
    pub flags: ExecFlags,
}

/// systemd's fixed search path for bare executable names (DEFAULT_PATH, split-usr variant).
pub const DEFAULT_PATH: [&str; 6] = [
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// A command line split into commands, plus warnings systemd would print.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecLine {
    /// The commands, in order (several when separated by `;`).
    pub commands: Vec<ExecCommand>,
    /// Warnings (unknown escape sequences, a `-` command ignored because it is broken).
    pub warnings: Vec<String>,
}

#[derive(Clone, Copy, Default)]
struct Extract {
    unquote: bool,
    cunescape: bool,
    relax: bool,
    unescape_relax: bool,
}

/// Decode one C escape after a backslash (cunescape_one); returns the bytes and the length
/// consumed.
fn cunescape_one(s: &[u8]) -> Option<(Vec<u8>, usize)> {
    let hex = |b: &[u8]| {
        std::str::from_utf8(b)
            .ok()
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    let c = *s.first()?;
    let simple = match c {
        b'a' => Some(7),
        b'b' => Some(8),
        b'f' => Some(12),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(11),
        b'\\' | b'"' | b'\'' => Some(c),
        b's' => Some(b' '),
        _ => None,
    };
    if let Some(b) = simple {
        return Some((vec![b], 1));
    }
    match c {
        b'x' => {
            let v = hex(s.get(1..3)?)
                .filter(|v| *v != 0 && s[1..3].iter().all(u8::is_ascii_hexdigit))?;
            Some((vec![u8::try_from(v).ok()?], 3))
        }
        b'u' | b'U' => {
            let n = if c == b'u' { 4 } else { 8 };
            let digits = s.get(1..=n)?;
            if !digits.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let ch = char::from_u32(hex(digits)?).filter(|c| *c != '\0')?;
            Some((ch.to_string().into_bytes(), n + 1))
        }
        b'0'..=b'7' => {
            let digits = s.get(0..3)?;
            if !digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                return None;
            }
            let v = digits
                .iter()
                .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
            (v != 0 && v < 256).then(|| (vec![u8::try_from(v).unwrap_or(0)], 3))
        }
        _ => None,
    }
}

fn is_separator(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// extract_first_word: the next word of `s` from `*pos`, `Ok(None)` at the end, `Err(())` on an
/// invalid escape or unbalanced quote (EINVAL).
fn extract(s: &[u8], pos: &mut usize, fl: Extract) -> Result<Option<Vec<u8>>, ()> {
    while *pos < s.len() && is_separator(s[*pos]) {
        *pos += 1;
    }
    if *pos >= s.len() {
        return Ok(None);
    }
    let mut word = Vec::new();
    let mut quote: Option<u8> = None;
    loop {
        let Some(&c) = s.get(*pos) else {
            return match quote {
                None => Ok(Some(word)),
                Some(_) if fl.relax => Ok(Some(word)),
                Some(_) => Err(()),
            };
        };
        *pos += 1;
        if c == b'\\' {
            let Some(&next) = s.get(*pos) else {
                if fl.unescape_relax && (quote.is_none() || fl.relax) {
                    word.push(b'\\');
                    return Ok(Some(word));
                }
                return if fl.relax { Ok(Some(word)) } else { Err(()) };
            };
            if fl.cunescape {
                if let Some((bytes, used)) = cunescape_one(&s[*pos..]) {
                    word.extend_from_slice(&bytes);
                    *pos += used;
                } else if fl.unescape_relax {
                    word.extend_from_slice(&[b'\\', next]);
                    *pos += 1;
                } else {
                    return Err(());
                }
            } else {
                word.push(next);
                *pos += 1;
            }
        } else if let Some(q) = quote {
            if c == q {
                quote = None;
            } else {
                word.push(c);
            }
        } else if fl.unquote && (c == b'\'' || c == b'"') {
            quote = Some(c);
        } else if is_separator(c) {
            while *pos < s.len() && is_separator(s[*pos]) {
                *pos += 1;
            }
            return Ok(Some(word));
        } else {
            word.push(c);
        }
    }
}

enum Word {
    End,
    Word(String),
}

/// extract_first_word_and_warn: retry with relaxed escapes and warn, or fail on unbalanced
/// quotes.
fn next_word(s: &str, pos: &mut usize, warnings: &mut Vec<String>) -> Result<Word, ExecError> {
    let strict = Extract {
        unquote: true,
        cunescape: true,
        ..Extract::default()
    };
    let save = *pos;
    match extract(s.as_bytes(), pos, strict) {
        Ok(None) => return Ok(Word::End),
        Ok(Some(w)) => return Ok(Word::Word(String::from_utf8_lossy(&w).into_owned())),
        Err(()) => *pos = save,
    }
    let relaxed = Extract {
        unescape_relax: true,
        ..strict
    };
    match extract(s.as_bytes(), pos, relaxed) {
        Ok(None) => Ok(Word::End),
        Ok(Some(w)) => {
            let w = String::from_utf8_lossy(&w).into_owned();
            warnings.push(format!("Ignoring unknown escape sequences: \"{w}\""));
            Ok(Word::Word(w))
        }
        Err(()) => Err(ExecError::UnbalancedQuoting {
            value: s.to_owned(),
        }),
    }
}

/// Split `text` into words with systemd's quoting and C escapes (used by Exec*= and
/// Environment=). Unknown escapes are kept verbatim with a warning.
pub fn split_words(text: &str, warnings: &mut Vec<String>) -> Result<Vec<String>, ExecError> {
    let mut pos = 0;
    let mut words = Vec::new();
    while let Word::Word(w) = next_word(text, &mut pos, warnings)? {
        words.push(w);
    }
    Ok(words)
}

fn bad_path(path: &str) -> Option<&'static str> {
    if path
        .chars()
        .any(|c| c < ' ' || c == '\x7f' || matches!(c, '\\' | '"' | '\''))
    {
        return Some("an executable name with special characters");
    }
    if path.ends_with('/') {
        return Some("a directory, not an executable");
    }
    let valid = if path.starts_with('/') {
        path.split('/').all(|c| c.len() <= 255) && path.len() < 4096
    } else {
        !matches!(path, "." | "..") && !path.contains('/') && path.len() <= 255
    };
    (!valid).then_some("neither a valid executable name nor an absolute path")
}

fn simplify_path(path: &str) -> String {
    if !path.starts_with('/') {
        return path.to_owned();
    }
    let parts: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

/// Parse the value of an Exec*= key. `expand` resolves specifiers in one word. An empty
/// value is a reset and is handled by the caller.
pub fn parse_exec_line(
    value: &str,
    expand: &dyn Fn(&str) -> Result<String, String>,
) -> Result<ExecLine, ExecError> {
    let mut line = ExecLine::default();
    let bytes = value.as_bytes();
    let mut pos = 0;
    loop {
        let first = match next_word(value, &mut pos, &mut line.warnings)? {
            Word::End => return Ok(line),
            Word::Word(w) => w,
        };
        if first == ";" {
            continue;
        }
        let mut flags = ExecFlags::default();
        let mut separate_argv0 = false;
        let mut rest = first.as_str();
        loop {
            let privileged = flags.full_privileges || flags.no_setuid || flags.ambient_magic;
            match rest.as_bytes().first() {
                Some(b'-') if !flags.ignore_failure => flags.ignore_failure = true,
                Some(b'@') if !separate_argv0 => separate_argv0 = true,
                Some(b':') if !flags.no_env_expand => flags.no_env_expand = true,
                Some(b'+') if !privileged => flags.full_privileges = true,
                Some(b'!') if !privileged => flags.no_setuid = true,
                Some(b'!') if !flags.full_privileges && !flags.ambient_magic => {
                    flags.no_setuid = false;
                    flags.ambient_magic = true;
                }
                _ => break,
            }
            rest = &rest[1..];
        }
        let ignore = flags.ignore_failure;
        // A broken command with the `-` prefix is skipped with a warning, as systemd does.
        let fail = |line: &mut ExecLine, err: ExecError| -> Result<ExecLine, ExecError> {
            if ignore {
                line.warnings.push(format!("{err}, ignoring"));
                Ok(std::mem::take(line))
            } else {
                Err(err)
            }
        };
        let path = match expand(rest) {
            Ok(p) => p,
            Err(why) => {
                let err = ExecError::Specifier {
                    word: rest.to_owned(),
                    why,
                };
                return fail(&mut line, err);
            }
        };
        if path.is_empty() {
            let err = ExecError::EmptyPath {
                value: value.to_owned(),
            };
            return fail(&mut line, err);
        }
        if let Some(why) = bad_path(&path) {
            return fail(&mut line, ExecError::BadPath { path, why });
        }
        let mut argv = Vec::new();
        if !separate_argv0 {
            argv.push(path.clone());
        }
        let mut semicolon = false;
        while pos < bytes.len() {
            let at = &bytes[pos..];
            let ends_word = |i: usize| at.get(i).is_none_or(|b| is_separator(*b));
            if at[0] == b';' && ends_word(1) {
                pos += 1;
                semicolon = true;
                break;
            }
            if at.starts_with(b"\\;") && ends_word(2) {
                pos += 2;
                argv.push(";".to_owned());
                continue;
            }
            let word = match next_word(value, &mut pos, &mut line.warnings)? {
                Word::End => break,
                Word::Word(w) => w,
            };
            match expand(&word) {
                Ok(w) => argv.push(w),
                Err(why) => return fail(&mut line, ExecError::Specifier { word, why }),
            }
        }
        if argv.is_empty() {
            let err = ExecError::EmptyArgv0 {
                value: value.to_owned(),
            };
            return fail(&mut line, err);
        }
        line.commands.push(ExecCommand {
            path: simplify_path(&path),
            argv,
            flags,
        });
        if !semicolon {
            return Ok(line);
        }
    }
}

/// Split an environment variable's value into words for a lone `$VAR`
/// (strv_split with EXTRACT_RELAX|EXTRACT_UNQUOTE: quotes honoured, no C escapes).
fn split_value(value: &str) -> Vec<String> {
    let fl = Extract {
        unquote: true,
        relax: true,
        ..Extract::default()
    };
    let mut pos = 0;
    let mut out = Vec::new();
    while let Ok(Some(w)) = extract(value.as_bytes(), &mut pos, fl) {
        out.push(String::from_utf8_lossy(&w).into_owned());
    }
    out
}

/// replace_env without extensions: `${NAME}` is replaced, `$$` becomes `$`, other `$` stay.
fn replace_env(word: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = word;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(name_and_more) = after.strip_prefix('{') {
            match name_and_more.find('}') {
                Some(end) => {
                    out.push_str(&env(&name_and_more[..end]).unwrap_or_default());
                    rest = &name_and_more[end + 1..];
                }
                None => {
                    // systemd drops an unterminated "${" and keeps the rest.
                    rest = name_and_more;
                    break;
                }
            }
        } else if let Some(more) = after.strip_prefix('$') {
            out.push('$');
            rest = more;
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

impl ExecCommand {
    /// The argv to execute in environment `env`: a word that is exactly `$NAME` becomes the
    /// variable's words (none when unset), `${NAME}` inside a word is replaced as one string,
    /// `$$` is a `$`. With the `:` prefix the argv is returned unchanged.
    pub fn expand_argv(&self, env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
        if self.flags.no_env_expand {
            return self.argv.clone();
        }
        let mut out = Vec::with_capacity(self.argv.len());
        for word in &self.argv {
            match word.strip_prefix('$') {
                Some(name) if !name.starts_with(['{', '$']) => {
                    if let Some(value) = env(name) {
                        out.extend(split_value(&value));
                    }
                }
                _ => out.push(replace_env(word, env)),
            }
        }
        out
    }
}

/// Find the executable `path` under `root`: an absolute path is taken as is, a bare name is
/// searched in [`DEFAULT_PATH`]. Returns the path as the service will see it.
pub fn resolve_executable(path: &str, root: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    if path.starts_with('/') {
        return Some(PathBuf::from(path));
    }
    DEFAULT_PATH
        .iter()
        .map(|dir| Path::new(dir).join(path))
        .find(|candidate| {
            let on_disk = root.join(candidate.strip_prefix("/").unwrap_or(candidate));
            std::fs::metadata(on_disk)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &str) -> Result<ExecLine, ExecError> {
        parse_exec_line(v, &|w| {
            if w.contains("%Q") {
                Err("unknown specifier %Q".to_owned())
            } else {
                Ok(w.replace("%%", "%"))
            }
        })
    }

    fn argvs(v: &str) -> Vec<Vec<String>> {
        parse(v)
            .unwrap()
            .commands
            .into_iter()
            .map(|c| c.argv)
            .collect()
    }

    #[test]
    fn golden_quoting_and_escapes() {
        assert_eq!(
            argvs(r#"/bin/echo "a b" 'c d' e\ f "x\"y" 'it\'s' a"b c"d \x41\101\t| 100%%"#),
            [vec![
                "/bin/echo",
                "a b",
                "c d",
                "e\\ f",
                "x\"y",
                "it's",
                "ab cd",
                "AA\t|",
                "100%"
            ]]
        );
        assert_eq!(
            argvs(r#"/bin/sh -c "echo \$HOME; exit 0""#),
            [vec!["/bin/sh", "-c", "echo \\$HOME; exit 0"]]
        );
        assert_eq!(argvs(r#"/bin/echo """#), [vec!["/bin/echo", ""]]);
    }

    #[test]
    fn golden_semicolons() {
        assert_eq!(
            argvs(r"/bin/a 1 ; /bin/b \; x;y ; ; /bin/c"),
            [
                vec!["/bin/a", "1"],
                vec!["/bin/b", ";", "x;y"],
                vec!["/bin/c"]
            ]
        );
        assert_eq!(argvs(r#"/bin/a ";""#), [vec!["/bin/a", ";"]]);
    }

    #[test]
    fn golden_prefixes() {
        let l = parse("-+/usr/bin/x a").unwrap();
        let c = &l.commands[0];
        assert!(c.flags.ignore_failure && c.flags.full_privileges);
        assert_eq!(c.path, "/usr/bin/x");
        let c = &parse("@/bin/busybox sh -c true").unwrap().commands[0];
        assert_eq!(
            (c.path.as_str(), c.argv.clone()),
            (
                "/bin/busybox",
                vec!["sh".to_owned(), "-c".to_owned(), "true".to_owned()]
            )
        );
        let c = &parse("!!-:/bin/x").unwrap().commands[0];
        assert!(
            c.flags.ambient_magic
                && !c.flags.no_setuid
                && c.flags.ignore_failure
                && c.flags.no_env_expand
        );
        let c = &parse("!/bin/x").unwrap().commands[0];
        assert!(c.flags.no_setuid);
        // `+` and `!` exclude each other: the second becomes part of the path.
        assert!(matches!(parse("+!/bin/x"), Err(ExecError::BadPath { .. })));
        let c = &parse("sleep 1").unwrap().commands[0];
        assert_eq!(c.path, "sleep");
        assert_eq!(
            parse("//usr//bin/./x").unwrap().commands[0].path,
            "/usr/bin/x"
        );
    }

    #[test]
    fn errors_and_warnings() {
        assert_eq!(
            parse(r#"/bin/echo "unbalanced"#).unwrap_err().to_string(),
            r#"unbalanced quoting in "/bin/echo \"unbalanced""#
        );
        let l = parse(r"/bin/echo a\qb").unwrap();
        assert_eq!(l.commands[0].argv[1], r"a\qb");
        assert_eq!(l.warnings, [r#"Ignoring unknown escape sequences: "a\qb""#]);
        assert!(matches!(
            parse("@/bin/x"),
            Err(ExecError::EmptyArgv0 { .. })
        ));
        assert!(matches!(parse("-"), Ok(ExecLine { ref commands, .. }) if commands.is_empty()));
        assert!(matches!(parse("@"), Err(ExecError::EmptyPath { .. })));
        assert!(matches!(parse("/usr/bin/"), Err(ExecError::BadPath { .. })));
        assert!(matches!(
            parse("/bin/x %Q"),
            Err(ExecError::Specifier { .. })
        ));
        assert!(parse("-/bin/x %Q").unwrap().commands.is_empty());
    }

    #[test]
    fn environment_expansion_at_exec_time() {
        let env = |n: &str| match n {
            "OPTS" => Some("-a  'b c' -d".to_owned()),
            "ONE" => Some("x y".to_owned()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        let c = &parse("/bin/p $OPTS ${ONE} pre${ONE}post $UNSET $EMPTY ${UNSET}x $$ONE a$ONE ${X")
            .unwrap()
            .commands[0];
        assert_eq!(
            c.expand_argv(&env),
            [
                "/bin/p",
                "-a",
                "b c",
                "-d",
                "x y",
                "prex ypost",
                "x",
                "$ONE",
                "a$ONE",
                "X"
            ]
        );
        let c = &parse(":/bin/p $OPTS").unwrap().commands[0];
        assert_eq!(c.expand_argv(&env), ["/bin/p", "$OPTS"]);
    }

    #[test]
    fn words_for_environment() {
        let mut w = Vec::new();
        assert_eq!(
            split_words(r#"A=1 "B=two words" C=\x41"#, &mut w).unwrap(),
            ["A=1", "B=two words", "C=A"]
        );
    }
}
