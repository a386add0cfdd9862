//! Per-service cgroup v2 tracking (issue #4's exact mode): a service process joins its unit's
//! cgroup before exec, so everything it forks — even what escapes its process group and session
//! — is listed and killed with it. Runs where a writable cgroup2 hierarchy exists (as root);
//! elsewhere it prints SKIP.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bosun::service::cgroup::{CgroupError, Cgroups};

use crate::harness::wait_until;

/// A writable cgroup2 directory for this test, removed on drop.
struct TestTree(PathBuf);

impl Drop for TestTree {
    fn drop(&mut self) {
        // A failed test may leave processes behind: kill them, wait, then remove.
        if let Ok(entries) = std::fs::read_dir(&self.0) {
            for e in entries.flatten().filter(|e| e.path().is_dir()) {
                let _ = std::fs::write(e.path().join("cgroup.kill"), "1");
                wait_until(Duration::from_secs(10), || {
                    std::fs::remove_dir(e.path()).is_ok()
                });
            }
        }
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn cgroup2_tree(tag: &str) -> Option<TestTree> {
    for mount in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
        if Cgroups::at(Path::new(mount)).is_ok() {
            let dir = Path::new(mount).join(format!("bosun-it-{tag}-{}", std::process::id()));
            if std::fs::create_dir(&dir).is_ok() {
                return Some(TestTree(dir));
            }
        }
    }
    println!("SKIP: no writable cgroup2 hierarchy here; cgroup tracking test not run");
    None
}

#[test]
fn escaped_processes_are_tracked_and_killed_with_their_unit() {
    let Some(tree) = cgroup2_tree("track") else {
        return;
    };
    let cgroups = Cgroups::at(&tree.0).unwrap();
    let unit = cgroups.for_unit("demo.service").unwrap();
    assert!(!unit.populated().unwrap());

    // A daemon-style start: background job, double fork, and a new session.
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "sleep 600 & sh -c 'sleep 600 &' ; setsid sleep 600 & echo started; wait",
    ]);
    cmd.stdout(std::process::Stdio::piped());
    bosun::sys::prepare_child(
        &mut cmd,
        bosun::sys::ChildSetup {
            cgroup_procs: Some(unit.procs_file().clone()),
            ..Default::default()
        },
    );
    let mut child = cmd.spawn().unwrap();
    // Negative control: a process started without joining is not the unit's.
    let mut outsider = Command::new("sleep").arg("600").spawn().unwrap();

    assert!(wait_until(Duration::from_secs(30), || unit
        .pids()
        .unwrap()
        .len()
        >= 4));
    let pids = unit.pids().unwrap();
    assert!(pids.contains(&(child.id() as i32)), "{pids:?}");
    assert!(!pids.contains(&(outsider.id() as i32)), "{pids:?}");
    // A process's unit is found by one read of /proc/PID/cgroup.
    for pid in &pids {
        let dir = cgroups.of_process(*pid).unwrap();
        assert!(dir.starts_with(unit.path()), "{pid}: {}", dir.display());
    }
    let theirs = cgroups.of_process(outsider.id() as i32).unwrap();
    assert!(!theirs.starts_with(unit.path()), "{}", theirs.display());
    assert!(unit.populated().unwrap());

    unit.signal_all(libc::SIGKILL).unwrap();
    assert!(
        wait_until(Duration::from_secs(30), || !unit.populated().unwrap()),
        "left: {:?}",
        unit.pids()
    );
    child.wait().unwrap();
    assert!(
        outsider.try_wait().unwrap().is_none(),
        "the outsider was killed too"
    );
    outsider.kill().unwrap();
    outsider.wait().unwrap();
    unit.remove().unwrap();
}

#[test]
fn detection_explains_why_cgroups_are_unusable() {
    let err = Cgroups::at(Path::new("/proc")).unwrap_err();
    assert!(matches!(err, CgroupError::NotCgroup2 { .. }));
    assert_eq!(err.to_string(), "/proc: not a cgroup2 filesystem");
}
