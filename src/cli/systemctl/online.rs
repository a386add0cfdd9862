//! systemctl with a running bosun: every verb that needs the manager asks PID 1 over the
//! control socket and prints what systemd 252 prints, with its exit codes. The unit-file verbs
//! do their file work as offline does (in the manager's words when they fail), have the
//! manager reload, then (with `--now`) start or stop. The file names of systemd 252's source
//! cited here are under src/systemctl/ unless said otherwise.

mod list;
mod status;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::args::{Invocation, UnitArg, Verb};
use super::offline::{self, Voice};
use super::options::{JobMode, OutputMode};
use super::text::shell_maybe_quote;
use crate::control::client::{call, unknown_op};
use crate::control::proto::{JobVerb, KillWhom, Request, Response, UnitInfo, bus_error};
use crate::unit::glob::fnmatch;
use crate::vocab::exit::Exit;

type Ask<'a> = dyn Fn(Request) -> Result<Response, Exit> + 'a;

/// Run `invocation` against the bosun serving the control socket under `root`.
pub fn run(invocation: &Invocation, root: &Path) -> Exit {
    let socket = crate::control::socket_path(root);
    let ask = |request: Request| match call(&socket, request) {
        Ok(response) => Ok(response),
        Err(e) => {
            eprintln!("Failed to connect to bosun: {e}");
            Err(Exit::Failure)
        }
    };
    let o = &invocation.options;
    let result = match &invocation.verb {
        Verb::Enable
        | Verb::Disable
        | Verb::Reenable
        | Verb::Mask
        | Verb::Unmask
        | Verb::Preset
        | Verb::PresetAll
        | Verb::SetDefault => change_files(invocation, root, &socket, &ask),
        Verb::IsEnabled | Verb::ListUnitFiles | Verb::GetDefault | Verb::Cat => {
            return offline::run_as(invocation, root, Voice::Online);
        }
        Verb::ListUnits => {
            ask(Request::units(Vec::new())).map(|r| list::units(&unit_list(r), invocation))
        }
        Verb::ListSockets => {
            ask(Request::units(Vec::new())).map(|r| list::sockets(&unit_list(r), invocation))
        }
        Verb::ListTimers => ask(Request::units(Vec::new()))
            .map(|r| list::timers(&unit_list(r), invocation, crate::vocab::time::now_ms())),
        Verb::ListPaths => {
            ask(Request::units(Vec::new())).map(|r| list::paths(&unit_list(r), invocation))
        }
        Verb::ListDependencies => expand(invocation, &ask)
            .and_then(|(units, _)| list::dependencies(&units, invocation, &ask)),
        Verb::IsSystemRunning => system_state(&ask, o.wait).map(|r| match r {
            Response::System { system } => {
                if !o.quiet {
                    println!("{}", system.state);
                }
                if system.state == "running" {
                    Exit::Success
                } else {
                    Exit::Code(1)
                }
            }
            other => done("query system state", &[], other),
        }),
        Verb::Poweroff | Verb::Halt | Verb::Reboot => {
            ask(Request::Exit { code: 0 }).map(|r| done("start poweroff.target", &[], r))
        }
        Verb::Exit(code) => ask(Request::Exit {
            code: code.unwrap_or(0),
        })
        .map(|r| done("start exit.target", &[], r)),
        Verb::DaemonReload => ask(Request::Reload).map(|r| reloaded("Reload", r)),
        Verb::DaemonReexec => ask(Request::Reload).map(|r| reloaded("Reexecute", r)),
        Verb::ResetFailed if invocation.units.is_empty() => {
            ask(Request::ResetFailed { units: Vec::new() }).map(|r| match r {
                Response::Error { message, .. } => {
                    eprintln!("Failed to execute operation: {message}");
                    Exit::Failure
                }
                _ => Exit::Success,
            })
        }
        Verb::ShowEnvironment => environment(&ask, Vec::new(), Vec::new(), "get"),
        Verb::SetEnvironment(set) => environment(&ask, set.clone(), Vec::new(), "set"),
        Verb::UnsetEnvironment(unset) => environment(&ask, Vec::new(), unset.clone(), "set"),
        Verb::ImportEnvironment(names) => import_environment(&ask, names),
        Verb::Status if invocation.units.is_empty() => status::system(&ask),
        Verb::Show if invocation.units.is_empty() => status::manager(&ask, o),
        _ => expand(invocation, &ask).and_then(|(units, expanded)| {
            unit_verb(invocation, &units, expanded, root, &socket, &ask)
        }),
    };
    result.unwrap_or_else(|exit| exit)
}

/// Each unit's active state, in order: [`Request::States`], or from a [`Request::Units`]
/// answer when this bosun predates that call. `Err` carries bosun's refusal.
fn active_states(units: &[String], ask: &Ask<'_>) -> Result<Result<Vec<String>, String>, Exit> {
    let infos = match ask(Request::States {
        names: units.to_vec(),
    })? {
        Response::States { states } if states.len() == units.len() => return Ok(Ok(states)),
        refused if unknown_op(&refused, "states") => ask(Request::units(units.to_vec()))?,
        other => other,
    };
    let infos = match infos {
        Response::Error { message, .. } => return Ok(Err(message)),
        other => unit_list(other),
    };
    let state = |name: &String| {
        infos
            .iter()
            .find(|i| i.name == *name || i.aliases.contains(name))
            .map_or("inactive", |i| i.active_state.as_str())
            .to_owned()
    };
    Ok(Ok(units.iter().map(state).collect()))
}

/// The verbs on units named (globs expanded to loaded units).
fn unit_verb(
    invocation: &Invocation,
    units: &[String],
    expanded: bool,
    root: &Path,
    socket: &Path,
    ask: &Ask<'_>,
) -> Result<Exit, Exit> {
    let o = &invocation.options;
    let mode = (!o.no_block, job_mode(o.job_mode));
    match &invocation.verb {
        Verb::Start | Verb::Default => {
            if expanded && !o.all && !o.quiet {
                glob_warning();
            }
            let units = if invocation.verb == Verb::Default {
                vec!["default.target".to_owned()]
            } else {
                units.to_vec()
            };
            jobs(JobVerb::Start, &units, mode, o.quiet, ask)
        }
        Verb::Stop => jobs(JobVerb::Stop, units, mode, o.quiet, ask),
        Verb::Restart => jobs(JobVerb::Restart, units, mode, o.quiet, ask),
        Verb::TryRestart => jobs(JobVerb::TryRestart, units, mode, o.quiet, ask),
        Verb::Reload => jobs(JobVerb::Reload, units, mode, o.quiet, ask),
        Verb::ReloadOrRestart => jobs(JobVerb::ReloadOrRestart, units, mode, o.quiet, ask),
        Verb::ReloadOrTryRestart => jobs(JobVerb::ReloadOrTryRestart, units, mode, o.quiet, ask),
        Verb::IsActive | Verb::IsFailed => {
            let failed = invocation.verb == Verb::IsFailed;
            let states = match active_states(units, ask)? {
                Ok(states) => states,
                // systemctl-is-active.c get_state_one_unit(): a failed call is no state.
                Err(message) => {
                    eprintln!("Failed to retrieve unit state: {message}");
                    return Ok(Exit::Failure);
                }
            };
            let mut any = false;
            for state in &states {
                let state = state.as_str();
                any |= if failed {
                    state == "failed"
                } else {
                    matches!(state, "active" | "reloading")
                };
                if !o.quiet {
                    println!("{state}");
                }
            }
            // systemctl-is-active.c: 3 (LSB "not running"), 1 for is-failed.
            Ok(match (any, failed) {
                (true, _) => Exit::Success,
                (false, true) => Exit::Code(1),
                (false, false) => Exit::Code(3),
            })
        }
        Verb::Status => {
            let lines = o.lines.unwrap_or(10);
            let infos = unit_list(ask(Request::Units {
                names: units.to_vec(),
                sandbox: false,
                journal: lines as usize,
            })?);
            Ok(status::units(
                &infos,
                lines,
                (o.output.unwrap_or(OutputMode::Short), o.all),
                root,
                socket,
            ))
        }
        Verb::Show => {
            let infos = unit_list(ask(Request::Units {
                names: units.to_vec(),
                sandbox: true,
                journal: 0,
            })?);
            status::show(&infos, o, root);
            Ok(Exit::Success)
        }
        Verb::Kill => {
            let whom = match o.kill_whom.as_deref() {
                Some("main") => KillWhom::Main,
                Some("control") => KillWhom::Control,
                _ => KillWhom::All,
            };
            let r = ask(Request::Kill {
                units: units.to_vec(),
                signal: o.signal.unwrap_or(libc::SIGTERM),
                whom,
            })?;
            Ok(per_unit("Failed to kill unit", units, r))
        }
        Verb::ResetFailed => {
            let r = ask(Request::ResetFailed {
                units: units.to_vec(),
            })?;
            Ok(per_unit("Failed to reset failed state of unit", units, r))
        }
        _ => Ok(Exit::Success),
    }
}

/// The units named, as expand_unit_names() gives them (systemctl-util.c): names as they are,
/// globs replaced by the loaded units they match; true when there was a glob.
fn expand(invocation: &Invocation, ask: &Ask<'_>) -> Result<(Vec<String>, bool), Exit> {
    let globs: Vec<&str> = invocation
        .units
        .iter()
        .filter_map(|u| match u {
            UnitArg::Pattern(p) => Some(p.as_str()),
            _ => None,
        })
        .collect();
    let mut units: Vec<String> = invocation
        .units
        .iter()
        .filter(|u| !matches!(u, UnitArg::Pattern(_)))
        .map(UnitArg::as_text)
        .collect();
    if globs.is_empty() {
        return Ok((units, false));
    }
    let loaded = unit_list(ask(Request::units(Vec::new()))?);
    units.extend(
        loaded
            .into_iter()
            .map(|i| i.name)
            .filter(|n| globs.iter().any(|g| fnmatch(g, n))),
    );
    Ok((units, true))
}

/// verb_start()'s warning when `start` was given a glob.
fn glob_warning() {
    eprintln!("Warning: systemctl start called with a glob pattern.");
    eprintln!("Hint: unit globs expand to loaded units, so start will usually have no effect.");
    eprintln!("      Passing --all will also load units which are pulled in by other units.");
    eprintln!("      See systemctl(1) for more details.");
}

fn unit_list(response: Response) -> Vec<UnitInfo> {
    match response {
        Response::Units { units } => units,
        Response::Error { message, .. } => {
            eprintln!("{message}");
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Whether jobs ignore dependencies. `replace` is how bosun always queues; the modes it does
/// not have say so and queue as `replace`.
fn job_mode(mode: Option<JobMode>) -> bool {
    match mode {
        None | Some(JobMode::Replace) => false,
        Some(JobMode::IgnoreDependencies | JobMode::IgnoreRequirements) => true,
        Some(other) => {
            eprintln!("bosun: --job-mode={other:?} is not supported; queueing as replace");
            false
        }
    }
}

/// A reply to a verb that answers nothing but success or an error.
fn done(what: &str, units: &[String], response: Response) -> Exit {
    match response {
        Response::Error { message, exit } => {
            match units.first() {
                Some(u) => eprintln!("Failed to {what} {u}: {message}"),
                None => eprintln!("Failed to {what}: {message}"),
            }
            Exit::Code(exit)
        }
        _ => Exit::Success,
    }
}

/// daemon-reload, daemon-reexec (systemctl-daemon-reload.c): errors are not translated.
fn reloaded(method: &str, response: Response) -> Exit {
    match response {
        Response::Error { message, .. } => {
            eprintln!("{method} daemon failed: {message}");
            Exit::Failure
        }
        _ => Exit::Success,
    }
}

/// kill and reset-failed: one line per unit that failed (systemctl-kill.c,
/// systemctl-reset-failed.c); the errors are not translated, so the exit code is 1.
fn per_unit(what: &str, units: &[String], response: Response) -> Exit {
    match response {
        Response::Jobs { jobs } => {
            let mut exit = Exit::Success;
            for job in jobs.iter().filter(|j| j.result == "refused") {
                let why = job.message.as_deref().unwrap_or("refused");
                eprintln!("{what} {}: {why}", job.unit);
                exit = Exit::Failure;
            }
            exit
        }
        Response::Error { message, .. } => {
            for unit in units {
                eprintln!("{what} {unit}: {message}");
            }
            Exit::Failure
        }
        _ => Exit::Success,
    }
}

/// The job type systemctl names a verb's jobs with (systemctl-start-unit.c unit_actions[]).
fn job_type(verb: JobVerb) -> &'static str {
    match verb {
        JobVerb::Start => "start",
        JobVerb::Stop => "stop",
        JobVerb::Restart => "restart",
        JobVerb::TryRestart => "try-restart",
        JobVerb::Reload => "reload",
        JobVerb::ReloadOrRestart => "reload-or-restart",
        JobVerb::ReloadOrTryRestart => "reload-or-try-restart",
    }
}

/// start_unit_one()'s report of a refusal: the manager's error, then a pointer to the logs
/// unless the unit does not exist, is masked, or cannot take the job.
fn refusal(verb: JobVerb, unit: &str, message: &str, error: Option<&str>) {
    eprintln!("Failed to {} {unit}: {message}", job_type(verb));
    let quiet = matches!(
        error,
        Some(bus_error::NO_SUCH_UNIT | bus_error::UNIT_MASKED | bus_error::JOB_TYPE_NOT_APPLICABLE)
    );
    if !quiet {
        let dashes = if unit.starts_with('-') { " --" } else { "" };
        eprintln!("See system logs and 'systemctl status{dashes} {unit}' for details.");
    }
}

/// start/stop/restart/...: queue, wait unless `--no-block`, and report as systemctl does
/// (systemctl-start-unit.c verb_start(), shared/bus-wait-for-jobs.c): refusals first, each
/// with its exit code (the first one counts), then the jobs that did not succeed, which make
/// the exit code 1.
fn jobs(
    verb: JobVerb,
    units: &[String],
    (wait, ignore_dependencies): (bool, bool),
    quiet: bool,
    ask: &Ask<'_>,
) -> Result<Exit, Exit> {
    let response = ask(Request::Job {
        verb,
        units: units.to_vec(),
        wait,
        ignore_dependencies,
    })?;
    let outcomes = match response {
        Response::Jobs { jobs } => jobs,
        Response::Error { message, exit } => {
            for unit in units {
                refusal(verb, unit, &message, None);
            }
            return Ok(Exit::Code(exit));
        }
        _ => return Ok(Exit::Success),
    };
    let mut exit = Exit::Success;
    for job in outcomes.iter().filter(|j| j.result == "refused") {
        // A masked unit is no error for try-restart and reload-or-try-restart.
        let try_verb = matches!(verb, JobVerb::TryRestart | JobVerb::ReloadOrTryRestart);
        if try_verb && job.error.as_deref() == Some(bus_error::UNIT_MASKED) {
            continue;
        }
        let message = job.message.as_deref().unwrap_or("refused");
        refusal(verb, &job.unit, message, job.error.as_deref());
        if exit == Exit::Success {
            exit = Exit::Code(job.exit);
        }
    }
    let mut failed = false;
    for job in outcomes.iter().filter(|j| j.result != "refused") {
        let unit = &job.unit;
        let line = match job.result.as_str() {
            "done" | "queued" | "skipped" => continue,
            "canceled" => format!("Job for {unit} canceled."),
            "timeout" => format!("Job for {unit} timed out."),
            "dependency" => {
                format!("A dependency job for {unit} failed. See 'journalctl -xe' for details.")
            }
            "invalid" => format!("{unit} is not active, cannot reload."),
            _ if unit.ends_with(".service") => job_failed(unit, &job.unit_result),
            _ => "Job failed. See \"journalctl -xe\" for details.".to_owned(),
        };
        failed = true;
        if !quiet {
            eprintln!("{line}");
        }
    }
    Ok(if failed { Exit::Failure } else { exit })
}

/// bus-wait-for-jobs.c log_job_error_with_service_result().
fn job_failed(unit: &str, result: &str) -> String {
    let because = match result {
        "resources" => Some("of unavailable resources or another system error"),
        "protocol" => Some("the service did not take the steps required by its unit configuration"),
        "timeout" => Some("a timeout was exceeded"),
        "exit-code" => Some("the control process exited with error code"),
        "signal" => Some("a fatal signal was delivered to the control process"),
        "core-dump" => {
            Some("a fatal signal was delivered causing the control process to dump core")
        }
        "watchdog" => Some("the service failed to send watchdog ping"),
        "start-limit-hit" => Some("start of the service was attempted too often"),
        "oom-kill" => Some("of an out-of-memory (OOM) siutation"),
        _ => None,
    };
    let quoted = shell_maybe_quote(unit, false);
    let head = match because {
        Some(b) => format!("Job for {unit} failed because {b}."),
        None => format!("Job for {unit} failed."),
    };
    let mut text = format!(
        "{head}\nSee \"systemctl status {quoted}\" and \"journalctl -xeu {quoted}\" for details."
    );
    if result == "start-limit-hit" {
        text.push_str(&format!(
            "\nTo force a start use \"systemctl reset-failed {quoted}\"\nfollowed by \"systemctl start {quoted}\" again."
        ));
    }
    text
}

/// Whether this caller may change unit files through the manager: root, or the user bosun
/// runs as (who owns the control socket). Others get the manager's "Access denied".
fn may_change(socket: &Path) -> bool {
    let me = nix::unistd::geteuid().as_raw();
    me == 0 || std::fs::metadata(socket).is_ok_and(|m| m.uid() == me)
}

/// enable, disable, reenable, mask, unmask, preset, set-default against a running manager
/// (systemctl-enable.c verb_enable(), systemctl-set-default.c): refused for callers the
/// manager would refuse; mask and unmask first say when the manager does not know the unit;
/// the file work; then a daemon-reload (unless `--no-reload`) so the manager sees the change
/// at once; then `--now`.
fn change_files(
    invocation: &Invocation,
    root: &Path,
    socket: &Path,
    ask: &Ask<'_>,
) -> Result<Exit, Exit> {
    let o = &invocation.options;
    let verb = &invocation.verb;
    if !may_change(socket) {
        match verb {
            Verb::SetDefault => eprintln!("Failed to set default target: Access denied"),
            Verb::PresetAll => eprintln!("Failed to preset all units: Access denied"),
            other => eprintln!("Failed to {} unit: Access denied", other.word()),
        }
        return Ok(Exit::Failure);
    }
    let units: Vec<String> = invocation.units.iter().map(UnitArg::as_text).collect();
    if matches!(verb, Verb::Mask | Verb::Unmask) {
        let names: Vec<String> = invocation
            .units
            .iter()
            .filter_map(|u| match u {
                UnitArg::Name(n) if !n.is_template() => Some(n.to_string()),
                _ => None,
            })
            .collect();
        let infos = unit_list(ask(Request::units(names.clone()))?);
        for name in &names {
            let unknown = infos
                .iter()
                .find(|i| i.name == *name)
                .is_none_or(|i| i.load_state == "not-found" && i.active_state == "inactive");
            if unknown {
                eprintln!("Unit {name} does not exist, proceeding anyway.");
            }
        }
    }
    // The file work as offline, which would refuse --now (no manager there).
    let mut files = invocation.clone();
    files.options.now = false;
    let exit = offline::run_as(&files, root, Voice::Online);
    if exit != Exit::Success {
        return Ok(exit);
    }
    if !o.no_reload {
        let reply = ask(Request::Reload)?;
        let exit = reloaded("Reload", reply);
        if exit != Exit::Success {
            return Ok(exit);
        }
    }
    // As systemd 252: --now starts what enable enabled, stops what disable or mask turned
    // off; other file verbs ignore it.
    let then = match verb {
        Verb::Enable => Some(JobVerb::Start),
        Verb::Disable | Verb::Mask => Some(JobVerb::Stop),
        _ => None,
    };
    match then {
        Some(job) if o.now => {
            let names: Vec<String> = units
                .iter()
                .map(|u| u.rsplit('/').next().unwrap_or(u).to_owned())
                .collect();
            jobs(
                job,
                &names,
                (!o.no_block, job_mode(o.job_mode)),
                o.quiet,
                ask,
            )
        }
        _ => Ok(Exit::Success),
    }
}

/// `is-system-running`; with `--wait`, once boot is over (the state is no longer
/// `starting`), polling every 100 ms as systemctl waits for the manager.
fn system_state(ask: &Ask<'_>, wait: bool) -> Result<Response, Exit> {
    loop {
        let response = ask(Request::System)?;
        match &response {
            Response::System { system } if wait && system.state == "starting" => {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            _ => return Ok(response),
        }
    }
}

/// show-environment, set-environment, unset-environment (systemctl-set-environment.c):
/// values printed quoted as a shell reads them; a refusal "Failed to set environment".
fn environment(
    ask: &Ask<'_>,
    set: Vec<String>,
    unset: Vec<String>,
    what: &str,
) -> Result<Exit, Exit> {
    let show = set.is_empty() && unset.is_empty();
    match ask(Request::Environment { set, unset })? {
        Response::Environment { variables } => {
            if show {
                for v in variables {
                    let (name, value) = v.split_once('=').unwrap_or((&v, ""));
                    println!("{name}={}", shell_maybe_quote(value, true));
                }
            }
            Ok(Exit::Success)
        }
        Response::Error { message, .. } => {
            eprintln!("Failed to {what} environment: {message}");
            Ok(Exit::Failure)
        }
        _ => Ok(Exit::Success),
    }
}

/// import-environment: the named variables of this process (all of them, deprecated, when
/// none is named); a name that is not valid is refused, one not set is skipped with a notice.
fn import_environment(ask: &Ask<'_>, names: &[String]) -> Result<Exit, Exit> {
    use crate::unit::envfile::valid_name;
    let set: Vec<String> = if names.is_empty() {
        eprintln!("Calling import-environment without a list of variable names is deprecated.");
        std::env::vars()
            .filter(|(k, _)| valid_name(k))
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    } else {
        let mut set = Vec::new();
        for name in names {
            if !valid_name(name) {
                eprintln!("Not a valid environment variable name: {name}");
                return Ok(Exit::Failure);
            }
            match std::env::var(name) {
                Ok(v) => set.push(format!("{name}={v}")),
                Err(_) => eprintln!("Environment variable ${name} not set, ignoring."),
            }
        }
        set
    };
    match ask(Request::Environment {
        set,
        unset: Vec::new(),
    })? {
        Response::Error { message, .. } => {
            eprintln!("Failed to import environment: {message}");
            Ok(Exit::Failure)
        }
        _ => Ok(Exit::Success),
    }
}
