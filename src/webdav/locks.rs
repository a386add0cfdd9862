//! WebDAV locks (RFC 4918 sections 6, 7 and 10.4): the in-memory lock table (exclusive and
//! shared write locks, depth 0 and infinity, timeouts and refresh) and the `If` header's parser.
//! Pure: no filesystem and no HTTP here; the handlers decide which paths a request touches.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::path::DavPath;

/// Longest lock lifetime granted (also what `Timeout: Infinite` gets).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);
/// Lifetime granted when the client asks for none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3600);

/// One active lock.
#[derive(Debug, Clone)]
pub struct Lock {
    pub token: String,
    pub root: DavPath,
    pub infinite: bool,
    pub exclusive: bool,
    /// The `owner` element's content, as XML.
    pub owner: String,
    /// The authenticated user who took the lock: only they may refresh it, unlock it or
    /// write through it (as Apache's mod_dav checks `auth_user`).
    pub principal: String,
    pub timeout: Duration,
    pub expires: Instant,
}

impl Lock {
    /// Whether this lock covers `p`.
    pub fn covers(&self, p: &DavPath) -> bool {
        *p == self.root || (self.infinite && p.starts_with(&self.root))
    }

    /// Seconds left, for `DAV:timeout`.
    pub fn seconds_left(&self, now: Instant) -> u64 {
        self.expires.saturating_duration_since(now).as_secs().max(1)
    }
}

/// Why a lock could not be granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockConflict {
    /// An existing lock conflicts (423).
    Locked(DavPath),
    /// The table holds its maximum of unexpired locks (503).
    Full { max: usize },
}

/// Every active lock of the server, at most `max` of them.
#[derive(Debug)]
pub struct LockTable {
    locks: Mutex<Vec<Lock>>,
    max: usize,
}

impl LockTable {
    /// An empty table that grants at most `max` locks at a time.
    pub fn new(max: usize) -> LockTable {
        LockTable {
            locks: Mutex::new(Vec::new()),
            max,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Vec<Lock>) -> T) -> T {
        let mut locks = self
            .locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        locks.retain(|l| l.expires > now);
        f(&mut locks)
    }

    /// The locks that cover `p`.
    pub fn covering(&self, p: &DavPath) -> Vec<Lock> {
        self.with(|locks| locks.iter().filter(|l| l.covers(p)).cloned().collect())
    }

    /// The locks that cover `p` or, with `deep`, anything beneath it.
    pub fn affecting(&self, p: &DavPath, deep: bool) -> Vec<Lock> {
        self.with(|locks| {
            locks
                .iter()
                .filter(|l| l.covers(p) || (deep && l.root.starts_with(p)))
                .cloned()
                .collect()
        })
    }

    /// The lock with `token`, if it covers `p`.
    pub fn find(&self, token: &str, p: &DavPath) -> Option<Lock> {
        self.with(|locks| {
            locks
                .iter()
                .find(|l| l.token == token && l.covers(p))
                .cloned()
        })
    }

    /// The user who holds the lock `token`, if it exists.
    pub fn principal_of(&self, token: &str) -> Option<String> {
        self.with(|locks| {
            locks
                .iter()
                .find(|l| l.token == token)
                .map(|l| l.principal.clone())
        })
    }

    /// Whether `token` names a lock covering `p` (for `If` state tokens).
    pub fn token_covers(&self, token: &str, p: &DavPath) -> bool {
        self.find(token, p).is_some()
    }

    /// Grant a new lock, unless one conflicts.
    pub fn acquire(&self, lock: Lock) -> Result<Lock, LockConflict> {
        self.with(|locks| {
            let conflict = locks.iter().find(|l| {
                let overlaps =
                    l.covers(&lock.root) || (lock.infinite && l.root.starts_with(&lock.root));
                overlaps && (l.exclusive || lock.exclusive)
            });
            if let Some(l) = conflict {
                return Err(LockConflict::Locked(l.root.clone()));
            }
            if locks.len() >= self.max {
                return Err(LockConflict::Full { max: self.max });
            }
            locks.push(lock.clone());
            Ok(lock)
        })
    }

    /// Extend the lock `token` (which must cover `p`) by `timeout`.
    pub fn refresh(&self, token: &str, p: &DavPath, timeout: Duration) -> Option<Lock> {
        self.with(|locks| {
            let lock = locks.iter_mut().find(|l| l.token == token && l.covers(p))?;
            lock.timeout = timeout;
            lock.expires = Instant::now() + timeout;
            Some(lock.clone())
        })
    }

    /// Remove the lock `token` if it covers `p`.
    pub fn release(&self, token: &str, p: &DavPath) -> bool {
        self.with(|locks| {
            let before = locks.len();
            locks.retain(|l| !(l.token == token && l.covers(p)));
            locks.len() != before
        })
    }

    /// Drop every lock rooted at or beneath `p` (after DELETE, and on a MOVE's source).
    pub fn remove_beneath(&self, p: &DavPath) {
        self.with(|locks| locks.retain(|l| !l.root.starts_with(p)));
    }
}

/// Parse a `Timeout` header (`Second-N`, `Infinite`, comma-separated preferences).
pub fn parse_timeout(header: Option<&str>) -> Duration {
    let Some(header) = header else {
        return DEFAULT_TIMEOUT;
    };
    for choice in header.split(',') {
        let choice = choice.trim();
        if choice.eq_ignore_ascii_case("infinite") {
            return MAX_TIMEOUT;
        }
        if let Some(n) = choice
            .get(..7)
            .filter(|p| p.eq_ignore_ascii_case("second-"))
            .and_then(|_| choice[7..].parse::<u64>().ok())
        {
            return Duration::from_secs(n.max(1)).min(MAX_TIMEOUT);
        }
    }
    DEFAULT_TIMEOUT
}

/// One condition of an `If` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// A state token (`<opaquelocktoken:...>`, `<DAV:no-lock>`).
    Token(String),
    /// An entity tag (`["abc"]`).
    ETag(String),
}

/// A parenthesised list of conditions, all of which must hold (each possibly negated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfList {
    /// The tagged resource (raw URL), or `None` for the request URI.
    pub resource: Option<String>,
    pub conditions: Vec<(bool, Condition)>,
}

/// Parse an `If` header (RFC 4918 10.4). `None` when malformed (answer 400).
pub fn parse_if(header: &str) -> Option<Vec<IfList>> {
    let mut lists = Vec::new();
    let mut resource: Option<String> = None;
    let mut rest = header.trim_start();
    let mut tagged = None;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('<') {
            let end = after.find('>')?;
            if tagged == Some(false) {
                return None;
            }
            tagged = Some(true);
            resource = Some(after[..end].to_owned());
            rest = after[end + 1..].trim_start();
            if !rest.starts_with('(') {
                return None;
            }
            continue;
        }
        let after = rest.strip_prefix('(')?;
        if tagged.is_none() {
            tagged = Some(false);
        }
        let mut inner = after.trim_start();
        let mut conditions = Vec::new();
        loop {
            if let Some(after) = inner.strip_prefix(')') {
                inner = after;
                break;
            }
            let mut negated = false;
            if let Some(rest) = inner
                .get(..3)
                .filter(|w| w.eq_ignore_ascii_case("not"))
                .map(|_| &inner[3..])
            {
                negated = true;
                inner = rest.trim_start();
            }
            if let Some(after) = inner.strip_prefix('<') {
                let end = after.find('>')?;
                conditions.push((negated, Condition::Token(after[..end].to_owned())));
                inner = after[end + 1..].trim_start();
            } else if let Some(after) = inner.strip_prefix('[') {
                let end = after.find(']')?;
                conditions.push((negated, Condition::ETag(after[..end].to_owned())));
                inner = after[end + 1..].trim_start();
            } else {
                return None;
            }
        }
        if conditions.is_empty() {
            return None;
        }
        lists.push(IfList {
            resource: resource.clone(),
            conditions,
        });
        rest = inner.trim_start();
    }
    if lists.is_empty() { None } else { Some(lists) }
}

/// The lock tokens an `If` header submits (every non-negated state token).
pub fn submitted_tokens(lists: &[IfList]) -> Vec<String> {
    lists
        .iter()
        .flat_map(|l| l.conditions.iter())
        .filter_map(|(negated, c)| match c {
            Condition::Token(t) if !negated => Some(t.clone()),
            _ => None,
        })
        .collect()
}

/// Whether `locks` (those affecting a change) allow it given the `submitted` tokens: every
/// exclusive lock's token must be submitted; shared locks need one of theirs submitted.
pub fn permits(locks: &[Lock], submitted: &[String]) -> Result<(), DavPath> {
    let any_shared_submitted = locks
        .iter()
        .any(|l| !l.exclusive && submitted.contains(&l.token));
    for lock in locks {
        let ok = submitted.contains(&lock.token) || (!lock.exclusive && any_shared_submitted);
        if !ok {
            return Err(lock.root.clone());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> DavPath {
        DavPath::from_segments(s.split('/').filter(|x| !x.is_empty())).unwrap()
    }

    fn lock(token: &str, root: &str, infinite: bool, exclusive: bool) -> Lock {
        Lock {
            token: token.into(),
            root: p(root),
            infinite,
            exclusive,
            owner: String::new(),
            principal: "alice".into(),
            timeout: DEFAULT_TIMEOUT,
            expires: Instant::now() + DEFAULT_TIMEOUT,
        }
    }

    #[test]
    fn if_header_grammar() {
        let l = parse_if("(<opaquelocktoken:a> [\"e1\"]) (Not <DAV:no-lock>)").unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(
            l[0].conditions[1],
            (false, Condition::ETag("\"e1\"".into()))
        );
        assert_eq!(
            l[1].conditions[0],
            (true, Condition::Token("DAV:no-lock".into()))
        );
        let l = parse_if("<http://h/webdav/a> (<t1>) <http://h/webdav/b> (<t2>)(<t3>)").unwrap();
        assert_eq!(l.len(), 3);
        assert_eq!(l[2].resource.as_deref(), Some("http://h/webdav/b"));
        assert_eq!(submitted_tokens(&l), ["t1", "t2", "t3"]);
        for bad in [
            "",
            "()",
            "(<a>",
            "<x>",
            "(garbage)",
            "(<a>) <http://x> (<b>)",
            "(<a) ",
            // Found by fuzz-webdav/if_header: "not" was sliced inside a multi-byte character.
            "(ab\u{79b})",
        ] {
            assert!(parse_if(bad).is_none(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn conflicts_and_coverage() {
        let t = LockTable::new(3);
        t.acquire(lock("a", "c", true, false)).unwrap();
        t.acquire(lock("b", "c/x", false, false)).unwrap();
        assert!(t.acquire(lock("c", "c/x", false, true)).is_err());
        assert!(t.acquire(lock("d", "", true, true)).is_err());
        assert!(t.acquire(lock("e", "other", false, true)).is_ok());
        assert_eq!(
            t.acquire(lock("f", "more", false, true)).unwrap_err(),
            LockConflict::Full { max: 3 }
        );
        assert_eq!(t.covering(&p("c/x/y")).len(), 1);
        assert!(t.token_covers("a", &p("c/deep/er")));
        assert!(!t.token_covers("b", &p("c/x/y")));
        assert!(t.release("a", &p("c/x")));
        assert_eq!(t.covering(&p("c/x/y")).len(), 0);
        t.remove_beneath(&p("c"));
        assert!(t.affecting(&p(""), true).iter().all(|l| l.token == "e"));
    }

    #[test]
    fn permission_rules() {
        let ex = lock("x", "a", false, true);
        let s1 = lock("s1", "a", false, false);
        let s2 = lock("s2", "a", false, false);
        assert!(permits(std::slice::from_ref(&ex), &[]).is_err());
        assert!(permits(&[ex], &["x".into()]).is_ok());
        assert!(permits(&[s1.clone(), s2.clone()], &["s2".into()]).is_ok());
        assert!(permits(&[s1, s2], &["nope".into()]).is_err());
    }

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout(None), DEFAULT_TIMEOUT);
        assert_eq!(parse_timeout(Some("Second-10")), Duration::from_secs(10));
        assert_eq!(
            parse_timeout(Some("Infinite, Second-4100000000")),
            MAX_TIMEOUT
        );
        assert_eq!(parse_timeout(Some("Second-99999999999")), MAX_TIMEOUT);
        assert_eq!(parse_timeout(Some("bogus")), DEFAULT_TIMEOUT);
    }
}
