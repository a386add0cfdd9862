//! Linux capability names and numbers, as systemd 252 spells them (`systemd-analyze
//! capability`: `cap_chown` 0 to `cap_checkpoint_restore` 40). Names only: which capabilities
//! a process holds, and changing them, is the service layer's and sys.rs's business.

/// The capabilities systemd 252 knows by name, indexed by number.
pub const NAMES: [&str; 41] = [
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
];

/// The highest capability number a 64-bit mask can hold (systemd's CAP_LIMIT).
pub const LIMIT: u32 = 62;

pub const CAP_SETPCAP: u32 = 8;
pub const CAP_NET_BIND_SERVICE: u32 = 10;
pub const CAP_SYS_MODULE: u32 = 16;
pub const CAP_SYS_ADMIN: u32 = 21;
pub const CAP_SYS_TIME: u32 = 25;
pub const CAP_SYSLOG: u32 = 34;
pub const CAP_WAKE_ALARM: u32 = 35;

/// A capability's number from its name (any case, as cap_from_name(3) reads it) or from its
/// number (0 to [`LIMIT`]).
pub fn from_name(name: &str) -> Option<u32> {
    if let Ok(n) = name.parse::<u32>() {
        return (n <= LIMIT).then_some(n);
    }
    NAMES
        .iter()
        .position(|known| known.eq_ignore_ascii_case(name))
        .and_then(|i| u32::try_from(i).ok())
}

/// The mask bit of capability `n`.
pub fn bit(n: u32) -> u64 {
    1u64 << n
}

/// Every capability of a mask, by name (a number where systemd 252 has no name).
pub fn names(mask: u64) -> Vec<String> {
    (0..=LIMIT)
        .filter(|&n| mask & bit(n) != 0)
        .map(|n| {
            NAMES
                .get(n as usize)
                .map_or_else(|| n.to_string(), |s| (*s).to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(from_name("CAP_NET_BIND_SERVICE"), Some(10));
        assert_eq!(from_name("cap_checkpoint_restore"), Some(40));
        assert_eq!(from_name("12"), Some(12));
        assert_eq!(from_name("63"), None);
        assert_eq!(from_name("CAP_NOPE"), None);
        assert_eq!(names(bit(0) | bit(21)), ["cap_chown", "cap_sys_admin"]);
        for (n, name) in [
            (CAP_SYS_MODULE, "cap_sys_module"),
            (CAP_SYS_TIME, "cap_sys_time"),
            (CAP_SYSLOG, "cap_syslog"),
            (CAP_WAKE_ALARM, "cap_wake_alarm"),
        ] {
            assert_eq!(from_name(name), Some(n));
        }
    }
}
