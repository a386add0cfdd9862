//! `bosun verify [--root DIR] [UNIT|PATH...]`: load units as PID 1 would and print every
//! diagnostic as `path:line: message` (like `systemd-analyze verify`); exit non-zero when any
//! unit has an error. Without arguments every unit in the search path is verified. Argument
//! parsing and printing only; the reading is [`crate::unit`]'s.

use std::collections::HashSet;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::unit::load::UnitFileKind;
use crate::unit::{
    DiagnosticKind, LoadError, LoadState, LoadedUnit, Loader, SearchPath, SpecifierContext,
    UnitName, directive,
};
use crate::vocab::exit::Exit;

const HELP: &str = "\
Usage: bosun verify [--root DIR] [UNIT|PATH...]
       bosun verify --security [--root DIR] [UNIT|PATH...]

Load unit files the way bosun's PID 1 does and print every problem as `path:line: message`.
UNIT is a unit name looked up in the search path (/etc/systemd/system, /run/systemd/system,
/usr/local/lib/systemd/system, /usr/lib/systemd/system, /lib/systemd/system); PATH is a unit
file anywhere (an argument containing `/`). Without arguments, every unit in the search path is
verified. Directives a container does not enforce (sandboxing, resource control) are reported
once each. As with `systemd-analyze verify`, every command not prefixed with `-` must be an
executable file (under DIR with --root); for a unit with Condition*= settings a missing one is
only a warning. Exits 1 when any unit has an error, 0 otherwise.

Options:
  --root DIR      look for units (and drop-ins) under DIR instead of /
  --directives    print every systemd directive and how bosun treats it (Markdown) and exit
  --security      for each service (every service when no UNIT is named): what its sandbox
                  asks for, what of it is in force in this container and why not, and an
                  exposure figure from 0.0 (confined) to 10.0 (bare), in the manner of
                  `systemd-analyze security`. The running bosun answers when there is one
                  (its units, its container); otherwise the unit files are read here and
                  judged with this process's capabilities.
  -h, --help      print this help and exit
";

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    root: PathBuf,
    targets: Vec<String>,
    security: bool,
}

fn parse(args: &[OsString]) -> Result<Option<Request>, String> {
    let mut root = PathBuf::from("/");
    let mut targets = Vec::new();
    let mut i = 0;
    let mut only_targets = false;
    let mut security = false;
    while i < args.len() {
        let arg = args[i]
            .to_str()
            .ok_or_else(|| format!("argument {:?} is not valid UTF-8", args[i]))?;
        i += 1;
        if only_targets || !arg.starts_with('-') {
            targets.push(arg.to_owned());
            continue;
        }
        match arg {
            "--" => only_targets = true,
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(None);
            }
            "--security" => security = true,
            "--directives" => {
                print!("{}", directive::markdown_table());
                return Ok(None);
            }
            "--root" => {
                let dir = args
                    .get(i)
                    .and_then(|d| d.to_str())
                    .ok_or("option --root needs a directory")?;
                root = PathBuf::from(dir);
                i += 1;
            }
            _ => match arg.strip_prefix("--root=") {
                Some(dir) => root = PathBuf::from(dir),
                None => return Err(format!("unknown option {arg}")),
            },
        }
    }
    Ok(Some(Request {
        root,
        targets,
        security,
    }))
}

/// `bosun verify ...`, with `args` after the word `verify`.
pub fn main(args: &[OsString]) -> Exit {
    let request = match parse(args) {
        Ok(Some(r)) => r,
        Ok(None) => return Exit::Success,
        Err(message) => {
            crate::log::error(format_args!("verify: {message}"));
            eprintln!("Try 'bosun verify --help' for more information.");
            return Exit::Usage;
        }
    };
    let loader = Loader::new(
        SearchPath::system(&request.root),
        SpecifierContext::from_system(&request.root),
    );
    if request.security {
        return security(&loader, &request);
    }
    let mut out = std::io::stdout().lock();
    let outcome = verify(&loader, &request.targets, &mut out);
    // stdout may be a closed pipe; the exit code still tells.
    let _ = out.flush();
    match outcome {
        Ok(summary) => {
            // One summary line on stderr, so stdout holds only `path:line: message` lines.
            eprintln!(
                "bosun verify: {} units, {} with errors, {} not found, {} masked",
                summary.units, summary.failed, summary.missing, summary.masked
            );
            if summary.failed > 0 || summary.missing > 0 {
                Exit::Failure
            } else {
                Exit::Success
            }
        }
        Err(e) => {
            crate::log::error(format_args!("verify: {e}"));
            Exit::Failure
        }
    }
}

/// What a verification run found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Units looked at.
    pub units: usize,
    /// Units with at least one error.
    pub failed: usize,
    /// Masked units.
    pub masked: usize,
    /// Units that could not be loaded at all (not found, unreadable).
    pub missing: usize,
}

/// Verify `targets` (all units when empty) and write diagnostics to `out`, one per line.
/// Ignored and not-yet-supported directives are written once per directive for the whole run.
pub fn verify(
    loader: &Loader,
    targets: &[String],
    out: &mut dyn Write,
) -> std::io::Result<Summary> {
    let mut summary = Summary::default();
    let mut said: HashSet<DiagnosticKind> = HashSet::new();
    let all;
    let targets: &[String] = if targets.is_empty() {
        let files = loader
            .unit_files()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        all = files
            .into_iter()
            .filter(|f| !matches!(f.kind, UnitFileKind::Alias(_)))
            .map(|f| f.name.to_string())
            .collect::<Vec<_>>();
        &all
    } else {
        targets
    };
    for target in targets {
        summary.units += 1;
        let loaded = load_for_verification(loader, target);
        let loaded = match loaded {
            Ok(l) => l,
            Err(e) => {
                summary.missing += 1;
                writeln!(out, "{target}: {e}")?;
                continue;
            }
        };
        match loaded.state {
            LoadState::Masked => summary.masked += 1,
            LoadState::Error => summary.failed += 1,
            LoadState::Loaded => {}
        }
        for d in &loaded.diagnostics {
            let once = matches!(
                d.kind,
                DiagnosticKind::Ignored(_) | DiagnosticKind::NotYetSupported(_)
            );
            if once && !said.insert(d.kind) {
                continue;
            }
            writeln!(out, "{d}")?;
        }
        let mut unusable = false;
        if let Some(fragment) = &loaded.fragment {
            // Like systemd-analyze verify: every command not marked `-` must be executable.
            for cmd in loaded.unit.exec_commands() {
                if cmd.flags.ignore_failure {
                    continue;
                }
                if let Err(why) = check_executable(&cmd.path, loader.search_path().root()) {
                    // A unit with conditions may never run here (rc-local.service checks
                    // ConditionFileIsExecutable=/etc/rc.local): then this is only a warning.
                    unusable |= loaded.unit.unit.conditions.is_empty();
                    writeln!(
                        out,
                        "{}: Command {} is not executable: {why}",
                        fragment.display(),
                        cmd.path
                    )?;
                }
            }
        }
        if unusable && loaded.state == LoadState::Loaded {
            summary.failed += 1;
        }
        if loaded.state == LoadState::Error || unusable {
            writeln!(
                out,
                "{}: unit configuration has fatal errors, {} will not be started",
                loaded
                    .fragment
                    .as_deref()
                    .unwrap_or(Path::new(target))
                    .display(),
                loaded.name
            )?;
        }
    }
    Ok(summary)
}

/// `bosun verify --security [UNIT...]`: from the running bosun when one answers, else from
/// the unit files with this process's facts. Exits 1 when a named unit cannot be found.
fn security(loader: &Loader, request: &Request) -> Exit {
    use crate::control::proto::{Request as Call, Response};
    use crate::service::security::{Assessment, Facts, assess};
    let socket = crate::control::socket_path(&request.root);
    let by_path = request.targets.iter().any(|t| t.contains('/'));
    let asked = Call::Units {
        names: request.targets.clone(),
        sandbox: true,
        journal: 0,
    };
    let mut missing = 0;
    let rows: Vec<(String, Assessment)> =
        match (by_path, crate::control::client::call(&socket, asked)) {
            (false, Ok(Response::Units { units })) => units
                .into_iter()
                .filter_map(|u| {
                    // Without names the answer holds what the loaded units refer to, found
                    // or not; only a unit asked for by name is missing.
                    if u.load_state == "not-found" && !request.targets.is_empty() {
                        missing += 1;
                        eprintln!(
                            "{}: {}",
                            u.name,
                            u.load_error.as_deref().unwrap_or("not found")
                        );
                    }
                    Some((u.name, u.sandbox?.assessment))
                })
                .filter(|(name, _)| !request.targets.is_empty() || name.ends_with(".service"))
                .collect(),
            (_, answer) => {
                if !by_path {
                    let why = match answer {
                        Err(e) => e.to_string(),
                        Ok(Response::Error { message, .. }) => message,
                        Ok(_) => "an unexpected answer".to_owned(),
                    };
                    eprintln!(
                        "bosun verify: no running bosun answered ({why}); judging the unit files \
                     with this process's capabilities"
                    );
                }
                let facts = Facts::of_this_process();
                let targets = if request.targets.is_empty() {
                    match loader.unit_files() {
                        Ok(files) => files
                            .into_iter()
                            .filter(|f| !matches!(f.kind, UnitFileKind::Alias(_)))
                            .map(|f| f.name.to_string())
                            .filter(|n| n.ends_with(".service"))
                            .collect(),
                        Err(e) => {
                            crate::log::error(format_args!("verify: {e}"));
                            return Exit::Failure;
                        }
                    }
                } else {
                    request.targets.clone()
                };
                let mut rows = Vec::new();
                for target in &targets {
                    match load_for_verification(loader, target) {
                        Ok(loaded) => {
                            let exec = match &loaded.unit.kind {
                                crate::unit::model::UnitKind::Service(s) => &s.exec,
                                crate::unit::model::UnitKind::Socket(s) => &s.exec,
                                _ => continue,
                            };
                            rows.push((loaded.name.to_string(), assess(exec, &facts)));
                        }
                        Err(e) => {
                            missing += 1;
                            eprintln!("{target}: {e}");
                        }
                    }
                }
                rows
            }
        };
    let text = match (request.targets.is_empty(), rows.as_slice()) {
        (true, _) => super::security::overview(&rows),
        (false, rows) => rows
            .iter()
            .map(|(unit, a)| super::security::report(unit, a))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    print!("{text}");
    if missing > 0 {
        Exit::Failure
    } else {
        Exit::Success
    }
}

/// Whether `path` (absolute, or a bare name searched in systemd's fixed path) is an
/// executable file under `root`.
fn check_executable(path: &str, root: &Path) -> Result<(), &'static str> {
    use std::os::unix::fs::PermissionsExt;
    let found =
        crate::unit::exec::resolve_executable(path, root).ok_or("No such file or directory")?;
    let on_disk = root.join(found.strip_prefix("/").unwrap_or(&found));
    match std::fs::metadata(on_disk) {
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => Ok(()),
        Ok(_) => Err("Permission denied"),
        Err(_) => Err("No such file or directory"),
    }
}

/// Load `target` (a name, or a path when it contains `/`); a template is checked as its
/// instance `test_instance`, as `systemd-analyze verify` does.
pub fn load_for_verification(loader: &Loader, target: &str) -> Result<LoadedUnit, LoadError> {
    if target.contains('/') {
        let path = Path::new(target);
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let name = UnitName::parse(file_name)?;
        loader.load_file_as(path, &name.for_verification())
    } else {
        loader.load(UnitName::parse(target)?.for_verification().as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn arguments() {
        assert_eq!(
            parse(&os(&["--root", "/x", "a.service", "./b.service"])).unwrap(),
            Some(Request {
                root: PathBuf::from("/x"),
                targets: vec!["a.service".to_owned(), "./b.service".to_owned()],
                security: false,
            })
        );
        assert_eq!(
            parse(&os(&["--root=/y"])).unwrap().unwrap().root,
            PathBuf::from("/y")
        );
        assert!(
            parse(&os(&["--root"]))
                .unwrap_err()
                .contains("needs a directory")
        );
        assert!(parse(&os(&["--frob"])).unwrap_err().contains("--frob"));
        assert_eq!(
            parse(&os(&["--", "--odd.service"]))
                .unwrap()
                .unwrap()
                .targets,
            ["--odd.service"]
        );
    }
}
