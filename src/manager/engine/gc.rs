//! Garbage collection of units, as systemd's (core/unit.c unit_may_gc(), core/manager.c
//! manager_dispatch_gc_unit_queue()): a unit that is inactive (not failed), has no job, no
//! process left and that no kept unit refers to is unloaded, with everything the engine
//! remembers about it. Units loaded only to answer a query (a name nowhere to be found, a
//! template's instance, a disabled unit) thus go again once answered, and PID 1's memory does
//! not grow with the names local users ask about. This module decides what goes; it must not
//! load anything. It also answers which units are kept ([`Engine::kept_units`]): what
//! `list-units` shows and globs expand to.

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

use super::Engine;
use crate::manager::units::graph;
use crate::service::state::Active;

/// How often units that changed state are looked at, at most: a collection walks every unit,
/// and a boot of 500 services changes state thousands of times. Units loaded to answer a query
/// are looked at once answered, so a flood of queries cannot pile them up.
pub const INTERVAL: Duration = Duration::from_secs(1);

impl Engine {
    /// Whether systemd would still hold `unit` loaded: a unit the control socket only asked
    /// about is collected by systemd once nothing refers to it (see [`Self::kept_units`]).
    pub fn is_loaded(&self, unit: &str) -> bool {
        let name = self.canonical(unit);
        self.units.contains_key(&name) && self.kept_with(&[]).contains(name.as_str())
    }

    /// The units systemd would still hold loaded, which `list-units` shows and globs expand
    /// to, in name order: systemd garbage-collects a unit that is inactive, has no job and
    /// that no kept unit refers to (core/unit.c unit_may_gc(), core/manager.c
    /// unit_gc_sweep()); so does bosun, at the next turn of PID 1's loop
    /// ([`Self::collect_garbage`]).
    pub fn kept_units(&self) -> Vec<String> {
        let kept = self.kept_with(&[]);
        self.units
            .keys()
            .filter(|n| kept.contains(n.as_str()))
            .cloned()
            .collect()
    }

    /// [`Self::kept_units`], with `held` kept too (and what they refer to), as a set of the
    /// engine's own names.
    fn kept_with(&self, held: &[String]) -> HashSet<&str> {
        // Walked by reference (a unit is named in many units' dependencies: 500 units' names
        // cloned at every step cost `initctl status` more than its answer), in a hash set (a
        // tree of names compares them byte by byte, musl's memcmp, at every step), each unit
        // queued once: when it is first kept.
        let mut kept: HashSet<&str> = HashSet::with_capacity(self.units.len());
        let mut todo: Vec<&str> = Vec::new();
        let roots = self
            .units
            .keys()
            .filter(|n| self.active_state(n) != Active::Inactive || self.job_of(n).is_some())
            .map(String::as_str)
            .chain(
                held.iter()
                    .filter_map(|n| self.units.get_key_value(n))
                    .map(|(n, _)| n.as_str()),
            );
        for root in roots {
            if kept.insert(root) {
                todo.push(root);
            }
        }
        while let Some(name) = todo.pop() {
            let Some(d) = self.graph.deps(name) else {
                continue;
            };
            let named = d
                .requires
                .iter()
                .chain(&d.wants)
                .chain(&d.requisite)
                .chain(&d.binds_to)
                .chain(&d.part_of)
                .chain(&d.conflicts)
                .chain(&d.after)
                .chain(&d.before)
                .chain(&d.on_failure);
            for dep in named {
                if kept.contains(dep.as_str()) {
                    continue;
                }
                if let Some((dep, _)) = self.units.get_key_value(dep) {
                    kept.insert(dep.as_str());
                    todo.push(dep.as_str());
                }
            }
        }
        kept
    }

    /// Unload the units nothing holds any more, unless one of `held` (the units a client
    /// waits on, as systemd's bus tracking holds them) refers to them: at once after units
    /// were loaded on demand, at most every second (`INTERVAL`) after other changes, never when
    /// nothing changed. Returns how many units went.
    pub fn collect_garbage(&mut self, held: &[String], now: Instant) -> usize {
        let changed = self.gc_changed
            && self
                .last_gc
                .is_none_or(|last| now.saturating_duration_since(last) >= INTERVAL);
        if !self.gc_due && !changed {
            return 0;
        }
        self.gc_due = false;
        self.gc_changed = false;
        self.last_gc = Some(now);
        // A unit with processes left (KillMode=none, a stop that left some) stays, as a
        // unit with a non-empty cgroup does in systemd.
        let busy: HashSet<&String> = self.pids.values().collect();
        let mut roots: Vec<String> = busy.into_iter().cloned().collect();
        roots.extend_from_slice(held);
        let kept = self.kept_with(&roots);
        let gone: BTreeSet<String> = self
            .units
            .keys()
            .filter(|n| !kept.contains(n.as_str()))
            .cloned()
            .collect();
        if gone.is_empty() {
            return 0;
        }
        for name in &gone {
            self.units.remove(name);
            self.runtime.remove(name);
            self.changed.remove(name);
            self.last_job.remove(name);
            self.accepted_by.remove(name);
            self.log_policies.remove(name);
        }
        self.aliases
            .retain(|alias, unit| !gone.contains(unit) && !gone.contains(alias));
        self.graph = graph(&self.units, &self.aliases);
        gone.len()
    }
}
