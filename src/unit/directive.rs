//! Every directive systemd 252 knows (from its load-fragment table, plus a few newer ones),
//! the sections it may appear in, and how bosun treats it: supported, ignored because a
//! container cannot or need not enforce it (sandboxing, cgroup resource control, journal
//! tuning), or not supported yet. One sorted const table; the README's compatibility table is
//! generated from [`directive_table`]. This module must not parse values.

/// How bosun treats a directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Support {
    /// Parsed into the typed model and acted upon.
    Supported,
    /// Accepted and reported once as not enforced in a container.
    Ignored,
    /// Accepted and reported once as not implemented by bosun yet.
    NotYetSupported,
}

impl Support {
    /// The word used in tables: `supported`, `ignored`, `not yet`.
    pub fn label(self) -> &'static str {
        match self {
            Support::Supported => "supported",
            Support::Ignored => "ignored (container)",
            Support::NotYetSupported => "not yet",
        }
    }
}

/// `[Unit]`.
pub const UNIT: u16 = 1;
/// `[Install]`.
pub const INSTALL: u16 = 1 << 1;
/// `[Service]`.
pub const SERVICE: u16 = 1 << 2;
/// `[Socket]`.
pub const SOCKET: u16 = 1 << 3;
/// `[Timer]`.
pub const TIMER: u16 = 1 << 4;
/// `[Path]`.
pub const PATH: u16 = 1 << 5;
/// `[Mount]`.
pub const MOUNT: u16 = 1 << 6;
/// `[Automount]`.
pub const AUTOMOUNT: u16 = 1 << 7;
/// `[Swap]`.
pub const SWAP: u16 = 1 << 8;
/// `[Slice]`.
pub const SLICE: u16 = 1 << 9;
/// `[Scope]`.
pub const SCOPE: u16 = 1 << 10;

/// Section names in bit order.
pub const SECTION_NAMES: [&str; 11] = [
    "Unit",
    "Install",
    "Service",
    "Socket",
    "Timer",
    "Path",
    "Mount",
    "Automount",
    "Swap",
    "Slice",
    "Scope",
];

/// One directive: its name, the sections it is valid in, and how bosun treats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Directive {
    /// The key, as written in unit files.
    pub name: &'static str,
    /// A bit set of the sections it may appear in ([`UNIT`], [`SERVICE`], ...).
    pub sections: u16,
    /// How bosun treats it.
    pub support: Support,
}

impl Directive {
    /// Whether the directive is valid in section `section` (`"Service"`).
    pub fn in_section(&self, section: &str) -> bool {
        section_bit(section).is_some_and(|bit| self.sections & bit != 0)
    }

    /// The section names it may appear in.
    pub fn section_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        SECTION_NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.sections & (1 << i) != 0)
            .map(|(_, n)| *n)
    }
}

/// The bit of a section name.
pub fn section_bit(section: &str) -> Option<u16> {
    SECTION_NAMES
        .iter()
        .position(|n| *n == section)
        .map(|i| 1u16 << i)
}

const fn d(name: &'static str, sections: u16, support: Support) -> Directive {
    Directive {
        name,
        sections,
        support,
    }
}

use Support::{Ignored, NotYetSupported, Supported};

/// The table, sorted by name (one line per directive, so it is not reformatted).
#[rustfmt::skip]
pub const DIRECTIVES: &[Directive] = &[
    d("Accept", SOCKET, Supported),
    d("AccuracySec", TIMER, Supported),
    d("After", UNIT, Supported),
    d("Alias", INSTALL, Supported),
    d("AllowIsolate", UNIT, Supported),
    d("AllowedCPUs", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("AllowedMemoryNodes", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("Also", INSTALL, Supported),
    d("AmbientCapabilities", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("AppArmorProfile", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("AssertACPower", UNIT, Supported),
    d("AssertArchitecture", UNIT, Supported),
    d("AssertCPUFeature", UNIT, Supported),
    d("AssertCPUPressure", UNIT, Supported),
    d("AssertCPUs", UNIT, Supported),
    d("AssertCapability", UNIT, Supported),
    d("AssertControlGroupController", UNIT, Supported),
    d("AssertCredential", UNIT, Supported),
    d("AssertDirectoryNotEmpty", UNIT, Supported),
    d("AssertEnvironment", UNIT, Supported),
    d("AssertFileIsExecutable", UNIT, Supported),
    d("AssertFileNotEmpty", UNIT, Supported),
    d("AssertFirstBoot", UNIT, Supported),
    d("AssertGroup", UNIT, Supported),
    d("AssertHost", UNIT, Supported),
    d("AssertIOPressure", UNIT, Supported),
    d("AssertKernelCommandLine", UNIT, Supported),
    d("AssertKernelVersion", UNIT, Supported),
    d("AssertMemory", UNIT, Supported),
    d("AssertMemoryPressure", UNIT, Supported),
    d("AssertNeedsUpdate", UNIT, Supported),
    d("AssertOSRelease", UNIT, Supported),
    d("AssertPathExists", UNIT, Supported),
    d("AssertPathExistsGlob", UNIT, Supported),
    d("AssertPathIsDirectory", UNIT, Supported),
    d("AssertPathIsEncrypted", UNIT, Supported),
    d("AssertPathIsMountPoint", UNIT, Supported),
    d("AssertPathIsReadWrite", UNIT, Supported),
    d("AssertPathIsSymbolicLink", UNIT, Supported),
    d("AssertSecurity", UNIT, Supported),
    d("AssertUser", UNIT, Supported),
    d("AssertVirtualization", UNIT, Supported),
    d("BPFProgram", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("Backlog", SOCKET, Supported),
    d("Before", UNIT, Supported),
    d("BindIPv6Only", SOCKET, Supported),
    d("BindPaths", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("BindReadOnlyPaths", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("BindTo", UNIT, Supported),
    d("BindToDevice", SOCKET, NotYetSupported),
    d("BindsTo", UNIT, Supported),
    d("BlockIOAccounting", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("BlockIODeviceWeight", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("BlockIOReadBandwidth", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("BlockIOWeight", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("BlockIOWriteBandwidth", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("Broadcast", SOCKET, NotYetSupported),
    d("BusName", SERVICE, Supported),
    d("BusPolicy", SERVICE, NotYetSupported),
    d("CPUAccounting", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("CPUAffinity", SERVICE | SOCKET | MOUNT | SWAP, NotYetSupported),
    d("CPUQuota", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("CPUQuotaPeriodSec", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("CPUSchedulingPolicy", SERVICE | SOCKET | MOUNT | SWAP, NotYetSupported),
    d("CPUSchedulingPriority", SERVICE | SOCKET | MOUNT | SWAP, NotYetSupported),
    d("CPUSchedulingResetOnFork", SERVICE | SOCKET | MOUNT | SWAP, NotYetSupported),
    d("CPUShares", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("CPUWeight", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("CacheDirectory", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("CacheDirectoryMode", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("Capabilities", SERVICE | SOCKET | MOUNT | SWAP, NotYetSupported),
    d("CapabilityBoundingSet", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("CollectMode", UNIT, Ignored),
    d("ConditionACPower", UNIT, Supported),
    d("ConditionArchitecture", UNIT, Supported),
    d("ConditionCPUFeature", UNIT, Supported),
    d("ConditionCPUPressure", UNIT, Supported),
    d("ConditionCPUs", UNIT, Supported),
    d("ConditionCapability", UNIT, Supported),
    d("ConditionControlGroupController", UNIT, Supported),
    d("ConditionCredential", UNIT, Supported),
    d("ConditionDirectoryNotEmpty", UNIT, Supported),
    d("ConditionEnvironment", UNIT, Supported),
    d("ConditionFileIsExecutable", UNIT, Supported),
    d("ConditionFileNotEmpty", UNIT, Supported),
    d("ConditionFirmware", UNIT, Supported),
    d("ConditionFirstBoot", UNIT, Supported),
    d("ConditionGroup", UNIT, Supported),
    d("ConditionHost", UNIT, Supported),
    d("ConditionIOPressure", UNIT, Supported),
    d("ConditionKernelCommandLine", UNIT, Supported),
    d("ConditionKernelVersion", UNIT, Supported),
    d("ConditionMemory", UNIT, Supported),
    d("ConditionMemoryPressure", UNIT, Supported),
    d("ConditionNeedsUpdate", UNIT, Supported),
    d("ConditionOSRelease", UNIT, Supported),
    d("ConditionPathExists", UNIT, Supported),
    d("ConditionPathExistsGlob", UNIT, Supported),
    d("ConditionPathIsDirectory", UNIT, Supported),
    d("ConditionPathIsEncrypted", UNIT, Supported),
    d("ConditionPathIsMountPoint", UNIT, Supported),
    d("ConditionPathIsReadWrite", UNIT, Supported),
    d("ConditionPathIsSymbolicLink", UNIT, Supported),
    d("ConditionSecurity", UNIT, Supported),
    d("ConditionUser", UNIT, Supported),
    d("ConditionVirtualization", UNIT, Supported),
    d("ConfigurationDirectory", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("ConfigurationDirectoryMode", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("Conflicts", UNIT, Supported),
    d("CoredumpFilter", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("DefaultDependencies", UNIT, Supported),
    d("DefaultInstance", INSTALL, Supported),
    d("DefaultMemoryLow", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("DefaultMemoryMin", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("DeferAcceptSec", SOCKET, NotYetSupported),
    d("Delegate", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("Description", UNIT, Supported),
    d("DeviceAllow", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("DevicePolicy", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("DirectoryMode", SOCKET | PATH | MOUNT | AUTOMOUNT, Supported),
    d("DirectoryNotEmpty", PATH, Supported),
    d("DisableControllers", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("Documentation", UNIT, Supported),
    d("DynamicUser", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("Environment", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("EnvironmentFile", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("ExecCondition", SERVICE, Supported),
    d("ExecPaths", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("ExecReload", SERVICE, Supported),
    d("ExecSearchPath", SERVICE | SOCKET | MOUNT | SWAP, NotYetSupported),
    d("ExecStart", SERVICE, Supported),
    d("ExecStartPost", SERVICE | SOCKET, Supported),
    d("ExecStartPre", SERVICE | SOCKET, Supported),
    d("ExecStop", SERVICE, Supported),
    d("ExecStopPost", SERVICE | SOCKET, Supported),
    d("ExecStopPre", SOCKET, Supported),
    d("ExitType", SERVICE, NotYetSupported),
    d("ExtensionDirectories", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("ExtensionImages", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("ExtraOptions", AUTOMOUNT, Ignored),
    d("FailureAction", UNIT | SERVICE, NotYetSupported),
    d("FailureActionExitStatus", UNIT, NotYetSupported),
    d("FileDescriptorName", SOCKET, Supported),
    d("FileDescriptorStoreMax", SERVICE, NotYetSupported),
    d("FinalKillSignal", SERVICE | SOCKET | MOUNT | SWAP | SCOPE, Supported),
    d("FixedRandomDelay", TIMER, Supported),
    d("FlushPending", SOCKET, NotYetSupported),
    d("ForceUnmount", MOUNT, Ignored),
    d("FreeBind", SOCKET, NotYetSupported),
    d("Group", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("GuessMainPID", SERVICE, Supported),
    d("IOAccounting", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("IODeviceLatencyTargetSec", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("IODeviceWeight", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("IOReadBandwidthMax", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("IOReadIOPSMax", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("IOSchedulingClass", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("IOSchedulingPriority", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("IOWeight", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("IOWriteBandwidthMax", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("IOWriteIOPSMax", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("IPAccounting", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("IPAddressAllow", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("IPAddressDeny", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("IPCNamespacePath", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("IPEgressFilterPath", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("IPIngressFilterPath", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("IPTOS", SOCKET, NotYetSupported),
    d("IPTTL", SOCKET, NotYetSupported),
    d("IgnoreOnIsolate", UNIT, Supported),
    d("IgnoreOnSnapshot", UNIT, Ignored),
    d("IgnoreSIGPIPE", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("ImportCredential", SERVICE | SOCKET | MOUNT | SWAP, NotYetSupported),
    d("InaccessibleDirectories", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("InaccessiblePaths", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("JobRunningTimeoutSec", UNIT, Supported),
    d("JobTimeoutAction", UNIT, Supported),
    d("JobTimeoutRebootArgument", UNIT, Supported),
    d("JobTimeoutSec", UNIT, Supported),
    d("JoinsNamespaceOf", UNIT, Ignored),
    d("KeepAlive", SOCKET, Supported),
    d("KeepAliveIntervalSec", SOCKET, NotYetSupported),
    d("KeepAliveProbes", SOCKET, NotYetSupported),
    d("KeepAliveTimeSec", SOCKET, NotYetSupported),
    d("KeyringMode", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("KillMode", SERVICE | SOCKET | MOUNT | SWAP | SCOPE, Supported),
    d("KillSignal", SERVICE | SOCKET | MOUNT | SWAP | SCOPE, Supported),
    d("LazyUnmount", MOUNT, Ignored),
    d("LimitAS", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LimitCORE", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LimitCPU", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LimitDATA", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LimitFSIZE", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LimitLOCKS", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LimitMEMLOCK", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LimitMSGQUEUE", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LimitNICE", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LimitNOFILE", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LimitNPROC", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LimitRSS", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LimitRTPRIO", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LimitRTTIME", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LimitSIGPENDING", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LimitSTACK", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("ListenDatagram", SOCKET, Supported),
    d("ListenFIFO", SOCKET, Supported),
    d("ListenMessageQueue", SOCKET, NotYetSupported),
    d("ListenNetlink", SOCKET, NotYetSupported),
    d("ListenSequentialPacket", SOCKET, Supported),
    d("ListenSpecial", SOCKET, NotYetSupported),
    d("ListenStream", SOCKET, Supported),
    d("ListenUSBFunction", SOCKET, NotYetSupported),
    d("LoadCredential", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LoadCredentialEncrypted", SERVICE | SOCKET | MOUNT | SWAP, NotYetSupported),
    d("LockPersonality", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LogExtraFields", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LogLevelMax", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LogNamespace", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("LogRateLimitBurst", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LogRateLimitIntervalSec", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LogsDirectory", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("LogsDirectoryMode", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("MakeDirectory", PATH, Supported),
    d("ManagedOOMMemoryPressure", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("ManagedOOMMemoryPressureLimit", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("ManagedOOMPreference", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("ManagedOOMSwap", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("Mark", SOCKET, NotYetSupported),
    d("MaxConnections", SOCKET, Supported),
    d("MaxConnectionsPerSource", SOCKET, Supported),
    d("MemoryAccounting", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("MemoryDenyWriteExecute", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("MemoryHigh", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("MemoryKSM", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("MemoryLimit", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("MemoryLow", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("MemoryMax", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("MemoryMin", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("MemorySwapMax", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("MemoryZSwapMax", SERVICE, Ignored),
    d("MessageQueueMaxMessages", SOCKET, NotYetSupported),
    d("MessageQueueMessageSize", SOCKET, NotYetSupported),
    d("MountAPIVFS", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("MountFlags", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("MountImages", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("NUMAMask", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("NUMAPolicy", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("NetClass", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, NotYetSupported),
    d("NetworkNamespacePath", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("Nice", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("NoDelay", SOCKET, NotYetSupported),
    d("NoExecPaths", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("NoNewPrivileges", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("NonBlocking", SERVICE, NotYetSupported),
    d("NotifyAccess", SERVICE, Supported),
    d("OOMPolicy", SERVICE | SCOPE, Ignored),
    d("OOMScoreAdjust", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("OnActiveSec", TIMER, Supported),
    d("OnBootSec", TIMER, Supported),
    d("OnCalendar", TIMER, Supported),
    d("OnClockChange", TIMER, NotYetSupported),
    d("OnFailure", UNIT, Supported),
    d("OnFailureIsolate", UNIT, NotYetSupported),
    d("OnFailureJobMode", UNIT, NotYetSupported),
    d("OnStartupSec", TIMER, Supported),
    d("OnSuccess", UNIT, Supported),
    d("OnSuccessJobMode", UNIT, NotYetSupported),
    d("OnTimezoneChange", TIMER, NotYetSupported),
    d("OnUnitActiveSec", TIMER, Supported),
    d("OnUnitInactiveSec", TIMER, Supported),
    d("OpenFile", SERVICE, NotYetSupported),
    d("Options", MOUNT | SWAP, Ignored),
    d("PAMName", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("PIDFile", SERVICE, Supported),
    d("PartOf", UNIT, Supported),
    d("PassCredentials", SOCKET, Supported),
    d("PassEnvironment", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("PassPacketInfo", SOCKET, NotYetSupported),
    d("PassSecurity", SOCKET, NotYetSupported),
    d("PathChanged", PATH, Supported),
    d("PathExists", PATH, Supported),
    d("PathExistsGlob", PATH, Supported),
    d("PathModified", PATH, Supported),
    d("PermissionsStartOnly", SERVICE, Supported),
    d("Persistent", TIMER, Supported),
    d("Personality", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("PipeSize", SOCKET, NotYetSupported),
    d("Priority", SOCKET | SWAP, NotYetSupported),
    d("PrivateDevices", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("PrivateIPC", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("PrivateMounts", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("PrivateNetwork", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("PrivateTmp", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("PrivateUsers", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("ProcSubset", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("PropagateReloadFrom", UNIT, NotYetSupported),
    d("PropagateReloadTo", UNIT, NotYetSupported),
    d("PropagatesReloadTo", UNIT, NotYetSupported),
    d("PropagatesStopTo", UNIT, NotYetSupported),
    d("ProtectClock", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("ProtectControlGroups", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("ProtectHome", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("ProtectHostname", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("ProtectKernelLogs", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("ProtectKernelModules", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("ProtectKernelTunables", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("ProtectProc", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("ProtectSystem", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("RandomizedDelaySec", TIMER, Supported),
    d("ReadOnlyDirectories", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("ReadOnlyPaths", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("ReadWriteDirectories", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("ReadWriteOnly", MOUNT, Ignored),
    d("ReadWritePaths", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("RebootArgument", UNIT | SERVICE, NotYetSupported),
    d("ReceiveBuffer", SOCKET, Supported),
    d("RefuseManualStart", UNIT, Supported),
    d("RefuseManualStop", UNIT, Supported),
    d("ReloadPropagatedFrom", UNIT, NotYetSupported),
    d("ReloadSignal", SERVICE, NotYetSupported),
    d("RemainAfterElapse", TIMER, Supported),
    d("RemainAfterExit", SERVICE, Supported),
    d("RemoveIPC", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("RemoveOnStop", SOCKET, Supported),
    d("RequiredBy", INSTALL, Supported),
    d("Requires", UNIT, Supported),
    d("RequiresMountsFor", UNIT, Supported),
    d("RequiresOverridable", UNIT, NotYetSupported),
    d("Requisite", UNIT, Supported),
    d("RequisiteOverridable", UNIT, NotYetSupported),
    d("Restart", SERVICE, Supported),
    d("RestartForceExitStatus", SERVICE, Supported),
    d("RestartKillSignal", SERVICE | SOCKET | MOUNT | SWAP | SCOPE, Supported),
    d("RestartMaxDelaySec", SERVICE, NotYetSupported),
    d("RestartMode", SERVICE, NotYetSupported),
    d("RestartPreventExitStatus", SERVICE, Supported),
    d("RestartSec", SERVICE, Supported),
    d("RestartSteps", SERVICE, NotYetSupported),
    d("RestrictAddressFamilies", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("RestrictFileSystems", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("RestrictNamespaces", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("RestrictNetworkInterfaces", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("RestrictRealtime", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("RestrictSUIDSGID", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("ReusePort", SOCKET, Supported),
    d("RootDirectory", SERVICE | SOCKET | MOUNT | SWAP, NotYetSupported),
    d("RootDirectoryStartOnly", SERVICE, NotYetSupported),
    d("RootHash", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("RootHashSignature", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("RootImage", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("RootImageOptions", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("RootVerity", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("RuntimeDirectory", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("RuntimeDirectoryMode", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("RuntimeDirectoryPreserve", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("RuntimeMaxSec", SERVICE | SCOPE, Supported),
    d("RuntimeRandomizedExtraSec", SERVICE | SCOPE, NotYetSupported),
    d("SELinuxContext", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("SELinuxContextFromNet", SOCKET, Ignored),
    d("SecureBits", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("SendBuffer", SOCKET, Supported),
    d("SendSIGHUP", SERVICE | SOCKET | MOUNT | SWAP | SCOPE, Supported),
    d("SendSIGKILL", SERVICE | SOCKET | MOUNT | SWAP | SCOPE, Supported),
    d("Service", SOCKET, Supported),
    d("SetCredential", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("SetCredentialEncrypted", SERVICE | SOCKET | MOUNT | SWAP, NotYetSupported),
    d("SetLoginEnvironment", SERVICE | SOCKET | MOUNT | SWAP, NotYetSupported),
    d("Slice", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("SloppyOptions", MOUNT, Ignored),
    d("SmackLabel", SOCKET, Ignored),
    d("SmackLabelIPIn", SOCKET, Ignored),
    d("SmackLabelIPOut", SOCKET, Ignored),
    d("SmackProcessLabel", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("SocketBindAllow", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("SocketBindDeny", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("SocketGroup", SOCKET, Supported),
    d("SocketMode", SOCKET, Supported),
    d("SocketProtocol", SOCKET, NotYetSupported),
    d("SocketUser", SOCKET, Supported),
    d("Sockets", SERVICE, Supported),
    d("SourcePath", UNIT, Supported),
    d("StandardError", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("StandardInput", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("StandardInputData", SERVICE | SOCKET | MOUNT | SWAP, NotYetSupported),
    d("StandardInputText", SERVICE | SOCKET | MOUNT | SWAP, NotYetSupported),
    d("StandardOutput", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("StartLimitAction", UNIT | SERVICE, NotYetSupported),
    d("StartLimitBurst", UNIT | SERVICE, Supported),
    d("StartLimitInterval", UNIT | SERVICE, Supported),
    d("StartLimitIntervalSec", UNIT, Supported),
    d("StartupAllowedCPUs", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("StartupAllowedMemoryNodes", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("StartupBlockIOWeight", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("StartupCPUShares", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("StartupCPUWeight", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("StartupIOWeight", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("StateDirectory", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("StateDirectoryMode", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("StopPropagatedFrom", UNIT, NotYetSupported),
    d("StopWhenUnneeded", UNIT, Supported),
    d("SuccessAction", UNIT, NotYetSupported),
    d("SuccessActionExitStatus", UNIT, NotYetSupported),
    d("SuccessExitStatus", SERVICE, Supported),
    d("SupplementaryGroups", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("SurviveFinalKillSignal", UNIT, Ignored),
    d("Symlinks", SOCKET, Supported),
    d("SysVStartPriority", SERVICE, NotYetSupported),
    d("SyslogFacility", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("SyslogIdentifier", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("SyslogLevel", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("SyslogLevelPrefix", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("SystemCallArchitectures", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("SystemCallErrorNumber", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("SystemCallFilter", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("SystemCallLog", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("TCPCongestion", SOCKET, NotYetSupported),
    d("TTYColumns", SERVICE | SOCKET | MOUNT | SWAP, NotYetSupported),
    d("TTYPath", SERVICE | SOCKET | MOUNT | SWAP, NotYetSupported),
    d("TTYReset", SERVICE | SOCKET | MOUNT | SWAP, NotYetSupported),
    d("TTYRows", SERVICE | SOCKET | MOUNT | SWAP, NotYetSupported),
    d("TTYVHangup", SERVICE | SOCKET | MOUNT | SWAP, NotYetSupported),
    d("TTYVTDisallocate", SERVICE | SOCKET | MOUNT | SWAP, NotYetSupported),
    d("TasksAccounting", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("TasksMax", SERVICE | SOCKET | MOUNT | SWAP | SLICE | SCOPE, Ignored),
    d("TemporaryFileSystem", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("TimeoutAbortSec", SERVICE, Supported),
    d("TimeoutCleanSec", SERVICE | SOCKET | MOUNT | SWAP, NotYetSupported),
    d("TimeoutIdleSec", AUTOMOUNT, Ignored),
    d("TimeoutSec", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("TimeoutStartFailureMode", SERVICE, NotYetSupported),
    d("TimeoutStartSec", SERVICE, Supported),
    d("TimeoutStopFailureMode", SERVICE, NotYetSupported),
    d("TimeoutStopSec", SERVICE | SCOPE, Supported),
    d("TimerSlackNSec", SERVICE | SOCKET | MOUNT | SWAP, NotYetSupported),
    d("Timestamping", SOCKET, NotYetSupported),
    d("Transparent", SOCKET, NotYetSupported),
    d("TriggerLimitBurst", SOCKET | PATH, Supported),
    d("TriggerLimitIntervalSec", SOCKET | PATH, Supported),
    d("Type", SERVICE | MOUNT, Supported),
    d("UMask", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("USBFunctionDescriptors", SERVICE, Ignored),
    d("USBFunctionStrings", SERVICE, Ignored),
    d("Unit", TIMER | PATH, Supported),
    d("UnsetEnvironment", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("UpheldBy", INSTALL, Supported),
    d("Upholds", UNIT, Supported),
    d("User", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("UtmpIdentifier", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("UtmpMode", SERVICE | SOCKET | MOUNT | SWAP, Ignored),
    d("WakeSystem", TIMER, Ignored),
    d("WantedBy", INSTALL, Supported),
    d("Wants", UNIT, Supported),
    d("WatchdogSec", SERVICE, Supported),
    d("WatchdogSignal", SERVICE | SOCKET | MOUNT | SWAP | SCOPE, Supported),
    d("What", MOUNT | SWAP, Ignored),
    d("Where", MOUNT | AUTOMOUNT, Ignored),
    d("WorkingDirectory", SERVICE | SOCKET | MOUNT | SWAP, Supported),
    d("Writable", SOCKET, NotYetSupported),
];

/// Every directive, sorted by name: for documentation and `bosun verify --directives`.
pub fn directive_table() -> &'static [Directive] {
    DIRECTIVES
}

/// The directive `key` valid in `section`, if systemd knows it there.
pub fn lookup(section: &str, key: &str) -> Option<&'static Directive> {
    DIRECTIVES
        .binary_search_by(|d| d.name.cmp(key))
        .ok()
        .map(|i| &DIRECTIVES[i])
        .filter(|d| d.in_section(section))
}

/// The table as Markdown, one row per directive, for the README.
pub fn markdown_table() -> String {
    let mut out = String::from("| directive | sections | bosun |\n|---|---|---|\n");
    for d in DIRECTIVES {
        let sections: Vec<&str> = d.section_names().collect();
        out.push_str(&format!(
            "| `{}=` | {} | {} |\n",
            d.name,
            sections.join(", "),
            d.support.label()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for pair in DIRECTIVES.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} before {}",
                pair[0].name,
                pair[1].name
            );
        }
        assert!(DIRECTIVES.iter().all(|d| d.sections != 0));
    }

    #[test]
    fn lookups() {
        assert_eq!(
            lookup("Service", "ExecStart").map(|d| d.support),
            Some(Supported)
        );
        assert_eq!(
            lookup("Service", "MemoryMax").map(|d| d.support),
            Some(Ignored)
        );
        assert_eq!(lookup("Unit", "ExecStart"), None);
        assert_eq!(lookup("Service", "Frobnicate"), None);
        assert_eq!(lookup("Socket", "User").map(|d| d.support), Some(Supported));
        assert_eq!(
            lookup("Unit", "ConditionPathExists").map(|d| d.support),
            Some(Supported)
        );
        assert_eq!(
            lookup("Service", "TTYPath").map(|d| d.support),
            Some(NotYetSupported)
        );
    }
}
