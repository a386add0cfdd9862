//! Collecting a boot's units from a scratch root and deriving their graph.

use super::*;
use crate::manager::transaction::{JobKind, build};
use crate::unit::SpecifierContext;
use crate::unit::load::SearchPath;
use std::fs;
use std::path::{Path, PathBuf};

fn root(tag: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bosun-units-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    for (path, text) in files {
        let p = dir.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        if let Some(target) = text.strip_prefix("->") {
            std::os::unix::fs::symlink(target, &p).unwrap();
        } else {
            fs::write(&p, text).unwrap();
        }
    }
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn loader(root: &Path) -> Loader {
    Loader::new(SearchPath::system(root), SpecifierContext::fixed())
}

#[test]
fn boot_set_from_enablement_links_with_builtin_targets() {
    let sys = "etc/systemd/system";
    let dir = root(
        "boot",
        &[
            (
                &format!("{sys}/web.service"),
                "[Unit]\nRequires=db.service\nAfter=db.service\nWants=nowhere.service\n[Service]\nExecStart=/bin/true\n",
            ),
            (
                &format!("{sys}/db.service"),
                "[Service]\nExecStart=/bin/true\n",
            ),
            (
                &format!("{sys}/multi-user.target.wants/web.service"),
                "->../web.service",
            ),
            (&format!("{sys}/hidden.service"), "->/dev/null"),
            (
                &format!("{sys}/multi-user.target.wants/hidden.service"),
                "->../hidden.service",
            ),
        ],
    );
    let l = loader(&dir);
    let default = l.default_target().to_string();
    assert_eq!(default, "multi-user.target");
    let (units, _) = collect(&l, std::slice::from_ref(&default));
    let names: Vec<&str> = units.keys().map(String::as_str).collect();
    for expected in [
        "web.service",
        "db.service",
        "basic.target",
        "sysinit.target",
        "sockets.target",
        "nowhere.service",
        "hidden.service",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    assert!(matches!(units["multi-user.target"], Entry::Builtin { .. }));
    assert!(
        matches!(&units["nowhere.service"], Entry::Missing(m) if m == "Unit nowhere.service not found.")
    );
    let g = graph(&units, &BTreeMap::new());
    // web waits for db (After=) and for basic.target (default dependency); multi-user waits for web.
    assert!(g.ordered_after("web.service", "db.service"));
    assert!(g.ordered_after("web.service", "basic.target"));
    assert!(g.ordered_after("multi-user.target", "web.service"));
    assert!(g.ordered_after("basic.target", "sysinit.target"));
    assert!(g.conflicts_of("web.service").contains("shutdown.target"));
    assert!(
        !g.conflicts_of("shutdown.target")
            .contains("shutdown.target")
    );

    let tx = build(&g, &default, JobKind::Start, &|_: &str| false).unwrap();
    let jobs: Vec<&str> = tx.jobs.keys().map(String::as_str).collect();
    assert!(
        jobs.contains(&"web.service") && jobs.contains(&"db.service"),
        "{jobs:?}"
    );
    assert!(jobs.contains(&"sysinit.target"), "{jobs:?}");
    assert!(
        tx.notes.iter().all(|n| !n.contains("cycle")),
        "{:?}",
        tx.notes
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn default_dependencies_no_keeps_a_unit_early() {
    let sys = "etc/systemd/system";
    let dir = root(
        "early",
        &[
            (
                &format!("{sys}/early.service"),
                "[Unit]\nDefaultDependencies=no\n[Service]\nExecStart=/bin/true\n",
            ),
            (
                &format!("{sys}/sysinit.target.wants/early.service"),
                "->../early.service",
            ),
        ],
    );
    let l = loader(&dir);
    let (units, aliases) = collect(&l, &["multi-user.target".to_owned()]);
    let g = graph(&units, &aliases);
    assert!(!g.ordered_after("early.service", "sysinit.target"));
    assert!(
        !g.ordered_after("sysinit.target", "early.service"),
        "opted out of the target's After="
    );
    fs::remove_dir_all(&dir).unwrap();
}

/// Issue #19: a unit a target pulls in but that is ordered after the target (Debian's
/// systemd-pcrphase.service in sysinit.target.wants, after sysinit.target by its own default
/// dependencies) does not get the target ordered after it: no cycle
/// (unit_add_default_target_dependency(): "don't create loops"); a unit without that
/// ordering still does (negative control).
#[test]
fn a_target_is_not_ordered_after_a_unit_ordered_after_it() {
    let sys = "etc/systemd/system";
    let dir = root(
        "loops",
        &[
            (
                &format!("{sys}/late.service"),
                "[Unit]\nAfter=remote-fs.target\n[Service]\nExecStart=/bin/true\n",
            ),
            (
                &format!("{sys}/sysinit.target.wants/late.service"),
                "->../late.service",
            ),
            (
                &format!("{sys}/plain.service"),
                "[Service]\nExecStart=/bin/true\n",
            ),
            (
                &format!("{sys}/multi-user.target.wants/plain.service"),
                "->../plain.service",
            ),
        ],
    );
    let l = loader(&dir);
    let (units, aliases) = collect(&l, &["multi-user.target".to_owned()]);
    let g = graph(&units, &aliases);
    assert!(g.ordered_after("late.service", "sysinit.target"));
    assert!(!g.ordered_after("sysinit.target", "late.service"));
    assert!(g.ordered_after("multi-user.target", "plain.service"));
    let tx = build(&g, "multi-user.target", JobKind::Start, &|_: &str| false).unwrap();
    assert!(
        tx.notes.iter().all(|n| !n.contains("cycle")),
        "{:?}",
        tx.notes
    );
    fs::remove_dir_all(&dir).unwrap();
}

/// A default target that does not lead to sysinit.target (an image's own multi-user.target
/// without Requires=basic.target): a service still finds the built-in sysinit.target its
/// default Requires= names, so its start transaction can be built.
#[test]
fn a_service_brings_its_default_requirement_along() {
    let sys = "etc/systemd/system";
    let dir = root(
        "sysinit",
        &[
            (
                "lib/systemd/system/multi-user.target",
                "[Unit]\nDescription=Multi-User System\n",
            ),
            (
                &format!("{sys}/web.service"),
                "[Service]\nExecStart=/bin/true\n",
            ),
            (
                &format!("{sys}/multi-user.target.wants/web.service"),
                "->../web.service",
            ),
        ],
    );
    let l = loader(&dir);
    let (units, aliases) = collect(&l, &["multi-user.target".to_owned()]);
    assert!(
        matches!(units.get("sysinit.target"), Some(Entry::Builtin { .. })),
        "{:?}",
        units.keys().collect::<Vec<_>>()
    );
    let g = graph(&units, &aliases);
    let tx = build(&g, "web.service", JobKind::Start, &|_| false).unwrap();
    assert!(tx.jobs.contains_key("sysinit.target"));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_timer_loads_its_unit_and_is_ordered_as_systemd_orders_it() {
    let sys = "etc/systemd/system";
    let dir = root(
        "timer",
        &[
            (
                &format!("{sys}/backup.timer"),
                "[Timer]\nOnCalendar=daily\n[Install]\nWantedBy=timers.target\n",
            ),
            (
                &format!("{sys}/backup.service"),
                "[Service]\nType=oneshot\nExecStart=/bin/true\n",
            ),
            (
                &format!("{sys}/tick.timer"),
                "[Unit]\nDefaultDependencies=no\n[Timer]\nOnActiveSec=5\nUnit=other.service\n",
            ),
            (
                &format!("{sys}/other.service"),
                "[Service]\nExecStart=/bin/true\n",
            ),
            (
                &format!("{sys}/timers.target.wants/backup.timer"),
                "->../backup.timer",
            ),
            (
                &format!("{sys}/timers.target.wants/tick.timer"),
                "->../tick.timer",
            ),
        ],
    );
    let l = loader(&dir);
    let (units, aliases) = collect(&l, &["multi-user.target".to_owned()]);
    // Enabled into the built-in timers.target (multi-user → basic → timers), with their units.
    for name in [
        "timers.target",
        "backup.timer",
        "backup.service",
        "tick.timer",
        "other.service",
        "time-set.target",
    ] {
        assert!(units.contains_key(name), "{name} not loaded");
    }
    let g = graph(&units, &aliases);
    let backup = g.deps("backup.timer").unwrap();
    for after in ["sysinit.target", "time-set.target", "time-sync.target"] {
        assert!(backup.after.contains(after), "no After={after}");
    }
    assert!(backup.requires.contains("sysinit.target"));
    for before in ["backup.service", "timers.target", "shutdown.target"] {
        assert!(backup.before.contains(before), "no Before={before}");
    }
    // Without default dependencies: only the implicit Before= its unit.
    let tick = g.deps("tick.timer").unwrap();
    assert!(tick.before.contains("other.service"));
    assert!(!tick.before.contains("timers.target") && tick.after.is_empty());
    assert!(!tick.before.contains("tick.service"));
}

#[test]
fn path_units_load_their_unit_and_get_systemds_default_dependencies() {
    let sys = "etc/systemd/system";
    let dir = root(
        "path",
        &[
            (
                &format!("{sys}/cups.path"),
                "[Path]\nPathExists=/var/cache/cups/org.cups.cupsd\n[Install]\nWantedBy=multi-user.target\n",
            ),
            (
                &format!("{sys}/cups.service"),
                "[Service]\nExecStart=/bin/true\n",
            ),
            (
                &format!("{sys}/multi-user.target.wants/cups.path"),
                "->../cups.path",
            ),
        ],
    );
    let l = loader(&dir);
    let (units, aliases) = collect(&l, &["multi-user.target".to_owned()]);
    for name in [
        "cups.path",
        "cups.service",
        "paths.target",
        "sysinit.target",
    ] {
        assert!(units.contains_key(name), "{name} not loaded");
    }
    let g = graph(&units, &aliases);
    let cups = g.deps("cups.path").unwrap();
    assert!(cups.after.contains("sysinit.target") && cups.requires.contains("sysinit.target"));
    for before in ["cups.service", "paths.target", "shutdown.target"] {
        assert!(cups.before.contains(before), "no Before={before}");
    }
    assert!(cups.conflicts.contains("shutdown.target"));
}
