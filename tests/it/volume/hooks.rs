//! The volume's hooks with bosun as PID 1: order and variables, output on stdout and in the
//! phase's log, a failing first-boot hook (its code propagated, the next boot refusing, the
//! retry), boot hooks at every boot, shutdown hooks after the units stopped, a SIGTERM while a
//! hook runs, and the optional hook timeout.

use std::fs;
use std::path::PathBuf;

use super::boot::{T, TestImage, recorder};
use crate::harness::wait_until;

/// The hooks' log files of `phase` in the volume, oldest first.
fn logs(image: &TestImage, phase: &str) -> Vec<PathBuf> {
    let mut logs: Vec<PathBuf> = fs::read_dir(image.data().join(".bosun/log"))
        .map(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| {
                    p.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with(&format!("{phase}-"))
                })
                .collect()
        })
        .unwrap_or_default();
    logs.sort();
    logs
}

/// A service that records its start and stop in STATE/units.
fn recorded_unit(image: &TestImage) {
    let units = image.state.join("units");
    image.unit(
        "svc.service",
        &format!(
            "[Service]\nExecStartPre=/bin/sh -c 'echo svc-started >> {u}'\n\
             ExecStart=/bin/sleep 3600\n\
             ExecStopPost=/bin/sh -c 'echo svc-stopped >> {u}'\n",
            u = units.display()
        ),
    );
}

#[test]
fn hook_order_variables_output_and_logs() {
    let image = TestImage::new("order");
    image.write("var/lib/app/app.conf", "v1\n");
    image.prepare("b1", &["/var/lib/app"]);
    let record = |name: &str| {
        format!(
            "{}\necho \"$BOSUN_DATA_DIR\" > {}/data-dir\necho \"{name} says hello\"",
            recorder(&image, name),
            image.state.display()
        )
    };
    image.hook("first-boot", &record("first-boot"));
    // Byte order, as run-parts: 10-a, 20-b, then 9-c.
    image.hook("first-boot.d/20-b", &record("first-boot.d/20-b"));
    image.hook("first-boot.d/10-a", &record("first-boot.d/10-a"));
    image.hook("first-boot.d/9-c", &record("first-boot.d/9-c"));
    image.hook("first-boot.d/15-not-executable", &record("never"));
    fs::set_permissions(
        image.path("etc/bosun/hooks/first-boot.d/15-not-executable"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    image.hook("boot.d/10-x", &record("boot.d/10-x"));
    image.hook("shutdown.d/10-y", &record("shutdown.d/10-y"));
    let main = format!("echo main >> {}/hooks", image.state.display());

    let Some(pid1) = image.boot().args(["--", "sh", "-c", &main]).start() else {
        return;
    };
    let run = pid1.wait(T);
    run.assert_code(0);
    assert_eq!(
        image.lines("hooks"),
        [
            "first-boot first-boot b1 prev=",
            "first-boot.d/10-a first-boot b1 prev=",
            "first-boot.d/20-b first-boot b1 prev=",
            "first-boot.d/9-c first-boot b1 prev=",
            "boot.d/10-x boot b1 prev=",
            "main",
            // The main command's exit is a shutdown too.
            "shutdown.d/10-y shutdown b1 prev=",
        ],
        "{}",
        run.dump()
    );
    assert_eq!(
        image.lines("data-dir"),
        [image.data().display().to_string()]
    );
    assert!(
        run.stderr
            .contains("15-not-executable is not executable (chmod +x to run it); skipped"),
        "{}",
        run.dump()
    );
    // Each line on stdout with its hook's name and pid, and in the phase's log.
    let stdout = run.stdout_str();
    for name in ["first-boot", "first-boot.d/10-a", "boot.d/10-x"] {
        assert!(
            stdout.lines().any(|l| l.starts_with(&format!("{name}["))
                && l.ends_with(&format!("]: {name} says hello"))),
            "{name}\n{}",
            run.dump()
        );
    }
    let first_boot = logs(&image, "first-boot");
    assert_eq!(first_boot.len(), 1, "{}", run.dump());
    let log = fs::read_to_string(&first_boot[0]).unwrap();
    for name in [
        "first-boot",
        "first-boot.d/10-a",
        "first-boot.d/20-b",
        "first-boot.d/9-c",
    ] {
        assert!(log.contains(&format!("{name} says hello")), "{name}: {log}");
        assert!(
            log.contains(&format!("# {name} exited with code 0")),
            "{log}"
        );
    }
    assert!(
        !log.contains("boot.d/10-x"),
        "boot hooks have their own log"
    );
    assert_eq!(logs(&image, "boot").len(), 1);
    assert_eq!(logs(&image, "shutdown").len(), 1);

    // The next boot: boot hooks only, with the previous build set.
    let run = image.boot().args(["--", "true"]).start().unwrap().wait(T);
    run.assert_code(0);
    assert_eq!(
        image.lines("hooks")[7..],
        [
            "boot.d/10-x boot b1 prev=b1",
            "shutdown.d/10-y shutdown b1 prev=b1"
        ],
        "{}",
        run.dump()
    );
    assert_eq!(logs(&image, "boot").len(), 2);
}

#[test]
fn failing_first_boot_hook_stops_boot_and_the_next_refuses_until_retried() {
    let image = TestImage::new("failing");
    image.write("var/lib/app/app.conf", "v1\n");
    image.prepare("b1", &["/var/lib/app"]);
    recorded_unit(&image);
    image.hook("first-boot.d/10-ok", &recorder(&image, "10-ok"));
    image.hook(
        "first-boot.d/20-install",
        "echo installing; echo 'install failed: no network' >&2; exit 7",
    );
    image.hook("first-boot.d/30-after", &recorder(&image, "30-after"));
    image.hook("shutdown.d/10-y", &recorder(&image, "shutdown"));

    let Some(run) = image.boot_to_end(image.boot()) else {
        return;
    };
    run.assert_code(7);
    assert!(!image.main_ran(), "{}", run.dump());
    assert_eq!(
        image.lines("hooks"),
        ["10-ok first-boot b1 prev="],
        "nothing after the failed hook, no shutdown hooks on a failed boot\n{}",
        run.dump()
    );
    assert_eq!(
        image.lines("units"),
        ["svc-started", "svc-stopped"],
        "the units were up during the hooks and stopped after the failure\n{}",
        run.dump()
    );
    let log = logs(&image, "first-boot");
    assert_eq!(log.len(), 1);
    let text = fs::read_to_string(&log[0]).unwrap();
    assert!(text.contains("first-boot.d/20-install["), "{text}");
    assert!(text.contains("install failed: no network"), "{text}");
    assert!(
        text.contains("# first-boot.d/20-install exited with code 7"),
        "{text}"
    );
    for says in [
        "the first-boot hook first-boot.d/20-install exited with code 7",
        &format!("(its output: {})", log[0].display()),
        "BOSUN_RETRY_FIRST_BOOT=1",
    ] {
        assert!(run.stderr.contains(says), "{says}\n{}", run.dump());
    }
    assert!(
        run.stdout_str().contains("]: install failed: no network"),
        "{}",
        run.dump()
    );

    // The next boot refuses to start anything on the half-installed volume.
    let run = image.boot_to_end(image.boot()).unwrap();
    run.assert_code(82);
    assert!(!image.main_ran());
    assert_eq!(image.lines("units").len(), 2, "no unit started");
    assert_eq!(image.lines("hooks").len(), 1, "no hook ran");
    for says in [
        "the first-boot hook first-boot.d/20-install failed with exit code 7",
        &log[0].display().to_string(),
        "half-installed",
        "BOSUN_RETRY_FIRST_BOOT=1",
    ] {
        assert!(run.stderr.contains(says), "{says}\n{}", run.dump());
    }

    // Repaired, and retried: every first-boot hook runs again, then the boot completes.
    image.hook("first-boot.d/20-install", "echo installed");
    let run = image
        .boot_to_end(image.boot().env("BOSUN_RETRY_FIRST_BOOT", "1"))
        .unwrap();
    run.assert_code(0);
    assert!(image.main_ran(), "{}", run.dump());
    assert_eq!(
        image.lines("hooks")[1..],
        [
            "10-ok first-boot b1 prev=",
            "30-after first-boot b1 prev=",
            "shutdown shutdown b1 prev=",
        ]
    );
    assert_eq!(image.volume_state()["phase"], "ready");

    // Afterwards BOSUN_RETRY_FIRST_BOOT changes nothing: a routine boot.
    let run = image
        .boot_to_end(image.boot().env("BOSUN_RETRY_FIRST_BOOT", "1"))
        .unwrap();
    run.assert_code(0);
    assert_eq!(
        image.lines("hooks").len(),
        5,
        "first-boot hooks ran once more only"
    );
}

#[test]
fn shutdown_hooks_run_at_sigterm_after_the_units_stopped() {
    let image = TestImage::new("shutdown");
    image.write("var/lib/app/app.conf", "v1\n");
    image.prepare("b1", &["/var/lib/app"]);
    let units = image.state.join("units");
    recorded_unit(&image);
    image.hook(
        "boot.d/10-x",
        &format!("echo boot-hook >> {}", units.display()),
    );
    image.hook(
        "shutdown.d/10-y",
        &format!("echo \"shutdown-hook $BOSUN_PHASE\" >> {}", units.display()),
    );
    let Some(pid1) = image.boot().start() else {
        return;
    };
    assert!(
        wait_until(T, || image.lines("units").len() == 2),
        "{}",
        pid1.stderr_now()
    );
    assert_eq!(
        image.lines("units"),
        ["svc-started", "boot-hook"],
        "hooks after units"
    );
    assert!(
        wait_until(T, || pid1.stderr_now().contains("boot complete")),
        "{}",
        pid1.stderr_now()
    );
    pid1.signal(libc::SIGTERM);
    let run = pid1.wait(T);
    run.assert_code(0);
    assert_eq!(
        image.lines("units"),
        [
            "svc-started",
            "boot-hook",
            "svc-stopped",
            "shutdown-hook shutdown"
        ],
        "{}",
        run.dump()
    );
}

#[test]
fn sigterm_during_a_first_boot_hook_stops_it_and_shuts_down() {
    let image = TestImage::new("interrupt");
    image.write("var/lib/app/app.conf", "v1\n");
    image.prepare("b1", &["/var/lib/app"]);
    let marks = image.state.join("marks");
    image.hook(
        "first-boot.d/10-slow",
        &format!(
            "trap 'echo got-term >> {m}; exit 143' TERM\necho started >> {m}\nsleep 3600 &\nwait $!",
            m = marks.display()
        ),
    );
    image.hook("first-boot.d/20-after", &recorder(&image, "20-after"));
    let main = image.state.join("main-ran");
    let Some(pid1) = image.boot().arg("--").arg("touch").arg(&main).start() else {
        return;
    };
    assert!(
        wait_until(T, || image.lines("marks") == ["started"]),
        "{}",
        pid1.stderr_now()
    );
    pid1.signal(libc::SIGTERM);
    let run = pid1.wait(T);
    assert_eq!(
        image.lines("marks"),
        ["started", "got-term"],
        "{}",
        run.dump()
    );
    assert!(!main.exists(), "the main command never started");
    assert!(image.lines("hooks").is_empty(), "no hook after it");
    assert!(
        run.stderr
            .contains("stopping the first-boot hook first-boot.d/10-slow"),
        "{}",
        run.dump()
    );
    // The installer was cut short: the next boot says so and starts nothing.
    let run = image.boot_to_end(image.boot()).unwrap();
    run.assert_code(82);
    assert!(
        run.stderr
            .contains("the first-boot hook first-boot.d/10-slow failed with exit code 143"),
        "{}",
        run.dump()
    );
}

#[test]
fn hook_timeout_stops_then_kills_a_hook() {
    let image = TestImage::new("timeout");
    image.write("var/lib/app/app.conf", "v1\n");
    image.prepare("b1", &["/var/lib/app"]);
    // Ignores SIGTERM: the timeout's SIGTERM, then SIGKILL after the stop timeout.
    image.hook(
        "first-boot.d/10-stuck",
        &format!(
            "trap '' TERM\necho stuck >> {}/marks\nwhile :; do sleep 0.1; done",
            image.state.display()
        ),
    );
    let Some(run) = image.boot_to_end(
        image
            .boot()
            .env("BOSUN_HOOK_TIMEOUT", "1s")
            .env("BOSUN_STOP_TIMEOUT", "1s"),
    ) else {
        return;
    };
    run.assert_code(128 + 9);
    assert!(!image.main_ran());
    for says in [
        "is still running after BOSUN_HOOK_TIMEOUT (1s): stopping it",
        "did not stop within 1s: killing it",
        "was killed by SIGKILL after running longer than BOSUN_HOOK_TIMEOUT (1s)",
    ] {
        assert!(run.stderr.contains(says), "{says}\n{}", run.dump());
    }
    assert_eq!(image.lines("marks"), ["stuck"]);
}

#[test]
fn a_first_boot_hook_drives_units_with_systemctl_like_an_installer() {
    let image = TestImage::new("hook-systemctl");
    image.write("var/lib/app/app.conf", "v1\n");
    image.prepare("b1", &["/var/lib/app"]);
    // Not enabled: the installer starts it, uses it, stops it, and enables the app.
    let units = image.path("etc/systemd/system");
    fs::create_dir_all(&units).unwrap();
    fs::write(
        units.join("db.service"),
        "[Unit]\nDescription=Database\n[Service]\nExecStart=/bin/sleep 3600\n",
    )
    .unwrap();
    fs::write(
        units.join("app.service"),
        "[Unit]\nDescription=App\nRequires=db.service\nAfter=db.service\n\
         [Service]\nExecStart=/bin/sleep 3600\n[Install]\nWantedBy=multi-user.target\n",
    )
    .unwrap();
    let out = image.state.join("installer");
    let systemctl = format!("{} systemctl", super::BOSUN);
    image.hook(
        "first-boot.d/50-install",
        &format!(
            "set -u\nexec >> {out} 2>&1\n\
             s() {{ {systemctl} \"$@\"; echo \"rc=$?\"; }}\n\
             s is-active db.service\n\
             s start db.service\n\
             s is-active db.service\n\
             s enable app.service\n\
             s start app.service\n\
             s is-enabled app.service\n\
             s stop app.service db.service\n\
             s is-active db.service\n",
            out = out.display()
        ),
    );
    let main = format!(
        "{systemctl} is-active app.service db.service > {}/after-boot; exit 0",
        image.state.display()
    );
    let Some(pid1) = image.boot().args(["--", "sh", "-c", &main]).start() else {
        return;
    };
    let run = pid1.wait(T);
    run.assert_code(0);
    assert_eq!(
        image.lines("installer"),
        [
            "inactive",
            "rc=3",
            "rc=0",
            "active",
            "rc=0",
            // enable's own lines, as systemd prints them.
            // (Under BOSUN_ROOT, which the hook inherits, as `systemctl --root` prints them.)
            &format!(
                "Created symlink {}/etc/systemd/system/multi-user.target.wants/app.service → \
                 /etc/systemd/system/app.service.",
                image.root.display()
            ),
            "rc=0",
            "rc=0",
            "enabled",
            "rc=0",
            "rc=0",
            "inactive",
            "rc=3",
        ],
        "{}",
        run.dump()
    );
    // The enablement is in the image (the next boot starts app, and db with it); the main
    // command saw what this boot left: both stopped by the installer.
    assert!(
        units
            .join("multi-user.target.wants/app.service")
            .symlink_metadata()
            .is_ok()
    );
    assert_eq!(
        image.lines("after-boot"),
        ["inactive", "inactive"],
        "{}",
        run.dump()
    );

    // The next boot: the installer does not run again, the enabled app comes up with its db.
    let main = format!(
        "{systemctl} is-active app.service db.service > {}/second-boot",
        image.state.display()
    );
    let run = image
        .boot()
        .args(["--", "sh", "-c", &main])
        .start()
        .unwrap()
        .wait(T);
    run.assert_code(0);
    assert_eq!(
        image.lines("second-boot"),
        ["active", "active"],
        "{}",
        run.dump()
    );
    assert_eq!(image.lines("installer").len(), 13, "the installer ran once");
}
