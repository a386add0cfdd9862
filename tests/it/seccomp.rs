//! Issue #21, seccomp: SystemCallFilter=, SystemCallErrorNumber= and the restrictions
//! (RestrictAddressFamilies=, RestrictNamespaces=, LockPersonality=, RestrictSUIDSGID=,
//! Personality=, the system-call halves of ProtectClock=, ProtectKernelModules=,
//! ProtectKernelLogs=, ProtectHostname=) in force in a service run by bosun as PID 1, against
//! an unconfined control service. No test sets the clock: the
//! filtered `date -s` asks for the current second (harmless had the filter failed), and the
//! control reads the clock discipline with adjtimex(2) in read-only mode, which @clock holds
//! and which needs no privilege. Each service writes its status file whole (a rename), so
//! its existence means it is complete.

use std::time::Duration;

use crate::fixtures::{Fixture, stop};
use crate::harness::{PYTHON, wait_until};

const T: Duration = Duration::from_secs(60);

/// adjtimex(2) with modes 0 (read only): prints `ok` or `errno N`.
const ADJTIMEX: &str = "import ctypes, os\n\
    libc = ctypes.CDLL(None, use_errno=True)\n\
    buf = ctypes.create_string_buffer(512)\n\
    rc = libc.adjtimex(buf)\n\
    print('ok' if rc >= 0 else 'errno %d' % ctypes.get_errno())\n";

/// Boots the fixture and waits until each service of `names` has written its status file.
fn boot_until_written(f: &Fixture, names: &[&str]) -> Option<crate::harness::Pid1> {
    let pid1 = f.boot()?;
    assert!(
        wait_until(T, || names.iter().all(|n| f.exists(&format!("{n}.status")))),
        "{}",
        pid1.stderr_now()
    );
    Some(pid1)
}

/// A fixture holding the python probe `script` as `name`, and the probe's path; None (after a
/// SKIP line) without python.
fn with_probe(tag: &str, name: &str, script: &str) -> Option<(Fixture, String)> {
    if !std::path::Path::new(PYTHON).exists() {
        eprintln!("SKIP: {PYTHON} is missing (the probe {name} needs it)");
        return None;
    }
    let f = Fixture::new(tag);
    let probe = f.script(name, script);
    Some((f, probe))
}

fn field(status: &str, key: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn a_deny_list_fails_clock_calls_with_the_errno_it_names() {
    let Some((f, probe)) = with_probe("seccomp-clock", "adjtimex.py", ADJTIMEX) else {
        return;
    };
    let body = |name: &str, filter: &str| {
        format!(
            "[Service]\nType=oneshot\nRemainAfterExit=yes\n{filter}\
             ExecStart=/bin/sh -c 'date -s \"@$(date +%%s)\" >/dev/null 2>@S@/{name}.date; \
             echo $? >>@S@/{name}.date; {PYTHON} {probe} >@S@/{name}.adj; \
             grep ^Seccomp /proc/self/status >@S@/{name}.tmp; mv @S@/{name}.tmp @S@/{name}.status'\n"
        )
    };
    f.unit(
        "filtered.service",
        &body(
            "filtered",
            "SystemCallFilter=~@clock\nSystemCallErrorNumber=EPERM\n",
        ),
    );
    f.unit(
        "control.service",
        &body("control", "").replace("date -s", ": date -s"),
    );
    // RestrictRealtime= and MemoryDenyWriteExecute= from a unit file: one program for both
    // (every restriction answering EPERM shares one).
    f.unit(
        "extras.service",
        "[Service]\nType=oneshot\nRemainAfterExit=yes\nRestrictRealtime=yes\n\
         MemoryDenyWriteExecute=true\nExecStart=/bin/sh -c 'chrt -f 1 true 2>@S@/extras.chrt; \
         grep ^Seccomp /proc/self/status >@S@/extras.tmp; mv @S@/extras.tmp @S@/extras.status'\n",
    );
    let Some(pid1) = boot_until_written(&f, &["filtered", "control", "extras"]) else {
        return;
    };
    let date = f.read("filtered.date");
    assert!(date.contains("Operation not permitted"), "{date}");
    assert!(date.trim_end().ends_with('1'), "{date}");
    assert_eq!(
        f.read("filtered.adj").trim(),
        format!("errno {}", libc::EPERM)
    );
    // The control: the same probe without the filter succeeds, so the EPERM above is the
    // filter's and not a missing CAP_SYS_TIME.
    assert_eq!(f.read("control.adj").trim(), "ok");
    let (filtered, control) = (f.read("filtered.status"), f.read("control.status"));
    assert_eq!(field(&filtered, "Seccomp:"), Some(2), "{filtered}");
    let base = field(&control, "Seccomp_filters:").unwrap_or(0);
    assert_eq!(
        field(&filtered, "Seccomp_filters:"),
        Some(base + 1),
        "{filtered} against {control}"
    );
    let extras = f.read("extras.status");
    assert_eq!(
        field(&extras, "Seccomp_filters:"),
        Some(base + 1),
        "{extras}"
    );
    let chrt = f.read("extras.chrt");
    assert!(chrt.contains("Operation not permitted"), "{chrt}");
    stop(pid1);
}

/// An allow list as Debian's units write it: the service runs; as User=nobody it gets
/// no_new_privs (it lacks CAP_SYS_ADMIN after the identity change, as under systemd 252),
/// as root with CAP_SYS_ADMIN it does not; an unknown name is warned about at its line.
#[test]
fn an_allow_list_runs_the_service_and_implies_no_new_privs_without_cap_sys_admin() {
    let f = Fixture::new("seccomp-allow");
    let body = |name: &str, user: &str| {
        format!(
            "[Service]\nType=oneshot\nRemainAfterExit=yes\n{user}\
             SystemCallFilter=@system-service\nSystemCallFilter=~@privileged @resources frobnicate\n\
             SystemCallErrorNumber=EPERM\n\
             ExecStart=/bin/sh -c 'grep -E \"^(NoNewPrivs|Seccomp)\" /proc/self/status >@S@/{name}.tmp; \
             mv @S@/{name}.tmp @S@/{name}.status'\n"
        )
    };
    f.unit("asroot.service", &body("asroot", ""));
    f.unit("asnobody.service", &body("asnobody", "User=nobody\n"));
    let Some(pid1) = boot_until_written(&f, &["asroot", "asnobody"]) else {
        return;
    };
    let (root, nobody) = (f.read("asroot.status"), f.read("asnobody.status"));
    assert_eq!(field(&root, "Seccomp:"), Some(2), "{root}");
    assert_eq!(field(&nobody, "Seccomp:"), Some(2), "{nobody}");
    assert_eq!(field(&root, "NoNewPrivs:"), Some(0), "{root}");
    assert_eq!(field(&nobody, "NoNewPrivs:"), Some(1), "{nobody}");
    assert!(
        wait_until(T, || pid1.stderr_now().contains(
            "asroot.service:5: failed to parse system call, ignoring: frobnicate"
        )),
        "{}",
        pid1.stderr_now()
    );
    stop(pid1);
}

/// What a service sees of each restriction (issue 21): prints `key value` lines. The calls
/// that would change the system are made in a forked child (unshare, personality) or change
/// nothing (clock_settime with no time, finit_module on a bad descriptor, sethostname to the
/// current name).
const RESTRICTIONS: &str = "import ctypes, os, socket, subprocess, sys\n\
    l = ctypes.CDLL(None, use_errno=True)\n\
    def call(f, *a):\n    r = getattr(l, f)(*a)\n    return ctypes.get_errno() if r < 0 else 0\n\
    def forked(f, *a):\n    pid = os.fork()\n    if pid == 0:\n        os._exit(call(f, *a))\n\
    \x20   return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])\n\
    def err(f):\n    try:\n        f(); return 0\n    except OSError as e:\n        return e.errno\n\
    def rc(*argv):\n    return subprocess.run(argv, stderr=subprocess.DEVNULL).returncode\n\
    name, out = sys.argv[1], sys.argv[2]\n\
    path = '%s/%s.file' % (out, name)\n\
    open(path, 'w').close()\n\
    host = socket.gethostname().encode()\n\
    nr = {'x86_64': (227, 313, 103), 'aarch64': (112, 273, 116)}[os.uname().machine]\n\
    res = [\n\
    ('inet', err(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close())),\n\
    ('unix', err(lambda: socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).close())),\n\
    ('unshare', forked('unshare', 0x10000000)),\n\
    ('unshare-U', rc('unshare', '-U', 'true')),\n\
    ('personality', forked('personality', 8)),\n\
    ('setarch', rc('setarch', 'linux32', 'true')),\n\
    ('chmod', err(lambda: os.chmod(path, 0o4755))),\n\
    ('chmod-us', rc('chmod', 'u+s', path)),\n\
    ('clock_settime', call('syscall', nr[0], 0, 0)),\n\
    ('finit_module', call('syscall', nr[1], -1, b'', 0)),\n\
    ('sethostname', forked('sethostname', host, len(host))),\n\
    ('syslog', call('syscall', nr[2], 10, 0, 0)),\n\
    ]\n\
    for line in open('/proc/self/status'):\n\
    \x20   k, v = line.split(':', 1)\n\
    \x20   if k in ('NoNewPrivs', 'CapBnd', 'Seccomp_filters'):\n\
    \x20       res.append((k, v.strip()))\n\
    with open('%s/%s.tmp' % (out, name), 'w') as f:\n\
    \x20   f.write(''.join('%s %s\\n' % kv for kv in res))\n\
    os.rename('%s/%s.tmp' % (out, name), '%s/%s.status' % (out, name))\n";

/// Each restriction in a service of its own, beside an unconfined control that runs the same
/// probe: the control's call succeeds (or fails otherwise), the restricted one's fails as
/// systemd 252 makes it fail.
#[test]
fn each_restriction_fails_its_calls_as_systemd_does() {
    let Some((f, probe)) = with_probe("seccomp-restrict", "restrictions.py", RESTRICTIONS) else {
        return;
    };
    let units = [
        ("control", ""),
        ("families", "RestrictAddressFamilies=AF_UNIX\n"),
        ("asnobody", "User=nobody\nRestrictAddressFamilies=AF_UNIX\n"),
        ("namespaces", "RestrictNamespaces=yes\n"),
        ("personality", "LockPersonality=yes\n"),
        ("suid", "RestrictSUIDSGID=yes\n"),
        ("clock", "ProtectClock=yes\n"),
        ("modules", "ProtectKernelModules=yes\n"),
        ("hostname", "ProtectHostname=yes\n"),
        ("logs", "ProtectKernelLogs=yes\n"),
        (
            "bad",
            "RestrictNamespaces=net time\nRestrictAddressFamilies=AF_UNIX AF_BOGUS\n",
        ),
    ];
    for (name, directives) in units {
        f.unit(
            &format!("{name}.service"),
            &format!(
                "[Service]\nType=oneshot\nRemainAfterExit=yes\n{directives}\
                 ExecStart={PYTHON} {probe} {name} @S@\n"
            ),
        );
    }
    // Personality=: the 32-bit persona of this architecture, as `uname -m` shows it.
    let (native, secondary, machine) = match std::env::consts::ARCH {
        "x86_64" => ("x86-64", "x86", "i686"),
        _ => ("arm64", "arm", "armv8l"),
    };
    for (name, persona) in [("persona", secondary), ("native", native)] {
        f.unit(
            &format!("{name}.service"),
            &format!(
                "[Service]\nType=oneshot\nRemainAfterExit=yes\nPersonality={persona}\n\
                 LockPersonality=yes\nExecStart=/bin/sh -c 'uname -m >@S@/{name}.tmp; \
                 mv @S@/{name}.tmp @S@/{name}.status'\n"
            ),
        );
    }
    let mut names: Vec<&str> = units.iter().map(|(n, _)| *n).collect();
    names.extend(["persona", "native"]);
    let Some(pid1) = boot_until_written(&f, &names) else {
        return;
    };
    let get = |unit: &str, key: &str| -> String {
        let status = f.read(&format!("{unit}.status"));
        status
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("{unit}: no {key} in {status}"))
            .to_owned()
    };
    let errno = |e: i32| e.to_string();
    let (eperm, enosys) = (errno(libc::EPERM), errno(libc::ENOSYS));
    // The control: nothing refused by a filter.
    for key in [
        "inet",
        "unix",
        "personality",
        "chmod",
        "chmod-us",
        "sethostname",
    ] {
        assert_eq!(get("control", key), "0", "control {key}");
    }
    assert_eq!(get("control", "clock_settime"), errno(libc::EFAULT));
    assert_ne!(get("control", "finit_module"), eperm);
    // RestrictAddressFamilies=AF_UNIX: AF_INET refused with EAFNOSUPPORT, AF_UNIX works.
    assert_eq!(get("families", "inet"), errno(libc::EAFNOSUPPORT));
    assert_eq!(get("families", "unix"), "0");
    assert_eq!(get("asnobody", "inet"), errno(libc::EAFNOSUPPORT));
    // NoNewPrivileges= implied without CAP_SYS_ADMIN (User=nobody), not as root with it.
    assert_eq!(get("asnobody", "NoNewPrivs"), "1");
    assert_eq!(get("families", "NoNewPrivs"), "0");
    assert_eq!(get("control", "NoNewPrivs"), "0");
    // RestrictNamespaces=yes: unshare(CLONE_NEWUSER) and `unshare -U` fail.
    if get("control", "unshare") == "0" {
        assert_eq!(get("namespaces", "unshare"), eperm);
        assert_ne!(get("namespaces", "unshare-U"), "0");
        assert_eq!(get("control", "unshare-U"), "0");
    } else {
        eprintln!("SKIP: this container may not create a user namespace at all");
    }
    // LockPersonality=: PER_LINUX32 refused, `setarch linux32` fails.
    assert_eq!(get("personality", "personality"), eperm);
    assert_ne!(get("personality", "setarch"), "0");
    assert_eq!(get("control", "setarch"), "0");
    // RestrictSUIDSGID=: set-user-ID refused.
    assert_eq!(get("suid", "chmod"), eperm);
    assert_ne!(get("suid", "chmod-us"), "0");
    // ProtectClock=: clock_settime refused, CAP_SYS_TIME (25) out of the bounding set.
    assert_eq!(get("clock", "clock_settime"), eperm);
    let bounding = |unit| u64::from_str_radix(&get(unit, "CapBnd"), 16).unwrap_or(0);
    assert_eq!(bounding("clock") & (1 << 25), 0);
    assert_ne!(bounding("control") & (1 << 25), 0, "the control holds it");
    // ProtectKernelModules=: finit_module refused, CAP_SYS_MODULE (16) gone.
    assert_eq!(get("modules", "finit_module"), eperm);
    assert_eq!(bounding("modules") & (1 << 16), 0);
    assert_ne!(bounding("control") & (1 << 16), 0);
    assert_eq!(f.read("persona.status").trim(), machine);
    assert_eq!(f.read("native.status").trim(), std::env::consts::ARCH);
    // ProtectKernelLogs=: syslog(2) refused, CAP_SYSLOG (34) gone.
    assert_eq!(get("control", "syslog"), "0");
    assert_eq!(get("logs", "syslog"), eperm);
    assert_eq!(bounding("logs") & (1 << 34), 0);
    assert_ne!(bounding("control") & (1 << 34), 0);
    // ProtectHostname=: sethostname refused.
    assert_eq!(get("hostname", "sethostname"), eperm);
    // More filters than the control has.
    let filters = |unit| get(unit, "Seccomp_filters").parse::<u32>().unwrap_or(0);
    for unit in [
        "families",
        "namespaces",
        "personality",
        "suid",
        "clock",
        "modules",
    ] {
        assert_eq!(filters(unit), filters("control") + 1, "{unit}");
    }
    assert_ne!(get("control", "inet"), enosys);
    // Bad values: a warning naming the line, the rest of the line or unit still in force.
    let stderr = || pid1.stderr_now();
    assert!(
        wait_until(T, || stderr().contains("bad.service:4: ")
            && stderr().contains(
                "bad.service:5: failed to parse address family, ignoring: AF_BOGUS"
            )),
        "{}",
        stderr()
    );
    assert_eq!(get("bad", "inet"), errno(libc::EAFNOSUPPORT));
    stop(pid1);
}
