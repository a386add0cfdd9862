//! `bosun [OPTIONS] -- COMMAND [ARGS...]`: the tini-compatible command line, parsed by hand so
//! that tini's grammar (clustered short flags, `-e143`, `--`) is accepted exactly, and turned
//! into [`crate::init::Options`]. Environment variables fill what the command line leaves out.

use std::ffi::OsString;

use nix::sys::signal::Signal;

use crate::config::{log_format, parse_duration, parse_flag, root, settings, units, volume};
use crate::init;
use crate::vocab::exit::Exit;

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
    // PID 1's own child, not a user's command: the persistent journal's writer.
    if args.first().is_some_and(|a| a == "persist-journal") {
        return crate::journal::persist::run_writer(&args[1..]);
    }
    // PID 1's own child too: the janitor that removes what stopped services leave.
    if args.first().is_some_and(|a| a == init::JANITOR) {
        return init::janitor();
    }
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
    // The settings first (environment over bosun.yaml); the command line overrides them.
    let pid1 = crate::config::supervision(env)?;
    let mut options = init::Options {
        command: Vec::new(),
        kill_process_group: pid1.kill_process_group,
        success_codes: Vec::new(),
        parent_death_signal: None,
        warn_on_reap: false,
        stop_timeout: pid1.stop_timeout,
        shutdown_timeout: pid1.shutdown_timeout,
        units: None,
        units_forced: false,
        volume: crate::config::VolumeSetup::new("/".into()),
    };
    let mut verbosity = pid1.verbosity;

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
    use crate::vocab::text::Format;
    use std::path::PathBuf;
    use std::time::Duration;

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
        assert_eq!(o.volume, crate::config::VolumeSetup::new("/".into()));
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
