//! Building one non-directory entry of a copy, complete with its metadata: the part of the
//! copier that runs on several threads at once (see [`super::pool`]). One [`Builder`] per
//! thread holds what that thread has learnt and reported; [`Builder::absorb`] joins their
//! reports. Must not walk directories, look at other entries, or decide whether an entry is
//! copied (the walk in `copy.rs` does).

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Gid, Mode, OFlags, Uid};
use rustix::io::Errno;

use super::at::{probe, remove_any};
use super::{CopyError, CopyOptions, CopyReport, CopyWarning, PARTIAL_PREFIX};
use crate::volume::data::DataCopier;
use crate::volume::inode::{self, DirHandle, Info, XattrPlace};

/// One thread's share of a copy: the options, what it reported, what it learnt.
pub(super) struct Builder<'a> {
    options: &'a CopyOptions,
    pub(super) report: CopyReport,
    data: DataCopier,
    warned_xattrs: Vec<OsString>,
    euid: u32,
    egid: u32,
}

impl<'a> Builder<'a> {
    pub(super) fn new(options: &'a CopyOptions) -> Self {
        Self {
            options,
            report: CopyReport::default(),
            data: DataCopier::default(),
            warned_xattrs: Vec::new(),
            euid: nix::unistd::geteuid().as_raw(),
            egid: nix::unistd::getegid().as_raw(),
        }
    }

    /// The report, with the count of reflinked files.
    pub(super) fn into_report(mut self) -> CopyReport {
        self.report.reflinked = self.data.reflinked;
        self.report
    }

    /// Add another thread's report to this one's, keeping one warning of each kind where the
    /// kind is reported once (owners, refused modes or times, one per extended attribute name).
    pub(super) fn absorb(&mut self, other: CopyReport) {
        let r = &mut self.report;
        // Whether an owner warning is kept already, counted before the other's are added.
        let owner_said = r.owners_not_preserved > 0;
        r.add_counts(&other);
        for warning in other.warnings {
            let once =
                match &warning {
                    CopyWarning::OwnerNotPreserved { .. } => owner_said,
                    CopyWarning::NotPreserved { what, .. } => r.warnings.iter().any(
                        |w| matches!(w, CopyWarning::NotPreserved { what: w, .. } if w == what),
                    ),
                    CopyWarning::XattrSkipped { name, .. } => r.warnings.iter().any(
                        |w| matches!(w, CopyWarning::XattrSkipped { name: n, .. } if n == name),
                    ),
                    _ => false,
                };
            if !once {
                r.warnings.push(warning);
            }
        }
    }

    /// Build the non-directory `name` of `src_dir` under a temporary name in `dst_dir`,
    /// complete with metadata. Returns the temporary name, or None when the entry cannot exist
    /// here (a warning says so).
    pub(super) fn build_leaf(
        &mut self,
        src_dir: &DirHandle,
        name: &OsStr,
        dst_dir: &DirHandle,
        info: &Info,
    ) -> Result<Option<OsString>, CopyError> {
        let tmp = partial_name(info);
        if probe(dst_dir, &tmp)?.is_some() {
            remove_any(dst_dir, &tmp)?;
        }
        self.build_leaf_as(src_dir, name, dst_dir, info, &tmp)
    }

    /// Build the non-directory `name` of `src_dir` as `tmp` (which must not exist) in
    /// `dst_dir`; metadata last, times the very last.
    pub(super) fn build_leaf_as(
        &mut self,
        src_dir: &DirHandle,
        name: &OsStr,
        dst_dir: &DirHandle,
        info: &Info,
        tmp: &OsStr,
    ) -> Result<Option<OsString>, CopyError> {
        let tmp = tmp.to_owned();
        let src_path = src_dir.path.join(name);
        let tmp_path = dst_dir.path.join(&tmp);
        match info.file_type() {
            FileType::RegularFile => {
                let input = rustix::fs::openat(
                    &src_dir.fd,
                    name,
                    OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|errno| CopyError::Read {
                    path: src_path.clone(),
                    source: errno.into(),
                })?;
                let output = rustix::fs::openat(
                    &dst_dir.fd,
                    &tmp,
                    OFlags::WRONLY
                        | OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::NOFOLLOW
                        | OFlags::CLOEXEC,
                    Mode::from_raw_mode(0o600),
                )
                .map_err(|errno| CopyError::Create {
                    path: tmp_path.clone(),
                    source: errno.into(),
                })?;
                let (input, output) = (File::from(input), File::from(output));
                self.data
                    .copy(&input, &output, info.size, info.blocks)
                    .map_err(|source| CopyError::Data {
                        src: src_path.clone(),
                        dst: tmp_path.clone(),
                        source,
                    })?;
                self.apply_metadata(
                    Target::Fd(output.as_fd(), &tmp_path),
                    XattrPlace::Fd(input.as_fd()),
                    &src_path,
                    info,
                )?;
                if self.options.durable {
                    output.sync_all().map_err(|source| CopyError::Data {
                        src: src_path.clone(),
                        dst: tmp_path.clone(),
                        source,
                    })?;
                }
                self.report.files += 1;
                self.report.bytes += info.size;
            }
            FileType::Symlink => {
                let target =
                    rustix::fs::readlinkat(&src_dir.fd, name, Vec::new()).map_err(|errno| {
                        CopyError::Read {
                            path: src_path.clone(),
                            source: errno.into(),
                        }
                    })?;
                rustix::fs::symlinkat(target.as_c_str(), &dst_dir.fd, &tmp).map_err(|errno| {
                    CopyError::Create {
                        path: tmp_path.clone(),
                        source: errno.into(),
                    }
                })?;
                let src_place = src_dir.path_of(name);
                self.apply_metadata(
                    Target::At(dst_dir, &tmp, true),
                    XattrPlace::Path(&src_place),
                    &src_path,
                    info,
                )?;
                self.report.symlinks += 1;
            }
            file_type => {
                if let Err(errno) =
                    rustix::fs::mknodat(&dst_dir.fd, &tmp, file_type, info.perms(), info.rdev)
                {
                    let path = dst_dir.path.join(name);
                    self.report.warnings.push(CopyWarning::SpecialSkipped {
                        path,
                        errno: errno.raw_os_error(),
                    });
                    return Ok(None);
                }
                let src_place = src_dir.path_of(name);
                self.apply_metadata(
                    Target::At(dst_dir, &tmp, false),
                    XattrPlace::Path(&src_place),
                    &src_path,
                    info,
                )?;
                self.report.specials += 1;
            }
        }
        Ok(Some(tmp))
    }

    /// Owner, then mode, then extended attributes, then times (see the module doc for why).
    pub(super) fn apply_metadata(
        &mut self,
        target: Target<'_>,
        src: XattrPlace<'_>,
        src_path: &Path,
        info: &Info,
    ) -> Result<(), CopyError> {
        let shown = target.shown();
        let meta_err = |what: &'static str| {
            let path = shown.clone();
            move |errno: Errno| CopyError::Metadata {
                what,
                path,
                source: errno.into(),
            }
        };

        // Owner. As non-root, only try when it would change something.
        let (want_uid, want_gid) = self.options.owner.unwrap_or((info.uid, info.gid));
        if self.euid == 0 || want_uid != self.euid || want_gid != self.egid {
            let (uid, gid) = (Some(Uid::from_raw(want_uid)), Some(Gid::from_raw(want_gid)));
            let done = match target {
                Target::Fd(fd, _) => rustix::fs::fchown(fd, uid, gid),
                Target::At(dir, name, _) => {
                    rustix::fs::chownat(&dir.fd, name, uid, gid, AtFlags::SYMLINK_NOFOLLOW)
                }
            };
            match done {
                Ok(()) => {}
                Err(errno @ (Errno::PERM | Errno::INVAL)) => {
                    if self.report.owners_not_preserved == 0 {
                        self.report.warnings.push(CopyWarning::OwnerNotPreserved {
                            path: shown.clone(),
                            errno: errno.raw_os_error(),
                        });
                    }
                    self.report.owners_not_preserved += 1;
                }
                Err(errno) => return Err(meta_err("owner")(errno)),
            }
        }

        // Mode, setuid/setgid/sticky included (after chown, which clears them).
        let moded = match target {
            Target::Fd(fd, _) => rustix::fs::fchmod(fd, info.perms()),
            Target::At(dir, name, false) => {
                rustix::fs::chmodat(&dir.fd, name, info.perms(), AtFlags::empty())
            }
            Target::At(_, _, true) => Ok(()),
        };
        self.tolerate("mode", &shown, moded)
            .map_err(meta_err("mode"))?;

        // Extended attributes, every namespace the kernel lets us read (security.capability
        // included, after chown).
        let xattrs = inode::read_xattrs(src).map_err(|errno| CopyError::Read {
            path: src_path.to_owned(),
            source: errno.into(),
        })?;
        if !xattrs.is_empty() {
            let dst_place_path;
            let dst_place = match target {
                Target::Fd(fd, _) => XattrPlace::Fd(fd),
                Target::At(dir, name, _) => {
                    dst_place_path = dir.path_of(name);
                    XattrPlace::Path(&dst_place_path)
                }
            };
            for (name, value) in xattrs {
                if let Err(errno) = inode::write_xattr(dst_place, &name, &value)
                    && !self.warned_xattrs.contains(&name)
                {
                    self.warned_xattrs.push(name.clone());
                    self.report.warnings.push(CopyWarning::XattrSkipped {
                        path: shown.clone(),
                        name,
                        errno: errno.raw_os_error(),
                    });
                }
            }
        }

        // Times, to the nanosecond; last, since everything above may touch them.
        let times = info.timestamps();
        let timed = match target {
            Target::Fd(fd, _) => rustix::fs::futimens(fd, &times),
            Target::At(dir, name, _) => {
                rustix::fs::utimensat(&dir.fd, name, &times, AtFlags::SYMLINK_NOFOLLOW)
            }
        };
        self.tolerate("times", &shown, timed)
            .map_err(meta_err("times"))
    }

    /// As non-root, an existing directory we do not own (the volume's root on OpenShift, say)
    /// refuses a new mode or times with EPERM: say so once per kind and go on. Anything else,
    /// or any failure as root, is an error.
    fn tolerate(
        &mut self,
        what: &'static str,
        path: &Path,
        done: Result<(), Errno>,
    ) -> Result<(), Errno> {
        match done {
            Err(Errno::PERM) if self.euid != 0 => {
                if !self
                    .report
                    .warnings
                    .iter()
                    .any(|w| matches!(w, CopyWarning::NotPreserved { what: w, .. } if *w == what))
                {
                    self.report.warnings.push(CopyWarning::NotPreserved {
                        what,
                        path: path.to_owned(),
                        errno: Errno::PERM.raw_os_error(),
                    });
                }
                Ok(())
            }
            other => other,
        }
    }
}

/// Where metadata goes: an open regular file or directory (with its path for messages), or a
/// name in an open directory (never followed; the flag says it is a symlink, which has no mode).
#[derive(Clone, Copy)]
pub(super) enum Target<'p> {
    Fd(BorrowedFd<'p>, &'p Path),
    At(&'p DirHandle, &'p OsStr, bool),
}

impl Target<'_> {
    fn shown(&self) -> PathBuf {
        match self {
            Target::Fd(_, path) => path.to_path_buf(),
            Target::At(dir, name, _) => dir.path.join(name),
        }
    }
}

pub(super) fn partial_name(info: &Info) -> OsString {
    OsString::from(format!("{PARTIAL_PREFIX}{}", info.ino))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(warnings: Vec<CopyWarning>, owners: u64, files: u64) -> CopyReport {
        CopyReport {
            files,
            bytes: files * 10,
            owners_not_preserved: owners,
            warnings,
            ..CopyReport::default()
        }
    }

    #[test]
    fn absorbed_reports_add_up_and_keep_one_warning_of_each_once_kind() {
        let options = CopyOptions::default();
        let mut builder = Builder::new(&options);
        let owner = |path: &str| CopyWarning::OwnerNotPreserved {
            path: PathBuf::from(path),
            errno: 1,
        };
        let xattr = |path: &str, name: &str| CopyWarning::XattrSkipped {
            path: PathBuf::from(path),
            name: OsString::from(name),
            errno: 95,
        };
        let times = |path: &str| CopyWarning::NotPreserved {
            what: "times",
            path: PathBuf::from(path),
            errno: 1,
        };
        let special = |path: &str| CopyWarning::SpecialSkipped {
            path: PathBuf::from(path),
            errno: 1,
        };
        builder.absorb(report(
            vec![
                owner("/a"),
                xattr("/a", "user.x"),
                times("/a"),
                special("/a"),
            ],
            3,
            2,
        ));
        builder.absorb(report(
            vec![
                owner("/b"),
                xattr("/b", "user.x"),
                xattr("/b", "user.y"),
                times("/b"),
                special("/b"),
            ],
            4,
            5,
        ));
        let r = builder.into_report();
        assert_eq!((r.files, r.bytes, r.owners_not_preserved), (7, 70, 7));
        assert_eq!(
            r.warnings,
            vec![
                owner("/a"),
                xattr("/a", "user.x"),
                times("/a"),
                special("/a"),
                xattr("/b", "user.y"),
                special("/b"),
            ]
        );
    }
}
