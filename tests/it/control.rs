//! Issue #5: systemctl against a running bosun (PID 1 in a namespace), over the control
//! socket: job verbs and their waiting, is-active/is-failed/status/show/list-units words and
//! exit codes, units loaded on demand, access control, and `systemctl exit N`.

use std::fs;
use std::time::Duration;

use crate::harness::{Pid1, Scratch, bosun};

#[test]
fn systemctl_talks_to_pid1_with_systemds_words_and_exit_codes() {
    let dir = Scratch::new("control");
    let root = dir.join("root");
    let units = root.join("etc/systemd/system");
    fs::create_dir_all(units.join("multi-user.target.wants")).unwrap();
    fs::write(
        units.join("web.service"),
        "[Unit]\nDescription=Web\n[Service]\nExecStart=/bin/sh -c 'echo hello; exec sleep 3600'\n\
         [Install]\nWantedBy=multi-user.target\n",
    )
    .unwrap();
    // Not enabled: loaded when asked for, as an installer's `systemctl start` needs.
    fs::write(
        units.join("extra.service"),
        "[Unit]\nDescription=Extra Thing\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n",
    )
    .unwrap();
    fs::write(
        units.join("broken.service"),
        "[Service]\nType=oneshot\nExecStart=/bin/false\n",
    )
    .unwrap();
    fs::write(
        units.join("needy.service"),
        "[Unit]\nRequires=dep.service\nAfter=dep.service\n[Service]\nExecStart=/bin/sleep 3600\n",
    )
    .unwrap();
    fs::write(
        units.join("dep.service"),
        "[Service]\nExecStart=/bin/sleep 3600\n",
    )
    .unwrap();
    fs::write(
        units.join("slow.service"),
        "[Service]\nExecStartPre=/bin/sleep 1\nExecStart=/bin/sleep 3600\n",
    )
    .unwrap();
    fs::write(
        units.join("later.service"),
        "[Unit]\nDescription=Later\n[Service]\nExecStart=/bin/sleep 3600\n\
         [Install]\nWantedBy=multi-user.target\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "../web.service",
        units.join("multi-user.target.wants/web.service"),
    )
    .unwrap();
    let s = format!("{} systemctl", bosun().display());
    // Each line: the command, then `rc=N` after its output.
    let script = format!(
        "r() {{ \"$@\"; echo \"rc=$?\"; }}\n\
         r {s} is-active web\n\
         r {s} is-active extra web\n\
         r {s} is-active extra\n\
         r {s} start extra\n\
         r {s} is-active extra\n\
         r {s} start broken\n\
         r {s} is-failed broken\n\
         r {s} start nope\n\
         r {s} status nope\n\
         r {s} restart web\n\
         r {s} show web -p ActiveState,SubState\n\
         r {s} show web -p ActiveState --value\n\
         r {s} status web\n\
         echo cat-output; {s} status web -n 1 -o cat | tail -n 1\n\
         r {s} list-units --no-legend --type=service\n\
         r {s} is-system-running\n\
         r {s} reset-failed broken\n\
         r {s} is-system-running\n\
         r {s} start --no-block slow\n\
         echo while-starting; r {s} is-system-running\n\
         echo waited; r {s} is-system-running --wait\n\
         r setpriv --reuid=65534 --regid=65534 --clear-groups {s} stop web\n\
         r setpriv --reuid=65534 --regid=65534 --clear-groups {s} is-active web\n\
         r {s} stop web\n\
         r {s} is-active web\n\
         r {s} enable --now later > /dev/null\n\
         echo enabled-now; r {s} is-active later\n\
         r {s} disable --now later > /dev/null\n\
         echo disabled-now; r {s} is-active later\n\
         r {s} start --ignore-dependencies needy\n\
         echo alone; r {s} is-active needy dep\n\
         r {s} stop needy\n\
         r {s} start needy\n\
         echo pulled; r {s} is-active needy dep\n\
         {s} exit 42\n\
         sleep 30\n"
    );
    let Some(pid1) = Pid1::bosun()
        .env("BOSUN_ROOT", &root)
        .args(["--", "sh", "-c", &script])
        .start()
    else {
        return;
    };
    let run = pid1.wait(Duration::from_secs(60));
    run.assert_code(42);
    // The service's own lines (`web[20]: hello`) reach the same stdout through PID 1, at a
    // moment of their own: set aside, they cannot split a command's output from its `rc=`.
    let out: String = run
        .stdout_str()
        .lines()
        .filter(|l| !l.starts_with("web["))
        .map(|l| format!("{l}\n"))
        .collect();
    let err = &run.stderr;
    for want in [
        "active\nrc=0",
        "inactive\nactive\nrc=0",
        "inactive\nrc=3",
        "rc=0\nactive\nrc=0",
        "failed\nrc=0",
        "rc=5",
        "rc=4",
        "ActiveState=active\nSubState=running\nrc=0",
        "● web.service - Web\n     Loaded: loaded (",
        "     Active: active (running) since ",
        "degraded\nrc=1",
        "running\nrc=0",
        "inactive\nrc=3",
    ] {
        assert!(out.contains(want), "stdout lacks {want:?}\n{}", run.dump());
    }
    assert!(
        out.lines()
            .any(|l| l.starts_with("  web.service") && l.contains("loaded active running Web")),
        "{}",
        run.dump()
    );
    for want in [
        "Job for broken.service failed because the control process exited with error code.",
        "Failed to start nope.service: Unit nope.service not found.",
        "Unit nope.service could not be found.",
        "Failed to stop web.service: Access denied",
        "Started Extra Thing.",
        "exit 42 requested over the control socket",
    ] {
        assert!(err.contains(want), "stderr lacks {want:?}\n{}", run.dump());
    }
    // The refused stop changed nothing: web was active after it (the `active` after rc=4).
    assert!(out.contains("rc=4\nactive\nrc=0"), "{}", run.dump());
    // status's journal lines as `-o cat` prints them: the text alone.
    assert!(out.contains("cat-output\nhello\n"), "{}", run.dump());
    // A job queued after boot does not make the system `starting` again: that word is for
    // boot only (systemd 252 core/manager.c manager_state(), MANAGER_IS_FINISHED).
    assert!(
        out.contains("while-starting\nrunning\nrc=0"),
        "{}",
        run.dump()
    );
    assert!(out.contains("waited\nrunning\nrc=0"), "{}", run.dump());
    // --ignore-dependencies starts the unit alone; a plain start pulls in its requirement.
    assert!(
        out.contains("alone\nactive\ninactive\nrc=0"),
        "{}",
        run.dump()
    );
    assert!(
        out.contains("pulled\nactive\nactive\nrc=0"),
        "{}",
        run.dump()
    );
    // enable --now starts, disable --now stops.
    assert!(out.contains("enabled-now\nactive\nrc=0"), "{}", run.dump());
    assert!(
        out.contains("disabled-now\ninactive\nrc=3"),
        "{}",
        run.dump()
    );
    // /run/systemd/system exists for packages' scripts.
    assert!(root.join("run/systemd/system").is_dir());
}
