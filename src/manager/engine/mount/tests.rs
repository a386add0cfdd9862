//! The types systemd tracks in a container, in the engine without processes: mounts from a
//! tree's own mount table, slices, a device's job, and the failed state of every type counted
//! and reset (a socket that cannot listen, a mount unit not mounted).

use std::path::PathBuf;
use std::time::Instant;

use super::super::tests::Tree;
use crate::manager::jobs::JobResult;
use crate::manager::transaction::JobKind;
use crate::service::state::Active;
use crate::unit::SpecifierContext;
use crate::unit::load::{Loader, SearchPath};

const MOUNTINFO: &str = "\
22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
35 22 0:30 / /srv/data rw,nosuid - tmpfs data rw,size=1024k
";

/// Load `names` on demand, as a control request naming them would.
fn load(tree: &Tree, engine: &mut super::Engine, names: &[&str]) {
    let root = &tree.0;
    let search = SearchPath::new(root, vec![PathBuf::from("/etc/systemd/system")]);
    let loader = Loader::new(search, SpecifierContext::from_system(root));
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    engine.ensure_loaded(&loader, &names);
}

fn start(engine: &mut super::Engine, unit: &str) -> Option<JobResult> {
    engine
        .request(unit, JobKind::Start, Instant::now())
        .unwrap();
    engine.last_job(unit)
}

#[test]
fn mounts_of_the_table_are_active_and_required_mounts_for_order_after_them() {
    let tree = Tree::new(
        "mounts",
        &[
            (
                "db.service",
                "[Unit]\nRequiresMountsFor=/srv/data/db\n[Service]\nExecStart=/bin/true\n",
            ),
            ("opt.mount", "[Mount]\nWhat=tmpfs\nWhere=/opt\n"),
        ],
    );
    std::fs::write(tree.0.join("mountinfo"), MOUNTINFO).unwrap();
    let mut engine = tree.engine();
    load(&tree, &mut engine, &["db.service", "opt.mount"]);
    let snap = &engine.snapshots(&["srv-data.mount".to_owned()])[0];
    assert_eq!((snap.active, snap.sub_state), (Active::Active, "mounted"));
    assert_eq!(snap.description, "/srv/data");
    assert_eq!(snap.mount.as_ref().map(|m| m.what.as_str()), Some("data"));
    assert_eq!(
        engine.snapshots(&["-.mount".to_owned()])[0].description,
        "Root Mount"
    );
    let db = &engine.snapshots(&["db.service".to_owned()])[0];
    assert!(
        db.after.contains(&"srv-data.mount".to_owned()),
        "{:?}",
        db.after
    );
    assert!(db.after.contains(&"-.mount".to_owned()), "{:?}", db.after);
    assert!(
        !db.requires.iter().any(|r| r.ends_with(".mount")),
        "{:?}",
        db.requires
    );
    // A stop leaves it mounted.
    engine
        .request("srv-data.mount", JobKind::Stop, Instant::now())
        .unwrap();
    assert_eq!(engine.active_state("srv-data.mount"), Active::Active);
    // A mount unit file for a place not mounted: its start fails, and the failure counts.
    assert!(engine.failed_units().is_empty());
    assert_eq!(start(&mut engine, "opt.mount"), Some(JobResult::Failed));
    assert_eq!(engine.active_state("opt.mount"), Active::Failed);
    assert_eq!(engine.failed_units(), ["opt.mount"]);
    engine.reset_failed("opt.mount");
    assert_eq!(engine.active_state("opt.mount"), Active::Inactive);
    assert!(engine.failed_units().is_empty());
}

#[test]
fn a_socket_that_cannot_listen_is_failed_counted_and_reset() {
    let tree = Tree::new(
        "failed-socket",
        &[
            ("bad.socket", "[Socket]\nListenStream=/etc/blocker/x.sock\n"),
            ("bad.service", "[Service]\nExecStart=/bin/true\n"),
        ],
    );
    std::fs::write(tree.0.join("etc/blocker"), "a file\n").unwrap();
    let mut engine = tree.engine();
    load(&tree, &mut engine, &["bad.socket"]);
    let result = |engine: &super::Engine| engine.snapshots(&["bad.socket".to_owned()])[0].result;
    assert_eq!(start(&mut engine, "bad.socket"), Some(JobResult::Failed));
    assert_eq!(engine.failed_units(), ["bad.socket"]);
    assert_eq!(result(&engine), "resources");
    engine.reset_failed("bad.socket");
    assert_eq!(engine.active_state("bad.socket"), Active::Inactive);
    assert_eq!(result(&engine), "success");
    assert!(engine.failed_units().is_empty());
}

#[test]
fn slices_and_devices_as_systemd_has_them_in_a_container() {
    let tree = Tree::new("slices", &[]);
    let mut engine = tree.engine();
    load(&tree, &mut engine, &["app.slice", "dev-sdz.device"]);
    // Perpetual: active from the start, a stop leaves them so.
    for slice in ["-.slice", "system.slice"] {
        assert_eq!(engine.active_state(slice), Active::Active, "{slice}");
        engine
            .request(slice, JobKind::Stop, Instant::now())
            .unwrap();
        assert_eq!(engine.active_state(slice), Active::Active, "{slice}");
    }
    // Any other slice loads without a file, and starts and stops.
    assert_eq!(engine.active_state("app.slice"), Active::Inactive);
    assert_eq!(start(&mut engine, "app.slice"), Some(JobResult::Done));
    assert_eq!(engine.active_state("app.slice"), Active::Active);
    engine
        .request("app.slice", JobKind::Stop, Instant::now())
        .unwrap();
    assert_eq!(engine.active_state("app.slice"), Active::Inactive);
    // A device is never announced: its job fails at once, the unit stays dead (not failed).
    engine.take_notes();
    assert_eq!(
        start(&mut engine, "dev-sdz.device"),
        Some(JobResult::Failed)
    );
    assert_eq!(engine.active_state("dev-sdz.device"), Active::Inactive);
    assert!(engine.failed_units().is_empty());
    let notes = format!("{:?}", engine.take_notes());
    assert!(notes.contains("no udev"), "{notes}");
}

#[test]
fn a_timer_whose_unit_is_missing_is_failed_counted_and_reset() {
    let tree = Tree::new(
        "failed-timer",
        &[(
            "lost.timer",
            "[Timer]\nOnActiveSec=1h\nUnit=nowhere.service\n",
        )],
    );
    let mut engine = tree.engine();
    load(&tree, &mut engine, &["lost.timer"]);
    assert_eq!(start(&mut engine, "lost.timer"), Some(JobResult::Failed));
    assert_eq!(engine.failed_units(), ["lost.timer"]);
    engine.reset_failed("lost.timer");
    assert_eq!(engine.active_state("lost.timer"), Active::Inactive);
    assert!(engine.failed_units().is_empty());
}
