//! What a copy is asked ([`CopyOptions`]) and what it reports: the running [`Progress`] (files,
//! bytes, rate, ETA) and the final [`CopyReport`] with the [`CopyWarning`]s for what could not
//! be preserved. Plain data; must not touch the filesystem.

use std::ffi::OsString;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Something the copy could not preserve and went on without.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyWarning {
    /// Not root (or ids not mapped in this user namespace): owners are left as the copier's own.
    /// Reported once, with the first path it happened on.
    OwnerNotPreserved { path: PathBuf, errno: i32 },
    /// A fifo, socket or device node could not be created (devices need CAP_MKNOD).
    SpecialSkipped { path: PathBuf, errno: i32 },
    /// An extended attribute could not be set (first occurrence per attribute name).
    XattrSkipped {
        path: PathBuf,
        name: OsString,
        errno: i32,
    },
    /// A hardlink could not be made and the data was copied instead.
    HardlinkCopied { path: PathBuf, errno: i32 },
    /// The destination has an entry of another type where the source has this one; kept.
    TypeConflict { path: PathBuf },
    /// Not root, and an entry we do not own refused a mode or times (first occurrence per kind).
    NotPreserved {
        what: &'static str,
        path: PathBuf,
        errno: i32,
    },
}

impl std::fmt::Display for CopyWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let why = |errno: &i32| io::Error::from_raw_os_error(*errno);
        match self {
            Self::OwnerNotPreserved { path, errno } => write!(
                f,
                "owners not preserved (first at {}: {}); files belong to the copying user",
                path.display(),
                why(errno)
            ),
            Self::SpecialSkipped { path, errno } => {
                write!(
                    f,
                    "special file {} not created: {}",
                    path.display(),
                    why(errno)
                )
            }
            Self::XattrSkipped { path, name, errno } => write!(
                f,
                "extended attribute {} not copied (first at {}: {})",
                name.to_string_lossy(),
                path.display(),
                why(errno)
            ),
            Self::NotPreserved { what, path, errno } => write!(
                f,
                "{what} not preserved (first at {}: {}); not the owner",
                path.display(),
                why(errno)
            ),
            Self::HardlinkCopied { path, errno } => write!(
                f,
                "{} copied instead of hardlinked: {}",
                path.display(),
                why(errno)
            ),
            Self::TypeConflict { path } => write!(
                f,
                "{} exists with another type than in the source; left as it is",
                path.display()
            ),
        }
    }
}

/// How to copy.
#[derive(Debug, Clone, Default)]
pub struct CopyOptions {
    /// The destination holds someone else's data (adopt/upgrade mode): never touch an existing
    /// entry, nor an existing directory's metadata. Without it the destination is the copy's
    /// own (seeding, resuming): an existing directory gets the source's metadata, and an
    /// existing non-directory whose type, size or nanosecond mtime differs from the source's
    /// (left unfinished by a kill or a power loss) is rebuilt; any other is kept.
    pub only_missing: bool,
    /// fsync every file and directory before it gets its final name (survives power loss, not
    /// only a kill; slower).
    pub durable: bool,
    /// Names directly under the source root that are not copied.
    pub exclude_top: Vec<OsString>,
    /// How often the progress callback runs (zero: never).
    pub progress_every: Duration,
    /// Expected totals (files, bytes), e.g. from a manifest, for the ETA.
    pub totals: Option<(u64, u64)>,
    /// Give every copied entry this owner (uid, gid) instead of the source's: the host user of
    /// `BOSUN_RUN_AS` / `PUID`+`PGID`.
    pub owner: Option<(u32, u32)>,
    /// Asked between entries (at most every [`INTERRUPT_EVERY`]): true stops the copy with
    /// [`super::copy::CopyError::Interrupted`], leaving what a kill would leave, which the next
    /// run resumes.
    pub interrupted: Option<fn() -> bool>,
}

/// How often a copy asks [`CopyOptions::interrupted`].
pub const INTERRUPT_EVERY: Duration = Duration::from_millis(50);

/// What a copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    pub dirs: u64,
    pub files: u64,
    pub symlinks: u64,
    pub specials: u64,
    pub hardlinks: u64,
    pub bytes: u64,
    pub reflinked: u64,
    /// Entries left alone because the destination already had them.
    pub existing: u64,
    /// Entries whose owner could not be set.
    pub owners_not_preserved: u64,
    pub warnings: Vec<CopyWarning>,
}

impl CopyReport {
    /// Add `other`'s counts to these (its warnings are the caller's to keep or not).
    pub fn add_counts(&mut self, other: &CopyReport) {
        self.dirs += other.dirs;
        self.files += other.files;
        self.symlinks += other.symlinks;
        self.specials += other.specials;
        self.hardlinks += other.hardlinks;
        self.bytes += other.bytes;
        self.reflinked += other.reflinked;
        self.existing += other.existing;
        self.owners_not_preserved += other.owners_not_preserved;
    }

    /// What was copied, for people: `N files (M MiB), D directories, S symlinks, H hardlinks,
    /// P special files`.
    pub fn summary(&self) -> String {
        format!(
            "{} files ({} MiB), {} directories, {} symlinks, {} hardlinks, {} special files",
            self.files,
            self.bytes / (1024 * 1024),
            self.dirs,
            self.symlinks,
            self.hardlinks,
            self.specials
        )
    }
}

/// A progress snapshot, given to the callback every [`CopyOptions::progress_every`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub files: u64,
    pub bytes: u64,
    pub elapsed: Duration,
    pub totals: Option<(u64, u64)>,
}

impl Progress {
    /// Bytes per second so far.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.bytes as f64 / secs
        } else {
            0.0
        }
    }

    /// Time left at the current rate, when the totals are known.
    pub fn eta(&self) -> Option<Duration> {
        let (total_files, total_bytes) = self.totals?;
        let secs = self.elapsed.as_secs_f64();
        let by_bytes = (self.bytes > 0)
            .then(|| total_bytes.saturating_sub(self.bytes) as f64 * secs / self.bytes as f64);
        let by_files = (self.files > 0)
            .then(|| total_files.saturating_sub(self.files) as f64 * secs / self.files as f64);
        let left = by_bytes.into_iter().chain(by_files).fold(0.0_f64, f64::max);
        Duration::try_from_secs_f64(left).ok()
    }
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mib = |b: f64| b / (1024.0 * 1024.0);
        write!(
            f,
            "copied {} files, {:.0} MiB ({:.1} MiB/s)",
            self.files,
            mib(self.bytes as f64),
            mib(self.rate())
        )?;
        if let Some((files, bytes)) = self.totals {
            write!(f, " of {files} files, {:.0} MiB", mib(bytes as f64))?;
        }
        if let Some(eta) = self.eta() {
            write!(f, ", about {}s left", eta.as_secs())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_eta() {
        let p = Progress {
            files: 10,
            bytes: 100,
            elapsed: Duration::from_secs(10),
            totals: Some((20, 1000)),
        };
        assert_eq!(p.eta(), Some(Duration::from_secs(90)));
        assert!(p.to_string().contains("about 90s left"));
        let p = Progress { totals: None, ..p };
        assert_eq!(p.eta(), None);
    }
}
