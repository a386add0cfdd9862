//! Signals reach PID 1 in exactly one place: every catchable signal except the synchronous
//! faults is blocked before anything else runs and read from one non-blocking `signalfd` inside
//! the event loop. Blocked signals are queued even for a namespace's PID 1, whose unhandled
//! default-action signals the kernel would otherwise drop (signal(7), pid_namespaces(7)).
//! This module must not decide what a signal means; [`crate::init`] does. Names and parsing
//! are the leaf vocabulary's ([`crate::vocab::signal`]).

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
