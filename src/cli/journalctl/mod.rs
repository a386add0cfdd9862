//! `journalctl` (a symlink to bosun, or `bosun journalctl`): systemd 252's journalctl over
//! the journal bosun keeps in PID 1's memory, read over the control socket. PID 1 applies the
//! matches (`-u`, `-t`, `-p`, `--since`, `--until`) before its answers' caps, so `-n` counts
//! matching lines; this side parses ([`args`]), pages, follows and renders ([`output`], which
//! `systemctl status` shares), with journalctl's words and exit codes (0, or 1 with the
//! reason on stderr). Never starts a pager. Which boots exist is one function's decision
//! (`boots`).

pub mod args;
pub mod output;
pub mod time;

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

use crate::cli::initctl::logs::{Ended, Query, stream};
use crate::control::proto::LogFilter;
use crate::vocab::exit::Exit;
use args::{Args, Boot, Lines, Parsed};
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

/// What `-b`/`--list-boots` find in the journal bosun keeps: the one place that decides which
/// boots there are (a persistent journal adds earlier ones here).
enum BootChoice {
    /// This boot's lines: what bosun's journal holds anyway.
    This,
    /// Another boot, which the journal does not hold: the message, and the exit code.
    Missing(String, Exit),
}

/// journalctl's add_boot() for bosun's journal, which holds this boot only. An offset other
/// than 0 is journalctl's "no persistent journal" case (it says so and exits 0); another
/// boot's ID is "not available" (exit 1).
fn boots(boot: &Boot, this_boot: &str) -> BootChoice {
    match (&boot.id, boot.offset) {
        (_, offset) if offset != 0 => BootChoice::Missing(
            "Specifying boot ID or boot offset has no effect, no persistent journal was found: \
             bosun's journalctl reads this boot only; earlier runs kept by log.persist are \
             read with 'initctl logs --boot -1' (see log.persist)."
                .to_owned(),
            Exit::Success,
        ),
        (Some(id), _) if id != this_boot => BootChoice::Missing(
            format!(
                "Data from the specified boot ({id}) is not available: No such boot ID in journal"
            ),
            Exit::Failure,
        ),
        _ => BootChoice::This,
    }
}

/// `--list-boots`: the one boot bosun's journal holds, with its first and last entries.
fn list_boots(socket: &Path, ctx: &Context) -> Exit {
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
    let (Some(first), Some(last)) = (first, last) else {
        return Exit::Success;
    };
    let stamp = crate::cli::systemctl::text::timestamp;
    write_text(
        format!(
            "IDX BOOT ID                          FIRST ENTRY                 LAST ENTRY\n  \
             0 {} {} {}\n",
            ctx.boot_id,
            stamp(first),
            stamp(last)
        )
        .as_bytes(),
    )
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
    let mut ctx = Context::of(&socket);
    ctx.all = args.all;
    ctx.no_hostname = args.no_hostname;
    ctx.fields.clone_from(&args.output_fields);
    if args.list_boots {
        return list_boots(&socket, &ctx);
    }
    if let Some(boot) = &args.boot
        && let BootChoice::Missing(message, exit) = boots(boot, &ctx.boot_id)
    {
        eprintln!("{message}");
        return exit;
    }
    let quiet = args.quiet;
    let none = || {
        if quiet {
            Exit::Success
        } else {
            write_text(b"-- No entries --\n")
        }
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
    let mut shown = 0usize;
    let ended = stream(&socket, prog, &query, (n, args.follow), |got| {
        shown += got.len();
        let mut text = Vec::new();
        if args.reverse {
            for line in got.iter().rev() {
                text.extend(ctx.render(line, args.output));
            }
        } else {
            for line in got {
                text.extend(ctx.render(line, args.output));
            }
        }
        text
    });
    let gone = matches!(ended, Ended::Gone);
    if let Some(exit) = failed(&socket, ended) {
        return exit;
    }
    if shown == 0 && !args.follow && !gone {
        return none();
    }
    Exit::Success
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_boot_is_there() {
        let this = "0123456789abcdef0123456789abcdef";
        let boot = |id: Option<&str>, offset| Boot {
            id: id.map(str::to_owned),
            offset,
        };
        assert!(matches!(boots(&boot(None, 0), this), BootChoice::This));
        assert!(matches!(
            boots(&boot(Some(this), 0), this),
            BootChoice::This
        ));
        let BootChoice::Missing(said, exit) = boots(&boot(None, -1), this) else {
            panic!("-b -1 found a boot");
        };
        assert!(said.contains("see log.persist"), "{said}");
        assert_eq!(exit, Exit::Success);
        let other = "ffffffffffffffffffffffffffffffff";
        let BootChoice::Missing(said, exit) = boots(&boot(Some(other), 0), this) else {
            panic!("another boot's ID found a boot");
        };
        assert!(said.contains("No such boot ID in journal"), "{said}");
        assert_eq!(exit, Exit::Failure);
    }
}
