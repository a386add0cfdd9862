//! Who may use the server: the htdigest user table (MD5) and its optional SHA-256 twin (both
//! re-read whenever the file changes, so a rotated Kubernetes secret takes effect without a
//! restart), Digest verification (MD5, SHA-256, their `-sess` forms, `userhash`) with nonce
//! freshness and nonce-count replay protection, Basic when allowed, and the challenges to send.
//! The pure parts live in [`super::digest`].

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use thiserror::Error;

use super::digest::{self, Algorithm, Credentials, DigestParams, HashKind, NcWindow, NonceCheck};

/// Why the user table could not be loaded.
#[derive(Debug, Error)]
pub enum AuthError {
    #[error("cannot read the {kind} file {path}")]
    Read {
        kind: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: expected `user:realm:{hash}`")]
    Syntax {
        path: PathBuf,
        line: usize,
        hash: &'static str,
    },
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
    /// Answer 401 with fresh challenges; `stale` when only the nonce had expired. Malformed
    /// and unsupported headers get this too (RFC 7616 3.3: the client may retry), never 400.
    Challenge { stale: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl FileStamp {
    fn of(m: &std::fs::Metadata) -> FileStamp {
        FileStamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: m.mtime(),
            mtime_nsec: m.mtime_nsec(),
        }
    }
}

#[derive(Debug, Default)]
struct UserTable {
    stamp: Option<FileStamp>,
    ha1: HashMap<String, String>,
}

/// One user file: the htdigest file (MD5, required) or its SHA-256 twin (optional: SHA-256 is
/// offered only while it exists and names a user of the realm).
#[derive(Debug)]
struct UserFile {
    path: PathBuf,
    hash: HashKind,
    required: bool,
    table: Mutex<UserTable>,
}

impl UserFile {
    /// Re-read the file when its identity or contents changed. A required file that became
    /// unreadable empties the table (fail closed) until it is readable again; an optional
    /// one that is absent just empties it.
    fn refresh(&self, realm: &str) {
        let meta = std::fs::metadata(&self.path);
        let stamp = meta.as_ref().ok().map(FileStamp::of);
        let mut table = lock(&self.table);
        if stamp.is_some() && table.stamp == stamp {
            return;
        }
        if !self.required
            && let Err(err) = &meta
            && err.kind() == std::io::ErrorKind::NotFound
        {
            if !table.ha1.is_empty() {
                crate::log::info(format_args!(
                    "webdav: {} is gone; offering MD5 Digest only",
                    self.path.display()
                ));
            }
            *table = UserTable::default();
            return;
        }
        match load(&self.path, realm, self.hash) {
            Ok(fresh) => {
                crate::log::info(format_args!(
                    "webdav: loaded {} user(s) from {}",
                    fresh.ha1.len(),
                    self.path.display()
                ));
                *table = fresh;
            }
            Err(err) => {
                // Logged once per change of the file, not once per request.
                if table.stamp.is_some() || !table.ha1.is_empty() || stamp.is_some() {
                    crate::log::warn(format_args!(
                        "webdav: {err}; refusing every login through it until it is fixed"
                    ));
                }
                *table = UserTable {
                    stamp,
                    ha1: HashMap::new(),
                };
            }
        }
    }

    fn ha1_of(&self, user: &str) -> Option<String> {
        lock(&self.table).ha1.get(user).cloned()
    }

    /// The user whose H(user:realm) is `hashed` (RFC 7616 `userhash`).
    fn unhash(&self, hashed: &str, realm: &str) -> Option<String> {
        lock(&self.table)
            .ha1
            .keys()
            .find(|u| {
                digest::ct_eq(
                    digest::userhash(self.hash, u, realm).as_bytes(),
                    hashed.to_ascii_lowercase().as_bytes(),
                )
            })
            .cloned()
    }

    fn is_empty(&self) -> bool {
        lock(&self.table).ha1.is_empty()
    }
}

/// Credentials checking for one server.
#[derive(Debug)]
pub struct Authenticator {
    realm: String,
    md5: UserFile,
    sha256: UserFile,
    allow_basic: bool,
    nonce_lifetime: Duration,
    key: [u8; 32],
    opaque: String,
    counts: Mutex<HashMap<String, (u64, NcWindow)>>,
}

const MAX_TRACKED_NONCES: usize = 100_000;

impl Authenticator {
    /// Load the user tables (the htdigest file must have at least one user in `realm`; the
    /// SHA-256 file at `sha256` is optional) and draw the secret.
    pub fn new(
        realm: &str,
        htdigest: &Path,
        sha256: &Path,
        allow_basic: bool,
        nonce_lifetime: Duration,
    ) -> Result<Authenticator, AuthError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(AuthError::Random)?;
        let mut opaque = [0u8; 16];
        getrandom::fill(&mut opaque).map_err(AuthError::Random)?;
        let table = load(htdigest, realm, HashKind::Md5)?;
        if table.ha1.is_empty() {
            return Err(AuthError::NoUsers {
                path: htdigest.to_owned(),
                realm: realm.to_owned(),
            });
        }
        let sha_table = match load(sha256, realm, HashKind::Sha256) {
            Ok(t) => t,
            Err(AuthError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                UserTable::default()
            }
            Err(err) => return Err(err),
        };
        Ok(Authenticator {
            realm: realm.to_owned(),
            md5: UserFile {
                path: htdigest.to_owned(),
                hash: HashKind::Md5,
                required: true,
                table: Mutex::new(table),
            },
            sha256: UserFile {
                path: sha256.to_owned(),
                hash: HashKind::Sha256,
                required: false,
                table: Mutex::new(sha_table),
            },
            allow_basic,
            nonce_lifetime,
            key,
            opaque: digest::hex(&opaque),
            counts: Mutex::new(HashMap::new()),
        })
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// Whether SHA-256 Digest is offered now (its user file exists and names a user).
    pub fn offers_sha256(&self) -> bool {
        !self.sha256.is_empty()
    }

    /// The `WWW-Authenticate` values for a 401, most preferred first (RFC 7616 3.7): SHA-256,
    /// SHA-256-sess (both with `userhash=true`) when the SHA-256 file names users, then MD5,
    /// which every client knows. MD5 comes last on purpose: clients that fold repeated headers
    /// into one (python-requests, httpx) keep the last algorithm they see. One nonce for all.
    pub fn challenges(&self, stale: bool) -> Vec<String> {
        let mut random = [0u8; 12];
        // On failure the nonce is still unique through the timestamp and authenticated
        // through the HMAC; only its unpredictability suffers.
        let _ = getrandom::fill(&mut random);
        let nonce = digest::make_nonce(&self.key, now_secs(), random);
        let mut algorithms = Vec::new();
        self.sha256.refresh(&self.realm);
        if self.offers_sha256() {
            algorithms.extend([Algorithm::SHA256, Algorithm::SHA256_SESS]);
        }
        algorithms.push(Algorithm::MD5);
        algorithms
            .into_iter()
            .map(|a| {
                let mut value = format!(
                    "Digest realm=\"{}\", qop=\"auth\", algorithm={}, nonce=\"{nonce}\", opaque=\"{}\"",
                    quote(&self.realm),
                    a.name(),
                    self.opaque
                );
                if a.hash == HashKind::Sha256 {
                    value.push_str(", userhash=true");
                }
                if stale {
                    value.push_str(", stale=true");
                }
                value
            })
            .collect()
    }

    /// Whether Basic challenges should be offered as well.
    pub fn allow_basic(&self) -> bool {
        self.allow_basic
    }

    /// Check the `Authorization` header of a request for `method` on `target` (the request
    /// target exactly as received).
    pub fn check(&self, method: &str, target: &str, header: Option<&str>) -> Verdict {
        const AGAIN: Verdict = Verdict::Challenge { stale: false };
        let Some(header) = header else {
            return AGAIN;
        };
        let Ok(credentials) = digest::parse_authorization(header) else {
            return AGAIN;
        };
        self.md5.refresh(&self.realm);
        self.sha256.refresh(&self.realm);
        match credentials {
            Credentials::Basic { user, password } => {
                if !self.allow_basic {
                    return AGAIN;
                }
                let matches = |file: &UserFile| {
                    file.ha1_of(&user).is_some_and(|ha1| {
                        let presented = digest::ha1_with(file.hash, &user, &self.realm, &password);
                        digest::ct_eq(ha1.as_bytes(), presented.as_bytes())
                    })
                };
                if matches(&self.md5) || matches(&self.sha256) {
                    Verdict::Granted(user)
                } else {
                    AGAIN
                }
            }
            Credentials::Digest(p) => self.check_digest(method, target, p),
        }
    }

    fn check_digest(&self, method: &str, target: &str, p: DigestParams) -> Verdict {
        const AGAIN: Verdict = Verdict::Challenge { stale: false };
        if p.realm != self.realm || !uri_matches(&p.uri, target) {
            return AGAIN;
        }
        if p.opaque.as_deref().is_some_and(|o| o != self.opaque) {
            return AGAIN;
        }
        let now = now_secs();
        let lifetime = self.nonce_lifetime.as_secs();
        if digest::check_nonce(&self.key, &p.nonce, now, lifetime) == NonceCheck::Invalid {
            return AGAIN;
        }
        let file = match p.algorithm.hash {
            HashKind::Md5 => &self.md5,
            HashKind::Sha256 => &self.sha256,
        };
        let user = if p.userhash {
            file.unhash(&p.username, &self.realm)
        } else {
            Some(p.username.clone())
        };
        let Some((user, ha1)) = user.and_then(|u| file.ha1_of(&u).map(|h| (u, h))) else {
            return AGAIN;
        };
        let want = digest::expected_response(&ha1, &p, method);
        if !digest::ct_eq(want.as_bytes(), p.response.as_bytes()) {
            return AGAIN;
        }
        // Correct password: only now may an expired nonce be called stale (RFC 7616 3.3:
        // stale means the credentials were right).
        if digest::check_nonce(&self.key, &p.nonce, now, lifetime) == NonceCheck::Stale {
            return Verdict::Challenge { stale: true };
        }
        if !self.count_once(&p.nonce, p.nc, now) {
            return AGAIN;
        }
        Verdict::Granted(user)
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
}

fn load(path: &Path, realm: &str, hash: HashKind) -> Result<UserTable, AuthError> {
    let read = |source| AuthError::Read {
        kind: match hash {
            HashKind::Md5 => "htdigest",
            HashKind::Sha256 => "SHA-256 user",
        },
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read)?;
    let text = std::fs::read_to_string(path).map_err(read)?;
    let mut ha1 = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let syntax = || AuthError::Syntax {
            path: path.to_owned(),
            line: n + 1,
            hash: match hash {
                HashKind::Md5 => "md5hex",
                HashKind::Sha256 => "sha256hex",
            },
        };
        // The realm may itself contain ':' only if user and hash do not: split at both ends.
        let (user, rest) = line.split_once(':').ok_or_else(syntax)?;
        let (line_realm, digest) = rest.rsplit_once(':').ok_or_else(syntax)?;
        if digest.len() != hash.hex_len() || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(syntax());
        }
        if line_realm == realm {
            ha1.insert(user.to_owned(), digest.to_ascii_lowercase());
        }
    }
    Ok(UserTable {
        stamp: Some(FileStamp::of(&meta)),
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
