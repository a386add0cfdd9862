//! The sandbox's settings of a unit as `systemctl show` prints them (the properties of
//! systemd 252's exec-context D-Bus interface that bosun's model carries, in that interface's
//! order), for the control socket's `units` answers with `sandbox: true`. Formatting only:
//! what of them is in force is `super::security`'s.

use crate::unit::model::ExecContext;
use crate::vocab::syscall;

/// RestrictAddressFamilies= as systemctl prints it: the families (`~` first for a deny list),
/// empty when socket(2) is not restricted.
fn address_families(f: &crate::unit::restrict::AddressFamilies) -> String {
    if !f.restricts() {
        return String::new();
    }
    let names: Vec<&str> = f
        .families
        .iter()
        .flatten()
        .filter_map(|&nr| crate::unit::restrict::family_name(nr))
        .collect();
    format!("{}{}", if f.allow_list { "" } else { "~" }, names.join(" "))
}

/// RestrictNamespaces= as systemctl prints it: `no` (all allowed), `yes` (none), or the
/// types still allowed.
fn namespaces(retained: Option<u64>) -> String {
    use crate::unit::restrict::{ALL_NAMESPACES, NAMESPACES};
    match retained.unwrap_or(ALL_NAMESPACES) {
        r if r == ALL_NAMESPACES => "no".to_owned(),
        0 => "yes".to_owned(),
        r => NAMESPACES
            .iter()
            .filter(|(_, flag)| r & flag != 0)
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// The sandbox's properties as `systemctl show` prints them for a unit with `exec`, in the
/// order of systemd 252's exec-context D-Bus interface (values as systemctl formats them:
/// capability names, `~` before a deny list, 2147483646 for "kill" as SystemCallErrorNumber=).
pub fn properties(exec: &ExecContext) -> Vec<(&'static str, String)> {
    let yes = |b: bool| if b { "yes" } else { "no" }.to_owned();
    use crate::unit::sandbox::{ProtectHome, ProtectSystem, SandboxPath};
    let p = &exec.privileges;
    let n = &exec.namespace;
    // As the unit wrote them, with their `-` and `+` prefixes (systemd keeps those too).
    let paths = |list: &[SandboxPath]| {
        list.iter()
            .map(|p| {
                format!(
                    "{}{}{}",
                    if p.optional { "-" } else { "" },
                    if p.host { "+" } else { "" },
                    p.path.display()
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let kernel = super::privs::kernel_capabilities();
    let caps = |mask: u64| crate::vocab::capability::names(mask).join(" ");
    let filter = &exec.syscall_filter;
    let syscalls = match filter.allow_list {
        None => String::new(),
        Some(allow) => {
            let names: Vec<String> = filter
                .names
                .iter()
                .map(|(name, denial)| match denial {
                    None => name.clone(),
                    Some(crate::unit::syscall_filter::Denial::Kill) => format!("{name}:kill"),
                    Some(crate::unit::syscall_filter::Denial::Errno(n)) => {
                        match syscall::errno_name(*n) {
                            Some(e) => format!("{name}:{e}"),
                            None => format!("{name}:{n}"),
                        }
                    }
                })
                .collect();
            format!("{}{}", if allow { "" } else { "~" }, names.join(" "))
        }
    };
    vec![
        ("UMask", format!("{:04o}", exec.umask.unwrap_or(0o022))),
        ("SecureBits", p.secure_bits.unwrap_or(0).to_string()),
        (
            "CapabilityBoundingSet",
            caps(p.bounding_set.unwrap_or(u64::MAX) & kernel),
        ),
        ("AmbientCapabilities", caps(p.ambient.unwrap_or(0) & kernel)),
        ("User", exec.user.clone().unwrap_or_default()),
        ("Group", exec.group.clone().unwrap_or_default()),
        ("DynamicUser", yes(exec.dynamic_user)),
        ("RemoveIPC", yes(exec.remove_ipc)),
        ("SupplementaryGroups", exec.supplementary_groups.join(" ")),
        ("ReadWritePaths", paths(&n.read_write)),
        ("ReadOnlyPaths", paths(&n.read_only)),
        ("InaccessiblePaths", paths(&n.inaccessible)),
        ("PrivateTmp", yes(n.private_tmp)),
        ("PrivateDevices", yes(n.private_devices)),
        ("ProtectClock", yes(exec.protect_clock)),
        ("ProtectKernelTunables", yes(n.protect_kernel_tunables)),
        ("ProtectKernelModules", yes(exec.protect_kernel_modules)),
        ("ProtectKernelLogs", yes(exec.protect_kernel_logs)),
        ("ProtectControlGroups", yes(n.protect_control_groups)),
        ("PrivateNetwork", yes(exec.private_network)),
        ("PrivateUsers", yes(exec.private_users)),
        (
            "ProtectHome",
            match n.protect_home {
                ProtectHome::No => "no",
                ProtectHome::Yes => "yes",
                ProtectHome::ReadOnly => "read-only",
                ProtectHome::Tmpfs => "tmpfs",
            }
            .to_owned(),
        ),
        (
            "ProtectSystem",
            match n.protect_system {
                ProtectSystem::No => "no",
                ProtectSystem::Yes => "yes",
                ProtectSystem::Full => "full",
                ProtectSystem::Strict => "strict",
            }
            .to_owned(),
        ),
        ("NoNewPrivileges", yes(p.no_new_privileges)),
        ("SystemCallFilter", syscalls),
        (
            "SystemCallArchitectures",
            if exec.syscall_native_only {
                "native"
            } else {
                ""
            }
            .to_owned(),
        ),
        (
            "SystemCallErrorNumber",
            exec.syscall_error_number
                .map_or(i32::MAX - 1, i32::from)
                .to_string(),
        ),
        (
            "Personality",
            match exec.personality {
                None => String::new(),
                Some(p) => crate::unit::restrict::personality_name(p).to_owned(),
            },
        ),
        ("LockPersonality", yes(exec.lock_personality)),
        (
            "RestrictAddressFamilies",
            address_families(&exec.address_families),
        ),
        (
            "MemoryDenyWriteExecute",
            yes(exec.memory_deny_write_execute),
        ),
        ("RestrictRealtime", yes(exec.restrict_realtime)),
        ("RestrictSUIDSGID", yes(exec.restrict_suid_sgid)),
        ("RestrictNamespaces", namespaces(exec.restrict_namespaces)),
        ("ProtectProc", n.protect_proc.word().to_owned()),
        (
            "ProcSubset",
            if n.proc_subset_pid { "pid" } else { "all" }.to_owned(),
        ),
        ("ProtectHostname", yes(exec.protect_hostname)),
        ("PrivateIPC", yes(exec.private_ipc)),
    ]
}
