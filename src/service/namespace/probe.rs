//! Whether this container lets bosun make a mount namespace (probed once per boot, in a
//! forked child: PID 1 never unshares itself), what a unit asks for of this module, and the
//! boot report's words for what is not in force. Reads only; mounts nothing that outlives the
//! probe's child.

use std::ffi::CString;
use std::path::Path;
use std::sync::OnceLock;

use super::{Plan, STAGING, Step, Table, enter, prepare_dirs};
use crate::unit::model::ExecContext;
use crate::unit::sandbox::{Propagation, ProtectHome, ProtectProc, ProtectSystem};
use nix::mount::MsFlags;

/// The directives of this module `exec` asks for, by name, and whether each only takes
/// something away (a unit asking only for those starts without them where no namespace can be
/// made, as systemd 252 does unless insist_on_sandboxing()).
pub(super) fn asked(exec: &ExecContext) -> Vec<(&'static str, bool)> {
    let n = &exec.namespace;
    let mut out = Vec::new();
    let mut add = |on: bool, name, takes_away| {
        if on {
            out.push((name, takes_away));
        }
    };
    add(n.private_tmp, "PrivateTmp", true);
    add(n.protect_system != ProtectSystem::No, "ProtectSystem", true);
    add(n.protect_home != ProtectHome::No, "ProtectHome", true);
    add(!n.read_write.is_empty(), "ReadWritePaths", true);
    add(!n.read_only.is_empty(), "ReadOnlyPaths", true);
    add(!n.inaccessible.is_empty(), "InaccessiblePaths", true);
    // A bind that does not map a path onto itself changes what the service sees.
    for (name, read_only) in [("BindPaths", false), ("BindReadOnlyPaths", true)] {
        let mut binds = n.binds.iter().filter(|b| b.read_only == read_only);
        let first = binds.next();
        let changes = first
            .into_iter()
            .chain(binds)
            .any(|b| b.source != b.destination);
        add(first.is_some(), name, !changes);
    }
    add(n.private_devices, "PrivateDevices", true);
    add(!n.temporary.is_empty(), "TemporaryFileSystem", false);
    add(!n.exec.is_empty(), "ExecPaths", true);
    add(!n.no_exec.is_empty(), "NoExecPaths", true);
    add(n.private_mounts, "PrivateMounts", true);
    add(
        matches!(
            n.mount_flags,
            Some(Propagation::Slave | Propagation::Private)
        ),
        "MountFlags",
        true,
    );
    add(n.protect_kernel_tunables, "ProtectKernelTunables", true);
    add(n.protect_control_groups, "ProtectControlGroups", true);
    // The mount halves of these (their system-call and capability halves need no namespace).
    add(exec.protect_kernel_modules, "ProtectKernelModules", true);
    add(exec.protect_kernel_logs, "ProtectKernelLogs", true);
    add(exec.protect_hostname, "ProtectHostname", true);
    add(n.protect_proc != ProtectProc::Default, "ProtectProc", true);
    add(n.proc_subset_pid, "ProcSubset", true);
    out
}

/// How this container lets bosun make a mount namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// unshare(CLONE_NEWNS) as it is.
    Direct,
    /// Inside a new user namespace that maps only bosun's own uid and gid (bosun runs as
    /// another user than root and lacks CAP_SYS_ADMIN, as systemd's user managers do).
    UserNamespace,
}

/// What the runtime says about mount namespaces, probed once: how one can be made, or why
/// not (with what the runtime would have to grant).
pub fn probe(root: &Path) -> &'static Result<Access, String> {
    static PROBE: OnceLock<Result<Access, String>> = OnceLock::new();
    PROBE.get_or_init(|| run_probe(root))
}

/// How `exec`'s commands get their namespace: `Ok(Some(maps))` through a user namespace
/// (the uid_map and gid_map lines to write), `Ok(None)` directly, or why they cannot.
pub(super) fn access_for(
    exec: &ExecContext,
    root: &Path,
) -> Result<Option<(CString, CString)>, String> {
    match probe(root) {
        Ok(Access::Direct) => Ok(None),
        Ok(Access::UserNamespace) if exec.user.is_none() && exec.group.is_none() => {
            let own = |id: u32| CString::new(format!("{id} {id} 1\n")).unwrap_or_default();
            let (uid, gid) = (nix::unistd::geteuid(), nix::unistd::getegid());
            Ok(Some((own(uid.as_raw()), own(gid.as_raw()))))
        }
        Ok(Access::UserNamespace) => Err("a user namespace would map only bosun's own uid, and \
             the unit asks for User=/Group=; a mount namespace for it needs CAP_SYS_ADMIN"
            .to_owned()),
        Err(why) => Err(why.clone()),
    }
}

/// The probe's child: `plan`'s exit code is the failed step (0 to 3) times 64 plus the
/// errno (capped), 0 when every step worked.
fn try_plan(plan: &Plan) -> Result<i32, String> {
    crate::sys::run_forked(&|| match plan.apply() {
        Ok(()) => 0,
        Err(e) => {
            let raw = e.raw_os_error().unwrap_or(0);
            (((raw >> 8) & 0xff) - 1).clamp(0, 3) * 64 + (raw & 0xff).min(63)
        }
    })
    .map_err(|e| format!("cannot fork the probe: {e}"))
}

fn run_probe(root: &Path) -> Result<Access, String> {
    let staging = prepare_dirs(root).map_err(|e| format!("cannot create {STAGING}: {e}"))?;
    let table = Table::read();
    let attempt = |maps: Option<(CString, CString)>| {
        let mut plan = Plan::default();
        enter(&mut plan, &table, &staging, false, maps);
        let flags = table.flags_at(Path::new("/")) | MsFlags::MS_RDONLY;
        let target = super::cstring(&staging);
        plan.push(Step::Remount { target, flags }, "");
        try_plan(&plan)
    };
    let code = attempt(None)?;
    if code == 0 {
        return Ok(Access::Direct);
    }
    let (uid, gid) = (nix::unistd::geteuid(), nix::unistd::getegid());
    if code / 64 == 0 && !uid.is_root() {
        let own = |id: u32| CString::new(format!("{id} {id} 1\n")).unwrap_or_default();
        if attempt(Some((own(uid.as_raw()), own(gid.as_raw()))))? == 0 {
            return Ok(Access::UserNamespace);
        }
    }
    let errno = nix::errno::Errno::from_raw(code % 64);
    let admin = crate::service::privs::own_capabilities("CapEff")
        & crate::vocab::capability::bit(crate::vocab::capability::CAP_SYS_ADMIN)
        != 0;
    Err(match (code / 64, admin) {
        (0, false) => format!(
            "unshare(CLONE_NEWNS): {}: a mount namespace needs CAP_SYS_ADMIN: podman run \
             --cap-add SYS_ADMIN, or docker run --cap-add SYS_ADMIN --security-opt \
             apparmor=unconfined",
            errno.desc()
        ),
        (0, true) => format!(
            "unshare(CLONE_NEWNS): {}, though bosun has CAP_SYS_ADMIN: the runtime's seccomp \
             profile refuses it (--security-opt seccomp=unconfined)",
            errno.desc()
        ),
        _ => format!(
            "mount(2) in a new namespace: {}: the runtime refuses mounts (an AppArmor or SELinux \
             profile: --security-opt apparmor=unconfined)",
            errno.desc()
        ),
    })
}

/// Whether bosun's `/` is its mount namespace's own root, not a chroot inside it (a container
/// started with `chroot` into its root, even when that root is a mount point). A run that joins
/// a kept namespace with setns(2) lands at the namespace's root, where the staged tree is only
/// when the two are the same; else every run makes its own namespace. Told once, by a forked
/// child that joins its own namespace (which moves it to the namespace's root) and compares
/// `/` before and after; false when it cannot tell.
pub(super) fn root_is_namespace_root() -> bool {
    static SAME: OnceLock<bool> = OnceLock::new();
    *SAME.get_or_init(|| {
        let Ok(own) = std::fs::File::open("/proc/self/ns/mnt") else {
            return false;
        };
        let own = std::os::fd::OwnedFd::from(own);
        let Ok(before) = nix::sys::stat::stat(c"/") else {
            return false;
        };
        // The child: 0 when `/` is the same file after the join, 1 when not, 2 when it could
        // not join (no CAP_SYS_ADMIN or CAP_SYS_CHROOT: no kept namespace could be joined
        // either).
        let code = crate::sys::run_forked(&|| {
            if crate::sys::join_mount_namespace(&own).is_err() {
                return 2;
            }
            match nix::sys::stat::stat(c"/") {
                Ok(after) if after.st_dev == before.st_dev && after.st_ino == before.st_ino => 0,
                _ => 1,
            }
        });
        code.is_ok_and(|c| c == 0)
    })
}

/// Which of the directives of this module `exec` asks for, and whether each is in force in
/// this container (the probe's answer), for `bosun verify --security` and the boot report.
/// Probes on first use (a forked child).
pub fn protections(exec: &ExecContext, root: &Path) -> Vec<(&'static str, bool)> {
    let asked = asked(exec);
    if asked.is_empty() {
        return Vec::new();
    }
    let ok = access_for(exec, root).is_ok();
    asked.into_iter().map(|(name, _)| (name, ok)).collect()
}

/// The boot report's line for a unit (None when nothing is out of force): the directives
/// not in force and why.
pub fn not_in_force(exec: &ExecContext, root: &Path) -> Option<String> {
    let asked = asked(exec);
    if asked.is_empty() {
        return None;
    }
    let why = access_for(exec, root).err()?;
    let names = |takes_away: bool| -> Vec<&str> {
        let named = asked.iter().filter(|(_, t)| *t == takes_away);
        named.map(|(n, _)| *n).collect()
    };
    let (skipped, fatal) = (names(true), names(false));
    let mut line = skipped.join(", ");
    if !fatal.is_empty() {
        // These change what the service sees: its commands fail (226/NAMESPACE) instead.
        let sep = if line.is_empty() { "" } else { "; " };
        line = format!(
            "{line}{sep}{} (its commands fail with 226/NAMESPACE)",
            fatal.join(", ")
        );
    }
    Some(format!("{line} ({why})"))
}
