//! What PID 1 does before and around the units, in boot order: stale /run and /tmp emptied
//! ([`cleanup`]), a passwd entry for an arbitrary UID ([`passwd`]), the data volume locked,
//! classified, seeded or upgraded or refused ([`volume_phase`]), tmpfiles.d applied
//! ([`tmpfiles`]), the generators run ([`generator_runner`]), the volume's hooks once the units
//! are up and at shutdown ([`hook_runner`]), and the container runtime told how boot goes
//! ([`readiness`]).
//!
//! Must not own the event loop, the reaper or the signal mask ([`crate::init`] does: it calls
//! into this module and routes the exit statuses of the children started here), nor know the
//! manager or the control socket. What a hook or a generator *is* lives below, in
//! [`crate::volume::hooks`] and [`crate::unit::generators`]; this module runs them.

pub mod cleanup;
pub mod generator_runner;
pub mod hook_runner;
pub mod passwd;
pub mod readiness;
pub mod sysv;
pub mod tmpfiles;
pub mod volume_phase;
