//! Issue #21, seccomp: SystemCallFilter= and SystemCallErrorNumber= in force in a service run
//! by bosun as PID 1, against an unconfined control service. No test sets the clock: the
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

fn field(status: &str, key: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn a_deny_list_fails_clock_calls_with_the_errno_it_names() {
    if !std::path::Path::new(PYTHON).exists() {
        eprintln!("SKIP: {PYTHON} is missing (the adjtimex probe needs it)");
        return;
    }
    let f = Fixture::new("seccomp-clock");
    let probe = f.script("adjtimex.py", ADJTIMEX);
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
    // RestrictRealtime= and MemoryDenyWriteExecute= from a unit file: one program each.
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
        Some(base + 2),
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
