//! What a unit's directives name or imply (systemd 252's tables for ProtectSystem=,
//! ProtectHome=, ProtectKernelTunables=, ...), looked up on the host: under bosun's root, with
//! symbolic links followed inside it (the kernel's API filesystems are bosun's own), missing
//! `-` paths left out, then sorted and pruned as systemd prunes them. Reads only.

use std::collections::HashMap;
use std::ffi::CString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use nix::mount::MsFlags;

use super::{Entry, Mode, NamespaceError, PrivateTmp, within};

use crate::unit::install::paths::{self, Node};
use crate::unit::model::ExecContext;
use crate::unit::sandbox::{
    NamespaceSettings, ProtectHome, ProtectProc, ProtectSystem, SandboxPath,
};

/// One path a unit's directives name, before it is looked up.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Want {
    pub(super) path: PathBuf,
    pub(super) optional: bool,
    /// `+`: the host's path, not under bosun's root.
    pub(super) host: bool,
    pub(super) mode: Mode,
    /// What a bind binds: a path under the root, or already the host's.
    source: Option<(PathBuf, bool)>,
    recursive: bool,
    /// TemporaryFileSystem='s options as written.
    options: Option<String>,
}

pub(super) fn want(path: &str, optional: bool, mode: Mode) -> Want {
    Want {
        path: PathBuf::from(path),
        optional,
        host: false,
        mode,
        source: None,
        recursive: true,
        options: None,
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
        options: None,
    })
}

/// Every path `exec` names or implies, in systemd 252's terms (namespace.c's tables for
/// ProtectSystem= and ProtectHome=; the unit's own directories stay writable under
/// ProtectSystem=strict, as compile_read_write_paths() keeps them).
pub(super) fn wants(exec: &ExecContext, private_tmp: Option<&PrivateTmp>) -> Vec<Want> {
    let n = &exec.namespace;
    let mut out: Vec<Want> = Vec::new();
    out.extend(listed(&n.read_write, Mode::ReadWrite));
    out.extend(listed(&n.read_only, Mode::ReadOnly));
    out.extend(listed(&n.inaccessible, Mode::Inaccessible));
    out.extend(listed(&n.exec, Mode::Exec));
    out.extend(listed(&n.no_exec, Mode::NoExec));
    for (path, options) in &n.temporary {
        out.push(Want {
            path: path.clone(),
            options: Some(options.clone()),
            ..want("/", false, Mode::TemporaryFs)
        });
    }
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
            options: None,
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

/// What one plan learnt of each host path it looked at (the paths a unit names share their
/// prefixes: /proc, /sys, /usr, ...). Lives for one plan only: nothing is kept across starts.
#[derive(Default)]
struct Looks(HashMap<PathBuf, Node>);

impl Looks {
    fn look(&mut self, host: &Path) -> Result<Node, nix::errno::Errno> {
        if let Some(node) = self.0.get(host) {
            return Ok(node.clone());
        }
        let node = paths::look(host)?;
        self.0.insert(host.to_owned(), node.clone());
        Ok(node)
    }

    /// Whether the resolved `path` is there and a directory, and its device and inode
    /// (stat(2) semantics: it was resolved, so only a path the chase kept lexically, past a
    /// missing part, is unknown).
    fn metadata(&mut self, path: &Path) -> io::Result<(bool, (u64, u64, i64))> {
        use std::os::unix::fs::MetadataExt;
        match self.look(path) {
            Ok(Node::Other { dir, id }) => Ok((dir, id)),
            Ok(Node::Missing) => Err(io::ErrorKind::NotFound.into()),
            Ok(Node::Link(_)) => fs::metadata(path).map(|m| {
                let ctime = m.ctime().saturating_mul(1_000_000_000) + m.ctime_nsec();
                (m.is_dir(), (m.dev(), m.ino(), ctime))
            }),
            Err(e) => Err(e.into()),
        }
    }
}

/// `path` as a host path: under `root` unless `host`, every symbolic link followed inside
/// that root.
fn resolve(
    root: &Path,
    path: &Path,
    host: bool,
    looks: &mut Looks,
) -> Result<PathBuf, NamespaceError> {
    let base = if host { Path::new("/") } else { root };
    paths::chase_under(Some(base), path, &mut |p| looks.look(p)).map_err(|e| {
        NamespaceError::Resolve {
            path: path.to_owned(),
            source: e.into(),
        }
    })
}

/// The entries of `exec`'s namespace, looked up under `root`, sorted (parents first; for
/// the same path, the first mode wins) and pruned as systemd 252 prunes them: nothing under
/// an inaccessible path, no read-only or writable path under one of the same mode.
///
/// What an earlier start looked up is used again while the directories its paths went through
/// saw no change and no mount changed (`generation`, the mount table's: [`super::seen`]); the
/// run's own PrivateTmp= directories are looked up at every start.
pub(super) fn entries(
    exec: &ExecContext,
    root: &Path,
    private_tmp: Option<&PrivateTmp>,
    generation: u64,
) -> Result<Vec<Entry>, NamespaceError> {
    let wants = wants(exec, private_tmp);
    // The run's own directories are left out of the key: they are new at each start.
    let key: Vec<Want> = wants
        .iter()
        .map(|w| match &w.source {
            Some((_, true)) => Want {
                source: None,
                ..w.clone()
            },
            _ => w.clone(),
        })
        .collect();
    let of_the_run = |w: &Want| matches!(w.source, Some((_, true)));
    // What is not the run's own, kept from an earlier start or looked up now; the run's own
    // are None here, looked up below at every start.
    let mut resolved = match super::seen::get(root, &key, generation) {
        Some(kept) => kept,
        None => {
            let shared = |looks: &mut Looks| -> Result<Vec<Option<Entry>>, NamespaceError> {
                let mut out = Vec::with_capacity(wants.len());
                for w in &wants {
                    out.push(if of_the_run(w) {
                        None
                    } else {
                        resolve_one(root, w, looks)?
                    });
                }
                Ok(out)
            };
            let mut looks = Looks::default();
            let first = shared(&mut looks)?;
            // Kept only when a second look, made once the directories are watched, agrees:
            // a change between the first look and the watches would go unseen otherwise.
            if super::seen::watch(looks.0.keys())
                && shared(&mut Looks::default()).is_ok_and(|second| second == first)
            {
                super::seen::keep(root, key, generation, first.clone());
            }
            first
        }
    };
    let mut own = Looks::default();
    for (slot, w) in resolved.iter_mut().zip(&wants) {
        if of_the_run(w) {
            *slot = resolve_one(root, w, &mut own)?;
        }
    }
    Ok(prune(resolved.into_iter().flatten().collect()))
}

/// One want looked up: its entry, or none for a `-` path that is not there.
fn resolve_one(root: &Path, w: &Want, looks: &mut Looks) -> Result<Option<Entry>, NamespaceError> {
    let path = resolve(root, &w.path, w.host, looks)?;
    let source = match &w.source {
        Some((s, true)) => Some(s.clone()),
        Some((s, false)) => Some(resolve(root, s, false, looks)?),
        None => None,
    };
    let probe = source.as_deref().unwrap_or(&path);
    let (is_dir, id) = match looks.metadata(probe) {
        // The kernel's API files are the kernel's: not made anew (and procfs's change
        // times are those of their in-memory inodes).
        Ok((dir, _)) if w.host => (dir, (0, 0, 0)),
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound && w.optional => return Ok(None),
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
    Ok(Some(Entry {
        recursive: if w.mode == Mode::Inaccessible {
            is_dir
        } else {
            w.recursive
        },
        path,
        mode: w.mode,
        source,
        options: w.options.as_deref().map(tmpfs_options),
        id,
    }))
}

/// TemporaryFileSystem='s options: the mount flags they name (`ro`, `nosuid`, ...), on top of
/// systemd's MS_NODEV|MS_STRICTATIME, and the rest for tmpfs, with `mode=0755` unless given.
pub(super) fn tmpfs_options(text: &str) -> (MsFlags, CString) {
    let mut flags = MsFlags::MS_NODEV | MsFlags::MS_STRICTATIME;
    let mut data: Vec<&str> = Vec::new();
    for word in text.split(',').filter(|w| !w.is_empty()) {
        let (on, off) = match word {
            "ro" => (MsFlags::MS_RDONLY, MsFlags::empty()),
            "rw" => (MsFlags::empty(), MsFlags::MS_RDONLY),
            "nosuid" => (MsFlags::MS_NOSUID, MsFlags::empty()),
            "suid" => (MsFlags::empty(), MsFlags::MS_NOSUID),
            "nodev" => (MsFlags::MS_NODEV, MsFlags::empty()),
            "dev" => (MsFlags::empty(), MsFlags::MS_NODEV),
            "noexec" => (MsFlags::MS_NOEXEC, MsFlags::empty()),
            "exec" => (MsFlags::empty(), MsFlags::MS_NOEXEC),
            _ => {
                data.push(word);
                continue;
            }
        };
        flags = (flags | on) & !off;
    }
    if !data.iter().any(|w| w.starts_with("mode=")) {
        data.insert(0, "mode=0755");
    }
    (flags, CString::new(data.join(",")).unwrap_or_default())
}

/// Sort, drop duplicates, what an inaccessible path (or a private /dev) hides, and no-ops.
/// ExecPaths=/NoExecPaths= are a list of their own (systemd's third round): sorted, for the
/// same path NoExecPaths= first, after the others.
pub(super) fn prune(list: Vec<Entry>) -> Vec<Entry> {
    let (mut exec, mut list): (Vec<Entry>, Vec<Entry>) = list
        .into_iter()
        .partition(|e| matches!(e.mode, Mode::Exec | Mode::NoExec));
    for l in [&mut list, &mut exec] {
        l.sort_by(|a, b| a.path.cmp(&b.path).then(a.mode.cmp(&b.mode)));
        l.dedup_by(|later, first| later.path == first.path);
    }
    let mut kept: Vec<Entry> = Vec::new();
    for e in list {
        let parent = kept.iter().rev().find(|p| within(&e.path, &p.path));
        let hidden = kept.iter().any(|p| {
            matches!(p.mode, Mode::Inaccessible | Mode::PrivateDev) && within(&e.path, &p.path)
        });
        let nop = matches!(e.mode, Mode::ReadOnly | Mode::ReadWrite)
            && parent.is_some_and(|p| p.mode == e.mode);
        if !hidden && !nop {
            kept.push(e);
        }
    }
    kept.extend(exec);
    kept
}

/// The options of the service's own procfs: `hidepid=` (ProtectProc=), `subset=pid`.
pub(super) fn procfs_options(n: &NamespaceSettings) -> String {
    let mut options = Vec::new();
    if n.protect_proc != ProtectProc::Default {
        options.push(format!("hidepid={}", n.protect_proc.word()));
    }
    if n.proc_subset_pid {
        options.push("subset=pid".to_owned());
    }
    options.join(",")
}
