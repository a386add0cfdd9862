//! Issue 21, privileges: NoNewPrivileges=, CapabilityBoundingSet=, AmbientCapabilities= and
//! SecureBits= as bosun (PID 1) applies them, judged by the service's own
//! /proc/self/status and by what it can do (bind port 80 as nobody, gain root through a
//! setuid binary), each beside a negative control; and a container without CAP_SETPCAP,
//! where a bounding set that must shrink fails the unit with 218/CAPABILITIES as in systemd 252.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::fixtures::{Fixture, stop};
use crate::harness::{PYTHON, Pid1, systemctl_in, wait_until};

const T: Duration = Duration::from_secs(60);

/// A oneshot unit whose process records the status lines of /proc/self/status that matter
/// here in `@S@/NAME.status`, with `extra` lines in its [Service] section.
fn recorder(f: &Fixture, name: &str, extra: &str) {
    f.unit(
        &format!("{name}.service"),
        &format!(
            "[Service]\nType=oneshot\n{extra}\n\
             ExecStart=/bin/sh -c 'grep -E \"^(NoNewPrivs|Cap[A-Za-z]+|Uid):\" /proc/self/status > @S@/{name}.tmp; mv @S@/{name}.tmp @S@/{name}.status'\n"
        ),
    );
}

/// The recorded fields of `name`, once it wrote them.
fn status(f: &Fixture, pid1: &Pid1, name: &str) -> HashMap<String, String> {
    let file = format!("{name}.status");
    assert!(
        wait_until(T, || f.exists(&file)),
        "{name}: {}",
        pid1.stderr_now()
    );
    f.lines(&file)
        .iter()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect()
}

fn mask(fields: &HashMap<String, String>, key: &str) -> u64 {
    u64::from_str_radix(&fields[key], 16).unwrap()
}

/// Our own set of that name (the test runs as root with every capability PID 1 gets).
fn own(key: &str) -> u64 {
    let text = fs::read_to_string("/proc/self/status").unwrap();
    let hex = text
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .unwrap();
    u64::from_str_radix(hex.trim(), 16).unwrap()
}

const CHOWN: u64 = 1 << 0;
const SETPCAP: u64 = 1 << 8;
const NET_BIND_SERVICE: u64 = 1 << 10;
const SYS_ADMIN: u64 = 1 << 21;

#[test]
fn no_new_privileges_and_the_bounding_set_are_in_force() {
    let f = Fixture::new("privs-bounding");
    recorder(
        &f,
        "confined",
        "NoNewPrivileges=yes\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE\nCapabilityBoundingSet=CAP_CHOWN CAP_BOGUS",
    );
    recorder(
        &f,
        "inverted",
        "CapabilityBoundingSet=~CAP_CHOWN\nCapabilityBoundingSet=~CAP_NET_BIND_SERVICE",
    );
    recorder(
        &f,
        "emptied",
        "CapabilityBoundingSet=CAP_CHOWN\nCapabilityBoundingSet=",
    );
    recorder(
        &f,
        "plus",
        "NoNewPrivileges=yes\nCapabilityBoundingSet=CAP_CHOWN\nExecStartPre=+/bin/sh -c 'grep -E \"^(NoNewPrivs|CapBnd):\" /proc/self/status > @S@/pre.tmp; mv @S@/pre.tmp @S@/plus-pre.status'\nExecStartPost=!/bin/sh -c 'grep -E \"^(NoNewPrivs|CapBnd):\" /proc/self/status > @S@/post.tmp; mv @S@/post.tmp @S@/bang-post.status'",
    );
    // Negative control: nothing asked, nothing changed.
    recorder(&f, "control", "");
    // DynamicUser= implies NoNewPrivileges= only without CAP_SYS_ADMIN, which root has here.
    recorder(&f, "dynamic", "DynamicUser=yes");
    let Some(pid1) = f.boot() else { return };
    let bounding = own("CapBnd");
    let confined = status(&f, &pid1, "confined");
    assert_eq!(confined["NoNewPrivs"], "1");
    assert_eq!(
        mask(&confined, "CapBnd"),
        bounding & (CHOWN | NET_BIND_SERVICE)
    );
    let inverted = status(&f, &pid1, "inverted");
    assert_eq!(
        mask(&inverted, "CapBnd"),
        bounding & !CHOWN & !NET_BIND_SERVICE
    );
    assert_eq!(inverted["NoNewPrivs"], "0");
    assert_eq!(mask(&status(&f, &pid1, "emptied"), "CapBnd"), 0);
    // `+` lifts the sandbox for its own command only.
    let plus = status(&f, &pid1, "plus");
    assert_eq!(plus["NoNewPrivs"], "1");
    let pre = status(&f, &pid1, "plus-pre");
    assert_eq!(pre["NoNewPrivs"], "0");
    assert_eq!(mask(&pre, "CapBnd"), bounding);
    // `!` lifts only the user switch: the privilege steps stay.
    let bang = status(&f, &pid1, "bang-post");
    assert_eq!(bang["NoNewPrivs"], "1");
    assert_eq!(mask(&bang, "CapBnd"), bounding & CHOWN);
    let control = status(&f, &pid1, "control");
    assert_eq!(control["NoNewPrivs"], "0");
    assert_eq!(status(&f, &pid1, "dynamic")["NoNewPrivs"], "0");
    assert_eq!(mask(&control, "CapBnd"), bounding);
    // The unknown name is warned about with the file and line, as systemd does.
    let err = stop(pid1).stderr;
    assert!(
        err.contains("confined.service:5") && err.contains("CAP_BOGUS"),
        "{err}"
    );
}

/// AmbientCapabilities=CAP_NET_BIND_SERVICE lets User=nobody bind port 80; without it the
/// same program is refused.
#[test]
fn ambient_capabilities_let_nobody_bind_port_80() {
    let f = Fixture::new("privs-ambient");
    let bind = f.script(
        "bind.py",
        "import socket, sys\n\
         s = socket.socket()\n\
         try:\n    s.bind(('127.0.0.1', 80)); r = 'bound'\n\
         except OSError as e:\n    r = 'refused %d' % e.errno\n\
         open(sys.argv[1] + '.tmp', 'w').write(r)\n\
         import os; os.rename(sys.argv[1] + '.tmp', sys.argv[1])\n",
    );
    for (name, extra) in [
        ("ambient", "AmbientCapabilities=CAP_NET_BIND_SERVICE\n"),
        ("plain", ""),
    ] {
        f.unit(
            &format!("{name}.service"),
            &format!(
                "[Service]\nType=oneshot\nUser=nobody\n{extra}\
                 ExecStart={PYTHON} {bind} @S@/{name}.bind\n\
                 ExecStart=/bin/sh -c 'grep -E \"^(NoNewPrivs|Cap[A-Za-z]+|Uid):\" /proc/self/status > @S@/{name}.tmp; mv @S@/{name}.tmp @S@/{name}.status'\n"
            ),
        );
    }
    let Some(pid1) = Pid1::bosun()
        .env("BOSUN_ROOT", &f.root)
        .private_network()
        .setup("sysctl -qw net.ipv4.ip_unprivileged_port_start=1024")
        .start()
    else {
        return;
    };
    let ambient = status(&f, &pid1, "ambient");
    assert!(ambient["Uid"].starts_with("65534"), "{ambient:?}");
    assert_eq!(mask(&ambient, "CapAmb"), NET_BIND_SERVICE);
    assert_eq!(f.read("ambient.bind"), "bound", "{}", pid1.stderr_now());
    let plain = status(&f, &pid1, "plain");
    assert_eq!(mask(&plain, "CapAmb"), 0);
    assert_eq!(
        f.read("plain.bind"),
        format!("refused {}", libc::EACCES),
        "{}",
        pid1.stderr_now()
    );
    stop(pid1);
}

/// A setuid-root program run by nobody under NoNewPrivileges=yes keeps nobody's identity;
/// without it (negative control) it runs with euid 0.
#[test]
fn a_setuid_binary_gains_nothing_under_no_new_privileges() {
    let f = Fixture::new("privs-suid");
    let id = f.state.join("suid-id");
    fs::copy("/usr/bin/id", &id).unwrap();
    fs::set_permissions(&id, fs::Permissions::from_mode(0o4755)).unwrap();
    for (name, extra) in [("nnp", "NoNewPrivileges=yes\n"), ("free", "")] {
        f.unit(
            &format!("{name}.service"),
            &format!(
                "[Service]\nType=oneshot\nUser=nobody\n{extra}\
                 ExecStart=/bin/sh -c '{} > @S@/{name}.tmp; mv @S@/{name}.tmp @S@/{name}.id'\n",
                id.display()
            ),
        );
    }
    let Some(pid1) = f.boot() else { return };
    assert!(
        wait_until(T, || f.exists("nnp.id") && f.exists("free.id")),
        "{}",
        pid1.stderr_now()
    );
    let (nnp, free) = (f.read("nnp.id"), f.read("free.id"));
    assert!(
        free.contains("euid=0"),
        "setuid not honoured at all here: {free}"
    );
    assert!(
        !nnp.contains("euid=0") && nnp.starts_with("uid=65534"),
        "{nnp}"
    );
    stop(pid1);
}

/// SecureBits= reaches the program (noroot: root's exec gains no capability from its uid; the
/// bits are visible to the program through its exec: keep-caps is cleared by exec, the others
/// stay).
#[test]
fn secure_bits_are_set() {
    let f = Fixture::new("privs-securebits");
    recorder(&f, "noroot", "SecureBits=noroot noroot-locked");
    recorder(&f, "control", "");
    let Some(pid1) = f.boot() else { return };
    // noroot: a root program gets no capability from being root.
    let noroot = status(&f, &pid1, "noroot");
    assert_eq!(mask(&noroot, "CapEff"), 0, "{noroot:?}");
    assert_eq!(mask(&noroot, "CapPrm"), 0, "{noroot:?}");
    let control = status(&f, &pid1, "control");
    assert_ne!(mask(&control, "CapEff"), 0);
    stop(pid1);
}

/// In a container without CAP_SETPCAP (and CAP_SYS_ADMIN), a bounding set that would have to
/// shrink fails the unit with 218/CAPABILITIES (systemd 252: the drop fails with EPERM), and
/// so does SecureBits=; one that keeps everything the container has starts (a capability
/// already gone needs no drop); ambient capabilities the container lacks are left out;
/// DynamicUser= implies NoNewPrivileges=.
#[test]
fn without_cap_setpcap_a_shrinking_bounding_set_fails_218() {
    let f = Fixture::new("privs-nosetpcap");
    recorder(&f, "shrink", "CapabilityBoundingSet=CAP_CHOWN");
    recorder(&f, "keepall", "CapabilityBoundingSet=~CAP_SETPCAP");
    // An ambient capability the container lacks is left out, the others raised (no
    // CAP_SETPCAP needed for that); as in systemd since v246.
    recorder(
        &f,
        "ambient",
        "User=nobody\nAmbientCapabilities=CAP_SETPCAP CAP_NET_BIND_SERVICE",
    );
    // SecureBits= needs CAP_SETPCAP in the effective set: 252 cannot gain it, 218.
    recorder(&f, "securebits", "SecureBits=noroot");
    // Without CAP_SYS_ADMIN, DynamicUser= implies NoNewPrivileges= (the control, with it, is
    // in no_new_privileges_and_the_bounding_set_are_in_force).
    recorder(&f, "dynamic", "DynamicUser=yes");
    let Some(pid1) = f.boot_without("-setpcap,-sys_admin") else {
        return;
    };
    let keepall = status(&f, &pid1, "keepall");
    assert_eq!(mask(&keepall, "CapBnd") & SETPCAP, 0);
    assert_eq!(
        mask(&keepall, "CapBnd"),
        own("CapBnd") & !SETPCAP & !SYS_ADMIN
    );
    assert_eq!(keepall["NoNewPrivs"], "0");
    assert_eq!(status(&f, &pid1, "dynamic")["NoNewPrivs"], "1");
    let show = |unit: &str, p: &str| {
        systemctl_in(pid1.pid(), &f.root, &["show", "-p", p, "--value", unit])
            .0
            .trim()
            .to_owned()
    };
    let failed_218 = |unit: &str| {
        wait_until(T, || show(unit, "Result") == "exit-code")
            && pid1.stderr_now().contains(&format!(
                "{unit}: Failed to execute /bin/sh: cannot set up its privileges (218/CAPABILITIES)"
            ))
    };
    // The child never ran the command: the unit failed as a process exiting with 218 does.
    assert!(failed_218("shrink.service"), "{}", pid1.stderr_now());
    assert!(!f.exists("shrink.status"));
    let ambient = status(&f, &pid1, "ambient");
    assert_eq!(mask(&ambient, "CapAmb"), NET_BIND_SERVICE, "{ambient:?}");
    assert!(failed_218("securebits.service"), "{}", pid1.stderr_now());
    assert!(!f.exists("securebits.status"));
    stop(pid1);
}

/// Debian's own redis-server and memcached units, as shipped on this machine, run with what
/// they ask for in force and still answer: redis (User=redis, `CapabilityBoundingSet=` empty,
/// NoNewPrivileges=true) and memcached (NoNewPrivileges=true, CapabilityBoundingSet=
/// CAP_SETGID CAP_SETUID CAP_SYS_RESOURCE), read from each daemon's /proc/PID/status.
#[test]
fn debian_redis_and_memcached_run_confined_and_answer() {
    let units = [
        (
            "redis-server.service",
            "/lib/systemd/system/redis-server.service",
        ),
        ("memcached.service", "/lib/systemd/system/memcached.service"),
    ];
    let check = format!(
        "[ \"$(redis-cli -h 127.0.0.1 ping 2>/dev/null)\" = PONG ] && \
         {PYTHON} -c 'import socket; s=socket.create_connection((\"127.0.0.1\", 11211)); \
         s.sendall(b\"stats\\r\\n\"); assert b\"STAT pid\" in s.recv(4096)' 2>/dev/null"
    );
    let report = "for d in redis-server memcached; do p=$(pgrep -x $d | head -1); \
         echo \"$d $(grep -E '^(NoNewPrivs|CapBnd):' /proc/$p/status | tr -d '\\t' | tr '\\n' ' ')\"; done";
    let script = format!(
        "for i in $(seq 300); do if {check}; then {report}; exit 0; fi; sleep 0.1; done; exit 1"
    );
    let Some(run) = crate::services::run_shipped(&units, &script) else {
        return;
    };
    run.assert_code(0);
    let out = run.stdout_str();
    let line = |daemon: &str| -> HashMap<String, String> {
        out.lines()
            .find_map(|l| l.strip_prefix(daemon)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("{daemon} not reported: {}", run.dump()))
            .split_whitespace()
            .filter_map(|f| f.split_once(':'))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    };
    let redis = line("redis-server");
    assert_eq!(redis["NoNewPrivs"], "1", "{}", run.dump());
    assert_eq!(mask(&redis, "CapBnd"), 0, "{}", run.dump());
    let memcached = line("memcached");
    assert_eq!(memcached["NoNewPrivs"], "1", "{}", run.dump());
    let asked = (1 << 6) | (1 << 7) | (1 << 24);
    assert_eq!(
        mask(&memcached, "CapBnd"),
        own("CapBnd") & asked,
        "{}",
        run.dump()
    );
}
