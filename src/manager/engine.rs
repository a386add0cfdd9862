//! The engine that runs units: it holds the boot set, turns requests into transactions, runs
//! jobs, feeds each service's state machine and carries out what it asks (spawn a command with
//! its environment, signal the main or control process or the rest of the unit, read the
//! PIDFile, arm timers), and reports what happened. Synchronous: the event loop in
//! [`crate::init`] calls it with reaped processes, notifications and the time, and reads its
//! log pipes.
//!
//! Process tracking: with a delegated cgroup2 tree, one cgroup per service; otherwise every
//! process a service spawns leads its own session, and the unit's processes are those in its
//! sessions (the PIDFile's process included) and their descendants.

mod gc;
mod query;
mod requests;
mod socket;
mod timer;
pub use query::{ExecSnapshot, LoadStatus, Refusal, RefusalReason, Tracking, UnitSnapshot, now_ms};
pub use requests::Whom;
use socket::SocketRun;
pub use socket::service_of;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use super::condition::{System, Verdict, evaluate};
use super::graph::Graph;
use super::jobs::{JobQueue, JobResult};
use super::transaction::{JobKind, TransactionError, build};
use super::units::{Entry, collect, graph};
use crate::init::reaper::Termination;
use crate::log::ring::Stream;
use crate::service::cgroup::{Cgroups, ServiceCgroup};
use crate::service::environment;
use crate::service::notify::Message;
use crate::service::procs;
use crate::service::spawn::{self, Identity, Launch};
use crate::service::state::{Action, Active, Defaults, Event, Phase, Service, Spec, State, Target};
use crate::unit::load::{LoadState, Loader};
use crate::unit::model::{ServiceSection, ServiceType, UnitKind};

/// How the engine is set up.
#[derive(Debug)]
pub struct Settings {
    /// Filesystem root (for tests; "/" in a container).
    pub root: PathBuf,
    pub defaults: Defaults,
    /// The `NOTIFY_SOCKET` value services get.
    pub notify_address: String,
    /// Per-unit cgroups, when the container delegates a cgroup2 tree.
    pub cgroups: Option<Cgroups>,
    /// The manager environment services start from (PATH, `systemctl set-environment`).
    pub environment: Vec<(String, String)>,
    /// (uid, gid) for services that name no User= or Group= (the host user of BOSUN_RUN_AS);
    /// None: they run as bosun does.
    pub run_as: Option<(u32, u32)>,
    /// When bosun started: OnBootSec= and OnStartupSec= count from it.
    pub started: Instant,
    /// Where Persistent= timers keep their `stamp-NAME` files.
    pub timer_stamps: PathBuf,
}

/// A log pipe of a spawned process, for the event loop to read.
#[derive(Debug)]
pub struct Pipe {
    pub unit: String,
    /// SyslogIdentifier=, the prefix of its lines instead of the unit's name.
    pub ident: Option<String>,
    pub pid: i32,
    pub stream: Stream,
    pub fd: OwnedFd,
}

/// Something worth telling the operator, in systemd's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// Milestones shown with -v (targets reached).
    Detail(String),
    Info(String),
    Warning(String),
    Error(String),
}

impl Note {
    /// The same note, its text prefixed with the unit it is about (`NAME: text`).
    pub fn about(self, unit: &str) -> Note {
        match self {
            Note::Detail(text) => Note::Detail(format!("{unit}: {text}")),
            Note::Info(text) => Note::Info(format!("{unit}: {text}")),
            Note::Warning(text) => Note::Warning(format!("{unit}: {text}")),
            Note::Error(text) => Note::Error(format!("{unit}: {text}")),
        }
    }
}

struct ServiceRun {
    svc: Service,
    section: ServiceSection,
    identity: Option<Identity>,
    invocation_id: String,
    cgroup: Option<ServiceCgroup>,
    /// Sessions its processes lead (tracking without cgroups).
    sessions: BTreeSet<i32>,
    /// Variables for its directories and credentials, made at start.
    run_env: Vec<(String, String)>,
    timer: Option<Instant>,
    watchdog: Option<Instant>,
    /// The connection of an Accept=yes instance, and the peer's address and port (IP).
    connection: Option<(OwnedFd, Option<(String, u16)>)>,
    /// This run could not be prepared: its next process fails with this exit status.
    setup_failed: Option<i32>,
    /// The last main process (ExecMainPID), kept after it ends.
    exec_main_pid: Option<i32>,
    /// The commands this run spawned, by list and index: `status`'s `Process:` lines.
    execs: Vec<ExecRecord>,
}

impl ServiceRun {
    /// What process tracking needs of this run.
    fn tracked(&self) -> procs::Tracked<'_> {
        procs::Tracked {
            main: self.svc.main_pid(),
            control: self.svc.control_pid(),
            cgroup: self.cgroup.as_ref(),
            sessions: &self.sessions,
            invocation_id: &self.invocation_id,
        }
    }
}

/// One command a run spawned (systemd's ExecStatus): where it comes from, its pid and, once it
/// ended, how.
struct ExecRecord {
    phase: Phase,
    index: usize,
    argv: String,
    pid: i32,
    ended: Option<Termination>,
}

enum Runtime {
    Service(Box<ServiceRun>),
    Target {
        active: bool,
    },
    Socket(Box<SocketRun>),
    Timer(Box<timer::TimerRun>),
    /// Cannot run: load errors, masked, not found, or a type bosun does not run yet.
    Inert {
        reason: String,
    },
}

/// The units and their jobs.
pub struct Engine {
    settings: Settings,
    units: BTreeMap<String, Entry>,
    aliases: BTreeMap<String, String>,
    graph: Graph,
    runtime: BTreeMap<String, Runtime>,
    pids: HashMap<i32, String>,
    jobs: JobQueue,
    system: System,
    pipes: Vec<Pipe>,
    notes: Vec<Note>,
    /// Warnings about unit files already said: a daemon-reload (an installer's every
    /// `systemctl enable`) does not repeat them for files that did not change.
    said: std::collections::HashSet<String>,
    /// Children of PID 1 that are no unit's (the main command): never guessed as a daemon.
    outsiders: BTreeSet<i32>,
    /// The process table of this round (one call from PID 1's loop), read at most once:
    /// stopping 100 units asks 100 times which processes each has.
    table: Option<procs::Table>,
    /// When each unit's state last changed (ms since the epoch), for `systemctl status`.
    changed: HashMap<String, u64>,
    /// How each unit's last job ended, for `systemctl start` to report.
    last_job: HashMap<String, JobResult>,
    /// The job queue was empty once: boot is over, and jobs queued later (by systemctl)
    /// do not make the system "starting" again.
    boot_over: bool,
    /// Accept=yes instances that serve a connection, and their socket.
    accepted_by: HashMap<String, String>,
    /// Units were loaded on demand since the last garbage collection
    /// ([`Engine::collect_garbage`]): collect at once.
    gc_due: bool,
    /// A unit changed or finished a job since then: collect within [`gc::INTERVAL`].
    gc_changed: bool,
    /// When the last collection ran.
    last_gc: Option<Instant>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("units", &self.units.len())
            .field("jobs", &self.jobs.len())
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Load the default target and everything it pulls in, plus `builtin` units given as
    /// (name, unit-file text): bosun's own services, wanted by the default target.
    pub fn load(settings: Settings, loader: &Loader, builtin: &[(String, String)]) -> Engine {
        let default = loader.default_target().to_string();
        let (mut units, aliases) = collect(loader, std::slice::from_ref(&default));
        for (name, text) in builtin {
            match parse_builtin(name, text) {
                Ok(loaded) => {
                    units.insert(name.clone(), Entry::Loaded(Box::new(loaded)));
                    wanted_by(&mut units, &default, name);
                }
                Err(why) => {
                    units.insert(name.clone(), Entry::Missing(why));
                }
            }
        }
        let graph = graph(&units, &aliases);
        let system = System::detect(&settings.root);
        let mut engine = Engine {
            settings,
            units: BTreeMap::new(),
            aliases,
            graph,
            runtime: BTreeMap::new(),
            pids: HashMap::new(),
            jobs: JobQueue::default(),
            system,
            pipes: Vec::new(),
            notes: Vec::new(),
            said: std::collections::HashSet::new(),
            outsiders: BTreeSet::new(),
            table: None,
            changed: HashMap::new(),
            last_job: HashMap::new(),
            boot_over: false,
            accepted_by: HashMap::new(),
            gc_due: false,
            gc_changed: false,
            last_gc: None,
        };
        for (name, entry) in units {
            let rt = engine.runtime_for(&name, &entry);
            engine.runtime.insert(name.clone(), rt);
            engine.units.insert(name, entry);
        }
        engine
    }

    fn runtime_for(&mut self, name: &str, entry: &Entry) -> Runtime {
        let loaded = match entry {
            Entry::Builtin { .. } => return Runtime::Target { active: false },
            Entry::Missing(why) => {
                return Runtime::Inert {
                    reason: why.clone(),
                };
            }
            Entry::Loaded(l) => l,
        };
        // Directives a container cannot or need not enforce (sandboxing, cgroup resource
        // control) are one line per unit at boot; `bosun verify` lists them one by one.
        let mut ignored: Vec<&str> = Vec::new();
        for d in &loaded.diagnostics {
            if let crate::unit::DiagnosticKind::Ignored(directive) = d.kind {
                if !ignored.contains(&directive) {
                    ignored.push(directive);
                }
                continue;
            }
            let text = d.to_string();
            if d.is_error() {
                self.notes.push(Note::Error(text));
            } else if self.said.insert(text.clone()) {
                self.notes.push(Note::Warning(text));
            }
        }
        if !ignored.is_empty() {
            let text = format!(
                "{name}: not enforced in a container: {}",
                ignored.join(", ")
            );
            if self.said.insert(text.clone()) {
                self.notes.push(Note::Info(text));
            }
        }
        match loaded.state {
            LoadState::Masked => {
                return Runtime::Inert {
                    reason: format!("Unit {name} is masked."),
                };
            }
            LoadState::Error => {
                return Runtime::Inert {
                    reason: format!("Unit {name} has a bad unit file (see the errors above)."),
                };
            }
            LoadState::Loaded => {}
        }
        match &loaded.unit.kind {
            UnitKind::Target => Runtime::Target { active: false },
            UnitKind::Service(section) => {
                if matches!(section.service_type, Some(ServiceType::Dbus)) {
                    self.notes.push(Note::Warning(format!(
                        "{name}: Type=dbus is supervised as Type=simple (no D-Bus activation in a container)"
                    )));
                }
                let u = &loaded.unit.unit;
                let spec = Spec::from_section(
                    section,
                    (
                        u.start_limit_interval.and_then(|t| t.finite()),
                        u.start_limit_burst,
                    ),
                    &self.settings.defaults,
                );
                Runtime::Service(Box::new(ServiceRun {
                    svc: Service::new(spec),
                    section: (**section).clone(),
                    identity: None,
                    invocation_id: String::new(),
                    cgroup: None,
                    sessions: BTreeSet::new(),
                    run_env: Vec::new(),
                    timer: None,
                    watchdog: None,
                    connection: None,
                    setup_failed: None,
                    exec_main_pid: None,
                    execs: Vec::new(),
                }))
            }
            UnitKind::Socket(section) => {
                Runtime::Socket(Box::new(SocketRun::new((**section).clone())))
            }
            UnitKind::Timer(section) => self.timer_runtime(name, section),
            UnitKind::Unsupported { unit_type, .. } => Runtime::Inert {
                reason: format!("{name}: .{unit_type} units are not supported by bosun"),
            },
        }
    }

    /// `pid` is PID 1's main command: a child that belongs to no unit.
    pub fn note_outsider(&mut self, pid: i32) {
        self.outsiders.insert(pid);
    }

    /// The notes gathered since the last call (load diagnostics, starts, failures).
    pub fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.notes)
    }

    /// The log pipes opened since the last call.
    pub fn take_pipes(&mut self) -> Vec<Pipe> {
        std::mem::take(&mut self.pipes)
    }

    /// The canonical name of `unit` (aliases resolved).
    pub fn canonical(&self, unit: &str) -> String {
        self.aliases
            .get(unit)
            .cloned()
            .unwrap_or_else(|| unit.to_owned())
    }

    /// The active state of `unit` as systemctl names it.
    pub fn active_state(&self, unit: &str) -> Active {
        match self.runtime.get(&self.canonical(unit)) {
            Some(Runtime::Service(run)) => run.svc.state().active(),
            Some(Runtime::Target { active: true }) => Active::Active,
            Some(Runtime::Socket(run)) => run.state.active(),
            Some(Runtime::Timer(t)) => t.active(),
            _ => Active::Inactive,
        }
    }

    /// Queue a start or stop of `unit` and run what can run.
    pub fn request(
        &mut self,
        unit: &str,
        kind: JobKind,
        now: Instant,
    ) -> Result<(), TransactionError> {
        self.request_with(unit, kind, false, now)
    }

    /// [`Self::request`]; with `alone`, no dependency is pulled in
    /// (`--job-mode=ignore-dependencies`).
    pub fn request_with(
        &mut self,
        unit: &str,
        kind: JobKind,
        alone: bool,
        now: Instant,
    ) -> Result<(), TransactionError> {
        self.table = None;
        self.queue(unit, kind, alone)?;
        self.dispatch(now);
        Ok(())
    }

    /// Build the transaction for `unit` and add its jobs, without running any.
    fn queue(&mut self, unit: &str, kind: JobKind, alone: bool) -> Result<(), TransactionError> {
        let unit = self.canonical(unit);
        let runtime = &self.runtime;
        let active = |u: &str| match runtime.get(u) {
            Some(Runtime::Service(run)) => {
                matches!(run.svc.state().active(), Active::Active | Active::Reloading)
            }
            Some(Runtime::Target { active }) => *active,
            Some(Runtime::Socket(run)) => run.state.active() == Active::Active,
            Some(Runtime::Timer(t)) => t.active() == Active::Active,
            _ => false,
        };
        let tx = if alone {
            crate::manager::transaction::build_alone(&self.graph, &unit, kind)?
        } else {
            build(&self.graph, &unit, kind, &active)?
        };
        for note in &tx.notes {
            self.notes.push(Note::Warning(note.clone()));
        }
        for canceled in self.jobs.add(tx) {
            self.notes
                .push(Note::Info(format!("Job for {canceled} canceled.")));
        }
        Ok(())
    }

    /// Stop every unit that is not inactive, in reverse dependency order (shutdown).
    /// The stop jobs are all queued first and dispatched once, against one reading of the
    /// process table: stopping N units costs one pass, not N (shutdown within the timeout).
    pub fn stop_all(&mut self, now: Instant) {
        self.table = None;
        self.jobs.cancel_waiting();
        let names: Vec<String> = self.runtime.keys().cloned().collect();
        for name in names {
            if self.active_state(&name) != Active::Inactive
                && let Err(e) = self.queue(&name, JobKind::Stop, false)
            {
                self.notes.push(Note::Error(format!("{name}: {e}")));
            }
        }
        self.dispatch(now);
    }

    /// Whether every service is down and no job waits (shutdown can go on).
    pub fn all_stopped(&self) -> bool {
        self.jobs.is_empty()
            && self.runtime.values().all(|rt| match rt {
                Runtime::Service(run) => matches!(
                    run.svc.state(),
                    State::Dead | State::Failed | State::AutoRestart
                ),
                _ => true,
            })
    }

    /// Whether no job is left (the boot's units are up, hooks and the main command may go).
    pub fn settled(&self) -> bool {
        self.jobs.is_empty()
    }

    /// Whether boot has finished: the job queue emptied once (systemd's
    /// MANAGER_IS_FINISHED; `is-system-running` says `starting` until then only).
    pub fn boot_finished(&self) -> bool {
        self.boot_over || self.jobs.is_empty()
    }

    /// The earliest timer of any unit.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.runtime
            .values()
            .filter_map(|rt| match rt {
                Runtime::Service(run) => [run.timer, run.watchdog].into_iter().flatten().min(),
                Runtime::Timer(t) => t.deadline(),
                _ => None,
            })
            .min()
    }

    /// Fire every timer due at `now`.
    pub fn on_time(&mut self, now: Instant) {
        self.table = None;
        self.elapse_timers(now);
        let due: Vec<(String, bool)> = self
            .runtime
            .iter()
            .filter_map(|(name, rt)| match rt {
                Runtime::Service(run) => {
                    if run.timer.is_some_and(|t| t <= now) {
                        Some((name.clone(), false))
                    } else if run.watchdog.is_some_and(|t| t <= now) {
                        Some((name.clone(), true))
                    } else {
                        None
                    }
                }
                _ => None,
            })
            .collect();
        for (name, watchdog) in due {
            if let Some(Runtime::Service(run)) = self.runtime.get_mut(&name) {
                if watchdog {
                    run.watchdog = None;
                    let limit = run.svc.spec().watchdog.map_or_else(String::new, |d| {
                        format!(" (limit {})", crate::init::humanize(d))
                    });
                    self.notes
                        .push(Note::Error(format!("{name}: Watchdog timeout{limit}!")));
                } else {
                    run.timer = None;
                }
            }
            // A stop stage ending: maybe everything is gone by now.
            self.check_empty(&name, now);
            // An automatic restart is a new run: directories, credentials, INVOCATION_ID.
            if !watchdog && self.state_of(&name) == Some(State::AutoRestart) {
                self.prepare_or_fail(&name);
            }
            let event = if watchdog {
                Event::Watchdog
            } else {
                Event::Timer
            };
            self.feed(&name, event, now);
        }
        self.dispatch(now);
    }

    /// A process ended. Returns false when it belongs to no unit.
    pub fn on_exit(&mut self, pid: i32, termination: Termination, now: Instant) -> bool {
        self.table = None;
        let Some(unit) = self.pids.remove(&pid) else {
            return false;
        };
        if let Some(Runtime::Service(run)) = self.runtime.get_mut(&unit)
            && let Some(record) = run.execs.iter_mut().find(|r| r.pid == pid)
        {
            record.ended = Some(termination);
        }
        self.feed(&unit, Event::Exited { pid, termination }, now);
        self.dispatch(now);
        true
    }

    /// Orphans of units die too; after any reaping (and its calls to [`Self::on_exit`]), units
    /// waiting for emptiness re-check, against one reading of the process table.
    pub fn after_reaping(&mut self, now: Instant) {
        self.table = None;
        let waiting: Vec<String> = self
            .runtime
            .iter()
            .filter(|(_, rt)| {
                matches!(rt, Runtime::Service(run) if matches!(
                    run.svc.state(),
                    State::StopSigterm | State::StopSigkill | State::FinalSigterm | State::FinalSigkill
                ))
            })
            .map(|(n, _)| n.clone())
            .collect();
        for unit in waiting {
            self.check_empty(&unit, now);
        }
        self.dispatch(now);
    }

    /// A notification arrived; find its service by the sender's pid.
    pub fn on_notify(&mut self, message: Message, now: Instant) {
        self.table = None;
        let Some(sender) = message.sender else { return };
        let unit = match self.pids.get(&sender) {
            Some(u) => u.clone(),
            None => match self.unit_of_process(sender) {
                Some(u) => u,
                None => return,
            },
        };
        self.feed(
            &unit,
            Event::Notify {
                sender: Some(sender),
                notices: message.notices,
            },
            now,
        );
        self.dispatch(now);
    }

    /// The unit a process belongs to, by its cgroup or session.
    fn unit_of_process(&self, pid: i32) -> Option<String> {
        let sid = nix::unistd::getsid(Some(nix::unistd::Pid::from_raw(pid)))
            .ok()?
            .as_raw();
        self.runtime.iter().find_map(|(name, rt)| match rt {
            Runtime::Service(run) => {
                let by_cgroup = run
                    .cgroup
                    .as_ref()
                    .is_some_and(|c| c.pids().is_ok_and(|p| p.contains(&pid)));
                (by_cgroup || run.sessions.contains(&sid)).then(|| name.clone())
            }
            _ => None,
        })
    }

    /// Start every job that may run now.
    fn dispatch(&mut self, now: Instant) {
        loop {
            // A start waits while its service is still stopping (core/service.c
            // service_start() answers -EAGAIN then; the job runs once the unit is down).
            let runtime = &self.runtime;
            let ready = |unit: &str, kind: JobKind| {
                kind == JobKind::Stop
                    || !matches!(runtime.get(unit), Some(Runtime::Service(run))
                        if run.svc.state().active() == Active::Deactivating)
            };
            let runnable = self.jobs.take_runnable_when(ready);
            if runnable.is_empty() {
                return;
            }
            for (unit, kind) in runnable {
                self.run_job(&unit, kind, now);
            }
        }
    }

    fn run_job(&mut self, unit: &str, kind: JobKind, now: Instant) {
        match self.runtime.get_mut(unit) {
            Some(Runtime::Target { active }) => {
                let was = std::mem::replace(active, kind == JobKind::Start);
                if was != (kind == JobKind::Start) {
                    self.mark_changed(unit);
                }
                if kind == JobKind::Start {
                    self.notes.push(Note::Detail(format!(
                        "Reached target {}.",
                        self.describe(unit)
                    )));
                }
                self.finish_job(unit, JobResult::Done);
            }
            Some(Runtime::Inert { reason }) => {
                let reason = reason.clone();
                if kind == JobKind::Start {
                    self.notes.push(Note::Error(reason));
                    self.finish_job(unit, JobResult::Failed);
                } else {
                    self.finish_job(unit, JobResult::Done);
                }
            }
            Some(Runtime::Socket(_)) => match kind {
                JobKind::Start => self.start_socket(unit),
                JobKind::Stop => self.stop_socket(unit),
            },
            Some(Runtime::Timer(_)) => self.run_timer_job(unit, kind, now),
            Some(Runtime::Service(_)) => match kind {
                JobKind::Start => self.start_service(unit, now),
                JobKind::Stop => {
                    self.feed(unit, Event::Stop { for_restart: false }, now);
                    self.settle_job(unit);
                }
            },
            None => self.finish_job(unit, JobResult::Failed),
        }
    }

    fn start_service(&mut self, unit: &str, now: Instant) {
        if let Some(result) = self.conditions_fail(unit) {
            return self.finish_job(unit, result);
        }
        let state = match self.runtime.get(unit) {
            Some(Runtime::Service(run)) => run.svc.state(),
            _ => return,
        };
        if matches!(state.active(), Active::Active | Active::Reloading) {
            return self.finish_job(unit, JobResult::Done);
        }
        self.notes
            .push(Note::Info(format!("Starting {}...", self.describe(unit))));
        self.prepare_or_fail(unit);
        self.feed(unit, Event::Start, now);
        self.settle_job(unit);
    }

    /// Condition*= and Assert*= of a unit about to start: the job's result when one fails
    /// (skipped, or failed for an assertion), said in systemd's words.
    fn conditions_fail(&mut self, unit: &str) -> Option<JobResult> {
        let Some(Entry::Loaded(loaded)) = self.units.get(unit) else {
            return Some(JobResult::Failed);
        };
        let u = &loaded.unit.unit;
        let (note, result) =
            if let Verdict::Fail(why) = evaluate(&u.conditions, &self.system, "Condition") {
                (
                    Note::Info(format!(
                        "{unit}: condition check resulted in {why} being false; skipped"
                    )),
                    JobResult::Skipped,
                )
            } else if let Verdict::Fail(why) = evaluate(&u.asserts, &self.system, "Assert") {
                (
                    Note::Error(format!("{unit}: assertion {why} failed")),
                    JobResult::Failed,
                )
            } else {
                return None;
            };
        self.notes.push(note);
        Some(result)
    }

    /// Identity, cgroup, directories and credentials of a new run. A failure is said, and the
    /// run's first process then fails with systemd's exit status for it (217/USER,
    /// 243/CREDENTIALS, ...), so that the unit fails as under systemd and its Restart= applies.
    fn prepare_or_fail(&mut self, unit: &str) {
        if let Err((why, status)) = self.prepare_run(unit) {
            self.notes.push(Note::Error(format!("{unit}: {why}")));
            if let Some(Runtime::Service(run)) = self.runtime.get_mut(unit) {
                run.setup_failed = Some(status);
            }
        }
    }

    fn prepare_run(&mut self, unit: &str) -> Result<(), (String, i32)> {
        let spawn_err = |e: spawn::SpawnError| (error_chain(&e), e.exit_status());
        let root = self.settings.root.clone();
        let cgroups = self.settings.cgroups.clone();
        let Some(Runtime::Service(run)) = self.runtime.get_mut(unit) else {
            return Ok(());
        };
        let identity = match spawn::resolve_identity(&run.section.exec) {
            Ok(None) => self
                .settings
                .run_as
                .map(|(uid, gid)| spawn::host_identity(uid, gid)),
            other => other.map_err(spawn_err)?,
        };
        let mut env = spawn::make_directories(&run.section.exec, &root, identity.as_ref())
            .map_err(spawn_err)?;
        if let Some(cred) =
            spawn::write_credentials(unit, &run.section.exec, &root, identity.as_ref())
                .map_err(spawn_err)?
        {
            env.push(cred);
        }
        run.identity = identity;
        run.run_env = env;
        // A new run: the last one's commands are forgotten, as service_start() resets them.
        run.execs.clear();
        run.exec_main_pid = None;
        run.invocation_id = invocation_id();
        run.sessions.clear();
        run.cgroup = match &cgroups {
            Some(c) => Some(c.for_unit(unit).map_err(|e| (error_chain(&e), 219))?), // CGROUP
            None => None,
        };
        Ok(())
    }

    /// Feed `event` to `unit`'s machine and carry out the actions, feeding back their answers.
    fn feed(&mut self, unit: &str, event: Event, now: Instant) {
        let mut queue = std::collections::VecDeque::from([event]);
        let before = self.state_of(unit);
        while let Some(event) = queue.pop_front() {
            let Some(Runtime::Service(run)) = self.runtime.get_mut(unit) else {
                return;
            };
            let actions = run.svc.handle(event, now);
            for action in actions {
                if let Some(answer) = self.execute(unit, action) {
                    queue.push_back(answer);
                }
            }
        }
        self.track_main_pid(unit);
        let after = self.state_of(unit);
        if before != after {
            self.mark_changed(unit);
            self.report_transition(unit, before, after);
        }
        self.settle_job(unit);
        if before != after {
            self.socket_service_changed(unit);
        }
    }

    /// A main PID the service named itself (MAINPID=) is routed to it from now on: its exit
    /// reaches the machine, and its session counts as the unit's.
    fn track_main_pid(&mut self, unit: &str) {
        let Some(Runtime::Service(run)) = self.runtime.get_mut(unit) else {
            return;
        };
        let Some(pid) = run.svc.main_pid() else {
            return;
        };
        if self.pids.contains_key(&pid) {
            return;
        }
        if let Ok(sid) = nix::unistd::getsid(Some(nix::unistd::Pid::from_raw(pid))) {
            run.sessions.insert(sid.as_raw());
        }
        self.pids.insert(pid, unit.to_owned());
    }

    fn state_of(&self, unit: &str) -> Option<State> {
        match self.runtime.get(unit) {
            Some(Runtime::Service(run)) => Some(run.svc.state()),
            _ => None,
        }
    }

    fn report_transition(&mut self, unit: &str, before: Option<State>, after: Option<State>) {
        self.timers_see_transition(unit, before.map(State::active), after.map(State::active));
        if matches!(
            after,
            Some(State::Dead | State::Failed | State::AutoRestart)
        ) {
            self.remove_runtime_directories(unit, after == Some(State::AutoRestart));
        }
        let desc = self.describe(unit);
        let Some(Runtime::Service(run)) = self.runtime.get(unit) else {
            return;
        };
        let outcome = run.svc.outcome().name();
        let job = self.jobs.job(unit).map(|(kind, _)| kind);
        let on_failure: Vec<String> = match (before, after) {
            (_, Some(State::Running | State::Exited))
                if before
                    .is_none_or(|b| !matches!(b.active(), Active::Active | Active::Reloading)) =>
            {
                self.notes.push(Note::Info(format!("Started {desc}.")));
                Vec::new()
            }
            (_, Some(State::Failed)) => {
                if outcome == "start-limit-hit" {
                    self.notes.push(Note::Error(format!(
                        "{unit}: Start request repeated too quickly."
                    )));
                }
                self.notes.push(Note::Error(format!(
                    "{unit}: Failed with result '{outcome}'."
                )));
                // As systemd words its jobs: a failed start, a stop that ended in failure,
                // or (no job) a running service that failed on its own.
                match job {
                    Some(JobKind::Start) => self
                        .notes
                        .push(Note::Error(format!("Failed to start {desc}."))),
                    Some(JobKind::Stop) => {
                        self.notes.push(Note::Info(format!("Stopped {desc}.")));
                    }
                    _ => {}
                }
                self.graph
                    .deps(unit)
                    .map(|d| d.on_failure.iter().cloned().collect())
                    .unwrap_or_default()
            }
            (_, Some(State::AutoRestart)) => {
                if outcome == "success" {
                    self.notes
                        .push(Note::Info(format!("{unit}: Deactivated successfully.")));
                } else {
                    self.notes.push(Note::Warning(format!(
                        "{unit}: Failed with result '{outcome}'."
                    )));
                }
                self.notes.push(Note::Info(format!(
                    "{unit}: Scheduled restart job, restart counter is at {}.",
                    run.svc.restarts() + 1
                )));
                Vec::new()
            }
            (Some(b), Some(State::Dead)) if b != State::Dead => {
                if run.svc.condition_skipped() {
                    self.notes
                        .push(Note::Info(format!("{unit}: skipped by ExecCondition=.")));
                } else if job == Some(JobKind::Start) {
                    // A oneshot without RemainAfterExit= that ran to completion.
                    self.notes.push(Note::Info(format!("Finished {desc}.")));
                } else if job.is_none() {
                    // It ended on its own, successfully.
                    self.notes
                        .push(Note::Info(format!("{unit}: Deactivated successfully.")));
                } else {
                    self.notes.push(Note::Info(format!("Stopped {desc}.")));
                }
                Vec::new()
            }
            _ => Vec::new(),
        };
        if matches!(after, Some(State::Dead | State::Failed)) && job != Some(JobKind::Stop) {
            self.stop_bound(unit);
        }
        for other in on_failure {
            if let Err(e) = self.request(&other, JobKind::Start, Instant::now()) {
                self.notes
                    .push(Note::Error(format!("{unit}: OnFailure={other}: {e}")));
            }
        }
    }

    /// BindsTo=: units bound to `unit`, which went inactive on its own, stop too.
    fn stop_bound(&mut self, unit: &str) {
        let bound: Vec<String> = self
            .graph
            .units()
            .filter(|other| {
                self.graph
                    .deps(other)
                    .is_some_and(|d| d.binds_to.contains(unit))
            })
            .filter(|other| match self.runtime.get(*other) {
                Some(Runtime::Service(run)) => !matches!(
                    run.svc.state().active(),
                    Active::Inactive | Active::Failed | Active::Deactivating
                ),
                Some(Runtime::Target { active }) => *active,
                Some(Runtime::Socket(run)) => run.state.active() == Active::Active,
                Some(Runtime::Timer(t)) => t.active() == Active::Active,
                Some(Runtime::Inert { .. }) | None => false,
            })
            .filter(|other| {
                self.jobs
                    .job(other)
                    .is_none_or(|(kind, _)| kind != JobKind::Stop)
            })
            .map(str::to_owned)
            .collect();
        for other in bound {
            self.notes.push(Note::Info(format!(
                "{other}: Unit is bound to inactive unit {unit}. Stopping, too."
            )));
            if let Err(e) = self.request(&other, JobKind::Stop, Instant::now()) {
                self.notes.push(Note::Error(format!("{other}: {e}")));
            }
        }
    }

    /// RuntimeDirectory= goes when the service stops (systemd.exec(5)): always with
    /// RuntimeDirectoryPreserve=no (the default), not across restarts with `restart`, never
    /// with `yes`.
    fn remove_runtime_directories(&mut self, unit: &str, restarting: bool) {
        let Some(Runtime::Service(run)) = self.runtime.get(unit) else {
            return;
        };
        let exec = &run.section.exec;
        let keep = match exec.runtime_directory_preserve.as_deref() {
            Some("yes") => true,
            Some("restart") => restarting,
            _ => false,
        };
        if keep {
            return;
        }
        for name in &exec.runtime_directory {
            let dir = self.settings.root.join("run").join(name);
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => self.notes.push(Note::Warning(format!(
                    "{unit}: cannot remove RuntimeDirectory {}: {e}",
                    dir.display()
                ))),
            }
        }
    }

    /// Finish `unit`'s job if its state answers it.
    fn settle_job(&mut self, unit: &str) {
        let Some((kind, true)) = self.jobs.job(unit) else {
            return;
        };
        let Some(Runtime::Service(run)) = self.runtime.get(unit) else {
            return;
        };
        let state = run.svc.state();
        let result = match (kind, state) {
            (JobKind::Start, State::Running | State::Exited) => JobResult::Done,
            (JobKind::Start, State::Dead) if run.svc.condition_skipped() => JobResult::Skipped,
            (JobKind::Start, State::Dead) => JobResult::Done,
            (JobKind::Start, State::Failed | State::AutoRestart) => JobResult::Failed,
            (JobKind::Stop, State::Dead | State::Failed) => JobResult::Done,
            _ => return,
        };
        self.finish_job(unit, result);
    }

    fn finish_job(&mut self, unit: &str, result: JobResult) {
        let finished = self.jobs.finish(unit, result);
        self.boot_over |= self.jobs.is_empty();
        self.gc_changed = true;
        for (u, kind, r) in finished {
            self.timers_see_job_end(&u);
            // A start that ended without running (skipped, failed before any process):
            // its Accept=no sockets listen again.
            if kind == JobKind::Start && r != JobResult::Done {
                self.socket_service_changed(&u);
            }
            self.last_job.insert(u.clone(), r);
            if r == JobResult::Dependency {
                self.notes.push(Note::Error(format!(
                    "Dependency failed for {}: job {u}/{} ended with result 'dependency'.",
                    self.describe(&u),
                    kind.name()
                )));
            }
        }
    }

    fn describe(&self, unit: &str) -> String {
        self.units
            .get(unit)
            .and_then(|e| e.description().map(str::to_owned))
            .unwrap_or_else(|| unit.to_owned())
    }

    /// Carry out one action; the answer to feed back, if it has one.
    fn execute(&mut self, unit: &str, action: Action) -> Option<Event> {
        match action {
            Action::Spawn { phase, index, main } => Some(self.spawn(unit, phase, index, main)),
            Action::Signal { target, signo } => {
                self.signal(unit, target, signo);
                None
            }
            Action::FindMainPid => Some(Event::MainPid(self.find_main_pid(unit))),
            Action::Timer(at) => {
                if let Some(Runtime::Service(run)) = self.runtime.get_mut(unit) {
                    run.timer = at;
                }
                None
            }
            Action::Watchdog(at) => {
                if let Some(Runtime::Service(run)) = self.runtime.get_mut(unit) {
                    run.watchdog = at;
                }
                None
            }
        }
    }

    fn spawn(&mut self, unit: &str, phase: Phase, index: usize, main: bool) -> Event {
        // The main command is handed the unit's sockets (sd_listen_fds(3)).
        let sockets = if phase == Phase::Start {
            self.sockets_for(unit)
        } else {
            Vec::new()
        };
        let root = self.settings.root.clone();
        let notify = self.settings.notify_address.clone();
        let manager_env = self.settings.environment.clone();
        let Some(Runtime::Service(run)) = self.runtime.get_mut(unit) else {
            return Event::SpawnFailed {
                errno: libc::EINVAL,
            };
        };
        let list = match phase {
            Phase::Condition => &run.section.exec_condition,
            Phase::StartPre => &run.section.exec_start_pre,
            Phase::Start => &run.section.exec_start,
            Phase::StartPost => &run.section.exec_start_post,
            Phase::Reload => &run.section.exec_reload,
            Phase::Stop => &run.section.exec_stop,
            Phase::StopPost => &run.section.exec_stop_post,
        };
        let Some(command) = list.get(index) else {
            return Event::SpawnFailed {
                errno: libc::EINVAL,
            };
        };
        if let Some(status) = run.setup_failed.take() {
            return Event::SetupFailed { status };
        }
        let spec_kind = run.svc.spec().kind;
        let facts = environment::RunFacts {
            invocation_id: &run.invocation_id,
            notify_address: &notify,
            remote: run
                .connection
                .as_ref()
                .and_then(|(_, peer)| peer.as_ref())
                .map(|(addr, port)| (addr.as_str(), *port)),
            prepared: &run.run_env,
        };
        let env = environment::for_command(&run.svc, phase, main, &facts);
        let process_env = |name: &str| std::env::var(name).ok();
        let launch = Launch {
            unit,
            exec: &run.section.exec,
            root: &root,
            manager_env: &manager_env,
            unit_env: &env,
            process_env: &process_env,
            identity: run.identity.as_ref(),
            cgroup: run.cgroup.as_ref().map(|c| c.procs_file().clone()),
            sockets: &sockets,
            connection: run
                .connection
                .as_ref()
                .filter(|_| phase == Phase::Start)
                .map(|(fd, _)| fd),
        };
        match spawn::spawn(command, &launch) {
            Ok(spawned) => {
                run.sessions.insert(spawned.pid);
                // A oneshot's ExecStart= processes are its main process to systemd, one after
                // the other (ExecMainPID, `Main PID:`), though nothing waits for them as one.
                if main || (phase == Phase::Start && spec_kind == ServiceType::Oneshot) {
                    run.exec_main_pid = Some(spawned.pid);
                }
                run.execs.retain(|r| (r.phase, r.index) != (phase, index));
                run.execs.push(ExecRecord {
                    phase,
                    index,
                    argv: command.argv.join(" "),
                    pid: spawned.pid,
                    ended: None,
                });
                self.pids.insert(spawned.pid, unit.to_owned());
                for w in spawned.warnings {
                    self.notes.push(Note::Warning(format!("{unit}: {w}")));
                }
                for (stream, fd) in [
                    (Stream::Stdout, spawned.stdout),
                    (Stream::Stderr, spawned.stderr),
                ] {
                    if let Some(fd) = fd {
                        self.pipes.push(Pipe {
                            unit: unit.to_owned(),
                            ident: run.section.exec.syslog_identifier.clone(),
                            pid: spawned.pid,
                            stream,
                            fd,
                        });
                    }
                }
                Event::Spawned { pid: spawned.pid }
            }
            Err(e) => {
                self.notes.push(Note::Error(format!(
                    "{unit}: Failed to execute {}: {}",
                    command.path,
                    error_chain(&e)
                )));
                Event::SpawnFailed { errno: e.errno() }
            }
        }
    }

    /// The unit's processes other than main and control; `table` is read when it is needed
    /// (no cgroup), once for all the units asked about in one round.
    fn rest(
        run: &ServiceRun,
        table: &mut Option<procs::Table>,
        runtime: &BTreeMap<String, Runtime>,
    ) -> Vec<i32> {
        let claimed = || {
            runtime
                .values()
                .filter_map(|rt| match rt {
                    Runtime::Service(run) => Some(run.sessions.iter().copied()),
                    _ => None,
                })
                .flatten()
                .collect()
        };
        procs::rest(&run.tracked(), table, claimed)
    }

    fn signal(&mut self, unit: &str, target: Target, signo: i32) {
        let Some(Runtime::Service(run)) = self.runtime.get(unit) else {
            return;
        };
        let pids: Vec<i32> = match target {
            Target::Main => run.svc.main_pid().into_iter().collect(),
            Target::Control => run.svc.control_pid().into_iter().collect(),
            Target::Rest => Self::rest(run, &mut self.table, &self.runtime),
        };
        for pid in pids {
            let _ = crate::sys::send_signal(pid, signo);
        }
    }

    /// Feed Empty when the unit has no process left.
    fn check_empty(&mut self, unit: &str, now: Instant) {
        let Some(Runtime::Service(run)) = self.runtime.get(unit) else {
            return;
        };
        let empty = run.svc.main_pid().is_none()
            && run.svc.control_pid().is_none()
            && match &run.cgroup {
                Some(cg) => !cg.populated().unwrap_or(false),
                None => Self::rest(run, &mut self.table, &self.runtime).is_empty(),
            };
        if empty {
            self.feed(unit, Event::Empty, now);
        }
    }

    /// A daemon that left its session and its environment behind (apache2 under Debian's
    /// `apachectl`, which runs httpd with `env -i`) is still found: it was adopted by PID 1.
    /// The one live child of bosun that no unit owns, if there is exactly one.
    fn adopted_orphan(&self) -> Option<i32> {
        procs::adopted_orphan(|pid| {
            self.pids.contains_key(&pid)
                || self.runtime.values().any(|rt| {
                    matches!(rt, Runtime::Service(run) if run.sessions.contains(&pid)
                        || run.svc.main_pid() == Some(pid))
                })
                || self.outsiders.contains(&pid)
        })
    }

    /// Read PIDFile=, or guess the main process: the only process of the unit.
    fn find_main_pid(&mut self, unit: &str) -> Option<i32> {
        let root = self.settings.root.clone();
        let Some(Runtime::Service(run)) = self.runtime.get(unit) else {
            return None;
        };
        let rest = match (&run.section.pid_file, run.section.guess_main_pid) {
            (None, guess) if guess != Some(false) => {
                Self::rest(run, &mut self.table, &self.runtime)
            }
            _ => Vec::new(),
        };
        let source = match &run.section.pid_file {
            Some(path) => procs::MainPidSource::PidFile { path, root: &root },
            None if run.section.guess_main_pid != Some(false) => procs::MainPidSource::Guess {
                rest: &rest,
                table: self.table.as_ref(),
            },
            None => procs::MainPidSource::None,
        };
        let pid = procs::find_main_pid(source, || self.adopted_orphan());
        if let (Some(pid), Some(Runtime::Service(run))) = (pid, self.runtime.get_mut(unit)) {
            if let Ok(sid) = nix::unistd::getsid(Some(nix::unistd::Pid::from_raw(pid))) {
                run.sessions.insert(sid.as_raw());
            }
            self.pids.insert(pid, unit.to_owned());
        }
        pid
    }
}

/// Parse a built-in unit's text as if it were a file called `(built-in)/NAME`.
fn parse_builtin(name: &str, text: &str) -> Result<crate::unit::LoadedUnit, String> {
    let unit_name = crate::unit::UnitName::parse(name).map_err(|e| e.to_string())?;
    let ctx = crate::unit::SpecifierContext::from_system(std::path::Path::new("/"));
    let mut unit = crate::unit::Unit::new(unit_name.clone());
    let path = PathBuf::from(format!("(built-in)/{name}"));
    let mut applier = crate::unit::apply::Applier::new(&ctx, &unit_name, Some(&path));
    applier.apply_file(&mut unit, &path, text.as_bytes());
    let mut diagnostics = applier.diagnostics;
    diagnostics.extend(crate::unit::apply::check_unit(&unit, &path));
    let state = if diagnostics.iter().any(crate::unit::Diagnostic::is_error) {
        LoadState::Error
    } else {
        LoadState::Loaded
    };
    Ok(crate::unit::LoadedUnit {
        name: unit_name,
        aliases: Vec::new(),
        fragment: None,
        masked_by: None,
        dropins: Vec::new(),
        state,
        unit,
        diagnostics,
        wants: Vec::new(),
        requires: Vec::new(),
        upholds: Vec::new(),
    })
}

/// Make `target` want `unit` (as an enablement link would).
fn wanted_by(units: &mut BTreeMap<String, Entry>, target: &str, unit: &str) {
    match units.get_mut(target) {
        Some(Entry::Builtin { wants, .. }) => wants.push(unit.to_owned()),
        Some(Entry::Loaded(l)) => {
            if let Ok(n) = crate::unit::UnitName::parse(unit) {
                l.wants.push(n);
            }
        }
        _ => {}
    }
}

/// A 128-bit random id in hex, as systemd's INVOCATION_ID.
fn invocation_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        let t = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        bytes = t.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An error with its causes, `a: b: c`.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
