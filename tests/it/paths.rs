//! Path units (issue 18) run by bosun as a real PID 1, with Debian 12's own `cups.path`
//! (PathExists=) and `nut-driver-enumerator.path` (PathModified=) from `unit-examples/` in front
//! of fixture services that record their runs: a path created (through a parent directory that
//! appears later), written, removed and created again starts the unit; a condition met at boot
//! starts it at once; a level condition still met when the unit goes down starts it again, and
//! the path unit waits again once it is not; PathChanged= ignores a write until it is closed
//! where PathModified= does not; the trigger limit fails the unit; MakeDirectory= creates the
//! watched directory; `list-paths`, `status` and `show` print systemd 252's layout.
//!
//! Negative controls: writes to paths nobody watches, and a write PathChanged= does not watch,
//! start nothing. "Nothing" is read after a later event that PID 1 handles on the same loop has
//! had its effect, never after a sleep.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::harness::{Pid1, Scratch, systemctl_in as systemctl, wait_until};

const T: Duration = Duration::from_secs(30);

/// Debian's own unit file from `unit-examples/`.
fn debian(name: &str) -> String {
    fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("unit-examples")
            .join(name),
    )
    .unwrap()
}

/// A root whose /etc/systemd/system holds `units` (name, text); the `.path` ones are enabled
/// into multi-user.target (cups.path's own WantedBy=; nut's nut.target is not needed here).
fn root_with(dir: &Scratch, units: &[(&str, String)]) -> PathBuf {
    let root = dir.join("root");
    let etc = root.join("etc/systemd/system");
    let wants = etc.join("multi-user.target.wants");
    fs::create_dir_all(&wants).unwrap();
    for (name, text) in units {
        fs::write(etc.join(name), text).unwrap();
        if name.ends_with(".path") {
            std::os::unix::fs::symlink(format!("../{name}"), wants.join(name)).unwrap();
        }
    }
    root
}

/// A oneshot service that appends a line to `out` each time it runs.
fn recording(description: &str, out: &Path) -> String {
    format!(
        "[Unit]\nDescription={description}\n[Service]\nType=oneshot\n\
         ExecStart=/bin/sh -c 'echo run >> {}'\n",
        out.display()
    )
}

/// How many times a recording service ran.
fn runs(out: &Path) -> usize {
    fs::read_to_string(out).unwrap_or_default().lines().count()
}

/// The units of a barrier: `probe.path` runs `probe.service` whenever /probe changes.
fn probe_units(dir: &Scratch) -> [(&'static str, String); 2] {
    [
        ("probe.path", "[Path]\nPathChanged=/probe\n".to_owned()),
        ("probe.service", recording("probe", &dir.join("probed"))),
    ]
}

/// A barrier for negative controls: an event written after the ones under test, handled by
/// PID 1's loop like them, whose unit has run (the `n`th time) and whose path unit waits again.
/// Whatever those earlier events were to start has been started by then.
fn barrier(pid1: &Pid1, root: &Path, dir: &Scratch, n: usize) {
    fs::write(root.join("probe"), n.to_string()).unwrap();
    let probed = dir.join("probed");
    assert!(
        wait_until(T, || runs(&probed) == n),
        "probe {n}\n{}",
        pid1.stderr_now()
    );
    wait_sub(pid1, root, "probe.path", "waiting");
}

fn boot(root: &Path) -> Option<Pid1> {
    Pid1::bosun()
        .env("BOSUN_ROOT", root)
        .args(["--", "sleep", "3600"])
        .start()
}

/// `systemctl show UNIT -p PROPERTY --value`.
fn property(pid1: &Pid1, root: &Path, unit: &str, name: &str) -> String {
    systemctl(pid1.pid(), root, &["show", unit, "-p", name, "--value"])
        .0
        .trim_end()
        .to_owned()
}

/// Wait until `unit`'s SubState is `sub`.
fn wait_sub(pid1: &Pid1, root: &Path, unit: &str, sub: &str) {
    let mut last = String::new();
    let reached = wait_until(T, || {
        last = property(pid1, root, unit, "SubState");
        last == sub
    });
    assert!(
        reached,
        "{unit} stayed {last}, not {sub}\n{}{}",
        pid1.stderr_now(),
        pid1.stderr_now()
    );
}

#[test]
fn cups_path_starts_cups_once_its_cache_file_appears_and_again_while_it_stays() {
    let dir = Scratch::new("paths-cups");
    let started = dir.join("cups-started");
    let cups_service = format!(
        "[Unit]\nDescription=CUPS Scheduler\n[Service]\n\
         ExecStart=/bin/sh -c 'echo run >> {}; exec sleep 3600'\n",
        started.display()
    );
    let [p0, p1] = probe_units(&dir);
    let root = root_with(
        &dir,
        &[
            ("cups.path", debian("cups.path")),
            ("cups.service", cups_service),
            p0,
            p1,
        ],
    );
    fs::create_dir_all(root.join("var/cache")).unwrap();
    let Some(pid1) = boot(&root) else { return };
    let pid = pid1.pid();
    wait_sub(&pid1, &root, "cups.path", "waiting");
    assert_eq!(runs(&started), 0);
    // systemd 252's list-paths: one row per watched path, the count under it.
    let (out, code) = systemctl(pid, &root, &["list-paths"]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        out,
        "PATH                           CONDITION   UNIT       ACTIVATES\n\
         /probe                         PathChanged probe.path probe.service\n\
         /var/cache/cups/org.cups.cupsd PathExists  cups.path  cups.service\n\
         \n2 paths listed.\nPass --all to see loaded but inactive paths, too.\n"
    );
    let (out, _) = systemctl(pid, &root, &["list-paths", "--no-legend", "cups"]);
    assert_eq!(out.lines().count(), 1, "{out}");
    let (out, _) = systemctl(pid, &root, &["list-paths", "--no-legend", "nut*"]);
    assert_eq!(out, "", "a pattern that matches no path unit lists nothing");
    let (out, _) = systemctl(pid, &root, &["show", "cups.path"]);
    for line in [
        "Unit=cups.service",
        "Paths=/var/cache/cups/org.cups.cupsd (PathExists)",
        "MakeDirectory=no",
        "DirectoryMode=0755",
        "Result=success",
        "TriggerLimitIntervalUSec=2s",
        "TriggerLimitBurst=200",
        "Triggers=cups.service",
        "Before=cups.service paths.target shutdown.target",
    ] {
        assert!(out.lines().any(|l| l == line), "no {line}:\n{out}");
    }

    // Its directory appears (watched from /var/cache), then a file nobody watches: nothing.
    fs::create_dir(root.join("var/cache/cups")).unwrap();
    fs::write(root.join("var/cache/cups/other"), "").unwrap();
    barrier(&pid1, &root, &dir, 1);
    assert_eq!(
        property(&pid1, &root, "cups.service", "ActiveState"),
        "inactive"
    );
    assert_eq!(property(&pid1, &root, "cups.path", "SubState"), "waiting");
    // Then the file itself: cups.service starts, once.
    fs::write(root.join("var/cache/cups/org.cups.cupsd"), "").unwrap();
    assert!(
        wait_until(T, || runs(&started) == 1),
        "{}",
        pid1.stderr_now()
    );
    wait_sub(&pid1, &root, "cups.path", "running");
    wait_sub(&pid1, &root, "cups.service", "running");
    assert_eq!(runs(&started), 1, "the unwatched file started cups too");
    let (out, _) = systemctl(pid, &root, &["status", "cups.path"]);
    assert!(out.starts_with("● cups.path - CUPS Scheduler\n"), "{out}");
    assert!(
        out.contains("\n     Active: active (running) since "),
        "{out}"
    );
    assert!(out.contains("\n   Triggers: ● cups.service\n"), "{out}");
    let (out, _) = systemctl(pid, &root, &["status", "cups.service"]);
    assert!(out.contains("\nTriggeredBy: ● cups.path\n"), "{out}");

    // Down on its own (killed, no job) while the file is still there: level-triggered, cups
    // starts again.
    let (_, code) = systemctl(pid, &root, &["kill", "cups.service"]);
    assert_eq!(code, Some(0));
    assert!(
        wait_until(T, || runs(&started) == 2),
        "{}",
        pid1.stderr_now()
    );
    wait_sub(&pid1, &root, "cups.service", "running");
    // Gone: down again, cups stays down and the path unit waits again.
    fs::remove_file(root.join("var/cache/cups/org.cups.cupsd")).unwrap();
    let (_, code) = systemctl(pid, &root, &["kill", "cups.service"]);
    assert_eq!(code, Some(0));
    wait_sub(&pid1, &root, "cups.path", "waiting");
    assert_ne!(
        property(&pid1, &root, "cups.service", "ActiveState"),
        "active"
    );
    assert_eq!(runs(&started), 2);
    // And it triggers again, from the re-armed watch.
    fs::write(root.join("var/cache/cups/org.cups.cupsd"), "").unwrap();
    assert!(
        wait_until(T, || runs(&started) == 3),
        "{}",
        pid1.stderr_now()
    );
    wait_sub(&pid1, &root, "cups.service", "running");
    // Debian's cups.path is PartOf=cups.service: stopping cups stops the path unit too.
    let (_, code) = systemctl(pid, &root, &["stop", "cups.service"]);
    assert_eq!(code, Some(0));
    wait_sub(&pid1, &root, "cups.path", "dead");
    assert_eq!(runs(&started), 3);
    // An inactive path unit is listed with --all only.
    let (out, _) = systemctl(pid, &root, &["list-paths", "cups*"]);
    assert_eq!(
        out,
        "PATH CONDITION UNIT ACTIVATES\n\n0 paths listed.\n\
         Pass --all to see loaded but inactive paths, too.\n"
    );
    let (out, _) = systemctl(pid, &root, &["list-paths", "--all", "--no-legend", "cups*"]);
    assert_eq!(
        out,
        "/var/cache/cups/org.cups.cupsd PathExists cups.path cups.service\n"
    );
}

#[test]
fn a_condition_already_met_at_boot_starts_the_unit_at_once() {
    let dir = Scratch::new("paths-at-boot");
    let started = dir.join("cups-started");
    let root = root_with(
        &dir,
        &[
            ("cups.path", debian("cups.path")),
            ("cups.service", recording("CUPS Scheduler", &started)),
        ],
    );
    fs::create_dir_all(root.join("var/cache/cups")).unwrap();
    fs::write(root.join("var/cache/cups/org.cups.cupsd"), "").unwrap();
    // Level-triggered and met at once: each run of the oneshot ends and the path unit starts
    // it again; a low limit makes that end, so the test counts exactly.
    let dropin = root.join("etc/systemd/system/cups.path.d");
    fs::create_dir_all(&dropin).unwrap();
    fs::write(
        dropin.join("limit.conf"),
        "[Path]\nTriggerLimitBurst=3\nTriggerLimitIntervalSec=1h\n",
    )
    .unwrap();
    let Some(pid1) = boot(&root) else { return };
    let reached = wait_until(T, || {
        property(&pid1, &root, "cups.path", "Result") == "trigger-limit-hit"
    });
    assert!(reached, "{}{}", pid1.stderr_now(), pid1.stderr_now());
    assert_eq!(property(&pid1, &root, "cups.path", "ActiveState"), "failed");
    assert_eq!(runs(&started), 3, "three triggers, the fourth refused");
    assert!(
        pid1.stderr_now()
            .contains("cups.path: Trigger limit hit, refusing further activation."),
        "{}",
        pid1.stderr_now()
    );
    let (out, _) = systemctl(pid1.pid(), &root, &["list-paths"]);
    assert!(
        out.contains("/var/cache/cups/org.cups.cupsd PathExists cups.path"),
        "{out}"
    );
    let (out, _) = systemctl(pid1.pid(), &root, &["status", "cups.path"]);
    assert!(out.contains("(Result: trigger-limit-hit)"), "{out}");
}

#[test]
fn nut_enumerator_runs_whenever_ups_conf_is_written_removed_or_created() {
    let dir = Scratch::new("paths-nut");
    let ran = dir.join("enumerated");
    let [p0, p1] = probe_units(&dir);
    let root = root_with(
        &dir,
        &[
            (
                "nut-driver-enumerator.path",
                debian("nut-driver-enumerator.path"),
            ),
            (
                "nut-driver-enumerator.service",
                recording("Network UPS Tools - enumeration", &ran),
            ),
            p0,
            p1,
        ],
    );
    let conf = root.join("etc/nut/ups.conf");
    fs::create_dir_all(conf.parent().unwrap()).unwrap();
    fs::write(&conf, "[dummy]\n").unwrap();
    let Some(pid1) = boot(&root) else { return };
    let unit = "nut-driver-enumerator.path";
    // An edge: the file being there at the start is no change. Were it one, the oneshot would
    // have run before the path unit waits again.
    wait_sub(&pid1, &root, unit, "waiting");
    assert_eq!(runs(&ran), 0, "PathModified= fired at start");
    // A file beside it nobody watches: nothing.
    fs::write(root.join("etc/nut/nut.conf"), "MODE=standalone\n").unwrap();
    barrier(&pid1, &root, &dir, 1);
    assert_eq!(runs(&ran), 0, "nut.conf triggered the enumerator");
    // Then ups.conf itself, written and closed.
    fs::write(&conf, "[dummy]\ndriver = dummy-ups\n").unwrap();
    assert!(wait_until(T, || runs(&ran) == 1), "{}", pid1.stderr_now());
    wait_sub(&pid1, &root, unit, "waiting");
    assert_eq!(runs(&ran), 1);
    // Removal is a change; so is the file appearing again (seen from /etc/nut).
    fs::remove_file(&conf).unwrap();
    assert!(wait_until(T, || runs(&ran) == 2), "{}", pid1.stderr_now());
    wait_sub(&pid1, &root, unit, "waiting");
    fs::write(&conf, "[dummy]\n").unwrap();
    assert!(wait_until(T, || runs(&ran) == 3), "{}", pid1.stderr_now());
    wait_sub(&pid1, &root, unit, "waiting");
    // PathModified= fires on a write still open (last: what its close does is not counted).
    let mut open = fs::OpenOptions::new().append(true).open(&conf).unwrap();
    open.write_all(b"port = auto\n").unwrap();
    assert!(wait_until(T, || runs(&ran) == 4), "{}", pid1.stderr_now());
    drop(open);
    let (out, _) = systemctl(pid1.pid(), &root, &["list-paths", "--no-legend", "nut*"]);
    assert_eq!(
        out,
        "/etc/nut/ups.conf PathModified nut-driver-enumerator.path nut-driver-enumerator.service\n"
    );
}

#[test]
fn path_changed_waits_for_the_close_where_path_modified_does_not() {
    let dir = Scratch::new("paths-changed");
    let (changed, modified) = (dir.join("changed"), dir.join("modified"));
    let root = root_with(
        &dir,
        &[
            (
                "conf-changed.path",
                "[Path]\nPathChanged=/etc/app/app.conf\n".to_owned(),
            ),
            ("conf-changed.service", recording("changed", &changed)),
            (
                "conf-modified.path",
                "[Path]\nPathModified=/etc/app/app.conf\n".to_owned(),
            ),
            ("conf-modified.service", recording("modified", &modified)),
        ],
    );
    let conf = root.join("etc/app/app.conf");
    fs::create_dir_all(conf.parent().unwrap()).unwrap();
    fs::write(&conf, "a\n").unwrap();
    let Some(pid1) = boot(&root) else { return };
    wait_sub(&pid1, &root, "conf-changed.path", "waiting");
    wait_sub(&pid1, &root, "conf-modified.path", "waiting");
    let mut open = fs::OpenOptions::new().append(true).open(&conf).unwrap();
    open.write_all(b"b\n").unwrap();
    // The write reaches both watches at once; PathModified= runs its unit, and by the time
    // that unit has run and its path unit waits again, PID 1 has long read the other watch.
    assert!(
        wait_until(T, || runs(&modified) == 1),
        "{}",
        pid1.stderr_now()
    );
    wait_sub(&pid1, &root, "conf-modified.path", "waiting");
    assert_eq!(
        runs(&changed),
        0,
        "PathChanged= fired on a write not yet closed"
    );
    drop(open);
    assert!(
        wait_until(T, || runs(&changed) == 1),
        "{}",
        pid1.stderr_now()
    );
}

#[test]
fn make_directory_creates_the_watched_directory_and_directory_not_empty_triggers() {
    let dir = Scratch::new("paths-mkdir");
    let ran = dir.join("ran");
    let spool = "/var/spool/app/in";
    let service = format!(
        "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo run >> {}; mv {root}{spool}/* {root}/var/spool/app/done/'\n",
        ran.display(),
        root = dir.join("root").display(),
    );
    let root = root_with(
        &dir,
        &[
            (
                "spool.path",
                format!(
                    "[Path]\nDirectoryNotEmpty={spool}\nMakeDirectory=yes\nDirectoryMode=0770\n"
                ),
            ),
            ("spool.service", service),
        ],
    );
    fs::create_dir_all(root.join("var/spool/app/done")).unwrap();
    let Some(pid1) = boot(&root) else { return };
    wait_sub(&pid1, &root, "spool.path", "waiting");
    let inbox = root.join(spool.trim_start_matches('/'));
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&fs::metadata(&inbox).unwrap().permissions());
    assert_eq!(
        mode & 0o7777,
        0o770,
        "DirectoryMode= exactly, whatever the umask"
    );
    assert_eq!(property(&pid1, &root, "spool.path", "MakeDirectory"), "yes");
    // A hidden file is no entry (dir_is_empty() ignores it); a job is.
    fs::write(inbox.join(".partial"), "").unwrap();
    fs::write(inbox.join("job1"), "").unwrap();
    assert!(wait_until(T, || runs(&ran) == 1), "{}", pid1.stderr_now());
    // The service emptied it (but for the hidden file): the path unit waits again.
    wait_sub(&pid1, &root, "spool.path", "waiting");
    assert!(root.join("var/spool/app/done/job1").exists());
    assert_eq!(runs(&ran), 1);
}

#[test]
fn a_glob_triggers_while_files_match_it() {
    let dir = Scratch::new("paths-glob");
    let ran = dir.join("ran");
    let urgent = dir.join("root/var/spool/urgent");
    let service = format!(
        "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo run >> {}; rm -f {}/*.job'\n",
        ran.display(),
        urgent.display(),
    );
    let root = root_with(
        &dir,
        &[
            (
                "urgent.path",
                "[Path]\nPathExistsGlob=/var/spool/urgent/*.job\n".to_owned(),
            ),
            ("urgent.service", service),
        ],
    );
    fs::create_dir_all(&urgent).unwrap();
    fs::write(urgent.join("a.txt"), "").unwrap();
    let Some(pid1) = boot(&root) else { return };
    wait_sub(&pid1, &root, "urgent.path", "waiting");
    assert_eq!(runs(&ran), 0, "a.txt does not match *.job");
    fs::write(urgent.join("b.job"), "").unwrap();
    assert!(wait_until(T, || runs(&ran) == 1), "{}", pid1.stderr_now());
    wait_sub(&pid1, &root, "urgent.path", "waiting");
    assert!(!urgent.join("b.job").exists() && urgent.join("a.txt").exists());
    assert_eq!(runs(&ran), 1);
    let (out, _) = systemctl(pid1.pid(), &root, &["show", "urgent.path", "-p", "Paths"]);
    assert_eq!(out, "Paths=/var/spool/urgent/*.job (PathExistsGlob)\n");
}

#[test]
fn a_unit_that_hits_its_start_limit_fails_its_path_unit() {
    let dir = Scratch::new("paths-start-limit");
    let ran = dir.join("ran");
    let service = format!(
        "[Unit]\nStartLimitBurst=2\nStartLimitIntervalSec=1h\n\
         [Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo run >> {}; exit 1'\n",
        ran.display()
    );
    let root = root_with(
        &dir,
        &[
            ("flag.path", "[Path]\nPathExists=/flag\n".to_owned()),
            ("flag.service", service),
        ],
    );
    fs::write(root.join("flag"), "").unwrap();
    let Some(pid1) = boot(&root) else { return };
    // Started, failed, started again (the path is still there), failed, and refused the third
    // time: the path unit fails with it.
    let failed = wait_until(T, || {
        property(&pid1, &root, "flag.path", "Result") == "unit-start-limit-hit"
    });
    assert!(failed, "{}", pid1.stderr_now());
    assert_eq!(property(&pid1, &root, "flag.path", "ActiveState"), "failed");
    assert_eq!(
        property(&pid1, &root, "flag.service", "Result"),
        "start-limit-hit"
    );
    assert_eq!(runs(&ran), 2);
}

#[test]
fn daemon_reload_makes_a_waiting_path_unit_watch_its_new_paths() {
    let dir = Scratch::new("paths-reload");
    let ran = dir.join("ran");
    let mut units = probe_units(&dir).to_vec();
    units.push(("job.path", "[Path]\nPathExists=/run/old\n".to_owned()));
    units.push(("job.service", recording("job", &ran)));
    let root = root_with(&dir, &units);
    fs::create_dir_all(root.join("run")).unwrap();
    let Some(pid1) = boot(&root) else { return };
    wait_sub(&pid1, &root, "job.path", "waiting");
    wait_sub(&pid1, &root, "probe.path", "waiting");
    let file = root.join("etc/systemd/system/job.path");
    fs::write(&file, "[Path]\nPathExists=/run/new\n").unwrap();
    let (out, code) = systemctl(pid1.pid(), &root, &["daemon-reload"]);
    assert_eq!(code, Some(0), "{out}\n{}", pid1.stderr_now());
    wait_sub(&pid1, &root, "job.path", "waiting");
    assert_eq!(
        property(&pid1, &root, "job.path", "Paths"),
        "/run/new (PathExists)"
    );
    // Negative control: the old path is not watched any more.
    fs::write(root.join("run/old"), "").unwrap();
    barrier(&pid1, &root, &dir, 1);
    assert_eq!(runs(&ran), 0, "{}", pid1.stderr_now());
    fs::write(root.join("run/new"), "").unwrap();
    assert!(wait_until(T, || runs(&ran) >= 1), "{}", pid1.stderr_now());
}
