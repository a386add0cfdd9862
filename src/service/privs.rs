//! From a unit's privilege directives (NoNewPrivileges=, CapabilityBoundingSet=,
//! AmbientCapabilities=, SecureBits=) to the steps its child takes ([`crate::sys::Privileges`]),
//! prepared in the parent as systemd 252 would take them, and bosun's own capability sets as
//! /proc/self/status shows them. Applying the steps is sys.rs's; this module makes no system
//! call beyond reading /proc.

use std::fs;

use crate::sys::Privileges;
use crate::unit::model::ExecContext;
use crate::unit::restrict::ALL_NAMESPACES;
use crate::vocab::capability::{self, CAP_SYS_ADMIN, bit};

/// One of bosun's capability sets (`CapEff`, `CapBnd`, `CapInh`, ...) as a bit mask, from
/// /proc/self/status; 0 if unreadable.
pub fn own_capabilities(field: &str) -> u64 {
    own_sets(&[field])[0]
}

/// The capability sets of /proc/self/status bosun reads.
const SETS: [&str; 5] = ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"];

/// Several of bosun's capability sets, in `fields` order (each one of [`SETS`]). Read once
/// from /proc/self/status: bosun never changes its own sets (its children change theirs after
/// the fork), and PID 1 asks at every spawn.
fn own_sets<const N: usize>(fields: &[&str; N]) -> [u64; N] {
    static OWN: std::sync::OnceLock<[u64; 5]> = std::sync::OnceLock::new();
    let own = OWN.get_or_init(|| {
        let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
        SETS.map(|field| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
                .unwrap_or(0)
        })
    });
    fields.map(|field| SETS.iter().position(|s| *s == field).map_or(0, |i| own[i]))
}

/// Every capability the running kernel knows (0 to /proc/sys/kernel/cap_last_cap; read once).
pub fn kernel_capabilities() -> u64 {
    static KNOWN: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *KNOWN.get_or_init(|| {
        let last = fs::read_to_string("/proc/sys/kernel/cap_last_cap")
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .unwrap_or(40)
            .min(capability::LIMIT);
        (bit(last) << 1) - 1
    })
}

/// Whether the directives that imply NoNewPrivileges=yes in systemd 252 are set. The manual
/// (systemd.exec(5), NoNewPrivileges=) names SystemCallFilter=, SystemCallArchitectures=,
/// RestrictAddressFamilies=, RestrictNamespaces=, PrivateDevices=, ProtectKernelTunables=,
/// ProtectKernelModules=, ProtectKernelLogs=, ProtectClock=, MemoryDenyWriteExecute=,
/// RestrictRealtime=, RestrictSUIDSGID=, DynamicUser= and LockPersonality=; they imply it only
/// for a process without CAP_SYS_ADMIN (see [`no_new_privileges`]). PrivateDevices= and
/// ProtectKernelTunables= are the mount namespace's (issue 21) and must be added here when
/// they are enforced.
pub fn implies_no_new_privileges(exec: &ExecContext) -> bool {
    exec.dynamic_user
        || exec.syscall_filter.allow_list.is_some()
        || exec.syscall_native_only
        || exec.address_families.restricts()
        || exec
            .restrict_namespaces
            .is_some_and(|r| r & ALL_NAMESPACES != ALL_NAMESPACES)
        || exec.protect_kernel_modules
        || exec.protect_kernel_logs
        || exec.protect_clock
        || exec.memory_deny_write_execute
        || exec.restrict_realtime
        || exec.restrict_suid_sgid
        || exec.lock_personality
}

/// The capabilities systemd 252 takes out of a unit's bounding set for its protections
/// (unit_patch_contexts()): CAP_SYS_TIME and CAP_WAKE_ALARM for ProtectClock=,
/// CAP_SYS_MODULE for ProtectKernelModules=, CAP_SYSLOG for ProtectKernelLogs=. They are cut
/// as CapabilityBoundingSet= cuts, so without CAP_SETPCAP a held one fails the start with
/// 218/CAPABILITIES, as in 252.
pub fn implied_bounding_drop(exec: &ExecContext) -> u64 {
    let mut drop = 0;
    if exec.protect_clock {
        drop |= bit(capability::CAP_SYS_TIME) | bit(capability::CAP_WAKE_ALARM);
    }
    if exec.protect_kernel_modules {
        drop |= bit(capability::CAP_SYS_MODULE);
    }
    if exec.protect_kernel_logs {
        drop |= bit(capability::CAP_SYSLOG);
    }
    drop
}

/// Whether the child sets no_new_privs: NoNewPrivileges=yes, or a directive that implies it
/// while the process will lack CAP_SYS_ADMIN after its uid change (a non-root User= has no
/// effective capability left; root keeps bosun's).
pub fn no_new_privileges(exec: &ExecContext, new_uid: Option<u32>, effective: u64) -> bool {
    let admin = match new_uid {
        Some(uid) if uid != 0 => false,
        _ => effective & bit(CAP_SYS_ADMIN) != 0,
    };
    exec.privileges.no_new_privileges || (implies_no_new_privileges(exec) && !admin)
}

/// The privilege steps of a child of `exec` that changes to `new_uid` (None: no uid change,
/// as with no User= or the `!` prefix), entering a user namespace first when `userns`
/// (PrivateUsers=). None when the child takes none (nothing asked, and nothing to undo).
pub fn plan(exec: &ExecContext, new_uid: Option<u32>, userns: bool) -> Option<Privileges> {
    let p = &exec.privileges;
    // Nothing asked: nothing to read or do (no cost for the common unit).
    let implied_drop = implied_bounding_drop(exec);
    if *p == crate::unit::model::Privileges::default()
        && !implies_no_new_privileges(exec)
        && implied_drop == 0
        && !userns
    {
        return None;
    }
    let known = kernel_capabilities();
    let [own_bounding, own_inheritable, effective] = own_sets(&["CapBnd", "CapInh", "CapEff"]);
    // A new user namespace starts with every capability in its bounding set and none
    // inheritable: what the container withholds is taken out again there, so the service
    // never holds more than the container grants, even inside its namespace.
    let (bounding, inheritable, container_drop) = match userns {
        true => (known, 0, known & !own_bounding),
        false => (own_bounding, own_inheritable, 0),
    };
    // Capabilities the kernel does not know are ignored; those not in bosun's bounding set
    // are already gone (252 tolerates a failed drop of one it does not hold).
    let bounding_drop = p.bounding_set.map_or(0, |keep| bounding & known & !keep)
        | (bounding & implied_drop)
        | container_drop;
    // An ambient capability outside the bounding set left after the cut is left out (with
    // a debug message only), as systemd does since v246 (capability_ambient_set_apply():
    // systemd pull request 15959): a container without CAP_IPC_LOCK still starts mariadb's
    // unit (AmbientCapabilities=CAP_IPC_LOCK).
    let ambient = p.ambient.unwrap_or(0) & known & bounding & !bounding_drop;
    let new_inheritable = (inheritable & !bounding_drop) | ambient;
    let keep_caps = ambient != 0 && new_uid.is_some_and(|uid| uid != 0);
    let steps = Privileges {
        bounding_drop,
        inheritable: (new_inheritable != inheritable).then_some(new_inheritable),
        ambient,
        keep_caps,
        // 252 keeps keep-caps in the bits it sets when it raised it for the ambient set.
        secure_bits: p.secure_bits.unwrap_or(0) | if keep_caps { 1 << 4 } else { 0 },
        no_new_privs: no_new_privileges(exec, new_uid, effective),
    };
    (steps != Privileges::default()).then_some(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_asked_nothing_done() {
        assert_eq!(plan(&ExecContext::default(), Some(65534), false), None);
    }

    #[test]
    fn no_new_privileges_implied_only_without_cap_sys_admin() {
        let mut exec = ExecContext::default();
        assert!(!no_new_privileges(&exec, None, u64::MAX));
        exec.dynamic_user = true;
        assert!(!no_new_privileges(&exec, None, u64::MAX));
        assert!(!no_new_privileges(&exec, Some(0), bit(CAP_SYS_ADMIN)));
        assert!(no_new_privileges(&exec, None, 0));
        assert!(no_new_privileges(&exec, Some(65534), u64::MAX));
        exec.dynamic_user = false;
        exec.privileges.no_new_privileges = true;
        assert!(no_new_privileges(&exec, None, u64::MAX));
    }

    #[test]
    fn ambient_for_a_user_keeps_caps() {
        let mut exec = ExecContext::default();
        exec.privileges.ambient = Some(bit(capability::CAP_NET_BIND_SERVICE));
        let steps = plan(&exec, Some(65534), false).unwrap_or_default();
        assert_eq!(steps.ambient, bit(capability::CAP_NET_BIND_SERVICE));
        assert!(steps.keep_caps);
        assert_eq!(steps.secure_bits, 1 << 4);
        let root = plan(&exec, None, false).unwrap_or_default();
        assert!(!root.keep_caps);
        assert_eq!(root.secure_bits, 0);
    }

    #[test]
    fn protections_cut_their_capabilities_and_imply_no_new_privileges() {
        let exec = ExecContext {
            protect_clock: true,
            protect_kernel_modules: true,
            protect_kernel_logs: true,
            ..ExecContext::default()
        };
        let steps = plan(&exec, None, false).unwrap_or_default();
        let wanted = bit(capability::CAP_SYS_TIME)
            | bit(capability::CAP_WAKE_ALARM)
            | bit(capability::CAP_SYS_MODULE)
            | bit(capability::CAP_SYSLOG);
        assert_eq!(steps.bounding_drop, wanted & own_capabilities("CapBnd"));
        assert!(implies_no_new_privileges(&exec));
        // RestrictNamespaces=no restricts nothing, and implies nothing.
        let namespaces = |r| ExecContext {
            restrict_namespaces: Some(r),
            ..ExecContext::default()
        };
        assert!(!implies_no_new_privileges(&namespaces(ALL_NAMESPACES)));
        assert!(implies_no_new_privileges(&namespaces(0)));
        let hostname = ExecContext {
            protect_hostname: true,
            ..ExecContext::default()
        };
        assert!(
            !implies_no_new_privileges(&hostname),
            "not in the manual's list"
        );
    }

    #[test]
    fn bounding_set_drops_only_what_is_held_and_known() {
        let mut exec = ExecContext::default();
        exec.privileges.bounding_set = Some(bit(0));
        let steps = plan(&exec, None, false).unwrap_or_default();
        let held = own_capabilities("CapBnd") & kernel_capabilities();
        assert_eq!(steps.bounding_drop, held & !bit(0));
        assert_eq!(steps.bounding_drop & !kernel_capabilities(), 0);
    }
}
