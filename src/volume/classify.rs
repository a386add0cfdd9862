//! Classification of a data volume at boot, from what it contains, its state file and the
//! image's build id. Pure: [`classify`] takes facts and returns a [`Class`]; [`is_empty`] is the
//! one function here that reads the disk. Must not change the volume.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::state::{HookFailure, STATE_DIR, Stage, VolumeState};

/// A volume that cannot be inspected.
#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    #[error("cannot list the data volume {path}")]
    List {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// What to do with a volume, decided at boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    /// Empty but for `lost+found`: seed it from the template, then run the first-boot hooks.
    FirstRun,
    /// Seeding started and did not finish: seed again (it resumes), then the first-boot hooks.
    InterruptedSeeding { adopted: bool },
    /// Seeded (perhaps by `bosun image seed` in an init container); first-boot hooks not run.
    FirstBootPending,
    /// The first-boot hooks started and never succeeded (killed, or failed as recorded).
    /// Refuse to start services until told to retry.
    FailedFirstBoot { failure: Option<HookFailure> },
    /// Same image as last time.
    Routine,
    /// A new image: merge its template, then run the upgrade hooks. `resumed` when a previous
    /// merge towards this image was interrupted.
    Upgrade {
        from: Option<String>,
        to: String,
        resumed: bool,
    },
    /// The merge for this image is complete; the upgrade hooks have not started.
    UpgradeHooksPending { from: Option<String> },
    /// The upgrade hooks started and never succeeded.
    FailedUpgrade {
        from: Option<String>,
        failure: Option<HookFailure>,
    },
    /// The image's build id is an older one from the volume's history: refuse unless allowed.
    Downgrade { from: Option<String>, to: String },
    /// Not empty and never seeded by bosun: refuse, or adopt (copy only what is missing).
    Foreign,
}

/// Decide what `state` (None: no state file) and the volume's emptiness mean for an image with
/// build id `image`.
pub fn classify(state: Option<&VolumeState>, empty: bool, image: &str) -> Class {
    let Some(state) = state else {
        return if empty {
            Class::FirstRun
        } else {
            Class::Foreign
        };
    };
    let current = state.build_id.clone();
    let target = state.target_build_id.as_deref();
    let known_older = |id: &str| {
        state.build_id.as_deref() != Some(id) && state.history.iter().any(|h| h.build_id == id)
    };
    let towards_other = |resumed: bool| {
        if known_older(image)
            || (current.as_deref() == Some(image) && target.is_some_and(|t| t != image))
        {
            Class::Downgrade {
                from: target.map(str::to_owned).or(current.clone()),
                to: image.to_owned(),
            }
        } else {
            Class::Upgrade {
                from: current.clone(),
                to: image.to_owned(),
                resumed,
            }
        }
    };
    match state.phase {
        Stage::Seeding => Class::InterruptedSeeding {
            adopted: state.adopted,
        },
        Stage::Seeded => Class::FirstBootPending,
        Stage::FirstBootHooks => Class::FailedFirstBoot {
            failure: state.hook_failure.clone(),
        },
        Stage::Ready if current.as_deref() == Some(image) => Class::Routine,
        Stage::Ready => towards_other(false),
        Stage::Upgrading => towards_other(target == Some(image)),
        Stage::Upgraded if target == Some(image) => Class::UpgradeHooksPending { from: current },
        Stage::UpgradeHooks if target == Some(image) => Class::FailedUpgrade {
            from: current,
            failure: state.hook_failure.clone(),
        },
        Stage::Upgraded | Stage::UpgradeHooks => towards_other(false),
    }
}

/// Whether the volume at `data` holds nothing but `lost+found` and bosun's own record without a
/// state file (a lock left by an earlier boot that stopped before seeding began).
pub fn is_empty(data: &Path) -> Result<bool, ClassifyError> {
    let err = |source| ClassifyError::List {
        path: data.to_owned(),
        source,
    };
    let entries = fs::read_dir(data).map_err(err)?;
    for entry in entries {
        let entry = entry.map_err(err)?;
        let name = entry.file_name();
        if name == "lost+found" {
            continue;
        }
        if name == STATE_DIR && !entry.path().join("state.json").exists() {
            continue;
        }
        return Ok(false);
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::state::HistoryEntry;

    fn state(
        phase: Stage,
        build: Option<&str>,
        target: Option<&str>,
        history: &[&str],
    ) -> VolumeState {
        let mut s = VolumeState::seeding("x", false);
        s.phase = phase;
        s.build_id = build.map(str::to_owned);
        s.target_build_id = target.map(str::to_owned);
        s.history = history
            .iter()
            .map(|id| HistoryEntry {
                build_id: (*id).to_owned(),
                since: 1,
                bosun_version: "0".into(),
            })
            .collect();
        s
    }

    #[test]
    fn every_class() {
        assert_eq!(classify(None, true, "b1"), Class::FirstRun);
        assert_eq!(classify(None, false, "b1"), Class::Foreign);
        let mut adopting = state(Stage::Seeding, None, Some("b1"), &[]);
        adopting.adopted = true;
        assert_eq!(
            classify(Some(&adopting), false, "b1"),
            Class::InterruptedSeeding { adopted: true }
        );
        assert_eq!(
            classify(
                Some(&state(Stage::Seeded, None, Some("b1"), &[])),
                false,
                "b1"
            ),
            Class::FirstBootPending
        );
        let mut failed = state(Stage::FirstBootHooks, None, Some("b1"), &[]);
        failed.hook_failure = Some(HookFailure {
            hook: "10-install".into(),
            code: 3,
            at: 1,
            log: None,
        });
        assert!(matches!(
            classify(Some(&failed), false, "b1"),
            Class::FailedFirstBoot {
                failure: Some(HookFailure { code: 3, .. })
            }
        ));
        let ready = state(Stage::Ready, Some("b2"), None, &["b1", "b2"]);
        assert_eq!(classify(Some(&ready), false, "b2"), Class::Routine);
        assert_eq!(
            classify(Some(&ready), false, "b3"),
            Class::Upgrade {
                from: Some("b2".into()),
                to: "b3".into(),
                resumed: false
            }
        );
        assert_eq!(
            classify(Some(&ready), false, "b1"),
            Class::Downgrade {
                from: Some("b2".into()),
                to: "b1".into()
            }
        );
        let upgrading = state(Stage::Upgrading, Some("b2"), Some("b3"), &["b1", "b2"]);
        assert_eq!(
            classify(Some(&upgrading), false, "b3"),
            Class::Upgrade {
                from: Some("b2".into()),
                to: "b3".into(),
                resumed: true
            }
        );
        // Rolling back to the old image in the middle of an upgrade is a downgrade.
        assert_eq!(
            classify(Some(&upgrading), false, "b2"),
            Class::Downgrade {
                from: Some("b3".into()),
                to: "b2".into()
            }
        );
        let merged = state(Stage::Upgraded, Some("b2"), Some("b3"), &["b1", "b2"]);
        assert_eq!(
            classify(Some(&merged), false, "b3"),
            Class::UpgradeHooksPending {
                from: Some("b2".into())
            }
        );
        let hooks = state(Stage::UpgradeHooks, Some("b2"), Some("b3"), &["b1", "b2"]);
        assert_eq!(
            classify(Some(&hooks), false, "b3"),
            Class::FailedUpgrade {
                from: Some("b2".into()),
                failure: None
            }
        );
        // A newer image arrives while the previous upgrade's hooks had failed: upgrade again.
        assert_eq!(
            classify(Some(&hooks), false, "b4"),
            Class::Upgrade {
                from: Some("b2".into()),
                to: "b4".into(),
                resumed: false
            }
        );
    }

    #[test]
    fn emptiness() {
        let dir = std::env::temp_dir().join(format!("bosun-classify-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("lost+found")).unwrap();
        fs::create_dir_all(dir.join(".bosun")).unwrap();
        fs::write(dir.join(".bosun/lock"), "").unwrap();
        assert!(is_empty(&dir).unwrap());
        fs::write(dir.join(".bosun/state.json"), "{}").unwrap();
        assert!(!is_empty(&dir).unwrap());
        fs::remove_file(dir.join(".bosun/state.json")).unwrap();
        fs::write(dir.join("file"), "").unwrap();
        assert!(!is_empty(&dir).unwrap());
        fs::remove_dir_all(&dir).unwrap();
    }
}
