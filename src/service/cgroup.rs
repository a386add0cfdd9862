//! Exact process tracking with cgroup v2, where the container has a writable, delegated cgroup2
//! tree: one child cgroup per unit under bosun's own cgroup, joined by each service process
//! before it execs (so no fork can escape), listed and killed as a whole (`cgroup.kill` where
//! the kernel has it), watched for emptiness through `cgroup.events`. Only tracking: no
//! controller is enabled, so bosun's own cgroup may keep holding PID 1 itself.
//!
//! Where this is unavailable (cgroup v1 or hybrid hosts, a read-only /sys/fs/cgroup — the
//! common docker case), [`Cgroups::detect`] says why and the caller falls back to tracking by
//! process tree. This module never decides which mode to use; it reports what is possible.

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::sys::statfs::{CGROUP2_SUPER_MAGIC, statfs};

/// What went wrong with a cgroup operation, naming the path.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("{path}: not a cgroup2 filesystem")]
    NotCgroup2 { path: PathBuf },
    #[error("/proc/self/cgroup has no cgroup2 entry (0::PATH): the container uses cgroup v1")]
    NoUnifiedEntry,
    #[error("{path}: cannot {action}")]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: io::Error,
    },
}

fn io_error(path: &Path, action: &'static str) -> impl FnOnce(io::Error) -> CgroupError {
    let path = path.to_owned();
    move |source| CgroupError::Io {
        path,
        action,
        source,
    }
}

/// bosun's own cgroup, in which it creates one child per unit.
#[derive(Debug, Clone)]
pub struct Cgroups {
    own: PathBuf,
    /// Where the cgroup2 hierarchy (of our cgroup namespace) is mounted: /proc/PID/cgroup
    /// paths are relative to it.
    mount: PathBuf,
}

impl Cgroups {
    /// Find bosun's own cgroup under `mount` (normally /sys/fs/cgroup) and check that it is a
    /// cgroup2 directory we can create children in.
    pub fn detect(mount: &Path) -> Result<Cgroups, CgroupError> {
        let fs = statfs(mount).map_err(|e| io_error(mount, "statfs")(e.into()))?;
        if fs.filesystem_type() != CGROUP2_SUPER_MAGIC {
            return Err(CgroupError::NotCgroup2 {
                path: mount.to_owned(),
            });
        }
        let table = Path::new("/proc/self/cgroup");
        let text = fs::read_to_string(table).map_err(io_error(table, "read"))?;
        let relative = text
            .lines()
            .find_map(|line| line.strip_prefix("0::"))
            .ok_or(CgroupError::NoUnifiedEntry)?;
        let own = mount.join(relative.trim_start_matches('/'));
        let mut cgroups = Self::at(&own)?;
        // As mounted (a parent of the mount point may be cgroup2 too, in a nested container).
        mount.clone_into(&mut cgroups.mount);
        Ok(cgroups)
    }

    /// Use `dir` as bosun's cgroup (it must be a writable cgroup2 directory).
    pub fn at(dir: &Path) -> Result<Cgroups, CgroupError> {
        let fs = statfs(dir).map_err(|e| io_error(dir, "statfs")(e.into()))?;
        if fs.filesystem_type() != CGROUP2_SUPER_MAGIC {
            return Err(CgroupError::NotCgroup2 {
                path: dir.to_owned(),
            });
        }
        nix::unistd::access(dir, nix::unistd::AccessFlags::W_OK).map_err(|e| {
            io_error(dir, "write to the cgroup (read-only or not delegated)")(e.into())
        })?;
        // The hierarchy's root: the topmost directory above `dir` still on cgroup2.
        let mount = dir
            .ancestors()
            .take_while(|d| statfs(*d).is_ok_and(|fs| fs.filesystem_type() == CGROUP2_SUPER_MAGIC))
            .last()
            .unwrap_or(dir)
            .to_owned();
        Ok(Cgroups {
            own: dir.to_owned(),
            mount,
        })
    }

    /// The cgroup directory process `pid` is in now (its `0::` line of /proc/PID/cgroup, as
    /// systemd's manager_get_unit_by_pid() reads it); None when it cannot be read (gone).
    pub fn of_process(&self, pid: i32) -> Option<PathBuf> {
        let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
        let relative = text.lines().find_map(|line| line.strip_prefix("0::"))?;
        Some(self.mount.join(relative.trim_start_matches('/')))
    }

    /// bosun's own cgroup directory.
    pub fn path(&self) -> &Path {
        &self.own
    }

    /// The cgroup for `unit`, created if missing.
    pub fn for_unit(&self, unit: &str) -> Result<ServiceCgroup, CgroupError> {
        let dir = self.own.join(unit);
        match fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error(&dir, "create the unit's cgroup")(e)),
        }
        let procs = dir.join("cgroup.procs");
        let procs_c = CString::new(procs.as_os_str().as_bytes()).map_err(|_| CgroupError::Io {
            path: procs.clone(),
            action: "use a path with a NUL byte",
            source: io::ErrorKind::InvalidInput.into(),
        })?;
        Ok(ServiceCgroup {
            dir,
            procs: procs_c,
        })
    }
}

/// One unit's cgroup.
#[derive(Debug, Clone)]
pub struct ServiceCgroup {
    dir: PathBuf,
    procs: CString,
}

impl ServiceCgroup {
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The `cgroup.procs` path a child writes `0` to in order to join (see
    /// [`crate::sys::prepare_child`]).
    pub fn procs_file(&self) -> &CString {
        &self.procs
    }

    /// Every process in the cgroup now.
    pub fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        let path = self.dir.join("cgroup.procs");
        let text = fs::read_to_string(&path).map_err(io_error(&path, "read"))?;
        Ok(text.lines().filter_map(|l| l.trim().parse().ok()).collect())
    }

    /// Whether any process is left (`populated` in `cgroup.events`).
    pub fn populated(&self) -> Result<bool, CgroupError> {
        let path = self.dir.join("cgroup.events");
        let text = fs::read_to_string(&path).map_err(io_error(&path, "read"))?;
        Ok(text
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["populated", "1"]))
    }

    /// Send `signo` to every process in the cgroup. SIGKILL uses `cgroup.kill` (Linux 5.14+),
    /// which also catches processes forking meanwhile; other signals, and older kernels, go
    /// pid by pid.
    pub fn signal_all(&self, signo: i32) -> Result<(), CgroupError> {
        if signo == libc::SIGKILL {
            let kill = self.dir.join("cgroup.kill");
            if kill.exists() {
                return fs::write(&kill, "1").map_err(io_error(&kill, "write"));
            }
        }
        for pid in self.pids()? {
            // ESRCH: gone meanwhile.
            let _ = crate::sys::send_signal(pid, signo);
        }
        Ok(())
    }

    /// Remove the cgroup once it is empty (EBUSY while processes remain).
    pub fn remove(&self) -> Result<(), CgroupError> {
        match fs::remove_dir(&self.dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(&self.dir, "remove")(e)),
        }
    }
}
