//! PID 1's stdout and stderr, written without ever blocking: if the container runtime stops
//! reading its log pipe (a wedged conmon, a blocking log driver, Ctrl-S on a terminal), PID 1
//! must still reap, answer systemctl, forward signals and stop services. Lines wait in a
//! bounded queue; when it is full, lines are dropped and counted by source (the unit that wrote
//! them), and once the output drains the owner asks for the count ([`Output::take_drops`]) to
//! say what was lost. Knows nothing of the rings: what they still hold is the owner's to say.
//!
//! Fairness: a full queue is shared among the sources that have lines in it. A source over its
//! share loses its new line; a source under it (a quiet unit) takes the room of the newest
//! queued line of the source holding the most, so one flooding unit cannot push a quiet unit's
//! lines off the output.
//!
//! Pipes, FIFOs and terminals are reopened through /proc/self/fd/N: a new open file
//! description, so O_NONBLOCK applies to bosun's writes only and never to services sharing the
//! original descriptor. Sockets are written with MSG_DONTWAIT. Regular files never block and
//! are written as they are (reopening would start at offset 0).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::Arc;
use std::task::{Context, Poll};

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sys::socket::MsgFlags;
use nix::sys::stat::{Mode, SFlag, fstat};
use tokio::io::unix::AsyncFd;

use crate::sys::Registered;

/// Default bound of queued stdout.
pub const QUEUE_LIMIT: usize = 1 << 20;

#[derive(Debug)]
enum Sink {
    /// A regular file or a character device like /dev/null: writes do not block.
    Direct(OwnedFd),
    /// A pipe, FIFO or terminal reopened non-blocking.
    NonBlocking(AsyncFd<Registered<OwnedFd>>),
    /// A socket (journald stream, some runtimes): send with MSG_DONTWAIT.
    Socket(AsyncFd<Registered<OwnedFd>>),
    /// A non-blocking pipe or socket no longer watched (the event loop has ended): what can be
    /// written at once is, the rest is dropped.
    Detached { fd: OwnedFd, socket: bool },
}

/// A line waiting to be written.
#[derive(Debug)]
struct Queued {
    /// Who wrote it; None for bosun's own notes, which are never dropped for fairness.
    source: Option<Arc<str>>,
    /// Its journal sequence number (0 when it has none).
    seq: u64,
    bytes: Vec<u8>,
}

/// What was dropped from one source since the last report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    pub lines: u64,
    /// The lowest journal sequence number among them (0: lines without one).
    pub first_seq: u64,
}

/// Sources whose dropped lines are counted one by one; the rest are counted together.
const MAX_SOURCES: usize = 64;

/// The key under which the sources past [`MAX_SOURCES`] are counted.
const OTHER_SOURCES: &str = "\0others";

/// The non-blocking writer.
#[derive(Debug)]
pub struct Output {
    sink: Sink,
    queue: VecDeque<Queued>,
    /// Bytes of the front line already written.
    offset: usize,
    queued: usize,
    limit: usize,
    /// Bytes queued per source.
    held: HashMap<Arc<str>, usize>,
    /// Dropped lines per source, until reported.
    dropped: BTreeMap<Arc<str>, Dropped>,
    /// (source, seq) of every line dropped since the owner last asked ([`Output::take_lost`]).
    lost: Vec<(Arc<str>, u64)>,
    /// The output is a terminal: a person reads it as it is written.
    terminal: bool,
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
        let terminal = kind == SFlag::S_IFCHR && is_tty(fd);
        let sink = if kind == SFlag::S_IFSOCK {
            Sink::Socket(crate::sys::register(fd.try_clone_to_owned()?)?)
        } else if kind == SFlag::S_IFIFO || terminal {
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
            held: HashMap::new(),
            dropped: BTreeMap::new(),
            lost: Vec::new(),
            terminal,
        })
    }

    /// Whether a person reads this output on a terminal (service lines then follow
    /// [`crate::vocab::text::shown`]'s rule; a pipe or file gets them as written).
    pub fn terminal(&self) -> bool {
        self.terminal
    }

    /// Queue one line of `source` (newline included; `seq` its journal number, or 0) and write
    /// what can be written now. When the queue is full, the line or the newest line of the
    /// source holding the most is dropped (see the module doc).
    pub fn push(&mut self, source: &Arc<str>, seq: u64, line: Vec<u8>) {
        let len = line.len();
        if self.queued + len > self.limit && !self.make_room(source, len) {
            self.count_drop(source, seq);
            return;
        }
        *self.held.entry(Arc::clone(source)).or_default() += len;
        self.queued += len;
        self.queue.push_back(Queued {
            source: Some(Arc::clone(source)),
            seq,
            bytes: line,
        });
        self.flush();
    }

    /// Queue one of bosun's own notes (a drop report): outside the bound, never dropped for
    /// fairness, so the report of a loss is not itself lost to a full queue.
    pub fn push_note(&mut self, note: Vec<u8>) {
        self.queued += note.len();
        self.queue.push_back(Queued {
            source: None,
            seq: 0,
            bytes: note,
        });
        self.flush();
    }

    /// Whether lines are waiting for the output to become writable.
    pub fn pending(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Lines dropped since the last report, by source; taken (and reset) only once the queue
    /// has drained, so the report follows the lines that did get out. Empty otherwise.
    pub fn take_drops(&mut self) -> BTreeMap<Arc<str>, Dropped> {
        if self.pending() {
            return BTreeMap::new();
        }
        std::mem::take(&mut self.dropped)
    }

    /// Lines dropped since the last call, as (source, seq): for the owner to mark in its
    /// journal as never shown.
    pub fn take_lost(&mut self) -> Vec<(Arc<str>, u64)> {
        std::mem::take(&mut self.lost)
    }

    /// Wait until the output can take more, then write. Returns at once when nothing waits.
    pub async fn drain(&mut self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_drain(cx)).await
    }

    /// Write what waits; Ready once the queue is empty (or cannot be waited for), Pending with
    /// `cx` woken when the output becomes writable.
    pub fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.pending() {
            match &self.sink {
                Sink::NonBlocking(fd) | Sink::Socket(fd) => match fd.poll_write_ready(cx) {
                    Poll::Pending => return Poll::Pending,
                    // The reactor cannot watch it: nothing will ever wake us for it, so drop
                    // what waits (counted) rather than be asked again at once.
                    Poll::Ready(Err(e)) => {
                        self.abandon();
                        return Poll::Ready(Err(e));
                    }
                    Poll::Ready(Ok(mut guard)) => guard.clear_ready(),
                },
                Sink::Direct(_) | Sink::Detached { .. } => {
                    self.flush();
                    return Poll::Ready(Ok(()));
                }
            }
            self.flush();
        }
        Poll::Ready(Ok(()))
    }

    /// Stop watching the output (before the event loop ends): write what can be written at
    /// once; from now on every write is one non-blocking attempt, and what does not fit is
    /// dropped.
    pub fn detach(&mut self) {
        let detached = match &self.sink {
            Sink::NonBlocking(fd) => fd.get_ref().get().try_clone().map(|fd| (fd, false)),
            Sink::Socket(fd) => fd.get_ref().get().try_clone().map(|fd| (fd, true)),
            Sink::Direct(_) | Sink::Detached { .. } => return self.flush(),
        };
        match detached {
            Ok((fd, socket)) => self.sink = Sink::Detached { fd, socket },
            Err(_) => self.abandon(),
        }
        self.flush();
        // Nobody waits for writability any more: what did not fit now is gone.
        if self.pending() {
            self.abandon();
        }
    }

    /// Make room for `len` bytes of `source` in a full queue by dropping the newest line of
    /// the source holding the most, when `source` holds less than its share; false when the
    /// new line is the one to drop.
    fn make_room(&mut self, source: &Arc<str>, len: usize) -> bool {
        let mine = self.held.get(source).copied().unwrap_or(0);
        let sources = self.held.len() + usize::from(!self.held.contains_key(source));
        let share = self.limit / sources.max(1);
        if mine + len > share {
            return false;
        }
        while self.queued + len > self.limit {
            let Some(largest) = self
                .held
                .iter()
                .filter(|&(s, _)| s != source)
                .max_by_key(|(_, bytes)| **bytes)
                .map(|(s, _)| Arc::clone(s))
            else {
                return false;
            };
            // Never the front line: part of it may be written already.
            let victim = self
                .queue
                .iter()
                .enumerate()
                .skip(1)
                .rev()
                .find(|(_, q)| q.source.as_ref() == Some(&largest))
                .map(|(i, _)| i);
            let Some(removed) = victim.and_then(|i| self.queue.remove(i)) else {
                return false;
            };
            self.forget(&removed);
            self.count_drop(&largest, removed.seq);
        }
        true
    }

    /// Account for a line leaving the queue.
    fn forget(&mut self, line: &Queued) {
        self.queued -= line.bytes.len();
        if let Some(source) = &line.source
            && let Some(bytes) = self.held.get_mut(source)
        {
            *bytes -= line.bytes.len();
            if *bytes == 0 {
                self.held.remove(source);
            }
        }
    }

    fn count_drop(&mut self, source: &Arc<str>, seq: u64) {
        // Sources are counted one by one up to a bound (a stalled reader while connections of
        // an `Accept=yes` socket each start an instance must not grow PID 1); past it, together.
        let key = if self.dropped.len() >= MAX_SOURCES && !self.dropped.contains_key(source) {
            // The shared key is made once, not again for every line dropped in a flood.
            self.dropped
                .get_key_value(OTHER_SOURCES)
                .map_or_else(|| Arc::from(OTHER_SOURCES), |(k, _)| Arc::clone(k))
        } else {
            Arc::clone(source)
        };
        let entry = self.dropped.entry(key).or_insert(Dropped {
            lines: 0,
            first_seq: seq,
        });
        entry.lines += 1;
        entry.first_seq = entry.first_seq.min(seq);
        if seq > 0 {
            self.lost.push((Arc::clone(source), seq));
        }
    }

    /// Drop everything queued, counting it.
    fn abandon(&mut self) {
        while let Some(line) = self.queue.pop_front() {
            self.forget(&line);
            if let Some(source) = &line.source {
                self.count_drop(source, line.seq);
            }
        }
        self.offset = 0;
    }

    /// Write queued lines until the output would block.
    fn flush(&mut self) {
        while let Some(front) = self.queue.front() {
            let rest = &front.bytes[self.offset..];
            let written = match &self.sink {
                Sink::Direct(fd) | Sink::Detached { fd, socket: false } => {
                    nix::unistd::write(fd, rest)
                }
                Sink::NonBlocking(fd) => nix::unistd::write(fd.get_ref().get(), rest),
                Sink::Socket(fd) => send(fd.get_ref().get().as_fd(), rest),
                Sink::Detached { fd, socket: true } => send(fd.as_fd(), rest),
            };
            match written {
                Ok(n) if n == rest.len() => {
                    if let Some(line) = self.queue.pop_front() {
                        self.forget(&line);
                    }
                    self.offset = 0;
                }
                Ok(n) => self.offset += n,
                Err(Errno::EAGAIN | Errno::EINTR) => return,
                // The reader is gone (EPIPE) or the output is broken: nothing can be shown;
                // drop what waits rather than hold it forever.
                Err(_) => return self.abandon(),
            }
        }
    }
}

impl Drop for Output {
    /// What is still queued gets one non-blocking attempt: PID 1 is leaving and waits for no
    /// reader.
    fn drop(&mut self) {
        if self.pending() {
            self.flush();
        }
    }
}

fn send(fd: BorrowedFd<'_>, bytes: &[u8]) -> nix::Result<usize> {
    nix::sys::socket::send(
        fd.as_raw_fd(),
        bytes,
        MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL,
    )
}

fn is_tty(fd: BorrowedFd<'_>) -> bool {
    nix::unistd::isatty(fd).unwrap_or(false)
}

/// Say what `out` dropped once it has drained, when no ring keeps its lines.
pub fn report_unkept(stream: &str, out: &mut Output) {
    let drops = out.take_drops();
    if let Some(note) = drop_report(stream, &drops, |_, _| None) {
        out.push_note(super::own_line(5, &note));
    }
}

/// The drop report (for [`super::own_line`]): `20600000 line(s) dropped while stdout was not read: web.service
/// 20599990 (the last 4093 still in `initctl logs web.service`, 20595897 lost), quiet.service
/// 10 (all still in `initctl logs quiet.service`)`. `kept(source, dropped)` says how many of a
/// source's dropped lines its ring still holds, None when the source has no ring (a hook, whose
/// output is in its log file, or bosun's own messages).
pub fn drop_report(
    stream: &str,
    drops: &BTreeMap<Arc<str>, Dropped>,
    kept: impl Fn(&str, &Dropped) -> Option<u64>,
) -> Option<String> {
    if drops.is_empty() {
        return None;
    }
    let total: u64 = drops.values().map(|d| d.lines).sum();
    let mut parts: Vec<String> = drops
        .iter()
        .filter(|(source, _)| &***source != OTHER_SOURCES)
        .map(|(source, d)| {
            let held = match kept(source, d) {
                None => "not in `initctl logs`".to_owned(),
                Some(k) if k >= d.lines => format!("all still in `initctl logs {source}`"),
                Some(0) => "none kept: lost".to_owned(),
                Some(k) => format!(
                    "the last {k} still in `initctl logs {source}`, {} lost",
                    d.lines - k
                ),
            };
            format!("{source} {} ({held})", d.lines)
        })
        .collect();
    if let Some(others) = drops.get(OTHER_SOURCES) {
        parts.push(format!("{} more from other units", others.lines));
    }
    Some(format!(
        "{total} line(s) dropped while {stream} was not read: {}",
        parts.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(len: usize) -> Vec<u8> {
        let mut line = vec![b'x'; len - 1];
        line.push(b'\n');
        line
    }

    fn read_all(read: OwnedFd) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut all = Vec::new();
            std::io::Read::read_to_end(&mut std::fs::File::from(read), &mut all).unwrap();
            all
        })
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_stuck_reader_never_blocks_and_drops_are_counted() {
        let (read, write) = nix::unistd::pipe().unwrap();
        let mut out = Output::from_fd(write.as_fd(), 256 * 1024).unwrap();
        drop(write); // our reopened description keeps the pipe's write side open
        let web: Arc<str> = Arc::from("web.service");
        // Far more than the pipe (64 KiB) and the queue (256 KiB) hold: must return at once.
        for seq in 1..=1000 {
            out.push(&web, seq, line(1024));
        }
        assert!(out.pending());
        assert!(
            out.take_drops().is_empty(),
            "reported before the output drained"
        );
        let lost = out.take_lost();
        assert!(lost.len() > 600, "dropped {}", lost.len());
        // The newest lines are the ones dropped.
        assert_eq!(lost.last().map(|l| l.1), Some(1000));
        let reader = read_all(read);
        out.drain().await.unwrap();
        assert!(!out.pending());
        let drops = out.take_drops();
        assert_eq!(drops[&web].lines, u64::try_from(lost.len()).unwrap());
        assert_eq!(drops[&web].first_seq, lost[0].1);
        drop(out);
        let all = reader.join().unwrap();
        let shown = all
            .split(|&b| b == b'\n')
            .filter(|l| l.len() == 1023)
            .count();
        assert_eq!(shown + lost.len(), 1000);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_flooding_source_cannot_push_a_quiet_one_out() {
        let (read, write) = nix::unistd::pipe().unwrap();
        let mut out = Output::from_fd(write.as_fd(), 64 * 1024).unwrap();
        drop(write);
        let flood: Arc<str> = Arc::from("flood.service");
        let quiet: Arc<str> = Arc::from("quiet.service");
        for seq in 1..=10_000 {
            out.push(&flood, seq, line(512));
            if seq % 1000 == 0 {
                out.push(&quiet, 100_000 + seq, b"quiet\n".to_vec());
            }
        }
        let drops = out.take_lost();
        assert!(drops.iter().all(|(s, _)| *s == flood), "quiet lost a line");
        let reader = read_all(read);
        out.drain().await.unwrap();
        drop(out);
        let all = reader.join().unwrap();
        let quiet_lines = all.split(|&b| b == b'\n').filter(|l| l == b"quiet").count();
        assert_eq!(quiet_lines, 10);
        // Negative control: a quiet unit beyond its share loses lines like anyone else.
        let (_read, write) = nix::unistd::pipe().unwrap();
        let mut out = Output::from_fd(write.as_fd(), 4096).unwrap();
        let mut seq = 0;
        while !out.pending() {
            seq += 1;
            out.push(&flood, seq, line(512));
        }
        for _ in 0..16 {
            seq += 1;
            out.push(&flood, seq, line(512));
        }
        out.take_lost();
        for n in 0..3 {
            out.push(&quiet, 100_000 + n, line(1024));
        }
        let quiet_lost: Vec<u64> = out
            .take_lost()
            .into_iter()
            .filter(|(s, _)| *s == quiet)
            .map(|(_, seq)| seq)
            .collect();
        assert_eq!(quiet_lost, [100_002]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn drops_of_many_sources_are_counted_within_a_bound() {
        let (read, write) = nix::unistd::pipe().unwrap();
        let mut out = Output::from_fd(write.as_fd(), 4096).unwrap();
        drop(write);
        // A stalled reader while 10,000 instances write a line each (a full queue first).
        for seq in 1..=10_000u64 {
            let source: Arc<str> = Arc::from(format!("conn@{seq}.service"));
            out.push(&source, seq, line(512));
        }
        out.take_lost();
        assert!(
            out.dropped.len() <= MAX_SOURCES + 1,
            "{}",
            out.dropped.len()
        );
        let reader = read_all(read);
        out.drain().await.unwrap();
        let drops = out.take_drops();
        drop(out);
        reader.join().unwrap();
        let total: u64 = drops.values().map(|d| d.lines).sum();
        let text = drop_report("stdout", &drops, |_, _| Some(0)).unwrap();
        assert!(
            text.starts_with(&format!("{total} line(s) dropped")),
            "{text}"
        );
        assert!(text.ends_with("more from other units"), "{text}");
        // Negative control: a few sources are each named.
        let mut few = BTreeMap::new();
        few.insert(
            Arc::from("a.service"),
            Dropped {
                lines: 1,
                first_seq: 1,
            },
        );
        let text = drop_report("stdout", &few, |_, _| Some(0)).unwrap();
        assert!(!text.contains("other units"), "{text}");
    }

    #[test]
    fn the_report_says_what_the_rings_still_hold() {
        let mut drops = BTreeMap::new();
        drops.insert(
            Arc::from("a.service"),
            Dropped {
                lines: 10,
                first_seq: 5,
            },
        );
        drops.insert(
            Arc::from("b.service"),
            Dropped {
                lines: 3,
                first_seq: 7,
            },
        );
        drops.insert(
            Arc::from("c.service"),
            Dropped {
                lines: 2,
                first_seq: 9,
            },
        );
        let text = drop_report("stdout", &drops, |s, _| match s {
            "a.service" => Some(4),
            "b.service" => Some(3),
            _ => Some(0),
        })
        .unwrap();
        assert_eq!(
            text,
            "15 line(s) dropped while stdout was not read: a.service 10 (the last 4 \
             still in `initctl logs a.service`, 6 lost), b.service 3 (all still in `initctl \
             logs b.service`), c.service 2 (none kept: lost)"
        );
        assert_eq!(drop_report("stdout", &BTreeMap::new(), |_, _| None), None);
    }
}
