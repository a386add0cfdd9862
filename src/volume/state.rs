//! The volume's own record, `DATA/.bosun/`: the exclusive lock (`lock`), the state file
//! (`state.json`, written atomically: temporary file, fsync, rename, fsync of the directory)
//! and the manifests of the templates the data was populated from (`manifest.BUILD_ID`).
//!
//! Owns [`Volume`] (an open, locked volume), [`VolumeState`] and its [`Stage`]s. Must not
//! decide what to do with a volume (that is [`super::classify`]) or copy data.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The directory inside the volume that holds bosun's record.
pub const STATE_DIR: &str = ".bosun";
const STATE_FILE: &str = "state.json";
const LOCK_FILE: &str = "lock";
const FORMAT: u32 = 1;

/// A failed operation on the volume's record.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot open the volume record in {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the volume {path} is in use by another bosun (lock held on {path}/.bosun/lock)")]
    Locked { path: PathBuf },
    #[error("cannot read the volume state {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the volume state {path} is damaged: {message}; move it away to start over")]
    Damaged { path: PathBuf, message: String },
    #[error(
        "the volume state {path} has format {found}, newer than this bosun understands ({FORMAT})"
    )]
    TooNew { path: PathBuf, found: u32 },
    #[error("cannot write the volume state {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("build id {id:?} is not usable: use letters, digits, '.', '_' and '-' (at most 128)")]
    BadBuildId { id: String },
}

/// Where the volume is in its life cycle. Every transition is one atomic state write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Copying the template into the volume (first run or adoption); rerun to finish.
    Seeding,
    /// The data is complete; the first-boot hooks have not started.
    Seeded,
    /// The first-boot hooks started and have not succeeded (running, killed, or failed).
    FirstBootHooks,
    /// Merging a new template into the volume; rerun to finish.
    Upgrading,
    /// The merge is complete; the upgrade hooks have not started.
    Upgraded,
    /// The upgrade hooks started and have not succeeded.
    UpgradeHooks,
    /// Everything for `build_id` is done.
    Ready,
}

/// A build id the volume was at, and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub build_id: String,
    /// Seconds since the epoch.
    pub since: u64,
    pub bosun_version: String,
}

/// A hook that failed, for the message at the next boot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookFailure {
    pub hook: String,
    pub code: i32,
    pub at: u64,
    pub log: Option<PathBuf>,
}

/// The content of `DATA/.bosun/state.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeState {
    pub format: u32,
    pub phase: Stage,
    /// The last build whose life cycle completed (hooks succeeded); None before the first.
    pub build_id: Option<String>,
    /// The build being seeded or upgraded to, while `phase` is not `Ready`.
    pub target_build_id: Option<String>,
    /// Seeded by adopting a foreign volume (only what was missing was copied).
    pub adopted: bool,
    /// Every build id the volume completed, oldest first.
    pub history: Vec<HistoryEntry>,
    /// The bosun that wrote this file.
    pub bosun_version: String,
    /// User name → uid of the image the data was last populated from.
    pub users: BTreeMap<String, u32>,
    /// Group name → gid of the image the data was last populated from.
    pub groups: BTreeMap<String, u32>,
    pub hook_failure: Option<HookFailure>,
    /// Seconds since the epoch.
    pub updated_at: u64,
    /// While `Upgrading`: the build whose manifest tells what the user changed (the build the
    /// data reflected when the merge began).
    #[serde(default)]
    pub merge_base: Option<String>,
    /// Files the upgrades kept beside a new version (`FILE.bosun-new`, relative to the volume),
    /// listed until the user has merged and removed them.
    #[serde(default)]
    pub kept_beside: Vec<PathBuf>,
}

impl VolumeState {
    /// A state for a volume about to be seeded for `target`.
    pub fn seeding(target: &str, adopted: bool) -> Self {
        Self {
            format: FORMAT,
            phase: Stage::Seeding,
            build_id: None,
            target_build_id: Some(target.to_owned()),
            adopted,
            history: Vec::new(),
            bosun_version: env!("CARGO_PKG_VERSION").to_owned(),
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
            hook_failure: None,
            updated_at: now(),
            merge_base: None,
            kept_beside: Vec::new(),
        }
    }

    /// The build whose template the data now reflects (its manifest is kept in the volume).
    pub fn data_build_id(&self) -> Option<&str> {
        match self.phase {
            Stage::Seeded | Stage::FirstBootHooks | Stage::Upgraded | Stage::UpgradeHooks => {
                self.target_build_id.as_deref()
            }
            Stage::Seeding | Stage::Upgrading | Stage::Ready => self.build_id.as_deref(),
        }
    }

    /// Finish the current phase's hooks: `target_build_id` becomes `build_id`, recorded in the
    /// history.
    pub fn complete(&mut self) {
        if let Some(target) = self.target_build_id.take() {
            if self.history.last().map(|h| &h.build_id) != Some(&target) {
                self.history.push(HistoryEntry {
                    build_id: target.clone(),
                    since: now(),
                    bosun_version: env!("CARGO_PKG_VERSION").to_owned(),
                });
            }
            self.build_id = Some(target);
        }
        self.phase = Stage::Ready;
        self.hook_failure = None;
    }
}

/// Seconds since the epoch (0 if the clock is before it).
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Refuse build ids that cannot be part of a file name.
pub fn check_build_id(id: &str) -> Result<(), StateError> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(StateError::BadBuildId { id: id.to_owned() })
    }
}

/// An open data volume, exclusively locked (flock on `DATA/.bosun/lock`) for as long as this
/// value lives, so two containers on one volume cannot both populate it.
#[derive(Debug)]
pub struct Volume {
    data: PathBuf,
    _lock: File,
    state: Option<VolumeState>,
}

impl Volume {
    /// Open and lock the volume at `data` (creating `DATA/.bosun/`), and read its state if any.
    /// With `wait`, block until another holder lets go; otherwise fail with
    /// [`StateError::Locked`].
    pub fn open(data: &Path, wait: bool) -> Result<Self, StateError> {
        let dir = data.join(STATE_DIR);
        let open_err = |source| StateError::Open {
            path: dir.clone(),
            source,
        };
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(open_err)?;
        let lock = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(LOCK_FILE))
            .map_err(open_err)?;
        let op = if wait {
            rustix::fs::FlockOperation::LockExclusive
        } else {
            rustix::fs::FlockOperation::NonBlockingLockExclusive
        };
        match rustix::fs::flock(&lock, op) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => {
                return Err(StateError::Locked {
                    path: data.to_owned(),
                });
            }
            Err(errno) => return Err(open_err(errno.into())),
        }
        let state = read_state(&dir.join(STATE_FILE))?;
        Ok(Self {
            data: data.to_owned(),
            _lock: lock,
            state,
        })
    }

    /// The volume's root.
    pub fn data(&self) -> &Path {
        &self.data
    }

    /// `DATA/.bosun`.
    pub fn record_dir(&self) -> PathBuf {
        self.data.join(STATE_DIR)
    }

    /// The state, None for a volume never seeded by bosun.
    pub fn state(&self) -> Option<&VolumeState> {
        self.state.as_ref()
    }

    /// Where the manifest of build `id`'s template is kept in the volume.
    pub fn manifest_path(&self, id: &str) -> PathBuf {
        self.record_dir().join(format!("manifest.{id}"))
    }

    /// Replace the state, durably (temporary file, fsync, rename, fsync of the directory).
    pub fn save(&mut self, mut state: VolumeState) -> Result<(), StateError> {
        state.updated_at = now();
        state.bosun_version = env!("CARGO_PKG_VERSION").to_owned();
        let path = self.record_dir().join(STATE_FILE);
        let mut text = serde_json::to_string_pretty(&state).map_err(|e| StateError::Write {
            path: path.clone(),
            source: io::Error::other(e),
        })?;
        text.push('\n');
        super::manifest::write_atomic(&path, text.as_bytes())
            .map_err(|source| StateError::Write { path, source })?;
        self.state = Some(state);
        Ok(())
    }

    /// Record that the current phase's hooks are starting (`FirstBootHooks` / `UpgradeHooks`).
    pub fn hooks_started(&mut self) -> Result<(), StateError> {
        let Some(mut state) = self.state.clone() else {
            return Ok(());
        };
        state.phase = match state.phase {
            Stage::Seeded | Stage::FirstBootHooks => Stage::FirstBootHooks,
            Stage::Upgraded | Stage::UpgradeHooks => Stage::UpgradeHooks,
            other => other,
        };
        self.save(state)
    }

    /// Record a failed hook; the next boot classifies the volume as failed.
    pub fn hooks_failed(&mut self, failure: HookFailure) -> Result<(), StateError> {
        let Some(mut state) = self.state.clone() else {
            return Ok(());
        };
        state.hook_failure = Some(failure);
        self.save(state)
    }

    /// Record that the hooks succeeded: the target build id becomes the volume's build id.
    pub fn hooks_succeeded(&mut self) -> Result<(), StateError> {
        let Some(mut state) = self.state.clone() else {
            return Ok(());
        };
        let previous = state.build_id.clone();
        state.complete();
        self.save(state)?;
        // The manifest of the build before the previous one is no longer needed.
        if let Some(state) = &self.state {
            let keep: Vec<PathBuf> = [state.build_id.as_deref(), previous.as_deref()]
                .into_iter()
                .flatten()
                .map(|id| self.manifest_path(id))
                .collect();
            if let Ok(entries) = fs::read_dir(self.record_dir()) {
                for entry in entries.flatten() {
                    let name = entry.file_name();
                    if name.to_string_lossy().starts_with("manifest.")
                        && !keep.contains(&entry.path())
                    {
                        let _ = fs::remove_file(entry.path());
                    }
                }
            }
        }
        Ok(())
    }
}

fn read_state(path: &Path) -> Result<Option<VolumeState>, StateError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StateError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    #[derive(Deserialize)]
    struct Probe {
        format: u32,
    }
    let probe: Probe = serde_json::from_str(&text).map_err(|e| StateError::Damaged {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    if probe.format > FORMAT {
        return Err(StateError::TooNew {
            path: path.to_owned(),
            found: probe.format,
        });
    }
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| StateError::Damaged {
            path: path.to_owned(),
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trip_and_lock() {
        let dir = std::env::temp_dir().join(format!("bosun-state-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let mut volume = Volume::open(&dir, false).unwrap();
        assert!(volume.state().is_none());
        // A second opener (another container) is refused while the first holds the lock.
        assert!(matches!(
            Volume::open(&dir, false),
            Err(StateError::Locked { .. })
        ));

        let mut state = VolumeState::seeding("b1", false);
        state.users.insert("postgres".into(), 70);
        state.groups.insert("postgres".into(), 70);
        volume.save(state.clone()).unwrap();
        drop(volume);

        let mut volume = Volume::open(&dir, false).unwrap();
        let mut read = volume.state().unwrap().clone();
        read.updated_at = state.updated_at;
        assert_eq!(read, state);
        assert_eq!(read.data_build_id(), None);

        read.phase = Stage::Seeded;
        volume.save(read).unwrap();
        assert_eq!(volume.state().unwrap().data_build_id(), Some("b1"));
        volume.hooks_started().unwrap();
        assert_eq!(volume.state().unwrap().phase, Stage::FirstBootHooks);
        volume.hooks_succeeded().unwrap();
        let done = volume.state().unwrap();
        assert_eq!(done.phase, Stage::Ready);
        assert_eq!(done.build_id.as_deref(), Some("b1"));
        assert_eq!(done.history.len(), 1);
        drop(volume);

        fs::write(dir.join(".bosun/state.json"), "{\"format\": 99}").unwrap();
        assert!(matches!(
            Volume::open(&dir, false),
            Err(StateError::TooNew { found: 99, .. })
        ));
        fs::write(dir.join(".bosun/state.json"), "{").unwrap();
        let err = Volume::open(&dir, false).unwrap_err();
        assert!(err.to_string().contains("is damaged"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn build_ids() {
        assert!(check_build_id("20240101-abc_1.2").is_ok());
        for bad in ["", ".hidden", "a/b", "a b", &"x".repeat(129)] {
            assert!(check_build_id(bad).is_err(), "{bad:?}");
        }
    }
}
