//! Where `systemctl enable` looks and writes: systemd 252's system lookup paths (as Debian
//! builds it: `/lib/systemd/system` before `/usr/lib/systemd/system`), every one prefixed with
//! the root directory (`--root=`), and the path arithmetic install.c does on them (root
//! stripping, "is this a configuration / runtime / generator directory", symlink chasing that
//! never leaves the root). Pure path logic plus `lstat`/`readlink`; nothing here writes.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;

/// The unit directories of systemd 252 for the system manager, highest precedence first, as
/// `systemd-analyze unit-paths` prints them on Debian 12.
pub const SEARCH_PATH: [&str; 13] = [
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/run/systemd/generator.early",
    "/etc/systemd/system",
    "/etc/systemd/system.attached",
    "/run/systemd/system",
    "/run/systemd/system.attached",
    "/run/systemd/generator",
    "/usr/local/lib/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/run/systemd/generator.late",
];

/// The directories of `*.preset` files (systemd.preset(5)), highest precedence first; Debian's
/// split-usr build adds `/lib/systemd/system-preset`.
pub const PRESET_PATH: [&str; 5] = [
    "/etc/systemd/system-preset",
    "/run/systemd/system-preset",
    "/usr/local/lib/systemd/system-preset",
    "/usr/lib/systemd/system-preset",
    "/lib/systemd/system-preset",
];

/// How many symlinks one path may traverse before ELOOP (chase.c's CHASE_MAX).
const MAX_FOLLOW: usize = 32;

/// The lookup paths of one invocation: every directory as a path on this machine (the root
/// prefix included), as install.c keeps them.
#[derive(Debug, Clone)]
pub struct LookupPaths {
    root: Option<PathBuf>,
    /// The unit search path, highest precedence first.
    pub search_path: Vec<PathBuf>,
    /// `/etc/systemd/system`: where `enable` writes.
    pub persistent_config: PathBuf,
    /// `/run/systemd/system`: where `enable --runtime` writes.
    pub runtime_config: PathBuf,
    /// `/etc/systemd/system.control` (`systemctl set-property`).
    pub persistent_control: PathBuf,
    /// `/run/systemd/system.control`.
    pub runtime_control: PathBuf,
    /// `/run/systemd/transient`.
    pub transient: PathBuf,
    /// `/run/systemd/generator`.
    pub generator: PathBuf,
    /// `/run/systemd/generator.early`.
    pub generator_early: PathBuf,
    /// `/run/systemd/generator.late`.
    pub generator_late: PathBuf,
}

impl LookupPaths {
    /// The system lookup paths under `root` (`/` for the running system). `unit_path` is the
    /// value of `$BOSUN_UNIT_PATH` (read like `$SYSTEMD_UNIT_PATH`: colon-separated
    /// directories, a trailing `:` appends the default search path).
    pub fn system(root: &Path, unit_path: Option<&str>) -> Self {
        let root =
            Some(normalize(root)).filter(|r| r != Path::new("/") && !r.as_os_str().is_empty());
        let prefix = |p: &str| prefix_root(root.as_deref(), Path::new(p));
        let search_path = match unit_path {
            Some(text) => {
                let mut dirs: Vec<PathBuf> = text
                    .split(':')
                    .filter(|d| !d.is_empty())
                    .map(|d| prefix_root(root.as_deref(), Path::new(d)))
                    .collect();
                if text.ends_with(':') {
                    dirs.extend(SEARCH_PATH.iter().map(|d| prefix(d)));
                }
                dirs
            }
            None => SEARCH_PATH.iter().map(|d| prefix(d)).collect(),
        };
        LookupPaths {
            persistent_config: prefix("/etc/systemd/system"),
            runtime_config: prefix("/run/systemd/system"),
            persistent_control: prefix("/etc/systemd/system.control"),
            runtime_control: prefix("/run/systemd/system.control"),
            transient: prefix("/run/systemd/transient"),
            generator: prefix("/run/systemd/generator"),
            generator_early: prefix("/run/systemd/generator.early"),
            generator_late: prefix("/run/systemd/generator.late"),
            search_path,
            root,
        }
    }

    /// The root directory, `None` for `/`.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// `path` (as seen inside the root) as a path on this machine.
    pub fn prefixed(&self, path: &Path) -> PathBuf {
        prefix_root(self.root.as_deref(), path)
    }

    /// The preset directories on this machine.
    pub fn preset_dirs(&self) -> Vec<PathBuf> {
        PRESET_PATH
            .iter()
            .map(|d| self.prefixed(Path::new(d)))
            .collect()
    }

    /// install.c's skip_root(): `path` as seen inside the root; `None` when it is not under it.
    pub fn skip_root(&self, path: &Path) -> Option<PathBuf> {
        match &self.root {
            None => Some(path.to_owned()),
            Some(root) => path
                .strip_prefix(root)
                .ok()
                .map(|rest| Path::new("/").join(rest)),
        }
    }

    /// The directory holds units that are configuration (`/etc` or `/run/systemd/system`).
    pub fn is_config_dir(&self, dir: &Path) -> bool {
        dir == self.persistent_config || dir == self.runtime_config
    }

    /// path_is_config(): `path`'s directory is a configuration directory.
    pub fn path_is_config(&self, path: &Path) -> bool {
        path.parent().is_some_and(|d| self.is_config_dir(d))
    }

    /// path_is_runtime() on a directory: under `/run`, or one of the runtime directories.
    pub fn dir_is_runtime(&self, dir: &Path) -> bool {
        if self
            .skip_root(dir)
            .is_some_and(|inside| inside.starts_with("/run"))
        {
            return true;
        }
        [
            &self.runtime_config,
            &self.generator,
            &self.generator_early,
            &self.generator_late,
            &self.transient,
            &self.runtime_control,
        ]
        .iter()
        .any(|d| dir == d.as_path())
    }

    /// path_is_runtime() on a file: its directory is a runtime one (or it is under `/run`).
    pub fn path_is_runtime(&self, path: &Path) -> bool {
        if self
            .skip_root(path)
            .is_some_and(|inside| inside.starts_with("/run"))
        {
            return true;
        }
        path.parent().is_some_and(|d| self.dir_is_runtime(d))
    }

    /// path_is_generator(): the file is in one of the generator directories.
    pub fn path_is_generator(&self, path: &Path) -> bool {
        path.parent().is_some_and(|d| {
            d == self.generator || d == self.generator_early || d == self.generator_late
        })
    }

    /// path_is_transient(): the file is in `/run/systemd/transient`.
    pub fn path_is_transient(&self, path: &Path) -> bool {
        path.parent().is_some_and(|d| d == self.transient)
    }

    /// in_search_path(): the file's directory is one of the search path.
    pub fn in_search_path(&self, path: &Path) -> bool {
        path.parent()
            .is_some_and(|d| self.search_path.iter().any(|s| s == d))
    }

    /// chase(path, root, CHASE_NOFOLLOW|CHASE_NONEXISTENT): `path` (under the root) with `.`
    /// and `..` resolved and every symlink but the last followed, never leaving the root; the
    /// part that does not exist is kept as written.
    pub fn chase_nofollow(&self, path: &Path) -> Result<PathBuf, Errno> {
        chase(self.root.as_deref(), path, false)
    }

    /// chase(path, root, 0): every symlink followed, inside the root.
    pub fn chase_follow(&self, path: &Path) -> Result<PathBuf, Errno> {
        chase(self.root.as_deref(), path, true)
    }

    /// null_or_empty_path_with_root(): the file is a mask (`/dev/null`, any character device,
    /// or an empty regular file), following symlinks inside the root. A dangling link to
    /// `/dev/null` counts (a root tree need not have `/dev`).
    pub fn null_or_empty(&self, path: &Path) -> Result<bool, Errno> {
        if self
            .skip_root(path)
            .is_some_and(|inside| inside == Path::new("/dev/null"))
        {
            return Ok(true);
        }
        let real = self.chase_follow(path)?;
        let meta = std::fs::metadata(&real).map_err(|e| errno_of(&e))?;
        Ok(null_or_empty(&meta))
    }
}

/// null_or_empty(): an empty regular file or a character device.
pub fn null_or_empty(meta: &std::fs::Metadata) -> bool {
    (meta.is_file() && meta.len() == 0) || meta.file_type().is_char_device()
}

/// The errno of an I/O error (EIO when it has none).
pub fn errno_of(e: &io::Error) -> Errno {
    e.raw_os_error().map_or(Errno::EIO, Errno::from_raw)
}

/// `root` + `path` (path_join: `path` may be absolute).
fn prefix_root(root: Option<&Path>, path: &Path) -> PathBuf {
    match root {
        None => path.to_owned(),
        Some(root) => root.join(path.strip_prefix("/").unwrap_or(path)),
    }
}

/// Lexically drop `.` and resolve `..` (never above `/`).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::RootDir => out.push("/"),
            Component::CurDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                if out != Path::new("/") {
                    out.pop();
                }
            }
            Component::Normal(n) => out.push(n),
        }
    }
    out
}

fn chase(root: Option<&Path>, path: &Path, follow_last: bool) -> Result<PathBuf, Errno> {
    chase_with(root, path, follow_last, &mut look)
}

/// What a chase (`chase_under`) learns of one host path: gone, a symbolic link to the target, or another
/// file (a directory when the flag says so).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Missing,
    Link(PathBuf),
    /// `id`: its device, inode and change time (st_dev, st_ino, st_ctime in ns): a file
    /// made anew differs even where the inode number is reused.
    Other {
        dir: bool,
        id: (u64, u64, i64),
    },
}

/// lstat(2), and readlink(2) for a link.
pub fn look(host: &Path) -> Result<Node, Errno> {
    match std::fs::symlink_metadata(host) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Node::Missing),
        Err(e) => Err(errno_of(&e)),
        Ok(meta) if meta.file_type().is_symlink() => std::fs::read_link(host)
            .map(Node::Link)
            .map_err(|e| errno_of(&e)),
        Ok(meta) => Ok(Node::Other {
            dir: meta.is_dir(),
            id: {
                use std::os::unix::fs::MetadataExt;
                let ctime = meta.ctime().saturating_mul(1_000_000_000) + meta.ctime_nsec();
                (meta.dev(), meta.ino(), ctime)
            },
        }),
    }
}

/// chase(path, root, 0) under `root` (None: `/`) with `look` telling what each path is (a
/// caller resolving many paths at once keeps its answers: they share their prefixes).
pub fn chase_under(
    root: Option<&Path>,
    path: &Path,
    look: &mut dyn FnMut(&Path) -> Result<Node, Errno>,
) -> Result<PathBuf, Errno> {
    let root = root
        .map(normalize)
        .filter(|r| r != Path::new("/") && !r.as_os_str().is_empty());
    let root = root.as_deref();
    chase_with(root, &prefix_root(root, path), true, look)
}

fn chase_with(
    root: Option<&Path>,
    path: &Path,
    follow_last: bool,
    look: &mut dyn FnMut(&Path) -> Result<Node, Errno>,
) -> Result<PathBuf, Errno> {
    let root_dir = root.unwrap_or(Path::new("/"));
    let inside = match root {
        Some(r) => path.strip_prefix(r).map_err(|_| Errno::EINVAL)?,
        None => path,
    };
    let mut todo: VecDeque<OsString> = names(inside);
    let mut done = PathBuf::from("/");
    let mut follows = 0;
    while let Some(name) = todo.pop_front() {
        if name == "." {
            continue;
        }
        if name == ".." {
            done.pop();
            continue;
        }
        let candidate = done.join(&name);
        if todo.is_empty() && !follow_last {
            done = candidate;
            break;
        }
        let host = root_dir.join(candidate.strip_prefix("/").unwrap_or(&candidate));
        match look(&host)? {
            Node::Missing => {
                // CHASE_NONEXISTENT: the rest is kept, with `.` and `..` resolved lexically.
                let mut rest = candidate;
                for n in todo.drain(..) {
                    rest.push(n);
                }
                done = normalize(&rest);
                break;
            }
            Node::Link(target) => {
                follows += 1;
                if follows > MAX_FOLLOW {
                    return Err(Errno::ELOOP);
                }
                if target.is_absolute() {
                    done = PathBuf::from("/");
                }
                for n in names(&target).into_iter().rev() {
                    todo.push_front(n);
                }
            }
            Node::Other { .. } => done = candidate,
        }
    }
    Ok(prefix_root(root, &done))
}

fn names(path: &Path) -> VecDeque<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_owned()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_prefix_and_skip() {
        let lp = LookupPaths::system(Path::new("/r/"), None);
        assert_eq!(lp.persistent_config, PathBuf::from("/r/etc/systemd/system"));
        assert_eq!(
            lp.skip_root(Path::new("/r/lib/x.service")),
            Some(PathBuf::from("/lib/x.service"))
        );
        assert_eq!(lp.skip_root(Path::new("/other")), None);
        let plain = LookupPaths::system(Path::new("/"), None);
        assert_eq!(plain.root(), None);
        assert_eq!(plain.search_path[4], PathBuf::from("/etc/systemd/system"));
        assert!(plain.path_is_runtime(Path::new("/run/systemd/system/x.service")));
        assert!(plain.path_is_config(Path::new("/etc/systemd/system/x.service")));
        assert!(!plain.path_is_config(Path::new("/lib/systemd/system/x.service")));
    }

    #[test]
    fn unit_path_like_systemd_unit_path() {
        let lp = LookupPaths::system(Path::new("/r"), Some("/a:/b:"));
        assert_eq!(lp.search_path[0], PathBuf::from("/r/a"));
        assert_eq!(lp.search_path.len(), 2 + SEARCH_PATH.len());
        let only = LookupPaths::system(Path::new("/"), Some("/a"));
        assert_eq!(only.search_path, [PathBuf::from("/a")]);
    }

    #[test]
    fn lexical_normalisation() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(normalize(Path::new("/../a")), PathBuf::from("/a"));
    }
}
