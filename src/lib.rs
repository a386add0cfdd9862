//! bosun: a container init and supervisor in one static binary.
//!
//! # Architecture map
//!
//! | module    | owns                                                                      |
//! |-----------|---------------------------------------------------------------------------|
//! | [`boot`]  | what PID 1 does before and around the units: stale /run and /tmp, a passwd entry for an arbitrary UID, the data volume's phase (lock, classify, seed, upgrade or refuse), tmpfiles.d, running the generators and the volume's hooks, readiness to the container runtime (sd_notify) |
//! | [`cli`]   | argument parsing and printing for every personality (bosun, systemctl, journalctl, initctl) |
//! | [`config`] | the typed configuration, resolved once: `/etc/bosun/bosun.yaml` (each key checked), then the `BOSUN_*` environment over it, into `Supervision`, `VolumeSetup` and `UnitsSetup`; the command line (`cli::bosun`) overrides what it may |
//! | [`init`]  | the PID-1 duties: signal mask and signalfd, the reaper (the only caller of `waitpid`), the event loop, the main child, shutdown (ordered, systemd's stop signals, a global deadline), its own panics (caught per handler and per task: ordered shutdown, exit 70) |
//! | [`journal`] | service output in PID 1: bounded lines, per-unit rings under one total cap queried with journalctl's matches (`initctl logs`, `journalctl`), rendering as prefixed text or JSON lines; above `service`, beside the manager |
//! | [`log`]   | bosun's own diagnostics on stderr, and the writer of PID 1's stdout and stderr that never blocks |
//! | [`manager`] | the dependency graph, transactions (requirements, conflicts, ordering, cycle breaking), the job queue, and the engine (`manager::engine`): loading, requests, job dispatch and event routing, with one module per unit type behind one trait (`engine/unit_type.rs`; `engine/service.rs`, `socket.rs`, `timer.rs`, `target.rs`), read-only snapshots (`engine/query.rs`) and the unit GC |
//! | [`multicall`] | bosun's other names in an image: the `systemctl`/`journalctl`/`initctl` links and their dpkg diversions (`bosun image link`) |
//! | [`service`] | services at run time: the state machine of one service, the one spawner (`service::child`, for every process bosun starts), a service's spawning (environment, identity, limits, streams, directories, credentials), the `NOTIFY_SOCKET` protocol, per-unit cgroup v2 tracking |
//! | [`volume`] | the data volume's life cycle: the tree copier, manifests, `image prepare/check/diff/seed`, the state file and lock, classification, seeding and upgrades, finding and ordering hooks |
//! | [`sys`]   | the only code allowed to contain `unsafe`: the child's pre-exec set-up, raw signals, `waitpid` with real-time signal deaths decoded, fd registration with the reactor, closing received fds |
//! | `task` | the tasks of PID 1's loop that report a panic instead of vanishing (output readers, the control server), and the catch around each handler; debug builds' `BOSUN_TEST_PANIC` switch; used by `init` and `boot` alike |
//! | [`unit`](mod@unit) | systemd unit files: syntax, values, exec lines, specifiers, the search path, drop-ins, templates, aliases, masks, enablement links, systemd's special targets (`unit::special`); reading, and enabling/disabling/masking/presets as `systemctl` does (`unit::install`); nothing is started |
//! | [`vocab`] | the leaf vocabulary every layer may use and that uses nothing: signal names and parsing (real-time ones too), how a process ended, bosun's exit codes, wall-clock and civil-date helpers, sizes, the output format and journalctl's rule for showing a line |
//! | [`webdav`] | the WebDAV server run as `bosun webdav` (its own process, never inside PID 1): confinement beneath the root, Digest/Basic auth, locks, properties |
//!
//! # Layers
//!
//! Imports point down only, and `tests/it/repo.rs` (`imports_point_down_only`) fails on one
//! that points up: [`vocab`] uses nothing; [`unit`](mod@unit) uses only `vocab`; [`service`]
//! knows neither the manager nor PID 1 nor the journal; [`manager`] knows neither PID 1, the
//! control protocol nor the CLI; [`journal`] sits beside it; [`boot`] is called by [`init`],
//! never the other way round; [`volume`] and [`webdav`] know no supervision; the CLI reaches
//! PID 1 only through [`control`] (`cli::bosun`, the PID-1 entry point, aside); [`init`] is on
//! top and wires everything.
//!
//! # The event loop and its file descriptors
//!
//! PID 1 runs one thread: a tokio current-thread runtime. Every catchable signal except the
//! synchronous fault signals is blocked before anything else happens and read from one
//! `signalfd` owned by [`init::signals::SignalStream`]. The loop waits on that fd and on the next
//! deadline (the stop timeout); it never polls. Each of its handlers runs under
//! `catch_unwind`, and each task it spawns reports a panic back to it. No other thread runs in PID 1 when it forks, so
//! the `fork` behind `std::process::Command` stays sound: the only others, the volume copier's
//! (`volume::copy`, while seeding or merging a volume), are joined before the copy returns.
//!
//! The listening sockets of socket units and the inotify descriptors of waiting path units
//! are owned by the manager's engine; the loop borrows them to wait for readiness
//! (`init::services`) and hands what became readable back to the engine.
//!
//! PID 1's own stdout and stderr are reopened non-blocking (a new open file description, so
//! the children sharing the original one still block): [`log::output::Output`] queues what
//! does not fit, within a bound, and the loop drains it when the fd is writable.
//!
//! Children are spawned with `std::process::Command` plus one reviewed `pre_exec`
//! ([`sys::prepare_child`]). Nobody calls `Child::wait`: the reaper collects every status with
//! `waitpid(-1, WNOHANG)` and routes it by pid.

pub mod boot;
pub mod cli;
pub mod config;
pub mod control;
pub mod init;
pub mod journal;
pub mod log;
pub mod manager;
pub mod multicall;
pub mod service;
pub mod sys;
pub(crate) mod task;
pub mod unit;
pub mod vocab;
pub mod volume;
pub mod webdav;
