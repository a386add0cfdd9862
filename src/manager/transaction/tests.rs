//! Transactions and the job queue, on small graphs written inline.

use super::*;
use crate::manager::graph::{Deps, Graph};
use crate::manager::jobs::{JobQueue, JobResult};

/// A graph from lines like `web: requires=db wants=cache after=db,cache`.
fn graph(spec: &str) -> Graph {
    let mut units = Vec::new();
    for line in spec.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (name, rest) = line.split_once(':').unwrap_or((line, ""));
        let mut d = Deps::default();
        for field in rest.split_whitespace() {
            let (key, values) = field.split_once('=').expect("key=values");
            let set = match key {
                "requires" => &mut d.requires,
                "wants" => &mut d.wants,
                "requisite" => &mut d.requisite,
                "binds" => &mut d.binds_to,
                "partof" => &mut d.part_of,
                "conflicts" => &mut d.conflicts,
                "after" => &mut d.after,
                "before" => &mut d.before,
                other => panic!("unknown key {other}"),
            };
            set.extend(values.split(',').map(str::to_owned));
        }
        units.push((name.trim().to_owned(), d));
    }
    Graph::new(units)
}

fn none_active(_: &str) -> bool {
    false
}

fn jobs(tx: &Transaction) -> Vec<String> {
    tx.jobs
        .iter()
        .map(|(u, j)| format!("{u}/{}{}", j.kind.name(), if j.required { "" } else { "?" }))
        .collect()
}

#[test]
fn start_pulls_requirements_and_wants() {
    let g = graph(
        "web: requires=db wants=cache,missing after=db,cache
         db: requires=disk
         disk:
         cache:
         other:",
    );
    let tx = build(&g, "web", JobKind::Start, &none_active).unwrap();
    assert_eq!(
        jobs(&tx),
        ["cache/start?", "db/start", "disk/start", "web/start"]
    );
    assert!(tx.order.contains(&("db".into(), "web".into())));
    assert!(tx.order.contains(&("cache".into(), "web".into())));
    assert!(
        !tx.order.contains(&("disk".into(), "db".into())),
        "Requires= alone does not order"
    );
    assert!(
        tx.notes.iter().any(|n| n.contains("missing not found")),
        "{:?}",
        tx.notes
    );
    assert!(tx.requirements.contains(&("web".into(), "db".into())));
}

#[test]
fn a_missing_requirement_fails_the_transaction() {
    let g = graph("web: requires=db");
    assert_eq!(
        build(&g, "web", JobKind::Start, &none_active)
            .unwrap_err()
            .to_string(),
        "Unit db not found."
    );
    assert_eq!(
        build(&g, "nope", JobKind::Start, &none_active)
            .unwrap_err()
            .to_string(),
        "Unit nope not found."
    );
}

#[test]
fn requisite_must_already_be_active() {
    let g = graph("web: requisite=db\ndb:");
    let err = build(&g, "web", JobKind::Start, &none_active).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Unit db is not active (Requisite= of web)."
    );
    let tx = build(&g, "web", JobKind::Start, &|u: &str| u == "db").unwrap();
    assert_eq!(
        jobs(&tx),
        ["web/start"],
        "Requisite= does not start anything"
    );
    // Wanted by the anchor: dropped alone, with what it would have pulled in.
    let g = graph("boot: wants=web,cache\nweb: requisite=db requires=helper\ndb:\nhelper:\ncache:");
    let tx = build(&g, "boot", JobKind::Start, &none_active).unwrap();
    assert_eq!(jobs(&tx), ["boot/start", "cache/start?"]);
    assert!(tx.notes[0].contains("not starting web"), "{:?}", tx.notes);
}

#[test]
fn conflicts_stop_the_other_side_both_ways() {
    let g = graph("a: conflicts=b,unloaded\nb:\nc:\nd: conflicts=c");
    let tx = build(&g, "a", JobKind::Start, &none_active).unwrap();
    assert_eq!(jobs(&tx), ["a/start", "b/stop"]);
    let tx = build(&g, "c", JobKind::Start, &none_active).unwrap();
    assert_eq!(jobs(&tx), ["c/start", "d/stop"]);
    // Requiring a unit you conflict with cannot work.
    let g = graph("a: conflicts=b requires=b\nb:");
    assert!(matches!(
        build(&g, "a", JobKind::Start, &none_active),
        Err(TransactionError::Conflicting { .. })
    ));
}

#[test]
fn stop_takes_dependents_along_in_reverse_order() {
    let g = graph(
        "web: requires=db after=db
         worker: binds=db after=db
         metrics: partof=web
         db:",
    );
    let tx = build(&g, "db", JobKind::Stop, &none_active).unwrap();
    assert_eq!(
        jobs(&tx),
        ["db/stop", "metrics/stop", "web/stop", "worker/stop"]
    );
    // web is After=db: web stops first.
    assert!(tx.order.contains(&("web".into(), "db".into())));
    assert!(tx.order.contains(&("worker".into(), "db".into())));
}

#[test]
fn stop_precedes_start_whatever_the_order() {
    let g = graph("a: conflicts=b before=b\nb:");
    let tx = build(&g, "a", JobKind::Start, &none_active).unwrap();
    assert_eq!(tx.order, BTreeSet::from([("b".to_owned(), "a".to_owned())]));
}

#[test]
fn ordering_cycles_are_broken_at_a_wanted_job() {
    let g = graph(
        "a: requires=b wants=c after=c
         b: after=a
         c: after=b",
    );
    // a after c after b after a: the cycle a → b → c → a; only c is merely wanted.
    let tx = build(&g, "a", JobKind::Start, &none_active).unwrap();
    assert_eq!(jobs(&tx), ["a/start", "b/start"]);
    assert!(
        tx.notes
            .iter()
            .any(|n| n.starts_with("Found ordering cycle") && n.ends_with("deleting job c/start")),
        "{:?}",
        tx.notes
    );
    let g = graph("a: requires=b after=b\nb: requires=a after=a");
    let err = build(&g, "a", JobKind::Start, &none_active).unwrap_err();
    assert!(matches!(err, TransactionError::Cyclic { .. }), "{err}");
    assert!(
        err.to_string().starts_with("Transaction order is cyclic: "),
        "{err}"
    );
}

#[test]
fn a_wanted_job_becomes_required_when_also_required() {
    let g = graph("a: wants=b requires=c\nc: requires=b\nb:");
    let tx = build(&g, "a", JobKind::Start, &none_active).unwrap();
    assert_eq!(jobs(&tx), ["a/start", "b/start", "c/start"]);
}

#[test]
fn queue_runs_in_order_and_propagates_failure() {
    let g = graph(
        "web: requires=db wants=cache after=db,cache
         db: requires=disk after=disk
         disk:
         cache:",
    );
    let mut q = JobQueue::default();
    q.add(build(&g, "web", JobKind::Start, &none_active).unwrap());
    let names = |v: Vec<(String, JobKind)>| v.into_iter().map(|(u, _)| u).collect::<Vec<_>>();
    // disk and cache first (in parallel); db after disk; web after db and cache.
    assert_eq!(names(q.take_runnable()), ["cache", "disk"]);
    assert!(q.take_runnable().is_empty());
    q.finish("disk", JobResult::Done);
    assert_eq!(names(q.take_runnable()), ["db"]);
    q.finish("cache", JobResult::Failed); // wanted: web still runs
    let ended = q.finish("db", JobResult::Failed);
    assert_eq!(
        ended,
        [
            ("db".to_owned(), JobKind::Start, JobResult::Failed),
            ("web".to_owned(), JobKind::Start, JobResult::Dependency)
        ]
    );
    assert!(q.is_empty());
}

#[test]
fn a_new_job_replaces_a_waiting_one() {
    let g = graph("a: after=b\nb:");
    let mut q = JobQueue::default();
    q.add(build(&g, "a", JobKind::Start, &none_active).unwrap());
    let canceled = q.add(build(&g, "a", JobKind::Stop, &none_active).unwrap());
    assert_eq!(canceled, ["a"]);
    assert_eq!(q.job("a"), Some((JobKind::Stop, false)));
    assert_eq!(q.cancel_waiting().len(), 1);
}

/// A unit held activating (a Type=notify service that never says READY=1) must stop when
/// asked: the running start job is canceled and replaced by the stop, as systemd does. The
/// stop used to be dropped, so `systemctl stop` and shutdown waited for ever.
#[test]
fn a_stop_replaces_a_running_start() {
    let g = graph("a:");
    let mut q = JobQueue::default();
    q.add(build(&g, "a", JobKind::Start, &none_active).unwrap());
    assert_eq!(q.take_runnable(), [("a".to_owned(), JobKind::Start)]);
    let canceled = q.add(build(&g, "a", JobKind::Stop, &|_| true).unwrap());
    assert_eq!(canceled, ["a"]);
    assert_eq!(q.job("a"), Some((JobKind::Stop, false)));
    assert_eq!(q.take_runnable(), [("a".to_owned(), JobKind::Stop)]);
}

/// A start asked while a stop runs replaces it (the stop's waiter hears "canceled") and runs
/// once the engine says the unit may start, as systemd's start waits for a deactivating unit.
#[test]
fn a_start_replaces_a_running_stop_and_waits() {
    let g = graph("a:");
    let mut q = JobQueue::default();
    q.add(build(&g, "a", JobKind::Stop, &|_| true).unwrap());
    assert_eq!(q.take_runnable(), [("a".to_owned(), JobKind::Stop)]);
    let canceled = q.add(build(&g, "a", JobKind::Start, &none_active).unwrap());
    assert_eq!(canceled, ["a"]);
    assert!(q.take_runnable_when(|_, _| false).is_empty());
    assert_eq!(q.job("a"), Some((JobKind::Start, false)));
    assert_eq!(
        q.take_runnable_when(|_, _| true),
        [("a".to_owned(), JobKind::Start)]
    );
}

/// Issue 18: shutdown's stops are one transaction, so After= between units that do not
/// require each other orders their stops (reversed); queued one unit at a time, they were not.
#[test]
fn r18_shutdown_orders_every_stop_and_breaks_cycles_by_an_edge() {
    let g = graph(
        "web: after=db,cache wants=db
         db: after=net
         cache:
         net:",
    );
    let all: Vec<String> = ["cache", "db", "net", "web"].map(String::from).to_vec();
    let tx = build_shutdown(&g, &all);
    assert_eq!(jobs(&tx), ["cache/stop", "db/stop", "net/stop", "web/stop"]);
    let mut q = JobQueue::default();
    q.add(tx);
    let names = |v: Vec<(String, JobKind)>| v.into_iter().map(|(u, _)| u).collect::<Vec<_>>();
    assert_eq!(names(q.take_runnable()), ["web"]);
    q.finish("web", JobResult::Done);
    assert_eq!(names(q.take_runnable()), ["cache", "db"]);
    q.finish("cache", JobResult::Done);
    assert!(q.take_runnable().is_empty(), "net stopped before db");
    q.finish("db", JobResult::Done);
    assert_eq!(names(q.take_runnable()), ["net"]);

    // Negative control: the same stops queued one transaction each carry no order at all.
    let mut q = JobQueue::default();
    for u in &all {
        q.add(build(&g, u, JobKind::Stop, &none_active).unwrap());
    }
    assert_eq!(names(q.take_runnable()).len(), 4);

    // A cycle among stops: every stop stays, one edge goes, and it is said.
    let g = graph(
        "a: after=b
         b: after=c
         c: after=a",
    );
    let tx = build_shutdown(&g, &["a".into(), "b".into(), "c".into()]);
    assert_eq!(tx.jobs.len(), 3);
    assert_eq!(tx.order.len(), 2, "{:?}", tx.order);
    assert!(
        tx.notes[0].starts_with("Found ordering cycle: "),
        "{:?}",
        tx.notes
    );
    let mut q = JobQueue::default();
    q.add(tx);
    assert_eq!(q.take_runnable().len(), 1);
}

/// Issue 18: a queue whose jobs all wait on each other is seen as stalled, and dropping the
/// order lets them run; jobs are stamped with when they were queued and began to run.
#[test]
fn r18_a_stalled_queue_is_seen_and_jobs_carry_their_times() {
    let g = graph(
        "a: after=b
         b:",
    );
    let mut q = JobQueue::default();
    q.add(build(&g, "a", JobKind::Stop, &none_active).unwrap());
    q.add(build(&g, "b", JobKind::Stop, &none_active).unwrap());
    assert!(!q.stalled());
    let t0 = std::time::Instant::now();
    q.stamp(t0);
    assert!(
        q.times()
            .all(|(_, t)| t.since == t0 && t.running_since.is_none())
    );
    let ran = q.take_runnable();
    assert_eq!(ran.len(), 2);
    let t1 = t0 + std::time::Duration::from_secs(1);
    q.stamp(t1);
    assert!(
        q.times()
            .all(|(_, t)| t.since == t0 && t.running_since == Some(t1))
    );
    // Two waiting jobs ordered both ways (as two transactions can leave them).
    let mut q = JobQueue::default();
    let mut tx = Transaction::default();
    for u in ["x", "y"] {
        tx.jobs.insert(
            u.into(),
            Job {
                kind: JobKind::Stop,
                required: true,
            },
        );
    }
    tx.order.insert(("x".into(), "y".into()));
    tx.order.insert(("y".into(), "x".into()));
    q.add(tx);
    assert!(q.take_runnable().is_empty());
    assert!(q.stalled());
    assert_eq!(q.drop_order().len(), 2);
    assert_eq!(q.take_runnable().len(), 2);
    assert!(!q.stalled());
}
