//! The `NOTIFY_SOCKET` protocol of sd_notify(3): one datagram socket for every Type=notify
//! service, credentials on each message (SO_PASSCRED) so NotifyAccess= can be enforced, and the
//! parser for the newline-separated assignments. Descriptors sent along (`BARRIER=1` from
//! sd_notify_barrier, `FDSTORE=1`) are closed as soon as the message is read: closing is what
//! releases a barrier, and bosun keeps no fd store. Which service a message belongs to, and
//! what it means for its state, is the caller's business.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::Path;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{setsockopt, sockopt};
use tokio::io::unix::AsyncFd;

use crate::sys::Registered;

/// systemd reads at most this much of a notification (NOTIFY_BUFFER_MAX, = PIPE_BUF).
pub const MAX_MESSAGE: usize = 4096;

/// One assignment of a notification, as far as bosun acts on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// `READY=1`: start-up (or a reload) is complete.
    Ready,
    /// `RELOADING=1`, with `MONOTONIC_USEC=` when sent in the same message.
    Reloading,
    /// `STOPPING=1`: the service is shutting down on its own.
    Stopping,
    /// `STATUS=`: free-form status text for `systemctl status`.
    Status(String),
    /// `MAINPID=`: the service's main process is this one.
    MainPid(i32),
    /// `WATCHDOG=1`: keep-alive ping.
    Watchdog,
    /// `WATCHDOG=trigger`: fail the service as if the watchdog had expired.
    WatchdogTrigger,
    /// `WATCHDOG_USEC=`: replace the watchdog timeout.
    WatchdogTimeout(Duration),
    /// `EXTEND_TIMEOUT_USEC=`: the current start/stop/reload may take this much longer.
    ExtendTimeout(Duration),
    /// `ERRNO=`: the service failed with this errno.
    Errno(i32),
    /// `EXIT_STATUS=`: the exit status the service will report.
    ExitStatus(i32),
    /// An assignment bosun does not act on (`FDSTORE=1`, `BARRIER=1`, `BUSERROR=`, custom keys):
    /// kept by name so it can be logged at debug level.
    Ignored(String),
    /// A known key with a value that does not parse.
    Invalid { key: String, value: String },
}

/// Parse one datagram. Lines without `=` and empty lines are skipped, as systemd does.
pub fn parse(message: &[u8]) -> Vec<Notice> {
    let text = String::from_utf8_lossy(message);
    text.split('\n')
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| parse_assignment(key, value))
        .collect()
}

fn parse_assignment(key: &str, value: &str) -> Notice {
    let invalid = || Notice::Invalid {
        key: key.to_owned(),
        value: value.to_owned(),
    };
    let usec = || value.parse::<u64>().ok().map(Duration::from_micros);
    match key {
        "READY" if value == "1" => Notice::Ready,
        "RELOADING" if value == "1" => Notice::Reloading,
        "STOPPING" if value == "1" => Notice::Stopping,
        "READY" | "RELOADING" | "STOPPING" => invalid(),
        "STATUS" => Notice::Status(value.to_owned()),
        "MAINPID" => match value.parse::<i32>() {
            Ok(pid) if pid > 0 => Notice::MainPid(pid),
            _ => invalid(),
        },
        "WATCHDOG" => match value {
            "1" => Notice::Watchdog,
            "trigger" => Notice::WatchdogTrigger,
            _ => invalid(),
        },
        "WATCHDOG_USEC" => usec().map_or_else(invalid, Notice::WatchdogTimeout),
        "EXTEND_TIMEOUT_USEC" => usec().map_or_else(invalid, Notice::ExtendTimeout),
        "ERRNO" => value.parse().map_or_else(|_| invalid(), Notice::Errno),
        "EXIT_STATUS" => value.parse().map_or_else(|_| invalid(), Notice::ExitStatus),
        _ => Notice::Ignored(key.to_owned()),
    }
}

/// One received notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The sender's pid in our PID namespace (from SCM_CREDENTIALS); None if the kernel sent
    /// no credentials.
    pub sender: Option<i32>,
    pub notices: Vec<Notice>,
}

/// The notification socket, registered with the event loop.
#[derive(Debug)]
pub struct NotifySocket {
    fd: AsyncFd<Registered<OwnedFd>>,
    address: String,
}

impl NotifySocket {
    /// Bind at `address`: a filesystem path (a stale socket file is replaced), or `@name` for
    /// an abstract socket. Needs a running tokio runtime.
    pub fn bind(address: &str) -> io::Result<NotifySocket> {
        let socket = if let Some(name) = address.strip_prefix('@') {
            UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes())?)?
        } else {
            let path = Path::new(address);
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            let socket = UnixDatagram::bind(path)?;
            // Services running as other users (User=redis) must be able to send: like
            // systemd's /run/systemd/notify, the socket is world-writable; what a message may
            // do is decided by the sender's credentials (NotifyAccess=), not by file modes.
            std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o777))?;
            socket
        };
        socket.set_nonblocking(true)?;
        setsockopt(&socket, sockopt::PassCred, &true)?;
        Ok(NotifySocket {
            fd: crate::sys::register(OwnedFd::from(socket))?,
            address: address.to_owned(),
        })
    }

    /// The value for a service's `NOTIFY_SOCKET`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Wait for the next notification.
    pub async fn recv(&self) -> io::Result<Message> {
        loop {
            let mut guard = self.fd.readable().await?;
            match receive(guard.get_inner().get()) {
                Ok(Some(message)) => return Ok(message),
                // Oversized or empty datagram: dropped, as systemd does. Wait for the next.
                Ok(None) => {}
                Err(Errno::EAGAIN) => guard.clear_ready(),
                Err(Errno::EINTR) => {}
                Err(errno) => return Err(errno.into()),
            }
        }
    }
}

impl NotifySocket {
    /// The notifications already queued, without waiting: at most `max` datagrams read. PID 1
    /// reads them before it handles the exits it reaps, as systemd ranks its notification
    /// source above SIGCHLD: a service that says `READY=1` or `MAINPID=` and exits at once is
    /// judged on what it said, whichever event the loop happened to pick first.
    pub fn queued(&self, max: usize) -> Vec<Message> {
        let mut out = Vec::new();
        for _ in 0..max {
            match receive(self.fd.get_ref().get()) {
                Ok(Some(message)) => out.push(message),
                Ok(None) | Err(Errno::EINTR) => {}
                Err(_) => break,
            }
        }
        out
    }
}

/// Read one datagram without blocking. Ok(None) for a datagram to drop (descriptors passed
/// with it are closed).
fn receive(fd: &OwnedFd) -> Result<Option<Message>, Errno> {
    let mut buf = [0u8; MAX_MESSAGE];
    let got = crate::service::datagram::recv_datagram(fd.as_fd(), &mut buf)?;
    if got.len == 0 || got.len > MAX_MESSAGE {
        return Ok(None);
    }
    Ok(Some(Message {
        sender: got.pid,
        notices: parse(&buf[..got.len]),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::MsgFlags;
    use std::os::fd::AsRawFd;

    #[test]
    fn parses_what_daemons_send() {
        let n = parse(b"STATUS=Ready to accept connections\nREADY=1\nMAINPID=812\n\nGARBAGE\n");
        assert_eq!(
            n,
            [
                Notice::Status("Ready to accept connections".into()),
                Notice::Ready,
                Notice::MainPid(812),
            ]
        );
        assert_eq!(
            parse(b"RELOADING=1\nMONOTONIC_USEC=123"),
            [Notice::Reloading, Notice::Ignored("MONOTONIC_USEC".into())]
        );
        assert_eq!(
            parse(b"EXTEND_TIMEOUT_USEC=5000000"),
            [Notice::ExtendTimeout(Duration::from_secs(5))]
        );
        assert_eq!(parse(b"WATCHDOG=trigger"), [Notice::WatchdogTrigger]);
        assert_eq!(parse(b"STATUS=a=b"), [Notice::Status("a=b".into())]);
    }

    #[test]
    fn rejects_bad_values() {
        for bad in [
            &b"MAINPID=0"[..],
            b"MAINPID=x",
            b"READY=yes",
            b"WATCHDOG_USEC=-1",
        ] {
            let n = parse(bad);
            assert!(matches!(n.as_slice(), [Notice::Invalid { .. }]), "{n:?}");
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_path_socket_is_writable_by_every_user_and_replaces_a_stale_one() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("bosun-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify");
        std::fs::write(&path, "stale").unwrap();
        let socket = NotifySocket::bind(path.to_str().unwrap()).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode, 0o777,
            "services running as other users could not notify"
        );
        drop(socket);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test(flavor = "current_thread")]
    async fn receives_with_credentials_and_closes_passed_fds() {
        let name = format!("@bosun-test-notify-{}", std::process::id());
        let socket = NotifySocket::bind(&name).unwrap();
        let client = UnixDatagram::unbound().unwrap();
        let addr = SocketAddr::from_abstract_name(&name.as_bytes()[1..]).unwrap();
        client.send_to_addr(b"READY=1\nSTATUS=up", &addr).unwrap();
        let message = socket.recv().await.unwrap();
        assert_eq!(message.sender, Some(std::process::id() as i32));
        assert_eq!(
            message.notices,
            [Notice::Ready, Notice::Status("up".into())]
        );

        // sd_notify_barrier: send BARRIER=1 with one end of a pipe; the barrier is released
        // when the manager closes it, which the other end sees as EOF (POLLHUP).
        let (keep, send) = nix::unistd::pipe().unwrap();
        let fds = [send.as_raw_fd()];
        let cmsg = [nix::sys::socket::ControlMessage::ScmRights(&fds)];
        nix::sys::socket::sendmsg(
            client.as_raw_fd(),
            &[std::io::IoSlice::new(b"BARRIER=1")],
            &cmsg,
            MsgFlags::empty(),
            Some(&nix::sys::socket::UnixAddr::new_abstract(&name.as_bytes()[1..]).unwrap()),
        )
        .unwrap();
        drop(send);
        let message = socket.recv().await.unwrap();
        assert_eq!(message.notices, [Notice::Ignored("BARRIER".into())]);
        let mut pfd = [nix::poll::PollFd::new(
            std::os::fd::AsFd::as_fd(&keep),
            nix::poll::PollFlags::POLLIN,
        )];
        let ready = nix::poll::poll(&mut pfd, nix::poll::PollTimeout::from(5000u16)).unwrap();
        assert_eq!(ready, 1, "barrier fd was not closed");
        assert!(
            pfd[0]
                .revents()
                .unwrap()
                .contains(nix::poll::PollFlags::POLLHUP)
        );
    }
}
