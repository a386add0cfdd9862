//! Issue #5 acceptance: `apt-get install -y memcached` in a Debian bookworm container whose
//! PID 1 is bosun. The package's postinst runs bosun's systemctl the way Debian's helpers do
//! (`deb-systemd-helper` enables with `systemctl preset`; `deb-systemd-invoke` starts, both
//! only because /run/systemd/system exists): memcached ends up enabled, running and answering,
//! and `systemctl status memcached` shows it active. The negative control boots the same image
//! without /run/systemd/system (BOSUN_SYSTEMD_COMPAT=off): the postinst then starts nothing.

use std::fs;
use std::time::Duration;

use crate::debroot;
use crate::harness::Scratch;

/// The main command: install, then ask as an administrator would, then talk to memcached.
const SCRIPT: &str = r#"#!/bin/bash
export DEBIAN_FRONTEND=noninteractive
apt-get install -y memcached || { echo "apt-get failed: $?"; exit 90; }
echo "== is-enabled"; systemctl is-enabled memcached; echo "rc=$?"
echo "== is-active"; systemctl is-active memcached; echo "rc=$?"
echo "== status"; systemctl status memcached; echo "rc=$?"
echo "== answer"
for i in $(seq 50); do
    reply=$( (exec 3<>/dev/tcp/127.0.0.1/11211 && printf 'version\r\n' >&3 &&
              read -r -t 5 line <&3 && echo "${line%$'\r'}") 2>/dev/null )
    if [ -n "$reply" ]; then echo "$reply"; break; fi
    sleep 0.1
done
echo "== end"
"#;

/// Install memcached in a fresh copy of the root, booted with `env`; bosun's exit status,
/// stdout and stderr.
fn install(tag: &str, env: &[(&str, &str)]) -> Option<crate::harness::Finished> {
    let binary = debroot::bosun_binary()?;
    let dir = Scratch::new(tag);
    let root = dir.join("root");
    if !debroot::copy(&root) {
        return None;
    }
    debroot::install_bosun(&root, &binary);
    let script = root.join("install.sh");
    fs::write(&script, SCRIPT).unwrap();
    let mut builder = debroot::boot(&root, ["--", "/bin/bash", "/install.sh"]);
    for (k, v) in env {
        builder = builder.env(k, v);
    }
    let run = builder.start()?.wait(Duration::from_secs(600));
    // The links deb-systemd-helper made are in the image.
    let link = root.join("etc/systemd/system/multi-user.target.wants/memcached.service");
    assert!(
        link.is_symlink(),
        "memcached was not enabled\n{}",
        run.dump()
    );
    Some(run)
}

#[test]
fn apt_get_install_memcached_enables_and_starts_it() {
    let Some(run) = install("apt", &[]) else {
        return;
    };
    run.assert_code(0);
    let out = run.stdout_str();
    for want in [
        "== is-enabled\nenabled\nrc=0\n",
        "== is-active\nactive\nrc=0\n",
        "== status\n● memcached.service - memcached daemon\n     Loaded: loaded (/usr/lib/systemd/system/memcached.service; enabled; preset: enabled)\n     Active: active (running) since ",
        "== answer\nVERSION 1.",
    ] {
        assert!(out.contains(want), "stdout lacks {want:?}\n{}", run.dump());
    }
    assert!(
        out.contains("\nrc=0\n== answer"),
        "status did not exit 0\n{}",
        run.dump()
    );
    // Started by the postinst (deb-systemd-invoke), not by the checks after it.
    let started = run.stderr.find("Started memcached daemon.");
    let apt_done = out.find("== is-enabled");
    assert!(started.is_some() && apt_done.is_some(), "{}", run.dump());
    // systemd would not say a unit was linked into a target that does not exist: bosun has it.
    assert!(
        !run.stderr.contains("non-existent unit multi-user.target")
            && !out.contains("non-existent unit multi-user.target"),
        "{}",
        run.dump()
    );
}

/// Negative control: without /run/systemd/system, Debian's helpers start nothing; the same
/// checks then see memcached enabled but inactive.
#[test]
fn without_run_systemd_system_the_postinst_starts_nothing() {
    let Some(run) = install("apt-control", &[("BOSUN_SYSTEMD_COMPAT", "off")]) else {
        return;
    };
    run.assert_code(0);
    let out = run.stdout_str();
    assert!(
        out.contains("== is-active\ninactive\nrc=3\n"),
        "{}",
        run.dump()
    );
    assert!(
        !run.stderr.contains("Started memcached daemon."),
        "{}",
        run.dump()
    );
}
