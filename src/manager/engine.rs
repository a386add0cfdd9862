//! The engine that runs units, as systemd's core/manager.c: it loads the boot set, turns
//! requests into transactions, dispatches their jobs to the units' types, routes events
//! (reaped processes, notifications, the time) to the unit they concern, and reports what
//! happened. Synchronous: the event loop in [`crate::init`] calls it and reads its log pipes.
//!
//! Each unit type is a module behind `UnitType` (systemd's unit vtable, in `unit_type.rs`):
//! `service`, `socket`, `timer`, `path`, `target`, `mount`, `slice` (and `Inert`, a unit that
//! cannot run; systemd's own units that bosun provides or does not run are `provided.rs`'s). What a unit is
//! made to do is its type's: besides making a unit's run-time part at load, this file matches
//! on the type only to dispatch a job (`run_job`) or a process's end (`on_exit`) to it.
//!
//! Job timeouts (JobTimeoutSec=, JobTimeoutAction=) are `job_timer.rs`'s; stopping every unit
//! at shutdown, ordered and bounded, is `shutdown.rs`'s.

mod gc;
mod job_timer;
mod mount;
mod path;
pub mod provided;
mod query;
mod requests;
mod service;
mod shutdown;
mod slice;
mod socket;
mod target;
mod timer;
mod unit_type;

#[cfg(test)]
mod tests;
pub use job_timer::UnitAction;
use mount::MountRun;
use path::PathRun;
use provided::ProvidedRun;
pub use query::{
    ExecSnapshot, LoadStatus, PathFacts, Refusal, RefusalReason, Tracking, UnitSnapshot, now_ms,
};
pub use requests::Whom;
use service::ServiceRun;
use slice::SliceRun;
use socket::SocketRun;
pub use socket::service_of;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::Instant;
use target::TargetRun;
use timer::TimerRun;
use unit_type::{Inert, UnitType};

use super::condition::System;
use super::graph::Graph;
use super::jobs::{JobQueue, JobResult};
use super::transaction::{JobKind, TransactionError, build};
use super::units::{Entry, collect, graph};
use crate::journal::pipe::Pipe;
use crate::journal::policy::LogPolicy;
use crate::service::cgroup::Cgroups;
use crate::service::notify::Message;
use crate::service::procs;
use crate::service::state::{Active, Defaults, Event};
use crate::unit::load::{LoadState, Loader};
use crate::unit::model::UnitKind;
use crate::vocab::termination::Termination;

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
    /// The kernel's mount table (/proc/self/mountinfo), read at load and daemon-reload for the
    /// mount units; None: no mount units from it.
    pub mountinfo: Option<PathBuf>,
    /// PID 1's keeper socket's write end, when services have no cgroup: a Type=forking
    /// service's commands run under a keeper ([`crate::sys::Keeper`]).
    pub keeper: Option<std::os::fd::OwnedFd>,
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

/// A unit's run-time part, by its type (systemd's Unit with its type's data). What the engine
/// asks of every type is [`UnitType`]; each type's module owns its arms.
enum UnitRun {
    Service(Box<ServiceRun>),
    Target(TargetRun),
    Socket(Box<SocketRun>),
    Timer(Box<TimerRun>),
    Mount(MountRun),
    Slice(SliceRun),
    Path(Box<PathRun>),
    /// One of systemd's own units that bosun provides or does not run (`provided.rs`).
    Provided(ProvidedRun),
    /// Cannot run: load errors, masked, not found, or a type bosun does not run yet.
    Inert(Inert),
}

impl UnitRun {
    /// The unit's type, for what every type answers.
    fn unit(&self) -> &dyn UnitType {
        match self {
            UnitRun::Service(run) => &**run,
            UnitRun::Target(run) => run,
            UnitRun::Socket(run) => &**run,
            UnitRun::Timer(run) => &**run,
            UnitRun::Path(run) => &**run,
            UnitRun::Mount(run) => run,
            UnitRun::Slice(run) => run,
            UnitRun::Provided(run) => run,
            UnitRun::Inert(run) => run,
        }
    }

    /// [`Self::unit`], to change it.
    fn unit_mut(&mut self) -> &mut dyn UnitType {
        match self {
            UnitRun::Service(run) => &mut **run,
            UnitRun::Target(run) => run,
            UnitRun::Socket(run) => &mut **run,
            UnitRun::Timer(run) => &mut **run,
            UnitRun::Mount(run) => run,
            UnitRun::Slice(run) => run,
            UnitRun::Path(run) => &mut **run,
            UnitRun::Provided(run) => run,
            UnitRun::Inert(run) => run,
        }
    }
}

/// The units and their jobs.
pub struct Engine {
    settings: Settings,
    units: BTreeMap<String, Entry>,
    aliases: BTreeMap<String, String>,
    graph: Graph,
    runtime: BTreeMap<String, UnitRun>,
    pids: HashMap<i32, String>,
    /// Keepers running (their pid → their unit): what they adopted is the unit's.
    keepers: HashMap<i32, String>,
    /// The mount namespaces of running commands, held open from their spawn to their exit so
    /// that the exiting process does not take the namespace down (an unmount of every mount
    /// and an RCU grace period before its parent hears of the exit): the janitor closes them.
    namespaces: HashMap<i32, std::os::fd::OwnedFd>,
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
    /// The mount table as last read (load, daemon-reload), for the mount units.
    mounts: crate::manager::tracked::MountTable,
    /// Dispatches so far: path units follow their units once per dispatch (`path.rs`).
    path_round: u64,
    /// Every unit is being stopped (`stop_all`): nothing starts, every stop is bounded.
    shutdown: Option<shutdown::Shutdown>,
    /// JobTimeoutAction= calls for PID 1.
    actions: Vec<UnitAction>,
    /// How each unit's lines are shaped and limited in the journal (its logging directives),
    /// made when the unit is loaded; units without execution settings have none.
    log_policies: HashMap<String, std::sync::Arc<LogPolicy>>,
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
        let system = System::detect(&settings.root);
        let mut engine = Engine {
            settings,
            units: BTreeMap::new(),
            aliases,
            // Made once the mount table completed the units (below).
            graph: Graph::default(),
            runtime: BTreeMap::new(),
            pids: HashMap::new(),
            keepers: HashMap::new(),
            namespaces: HashMap::new(),
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
            mounts: crate::manager::tracked::MountTable::default(),
            path_round: 0,
            shutdown: None,
            actions: Vec::new(),
            log_policies: HashMap::new(),
        };
        engine.mounts = engine.read_mount_table();
        crate::manager::tracked::complete(&mut units, &engine.mounts, true);
        engine.graph = graph(&units, &engine.aliases);
        for (name, entry) in units {
            let rt = engine.runtime_for(&name, &entry);
            // Mounts of the table and the perpetual slices are active from the start.
            if rt.unit().active() == Active::Active {
                engine.mark_changed(&name);
            }
            engine.runtime.insert(name.clone(), rt);
            engine.units.insert(name, entry);
        }
        engine
    }

    fn runtime_for(&mut self, name: &str, entry: &Entry) -> UnitRun {
        let loaded = match entry {
            Entry::Builtin { .. } => return UnitRun::Target(TargetRun::default()),
            Entry::Missing(why) => return UnitRun::Inert(Inert::new(why.clone())),
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
        // The sandbox this container cannot apply: one line per unit, at boot (the unit still
        // starts when it only asks for protections that take something away).
        let exec = match &loaded.unit.kind {
            UnitKind::Service(section) => Some(&section.exec),
            UnitKind::Socket(section) => Some(&section.exec),
            _ => None,
        };
        let missing: Vec<String> = exec
            .map(|e| {
                [
                    crate::service::namespace::not_in_force(e, &self.settings.root),
                    crate::service::userns::not_in_force(e),
                    crate::service::netns::not_in_force(e),
                ]
            })
            .into_iter()
            .flatten()
            .flatten()
            .collect();
        if !missing.is_empty() {
            let text = format!(
                "{name}: not in force in this container: {}",
                missing.join("; ")
            );
            if self.said.insert(text.clone()) {
                self.notes.push(Note::Info(text));
            }
        }
        match loaded.state {
            LoadState::Masked => {
                return UnitRun::Inert(Inert::new(format!("Unit {name} is masked.")));
            }
            LoadState::Error => {
                return UnitRun::Inert(Inert::new(format!(
                    "Unit {name} has a bad unit file (see the errors above)."
                )));
            }
            LoadState::Loaded => {}
        }
        match exec {
            Some(exec) => {
                let policy = std::sync::Arc::new(LogPolicy::of(exec));
                self.log_policies.insert(name.to_owned(), policy);
            }
            None => {
                self.log_policies.remove(name);
            }
        }
        if let Some(policy) = provided::policy(name) {
            return UnitRun::Provided(ProvidedRun::new(policy, &loaded.unit.kind));
        }
        match &loaded.unit.kind {
            UnitKind::Target => UnitRun::Target(TargetRun::default()),
            UnitKind::Service(section) => self.service_runtime(name, section, &loaded.unit.unit),
            UnitKind::Socket(section) => {
                UnitRun::Socket(Box::new(SocketRun::new((**section).clone())))
            }
            UnitKind::Timer(section) => self.timer_runtime(name, section),
            UnitKind::Unsupported { unit_type, .. } => self.tracked_runtime(name, unit_type),
            UnitKind::Path(section) => self.path_runtime(name, section),
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
        self.runtime
            .get(&self.canonical(unit))
            .map_or(Active::Inactive, |rt| rt.unit().active())
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
        if kind == JobKind::Start && self.shutting_down() {
            return Err(TransactionError::ShuttingDown { unit });
        }
        let active = |u: &str| matches!(self.active_state(u), Active::Active | Active::Reloading);
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

    /// Whether every service is down (or given up on) and no job waits: shutdown can go on.
    pub fn all_stopped(&self) -> bool {
        self.jobs.is_empty()
            && self
                .runtime
                .iter()
                .all(|(name, rt)| rt.unit().stopped() || self.given_up(name))
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

    /// The earliest deadline of any unit or job.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.runtime
            .iter()
            // A timer due while a stop is pending does not elapse (nor wake the loop).
            .filter(|(name, rt)| !matches!(rt, UnitRun::Timer(_)) || !self.stop_pending(name))
            .filter_map(|(_, rt)| rt.unit().next_deadline())
            .chain(self.next_job_deadline())
            .min()
    }

    /// Fire every timer due at `now`.
    pub fn on_time(&mut self, now: Instant) {
        self.table = None;
        self.elapse_timers(now);
        self.fire_service_timers(now);
        self.fire_job_timers(now);
        self.dispatch(now);
    }

    /// A process ended. Returns false when it belongs to no unit.
    pub fn on_exit(&mut self, pid: i32, termination: Termination, now: Instant) -> bool {
        self.table = None;
        if let Some(namespace) = self.namespaces.remove(&pid) {
            crate::service::janitor::close(namespace);
        }
        if let Some(unit) = self.keepers.remove(&pid) {
            // Its last child is gone (reported before it exited): nothing to route.
            if let Some(UnitRun::Service(run)) = self.runtime.get_mut(&unit) {
                run.keepers.remove(&pid);
            }
            return true;
        }
        let Some(unit) = self.pids.remove(&pid) else {
            return false;
        };
        match self.runtime.get(&unit) {
            Some(UnitRun::Service(_)) => ServiceRun::on_exit(self, &unit, pid, termination, now),
            Some(UnitRun::Socket(_)) => SocketRun::on_exit(self, &unit, pid, termination, now),
            Some(UnitRun::Timer(_)) => TimerRun::on_exit(self, &unit, pid, termination, now),
            Some(UnitRun::Target(_)) => TargetRun::on_exit(self, &unit, pid, termination, now),
            Some(
                UnitRun::Mount(_)
                | UnitRun::Slice(_)
                | UnitRun::Path(_)
                | UnitRun::Provided(_)
                | UnitRun::Inert(_),
            )
            | None => {}
        }
        self.dispatch(now);
        true
    }

    /// A keeper reaped one of its children (the command it ran, or a process it adopted):
    /// routed by pid as PID 1's own reaping is, whether or not the keeper is still known (its
    /// last reports may be read after its own exit). Call [`Self::after_reaping`] after a
    /// batch.
    pub fn on_keeper_report(&mut self, report: crate::service::keeper::Report, now: Instant) {
        self.on_exit(report.pid, report.termination, now);
    }

    /// Orphans of units die too; after any reaping (and its calls to [`Self::on_exit`]), units
    /// waiting for emptiness re-check, against one reading of the process table.
    pub fn after_reaping(&mut self, now: Instant) {
        self.table = None;
        self.services_recheck_empty(now);
        self.dispatch(now);
    }

    /// The unit a process belongs to (a syslog line's sender): a pid the engine runs or
    /// tracks, else a live process of a service's session or cgroup. None once it is gone.
    pub fn unit_of_sender(&self, pid: i32) -> Option<String> {
        self.pids
            .get(&pid)
            .cloned()
            .or_else(|| self.unit_of_process(pid))
    }

    /// How the lines of `unit` are shaped and limited in the journal (SyslogIdentifier=,
    /// SyslogLevel=, LogLevelMax=, LogRateLimit*=, ...); None for a unit without execution
    /// settings or not loaded.
    pub fn log_policy(&self, unit: &str) -> Option<std::sync::Arc<LogPolicy>> {
        self.log_policies.get(unit).cloned()
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

    /// Start every job that may run now.
    fn dispatch(&mut self, now: Instant) {
        self.path_round += 1;
        self.jobs.stamp(now);
        loop {
            // A start waits while its service is still stopping (core/service.c
            // service_start() answers -EAGAIN then; the job runs once the unit is down).
            let runtime = &self.runtime;
            let ready = |unit: &str, kind: JobKind| {
                kind == JobKind::Stop
                    || runtime
                        .get(unit)
                        .is_none_or(|rt| rt.unit().active() != Active::Deactivating)
            };
            let runnable = self.jobs.take_runnable_when(ready);
            self.jobs.stamp(now);
            if runnable.is_empty() {
                if self.unstall(now) {
                    self.jobs.stamp(now);
                    continue;
                }
                // Path units follow their units once the jobs have run (and may queue more).
                if self.paths_follow_units(now) {
                    continue;
                }
                return;
            }
            for (unit, kind) in runnable {
                self.run_job(&unit, kind, now);
            }
        }
    }

    /// Run a job: its unit's type starts or stops it.
    fn run_job(&mut self, unit: &str, kind: JobKind, now: Instant) {
        match (self.runtime.get(unit), kind) {
            (Some(UnitRun::Service(_)), JobKind::Start) => ServiceRun::start(self, unit, now),
            (Some(UnitRun::Service(_)), JobKind::Stop) => ServiceRun::stop(self, unit, now),
            (Some(UnitRun::Socket(_)), JobKind::Start) => SocketRun::start(self, unit, now),
            (Some(UnitRun::Socket(_)), JobKind::Stop) => SocketRun::stop(self, unit, now),
            (Some(UnitRun::Timer(_)), JobKind::Start) => TimerRun::start(self, unit, now),
            (Some(UnitRun::Timer(_)), JobKind::Stop) => TimerRun::stop(self, unit, now),
            (Some(UnitRun::Target(_)), JobKind::Start) => TargetRun::start(self, unit, now),
            (Some(UnitRun::Target(_)), JobKind::Stop) => TargetRun::stop(self, unit, now),
            (Some(UnitRun::Mount(_)), JobKind::Start) => MountRun::start(self, unit, now),
            (Some(UnitRun::Mount(_)), JobKind::Stop) => MountRun::stop(self, unit, now),
            (Some(UnitRun::Slice(_)), JobKind::Start) => SliceRun::start(self, unit, now),
            (Some(UnitRun::Slice(_)), JobKind::Stop) => SliceRun::stop(self, unit, now),
            (Some(UnitRun::Path(_)), JobKind::Start) => PathRun::start(self, unit, now),
            (Some(UnitRun::Path(_)), JobKind::Stop) => PathRun::stop(self, unit, now),
            (Some(UnitRun::Provided(_)), JobKind::Start) => ProvidedRun::start(self, unit, now),
            (Some(UnitRun::Provided(_)), JobKind::Stop) => ProvidedRun::stop(self, unit, now),
            (Some(UnitRun::Inert(_)), JobKind::Start) => Inert::start(self, unit, now),
            (Some(UnitRun::Inert(_)), JobKind::Stop) => Inert::stop(self, unit, now),
            (None, _) => self.finish_job(unit, JobResult::Failed),
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
            .filter(|other| {
                !matches!(
                    self.active_state(other),
                    Active::Inactive | Active::Failed | Active::Deactivating
                )
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

pub use crate::log::error_chain;
