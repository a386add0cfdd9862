//! `/dev/log`: the datagram socket syslog(3) and `logger` write to, bound by PID 1 before the
//! first unit starts, world-writable as journald's, with SO_PASSCRED so every datagram comes
//! with its sender's pid (which unit sent it is the caller's to decide). Reads are bounded per
//! call, so a flood cannot hold PID 1's loop; descriptors sent along are closed unread. Must
//! not parse (see [`super::syslog`]) nor store a line.

use std::io::{self, IoSliceMut};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, setsockopt, sockopt};
use tokio::io::unix::AsyncFd;

use super::line::MAX_LINE;
use crate::sys::Registered;

/// The largest datagram read whole; longer ones are cut to [`MAX_LINE`] and marked.
const BUFFER: usize = 64 * 1024;

/// At most this many datagrams are read per turn of PID 1's loop.
pub const PER_TURN: usize = 256;

/// Bigger than the default 208 KiB, as journald asks (8 MiB), so bursts wait in the kernel.
const RECEIVE_BUFFER: usize = 8 * 1024 * 1024;

/// One datagram as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// The sender's pid in our PID namespace (SCM_CREDENTIALS); None if none came.
    pub sender: Option<i32>,
    pub bytes: Vec<u8>,
    /// Longer than [`MAX_LINE`]: cut.
    pub truncated: bool,
}

/// The bound `/dev/log`.
#[derive(Debug)]
pub struct DevLog {
    fd: AsyncFd<Registered<OwnedFd>>,
    path: PathBuf,
    /// The socket file's device and inode, so that only ours is removed at the end.
    inode: (u64, u64),
    buf: std::cell::RefCell<Vec<u8>>,
}

impl Drop for DevLog {
    /// The socket file goes with PID 1 (a stale one would swallow syslog(3) lines of a root
    /// shared with others), unless something else has been bound there since.
    fn drop(&mut self) {
        if identity(&self.path) == Some(self.inode) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The device and inode of the file at `path`, not following a symlink.
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

/// Why `/dev/log` was not bound.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("{path}: another syslog daemon listens there (mounted from the host?); left to it")]
    Taken { path: String },
    #[error("{path}: cannot bind: {source}")]
    Io { path: String, source: io::Error },
}

impl DevLog {
    /// Bind at `path` (a stale socket or file there is replaced; a live one is left alone).
    /// Needs a running tokio runtime.
    pub fn bind(path: &Path) -> Result<DevLog, BindError> {
        let shown = path.display().to_string();
        let io = |source| BindError::Io {
            path: shown.clone(),
            source,
        };
        if UnixStream::connect(path).is_ok() || connect_datagram(path) {
            return Err(BindError::Taken {
                path: shown.clone(),
            });
        }
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        let socket = UnixDatagram::bind(path).map_err(io)?;
        // Every user may log; who sent what is known from the credentials, not file modes.
        std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .map_err(io)?;
        socket.set_nonblocking(true).map_err(io)?;
        setsockopt(&socket, sockopt::PassCred, &true).map_err(|e| io(e.into()))?;
        // Best effort: without the privilege the default buffer stays.
        if setsockopt(&socket, sockopt::RcvBufForce, &RECEIVE_BUFFER).is_err() {
            let _ = setsockopt(&socket, sockopt::RcvBuf, &RECEIVE_BUFFER);
        }
        let inode = identity(path).ok_or_else(|| io(io::ErrorKind::NotFound.into()))?;
        Ok(DevLog {
            fd: crate::sys::register(OwnedFd::from(socket)).map_err(io)?,
            path: path.to_owned(),
            inode,
            buf: std::cell::RefCell::new(vec![0; BUFFER]),
        })
    }

    /// Where it is bound.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Wait for datagrams and return those queued, at most [`PER_TURN`]. Cancel-safe: nothing
    /// is read before the wait is over.
    pub async fn next_batch(&self) -> io::Result<Vec<Datagram>> {
        loop {
            let mut guard = self.fd.readable().await?;
            let (batch, drained) = self.read_queued(PER_TURN);
            if drained {
                guard.clear_ready();
            }
            if !batch.is_empty() {
                return Ok(batch);
            }
        }
    }

    /// The datagrams queued now, at most `max`, without waiting; and whether the queue was
    /// found empty.
    pub fn read_queued(&self, max: usize) -> (Vec<Datagram>, bool) {
        let mut out = Vec::new();
        let mut buf = self.buf.borrow_mut();
        while out.len() < max {
            match receive(self.fd.get_ref().get(), &mut buf) {
                Ok(Some(d)) => out.push(d),
                Ok(None) | Err(Errno::EINTR) => {}
                Err(_) => return (out, true),
            }
        }
        (out, false)
    }
}

/// A datagram socket listening at `path` (connect succeeds only when one is bound).
fn connect_datagram(path: &Path) -> bool {
    UnixDatagram::unbound().is_ok_and(|s| s.connect(path).is_ok())
}

/// Read one datagram without blocking; Ok(None) for an empty one.
fn receive(fd: &OwnedFd, buf: &mut [u8]) -> Result<Option<Datagram>, Errno> {
    let mut iov = [IoSliceMut::new(buf)];
    let mut cmsg = nix::cmsg_space!(libc::ucred, [std::os::fd::RawFd; 16]);
    let msg = recvmsg::<()>(
        fd.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_CMSG_CLOEXEC | MsgFlags::MSG_TRUNC,
    )?;
    let mut sender = None;
    for control in msg.cmsgs()? {
        match control {
            ControlMessageOwned::ScmCredentials(creds) => sender = Some(creds.pid()),
            ControlMessageOwned::ScmRights(fds) => {
                fds.into_iter().for_each(crate::sys::close_received)
            }
            _ => {}
        }
    }
    let len = msg.bytes;
    if len == 0 {
        return Ok(None);
    }
    let kept = len.min(MAX_LINE).min(buf.len());
    Ok(Some(Datagram {
        sender,
        bytes: buf[..kept].to_vec(),
        truncated: len > kept,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn reads_with_credentials_bounded_and_leaves_a_live_socket_alone() {
        let dir = std::env::temp_dir().join(format!("bosun-devlog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log");
        std::fs::write(&path, "stale").unwrap();
        let log = DevLog::bind(&path).unwrap();
        let client = UnixDatagram::unbound().unwrap();
        // Fewer than the kernel queues for a datagram socket nobody reads (max_dgram_qlen,
        // 10 unless raised).
        for i in 0..8 {
            client
                .send_to(format!("<13>m{i}").as_bytes(), &path)
                .unwrap();
        }
        let (first, drained) = log.read_queued(5);
        assert_eq!(first.len(), 5);
        assert!(!drained);
        assert_eq!(first[0].sender, Some(std::process::id() as i32));
        assert_eq!(first[0].bytes, b"<13>m0");
        let rest = log.next_batch().await.unwrap();
        assert_eq!(rest.len(), 3);
        assert_eq!(rest[2].bytes, b"<13>m7");
        client.send_to(&vec![b'x'; MAX_LINE + 10], &path).unwrap();
        let long = log.next_batch().await.unwrap();
        assert!(long.len() == 1 && long[0].truncated && long[0].bytes.len() == MAX_LINE);
        // Negative control: a second bind while the first listens is refused.
        assert!(matches!(DevLog::bind(&path), Err(BindError::Taken { .. })));
        drop(log);
        // Its socket file went with it; a stale one is replaced.
        assert!(!path.exists());
        UnixDatagram::bind(&path).unwrap();
        let again = DevLog::bind(&path).unwrap();
        // A socket bound there by someone else since is theirs: not removed.
        std::fs::remove_file(&path).unwrap();
        let theirs = UnixDatagram::bind(&path).unwrap();
        drop(again);
        assert!(path.exists());
        drop(theirs);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
