//! The seccomp programs of RestrictAddressFamilies=, RestrictNamespaces=, LockPersonality=,
//! RestrictSUIDSGID=, SystemCallLog= and of the system-call halves of ProtectClock=,
//! ProtectKernelModules=, ProtectKernelLogs= and ProtectHostname=, each built as systemd 252
//! builds it (one program per directive that matches the calls it names and allows every
//! other), compiled by [`super::bpf_tree::written`]. Building only: `super::seccomp` orders
//! them, `crate::sys` installs them, and this module makes no system call.

use std::collections::BTreeMap;

use super::bpf_tree::{self, Cond, Leaf, Op};
use super::seccomp::SeccompError;
use crate::unit::restrict::{ALL_NAMESPACES, AddressFamilies, FAMILY_MAX, NAMESPACES};
use crate::unit::syscall_filter::SyscallFilter;
use crate::vocab::syscall::{self, Arch};

/// A program in the making: its rules by call number, and the calls to answer with ENOSYS
/// (those whose arguments a filter cannot read, so programs fall back to an older call).
#[derive(Debug)]
pub struct Program {
    arch: Arch,
    /// Per call: the rules (each a list of tests that must all hold); none: whatever its
    /// arguments.
    rules: BTreeMap<i64, Vec<Vec<Cond>>>,
    /// Numbers answered with ENOSYS ahead of the rules.
    pub enosys: Vec<u32>,
}

/// A test of argument `arg`'s low 32 bits (`int` and `mode_t` arguments: the kernel reads no
/// more of them, so nothing hides in the upper half).
pub(super) fn low(arg: u8, op: Op, value: u64) -> Cond {
    Cond {
        arg,
        wide: false,
        op,
        value,
    }
}

/// A test of all 64 bits of argument `arg` (an `unsigned long`).
pub(super) fn wide(arg: u8, op: Op, value: u64) -> Cond {
    Cond {
        arg,
        wide: true,
        op,
        value,
    }
}

/// `arg & bits == bits`, on the low 32 bits.
fn has(arg: u8, bits: u64) -> Cond {
    low(arg, Op::MaskedEq(bits), bits)
}

/// Any of `bits` set in `arg`'s low 32 bits (one test where systemd 252 writes a rule per
/// bit).
fn any(arg: u8, bits: u64) -> Cond {
    low(arg, Op::AnySet, bits)
}

impl Program {
    pub fn new(arch: Arch) -> Self {
        Program {
            arch,
            rules: BTreeMap::new(),
            enosys: Vec::new(),
        }
    }

    /// Match `name` when all of `conditions` hold (always, when there are none). Calls this
    /// architecture lacks are skipped, as systemd does.
    pub fn when(&mut self, name: &str, conditions: Vec<Cond>) -> Result<&mut Self, SeccompError> {
        if let Some(nr) = self.arch.number(name) {
            let always = self.rules.get(&i64::from(nr)).is_some_and(Vec::is_empty);
            let rules = self.rules.entry(i64::from(nr)).or_default();
            if conditions.is_empty() {
                // No rule at all: the call matches whatever its arguments.
                rules.clear();
            } else if !always {
                rules.push(conditions);
            }
        }
        Ok(self)
    }

    /// Match what `other` matches too (both answer with the same action): a call either
    /// matches unconditionally is matched unconditionally, else by either's rules.
    pub fn merge(&mut self, other: Program) {
        for (nr, rules) in other.rules {
            match self.rules.get_mut(&nr) {
                None => {
                    self.rules.insert(nr, rules);
                }
                Some(mine) if mine.is_empty() => {}
                Some(mine) if rules.is_empty() => mine.clear(),
                Some(mine) => mine.extend(rules),
            }
        }
        self.enosys.extend(other.enosys);
        self.enosys.sort_unstable();
        self.enosys.dedup();
    }

    /// Answer `name` with ENOSYS.
    pub fn nosys(&mut self, name: &str) -> &mut Self {
        self.enosys.extend(self.arch.number(name));
        self
    }

    /// Whether the program matches nothing.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.enosys.is_empty()
    }

    /// The program: matched calls get `action` (a SECCOMP_RET_* value), every other call
    /// `otherwise`.
    pub fn build(
        self,
        action: u32,
        otherwise: u32,
    ) -> Result<Vec<libc::sock_filter>, SeccompError> {
        let arch = self.arch;
        Ok(bpf_tree::written(arch, &self.spec(action, otherwise))?)
    }

    /// What [`Program::build`] writes, before it is written (to be joined with others).
    pub fn spec(self, action: u32, otherwise: u32) -> bpf_tree::Spec {
        let leaves: Vec<(u32, Leaf)> = self
            .rules
            .into_iter()
            .filter_map(|(nr, rules)| {
                let leaf = if rules.is_empty() {
                    Leaf::Ret(action)
                } else {
                    Leaf::Rules {
                        rules,
                        matched: action,
                        otherwise: Box::new(Leaf::Ret(otherwise)),
                    }
                };
                u32::try_from(nr).ok().map(|nr| (nr, leaf))
            })
            .collect();
        bpf_tree::spec_of(&leaves, otherwise, &self.enosys)
    }
}

/// A program matching the calls `names` (groups expanded) whatever their arguments.
pub fn deny_calls<'a>(
    arch: Arch,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<Program, SeccompError> {
    let mut p = Program::new(arch);
    for name in names {
        if name.starts_with('@') {
            for n in syscall::group(name).unwrap_or_default() {
                p.when(n, Vec::new())?;
            }
        } else {
            p.when(name, Vec::new())?;
        }
    }
    Ok(p)
}

/// RestrictAddressFamilies=: socket(2) with a family the list does not allow fails with
/// EAFNOSUPPORT (systemd 252 filters socket(2) only: socketpair(2) makes AF_UNIX pairs, and
/// sockets handed over by socket activation are untouched). An allow list refuses what lies
/// below its lowest family, above its highest, and the gaps between; with no family (`none`)
/// every socket(2).
pub fn address_families(arch: Arch, af: &AddressFamilies) -> Result<Program, SeccompError> {
    let mut p = Program::new(arch);
    let listed = af.families.clone().unwrap_or_default();
    if !af.allow_list {
        for family in listed {
            p.when("socket", vec![low(0, Op::Eq, family.into())])?;
        }
        return Ok(p);
    }
    let in_range: Vec<u8> = listed
        .into_iter()
        .filter(|f| (1..FAMILY_MAX).contains(f))
        .collect();
    let (Some(first), Some(last)) = (in_range.first(), in_range.last()) else {
        p.when("socket", Vec::new())?;
        return Ok(p);
    };
    p.when("socket", vec![low(0, Op::Lt, u64::from(*first))])?;
    p.when("socket", vec![low(0, Op::Gt, u64::from(*last))])?;
    for gap in (*first..*last).filter(|f| !in_range.contains(f)) {
        p.when("socket", vec![low(0, Op::Eq, gap.into())])?;
    }
    Ok(p)
}

/// RestrictNamespaces=: unshare(2) and clone(2) with the flag of a namespace type not
/// retained, and setns(2) to such a type or to any type (nstype 0), fail with EPERM; with
/// none retained setns(2) fails whatever its arguments. clone3(2) keeps its flags in memory a
/// filter cannot read, so it fails with ENOSYS and the C library falls back to clone(2), as
/// under systemd 252. None when every type is retained.
pub fn namespaces(arch: Arch, retained: u64) -> Result<Option<Program>, SeccompError> {
    if retained & ALL_NAMESPACES == ALL_NAMESPACES {
        return Ok(None);
    }
    let mut p = Program::new(arch);
    if retained & ALL_NAMESPACES == 0 {
        p.when("setns", Vec::new())?;
    } else {
        p.when("setns", vec![low(1, Op::Eq, 0)])?;
    }
    // Every namespace flag is in the low 32 bits (clone(2)'s flags are an unsigned long, the
    // first argument on x86_64 and aarch64; the high half holds none of them).
    let refused = NAMESPACES
        .iter()
        .filter(|(_, f)| retained & f == 0)
        .fold(0, |all, (_, f)| all | f);
    p.when("unshare", vec![any(0, refused)])?;
    p.when("clone", vec![any(0, refused)])?;
    if retained & ALL_NAMESPACES != 0 {
        p.when("setns", vec![any(1, refused)])?;
    }
    p.nosys("clone3");
    Ok(Some(p))
}

/// LockPersonality=: personality(2) fails with EPERM unless it asks for `persona`, the one the
/// service runs with, or only reads the current one (0xffffffff).
pub fn lock_personality(arch: Arch, persona: u32) -> Result<Program, SeccompError> {
    let mut p = Program::new(arch);
    p.when(
        "personality",
        vec![low(0, Op::Ne, persona.into()), low(0, Op::Ne, 0xffff_ffff)],
    )?;
    Ok(p)
}

/// RestrictSUIDSGID=: chmod(2) and its relatives, mkdir(2), mknod(2) and their `at`
/// variants with S_ISUID or S_ISGID in the mode, and open(2)/openat(2)/creat(2) creating a
/// file with them, fail with EPERM, as in systemd 252; fchmodat2(2), newer than 252, gets the
/// same test. openat2(2) keeps its mode in memory a filter cannot read: it fails with ENOSYS,
/// so the C library falls back to openat(2).
pub fn suid_sgid(arch: Arch) -> Result<Program, SeccompError> {
    const O_CREAT: u64 = libc::O_CREAT.unsigned_abs() as u64;
    let mut p = Program::new(arch);
    let bits = u64::from(libc::S_ISUID | libc::S_ISGID);
    for (name, arg) in [
        ("chmod", 1),
        ("fchmod", 1),
        ("fchmodat", 2),
        ("fchmodat2", 2),
        ("mkdir", 1),
        ("mkdirat", 2),
        ("mknod", 1),
        ("mknodat", 2),
        ("creat", 1),
    ] {
        p.when(name, vec![any(arg, bits)])?;
    }
    p.when("open", vec![has(1, O_CREAT), any(2, bits)])?;
    p.when("openat", vec![has(2, O_CREAT), any(3, bits)])?;
    p.nosys("openat2");
    Ok(p)
}

/// SystemCallLog=: the kernel logs the listed calls (SECCOMP_RET_LOG), or with `~` every call
/// but those. None when the list is empty.
pub fn syscall_log(
    arch: Arch,
    log: &SyscallFilter,
) -> Result<Option<Vec<libc::sock_filter>>, SeccompError> {
    let Some(allow_list) = log.allow_list.filter(|_| !log.names.is_empty()) else {
        return Ok(None);
    };
    let p = deny_calls(arch, log.names.keys().map(String::as_str))?;
    let (log, allow) = (libc::SECCOMP_RET_LOG, libc::SECCOMP_RET_ALLOW);
    let (matched, otherwise) = if allow_list {
        (log, allow)
    } else {
        (allow, log)
    };
    p.build(matched, otherwise).map(Some)
}

#[cfg(test)]
mod tests {
    use super::super::seccomp::tests::{PYTHON, present, run};
    use super::*;
    use crate::unit::model::ExecContext;

    /// Runs the python `probe` (which prints its findings) under `exec`'s programs.
    fn probe(exec: &ExecContext, probe: &str) -> String {
        let out = run(exec, &[PYTHON, "-c", probe]);
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// A python prelude: `call(name, *args)` prints the errno of the libc call, 0 on success.
    const CALL: &str = "import ctypes, os, socket, tempfile\n\
        l = ctypes.CDLL(None, use_errno=True)\n\
        def call(f, *a):\n    r = getattr(l, f)(*a)\n    return ctypes.get_errno() if r < 0 else 0\n\
        def sock(family):\n    try:\n        socket.socket(family, socket.SOCK_DGRAM).close(); return 0\n    except OSError as e:\n        return e.errno\n";

    #[test]
    fn address_families_refuse_socket_with_eafnosupport() {
        if !present(PYTHON) {
            return;
        }
        let script = format!(
            "{CALL}print(sock(socket.AF_INET), sock(socket.AF_UNIX), sock(socket.AF_NETLINK))"
        );
        // Negative control: unfiltered, all three open.
        assert_eq!(probe(&ExecContext::default(), &script), "0 0 0");
        let mut e = ExecContext::default();
        e.address_families.add_line("AF_UNIX");
        let af = libc::EAFNOSUPPORT;
        assert_eq!(probe(&e, &script), format!("{af} 0 {af}"));
        let mut e = ExecContext::default();
        e.address_families.add_line("~AF_INET");
        assert_eq!(probe(&e, &script), format!("{af} 0 0"));
        e.address_families.add_line("none");
        assert_eq!(probe(&e, &script), format!("{af} {af} {af}"));
    }

    #[test]
    fn restricted_namespaces_fail_with_eperm_and_clone3_with_enosys() {
        if !present(PYTHON) {
            return;
        }
        let (user, uts) = (0x1000_0000, 0x0400_0000);
        let script = format!(
            "{CALL}print(call('unshare', {uts}), call('syscall', {clone3}, 0, 0))",
            clone3 = Arch::native()
                .and_then(|a| a.number("clone3"))
                .unwrap_or(435)
        );
        let control = probe(&ExecContext::default(), &script);
        if !control.starts_with("0 ") {
            eprintln!("SKIP: this container may not unshare a UTS namespace: {control}");
            return;
        }
        let e = ExecContext {
            restrict_namespaces: Some(user),
            ..ExecContext::default()
        };
        let (eperm, enosys) = (libc::EPERM, libc::ENOSYS);
        assert_eq!(probe(&e, &script), format!("{eperm} {enosys}"));
        // Retaining uts lets it through.
        let e = ExecContext {
            restrict_namespaces: Some(uts),
            ..ExecContext::default()
        };
        assert!(probe(&e, &script).starts_with("0 "));
    }

    #[test]
    fn a_locked_personality_only_reads_or_keeps_the_current_one() {
        if !present(PYTHON) {
            return;
        }
        let script = format!(
            "{CALL}print(call('personality', 0xffffffff), call('personality', 0), \
             call('personality', 8))"
        );
        let e = ExecContext {
            lock_personality: true,
            ..ExecContext::default()
        };
        assert_eq!(probe(&e, &script), format!("0 0 {}", libc::EPERM));
        assert_eq!(probe(&ExecContext::default(), &script), "0 0 0");
    }

    #[test]
    fn suid_and_sgid_bits_are_refused_with_eperm() {
        if !present(PYTHON) {
            return;
        }
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let d = dir.path().display();
        let script = format!(
            "{CALL}import stat\n\
             def err(f, *a):\n    try:\n        f(*a); return 0\n    except OSError as e:\n        return e.errno\n\
             open('{d}/f', 'w').close()\n\
             print(err(os.chmod, '{d}/f', 0o4755), err(os.chmod, '{d}/f', 0o2755), \
             err(os.chmod, '{d}/f', 0o755), err(os.open, '{d}/g', os.O_CREAT | os.O_WRONLY, 0o2755), \
             err(os.mkdir, '{d}/h', 0o2755), err(os.open, '{d}/f', os.O_WRONLY, 0o4755))"
        );
        let e = ExecContext {
            restrict_suid_sgid: true,
            ..ExecContext::default()
        };
        let eperm = libc::EPERM;
        assert_eq!(
            probe(&e, &script),
            format!("{eperm} {eperm} 0 {eperm} {eperm} 0")
        );
        std::fs::remove_dir_all(dir.path()).ok();
        std::fs::create_dir_all(dir.path()).ok();
        assert_eq!(probe(&ExecContext::default(), &script), "0 0 0 0 0 0");
    }

    /// The system-call halves of ProtectKernelModules=, ProtectKernelLogs= and ProtectClock=
    /// (the probes change nothing: finit_module on a bad descriptor, syslog's buffer size, and
    /// clock_settime with a null time), and RestrictRealtime='s sched_setattr.
    #[test]
    fn protections_refuse_their_calls_with_eperm() {
        if !present(PYTHON) {
            return;
        }
        let nr = |name| Arch::native().and_then(|a| a.number(name)).unwrap_or(0);
        let script = format!(
            "{CALL}print(call('syscall', {finit}, -1, b'', 0), call('syscall', {syslog}, 10, 0, 0), \
             call('syscall', {settime}, 0, 0), call('syscall', {setattr}, 0, 0, 0))",
            finit = nr("finit_module"),
            syslog = nr("syslog"),
            settime = nr("clock_settime"),
            setattr = nr("sched_setattr"),
        );
        let control = probe(&ExecContext::default(), &script);
        let (eperm, enosys) = (libc::EPERM, libc::ENOSYS);
        let e = ExecContext {
            protect_kernel_modules: true,
            protect_kernel_logs: true,
            protect_clock: true,
            restrict_realtime: true,
            ..ExecContext::default()
        };
        assert_eq!(
            probe(&e, &script),
            format!("{eperm} {eperm} {eperm} {enosys}"),
            "against {control}"
        );
        // Negative control: unfiltered, none of them is EPERM, and sched_setattr is there
        // (here: ENOSYS or EBADF, a size, EFAULT, EINVAL).
        let errors: Vec<&str> = control.split(' ').collect();
        assert!(
            !errors.contains(&eperm.to_string().as_str()) && errors[3] != enosys.to_string(),
            "{control}"
        );
    }

    /// SystemCallLog=: the kernel logs the call (SECCOMP_RET_LOG, not observable here without
    /// the audit log) and lets it through; the program is installed.
    #[test]
    fn a_logged_call_still_runs() {
        let mut e = ExecContext::default();
        e.syscall_log.add_log_line("uname");
        let programs = super::super::seccomp::compile(&e, true).unwrap_or_default();
        assert_eq!(programs.len(), 1);
        let out = run(
            &e,
            &[
                "/bin/sh",
                "-c",
                "uname && grep ^Seccomp_filters /proc/self/status",
            ],
        );
        assert!(out.status.success(), "{out:?}");
        let control = run(
            &ExecContext::default(),
            &["/bin/sh", "-c", "grep ^Seccomp_filters /proc/self/status"],
        );
        assert_ne!(
            String::from_utf8_lossy(&out.stdout).lines().last(),
            String::from_utf8_lossy(&control.stdout).lines().last(),
            "{out:?}"
        );
        let mut e = ExecContext::default();
        e.syscall_log.add_log_line("~uname");
        assert!(run(&e, &["uname"]).status.success());
    }

    fn arch() -> Arch {
        Arch::native().unwrap_or(Arch::X86_64)
    }

    #[test]
    fn an_allow_list_refuses_the_gaps_between_its_families() {
        let mut af = AddressFamilies::default();
        af.add_line("AF_UNIX AF_INET6");
        let p = address_families(arch(), &af).unwrap_or_else(|e| panic!("{e}"));
        let socket = i64::from(arch().number("socket").unwrap_or(0));
        // Below AF_UNIX, above AF_INET6, and AF_INET to AF_DECnet-less gaps 2..=9.
        assert_eq!(p.rules[&socket].len(), 2 + 8);
        let none = AddressFamilies {
            allow_list: true,
            families: None,
        };
        let p = address_families(arch(), &none).unwrap_or_else(|e| panic!("{e}"));
        assert!(p.rules[&socket].is_empty(), "every socket(2) refused");
    }

    #[test]
    fn namespaces_retained_all_build_nothing() {
        assert!(matches!(namespaces(arch(), ALL_NAMESPACES), Ok(None)));
        let p = namespaces(arch(), 0)
            .ok()
            .flatten()
            .unwrap_or_else(|| Program::new(arch()));
        let setns = i64::from(arch().number("setns").unwrap_or(0));
        assert!(p.rules[&setns].is_empty(), "setns refused outright");
        assert_eq!(p.enosys.len(), 1, "clone3 answered ENOSYS");
    }
}
