//! `journalctl` (a symlink to bosun, or `bosun journalctl`): systemd 252's journalctl over
//! the journal bosun keeps: this boot's in PID 1's memory, read over the control socket (PID 1
//! applies the matches, `-u`, `-t`, `-p`, `--since`, `--until`, before its answers' caps, so
//! `-n` counts matching lines), and earlier boots' in the persistent journal's files
//! (`log.persist`), read through `initctl logs`'s reader with the same filter. This side
//! parses ([`args`]), pages, follows and renders ([`output`], which `systemctl status`
//! shares), with journalctl's words and exit codes (0, or 1 with the reason on stderr). Never
//! starts a pager. Which boots exist and which one `-b` names is one function's decision
//! (`boots`).

pub mod args;
mod boots;
pub mod output;
pub mod time;

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

use crate::cli::initctl::logs::{Ended, Query, Run, stream};
use crate::control::proto::{LogFilter, LogLine};
use crate::vocab::exit::Exit;
use args::{Args, Lines, Parsed};
use boots::{BootChoice, list_boots};
use output::Context;

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
    let (runs, choice) = boots::resolve(args.boot.as_ref(), live.as_deref());
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
