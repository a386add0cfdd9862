//! The server end, in PID 1: bind the socket (replacing a stale one), accept connections in
//! small tasks of PID 1's thread, check each caller's credentials, and pass each request to
//! the event loop as an [`Incoming`] it answers through `reply`.
//!
//! Anyone may connect (mode 0666), so nothing a caller does may cost PID 1 more than a bounded
//! amount: connections are capped overall and per uid (root and bosun's own uid keep a reserved
//! share, so root's systemctl always gets in), the request line is capped in size and must
//! arrive within [`READ_DEADLINE`], the answer is capped in size and must be taken within
//! [`WRITE_DEADLINE`], and the bytes of answers held for unprivileged callers that do not read
//! are capped together. A connection's task that panics is noticed and logged; the accept loop
//! goes on. This module must not answer requests itself: the event loop does.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use super::proto::{Call, Request, Response, VERSION};

/// A request's longest line. The largest real calls (systemctl naming a few hundred units,
/// `set-environment` with long values) stay far below it; a unit name is at most 255 bytes.
pub const MAX_CALL: usize = 64 * 1024;

/// How long a client has, once connected, to send its request line (systemctl and initctl send
/// it at once).
pub const READ_DEADLINE: Duration = Duration::from_secs(5);

/// How long a client has to take its answer; one that never reads must not pin a copy of the
/// logs in PID 1.
pub const WRITE_DEADLINE: Duration = Duration::from_secs(5);

/// The largest answer, as JSON. `logs` answers are cut well below it (see
/// [`MAX_LOG_BYTES`]); an answer that would still be larger is replaced by an error.
pub const MAX_ANSWER: usize = 4 * 1024 * 1024;

/// What a `logs` answer carries at most: its oldest lines are left out beyond this many lines
/// or bytes of text, and the answer says how many.
pub const MAX_LOG_LINES: usize = 10_000;
/// See [`MAX_LOG_LINES`].
pub const MAX_LOG_BYTES: usize = 1024 * 1024;

/// Connections open at once, all callers together: far below PID 1's file limit, which spawns
/// need.
pub const MAX_CONNECTIONS: usize = 256;

/// Connections open at once from one uid other than root and bosun's own.
pub const MAX_PER_UID: usize = 32;

/// Connections only root and bosun's own uid may take: other uids together hold at most
/// [`MAX_CONNECTIONS`] minus these.
pub const RESERVED: usize = 64;

/// Bytes of answers held for unprivileged callers that have not read them yet, all together.
pub const MAX_HELD: usize = 16 * 1024 * 1024;

/// One request for the event loop.
#[derive(Debug)]
pub struct Incoming {
    pub request: Request,
    /// The caller's uid (SO_PEERCRED).
    pub uid: u32,
    pub reply: oneshot::Sender<Response>,
}

/// Whether a request changes anything (and so needs root or bosun's own uid).
pub fn changes_state(request: &Request) -> bool {
    !matches!(
        request,
        Request::Units { .. }
            | Request::States { .. }
            | Request::System
            | Request::Overview
            | Request::Summary
            | Request::Logs { .. }
    ) && !matches!(request, Request::Environment { set, unset } if set.is_empty() && unset.is_empty())
}

/// Bind the control socket at `path`: its directory is created, a stale socket (a file no
/// one listens on) is replaced; a socket someone answers on is another bosun's, an error.
pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!("another bosun answers on {}", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    // Anyone may connect and read; what they may change is decided per call by uid.
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o666))?;
    Ok(listener)
}

/// The socket file this bosun bound, to remove at exit unless another bosun has replaced it.
#[derive(Debug)]
pub struct Bound {
    path: PathBuf,
    identity: (u64, u64),
}

impl Bound {
    /// The socket just bound at `path`.
    pub fn of(path: &Path) -> Option<Self> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        Some(Self {
            path: path.to_owned(),
            identity: (meta.dev(), meta.ino()),
        })
    }

    /// Remove the file if it is still the one bound; clients then say bosun is not running
    /// instead of failing to connect.
    pub fn remove(&self) {
        if let Ok(meta) = std::fs::symlink_metadata(&self.path)
            && (meta.dev(), meta.ino()) == self.identity
            && let Err(e) = std::fs::remove_file(&self.path)
        {
            crate::log::debug(format_args!("cannot remove {}: {e}", self.path.display()));
        }
    }
}

/// Who holds connections now, to admit or refuse the next one.
#[derive(Debug, Default)]
struct Admission {
    by_uid: HashMap<u32, usize>,
    total: usize,
    /// Connections of uids other than root and bosun's own.
    unprivileged: usize,
}

impl Admission {
    /// Count a new connection of `uid`, or say why it is refused (the one line its client
    /// prints).
    fn admit(&mut self, uid: u32, privileged: bool) -> Result<(), String> {
        let mine = self.by_uid.get(&uid).copied().unwrap_or(0);
        if self.total >= MAX_CONNECTIONS {
            return Err(format!(
                "too many connections to bosun ({MAX_CONNECTIONS} open, the most it takes); \
                 try again later"
            ));
        }
        if !privileged && mine >= MAX_PER_UID {
            return Err(format!(
                "too many connections from uid {uid} ({MAX_PER_UID} open, the most one user \
                 may hold); close some and try again"
            ));
        }
        if !privileged && self.unprivileged >= MAX_CONNECTIONS - RESERVED {
            return Err(format!(
                "too many connections to bosun from users other than root ({} open, the rest \
                 is kept for root); try again later",
                MAX_CONNECTIONS - RESERVED
            ));
        }
        self.by_uid.insert(uid, mine + 1);
        self.total += 1;
        if !privileged {
            self.unprivileged += 1;
        }
        Ok(())
    }

    /// A connection of `uid` has ended.
    fn release(&mut self, uid: u32, privileged: bool) {
        if let Some(n) = self.by_uid.get_mut(&uid) {
            *n -= 1;
            if *n == 0 {
                self.by_uid.remove(&uid);
            }
        }
        self.total = self.total.saturating_sub(1);
        if !privileged {
            self.unprivileged = self.unprivileged.saturating_sub(1);
        }
    }
}

/// Accept connections on `listener` and pass each call to PID 1's loop through `calls`.
pub async fn serve(listener: UnixListener, calls: mpsc::Sender<Incoming>) {
    let me = nix::unistd::geteuid().as_raw();
    let mut admission = Admission::default();
    let mut tasks: JoinSet<()> = JoinSet::new();
    let mut owners: HashMap<tokio::task::Id, u32> = HashMap::new();
    // Uids told about once: a refused client that retries does not flood PID 1's output.
    let mut warned: std::collections::HashSet<u32> = std::collections::HashSet::new();
    let held = Arc::new(AtomicUsize::new(0));
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let Ok(cred) = stream.peer_cred() else { continue };
                    let uid = cred.uid();
                    let privileged = uid == 0 || uid == me;
                    match admission.admit(uid, privileged) {
                        Ok(()) => {
                            let caller = Caller { uid, privileged };
                            let task = answer(stream, caller, calls.clone(), held.clone());
                            let handle = tasks.spawn(task);
                            owners.insert(handle.id(), uid);
                        }
                        Err(message) => {
                            if warned.insert(uid) {
                                crate::log::warn(format_args!("control socket: {message}"));
                            }
                            refuse(&stream, message);
                        }
                    }
                }
                Err(e) => {
                    crate::log::warn(format_args!("control socket: accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(ended) = tasks.join_next_with_id() => {
                let (uid, panicked) = task_ended(ended, &mut owners);
                admission.release(uid, uid == 0 || uid == me);
                if !admission.by_uid.contains_key(&uid) {
                    warned.remove(&uid);
                }
                if let Some(what) = panicked {
                    crate::log::error(format_args!("control socket: {what}"));
                }
            }
        }
    }
}

/// The uid whose connection's task ended, and what to say when it panicked (tokio catches the
/// panic; it must not vanish).
fn task_ended(
    ended: Result<(tokio::task::Id, ()), tokio::task::JoinError>,
    owners: &mut HashMap<tokio::task::Id, u32>,
) -> (u32, Option<String>) {
    let id = match &ended {
        Ok((id, ())) => *id,
        Err(e) => e.id(),
    };
    let uid = owners.remove(&id).unwrap_or(u32::MAX);
    let panicked = match ended {
        Err(e) if e.is_panic() => Some(format!(
            "the task answering a connection of uid {uid} panicked: {}; the connection was \
             dropped, the socket keeps serving",
            panic_text(e.into_panic())
        )),
        _ => None,
    };
    (uid, panicked)
}

/// The text a panic was raised with.
fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload
            .downcast::<&'static str>()
            .map_or_else(|_| "(no message)".to_owned(), |s| (*s).to_owned()),
    }
}

/// Tell a refused client why, in one line, without waiting for it: a fresh socket's buffer
/// takes the line whole, and a client that does not read loses it.
fn refuse(stream: &UnixStream, message: String) {
    if let Some(bytes) = encode(&Response::Error { message, exit: 1 }) {
        let _ = stream.try_write(&bytes);
    }
}

/// Who is calling.
#[derive(Debug, Clone, Copy)]
struct Caller {
    uid: u32,
    /// Root or bosun's own uid.
    privileged: bool,
}

async fn answer(
    stream: UnixStream,
    caller: Caller,
    calls: mpsc::Sender<Incoming>,
    held: Arc<AtomicUsize>,
) {
    let (read, mut write) = stream.into_split();
    let mut line = Vec::new();
    let limit = u64::try_from(MAX_CALL).unwrap_or(u64::MAX);
    // A request is a line of a few hundred bytes: a small buffer (musl maps a larger one, an
    // 8 KiB default, for each connection and unmaps it after), the line grows past it.
    let mut reader = BufReader::with_capacity(1024, read.take(limit + 1));
    let read = reader.read_until(b'\n', &mut line);
    let response = match tokio::time::timeout(READ_DEADLINE, read).await {
        // A client that connects and closes (systemctl checking that bosun runs) reads 0
        // bytes; one that sends nothing in time is dropped.
        Ok(Ok(0) | Err(_)) | Err(_) => return,
        Ok(Ok(_)) if line.len() > MAX_CALL => Response::Error {
            message: format!(
                "request longer than {} KiB, the most bosun reads; name fewer units",
                MAX_CALL / 1024
            ),
            exit: 1,
        },
        Ok(Ok(_)) => respond(&line, caller, &calls).await,
    };
    drop(line);
    let Some(bytes) = encode(&response) else {
        return;
    };
    drop(response);
    // Answers waiting for unprivileged readers are capped together; root's never wait on it.
    let size = bytes.len();
    let bytes = if caller.privileged {
        bytes
    } else if held.fetch_add(size, Ordering::Relaxed) + size > MAX_HELD {
        held.fetch_sub(size, Ordering::Relaxed);
        let Some(busy) = encode(&Response::Error {
            message: format!(
                "bosun holds {} MiB of answers others have not read; try again later",
                MAX_HELD / (1024 * 1024)
            ),
            exit: 1,
        }) else {
            return;
        };
        let _ = tokio::time::timeout(WRITE_DEADLINE, write.write_all(&busy)).await;
        return;
    } else {
        bytes
    };
    let _ = tokio::time::timeout(WRITE_DEADLINE, write.write_all(&bytes)).await;
    if !caller.privileged {
        held.fetch_sub(size, Ordering::Relaxed);
    }
}

/// The answer as one line of JSON; an answer larger than [`MAX_ANSWER`] is replaced by an
/// error that says so.
fn encode(response: &Response) -> Option<Vec<u8>> {
    // Room for the whole answer at once: grown step by step, its buffer was mapped and
    // unmapped at each step past a few KiB.
    let room = match response {
        Response::Summary { units, .. } => 1024 + 384 * units.len(),
        Response::Units { units } | Response::Overview { units, .. } => 1024 + 1024 * units.len(),
        Response::Logs { lines, .. } => 256 + 192 * lines.len(),
        _ => 256,
    };
    let mut bytes = crate::control::proto::to_line_in(Vec::with_capacity(room), response).ok()?;
    if bytes.len() > MAX_ANSWER {
        bytes = crate::control::proto::to_line(&Response::Error {
            message: format!(
                "the answer is {} KiB, more than the {} KiB bosun sends; ask for fewer units",
                bytes.len() / 1024,
                MAX_ANSWER / 1024
            ),
            exit: 1,
        })
        .ok()?;
    }
    bytes.push(b'\n');
    Some(bytes)
}

/// Decode one request line and have the event loop answer it.
async fn respond(line: &[u8], caller: Caller, calls: &mpsc::Sender<Incoming>) -> Response {
    match serde_json::from_slice::<Call>(line) {
        Ok(call) if call.version != VERSION => Response::Error {
            message: format!(
                "this bosun speaks control protocol {VERSION}, the client {}",
                call.version
            ),
            exit: 1,
        },
        Ok(call) => {
            let (reply, answer) = oneshot::channel();
            let incoming = Incoming {
                request: call.request,
                uid: caller.uid,
                reply,
            };
            if calls.send(incoming).await.is_err() {
                return shutting_down();
            }
            answer.await.unwrap_or_else(|_| shutting_down())
        }
        Err(e) => Response::Error {
            message: format!("bad request: {e}"),
            exit: 1,
        },
    }
}

fn shutting_down() -> Response {
    Response::Error {
        message: "bosun is shutting down".into(),
        exit: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_caps_each_user_and_keeps_a_share_for_root() {
        let mut a = Admission::default();
        for _ in 0..MAX_PER_UID {
            a.admit(1000, false).unwrap();
        }
        let refused = a.admit(1000, false).unwrap_err();
        assert!(
            refused.contains("too many connections from uid 1000"),
            "{refused}"
        );
        // Another user still gets in; and one leaving makes room again.
        a.admit(1001, false).unwrap();
        a.release(1000, false);
        a.admit(1000, false).unwrap();
        // Unprivileged users together stop short of the reserved share; root does not.
        let mut uid = 2000;
        while a.unprivileged < MAX_CONNECTIONS - RESERVED {
            if a.admit(uid, false).is_err() {
                uid += 1;
            }
        }
        let refused = a.admit(99_999, false).unwrap_err();
        assert!(refused.contains("other than root"), "{refused}");
        for _ in 0..RESERVED {
            a.admit(0, true).unwrap();
        }
        let refused = a.admit(0, true).unwrap_err();
        assert!(
            refused.contains("too many connections to bosun"),
            "{refused}"
        );
        a.release(0, true);
        assert!(a.admit(0, true).is_ok());
        assert_eq!(a.total, MAX_CONNECTIONS);
    }

    #[test]
    fn a_panicking_connection_task_is_said_with_its_uid_and_message() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut tasks: JoinSet<()> = JoinSet::new();
            let mut owners = HashMap::new();
            let handle = tasks.spawn(async { panic!("boom in a connection") });
            owners.insert(handle.id(), 1234);
            let handle = tasks.spawn(async {});
            owners.insert(handle.id(), 0);
            let mut said = Vec::new();
            while let Some(ended) = tasks.join_next_with_id().await {
                said.push(task_ended(ended, &mut owners));
            }
            said.sort();
            assert_eq!(said[0], (0, None));
            let (uid, text) = &said[1];
            assert_eq!(*uid, 1234);
            let text = text.as_deref().unwrap();
            assert!(
                text.contains("connection of uid 1234 panicked: boom in a connection"),
                "{text}"
            );
            assert!(owners.is_empty());
        });
    }

    #[test]
    fn oversized_answers_become_an_error_that_says_so() {
        let big = Response::Environment {
            variables: vec!["X".repeat(1024); MAX_ANSWER / 1024 + 1],
        };
        let bytes = encode(&big).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.contains("more than the 4096 KiB bosun sends"),
            "{text}"
        );
        assert!(text.ends_with('\n'));
        assert!(encode(&Response::Done).unwrap().len() < 100);
    }
}
