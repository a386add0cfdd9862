//! Collecting a boot's units from a scratch root and deriving their graph.

use super::*;
use crate::manager::transaction::{JobKind, build};
use crate::unit::SpecifierContext;
use crate::unit::load::SearchPath;
use std::fs;
use std::path::{Path, PathBuf};

/// A scratch root, removed when the test is done with it (passing or not).
struct Root(PathBuf);

impl std::ops::Deref for Root {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.0
    }
}

impl AsRef<Path> for Root {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn root(tag: &str, files: &[(&str, &str)]) -> Root {
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
    Root(dir)
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

/// A tree with every kind of name the listing stands in for: aliases, a mask, a template and
/// its instance, unit, template, dash-prefix and type-wide drop-ins, `.wants/` and
/// `.requires/` links, one name in two directories.
fn listing_tree(tag: &str) -> Root {
    root(
        tag,
        &[
            (
                "etc/systemd/system/web.service",
                "[Unit]\nWants=db.service worker@1.service\n[Service]\nExecStart=/bin/true\n",
            ),
            (
                "usr/lib/systemd/system/web.service",
                "[Service]\nExecStart=/bin/false\n",
            ),
            (
                "usr/lib/systemd/system/db.service",
                "[Service]\nExecStart=/bin/true\n",
            ),
            ("etc/systemd/system/database.service", "->db.service"),
            ("etc/systemd/system/gone.service", "->/dev/null"),
            (
                "usr/lib/systemd/system/worker@.service",
                "[Service]\nExecStart=/bin/echo %i\n",
            ),
            (
                "etc/systemd/system/worker@.service.d/10-env.conf",
                "[Service]\nEnvironment=A=1\n",
            ),
            (
                "etc/systemd/system/web.service.d/20-after.conf",
                "[Unit]\nAfter=db.service\n",
            ),
            (
                "usr/lib/systemd/system/service.d/00-all.conf",
                "[Unit]\nDocumentation=man:all\n",
            ),
            (
                "etc/systemd/system/worker-.service.d/30-none.conf",
                "[Unit]\nDescription=never a prefix of worker@\n",
            ),
            (
                "etc/systemd/system/multi-user.target.wants/web.service",
                "->../web.service",
            ),
            (
                "etc/systemd/system/web.service.requires/database.service",
                "->../database.service",
            ),
            (
                "etc/systemd/system/multi-user.target.wants/gone.service",
                "->../gone.service",
            ),
        ],
    )
}

/// What the loader found for each name: fragment, drop-ins, links, aliases, load state.
fn found(l: &Loader, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|n| match l.load(n) {
            Ok(u) => format!(
                "{n}: {} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                u.name, u.fragment, u.masked_by, u.dropins, u.wants, u.requires, u.aliases, u.state
            ),
            Err(e) => format!("{n}: {e}"),
        })
        .collect()
}

#[test]
fn a_listed_loader_finds_what_the_disk_has() {
    let dir = listing_tree("listed");
    let names = [
        "web.service",
        "db.service",
        "database.service",
        "gone.service",
        "worker@1.service",
        "worker@.service",
        "multi-user.target",
        "nowhere.service",
    ];
    let l = loader(&dir);
    let plain = found(&l, &names);
    assert_eq!(found(&l.listed(), &names), plain);
    // The tree is what the names need: the drop-ins, links and aliases are there.
    let text = plain.join("\n");
    for expected in [
        "20-after.conf",
        "00-all.conf",
        "10-env.conf",
        "database.service",
    ] {
        assert!(text.contains(expected), "{expected} missing from\n{text}");
    }
    assert!(!text.contains("30-none.conf"), "{text}");
    let (listed, aliases) = collect(&l, &["multi-user.target".to_owned()]);
    assert!(listed.contains_key("worker@1.service"));
    assert_eq!(
        aliases.get("database.service").map(String::as_str),
        Some("db.service")
    );
}

#[test]
fn a_listing_sees_the_files_of_its_time_and_the_next_one_the_new_ones() {
    let dir = listing_tree("relist");
    let l = loader(&dir);
    let listed = l.listed();
    fs::write(
        dir.join("etc/systemd/system/late.service"),
        "[Service]\nExecStart=/bin/true\n",
    )
    .unwrap();
    fs::create_dir_all(dir.join("etc/systemd/system/db.service.d")).unwrap();
    fs::write(
        dir.join("etc/systemd/system/db.service.d/late.conf"),
        "[Unit]\nDescription=late\n",
    )
    .unwrap();
    // The listing of before: neither the new unit nor the new drop-in directory.
    assert!(listed.load("late.service").is_err());
    let late = |l: &Loader| {
        l.load("db.service")
            .unwrap()
            .dropins
            .iter()
            .any(|d| d.ends_with("late.conf"))
    };
    assert!(!late(&listed));
    // A new listing, and the unlisted loader (the negative control), see both.
    for fresh in [l.listed(), l] {
        assert!(fresh.load("late.service").is_ok());
        assert!(late(&fresh));
    }
}
