//! The command line parser against systemd 252's behaviour: option placement, values,
//! clusters, prefixes, errors, verb counts and unit name mangling per verb.

use super::*;

fn run(args: &[&str]) -> Result<Parsed, UsageError> {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    parse("systemctl", &args, Some(PathBuf::from("/cwd")))
}

fn inv(args: &[&str]) -> Invocation {
    match run(args) {
        Ok(Parsed::Run(i)) => *i,
        other => panic!("{args:?}: {other:?}"),
    }
}

fn err(args: &[&str]) -> String {
    match run(args) {
        Err(UsageError(e)) => e,
        other => panic!("{args:?}: {other:?}"),
    }
}

fn names(i: &Invocation) -> Vec<String> {
    i.units.iter().map(UnitArg::as_text).collect()
}

#[test]
fn options_before_or_after_the_verb() {
    for args in [
        &["-q", "enable", "nginx"][..],
        &["enable", "-q", "nginx"],
        &["enable", "nginx", "--quiet"],
        &["--qui", "enable", "nginx"],
    ] {
        let i = inv(args);
        assert_eq!(i.verb, Verb::Enable);
        assert!(i.options.quiet, "{args:?}");
        assert_eq!(names(&i), ["nginx.service"]);
    }
}

#[test]
fn values_attached_or_separate() {
    let i = inv(&[
        "--root=/r",
        "kill",
        "-s",
        "KILL",
        "--kill-whom",
        "main",
        "x",
    ]);
    assert_eq!(i.options.root, Some(PathBuf::from("/r")));
    assert_eq!(i.options.signal, Some(9));
    assert_eq!(i.options.kill_whom.as_deref(), Some("main"));
    let i = inv(&["kill", "-sTERM", "--signal=HUP", "x"]);
    assert_eq!(i.options.signal, Some(1));
    let i = inv(&["--root", "rel", "get-default"]);
    assert_eq!(i.options.root, Some(PathBuf::from("/cwd/rel")));
}

#[test]
fn combined_short_flags_and_repeats() {
    let i = inv(&["-qa", "show", "-p", "A,B", "--property=C", "-ff", "x"]);
    assert!(i.options.quiet && i.options.all);
    assert_eq!(i.options.force, 2);
    assert_eq!(
        i.options.properties,
        Some(vec!["A".to_owned(), "B".to_owned(), "C".to_owned()])
    );
    assert_eq!(inv(&["show", "-p", ""]).options.properties, Some(vec![]));
    let i = inv(&["-PId", "show", "x"]);
    assert!(i.options.value, "-P is --value --property");
    assert_eq!(i.options.properties, Some(vec!["Id".to_owned()]));
}

#[test]
fn double_dash_ends_options() {
    let i = inv(&["list-unit-files", "--", "--no-legend"]);
    assert_eq!(i.units, [UnitArg::Pattern("--no-legend".to_owned())]);
    assert_eq!(i.options.legend, None);
}

#[test]
fn getopt_errors() {
    assert_eq!(err(&["--frob"]), "systemctl: unrecognized option '--frob'");
    assert_eq!(
        err(&["--frob=1"]),
        "systemctl: unrecognized option '--frob=1'"
    );
    assert_eq!(err(&["-Z"]), "systemctl: invalid option -- 'Z'");
    assert_eq!(
        err(&["--signal"]),
        "systemctl: option '--signal' requires an argument"
    );
    assert_eq!(
        err(&["-s"]),
        "systemctl: option requires an argument -- 's'"
    );
    assert_eq!(
        err(&["--quiet=1"]),
        "systemctl: option '--quiet' doesn't allow an argument"
    );
    assert_eq!(
        err(&["--no"]),
        "systemctl: option '--no' is ambiguous; possibilities: '--no-block' '--no-legend' '--no-pager' '--no-wall' '--no-reload' '--no-ask-password' '--now'"
    );
}

#[test]
fn verb_errors() {
    assert_eq!(err(&["frob"]), "Unknown command verb frob.");
    assert_eq!(err(&["enable"]), "Too few arguments.");
    assert_eq!(err(&["get-default", "x"]), "Too many arguments.");
    assert_eq!(err(&["set-default", "a", "b"]), "Too many arguments.");
    assert!(err(&["edit", "x"]).contains("not supported by bosun"));
    assert_eq!(
        err(&["--wait", "--no-block", "start", "x"]),
        "--wait may not be combined with --no-block."
    );
    assert_eq!(err(&["exit", "300"]), "Invalid exit code.");
    assert_eq!(inv(&["exit", "3"]).verb, Verb::Exit(Some(3)));
    assert_eq!(inv(&["exit"]).verb, Verb::Exit(None));
}

#[test]
fn option_value_errors() {
    assert_eq!(err(&["-n", "x", "status"]), "Failed to parse lines 'x'");
    assert_eq!(err(&["-o", "bogus", "status"]), "Unknown output 'bogus'.");
    assert_eq!(
        err(&["--signal=FOO", "kill", "x"]),
        "Failed to parse signal string \"FOO\"."
    );
    assert_eq!(
        err(&["-t", "bogus"]),
        "Unknown unit type or load state 'bogus'.\nUse -t help to see a list of allowed values."
    );
    assert_eq!(err(&["--state="]), "--state= requires arguments.");
    assert_eq!(
        err(&["--legend=maybe"]),
        "Failed to parse boolean argument to --legend: maybe."
    );
    assert_eq!(err(&["--preset-mode=x"]), "Failed to parse preset mode: x.");
    for refused in [
        &["--user", "status"][..],
        &["-H", "h", "status"],
        &["-M", "m", "status"],
    ] {
        assert!(err(refused).contains("not supported"), "{refused:?}");
    }
}

#[test]
fn types_and_states() {
    let i = inv(&[
        "list-unit-files",
        "-t",
        "service,masked",
        "--state=enabled",
        "--failed",
    ]);
    assert_eq!(i.options.types, ["service"]);
    assert_eq!(i.options.states, ["masked", "enabled", "failed"]);
    match run(&["-t", "help"]) {
        Ok(Parsed::Print(t)) => assert!(t.starts_with("Available unit types:\nservice\n")),
        other => panic!("{other:?}"),
    }
    match run(&["--no-legend", "-t", "help"]) {
        Ok(Parsed::Print(t)) => assert!(t.starts_with("service\n")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn quiet_hides_the_legend_unless_asked() {
    assert!(!inv(&["-q", "list-unit-files"]).options.show_legend());
    assert!(
        inv(&["--legend=yes", "-q", "list-unit-files"])
            .options
            .show_legend()
    );
    assert!(inv(&["list-unit-files"]).options.show_legend());
}

#[test]
fn mangling_per_verb() {
    let i = inv(&["enable", "nginx", "foo@", "/opt/x.service", "rel/y.service"]);
    assert_eq!(
        names(&i),
        [
            "nginx.service",
            "foo@.service",
            "/opt/x.service",
            "/cwd/rel/y.service"
        ]
    );
    assert!(matches!(i.units[2], UnitArg::Path(_)));
    let i = inv(&["start", "ssh*", "nginx"]);
    assert_eq!(i.units[0], UnitArg::Pattern("ssh*".to_owned()));
    assert_eq!(names(&i), ["ssh*", "nginx.service"]);
    let i = inv(&["status", "1234", "x"]);
    assert_eq!(i.units[0], UnitArg::Id(1234));
    let i = inv(&["set-default", "graphical"]);
    assert_eq!(names(&i), ["graphical.target"]);
    let i = inv(&["list-unit-files", "ssh"]);
    assert_eq!(i.units, [UnitArg::Pattern("ssh".to_owned())]);
    let i = inv(&["enable", "a*"]);
    assert_eq!(names(&i), ["a\\x2a.service"]);
    assert_eq!(i.notices.len(), 1);
    assert!(inv(&["-q", "enable", "a*"]).notices.is_empty());
    assert_eq!(inv(&["condrestart", "x"]).verb, Verb::TryRestart);
    assert_eq!(inv(&[]).verb, Verb::ListUnits);
}

#[test]
fn job_modes_and_environment() {
    let i = inv(&["stop", "--ignore-dependencies", "x"]);
    assert_eq!(i.options.job_mode, Some(JobMode::IgnoreDependencies));
    assert_eq!(
        inv(&["--job-mode=fail", "start", "x"]).options.job_mode,
        Some(JobMode::Fail)
    );
    assert!(err(&["--job-mode=bogus", "start", "x"]).contains("bogus"));
    assert_eq!(
        inv(&["set-environment", "A=1", "B=2"]).verb,
        Verb::SetEnvironment(vec!["A=1".to_owned(), "B=2".to_owned()])
    );
    // The manager checks assignments, not the parser (offline, systemd says it has no
    // manager before anything else).
    assert_eq!(
        inv(&["set-environment", "A"]).verb,
        Verb::SetEnvironment(vec!["A".to_owned()])
    );
    assert!(err(&["is-failed"]).contains("Too few arguments."));
}
