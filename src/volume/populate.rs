//! Populating a volume from the image's template (prepared by `bosun image prepare`, or made by
//! hand and then scanned when it is used): seeding (first run, adoption; resumable) and
//! the upgrade merge (missing entries added, files the user never changed updated, files both
//! sides changed kept with the image's version beside them as `FILE.bosun-new`), and re-owning
//! files whose user or group got another number in the new image (UID/GID drift).
//!
//! Owns the merge decisions ([`decide`], pure) and the state transitions Seeding → Seeded and
//! Upgrading → Upgraded. Must not run hooks or spawn processes; every root is a parameter.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::copy::{self, CopyError, CopyOptions, CopyReport, Progress};
use super::manifest::{self, Entry, Kind, Manifest, ManifestError, ScanOptions};
use super::state::{STATE_DIR, Stage, StateError, Volume, VolumeState};

/// The template's own manifest, at the template's root (never copied into the volume).
pub const TEMPLATE_MANIFEST: &str = ".bosun-manifest";
/// The manifest of the image outside the volume, for `bosun image diff` (kept in the template
/// directory, which the image scan skips).
pub const IMAGE_MANIFEST: &str = ".bosun-image-manifest";
/// Suffix of the image's version of a file that both the user and the image changed.
pub const NEW_SUFFIX: &str = ".bosun-new";

/// A failed population step.
#[derive(Debug, thiserror::Error)]
pub enum PopulateError {
    #[error("cannot copy the template into the volume")]
    Copy(#[from] CopyError),
    #[error("cannot use a manifest")]
    Manifest(#[from] ManifestError),
    #[error("cannot record the volume's state")]
    State(#[from] StateError),
    #[error(
        "the volume {path} is already seeded: seeding it again would overwrite nothing and prove nothing"
    )]
    AlreadySeeded { path: PathBuf },
    #[error("the volume {path} has no state: seed it before upgrading")]
    NotSeeded { path: PathBuf },
    #[error("cannot re-own {path}")]
    Chown {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The image a volume is populated from. Paths are as seen by bosun (tests point them at
/// temporary trees).
#[derive(Debug, Clone)]
pub struct Image {
    /// The template directory (`/data-template`).
    pub template: PathBuf,
    /// The image's root, where `etc/passwd` and `etc/group` are read (`/`).
    pub root: PathBuf,
    /// The image's build id (`/etc/build-id`).
    pub build_id: String,
    /// Owner (uid, gid) for everything seeded or added (`BOSUN_RUN_AS`); None keeps the
    /// template's owners.
    pub run_as: Option<(u32, u32)>,
    /// Asked during long copies: true stops them, resumably ([`CopyOptions::interrupted`]).
    pub interrupted: Option<fn() -> bool>,
}

impl Image {
    /// The template's manifest: the one `bosun image prepare` stored at its root, or, for a
    /// template made by hand (`COPY`, `RUN mkdir`), a scan of the template as it is now, taken
    /// before the copy. Seeding and the upgrade write it into the volume's record, so the next
    /// upgrade can tell the user's changes from the image's for either kind of template.
    pub fn manifest(&self) -> Result<Manifest, ManifestError> {
        match Manifest::read(&self.template.join(TEMPLATE_MANIFEST)) {
            Err(ManifestError::Read { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                let options = ScanOptions {
                    interrupted: self.interrupted,
                    ..template_scan_options()
                };
                Ok(manifest::scan(&self.template, &options)?.manifest)
            }
            read => read,
        }
    }

    /// The template has no manifest at its root: it was made by hand, and [`Image::manifest`]
    /// reads it whole.
    pub fn made_by_hand(&self) -> bool {
        fs::symlink_metadata(self.template.join(TEMPLATE_MANIFEST)).is_err()
    }

    /// The image's user and group name → id maps.
    pub fn ids(&self) -> (BTreeMap<String, u32>, BTreeMap<String, u32>) {
        let read =
            |name: &str| fs::read_to_string(self.root.join("etc").join(name)).unwrap_or_default();
        (parse_ids(&read("passwd")), parse_ids(&read("group")))
    }
}

/// Names at the template's root that are never copied into the volume.
const NOT_COPIED: [&str; 3] = [TEMPLATE_MANIFEST, IMAGE_MANIFEST, STATE_DIR];

/// How the template is scanned for its manifest: what seeding copies (the manifests kept at the
/// template's root and a stray `.bosun` left out), hashed.
pub fn template_scan_options() -> ScanOptions {
    ScanOptions {
        exclude: NOT_COPIED.iter().map(PathBuf::from).collect(),
        hash: true,
        one_file_system: false,
        interrupted: None,
    }
}

/// How often long copies report progress.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(5);

fn copy_options(manifest: &Manifest, only_missing: bool, image: &Image) -> CopyOptions {
    CopyOptions {
        owner: image.run_as,
        interrupted: image.interrupted,
        only_missing,
        durable: false,
        exclude_top: NOT_COPIED.iter().map(OsString::from).collect(),
        progress_every: PROGRESS_EVERY,
        totals: Some(manifest.totals()),
    }
}

/// Seed the volume from the template (first run, interrupted seeding, or adoption of a foreign
/// volume with `adopt`: only what is missing is copied and existing directories keep their
/// metadata). Resumable: a kill at any instant leaves `Seeding`, and calling this again
/// finishes. Ends in `Seeded`; the first-boot hooks come next.
pub fn seed(
    volume: &mut Volume,
    image: &Image,
    adopt: bool,
    progress: &mut dyn FnMut(&Progress),
) -> Result<CopyReport, PopulateError> {
    super::state::check_build_id(&image.build_id)?;
    let manifest = image.manifest()?;
    let mut state = match volume.state() {
        Some(state) if state.phase == Stage::Seeding => state.clone(),
        None => VolumeState::seeding(&image.build_id, adopt),
        Some(_) => {
            return Err(PopulateError::AlreadySeeded {
                path: volume.data().to_owned(),
            });
        }
    };
    state.target_build_id = Some(image.build_id.clone());
    volume.save(state.clone())?;

    let report = copy::copy_tree(
        &image.template,
        volume.data(),
        &copy_options(&manifest, state.adopted, image),
        progress,
    )?;
    manifest.write(&volume.manifest_path(&image.build_id))?;
    sync_volume(volume.data())?;

    let (users, groups) = image.ids();
    state.users = users;
    state.groups = groups;
    state.phase = Stage::Seeded;
    volume.save(state)?;
    Ok(report)
}

/// What an upgrade merge did, for the log and `initctl status`.
#[derive(Debug, Default)]
pub struct UpgradeReport {
    /// Entries that were missing and were copied from the new template.
    pub copied: CopyReport,
    /// Files the user never changed, replaced by the new image's version.
    pub updated: Vec<PathBuf>,
    /// Files both sides changed: the user's kept, the image's written as `PATH.bosun-new`.
    pub conflicts: Vec<PathBuf>,
    /// Entries whose type differs between the volume and the new template: left alone.
    pub type_changed: Vec<PathBuf>,
    /// Entries re-owned because their user's or group's number moved.
    pub reowned: u64,
    /// Numbers moved but bosun is not root and cannot re-own files: say so.
    pub reown_skipped: bool,
    /// The old manifest was missing: every difference was treated as a user change.
    pub no_base_manifest: bool,
}

/// Merge the new template into the volume (see the module doc). Resumable: a kill leaves
/// `Upgrading`, and calling this again finishes. Ends in `Upgraded`; the upgrade hooks come
/// next, and only [`Volume::hooks_succeeded`] records the new build id.
pub fn upgrade(
    volume: &mut Volume,
    image: &Image,
    progress: &mut dyn FnMut(&Progress),
) -> Result<UpgradeReport, PopulateError> {
    super::state::check_build_id(&image.build_id)?;
    let Some(mut state) = volume.state().cloned() else {
        return Err(PopulateError::NotSeeded {
            path: volume.data().to_owned(),
        });
    };
    let new = image.manifest()?;
    if state.phase != Stage::Upgrading || state.merge_base.is_none() {
        state.merge_base = state.data_build_id().map(str::to_owned);
    }
    state.phase = Stage::Upgrading;
    state.target_build_id = Some(image.build_id.clone());
    state.hook_failure = None;
    volume.save(state.clone())?;

    let mut report = UpgradeReport::default();
    let old = match state
        .merge_base
        .as_deref()
        .map(|id| volume.manifest_path(id))
    {
        Some(path) if path.exists() => Manifest::read(&path)?,
        _ => {
            report.no_base_manifest = true;
            Manifest::default()
        }
    };

    // UID/GID drift first, so what is copied and compared below has the new numbers.
    let (users, groups) = image.ids();
    let uid_map = id_remap(&state.users, &users);
    let gid_map = id_remap(&state.groups, &groups);
    if !uid_map.is_empty() || !gid_map.is_empty() {
        if nix::unistd::geteuid().is_root() {
            report.reowned = reown_tree(volume.data(), &uid_map, &gid_map)?;
        } else {
            report.reown_skipped = true;
        }
    }
    state.users = users;
    state.groups = groups;
    volume.save(state.clone())?;

    report.copied = copy::copy_tree(
        &image.template,
        volume.data(),
        &copy_options(&new, true, image),
        progress,
    )?;

    let leaf = CopyOptions {
        owner: image.run_as,
        ..CopyOptions::default()
    };
    for (rel, new_entry) in &new.entries {
        if !matches!(new_entry.kind, Kind::File | Kind::Symlink) || rel.as_os_str() == "." {
            continue;
        }
        let old_entry = old.entries.get(rel);
        // The image did not change it: whatever the volume holds is the user's business.
        if old_entry.is_some_and(|o| same_content(o, new_entry)) {
            continue;
        }
        let data_path = volume.data().join(rel);
        let observed = match fs::symlink_metadata(&data_path) {
            Ok(meta) => manifest::describe(&data_path, Kind::of(&meta) == Kind::File)?,
            Err(_) => continue,
        };
        let src = image.template.join(rel);
        match decide(old_entry, new_entry, &observed) {
            Decision::Unchanged | Decision::KeepUser => {}
            Decision::Update => {
                copy::replace_entry(&src, &data_path, &leaf)?;
                report.updated.push(rel.clone());
            }
            Decision::WriteNew => {
                let mut beside = data_path.into_os_string();
                beside.push(NEW_SUFFIX);
                copy::replace_entry(&src, Path::new(&beside), &leaf)?;
                report.conflicts.push(rel.clone());
            }
            Decision::TypeChanged => report.type_changed.push(rel.clone()),
        }
    }

    new.write(&volume.manifest_path(&image.build_id))?;
    sync_volume(volume.data())?;
    state.phase = Stage::Upgraded;
    volume.save(state)?;
    Ok(report)
}

/// What the upgrade does with one file or symlink of the new template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The volume already holds the new version.
    Unchanged,
    /// The image did not change it; the user did (or not): keep the volume's.
    KeepUser,
    /// The user never changed it: replace with the new version.
    Update,
    /// Both changed (or the image added a path the user already has): keep the user's, write the
    /// image's beside it as `FILE.bosun-new`.
    WriteNew,
    /// The volume has another type of entry there: leave it, report it.
    TypeChanged,
}

/// Same kind, content hash and symlink target (owner, mode and times are not content).
fn same_content(a: &Entry, b: &Entry) -> bool {
    a.kind == b.kind && a.hash == b.hash && a.target == b.target
}

/// Decide for one path: `old` is the entry in the manifest the volume was populated from,
/// `new` the new template's, `data` what the volume holds now (hashed if a regular file).
pub fn decide(old: Option<&Entry>, new: &Entry, data: &Entry) -> Decision {
    if same_content(data, new) {
        return Decision::Unchanged;
    }
    if data.kind != new.kind {
        return Decision::TypeChanged;
    }
    match old {
        Some(old) if same_content(old, new) => Decision::KeepUser,
        Some(old) if same_content(old, data) => Decision::Update,
        _ => Decision::WriteNew,
    }
}

/// Parse `/etc/passwd` or `/etc/group` into name → id.
pub fn parse_ids(text: &str) -> BTreeMap<String, u32> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let id = fields.nth(1)?.parse().ok()?;
            (!name.is_empty()).then(|| (name.to_owned(), id))
        })
        .collect()
}

/// Old id → new id for every name whose number moved between `old` and `new`.
pub fn id_remap(old: &BTreeMap<String, u32>, new: &BTreeMap<String, u32>) -> BTreeMap<u32, u32> {
    old.iter()
        .filter_map(|(name, old_id)| {
            new.get(name)
                .filter(|new_id| *new_id != old_id)
                .map(|new_id| (*old_id, *new_id))
        })
        .collect()
}

/// Re-own every entry of `data` (not `.bosun`) whose uid or gid is a key of the maps. Keeps
/// setuid/setgid bits and `security.capability`, which chown clears. Returns how many changed.
pub fn reown_tree(
    data: &Path,
    uids: &BTreeMap<u32, u32>,
    gids: &BTreeMap<u32, u32>,
) -> Result<u64, PopulateError> {
    let mut count = 0;
    let mut stack = vec![data.to_owned()];
    while let Some(path) = stack.pop() {
        let meta = fs::symlink_metadata(&path).map_err(|source| PopulateError::Read {
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            let entries = fs::read_dir(&path).map_err(|source| PopulateError::Read {
                path: path.clone(),
                source,
            })?;
            for entry in entries.flatten() {
                if path == data && entry.file_name() == STATE_DIR {
                    continue;
                }
                stack.push(entry.path());
            }
        }
        let uid = uids.get(&meta.uid()).copied();
        let gid = gids.get(&meta.gid()).copied();
        if uid.is_none() && gid.is_none() {
            continue;
        }
        let err = |errno: rustix::io::Errno| PopulateError::Chown {
            path: path.clone(),
            source: errno.into(),
        };
        let capability = if meta.is_file() {
            copy::read_xattrs(&path)?
                .into_iter()
                .find(|(name, _)| name == "security.capability")
        } else {
            None
        };
        rustix::fs::chownat(
            rustix::fs::CWD,
            &path,
            uid.map(rustix::fs::Uid::from_raw),
            gid.map(rustix::fs::Gid::from_raw),
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(err)?;
        if !meta.file_type().is_symlink() && meta.mode() & 0o7000 != 0 {
            rustix::fs::chmodat(
                rustix::fs::CWD,
                &path,
                rustix::fs::Mode::from_raw_mode(meta.mode() & 0o7777),
                rustix::fs::AtFlags::empty(),
            )
            .map_err(err)?;
        }
        if let Some((name, value)) = capability {
            rustix::fs::lsetxattr(&path, &name, &value, rustix::fs::XattrFlags::empty())
                .map_err(err)?;
        }
        count += 1;
    }
    Ok(count)
}

/// Flush the volume's filesystem, so a state written after this describes data on disk.
fn sync_volume(data: &Path) -> Result<(), PopulateError> {
    let dir = fs::File::open(data).map_err(|source| PopulateError::Read {
        path: data.to_owned(),
        source,
    })?;
    rustix::fs::syncfs(&dir).map_err(|errno| PopulateError::Read {
        path: data.to_owned(),
        source: errno.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(hash: u8) -> Entry {
        Entry {
            kind: Kind::File,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 1,
            mtime: (0, 0),
            hash: Some([hash; 32]),
            target: None,
        }
    }

    #[test]
    fn merge_decisions() {
        // The user never changed it, the image did: update.
        assert_eq!(decide(Some(&file(1)), &file(2), &file(1)), Decision::Update);
        // Both changed: keep the user's, write FILE.bosun-new.
        assert_eq!(
            decide(Some(&file(1)), &file(2), &file(3)),
            Decision::WriteNew
        );
        // Both changed the same way: nothing to do.
        assert_eq!(
            decide(Some(&file(1)), &file(2), &file(2)),
            Decision::Unchanged
        );
        // Only the user changed it.
        assert_eq!(
            decide(Some(&file(1)), &file(1), &file(3)),
            Decision::KeepUser
        );
        // A new path in the image that the user already created.
        assert_eq!(decide(None, &file(2), &file(3)), Decision::WriteNew);
        // A new path copied just now (missing before): already the new version.
        assert_eq!(decide(None, &file(2), &file(2)), Decision::Unchanged);
        // Owner, mode and mtime are not content.
        let mut touched = file(1);
        touched.mode = 0o600;
        touched.mtime = (5, 5);
        assert_eq!(decide(Some(&file(1)), &file(2), &touched), Decision::Update);
        let dir = Entry {
            kind: Kind::Dir,
            hash: None,
            ..file(0)
        };
        assert_eq!(
            decide(Some(&file(1)), &file(2), &dir),
            Decision::TypeChanged
        );
        let link = |t: &str| Entry {
            kind: Kind::Symlink,
            hash: None,
            target: Some(t.into()),
            ..file(0)
        };
        assert_eq!(
            decide(Some(&link("a")), &link("b"), &link("a")),
            Decision::Update
        );
    }

    #[test]
    fn uid_drift() {
        let old = parse_ids(
            "root:x:0:0::/root:/bin/sh\npostgres:x:70:70::/var/lib/pg:/bin/sh\nipa:x:900:900::/:/sbin/nologin\n# c\nbad\n",
        );
        let new = parse_ids(
            "root:x:0:0::/root:/bin/sh\npostgres:x:71:71::/var/lib/pg:/bin/sh\nipa:x:900:900::/:/bin/false\nnewuser:x:1000:1000::/:/bin/sh\n",
        );
        assert_eq!(old.len(), 3);
        assert_eq!(id_remap(&old, &new), BTreeMap::from([(70, 71)]));
        let groups_old = parse_ids("wheel:x:10:a,b\nstaff:x:50:\n");
        let groups_new = parse_ids("wheel:x:11:a,b\nstaff:x:10:\n");
        // A swap is a single pass from the old numbers: 10→11 and 50→10.
        assert_eq!(
            id_remap(&groups_old, &groups_new),
            BTreeMap::from([(10, 11), (50, 10)])
        );
    }
}
