//! Applying a unit file's assignments to the typed [`Unit`]: the directive table decides
//! whether a key is known, supported, ignored or not yet supported; supported keys are parsed
//! with systemd's rules (an empty assignment resets a list, specifiers are resolved) and a
//! value that does not parse becomes an error of this unit with `path:line`, the key, the value
//! and why. The execution-environment keys shared by services and sockets are in
//! `apply_exec.rs`, socket and timer keys in `apply_socket.rs`, path keys in `apply_path.rs`; whole-unit rules (systemd's service_verify and friends) are in
//! [`check_unit`]. No I/O here but for the time zone files an `OnCalendar=` names (read when
//! the value is, as systemd does): the loader hands in the bytes.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::directive::{self, Support};
use super::exec::{self, ExecCommand};
use super::model::{
    Condition, NotifyAccess, RestartPolicy, ServiceSection, ServiceType, Unit, UnitKind,
    UnitSection,
};
use super::name::UnitName;
use super::specifier::{self, SpecifierContext};
use super::syntax::{self, Assignment};
use super::value::{self, ValueError};
use super::{Diagnostic, DiagnosticKind};

/// The sections a unit of type `unit_type` may contain (the unit type's vtable in systemd).
pub fn sections_for(unit_type: &str) -> Vec<&'static str> {
    let own = match unit_type {
        "service" => Some("Service"),
        "socket" => Some("Socket"),
        "timer" => Some("Timer"),
        "path" => Some("Path"),
        "mount" => Some("Mount"),
        "automount" => Some("Automount"),
        "swap" => Some("Swap"),
        "slice" => Some("Slice"),
        "scope" => Some("Scope"),
        _ => None,
    };
    let mut out = vec!["Unit"];
    out.extend(own);
    out.push("Install");
    out
}

/// State carried across the files of one unit (its fragment and drop-ins).
#[derive(Debug)]
pub struct Applier<'a> {
    pub(super) spec: &'a SpecifierContext,
    pub(super) name: UnitName,
    pub(super) fragment: Option<PathBuf>,
    reported: HashSet<&'static str>,
    /// Every diagnostic so far, in order.
    pub diagnostics: Vec<Diagnostic>,
    path: PathBuf,
    pub(super) line: usize,
    key: String,
}

pub(super) type Outcome = Result<(), String>;

pub(super) fn why(e: ValueError) -> String {
    e.to_string()
}

pub(super) fn choice(v: &str, choices: &'static str) -> String {
    why(ValueError::Choice {
        value: v.to_owned(),
        choices,
    })
}

/// `None` for an empty value (a reset to the default), else the parsed value.
pub(super) fn opt<T>(
    v: &str,
    parse: impl Fn(&str) -> Result<T, ValueError>,
) -> Result<Option<T>, String> {
    if v.is_empty() {
        Ok(None)
    } else {
        parse(v).map(Some).map_err(why)
    }
}

pub(super) fn parse_u32(v: &str) -> Result<u32, ValueError> {
    v.trim().parse::<u32>().map_err(|_| ValueError::Number {
        value: v.to_owned(),
        expected: "a non-negative integer",
    })
}

pub(super) fn bool_of(v: &str) -> Result<bool, String> {
    value::parse_bool(v).map_err(why)
}

impl<'a> Applier<'a> {
    /// Start applying files to the unit `name`, whose main file is `fragment`.
    pub fn new(spec: &'a SpecifierContext, name: &UnitName, fragment: Option<&Path>) -> Self {
        Applier {
            spec,
            name: name.clone(),
            fragment: fragment.map(Path::to_owned),
            reported: HashSet::new(),
            diagnostics: Vec::new(),
            path: PathBuf::new(),
            line: 0,
            key: String::new(),
        }
    }

    /// Parse `text`, the content of `path`, and apply it to `unit`.
    pub fn apply_file(&mut self, unit: &mut Unit, path: &Path, text: &[u8]) {
        let sections = sections_for(unit.name.unit_type());
        let ini = syntax::parse_ini(path, text, &sections);
        let start = self.diagnostics.len();
        self.diagnostics.extend(ini.diagnostics);
        self.path = path.to_owned();
        for a in &ini.assignments {
            self.line = a.line;
            a.key.clone_into(&mut self.key);
            self.apply(unit, a);
        }
        // Syntax and value diagnostics of this file in line order (the sort is stable).
        self.diagnostics[start..].sort_by_key(|d| d.line.unwrap_or(usize::MAX));
    }

    pub(super) fn report(&mut self, kind: DiagnosticKind, message: String) {
        self.diagnostics
            .push(Diagnostic::new(&self.path, Some(self.line), kind, message));
    }

    fn unknown_key(&mut self, section: &str, key: &str) {
        if !key.starts_with("X-") {
            self.report(
                DiagnosticKind::UnknownKey,
                format!("Unknown key name '{key}' in section '{section}', ignoring."),
            );
        }
    }

    fn apply(&mut self, unit: &mut Unit, a: &Assignment) {
        let (section, key, v) = (a.section.as_str(), a.key.as_str(), a.value.as_str());
        let directive = directive::lookup(section, key);
        if let UnitKind::Unsupported { assignments, .. } = &mut unit.kind
            && section != "Unit"
            && section != "Install"
        {
            match directive {
                Some(_) => assignments.push(a.clone()),
                None => self.unknown_key(section, key),
            }
            return;
        }
        let Some(d) = directive else {
            self.unknown_key(section, key);
            return;
        };
        let message = match d.support {
            Support::Supported => None,
            Support::Ignored => Some((
                DiagnosticKind::Ignored(d.name),
                format!("{key}= is not enforced in a container, ignoring"),
            )),
            Support::NotYetSupported => Some((
                DiagnosticKind::NotYetSupported(d.name),
                format!("{key}= is not supported by bosun yet, ignoring"),
            )),
        };
        // Kept as written even though bosun does not act on them: they change whole-unit rules.
        if d.name == "SuccessAction" {
            unit.unit.success_action = (!v.is_empty()).then(|| v.to_owned());
        }
        if let UnitKind::Socket(s) = &mut unit.kind
            && section == "Socket"
            && key.starts_with("Listen")
            && d.support == Support::NotYetSupported
        {
            if v.is_empty() {
                s.unsupported_listen.clear();
            } else {
                s.unsupported_listen.push((key.to_owned(), v.to_owned()));
            }
        }
        if let Some((kind, text)) = message {
            // Once per directive and unit: a hardened unit repeats them in every drop-in.
            if self.reported.insert(d.name) {
                self.report(kind, text);
            }
            return;
        }
        let result = match section {
            "Unit" => self.unit_key(&mut unit.unit, key, v),
            "Install" => self.install_key(unit, key, v),
            _ => match &mut unit.kind {
                UnitKind::Service(s) => self.service_key(&mut unit.unit, s, key, v),
                UnitKind::Socket(s) => self.socket_key(s, key, v),
                UnitKind::Timer(t) => self.timer_key(t, key, v),
                UnitKind::Path(p) => self.path_key(p, key, v),
                UnitKind::Target | UnitKind::Unsupported { .. } => Ok(()),
            },
        };
        if let Err(why) = result {
            self.report(
                DiagnosticKind::InvalidValue,
                format!("invalid value for {key}=: {why}"),
            );
        }
    }

    /// Resolve specifiers; on failure warn and return `None`: the assignment is ignored, as
    /// systemd does.
    pub(super) fn x(&mut self, text: &str) -> Option<String> {
        match specifier::expand(text, self.spec, &self.name, self.fragment.as_deref()) {
            Ok(s) => Some(s),
            Err(e) => {
                self.report(
                    DiagnosticKind::ValueWarning,
                    format!("cannot resolve specifiers in {text:?}, ignoring: {e}"),
                );
                None
            }
        }
    }

    /// `Some(text)` with specifiers resolved, `None` for empty text or a failed resolution.
    pub(super) fn text(&mut self, v: &str) -> Option<String> {
        if v.is_empty() { None } else { self.x(v) }
    }

    /// Unit names separated by spaces; every invalid one is reported (like systemd, which
    /// names each word it cannot add), the valid ones are kept.
    fn names(&mut self, v: &str, list: &mut Vec<UnitName>) -> Outcome {
        self.names_as(v, list, DiagnosticKind::InvalidValue)
    }

    /// [`Self::names`], with invalid names reported as `kind`.
    fn names_as(&mut self, v: &str, list: &mut Vec<UnitName>, kind: DiagnosticKind) -> Outcome {
        for word in v.split_ascii_whitespace() {
            let Some(w) = self.x(word) else { continue };
            match UnitName::parse(&w) {
                Ok(name) => list.push(name),
                Err(e) => {
                    let key = self.key.clone();
                    let ignoring = if kind == DiagnosticKind::InvalidValue {
                        ""
                    } else {
                        ", ignoring"
                    };
                    self.report(kind, format!("invalid value for {key}=: {e}{ignoring}"));
                }
            }
        }
        Ok(())
    }
    /// Words with quotes and C escapes, specifiers resolved per word.
    pub(super) fn words(&mut self, v: &str) -> Result<Vec<String>, String> {
        let mut warnings = Vec::new();
        let words = exec::split_words(v, &mut warnings).map_err(|e| e.to_string())?;
        for w in warnings {
            self.report(DiagnosticKind::ValueWarning, w);
        }
        Ok(words.iter().filter_map(|w| self.x(w)).collect())
    }

    pub(super) fn exec_line(&mut self, v: &str, list: &mut Vec<ExecCommand>) -> Outcome {
        if v.is_empty() {
            list.clear();
            return Ok(());
        }
        let (spec, name, fragment) = (self.spec, &self.name, self.fragment.as_deref());
        let expand =
            |w: &str| specifier::expand(w, spec, name, fragment).map_err(|e| e.to_string());
        let line = exec::parse_exec_line(v, &expand).map_err(|e| e.to_string())?;
        for w in line.warnings {
            self.report(DiagnosticKind::ValueWarning, w);
        }
        list.extend(line.commands);
        Ok(())
    }

    fn condition(
        &mut self,
        list_is_condition: bool,
        u: &mut UnitSection,
        check: &str,
        v: &str,
    ) -> Outcome {
        let list = if list_is_condition {
            &mut u.conditions
        } else {
            &mut u.asserts
        };
        if v.is_empty() {
            list.clear();
            return Ok(());
        }
        let (trigger, rest) = match v.strip_prefix('|') {
            Some(r) => (true, r.trim_start()),
            None => (false, v),
        };
        let (negate, rest) = match rest.strip_prefix('!') {
            Some(r) => (true, r.trim_start()),
            None => (false, rest),
        };
        let Some(value) = self.x(rest) else {
            return Ok(());
        };
        let needs_path =
            check.starts_with("Path") || check.starts_with("File") || check == "DirectoryNotEmpty";
        if needs_path && !value.starts_with('/') {
            return Err(format!("{value:?} is not an absolute path"));
        }
        let line = self.line;
        let list = if list_is_condition {
            &mut u.conditions
        } else {
            &mut u.asserts
        };
        list.push(Condition {
            check: check.to_owned(),
            trigger,
            negate,
            value,
            line,
        });
        Ok(())
    }

    fn unit_key(&mut self, u: &mut UnitSection, key: &str, v: &str) -> Outcome {
        if let Some(check) = key.strip_prefix("Condition") {
            return self.condition(true, u, check, v);
        }
        if let Some(check) = key.strip_prefix("Assert") {
            return self.condition(false, u, check, v);
        }
        match key {
            "Description" => u.description = self.text(v),
            "Documentation" => {
                if v.is_empty() {
                    u.documentation.clear();
                }
                for w in v.split_ascii_whitespace() {
                    if let Some(w) = self.x(w) {
                        u.documentation.push(w);
                    }
                }
            }
            "SourcePath" => u.source_path = self.x(v).filter(|p| !p.is_empty()),
            "DefaultDependencies" => u.default_dependencies = bool_of(v)?,
            "RefuseManualStart" => u.refuse_manual_start = bool_of(v)?,
            "RefuseManualStop" => u.refuse_manual_stop = bool_of(v)?,
            "StopWhenUnneeded" => u.stop_when_unneeded = bool_of(v)?,
            "AllowIsolate" => u.allow_isolate = bool_of(v)?,
            "IgnoreOnIsolate" => u.ignore_on_isolate = bool_of(v)?,
            "StartLimitIntervalSec" | "StartLimitInterval" => {
                u.start_limit_interval = opt(v, value::parse_timespan)?;
            }
            "StartLimitBurst" => u.start_limit_burst = opt(v, parse_u32)?,
            "JobTimeoutSec" => u.job_timeout = opt(v, value::parse_timespan)?,
            "JobRunningTimeoutSec" => u.job_running_timeout = opt(v, value::parse_timespan)?,
            "JobTimeoutAction" => {
                u.job_timeout_action = if v.is_empty() {
                    crate::vocab::emergency::EmergencyAction::None
                } else {
                    crate::vocab::emergency::EmergencyAction::parse(v).ok_or_else(|| {
                        choice(
                            v,
                            "none, reboot, reboot-force, reboot-immediate, poweroff, \
                             poweroff-force, poweroff-immediate, exit, exit-force, kexec, \
                             kexec-force, halt, halt-force, halt-immediate",
                        )
                    })?
                };
            }
            "JobTimeoutRebootArgument" => {
                u.job_timeout_reboot_argument = self.text(v);
            }
            "Requires" => self.names(v, &mut u.requires)?,
            "Wants" => self.names(v, &mut u.wants)?,
            "Requisite" => self.names(v, &mut u.requisite)?,
            "BindsTo" | "BindTo" => self.names(v, &mut u.binds_to)?,
            "PartOf" => self.names(v, &mut u.part_of)?,
            "Upholds" => self.names(v, &mut u.upholds)?,
            "Conflicts" => self.names(v, &mut u.conflicts)?,
            "After" => self.names(v, &mut u.after)?,
            "Before" => self.names(v, &mut u.before)?,
            "OnFailure" => self.names(v, &mut u.on_failure)?,
            "OnSuccess" => self.names(v, &mut u.on_success)?,
            // config_parse_unit_requires_mounts_for(): absolute paths, each one checked.
            "RequiresMountsFor" => {
                for path in self.words(v)? {
                    if path.starts_with('/') {
                        u.requires_mounts_for.push(path);
                    } else {
                        let key = self.key.clone();
                        self.report(
                            DiagnosticKind::ValueWarning,
                            format!("{key}= path {path:?} is not absolute, ignoring"),
                        );
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn install_key(&mut self, unit: &mut Unit, key: &str, v: &str) -> Outcome {
        let i = &mut unit.install;
        let list = match key {
            "WantedBy" => &mut i.wanted_by,
            "RequiredBy" => &mut i.required_by,
            "UpheldBy" => &mut i.upheld_by,
            "Alias" => &mut i.alias,
            "Also" => &mut i.also,
            _ => {
                i.default_instance = self.text(v);
                return Ok(());
            }
        };
        if v.is_empty() {
            list.clear();
            return Ok(());
        }
        // [Install] is read by `systemctl enable`, not when the unit runs: a bad name there
        // must not stop the unit (systemd does not even look at it when loading).
        self.names_as(v, list, DiagnosticKind::ValueWarning)
    }

    fn service_key(
        &mut self,
        u: &mut UnitSection,
        s: &mut ServiceSection,
        key: &str,
        v: &str,
    ) -> Outcome {
        match key {
            "Type" => {
                s.service_type = match v {
                    "" => None,
                    "simple" => Some(ServiceType::Simple),
                    "exec" => Some(ServiceType::Exec),
                    "forking" => Some(ServiceType::Forking),
                    "oneshot" => Some(ServiceType::Oneshot),
                    "dbus" => Some(ServiceType::Dbus),
                    "notify" => Some(ServiceType::Notify),
                    "notify-reload" => Some(ServiceType::NotifyReload),
                    "idle" => Some(ServiceType::Idle),
                    _ => {
                        return Err(choice(
                            v,
                            "simple, exec, forking, oneshot, dbus, notify, notify-reload, idle",
                        ));
                    }
                };
            }
            "RemainAfterExit" => s.remain_after_exit = bool_of(v)?,
            "GuessMainPID" => s.guess_main_pid = opt(v, value::parse_bool)?,
            "PermissionsStartOnly" => s.permissions_start_only = bool_of(v)?,
            "PIDFile" => {
                s.pid_file = self.text(v).map(|p| self.pid_file(&p));
            }
            "BusName" => s.bus_name = self.text(v),
            "ExecCondition" => self.exec_line(v, &mut s.exec_condition)?,
            "ExecStartPre" => self.exec_line(v, &mut s.exec_start_pre)?,
            "ExecStart" => self.exec_line(v, &mut s.exec_start)?,
            "ExecStartPost" => self.exec_line(v, &mut s.exec_start_post)?,
            "ExecReload" => self.exec_line(v, &mut s.exec_reload)?,
            "ExecStop" => self.exec_line(v, &mut s.exec_stop)?,
            "ExecStopPost" => self.exec_line(v, &mut s.exec_stop_post)?,
            "Restart" => {
                s.restart = match v {
                    "no" | "" => RestartPolicy::No,
                    "on-success" => RestartPolicy::OnSuccess,
                    "on-failure" => RestartPolicy::OnFailure,
                    "on-abnormal" => RestartPolicy::OnAbnormal,
                    "on-watchdog" => RestartPolicy::OnWatchdog,
                    "on-abort" => RestartPolicy::OnAbort,
                    "always" => RestartPolicy::Always,
                    _ => {
                        return Err(choice(
                            v,
                            "no, on-success, on-failure, on-abnormal, on-watchdog, on-abort, always",
                        ));
                    }
                };
            }
            "RestartSec" => s.restart_sec = opt(v, value::parse_timespan)?,
            "TimeoutStartSec" => s.timeout_start = opt(v, value::parse_timespan)?,
            "TimeoutStopSec" => s.timeout_stop = opt(v, value::parse_timespan)?,
            "TimeoutSec" => {
                s.timeout_start = opt(v, value::parse_timespan)?;
                s.timeout_stop = s.timeout_start;
            }
            "TimeoutAbortSec" => s.timeout_abort = opt(v, value::parse_timespan)?,
            "RuntimeMaxSec" => s.runtime_max = opt(v, value::parse_timespan)?,
            "WatchdogSec" => s.watchdog = opt(v, value::parse_timespan)?,
            "RestartPreventExitStatus" | "RestartForceExitStatus" | "SuccessExitStatus" => {
                let set = match key {
                    "RestartPreventExitStatus" => &mut s.restart_prevent_exit_status,
                    "RestartForceExitStatus" => &mut s.restart_force_exit_status,
                    _ => &mut s.success_exit_status,
                };
                if v.is_empty() {
                    *set = value::ExitStatusSet::default();
                }
                value::parse_exit_status_list(v, set).map_err(why)?;
            }
            "NotifyAccess" => {
                s.notify_access = match v {
                    "" => None,
                    "none" => Some(NotifyAccess::None),
                    "main" => Some(NotifyAccess::Main),
                    "exec" => Some(NotifyAccess::Exec),
                    "all" => Some(NotifyAccess::All),
                    _ => return Err(choice(v, "none, main, exec, all")),
                };
            }
            "Sockets" => self.names(v, &mut s.sockets)?,
            "StartLimitInterval" | "StartLimitIntervalSec" => {
                u.start_limit_interval = opt(v, value::parse_timespan)?;
            }
            "StartLimitBurst" => u.start_limit_burst = opt(v, parse_u32)?,
            _ => {
                if !self.kill_key(&mut s.kill, key, v)? {
                    self.exec_key(&mut s.exec, key, v)?;
                }
            }
        }
        Ok(())
    }

    /// PIDFile=: relative paths are below /run, /var/run is rewritten to /run with a warning
    /// (systemd's config_parse_pid_file).
    fn pid_file(&mut self, p: &str) -> PathBuf {
        if let Some(rest) = p.strip_prefix("/var/run/") {
            let new = format!("/run/{rest}");
            self.report(
                DiagnosticKind::ValueWarning,
                format!(
                    "PIDFile= references a path below legacy directory /var/run/, updating {p} → {new}; \
                     please update the unit file accordingly."
                ),
            );
            return PathBuf::from(new);
        }
        if p.starts_with('/') {
            PathBuf::from(p)
        } else {
            Path::new("/run").join(p)
        }
    }
}

/// Whole-unit rules systemd applies after loading (service_verify, socket_verify,
/// timer_verify). Errors are reported against the unit's main file without a line.
pub fn check_unit(unit: &Unit, path: &Path) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut fail = |message: &str| {
        out.push(Diagnostic::new(
            path,
            None,
            DiagnosticKind::InvalidUnit,
            message.to_owned(),
        ));
    };
    match &unit.kind {
        UnitKind::Service(s) => {
            let t = s.effective_type();
            if s.exec_start.is_empty()
                && s.exec_stop.is_empty()
                && unit.unit.success_action.is_none()
            {
                fail("Service has no ExecStart=, ExecStop=, or SuccessAction=. Refusing.");
            } else if s.exec_start.is_empty() && t != ServiceType::Oneshot {
                fail(
                    "Service has no ExecStart= setting, which is only allowed for Type=oneshot services. Refusing.",
                );
            }
            if s.exec_start.len() > 1 && t != ServiceType::Oneshot {
                fail(
                    "Service has more than one ExecStart= setting, which is only allowed for Type=oneshot services. Refusing.",
                );
            }
            if t == ServiceType::Oneshot
                && matches!(s.restart, RestartPolicy::Always | RestartPolicy::OnSuccess)
            {
                fail(
                    "Service has Restart= set to either always or on-success, which isn't allowed for Type=oneshot services. Refusing.",
                );
            }
            if t == ServiceType::Dbus && s.bus_name.is_none() {
                fail(
                    "Service is of type D-Bus but no D-Bus service name has been specified. Refusing.",
                );
            }
        }
        UnitKind::Socket(s) => super::apply_socket::check_socket(s, &mut fail),
        UnitKind::Timer(t) => {
            let empty = t.on_active.is_empty()
                && t.on_boot.is_empty()
                && t.on_startup.is_empty()
                && t.on_unit_active.is_empty()
                && t.on_unit_inactive.is_empty()
                && t.on_calendar.is_empty();
            if empty {
                fail("Timer unit lacks value setting. Refusing.");
            }
        }
        UnitKind::Path(p) => {
            if p.specs.is_empty() {
                fail("Path unit lacks path setting. Refusing.");
            }
        }
        UnitKind::Target | UnitKind::Unsupported { .. } => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::unit::model::{LimitValue, ResourceLimit};
    use crate::unit::value::Timespan;

    fn load(name: &str, text: &str) -> (Unit, Vec<String>) {
        let ctx = SpecifierContext::fixed();
        let name = UnitName::parse(name).unwrap();
        let path = Path::new("/u/file");
        let mut unit = Unit::new(name.clone());
        let mut applier = Applier::new(&ctx, &name, Some(path));
        applier.apply_file(&mut unit, path, text.as_bytes());
        let mut text: Vec<String> = applier
            .diagnostics
            .iter()
            .map(ToString::to_string)
            .collect();
        text.extend(check_unit(&unit, path).iter().map(ToString::to_string));
        (unit, text)
    }

    #[test]
    fn golden_resets() {
        let (u, d) = load(
            "a.service",
            "[Unit]\nConditionPathExists=/a\nConditionHost=x\nCondition=\nConditionPathExists=!/b\n\
             After=x.service\nAfter=\nAfter=y.service\n\
             [Service]\nEnvironment=A=1 B=2\nEnvironment=\nEnvironment=C=3\n\
             ExecStart=/bin/a\nExecStart=\nExecStart=/bin/b\nTimeoutSec=7\nTimeoutStopSec=\n\
             SuccessExitStatus=1 2\nSuccessExitStatus=\nSuccessExitStatus=3\nLimitNOFILE=8\nLimitNOFILE=\n",
        );
        assert_eq!(
            d,
            ["/u/file:4: Unknown key name 'Condition' in section 'Unit', ignoring."]
        );
        // `Condition=` is not a key; the reset came from nowhere: both path conditions stay.
        let conditions: Vec<(&str, bool, &str)> = u
            .unit
            .conditions
            .iter()
            .map(|c| (c.check.as_str(), c.negate, c.value.as_str()))
            .collect();
        assert_eq!(
            conditions,
            [
                ("PathExists", false, "/a"),
                ("Host", false, "x"),
                ("PathExists", true, "/b")
            ]
        );
        // Dependencies accumulate; an empty one is not a reset in systemd either.
        assert_eq!(u.unit.after.len(), 2);
        let s = u.service().unwrap();
        assert_eq!(s.exec.environment, [("C".to_owned(), "3".to_owned())]);
        assert_eq!(s.exec_start.len(), 1);
        assert_eq!(
            s.timeout_start,
            Some(Timespan::Finite(Duration::from_secs(7)))
        );
        assert_eq!(s.timeout_stop, None);
        assert_eq!(
            s.success_exit_status
                .codes
                .iter()
                .copied()
                .collect::<Vec<_>>(),
            [3]
        );
        assert!(s.exec.limits.is_empty());

        let (u, _) = load(
            "a.service",
            "[Unit]\nConditionPathExists=/a\nConditionPathExists=\nAssertPathExists=|/c\n[Service]\nExecStart=/bin/a\n",
        );
        assert!(u.unit.conditions.is_empty());
        assert!(u.unit.asserts[0].trigger);
    }

    #[test]
    fn limits_and_values() {
        let (u, d) = load(
            "a.service",
            "[Service]\nExecStart=/bin/a\nLimitNOFILE=1024:infinity\nLimitCORE=1G\nLimitCPU=1min\nLimitNICE=-5\n\
             LimitRTTIME=5\nPIDFile=a.pid\nWorkingDirectory=~\nRestartSec=0\nWatchdogSec=0\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let s = u.service().unwrap();
        let limit = |n: &str| s.exec.limits.get(n).copied();
        assert_eq!(
            limit("NOFILE"),
            Some(ResourceLimit {
                soft: LimitValue::Value(1024),
                hard: LimitValue::Infinity
            })
        );
        assert_eq!(
            limit("CORE").map(|l| l.soft),
            Some(LimitValue::Value(1 << 30))
        );
        assert_eq!(limit("CPU").map(|l| l.soft), Some(LimitValue::Value(60)));
        assert_eq!(limit("NICE").map(|l| l.soft), Some(LimitValue::Value(25)));
        assert_eq!(limit("RTTIME").map(|l| l.soft), Some(LimitValue::Value(5)));
        assert_eq!(s.pid_file.as_deref(), Some(Path::new("/run/a.pid")));
        assert_eq!(
            s.restart_sec.and_then(Timespan::finite),
            Some(Duration::ZERO)
        );
        assert_eq!(s.watchdog.and_then(Timespan::as_timeout), None);
    }

    #[test]
    fn job_timeouts_and_their_action() {
        let (u, d) = load(
            "a.service",
            "[Unit]\nJobTimeoutSec=5s\nJobRunningTimeoutSec=0\nJobTimeoutAction=poweroff-force\n\
             JobTimeoutRebootArgument=now please\n[Service]\nExecStart=/bin/a\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let unit = &u.unit;
        assert_eq!(
            unit.job_timeout.and_then(Timespan::as_timeout),
            Some(Duration::from_secs(5))
        );
        // 0 is infinity, as systemd's parse_sec_fix_0().
        assert_eq!(
            unit.job_running_timeout.and_then(Timespan::as_timeout),
            None
        );
        assert!(unit.job_running_timeout.is_some());
        assert_eq!(
            unit.job_timeout_action,
            crate::vocab::emergency::EmergencyAction::PoweroffForce
        );
        assert_eq!(
            unit.job_timeout_reboot_argument.as_deref(),
            Some("now please")
        );
        let (u, d) = load(
            "a.service",
            "[Unit]\nJobTimeoutAction=explode\n[Service]\nExecStart=/bin/a\n",
        );
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].to_string().contains("JobTimeoutAction"), "{d:?}");
        assert_eq!(
            u.unit.job_timeout_action,
            crate::vocab::emergency::EmergencyAction::None
        );
    }

    #[test]
    fn unit_rules() {
        let (_, d) = load("a.service", "[Service]\nType=oneshot\nExecStop=/bin/x\n");
        assert!(d.is_empty(), "a oneshot with only ExecStop= is fine: {d:?}");
        let (_, d) = load("a.service", "[Unit]\nSuccessAction=exit\n");
        assert_eq!(
            d,
            ["/u/file:2: SuccessAction= is not supported by bosun yet, ignoring"]
        );
        let (_, d) = load("a.service", "[Service]\nType=dbus\nExecStart=/bin/x\n");
        assert_eq!(
            d,
            [
                "/u/file: Service is of type D-Bus but no D-Bus service name has been specified. Refusing."
            ]
        );
        let (u, d) = load(
            "a.service",
            "[Service]\nBusName=org.example\nExecStart=/bin/x\n",
        );
        assert!(d.is_empty());
        assert_eq!(u.service().unwrap().effective_type(), ServiceType::Dbus);
        let (_, d) = load("a.socket", "[Socket]\nListenNetlink=audit 1\n");
        assert_eq!(
            d,
            ["/u/file:2: ListenNetlink= is not supported by bosun yet, ignoring"]
        );
        let (_, d) = load("a.timer", "[Timer]\nOnBootSec=1\nOnCalendar=\n");
        assert_eq!(d, ["/u/file: Timer unit lacks value setting. Refusing."]);
        let (u, d) = load("a.mount", "[Mount]\nWhat=/dev/sda\nWhere=/mnt\nBogus=1\n");
        assert_eq!(
            d,
            ["/u/file:4: Unknown key name 'Bogus' in section 'Mount', ignoring."]
        );
        assert!(
            matches!(u.kind, UnitKind::Unsupported { ref assignments, .. } if assignments.len() == 2)
        );
    }

    #[test]
    fn path_sections() {
        use crate::unit::model::{PathCondition, PathSpec};
        let (u, d) = load(
            "nut-driver-enumerator.path",
            "[Path]\nPathChanged=/etc/nut//ups.conf\nPathExists=/x\nPathExists=\n\
             PathModified=/run/%N.conf\nDirectoryNotEmpty=/spool/\nPathExistsGlob=/a/*.job\n\
             MakeDirectory=yes\nDirectoryMode=0700\nTriggerLimitIntervalSec=5s\n\
             TriggerLimitBurst=10\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let p = u.path().unwrap();
        let specs: Vec<(PathCondition, &str)> = p
            .specs
            .iter()
            .map(|PathSpec { condition, path }| (*condition, path.to_str().unwrap()))
            .collect();
        // An empty assignment clears every line before it.
        assert_eq!(
            specs,
            [
                (PathCondition::Modified, "/run/nut-driver-enumerator.conf"),
                (PathCondition::DirectoryNotEmpty, "/spool"),
                (PathCondition::ExistsGlob, "/a/*.job"),
            ]
        );
        assert!(p.make_directory);
        assert_eq!(p.directory_mode, Some(0o700));
        assert_eq!(p.trigger_limit_burst, Some(10));
        assert_eq!(
            p.triggered("nut-driver-enumerator.path"),
            "nut-driver-enumerator.service"
        );
        let (u, d) = load(
            "a.path",
            "[Path]\nPathExists=relative\nPathChanged=/a/../b\nUnit=b.path\n\
             DirectoryMode=999\nTriggerLimitBurst=-1\nMakeDirectory=maybe\nUnit=c.target\n",
        );
        assert_eq!(
            d,
            [
                "/u/file:2: invalid value for PathExists=: path is not absolute: relative",
                "/u/file:3: invalid value for PathChanged=: path is not normalized: /a/../b",
                "/u/file:4: invalid value for Unit=: b.path is a path unit; a path unit cannot activate a path unit",
                "/u/file:5: invalid value for DirectoryMode=: \"999\" is not an octal access mode (such as 0755)",
                "/u/file:6: invalid value for TriggerLimitBurst=: \"-1\" is not a non-negative integer",
                "/u/file:7: invalid value for MakeDirectory=: \"maybe\" is not a boolean (use yes, no, true, false, on, off, 1 or 0)",
                "/u/file: Path unit lacks path setting. Refusing.",
            ]
        );
        assert_eq!(u.path().unwrap().triggered("a.path"), "c.target");
    }

    #[test]
    fn socket_trigger_limits() {
        let (u, d) = load(
            "a.socket",
            "[Socket]\nListenStream=/run/a.sock\nTriggerLimitIntervalSec=0\nTriggerLimitBurst=7\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let s = u.socket().unwrap();
        assert_eq!(
            s.trigger_limit_interval,
            Some(crate::unit::value::Timespan::Finite(Duration::ZERO))
        );
        assert_eq!(s.trigger_limit_burst, Some(7));
    }
}
