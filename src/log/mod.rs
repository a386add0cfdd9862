//! Logging. This file: bosun's own diagnostics, one line each on stderr prefixed `bosun: `;
//! verbosity is process-wide and set once, before the event loop starts. Submodules: service
//! output — [`line`](mod@line) cuts a byte stream into bounded lines, [`ring`] keeps each unit's recent
//! lines for `initctl logs`, [`format`](mod@format) renders them, and [`output`] writes them to
//! PID 1's stdout without ever blocking.

pub mod format;
pub mod line;
pub mod output;
pub mod ring;

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

static VERBOSITY: AtomicU8 = AtomicU8::new(1);

/// How much bosun says: 0 = errors only, 1 = warnings (default), 2 = info, 3 = debug.
pub fn set_verbosity(level: u8) {
    VERBOSITY.store(level, Ordering::Relaxed);
}

/// The current verbosity level.
pub fn verbosity() -> u8 {
    VERBOSITY.load(Ordering::Relaxed)
}

fn emit(level: u8, tag: &str, args: fmt::Arguments<'_>) {
    if verbosity() < level {
        return;
    }
    // One write per line, so lines from bosun and its children do not interleave mid-line.
    let line = format!("bosun: {tag}{args}\n");
    // stderr may be closed; there is nobody else to tell.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// An error that does not stop bosun by itself (the caller decides).
pub fn error(args: fmt::Arguments<'_>) {
    emit(0, "error: ", args);
}

/// Something the operator should know about.
pub fn warn(args: fmt::Arguments<'_>) {
    emit(1, "warning: ", args);
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
    emit(1, "", args);
}

/// Progress worth reading in a normal log.
pub fn info(args: fmt::Arguments<'_>) {
    emit(2, "", args);
}

/// Detail for debugging bosun itself.
pub fn debug(args: fmt::Arguments<'_>) {
    emit(3, "debug: ", args);
}
