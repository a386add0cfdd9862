//! Issue 18 (state part), bosun as PID 1: the system state counts every unit type (a failed
//! socket makes it `degraded`, `--failed` lists it), the readiness probe follows
//! `ready.failed` (a failed timer run does not take the container out of service by default),
//! the very first unit of boot finds the control socket and /run/systemd/system, and the
//! units systemd tracks in a container (mounts of the mount table, slices, devices) resolve as
//! systemd 252 resolves them.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::harness::{Finished, Pid1, Scratch, bosun, run_pid1};

const T: Duration = Duration::from_secs(60);

/// Services started at boot in the same round as the first unit.
const FILLERS: usize = 40;

/// A root whose /etc/systemd/system holds `units` (name, text, wanted by) with their
/// enablement links.
fn root_with(dir: &Scratch, units: &[(&str, &str, Option<&str>)]) -> PathBuf {
    let root = dir.join("root");
    let etc = root.join("etc/systemd/system");
    fs::create_dir_all(&etc).unwrap();
    for (name, text, wanted_by) in units {
        fs::write(etc.join(name), text).unwrap();
        if let Some(target) = wanted_by {
            let wants = etc.join(format!("{target}.wants"));
            fs::create_dir_all(&wants).unwrap();
            std::os::unix::fs::symlink(format!("../{name}"), wants.join(name)).unwrap();
        }
    }
    root
}

/// bosun as PID 1 on `root` with `env`, `script` as its main command.
fn boot(root: &Path, env: &[(&str, &str)], script: &str) -> Option<Finished> {
    let mut builder = Pid1::bosun().env("BOSUN_ROOT", root);
    for (k, v) in env {
        builder = builder.env(k, v);
    }
    run_pid1(builder.args(["--", "sh", "-c", script]), T)
}

/// The text between `echo NAME` markers of a script's output: step `name`'s lines.
fn step<'a>(out: &'a str, name: &str) -> &'a str {
    let start = out
        .find(&format!("\n@{name}\n"))
        .map(|i| i + name.len() + 3)
        .unwrap_or_else(|| panic!("no step {name} in\n{out}"));
    let rest = &out[start..];
    rest.find("\n@").map_or(rest, |end| &rest[..end]).trim_end()
}

/// The shell prelude of the scripts: `r CMD` prints CMD's output then `rc=N`; `@ NAME` marks a
/// step.
fn prelude() -> String {
    format!(
        "s='{b} systemctl'; c='{b} ctl'\n\
         r() {{ \"$@\" 2>&1; echo \"rc=$?\"; }}\n\
         at() {{ echo; echo \"@$1\"; }}\n",
        b = bosun().display()
    )
}

#[test]
fn r18_a_failed_socket_makes_the_system_degraded_and_is_ready_follows_ready_failed() {
    for policy in ["", "boot", "any", "none"] {
        let dir = Scratch::new("state-degraded");
        // The socket's directory is a file: listening fails (ENOTDIR), the socket unit fails.
        let root = root_with(
            &dir,
            &[
                (
                    "bad.socket",
                    "[Unit]\nDescription=Bad socket\n[Socket]\nListenStream=/etc/blocker/bad.sock\n\
                     [Install]\nWantedBy=sockets.target\n",
                    Some("sockets.target"),
                ),
                ("bad.service", "[Service]\nExecStart=/bin/true\n", None),
                (
                    "late.timer",
                    "[Timer]\nOnActiveSec=0\n[Install]\nWantedBy=timers.target\n",
                    Some("timers.target"),
                ),
                (
                    "late.service",
                    "[Unit]\nDescription=Late run\n[Service]\nType=oneshot\nExecStart=/bin/false\n",
                    None,
                ),
            ],
        );
        fs::write(root.join("etc/blocker"), "not a directory\n").unwrap();
        let script = format!(
            "{}\
             n=0; until $s is-failed --quiet late.service; do n=$((n+1)); \
             [ $n -gt 2000 ] && echo late-never-failed && break; sleep 0.01; done\n\
             at A; r $s is-system-running\n\
             at B; r $s list-units --failed --no-legend --plain\n\
             at C; r $c is-ready\n\
             at D; r $s reset-failed bad.socket\n\
             at E; r $s is-system-running\n\
             at F; r $c is-ready\n\
             at G; r $s reset-failed late.service\n\
             at H; r $s is-system-running\n\
             at I; r $c is-ready\n\
             at J; r $s start bad.socket\n\
             at K; r $s is-system-running\n\
             at L; r $s --failed --no-legend --plain\n\
             at M; r $c is-ready --json\n\
             at N; r $s is-failed bad.socket\n\
             at Z\n",
            prelude()
        );
        let env: Vec<(&str, &str)> = if policy.is_empty() {
            Vec::new()
        } else {
            vec![("BOSUN_READY_FAILED", policy)]
        };
        let Some(run) = boot(&root, &env, &script) else {
            return;
        };
        run.assert_code(0);
        let out = format!("\n{}", run.stdout_str());
        let dump = || format!("policy {policy:?}\n{}", run.dump());
        let has = |name: &str, want: &str| {
            assert!(
                step(&out, name).contains(want),
                "step {name} lacks {want:?}\n{}",
                dump()
            );
        };
        let lacks = |name: &str, unwanted: &str| {
            assert!(
                !step(&out, name).contains(unwanted),
                "step {name} has {unwanted:?}\n{}",
                dump()
            );
        };
        assert!(!out.contains("late-never-failed"), "{}", dump());
        // Both failed: degraded, and --failed lists the socket beside the service.
        has("A", "degraded\nrc=1");
        has("B", "bad.socket ");
        has("B", "late.service ");
        // The timer's failed run alone: still degraded (a service failed)...
        has("E", "degraded\nrc=1");
        has("H", "running\nrc=0");
        // ... and the socket alone (the old count, services only, said `running` here).
        has("K", "degraded\nrc=1");
        has("L", "bad.socket ");
        lacks("L", "late.service");
        has("N", "failed\nrc=0");
        has("I", "rc=0");
        match policy {
            // By default (boot): what boot started counts, the timer's run does not.
            "" | "boot" => {
                has("C", "degraded: failed units: bad.socket\nrc=1");
                has("F", "rc=0");
                lacks("F", "failed units");
                has("M", "\"unready_units\":[\"bad.socket\"]");
                has("M", "\"ready_failed\":\"boot\"");
                has("M", "rc=1");
            }
            "any" => {
                has("C", "degraded: failed units: bad.socket late.service\nrc=1");
                has("F", "degraded: failed units: late.service\nrc=1");
                has("M", "rc=1");
            }
            "none" => {
                has("C", "rc=0");
                has("F", "rc=0");
                has("M", "\"ready\":true");
                has("M", "rc=0");
            }
            _ => unreachable!(),
        }
    }
}

#[test]
fn r18_the_first_unit_of_boot_finds_bosun_answering_systemctl() {
    let dir = Scratch::new("state-early");
    let out = dir.join("early.out");
    let worker_out = dir.join("worker");
    let root_path = dir.join("root");
    let early = dir.script(
        "early.sh",
        &format!(
            "{prelude}\
             {{\n\
             [ -S {root}/run/bosun/control.sock ] && echo socket=yes || echo socket=no\n\
             [ -d {root}/run/systemd/system ] && echo marker=yes || echo marker=no\n\
             at running; r $s is-system-running\n\
             at sysinit; r $s is-active sysinit.target\n\
             at enable; r $s enable worker@a.service\n\
             at start; r $s start worker@a.service\n\
             at active; r $s is-active worker@a.service\n\
             at enabled; r $s is-enabled worker@a.service\n\
             at again; r $s is-system-running\n\
             at Z\n\
             }} > {out} 2>&1\n",
            prelude = prelude(),
            root = root_path.display(),
            out = out.display(),
        ),
    );
    let mut root = root_with(
        &dir,
        &[
            (
                // The very first unit: no default dependencies, before sysinit.target.
                "early.service",
                &format!(
                    "[Unit]\nDescription=Early enumerator\nDefaultDependencies=no\n\
                     Before=sysinit.target\n[Service]\nType=oneshot\nRemainAfterExit=yes\n\
                     Environment=BOSUN_ROOT={root}\nExecStart=/bin/sh {early}\n\
                     [Install]\nWantedBy=sysinit.target\n",
                    root = root_path.display(),
                    early = early.display()
                ),
                Some("sysinit.target"),
            ),
            (
                "worker@.service",
                &format!(
                    "[Unit]\nDescription=Worker %i\nDefaultDependencies=no\n[Service]\n\
                     Type=oneshot\nRemainAfterExit=yes\n\
                     ExecStart=/bin/sh -c 'echo %i > {}-%i'\n\
                     [Install]\nWantedBy=multi-user.target\n",
                    worker_out.display()
                ),
                None,
            ),
        ],
    );
    // Started in the same round of the boot's first jobs, after it (in name order): PID 1
    // spawns them all before it turns to anything else, which left the first unit's early
    // `systemctl` with no socket when the socket came after the units' first spawns.
    for i in 0..FILLERS {
        root = root_with(
            &dir,
            &[(
                &format!("filler-{i:02}.service"),
                "[Unit]\nDefaultDependencies=no\n[Service]\nExecStart=/bin/sleep 3600\n",
                Some("sysinit.target"),
            )],
        );
    }
    let Some(run) = boot(&root, &[], "true") else {
        return;
    };
    run.assert_code(0);
    let text = format!(
        "\n{}",
        fs::read_to_string(&out).unwrap_or_else(|e| panic!("{e}\n{}", run.dump()))
    );
    let dump = || format!("{text}\n{}", run.dump());
    assert!(text.contains("\nsocket=yes\nmarker=yes\n"), "{}", dump());
    // Answered by PID 1 (offline, it would say `offline`): boot is still going on.
    assert_eq!(step(&text, "running"), "starting\nrc=1", "{}", dump());
    assert_eq!(step(&text, "again"), "starting\nrc=1", "{}", dump());
    // Before sysinit.target: the first unit of boot indeed.
    assert!(step(&text, "sysinit").ends_with("rc=3"), "{}", dump());
    assert!(step(&text, "enable").ends_with("rc=0"), "{}", dump());
    assert_eq!(step(&text, "start"), "rc=0", "{}", dump());
    assert_eq!(step(&text, "active"), "active\nrc=0", "{}", dump());
    assert_eq!(step(&text, "enabled"), "enabled\nrc=0", "{}", dump());
    assert_eq!(
        fs::read_to_string(dir.join("worker-a")).ok().as_deref(),
        Some("a\n"),
        "{}",
        dump()
    );
    assert!(
        root.join("etc/systemd/system/multi-user.target.wants/worker@a.service")
            .is_symlink(),
        "{}",
        dump()
    );
}

#[test]
fn r18_mounts_slices_and_devices_resolve_as_systemd_shows_them_in_a_container() {
    let dir = Scratch::new("state-mounts");
    let root = root_with(
        &dir,
        &[
            (
                "needs-tmp.service",
                "[Unit]\nDescription=Needs tmp\nRequiresMountsFor=/tmp/x/y\nAfter=system.slice\n\
                 [Service]\nType=oneshot\nRemainAfterExit=yes\nSlice=system.slice\n\
                 ExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
                Some("multi-user.target"),
            ),
            (
                // A mount unit file for a place the container was not given.
                "srv-data.mount",
                "[Unit]\nDescription=Data\n[Mount]\nWhat=tmpfs\nWhere=/srv/data\nType=tmpfs\n",
                None,
            ),
            (
                // As systemd's own units for API file systems, pulled in at boot.
                "sys-kernel-bosun.mount",
                "[Unit]\nDefaultDependencies=no\n[Mount]\nWhat=bosunfs\nWhere=/sys/kernel/bosun\n\
                 Type=bosunfs\n[Install]\nWantedBy=sysinit.target\n",
                Some("sysinit.target"),
            ),
            (
                "needs-srv.service",
                "[Unit]\nRequiresMountsFor=/srv/data/db\n[Service]\nType=oneshot\n\
                 RemainAfterExit=yes\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
                Some("multi-user.target"),
            ),
            (
                "wants-device.service",
                "[Unit]\nRequires=dev-sdz9.device\nAfter=dev-sdz9.device\n[Service]\n\
                 Type=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n\
                 [Install]\nWantedBy=multi-user.target\n",
                Some("multi-user.target"),
            ),
        ],
    );
    let script = format!(
        "{}\
         at A; r $s list-units --type=mount --all --no-legend --plain\n\
         at B; r $s status -- -.mount\n\
         at C; r $s show needs-tmp.service -p After -p Requires\n\
         at D; r $s is-active -- -.slice system.slice needs-tmp.service tmp.mount\n\
         at E; r $s is-active needs-srv.service srv-data.mount wants-device.service \
         sys-kernel-bosun.mount\n\
         at F; r $s show needs-srv.service -p Requires -p After\n\
         at G; r $s start dev-sdz8.device\n\
         at H; mkdir -p /tmp/fresh && mount -t tmpfs fresh /tmp/fresh && echo mounted\n\
         at I; r $s list-units --type=mount --no-legend --plain\n\
         at I2; r $s status tmp-fresh.mount\n\
         at J; r $s daemon-reload\n\
         at K; r $s list-units --type=mount --no-legend --plain\n\
         at L; r $s list-units --type=slice --no-legend --plain\n\
         at M; r $s show tmp.mount -p Where -p Type -p SourcePath -p FragmentPath\n\
         at Z\n",
        prelude()
    );
    let Some(run) = boot(&root, &[], &script) else {
        return;
    };
    run.assert_code(0);
    let out = format!("\n{}", run.stdout_str());
    // Tables are column-aligned: compared with their runs of blanks squashed.
    let squash = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let has = |name: &str, want: &str| {
        assert!(
            squash(step(&out, name)).contains(&squash(want)),
            "step {name} lacks {want:?}\n{}",
            run.dump()
        );
    };
    let lacks = |name: &str, unwanted: &str| {
        assert!(
            !step(&out, name).contains(unwanted),
            "step {name} has {unwanted:?}\n{}",
            run.dump()
        );
    };
    // The mount table as systemd shows it: the root and the namespace's /tmp, mounted.
    has("A", "-.mount loaded active mounted Root Mount");
    has("A", "tmp.mount loaded active mounted /tmp");
    has("A", "srv-data.mount loaded failed failed Data");
    has("B", "● -.mount - Root Mount");
    has("B", "Loaded: loaded (/proc/self/mountinfo");
    has("B", "Active: active (mounted)");
    has("B", "Where: /\n");
    has("B", "What: ");
    has(
        "M",
        "Where=/tmp\nType=tmpfs\nFragmentPath=\nSourcePath=/proc/self/mountinfo\nrc=0",
    );
    // RequiresMountsFor=/tmp/x/y: after the mounts of its prefixes that exist, and not
    // requiring them (no unit file: nothing to start).
    has("C", "After=");
    for mount in ["tmp.mount", "-.mount", "system.slice"] {
        assert!(
            step(&out, "C")
                .lines()
                .any(|l| l.starts_with("After=") && l.split([' ', '=']).any(|w| w == mount)),
            "After= lacks {mount}\n{}",
            run.dump()
        );
    }
    lacks("C", "tmp-x.mount");
    assert!(
        !step(&out, "C")
            .lines()
            .any(|l| l.starts_with("Requires=") && l.contains(".mount")),
        "{}",
        run.dump()
    );
    has("D", "active\nactive\nactive\nactive\nrc=0");
    // A mount unit with a file is required: bosun does not mount, so it fails, and what
    // requires it fails with it; a device never appears, and its job fails at once; an API
    // file system the runtime did not mount is skipped (inactive, not failed).
    has("E", "inactive\nfailed\ninactive\ninactive\nrc=3");
    has("F", "srv-data.mount");
    assert!(
        step(&out, "F")
            .lines()
            .any(|l| l.starts_with("Requires=") && l.contains("srv-data.mount")),
        "{}",
        run.dump()
    );
    lacks("G", "rc=0");
    let err = &run.stderr;
    assert!(
        err.contains("bosun does not mount file systems: /srv/data is not mounted"),
        "{}",
        run.dump()
    );
    assert!(err.contains("no udev"), "{}", run.dump());
    assert!(
        err.contains("/sys/kernel/bosun is an API file system the container runtime did not mount"),
        "{}",
        run.dump()
    );
    // The table is read at load (of a mount unit by name too) and daemon-reload, not polled.
    has("H", "mounted");
    lacks("I", "tmp-fresh.mount");
    // ... but a mount unit named is looked up in the table as it is now.
    has("I2", "Active: active (mounted)");
    has("I2", "Where: /tmp/fresh");
    has("K", "tmp-fresh.mount loaded active mounted /tmp/fresh");
    has("L", "-.slice loaded active active Root Slice");
    has("L", "system.slice loaded active active System Slice");
}
