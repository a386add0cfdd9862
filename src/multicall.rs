//! bosun's other names in an image: the `systemctl`, `journalctl` and `initctl` symlinks that
//! make the one binary answer as those commands (`bosun image link`), and the dpkg diversions
//! that keep them when a package later ships its own `systemctl` or `journalctl` (installing
//! systemd over the link is how the Python systemctl replacement breaks). Works on any root directory; writes only links inside
//! it, and the root's own dpkg database through `dpkg-divert --root`.

use std::io;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The links, as paths inside the image, and whether dpkg-divert protects each.
const LINKS: [(&str, bool); 3] = [
    ("/usr/bin/systemctl", true),
    ("/usr/bin/journalctl", true),
    ("/usr/bin/initctl", false),
];

/// `/sbin/init`, linked to bosun when the image has none (an image's own init is left as it
/// is): Debian's invoke-rc.d refuses to start a SysV script's service without it ("No init
/// system and policy-rc.d missing! Defaulting to block."), where a systemd image has
/// systemd-sysv's. bosun run as `init` is PID 1, as `bosun` is.
const INIT: &str = "/sbin/init";

/// The extra links when `/bin` is a directory of its own (an image without merged /usr).
const BIN_LINKS: [&str; 2] = ["/bin/systemctl", "/bin/journalctl"];

/// The paths a systemd package may ship `systemctl` and `journalctl` at: Debian 12 ships
/// `/bin/systemctl` and `/bin/journalctl`, later releases `/usr/bin/...`. dpkg compares paths
/// as written (a diversion of one does not cover the other through the `/bin` symlink), so
/// all are diverted.
const DIVERTED: [&str; 4] = [
    "/usr/bin/systemctl",
    "/bin/systemctl",
    "/usr/bin/journalctl",
    "/bin/journalctl",
];

/// Why linking failed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The binary to link to is not in the image.
    #[error(
        "the bosun binary {path} is not in the image under {root}: give its path inside the image with --bosun"
    )]
    BinaryMissing {
        /// The binary, inside the image.
        path: PathBuf,
        /// The image root.
        root: PathBuf,
    },
    /// A file operation failed.
    #[error("cannot {what} {path}")]
    Io {
        /// What was attempted.
        what: &'static str,
        /// The file (on this machine).
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Both the name and its `.distrib` are taken by files that are not bosun's.
    #[error("{path} is not bosun's link and {aside} exists too: move one of them away first")]
    BothTaken {
        /// The name to link (inside the image).
        path: PathBuf,
        /// Where the existing file would have been moved.
        aside: PathBuf,
    },
    /// dpkg-divert failed.
    #[error("dpkg-divert failed for {path}: {detail}")]
    Divert {
        /// The diverted path (inside the image).
        path: PathBuf,
        /// Its exit status and error output.
        detail: String,
    },
}

/// What `link` did, one entry per step, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkStep {
    /// dpkg-divert now sends a package's `path` to `to`.
    Diverted {
        /// The path packages ship.
        path: PathBuf,
        /// Where dpkg puts it instead.
        to: PathBuf,
    },
    /// The diversion was already in place.
    AlreadyDiverted {
        /// The path packages ship.
        path: PathBuf,
    },
    /// An existing file (not bosun's) was moved aside.
    MovedAside {
        /// The name.
        path: PathBuf,
        /// Where the file is now.
        to: PathBuf,
    },
    /// The link was created.
    Linked {
        /// The name.
        path: PathBuf,
        /// The binary it points to.
        target: PathBuf,
    },
    /// The link was already there.
    AlreadyLinked {
        /// The name.
        path: PathBuf,
    },
    /// No dpkg database in the image (or no dpkg-divert): nothing to protect the links from.
    NoDpkg,
    /// `/run/bosun` may now be written by any user (sticky, as /tmp), so that bosun run as a
    /// user other than root (`--user`, OpenShift's arbitrary UIDs) can serve its control socket.
    /// Run as root, bosun empties /run of what the image left and makes its own again.
    RuntimeDir {
        /// The directory inside the image.
        path: PathBuf,
    },
}

/// Where `path` (inside the image) is on this machine.
fn host(root: &Path, path: &Path) -> PathBuf {
    root.join(path.strip_prefix("/").unwrap_or(path))
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> LinkError {
    let path = path.to_owned();
    move |source| LinkError::Io { what, path, source }
}

/// `/bin` is the same directory as `/usr/bin` in the image (merged /usr).
fn bin_is_usr_bin(root: &Path) -> bool {
    match (
        std::fs::canonicalize(host(root, Path::new("/bin"))),
        std::fs::canonicalize(host(root, Path::new("/usr/bin"))),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The `dpkg-divert` to use: one on PATH, when the image has a dpkg database.
pub fn dpkg_divert_for(root: &Path) -> Option<PathBuf> {
    if !host(root, Path::new("/var/lib/dpkg")).is_dir() {
        return None;
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("dpkg-divert"))
        .find(|p| p.is_file())
}

/// `path` (on this machine) is a symlink to `target`.
fn links_to(path: &Path, target: &Path) -> bool {
    std::fs::read_link(path).is_ok_and(|t| t == target)
}

/// Install the `systemctl`, `journalctl` and `initctl` links under `root` to `bosun` (its path
/// inside the image), diverting `systemctl` and `journalctl` with `dpkg_divert` when given.
/// Idempotent.
pub fn link(
    root: &Path,
    bosun: &Path,
    dpkg_divert: Option<&Path>,
) -> Result<Vec<LinkStep>, LinkError> {
    if !host(root, bosun).is_file() {
        return Err(LinkError::BinaryMissing {
            path: bosun.to_owned(),
            root: root.to_owned(),
        });
    }
    let mut steps = Vec::new();
    match dpkg_divert {
        Some(tool) => {
            for path in DIVERTED {
                steps.push(divert(tool, root, Path::new(path), bosun)?);
            }
        }
        None => steps.push(LinkStep::NoDpkg),
    }
    let mut names: Vec<&str> = LINKS.iter().map(|(p, _)| *p).collect();
    if !bin_is_usr_bin(root) {
        names.extend(BIN_LINKS);
    }
    for name in names {
        steps.extend(link_one(root, Path::new(name), bosun)?);
    }
    let init = host(root, Path::new(INIT));
    if std::fs::symlink_metadata(&init).is_err() || links_to(&init, bosun) {
        steps.extend(link_one(root, Path::new(INIT), bosun)?);
    }
    steps.extend(runtime_dir(root)?);
    Ok(steps)
}

/// `/run/bosun`, where PID 1 binds its control and notification sockets, as a directory any
/// user may write (mode 1777): /run itself belongs to root in an image, and a container runtime
/// does not mount a fresh one, so bosun started as another user could not create it.
fn runtime_dir(root: &Path) -> Result<Option<LinkStep>, LinkError> {
    use std::os::unix::fs::PermissionsExt;
    let name = Path::new("/run/bosun");
    let path = host(root, name);
    let wanted = 0o1777;
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.is_dir() && meta.permissions().mode() & 0o7777 == wanted => {
            return Ok(None);
        }
        Ok(meta) if !meta.is_dir() => {
            return Err(LinkError::Io {
                what: "make a directory of",
                path,
                source: io::Error::from(io::ErrorKind::AlreadyExists),
            });
        }
        Ok(_) => {}
        Err(_) => std::fs::create_dir_all(&path).map_err(io_err("create", &path))?,
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(wanted))
        .map_err(io_err("set the mode of", &path))?;
    Ok(Some(LinkStep::RuntimeDir {
        path: name.to_owned(),
    }))
}

/// Divert `path` to `path.distrib` unless it already is; the file is renamed aside unless
/// it is bosun's own link (an image linked before diversions existed).
fn divert(tool: &Path, root: &Path, path: &Path, bosun: &Path) -> Result<LinkStep, LinkError> {
    let run = |args: &[&std::ffi::OsStr]| {
        let mut cmd = Command::new(tool);
        if root != Path::new("/") {
            cmd.arg("--root").arg(root);
        }
        cmd.args(args)
            .output()
            .map_err(io_err("run dpkg-divert for", path))
    };
    let to = PathBuf::from(format!("{}.distrib", path.display()));
    let truename = run(&["--truename".as_ref(), path.as_os_str()])?;
    if String::from_utf8_lossy(&truename.stdout).trim() == to.to_string_lossy() {
        return Ok(LinkStep::AlreadyDiverted {
            path: path.to_owned(),
        });
    }
    let rename = if links_to(&host(root, path), bosun) {
        "--no-rename"
    } else {
        "--rename"
    };
    let out = run(&[
        "--local".as_ref(),
        rename.as_ref(),
        "--divert".as_ref(),
        to.as_os_str(),
        "--add".as_ref(),
        path.as_os_str(),
    ])?;
    if !out.status.success() {
        return Err(LinkError::Divert {
            path: path.to_owned(),
            detail: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    Ok(LinkStep::Diverted {
        path: path.to_owned(),
        to,
    })
}

/// Make `name` (inside the image) a symlink to `bosun`, moving a foreign file aside.
fn link_one(root: &Path, name: &Path, bosun: &Path) -> Result<Vec<LinkStep>, LinkError> {
    let path = host(root, name);
    if links_to(&path, bosun) {
        return Ok(vec![LinkStep::AlreadyLinked {
            path: name.to_owned(),
        }]);
    }
    let mut steps = Vec::new();
    if std::fs::symlink_metadata(&path).is_ok() {
        let aside_name = PathBuf::from(format!("{}.distrib", name.display()));
        let aside = host(root, &aside_name);
        if std::fs::symlink_metadata(&aside).is_ok() {
            return Err(LinkError::BothTaken {
                path: name.to_owned(),
                aside: aside_name,
            });
        }
        std::fs::rename(&path, &aside).map_err(io_err("move aside", &path))?;
        steps.push(LinkStep::MovedAside {
            path: name.to_owned(),
            to: aside_name,
        });
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_err("create", parent))?;
    }
    let tmp = path.with_file_name(format!(
        ".{}.bosun-link",
        name.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    let _ = std::fs::remove_file(&tmp);
    symlink(bosun, &tmp).map_err(io_err("create the link", &tmp))?;
    std::fs::rename(&tmp, &path).map_err(io_err("install the link", &path))?;
    steps.push(LinkStep::Linked {
        path: name.to_owned(),
        target: bosun.to_owned(),
    });
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn link_makes_the_runtime_directory_writable_for_any_user_once() {
        let root = tempfile::tempdir().unwrap();
        let bosun = Path::new("/usr/local/bin/bosun");
        std::fs::create_dir_all(root.path().join("usr/local/bin")).unwrap();
        std::fs::write(root.path().join("usr/local/bin/bosun"), b"").unwrap();
        let steps = link(root.path(), bosun, None).unwrap();
        let dir = root.path().join("run/bosun");
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o7777,
            0o1777
        );
        assert!(steps.contains(&LinkStep::RuntimeDir {
            path: PathBuf::from("/run/bosun")
        }));
        // Again: nothing to do. A directory of another mode is corrected.
        let again = link(root.path(), bosun, None).unwrap();
        assert!(
            !again
                .iter()
                .any(|s| matches!(s, LinkStep::RuntimeDir { .. }))
        );
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let fixed = link(root.path(), bosun, None).unwrap();
        assert!(
            fixed
                .iter()
                .any(|s| matches!(s, LinkStep::RuntimeDir { .. }))
        );
        // A file in its place is an error, not replaced.
        std::fs::remove_dir(&dir).unwrap();
        std::fs::write(&dir, b"x").unwrap();
        assert!(link(root.path(), bosun, None).is_err());
        assert_eq!(std::fs::read(&dir).unwrap(), b"x");
    }

    #[test]
    fn sbin_init_is_linked_only_when_the_image_has_none() {
        let root = tempfile::tempdir().unwrap();
        let bosun = Path::new("/usr/local/bin/bosun");
        std::fs::create_dir_all(root.path().join("usr/local/bin")).unwrap();
        std::fs::write(root.path().join("usr/local/bin/bosun"), b"").unwrap();
        let steps = link(root.path(), bosun, None).unwrap();
        assert!(steps.contains(&LinkStep::Linked {
            path: PathBuf::from(INIT),
            target: bosun.to_owned(),
        }));
        assert_eq!(
            std::fs::read_link(root.path().join("sbin/init")).unwrap(),
            bosun
        );
        // An image's own init (systemd-sysv's link, sysvinit's binary) stays.
        let other = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(other.path().join("usr/local/bin")).unwrap();
        std::fs::write(other.path().join("usr/local/bin/bosun"), b"").unwrap();
        std::fs::create_dir_all(other.path().join("sbin")).unwrap();
        symlink("/lib/systemd/systemd", other.path().join("sbin/init")).unwrap();
        let steps = link(other.path(), bosun, None).unwrap();
        assert!(
            !steps
                .iter()
                .any(|s| matches!(s, LinkStep::Linked { path, .. } if path == Path::new(INIT)))
        );
        assert_eq!(
            std::fs::read_link(other.path().join("sbin/init")).unwrap(),
            Path::new("/lib/systemd/systemd")
        );
    }
}
