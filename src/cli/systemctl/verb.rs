//! The verbs of systemd 252's systemctl that bosun answers, their argument counts and how
//! their unit arguments are mangled (systemctl.c's verb table), and the systemd verbs bosun
//! refuses by name. Data only.

/// The verbs systemctl knows and bosun implements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    /// `start UNIT...`.
    Start,
    /// `stop UNIT...`.
    Stop,
    /// `restart UNIT...`.
    Restart,
    /// `try-restart UNIT...` (also spelled `condrestart`).
    TryRestart,
    /// `reload UNIT...`.
    Reload,
    /// `reload-or-restart UNIT...`.
    ReloadOrRestart,
    /// `reload-or-try-restart UNIT...` (also `try-reload-or-restart`, `force-reload`,
    /// `condreload`).
    ReloadOrTryRestart,
    /// `kill UNIT...` (`--signal`, `--kill-whom`).
    Kill,
    /// `reset-failed [UNIT...]`.
    ResetFailed,
    /// `status [UNIT|PID...]`.
    Status,
    /// `show [UNIT|JOB...]` (`-p`, `--value`, `--all`).
    Show,
    /// `cat UNIT...`.
    Cat,
    /// `is-active UNIT...` (also `check`).
    IsActive,
    /// `is-enabled UNIT...`.
    IsEnabled,
    /// `is-failed [UNIT...]`.
    IsFailed,
    /// `is-system-running` (`--wait`).
    IsSystemRunning,
    /// `list-units [PATTERN...]` (the default verb).
    ListUnits,
    /// `list-sockets [PATTERN...]`.
    ListSockets,
    /// `list-timers [PATTERN...]` (`--all`).
    ListTimers,
    /// `list-paths [PATTERN...]` (`--all`).
    ListPaths,
    /// `list-unit-files [PATTERN...]`.
    ListUnitFiles,
    /// `list-dependencies [UNIT...]` (`--reverse`, `--after`, `--before`, `--all`).
    ListDependencies,
    /// `enable UNIT...` (`--now`, `--runtime`, `--force`).
    Enable,
    /// `disable UNIT...` (`--now`, `--runtime`).
    Disable,
    /// `reenable UNIT...`.
    Reenable,
    /// `mask UNIT...` (`--now`, `--runtime`, `--force`).
    Mask,
    /// `unmask UNIT...` (`--runtime`).
    Unmask,
    /// `preset UNIT...` (`--preset-mode`).
    Preset,
    /// `preset-all`: every unit file as the presets say.
    PresetAll,
    /// `daemon-reload`.
    DaemonReload,
    /// `daemon-reexec`.
    DaemonReexec,
    /// `get-default`.
    GetDefault,
    /// `set-default TARGET` (the target is the one unit argument).
    SetDefault,
    /// `default`: start default.target.
    Default,
    /// `poweroff`.
    Poweroff,
    /// `halt`.
    Halt,
    /// `reboot`.
    Reboot,
    /// `exit [CODE]`: the container exits with CODE.
    Exit(Option<u8>),
    /// `show-environment`.
    ShowEnvironment,
    /// `set-environment VAR=VALUE...`.
    SetEnvironment(Vec<String>),
    /// `unset-environment VAR...`.
    UnsetEnvironment(Vec<String>),
    /// `import-environment [VAR...]`.
    ImportEnvironment(Vec<String>),
}

/// Argument counts as systemd's verb table states them (the verb included).
#[derive(Debug, Clone, Copy)]
pub(super) struct Arity {
    pub(super) min: usize,
    pub(super) max: Option<usize>,
}

pub(super) const ANY_ARGS: Arity = Arity { min: 0, max: None };
pub(super) const SOME_ARGS: Arity = Arity { min: 2, max: None };
pub(super) const NO_ARGS: Arity = Arity {
    min: 0,
    max: Some(1),
};

/// How a verb's arguments are mangled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Names {
    /// expand_unit_names(): globs kept, `.service` appended.
    Expand,
    /// mangle_names("to VERB"): paths kept, no globs.
    Install(&'static str),
    /// Patterns as written.
    Patterns,
    /// Something else (exit code, environment, target).
    Other,
}

/// systemd 252's verbs bosun implements: word, verb (unit-less form), counts, mangling.
pub(super) fn lookup(word: &str) -> Option<(Verb, Arity, Names)> {
    use Names::*;
    let (verb, arity, names) = match word {
        "list-units" => (Verb::ListUnits, ANY_ARGS, Patterns),
        "list-sockets" => (Verb::ListSockets, ANY_ARGS, Patterns),
        "list-timers" => (Verb::ListTimers, ANY_ARGS, Patterns),
        "list-paths" => (Verb::ListPaths, ANY_ARGS, Patterns),
        "list-unit-files" => (Verb::ListUnitFiles, ANY_ARGS, Patterns),
        "start" => (Verb::Start, SOME_ARGS, Expand),
        "stop" => (Verb::Stop, SOME_ARGS, Expand),
        "reload" => (Verb::Reload, SOME_ARGS, Expand),
        "restart" => (Verb::Restart, SOME_ARGS, Expand),
        "try-restart" | "condrestart" => (Verb::TryRestart, SOME_ARGS, Expand),
        "reload-or-restart" => (Verb::ReloadOrRestart, SOME_ARGS, Expand),
        "reload-or-try-restart" | "try-reload-or-restart" | "force-reload" | "condreload" => {
            (Verb::ReloadOrTryRestart, SOME_ARGS, Expand)
        }
        "kill" => (Verb::Kill, SOME_ARGS, Expand),
        "is-active" | "check" => (Verb::IsActive, SOME_ARGS, Expand),
        // At least one unit in 252 (later versions answer for the system without one).
        "is-failed" => (Verb::IsFailed, SOME_ARGS, Expand),
        "show" => (Verb::Show, ANY_ARGS, Expand),
        "cat" => (Verb::Cat, SOME_ARGS, Expand),
        "status" => (Verb::Status, ANY_ARGS, Expand),
        "daemon-reload" => (
            Verb::DaemonReload,
            Arity {
                min: 1,
                max: Some(1),
            },
            Other,
        ),
        "daemon-reexec" => (
            Verb::DaemonReexec,
            Arity {
                min: 1,
                max: Some(1),
            },
            Other,
        ),
        "show-environment" => (Verb::ShowEnvironment, NO_ARGS, Other),
        "set-environment" => (Verb::SetEnvironment(Vec::new()), SOME_ARGS, Other),
        "unset-environment" => (Verb::UnsetEnvironment(Vec::new()), SOME_ARGS, Other),
        "import-environment" => (Verb::ImportEnvironment(Vec::new()), ANY_ARGS, Other),
        "halt" => (Verb::Halt, NO_ARGS, Other),
        "poweroff" => (Verb::Poweroff, NO_ARGS, Other),
        "reboot" => (Verb::Reboot, NO_ARGS, Other),
        "default" => (Verb::Default, NO_ARGS, Other),
        "exit" => (
            Verb::Exit(None),
            Arity {
                min: 0,
                max: Some(2),
            },
            Other,
        ),
        "reset-failed" => (Verb::ResetFailed, ANY_ARGS, Expand),
        "enable" => (Verb::Enable, SOME_ARGS, Install("to enable")),
        "disable" => (Verb::Disable, SOME_ARGS, Install("to disable")),
        "is-enabled" => (Verb::IsEnabled, SOME_ARGS, Install("to check")),
        "reenable" => (Verb::Reenable, SOME_ARGS, Install("to reenable")),
        "preset" => (Verb::Preset, SOME_ARGS, Install("to preset")),
        "preset-all" => (Verb::PresetAll, NO_ARGS, Other),
        "mask" => (Verb::Mask, SOME_ARGS, Install("to mask")),
        "unmask" => (Verb::Unmask, SOME_ARGS, Install("to unmask")),
        "list-dependencies" => (Verb::ListDependencies, ANY_ARGS, Other),
        "set-default" => (
            Verb::SetDefault,
            Arity {
                min: 2,
                max: Some(2),
            },
            Other,
        ),
        "get-default" => (Verb::GetDefault, NO_ARGS, Other),
        "is-system-running" => (Verb::IsSystemRunning, NO_ARGS, Other),
        _ => return None,
    };
    Some((verb, arity, names))
}

/// systemd 252 verbs bosun does not implement: refused with a clear message rather than
/// "Unknown command verb".
pub(super) const NOT_IMPLEMENTED: &[&str] = &[
    "list-jobs",
    "list-machines",
    "clear-jobs",
    "cancel",
    "condstop",
    "isolate",
    "clean",
    "freeze",
    "thaw",
    "help",
    "log-level",
    "log-target",
    "service-log-level",
    "service-log-target",
    "service-watchdogs",
    "kexec",
    "suspend",
    "hibernate",
    "hybrid-sleep",
    "suspend-then-hibernate",
    "rescue",
    "emergency",
    "link",
    "revert",
    "switch-root",
    "set-property",
    "edit",
    "add-wants",
    "add-requires",
    "bind",
    "mount-image",
];

impl Verb {
    /// The verb as systemctl spells it (aliases give their canonical spelling).
    pub fn word(&self) -> &'static str {
        match self {
            Verb::Start => "start",
            Verb::Stop => "stop",
            Verb::Restart => "restart",
            Verb::TryRestart => "try-restart",
            Verb::Reload => "reload",
            Verb::ReloadOrRestart => "reload-or-restart",
            Verb::ReloadOrTryRestart => "reload-or-try-restart",
            Verb::Kill => "kill",
            Verb::ResetFailed => "reset-failed",
            Verb::Status => "status",
            Verb::Show => "show",
            Verb::Cat => "cat",
            Verb::IsActive => "is-active",
            Verb::IsEnabled => "is-enabled",
            Verb::IsFailed => "is-failed",
            Verb::IsSystemRunning => "is-system-running",
            Verb::ListUnits => "list-units",
            Verb::ListSockets => "list-sockets",
            Verb::ListTimers => "list-timers",
            Verb::ListPaths => "list-paths",
            Verb::ListUnitFiles => "list-unit-files",
            Verb::ListDependencies => "list-dependencies",
            Verb::Enable => "enable",
            Verb::Disable => "disable",
            Verb::Reenable => "reenable",
            Verb::Mask => "mask",
            Verb::Unmask => "unmask",
            Verb::Preset => "preset",
            Verb::PresetAll => "preset-all",
            Verb::DaemonReload => "daemon-reload",
            Verb::DaemonReexec => "daemon-reexec",
            Verb::GetDefault => "get-default",
            Verb::SetDefault => "set-default",
            Verb::Default => "default",
            Verb::Poweroff => "poweroff",
            Verb::Halt => "halt",
            Verb::Reboot => "reboot",
            Verb::Exit(_) => "exit",
            Verb::ShowEnvironment => "show-environment",
            Verb::SetEnvironment(_) => "set-environment",
            Verb::UnsetEnvironment(_) => "unset-environment",
            Verb::ImportEnvironment(_) => "import-environment",
        }
    }

    /// The verb works on unit files and needs no running manager (systemd's verbs without
    /// VERB_ONLINE_ONLY, plus `cat` and `daemon-reload`, which bosun serves from the file
    /// system when it is not running).
    pub fn works_offline(&self) -> bool {
        matches!(
            self,
            Verb::Enable
                | Verb::Disable
                | Verb::Reenable
                | Verb::Mask
                | Verb::Unmask
                | Verb::Preset
                | Verb::PresetAll
                | Verb::IsEnabled
                | Verb::ListUnitFiles
                | Verb::GetDefault
                | Verb::SetDefault
                | Verb::IsSystemRunning
                | Verb::Cat
                | Verb::DaemonReload
        )
    }
}
