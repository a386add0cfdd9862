//! RemoveIPC= (systemd.exec(5)): when the last unit running as a user stops, the System V
//! IPC objects (shared memory, semaphore sets, message queues) and the POSIX shared memory
//! and message queues that user or group owns are removed, as systemd 252 does
//! (clean-ipc.c's rules, read from /proc/sysvipc, /dev/shm and /dev/mqueue). Never for root.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::sys::SysvIpc;

/// What was removed, for the log line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    pub sysv: usize,
    pub posix: usize,
}

/// [`remove`] by bosun's janitor ([`crate::service::janitor`]), so that a /dev/shm a service
/// filled with files does not hold PID 1 while they go (as PrivateTmp='s trees).
pub fn remove_detached(uid: u32, gid: u32, root: &Path) {
    let root = root.to_owned();
    crate::service::janitor::hand_over(crate::service::janitor::Job::Ipc { uid, gid, root });
}

/// Remove every IPC object owned by `uid` or `gid` (as owner or creator), under `root` for
/// the POSIX ones (`/` in production). Errors on single objects are skipped: another process
/// may remove one first. Does nothing for root.
pub fn remove(uid: u32, gid: u32, root: &Path) -> Removed {
    let mut removed = Removed::default();
    if uid == 0 && gid == 0 {
        return removed;
    }
    let mine = |owner: u32, group: u32| (uid != 0 && owner == uid) || (gid != 0 && group == gid);
    // Columns of /proc/sysvipc/*: the id second; uid, gid, cuid, cgid at these positions.
    for (file, kind, owner_at) in [
        ("shm", SysvIpc::SharedMemory, 7),
        ("sem", SysvIpc::Semaphores, 4),
        ("msg", SysvIpc::MessageQueue, 7),
    ] {
        let text = fs::read_to_string(format!("/proc/sysvipc/{file}")).unwrap_or_default();
        for line in text.lines().skip(1) {
            let cols: Vec<u32> = line
                .split_whitespace()
                .map(|c| c.parse().unwrap_or(u32::MAX))
                .collect();
            let (Some(&id), Some(&u), Some(&g), Some(&cu), Some(&cg)) = (
                cols.get(1),
                cols.get(owner_at),
                cols.get(owner_at + 1),
                cols.get(owner_at + 2),
                cols.get(owner_at + 3),
            ) else {
                continue;
            };
            if (mine(u, g) || mine(cu, cg))
                && let Ok(id) = i32::try_from(id)
                && crate::sys::remove_sysv_ipc(kind, id).is_ok()
            {
                removed.sysv += 1;
            }
        }
    }
    for dir in ["dev/shm", "dev/mqueue"] {
        removed.posix += remove_owned(&root.join(dir), &mine);
    }
    removed
}

/// Remove what `mine` owns under `dir`: a file, or a whole directory it owns; descend into
/// directories it does not own (systemd's clean_posix_shm rule). The count of entries removed.
fn remove_owned(dir: &Path, mine: &dyn Fn(u32, u32) -> bool) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut count = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        let owned = mine(meta.uid(), meta.gid());
        let gone = if meta.is_dir() {
            if owned {
                fs::remove_dir_all(&path).is_ok()
            } else {
                count += remove_owned(&path, mine);
                false
            }
        } else {
            owned && fs::remove_file(&path).is_ok()
        };
        count += usize::from(gone);
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_posix_objects_go_and_others_stay() {
        let dir = std::env::temp_dir().join(format!("bosun-ipc-{}", std::process::id()));
        let shm = dir.join("dev/shm");
        fs::create_dir_all(shm.join("sub")).unwrap();
        fs::write(shm.join("mine"), b"x").unwrap();
        fs::write(shm.join("sub/mine-too"), b"x").unwrap();
        fs::write(shm.join("theirs"), b"x").unwrap();
        let mine = |_: u32, _: u32| true;
        assert_eq!(remove_owned(&shm.join("sub"), &mine), 1);
        assert!(!shm.join("sub/mine-too").exists());
        let none = |_: u32, _: u32| false;
        assert_eq!(remove_owned(&shm, &none), 0);
        assert!(shm.join("theirs").exists());
        // Root's objects are never touched.
        assert_eq!(remove(0, 0, &dir), Removed::default());
        assert!(shm.join("mine").exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
