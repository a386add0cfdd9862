//! Stale runtime state at boot: `/run` and `/tmp` under the root are emptied when they are part
//! of the container's own filesystem, that is, left over from the previous run of the same
//! container (pid files and sockets that make daemons refuse to start; FreeIPA's init-data
//! empties them for that reason). A mount point there is left alone: a tmpfs mounted for this
//! container is fresh, and anything else was mounted on purpose (a host directory bound on
//! /tmp must never be emptied).
//!
//! Owns [`empty_stale`], the reading of `/proc/self/mountinfo` and [`BootTime`]. Must only be
//! used by PID 1 (or with BOSUN_UNITS=on) and always under BOSUN_ROOT: run on a host with root
//! `/` it would empty the host's /tmp. Never follows a symlink (every step is relative to an
//! open directory opened with `O_NOFOLLOW`), never enters another mount, and keeps everything
//! created or changed since bosun started (bosun's own files in /run/bosun included).

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, CWD, FileType, Mode, OFlags, StatxAttributes, StatxFlags};
use rustix::io::Errno;

/// The runtime directories emptied at boot, relative to the root.
pub const RUNTIME_DIRS: [&str; 2] = ["run", "tmp"];

/// Directories nested deeper than this are left as they are (one descriptor per level).
const MAX_DEPTH: usize = 128;

/// When bosun started, on the clock the kernel stamps files with (the coarse real-time clock:
/// a file created after this instant never has an older change time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct BootTime {
    secs: i64,
    nanos: i64,
}

impl BootTime {
    /// Now.
    pub fn now() -> BootTime {
        match nix::time::clock_gettime(nix::time::ClockId::CLOCK_REALTIME_COARSE) {
            Ok(ts) => BootTime {
                secs: ts.tv_sec(),
                nanos: ts.tv_nsec(),
            },
            // No coarse clock (not Linux): the precise one, a tick later at most.
            Err(_) => {
                let since = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                BootTime {
                    secs: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
                    nanos: i64::from(since.subsec_nanos()),
                }
            }
        }
    }

    /// An entry whose status changed at `(secs, nanos)` existed before bosun started.
    fn is_before(self, secs: i64, nanos: i64) -> bool {
        (secs, nanos) < (self.secs, self.nanos)
    }
}

pub use crate::vocab::mountinfo::{Mount, parse_mountinfo};

/// What was done with one runtime directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It does not exist.
    Missing,
    /// A symlink (or not a directory): not followed, not emptied.
    NotADirectory,
    /// A mount point: left alone.
    Mounted { fstype: String, source: String },
    /// Emptied of what the previous run left.
    Emptied(Tally),
}

/// Counts of an emptying.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub removed: u64,
    /// Created or changed since bosun started, or another mount: kept.
    pub kept: u64,
    /// Could not be removed; the first failure is in `first_error`.
    pub failed: u64,
    pub first_error: Option<String>,
}

/// Empty `ROOT/NAME` of what existed before `started`, unless it is a mount point, a symlink or
/// missing. `mounts` is `/proc/self/mountinfo` (None when it cannot be read: then nothing is
/// emptied unless the kernel marks mount roots itself).
pub fn empty_stale(
    root: &Path,
    name: &str,
    started: BootTime,
    mounts: Option<&[Mount]>,
) -> io::Result<Outcome> {
    let root = match fs::canonicalize(root) {
        Ok(root) => root,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Outcome::Missing),
        Err(e) => return Err(e),
    };
    let path = root.join(name);
    let dir = match rustix::fs::openat(
        CWD,
        &path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(Outcome::Missing),
        Err(Errno::LOOP | Errno::NOTDIR) => return Ok(Outcome::NotADirectory),
        Err(e) => return Err(e.into()),
    };
    let points: BTreeSet<PathBuf> = mounts
        .unwrap_or_default()
        .iter()
        .map(|m| m.point.clone())
        .collect();
    let top = rustix::fs::statx(
        &dir,
        "",
        AtFlags::EMPTY_PATH,
        StatxFlags::BASIC_STATS | StatxFlags::MNT_ID,
    )?;
    let kernel_knows = top
        .stx_attributes_mask
        .contains(StatxAttributes::MOUNT_ROOT);
    if mounts.is_none() && !kernel_knows {
        return Err(io::Error::other(
            "cannot tell whether it is a mount point (/proc/self/mountinfo unreadable)",
        ));
    }
    if points.contains(&path) || top.stx_attributes.contains(StatxAttributes::MOUNT_ROOT) {
        let mount = mounts
            .unwrap_or_default()
            .iter()
            .rev()
            .find(|m| m.point == path);
        return Ok(Outcome::Mounted {
            fstype: mount.map(|m| m.fstype.clone()).unwrap_or_default(),
            source: mount.map(|m| m.source.clone()).unwrap_or_default(),
        });
    }
    let walk = Walk {
        started,
        points,
        mnt_id: top.stx_mnt_id,
        dev: (top.stx_dev_major, top.stx_dev_minor),
    };
    let mut tally = Tally::default();
    walk.empty(dir.as_fd(), &path, 0, &mut tally);
    Ok(Outcome::Emptied(tally))
}

struct Walk {
    started: BootTime,
    points: BTreeSet<PathBuf>,
    mnt_id: u64,
    dev: (u32, u32),
}

impl Walk {
    fn empty(&self, dir: BorrowedFd<'_>, path: &Path, depth: usize, tally: &mut Tally) {
        let names = match names(dir) {
            Ok(names) => names,
            Err(e) => return fail(tally, path, e),
        };
        for name in names {
            let name = OsStr::from_bytes(&name);
            let child = path.join(name);
            let Ok(st) = rustix::fs::statx(
                dir,
                name,
                AtFlags::SYMLINK_NOFOLLOW,
                StatxFlags::BASIC_STATS | StatxFlags::MNT_ID,
            ) else {
                // Gone meanwhile.
                continue;
            };
            let other_mount = self.points.contains(&child)
                || st.stx_attributes.contains(StatxAttributes::MOUNT_ROOT)
                || (st.stx_mnt_id != 0 && st.stx_mnt_id != self.mnt_id)
                || (st.stx_dev_major, st.stx_dev_minor) != self.dev;
            if other_mount {
                tally.kept += 1;
                continue;
            }
            let stale = self
                .started
                .is_before(st.stx_ctime.tv_sec, i64::from(st.stx_ctime.tv_nsec));
            let is_dir = FileType::from_raw_mode(u32::from(st.stx_mode)) == FileType::Directory;
            if !is_dir {
                if !stale {
                    tally.kept += 1;
                } else {
                    match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
                        Ok(()) | Err(Errno::NOENT) => tally.removed += 1,
                        Err(e) => fail(tally, &child, e.into()),
                    }
                }
                continue;
            }
            if depth >= MAX_DEPTH {
                fail(
                    tally,
                    &child,
                    io::Error::other(format!("nested deeper than {MAX_DEPTH} directories")),
                );
                continue;
            }
            // A directory's contents are judged one by one (a fresh file may sit in an old
            // directory); the directory goes only if it was there before bosun and ends empty.
            match open_child(dir, name) {
                Ok(sub) => self.empty(sub.as_fd(), &child, depth + 1, tally),
                Err(e) => {
                    fail(tally, &child, e);
                    continue;
                }
            }
            if !stale {
                tally.kept += 1;
                continue;
            }
            match rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR) {
                Ok(()) | Err(Errno::NOENT) => tally.removed += 1,
                // Something inside was kept (fresh, or a mount); the directory stays with it.
                Err(Errno::NOTEMPTY | Errno::BUSY | Errno::EXIST) => tally.kept += 1,
                Err(e) => fail(tally, &child, e.into()),
            }
        }
    }
}

fn fail(tally: &mut Tally, path: &Path, e: io::Error) {
    tally.failed += 1;
    if tally.first_error.is_none() {
        tally.first_error = Some(format!("{}: {e}", path.display()));
    }
}

fn open_child(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<OwnedFd> {
    Ok(rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

fn names(dir: BorrowedFd<'_>) -> io::Result<Vec<Vec<u8>>> {
    let mut names = Vec::new();
    for entry in rustix::fs::Dir::read_from(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(name.to_vec());
        }
    }
    Ok(names)
}

/// Empty every stale runtime directory under `root`, saying what was done.
pub fn empty_all(root: &Path, started: BootTime) {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo")
        .ok()
        .map(|text| parse_mountinfo(&text));
    for name in RUNTIME_DIRS {
        let shown = root.join(name);
        let shown = shown.display();
        match empty_stale(root, name, started, mountinfo.as_deref()) {
            Ok(Outcome::Missing) => {}
            Ok(Outcome::NotADirectory) => crate::log::info(format_args!(
                "{shown} is not a directory (a symlink?): not emptied"
            )),
            Ok(Outcome::Mounted { fstype, source }) => crate::log::info(format_args!(
                "{shown} is a mount point ({fstype} {source}): left as it is"
            )),
            Ok(Outcome::Emptied(tally)) => {
                if tally.removed > 0 {
                    crate::log::notice(format_args!(
                        "{shown}: removed {} entries left by the previous run",
                        tally.removed
                    ));
                }
                // Not root, the image's own entries (/run/lock, ...) are not ours to remove.
                if let Some(first) = tally.first_error {
                    crate::log::warn_if_root(format_args!(
                        "{shown}: {} stale entries could not be removed (first: {first})",
                        tally.failed
                    ));
                }
            }
            Err(e) => crate::log::warn(format_args!("{shown}: not emptied: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_lines() {
        let text = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
35 22 0:30 / /run rw,nosuid,nodev - tmpfs tmpfs rw,mode=755
36 22 8:1 /srv/shared /tmp/with\\040space rw master:1 - ext4 /dev/sda1 rw
bad line
";
        let mounts = parse_mountinfo(text);
        assert_eq!(mounts.len(), 3);
        assert_eq!(mounts[1].point, Path::new("/run"));
        assert_eq!(mounts[1].fstype, "tmpfs");
        assert_eq!(mounts[1].root, Path::new("/"));
        assert_eq!(mounts[2].point, Path::new("/tmp/with space"));
        assert_eq!(mounts[2].root, Path::new("/srv/shared"));
        assert_eq!(mounts[2].source, "/dev/sda1");
    }

    #[test]
    fn boot_time_orders_change_times() {
        let t = BootTime {
            secs: 100,
            nanos: 500,
        };
        assert!(t.is_before(99, 999_999_999));
        assert!(t.is_before(100, 499));
        assert!(!t.is_before(100, 500));
        assert!(!t.is_before(101, 0));
    }
}
