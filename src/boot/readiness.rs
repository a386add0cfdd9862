//! Telling the container runtime how boot goes: when bosun itself is started with
//! `NOTIFY_SOCKET` (podman `--sdnotify=container`, systemd's `Type=notify` for a container
//! unit), it speaks sd_notify(3) to it — `STATUS=` at each change of boot phase, `READY=1` once
//! boot is complete (units settled, hooks done, main command started), `STOPPING=1` when
//! shutdown begins. bosun consumes the variable: the main command and the hooks do not inherit
//! it, so nothing else can claim readiness for the container.

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};

/// The variable the runtime sets.
pub const VARIABLE: &str = "NOTIFY_SOCKET";

/// The runtime's notification socket and what was already said to it.
#[derive(Debug)]
pub struct Notifier {
    socket: UnixDatagram,
    address: SocketAddr,
    status: String,
    ready: bool,
    stopping: bool,
}

impl Notifier {
    /// The socket named by `NOTIFY_SOCKET`'s value: a path, or `@name` for an abstract socket.
    pub fn open(value: &OsStr) -> io::Result<Self> {
        let bytes = value.as_bytes();
        let address = match bytes.first() {
            Some(b'/') => SocketAddr::from_pathname(value)?,
            Some(b'@') => {
                <SocketAddr as std::os::linux::net::SocketAddrExt>::from_abstract_name(&bytes[1..])?
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "expected an absolute path or @abstract-name",
                ));
            }
        };
        Ok(Self {
            socket: UnixDatagram::unbound()?,
            address,
            status: String::new(),
            ready: false,
            stopping: false,
        })
    }

    /// `STATUS=text`, when it differs from the last one sent.
    pub fn status(&mut self, text: &str) {
        if self.status != text {
            text.clone_into(&mut self.status);
            self.send(&format!("STATUS={text}"));
        }
    }

    /// `READY=1`, once.
    pub fn ready(&mut self) {
        if !self.ready {
            self.ready = true;
            self.send("READY=1");
        }
    }

    /// `STOPPING=1`, once.
    pub fn stopping(&mut self) {
        if !self.stopping {
            self.stopping = true;
            self.send("STOPPING=1");
        }
    }

    fn send(&self, message: &str) {
        crate::log::debug(format_args!("telling the runtime {message}"));
        if let Err(e) = self.socket.send_to_addr(message.as_bytes(), &self.address) {
            crate::log::warn(format_args!(
                "cannot tell the runtime {message} over {VARIABLE}: {e}"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_message_goes_once_and_a_status_only_when_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        listener.set_nonblocking(true).unwrap();
        let mut runtime = Notifier::open(path.as_os_str()).unwrap();
        runtime.status("Starting units");
        runtime.status("Starting units");
        runtime.ready();
        runtime.ready();
        runtime.status("Running");
        runtime.stopping();
        runtime.stopping();
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        while let Ok(n) = listener.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        assert_eq!(
            got,
            [
                "STATUS=Starting units",
                "READY=1",
                "STATUS=Running",
                "STOPPING=1"
            ]
        );
    }

    #[test]
    fn abstract_names_are_accepted_and_relative_paths_refused() {
        let name = format!("@bosun-notify-test-{}", std::process::id());
        let listener = <SocketAddr as std::os::linux::net::SocketAddrExt>::from_abstract_name(
            &name.as_bytes()[1..],
        )
        .and_then(|addr| UnixDatagram::bind_addr(&addr))
        .unwrap();
        let mut runtime = Notifier::open(OsStr::new(&name)).unwrap();
        runtime.ready();
        let mut buf = [0u8; 64];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
        let err = Notifier::open(OsStr::new("run/notify")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
