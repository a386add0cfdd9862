//! fnmatch(3) for the patterns systemd takes as shell globs: `systemctl list-unit-files
//! PATTERN`, ConditionHost=, ConditionKernelVersion= and the path globs of
//! ConditionPathExistsGlob=. One matcher, so a pattern means the same everywhere. Pure: the
//! file-system walk is the caller's. (EnvironmentFile='s wildcard matches bytes, without bracket
//! expressions, in [`super::envfile`]: merging it here would change what `[` means there.)

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

    /// The bracket rules the condition matcher had, kept: ranges, `!` and `^` negation.
    #[test]
    fn brackets_as_conditions_use_them() {
        assert!(fnmatch("web-[0-9]", "web-7"));
        assert!(!fnmatch("web-[!0-9]", "web-7"));
        assert!(!fnmatch("web-[^0-9]", "web-7"));
        assert!(fnmatch("5.[0-9]*", "5.15.0"));
    }
}
