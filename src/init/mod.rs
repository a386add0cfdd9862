//! PID 1's duties, the tini-like core: block and read signals, start the main command, reap
//! every process, forward signals, shut everything down in order, and finish with the right
//! exit code. The boot-time features it calls (stale /run and /tmp, passwd entry, the volume
//! phase, hooks, generators, tmpfiles.d, readiness to the runtime) are [`crate::boot`]'s.
//!
//! Phases of [`run`]: setup (signal mask, subreaper, runtime) → populate /data (as PID 1:
//! [`volume_phase::prepare`]) → start units → loop (signals, output, deadlines): the volume's hooks
//! once the units are up, then the main command → shutdown (units, shutdown hooks, TERM, wait,
//! KILL, reap) → exit code. After setup, a failure is logged and shutdown proceeds; bosun does
//! not die with processes still running under it.

mod answers;
pub mod journal;
mod loading;
mod persist;
pub mod reaper;
pub mod services;
mod shutdown;
pub mod signals;

use std::ffi::OsString;
use std::future::pending;
use std::time::Duration;

use nix::sys::signal::Signal;
use nix::unistd::{Pid, getpid};
use tokio::time::{Instant, sleep_until};

use tokio::sync::oneshot;

use crate::boot::{cleanup, generator_runner, hook_runner, readiness, volume_phase};
use crate::control::proto::Response;
use crate::control::server::Incoming;
use crate::service::child::{self, ChildSpec, Environment};
use crate::vocab::exit::Exit;
use crate::vocab::termination::Termination;
use crate::vocab::time::humanize;
use signals::{Delivery, SignalStream};

/// At most this many queued notifications are read before each round of reaping (a flood
/// on the socket cannot hold the reaper; the rest wait for the loop's turn).
const NOTIFY_BEFORE_REAPING: usize = 256;

/// How long to keep reaping after SIGKILL before giving up on processes that do not die
/// (stuck in uninterruptible sleep on a dead NFS server, say).
const KILL_GRACE: Duration = Duration::from_secs(5);

/// What PID 1 was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The main command and its arguments; its exit ends bosun.
    pub command: Vec<OsString>,
    /// Forward signals to the main command's whole process group, not only to it.
    pub kill_process_group: bool,
    /// Final exit codes of the main command that bosun reports as 0.
    pub success_codes: Vec<u8>,
    /// Signal bosun asks to receive when its parent dies (tini's `-p`).
    pub parent_death_signal: Option<Signal>,
    /// Log every orphan reaped.
    pub warn_on_reap: bool,
    /// How long remaining processes get between SIGTERM and SIGKILL (and the default
    /// TimeoutStopSec= of units).
    pub stop_timeout: Duration,
    /// How long a whole shutdown may take, from its start to the last process reaped
    /// (BOSUN_SHUTDOWN_TIMEOUT): then what is left is killed. Duration::MAX: no limit.
    pub shutdown_timeout: Duration,
    /// Boot units from this setup; None runs the main command alone, as tini does.
    pub units: Option<crate::config::UnitsSetup>,
    /// The units were asked for explicitly (BOSUN_UNITS=on). Otherwise they boot only when
    /// bosun is PID 1: run from a shell on a host, `bosun -- CMD` must never apply the host's
    /// tmpfiles.d (Debian's empties /tmp) or start its enabled services. The same goes for the
    /// boot phase of `volume` (emptying /run and /tmp, the volume, its hooks).
    pub units_forced: bool,
    /// The data volume's life cycle and the boot phase around it.
    pub volume: crate::config::VolumeSetup,
}

/// The word that makes `bosun` the janitor ([`crate::service::janitor`]).
pub const JANITOR: &str = crate::service::janitor::WORD;

/// `bosun janitor`: PID 1's helper that removes what stopped services leave behind.
pub fn janitor() -> Exit {
    crate::service::janitor::serve()
}

/// Run as init until the main command and everything else has gone; return bosun's exit.
pub fn run(options: &Options) -> Exit {
    // What exists before this instant may be stale (emptied from /run and /tmp at boot).
    let started = cleanup::BootTime::now();
    // Phase: setup. Signals are blocked before anything else can start a thread or a child.
    let mask = match signals::block_all() {
        Ok(mask) => mask,
        Err(errno) => {
            crate::log::error(format_args!("cannot block signals: {errno}"));
            return Exit::Failure;
        }
    };
    if let Some(signal) = options.parent_death_signal
        && let Err(errno) = nix::sys::prctl::set_pdeathsig(signal)
    {
        crate::log::error(format_args!("cannot set the parent-death signal: {errno}"));
        return Exit::Failure;
    }
    raise_file_limit();
    crate::log::set_json(options.volume.log_format == crate::vocab::text::Format::Json);
    let is_pid1 = getpid().as_raw() == 1;
    let mut options = options.clone();
    if !is_pid1 && options.units.is_some() && !options.units_forced {
        if options.command.is_empty() {
            crate::log::error(format_args!(
                "not running as PID 1: booting units here would start this machine's services; \
                 set BOSUN_UNITS=on to do it anyway, or give a command: bosun -- COMMAND"
            ));
            return Exit::Usage;
        }
        options.units = None;
    }
    let options = &options;
    if !is_pid1 {
        match nix::sys::prctl::set_child_subreaper(true) {
            Ok(()) => crate::log::warn(format_args!(
                "not running as PID 1: reaping orphans as a child subreaper"
            )),
            Err(errno) => crate::log::warn(format_args!(
                "not running as PID 1 and cannot become a child subreaper ({errno}): \
                 orphans will not be reaped by bosun"
            )),
        }
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            crate::log::error(format_args!("cannot start the event loop: {err}"));
            return Exit::Failure;
        }
    };
    let exit = runtime.block_on(supervise(options, &mask, is_pid1, started));
    // What bosun still has to say gets one non-blocking attempt (stdout's queue got its own
    // when the loop dropped it); nothing waits for a reader.
    crate::log::detach_stderr();
    exit
}

async fn supervise(
    options: &Options,
    mask: &nix::sys::signal::SigSet,
    is_pid1: bool,
    started: cleanup::BootTime,
) -> Exit {
    // OnBootSec= and OnStartupSec= count from here (the container's boot).
    let started_at = std::time::Instant::now();
    let mut signals = match SignalStream::open(mask) {
        Ok(stream) => stream,
        Err(err) => {
            crate::log::error(format_args!("cannot open a signalfd: {err}"));
            return Exit::Failure;
        }
    };
    // Tasks spawned from here on report their panics on this channel.
    let mut task_panics = crate::task::watch();
    // From here on bosun's own messages never block PID 1 (drained in the loop below).
    if let Err(err) = crate::log::install_stderr() {
        crate::log::warn(format_args!("stderr unusable without blocking ({err})"));
    }
    // bosun's messages from here on are kept for the persistent journal, if there will be one.
    let persisting = options
        .units
        .as_ref()
        .is_some_and(|u| u.log_persist != crate::config::Persist::Off);
    crate::log::keep_own(persisting);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<crate::journal::pipe::Line>(1024);
    let mut output = match crate::log::output::Output::stdout() {
        Ok(o) => Some(o),
        Err(err) => {
            crate::log::warn(format_args!(
                "service output goes nowhere: stdout unusable ({err})"
            ));
            None
        }
    };
    let (ctl_tx, mut ctl_rx) = tokio::sync::mpsc::channel::<crate::control::server::Incoming>(64);
    let mut pid1 = Supervisor {
        options,
        is_pid1,
        self_pid: getpid().as_raw(),
        main: None,
        main_exit: None,
        stop: None,
        shutting_down: false,
        services: None,
        notify: None,
        unbooted: None,
        generating: None,
        reloads: Vec::new(),
        reloads_next: Vec::new(),
        parked: Vec::new(),
        boot: None,
        done: false,
        waiters: Vec::new(),
        requested_exit: None,
        started_ms: crate::vocab::time::now_ms(),
        boot_id: crate::vocab::id::random_id(),
        runtime: std::env::var_os(readiness::VARIABLE).and_then(|value| {
            readiness::Notifier::open(&value)
                .inspect_err(|e| {
                    crate::log::warn(format_args!(
                        "{}={}: {e}; the runtime will not hear from bosun",
                        readiness::VARIABLE,
                        value.to_string_lossy()
                    ));
                })
                .ok()
        }),
        panics: 0,
        abandoned: false,
        shutdown_deadline: None,
        control: None,
        control_calls: ctl_tx,
        control_restarts: 0,
        writer: None,
        writer_exit: None,
    };

    // Phase: populate /data (stale /run and /tmp, the volume's lock, seeding or upgrade), only
    // where units would boot: as PID 1 or with BOSUN_UNITS=on, never on a host's own root.
    if is_pid1 || options.units_forced {
        if let Some(runtime) = pid1.runtime.as_mut() {
            let setup = &options.volume;
            runtime.status(if setup.host(&setup.template_dir).is_dir() {
                "Preparing the data volume"
            } else {
                "Preparing /run and /tmp"
            });
        }
        match volume_phase::prepare(&options.volume, started, options.stop_timeout, tx.clone()) {
            Ok(boot) => pid1.boot = Some(boot),
            Err(exit) => return exit,
        }
    }

    // The persistent journal's writer, once the volume is there (`log.persist`).
    let mut persist = options.units.as_ref().and_then(|units| {
        let volume = pid1
            .boot
            .as_ref()
            .and_then(hook_runner::VolumeHooks::volume_dir)
            .map(std::path::PathBuf::from);
        let dir = units.log_persist.dir(&units.root, volume.as_deref())?;
        persist::Persister::start(&dir, units.log_persist_max, pid1.started_ms, &pid1.boot_id)
    });
    pid1.writer = persist.as_ref().map(persist::Persister::pid);
    if persist.is_none() {
        crate::log::keep_own(false);
    }

    // The control socket, for systemctl and initctl (and /run/systemd/system, so packages'
    // scripts believe systemd is init and call systemctl): both before the first process of
    // the units' phase (a generator, tmpfiles.d, the first unit), after /run was emptied of
    // the last boot's. A unit that calls `systemctl` first thing finds bosun; what calls
    // come before the units are loaded wait for them ([`Supervisor::on_call`]).
    if let Some(units) = &options.units {
        if units.systemd_compat
            && let Err(e) = std::fs::create_dir_all(units.root.join("run/systemd/system"))
        {
            // Not root, no package is installed at run time.
            crate::log::warn_if_root(format_args!("cannot create /run/systemd/system: {e}"));
        }
        pid1.serve_control(&crate::control::socket_path(&units.root));
    }

    // Phase: units. The generators run first, as children of the loop ([`Supervisor::pump`]
    // boots the units once they are done: tmpfiles.d, then the default target's jobs).
    if let Some(units) = &options.units {
        pid1.unbooted = Some(Unbooted {
            clock: services::TimerClock {
                started: started_at,
                volume: pid1
                    .boot
                    .as_ref()
                    .and_then(hook_runner::VolumeHooks::volume_dir)
                    .map(std::path::PathBuf::from),
            },
            lines: tx,
        });
        pid1.generating = Some(generator_runner::Run::start(
            &units.root,
            &units.generators,
            units.generator_timeout,
        ));
    }

    // Phase: loop until everything is gone. The main command starts once boot has settled.
    // Every handler runs guarded: a panic in one is said, and shutdown begins (exit 70).
    loop {
        pid1.guarded("the loop", |p| p.pump(output.as_mut(), &mut persist));
        if pid1.done {
            if let Some(bound) = &pid1.control {
                bound.remove();
            }
            crate::service::namespace::drop_spares();
            return pid1.exit();
        }
        let deadline = pid1.next_deadline();
        let draining = output
            .as_ref()
            .is_some_and(crate::log::output::Output::pending);
        let persisting = persist.as_ref().is_some_and(persist::Persister::pending);
        tokio::select! {
            delivery = signals.next() => match delivery {
                Ok(delivery) => pid1.guarded("a signal's handler", |p| p.on_signal(delivery)),
                Err(err) => {
                    // Unreachable in practice (the fd is ours and valid). Without signals we
                    // cannot reap, so end everything now rather than hang.
                    crate::log::error(format_args!("reading signals failed: {err}; killing all"));
                    pid1.kill_remaining();
                    return pid1.main_exit.unwrap_or(Exit::Failure);
                }
            },
            message = async {
                match &pid1.notify {
                    Some(socket) => socket.recv().await,
                    None => pending().await,
                }
            } => pid1.guarded("a notification's handler", |p| {
                if let (Ok(message), Some(svc)) = (message, p.units_mut()) {
                    svc.engine.on_notify(message, Instant::now().into_std());
                }
            }),
            Some(call) = ctl_rx.recv() => pid1.guarded("a control request", |p| p.on_call(call)),
            Some(report) = task_panics.recv() => {
                pid1.guarded("a task's panic", |p| p.on_task_panic(report));
            },
            (unit, index) = async {
                match pid1.services.as_ref().filter(|_| !pid1.abandoned) {
                    Some(svc) => svc.socket_activity().await,
                    None => pending().await,
                }
            } => pid1.guarded("socket activation", |p| {
                if let Some(svc) = p.units_mut() {
                    svc.on_socket_activity(&unit, index);
                }
            }),
            (unit, index) = async {
                match pid1.services.as_ref().filter(|_| !pid1.abandoned) {
                    Some(svc) => svc.path_activity().await,
                    None => pending().await,
                }
            } => pid1.guarded("path activation", |p| {
                if let Some(svc) = p.units_mut() {
                    svc.on_path_activity(&unit, index);
                }
            }),
            reports = async {
                match pid1.services.as_ref().filter(|_| !pid1.abandoned) {
                    Some(svc) => svc.keeper_reports().await,
                    None => pending().await,
                }
            } => pid1.guarded("a keeper's report", |p| p.on_children_after(reports)),
            activity = async {
                match pid1.services.as_ref().filter(|_| !pid1.abandoned) {
                    Some(svc) => svc.journal_activity().await,
                    None => pending().await,
                }
            } => pid1.guarded("a journal line", |p| {
                if let Some(svc) = p.units_mut() {
                    svc.on_journal(activity);
                }
            }),
            Some(line) = rx.recv() => pid1.guarded("a line of output", |p| {
                if let Some(boot) = p.boot.as_mut().filter(|b| b.owns(&line)) {
                    boot.on_line(line, output.as_mut());
                } else if let Some(svc) = p.units_mut() {
                    svc.on_line(line, output.as_mut());
                }
            }),
            _ = async {
                match output.as_mut() {
                    Some(out) if draining => out.drain().await,
                    _ => pending().await,
                }
            } => {},
            () = crate::log::drain_stderr() => {},
            () = async {
                match persist.as_mut() {
                    Some(writer) if persisting => writer.drain().await,
                    _ => pending().await,
                }
            } => {},
            () = async {
                match deadline {
                    Some(deadline) => sleep_until(deadline).await,
                    None => pending().await,
                }
            } => pid1.guarded("a deadline's handler", Supervisor::on_deadline),
        }
    }
}

/// Setup: PID 1's soft RLIMIT_NOFILE up to its hard limit, as systemd does, so that control
/// connections and service pipes cannot leave it without descriptors for spawns; every child
/// gets the original soft limit back (see [`crate::sys::raise_nofile`]).
fn raise_file_limit() {
    match crate::sys::raise_nofile() {
        Ok(Some((from, to))) => crate::log::debug(format_args!(
            "RLIMIT_NOFILE raised from {from} to {to} for bosun; services get {from}"
        )),
        Ok(None) => {}
        Err(e) => crate::log::warn(format_args!(
            "cannot raise RLIMIT_NOFILE to its hard limit: {e}"
        )),
    }
}

/// Start the main command as its own process-group leader with a clean signal state.
fn spawn_main(command: &[OsString]) -> Result<Pid, Exit> {
    let Some((program, args)) = command.split_first() else {
        crate::log::error(format_args!("no command to run"));
        return Err(Exit::Usage);
    };
    // The runtime's notification socket is bosun's to answer (see readiness).
    let spec = ChildSpec {
        env: Environment::Inherited {
            remove: vec![readiness::VARIABLE.into()],
            set: Vec::new(),
        },
        process_group: true,
        setup: crate::sys::ChildSetup {
            take_terminal: true,
            ..Default::default()
        },
        ..ChildSpec::new(program, args.to_vec())
    };
    match child::spawn(spec) {
        Ok(pid) => Ok(Pid::from_raw(pid)),
        Err(failure) => {
            let exit = if failure.not_found() {
                Exit::NotFound
            } else {
                Exit::CannotExecute
            };
            crate::log::error(format_args!(
                "cannot run {}: {}",
                program.to_string_lossy(),
                std::io::Error::from_raw_os_error(failure.source.raw_os_error().unwrap_or(0))
            ));
            Err(exit)
        }
    }
}

/// Shutdown in progress: remaining processes were sent SIGTERM; at `deadline` they get SIGKILL.
#[derive(Debug, Clone, Copy)]
struct Stop {
    deadline: Instant,
    killed: bool,
}

#[derive(Debug)]
struct Supervisor<'a> {
    options: &'a Options,
    is_pid1: bool,
    self_pid: i32,
    /// The main command, once started.
    main: Option<Pid>,
    main_exit: Option<Exit>,
    /// The final stage: remaining processes were sent SIGTERM.
    stop: Option<Stop>,
    /// Shutdown was asked for (or the main command ended): units are being stopped.
    shutting_down: bool,
    services: Option<services::Services>,
    /// The units' notification socket (NOTIFY_SOCKET), once they booted.
    notify: Option<crate::service::notify::NotifySocket>,
    /// What booting the units needs, until the generators are done and they boot.
    unbooted: Option<Unbooted>,
    /// The generators running (at boot, or for daemon-reload).
    generating: Option<generator_runner::Run>,
    /// daemon-reload calls answered when the running generators are done and the units are
    /// read again.
    reloads: Vec<oneshot::Sender<Response>>,
    /// daemon-reload calls that came while the generators ran: they get a run of their own.
    reloads_next: Vec<oneshot::Sender<Response>>,
    /// Control calls that came before the units booted, answered once they have.
    parked: Vec<Incoming>,
    /// The volume (its lock) and its hooks, when the boot phase ran.
    boot: Option<hook_runner::VolumeHooks>,
    done: bool,
    /// Control requests waiting for their jobs.
    waiters: Vec<answers::Waiter>,
    /// `systemctl exit N` (poweroff: 0): the exit code, whatever else happened.
    requested_exit: Option<u8>,
    /// When PID 1 started (ms since the epoch).
    started_ms: u64,
    /// This boot's ID (journald's `_BOOT_ID` of the journal's lines).
    boot_id: String,
    /// The container runtime's `NOTIFY_SOCKET`, when bosun was given one.
    runtime: Option<readiness::Notifier>,
    /// Internal errors (panics) caught so far: any makes the exit code 70.
    panics: u32,
    /// Units and hooks are no longer driven (a second panic, or an immediate halt): only the
    /// final sweep and the reaping are left.
    abandoned: bool,
    /// When the shutdown, begun, must be over (BOSUN_SHUTDOWN_TIMEOUT).
    shutdown_deadline: Option<Instant>,
    /// The control socket's file, while it is served.
    control: Option<crate::control::server::Bound>,
    /// Where the control server hands its calls (kept to start it again).
    control_calls: tokio::sync::mpsc::Sender<Incoming>,
    /// How often the control server was started again after a panic.
    control_restarts: u32,
    /// The persistent journal's writer process, while it runs.
    writer: Option<i32>,
    /// How it ended, until the loop's next turn says so.
    writer_exit: Option<Termination>,
}

/// What booting the units needs once the generators are done.
#[derive(Debug)]
struct Unbooted {
    clock: services::TimerClock,
    lines: tokio::sync::mpsc::Sender<crate::journal::pipe::Line>,
}

impl Supervisor<'_> {
    fn main_alive(&self) -> bool {
        self.main.is_some() && self.main_exit.is_none()
    }

    /// Where forwarded signals go: the main command, or its whole process group with `-g`.
    fn forward_target(&self) -> Option<i32> {
        let main = self.main?.as_raw();
        Some(if self.options.kill_process_group {
            -main
        } else {
            main
        })
    }

    /// Work that follows from the state: print what the units did, read their new pipes,
    /// start the main command once boot settled, and move shutdown on.
    fn pump(
        &mut self,
        output: Option<&mut crate::log::output::Output>,
        persist: &mut Option<persist::Persister>,
    ) {
        let now = Instant::now().into_std();
        if self.abandoned {
            // Only the final sweep is left: done once every process is reaped.
            if self.stop.is_some() && !reaper::children_exist() {
                self.done = true;
            }
            return;
        }
        if self.shutting_down {
            crate::task::inject("shutdown");
        }
        self.advance_generators();
        match (self.services.as_mut(), output) {
            (Some(svc), output) => svc.pump(output),
            // Hooks' lines only: no ring keeps them.
            (None, Some(out)) => crate::log::output::report_unkept("stdout", out),
            (None, None) => {}
        }
        self.run_unit_actions();
        if !self.waiters.is_empty() {
            self.answer_waiters();
        }
        self.collect_garbage();
        let settled =
            self.unbooted.is_none() && self.services.as_ref().is_none_or(|s| s.engine.settled());
        // Phase: hooks (first-boot or upgrade, then boot), once the wanted units are up.
        if settled
            && !self.shutting_down
            && let Some(boot) = self.boot.as_mut()
        {
            if let Some(pid) = boot.advance()
                && let Some(svc) = self.services.as_mut()
            {
                svc.engine.note_outsider(pid);
            }
            if boot.failure().is_some() {
                self.begin_shutdown(now);
            }
        }
        let booted = self
            .boot
            .as_ref()
            .is_none_or(hook_runner::VolumeHooks::complete);
        if !self.options.command.is_empty()
            && self.main.is_none()
            && self.main_exit.is_none()
            && !self.shutting_down
            && settled
            && booted
        {
            match spawn_main(&self.options.command) {
                Ok(pid) => {
                    self.main = Some(pid);
                    if let Some(svc) = self.services.as_mut() {
                        svc.engine.note_outsider(pid.as_raw());
                    }
                }
                Err(exit) => {
                    self.main_exit = Some(exit);
                    self.begin_shutdown(now);
                }
            }
        }
        if self.shutting_down && self.stop.is_none() {
            let units_down = self.generating.is_none()
                && self
                    .services
                    .as_ref()
                    .is_none_or(|s| s.engine.all_stopped());
            // Phase: shutdown hooks, after the units and before everything else is ended.
            let hooks_busy = units_down
                && self
                    .boot
                    .as_mut()
                    .is_some_and(hook_runner::VolumeHooks::shutdown);
            if units_down && !hooks_busy {
                // The journal's writer ends when its pipe does, below; the janitor once it
                // has removed what the stopped units left.
                let exclude: Vec<i32> = self
                    .main
                    .filter(|_| self.main_alive())
                    .map(Pid::as_raw)
                    .into_iter()
                    .chain(self.writer)
                    .chain(crate::service::janitor::finish())
                    .collect();
                self.begin_stop(&exclude);
                if !reaper::children_exist() {
                    self.done = true;
                }
            }
        }
        if self.runtime.is_some() {
            self.tell_runtime();
        }
        self.persist(persist);
    }

    /// sd_notify the runtime: the phase as STATUS=, READY=1 once boot is complete and the main
    /// command runs, STOPPING=1 once shutdown began.
    fn tell_runtime(&mut self) {
        let failed = self
            .services
            .as_ref()
            .map(|s| s.engine.failed_units())
            .unwrap_or_default();
        let (state, phase) = self.condition(&failed);
        let status = match state {
            "degraded" => format!(
                "Running, {} failed unit(s): {}",
                failed.len(),
                failed.join(" ")
            ),
            _ => {
                let mut text = phase.to_owned();
                if let Some(first) = text.get_mut(..1) {
                    first.make_ascii_uppercase();
                }
                text
            }
        };
        let up = matches!(state, "running" | "degraded")
            && (self.options.command.is_empty() || self.main.is_some());
        let Some(runtime) = self.runtime.as_mut() else {
            return;
        };
        if self.shutting_down {
            runtime.stopping();
        }
        runtime.status(&status);
        if up {
            runtime.ready();
        }
    }

    /// Stop the units (in reverse dependency order), then everything else.
    fn begin_shutdown(&mut self, now: std::time::Instant) {
        if self.shutting_down {
            return;
        }
        self.shutting_down = true;
        self.arm_shutdown_deadline();
        self.interrupt_boot();
        if let Some(svc) = self.services.as_mut() {
            svc.engine.stop_all(now);
        }
    }

    fn on_signal(&mut self, delivery: Delivery) {
        if delivery.signo == libc::SIGPIPE && delivery.sender == self.self_pid {
            // Raised by our own write to a closed pipe: not a message for the child. Any other
            // signal "from ourselves" is a request made before exec (a wrapper that signalled
            // itself and then exec'd bosun) and counts as one.
            return;
        }
        if delivery.signo == libc::SIGCHLD {
            return self.on_children();
        }
        if delivery.signo == libc::SIGUSR2 {
            // Debug builds' test switch (BOSUN_TEST_PANIC=loop); nothing in release builds.
            crate::task::inject("loop");
        }
        if let Some(target) = self.forward_target().filter(|_| self.main_alive()) {
            crate::log::debug(format_args!(
                "forwarding {} to {target}",
                crate::vocab::signal::name(delivery.signo),
            ));
            if let Err(err) = crate::sys::send_signal(target, delivery.signo)
                && err.raw_os_error() != Some(libc::ESRCH)
            {
                crate::log::warn(format_args!(
                    "cannot forward {}: {err}",
                    crate::vocab::signal::name(delivery.signo)
                ));
            }
        }
        if let Some(objective) = shutdown::Objective::of_signal(delivery.signo) {
            return self.on_objective(objective, delivery.signo);
        }
        if matches!(delivery.signo, libc::SIGTERM | libc::SIGINT) && !self.shutting_down {
            crate::log::info(format_args!(
                "received {}: stopping",
                crate::vocab::signal::name(delivery.signo)
            ));
            self.begin_shutdown(Instant::now().into_std());
        }
    }

    fn on_children(&mut self) {
        self.on_children_after(Vec::new());
    }

    /// As [`Self::on_children`], with `reports` a keeper just sent routed first.
    fn on_children_after(&mut self, reports: Vec<crate::service::keeper::Report>) {
        let now = Instant::now().into_std();
        // What services said before they exited counts before their exits (systemd's order).
        let said = self
            .notify
            .as_ref()
            .map(|socket| socket.queued(NOTIFY_BEFORE_REAPING))
            .unwrap_or_default();
        if let Some(svc) = self.units_mut() {
            for message in said {
                svc.engine.on_notify(message, now);
            }
            // Journal lines too: their senders are still known while unreaped.
            svc.read_journal_queued();
            // What the keepers reaped: each reports its last child before it exits.
            svc.on_keeper_reports(reports, now);
        }
        let harvest = reaper::reap_all();
        for (pid, termination) in harvest.reaped {
            if self.abandoned {
                // Nothing is driven any more: the statuses are collected, not routed.
            } else if Some(pid) == self.main && self.main_exit.is_none() {
                crate::log::info(format_args!("main command {}", describe(termination)));
                self.main_exit = Some(Exit::of_main(termination, &self.options.success_codes));
            } else if Some(pid.as_raw()) == self.writer {
                self.writer = None;
                self.writer_exit = Some(termination);
            } else if let Some(boot) = self.boot.as_mut()
                && boot.on_exit(pid.as_raw(), termination)
            {
            } else if let Some(run) = self.generating.as_mut()
                && run.on_exit(pid.as_raw(), termination)
            {
            } else if let Some(svc) = self.services.as_mut()
                && svc.engine.on_exit(pid.as_raw(), termination, now)
            {
            } else if self.options.warn_on_reap {
                crate::log::warn(format_args!(
                    "reaped process {pid}: {}",
                    describe(termination)
                ));
            }
        }
        if let Some(svc) = self.units_mut() {
            svc.engine.after_reaping(now);
        }
        if self.main_exit.is_some() && !self.shutting_down {
            if !harvest.children_left && self.services.is_none() && self.boot.is_none() {
                // Nothing else ever ran or everything is already gone: no one to stop.
                self.done = true;
                return;
            }
            self.begin_shutdown(now);
        }
        match self.stop {
            Some(_) if !harvest.children_left => self.done = true,
            Some(Stop { killed: true, .. }) => {
                // A process may have forked between our snapshot and the kill: kill again.
                self.kill_remaining();
            }
            _ => {}
        }
    }

    fn on_deadline(&mut self) {
        let now = Instant::now();
        if !self.abandoned {
            if let Some(svc) = self.services.as_mut() {
                svc.engine.on_time(now.into_std());
            }
            if let Some(boot) = self.boot.as_mut() {
                boot.on_time(now.into_std());
            }
            if let Some(run) = self.generating.as_mut() {
                run.on_time(now.into_std());
            }
        }
        if self.shutdown_deadline.is_some_and(|d| d <= now) {
            return self.on_shutdown_deadline();
        }
        let Some(stop) = self.stop.as_mut() else {
            return;
        };
        if stop.deadline > now {
            return;
        }
        if stop.killed {
            let left: Vec<String> = self
                .remaining(&[])
                .iter()
                .map(|e| e.pid.to_string())
                .collect();
            crate::log::error(format_args!(
                "processes still running {}s after SIGKILL (pids {}); exiting anyway",
                KILL_GRACE.as_secs(),
                left.join(" ")
            ));
            self.done = true;
            return;
        }
        stop.killed = true;
        stop.deadline = Instant::now() + KILL_GRACE;
        let left = self.remaining(&[]);
        if !left.is_empty() {
            let pids: Vec<String> = left.iter().map(|e| e.pid.to_string()).collect();
            crate::log::warn(format_args!(
                "stop timeout ({}) expired: killing {} remaining process(es): {}",
                humanize(self.options.stop_timeout),
                left.len(),
                pids.join(" ")
            ));
        }
        self.kill_remaining();
    }

    /// Send SIGTERM (then SIGCONT, so stopped processes can act on it) to every remaining
    /// process except those in `exclude` (pids, or with `-g` their process groups), and arm the
    /// stop deadline.
    fn begin_stop(&mut self, exclude: &[i32]) {
        self.arm_shutdown_deadline();
        self.stop = Some(Stop {
            // `infinity`: wait (practically) forever, never escalate.
            deadline: Instant::now()
                .checked_add(self.options.stop_timeout)
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(u64::from(u32::MAX))),
            killed: false,
        });
        for entry in self.remaining(exclude) {
            // ESRCH: it exited meanwhile, which is what we want.
            let _ = crate::sys::send_signal(entry.pid, libc::SIGTERM);
            let _ = crate::sys::send_signal(entry.pid, libc::SIGCONT);
        }
    }
}

fn describe(termination: Termination) -> String {
    match termination {
        Termination::Exited(code) => format!("exited with code {code}"),
        Termination::Signaled(signo) => {
            format!("was killed by {}", crate::vocab::signal::name(signo))
        }
    }
}
