//! The keys of systemd.exec(5) and systemd.kill(5) that services and sockets share: user and
//! groups, working directory, umask, nice, OOM score, resource limits, environment, standard
//! streams, the managed directories, credentials, and how processes are stopped. Parsing
//! only; applying them to a process is the services issue's job.

use std::path::PathBuf;

use super::DiagnosticKind;
use super::apply::{Applier, Outcome, bool_of, choice, opt, why};
use super::model::{
    EnvironmentFileRef, ExecContext, KillContext, KillMode, LimitValue, ResourceLimit, Stdio,
    WorkingDirectory,
};
use super::restrict;
use super::syscall_filter;
use super::value::{self, Size, Timespan, ValueError};

/// The resource limits of setrlimit(2) that Limit*= names, and how their values are read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LimitUnit {
    Bytes,
    Seconds,
    Micros,
    Count,
    Nice,
}

fn limit_unit(name: &str) -> Option<LimitUnit> {
    Some(match name {
        "FSIZE" | "DATA" | "STACK" | "CORE" | "RSS" | "AS" | "MEMLOCK" | "MSGQUEUE" => {
            LimitUnit::Bytes
        }
        "CPU" => LimitUnit::Seconds,
        "RTTIME" => LimitUnit::Micros,
        "NOFILE" | "NPROC" | "LOCKS" | "SIGPENDING" | "RTPRIO" => LimitUnit::Count,
        "NICE" => LimitUnit::Nice,
        _ => return None,
    })
}

fn limit_value(text: &str, unit: LimitUnit) -> Result<LimitValue, ValueError> {
    if text == "infinity" {
        return Ok(LimitValue::Infinity);
    }
    let n = match unit {
        LimitUnit::Bytes => match value::parse_size(text)? {
            Size::Bytes(b) => b,
            Size::Infinity => return Ok(LimitValue::Infinity),
        },
        LimitUnit::Seconds | LimitUnit::Micros => {
            let default = if unit == LimitUnit::Seconds {
                1_000_000
            } else {
                1
            };
            match value::parse_timespan_in(text, default)? {
                Timespan::Infinity => return Ok(LimitValue::Infinity),
                Timespan::Finite(d) if unit == LimitUnit::Seconds => {
                    d.as_secs() + u64::from(d.subsec_nanos() > 0)
                }
                Timespan::Finite(d) => u64::try_from(d.as_micros()).unwrap_or(u64::MAX),
            }
        }
        LimitUnit::Count => text.parse::<u64>().map_err(|_| ValueError::Number {
            value: text.to_owned(),
            expected: "a non-negative integer or infinity",
        })?,
        LimitUnit::Nice => {
            // systemd.exec(5): a signed nice level -20..19, or the raw rlimit 0..40.
            let bad = || ValueError::Number {
                value: text.to_owned(),
                expected: "a nice level from -20 to 19 or a raw limit from 0 to 40",
            };
            if text.starts_with(['+', '-']) {
                let nice = value::parse_int(text, -20..=19, "").map_err(|_| bad())?;
                u64::try_from(20 - nice).map_err(|_| bad())?
            } else {
                u64::try_from(value::parse_int(text, 0..=40, "").map_err(|_| bad())?)
                    .map_err(|_| bad())?
            }
        }
    };
    Ok(LimitValue::Value(n))
}

fn parse_limit(text: &str, unit: LimitUnit) -> Result<ResourceLimit, String> {
    let (soft, hard) = match text.split_once(':') {
        Some((s, h)) => (
            limit_value(s, unit).map_err(why)?,
            limit_value(h, unit).map_err(why)?,
        ),
        None => {
            let v = limit_value(text, unit).map_err(why)?;
            (v, v)
        }
    };
    let above = match (soft, hard) {
        (LimitValue::Infinity, LimitValue::Value(_)) => true,
        (LimitValue::Value(s), LimitValue::Value(h)) => s > h,
        _ => false,
    };
    if above {
        return Err(format!(
            "{text:?}: the soft limit is higher than the hard limit"
        ));
    }
    Ok(ResourceLimit { soft, hard })
}

fn valid_env_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Standard{Input,Output,Error}= (systemd.exec(5), "Logging and Standard Input/Output").
fn parse_stdio(key: &str, text: &str) -> Result<Option<Stdio>, String> {
    let input = key == "StandardInput";
    if text.is_empty() {
        return Ok(None);
    }
    let path = |p: &str| -> Result<PathBuf, String> {
        if p.starts_with('/') {
            Ok(PathBuf::from(p))
        } else {
            Err(format!("{p:?} is not an absolute path"))
        }
    };
    let stdio = match text {
        "null" => Stdio::Null,
        "tty" | "tty-force" | "tty-fail" => Stdio::Tty,
        "socket" => Stdio::Socket,
        "data" if input => Stdio::Data,
        "inherit" if !input => Stdio::Inherit,
        "journal" | "syslog" | "kmsg" | "journal+console" | "syslog+console" | "kmsg+console"
            if !input =>
        {
            Stdio::Journal
        }
        "console" if !input => Stdio::Console,
        _ => {
            if let Some(p) = text.strip_prefix("file:") {
                Stdio::File(path(p)?)
            } else if let Some(p) = text.strip_prefix("append:").filter(|_| !input) {
                Stdio::Append(path(p)?)
            } else if let Some(p) = text.strip_prefix("truncate:").filter(|_| !input) {
                Stdio::Truncate(path(p)?)
            } else if let Some(name) = text.strip_prefix("fd:") {
                Stdio::Fd(name.to_owned())
            } else if input {
                return Err(choice(
                    text,
                    "null, tty, tty-force, tty-fail, data, file:PATH, socket, fd:NAME",
                ));
            } else {
                return Err(choice(
                    text,
                    "inherit, null, tty, journal, kmsg, journal+console, kmsg+console, file:PATH, \
                     append:PATH, truncate:PATH, socket, fd:NAME",
                ));
            }
        }
    };
    Ok(Some(stdio))
}

impl Applier<'_> {
    /// Apply a systemd.kill(5) key; `Ok(false)` when `key` is not one.
    pub(super) fn kill_key(
        &mut self,
        k: &mut KillContext,
        key: &str,
        v: &str,
    ) -> Result<bool, String> {
        let signal = |v: &str| opt(v, value::parse_signal);
        match key {
            "KillMode" => {
                k.kill_mode = match v {
                    "" => None,
                    "control-group" => Some(KillMode::ControlGroup),
                    "mixed" => Some(KillMode::Mixed),
                    "process" => Some(KillMode::Process),
                    "none" => Some(KillMode::None),
                    _ => return Err(choice(v, "control-group, mixed, process, none")),
                };
            }
            "KillSignal" => k.kill_signal = signal(v)?,
            "RestartKillSignal" => k.restart_kill_signal = signal(v)?,
            "FinalKillSignal" => k.final_kill_signal = signal(v)?,
            "WatchdogSignal" => k.watchdog_signal = signal(v)?,
            "SendSIGKILL" => k.send_sigkill = opt(v, value::parse_bool)?,
            "SendSIGHUP" => k.send_sighup = opt(v, value::parse_bool)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Apply a systemd.exec(5) key of the supported set.
    pub(super) fn exec_key(&mut self, e: &mut ExecContext, key: &str, v: &str) -> Outcome {
        if self.log_key(&mut e.log, key, v)
            || self.privilege_key(&mut e.privileges, key, v)?
            || self.sandbox_key(&mut e.namespace, key, v)?
        {
            return Ok(());
        }
        if let Some(resource) = key.strip_prefix("Limit") {
            let Some(unit) = limit_unit(resource) else {
                return Err(format!("{resource:?} is not a resource limit"));
            };
            if v.is_empty() {
                e.limits.remove(resource);
            } else {
                e.limits.insert(resource.to_owned(), parse_limit(v, unit)?);
            }
            return Ok(());
        }
        match key {
            "User" => e.user = self.user_or_group(v)?,
            "Group" => e.group = self.user_or_group(v)?,
            "SupplementaryGroups" => {
                if v.is_empty() {
                    e.supplementary_groups.clear();
                }
                e.supplementary_groups.extend(self.words(v)?);
            }
            "DynamicUser" => e.dynamic_user = value::parse_bool(v).map_err(why)?,
            "WorkingDirectory" => {
                let (optional, rest) = match v.strip_prefix('-') {
                    Some(r) => (true, r),
                    None => (false, v),
                };
                e.working_directory = match rest {
                    "" => None,
                    "~" => Some((WorkingDirectory::Home, optional)),
                    _ => match self.x(rest) {
                        Some(p) if p.starts_with('/') => {
                            Some((WorkingDirectory::Path(PathBuf::from(p)), optional))
                        }
                        Some(p) => return Err(format!("{p:?} is neither an absolute path nor ~")),
                        None => e.working_directory.take(),
                    },
                };
            }
            "UMask" => e.umask = opt(v, value::parse_mode)?,
            "SystemCallFilter" => {
                for warning in e.syscall_filter.add_line(v) {
                    self.report(DiagnosticKind::ValueWarning, warning);
                }
            }
            "SystemCallErrorNumber" => {
                e.syscall_error_number = syscall_filter::parse_error_number(v)?;
            }
            "RestrictRealtime" => e.restrict_realtime = !v.is_empty() && bool_of(v)?,
            "MemoryDenyWriteExecute" => {
                e.memory_deny_write_execute = !v.is_empty() && bool_of(v)?;
            }
            "RemoveIPC" => e.remove_ipc = !v.is_empty() && bool_of(v)?,
            "ProtectKernelModules" => e.protect_kernel_modules = !v.is_empty() && bool_of(v)?,
            "ProtectKernelLogs" => e.protect_kernel_logs = !v.is_empty() && bool_of(v)?,
            "ProtectClock" => e.protect_clock = !v.is_empty() && bool_of(v)?,
            "ProtectHostname" => e.protect_hostname = !v.is_empty() && bool_of(v)?,
            "PrivateUsers" => e.private_users = !v.is_empty() && bool_of(v)?,
            "PrivateNetwork" => e.private_network = !v.is_empty() && bool_of(v)?,
            "PrivateIPC" => e.private_ipc = !v.is_empty() && bool_of(v)?,
            "RestrictAddressFamilies" => {
                for warning in e.address_families.add_line(v) {
                    self.report(DiagnosticKind::ValueWarning, warning);
                }
            }
            "RestrictNamespaces" => {
                // systemd 252 warns about a bad list and ignores the line.
                if let Err(why) = restrict::merge_namespaces(&mut e.restrict_namespaces, v) {
                    self.report(
                        DiagnosticKind::ValueWarning,
                        format!("{why}, ignoring: {v}"),
                    );
                }
            }
            "LockPersonality" => e.lock_personality = !v.is_empty() && bool_of(v)?,
            "RestrictSUIDSGID" => e.restrict_suid_sgid = !v.is_empty() && bool_of(v)?,
            "Personality" => match restrict::parse_personality(v) {
                Ok(persona) => e.personality = persona,
                Err(why) => self.report(DiagnosticKind::ValueWarning, format!("{why}, ignoring")),
            },
            "SystemCallLog" => {
                for warning in e.syscall_log.add_log_line(v) {
                    self.report(DiagnosticKind::ValueWarning, warning);
                }
            }
            "SystemCallArchitectures" => {
                let (native, warnings) = syscall_filter::parse_architectures(v);
                e.syscall_native_only = native;
                for warning in warnings {
                    self.report(DiagnosticKind::ValueWarning, warning);
                }
            }
            "IgnoreSIGPIPE" => e.ignore_sigpipe = opt(v, value::parse_bool)?,
            "Nice" => {
                e.nice = opt(v, |t| {
                    value::parse_int(t, -20..=19, "a nice level from -20 to 19")
                })?
                .and_then(|n| i32::try_from(n).ok());
            }
            "OOMScoreAdjust" => {
                e.oom_score_adjust = opt(v, |t| {
                    value::parse_int(
                        t,
                        -1000..=1000,
                        "an OOM score adjustment from -1000 to 1000",
                    )
                })?
                .and_then(|n| i32::try_from(n).ok());
            }
            "Environment" => {
                if v.is_empty() {
                    e.environment.clear();
                }
                for word in self.words(v)? {
                    match word.split_once('=') {
                        Some((name, value)) if valid_env_name(name) => {
                            e.environment.push((name.to_owned(), value.to_owned()));
                        }
                        _ => self.report(
                            DiagnosticKind::ValueWarning,
                            format!("Invalid environment assignment, ignoring: {word}"),
                        ),
                    }
                }
            }
            "EnvironmentFile" => {
                if v.is_empty() {
                    e.environment_files.clear();
                    return Ok(());
                }
                let (optional, rest) = match v.strip_prefix('-') {
                    Some(r) => (true, r),
                    None => (false, v),
                };
                if let Some(p) = self.x(rest) {
                    if !p.starts_with('/') {
                        return Err(format!("{p:?} is not an absolute path"));
                    }
                    e.environment_files.push(EnvironmentFileRef {
                        path: PathBuf::from(p),
                        optional,
                    });
                }
            }
            "PassEnvironment" | "UnsetEnvironment" => {
                let pass = key == "PassEnvironment";
                let list = if pass {
                    &mut e.pass_environment
                } else {
                    &mut e.unset_environment
                };
                if v.is_empty() {
                    list.clear();
                }
                for word in self.words(v)? {
                    let name = if pass {
                        word.as_str()
                    } else {
                        word.split('=').next().unwrap_or("")
                    };
                    if !valid_env_name(name) {
                        return Err(format!("{word:?} is not a valid environment variable name"));
                    }
                    let list = if pass {
                        &mut e.pass_environment
                    } else {
                        &mut e.unset_environment
                    };
                    list.push(word);
                }
            }
            "StandardInput" => e.standard_input = self.stdio(key, v)?,
            "StandardOutput" => e.standard_output = self.stdio(key, v)?,
            "StandardError" => e.standard_error = self.stdio(key, v)?,
            "SyslogIdentifier" => e.syslog_identifier = self.text(v),
            "RuntimeDirectory"
            | "StateDirectory"
            | "CacheDirectory"
            | "LogsDirectory"
            | "ConfigurationDirectory" => {
                let words = self.words(v)?;
                let list = match key {
                    "RuntimeDirectory" => &mut e.runtime_directory,
                    "StateDirectory" => &mut e.state_directory,
                    "CacheDirectory" => &mut e.cache_directory,
                    "LogsDirectory" => &mut e.logs_directory,
                    _ => &mut e.configuration_directory,
                };
                if v.is_empty() {
                    list.clear();
                }
                for w in words {
                    let path = w.split(':').next().unwrap_or("");
                    let bad = path.is_empty()
                        || path.starts_with('/')
                        || path.split('/').any(|c| c == ".." || c == ".");
                    if bad {
                        return Err(format!(
                            "{w:?} is not a relative path without . or .. components"
                        ));
                    }
                    list.push(w);
                }
            }
            "RuntimeDirectoryMode" => e.runtime_directory_mode = opt(v, value::parse_mode)?,
            "StateDirectoryMode" => e.state_directory_mode = opt(v, value::parse_mode)?,
            "CacheDirectoryMode" => e.cache_directory_mode = opt(v, value::parse_mode)?,
            "LogsDirectoryMode" => e.logs_directory_mode = opt(v, value::parse_mode)?,
            "ConfigurationDirectoryMode" => {
                e.configuration_directory_mode = opt(v, value::parse_mode)?
            }
            "RuntimeDirectoryPreserve" => {
                e.runtime_directory_preserve = match v {
                    "" => None,
                    "restart" => Some("restart".to_owned()),
                    _ => Some(
                        if value::parse_bool(v).map_err(|_| choice(v, "no, yes, restart"))? {
                            "yes".to_owned()
                        } else {
                            "no".to_owned()
                        },
                    ),
                };
            }
            "LoadCredential" | "SetCredential" => {
                let load = key == "LoadCredential";
                if v.is_empty() {
                    if load {
                        e.load_credentials.clear();
                    } else {
                        e.set_credentials.clear();
                    }
                    return Ok(());
                }
                let Some(text) = self.x(v) else { return Ok(()) };
                let (id, rest) = text.split_once(':').unwrap_or((text.as_str(), ""));
                if id.is_empty() || id.contains('/') || id.len() > 255 {
                    return Err(format!("{id:?} is not a valid credential name"));
                }
                if load {
                    e.load_credentials.push((id.to_owned(), rest.to_owned()));
                } else {
                    let mut warnings = Vec::new();
                    let data = super::exec::split_words(
                        &format!("\"{}\"", rest.replace('"', "\\\"")),
                        &mut warnings,
                    )
                    .ok()
                    .and_then(|mut w| w.pop())
                    .unwrap_or_else(|| rest.to_owned());
                    e.set_credentials.push((id.to_owned(), data));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn user_or_group(&mut self, v: &str) -> Result<Option<String>, String> {
        match self.text(v) {
            None => Ok(None),
            Some(name) => {
                // systemd's relaxed rules (valid_user_group_name with VALID_USER_RELAX): it
                // accepts, with a notice, names that useradd would refuse.
                let numeric_ok = !name.bytes().all(|b| b.is_ascii_digit())
                    || name
                        .parse::<u32>()
                        .is_ok_and(|id| id != u32::MAX && id != 65535);
                let ok = !name.is_empty()
                    && name.len() <= 256
                    && !name.contains([':', '/'])
                    && !name.chars().any(char::is_control)
                    && !name.starts_with(['-', ' '])
                    && !name.ends_with(' ')
                    && name != "."
                    && name != ".."
                    && numeric_ok;
                if ok {
                    Ok(Some(name))
                } else {
                    Err(format!("{name:?} is not a valid user or group name"))
                }
            }
        }
    }

    fn stdio(&mut self, key: &str, v: &str) -> Result<Option<Stdio>, String> {
        match self.text(v) {
            None => parse_stdio(key, ""),
            Some(t) => parse_stdio(key, &t),
        }
    }
}
