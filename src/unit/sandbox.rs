//! The typed model of the sandboxing directives of systemd.exec(5) that need a mount
//! namespace (PrivateTmp=, ProtectSystem=, ProtectHome=, ReadWritePaths=, ReadOnlyPaths=,
//! InaccessiblePaths=, BindPaths=, BindReadOnlyPaths=, PrivateDevices=, ProtectKernelTunables=,
//! ProtectControlGroups=, ProtectProc=, ProcSubset=, TemporaryFileSystem=, ExecPaths=,
//! NoExecPaths=, PrivateMounts=, MountFlags=): plain data, as written. Parsing is
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
    /// PrivateDevices=: a /dev of its own with the pseudo-devices only.
    pub private_devices: bool,
    /// ProtectKernelTunables=: /proc/sys, /sys and the like read-only.
    pub protect_kernel_tunables: bool,
    /// ProtectControlGroups=: /sys/fs/cgroup read-only.
    pub protect_control_groups: bool,
    /// ProtectProc=: the `hidepid=` of a procfs of the service's own.
    pub protect_proc: ProtectProc,
    /// ProcSubset=pid: that procfs shows processes only (`subset=pid`).
    pub proc_subset_pid: bool,
    /// TemporaryFileSystem=: (path, mount options as written, `ro` included).
    pub temporary: Vec<(PathBuf, String)>,
    /// ExecPaths=.
    pub exec: Vec<SandboxPath>,
    /// NoExecPaths=.
    pub no_exec: Vec<SandboxPath>,
    /// PrivateMounts=.
    pub private_mounts: bool,
    /// MountFlags= (None: systemd's default, `shared`).
    pub mount_flags: Option<Propagation>,
}

/// MountFlags=: how the service's mounts propagate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Shared,
    Slave,
    Private,
}

/// ProtectProc= (proc(5) `hidepid=`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProtectProc {
    /// `default`: /proc as it is.
    #[default]
    Default,
    /// `noaccess`: other users' /proc/PID directories are there but cannot be entered.
    NoAccess,
    /// `invisible`: other users' processes are not listed.
    Invisible,
    /// `ptraceable`: only processes the service may ptrace are listed.
    Ptraceable,
}

impl ProtectProc {
    /// The value as written, which is also procfs's `hidepid=` word.
    pub fn word(self) -> &'static str {
        match self {
            ProtectProc::Default => "default",
            ProtectProc::NoAccess => "noaccess",
            ProtectProc::Invisible => "invisible",
            ProtectProc::Ptraceable => "ptraceable",
        }
    }
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
