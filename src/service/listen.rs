//! The listening side of socket units (systemd.socket(5)): opening each `Listen*=` line as
//! systemd does (non-blocking, close-on-exec; Unix sockets with their mode, owner and parent
//! directories, a stale socket file replaced; `ListenStream=PORT` on both IPv6 and IPv4 where
//! the kernel has IPv6), accepting a connection, and naming it for its service instance.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::socket::{
    self, AddressFamily, Backlog, SockFlag, SockType, SockaddrIn, SockaddrIn6, SockaddrLike,
    SockaddrStorage, UnixAddr, sockopt,
};

use crate::unit::model::{BindIpv6Only, Listen, ListenAddress, ListenKind, SocketSection};
use crate::unit::value::Size;

/// Why a `Listen*=` line could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("{what}: {source}")]
    Os {
        what: String,
        #[source]
        source: Errno,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error("{0}")]
    Unsupported(String),
}

fn os(what: impl Into<String>) -> impl FnOnce(Errno) -> ListenError {
    let what = what.into();
    move |source| ListenError::Os { what, source }
}

/// How `Listen*=` lines are written in messages: `ListenStream=/run/foo.sock`.
pub fn describe(listen: &Listen) -> String {
    format!(
        "Listen{}={}",
        kind_text(listen),
        address_text(&listen.address)
    )
}

/// The address as `systemctl list-sockets` shows it.
pub fn address_text(address: &ListenAddress) -> String {
    match address {
        ListenAddress::Port(p) => format!("[::]:{p}"),
        ListenAddress::Inet(a) => a.to_string(),
        ListenAddress::Path(p) => p.display().to_string(),
        ListenAddress::Abstract(n) => format!("@{n}"),
        ListenAddress::Other(o) => o.clone(),
    }
}

/// systemd's word for the kind of a listening socket (`list-sockets`' TYPE column).
pub fn kind_text(listen: &Listen) -> &'static str {
    match listen.kind {
        ListenKind::Fifo => "FIFO",
        ListenKind::Stream => "Stream",
        ListenKind::Datagram => "Datagram",
        ListenKind::SequentialPacket => "SequentialPacket",
    }
}

/// Where a file-system path of a unit lives under `root`.
fn on_disk(root: &Path, path: &Path) -> PathBuf {
    root.join(path.strip_prefix("/").unwrap_or(path))
}

/// Open one `Listen*=` line of `section`; `owner` is SocketUser=/SocketGroup= resolved.
pub fn open(
    listen: &Listen,
    section: &SocketSection,
    root: &Path,
    owner: (Option<u32>, Option<u32>),
) -> Result<OwnedFd, ListenError> {
    let what = describe(listen);
    if listen.kind == ListenKind::Fifo {
        let ListenAddress::Path(path) = &listen.address else {
            return Err(ListenError::Unsupported(format!("{what}: not a path")));
        };
        return open_fifo(&on_disk(root, path), section, owner, &what);
    }
    let ty = match listen.kind {
        ListenKind::Stream => SockType::Stream,
        ListenKind::Datagram => SockType::Datagram,
        _ => SockType::SeqPacket,
    };
    let flags = SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK;
    let fd = match &listen.address {
        ListenAddress::Port(port) => {
            // Both families on one socket where the kernel has IPv6 (BindIPv6Only=default).
            match socket::socket(AddressFamily::Inet6, ty, flags, None) {
                Ok(fd) => {
                    inet_options(&fd, section, true, &what)?;
                    let any =
                        std::net::SocketAddrV6::new(std::net::Ipv6Addr::UNSPECIFIED, *port, 0, 0);
                    socket::bind(fd.as_raw_fd(), &SockaddrIn6::from(any)).map_err(os(&what))?;
                    fd
                }
                Err(Errno::EAFNOSUPPORT) => {
                    let fd =
                        socket::socket(AddressFamily::Inet, ty, flags, None).map_err(os(&what))?;
                    inet_options(&fd, section, false, &what)?;
                    let any = std::net::SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, *port);
                    socket::bind(fd.as_raw_fd(), &SockaddrIn::from(any)).map_err(os(&what))?;
                    fd
                }
                Err(e) => return Err(os(&what)(e)),
            }
        }
        ListenAddress::Inet(addr) => {
            let (family, sa): (AddressFamily, Box<dyn SockaddrLike>) = match addr {
                std::net::SocketAddr::V4(a) => {
                    (AddressFamily::Inet, Box::new(SockaddrIn::from(*a)))
                }
                std::net::SocketAddr::V6(a) => {
                    (AddressFamily::Inet6, Box::new(SockaddrIn6::from(*a)))
                }
            };
            let fd = socket::socket(family, ty, flags, None).map_err(os(&what))?;
            inet_options(&fd, section, family == AddressFamily::Inet6, &what)?;
            socket::bind(fd.as_raw_fd(), sa.as_ref()).map_err(os(&what))?;
            fd
        }
        ListenAddress::Path(path) => {
            let real = on_disk(root, path);
            let fd = socket::socket(AddressFamily::Unix, ty, flags, None).map_err(os(&what))?;
            common_options(&fd, section, &what)?;
            make_parents(&real, section, &what)?;
            let addr = UnixAddr::new(&real).map_err(os(&what))?;
            match socket::bind(fd.as_raw_fd(), &addr) {
                // A socket file left from an earlier run: replace it, as systemd does.
                Err(Errno::EADDRINUSE) if is_socket(&real) => {
                    std::fs::remove_file(&real).map_err(|source| ListenError::Io {
                        what: format!("{what}: removing the stale socket"),
                        source,
                    })?;
                    socket::bind(fd.as_raw_fd(), &addr).map_err(os(&what))?;
                }
                other => other.map_err(os(&what))?,
            }
            let mode = section.socket_mode.unwrap_or(0o666);
            std::fs::set_permissions(&real, std::fs::Permissions::from_mode(mode)).map_err(
                |source| ListenError::Io {
                    what: format!("{what}: SocketMode={mode:04o}"),
                    source,
                },
            )?;
            chown(&real, owner, &what)?;
            fd
        }
        ListenAddress::Abstract(name) => {
            let fd = socket::socket(AddressFamily::Unix, ty, flags, None).map_err(os(&what))?;
            common_options(&fd, section, &what)?;
            let addr = UnixAddr::new_abstract(name.as_bytes()).map_err(os(&what))?;
            socket::bind(fd.as_raw_fd(), &addr).map_err(os(&what))?;
            fd
        }
        ListenAddress::Other(text) => {
            return Err(ListenError::Unsupported(format!(
                "{what}: bosun opens Unix, IPv4 and IPv6 addresses only, not {text:?}"
            )));
        }
    };
    if matches!(ty, SockType::Stream | SockType::SeqPacket) {
        let backlog = section.backlog.map_or(Backlog::MAXCONN, |b| {
            Backlog::new(i32::try_from(b).unwrap_or(i32::MAX)).unwrap_or(Backlog::MAXCONN)
        });
        socket::listen(&fd, backlog).map_err(os(&what))?;
    }
    Ok(fd)
}

fn is_socket(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket())
}

fn chown(
    path: &Path,
    (uid, gid): (Option<u32>, Option<u32>),
    what: &str,
) -> Result<(), ListenError> {
    if uid.is_none() && gid.is_none() {
        return Ok(());
    }
    std::os::unix::fs::chown(path, uid, gid).map_err(|source| ListenError::Io {
        what: format!("{what}: SocketUser=/SocketGroup="),
        source,
    })
}

/// The parent directories of a socket or FIFO, with DirectoryMode= (0755).
fn make_parents(path: &Path, section: &SocketSection, what: &str) -> Result<(), ListenError> {
    let Some(parent) = path.parent() else {
        return Ok(());
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(section.directory_mode.unwrap_or(0o755))
        .create(parent)
        .map_err(|source| ListenError::Io {
            what: format!("{what}: creating {}", parent.display()),
            source,
        })
}

fn open_fifo(
    path: &Path,
    section: &SocketSection,
    owner: (Option<u32>, Option<u32>),
    what: &str,
) -> Result<OwnedFd, ListenError> {
    make_parents(path, section, what)?;
    let mode = section.socket_mode.unwrap_or(0o666);
    match nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(mode)) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => return Err(os(what)(e)),
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|source| {
        ListenError::Io {
            what: format!("{what}: SocketMode={mode:04o}"),
            source,
        }
    })?;
    chown(path, owner, what)?;
    // Read-write, so the FIFO never reports end-of-file when its last writer goes.
    let fd = nix::fcntl::open(
        path,
        nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_NONBLOCK | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(os(what))?;
    Ok(fd)
}

/// A buffer size as systemd sets it: the forcing option where we may, else the ordinary one
/// (capped by the kernel at net.core.rmem_max / wmem_max).
fn buffer<F, P>(
    fd: &OwnedFd,
    size: Option<Size>,
    (force, plain): (F, P),
    what: &str,
) -> Result<(), ListenError>
where
    F: socket::SetSockOpt<Val = usize>,
    P: socket::SetSockOpt<Val = usize>,
{
    let Some(size) = size else { return Ok(()) };
    let bytes = match size {
        Size::Bytes(b) => usize::try_from(b).unwrap_or(usize::MAX),
        Size::Infinity => usize::MAX >> 1,
    };
    if socket::setsockopt(fd, force, &bytes).is_err() {
        socket::setsockopt(fd, plain, &bytes).map_err(os(what))?;
    }
    Ok(())
}

/// Options of every socket: buffers and credentials passing.
fn common_options(fd: &OwnedFd, s: &SocketSection, what: &str) -> Result<(), ListenError> {
    let key = |k: &str| format!("{what}: {k}=");
    buffer(
        fd,
        s.receive_buffer,
        (sockopt::RcvBufForce, sockopt::RcvBuf),
        &key("ReceiveBuffer"),
    )?;
    buffer(
        fd,
        s.send_buffer,
        (sockopt::SndBufForce, sockopt::SndBuf),
        &key("SendBuffer"),
    )?;
    if s.pass_credentials {
        socket::setsockopt(fd, sockopt::PassCred, &true)
            .map_err(os(format!("{what}: PassCredentials=")))?;
    }
    Ok(())
}

/// Options of IP sockets: SO_REUSEADDR always (as systemd), ReusePort=, KeepAlive=, and on an
/// IPv6 socket BindIPv6Only= (IPV6_V6ONLY set either way unless `default`, as
/// socket_address_listen() does: rpcbind.socket binds `0.0.0.0:111` and `[::]:111` with
/// `ipv6-only`).
fn inet_options(fd: &OwnedFd, s: &SocketSection, v6: bool, what: &str) -> Result<(), ListenError> {
    common_options(fd, s, what)?;
    if v6 && s.bind_ipv6_only != BindIpv6Only::Default {
        socket::setsockopt(
            fd,
            sockopt::Ipv6V6Only,
            &(s.bind_ipv6_only == BindIpv6Only::Ipv6Only),
        )
        .map_err(os(format!("{what}: BindIPv6Only=")))?;
    }
    socket::setsockopt(fd, sockopt::ReuseAddr, &true).map_err(os(what))?;
    if s.reuse_port {
        socket::setsockopt(fd, sockopt::ReusePort, &true)
            .map_err(os(format!("{what}: ReusePort=")))?;
    }
    if s.keep_alive {
        socket::setsockopt(fd, sockopt::KeepAlive, &true)
            .map_err(os(format!("{what}: KeepAlive=")))?;
    }
    Ok(())
}

/// A connection taken from an `Accept=yes` socket.
#[derive(Debug)]
pub struct Connection {
    pub fd: OwnedFd,
    /// The instance name systemd gives its service: `N-LOCAL-REMOTE` for IP
    /// (`3-10.0.0.1:22-10.0.0.2:51234`), `N-PID-UID` for Unix sockets.
    pub instance: String,
    /// What MaxConnectionsPerSource= counts by: the peer's address, or its uid.
    pub source: String,
    /// REMOTE_ADDR and REMOTE_PORT for the service, for IP connections.
    pub remote: Option<(String, u16)>,
}

/// Accept one pending connection (None when there is none now); `number` is the socket's
/// count of accepted connections, the instance name's first part.
pub fn accept(listener: &OwnedFd, number: u32) -> io::Result<Option<Connection>> {
    let fd = match crate::sys::accept(listener.as_fd()) {
        Ok(fd) => fd,
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EAGAIN | libc::EINTR | libc::ECONNABORTED)
            ) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let local: SockaddrStorage = socket::getsockname(fd.as_raw_fd())?;
    let peer: SockaddrStorage = socket::getpeername(fd.as_raw_fd())?;
    let ip = |a: &SockaddrStorage| -> Option<(std::net::IpAddr, u16)> {
        if let Some(v4) = a.as_sockaddr_in() {
            return Some((std::net::IpAddr::V4(v4.ip()), v4.port()));
        }
        let v6 = a.as_sockaddr_in6()?;
        let addr = v6.ip();
        // A v4-mapped peer of a dual-stack socket is shown as IPv4, as systemd does.
        Some(match addr.to_ipv4_mapped() {
            Some(v4) => (std::net::IpAddr::V4(v4), v6.port()),
            None => (std::net::IpAddr::V6(addr), v6.port()),
        })
    };
    let (instance, source, remote) = match (ip(&local), ip(&peer)) {
        (Some((la, lp)), Some((ra, rp))) => (
            format!("{number}-{la}:{lp}-{ra}:{rp}"),
            ra.to_string(),
            Some((ra.to_string(), rp)),
        ),
        _ => {
            let cred = socket::getsockopt(&fd, sockopt::PeerCredentials)?;
            (
                format!("{number}-{}-{}", cred.pid(), cred.uid()),
                format!("uid:{}", cred.uid()),
                None,
            )
        }
    };
    Ok(Some(Connection {
        fd,
        instance,
        source,
        remote,
    }))
}

/// Whether the file descriptor is readable now (a pending connection or datagram).
pub fn readable(fd: &OwnedFd) -> bool {
    let mut fds = [nix::poll::PollFd::new(
        fd.as_fd(),
        nix::poll::PollFlags::POLLIN,
    )];
    nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO).is_ok_and(|n| n > 0)
}
