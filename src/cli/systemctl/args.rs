//! systemctl's command line as systemd 252 reads it: getopt_long with GNU permutation
//! (options before or after the verb, `--opt=value` or `--opt value`, unambiguous prefixes of
//! long options, clustered short flags `-qa`, `--` ending options), the same error messages,
//! the verb table with its argument counts, and unit name mangling per verb. The result is a
//! typed [`Invocation`] that the offline and online halves match on. Parsing only: nothing
//! here touches the file system or the control socket.

use std::path::PathBuf;

use super::mangle::{self, is_glob};
pub use super::options::{Dependency, JobMode, Options, OutputMode};
pub use super::verb::Verb;
use super::verb::{NOT_IMPLEMENTED, Names, lookup};
use crate::unit::UnitName;
use crate::unit::install::PresetMode;

/// One parsed systemctl command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// What to do.
    pub verb: Verb,
    /// The units named, mangled as systemctl mangles them for this verb.
    pub units: Vec<UnitArg>,
    /// Every option, whether or not this verb uses it.
    pub options: Options,
    /// Notices produced while mangling names (escaped characters, refused globs), to print on
    /// stderr before anything else; empty with `--quiet`.
    pub notices: Vec<String>,
}

/// One argument that names units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitArg {
    /// A unit name: `nginx` became `nginx.service`.
    Name(UnitName),
    /// A glob (`ssh*`) for the verbs that expand them against loaded units, or a
    /// `list-unit-files`/`list-units` pattern (matched as given, never mangled).
    Pattern(String),
    /// A unit file path (`enable /opt/app/app.service`; relative paths were made absolute).
    Path(PathBuf),
    /// A process ID (`status 1234`: the unit of that process) or, for `show`, a job ID.
    Id(u32),
    /// A name systemctl passes on as written although it is not a valid unit name (install
    /// verbs report it as an invalid or missing unit, as systemd does).
    Raw(String),
}

impl UnitArg {
    /// The argument as text (the name, the pattern, the path, the number).
    pub fn as_text(&self) -> String {
        match self {
            UnitArg::Name(n) => n.to_string(),
            UnitArg::Pattern(p) | UnitArg::Raw(p) => p.clone(),
            UnitArg::Path(p) => p.display().to_string(),
            UnitArg::Id(i) => i.to_string(),
        }
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Run a verb.
    Run(Box<Invocation>),
    /// Print this text to stdout and exit 0 (`--help`, `--version`, `-t help`, ...).
    Print(String),
}

/// Why the command line is refused: the lines to print on stderr (exit status 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HasArg {
    No,
    Required,
}

/// systemd 252's long options, in its table order (which orders getopt's "ambiguous" list),
/// with the short option each is equivalent to.
const LONG: [(&str, HasArg, Option<char>); 59] = [
    ("help", HasArg::No, Some('h')),
    ("version", HasArg::No, None),
    ("type", HasArg::Required, Some('t')),
    ("property", HasArg::Required, Some('p')),
    ("all", HasArg::No, Some('a')),
    ("reverse", HasArg::No, None),
    ("after", HasArg::No, None),
    ("before", HasArg::No, None),
    ("show-types", HasArg::No, None),
    ("failed", HasArg::No, None),
    ("full", HasArg::No, Some('l')),
    ("job-mode", HasArg::Required, None),
    ("fail", HasArg::No, None),
    ("irreversible", HasArg::No, None),
    ("ignore-dependencies", HasArg::No, None),
    ("ignore-inhibitors", HasArg::No, Some('i')),
    ("check-inhibitors", HasArg::Required, None),
    ("value", HasArg::No, None),
    ("user", HasArg::No, None),
    ("system", HasArg::No, None),
    ("global", HasArg::No, None),
    ("wait", HasArg::No, None),
    ("no-block", HasArg::No, None),
    ("legend", HasArg::Required, None),
    ("no-legend", HasArg::No, None),
    ("no-pager", HasArg::No, None),
    ("no-wall", HasArg::No, None),
    ("dry-run", HasArg::No, None),
    ("quiet", HasArg::No, Some('q')),
    ("root", HasArg::Required, None),
    ("image", HasArg::Required, None),
    ("force", HasArg::No, Some('f')),
    ("no-reload", HasArg::No, None),
    ("kill-whom", HasArg::Required, None),
    ("signal", HasArg::Required, Some('s')),
    ("no-ask-password", HasArg::No, None),
    ("host", HasArg::Required, Some('H')),
    ("machine", HasArg::Required, Some('M')),
    ("runtime", HasArg::No, None),
    ("lines", HasArg::Required, Some('n')),
    ("output", HasArg::Required, Some('o')),
    ("plain", HasArg::No, None),
    ("state", HasArg::Required, None),
    ("recursive", HasArg::No, Some('r')),
    ("with-dependencies", HasArg::No, None),
    ("preset-mode", HasArg::Required, None),
    ("firmware-setup", HasArg::No, None),
    ("boot-loader-menu", HasArg::Required, None),
    ("boot-loader-entry", HasArg::Required, None),
    ("now", HasArg::No, None),
    ("message", HasArg::Required, None),
    ("show-transaction", HasArg::No, Some('T')),
    ("what", HasArg::Required, None),
    ("reboot-argument", HasArg::Required, None),
    ("timestamp", HasArg::Required, None),
    ("read-only", HasArg::No, None),
    ("mkdir", HasArg::No, None),
    ("marked", HasArg::No, None),
    ("kill-value", HasArg::Required, None),
];

/// The short options (getopt's "ht:p:P:alqfs:H:M:n:o:iTr").
fn short(c: char) -> Option<HasArg> {
    match c {
        'h' | 'a' | 'l' | 'q' | 'f' | 'i' | 'T' | 'r' => Some(HasArg::No),
        't' | 'p' | 'P' | 's' | 'H' | 'M' | 'n' | 'o' => Some(HasArg::Required),
        _ => None,
    }
}

/// An option as recognised: its canonical long name (or the short letter) and its value.
#[derive(Debug)]
struct Opt<'a> {
    long: &'a str,
    short: Option<char>,
    value: Option<String>,
}

/// The unit types of `-t` (unit_type_table order).
pub const UNIT_TYPES: [&str; 11] = [
    "service",
    "mount",
    "swap",
    "socket",
    "target",
    "device",
    "automount",
    "timer",
    "path",
    "slice",
    "scope",
];

/// The load states `-t` also accepts.
const LOAD_STATES: [&str; 7] = [
    "stub",
    "loaded",
    "not-found",
    "bad-setting",
    "error",
    "merged",
    "masked",
];

/// What `--state=help` prints (systemd 252's tables).
const STATE_HELP: &[(&str, &str)] = &[
    (
        "unit load states",
        "stub loaded not-found bad-setting error merged masked",
    ),
    (
        "unit active states",
        "active reloading inactive failed activating deactivating maintenance",
    ),
    (
        "unit file states",
        "enabled enabled-runtime linked linked-runtime alias masked masked-runtime static disabled indirect generated transient bad",
    ),
    ("automount unit substates", "dead waiting running failed"),
    ("device unit substates", "dead tentative plugged"),
    (
        "mount unit substates",
        "dead mounting mounting-done mounted remounting unmounting remounting-sigterm remounting-sigkill unmounting-sigterm unmounting-sigkill failed cleaning",
    ),
    ("path unit substates", "dead waiting running failed"),
    (
        "scope unit substates",
        "dead start-chown running abandoned stop-sigterm stop-sigkill failed",
    ),
    (
        "service unit substates",
        "dead condition start-pre start start-post running exited reload stop stop-watchdog stop-sigterm stop-sigkill stop-post final-watchdog final-sigterm final-sigkill failed auto-restart cleaning",
    ),
    ("slice unit substates", "dead active"),
    (
        "socket unit substates",
        "dead start-pre start-chown start-post listening running stop-pre stop-pre-sigterm stop-pre-sigkill stop-post final-sigterm final-sigkill failed cleaning",
    ),
    (
        "swap unit substates",
        "dead activating activating-done active deactivating deactivating-sigterm deactivating-sigkill failed cleaning",
    ),
    ("target unit substates", "dead active"),
    (
        "timer unit substates",
        "dead waiting running elapsed failed",
    ),
];

/// getopt_long's matching of `--body` (`NAME[=VALUE]`) in `table`: the exact name, else the
/// one option it is a prefix of; else getopt's message ("unrecognized", "ambiguous").
pub(crate) fn find_long<'a, E>(
    prog: &str,
    table: &'a [E],
    name_of: impl Fn(&E) -> &str,
    body: &str,
) -> Result<&'a E, String> {
    let name = body.split_once('=').map_or(body, |(n, _)| n);
    if let Some(exact) = table.iter().find(|e| name_of(e) == name) {
        return Ok(exact);
    }
    let candidates: Vec<&E> = table
        .iter()
        .filter(|e| name_of(e).starts_with(name))
        .collect();
    match candidates.as_slice() {
        [] => Err(format!("{prog}: unrecognized option '--{body}'")),
        [one] => Ok(one),
        many => {
            let list: String = many
                .iter()
                .map(|e| format!(" '--{}'", name_of(e)))
                .collect();
            Err(format!(
                "{prog}: option '--{name}' is ambiguous; possibilities:{list}"
            ))
        }
    }
}

/// The state of a parse in progress.
struct Parser<'a> {
    prog: &'a str,
    opts: Options,
    cwd: Option<PathBuf>,
}

/// Read systemctl's command line. `prog` is how getopt names the program in its messages
/// (`argv[0]`); `args` excludes it; `cwd` makes relative unit file paths absolute.
pub fn parse(prog: &str, args: &[String], cwd: Option<PathBuf>) -> Result<Parsed, UsageError> {
    let mut p = Parser {
        prog,
        opts: Options::default(),
        cwd,
    };
    let mut positional: Vec<String> = Vec::new();
    let mut i = 0;
    let mut only_positional = false;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if only_positional || arg == "-" || !arg.starts_with('-') {
            positional.push(arg.clone());
            continue;
        }
        if arg == "--" {
            only_positional = true;
            continue;
        }
        if let Some(body) = arg.strip_prefix("--") {
            let opt = p.long_option(body, args, &mut i)?;
            if let Some(text) = p.apply(&opt)? {
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
                return Err(UsageError(format!("{}: invalid option -- '{c}'", p.prog)));
            };
            let value = if has_arg == HasArg::Required {
                if k < cluster.len() {
                    let v: String = cluster[k..].iter().collect();
                    k = cluster.len();
                    Some(v)
                } else if i < args.len() {
                    i += 1;
                    Some(args[i - 1].clone())
                } else {
                    return Err(UsageError(format!(
                        "{}: option requires an argument -- '{c}'",
                        p.prog
                    )));
                }
            } else {
                None
            };
            let long = LONG
                .iter()
                .find(|(_, _, s)| *s == Some(c))
                .map_or("", |(l, _, _)| *l);
            let opt = Opt {
                long,
                short: Some(c),
                value,
            };
            if let Some(text) = p.apply(&opt)? {
                return Ok(Parsed::Print(text));
            }
        }
    }
    p.finish(positional)
}

impl Parser<'_> {
    /// getopt_long's matching of `--name[=value]`: exact, else a unique prefix.
    fn long_option(
        &self,
        body: &str,
        args: &[String],
        i: &mut usize,
    ) -> Result<Opt<'static>, UsageError> {
        let attached = body.split_once('=').map(|(_, v)| v.to_owned());
        let found = find_long(self.prog, &LONG, |(l, _, _)| l, body).map_err(UsageError)?;
        let (long, has_arg, short) = *found;
        let value = match (has_arg, attached) {
            (HasArg::No, Some(_)) => {
                return Err(UsageError(format!(
                    "{}: option '--{long}' doesn't allow an argument",
                    self.prog
                )));
            }
            (HasArg::No, None) => None,
            (HasArg::Required, Some(v)) => Some(v),
            (HasArg::Required, None) => {
                if *i < args.len() {
                    *i += 1;
                    Some(args[*i - 1].clone())
                } else {
                    return Err(UsageError(format!(
                        "{}: option '--{long}' requires an argument",
                        self.prog
                    )));
                }
            }
        };
        Ok(Opt { long, short, value })
    }

    /// Apply one option; `Some(text)` when it asks for text to be printed instead.
    fn apply(&mut self, opt: &Opt<'_>) -> Result<Option<String>, UsageError> {
        let value = opt.value.clone().unwrap_or_default();
        let o = &mut self.opts;
        let key = match opt.short {
            Some('P') => "P",
            _ => opt.long,
        };
        match key {
            "help" => return Ok(Some(super::help_text())),
            "version" => return Ok(Some(super::version_text())),
            "type" => {
                if value.is_empty() {
                    return usage("--type= requires arguments.");
                }
                for t in value.split(',').filter(|t| !t.is_empty()) {
                    if t == "help" {
                        let mut text = String::new();
                        if o.legend != Some(false) {
                            text.push_str("Available unit types:\n");
                        }
                        for ty in UNIT_TYPES {
                            text.push_str(ty);
                            text.push('\n');
                        }
                        return Ok(Some(text));
                    }
                    if UNIT_TYPES.contains(&t) {
                        o.types.push(t.to_owned());
                    } else if LOAD_STATES.contains(&t) {
                        o.states.push(t.to_owned());
                    } else {
                        return usage(&format!(
                            "Unknown unit type or load state '{t}'.\nUse -t help to see a list of allowed values."
                        ));
                    }
                }
            }
            "property" | "P" => {
                if key == "P" {
                    o.value = true;
                }
                let list = o.properties.get_or_insert_with(Vec::new);
                list.extend(
                    value
                        .split(',')
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned),
                );
            }
            "all" => o.all = true,
            "show-types" => o.show_types = true,
            "reverse" => o.dependency = Dependency::Reverse,
            "after" => o.dependency = Dependency::After,
            "before" => o.dependency = Dependency::Before,
            "failed" => o.states.push("failed".to_owned()),
            "full" => o.full = true,
            "job-mode" => {
                o.job_mode = Some(
                    JobMode::parse(&value)
                        .ok_or_else(|| UsageError(format!("Invalid job mode '{value}'.")))?,
                );
            }
            "fail" => o.job_mode = Some(JobMode::Fail),
            "irreversible" => o.job_mode = Some(JobMode::ReplaceIrreversibly),
            "ignore-dependencies" => o.job_mode = Some(JobMode::IgnoreDependencies),
            "value" => o.value = true,
            "user" => {
                return usage(
                    "--user is not supported: bosun is this container's only service manager (there are no user managers); drop --user",
                );
            }
            "host" => {
                return usage(
                    "-H/--host is not supported: bosun's systemctl talks to the bosun of this container only; run it inside the container (podman exec, kubectl exec)",
                );
            }
            "machine" => {
                return usage(
                    "-M/--machine is not supported: bosun's systemctl talks to the bosun of this container only; run it inside the container (podman exec, kubectl exec)",
                );
            }
            "system" => o.system = true,
            "wait" => o.wait = true,
            "no-block" => o.no_block = true,
            "legend" => {
                o.legend = Some(parse_bool(&value).ok_or_else(|| {
                    UsageError(format!(
                        "Failed to parse boolean argument to --legend: {value}."
                    ))
                })?);
            }
            "no-legend" => o.legend = Some(false),
            "no-pager" => o.no_pager = true,
            "no-wall" => o.no_wall = true,
            "quiet" => {
                o.quiet = true;
                if o.legend.is_none() {
                    o.legend = Some(false);
                }
            }
            "root" => {
                let path = PathBuf::from(&value);
                let absolute = match (&self.cwd, path.is_absolute()) {
                    (_, true) => path,
                    (Some(cwd), false) => cwd.join(path),
                    (None, false) => path,
                };
                o.root = Some(crate::unit::install::paths::normalize(&absolute));
            }
            "force" => o.force = o.force.saturating_add(1),
            "no-reload" => o.no_reload = true,
            "kill-whom" => o.kill_whom = Some(value),
            "signal" => {
                if value == "help" {
                    return Ok(Some(signal_help()));
                }
                o.signal = Some(crate::vocab::signal::parse(&value).ok_or_else(|| {
                    UsageError(format!("Failed to parse signal string \"{value}\"."))
                })?);
            }
            "no-ask-password" => o.no_ask_password = true,
            "runtime" => o.runtime = true,
            "lines" => {
                o.lines = Some(
                    value
                        .parse::<u32>()
                        .ok()
                        .filter(|_| !value.starts_with('+'))
                        .ok_or_else(|| UsageError(format!("Failed to parse lines '{value}'")))?,
                );
            }
            "output" => {
                if value == "help" {
                    let names: Vec<&str> = crate::cli::journalctl::output::MODES
                        .iter()
                        .map(|(n, _)| *n)
                        .collect();
                    return Ok(Some(lines(&names)));
                }
                let mode = OutputMode::parse(&value)
                    .ok_or_else(|| UsageError(format!("Unknown output '{value}'.")))?;
                if matches!(
                    mode,
                    OutputMode::Json
                        | OutputMode::JsonPretty
                        | OutputMode::JsonSse
                        | OutputMode::JsonSeq
                ) {
                    o.legend = Some(false);
                    o.plain = true;
                }
                o.output = Some(mode);
            }
            "plain" => o.plain = true,
            "state" => {
                if value.is_empty() {
                    return usage("--state= requires arguments.");
                }
                for s in value.split(',').filter(|s| !s.is_empty()) {
                    if s == "help" {
                        return Ok(Some(state_help(o.legend != Some(false))));
                    }
                    o.states.push(s.to_owned());
                }
            }
            "preset-mode" => {
                if value == "help" {
                    return Ok(Some(lines(&["full", "enable-only", "disable-only"])));
                }
                o.preset_mode = PresetMode::parse(&value)
                    .ok_or_else(|| UsageError(format!("Failed to parse preset mode: {value}.")))?;
            }
            "now" => o.now = true,
            other => {
                return usage(&format!(
                    "bosun: systemctl option --{other} is not supported by bosun"
                ));
            }
        }
        Ok(None)
    }

    /// The verb and its arguments, once every option is read.
    fn finish(mut self, positional: Vec<String>) -> Result<Parsed, UsageError> {
        let word = positional.first().cloned();
        let (verb, arity, names) = match word.as_deref() {
            None => lookup("list-units").ok_or_else(|| UsageError(String::new()))?,
            Some(w) => match lookup(w) {
                Some(found) => found,
                None if NOT_IMPLEMENTED.contains(&w) => {
                    return usage(&format!(
                        "bosun: systemctl verb '{w}' is not supported by bosun"
                    ));
                }
                None => return usage(&format!("Unknown command verb {w}.")),
            },
        };
        // dispatch_verb() counts the verb itself; the default verb counts as one word.
        let count = positional.len().max(1);
        if count < arity.min {
            return usage("Too few arguments.");
        }
        if arity.max.is_some_and(|max| count > max) {
            return usage("Too many arguments.");
        }
        if self.opts.wait && self.opts.no_block {
            return usage("--wait may not be combined with --no-block.");
        }
        let rest: Vec<String> = positional.into_iter().skip(1).collect();
        let mut notices = Vec::new();
        let mut units = Vec::new();
        let verb = match verb {
            Verb::Exit(_) => match rest.first() {
                None => Verb::Exit(None),
                Some(code) => Verb::Exit(Some(
                    code.parse::<u8>()
                        .map_err(|_| UsageError("Invalid exit code.".to_owned()))?,
                )),
            },
            // The manager checks the assignments (so offline, as for systemd, these verbs
            // only say that there is no manager).
            Verb::SetEnvironment(_) => Verb::SetEnvironment(rest.clone()),
            Verb::UnsetEnvironment(_) => Verb::UnsetEnvironment(rest.clone()),
            Verb::ImportEnvironment(_) => Verb::ImportEnvironment(rest.clone()),
            other => other,
        };
        let quiet = self.opts.quiet;
        let mut note = |n: Option<String>| {
            if let (Some(n), false) = (n, quiet) {
                notices.push(n);
            }
        };
        match names {
            Names::Other => {
                if verb == Verb::SetDefault {
                    let m = mangle::mangle(&rest[0], Some("set-default"), false, ".target")
                        .ok_or_else(mangle_failed)?;
                    note(m.notice);
                    units.push(name_arg(m.name));
                } else if verb == Verb::ListDependencies {
                    for a in &rest {
                        let m =
                            mangle::mangle(a, None, false, ".service").ok_or_else(mangle_failed)?;
                        note(m.notice);
                        units.push(name_arg(m.name));
                    }
                }
            }
            Names::Patterns => units.extend(rest.iter().cloned().map(UnitArg::Pattern)),
            Names::Install(operation) => {
                for a in &rest {
                    if a.contains('/') {
                        let path = PathBuf::from(a);
                        let path = match (&self.cwd, path.is_absolute()) {
                            (Some(cwd), false) => cwd.join(path),
                            _ => path,
                        };
                        units.push(UnitArg::Path(crate::unit::install::paths::normalize(&path)));
                        continue;
                    }
                    let m = mangle::mangle(a, Some(operation), false, ".service")
                        .ok_or_else(mangle_failed)?;
                    note(m.notice);
                    units.push(name_arg(m.name));
                }
            }
            Names::Expand => {
                for a in &rest {
                    let numeric = !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit());
                    if numeric
                        && matches!(verb, Verb::Status | Verb::Show)
                        && let Ok(id) = a.parse::<u32>()
                    {
                        units.push(UnitArg::Id(id));
                        continue;
                    }
                    let m = mangle::mangle(a, None, true, ".service").ok_or_else(mangle_failed)?;
                    note(m.notice);
                    if is_glob(&m.name) {
                        units.push(UnitArg::Pattern(m.name));
                    } else {
                        units.push(name_arg(m.name));
                    }
                }
            }
        }
        self.opts.types.dedup();
        Ok(Parsed::Run(Box::new(Invocation {
            verb,
            units,
            options: self.opts,
            notices,
        })))
    }
}

fn name_arg(name: String) -> UnitArg {
    match UnitName::parse(&name) {
        Ok(n) => UnitArg::Name(n),
        Err(_) => UnitArg::Raw(name),
    }
}

fn mangle_failed() -> UsageError {
    UsageError("Failed to mangle unit name: Invalid argument".to_owned())
}

fn usage<T>(text: &str) -> Result<T, UsageError> {
    Err(UsageError(text.to_owned()))
}

/// parse_boolean().
fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Some(false),
        _ => None,
    }
}

fn lines(items: &[&str]) -> String {
    items.iter().map(|i| format!("{i}\n")).collect()
}

fn state_help(legend: bool) -> String {
    let mut out = String::new();
    for (i, (title, states)) in STATE_HELP.iter().enumerate() {
        if legend {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&format!("Available {title}:\n"));
        }
        for s in states.split(' ') {
            out.push_str(s);
            out.push('\n');
        }
    }
    out
}

fn signal_help() -> String {
    let mut out = String::new();
    for n in 1..=crate::sys::MAX_SIGNAL {
        out.push_str(crate::vocab::signal::name(n).trim_start_matches("SIG"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests;
