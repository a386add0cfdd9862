//! systemd's special units (systemd.special(7)) that bosun supplies itself when an image has
//! no unit file for them (an image without the systemd package has no multi-user.target): their
//! names, descriptions and the boot chain between them (multi-user → basic → sysinit, as in
//! systemd). Pure data, part of the leaf vocabulary: the manager loads them as units, and
//! `systemctl enable` knows that a link into one is not dangling. Nothing here loads or starts.

/// A standard target as bosun supplies it: each unit it requires or wants is also ordered
/// before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// The unit name (`multi-user.target`).
    pub name: &'static str,
    /// Description=, as systemd's own unit file says it.
    pub description: &'static str,
    /// Requires= (and After=).
    pub requires: &'static [&'static str],
    /// Wants= (and After=).
    pub wants: &'static [&'static str],
}

/// The targets of systemd.special(7) that services name.
pub const TARGETS: [Target; 28] = [
    Target {
        name: "multi-user.target",
        description: "Multi-User System",
        requires: &["basic.target"],
        wants: &[],
    },
    Target {
        name: "graphical.target",
        description: "Graphical Interface",
        requires: &["multi-user.target"],
        wants: &[],
    },
    Target {
        name: "basic.target",
        description: "Basic System",
        requires: &["sysinit.target"],
        wants: &[
            "sockets.target",
            "timers.target",
            "paths.target",
            "slices.target",
        ],
    },
    Target {
        name: "sysinit.target",
        description: "System Initialization",
        requires: &[],
        wants: &["local-fs.target", "swap.target"],
    },
    Target {
        name: "local-fs.target",
        description: "Local File Systems",
        requires: &[],
        wants: &[],
    },
    Target {
        name: "local-fs-pre.target",
        description: "Preparation for Local File Systems",
        requires: &[],
        wants: &[],
    },
    Target {
        name: "remote-fs.target",
        description: "Remote File Systems",
        requires: &[],
        wants: &[],
    },
    Target {
        name: "remote-fs-pre.target",
        description: "Preparation for Remote File Systems",
        requires: &[],
        wants: &[],
    },
    Target {
        name: "swap.target",
        description: "Swaps",
        requires: &[],
        wants: &[],
    },
    Target {
        name: "sockets.target",
        description: "Sockets",
        requires: &[],
        wants: &[],
    },
    Target {
        name: "timers.target",
        description: "Timers",
        requires: &[],
        wants: &[],
    },
    Target {
        name: "paths.target",
        description: "Path Units",
        requires: &[],
        wants: &[],
    },
    Target {
        name: "slices.target",
        description: "Slice Units",
        requires: &[],
        wants: &[],
    },
    Target {
        name: "network.target",
        description: "Network",
        requires: &[],
        wants: &[],
    },
    Target {
        name: "network-pre.target",
        description: "Preparation for Network",
        requires: &[],
        wants: &[],
    },
    Target {
        name: "network-online.target",
        description: "Network is Online",
        requires: &[],
        wants: &["network.target"],
    },
    Target {
        name: "nss-lookup.target",
        description: "Host and Network Name Lookups",
        requires: &[],
        wants: &[],
    },
    Target {
        name: "nss-user-lookup.target",
        description: "User and Group Name Lookups",
        requires: &[],
        wants: &[],
    },
    Target {
        name: "time-set.target",
        description: "System Time Set",
        requires: &[],
        wants: &[],
    },
    Target {
        name: "time-sync.target",
        description: "System Time Synchronized",
        requires: &[],
        wants: &[],
    },
    Target {
        name: "rpcbind.target",
        description: "RPC Port Mapper",
        requires: &[],
        wants: &[],
    },
    Target {
        name: "getty.target",
        description: "Login Prompts",
        requires: &[],
        wants: &[],
    },
    Target {
        name: "getty-pre.target",
        description: "Preparation for Logins",
        requires: &[],
        wants: &[],
    },
    Target {
        name: "emergency.target",
        description: "Emergency Mode",
        requires: &[],
        wants: &[],
    },
    Target {
        name: "rescue.target",
        description: "Rescue Mode",
        requires: &["sysinit.target"],
        wants: &[],
    },
    Target {
        name: "shutdown.target",
        description: "System Shutdown",
        requires: &[],
        wants: &[],
    },
    Target {
        name: "final.target",
        description: "Late Shutdown Services",
        requires: &[],
        wants: &[],
    },
    Target {
        name: "system-update.target",
        description: "System Update",
        requires: &[],
        wants: &[],
    },
];

/// The special target called `name`, if bosun supplies one.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// Whether bosun supplies the unit `name` itself.
pub fn is_special(name: &str) -> bool {
    target(name).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boot_chain_is_closed() {
        assert!(is_special("multi-user.target"));
        assert!(!is_special("nginx.service"));
        assert_eq!(
            target("basic.target").map(|t| t.requires),
            Some(&["sysinit.target"][..])
        );
        // Every target a special target pulls in is itself supplied.
        for t in &TARGETS {
            for dep in t.requires.iter().chain(t.wants) {
                assert!(is_special(dep), "{} names {dep}", t.name);
            }
        }
    }
}
