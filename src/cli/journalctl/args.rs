//! journalctl's command line as systemd 252's parse_argv() reads it (getopt_long with
//! "hefo:aln::qmb::kD:p:g:c:S:U:t:u:NF:xrM:"): clustered short options, `--long[=value]` and
//! unique prefixes, the optional arguments of `-n` and `-b` taken from the next word when it
//! parses, and the checks made after the options. Options bosun's journal cannot honour are
//! refused by name, never accepted and ignored. Parsing only.

use super::output::{MODES, Mode};
use super::time::parse_timestamp;

/// How many lines (`-n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// Not given: all, or 10 with `-f`, or 1000 with `-e`.
    Default,
    All,
    Last(usize),
}

/// `-b`: which boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boot {
    /// A boot ID, 32 hex digits, when one was given.
    pub id: Option<String>,
    /// The offset: 0 the current boot (or the boot named), -1 the one before, 1 the first.
    pub offset: i32,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub units: Vec<String>,
    pub identifiers: Vec<String>,
    /// Bit N: priority N wanted.
    pub priorities: Option<u8>,
    /// Microseconds since the epoch.
    pub since: Option<u64>,
    pub until: Option<u64>,
    pub lines: Lines,
    pub follow: bool,
    pub reverse: bool,
    pub boot: Option<Boot>,
    pub list_boots: bool,
    pub kernel: bool,
    pub output: Mode,
    pub output_fields: Option<Vec<String>>,
    pub all: bool,
    pub quiet: bool,
    pub no_hostname: bool,
    /// Unit name notices ("Invalid unit name ... escaped as ...") to print before running.
    pub notices: Vec<String>,
}

/// What parsing gave: a query to run, or text to print and exit 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Run(Box<Args>),
    Print(String),
}

/// Why the command line is refused: the message (exit status 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

fn usage<T>(text: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(text.into()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HasArg {
    No,
    Required,
    Optional,
}

/// systemd 252's long options bosun knows (those it refuses included, so they are named in
/// the refusal), with their short equivalents.
const LONG: [(&str, HasArg, Option<char>); 65] = [
    ("help", HasArg::No, Some('h')),
    ("version", HasArg::No, None),
    ("no-pager", HasArg::No, None),
    ("pager-end", HasArg::No, Some('e')),
    ("follow", HasArg::No, Some('f')),
    ("force", HasArg::No, None),
    ("output", HasArg::Required, Some('o')),
    ("all", HasArg::No, Some('a')),
    ("full", HasArg::No, Some('l')),
    ("no-full", HasArg::No, None),
    ("lines", HasArg::Optional, Some('n')),
    ("no-tail", HasArg::No, None),
    ("quiet", HasArg::No, Some('q')),
    ("merge", HasArg::No, Some('m')),
    ("this-boot", HasArg::No, None),
    ("boot", HasArg::Optional, Some('b')),
    ("list-boots", HasArg::No, None),
    ("dmesg", HasArg::No, Some('k')),
    ("system", HasArg::No, None),
    ("user", HasArg::No, None),
    ("directory", HasArg::Required, Some('D')),
    ("file", HasArg::Required, None),
    ("root", HasArg::Required, None),
    ("header", HasArg::No, None),
    ("identifier", HasArg::Required, Some('t')),
    ("priority", HasArg::Required, Some('p')),
    ("facility", HasArg::Required, None),
    ("grep", HasArg::Required, Some('g')),
    ("setup-keys", HasArg::No, None),
    ("verify", HasArg::No, None),
    ("disk-usage", HasArg::No, None),
    ("cursor", HasArg::Required, Some('c')),
    ("after-cursor", HasArg::Required, None),
    ("show-cursor", HasArg::No, None),
    ("since", HasArg::Required, Some('S')),
    ("until", HasArg::Required, Some('U')),
    ("unit", HasArg::Required, Some('u')),
    ("user-unit", HasArg::Required, None),
    ("field", HasArg::Required, Some('F')),
    ("fields", HasArg::No, Some('N')),
    ("catalog", HasArg::No, Some('x')),
    ("list-catalog", HasArg::No, None),
    ("reverse", HasArg::No, Some('r')),
    ("machine", HasArg::Required, Some('M')),
    ("utc", HasArg::No, None),
    ("flush", HasArg::No, None),
    ("sync", HasArg::No, None),
    ("rotate", HasArg::No, None),
    ("vacuum-size", HasArg::Required, None),
    ("no-hostname", HasArg::No, None),
    ("output-fields", HasArg::Required, None),
    ("namespace", HasArg::Required, None),
    ("new-id128", HasArg::No, None),
    ("image", HasArg::Required, None),
    ("image-policy", HasArg::Required, None),
    ("case-sensitive", HasArg::Optional, None),
    ("interval", HasArg::Required, None),
    ("verify-key", HasArg::Required, None),
    ("cursor-file", HasArg::Required, None),
    ("dump-catalog", HasArg::No, None),
    ("update-catalog", HasArg::No, None),
    ("relinquish-var", HasArg::No, None),
    ("smart-relinquish-var", HasArg::No, None),
    ("vacuum-files", HasArg::Required, None),
    ("vacuum-time", HasArg::Required, None),
];

/// The short options and their arguments.
fn short(c: char) -> Option<HasArg> {
    match c {
        'h' | 'e' | 'f' | 'a' | 'l' | 'q' | 'm' | 'k' | 'N' | 'x' | 'r' => Some(HasArg::No),
        'o' | 'D' | 'p' | 'g' | 'c' | 'S' | 'U' | 't' | 'u' | 'F' | 'M' => Some(HasArg::Required),
        'n' | 'b' => Some(HasArg::Optional),
        _ => None,
    }
}

/// log_level_from_string(): a name or a number 0-7.
fn level(text: &str) -> Option<u8> {
    const NAMES: [&str; 8] = [
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
    ];
    if let Some(n) = NAMES.iter().position(|n| *n == text) {
        return u8::try_from(n).ok();
    }
    text.parse::<u8>().ok().filter(|n| *n <= 7)
}

/// `-p`: one level (it and the more important ones) or a range `FROM..TO`, as a mask.
fn priorities(text: &str) -> Result<u8, UsageError> {
    let bits = |a: u8, b: u8| (a.min(b)..=a.max(b)).fold(0u8, |m, i| m | 1 << i);
    match text.split_once("..") {
        Some((from, to)) => match (level(from), level(to)) {
            (Some(a), Some(b)) => Ok(bits(a, b)),
            _ => usage(format!("Failed to parse log level range {text}")),
        },
        None => match level(text) {
            Some(p) => Ok(bits(0, p)),
            None => usage(format!("Unknown log level {text}")),
        },
    }
}

/// parse_boot_descriptor(): `all` (no boot match: None), an offset, or an ID with an
/// optional offset.
fn boot(text: &str) -> Option<Option<Boot>> {
    if text == "all" {
        return Some(None);
    }
    let (id, rest) = if text.len() >= 32 && text[..32].chars().all(|c| c.is_ascii_hexdigit()) {
        (Some(text[..32].to_ascii_lowercase()), &text[32..])
    } else {
        (None, text)
    };
    if id.is_some() && !(rest.is_empty() || rest.starts_with(['-', '+'])) {
        return None;
    }
    let offset = if rest.is_empty() {
        0
    } else {
        rest.parse::<i32>().ok()?
    };
    Some(Some(Boot { id, offset }))
}

/// A count for `-n`: a number or `all`.
fn count(text: &str) -> Option<Lines> {
    if text == "all" {
        return Some(Lines::All);
    }
    text.parse::<usize>().ok().map(Lines::Last)
}

/// journalctl's `--help`.
pub fn help(prog: &str) -> String {
    let modes: Vec<&str> = MODES.iter().map(|(n, _)| *n).collect();
    format!(
        "{prog} [OPTIONS...] [MATCHES...]

Query the journal bosun keeps (systemd 252 compatible): this boot's in PID 1's memory,
earlier ones on the data volume when log.persist is on.

Filtering Options:
  -S --since=DATE            Show entries not older than the specified date
  -U --until=DATE            Show entries not newer than the specified date
  -b --boot[=ID]             Show current boot or the specified boot
  -u --unit=UNIT             Show logs from the specified unit
  -t --identifier=STRING     Show entries with the specified syslog identifier
  -p --priority=RANGE        Show entries with the specified priority
  -k --dmesg                 Show kernel message log (bosun keeps none)

Output Control Options:
  -o --output=STRING         Change journal output mode ({})
     --output-fields=LIST    Select fields to print in verbose/export/json modes
  -n --lines[=INTEGER]       Number of journal entries to show
  -r --reverse               Show the newest entries first
     --utc                   Express time in Coordinated Universal Time (UTC)
  -x --catalog               Add message explanations where available
     --no-hostname           Suppress output of hostname field
  -a --all                   Show all fields, including long and unprintable
  -f --follow                Follow the journal
     --no-tail               Show all lines, even in follow mode
  -q --quiet                 Do not show info messages and privilege warning

Pager Control Options:
     --no-pager              Do not pipe output into a pager (bosun never pages)
  -e --pager-end             Show the last 1000 entries (bosun never pages)

Commands:
  -h --help                  Show this help text
     --version               Show package version
     --list-boots            Show terse information about recorded boots

Matches: _SYSTEMD_UNIT=UNIT, SYSLOG_IDENTIFIER=ID, PRIORITY=N.
See bosun's README (\"journalctl\") for what differs from systemd.
",
        modes.join(", ")
    )
}

/// The state of a parse.
struct Parser<'a> {
    prog: &'a str,
    now_us: u64,
    args: Args,
    /// `--no-tail`.
    no_tail: bool,
    pager_end: bool,
}

/// Read journalctl's command line (`args` without `argv[0]`); `now_us` anchors relative
/// times.
pub fn parse(prog: &str, args: &[String], now_us: u64) -> Result<Parsed, UsageError> {
    let mut p = Parser {
        prog,
        now_us,
        args: Args {
            units: Vec::new(),
            identifiers: Vec::new(),
            priorities: None,
            since: None,
            until: None,
            lines: Lines::Default,
            follow: false,
            reverse: false,
            boot: None,
            list_boots: false,
            kernel: false,
            output: Mode::Short,
            output_fields: None,
            all: false,
            quiet: false,
            no_hostname: false,
            notices: Vec::new(),
        },
        no_tail: false,
        pager_end: false,
    };
    let mut positional = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            positional.extend(args[i..].iter().cloned());
            break;
        }
        if arg == "-" || !arg.starts_with('-') {
            positional.push(arg.clone());
            continue;
        }
        if let Some(body) = arg.strip_prefix("--") {
            let attached = body.split_once('=').map(|(_, v)| v.to_owned());
            let (long, has_arg) = p.long(body)?;
            let value = match (has_arg, attached) {
                (HasArg::No, Some(_)) => {
                    return usage(format!(
                        "{}: option '--{long}' doesn't allow an argument",
                        p.prog
                    ));
                }
                (HasArg::Required, None) if i < args.len() => {
                    i += 1;
                    Some(args[i - 1].clone())
                }
                (HasArg::Required, None) => {
                    return usage(format!(
                        "{}: option '--{long}' requires an argument",
                        p.prog
                    ));
                }
                (_, v) => v,
            };
            if let Some(text) = p.apply(long, value, args, &mut i)? {
                return Ok(Parsed::Print(text));
            }
            continue;
        }
        let cluster: Vec<char> = arg[1..].chars().collect();
        let mut k = 0;
        while k < cluster.len() {
            let c = cluster[k];
            k += 1;
            let Some(has_arg) = short(c) else {
                return usage(format!("{}: invalid option -- '{c}'", p.prog));
            };
            let attached: Option<String> =
                (k < cluster.len()).then(|| cluster[k..].iter().collect());
            let value = match has_arg {
                HasArg::No => None,
                _ if attached.is_some() => {
                    k = cluster.len();
                    attached
                }
                HasArg::Required if i < args.len() => {
                    i += 1;
                    Some(args[i - 1].clone())
                }
                HasArg::Required => {
                    return usage(format!("{}: option requires an argument -- '{c}'", p.prog));
                }
                HasArg::Optional => None,
            };
            let long = LONG
                .iter()
                .find(|(_, _, s)| *s == Some(c))
                .map_or("", |(l, _, _)| *l);
            if let Some(text) = p.apply(long, value, args, &mut i)? {
                return Ok(Parsed::Print(text));
            }
        }
    }
    p.finish(positional)
}

impl Parser<'_> {
    /// getopt_long's matching: exact, else a unique prefix.
    fn long(&self, body: &str) -> Result<(&'static str, HasArg), UsageError> {
        let (l, h, _) =
            crate::cli::systemctl::args::find_long(self.prog, &LONG, |(l, _, _)| l, body)
                .map_err(UsageError)?;
        Ok((l, *h))
    }

    /// Apply one option; `Some(text)` to print instead of running. `args`/`i`: the words
    /// after it, for the optional arguments of `-n` and `-b` given as the next word.
    fn apply(
        &mut self,
        long: &str,
        value: Option<String>,
        args: &[String],
        i: &mut usize,
    ) -> Result<Option<String>, UsageError> {
        let a = &mut self.args;
        let v = value.clone().unwrap_or_default();
        let time = |what: &str| {
            parse_timestamp(what, self.now_us)
                .ok_or_else(|| UsageError(format!("Failed to parse timestamp: {what}")))
        };
        match long {
            "help" => return Ok(Some(help(self.prog))),
            "version" => return Ok(Some(crate::cli::systemctl::version_text())),
            // bosun never starts a pager; `-e` keeps its other effect, -n 1000.
            "no-pager" | "full" | "system" | "utc" | "catalog" | "merge" => {}
            "pager-end" => self.pager_end = true,
            "follow" => a.follow = true,
            "output" if v == "help" => {
                let names: Vec<&str> = MODES.iter().map(|(n, _)| *n).collect();
                return Ok(Some(format!("{}\n", names.join("\n"))));
            }
            "output" => {
                a.output = Mode::parse(&v)
                    .ok_or_else(|| UsageError(format!("Unknown output format '{v}'.")))?;
                if a.output.for_programs() {
                    a.quiet = true;
                }
            }
            "all" => a.all = true,
            "lines" => match value {
                Some(text) => {
                    a.lines = count(&text)
                        .ok_or_else(|| UsageError(format!("Failed to parse lines '{text}'")))?;
                }
                None => {
                    a.lines = Lines::Last(10);
                    if let Some(next) = args.get(*i).and_then(|w| count(w)) {
                        a.lines = next;
                        *i += 1;
                    }
                }
            },
            "no-tail" => self.no_tail = true,
            "quiet" => a.quiet = true,
            "this-boot" => {
                a.boot = Some(Boot {
                    id: None,
                    offset: 0,
                });
            }
            "boot" => match value {
                Some(text) => {
                    a.boot = boot(&text).ok_or_else(|| {
                        UsageError(format!("Failed to parse boot descriptor '{text}'"))
                    })?;
                }
                None => {
                    a.boot = Some(Boot {
                        id: None,
                        offset: 0,
                    });
                    if let Some(next) = args.get(*i).and_then(|w| boot(w)) {
                        a.boot = next;
                        *i += 1;
                    }
                }
            },
            "list-boots" => a.list_boots = true,
            "dmesg" => {
                a.kernel = true;
                a.boot.get_or_insert(Boot {
                    id: None,
                    offset: 0,
                });
            }
            "identifier" => a.identifiers.push(v),
            "priority" => a.priorities = Some(priorities(&v)?),
            "since" => a.since = Some(time(&v)?),
            "until" => a.until = Some(time(&v)?),
            "unit" => {
                // unit_name_mangle(UNIT_NAME_MANGLE_GLOB | WARN): `web` is web.service, a
                // glob stays one.
                let mangled = crate::cli::systemctl::mangle::mangle(&v, None, true, ".service")
                    .ok_or_else(|| {
                        UsageError("Failed to add filter for units: Invalid argument".into())
                    })?;
                if let Some(notice) = mangled.notice {
                    a.notices.push(notice);
                }
                a.units.push(mangled.name);
            }
            "reverse" => a.reverse = true,
            "no-hostname" => a.no_hostname = true,
            "output-fields" => {
                a.output_fields
                    .get_or_insert_with(Vec::new)
                    .extend(v.split(',').filter(|f| !f.is_empty()).map(str::to_owned));
            }
            other => {
                return usage(format!(
                    "--{other}: not supported by bosun's journalctl (bosun keeps its journal \
                     in PID 1's memory, read over the control socket; see bosun's README, \
                     \"journalctl\")"
                ));
            }
        }
        Ok(None)
    }

    /// The checks parse_argv() makes after the options, and the matches.
    fn finish(mut self, positional: Vec<String>) -> Result<Parsed, UsageError> {
        for word in positional {
            self.add_match(&word)?;
        }
        let a = &mut self.args;
        // unit_name_mangle() warns only when not quiet.
        if a.quiet {
            a.notices.clear();
        }
        if self.pager_end && a.lines == Lines::Default {
            a.lines = Lines::Last(1000);
        }
        if self.no_tail {
            a.lines = Lines::All;
        }
        if a.follow && a.since.is_none() && a.lines == Lines::Default {
            a.lines = Lines::Last(10);
        }
        if let (Some(s), Some(u)) = (a.since, a.until)
            && s > u
        {
            return usage("--since= must be before --until=.");
        }
        if a.follow && a.reverse {
            return usage("Please specify either --reverse= or --follow=, not both.");
        }
        Ok(Parsed::Run(Box::new(self.args)))
    }

    /// A `FIELD=VALUE` match: those bosun's journal keeps (_SYSTEMD_UNIT, SYSLOG_IDENTIFIER,
    /// PRIORITY); matches of one field are alternatives, of different fields all hold, as
    /// journalctl combines them.
    fn add_match(&mut self, word: &str) -> Result<(), UsageError> {
        let a = &mut self.args;
        match word.split_once('=') {
            Some(("_SYSTEMD_UNIT", unit)) => a.units.push(unit.to_owned()),
            Some(("SYSLOG_IDENTIFIER", id)) => a.identifiers.push(id.to_owned()),
            Some(("PRIORITY", p)) => {
                let p = level(p).ok_or_else(|| {
                    UsageError(format!("Failed to add match '{word}': Invalid argument"))
                })?;
                a.priorities = Some(a.priorities.unwrap_or(0) | 1 << p);
            }
            _ => {
                return usage(format!(
                    "Failed to add match '{word}': bosun's journal matches _SYSTEMD_UNIT=, \
                     SYSLOG_IDENTIFIER= and PRIORITY= only"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
