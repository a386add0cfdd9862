//! PrivateNetwork= and PrivateIPC= (issue 21): the service runs in a network namespace of its
//! own whose loopback is up, and an IPC namespace of its own; the control unit shares PID 1's.
//! Without CAP_SYS_ADMIN the unit starts without them and the boot report says so.

use std::time::Duration;

use crate::fixtures::{Fixture, stop};
use crate::harness::{PYTHON, wait_until};

const T: Duration = Duration::from_secs(60);

/// A oneshot unit recording its network and IPC namespaces and whether a TCP connection on
/// 127.0.0.1 works (the loopback is up).
fn recorder(f: &Fixture, name: &str, extra: &str) {
    f.unit(
        &format!("{name}.service"),
        &format!(
            "[Service]\nType=oneshot\n{extra}\n\
             ExecStart=/bin/sh -c 'readlink /proc/self/ns/net /proc/self/ns/ipc > @S@/{name}.tmp; \
             {PYTHON} -c \"import socket; s=socket.socket(); s.bind((\\\\\"127.0.0.1\\\\\", 0)); s.listen(); socket.create_connection(s.getsockname()); print(\\\\\"up\\\\\")\" >> @S@/{name}.tmp 2>&1; \
             mv @S@/{name}.tmp @S@/{name}.ns'\n"
        ),
    );
}

fn own_ns(pid: i32, kind: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .unwrap()
        .display()
        .to_string()
}

#[test]
fn private_network_and_ipc_are_namespaces_of_the_services_own() {
    let f = Fixture::new("netns");
    recorder(&f, "private", "PrivateNetwork=yes\nPrivateIPC=yes");
    recorder(&f, "control", "");
    let Some(pid1) = f.boot() else { return };
    let done = wait_until(T, || f.exists("private.ns") && f.exists("control.ns"));
    assert!(done, "{}", pid1.stderr_now());
    let (private, control) = (f.lines("private.ns"), f.lines("control.ns"));
    let (net, ipc) = (own_ns(pid1.pid(), "net"), own_ns(pid1.pid(), "ipc"));
    assert_eq!(control[0], net, "{control:?}");
    assert_eq!(control[1], ipc, "{control:?}");
    assert_ne!(private[0], net, "{private:?}");
    assert_ne!(private[1], ipc, "{private:?}");
    assert_eq!(private[2], "up", "the loopback is up: {private:?}");
    stop(pid1);
}

#[test]
fn without_cap_sys_admin_they_are_reported_not_in_force() {
    let f = Fixture::new("netns-noadmin");
    recorder(&f, "private", "PrivateNetwork=yes\nPrivateIPC=yes");
    let Some(pid1) = f.boot_without("-sys_admin") else {
        return;
    };
    assert!(
        wait_until(T, || f.exists("private.ns")),
        "{}",
        pid1.stderr_now()
    );
    let private = f.lines("private.ns");
    assert_eq!(private[0], own_ns(pid1.pid(), "net"), "{private:?}");
    let stderr = pid1.stderr_now();
    assert_eq!(
        stderr
            .matches("private.service: not in force in this container:")
            .count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("PrivateNetwork, PrivateIPC ("), "{stderr}");
    stop(pid1);
}
