//! The mount namespace of a command (systemd.exec(5) "Sandboxing": PrivateTmp=,
//! ProtectSystem=, ProtectHome=, ReadWritePaths=, ReadOnlyPaths=, InaccessiblePaths=,
//! BindPaths=, BindReadOnlyPaths=, TemporaryFileSystem=, ExecPaths=, NoExecPaths=,
//! PrivateDevices=, ProtectKernelTunables=, ProtectControlGroups=, ProtectProc=, ProcSubset=,
//! PrivateMounts=, MountFlags=, the mount halves of ProtectKernelModules= and
//! ProtectKernelLogs=, the UTS namespace of ProtectHostname=), planned in the parent as
//! systemd 252's setup_namespace() applies them, and the fixed list of calls its child makes
//! ([`Plan::apply`]: nix's `mount`, `unshare`, `mkdir`, `open`, `symlinkat`, `chdir` and
//! `chroot` on prepared `CStr`s, which allocate nothing). Submodules: what a unit names
//! (`entries`), the mounts it starts from (`table`), the private /tmp and /dev (`private`),
//! the probe and the boot report (`probe`), the plans and namespaces kept from one start to
//! the next (`kept`).
//!
//! The tree is built in a staging directory (`ROOT/run/bosun/unit-root`), as systemd builds it
//! in /run/systemd/unit-root: the whole tree is bound there recursively, the unit's mounts are
//! made under it, then it becomes the command's root. This works whether or not `/` is a mount
//! point of its own: in a chroot (the corpus's Debian root) `/` cannot be remounted or made a
//! slave, its copy under the staging directory can. When `/` is a mount point the staging
//! tree is moved onto it (MS_MOVE) and chrooted into, as systemd does; in a chroot it is only
//! chrooted into, so that nothing is mounted on the mount that holds the chroot, which bosun
//! cannot see and could not keep from propagating.
//!
//! Paths are the unit's under bosun's root (`BOSUN_ROOT`, `/` in production), as PIDFile= and
//! RuntimeDirectory= are; symbolic links are followed inside that root (systemd's chase()), so
//! `ReadWritePaths=/var/lib/redis`, a link into /data, makes the volume writable. A path
//! with `+` is the host's, as are the kernel's API filesystems (/proc, /sys, /dev).
//! ProtectSystem=strict covers the whole tree (`/`).
//!
//! Whether the container allows a namespace at all is probed once, in a forked child
//! ([`probe`]); PID 1 never unshares itself. This module must not run unit logic: the
//! engine says what is not in force, the spawner fails a command with 226/NAMESPACE.

use std::ffi::{CStr, CString};
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};

use crate::unit::model::ExecContext;
use crate::unit::sandbox::Propagation;
use entries::{entries, procfs_options};
pub use kept::RunPlan;
use kept::{Join, Template, kept};
pub(crate) use private::make_pair as make_private_pair;
use private::private_dev;
pub use private::{PrivateTmp, drop_spares};
use probe::access_for;
use probe::asked;
pub use probe::{Access, not_in_force, probe, protections};
use table::Table;

/// systemd's exit status for a failed namespace set-up (exit-status.h).
pub const EXIT_NAMESPACE: i32 = 226;

/// Where the tree is staged, under bosun's root.
const STAGING: &str = "run/bosun/unit-root";
/// The empty, mode-0 directory and file InaccessiblePaths= are covered with.
const INACCESSIBLE: &str = "run/bosun/inaccessible";

/// Why a command's namespace cannot be planned or made.
#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    #[error("{}: no such file or directory", path.display())]
    Missing { path: PathBuf },
    #[error("{}: cannot resolve it", path.display())]
    Resolve {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{} need a mount namespace, which this container does not allow ({why})", directives.join(", "))]
    Unavailable {
        directives: Vec<&'static str>,
        why: String,
    },
    #[error("{what}")]
    Step {
        what: String,
        #[source]
        source: io::Error,
    },
}

/// One mount call of the child.
#[derive(Debug, Clone)]
enum Step {
    Unshare(CloneFlags),
    /// A user namespace first, mapping only bosun's own uid and gid (`uid_map`, `gid_map`
    /// lines), setgroups(2) denied as the kernel asks of an unprivileged writer.
    UserNamespace {
        uid_map: CString,
        gid_map: CString,
    },
    /// mount(NULL, target, FLAGS|MS_REC): MS_SLAVE first (nothing mounted here reaches the
    /// host), MountFlags= last.
    Propagate(CString, MsFlags),
    Bind {
        source: CString,
        target: CString,
        flags: MsFlags,
    },
    /// MS_REMOUNT|MS_BIND with the mount's own flags kept (nosuid, nodev, noexec, atime).
    Remount {
        target: CString,
        flags: MsFlags,
    },
    Tmpfs {
        target: CString,
        flags: MsFlags,
        data: CString,
    },
    /// mkdir (PrivateDevices='s /dev).
    Mkdir(CString),
    /// An empty file to bind a device node on.
    Touch(CString),
    Symlink {
        target: &'static CStr,
        path: CString,
    },
    /// A procfs of the service's own (ProtectProc=, ProcSubset=): with `data`, without it
    /// where the kernel refuses the options (EINVAL: before 5.8), and none at all where bosun
    /// may not mount one (EPERM: the existing /proc stays, as systemd 252 falls back).
    Procfs {
        target: CString,
        data: CString,
    },
    /// chdir(staging), then MS_MOVE onto `/` when `/` is a mount point, chroot("."), chdir("/").
    EnterRoot {
        staging: CString,
        move_onto_root: bool,
    },
}

/// The mount calls a command's child makes, prepared in the parent, and what each is about
/// (named when it fails).
#[derive(Debug, Default)]
pub struct Plan {
    steps: Vec<(Step, String)>,
    /// Per step: a path that is not there (ENOENT) is skipped, as systemd skips a `-` entry
    /// in the child: what lies in a procfs of the service's own, which may not have it
    /// (ProcSubset=pid has no /proc/sys).
    optional: Vec<bool>,
    /// The steps that bind a run's own PrivateTmp= directory, and the path each covers: a
    /// kept plan serves every run of its unit, each binding its own directories
    /// ([`RunPlan`]).
    private_tmp: Vec<(usize, PathBuf)>,
    /// How a run joins a kept copy of the namespace instead of making it ([`Join`]); None
    /// where it cannot (a user namespace of bosun's own ids comes first).
    join: Option<Join>,
    /// The namespace made once from this plan, kept open (made at the plan's second use).
    template: std::sync::OnceLock<Option<Template>>,
}

/// A failed step as the child reports it: systemd's 226 above bit 16, the step's number + 1
/// in bits 8 to 15, the errno in the low byte (`sys::setup_failure` splits off the status).
fn packed(step: usize, errno: nix::errno::Errno) -> io::Error {
    let step = i32::try_from(step + 1).unwrap_or(0).min(0xff);
    io::Error::from_raw_os_error((EXIT_NAMESPACE << 16) | (step << 8) | (errno as i32 & 0xff))
}

/// One step, in the child. No allocation.
fn run(step: &Step) -> nix::Result<()> {
    use nix::errno::Errno;
    let none = None::<&CStr>;
    match step {
        Step::Unshare(flags) => unshare(*flags),
        Step::UserNamespace { uid_map, gid_map } => {
            let write = |path: &CStr, data: &[u8]| -> nix::Result<()> {
                let flags = nix::fcntl::OFlag::O_WRONLY | nix::fcntl::OFlag::O_CLOEXEC;
                let fd = nix::fcntl::open(path, flags, nix::sys::stat::Mode::empty())?;
                nix::unistd::write(&fd, data).map(drop)
            };
            unshare(CloneFlags::CLONE_NEWUSER)?;
            write(c"/proc/self/setgroups", b"deny")?;
            write(c"/proc/self/uid_map", uid_map.as_bytes())?;
            write(c"/proc/self/gid_map", gid_map.as_bytes())
        }
        Step::Propagate(target, flags) => mount(
            none,
            target.as_c_str(),
            none,
            *flags | MsFlags::MS_REC,
            none,
        ),
        Step::Bind {
            source,
            target,
            flags,
        } => mount(
            Some(source.as_c_str()),
            target.as_c_str(),
            none,
            *flags,
            none,
        ),
        Step::Remount { target, flags } => {
            let flags = *flags | MsFlags::MS_REMOUNT | MsFlags::MS_BIND;
            mount(none, target.as_c_str(), none, flags, none)
        }
        Step::Tmpfs {
            target,
            flags,
            data,
        } => mount(
            Some(c"tmpfs"),
            target.as_c_str(),
            Some(c"tmpfs"),
            *flags,
            Some(data.as_c_str()),
        ),
        Step::Mkdir(path) => nix::unistd::mkdir(
            path.as_c_str(),
            nix::sys::stat::Mode::from_bits_truncate(0o755),
        ),
        Step::Touch(path) => {
            let flags = nix::fcntl::OFlag::O_WRONLY
                | nix::fcntl::OFlag::O_CREAT
                | nix::fcntl::OFlag::O_CLOEXEC;
            let mode = nix::sys::stat::Mode::from_bits_truncate(0o644);
            nix::fcntl::open(path.as_c_str(), flags, mode).map(drop)
        }
        Step::Symlink { target, path } => {
            nix::unistd::symlinkat(*target, nix::fcntl::AT_FDCWD, path.as_c_str())
        }
        Step::Procfs { target, data } => {
            let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
            let proc = |data| mount(Some(c"proc"), target.as_c_str(), Some(c"proc"), flags, data);
            match proc(Some(data.as_c_str())) {
                Err(Errno::EINVAL) => proc(None),
                Err(Errno::EPERM) => Ok(()),
                other => other,
            }
        }
        Step::EnterRoot {
            staging,
            move_onto_root,
        } => {
            nix::unistd::chdir(staging.as_c_str())?;
            if *move_onto_root {
                mount(Some(c"."), c"/", none, MsFlags::MS_MOVE, none)?;
            }
            nix::unistd::chroot(c".")?;
            nix::unistd::chdir(c"/")
        }
    }
}

impl Step {
    /// The path it mounts on or creates (None: not one path).
    fn target(&self) -> Option<&CStr> {
        match self {
            Step::Bind { target, .. }
            | Step::Remount { target, .. }
            | Step::Tmpfs { target, .. }
            | Step::Procfs { target, .. }
            | Step::Mkdir(target)
            | Step::Touch(target) => Some(target),
            Step::Symlink { path, .. } => Some(path),
            _ => None,
        }
    }
}

impl Plan {
    fn push(&mut self, step: Step, what: impl Into<String>) {
        self.steps.push((step, what.into()));
        self.optional.push(false);
    }

    /// Let every step strictly under `dir` (a staged path) skip a missing path.
    fn tolerate_missing_under(&mut self, dir: &Path) {
        let prefix = dir.as_os_str().as_bytes();
        for ((step, _), optional) in self.steps.iter().zip(self.optional.iter_mut()) {
            let under = step.target().map(CStr::to_bytes).is_some_and(|t| {
                t.len() > prefix.len() && t.starts_with(prefix) && t[prefix.len()] == b'/'
            });
            *optional |= under;
        }
    }

    /// In the child, between fork and exec: make every mount in order. No allocation.
    pub fn apply(&self) -> io::Result<()> {
        self.apply_with(&[])
    }

    /// [`Plan::apply`], the bind steps numbered in `sources` binding the source given there
    /// instead of their own (a run's PrivateTmp= directories). No allocation.
    fn apply_with(&self, sources: &[(usize, CString)]) -> io::Result<()> {
        for (i, ((step, _), optional)) in self.steps.iter().zip(&self.optional).enumerate() {
            let own = sources.iter().find(|(at, _)| *at == i);
            let result = match (step, own) {
                (Step::Bind { target, flags, .. }, Some((_, source))) => mount(
                    Some(source.as_c_str()),
                    target.as_c_str(),
                    None::<&CStr>,
                    *flags,
                    None::<&CStr>,
                ),
                _ => run(step),
            };
            match result {
                Err(nix::errno::Errno::ENOENT) if *optional => {}
                Err(e) => return Err(packed(i, e)),
                Ok(()) => {}
            }
        }
        Ok(())
    }

    /// The number of mount calls (for tests and `bosun verify`).
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether it makes no call.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// The parent's reading of a failure the child packed (the errno part that
/// `sys::setup_failure` returned for status 226), with the plan ([`RunPlan::labels`]).
pub fn failure(plan: Option<&Plan>, raw: &io::Error) -> NamespaceError {
    let code = raw.raw_os_error().unwrap_or(0);
    let what = usize::try_from(code >> 8)
        .ok()
        .and_then(|step| step.checked_sub(1))
        .and_then(|i| plan?.steps.get(i))
        .map_or_else(
            || "the mount namespace".to_owned(),
            |(_, what)| what.clone(),
        );
    NamespaceError::Step {
        what,
        source: io::Error::from_raw_os_error(code & 0xff),
    }
}

/// How one path of the namespace is treated. For the same path, the first wins (systemd's
/// order: what hides beats what binds beats what protects).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Mode {
    Inaccessible,
    Bind,
    BindReadOnly,
    PrivateTmp,
    PrivateDev,
    Tmpfs,
    TemporaryFs,
    Procfs,
    ReadOnly,
    ReadWrite,
    NoExec,
    Exec,
}

impl Mode {
    fn read_only(self) -> bool {
        matches!(
            self,
            Mode::Inaccessible
                | Mode::BindReadOnly
                | Mode::PrivateDev
                | Mode::Tmpfs
                | Mode::ReadOnly
        )
    }
}

/// One path of the namespace, resolved on the host.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Entry {
    path: PathBuf,
    mode: Mode,
    /// What is bound there (Bind, BindReadOnly, PrivateTmp).
    source: Option<PathBuf>,
    /// MS_REC for a bind; for Inaccessible, whether the path is a directory.
    recursive: bool,
    /// TemporaryFileSystem='s mount flags and options.
    options: Option<(MsFlags, CString)>,
    /// The device, inode and change time of what is bound or covered: a kept plan (and its
    /// kept namespace, which holds the directory itself) is not used for a path made anew or
    /// changed since (a service writing into its ReadWritePaths= makes a new one each start).
    id: (u64, u64, i64),
}

/// Make the staging directory and the inaccessible nodes; returns the staging directory.
/// Made once per root in a process's life (they live in /run, which only bosun writes there).
fn prepare_dirs(root: &Path) -> io::Result<PathBuf> {
    thread_local! {
        static PREPARED: std::cell::RefCell<Option<PathBuf>> = const { std::cell::RefCell::new(None) };
    }
    let staging = root.join(STAGING);
    if PREPARED.with_borrow(|p| p.as_deref() == Some(root)) {
        return Ok(staging);
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(&staging)?;
    let nodes = root.join(INACCESSIBLE);
    fs::DirBuilder::new().recursive(true).create(&nodes)?;
    let dir = nodes.join("dir");
    if !dir.is_dir() {
        fs::DirBuilder::new().create(&dir)?;
    }
    let reg = nodes.join("reg");
    if !reg.is_file() {
        fs::write(&reg, b"")?;
    }
    for node in [dir, reg] {
        fs::set_permissions(node, fs::Permissions::from_mode(0o000))?;
    }
    PREPARED.set(Some(root.to_owned()));
    Ok(staging)
}

/// Whether `path` is `dir` or lies under it: Path::starts_with on the bytes of the resolved,
/// absolute paths a plan holds (the plan compares every mount with every entry, and
/// Path::starts_with parses both into components each time).
fn within(path: &Path, dir: &Path) -> bool {
    let (p, d) = (path.as_os_str().as_bytes(), dir.as_os_str().as_bytes());
    let d = match d {
        [] | [b'/'] => return p.first() == Some(&b'/') || d.is_empty(),
        [rest @ .., b'/'] => rest,
        _ => d,
    };
    p.starts_with(d) && matches!(p.get(d.len()), None | Some(b'/'))
}

fn cstring(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).unwrap_or_default()
}

/// `path` under the staging directory.
fn staged(staging: &Path, path: &Path) -> PathBuf {
    match path.strip_prefix("/") {
        Ok(rest) if rest.as_os_str().is_empty() => staging.to_owned(),
        Ok(rest) => staging.join(rest),
        Err(_) => staging.join(path),
    }
}

/// The common start of every plan: a new namespace, nothing propagating back, the whole
/// tree bound at the staging directory.
fn enter(
    plan: &mut Plan,
    table: &Table,
    staging: &Path,
    uts: bool,
    maps: Option<(CString, CString)>,
) {
    if let Some((uid_map, gid_map)) = maps {
        let step = Step::UserNamespace { uid_map, gid_map };
        plan.push(step, "unshare(CLONE_NEWUSER)");
    }
    let flags = if uts {
        CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWUTS
    } else {
        CloneFlags::CLONE_NEWNS
    };
    plan.push(Step::Unshare(flags), "unshare(CLONE_NEWNS)");
    let root = Path::new("/");
    let tops: Vec<&Path> = if table.is_mount_point(root) {
        vec![root]
    } else {
        // A chroot: every mount bosun sees whose parent it does not see.
        table
            .points
            .iter()
            .filter(|p| !table.points.iter().any(|q| q != *p && within(p, q)))
            .map(PathBuf::as_path)
            .collect()
    };
    for top in tops {
        plan.push(
            Step::Propagate(cstring(top), MsFlags::MS_SLAVE),
            top.display().to_string(),
        );
    }
    plan.push(
        Step::Bind {
            source: c"/".to_owned(),
            target: cstring(staging),
            flags: MsFlags::MS_BIND | MsFlags::MS_REC,
        },
        staging.display().to_string(),
    );
}

/// The plan of a command of `exec`, running under `root`: None when it asks for nothing (or
/// runs with `+`, which the caller decides), or when no namespace can be made here and it
/// asks only for protections that take something away (they are reported at boot). Fails
/// for a path that is not there (without `-`) and, where no namespace can be made, for a
/// directive that changes what the service sees (226/NAMESPACE, as systemd 252).
pub fn plan(
    exec: &ExecContext,
    root: &Path,
    private_tmp: Option<&PrivateTmp>,
) -> Result<Option<RunPlan>, NamespaceError> {
    let asked = asked(exec);
    if asked.is_empty() {
        return Ok(None);
    }
    let maps = match access_for(exec, root) {
        Ok(maps) => maps,
        Err(why) => {
            let changes: Vec<&'static str> = asked
                .iter()
                .filter(|(_, takes_away)| !takes_away)
                .map(|(n, _)| *n)
                .collect();
            if changes.is_empty() {
                return Ok(None);
            }
            return Err(NamespaceError::Unavailable {
                directives: changes,
                why,
            });
        }
    };
    let staging = prepare_dirs(root).map_err(|source| NamespaceError::Resolve {
        path: root.join(STAGING),
        source,
    })?;
    let table = Table::current();
    let list = entries(exec, root, private_tmp, table.generation)?;
    let n = &exec.namespace;
    if list.is_empty() && !n.private_mounts && n.mount_flags.is_none() {
        // Nothing to mount (only `-` paths that are not there): at most the UTS namespace.
        let mut plan = Plan::default();
        if exec.protect_hostname {
            if let Some((uid_map, gid_map)) = maps {
                let step = Step::UserNamespace { uid_map, gid_map };
                plan.push(step, "unshare(CLONE_NEWUSER)");
            }
            plan.push(
                Step::Unshare(CloneFlags::CLONE_NEWUTS),
                "unshare(CLONE_NEWUTS)",
            );
        }
        return Ok((!plan.is_empty()).then(|| RunPlan::new(plan)));
    }
    let extras = Extras {
        proc_data: CString::new(procfs_options(n)).unwrap_or_default(),
        uts: exec.protect_hostname,
        propagation: match n.mount_flags {
            None | Some(Propagation::Shared) => MsFlags::MS_SHARED,
            Some(Propagation::Slave) => MsFlags::MS_SLAVE,
            Some(Propagation::Private) => MsFlags::MS_PRIVATE,
        },
        maps,
    };
    let nodes = root.join(INACCESSIBLE);
    Ok(Some(kept(list, &table, &staging, &nodes, extras)))
}

/// What a plan needs beyond its entries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Extras {
    /// The options of the service's own procfs (ProtectProc=, ProcSubset=).
    proc_data: CString,
    /// A UTS namespace too (ProtectHostname=).
    uts: bool,
    /// MountFlags= (systemd's default: shared), set on the new root at the end.
    propagation: MsFlags,
    /// A user namespace first, with these uid_map and gid_map lines ([`Access`]).
    maps: Option<(CString, CString)>,
}

impl Default for Extras {
    fn default() -> Self {
        Extras {
            proc_data: CString::default(),
            uts: false,
            propagation: MsFlags::MS_SHARED,
            maps: None,
        }
    }
}

/// The flags a read-only or (no)exec remount starts from for an entry's own mount.
fn own_flags(e: &Entry, table: &Table, node: &Path) -> MsFlags {
    match (e.mode, &e.source) {
        (Mode::Inaccessible, _) => {
            table.flags_at(node) | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC
        }
        (Mode::Bind | Mode::BindReadOnly | Mode::PrivateTmp, Some(source)) => {
            table.flags_at(source)
        }
        (Mode::Tmpfs, _) => MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_STRICTATIME,
        (Mode::TemporaryFs, _) => e.options.as_ref().map_or(MsFlags::empty(), |o| o.0),
        (Mode::PrivateDev, _) => MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME,
        (Mode::Procfs, _) => MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        _ => table.flags_at(&e.path),
    }
}

/// The mount calls for `list` (see [`entries::prune`]): the namespace and the staged tree,
/// then every bind and tmpfs (parents first), then one remount per mount whose flags change:
/// read-only trees, each of their mounts on its own with its flags kept, leaving alone what
/// lies at or under a deeper entry (systemd's deny list), then ExecPaths=/NoExecPaths= with
/// a deny list of their own; then the staged tree becomes the root, with MountFlags='s
/// propagation.
fn build(list: &[Entry], table: &Table, staging: &Path, nodes: &Path, extras: &Extras) -> Plan {
    let mut plan = Plan::default();
    enter(&mut plan, table, staging, extras.uts, extras.maps.clone());
    let at = |p: &Path| cstring(&staged(staging, p));
    let node = |e: &Entry| nodes.join(if e.recursive { "dir" } else { "reg" });
    let (exec, access): (Vec<&Entry>, Vec<&Entry>) = list
        .iter()
        .partition(|e| matches!(e.mode, Mode::Exec | Mode::NoExec));
    for e in &access {
        let what = e.path.display().to_string();
        let bind = |source: &Path, recursive: bool| Step::Bind {
            source: cstring(source),
            target: at(&e.path),
            flags: if recursive {
                MsFlags::MS_BIND | MsFlags::MS_REC
            } else {
                MsFlags::MS_BIND
            },
        };
        let step = match (e.mode, &e.source) {
            (Mode::Inaccessible, _) => bind(&node(e), false),
            (Mode::PrivateTmp, Some(source)) => {
                plan.private_tmp.push((plan.steps.len(), e.path.clone()));
                bind(source, e.recursive)
            }
            (Mode::Bind | Mode::BindReadOnly, Some(source)) => bind(source, e.recursive),
            (Mode::Procfs, _) => {
                let data = extras.proc_data.clone();
                plan.push(
                    Step::Procfs {
                        target: at(&e.path),
                        data,
                    },
                    what,
                );
                // What the container mounted in /proc (a read-only /proc/sys, /dev/null on
                // /proc/kcore, ...) covers the new one as it covered the old.
                let inside = |p: &&PathBuf| *p != &e.path && within(p, &e.path);
                for point in table.points.iter().filter(inside) {
                    let top = !table
                        .points
                        .iter()
                        .filter(inside)
                        .any(|q| q != point && within(point, q));
                    if top {
                        let step = Step::Bind {
                            source: cstring(point),
                            target: at(point),
                            flags: MsFlags::MS_BIND | MsFlags::MS_REC,
                        };
                        plan.push(step, point.display().to_string());
                    }
                }
                continue;
            }
            (Mode::PrivateDev, _) => {
                private_dev(&mut plan, &staged(staging, &e.path), table);
                continue;
            }
            (Mode::Tmpfs, _) => Step::Tmpfs {
                target: at(&e.path),
                flags: own_flags(e, table, &node(e)),
                data: c"mode=0755".to_owned(),
            },
            (Mode::TemporaryFs, _) => {
                let (flags, data) = e
                    .options
                    .clone()
                    .unwrap_or((MsFlags::empty(), CString::default()));
                Step::Tmpfs {
                    target: at(&e.path),
                    flags,
                    data,
                }
            }
            // A path that is not a mount point becomes one, so that it can be remounted on
            // its own (and, writable, escape the remount of a read-only parent).
            (Mode::ReadOnly | Mode::ReadWrite, _) if !table.is_mount_point(&e.path) => {
                bind(&staged(staging, &e.path), true)
            }
            _ => continue,
        };
        plan.push(step, what);
    }
    // ExecPaths=/NoExecPaths= on a path that is no mount yet: bound on itself too.
    for e in &exec {
        if !table.is_mount_point(&e.path) && !access.iter().any(|a| a.path == e.path) {
            let path = at(&e.path);
            let step = Step::Bind {
                source: path.clone(),
                target: path,
                flags: MsFlags::MS_BIND | MsFlags::MS_REC,
            };
            plan.push(step, e.path.display().to_string());
        }
    }
    // Every mount whose flags change, with the flags it ends with, in the order first met.
    let mut remounts: Vec<(PathBuf, MsFlags)> = Vec::new();
    let mut index: std::collections::HashMap<PathBuf, usize> = std::collections::HashMap::new();
    let mut change =
        |target: PathBuf, base: MsFlags, on: MsFlags, off: MsFlags| match index.get(&target) {
            Some(&i) => remounts[i].1 = (remounts[i].1 | on) & !off,
            None => {
                index.insert(target.clone(), remounts.len());
                remounts.push((target, (base | on) & !off));
            }
        };
    // The mounts of `tree` mounted at `under` (a bound tree elsewhere): (target, flags).
    let mounts_of = |tree: &Path, under: &Path| -> Vec<(PathBuf, MsFlags)> {
        let points = table
            .points
            .iter()
            .filter(|p| *p != tree && within(p, tree));
        points
            .map(|p| {
                (
                    under.join(p.strip_prefix(tree).unwrap_or(p)),
                    table.flags_at(p),
                )
            })
            .collect()
    };
    let deeper = |e: &Entry, others: &[&Entry], target: &Path| {
        others
            .iter()
            .any(|o| o.path != e.path && within(&o.path, &e.path) && within(target, &o.path))
    };
    for e in access.iter().filter(|e| e.mode.read_only()) {
        change(
            e.path.clone(),
            own_flags(e, table, &node(e)),
            MsFlags::MS_RDONLY,
            MsFlags::empty(),
        );
        let subs = match (e.mode, &e.source) {
            // ExecPaths=/NoExecPaths= bound on themselves in a read-only tree stay read-only
            // (systemd 252's deny list would leave them writable).
            (Mode::ReadOnly, _) => exec
                .iter()
                .filter(|x| x.path != e.path && within(&x.path, &e.path))
                .filter(|x| !table.is_mount_point(&x.path))
                .map(|x| (x.path.clone(), table.flags_at(&x.path)))
                .chain(mounts_of(&e.path, &e.path))
                .collect(),
            (Mode::BindReadOnly, Some(source)) if e.recursive => mounts_of(source, &e.path),
            _ => continue,
        };
        for (target, base) in subs {
            if !deeper(e, &access, &target) {
                change(target, base, MsFlags::MS_RDONLY, MsFlags::empty());
            }
        }
    }
    for e in &exec {
        let (on, off) = match e.mode {
            Mode::NoExec => (MsFlags::MS_NOEXEC, MsFlags::empty()),
            _ => (MsFlags::empty(), MsFlags::MS_NOEXEC),
        };
        // Its own mount, the entries' mounts below it, and the mounts of the tree left where
        // no entry replaced them.
        let own = access.iter().find(|a| a.path == e.path);
        let base = own.map_or_else(
            || table.flags_at(&e.path),
            |a| own_flags(a, table, &node(a)),
        );
        change(e.path.clone(), base, on, off);
        let replaced = |t: &Path| {
            access.iter().any(|a| {
                !matches!(a.mode, Mode::ReadOnly | Mode::ReadWrite)
                    && t != a.path
                    && within(t, &a.path)
            })
        };
        let below = access
            .iter()
            .filter(|a| a.path != e.path && within(&a.path, &e.path))
            .map(|a| (a.path.clone(), own_flags(a, table, &node(a))));
        for (target, base) in below.chain(mounts_of(&e.path, &e.path)) {
            if !deeper(e, &exec, &target) && !replaced(&target) {
                change(target, base, on, off);
            }
        }
    }
    // A kept namespace is shared by the runs' copies, so is a tmpfs made in it: not for
    // TemporaryFileSystem= (writable: each run must start from an empty one).
    let writable_tmpfs = list.iter().any(|e| e.mode == Mode::TemporaryFs);
    // In a chroot (into a directory, or into a mount point: `chroot` into an overlay) the
    // namespace's own root is outside bosun's: setns(2) would put a run there, where the
    // staged tree is not to be found; those make their own.
    let joinable = table.is_mount_point(Path::new("/")) && probe::root_is_namespace_root();
    if extras.maps.is_none() && !writable_tmpfs && joinable {
        let private_tmp = plan
            .private_tmp
            .iter()
            .map(|(_, path)| {
                let flags = remounts.iter().find(|(t, _)| t == path).map(|(_, f)| *f);
                (cstring(path), flags)
            })
            .collect();
        plan.join = Some(Join {
            private_tmp,
            uts: extras.uts,
            propagation: extras.propagation,
        });
    }
    for (target, flags) in remounts {
        let what = target.display().to_string();
        plan.push(
            Step::Remount {
                target: at(&target),
                flags,
            },
            what,
        );
    }
    if let Some(proc) = access.iter().find(|e| e.mode == Mode::Procfs) {
        plan.tolerate_missing_under(&staged(staging, &proc.path));
    }
    plan.push(
        Step::EnterRoot {
            staging: cstring(staging),
            move_onto_root: table.is_mount_point(Path::new("/")),
        },
        "the staged root",
    );
    plan.push(
        Step::Propagate(c"/".to_owned(), extras.propagation),
        "MountFlags=",
    );
    plan
}

mod entries;
mod kept;
mod private;
mod probe;
mod seen;
mod table;
#[cfg(test)]
mod tests;
