//! Unit names (systemd.unit(5) "Description"): validation, the type suffix, templates and
//! instances, prefixes, and systemd-escape(1)'s escaping rules. Pure string logic; this module
//! must not touch the file system.

use std::fmt;

/// Why a string is not a valid unit name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name breaks systemd's rules.
    #[error("{name:?} is not a valid unit name: {why}")]
    Invalid {
        /// The offending text.
        name: String,
        /// Which rule it breaks.
        why: &'static str,
    },
}

/// The longest unit name systemd accepts (UNIT_NAME_MAX).
pub const MAX_LEN: usize = 255;

/// The unit types systemd knows, as their suffixes.
pub const TYPES: [&str; 11] = [
    "service",
    "socket",
    "target",
    "device",
    "mount",
    "automount",
    "swap",
    "timer",
    "path",
    "slice",
    "scope",
];

/// A valid unit name such as `nginx.service`, `getty@.service` or `postgresql@15-main.service`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnitName(String);

impl fmt::Display for UnitName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for UnitName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

fn valid_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_' | '.' | '\\')
}

impl UnitName {
    /// Check `text` against systemd's unit-name rules (unit_name_is_valid with any form).
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let bad = |why| {
            Err(NameError::Invalid {
                name: text.to_owned(),
                why,
            })
        };
        if text.is_empty() {
            return bad("it is empty");
        }
        if text.len() > MAX_LEN {
            return bad("it is longer than 255 bytes");
        }
        let Some((stem, suffix)) = text.rsplit_once('.') else {
            return bad("it has no type suffix such as .service");
        };
        if !TYPES.contains(&suffix) {
            return bad("its suffix is not a unit type (service, socket, target, timer, ...)");
        }
        let (prefix, instance) = match stem.split_once('@') {
            Some((p, i)) => (p, Some(i)),
            None => (stem, None),
        };
        if prefix.is_empty() {
            return bad("the part before the suffix or '@' is empty");
        }
        if !prefix.chars().all(valid_char) {
            return bad("it contains a character other than letters, digits and \":-_.\\\"");
        }
        if let Some(instance) = instance
            && !instance.chars().all(|c| valid_char(c) || c == '@')
        {
            return bad(
                "its instance contains a character other than letters, digits and \":-_.\\@\"",
            );
        }
        Ok(UnitName(text.to_owned()))
    }

    /// A name known to be valid at compile time, such as `multi-user.target`.
    pub(crate) fn known(name: &'static str) -> Self {
        debug_assert!(UnitName::parse(name).is_ok(), "{name}");
        UnitName(name.to_owned())
    }

    /// The whole name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The type suffix: `service` for `nginx.service`.
    pub fn unit_type(&self) -> &str {
        self.0.rsplit_once('.').map_or("", |(_, t)| t)
    }

    /// The name without its suffix (`%N`).
    pub fn without_suffix(&self) -> &str {
        self.0.rsplit_once('.').map_or(&self.0, |(n, _)| n)
    }

    /// The prefix (`%p`): the part before `@`, or the name without suffix.
    pub fn prefix(&self) -> &str {
        let stem = self.without_suffix();
        stem.split_once('@').map_or(stem, |(p, _)| p)
    }

    /// The instance (`%i`), `Some("")` for a template, `None` for a plain unit.
    pub fn instance(&self) -> Option<&str> {
        self.without_suffix().split_once('@').map(|(_, i)| i)
    }

    /// `foo@.service`.
    pub fn is_template(&self) -> bool {
        self.instance() == Some("")
    }

    /// `foo@bar.service`.
    pub fn is_instance(&self) -> bool {
        self.instance().is_some_and(|i| !i.is_empty())
    }

    /// The template of an instance or template (`foo@bar.service` → `foo@.service`).
    pub fn template(&self) -> Option<UnitName> {
        self.instance()?;
        Some(UnitName(format!("{}@.{}", self.prefix(), self.unit_type())))
    }

    /// The instance name `systemd-analyze verify` checks a template as: `foo@test_instance.service`
    /// (a template alone cannot be loaded). Other names are returned unchanged.
    pub fn for_verification(&self) -> UnitName {
        if self.is_template() {
            self.with_instance("test_instance")
                .unwrap_or_else(|_| self.clone())
        } else {
            self.clone()
        }
    }

    /// The instance `instance` of this template.
    pub fn with_instance(&self, instance: &str) -> Result<UnitName, NameError> {
        UnitName::parse(&format!(
            "{}@{instance}.{}",
            self.prefix(),
            self.unit_type()
        ))
    }
}

/// Undo systemd-escape: `-` becomes `/`, `\xNN` becomes the byte NN (unit_name_unescape).
pub fn unescape(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'-' => out.push(b'/'),
            b'\\' if bytes.get(i + 1) == Some(&b'x') => {
                let hex = bytes
                    .get(i + 2..i + 4)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => out.push(b'\\'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Undo systemd-escape --path: the unescaped text with `/` prepended (`-` alone is `/`).
pub fn unescape_path(text: &str) -> String {
    if text.is_empty() || text == "-" {
        return "/".to_owned();
    }
    let inner = unescape(text);
    format!("/{}", inner.trim_start_matches('/'))
}

/// systemd-escape: `/` becomes `-`, and every byte outside `[A-Za-z0-9:_.]` (and a leading
/// `.`) becomes `\xNN`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'/' => out.push('-'),
            b'.' if i == 0 => out.push_str("\\x2e"),
            b if b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'.') => {
                out.push(char::from(b))
            }
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_names() {
        let n = UnitName::parse("postgresql@15-main.service").unwrap();
        assert_eq!(n.unit_type(), "service");
        assert_eq!(n.prefix(), "postgresql");
        assert_eq!(n.instance(), Some("15-main"));
        assert_eq!(n.template().unwrap().as_str(), "postgresql@.service");
        assert!(n.is_instance());
        let t = UnitName::parse("getty@.service").unwrap();
        assert!(t.is_template());
        assert_eq!(
            t.with_instance("tty1").unwrap().as_str(),
            "getty@tty1.service"
        );
        let p = UnitName::parse("nginx.service").unwrap();
        assert_eq!(p.instance(), None);
        assert_eq!(p.without_suffix(), "nginx");
    }

    #[test]
    fn invalid_names() {
        for bad in [
            "",
            "nginx",
            "nginx.conf",
            "@.service",
            "a b.service",
            "x@a/b.service",
        ] {
            assert!(UnitName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn escaping_matches_systemd_escape() {
        assert_eq!(unescape("15-main"), "15/main");
        assert_eq!(unescape_path("15-main"), "/15/main");
        assert_eq!(unescape("a\\x20b"), "a b");
        assert_eq!(escape("a/b c-d"), "a-b\\x20c\\x2dd");
        assert_eq!(unescape(&escape("a/b c-d")), "a/b c-d");
    }
}
