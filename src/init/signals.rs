//! Signals reach PID 1 in exactly one place: every catchable signal except the synchronous
//! faults is blocked before anything else runs and read from one non-blocking `signalfd` inside
//! the event loop. Blocked signals are queued even for a namespace's PID 1, whose unhandled
//! default-action signals the kernel would otherwise drop (signal(7), pid_namespaces(7)).
//! This module must not decide what a signal means; [`crate::init`] does.

use std::io;
use std::os::fd::AsRawFd;

use nix::errno::Errno;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use tokio::io::unix::AsyncFd;

use crate::sys::Registered;

/// Fault signals are about bosun's own code: leave them unblocked so a bug crashes loudly
/// instead of being read as a message (tini does the same).
const SYNCHRONOUS: [Signal; 7] = [
    Signal::SIGFPE,
    Signal::SIGILL,
    Signal::SIGSEGV,
    Signal::SIGBUS,
    Signal::SIGABRT,
    Signal::SIGTRAP,
    Signal::SIGSYS,
];

/// The first real-time signal as systemd, glibc and Go number them: the kernel's 32 plus the
/// two that glibc and Go keep for themselves. `SIGRTMIN+3` (systemd's halt, podman's stop
/// signal for a `--systemd` container) is 37. musl's `SIGRTMIN()` is 35, so the number is
/// fixed here rather than asked of the C library (bosun's release build is static musl).
pub const SIGRTMIN: i32 = 34;

/// The last real-time signal (the kernel's _NSIG - 1).
pub const SIGRTMAX: i32 = crate::sys::MAX_SIGNAL;

/// One signal as read from the signalfd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// The signal number, 1..=64 (real-time signals included).
    pub signo: i32,
    /// The sending process as seen from our PID namespace (0 when sent by the kernel or from an
    /// ancestor namespace).
    pub sender: i32,
}

/// Block every catchable, non-synchronous signal in this thread. Must run before any thread is
/// started and before the first child is spawned.
pub fn block_all() -> Result<SigSet, Errno> {
    let mut set = SigSet::all();
    for signal in SYNCHRONOUS {
        set.remove(signal);
    }
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&set), None)?;
    Ok(set)
}

/// The blocked signals, as an async stream for the event loop.
pub struct SignalStream {
    fd: AsyncFd<Registered<SignalFd>>,
}

impl std::fmt::Debug for SignalStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalStream")
            .field("fd", &self.fd.get_ref().as_raw_fd())
            .finish()
    }
}

impl SignalStream {
    /// Open a signalfd for `set`. Needs a running tokio runtime with I/O enabled.
    pub fn open(set: &SigSet) -> io::Result<Self> {
        let fd = SignalFd::with_flags(set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
        Ok(Self {
            fd: crate::sys::register(fd)?,
        })
    }

    /// Wait for the next signal.
    pub async fn next(&mut self) -> io::Result<Delivery> {
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.get_inner().get().read_signal() {
                Ok(Some(info)) => {
                    return Ok(Delivery {
                        signo: i32::try_from(info.ssi_signo).unwrap_or(0),
                        sender: i32::try_from(info.ssi_pid).unwrap_or(0),
                    });
                }
                Ok(None) => guard.clear_ready(),
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// A signal's conventional name (`SIGTERM`, `SIGRTMIN+3`), for messages.
pub fn name(signo: i32) -> String {
    match Signal::try_from(signo) {
        Ok(signal) => signal.as_str().to_owned(),
        Err(_) => {
            if (SIGRTMIN..=SIGRTMAX).contains(&signo) {
                format!("SIGRTMIN+{}", signo - SIGRTMIN)
            } else {
                format!("signal {signo}")
            }
        }
    }
}

/// Parse a signal given as a number (`15`), a name (`TERM`, `SIGTERM`, `sigterm`) or a
/// real-time name (`RTMIN+3`, `SIGRTMAX-1`).
pub fn parse(text: &str) -> Option<i32> {
    let text = text.trim();
    if let Ok(n) = text.parse::<i32>() {
        return (1..=crate::sys::MAX_SIGNAL).contains(&n).then_some(n);
    }
    let upper = text.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    let rt = |base: i32, rest: &str, sign: i32| -> Option<i32> {
        let offset = if rest.is_empty() {
            0
        } else {
            rest.parse::<i32>().ok()?
        };
        let n = base + sign * offset;
        (SIGRTMIN..=SIGRTMAX).contains(&n).then_some(n)
    };
    if let Some(rest) = bare.strip_prefix("RTMIN") {
        return rt(SIGRTMIN, rest.strip_prefix('+').unwrap_or(rest), 1);
    }
    if let Some(rest) = bare.strip_prefix("RTMAX") {
        return rt(SIGRTMAX, rest.strip_prefix('-').unwrap_or(rest), -1);
    }
    format!("SIG{bare}")
        .parse::<Signal>()
        .ok()
        .map(|s| s as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_numbers_and_realtime() {
        assert_eq!(parse("15"), Some(15));
        assert_eq!(parse("TERM"), Some(libc::SIGTERM));
        assert_eq!(parse("sigusr1"), Some(libc::SIGUSR1));
        assert_eq!(parse("SIGWINCH"), Some(libc::SIGWINCH));
        // systemd's numbering, whatever the C library says (musl's SIGRTMIN() is 35).
        assert_eq!(parse("RTMIN+3"), Some(37));
        assert_eq!(parse("SIGRTMIN+13"), Some(47));
        assert_eq!(parse("SIGRTMAX-1"), Some(63));
        assert_eq!(parse("0"), None);
        assert_eq!(parse("65"), None);
        assert_eq!(parse("NOPE"), None);
        assert_eq!(parse("RTMIN+99"), None);
    }

    #[test]
    fn names_round_trip() {
        assert_eq!(name(libc::SIGTERM), "SIGTERM");
        assert_eq!(name(37), "SIGRTMIN+3");
        assert_eq!(name(64), "SIGRTMIN+30");
        for n in 1..=crate::sys::MAX_SIGNAL {
            let nm = name(n);
            if !nm.starts_with("signal ") {
                assert_eq!(parse(&nm), Some(n), "{nm}");
            }
        }
    }
}
