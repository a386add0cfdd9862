//! Issue 19, "bosun is the journal", the ways in beside `/dev/log`: bosun as a real PID 1
//! binds the root's `run/systemd/journal/{dev-log,socket,stdout}` and links `dev/log` to
//! `dev-log`; real clients (libsystemd's sd_journal_send through Python's ctypes, a sealed
//! memfd passed as libsystemd passes one, `systemd-cat`) have their lines kept under their
//! unit with priority, identifier and fields; stream connections are capped per uid; every
//! line is forwarded to a syslog daemon listening on `run/systemd/journal/syslog`; and
//! `net.unix.max_dgram_qlen` is raised in a network namespace of PID 1's own only, and a full
//! queue is read before its senders are reaped (none of their lines kept as `unknown`).

use std::fs;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::Duration;

use crate::harness::{PYTHON, Pid1, Scratch, wait_until};
use crate::journal::{json_logs, units};

const T: Duration = Duration::from_secs(30);

/// libsystemd and systemd-cat write to the absolute `/run/systemd/journal/...`: inside the
/// test's namespace (a private /run), that is made the root's.
fn link_run(root: &Path) -> String {
    format!(
        "mkdir -p /run/systemd && ln -s {}/run/systemd/journal /run/systemd/journal",
        root.display()
    )
}

/// The first line of `unit` whose text is `text`, waited for.
fn line_of(root: &Path, unit: &str, text: &str) -> Option<serde_json::Value> {
    let mut found = None;
    wait_until(T, || {
        found = json_logs(root, Some(unit))
            .into_iter()
            .find(|l| l["text"] == text);
        found.is_some()
    });
    found
}

/// [`line_of`], which must come.
fn expect_line(root: &Path, pid1: &Pid1, unit: &str, text: &str) -> serde_json::Value {
    line_of(root, unit, text).unwrap_or_else(|| {
        panic!(
            "no line {text:?} of {unit}\n{}\nall: {:?}",
            pid1.stderr_now(),
            json_logs(root, None)
        )
    })
}

/// bosun as PID 1 over `root`, with /run/systemd/journal the root's.
fn start_linked(root: &Path) -> Option<Pid1> {
    Pid1::bosun()
        .env("BOSUN_ROOT", root)
        .setup(&link_run(root))
        .start()
}

fn have(path: &str) -> bool {
    if Path::new(path).exists() {
        return true;
    }
    println!("SKIP: {path} missing");
    false
}

#[test]
fn native_entries_from_libsystemd_and_memfds_are_kept_under_their_unit() {
    if !have(PYTHON) {
        return;
    }
    let dir = Scratch::new("ingest-native");
    let root = dir.join("root");
    let socket = root.join("run/systemd/journal/socket");
    // libsystemd, as root: a small entry, and one of 300 KiB (a datagram: root's send buffer
    // is raised to 8 MiB by libsystemd).
    let sd = dir.script(
        "sd.py",
        "import ctypes, time\n\
         sd = ctypes.CDLL('libsystemd.so.0')\n\
         r = sd.sd_journal_send(b'MESSAGE=hello native', b'PRIORITY=3', \
         b'SYSLOG_IDENTIFIER=natid', b'MY_FIELD=v1', b'_TRUSTED=no', None)\n\
         assert r == 0, r\n\
         big = b'MESSAGE=big ' + b'x' * (300 * 1024)\n\
         assert sd.sd_journal_send(big, None) == 0\n\
         time.sleep(3600)\n",
    );
    // The memfd path as libsystemd takes it (memfd, sealed, passed with SCM_RIGHTS in an
    // empty datagram), from nobody; then the refusals: an unsealed memfd from nobody, and
    // a sealed one over the 1 MiB cap.
    let memfd = dir.script(
        "memfd.py",
        &format!(
            "import os, socket, fcntl, array, time\n\
             def send(data, seal):\n\
             \x20   fd = os.memfd_create('e', os.MFD_ALLOW_SEALING)\n\
             \x20   os.write(fd, data)\n\
             \x20   if seal:\n\
             \x20       fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW \
             | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL)\n\
             \x20   s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
             \x20   s.sendmsg([], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [fd]))], \
             0, '{socket}')\n\
             send(b'MESSAGE=unsealed\\n', False)\n\
             send(b'MESSAGE=too big ' + b'y' * (2 << 20) + b'\\n', True)\n\
             m = b'BIN\\n' + (5).to_bytes(8, 'little') + b'a\\nb c\\n'\n\
             send(b'MESSAGE=via memfd ' + b'z' * (200 * 1024) + b'\\nPRIORITY=2\\n' + m, True)\n\
             time.sleep(3600)\n",
            socket = socket.display()
        ),
    );
    units(
        &root,
        &[
            (
                "sd.service",
                format!("[Service]\nExecStart={PYTHON} {}\n", sd.display()),
            ),
            (
                "memfd.service",
                format!(
                    "[Service]\nUser=nobody\nExecStart={PYTHON} {}\n",
                    memfd.display()
                ),
            ),
        ],
    );
    let Some(pid1) = start_linked(&root) else {
        return;
    };
    let line = expect_line(&root, &pid1, "sd.service", "hello native");
    assert_eq!(line["syslog"]["priority"], 3, "{line}");
    assert_eq!(line["syslog"]["identifier"], "natid", "{line}");
    let fields = line["syslog"]["fields"].as_array().unwrap();
    assert!(
        fields.iter().any(|f| f[0] == "MY_FIELD" && f[1] == "v1"),
        "{line}"
    );
    // A trusted field from the client is not kept.
    assert!(!fields.iter().any(|f| f[0] == "_TRUSTED"), "{line}");
    assert!(line["pid"].as_i64().unwrap() > 1, "{line}");
    // The big entry: its MESSAGE cut at the line limit (48 KiB) and marked.
    let big = |l: &serde_json::Value| l["text"].as_str().is_some_and(|t| t.starts_with("big x"));
    assert!(
        wait_until(T, || json_logs(&root, Some("sd.service")).iter().any(big)),
        "{}",
        pid1.stderr_now()
    );
    let text = |unit| -> Vec<String> {
        json_logs(&root, Some(unit))
            .iter()
            .map(|l| l["text"].as_str().unwrap_or("").chars().take(40).collect())
            .collect()
    };
    assert!(
        wait_until(T, || text("memfd.service")
            .iter()
            .any(|t| t.starts_with("via memfd z"))),
        "{:?}\n{}",
        text("memfd.service"),
        pid1.stderr_now()
    );
    let lines = json_logs(&root, Some("memfd.service"));
    let via = lines
        .iter()
        .find(|l| l["text"].as_str().unwrap().starts_with("via memfd"))
        .unwrap();
    assert_eq!(via["syslog"]["priority"], 2);
    assert_eq!(via["syslog"]["fields"][0][0], "BIN");
    assert_eq!(via["syslog"]["fields"][0][1], "a\nb c");
    // Negative controls: the unsealed memfd from nobody and the one over the cap were refused
    // (they were sent before the one kept), and said.
    assert_eq!(lines.len(), 1, "{:?}", text("memfd.service"));
    let err = pid1.stderr_now() + &pid1.stdout_now();
    assert!(err.contains("neither a sealed memfd"), "{err}");
    assert!(err.contains("more than the 1048576"), "{err}");
    pid1.signal(libc::SIGTERM);
    pid1.wait(T).assert_code(0);
}

#[test]
fn systemd_cat_lines_are_kept_with_their_identifier_and_level() {
    let cat = "/usr/bin/systemd-cat";
    if !have(cat) {
        return;
    }
    let dir = Scratch::new("ingest-stream");
    let root = dir.join("root");
    units(
        &root,
        &[
            (
                "cat.service",
                format!(
                    "[Service]\nType=oneshot\nRemainAfterExit=yes\n\
                     ExecStart={cat} -t catid -p warning echo hi\n"
                ),
            ),
            (
                "prefix.service",
                // systemd-cat stays connected (its stdin stays open): a client that has exited
                // and been reaped by its own parent before PID 1 accepts is no unit's.
                format!(
                    "[Service]\n\
                     ExecStart=/bin/sh -c \"{{ printf '<3>an error\\\\nplain\\\\n'; \
                     sleep 3600; }} | {cat} -t pfx --level-prefix=true\"\n"
                ),
            ),
        ],
    );
    let Some(pid1) = start_linked(&root) else {
        return;
    };
    // Stream lines are standard output to journald: their fields are `stdio`'s.
    let line = expect_line(&root, &pid1, "cat.service", "hi");
    assert_eq!(line["stdio"]["priority"], 4, "{line}");
    assert_eq!(line["stdio"]["identifier"], "catid", "{line}");
    let error = expect_line(&root, &pid1, "prefix.service", "an error");
    assert_eq!(error["stdio"]["priority"], 3, "{error}");
    // Negative control: a line without a prefix keeps the default level (info).
    let plain = line_of(&root, "prefix.service", "plain").unwrap();
    assert_eq!(plain["stdio"]["priority"], 6, "{plain}");
    assert_eq!(plain["stdio"]["identifier"], "pfx", "{plain}");
    pid1.signal(libc::SIGTERM);
    pid1.wait(T).assert_code(0);
}

#[test]
fn stream_connections_are_capped_per_user() {
    if !have(PYTHON) {
        return;
    }
    let dir = Scratch::new("ingest-cap");
    let root = dir.join("root");
    let out = dir.join("out");
    fs::create_dir_all(&out).unwrap();
    fs::set_permissions(&out, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let stdout = root.join("run/systemd/journal/stdout");
    // 150 connections with a header each; a line on the last. As nobody, the last is one of
    // those PID 1 refuses: once it is closed (connections are accepted in order), count the
    // closed ones, and say it.
    let script = dir.script(
        "hold.py",
        &format!(
            "import socket, select, sys, time\n\
             user = sys.argv[1]\n\
             conns = []\n\
             def closed(s, wait):\n\
             \x20   s.settimeout(wait)\n\
             \x20   try:\n\
             \x20       return s.recv(1) == b''\n\
             \x20   except (ConnectionResetError, BrokenPipeError):\n\
             \x20       return True\n\
             \x20   except (socket.timeout, BlockingIOError):\n\
             \x20       return False\n\
             for i in range(150):\n\
             \x20   s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n\
             \x20   s.connect('{stdout}')\n\
             \x20   try:\n\
             \x20       s.sendall(b'held\\n\\n6\\n0\\n0\\n0\\n0\\n')\n\
             \x20   except (ConnectionResetError, BrokenPipeError):\n\
             \x20       pass\n\
             \x20   conns.append(s)\n\
             try:\n\
             \x20   conns[-1].sendall(b'last line from ' + user.encode() + b'\\n')\n\
             except (ConnectionResetError, BrokenPipeError):\n\
             \x20   pass\n\
             if user == 'nobody':\n\
             \x20   assert closed(conns[-1], 20)\n\
             \x20   n = sum(1 for s in conns if closed(s, 0.001))\n\
             \x20   open('{out}/' + user, 'w').write(str(n))\n\
             time.sleep(3600)\n",
            stdout = stdout.display(),
            out = out.display()
        ),
    );
    let unit = |user: &str| {
        format!(
            "[Service]\nUser={user}\nExecStart={PYTHON} {} {user}\n",
            script.display()
        )
    };
    units(
        &root,
        &[
            ("nobody.service", unit("nobody")),
            ("root.service", unit("root")),
        ],
    );
    let Some(pid1) = Pid1::bosun().env("BOSUN_ROOT", &root).start() else {
        return;
    };
    // The script opens the file, then writes: an empty read is a count not written yet.
    let count = || {
        fs::read_to_string(out.join("nobody"))
            .ok()
            .filter(|c| !c.is_empty())
    };
    assert!(wait_until(T, || count().is_some()), "{}", pid1.stderr_now());
    // The 128 first of nobody's are kept, the 22 others closed at once.
    assert_eq!(count().as_deref(), Some("22"));
    // Negative control: root is not capped per uid; its 150th connection is read.
    assert!(
        line_of(&root, "root.service", "last line from root").is_some(),
        "{}",
        pid1.stderr_now()
    );
    assert!(json_logs(&root, Some("nobody.service")).is_empty());
    let err = pid1.stderr_now() + &pid1.stdout_now();
    assert!(
        err.contains("uid 65534 holds 128 stream connections"),
        "{err}"
    );
    pid1.signal(libc::SIGTERM);
    pid1.wait(T).assert_code(0);
}

/// What a syslog daemon on `path` got so far.
fn received(listener: &UnixDatagram) -> Vec<String> {
    let mut out = Vec::new();
    let mut buf = vec![0; 65536];
    while let Ok(n) = listener.recv(&mut buf) {
        out.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    out
}

/// Units printing a line every 0.1 s on stdout and, with `syslog`, on `/dev/log` too.
fn chatty(root: &Path, syslog: bool) {
    let mut files = vec![(
        "out.service",
        "[Service]\nExecStart=/bin/sh -c 'while :; do echo from stdout; sleep 0.1; done'\n"
            .to_owned(),
    )];
    if syslog {
        files.push((
            "sys.service",
            format!(
                "[Service]\nExecStart=/bin/sh -c 'while :; do /usr/bin/logger -u {} -t systag \
                 -p daemon.err from syslog; sleep 0.1; done'\n",
                root.join("dev/log").display()
            ),
        ));
    }
    units(root, &files);
}

/// The image's syslog daemon, as rsyslog on syslog.socket: bound once bosun has bound its own
/// sockets (its boot clears the root's run/ first).
fn syslog_daemon(root: &Path, pid1: &Pid1) -> UnixDatagram {
    let run = root.join("run/systemd/journal");
    assert!(
        wait_until(T, || run.join("stdout").exists()),
        "{}",
        pid1.stderr_now()
    );
    let listener = UnixDatagram::bind(run.join("syslog")).unwrap();
    listener.set_nonblocking(true).unwrap();
    listener
}

#[test]
fn every_line_is_forwarded_to_a_listening_syslog_daemon() {
    let dir = Scratch::new("ingest-forward");
    let root = dir.join("root");
    chatty(&root, true);
    let Some(pid1) = Pid1::bosun().env("BOSUN_ROOT", &root).start() else {
        return;
    };
    let listener = syslog_daemon(&root, &pid1);
    let mut got = Vec::new();
    let seen = |got: &[String], text: &str| got.iter().any(|l| l.contains(text));
    assert!(
        wait_until(T, || {
            got.extend(received(&listener));
            seen(&got, "from stdout") && seen(&got, "from syslog")
        }),
        "{got:?}\n{}",
        pid1.stderr_now()
    );
    // A service's stdout as journald forwards it: daemon.info, `IDENT[PID]: ` with the
    // executable's name as its identifier.
    let out = got.iter().find(|l| l.contains("from stdout")).unwrap();
    assert!(out.starts_with("<30>"), "{out}");
    assert!(out.contains(" sh["), "{out}");
    // A syslog datagram as it came (journald's forward_syslog_raw): daemon.err.
    let sys = got.iter().find(|l| l.contains("from syslog")).unwrap();
    assert!(sys.starts_with("<27>") && sys.contains("systag"), "{sys}");
    assert!(
        fs::symlink_metadata(root.join("dev/log"))
            .unwrap()
            .is_symlink()
    );
    pid1.signal(libc::SIGTERM);
    pid1.wait(T).assert_code(0);
    // Its sockets and the /dev/log link go with PID 1; the syslog daemon's socket stays.
    for made in [
        "dev/log",
        "run/systemd/journal/dev-log",
        "run/systemd/journal/socket",
    ] {
        assert!(
            fs::symlink_metadata(root.join(made)).is_err(),
            "{made} left"
        );
    }
    assert!(root.join("run/systemd/journal/syslog").exists());
}

#[test]
fn forward_to_syslog_no_in_journald_conf_is_honoured() {
    if !have(PYTHON) {
        return;
    }
    let dir = Scratch::new("ingest-noforward");
    let root = dir.join("root");
    chatty(&root, false);
    fs::create_dir_all(root.join("etc/systemd")).unwrap();
    fs::write(
        root.join("etc/systemd/journald.conf"),
        "[Journal]\nForwardToSyslog=no\n",
    )
    .unwrap();
    // A stream connection whose header asks for forwarding (its fifth line) is forwarded
    // all the same, as journald does.
    let stdout = root.join("run/systemd/journal/stdout");
    let script = dir.script(
        "asker.py",
        &format!(
            "import socket, time\n\
             s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n\
             s.connect('{}')\n\
             s.sendall(b'asker\\n\\n6\\n0\\n1\\n0\\n0\\n')\n\
             while True:\n\
             \x20   s.sendall(b'asked\\n')\n\
             \x20   time.sleep(0.1)\n",
            stdout.display()
        ),
    );
    let asker = format!("[Service]\nExecStart={PYTHON} {}\n", script.display());
    units(&root, &[("asker.service", asker)]);
    let Some(pid1) = Pid1::bosun().env("BOSUN_ROOT", &root).start() else {
        return;
    };
    let listener = syslog_daemon(&root, &pid1);
    let lines = || json_logs(&root, Some("out.service")).len();
    let before = lines();
    // 20 lines 0.1 s apart after the listener was bound: past the 1 s after which a missing
    // listener is looked for again; each line is forwarded (or not) as it is kept.
    assert!(
        wait_until(T, || lines() > before + 20),
        "{}",
        pid1.stderr_now()
    );
    let mut got = Vec::new();
    assert!(
        wait_until(T, || {
            got.extend(received(&listener));
            !got.is_empty()
        }),
        "{}",
        pid1.stderr_now()
    );
    got.extend(received(&listener));
    assert!(got.iter().all(|l| l.contains("asker[")), "{got:?}");
    pid1.signal(libc::SIGTERM);
    pid1.wait(T).assert_code(0);
}

#[test]
fn max_dgram_qlen_is_raised_in_a_network_namespace_of_its_own_only() {
    let host: String = fs::read_to_string("/proc/sys/net/unix/max_dgram_qlen").unwrap();
    let unit = "[Service]\nType=oneshot\nRemainAfterExit=yes\n\
                ExecStart=/bin/cat /proc/sys/net/unix/max_dgram_qlen\n";
    for private in [true, false] {
        let dir = Scratch::new("ingest-qlen");
        let root = dir.join("root");
        units(&root, &[("qlen.service", unit.to_owned())]);
        let mut builder = Pid1::bosun().env("BOSUN_ROOT", &root);
        if private {
            builder = builder.private_network();
        }
        let Some(pid1) = builder.start() else {
            return;
        };
        let mut value = String::new();
        assert!(
            wait_until(T, || {
                let lines = json_logs(&root, Some("qlen.service"));
                value = lines
                    .first()
                    .and_then(|l| l["text"].as_str())
                    .unwrap_or("")
                    .to_owned();
                !value.is_empty()
            }),
            "{}",
            pid1.stderr_now()
        );
        // Its own namespace: systemd's 512. The host's (the negative control): untouched.
        let expected = if private { "512" } else { host.trim() };
        assert_eq!(value, expected, "private network: {private}");
        pid1.signal(libc::SIGTERM);
        pid1.wait(T).assert_code(0);
    }
    assert_eq!(
        fs::read_to_string("/proc/sys/net/unix/max_dgram_qlen").unwrap(),
        host
    );
}

/// The host pids of `pid1`'s children that are zombies (exited, not reaped yet).
fn zombie_children(pid1: i32) -> Vec<i32> {
    let tasks = fs::read_dir(format!("/proc/{pid1}/task")).unwrap();
    tasks
        .flatten()
        .flat_map(|t| {
            let children = fs::read_to_string(t.path().join("children")).unwrap_or_default();
            children
                .split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok())
                .collect::<Vec<_>>()
        })
        .filter(|p| {
            let stat = fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            // `PID (COMM) STATE ...`: the state follows the last `)`.
            stat.rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z'))
        })
        .collect()
}

/// The `unknown` puzzle of BENCHMARKS.md ("Journal ingestion"): native lines of units kept as
/// `unknown` in a flood. With `net.unix.max_dgram_qlen` raised to 512 (a namespace of PID 1's
/// own), up to 513 datagrams wait in a socket, but PID 1 read one turn's 256 before reaping
/// the senders that had exited: the rest were read after their senders were gone. Here three
/// units queue 513 native entries while PID 1 is stopped and exit; once PID 1 runs on, every
/// entry must be kept under its unit, whichever of the journal's and the SIGCHLD's turns the
/// loop takes first (which it picks at random: five rounds, each of which kept a half-queue as
/// `unknown` with a chance of three in four before the fix).
#[test]
fn a_full_queue_is_read_before_its_senders_are_reaped() {
    if !have(PYTHON) {
        return;
    }
    const PER_SENDER: usize = 171;
    let dir = Scratch::new("ingest-reap-order");
    let root = dir.join("root");
    let socket = root.join("run/systemd/journal/socket");
    let script = dir.join("burst.py");
    fs::write(
        &script,
        format!(
            "import os, socket, sys, time\n\
             n, tag, go = int(sys.argv[1]), sys.argv[2], sys.argv[3]\n\
             s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
             s.connect('{socket}')\n\
             lines = [b'MESSAGE=burst %s %d\\n' % (tag.encode(), i) for i in range(n)]\n\
             open(go + '.ready-' + tag, 'w').close()\n\
             while not os.path.exists(go):\n    time.sleep(0.005)\n\
             for line in lines:\n    s.send(line)\n",
            socket = socket.display()
        ),
    )
    .unwrap();
    let go = dir.join("go");
    let unit = format!(
        "[Service]\nExecStart={PYTHON} {} {PER_SENDER} %i {}-%i\n",
        script.display(),
        go.display()
    );
    units(&root, &[("burst@.service", unit)]);
    let Some(pid1) = Pid1::bosun()
        .env("BOSUN_ROOT", &root)
        .private_network()
        .start()
    else {
        return;
    };
    for round in 0..5 {
        let tags: Vec<String> = (1..=3).map(|k| (round * 3 + k).to_string()).collect();
        let names: Vec<String> = tags.iter().map(|t| format!("burst@{t}.service")).collect();
        let mut args = vec!["start", "--no-block"];
        args.extend(names.iter().map(String::as_str));
        // The first call waits for the control socket to be there.
        let mut started = None;
        let ok = wait_until(T, || {
            let out = std::process::Command::new(crate::harness::bosun())
                .arg("systemctl")
                .args(&args)
                .env("BOSUN_ROOT", &root)
                .output()
                .unwrap();
            let ok = out.status.success();
            started = Some(out);
            ok
        });
        assert!(ok, "{started:?}");
        let ready = |t: &String| dir.join(&format!("go-{t}.ready-{t}")).exists();
        assert!(
            wait_until(T, || tags.iter().all(ready)),
            "{}",
            pid1.stderr_now()
        );
        // PID 1 stopped: the senders queue everything and exit unreaped.
        pid1.signal(libc::SIGSTOP);
        for t in &tags {
            fs::write(dir.join(&format!("go-{t}")), "").unwrap();
        }
        let exited = wait_until(T, || zombie_children(pid1.pid()).len() >= 3);
        pid1.signal(libc::SIGCONT);
        assert!(exited, "round {round}: the senders did not exit");
        let mut lines = Vec::new();
        let all_kept = wait_until(T, || {
            lines = json_logs(&root, None)
                .into_iter()
                .filter(|l| {
                    let text = l["text"].as_str().unwrap_or("");
                    tags.iter()
                        .any(|t| text.starts_with(&format!("burst {t} ")))
                })
                .collect();
            lines.len() == 3 * PER_SENDER
        });
        assert!(all_kept, "round {round}: {} lines kept", lines.len());
        let misplaced: Vec<&serde_json::Value> = lines
            .iter()
            .filter(|l| {
                let text = l["text"].as_str().unwrap_or("");
                let tag = text.split(' ').nth(1).unwrap_or("");
                l["unit"] != format!("burst@{tag}.service").as_str()
            })
            .collect();
        assert!(
            misplaced.is_empty(),
            "round {round}: {} of {} lines not under their unit, e.g. {}",
            misplaced.len(),
            lines.len(),
            misplaced[0]
        );
    }
    pid1.signal(libc::SIGTERM);
    pid1.wait(T).assert_code(0);
}
