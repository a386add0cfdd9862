//! Requests that change the engine's units without a job: units loaded on demand (an
//! installer starts units nothing enabled), daemon-reload, kill, reload, reset-failed, the
//! manager's environment. Read-only questions are in [`super::query`]; jobs go through
//! [`Engine::request`]. Speaks the manager's words: the control socket's are mapped in
//! `init/answers.rs`.

use std::time::Instant;

use super::query::now_ms;
use super::{Engine, UnitRun};
use crate::manager::units::{collect, graph};
use crate::service::state::{Event, Target};
use crate::service::status::Active;
use crate::unit::load::Loader;

/// Which of a unit's processes `systemctl kill` signals (`--kill-whom=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whom {
    Main,
    Control,
    All,
}

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
        // A mount unit asked for by name: the table as it is now (a mount made since the
        // boot), read for this load only; the mounts already loaded keep their state.
        if wanted.iter().any(|n| n.ends_with(".mount")) {
            self.mounts = self.read_mount_table();
        }
        let (mut units, aliases) = collect(loader, &wanted);
        crate::manager::tracked::complete(&mut units, &self.mounts, false);
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
    pub fn reload_units(&mut self, loader: &Loader, default: &str, now: Instant) {
        let mut names: Vec<String> = self.units.keys().cloned().collect();
        names.push(default.to_owned());
        let (mut units, aliases) = collect(loader, &names);
        self.mounts = self.read_mount_table();
        crate::manager::tracked::complete(&mut units, &self.mounts, true);
        self.aliases = aliases;
        self.gc_changed = true;
        let mut paths = Vec::new();
        for (name, entry) in units {
            let fresh = self.runtime_for(&name, &entry);
            let replace = match (self.runtime.get_mut(&name), fresh) {
                (None, fresh) => Some(fresh),
                (Some(UnitRun::Service(old)), UnitRun::Service(new)) => {
                    if !old.svc.in_control() {
                        old.svc.reconfigure(new.svc.spec().clone());
                        old.section = new.section;
                    }
                    None
                }
                (Some(old @ UnitRun::Path(_)), fresh @ UnitRun::Path(_))
                    if !old.unit().at_rest() =>
                {
                    paths.push((name.clone(), fresh));
                    None
                }
                (Some(old), fresh) => {
                    let inactive = old.unit().at_rest();
                    inactive.then_some(fresh)
                }
            };
            if let Some(rt) = replace {
                self.runtime.insert(name.clone(), rt);
            }
            self.units.insert(name, entry);
        }
        self.graph = graph(&self.units, &self.aliases);
        for (name, fresh) in paths {
            self.reload_path(&name, fresh, now);
        }
    }

    /// Forget how `unit`'s last job ended (before queueing a new one).
    pub fn forget_job(&mut self, unit: &str) {
        let name = self.canonical(unit);
        self.last_job.remove(&name);
    }

    /// `systemctl kill`: send `signo` to the unit's processes. Killing a unit without
    /// processes is no error, but asking for its main or control process when it has none is
    /// (core/unit.c unit_kill_common()).
    pub fn kill(&mut self, unit: &str, whom: Whom, signo: i32) -> Result<(), String> {
        let name = self.canonical(unit);
        self.table = None;
        let targets: &[Target] = match whom {
            Whom::Main => &[Target::Main],
            Whom::Control => &[Target::Control],
            Whom::All => &[Target::Main, Target::Control, Target::Rest],
        };
        let run = match self.runtime.get(&name) {
            Some(UnitRun::Service(run)) => Some(run),
            Some(UnitRun::Target(_)) if whom != Whom::All => {
                let what = if whom == Whom::Main {
                    "main"
                } else {
                    "control"
                };
                return Err(format!("target units have no {what} processes"));
            }
            _ => None,
        };
        match whom {
            Whom::Main if run.and_then(|r| r.svc.main_pid()).is_none() => {
                return Err("No main process to kill".to_owned());
            }
            Whom::Control if run.and_then(|r| r.svc.control_pid()).is_none() => {
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
        self.feed(&name, Event::Reload, now);
        self.dispatch(now);
        Ok(())
    }

    /// `systemctl reset-failed`: a failed unit becomes inactive, its start limit forgotten.
    pub fn reset_failed(&mut self, unit: &str) {
        let name = self.canonical(unit);
        if let Some(run) = self.runtime.get_mut(&name) {
            run.unit_mut().reset_failed();
        }
        self.path_reset_failed(&name);
        self.mark_changed(&name);
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
