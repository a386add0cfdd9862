//! SystemCallFilter=, SystemCallErrorNumber=, SystemCallArchitectures= and SystemCallLog= as
//! systemd 252 reads them (systemd.exec(5)): the merged list of system-call names and its polarity. Parsing and
//! merging only; compiling the list to BPF is `crate::service::seccomp`'s job, installing it
//! `crate::sys`'s.

use std::collections::BTreeMap;

use crate::vocab::syscall;

/// The merged SystemCallFilter= lines of a unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyscallFilter {
    /// `Some(true)`: an allow list (everything else is denied); `Some(false)`: a deny list;
    /// `None`: no filter. The first line decides; an empty assignment resets.
    pub allow_list: Option<bool>,
    /// The names in the list (groups expanded), each with the action of its `name:errno` or
    /// `name:kill` entry (deny lists only) or `None` for SystemCallErrorNumber='s action.
    pub names: BTreeMap<String, Option<Denial>>,
}

/// What a deny-list entry's suffix asks for instead of SystemCallErrorNumber='s action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Denial {
    /// `:kill`: the process is killed with SIGSYS.
    Kill,
    /// `:errno` (0-4095, or a name): the call returns it.
    Errno(u16),
}

impl SyscallFilter {
    /// Merge one SystemCallFilter= value. A line of the list's polarity adds its names; a line
    /// of the other polarity removes them. Returns a warning for each entry ignored (unknown
    /// name or group, bad errno), as systemd warns and ignores them.
    pub fn add_line(&mut self, value: &str) -> Vec<String> {
        self.merge(value, false)
    }

    /// Merge one SystemCallLog= value: as [`SyscallFilter::add_line`], but an allow list (the
    /// calls to log) holds only what it names, and no entry takes an action suffix.
    pub fn add_log_line(&mut self, value: &str) -> Vec<String> {
        self.merge(value, true)
    }

    fn merge(&mut self, value: &str, log: bool) -> Vec<String> {
        let mut warnings = Vec::new();
        let value = value.trim();
        if value.is_empty() {
            *self = SyscallFilter::default();
            return warnings;
        }
        let (deny, rest) = match value.strip_prefix('~') {
            Some(rest) => (true, rest),
            None => (false, value),
        };
        let first = self.allow_list.is_none();
        let allow_list = *self.allow_list.get_or_insert(!deny);
        if first && allow_list && !log {
            // The @default set is always allowed in an allow list (a later `~` line may
            // still take names out again, as in systemd).
            for name in syscall::group("@default").unwrap_or_default() {
                self.names.insert(name.to_owned(), None);
            }
        }
        for word in rest.split_whitespace() {
            let (name, errno) = match word.split_once(':') {
                None => (word, None),
                Some(_) if log => {
                    warnings.push(format!("failed to parse system call, ignoring: {word}"));
                    continue;
                }
                Some((name, e)) => match entry_action(e) {
                    Some(n) if deny => (name, Some(n)),
                    Some(_) => {
                        warnings.push(format!(
                            "allow-listed system call {name} cannot take an error number, \
                             ignoring: {word}"
                        ));
                        continue;
                    }
                    None => {
                        warnings.push(format!("invalid errno {e:?}, ignoring: {word}"));
                        continue;
                    }
                },
            };
            let names: Vec<String> = if name.starts_with('@') {
                match syscall::group(name) {
                    Some(set) => set.into_iter().map(str::to_owned).collect(),
                    None => {
                        warnings.push(format!("unknown system call group, ignoring: {name}"));
                        continue;
                    }
                }
            } else if syscall::is_known(name) {
                vec![name.to_owned()]
            } else {
                warnings.push(format!("failed to parse system call, ignoring: {name}"));
                continue;
            };
            for n in names {
                if allow_list != deny {
                    self.names.insert(n, errno);
                } else {
                    self.names.remove(&n);
                }
            }
        }
        warnings
    }
}

/// A deny-list entry's suffix: `kill`, or an errno (0-4095) by number or name.
fn entry_action(text: &str) -> Option<Denial> {
    match text {
        "kill" => Some(Denial::Kill),
        "0" => Some(Denial::Errno(0)),
        _ => syscall::errno(text).map(Denial::Errno),
    }
}

/// SystemCallErrorNumber=: an errno name or number (1-4095); empty or `kill` resets to the
/// default (the process is killed with SIGSYS).
pub fn parse_error_number(value: &str) -> Result<Option<u16>, String> {
    let value = value.trim();
    if value.is_empty() || value == "kill" {
        return Ok(None);
    }
    syscall::errno(value)
        .map(Some)
        .ok_or_else(|| format!("{value:?} is not an errno name or number (1-4095)"))
}

/// SystemCallArchitectures=: whether the list restricts the process to the native
/// architecture (an empty value resets), and a warning for each other architecture named.
/// bosun's filters admit the native architecture only (`native`, or its own name: `x86-64`,
/// `arm64`): calls through any other ABI are refused, stricter than systemd, which would admit
/// the architectures listed; the unit still runs, as the list takes nothing from the native ABI.
pub fn parse_architectures(value: &str) -> (bool, Vec<String>) {
    let native = match std::env::consts::ARCH {
        "x86_64" => "x86-64",
        "aarch64" => "arm64",
        other => other,
    };
    let warnings = value
        .split_whitespace()
        .filter(|w| *w != "native" && *w != native)
        .map(|w| {
            format!(
                "architecture {w}: bosun admits system calls of the native architecture \
                 ({native}) only, those of {w} are refused"
            )
        })
        .collect();
    (!value.trim().is_empty(), warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(lines: &[&str]) -> (SyscallFilter, Vec<String>) {
        let mut f = SyscallFilter::default();
        let mut warnings = Vec::new();
        for line in lines {
            warnings.extend(f.add_line(line));
        }
        (f, warnings)
    }

    #[test]
    fn the_first_line_decides_the_polarity() {
        let (f, w) = merged(&["~@clock", "reboot"]);
        assert_eq!(f.allow_list, Some(false));
        assert!(f.names.contains_key("clock_settime"));
        // An allow line after a deny list takes names out (none of @clock's are `reboot`).
        assert!(!f.names.contains_key("reboot"));
        assert!(w.is_empty());
        let (f, _) = merged(&["~@clock", "settimeofday"]);
        assert!(!f.names.contains_key("settimeofday") && f.names.contains_key("adjtimex"));
    }

    #[test]
    fn an_allow_list_always_holds_the_default_set() {
        let (f, _) = merged(&["@file-system"]);
        assert_eq!(f.allow_list, Some(true));
        assert!(f.names.contains_key("openat") && f.names.contains_key("exit_group"));
        assert!(!f.names.contains_key("reboot"));
        let (f, _) = merged(&["@file-system", "~openat"]);
        assert!(!f.names.contains_key("openat") && f.names.contains_key("close"));
    }

    #[test]
    fn an_empty_assignment_resets() {
        let (f, _) = merged(&["~@clock", ""]);
        assert_eq!(f, SyscallFilter::default());
        let (f, _) = merged(&["~@clock", "", "@basic-io"]);
        assert_eq!(f.allow_list, Some(true));
        assert!(!f.names.contains_key("clock_settime"));
    }

    #[test]
    fn entries_take_their_own_errno_in_deny_lists() {
        let (f, w) = merged(&["~settimeofday:EACCES @reboot:5 uname:kill sync:0"]);
        assert_eq!(f.names.get("settimeofday"), Some(&Some(Denial::Errno(13))));
        assert_eq!(f.names.get("reboot"), Some(&Some(Denial::Errno(5))));
        assert_eq!(f.names.get("uname"), Some(&Some(Denial::Kill)));
        assert_eq!(f.names.get("sync"), Some(&Some(Denial::Errno(0))));
        assert!(w.is_empty());
        let (_, w) = merged(&["read:EPERM", "~write:EBOGUS"]);
        assert_eq!(w.len(), 2, "{w:?}");
    }

    #[test]
    fn unknown_names_and_groups_are_warned_about_and_skipped() {
        let (f, w) = merged(&["~@clock @nonsense frobnicate cacheflush"]);
        assert!(f.names.contains_key("cacheflush") && !f.names.contains_key("frobnicate"));
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("@nonsense") && w[1].contains("frobnicate"));
    }

    #[test]
    fn a_log_list_holds_only_what_it_names() {
        let mut f = SyscallFilter::default();
        assert!(f.add_log_line("@clock").is_empty());
        assert_eq!(f.allow_list, Some(true));
        assert!(f.names.contains_key("settimeofday") && !f.names.contains_key("exit_group"));
        assert_eq!(f.add_log_line("uname:EPERM").len(), 1);
        assert!(!f.names.contains_key("uname"));
        assert!(f.add_log_line("~adjtimex").is_empty());
        assert!(!f.names.contains_key("adjtimex"));
    }

    #[test]
    fn error_numbers_and_architectures() {
        assert_eq!(parse_error_number("EPERM"), Ok(Some(1)));
        assert_eq!(parse_error_number(""), Ok(None));
        assert_eq!(parse_error_number("kill"), Ok(None));
        assert!(parse_error_number("0").is_err());
        assert!(parse_error_number("EBOGUS").is_err());
        assert_eq!(parse_architectures("native"), (true, Vec::new()));
        assert_eq!(parse_architectures(""), (false, Vec::new()));
        let (native, warnings) = parse_architectures("native x32");
        assert!(native && warnings.len() == 1 && warnings[0].contains("x32"));
    }
}
