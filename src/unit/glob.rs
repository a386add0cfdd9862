//! fnmatch(3) and glob(3) for the patterns systemd takes as shell globs: `systemctl
//! list-unit-files PATTERN`, ConditionHost=, ConditionKernelVersion=, and the path globs of
//! ConditionPathExistsGlob=, PathExistsGlob= and EnvironmentFile=. One matcher and one walk, so a
//! pattern means the same everywhere. [`fnmatch`] is pure; [`paths`] reads directories and
//! nothing else.

use std::path::{Path, PathBuf};

/// Whether `text` holds a glob character (systemd's string_is_glob()).
pub fn is_glob(text: &str) -> bool {
    text.contains(['*', '?', '['])
}

/// The paths under `root` that the absolute glob `pattern` names, as glob(3) finds them: each
/// component matched with [`fnmatch`] against a directory's entries, a leading `.` only by a
/// pattern that starts with one (no GLOB_PERIOD), sorted. With `braces`, `{a,b}` alternatives are
/// expanded first (GLOB_BRACE, as systemd's glob_exists() asks). Components without a glob
/// character are taken as they are, without reading their directory; the last one must exist.
/// Unreadable directories match nothing.
pub fn paths(root: &Path, pattern: &str, braces: bool) -> Vec<PathBuf> {
    let alternatives = if braces {
        expand_braces(pattern)
    } else {
        vec![pattern.to_owned()]
    };
    let mut found = Vec::new();
    for pattern in alternatives {
        let mut candidates = vec![root.to_path_buf()];
        for part in pattern.split('/').filter(|p| !p.is_empty()) {
            let mut next = Vec::new();
            for dir in &candidates {
                if !is_glob(part) {
                    next.push(dir.join(part));
                    continue;
                }
                let Ok(entries) = std::fs::read_dir(dir) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let name = entry.file_name();
                    let name = name.to_string_lossy();
                    if (part.starts_with('.') || !name.starts_with('.')) && fnmatch(part, &name) {
                        next.push(entry.path());
                    }
                }
            }
            candidates = next;
        }
        found.extend(
            candidates
                .into_iter()
                .filter(|p| std::fs::symlink_metadata(p).is_ok()),
        );
    }
    found.sort();
    found.dedup();
    found
}

/// `{a,b}` alternatives expanded, the first brace group at a time (nested groups included). An
/// unbalanced brace is a literal.
fn expand_braces(pattern: &str) -> Vec<String> {
    let Some(open) = pattern.find('{') else {
        return vec![pattern.to_owned()];
    };
    let mut depth = 0;
    let mut commas = Vec::new();
    let mut close = None;
    for (i, c) in pattern[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            ',' if depth == 1 => commas.push(open + i),
            _ => {}
        }
    }
    let Some(close) = close else {
        return vec![pattern.to_owned()];
    };
    let (head, tail) = (&pattern[..open], &pattern[close + 1..]);
    let mut bounds = vec![open];
    bounds.extend(commas);
    bounds.push(close);
    bounds
        .windows(2)
        .flat_map(|w| expand_braces(&format!("{head}{}{tail}", &pattern[w[0] + 1..w[1]])))
        .collect()
}

/// fnmatch(3) with FNM_NOESCAPE: `*`, `?` and bracket expressions (`[a-z]`, `[!x]`).
pub fn fnmatch(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    matches_at(&p, &n)
}

fn matches_at(p: &[char], n: &[char]) -> bool {
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        let step = match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
                continue;
            }
            Some('?') => Some(1),
            Some('[') => bracket(&p[pi..], n[ni]),
            Some(c) if *c == n[ni] => Some(1),
            _ => None,
        };
        match step {
            Some(len) => {
                pi += len;
                ni += 1;
            }
            None => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// A bracket expression at the start of `p` matching `c`: its length when it matches. An
/// unterminated `[` is a literal.
fn bracket(p: &[char], c: char) -> Option<usize> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let Some(&lo) = p.get(i) else {
            return (c == '[').then_some(1); // no closing bracket: a literal '['
        };
        if lo == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|h| *h != ']') {
            let hi = p[i + 2];
            matched |= lo <= c && c <= hi;
            i += 3;
        } else {
            matched |= lo == c;
            i += 1;
        }
    }
    (matched != negate).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_like_libc() {
        assert!(fnmatch("*", "a.service"));
        assert!(fnmatch("a*", "a.service"));
        assert!(fnmatch("*.service", "nginx.service"));
        assert!(!fnmatch("*.socket", "nginx.service"));
        assert!(fnmatch("ng?nx.service", "nginx.service"));
        assert!(fnmatch("[mn]ginx.*", "nginx.service"));
        assert!(!fnmatch("[!n]ginx.*", "nginx.service"));
        assert!(fnmatch("[a-z]*", "x"));
        assert!(!fnmatch("a", "a.service"));
        assert!(fnmatch(
            "systemd-journal-gatewayd.*",
            "systemd-journal-gatewayd.socket"
        ));
        assert!(fnmatch("a[", "a["));
        assert!(fnmatch("*a*b", "xxaxxb"));
    }

    #[test]
    fn braces_expand_in_order_and_nest() {
        assert_eq!(expand_braces("/a/{b,c}/d"), ["/a/b/d", "/a/c/d"]);
        assert_eq!(expand_braces("x{1,{2,3}}y"), ["x1y", "x2y", "x3y"]);
        assert_eq!(expand_braces("open{"), ["open{"]);
        assert_eq!(expand_braces("none"), ["none"]);
    }

    #[test]
    fn paths_walk_components_skip_hidden_and_sort() {
        let root = std::env::temp_dir().join(format!("bosun-glob-{}", std::process::id()));
        for dir in ["etc/a.d", "etc/b.d", "etc/.h.d"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        for file in [
            "etc/b.d/2.conf",
            "etc/a.d/1.conf",
            "etc/a.d/.x.conf",
            "etc/.h.d/3.conf",
        ] {
            std::fs::write(root.join(file), "").unwrap();
        }
        let names = |pattern: &str, braces| -> Vec<String> {
            paths(&root, pattern, braces)
                .iter()
                .map(|p| p.strip_prefix(&root).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(
            names("/etc/*.d/*.conf", false),
            ["etc/a.d/1.conf", "etc/b.d/2.conf"]
        );
        assert_eq!(names("/etc/a.d/.*.conf", false), ["etc/a.d/.x.conf"]);
        assert_eq!(names("/etc/[ab].d", false), ["etc/a.d", "etc/b.d"]);
        assert_eq!(
            names("/etc/{b,a}.d/*", true),
            ["etc/a.d/1.conf", "etc/b.d/2.conf"]
        );
        assert!(names("/etc/{b,a}.d/*", false).is_empty());
        assert!(names("/etc/*.d/none", false).is_empty());
        assert!(names("/nothing/*", false).is_empty());
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// The bracket rules the condition matcher had, kept: ranges, `!` and `^` negation.
    #[test]
    fn brackets_as_conditions_use_them() {
        assert!(fnmatch("web-[0-9]", "web-7"));
        assert!(!fnmatch("web-[!0-9]", "web-7"));
        assert!(!fnmatch("web-[^0-9]", "web-7"));
        assert!(fnmatch("5.[0-9]*", "5.15.0"));
    }
}
