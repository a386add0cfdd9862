//! PID 1's side of the journal's sockets, laid out as systemd-journald's under the root's
//! `run/systemd/journal/`: `dev-log` (syslog datagrams, with `/dev/log` a symlink to it, as
//! systemd-journald-dev-log.socket's `Symlinks=/dev/log`), `socket` (the native protocol),
//! `stdout` (stream connections), and forwarding to `syslog` when a syslog daemon listens
//! there. Binds them before the first unit, waits on all of them as one source of the loop,
//! reads what is queued before reaping, and keeps each line in its sender's unit's ring
//! within the rate limit. Which unit a pid belongs to is asked of the engine; the store is
//! [`Journal`]'s. Must not decide anything about units.

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use tokio::sync::mpsc;

use crate::journal::devlog::{BindError, Datagram, DevLog, Kind, Made, PER_TURN};
use crate::journal::forward::{self, Forwarder, Sent};
use crate::journal::policy::LogPolicy;
use crate::journal::ratelimit::{RateLimits, Verdict};
use crate::journal::ring::{Entry, Journal, Meta, Stream};
use crate::journal::stream::{Accepted, Admission, Connection, StreamEvent, StreamSocket};
use crate::journal::{native, syslog};
use crate::manager::engine::Engine;

/// Where a line goes whose sender is no unit's (it exited before its datagram was read, or
/// runs outside every unit): a source, not a unit (no unit name lacks a suffix).
pub const UNKNOWN_SOURCE: &str = "unknown";

/// The queue of lines of stream connections towards the loop.
const STREAM_QUEUE: usize = 1024;

/// systemd's sysctl.d/50-default.conf value of `net.unix.max_dgram_qlen` (the kernel's is 10).
const DGRAM_QLEN: u32 = 512;

/// Something the journal's sockets have for the loop.
#[derive(Debug)]
pub enum Activity {
    Syslog(Vec<Datagram>),
    Native(Vec<Datagram>),
    Accepted(Vec<Accepted>),
    Stream(Vec<StreamEvent>),
}

/// The bound sockets and what ingestion keeps between lines.
#[derive(Debug)]
pub struct Ingest {
    devlog: Option<DevLog>,
    /// The root's `dev/log` symlink to `devlog`, when bosun made it.
    _link: Option<Made>,
    native: Option<DevLog>,
    stdout: Option<StreamSocket>,
    events: mpsc::Sender<StreamEvent>,
    incoming: RefCell<mpsc::Receiver<StreamEvent>>,
    admission: Admission,
    forward: Option<Forwarder>,
    /// ForwardToSyslog= of the image's journald.conf: every line, not only those of stream
    /// connections whose header asks for it.
    forward_all: bool,
    limits: RateLimits,
    /// The logging directives of lines of no unit: journald's defaults.
    no_policy: Arc<LogPolicy>,
    /// Lines stored and not yet shown on stdout (shown by the next pump).
    unshown: Vec<Entry>,
    /// Things said once: a line of no known unit, a refused uid, a refused entry.
    told: HashSet<String>,
    /// How many datagrams each socket's queue holds at most ([`queue_bound`]): what is read
    /// before reaping.
    queue_bound: usize,
}

impl Ingest {
    /// Bind the journal's sockets under `root` (before the first unit: a daemon's first
    /// syslog(3) call finds them); each that cannot be bound is said and left out.
    pub fn bind(root: &Path) -> Ingest {
        raise_dgram_qlen();
        // Read now: the sockets below take the length in force when they are made.
        let queue_bound = queue_bound();
        let dir = root.join("run/systemd/journal");
        if let Err(e) = std::fs::create_dir_all(&dir) {
            crate::log::warn_if_root(format_args!("{}: cannot create: {e}", dir.display()));
        }
        let (devlog, link) = bind_devlog(root, &dir.join("dev-log"));
        let native = said(
            DevLog::bind_kind(&dir.join("socket"), Kind::Native),
            "native journal entries",
        );
        let stdout = said(
            StreamSocket::bind(&dir.join("stdout")),
            "stream connections (systemd-cat)",
        );
        let forward = Forwarder::new(&dir.join("syslog")).ok();
        let (events, incoming) = mpsc::channel(STREAM_QUEUE);
        Ingest {
            devlog,
            _link: link,
            native,
            stdout,
            events,
            incoming: RefCell::new(incoming),
            admission: Admission::default(),
            forward,
            forward_all: forward::configured(root),
            limits: RateLimits::default(),
            no_policy: Arc::new(LogPolicy::default()),
            unshown: Vec::new(),
            told: HashSet::new(),
            queue_bound,
        }
    }

    /// Wait for the next thing the sockets have (a bounded batch); pending forever when
    /// none is bound.
    pub async fn next(&self) -> Activity {
        // The lines of stream connections, in batches as the sockets'.
        let incoming = std::future::poll_fn(|cx| {
            let mut incoming = self.incoming.borrow_mut();
            let mut batch = Vec::new();
            match incoming.poll_recv_many(cx, &mut batch, PER_TURN) {
                std::task::Poll::Ready(0) => std::task::Poll::Pending,
                std::task::Poll::Ready(_) => std::task::Poll::Ready(batch),
                std::task::Poll::Pending => std::task::Poll::Pending,
            }
        });
        tokio::select! {
            batch = batch_of(self.devlog.as_ref()) => Activity::Syslog(batch),
            batch = batch_of(self.native.as_ref()) => Activity::Native(batch),
            accepted = async {
                match &self.stdout {
                    Some(s) => match s.next_batch(PER_TURN).await {
                        Ok(batch) => batch,
                        Err(e) => {
                            crate::log::warn(format_args!("{}: {e}", s.path().display()));
                            std::future::pending().await
                        }
                    },
                    None => std::future::pending().await,
                }
            } => Activity::Accepted(accepted),
            events = incoming => Activity::Stream(events),
        }
    }

    /// What the sockets hold now, read before the exits just signalled are reaped: a sender
    /// that was a unit's process is still known while it is a zombie. A datagram socket is
    /// read up to its queue's bound, not one turn's [`PER_TURN`]: a sender's last datagrams
    /// were queued before it exited, and everything queued since is behind them, so that many
    /// covers them however full the queue was (with 512, half of a full queue was left to be
    /// read after the reaping, and kept as `unknown`). Datagram bytes still end a batch
    /// (devlog's 4 MiB, 8 memfds).
    pub fn queued(&self) -> Vec<Activity> {
        let mut out = Vec::new();
        if let Some(devlog) = &self.devlog {
            out.push(Activity::Syslog(devlog.read_queued(self.queue_bound).0));
        }
        if let Some(native) = &self.native {
            out.push(Activity::Native(native.read_queued(self.queue_bound).0));
        }
        if let Some(stdout) = &self.stdout {
            out.push(Activity::Accepted(stdout.accept_queued(PER_TURN).0));
        }
        out
    }

    /// The lines stored since the last call, for stdout.
    pub fn take_unshown(&mut self) -> Vec<Entry> {
        std::mem::take(&mut self.unshown)
    }

    /// Keep what came in the units' rings; stream connections get their reader tasks.
    pub fn on_activity(&mut self, activity: Activity, journal: &mut Journal, engine: &Engine) {
        match activity {
            Activity::Syslog(batch) => {
                for datagram in batch {
                    self.on_syslog(datagram, journal, engine);
                }
            }
            Activity::Native(batch) => {
                for datagram in batch {
                    self.on_native(datagram, journal, engine);
                }
            }
            Activity::Accepted(batch) => {
                for accepted in batch {
                    self.on_accepted(accepted, engine);
                }
            }
            Activity::Stream(events) => {
                for event in events {
                    self.on_stream(event, journal, engine);
                }
            }
        }
    }

    fn on_stream(&mut self, event: StreamEvent, journal: &mut Journal, engine: &Engine) {
        match event {
            StreamEvent::Line(line) => {
                let meta = Meta {
                    priority: line.priority,
                    facility: line.facility,
                    identifier: line.identifier,
                    fields: Vec::new(),
                };
                let text = (&line.bytes[..], line.truncated);
                let mut kept = Kept::new(&line.unit, line.pid, Stream::Stdout);
                kept.to_syslog = line.forward_to_syslog;
                self.keep((journal, engine), kept, text, meta, None);
            }
            StreamEvent::Closed { uid, refused } => {
                self.admission.release(uid);
                if let Some(e) = refused {
                    self.tell_once(format!("header{uid}"), true, format_args!("uid {uid}: {e}"));
                }
            }
        }
    }

    fn on_syslog(&mut self, datagram: Datagram, journal: &mut Journal, engine: &Engine) {
        let record = syslog::parse(&datagram.bytes);
        let sender = datagram.sender.filter(|&pid| pid > 0);
        let unit = self.unit_of(sender, engine);
        let meta = Meta {
            priority: record.priority,
            facility: record.facility,
            identifier: record.identifier.map(Arc::from),
            fields: Vec::new(),
        };
        let pid = sender.or(record.pid).unwrap_or(0);
        let kept = Kept::new(&unit, pid, Stream::Syslog);
        // As journald's forward_syslog_raw: the datagram as it came.
        let raw = Some(&datagram.bytes[..]);
        self.keep(
            (journal, engine),
            kept,
            (&record.message, datagram.truncated),
            meta,
            raw,
        );
    }

    fn on_native(&mut self, datagram: Datagram, journal: &mut Journal, engine: &Engine) {
        let bytes = match &datagram.fd {
            Some(fd) if datagram.bytes.is_empty() => match native::read_memfd(fd, datagram.uid) {
                Ok(bytes) => bytes,
                Err(e) => {
                    let who = datagram.sender.unwrap_or(0);
                    self.tell_once(format!("memfd{e}"), true, format_args!("pid {who}: {e}"));
                    return;
                }
            },
            _ if datagram.truncated => {
                self.tell_once(
                    "native-too-large".into(),
                    true,
                    format_args!(
                        "a native journal entry over {} bytes was refused",
                        native::MAX_ENTRY
                    ),
                );
                return;
            }
            _ => datagram.bytes,
        };
        drop(datagram.fd);
        let sender = datagram.sender.filter(|&pid| pid > 0);
        let unit = self.unit_of(sender, engine);
        for entry in native::parse(&bytes) {
            let meta = Meta {
                priority: entry.priority,
                facility: entry.facility,
                identifier: entry.identifier.map(Arc::from),
                fields: entry.fields,
            };
            let pid = sender.or(entry.pid).unwrap_or(0);
            let kept = Kept::new(&unit, pid, Stream::Journal);
            self.keep(
                (journal, engine),
                kept,
                (&entry.message, entry.truncated),
                meta,
                None,
            );
        }
    }

    fn on_accepted(&mut self, (fd, pid, uid): Accepted, engine: &Engine) {
        if let Err(why) = self.admission.admit(uid) {
            // journald's "Too many stdout streams, refusing connection."
            self.tell_once(
                format!("refused{uid}"),
                true,
                format_args!("refusing a stream connection of pid {pid}: {why}"),
            );
            return;
        }
        let unit: Arc<str> = Arc::from(self.unit_of(Some(pid).filter(|&p| p > 0), engine));
        let conn = Connection { fd, pid, uid, unit };
        let task = crate::task::Task::OutputReader {
            unit: conn.unit.to_string(),
        };
        crate::task::spawn(
            task,
            crate::journal::stream::read_stream(conn, self.events.clone()),
        );
    }

    /// The unit of `sender`, or [`UNKNOWN_SOURCE`] (said once).
    fn unit_of(&mut self, sender: Option<i32>, engine: &Engine) -> String {
        match sender.and_then(|pid| engine.unit_of_sender(pid)) {
            Some(unit) => unit,
            None => {
                self.tell_once(
                    UNKNOWN_SOURCE.into(),
                    false,
                    format_args!(
                        "journal lines whose sender had exited before they were read, or runs \
                         outside every unit, are kept as '{UNKNOWN_SOURCE}' (initctl logs \
                         without a unit)"
                    ),
                );
                UNKNOWN_SOURCE.to_owned()
            }
        }
    }

    /// Keep one line as its unit's logging directives say (LogLevelMax=, its rate limit,
    /// LogExtraFields= after the line's own fields), and forward it.
    fn keep(
        &mut self,
        (journal, engine): (&mut Journal, &Engine),
        kept: Kept<'_>,
        text: (&[u8], bool),
        meta: Meta,
        raw: Option<&[u8]>,
    ) {
        let now = Instant::now();
        let policy = engine
            .log_policy(kept.unit)
            .unwrap_or_else(|| Arc::clone(&self.no_policy));
        if !policy.admits(meta.priority) || !self.admit(kept.unit, &policy, now) {
            return;
        }
        let mut shaped = policy.meta(meta.priority, meta.facility, meta.identifier);
        let extra = std::mem::replace(&mut shaped.fields, meta.fields);
        shaped.fields.extend(extra);
        let entry =
            journal.append_with(kept.unit, kept.pid, kept.stream, text, Some(shaped.into()));
        self.forward(entry, raw, now, kept.to_syslog);
        self.unshown.push(entry.clone());
    }

    /// Count a line of `unit` against its rate limit (LogRateLimitIntervalSec=,
    /// LogRateLimitBurst=, journald's defaults without them); false: drop it. The first line
    /// let through after some were dropped says how many, as journald does. One budget per
    /// unit for all its ways in: stdout and stderr too ([`super::services`]).
    pub fn admit(&mut self, unit: &str, policy: &LogPolicy, now: Instant) -> bool {
        match self
            .limits
            .admit(unit, now, policy.rate_interval, policy.rate_burst)
        {
            Verdict::Drop => false,
            Verdict::PassAfter(n) => {
                crate::log::warn(format_args!("Suppressed {n} messages from {unit}"));
                true
            }
            Verdict::Pass => true,
        }
    }

    /// Forward a stored line to the image's syslog daemon, if one listens and forwarding is
    /// on or `asked` for this line (`raw`: the datagram to send as it came).
    pub fn forward(&mut self, entry: &Entry, raw: Option<&[u8]>, now: Instant, asked: bool) {
        let Some(forwarder) = self.forward.as_mut().filter(|_| self.forward_all || asked) else {
            return;
        };
        let formatted;
        let datagram = match raw {
            Some(raw) => raw,
            None => {
                let meta = entry.syslog.as_deref();
                // A service's stdout and stderr: daemon.info, systemd's SyslogFacility= and
                // SyslogLevel= defaults.
                let level = meta.map_or((6, 3), |m| (m.priority, m.facility));
                let unit = crate::journal::format::short_name(&entry.unit);
                let ident = meta.and_then(|m| m.identifier.as_deref()).unwrap_or(unit);
                let pid = (entry.pid > 0).then_some(entry.pid);
                formatted = forward::format(level, SystemTime::now(), ident, pid, &entry.line);
                &formatted
            }
        };
        if let Sent::AfterMissing(n) = forwarder.send(datagram, now) {
            crate::log::warn(format_args!(
                "Forwarding to syslog missed {n} messages ({} was full)",
                forwarder.path().display()
            ));
        }
    }

    /// Say `text` once for `key` (at most 1024 keys), as a warning when `warn`.
    fn tell_once(&mut self, key: String, warn: bool, text: std::fmt::Arguments<'_>) {
        if self.told.len() < 1024 && self.told.insert(key) {
            if warn {
                crate::log::warn(text);
            } else {
                crate::log::info(text);
            }
        }
    }
}

/// Which ring a line goes to.
struct Kept<'a> {
    unit: &'a str,
    pid: i32,
    stream: Stream,
    /// Forwarded to syslog even when forwarding is off (a stream header's forward_to_syslog).
    to_syslog: bool,
}

impl<'a> Kept<'a> {
    fn new(unit: &'a str, pid: i32, stream: Stream) -> Kept<'a> {
        Kept {
            unit,
            pid,
            stream,
            to_syslog: false,
        }
    }
}

/// The next batch of `socket`; pending forever without it (or once it fails, said).
async fn batch_of(socket: Option<&DevLog>) -> Vec<Datagram> {
    match socket {
        Some(socket) => match socket.next_batch().await {
            Ok(batch) => batch,
            Err(e) => {
                crate::log::warn(format_args!("{}: {e}", socket.path().display()));
                std::future::pending().await
            }
        },
        None => std::future::pending().await,
    }
}

/// The bound socket, or None with the reason said (`what`: what is not kept without it).
fn said<T>(bound: Result<T, BindError>, what: &str) -> Option<T> {
    match bound {
        Ok(socket) => Some(socket),
        Err(e @ BindError::Taken { .. }) => {
            crate::log::info(format_args!("{e}"));
            None
        }
        Err(e) => {
            crate::log::warn_if_root(format_args!("{e}; {what} are not kept"));
            None
        }
    }
}

/// `run/systemd/journal/dev-log` at `path`, and the root's `dev/log` a symlink to it, as
/// systemd lays them out: an image whose /dev is a fresh tmpfs still gets a working
/// `/dev/log`. A `/dev/log` another daemon listens on (the host's, mounted in) is left to it.
/// The socket and the link go with PID 1.
fn bind_devlog(root: &Path, path: &Path) -> (Option<DevLog>, Option<Made>) {
    let dev = root.join("dev");
    let link = dev.join("log");
    let theirs = dev.is_dir() && crate::journal::devlog::clear(&link).is_err();
    let Some(devlog) = said(DevLog::bind(path), "syslog(3) lines of services") else {
        return (None, None);
    };
    if theirs {
        crate::log::info(format_args!(
            "{}: another daemon listens there (mounted from the host?); left to it, and \
             syslog(3) lines sent there are not kept",
            link.display()
        ));
    } else if !dev.is_dir() {
        crate::log::info(format_args!(
            "{}: no such directory; syslog(3) lines reach bosun only at {}",
            dev.display(),
            path.display()
        ));
    } else if let Err(e) = std::os::unix::fs::symlink(target(root, path), &link) {
        crate::log::warn_if_root(format_args!(
            "{}: cannot link to {}: {e}; syslog(3) lines of services are not kept",
            link.display(),
            path.display()
        ));
    } else {
        return (Some(devlog), Made::at(&link));
    }
    (Some(devlog), None)
}

/// The symlink's target: absolute as systemd's (`/run/systemd/journal/dev-log`) under the
/// real root, the root-joined path under another `BOSUN_ROOT`.
fn target(root: &Path, path: &Path) -> PathBuf {
    if root == Path::new("/") {
        PathBuf::from("/run/systemd/journal/dev-log")
    } else {
        path.to_owned()
    }
}

/// `net.unix.max_dgram_qlen` up to systemd's 512 (sysctl.d/50-default.conf), so syslog(3)
/// senders do not block after 10 queued lines; before the journal's sockets are made (a
/// socket keeps the value it was created with). Only as PID 1 and only in a network namespace
/// of its own, the one thing it may change there: the namespace is taken as PID 1's own when
/// every AF_UNIX socket in it (/proc/net/unix) is held by a process PID 1 can see (its
/// PID namespace's). Any other socket — the host's daemons, a pod's other containers — means
/// the namespace is shared and the value is left alone. Best effort: what fails is said at
/// debug level.
fn raise_dgram_qlen() {
    if std::process::id() != 1 {
        return;
    }
    let path = Path::new("/proc/sys/net/unix/max_dgram_qlen");
    let current: Option<u32> = std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse().ok());
    if current.is_none_or(|c| c >= DGRAM_QLEN) {
        return;
    }
    if !netns_is_ours() {
        crate::log::debug(format_args!(
            "{}: the network namespace is shared (sockets of processes outside this \
             container); left at {}",
            path.display(),
            current.unwrap_or_default()
        ));
        return;
    }
    match std::fs::write(path, DGRAM_QLEN.to_string()) {
        Ok(()) => crate::log::debug(format_args!("{}: raised to {DGRAM_QLEN}", path.display())),
        Err(e) => crate::log::debug(format_args!("{}: cannot raise: {e}", path.display())),
    }
}

/// How many datagrams a datagram socket made now queues at most: the kernel lets a sender
/// add one while the queue holds `net.unix.max_dgram_qlen` (unix_recvq_full() compares with
/// `>`), so one more than that; at least [`PER_TURN`].
fn queue_bound() -> usize {
    std::fs::read_to_string("/proc/sys/net/unix/max_dgram_qlen")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .map_or(PER_TURN, |qlen| qlen.saturating_add(1).max(PER_TURN))
}

/// Whether every AF_UNIX socket of this network namespace is held by a process we see.
fn netns_is_ours() -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/net/unix") else {
        return false;
    };
    // Num RefCount Protocol Flags Type St Inode [Path]
    let inodes: Vec<&str> = table
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(6))
        .collect();
    if inodes.is_empty() {
        return true;
    }
    let mut held = HashSet::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return false;
    };
    for p in procs.flatten() {
        if !p
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(link) = std::fs::read_link(fd.path())
                && let Some(inode) = link
                    .to_str()
                    .and_then(|l| l.strip_prefix("socket:["))
                    .and_then(|l| l.strip_suffix(']'))
            {
                held.insert(inode.to_owned());
            }
        }
    }
    inodes.iter().all(|i| held.contains(*i))
}
