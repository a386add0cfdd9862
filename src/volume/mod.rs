//! The data volume's life cycle at build time and at boot: the metadata-preserving tree
//! copier, manifests, `bosun image prepare|check|diff|seed`, the volume's state file and lock,
//! classification at boot, seeding and the upgrade merge. Every root (template, data, image
//! root) is a parameter, so tests run on temporary trees without root.
//!
//! # The API PID 1 calls at boot (in this order)
//!
//! ```text
//! use bosun::volume::{classify::{self, Class}, populate::{self, Image}, state::{Volume, HookFailure}};
//! let image = Image { template, root, build_id, run_as, interrupted }; // build_id: /etc/build-id
//! let mut volume = Volume::open(&data, /*wait*/ false)?;        // mkdir DATA/.bosun; flock(EX|NB):
//!                                                               // StateError::Locked if another holds it
//! let class = classify::classify(volume.state(), classify::is_empty(&data)?, &image.build_id);
//! match class {
//!     Class::FirstRun => populate::seed(&mut volume, &image, false, &mut log_progress)?,
//!     Class::InterruptedSeeding { adopted } => populate::seed(&mut volume, &image, adopted, ..)?,
//!     Class::Foreign => refuse; with BOSUN_ADOPT_DATA=1: populate::seed(&mut volume, &image, true, ..)?
//!     Class::Upgrade { .. } => populate::upgrade(&mut volume, &image, ..)?,  // report: .bosun-new list
//!     Class::Downgrade { .. } => refuse unless BOSUN_ALLOW_DOWNGRADE=1
//!     Class::FailedFirstBoot { failure } | Class::FailedUpgrade { failure, .. } =>
//!         refuse (print failure: hook, code, log) unless BOSUN_RETRY_FIRST_BOOT=1
//!     Class::FirstBootPending | Class::UpgradeHooksPending { .. } => {}      // just run the hooks
//!     Class::Routine => {}                                                   // no hooks but boot.d
//! }
//! // seed() ends in phase Seeded, upgrade() in Upgraded; then the phase's hooks:
//! volume.hooks_started()?;                 // Seeded → FirstBootHooks, Upgraded → UpgradeHooks
//! volume.hooks_failed(HookFailure { hook, code, at: state::now(), log })?;   // on failure; exit
//! volume.hooks_succeeded()?;               // target build id recorded in the history; Ready
//! // keep `volume` alive (it holds the lock) for as long as PID 1 runs
//! ```
//!
//! PID 1 does this in [`crate::boot::volume_phase`], and runs the hooks [`hooks`] finds.
//!
//! Every step is resumable: a kill at any instant leaves a phase from which calling the same
//! function again finishes (seed and upgrade), or a class that says what to do.
//!
//! Files: [`copy`] (the copier; [`data`] copies a file's bytes, [`inode`] reads and writes one
//! entry's status and xattrs, [`report`] holds options, progress and warnings), [`manifest`]
//! (format, scan, compare), [`image`] (prepare, check, diff), [`state`] (lock and state file),
//! [`classify`], [`populate`] (seed, upgrade merge, UID/GID drift), [`hooks`] (finding and
//! ordering the hooks, their variables and log files).

pub mod classify;
pub mod copy;
pub mod data;
pub mod hooks;
pub mod image;
pub mod inode;
pub mod manifest;
pub mod populate;
pub mod report;
pub mod state;
