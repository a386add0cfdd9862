//! System-call vocabulary: names and numbers per architecture, systemd 252's `@groups`
//! resolved recursively, and errno names. The facts live in the generated
//! [`super::syscall_table`] (scripts/gen-syscalls.py); this module only looks them up. It
//! must not compile or install filters (that is `crate::service::seccomp`).

use std::collections::BTreeSet;

use super::syscall_table::{AARCH64, ERRNOS, GROUPS, X86_64};

/// The architectures bosun has system-call tables for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// x86_64 (AUDIT_ARCH_X86_64).
    X86_64,
    /// aarch64 (AUDIT_ARCH_AARCH64).
    Aarch64,
}

impl Arch {
    /// The architecture bosun was built for, if it has tables.
    pub fn native() -> Option<Arch> {
        match std::env::consts::ARCH {
            "x86_64" => Some(Arch::X86_64),
            "aarch64" => Some(Arch::Aarch64),
            _ => None,
        }
    }

    /// Every system call of this architecture: (name, number), sorted by name.
    pub fn calls(self) -> &'static [(&'static str, u32)] {
        match self {
            Arch::X86_64 => X86_64,
            Arch::Aarch64 => AARCH64,
        }
    }

    /// The number of system call `name` on this architecture (None: it has no such call).
    pub fn number(self, name: &str) -> Option<u32> {
        let table = self.calls();
        table
            .binary_search_by(|(n, _)| (*n).cmp(name))
            .ok()
            .and_then(|i| table.get(i))
            .map(|(_, nr)| *nr)
    }
}

/// The members of `@group` (the name with its `@`), groups resolved recursively; None for an
/// unknown group. Names may include calls a given architecture lacks.
pub fn group(name: &str) -> Option<BTreeSet<&'static str>> {
    let mut out = BTreeSet::new();
    let mut seen = BTreeSet::new();
    expand(name, &mut out, &mut seen).then_some(out)
}

fn expand(name: &str, out: &mut BTreeSet<&'static str>, seen: &mut BTreeSet<String>) -> bool {
    let Some((_, members)) = GROUPS.iter().find(|(g, _)| *g == name) else {
        return false;
    };
    if !seen.insert(name.to_string()) {
        return true;
    }
    for m in *members {
        if m.starts_with('@') {
            expand(m, out, seen);
        } else {
            out.insert(m);
        }
    }
    true
}

/// Whether `name` is a system call systemd 252 knows on some architecture (its `@known`
/// group, or bosun's own tables).
pub fn is_known(name: &str) -> bool {
    Arch::X86_64.number(name).is_some()
        || Arch::Aarch64.number(name).is_some()
        || in_known_group(name)
}

/// Whether `name` is in systemd 252's `@known` group (the calls it knew when it was built).
pub fn in_known_group(name: &str) -> bool {
    GROUPS
        .iter()
        .any(|(g, m)| *g == "@known" && m.contains(&name))
}

/// An errno by name (`EPERM`) or number (`1`), as SystemCallErrorNumber= takes it.
pub fn errno(text: &str) -> Option<u16> {
    if let Ok(n) = text.parse::<u16>() {
        return (1..4096).contains(&n).then_some(n);
    }
    ERRNOS.iter().find(|(n, _)| *n == text).map(|(_, v)| *v)
}

/// The name of errno `n` (`EPERM` for 1), as systemd prints it; None for a number without one.
pub fn errno_name(n: u16) -> Option<&'static str> {
    ERRNOS.iter().find(|(_, v)| *v == n).map(|(name, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_come_from_the_kernel_tables() {
        assert_eq!(Arch::X86_64.number("clock_settime"), Some(227));
        assert_eq!(Arch::Aarch64.number("clock_settime"), Some(112));
        assert_eq!(Arch::Aarch64.number("open"), None);
        assert_eq!(Arch::X86_64.number("no_such_call"), None);
    }

    #[test]
    fn groups_resolve_recursively() {
        let service = group("@system-service").unwrap_or_default();
        // Through @default and @file-system.
        assert!(service.contains("exit_group"));
        assert!(service.contains("openat"));
        assert!(!service.contains("reboot"));
        let clock = group("@clock").unwrap_or_default();
        assert!(clock.contains("clock_settime") && clock.contains("settimeofday"));
        assert!(group("@nonsense").is_none());
        assert_eq!(GROUPS.len(), 29);
    }

    #[test]
    fn errnos_by_name_or_number() {
        assert_eq!(errno("EPERM"), Some(1));
        assert_eq!(errno("EACCES"), Some(13));
        assert_eq!(errno("5"), Some(5));
        assert_eq!(errno("0"), None);
        assert_eq!(errno("EWHAT"), None);
        assert!(is_known("cacheflush") && is_known("open") && !is_known("openn"));
    }
}
