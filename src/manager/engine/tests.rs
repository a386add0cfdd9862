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
struct Tree(PathBuf);

impl Tree {
    fn new(tag: &str, units: &[(&str, &str)]) -> Tree {
        let root = std::env::temp_dir().join(format!("bosun-engine-{tag}-{}", std::process::id()));
        let dir = root.join("etc/systemd/system");
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in units {
            std::fs::write(dir.join(name), text).unwrap();
        }
        Tree(root)
    }

    fn engine(&self) -> Engine {
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
    let tree = Tree::new("inert", &[("watch.path", "[Path]\nPathExists=/x\n")]);
    let mut engine = tree.engine();
    engine.take_notes();
    engine
        .request("watch.path", JobKind::Start, Instant::now())
        .unwrap();
    assert_eq!(engine.last_job("watch.path"), Some(JobResult::Failed));
    let reason = "watch.path: .path units are not supported by bosun";
    assert!(
        engine.take_notes().contains(&Note::Error(reason.into())),
        "no reason said"
    );
    let snap = &engine.snapshots(&["watch.path".to_owned()])[0];
    assert_eq!(
        (snap.load, snap.active, snap.load_error.as_deref()),
        (LoadStatus::Loaded, Active::Inactive, Some(reason))
    );
    // A stop of it is done at once.
    engine
        .request("watch.path", JobKind::Stop, Instant::now())
        .unwrap();
    assert_eq!(engine.last_job("watch.path"), Some(JobResult::Done));
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
