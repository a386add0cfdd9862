//! RemoveIPC= (issue 21): when the last unit of a user stops, the System V shared memory,
//! message queues and semaphore sets and the /dev/shm files that user owns are removed, as
//! systemd 252 does; a unit of another user without RemoveIPC= (the negative control) keeps
//! its objects. Objects are made with util-linux's ipcmk, as the service's user.

use std::fs;
use std::process::Command;
use std::time::Duration;

use crate::fixtures::{Fixture, stop};
use crate::harness::{systemctl_in, wait_until};

const T: Duration = Duration::from_secs(60);

/// A oneshot unit that, as `user`, makes one object of each System V kind and a /dev/shm file,
/// and records the ids (`Shared memory id: N`, ...) in `@S@/NAME.ids`.
fn maker(f: &Fixture, name: &str, user: &str, extra: &str) -> String {
    let shm = format!("/dev/shm/bosun-it-{name}-{}", std::process::id());
    f.unit(
        &format!("{name}.service"),
        &format!(
            "[Service]\nType=oneshot\nUser={user}\n{extra}\n\
             ExecStart=/bin/sh -c 'ipcmk -M 4096 > @S@/{name}.tmp; ipcmk -Q >> @S@/{name}.tmp; \
             ipcmk -S 1 >> @S@/{name}.tmp; touch {shm}; mv @S@/{name}.tmp @S@/{name}.ids'\n"
        ),
    );
    shm
}

/// (kind file under /proc/sysvipc, id) of each object a maker recorded.
fn ids(f: &Fixture, name: &str) -> Vec<(&'static str, String)> {
    f.lines(&format!("{name}.ids"))
        .iter()
        .filter_map(|l| {
            let kind = match l {
                l if l.starts_with("Shared memory") => "shm",
                l if l.starts_with("Message queue") => "msg",
                l if l.starts_with("Semaphore") => "sem",
                _ => return None,
            };
            Some((kind, l.rsplit(' ').next()?.trim().to_owned()))
        })
        .collect()
}

fn exists(kind: &str, id: &str) -> bool {
    fs::read_to_string(format!("/proc/sysvipc/{kind}"))
        .unwrap_or_default()
        .lines()
        .skip(1)
        .any(|l| l.split_whitespace().nth(1) == Some(id))
}

#[test]
fn remove_ipc_removes_the_users_objects_when_its_unit_stops() {
    if Command::new("ipcmk").arg("--version").output().is_err() {
        eprintln!("SKIP: ipcmk (util-linux) is missing; RemoveIPC= was not tested");
        return;
    }
    let f = Fixture::new("removeipc");
    let gone = maker(&f, "removed", "nobody", "RemoveIPC=yes");
    let kept = maker(&f, "kept", "daemon", "");
    let Some(pid1) = f.boot() else { return };
    let inactive = |unit: &str| {
        f.exists(&format!("{unit}.ids"))
            && systemctl_in(
                pid1.pid(),
                &f.root,
                &["is-active", &format!("{unit}.service")],
            )
            .0
            .trim()
                == "inactive"
    };
    assert!(
        wait_until(T, || inactive("removed") && inactive("kept")),
        "{}",
        pid1.stderr_now()
    );
    let (removed, control) = (ids(&f, "removed"), ids(&f, "kept"));
    assert_eq!(removed.len(), 3, "{removed:?}");
    assert_eq!(control.len(), 3, "{control:?}");
    // The removal runs in a child of PID 1's own, after the unit went inactive.
    let all_gone = || {
        removed.iter().all(|(kind, id)| !exists(kind, id)) && !std::path::Path::new(&gone).exists()
    };
    wait_until(T, all_gone);
    for (kind, id) in &removed {
        assert!(!exists(kind, id), "{kind} {id} of nobody is still there");
    }
    assert!(!std::path::Path::new(&gone).exists(), "{gone}");
    for (kind, id) in &control {
        assert!(exists(kind, id), "{kind} {id} of daemon is gone");
    }
    assert!(std::path::Path::new(&kept).exists(), "{kept}");
    stop(pid1);
    for (kind, id) in &control {
        let flag = match *kind {
            "shm" => "-m",
            "msg" => "-q",
            _ => "-s",
        };
        let _ = Command::new("ipcrm").args([flag, id]).status();
    }
    let _ = fs::remove_file(&kept);
}
