//! `initctl logs [-f] [-n N] [-a] [UNIT]`: the service output bosun keeps in memory, as
//! `TIME UNIT[PID]: text` lines (stderr lines say so; a line a terminal must not receive as
//! it is shows as `[N blob data]` unless `-a`, see [`crate::vocab::text::shown`]) or JSON
//! lines. With `-f`, new lines are asked for every [`POLL`] by sequence number, until bosun
//! stops answering, stdout's reader goes away, or the follower is killed. The reading itself
//! ([`stream`]: paging back past one answer's cap, following) serves `journalctl` too. Never
//! blocks on anything but the control socket and stdout. With `--boot N` (and `--list-boots`) the
//! lines come from the persistent journal's files instead ([`crate::journal::persist`]'s
//! reading; no PID 1 involved), found where `log.persist` says, as PID 1 resolves it.

use std::io::Write;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::args::Lines;
use super::status::{Color, Style, paint};
use crate::control::client::{ClientError, call};
use crate::control::proto::{LogFilter, LogLine, Request, Response};
use crate::journal::persist;
use crate::vocab::exit::Exit;

/// How often `-f` asks for new lines.
pub const POLL: Duration = Duration::from_millis(200);

/// `2026-01-02T03:04:05.123Z web.service[42]: text`, or `... web.service[42] stderr: text`;
/// the text as written only when printable or `raw`.
pub fn render(line: &LogLine, style: Style, raw: bool) -> Vec<u8> {
    let stream = match &line.syslog {
        Some(fields) => format!(" {}", fields.identifier.as_deref().unwrap_or("syslog")),
        None if line.stderr => format!(" {}", paint("stderr", Some(Color::Red), style)),
        None => String::new(),
    };
    crate::vocab::text::journal_line(
        &timestamp(line.ms),
        &line.unit,
        line.pid,
        &stream,
        line.bytes(),
        raw,
    )
}

/// Milliseconds since the epoch as ISO 8601 in UTC, to the millisecond.
pub fn timestamp(ms: u64) -> String {
    let secs = i64::try_from(ms / 1000).unwrap_or(0);
    let (y, m, d) = crate::vocab::time::civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        t / 3600,
        t % 3600 / 60,
        t % 60,
        ms % 1000
    )
}

/// One line as text or as a JSON line (JSON escapes control characters itself).
fn format(line: &LogLine, (json, raw): (bool, bool), style: Style) -> Vec<u8> {
    if json {
        // A LogLine always serializes; an empty line would only mean a bug here.
        let mut text = serde_json::to_vec(line).unwrap_or_default();
        text.push(b'\n');
        text
    } else {
        render(line, style, raw)
    }
}

/// How a write to stdout went.
enum Written {
    Ok,
    /// The reader went away (EPIPE): stop quietly.
    Gone,
    Failed(std::io::Error),
}

fn write_out(text: &[u8]) -> Written {
    let mut out = std::io::stdout().lock();
    match out.write_all(text).and_then(|()| out.flush()) {
        Ok(()) => Written::Ok,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Written::Gone,
        Err(e) => Written::Failed(e),
    }
}

/// Whether stdout's reader has gone (a pipe whose other end closed): POLLERR or POLLHUP on
/// our end, waiting at most `timeout` for it. This is the follower's sleep, so `logs -f |
/// head -1` ends when head does, not at the next line.
pub fn reader_gone(timeout: Duration) -> bool {
    let stdout = std::io::stdout();
    let mut fds = [nix::poll::PollFd::new(
        stdout.as_fd(),
        nix::poll::PollFlags::empty(),
    )];
    let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
    match nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(ms)) {
        Ok(n) if n > 0 => fds[0].revents().is_some_and(|r| {
            r.intersects(nix::poll::PollFlags::POLLERR | nix::poll::PollFlags::POLLHUP)
        }),
        Ok(_) => false,
        Err(_) => {
            // EINTR or an unpollable stdout: sleep instead.
            std::thread::sleep(timeout);
            false
        }
    }
}

/// Which lines a reader wants: one unit's (or all), and journalctl's matches.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub unit: Option<String>,
    pub filter: LogFilter,
}

impl Query {
    fn request(&self, lines: usize, after: u64, before: u64) -> Request {
        Request::Logs {
            unit: self.unit.clone(),
            lines,
            after,
            before,
            filter: self.filter.clone(),
        }
    }
}

/// How reading the journal ended.
#[derive(Debug)]
pub enum Ended {
    /// All was written (and, following, bosun stopped: the stream has ended).
    Done,
    /// stdout's reader went away.
    Gone,
    /// Writing to stdout failed.
    WriteFailed(std::io::Error),
    /// bosun refused the call: its message and exit code.
    Refused(String, u8),
    /// bosun answered something else.
    Unexpected(Box<Response>),
    /// bosun could not be reached for the first call.
    Unreachable(ClientError),
}

/// Ask bosun for the last `n` lines `query` wants (then, with `follow`, the new ones as they
/// come, every [`POLL`]) and hand each answer's lines to `sink`, which writes them. Ends when
/// all is written, stdout's reader goes away, or, following, bosun stops answering (said on
/// stderr under `prog`'s name).
pub fn stream(
    socket: &Path,
    prog: &str,
    query: &Query,
    (n, follow): (usize, bool),
    mut sink: impl FnMut(&[LogLine]) -> Vec<u8>,
) -> Ended {
    let mut after = 0;
    let mut first = true;
    loop {
        // After the first answer, everything newer than what was seen.
        let request = query.request(if first { n } else { usize::MAX }, after, 0);
        let (got, last) = match call(socket, request) {
            Ok(Response::Logs { lines, last, cut }) => {
                // Following, bosun sent the oldest lines; the next call asks for the rest. The
                // last lines, cut to one answer's size, are completed page by page.
                let (lines, complete) = if cut && after == 0 {
                    page_back(socket, query, n, lines)
                } else {
                    (lines, true)
                };
                if !complete {
                    eprintln!(
                        "{prog}: earlier lines left out: bosun sends at most {} lines or {} KiB \
                         at once",
                        crate::control::server::MAX_LOG_LINES,
                        crate::control::server::MAX_LOG_BYTES / 1024
                    );
                }
                (lines, last)
            }
            Ok(Response::Error { message, exit }) => return Ended::Refused(message, exit),
            Ok(other) => return Ended::Unexpected(Box::new(other)),
            // bosun went away while we followed: the stream has ended.
            Err(e) if !first => {
                eprintln!("{prog}: bosun stopped answering ({e}); no more lines");
                return Ended::Done;
            }
            Err(e) => return Ended::Unreachable(e),
        };
        // `-n 0` with an empty journal still starts following from its end.
        if first && n == 0 {
            after = last;
        }
        let text = sink(&got);
        if !text.is_empty() {
            match write_out(&text) {
                Written::Ok => {}
                Written::Gone => return Ended::Gone,
                Written::Failed(e) => return Ended::WriteFailed(e),
            }
        }
        after = after.max(last);
        if !follow {
            return Ended::Done;
        }
        first = false;
        if reader_gone(POLL) {
            return Ended::Gone;
        }
    }
}

/// `logs`: print the last lines, then with `follow` the new ones as they come; `shape` is
/// (`--json`, `--all`).
pub fn run(
    socket: &Path,
    prog: &str,
    unit: Option<String>,
    lines: Lines,
    follow: bool,
    shape: (bool, bool),
) -> Exit {
    let json = shape.0;
    let style = if json {
        Style::default()
    } else {
        Style::for_stdout()
    };
    let n = match lines {
        Lines::Last(n) => n,
        Lines::All => usize::MAX,
    };
    let query = Query {
        unit,
        filter: LogFilter::default(),
    };
    let ended = stream(socket, prog, &query, (n, follow), |got| {
        got.iter().flat_map(|l| format(l, shape, style)).collect()
    });
    match ended {
        Ended::Done | Ended::Gone => Exit::Success,
        Ended::WriteFailed(e) => {
            eprintln!("{prog}: cannot write to stdout: {e}");
            Exit::Failure
        }
        Ended::Refused(message, exit) => {
            eprintln!("{prog}: {message}");
            Exit::Code(exit)
        }
        Ended::Unexpected(other) => {
            eprintln!("{prog}: unexpected answer from bosun: {other:?}");
            Exit::Failure
        }
        Ended::Unreachable(e) => super::unreachable(prog, socket, &e),
    }
}

/// Complete `lines`, the last lines of the journal as one answer could hold them, with the
/// lines before them, one answer at a time, until there are `n` or the journal's start is
/// reached. False when an answer failed on the way (what came is kept).
fn page_back(
    socket: &Path,
    query: &Query,
    n: usize,
    mut lines: Vec<LogLine>,
) -> (Vec<LogLine>, bool) {
    loop {
        let (Some(oldest), want) = (lines.first().map(|l| l.seq), n.saturating_sub(lines.len()))
        else {
            return (lines, true);
        };
        if want == 0 {
            return (lines, true);
        }
        match call(socket, query.request(want, 0, oldest)) {
            Ok(Response::Logs {
                lines: mut page,
                cut,
                ..
            }) => {
                let more = cut && !page.is_empty();
                page.append(&mut lines);
                lines = page;
                if !more {
                    return (lines, true);
                }
            }
            _ => return (lines, false),
        }
    }
}

/// The persistent journal's directory as `log.persist` names it (`auto`: the data volume's
/// `.bosun/journal`), from the same settings PID 1 reads; None when it is off.
fn journal_dir() -> Result<Option<PathBuf>, String> {
    let env = crate::config::settings()?;
    let root = crate::config::root(&env)?;
    let volume = crate::config::volume(&env, &root, crate::vocab::text::Format::Prefixed)?;
    let (setting, _) = crate::config::persist(&env)?;
    Ok(setting.dir(&root, Some(&volume.host(&volume.data_dir))))
}

/// One run the persistent journal holds, as `--list-boots` lists it and `-b` names it.
#[derive(Debug, Clone)]
pub struct Run {
    /// Its id: the boot ID of that run's PID 1.
    pub id: String,
    /// Its first and last lines' times (ms since the epoch).
    pub first_ms: u64,
    pub last_ms: u64,
    boot: persist::Boot,
}

impl Run {
    /// Its last `n` lines that `filter` wants (journalctl's matches, read by the same
    /// [`crate::journal::ring::Filter`] PID 1 applies to its rings), oldest first; refused as
    /// PID 1 refuses them when `-u` globs match no unit of the run.
    pub fn lines(&self, filter: &LogFilter, n: usize) -> Result<Vec<LogLine>, String> {
        let filter = filter.to_filter();
        let (lines, unit_seen) = self.select(&filter, n);
        if filter.globs_only() && !unit_seen {
            return Err(crate::journal::ring::NO_UNIT_DATA.to_owned());
        }
        Ok(lines)
    }

    /// Its last `n` lines that `filter` wants, and whether it holds a line of a unit the
    /// filter wants.
    fn select(&self, filter: &crate::journal::ring::Filter, n: usize) -> (Vec<LogLine>, bool) {
        let mut kept: std::collections::VecDeque<LogLine> = std::collections::VecDeque::new();
        let mut unit_seen = false;
        for record in self.boot.records() {
            unit_seen = unit_seen || filter.wants_unit(&record.line.unit);
            if n == 0 || !filter.matches(&record.line) {
                continue;
            }
            if kept.len() == n {
                kept.pop_front();
            }
            kept.push_back(record.line);
        }
        (kept.into(), unit_seen)
    }
}

/// journalctl's refusal of `-u` globs that match no unit of the journal.
pub const NO_UNIT_DATA: &str = crate::journal::ring::NO_UNIT_DATA;

/// The last `n` lines `filter` wants of all of `runs` together, newest runs read first until
/// there are `n`: each run's lines (oldest first) with its place in `runs`, oldest run first;
/// and, when `-u` gives globs only, whether any run holds a line of a unit they match
/// (journalctl refuses them only when no boot does; true without such globs).
pub fn tail(runs: &[Run], filter: &LogFilter, n: usize) -> (Vec<(usize, Vec<LogLine>)>, bool) {
    let filter = filter.to_filter();
    let mut out = Vec::new();
    let mut want = n;
    // Whether a run holds a wanted unit matters only for globs.
    let mut seen = !filter.globs_only();
    for (at, run) in runs.iter().enumerate().rev() {
        if want == 0 && seen {
            break;
        }
        let (lines, unit_seen) = run.select(&filter, want);
        seen = seen || unit_seen;
        want -= lines.len();
        out.push((at, lines));
    }
    out.reverse();
    (out, seen)
}

/// The runs the persistent journal holds, oldest first; None when `log.persist` is off.
pub fn runs() -> Result<Option<Vec<Run>>, String> {
    let Some(dir) = journal_dir()? else {
        return Ok(None);
    };
    let boots = persist::list_boots(&dir).map_err(|e| crate::log::error_chain(&e))?;
    Ok(Some(
        boots
            .into_iter()
            .map(|boot| {
                let first_ms = boot.first_ms().unwrap_or(boot.start_ms);
                Run {
                    id: boot.id.clone(),
                    first_ms,
                    last_ms: boot.last_ms().unwrap_or(first_ms),
                    boot,
                }
            })
            .collect(),
    ))
}

/// The runs, or why there are none to read: `log.persist` is off, or the directory cannot
/// be read (said under `prog`).
fn runs_or_say(prog: &str) -> Option<Vec<Run>> {
    match runs() {
        Ok(Some(runs)) => Some(runs),
        Ok(None) => {
            eprintln!("{prog}: the persistent journal is off (log.persist: off)");
            None
        }
        Err(message) => {
            eprintln!("{prog}: {message}");
            None
        }
    }
}

/// `logs --boot N [-n N] [UNIT]`: the last lines of run `boot` (of `unit`, or all) from the
/// persistent journal's files; `shape` is (`--json`, `--all`).
pub fn persisted(
    prog: &str,
    (unit, lines): (Option<&str>, Lines),
    boot: i64,
    shape: (bool, bool),
) -> Exit {
    let Some(runs) = runs_or_say(prog) else {
        return Exit::Failure;
    };
    let Some(run) = find_run(&runs, boot) else {
        let dir = journal_dir().ok().flatten().unwrap_or_default();
        let e = persist::PersistError::NoSuchBoot {
            path: dir,
            offset: boot,
        };
        eprintln!("{prog}: {}", crate::log::error_chain(&e));
        return Exit::Failure;
    };
    let n = match lines {
        Lines::Last(n) => n,
        Lines::All => usize::MAX,
    };
    // initctl names one unit exactly; a name is its own glob.
    let filter = LogFilter {
        units: unit.map(str::to_owned).into_iter().collect(),
        ..LogFilter::default()
    };
    let style = if shape.0 {
        Style::default()
    } else {
        Style::for_stdout()
    };
    let lines = match run.lines(&filter, n) {
        Ok(lines) => lines,
        Err(message) => {
            eprintln!("{prog}: {message}");
            return Exit::Failure;
        }
    };
    let text: Vec<u8> = lines.iter().flat_map(|l| format(l, shape, style)).collect();
    match write_out(&text) {
        Written::Ok | Written::Gone => Exit::Success,
        Written::Failed(e) => {
            eprintln!("{prog}: cannot write to stdout: {e}");
            Exit::Failure
        }
    }
}

/// The run `offset` names, as journalctl's `-b` counts: 0 the newest, -1 the one before, ...;
/// 1 the oldest kept, 2 the next.
pub fn find_run<T>(runs: &[T], offset: i64) -> Option<&T> {
    persist::find_boot(runs, offset)
}

/// One run as `--list-boots --json` gives it (journalctl's fields; times in µs).
#[derive(Debug, serde::Serialize)]
struct BootJson {
    index: i64,
    boot_id: String,
    first_entry: u64,
    last_entry: u64,
}

/// `logs --list-boots`: the runs the persistent journal holds, oldest first, as journalctl
/// lists them (`IDX BOOT ID FIRST ENTRY LAST ENTRY`).
pub fn list_boots(prog: &str, json: bool) -> Exit {
    let Some(runs) = runs_or_say(prog) else {
        return Exit::Failure;
    };
    let count = i64::try_from(runs.len()).unwrap_or(i64::MAX);
    let rows: Vec<BootJson> = (0..)
        .zip(&runs)
        .map(|(k, run)| BootJson {
            index: k + 1 - count,
            boot_id: run.id.clone(),
            first_entry: run.first_ms * 1000,
            last_entry: run.last_ms * 1000,
        })
        .collect();
    let text = if json {
        let mut text = serde_json::to_vec(&rows).unwrap_or_default();
        text.push(b'\n');
        text
    } else {
        let mut text = format!(
            "{:>3} {:32} {:24} {:24}\n",
            "IDX", "BOOT ID", "FIRST ENTRY", "LAST ENTRY"
        );
        for row in &rows {
            text.push_str(&format!(
                "{:>3} {:32} {:24} {:24}\n",
                row.index,
                row.boot_id,
                timestamp(row.first_entry / 1000),
                timestamp(row.last_entry / 1000)
            ));
        }
        text.into_bytes()
    };
    match write_out(&text) {
        Written::Ok | Written::Gone => Exit::Success,
        Written::Failed(e) => {
            eprintln!("{prog}: cannot write to stdout: {e}");
            Exit::Failure
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(stderr: bool) -> LogLine {
        LogLine {
            seq: 7,
            unit: "web.service".into(),
            pid: 42,
            ms: 1_767_323_045_123,
            stderr,
            text: "hello: world".into(),
            raw: None,
            syslog: None,
            transport: String::new(),
            stdio: None,
        }
    }

    #[test]
    fn lines_show_time_unit_pid_and_stream() {
        assert_eq!(
            render(&line(false), Style::default(), false),
            b"2026-01-02T03:04:05.123Z web.service[42]: hello: world\n"
        );
        assert_eq!(
            render(&line(true), Style::default(), false),
            b"2026-01-02T03:04:05.123Z web.service[42] stderr: hello: world\n"
        );
        let json = String::from_utf8(format(&line(true), (true, false), Style::default())).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["unit"], "web.service");
        assert_eq!(value["stderr"], true);
        assert_eq!(value["seq"], 7);
        assert!(json.ends_with("}\n") && json.matches('\n').count() == 1);
    }

    #[test]
    fn control_bytes_reach_the_terminal_only_with_all() {
        let mut title = line(false);
        title.text = "\u{1b}]0;owned\u{7}".into();
        assert_eq!(
            render(&title, Style::default(), false),
            b"2026-01-02T03:04:05.123Z web.service[42]: [10B blob data]\n"
        );
        assert!(render(&title, Style::default(), true).ends_with(b": \x1b]0;owned\x07\n"));
        // Not UTF-8: the bytes as written come in `raw`, the blob counts them.
        let mut binary = line(false);
        binary.text = "\u{fffd}\u{fffd}".into();
        binary.raw = Some(vec![0xff, 0xfe]);
        assert!(render(&binary, Style::default(), false).ends_with(b": [2B blob data]\n"));
        assert!(render(&binary, Style::default(), true).ends_with(b": \xff\xfe\n"));
        let json = format(&binary, (true, false), Style::default());
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["raw"], serde_json::json!([255, 254]));
    }
}
