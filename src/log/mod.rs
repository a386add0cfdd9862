//! Logging. This file: bosun's own diagnostics, one line each on stderr prefixed `bosun: `, or
//! one JSON object each with `log.format: json` ([`set_json`]: the fields of service lines'
//! JSON, unit `bosun`, with a syslog priority); verbosity is process-wide and set once, before
//! the event loop starts. PID 1 may also keep a copy of each message ([`keep_own`],
//! [`take_own`]) for the persistent journal. Before PID 1's event
//! loop exists (and in the command-line personalities) a diagnostic is a blocking write; in
//! PID 1 it goes through the non-blocking [`output::Output`] installed by
//! [`install_stderr`], which the loop drains ([`drain_stderr`]): a stalled reader of stderr
//! costs bosun's messages (counted and reported), never PID 1's progress. [`output`] is that
//! writer, for PID 1's stdout too. What stores and routes service output is
//! [`crate::journal`]'s; how a line is shown to a person is [`crate::vocab::text`]'s.

pub mod output;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::io::Write;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::task::Poll;

static VERBOSITY: AtomicU8 = AtomicU8::new(1);

/// Messages are JSON objects (`log.format: json`).
static JSON: AtomicBool = AtomicBool::new(false);

/// Messages kept for the persistent journal between two takes; the oldest go past this.
const OWN_LIMIT: usize = 1024;

/// One of bosun's own messages, as the persistent journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Own {
    /// Milliseconds since the epoch.
    pub ms: u64,
    /// syslog priority: 3 error, 4 warning, 5 notice, 6 info, 7 debug.
    pub priority: u8,
    /// The message, without `bosun: ` and the level's tag.
    pub text: String,
}

/// Bound of bosun's own queued messages on stderr.
const STDERR_LIMIT: usize = 64 * 1024;

thread_local! {
    /// PID 1's stderr while its event loop runs (PID 1 has one thread: this is its sink).
    static STDERR: RefCell<Option<output::Output>> = const { RefCell::new(None) };
    /// Copies of the messages said, while PID 1 persists its journal ([`keep_own`]).
    static KEPT: RefCell<Option<VecDeque<Own>>> = const { RefCell::new(None) };
}

/// From now on (`on`), keep a copy of each message said on this thread (at most
/// `OWN_LIMIT` (1,024) between two [`take_own`] calls) for the persistent journal; or no longer.
pub fn keep_own(on: bool) {
    KEPT.with(|cell| {
        if let Ok(mut kept) = cell.try_borrow_mut() {
            *kept = on.then(VecDeque::new);
        }
    });
}

/// The messages kept since the last call.
pub fn take_own() -> Vec<Own> {
    KEPT.with(|cell| match cell.try_borrow_mut() {
        Ok(mut kept) => kept
            .as_mut()
            .map(|k| k.drain(..).collect())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    })
}

/// Say messages as JSON objects (`log.format: json`), or as text.
pub fn set_json(on: bool) {
    JSON.store(on, Ordering::Relaxed);
}

/// Whether messages are JSON objects.
pub fn json() -> bool {
    JSON.load(Ordering::Relaxed)
}

/// One of bosun's own messages as a line of its stderr (or of stdout, for a drop report):
/// `bosun: TAG TEXT`, or with [`set_json`] a JSON object with the fields of a service line's
/// (`time`, `unit`, `pid`, `stream`, `priority`, `facility`, `identifier`, `message`).
pub fn own_line(priority: u8, text: &str) -> Vec<u8> {
    if json() {
        let object = serde_json::json!({
            "time": crate::vocab::time::rfc3339(std::time::SystemTime::now()),
            "unit": "bosun",
            "pid": std::process::id(),
            "stream": "stderr",
            "priority": priority,
            "facility": 3,
            "identifier": "bosun",
            "message": text,
        });
        let mut line = object.to_string().into_bytes();
        line.push(b'\n');
        return line;
    }
    let tag = match priority {
        0..=3 => "error: ",
        4 => "warning: ",
        7 => "debug: ",
        _ => "",
    };
    format!("bosun: {tag}{text}\n").into_bytes()
}

/// The source name of bosun's own messages in the drop report.
fn own() -> Arc<str> {
    Arc::from("bosun")
}

/// From now on, this thread's diagnostics are queued and written without blocking. Needs a
/// running tokio runtime; the event loop must poll [`drain_stderr`] and call [`detach_stderr`]
/// before the runtime ends.
pub fn install_stderr() -> std::io::Result<()> {
    let sink = output::Output::from_fd(std::io::stderr().as_fd(), STDERR_LIMIT)?;
    STDERR.with(|cell| *cell.borrow_mut() = Some(sink));
    Ok(())
}

/// Write what waits on stderr; completes once it is all written (then the caller loops and
/// polls again), pending while nothing waits or the reader does not read. Says how many
/// messages were lost once stderr drains.
pub async fn drain_stderr() {
    std::future::poll_fn(|cx| {
        STDERR.with(|cell| {
            let Ok(mut guard) = cell.try_borrow_mut() else {
                return Poll::Pending;
            };
            let Some(sink) = guard.as_mut() else {
                return Poll::Pending;
            };
            if !sink.pending() {
                // Drained by a later message's own write, not here: report what was lost.
                output::report_unkept("stderr", sink);
                if !sink.pending() {
                    return Poll::Pending;
                }
            }
            match sink.poll_drain(cx) {
                Poll::Pending => Poll::Pending,
                // A stderr that cannot be watched: leave the rest to detach's single attempt.
                Poll::Ready(_) => {
                    output::report_unkept("stderr", sink);
                    Poll::Ready(())
                }
            }
        })
    })
    .await;
}

/// The event loop is ending: write what can be written at once (never waiting), then go on
/// writing each later message with one non-blocking attempt.
pub fn detach_stderr() {
    STDERR.with(|cell| {
        if let Ok(mut guard) = cell.try_borrow_mut()
            && let Some(sink) = guard.as_mut()
        {
            sink.detach();
        }
    });
}

/// How much bosun says: 0 = errors only, 1 = warnings (default), 2 = info, 3 = debug.
pub fn set_verbosity(level: u8) {
    VERBOSITY.store(level, Ordering::Relaxed);
}

/// The current verbosity level.
pub fn verbosity() -> u8 {
    VERBOSITY.load(Ordering::Relaxed)
}

fn emit(level: u8, priority: u8, args: fmt::Arguments<'_>) {
    if verbosity() < level {
        return;
    }
    let text = args.to_string();
    // One write per line, so lines from bosun and its children do not interleave mid-line.
    let line = own_line(priority, &text);
    KEPT.with(|cell| {
        if let Ok(mut kept) = cell.try_borrow_mut()
            && let Some(kept) = kept.as_mut()
        {
            if kept.len() >= OWN_LIMIT {
                kept.pop_front();
            }
            kept.push_back(Own {
                ms: crate::vocab::time::now_ms(),
                priority,
                text,
            });
        }
    });
    let unqueued = STDERR.with(move |cell| match cell.try_borrow_mut() {
        Ok(mut guard) => match guard.as_mut() {
            Some(sink) => {
                sink.push(&own(), 0, line);
                None
            }
            None => Some(line),
        },
        // Re-entered while the sink is busy (it logs nothing, so this does not happen): lose
        // the line rather than block.
        Err(_) => None,
    });
    if let Some(line) = unqueued {
        // stderr may be closed; there is nobody else to tell.
        let _ = std::io::stderr().lock().write_all(&line);
    }
}

/// An error with its causes, `a: b: c` (anyhow's `{:#}`): how bosun tells every error it
/// reports, from the CLI, PID 1 and the engine alike.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// An error that does not stop bosun by itself (the caller decides).
pub fn error(args: fmt::Arguments<'_>) {
    emit(0, 3, args);
}

/// Something the operator should know about.
pub fn warn(args: fmt::Arguments<'_>) {
    emit(1, 4, args);
}

/// A warning when bosun is root; when it is not (`--user`, an arbitrary UID), what it may not
/// do is expected and said with -v only.
pub fn warn_if_root(args: fmt::Arguments<'_>) {
    if nix::unistd::geteuid().is_root() {
        warn(args);
    } else {
        info(args);
    }
}

/// What the units do (started, stopped), shown by default like systemd's console messages.
pub fn notice(args: fmt::Arguments<'_>) {
    emit(1, 5, args);
}

/// Progress worth reading in a normal log.
pub fn info(args: fmt::Arguments<'_>) {
    emit(2, 6, args);
}

/// Detail for debugging bosun itself.
pub fn debug(args: fmt::Arguments<'_>) {
    emit(3, 7, args);
}
