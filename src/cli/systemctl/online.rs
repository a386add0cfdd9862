//! systemctl with a running bosun: every verb that needs the manager asks PID 1 over the
//! control socket and prints what systemd 252 prints, with its exit codes. The unit-file verbs
//! do their file work as offline does, then (with `--now`) start or stop.

use std::path::Path;

use super::args::{Invocation, Verb};
use super::offline;
use super::options::{JobMode, OutputMode};
use crate::control::client::call;
use crate::control::proto::{JobVerb, KillWhom, Request, Response, UnitInfo};
use crate::init::exit::Exit;

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
    let units: Vec<String> = invocation.units.iter().map(|u| u.as_text()).collect();
    let o = &invocation.options;
    // (wait for the jobs, ignore dependencies): --no-block, --job-mode=.
    let mode = (!o.no_block, job_mode(o.job_mode));
    let result = match &invocation.verb {
        verb @ (Verb::Enable
        | Verb::Disable
        | Verb::Reenable
        | Verb::Mask
        | Verb::Unmask
        | Verb::Preset
        | Verb::IsEnabled
        | Verb::ListUnitFiles
        | Verb::GetDefault
        | Verb::SetDefault
        | Verb::Cat) => {
            // The file work as offline, which would refuse --now (no manager there).
            let mut files = invocation.clone();
            files.options.now = false;
            let exit = offline::run(&files, root);
            // As systemd 252: --now starts what enable enabled, stops what disable or mask
            // turned off; other file verbs ignore it.
            let then = match verb {
                Verb::Enable => Some(("start", JobVerb::Start)),
                Verb::Disable | Verb::Mask => Some(("stop", JobVerb::Stop)),
                _ => None,
            };
            match then {
                Some((what, job)) if exit == Exit::Success && o.now => {
                    ask(Request::Reload).and_then(|_| jobs(what, job, &units, mode, &ask))
                }
                _ => return exit,
            }
        }
        Verb::Start => jobs("start", JobVerb::Start, &units, mode, &ask),
        Verb::Stop => jobs("stop", JobVerb::Stop, &units, mode, &ask),
        Verb::Restart => jobs("restart", JobVerb::Restart, &units, mode, &ask),
        Verb::TryRestart => jobs("try-restart", JobVerb::TryRestart, &units, mode, &ask),
        Verb::Reload => jobs("reload", JobVerb::Reload, &units, mode, &ask),
        Verb::ReloadOrRestart => jobs(
            "reload-or-restart",
            JobVerb::ReloadOrRestart,
            &units,
            mode,
            &ask,
        ),
        Verb::ReloadOrTryRestart => jobs(
            "reload-or-try-restart",
            JobVerb::ReloadOrTryRestart,
            &units,
            mode,
            &ask,
        ),
        Verb::Default => jobs(
            "start",
            JobVerb::Start,
            &["default.target".to_owned()],
            mode,
            &ask,
        ),
        Verb::IsActive | Verb::IsFailed => {
            let failed = matches!(invocation.verb, Verb::IsFailed);
            ask(Request::Units {
                names: units.clone(),
            })
            .map(|r| {
                let infos = unit_list(r);
                let mut any = false;
                for name in &units {
                    let state = infos
                        .iter()
                        .find(|i| i.name == *name)
                        .filter(|i| i.load_state != "not-found" || i.active_state != "inactive")
                        .map_or("inactive", |i| i.active_state.as_str());
                    any |= if failed {
                        state == "failed"
                    } else {
                        matches!(state, "active" | "reloading")
                    };
                    if !o.quiet {
                        println!("{state}");
                    }
                }
                match (any, failed) {
                    (true, _) => Exit::Success,
                    (false, true) => Exit::Code(1),
                    (false, false) => Exit::Code(3),
                }
            })
        }
        Verb::Status => ask(Request::Units {
            names: units.clone(),
        })
        .map(|r| {
            // The journal lines: short (the default) or cat; other modes are systemd-journald's.
            let cat = match o.output {
                None | Some(OutputMode::Short(_)) => false,
                Some(OutputMode::Cat) => true,
                Some(_) => {
                    eprintln!(
                        "bosun: --output: only short and cat are supported; showing short lines"
                    );
                    false
                }
            };
            status(&unit_list(r), &units, o.lines.unwrap_or(10), cat, &socket)
        }),
        Verb::Show => ask(Request::Units {
            names: units.clone(),
        })
        .map(|r| {
            let infos = unit_list(r);
            let mut first = true;
            for info in &infos {
                if !first {
                    println!();
                }
                first = false;
                for (key, value) in properties(info) {
                    let wanted = o
                        .properties
                        .as_ref()
                        .is_none_or(|p| p.iter().any(|k| k == key));
                    if !wanted || (value.is_empty() && !o.all && o.properties.is_none()) {
                        continue;
                    }
                    if o.value {
                        println!("{value}");
                    } else {
                        println!("{key}={value}");
                    }
                }
            }
            Exit::Success
        }),
        Verb::ListUnits => ask(Request::Units { names: Vec::new() }).map(|r| {
            list_units(&unit_list(r), invocation);
            Exit::Success
        }),
        Verb::ListDependencies => {
            let root_unit = units
                .first()
                .cloned()
                .unwrap_or_else(|| "default.target".to_owned());
            println!("{root_unit}");
            dependencies(&root_unit, "", o.plain, &ask, &mut Vec::new());
            Ok(Exit::Success)
        }
        Verb::Kill => {
            let whom = match o.kill_whom.as_deref() {
                Some("main") => KillWhom::Main,
                Some("control") => KillWhom::Control,
                _ => KillWhom::All,
            };
            ask(Request::Kill {
                units: units.clone(),
                signal: o.signal.unwrap_or(libc::SIGTERM),
                whom,
            })
            .map(|r| done("kill", &units, r))
        }
        Verb::ResetFailed => ask(Request::ResetFailed {
            units: units.clone(),
        })
        .map(|r| done("reset-failed", &units, r)),
        Verb::DaemonReload | Verb::DaemonReexec => {
            ask(Request::Reload).map(|r| done("reload daemon", &[], r))
        }
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
        Verb::ShowEnvironment => environment(&ask, Vec::new(), Vec::new(), true),
        Verb::SetEnvironment(set) => environment(&ask, set.clone(), Vec::new(), false),
        Verb::UnsetEnvironment(unset) => environment(&ask, Vec::new(), unset.clone(), false),
        Verb::ImportEnvironment(names) => {
            let set: Vec<String> = if names.is_empty() {
                std::env::vars().map(|(k, v)| format!("{k}={v}")).collect()
            } else {
                names
                    .iter()
                    .filter_map(|n| std::env::var(n).ok().map(|v| format!("{n}={v}")))
                    .collect()
            };
            environment(&ask, set, Vec::new(), false)
        }
    };
    result.unwrap_or_else(|exit| exit)
}

type Ask<'a> = dyn Fn(Request) -> Result<Response, Exit> + 'a;

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

/// start/stop/restart/...: queue, wait unless `--no-block`, and report as systemctl does.
fn jobs(
    what: &str,
    verb: JobVerb,
    units: &[String],
    (wait, ignore_dependencies): (bool, bool),
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
        other => return Ok(done(what, units, other)),
    };
    let mut exit = Exit::Success;
    for job in outcomes {
        let unit = &job.unit;
        match job.result.as_str() {
            "done" | "queued" | "skipped" => {}
            "refused" => {
                eprintln!(
                    "Failed to {what} {unit}: {}",
                    job.message.as_deref().unwrap_or("refused")
                );
                exit = Exit::Code(job.exit);
            }
            "dependency" => {
                eprintln!("A dependency job for {unit} failed. See 'journalctl -xe' for details.");
                exit = Exit::Code(1);
            }
            "canceled" => {
                eprintln!("Job for {unit} canceled.");
                exit = Exit::Code(1);
            }
            _ => {
                let because = match job.unit_result.as_str() {
                    "timeout" => "a timeout was exceeded",
                    "signal" => "a fatal signal was delivered to the control process",
                    "core-dump" => {
                        "a fatal signal was delivered causing the control process to dump core"
                    }
                    "start-limit-hit" => "start of the service was attempted too often",
                    "protocol" => {
                        "the service did not take the steps required by its unit configuration"
                    }
                    "watchdog" => "the service failed to send watchdog ping",
                    _ => "the control process exited with error code",
                };
                eprintln!(
                    "Job for {unit} failed because {because}.\nSee \"systemctl status {unit}\" and \"journalctl -xeu {unit}\" for details."
                );
                exit = Exit::Code(1);
            }
        }
    }
    Ok(exit)
}

/// `systemctl status`: one block per unit; 0 when all are active, 3 when one is not, 4 when
/// one could not be found.
fn status(infos: &[UnitInfo], asked: &[String], lines: u32, cat: bool, socket: &Path) -> Exit {
    let mut exit = Exit::Success;
    let mut first = true;
    let shown: Vec<&UnitInfo> = if asked.is_empty() {
        infos
            .iter()
            .filter(|i| i.active_state != "inactive")
            .collect()
    } else {
        infos.iter().collect()
    };
    for info in shown {
        if info.load_state == "not-found" && info.active_state == "inactive" {
            eprintln!("Unit {} could not be found.", info.name);
            exit = Exit::Code(4);
            continue;
        }
        if !first {
            println!();
        }
        first = false;
        let dot = match info.active_state.as_str() {
            "active" | "reloading" => "●",
            "failed" => "×",
            _ => "○",
        };
        println!("{dot} {} - {}", info.name, info.description);
        let file = info.fragment.as_deref().unwrap_or("");
        println!("     Loaded: {} ({file})", info.load_state);
        let since = info
            .since_ms
            .map(|ms| format!(" since {}", crate::log::format::utc_time(ms)))
            .unwrap_or_default();
        let result = if info.active_state == "failed" {
            format!(" (Result: {})", info.result)
        } else {
            String::new()
        };
        println!(
            "     Active: {} ({}){result}{since}",
            info.active_state, info.sub_state
        );
        if let Some(pid) = info.main_pid {
            println!("   Main PID: {pid}");
        }
        if let Some(text) = &info.status_text {
            println!("     Status: \"{text}\"");
        }
        if !info.processes.is_empty() {
            println!(
                "      Tasks: {} (tracked by {})",
                info.processes.len(),
                info.tracking.as_deref().unwrap_or("session")
            );
        }
        if lines > 0
            && let Ok(Response::Logs { lines, .. }) = call(
                socket,
                Request::Logs {
                    unit: Some(info.name.clone()),
                    lines: lines as usize,
                    after: 0,
                },
            )
            && !lines.is_empty()
        {
            println!();
            for line in lines {
                if cat {
                    println!("{}", line.text);
                    continue;
                }
                println!(
                    "{} {}[{}]: {}",
                    crate::log::format::utc_time(line.ms),
                    line.unit,
                    line.pid,
                    line.text
                );
            }
        }
        if !matches!(info.active_state.as_str(), "active" | "reloading") && exit == Exit::Success {
            exit = Exit::Code(3);
        }
    }
    exit
}

/// The properties `systemctl show` prints, in its order.
fn properties(info: &UnitInfo) -> Vec<(&'static str, String)> {
    let pid = |p: Option<i32>| p.map_or_else(|| "0".to_owned(), |p| p.to_string());
    let list = |v: &[String]| v.join(" ");
    let mut out = vec![
        ("Type", info.service_type.clone()),
        ("Restart", String::new()),
        ("MainPID", pid(info.main_pid)),
        ("ControlPID", pid(info.control_pid)),
        ("StatusText", info.status_text.clone().unwrap_or_default()),
        ("Result", info.result.clone()),
        ("NRestarts", info.restarts.to_string()),
        ("ExecMainPID", pid(info.main_pid)),
    ];
    if let Some((code, status)) = &info.main_exit {
        out.push((
            "ExecMainCode",
            if code == "exited" { "1" } else { "2" }.to_owned(),
        ));
        out.push(("ExecMainStatus", status.to_string()));
    }
    out.extend([
        ("Id", info.name.clone()),
        ("Names", info.name.clone()),
        ("Requires", list(&info.requires)),
        ("Wants", list(&info.wants)),
        ("Before", list(&info.before)),
        ("After", list(&info.after)),
        ("Description", info.description.clone()),
        ("LoadState", info.load_state.clone()),
        ("ActiveState", info.active_state.clone()),
        ("SubState", info.sub_state.clone()),
        ("FragmentPath", info.fragment.clone().unwrap_or_default()),
        ("DropInPaths", list(&info.dropins)),
        (
            "StateChangeTimestamp",
            info.since_ms
                .map(crate::log::format::utc_time)
                .unwrap_or_default(),
        ),
        ("Job", info.job.clone().unwrap_or_default()),
        ("LoadError", info.load_error.clone().unwrap_or_default()),
    ]);
    out.retain(|(k, v)| *k != "Restart" || !v.is_empty());
    out
}

/// `list-units`: systemd's table of loaded units (active ones unless `--all`).
fn list_units(infos: &[UnitInfo], invocation: &Invocation) {
    let o = &invocation.options;
    let patterns: Vec<String> = invocation.units.iter().map(|u| u.as_text()).collect();
    let rows: Vec<&UnitInfo> = infos
        .iter()
        .filter(|i| o.all || i.active_state != "inactive" || i.job.is_some())
        .filter(|i| {
            o.types.is_empty() || o.types.iter().any(|t| i.name.ends_with(&format!(".{t}")))
        })
        .filter(|i| {
            o.states.is_empty()
                || o.states
                    .iter()
                    .any(|s| *s == i.active_state || *s == i.sub_state || *s == i.load_state)
        })
        .filter(|i| patterns.is_empty() || patterns.iter().any(|p| glob(p, &i.name)))
        .collect();
    let legend = o.legend.unwrap_or(!o.quiet);
    let w = |f: fn(&UnitInfo) -> &str, title: &str| {
        rows.iter()
            .map(|i| f(i).chars().count())
            .max()
            .unwrap_or(0)
            .max(title.len())
    };
    let (wu, wl, wa, ws) = (
        w(|i| &i.name, "UNIT") + 2,
        w(|i| &i.load_state, "LOAD"),
        w(|i| &i.active_state, "ACTIVE"),
        w(|i| &i.sub_state, "SUB"),
    );
    if legend {
        println!(
            "  {:wu$} {:wl$} {:wa$} {:ws$} DESCRIPTION",
            "UNIT", "LOAD", "ACTIVE", "SUB"
        );
    }
    for i in &rows {
        let mark = if i.active_state == "failed" {
            "●"
        } else {
            " "
        };
        println!(
            "{mark} {:wu$} {:wl$} {:wa$} {:ws$} {}",
            i.name, i.load_state, i.active_state, i.sub_state, i.description
        );
    }
    if legend {
        println!();
        println!("LOAD   = Reflects whether the unit definition was properly loaded.");
        println!("ACTIVE = The high-level unit activation state, i.e. generalization of SUB.");
        println!("SUB    = The low-level unit activation state, values depend on unit type.");
        println!("{} loaded units listed.", rows.len());
    }
}

/// `list-dependencies`: the Requires=/Wants= tree below `unit`.
/// With `--plain`, indentation only, as systemctl prints it.
fn dependencies(unit: &str, indent: &str, plain: bool, ask: &Ask<'_>, seen: &mut Vec<String>) {
    let Ok(Response::Units { units }) = ask(Request::Units {
        names: vec![unit.to_owned()],
    }) else {
        return;
    };
    let Some(info) = units.into_iter().next() else {
        return;
    };
    let mut deps: Vec<String> = info.requires.iter().chain(&info.wants).cloned().collect();
    deps.sort();
    deps.dedup();
    let n = deps.len();
    for (k, dep) in deps.into_iter().enumerate() {
        let last = k + 1 == n;
        let (branch, below) = match (plain, last) {
            (true, _) => ("  ", "  "),
            (false, true) => ("└─", "  "),
            (false, false) => ("├─", "│ "),
        };
        println!("{indent}{branch}{dep}");
        if !seen.contains(&dep) && dep.ends_with(".target") {
            seen.push(dep.clone());
            dependencies(&dep, &format!("{indent}{below}"), plain, ask, seen);
        }
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

fn environment(
    ask: &Ask<'_>,
    set: Vec<String>,
    unset: Vec<String>,
    show: bool,
) -> Result<Exit, Exit> {
    match ask(Request::Environment { set, unset })? {
        Response::Environment { variables } => {
            if show {
                for v in variables {
                    println!("{v}");
                }
            }
            Ok(Exit::Success)
        }
        other => Ok(done("set environment", &[], other)),
    }
}

/// fnmatch(3) with `*`, `?` and `[...]` as systemctl matches unit patterns.
fn glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    fn go(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len()).any(|k| go(&p[1..], &n[k..])),
            Some('?') => !n.is_empty() && go(&p[1..], &n[1..]),
            Some('[') => {
                let Some(end) = p.iter().position(|c| *c == ']') else {
                    return n.first() == Some(&'[') && go(&p[1..], &n[1..]);
                };
                let Some(c) = n.first() else { return false };
                let class = &p[1..end];
                let (neg, class) = match class.first() {
                    Some('!' | '^') => (true, &class[1..]),
                    _ => (false, class),
                };
                let mut hit = false;
                let mut k = 0;
                while k < class.len() {
                    if k + 2 < class.len() && class[k + 1] == '-' {
                        hit |= class[k] <= *c && *c <= class[k + 2];
                        k += 3;
                    } else {
                        hit |= class[k] == *c;
                        k += 1;
                    }
                }
                hit != neg && go(&p[end + 1..], &n[1..])
            }
            Some(c) => n.first() == Some(c) && go(&p[1..], &n[1..]),
        }
    }
    go(&p, &n)
}
