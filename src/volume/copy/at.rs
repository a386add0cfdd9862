//! The copier's filesystem calls relative to open directories, with their failures turned
//! into [`CopyError`]s that name the path. Must not decide anything.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, RenameFlags};
use rustix::io::Errno;

use super::CopyError;
use crate::volume::inode::{DirHandle, Info};

/// `path` as (absolute parent, final name).
pub(super) fn split(path: &Path) -> Result<(PathBuf, OsString), CopyError> {
    let path = std::path::absolute(path).map_err(|source| CopyError::Read {
        path: path.to_owned(),
        source,
    })?;
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => Ok((parent.to_owned(), name.to_owned())),
        _ => Err(CopyError::BadDestination { path }),
    }
}

pub(super) fn open_dir(path: &Path) -> Result<DirHandle, CopyError> {
    DirHandle::open(path).map_err(|source| CopyError::Read {
        path: path.to_owned(),
        source,
    })
}

pub(super) fn open_child(dir: &DirHandle, name: &OsStr) -> Result<DirHandle, CopyError> {
    dir.open_child(name).map_err(|source| CopyError::Read {
        path: dir.path.join(name),
        source,
    })
}

pub(super) fn stat_at(dir: &DirHandle, name: &OsStr) -> Result<Info, CopyError> {
    Info::at(dir.fd.as_fd(), name).map_err(|errno| CopyError::Read {
        path: dir.path.join(name),
        source: errno.into(),
    })
}

/// stat of `name` in `dir`, None when it does not exist.
pub(super) fn probe(dir: &DirHandle, name: &OsStr) -> Result<Option<Info>, CopyError> {
    match Info::at(dir.fd.as_fd(), name) {
        Ok(info) => Ok(Some(info)),
        Err(Errno::NOENT) => Ok(None),
        Err(errno) => Err(CopyError::Read {
            path: dir.path.join(name),
            source: errno.into(),
        }),
    }
}

/// Remove `name` in `dir`, a whole tree if it is a directory (never following symlinks).
pub(super) fn remove_any(dir: &DirHandle, name: &OsStr) -> Result<(), CopyError> {
    let err = |source: io::Error| CopyError::Create {
        path: dir.path.join(name),
        source,
    };
    match Info::at(dir.fd.as_fd(), name) {
        Ok(info) if info.is_dir() => std::fs::remove_dir_all(dir.path_of(name)).map_err(err),
        Ok(_) => rustix::fs::unlinkat(&dir.fd, name, AtFlags::empty()).map_err(|e| err(e.into())),
        Err(_) => Ok(()),
    }
}

/// Rename within `dir` without ever replacing an existing entry (a checked plain rename where
/// the filesystem lacks RENAME_NOREPLACE).
pub(super) fn rename_noreplace(dir: &DirHandle, from: &OsStr, to: &OsStr) -> Result<(), CopyError> {
    let err = |source: io::Error| CopyError::Rename {
        from: dir.path.join(from),
        to: dir.path.join(to),
        source,
    };
    match rustix::fs::renameat_with(&dir.fd, from, &dir.fd, to, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        Err(Errno::INVAL | Errno::NOSYS) => {
            if Info::at(dir.fd.as_fd(), to).is_ok() {
                return Err(err(io::Error::from(io::ErrorKind::AlreadyExists)));
            }
            rustix::fs::renameat(&dir.fd, from, &dir.fd, to).map_err(|e| err(e.into()))
        }
        Err(errno) => Err(err(errno.into())),
    }
}

pub(super) fn sync_dir(path: &Path) -> Result<(), CopyError> {
    File::open(path)
        .and_then(|dir| dir.sync_all())
        .map_err(|source| CopyError::Metadata {
            what: "durability (fsync)",
            path: path.to_owned(),
            source,
        })
}
