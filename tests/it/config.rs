//! `/etc/bosun/bosun.yaml` with bosun as PID 1: its settings apply, the environment overrides
//! them, and a mistake in it stops bosun before anything runs, naming the file and the line.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::harness::{Pid1, Scratch, run_pid1};

/// A root whose bosun.yaml moves the hooks to /opt/hooks, where a boot hook leaves a mark.
fn root_with_hooks_elsewhere(dir: &Scratch) -> (std::path::PathBuf, std::path::PathBuf) {
    let root = dir.join("root");
    fs::create_dir_all(root.join("etc/bosun")).unwrap();
    fs::write(
        root.join("etc/bosun/bosun.yaml"),
        "# moved for this image\nhooks_dir: /opt/hooks\nlog: { prefix: true, format: text }\n",
    )
    .unwrap();
    let hooks = root.join("opt/hooks/boot.d");
    fs::create_dir_all(&hooks).unwrap();
    let mark = dir.join("boot-hook-ran");
    let hook = hooks.join("10-mark");
    fs::write(&hook, format!("#!/bin/sh\ntouch {}\n", mark.display())).unwrap();
    fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();
    (root, mark)
}

#[test]
fn the_files_settings_apply_and_the_environment_wins() {
    let dir = Scratch::new("config");
    let (root, mark) = root_with_hooks_elsewhere(&dir);
    let Some(run) = run_pid1(
        Pid1::bosun().env("BOSUN_ROOT", &root).args(["--", "true"]),
        Duration::from_secs(30),
    ) else {
        return;
    };
    run.assert_code(0);
    assert!(
        mark.exists(),
        "the hook in the file's hooks_dir ran\n{}",
        run.dump()
    );

    // The same image with BOSUN_HOOKS_DIR given: the variable wins, the hook does not run.
    fs::remove_file(&mark).unwrap();
    let run = run_pid1(
        Pid1::bosun()
            .env("BOSUN_ROOT", &root)
            .env("BOSUN_HOOKS_DIR", "/etc/bosun/hooks")
            .args(["--", "true"]),
        Duration::from_secs(30),
    )
    .unwrap();
    run.assert_code(0);
    assert!(
        !mark.exists(),
        "BOSUN_HOOKS_DIR overrides the file\n{}",
        run.dump()
    );
}

#[test]
fn a_mistake_in_the_file_stops_bosun_with_its_place() {
    let dir = Scratch::new("config-bad");
    let root = dir.join("root");
    fs::create_dir_all(root.join("etc/bosun")).unwrap();
    fs::write(
        root.join("etc/bosun/bosun.yaml"),
        "data_dir: /data\nstop_timeout: 10 seconds please\n",
    )
    .unwrap();
    let ran = dir.join("main-ran");
    let main = format!("touch {}", ran.display());
    let Some(run) = run_pid1(
        Pid1::bosun()
            .env("BOSUN_ROOT", &root)
            .args(["--", "sh", "-c", &main]),
        Duration::from_secs(30),
    ) else {
        return;
    };
    run.assert_code(2);
    assert!(
        run.stderr.contains("etc/bosun/bosun.yaml: stop_timeout:")
            && run.stderr.contains("at line 2"),
        "{}",
        run.dump()
    );
    assert!(!ran.exists(), "nothing ran");

    // BOSUN_CONFIG names another file, which must exist.
    let run = run_pid1(
        Pid1::bosun()
            .env("BOSUN_ROOT", &root)
            .env("BOSUN_CONFIG", dir.join("missing.yaml"))
            .args(["--", "true"]),
        Duration::from_secs(30),
    )
    .unwrap();
    run.assert_code(2);
    assert!(run.stderr.contains("missing.yaml"), "{}", run.dump());
}

#[test]
fn bosun_control_socket_moves_the_socket_for_pid1_and_its_clients() {
    let dir = Scratch::new("config-socket");
    let socket = dir.join("elsewhere/control.sock");
    let main = format!(
        "test -S {} && {} systemctl is-system-running",
        socket.display(),
        crate::harness::bosun().display()
    );
    let Some(run) = run_pid1(
        Pid1::bosun()
            .env("BOSUN_CONTROL_SOCKET", &socket)
            .args(["--", "sh", "-c", &main]),
        Duration::from_secs(30),
    ) else {
        return;
    };
    run.assert_code(0);
    assert_eq!(run.stdout_str().trim(), "running", "{}", run.dump());
    assert!(!socket.exists(), "removed at exit");
}
