//! Unit files: everything bosun knows about a systemd unit before anything runs. This module
//! reads the INI dialect ([`syntax`]), scalar values ([`value`]), command lines ([`exec`]),
//! specifiers ([`specifier`]), environment files ([`envfile`]) and calendar events
//! ([`calendar`]); it types the keys of
//! `[Unit]`, `[Service]`, `[Socket]`, `[Timer]` and `[Install]` ([`model`], applied by
//! [`apply`]), knows every directive systemd knows and how bosun treats it ([`directive`]),
//! and finds units on disk with their drop-ins, aliases, masks and enablement links
//! ([`load`]). It never starts a process; a broken unit fails alone with `path:line` messages.

pub mod apply;
mod apply_exec;
mod apply_log;
mod apply_path;
mod apply_privs;
mod apply_sandbox;
mod apply_socket;
pub mod calendar;
pub mod directive;
pub mod envfile;
pub mod exec;
pub mod generators;
pub mod glob;
pub mod install;
pub mod load;
pub mod model;
pub mod name;
pub mod restrict;
pub mod sandbox;
pub mod special;
pub mod specifier;
pub mod syntax;
pub mod syscall_filter;
pub mod sysv;
pub mod value;

use std::fmt;
use std::path::{Path, PathBuf};

pub use directive::{Directive, Support, directive_table};
pub use exec::{ExecCommand, ExecFlags};
pub use load::{LoadError, LoadState, LoadedUnit, Loader, SearchPath};
pub use model::Unit;
pub use name::UnitName;
pub use specifier::SpecifierContext;
pub use value::{Timespan, parse_timespan};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The unit still loads; the line or the value is ignored.
    Warning,
    /// The unit fails to load.
    Error,
}

/// What a diagnostic is about, for callers that filter or group them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiagnosticKind {
    /// A line that is ignored (missing `=`, assignment outside a section, ...).
    SyntaxWarning,
    /// A line that makes the file unusable (bad section header, unbalanced quotes, ...).
    SyntaxError,
    /// A section systemd does not know for this unit type.
    UnknownSection,
    /// A key systemd does not know in this section.
    UnknownKey,
    /// A directive systemd knows that a container cannot or need not enforce.
    Ignored(&'static str),
    /// A directive systemd knows that bosun does not implement yet.
    NotYetSupported(&'static str),
    /// A value bosun reads with a warning, as systemd does (unknown escapes, specifiers).
    ValueWarning,
    /// A value that does not parse: the unit fails.
    InvalidValue,
    /// A rule about the unit as a whole (no ExecStart=, ...): the unit fails.
    InvalidUnit,
}

impl DiagnosticKind {
    /// Whether this kind fails the unit.
    pub fn severity(self) -> Severity {
        match self {
            DiagnosticKind::SyntaxError
            | DiagnosticKind::InvalidValue
            | DiagnosticKind::InvalidUnit => Severity::Error,
            _ => Severity::Warning,
        }
    }
}

/// One message about a unit file, printed as `path:line: message` like systemd-analyze verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the message is about.
    pub path: PathBuf,
    /// The 1-based line, when the message is about one line.
    pub line: Option<usize>,
    /// What the message is about.
    pub kind: DiagnosticKind,
    /// The text, without location.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic at `path:line`.
    pub fn new(path: &Path, line: Option<usize>, kind: DiagnosticKind, message: String) -> Self {
        Diagnostic {
            path: path.to_owned(),
            line,
            kind,
            message,
        }
    }

    /// Whether it fails the unit.
    pub fn is_error(&self) -> bool {
        self.kind.severity() == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}
