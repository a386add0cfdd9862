//! The dependency graph of the loaded units: for each unit, the names it requires, wants, must
//! find active, is bound to, is part of, conflicts with, is ordered after, and names to start
//! when it fails. Built from `[Unit]` sections and enablement links; `Before=` is folded into
//! `After=` of the other side so that ordering is asked one way only. Pure data, no I/O.

use std::collections::{BTreeMap, BTreeSet};

/// One unit's dependencies, by unit name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deps {
    pub requires: BTreeSet<String>,
    pub wants: BTreeSet<String>,
    pub requisite: BTreeSet<String>,
    pub binds_to: BTreeSet<String>,
    pub part_of: BTreeSet<String>,
    pub conflicts: BTreeSet<String>,
    pub after: BTreeSet<String>,
    pub before: BTreeSet<String>,
    pub on_failure: BTreeSet<String>,
}

/// All loaded units' dependencies.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    units: BTreeMap<String, Deps>,
    /// unit → units ordered after it (from their After= and its Before=).
    successors: BTreeMap<String, BTreeSet<String>>,
    /// unit → units that list it in Requires= or BindsTo=.
    required_by: BTreeMap<String, BTreeSet<String>>,
    /// unit → units that list it in PartOf=.
    parts: BTreeMap<String, BTreeSet<String>>,
    /// unit → units that list it in Conflicts=.
    conflicted_by: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    /// Build from `(name, deps)` pairs.
    pub fn new(units: impl IntoIterator<Item = (String, Deps)>) -> Graph {
        let mut graph = Graph::default();
        for (name, deps) in units {
            graph.units.insert(name, deps);
        }
        for (name, deps) in &graph.units {
            for other in &deps.after {
                graph
                    .successors
                    .entry(other.clone())
                    .or_default()
                    .insert(name.clone());
            }
            for other in &deps.before {
                graph
                    .successors
                    .entry(name.clone())
                    .or_default()
                    .insert(other.clone());
            }
            for other in deps.requires.iter().chain(&deps.binds_to) {
                graph
                    .required_by
                    .entry(other.clone())
                    .or_default()
                    .insert(name.clone());
            }
            for other in &deps.part_of {
                graph
                    .parts
                    .entry(other.clone())
                    .or_default()
                    .insert(name.clone());
            }
            for other in &deps.conflicts {
                graph
                    .conflicted_by
                    .entry(other.clone())
                    .or_default()
                    .insert(name.clone());
            }
        }
        graph
    }

    pub fn contains(&self, unit: &str) -> bool {
        self.units.contains_key(unit)
    }

    pub fn deps(&self, unit: &str) -> Option<&Deps> {
        self.units.get(unit)
    }

    pub fn units(&self) -> impl Iterator<Item = &str> {
        self.units.keys().map(String::as_str)
    }

    /// Whether `later` is ordered after `earlier` (by `later`'s After= or `earlier`'s Before=).
    pub fn ordered_after(&self, later: &str, earlier: &str) -> bool {
        self.successors
            .get(earlier)
            .is_some_and(|s| s.contains(later))
    }

    /// Units that require or are bound to `unit`: they must stop when it stops.
    pub fn required_by(&self, unit: &str) -> impl Iterator<Item = &str> {
        self.required_by
            .get(unit)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// Units declared PartOf= `unit`: stopped and restarted with it.
    pub fn parts_of(&self, unit: &str) -> impl Iterator<Item = &str> {
        self.parts
            .get(unit)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// Units in conflict with `unit`, in either direction.
    pub fn conflicts_of(&self, unit: &str) -> BTreeSet<&str> {
        let mut out: BTreeSet<&str> = self
            .conflicted_by
            .get(unit)
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if let Some(deps) = self.units.get(unit) {
            out.extend(deps.conflicts.iter().map(String::as_str));
        }
        out
    }
}
