//! The confined filesystem: every path is resolved beneath the served root with `openat2` and
//! `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`, so symlinks that stay inside are followed and any
//! that leave (absolute, or `..` past the root) fail with EXDEV. Changes happen through a
//! parent-directory descriptor and a single name (`mkdirat`, `unlinkat`, `renameat`), and
//! recursive walks never follow links. Uploads are written to a temporary file in the target's
//! directory and renamed over it. No metadata is cached.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, OpenHow, ResolveFlag, openat, openat2, readlinkat, renameat};
use nix::sys::stat::{Mode, SFlag, fchmod, fstatat, mkdirat};
use nix::unistd::{UnlinkatFlags, symlinkat, unlinkat};
use thiserror::Error;

use super::path::{DavPath, INTERNAL_PREFIX};

/// A failed filesystem operation on a served path.
#[derive(Debug, Error)]
#[error("cannot {op} {path:?} beneath the served root")]
pub struct FsError {
    pub op: &'static str,
    pub path: String,
    #[source]
    pub errno: Errno,
}

impl FsError {
    fn new(op: &'static str, path: &DavPath, errno: Errno) -> FsError {
        FsError {
            op,
            path: path.rel(),
            errno,
        }
    }

    /// The HTTP status this failure maps to.
    pub fn status(&self) -> u16 {
        match self.errno {
            Errno::ENOENT => 404,
            Errno::ENOTDIR => 409,
            // EXDEV/ELOOP from openat2: a symlink leaves the root (or loops).
            Errno::EXDEV | Errno::ELOOP | Errno::EACCES | Errno::EPERM | Errno::EROFS => 403,
            // EINVAL from renameat: a collection moved into itself.
            Errno::EEXIST | Errno::ENOTEMPTY | Errno::EINVAL => 409,
            Errno::ENOSPC | Errno::EDQUOT | Errno::EFBIG => 507,
            Errno::ENAMETOOLONG => 414,
            _ => 500,
        }
    }
}

/// What PROPFIND and the conditional headers need to know about a resource.
#[derive(Debug, Clone)]
pub struct Meta {
    pub is_dir: bool,
    /// A regular file (not a directory, fifo, socket or device).
    pub is_file: bool,
    pub len: u64,
    pub mtime: SystemTime,
    pub created: SystemTime,
    pub ino: u64,
    pub mode: u32,
}

impl Meta {
    fn of(meta: &std::fs::Metadata) -> Meta {
        let mtime = meta.modified().unwrap_or(UNIX_EPOCH);
        Meta {
            is_dir: meta.is_dir(),
            is_file: meta.is_file(),
            len: meta.len(),
            mtime,
            created: meta.created().unwrap_or(mtime),
            ino: meta.ino(),
            mode: meta.mode(),
        }
    }

    fn of_statx(st: &rustix::fs::Statx) -> Meta {
        let time = |t: &rustix::fs::StatxTimestamp| {
            u64::try_from(t.tv_sec)
                .map(|secs| UNIX_EPOCH + std::time::Duration::new(secs, t.tv_nsec))
                .unwrap_or(UNIX_EPOCH)
        };
        let kind = u32::from(st.stx_mode) & 0o170_000;
        let mtime = time(&st.stx_mtime);
        let has_btime = st.stx_mask & rustix::fs::StatxFlags::BTIME.bits() != 0;
        Meta {
            is_dir: kind == 0o040_000,
            is_file: kind == 0o100_000,
            len: st.stx_size,
            mtime,
            created: if has_btime {
                time(&st.stx_btime)
            } else {
                mtime
            },
            ino: st.stx_ino,
            mode: u32::from(st.stx_mode),
        }
    }

    /// A strong entity tag from inode, size and modification time.
    pub fn etag(&self) -> String {
        format!("\"{:x}-{:x}-{:x}\"", self.ino, self.len, self.mtime_nanos())
    }

    /// The modification time in nanoseconds since the epoch (0 before it).
    pub fn mtime_nanos(&self) -> u128 {
        self.mtime
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    }
}

/// A listed collection: its open descriptor and its members.
#[derive(Debug)]
pub struct Members {
    pub dir: OwnedFd,
    /// The visible names, sorted, each with whether the listing said it is a regular file
    /// or a directory (readdir's `d_type`; `false` when the filesystem does not say). Their
    /// metadata comes one at a time from [`Root::member`], so a listing of 100,000 files
    /// never holds 100,000 `Meta`s.
    entries: Vec<(String, bool)>,
}

impl Members {
    /// How many members were listed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the collection was empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The name of member `i`.
    pub fn name(&self, i: usize) -> Option<&str> {
        self.entries.get(i).map(|(name, _)| name.as_str())
    }
}

/// One member of a listed collection.
#[derive(Debug)]
pub struct Member {
    pub meta: Meta,
    /// Reached through a symlink (its metadata is the target's).
    pub via_link: bool,
    /// The member itself, open for reading its extended attributes, when asked for and it is
    /// a plain regular file or directory.
    pub file: Option<File>,
}

/// Space on the filesystem holding the root (RFC 4331).
#[derive(Debug, Clone, Copy)]
pub struct Quota {
    pub used: u64,
    pub available: u64,
}

/// The served directory, held open for the server's life.
#[derive(Debug)]
pub struct Root {
    fd: OwnedFd,
    real: PathBuf,
}

fn how(flags: OFlag) -> OpenHow {
    OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS)
}

fn retry<T>(mut f: impl FnMut() -> nix::Result<T>) -> nix::Result<T> {
    loop {
        match f() {
            Err(Errno::EAGAIN) | Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}

impl Root {
    /// Open `dir` as the root.
    pub fn open(dir: &Path) -> io::Result<Root> {
        let real = std::fs::canonicalize(dir)?;
        let fd = nix::fcntl::open(
            &real,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(io::Error::from)?;
        // Fail at start, not at the first request, when the kernel lacks openat2 (Linux < 5.6)
        // or the directory cannot be listed.
        let probe = openat2(&fd, ".", how(OFlag::O_RDONLY | OFlag::O_DIRECTORY))
            .map_err(io::Error::from)?;
        Dir::from_fd(probe).map_err(io::Error::from)?;
        Ok(Root { fd, real })
    }

    /// The root's canonical path.
    pub fn real(&self) -> &Path {
        &self.real
    }

    fn open_beneath(
        &self,
        p: &DavPath,
        flags: OFlag,
        op: &'static str,
    ) -> Result<OwnedFd, FsError> {
        retry(|| openat2(&self.fd, p.rel().as_str(), how(flags)))
            .map_err(|e| FsError::new(op, p, e))
    }

    /// Metadata of `p`, following symlinks that stay inside; `None` when it does not exist.
    pub fn stat(&self, p: &DavPath) -> Result<Option<Meta>, FsError> {
        match self.open_beneath(p, OFlag::O_PATH, "stat") {
            Ok(fd) => {
                let meta = File::from(fd)
                    .metadata()
                    .map_err(|e| FsError::new("stat", p, errno_of(&e)))?;
                Ok(Some(Meta::of(&meta)))
            }
            Err(e) if matches!(e.errno, Errno::ENOENT | Errno::ENOTDIR) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Open `p` for reading.
    pub fn open_read(&self, p: &DavPath) -> Result<File, FsError> {
        self.open_beneath(p, OFlag::O_RDONLY, "open")
            .map(File::from)
    }

    /// Open `p` (file or directory) for xattr access.
    pub fn open_for_attrs(&self, p: &DavPath) -> Result<File, FsError> {
        self.open_beneath(p, OFlag::O_RDONLY | OFlag::O_NONBLOCK, "open")
            .map(File::from)
    }

    /// The names in collection `p`, without bosun's internal files.
    pub fn list(&self, p: &DavPath) -> Result<Vec<String>, FsError> {
        let fd = self.open_beneath(p, OFlag::O_RDONLY | OFlag::O_DIRECTORY, "list")?;
        visible_names(&fd).map_err(|e| FsError::new("list", p, e))
    }

    /// The members of collection `p`: one open directory and the names in it.
    pub fn members(&self, p: &DavPath) -> Result<Members, FsError> {
        let dir = self.open_beneath(p, OFlag::O_RDONLY | OFlag::O_DIRECTORY, "list")?;
        let entries = visible_entries(&dir).map_err(|e| FsError::new("list", p, e))?;
        Ok(Members { dir, entries })
    }

    /// Member `i` of the collection `p` listed in `members`, with its metadata: one `statx`
    /// for a plain member. With `open`, a member listed as a regular file or a directory is
    /// opened first and its metadata read through the descriptor (one lookup of its name,
    /// not two), and the descriptor comes with it. A symlink is resolved beneath the root;
    /// one leaving it, looping or dangling gives `None`, as does a name gone since the
    /// listing.
    pub fn member(&self, members: &Members, p: &DavPath, i: usize, open: bool) -> Option<Member> {
        let (name, plain) = members.entries.get(i)?;
        let name = name.as_str();
        if open && *plain {
            let flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            if let Ok(fd) = openat(&members.dir, name, flags, Mode::empty())
                && let Ok(st) = rustix::fs::statx(
                    &fd,
                    "",
                    rustix::fs::AtFlags::EMPTY_PATH,
                    rustix::fs::StatxFlags::BASIC_STATS | rustix::fs::StatxFlags::BTIME,
                )
            {
                let meta = Meta::of_statx(&st);
                if meta.is_file || meta.is_dir {
                    return Some(Member {
                        meta,
                        via_link: false,
                        file: Some(File::from(fd)),
                    });
                }
            }
            // Replaced since the listing (a symlink now, say) or not readable: as below.
        }
        let st = rustix::fs::statx(
            &members.dir,
            name,
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
            rustix::fs::StatxFlags::BASIC_STATS | rustix::fs::StatxFlags::BTIME,
        )
        .ok()?;
        if u32::from(st.stx_mode) & 0o170_000 == 0o120_000 {
            let child = p.join(name).ok()?;
            let meta = self.stat(&child).ok()??;
            Some(Member {
                meta,
                via_link: true,
                file: None,
            })
        } else {
            Some(Member {
                meta: Meta::of_statx(&st),
                via_link: false,
                file: None,
            })
        }
    }

    /// The parent directory of `p` (resolved beneath the root) and `p`'s last name.
    pub fn parent_of<'a>(&self, p: &'a DavPath) -> Result<(OwnedFd, &'a str), FsError> {
        let (Some(parent), Some(name)) = (p.parent(), p.name()) else {
            return Err(FsError::new("change", p, Errno::EPERM));
        };
        let fd = self.open_beneath(
            &parent,
            OFlag::O_PATH | OFlag::O_DIRECTORY,
            "open the parent of",
        )?;
        Ok((fd, name))
    }

    /// Whether `p` itself (not what it points to) is a symlink.
    pub fn is_symlink(&self, p: &DavPath) -> Result<bool, FsError> {
        if p.is_root() {
            return Ok(false);
        }
        let (dir, name) = match self.parent_of(p) {
            Ok(found) => found,
            Err(e) if matches!(e.errno, Errno::ENOENT | Errno::ENOTDIR) => return Ok(false),
            Err(e) => return Err(e),
        };
        match fstatat(&dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK),
            Err(Errno::ENOENT) => Ok(false),
            Err(e) => Err(FsError::new("stat", p, e)),
        }
    }

    /// Where `p` really is: `p` itself unless its last component is a symlink, in which case
    /// the link's (confined) target. Writes go to the target, as they would through the link.
    pub fn resolve_final(&self, p: &DavPath) -> Result<DavPath, FsError> {
        if !self.is_symlink(p)? {
            return Ok(p.clone());
        }
        self.real_path(p)
    }

    /// The path of what `p` names once every symlink on the way (confined) is followed.
    pub fn real_path(&self, p: &DavPath) -> Result<DavPath, FsError> {
        let fd = self.open_beneath(p, OFlag::O_PATH, "follow")?;
        let link = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
        let target =
            std::fs::read_link(&link).map_err(|e| FsError::new("follow", p, errno_of(&e)))?;
        let rel = target
            .strip_prefix(&self.real)
            .map_err(|_| FsError::new("follow", p, Errno::EXDEV))?;
        let names: Option<Vec<String>> =
            rel.iter().map(|s| s.to_str().map(str::to_owned)).collect();
        let names = names.ok_or_else(|| FsError::new("follow", p, Errno::EXDEV))?;
        DavPath::from_segments(names).map_err(|_| FsError::new("follow", p, Errno::EXDEV))
    }

    /// Create collection `p`.
    pub fn mkdir(&self, p: &DavPath) -> Result<(), FsError> {
        let (dir, name) = self.parent_of(p)?;
        mkdirat(&dir, name, Mode::from_bits_truncate(0o777))
            .map_err(|e| FsError::new("create", p, e))
    }

    /// Remove `p`: the link itself for a symlink, the whole tree for a collection.
    pub fn remove(&self, p: &DavPath) -> Result<(), FsError> {
        let (dir, name) = self.parent_of(p)?;
        remove_entry(&dir, name).map_err(|e| FsError::new("delete", p, e))
    }

    /// Rename `from` to `to` (both resolved through their parents; `to` must not exist).
    /// Falls back to copy and delete across filesystems.
    pub fn rename(&self, from: &DavPath, to: &DavPath) -> Result<(), FsError> {
        let (src_dir, src_name) = self.parent_of(from)?;
        let (dst_dir, dst_name) = self.parent_of(to)?;
        match renameat(&src_dir, src_name, &dst_dir, dst_name) {
            Ok(()) => Ok(()),
            Err(Errno::EXDEV) => {
                copy_entry(&src_dir, src_name, &dst_dir, dst_name, true)
                    .map_err(|e| FsError::new("move", from, e))?;
                remove_entry(&src_dir, src_name).map_err(|e| FsError::new("move", from, e))
            }
            Err(e) => Err(FsError::new("move", from, e)),
        }
    }

    /// Copy `from` to `to` (`to` must not exist); collections with all members when `deep`.
    pub fn copy(&self, from: &DavPath, to: &DavPath, deep: bool) -> Result<(), FsError> {
        let (src_dir, src_name) = self.parent_of(from)?;
        let (dst_dir, dst_name) = self.parent_of(to)?;
        copy_entry(&src_dir, src_name, &dst_dir, dst_name, deep)
            .map_err(|e| FsError::new("copy", from, e))
    }

    /// Start an upload to `p` (whose parent must exist). With `keep`, the upload starts as a
    /// copy of the current content (for partial updates).
    pub fn upload(&self, p: &DavPath, keep: bool) -> Result<Upload, FsError> {
        let (dir, name) = self.parent_of(p)?;
        let mut random = [0u8; 8];
        let _ = getrandom::fill(&mut random);
        let temp = format!("{INTERNAL_PREFIX}put-{}", super::digest::hex(&random));
        let fd = openat(
            &dir,
            temp.as_str(),
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o666),
        )
        .map_err(|e| FsError::new("create a temporary file for", p, e))?;
        let mut upload = Upload {
            dir,
            temp,
            name: name.to_owned(),
            file: File::from(fd),
            path: p.clone(),
            done: false,
        };
        if let Ok(old) = openat(
            &upload.dir,
            name,
            OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            let mut old = File::from(old);
            if let Ok(meta) = old.metadata() {
                // Keep the replaced file's owner (possible when running as root or as that
                // owner) and mode, so the application can still write it afterwards.
                let _ = nix::unistd::fchown(
                    &upload.file,
                    Some(nix::unistd::Uid::from_raw(meta.uid())),
                    Some(nix::unistd::Gid::from_raw(meta.gid())),
                );
                let _ = fchmod(&upload.file, Mode::from_bits_truncate(meta.mode() & 0o7777));
            }
            copy_xattrs(&old, &upload.file);
            if keep {
                io::copy(&mut old, &mut upload.file)
                    .map_err(|e| FsError::new("copy", p, errno_of(&e)))?;
            }
        }
        Ok(upload)
    }

    /// Remove temporary files that uploads interrupted by a crash or SIGKILL left behind
    /// (older than `before`, the server's start), walking the tree without following links.
    /// Returns how many were removed.
    pub fn sweep_stale_uploads(&self, before: SystemTime) -> usize {
        let Ok(top) = openat(
            &self.fd,
            ".",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) else {
            return 0;
        };
        // File times come from a coarse clock that can lag `now()`: keep a margin so an upload
        // this process starts while the sweep runs is never taken for a leftover.
        let before = before
            .checked_sub(std::time::Duration::from_secs(2))
            .unwrap_or(UNIX_EPOCH);
        sweep(&top, before, 0)
    }

    /// Space used and available on the root's filesystem.
    pub fn quota(&self) -> Option<Quota> {
        let st = nix::sys::statvfs::fstatvfs(&self.fd).ok()?;
        let frsize = st.fragment_size();
        Some(Quota {
            used: (st.blocks().saturating_sub(st.blocks_free())).saturating_mul(frsize),
            available: st.blocks_available().saturating_mul(frsize),
        })
    }
}

/// An upload in progress: a temporary file beside its target. Dropped without [`commit`],
/// the temporary file is removed and the target is untouched.
///
/// [`commit`]: Upload::commit
#[derive(Debug)]
pub struct Upload {
    dir: OwnedFd,
    temp: String,
    name: String,
    file: File,
    path: DavPath,
    done: bool,
}

impl Upload {
    /// Append (or, after [`Upload::seek`], overwrite) the bytes of `bufs` in order, with
    /// vectored writes: the pieces a client sent are not copied together first.
    pub fn write(&mut self, bufs: &[bytes::Bytes]) -> Result<(), FsError> {
        let mut slices: Vec<io::IoSlice<'_>> = bufs.iter().map(|b| io::IoSlice::new(b)).collect();
        let mut rest = &mut slices[..];
        while !rest.is_empty() {
            match self.file.write_vectored(rest) {
                Ok(0) => return Err(FsError::new("write", &self.path, Errno::EIO)),
                Ok(n) => io::IoSlice::advance_slices(&mut rest, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(FsError::new("write", &self.path, errno_of(&e))),
            }
        }
        Ok(())
    }

    /// Bytes still free for this upload on its filesystem (what an unprivileged writer may
    /// use), `None` when the filesystem keeps no count (ramfs, some FUSE report 0 blocks).
    pub fn space_available(&self) -> Option<u64> {
        let st = nix::sys::statvfs::fstatvfs(&self.file).ok()?;
        if st.blocks() == 0 {
            return None;
        }
        Some(st.blocks_available().saturating_mul(st.fragment_size()))
    }

    /// Move the write position (partial updates).
    pub fn seek(&mut self, offset: u64) -> Result<(), FsError> {
        self.file
            .seek(SeekFrom::Start(offset))
            .map(drop)
            .map_err(|e| FsError::new("write", &self.path, errno_of(&e)))
    }

    /// Replace the target with the uploaded content in one rename.
    pub fn commit(mut self) -> Result<(), FsError> {
        self.file
            .flush()
            .map_err(|e| FsError::new("write", &self.path, errno_of(&e)))?;
        renameat(&self.dir, self.temp.as_str(), &self.dir, self.name.as_str())
            .map_err(|e| FsError::new("replace", &self.path, e))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if !self.done {
            let _ = unlinkat(&self.dir, self.temp.as_str(), UnlinkatFlags::NoRemoveDir);
        }
    }
}

fn errno_of(e: &io::Error) -> Errno {
    e.raw_os_error().map(Errno::from_raw).unwrap_or(Errno::EIO)
}

fn kind(dir: &impl AsFd, name: &str) -> nix::Result<(SFlag, u32)> {
    let st = fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW)?;
    Ok((
        SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT,
        st.st_mode & 0o7777,
    ))
}

/// Every name in an open directory but `.` and `..`, as the kernel gives it, and whether
/// it is a regular file or a directory (`false` when the filesystem does not say).
fn raw_names(dir: &OwnedFd) -> nix::Result<Vec<(std::ffi::CString, bool)>> {
    let fd = openat(
        dir,
        ".",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let mut d = Dir::from_fd(fd)?;
    let mut names = Vec::new();
    for entry in d.iter() {
        let entry = entry?;
        let name = entry.file_name().to_owned();
        if name.as_bytes() != b"." && name.as_bytes() != b".." {
            let plain = matches!(
                entry.file_type(),
                Some(nix::dir::Type::File | nix::dir::Type::Directory)
            );
            names.push((name, plain));
        }
    }
    Ok(names)
}

fn entries(dir: &OwnedFd) -> nix::Result<Vec<String>> {
    Ok(raw_names(dir)?
        .iter()
        .map(|(name, _)| name.to_string_lossy().into_owned())
        .collect())
}

/// The names in an open directory, sorted, without `.`, `..`, bosun's internal files and names
/// that are not UTF-8.
fn visible_names(dir: &OwnedFd) -> nix::Result<Vec<String>> {
    Ok(visible_entries(dir)?
        .into_iter()
        .map(|(name, _)| name)
        .collect())
}

/// [`visible_names`], each with whether it is a regular file or a directory.
fn visible_entries(dir: &OwnedFd) -> nix::Result<Vec<(String, bool)>> {
    // `into_string` keeps each name's buffer: a listing of 100,000 names is held once.
    let mut entries: Vec<(String, bool)> = raw_names(dir)?
        .into_iter()
        .filter_map(|(name, plain)| Some((name.into_string().ok()?, plain)))
        .filter(|(name, _)| !name.starts_with(INTERNAL_PREFIX))
        .collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

fn open_subdir(dir: &impl AsFd, name: &str) -> nix::Result<OwnedFd> {
    openat(
        dir,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

/// Deepest directory level [`Root::sweep_stale_uploads`] descends to.
const SWEEP_DEPTH: usize = 64;

fn sweep(dir: &OwnedFd, before: SystemTime, depth: usize) -> usize {
    let Ok(names) = entries(dir) else { return 0 };
    let mut removed = 0;
    for name in names {
        let Ok(st) = fstatat(dir, name.as_str(), AtFlags::AT_SYMLINK_NOFOLLOW) else {
            continue;
        };
        let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
        if kind == SFlag::S_IFDIR && depth < SWEEP_DEPTH {
            if let Ok(sub) = open_subdir(dir, &name) {
                removed += sweep(&sub, before, depth + 1);
            }
        } else if kind == SFlag::S_IFREG && is_upload_leftover(&name) {
            let mtime = u64::try_from(st.st_mtime).map_or(UNIX_EPOCH, |secs| {
                UNIX_EPOCH
                    + std::time::Duration::new(secs, u32::try_from(st.st_mtime_nsec).unwrap_or(0))
            });
            if mtime < before && unlinkat(dir, name.as_str(), UnlinkatFlags::NoRemoveDir).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}

/// Temporary files of uploads and of fallback-store updates.
fn is_upload_leftover(name: &str) -> bool {
    name.starts_with(&format!("{INTERNAL_PREFIX}put-"))
        || name == format!("{}.tmp", super::props::FALLBACK_STORE)
}

/// Deepest directory level DELETE, COPY and MOVE descend to. Deeper trees (or a copy into
/// itself through a symlinked parent, which would never end) fail with ELOOP instead of
/// exhausting the stack or the descriptors.
const MAX_TREE_DEPTH: usize = 256;

fn remove_entry(dir: &impl AsFd, name: &str) -> nix::Result<()> {
    remove_entry_at(dir, name, 0)
}

fn remove_entry_at(dir: &impl AsFd, name: &str, depth: usize) -> nix::Result<()> {
    let (kind, _) = kind(dir, name)?;
    if kind == SFlag::S_IFDIR {
        if depth >= MAX_TREE_DEPTH {
            return Err(Errno::ELOOP);
        }
        let sub = open_subdir(dir, name)?;
        for child in entries(&sub)? {
            remove_entry_at(&sub, &child, depth + 1)?;
        }
        unlinkat(dir, name, UnlinkatFlags::RemoveDir)
    } else {
        unlinkat(dir, name, UnlinkatFlags::NoRemoveDir)
    }
}

fn copy_entry(
    src: &impl AsFd,
    src_name: &str,
    dst: &impl AsFd,
    dst_name: &str,
    deep: bool,
) -> nix::Result<()> {
    copy_entry_at(src, src_name, dst, dst_name, deep, 0)
}

fn copy_entry_at(
    src: &impl AsFd,
    src_name: &str,
    dst: &impl AsFd,
    dst_name: &str,
    deep: bool,
    depth: usize,
) -> nix::Result<()> {
    let (kind, mode) = kind(src, src_name)?;
    if kind == SFlag::S_IFDIR && depth >= MAX_TREE_DEPTH {
        return Err(Errno::ELOOP);
    }
    if kind == SFlag::S_IFLNK {
        let target = readlinkat(src, src_name)?;
        symlinkat(target.as_os_str(), dst, dst_name)
    } else if kind == SFlag::S_IFDIR {
        mkdirat(dst, dst_name, Mode::from_bits_truncate(mode | 0o700))?;
        let from = open_subdir(src, src_name)?;
        let to = open_subdir(dst, dst_name)?;
        copy_xattrs(
            &File::from(from.try_clone().map_err(|_| Errno::EBADF)?),
            &File::from(to.try_clone().map_err(|_| Errno::EBADF)?),
        );
        if deep {
            for child in entries(&from)? {
                // Temporary uploads stay behind; the fallback property store travels along.
                if child.starts_with(&format!("{INTERNAL_PREFIX}put-")) {
                    continue;
                }
                copy_entry_at(&from, &child, &to, &child, true, depth + 1)?;
            }
        } else if let Ok(store) = openat(
            &from,
            super::props::FALLBACK_STORE,
            OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            // A shallow copy keeps the collection's own dead properties, not its members'.
            drop(store);
            copy_entry(
                &from,
                super::props::FALLBACK_STORE,
                &to,
                super::props::FALLBACK_STORE,
                false,
            )?;
        }
        let _ = fchmod(&to, Mode::from_bits_truncate(mode));
        Ok(())
    } else if kind == SFlag::S_IFREG {
        let from = openat(
            src,
            src_name,
            OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )?;
        let to = openat(
            dst,
            dst_name,
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(mode),
        )?;
        let (mut from, mut to) = (File::from(from), File::from(to));
        copy_xattrs(&from, &to);
        io::copy(&mut from, &mut to).map_err(|e| errno_of(&e))?;
        Ok(())
    } else {
        // Devices, fifos and sockets are not content a WebDAV client can copy.
        Err(Errno::EPERM)
    }
}

/// Copy bosun's dead properties (`user.dav.*` xattrs) from one open file to another.
pub fn copy_xattrs(from: &File, to: &File) {
    use xattr::FileExt;
    let Ok(names) = from.list_xattr() else { return };
    for name in names {
        if name
            .to_str()
            .is_some_and(|n| n.starts_with(super::props::XATTR_PREFIX))
            && let Ok(Some(value)) = from.get_xattr(&name)
        {
            let _ = to.set_xattr(&name, &value);
        }
    }
}

/// Read a whole small file (the fallback property store).
pub fn read_small(dir: &impl AsFd, name: &str) -> nix::Result<Option<Vec<u8>>> {
    match openat(
        dir,
        name,
        OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => {
            let mut out = Vec::new();
            File::from(fd)
                .read_to_end(&mut out)
                .map_err(|e| errno_of(&e))?;
            Ok(Some(out))
        }
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Replace a small file atomically (temp + rename), or remove it when `data` is empty.
pub fn write_small(dir: &impl AsFd, name: &str, data: &[u8]) -> nix::Result<()> {
    if data.is_empty() {
        return match unlinkat(dir, name, UnlinkatFlags::NoRemoveDir) {
            Err(Errno::ENOENT) => Ok(()),
            other => other,
        };
    }
    let temp = format!("{name}.tmp");
    let fd = openat(
        dir,
        temp.as_str(),
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_TRUNC | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o600),
    )?;
    File::from(fd).write_all(data).map_err(|e| errno_of(&e))?;
    renameat(dir, temp.as_str(), dir, name)
}
