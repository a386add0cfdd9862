//! Read-only questions to the engine: units as systemctl shows them ([`UnitSnapshot`], in the
//! manager's own types), their jobs and results, which units systemd would keep loaded, and
//! why a job would be refused. Must not change anything (requests that do are in
//! [`super::requests`]) and must not speak the control socket's protocol: `init/answers.rs`
//! maps these types to it.

use std::collections::BTreeSet;
use std::time::SystemTime;

use super::{Engine, UnitRun, procs};
use crate::manager::transaction::JobKind;
use crate::manager::units::Entry;
use crate::service::state::Phase;
use crate::service::status::Active;
use crate::unit::load::LoadState;
use crate::unit::model::ServiceType;
use crate::vocab::termination::Termination;

/// Whether a unit could be loaded, as systemctl's LOAD column says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadStatus {
    Loaded,
    NotFound,
    Masked,
    BadSetting,
}

impl LoadStatus {
    /// systemd's word for it (`loaded`, `not-found`, `masked`, `bad-setting`).
    pub fn name(self) -> &'static str {
        match self {
            LoadStatus::Loaded => "loaded",
            LoadStatus::NotFound => "not-found",
            LoadStatus::Masked => "masked",
            LoadStatus::BadSetting => "bad-setting",
        }
    }
}

/// How a service's processes are told apart from others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracking {
    /// Its own cgroup.
    Cgroup,
    /// The sessions its processes lead.
    Session,
}

/// One command of the current run that has ended (systemd's ExecStatus).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecSnapshot {
    /// The command list it comes from (ExecStart=, ...).
    pub phase: Phase,
    /// Its argument vector, joined by spaces.
    pub argv: String,
    pub pid: i32,
    pub ended: Termination,
}

/// One unit as the engine knows it now, for `systemctl status/show/list-units`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitSnapshot {
    pub name: String,
    pub description: String,
    pub load: LoadStatus,
    /// Why it could not be loaded or run, when it cannot.
    pub load_error: Option<String>,
    pub fragment: Option<String>,
    /// SourcePath=: what the unit was generated from.
    pub source_path: Option<String>,
    /// Its aliases known so far (`Names=` but the unit's own name), sorted.
    pub aliases: Vec<String>,
    pub dropins: Vec<String>,
    pub active: Active,
    /// systemd's sub-state (`running`, `exited`, `dead`, `listening`, `waiting`, ...).
    pub sub_state: &'static str,
    /// `success`, `exit-code`, `signal`, `timeout`, `resources`, ...
    pub result: &'static str,
    pub main_pid: Option<i32>,
    pub control_pid: Option<i32>,
    /// Milliseconds since the Unix epoch of the last change of active state.
    pub since_ms: Option<u64>,
    pub restarts: u32,
    pub status_text: Option<String>,
    /// `Type=` of a service (simple when unset); None for other units.
    pub service_type: Option<ServiceType>,
    /// The job queued or running.
    pub job: Option<JobKind>,
    /// A service's process tracking.
    pub tracking: Option<Tracking>,
    /// Its live processes (main and control included).
    pub processes: Vec<i32>,
    /// How the last main process ended.
    pub main_exit: Option<Termination>,
    /// The last main process (ExecMainPID), alive or not.
    pub exec_main_pid: Option<i32>,
    /// The commands of this run that have ended, in systemd's order (ExecCondition= first).
    pub execs: Vec<ExecSnapshot>,
    pub wants: Vec<String>,
    pub requires: Vec<String>,
    pub after: Vec<String>,
    pub before: Vec<String>,
    pub requisite: Vec<String>,
    pub binds_to: Vec<String>,
    /// A socket's `Listen*=` lines as (type, address): `("Stream", "/run/foo.sock")`.
    pub listen: Vec<(String, String)>,
    /// An Accept=yes socket's connections: (accepted since start, live now).
    pub connections: Option<(u32, u32)>,
    /// A timer's next elapse, while it waits.
    pub next_elapse: Option<SystemTime>,
    /// A timer's last trigger, a Persistent= stamp's included.
    pub last_trigger: Option<SystemTime>,
    /// The units it triggers (a timer's Unit=, a socket's service), with their active state.
    pub triggers: Vec<(String, Active)>,
    /// The units that trigger it (timers, sockets, paths), with their active state.
    pub triggered_by: Vec<(String, Active)>,
    /// A mount unit's line of the mount table, while mounted.
    pub mount: Option<crate::manager::tracked::MountPoint>,
    /// A path unit's settings.
    pub path: Option<PathFacts>,
}

/// What a path unit watches and how (core/dbus-path.c properties).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathFacts {
    /// (condition, path) per line: `("PathExists", "/var/cache/cups/org.cups.cupsd")`.
    pub paths: Vec<(&'static str, String)>,
    pub make_directory: bool,
    pub directory_mode: u32,
    pub trigger_limit_interval: std::time::Duration,
    pub trigger_limit_burst: u32,
}

impl UnitSnapshot {
    /// A unit known by name only, before its type adds what it knows.
    pub fn new(name: String, description: String) -> UnitSnapshot {
        UnitSnapshot {
            name,
            description,
            load: LoadStatus::Loaded,
            load_error: None,
            fragment: None,
            source_path: None,
            aliases: Vec::new(),
            dropins: Vec::new(),
            active: Active::Inactive,
            sub_state: "dead",
            result: "success",
            main_pid: None,
            control_pid: None,
            since_ms: None,
            restarts: 0,
            status_text: None,
            service_type: None,
            job: None,
            tracking: None,
            processes: Vec::new(),
            main_exit: None,
            exec_main_pid: None,
            execs: Vec::new(),
            wants: Vec::new(),
            requires: Vec::new(),
            after: Vec::new(),
            before: Vec::new(),
            requisite: Vec::new(),
            binds_to: Vec::new(),
            listen: Vec::new(),
            connections: None,
            next_elapse: None,
            last_trigger: None,
            triggers: Vec::new(),
            triggered_by: Vec::new(),
            mount: None,
            path: None,
        }
    }
}

impl Engine {
    /// Every unit loaded, by name.
    pub fn unit_names(&self) -> Vec<String> {
        self.units.keys().cloned().collect()
    }

    /// Whether `unit` is known (loaded, or recorded as missing).
    pub fn is_known(&self, unit: &str) -> bool {
        self.units.contains_key(&self.canonical(unit))
    }

    /// Whether `unit` exists as a unit file (or a built-in target).
    pub fn exists(&self, unit: &str) -> bool {
        !matches!(
            self.units.get(&self.canonical(unit)),
            None | Some(Entry::Missing(_))
        )
    }

    /// The job queued or running for `unit`.
    pub fn job_of(&self, unit: &str) -> Option<crate::manager::transaction::JobKind> {
        self.jobs.job(&self.canonical(unit)).map(|(kind, _)| kind)
    }

    /// How `unit`'s last job ended; forgotten with [`Self::forget_job`].
    pub fn last_job(&self, unit: &str) -> Option<crate::manager::jobs::JobResult> {
        self.last_job.get(&self.canonical(unit)).copied()
    }

    /// Jobs queued or running.
    pub fn job_count(&self) -> usize {
        self.jobs.len()
    }

    /// The units that failed, of every type (systemd's n_failed_units: a failed socket,
    /// timer or mount makes the system degraded as a failed service does).
    pub fn failed_units(&self) -> Vec<String> {
        self.runtime
            .iter()
            .filter(|(_, rt)| rt.unit().active() == Active::Failed)
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// `root` and every unit it pulls in, transitively, through Requires=, Wants=,
    /// Requisite= and BindsTo= (enablement links and default dependencies included): what a
    /// start of `root` starts. Triggers (a timer's unit, a socket's service) are not pulled in.
    pub fn pulled_in_by(&self, root: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut next = vec![self.canonical(root)];
        while let Some(unit) = next.pop() {
            if !seen.insert(unit.clone()) {
                continue;
            }
            if let Some(d) = self.graph.deps(&unit) {
                let pulled = d.requires.iter().chain(&d.wants);
                let pulled = pulled.chain(&d.requisite).chain(&d.binds_to);
                next.extend(pulled.map(|n| self.canonical(n)));
            }
        }
        seen
    }

    /// The result of `unit`'s last run (`success`, `exit-code`, ...).
    pub fn result_of(&self, unit: &str) -> String {
        match self.runtime.get(&self.canonical(unit)) {
            Some(UnitRun::Service(run)) => run.svc.outcome().name().to_owned(),
            _ => "success".to_owned(),
        }
    }

    /// Whether `unit`'s last reload failed.
    pub fn reload_failed(&self, unit: &str) -> bool {
        matches!(self.runtime.get(&self.canonical(unit)), Some(UnitRun::Service(run)) if run.svc.reload_failed())
    }

    /// Whether `unit` can reload (ExecReload=, or Type=notify-reload).
    pub fn can_reload(&self, unit: &str) -> bool {
        matches!(self.runtime.get(&self.canonical(unit)), Some(UnitRun::Service(run)) if run.svc.can_reload())
    }

    /// The units as systemctl shows them (those never loaded left out), their processes
    /// found in one reading of /proc.
    /// The root bosun runs the units on (`/`, or BOSUN_ROOT).
    pub fn root(&self) -> &std::path::Path {
        &self.settings.root
    }

    /// The execution context of a loaded service or socket (what its sandbox is made of).
    pub fn exec_context(&self, unit: &str) -> Option<&crate::unit::model::ExecContext> {
        match self.units.get(&self.canonical(unit))? {
            Entry::Loaded(l) => match &l.unit.kind {
                crate::unit::model::UnitKind::Service(s) => Some(&s.exec),
                crate::unit::model::UnitKind::Socket(s) => Some(&s.exec),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn snapshots(&self, units: &[String]) -> Vec<UnitSnapshot> {
        let mut table = None;
        units
            .iter()
            .filter_map(|u| self.snapshot(u, Some(&mut table)))
            .collect()
    }

    /// What `initctl status`'s table shows of each: the snapshot without its dependencies,
    /// aliases, drop-ins, commands and processes (no process is looked at).
    pub fn summaries<'a>(&'a self, units: &'a [String]) -> impl Iterator<Item = UnitSnapshot> + 'a {
        units.iter().filter_map(|u| self.snapshot(u, None))
    }

    /// `unit`'s snapshot; with `table` (the process table of this round), its processes,
    /// dependencies, aliases and drop-ins too.
    fn snapshot(
        &self,
        unit: &str,
        table: Option<&mut Option<procs::Table>>,
    ) -> Option<UnitSnapshot> {
        let whole = table.is_some();
        let name = self.canonical(unit);
        let entry = self.units.get(&name)?;
        let mut info = UnitSnapshot::new(
            name.clone(),
            entry.description().unwrap_or(&name).to_owned(),
        );
        info.active = self.active_state(&name);
        info.since_ms = self.changed.get(&name).copied();
        info.job = self.job_of(&name);
        if whole {
            info.aliases = self
                .aliases
                .iter()
                .filter(|(_, target)| **target == name)
                .map(|(alias, _)| alias.clone())
                .collect();
        }
        match entry {
            Entry::Loaded(l) => {
                info.fragment = l.fragment.as_ref().map(|p| p.display().to_string());
                info.source_path.clone_from(&l.unit.unit.source_path);
                if whole {
                    info.dropins = l.dropins.iter().map(|p| p.display().to_string()).collect();
                }
                info.load = load_status(l.state);
            }
            Entry::Builtin { .. } => {}
            Entry::Missing(why) => {
                info.load = LoadStatus::NotFound;
                info.load_error = Some(why.clone());
                info.description = name.clone();
            }
        }
        if let Some(deps) = self.graph.deps(&name).filter(|_| whole) {
            let list = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>();
            info.wants = list(&deps.wants);
            info.requires = list(&deps.requires);
            info.after = list(&deps.after);
            info.before = list(&deps.before);
            info.requisite = list(&deps.requisite);
            info.binds_to = list(&deps.binds_to);
        }
        if let Some(rt) = self.runtime.get(&name) {
            rt.unit().snapshot(self, &mut info, table);
        }
        self.add_trigger_facts(&mut info, whole);
        if !whole {
            return Some(info);
        }
        for socket in self.sockets_activating(&name) {
            let state = self.active_state(&socket);
            info.triggered_by.push((socket, state));
        }
        for path in self.paths_triggering(&name) {
            let state = self.active_state(&path);
            info.triggered_by.push((path, state));
        }
        Some(info)
    }

    /// Why a job on `unit` cannot be queued, as systemd refuses it: a template without an
    /// instance (core/manager.c manager_load_unit_prepare()), a stop of a unit that is not
    /// loaded (core/dbus-unit.c bus_unit_queue_job()), anything but a stop of a unit not
    /// found, masked or badly configured (bus_unit_validate_load_state()).
    pub fn job_refusal(&self, unit: &str, stop: bool) -> Option<Refusal> {
        let refuse = |message: String, reason: RefusalReason| Some(Refusal { message, reason });
        if crate::unit::UnitName::parse(unit).is_ok_and(|n| n.is_template()) {
            return refuse(
                format!("Unit name {unit} is missing the instance name."),
                RefusalReason::InvalidName,
            );
        }
        let name = self.canonical(unit);
        let inactive = self.active_state(&name) == Active::Inactive;
        let state = match self.units.get(&name) {
            None | Some(Entry::Missing(_)) => LoadStatus::NotFound,
            Some(Entry::Loaded(l)) => load_status(l.state),
            Some(Entry::Builtin { .. }) => LoadStatus::Loaded,
        };
        match (state, stop) {
            (LoadStatus::Loaded, _) | (LoadStatus::Masked, true) => None,
            (_, true) if inactive => refuse(
                format!("Unit {name} not loaded."),
                RefusalReason::NoSuchUnit,
            ),
            (_, true) => None,
            (LoadStatus::NotFound, false) => {
                refuse(format!("Unit {name} not found."), RefusalReason::NoSuchUnit)
            }
            (LoadStatus::Masked, false) => {
                refuse(format!("Unit {name} is masked."), RefusalReason::Masked)
            }
            (LoadStatus::BadSetting, false) => refuse(
                format!("Unit {name} has a bad unit file setting."),
                RefusalReason::BadSetting,
            ),
        }
    }

    /// The manager's environment (passed to every service).
    pub fn environment(&self) -> Vec<String> {
        self.settings
            .environment
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }
}

/// Why a job cannot be queued: systemd's message and the reason (which the control socket
/// maps to systemctl's exit code and the D-Bus error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub reason: RefusalReason,
}

/// What is wrong with a unit a job was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalReason {
    /// Not a name a job can be queued for (a template without an instance).
    InvalidName,
    /// Not found, or (for a stop) not loaded.
    NoSuchUnit,
    Masked,
    BadSetting,
}

/// The load state of a unit file as systemctl names it.
fn load_status(state: LoadState) -> LoadStatus {
    match state {
        LoadState::Loaded => LoadStatus::Loaded,
        LoadState::Masked => LoadStatus::Masked,
        LoadState::Error => LoadStatus::BadSetting,
    }
}

pub use crate::vocab::time::now_ms;
