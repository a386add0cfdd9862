//! initctl's command line, read by hand (no clap: the binary's size matters): a verb, its
//! arguments, and options before or after the verb (`--lines=5`, `--lines 5`, `-n5`, `-n 5`,
//! clustered flags `-af`, `--` ending options). An option the verb has no use for is refused,
//! never ignored. Parsing only: nothing here touches the control socket.

/// The job verbs initctl passes to bosun as systemctl would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobWord {
    Start,
    Stop,
    Restart,
    Reload,
}

impl JobWord {
    /// The verb as typed (and as systemctl names it).
    pub fn word(self) -> &'static str {
        match self {
            JobWord::Start => "start",
            JobWord::Stop => "stop",
            JobWord::Restart => "restart",
            JobWord::Reload => "reload",
        }
    }
}

/// How many log lines to show first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// The last N.
    Last(usize),
    /// Every line bosun still keeps (`-n all`).
    All,
}

/// The default of `-n`: as journalctl shows with `-f` and `systemctl status` shows.
pub const DEFAULT_LINES: usize = 10;

/// What initctl is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `status`: bosun's header and the units table; `status UNIT...`: those units.
    Status {
        units: Vec<String>,
        all: bool,
        lines: Lines,
    },
    /// `logs [-f] [-n N] [UNIT]`.
    Logs {
        unit: Option<String>,
        lines: Lines,
        follow: bool,
        /// `-a`/`--all`: lines with control characters or invalid UTF-8 as they are, not as
        /// `[N blob data]`.
        all: bool,
    },
    /// `logs --boot[=N] [-n N] [UNIT]`: run N's lines from the persistent journal (0 the
    /// newest run, -1 the one before; 1 the oldest kept), read from its files.
    Persisted {
        unit: Option<String>,
        lines: Lines,
        boot: i64,
        all: bool,
    },
    /// `logs --list-boots`: the runs the persistent journal holds.
    ListBoots,
    /// `is-ready`.
    IsReady,
    /// `verify [UNIT|PATH...]`.
    Verify {
        targets: Vec<String>,
    },
    /// `start|stop|restart|reload UNIT...`.
    Job {
        verb: JobWord,
        units: Vec<String>,
    },
    /// `diff [OPTIONS]`: `bosun image diff`'s own arguments, passed on as given.
    Diff {
        args: Vec<String>,
    },
    Help,
    Version,
}

/// One parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub command: Command,
    /// `--json`: one JSON document on stdout (JSON lines for `logs`).
    pub json: bool,
}

/// Why the command line is refused (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The options, as read before the verb is known to check they apply.
#[derive(Debug, Default)]
struct Seen {
    json: bool,
    all: bool,
    follow: bool,
    lines: Option<Lines>,
    /// `--boot[=N]`, `-b [N]`.
    boot: Option<i64>,
    list_boots: bool,
    help: bool,
    version: bool,
    /// The options given, as typed, for "does not apply" messages: (name, verbs it applies to).
    given: Vec<(String, &'static [&'static str])>,
}

const JSON_VERBS: &[&str] = &["status", "logs", "is-ready"];
const ALL_VERBS: &[&str] = &["status", "logs"];
const FOLLOW_VERBS: &[&str] = &["logs"];
const LINES_VERBS: &[&str] = &["status", "logs"];
const BOOT_VERBS: &[&str] = &["logs"];

/// Read the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Invocation, UsageError> {
    let mut seen = Seen::default();
    let mut words: Vec<String> = Vec::new();
    let mut i = 0;
    let mut only_words = false;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        // `diff` takes `bosun image diff`'s options: everything after it is its own.
        if words.first().is_some_and(|w| w == "diff") {
            words.push(arg.clone());
            continue;
        }
        if only_words || arg == "-" || !arg.starts_with('-') {
            words.push(arg.clone());
            continue;
        }
        if arg == "--" {
            only_words = true;
            continue;
        }
        if let Some(body) = arg.strip_prefix("--") {
            let (name, attached) = match body.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (body, None),
            };
            let flag = |seen: &mut Seen, verbs: &'static [&'static str]| {
                if attached.is_some() {
                    return Err(UsageError(format!("option --{name} does not take a value")));
                }
                seen.given.push((format!("--{name}"), verbs));
                Ok(())
            };
            match name {
                "json" => {
                    flag(&mut seen, JSON_VERBS)?;
                    seen.json = true;
                }
                "all" => {
                    flag(&mut seen, ALL_VERBS)?;
                    seen.all = true;
                }
                "follow" => {
                    flag(&mut seen, FOLLOW_VERBS)?;
                    seen.follow = true;
                }
                "help" => seen.help = true,
                "version" => seen.version = true,
                "list-boots" => {
                    flag(&mut seen, BOOT_VERBS)?;
                    seen.list_boots = true;
                }
                "boot" => {
                    seen.boot = Some(match attached {
                        Some(v) => boot_of(&v)?,
                        None => optional_boot(args, &mut i),
                    });
                    seen.given.push(("--boot".to_owned(), BOOT_VERBS));
                }
                "lines" => {
                    let value = match attached {
                        Some(v) => v,
                        None => next_value(args, &mut i, "--lines")?,
                    };
                    seen.lines = Some(lines_of(&value)?);
                    seen.given.push(("--lines".to_owned(), LINES_VERBS));
                }
                _ => return Err(UsageError(format!("unknown option --{name}"))),
            }
            continue;
        }
        let cluster: Vec<char> = arg[1..].chars().collect();
        let mut k = 0;
        while k < cluster.len() {
            let c = cluster[k];
            k += 1;
            match c {
                'a' => {
                    seen.all = true;
                    seen.given.push(("-a".to_owned(), ALL_VERBS));
                }
                'f' => {
                    seen.follow = true;
                    seen.given.push(("-f".to_owned(), FOLLOW_VERBS));
                }
                'h' => seen.help = true,
                'b' => {
                    seen.boot = Some(if k < cluster.len() {
                        let v: String = cluster[k..].iter().collect();
                        k = cluster.len();
                        boot_of(&v)?
                    } else {
                        optional_boot(args, &mut i)
                    });
                    seen.given.push(("-b".to_owned(), BOOT_VERBS));
                }
                'n' => {
                    let value = if k < cluster.len() {
                        let v: String = cluster[k..].iter().collect();
                        k = cluster.len();
                        v
                    } else {
                        next_value(args, &mut i, "-n")?
                    };
                    seen.lines = Some(lines_of(&value)?);
                    seen.given.push(("-n".to_owned(), LINES_VERBS));
                }
                _ => return Err(UsageError(format!("unknown option -{c}"))),
            }
        }
    }
    if seen.help {
        return Ok(Invocation {
            command: Command::Help,
            json: false,
        });
    }
    if seen.version {
        return Ok(Invocation {
            command: Command::Version,
            json: false,
        });
    }
    let mut words = words.into_iter();
    // No verb: the overview, as `systemctl` alone lists units.
    let verb = words.next().unwrap_or_else(|| "status".to_owned());
    let rest: Vec<String> = words.collect();
    for (option, verbs) in &seen.given {
        if !verbs.contains(&verb.as_str()) {
            return Err(UsageError(format!(
                "option {option} does not apply to {verb}"
            )));
        }
    }
    let lines = seen.lines.unwrap_or(Lines::Last(DEFAULT_LINES));
    let command = match verb.as_str() {
        // --all picks rows of the table; -n picks the log lines of the units named.
        "status" if seen.all && !rest.is_empty() => {
            return Err(UsageError(
                "option --all applies to status without units".to_owned(),
            ));
        }
        "status" if seen.lines.is_some() && rest.is_empty() => {
            return Err(UsageError(
                "option -n applies to status UNIT (and logs)".to_owned(),
            ));
        }
        "status" => Command::Status {
            units: rest,
            all: seen.all,
            lines,
        },
        "logs" => {
            if rest.len() > 1 {
                return Err(UsageError(format!(
                    "logs takes at most one unit, not {}",
                    rest.len()
                )));
            }
            match (seen.list_boots, seen.boot) {
                (true, _) if !rest.is_empty() || seen.boot.is_some() => {
                    return Err(UsageError(
                        "option --list-boots takes no unit and no --boot".to_owned(),
                    ));
                }
                (true, _) => Command::ListBoots,
                (false, Some(_)) if seen.follow => {
                    return Err(UsageError(
                        "option --boot reads the persistent journal, which -f cannot follow: \
                         without --boot, logs -f follows the running bosun"
                            .to_owned(),
                    ));
                }
                (false, Some(boot)) => Command::Persisted {
                    unit: rest.into_iter().next(),
                    lines,
                    boot,
                    all: seen.all,
                },
                (false, None) => Command::Logs {
                    unit: rest.into_iter().next(),
                    lines,
                    follow: seen.follow,
                    all: seen.all,
                },
            }
        }
        "is-ready" => {
            no_arguments(&verb, &rest)?;
            Command::IsReady
        }
        "verify" => Command::Verify { targets: rest },
        "diff" => Command::Diff { args: rest },
        "start" | "stop" | "restart" | "reload" => {
            let verb = match verb.as_str() {
                "start" => JobWord::Start,
                "stop" => JobWord::Stop,
                "restart" => JobWord::Restart,
                _ => JobWord::Reload,
            };
            if rest.is_empty() {
                return Err(UsageError(format!("{} needs a unit name", verb.word())));
            }
            Command::Job { verb, units: rest }
        }
        "help" => Command::Help,
        other => {
            return Err(UsageError(format!(
                "unknown command {other:?}: expected status, logs, is-ready, verify, diff, \
                 start, stop, restart or reload"
            )));
        }
    };
    Ok(Invocation {
        command,
        json: seen.json,
    })
}

fn next_value(args: &[String], i: &mut usize, option: &str) -> Result<String, UsageError> {
    let value = args
        .get(*i)
        .cloned()
        .ok_or_else(|| UsageError(format!("option {option} needs a value")))?;
    *i += 1;
    Ok(value)
}

/// A run's offset, as journalctl's `-b`: `0`, `-1`, `1`...
fn boot_of(value: &str) -> Result<i64, UsageError> {
    value.trim().parse().map_err(|_| {
        UsageError(format!(
            "--boot {value:?}: expected a run's offset (0 the newest, -1 the one before)"
        ))
    })
}

/// `--boot`'s value when the next argument is one (journalctl's optional argument), else 0.
fn optional_boot(args: &[String], i: &mut usize) -> i64 {
    match args.get(*i).and_then(|a| a.parse().ok()) {
        Some(offset) => {
            *i += 1;
            offset
        }
        None => 0,
    }
}

fn lines_of(value: &str) -> Result<Lines, UsageError> {
    if value == "all" {
        return Ok(Lines::All);
    }
    value.parse().map(Lines::Last).map_err(|_| {
        UsageError(format!(
            "-n {value:?}: expected a number of lines or \"all\""
        ))
    })
}

fn no_arguments(verb: &str, rest: &[String]) -> Result<(), UsageError> {
    match rest.first() {
        Some(extra) => Err(UsageError(format!(
            "{verb} takes no arguments, got {extra:?}"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Invocation, UsageError> {
        parse(&args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>())
    }

    fn command(args: &[&str]) -> Command {
        run(args).unwrap().command
    }

    #[test]
    fn verbs_and_their_arguments() {
        assert_eq!(
            command(&[]),
            Command::Status {
                units: vec![],
                all: false,
                lines: Lines::Last(10)
            }
        );
        assert_eq!(
            command(&["status", "web", "-n", "3"]),
            Command::Status {
                units: vec!["web".into()],
                all: false,
                lines: Lines::Last(3)
            }
        );
        assert_eq!(
            command(&["-f", "logs", "--lines=all", "web"]),
            Command::Logs {
                unit: Some("web".into()),
                lines: Lines::All,
                follow: true,
                all: false
            }
        );
        assert_eq!(
            command(&["logs", "-fn0"]),
            Command::Logs {
                unit: None,
                lines: Lines::Last(0),
                follow: true,
                all: false
            }
        );
        assert_eq!(
            command(&["logs", "--boot", "-1", "-n", "5", "web"]),
            Command::Persisted {
                unit: Some("web".into()),
                lines: Lines::Last(5),
                boot: -1,
                all: false
            }
        );
        assert_eq!(
            command(&["logs", "-b", "web"]),
            Command::Persisted {
                unit: Some("web".into()),
                lines: Lines::Last(10),
                boot: 0,
                all: false
            }
        );
        assert_eq!(
            command(&["logs", "--boot=2"]),
            Command::Persisted {
                unit: None,
                lines: Lines::Last(10),
                boot: 2,
                all: false
            }
        );
        assert_eq!(command(&["logs", "--list-boots"]), Command::ListBoots);
        assert_eq!(
            command(&["logs", "-a", "web"]),
            Command::Logs {
                unit: Some("web".into()),
                lines: Lines::Last(10),
                follow: false,
                all: true
            }
        );
        assert_eq!(
            command(&["restart", "a", "b"]),
            Command::Job {
                verb: JobWord::Restart,
                units: vec!["a".into(), "b".into()]
            }
        );
        assert_eq!(
            command(&["verify", "--", "-odd.service"]),
            Command::Verify {
                targets: vec!["-odd.service".into()]
            }
        );
        // diff's options are `bosun image diff`'s, passed on untouched.
        assert_eq!(
            command(&["diff", "--data", "/d", "-h"]),
            Command::Diff {
                args: vec!["--data".into(), "/d".into(), "-h".into()]
            }
        );
        assert!(run(&["--json", "is-ready"]).unwrap().json);
        assert!(!run(&["is-ready"]).unwrap().json);
        assert_eq!(command(&["status", "--help"]), Command::Help);
        assert_eq!(command(&["--version"]), Command::Version);
    }

    #[test]
    fn mistakes_are_refused_with_what_is_wrong() {
        for (args, message) in [
            (&["frob"][..], "unknown command \"frob\""),
            (&["status", "--frob"], "unknown option --frob"),
            (&["status", "-x"], "unknown option -x"),
            (&["start"], "start needs a unit name"),
            (&["logs", "-f", "a", "b"], "logs takes at most one unit"),
            (&["status", "-f"], "option -f does not apply to status"),
            (
                &["start", "--json", "web"],
                "option --json does not apply to start",
            ),
            (
                &["is-ready", "--all"],
                "option --all does not apply to is-ready",
            ),
            (&["logs", "-n"], "option -n needs a value"),
            (&["logs", "-f", "--boot", "-1"], "-f cannot follow"),
            (&["logs", "--boot=x"], "expected a run's offset"),
            (&["logs", "--list-boots", "web"], "takes no unit"),
            (
                &["status", "--boot"],
                "option --boot does not apply to status",
            ),
            (&["logs", "-n", "many"], "expected a number of lines"),
            (&["is-ready", "now"], "is-ready takes no arguments"),
            (
                &["status", "-a", "web"],
                "--all applies to status without units",
            ),
            (&["status", "-n", "3"], "-n applies to status UNIT"),
            (&["--json=yes", "status"], "--json does not take a value"),
        ] {
            let err = run(args).unwrap_err().0;
            assert!(err.contains(message), "{args:?}: {err}");
        }
    }
}
