//! What bosun knows of the mounts a command's namespace starts from: the mount points a path
//! reaches (/proc/self/mountinfo, hidden ones left out) and the flags a bind remount of each
//! must keep. Reads only.

use std::fs;
use std::path::{Path, PathBuf};

use nix::mount::MsFlags;
use nix::sys::statvfs::{FsFlags, statvfs};

/// The mount points of this namespace (/proc/self/mountinfo) and how the flags a bind
/// remount must keep are learnt for a path ([`kept_flags`]; a table of its own in tests).
#[derive(Debug, Clone)]
pub(super) struct Table {
    pub(super) points: Vec<PathBuf>,
    pub(super) flags_of: fn(&Path) -> MsFlags,
}

/// The flags of the mount holding `path` that a bind remount must keep: statvfs(3) of it
/// (mountinfo's options mix in the super block's).
pub(super) fn kept_flags(path: &Path) -> MsFlags {
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
        // statvfs(3)'s ST_RELATIME (Linux's value, 4096), which nix names on glibc only.
        (FsFlags::from_bits_retain(4096), MsFlags::MS_RELATIME),
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
    pub(super) fn read() -> Table {
        let text = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        Table {
            points: visible_points(&text),
            flags_of: kept_flags,
        }
    }

    pub(super) fn flags_at(&self, path: &Path) -> MsFlags {
        (self.flags_of)(path)
    }

    pub(super) fn is_mount_point(&self, path: &Path) -> bool {
        self.points.iter().any(|p| p == path)
    }
}

/// The mount points of mountinfo `text` that a path reaches, sorted: not those a later mount
/// covers (a tmpfs on /run hides the /run/netns listed before it), which cannot be remounted
/// by path. A mount is hidden when its parent is, when a sibling (same parent) sits on one of
/// its ancestors, or when a mount of its own sits on its root.
pub(super) fn visible_points(text: &str) -> Vec<PathBuf> {
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
