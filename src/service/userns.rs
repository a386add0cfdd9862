//! PrivateUsers= (systemd.exec(5)): the service runs in a user namespace of its own where only
//! root and the unit's own user and group are mapped (to themselves); every other id shows as
//! the overflow user, `nobody`. Probed once per boot in a forked child (PID 1 never unshares
//! itself); where the runtime refuses user namespaces (a chroot, a seccomp profile, a sysctl),
//! the unit starts without one and bosun says so at boot, as for the mount sandbox. The maps
//! are prepared here; `crate::sys` enters the namespace in the child.
//!
//! A user namespace holds nothing of a run but its mapping, so PID 1 makes one per distinct
//! mapping and keeps it ([`entry`]): a child joins it with setns(2) instead of forking a helper
//! that writes the maps while the child waits for it (0.2 ms of a start, BENCHMARKS.md).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::sys::{UserMaps, UserNs};

/// The most namespaces kept (one per mapping: a unit's user and group; a bound against a
/// stream of transient users).
const KEPT_MAX: usize = 64;

thread_local! {
    static KEPT: RefCell<HashMap<UserMaps, Arc<std::os::fd::OwnedFd>>> = RefCell::default();
}

/// How a child enters a namespace with `maps`: the kept one, made now if it is the first;
/// where none can be made here, a new one of its own (the helper writes the maps).
pub fn entry(maps: UserMaps) -> UserNs {
    KEPT.with_borrow_mut(|kept| {
        if let Some(fd) = kept.get(&maps) {
            return UserNs::Join(Arc::clone(fd));
        }
        match crate::sys::make_user_namespace(&maps) {
            Ok(fd) => {
                if kept.len() >= KEPT_MAX {
                    kept.clear();
                }
                let fd = Arc::new(fd);
                kept.insert(maps, Arc::clone(&fd));
                UserNs::Join(fd)
            }
            Err(_) => UserNs::Maps(maps),
        }
    })
}
use crate::unit::model::ExecContext;

/// Whether this container lets bosun make a user namespace: Ok, or why not. A bosun that
/// is not root cannot map root into one (its units then keep the container's users; its
/// mount sandbox may still use a namespace of its own ids, see `service::namespace`).
pub fn probe() -> &'static Result<(), String> {
    static PROBE: OnceLock<Result<(), String>> = OnceLock::new();
    PROBE.get_or_init(|| {
        let uid = nix::unistd::geteuid().as_raw();
        if uid != 0 {
            return Err(format!(
                "bosun runs as uid {uid}: mapping root into a user namespace needs root"
            ));
        }
        let code = crate::sys::run_forked(&|| match nix::sched::unshare(
            nix::sched::CloneFlags::CLONE_NEWUSER,
        ) {
            Ok(()) => 0,
            Err(e) => (e as i32).clamp(1, 125),
        })
        .map_err(|e| format!("cannot fork the probe: {e}"))?;
        match code {
            0 => Ok(()),
            errno => Err(format!(
                "unshare(CLONE_NEWUSER): {}: the runtime refuses user namespaces (a seccomp \
                 profile without CAP_SYS_ADMIN: podman run --cap-add SYS_ADMIN; a chroot; or \
                 user.max_user_namespaces=0)",
                nix::errno::Errno::from_raw(errno).desc()
            )),
        }
    })
}

/// The boot report's words for a unit asking for PrivateUsers= where it cannot be had.
pub fn not_in_force(exec: &ExecContext) -> Option<String> {
    let why = probe().as_ref().err().filter(|_| exec.private_users)?;
    Some(format!("PrivateUsers ({why})"))
}

/// The maps of a child of `exec` that switches to `ids` (uid, gid; None: stays root). None
/// when PrivateUsers= is not asked, or cannot be had here (then it was reported at boot).
pub fn plan(exec: &ExecContext, ids: Option<(u32, u32)>) -> Option<UserMaps> {
    if !exec.private_users || probe().is_err() {
        return None;
    }
    let map = |id: Option<u32>| {
        let mut text = String::from("0 0 1\n");
        if let Some(id) = id.filter(|&id| id != 0) {
            text.push_str(&format!("{id} {id} 1\n"));
        }
        text.into_bytes()
    };
    Some(UserMaps {
        uid_map: map(ids.map(|(uid, _)| uid)),
        gid_map: map(ids.map(|(_, gid)| gid)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_the_units_own_ids_are_mapped() {
        let exec = ExecContext {
            private_users: true,
            ..Default::default()
        };
        if probe().is_err() {
            eprintln!("SKIP: no user namespaces here: {:?}", probe());
            return;
        }
        let maps = plan(&exec, Some((101, 103))).unwrap();
        assert_eq!(maps.uid_map, b"0 0 1\n101 101 1\n");
        assert_eq!(maps.gid_map, b"0 0 1\n103 103 1\n");
        let root = plan(&exec, None).unwrap();
        assert_eq!(root.uid_map, b"0 0 1\n");
        assert!(plan(&ExecContext::default(), None).is_none());
    }
}
