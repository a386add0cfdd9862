//! PID 1's stdout, written without ever blocking: if the container runtime stops reading its
//! log pipe, PID 1 must still reap, forward signals and stop services. Lines wait in a bounded
//! queue; when it is full, new lines are dropped and counted, and the count is reported once
//! the output drains (the lines stay in each unit's ring for `initctl logs`).
//!
//! Pipes, FIFOs and terminals are reopened through /proc/self/fd/1: a new open file
//! description, so O_NONBLOCK applies to bosun's writes only and never to services sharing the
//! original stdout. Sockets are written with MSG_DONTWAIT. Regular files never block and are
//! written as they are (reopening would start at offset 0).

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sys::socket::MsgFlags;
use nix::sys::stat::{Mode, SFlag, fstat};
use tokio::io::unix::AsyncFd;

use crate::sys::Registered;

/// Default bound of queued output.
pub const QUEUE_LIMIT: usize = 1 << 20;

#[derive(Debug)]
enum Sink {
    /// A regular file or a character device like /dev/null: writes do not block.
    Direct(OwnedFd),
    /// A pipe, FIFO or terminal reopened non-blocking.
    NonBlocking(AsyncFd<Registered<OwnedFd>>),
    /// A socket (journald stream, some runtimes): send with MSG_DONTWAIT.
    Socket(AsyncFd<Registered<OwnedFd>>),
}

/// The non-blocking writer.
#[derive(Debug)]
pub struct Output {
    sink: Sink,
    queue: VecDeque<Vec<u8>>,
    /// Bytes of the front line already written.
    offset: usize,
    queued: usize,
    limit: usize,
    dropped: u64,
}

impl Output {
    /// PID 1's stdout. Needs a running tokio runtime.
    pub fn stdout() -> io::Result<Output> {
        Self::from_fd(std::io::stdout().as_fd(), QUEUE_LIMIT)
    }

    /// Write to `fd` (duplicated or reopened; the caller keeps its own), queueing at most
    /// `limit` bytes.
    pub fn from_fd(fd: BorrowedFd<'_>, limit: usize) -> io::Result<Output> {
        let stat = fstat(fd)?;
        let kind = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT;
        let sink = if kind == SFlag::S_IFSOCK {
            Sink::Socket(crate::sys::register(fd.try_clone_to_owned()?)?)
        } else if kind == SFlag::S_IFIFO || kind == SFlag::S_IFCHR && is_tty(fd) {
            let path = format!("/proc/self/fd/{}", fd.as_raw_fd());
            match open(
                path.as_str(),
                OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC | OFlag::O_NOCTTY,
                Mode::empty(),
            ) {
                Ok(own) => Sink::NonBlocking(crate::sys::register(own)?),
                // No /proc (a bare scratch root): the shared description it must be; blocking
                // writes are then possible, which only /proc avoids safely.
                Err(_) => Sink::Direct(fd.try_clone_to_owned()?),
            }
        } else {
            Sink::Direct(fd.try_clone_to_owned()?)
        };
        Ok(Output {
            sink,
            queue: VecDeque::new(),
            offset: 0,
            queued: 0,
            limit,
            dropped: 0,
        })
    }

    /// Queue one line (newline included) and write what can be written now.
    pub fn push(&mut self, line: Vec<u8>) {
        if self.queued + line.len() > self.limit {
            self.dropped += 1;
            return;
        }
        self.queued += line.len();
        self.queue.push_back(line);
        self.flush();
    }

    /// Whether lines are waiting for the output to become writable.
    pub fn pending(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Lines dropped so far because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Wait until the output can take more, then write. Returns at once when nothing waits.
    pub async fn drain(&mut self) -> io::Result<()> {
        while self.pending() {
            match &self.sink {
                Sink::NonBlocking(fd) | Sink::Socket(fd) => {
                    let mut guard = fd.writable().await?;
                    guard.clear_ready();
                }
                Sink::Direct(_) => {}
            }
            self.flush();
            if matches!(self.sink, Sink::Direct(_)) {
                break;
            }
        }
        Ok(())
    }

    /// Write queued lines until the output would block.
    fn flush(&mut self) {
        while let Some(front) = self.queue.front() {
            let rest = &front[self.offset..];
            let written = match &self.sink {
                Sink::Direct(fd) => nix::unistd::write(fd, rest),
                Sink::NonBlocking(fd) => nix::unistd::write(fd.get_ref().get(), rest),
                Sink::Socket(fd) => nix::sys::socket::send(
                    fd.get_ref().get().as_raw_fd(),
                    rest,
                    MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL,
                ),
            };
            match written {
                Ok(n) if n == rest.len() => {
                    self.queued -= front.len();
                    self.queue.pop_front();
                    self.offset = 0;
                }
                Ok(n) => self.offset += n,
                Err(Errno::EAGAIN | Errno::EINTR) => return,
                // The reader is gone (EPIPE) or the output is broken: nothing can be shown;
                // drop what waits rather than hold it forever.
                Err(_) => {
                    self.dropped += u64::try_from(self.queue.len()).unwrap_or(u64::MAX);
                    self.queue.clear();
                    self.queued = 0;
                    self.offset = 0;
                    return;
                }
            }
            if self.queue.is_empty() && self.dropped > 0 {
                let note = format!(
                    "bosun: {} log line(s) dropped while stdout was not read; `initctl logs` \
                     still has them\n",
                    self.dropped
                );
                self.dropped = 0;
                self.queued += note.len();
                self.queue.push_back(note.into_bytes());
            }
        }
    }
}

fn is_tty(fd: BorrowedFd<'_>) -> bool {
    nix::unistd::isatty(fd).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn a_stuck_reader_never_blocks_and_drops_are_reported() {
        let (read, write) = nix::unistd::pipe().unwrap();
        let mut out = Output::from_fd(write.as_fd(), 256 * 1024).unwrap();
        drop(write); // our reopened description keeps the pipe's write side open
        let mut line = vec![b'x'; 1023];
        line.push(b'\n');
        // Far more than the pipe (64 KiB) and the queue (256 KiB) hold: must return at once.
        for _ in 0..1000 {
            out.push(line.clone());
        }
        assert!(out.pending());
        assert!(out.dropped() > 600, "dropped {}", out.dropped());
        // Read everything: the queue drains, then the drop report follows.
        let reader = std::thread::spawn(move || {
            let mut all = Vec::new();
            std::io::Read::read_to_end(&mut std::fs::File::from(read), &mut all).unwrap();
            all
        });
        out.drain().await.unwrap();
        assert!(!out.pending());
        drop(out);
        let all = reader.join().unwrap();
        let text = String::from_utf8_lossy(&all);
        let full_lines = text.lines().filter(|l| l.len() == 1023).count();
        assert!((64..=320).contains(&full_lines), "{full_lines}");
        assert!(text.ends_with(
            "log line(s) dropped while stdout was not read; `initctl logs` still has them\n"
        ));
    }
}
