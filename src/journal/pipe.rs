//! Service output on its way into the journal: the read end of a process's stdout or stderr
//! pipe ([`Pipe`], handed over by whoever spawned it: the engine for services, the hook runner
//! for hooks), read to its end in a small task on PID 1's thread ([`read_pipe`]) and cut into
//! bounded lines ([`super::line`]) sent to the loop as [`Line`]s. Must not block (the fd is
//! non-blocking and registered with the reactor) nor store or print a line (the loop hands it
//! to [`super::ring`] and [`super::format`]).

use std::os::fd::OwnedFd;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::line::LineSplitter;
use super::policy::LogPolicy;
use super::ring::Stream;

/// A log pipe of a spawned process, for the event loop to read.
#[derive(Debug)]
pub struct Pipe {
    pub unit: String,
    /// How the unit's lines are shaped and limited; None for lines of no unit (a hook's).
    pub policy: Option<Arc<LogPolicy>>,
    /// The identifier of its lines (SyslogIdentifier=, else the executable's name).
    pub identifier: Option<Arc<str>>,
    pub pid: i32,
    pub stream: Stream,
    pub fd: OwnedFd,
}

/// One line of a service's (or a volume hook's) output, from its pipe reader.
#[derive(Debug)]
pub struct Line {
    pub unit: String,
    /// As [`Pipe::policy`].
    pub policy: Option<Arc<LogPolicy>>,
    /// As [`Pipe::identifier`].
    pub identifier: Option<Arc<str>>,
    pub pid: i32,
    pub stream: Stream,
    pub bytes: Vec<u8>,
    pub truncated: bool,
    /// No line: the pipe reached its end (sent by readers that wait for it, such as hooks').
    pub end: bool,
}

/// Read one pipe to its end, line by line, into the loop's channel.
pub async fn read_pipe(pipe: Pipe, lines: mpsc::Sender<Line>) {
    let Pipe {
        unit,
        policy,
        identifier,
        pid,
        stream,
        fd,
    } = pipe;
    let from = From {
        unit,
        policy,
        identifier,
        pid,
        stream,
    };
    if nix::fcntl::fcntl(
        &fd,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    )
    .is_err()
    {
        return;
    }
    let Ok(fd) = crate::sys::register(fd) else {
        return;
    };
    let mut splitter = LineSplitter::default();
    let mut pending: Vec<(Vec<u8>, bool)> = Vec::new();
    loop {
        let Ok(mut guard) = fd.readable().await else {
            break;
        };
        // Read and split with the thread's one buffer; the lines are sent after.
        let read = super::scratch::with(|buf| {
            let read = nix::unistd::read(guard.get_inner().get(), buf);
            match read {
                Ok(0) => splitter.finish(|l| pending.push((l.bytes, l.truncated))),
                Ok(n) => splitter.feed(&buf[..n], |l| pending.push((l.bytes, l.truncated))),
                Err(_) => {}
            }
            read
        });
        match read {
            Ok(0) => {
                send(&lines, &from, &mut pending).await;
                break;
            }
            Ok(_) => {
                if !send(&lines, &from, &mut pending).await {
                    break;
                }
            }
            Err(nix::errno::Errno::EAGAIN) => guard.clear_ready(),
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => break,
        }
    }
}

/// Where a pipe's lines come from.
struct From {
    unit: String,
    policy: Option<Arc<LogPolicy>>,
    identifier: Option<Arc<str>>,
    pid: i32,
    stream: Stream,
}

/// Send the completed lines; false when the loop has gone.
async fn send(lines: &mpsc::Sender<Line>, from: &From, pending: &mut Vec<(Vec<u8>, bool)>) -> bool {
    for (bytes, truncated) in pending.drain(..) {
        let line = Line {
            unit: from.unit.clone(),
            policy: from.policy.clone(),
            identifier: from.identifier.clone(),
            pid: from.pid,
            stream: from.stream,
            bytes,
            truncated,
            end: false,
        };
        if lines.send(line).await.is_err() {
            return false;
        }
    }
    true
}
