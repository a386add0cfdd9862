//! The set of units a boot needs: everything reachable from the default target through
//! requirement-like dependencies and enablement links, loaded with the unit loader; the
//! standard targets a container image without the systemd package lacks, supplied built in
//! (systemd.special(7)); and each unit's dependencies with systemd's default dependencies added
//! (systemd.service(5), systemd.target(5) "Default Dependencies").

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::graph::{Deps, Graph};
use crate::unit::load::{LoadError, LoadState, LoadedUnit, Loader};
use crate::unit::model::UnitKind;
use crate::unit::special::{self, Target};

/// One unit of the boot set.
#[derive(Debug, Clone)]
pub enum Entry {
    /// Read from disk (possibly masked, possibly with errors: see its state).
    Loaded(Box<LoadedUnit>),
    /// A standard target supplied by bosun, with the units enabled into its `.wants/` and
    /// `.requires/` directories.
    Builtin {
        target: &'static Target,
        wants: Vec<String>,
        requires: Vec<String>,
    },
    /// Named by another unit but nowhere to be found, or unreadable.
    Missing(String),
}

impl Entry {
    /// Description= (or the built-in one).
    pub fn description(&self) -> Option<&str> {
        match self {
            Entry::Loaded(l) => l.unit.unit.description.as_deref(),
            Entry::Builtin { target, .. } => Some(target.description),
            Entry::Missing(_) => None,
        }
    }
}

/// Load `roots` and everything they pull in. Names are canonical unit names (an alias asked
/// for resolves to its unit; the alias is recorded as pointing there).
pub fn collect(
    loader: &Loader,
    roots: &[String],
) -> (BTreeMap<String, Entry>, BTreeMap<String, String>) {
    // One listing of the search path for the whole closure, not a stat per name, directory
    // and suffix (hundreds of units at boot).
    let loader = &loader.listed();
    let mut units: BTreeMap<String, Entry> = BTreeMap::new();
    let mut aliases: BTreeMap<String, String> = BTreeMap::new();
    let mut queue: VecDeque<String> = roots.iter().cloned().collect();
    while let Some(name) = queue.pop_front() {
        if units.contains_key(&name) || aliases.contains_key(&name) {
            continue;
        }
        let entry = match loader.load(&name) {
            Ok(loaded) => {
                let real = loaded.name.to_string();
                if real != name {
                    aliases.insert(name.clone(), real.clone());
                    if units.contains_key(&real) {
                        continue;
                    }
                }
                for next in pulled(&loaded) {
                    queue.push_back(next);
                }
                (real, Entry::Loaded(Box::new(loaded)))
            }
            Err(LoadError::NotFound { .. }) => match special::target(&name) {
                Some(b) => {
                    let links = |suffix| {
                        crate::unit::UnitName::parse(&name)
                            .ok()
                            .and_then(|n| loader.dependency_links(&n, suffix).ok())
                            .unwrap_or_default()
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<String>>()
                    };
                    let (wants, requires) = (links(".wants"), links(".requires"));
                    queue.extend(b.requires.iter().chain(b.wants).map(|s| (*s).to_owned()));
                    queue.extend(wants.iter().chain(&requires).cloned());
                    (
                        name.clone(),
                        Entry::Builtin {
                            target: b,
                            wants,
                            requires,
                        },
                    )
                }
                None => (
                    name.clone(),
                    Entry::Missing(format!("Unit {name} not found.")),
                ),
            },
            Err(e) => (name.clone(), Entry::Missing(e.to_string())),
        };
        units.insert(entry.0, entry.1);
    }
    (units, aliases)
}

/// The units `loaded` refers to, which systemd loads with it: those it pulls in when it
/// starts, OnFailure= targets, and those it is ordered against, conflicts with or is part of
/// (loaded, not started: `list-units --all` shows them, `kill` finds them); its default
/// `Requires=sysinit.target` included: a service must find sysinit.target (the built-in one
/// when no file names it) even when the default target does not lead to it.
fn pulled(loaded: &LoadedUnit) -> Vec<String> {
    if loaded.state == LoadState::Masked {
        return Vec::new();
    }
    let u = &loaded.unit.unit;
    let mut names: Vec<String> = u
        .requires
        .iter()
        .chain(&u.wants)
        .chain(&u.requisite)
        .chain(&u.binds_to)
        .chain(&u.on_failure)
        .chain(&u.part_of)
        .chain(&u.conflicts)
        .chain(&u.after)
        .chain(&u.before)
        .chain(&loaded.wants)
        .chain(&loaded.requires)
        .map(ToString::to_string)
        .collect();
    names.extend(super::tracked::mount_units_for(&u.requires_mounts_for));
    if u.default_dependencies
        && matches!(
            loaded.unit.kind,
            UnitKind::Service(_) | UnitKind::Socket(_) | UnitKind::Timer(_) | UnitKind::Path(_)
        )
    {
        names.push("sysinit.target".to_owned());
    }
    match &loaded.unit.kind {
        // An Accept=no socket's service is loaded with it (instances of an Accept=yes
        // socket's template are loaded per connection).
        UnitKind::Socket(s) if !s.accept => {
            names.push(crate::manager::engine::service_of(loaded.name.as_ref(), s));
        }
        // Sockets= are pulled in (Wants=).
        UnitKind::Service(s) => names.extend(s.sockets.iter().map(ToString::to_string)),
        // A timer's unit is loaded with it (timer.c timer_add_trigger_dependencies()).
        UnitKind::Timer(t) => {
            names.push(t.triggered(loaded.name.as_ref()));
            if u.default_dependencies && t.has_calendar() {
                names.extend(["time-set.target".to_owned(), "time-sync.target".to_owned()]);
            }
        }
        // So is a path unit's (path.c path_add_trigger_dependencies()).
        UnitKind::Path(p) => names.push(p.triggered(loaded.name.as_ref())),
        _ => {}
    }
    names
}

/// The dependencies of every unit in `units`, with default dependencies added, as a graph.
pub fn graph(units: &BTreeMap<String, Entry>, aliases: &BTreeMap<String, String>) -> Graph {
    let canonical = |n: &str| aliases.get(n).cloned().unwrap_or_else(|| n.to_owned());
    let names = |list: &[crate::unit::UnitName]| -> BTreeSet<String> {
        list.iter().map(|n| canonical(n.as_ref())).collect()
    };
    let mut all: Vec<(String, Deps)> = Vec::new();
    // Targets with default dependencies, and the units they pull in that get After=.
    let mut target_orders: Vec<(usize, Vec<String>)> = Vec::new();
    for (name, entry) in units {
        let mut d = Deps::default();
        let mut target_default = false;
        match entry {
            Entry::Loaded(l) if l.state != LoadState::Masked => {
                let u = &l.unit.unit;
                d.requires = names(&u.requires);
                d.requires.extend(names(&l.requires));
                d.wants = names(&u.wants);
                d.wants.extend(names(&l.wants));
                d.requisite = names(&u.requisite);
                d.binds_to = names(&u.binds_to);
                d.part_of = names(&u.part_of);
                d.conflicts = names(&u.conflicts);
                d.after = names(&u.after);
                d.before = names(&u.before);
                d.on_failure = names(&u.on_failure);
                implicit(&mut d, name, &l.unit.kind, &canonical);
                super::tracked::add_mount_dependencies(&mut d, name, &u.requires_mounts_for, units);
                // Triggers= implies Before=, default dependencies or not.
                if let UnitKind::Timer(t) = &l.unit.kind {
                    d.before.insert(canonical(&t.triggered(name)));
                }
                if let UnitKind::Path(p) = &l.unit.kind {
                    d.before.insert(canonical(&p.triggered(name)));
                }
                if u.default_dependencies {
                    add_defaults(&mut d, &l.unit.kind);
                    target_default = matches!(l.unit.kind, UnitKind::Target);
                }
            }
            Entry::Loaded(_) | Entry::Missing(_) => {}
            Entry::Builtin {
                target,
                wants,
                requires,
            } => {
                d.requires = target.requires.iter().map(|s| (*s).to_owned()).collect();
                d.requires.extend(requires.iter().map(|n| canonical(n)));
                d.wants = target.wants.iter().map(|s| (*s).to_owned()).collect();
                d.wants.extend(wants.iter().map(|n| canonical(n)));
                add_defaults(&mut d, &UnitKind::Target);
                target_default = true;
            }
        }
        // The shutdown targets must not conflict with (or be ordered before) themselves.
        if matches!(name.as_str(), "shutdown.target" | "final.target") {
            d.conflicts.remove("shutdown.target");
            d.before.remove("shutdown.target");
        }
        if target_default {
            let pulled = d
                .requires
                .iter()
                .chain(&d.wants)
                .chain(&d.requisite)
                .chain(&d.binds_to)
                .cloned()
                .collect();
            target_orders.push((all.len(), pulled));
        }
        all.push((name.clone(), d));
    }
    order_targets_after_pulled(&mut all, target_orders, units);
    Graph::new(all)
}

/// A target with default dependencies is ordered after the units it pulls in — when both are
/// loaded, both have default dependencies, and the target is not already ordered before the
/// unit (core/unit.c unit_add_default_target_dependency(): "don't create loops"). Debian's
/// systemd-pcrphase.service, wanted by sysinit.target and (by its own default dependencies)
/// after it, is the case: no sysinit.target → pcrphase → sysinit.target cycle.
fn order_targets_after_pulled(
    all: &mut [(String, Deps)],
    target_orders: Vec<(usize, Vec<String>)>,
    units: &BTreeMap<String, Entry>,
) {
    let default_deps = |n: &str| match units.get(n) {
        Some(Entry::Loaded(l)) => l.state == LoadState::Loaded && l.unit.unit.default_dependencies,
        Some(Entry::Builtin { .. }) => true,
        Some(Entry::Missing(_)) | None => false,
    };
    let index: BTreeMap<String, usize> = all
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (n.clone(), i))
        .collect();
    for (t, pulled) in target_orders {
        let target = all[t].0.clone();
        for unit in pulled {
            let unit_after_target = index
                .get(&unit)
                .is_some_and(|&i| all[i].1.after.contains(&target));
            if unit != target
                && default_deps(&unit)
                && !unit_after_target
                && !all[t].1.before.contains(&unit)
            {
                all[t].1.after.insert(unit);
            }
        }
    }
}

/// Dependencies systemd adds whatever DefaultDependencies= says (systemd.socket(5),
/// systemd.service(5) "Implicit Dependencies"): a socket is ordered before the service it
/// activates (so the service is ordered after it); a service wants and is ordered after the
/// sockets of its Sockets=.
fn implicit(d: &mut Deps, name: &str, kind: &UnitKind, canonical: &dyn Fn(&str) -> String) {
    match kind {
        UnitKind::Socket(s) => {
            d.before
                .insert(canonical(&crate::manager::engine::service_of(name, s)));
        }
        UnitKind::Service(s) => {
            for socket in &s.sockets {
                d.wants.insert(socket.to_string());
                d.after.insert(socket.to_string());
            }
        }
        _ => {}
    }
}

/// systemd's implicit dependencies for units with DefaultDependencies=yes (a target's
/// After= on what it pulls in: [`order_targets_after_pulled`]).
fn add_defaults(d: &mut Deps, kind: &UnitKind) {
    match kind {
        UnitKind::Service(_) => {
            d.requires.insert("sysinit.target".to_owned());
            d.after.insert("sysinit.target".to_owned());
            d.after.insert("basic.target".to_owned());
            d.conflicts.insert("shutdown.target".to_owned());
            d.before.insert("shutdown.target".to_owned());
        }
        UnitKind::Target => {
            d.conflicts.insert("shutdown.target".to_owned());
            d.before.insert("shutdown.target".to_owned());
        }
        UnitKind::Socket(_) => {
            d.requires.insert("sysinit.target".to_owned());
            d.after.insert("sysinit.target".to_owned());
            d.before.insert("sockets.target".to_owned());
            d.conflicts.insert("shutdown.target".to_owned());
            d.before.insert("shutdown.target".to_owned());
        }
        UnitKind::Timer(t) => {
            // timer.c timer_add_default_dependencies().
            d.requires.insert("sysinit.target".to_owned());
            d.after.insert("sysinit.target".to_owned());
            if t.has_calendar() {
                d.after.insert("time-set.target".to_owned());
                d.after.insert("time-sync.target".to_owned());
            }
            d.before.insert("timers.target".to_owned());
            d.conflicts.insert("shutdown.target".to_owned());
            d.before.insert("shutdown.target".to_owned());
        }
        UnitKind::Path(_) => {
            // path.c path_add_default_dependencies().
            d.before.insert("paths.target".to_owned());
            d.requires.insert("sysinit.target".to_owned());
            d.after.insert("sysinit.target".to_owned());
            d.conflicts.insert("shutdown.target".to_owned());
            d.before.insert("shutdown.target".to_owned());
        }
        UnitKind::Unsupported { .. } => {}
    }
}

#[cfg(test)]
mod tests;
