//! The engine's dispatch to unit types that run no process (targets, inert units), without
//! processes: a unit tree in a temporary root, jobs requested, snapshots read.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{Engine, LoadStatus, Note, Settings};
use crate::manager::jobs::JobResult;
use crate::manager::transaction::JobKind;
use crate::service::state::{Active, Defaults};
use crate::unit::SpecifierContext;
use crate::unit::load::{Loader, SearchPath};

/// A root with `units` (name, text) in /etc/systemd/system; removed on drop.
pub(super) struct Tree(pub(super) PathBuf);

impl Tree {
    pub(super) fn new(tag: &str, units: &[(&str, &str)]) -> Tree {
        let root = std::env::temp_dir().join(format!("bosun-engine-{tag}-{}", std::process::id()));
        let dir = root.join("etc/systemd/system");
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in units {
            std::fs::write(dir.join(name), text).unwrap();
        }
        Tree(root)
    }

    pub(super) fn engine(&self) -> Engine {
        let root: &Path = &self.0;
        let settings = Settings {
            root: root.to_owned(),
            defaults: Defaults::default(),
            notify_address: String::new(),
            cgroups: None,
            environment: Vec::new(),
            run_as: None,
            started: Instant::now(),
            timer_stamps: root.join("timers"),
            // A tree's own mount table, when it has one.
            mountinfo: Some(root.join("mountinfo")).filter(|p| p.exists()),
            keeper: None,
        };
        let search = SearchPath::new(root, vec![PathBuf::from("/etc/systemd/system")]);
        let loader = Loader::new(search, SpecifierContext::from_system(root));
        let mut engine = Engine::load(settings, &loader, &[]);
        engine.ensure_loaded(&loader, &["app.target".into(), "watch.path".into()]);
        engine
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sub_state(engine: &Engine, unit: &str) -> &'static str {
    engine.snapshots(&[unit.to_owned()])[0].sub_state
}

#[test]
fn a_target_is_reached_and_stopped_through_its_type() {
    let tree = Tree::new("target", &[("app.target", "[Unit]\nDescription=App\n")]);
    let mut engine = tree.engine();
    engine.take_notes();
    engine
        .request("app.target", JobKind::Start, Instant::now())
        .unwrap();
    assert_eq!(engine.active_state("app.target"), Active::Active);
    assert_eq!(sub_state(&engine, "app.target"), "active");
    assert_eq!(engine.last_job("app.target"), Some(JobResult::Done));
    assert!(
        engine
            .take_notes()
            .contains(&Note::Detail("Reached target App.".into())),
        "no milestone"
    );
    engine
        .request("app.target", JobKind::Stop, Instant::now())
        .unwrap();
    assert_eq!(engine.active_state("app.target"), Active::Inactive);
    assert_eq!(sub_state(&engine, "app.target"), "dead");
    assert!(engine.all_stopped() && engine.next_deadline().is_none());
}

#[test]
fn a_unit_that_cannot_run_fails_its_start_with_the_reason() {
    let tree = Tree::new("inert", &[("watch.path", "[Path]\nUnit=app.target\n")]);
    let mut engine = tree.engine();
    engine.take_notes();
    engine
        .request("watch.path", JobKind::Start, Instant::now())
        .unwrap();
    assert_eq!(engine.last_job("watch.path"), Some(JobResult::Failed));
    let reason = "Unit watch.path has a bad unit file (see the errors above).";
    assert!(
        engine.take_notes().contains(&Note::Error(reason.into())),
        "no reason said"
    );
    let snap = &engine.snapshots(&["watch.path".to_owned()])[0];
    assert_eq!(
        (snap.load, snap.active, snap.load_error.as_deref()),
        (LoadStatus::BadSetting, Active::Inactive, Some(reason))
    );
    // A stop of it is done at once.
    engine
        .request("watch.path", JobKind::Stop, Instant::now())
        .unwrap();
    assert_eq!(engine.last_job("watch.path"), Some(JobResult::Done));
}

/// A path unit that triggers a target (no process): `flag` under the tree's root.
fn path_tree(tag: &str, path_section: &str) -> Tree {
    Tree::new(
        tag,
        &[
            ("app.target", "[Unit]\nDescription=App\n"),
            (
                "watch.path",
                &format!("[Path]\n{path_section}Unit=app.target\n"),
            ),
        ],
    )
}

#[test]
fn a_path_already_there_at_start_triggers_at_once_and_rearms_when_its_unit_stops() {
    let tree = path_tree("path-level", "PathExists=/flag\n");
    std::fs::write(tree.0.join("flag"), "").unwrap();
    let mut engine = tree.engine();
    let now = Instant::now();
    engine.request("watch.path", JobKind::Start, now).unwrap();
    assert_eq!(engine.active_state("app.target"), Active::Active);
    assert_eq!(sub_state(&engine, "watch.path"), "running");
    let snap = &engine.snapshots(&["app.target".to_owned()])[0];
    assert_eq!(
        snap.triggered_by,
        [("watch.path".to_owned(), Active::Active)]
    );
    // Level-triggered: the unit stopped while the path is still there starts again.
    engine.request("app.target", JobKind::Stop, now).unwrap();
    assert_eq!(engine.active_state("app.target"), Active::Active);
    // Gone: the unit stays down and the path unit waits, watching.
    std::fs::remove_file(tree.0.join("flag")).unwrap();
    engine.request("app.target", JobKind::Stop, now).unwrap();
    assert_eq!(engine.active_state("app.target"), Active::Inactive);
    assert_eq!(sub_state(&engine, "watch.path"), "waiting");
    assert_eq!(engine.path_watches().len(), 1);
    // It appears: the watch says so, and the unit starts.
    std::fs::write(tree.0.join("flag"), "").unwrap();
    engine.on_path_ready("watch.path", 0, now);
    assert_eq!(engine.active_state("app.target"), Active::Active);
    assert!(
        engine.path_watches().is_empty(),
        "a running path unit watches nothing"
    );
    // Stopped, it watches nothing and triggers nothing.
    engine.request("watch.path", JobKind::Stop, now).unwrap();
    assert_eq!(sub_state(&engine, "watch.path"), "dead");
}

#[test]
fn path_changed_fires_on_a_write_and_on_removal_but_not_at_start() {
    let tree = path_tree("path-edge", "PathChanged=/conf\n");
    std::fs::write(tree.0.join("conf"), "a").unwrap();
    let mut engine = tree.engine();
    let now = Instant::now();
    engine.request("watch.path", JobKind::Start, now).unwrap();
    assert_eq!(engine.active_state("app.target"), Active::Inactive);
    assert_eq!(sub_state(&engine, "watch.path"), "waiting");
    // A write without close is no change (PathModified= would fire).
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(tree.0.join("conf"))
        .unwrap();
    std::io::Write::write_all(&mut f, b"b").unwrap();
    engine.on_path_ready("watch.path", 0, now);
    assert_eq!(engine.active_state("app.target"), Active::Inactive);
    drop(f);
    engine.on_path_ready("watch.path", 0, now);
    assert_eq!(engine.active_state("app.target"), Active::Active);
    // The unit goes down: the edge does not fire again by itself.
    engine.request("app.target", JobKind::Stop, now).unwrap();
    assert_eq!(sub_state(&engine, "watch.path"), "waiting");
    std::fs::remove_file(tree.0.join("conf")).unwrap();
    engine.on_path_ready("watch.path", 0, now);
    assert_eq!(engine.active_state("app.target"), Active::Active);
}

#[test]
fn the_trigger_limit_fails_the_path_unit() {
    let tree = path_tree(
        "path-limit",
        "PathExists=/flag\nTriggerLimitBurst=3\nTriggerLimitIntervalSec=1h\n",
    );
    std::fs::write(tree.0.join("flag"), "").unwrap();
    let mut engine = tree.engine();
    let now = Instant::now();
    engine.request("watch.path", JobKind::Start, now).unwrap();
    for _ in 0..2 {
        engine.request("app.target", JobKind::Stop, now).unwrap();
        assert_eq!(engine.active_state("app.target"), Active::Active);
    }
    engine.take_notes();
    engine.request("app.target", JobKind::Stop, now).unwrap();
    assert_eq!(engine.active_state("app.target"), Active::Inactive);
    let snap = &engine.snapshots(&["watch.path".to_owned()])[0];
    assert_eq!(
        (snap.active, snap.result),
        (Active::Failed, "trigger-limit-hit")
    );
    let notes = engine.take_notes();
    assert!(
        notes.contains(&Note::Warning(
            "watch.path: Trigger limit hit, refusing further activation.".into()
        )),
        "{notes:?}"
    );
    engine.reset_failed("watch.path");
    let snap = &engine.snapshots(&["watch.path".to_owned()])[0];
    assert_eq!((snap.active, snap.result), (Active::Inactive, "success"));
}

#[test]
fn a_path_unit_whose_unit_never_comes_up_yields_to_the_loop() {
    // No trigger limit, and a unit skipped at every start: systemd spins on its event loop;
    // bosun re-checks once per turn of PID 1's loop, never inside one dispatch.
    let tree = Tree::new(
        "path-spin",
        &[
            (
                "app.socket",
                "[Unit]\nConditionPathExists=/nowhere\n[Socket]\nListenStream=/run/app.sock\n",
            ),
            (
                "watch.path",
                "[Path]\nPathExists=/flag\nUnit=app.socket\nTriggerLimitBurst=0\n",
            ),
        ],
    );
    std::fs::write(tree.0.join("flag"), "").unwrap();
    let mut engine = tree.engine();
    let now = Instant::now();
    engine.request("watch.path", JobKind::Start, now).unwrap();
    assert_eq!(engine.last_job("app.socket"), Some(JobResult::Skipped));
    let due = engine.next_deadline().expect("a re-check on the next turn");
    assert!(due <= Instant::now());
    // The next turn re-checks, starts the unit again (skipped again) and waits for the next.
    engine.forget_job("app.socket");
    engine.on_time(Instant::now());
    assert_eq!(engine.last_job("app.socket"), Some(JobResult::Skipped));
    assert!(engine.next_deadline().is_some());
    // Gone: the next turn finds nothing to do and the path unit waits, with no deadline.
    std::fs::remove_file(tree.0.join("flag")).unwrap();
    engine.on_time(Instant::now());
    assert_eq!(sub_state(&engine, "watch.path"), "waiting");
    assert!(engine.next_deadline().is_none());
}

/// Issue 18: once every unit is being stopped, nothing starts (systemd refuses the start as
/// destructive to the shutdown's jobs), and the engine says it is shutting down.
#[test]
fn r18_nothing_starts_once_shutdown_began() {
    let tree = Tree::new("shutdown", &[("app.target", "[Unit]\nDescription=App\n")]);
    let mut engine = tree.engine();
    engine
        .request("app.target", JobKind::Start, Instant::now())
        .unwrap();
    assert!(!engine.shutting_down());
    engine.stop_all(Instant::now());
    assert!(engine.shutting_down());
    assert_eq!(engine.active_state("app.target"), Active::Inactive);
    assert!(engine.all_stopped());
    let refused = engine.request("app.target", JobKind::Start, Instant::now());
    assert_eq!(
        refused.map_err(|e| e.to_string()),
        Err(
            "Transaction for app.target/start is destructive (the system is shutting down)."
                .to_owned()
        )
    );
    assert_eq!(engine.active_state("app.target"), Active::Inactive);
    // A stop is still accepted.
    engine
        .request("app.target", JobKind::Stop, Instant::now())
        .unwrap();
}
