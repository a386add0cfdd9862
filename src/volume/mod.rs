//! The data volume's life cycle at build time and at boot: the metadata-preserving tree
//! copier, manifests, `bosun image prepare|check|diff|seed`, the volume's state file and lock,
//! classification at boot, seeding and the upgrade merge. Every root (template, data, image
//! root) is a parameter, so tests run on temporary trees without root.
//!
//! # The API PID 1 calls at boot (in this order)
//!
//! ```text
//! let image = populate::Image { template, root, build_id };      // build_id from /etc/build-id
//! let mut volume = state::Volume::open(data, /*wait*/ false)?;    // mkdir DATA/.bosun, flock
//! let class = classify::classify(volume.state(), classify::is_empty(data)?, &image.build_id);
//! match class {
//!     FirstRun | InterruptedSeeding { .. } => populate::seed(&mut volume, &image, adopt, &mut log)?,
//!     Foreign  => refuse, or with BOSUN_ADOPT_DATA=1 populate::seed(&mut volume, &image, true, ..)
//!     Upgrade { .. } => populate::upgrade(&mut volume, &image, &mut log)?,   // then hooks
//!     Downgrade { .. } => refuse unless BOSUN_ALLOW_DOWNGRADE=1
//!     FailedFirstBoot { .. } | FailedUpgrade { .. } => refuse unless BOSUN_RETRY_FIRST_BOOT=1
//!     FirstBootPending | UpgradeHooksPending { .. } => run the hooks
//!     Routine => nothing
//! }
//! volume.hooks_started()?;      // before the phase's hooks
//! volume.hooks_failed(failure)? // or, when one fails
//! volume.hooks_succeeded()?;    // records the new build id in the history; phase Ready
//! // keep `volume` alive (it holds the lock) for as long as PID 1 runs
//! ```
//!
//! Files: [`copy`] (the copier), [`manifest`] (format, scan, compare), [`image`] (prepare,
//! check, diff), [`state`] (lock and state file), [`classify`], [`populate`].

pub mod classify;
pub mod copy;
pub mod data;
pub mod image;
pub mod inode;
pub mod manifest;
pub mod populate;
pub mod report;
pub mod state;
