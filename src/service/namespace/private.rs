//! The private directories of a command: PrivateTmp='s /tmp and /var/tmp (made once per
//! run, in the parent, and removed at its stop) and PrivateDevices='s /dev (the mount calls
//! that build it, planned here and made by the child).

use std::ffi::CStr;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::mount::MsFlags;

use super::{Plan, Step, Table, cstring};

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
        static BOOT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let boot = BOOT.get_or_init(|| {
            fs::read_to_string("/proc/sys/kernel/random/boot_id")
                .map(|b| b.trim().replace('-', ""))
                .unwrap_or_default()
        });
        let random: String = crate::vocab::id::random_id().chars().take(6).collect();
        let name = format!("systemd-private-{boot}-{unit}-{random}");
        let make = |base: &str| -> io::Result<PathBuf> {
            // An image without /tmp or /var/tmp gets them as tmpfiles.d would make them.
            let base = root.join(base);
            if !base.exists() {
                fs::DirBuilder::new().recursive(true).create(&base)?;
                fs::set_permissions(&base, fs::Permissions::from_mode(0o1777))?;
            }
            let top = base.join(&name);
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

    /// Remove both trees away from PID 1, as systemd 252 removes them in a child
    /// (asynchronous_rm_rf): a service may leave millions of files there, and PID 1 must not
    /// stop answering while they go. bosun's janitor takes them ([`crate::service::janitor`]).
    pub fn remove_detached(self) {
        crate::service::janitor::hand_over(crate::service::janitor::Job::Trees(self.top.to_vec()));
    }
}

/// PrivateDevices=: a tmpfs on the staged /dev (`dev`) with the pseudo-devices of systemd
/// 252's mount_private_dev() (null, zero, full, random, urandom, tty), bound from bosun's own
/// /dev onto empty files (no CAP_MKNOD needed), its /dev/pts, /dev/shm, /dev/mqueue and
/// /dev/hugepages bound where bosun has them, /dev/log where it is (bosun's journal), and the
/// usual links; made read-only later, as systemd does.
pub(super) fn private_dev(plan: &mut Plan, dev: &Path, table: &Table) {
    let what = dev.display().to_string();
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME;
    let target = cstring(dev);
    plan.push(
        Step::Tmpfs {
            target,
            flags,
            data: c"mode=0755".to_owned(),
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
