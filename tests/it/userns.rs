//! PrivateUsers= (issue 21): bosun as PID 1 (root) runs a service in a user namespace where
//! only root and the unit's own user and group are mapped, as systemd 252 does; a file of
//! another user shows as the overflow user there. The control unit, without the directive,
//! sees the whole id range. Where the runtime refuses user namespaces the unit starts without
//! one and the boot report says so (the podman tests show that case).

use std::time::Duration;

use crate::fixtures::{Fixture, stop};
use crate::harness::wait_until;

const T: Duration = Duration::from_secs(60);

/// A oneshot unit, as User=nobody, that records its uid_map and gid_map, the owner it sees
/// of `probe` (a file of `daemon`'s) and its own uid.
fn recorder(f: &Fixture, name: &str, extra: &str, probe: &str) {
    f.unit(
        &format!("{name}.service"),
        &format!(
            "[Service]\nType=oneshot\n{extra}\nUser=nobody\n\
             ExecStart=/bin/sh -c 'cat /proc/self/uid_map /proc/self/gid_map > @S@/{name}.tmp; \
             stat -c %%U {probe} >> @S@/{name}.tmp; id -u >> @S@/{name}.tmp; \
             mv @S@/{name}.tmp @S@/{name}.maps'\n"
        ),
    );
}

fn words(f: &Fixture, name: &str) -> Vec<Vec<String>> {
    f.lines(&format!("{name}.maps"))
        .iter()
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}

#[test]
fn private_users_maps_root_and_the_units_own_ids_only() {
    let f = Fixture::new("userns");
    // A file owned by `daemon` (uid 1 on Debian), outside what the namespace maps.
    let probe = f.root.join("owned-by-daemon");
    std::fs::write(&probe, b"x").unwrap();
    std::os::unix::fs::chown(&probe, Some(1), Some(1)).unwrap();
    let probe = probe.display().to_string();
    recorder(&f, "private", "PrivateUsers=yes", &probe);
    recorder(&f, "control", "", &probe);
    let Some(pid1) = f.boot() else { return };
    let done = wait_until(T, || f.exists("private.maps") && f.exists("control.maps"));
    assert!(done, "{}", pid1.stderr_now());
    let stderr = pid1.stderr_now();
    if stderr.contains("PrivateUsers (unshare(CLONE_NEWUSER)") {
        eprintln!("SKIP: this machine refuses user namespaces: {stderr}");
        stop(pid1);
        return;
    }
    let private = words(&f, "private");
    let nobody = "65534".to_owned();
    // uid_map: root, then nobody's own id; gid_map: root, then nogroup's.
    assert_eq!(private[0], ["0", "0", "1"], "{private:?}");
    assert_eq!(
        private[1],
        [nobody.clone(), nobody.clone(), "1".into()],
        "{private:?}"
    );
    assert_eq!(private[2], ["0", "0", "1"], "{private:?}");
    assert_eq!(private[3][2], "1", "{private:?}");
    // daemon is not mapped: its file belongs to the overflow user.
    assert_eq!(private[4], ["nobody"], "{private:?}");
    assert_eq!(private[5], ["65534"], "{private:?}");
    let control = words(&f, "control");
    assert_eq!(control[0], ["0", "0", "4294967295"], "{control:?}");
    assert_eq!(control[2], ["daemon"], "{control:?}");
    stop(pid1);
}
