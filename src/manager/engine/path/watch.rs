//! What a path unit asks of the filesystem, after systemd 252's src/core/path.c: the inotify
//! watch of one watched path and of its parent directories down to the first that is missing
//! (path_spec_watch()), the reading of its events (path_spec_fd_event()), and the checks of
//! each condition (path_spec_check_good()), MakeDirectory= (path_spec_mkdir()). Reads and
//! watches only; what the unit then does is `path.rs`'s. No polling: the loop waits on the
//! inotify descriptor.

use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};

use crate::unit::model::{PathCondition, PathSpec};

/// Why a path cannot be watched.
#[derive(Debug, thiserror::Error)]
pub(in crate::manager::engine) enum WatchError {
    #[error("cannot allocate an inotify descriptor")]
    Init(#[source] Errno),
    #[error("cannot add a watch on {path}")]
    Add {
        path: PathBuf,
        #[source]
        source: Errno,
    },
    #[error("cannot add a watch on any of the components of {path}")]
    Nothing {
        path: PathBuf,
        #[source]
        source: Errno,
    },
    #[error("cannot read the inotify events of {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: Errno,
    },
}

/// The events that matter on the watched path itself, by condition (path.c flags_table).
pub(super) fn flags(condition: PathCondition) -> AddWatchFlags {
    use AddWatchFlags as F;
    let base = F::IN_DELETE_SELF | F::IN_MOVE_SELF | F::IN_ATTRIB;
    let changed =
        base | F::IN_CLOSE_WRITE | F::IN_CREATE | F::IN_DELETE | F::IN_MOVED_FROM | F::IN_MOVED_TO;
    match condition {
        PathCondition::Exists | PathCondition::ExistsGlob => base,
        PathCondition::Changed => changed,
        PathCondition::Modified => changed | F::IN_MODIFY,
        PathCondition::DirectoryNotEmpty => base | F::IN_CREATE | F::IN_MOVED_TO,
    }
}

/// Where `path` is on disk under `root` (`/` in a container).
pub(super) fn on_disk(root: &Path, path: &Path) -> PathBuf {
    root.join(path.strip_prefix("/").unwrap_or(path))
}

/// One watched path's inotify instance.
#[derive(Debug)]
pub(in crate::manager::engine) struct Watch {
    inotify: Inotify,
    /// The watch on the path itself, once it exists.
    primary: Option<WatchDescriptor>,
    path: PathBuf,
}

impl Watch {
    /// Watch `spec`'s path and each of its ancestors, from `/` down to the first that does not
    /// exist (or cannot be read): an ancestor for the creation of its child, the path itself
    /// for its condition's events, and a symbolic link both as a link and as what it points
    /// to. An ancestor whose child exists keeps only IN_MOVE_SELF. A new watch is made every
    /// time the unit re-arms, so directories that appeared since are watched from then on.
    pub(super) fn new(spec: &PathSpec, root: &Path) -> Result<Watch, WatchError> {
        use AddWatchFlags as F;
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)
            .map_err(WatchError::Init)?;
        let mut watch = Watch {
            inotify,
            primary: None,
            path: spec.path.clone(),
        };
        let components: Vec<&std::ffi::OsStr> = spec
            .path
            .components()
            .filter_map(|c| match c {
                std::path::Component::Normal(n) => Some(n),
                _ => None,
            })
            .collect();
        let parent_flags =
            F::IN_MOVE_SELF | F::IN_DELETE_SELF | F::IN_ATTRIB | F::IN_CREATE | F::IN_MOVED_TO;
        let mut any = false;
        let mut last_err = Errno::ENOENT;
        let mut previous: Option<PathBuf> = None;
        // `/`, then `/a`, `/a/b`, ... the last being the watched path itself.
        for depth in 0..=components.len() {
            let mut current = PathBuf::from("/");
            current.extend(&components[..depth]);
            let last = depth == components.len();
            let mask = if last {
                flags(spec.condition)
            } else {
                parent_flags
            };
            let target = on_disk(root, &current);
            let mut wd = None;
            for follow in [false, true] {
                let m = if follow {
                    mask
                } else {
                    mask | F::IN_DONT_FOLLOW
                };
                match watch.inotify.add_watch(&target, m) {
                    Ok(w) => wd = Some(w),
                    Err(e @ (Errno::EACCES | Errno::ENOENT)) => {
                        last_err = e;
                        wd = None;
                        break;
                    }
                    Err(source) => {
                        return Err(WatchError::Add {
                            path: current,
                            source,
                        });
                    }
                }
            }
            let Some(wd) = wd else { break };
            any = true;
            // The path goes on: its parent need not be watched so closely.
            if let Some(parent) = previous.take() {
                let _ = watch
                    .inotify
                    .add_watch(&on_disk(root, &parent), F::IN_MOVE_SELF);
            }
            if last {
                watch.primary = Some(wd);
            }
            previous = Some(current);
        }
        if !any {
            return Err(WatchError::Nothing {
                path: spec.path.clone(),
                source: last_err,
            });
        }
        Ok(watch)
    }

    /// The descriptor PID 1's loop waits on.
    pub(super) fn fd(&self) -> BorrowedFd<'_> {
        self.inotify.as_fd()
    }

    /// Read the queued events (one read, as systemd); whether one was about the watched path
    /// itself (what makes PathChanged= and PathModified= fire; events on its ancestors only
    /// make the unit re-check and re-arm).
    pub(super) fn read(&self) -> Result<bool, WatchError> {
        match self.inotify.read_events() {
            Ok(events) => Ok(self
                .primary
                .is_some_and(|p| events.iter().any(|e| e.wd == p))),
            Err(Errno::EAGAIN | Errno::EINTR) => Ok(false),
            Err(source) => Err(WatchError::Read {
                path: self.path.clone(),
                source,
            }),
        }
    }
}

/// Whether `spec` is met now (path_spec_check_good()). PathExists=, PathExistsGlob= and
/// DirectoryNotEmpty= are levels; PathChanged= and PathModified= are edges seen here only as
/// the path appearing or vanishing since the last check (`previous_exists`), never at the
/// unit's start (`initial`) nor when its unit has just gone down (`from_trigger_notify`).
pub(super) fn check(
    spec: &PathSpec,
    root: &Path,
    previous_exists: &mut bool,
    initial: bool,
    from_trigger_notify: bool,
) -> bool {
    let path = on_disk(root, &spec.path);
    match spec.condition {
        PathCondition::Exists => exists(&path),
        PathCondition::ExistsGlob => {
            !crate::unit::glob::paths(root, &spec.path.to_string_lossy(), true).is_empty()
        }
        PathCondition::DirectoryNotEmpty => crate::manager::condition::directory_not_empty(&path),
        PathCondition::Changed | PathCondition::Modified => {
            let now = exists(&path);
            let good = !initial && !from_trigger_notify && now != *previous_exists;
            *previous_exists = now;
            good
        }
    }
}

/// access(F_OK): the path resolves (a dangling link does not).
fn exists(path: &Path) -> bool {
    path.exists()
}

/// MakeDirectory=: create the watched directory and its missing parents with `mode`, exactly
/// (systemd's PID 1 runs with umask 0), leaving existing ones as they are; PathExists= and
/// PathExistsGlob= paths are left alone (path_spec_mkdir()). A failure is returned to be
/// warned about; the unit starts anyway.
pub(super) fn make_directory(spec: &PathSpec, root: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if matches!(
        spec.condition,
        PathCondition::Exists | PathCondition::ExistsGlob
    ) {
        return Ok(());
    }
    let mut dir = PathBuf::from("/");
    for part in spec.path.iter().skip(1) {
        dir.push(part);
        let on = on_disk(root, &dir);
        match std::fs::create_dir(&on) {
            Ok(()) => std::fs::set_permissions(&on, std::fs::Permissions::from_mode(mode))?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(condition: PathCondition, path: &Path) -> PathSpec {
        PathSpec {
            condition,
            path: path.to_owned(),
        }
    }

    #[test]
    fn exists_is_a_level_changed_an_edge() {
        let dir = tempfile::tempdir().unwrap();
        let root = Path::new("/");
        let file = dir.path().join("flag");
        let exists = spec(PathCondition::Exists, &file);
        let changed = spec(PathCondition::Changed, &file);
        let mut prev = false;
        assert!(!check(&exists, root, &mut prev, true, false));
        // The edge's first reading at start never fires, and records the state.
        assert!(!check(&changed, root, &mut prev, true, false));
        std::fs::write(&file, "x").unwrap();
        assert!(check(&exists, root, &mut prev, true, false));
        assert!(check(&exists, root, &mut prev, false, true));
        // Appearing is a change, once.
        assert!(check(&changed, root, &mut prev, false, false));
        assert!(!check(&changed, root, &mut prev, false, false));
        // Vanishing too, but not when the unit has just gone down.
        std::fs::remove_file(&file).unwrap();
        assert!(!check(&changed, root, &mut prev, false, true));
        assert!(!check(&changed, root, &mut prev, false, false));
    }

    #[test]
    fn directory_not_empty_ignores_hidden_and_backup_files() {
        let dir = tempfile::tempdir().unwrap();
        let s = spec(PathCondition::DirectoryNotEmpty, dir.path());
        let missing = spec(PathCondition::DirectoryNotEmpty, &dir.path().join("none"));
        let mut prev = false;
        assert!(!check(&missing, Path::new("/"), &mut prev, false, false));
        std::fs::write(dir.path().join(".hidden"), "").unwrap();
        std::fs::write(dir.path().join("job.dpkg-old"), "").unwrap();
        std::fs::write(dir.path().join("x~"), "").unwrap();
        assert!(!check(&s, Path::new("/"), &mut prev, false, false));
        std::fs::write(dir.path().join("job"), "").unwrap();
        assert!(check(&s, Path::new("/"), &mut prev, false, false));
    }

    #[test]
    fn glob_matches_under_the_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("spool")).unwrap();
        let s = spec(PathCondition::ExistsGlob, Path::new("/spool/*.job"));
        let mut prev = false;
        assert!(!check(&s, dir.path(), &mut prev, false, false));
        std::fs::write(dir.path().join("spool/a.job"), "").unwrap();
        assert!(check(&s, dir.path(), &mut prev, false, false));
    }

    #[test]
    fn watch_flags_are_systemds() {
        use AddWatchFlags as F;
        assert!(flags(PathCondition::Modified).contains(F::IN_MODIFY));
        assert!(!flags(PathCondition::Changed).contains(F::IN_MODIFY));
        assert!(flags(PathCondition::Changed).contains(F::IN_CLOSE_WRITE | F::IN_DELETE));
        assert!(!flags(PathCondition::Exists).contains(F::IN_CREATE));
        assert!(flags(PathCondition::DirectoryNotEmpty).contains(F::IN_CREATE | F::IN_MOVED_TO));
    }

    #[test]
    fn a_watch_sees_the_file_appear_in_a_missing_directory_chain() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a/b/flag");
        let s = spec(PathCondition::Changed, &target);
        let w = Watch::new(&s, Path::new("/")).unwrap();
        assert!(w.primary.is_none());
        assert!(!w.read().unwrap());
        std::fs::create_dir(dir.path().join("a")).unwrap();
        // The event is on an ancestor: a re-check, not a change of the path itself.
        assert!(!w.read().unwrap());
        std::fs::create_dir(dir.path().join("a/b")).unwrap();
        std::fs::write(&target, "x").unwrap();
        // Re-armed, the new watch reaches the file itself.
        let w = Watch::new(&s, Path::new("/")).unwrap();
        assert!(w.primary.is_some());
        std::fs::write(&target, "y").unwrap();
        assert!(w.read().unwrap());
    }

    #[test]
    fn make_directory_skips_exists_conditions() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("spool/in");
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        let there = mode(dir.path());
        make_directory(&spec(PathCondition::Exists, &d), Path::new("/"), 0o750).unwrap();
        assert!(!d.exists());
        make_directory(
            &spec(PathCondition::DirectoryNotEmpty, &d),
            Path::new("/"),
            0o777,
        )
        .unwrap();
        // Exactly the mode, whatever the umask, for each directory made; not for those there.
        assert_eq!(mode(&d), 0o777);
        assert_eq!(mode(&dir.path().join("spool")), 0o777);
        assert_eq!(mode(dir.path()), there);
    }
}
