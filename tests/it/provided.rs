//! Issue 19: an image that carries the `systemd` package. Debian 12's `systemd` (with its unit
//! files, its postinst's enablement and its binaries, installed with apt into a bookworm root;
//! the .debs cached under target/tmp/systemd-deb) plus one ordinary service, booted with bosun
//! as PID 1 as a container runtime starts it (debroot::boot_isolated): nothing failed,
//! `is-system-running` says `running`, `initctl is-ready` succeeds, the units bosun provides
//! (src/manager/engine/provided.rs) show the documented state, and a stop, start and restart of
//! one do what the README says; systemd's units that skip themselves in a container
//! (`ConditionVirtualization=!container`) are skipped.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::debroot::{self, section};

/// What the main command prints: each section opens with a `== ` line.
const PROBE: &str = r#"#!/bin/bash
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
exec > /probe-result.txt 2>&1
for i in $(seq 240); do initctl is-ready >/dev/null 2>&1 && break; sleep 0.25; done
show() { systemctl show -p ActiveState,SubState,StatusText "$@"; }
echo '== is-ready'; initctl is-ready >/dev/null 2>&1; echo "rc=$?"
echo '== failed'; systemctl --failed --no-legend --plain; echo "rc=$?"
echo '== running'; systemctl is-system-running; echo "rc=$?"
echo '== hello'; systemctl is-active hello.service
echo '== journald'; show systemd-journald.service
echo '== dev-log'; show systemd-journald-dev-log.socket
echo '== tmpfiles'; show systemd-tmpfiles-setup.service
echo '== utmp'; show systemd-update-utmp.service
echo '== random-seed'; show systemd-random-seed.service
echo '== logind'; show systemd-logind.service
echo '== stop'; systemctl stop systemd-journald.service; echo "rc=$?"
systemctl is-active systemd-journald.service
logger -t provided-probe still-logging; echo "logger=$?"
for i in $(seq 40); do journalctl -t provided-probe -o cat --no-pager | grep -q still-logging && break; sleep 0.25; done
echo "journal: $(journalctl -t provided-probe -o cat --no-pager)"
echo '== start'; systemctl start systemd-journald.service; echo "rc=$?"
systemctl is-active systemd-journald.service
echo '== restart'; systemctl restart systemd-tmpfiles-setup.service; echo "rc=$?"
show systemd-tmpfiles-setup.service
echo '== end'
"#;

fn home() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("systemd-deb")
}

/// The properties a `show` section printed, one `KEY=VALUE` each, whatever their order.
fn props(text: &str) -> std::collections::BTreeSet<&str> {
    text.lines().filter(|l| l.contains('=')).collect()
}

/// Whether the `show` section `name` has every one of `want`.
fn has(out: &str, name: &str, want: &[&str]) -> bool {
    let got = props(section(out, name));
    want.iter().all(|w| got.contains(w))
}

#[test]
fn systemd_package_units_are_provided_or_skipped_and_none_fails() {
    let Some(binary) = debroot::bosun_binary() else {
        return;
    };
    let root = home().join("root");
    if !debroot::install_packages(
        &root,
        &home().join("archives"),
        &["systemd"],
        &home().join("build.log"),
    ) {
        return;
    }
    let etc = root.join("etc/systemd/system");
    fs::write(
        etc.join("hello.service"),
        "[Unit]\nDescription=Hello\n[Service]\nExecStart=/bin/sleep infinity\n\
         [Install]\nWantedBy=multi-user.target\n",
    )
    .unwrap();
    fs::create_dir_all(etc.join("multi-user.target.wants")).unwrap();
    std::os::unix::fs::symlink(
        "/etc/systemd/system/hello.service",
        etc.join("multi-user.target.wants/hello.service"),
    )
    .unwrap();
    debroot::install_bosun(&root, &binary);
    fs::write(root.join("probe.sh"), PROBE).unwrap();
    let Some(pid1) = debroot::boot_isolated(&root, ["--", "/bin/bash", "/probe.sh"]).start() else {
        return;
    };
    let run = pid1.wait(Duration::from_secs(120));
    // The probe's own file: bosun's console interleaves syslog lines.
    let out = fs::read_to_string(root.join("probe-result.txt")).unwrap_or_default();
    let dump = format!("{out}\n{}", run.dump());
    assert_eq!(run.status.code(), Some(0), "{dump}");
    assert_eq!(section(&out, "is-ready"), "rc=0\n", "{dump}");
    assert_eq!(section(&out, "failed"), "rc=0\n", "{dump}");
    assert_eq!(section(&out, "running"), "running\nrc=0\n", "{dump}");
    assert_eq!(section(&out, "hello"), "active\n", "{dump}");
    let journal = "StatusText=provided by bosun: PID 1 is the journal (/dev/log, service \
                   output, journalctl)";
    assert!(
        has(
            &out,
            "journald",
            &["ActiveState=active", "SubState=running", journal]
        ),
        "{dump}"
    );
    assert!(
        has(
            &out,
            "dev-log",
            &["ActiveState=active", "SubState=listening"]
        ),
        "{dump}"
    );
    let tmpfiles = [
        "ActiveState=active",
        "SubState=exited",
        "StatusText=provided by bosun: PID 1 applies tmpfiles.d before the first unit starts",
    ];
    assert!(has(&out, "tmpfiles", &tmpfiles), "{dump}");
    let utmp = "StatusText=not run by bosun: it needs systemd's own D-Bus API \
                (org.freedesktop.systemd1), which bosun does not offer";
    assert!(
        has(
            &out,
            "utmp",
            &["ActiveState=inactive", "SubState=dead", utmp]
        ),
        "{dump}"
    );
    // Not run by bosun, but here its own condition (no dbus.service) skipped it first: its
    // status then says nothing of bosun, as for any unit a condition skipped.
    assert!(
        has(
            &out,
            "logind",
            &["ActiveState=inactive", "SubState=dead", "StatusText="]
        ),
        "{dump}"
    );
    // ConditionVirtualization=!container: skipped, as systemd skips it in a container.
    assert!(
        has(
            &out,
            "random-seed",
            &["ActiveState=inactive", "SubState=dead"]
        ),
        "{dump}"
    );
    assert!(
        run.stderr.contains(
            "systemd-random-seed.service: condition check resulted in \
             ConditionVirtualization=!container being false; skipped"
        ),
        "{dump}"
    );
    // A stop makes it inactive and stops nothing: syslog(3) still reaches PID 1's journal.
    assert_eq!(
        section(&out, "stop"),
        "rc=0\ninactive\nlogger=0\njournal: still-logging\n",
        "{dump}"
    );
    assert_eq!(section(&out, "start"), "rc=0\nactive\n", "{dump}");
    assert!(section(&out, "restart").starts_with("rc=0\n"), "{dump}");
    assert!(has(&out, "restart", &tmpfiles), "{dump}");
    // Nothing of systemd's ran in their place.
    for daemon in [
        "systemd-journald[",
        "systemd-update-utmp[",
        "systemd-logind[",
    ] {
        assert!(!run.stderr.contains(daemon), "{daemon}\n{dump}");
    }
}
