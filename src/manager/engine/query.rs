//! What the control socket asks of the engine: units as systemctl shows them, units loaded on
//! demand (an installer starts units nothing enabled), kill, reset-failed.

use std::collections::BTreeSet;
use std::time::Instant;

use super::{Engine, Runtime, procs, socket};
use crate::control::proto::{KillWhom, UnitInfo, bus_error};
use crate::manager::units::{Entry, collect, graph};
use crate::service::state::Target;
use crate::service::status::{Active, State};
use crate::unit::load::{LoadState, Loader};

impl Engine {
    /// Load `names` and what they pull in, when they are not loaded yet; a name nowhere to be
    /// found is recorded as missing (so `status` says "could not be found").
    pub fn ensure_loaded(&mut self, loader: &Loader, names: &[String]) {
        let wanted: Vec<String> = names
            .iter()
            .map(|n| self.canonical(n))
            .filter(|n| !self.units.contains_key(n))
            .collect();
        if wanted.is_empty() {
            return;
        }
        let (units, aliases) = collect(loader, &wanted);
        for (alias, target) in aliases {
            self.aliases.entry(alias).or_insert(target);
        }
        for (name, entry) in units {
            if self.units.contains_key(&name) {
                continue;
            }
            let rt = self.runtime_for(&name, &entry);
            self.runtime.insert(name.clone(), rt);
            self.units.insert(name, entry);
        }
        self.graph = graph(&self.units, &self.aliases);
        // What was loaded only to be looked at goes again once nothing holds it.
        self.gc_due = true;
    }

    /// daemon-reload: every loaded unit read again from its files (and what they pull in
    /// now, the default target's new links included). A service keeps its state and
    /// processes and runs with its new configuration from now on (after a control command
    /// that runs, which keeps the old one); a unit that is inactive takes its new load state
    /// (masked, not found, a service after all); one that runs stays as it is while masked
    /// or gone, as in systemd.
    pub fn reload_units(&mut self, loader: &Loader, default: &str) {
        let mut names: Vec<String> = self.units.keys().cloned().collect();
        names.push(default.to_owned());
        let (units, aliases) = collect(loader, &names);
        self.aliases = aliases;
        self.gc_changed = true;
        for (name, entry) in units {
            let fresh = self.runtime_for(&name, &entry);
            let replace = match (self.runtime.get_mut(&name), fresh) {
                (None, fresh) => Some(fresh),
                (Some(Runtime::Service(old)), Runtime::Service(new)) => {
                    if !old.svc.in_control() {
                        old.svc.reconfigure(new.svc.spec().clone());
                        old.section = new.section;
                    }
                    None
                }
                (Some(old), fresh) => {
                    let inactive = match old {
                        Runtime::Service(run) => run.svc.state() == State::Dead,
                        Runtime::Target { active } => !*active,
                        Runtime::Timer(t) => t.active() != Active::Active,
                        Runtime::Inert { .. } => true,
                        Runtime::Socket(run) => run.state == socket::SocketState::Dead,
                    };
                    inactive.then_some(fresh)
                }
            };
            if let Some(rt) = replace {
                self.runtime.insert(name.clone(), rt);
            }
            self.units.insert(name, entry);
        }
        self.graph = graph(&self.units, &self.aliases);
    }

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

    /// Forget how `unit`'s last job ended (before queueing a new one).
    pub fn forget_job(&mut self, unit: &str) {
        let name = self.canonical(unit);
        self.last_job.remove(&name);
    }

    /// Jobs queued or running.
    pub fn job_count(&self) -> usize {
        self.jobs.len()
    }

    /// The units that failed.
    pub fn failed_units(&self) -> Vec<String> {
        self.runtime
            .iter()
            .filter(
                |(_, rt)| matches!(rt, Runtime::Service(run) if run.svc.state() == State::Failed),
            )
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// The result of `unit`'s last run (`success`, `exit-code`, ...).
    pub fn result_of(&self, unit: &str) -> String {
        match self.runtime.get(&self.canonical(unit)) {
            Some(Runtime::Service(run)) => run.svc.outcome().name().to_owned(),
            _ => "success".to_owned(),
        }
    }

    /// Whether `unit`'s last reload failed.
    pub fn reload_failed(&self, unit: &str) -> bool {
        matches!(self.runtime.get(&self.canonical(unit)), Some(Runtime::Service(run)) if run.svc.reload_failed())
    }

    /// Whether `unit` can reload (ExecReload=, or Type=notify-reload).
    pub fn can_reload(&self, unit: &str) -> bool {
        matches!(self.runtime.get(&self.canonical(unit)), Some(Runtime::Service(run)) if run.svc.can_reload())
    }

    /// The units as systemctl shows them (those never loaded left out), their processes
    /// found in one reading of /proc.
    pub fn unit_infos(&self, units: &[String]) -> Vec<UnitInfo> {
        let mut table = None;
        units
            .iter()
            .filter_map(|u| self.unit_info(u, &mut table))
            .collect()
    }

    fn unit_info(&self, unit: &str, table: &mut Option<procs::Table>) -> Option<UnitInfo> {
        let name = self.canonical(unit);
        let entry = self.units.get(&name)?;
        let mut info = UnitInfo {
            name: name.clone(),
            description: entry.description().unwrap_or(&name).to_owned(),
            load_state: "loaded".into(),
            active_state: self.active_state(&name).name().into(),
            sub_state: "dead".into(),
            result: "success".into(),
            since_ms: self.changed.get(&name).copied(),
            job: self.job_of(&name).map(|k| k.name().to_owned()),
            ..UnitInfo::default()
        };
        match entry {
            Entry::Loaded(l) => {
                info.fragment = l.fragment.as_ref().map(|p| p.display().to_string());
                info.dropins = l.dropins.iter().map(|p| p.display().to_string()).collect();
                info.load_state = match l.state {
                    LoadState::Loaded => "loaded",
                    LoadState::Masked => "masked",
                    LoadState::Error => "bad-setting",
                }
                .into();
            }
            Entry::Builtin { .. } => {}
            Entry::Missing(why) => {
                info.load_state = "not-found".into();
                info.load_error = Some(why.clone());
                info.description = name.clone();
            }
        }
        if let Some(deps) = self.graph.deps(&name) {
            let list = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>();
            info.wants = list(&deps.wants);
            info.requires = list(&deps.requires);
            info.after = list(&deps.after);
            info.before = list(&deps.before);
            info.requisite = list(&deps.requisite);
            info.binds_to = list(&deps.binds_to);
        }
        match self.runtime.get(&name) {
            Some(Runtime::Service(run)) => {
                let svc = &run.svc;
                info.sub_state = svc.state().name().into();
                info.result = svc.outcome().name().into();
                info.main_pid = svc.main_pid();
                info.control_pid = svc.control_pid();
                info.restarts = svc.restarts();
                info.status_text = svc.status_text().map(str::to_owned);
                info.service_type = service_type_name(run.section.service_type);
                info.tracking = Some(
                    if run.cgroup.is_some() {
                        "cgroup"
                    } else {
                        "session"
                    }
                    .into(),
                );
                info.main_exit = svc.main_exit().map(code_and_status);
                info.exec_main_pid = run.exec_main_pid;
                if info.main_exit.is_none()
                    && let Some(record) =
                        run.execs.iter().find(|r| Some(r.pid) == run.exec_main_pid)
                {
                    info.main_exit = record.ended.map(code_and_status);
                }
                let mut ended: Vec<_> = run
                    .execs
                    .iter()
                    .filter_map(|r| Some((r, r.ended?)))
                    .collect();
                ended.sort_by_key(|(r, _)| (r.phase, r.index));
                info.execs = ended
                    .into_iter()
                    .map(|(r, t)| {
                        let (code, status) = code_and_status(t);
                        crate::control::proto::ExecStatus {
                            name: directive_of(r.phase).to_owned(),
                            argv: r.argv.clone(),
                            pid: r.pid,
                            code,
                            status,
                        }
                    })
                    .collect();
                if svc.state().active() != Active::Inactive && svc.state() != State::Failed {
                    let mut procs: BTreeSet<i32> = svc.main_pid().into_iter().collect();
                    procs.extend(svc.control_pid());
                    procs.extend(Self::rest(run, table, &self.runtime));
                    info.processes = procs.into_iter().collect();
                }
            }
            Some(Runtime::Target { active }) => {
                info.sub_state = if *active { "active" } else { "dead" }.into();
            }
            Some(Runtime::Socket(_)) => {
                if let Some(socket) = self.socket_info(&name) {
                    info.sub_state = socket.sub_state.into();
                    info.result = socket.result.into();
                    info.listen = socket.listen;
                    info.triggers = vec![(
                        socket.triggers.clone(),
                        self.active_state(&socket.triggers).name().to_owned(),
                    )];
                    info.connections = socket.accept.then_some((socket.accepted, socket.connected));
                }
            }
            Some(Runtime::Timer(t)) => {
                info.sub_state = t.state().name().into();
                info.result = t.result().into();
            }
            Some(Runtime::Inert { reason }) if info.load_error.is_none() => {
                info.load_error = Some(reason.clone());
            }
            Some(Runtime::Inert { .. }) | None => {}
        }
        self.add_trigger_facts(&mut info);
        for socket in self.sockets_activating(&name) {
            let state = self.active_state(&socket).name().to_owned();
            info.triggered_by.push((socket, state));
        }
        Some(info)
    }

    /// `systemctl kill`: send `signo` to the unit's processes. Killing a unit without
    /// processes is no error, but asking for its main or control process when it has none is
    /// (core/unit.c unit_kill_common()).
    pub fn kill(&mut self, unit: &str, whom: KillWhom, signo: i32) -> Result<(), String> {
        let name = self.canonical(unit);
        self.table = None;
        let targets: &[Target] = match whom {
            KillWhom::Main => &[Target::Main],
            KillWhom::Control => &[Target::Control],
            KillWhom::All => &[Target::Main, Target::Control, Target::Rest],
        };
        let run = match self.runtime.get(&name) {
            Some(Runtime::Service(run)) => Some(run),
            Some(Runtime::Target { .. }) if whom != KillWhom::All => {
                let what = if whom == KillWhom::Main {
                    "main"
                } else {
                    "control"
                };
                return Err(format!("target units have no {what} processes"));
            }
            _ => None,
        };
        match whom {
            KillWhom::Main if run.and_then(|r| r.svc.main_pid()).is_none() => {
                return Err("No main process to kill".to_owned());
            }
            KillWhom::Control if run.and_then(|r| r.svc.control_pid()).is_none() => {
                return Err("No control process to kill".to_owned());
            }
            _ => {}
        }
        if run.is_some() {
            for target in targets {
                self.signal(&name, *target, signo);
            }
        }
        Ok(())
    }

    /// Why a job on `unit` cannot be queued, as systemd refuses it: a template without an
    /// instance (core/manager.c manager_load_unit_prepare()), a stop of a unit that is not
    /// loaded (core/dbus-unit.c bus_unit_queue_job()), anything but a stop of a unit not
    /// found, masked or badly configured (bus_unit_validate_load_state()).
    pub fn job_refusal(&self, unit: &str, stop: bool) -> Option<Refusal> {
        let refuse = |message: String, exit: u8, error: &'static str| {
            Some(Refusal {
                message,
                exit,
                error,
            })
        };
        if crate::unit::UnitName::parse(unit).is_ok_and(|n| n.is_template()) {
            return refuse(
                format!("Unit name {unit} is missing the instance name."),
                1,
                bus_error::INVALID_ARGS,
            );
        }
        let name = self.canonical(unit);
        let inactive = self.active_state(&name) == Active::Inactive;
        let state = match self.units.get(&name) {
            None | Some(Entry::Missing(_)) => "not-found",
            Some(Entry::Loaded(l)) => match l.state {
                LoadState::Masked => "masked",
                LoadState::Error => "bad-setting",
                LoadState::Loaded => "loaded",
            },
            Some(Entry::Builtin { .. }) => "loaded",
        };
        match (state, stop) {
            ("loaded", _) | ("masked", true) => None,
            (_, true) if inactive => refuse(
                format!("Unit {name} not loaded."),
                5,
                bus_error::NO_SUCH_UNIT,
            ),
            (_, true) => None,
            ("not-found", false) => refuse(
                format!("Unit {name} not found."),
                5,
                bus_error::NO_SUCH_UNIT,
            ),
            ("masked", false) => {
                refuse(format!("Unit {name} is masked."), 1, bus_error::UNIT_MASKED)
            }
            _ => refuse(
                format!("Unit {name} has a bad unit file setting."),
                1,
                bus_error::BAD_UNIT_SETTING,
            ),
        }
    }

    /// Whether systemd would still hold `unit` loaded: a unit the control socket only asked
    /// about is collected by systemd once nothing refers to it (see [`Self::kept_units`]).
    pub fn is_loaded(&self, unit: &str) -> bool {
        let name = self.canonical(unit);
        self.units.contains_key(&name) && self.kept_units().contains(&name)
    }

    /// The units systemd would still hold loaded, which `list-units` shows and globs expand
    /// to: systemd garbage-collects a unit that is inactive, has no job and that no kept unit
    /// refers to (core/unit.c unit_may_gc(), core/manager.c unit_gc_sweep()); so does bosun,
    /// at the next turn of PID 1's loop ([`Self::collect_garbage`]).
    pub fn kept_units(&self) -> BTreeSet<String> {
        self.kept_with(&[])
    }

    /// [`Self::kept_units`], with `held` kept too (and what they refer to).
    pub(super) fn kept_with(&self, held: &[String]) -> BTreeSet<String> {
        let mut kept = BTreeSet::new();
        let mut todo: Vec<String> = self
            .units
            .keys()
            .filter(|n| self.active_state(n) != Active::Inactive || self.job_of(n).is_some())
            .cloned()
            .chain(held.iter().cloned())
            .collect();
        while let Some(name) = todo.pop() {
            if !self.units.contains_key(&name) || !kept.insert(name.clone()) {
                continue;
            }
            if let Some(d) = self.graph.deps(&name) {
                todo.extend(
                    d.requires
                        .iter()
                        .chain(&d.wants)
                        .chain(&d.requisite)
                        .chain(&d.binds_to)
                        .chain(&d.part_of)
                        .chain(&d.conflicts)
                        .chain(&d.after)
                        .chain(&d.before)
                        .chain(&d.on_failure)
                        .filter(|n| !kept.contains(*n))
                        .cloned(),
                );
            }
        }
        kept
    }

    /// `systemctl reload`: ExecReload= (or SIGHUP for Type=notify-reload) on an active unit;
    /// a unit already reloading has its reload asked for (core/job.c job_type_is_redundant()).
    pub fn reload(&mut self, unit: &str, now: Instant) -> Result<(), String> {
        let name = self.canonical(unit);
        self.table = None;
        if self.active_state(&name) == Active::Reloading {
            return Ok(());
        }
        if !matches!(self.active_state(&name), Active::Active) {
            return Err(format!(
                "Unit {name} cannot be reloaded because it is inactive."
            ));
        }
        self.feed(&name, crate::service::state::Event::Reload, now);
        self.dispatch(now);
        Ok(())
    }

    /// `systemctl reset-failed`: a failed unit becomes inactive, its start limit forgotten.
    pub fn reset_failed(&mut self, unit: &str) {
        let name = self.canonical(unit);
        if let Some(Runtime::Service(run)) = self.runtime.get_mut(&name) {
            run.svc.reset_failed();
        }
        self.mark_changed(&name);
    }

    /// The manager's environment (passed to every service).
    pub fn environment(&self) -> Vec<String> {
        self.settings
            .environment
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }

    /// `set-environment` / `unset-environment`, refused as systemd refuses them
    /// (core/dbus-manager.c method_set_environment(), method_unset_environment()): an
    /// assignment that is not `NAME=VALUE`, a name twice. An unset by `NAME=VALUE` removes
    /// the variable only with that value. PATH (bosun's own variable) stays first; the
    /// variables clients set follow in name order (core/manager.c sanitize_environment()).
    pub fn change_environment(&mut self, set: &[String], unset: &[String]) -> Result<(), String> {
        use crate::unit::envfile::{valid_assignment, valid_name};
        let name_of = |a: &str| a.split_once('=').map_or(a, |(n, _)| n).to_owned();
        let twice = |list: &[String]| {
            list.iter()
                .enumerate()
                .any(|(i, a)| list[i + 1..].iter().any(|b| name_of(b) == name_of(a)))
        };
        if set.iter().any(|a| !valid_assignment(a)) || twice(set) {
            return Err("Invalid environment assignments".to_owned());
        }
        if unset.iter().any(|a| !valid_assignment(a) && !valid_name(a))
            || unset
                .iter()
                .enumerate()
                .any(|(i, a)| unset[i + 1..].contains(a))
        {
            return Err("Invalid environment variable names or assignments".to_owned());
        }
        let env = &mut self.settings.environment;
        for gone in unset {
            match gone.split_once('=') {
                Some((k, v)) => env.retain(|(key, value)| key != k || value != v),
                None => env.retain(|(key, _)| key != gone),
            }
        }
        for pair in set {
            if let Some((k, v)) = pair.split_once('=') {
                match env.iter_mut().find(|(key, _)| key == k) {
                    Some(entry) => entry.1 = v.to_owned(),
                    None => env.push((k.to_owned(), v.to_owned())),
                }
            }
        }
        env.sort_by(|(a, _), (b, _)| (a != "PATH", a).cmp(&(b != "PATH", b)));
        Ok(())
    }

    /// Record that `unit`'s active state changed now.
    pub(super) fn mark_changed(&mut self, unit: &str) {
        self.gc_changed = true;
        self.changed.insert(unit.to_owned(), now_ms());
    }
}

/// Why a job cannot be queued: systemctl's message, its exit code, and the D-Bus error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub exit: u8,
    pub error: &'static str,
}

pub use crate::vocab::time::now_ms;

fn service_type_name(t: Option<crate::unit::model::ServiceType>) -> String {
    use crate::unit::model::ServiceType as T;
    match t.unwrap_or(T::Simple) {
        T::Simple => "simple",
        T::Exec => "exec",
        T::Forking => "forking",
        T::Oneshot => "oneshot",
        T::Dbus => "dbus",
        T::Notify => "notify",
        T::NotifyReload => "notify-reload",
        T::Idle => "idle",
    }
    .to_owned()
}

/// How a process ended, as systemd's `code=` word and the status or signal number.
fn code_and_status(t: crate::vocab::termination::Termination) -> (String, i32) {
    match t {
        crate::vocab::termination::Termination::Exited(c) => ("exited".to_owned(), c),
        crate::vocab::termination::Termination::Signaled(s) => ("killed".to_owned(), s),
    }
}

/// The directive of a command list.
fn directive_of(phase: crate::service::state::Phase) -> &'static str {
    use crate::service::state::Phase;
    match phase {
        Phase::Condition => "ExecCondition",
        Phase::StartPre => "ExecStartPre",
        Phase::Start => "ExecStart",
        Phase::StartPost => "ExecStartPost",
        Phase::Reload => "ExecReload",
        Phase::Stop => "ExecStop",
        Phase::StopPost => "ExecStopPost",
    }
}
