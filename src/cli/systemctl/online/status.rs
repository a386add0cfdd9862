//! `status` and `show` (systemctl-show.c): a unit's status block as print_status_info() lays
//! it out, the manager's own status without units, and properties in the order the manager
//! lists them. Unit file state and preset are read here from the files, as the manager would.

use std::path::Path;

use super::super::offline::file_state;
use super::super::options::Options;
use super::super::options::OutputMode;
use super::super::text::{relative, timestamp};
use super::{Ask, unit_list};
use crate::control::client::call;
use crate::control::proto::{LogFilter, Request, Response, UnitInfo, bus_error};
use crate::unit::install::FileState;
use crate::vocab::exit::Exit;

/// unit_active_state_to_glyph(), or its ASCII fallback when the locale is not UTF-8.
pub(super) fn glyph(active: &str) -> &'static str {
    let utf8 = super::super::glyph::utf8();
    match (active, utf8) {
        ("reloading", true) => "↻",
        ("inactive", true) => "○",
        ("failed", true) => "×",
        ("failed", false) => "x",
        (_, true) => "●",
        (_, false) => "*",
    }
}

/// The LoadError of a unit that did not load as it should (core/dbus-unit.c
/// bus_unit_validate_load_state()): the D-Bus error and its message.
fn load_error(info: &UnitInfo) -> Option<(&'static str, String)> {
    let name = &info.name;
    match info.load_state.as_str() {
        "not-found" => Some((bus_error::NO_SUCH_UNIT, format!("Unit {name} not found."))),
        "masked" => Some((bus_error::UNIT_MASKED, format!("Unit {name} is masked."))),
        "bad-setting" => Some((
            bus_error::BAD_UNIT_SETTING,
            format!("Unit {name} has a bad unit file setting."),
        )),
        _ => None,
    }
}

fn now_ms() -> u64 {
    crate::vocab::time::now_ms()
}

/// `systemctl status UNIT...`: one block per unit, a blank line between; 0 when all are
/// active, else the first of 3 (not active) and 4 (not found), in the order asked.
/// `all` (`-a`) prints journal lines with control characters as they are, not as
/// `[N blob data]`.
pub(super) fn units(
    infos: &[UnitInfo],
    lines: u32,
    (mode, all): (OutputMode, bool),
    root: &Path,
    socket: &Path,
) -> Exit {
    let mut exit = Exit::Success;
    let mut first = true;
    for info in infos {
        if info.load_state == "not-found" && info.active_state == "inactive" {
            eprintln!("Unit {} could not be found.", info.name);
            if exit == Exit::Success {
                exit = Exit::Code(4);
            }
            continue;
        }
        if !first {
            println!();
        }
        first = false;
        print_block(info, root);
        print_journal(info, lines, (mode, all), socket);
        if !matches!(info.active_state.as_str(), "active" | "reloading") && exit == Exit::Success {
            exit = Exit::Code(3);
        }
    }
    exit
}

/// print_status_info(), the lines bosun has the facts for.
fn print_block(info: &UnitInfo, root: &Path) {
    let name = &info.name;
    match info.description.as_str() {
        d if d == name || d.is_empty() => println!("{} {name}", glyph(&info.active_state)),
        d => println!("{} {name} - {d}", glyph(&info.active_state)),
    }
    // print_status_info(): the file a unit was generated from before the generated file.
    let path = info
        .source_path
        .as_deref()
        .or(info.fragment.as_deref())
        .filter(|p| !p.is_empty());
    let files = info
        .fragment
        .as_deref()
        .and_then(|_| file_state(root, name));
    match (load_error(info), path, files) {
        (Some((_, why)), _, _) => println!("     Loaded: {} (Reason: {why})", info.load_state),
        (None, Some(path), Some((state, preset))) => {
            let shows_preset = !matches!(
                state,
                FileState::Alias | FileState::Static | FileState::Generated | FileState::Transient
            );
            let preset = match preset {
                Some(p) if shows_preset => format!("; preset: {p}"),
                _ => String::new(),
            };
            println!("     Loaded: {} ({path}; {state}{preset})", info.load_state);
        }
        (None, Some(path), None) => println!("     Loaded: {} ({path})", info.load_state),
        // A mount of the table without a unit file: its source, as systemd names it.
        (None, None, _) => match &info.mount {
            Some(m) => println!("     Loaded: {} ({})", info.load_state, m.source),
            None => println!("     Loaded: {}", info.load_state),
        },
    }
    print_dropins(&info.dropins);
    let mut active = format!("     Active: {}", info.active_state);
    if info.sub_state != info.active_state {
        active.push_str(&format!(" ({})", info.sub_state));
    }
    if !info.result.is_empty() && info.result != "success" {
        active.push_str(&format!(" (Result: {})", info.result));
    }
    if let Some(ms) = info.since_ms {
        active.push_str(&format!(
            " since {}; {}",
            timestamp(ms),
            relative(ms, now_ms())
        ));
    }
    println!("{active}");
    print_triggers(info);
    if let Some(m) = &info.mount {
        println!("      Where: {}", m.path);
        println!("       What: {}", m.what);
    }
    for (kind, address) in &info.listen {
        println!("     Listen: {address} ({kind})");
    }
    if let Some((accepted, connected)) = info.connections {
        println!("   Accepted: {accepted}; Connected: {connected};");
    }
    for e in &info.execs {
        println!(
            "    Process: {} {}={} ({})",
            e.pid,
            e.name,
            e.argv,
            ended(&e.code, e.status)
        );
    }
    let comm = |pid: i32| {
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .map(|c| format!(" ({})", c.trim_end()))
            .unwrap_or_default()
    };
    // A main process that ended is still shown, with how it ended (ExecMainPID, ExecMainCode).
    let main = match (info.main_pid, info.exec_main_pid, &info.main_exit) {
        (Some(m), _, _) => Some(format!("{m}{}", comm(m))),
        (None, Some(m), Some((code, status))) => Some(format!("{m} ({})", ended(code, *status))),
        _ => None,
    };
    match (main, info.control_pid) {
        (Some(m), Some(c)) => println!("   Main PID: {m}; Control PID: {c}{}", comm(c)),
        (Some(m), None) => println!("   Main PID: {m}"),
        (None, Some(c)) => println!("  Cntrl PID: {c}{}", comm(c)),
        (None, None) => {}
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
}

/// The TriggeredBy (the timers of a unit), Trigger (a timer's next elapse) and Triggers (its
/// unit) lines, each unit with its state's glyph, as print_status_info() prints them.
fn print_triggers(info: &UnitInfo) {
    for (k, (unit, state)) in info.triggered_by.iter().enumerate() {
        let label = if k == 0 { "TriggeredBy:" } else { "" };
        println!("{label:>12} {} {unit}", glyph(state));
    }
    if info.name.ends_with(".timer") {
        match info.next_elapse_ms {
            Some(ms) => println!("    Trigger: {}; {}", timestamp(ms), relative(ms, now_ms())),
            None => println!("    Trigger: n/a"),
        }
    }
    for (k, (unit, state)) in info.triggers.iter().enumerate() {
        let label = if k == 0 { "Triggers:" } else { "" };
        println!("{label:>12} {} {unit}", glyph(state));
    }
}

/// The Drop-In lines: each directory once, its files after a tree glyph.
fn print_dropins(dropins: &[String]) {
    let right = if super::super::glyph::utf8() {
        "└─"
    } else {
        "`-"
    };
    let mut dir: Option<&str> = None;
    for (k, dropin) in dropins.iter().enumerate() {
        let (d, file) = dropin.rsplit_once('/').unwrap_or(("", dropin));
        if dir != Some(d) {
            let lead = if dir.is_none() {
                "    Drop-In: "
            } else {
                "             "
            };
            print!("{lead}{d}\n             {right}");
            dir = Some(d);
        }
        let last = dropins
            .get(k + 1)
            .is_none_or(|next| !next.starts_with(&format!("{d}/")));
        print!("{file}{}", if last { "\n" } else { ", " });
    }
}

/// The unit's last journal lines as journalctl renders them in `mode` (short by default:
/// time, host, identifier, PID), after a blank line; nothing when it has none. They came with
/// the unit's answer, or, from a bosun that did not send them, are asked for now.
/// show_journal_by_unit() shows `-a` lines with control characters as they are.
fn print_journal(info: &UnitInfo, lines: u32, (mode, all): (OutputMode, bool), socket: &Path) {
    if lines == 0 {
        return;
    }
    let asked;
    let lines = match &info.journal {
        Some(lines) => lines,
        None => {
            let Ok(Response::Logs { lines, .. }) = call(
                socket,
                Request::Logs {
                    unit: Some(info.name.clone()),
                    lines: lines as usize,
                    after: 0,
                    before: 0,
                    filter: LogFilter::default(),
                },
            ) else {
                return;
            };
            asked = lines;
            &asked
        }
    };
    if lines.is_empty() {
        return;
    }
    // The short modes show no boot ID: the one of the bosun serving them is asked only when
    // the mode shows it.
    let mut ctx = if mode.shows_boot_id() {
        crate::cli::journalctl::output::Context::of(socket)
    } else {
        crate::cli::journalctl::output::Context::here()
    };
    ctx.all = all;
    let mut text = b"\n".to_vec();
    for line in lines {
        text.extend(ctx.render(line, mode));
    }
    // A closed stdout ends systemctl by SIGPIPE before this returns (see cli::dispatch).
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), &text);
}

/// `systemctl status` without units: the manager's own status (show_system_status()).
pub(super) fn system(ask: &Ask<'_>) -> Result<Exit, Exit> {
    let Response::System { system } = ask(Request::System)? else {
        return Ok(Exit::Failure);
    };
    let loaded = unit_list(ask(Request::units(Vec::new()))?);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    println!("{} {}", glyph("active"), host.trim_end());
    println!("    State: {}", system.state);
    println!("    Units: {} loaded (incl. loaded aliases)", loaded.len());
    println!("     Jobs: {} queued", system.jobs);
    println!("   Failed: {} units", system.failed_units.len());
    println!(
        "    Since: {}; {}",
        timestamp(system.started_ms),
        relative(system.started_ms, now_ms())
    );
    println!("  systemd: {}", manager_version());
    println!("   CGroup: /");
    Ok(Exit::Success)
}

/// The manager's Version property: systemd's number, then bosun's own.
fn manager_version() -> String {
    format!(
        "{} (bosun {})",
        super::super::SYSTEMD_VERSION,
        env!("CARGO_PKG_VERSION")
    )
}

/// `systemctl show` without units: the manager's properties bosun has.
pub(super) fn manager(ask: &Ask<'_>, o: &Options) -> Result<Exit, Exit> {
    let Response::System { system } = ask(Request::System)? else {
        return Ok(Exit::Failure);
    };
    let loaded = unit_list(ask(Request::units(Vec::new()))?);
    let environment = match ask(Request::Environment {
        set: Vec::new(),
        unset: Vec::new(),
    })? {
        Response::Environment { variables } => variables.join(" "),
        _ => String::new(),
    };
    let version = super::super::version_text();
    let features = version.lines().nth(1).unwrap_or_default().to_owned();
    let props = vec![
        ("Version", manager_version()),
        ("Features", features),
        ("Virtualization", String::new()),
        ("Architecture", architecture()),
        ("Tainted", String::new()),
        ("NNames", loaded.len().to_string()),
        ("NFailedUnits", system.failed_units.len().to_string()),
        ("NJobs", system.jobs.to_string()),
        ("Environment", environment),
        ("SystemState", system.state.clone()),
    ];
    print_properties(&props, o);
    Ok(Exit::Success)
}

/// The architecture as systemd names it (basic/architecture.c).
fn architecture() -> String {
    match std::env::consts::ARCH {
        "x86_64" => "x86-64",
        "x86" => "x86",
        "aarch64" => "arm64",
        "arm" => "arm",
        "powerpc64" => "ppc64-le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
    .to_owned()
}

/// Print `props` as show does: `-p` picks (and shows them even when empty), `--all` shows
/// the empty ones too, `--value` prints values alone.
fn print_properties(props: &[(&str, String)], o: &Options) {
    for (key, value) in props {
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

/// `systemctl show UNIT...`: each unit's properties, a blank line between units.
pub(super) fn show(infos: &[UnitInfo], o: &Options, root: &Path) {
    let mut first = true;
    for info in infos {
        if !first {
            println!();
        }
        first = false;
        print_properties(&properties(info, root), o);
    }
}

/// The properties `systemctl show` prints, in the manager's order: the service's, then the
/// unit's (core/dbus-service.c, core/dbus-unit.c vtables).
fn properties<'a>(info: &'a UnitInfo, root: &Path) -> Vec<(&'a str, String)> {
    let pid = |p: Option<i32>| p.map_or_else(|| "0".to_owned(), |p| p.to_string());
    let list = |v: &[String]| v.join(" ");
    let pairs = |v: &[(String, String)]| {
        v.iter()
            .map(|(u, _)| u.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut out = Vec::new();
    if !info.service_type.is_empty() {
        out.extend([
            ("Type", info.service_type.clone()),
            ("MainPID", pid(info.main_pid)),
            ("ControlPID", pid(info.control_pid)),
            ("StatusText", info.status_text.clone().unwrap_or_default()),
            ("Result", info.result.clone()),
            ("NRestarts", info.restarts.to_string()),
            ("ExecMainPID", pid(info.exec_main_pid.or(info.main_pid))),
        ]);
        if let Some((code, status)) = &info.main_exit {
            out.push((
                "ExecMainCode",
                if code == "exited" { "1" } else { "2" }.to_owned(),
            ));
            out.push(("ExecMainStatus", status.to_string()));
        }
    }
    // core/dbus-execute.c: the execution context's properties follow the service's own.
    if let Some(sandbox) = &info.sandbox {
        out.extend(
            sandbox
                .properties
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone())),
        );
    }
    if let Some(m) = &info.mount {
        // core/dbus-mount.c: the mount's own properties come before the unit's.
        out.extend([
            ("Where", m.path.clone()),
            ("What", m.what.clone()),
            ("Options", m.options.clone()),
            ("Type", m.fstype.clone()),
        ]);
    }
    if info.name.ends_with(".timer") {
        // core/dbus-timer.c: the timer's own properties come before the unit's.
        let time = |ms: Option<u64>| ms.map(timestamp).unwrap_or_default();
        out.extend([
            (
                "Unit",
                info.triggers
                    .first()
                    .map(|(u, _)| u.clone())
                    .unwrap_or_default(),
            ),
            ("NextElapseUSecRealtime", time(info.next_elapse_ms)),
            ("LastTriggerUSec", time(info.last_trigger_ms)),
            ("Result", info.result.clone()),
        ]);
    }
    if let Some(p) = &info.path {
        // core/dbus-path.c: Unit, Paths (one line each, `PATH (CONDITION)`), MakeDirectory,
        // DirectoryMode, Result, TriggerLimitIntervalUSec, TriggerLimitBurst.
        out.push((
            "Unit",
            info.triggers
                .first()
                .map(|(u, _)| u.clone())
                .unwrap_or_default(),
        ));
        out.extend(
            p.paths
                .iter()
                .map(|(condition, path)| ("Paths", format!("{path} ({condition})"))),
        );
        out.extend([
            (
                "MakeDirectory",
                if p.make_directory { "yes" } else { "no" }.to_owned(),
            ),
            ("DirectoryMode", format!("{:04o}", p.directory_mode)),
            ("Result", info.result.clone()),
            (
                "TriggerLimitIntervalUSec",
                super::super::text::timespan(p.trigger_limit_interval_usec),
            ),
            ("TriggerLimitBurst", p.trigger_limit_burst.to_string()),
        ]);
    }
    let files = file_state(root, &info.name);
    // print_property(): LoadError is a (name, message) pair, `NAME "MESSAGE"`, empty when
    // the unit loaded.
    let load_error = load_error(info).map_or_else(String::new, |(e, m)| format!("{e} \"{m}\""));
    out.extend([
        ("Id", info.name.clone()),
        (
            "Names",
            std::iter::once(&info.name)
                .chain(&info.aliases)
                .cloned()
                .collect::<Vec<_>>()
                .join(" "),
        ),
        ("Requires", list(&info.requires)),
        ("Wants", list(&info.wants)),
        ("Before", list(&info.before)),
        ("After", list(&info.after)),
        ("Triggers", pairs(&info.triggers)),
        ("TriggeredBy", pairs(&info.triggered_by)),
        ("Description", info.description.clone()),
        ("LoadState", info.load_state.clone()),
        ("ActiveState", info.active_state.clone()),
        ("SubState", info.sub_state.clone()),
        ("FragmentPath", info.fragment.clone().unwrap_or_default()),
        (
            "SourcePath",
            info.source_path.clone().unwrap_or_else(|| {
                info.mount
                    .as_ref()
                    .filter(|_| info.fragment.is_none())
                    .map(|m| m.source.clone())
                    .unwrap_or_default()
            }),
        ),
        ("DropInPaths", list(&info.dropins)),
        (
            "UnitFileState",
            files
                .as_ref()
                .map(|(s, _)| s.to_string())
                .unwrap_or_default(),
        ),
        (
            "UnitFilePreset",
            files
                .and_then(|(_, p)| p)
                .map(str::to_owned)
                .unwrap_or_default(),
        ),
        (
            "StateChangeTimestamp",
            info.since_ms.map(timestamp).unwrap_or_default(),
        ),
        ("LoadError", load_error),
    ]);
    out
}

/// `code=exited, status=1/FAILURE` or `code=killed, signal=TERM`, as systemctl prints how a
/// process ended: status names of libc and systemd only (exit-status.c, LIBC|SYSTEMD).
fn ended(code: &str, status: i32) -> String {
    if code == "exited" {
        let name = crate::unit::value::EXIT_STATUS_NAMES
            .iter()
            .find(|(_, n)| i32::from(*n) == status && (status <= 1 || status >= 200))
            .map(|(name, _)| format!("/{name}"))
            .unwrap_or_default();
        format!("code=exited, status={status}{name}")
    } else {
        let signal = crate::vocab::signal::name(status);
        format!(
            "code={code}, signal={}",
            signal.strip_prefix("SIG").unwrap_or(&signal)
        )
    }
}
