//! Request paths: turning a request target or a `Destination` header into a validated path
//! beneath the served root, and back into an encoded `href`. Pure: no filesystem access here.
//! Percent-decoding happens exactly once, here; `..`, `.`, encoded slashes and backslashes, NUL,
//! control characters and invalid (including overlong) UTF-8 are refused, never normalised.

use thiserror::Error;

/// Names bosun keeps for itself inside served directories (temporary uploads, the fallback
/// property store). They are never listed, served or writable through WebDAV.
pub const INTERNAL_PREFIX: &str = ".bosun-";

/// Why a request path was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PathError {
    #[error("path {path:?} is not under the served prefix {prefix:?}")]
    OutsidePrefix { path: String, prefix: String },
    #[error("path {path:?} has a malformed percent-encoding")]
    BadEncoding { path: String },
    #[error("path {path:?} is not valid UTF-8 once decoded")]
    BadUtf8 { path: String },
    #[error("path {path:?} contains a forbidden segment or character")]
    Forbidden { path: String },
    #[error("path {path:?} names a file bosun keeps for itself")]
    Internal { path: String },
}

/// A decoded, validated path beneath the served root: a list of plain names, none of them
/// empty, `.`, `..`, or containing `/`, `\` or NUL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct DavPath {
    segments: Vec<String>,
}

impl DavPath {
    /// The root collection itself.
    pub fn root() -> DavPath {
        DavPath::default()
    }

    /// Whether this is the root collection.
    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// The names, outermost first.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The path relative to the root as the kernel wants it (`.` for the root).
    pub fn rel(&self) -> String {
        if self.segments.is_empty() {
            ".".to_owned()
        } else {
            self.segments.join("/")
        }
    }

    /// The last name, or `None` for the root.
    pub fn name(&self) -> Option<&str> {
        self.segments.last().map(String::as_str)
    }

    /// The enclosing collection, or `None` for the root.
    pub fn parent(&self) -> Option<DavPath> {
        let (_, rest) = self.segments.split_last()?;
        Some(DavPath {
            segments: rest.to_vec(),
        })
    }

    /// This path with `name` appended. `name` must come from a directory listing (a single
    /// component); names that could escape are refused.
    pub fn join(&self, name: &str) -> Result<DavPath, PathError> {
        check_segment(name, name)?;
        let mut segments = self.segments.clone();
        segments.push(name.to_owned());
        Ok(DavPath { segments })
    }

    /// Whether `self` is `other` or lies beneath it.
    pub fn starts_with(&self, other: &DavPath) -> bool {
        self.segments.starts_with(&other.segments)
    }

    /// The percent-encoded URL path under `prefix` (which ends with `/`); collections get a
    /// trailing slash.
    pub fn href(&self, prefix: &str, collection: bool) -> String {
        let mut out = prefix.to_owned();
        for (i, segment) in self.segments.iter().enumerate() {
            if i > 0 {
                out.push('/');
            }
            push_encoded(&mut out, segment);
        }
        if collection && !self.segments.is_empty() {
            out.push('/');
        }
        out
    }

    /// Build from segments that are already known to be valid (tests and resolved real paths).
    pub fn from_segments<I, S>(segments: I) -> Result<DavPath, PathError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut out = DavPath::root();
        for segment in segments {
            let segment = segment.into();
            out = out.join(&segment)?;
        }
        Ok(out)
    }
}

/// Parse the path part of a request target (no query) under `prefix` (`/webdav/`). The prefix
/// without its trailing slash names the root too.
pub fn parse_target(raw: &str, prefix: &str) -> Result<DavPath, PathError> {
    let bare_prefix = prefix.trim_end_matches('/');
    let rest = if raw == bare_prefix {
        ""
    } else if let Some(rest) = raw.strip_prefix(prefix) {
        rest
    } else if prefix == "/" {
        raw.strip_prefix('/').unwrap_or(raw)
    } else {
        return Err(PathError::OutsidePrefix {
            path: raw.to_owned(),
            prefix: prefix.to_owned(),
        });
    };
    let mut segments = Vec::new();
    for raw_segment in rest.split('/') {
        if raw_segment.is_empty() {
            continue;
        }
        let bytes = decode(raw_segment).ok_or_else(|| PathError::BadEncoding {
            path: raw.to_owned(),
        })?;
        let segment = String::from_utf8(bytes).map_err(|_| PathError::BadUtf8 {
            path: raw.to_owned(),
        })?;
        check_segment(&segment, raw)?;
        segments.push(segment);
    }
    Ok(DavPath { segments })
}

fn check_segment(segment: &str, whole: &str) -> Result<(), PathError> {
    let forbidden = segment.is_empty()
        || segment == "."
        || segment == ".."
        || segment
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control());
    if forbidden {
        return Err(PathError::Forbidden {
            path: whole.to_owned(),
        });
    }
    if segment.starts_with(INTERNAL_PREFIX) {
        return Err(PathError::Internal {
            path: whole.to_owned(),
        });
    }
    Ok(())
}

/// Percent-decode once. `None` when a `%` is not followed by two hex digits.
fn decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = hex_value(*bytes.get(i + 1)?)?;
            let lo = hex_value(*bytes.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Append `segment` percent-encoded: what remains unencoded (letters, digits and
/// `-._~:@!$()*+,;=`) needs no XML escape either.
pub fn push_encoded(out: &mut String, segment: &str) {
    for &b in segment.as_bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b':'
                    | b'@'
                    | b'!'
                    | b'$'
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
            )
        {
            out.push(char::from(b));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths() {
        assert_eq!(
            parse_target("/webdav/", "/webdav/").unwrap(),
            DavPath::root()
        );
        assert_eq!(
            parse_target("/webdav", "/webdav/").unwrap(),
            DavPath::root()
        );
        let p = parse_target("/webdav/a%20b/c.txt", "/webdav/").unwrap();
        assert_eq!(p.segments(), ["a b", "c.txt"]);
        assert_eq!(p.rel(), "a b/c.txt");
        assert_eq!(p.href("/webdav/", false), "/webdav/a%20b/c.txt");
        assert_eq!(p.parent().unwrap().href("/webdav/", true), "/webdav/a%20b/");
        assert_eq!(parse_target("/x/y", "/").unwrap().segments(), ["x", "y"]);
    }

    #[test]
    fn traversal_in_every_encoding_is_refused() {
        for bad in [
            "/webdav/../etc/passwd",
            "/webdav/a/../../etc",
            "/webdav/%2e%2e/etc",
            "/webdav/%2E%2E/etc",
            "/webdav/.%2e/etc",
            "/webdav/a%2f..%2f..%2fetc",
            "/webdav/..%5c..%5cetc",
            "/webdav/a%00b",
            "/webdav/%c0%ae%c0%ae/etc",
            "/webdav/%e0%80%ae",
            "/webdav/%ff",
            "/webdav/%zz",
            "/webdav/%2",
            "/webdav/./x",
            "/webdav/.bosun-props",
        ] {
            assert!(parse_target(bad, "/webdav/").is_err(), "{bad} was accepted");
        }
        // Double encoding decodes once: a harmless literal name, not a traversal.
        let p = parse_target("/webdav/%252e%252e/etc", "/webdav/").unwrap();
        assert_eq!(p.segments(), ["%2e%2e", "etc"]);
        assert!(parse_target("/other/x", "/webdav/").is_err());
        assert!(parse_target("/webdavx", "/webdav/").is_err());
    }

    #[test]
    fn unicode_round_trips() {
        let p = DavPath::from_segments(["h\u{e9}llo w\u{f6}rld", "\u{10000}"]).unwrap();
        let href = p.href("/webdav/", false);
        assert_eq!(parse_target(&href, "/webdav/").unwrap(), p);
        assert!(p.starts_with(&p.parent().unwrap()));
    }
}
