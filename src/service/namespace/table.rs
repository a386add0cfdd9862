//! What bosun knows of the mounts a command's namespace starts from: the mount points a path
//! reaches (/proc/self/mountinfo, hidden ones left out) and the flags a bind remount of each
//! must keep. Reads only. PID 1 keeps what it read while the kernel reports no change of its
//! mount table ([`Table::current`]): a start of a sandboxed unit then reads neither mountinfo
//! nor one statfs(2) per mount point.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use nix::mount::MsFlags;
use nix::sys::statvfs::{FsFlags, statvfs};

/// The mount points of this namespace (/proc/self/mountinfo) and how the flags a bind
/// remount must keep are learnt for a path ([`kept_flags`]; a table of its own in tests).
#[derive(Debug, Clone)]
pub(super) struct Table {
    pub(super) points: Vec<PathBuf>,
    pub(super) flags_of: fn(&Path) -> MsFlags,
    /// What `flags_of` answered, per path (the flags of a mount change only with the mount
    /// table, which drops the whole table).
    pub(super) known: RefCell<HashMap<PathBuf, MsFlags>>,
    /// Which reading of the mount table this is (each new one counts up; plans made from
    /// an older one are not reused).
    pub(super) generation: u64,
}

/// The most paths whose flags a table keeps (a unit names a few dozen; the bound only keeps a
/// stream of differently named units from growing PID 1).
const KNOWN_MAX: usize = 4096;

/// The table PID 1 read last, and the open mountinfo whose poll(2) says when it is stale
/// (POLLPRI: the kernel's mount table event, raised by every mount, unmount and remount).
struct Cached {
    watch: fs::File,
    table: Rc<Table>,
}

thread_local! {
    static CACHED: RefCell<Option<Cached>> = const { RefCell::new(None) };
}

/// Whether the mount table changed since `watch` was last polled (or cannot be told).
fn changed(watch: &fs::File) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut fds = [PollFd::new(watch.as_fd(), PollFlags::POLLPRI)];
    match poll(&mut fds, PollTimeout::ZERO) {
        Ok(_) => fds[0]
            .revents()
            .is_none_or(|r| r.intersects(PollFlags::POLLPRI | PollFlags::POLLERR)),
        Err(_) => true,
    }
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
        Table::new(visible_points(&text), kept_flags)
    }

    pub(super) fn new(points: Vec<PathBuf>, flags_of: fn(&Path) -> MsFlags) -> Table {
        static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Table {
            points,
            flags_of,
            known: RefCell::default(),
            generation: GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// This namespace's table: the one read before while the mount table is unchanged, else
    /// read anew (the change is consumed by the poll before the read, so a change during the
    /// read is seen next time).
    pub(super) fn current() -> Rc<Table> {
        CACHED.with_borrow_mut(|cached| {
            if let Some(c) = cached.as_ref().filter(|c| !changed(&c.watch)) {
                return Rc::clone(&c.table);
            }
            let table = Rc::new(Table::read());
            *cached = fs::File::open("/proc/self/mountinfo")
                .ok()
                .map(|watch| Cached {
                    watch,
                    table: Rc::clone(&table),
                });
            table
        })
    }

    pub(super) fn flags_at(&self, path: &Path) -> MsFlags {
        if let Some(flags) = self.known.borrow().get(path) {
            return *flags;
        }
        let flags = (self.flags_of)(path);
        let mut known = self.known.borrow_mut();
        if known.len() >= KNOWN_MAX {
            known.clear();
        }
        known.insert(path.to_owned(), flags);
        flags
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
