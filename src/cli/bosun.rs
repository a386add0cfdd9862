//! `bosun [OPTIONS] -- COMMAND [ARGS...]`: the tini-compatible command line, parsed by hand so
//! that tini's grammar (clustered short flags, `-e143`, `--`) is accepted exactly, and turned
//! into [`crate::init::Options`]. Environment variables fill what the command line leaves out.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::config::{parse_duration, settings};
use crate::init;
use crate::vocab::exit::Exit;
use crate::vocab::text::Format;

const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// The whole shutdown's limit: systemd's DefaultTimeoutStopSec=, which is also what its final
/// `systemd-shutdown` gives the remaining processes.
const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(90);

const HELP: &str = "\
bosun — a container init and supervisor

Usage:
  bosun [OPTIONS] -- COMMAND [ARGS...]    run COMMAND as the main process (like tini)
  bosun init [OPTIONS] -- COMMAND [ARGS...]
  bosun systemctl ... | bosun ctl ...     systemd's systemctl, and bosun's initctl (also as links)
  bosun image prepare|check|diff|seed|link ...
  bosun verify [UNIT|PATH...]             check unit files as bosun reads them
  bosun webdav                            the WebDAV server (PID 1 runs it as webdav.service)

As PID 1 (or, elsewhere, as a child subreaper) bosun reaps every process, forwards signals to
COMMAND, and when COMMAND exits — or bosun gets SIGTERM or SIGINT — sends SIGTERM to every
remaining process, waits up to the stop timeout, sends SIGKILL, reaps them all and exits with
COMMAND's code (128+N when COMMAND was killed by signal N; 127 when COMMAND is not found, 126
when it cannot be executed).

As PID 1 (or with BOSUN_UNITS=on) bosun first empties /run and /tmp when they are left from a
previous run (not mount points), and, when the template directory exists, manages the data
volume: seeds it, merges a new image's template into it, runs the hooks (first-boot.d,
upgrade.d, boot.d, shutdown.d) — or refuses with exit code 80 (volume not seeded by bosun),
81 (image older than the data), 82 (first-boot or upgrade hooks failed), 83 (volume in use) or
84 (bosun's user may not write the volume).
Environment (paths are inside BOSUN_ROOT): BOSUN_DATA_DIR (/data), BOSUN_TEMPLATE_DIR
(/data-template), BOSUN_BUILD_ID_FILE (/etc/build-id), BOSUN_HOOKS_DIR (/etc/bosun/hooks),
BOSUN_RUN_AS=UID:GID (or PUID and PGID), BOSUN_ADOPT_DATA=1, BOSUN_ALLOW_DOWNGRADE=1,
BOSUN_RETRY_FIRST_BOOT=1, BOSUN_HOOK_TIMEOUT (none by default).
Every BOSUN_* setting can also be a key of /etc/bosun/bosun.yaml (BOSUN_CONFIG names another
file); the environment overrides the file.

Options:
  -g, --kill-process-group     forward signals to COMMAND's whole process group
                               (env BOSUN_KILL_PROCESS_GROUP=1 or TINI_KILL_PROCESS_GROUP=1)
  -e, --expect-exit CODE       exit 0 when COMMAND's exit code (or 128+N) is CODE; repeatable
  -t, --stop-timeout DURATION  time between SIGTERM and SIGKILL at shutdown, such as 5s, 500ms,
                               1min (env BOSUN_STOP_TIMEOUT; default 5s)
                               The whole shutdown is bounded by BOSUN_SHUTDOWN_TIMEOUT (90s;
                               infinity: none); then what is left is killed
  -p, --parent-death-signal SIGNAL
                               have bosun sent SIGNAL when its parent dies
  -s, --subreaper              accepted for tini compatibility: bosun always registers as a
                               child subreaper when it is not PID 1
  -w, --warn-on-reap           log every orphan that is reaped
  -v, --verbose                say more (repeatable; env BOSUN_VERBOSITY=0..3, TINI_VERBOSITY)
  -q, --quiet                  print errors only
  -l, --license                print the license and exit
  -h, --help                   print this help and exit
  -V, --version                print the version and exit
";

const LICENSE: &str = "\
bosun is dual-licensed under the MIT license and the Apache License, Version 2.0, at your
option. It comes with ABSOLUTELY NO WARRANTY.
";

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
enum Request {
    Run(Box<init::Options>, u8),
    Print(&'static str),
    Version,
}

/// `bosun [OPTIONS] [-- COMMAND...]`, with `args` not including `argv[0]`.
pub fn main(args: &[OsString]) -> Exit {
    let env = match settings() {
        Ok(env) => env,
        Err(message) => {
            crate::log::error(format_args!("{message}"));
            return Exit::Usage;
        }
    };
    match parse(args, &env) {
        Ok(Request::Run(options, verbosity)) => {
            crate::log::set_verbosity(verbosity);
            init::run(&options)
        }
        Ok(Request::Print(text)) => {
            crate::sys::die_on_sigpipe();
            print!("{text}");
            Exit::Success
        }
        Ok(Request::Version) => {
            crate::sys::die_on_sigpipe();
            println!("bosun {}", env!("CARGO_PKG_VERSION"));
            Exit::Success
        }
        Err(message) => {
            crate::log::error(format_args!("{message}"));
            eprintln!("Try 'bosun --help' for more information.");
            Exit::Usage
        }
    }
}

fn parse(args: &[OsString], env: &dyn Fn(&str) -> Option<String>) -> Result<Request, String> {
    let mut options = init::Options {
        command: Vec::new(),
        kill_process_group: false,
        success_codes: Vec::new(),
        parent_death_signal: None,
        warn_on_reap: false,
        stop_timeout: DEFAULT_STOP_TIMEOUT,
        shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
        units: None,
        units_forced: false,
        volume: crate::boot::volume_phase::Setup::new("/".into()),
    };
    let mut verbosity: u8 = 1;

    // Environment first; the command line overrides it.
    for name in ["BOSUN_KILL_PROCESS_GROUP", "TINI_KILL_PROCESS_GROUP"] {
        if let Some(value) = env(name) {
            options.kill_process_group = parse_flag(name, &value)?;
        }
    }
    if let Some(value) = env("BOSUN_STOP_TIMEOUT") {
        options.stop_timeout =
            parse_duration(&value).map_err(|why| format!("BOSUN_STOP_TIMEOUT={value:?}: {why}"))?;
    }
    if let Some(value) = env("BOSUN_SHUTDOWN_TIMEOUT") {
        options.shutdown_timeout = parse_duration(&value)
            .map_err(|why| format!("BOSUN_SHUTDOWN_TIMEOUT={value:?}: {why}"))?;
    }
    for name in ["TINI_VERBOSITY", "BOSUN_VERBOSITY"] {
        if let Some(value) = env(name) {
            verbosity = value
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|v| *v <= 3)
                .ok_or_else(|| format!("{name}={value:?}: expected a level from 0 to 3"))?;
        }
    }

    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        let Some(text) = arg.to_str() else {
            return Err(format!(
                "unexpected argument {}: put the command after `--`",
                arg.to_string_lossy()
            ));
        };
        if text == "--" {
            options.command = args[i..].to_vec();
            break;
        }
        let mut take_value = |name: &str, attached: &str| -> Result<String, String> {
            if !attached.is_empty() {
                return Ok(attached.to_owned());
            }
            let value = args
                .get(i)
                .and_then(|v| v.to_str())
                .ok_or_else(|| format!("option {name} needs a value"))?;
            i += 1;
            Ok(value.to_owned())
        };
        if let Some(long) = text.strip_prefix("--") {
            let (name, attached) = long.split_once('=').unwrap_or((long, ""));
            match name {
                "kill-process-group" => options.kill_process_group = true,
                "expect-exit" => {
                    options
                        .success_codes
                        .push(parse_code(&take_value("--expect-exit", attached)?)?);
                }
                "stop-timeout" => {
                    let value = take_value("--stop-timeout", attached)?;
                    options.stop_timeout = parse_duration(&value)
                        .map_err(|why| format!("--stop-timeout {value:?}: {why}"))?;
                }
                "parent-death-signal" => {
                    options.parent_death_signal = Some(parse_signal(&take_value(
                        "--parent-death-signal",
                        attached,
                    )?)?);
                }
                "subreaper" => {}
                "warn-on-reap" => options.warn_on_reap = true,
                "verbose" => verbosity = verbosity.saturating_add(1).min(3),
                "quiet" => verbosity = 0,
                "license" => return Ok(Request::Print(LICENSE)),
                "help" => return Ok(Request::Print(HELP)),
                "version" => return Ok(Request::Version),
                _ => return Err(format!("unknown option --{name}")),
            }
            continue;
        }
        let Some(cluster) = text.strip_prefix('-').filter(|c| !c.is_empty()) else {
            return Err(format!(
                "unexpected argument {text:?}: to run a program as the main process, \
                 write `bosun -- {text}`"
            ));
        };
        for (pos, flag) in cluster.char_indices() {
            let attached = &cluster[pos + flag.len_utf8()..];
            match flag {
                'g' => options.kill_process_group = true,
                's' => {}
                'w' => options.warn_on_reap = true,
                'v' => verbosity = verbosity.saturating_add(1).min(3),
                'q' => verbosity = 0,
                'l' => return Ok(Request::Print(LICENSE)),
                'h' => return Ok(Request::Print(HELP)),
                'V' => return Ok(Request::Version),
                'e' => {
                    options
                        .success_codes
                        .push(parse_code(&take_value("-e", attached)?)?);
                    break;
                }
                't' => {
                    let value = take_value("-t", attached)?;
                    options.stop_timeout =
                        parse_duration(&value).map_err(|why| format!("-t {value:?}: {why}"))?;
                    break;
                }
                'p' => {
                    options.parent_death_signal = Some(parse_signal(&take_value("-p", attached)?)?);
                    break;
                }
                _ => return Err(format!("unknown option -{flag}")),
            }
        }
    }
    let root = root(env)?;
    let log_format = log_format(env)?;
    options.volume = volume(env, &root, log_format)?;
    options.units = units(env, &root, log_format, options.volume.run_as)?;
    options.units_forced = match env("BOSUN_UNITS") {
        Some(v) => parse_flag("BOSUN_UNITS", &v)?,
        None => false,
    };
    if options.command.is_empty() && options.units.is_none() {
        return Err(
            "no command given and BOSUN_UNITS=off: nothing to run; write \
                    `bosun -- COMMAND [ARGS...]`"
                .to_owned(),
        );
    }
    Ok(Request::Run(Box::new(options), verbosity))
}

/// BOSUN_ROOT: where every configured path is looked up ("/" in a container).
fn root(env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf, String> {
    let root = PathBuf::from(env("BOSUN_ROOT").unwrap_or_else(|| "/".to_owned()));
    if !root.is_absolute() {
        return Err(format!(
            "BOSUN_ROOT={:?}: expected an absolute path",
            root.display()
        ));
    }
    Ok(root)
}

/// A size setting (BOSUN_LOG_RING, BOSUN_LOG_RING_TOTAL): `256K`, `16M`, as systemd writes
/// sizes.
fn size(env: &dyn Fn(&str) -> Option<String>, name: &str, default: usize) -> Result<usize, String> {
    match env(name) {
        Some(value) => {
            crate::vocab::size::parse_size(&value).map_err(|why| format!("{name}={why}"))
        }
        None => Ok(default),
    }
}

/// How output lines are shown: BOSUN_LOG_FORMAT and BOSUN_LOG_PREFIX.
fn log_format(env: &dyn Fn(&str) -> Option<String>) -> Result<Format, String> {
    let prefix = match env("BOSUN_LOG_PREFIX") {
        Some(v) => parse_flag("BOSUN_LOG_PREFIX", &v)?,
        None => true,
    };
    match env("BOSUN_LOG_FORMAT").as_deref().map(str::trim) {
        None | Some("" | "text") if prefix => Ok(Format::Prefixed),
        None | Some("" | "text") => Ok(Format::Bare),
        Some("json") => Ok(Format::Json),
        Some(other) => Err(format!("BOSUN_LOG_FORMAT={other:?}: expected text or json")),
    }
}

/// The data volume's setup: BOSUN_DATA_DIR, BOSUN_TEMPLATE_DIR, BOSUN_BUILD_ID_FILE,
/// BOSUN_HOOKS_DIR (absolute paths inside BOSUN_ROOT), BOSUN_RUN_AS (or PUID and PGID),
/// BOSUN_ALLOW_DOWNGRADE, BOSUN_ADOPT_DATA, BOSUN_RETRY_FIRST_BOOT and BOSUN_HOOK_TIMEOUT.
fn volume(
    env: &dyn Fn(&str) -> Option<String>,
    root: &Path,
    log_format: Format,
) -> Result<crate::boot::volume_phase::Setup, String> {
    let mut setup = crate::boot::volume_phase::Setup::new(root.to_owned());
    setup.log_format = log_format;
    for (name, field) in [
        ("BOSUN_DATA_DIR", &mut setup.data_dir),
        ("BOSUN_TEMPLATE_DIR", &mut setup.template_dir),
        ("BOSUN_BUILD_ID_FILE", &mut setup.build_id_file),
        ("BOSUN_HOOKS_DIR", &mut setup.hooks_dir),
    ] {
        if let Some(value) = env(name) {
            let path = PathBuf::from(&value);
            if !path.is_absolute() {
                return Err(format!(
                    "{name}={value:?}: expected an absolute path (inside BOSUN_ROOT)"
                ));
            }
            *field = path;
        }
    }
    for (name, field) in [
        ("BOSUN_ALLOW_DOWNGRADE", &mut setup.allow_downgrade),
        ("BOSUN_ADOPT_DATA", &mut setup.adopt_data),
        ("BOSUN_RETRY_FIRST_BOOT", &mut setup.retry_first_boot),
    ] {
        if let Some(value) = env(name) {
            *field = parse_flag(name, &value)?;
        }
    }
    setup.run_as = run_as(env)?;
    if let Some(value) = env("BOSUN_HOOK_TIMEOUT") {
        let timeout =
            parse_duration(&value).map_err(|why| format!("BOSUN_HOOK_TIMEOUT={value:?}: {why}"))?;
        // `infinity` (and 0, as systemd reads a zero timeout) means no timeout.
        setup.hook_timeout = Some(timeout).filter(|t| !t.is_zero() && *t != Duration::MAX);
    }
    Ok(setup)
}

/// BOSUN_RUN_AS=UID:GID, else the PUID/PGID convention (PGID defaults to PUID).
pub(crate) fn run_as(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<(u32, u32)>, String> {
    let id = |name: &str, value: &str| {
        value
            .trim()
            .parse::<u32>()
            .map_err(|_| format!("{name}={value:?}: expected a number"))
    };
    if let Some(value) = env("BOSUN_RUN_AS").filter(|v| !v.trim().is_empty()) {
        let (uid, gid) = value
            .split_once(':')
            .ok_or_else(|| format!("BOSUN_RUN_AS={value:?}: expected UID:GID as numbers"))?;
        return Ok(Some((id("BOSUN_RUN_AS", uid)?, id("BOSUN_RUN_AS", gid)?)));
    }
    match (env("PUID"), env("PGID")) {
        (Some(uid), gid) => {
            let uid_n = id("PUID", &uid)?;
            let gid_n = match gid {
                Some(gid) => id("PGID", &gid)?,
                None => uid_n,
            };
            Ok(Some((uid_n, gid_n)))
        }
        (None, Some(_)) => {
            Err("PGID is set without PUID: set both (or BOSUN_RUN_AS=UID:GID)".to_owned())
        }
        (None, None) => Ok(None),
    }
}

/// The units setup from BOSUN_UNITS and the BOSUN_WEBDAV_*, BOSUN_UNIT_PATH and
/// BOSUN_NOTIFY_SOCKET variables.
fn units(
    env: &dyn Fn(&str) -> Option<String>,
    root: &Path,
    log_format: Format,
    run_as: Option<(u32, u32)>,
) -> Result<Option<init::services::Units>, String> {
    if let Some(value) = env("BOSUN_UNITS")
        && !parse_flag("BOSUN_UNITS", &value)?
    {
        return Ok(None);
    }
    let var = |name: &str, default: &str| env(name).unwrap_or_else(|| default.to_owned());
    let webdav = init::services::WebdavSetup {
        realm: env("WEBDAV_AUTHENTICATION_REALM"),
        htdigest: var(
            "BOSUN_WEBDAV_HTDIGEST",
            "/opt/app-root/secrets/webdav/.htdigest",
        )
        .into(),
        root: var("BOSUN_WEBDAV_ROOT", "/opt/app-root/src").into(),
        listen: var("BOSUN_WEBDAV_LISTEN", "0.0.0.0:8081"),
        prefix: var("BOSUN_WEBDAV_PREFIX", "/webdav/"),
        user: env("BOSUN_WEBDAV_USER").filter(|u| !u.is_empty()),
    };
    // Like SYSTEMD_UNIT_PATH: colon-separated; a trailing ':' appends systemd's search path.
    let unit_path = env("BOSUN_UNIT_PATH").map(|text| {
        let mut dirs: Vec<std::path::PathBuf> = text
            .split(':')
            .filter(|d| !d.is_empty())
            .map(Into::into)
            .collect();
        if text.ends_with(':') {
            dirs.extend(crate::unit::load::BOOT_UNIT_PATH.iter().map(Into::into));
        }
        dirs
    });
    Ok(Some(init::services::Units {
        webdav,
        unit_path,
        root: root.to_owned(),
        log_format,
        log_ring: size(env, "BOSUN_LOG_RING", crate::journal::ring::RING_DEFAULT)?,
        log_ring_total: size(
            env,
            "BOSUN_LOG_RING_TOTAL",
            crate::journal::ring::RING_TOTAL_DEFAULT,
        )?,
        notify_address: env("BOSUN_NOTIFY_SOCKET")
            .unwrap_or_else(|| "/run/bosun/notify".to_owned()),
        run_as,
        systemd_compat: match env("BOSUN_SYSTEMD_COMPAT") {
            Some(v) => parse_flag("BOSUN_SYSTEMD_COMPAT", &v)?,
            None => true,
        },
        generators: match env("BOSUN_GENERATORS") {
            Some(v) => crate::unit::generators::Policy::parse(&v)
                .map_err(|why| format!("BOSUN_GENERATORS={v:?}: {why}"))?,
            None => crate::unit::generators::Policy::Auto,
        },
        generator_timeout: match env("BOSUN_GENERATOR_TIMEOUT") {
            Some(v) => {
                parse_duration(&v).map_err(|why| format!("BOSUN_GENERATOR_TIMEOUT={v:?}: {why}"))?
            }
            // systemd's DEFAULT_TIMEOUT_USEC, which it gives its generators.
            None => Duration::from_secs(90),
        },
    }))
}

fn parse_flag(name: &str, value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "on" => Ok(true),
        "0" | "no" | "false" | "off" | "" => Ok(false),
        _ => Err(format!("{name}={value:?}: expected 1 or 0")),
    }
}

fn parse_code(text: &str) -> Result<u8, String> {
    text.trim()
        .parse::<u8>()
        .map_err(|_| format!("exit code {text:?}: expected a number from 0 to 255"))
}

fn parse_signal(text: &str) -> Result<Signal, String> {
    crate::vocab::signal::parse(text)
        .and_then(|n| Signal::try_from(n).ok())
        .ok_or_else(|| format!("unknown signal {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn run(args: &[&str], env: &[(&str, &str)]) -> Result<(init::Options, u8), String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        match parse(&os(args), &lookup)? {
            Request::Run(options, verbosity) => Ok((*options, verbosity)),
            other => Err(format!("{other:?}")),
        }
    }

    #[test]
    fn tini_grammar() {
        let (o, v) = run(
            &["-gvv", "-e143", "-e", "3", "-s", "--", "cmd", "-e", "--"],
            &[],
        )
        .unwrap();
        assert!(o.kill_process_group);
        assert_eq!(v, 3);
        assert_eq!(o.success_codes, [143, 3]);
        assert_eq!(o.command, os(&["cmd", "-e", "--"]));
        let (o, _) = run(&["-p", "SIGKILL", "--", "x"], &[]).unwrap();
        assert_eq!(o.parent_death_signal, Some(Signal::SIGKILL));
    }

    #[test]
    fn environment_and_overrides() {
        let (o, v) = run(
            &["--", "x"],
            &[
                ("TINI_KILL_PROCESS_GROUP", "1"),
                ("BOSUN_STOP_TIMEOUT", "250ms"),
            ],
        )
        .unwrap();
        assert!(o.kill_process_group);
        assert_eq!(o.stop_timeout, Duration::from_millis(250));
        assert_eq!(v, 1);
        let (o, _) = run(
            &["--stop-timeout=2s", "--", "x"],
            &[("BOSUN_STOP_TIMEOUT", "9")],
        )
        .unwrap();
        assert_eq!(o.stop_timeout, Duration::from_secs(2));
    }

    #[test]
    fn errors_are_precise() {
        assert!(
            run(&["--", "x"], &[("BOSUN_STOP_TIMEOUT", "soon")])
                .unwrap_err()
                .contains("BOSUN_STOP_TIMEOUT")
        );
        assert!(
            run(&["-e", "256", "--", "x"], &[])
                .unwrap_err()
                .contains("0 to 255")
        );
        assert!(run(&["-x", "--", "x"], &[]).unwrap_err().contains("-x"));
        assert!(run(&["cmd"], &[]).unwrap_err().contains("bosun -- cmd"));
        assert!(
            run(&[], &[("BOSUN_UNITS", "off")])
                .unwrap_err()
                .contains("no command")
        );
        assert!(
            run(&[], &[]).is_ok(),
            "without a command, bosun boots the units"
        );
        assert!(
            run(&["--", "x"], &[("BOSUN_LOG_FORMAT", "xml")])
                .unwrap_err()
                .contains("text or json")
        );
        assert!(
            run(&["--", "x"], &[("BOSUN_ROOT", "rel")])
                .unwrap_err()
                .contains("absolute")
        );
        assert!(run(&["-e"], &[]).unwrap_err().contains("needs a value"));
    }

    #[test]
    fn volume_environment() {
        let (o, _) = run(&["--", "x"], &[]).unwrap();
        assert_eq!(o.volume, crate::boot::volume_phase::Setup::new("/".into()));
        let (o, _) = run(
            &["--", "x"],
            &[
                ("BOSUN_ROOT", "/scratch"),
                ("BOSUN_DATA_DIR", "/srv/data"),
                ("BOSUN_HOOKS_DIR", "/hooks"),
                ("BOSUN_RUN_AS", "1000:100"),
                ("BOSUN_ADOPT_DATA", "1"),
                ("BOSUN_RETRY_FIRST_BOOT", "yes"),
                ("BOSUN_HOOK_TIMEOUT", "20min"),
                ("BOSUN_LOG_FORMAT", "json"),
            ],
        )
        .unwrap();
        let v = &o.volume;
        assert_eq!(v.root, PathBuf::from("/scratch"));
        assert_eq!(v.host(&v.data_dir), PathBuf::from("/scratch/srv/data"));
        assert_eq!(v.hooks_dir, PathBuf::from("/hooks"));
        assert_eq!(v.template_dir, PathBuf::from("/data-template"));
        assert_eq!(v.run_as, Some((1000, 100)));
        assert_eq!(o.units.as_ref().unwrap().run_as, Some((1000, 100)));
        assert!(v.adopt_data && v.retry_first_boot && !v.allow_downgrade);
        assert_eq!(v.hook_timeout, Some(Duration::from_secs(1200)));
        assert_eq!(v.log_format, Format::Json);
        let (o, _) = run(&["--", "x"], &[("PUID", "1001"), ("PGID", "0")]).unwrap();
        assert_eq!(o.volume.run_as, Some((1001, 0)));
        let (o, _) = run(&["--", "x"], &[("PUID", "1001")]).unwrap();
        assert_eq!(o.volume.run_as, Some((1001, 1001)));
        // BOSUN_RUN_AS wins over PUID/PGID.
        let (o, _) = run(&["--", "x"], &[("PUID", "1"), ("BOSUN_RUN_AS", "2:3")]).unwrap();
        assert_eq!(o.volume.run_as, Some((2, 3)));
        let (o, _) = run(&["--", "x"], &[("BOSUN_HOOK_TIMEOUT", "infinity")]).unwrap();
        assert_eq!(o.volume.hook_timeout, None);
        for (name, value, says) in [
            ("BOSUN_DATA_DIR", "data", "absolute"),
            ("BOSUN_RUN_AS", "bob", "UID:GID"),
            ("BOSUN_RUN_AS", "1:x", "number"),
            ("PGID", "5", "without PUID"),
            ("BOSUN_ALLOW_DOWNGRADE", "maybe", "1 or 0"),
            ("BOSUN_HOOK_TIMEOUT", "soon", "BOSUN_HOOK_TIMEOUT"),
        ] {
            let err = run(&["--", "x"], &[(name, value)]).unwrap_err();
            assert!(err.contains(says), "{name}={value}: {err}");
        }
    }

    #[test]
    fn shutdown_timeout_defaults_to_90s_and_takes_infinity() {
        let (o, _) = run(&["--", "x"], &[]).unwrap();
        assert_eq!(o.shutdown_timeout, Duration::from_secs(90));
        let (o, _) = run(&["--", "x"], &[("BOSUN_SHUTDOWN_TIMEOUT", "2min")]).unwrap();
        assert_eq!(o.shutdown_timeout, Duration::from_secs(120));
        let (o, _) = run(&["--", "x"], &[("BOSUN_SHUTDOWN_TIMEOUT", "infinity")]).unwrap();
        assert_eq!(o.shutdown_timeout, Duration::MAX);
        let err = run(&["--", "x"], &[("BOSUN_SHUTDOWN_TIMEOUT", "soon")]).unwrap_err();
        assert!(err.contains("BOSUN_SHUTDOWN_TIMEOUT=\"soon\""), "{err}");
    }
}
