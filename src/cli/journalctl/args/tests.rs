use super::*;

/// 2026-12-06 13:00:00 UTC.
const NOW: u64 = 1_796_562_000_000_000;

fn run(words: &[&str]) -> Args {
    let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
    match parse("journalctl", &words, NOW) {
        Ok(Parsed::Run(args)) => *args,
        other => panic!("{words:?}: {other:?}"),
    }
}

fn refused(words: &[&str]) -> String {
    let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
    match parse("journalctl", &words, NOW) {
        Err(UsageError(text)) => text,
        other => panic!("{words:?} was not refused: {other:?}"),
    }
}

#[test]
fn the_advice_bosun_prints_parses() {
    // "See 'journalctl -xeu web.service' for details."
    let a = run(&["-xeu", "web.service"]);
    assert_eq!(a.units, ["web.service"]);
    assert_eq!(a.lines, Lines::Last(1000));
    let a = run(&["-xe"]);
    assert!(a.units.is_empty());
    assert_eq!(a.lines, Lines::Last(1000));
}

#[test]
fn units_are_mangled_as_journalctl_does() {
    let a = run(&["-u", "web", "--unit=ssh*", "-ucron.service"]);
    assert_eq!(a.units, ["web.service", "ssh*", "cron.service"]);
    let a = run(&["-u", "bad name"]);
    assert_eq!(a.units, ["bad\\x20name.service"]);
    assert_eq!(a.notices.len(), 1, "{:?}", a.notices);
    assert!(run(&["-q", "-u", "bad name"]).notices.is_empty());
}

#[test]
fn lines_default_and_optional_arguments() {
    assert_eq!(run(&[]).lines, Lines::Default);
    assert_eq!(run(&["-f"]).lines, Lines::Last(10));
    assert_eq!(run(&["-n"]).lines, Lines::Last(10));
    assert_eq!(run(&["-n", "5"]).lines, Lines::Last(5));
    assert_eq!(run(&["-n5"]).lines, Lines::Last(5));
    assert_eq!(run(&["--lines=all"]).lines, Lines::All);
    assert_eq!(run(&["-n", "all"]).lines, Lines::All);
    // The next word is a match, not a count: -n keeps 10 and the word stays.
    let a = run(&["-n", "SYSLOG_IDENTIFIER=x"]);
    assert_eq!(
        (a.lines, a.identifiers.as_slice()),
        (Lines::Last(10), &["x".to_owned()][..])
    );
    assert_eq!(run(&["-e", "-n", "3"]).lines, Lines::Last(3));
    assert_eq!(run(&["-f", "--no-tail"]).lines, Lines::All);
    assert_eq!(refused(&["--lines=-1"]), "Failed to parse lines '-1'");
}

#[test]
fn priorities_as_masks() {
    assert_eq!(run(&["-p", "err"]).priorities, Some(0b0000_1111));
    assert_eq!(run(&["-p", "3"]).priorities, Some(0b0000_1111));
    assert_eq!(run(&["-p", "err..warning"]).priorities, Some(0b0001_1000));
    assert_eq!(run(&["-p", "warning..err"]).priorities, Some(0b0001_1000));
    assert_eq!(
        run(&["PRIORITY=6", "PRIORITY=3"]).priorities,
        Some(0b0100_1000)
    );
    assert_eq!(refused(&["-p", "loud"]), "Unknown log level loud");
    assert_eq!(
        refused(&["-p", "err..loud"]),
        "Failed to parse log level range err..loud"
    );
}

#[test]
fn boots() {
    assert_eq!(
        run(&["-b"]).boot,
        Some(Boot {
            id: None,
            offset: 0
        })
    );
    assert_eq!(
        run(&["-b", "-1"]).boot,
        Some(Boot {
            id: None,
            offset: -1
        })
    );
    assert_eq!(
        run(&["-b", "0"]).boot,
        Some(Boot {
            id: None,
            offset: 0
        })
    );
    assert_eq!(run(&["--boot=all"]).boot, None);
    let id = "0123456789abcdef0123456789abcdef";
    assert_eq!(
        run(&["-b", id]).boot,
        Some(Boot {
            id: Some(id.to_owned()),
            offset: 0
        })
    );
    // -b before a match: the match is not a boot.
    let a = run(&["-b", "_SYSTEMD_UNIT=web.service"]);
    assert_eq!((a.boot.unwrap().offset, a.units.len()), (0, 1));
    assert_eq!(
        refused(&["--boot=yesterday"]),
        "Failed to parse boot descriptor 'yesterday'"
    );
}

#[test]
fn times_and_their_checks() {
    let a = run(&["--since", "2026-12-06 12:00:00", "-U", "now"]);
    assert_eq!(a.since, Some(NOW - 3_600_000_000));
    assert_eq!(a.until, Some(NOW));
    assert_eq!(
        refused(&["--since=soon"]),
        "Failed to parse timestamp: soon"
    );
    assert_eq!(
        refused(&["-S", "now", "-U", "-1h"]),
        "--since= must be before --until=."
    );
    assert_eq!(
        refused(&["-f", "-r"]),
        "Please specify either --reverse= or --follow=, not both."
    );
}

#[test]
fn getopt_words_and_refusals() {
    assert_eq!(refused(&["-z"]), "journalctl: invalid option -- 'z'");
    assert_eq!(
        refused(&["--bogus"]),
        "journalctl: unrecognized option '--bogus'"
    );
    assert_eq!(
        refused(&["-u"]),
        "journalctl: option requires an argument -- 'u'"
    );
    assert_eq!(
        refused(&["--unit"]),
        "journalctl: option '--unit' requires an argument"
    );
    assert_eq!(
        refused(&["--follow=yes"]),
        "journalctl: option '--follow' doesn't allow an argument"
    );
    assert!(refused(&["--grep=x"]).starts_with("--grep: not supported"));
    // journald's maintenance verbs are named in the refusal, not unknown.
    assert!(refused(&["--update-catalog"]).starts_with("--update-catalog: not supported"));
    assert!(refused(&["--flush"]).starts_with("--flush: not supported"));
    assert!(refused(&["_COMM=sshd"]).contains("_SYSTEMD_UNIT="));
    assert_eq!(
        refused(&["-o", "pretty"]),
        "Unknown output format 'pretty'."
    );
    // Unique prefixes, as getopt_long takes them.
    assert!(run(&["--rev"]).reverse);
    // Modes for programs imply --quiet.
    assert!(run(&["-o", "json"]).quiet && !run(&["-o", "short"]).quiet);
    let fields = run(&["--output-fields=MESSAGE,_PID"]).output_fields;
    assert_eq!(fields, Some(vec!["MESSAGE".to_owned(), "_PID".to_owned()]));
    match parse("journalctl", &["-o".to_owned(), "help".to_owned()], NOW) {
        Ok(Parsed::Print(text)) => assert!(text.starts_with("short\nshort-full\n")),
        other => panic!("{other:?}"),
    }
}
