//! Which boots `journalctl` sees: the runs the persistent journal holds (`log.persist`) and
//! the running bosun's, which one `-b` names ([`choose`], journalctl's add_boot()), and
//! `--list-boots` (systemd 252's table, or its JSON). Deciding and printing only: the lines
//! themselves are read by the module above.

use std::path::Path;

use super::args::{Args, Boot};
use super::output::Mode;
use super::{failed, write_text};
use crate::cli::initctl::logs::{Query, Run, stream};
use crate::vocab::exit::Exit;

/// Which boot `-b` names, among the runs the persistent journal holds (`log.persist`) and the
/// running bosun's: the one place that decides which boots there are.
#[derive(Debug)]
pub(super) enum BootChoice {
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

/// The runs the persistent journal holds and which of the boots `-b` names (None: no `-b`,
/// or `-b all`: every boot, as journalctl reads all its files), `live` the running bosun's
/// boot ID. With [`BootChoice::All`] the runs are the earlier ones only (not `live`'s).
pub(super) fn resolve(boot: Option<&Boot>, live: Option<&str>) -> (Vec<Run>, BootChoice) {
    let found = crate::cli::initctl::logs::runs();
    let Some(boot) = boot else {
        return match found {
            Ok(Some(runs)) => {
                let earlier: Vec<Run> = runs
                    .into_iter()
                    .filter(|r| Some(r.id.as_str()) != live)
                    .collect();
                let choice = if earlier.is_empty() {
                    BootChoice::Live
                } else {
                    BootChoice::All
                };
                (earlier, choice)
            }
            Ok(None) => (Vec::new(), BootChoice::Live),
            Err(message) => {
                eprintln!(
                    "Failed to read the persistent journal, showing this boot only: {message}"
                );
                (Vec::new(), BootChoice::Live)
            }
        };
    };
    match found {
        Ok(found) => {
            let persisted = found.is_some();
            let runs = found.unwrap_or_default();
            let ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
            let choice = choose(boot, persisted.then_some(ids.as_slice()), live);
            (runs, choice)
        }
        Err(message) => (
            Vec::new(),
            BootChoice::Missing(
                format!("Failed to determine boots: {message}"),
                Exit::Failure,
            ),
        ),
    }
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
pub(super) fn list_boots(
    socket: &Path,
    args: &Args,
    (live, this_boot): (Option<&str>, &str),
) -> Exit {
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
