//! The mount namespace of a command (systemd.exec(5) "Sandboxing": PrivateTmp=,
//! ProtectSystem=, ProtectHome=, ReadWritePaths=, ReadOnlyPaths=, InaccessiblePaths=,
//! BindPaths=, BindReadOnlyPaths=), planned in the parent as systemd 252's setup_namespace()
//! applies them, and the fixed list of mount calls its child makes ([`Plan::apply`]: nix's
//! `mount`, `unshare`, `chdir` and `chroot` on prepared `CStr`s, which allocate nothing).
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
//! with `+` is the host's. ProtectSystem=strict covers the whole tree (`/`).
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
use nix::sys::statvfs::{FsFlags, statvfs};

use crate::unit::install::paths::LookupPaths;
use crate::unit::model::ExecContext;
use crate::unit::sandbox::{ProtectHome, ProtectProc, ProtectSystem, SandboxPath};
use probe::asked;
pub use probe::{not_in_force, probe, protections};

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
#[derive(Debug)]
enum Step {
    Unshare(CloneFlags),
    /// mount(NULL, target, MS_SLAVE|MS_REC): nothing mounted here reaches the host.
    Slave(CString),
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
        data: &'static CStr,
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
}

/// A failed step as the child reports it: systemd's 226 above bit 16, the step's number + 1
/// in bits 8 to 15, the errno in the low byte (`sys::setup_failure` splits off the status).
fn packed(step: usize, errno: nix::errno::Errno) -> io::Error {
    let step = i32::try_from(step + 1).unwrap_or(0).min(0xff);
    io::Error::from_raw_os_error((EXIT_NAMESPACE << 16) | (step << 8) | (errno as i32 & 0xff))
}

impl Plan {
    fn push(&mut self, step: Step, what: impl Into<String>) {
        self.steps.push((step, what.into()));
    }

    /// In the child, between fork and exec: make every mount in order. No allocation.
    pub fn apply(&self) -> io::Result<()> {
        let none = None::<&CStr>;
        for (i, (step, _)) in self.steps.iter().enumerate() {
            let fail = |e| packed(i, e);
            match step {
                Step::Unshare(flags) => unshare(*flags).map_err(fail)?,
                Step::Slave(target) => {
                    mount(
                        none,
                        target.as_c_str(),
                        none,
                        MsFlags::MS_SLAVE | MsFlags::MS_REC,
                        none,
                    )
                    .map_err(fail)?;
                }
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
                )
                .map_err(fail)?,
                Step::Remount { target, flags } => {
                    let flags = *flags | MsFlags::MS_REMOUNT | MsFlags::MS_BIND;
                    mount(none, target.as_c_str(), none, flags, none).map_err(fail)?;
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
                    Some(*data),
                )
                .map_err(fail)?,
                Step::Mkdir(path) => {
                    nix::unistd::mkdir(
                        path.as_c_str(),
                        nix::sys::stat::Mode::from_bits_truncate(0o755),
                    )
                    .map_err(fail)?;
                }
                Step::Touch(path) => {
                    let flags = nix::fcntl::OFlag::O_WRONLY
                        | nix::fcntl::OFlag::O_CREAT
                        | nix::fcntl::OFlag::O_CLOEXEC;
                    let mode = nix::sys::stat::Mode::from_bits_truncate(0o644);
                    drop(nix::fcntl::open(path.as_c_str(), flags, mode).map_err(fail)?);
                }
                Step::Symlink { target, path } => {
                    nix::unistd::symlinkat(*target, nix::fcntl::AT_FDCWD, path.as_c_str())
                        .map_err(fail)?;
                }
                Step::Procfs { target, data } => {
                    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
                    let proc =
                        |data| mount(Some(c"proc"), target.as_c_str(), Some(c"proc"), flags, data);
                    match proc(Some(data.as_c_str())) {
                        Err(nix::errno::Errno::EINVAL) => proc(None),
                        other => other,
                    }
                    .or_else(|e| {
                        if e == nix::errno::Errno::EPERM {
                            Ok(())
                        } else {
                            Err(e)
                        }
                    })
                    .map_err(fail)?;
                }
                Step::EnterRoot {
                    staging,
                    move_onto_root,
                } => {
                    nix::unistd::chdir(staging.as_c_str()).map_err(fail)?;
                    if *move_onto_root {
                        mount(Some(c"."), c"/", none, MsFlags::MS_MOVE, none).map_err(fail)?;
                    }
                    nix::unistd::chroot(c".").map_err(fail)?;
                    nix::unistd::chdir(c"/").map_err(fail)?;
                }
            }
        }
        Ok(())
    }

    /// The step sys.rs runs in the child (see [`Plan::apply`]).
    pub fn into_step(self) -> crate::sys::ChildStep {
        crate::sys::ChildStep(Box::new(move || self.apply()))
    }

    /// What each step is about, in order (see [`failure`]).
    pub fn labels(&self) -> Vec<String> {
        self.steps.iter().map(|(_, what)| what.clone()).collect()
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
/// `sys::setup_failure` returned for status 226), with the plan's [`Plan::labels`].
pub fn failure(labels: &[String], raw: &io::Error) -> NamespaceError {
    let code = raw.raw_os_error().unwrap_or(0);
    let what = usize::try_from(code >> 8)
        .ok()
        .and_then(|step| step.checked_sub(1))
        .and_then(|i| labels.get(i))
        .map_or_else(|| "the mount namespace".to_owned(), Clone::clone);
    NamespaceError::Step {
        what,
        source: io::Error::from_raw_os_error(code & 0xff),
    }
}

/// How one path of the namespace is treated. For the same path, the first wins (systemd's
/// order: what hides beats what binds beats what protects).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
    Inaccessible,
    Bind,
    BindReadOnly,
    PrivateTmp,
    PrivateDev,
    Tmpfs,
    Procfs,
    ReadOnly,
    ReadWrite,
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
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    path: PathBuf,
    mode: Mode,
    /// What is bound there (Bind, BindReadOnly, PrivateTmp).
    source: Option<PathBuf>,
    /// MS_REC for a bind; for Inaccessible, whether the path is a directory.
    recursive: bool,
}

/// The directories a run's PrivateTmp= binds on /tmp and /var/tmp (systemd:
/// `/tmp/systemd-private-BOOTID-UNIT-RANDOM/tmp`, 01777, in a 0700 directory), made once per
/// start and shared by the run's commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateTmp {
    /// The two 0700 directories (under /tmp and /var/tmp), removed when the unit stops.
    pub top: [PathBuf; 2],
}

impl PrivateTmp {
    /// Make them under `root` for `unit`.
    pub fn make(unit: &str, root: &Path) -> io::Result<PrivateTmp> {
        let boot = fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .map(|b| b.trim().replace('-', ""))
            .unwrap_or_default();
        let random: String = crate::vocab::id::random_id().chars().take(6).collect();
        let name = format!("systemd-private-{boot}-{unit}-{random}");
        let make = |base: &str| -> io::Result<PathBuf> {
            let top = root.join(base).join(&name);
            fs::DirBuilder::new().mode(0o700).create(&top)?;
            let tmp = top.join("tmp");
            fs::DirBuilder::new().create(&tmp)?;
            fs::set_permissions(&tmp, fs::Permissions::from_mode(0o1777))?;
            Ok(top)
        };
        let tmp = make("tmp")?;
        match make("var/tmp") {
            Ok(var) => Ok(PrivateTmp { top: [tmp, var] }),
            Err(e) => {
                let _ = fs::remove_dir_all(&tmp);
                Err(e)
            }
        }
    }

    /// Remove both trees (at stop); the first error is returned, the rest still removed.
    pub fn remove(&self) -> io::Result<()> {
        let mut result = Ok(());
        for top in &self.top {
            match fs::remove_dir_all(top) {
                Err(e) if e.kind() != io::ErrorKind::NotFound && result.is_ok() => result = Err(e),
                _ => {}
            }
        }
        result
    }
}

/// Make the staging directory and the inaccessible nodes; returns the staging directory.
fn prepare_dirs(root: &Path) -> io::Result<PathBuf> {
    let staging = root.join(STAGING);
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
    Ok(staging)
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

/// The mount points of this namespace (/proc/self/mountinfo) and how the flags a bind
/// remount must keep are learnt for a path ([`kept_flags`]; a table of its own in tests).
#[derive(Debug, Clone)]
struct Table {
    points: Vec<PathBuf>,
    flags_of: fn(&Path) -> MsFlags,
}

/// The flags of the mount holding `path` that a bind remount must keep: statvfs(3) of it
/// (mountinfo's options mix in the super block's).
fn kept_flags(path: &Path) -> MsFlags {
    let Ok(st) = statvfs(path) else {
        return MsFlags::empty();
    };
    let f = st.flags();
    let mut out = MsFlags::empty();
    for (st_flag, ms_flag) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
        (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
    ] {
        if f.contains(st_flag) {
            out |= ms_flag;
        }
    }
    if !out.intersects(MsFlags::MS_NOATIME | MsFlags::MS_RELATIME) {
        out |= MsFlags::MS_STRICTATIME;
    }
    out
}

impl Table {
    fn read() -> Table {
        let text = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        Table {
            points: visible_points(&text),
            flags_of: kept_flags,
        }
    }

    fn flags_at(&self, path: &Path) -> MsFlags {
        (self.flags_of)(path)
    }

    fn is_mount_point(&self, path: &Path) -> bool {
        self.points.iter().any(|p| p == path)
    }
}

/// The mount points of mountinfo `text` that a path reaches, sorted: not those a later mount
/// covers (a tmpfs on /run hides the /run/netns listed before it), which cannot be remounted
/// by path. A mount is hidden when its parent is, when a sibling (same parent) sits on one of
/// its ancestors, or when a mount of its own sits on its root.
fn visible_points(text: &str) -> Vec<PathBuf> {
    let ids = text.lines().filter(|l| l.contains(" - ")).map(|l| {
        let mut f = l.split(' ');
        let id: u64 = f.next().and_then(|x| x.parse().ok()).unwrap_or(0);
        (
            id,
            f.next().and_then(|x| x.parse::<u64>().ok()).unwrap_or(0),
        )
    });
    let mounts: Vec<(u64, u64, PathBuf)> = ids
        .zip(crate::vocab::mountinfo::parse_mountinfo(text))
        .map(|((id, parent), m)| (id, parent, m.point))
        .collect();
    let by_id = |id: u64| mounts.iter().find(|m| m.0 == id);
    // Covered, walking up from the child `from` (which may itself be the mount on its root).
    let covered = |(id, parent, point): &(u64, u64, PathBuf), from: Option<u64>| {
        mounts.iter().any(|(other, p, q)| {
            (other != id && p == parent && q != point && point.starts_with(q))
                || (p == id && q == point && Some(*other) != from)
        })
    };
    let mut points: Vec<PathBuf> = mounts
        .iter()
        .filter(|m| {
            let (mut cur, mut from) = (Some(*m), None);
            let mut hops = 0;
            while let Some(c) = cur {
                if covered(c, from) || hops > mounts.len() {
                    return false;
                }
                hops += 1;
                from = Some(c.0);
                cur = by_id(c.1).filter(|p| p.0 != c.0);
            }
            true
        })
        .map(|m| m.2.clone())
        .collect();
    points.sort();
    points.dedup();
    points
}

/// The common start of every plan: a new namespace, nothing propagating back, the whole
/// tree bound at the staging directory.
fn enter(plan: &mut Plan, table: &Table, staging: &Path, uts: bool) {
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
            .filter(|p| !table.points.iter().any(|q| q != *p && p.starts_with(q)))
            .map(PathBuf::as_path)
            .collect()
    };
    for top in tops {
        plan.push(Step::Slave(cstring(top)), top.display().to_string());
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

/// One path a unit's directives name, before it is looked up.
struct Want {
    path: PathBuf,
    optional: bool,
    /// `+`: the host's path, not under bosun's root.
    host: bool,
    mode: Mode,
    /// What a bind binds: a path under the root, or already the host's.
    source: Option<(PathBuf, bool)>,
    recursive: bool,
}

fn want(path: &str, optional: bool, mode: Mode) -> Want {
    Want {
        path: PathBuf::from(path),
        optional,
        host: false,
        mode,
        source: None,
        recursive: true,
    }
}

fn listed(list: &[SandboxPath], mode: Mode) -> impl Iterator<Item = Want> + '_ {
    list.iter().map(move |p| Want {
        path: p.path.clone(),
        optional: p.optional,
        host: p.host,
        mode,
        source: None,
        recursive: true,
    })
}

/// Every path `exec` names or implies, in systemd 252's terms (namespace.c's tables for
/// ProtectSystem= and ProtectHome=; the unit's own directories stay writable under
/// ProtectSystem=strict, as compile_read_write_paths() keeps them).
fn wants(exec: &ExecContext, private_tmp: Option<&PrivateTmp>) -> Vec<Want> {
    let n = &exec.namespace;
    let mut out: Vec<Want> = Vec::new();
    out.extend(listed(&n.read_write, Mode::ReadWrite));
    out.extend(listed(&n.read_only, Mode::ReadOnly));
    out.extend(listed(&n.inaccessible, Mode::Inaccessible));
    for b in &n.binds {
        out.push(Want {
            path: b.destination.clone(),
            optional: b.optional,
            host: false,
            mode: if b.read_only {
                Mode::BindReadOnly
            } else {
                Mode::Bind
            },
            source: Some((b.source.clone(), false)),
            recursive: b.recursive,
        });
    }
    if let Some(dirs) = private_tmp.filter(|_| n.private_tmp) {
        for (path, top) in [("/tmp", &dirs.top[0]), ("/var/tmp", &dirs.top[1])] {
            let mut w = want(path, false, Mode::PrivateTmp);
            w.source = Some((top.join("tmp"), true));
            out.push(w);
        }
    }
    let home = match n.protect_home {
        ProtectHome::No => None,
        ProtectHome::Yes => Some(Mode::Inaccessible),
        ProtectHome::ReadOnly => Some(Mode::ReadOnly),
        ProtectHome::Tmpfs => Some(Mode::Tmpfs),
    };
    if let Some(mode) = home {
        out.extend(["/home", "/run/user", "/root"].map(|p| want(p, true, mode)));
    }
    // The kernel's API filesystems are bosun's own, never under its root.
    let api = |p, mode| Want {
        host: true,
        ..want(p, true, mode)
    };
    if n.private_devices {
        out.push(api("/dev", Mode::PrivateDev));
    }
    if n.protect_kernel_tunables {
        let read_only = [
            "/proc/acpi",
            "/proc/apm",
            "/proc/asound",
            "/proc/bus",
            "/proc/fs",
            "/proc/irq",
            "/proc/latency_stats",
            "/proc/mtrr",
            "/proc/scsi",
            "/proc/sys",
            "/proc/sysrq-trigger",
            "/proc/timer_stats",
            "/sys",
            "/sys/fs/bpf",
            "/sys/kernel/debug",
            "/sys/kernel/tracing",
        ];
        out.extend(read_only.map(|p| api(p, Mode::ReadOnly)));
        out.extend(["/proc/kallsyms", "/proc/kcore"].map(|p| api(p, Mode::Inaccessible)));
        out.extend(["/sys/fs/cgroup", "/sys/fs/selinux"].map(|p| api(p, Mode::ReadWrite)));
    }
    if n.protect_control_groups {
        out.push(api("/sys/fs/cgroup", Mode::ReadOnly));
    }
    if exec.protect_kernel_modules {
        out.extend(["/usr/lib/modules", "/lib/modules"].map(|p| want(p, true, Mode::Inaccessible)));
    }
    if exec.protect_kernel_logs {
        out.extend(["/proc/kmsg", "/dev/kmsg"].map(|p| api(p, Mode::Inaccessible)));
    }
    if n.protect_proc != ProtectProc::Default || n.proc_subset_pid {
        out.push(api("/proc", Mode::Procfs));
    }
    let ro = |p| want(p, false, Mode::ReadOnly);
    let ro_optional = |p| want(p, true, Mode::ReadOnly);
    match n.protect_system {
        ProtectSystem::No => {}
        ProtectSystem::Yes => out.extend([ro("/usr"), ro_optional("/boot"), ro_optional("/efi")]),
        ProtectSystem::Full => out.extend([
            ro("/usr"),
            ro_optional("/boot"),
            ro_optional("/efi"),
            ro("/etc"),
        ]),
        ProtectSystem::Strict => {
            out.push(ro("/"));
            // The API filesystems (PrivateDevices=, ProtectKernelTunables= protect those) and
            // the homes (ProtectHome=) stay as they are: namespace.c's strict table.
            let kept = ["/dev", "/proc", "/sys", "/home", "/run/user", "/root"];
            out.extend(kept.map(|p| want(p, true, Mode::ReadWrite)));
            let dirs = [
                ("/run", &exec.runtime_directory),
                ("/var/lib", &exec.state_directory),
                ("/var/cache", &exec.cache_directory),
                ("/var/log", &exec.logs_directory),
            ];
            for (base, names) in dirs {
                for name in names {
                    let mut w = want(base, true, Mode::ReadWrite);
                    w.path.push(name);
                    out.push(w);
                }
            }
        }
    }
    out
}

/// `path` as a host path: under `root` unless `host`, every symbolic link followed inside
/// that root.
fn resolve(root: &Path, path: &Path, host: bool) -> Result<PathBuf, NamespaceError> {
    let base = if host { Path::new("/") } else { root };
    let lookup = LookupPaths::system(base, None);
    lookup
        .chase_follow(&lookup.prefixed(path))
        .map_err(|e| NamespaceError::Resolve {
            path: path.to_owned(),
            source: e.into(),
        })
}

/// The entries of `exec`'s namespace, looked up under `root`, sorted (parents first; for
/// the same path, the first mode wins) and pruned as systemd 252 prunes them: nothing under
/// an inaccessible path, no read-only or writable path under one of the same mode.
fn entries(
    exec: &ExecContext,
    root: &Path,
    private_tmp: Option<&PrivateTmp>,
) -> Result<Vec<Entry>, NamespaceError> {
    let mut out = Vec::new();
    for w in wants(exec, private_tmp) {
        let path = resolve(root, &w.path, w.host)?;
        let source = match &w.source {
            Some((s, true)) => Some(s.clone()),
            Some((s, false)) => Some(resolve(root, s, false)?),
            None => None,
        };
        let probe = source.as_deref().unwrap_or(&path);
        let meta = match fs::metadata(probe) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound && w.optional => continue,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let path = if w.source.is_some() { probe } else { &w.path };
                return Err(NamespaceError::Missing {
                    path: path.to_owned(),
                });
            }
            Err(source) => {
                return Err(NamespaceError::Resolve {
                    path: probe.to_owned(),
                    source,
                });
            }
        };
        out.push(Entry {
            recursive: if w.mode == Mode::Inaccessible {
                meta.is_dir()
            } else {
                w.recursive
            },
            path,
            mode: w.mode,
            source,
        });
    }
    Ok(prune(out))
}

/// Sort, drop duplicates, what an inaccessible path hides, and no-ops.
fn prune(mut list: Vec<Entry>) -> Vec<Entry> {
    list.sort_by(|a, b| a.path.cmp(&b.path).then(a.mode.cmp(&b.mode)));
    list.dedup_by(|later, first| later.path == first.path);
    let mut kept: Vec<Entry> = Vec::new();
    for e in list {
        let parent = kept.iter().rev().find(|p| e.path.starts_with(&p.path));
        let hidden = kept.iter().any(|p| {
            matches!(p.mode, Mode::Inaccessible | Mode::PrivateDev) && e.path.starts_with(&p.path)
        });
        let nop = matches!(e.mode, Mode::ReadOnly | Mode::ReadWrite)
            && parent.is_some_and(|p| p.mode == e.mode);
        if !hidden && !nop {
            kept.push(e);
        }
    }
    kept
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
) -> Result<Option<Plan>, NamespaceError> {
    let asked = asked(exec);
    if asked.is_empty() {
        return Ok(None);
    }
    if let Err(why) = probe(root) {
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
            why: why.clone(),
        });
    }
    let staging = prepare_dirs(root).map_err(|source| NamespaceError::Resolve {
        path: root.join(STAGING),
        source,
    })?;
    let list = entries(exec, root, private_tmp)?;
    if list.is_empty() {
        // Nothing to mount (only `-` paths that are not there): at most the UTS namespace.
        let mut plan = Plan::default();
        if exec.protect_hostname {
            plan.push(
                Step::Unshare(CloneFlags::CLONE_NEWUTS),
                "unshare(CLONE_NEWUTS)",
            );
        }
        return Ok((!plan.is_empty()).then_some(plan));
    }
    let proc_data = CString::new(procfs_options(&exec.namespace)).unwrap_or_default();
    let (table, nodes) = (Table::read(), root.join(INACCESSIBLE));
    let uts = exec.protect_hostname;
    Ok(Some(build(
        &list, &table, &staging, &nodes, &proc_data, uts,
    )))
}

/// The options of the service's own procfs: `hidepid=` (ProtectProc=), `subset=pid`.
fn procfs_options(n: &crate::unit::sandbox::NamespaceSettings) -> String {
    let mut options = Vec::new();
    if n.protect_proc != ProtectProc::Default {
        options.push(format!("hidepid={}", n.protect_proc.word()));
    }
    if n.proc_subset_pid {
        options.push("subset=pid".to_owned());
    }
    options.join(",")
}

/// The mount calls for `list` (see [`prune`]): the namespace and the staged tree, then every
/// bind and tmpfs (parents first), then every read-only remount, each mount of a read-only
/// tree on its own with its flags kept, leaving alone what lies at or under a deeper entry
/// (systemd's deny list), then the staged tree becomes the root.
fn build(
    list: &[Entry],
    table: &Table,
    staging: &Path,
    nodes: &Path,
    proc: &CStr,
    uts: bool,
) -> Plan {
    let mut plan = Plan::default();
    enter(&mut plan, table, staging, uts);
    let at = |p: &Path| cstring(&staged(staging, p));
    let node = |e: &Entry| nodes.join(if e.recursive { "dir" } else { "reg" });
    for e in list {
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
            (Mode::Bind | Mode::BindReadOnly | Mode::PrivateTmp, Some(source)) => {
                bind(source, e.recursive)
            }
            (Mode::Procfs, _) => {
                plan.push(
                    Step::Procfs {
                        target: at(&e.path),
                        data: proc.to_owned(),
                    },
                    what,
                );
                // What the container mounted in /proc (a read-only /proc/sys, /dev/null on
                // /proc/kcore, ...) covers the new one as it covered the old.
                let inside = |p: &&PathBuf| *p != &e.path && p.starts_with(&e.path);
                for point in table.points.iter().filter(inside) {
                    let top = !table
                        .points
                        .iter()
                        .filter(inside)
                        .any(|q| q != point && point.starts_with(q));
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
                flags: MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_STRICTATIME,
                data: c"mode=0755",
            },
            // A path that is not a mount point becomes one, so that it can be remounted on
            // its own (and, writable, escape the remount of a read-only parent).
            (Mode::ReadOnly | Mode::ReadWrite, _) if !table.is_mount_point(&e.path) => {
                bind(&staged(staging, &e.path), true)
            }
            _ => continue,
        };
        plan.push(step, what);
    }
    for e in list.iter().filter(|e| e.mode.read_only()) {
        let own = match (e.mode, &e.source) {
            (Mode::Inaccessible, _) => {
                table.flags_at(&node(e))
                    | MsFlags::MS_NOSUID
                    | MsFlags::MS_NODEV
                    | MsFlags::MS_NOEXEC
            }
            (Mode::BindReadOnly, Some(source)) => table.flags_at(source),
            (Mode::Tmpfs, _) => MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_STRICTATIME,
            (Mode::PrivateDev, _) => MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME,
            _ => table.flags_at(&e.path),
        };
        let what = e.path.display().to_string();
        plan.push(
            Step::Remount {
                target: at(&e.path),
                flags: own | MsFlags::MS_RDONLY,
            },
            what,
        );
        let tree = match (e.mode, &e.source) {
            (Mode::ReadOnly, _) => &e.path,
            (Mode::BindReadOnly, Some(source)) if e.recursive => source,
            _ => continue,
        };
        for point in table
            .points
            .iter()
            .filter(|p| *p != tree && p.starts_with(tree))
        {
            let target = e.path.join(point.strip_prefix(tree).unwrap_or(point));
            let denied = list.iter().any(|o| {
                o.path != e.path && o.path.starts_with(&e.path) && target.starts_with(&o.path)
            });
            if !denied {
                let what = target.display().to_string();
                plan.push(
                    Step::Remount {
                        target: at(&target),
                        flags: table.flags_at(point) | MsFlags::MS_RDONLY,
                    },
                    what,
                );
            }
        }
    }
    plan.push(
        Step::EnterRoot {
            staging: cstring(staging),
            move_onto_root: table.is_mount_point(Path::new("/")),
        },
        "the staged root",
    );
    plan
}

mod probe;
#[cfg(test)]
mod tests;

/// PrivateDevices=: a tmpfs on the staged /dev (`dev`) with the pseudo-devices of systemd
/// 252's mount_private_dev() (null, zero, full, random, urandom, tty), bound from bosun's own
/// /dev onto empty files (no CAP_MKNOD needed), its /dev/pts, /dev/shm, /dev/mqueue and
/// /dev/hugepages bound where bosun has them, /dev/log where it is (bosun's journal), and the
/// usual links; made read-only later, as systemd does.
fn private_dev(plan: &mut Plan, dev: &Path, table: &Table) {
    let what = dev.display().to_string();
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME;
    let target = cstring(dev);
    plan.push(
        Step::Tmpfs {
            target,
            flags,
            data: c"mode=0755",
        },
        what,
    );
    let host = Path::new("/dev");
    let bind = |plan: &mut Plan, name: &str, recursive: bool| {
        let flags = if recursive {
            MsFlags::MS_BIND | MsFlags::MS_REC
        } else {
            MsFlags::MS_BIND
        };
        let step = Step::Bind {
            source: cstring(&host.join(name)),
            target: cstring(&dev.join(name)),
            flags,
        };
        plan.push(step, host.join(name).display().to_string());
    };
    for node in ["null", "zero", "full", "random", "urandom", "tty", "log"] {
        if fs::symlink_metadata(host.join(node)).is_ok_and(|m| !m.is_dir() && !m.is_symlink()) {
            plan.push(Step::Touch(cstring(&dev.join(node))), node);
            bind(plan, node, false);
        }
    }
    for dir in ["pts", "shm", "mqueue", "hugepages"] {
        if table.is_mount_point(&host.join(dir)) {
            plan.push(Step::Mkdir(cstring(&dev.join(dir))), dir);
            bind(plan, dir, true);
        }
    }
    let links: [(&str, &'static CStr); 5] = [
        ("ptmx", c"pts/ptmx"),
        ("fd", c"/proc/self/fd"),
        ("stdin", c"/proc/self/fd/0"),
        ("stdout", c"/proc/self/fd/1"),
        ("stderr", c"/proc/self/fd/2"),
    ];
    for (name, target) in links {
        let path = cstring(&dev.join(name));
        plan.push(Step::Symlink { target, path }, name);
    }
}
