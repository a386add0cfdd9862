//! PID 1's side of the keepers ([`crate::sys::Keeper`]): one datagram socket pair for all of
//! them, the write end duplicated into each keeper at its spawn, the read end in the event
//! loop. A keeper stands between PID 1 and a command whose daemons leave their starter (a
//! Type=forking service without a delegated cgroup), adopts whatever the command leaves
//! behind, reaps it and sends each status here. Owns the socket and the decoding of its
//! records; which unit a status belongs to is the manager's business.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixDatagram;

use tokio::io::unix::AsyncFd;

use crate::sys::{KEEPER_RECORD_LEN, Registered};
use crate::vocab::termination::Termination;

/// One status a keeper collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// The process that ended.
    pub pid: i32,
    pub termination: Termination,
}

/// Both ends of the keepers' socket.
#[derive(Debug)]
pub struct KeeperSocket {
    read: AsyncFd<Registered<OwnedFd>>,
    write: OwnedFd,
}

impl KeeperSocket {
    /// A new pair; the read end registered with the running tokio runtime.
    pub fn new() -> io::Result<KeeperSocket> {
        let (read, write) = UnixDatagram::pair()?;
        read.set_nonblocking(true)?;
        // Keepers block while the queue is full (PID 1 reads it every turn of its loop).
        Ok(KeeperSocket {
            read: crate::sys::register(OwnedFd::from(read))?,
            write: OwnedFd::from(write),
        })
    }

    /// The end every keeper writes to (duplicated into each, close-on-exec).
    pub fn writer(&self) -> BorrowedFd<'_> {
        self.write.as_fd()
    }

    /// Wait for reports; at most `max` of them.
    pub async fn reports(&self, max: usize) -> io::Result<Vec<Report>> {
        loop {
            let mut guard = self.read.readable().await?;
            let (out, drained) = self.read_some(max);
            if drained {
                guard.clear_ready();
            }
            if !out.is_empty() {
                return Ok(out);
            }
        }
    }

    /// The reports queued, without waiting: at most `max`. PID 1 reads them before it reaps
    /// (a keeper reports its last child before it exits itself).
    pub fn queued(&self, max: usize) -> Vec<Report> {
        self.read_some(max).0
    }

    /// Up to `max` reports, and whether the queue was found empty.
    fn read_some(&self, max: usize) -> (Vec<Report>, bool) {
        let socket = std::os::fd::AsRawFd::as_raw_fd(self.read.get_ref().get());
        let mut out = Vec::new();
        let mut buf = [0u8; KEEPER_RECORD_LEN];
        while out.len() < max {
            match nix::sys::socket::recv(socket, &mut buf, nix::sys::socket::MsgFlags::MSG_DONTWAIT)
            {
                Ok(n) if n == KEEPER_RECORD_LEN => out.extend(decode(&buf)),
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(_) => return (out, true),
            }
        }
        (out, false)
    }
}

/// A record as [`crate::sys`]'s keeper writes it.
fn decode(buf: &[u8; KEEPER_RECORD_LEN]) -> Option<Report> {
    let mut fields = buf
        .chunks_exact(4)
        .map(|c| i32::from_ne_bytes([c[0], c[1], c[2], c[3]]));
    let (pid, status) = (fields.next()?, fields.next()?);
    let (pid, termination) = crate::sys::decode_wait_status(pid, status).ended()?;
    Some(Report { pid, termination })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(pid: i32, status: i32) -> [u8; KEEPER_RECORD_LEN] {
        let mut buf = [0u8; KEEPER_RECORD_LEN];
        for (chunk, v) in buf.chunks_exact_mut(4).zip([pid, status]) {
            chunk.copy_from_slice(&v.to_ne_bytes());
        }
        buf
    }

    #[test]
    fn records_decode_as_wait_statuses() {
        assert_eq!(
            decode(&record(42, 3 << 8)),
            Some(Report {
                pid: 42,
                termination: Termination::Exited(3)
            })
        );
        assert_eq!(
            decode(&record(43, libc::SIGKILL)),
            Some(Report {
                pid: 43,
                termination: Termination::Signaled(libc::SIGKILL)
            })
        );
        // Stopped (0x7f): not an end.
        assert_eq!(decode(&record(44, 0x137f)), None);
    }
}
