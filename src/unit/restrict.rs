//! RestrictAddressFamilies=, RestrictNamespaces= and Personality= as systemd 252 reads them
//! (systemd.exec(5)): the merged allow or deny list of socket families, the namespace types a
//! service may still create or join, and the execution domain it starts in. Parsing and
//! merging only; the seccomp programs are `crate::service::restrict`'s, setting the persona
//! `crate::sys`'s.

use std::collections::BTreeSet;

/// The socket address families the C library's <sys/socket.h> names (AF_UNSPEC and AF_MAX
/// aside, as systemd's table leaves them out), with their numbers; aliases included.
const FAMILIES: &[(&str, u8)] = &[
    ("AF_UNIX", 1),
    ("AF_LOCAL", 1),
    ("AF_FILE", 1),
    ("AF_INET", 2),
    ("AF_AX25", 3),
    ("AF_IPX", 4),
    ("AF_APPLETALK", 5),
    ("AF_NETROM", 6),
    ("AF_BRIDGE", 7),
    ("AF_ATMPVC", 8),
    ("AF_X25", 9),
    ("AF_INET6", 10),
    ("AF_ROSE", 11),
    ("AF_DECnet", 12),
    ("AF_NETBEUI", 13),
    ("AF_SECURITY", 14),
    ("AF_KEY", 15),
    ("AF_NETLINK", 16),
    ("AF_ROUTE", 16),
    ("AF_PACKET", 17),
    ("AF_ASH", 18),
    ("AF_ECONET", 19),
    ("AF_ATMSVC", 20),
    ("AF_RDS", 21),
    ("AF_SNA", 22),
    ("AF_IRDA", 23),
    ("AF_PPPOX", 24),
    ("AF_WANPIPE", 25),
    ("AF_LLC", 26),
    ("AF_IB", 27),
    ("AF_MPLS", 28),
    ("AF_CAN", 29),
    ("AF_TIPC", 30),
    ("AF_BLUETOOTH", 31),
    ("AF_IUCV", 32),
    ("AF_RXRPC", 33),
    ("AF_ISDN", 34),
    ("AF_PHONET", 35),
    ("AF_IEEE802154", 36),
    ("AF_CAIF", 37),
    ("AF_ALG", 38),
    ("AF_NFC", 39),
    ("AF_VSOCK", 40),
    ("AF_KCM", 41),
    ("AF_QIPCRTR", 42),
    ("AF_SMC", 43),
    ("AF_XDP", 44),
    ("AF_MCTP", 45),
];

/// One above the highest family number the table knows (the C library's AF_MAX).
pub const FAMILY_MAX: u8 = 46;

/// The number of the address family `name` (`AF_INET`, ...), if the table knows it.
pub fn family(name: &str) -> Option<u8> {
    FAMILIES.iter().find(|(n, _)| *n == name).map(|(_, nr)| *nr)
}

/// The merged RestrictAddressFamilies= lines of a unit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AddressFamilies {
    /// Whether the list names the families allowed (otherwise those denied).
    pub allow_list: bool,
    /// The families listed; None until a list line starts one (`none` and the empty
    /// assignment leave it None, so the next line decides the polarity again).
    pub families: Option<BTreeSet<u8>>,
}

impl AddressFamilies {
    /// Whether socket(2) is restricted at all: an allow list (even empty, as after `none`)
    /// or a deny list naming a family.
    pub fn restricts(&self) -> bool {
        self.allow_list || self.families.as_ref().is_some_and(|f| !f.is_empty())
    }

    /// Merge one RestrictAddressFamilies= value: the empty value resets, `none` allows no
    /// family, the first list line decides allow (`AF_...`) or deny (`~AF_...`), and later
    /// lines of the same polarity add, of the other remove. Returns a warning for each name
    /// the table does not know (systemd warns and ignores it).
    pub fn add_line(&mut self, value: &str) -> Vec<String> {
        let value = value.trim();
        if value.is_empty() || value == "none" {
            *self = AddressFamilies {
                allow_list: value == "none",
                families: None,
            };
            return Vec::new();
        }
        let (invert, rest) = match value.strip_prefix('~') {
            Some(rest) => (true, rest),
            None => (false, value),
        };
        if self.families.is_none() {
            self.allow_list = !invert;
        }
        let adds = invert != self.allow_list;
        let families = self.families.get_or_insert_with(BTreeSet::new);
        let mut warnings = Vec::new();
        for word in rest.split_whitespace() {
            match family(word) {
                Some(nr) if adds => {
                    families.insert(nr);
                }
                Some(nr) => {
                    families.remove(&nr);
                }
                None => warnings.push(format!("failed to parse address family, ignoring: {word}")),
            }
        }
        warnings
    }
}

/// The namespace types of RestrictNamespaces=, with their CLONE_NEW* flags.
pub const NAMESPACES: [(&str, u64); 7] = [
    ("cgroup", 0x0200_0000),
    ("ipc", 0x0800_0000),
    ("net", 0x4000_0000),
    ("mnt", 0x0002_0000),
    ("pid", 0x2000_0000),
    ("user", 0x1000_0000),
    ("uts", 0x0400_0000),
];

/// Every namespace flag RestrictNamespaces= knows.
pub const ALL_NAMESPACES: u64 = {
    let mut all = 0;
    let mut i = 0;
    while i < NAMESPACES.len() {
        all |= NAMESPACES[i].1;
        i += 1;
    }
    all
};

/// Merge one RestrictNamespaces= value into `retained`, the namespace flags the service may
/// still use (None: not set yet). `yes` retains none and `no` all, whatever came before; a
/// list retains its types (`~`: all but its types) when first, and adds (removes) them
/// afterwards; the empty value resets. A type that is not one of cgroup, ipc, net, mnt, pid,
/// user, uts makes the line an error.
pub fn merge_namespaces(retained: &mut Option<u64>, value: &str) -> Result<(), String> {
    let value = value.trim();
    if value.is_empty() {
        *retained = None;
        return Ok(());
    }
    if let Ok(yes) = crate::unit::value::parse_bool(value) {
        *retained = Some(if yes { 0 } else { ALL_NAMESPACES });
        return Ok(());
    }
    let (invert, rest) = match value.strip_prefix('~') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let mut flags = 0;
    for word in rest.split_whitespace() {
        let Some((_, flag)) = NAMESPACES.iter().find(|(n, _)| *n == word) else {
            return Err(format!(
                "{word:?} is not a namespace type (cgroup, ipc, net, mnt, pid, user, uts)"
            ));
        };
        flags |= flag;
    }
    *retained = Some(match (*retained, invert) {
        (None, false) => flags,
        (None, true) => ALL_NAMESPACES & !flags,
        (Some(r), false) => r | flags,
        (Some(r), true) => r & !flags,
    });
    Ok(())
}

/// PER_LINUX, the native execution domain.
pub const PER_LINUX: u32 = 0;
/// PER_LINUX32, the 32-bit one of a 64-bit architecture.
pub const PER_LINUX32: u32 = 0x0008;

/// Personality=: an architecture identifier, the native one (PER_LINUX) or its 32-bit
/// secondary (PER_LINUX32); empty resets. Any other identifier cannot run here, as systemd
/// 252's personality_from_string() decides: an error, with the names this host takes.
pub fn parse_personality(value: &str) -> Result<Option<u32>, String> {
    let (native, secondary) = personality_names();
    match value.trim() {
        "" => Ok(None),
        v if v == native => Ok(Some(PER_LINUX)),
        v if v == secondary => Ok(Some(PER_LINUX32)),
        v => Err(format!(
            "{v:?} is not a personality of this host ({native}, {secondary})"
        )),
    }
}

/// This host's names for PER_LINUX and PER_LINUX32, as systemd spells them.
fn personality_names() -> (&'static str, &'static str) {
    match std::env::consts::ARCH {
        "x86_64" => ("x86-64", "x86"),
        "aarch64" => ("arm64", "arm"),
        other => (other, ""),
    }
}

/// The name of an execution domain [`parse_personality`] returned.
pub fn personality_name(persona: u32) -> &'static str {
    let (native, secondary) = personality_names();
    if persona == PER_LINUX32 {
        secondary
    } else {
        native
    }
}

/// The name of address family `nr` (`AF_INET` for 2), if the table knows it.
pub fn family_name(nr: u8) -> Option<&'static str> {
    FAMILIES
        .iter()
        .find(|(_, n)| *n == nr)
        .map(|(name, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(lines: &[&str]) -> (AddressFamilies, Vec<String>) {
        let mut a = AddressFamilies::default();
        let mut warnings = Vec::new();
        for line in lines {
            warnings.extend(a.add_line(line));
        }
        (a, warnings)
    }

    fn set(families: &[u8]) -> Option<BTreeSet<u8>> {
        Some(families.iter().copied().collect())
    }

    #[test]
    fn an_allow_list_holds_only_what_it_names() {
        let (a, w) = merged(&["AF_INET AF_INET6"]);
        assert!(a.allow_list && a.restricts() && w.is_empty());
        // AF_UNIX is not added implicitly.
        assert_eq!(a.families, set(&[2, 10]));
        let (a, _) = merged(&["AF_INET AF_INET6", "AF_UNIX", "~AF_INET6"]);
        assert_eq!(a.families, set(&[1, 2]));
    }

    #[test]
    fn a_deny_list_and_its_merging() {
        let (a, _) = merged(&["~AF_PACKET AF_NETLINK", "~AF_INET", "AF_NETLINK"]);
        assert!(!a.allow_list && a.restricts());
        assert_eq!(a.families, set(&[2, 17]));
        // Aliases name the same family.
        let (a, _) = merged(&["~AF_ROUTE AF_LOCAL"]);
        assert_eq!(a.families, set(&[1, 16]));
    }

    #[test]
    fn none_and_the_empty_value_reset() {
        let (a, _) = merged(&["AF_INET", "none"]);
        assert!(a.allow_list && a.restricts() && a.families.is_none());
        let (a, _) = merged(&["none", "AF_UNIX"]);
        assert!(a.allow_list && a.families == set(&[1]));
        let (a, _) = merged(&["AF_INET", ""]);
        assert!(!a.restricts());
        let (a, _) = merged(&["AF_INET", "", "~AF_INET6"]);
        assert!(!a.allow_list && a.families == set(&[10]));
    }

    #[test]
    fn unknown_families_are_warned_about_and_skipped() {
        let (a, w) = merged(&["AF_UNIX AF_BOGUS AF_UNSPEC"]);
        assert_eq!(a.families, set(&[1]));
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("AF_BOGUS") && w[1].contains("AF_UNSPEC"));
        // A deny list of unknown names only restricts nothing.
        let (a, w) = merged(&["~AF_BOGUS"]);
        assert!(!a.restricts() && w.len() == 1);
    }

    fn namespaces(lines: &[&str]) -> Result<Option<u64>, String> {
        let mut r = None;
        for line in lines {
            merge_namespaces(&mut r, line)?;
        }
        Ok(r)
    }

    #[test]
    fn namespaces_merge_as_systemd_does() {
        let (net, user) = (0x4000_0000, 0x1000_0000);
        assert_eq!(namespaces(&["yes"]), Ok(Some(0)));
        assert_eq!(namespaces(&["no"]), Ok(Some(ALL_NAMESPACES)));
        assert_eq!(namespaces(&["net user"]), Ok(Some(net | user)));
        assert_eq!(namespaces(&["~user"]), Ok(Some(ALL_NAMESPACES & !user)));
        assert_eq!(namespaces(&["net", "user"]), Ok(Some(net | user)));
        assert_eq!(namespaces(&["net user", "~net"]), Ok(Some(user)));
        assert_eq!(
            namespaces(&["no", "~user"]),
            Ok(Some(ALL_NAMESPACES & !user))
        );
        assert_eq!(namespaces(&["net", "yes"]), Ok(Some(0)));
        assert_eq!(namespaces(&["net", ""]), Ok(None));
        let err = namespaces(&["net time"]).unwrap_err();
        assert!(err.contains("\"time\""), "{err}");
    }

    #[test]
    fn personalities_of_this_host() {
        assert_eq!(parse_personality(""), Ok(None));
        let (native, secondary) = match std::env::consts::ARCH {
            "x86_64" => ("x86-64", "x86"),
            _ => ("arm64", "arm"),
        };
        assert_eq!(parse_personality(native), Ok(Some(PER_LINUX)));
        assert_eq!(parse_personality(secondary), Ok(Some(PER_LINUX32)));
        assert!(parse_personality("s390x").is_err());
    }
}
