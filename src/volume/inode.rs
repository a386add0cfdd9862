//! What the copier reads and writes about one inode, relative to an open directory so that
//! paths never grow past PATH_MAX however deep the tree: its status ([`Info`], from statx without
//! following symlinks), its extended attributes, and the open directory handles ([`DirHandle`])
//! the walk keeps. Must not walk trees or decide anything.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rustix::fs::{
    AtFlags, CWD, FileType, Mode, OFlags, StatxFlags, Timespec, Timestamps, XattrFlags,
};
use rustix::io::Errno;

/// An open directory and its path (for messages, and where /proc is missing).
#[derive(Debug)]
pub struct DirHandle {
    pub fd: OwnedFd,
    pub path: PathBuf,
}

impl DirHandle {
    /// Open the directory at `path` (not following a final symlink).
    pub fn open(path: &Path) -> io::Result<Self> {
        let fd = rustix::fs::openat(CWD, path, dir_flags(), Mode::empty())?;
        Ok(Self {
            fd,
            path: path.to_owned(),
        })
    }

    /// Open the subdirectory `name` (not followed if a symlink).
    pub fn open_child(&self, name: &OsStr) -> io::Result<Self> {
        let fd = rustix::fs::openat(&self.fd, name, dir_flags(), Mode::empty())?;
        Ok(Self {
            fd,
            path: self.path.join(name),
        })
    }

    /// A path naming `name` in this directory that the kernel resolves through the open
    /// descriptor (`/proc/self/fd/N/name`), so it stays short at any depth; the full path where
    /// /proc is not mounted.
    pub fn path_of(&self, name: &OsStr) -> PathBuf {
        static PROC: OnceLock<bool> = OnceLock::new();
        if *PROC.get_or_init(|| Path::new("/proc/self/fd").is_dir()) {
            let mut path = PathBuf::from(format!("/proc/self/fd/{}", self.fd.as_raw_fd()));
            path.push(name);
            path
        } else {
            self.path.join(name)
        }
    }

    /// The names in this directory, sorted by bytes (deterministic walks and resumes).
    pub fn names(&self) -> io::Result<Vec<OsString>> {
        let mut names = Vec::new();
        for entry in rustix::fs::Dir::read_from(&self.fd)? {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                names.push(OsStr::from_bytes(name).to_owned());
            }
        }
        names.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        Ok(names)
    }
}

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

/// The status of an entry, with fixed-width fields on every architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Info {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub blocks: u64,
    pub nlink: u64,
    pub ino: u64,
    pub dev: u64,
    pub rdev: u64,
    pub atime: (i64, i64),
    pub mtime: (i64, i64),
}

impl Info {
    /// statx of `name` in `dir`, not following a symlink.
    pub fn at(dir: BorrowedFd<'_>, name: &OsStr) -> Result<Self, Errno> {
        let x = rustix::fs::statx(
            dir,
            name,
            AtFlags::SYMLINK_NOFOLLOW,
            StatxFlags::BASIC_STATS,
        )?;
        Ok(Self::from_statx(&x))
    }

    fn from_statx(x: &rustix::fs::Statx) -> Self {
        Self {
            mode: u32::from(x.stx_mode),
            uid: x.stx_uid,
            gid: x.stx_gid,
            size: x.stx_size,
            blocks: x.stx_blocks,
            nlink: u64::from(x.stx_nlink),
            ino: x.stx_ino,
            dev: rustix::fs::makedev(x.stx_dev_major, x.stx_dev_minor),
            rdev: rustix::fs::makedev(x.stx_rdev_major, x.stx_rdev_minor),
            atime: (x.stx_atime.tv_sec, i64::from(x.stx_atime.tv_nsec)),
            mtime: (x.stx_mtime.tv_sec, i64::from(x.stx_mtime.tv_nsec)),
        }
    }

    /// statx of an open file or directory.
    pub fn of(fd: BorrowedFd<'_>) -> Result<Self, Errno> {
        let x = rustix::fs::statx(fd, "", AtFlags::EMPTY_PATH, StatxFlags::BASIC_STATS)?;
        Ok(Self::from_statx(&x))
    }

    pub fn file_type(&self) -> FileType {
        FileType::from_raw_mode(self.mode)
    }

    pub fn is_dir(&self) -> bool {
        self.file_type() == FileType::Directory
    }

    /// Permission bits with setuid/setgid/sticky.
    pub fn perms(&self) -> Mode {
        Mode::from_raw_mode(self.mode & 0o7777)
    }

    pub fn timestamps(&self) -> Timestamps {
        Timestamps {
            last_access: Timespec {
                tv_sec: self.atime.0,
                tv_nsec: self.atime.1,
            },
            last_modification: Timespec {
                tv_sec: self.mtime.0,
                tv_nsec: self.mtime.1,
            },
        }
    }
}

/// Where extended attributes are read or written: an open file or directory, or a path that is
/// never followed (symlinks, fifos, devices — opening those would follow or block).
#[derive(Debug, Clone, Copy)]
pub enum XattrPlace<'a> {
    Fd(BorrowedFd<'a>),
    Path(&'a Path),
}

/// Every extended attribute we may read, sorted by name. Filesystems without xattrs give none.
pub fn read_xattrs(place: XattrPlace<'_>) -> Result<Vec<(OsString, Vec<u8>)>, Errno> {
    let list = |buf: &mut [u8]| match place {
        XattrPlace::Fd(fd) => rustix::fs::flistxattr(fd, buf),
        XattrPlace::Path(p) => rustix::fs::llistxattr(p, buf),
    };
    let get = |name: &OsStr, buf: &mut [u8]| match place {
        XattrPlace::Fd(fd) => rustix::fs::fgetxattr(fd, name, buf),
        XattrPlace::Path(p) => rustix::fs::lgetxattr(p, name, buf),
    };
    let mut names = vec![0_u8; 1024];
    loop {
        match list(&mut names[..]) {
            Ok(len) => {
                names.truncate(len);
                break;
            }
            Err(Errno::RANGE) if names.len() < 1 << 20 => names.resize(names.len() * 4, 0),
            Err(Errno::NOTSUP | Errno::PERM | Errno::ACCESS) => return Ok(Vec::new()),
            Err(errno) => return Err(errno),
        }
    }
    let mut out = Vec::new();
    for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = OsStr::from_bytes(name);
        let mut value = vec![0_u8; 4096];
        loop {
            match get(name, &mut value[..]) {
                Ok(len) => {
                    value.truncate(len);
                    out.push((name.to_owned(), value));
                    break;
                }
                Err(Errno::RANGE) if value.len() < 1 << 24 => value.resize(value.len() * 4, 0),
                // Gone since the listing, or not ours to read (trusted.* as non-root).
                Err(Errno::NODATA | Errno::NOTSUP | Errno::PERM | Errno::ACCESS) => break,
                Err(errno) => return Err(errno),
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Set one extended attribute.
pub fn write_xattr(place: XattrPlace<'_>, name: &OsStr, value: &[u8]) -> Result<(), Errno> {
    match place {
        XattrPlace::Fd(fd) => rustix::fs::fsetxattr(fd, name, value, XattrFlags::empty()),
        XattrPlace::Path(p) => rustix::fs::lsetxattr(p, name, value, XattrFlags::empty()),
    }
}

/// Every extended attribute of `path` (not followed): for callers outside the walk.
pub fn read_xattrs_at(path: &Path) -> Result<Vec<(OsString, Vec<u8>)>, Errno> {
    read_xattrs(XattrPlace::Path(path))
}

/// Borrow an owned descriptor as an xattr place.
pub fn fd_place(fd: &impl AsFd) -> XattrPlace<'_> {
    XattrPlace::Fd(fd.as_fd())
}
