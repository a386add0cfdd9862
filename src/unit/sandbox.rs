//! The typed model of the sandboxing directives of systemd.exec(5) that need a mount
//! namespace (PrivateTmp=, ProtectSystem=, ProtectHome=, ReadWritePaths=, ReadOnlyPaths=,
//! InaccessiblePaths=, BindPaths=, BindReadOnlyPaths=): plain data, as written. Parsing is
//! `apply_sandbox`'s, the plan a child runs is `service::namespace`'s.

use std::path::PathBuf;

/// The sandboxing directives of systemd.exec(5) that need a mount namespace, as written
/// (paths with specifiers resolved, not yet looked up on disk: see `service::namespace`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamespaceSettings {
    /// PrivateTmp=.
    pub private_tmp: bool,
    /// ProtectSystem=.
    pub protect_system: ProtectSystem,
    /// ProtectHome=.
    pub protect_home: ProtectHome,
    /// ReadWritePaths= (and ReadWriteDirectories=).
    pub read_write: Vec<SandboxPath>,
    /// ReadOnlyPaths= (and ReadOnlyDirectories=).
    pub read_only: Vec<SandboxPath>,
    /// InaccessiblePaths= (and InaccessibleDirectories=).
    pub inaccessible: Vec<SandboxPath>,
    /// BindPaths= and BindReadOnlyPaths=, in assignment order.
    pub binds: Vec<BindPath>,
}

/// ProtectSystem=.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProtectSystem {
    #[default]
    No,
    /// `yes`: /usr, /boot and /efi read-only.
    Yes,
    /// `full`: and /etc.
    Full,
    /// `strict`: the whole tree but /dev, /proc, /sys and the unit's own directories.
    Strict,
}

/// ProtectHome=.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProtectHome {
    #[default]
    No,
    /// `yes`: /home, /root and /run/user inaccessible.
    Yes,
    /// `read-only`.
    ReadOnly,
    /// `tmpfs`: an empty read-only tmpfs on each.
    Tmpfs,
}

/// One path of ReadWritePaths=, ReadOnlyPaths= or InaccessiblePaths=.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxPath {
    /// Absolute and normalised.
    pub path: PathBuf,
    /// `-`: a path that does not exist is skipped.
    pub optional: bool,
    /// `+`: the path is the host's, not under the unit's root (systemd: not under
    /// RootDirectory=; bosun: not under `BOSUN_ROOT`).
    pub host: bool,
}

/// One entry of BindPaths= or BindReadOnlyPaths=.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindPath {
    pub source: PathBuf,
    pub destination: PathBuf,
    /// `-` on the source: a missing source is skipped.
    pub optional: bool,
    /// BindReadOnlyPaths=.
    pub read_only: bool,
    /// `rbind` (the default) or `norbind`.
    pub recursive: bool,
}
