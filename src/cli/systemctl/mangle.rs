//! Unit name mangling as systemctl does it before it sends a name anywhere
//! (unit_name_mangle_with_suffix): `nginx` → `nginx.service`, a path → its `.mount` or
//! `.device` unit, characters a unit name cannot hold escaped `\xNN` with a notice, globs kept
//! for the verbs that expand them. Pure string logic.

use crate::unit::name;
use crate::unit::name::UnitName;

/// The outcome of mangling one argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mangled {
    /// The unit name (or, with globs allowed, the pattern).
    pub name: String,
    /// What systemctl tells the user about it on stderr, when anything.
    pub notice: Option<String>,
}

/// Characters a unit name may contain (VALID_CHARS_WITH_AT).
fn valid_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_' | '.' | '\\' | '@')
}

/// Characters a unit name glob may contain (VALID_CHARS_GLOB).
fn valid_glob_char(c: char) -> bool {
    valid_char(c) || matches!(c, '[' | ']' | '!' | '*' | '?')
}

pub use crate::unit::glob::is_glob;

/// The type suffix of `name` is a unit type (unit_name_to_type() >= 0).
fn has_type_suffix(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, t)| name::TYPES.contains(&t))
}

/// unit_name_from_path(): `/var/lib/x` → `var-lib-x` + `suffix`.
fn from_path(path: &str, suffix: &str) -> Option<String> {
    let simplified = crate::unit::install::paths::normalize(std::path::Path::new(path));
    let inner = simplified.to_string_lossy();
    let inner = inner.trim_matches('/');
    let escaped = if inner.is_empty() {
        "-".to_owned()
    } else {
        name::escape(inner)
    };
    let unit = format!("{escaped}{suffix}");
    UnitName::parse(&unit).is_ok().then_some(unit)
}

/// Mangle `text` into a unit name with `suffix` (`.service`, `.target`) when it has none.
/// `operation` ("to enable") words the notice about a glob where none is allowed; `glob`
/// keeps glob patterns. `None` when the result is still not a valid name.
pub fn mangle(text: &str, operation: Option<&str>, glob: bool, suffix: &str) -> Option<Mangled> {
    if text.is_empty() {
        return None;
    }
    if UnitName::parse(text).is_ok() {
        return Some(Mangled {
            name: text.to_owned(),
            notice: None,
        });
    }
    let mut notice = None;
    let mut suggest_escape = true;
    if is_glob(text) && text.chars().all(valid_glob_char) {
        if glob {
            return Some(Mangled {
                name: text.to_owned(),
                notice: None,
            });
        }
        let op = operation.map(|o| format!(" {o}")).unwrap_or_default();
        notice = Some(format!(
            "Glob pattern passed{op}, but globs are not supported for this."
        ));
        suggest_escape = false;
    }
    if (text.starts_with("/dev/") || text.starts_with("/sys/"))
        && let Some(unit) = from_path(text, ".device")
    {
        return Some(Mangled { name: unit, notice });
    }
    if text.starts_with('/')
        && let Some(unit) = from_path(text, ".mount")
    {
        return Some(Mangled { name: unit, notice });
    }
    let keep = |c: char| {
        if glob {
            valid_glob_char(c)
        } else {
            valid_char(c)
        }
    };
    let mut out = String::new();
    let mut mangled = false;
    for c in text.chars() {
        if c == '/' {
            out.push('-');
            mangled = true;
        } else if keep(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
            mangled = true;
        }
    }
    if mangled {
        let hint = if suggest_escape {
            " (maybe you should use systemd-escape?)"
        } else {
            ""
        };
        let text = format!("Invalid unit name \"{text}\" escaped as \"{out}\"{hint}.");
        notice = Some(match notice {
            Some(first) => format!("{first}\n{text}"),
            None => text,
        });
    }
    if (!glob || !is_glob(&out)) && !has_type_suffix(&out) {
        out.push_str(suffix);
    }
    if !glob && UnitName::parse(&out).is_err() {
        return None;
    }
    Some(Mangled { name: out, notice })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> String {
        mangle(text, Some("to enable"), false, ".service")
            .unwrap()
            .name
    }

    #[test]
    fn suffixes_and_templates() {
        assert_eq!(name("nginx"), "nginx.service");
        assert_eq!(name("nginx.service"), "nginx.service");
        assert_eq!(name("ssh.socket"), "ssh.socket");
        assert_eq!(name("w@"), "w@.service");
        assert_eq!(name("postgresql@15-main"), "postgresql@15-main.service");
        assert_eq!(name("w.bogus"), "w.bogus.service");
        let t = mangle("multi-user", Some("set-default"), false, ".target").unwrap();
        assert_eq!(t.name, "multi-user.target");
    }

    #[test]
    fn escaping_with_a_notice() {
        let m = mangle("bad name", Some("to enable"), false, ".service").unwrap();
        assert_eq!(m.name, "bad\\x20name.service");
        assert_eq!(
            m.notice.as_deref(),
            Some(
                "Invalid unit name \"bad name\" escaped as \"bad\\x20name\" (maybe you should use systemd-escape?)."
            )
        );
    }

    #[test]
    fn globs_kept_only_where_allowed() {
        let kept = mangle("ssh*", None, true, ".service").unwrap();
        assert_eq!(kept.name, "ssh*");
        assert_eq!(kept.notice, None);
        let refused = mangle("a*", Some("to enable"), false, ".service").unwrap();
        assert_eq!(refused.name, "a\\x2a.service");
        assert_eq!(
            refused.notice.as_deref(),
            Some(
                "Glob pattern passed to enable, but globs are not supported for this.\nInvalid unit name \"a*\" escaped as \"a\\x2a\"."
            )
        );
    }

    #[test]
    fn paths_become_mount_and_device_units() {
        assert_eq!(name("/var/lib/data"), "var-lib-data.mount");
        assert_eq!(name("/dev/sda"), "dev-sda.device");
        assert_eq!(name("/"), "-.mount");
    }
}
