//! `initctl` (a symlink to bosun, or `bosun ctl`): bosun's own operator command. It reads
//! what the running PID 1 knows over the control socket (`status`, `logs`, `is-ready`), asks
//! it for jobs (`start`, `stop`, `restart`, `reload`), and runs `bosun verify` and `bosun image
//! diff` on the running root. Argument parsing ([`args`]) and printing only.
//!
//! What systemctl already prints is systemctl's: `status UNIT` and the job verbs go through
//! [`crate::cli::systemctl::online`], so words and exit codes stay the same in both commands.
//! The root is `$BOSUN_ROOT` (default `/`), the socket `ROOT/run/bosun/control.sock`.

pub mod args;
pub mod logs;
pub mod ready;
pub mod status;
mod table_read;

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::cli::systemctl::{self, Options, Parsed};
use crate::control::client::{ClientError, call};
use crate::control::proto::{Request, Response, SystemInfo, UnitInfo, UnitRow};
use crate::vocab::exit::Exit;
use args::{Command, Invocation, JobWord, Lines};
use status::{Style, UnitJson, UnitsJson};

/// The exit code when bosun cannot be reached (no control socket, or nobody answers on it):
/// sysexits.h's EX_UNAVAILABLE, distinct from every answer bosun gives.
pub const NOT_RUNNING: u8 = 69;

/// The exit code for a caller the control socket refuses (as systemctl's "Access denied").
pub const ACCESS_DENIED: u8 = 4;

/// `--help`.
const HELP: &str = "\
initctl — bosun's operator command (also `bosun ctl`)

Usage:
  initctl [status] [-a|--all] [--json]
      bosun's version, state, boot phase, uptime, data volume and build, failed units and the
      .bosun-new files an upgrade left to merge; then the units: state, sub-state, main PID,
      uptime, restarts, description. Without --all, inactive units are not listed.
  initctl status UNIT... [-n N] [--json]
      the units as `systemctl status` shows them, with their last N log lines (default 10)
  initctl logs [-f|--follow] [-n N|all] [-a|--all] [--json] [UNIT]
      the last N lines (default 10) of every unit's output, or of UNIT's; with -f, then the
      new lines as they come, until bosun stops or the reader goes away. A line with control
      characters (but TAB) or invalid UTF-8 shows as `[N blob data]`, as journalctl shows it;
      -a prints it as the service wrote it
  initctl logs --boot[=N] [-n N|all] [-a|--all] [--json] [UNIT]
      the lines of an earlier run from the persistent journal (log.persist), read from its
      files with or without bosun running: -1 the run before the newest, 0 the newest (the
      running one), 1 the oldest kept
  initctl logs --list-boots [--json]
      the runs the persistent journal holds, oldest first
  initctl is-ready [--json]
      exit 0 when boot is complete and no failed unit counts (BOSUN_READY_FAILED: by default
      a unit boot started); else exit 1 and say why on stderr (for readiness probes)
  initctl start|stop|restart|reload UNIT...
      queue the jobs and wait for them, as systemctl does (root or bosun's own user only)
  initctl verify [UNIT|PATH...]
      `bosun verify` on the running root's units
  initctl diff [OPTIONS]
      `bosun image diff`: what changed outside the data volume since the image was built

Options:
  --json           one JSON document on stdout (JSON lines for logs); status, logs, is-ready
  -a, --all        status: list inactive units too; logs: print lines as they are
  -n, --lines N    status UNIT, logs: how many log lines (a number or `all`)
  -f, --follow     logs: keep printing new lines
  -h, --help       print this help
  --version        print the version

Exit codes: 0 success; 1 failure (a job failed, not ready, verify found errors); 2 bad usage;
3 status UNIT: a unit is not active; 4 access denied, or status UNIT: no such unit; 5 start:
no such unit; 69 bosun is not running here (no control socket under $BOSUN_ROOT, default /).
";

/// `initctl ARGS...` (`prog` names the command in messages: `initctl` or `bosun ctl`).
pub fn main(prog: &str, args: &[OsString]) -> Exit {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let invocation = match args::parse(&args) {
        Ok(invocation) => invocation,
        Err(e) => {
            eprintln!("{prog}: {e}");
            eprintln!("Try '{prog} --help' for more information.");
            return Exit::Usage;
        }
    };
    let root = systemctl::root_of(&Options::default());
    run(prog, &invocation, &root)
}

/// Run a parsed command line against the bosun whose root is `root`.
pub fn run(prog: &str, invocation: &Invocation, root: &Path) -> Exit {
    let socket = crate::control::socket_path(root);
    let json = invocation.json;
    match &invocation.command {
        Command::Help => write_out(prog, HELP),
        Command::Version => write_out(
            prog,
            &format!("initctl (bosun {})\n", env!("CARGO_PKG_VERSION")),
        ),
        Command::Status { units, all, .. } if units.is_empty() => {
            overview(prog, &socket, *all, json)
        }
        Command::Status { units, lines, .. } => {
            status_units(prog, &socket, root, units, *lines, json)
        }
        Command::Logs {
            unit,
            lines,
            follow,
            all,
        } => {
            let unit = match unit_name(prog, unit.as_deref()) {
                Ok(unit) => unit,
                Err(exit) => return exit,
            };
            logs::run(&socket, prog, unit, *lines, *follow, (json, *all))
        }
        Command::Persisted {
            unit,
            lines,
            boot,
            all,
        } => {
            let unit = match unit_name(prog, unit.as_deref()) {
                Ok(unit) => unit,
                Err(exit) => return exit,
            };
            logs::persisted(prog, (unit.as_deref(), *lines), *boot, (json, *all))
        }
        Command::ListBoots => logs::list_boots(prog, json),
        Command::IsReady => is_ready(prog, &socket, json),
        Command::Verify { targets } => {
            let mut args: Vec<OsString> = vec!["--root".into(), root.into(), "--".into()];
            args.extend(targets.iter().map(OsString::from));
            crate::cli::verify::main(&args)
        }
        Command::Diff { args } => {
            let mut words: Vec<OsString> = vec!["diff".into()];
            // The running root, unless the caller names one (a later --root wins).
            if root != Path::new("/") {
                words.extend(["--root".into(), root.into()]);
            }
            words.extend(args.iter().map(OsString::from));
            crate::cli::image::main(&words)
        }
        Command::Job { verb, units } => job(prog, &socket, root, *verb, units),
    }
}

/// Write `text` to stdout; a reader that went away (EPIPE) is not an error worth a word.
fn write_out(prog: &str, text: &str) -> Exit {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Exit::Success,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Success,
        Err(e) => {
            eprintln!("{prog}: cannot write to stdout: {e}");
            Exit::Failure
        }
    }
}

/// `value` as one line of JSON on stdout.
fn write_json(prog: &str, value: &impl Serialize) -> Exit {
    match serde_json::to_string(value) {
        Ok(mut text) => {
            text.push('\n');
            write_out(prog, &text)
        }
        Err(e) => {
            eprintln!("{prog}: cannot write JSON: {e}");
            Exit::Failure
        }
    }
}

/// Why bosun could not be reached, said once, and the exit code for it.
fn unreachable(prog: &str, socket: &Path, error: &ClientError) -> Exit {
    let (message, exit) = describe(socket, error);
    eprintln!("{prog}: {message}");
    exit
}

fn describe(socket: &Path, error: &ClientError) -> (String, Exit) {
    use std::io::ErrorKind;
    let path = socket.display();
    match error {
        ClientError::Connect { source, .. } => match source.kind() {
            ErrorKind::NotFound | ErrorKind::NotADirectory => (
                format!("bosun is not running here (no control socket at {path})"),
                Exit::Code(NOT_RUNNING),
            ),
            ErrorKind::ConnectionRefused => (
                format!("bosun is not running here (nothing answers on the control socket {path})"),
                Exit::Code(NOT_RUNNING),
            ),
            ErrorKind::PermissionDenied => (
                format!("Access denied: cannot connect to the control socket {path}"),
                Exit::Code(ACCESS_DENIED),
            ),
            _ => (error.to_string(), Exit::Code(NOT_RUNNING)),
        },
        ClientError::Io(_) => (error.to_string(), Exit::Code(NOT_RUNNING)),
        ClientError::Decode(_) => (error.to_string(), Exit::Failure),
    }
}

/// Ask bosun; any other answer than the expected one is said and becomes the exit code.
fn ask<T>(
    prog: &str,
    socket: &Path,
    request: Request,
    want: impl FnOnce(Response) -> Result<T, Response>,
) -> Result<T, Exit> {
    let response = call(socket, request).map_err(|e| unreachable(prog, socket, &e))?;
    want(response).map_err(|other| refused(prog, other))
}

/// Say an answer other than the one expected; its exit code.
fn refused(prog: &str, other: Response) -> Exit {
    match other {
        Response::Error { message, exit } => {
            eprintln!("{prog}: {message}");
            Exit::Code(exit)
        }
        other => {
            eprintln!("{prog}: unexpected answer from bosun: {other:?}");
            Exit::Failure
        }
    }
}

fn system(prog: &str, socket: &Path) -> Result<SystemInfo, Exit> {
    ask(prog, socket, Request::System, |r| match r {
        Response::System { system } => Ok(*system),
        other => Err(other),
    })
}

/// The units named, each with its sandbox (services and sockets).
fn units(prog: &str, socket: &Path, names: Vec<String>) -> Result<Vec<UnitInfo>, Exit> {
    let request = Request::Units {
        names,
        sandbox: true,
        journal: 0,
    };
    ask(prog, socket, request, |r| match r {
        Response::Units { units } => Ok(units),
        other => Err(other),
    })
}

/// `status` without units: the header and the table.
fn overview(prog: &str, socket: &Path, all: bool, json: bool) -> Exit {
    // One call: the header and the table describe the same instant.
    if json {
        let result = ask(prog, socket, Request::Overview, |r| match r {
            Response::Overview { system, units } => Ok((*system, units)),
            other => Err(other),
        });
        return match result {
            Ok((system, units)) => write_json(
                prog,
                &status::OverviewJson {
                    system: &system,
                    units: status::select(&units, all),
                },
            ),
            Err(exit) => exit,
        };
    }
    // The text asks for what it shows of each unit only; a bosun before that call is asked
    // for the overview, of which the text reads only what it shows.
    let summary = crate::control::client::call_as::<Response>(socket, Request::Summary)
        .map_err(|e| unreachable(prog, socket, &e));
    // The rows are shown as they came (500 of them are not made into larger UnitInfos).
    let answer: Result<(SystemInfo, Vec<UnitRow>), Exit> = match summary {
        Ok(Response::Summary { system, units }) => Ok((*system, units)),
        Ok(old) if crate::control::client::unknown_op(&old, "summary") => {
            crate::control::client::call_as(socket, Request::Overview)
                .map_err(|e| unreachable(prog, socket, &e))
                .and_then(|answer: table_read::Answer| {
                    answer.overview().map_err(|other| refused(prog, other))
                })
                .map(|(system, units)| (system, units.into_iter().map(UnitRow::from).collect()))
        }
        Ok(other) => Err(refused(prog, other)),
        Err(exit) => Err(exit),
    };
    match answer {
        Ok((system, units)) => {
            let now = crate::vocab::time::now_ms();
            write_out(
                prog,
                &status::overview(&system, &units, all, now, Style::for_stdout()),
            )
        }
        Err(exit) => exit,
    }
}

/// `status UNIT...`: systemctl's, or the JSON document with each unit's last log lines.
/// Exit 0 when all are active, 3 when one is not, 4 when one is not found (as systemctl).
fn status_units(
    prog: &str,
    socket: &Path,
    root: &Path,
    names: &[String],
    lines: Lines,
    json: bool,
) -> Exit {
    if let Err(exit) = system(prog, socket) {
        return exit;
    }
    let n = match lines {
        Lines::Last(n) => n,
        Lines::All => usize::MAX,
    };
    if !json {
        // systemctl's -n is a u32; `all` is as many as it takes.
        let mut words = vec!["status".to_owned(), "-n".to_owned()];
        words.push(u32::try_from(n).unwrap_or(u32::MAX).to_string());
        words.push("--".to_owned());
        words.extend(names.iter().cloned());
        let exit = delegate(prog, root, words);
        // Under systemctl's blocks, what of each sandbox is in force in this container.
        if !matches!(exit, Exit::Success | Exit::Code(3)) {
            return exit;
        }
        let sandboxes = mangle(prog, "status", names).and_then(|n| units(prog, socket, n));
        for info in sandboxes.unwrap_or_default() {
            if let Some(sandbox) = &info.sandbox {
                println!("\n{}:", info.name);
                for line in crate::cli::security::status_lines(&sandbox.assessment) {
                    println!("{line}");
                }
            }
        }
        return exit;
    }
    let names = match mangle(prog, "status", names) {
        Ok(names) => names,
        Err(exit) => return exit,
    };
    let infos = match units(prog, socket, names.clone()) {
        Ok(infos) => infos,
        Err(exit) => return exit,
    };
    let mut exit = Exit::Success;
    let mut shown = Vec::new();
    for info in &infos {
        if info.load_state == "not-found" && info.active_state == "inactive" {
            exit = Exit::Code(4);
        } else if !matches!(info.active_state.as_str(), "active" | "reloading")
            && exit == Exit::Success
        {
            exit = Exit::Code(3);
        }
        let logs = match (n, call(socket, log_request(&info.name, n))) {
            (0, _) => Vec::new(),
            (_, Ok(Response::Logs { lines, .. })) => lines,
            _ => Vec::new(),
        };
        shown.push(UnitJson { unit: info, logs });
    }
    match write_json(prog, &UnitsJson { units: shown }) {
        Exit::Success => exit,
        failed => failed,
    }
}

fn log_request(unit: &str, lines: usize) -> Request {
    Request::Logs {
        unit: Some(unit.to_owned()),
        lines,
        after: 0,
        before: 0,
        filter: crate::control::proto::LogFilter::default(),
    }
}

/// `is-ready`: 0 when ready; 1 with the reason on stderr; [`NOT_RUNNING`] when unreachable.
fn is_ready(prog: &str, socket: &Path, json: bool) -> Exit {
    let system = match call(socket, Request::System) {
        Ok(Response::System { system }) => *system,
        Ok(other) => {
            eprintln!("{prog}: unexpected answer from bosun: {other:?}");
            return Exit::Failure;
        }
        Err(e) => {
            let (message, exit) = describe(socket, &e);
            eprintln!("{prog}: {message}");
            if json {
                let _ = write_json(prog, &ready::ReadyJson::unreachable(message));
            }
            return exit;
        }
    };
    let answer = ready::ReadyJson::of(&system);
    if let Some(reason) = &answer.reason {
        eprintln!("{reason}");
    }
    let exit = if answer.ready {
        Exit::Success
    } else {
        Exit::Failure
    };
    if json {
        let _ = write_json(prog, &answer);
    }
    exit
}

/// `start|stop|restart|reload UNIT...`: systemctl's, once bosun is known to answer.
fn job(prog: &str, socket: &Path, root: &Path, verb: JobWord, names: &[String]) -> Exit {
    if let Err(exit) = system(prog, socket) {
        return exit;
    }
    let mut words = vec![verb.word().to_owned(), "--".to_owned()];
    words.extend(names.iter().cloned());
    delegate(prog, root, words)
}

/// Parse `words` as systemctl's command line, printing its name-mangling notices.
fn systemctl_invocation(prog: &str, words: &[String]) -> Result<systemctl::Invocation, Exit> {
    match systemctl::args::parse("systemctl", words, std::env::current_dir().ok()) {
        Ok(Parsed::Run(invocation)) => {
            for notice in &invocation.notices {
                eprintln!("{notice}");
            }
            Ok(*invocation)
        }
        Ok(Parsed::Print(text)) => {
            eprintln!("{prog}: unexpected: {}", text.trim_end());
            Err(Exit::Usage)
        }
        Err(e) => {
            eprintln!("{prog}: {e}");
            Err(Exit::Usage)
        }
    }
}

/// Run systemctl's online half for `words` (a verb, `--`, unit names).
fn delegate(prog: &str, root: &Path, words: Vec<String>) -> Exit {
    match systemctl_invocation(prog, &words) {
        Ok(invocation) => systemctl::online::run(&invocation, root),
        Err(exit) => exit,
    }
}

/// The unit `logs` was given, as systemctl reads its name (`web` is `web.service`); a pattern
/// or a PID is refused, as the journal is kept by unit name. None: every unit's lines.
fn unit_name(prog: &str, name: Option<&str>) -> Result<Option<String>, Exit> {
    let Some(name) = name else { return Ok(None) };
    let words = ["status".to_owned(), "--".to_owned(), name.to_owned()];
    let invocation = systemctl_invocation(prog, &words)?;
    match invocation.units.first() {
        Some(systemctl::UnitArg::Name(unit)) => Ok(Some(unit.to_string())),
        _ => {
            eprintln!("{prog}: {name:?} is not a unit name (logs takes one unit, no pattern)");
            Err(Exit::Usage)
        }
    }
}

/// Unit names as systemctl reads them for `verb` (`web` is `web.service`).
fn mangle(prog: &str, verb: &str, names: &[String]) -> Result<Vec<String>, Exit> {
    let mut words = vec![verb.to_owned(), "--".to_owned()];
    words.extend(names.iter().cloned());
    let invocation = systemctl_invocation(prog, &words)?;
    Ok(invocation.units.iter().map(|u| u.as_text()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_socket_is_said_as_not_running_with_its_own_code() {
        let dir = tempfile::tempdir().unwrap();
        let socket = crate::control::socket_path(dir.path());
        let error = call(&socket, Request::System).unwrap_err();
        let (message, exit) = describe(&socket, &error);
        assert_eq!(
            message,
            format!(
                "bosun is not running here (no control socket at {})",
                socket.display()
            )
        );
        assert_eq!(exit.code(), NOT_RUNNING);
        // A stale socket file nobody listens on: not running either.
        std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
        drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
        let error = call(&socket, Request::System).unwrap_err();
        let (message, exit) = describe(&socket, &error);
        assert!(message.contains("nothing answers"), "{message}");
        assert_eq!(exit.code(), NOT_RUNNING);
    }

    #[test]
    fn help_names_every_verb_and_exit_code() {
        for word in [
            "status", "logs", "is-ready", "start", "stop", "restart", "reload", "verify", "diff",
            "--json", "69",
        ] {
            assert!(HELP.contains(word), "--help lacks {word}");
        }
    }
}
