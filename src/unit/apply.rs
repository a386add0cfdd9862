//! Applying a unit file's assignments to the typed [`Unit`]: the directive table decides
//! whether a key is known, supported, ignored or not yet supported; supported keys are parsed
//! with systemd's rules (an empty assignment resets a list, specifiers are resolved) and a
//! value that does not parse becomes an error of this unit with `path:line`, the key, the value
//! and why. The execution-environment keys shared by services and sockets are in
//! [`super::apply_exec`]; whole-unit rules (systemd's service_verify and friends) are in
//! [`check_unit`]. No I/O here: the loader hands in the bytes.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::directive::{self, Support};
use super::exec::{self, ExecCommand};
use super::model::{
    Condition, Listen, ListenAddress, ListenKind, NotifyAccess, RestartPolicy, ServiceSection,
    ServiceType, SocketSection, TimerSection, Unit, UnitKind, UnitSection,
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

fn bool_of(v: &str) -> Result<bool, String> {
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

    fn names(&mut self, v: &str, list: &mut Vec<UnitName>) -> Outcome {
        for word in v.split_ascii_whitespace() {
            let Some(w) = self.x(word) else { continue };
            list.push(UnitName::parse(&w).map_err(|e| e.to_string())?);
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
        self.names(v, list)
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

    fn socket_key(&mut self, s: &mut SocketSection, key: &str, v: &str) -> Outcome {
        let kind = match key {
            "ListenStream" => Some(ListenKind::Stream),
            "ListenDatagram" => Some(ListenKind::Datagram),
            "ListenSequentialPacket" => Some(ListenKind::SequentialPacket),
            "ListenFIFO" => Some(ListenKind::Fifo),
            _ => None,
        };
        if let Some(kind) = kind {
            if v.is_empty() {
                s.listen.clear();
                return Ok(());
            }
            let Some(text) = self.x(v) else { return Ok(()) };
            let address = if kind == ListenKind::Fifo {
                if !text.starts_with('/') {
                    return Err(format!("{text:?} is not an absolute path"));
                }
                ListenAddress::Path(PathBuf::from(text))
            } else {
                parse_listen_address(&text)?
            };
            s.listen.push(Listen { kind, address });
            return Ok(());
        }
        match key {
            "Accept" => s.accept = bool_of(v)?,
            "RemoveOnStop" => s.remove_on_stop = bool_of(v)?,
            "ReusePort" => s.reuse_port = bool_of(v)?,
            "KeepAlive" => s.keep_alive = bool_of(v)?,
            "PassCredentials" => s.pass_credentials = bool_of(v)?,
            "SocketMode" => s.socket_mode = opt(v, value::parse_mode)?,
            "DirectoryMode" => s.directory_mode = opt(v, value::parse_mode)?,
            "SocketUser" => s.socket_user = self.text(v),
            "SocketGroup" => s.socket_group = self.text(v),
            "Backlog" => s.backlog = opt(v, parse_u32)?,
            "MaxConnections" => s.max_connections = opt(v, parse_u32)?,
            "MaxConnectionsPerSource" => s.max_connections_per_source = opt(v, parse_u32)?,
            "ReceiveBuffer" => s.receive_buffer = opt(v, value::parse_size)?,
            "SendBuffer" => s.send_buffer = opt(v, value::parse_size)?,
            "Service" => {
                s.service = match self.text(v) {
                    None => None,
                    Some(n) => {
                        let n = UnitName::parse(&n).map_err(|e| e.to_string())?;
                        if n.unit_type() != "service" || n.is_template() {
                            return Err(format!("{n} is not a service unit name"));
                        }
                        Some(n)
                    }
                };
            }
            "FileDescriptorName" => {
                s.file_descriptor_name = self.text(v);
                if let Some(n) = &s.file_descriptor_name
                    && (n.len() > 255 || n.contains(':') || n.chars().any(|c| c.is_control()))
                {
                    return Err(format!("{n:?} is not a valid file descriptor name"));
                }
            }
            "ExecStartPre" => self.exec_line(v, &mut s.exec_start_pre)?,
            "ExecStartPost" => self.exec_line(v, &mut s.exec_start_post)?,
            "ExecStopPre" => self.exec_line(v, &mut s.exec_stop_pre)?,
            "ExecStopPost" => self.exec_line(v, &mut s.exec_stop_post)?,
            "TimeoutSec" => s.timeout = opt(v, value::parse_timespan)?,
            _ => {
                if !self.kill_key(&mut s.kill, key, v)? {
                    self.exec_key(&mut s.exec, key, v)?;
                }
            }
        }
        Ok(())
    }

    fn timer_key(&mut self, t: &mut TimerSection, key: &str, v: &str) -> Outcome {
        let monotonic = match key {
            "OnActiveSec" => Some(&mut t.on_active),
            "OnBootSec" => Some(&mut t.on_boot),
            "OnStartupSec" => Some(&mut t.on_startup),
            "OnUnitActiveSec" => Some(&mut t.on_unit_active),
            "OnUnitInactiveSec" => Some(&mut t.on_unit_inactive),
            _ => None,
        };
        if let Some(list) = monotonic {
            if v.is_empty() {
                clear_timer_values(t);
            } else {
                list.push(value::parse_timespan(v).map_err(why)?);
            }
            return Ok(());
        }
        match key {
            "OnCalendar" => {
                if v.is_empty() {
                    clear_timer_values(t);
                } else if let Some(c) = self.x(v) {
                    t.on_calendar.push(c);
                }
            }
            "RandomizedDelaySec" => t.randomized_delay = opt(v, value::parse_timespan)?,
            "AccuracySec" => t.accuracy = opt(v, value::parse_timespan)?,
            "FixedRandomDelay" => t.fixed_random_delay = bool_of(v)?,
            "Persistent" => t.persistent = bool_of(v)?,
            "RemainAfterElapse" => t.remain_after_elapse = opt(v, value::parse_bool)?,
            "Unit" => {
                t.unit = match self.text(v) {
                    None => None,
                    Some(n) => {
                        let n = UnitName::parse(&n).map_err(|e| e.to_string())?;
                        if n.unit_type() == "timer" {
                            return Err(format!("{n} is a timer; a timer cannot activate a timer"));
                        }
                        Some(n)
                    }
                };
            }
            _ => {}
        }
        Ok(())
    }
}

/// An empty On*= resets every trigger of the timer (config_parse_timer).
fn clear_timer_values(t: &mut TimerSection) {
    t.on_active.clear();
    t.on_boot.clear();
    t.on_startup.clear();
    t.on_unit_active.clear();
    t.on_unit_inactive.clear();
    t.on_calendar.clear();
}

/// A ListenStream=/ListenDatagram=/ListenSequentialPacket= address (systemd.socket(5)).
fn parse_listen_address(text: &str) -> Result<ListenAddress, String> {
    if text.starts_with('/') {
        return Ok(ListenAddress::Path(PathBuf::from(text)));
    }
    if let Some(name) = text.strip_prefix('@') {
        return Ok(ListenAddress::Abstract(name.to_owned()));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<u16>() {
            Ok(port) if port > 0 => Ok(ListenAddress::Port(port)),
            _ => Err(format!("{text:?} is not a port number from 1 to 65535")),
        };
    }
    if let Ok(addr) = text.parse::<std::net::SocketAddr>() {
        return Ok(ListenAddress::Inet(addr));
    }
    if text.starts_with("vsock:") || text.contains('%') {
        return Ok(ListenAddress::Other(text.to_owned()));
    }
    Err(format!(
        "{text:?} is not a socket address (a port, ADDRESS:PORT, [IPv6]:PORT, /path or @abstract)"
    ))
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
        UnitKind::Socket(s) => {
            if s.listen.is_empty() && s.unsupported_listen.is_empty() {
                fail(
                    "Unit has no Listen setting (ListenStream=, ListenDatagram=, ListenFIFO=, ...). Refusing.",
                );
            }
            if s.accept
                && s.listen
                    .iter()
                    .any(|l| l.kind == ListenKind::Fifo || l.kind == ListenKind::Datagram)
            {
                fail(
                    "Unit configured for accepting sockets, but sockets are non-accepting. Refusing.",
                );
            }
            if s.accept && s.service.is_some() {
                fail(
                    "Explicit service configuration for accepting socket units not supported. Refusing.",
                );
            }
        }
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
        UnitKind::Target | UnitKind::Unsupported { .. } => {}
    }
    out
}
