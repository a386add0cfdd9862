//! Opening a socket unit's listening sockets and FIFOs (systemd.socket(5) Listen*=, with
//! SocketUser=/SocketGroup= and SocketMode=), all or none. Knows nothing of the engine or of
//! jobs: it returns the descriptors or says which line failed.

use std::os::fd::OwnedFd;
use std::os::unix::fs::DirBuilderExt;

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

/// Symlinks= once the socket listens: each a link to the socket's one file-system node, its
/// parents made with DirectoryMode=, as core/socket.c socket_symlink(): a link already there
/// and pointing there is kept; something else there is replaced only with RemoveOnStop=; a
/// link that cannot be made is a warning, never a failure of the socket. Returns the warnings.
pub(super) fn make_symlinks(
    unit: &str,
    section: &SocketSection,
    root: &std::path::Path,
) -> Vec<String> {
    let Some(target) = section.symlink_target() else {
        return Vec::new();
    };
    let mut warnings = Vec::new();
    for link in &section.symlinks {
        let at = under(root, link);
        if let Some(parent) = at.parent() {
            let _ = std::fs::DirBuilder::new()
                .recursive(true)
                .mode(section.directory_mode.unwrap_or(0o755))
                .create(parent);
        }
        let mut made = symlink_idempotent(target, &at);
        if made
            .as_ref()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::AlreadyExists)
            && section.remove_on_stop
            && std::fs::remove_file(&at).is_ok()
        {
            made = symlink_idempotent(target, &at);
        }
        if let Err(e) = made {
            warnings.push(format!(
                "{unit}: Failed to create symlink {} → {}, ignoring: {e}",
                target.display(),
                link.display()
            ));
        }
    }
    warnings
}

/// RemoveOnStop=: the Symlinks= go with the socket's files (socket_close_fds()).
pub(super) fn remove_symlinks(section: &SocketSection, root: &std::path::Path) {
    if section.remove_on_stop {
        for link in &section.symlinks {
            let _ = std::fs::remove_file(under(root, link));
        }
    }
}

fn under(root: &std::path::Path, path: &std::path::Path) -> std::path::PathBuf {
    root.join(path.strip_prefix("/").unwrap_or(path))
}

/// A symlink at `at` to `target`, or the one already there when it points to `target`.
fn symlink_idempotent(target: &std::path::Path, at: &std::path::Path) -> std::io::Result<()> {
    match std::os::unix::fs::symlink(target, at) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if std::fs::read_link(at).is_ok_and(|old| old == target) {
                Ok(())
            } else {
                Err(e)
            }
        }
        other => other,
    }
}
