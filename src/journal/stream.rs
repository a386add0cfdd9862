//! `/run/systemd/journal/stdout`: journald's stream protocol (journald-stream.c), what
//! `systemd-cat` and sd_journal_stream_fd(3) connect to. A connection opens with a header of
//! seven lines — identifier, unit id, priority, level prefix, forward to syslog, to kmsg, to
//! the console — then every line is one log line, with a `<N>` level prefix read off when the
//! header asked for it. Forwarding to kmsg and to the console is read and not acted on: a
//! container has no kernel log of its own, and every line goes to PID 1's stdout anyway. The connection is attributed when it is accepted (SO_PEERCRED: the
//! caller asks the engine for the pid's unit; the unit id of the header counts only from root,
//! as journald), read in a small task of PID 1's thread through a bounded line buffer
//! ([`super::line`]), and its lines go to the loop as [`StreamEvent`]s. Connections are capped
//! in all and per uid ([`Admission`]) so a local user cannot take PID 1's descriptors. Must not
//! store or print a line.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::Arc;

use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;

use super::line::LineSplitter;
use super::syslog::split_priority;
use crate::sys::Registered;

/// Stream connections at most (journald takes 4096; each holds a descriptor of PID 1 and up
/// to a line of buffer).
pub const MAX_STREAMS: usize = 1024;

/// Stream connections of one uid other than root at most.
pub const MAX_STREAMS_PER_UID: usize = 128;

/// Kept for root: users other than root together hold at most [`MAX_STREAMS`] minus these.
pub const STREAMS_RESERVED: usize = 128;

/// The header's lines.
const HEADER_LINES: usize = 7;

/// What a connection's header said.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Header {
    pub identifier: Option<Arc<str>>,
    /// The unit named by the header (honoured for root peers only).
    pub unit_id: Option<String>,
    pub priority: u8,
    pub facility: u8,
    pub level_prefix: bool,
    pub forward_to_syslog: bool,
}

/// Why a header was refused (the connection is closed).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HeaderError {
    #[error("stream header line {line}: {value:?} is not a {what}")]
    Invalid {
        line: usize,
        value: String,
        what: &'static str,
    },
}

/// Read header line `index` (0-based) into `header`.
fn header_line(header: &mut Header, index: usize, text: &[u8]) -> Result<(), HeaderError> {
    let value = String::from_utf8_lossy(text);
    let invalid = |what| HeaderError::Invalid {
        line: index + 1,
        value: value.clone().into_owned(),
        what,
    };
    let boolean = || match value.as_ref() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Ok(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Ok(false),
        _ => Err(invalid("boolean")),
    };
    match index {
        0 => header.identifier = (!value.is_empty()).then(|| Arc::from(value.as_ref())),
        1 => header.unit_id = (!value.is_empty()).then(|| value.clone().into_owned()),
        2 => {
            // A level, or a level with a facility (systemd passes SyslogFacility= along).
            let v: u8 = value
                .parse()
                .ok()
                .filter(|&v| v <= 191)
                .ok_or_else(|| invalid("priority"))?;
            header.priority = v & 7;
            header.facility = v >> 3;
        }
        3 => header.level_prefix = boolean()?,
        4 => header.forward_to_syslog = boolean()?,
        _ => {
            boolean()?;
        }
    }
    Ok(())
}

/// One line of a stream connection, for the loop.
#[derive(Debug)]
pub struct StreamLine {
    pub unit: Arc<str>,
    pub pid: i32,
    pub priority: u8,
    pub facility: u8,
    pub identifier: Option<Arc<str>>,
    pub bytes: Vec<u8>,
    pub truncated: bool,
    pub forward_to_syslog: bool,
}

/// What a connection's task tells the loop.
#[derive(Debug)]
pub enum StreamEvent {
    Line(StreamLine),
    /// The connection of `uid` ended (its place is free again); `refused` when its header was
    /// not valid.
    Closed {
        uid: u32,
        refused: Option<HeaderError>,
    },
}

/// An accepted connection, attributed.
#[derive(Debug)]
pub struct Connection {
    pub fd: OwnedFd,
    pub pid: i32,
    pub uid: u32,
    /// The unit of the peer's pid at accept time (or the caller's name for none).
    pub unit: Arc<str>,
}

/// Splits a connection's bytes into its header and its lines.
#[derive(Debug, Default)]
struct Reader {
    splitter: LineSplitter,
    header: Header,
    header_seen: usize,
}

impl Reader {
    /// Feed bytes; `line` gets each log line as (priority, text, truncated).
    fn feed(
        &mut self,
        data: &[u8],
        mut line: impl FnMut(u8, Vec<u8>, bool),
    ) -> Result<(), HeaderError> {
        let mut error = None;
        let (header, seen) = (&mut self.header, &mut self.header_seen);
        self.splitter.feed(data, |l| {
            if error.is_some() {
                return;
            }
            if *seen < HEADER_LINES {
                if let Err(e) = header_line(header, *seen, &l.bytes) {
                    error = Some(e);
                }
                *seen += 1;
                return;
            }
            let (priority, text) = if header.level_prefix {
                match split_priority(&l.bytes) {
                    (Some(p), rest) if p <= 7 => (p, rest.to_vec()),
                    _ => (header.priority, l.bytes),
                }
            } else {
                (header.priority, l.bytes)
            };
            line(priority, text, l.truncated);
        });
        error.map_or(Ok(()), Err)
    }

    /// The connection ended: what is left, once the header is complete.
    fn finish(&mut self, mut line: impl FnMut(u8, Vec<u8>, bool)) {
        let mut rest = Vec::new();
        self.splitter.finish(|l| rest.push(l));
        if self.header_seen < HEADER_LINES {
            return;
        }
        for l in rest {
            let _ = self.feed(&[&l.bytes[..], b"\n"].concat(), &mut line);
        }
    }
}

/// Read connection `conn` to its end, sending its lines to `events`, then say it closed.
/// `trusted` lets the header's unit id name the unit (a root peer).
pub async fn read_stream(conn: Connection, events: mpsc::Sender<StreamEvent>) {
    let Connection { fd, pid, uid, unit } = conn;
    let refused = read_lines(fd, pid, uid == 0, unit, &events).await;
    let _ = events.send(StreamEvent::Closed { uid, refused }).await;
}

async fn read_lines(
    fd: OwnedFd,
    pid: i32,
    trusted: bool,
    mut unit: Arc<str>,
    events: &mpsc::Sender<StreamEvent>,
) -> Option<HeaderError> {
    let Ok(fd) = crate::sys::register(fd) else {
        return None;
    };
    let mut reader = Reader::default();
    let mut pending: Vec<(u8, Vec<u8>, bool)> = Vec::new();
    loop {
        let Ok(mut guard) = fd.readable().await else {
            return None;
        };
        // Read and parse with the thread's one buffer; the lines are sent after.
        let result =
            super::scratch::with(
                |buf| match nix::unistd::read(guard.get_inner().get(), buf) {
                    Ok(0) => {
                        reader.finish(|p, b, t| pending.push((p, b, t)));
                        Some(Ok(true))
                    }
                    Ok(n) => Some(
                        reader
                            .feed(&buf[..n], |p, b, t| pending.push((p, b, t)))
                            .map(|()| false),
                    ),
                    Err(nix::errno::Errno::EAGAIN) => {
                        guard.clear_ready();
                        None
                    }
                    Err(nix::errno::Errno::EINTR) => None,
                    Err(_) => Some(Ok(true)),
                },
            );
        let Some(result) = result else {
            continue;
        };
        if trusted
            && let Some(id) = reader.header.unit_id.take()
            && id.contains('.')
        {
            unit = Arc::from(id);
        }
        let header = &reader.header;
        for (priority, bytes, truncated) in pending.drain(..) {
            let line = StreamLine {
                unit: Arc::clone(&unit),
                pid,
                priority,
                facility: header.facility,
                identifier: header.identifier.clone(),
                bytes,
                truncated,
                forward_to_syslog: header.forward_to_syslog,
            };
            if events.send(StreamEvent::Line(line)).await.is_err() {
                return None;
            }
        }
        match result {
            Ok(false) => {}
            Ok(true) => return None,
            Err(e) => return Some(e),
        }
    }
}

/// The bound `/run/systemd/journal/stdout`.
#[derive(Debug)]
pub struct StreamSocket {
    fd: AsyncFd<Registered<OwnedFd>>,
    path: std::path::PathBuf,
    /// The socket file, removed with it.
    _file: super::devlog::Made,
}

/// An accepted connection before it is attributed: descriptor, pid, uid.
pub type Accepted = (OwnedFd, i32, u32);

impl StreamSocket {
    /// Bind at `path` (a stale socket is replaced, a live one left alone, as `/dev/log`).
    /// Needs a running tokio runtime.
    pub fn bind(path: &Path) -> Result<StreamSocket, super::devlog::BindError> {
        let shown = path.display().to_string();
        let io = |source| super::devlog::BindError::Io {
            path: shown.clone(),
            source,
        };
        super::devlog::clear(path)?;
        let listener = UnixListener::bind(path).map_err(io)?;
        std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .map_err(io)?;
        listener.set_nonblocking(true).map_err(io)?;
        let file =
            super::devlog::Made::at(path).ok_or_else(|| io(io::ErrorKind::NotFound.into()))?;
        Ok(StreamSocket {
            fd: crate::sys::register(OwnedFd::from(listener)).map_err(io)?,
            path: path.to_owned(),
            _file: file,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Wait for connections and accept those queued, at most `max`.
    pub async fn next_batch(&self, max: usize) -> io::Result<Vec<Accepted>> {
        super::devlog::next_batch(&self.fd, || self.accept_queued(max)).await
    }

    /// Accept the connections queued now, at most `max`, with their peers' credentials; and
    /// whether the queue was found empty.
    pub fn accept_queued(&self, max: usize) -> (Vec<Accepted>, bool) {
        let mut out = Vec::new();
        while out.len() < max {
            match crate::sys::accept(self.fd.get_ref().get().as_fd()) {
                Ok(fd) => {
                    let cred = nix::sys::socket::getsockopt(
                        &fd,
                        nix::sys::socket::sockopt::PeerCredentials,
                    );
                    if let Ok(cred) = cred {
                        out.push((fd, cred.pid(), cred.uid()));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // EAGAIN, or out of descriptors (EMFILE): the rest waits in the backlog.
                Err(_) => return (out, true),
            }
        }
        (out, false)
    }
}

/// Who holds stream connections, to admit or refuse the next one.
#[derive(Debug, Default)]
pub struct Admission {
    by_uid: std::collections::HashMap<u32, usize>,
    total: usize,
    others: usize,
}

impl Admission {
    /// Count a connection of `uid`, or say why not.
    pub fn admit(&mut self, uid: u32) -> Result<(), String> {
        let held = self.by_uid.get(&uid).copied().unwrap_or(0);
        let root = uid == 0;
        if self.total >= MAX_STREAMS {
            return Err(format!(
                "{MAX_STREAMS} stream connections open, the most the journal takes"
            ));
        }
        if !root && held >= MAX_STREAMS_PER_UID {
            return Err(format!(
                "uid {uid} holds {MAX_STREAMS_PER_UID} stream connections, the most one user may"
            ));
        }
        if !root && self.others >= MAX_STREAMS - STREAMS_RESERVED {
            return Err(format!(
                "users other than root hold {} stream connections; the rest is root's",
                MAX_STREAMS - STREAMS_RESERVED
            ));
        }
        *self.by_uid.entry(uid).or_default() += 1;
        self.total += 1;
        self.others += usize::from(!root);
        Ok(())
    }

    /// A connection of `uid` has closed.
    pub fn release(&mut self, uid: u32) {
        if let Some(n) = self.by_uid.get_mut(&uid) {
            *n -= 1;
            if *n == 0 {
                self.by_uid.remove(&uid);
            }
            self.total -= 1;
            self.others -= usize::from(uid != 0);
        }
    }

    /// Connections open.
    pub fn open(&self) -> usize {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(chunks: &[&[u8]]) -> (Header, Vec<(u8, String, bool)>, Option<HeaderError>) {
        let mut r = Reader::default();
        let mut lines = Vec::new();
        let mut error = None;
        for c in chunks {
            if let Err(e) = r.feed(c, |p, b, t| {
                lines.push((p, String::from_utf8(b).unwrap(), t))
            }) {
                error = Some(e);
                break;
            }
        }
        if error.is_none() {
            r.finish(|p, b, t| lines.push((p, String::from_utf8(b).unwrap(), t)));
        }
        (r.header, lines, error)
    }

    #[test]
    fn systemd_cat_header_then_lines_with_level_prefixes() {
        // What `systemd-cat -t ID -p warning` writes, split at odd places.
        let (header, lines, error) = read(&[
            b"ID\n\n4\n1\n0\n0",
            b"\n0\nplain\n<3>an error\n<9>not a level\n<7",
            b">debug\ntail",
        ]);
        assert_eq!(error, None);
        assert_eq!(header.identifier.as_deref(), Some("ID"));
        assert_eq!((header.priority, header.level_prefix), (4, true));
        assert_eq!(
            lines,
            [
                (4, "plain".into(), false),
                (3, "an error".into(), false),
                (4, "<9>not a level".into(), false),
                (7, "debug".into(), false),
                (4, "tail".into(), false),
            ]
        );
        // Without level_prefix the prefix is text; systemd's header with a facility.
        let (header, lines, _) = read(&[b"x\nfoo.service\n30\n0\n1\n0\n0\n<3>kept\n"]);
        assert_eq!((header.priority, header.facility), (6, 3));
        assert_eq!(header.unit_id.as_deref(), Some("foo.service"));
        assert!(header.forward_to_syslog);
        assert_eq!(lines, [(6, "<3>kept".into(), false)]);
    }

    #[test]
    fn a_bad_header_is_refused_and_an_unfinished_one_yields_nothing() {
        let (_, lines, error) = read(&[b"id\n\nnine\n0\n0\n0\n0\nline\n"]);
        assert!(lines.is_empty());
        assert!(matches!(error, Some(HeaderError::Invalid { line: 3, .. })));
        let (_, _, error) = read(&[b"id\n\n6\nmaybe\n0\n0\n0\n"]);
        assert!(matches!(error, Some(HeaderError::Invalid { line: 4, .. })));
        // Negative control: a header cut short is no error and no line.
        let (_, lines, error) = read(&[b"id\n\n6\n0"]);
        assert!(lines.is_empty() && error.is_none());
    }

    #[test]
    fn admission_caps_per_uid_and_in_all_and_keeps_room_for_root() {
        let mut a = Admission::default();
        for _ in 0..MAX_STREAMS_PER_UID {
            a.admit(1000).unwrap();
        }
        assert!(a.admit(1000).is_err());
        a.release(1000);
        a.admit(1000).unwrap();
        let mut uid = 2000;
        while a.admit(uid).is_ok() {
            uid += 1;
        }
        assert_eq!(a.open(), MAX_STREAMS - STREAMS_RESERVED);
        // Root still gets in, up to the total.
        while a.admit(0).is_ok() {}
        assert_eq!(a.open(), MAX_STREAMS);
        // Releasing an unknown uid changes nothing.
        a.release(4242);
        assert_eq!(a.open(), MAX_STREAMS);
    }
}
