//! Issue #9: socket units with bosun as PID 1.
//! - Accept=yes on a Unix socket, a template service answering on stdin/stdout (the shape of
//!   FreeIPA's OTP helper): 50 clients at once each get their own answer from their own
//!   instance; `list-sockets` and `status` show the socket.
//! - Accept=no: the service gets the socket with LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES and
//!   is started by the first connection; restarted while a client keeps connecting, no
//!   connection is refused.
//! - A socket that cannot be opened fails with the line at fault; Exec*= lines are refused.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::harness::{Pid1, Scratch, bosun, free_port, run_pid1};

const T: Duration = Duration::from_secs(90);

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// A root whose /etc/systemd/system holds `units` (name, text), the sockets among them
/// enabled into sockets.target.
fn root_with(dir: &Scratch, units: &[(&str, &str)]) -> std::path::PathBuf {
    let root = dir.join("root");
    let etc = root.join("etc/systemd/system");
    for (name, text) in units {
        write(&etc.join(name), text);
        if name.ends_with(".socket") {
            let wants = etc.join("sockets.target.wants");
            fs::create_dir_all(&wants).unwrap();
            std::os::unix::fs::symlink(format!("../{name}"), wants.join(name)).unwrap();
        }
    }
    root
}

/// bosun as PID 1 on `root` with `main` as its command (in a network namespace of its own
/// with `net`).
fn boot(root: &Path, main: &str, net: bool) -> Option<crate::harness::Finished> {
    let mut builder = Pid1::bosun()
        .env("BOSUN_ROOT", root)
        .args(["--", "sh", "-c", main]);
    if net {
        builder = builder.private_network();
    }
    run_pid1(builder, T)
}

const CLIENTS: &str = r#"
import socket, sys, threading
path, n = sys.argv[1], int(sys.argv[2])
answers = {}
def ask(i):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(path)
    s.sendall(b"question-%d\n" % i)
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    answers[i] = data.decode().strip()
threads = [threading.Thread(target=ask, args=(i,)) for i in range(n)]
for t in threads: t.start()
for t in threads: t.join()
for i in range(n):
    print(i, answers.get(i))
"#;

#[test]
fn accept_yes_gives_each_of_fifty_concurrent_clients_its_own_instance() {
    let dir = Scratch::new("sock-accept");
    let root = root_with(
        &dir,
        &[
            (
                "otpd.socket",
                "[Unit]\nDescription=OTP helper socket\n\n[Socket]\n\
                 ListenStream=/run/otpd/DEFAULT.socket\nRemoveOnStop=true\nSocketMode=0600\n\
                 Accept=true\n\n[Install]\nWantedBy=sockets.target\n",
            ),
            (
                // As ipa-otpd@.service: the connection on stdin and stdout, stderr to the log.
                "otpd@.service",
                "[Unit]\nDescription=OTP helper\n\n[Service]\nEnvironment=LC_ALL=C.UTF-8\n\
                 ExecStart=/bin/sh -c 'read q; echo \"serving $q\" >&2; sleep 0.2; \
                 echo \"answer to $q from $$$$ fds=$LISTEN_FDS names=$LISTEN_FDNAMES\"'\n\
                 StandardInput=socket\nStandardOutput=socket\nStandardError=journal\n",
            ),
        ],
    );
    let client = dir.script("clients.py", CLIENTS);
    let socket = root.join("run/otpd/DEFAULT.socket");
    let main = format!(
        "python3 {client} {socket} 50 > {out}; echo rc=$? >> {out}\n\
         {s} list-sockets > {dir}/list; {s} status otpd.socket > {dir}/status\n\
         stat -c %a {socket} > {dir}/mode; {b} ctl status > {dir}/initctl",
        b = bosun().display(),
        client = client.display(),
        socket = socket.display(),
        out = dir.join("answers").display(),
        s = format!("{} systemctl", bosun().display()),
        dir = dir.path().display(),
    );
    let Some(run) = boot(&root, &main, false) else {
        return;
    };
    run.assert_code(0);
    let answers = fs::read_to_string(dir.join("answers")).unwrap();
    assert!(answers.ends_with("rc=0\n"), "{answers}\n{}", run.dump());
    let mut pids = std::collections::BTreeSet::new();
    for i in 0..50 {
        let line = answers
            .lines()
            .find(|l| l.starts_with(&format!("{i} ")))
            .unwrap_or_else(|| panic!("no answer for client {i}\n{answers}\n{}", run.dump()));
        let expected = format!("{i} answer to question-{i} from ");
        assert!(line.starts_with(&expected), "{line}\n{}", run.dump());
        assert!(
            line.ends_with("fds=1 names=connection"),
            "{line}\n{}",
            run.dump()
        );
        pids.insert(line.split_whitespace().nth(5).unwrap().to_owned());
    }
    assert_eq!(pids.len(), 50, "one process per connection: {answers}");
    let list = fs::read_to_string(dir.join("list")).unwrap();
    let socket_text = "/run/otpd/DEFAULT.socket";
    assert!(
        list.starts_with("LISTEN") && list.contains("UNIT") && list.contains("ACTIVATES"),
        "{list}"
    );
    let row = list
        .lines()
        .find(|l| l.starts_with(socket_text))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(
        row.contains("otpd.socket") && row.ends_with("otpd@.service"),
        "{list}"
    );
    assert!(list.contains("1 sockets listed."), "{list}");
    let status = fs::read_to_string(dir.join("status")).unwrap();
    assert!(status.contains("Active: active (listening)"), "{status}");
    assert!(status.contains("Triggers: ○ otpd@.service"), "{status}");
    assert!(
        status.contains(&format!("Listen: {socket_text} (Stream)")),
        "{status}"
    );
    assert!(status.contains("Accepted: 50; Connected: 0;"), "{status}");
    assert_eq!(fs::read_to_string(dir.join("mode")).unwrap().trim(), "600");
    let initctl = fs::read_to_string(dir.join("initctl")).unwrap();
    assert!(
        initctl.contains("OTP helper socket [/run/otpd/DEFAULT.socket] 0/50 connections"),
        "{initctl}"
    );
    let err = &run.stderr;
    assert!(err.contains("Listening on OTP helper socket."), "{err}");
    // Their stderr went to the log (bosun's stdout), prefixed by the instance.
    assert!(
        run.stdout_str().contains("]: serving question-49"),
        "{}",
        run.dump()
    );
    // RemoveOnStop=: the socket file went with the socket.
    assert!(!socket.exists(), "{}", socket.display());
}

/// A daemon that takes its socket from bosun (sd_listen_fds(3) rules checked by itself) and
/// answers each connection with its pid.
const DAEMON: &str = r#"
import os, socket, sys
assert os.environ["LISTEN_PID"] == str(os.getpid()), os.environ["LISTEN_PID"]
assert os.environ["LISTEN_FDS"] == "1"
print("names", os.environ["LISTEN_FDNAMES"], flush=True)
s = socket.socket(fileno=3)
s.setblocking(True)
while True:
    c, _ = s.accept()
    c.sendall(b"pid %d\n" % os.getpid())
    c.close()
"#;

/// Connect over and over for a while, counting refusals, while the service restarts.
const HAMMER: &str = r#"
import socket, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
ok = refused = 0
pids = set()
end = time.time() + seconds
while time.time() < end:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        data = s.recv(100).decode().split()
        if len(data) == 2:
            pids.add(data[1])
            ok += 1
        s.close()
    except ConnectionRefusedError:
        refused += 1
print("ok", ok, "refused", refused, "pids", len(pids))
"#;

#[test]
fn accept_no_hands_the_socket_over_and_loses_no_connection_across_restarts() {
    let dir = Scratch::new("sock-noaccept");
    let port = free_port();
    let daemon = dir.script("daemon.py", DAEMON);
    let root = root_with(
        &dir,
        &[
            (
                "web.socket",
                &format!(
                    "[Unit]\nDescription=Web socket\n\n[Socket]\nListenStream=127.0.0.1:{port}\n\
                     FileDescriptorName=http\n\n[Install]\nWantedBy=sockets.target\n"
                ),
            ),
            (
                "web.service",
                &format!(
                    "[Unit]\nDescription=Web daemon\n\n[Service]\nExecStart=/usr/bin/env python3 {}\n",
                    daemon.display()
                ),
            ),
        ],
    );
    let hammer = dir.script("hammer.py", HAMMER);
    let s = format!("{} systemctl", bosun().display());
    let main = format!(
        "{s} is-active web.service > {dir}/before\n\
         python3 {hammer} {port} 6 > {dir}/hammer &\n\
         for i in 1 2 3; do sleep 1.5; {s} restart web.service; done\n\
         wait; {s} is-active web.socket web.service > {dir}/after\n\
         {s} status web.service > {dir}/status",
        hammer = hammer.display(),
        dir = dir.path().display(),
    );
    let Some(run) = boot(&root, &main, true) else {
        return;
    };
    run.assert_code(0);
    let read = |name: &str| fs::read_to_string(dir.join(name)).unwrap_or_default();
    // Nothing connected yet: the socket listens, the service waits.
    assert_eq!(read("before").trim(), "inactive", "{}", run.dump());
    let hammer = read("hammer");
    let words: Vec<&str> = hammer.split_whitespace().collect();
    assert_eq!(words.first(), Some(&"ok"), "{hammer}\n{}", run.dump());
    let ok: u32 = words[1].parse().unwrap();
    assert!(ok > 0, "{hammer}");
    assert_eq!(
        words[3],
        "0",
        "connections refused: {hammer}\n{}",
        run.dump()
    );
    // Three restarts (within the default start limit): answers came from several processes.
    let pids: u32 = words[5].parse().unwrap();
    assert!(pids >= 2, "{hammer}\n{}", run.dump());
    assert_eq!(read("after"), "active\nactive\n", "{}", run.dump());
    let status = read("status");
    assert!(status.contains("TriggeredBy: ● web.socket"), "{status}");
    let out = String::from_utf8_lossy(&run.stdout);
    let err = &run.stderr;
    assert!(
        out.contains("names http") || err.contains("names http"),
        "{}",
        run.dump()
    );
}

#[test]
fn a_socket_that_cannot_open_or_has_no_service_fails_and_exec_lines_are_refused() {
    let dir = Scratch::new("sock-fail");
    let root = root_with(
        &dir,
        &[
            (
                "bad.socket",
                "[Socket]\nListenStream=/etc/hostname/bad.sock\n\n[Install]\nWantedBy=sockets.target\n",
            ),
            ("bad.service", "[Service]\nExecStart=/bin/true\n"),
            (
                "pre.socket",
                "[Socket]\nListenStream=/run/pre.sock\nExecStartPre=/bin/true\n\n\
                 [Install]\nWantedBy=sockets.target\n",
            ),
            ("pre.service", "[Service]\nExecStart=/bin/true\n"),
            (
                "orphan.socket",
                "[Socket]\nListenStream=/run/orphan.sock\n\n[Install]\nWantedBy=sockets.target\n",
            ),
        ],
    );
    write(&root.join("etc/hostname"), "a file, not a directory\n");
    let s = format!("{} systemctl", bosun().display());
    let main = format!("{s} is-failed bad.socket pre.socket orphan.socket; exit 0");
    let Some(run) = boot(&root, &main, false) else {
        return;
    };
    run.assert_code(0);
    assert_eq!(
        run.stdout_str(),
        "failed\nfailed\nfailed\n",
        "{}",
        run.dump()
    );
    let err = &run.stderr;
    assert!(
        err.contains("bad.socket: Failed to create listening socket (/etc/hostname/bad.sock)"),
        "{err}"
    );
    assert!(
        err.contains("pre.socket: ExecStartPre= in a socket unit is not run by bosun"),
        "{err}"
    );
    assert!(
        err.contains(
            "orphan.socket: Socket service orphan.service not loaded, refusing: Unit orphan.service not found."
        ),
        "{err}"
    );
}

#[test]
fn every_socket_unit_shipped_on_this_machine_parses() {
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for dir in ["/lib/systemd/system", "/usr/lib/systemd/system"] {
        if let Ok(entries) = fs::read_dir(dir) {
            files.extend(
                entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "socket")),
            );
        }
    }
    if files.is_empty() {
        println!("SKIP: no .socket unit files on this machine");
        return;
    }
    let out = std::process::Command::new(bosun())
        .arg("verify")
        .args(&files)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains(" 0 with errors,"), "{text}");
}

/// Symlinks= (systemd.socket(5)): made to the socket's one file-system node when it listens
/// (parents created; kept when already right), removed at stop only with RemoveOnStop=, which
/// also replaces something else in the way; a link that cannot be made is a warning and the
/// socket listens anyway; two nodes with Symlinks= is a bad unit, as systemd 252's
/// socket_verify() says.
#[test]
fn symlinks_point_to_the_socket_while_it_listens() {
    let dir = Scratch::new("sock-symlinks");
    let root = root_with(
        &dir,
        &[
            (
                "log.socket",
                "[Socket]\nListenDatagram=/run/j/dev-log\nSymlinks=/run/alias/log /run/alias2/log\n",
            ),
            ("log.service", "[Service]\nExecStart=/bin/sleep 3600\n"),
            (
                "rm.socket",
                "[Socket]\nListenStream=/run/rm.sock\nSymlinks=/srv/rm-link\nRemoveOnStop=yes\n",
            ),
            ("rm.service", "[Service]\nExecStart=/bin/sleep 3600\n"),
            (
                "taken.socket",
                "[Socket]\nListenStream=/run/taken.sock\nSymlinks=/srv/taken-link\n",
            ),
            ("taken.service", "[Service]\nExecStart=/bin/sleep 3600\n"),
            (
                "two.socket",
                "[Socket]\nListenStream=/run/a.sock\nListenStream=/run/b.sock\nSymlinks=/run/ab\n",
            ),
            ("two.service", "[Service]\nExecStart=/bin/sleep 3600\n"),
        ],
    );
    write(&root.join("srv/rm-link"), "in the way\n");
    write(&root.join("srv/taken-link"), "in the way\n");
    let s = format!("{} systemctl", bosun().display());
    let r = root.display();
    let main = format!(
        "{s} is-active log.socket rm.socket taken.socket two.socket\n\
         readlink {r}/run/alias/log {r}/run/alias2/log {r}/srv/rm-link\n\
         cat {r}/srv/taken-link\n\
         {s} stop log.socket rm.socket\n\
         readlink {r}/run/alias/log; test -e {r}/srv/rm-link || echo rm-link-gone; exit 0"
    );
    let Some(run) = boot(&root, &main, false) else {
        return;
    };
    run.assert_code(0);
    assert_eq!(
        run.stdout_str(),
        "active\nactive\nactive\ninactive\n/run/j/dev-log\n/run/j/dev-log\n/run/rm.sock\n\
         in the way\n/run/j/dev-log\nrm-link-gone\n",
        "{}",
        run.dump()
    );
    let err = &run.stderr;
    assert!(
        err.contains(
            "taken.socket: Failed to create symlink /run/taken.sock → /srv/taken-link, ignoring"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "Unit has symlinks set but none or more than one node in the file system. Refusing."
        ),
        "{err}"
    );
}
