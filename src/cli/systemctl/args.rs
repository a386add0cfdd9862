//! systemctl's command line as systemd 252 reads it: getopt_long with GNU permutation
//! (options before or after the verb, `--opt=value` or `--opt value`, unambiguous prefixes of
//! long options, clustered short flags `-qa`, `--` ending options), the same error messages,
//! the verb table with its argument counts, and unit name mangling per verb. The result is a
//! typed [`Invocation`] that the offline and online halves match on. Parsing only: nothing
//! here touches the file system or the control socket.

use std::path::PathBuf;

use super::mangle::{self, is_glob};
use crate::unit::UnitName;
use crate::unit::install::PresetMode;

/// One parsed systemctl command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// What to do.
    pub verb: Verb,
    /// The units named, mangled as systemctl mangles them for this verb.
    pub units: Vec<UnitArg>,
    /// Every option, whether or not this verb uses it.
    pub options: Options,
    /// Notices produced while mangling names (escaped characters, refused globs), to print on
    /// stderr before anything else; empty with `--quiet`.
    pub notices: Vec<String>,
}

/// One argument that names units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitArg {
    /// A unit name: `nginx` became `nginx.service`.
    Name(UnitName),
    /// A glob (`ssh*`) for the verbs that expand them against loaded units, or a
    /// `list-unit-files`/`list-units` pattern (matched as given, never mangled).
    Pattern(String),
    /// A unit file path (`enable /opt/app/app.service`; relative paths were made absolute).
    Path(PathBuf),
    /// A process ID (`status 1234`: the unit of that process) or, for `show`, a job ID.
    Id(u32),
    /// A name systemctl passes on as written although it is not a valid unit name (install
    /// verbs report it as an invalid or missing unit, as systemd does).
    Raw(String),
}

impl UnitArg {
    /// The argument as text (the name, the pattern, the path, the number).
    pub fn as_text(&self) -> String {
        match self {
            UnitArg::Name(n) => n.to_string(),
            UnitArg::Pattern(p) | UnitArg::Raw(p) => p.clone(),
            UnitArg::Path(p) => p.display().to_string(),
            UnitArg::Id(i) => i.to_string(),
        }
    }
}

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
struct Arity {
    min: usize,
    max: Option<usize>,
}

const ANY_ARGS: Arity = Arity { min: 0, max: None };
const SOME_ARGS: Arity = Arity { min: 2, max: None };
const NO_ARGS: Arity = Arity {
    min: 0,
    max: Some(1),
};

/// How a verb's arguments are mangled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Names {
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
fn lookup(word: &str) -> Option<(Verb, Arity, Names)> {
    use Names::*;
    let (verb, arity, names) = match word {
        "list-units" => (Verb::ListUnits, ANY_ARGS, Patterns),
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
        "is-failed" => (Verb::IsFailed, ANY_ARGS, Expand),
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
const NOT_IMPLEMENTED: &[&str] = &[
    "list-sockets",
    "list-timers",
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
    "preset-all",
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
            Verb::ListUnitFiles => "list-unit-files",
            Verb::ListDependencies => "list-dependencies",
            Verb::Enable => "enable",
            Verb::Disable => "disable",
            Verb::Reenable => "reenable",
            Verb::Mask => "mask",
            Verb::Unmask => "unmask",
            Verb::Preset => "preset",
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

/// `--job-mode=` (and the `--fail`, `--irreversible`, `--ignore-dependencies` shorthands).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobMode {
    /// `fail`.
    Fail,
    /// `replace` (the default).
    Replace,
    /// `replace-irreversibly`.
    ReplaceIrreversibly,
    /// `isolate`.
    Isolate,
    /// `flush`.
    Flush,
    /// `ignore-dependencies`.
    IgnoreDependencies,
    /// `ignore-requirements`.
    IgnoreRequirements,
    /// `triggering`.
    Triggering,
}

impl JobMode {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "fail" => JobMode::Fail,
            "replace" => JobMode::Replace,
            "replace-irreversibly" => JobMode::ReplaceIrreversibly,
            "isolate" => JobMode::Isolate,
            "flush" => JobMode::Flush,
            "ignore-dependencies" => JobMode::IgnoreDependencies,
            "ignore-requirements" => JobMode::IgnoreRequirements,
            "triggering" => JobMode::Triggering,
            _ => return None,
        })
    }
}

/// `--output=` (journal output modes, for `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    /// `short` and its variants (`short-iso`, `short-precise`, ...), kept by name.
    Short(&'static str),
    /// `verbose`.
    Verbose,
    /// `export`.
    Export,
    /// `json`, `json-pretty`, `json-sse`, `json-seq`.
    Json(&'static str),
    /// `cat`.
    Cat,
    /// `with-unit`.
    WithUnit,
}

const OUTPUT_MODES: [&str; 16] = [
    "short",
    "short-full",
    "short-iso",
    "short-iso-precise",
    "short-precise",
    "short-monotonic",
    "short-delta",
    "short-unix",
    "verbose",
    "export",
    "json",
    "json-pretty",
    "json-sse",
    "json-seq",
    "cat",
    "with-unit",
];

impl OutputMode {
    fn parse(text: &str) -> Option<Self> {
        let known = *OUTPUT_MODES.iter().find(|m| **m == text)?;
        Some(match known {
            "verbose" => OutputMode::Verbose,
            "export" => OutputMode::Export,
            "cat" => OutputMode::Cat,
            "with-unit" => OutputMode::WithUnit,
            j if j.starts_with("json") => OutputMode::Json(j),
            s => OutputMode::Short(s),
        })
    }
}

/// `list-dependencies` direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Dependency {
    /// Requirement dependencies (the default).
    #[default]
    Forward,
    /// `--reverse`: what pulls the unit in.
    Reverse,
    /// `--after`.
    After,
    /// `--before`.
    Before,
}

/// Every option systemctl accepts. Those marked *online* only change what the running
/// manager does; offline verbs carry them without effect, as systemctl does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `-q`, `--quiet`: print nothing but errors (`is-*` verbs print no state).
    pub quiet: bool,
    /// `--no-block` (online): do not wait for queued jobs.
    pub no_block: bool,
    /// `--wait` (online): wait for started units to stop again / for `is-system-running`.
    pub wait: bool,
    /// `--no-pager`: bosun never pages; accepted for compatibility.
    pub no_pager: bool,
    /// `--system`: the system manager, which is the only one bosun has.
    pub system: bool,
    /// `--now`: with enable/disable/mask, also start/stop the units (online).
    pub now: bool,
    /// `--job-mode=`, `--fail`, `--irreversible`, `--ignore-dependencies` (online).
    pub job_mode: Option<JobMode>,
    /// `-f`, `--force` (counted: `poweroff -ff` skips the orderly shutdown, online): with
    /// enable/mask/set-default, replace conflicting links.
    pub force: u8,
    /// `--root=DIR`: operate on the unit files under DIR (offline verbs only).
    pub root: Option<PathBuf>,
    /// `--runtime`: enable/disable/mask/unmask in /run/systemd/system only.
    pub runtime: bool,
    /// `-p`, `--property=` (repeatable, comma lists; `Some(empty)` for `-p ''`) (online).
    pub properties: Option<Vec<String>>,
    /// `--value` (and `-P`): `show` prints values only (online).
    pub value: bool,
    /// `-a`, `--all` (online): show all units/properties.
    pub all: bool,
    /// `-t`, `--type=`: unit types to list.
    pub types: Vec<String>,
    /// `--state=` (and load states given to `--type`, and `--failed`): states to list.
    pub states: Vec<String>,
    /// `--legend=no`/`--no-legend` (false), `--legend=yes` (true); `None`: the default
    /// (shown unless `--quiet`).
    pub legend: Option<bool>,
    /// `--plain` (online): list-dependencies/list-units without tree glyphs.
    pub plain: bool,
    /// `-l`, `--full`: do not ellipsize; `is-enabled` also lists the installation links.
    pub full: bool,
    /// `-s`, `--signal=` (online, `kill`): the signal number.
    pub signal: Option<i32>,
    /// `--kill-whom=` (online, `kill`): `main`, `control` or `all`.
    pub kill_whom: Option<String>,
    /// `-n`, `--lines=` (online, `status`): journal lines to show.
    pub lines: Option<u32>,
    /// `-o`, `--output=` (online, `status`): how journal lines are shown.
    pub output: Option<OutputMode>,
    /// `--no-reload` (online): enable/disable do not reload the manager afterwards.
    pub no_reload: bool,
    /// `--no-ask-password`: bosun never asks for passwords; accepted for compatibility.
    pub no_ask_password: bool,
    /// `--no-wall`: bosun never writes wall messages; accepted for compatibility.
    pub no_wall: bool,
    /// `--preset-mode=`: which half of the presets `preset` applies.
    pub preset_mode: PresetMode,
    /// `--reverse`, `--after`, `--before` (online, list-dependencies).
    pub dependency: Dependency,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            quiet: false,
            no_block: false,
            wait: false,
            no_pager: false,
            system: false,
            now: false,
            job_mode: None,
            force: 0,
            root: None,
            runtime: false,
            properties: None,
            value: false,
            all: false,
            types: Vec::new(),
            states: Vec::new(),
            legend: None,
            plain: false,
            full: false,
            signal: None,
            kill_whom: None,
            lines: None,
            output: None,
            no_reload: false,
            no_ask_password: false,
            no_wall: false,
            preset_mode: PresetMode::Full,
            dependency: Dependency::Forward,
        }
    }
}

impl Options {
    /// Whether tables get their header and footer.
    pub fn show_legend(&self) -> bool {
        self.legend.unwrap_or(!self.quiet)
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Run a verb.
    Run(Box<Invocation>),
    /// Print this text to stdout and exit 0 (`--help`, `--version`, `-t help`, ...).
    Print(String),
}

/// Why the command line is refused: the lines to print on stderr (exit status 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HasArg {
    No,
    Required,
}

/// systemd 252's long options, in its table order (which orders getopt's "ambiguous" list),
/// with the short option each is equivalent to.
const LONG: [(&str, HasArg, Option<char>); 59] = [
    ("help", HasArg::No, Some('h')),
    ("version", HasArg::No, None),
    ("type", HasArg::Required, Some('t')),
    ("property", HasArg::Required, Some('p')),
    ("all", HasArg::No, Some('a')),
    ("reverse", HasArg::No, None),
    ("after", HasArg::No, None),
    ("before", HasArg::No, None),
    ("show-types", HasArg::No, None),
    ("failed", HasArg::No, None),
    ("full", HasArg::No, Some('l')),
    ("job-mode", HasArg::Required, None),
    ("fail", HasArg::No, None),
    ("irreversible", HasArg::No, None),
    ("ignore-dependencies", HasArg::No, None),
    ("ignore-inhibitors", HasArg::No, Some('i')),
    ("check-inhibitors", HasArg::Required, None),
    ("value", HasArg::No, None),
    ("user", HasArg::No, None),
    ("system", HasArg::No, None),
    ("global", HasArg::No, None),
    ("wait", HasArg::No, None),
    ("no-block", HasArg::No, None),
    ("legend", HasArg::Required, None),
    ("no-legend", HasArg::No, None),
    ("no-pager", HasArg::No, None),
    ("no-wall", HasArg::No, None),
    ("dry-run", HasArg::No, None),
    ("quiet", HasArg::No, Some('q')),
    ("root", HasArg::Required, None),
    ("image", HasArg::Required, None),
    ("force", HasArg::No, Some('f')),
    ("no-reload", HasArg::No, None),
    ("kill-whom", HasArg::Required, None),
    ("signal", HasArg::Required, Some('s')),
    ("no-ask-password", HasArg::No, None),
    ("host", HasArg::Required, Some('H')),
    ("machine", HasArg::Required, Some('M')),
    ("runtime", HasArg::No, None),
    ("lines", HasArg::Required, Some('n')),
    ("output", HasArg::Required, Some('o')),
    ("plain", HasArg::No, None),
    ("state", HasArg::Required, None),
    ("recursive", HasArg::No, Some('r')),
    ("with-dependencies", HasArg::No, None),
    ("preset-mode", HasArg::Required, None),
    ("firmware-setup", HasArg::No, None),
    ("boot-loader-menu", HasArg::Required, None),
    ("boot-loader-entry", HasArg::Required, None),
    ("now", HasArg::No, None),
    ("message", HasArg::Required, None),
    ("show-transaction", HasArg::No, Some('T')),
    ("what", HasArg::Required, None),
    ("reboot-argument", HasArg::Required, None),
    ("timestamp", HasArg::Required, None),
    ("read-only", HasArg::No, None),
    ("mkdir", HasArg::No, None),
    ("marked", HasArg::No, None),
    ("kill-value", HasArg::Required, None),
];

/// The short options (getopt's "ht:p:P:alqfs:H:M:n:o:iTr").
fn short(c: char) -> Option<HasArg> {
    match c {
        'h' | 'a' | 'l' | 'q' | 'f' | 'i' | 'T' | 'r' => Some(HasArg::No),
        't' | 'p' | 'P' | 's' | 'H' | 'M' | 'n' | 'o' => Some(HasArg::Required),
        _ => None,
    }
}

/// An option as recognised: its canonical long name (or the short letter) and its value.
#[derive(Debug)]
struct Opt<'a> {
    long: &'a str,
    short: Option<char>,
    value: Option<String>,
}

/// The unit types of `-t` (unit_type_table order).
pub const UNIT_TYPES: [&str; 11] = [
    "service",
    "mount",
    "swap",
    "socket",
    "target",
    "device",
    "automount",
    "timer",
    "path",
    "slice",
    "scope",
];

/// The load states `-t` also accepts.
const LOAD_STATES: [&str; 7] = [
    "stub",
    "loaded",
    "not-found",
    "bad-setting",
    "error",
    "merged",
    "masked",
];

/// What `--state=help` prints (systemd 252's tables).
const STATE_HELP: &[(&str, &str)] = &[
    (
        "unit load states",
        "stub loaded not-found bad-setting error merged masked",
    ),
    (
        "unit active states",
        "active reloading inactive failed activating deactivating maintenance",
    ),
    (
        "unit file states",
        "enabled enabled-runtime linked linked-runtime alias masked masked-runtime static disabled indirect generated transient bad",
    ),
    ("automount unit substates", "dead waiting running failed"),
    ("device unit substates", "dead tentative plugged"),
    (
        "mount unit substates",
        "dead mounting mounting-done mounted remounting unmounting remounting-sigterm remounting-sigkill unmounting-sigterm unmounting-sigkill failed cleaning",
    ),
    ("path unit substates", "dead waiting running failed"),
    (
        "scope unit substates",
        "dead start-chown running abandoned stop-sigterm stop-sigkill failed",
    ),
    (
        "service unit substates",
        "dead condition start-pre start start-post running exited reload stop stop-watchdog stop-sigterm stop-sigkill stop-post final-watchdog final-sigterm final-sigkill failed auto-restart cleaning",
    ),
    ("slice unit substates", "dead active"),
    (
        "socket unit substates",
        "dead start-pre start-chown start-post listening running stop-pre stop-pre-sigterm stop-pre-sigkill stop-post final-sigterm final-sigkill failed cleaning",
    ),
    (
        "swap unit substates",
        "dead activating activating-done active deactivating deactivating-sigterm deactivating-sigkill failed cleaning",
    ),
    ("target unit substates", "dead active"),
    (
        "timer unit substates",
        "dead waiting running elapsed failed",
    ),
];

/// The state of a parse in progress.
struct Parser<'a> {
    prog: &'a str,
    opts: Options,
    cwd: Option<PathBuf>,
}

/// Read systemctl's command line. `prog` is how getopt names the program in its messages
/// (`argv[0]`); `args` excludes it; `cwd` makes relative unit file paths absolute.
pub fn parse(prog: &str, args: &[String], cwd: Option<PathBuf>) -> Result<Parsed, UsageError> {
    let mut p = Parser {
        prog,
        opts: Options::default(),
        cwd,
    };
    let mut positional: Vec<String> = Vec::new();
    let mut i = 0;
    let mut only_positional = false;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if only_positional || arg == "-" || !arg.starts_with('-') {
            positional.push(arg.clone());
            continue;
        }
        if arg == "--" {
            only_positional = true;
            continue;
        }
        if let Some(body) = arg.strip_prefix("--") {
            let opt = p.long_option(body, args, &mut i)?;
            if let Some(text) = p.apply(&opt)? {
                return Ok(Parsed::Print(text));
            }
            continue;
        }
        let cluster: Vec<char> = arg[1..].chars().collect();
        let mut k = 0;
        while k < cluster.len() {
            let c = cluster[k];
            k += 1;
            let Some(has_arg) = short(c) else {
                return Err(UsageError(format!("{}: invalid option -- '{c}'", p.prog)));
            };
            let value = if has_arg == HasArg::Required {
                if k < cluster.len() {
                    let v: String = cluster[k..].iter().collect();
                    k = cluster.len();
                    Some(v)
                } else if i < args.len() {
                    i += 1;
                    Some(args[i - 1].clone())
                } else {
                    return Err(UsageError(format!(
                        "{}: option requires an argument -- '{c}'",
                        p.prog
                    )));
                }
            } else {
                None
            };
            let long = LONG
                .iter()
                .find(|(_, _, s)| *s == Some(c))
                .map_or("", |(l, _, _)| *l);
            let opt = Opt {
                long,
                short: Some(c),
                value,
            };
            if let Some(text) = p.apply(&opt)? {
                return Ok(Parsed::Print(text));
            }
        }
    }
    p.finish(positional)
}

impl Parser<'_> {
    /// getopt_long's matching of `--name[=value]`: exact, else a unique prefix.
    fn long_option(
        &self,
        body: &str,
        args: &[String],
        i: &mut usize,
    ) -> Result<Opt<'static>, UsageError> {
        let (name, attached) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (body, None),
        };
        let exact = LONG.iter().find(|(l, _, _)| *l == name);
        let found = match exact {
            Some(e) => e,
            None => {
                let candidates: Vec<&(&str, HasArg, Option<char>)> = LONG
                    .iter()
                    .filter(|(l, _, _)| l.starts_with(name))
                    .collect();
                match candidates.as_slice() {
                    [] => {
                        return Err(UsageError(format!(
                            "{}: unrecognized option '--{body}'",
                            self.prog
                        )));
                    }
                    [one] => *one,
                    many => {
                        let list: String =
                            many.iter().map(|(l, _, _)| format!(" '--{l}'")).collect();
                        return Err(UsageError(format!(
                            "{}: option '--{name}' is ambiguous; possibilities:{list}",
                            self.prog
                        )));
                    }
                }
            }
        };
        let (long, has_arg, short) = *found;
        let value = match (has_arg, attached) {
            (HasArg::No, Some(_)) => {
                return Err(UsageError(format!(
                    "{}: option '--{long}' doesn't allow an argument",
                    self.prog
                )));
            }
            (HasArg::No, None) => None,
            (HasArg::Required, Some(v)) => Some(v),
            (HasArg::Required, None) => {
                if *i < args.len() {
                    *i += 1;
                    Some(args[*i - 1].clone())
                } else {
                    return Err(UsageError(format!(
                        "{}: option '--{long}' requires an argument",
                        self.prog
                    )));
                }
            }
        };
        Ok(Opt { long, short, value })
    }

    /// Apply one option; `Some(text)` when it asks for text to be printed instead.
    fn apply(&mut self, opt: &Opt<'_>) -> Result<Option<String>, UsageError> {
        let value = opt.value.clone().unwrap_or_default();
        let o = &mut self.opts;
        let key = match opt.short {
            Some('P') => "P",
            _ => opt.long,
        };
        match key {
            "help" => return Ok(Some(super::help_text())),
            "version" => return Ok(Some(super::version_text())),
            "type" => {
                if value.is_empty() {
                    return usage("--type= requires arguments.");
                }
                for t in value.split(',').filter(|t| !t.is_empty()) {
                    if t == "help" {
                        let mut text = String::new();
                        if o.legend != Some(false) {
                            text.push_str("Available unit types:\n");
                        }
                        for ty in UNIT_TYPES {
                            text.push_str(ty);
                            text.push('\n');
                        }
                        return Ok(Some(text));
                    }
                    if UNIT_TYPES.contains(&t) {
                        o.types.push(t.to_owned());
                    } else if LOAD_STATES.contains(&t) {
                        o.states.push(t.to_owned());
                    } else {
                        return usage(&format!(
                            "Unknown unit type or load state '{t}'.\nUse -t help to see a list of allowed values."
                        ));
                    }
                }
            }
            "property" | "P" => {
                if key == "P" {
                    o.value = true;
                }
                let list = o.properties.get_or_insert_with(Vec::new);
                list.extend(
                    value
                        .split(',')
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned),
                );
            }
            "all" => o.all = true,
            "reverse" => o.dependency = Dependency::Reverse,
            "after" => o.dependency = Dependency::After,
            "before" => o.dependency = Dependency::Before,
            "failed" => o.states.push("failed".to_owned()),
            "full" => o.full = true,
            "job-mode" => {
                o.job_mode = Some(
                    JobMode::parse(&value)
                        .ok_or_else(|| UsageError(format!("Invalid job mode '{value}'.")))?,
                );
            }
            "fail" => o.job_mode = Some(JobMode::Fail),
            "irreversible" => o.job_mode = Some(JobMode::ReplaceIrreversibly),
            "ignore-dependencies" => o.job_mode = Some(JobMode::IgnoreDependencies),
            "value" => o.value = true,
            "user" => {
                return usage(
                    "--user is not supported: bosun is this container's only service manager (there are no user managers); drop --user",
                );
            }
            "host" => {
                return usage(
                    "-H/--host is not supported: bosun's systemctl talks to the bosun of this container only; run it inside the container (podman exec, kubectl exec)",
                );
            }
            "machine" => {
                return usage(
                    "-M/--machine is not supported: bosun's systemctl talks to the bosun of this container only; run it inside the container (podman exec, kubectl exec)",
                );
            }
            "system" => o.system = true,
            "wait" => o.wait = true,
            "no-block" => o.no_block = true,
            "legend" => {
                o.legend = Some(parse_bool(&value).ok_or_else(|| {
                    UsageError(format!(
                        "Failed to parse boolean argument to --legend: {value}."
                    ))
                })?);
            }
            "no-legend" => o.legend = Some(false),
            "no-pager" => o.no_pager = true,
            "no-wall" => o.no_wall = true,
            "quiet" => {
                o.quiet = true;
                if o.legend.is_none() {
                    o.legend = Some(false);
                }
            }
            "root" => {
                let path = PathBuf::from(&value);
                let absolute = match (&self.cwd, path.is_absolute()) {
                    (_, true) => path,
                    (Some(cwd), false) => cwd.join(path),
                    (None, false) => path,
                };
                o.root = Some(crate::unit::install::paths::normalize(&absolute));
            }
            "force" => o.force = o.force.saturating_add(1),
            "no-reload" => o.no_reload = true,
            "kill-whom" => o.kill_whom = Some(value),
            "signal" => {
                if value == "help" {
                    return Ok(Some(signal_help()));
                }
                o.signal = Some(crate::init::signals::parse(&value).ok_or_else(|| {
                    UsageError(format!("Failed to parse signal string \"{value}\"."))
                })?);
            }
            "no-ask-password" => o.no_ask_password = true,
            "runtime" => o.runtime = true,
            "lines" => {
                o.lines = Some(
                    value
                        .parse::<u32>()
                        .ok()
                        .filter(|_| !value.starts_with('+'))
                        .ok_or_else(|| UsageError(format!("Failed to parse lines '{value}'")))?,
                );
            }
            "output" => {
                if value == "help" {
                    return Ok(Some(lines(&OUTPUT_MODES)));
                }
                let mode = OutputMode::parse(&value)
                    .ok_or_else(|| UsageError(format!("Unknown output '{value}'.")))?;
                if matches!(mode, OutputMode::Json(_)) {
                    o.legend = Some(false);
                    o.plain = true;
                }
                o.output = Some(mode);
            }
            "plain" => o.plain = true,
            "state" => {
                if value.is_empty() {
                    return usage("--state= requires arguments.");
                }
                for s in value.split(',').filter(|s| !s.is_empty()) {
                    if s == "help" {
                        return Ok(Some(state_help(o.legend != Some(false))));
                    }
                    o.states.push(s.to_owned());
                }
            }
            "preset-mode" => {
                if value == "help" {
                    return Ok(Some(lines(&["full", "enable-only", "disable-only"])));
                }
                o.preset_mode = PresetMode::parse(&value)
                    .ok_or_else(|| UsageError(format!("Failed to parse preset mode: {value}.")))?;
            }
            "now" => o.now = true,
            other => {
                return usage(&format!(
                    "bosun: systemctl option --{other} is not supported by bosun"
                ));
            }
        }
        Ok(None)
    }

    /// The verb and its arguments, once every option is read.
    fn finish(mut self, positional: Vec<String>) -> Result<Parsed, UsageError> {
        let word = positional.first().cloned();
        let (verb, arity, names) = match word.as_deref() {
            None => lookup("list-units").ok_or_else(|| UsageError(String::new()))?,
            Some(w) => match lookup(w) {
                Some(found) => found,
                None if NOT_IMPLEMENTED.contains(&w) => {
                    return usage(&format!(
                        "bosun: systemctl verb '{w}' is not supported by bosun"
                    ));
                }
                None => return usage(&format!("Unknown command verb {w}.")),
            },
        };
        // dispatch_verb() counts the verb itself; the default verb counts as one word.
        let count = positional.len().max(1);
        if count < arity.min {
            return usage("Too few arguments.");
        }
        if arity.max.is_some_and(|max| count > max) {
            return usage("Too many arguments.");
        }
        if self.opts.wait && self.opts.no_block {
            return usage("--wait may not be combined with --no-block.");
        }
        let rest: Vec<String> = positional.into_iter().skip(1).collect();
        let mut notices = Vec::new();
        let mut units = Vec::new();
        let verb = match verb {
            Verb::Exit(_) => match rest.first() {
                None => Verb::Exit(None),
                Some(code) => Verb::Exit(Some(
                    code.parse::<u8>()
                        .map_err(|_| UsageError("Invalid exit code.".to_owned()))?,
                )),
            },
            Verb::SetEnvironment(_) => {
                for a in &rest {
                    if !env_assignment_valid(a) {
                        return usage(&format!("Not a valid environment assignment: {a}"));
                    }
                }
                Verb::SetEnvironment(rest.clone())
            }
            Verb::UnsetEnvironment(_) => {
                for a in &rest {
                    let name = a.split_once('=').map_or(a.as_str(), |(n, _)| n);
                    if !env_name_valid(name) {
                        return usage(&format!("Not a valid environment variable name: {a}"));
                    }
                }
                Verb::UnsetEnvironment(rest.clone())
            }
            Verb::ImportEnvironment(_) => Verb::ImportEnvironment(rest.clone()),
            other => other,
        };
        let quiet = self.opts.quiet;
        let mut note = |n: Option<String>| {
            if let (Some(n), false) = (n, quiet) {
                notices.push(n);
            }
        };
        match names {
            Names::Other => {
                if verb == Verb::SetDefault {
                    let m = mangle::mangle(&rest[0], Some("set-default"), false, ".target")
                        .ok_or_else(mangle_failed)?;
                    note(m.notice);
                    units.push(name_arg(m.name));
                } else if verb == Verb::ListDependencies {
                    for a in &rest {
                        let m =
                            mangle::mangle(a, None, false, ".service").ok_or_else(mangle_failed)?;
                        note(m.notice);
                        units.push(name_arg(m.name));
                    }
                }
            }
            Names::Patterns => units.extend(rest.iter().cloned().map(UnitArg::Pattern)),
            Names::Install(operation) => {
                for a in &rest {
                    if a.contains('/') {
                        let path = PathBuf::from(a);
                        let path = match (&self.cwd, path.is_absolute()) {
                            (Some(cwd), false) => cwd.join(path),
                            _ => path,
                        };
                        units.push(UnitArg::Path(crate::unit::install::paths::normalize(&path)));
                        continue;
                    }
                    let m = mangle::mangle(a, Some(operation), false, ".service")
                        .ok_or_else(mangle_failed)?;
                    note(m.notice);
                    units.push(name_arg(m.name));
                }
            }
            Names::Expand => {
                for a in &rest {
                    let numeric = !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit());
                    if numeric
                        && matches!(verb, Verb::Status | Verb::Show)
                        && let Ok(id) = a.parse::<u32>()
                    {
                        units.push(UnitArg::Id(id));
                        continue;
                    }
                    let m = mangle::mangle(a, None, true, ".service").ok_or_else(mangle_failed)?;
                    note(m.notice);
                    if is_glob(&m.name) {
                        units.push(UnitArg::Pattern(m.name));
                    } else {
                        units.push(name_arg(m.name));
                    }
                }
            }
        }
        self.opts.types.dedup();
        Ok(Parsed::Run(Box::new(Invocation {
            verb,
            units,
            options: self.opts,
            notices,
        })))
    }
}

fn name_arg(name: String) -> UnitArg {
    match UnitName::parse(&name) {
        Ok(n) => UnitArg::Name(n),
        Err(_) => UnitArg::Raw(name),
    }
}

fn mangle_failed() -> UsageError {
    UsageError("Failed to mangle unit name: Invalid argument".to_owned())
}

fn usage<T>(text: &str) -> Result<T, UsageError> {
    Err(UsageError(text.to_owned()))
}

/// parse_boolean().
fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Some(false),
        _ => None,
    }
}

fn env_name_valid(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn env_assignment_valid(text: &str) -> bool {
    text.split_once('=').is_some_and(|(n, _)| env_name_valid(n))
}

fn lines(items: &[&str]) -> String {
    items.iter().map(|i| format!("{i}\n")).collect()
}

fn state_help(legend: bool) -> String {
    let mut out = String::new();
    for (i, (title, states)) in STATE_HELP.iter().enumerate() {
        if legend {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&format!("Available {title}:\n"));
        }
        for s in states.split(' ') {
            out.push_str(s);
            out.push('\n');
        }
    }
    out
}

fn signal_help() -> String {
    let mut out = String::new();
    for n in 1..=crate::sys::MAX_SIGNAL {
        out.push_str(crate::init::signals::name(n).trim_start_matches("SIG"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Parsed, UsageError> {
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        parse("systemctl", &args, Some(PathBuf::from("/cwd")))
    }

    fn inv(args: &[&str]) -> Invocation {
        match run(args) {
            Ok(Parsed::Run(i)) => *i,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    fn err(args: &[&str]) -> String {
        match run(args) {
            Err(UsageError(e)) => e,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    fn names(i: &Invocation) -> Vec<String> {
        i.units.iter().map(UnitArg::as_text).collect()
    }

    #[test]
    fn options_before_or_after_the_verb() {
        for args in [
            &["-q", "enable", "nginx"][..],
            &["enable", "-q", "nginx"],
            &["enable", "nginx", "--quiet"],
            &["--qui", "enable", "nginx"],
        ] {
            let i = inv(args);
            assert_eq!(i.verb, Verb::Enable);
            assert!(i.options.quiet, "{args:?}");
            assert_eq!(names(&i), ["nginx.service"]);
        }
    }

    #[test]
    fn values_attached_or_separate() {
        let i = inv(&[
            "--root=/r",
            "kill",
            "-s",
            "KILL",
            "--kill-whom",
            "main",
            "x",
        ]);
        assert_eq!(i.options.root, Some(PathBuf::from("/r")));
        assert_eq!(i.options.signal, Some(9));
        assert_eq!(i.options.kill_whom.as_deref(), Some("main"));
        let i = inv(&["kill", "-sTERM", "--signal=HUP", "x"]);
        assert_eq!(i.options.signal, Some(1));
        let i = inv(&["--root", "rel", "get-default"]);
        assert_eq!(i.options.root, Some(PathBuf::from("/cwd/rel")));
    }

    #[test]
    fn combined_short_flags_and_repeats() {
        let i = inv(&["-qa", "show", "-p", "A,B", "--property=C", "-ff", "x"]);
        assert!(i.options.quiet && i.options.all);
        assert_eq!(i.options.force, 2);
        assert_eq!(
            i.options.properties,
            Some(vec!["A".to_owned(), "B".to_owned(), "C".to_owned()])
        );
        assert_eq!(inv(&["show", "-p", ""]).options.properties, Some(vec![]));
        let i = inv(&["-PId", "show", "x"]);
        assert!(i.options.value, "-P is --value --property");
        assert_eq!(i.options.properties, Some(vec!["Id".to_owned()]));
    }

    #[test]
    fn double_dash_ends_options() {
        let i = inv(&["list-unit-files", "--", "--no-legend"]);
        assert_eq!(i.units, [UnitArg::Pattern("--no-legend".to_owned())]);
        assert_eq!(i.options.legend, None);
    }

    #[test]
    fn getopt_errors() {
        assert_eq!(err(&["--frob"]), "systemctl: unrecognized option '--frob'");
        assert_eq!(
            err(&["--frob=1"]),
            "systemctl: unrecognized option '--frob=1'"
        );
        assert_eq!(err(&["-Z"]), "systemctl: invalid option -- 'Z'");
        assert_eq!(
            err(&["--signal"]),
            "systemctl: option '--signal' requires an argument"
        );
        assert_eq!(
            err(&["-s"]),
            "systemctl: option requires an argument -- 's'"
        );
        assert_eq!(
            err(&["--quiet=1"]),
            "systemctl: option '--quiet' doesn't allow an argument"
        );
        assert_eq!(
            err(&["--no"]),
            "systemctl: option '--no' is ambiguous; possibilities: '--no-block' '--no-legend' '--no-pager' '--no-wall' '--no-reload' '--no-ask-password' '--now'"
        );
    }

    #[test]
    fn verb_errors() {
        assert_eq!(err(&["frob"]), "Unknown command verb frob.");
        assert_eq!(err(&["enable"]), "Too few arguments.");
        assert_eq!(err(&["get-default", "x"]), "Too many arguments.");
        assert_eq!(err(&["set-default", "a", "b"]), "Too many arguments.");
        assert!(err(&["edit", "x"]).contains("not supported by bosun"));
        assert_eq!(
            err(&["--wait", "--no-block", "start", "x"]),
            "--wait may not be combined with --no-block."
        );
        assert_eq!(err(&["exit", "300"]), "Invalid exit code.");
        assert_eq!(inv(&["exit", "3"]).verb, Verb::Exit(Some(3)));
        assert_eq!(inv(&["exit"]).verb, Verb::Exit(None));
    }

    #[test]
    fn option_value_errors() {
        assert_eq!(err(&["-n", "x", "status"]), "Failed to parse lines 'x'");
        assert_eq!(err(&["-o", "bogus", "status"]), "Unknown output 'bogus'.");
        assert_eq!(
            err(&["--signal=FOO", "kill", "x"]),
            "Failed to parse signal string \"FOO\"."
        );
        assert_eq!(
            err(&["-t", "bogus"]),
            "Unknown unit type or load state 'bogus'.\nUse -t help to see a list of allowed values."
        );
        assert_eq!(err(&["--state="]), "--state= requires arguments.");
        assert_eq!(
            err(&["--legend=maybe"]),
            "Failed to parse boolean argument to --legend: maybe."
        );
        assert_eq!(err(&["--preset-mode=x"]), "Failed to parse preset mode: x.");
        for refused in [
            &["--user", "status"][..],
            &["-H", "h", "status"],
            &["-M", "m", "status"],
        ] {
            assert!(err(refused).contains("not supported"), "{refused:?}");
        }
    }

    #[test]
    fn types_and_states() {
        let i = inv(&[
            "list-unit-files",
            "-t",
            "service,masked",
            "--state=enabled",
            "--failed",
        ]);
        assert_eq!(i.options.types, ["service"]);
        assert_eq!(i.options.states, ["masked", "enabled", "failed"]);
        match run(&["-t", "help"]) {
            Ok(Parsed::Print(t)) => assert!(t.starts_with("Available unit types:\nservice\n")),
            other => panic!("{other:?}"),
        }
        match run(&["--no-legend", "-t", "help"]) {
            Ok(Parsed::Print(t)) => assert!(t.starts_with("service\n")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn quiet_hides_the_legend_unless_asked() {
        assert!(!inv(&["-q", "list-unit-files"]).options.show_legend());
        assert!(
            inv(&["--legend=yes", "-q", "list-unit-files"])
                .options
                .show_legend()
        );
        assert!(inv(&["list-unit-files"]).options.show_legend());
    }

    #[test]
    fn mangling_per_verb() {
        let i = inv(&["enable", "nginx", "foo@", "/opt/x.service", "rel/y.service"]);
        assert_eq!(
            names(&i),
            [
                "nginx.service",
                "foo@.service",
                "/opt/x.service",
                "/cwd/rel/y.service"
            ]
        );
        assert!(matches!(i.units[2], UnitArg::Path(_)));
        let i = inv(&["start", "ssh*", "nginx"]);
        assert_eq!(i.units[0], UnitArg::Pattern("ssh*".to_owned()));
        assert_eq!(names(&i), ["ssh*", "nginx.service"]);
        let i = inv(&["status", "1234", "x"]);
        assert_eq!(i.units[0], UnitArg::Id(1234));
        let i = inv(&["set-default", "graphical"]);
        assert_eq!(names(&i), ["graphical.target"]);
        let i = inv(&["list-unit-files", "ssh"]);
        assert_eq!(i.units, [UnitArg::Pattern("ssh".to_owned())]);
        let i = inv(&["enable", "a*"]);
        assert_eq!(names(&i), ["a\\x2a.service"]);
        assert_eq!(i.notices.len(), 1);
        assert!(inv(&["-q", "enable", "a*"]).notices.is_empty());
        assert_eq!(inv(&["condrestart", "x"]).verb, Verb::TryRestart);
        assert_eq!(inv(&[]).verb, Verb::ListUnits);
    }

    #[test]
    fn job_modes_and_environment() {
        let i = inv(&["stop", "--ignore-dependencies", "x"]);
        assert_eq!(i.options.job_mode, Some(JobMode::IgnoreDependencies));
        assert_eq!(
            inv(&["--job-mode=fail", "start", "x"]).options.job_mode,
            Some(JobMode::Fail)
        );
        assert!(err(&["--job-mode=bogus", "start", "x"]).contains("bogus"));
        assert_eq!(
            inv(&["set-environment", "A=1", "B=2"]).verb,
            Verb::SetEnvironment(vec!["A=1".to_owned(), "B=2".to_owned()])
        );
        assert!(err(&["set-environment", "A"]).contains("A"));
    }
}
