//! The options systemctl carries into an [`Invocation`](super::Invocation): every option of
//! systemd 252's systemctl that bosun accepts, typed. Data only; reading them is
//! [`super::args`].

use std::path::PathBuf;

use crate::unit::install::PresetMode;

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
    /// The mode named `text`.
    pub fn parse(text: &str) -> Option<Self> {
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

/// `--output=` (journal output modes, for `status`): journalctl's, rendered by its renderer.
pub use crate::cli::journalctl::output::Mode as OutputMode;

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
    /// `--show-types`: list-sockets shows each socket's type.
    pub show_types: bool,
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
            show_types: false,
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
