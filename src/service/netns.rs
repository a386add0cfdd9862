//! PrivateNetwork= and PrivateIPC= (systemd.exec(5)): the service gets a network namespace
//! with only a loopback device (up), and an IPC namespace of its own. Both need CAP_SYS_ADMIN;
//! probed once per boot in a forked child (PID 1 never unshares itself). Where the runtime
//! refuses them the unit starts without, as systemd 252 starts it ("PrivateNetwork=yes is
//! configured, but network namespace setup failed, ignoring"), and bosun says so at boot with
//! the rest of what is not in force. `crate::sys` unshares them in the child.

use std::sync::OnceLock;

use crate::unit::model::ExecContext;

/// Which of CLONE_NEWNET and CLONE_NEWIPC this container lets bosun make (a mask), and why
/// not for those it refuses.
fn probe() -> &'static (libc::c_int, Option<String>) {
    static PROBE: OnceLock<(libc::c_int, Option<String>)> = OnceLock::new();
    PROBE.get_or_init(|| {
        let mut allowed = 0;
        let mut why = None;
        for flag in [libc::CLONE_NEWNET, libc::CLONE_NEWIPC] {
            let flags = nix::sched::CloneFlags::from_bits_retain(flag);
            let code = crate::sys::run_forked(&|| match nix::sched::unshare(flags) {
                Ok(()) => 0,
                Err(e) => (e as i32).clamp(1, 125),
            });
            match code {
                Ok(0) => allowed |= flag,
                Ok(errno) => {
                    why.get_or_insert(format!(
                        "unshare(): {}: a network or IPC namespace needs CAP_SYS_ADMIN: podman \
                         run --cap-add SYS_ADMIN",
                        nix::errno::Errno::from_raw(errno).desc()
                    ));
                }
                Err(e) => {
                    why.get_or_insert(format!("cannot fork the probe: {e}"));
                }
            }
        }
        (allowed, why)
    })
}

/// The namespaces `exec` asks for, as CLONE_* flags.
fn asked(exec: &ExecContext) -> libc::c_int {
    let mut flags = 0;
    if exec.private_network {
        flags |= libc::CLONE_NEWNET;
    }
    if exec.private_ipc {
        flags |= libc::CLONE_NEWIPC;
    }
    flags
}

/// The flags a child of `exec` unshares (those the container allows); 0 for none.
pub fn plan(exec: &ExecContext) -> libc::c_int {
    let asked = asked(exec);
    if asked == 0 {
        return 0;
    }
    asked & probe().0
}

/// Whether PrivateNetwork= (`network`) or PrivateIPC= can be had here: Ok, or why not.
pub fn access(network: bool) -> Result<(), String> {
    let flag = if network {
        libc::CLONE_NEWNET
    } else {
        libc::CLONE_NEWIPC
    };
    let (allowed, why) = probe();
    match allowed & flag {
        0 => Err(why.clone().unwrap_or_default()),
        _ => Ok(()),
    }
}

/// The boot report's words for what `exec` asks of this module and cannot have here.
pub fn not_in_force(exec: &ExecContext) -> Option<String> {
    let missing = asked(exec) & !probe().0;
    if missing == 0 {
        return None;
    }
    let mut names = Vec::new();
    if missing & libc::CLONE_NEWNET != 0 {
        names.push("PrivateNetwork");
    }
    if missing & libc::CLONE_NEWIPC != 0 {
        names.push("PrivateIPC");
    }
    let why = probe().1.clone().unwrap_or_default();
    Some(format!("{} ({why})", names.join(", ")))
}
