//! The typed model of a unit: `[Unit]`, `[Install]` and the type section (`[Service]`,
//! `[Socket]`, `[Timer]`, `[Path]`; targets have none; other types keep their assignments as "parsed,
//! type not supported"). Plain data with systemd's defaults; filling it is [`super::apply`]'s
//! job, running it is the services issue's. Nothing here touches the system.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::calendar::CalendarSpec;
use super::exec::ExecCommand;
use super::name::UnitName;
use super::syntax::Assignment;
use super::value::{ExitStatusSet, Size, Timespan};

/// A unit with every section typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// The unit's name (for an instance, the instance's name).
    pub name: UnitName,
    /// `[Unit]`.
    pub unit: UnitSection,
    /// The type-specific part.
    pub kind: UnitKind,
    /// `[Install]`.
    pub install: InstallSection,
}

impl Unit {
    /// An empty unit of `name`'s type, with systemd's defaults.
    pub fn new(name: UnitName) -> Self {
        let kind = match name.unit_type() {
            "service" => UnitKind::Service(Box::default()),
            "socket" => UnitKind::Socket(Box::default()),
            "timer" => UnitKind::Timer(TimerSection::default()),
            "path" => UnitKind::Path(PathSection::default()),
            "target" => UnitKind::Target,
            other => UnitKind::Unsupported {
                unit_type: other.to_owned(),
                assignments: Vec::new(),
            },
        };
        Unit {
            name,
            unit: UnitSection::default(),
            kind,
            install: InstallSection::default(),
        }
    }

    /// Every command of the unit (services: ExecCondition= to ExecStopPost=; sockets: their
    /// ExecStartPre= to ExecStopPost=), in declaration order of the keys.
    pub fn exec_commands(&self) -> Vec<&ExecCommand> {
        let lists: Vec<&Vec<ExecCommand>> = match &self.kind {
            UnitKind::Service(s) => vec![
                &s.exec_condition,
                &s.exec_start_pre,
                &s.exec_start,
                &s.exec_start_post,
                &s.exec_reload,
                &s.exec_stop,
                &s.exec_stop_post,
            ],
            UnitKind::Socket(s) => vec![
                &s.exec_start_pre,
                &s.exec_start_post,
                &s.exec_stop_pre,
                &s.exec_stop_post,
            ],
            _ => Vec::new(),
        };
        lists.into_iter().flatten().collect()
    }

    /// The `[Service]` part, when this is a service.
    pub fn service(&self) -> Option<&ServiceSection> {
        match &self.kind {
            UnitKind::Service(s) => Some(s),
            _ => None,
        }
    }

    /// The `[Socket]` part, when this is a socket.
    pub fn socket(&self) -> Option<&SocketSection> {
        match &self.kind {
            UnitKind::Socket(s) => Some(s),
            _ => None,
        }
    }

    /// The `[Timer]` part, when this is a timer.
    pub fn timer(&self) -> Option<&TimerSection> {
        match &self.kind {
            UnitKind::Timer(s) => Some(s),
            _ => None,
        }
    }

    /// The `[Path]` part, when this is a path unit.
    pub fn path(&self) -> Option<&PathSection> {
        match &self.kind {
            UnitKind::Path(s) => Some(s),
            _ => None,
        }
    }
}

/// The type-specific part of a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitKind {
    /// `.service`.
    Service(Box<ServiceSection>),
    /// `.socket`.
    Socket(Box<SocketSection>),
    /// `.timer`.
    Timer(TimerSection),
    /// `.path`.
    Path(PathSection),
    /// `.target`: no section of its own.
    Target,
    /// `.mount`, `.swap`, ...: parsed, kept, not supported by bosun.
    Unsupported {
        /// The type suffix.
        unit_type: String,
        /// The assignments of the type's section, in order.
        assignments: Vec<Assignment>,
    },
}

/// One Condition*= or Assert*= check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The check without its prefix: `PathExists` for ConditionPathExists=.
    pub check: String,
    /// `|`: a triggering condition (any of them suffices).
    pub trigger: bool,
    /// `!`: negated.
    pub negate: bool,
    /// The argument, specifiers resolved.
    pub value: String,
    /// Where it was set, for messages.
    pub line: usize,
}

/// `[Unit]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitSection {
    /// Description=.
    pub description: Option<String>,
    /// Documentation= URIs.
    pub documentation: Vec<String>,
    /// SourcePath=: the file the unit was generated from (a SysV script), shown by status.
    pub source_path: Option<String>,
    /// Requires=.
    pub requires: Vec<UnitName>,
    /// Wants=.
    pub wants: Vec<UnitName>,
    /// Requisite=.
    pub requisite: Vec<UnitName>,
    /// BindsTo= (and its old name BindTo=).
    pub binds_to: Vec<UnitName>,
    /// PartOf=.
    pub part_of: Vec<UnitName>,
    /// Upholds=.
    pub upholds: Vec<UnitName>,
    /// Conflicts=.
    pub conflicts: Vec<UnitName>,
    /// After=.
    pub after: Vec<UnitName>,
    /// Before=.
    pub before: Vec<UnitName>,
    /// OnFailure=.
    pub on_failure: Vec<UnitName>,
    /// OnSuccess=.
    pub on_success: Vec<UnitName>,
    /// DefaultDependencies= (default yes).
    pub default_dependencies: bool,
    /// Condition*=, in order.
    pub conditions: Vec<Condition>,
    /// Assert*=, in order.
    pub asserts: Vec<Condition>,
    /// StartLimitIntervalSec= (also accepted in `[Service]` as StartLimitInterval=).
    pub start_limit_interval: Option<Timespan>,
    /// StartLimitBurst=.
    pub start_limit_burst: Option<u32>,
    /// RefuseManualStart=.
    pub refuse_manual_start: bool,
    /// RefuseManualStop=.
    pub refuse_manual_stop: bool,
    /// StopWhenUnneeded=.
    pub stop_when_unneeded: bool,
    /// AllowIsolate=.
    pub allow_isolate: bool,
    /// IgnoreOnIsolate=.
    pub ignore_on_isolate: bool,
    /// SuccessAction= as written (not acted upon yet; a service with it needs no ExecStart=).
    pub success_action: Option<String>,
    /// RequiresMountsFor=: absolute paths whose mount units it requires and is ordered after.
    pub requires_mounts_for: Vec<String>,
    /// JobTimeoutSec= (0 and `infinity`: none; systemd's default but for device units). Without
    /// JobRunningTimeoutSec= it bounds the running job too, as systemd's parser makes it.
    pub job_timeout: Option<Timespan>,
    /// JobRunningTimeoutSec=.
    pub job_running_timeout: Option<Timespan>,
    /// JobTimeoutAction=.
    pub job_timeout_action: crate::vocab::emergency::EmergencyAction,
    /// JobTimeoutRebootArgument=.
    pub job_timeout_reboot_argument: Option<String>,
}

impl Default for UnitSection {
    fn default() -> Self {
        UnitSection {
            description: None,
            documentation: Vec::new(),
            source_path: None,
            requires: Vec::new(),
            wants: Vec::new(),
            requisite: Vec::new(),
            binds_to: Vec::new(),
            part_of: Vec::new(),
            upholds: Vec::new(),
            conflicts: Vec::new(),
            after: Vec::new(),
            before: Vec::new(),
            on_failure: Vec::new(),
            on_success: Vec::new(),
            default_dependencies: true,
            conditions: Vec::new(),
            asserts: Vec::new(),
            start_limit_interval: None,
            start_limit_burst: None,
            refuse_manual_start: false,
            refuse_manual_stop: false,
            stop_when_unneeded: false,
            allow_isolate: false,
            ignore_on_isolate: false,
            success_action: None,
            requires_mounts_for: Vec::new(),
            job_timeout: None,
            job_running_timeout: None,
            job_timeout_action: crate::vocab::emergency::EmergencyAction::None,
            job_timeout_reboot_argument: None,
        }
    }
}

/// `[Install]`: read by enable/disable, not at run time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstallSection {
    /// WantedBy=.
    pub wanted_by: Vec<UnitName>,
    /// RequiredBy=.
    pub required_by: Vec<UnitName>,
    /// UpheldBy= (systemd 254).
    pub upheld_by: Vec<UnitName>,
    /// Alias=: names `systemctl enable` links to this unit.
    pub alias: Vec<UnitName>,
    /// Also=: units enabled and disabled together with this one.
    pub also: Vec<UnitName>,
    /// DefaultInstance= for templates.
    pub default_instance: Option<String>,
}

/// Type= of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceType {
    /// `simple`.
    Simple,
    /// `exec`.
    Exec,
    /// `forking`.
    Forking,
    /// `oneshot`.
    Oneshot,
    /// `dbus`.
    Dbus,
    /// `notify`.
    Notify,
    /// `notify-reload` (systemd 253).
    NotifyReload,
    /// `idle`.
    Idle,
}

/// Restart=.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RestartPolicy {
    /// `no` (the default).
    #[default]
    No,
    /// `on-success`.
    OnSuccess,
    /// `on-failure`.
    OnFailure,
    /// `on-abnormal`.
    OnAbnormal,
    /// `on-watchdog`.
    OnWatchdog,
    /// `on-abort`.
    OnAbort,
    /// `always`.
    Always,
}

/// NotifyAccess=.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyAccess {
    /// `none`.
    None,
    /// `main`.
    Main,
    /// `exec`.
    Exec,
    /// `all`.
    All,
}

/// KillMode=.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillMode {
    /// `control-group` (the default): every process of the unit.
    ControlGroup,
    /// `mixed`: SIGTERM to the main process, SIGKILL to all.
    Mixed,
    /// `process`: only the main process.
    Process,
    /// `none`.
    None,
}

/// A working directory (WorkingDirectory=).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkingDirectory {
    /// `~`: the user's home directory.
    Home,
    /// An absolute path.
    Path(PathBuf),
}

/// Standard{Input,Output,Error}=.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stdio {
    /// `null`.
    Null,
    /// `tty`, `tty-force`, `tty-fail`.
    Tty,
    /// `inherit`.
    Inherit,
    /// `journal`, `syslog`, `kmsg` (and their `+console` forms): bosun's log.
    Journal,
    /// `console`.
    Console,
    /// `socket`.
    Socket,
    /// `data` (StandardInputText=/StandardInputData=).
    Data,
    /// `fd:NAME` (`stdin`/`stdout` when no name).
    Fd(String),
    /// `file:PATH`.
    File(PathBuf),
    /// `append:PATH`.
    Append(PathBuf),
    /// `truncate:PATH`.
    Truncate(PathBuf),
}

/// An EnvironmentFile= entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentFileRef {
    /// The file.
    pub path: PathBuf,
    /// `-` prefix: a missing file is not an error.
    pub optional: bool,
}

/// A resource limit value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitValue {
    /// A number (bytes, seconds, microseconds or a count, depending on the limit).
    Value(u64),
    /// `infinity`.
    Infinity,
}

/// One Limit*= setting: `soft[:hard]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceLimit {
    /// The soft limit.
    pub soft: LimitValue,
    /// The hard limit.
    pub hard: LimitValue,
}

/// How the journal shapes a unit's lines (systemd.exec(5), "Logging and Standard
/// Input/Output"); None: systemd's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogContext {
    /// SyslogFacility= (0 kern .. 23 local7; default 3, daemon).
    pub facility: Option<u8>,
    /// SyslogLevel= (0 emerg .. 7 debug; default 6, info): stdout and stderr lines' priority.
    pub level: Option<u8>,
    /// SyslogLevelPrefix= (default yes): a stdout/stderr line's `<N>` prefix is its priority.
    pub level_prefix: Option<bool>,
    /// LogLevelMax= (default 7, debug: nothing dropped).
    pub level_max: Option<u8>,
    /// LogRateLimitIntervalSec= (default journald's 30 s; zero: no limit).
    pub rate_limit_interval: Option<std::time::Duration>,
    /// LogRateLimitBurst= (default journald's 10,000; zero: no limit).
    pub rate_limit_burst: Option<u32>,
    /// LogExtraFields=, as FIELD and value, in assignment order.
    pub extra_fields: Vec<(String, String)>,
}

/// The execution environment shared by services and sockets (systemd.exec(5)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecContext {
    /// User=.
    pub user: Option<String>,
    /// Group=.
    pub group: Option<String>,
    /// SupplementaryGroups=.
    pub supplementary_groups: Vec<String>,
    /// DynamicUser=.
    pub dynamic_user: bool,
    /// RemoveIPC=: the user's IPC objects go when its last unit stops.
    pub remove_ipc: bool,
    /// WorkingDirectory=, and whether a missing one is tolerated (`-` prefix).
    pub working_directory: Option<(WorkingDirectory, bool)>,
    /// UMask= (default 0022).
    pub umask: Option<u32>,
    /// SystemCallFilter=, merged.
    pub syscall_filter: super::syscall_filter::SyscallFilter,
    /// SystemCallErrorNumber= (None: the process is killed with SIGSYS).
    pub syscall_error_number: Option<u16>,
    /// SystemCallArchitectures=native: system calls of other architectures are refused.
    pub syscall_native_only: bool,
    /// RestrictRealtime=: sched_setscheduler(2) to a realtime policy fails with EPERM.
    pub restrict_realtime: bool,
    /// MemoryDenyWriteExecute=: writable-and-executable mappings fail with EPERM.
    pub memory_deny_write_execute: bool,
    /// ProtectKernelModules=: module system calls refused (seccomp), CAP_SYS_MODULE dropped,
    /// the module directories made inaccessible (mount namespace).
    pub protect_kernel_modules: bool,
    /// ProtectKernelLogs=: syslog(2) refused (seccomp), CAP_SYSLOG dropped, /proc/kmsg and
    /// /dev/kmsg made inaccessible (mount namespace).
    pub protect_kernel_logs: bool,
    /// ProtectClock=: clock-setting system calls refused (seccomp), CAP_SYS_TIME and
    /// CAP_WAKE_ALARM dropped.
    pub protect_clock: bool,
    /// ProtectHostname=: a new UTS namespace, and sethostname(2)/setdomainname(2) refused.
    pub protect_hostname: bool,
    /// PrivateUsers=: a user namespace mapping root and the unit's own user and group only.
    pub private_users: bool,
    /// PrivateNetwork=: a network namespace with only a loopback device, up.
    pub private_network: bool,
    /// PrivateIPC=: an IPC namespace of its own (System V objects, POSIX queues).
    pub private_ipc: bool,
    /// RestrictAddressFamilies=, merged: socket(2) of a family not allowed fails with
    /// EAFNOSUPPORT.
    pub address_families: super::restrict::AddressFamilies,
    /// RestrictNamespaces=: the CLONE_NEW* flags the service may still use (None: not set;
    /// all of them: unrestricted).
    pub restrict_namespaces: Option<u64>,
    /// LockPersonality=: personality(2) may not change the execution domain.
    pub lock_personality: bool,
    /// RestrictSUIDSGID=: files may not be given the set-user-ID or set-group-ID bit.
    pub restrict_suid_sgid: bool,
    /// Personality=: the execution domain (PER_LINUX or PER_LINUX32) set before exec.
    pub personality: Option<u32>,
    /// SystemCallLog=, merged: the calls the kernel logs (SECCOMP_RET_LOG).
    pub syscall_log: super::syscall_filter::SyscallFilter,
    /// IgnoreSIGPIPE= (default yes: the service starts with SIGPIPE ignored, as under systemd).
    pub ignore_sigpipe: Option<bool>,
    /// Nice= (-20..19).
    pub nice: Option<i32>,
    /// OOMScoreAdjust= (-1000..1000).
    pub oom_score_adjust: Option<i32>,
    /// Limit*=, by resource name (`NOFILE`, `CORE`, ...).
    pub limits: BTreeMap<String, ResourceLimit>,
    /// Environment=, in assignment order (later wins).
    pub environment: Vec<(String, String)>,
    /// EnvironmentFile=, read at start time in order.
    pub environment_files: Vec<EnvironmentFileRef>,
    /// PassEnvironment=.
    pub pass_environment: Vec<String>,
    /// UnsetEnvironment= (names or NAME=VALUE pairs).
    pub unset_environment: Vec<String>,
    /// StandardInput=.
    pub standard_input: Option<Stdio>,
    /// StandardOutput=.
    pub standard_output: Option<Stdio>,
    /// StandardError=.
    pub standard_error: Option<Stdio>,
    /// SyslogIdentifier=: the prefix of the service's log lines.
    pub syslog_identifier: Option<String>,
    /// SyslogFacility=, SyslogLevel=, SyslogLevelPrefix=, LogLevelMax=, LogRateLimit*=,
    /// LogExtraFields=.
    pub log: LogContext,
    /// RuntimeDirectory=, relative to /run.
    pub runtime_directory: Vec<String>,
    /// StateDirectory=, relative to /var/lib.
    pub state_directory: Vec<String>,
    /// CacheDirectory=, relative to /var/cache.
    pub cache_directory: Vec<String>,
    /// LogsDirectory=, relative to /var/log.
    pub logs_directory: Vec<String>,
    /// ConfigurationDirectory=, relative to /etc.
    pub configuration_directory: Vec<String>,
    /// RuntimeDirectoryMode= (default 0755).
    pub runtime_directory_mode: Option<u32>,
    /// StateDirectoryMode= (default 0755).
    pub state_directory_mode: Option<u32>,
    /// CacheDirectoryMode= (default 0755).
    pub cache_directory_mode: Option<u32>,
    /// LogsDirectoryMode= (default 0755).
    pub logs_directory_mode: Option<u32>,
    /// ConfigurationDirectoryMode= (default 0755).
    pub configuration_directory_mode: Option<u32>,
    /// RuntimeDirectoryPreserve= (`no`, `yes`, `restart`).
    pub runtime_directory_preserve: Option<String>,
    /// LoadCredential=ID:PATH (PATH empty: the ID is looked up in bosun's credential store).
    pub load_credentials: Vec<(String, String)>,
    /// SetCredential=ID:DATA (C escapes resolved).
    pub set_credentials: Vec<(String, String)>,
    /// NoNewPrivileges=, CapabilityBoundingSet=, AmbientCapabilities=, SecureBits=.
    pub privileges: Privileges,
    /// The directives that need a mount namespace (PrivateTmp=, ProtectSystem=, ...).
    pub namespace: super::sandbox::NamespaceSettings,
}

/// The privilege directives of systemd.exec(5) ("Security", "Capabilities"). Capability sets
/// are masks of capability numbers (bit n: capability n, see [`crate::vocab::capability`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Privileges {
    /// NoNewPrivileges= as written (other directives may imply it: see
    /// `service::privs::no_new_privileges`).
    pub no_new_privileges: bool,
    /// CapabilityBoundingSet=; None: never assigned, the bounding set is left alone.
    pub bounding_set: Option<u64>,
    /// AmbientCapabilities=; None: never assigned (no ambient capability).
    pub ambient: Option<u64>,
    /// SecureBits=, as the PR_SET_SECUREBITS mask; None: never assigned.
    pub secure_bits: Option<u32>,
}

/// How processes are stopped (systemd.kill(5)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KillContext {
    /// KillMode=.
    pub kill_mode: Option<KillMode>,
    /// KillSignal= (default SIGTERM).
    pub kill_signal: Option<i32>,
    /// RestartKillSignal= (default: KillSignal=).
    pub restart_kill_signal: Option<i32>,
    /// FinalKillSignal= (default SIGKILL).
    pub final_kill_signal: Option<i32>,
    /// WatchdogSignal= (default SIGABRT).
    pub watchdog_signal: Option<i32>,
    /// SendSIGKILL= (default yes).
    pub send_sigkill: Option<bool>,
    /// SendSIGHUP= (default no).
    pub send_sighup: Option<bool>,
}

/// `[Service]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceSection {
    /// Type= as written.
    pub service_type: Option<ServiceType>,
    /// RemainAfterExit=.
    pub remain_after_exit: bool,
    /// GuessMainPID= (default yes).
    pub guess_main_pid: Option<bool>,
    /// PIDFile=.
    pub pid_file: Option<PathBuf>,
    /// BusName=.
    pub bus_name: Option<String>,
    /// ExecCondition=.
    pub exec_condition: Vec<ExecCommand>,
    /// ExecStartPre=.
    pub exec_start_pre: Vec<ExecCommand>,
    /// ExecStart=.
    pub exec_start: Vec<ExecCommand>,
    /// ExecStartPost=.
    pub exec_start_post: Vec<ExecCommand>,
    /// ExecReload=.
    pub exec_reload: Vec<ExecCommand>,
    /// ExecStop=.
    pub exec_stop: Vec<ExecCommand>,
    /// ExecStopPost=.
    pub exec_stop_post: Vec<ExecCommand>,
    /// Restart=.
    pub restart: RestartPolicy,
    /// RestartSec= (default 100ms).
    pub restart_sec: Option<Timespan>,
    /// TimeoutStartSec= (or TimeoutSec=); 0 and infinity mean no timeout.
    pub timeout_start: Option<Timespan>,
    /// TimeoutStopSec= (or TimeoutSec=); 0 and infinity mean no timeout.
    pub timeout_stop: Option<Timespan>,
    /// TimeoutAbortSec=.
    pub timeout_abort: Option<Timespan>,
    /// RuntimeMaxSec=.
    pub runtime_max: Option<Timespan>,
    /// WatchdogSec= (0: off).
    pub watchdog: Option<Timespan>,
    /// RestartPreventExitStatus=.
    pub restart_prevent_exit_status: ExitStatusSet,
    /// RestartForceExitStatus=.
    pub restart_force_exit_status: ExitStatusSet,
    /// SuccessExitStatus=.
    pub success_exit_status: ExitStatusSet,
    /// NotifyAccess=.
    pub notify_access: Option<NotifyAccess>,
    /// Sockets=.
    pub sockets: Vec<UnitName>,
    /// PermissionsStartOnly= (deprecated: prefer `+`).
    pub permissions_start_only: bool,
    /// The execution environment.
    pub exec: ExecContext,
    /// How processes are stopped.
    pub kill: KillContext,
}

impl ServiceSection {
    /// The effective Type=: as written, else `dbus` when BusName= is set, `simple` when there
    /// is an ExecStart=, `oneshot` otherwise (systemd.service(5)).
    pub fn effective_type(&self) -> ServiceType {
        match self.service_type {
            Some(t) => t,
            None if self.bus_name.is_some() => ServiceType::Dbus,
            None if !self.exec_start.is_empty() => ServiceType::Simple,
            None => ServiceType::Oneshot,
        }
    }
}

/// A socket address of a Listen*= line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddress {
    /// A port on every address.
    Port(u16),
    /// An IPv4 or IPv6 address with port.
    Inet(std::net::SocketAddr),
    /// A file-system socket (or FIFO, or special file) path.
    Path(PathBuf),
    /// An abstract socket (`@name`).
    Abstract(String),
    /// Anything else (`vsock:`, interface-bound `addr%dev`, netlink, ...), kept as written.
    Other(String),
}

impl SocketSection {
    /// What Symlinks= point to: the socket's one node in the file system (a FIFO or a Unix
    /// socket with a path); None when it has none or more than one, as core/socket.c
    /// socket_find_symlink_target().
    pub fn symlink_target(&self) -> Option<&std::path::Path> {
        let mut nodes = self.listen.iter().filter_map(|l| match &l.address {
            ListenAddress::Path(p) => Some(p.as_path()),
            _ => None,
        });
        let first = nodes.next()?;
        nodes.next().is_none().then_some(first)
    }
}

/// BindIPv6Only= (systemd.socket(5)): whether an IPv6 socket also takes IPv4 connections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BindIpv6Only {
    /// The kernel's `net.ipv6.bindv6only` decides (IPV6_V6ONLY left alone).
    #[default]
    Default,
    /// Both families (IPV6_V6ONLY off).
    Both,
    /// IPv6 only (IPV6_V6ONLY on): an IPv4 socket may bind the same port beside it.
    Ipv6Only,
}

/// The kind of a Listen*= line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenKind {
    /// ListenStream=.
    Stream,
    /// ListenDatagram=.
    Datagram,
    /// ListenSequentialPacket=.
    SequentialPacket,
    /// ListenFIFO=.
    Fifo,
}

/// One Listen*= line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    /// Its kind.
    pub kind: ListenKind,
    /// Its address.
    pub address: ListenAddress,
}

/// `[Socket]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SocketSection {
    /// The Listen*= lines, in order (file descriptors are passed in this order).
    pub listen: Vec<Listen>,
    /// ListenSpecial=, ListenNetlink=, ListenMessageQueue=, ListenUSBFunction= lines as
    /// `(key, value)`: parsed, kept, not opened by bosun yet.
    pub unsupported_listen: Vec<(String, String)>,
    /// Accept=.
    pub accept: bool,
    /// SocketMode= (default 0666).
    pub socket_mode: Option<u32>,
    /// DirectoryMode= (default 0755).
    pub directory_mode: Option<u32>,
    /// SocketUser=.
    pub socket_user: Option<String>,
    /// SocketGroup=.
    pub socket_group: Option<String>,
    /// RemoveOnStop=.
    pub remove_on_stop: bool,
    /// Backlog= (default SOMAXCONN).
    pub backlog: Option<u32>,
    /// Service=: the unit activated (default: the socket's name with `.service`).
    pub service: Option<UnitName>,
    /// FileDescriptorName=.
    pub file_descriptor_name: Option<String>,
    /// ReusePort=.
    pub reuse_port: bool,
    /// KeepAlive=.
    pub keep_alive: bool,
    /// BindIPv6Only=.
    pub bind_ipv6_only: BindIpv6Only,
    /// Symlinks=: links made to the socket's one file-system node while it listens.
    pub symlinks: Vec<PathBuf>,
    /// ReceiveBuffer=.
    pub receive_buffer: Option<Size>,
    /// SendBuffer=.
    pub send_buffer: Option<Size>,
    /// PassCredentials=.
    pub pass_credentials: bool,
    /// MaxConnections= (default 64).
    pub max_connections: Option<u32>,
    /// MaxConnectionsPerSource=.
    pub max_connections_per_source: Option<u32>,
    /// TriggerLimitIntervalSec= (default 2s).
    pub trigger_limit_interval: Option<Timespan>,
    /// TriggerLimitBurst= (default 20, 200 with Accept=yes).
    pub trigger_limit_burst: Option<u32>,
    /// ExecStartPre=.
    pub exec_start_pre: Vec<ExecCommand>,
    /// ExecStartPost=.
    pub exec_start_post: Vec<ExecCommand>,
    /// ExecStopPre=.
    pub exec_stop_pre: Vec<ExecCommand>,
    /// ExecStopPost=.
    pub exec_stop_post: Vec<ExecCommand>,
    /// TimeoutSec= for the Exec*= commands.
    pub timeout: Option<Timespan>,
    /// The execution environment of the Exec*= commands.
    pub exec: ExecContext,
    /// How those commands are stopped.
    pub kill: KillContext,
}

/// `[Timer]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimerSection {
    /// OnActiveSec=.
    pub on_active: Vec<Timespan>,
    /// OnBootSec=.
    pub on_boot: Vec<Timespan>,
    /// OnStartupSec=.
    pub on_startup: Vec<Timespan>,
    /// OnUnitActiveSec=.
    pub on_unit_active: Vec<Timespan>,
    /// OnUnitInactiveSec=.
    pub on_unit_inactive: Vec<Timespan>,
    /// OnCalendar= events.
    pub on_calendar: Vec<CalendarSpec>,
    /// RandomizedDelaySec=.
    pub randomized_delay: Option<Timespan>,
    /// FixedRandomDelay=.
    pub fixed_random_delay: bool,
    /// AccuracySec= (default 1min).
    pub accuracy: Option<Timespan>,
    /// Persistent=.
    pub persistent: bool,
    /// RemainAfterElapse= (default yes).
    pub remain_after_elapse: Option<bool>,
    /// Unit=: the unit activated (default: the timer's name with `.service`).
    pub unit: Option<UnitName>,
}

impl TimerSection {
    /// The unit the timer `timer` activates: Unit=, else its own name with `.service`.
    pub fn triggered(&self, timer: &str) -> String {
        match &self.unit {
            Some(unit) => unit.to_string(),
            None => format!("{}.service", timer.strip_suffix(".timer").unwrap_or(timer)),
        }
    }

    /// Whether it has an OnCalendar= event (then it is ordered after time-set.target and
    /// time-sync.target by default, as timer.c timer_add_default_dependencies()).
    pub fn has_calendar(&self) -> bool {
        !self.on_calendar.is_empty()
    }
}

/// What a `[Path]` line watches for (systemd.path(5); path.c's PathType).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PathCondition {
    /// PathExists=: the path exists (level-triggered).
    Exists,
    /// PathExistsGlob=: a file matches the glob (level-triggered).
    ExistsGlob,
    /// PathChanged=: the file was written and closed, created, removed, renamed or its
    /// attributes changed (edge-triggered).
    Changed,
    /// PathModified=: as PathChanged=, and also on every write (edge-triggered).
    Modified,
    /// DirectoryNotEmpty=: the directory has an entry (level-triggered).
    DirectoryNotEmpty,
}

impl PathCondition {
    /// The directive's name, as `systemctl show` (Paths=) and `list-paths` print it.
    pub fn name(self) -> &'static str {
        match self {
            PathCondition::Exists => "PathExists",
            PathCondition::ExistsGlob => "PathExistsGlob",
            PathCondition::Changed => "PathChanged",
            PathCondition::Modified => "PathModified",
            PathCondition::DirectoryNotEmpty => "DirectoryNotEmpty",
        }
    }

    /// The condition a directive names.
    pub fn from_key(key: &str) -> Option<PathCondition> {
        [
            PathCondition::Exists,
            PathCondition::ExistsGlob,
            PathCondition::Changed,
            PathCondition::Modified,
            PathCondition::DirectoryNotEmpty,
        ]
        .into_iter()
        .find(|c| c.name() == key)
    }
}

/// One watched path of a path unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathSpec {
    pub condition: PathCondition,
    /// Absolute and simplified (no `//`, `/./` or trailing slash).
    pub path: PathBuf,
}

/// `[Path]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathSection {
    /// PathExists=, PathExistsGlob=, PathChanged=, PathModified=, DirectoryNotEmpty=, in order.
    pub specs: Vec<PathSpec>,
    /// Unit=: the unit activated (default: the path unit's name with `.service`).
    pub unit: Option<UnitName>,
    /// MakeDirectory=.
    pub make_directory: bool,
    /// DirectoryMode= (default 0755).
    pub directory_mode: Option<u32>,
    /// TriggerLimitIntervalSec= (default 2s).
    pub trigger_limit_interval: Option<Timespan>,
    /// TriggerLimitBurst= (default 200).
    pub trigger_limit_burst: Option<u32>,
}

impl PathSection {
    /// The unit the path unit `path` activates: Unit=, else its own name with `.service`.
    pub fn triggered(&self, path: &str) -> String {
        match &self.unit {
            Some(unit) => unit.to_string(),
            None => format!("{}.service", path.strip_suffix(".path").unwrap_or(path)),
        }
    }
}
