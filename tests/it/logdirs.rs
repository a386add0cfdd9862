//! Issue 19, "the directives that shape logs": bosun as a real PID 1 gives each stdout and
//! stderr line of a unit a priority (SyslogLevel=, or its `<N>` prefix, removed, unless
//! SyslogLevelPrefix=no), a facility (SyslogFacility=) and an identifier (SyslogIdentifier=,
//! else the executable's name); drops lines above LogLevelMax= from stdout and `/dev/log`
//! alike; holds a unit to its own rate limit (LogRateLimitIntervalSec=, LogRateLimitBurst=,
//! 0 disables) over all its lines, saying what it suppressed; and keeps LogExtraFields= with
//! every line. Each with a negative control; a bad value is a warning naming path:line.

use std::path::Path;

use serde_json::Value;

use crate::harness::{Pid1, Scratch, wait_until};
use crate::journal::{T, ctl, json_logs, units};

/// The texts of `lines`.
fn texts(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The line of `lines` whose text is `text`.
fn line<'a>(lines: &'a [Value], text: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["text"] == text)
        .unwrap_or_else(|| panic!("no line {text:?} in {lines:#?}"))
}

/// Wait until `unit`'s lines include one whose text is `last`; its lines then.
fn lines_until(root: &Path, pid1: &Pid1, unit: &str, last: &str) -> Vec<Value> {
    let done = wait_until(T, || {
        json_logs(root, Some(unit))
            .iter()
            .any(|l| l["text"] == last)
    });
    assert!(
        done,
        "no line {last:?} of {unit}: {:?}\n{}",
        texts(&json_logs(root, Some(unit))),
        pid1.stderr_now()
    );
    json_logs(root, Some(unit))
}

const ONESHOT: &str = "[Service]\nType=oneshot\nRemainAfterExit=yes\n";

/// Where the test's Python senders are; None (said) when there is none.
const PYTHON: &str = "/usr/bin/python3";

/// `ExecStart=` of a Python script at `path` that runs `steps` with `out(TEXT)` (a stdout
/// line) and `log(PRI, TEXT)` (a datagram `<PRI>tag: TEXT` to `devlog`) at hand, then
/// sleeps: a sender that stays alive is always found to be the unit's (one that has exited
/// and been reaped by its parent before PID 1 reads its datagram is no unit's, as under
/// journald). None, with a SKIP line, without Python.
fn python_unit(path: &Path, devlog: &Path, steps: &str) -> Option<String> {
    if !Path::new(PYTHON).exists() {
        eprintln!("SKIP: {PYTHON} missing: no syslog sender that stays alive");
        return None;
    }
    let script = format!(
        "import socket, time\n\
         s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
         def log(pri, text): s.sendto(b'<%d>tag: %s' % (pri, text.encode()), '{}')\n\
         def out(text): print(text, flush=True)\n\
         {steps}\n\
         time.sleep(3600)\n",
        devlog.display()
    );
    std::fs::write(path, script).unwrap();
    Some(format!(
        "[Service]\nExecStart={PYTHON} {}\n",
        path.display()
    ))
}

#[test]
fn stdout_lines_get_priority_facility_and_identifier() {
    let dir = Scratch::new("logdirs-prefix");
    let root = dir.join("root");
    let out = "echo '<3>disk on fire'; echo plain; echo '<11>no level'; echo end";
    units(
        &root,
        &[
            (
                "lvl.service",
                format!("{ONESHOT}ExecStart=/bin/sh -c \"{out}\"\n"),
            ),
            (
                "raw.service",
                format!(
                    "{ONESHOT}SyslogLevelPrefix=no\nSyslogLevel=notice\nSyslogFacility=local2\n\
                     SyslogIdentifier=rawid\nExecStart=/bin/sh -c \"{out}\"\n"
                ),
            ),
            (
                "bad.service",
                format!("{ONESHOT}SyslogLevel=loud\nExecStart=/bin/sh -c \"{out}\"\n"),
            ),
        ],
    );
    let Some(pid1) = Pid1::bosun().env("BOSUN_ROOT", &root).start() else {
        return;
    };
    // The defaults: `<N>` sets the level and goes, facility daemon, the executable's name.
    let lvl = lines_until(&root, &pid1, "lvl.service", "end");
    assert_eq!(
        texts(&lvl),
        ["disk on fire", "plain", "<11>no level", "end"]
    );
    let fields = |l: &Value| {
        let f = &l["stdio"];
        (
            f["priority"].as_u64(),
            f["facility"].as_u64(),
            f["identifier"].as_str().map(str::to_owned),
        )
    };
    let sh = Some("sh".to_owned());
    assert_eq!(
        fields(line(&lvl, "disk on fire")),
        (Some(3), Some(3), sh.clone())
    );
    assert_eq!(fields(line(&lvl, "plain")), (Some(6), Some(3), sh.clone()));
    // A facility in the prefix is no level (journald reads only <0> to <7> on a stream).
    assert_eq!(fields(line(&lvl, "<11>no level")), (Some(6), Some(3), sh));
    assert!(lvl.iter().all(|l| l.get("syslog").is_none()), "{lvl:?}");
    // Negative control: SyslogLevelPrefix=no keeps the prefix as text, at SyslogLevel=.
    let raw = lines_until(&root, &pid1, "raw.service", "end");
    assert_eq!(
        texts(&raw),
        ["<3>disk on fire", "plain", "<11>no level", "end"]
    );
    let rawid = Some("rawid".to_owned());
    for l in &raw {
        assert_eq!(fields(l), (Some(5), Some(18), rawid.clone()), "{l}");
    }
    // PID 1's stdout shows the text as kept: the prefix gone, or kept with `no`.
    assert!(
        wait_until(T, || {
            let shown = pid1.stdout_now();
            shown.contains("]: disk on fire\n") && shown.contains("rawid[")
        }),
        "{}",
        pid1.stdout_now()
    );
    let shown = pid1.stdout_now();
    assert!(shown.contains("]: <3>disk on fire\n"), "{shown}");
    assert!(shown.contains("lvl["), "{shown}");
    // A bad value is a warning naming the file and line; the unit runs with the default.
    let bad = lines_until(&root, &pid1, "bad.service", "end");
    assert_eq!(fields(line(&bad, "plain")).0, Some(6));
    let warning = "bad.service:4: Failed to parse log level, ignoring: loud";
    assert!(pid1.stderr_now().contains(warning), "{}", pid1.stderr_now());
    pid1.signal(libc::SIGTERM);
    pid1.wait(T).assert_code(0);
}

#[test]
fn log_level_max_drops_lines_of_every_source() {
    let dir = Scratch::new("logdirs-max");
    let root = dir.join("root");
    let log = root.join("dev/log");
    // user.info, user.err, user.warning: 14, 11, 12.
    let steps = "out('<6>info out'); out('<3>err out'); log(14, 'info log'); log(11, 'err log')\n\
                 log(12, 'end log'); out('<4>end out')";
    let Some(service) = python_unit(&dir.join("send.py"), &log, steps) else {
        return;
    };
    units(
        &root,
        &[
            ("max.service", format!("{service}LogLevelMax=warning\n")),
            ("all.service", service),
        ],
    );
    let Some(pid1) = Pid1::bosun().env("BOSUN_ROOT", &root).start() else {
        return;
    };
    // Each source's last line comes after its others (a pipe and a socket keep their order).
    let settled = |unit: &str| {
        lines_until(&root, &pid1, unit, "end out");
        lines_until(&root, &pid1, unit, "end log")
    };
    let mut kept = texts(&settled("max.service"));
    kept.sort();
    assert_eq!(kept, ["end log", "end out", "err log", "err out"]);
    // Negative control: without LogLevelMax= every line is kept.
    let mut kept = texts(&settled("all.service"));
    kept.sort();
    assert_eq!(
        kept,
        [
            "end log", "end out", "err log", "err out", "info log", "info out"
        ]
    );
    pid1.signal(libc::SIGTERM);
    pid1.wait(T).assert_code(0);
}

#[test]
fn a_units_rate_limit_holds_all_its_lines_and_says_what_it_dropped() {
    let dir = Scratch::new("logdirs-rate");
    let root = dir.join("root");
    let log = root.join("dev/log");
    // Twenty stdout lines and two syslog lines well within the interval, then one more line
    // after it: the first five pass, the other seventeen are dropped and then counted.
    let steps = "for i in range(1, 21): out('l%d' % i)\n\
                 log(14, 's1'); log(14, 's2'); time.sleep(3); out('after')";
    let Some(service) = python_unit(&dir.join("send.py"), &log, steps) else {
        return;
    };
    units(
        &root,
        &[
            (
                "limited.service",
                format!("{service}LogRateLimitIntervalSec=2s\nLogRateLimitBurst=5\n"),
            ),
            (
                "unlimited.service",
                format!("{service}LogRateLimitIntervalSec=0\nLogRateLimitBurst=5\n"),
            ),
        ],
    );
    let Some(pid1) = Pid1::bosun().env("BOSUN_ROOT", &root).start() else {
        return;
    };
    // Five of the twenty-two (which ones: a pipe and a socket are not read in one order).
    let kept = texts(&lines_until(&root, &pid1, "limited.service", "after"));
    assert_eq!(kept.len(), 6, "{kept:?}");
    assert_eq!(kept.last().map(String::as_str), Some("after"));
    let said = "Suppressed 17 messages from limited.service";
    assert!(
        wait_until(T, || pid1.stderr_now().contains(said)),
        "{}",
        pid1.stderr_now()
    );
    // Negative control: an interval of 0 is no limit, whatever the burst.
    let all = lines_until(&root, &pid1, "unlimited.service", "after");
    assert_eq!(all.len(), 23, "{:?}", texts(&all));
    assert!(
        !pid1
            .stderr_now()
            .contains("messages from unlimited.service")
    );
    pid1.signal(libc::SIGTERM);
    pid1.wait(T).assert_code(0);
}

#[test]
fn log_extra_fields_go_with_every_line_of_the_unit() {
    let dir = Scratch::new("logdirs-fields");
    let root = dir.join("root");
    let log = root.join("dev/log");
    let steps = "log(14, 'from syslog'); out('from stdout')";
    let Some(service) = python_unit(&dir.join("send.py"), &log, steps) else {
        return;
    };
    units(
        &root,
        &[
            (
                "tagged.service",
                format!(
                    "{service}LogExtraFields=TEAM=web \"NOTE=two words\"\n\
                     LogExtraFields=UNIT_NAME=%n\n"
                ),
            ),
            ("plain.service", service),
        ],
    );
    let Some(pid1) = Pid1::bosun().env("BOSUN_ROOT", &root).start() else {
        return;
    };
    let want = serde_json::json!([
        ["TEAM", "web"],
        ["NOTE", "two words"],
        ["UNIT_NAME", "tagged.service"]
    ]);
    lines_until(&root, &pid1, "tagged.service", "from stdout");
    let lines = lines_until(&root, &pid1, "tagged.service", "from syslog");
    assert_eq!(line(&lines, "from stdout")["stdio"]["fields"], want);
    assert_eq!(line(&lines, "from syslog")["syslog"]["fields"], want);
    // Negative control: a unit without LogExtraFields= has none.
    lines_until(&root, &pid1, "plain.service", "from stdout");
    let lines = lines_until(&root, &pid1, "plain.service", "from syslog");
    assert!(line(&lines, "from stdout")["stdio"].get("fields").is_none());
    assert!(
        line(&lines, "from syslog")["syslog"]
            .get("fields")
            .is_none()
    );
    // The text form of `initctl logs` is as before: the unit and pid, no fields.
    let (_, text, _) = ctl(&root, &["logs", "tagged"]);
    assert!(text.contains("tagged.service["), "{text}");
    assert!(!text.contains("TEAM"), "{text}");
    pid1.signal(libc::SIGTERM);
    pid1.wait(T).assert_code(0);
}
