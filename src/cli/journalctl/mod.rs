//! `journalctl` (a symlink to bosun, or `bosun journalctl`): systemd 252's journalctl over
//! the journal bosun keeps: this boot's in PID 1's memory, read over the control socket (PID 1
//! applies the matches, `-u`, `-t`, `-p`, `--since`, `--until`, before its answers' caps, so
//! `-n` counts matching lines), and earlier boots' in the persistent journal's files
//! (`log.persist`), read through `initctl logs`'s reader with the same filter. This side
//! parses ([`args`]), pages, follows and renders ([`output`], which `systemctl status`
//! shares), with journalctl's words and exit codes (0, or 1 with the reason on stderr). Never
//! starts a pager. Which boots exist and which one `-b` names is one function's decision
//! (`choose`).

pub mod args;
pub mod output;
pub mod time;

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

use crate::cli::initctl::logs::{Ended, Query, Run, stream};
use crate::control::proto::{LogFilter, LogLine};
use crate::vocab::exit::Exit;
use args::{Args, Boot, Lines, Parsed};
use output::{Context, Mode};

/// `journalctl ARGS...`; `prog` names the command in getopt's messages.
pub fn main(prog: &str, args: &[OsString]) -> Exit {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let now_us = crate::vocab::time::now_ms().saturating_mul(1000);
    match args::parse(prog, &args, now_us) {
        Err(e) => {
            eprintln!("{}", e.0);
            Exit::Failure
        }
        Ok(Parsed::Print(text)) => write_text(text.as_bytes()),
        Ok(Parsed::Run(args)) => {
            for notice in &args.notices {
                eprintln!("{notice}");
            }
            let root = crate::cli::systemctl::root_of(&crate::cli::systemctl::Options::default());
            run(prog, &args, &root)
        }
    }
}

/// Write `text` to stdout; a reader that went away is no error.
fn write_text(text: &[u8]) -> Exit {
    let mut out = std::io::stdout().lock();
    match out.write_all(text).and_then(|()| out.flush()) {
        Ok(()) => Exit::Success,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Success,
        Err(e) => {
            eprintln!("Failed to write to stdout: {e}");
            Exit::Failure
        }
    }
}

/// Which boot `-b` names, among the runs the persistent journal holds (`log.persist`) and the
/// running bosun's: the one place that decides which boots there are.
#[derive(Debug)]
enum BootChoice {
    /// The running bosun's boot: what its journal holds, read (and followed) over the socket.
    Live,
    /// An earlier run, read from the persistent journal's files: its place among the runs.
    Past(usize),
    /// Every boot (no `-b`, or `-b all`): the earlier runs' lines from the files, then the
    /// running bosun's.
    All,
    /// No such boot: the message, and the exit code.
    Missing(String, Exit),
}

/// systemd 252's sentence for a boot the journal does not hold (add_boot(): exit 1).
fn not_available(what: &str) -> BootChoice {
    BootChoice::Missing(
        format!(
            "Data from the specified boot ({what}) is not available: No such boot ID in journal"
        ),
        Exit::Failure,
    )
}

/// journalctl's add_boot(), and the check its run() makes before it, over bosun's journals:
/// `runs` the persisted runs (None: `log.persist` is off), `live` the running bosun's boot ID.
/// Without persisted runs an offset has no effect (journalctl with runtime files only says so
/// and exits 0, showing nothing); otherwise the boots are the runs, oldest first, with the live
/// one last if the files do not hold it yet, and `-b` counts as journalctl does.
fn choose(boot: &Boot, runs: Option<&[&str]>, live: Option<&str>) -> BootChoice {
    let persisted = runs.is_some_and(|r| !r.is_empty());
    if !persisted {
        if boot.offset != 0 {
            let mut said = "Specifying boot ID or boot offset has no effect, no persistent \
                            journal was found."
                .to_owned();
            if runs.is_none() {
                said.push_str(
                    "\nHint: bosun keeps earlier runs when log.persist is on (see \"Reading \
                     the logs of the last run\" in bosun's README).",
                );
            }
            return BootChoice::Missing(said, Exit::Success);
        }
        return match &boot.id {
            Some(id) if Some(id.as_str()) != live => not_available(id),
            _ => BootChoice::Live,
        };
    }
    let runs = runs.unwrap_or_default();
    let mut ids: Vec<&str> = runs.to_vec();
    if let Some(live) = live.filter(|l| !ids.contains(l)) {
        ids.push(live);
    }
    let index = match &boot.id {
        None => {
            let offset = i64::from(boot.offset);
            match crate::cli::initctl::logs::find_run(&ids, offset) {
                Some(id) => ids.iter().position(|i| i == id),
                None => return not_available(&format!("{offset:+}")),
            }
        }
        Some(id) => ids
            .iter()
            .position(|i| i == id)
            .and_then(|at| at.checked_add_signed(isize::try_from(boot.offset).ok()?))
            .filter(|at| *at < ids.len()),
    };
    let Some(index) = index else {
        return not_available(boot.id.as_deref().unwrap_or_default());
    };
    if Some(ids[index]) == live {
        return BootChoice::Live;
    }
    // The live boot is the last of `ids` when the files do not hold it.
    if index < runs.len() {
        BootChoice::Past(index)
    } else {
        BootChoice::Live
    }
}

/// `--list-boots`: the runs the persistent journal holds and the running one, as systemd 252's
/// list_boots() prints its table (`IDX BOOT ID FIRST ENTRY LAST ENTRY`, the header unless
/// `-q`, newest last unless `-r`); nothing when there is none.
fn list_boots(socket: &Path, args: &Args, (live, this_boot): (Option<&str>, &str)) -> Exit {
    let runs = match crate::cli::initctl::logs::runs() {
        Ok(runs) => runs.unwrap_or_default(),
        Err(message) => {
            eprintln!("Failed to determine boots: {message}");
            return Exit::Failure;
        }
    };
    let mut rows: Vec<(String, u64, u64)> = runs
        .iter()
        .map(|r| (r.id.clone(), r.first_ms, r.last_ms))
        .collect();
    // The running bosun's boot, unless the files hold it; asked of it also when there are
    // no files and it did not answer (then it says it is not running here).
    let ask = match live {
        Some(live) => !runs.iter().any(|r| r.id == live),
        None => runs.is_empty(),
    };
    if ask {
        let live = live.unwrap_or(this_boot);
        let mut first = None;
        let mut last = None;
        let ended = stream(
            socket,
            "journalctl",
            &Query::default(),
            (usize::MAX, false),
            |got| {
                first = first.or(got.first().map(|l| l.ms));
                last = got.last().map(|l| l.ms).or(last);
                Vec::new()
            },
        );
        if let Some(exit) = failed(socket, ended) {
            return exit;
        }
        if let (Some(first), Some(last)) = (first, last) {
            rows.push((live.to_owned(), first, last));
        }
    }
    if rows.is_empty() {
        return Exit::Success;
    }
    let text = match args.output {
        Mode::Json | Mode::JsonPretty | Mode::JsonSse | Mode::JsonSeq => {
            boots_json(&rows, args.output, args.reverse)
        }
        _ => boots_table(&rows, args.quiet, args.reverse),
    };
    write_text(text.as_bytes())
}

/// The boots as format-table gives its table in JSON (`-o json` and the other JSON modes): an
/// array of `{"index", "boot_id", "first_entry", "last_entry"}` (times in µs), one line, or
/// indented as systemd's pretty JSON for `json-pretty`.
fn boots_json(rows: &[(String, u64, u64)], mode: Mode, reverse: bool) -> String {
    let count = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let mut objects: Vec<[(&str, serde_json::Value); 4]> = (0..)
        .zip(rows)
        .map(|(k, (id, first, last))| {
            [
                ("index", (k + 1 - count).into()),
                ("boot_id", id.clone().into()),
                ("first_entry", first.saturating_mul(1000).into()),
                ("last_entry", last.saturating_mul(1000).into()),
            ]
        })
        .collect();
    if reverse {
        objects.reverse();
    }
    let text = if mode == Mode::JsonPretty {
        let items: Vec<String> = objects
            .iter()
            .map(|o| {
                let body: Vec<String> = o
                    .iter()
                    .map(|(k, v)| format!("                \"{k}\" : {v}"))
                    .collect();
                format!("        {{\n{}\n        }}", body.join(",\n"))
            })
            .collect();
        format!("[\n{}\n]", items.join(",\n"))
    } else {
        let items: Vec<String> = objects
            .iter()
            .map(|o| {
                let body: Vec<String> = o.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", body.join(","))
            })
            .collect();
        format!("[{}]", items.join(","))
    };
    match mode {
        Mode::JsonSse => format!("data: {text}\n\n"),
        Mode::JsonSeq => format!("\x1e{text}\n"),
        _ => format!("{text}\n"),
    }
}

/// format-table's rendering of the boots: columns as wide as their widest cell, one space
/// apart, every cell padded (the index right-aligned).
fn boots_table(rows: &[(String, u64, u64)], quiet: bool, reverse: bool) -> String {
    let stamp = crate::cli::systemctl::text::timestamp;
    let count = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let mut cells: Vec<[String; 4]> = (0..)
        .zip(rows)
        .map(|(k, (id, first, last))| {
            [
                (k + 1 - count).to_string(),
                id.clone(),
                stamp(*first),
                stamp(*last),
            ]
        })
        .collect();
    if reverse {
        cells.reverse();
    }
    let header = ["IDX", "BOOT ID", "FIRST ENTRY", "LAST ENTRY"].map(str::to_owned);
    let mut widths = header.clone().map(|h| h.len());
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut text = String::new();
    for row in std::iter::once(&header).filter(|_| !quiet).chain(&cells) {
        let [idx, id, first, last] = row;
        text.push_str(&format!(
            "{idx:>w0$} {id:<w1$} {first:<w2$} {last:<w3$}\n",
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        ));
    }
    text
}

/// The exit for a read that did not end well (None when it did), said as journalctl would.
fn failed(socket: &Path, ended: Ended) -> Option<Exit> {
    match ended {
        Ended::Done | Ended::Gone => None,
        Ended::WriteFailed(e) => {
            eprintln!("Failed to write to stdout: {e}");
            Some(Exit::Failure)
        }
        Ended::Refused(message, _) => {
            eprintln!("{message}");
            Some(Exit::Failure)
        }
        Ended::Unexpected(other) => {
            eprintln!("unexpected answer from bosun: {other:?}");
            Some(Exit::Failure)
        }
        Ended::Unreachable(e) => {
            eprintln!(
                "No journal files were found: bosun is not running here ({}: {e}).",
                socket.display()
            );
            Some(Exit::Failure)
        }
    }
}

/// Run a parsed command line against the bosun whose root is `root`.
pub fn run(prog: &str, args: &Args, root: &Path) -> Exit {
    let socket = crate::control::socket_path(root);
    let live = output::live_boot_id(&socket);
    let mut ctx = Context::here();
    if let Some(id) = &live {
        ctx.boot_id.clone_from(id);
    }
    ctx.all = args.all;
    ctx.no_hostname = args.no_hostname;
    ctx.fields.clone_from(&args.output_fields);
    if args.list_boots {
        return list_boots(&socket, args, (live.as_deref(), &ctx.boot_id));
    }
    let mut runs = Vec::new();
    let choice = match &args.boot {
        // journalctl without -b reads every boot its files hold.
        None => match crate::cli::initctl::logs::runs() {
            Ok(Some(found)) => {
                runs = found
                    .into_iter()
                    .filter(|r| Some(r.id.as_str()) != live.as_deref())
                    .collect();
                if runs.is_empty() {
                    BootChoice::Live
                } else {
                    BootChoice::All
                }
            }
            Ok(None) => BootChoice::Live,
            Err(message) => {
                eprintln!(
                    "Failed to read the persistent journal, showing this boot only: {message}"
                );
                BootChoice::Live
            }
        },
        Some(boot) => match crate::cli::initctl::logs::runs() {
            Ok(found) => {
                let persisted = found.is_some();
                runs = found.unwrap_or_default();
                let ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
                choose(boot, persisted.then_some(ids.as_slice()), live.as_deref())
            }
            Err(message) => BootChoice::Missing(
                format!("Failed to determine boots: {message}"),
                Exit::Failure,
            ),
        },
    };
    let n = match args.lines {
        Lines::Default | Lines::All => usize::MAX,
        Lines::Last(n) => n,
    };
    let query = Query {
        unit: None,
        filter: LogFilter {
            units: args.units.clone(),
            identifiers: args.identifiers.clone(),
            // bosun keeps no kernel messages (_TRANSPORT=kernel): with -k no line matches,
            // and -f waits for lines that never come, as journalctl's would.
            priorities: if args.kernel {
                Some(0)
            } else {
                args.priorities
            },
            since_ms: args.since.map(|us| us / 1000),
            until_ms: args.until.map(|us| us.div_ceil(1000)),
        },
    };
    match choice {
        BootChoice::Missing(message, exit) => {
            eprintln!("{message}");
            exit
        }
        BootChoice::Past(at) => past(args, &mut ctx, &runs[at], &query.filter, n),
        BootChoice::All => every_boot(
            prog,
            args,
            &mut ctx,
            (&socket, live.as_deref()),
            &query,
            &runs,
        ),
        BootChoice::Live => {
            let mut shown = 0usize;
            let ended = stream(&socket, prog, &query, (n, args.follow), |got| {
                shown += got.len();
                render(&mut ctx, args, got)
            });
            let gone = matches!(ended, Ended::Gone);
            if let Some(exit) = failed(&socket, ended) {
                return exit;
            }
            if shown == 0 && !args.follow && !gone {
                return no_entries(args);
            }
            Exit::Success
        }
    }
}

/// Every boot's last lines together (`n` in all, `-n`): the earlier runs' from the persistent
/// journal's files, oldest first, then the running bosun's (`live`, when one answers), which
/// `-f` follows; journalctl's `-- Boot ID --` line between two boots (not with `-q` and the
/// program modes). `-u` globs are refused only when no boot holds a unit they match.
fn every_boot(
    prog: &str,
    args: &Args,
    ctx: &mut Context,
    (socket, live): (&Path, Option<&str>),
    query: &Query,
    runs: &[Run],
) -> Exit {
    use crate::cli::initctl::logs::{NO_UNIT_DATA, tail};
    let n = match args.lines {
        Lines::Default | Lines::All => usize::MAX,
        Lines::Last(n) => n,
    };
    let filter = &query.filter;
    let globs_only = filter.to_filter().globs_only();
    let live_realtime = ctx.boot_realtime_us;
    let mut prev: Option<String> = None;
    let mut shown = 0usize;
    // The earlier runs' last `want` lines, rendered; and whether a run holds a wanted unit.
    let earlier = |ctx: &mut Context, prev: &mut Option<String>, want: usize| {
        let (groups, seen) = tail(runs, filter, want);
        let mut order: Vec<&(usize, Vec<LogLine>)> = groups.iter().collect();
        if args.reverse {
            order.reverse();
        }
        let mut text = Vec::new();
        let mut count = 0;
        for (at, lines) in order {
            let run = &runs[*at];
            count += lines.len();
            text.extend(boot_lines(
                ctx,
                args,
                (&run.id, run.first_ms * 1000),
                lines,
                prev,
            ));
        }
        (text, count, seen)
    };
    let Some(live) = live else {
        let (text, count, seen) = earlier(ctx, &mut prev, n);
        if globs_only && !seen {
            eprintln!("{NO_UNIT_DATA}");
            return Exit::Failure;
        }
        return shown_or_none(args, &text, count);
    };
    let mut past_done = false;
    let ended = stream(socket, prog, query, (n, args.follow), |got| {
        let mut text = Vec::new();
        let now = (live, live_realtime);
        if past_done {
            text.extend(boot_lines(ctx, args, now, got, &mut prev));
        } else {
            past_done = true;
            if args.reverse {
                text.extend(boot_lines(ctx, args, now, got, &mut prev));
            }
            let (past, count, _) = earlier(ctx, &mut prev, n.saturating_sub(got.len()));
            text.extend(past);
            shown += count;
            if !args.reverse {
                text.extend(boot_lines(ctx, args, now, got, &mut prev));
            }
        }
        shown += got.len();
        text
    });
    match ended {
        // No unit of this boot matches the globs: an earlier boot's may.
        Ended::Refused(message, _) if globs_only && !past_done => {
            let (text, count, seen) = earlier(ctx, &mut prev, n);
            if !seen {
                eprintln!("{message}");
                return Exit::Failure;
            }
            shown_or_none(args, &text, count)
        }
        ended => {
            let gone = matches!(ended, Ended::Gone);
            if let Some(exit) = failed(socket, ended) {
                return exit;
            }
            if shown == 0 && !args.follow && !gone {
                return no_entries(args);
            }
            Exit::Success
        }
    }
}

/// Write `text` (`count` lines), or journalctl's "-- No entries --".
fn shown_or_none(args: &Args, text: &[u8], count: usize) -> Exit {
    if count == 0 && !args.follow {
        return no_entries(args);
    }
    write_text(text)
}

/// One boot's lines rendered with its boot ID and its start as the monotonic clock's zero
/// (`boot`: the ID and that start in µs), after journalctl's `-- Boot ID --` line when the
/// line before was another boot's (not with `-q`, which the program modes imply).
fn boot_lines(
    ctx: &mut Context,
    args: &Args,
    (id, realtime_us): (&str, u64),
    lines: &[LogLine],
    prev: &mut Option<String>,
) -> Vec<u8> {
    let mut text = Vec::new();
    if lines.is_empty() {
        return text;
    }
    if prev.as_deref().is_some_and(|p| p != id) && !args.quiet {
        text.extend(format!("-- Boot {id} --\n").into_bytes());
    }
    *prev = Some(id.to_owned());
    ctx.boot_id = id.to_owned();
    ctx.boot_realtime_us = realtime_us;
    text.extend(render(ctx, args, lines));
    text
}

/// The lines in the order and the mode asked for.
fn render(ctx: &mut Context, args: &Args, lines: &[LogLine]) -> Vec<u8> {
    let mut text = Vec::new();
    if args.reverse {
        for line in lines.iter().rev() {
            text.extend(ctx.render(line, args.output));
        }
    } else {
        for line in lines {
            text.extend(ctx.render(line, args.output));
        }
    }
    text
}

/// journalctl's "-- No entries --" (unless `-q`).
fn no_entries(args: &Args) -> Exit {
    if args.quiet {
        Exit::Success
    } else {
        write_text(b"-- No entries --\n")
    }
}

/// An earlier run's last `n` lines that `filter` wants, from the persistent journal's files,
/// rendered as the live boot's are with that run's boot ID (and its start as the monotonic
/// clock's zero). With `-f`, journalctl then waits for lines of that boot, which never come:
/// until stdout's reader goes away or it is killed.
fn past(args: &Args, ctx: &mut Context, run: &Run, filter: &LogFilter, n: usize) -> Exit {
    ctx.boot_id.clone_from(&run.id);
    ctx.boot_realtime_us = run.first_ms.saturating_mul(1000);
    let lines = match run.lines(filter, n) {
        Ok(lines) => lines,
        Err(message) => {
            eprintln!("{message}");
            return Exit::Failure;
        }
    };
    if lines.is_empty() && !args.follow {
        return no_entries(args);
    }
    let exit = write_text(&render(ctx, args, &lines));
    if args.follow && exit == Exit::Success {
        while !crate::cli::initctl::logs::reader_gone(crate::cli::initctl::logs::POLL) {}
    }
    exit
}

#[cfg(test)]
mod tests {
    use super::*;

    const THIS: &str = "0123456789abcdef0123456789abcdef";
    const OLD: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const OLDER: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn boot(id: Option<&str>, offset: i32) -> Boot {
        Boot {
            id: id.map(str::to_owned),
            offset,
        }
    }

    fn missing(choice: BootChoice) -> (String, Exit) {
        match choice {
            BootChoice::Missing(said, exit) => (said, exit),
            other => panic!("found a boot: {other:?}"),
        }
    }

    #[test]
    fn without_a_persistent_journal_only_this_boot_is_there() {
        assert!(matches!(
            choose(&boot(None, 0), None, Some(THIS)),
            BootChoice::Live
        ));
        assert!(matches!(
            choose(&boot(Some(THIS), 0), None, Some(THIS)),
            BootChoice::Live
        ));
        // journalctl with runtime files only: an offset has no effect, said, exit 0.
        let (said, exit) = missing(choose(&boot(None, -1), None, Some(THIS)));
        assert!(
            said.starts_with(
                "Specifying boot ID or boot offset has no effect, no persistent journal was found."
            ),
            "{said}"
        );
        assert!(said.contains("log.persist"), "{said}");
        assert_eq!(exit, Exit::Success);
        let (said, exit) = missing(choose(&boot(Some(OLD), 0), None, Some(THIS)));
        assert_eq!(
            said,
            format!(
                "Data from the specified boot ({OLD}) is not available: No such boot ID in journal"
            )
        );
        assert_eq!(exit, Exit::Failure);
    }

    #[test]
    fn boots_count_over_the_persisted_runs_and_this_one() {
        let runs = [OLDER, OLD, THIS];
        let pick = |b: Boot| choose(&b, Some(&runs), Some(THIS));
        assert!(matches!(pick(boot(None, 0)), BootChoice::Live));
        assert!(matches!(pick(boot(None, -1)), BootChoice::Past(1)));
        assert!(matches!(pick(boot(None, -2)), BootChoice::Past(0)));
        assert!(matches!(pick(boot(None, 1)), BootChoice::Past(0)));
        assert!(matches!(pick(boot(None, 3)), BootChoice::Live));
        assert!(matches!(pick(boot(Some(OLD), 0)), BootChoice::Past(1)));
        assert!(matches!(pick(boot(Some(OLD), 1)), BootChoice::Live));
        assert!(matches!(pick(boot(Some(THIS), -2)), BootChoice::Past(0)));
        let (said, exit) = missing(pick(boot(None, -3)));
        assert_eq!(
            said,
            "Data from the specified boot (-3) is not available: No such boot ID in journal"
        );
        assert_eq!(exit, Exit::Failure);
        assert!(missing(pick(boot(None, 4))).0.contains("(+4)"));
        assert!(missing(pick(boot(Some(OLD), 2))).0.contains(OLD));
        let other = "ffffffffffffffffffffffffffffffff";
        assert_eq!(missing(pick(boot(Some(other), 0))).1, Exit::Failure);
        // The running boot the files do not hold yet comes last; without bosun running the
        // newest run is boot 0.
        let (older, old) = ([OLDER, OLD], Some(THIS));
        assert!(matches!(
            choose(&boot(None, -1), Some(&older), old),
            BootChoice::Past(1)
        ));
        assert!(matches!(
            choose(&boot(None, 0), Some(&older), None),
            BootChoice::Past(1)
        ));
    }

    #[test]
    fn the_boots_table_is_systemds() {
        let rows = [
            (OLD.to_owned(), 1_693_000_000_000, 1_693_000_100_000),
            (THIS.to_owned(), 1_693_000_200_000, 1_693_000_300_000),
        ];
        let table = boots_table(&rows, false, false);
        assert_eq!(
            table,
            format!(
                "IDX BOOT ID                          FIRST ENTRY                 LAST ENTRY                 \n \
                 -1 {OLD} Fri 2023-08-25 21:46:40 UTC Fri 2023-08-25 21:48:20 UTC\n  \
                 0 {THIS} Fri 2023-08-25 21:50:00 UTC Fri 2023-08-25 21:51:40 UTC\n"
            )
        );
        let json: serde_json::Value =
            serde_json::from_str(&boots_json(&rows, Mode::Json, false)).unwrap();
        assert_eq!(json[0]["index"], -1);
        assert_eq!(json[0]["boot_id"], OLD);
        assert_eq!(json[1]["first_entry"], 1_693_000_200_000_000u64);
        let pretty = boots_json(&rows, Mode::JsonPretty, true);
        assert!(
            pretty.starts_with("[\n        {\n                \"index\" : 0,\n"),
            "{pretty}"
        );
        let json: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(json[1]["boot_id"], OLD);
        let quiet_reversed = boots_table(&rows, true, true);
        assert!(
            quiet_reversed.starts_with(&format!("  0 {THIS}")),
            "{quiet_reversed}"
        );
        assert_eq!(quiet_reversed.lines().count(), 2);
    }
}
