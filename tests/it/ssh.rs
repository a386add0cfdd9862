//! Issue #9 acceptance: Debian's own `ssh.socket` with bosun as PID 1, enabled instead of
//! `ssh.service`, in a network namespace of its own.
//! - As bookworm ships it (`Accept=no`): the first connection starts Debian's `ssh.service`
//!   (`sshd -D`, Type=notify), which takes port 22 from bosun through LISTEN_FDS — had it not,
//!   its own bind would fail, bosun holding the port — and `ssh-keyscan` gets the host keys.
//! - With `Accept=yes` (a drop-in) and the `ssh@.service` Debian shipped until bullseye
//!   (`sshd -i`, StandardInput=socket): each connection is an instance of its own.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::harness::{Pid1, Scratch, bosun, run_pid1};

const T: Duration = Duration::from_secs(120);

/// openssh-server's ssh@.service as Debian shipped it in bullseye (1:8.4p1-5).
const SSH_AT_SERVICE: &str = "[Unit]
Description=OpenBSD Secure Shell server per-connection daemon
Documentation=man:sshd(8) man:sshd_config(5)
After=auditd.service

[Service]
EnvironmentFile=-/etc/default/ssh
ExecStart=-/usr/sbin/sshd -i $SSHD_OPTS
StandardInput=socket
RuntimeDirectory=sshd
RuntimeDirectoryMode=0755
";

/// A unit directory with Debian's ssh.socket and ssh.service linked (unmodified) and the
/// socket enabled; None (with a SKIP line) where the test cannot run.
fn units(dir: &Scratch) -> Option<std::path::PathBuf> {
    let shipped = Path::new("/lib/systemd/system");
    let needed = [
        shipped.join("ssh.socket"),
        shipped.join("ssh.service"),
        "/usr/bin/ssh-keyscan".into(),
        "/etc/ssh/ssh_host_ed25519_key".into(),
    ];
    if !nix::unistd::geteuid().is_root() || needed.iter().any(|p| !p.exists()) {
        println!("SKIP: needs root and openssh-server (make test installs it); ssh test not run");
        return None;
    }
    let units = dir.join("units");
    fs::create_dir_all(units.join("sockets.target.wants")).unwrap();
    for name in ["ssh.socket", "ssh.service"] {
        std::os::unix::fs::symlink(shipped.join(name), units.join(name)).unwrap();
    }
    std::os::unix::fs::symlink(
        "../ssh.socket",
        units.join("sockets.target.wants/ssh.socket"),
    )
    .unwrap();
    Some(units)
}

fn boot(units: &Path, main: &str) -> Option<crate::harness::Finished> {
    run_pid1(
        Pid1::bosun()
            .private_network()
            .env("BOSUN_ROOT", "/")
            .env("BOSUN_UNIT_PATH", units)
            .args(["--", "sh", "-c", main]),
        T,
    )
}

#[test]
fn debian_ssh_socket_starts_ssh_service_with_the_socket() {
    let dir = Scratch::new("ssh-socket");
    let Some(units) = units(&dir) else { return };
    let s = format!("{} systemctl", bosun().display());
    let main = format!(
        "echo before=$({s} is-active ssh.service)\n\
         ssh-keyscan -T 20 -t ed25519 127.0.0.1 2>/dev/null\n\
         echo after=$({s} is-active ssh.service)\n\
         {s} list-sockets"
    );
    let Some(run) = boot(&units, &main) else {
        return;
    };
    run.assert_code(0);
    let out = run.stdout_str();
    let key = fs::read_to_string("/etc/ssh/ssh_host_ed25519_key.pub").unwrap();
    let key = key.split_whitespace().nth(1).unwrap();
    assert!(out.contains("before=inactive"), "{}", run.dump());
    assert!(
        out.contains(&format!("127.0.0.1 ssh-ed25519 {key}")),
        "{}",
        run.dump()
    );
    assert!(out.contains("after=active"), "{}", run.dump());
    assert!(
        out.contains("[::]:22 ssh.socket ssh.service"),
        "{}",
        run.dump()
    );
    assert!(
        run.stderr
            .contains("Listening on OpenBSD Secure Shell server socket."),
        "{}",
        run.dump()
    );
    assert!(
        !run.stderr.contains("Address already in use"),
        "{}",
        run.dump()
    );
}

#[test]
fn debian_ssh_socket_with_accept_runs_one_instance_per_connection() {
    let dir = Scratch::new("ssh-accept");
    let Some(units) = units(&dir) else { return };
    fs::write(units.join("ssh@.service"), SSH_AT_SERVICE).unwrap();
    fs::create_dir_all(units.join("ssh.socket.d")).unwrap();
    fs::write(
        units.join("ssh.socket.d/accept.conf"),
        "[Socket]\nAccept=yes\n",
    )
    .unwrap();
    let s = format!("{} systemctl", bosun().display());
    let main = format!(
        "for t in ed25519 rsa ecdsa; do ssh-keyscan -T 20 -t $t 127.0.0.1 2>/dev/null; sleep 0.5; done\n\
         {s} status ssh.socket | grep -E 'Accepted|Triggers'\n\
         echo service=$({s} is-active ssh.service)"
    );
    let Some(run) = boot(&units, &main) else {
        return;
    };
    run.assert_code(0);
    let out = run.stdout_str();
    for kind in ["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256"] {
        assert!(
            out.contains(&format!("127.0.0.1 {kind} ")),
            "{kind}: {}",
            run.dump()
        );
    }
    assert!(out.contains("Accepted: 3; Connected: "), "{}", run.dump());
    assert!(out.contains("Triggers: ○ ssh@.service"), "{}", run.dump());
    // The socket's namesake service never ran: each connection had its own sshd -i.
    assert!(out.contains("service=inactive"), "{}", run.dump());
    for n in 0..3 {
        assert!(
            run.stderr
                .contains(&format!("ssh@{n}-127.0.0.1:22-127.0.0.1:")),
            "instance {n}: {}",
            run.dump()
        );
    }
}
