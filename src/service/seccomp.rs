//! Compiles a unit's seccomp programs, in the parent, for `crate::sys` to install right before
//! exec: SystemCallFilter=, SystemCallErrorNumber=, SystemCallArchitectures=, RestrictRealtime=
//! and MemoryDenyWriteExecute= here, the other restrictions' programs built by
//! [`super::restrict`], all in systemd 252's order and kept by [`super::filter_cache`]. It must
//! not install anything itself.
//!
//! The compiler is bosun's own ([`super::bpf_tree`], pure Rust, x86_64 and aarch64): it
//! builds into the static musl binary with nothing to link, and writes every program as a
//! binary search over the call numbers. libseccomp would have meant a C library linked
//! statically into every build (a musl build of it, bindings, and its arch/ABI tables we do
//! not need: bosun filters its own architecture only); firecracker's `seccompiler`, used until
//! 2026-12, writes one test per call in a row, which cost the kernel about 1 ms per spawn for
//! `@system-service` and 0.2 ms for the EPERM restrictions of Debian's redis unit. Every
//! program starts with an architecture check that kills a process calling through another ABI
//! (so every filter also acts as SystemCallArchitectures=native); on x86_64 a check that kills
//! x32 calls (numbers with bit 30 set), which the architecture check cannot tell apart.
//!
//! SystemCallFilter=, a plain list of calls: an allow list answers listed → allow, newer than
//! systemd 252's @known → ENOSYS, else the action; a deny list answers each listed call with
//! its action (SystemCallErrorNumber='s, or its `name:errno` or `name:kill` entry's), else
//! allow.

use super::bpf_tree::{self, Op, Spec};

use super::restrict;
use crate::unit::model::ExecContext;
use crate::unit::syscall_filter::Denial;
use crate::vocab::syscall::{self, Arch};

/// Why a unit's filter could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("system call filters: no system-call table for this architecture")]
    Arch,
    #[error("system call filter: {0}")]
    Compile(#[from] super::bpf_tree::TooFar),
}

/// The compiled programs of a unit, in the order they are installed (shared: a unit's
/// programs are compiled once and kept, see [`super::filter_cache`]).
pub type Programs = std::sync::Arc<[Vec<libc::sock_filter>]>;

/// The programs to install for `exec`, in order (empty: no filter). `sandboxed` is false for a
/// command with the `+` prefix, which systemd runs without any sandboxing (`!` only skips the
/// user change: its filters still apply). Compiled once per distinct set of inputs.
pub fn compile(exec: &ExecContext, sandboxed: bool) -> Result<Programs, SeccompError> {
    if !sandboxed || !filters_asked(exec) {
        return Ok(Programs::default());
    }
    let persona = exec
        .lock_personality
        .then(|| exec.personality.unwrap_or_else(crate::sys::own_personality));
    super::filter_cache::get_or_build(exec, persona, || build(exec, persona))
}

/// Whether any directive of `exec` asks for a seccomp program.
fn filters_asked(exec: &ExecContext) -> bool {
    exec.syscall_filter.allow_list.is_some()
        || exec.syscall_native_only
        || exec.restrict_realtime
        || exec.memory_deny_write_execute
        || exec.address_families.restricts()
        || exec.restrict_namespaces.is_some()
        || exec.lock_personality
        || exec.restrict_suid_sgid
        || exec.protect_kernel_modules
        || exec.protect_kernel_logs
        || exec.protect_clock
        || exec.protect_hostname
        || exec.syscall_log.allow_list.is_some()
}

/// Compiles every program `exec` asks for, in the order of systemd 252's exec_child() where
/// it matters: the address families' (EAFNOSUPPORT), then one program for every restriction
/// answering EPERM (the hostname's, write-execute, realtime, SUID/SGID, namespaces, modules,
/// logs, clock, personality, which 252 installs one by one), logging, and the system-call
/// filter last, so its errno is the one a call refused twice sees (the kernel returns the
/// data of the filter installed last among equal actions). `persona`: LockPersonality='s.
pub(super) fn build(exec: &ExecContext, persona: Option<u32>) -> Result<Programs, SeccompError> {
    let arch = Arch::native().ok_or(SeccompError::Arch)?;
    // The programs in the order they would be installed, before they are written.
    let mut specs: Vec<Spec> = Vec::new();
    let mut refuse = |p: restrict::Program, errno: i32| -> Result<(), SeccompError> {
        let action = libc::SECCOMP_RET_ERRNO | errno.unsigned_abs();
        specs.push(p.spec(action, libc::SECCOMP_RET_ALLOW));
        Ok(())
    };
    // Every restriction answering EPERM is one program (a call two of them match gets EPERM
    // either way): each program costs the kernel at install and runs on every call it
    // cannot answer from its cache, so ten programs cost ten times one.
    let mut eperm = restrict::Program::new(arch);
    if exec.protect_hostname {
        eperm.merge(restrict::deny_calls(
            arch,
            ["sethostname", "setdomainname"],
        )?);
    }
    if exec.address_families.restricts() {
        let p = restrict::address_families(arch, &exec.address_families)?;
        refuse(p, libc::EAFNOSUPPORT)?;
    }
    if exec.memory_deny_write_execute {
        eperm.merge(deny_write_execute(arch)?);
    }
    if exec.restrict_realtime {
        eperm.merge(restrict_realtime(arch)?);
    }
    if exec.restrict_suid_sgid {
        eperm.merge(restrict::suid_sgid(arch)?);
    }
    if let Some(p) = exec
        .restrict_namespaces
        .map(|r| restrict::namespaces(arch, r))
        .transpose()?
        .flatten()
    {
        eperm.merge(p);
    }
    for (asked, calls) in [
        (exec.protect_kernel_modules, "@module"),
        (exec.protect_kernel_logs, "syslog"),
        (exec.protect_clock, "@clock"),
    ] {
        if asked {
            eperm.merge(restrict::deny_calls(arch, [calls])?);
        }
    }
    if let Some(persona) = persona {
        eperm.merge(restrict::lock_personality(arch, persona)?);
    }
    if !eperm.is_empty() {
        refuse(eperm, libc::EPERM)?;
    }
    let log = restrict::syscall_log(arch, &exec.syscall_log)?;
    let filter = (exec.syscall_filter.allow_list.is_some() || exec.syscall_native_only)
        .then(|| filter_spec(exec, arch));
    let write = |spec: &Spec| bpf_tree::written(arch, spec).map_err(SeccompError::from);
    let Some(log) = log else {
        specs.extend(filter);
        // One program where they can be joined (see bpf_tree::joined).
        if let Some(one) = bpf_tree::joined(arch, &specs)? {
            return Ok(vec![one].into());
        }
        return Ok(specs
            .iter()
            .map(write)
            .collect::<Result<Vec<_>, _>>()?
            .into());
    };
    // SystemCallLog='s program logs, which no other answer stands for: each apart.
    let mut out = specs.iter().map(write).collect::<Result<Vec<_>, _>>()?;
    out.push(log);
    if let Some(filter) = &filter {
        out.push(write(filter)?);
    }
    Ok(out.into())
}

/// RestrictRealtime=: sched_setscheduler(2) fails with EPERM for every policy but
/// SCHED_OTHER (0), SCHED_BATCH (3) and SCHED_IDLE (5), as systemd 252 does (it blocks the
/// policies below the highest permitted one that are not permitted, and every one above, so
/// SCHED_RESET_ON_FORK combinations too). The policy is an `int`: the test reads its low 32
/// bits, as the kernel does. sched_setattr(2) keeps the policy in memory a filter cannot
/// read, and 252 leaves it open (a way around the restriction): bosun answers it with ENOSYS,
/// the answer of a kernel without it, so a program falls back to sched_setscheduler(2).
fn restrict_realtime(arch: Arch) -> Result<restrict::Program, SeccompError> {
    const PERMITTED: [u64; 3] = [0, 3, 5];
    let policy = |op, value| restrict::low(1, op, value);
    let mut p = restrict::Program::new(arch);
    for n in (0..5).filter(|n| !PERMITTED.contains(n)) {
        p.when("sched_setscheduler", vec![policy(Op::Eq, n)])?;
    }
    p.when("sched_setscheduler", vec![policy(Op::Gt, 5)])?;
    p.nosys("sched_setattr");
    Ok(p)
}

/// MemoryDenyWriteExecute=, as systemd.exec(5) of 252 specifies it: mmap(2) with both
/// PROT_EXEC and PROT_WRITE, mprotect(2) and pkey_mprotect(2) with PROT_EXEC, and shmat(2)
/// with SHM_EXEC fail with EPERM.
fn deny_write_execute(arch: Arch) -> Result<restrict::Program, SeccompError> {
    const PROT_WX: u64 = (libc::PROT_WRITE | libc::PROT_EXEC) as u64;
    const PROT_X: u64 = libc::PROT_EXEC as u64;
    const SHM_EXEC: u64 = 0o100000;
    let mut p = restrict::Program::new(arch);
    for (name, mask) in [
        ("mmap", PROT_WX),
        ("mprotect", PROT_X),
        ("pkey_mprotect", PROT_X),
        ("shmat", SHM_EXEC),
    ] {
        p.when(name, vec![restrict::wide(2, Op::MaskedEq(mask), mask)])?;
    }
    Ok(p)
}

/// SystemCallFilter= and SystemCallArchitectures=.
fn filter_spec(exec: &ExecContext, arch: Arch) -> Spec {
    let filter = &exec.syscall_filter;
    let errno = |e: u16| libc::SECCOMP_RET_ERRNO | u32::from(e);
    let default = match exec.syscall_error_number {
        Some(e) => errno(e),
        None => libc::SECCOMP_RET_KILL_PROCESS,
    };
    // Names this architecture lacks are skipped, as systemd does.
    let numbers = |names: &mut dyn Iterator<Item = &String>| -> Vec<u32> {
        names.filter_map(|n| arch.number(n)).collect()
    };
    let allow = libc::SECCOMP_RET_ALLOW;
    match filter.allow_list {
        Some(true) => {
            let listed = numbers(&mut filter.names.keys());
            // systemd 252 (since 247): calls outside @known, newer than systemd, fail with
            // ENOSYS rather than the action, so programs fall back; so do numbers above the
            // architecture's table.
            let nosys = libc::SECCOMP_RET_ERRNO | libc::ENOSYS.unsigned_abs();
            let newer = newer_than_systemd(arch, &listed);
            let actions: Vec<(u32, u32)> = listed
                .iter()
                .map(|&nr| (nr, allow))
                .chain(newer.iter().map(|&nr| (nr, nosys)))
                .collect();
            let max = arch.calls().iter().map(|(_, nr)| *nr).max().unwrap_or(0);
            Spec::list(&actions, default, Some(max))
        }
        Some(false) => {
            // Each call with its action: SystemCallErrorNumber='s, or its entry's own.
            let actions: Vec<(u32, u32)> = filter
                .names
                .iter()
                .flat_map(|(name, denial)| {
                    let action = match denial {
                        None => default,
                        Some(Denial::Kill) => libc::SECCOMP_RET_KILL_PROCESS,
                        Some(Denial::Errno(e)) => errno(*e),
                    };
                    arch.number(name).map(|nr| (nr, action))
                })
                .collect();
            Spec::list(&actions, allow, None)
        }
        // SystemCallArchitectures=native alone: the architecture check, then allow.
        None => Spec::list(&[], allow, None),
    }
}

/// The numbers of `arch`'s calls that systemd 252's `@known` lacks and `listed` does not hold.
fn newer_than_systemd(arch: Arch, listed: &[u32]) -> Vec<u32> {
    arch.calls()
        .iter()
        .filter(|(name, nr)| !syscall::in_known_group(name) && !listed.contains(nr))
        .map(|(_, nr)| *nr)
        .collect()
}

/// Whether no_new_privs must be set for the filters to install. systemd 252 implies
/// NoNewPrivileges= for seccomp-based settings when the process lacks an effective
/// CAP_SYS_ADMIN, and it asks in the child after the user change (v255 moved the filters
/// before it instead). bosun installs them after the identity change too, so the same rule:
/// the child keeps CAP_SYS_ADMIN only if bosun has it and the service stays uid 0.
pub fn needs_no_new_privs(manager_caps: u64, uid: Option<u32>) -> bool {
    const CAP_SYS_ADMIN: u32 = 21;
    manager_caps & (1 << CAP_SYS_ADMIN) == 0 || uid.is_some_and(|u| u != 0)
}

#[cfg(test)]
pub(super) mod tests {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Command;

    use super::*;

    fn exec(lines: &[&str], errno: Option<u16>) -> ExecContext {
        let mut e = ExecContext::default();
        for l in lines {
            assert!(e.syscall_filter.add_line(l).is_empty());
        }
        e.syscall_error_number = errno;
        e
    }

    pub(in crate::service) const PYTHON: &str = "/usr/bin/python3";

    /// Whether the tool a test needs is here; says SKIP when not.
    pub(in crate::service) fn present(tool: &str) -> bool {
        let here = std::path::Path::new(tool).exists();
        if !here {
            eprintln!("SKIP: {tool} is missing");
        }
        here
    }

    /// Runs `argv` with `exec`'s filters installed the way services get them.
    pub(in crate::service) fn run(e: &ExecContext, argv: &[&str]) -> std::process::Output {
        let mut cmd = Command::new(argv[0]);
        cmd.args(&argv[1..]);
        let setup = crate::sys::ChildSetup {
            seccomp: compile(e, true).unwrap_or_default(),
            ..Default::default()
        };
        crate::sys::prepare_child(&mut cmd, setup);
        cmd.output().unwrap_or_else(|err| panic!("{argv:?}: {err}"))
    }

    #[test]
    fn a_denied_call_fails_with_the_errno_and_others_work() {
        let e = exec(&["~uname"], Some(13));
        assert_eq!(compile(&e, true).map(|p| p.len()).ok(), Some(1));
        let out = run(&e, &["uname"]);
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("Permission denied"),
            "{out:?}"
        );
        assert!(run(&e, &["true"]).status.success());
        // Negative control: no filter, uname works.
        assert!(run(&ExecContext::default(), &["uname"]).status.success());
    }

    #[test]
    fn a_denied_call_kills_with_sigsys_by_default() {
        let e = exec(&["~uname"], None);
        let out = run(&e, &["uname"]);
        assert_eq!(out.status.signal(), Some(libc::SIGSYS), "{out:?}");
    }

    #[test]
    fn an_allow_list_admits_its_calls_and_kills_the_rest() {
        let e = exec(&["@system-service"], None);
        assert!(run(&e, &["uname"]).status.success());
        let e = exec(&["@system-service", "~uname"], Some(1));
        let out = run(&e, &["uname"]);
        assert!(!out.status.success(), "{out:?}");
        assert_eq!(out.status.signal(), None);
    }

    /// x32 calls (bit 30 set) pass seccompiler's architecture check on x86_64; a deny list
    /// would not list their numbers, so bosun's added check kills them.
    #[test]
    fn x32_calls_are_killed_on_x86_64() {
        let python = PYTHON;
        if Arch::native() != Some(Arch::X86_64) {
            eprintln!("SKIP: x32 calls exist on x86_64 only");
            return;
        }
        if !present(python) {
            return;
        }
        let x32_getpid = "import ctypes; ctypes.CDLL(None).syscall(0x40000000 | 39)";
        let e = exec(&["~@clock"], None);
        let out = run(&e, &[python, "-c", x32_getpid]);
        assert_eq!(out.status.signal(), Some(libc::SIGSYS), "{out:?}");
        // Negative control: unfiltered, the call returns (ENOSYS where x32 is off).
        let out = run(&ExecContext::default(), &[python, "-c", x32_getpid]);
        assert!(out.status.success(), "{out:?}");
    }

    /// In an allow list, a call newer than systemd 252 (`mseal`, outside @known) and a number
    /// beyond the table fail with ENOSYS; a known call left out still kills.
    #[test]
    fn an_allow_list_answers_newer_calls_with_enosys() {
        let python = PYTHON;
        if !present(python) {
            return;
        }
        let Some(mseal) = Arch::native().and_then(|a| a.number("mseal")) else {
            eprintln!("SKIP: no mseal in this architecture's table");
            return;
        };
        let probe = |nr: u32| {
            format!(
                "import ctypes; l = ctypes.CDLL(None, use_errno=True); \
                 print(l.syscall({nr}, 0, 0, 0), ctypes.get_errno())"
            )
        };
        let e = exec(&["@system-service"], None);
        for nr in [mseal, 4000] {
            let out = run(&e, &[python, "-c", &probe(nr)]);
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim(),
                format!("-1 {}", libc::ENOSYS),
                "{nr}: {out:?}"
            );
        }
        let syslog = Arch::native().and_then(|a| a.number("syslog")).unwrap_or(0);
        // syslog(SYSLOG_ACTION_SIZE_BUFFER) is @privileged, known, not listed: killed.
        let out = run(
            &e,
            &[python, "-c", &probe(syslog).replace("0, 0, 0", "10, 0, 0")],
        );
        assert_eq!(out.status.signal(), Some(libc::SIGSYS), "{out:?}");
    }

    /// RestrictRealtime=: a realtime policy fails with EPERM, SCHED_OTHER and SCHED_BATCH work;
    /// unfiltered, the realtime policy works (this container may set it).
    #[test]
    fn restrict_realtime_refuses_realtime_policies() {
        let chrt = "/usr/bin/chrt";
        if !present(chrt) {
            return;
        }
        let unfiltered = run(&ExecContext::default(), &[chrt, "-f", "1", "true"]);
        if !unfiltered.status.success() {
            eprintln!("SKIP: this container may not set SCHED_FIFO at all: {unfiltered:?}");
            return;
        }
        let e = ExecContext {
            restrict_realtime: true,
            ..ExecContext::default()
        };
        assert_eq!(compile(&e, true).map(|p| p.len()).ok(), Some(1));
        for policy in ["-f", "-r"] {
            let out = run(&e, &[chrt, policy, "1", "true"]);
            assert!(!out.status.success(), "{policy}: {out:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("Operation not permitted"), "{policy}: {err}");
        }
        for policy in ["-o", "-b", "-i"] {
            let out = run(&e, &[chrt, policy, "0", "true"]);
            assert!(out.status.success(), "{policy}: {out:?}");
        }
        let out = run(&e, &[chrt, "-R", "-f", "1", "true"]);
        assert!(!out.status.success(), "reset-on-fork: {out:?}");
    }

    /// MemoryDenyWriteExecute=: a writable and executable mapping, and making a mapping
    /// executable, fail with EPERM; a writable one works; unfiltered, all work.
    #[test]
    fn memory_deny_write_execute_refuses_wx_mappings() {
        let python = PYTHON;
        if !present(python) {
            return;
        }
        let probe = "import ctypes, mmap\n\
            l = ctypes.CDLL(None, use_errno=True)\n\
            l.mmap.restype = ctypes.c_void_p\n\
            l.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]\n\
            l.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]\n\
            anon = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS\n\
            w = l.mmap(None, 4096, mmap.PROT_READ | mmap.PROT_WRITE, anon, -1, 0)\n\
            wx = l.mmap(None, 4096, mmap.PROT_WRITE | mmap.PROT_EXEC, anon, -1, 0)\n\
            wx = ctypes.get_errno() if wx in (None, 2**64 - 1) else 0\n\
            x = l.mprotect(ctypes.c_void_p(w), 4096, mmap.PROT_READ | mmap.PROT_EXEC)\n\
            x = ctypes.get_errno() if x < 0 else 0\n\
            print(w not in (None, 2**64 - 1), wx, x)\n";
        let out = run(&ExecContext::default(), &[python, "-c", probe]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "True 0 0",
            "{out:?}"
        );
        let e = ExecContext {
            memory_deny_write_execute: true,
            ..ExecContext::default()
        };
        let out = run(&e, &[python, "-c", probe]);
        let eperm = libc::EPERM;
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("True {eperm} {eperm}"),
            "{out:?}"
        );
    }

    #[test]
    fn a_deny_list_is_one_program_answering_each_call_with_its_action() {
        let e = exec(&["~uname:EACCES @clock sethostname:EPERM"], None);
        assert_eq!(compile(&e, true).map(|p| p.len()).ok(), Some(1));
        let out = run(&e, &["uname"]);
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("Permission denied"),
            "{out:?}"
        );
        // The list's default action for the rest of it: @clock's calls kill.
        let out = run(&e, &["date", "-s", "@0"]);
        assert_eq!(out.status.signal(), Some(libc::SIGSYS), "{out:?}");
        assert!(run(&e, &["true"]).status.success());
        let e = exec(&["~uname:EPERM @clock sync:kill"], Some(1));
        assert_eq!(compile(&e, true).map(|p| p.len()).ok(), Some(1));
        assert!(compile(&ExecContext::default(), true).is_ok_and(|p| p.is_empty()));
        // A `+` command runs unfiltered.
        assert!(compile(&e, false).is_ok_and(|p| p.is_empty()));
        // SystemCallArchitectures=native alone: one program, the architecture checks.
        let native = ExecContext {
            syscall_native_only: true,
            ..ExecContext::default()
        };
        assert_eq!(compile(&native, true).map(|p| p.len()).ok(), Some(1));
    }
}
