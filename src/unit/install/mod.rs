//! Enablement: what `systemctl enable|disable|reenable|mask|unmask|preset|is-enabled|
//! list-unit-files|get-default|set-default` do on the file system, as systemd 252's
//! `src/shared/install.c` does it — the same symlinks, the same change list, the same unit file
//! states — under any root directory. The caller prints the changes ([`Change::message`]).
//!
//! The algorithm is install.c's, step for step: an install context of names still to process
//! and names processed; a unit is *searched* in the lookup paths (its own file, else its
//! template's), symlinks are *traversed* (an alias inside the search path starts a new entry,
//! a linked unit file outside it is followed in place), `[Install]` is read from the file and
//! its drop-ins, and the result combines per-unit counts and errors exactly as systemd's
//! integer return codes do — which decides exit codes and the "no installation config" notice.
//! Errors are errno values ([`Errno`]) because systemctl prints them with `strerror`.
//!
//! One deliberate extension over 252: `UpheldBy=` (systemd 254) creates `.upholds/` links and
//! counts as an installation rule, since bosun's loader reads `.upholds/`.
//!
//! This module reads and writes unit directories only; it never starts or stops anything.

mod context;
mod enable;
mod file;
pub mod paths;
mod preset;
mod state;
pub mod sysv;

use std::fmt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

pub use file::hidden_or_backup;
pub use paths::LookupPaths;
pub use preset::{PresetMode, Presets};
pub use state::FileState;

use super::specifier::SpecifierContext;

/// What one step of an operation did, or why it failed (install.c's `UnitFileChange`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What happened.
    pub kind: ChangeKind,
    /// The file or unit name the change is about.
    pub path: String,
    /// The symlink target, the source unit, or the existing link (depends on `kind`).
    pub source: Option<String>,
}

/// The kinds of [`Change`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// A symlink was created (`path` → `source`).
    Symlink,
    /// A file was removed.
    Unlink,
    /// The unit is masked and was skipped.
    IsMasked,
    /// The name is an alias to a unit that does not exist.
    IsDangling,
    /// A unit was linked into the `.wants/` of a unit (`path`) that does not exist.
    DestinationNotPresent,
    /// An `Also=` unit (`source`) could not be enabled.
    AuxiliaryFailed,
    /// The step failed with this error.
    Failed(Errno),
}

impl Change {
    fn new(kind: ChangeKind, path: impl Into<String>, source: Option<String>) -> Self {
        Change {
            kind,
            path: path.into(),
            source,
        }
    }

    /// Whether the change is an error (printed even with `--quiet`).
    pub fn is_error(&self) -> bool {
        matches!(self.kind, ChangeKind::Failed(_))
    }

    /// The line systemctl prints for this change (unit_file_dump_changes): `verb` names the
    /// operation in error messages ("enable", "set default"); `arrow` is `→` or `->`.
    pub fn message(&self, verb: &str, arrow: &str) -> String {
        let path = &self.path;
        let source = self.source.as_deref().unwrap_or("");
        match self.kind {
            ChangeKind::Symlink => format!("Created symlink {path} {arrow} {source}."),
            ChangeKind::Unlink => format!("Removed \"{path}\"."),
            ChangeKind::IsMasked => format!("Unit {path} is masked, ignoring."),
            ChangeKind::IsDangling => {
                format!("Unit {path} is an alias to a unit that is not present, ignoring.")
            }
            ChangeKind::DestinationNotPresent => {
                format!("Unit {source} is added as a dependency to a non-existent unit {path}.")
            }
            ChangeKind::AuxiliaryFailed => {
                format!("Failed to enable auxiliary unit {source}, ignoring.")
            }
            ChangeKind::Failed(e) => match e {
                Errno::EEXIST if self.source.is_some() => format!(
                    "Failed to {verb} unit, file \"{path}\" already exists and is a symlink to \"{source}\"."
                ),
                Errno::EEXIST => format!("Failed to {verb} unit, file \"{path}\" already exists."),
                Errno::ERFKILL => format!("Failed to {verb} unit, unit {path} is masked."),
                Errno::EADDRNOTAVAIL => {
                    format!("Failed to {verb} unit, unit {path} is transient or generated.")
                }
                Errno::EBADSLT => {
                    format!("Failed to {verb} unit, invalid specifier in \"{path}\".")
                }
                Errno::EIDRM => format!(
                    "Failed to {verb} {source}, destination unit {path} is a non-template unit."
                ),
                Errno::EUCLEAN => {
                    format!("Failed to {verb} unit, \"{path}\" is not a valid unit name.")
                }
                Errno::ELOOP => format!(
                    "Failed to {verb} unit, refusing to operate on linked unit file {path}."
                ),
                Errno::ENOENT => format!("Failed to {verb} unit, unit {path} does not exist."),
                Errno::EUNATCH => {
                    format!("Failed to {verb} unit, cannot resolve specifiers in \"{path}\".")
                }
                Errno::EXDEV if self.source.is_some() => {
                    format!("Failed to {verb} unit, cannot alias {source} as {path}.")
                }
                Errno::EXDEV => {
                    format!("Failed to {verb} unit, invalid unit reference \"{path}\".")
                }
                other => format!(
                    "Failed to {verb} unit, file \"{path}\": {}",
                    strerror(other)
                ),
            },
        }
    }
}

/// Options of a file operation (install.c's `UnitFileFlags`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InstallFlags {
    /// Write to `/run/systemd/system` instead of `/etc/systemd/system` (`--runtime`).
    pub runtime: bool,
    /// Replace conflicting symlinks (`--force`).
    pub force: bool,
    /// Compute the changes without touching the file system.
    pub dry_run: bool,
    /// Presets: skip units whose links cannot be made instead of failing.
    pub ignore_auxiliary_failure: bool,
}

/// Runs enablement operations over one set of lookup paths.
#[derive(Debug)]
pub struct Installer {
    lp: LookupPaths,
    /// The facts specifiers stand for, read at their first use (most `[Install]` sections
    /// use none, and `systemctl status` asks only for a unit's state).
    spec: std::cell::OnceCell<SpecifierContext>,
    /// Where they are read from when they were not given.
    spec_root: PathBuf,
    warnings: Vec<String>,
    arrow: &'static str,
}

/// `name` is a unit name systemd accepts, of one of the forms in `forms`.
fn name_is(name: &str, forms: Forms) -> bool {
    match super::UnitName::parse(name) {
        Ok(n) if n.is_template() => forms.template,
        Ok(n) if n.is_instance() => forms.instance,
        Ok(_) => forms.plain,
        Err(_) => false,
    }
}

/// Which forms of unit names are acceptable (systemd's UNIT_NAME_PLAIN|INSTANCE|TEMPLATE).
#[derive(Debug, Clone, Copy)]
struct Forms {
    plain: bool,
    instance: bool,
    template: bool,
}

const ANY: Forms = Forms {
    plain: true,
    instance: true,
    template: true,
};

fn basename(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

impl Installer {
    /// An installer over `lp`, resolving specifiers in `[Install]` with `spec`.
    pub fn new(lp: LookupPaths, spec: SpecifierContext) -> Self {
        Installer {
            spec: std::cell::OnceCell::from(spec),
            ..Installer::reading_specifiers(lp, Path::new(""))
        }
    }

    /// An installer over `lp` whose specifiers' facts are read under `root` the first time a
    /// value uses one ([`SpecifierContext::from_system`]).
    pub fn reading_specifiers(lp: LookupPaths, root: &Path) -> Self {
        Installer {
            lp,
            spec: std::cell::OnceCell::new(),
            spec_root: root.to_owned(),
            warnings: Vec::new(),
            arrow: "→",
        }
    }

    /// The facts specifiers stand for.
    pub(super) fn spec(&self) -> &SpecifierContext {
        self.spec
            .get_or_init(|| SpecifierContext::from_system(&self.spec_root))
    }

    /// The arrow used in warnings about symlinks: `→`, or `->` when the locale is not UTF-8.
    pub fn set_arrow(&mut self, arrow: &'static str) {
        self.arrow = arrow;
    }

    /// The lookup paths.
    pub fn lookup_paths(&self) -> &LookupPaths {
        &self.lp
    }

    /// The warnings systemd logs while reading files (unknown `[Install]` keys, bad preset
    /// lines, suspicious symlinks), in order, since the last call.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn warn(&mut self, text: String) {
        self.warnings.push(text);
    }

    fn config_path(&self, flags: InstallFlags) -> PathBuf {
        if flags.runtime {
            self.lp.runtime_config.clone()
        } else {
            self.lp.persistent_config.clone()
        }
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            ChangeKind::Symlink => "symlink",
            ChangeKind::Unlink => "unlink",
            ChangeKind::IsMasked => "masked",
            ChangeKind::IsDangling => "dangling",
            ChangeKind::DestinationNotPresent => "destination not present",
            ChangeKind::AuxiliaryFailed => "auxiliary unit failed",
            ChangeKind::Failed(e) => return write!(f, "error: {}", strerror(*e)),
        };
        f.write_str(text)
    }
}

/// strerror() as glibc words it (systemctl prints errors with `%m`; nix's and musl's texts
/// differ for some codes, and scripts compare these lines).
pub fn strerror(e: Errno) -> String {
    let text = match e {
        Errno::EPERM => "Operation not permitted",
        Errno::ENOENT => "No such file or directory",
        Errno::EIO => "Input/output error",
        Errno::ENXIO => "No such device or address",
        Errno::ENOMEM => "Cannot allocate memory",
        Errno::EACCES => "Permission denied",
        Errno::EBUSY => "Device or resource busy",
        Errno::EEXIST => "File exists",
        Errno::EXDEV => "Invalid cross-device link",
        Errno::ENOTDIR => "Not a directory",
        Errno::EISDIR => "Is a directory",
        Errno::EINVAL => "Invalid argument",
        Errno::ENOTTY => "Inappropriate ioctl for device",
        Errno::ENOSPC => "No space left on device",
        Errno::EROFS => "Read-only file system",
        Errno::EMLINK => "Too many links",
        Errno::ENAMETOOLONG => "File name too long",
        Errno::ENOTEMPTY => "Directory not empty",
        Errno::ELOOP => "Too many levels of symbolic links",
        Errno::EIDRM => "Identifier removed",
        Errno::EUNATCH => "Protocol driver not attached",
        Errno::EBADSLT => "Invalid slot",
        Errno::ENOLINK => "Link has been severed",
        Errno::EBADMSG => "Bad message",
        Errno::EBADFD => "File descriptor in bad state",
        Errno::EADDRNOTAVAIL => "Cannot assign requested address",
        Errno::EUCLEAN => "Structure needs cleaning",
        Errno::ERFKILL => "Operation not possible due to RF-kill",
        Errno::ECONNREFUSED => "Connection refused",
        other => return other.desc().to_owned(),
    };
    text.to_owned()
}
