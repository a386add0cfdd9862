//! The only file allowed to contain `unsafe`. Each block names the invariant that makes it
//! sound. What lives here: the pre-exec set-up of a child (runs between fork and exec, so it may
//! only make async-signal-safe calls and must not allocate) and raw signal delivery for signal
//! numbers that `nix::sys::signal::Signal` cannot name (the real-time ones).
#![allow(unsafe_code)]

use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// The highest signal number on Linux (`_NSIG - 1`).
pub const MAX_SIGNAL: i32 = 64;

/// Arrange for `cmd`'s child to start with default dispositions for every signal and an empty
/// signal mask, and — when `take_terminal` is set and its stdin is a terminal — as the
/// terminal's foreground process group, so Ctrl-C and job control reach it (`docker run -it`).
///
/// The child must already be its own process-group leader (`Command::process_group(0)`, which
/// std applies before this hook runs).
pub fn prepare_child(cmd: &mut Command, take_terminal: bool) {
    let hook = move || -> io::Result<()> {
        if take_terminal {
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
                // EINVAL for the two real-time signals the C library reserves is expected.
                set_disposition(signo, libc::SIG_DFL);
            }
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
        Ok(())
    };
    // SAFETY: the hook makes only async-signal-safe calls (sigaction, sigemptyset, sigprocmask,
    // getpgrp, tcsetpgrp), allocates nothing and touches no lock, so it is sound to run in the
    // forked child even if the parent had other threads.
    unsafe {
        cmd.pre_exec(hook);
    }
}

/// Set `signo`'s disposition to `handler` (SIG_DFL or SIG_IGN only). Errors are ignored: the
/// caller runs in a forked child where there is no one to report to.
fn set_disposition(signo: i32, handler: libc::sighandler_t) {
    // SAFETY: `action` is fully initialised (zeroed, then the handler set to SIG_DFL or SIG_IGN,
    // which are not function pointers to run), and sigaction is async-signal-safe.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(signo, &action, std::ptr::null_mut());
    }
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

/// Descriptor owners whose `as_fd` returns the same open descriptor for as long as they live:
/// they own it and offer no way to replace or close it. Only such owners may be registered with
/// the event loop ([`register`]).
pub trait StableFd: std::os::fd::AsFd + sealed::Sealed {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for nix::sys::signalfd::SignalFd {}
    impl Sealed for std::os::fd::OwnedFd {}
}

impl StableFd for nix::sys::signalfd::SignalFd {}
impl StableFd for std::os::fd::OwnedFd {}

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
pub fn register<T: StableFd>(
    owner: T,
) -> io::Result<tokio::io::unix::AsyncFd<Registered<T>>> {
    // SAFETY: tokio requires the descriptor to stay open and the same for the AsyncFd's life.
    // `T: StableFd` owns its descriptor and cannot replace or close it, and `Registered` hands
    // out only `&T`, so the descriptor lives exactly as long as the AsyncFd that owns it.
    unsafe { tokio::io::unix::AsyncFd::register(Registered(owner)) }.map_err(io::Error::from)
}
