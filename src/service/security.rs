//! What a unit's sandbox asks for, what of it is in force in this container, and an exposure
//! figure, in the spirit of `systemd-analyze security`: `bosun verify --security` and
//! `initctl status UNIT` read it from here (`systemctl show`'s properties of the same
//! settings are `super::exec_properties`').
//!
//! Each [`Check`] is one question about what the service could do (run as root, hold
//! CAP_SYS_ADMIN, call mount(2), see other services' /tmp, ...), with a weight and two
//! exposures from 0 (protected) to 1 (exposed): as the unit is written, and as bosun can apply
//! it here ([`Facts`]: the container's capabilities, whether it allows a mount namespace and
//! seccomp). A protection the container already gives (a capability its bounding set lacks,
//! a non-root bosun) counts as in force; one bosun cannot apply counts as exposed, with the
//! reason. The overall figure is the weighted mean on systemd's scale, 0.0 to 10.0, named with
//! systemd's words (PERFECT ... DANGEROUS). The weights are bosun's own: the larger the harm a
//! compromised daemon could do with what the check leaves open, the larger the weight.

use serde::{Deserialize, Serialize};

use crate::unit::model::ExecContext;
use crate::vocab::capability::{CAP_SETPCAP, CAP_SYS_ADMIN, bit};
use crate::vocab::syscall::{self, Arch};

/// What this container lets bosun apply, read once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// bosun's own uid (a non-root bosun cannot start anything as root).
    pub uid: u32,
    /// bosun's effective capabilities.
    pub effective: u64,
    /// bosun's bounding set: all a service here could ever hold.
    pub bounding: u64,
    /// Whether the kernel takes seccomp filters (`Seccomp:` in /proc/self/status).
    pub seccomp: bool,
    /// Whether a mount namespace can be made for a service: Ok, or why not (with what the
    /// runtime would have to grant).
    pub mount_namespace: Result<(), String>,
    /// The mount namespace is made inside a user namespace mapping bosun's own ids only (a
    /// non-root bosun without CAP_SYS_ADMIN): in force for units that keep bosun's user.
    pub mount_namespace_own_user_only: bool,
    /// Whether a user namespace can be made for a service (PrivateUsers=).
    pub user_namespace: Result<(), String>,
    /// Whether a network namespace (PrivateNetwork=) and an IPC namespace (PrivateIPC=) can.
    pub network_namespace: Result<(), String>,
    pub ipc_namespace: Result<(), String>,
}

impl Facts {
    /// The facts of the calling process (PID 1 reads them once at boot; `bosun verify` reads
    /// its own, which in the same container are PID 1's unless it runs as another user). A
    /// mount namespace is judged by the capability alone: [`facts`] probes it.
    pub fn of_this_process() -> Facts {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .map(str::trim)
        };
        let mask = |name: &str| {
            field(name)
                .and_then(|hex| u64::from_str_radix(hex, 16).ok())
                .unwrap_or(0)
        };
        let effective = mask("CapEff");
        Facts {
            uid: nix::unistd::geteuid().as_raw(),
            effective,
            bounding: mask("CapBnd"),
            seccomp: field("Seccomp").is_some(),
            mount_namespace: if effective & bit(CAP_SYS_ADMIN) != 0 {
                Ok(())
            } else {
                Err("a mount namespace needs CAP_SYS_ADMIN".to_owned())
            },
            mount_namespace_own_user_only: false,
            user_namespace: super::userns::probe().clone(),
            network_namespace: super::netns::access(true),
            ipc_namespace: super::netns::access(false),
        }
    }
}

/// The facts of this process, read once, with the mount namespace probed as PID 1 probes it
/// for the units on `root` (PID 1's answers to the control socket).
pub fn facts(root: &std::path::Path) -> &'static Facts {
    static FACTS: std::sync::OnceLock<Facts> = std::sync::OnceLock::new();
    FACTS.get_or_init(|| Facts {
        mount_namespace: super::namespace::probe(root).clone().map(|_| ()),
        mount_namespace_own_user_only: matches!(
            super::namespace::probe(root),
            Ok(super::namespace::Access::UserNamespace)
        ),
        user_namespace: super::userns::probe().clone(),
        ..Facts::of_this_process()
    })
}

/// One question about what the service could do (carried as is by the control protocol).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// The setting that answers it, as systemd-analyze names it (`PrivateTmp=`,
    /// `CapabilityBoundingSet=~CAP_SYS_ADMIN`, `SystemCallFilter=~@mount`, ...).
    pub name: String,
    /// What the service may do when the check is exposed, as a phrase without its subject.
    pub description: String,
    pub weight: u32,
    /// Exposure as the unit is written, in tenths: 0 protected .. 10 exposed.
    pub written: u8,
    /// Exposure in this container, in tenths.
    pub here: u8,
    /// Why `here` differs from `written`, when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// Every check of one unit (carried as is by the control protocol).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub checks: Vec<Check>,
    /// What else this container does to the unit (a bounding set it cannot shrink, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Assessment {
    /// The overall exposure as written, 0.0 .. 10.0.
    pub fn written(&self) -> f32 {
        self.mean(|c| c.written)
    }

    /// The overall exposure in this container, 0.0 .. 10.0.
    pub fn here(&self) -> f32 {
        self.mean(|c| c.here)
    }

    fn mean(&self, of: impl Fn(&Check) -> u8) -> f32 {
        let total: u32 = self.checks.iter().map(|c| c.weight).sum();
        if total == 0 {
            return 0.0;
        }
        let exposed: u32 = self
            .checks
            .iter()
            .map(|c| c.weight * u32::from(of(c)))
            .sum();
        // One decimal, as systemd prints it: exposed / total is in tenths already.
        (10.0 * exposed as f32 / total as f32).round() / 10.0
    }

    /// The checks whose protection the unit asks for but this container does not give.
    pub fn not_in_force(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.here > c.written)
    }

    /// systemd-analyze's word for an exposure figure (PERFECT .. DANGEROUS).
    pub fn level(exposure: f32) -> &'static str {
        match exposure {
            e if e >= 10.0 => "DANGEROUS",
            e if e >= 9.0 => "UNSAFE",
            e if e >= 7.5 => "EXPOSED",
            e if e >= 5.0 => "MEDIUM",
            e if e >= 1.0 => "OK",
            e if e > 0.0 => "SAFE",
            _ => "PERFECT",
        }
    }
}

/// Capability groups, each one check: (setting name, description, weight, capabilities).
const CAPABILITIES: &[(&str, &str, u32, &[u32])] = &[
    (
        "CapabilityBoundingSet=~CAP_SYS_ADMIN",
        "may administer the system (mounts, namespaces, most of the kernel)",
        10,
        &[21],
    ),
    (
        "CapabilityBoundingSet=~CAP_SYS_PTRACE",
        "may trace and inspect other processes",
        6,
        &[19],
    ),
    (
        "CapabilityBoundingSet=~CAP_SYS_MODULE",
        "may load kernel modules",
        8,
        &[16],
    ),
    (
        "CapabilityBoundingSet=~CAP_SYS_RAWIO",
        "may do raw I/O on devices and ports",
        6,
        &[17],
    ),
    (
        "CapabilityBoundingSet=~CAP_NET_ADMIN",
        "may configure the network",
        6,
        &[12],
    ),
    (
        "CapabilityBoundingSet=~CAP_NET_RAW",
        "may open raw and packet sockets",
        3,
        &[13],
    ),
    (
        "CapabilityBoundingSet=~CAP_SYS_TIME",
        "may set the system clock",
        3,
        &[25, 35],
    ),
    (
        "CapabilityBoundingSet=~CAP_(DAC_*|FOWNER|IPC_OWNER)",
        "may bypass file and IPC permissions",
        6,
        &[1, 2, 3, 15],
    ),
    (
        "CapabilityBoundingSet=~CAP_(SETUID|SETGID|SETPCAP)",
        "may change its user, groups and capabilities",
        6,
        &[6, 7, 8],
    ),
    (
        "CapabilityBoundingSet=~CAP_(CHOWN|FSETID|SETFCAP)",
        "may change file ownership and set-id bits",
        4,
        &[0, 4, 31],
    ),
    (
        "CapabilityBoundingSet=~CAP_(KILL|SYS_BOOT|SYS_NICE|SYS_RESOURCE)",
        "may signal any process, reboot, and exceed resource limits",
        3,
        &[5, 22, 23, 24],
    ),
    (
        "CapabilityBoundingSet=~CAP_(MKNOD|LINUX_IMMUTABLE|SYS_CHROOT)",
        "may make device nodes, change immutable files and chroot",
        3,
        &[27, 9, 18],
    ),
    (
        "CapabilityBoundingSet=~CAP_(BPF|PERFMON|SYSLOG|AUDIT_*|MAC_*)",
        "may load BPF programs, read kernel logs and change audit and MAC policy",
        4,
        &[39, 38, 34, 29, 30, 37, 32, 33],
    ),
];

/// System-call groups, each one check: (group, setting name, description, weight).
const SYSCALL_GROUPS: &[(&str, &str, &str, u32)] = &[
    (
        "@mount",
        "SystemCallFilter=~@mount",
        "may call mount(2) and friends",
        4,
    ),
    (
        "@module",
        "SystemCallFilter=~@module",
        "may load kernel modules",
        4,
    ),
    (
        "@reboot",
        "SystemCallFilter=~@reboot",
        "may reboot the kernel",
        3,
    ),
    (
        "@swap",
        "SystemCallFilter=~@swap",
        "may turn swap on and off",
        2,
    ),
    ("@raw-io", "SystemCallFilter=~@raw-io", "may do raw I/O", 3),
    ("@clock", "SystemCallFilter=~@clock", "may set the clock", 3),
    (
        "@debug",
        "SystemCallFilter=~@debug",
        "may trace other processes",
        3,
    ),
    (
        "@cpu-emulation",
        "SystemCallFilter=~@cpu-emulation",
        "may use CPU emulation calls",
        1,
    ),
    (
        "@obsolete",
        "SystemCallFilter=~@obsolete",
        "may use obsolete system calls",
        1,
    ),
    (
        "@privileged",
        "SystemCallFilter=~@privileged",
        "may call privileged system calls",
        4,
    ),
    (
        "@resources",
        "SystemCallFilter=~@resources",
        "may change resource limits and scheduling",
        2,
    ),
];

/// The checks of a unit with execution context `exec` in a container with `facts`.
pub fn assess(exec: &ExecContext, facts: &Facts) -> Assessment {
    let mut checks = Vec::new();
    let root_written =
        !exec.dynamic_user && matches!(exec.user.as_deref(), None | Some("root" | "0"));
    let root_here = root_written && facts.uid == 0;
    let not_root_here = (root_written && !root_here).then(|| {
        format!(
            "bosun runs as uid {}, so the service cannot be root",
            facts.uid
        )
    });
    checks.push(Check {
        name: "User=/DynamicUser=".into(),
        description: "runs as root".into(),
        weight: 10,
        written: exposure(root_written),
        here: exposure(root_here),
        why: not_root_here,
    });

    let no_new_privs_written = exec.privileges.no_new_privileges
        || super::privs::implies_no_new_privileges(exec) && !root_written;
    let no_new_privs_here = no_new_privs_written
        || super::privs::implies_no_new_privileges(exec)
            && (!root_here || facts.effective & bit(CAP_SYS_ADMIN) == 0);
    checks.push(Check {
        name: "NoNewPrivileges=".into(),
        description: "may gain privileges through set-user-id programs".into(),
        weight: 6,
        written: exposure(!no_new_privs_written),
        here: exposure(!no_new_privs_here),
        why: None,
    });

    capability_checks(exec, facts, (root_written, root_here), &mut checks);
    syscall_checks(exec, facts, &mut checks);
    let filtered = exec.syscall_filter.allow_list.is_some()
        || exec.restrict_realtime
        || exec.memory_deny_write_execute;
    let seccomp = |asked: bool, name: &str, description: &str, weight| Check {
        name: name.into(),
        description: description.into(),
        weight,
        written: exposure(!asked),
        here: exposure(!(asked && facts.seccomp)),
        why: (asked && !facts.seccomp).then(|| "the kernel takes no seccomp filter".to_owned()),
    };
    checks.push(seccomp(
        exec.syscall_native_only || filtered,
        "SystemCallArchitectures=",
        "may call the kernel through another architecture's ABI",
        3,
    ));
    checks.push(seccomp(
        exec.memory_deny_write_execute,
        "MemoryDenyWriteExecute=",
        "may make writable memory executable",
        3,
    ));
    checks.push(seccomp(
        exec.restrict_realtime,
        "RestrictRealtime=",
        "may take realtime scheduling and starve the rest",
        2,
    ));
    for (asked, name, description, weight) in [
        (
            exec.restrict_suid_sgid,
            "RestrictSUIDSGID=",
            "may make set-user-id and set-group-id files",
            3,
        ),
        (
            exec.lock_personality,
            "LockPersonality=",
            "may change its execution domain",
            1,
        ),
        (exec.protect_clock, "ProtectClock=", "may set the clocks", 2),
        (
            exec.protect_kernel_modules,
            "ProtectKernelModules=",
            "may load and unload kernel modules",
            3,
        ),
        (
            exec.protect_kernel_logs,
            "ProtectKernelLogs=",
            "may read and clear the kernel log",
            2,
        ),
        (
            exec.protect_hostname,
            "ProtectHostname=",
            "may change the host name",
            1,
        ),
    ] {
        checks.push(seccomp(asked, name, description, weight));
    }
    // RestrictAddressFamilies=: which families socket(2) still opens.
    let families = &exec.address_families;
    let may_open = |family: u8| {
        !families.restricts()
            || families
                .families
                .as_ref()
                .is_some_and(|f| f.contains(&family))
                == families.allow_list
    };
    let exotic = (0..crate::unit::restrict::FAMILY_MAX)
        .filter(|f| ![0, 1, 2, 10, 16, 17].contains(f))
        .any(may_open);
    for (open, name, description, weight) in [
        (
            may_open(17),
            "RestrictAddressFamilies=~AF_PACKET",
            "may open packet sockets",
            3,
        ),
        (
            may_open(16),
            "RestrictAddressFamilies=~AF_NETLINK",
            "may open netlink sockets to the kernel",
            2,
        ),
        (
            exotic,
            "RestrictAddressFamilies=~AF_…",
            "may open sockets of rarely used families",
            2,
        ),
    ] {
        checks.push(seccomp(!open, name, description, weight));
    }
    // RestrictNamespaces=: which namespaces unshare(2), clone(2) and setns(2) still make.
    let retained = exec
        .restrict_namespaces
        .unwrap_or(crate::unit::restrict::ALL_NAMESPACES);
    let user = 0x1000_0000;
    checks.push(seccomp(
        retained & user == 0,
        "RestrictNamespaces=~user",
        "may make user namespaces",
        3,
    ));
    checks.push(seccomp(
        retained & !user == 0,
        "RestrictNamespaces=~(mnt|pid|net|ipc|uts|cgroup)",
        "may make other namespaces",
        3,
    ));
    namespace_checks(exec, facts, &mut checks);
    let mut notes = Vec::new();
    if let Some(asked) = exec.privileges.bounding_set
        && facts.bounding & !asked != 0
        && facts.effective & bit(CAP_SETPCAP) == 0
    {
        notes.push(
            "CapabilityBoundingSet= must shrink the bounding set, and the container lacks \
             CAP_SETPCAP: the unit fails with 218/CAPABILITIES"
                .to_owned(),
        );
    }
    Assessment { checks, notes }
}

fn exposure(exposed: bool) -> u8 {
    if exposed { 10 } else { 0 }
}

/// The checks a mount namespace answers: in force only where the container lets bosun make
/// one. Exposures are in tenths: ProtectSystem=full leaves /var and the rest writable.
fn namespace_checks(exec: &ExecContext, facts: &Facts, checks: &mut Vec<Check>) {
    use crate::unit::sandbox::{ProtectHome, ProtectProc, ProtectSystem};
    let n = &exec.namespace;
    let system = match n.protect_system {
        ProtectSystem::Strict => 0,
        ProtectSystem::Full => 3,
        ProtectSystem::Yes => 5,
        ProtectSystem::No => 10,
    };
    let home = match n.protect_home {
        ProtectHome::Yes | ProtectHome::Tmpfs => 0,
        ProtectHome::ReadOnly => 5,
        ProtectHome::No => 10,
    };
    let user_change = "bosun makes mount namespaces inside a user namespace of its own ids, \
                       which a unit with User= or Group= cannot use"
        .to_owned();
    for (written, name, description, weight) in [
        (
            exposure(!n.private_tmp),
            "PrivateTmp=",
            "may see and change other services' temporary files",
            3,
        ),
        (
            system,
            "ProtectSystem=",
            "may change the operating system's files",
            5,
        ),
        (
            home,
            "ProtectHome=",
            "may read and change the users' home directories",
            4,
        ),
        (
            exposure(!n.private_devices),
            "PrivateDevices=",
            "may open the devices of /dev",
            3,
        ),
        (
            exposure(!n.protect_kernel_tunables),
            "ProtectKernelTunables=",
            "may change kernel settings in /proc/sys and /sys",
            3,
        ),
        (
            exposure(!n.protect_control_groups),
            "ProtectControlGroups=",
            "may change the control groups",
            2,
        ),
        (
            exposure(n.protect_proc == ProtectProc::Default),
            "ProtectProc=",
            "may see other users' processes",
            1,
        ),
        (
            exposure(!n.proc_subset_pid),
            "ProcSubset=",
            "may read the kernel's files in /proc",
            1,
        ),
    ] {
        let own_user_only = (facts.mount_namespace_own_user_only
            && (exec.user.is_some() || exec.group.is_some()))
        .then_some(&user_change);
        let why = facts.mount_namespace.as_ref().err().or(own_user_only);
        checks.push(Check {
            name: name.into(),
            description: description.into(),
            weight,
            written,
            here: if why.is_some() { 10 } else { written },
            why: why.filter(|_| written < 10).cloned(),
        });
    }
    for (asked, access, name, description, weight) in [
        (
            exec.private_users,
            &facts.user_namespace,
            "PrivateUsers=",
            "sees the container's users and groups as they are",
            2,
        ),
        (
            exec.private_network,
            &facts.network_namespace,
            "PrivateNetwork=",
            "may reach the network",
            3,
        ),
        (
            exec.private_ipc,
            &facts.ipc_namespace,
            "PrivateIPC=",
            "shares System V IPC and POSIX queues with other services",
            1,
        ),
    ] {
        let written = exposure(!asked);
        let why = access.as_ref().err();
        checks.push(Check {
            name: name.into(),
            description: description.into(),
            weight,
            written,
            here: if why.is_some() { 10 } else { written },
            why: why.filter(|_| written < 10).cloned(),
        });
    }
}

/// One check per capability group: exposed when the service could hold one of the group's
/// capabilities: root holds its bounding set; another user holds its ambient set, and the
/// bounding set too through set-user-id programs unless no_new_privs is set.
fn capability_checks(
    exec: &ExecContext,
    facts: &Facts,
    (root_written, root_here): (bool, bool),
    checks: &mut Vec<Check>,
) {
    let p = &exec.privileges;
    let bounding = p.bounding_set.unwrap_or(u64::MAX);
    let ambient = p.ambient.unwrap_or(0);
    let nnp = p.no_new_privileges || super::privs::implies_no_new_privileges(exec);
    let reach = |root: bool, bounding: u64| {
        if root || !nnp {
            bounding
        } else {
            ambient & bounding
        }
    };
    let written = reach(root_written, bounding);
    // Without CAP_SETPCAP a bounding set that must shrink fails the unit (218), so what it
    // keeps is never exceeded: the unit does not run at all.
    let here = reach(root_here, bounding & facts.bounding);
    for &(name, description, weight, caps) in CAPABILITIES {
        let mask = caps.iter().fold(0, |m, &c| m | bit(c));
        let (w, h) = (written & mask != 0, here & mask != 0);
        let why = (w && !h).then(|| {
            if facts.bounding & mask == 0 {
                "the container withholds it".to_owned()
            } else {
                format!("bosun runs as uid {}", facts.uid)
            }
        });
        checks.push(Check {
            name: name.into(),
            description: description.into(),
            weight,
            written: exposure(w),
            here: exposure(h),
            why,
        });
    }
    checks.push(Check {
        name: "AmbientCapabilities=".into(),
        description: "holds capabilities as a non-root user".into(),
        weight: 2,
        written: exposure(ambient & bounding != 0 && !root_written),
        here: exposure(ambient & bounding & facts.bounding != 0 && !root_here),
        why: None,
    });
}

/// One check per system-call group: protected when the filter refuses every call of the group
/// this architecture has.
fn syscall_checks(exec: &ExecContext, facts: &Facts, checks: &mut Vec<Check>) {
    let arch = Arch::native();
    let filter = &exec.syscall_filter;
    for &(group, name, description, weight) in SYSCALL_GROUPS {
        let calls = syscall::group(group).unwrap_or_default();
        let refused = |call: &&str| match filter.allow_list {
            None => false,
            Some(true) => !filter.names.contains_key(*call),
            Some(false) => filter.names.contains_key(*call),
        };
        let blocked = filter.allow_list.is_some()
            && calls
                .iter()
                .filter(|c| arch.is_none_or(|a| a.number(c).is_some()))
                .all(refused);
        checks.push(Check {
            name: name.into(),
            description: description.into(),
            weight,
            written: exposure(!blocked),
            here: exposure(!(blocked && facts.seccomp)),
            why: (blocked && !facts.seccomp)
                .then(|| "the kernel takes no seccomp filter".to_owned()),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit::model::ExecContext;

    fn facts(uid: u32, bounding: u64) -> Facts {
        Facts {
            uid,
            effective: bounding,
            bounding,
            seccomp: true,
            mount_namespace: Ok(()),
            mount_namespace_own_user_only: false,
            user_namespace: Ok(()),
            network_namespace: Ok(()),
            ipc_namespace: Ok(()),
        }
    }

    #[test]
    fn a_confined_unit_is_less_exposed_than_a_bare_one() {
        let bare = assess(&ExecContext::default(), &facts(0, u64::MAX));
        let mut exec = ExecContext {
            user: Some("redis".into()),
            ..Default::default()
        };
        exec.privileges.no_new_privileges = true;
        exec.privileges.bounding_set = Some(0);
        exec.memory_deny_write_execute = true;
        exec.syscall_filter.add_line("@system-service");
        let confined = assess(&exec, &facts(0, u64::MAX));
        assert!(bare.here() > 9.0, "{bare:?}");
        assert!(confined.here() < bare.here() / 2.0);
        assert_eq!(confined.here(), confined.written());
        let mount = confined
            .checks
            .iter()
            .find(|c| c.name == "SystemCallFilter=~@mount")
            .unwrap();
        assert_eq!((mount.written, mount.here), (0, 0));
    }

    #[test]
    fn what_the_container_withholds_counts_as_in_force_and_says_why() {
        // podman's default bounding set has neither CAP_SYS_ADMIN nor CAP_SYS_MODULE.
        let podman = (1 << 0) | (1 << 1) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7);
        let a = assess(&ExecContext::default(), &facts(0, podman));
        let admin = a
            .checks
            .iter()
            .find(|c| c.name == "CapabilityBoundingSet=~CAP_SYS_ADMIN")
            .unwrap();
        assert_eq!((admin.written, admin.here), (10, 0));
        assert_eq!(admin.why.as_deref(), Some("the container withholds it"));
        assert!(a.here() < a.written());
        // A protection this container adds is not one the unit lacks here.
        assert_eq!(a.not_in_force().count(), 0);
    }

    #[test]
    fn without_a_mount_namespace_its_protections_are_not_in_force_and_say_why() {
        let mut exec = ExecContext::default();
        exec.namespace.private_tmp = true;
        exec.namespace.protect_system = crate::unit::sandbox::ProtectSystem::Full;
        let mut f = facts(0, u64::MAX);
        let here = assess(&exec, &f);
        assert_eq!(here.not_in_force().count(), 0);
        f.mount_namespace = Err("a mount namespace needs CAP_SYS_ADMIN".into());
        let a = assess(&exec, &f);
        let missing: Vec<(&str, u8, u8)> = a
            .not_in_force()
            .map(|c| (c.name.as_str(), c.written, c.here))
            .collect();
        assert_eq!(missing, [("PrivateTmp=", 0, 10), ("ProtectSystem=", 3, 10)]);
        assert!(a.here() > here.here());
        let why = a.not_in_force().next().and_then(|c| c.why.clone());
        assert_eq!(
            why.as_deref(),
            Some("a mount namespace needs CAP_SYS_ADMIN")
        );
    }

    #[test]
    fn a_filter_without_seccomp_is_not_in_force() {
        let mut exec = ExecContext::default();
        exec.syscall_filter.add_line("~@mount");
        let mut f = facts(0, u64::MAX);
        f.seccomp = false;
        let a = assess(&exec, &f);
        let names: Vec<&str> = a.not_in_force().map(|c| c.name.as_str()).collect();
        assert!(names.contains(&"SystemCallFilter=~@mount"), "{names:?}");
        let mount = a.not_in_force().next().unwrap();
        assert_eq!(
            mount.why.as_deref(),
            Some("the kernel takes no seccomp filter")
        );
    }
}
