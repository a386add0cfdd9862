//! The metadata-preserving tree copier: what seeds a data volume from its template, moves paths
//! into the template at image build time, and adds what is missing on upgrade or adoption.
//!
//! Owns: creating every entry by type without following symlinks (regular, directory, symlink —
//! dangling ones too —, fifo, socket, character and block devices where permitted), keeping
//! hardlinks as hardlinks, keeping sparse files sparse, copying data by reflink → copy_file_range
//! → read/write, then applying owner, mode, extended attributes and nanosecond times, in that
//! order (chown clears setuid bits and `security.capability`; a directory's times are set after
//! its contents).
//!
//! Crash safety: a new directory (the top of a subtree the destination lacks) is built under a
//! temporary name ([`PARTIAL_PREFIX`] + the source inode) and renamed to its final name only
//! after its whole subtree and its own metadata are done; inside it, entries are created under
//! their final names, and a file's times are set last, so an entry whose nanosecond mtime and
//! size match the source is complete. Into an existing directory, every non-directory is built
//! under a temporary name and renamed into place (RENAME_NOREPLACE). So an entry visible under
//! its final name is always complete, and a copy killed at any instant is finished by running
//! it again: complete entries are kept, the temporary directory is reused, unfinished entries
//! are rebuilt, leftovers are removed.
//!
//! Threads: the walk is one thread; regular files with one link are built whole (data, then
//! metadata, then their name) by a few threads beside it (`copy/pool.rs`), so that reading from a
//! cold cache keeps several requests in flight. A directory is finished (leftovers removed,
//! metadata, its final name) only once its own files are done and after the directories
//! visited before it, so the order above holds; files with several links, symlinks and special
//! files stay on the walk's thread (a hardlink needs its first copy to exist). The threads are
//! joined before [`copy_tree`] returns.
//!
//! Depth: every operation is relative to an open directory (`*at` calls, and
//! `/proc/self/fd/N/name` for extended attributes), so no path grows past PATH_MAX; the walk
//! keeps two descriptors per level of nesting open (10,000 levels need a nofile limit above
//! 20,000), plus two for each of at most [`MAX_DEFERRED`] directories waiting to be finished
//! and two per thread.
//!
//! Must not: overwrite an existing destination entry that may hold someone else's data (see
//! [`CopyOptions::only_missing`]; an existing directory is merged into), follow a symlink in
//! the source or the destination, or recurse on the call stack (the walk is an explicit stack).
//! Names are bytes (`OsStr`) throughout: spaces, newlines and invalid UTF-8 are ordinary.
//! Hardlinks are made by path to the first copy; past PATH_MAX that fails and the file is
//! copied instead, with a warning.

use std::collections::{HashMap, VecDeque};
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rustix::fs::{AtFlags, CWD, FileType, Mode};
use rustix::io::Errno;

use super::inode::{self, DirHandle, Info, XattrPlace};

/// How many directories may wait to be finished (their files still with the threads, or
/// behind one that has) before the walk stops to wait for them.
pub const MAX_DEFERRED: usize = 128;

/// Names under construction start with this; they never survive a completed copy.
pub const PARTIAL_PREFIX: &str = ".bosun-partial.";

/// A failed copy step; every variant names the path it failed on.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot create {path}")]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot copy the data of {src} to {dst}")]
    Data {
        src: PathBuf,
        dst: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot set the {what} of {path}")]
    Metadata {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot move {from} into place as {to}")]
    Rename {
        from: PathBuf,
        to: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot copy to {path}: it has no parent directory or no name")]
    BadDestination { path: PathBuf },
    /// A copying thread panicked while building `path`, or ended without answering for a
    /// file in the directory `path` (a bug either way; running the copy again resumes it).
    #[error("a copying thread failed while building {path}")]
    ThreadLost { path: PathBuf },
    /// [`CopyOptions::interrupted`] said stop.
    #[error("the copy was interrupted")]
    Interrupted,
}

pub use super::report::{CopyOptions, CopyReport, CopyWarning, Progress};

mod at;
mod leaf;
mod pool;
use at::{open_child, open_dir, probe, remove_any, rename_noreplace, split, stat_at, sync_dir};
use leaf::{Builder, Target, partial_name};
use pool::{Done, Job, Pool};

/// Copy `src` (of any type) to `dst`, where `dst` is the final name. An existing destination
/// directory is merged into; what happens to other existing entries is
/// [`CopyOptions::only_missing`]'s business. See the module doc for what is preserved and how a
/// killed copy is resumed.
pub fn copy_tree(
    src: &Path,
    dst: &Path,
    options: &CopyOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<CopyReport, CopyError> {
    let (src_parent, src_name) = split(src)?;
    let (dst_parent, dst_name) = split(dst)?;
    let src_dir = Arc::new(open_dir(&src_parent)?);
    let dst_dir = Arc::new(open_dir(&dst_parent)?);
    let mut run = Run::new(dst_parent.clone(), options);
    std::thread::scope(|scope| {
        let mut pool = Pool::start(scope, options, pool::threads());
        let walked = run.walk(src_dir, dst_dir, src_name, dst_name, &mut pool, progress);
        for report in pool.join() {
            run.leaf.absorb(report);
        }
        walked
    })?;
    if options.durable {
        sync_dir(&dst_parent)?;
    }
    Ok(run.leaf.into_report())
}

/// Replace (or create) the non-directory `dst` with a copy of `src`, atomically: a reader sees
/// the old entry or the complete new one. Used by upgrades for files the user never changed and
/// for `FILE.bosun-new`.
pub fn replace_entry(
    src: &Path,
    dst: &Path,
    options: &CopyOptions,
) -> Result<CopyReport, CopyError> {
    let (src_parent, src_name) = split(src)?;
    let (dst_parent, dst_name) = split(dst)?;
    let src_dir = open_dir(&src_parent)?;
    let dst_dir = open_dir(&dst_parent)?;
    let info = stat_at(&src_dir, &src_name)?;
    if info.is_dir() {
        return Err(CopyError::Create {
            path: dst.to_owned(),
            source: io::Error::from(io::ErrorKind::IsADirectory),
        });
    }
    let mut leaf = Builder::new(options);
    if let Some(tmp) = leaf.build_leaf(&src_dir, &src_name, &dst_dir, &info)? {
        rustix::fs::renameat(&dst_dir.fd, &tmp, &dst_dir.fd, &dst_name).map_err(|errno| {
            CopyError::Rename {
                from: dst_dir.path.join(&tmp),
                to: dst.to_owned(),
                source: errno.into(),
            }
        })?;
    }
    Ok(leaf.into_report())
}

/// Create the directory `dst` (if missing) with `src`'s owner, mode, extended attributes and
/// times, without its contents: the parents of a path moved into a template.
pub fn copy_dir_shell(src: &Path, dst: &Path) -> Result<CopyReport, CopyError> {
    let (src_parent, src_name) = split(src)?;
    let (dst_parent, dst_name) = split(dst)?;
    let src_dir = open_dir(&src_parent)?;
    let dst_dir = open_dir(&dst_parent)?;
    let info = stat_at(&src_dir, &src_name)?;
    let options = CopyOptions::default();
    let mut leaf = Builder::new(&options);
    match rustix::fs::mkdirat(&dst_dir.fd, &dst_name, Mode::from_raw_mode(0o700)) {
        Ok(()) => leaf.report.dirs += 1,
        Err(Errno::EXIST) => {}
        Err(errno) => {
            return Err(CopyError::Create {
                path: dst.to_owned(),
                source: errno.into(),
            });
        }
    }
    let src_self = open_child(&src_dir, &src_name)?;
    let dst_self = open_child(&dst_dir, &dst_name)?;
    leaf.apply_metadata(
        Target::Fd(dst_self.fd.as_fd(), &dst_self.path),
        XattrPlace::Fd(src_self.fd.as_fd()),
        &src_self.path,
        &info,
    )?;
    Ok(leaf.into_report())
}

/// Set `dst`'s times (not followed if a symlink) to those recorded in `meta`.
pub fn set_times(dst: &Path, meta: &std::fs::Metadata) -> Result<(), CopyError> {
    use std::os::unix::fs::MetadataExt;
    let times = rustix::fs::Timestamps {
        last_access: rustix::fs::Timespec {
            tv_sec: meta.atime(),
            tv_nsec: meta.atime_nsec(),
        },
        last_modification: rustix::fs::Timespec {
            tv_sec: meta.mtime(),
            tv_nsec: meta.mtime_nsec(),
        },
    };
    rustix::fs::utimensat(CWD, dst, &times, AtFlags::SYMLINK_NOFOLLOW).map_err(|errno| {
        CopyError::Metadata {
            what: "times",
            path: dst.to_owned(),
            source: errno.into(),
        }
    })
}

/// Every extended attribute of `path` (not followed).
pub fn read_xattrs(path: &Path) -> Result<Vec<(OsString, Vec<u8>)>, CopyError> {
    inode::read_xattrs_at(path).map_err(|errno| CopyError::Read {
        path: path.to_owned(),
        source: errno.into(),
    })
}

/// One pending step of the walk. Directories are shared by their pending children.
enum Step {
    Visit(Visit),
    /// All of a directory's children are done: clean up, apply its metadata, give it its name.
    Finish(Box<Finish>),
}

/// Copy `name` from `src_dir` to `dst_name` in `dst_dir`.
struct Visit {
    src_dir: Arc<DirHandle>,
    dst_dir: Arc<DirHandle>,
    name: OsString,
    dst_name: OsString,
    /// The destination path relative to the copy's base directory.
    rel: PathBuf,
    /// `dst_dir` is not visible under its final name yet (it or an ancestor is being built),
    /// so entries can be created in it under their final names.
    fresh: bool,
    /// The copy's top entry (where `exclude_top` applies to its children).
    top: bool,
    /// The walk's number for `dst_dir` (see [`Run::pending`]).
    dir: u64,
}

struct Finish {
    /// The walk's number for this directory.
    id: u64,
    src_self: Arc<DirHandle>,
    dst_self: Arc<DirHandle>,
    dst_parent: Arc<DirHandle>,
    /// The temporary name to rename from, for the top of a new subtree.
    temp: Option<OsString>,
    name: OsString,
    rel: PathBuf,
    info: Info,
    apply: bool,
}

struct Run<'a> {
    options: &'a CopyOptions,
    /// The directory the copy's top entry goes into.
    base: PathBuf,
    /// (dev, ino) of a multiply-linked source → its first destination path (relative to base).
    links: HashMap<(u64, u64), PathBuf>,
    /// Directories under construction under a temporary name (relative path → that name).
    open_dirs: HashMap<PathBuf, OsString>,
    /// What the walk builds itself (directories' metadata, symlinks, special files, files with
    /// several links), and the joined report at the end.
    leaf: Builder<'a>,
    /// Regular files handed to the pool and not done yet, by destination directory number.
    pending: HashMap<u64, usize>,
    /// Directories whose children have all been visited, in the order they were; each is
    /// finished once its own files are done, after the ones before it (children before their
    /// parent).
    deferred: VecDeque<Finish>,
    next_dir: u64,
    /// Files (and their bytes) the pool has finished, for progress.
    pooled: (u64, u64),
    started: Instant,
    last_progress: Instant,
    last_interrupt_check: Instant,
}

impl<'a> Run<'a> {
    fn new(base: PathBuf, options: &'a CopyOptions) -> Self {
        let now = Instant::now();
        Self {
            options,
            base,
            links: HashMap::new(),
            open_dirs: HashMap::new(),
            leaf: Builder::new(options),
            pending: HashMap::new(),
            deferred: VecDeque::new(),
            next_dir: 1,
            pooled: (0, 0),
            started: now,
            last_progress: now,
            last_interrupt_check: now,
        }
    }

    fn walk(
        &mut self,
        src_dir: Arc<DirHandle>,
        dst_dir: Arc<DirHandle>,
        name: OsString,
        dst_name: OsString,
        pool: &mut Pool<'_>,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<(), CopyError> {
        let rel = PathBuf::from(&dst_name);
        let mut stack = vec![Step::Visit(Visit {
            src_dir,
            dst_dir,
            name,
            dst_name,
            rel,
            fresh: false,
            top: true,
            dir: 0,
        })];
        while let Some(step) = stack.pop() {
            match step {
                Step::Visit(visit) => {
                    self.visit(visit, &mut stack, pool)?;
                    self.tick(progress);
                    self.check_interrupt()?;
                }
                Step::Finish(finish) => self.deferred.push_back(*finish),
            }
            self.settle(pool, false)?;
            // A directory behind one whose big file is still being copied waits with its
            // descriptors open: bound how many.
            while self.deferred.len() > MAX_DEFERRED {
                self.wait_one(pool)?;
            }
        }
        self.settle(pool, true)
    }

    /// Take the pool's answers and finish the directories that are ready; with `wait`, until
    /// every file is done and every directory finished.
    fn settle(&mut self, pool: &mut Pool<'_>, wait: bool) -> Result<(), CopyError> {
        loop {
            while let Some(done) = pool.try_done() {
                self.done(done)?;
            }
            while let Some(first) = self.deferred.front() {
                if self.pending.get(&first.id).is_some_and(|n| *n > 0) {
                    break;
                }
                if let Some(finish) = self.deferred.pop_front() {
                    self.pending.remove(&finish.id);
                    self.finish(finish)?;
                }
            }
            if !wait || self.deferred.is_empty() && pool.in_flight == 0 {
                return Ok(());
            }
            self.wait_one(pool)?;
        }
    }

    /// Wait for the pool's next answer and finish what it made ready. Every pending file is in
    /// flight, so with nothing in flight every waiting directory is ready; one that is not
    /// means a thread died with its file (a bug): an error, not a wait forever.
    fn wait_one(&mut self, pool: &mut Pool<'_>) -> Result<(), CopyError> {
        if let Some(done) = pool.wait_done() {
            self.done(done)?;
            return self.settle(pool, false);
        }
        self.settle(pool, false)?;
        match self.deferred.front() {
            Some(stuck) => Err(CopyError::ThreadLost {
                path: stuck.dst_self.path.clone(),
            }),
            None => Ok(()),
        }
    }

    fn done(&mut self, done: Done) -> Result<(), CopyError> {
        done.result?;
        if let Some(n) = self.pending.get_mut(&done.dir) {
            *n = n.saturating_sub(1);
        }
        self.pooled.0 += 1;
        self.pooled.1 += done.bytes;
        Ok(())
    }

    fn check_interrupt(&mut self) -> Result<(), CopyError> {
        let Some(interrupted) = self.options.interrupted else {
            return Ok(());
        };
        if self.last_interrupt_check.elapsed() < super::report::INTERRUPT_EVERY {
            return Ok(());
        }
        self.last_interrupt_check = Instant::now();
        if interrupted() {
            return Err(CopyError::Interrupted);
        }
        Ok(())
    }

    fn tick(&mut self, progress: &mut dyn FnMut(&Progress)) {
        let every = self.options.progress_every;
        if every.is_zero() || self.last_progress.elapsed() < every {
            return;
        }
        self.last_progress = Instant::now();
        let r = &self.leaf.report;
        progress(&Progress {
            files: r.files
                + r.dirs
                + r.symlinks
                + r.specials
                + r.hardlinks
                + r.existing
                + self.pooled.0,
            bytes: r.bytes + self.pooled.1,
            elapsed: self.started.elapsed(),
            totals: self.options.totals,
        });
    }

    fn visit(
        &mut self,
        visit: Visit,
        stack: &mut Vec<Step>,
        pool: &mut Pool<'_>,
    ) -> Result<(), CopyError> {
        let Visit {
            src_dir,
            dst_dir,
            name,
            dst_name,
            rel,
            fresh,
            top,
            dir,
        } = visit;
        let (src_dir, dst_dir, name, dst_name) =
            (&src_dir, &dst_dir, name.as_os_str(), dst_name.as_os_str());
        let info = stat_at(src_dir, name)?;
        let existing = probe(dst_dir, dst_name)?;

        if !info.is_dir() {
            // Inside a directory still being built, entries are created under their final
            // names; one left by a killed run is complete only if its times were set (the
            // last step), else it is rebuilt. Outside `only_missing` the destination is ours
            // (seeding, resuming), so the same check repairs what a power loss left behind
            // (a renamed file whose data never reached the disk has the wrong size).
            let verify = fresh || !self.options.only_missing;
            let existing = match existing {
                Some(existing) if verify && !is_complete(&existing, &info) => {
                    remove_any(dst_dir, dst_name)?;
                    None
                }
                other => other,
            };
            if let Some(existing) = existing {
                self.leaf.report.existing += 1;
                if existing.file_type() != info.file_type() {
                    self.leaf.report.warnings.push(CopyWarning::TypeConflict {
                        path: dst_dir.path.join(dst_name),
                    });
                } else if info.nlink > 1 {
                    self.links.entry((info.dev, info.ino)).or_insert(rel);
                }
                return Ok(());
            }
            if info.nlink > 1 {
                if let Some(first) = self.links.get(&(info.dev, info.ino)) {
                    let target = self.physical(first);
                    match rustix::fs::linkat(CWD, &target, &dst_dir.fd, dst_name, AtFlags::empty())
                    {
                        Ok(()) => {
                            self.leaf.report.hardlinks += 1;
                            return Ok(());
                        }
                        // Copied instead (a path past PATH_MAX, a filesystem without links).
                        Err(errno) => self.leaf.report.warnings.push(CopyWarning::HardlinkCopied {
                            path: dst_dir.path.join(dst_name),
                            errno: errno.raw_os_error(),
                        }),
                    }
                } else {
                    self.links.insert((info.dev, info.ino), rel.clone());
                }
            }
            if info.file_type() == FileType::RegularFile && info.nlink <= 1 {
                let job = Job {
                    src_dir: Arc::clone(src_dir),
                    dst_dir: Arc::clone(dst_dir),
                    name: name.to_owned(),
                    dst_name: dst_name.to_owned(),
                    info,
                    fresh,
                    dir,
                };
                // Built here instead if the threads are gone.
                if pool.submit(job).is_ok() {
                    *self.pending.entry(dir).or_default() += 1;
                    return Ok(());
                }
            }
            if fresh {
                if self
                    .leaf
                    .build_leaf_as(src_dir, name, dst_dir, &info, dst_name)?
                    .is_none()
                {
                    self.links.remove(&(info.dev, info.ino));
                }
                return Ok(());
            }
            match self.leaf.build_leaf(src_dir, name, dst_dir, &info)? {
                Some(tmp) => rename_noreplace(dst_dir, &tmp, dst_name)?,
                None => {
                    self.links.remove(&(info.dev, info.ino));
                }
            }
            return Ok(());
        }

        // A directory: merge into an existing one, create it in place inside a directory still
        // being built, or build it under a temporary name and rename it at the end.
        let (phys_name, temp, apply) = match existing {
            Some(existing) if existing.is_dir() => (
                dst_name.to_owned(),
                None,
                fresh || !self.options.only_missing,
            ),
            Some(_) => {
                self.leaf.report.existing += 1;
                self.leaf.report.warnings.push(CopyWarning::TypeConflict {
                    path: dst_dir.path.join(dst_name),
                });
                return Ok(());
            }
            None if fresh => {
                self.mkdir(dst_dir, dst_name)?;
                self.leaf.report.dirs += 1;
                (dst_name.to_owned(), None, true)
            }
            None => {
                let tmp = partial_name(&info);
                match probe(dst_dir, &tmp)? {
                    // Left by a killed run: reuse what it finished inside.
                    Some(left) if left.is_dir() => rustix::fs::chmodat(
                        &dst_dir.fd,
                        &tmp,
                        Mode::from_raw_mode(0o700),
                        AtFlags::empty(),
                    )
                    .map_err(|errno| CopyError::Metadata {
                        what: "mode",
                        path: dst_dir.path.join(&tmp),
                        source: errno.into(),
                    })?,
                    Some(_) => remove_any(dst_dir, &tmp)?,
                    None => {}
                }
                if probe(dst_dir, &tmp)?.is_none() {
                    self.mkdir(dst_dir, &tmp)?;
                }
                self.open_dirs.insert(rel.clone(), tmp.clone());
                (tmp.clone(), Some(tmp), true)
            }
        };
        let src_self = Arc::new(open_child(src_dir, name)?);
        let dst_self = Arc::new(open_child(dst_dir, &phys_name)?);
        let mut names = src_self.names().map_err(|source| CopyError::Read {
            path: src_self.path.clone(),
            source,
        })?;
        if top {
            names.retain(|n| !self.options.exclude_top.contains(n));
        }
        let child_fresh = fresh || temp.is_some();
        let id = self.next_dir;
        self.next_dir += 1;
        stack.push(Step::Finish(Box::new(Finish {
            id,
            src_self: Arc::clone(&src_self),
            dst_self: Arc::clone(&dst_self),
            dst_parent: Arc::clone(dst_dir),
            temp,
            name: dst_name.to_owned(),
            rel: rel.clone(),
            info,
            apply,
        })));
        for child in names.into_iter().rev() {
            stack.push(Step::Visit(Visit {
                src_dir: Arc::clone(&src_self),
                dst_dir: Arc::clone(&dst_self),
                rel: rel.join(&child),
                dst_name: child.clone(),
                name: child,
                fresh: child_fresh,
                top: false,
                dir: id,
            }));
        }
        Ok(())
    }

    fn mkdir(&self, dir: &DirHandle, name: &OsStr) -> Result<(), CopyError> {
        rustix::fs::mkdirat(&dir.fd, name, Mode::from_raw_mode(0o700)).map_err(|errno| {
            CopyError::Create {
                path: dir.path.join(name),
                source: errno.into(),
            }
        })
    }

    fn finish(&mut self, f: Finish) -> Result<(), CopyError> {
        // Leftovers of a killed run whose source has gone since.
        let names = f.dst_self.names().map_err(|source| CopyError::Read {
            path: f.dst_self.path.clone(),
            source,
        })?;
        for name in names {
            if name.as_bytes().starts_with(PARTIAL_PREFIX.as_bytes())
                && probe(&f.src_self, &name)?.is_none()
            {
                remove_any(&f.dst_self, &name)?;
            }
        }
        if f.apply {
            self.leaf.apply_metadata(
                Target::Fd(f.dst_self.fd.as_fd(), &f.dst_self.path),
                XattrPlace::Fd(f.src_self.fd.as_fd()),
                &f.src_self.path,
                &f.info,
            )?;
        }
        if self.options.durable {
            rustix::fs::fsync(&f.dst_self.fd).map_err(|errno| CopyError::Metadata {
                what: "durability (fsync)",
                path: f.dst_self.path.clone(),
                source: errno.into(),
            })?;
        }
        if let Some(temp) = f.temp {
            rename_noreplace(&f.dst_parent, &temp, &f.name)?;
            self.open_dirs.remove(&f.rel);
            self.leaf.report.dirs += 1;
        }
        Ok(())
    }

    /// The current path of the destination entry `rel` (an ancestor may still have its
    /// temporary name).
    fn physical(&self, rel: &Path) -> PathBuf {
        let mut phys = self.base.clone();
        let mut prefix = PathBuf::new();
        for part in rel.components() {
            prefix.push(part);
            match self.open_dirs.get(&prefix) {
                Some(tmp) => phys.push(tmp),
                None => phys.push(part),
            }
        }
        phys
    }
}

/// Whether `existing`, found under its final name inside a directory still being built, was
/// finished by the run that made it: same type, size and nanosecond mtime as the source (times
/// are set last, after the data).
fn is_complete(existing: &Info, source: &Info) -> bool {
    existing.file_type() == source.file_type()
        && existing.mtime == source.mtime
        && (existing.file_type() != FileType::RegularFile || existing.size == source.size)
}
