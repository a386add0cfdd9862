//! WebDAV locks (RFC 4918 sections 6, 7 and 10.4): the in-memory lock table (exclusive and
//! shared write locks, depth 0 and infinity, timeouts and refresh) and the `If` header's parser.
//! Pure: no filesystem and no HTTP here; the handlers decide which paths a request touches.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
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

/// The locks over the members of one collection ([`LockTable::over_members`]).
#[derive(Debug, Default)]
pub struct MemberLocks {
    inherited: Vec<Lock>,
    by_name: BTreeMap<String, Vec<Lock>>,
}

impl MemberLocks {
    /// The locks covering member `name`, in the order [`LockTable::covering`] gives them:
    /// those inherited from an ancestor first, then those rooted at the member.
    pub fn of(&self, name: &str) -> [&[Lock]; 2] {
        [
            &self.inherited,
            self.by_name.get(name).map_or(&[][..], Vec::as_slice),
        ]
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
    inner: Mutex<Table>,
    max: usize,
}

/// The locks indexed by root (segments in order, so a subtree is one range of keys) and by
/// token: finding the locks over a path costs its depth, not the number of locks, so a user
/// holding thousands of locks does not slow every listing down.
#[derive(Debug, Default)]
struct Table {
    by_root: BTreeMap<Vec<String>, Vec<Lock>>,
    roots: HashMap<String, Vec<String>>,
    /// The earliest expiry, so expired locks are swept only when one has expired.
    next_expiry: Option<Instant>,
}

impl Table {
    fn sweep(&mut self, now: Instant) {
        if self.next_expiry.is_none_or(|t| t > now) {
            return;
        }
        let roots = &mut self.roots;
        self.by_root.retain(|_, locks| {
            locks.retain(|l| {
                let live = l.expires > now;
                if !live {
                    roots.remove(&l.token);
                }
                live
            });
            !locks.is_empty()
        });
        self.next_expiry = self.by_root.values().flatten().map(|l| l.expires).min();
    }

    /// The locks rooted at `p` or at one of its ancestors that cover `p`.
    fn covering(&self, p: &DavPath) -> impl Iterator<Item = &Lock> {
        let segments = p.segments();
        (0..=segments.len())
            .filter_map(|n| self.by_root.get(&segments[..n]))
            .flatten()
            .filter(move |l| l.covers(p))
    }

    /// The locks rooted strictly beneath `p`.
    fn beneath(&self, p: &DavPath) -> impl Iterator<Item = &Lock> {
        let prefix = p.segments();
        self.by_root
            .range::<[String], _>((Bound::Excluded(prefix), Bound::Unbounded))
            .take_while(move |(k, _)| k.starts_with(prefix))
            .flat_map(|(_, locks)| locks)
    }

    /// The locks `p` is under, and with `deep` also those beneath it.
    fn affecting(&self, p: &DavPath, deep: bool) -> Vec<Lock> {
        let mut out: Vec<Lock> = self.covering(p).cloned().collect();
        if deep {
            out.extend(self.beneath(p).cloned());
        }
        out
    }

    fn by_token(&mut self, token: &str) -> Option<&mut Lock> {
        let root = self.roots.get(token)?;
        self.by_root
            .get_mut(root)?
            .iter_mut()
            .find(|l| l.token == token)
    }

    fn remove(&mut self, token: &str) {
        let Some(root) = self.roots.remove(token) else {
            return;
        };
        if let Some(locks) = self.by_root.get_mut(&root) {
            locks.retain(|l| l.token != token);
            if locks.is_empty() {
                self.by_root.remove(&root);
            }
        }
    }

    fn len(&self) -> usize {
        self.roots.len()
    }
}

impl LockTable {
    /// An empty table that grants at most `max` locks at a time.
    pub fn new(max: usize) -> LockTable {
        LockTable {
            inner: Mutex::new(Table::default()),
            max,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Table) -> T) -> T {
        let mut table = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        table.sweep(Instant::now());
        f(&mut table)
    }

    /// The locks that cover `p`.
    pub fn covering(&self, p: &DavPath) -> Vec<Lock> {
        self.with(|t| t.covering(p).cloned().collect())
    }

    /// The locks over the members of collection `dir`, taken once for a whole listing: the
    /// infinite locks covering `dir` cover every member; the others are rooted at a member.
    /// Per member, [`MemberLocks::of`] then costs no lock of the table.
    pub fn over_members(&self, dir: &DavPath) -> MemberLocks {
        self.with(|t| {
            let depth = dir.segments().len() + 1;
            let mut by_name: BTreeMap<String, Vec<Lock>> = BTreeMap::new();
            for lock in t.beneath(dir) {
                if let [.., name] = lock.root.segments()
                    && lock.root.segments().len() == depth
                {
                    by_name.entry(name.clone()).or_default().push(lock.clone());
                }
            }
            MemberLocks {
                inherited: t.covering(dir).filter(|l| l.infinite).cloned().collect(),
                by_name,
            }
        })
    }

    /// The locks that cover `p` or, with `deep`, anything beneath it.
    pub fn affecting(&self, p: &DavPath, deep: bool) -> Vec<Lock> {
        self.with(|t| t.affecting(p, deep))
    }

    /// The lock with `token`, if it covers `p`.
    pub fn find(&self, token: &str, p: &DavPath) -> Option<Lock> {
        self.with(|t| t.by_token(token).filter(|l| l.covers(p)).cloned())
    }

    /// The user who holds the lock `token`, if it exists.
    pub fn principal_of(&self, token: &str) -> Option<String> {
        self.with(|t| t.by_token(token).map(|l| l.principal.clone()))
    }

    /// Whether `token` names a lock covering `p` (for `If` state tokens).
    pub fn token_covers(&self, token: &str, p: &DavPath) -> bool {
        self.find(token, p).is_some()
    }

    /// Grant a new lock, unless one conflicts or the table is full.
    pub fn acquire(&self, lock: Lock) -> Result<Lock, LockConflict> {
        self.with(|t| {
            let conflict = t
                .affecting(&lock.root, lock.infinite)
                .into_iter()
                .find(|l| l.exclusive || lock.exclusive);
            if let Some(l) = conflict {
                return Err(LockConflict::Locked(l.root));
            }
            if t.len() >= self.max {
                return Err(LockConflict::Full { max: self.max });
            }
            let root = lock.root.segments().to_vec();
            t.roots.insert(lock.token.clone(), root.clone());
            t.next_expiry = Some(t.next_expiry.map_or(lock.expires, |e| e.min(lock.expires)));
            t.by_root.entry(root).or_default().push(lock.clone());
            Ok(lock)
        })
    }

    /// Extend the lock `token` (which must cover `p`) by `timeout`.
    pub fn refresh(&self, token: &str, p: &DavPath, timeout: Duration) -> Option<Lock> {
        self.with(|t| {
            let lock = t.by_token(token).filter(|l| l.covers(p))?;
            lock.timeout = timeout;
            lock.expires = Instant::now() + timeout;
            let refreshed = lock.clone();
            // The recorded earliest expiry must stay a lower bound (a refresh may shorten).
            t.next_expiry = Some(
                t.next_expiry
                    .map_or(refreshed.expires, |e| e.min(refreshed.expires)),
            );
            Some(refreshed)
        })
    }

    /// Remove the lock `token` if it covers `p`.
    pub fn release(&self, token: &str, p: &DavPath) -> bool {
        self.with(|t| {
            if t.by_token(token).is_some_and(|l| l.covers(p)) {
                t.remove(token);
                true
            } else {
                false
            }
        })
    }

    /// Drop every lock rooted at or beneath `p` (after DELETE, and on a MOVE's source).
    pub fn remove_beneath(&self, p: &DavPath) {
        self.with(|t| {
            let mut tokens: Vec<String> = t.beneath(p).map(|l| l.token.clone()).collect();
            if let Some(own) = t.by_root.get(p.segments()) {
                tokens.extend(own.iter().map(|l| l.token.clone()));
            }
            for token in tokens {
                t.remove(&token);
            }
        });
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
    fn subtrees_are_key_ranges_and_expired_locks_go() {
        let t = LockTable::new(10);
        t.acquire(lock("deep", "a/b/c", false, true)).unwrap();
        t.acquire(lock("sibling", "ab", false, true)).unwrap();
        t.acquire(lock("top", "a", false, false)).unwrap();
        let tokens = |v: Vec<Lock>| {
            let mut v: Vec<String> = v.into_iter().map(|l| l.token).collect();
            v.sort();
            v
        };
        assert_eq!(tokens(t.affecting(&p("a"), true)), ["deep", "top"]);
        assert_eq!(tokens(t.affecting(&p("a/b"), false)), Vec::<String>::new());
        assert_eq!(tokens(t.covering(&p("a/b/c"))), ["deep"]);
        // An infinite exclusive lock on "a" conflicts with "deep" beneath, not with "ab".
        assert!(t.acquire(lock("x", "a", true, true)).is_err());
        assert!(t.acquire(lock("y", "ab/z", false, false)).is_ok());
        t.remove_beneath(&p("a"));
        assert_eq!(tokens(t.affecting(&p(""), true)), ["sibling", "y"]);
        assert_eq!(t.principal_of("deep"), None);
        // A refresh that shortens the lifetime is honoured.
        assert!(t.refresh("y", &p("ab/z"), Duration::ZERO).is_some());
        assert!(t.find("y", &p("ab/z")).is_none());
        assert!(t.find("sibling", &p("ab")).is_some());
    }

    #[test]
    fn member_locks_are_what_covering_gives_each_member() {
        let t = LockTable::new(10);
        t.acquire(lock("top", "", true, false)).unwrap();
        t.acquire(lock("dir0", "d", false, false)).unwrap();
        t.acquire(lock("dirinf", "d", true, false)).unwrap();
        t.acquire(lock("m", "d/m", false, false)).unwrap();
        t.acquire(lock("m2", "d/m", true, false)).unwrap();
        t.acquire(lock("deeper", "d/n/x", false, false)).unwrap();
        t.acquire(lock("other", "e/m", false, false)).unwrap();
        let over = t.over_members(&p("d"));
        for name in ["m", "n", "absent"] {
            let expected: Vec<String> = t
                .covering(&p(&format!("d/{name}")))
                .into_iter()
                .map(|l| l.token)
                .collect();
            let got: Vec<String> = over
                .of(name)
                .iter()
                .flat_map(|locks| locks.iter())
                .map(|l| l.token.clone())
                .collect();
            assert_eq!(got, expected, "member {name}");
        }
        // The depth-0 lock on the collection covers none of its members (negative control).
        assert!(
            over.of("n")
                .into_iter()
                .flatten()
                .all(|l| l.token != "dir0")
        );
        assert_eq!(over.of("m")[1].len(), 2);
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
