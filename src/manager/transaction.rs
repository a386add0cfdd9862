//! Turning one request ("start nginx.service", "stop postgresql.service") into a transaction:
//! the set of start and stop jobs it implies, ordered, with cycles broken — systemd's
//! transaction logic (systemd.unit(5) dependencies; "Breaking ordering cycle by deleting job").
//!
//! Start pulls in Requires=/BindsTo= (as requirements) and Wants= (optional), checks Requisite=,
//! and stops Conflicts= in both directions. Stop pulls in the units that require, are bound to,
//! or are part of the stopped one. Ordering follows After=/Before= (reversed for stop jobs; a stop
//! always precedes a start it is ordered with). A cycle is broken by deleting a job that is only
//! wanted; if every job in it is required, the transaction fails. Pure: no unit is touched.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::graph::Graph;

/// What a job does to its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JobKind {
    Start,
    Stop,
}

impl JobKind {
    pub fn name(self) -> &'static str {
        match self {
            JobKind::Start => "start",
            JobKind::Stop => "stop",
        }
    }
}

/// One job of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub kind: JobKind,
    /// The request itself, or pulled in by a requirement of a required job: may not be dropped.
    pub required: bool,
}

/// Why a request cannot become a transaction (systemd's wording).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionError {
    #[error("Unit {unit} not found.")]
    NotFound { unit: String },
    #[error("Unit {requisite} is not active (Requisite= of {unit}).")]
    RequisiteInactive { unit: String, requisite: String },
    #[error(
        "Transaction contains conflicting jobs 'stop' and 'start' for {unit}. Probably \
         contradicting requirement dependencies configured."
    )]
    Conflicting { unit: String },
    #[error("Transaction order is cyclic: {}", cycle.join(" → "))]
    Cyclic { cycle: Vec<String> },
    /// Nothing starts once every unit is being stopped (systemd refuses it as destructive to
    /// its irreversible shutdown jobs).
    #[error("Transaction for {unit}/start is destructive (the system is shutting down).")]
    ShuttingDown { unit: String },
}

/// The jobs a request implies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transaction {
    /// One job per unit.
    pub jobs: BTreeMap<String, Job>,
    /// (earlier, later): `later`'s job waits until `earlier`'s has finished.
    pub order: BTreeSet<(String, String)>,
    /// (requirer, required): if `required`'s job fails, `requirer`'s fails too.
    pub requirements: BTreeSet<(String, String)>,
    /// What was dropped on the way, in systemd's words, for the log.
    pub notes: Vec<String>,
}

/// Build the transaction for `kind` on `anchor`. `is_active` tells whether a unit is active now
/// (for Requisite=).
pub fn build(
    graph: &Graph,
    anchor: &str,
    kind: JobKind,
    is_active: &dyn Fn(&str) -> bool,
) -> Result<Transaction, TransactionError> {
    let mut tx = Transaction::default();
    let mut queue: VecDeque<(String, JobKind, bool)> = VecDeque::new();
    queue.push_back((anchor.to_owned(), kind, true));
    while let Some((unit, kind, required)) = queue.pop_front() {
        let Some(deps) = graph.deps(&unit) else {
            if kind == JobKind::Stop {
                continue; // a unit that is not loaded is not running: nothing to stop
            }
            if required {
                return Err(TransactionError::NotFound { unit });
            }
            tx.notes.push(format!(
                "Unit {unit} not found; skipping the job to {}",
                kind.name()
            ));
            continue;
        };
        match tx.jobs.get_mut(&unit) {
            Some(job) if job.kind == kind => {
                if job.required || !required {
                    continue; // nothing new to pull in
                }
                job.required = true;
            }
            Some(job) => {
                if job.required && required {
                    return Err(TransactionError::Conflicting { unit });
                }
                if job.required {
                    tx.notes.push(format!(
                        "Not adding job {unit}/{}: it conflicts with a required job",
                        kind.name()
                    ));
                    continue;
                }
                tx.notes.push(format!(
                    "Deleting job {unit}/{}: it conflicts with a required job",
                    job.kind.name()
                ));
                *job = Job { kind, required };
            }
            None => {
                tx.jobs.insert(unit.clone(), Job { kind, required });
            }
        }
        match kind {
            JobKind::Start => {
                // Requisite= first: a wanted unit whose requisite is not active is dropped
                // from the transaction with what it would have pulled in.
                let unmet = deps.requisite.iter().find(|other| {
                    let starting = tx
                        .jobs
                        .get(*other)
                        .is_some_and(|j| j.kind == JobKind::Start);
                    !(is_active(other) || starting)
                });
                if let Some(other) = unmet {
                    if required {
                        return Err(TransactionError::RequisiteInactive {
                            unit,
                            requisite: other.clone(),
                        });
                    }
                    tx.notes.push(format!(
                        "Unit {other} is not active (Requisite= of {unit}); not starting {unit}"
                    ));
                    tx.jobs.remove(&unit);
                    continue;
                }
                for other in &deps.requisite {
                    tx.requirements.insert((unit.clone(), other.clone()));
                }
                for other in deps.requires.iter().chain(&deps.binds_to) {
                    tx.requirements.insert((unit.clone(), other.clone()));
                    queue.push_back((other.clone(), JobKind::Start, required));
                }
                for other in &deps.wants {
                    queue.push_back((other.clone(), JobKind::Start, false));
                }
                for other in graph.conflicts_of(&unit) {
                    queue.push_back((other.to_owned(), JobKind::Stop, required));
                }
            }
            JobKind::Stop => {
                for other in graph.required_by(&unit).chain(graph.parts_of(&unit)) {
                    queue.push_back((other.to_owned(), JobKind::Stop, required));
                }
            }
        }
    }
    tx.order = order(graph, &tx.jobs);
    break_cycles(&mut tx, anchor)?;
    Ok(tx)
}

/// `--job-mode=ignore-dependencies`: the job on `anchor` alone, no requirement or conflict
/// pulled in (ordering against jobs already queued still holds).
pub fn build_alone(
    graph: &Graph,
    anchor: &str,
    kind: JobKind,
) -> Result<Transaction, TransactionError> {
    if !graph.contains(anchor) && kind == JobKind::Start {
        return Err(TransactionError::NotFound {
            unit: anchor.to_owned(),
        });
    }
    let mut tx = Transaction::default();
    tx.jobs.insert(
        anchor.to_owned(),
        Job {
            kind,
            required: true,
        },
    );
    tx.order = order(graph, &tx.jobs);
    Ok(tx)
}

/// Shutdown: stop jobs for `units` and for what requires them or is part of them, as ONE
/// transaction, so that every After=/Before= between any two of them orders their stops
/// (reversed), as systemd's shutdown transaction does. A stop is never dropped: an ordering
/// cycle is broken by ignoring one of its edges, said in the notes.
pub fn build_shutdown(graph: &Graph, units: &[String]) -> Transaction {
    let mut tx = Transaction::default();
    let mut queue: VecDeque<String> = units.iter().cloned().collect();
    while let Some(unit) = queue.pop_front() {
        if tx.jobs.contains_key(&unit) || !graph.contains(&unit) {
            continue;
        }
        tx.jobs.insert(
            unit.clone(),
            Job {
                kind: JobKind::Stop,
                required: true,
            },
        );
        queue.extend(
            graph
                .required_by(&unit)
                .chain(graph.parts_of(&unit))
                .map(str::to_owned),
        );
    }
    tx.order = order(graph, &tx.jobs);
    while let Some(cycle) = find_cycle(&tx.jobs, &tx.order) {
        let [.., last, first] = cycle.as_slice() else {
            break;
        };
        let edge = (last.clone(), first.clone());
        tx.notes.push(format!(
            "Found ordering cycle: {}; stopping {first} without waiting for {last}",
            cycle.join(" → ")
        ));
        if !tx.order.remove(&edge) {
            break; // unreachable: the cycle is made of edges of the order
        }
    }
    tx
}

/// The ordering edges between the jobs.
fn order(graph: &Graph, jobs: &BTreeMap<String, Job>) -> BTreeSet<(String, String)> {
    let mut edges = BTreeSet::new();
    for (a, ja) in jobs {
        for (b, jb) in jobs {
            if a == b || !graph.ordered_after(b, a) {
                continue;
            }
            // b is After= a.
            let (first, then) = match (ja.kind, jb.kind) {
                (JobKind::Start, JobKind::Start) => (a, b),
                (JobKind::Stop, JobKind::Stop) => (b, a),
                // A stop precedes a start whichever way they are ordered.
                (JobKind::Stop, JobKind::Start) => (a, b),
                (JobKind::Start, JobKind::Stop) => (b, a),
            };
            edges.insert((first.clone(), then.clone()));
        }
    }
    edges
}

/// Delete non-required jobs until the order has no cycle, or fail.
fn break_cycles(tx: &mut Transaction, anchor: &str) -> Result<(), TransactionError> {
    while let Some(cycle) = find_cycle(&tx.jobs, &tx.order) {
        let victim = cycle
            .iter()
            .find(|u| u.as_str() != anchor && tx.jobs.get(*u).is_some_and(|j| !j.required))
            .cloned();
        let Some(victim) = victim else {
            return Err(TransactionError::Cyclic { cycle });
        };
        let kind = tx.jobs.get(&victim).map_or("start", |j| j.kind.name());
        tx.notes.push(format!(
            "Found ordering cycle: {}; breaking it by deleting job {victim}/{kind}",
            cycle.join(" → ")
        ));
        tx.jobs.remove(&victim);
        tx.order.retain(|(a, b)| a != &victim && b != &victim);
        tx.requirements
            .retain(|(a, b)| a != &victim && b != &victim);
    }
    Ok(())
}

/// A cycle in the ordering, as the units along it (first repeated at the end), if any.
fn find_cycle(
    jobs: &BTreeMap<String, Job>,
    order: &BTreeSet<(String, String)>,
) -> Option<Vec<String>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in order {
        next.entry(a).or_default().push(b);
    }
    // 0 = unvisited, 1 = on the current path, 2 = done.
    let mut color: BTreeMap<&str, u8> = BTreeMap::new();
    for start in jobs.keys() {
        if color.get(start.as_str()).copied().unwrap_or(0) != 0 {
            continue;
        }
        let mut path: Vec<&str> = vec![start];
        let mut iters: Vec<std::slice::Iter<'_, &str>> = vec![
            next.get(start.as_str())
                .map(|v| v.iter())
                .unwrap_or_default(),
        ];
        color.insert(start, 1);
        while let Some(it) = iters.last_mut() {
            match it.next() {
                Some(&n) => match color.get(n).copied().unwrap_or(0) {
                    0 => {
                        color.insert(n, 1);
                        path.push(n);
                        iters.push(next.get(n).map(|v| v.iter()).unwrap_or_default());
                    }
                    1 => {
                        let from = path.iter().position(|p| *p == n).unwrap_or(0);
                        let mut cycle: Vec<String> =
                            path[from..].iter().map(|s| (*s).to_owned()).collect();
                        cycle.push(n.to_owned());
                        return Some(cycle);
                    }
                    _ => {}
                },
                None => {
                    iters.pop();
                    if let Some(done) = path.pop() {
                        color.insert(done, 2);
                    }
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests;
