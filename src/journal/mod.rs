//! The journal: what routes and stores the output of services, hooks and the main command's
//! siblings in PID 1 — cutting each stream into bounded lines ([`line`](mod@line)), keeping
//! each unit's recent lines under one total cap for `initctl logs` ([`ring`]), giving a line
//! one shape for the protocol and the files ([`record`]), and rendering
//! them for PID 1's stdout ([`format`](mod@format)), and taking what journald takes: syslog
//! datagrams on `/dev/log` ([`devlog`], [`syslog`], [`ratelimit`]), native entries on
//! `/run/systemd/journal/socket` ([`native`]), stream connections on
//! `/run/systemd/journal/stdout` ([`stream`]), and forwarding every line to a syslog daemon
//! of the image ([`forward`]); each unit's lines shaped and limited by its logging directives
//! ([`policy`]); and the persistent journal on the data volume ([`persist`]: its files,
//! their writer process and their reading). It sits above [`crate::service`] and beside the
//! manager: which unit sent a datagram is asked of the engine by PID 1's loop. Must not
//! write to a file descriptor itself ([`crate::log::output`] does, never blocking) nor know
//! the control socket. bosun's own diagnostics are [`crate::log`]'s.

pub mod devlog;
pub mod format;
pub mod forward;
pub mod line;
pub mod native;
pub mod persist;
pub mod pipe;
pub mod policy;
pub mod ratelimit;
pub mod record;
pub mod ring;
mod scratch;
pub mod stream;
pub mod syslog;
