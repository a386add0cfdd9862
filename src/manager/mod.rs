//! The manager, as systemd's core: units' dependencies ([`graph`]), their
//! Condition*=/Assert*= ([`condition`]), the boot set with built-in standard targets and
//! default dependencies ([`units`]), requests turned into ordered transactions of jobs
//! ([`transaction`]), the queue that runs them ([`jobs`]), and the [`engine`] that dispatches
//! jobs to the unit types (engine/service.rs, socket.rs, timer.rs, target.rs, mount.rs,
//! slice.rs, behind one trait) and answers with snapshots in its own types; the units systemd
//! tracks without running anything in a container (mounts of the mount table, slices,
//! `RequiresMountsFor=`) are [`tracked`]'s. Knows neither PID 1's event loop nor
//! the control socket's protocol: `init/` drives it and maps its answers.

pub mod condition;
pub mod engine;
pub mod graph;
pub mod jobs;
pub mod tracked;
pub mod transaction;
pub mod units;
