//! The only file allowed to contain `unsafe`. Each block names the invariant that makes it
//! sound. What lives here: the pre-exec set-up of a child (runs between fork and exec, so it may
//! only make async-signal-safe calls and must not allocate) and raw signal delivery for signal
//! numbers that `nix::sys::signal::Signal` cannot name (the real-time ones), and the reaper's
//! `waitpid`, whose statuses nix cannot decode for those signals.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

/// The highest signal number on Linux (`_NSIG - 1`).
pub const MAX_SIGNAL: i32 = crate::vocab::signal::SIGRTMAX;

/// Everything a child does between fork and exec, prepared in the parent (no allocation and no
/// lookup happens in the child). The order of the steps is fixed: join the cgroup, become a
/// session or take the terminal, reset signals, set the personality, limits, nice, OOM score
/// and umask, cut the bounding set and raise ambient capabilities, drop credentials (and raise
/// the ambient ones again), change directory, then secure bits and no_new_privs ([`Privileges`]) — limits
/// before credentials so a hard limit can still be raised, the directory after them so it is
/// reached with the service's own rights.
#[derive(Debug, Default)]
pub struct ChildSetup {
    /// Fork once more first and stay behind as the command's keeper (see [`Keeper`]).
    pub keeper: Option<Keeper>,
    /// Join this cgroup (its `cgroup.procs` path) first, so nothing forked escapes it.
    pub cgroup_procs: Option<std::ffi::CString>,
    /// Become a session leader (services: no controlling terminal, own process group).
    pub new_session: bool,
    /// When stdin is a terminal, make the child's process group its foreground group
    /// (the main command of `bosun -- CMD`; the child is already a group leader).
    pub take_terminal: bool,
    /// setrlimit calls: (resource, soft, hard). Values above what may be raised were clamped
    /// by the caller, which also said so.
    pub limits: Vec<(nix::sys::resource::Resource, u64, u64)>,
    pub nice: Option<i32>,
    /// The OOM score adjustment, as the text to write to /proc/self/oom_score_adj.
    pub oom_score_adj: Option<std::ffi::CString>,
    pub umask: Option<u32>,
    /// setgroups, setgid, setuid, in that order.
    pub credentials: Option<Credentials>,
    /// chdir target, and whether a missing directory is tolerated (`-` prefix).
    pub chdir: Option<(std::ffi::CString, bool)>,
    /// File descriptors passed to the program as 3, 4, ... (socket activation). Each was
    /// duplicated by [`ListenFds::new`] above the range it is moved into.
    pub pass_fds: Option<ListenFds>,
    /// Leave SIGPIPE ignored (IgnoreSIGPIPE=, systemd's default for services); every other
    /// signal starts at its default disposition.
    pub ignore_sigpipe: bool,
    /// The execution domain to set (Personality=), before the limits.
    pub personality: Option<u32>,
    /// Seccomp programs (SystemCallFilter=, ...), installed last, after the identity change.
    pub seccomp: std::sync::Arc<[Vec<libc::sock_filter>]>,
    /// Set no_new_privs before installing them (the process will lack CAP_SYS_ADMIN).
    pub seccomp_no_new_privs: bool,
    /// Capabilities, secure bits and no_new_privs (see [`Privileges`]).
    pub privileges: Option<Privileges>,
    /// The mount namespace (PrivateTmp=, ...), made after the umask and before the capability
    /// and uid steps, where systemd 252 runs setup_namespace().
    pub namespace: Option<ChildStep>,
    /// PrivateUsers=: a user namespace entered after the mount namespace and the group change
    /// (so the supplementary groups are set while they still mean something), before the
    /// capability steps and the uid change, as systemd 252 does for a privileged manager.
    pub user_namespace: Option<UserNs>,
    /// PrivateNetwork= and PrivateIPC=: CLONE_NEWNET and/or CLONE_NEWIPC, unshared before the
    /// mount namespace as systemd 252 does; a new network namespace gets its loopback up.
    pub other_namespaces: libc::c_int,
}

/// How the child gets its user namespace: a new one with these maps (a helper writes them),
/// or one made before with the same maps, joined with setns(2) (no helper, no wait: the
/// namespace holds nothing of a run, only the mapping).
#[derive(Debug, Clone)]
pub enum UserNs {
    Maps(UserMaps),
    Join(std::sync::Arc<OwnedFd>),
}

/// The uid_map and gid_map lines of a user namespace (`0 0 1\nUID UID 1\n`), written by a
/// helper left in the parent namespace, as only it may map more than one id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct UserMaps {
    pub uid_map: Vec<u8>,
    pub gid_map: Vec<u8>,
}

/// A step a higher layer prepared in the parent (the mount namespace: service::namespace);
/// it runs in the child, so it allocates nothing and makes only async-signal-safe calls.
pub struct ChildStep(pub Box<dyn Fn() -> io::Result<()> + Send + Sync>);

impl std::fmt::Debug for ChildStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChildStep")
    }
}

/// The privilege steps of a child, in systemd 252's order (exec_child()): before the uid
/// change the bounding set is cut and the ambient set raised (through the inheritable set,
/// with keep-caps so the permitted set survives the uid change); after it the ambient set is
/// raised again (setuid cleared it); after the working directory the secure bits are set and
/// no_new_privs last. A failing step fails the child with systemd's exit status for it
/// ([`setup_failure`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Privileges {
    /// Capabilities to drop from the bounding set (only ones it holds: dropping one it lacks
    /// is no failure in 252).
    pub bounding_drop: u64,
    /// The inheritable set to install before the uid change; None: leave it.
    pub inheritable: Option<u64>,
    /// Capabilities to raise in the ambient set.
    pub ambient: u64,
    /// PR_SET_KEEPCAPS before the uid change (a non-root user with ambient capabilities).
    pub keep_caps: bool,
    /// The secure bits the program starts with (PR_SET_SECUREBITS when they differ).
    pub secure_bits: u32,
    /// PR_SET_NO_NEW_PRIVS.
    pub no_new_privs: bool,
}

/// systemd's exit statuses for the privilege steps (exit-status.h, `systemd-analyze
/// exit-status`).
pub const EXIT_SECUREBITS: i32 = 213;
pub const EXIT_USER: i32 = 217;
pub const EXIT_NETWORK: i32 = 225;
pub const EXIT_CAPABILITIES: i32 = 218;
pub const EXIT_NO_NEW_PRIVILEGES: i32 = 227;
pub const EXIT_SECCOMP: i32 = 228;
pub const EXIT_PERSONALITY: i32 = 223;

/// A step's failure as the child reports it: the errno in the low 16 bits, the exit status in
/// the bits above (std passes the hook's raw error, an i32, to the parent unchanged).
fn step_failed(status: i32, err: io::Error) -> io::Error {
    io::Error::from_raw_os_error(
        (status << 16) | (err.raw_os_error().unwrap_or(libc::EIO) & 0xffff),
    )
}

/// Split a spawn error raised by a failed privilege step into (exit status, errno); None for
/// any other error.
pub fn setup_failure(err: &io::Error) -> Option<(i32, io::Error)> {
    let raw = err.raw_os_error()?;
    let status = raw >> 16;
    (200..=255)
        .contains(&status)
        .then(|| (status, io::Error::from_raw_os_error(raw & 0xffff)))
}

/// The kernel's capget/capset header and data (linux/capability.h, version 3: two data
/// words, capabilities 0-31 and 32-63).
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAP_VERSION_3: u32 = 0x2008_0522;

/// This process's (effective, permitted, inheritable) sets. Async-signal-safe.
fn cap_get() -> io::Result<[u64; 3]> {
    let mut header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget writes two CapData (the version-3 size) through `data`, which is a live,
    // aligned array of two on this frame; the header is valid for the call.
    if unsafe { libc::syscall(libc::SYS_capget, &raw mut header, data.as_mut_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let join = |lo: u32, hi: u32| u64::from(lo) | (u64::from(hi) << 32);
    Ok([
        join(data[0].effective, data[1].effective),
        join(data[0].permitted, data[1].permitted),
        join(data[0].inheritable, data[1].inheritable),
    ])
}

/// Install (effective, permitted, inheritable). Async-signal-safe.
fn cap_set(sets: [u64; 3]) -> io::Result<()> {
    let mut header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let word = |set: u64, high: bool| {
        let half = if high { set >> 32 } else { set & 0xffff_ffff };
        u32::try_from(half).unwrap_or(0)
    };
    let data = [false, true].map(|high| CapData {
        effective: word(sets[0], high),
        permitted: word(sets[1], high),
        inheritable: word(sets[2], high),
    });
    // SAFETY: capset reads the header and two CapData, all live on this frame for the call.
    if unsafe { libc::syscall(libc::SYS_capset, &raw mut header, data.as_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// prctl with integer arguments, as a Result. Async-signal-safe.
fn prctl(option: libc::c_int, arg2: libc::c_ulong, arg3: libc::c_ulong) -> io::Result<i32> {
    // SAFETY: every prctl option used here takes integers only.
    let rc = unsafe { libc::prctl(option, arg2, arg3, 0 as libc::c_ulong, 0 as libc::c_ulong) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

impl Privileges {
    /// Before the uid change: cut the bounding set, install the inheritable set, keep-caps,
    /// raise the ambient set.
    fn before_uid_change(&self) -> io::Result<()> {
        let caps = |e| step_failed(EXIT_CAPABILITIES, e);
        for n in 0..64 {
            if self.bounding_drop & (1 << n) != 0 {
                prctl(libc::PR_CAPBSET_DROP, n, 0).map_err(caps)?;
            }
        }
        if let Some(inheritable) = self.inheritable {
            let [effective, permitted, _] = cap_get().map_err(caps)?;
            cap_set([effective, permitted, inheritable]).map_err(caps)?;
        }
        if self.keep_caps {
            prctl(libc::PR_SET_KEEPCAPS, 1, 0).map_err(|e| step_failed(EXIT_USER, e))?;
        }
        self.raise_ambient()
    }

    fn raise_ambient(&self) -> io::Result<()> {
        let raise = libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong;
        for n in (0..64).filter(|n| self.ambient & (1 << n) != 0) {
            prctl(libc::PR_CAP_AMBIENT, raise, n).map_err(|e| step_failed(EXIT_CAPABILITIES, e))?;
        }
        Ok(())
    }

    /// Last: the secure bits (gaining CAP_SETPCAP in the effective set for it, as 252 does;
    /// exec recomputes the effective set anyway), then no_new_privs.
    fn last(&self) -> io::Result<()> {
        let current =
            prctl(libc::PR_GET_SECUREBITS, 0, 0).map_err(|e| step_failed(EXIT_SECUREBITS, e))?;
        if u32::try_from(current).ok() != Some(self.secure_bits) {
            let caps = |e| step_failed(EXIT_CAPABILITIES, e);
            let [effective, permitted, inheritable] = cap_get().map_err(caps)?;
            let setpcap = 1u64 << crate::vocab::capability::CAP_SETPCAP;
            if effective & setpcap == 0 {
                cap_set([effective | setpcap, permitted, inheritable]).map_err(caps)?;
            }
            prctl(
                libc::PR_SET_SECUREBITS,
                libc::c_ulong::from(self.secure_bits),
                0,
            )
            .map_err(|e| step_failed(EXIT_SECUREBITS, e))?;
        }
        if self.no_new_privs {
            prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0)
                .map_err(|e| step_failed(EXIT_NO_NEW_PRIVILEGES, e))?;
        }
        Ok(())
    }
}

/// Sockets handed to a service as systemd does (sd_listen_fds(3)): placed at file descriptors
/// 3, 4, ... in the child, with `LISTEN_PID` set to the child's own pid, which only the child
/// knows. The environment is therefore built here, whole, and installed in the child as
/// `environ` right before exec (the program must not be given an environment through
/// [`Command::env`], which would replace it).
pub struct ListenFds {
    /// Duplicates of the sockets, all numbered at or above 3 + their count, so that moving
    /// one into place never overwrites another.
    fds: Vec<OwnedFd>,
    /// `KEY=VALUE\0` entries; `pid_at` is the entry whose digits the child writes.
    entries: Vec<Vec<u8>>,
    /// Pointers to each entry, then a null pointer: the array `environ` is set to.
    pointers: Vec<*mut libc::c_char>,
    /// Start of the `LISTEN_PID=` entry's ten-digit field.
    pid_digits: *mut u8,
}

// SAFETY: the raw pointers point into `entries`, which the struct owns and never resizes after
// `new`; they are only dereferenced in the forked child, which has a single thread.
unsafe impl Send for ListenFds {}
// SAFETY: as for Send: no shared access happens through the pointers outside the child.
unsafe impl Sync for ListenFds {}

impl std::fmt::Debug for ListenFds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenFds")
            .field("fds", &self.fds)
            .field("variables", &self.entries.len())
            .finish_non_exhaustive()
    }
}

/// `LISTEN_PID=` and room for any pid (Linux pids have at most 7 digits; 10 fit any i32).
const LISTEN_PID_FIELD: usize = 10;

impl ListenFds {
    /// Prepare `fds` for the child, with `env` as the program's whole environment (without
    /// LISTEN_PID, which is added).
    pub fn new(
        fds: &[std::os::fd::BorrowedFd<'_>],
        env: &[(String, String)],
    ) -> io::Result<ListenFds> {
        let lowest = 3 + i32::try_from(fds.len()).unwrap_or(i32::MAX - 3);
        let mut owned = Vec::with_capacity(fds.len());
        for fd in fds {
            owned.push(nix::fcntl::fcntl(
                fd,
                nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(lowest),
            )?);
        }
        let owned = owned
            .into_iter()
            .map(|raw| {
                // SAFETY: F_DUPFD_CLOEXEC returned a new descriptor that nothing else owns.
                unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) }
            })
            .collect();
        let mut entries: Vec<Vec<u8>> = env
            .iter()
            .filter(|(k, _)| k != "LISTEN_PID")
            .filter(|(k, v)| !k.contains(['=', '\0']) && !v.contains('\0'))
            .map(|(k, v)| format!("{k}={v}\0").into_bytes())
            .collect();
        let mut pid = b"LISTEN_PID=".to_vec();
        pid.extend([b'0'; LISTEN_PID_FIELD]);
        pid.push(0);
        entries.push(pid);
        let mut pointers: Vec<*mut libc::c_char> = entries
            .iter_mut()
            .map(|e| e.as_mut_ptr().cast::<libc::c_char>())
            .collect();
        pointers.push(std::ptr::null_mut());
        let last = entries.len() - 1;
        // SAFETY: the entry is "LISTEN_PID=" followed by the digit field, so the offset stays
        // inside its allocation; the pointer is derived from the entry's own buffer.
        let pid_digits = unsafe { entries[last].as_mut_ptr().add(b"LISTEN_PID=".len()) };
        Ok(ListenFds {
            fds: owned,
            entries,
            pointers,
            pid_digits,
        })
    }

    /// In the child: move the descriptors to 3, 4, ..., write the pid, install `environ`.
    fn install(&mut self) -> io::Result<()> {
        for (i, fd) in self.fds.iter().enumerate() {
            let target = 3 + i32::try_from(i).unwrap_or(0);
            // SAFETY: dup2 on two integers; `fd` is open (owned by this struct) and the target
            // is below every source (see `new`), so no source is closed by an earlier move.
            // The copy it makes has no close-on-exec flag, which is the point.
            if unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(fd), target) } < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        // SAFETY: getpid has no preconditions.
        let mut pid = unsafe { libc::getpid() };
        // The decimal digits, then the terminating NUL (the field has room for any pid and
        // its NUL: see `new`).
        let mut digits = [0u8; LISTEN_PID_FIELD];
        let mut n = 0;
        loop {
            digits[n] = b'0' + u8::try_from(pid % 10).unwrap_or(0);
            n += 1;
            pid /= 10;
            if pid == 0 || n == LISTEN_PID_FIELD {
                break;
            }
        }
        for (i, d) in digits[..n].iter().rev().enumerate() {
            // SAFETY: `pid_digits` points to LISTEN_PID_FIELD + 1 bytes inside an entry this
            // struct owns (see `new`); i < n <= LISTEN_PID_FIELD.
            unsafe { *self.pid_digits.add(i) = *d };
        }
        // SAFETY: as above; n <= LISTEN_PID_FIELD, and the entry has one more byte.
        unsafe { *self.pid_digits.add(n) = 0 };
        // SAFETY: `pointers` is a null-terminated array of pointers to NUL-terminated entries,
        // all owned by this struct, which lives until exec replaces the process image (the
        // closure holding it is dropped only in the parent). Writing the `environ` pointer is
        // a plain store, async-signal-safe; std's exec then passes it to the program, because
        // the Command was given no environment of its own.
        unsafe {
            environ = self.pointers.as_mut_ptr();
        }
        Ok(())
    }
}

unsafe extern "C" {
    /// The C library's environment pointer, which execvp passes on.
    static mut environ: *mut *mut libc::c_char;
}

/// The identity a service runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
}

/// The soft RLIMIT_NOFILE bosun was started with, once [`raise_nofile`] raised its own: what
/// every child gets back.
static ORIGINAL_NOFILE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// Raise PID 1's soft RLIMIT_NOFILE to its hard limit, as systemd does at start (systemd 252
/// src/core/main.c bump_rlimit_nofile()), so that clients and service pipes cannot leave it
/// without descriptors; children get the original soft limit back ([`prepare_child`]), since
/// programs using select() break above 1024. The hard limit stays as the container runtime
/// set it. Returns (original soft, new soft) when it changed anything.
pub fn raise_nofile() -> io::Result<Option<(u64, u64)>> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    if soft >= hard {
        return Ok(None);
    }
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard)?;
    let _ = ORIGINAL_NOFILE.set(soft);
    Ok(Some((soft, hard)))
}

/// Arrange for `cmd`'s child to run `setup` and to start with default dispositions for every
/// signal and an empty signal mask. A failing step makes `spawn` fail with that step's errno.
/// The child starts with the soft RLIMIT_NOFILE bosun was given (see [`raise_nofile`]);
/// `setup.limits` (LimitNOFILE=) apply after it.
pub fn prepare_child(cmd: &mut Command, setup: ChildSetup) {
    let mut setup = setup;
    // Read here, in the parent: the child only calls setrlimit.
    let nofile = ORIGINAL_NOFILE.get().copied().and_then(|soft| {
        nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
            .ok()
            .map(|(_, hard)| (soft, hard))
    });
    let hook = move || -> io::Result<()> {
        if let Some(keeper) = &setup.keeper {
            // Returns in the command's process only; the keeper never returns.
            become_keeper(keeper)?;
        }
        if let Some(procs) = &setup.cgroup_procs {
            join_cgroup(procs)?;
        }
        if setup.new_session {
            // SAFETY: setsid takes no arguments and is async-signal-safe.
            if unsafe { libc::setsid() } < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        if setup.take_terminal {
            // A background process group calling tcsetpgrp is sent SIGTTOU (and stopped by
            // default) unless it ignores it; ignore it for the call, the loop below restores it.
            set_disposition(libc::SIGTTOU, libc::SIG_IGN);
            // SAFETY: getpgrp and tcsetpgrp are async-signal-safe and take no pointers. ENOTTY
            // (stdin is not a terminal) and ENXIO (no controlling terminal) are expected and
            // ignored, as tini does; the child runs either way.
            unsafe {
                libc::tcsetpgrp(libc::STDIN_FILENO, libc::getpgrp());
            }
        }
        for signo in 1..=MAX_SIGNAL {
            if signo != libc::SIGKILL && signo != libc::SIGSTOP {
                set_disposition(signo, libc::SIG_DFL);
            }
        }
        if setup.ignore_sigpipe {
            set_disposition(libc::SIGPIPE, libc::SIG_IGN);
        }
        // SAFETY: `empty` is a valid, initialised sigset_t living on this stack frame for the
        // duration of the calls; sigemptyset and sigprocmask are async-signal-safe.
        unsafe {
            let mut empty = std::mem::MaybeUninit::<libc::sigset_t>::zeroed();
            libc::sigemptyset(empty.as_mut_ptr());
            if libc::sigprocmask(libc::SIG_SETMASK, empty.as_ptr(), std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        if let Some(persona) = setup.personality {
            // SAFETY: personality takes an integer and is a plain system call.
            if unsafe { libc::personality(libc::c_ulong::from(persona)) } < 0 {
                return Err(step_failed(EXIT_PERSONALITY, io::Error::last_os_error()));
            }
        }
        if let Some((soft, hard)) = nofile {
            nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, soft, hard)?;
        }
        for &(resource, soft, hard) in &setup.limits {
            nix::sys::resource::setrlimit(resource, soft, hard)?;
        }
        if let Some(nice) = setup.nice {
            // SAFETY: setpriority takes integers only and is a plain system call.
            if unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) } < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        if let Some(score) = &setup.oom_score_adj {
            write_file(c"/proc/self/oom_score_adj", score.as_bytes())?;
        }
        if let Some(mask) = setup.umask {
            // SAFETY: umask cannot fail and takes an integer.
            unsafe { libc::umask(mask as libc::mode_t) };
        }
        let userns = match &setup.user_namespace {
            Some(UserNs::Maps(maps)) => {
                Some(UserNsHelper::spawn(maps).map_err(|e| step_failed(EXIT_USER, e))?)
            }
            _ => None,
        };
        if setup.other_namespaces != 0 {
            enter_namespaces(setup.other_namespaces).map_err(|e| step_failed(EXIT_NETWORK, e))?;
        }
        if let Some(step) = &setup.namespace {
            (step.0)()?;
        }
        // SAFETY: `groups` is a live Vec owned by the closure; its pointer and length are
        // valid for the call. setgroups/setgid are async-signal-safe system calls (the raw
        // syscalls, not the C library's broadcasting wrappers: the child has one thread).
        let set_groups = |creds: &Credentials| unsafe {
            if libc::syscall(
                libc::SYS_setgroups,
                creds.groups.len(),
                creds.groups.as_ptr(),
            ) < 0
                || libc::syscall(libc::SYS_setgid, libc::c_long::from(creds.gid)) < 0
            {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        };
        if let Some(helper) = &userns {
            if let Some(creds) = &setup.credentials {
                set_groups(creds)?;
            }
            helper.enter().map_err(|e| step_failed(EXIT_USER, e))?;
        }
        if let Some(UserNs::Join(fd)) = &setup.user_namespace {
            if let Some(creds) = &setup.credentials {
                set_groups(creds)?;
            }
            // SAFETY: setns on a descriptor the setup owns (open until after the fork).
            if unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWUSER) } < 0 {
                return Err(step_failed(EXIT_USER, io::Error::last_os_error()));
            }
        }
        if let Some(privileges) = &setup.privileges {
            privileges.before_uid_change()?;
        }
        if let Some(creds) = &setup.credentials {
            if setup.user_namespace.is_none() {
                set_groups(creds)?;
            }
            // SAFETY: setuid takes an integer; the raw syscall, as above.
            if unsafe { libc::syscall(libc::SYS_setuid, libc::c_long::from(creds.uid)) } < 0 {
                return Err(io::Error::last_os_error());
            }
            if let Some(privileges) = &setup.privileges {
                privileges.raise_ambient()?;
            }
        }
        if let Some(listen) = setup.pass_fds.as_mut() {
            listen.install()?;
        }
        if let Some((dir, missing_ok)) = &setup.chdir {
            // SAFETY: `dir` is a valid NUL-terminated string owned by the closure.
            if unsafe { libc::chdir(dir.as_ptr()) } < 0 {
                let err = io::Error::last_os_error();
                if !(*missing_ok && err.raw_os_error() == Some(libc::ENOENT)) {
                    return Err(err);
                }
            }
        }
        if let Some(privileges) = &setup.privileges {
            privileges.last()?;
        }
        if setup.seccomp_no_new_privs && !setup.seccomp.is_empty() {
            prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0)
                .map_err(|e| step_failed(EXIT_NO_NEW_PRIVILEGES, e))?;
        }
        for program in setup.seccomp.iter() {
            let prog = libc::sock_fprog {
                len: u16::try_from(program.len()).unwrap_or(u16::MAX),
                filter: program.as_ptr().cast_mut(),
            };
            // SAFETY: `prog` points at a live Vec owned by the closure, of `len` instructions
            // (the compiler keeps programs under BPF_MAXINSNS); the kernel copies it.
            if unsafe {
                libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    0,
                    &raw const prog,
                )
            } < 0
            {
                return Err(step_failed(EXIT_SECCOMP, io::Error::last_os_error()));
            }
        }
        Ok(())
    };
    // SAFETY: the hook makes only async-signal-safe calls (prctl, fork, waitpid, send and
    // close_range for a keeper, open, write, close, setsid,
    // rt_sigaction, sigemptyset, sigprocmask, getpgrp, tcsetpgrp, setrlimit, setpriority,
    // umask, unshare, mount, chroot, personality, capget, capset, setgroups, setgid, setuid,
    // dup2, getpid, chdir, a store to `environ`, prctl and seccomp) on data prepared before
    // fork; it allocates nothing and touches no lock, so it is sound in the forked child even if the parent had
    // other threads.
    unsafe {
        cmd.pre_exec(hook);
    }
}

/// This process's execution domain as systemd 252 reads it (opinionated_personality()):
/// PER_LINUX32 when its low byte says so, else PER_LINUX, flags aside.
pub fn own_personality() -> u32 {
    const PER_LINUX32: libc::c_int = 0x0008;
    // SAFETY: personality(0xffffffff) only reads the current value; a plain system call.
    let current = unsafe { libc::personality(0xffff_ffff) };
    u32::from(current >= 0 && current & 0xff == PER_LINUX32) * 0x0008
}

/// The helper of a user namespace to be entered (PrivateUsers=), forked before the mount
/// namespace so that it stays in the container's mount namespace: there /proc is the
/// container's, without the `hidepid=` a ProtectProc= procfs may have (which would hide the
/// service from a helper lacking CAP_SYS_PTRACE). Once told the unshare is done, it writes
/// the caller's uid_map and gid_map (only a process with CAP_SETUID/CAP_SETGID in the parent
/// namespace may map more than its own id) and exits with 0 or the errno; told nothing (the
/// child failed first and exited), it exits. Async-signal-safe: pipe2, fork, read, write,
/// open, close, waitpid, _exit, on data prepared before fork; paths built on the stack.
struct UserNsHelper {
    pid: libc::pid_t,
    tell: libc::c_int,
}

impl UserNsHelper {
    fn spawn(maps: &UserMaps) -> io::Result<UserNsHelper> {
        let mut fds = [0; 2];
        // SAFETY: `fds` is a live array of two ints for pipe2 to fill.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
            return Err(io::Error::last_os_error());
        }
        let [read_end, write_end] = fds;
        // SAFETY: the caller is the single-threaded child between fork and exec; the helper
        // only makes async-signal-safe calls and leaves with _exit.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            // SAFETY: plain system calls on descriptors and stack buffers of this frame.
            unsafe {
                libc::close(write_end);
                let mut byte = 0u8;
                let told = libc::read(read_end, (&raw mut byte).cast(), 1) == 1 && byte == 1;
                if !told {
                    libc::_exit(0);
                }
                let target = libc::getppid();
                for (name, data) in [
                    (&b"uid_map"[..], &maps.uid_map),
                    (b"gid_map", &maps.gid_map),
                ] {
                    let mut path = [0u8; 48];
                    proc_path(&mut path, target, name);
                    let fd = libc::open(path.as_ptr().cast(), libc::O_WRONLY | libc::O_CLOEXEC);
                    if fd < 0 || libc::write(fd, data.as_ptr().cast(), data.len()) < 0 {
                        libc::_exit(*libc::__errno_location() & 0xff);
                    }
                    libc::close(fd);
                }
                libc::_exit(0);
            }
        }
        // SAFETY: closing our copy of the helper's end.
        unsafe { libc::close(read_end) };
        Ok(UserNsHelper {
            pid,
            tell: write_end,
        })
    }

    /// Unshare the user namespace, have the helper write the maps, and wait for it.
    fn enter(&self) -> io::Result<()> {
        // SAFETY: plain system calls on our own descriptor and a live status int.
        unsafe {
            let entered = libc::unshare(libc::CLONE_NEWUSER) == 0;
            let err = io::Error::last_os_error();
            let byte = u8::from(entered);
            libc::write(self.tell, (&raw const byte).cast(), 1);
            libc::close(self.tell);
            let mut status = 0;
            while libc::waitpid(self.pid, &raw mut status, 0) < 0 {
                if *libc::__errno_location() != libc::EINTR {
                    return Err(io::Error::last_os_error());
                }
            }
            if !entered {
                return Err(err);
            }
            match libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)) {
                Some(0) => Ok(()),
                Some(errno) => Err(io::Error::from_raw_os_error(errno)),
                None => Err(io::Error::from_raw_os_error(libc::ECHILD)),
            }
        }
    }
}

/// A detached copy of the mount tree at `path` (open_tree(2) with OPEN_TREE_CLONE and
/// AT_RECURSIVE, close-on-exec), to attach elsewhere with [`attach_tree`], in another mount
/// namespace too. Async-signal-safe (one system call).
pub fn clone_tree(path: &std::ffi::CStr) -> io::Result<OwnedFd> {
    const OPEN_TREE_CLONE: libc::c_long = 1;
    const AT_RECURSIVE: libc::c_long = 0x8000;
    let flags = OPEN_TREE_CLONE | AT_RECURSIVE | libc::c_long::from(libc::O_CLOEXEC);
    // SAFETY: `path` is a valid NUL-terminated string; open_tree returns a new descriptor we
    // own or -1.
    let fd = unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, path.as_ptr(), flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = libc::c_int::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: `fd` was just returned by open_tree and is owned by no one else.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) })
}

/// Attach the detached tree `tree` ([`clone_tree`]) at `target` (move_mount(2) with
/// MOVE_MOUNT_F_EMPTY_PATH). Async-signal-safe.
pub fn attach_tree(tree: &OwnedFd, target: &std::ffi::CStr) -> io::Result<()> {
    const MOVE_MOUNT_F_EMPTY_PATH: libc::c_long = 4;
    // SAFETY: `tree` is an open descriptor, the empty path and `target` valid NUL-terminated
    // strings.
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            target.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Join the mount namespace `fd` (setns(2)). Async-signal-safe.
pub fn join_mount_namespace(fd: &OwnedFd) -> io::Result<()> {
    // SAFETY: setns on a descriptor we hold open.
    if unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNS) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Run `make` in a forked child and keep the mount namespace it leaves itself in (see
/// `hold_child_namespace`). For PID 1, once per kept plan (see `service::namespace`);
/// `make` must only make async-signal-safe calls.
pub fn hold_namespace(make: &dyn Fn() -> io::Result<()>) -> io::Result<OwnedFd> {
    hold_child_namespace("mnt", make, &|_| Ok(()))
}

/// A user namespace with `maps`, kept by the returned descriptor: a forked child unshares
/// it, this process, left in the parent namespace, writes the maps (see
/// `hold_child_namespace`). For PID 1, once per distinct maps (see `service::userns`): its
/// children then join with setns(2).
pub fn make_user_namespace(maps: &UserMaps) -> io::Result<OwnedFd> {
    let unshare = || {
        // SAFETY: unshare takes flags only.
        if unsafe { libc::unshare(libc::CLONE_NEWUSER) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    };
    hold_child_namespace("user", &unshare, &|pid| {
        std::fs::write(format!("/proc/{pid}/uid_map"), &maps.uid_map)?;
        std::fs::write(format!("/proc/{pid}/gid_map"), &maps.gid_map)
    })
}

/// Keep the namespace of type `kind` (a name under /proc/PID/ns) a forked child leaves
/// itself in: the child runs `make` and says so on a pipe; this process runs `then` with the
/// child's pid, opens /proc/CHILD/ns/KIND and lets the child go. PID 1 waits a bounded time:
/// a mount that hangs (a dead network file system) must not hold it; the child is then
/// killed and left to the reaper (it may sit in an uninterruptible sleep), and the caller
/// does without. `make` must only make async-signal-safe calls.
fn hold_child_namespace(
    kind: &str,
    make: &dyn Fn() -> io::Result<()>,
    then: &dyn Fn(libc::pid_t) -> io::Result<()>,
) -> io::Result<OwnedFd> {
    let (ready_r, ready_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let (done_r, done_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    // SAFETY: PID 1 has a single thread (STYLE.md: fork stays sound); the child runs `make`
    // (async-signal-safe calls only), writes a byte, reads one, and leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: as above.
        unsafe {
            // The parent's ends: without this, the read below would never see the end.
            libc::close(ready_r.as_raw_fd());
            libc::close(done_w.as_raw_fd());
            let byte = u8::from(make().is_ok());
            libc::write(ready_w.as_raw_fd(), (&raw const byte).cast(), 1);
            let mut wait = 0u8;
            libc::read(done_r.as_raw_fd(), (&raw mut wait).cast(), 1);
            libc::_exit(0);
        }
    }
    drop((ready_w, done_r));
    let child = nix::unistd::Pid::from_raw(pid);
    let mut fds = [nix::poll::PollFd::new(
        std::os::fd::AsFd::as_fd(&ready_r),
        nix::poll::PollFlags::POLLIN,
    )];
    let ready = matches!(
        nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(HOLD_NAMESPACE_WAIT_MS)),
        Ok(n) if n > 0
    );
    if !ready {
        let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
        return Err(io::Error::from_raw_os_error(libc::ETIMEDOUT));
    }
    let held = (|| -> io::Result<OwnedFd> {
        let mut byte = [0u8];
        if nix::unistd::read(&ready_r, &mut byte)? != 1 || byte[0] != 1 {
            return Err(io::Error::other(format!(
                "the {kind} namespace could not be made in the child"
            )));
        }
        then(pid)?;
        Ok(OwnedFd::from(std::fs::File::open(format!(
            "/proc/{pid}/ns/{kind}"
        ))?))
    })();
    drop(done_w);
    while let Err(nix::errno::Errno::EINTR) = nix::sys::wait::waitpid(child, None) {}
    held
}

/// How long PID 1 waits for [`hold_child_namespace`]'s child (milliseconds).
const HOLD_NAMESPACE_WAIT_MS: u16 = 1000;

/// unshare(`flags`) (CLONE_NEWNET, CLONE_NEWIPC); in a new network namespace, bring the
/// loopback device up (SIOCGIFFLAGS, SIOCSIFFLAGS on an AF_INET datagram socket), as
/// systemd's loopback_setup() does. Async-signal-safe: unshare, socket, ioctl, close, on a
/// stack buffer.
fn enter_namespaces(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: plain system calls; `ifr` is a zeroed ifreq on this frame, valid for both
    // ioctls, and the socket is closed on every path.
    unsafe {
        if libc::unshare(flags) < 0 {
            return Err(io::Error::last_os_error());
        }
        if flags & libc::CLONE_NEWNET == 0 {
            return Ok(());
        }
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut ifr: libc::ifreq = std::mem::zeroed();
        for (slot, byte) in ifr.ifr_name.iter_mut().zip(b"lo\0") {
            *slot = *byte as libc::c_char;
        }
        let up = libc::ioctl(fd, libc::SIOCGIFFLAGS as _, &raw mut ifr) >= 0 && {
            // IFF_UP is 1: it fits the short the kernel keeps the flags in.
            ifr.ifr_ifru.ifru_flags |= libc::c_short::try_from(libc::IFF_UP).unwrap_or(1);
            libc::ioctl(fd, libc::SIOCSIFFLAGS as _, &raw mut ifr) >= 0
        };
        let err = io::Error::last_os_error();
        libc::close(fd);
        if up { Ok(()) } else { Err(err) }
    }
}

/// `/proc/PID/NAME` and a NUL into `buf` (48 bytes hold any pid and either map's name). No
/// allocation.
fn proc_path(buf: &mut [u8; 48], pid: libc::pid_t, name: &[u8]) {
    let mut len = 0;
    for &b in b"/proc/" {
        buf[len] = b;
        len += 1;
    }
    let mut digits = [0u8; 12];
    let mut n = u32::try_from(pid).unwrap_or(0);
    let mut count = 0;
    loop {
        digits[count] = b'0' + (n % 10) as u8;
        count += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    while count > 0 {
        count -= 1;
        buf[len] = digits[count];
        len += 1;
    }
    buf[len] = b'/';
    len += 1;
    for &b in name.iter().take(buf.len() - len - 1) {
        buf[len] = b;
        len += 1;
    }
    buf[len] = 0;
}

/// Run `f` in a forked child PID 1 does not wait for (its exit is reaped as an orphan's is),
/// for work that may take long and must not hold PID 1's loop: removing a tree a service
/// filled. The child closes every descriptor but standard input first (it must keep no
/// socket of PID 1's alive) and may allocate: PID 1 has a single thread, so no lock is held
/// across the fork. The child's pid, or the fork's error (the caller then does the work
/// itself).
pub fn run_detached(f: &dyn Fn()) -> io::Result<i32> {
    // SAFETY: PID 1 has a single thread (STYLE.md: fork stays sound); the child runs `f`
    // and leaves with _exit, which never returns and runs no destructor of the parent's.
    let pid = unsafe { libc::fork() };
    match pid {
        p if p < 0 => Err(io::Error::last_os_error()),
        0 => {
            close_all_but(0);
            f();
            // SAFETY: as above.
            unsafe { libc::_exit(0) }
        }
        p => Ok(p),
    }
}

/// Run `f` in a forked child and wait for it: its exit code (128 + N when killed by N). For
/// probes PID 1 must not make on itself (unshare); `f` must only make async-signal-safe calls.
pub fn run_forked(f: &dyn Fn() -> i32) -> io::Result<i32> {
    // SAFETY: PID 1 has a single thread (STYLE.md: fork stays sound); the child runs `f`,
    // which makes async-signal-safe calls only, and leaves with _exit, which never returns.
    let pid = unsafe { libc::fork() };
    match pid {
        p if p < 0 => return Err(io::Error::last_os_error()),
        // SAFETY: as above.
        0 => unsafe { libc::_exit(f()) },
        _ => {}
    }
    use nix::sys::wait::{WaitStatus, waitpid};
    loop {
        match waitpid(nix::unistd::Pid::from_raw(pid), None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(code),
            Ok(WaitStatus::Signaled(_, signal, _)) => return Ok(128 + signal as i32),
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Move the calling process into the cgroup whose `cgroup.procs` is `procs` ("0" names the
/// writer).
fn join_cgroup(procs: &std::ffi::CStr) -> io::Result<()> {
    write_file(procs, b"0")
}

/// Write `data` to the existing file `path` in one write. Async-signal-safe: open, write and
/// close only, on a path and data prepared before fork.
fn write_file(path: &std::ffi::CStr, data: &[u8]) -> io::Result<()> {
    // SAFETY: `path` is a valid NUL-terminated string and `data` a live slice, both owned by
    // the caller for the whole call; open/write/close are async-signal-safe.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let written = libc::write(fd, data.as_ptr().cast(), data.len());
        let err = io::Error::last_os_error();
        libc::close(fd);
        if usize::try_from(written).ok() != Some(data.len()) {
            return Err(err);
        }
    }
    Ok(())
}

/// A process left between PID 1 and a command whose daemons leave it (Type=forking without a
/// delegated cgroup: a daemon that forks, calls setsid() and clears its environment, as
/// postfix's master does, is otherwise known to no one once it is reparented). The child
/// forks once more: the new process runs the command; the first stays behind as a child
/// subreaper, so that every process the command leaves behind, however it detached, is
/// reparented to it instead of to PID 1, and it reaps them. It reports the command's pid on
/// `started`, then every status it collects on `report` as a [`KeeperRecord`], and exits when
/// it has no child left. Everything below it is the unit's, as a cgroup would hold it.
#[derive(Debug)]
pub struct Keeper {
    /// A duplicate of PID 1's keeper socket (datagram, close-on-exec): where statuses go.
    pub report: OwnedFd,
    /// The write end of a pipe (close-on-exec) the command's pid is written to, once.
    pub started: OwnedFd,
}

/// One status a keeper collected: (the child's pid, its raw wait status), as two
/// native-endian i32 in one datagram.
pub type KeeperRecord = [i32; 2];

/// The size of a [`KeeperRecord`] on the wire.
pub const KEEPER_RECORD_LEN: usize = 8;

/// In the forked child: become a subreaper and fork; the command's process returns, the keeper
/// runs [`keep`] and never returns.
fn become_keeper(keeper: &Keeper) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: prctl with integer arguments only; async-signal-safe system call.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fork in a forked child that has a single thread; both sides only make
    // async-signal-safe calls afterwards (the command's process goes on with this hook, the
    // keeper runs `keep`, which allocates nothing).
    let pid = unsafe { libc::fork() };
    match pid {
        p if p < 0 => Err(io::Error::last_os_error()),
        // The command's process: the subreaper flag is not inherited; the keeper's two
        // descriptors are close-on-exec.
        0 => Ok(()),
        child => keep(keeper.report.as_raw_fd(), keeper.started.as_raw_fd(), child),
    }
}

/// The keeper's life: say the command's pid, let go of everything else, reap and report.
fn keep(report: std::os::fd::RawFd, started: std::os::fd::RawFd, child: i32) -> ! {
    // SAFETY: every call below is an async-signal-safe system call on integers, on buffers
    // living on this frame, or on static NUL-terminated strings; nothing allocates.
    unsafe {
        libc::prctl(libc::PR_SET_NAME, c"bosun-keeper".as_ptr(), 0, 0, 0);
        // Signals are not for the keeper: the unit's processes are signalled one by one, and
        // only SIGKILL (the final sweep) ends it before its children.
        let mut all = std::mem::MaybeUninit::<libc::sigset_t>::zeroed();
        libc::sigfillset(all.as_mut_ptr());
        libc::sigprocmask(libc::SIG_SETMASK, all.as_ptr(), std::ptr::null_mut());
        let pid = child.to_ne_bytes();
        libc::write(started, pid.as_ptr().cast(), pid.len());
        libc::chdir(c"/".as_ptr());
        // Nothing of the command's is held open here (its streams' readers see EOF when the
        // command's processes close theirs), nor any of PID 1's.
        close_all_but(report);
        loop {
            let mut status: libc::c_int = 0;
            let pid = libc::waitpid(-1, &raw mut status, libc::__WALL);
            if pid > 0 {
                let record: KeeperRecord = [pid, status];
                let mut bytes = [0u8; KEEPER_RECORD_LEN];
                for (chunk, value) in bytes.chunks_exact_mut(4).zip(record) {
                    chunk.copy_from_slice(&value.to_ne_bytes());
                }
                // Blocks while PID 1's queue is full; PID 1 gone: nothing left to tell.
                libc::send(
                    report,
                    bytes.as_ptr().cast(),
                    bytes.len(),
                    libc::MSG_NOSIGNAL,
                );
            } else if *libc::__errno_location() != libc::EINTR {
                // ECHILD: nothing below the keeper any more.
                libc::_exit(0);
            }
        }
    }
}

/// Close every descriptor but `keep` (close_range(2), or one by one where it is missing).
fn close_all_but(keep: std::os::fd::RawFd) {
    let keep = u32::try_from(keep).unwrap_or(0);
    // SAFETY: close_range and close take integers; closing descriptors this process will
    // never use again is sound (the keeper uses `keep` alone from here on).
    unsafe {
        let below = keep == 0 || libc::syscall(libc::SYS_close_range, 0_u32, keep - 1, 0_u32) == 0;
        let above = libc::syscall(libc::SYS_close_range, keep + 1, u32::MAX, 0_u32) == 0;
        if !(below && above) {
            for fd in 0..65_536_i32 {
                if fd != keep as i32 {
                    libc::close(fd);
                }
            }
        }
    }
}

/// Decode a raw wait status into what [`reap_one`] reports for `pid`.
pub fn decode_wait_status(pid: i32, status: libc::c_int) -> Reaped {
    if libc::WIFEXITED(status) {
        Reaped::Exited {
            pid,
            code: libc::WEXITSTATUS(status),
        }
    } else if libc::WIFSIGNALED(status) {
        Reaped::Signaled {
            pid,
            signo: libc::WTERMSIG(status),
        }
    } else {
        Reaped::Other
    }
}

/// Set `signo`'s disposition to `handler` (SIG_DFL or SIG_IGN only), with no flags and an
/// empty mask. Errors are ignored: the caller runs in a forked child where there is no one to
/// report to.
///
/// This calls rt_sigaction directly: the C libraries' `sigaction` refuses the real-time signals
/// they reserve (32 and 33 in glibc, 32 to 34 in musl) with EINVAL, so a parent that ignored
/// them would pass that on to every service. The kernel's `struct sigaction` is {handler,
/// flags, restorer, mask} on x86_64 and a prefix of that elsewhere; all-zero but the handler
/// means no flags, no restorer, empty mask on every 64-bit Linux.
fn set_disposition(signo: i32, handler: libc::sighandler_t) {
    let action: [u64; 4] = [handler as u64, 0, 0, 0];
    // SAFETY: `action` is a valid, initialised kernel sigaction living for the whole call; the
    // old-action pointer is null; the mask size is the kernel's 8 bytes. With SIG_DFL or
    // SIG_IGN no code of ours is installed as a handler. The raw syscall is async-signal-safe.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigaction,
            libc::c_long::from(signo),
            action.as_ptr(),
            std::ptr::null_mut::<libc::c_void>(),
            8_usize,
        );
    }
}

/// Let SIGPIPE end this process, as it ends any C program (systemctl 252 dies of it, quietly,
/// when its reader goes away): for the command-line personalities, whose output is their
/// product. Rust's runtime ignores SIGPIPE, which turns a closed pipe into EPIPE and every
/// `println!` after it into a panic. Never for PID 1 or a server.
pub fn die_on_sigpipe() {
    set_disposition(libc::SIGPIPE, libc::SIG_DFL);
}

/// Whether signal `signo` is pending for this process: sent, blocked, and not yet read from the
/// signalfd. Long work outside the event loop (seeding the volume) asks this to stop in time.
pub fn signal_pending(signo: i32) -> bool {
    let mut set = std::mem::MaybeUninit::<libc::sigset_t>::zeroed();
    // SAFETY: sigpending writes one sigset_t through the pointer, which points to a zeroed,
    // properly aligned sigset_t that we own for the whole call.
    if unsafe { libc::sigpending(set.as_mut_ptr()) } != 0 {
        return false;
    }
    // SAFETY: an all-zero sigset_t is a valid (empty) set and sigpending filled it in; the
    // value is only read from here on.
    let set = unsafe { set.assume_init() };
    // SAFETY: sigismember only reads the set it is given a valid reference to.
    unsafe { libc::sigismember(&raw const set, signo) == 1 }
}

/// Send signal number `signo` (1..=64, real-time signals included) to `pid`; a negative `pid`
/// names a process group, -1 every process we may signal.
pub fn send_signal(pid: i32, signo: i32) -> io::Result<()> {
    // SAFETY: kill takes two integers and no pointers; it has no memory-safety preconditions.
    let rc = unsafe { libc::kill(pid, signo) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// One child collected by [`reap_one`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaped {
    /// `pid` called exit with `code`.
    Exited { pid: i32, code: i32 },
    /// `pid` was killed by signal `signo` (a real-time one too).
    Signaled { pid: i32, signo: i32 },
    /// A child changed state in a way not asked for (stopped, continued): nothing collected.
    Other,
    /// Children exist, none has ended.
    NoneEnded,
}

impl Reaped {
    /// The process that ended and how; None when nothing ended.
    pub fn ended(self) -> Option<(i32, crate::vocab::termination::Termination)> {
        use crate::vocab::termination::Termination;
        match self {
            Reaped::Exited { pid, code } => Some((pid, Termination::Exited(code))),
            Reaped::Signaled { pid, signo } => Some((pid, Termination::Signaled(signo))),
            Reaped::Other | Reaped::NoneEnded => None,
        }
    }
}

/// `waitpid(-1, WNOHANG)` with the status decoded here: nix's `WaitStatus` cannot name a death
/// by a real-time signal and fails with EINVAL after the child was already reaped, which would
/// lose its status (a main command killed by a forwarded SIGRTMIN+3).
pub fn reap_one() -> Result<Reaped, nix::errno::Errno> {
    let mut status: libc::c_int = 0;
    // SAFETY: waitpid writes one int through the pointer, which points to a live, aligned
    // c_int owned by this frame for the whole call.
    let pid = unsafe { libc::waitpid(-1, &raw mut status, libc::WNOHANG) };
    if pid < 0 {
        return Err(nix::errno::Errno::last());
    }
    if pid == 0 {
        return Ok(Reaped::NoneEnded);
    }
    Ok(decode_wait_status(pid, status))
}

/// Descriptor owners whose `as_fd` returns the same open descriptor for as long as they live:
/// they own it and offer no way to replace or close it. Only such owners may be registered with
/// the event loop ([`register`]).
pub trait StableFd: std::os::fd::AsFd + sealed::Sealed {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for nix::sys::signalfd::SignalFd {}
    impl Sealed for std::os::fd::OwnedFd {}
    impl Sealed for std::os::fd::BorrowedFd<'_> {}
}

impl StableFd for nix::sys::signalfd::SignalFd {}
impl StableFd for std::os::fd::OwnedFd {}
/// The borrow keeps the descriptor open, and its owner cannot close it, for as long as the
/// registration (which holds the borrow) lives.
impl StableFd for std::os::fd::BorrowedFd<'_> {}

/// A [`StableFd`] as tokio's reactor sees it. Gives shared access only, so the descriptor
/// cannot be swapped while registered.
#[derive(Debug)]
pub struct Registered<T: StableFd>(T);

impl<T: StableFd> Registered<T> {
    /// The owner inside.
    pub fn get(&self) -> &T {
        &self.0
    }
}

impl<T: StableFd> std::os::fd::AsRawFd for Registered<T> {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

/// Register `owner`'s descriptor with the current tokio runtime's reactor.
pub fn register<T: StableFd>(owner: T) -> io::Result<tokio::io::unix::AsyncFd<Registered<T>>> {
    // SAFETY: tokio requires the descriptor to stay open and the same for the AsyncFd's life.
    // `T: StableFd` owns its descriptor and cannot replace or close it, and `Registered` hands
    // out only `&T`, so the descriptor lives exactly as long as the AsyncFd that owns it.
    unsafe { tokio::io::unix::AsyncFd::register(Registered(owner)) }.map_err(io::Error::from)
}

/// Close a descriptor received with SCM_RIGHTS that we do not keep.
pub fn close_received(fd: std::os::fd::RawFd) {
    drop(take_received(fd));
}

/// Own a descriptor received with SCM_RIGHTS.
pub fn take_received(fd: std::os::fd::RawFd) -> OwnedFd {
    // SAFETY: the kernel just installed `fd` in our table for this message and nothing else
    // refers to it; the OwnedFd is its one owner and closes it exactly once.
    unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) }
}

/// Accept a connection on the listening socket `listener`, non-blocking and close-on-exec.
pub fn accept(listener: std::os::fd::BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let raw = nix::sys::socket::accept4(
        std::os::fd::AsRawFd::as_raw_fd(&listener),
        nix::sys::socket::SockFlag::SOCK_CLOEXEC | nix::sys::socket::SockFlag::SOCK_NONBLOCK,
    )?;
    // SAFETY: accept4 just returned this descriptor; nothing else owns or will close it.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) })
}

/// A System V IPC object kind, for [`remove_sysv_ipc`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SysvIpc {
    SharedMemory,
    Semaphores,
    MessageQueue,
}

/// Remove the System V IPC object `id` of `kind` (IPC_RMID).
pub fn remove_sysv_ipc(kind: SysvIpc, id: i32) -> io::Result<()> {
    // SAFETY: IPC_RMID takes no buffer: the pointer arguments are null, which the kernel
    // accepts for this command; the calls touch no memory of ours.
    let r = unsafe {
        match kind {
            SysvIpc::SharedMemory => libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()),
            SysvIpc::Semaphores => libc::semctl(id, 0, libc::IPC_RMID),
            SysvIpc::MessageQueue => libc::msgctl(id, libc::IPC_RMID, std::ptr::null_mut()),
        }
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Bytes a client may take from [`ALLOCATOR`]'s arena before it asks musl's allocator.
const ARENA_BYTES: usize = 8 << 20;

/// The memory of the arena: zero-filled .bss, so a page costs nothing until it is touched.
struct ArenaBytes(std::cell::UnsafeCell<[u8; ARENA_BYTES]>);

// SAFETY: the arena's bytes are handed out in disjoint ranges by a compare-and-swap on
// `Allocator::next`; no byte is ever given to two owners, so threads never share one.
unsafe impl Sync for ArenaBytes {}

static ARENA: ArenaBytes = ArenaBytes(std::cell::UnsafeCell::new([0; ARENA_BYTES]));

/// bosun's global allocator. A process starts taking memory from an 8 MiB arena by bumping a
/// pointer and never giving it back (the process's end does); PID 1 and the other servers
/// call [`server_allocation`] as soon as they know what they are, and musl's allocator serves
/// them from then on (the arena keeps the few hundred bytes they took before). The
/// command-line clients (`systemctl`, `initctl`, `journalctl`) stay on the arena: a client
/// lives for a millisecond, and musl's allocator spent about a quarter of that setting itself
/// up, finding slots, and mapping and unmapping the pages of the answer's buffers as they grew
/// and were freed. Past the arena, musl's allocator serves them too.
#[derive(Debug)]
pub struct Allocator {
    /// Whether the arena serves new allocations.
    on: std::sync::atomic::AtomicBool,
    /// The arena's first free byte, as an offset.
    next: std::sync::atomic::AtomicUsize,
}

/// The allocator of every bosun process (off in this crate's unit tests, whose own test of the
/// arena has it to itself).
#[global_allocator]
pub static ALLOCATOR: Allocator = Allocator {
    on: std::sync::atomic::AtomicBool::new(!cfg!(test)),
    next: std::sync::atomic::AtomicUsize::new(0),
};

/// Serve this process's allocations from musl's allocator from now on: for PID 1 and every
/// process that may run for long.
pub fn server_allocation() {
    ALLOCATOR
        .on
        .store(false, std::sync::atomic::Ordering::Relaxed);
}

impl Allocator {
    fn base() -> *mut u8 {
        ARENA.0.get().cast::<u8>()
    }

    /// Whether `ptr` came from the arena.
    fn holds(ptr: *mut u8) -> bool {
        let (base, at) = (Self::base() as usize, ptr as usize);
        at >= base && at < base + ARENA_BYTES
    }

    /// `size` bytes aligned to `align` from the arena, or `None` when it is off or full.
    fn bump(&self, size: usize, align: usize) -> Option<*mut u8> {
        use std::sync::atomic::Ordering::Relaxed;
        if !self.on.load(Relaxed) {
            return None;
        }
        let base = Self::base() as usize;
        let mut start = 0;
        self.next
            .fetch_update(Relaxed, Relaxed, |next| {
                start = (base + next).checked_next_multiple_of(align)? - base;
                let end = start.checked_add(size)?;
                (end <= ARENA_BYTES).then_some(end)
            })
            .ok()?;
        Some(Self::base().wrapping_add(start))
    }
}

// SAFETY: every pointer returned is either musl's (System's, freed and resized only by System)
// or a range of the arena that `bump` gave to this allocation alone, aligned as asked and
// `size` bytes long within the arena; arena memory is never reused, so it is zero until its
// one owner writes it (hence `alloc_zeroed` needs no memset), and freeing it is a no-op.
unsafe impl std::alloc::GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        match self.bump(layout.size(), layout.align()) {
            Some(ptr) => ptr,
            // SAFETY: the caller's layout contract passes through unchanged.
            None => unsafe { std::alloc::System.alloc(layout) },
        }
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        match self.bump(layout.size(), layout.align()) {
            Some(ptr) => ptr,
            // SAFETY: as in `alloc`.
            None => unsafe { std::alloc::System.alloc_zeroed(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        if !Self::holds(ptr) {
            // SAFETY: not the arena's, so System allocated it with this layout.
            unsafe { std::alloc::System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        use std::sync::atomic::Ordering::Relaxed;
        if !Self::holds(ptr) {
            // SAFETY: not the arena's, so System allocated it with this layout.
            return unsafe { std::alloc::System.realloc(ptr, layout, new_size) };
        }
        let start = ptr as usize - Self::base() as usize;
        let end = start + layout.size();
        if new_size <= layout.size() {
            return ptr;
        }
        // The arena's last allocation grows where it is.
        if start + new_size <= ARENA_BYTES
            && self
                .next
                .compare_exchange(end, start + new_size, Relaxed, Relaxed)
                .is_ok()
        {
            return ptr;
        }
        let Ok(new_layout) = std::alloc::Layout::from_size_align(new_size, layout.align()) else {
            return std::ptr::null_mut();
        };
        // SAFETY: a valid layout of a non-zero size (it exceeds `layout.size()`).
        let moved = unsafe { self.alloc(new_layout) };
        if !moved.is_null() {
            // SAFETY: the old block is `layout.size()` bytes, the new one larger, and they do
            // not overlap (the new one is elsewhere in the arena or System's).
            unsafe { std::ptr::copy_nonoverlapping(ptr, moved, layout.size()) };
        }
        moved
    }
}

#[cfg(test)]
mod arena_tests {
    use std::alloc::{GlobalAlloc, Layout};

    use super::{ARENA_BYTES, Allocator};

    #[test]
    fn the_arena_bumps_grows_its_last_block_in_place_and_hands_over_to_musl_when_full() {
        // A second allocator over the same arena: this test binary's global one never serves
        // from it (it starts off under cfg(test)), so its memory is this test's alone.
        let arena = Allocator {
            on: std::sync::atomic::AtomicBool::new(true),
            next: std::sync::atomic::AtomicUsize::new(0),
        };
        let layout = |size, align| Layout::from_size_align(size, align).unwrap();
        // SAFETY: every layout is non-zero; each block is used within its size and freed once
        // by the allocator that made it.
        unsafe {
            let a = arena.alloc_zeroed(layout(100, 8));
            assert!(Allocator::holds(a) && (a as usize).is_multiple_of(8));
            assert!(std::slice::from_raw_parts(a, 100).iter().all(|&b| b == 0));
            a.write_bytes(7, 100);
            let page = arena.alloc(layout(10, 4096));
            assert!(Allocator::holds(page) && (page as usize).is_multiple_of(4096));
            // The last block grows where it is; an earlier one moves, its bytes with it.
            page.write_bytes(9, 10);
            assert_eq!(arena.realloc(page, layout(10, 4096), 5000), page);
            let moved = arena.realloc(a, layout(100, 8), 200);
            assert!(moved != a && Allocator::holds(moved));
            assert!(
                std::slice::from_raw_parts(moved, 100)
                    .iter()
                    .all(|&b| b == 7)
            );
            assert!(
                std::slice::from_raw_parts(moved.add(100), 100)
                    .iter()
                    .all(|&b| b == 0)
            );
            // Freeing arena memory is a no-op; nothing is handed out twice.
            arena.dealloc(moved, layout(200, 8));
            let next = arena.alloc(layout(1, 1));
            assert!(next > moved);
            // Too large for what is left: musl's, and so is a block that grows past the end.
            let big = arena.alloc(layout(ARENA_BYTES, 16));
            assert!(!big.is_null() && !Allocator::holds(big));
            arena.dealloc(big, layout(ARENA_BYTES, 16));
            next.write(3);
            let out = arena.realloc(next, layout(1, 1), ARENA_BYTES);
            assert!(!Allocator::holds(out) && out.read() == 3);
            arena.dealloc(out, layout(ARENA_BYTES, 1));
            // Off, it is musl's from the start.
            arena.on.store(false, std::sync::atomic::Ordering::Relaxed);
            let off = arena.alloc(layout(8, 8));
            assert!(!Allocator::holds(off));
            arena.dealloc(off, layout(8, 8));
        }
    }
}
