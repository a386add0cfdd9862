//! The one renderer of journal lines for people and programs: journalctl's `-o` modes as
//! systemd 252's src/shared/logs-show.c writes them, used by `journalctl` and by `systemctl
//! status` alike. A line becomes journald's fields (MESSAGE, PRIORITY, SYSLOG_IDENTIFIER,
//! _PID, _SYSTEMD_UNIT, _TRANSPORT, _BOOT_ID, ...) and is written in the mode asked for;
//! text a terminal must not receive as it is follows [`crate::vocab::text::shown`]'s rule.
//! Times are UTC, as everywhere in bosun. Pure but for [`Context::here`], which reads the
//! host name, the boot and machine IDs and the clocks once.

use crate::control::proto::LogLine;
use crate::vocab::text::{printable, shown};

/// journalctl's output modes (`-o`), in its table's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Short,
    ShortFull,
    ShortIso,
    ShortIsoPrecise,
    ShortPrecise,
    ShortMonotonic,
    ShortDelta,
    ShortUnix,
    Verbose,
    Export,
    Json,
    JsonPretty,
    JsonSse,
    JsonSeq,
    Cat,
    WithUnit,
}

impl Mode {
    /// Whether lines in this mode carry the boot ID (`_BOOT_ID`, the cursor).
    pub fn shows_boot_id(self) -> bool {
        matches!(
            self,
            Mode::Verbose
                | Mode::Export
                | Mode::Json
                | Mode::JsonPretty
                | Mode::JsonSse
                | Mode::JsonSeq
        )
    }
}

/// Every mode with its name, as `-o help` lists them.
pub const MODES: [(&str, Mode); 16] = [
    ("short", Mode::Short),
    ("short-full", Mode::ShortFull),
    ("short-iso", Mode::ShortIso),
    ("short-iso-precise", Mode::ShortIsoPrecise),
    ("short-precise", Mode::ShortPrecise),
    ("short-monotonic", Mode::ShortMonotonic),
    ("short-delta", Mode::ShortDelta),
    ("short-unix", Mode::ShortUnix),
    ("verbose", Mode::Verbose),
    ("export", Mode::Export),
    ("json", Mode::Json),
    ("json-pretty", Mode::JsonPretty),
    ("json-sse", Mode::JsonSse),
    ("json-seq", Mode::JsonSeq),
    ("cat", Mode::Cat),
    ("with-unit", Mode::WithUnit),
];

impl Mode {
    /// The mode named `name`.
    pub fn parse(name: &str) -> Option<Mode> {
        MODES.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
    }

    /// Modes for programs: journalctl turns `--quiet` on for them (no "-- No entries --").
    pub fn for_programs(self) -> bool {
        matches!(
            self,
            Mode::Export
                | Mode::Json
                | Mode::JsonPretty
                | Mode::JsonSse
                | Mode::JsonSeq
                | Mode::Cat
        )
    }
}

/// A field longer than this (name, `=` and value) is `null` in JSON unless `--all`
/// (logs-show.c JSON_THRESHOLD).
const JSON_THRESHOLD: usize = 4096;

/// The boot ID of the bosun serving `socket`, if one answers and says it.
pub fn live_boot_id(socket: &std::path::Path) -> Option<String> {
    let request = crate::control::proto::Request::System;
    match crate::control::client::call(socket, request) {
        Ok(crate::control::proto::Response::System { system }) => system.boot_id,
        _ => None,
    }
}

/// What every line is rendered with: the facts of this machine and the options.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// `_HOSTNAME`.
    pub hostname: String,
    /// `_BOOT_ID`: the running bosun's, new at each start of PID 1 (see [`Context::of`]),
    /// 32 hex digits.
    pub boot_id: String,
    /// `_MACHINE_ID` (/etc/machine-id), empty when unknown.
    pub machine_id: String,
    /// Realtime minus monotonic, in microseconds: a line's monotonic time is derived from its
    /// wall-clock time (the ring keeps the latter only).
    pub boot_realtime_us: u64,
    /// `--all`: every field and line as written, `[N blob data]` for none.
    pub all: bool,
    /// `--no-hostname`.
    pub no_hostname: bool,
    /// `--output-fields=`: the fields verbose, export, JSON and cat print (the cursor,
    /// timestamps and boot ID always).
    pub fields: Option<Vec<String>>,
    /// Color messages by priority (a terminal, `NO_COLOR` unset: journalctl's
    /// OUTPUT_COLOR).
    pub color: bool,
    /// short-delta's previous line, in monotonic microseconds.
    previous_us: Option<u64>,
}

impl Context {
    /// The facts of the machine this runs on (bosun's PID 1 shares them: same kernel, same
    /// UTS namespace).
    pub fn here() -> Context {
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .map(|s| s.trim().replace('-', ""))
                .unwrap_or_default()
        };
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim_end().to_owned())
            .unwrap_or_default();
        let now_us = crate::vocab::time::now_ms().saturating_mul(1000);
        let mono_us = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
            .map(|t| {
                u64::try_from(t.tv_sec()).unwrap_or(0) * 1_000_000
                    + u64::try_from(t.tv_nsec()).unwrap_or(0) / 1000
            })
            .unwrap_or(0);
        Context {
            hostname,
            boot_id: read("/proc/sys/kernel/random/boot_id"),
            machine_id: read("/etc/machine-id"),
            boot_realtime_us: now_us.saturating_sub(mono_us),
            color: crate::cli::initctl::status::Style::for_stdout().color,
            ..Context::default()
        }
    }

    /// The facts of this machine and the boot ID of the bosun serving `socket` (the kernel's
    /// when it gives none): what `journalctl` and `systemctl status` render with.
    pub fn of(socket: &std::path::Path) -> Context {
        let mut ctx = Context::here();
        if let Some(id) = live_boot_id(socket) {
            ctx.boot_id = id;
        }
        ctx
    }

    /// Render `line` in `mode`, newline(s) included.
    pub fn render(&mut self, line: &LogLine, mode: Mode) -> Vec<u8> {
        let realtime = line.ms.saturating_mul(1000);
        let monotonic = realtime.saturating_sub(self.boot_realtime_us);
        match mode {
            Mode::Verbose => self.verbose(line, realtime, monotonic),
            Mode::Export => self.export(line, realtime, monotonic),
            Mode::Json | Mode::JsonPretty | Mode::JsonSse | Mode::JsonSeq => {
                self.json(line, mode, realtime, monotonic)
            }
            Mode::Cat => self.cat(line),
            _ => self.short(line, mode, realtime, monotonic),
        }
    }

    /// The short modes: `TIME HOST IDENTIFIER[PID]: MESSAGE` (output_short()).
    fn short(&mut self, line: &LogLine, mode: Mode, realtime: u64, monotonic: u64) -> Vec<u8> {
        let secs = realtime / 1_000_000;
        let micros = realtime % 1_000_000;
        let c = crate::vocab::time::civil(i64::try_from(secs).unwrap_or(0));
        let time = match mode {
            Mode::ShortIso => format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+0000",
                c.year, c.month, c.day, c.hour, c.minute, c.second
            ),
            Mode::ShortIsoPrecise => format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{micros:06}+0000",
                c.year, c.month, c.day, c.hour, c.minute, c.second
            ),
            Mode::ShortFull | Mode::WithUnit => {
                crate::cli::systemctl::text::timestamp(realtime / 1000)
            }
            Mode::ShortUnix => format!("{secs:10}.{micros:06}"),
            Mode::ShortMonotonic => {
                format!("[{:5}.{:06}]", monotonic / 1_000_000, monotonic % 1_000_000)
            }
            Mode::ShortDelta => {
                let delta = self.previous_us.map_or(0, |p| monotonic.saturating_sub(p));
                self.previous_us = Some(monotonic);
                format!(
                    "[{:5}.{:06} <{:5}.{:06}>]",
                    monotonic / 1_000_000,
                    monotonic % 1_000_000,
                    delta / 1_000_000,
                    delta % 1_000_000
                )
            }
            Mode::ShortPrecise => format!("{}.{micros:06}", month_day_time(&c)),
            _ => month_day_time(&c),
        };
        let mut head = time;
        if !self.no_hostname && !self.hostname.is_empty() {
            head.push(' ');
            head.push_str(&self.hostname);
        }
        if mode == Mode::WithUnit && is_unit(&line.unit) {
            head.push(' ');
            head.push_str(&line.unit);
        }
        head.push(' ');
        head.push_str(line.identifier());
        if line.pid > 0 {
            head.push_str(&format!("[{}]", line.pid));
        }
        head.push_str(": ");
        let mut out = head.clone().into_bytes();
        let text = line.bytes();
        // print_multiline(): a message of several printable lines continues under its first.
        let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
        if lines.len() > 1 && (self.all || lines.iter().all(|l| printable(l))) {
            let indent = " ".repeat(head.len());
            for (k, l) in lines.iter().enumerate() {
                if k > 0 {
                    out.extend_from_slice(indent.as_bytes());
                }
                out.extend_from_slice(l);
                out.push(b'\n');
            }
            return out;
        }
        let (on, off) = if self.color {
            colors(line.priority())
        } else {
            ("", "")
        };
        out.extend_from_slice(on.as_bytes());
        out.extend_from_slice(&shown(text, self.all));
        out.extend_from_slice(off.as_bytes());
        out.push(b'\n');
        out
    }

    /// `cat`: the message as written (or the `--output-fields=` values, one a line).
    fn cat(&self, line: &LogLine) -> Vec<u8> {
        let mut out = Vec::new();
        match &self.fields {
            None => {
                out.extend_from_slice(line.bytes());
                out.push(b'\n');
            }
            Some(_) => {
                for (_, value) in self.chosen(fields(line, self)) {
                    out.extend_from_slice(&value);
                    out.push(b'\n');
                }
            }
        }
        out
    }

    /// The fields `--output-fields=` keeps (all without it).
    fn chosen<'a>(&self, all: Vec<(&'a str, Vec<u8>)>) -> Vec<(&'a str, Vec<u8>)> {
        match &self.fields {
            None => all,
            Some(keep) => all
                .into_iter()
                .filter(|(name, _)| keep.iter().any(|k| k == name))
                .collect(),
        }
    }

    /// journald's cursor for a line: its place in this boot's sequence.
    fn cursor(&self, line: &LogLine, realtime: u64, monotonic: u64) -> String {
        format!(
            "s={};i={:x};b={};m={monotonic:x};t={realtime:x};x=0",
            self.boot_id, line.seq, self.boot_id
        )
    }

    /// `verbose`: the full timestamp and the cursor, then every field, one a line.
    fn verbose(&self, line: &LogLine, realtime: u64, monotonic: u64) -> Vec<u8> {
        // format_timestamp_style(TIMESTAMP_US): systemctl's timestamp with microseconds.
        let stamp = crate::cli::systemctl::text::timestamp(realtime / 1000).replacen(
            " UTC",
            &format!(".{:06} UTC", realtime % 1_000_000),
            1,
        );
        let mut out =
            format!("{stamp} [{}]\n", self.cursor(line, realtime, monotonic)).into_bytes();
        let mut all = fields(line, self);
        all.push(("_BOOT_ID", self.boot_id.clone().into_bytes()));
        for (name, value) in self.chosen(all) {
            out.extend_from_slice(format!("    {name}=").as_bytes());
            if self.all || printable_lines(&value) {
                out.extend_from_slice(&value);
            } else {
                out.extend_from_slice(&shown(&value, false));
            }
            out.push(b'\n');
        }
        out
    }

    /// `export`: journald's export format, binary-safe; an empty line ends each entry.
    fn export(&self, line: &LogLine, realtime: u64, monotonic: u64) -> Vec<u8> {
        let mut out = format!(
            "__CURSOR={}\n__REALTIME_TIMESTAMP={realtime}\n__MONOTONIC_TIMESTAMP={monotonic}\n\
             _BOOT_ID={}\n",
            self.cursor(line, realtime, monotonic),
            self.boot_id
        )
        .into_bytes();
        for (name, value) in self.chosen(fields(line, self)) {
            out.extend_from_slice(name.as_bytes());
            if printable(&value) {
                out.push(b'=');
                out.extend_from_slice(&value);
            } else {
                out.push(b'\n');
                out.extend_from_slice(
                    &u64::try_from(value.len()).unwrap_or(u64::MAX).to_le_bytes(),
                );
                out.extend_from_slice(&value);
            }
            out.push(b'\n');
        }
        out.push(b'\n');
        out
    }

    /// The JSON modes: one object per line (`json`), indented (`json-pretty`), as server-sent
    /// events (`json-sse`) or RFC 7464 records (`json-seq`).
    fn json(&self, line: &LogLine, mode: Mode, realtime: u64, monotonic: u64) -> Vec<u8> {
        let mut pairs: Vec<(&str, serde_json::Value)> = vec![
            ("__CURSOR", self.cursor(line, realtime, monotonic).into()),
            ("__REALTIME_TIMESTAMP", realtime.to_string().into()),
            ("__MONOTONIC_TIMESTAMP", monotonic.to_string().into()),
            ("_BOOT_ID", self.boot_id.clone().into()),
        ];
        for (name, value) in self.chosen(fields(line, self)) {
            let v = if !self.all && name.len() + 1 + value.len() >= JSON_THRESHOLD {
                serde_json::Value::Null
            } else if printable_lines(&value) {
                String::from_utf8_lossy(&value).into_owned().into()
            } else {
                value.iter().map(|&b| serde_json::Value::from(b)).collect()
            };
            pairs.push((name, v));
        }
        let text = if mode == Mode::JsonPretty {
            let body: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("        \"{k}\" : {v}"))
                .collect();
            format!("{{\n{}\n}}", body.join(",\n"))
        } else {
            let body: Vec<String> = pairs.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            format!("{{{}}}", body.join(","))
        };
        match mode {
            Mode::JsonSse => format!("data: {text}\n\n"),
            Mode::JsonSeq => format!("\x1e{text}\n"),
            _ => format!("{text}\n"),
        }
        .into_bytes()
    }
}

/// get_log_colors(): a message's colors by priority — errors and worse red, warnings yellow,
/// notices bold, debug grey, info plain.
fn colors(priority: u8) -> (&'static str, &'static str) {
    const NORMAL: &str = "\x1b[0m";
    match priority {
        0..=3 => ("\x1b[0;1;31m", NORMAL),
        4 => ("\x1b[0;1;38;5;185m", NORMAL),
        5 => ("\x1b[0;1;39m", NORMAL),
        7.. => ("\x1b[0;38;5;245m", NORMAL),
        _ => ("", ""),
    }
}

/// `Dec 06 13:00:00`: strftime's `%b %d %H:%M:%S`.
fn month_day_time(c: &crate::vocab::time::Civil) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS[usize::try_from(c.month.clamp(1, 12) - 1).unwrap_or(0)];
    format!(
        "{month} {:02} {:02}:{:02}:{:02}",
        c.day, c.hour, c.minute, c.second
    )
}

/// journald's utf8_is_printable(): valid UTF-8, control characters only as newlines or tabs.
fn printable_lines(value: &[u8]) -> bool {
    value.split(|&b| b == b'\n').all(printable)
}

/// A ring's name is a unit's (`unknown`, the source of datagrams no unit sent, is not).
fn is_unit(name: &str) -> bool {
    crate::unit::UnitName::parse(name).is_ok()
}

/// The journald fields of `line` but the cursor, timestamps and boot ID, in journald's order
/// for a stream line (what the sender gave first, then what journald adds).
fn fields<'a>(line: &'a LogLine, ctx: &Context) -> Vec<(&'a str, Vec<u8>)> {
    let mut out = vec![
        ("_TRANSPORT", line.transport().as_bytes().to_vec()),
        ("PRIORITY", line.priority().to_string().into_bytes()),
    ];
    // journald gives stream lines the unit's SyslogFacility= (daemon by default).
    let facility = line.journal_fields().map_or(3, |s| s.facility);
    out.push(("SYSLOG_FACILITY", facility.to_string().into_bytes()));
    out.push(("SYSLOG_IDENTIFIER", line.identifier().as_bytes().to_vec()));
    out.push(("MESSAGE", line.bytes().to_vec()));
    // A native entry's own fields (CODE_FILE=, a LogExtraFields= pair, ...).
    for (name, value) in line.journal_fields().iter().flat_map(|s| &s.fields) {
        out.push((name.as_str(), value.as_bytes().to_vec()));
    }
    if line.pid > 0 {
        out.push(("_PID", line.pid.to_string().into_bytes()));
    }
    if is_unit(&line.unit) {
        out.push(("_SYSTEMD_UNIT", line.unit.as_bytes().to_vec()));
    }
    if !ctx.machine_id.is_empty() {
        out.push(("_MACHINE_ID", ctx.machine_id.as_bytes().to_vec()));
    }
    if !ctx.hostname.is_empty() {
        out.push(("_HOSTNAME", ctx.hostname.as_bytes().to_vec()));
    }
    out
}

#[cfg(test)]
mod tests;
