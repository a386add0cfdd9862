//! Issue #5: bosun tells the container runtime how boot goes over the `NOTIFY_SOCKET` it was
//! given (podman `--sdnotify=container`): STATUS= per phase, READY=1 only once the units are
//! up and the main command runs, STOPPING=1 at shutdown; the main command does not inherit the
//! variable; and the control socket file is gone once bosun has exited.

use std::fs;
use std::os::unix::net::UnixDatagram;
use std::sync::mpsc;
use std::time::Duration;

use crate::harness::{Pid1, Scratch, wait_until};

#[test]
fn the_runtime_hears_status_ready_after_boot_and_stopping() {
    let dir = Scratch::new("notify");
    let root = dir.join("root");
    let units = root.join("etc/systemd/system");
    fs::create_dir_all(units.join("multi-user.target.wants")).unwrap();
    // Boot takes a while: READY=1 must wait for the unit, which is active only once its
    // oneshot has exited, after writing the flag.
    let up = dir.join("unit-up");
    fs::write(
        units.join("slow.service"),
        format!(
            "[Service]\nType=oneshot\nRemainAfterExit=yes\n\
             ExecStart=/bin/sh -c 'sleep 0.5; touch {}'\n\
             [Install]\nWantedBy=multi-user.target\n",
            up.display()
        ),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "../slow.service",
        units.join("multi-user.target.wants/slow.service"),
    )
    .unwrap();
    let socket_path = dir.join("notify.sock");
    let listener = UnixDatagram::bind(&socket_path).unwrap();
    let env_file = dir.join("main-env");
    let main = format!(
        "env > {0}.tmp; mv {0}.tmp {0}; exec sleep 3600",
        env_file.display()
    );

    // Each message with whether the unit was up when it arrived.
    let (tx, rx) = mpsc::channel::<(String, bool)>();
    let flag = up.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        listener
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        while let Ok(n) = listener.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            let last = text == "STOPPING=1";
            let _ = tx.send((text, flag.exists()));
            if last {
                break;
            }
        }
    });

    let Some(pid1) = Pid1::bosun()
        .env("BOSUN_ROOT", &root)
        .env("NOTIFY_SOCKET", &socket_path)
        .args(["--", "sh", "-c", &main])
        .start()
    else {
        return;
    };
    let mut seen: Vec<(String, bool)> = Vec::new();
    let ready = wait_until(Duration::from_secs(30), || {
        seen.extend(rx.try_iter());
        seen.iter().any(|(m, _)| m == "READY=1")
    });
    assert!(ready, "no READY=1: {seen:?}\n{}", pid1.stderr_now());
    let control = root.join("run/bosun/control.sock");
    assert!(
        control.exists(),
        "the control socket exists while bosun runs"
    );
    // READY=1 follows the main command's start, not its first line: on a loaded machine the
    // shell may not have written its environment yet.
    assert!(
        wait_until(Duration::from_secs(30), || env_file.exists()),
        "the main command never ran\n{}",
        pid1.stderr_now()
    );
    pid1.signal(libc::SIGTERM);
    let finished = pid1.wait(Duration::from_secs(30));
    reader.join().unwrap();
    seen.extend(rx.try_iter());
    let messages: Vec<&str> = seen.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        messages,
        [
            "STATUS=Preparing /run and /tmp",
            "STATUS=Starting units",
            "STATUS=Boot complete",
            "READY=1",
            "STOPPING=1",
        ],
        "{}",
        finished.dump()
    );
    // READY=1 came once the unit was up; "Starting units" before (the negative control).
    let at = |m: &str| seen.iter().find(|(x, _)| x == m).unwrap().1;
    assert!(at("READY=1"), "READY=1 before the unit was up");
    assert!(
        !at("STATUS=Starting units"),
        "the unit was up before boot began"
    );
    // The variable was bosun's: the main command got the rest of the environment only.
    let env = fs::read_to_string(&env_file).unwrap();
    assert!(
        env.contains("BOSUN_ROOT="),
        "the main command's environment: {env}"
    );
    assert!(
        !env.contains("NOTIFY_SOCKET"),
        "NOTIFY_SOCKET leaked: {env}"
    );
    assert!(
        !control.exists(),
        "the control socket file outlived bosun\n{}",
        finished.dump()
    );
}
