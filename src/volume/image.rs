//! Build-time work on an image: `prepare` (move listed paths into the template, leave symlinks
//! into the data volume, write the build id and the manifests), `check` (every symlink into
//! the volume is covered by the template; the template matches its manifest) and `diff` (what
//! changed outside the volume since `prepare`).
//!
//! Every path is an image path (`/etc/foo`) resolved under [`Layout::root`], so tests run on a
//! scratch root. Must not follow a symlink inside the image, or touch the image outside the
//! listed paths, the template, `/data` (created empty) and `/etc/build-id`.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use super::copy::{self, CopyError, CopyOptions, CopyReport, Progress};
use super::manifest::{self, Change, Manifest, ManifestError, ScanOptions};
use super::populate::{IMAGE_MANIFEST, TEMPLATE_MANIFEST, template_scan_options};

/// Image paths never scanned for the image manifest (besides the data and template dirs).
const VIRTUAL: [&str; 5] = ["proc", "sys", "dev", "run", "tmp"];
/// Files a container runtime writes or bind-mounts into every container.
const RUNTIME_FILES: [&str; 4] = ["etc/hosts", "etc/hostname", "etc/resolv.conf", ".dockerenv"];

/// A failed image operation.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("cannot read the list {path}")]
    ReadList {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}:{line}: {message}")]
    BadListEntry {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error(
        "{path} does not exist in the image: create it (mkdir -p or an empty file) before preparing it"
    )]
    Missing { path: PathBuf },
    #[error("{path} goes through the symlink {link}: list the path the link points to instead")]
    ThroughSymlink { path: PathBuf, link: PathBuf },
    #[error("cannot move {path} into the template")]
    Copy {
        path: PathBuf,
        #[source]
        source: CopyError,
    },
    #[error("cannot {what} {path}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot use a manifest")]
    Manifest(#[from] ManifestError),
    #[error(
        "{path} overlaps {other}: the data volume and the template cannot be moved into themselves"
    )]
    Overlaps { path: PathBuf, other: PathBuf },
    #[error("build id {id:?} is not usable: use letters, digits, '.', '_' and '-' (at most 128)")]
    BadBuildId { id: String },
    #[error(
        "{path} does not exist: `bosun image diff` compares the image with what `bosun image \
         prepare` recorded, and this image's template was made without it"
    )]
    NotPrepared { path: PathBuf },
}

/// Where things are: image paths (absolute, as the container sees them) under a root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The image's root as bosun sees it (`/` in a Dockerfile, a scratch dir in tests).
    pub root: PathBuf,
    /// The template directory, as an image path (`/data-template`).
    pub template: PathBuf,
    /// The data volume's mount point, as an image path (`/data`).
    pub data: PathBuf,
}

impl Layout {
    /// The host path of image path `path`.
    pub fn host(&self, path: &Path) -> PathBuf {
        self.root.join(path.strip_prefix("/").unwrap_or(path))
    }

    /// The host path of the template's copy of image path `path`.
    fn in_template(&self, path: &Path) -> PathBuf {
        self.host(&self.template.join(path.strip_prefix("/").unwrap_or(path)))
    }

    fn rel(path: &Path) -> PathBuf {
        path.strip_prefix("/").unwrap_or(path).to_owned()
    }

    /// Paths (relative to the root) the image manifest leaves out.
    fn excluded(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = VIRTUAL.iter().map(PathBuf::from).collect();
        out.push(Self::rel(&self.data));
        out.push(Self::rel(&self.template));
        out
    }
}

/// Read LIST files: one absolute path per line; `#` comments and blank lines ignored. Paths are
/// normalised (no `.`/`..`, no trailing slash); duplicates removed, order kept.
pub fn read_lists(lists: &[PathBuf]) -> Result<Vec<PathBuf>, ImageError> {
    let mut out: Vec<PathBuf> = Vec::new();
    for list in lists {
        let mut bytes = Vec::new();
        fs::File::open(list)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|source| ImageError::ReadList {
                path: list.clone(),
                source,
            })?;
        for (index, raw) in bytes.split(|b| *b == b'\n').enumerate() {
            let line = raw.trim_ascii();
            if line.is_empty() || line.starts_with(b"#") {
                continue;
            }
            let bad = |message: &str| ImageError::BadListEntry {
                path: list.clone(),
                line: index + 1,
                message: message.to_owned(),
            };
            let path = Path::new(std::ffi::OsStr::from_bytes(line));
            if !path.is_absolute() {
                return Err(bad("not an absolute path"));
            }
            if path
                .components()
                .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
            {
                return Err(bad("`.` and `..` are not allowed"));
            }
            let clean: PathBuf = path.components().collect();
            if clean == Path::new("/") {
                return Err(bad("the root itself cannot be moved to the volume"));
            }
            if !out.contains(&clean) {
                out.push(clean);
            }
        }
    }
    Ok(out)
}

/// What `prepare` did.
#[derive(Debug, Default)]
pub struct PrepareReport {
    /// Paths moved into the template in this run.
    pub moved: Vec<PathBuf>,
    /// Paths already prepared by an earlier run (or covered by a prepared parent).
    pub already: Vec<PathBuf>,
    pub build_id: String,
    /// What the copies could not preserve.
    pub copy: CopyReport,
}

/// `bosun image prepare`: see the module doc. Idempotent; safe to rerun after a kill.
pub fn prepare(
    layout: &Layout,
    paths: &[PathBuf],
    build_id: Option<&str>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<PrepareReport, ImageError> {
    let io_err = |what: &'static str, path: &Path| {
        let path = path.to_owned();
        move |source| ImageError::Io { what, path, source }
    };
    let mut report = PrepareReport::default();
    if let Some(id) = build_id
        && super::state::check_build_id(id).is_err()
    {
        return Err(ImageError::BadBuildId { id: id.to_owned() });
    }
    for dir in [&layout.template, &layout.data] {
        let host = layout.host(dir);
        if !host.exists() {
            fs::create_dir_all(&host).map_err(io_err("create", &host))?;
        }
    }
    // Refuse a bad list before moving anything.
    for path in paths {
        for inside in [&layout.data, &layout.template] {
            if path.starts_with(inside) || inside.starts_with(path) {
                return Err(ImageError::Overlaps {
                    path: path.clone(),
                    other: inside.clone(),
                });
            }
        }
    }
    for path in paths {
        if prepare_one(layout, path, &mut report, progress)? {
            report.moved.push(path.clone());
        } else {
            report.already.push(path.clone());
        }
    }

    let id = match build_id {
        Some(id) => id.to_owned(),
        None => fresh_build_id().map_err(io_err("read", Path::new("/dev/urandom")))?,
    };
    let id_file = layout.host(Path::new("/etc/build-id"));
    if let Some(etc) = id_file.parent() {
        fs::create_dir_all(etc).map_err(io_err("create", etc))?;
    }
    manifest::write_atomic(&id_file, format!("{id}\n").as_bytes())
        .map_err(io_err("write", &id_file))?;
    report.build_id = id;

    write_template_manifest(layout)?;
    let image = manifest::scan(
        &layout.root,
        &ScanOptions {
            exclude: layout.excluded(),
            hash: true,
            one_file_system: false,
            interrupted: None,
        },
    )?;
    image
        .manifest
        .write(&layout.in_template(Path::new(IMAGE_MANIFEST)))?;
    Ok(report)
}

/// Scan the template and store its manifest at its root.
pub fn write_template_manifest(layout: &Layout) -> Result<Manifest, ImageError> {
    let template = layout.host(&layout.template);
    let scan = manifest::scan(&template, &template_scan_options())?;
    scan.manifest.write(&template.join(TEMPLATE_MANIFEST))?;
    Ok(scan.manifest)
}

/// Move one path; false when it was already prepared.
fn prepare_one(
    layout: &Layout,
    path: &Path,
    report: &mut PrepareReport,
    progress: &mut dyn FnMut(&Progress),
) -> Result<bool, ImageError> {
    let link_target = layout.data.join(Layout::rel(path));
    let host = layout.host(path);
    let in_template = layout.in_template(path);
    let copy_err = |source| ImageError::Copy {
        path: path.to_owned(),
        source,
    };

    // Ancestors: real directories, or an ancestor already prepared (then this path moved with it).
    let ancestors: Vec<&Path> = path
        .ancestors()
        .skip(1)
        .filter(|a| *a != Path::new("/"))
        .collect();
    let mut ancestor_meta = Vec::new();
    for ancestor in ancestors.iter().rev() {
        let host_ancestor = layout.host(ancestor);
        let meta = fs::symlink_metadata(&host_ancestor).map_err(|_| ImageError::Missing {
            path: path.to_owned(),
        })?;
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&host_ancestor).unwrap_or_default();
            if target == layout.data.join(Layout::rel(ancestor)) {
                return Ok(false);
            }
            return Err(ImageError::ThroughSymlink {
                path: path.to_owned(),
                link: ancestor.to_path_buf(),
            });
        }
        ancestor_meta.push((ancestor.to_path_buf(), meta));
    }

    let existing = fs::symlink_metadata(&host).ok();
    if let Some(meta) = &existing
        && meta.file_type().is_symlink()
        && fs::read_link(&host).ok().as_deref() == Some(link_target.as_path())
    {
        return Ok(false);
    }
    let Some(meta) = existing else {
        // A kill between removing the original and creating the symlink: finish.
        if fs::symlink_metadata(&in_template).is_ok() {
            let owner = fs::symlink_metadata(&in_template).map_err(|source| ImageError::Io {
                what: "read",
                path: in_template.clone(),
                source,
            })?;
            make_symlink(&host, &link_target, &owner)?;
            return Ok(true);
        }
        return Err(ImageError::Missing {
            path: path.to_owned(),
        });
    };

    // Parents in the template, with the image's owner, mode, xattrs (times set at the end,
    // since moving the path in changes them).
    for (ancestor, _) in &ancestor_meta {
        let shell = copy::copy_dir_shell(&layout.host(ancestor), &layout.in_template(ancestor))
            .map_err(copy_err)?;
        report.copy.warnings.extend(shell.warnings);
    }

    // Same filesystem and nothing there yet: a rename keeps everything. Otherwise (overlayfs
    // gives EXDEV for lower-layer directories) copy, then remove the original.
    let renamed =
        fs::symlink_metadata(&in_template).is_err() && fs::rename(&host, &in_template).is_ok();
    if !renamed {
        let copied = copy::copy_tree(
            &host,
            &in_template,
            &CopyOptions {
                progress_every: super::populate::PROGRESS_EVERY,
                ..CopyOptions::default()
            },
            progress,
        )
        .map_err(copy_err)?;
        report.copy.add_counts(&copied);
        report.copy.warnings.extend(copied.warnings);
        let removed = if meta.is_dir() {
            fs::remove_dir_all(&host)
        } else {
            fs::remove_file(&host)
        };
        removed.map_err(|source| ImageError::Io {
            what: "remove",
            path: host.clone(),
            source,
        })?;
    }
    make_symlink(&host, &link_target, &meta)?;
    for (ancestor, meta) in ancestor_meta.iter().rev() {
        copy::set_times(&layout.in_template(ancestor), meta).map_err(copy_err)?;
    }
    Ok(true)
}

/// Atomically put a symlink at `at` pointing to `target`, owned like `owner`.
fn make_symlink(at: &Path, target: &Path, owner: &fs::Metadata) -> Result<(), ImageError> {
    let mut tmp_name = OsString::from(copy::PARTIAL_PREFIX);
    tmp_name.push("link");
    let tmp = at.with_file_name(tmp_name);
    let err = |what, path: &Path| {
        let path = path.to_owned();
        move |source| ImageError::Io { what, path, source }
    };
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp).map_err(err("create", &tmp))?;
    // Best effort: a non-root build keeps its own ownership.
    let _ = rustix::fs::chownat(
        rustix::fs::CWD,
        &tmp,
        Some(rustix::fs::Uid::from_raw(owner.uid())),
        Some(rustix::fs::Gid::from_raw(owner.gid())),
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    );
    fs::rename(&tmp, at).map_err(err("create", at))
}

/// A new build id: seconds since the epoch and 64 random bits.
fn fresh_build_id() -> io::Result<String> {
    let mut random = [0_u8; 8];
    fs::File::open("/dev/urandom")?.read_exact(&mut random)?;
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{}-{hex}", super::state::now()))
}

/// What `check` found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Symlinks into the data volume (image path, target) that the template does not cover.
    pub uncovered: Vec<(PathBuf, PathBuf)>,
    /// How the template differs from its manifest.
    pub template_changes: Vec<(Change, PathBuf)>,
    /// The template has no manifest: it was made by hand, which is fine (seeding records what
    /// it copies), but there is nothing to check it against.
    pub no_manifest: bool,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.uncovered.is_empty() && self.template_changes.is_empty()
    }
}

/// `bosun image check`: see the module doc.
pub fn check(layout: &Layout) -> Result<CheckReport, ImageError> {
    let mut report = CheckReport::default();
    let image = manifest::scan(
        &layout.root,
        &ScanOptions {
            exclude: layout.excluded(),
            hash: false,
            one_file_system: false,
            interrupted: None,
        },
    )?;
    for (rel, entry) in &image.manifest.entries {
        let Some(target) = &entry.target else {
            continue;
        };
        if entry.kind != manifest::Kind::Symlink {
            continue;
        }
        let image_path = Path::new("/").join(rel);
        let resolved = lexical_resolve(
            image_path.parent().unwrap_or(Path::new("/")),
            Path::new(target),
        );
        let Ok(inside) = resolved.strip_prefix(&layout.data) else {
            continue;
        };
        if fs::symlink_metadata(layout.in_template(&Path::new("/").join(inside))).is_err() {
            report.uncovered.push((image_path, PathBuf::from(target)));
        }
    }
    let template = layout.host(&layout.template);
    let manifest_path = template.join(TEMPLATE_MANIFEST);
    if !manifest_path.exists() {
        report.no_manifest = true;
        return Ok(report);
    }
    let recorded = Manifest::read(&manifest_path)?;
    let now = manifest::scan(&template, &template_scan_options())?;
    let current = &now.manifest;
    report.template_changes = manifest::compare(&recorded, current, &mut |rel, old| {
        current.entries.get(rel).is_some_and(|e| e.hash == old.hash)
    });
    Ok(report)
}

/// Resolve `target` against `dir` without touching the disk (`..` pops a component).
fn lexical_resolve(dir: &Path, target: &Path) -> PathBuf {
    let mut out = if target.is_absolute() {
        PathBuf::from("/")
    } else {
        dir.to_owned()
    };
    for part in target.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(name) => out.push(name),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// `bosun image diff`: what was added, modified or deleted outside the volume (and /run, /tmp,
/// /proc, /sys, /dev) since `prepare` recorded the image manifest. Paths are image paths.
pub fn diff(layout: &Layout) -> Result<Vec<(Change, PathBuf)>, ImageError> {
    let recorded = layout.in_template(Path::new(IMAGE_MANIFEST));
    if fs::symlink_metadata(&recorded).is_err() {
        return Err(ImageError::NotPrepared { path: recorded });
    }
    let mut old = Manifest::read(&recorded)?;
    let now = manifest::scan(
        &layout.root,
        &ScanOptions {
            exclude: layout.excluded(),
            hash: false,
            one_file_system: true,
            interrupted: None,
        },
    )?;
    let mut new = now.manifest;
    let ignored: Vec<PathBuf> = now
        .skipped
        .into_iter()
        .chain(RUNTIME_FILES.iter().map(PathBuf::from))
        .collect();
    for map in [&mut old.entries, &mut new.entries] {
        map.retain(|rel, _| !ignored.iter().any(|i| rel.starts_with(i)));
    }
    let root = layout.root.clone();
    let changes = manifest::compare(&old, &new, &mut |rel, old_entry| {
        manifest::hash_file(&root.join(rel)).ok() == old_entry.hash
    });
    Ok(changes
        .into_iter()
        .map(|(change, rel)| {
            (
                change,
                if rel.as_os_str() == "." {
                    PathBuf::from("/")
                } else {
                    Path::new("/").join(rel)
                },
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_parsed_strictly() {
        let dir = std::env::temp_dir().join(format!("bosun-lists-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let list = dir.join("list");
        fs::write(
            &list,
            "# state\n\n/etc/ipa/\n  /var/lib/ipa  \n/etc/ipa\n/var/log/with space\n",
        )
        .unwrap();
        let paths = read_lists(std::slice::from_ref(&list)).unwrap();
        assert_eq!(
            paths,
            [
                PathBuf::from("/etc/ipa"),
                PathBuf::from("/var/lib/ipa"),
                PathBuf::from("/var/log/with space")
            ]
        );
        fs::write(&list, "/ok\nrelative\n").unwrap();
        let err = read_lists(std::slice::from_ref(&list)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{}:2: not an absolute path", list.display())
        );
        fs::write(&list, "/a/../b\n").unwrap();
        assert!(read_lists(std::slice::from_ref(&list)).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn lexical() {
        assert_eq!(
            lexical_resolve(Path::new("/etc"), Path::new("../data/etc/x")),
            PathBuf::from("/data/etc/x")
        );
        assert_eq!(
            lexical_resolve(Path::new("/etc"), Path::new("/data/y")),
            PathBuf::from("/data/y")
        );
    }
}
