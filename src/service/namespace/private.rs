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
    /// Make them under `root` for `unit`: take a spare pair the janitor made ahead of the start
    /// (two renames) or make them here (four mkdir(2) and two chmod(2), on /var/tmp's disk
    /// too), and have the janitor make a spare for the next start.
    pub fn make(unit: &str, root: &Path) -> io::Result<PrivateTmp> {
        static BOOT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let boot = BOOT.get_or_init(|| {
            fs::read_to_string("/proc/sys/kernel/random/boot_id")
                .map(|b| b.trim().replace('-', ""))
                .unwrap_or_default()
        });
        let random: String = crate::vocab::id::random_id().chars().take(6).collect();
        let name = format!("systemd-private-{boot}-{unit}-{random}");
        let tops = [
            root.join("tmp").join(&name),
            root.join("var/tmp").join(&name),
        ];
        let made = match spares::take(root) {
            Some(spare) => match spare.rename_to(&tops) {
                Ok(()) => Ok(PrivateTmp { top: tops }),
                Err(spare) => {
                    spare.discard();
                    make_here(tops)
                }
            },
            None => make_here(tops),
        };
        spares::prepare(root);
        made
    }

    /// Remove both trees away from PID 1, as systemd 252 removes them in a child
    /// (asynchronous_rm_rf): a service may leave millions of files there, and PID 1 must not
    /// stop answering while they go. bosun's janitor takes them ([`crate::service::janitor`]).
    pub fn remove_detached(self) {
        crate::service::janitor::hand_over(crate::service::janitor::Job::Trees(self.top.to_vec()));
    }
}

/// Make `top` (0700) and `top/tmp` (01777), and `top`'s parent (01777, as tmpfiles.d would make
/// it) where an image has no /tmp or /var/tmp.
pub(crate) fn make_pair(top: &Path) -> io::Result<()> {
    if let Some(base) = top.parent()
        && !base.exists()
    {
        fs::DirBuilder::new().recursive(true).create(base)?;
        fs::set_permissions(base, fs::Permissions::from_mode(0o1777))?;
    }
    fs::DirBuilder::new().mode(0o700).create(top)?;
    let tmp = top.join("tmp");
    fs::DirBuilder::new().create(&tmp)?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o1777))
}

/// Make both pairs here; neither is left when one fails.
fn make_here(tops: [PathBuf; 2]) -> io::Result<PrivateTmp> {
    make_pair(&tops[0])?;
    match make_pair(&tops[1]) {
        Ok(()) => Ok(PrivateTmp { top: tops }),
        Err(e) => {
            let _ = fs::remove_dir_all(&tops[0]);
            Err(e)
        }
    }
}

/// Spare PrivateTmp= pairs: made by the janitor after a start, off PID 1's path, under a name
/// of bosun's own beside the final ones (`/tmp/.bosun-private-RANDOM`, same file system), and
/// renamed to the next start's names. Empty, root's (0700 above 01777, so no other user can
/// have put anything in them or moved them), checked before they are taken; at most
/// [`spares::MAX`] per root; removed when PID 1 ends ([`drop_spares`]).
mod spares {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::fs;
    use std::os::unix::fs::MetadataExt;
    use std::path::{Path, PathBuf};

    use crate::service::janitor::{self, Job};

    /// Spare pairs kept ready per root: a service that restarts at once takes one before the
    /// janitor has made the next.
    pub(super) const MAX: usize = 2;

    thread_local! {
        static SPARES: RefCell<HashMap<PathBuf, Vec<Spare>>> = RefCell::default();
    }

    /// One spare pair: its tops under /tmp and /var/tmp.
    #[derive(Debug)]
    pub(super) struct Spare([PathBuf; 2]);

    impl Spare {
        /// Whether both tops are what the janitor made: directories of our user, 0700, each
        /// with a `tmp` of our user, 01777 (a name another user took first fails here).
        fn ready(&self) -> bool {
            let euid = nix::unistd::geteuid().as_raw();
            let is = |path: &Path, mode: u32| {
                fs::symlink_metadata(path)
                    .is_ok_and(|m| m.is_dir() && m.uid() == euid && m.mode() & 0o7777 == mode)
            };
            self.0
                .iter()
                .all(|top| is(top, 0o700) && is(&top.join("tmp"), 0o1777))
        }

        /// Rename both to `tops` (never over anything); given back when it is not ready or a
        /// rename failed (the first is renamed back).
        pub(super) fn rename_to(self, tops: &[PathBuf; 2]) -> Result<(), Spare> {
            if !self.ready() {
                return Err(self);
            }
            let rename = |from: &Path, to: &Path| {
                rustix::fs::renameat_with(
                    rustix::fs::CWD,
                    from,
                    rustix::fs::CWD,
                    to,
                    rustix::fs::RenameFlags::NOREPLACE,
                )
            };
            if rename(&self.0[0], &tops[0]).is_err() {
                return Err(self);
            }
            if rename(&self.0[1], &tops[1]).is_err() {
                let _ = rename(&tops[0], &self.0[0]);
                return Err(self);
            }
            Ok(())
        }

        /// Hand it to the janitor to remove (after it made it: its jobs run in order).
        pub(super) fn discard(self) {
            janitor::hand_over(Job::Trees(self.0.to_vec()));
        }
    }

    /// A spare pair under `root`, if one was prepared.
    pub(super) fn take(root: &Path) -> Option<Spare> {
        SPARES.with_borrow_mut(|spares| spares.get_mut(root)?.pop())
    }

    /// Have the janitor make spare pairs under `root` up to [`MAX`]; none when it cannot take
    /// the job (the next start makes its own).
    pub(super) fn prepare(root: &Path) {
        SPARES.with_borrow_mut(|spares| {
            let kept = spares.entry(root.to_owned()).or_default();
            while kept.len() < MAX {
                let random: String = crate::vocab::id::random_id().chars().take(12).collect();
                let name = format!(".bosun-private-{random}");
                let tops = [
                    root.join("tmp").join(&name),
                    root.join("var/tmp").join(&name),
                ];
                if !janitor::offer(&Job::Make(tops.to_vec())) {
                    return;
                }
                kept.push(Spare(tops));
            }
        });
    }

    /// Remove every spare pair (empty directories: four rmdir(2) each), at PID 1's end.
    pub(in crate::service) fn drop_all() {
        let all = SPARES.try_with(|spares| spares.take()).unwrap_or_default();
        for spare in all.into_values().flatten() {
            for top in &spare.0 {
                let _ = fs::remove_dir(top.join("tmp"));
                let _ = fs::remove_dir(top);
            }
        }
    }
}

/// Remove the spare PrivateTmp= directories the janitor made for starts that will not come (at
/// PID 1's end).
pub fn drop_spares() {
    spares::drop_all();
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
