//! What the control socket asks of the engine: units as systemctl shows them, units loaded on
//! demand (an installer starts units nothing enabled), kill, reset-failed.

use std::collections::BTreeSet;
use std::time::Instant;

use super::{Engine, Runtime, procs};
use crate::control::proto::{KillWhom, UnitInfo};
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
                        Runtime::Inert { .. } => true,
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
                info.main_exit = svc.main_exit().map(|t| match t {
                    crate::init::reaper::Termination::Exited(c) => ("exited".to_owned(), c),
                    crate::init::reaper::Termination::Signaled(s) => ("killed".to_owned(), s),
                });
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
            Some(Runtime::Inert { reason }) if info.load_error.is_none() => {
                info.load_error = Some(reason.clone());
            }
            Some(Runtime::Inert { .. }) | None => {}
        }
        Some(info)
    }

    /// `systemctl kill`: send `signo` to the unit's processes; false when it has none.
    pub fn kill(&mut self, unit: &str, whom: KillWhom, signo: i32) -> bool {
        let name = self.canonical(unit);
        self.table = None;
        let targets: &[Target] = match whom {
            KillWhom::Main => &[Target::Main],
            KillWhom::Control => &[Target::Control],
            KillWhom::All => &[Target::Main, Target::Control, Target::Rest],
        };
        let Some(Runtime::Service(run)) = self.runtime.get(&name) else {
            return false;
        };
        if run.svc.main_pid().is_none()
            && run.svc.control_pid().is_none()
            && Self::rest(run, &mut self.table, &self.runtime).is_empty()
        {
            return false;
        }
        for target in targets {
            self.signal(&name, *target, signo);
        }
        true
    }

    /// `systemctl reload`: ExecReload= (or SIGHUP for Type=notify-reload) on an active unit.
    pub fn reload(&mut self, unit: &str, now: Instant) -> Result<(), String> {
        let name = self.canonical(unit);
        self.table = None;
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

    /// `set-environment` / `unset-environment`.
    pub fn change_environment(&mut self, set: &[String], unset: &[String]) {
        let env = &mut self.settings.environment;
        for name in unset {
            let name = name.split_once('=').map_or(name.as_str(), |(n, _)| n);
            env.retain(|(k, _)| k != name);
        }
        for pair in set {
            if let Some((k, v)) = pair.split_once('=') {
                env.retain(|(key, _)| key != k);
                env.push((k.to_owned(), v.to_owned()));
            }
        }
    }

    /// Record that `unit`'s active state changed now.
    pub(super) fn mark_changed(&mut self, unit: &str) {
        self.changed.insert(unit.to_owned(), now_ms());
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

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
