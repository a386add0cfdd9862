//! Who may use the server: the htdigest user table (re-read whenever the file changes, so a
//! rotated Kubernetes secret takes effect without a restart), Digest verification with nonce
//! freshness and nonce-count replay protection, Basic when allowed, and the challenge to send.
//! The pure parts live in [`super::digest`].

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use thiserror::Error;

use super::digest::{self, Credentials, NcWindow, NonceCheck};

/// Why the user table could not be loaded.
#[derive(Debug, Error)]
pub enum AuthError {
    #[error("cannot read the htdigest file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: expected `user:realm:md5hex`")]
    Syntax { path: PathBuf, line: usize },
    #[error("the htdigest file {path} has no user in realm {realm:?}")]
    NoUsers { path: PathBuf, realm: String },
    #[error("cannot get random bytes for the nonce secret")]
    Random(#[source] getrandom::Error),
}

/// The outcome of checking a request's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Authenticated as this user.
    Granted(String),
    /// Answer 401 with a fresh challenge; `stale` when only the nonce had expired.
    Challenge { stale: bool },
    /// The header was malformed: 400.
    Malformed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
}

#[derive(Debug, Default)]
struct UserTable {
    stamp: Option<FileStamp>,
    ha1: HashMap<String, String>,
}

/// Credentials checking for one server.
#[derive(Debug)]
pub struct Authenticator {
    realm: String,
    htdigest: PathBuf,
    allow_basic: bool,
    nonce_lifetime: Duration,
    key: [u8; 32],
    opaque: String,
    users: Mutex<UserTable>,
    counts: Mutex<HashMap<String, (u64, NcWindow)>>,
}

const MAX_TRACKED_NONCES: usize = 100_000;

impl Authenticator {
    /// Load the user table (it must have at least one user in `realm`) and draw the secret.
    pub fn new(
        realm: &str,
        htdigest: &Path,
        allow_basic: bool,
        nonce_lifetime: Duration,
    ) -> Result<Authenticator, AuthError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(AuthError::Random)?;
        let mut opaque = [0u8; 16];
        getrandom::fill(&mut opaque).map_err(AuthError::Random)?;
        let auth = Authenticator {
            realm: realm.to_owned(),
            htdigest: htdigest.to_owned(),
            allow_basic,
            nonce_lifetime,
            key,
            opaque: digest::hex(&opaque),
            users: Mutex::new(UserTable::default()),
            counts: Mutex::new(HashMap::new()),
        };
        let table = load(&auth.htdigest, realm)?;
        if table.ha1.is_empty() {
            return Err(AuthError::NoUsers {
                path: auth.htdigest.clone(),
                realm: realm.to_owned(),
            });
        }
        *lock(&auth.users) = table;
        Ok(auth)
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The `WWW-Authenticate` value for a 401.
    pub fn challenge(&self, stale: bool) -> String {
        let mut random = [0u8; 12];
        // On failure the nonce is still unique through the timestamp and authenticated
        // through the HMAC; only its unpredictability suffers.
        let _ = getrandom::fill(&mut random);
        let nonce = digest::make_nonce(&self.key, now_secs(), random);
        let mut value = format!(
            "Digest realm=\"{}\", qop=\"auth\", algorithm=MD5, nonce=\"{nonce}\", opaque=\"{}\"",
            quote(&self.realm),
            self.opaque
        );
        if stale {
            value.push_str(", stale=true");
        }
        value
    }

    /// Whether Basic challenges should be offered as well.
    pub fn allow_basic(&self) -> bool {
        self.allow_basic
    }

    /// Check the `Authorization` header of a request for `method` on `target` (the request
    /// target exactly as received).
    pub fn check(&self, method: &str, target: &str, header: Option<&str>) -> Verdict {
        let Some(header) = header else {
            return Verdict::Challenge { stale: false };
        };
        let credentials = match digest::parse_authorization(header) {
            Ok(c) => c,
            Err(digest::DigestError::Scheme { .. }) => return Verdict::Challenge { stale: false },
            Err(_) => return Verdict::Malformed,
        };
        self.refresh_users();
        match credentials {
            Credentials::Basic { user, password } => {
                if !self.allow_basic {
                    return Verdict::Challenge { stale: false };
                }
                let presented = digest::ha1(&user, &self.realm, &password);
                match self.ha1_of(&user) {
                    Some(ha1) if digest::ct_eq(ha1.as_bytes(), presented.as_bytes()) => {
                        Verdict::Granted(user)
                    }
                    _ => Verdict::Challenge { stale: false },
                }
            }
            Credentials::Digest(p) => {
                if p.realm != self.realm || !uri_matches(&p.uri, target) {
                    return Verdict::Challenge { stale: false };
                }
                if p.opaque.as_deref().is_some_and(|o| o != self.opaque) {
                    return Verdict::Challenge { stale: false };
                }
                let now = now_secs();
                match digest::check_nonce(&self.key, &p.nonce, now, self.nonce_lifetime.as_secs()) {
                    NonceCheck::Invalid => return Verdict::Challenge { stale: false },
                    NonceCheck::Stale | NonceCheck::Valid => {}
                }
                let Some(ha1) = self.ha1_of(&p.username) else {
                    return Verdict::Challenge { stale: false };
                };
                let want = digest::expected_response(&ha1, &p, method);
                if !digest::ct_eq(want.as_bytes(), p.response.as_bytes()) {
                    return Verdict::Challenge { stale: false };
                }
                // Correct password: only now may an expired nonce be called stale (RFC 7616
                // 3.3: stale means the credentials were right).
                if digest::check_nonce(&self.key, &p.nonce, now, self.nonce_lifetime.as_secs())
                    == NonceCheck::Stale
                {
                    return Verdict::Challenge { stale: true };
                }
                if !self.count_once(&p.nonce, p.nc, now) {
                    return Verdict::Challenge { stale: false };
                }
                Verdict::Granted(p.username)
            }
        }
    }

    fn ha1_of(&self, user: &str) -> Option<String> {
        lock(&self.users).ha1.get(user).cloned()
    }

    fn count_once(&self, nonce: &str, nc: u64, now: u64) -> bool {
        let mut counts = lock(&self.counts);
        if counts.len() >= MAX_TRACKED_NONCES {
            let lifetime = self.nonce_lifetime.as_secs();
            counts.retain(|_, (seen, _)| now.saturating_sub(*seen) <= lifetime);
            if counts.len() >= MAX_TRACKED_NONCES {
                return false;
            }
        }
        let entry = counts
            .entry(nonce.to_owned())
            .or_insert((now, NcWindow::default()));
        entry.0 = now;
        entry.1.accept(nc)
    }

    /// Re-read the htdigest file when its identity or contents changed. A file that became
    /// unreadable empties the table (fail closed) until it is readable again.
    fn refresh_users(&self) {
        let stamp = std::fs::metadata(&self.htdigest).ok().map(|m| FileStamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: m.mtime(),
            mtime_nsec: m.mtime_nsec(),
        });
        let mut users = lock(&self.users);
        if stamp.is_some() && users.stamp == stamp {
            return;
        }
        match load(&self.htdigest, &self.realm) {
            Ok(table) => {
                crate::log::info(format_args!(
                    "webdav: loaded {} user(s) from {}",
                    table.ha1.len(),
                    self.htdigest.display()
                ));
                *users = table;
            }
            Err(err) => {
                crate::log::warn(format_args!(
                    "webdav: {err}; refusing every login until it is fixed"
                ));
                *users = UserTable::default();
            }
        }
    }
}

fn load(path: &Path, realm: &str) -> Result<UserTable, AuthError> {
    let meta = std::fs::metadata(path).map_err(|source| AuthError::Read {
        path: path.to_owned(),
        source,
    })?;
    let text = std::fs::read_to_string(path).map_err(|source| AuthError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut ha1 = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // The realm may itself contain ':' only if user and hash do not: split at both ends.
        let (user, rest) = line.split_once(':').ok_or(AuthError::Syntax {
            path: path.to_owned(),
            line: n + 1,
        })?;
        let (line_realm, hash) = rest.rsplit_once(':').ok_or(AuthError::Syntax {
            path: path.to_owned(),
            line: n + 1,
        })?;
        if hash.len() != 32 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AuthError::Syntax {
                path: path.to_owned(),
                line: n + 1,
            });
        }
        if line_realm == realm {
            ha1.insert(user.to_owned(), hash.to_ascii_lowercase());
        }
    }
    Ok(UserTable {
        stamp: Some(FileStamp {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
        }),
        ha1,
    })
}

/// The digest `uri` must name the request target: exactly, or as an absolute URI whose path
/// and query are the target.
fn uri_matches(uri: &str, target: &str) -> bool {
    if uri == target {
        return true;
    }
    if let Some(rest) = uri
        .strip_prefix("http://")
        .or_else(|| uri.strip_prefix("https://"))
        && let Some(slash) = rest.find('/')
    {
        return &rest[slash..] == target;
    }
    false
}

fn quote(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_parameter_must_name_the_target() {
        assert!(uri_matches("/webdav/a", "/webdav/a"));
        assert!(uri_matches("http://h:1/webdav/a", "/webdav/a"));
        assert!(!uri_matches("/webdav/b", "/webdav/a"));
        assert!(!uri_matches("/webdav/a?x", "/webdav/a"));
    }
}
