//! The journal's datagram sockets: `/dev/log` (where syslog(3) and `logger` write) and
//! `/run/systemd/journal/socket` (journald's native protocol), bound by PID 1 before the first
//! unit starts, world-writable as journald's, with SO_PASSCRED so every datagram comes with its
//! sender's pid and uid (which unit sent it is the caller's to decide). Reads are bounded per
//! call, so a flood cannot hold PID 1's loop. A syslog datagram is cut at [`MAX_LINE`] and
//! descriptors sent along are closed unread; a native one is read whole up to
//! [`MAX_ENTRY`](super::native::MAX_ENTRY) and keeps the first descriptor (a memfd holding the
//! entry), the others closed. Must not parse (see [`super::syslog`], [`super::native`]) nor
//! store a line.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::socket::{setsockopt, sockopt};
use tokio::io::unix::AsyncFd;

use super::line::MAX_LINE;
use crate::sys::Registered;

/// The largest syslog datagram read; longer ones are cut to [`MAX_LINE`] and marked.
const BUFFER: usize = 64 * 1024;

/// A batch ends once it holds this many bytes.
const BATCH_BYTES: usize = 4 * 1024 * 1024;

/// A batch ends once this many memfds came with it.
const MEMFDS_PER_TURN: usize = 8;

/// What a socket takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Syslog lines, cut at [`MAX_LINE`]; descriptors closed unread.
    Syslog,
    /// Native entries, whole up to [`MAX_ENTRY`](super::native::MAX_ENTRY) (a longer one is
    /// marked truncated, for the caller to refuse); the first descriptor kept.
    Native,
}

/// At most this many datagrams are read per turn of PID 1's loop.
pub const PER_TURN: usize = 256;

/// Bigger than the default 208 KiB, as journald asks (8 MiB), so bursts wait in the kernel.
const RECEIVE_BUFFER: usize = 8 * 1024 * 1024;

/// One datagram as received.
#[derive(Debug)]
pub struct Datagram {
    /// The sender's pid in our PID namespace (SCM_CREDENTIALS); None if none came.
    pub sender: Option<i32>,
    /// The sender's uid (SCM_CREDENTIALS).
    pub uid: Option<u32>,
    pub bytes: Vec<u8>,
    /// Longer than what the socket's [`Kind`] keeps: cut.
    pub truncated: bool,
    /// A descriptor sent along (native sockets only: a memfd holding the entry).
    pub fd: Option<OwnedFd>,
}

/// The bound `/dev/log`.
#[derive(Debug)]
pub struct DevLog {
    fd: AsyncFd<Registered<OwnedFd>>,
    path: PathBuf,
    kind: Kind,
    /// The socket file, removed with it.
    _file: Made,
    buf: std::cell::RefCell<Vec<u8>>,
}

/// A file PID 1 made (a socket, the `/dev/log` symlink), known by its device and inode, that
/// goes with it (a stale socket would swallow the lines of a root shared with others), unless
/// something else has been put there since.
#[derive(Debug)]
pub struct Made {
    path: PathBuf,
    inode: (u64, u64),
}

impl Made {
    /// The file just made at `path`; None when there is none.
    pub fn at(path: &Path) -> Option<Made> {
        Some(Made {
            path: path.to_owned(),
            inode: identity(path)?,
        })
    }
}

impl Drop for Made {
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
    #[error("{path}: another daemon listens there (mounted from the host?); left to it")]
    Taken { path: String },
    #[error("{path}: cannot bind: {source}")]
    Io { path: String, source: io::Error },
}

impl DevLog {
    /// Bind a syslog socket at `path` (a stale socket or file there is replaced; a live one is
    /// left alone). Needs a running tokio runtime.
    pub fn bind(path: &Path) -> Result<DevLog, BindError> {
        DevLog::bind_kind(path, Kind::Syslog)
    }

    /// Bind a socket taking `kind` at `path`, as [`DevLog::bind`].
    pub fn bind_kind(path: &Path, kind: Kind) -> Result<DevLog, BindError> {
        let shown = path.display().to_string();
        let io = |source| BindError::Io {
            path: shown.clone(),
            source,
        };
        clear(path)?;
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
        let file = Made::at(path).ok_or_else(|| io(io::ErrorKind::NotFound.into()))?;
        // A zeroed allocation: the pages of a native socket's large buffer cost memory only
        // once a datagram that large has come.
        let size = match kind {
            Kind::Syslog => BUFFER,
            Kind::Native => super::native::MAX_ENTRY,
        };
        Ok(DevLog {
            fd: crate::sys::register(OwnedFd::from(socket)).map_err(io)?,
            path: path.to_owned(),
            kind,
            _file: file,
            buf: std::cell::RefCell::new(vec![0; size]),
        })
    }

    /// Where it is bound.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Wait for datagrams and return those queued, at most [`PER_TURN`]. Cancel-safe: nothing
    /// is read before the wait is over.
    pub async fn next_batch(&self) -> io::Result<Vec<Datagram>> {
        next_batch(&self.fd, || self.read_queued(PER_TURN)).await
    }

    /// The datagrams queued now, at most `max`, without waiting; and whether the queue was
    /// found empty.
    pub fn read_queued(&self, max: usize) -> (Vec<Datagram>, bool) {
        let mut out = Vec::new();
        let mut buf = self.buf.borrow_mut();
        // A native socket's batch also ends at BATCH_BYTES read or MEMFDS_PER_TURN passed
        // (each is read whole, up to 1 MiB), so one turn of the loop stays short.
        let (mut bytes, mut memfds) = (0, 0);
        while out.len() < max && bytes < BATCH_BYTES && memfds < MEMFDS_PER_TURN {
            match receive(self.fd.get_ref().get(), &mut buf, self.kind) {
                Ok(Some(d)) => {
                    bytes += d.bytes.len();
                    memfds += usize::from(d.fd.is_some());
                    out.push(d);
                }
                Ok(None) | Err(Errno::EINTR) => {}
                Err(_) => return (out, true),
            }
        }
        (out, false)
    }
}

/// Wait until `fd` is readable and return what `read` finds queued (non-empty); `read` says
/// whether it found the queue empty, so that readiness is cleared.
pub(super) async fn next_batch<T>(
    fd: &AsyncFd<Registered<OwnedFd>>,
    read: impl Fn() -> (Vec<T>, bool),
) -> io::Result<Vec<T>> {
    loop {
        let mut guard = fd.readable().await?;
        let (batch, drained) = read();
        if drained {
            guard.clear_ready();
        }
        if !batch.is_empty() {
            return Ok(batch);
        }
    }
}

/// Make way for a socket at `path`: refused when one listens there (another daemon's, or
/// the host's mounted in), else whatever is there (a stale socket, a file) is removed.
pub fn clear(path: &Path) -> Result<(), BindError> {
    if UnixStream::connect(path).is_ok() || connect_datagram(path) {
        return Err(BindError::Taken {
            path: path.display().to_string(),
        });
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(BindError::Io {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// A datagram socket listening at `path` (connect succeeds only when one is bound).
fn connect_datagram(path: &Path) -> bool {
    UnixDatagram::unbound().is_ok_and(|s| s.connect(path).is_ok())
}

/// Read one datagram without blocking; Ok(None) for an empty one without a descriptor.
fn receive(fd: &OwnedFd, buf: &mut [u8], kind: Kind) -> Result<Option<Datagram>, Errno> {
    let got = crate::service::datagram::recv_datagram(fd.as_fd(), buf)?;
    // The native protocol's one memfd; any other descriptor is closed (dropped).
    let kept_fd = match kind {
        Kind::Native => got.fds.into_iter().next(),
        Kind::Syslog => None,
    };
    let len = got.len;
    if len == 0 && kept_fd.is_none() {
        return Ok(None);
    }
    let limit = match kind {
        Kind::Syslog => MAX_LINE,
        Kind::Native => usize::MAX,
    };
    let kept = len.min(limit).min(buf.len());
    Ok(Some(Datagram {
        sender: got.pid,
        uid: got.uid,
        bytes: buf[..kept].to_vec(),
        truncated: len > kept,
        fd: kept_fd,
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

    #[tokio::test(flavor = "current_thread")]
    async fn a_native_socket_keeps_one_descriptor_per_datagram_and_bounds_its_batches() {
        use nix::sys::socket::{ControlMessage, MsgFlags, UnixAddr, sendmsg};
        use std::os::fd::AsRawFd;
        let dir = std::env::temp_dir().join(format!("bosun-native-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("socket");
        let socket = DevLog::bind_kind(&path, Kind::Native).unwrap();
        let client = UnixDatagram::unbound().unwrap();
        let addr = UnixAddr::new(&path).unwrap();
        // Within the kernel's queue of 10 datagrams: 9, each an empty datagram with two
        // descriptors (the second is closed unread).
        // An empty datagram to `addr` with descriptors `fds`.
        let pass = |fds: &[i32], addr: &UnixAddr| {
            let cmsg = [ControlMessage::ScmRights(fds)];
            sendmsg(
                client.as_raw_fd(),
                &[],
                &cmsg,
                MsgFlags::empty(),
                Some(addr),
            )
            .unwrap();
        };
        for _ in 0..MEMFDS_PER_TURN + 1 {
            let (a, b) = nix::unistd::pipe().unwrap();
            pass(&[a.as_raw_fd(), b.as_raw_fd()], &addr);
        }
        let (first, drained) = socket.read_queued(PER_TURN);
        assert_eq!(first.len(), MEMFDS_PER_TURN);
        assert!(!drained);
        assert!(first.iter().all(|d| d.fd.is_some() && d.bytes.is_empty()));
        assert_eq!(first[0].uid, Some(nix::unistd::getuid().as_raw()));
        let (rest, _) = socket.read_queued(PER_TURN);
        assert_eq!(rest.len(), 1);
        // Negative control: a syslog socket passes no descriptor on, and an empty datagram
        // is nothing.
        let log = DevLog::bind(&dir.join("log")).unwrap();
        let (a, _b) = nix::unistd::pipe().unwrap();
        pass(&[a.as_raw_fd()], &UnixAddr::new(&dir.join("log")).unwrap());
        client.send_to(b"<13>x", dir.join("log")).unwrap();
        let (got, _) = log.read_queued(PER_TURN);
        assert_eq!(got.len(), 1);
        assert!(got[0].fd.is_none() && got[0].bytes == b"<13>x");
        drop((socket, log));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
