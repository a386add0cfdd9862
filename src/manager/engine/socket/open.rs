//! Opening a socket unit's listening sockets and FIFOs (systemd.socket(5) Listen*=, with
//! SocketUser=/SocketGroup= and SocketMode=), all or none. Knows nothing of the engine or of
//! jobs: it returns the descriptors or says which line failed.

use std::os::fd::OwnedFd;

use crate::service::listen;
use crate::unit::model::SocketSection;

/// Open every line; on any failure close what was opened and say which line failed.
pub(super) fn open_all(
    unit: &str,
    section: &SocketSection,
    root: &std::path::Path,
) -> Result<Vec<OwnedFd>, String> {
    if let Some((key, value)) = section.unsupported_listen.first() {
        return Err(format!(
            "{unit}: {key}={value}: bosun opens stream, datagram, sequential-packet and FIFO \
             sockets only"
        ));
    }
    for (key, list) in [
        ("ExecStartPre", &section.exec_start_pre),
        ("ExecStartPost", &section.exec_start_post),
        ("ExecStopPre", &section.exec_stop_pre),
        ("ExecStopPost", &section.exec_stop_post),
    ] {
        if !list.is_empty() {
            return Err(format!(
                "{unit}: {key}= in a socket unit is not run by bosun; refusing to start the \
                 socket without it (move the command into the service, or override the socket \
                 with a drop-in that sets {key}= to empty)"
            ));
        }
    }
    if section.listen.is_empty() {
        return Err(format!("{unit}: the unit has no Listen*= line"));
    }
    let owner = resolve_owner(section).map_err(|e| format!("{unit}: {e}"))?;
    let mut fds = Vec::with_capacity(section.listen.len());
    for l in &section.listen {
        match listen::open(l, section, root, owner) {
            Ok(fd) => fds.push(fd),
            Err(e) => {
                drop(fds);
                return Err(format!(
                    "{unit}: Failed to create listening socket ({}): {}",
                    listen::address_text(&l.address),
                    crate::manager::engine::error_chain(&e)
                ));
            }
        }
    }
    Ok(fds)
}

/// SocketUser= and SocketGroup= as ids (numbers, or names looked up).
fn resolve_owner(section: &SocketSection) -> Result<(Option<u32>, Option<u32>), String> {
    fn id(
        key: &str,
        value: Option<&String>,
        lookup: impl Fn(&str) -> Option<u32>,
    ) -> Result<Option<u32>, String> {
        let Some(v) = value else { return Ok(None) };
        v.parse::<u32>()
            .ok()
            .or_else(|| lookup(v))
            .map(Some)
            .ok_or_else(|| {
                format!(
                    "{key}={v}: no such {}",
                    key.trim_start_matches("Socket").to_lowercase()
                )
            })
    }
    let uid = id("SocketUser", section.socket_user.as_ref(), |u| {
        nix::unistd::User::from_name(u)
            .ok()
            .flatten()
            .map(|x| x.uid.as_raw())
    })?;
    let gid = id("SocketGroup", section.socket_group.as_ref(), |g| {
        nix::unistd::Group::from_name(g)
            .ok()
            .flatten()
            .map(|x| x.gid.as_raw())
    })?;
    Ok((uid, gid))
}
