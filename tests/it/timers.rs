//! Timer units (issue #9) run by bosun as a real PID 1: OnActiveSec=, OnCalendar= and
//! OnUnitActiveSec= fire their services, not before their time; Persistent= catches up once
//! after a boot that missed an elapse (and only with Persistent=); every `.timer` file of this
//! machine is armed with a next elapse (its OnCalendar= ones as `systemd-analyze calendar`
//! computes them); `systemctl list-timers` and `status` print systemd 252's layout; a timer
//! whose unit does not exist fails to start, saying so.
//!
//! Each service appends `date +%s.%N` to a file under the scratch root: the test reads when it
//! ran. Times are compared with the wall clock read before bosun started (a lower bound of its
//! start): a timer must not fire before that plus its delay; upper bounds are generous.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::harness::{Pid1, Scratch, bosun, systemctl_in as systemctl, wait_until};

const T: Duration = Duration::from_secs(30);

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Write unit files into `root`'s /etc/systemd/system; `wanted` ones are enabled into
/// timers.target.
fn units(root: &Path, files: &[(&str, String)], wanted: &[&str]) {
    let dir = root.join("etc/systemd/system");
    fs::create_dir_all(dir.join("timers.target.wants")).unwrap();
    for (name, text) in files {
        fs::write(dir.join(name), text).unwrap();
    }
    for name in wanted {
        let link = dir.join("timers.target.wants").join(name);
        let _ = fs::remove_file(&link);
        std::os::unix::fs::symlink(format!("../{name}"), link).unwrap();
    }
}

/// A oneshot service that appends the time it ran to `out`.
fn stamping(out: &Path) -> String {
    format!(
        "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'date +%%s.%%N >> {}'\n",
        out.display()
    )
}

/// The times (seconds since the epoch) a stamping service ran.
fn runs(out: &Path) -> Vec<f64> {
    fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

fn boot(root: &Path) -> Option<Pid1> {
    Pid1::bosun()
        .env("BOSUN_ROOT", root)
        .args(["--", "sleep", "3600"])
        .start()
}

#[test]
fn on_active_calendar_and_unit_active_timers_fire_their_services_on_time() {
    let dir = Scratch::new("timers-fire");
    let root = dir.join("root");
    let (once, even, again) = (dir.join("once"), dir.join("even"), dir.join("again"));
    units(
        &root,
        &[
            (
                "once.timer",
                "[Timer]\nOnActiveSec=1s\nAccuracySec=1us\n".to_owned(),
            ),
            ("once.service", stamping(&once)),
            (
                "even.timer",
                "[Timer]\nOnCalendar=*:*:0/2\nAccuracySec=1us\n".to_owned(),
            ),
            ("even.service", stamping(&even)),
            (
                "again.timer",
                "[Timer]\nOnActiveSec=0\nOnUnitActiveSec=1s\nUnit=again-job.service\n".to_owned(),
            ),
            ("again-job.service", stamping(&again)),
        ],
        &["once.timer", "even.timer", "again.timer"],
    );
    let before = now_secs();
    let Some(pid1) = boot(&root) else {
        return;
    };
    let fired = wait_until(T, || {
        runs(&once).len() == 1 && runs(&even).len() >= 2 && runs(&again).len() >= 3
    });
    let log = || format!("{}\n{}", pid1.stdout_now(), pid1.stderr_now());
    assert!(
        fired,
        "once {:?}, even {:?}, again {:?}\n{}",
        runs(&once),
        runs(&even),
        runs(&again),
        log()
    );
    // OnActiveSec=1s: a second after the timer started at the earliest, which is after
    // `before`; once only.
    let first = runs(&once)[0];
    assert!(
        first >= before + 1.0 && first < before + 25.0,
        "once ran at +{:.3}s\n{}",
        first - before,
        log()
    );
    // OnCalendar=*:*:0/2: the first run not before the first even second after the start,
    // and never twice in one two-second period.
    let even_runs = runs(&even);
    let first_even = (before / 2.0).floor() * 2.0 + 2.0;
    assert!(
        even_runs[0] >= first_even,
        "even ran at {} before {first_even}\n{}",
        even_runs[0],
        log()
    );
    let periods: Vec<f64> = even_runs.iter().map(|t| (t / 2.0).floor()).collect();
    assert!(periods.windows(2).all(|w| w[0] < w[1]), "{even_runs:?}");
    // OnUnitActiveSec=1s: each run a second after the last activation (the runs' own start
    // delays aside: half a second of slack), not at once.
    let again_runs = runs(&again);
    assert!(
        again_runs.windows(2).all(|w| w[1] - w[0] >= 0.5),
        "{again_runs:?}\n{}",
        log()
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(runs(&once).len(), 1, "OnActiveSec= fired twice\n{}", log());
    // The single-shot timer stays active (elapsed); the others wait or run.
    let pid = pid1.pid();
    let (out, _) = systemctl(pid, &root, &["show", "once.timer", "-p", "SubState"]);
    assert_eq!(out, "SubState=elapsed\n", "{}", log());
    let (out, code) = systemctl(pid, &root, &["is-active", "even.timer", "again.timer"]);
    assert_eq!((out.as_str(), code), ("active\nactive\n", Some(0)));
}

/// Boot `root` until `timer` is armed, then stop bosun.
fn boot_until_waiting(root: &Path, timers: &[&str]) {
    let Some(pid1) = boot(root) else {
        return;
    };
    let pid = pid1.pid();
    for timer in timers {
        let armed = wait_until(T, || {
            systemctl(pid, root, &["show", timer, "-p", "SubState"]).0 == "SubState=waiting\n"
        });
        assert!(armed, "{timer}\n{}", pid1.stderr_now());
    }
    // Its systemctl may die with the namespace before it hears back: bosun's code tells.
    systemctl(pid, root, &["exit", "0"]);
    pid1.wait(T).assert_code(0);
}

#[test]
fn persistent_calendar_timers_catch_up_once_after_a_missed_elapse() {
    let dir = Scratch::new("timers-persistent");
    let root = dir.join("root");
    let (kept, plain) = (dir.join("kept"), dir.join("plain"));
    // Once a year (no test runs across New Year's midnight UTC in the seconds it takes).
    let yearly = "[Timer]\nOnCalendar=*-01-01 00:00:00 UTC\n";
    units(
        &root,
        &[
            ("kept.timer", format!("{yearly}Persistent=true\n")),
            ("kept.service", stamping(&kept)),
            ("plain.timer", yearly.to_owned()),
            ("plain.service", stamping(&plain)),
        ],
        &["kept.timer", "plain.timer"],
    );
    // First boot: the stamp is made (no volume here: /var/lib/systemd/timers), nothing fires.
    boot_until_waiting(&root, &["kept.timer", "plain.timer"]);
    let stamps = root.join("var/lib/systemd/timers");
    let stamp = stamps.join("stamp-kept.timer");
    assert!(stamp.is_file(), "no {}", stamp.display());
    assert!(
        !stamps.join("stamp-plain.timer").exists(),
        "a timer without Persistent= keeps no stamp"
    );
    assert!(runs(&kept).is_empty() && runs(&plain).is_empty());
    // The last trigger two years ago: last New Year's elapse was missed. The same old stamp
    // for the timer without Persistent= is not read.
    let two_years_ago = SystemTime::now() - Duration::from_secs(2 * 366 * 86_400);
    for name in ["stamp-kept.timer", "stamp-plain.timer"] {
        let file = fs::File::create(stamps.join(name)).unwrap();
        file.set_modified(two_years_ago).unwrap();
    }
    let Some(pid1) = boot(&root) else {
        return;
    };
    let pid = pid1.pid();
    let caught_up = wait_until(T, || runs(&kept).len() == 1);
    assert!(caught_up, "{}\n{}", pid1.stdout_now(), pid1.stderr_now());
    // Once: after it, the timer waits for next New Year.
    let armed = wait_until(T, || {
        systemctl(pid, &root, &["show", "kept.timer", "-p", "SubState"]).0 == "SubState=waiting\n"
    });
    assert!(armed, "{}", pid1.stderr_now());
    assert_eq!(runs(&kept).len(), 1);
    assert!(
        runs(&plain).is_empty(),
        "plain.timer fired without Persistent="
    );
    // The trigger was recorded in the stamp.
    let mtime = fs::metadata(&stamp).unwrap().modified().unwrap();
    assert!(mtime > SystemTime::now() - Duration::from_secs(60));
    let (out, _) = systemctl(pid, &root, &["list-timers", "kept*"]);
    let year = out.lines().nth(1).unwrap_or_default();
    assert!(year.contains("-01-01 00:00:00 UTC"), "{out}");
    assert!(year.contains(" ago kept.timer kept.service"), "{out}");
}

#[test]
fn the_stamps_live_on_the_data_volume_when_there_is_one() {
    let dir = Scratch::new("timers-volume");
    let root = dir.join("root");
    units(
        &root,
        &[
            (
                "kept.timer",
                "[Timer]\nOnCalendar=*-01-01 00:00:00 UTC\nPersistent=true\n".to_owned(),
            ),
            ("kept.service", stamping(&dir.join("kept"))),
        ],
        &["kept.timer"],
    );
    // An image with a data volume: /var/lib/app moved into the template.
    fs::create_dir_all(root.join("var/lib/app")).unwrap();
    fs::write(root.join("var/lib/app/seed"), "x").unwrap();
    let list = dir.join("list");
    fs::write(&list, "/var/lib/app\n").unwrap();
    let prepared = Command::new(bosun())
        .args(["image", "prepare", "--build-id", "b1", "--root"])
        .arg(&root)
        .arg(&list)
        .output()
        .unwrap();
    assert!(prepared.status.success(), "{prepared:?}");
    boot_until_waiting(&root, &["kept.timer"]);
    assert!(root.join("data/.bosun/timers/stamp-kept.timer").is_file());
    assert!(!root.join("var/lib/systemd/timers").exists());
}

#[test]
fn list_timers_and_status_print_systemds_layout() {
    let dir = Scratch::new("timers-list");
    let root = dir.join("root");
    units(
        &root,
        &[
            (
                "daily.timer",
                "[Unit]\nDescription=Daily work\nAfter=idle.timer\n\
                 [Timer]\nOnCalendar=*-*-* 00:00:00 UTC\n"
                    .to_owned(),
            ),
            ("daily.service", stamping(&dir.join("daily"))),
            ("idle.timer", "[Timer]\nOnBootSec=1h\n".to_owned()),
            ("idle.service", stamping(&dir.join("idle"))),
            ("orphan.timer", "[Timer]\nOnActiveSec=1h\n".to_owned()),
        ],
        &["daily.timer"],
    );
    let Some(pid1) = boot(&root) else {
        return;
    };
    let pid = pid1.pid();
    assert!(wait_until(T, || {
        systemctl(pid, &root, &["is-active", "daily.timer"]).0 == "active\n"
    }));
    let (out, code) = systemctl(pid, &root, &["list-timers"]);
    assert_eq!(code, Some(0));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    // format-table: columns one space apart, LEFT and PASSED aligned right.
    let header = lines[0];
    assert!(header.starts_with("NEXT "), "{out}");
    assert!(header.ends_with(" PASSED UNIT        ACTIVATES"), "{out}");
    let row = lines[1];
    assert!(row.ends_with(" daily.timer daily.service"), "{out}");
    assert!(row.starts_with(&next_midnight()), "{out}");
    // LEFT ends where its header ends; no trigger yet: LAST and PASSED are `-`.
    let left_end = header.find(" LAST").unwrap();
    assert!(row[..left_end].ends_with(" left"), "{out}");
    let words: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        words[words.len() - 4..],
        ["-", "-", "daily.timer", "daily.service"],
        "{out}"
    );
    let passed_end = header.find(" UNIT").unwrap();
    assert!(row[..passed_end].ends_with(" -"), "{out}");
    assert_eq!(
        &lines[2..],
        [
            "",
            "1 timers listed.",
            "Pass --all to see loaded but inactive timers, too."
        ]
    );
    // --all adds the inactive one (loaded as daily.timer is ordered after it) with dashes,
    // after those with a next elapse.
    let (out, _) = systemctl(pid, &root, &["list-timers", "--all"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[1].contains("daily.timer"), "{out}");
    assert!(lines[2].starts_with("- "), "{out}");
    assert!(lines[2].ends_with(" idle.timer  idle.service"), "{out}");
    assert_eq!(lines[lines.len() - 1], "2 timers listed.", "{out}");
    // A pattern without a type means a timer.
    let (out, _) = systemctl(pid, &root, &["list-timers", "--no-legend", "daily"]);
    assert_eq!(out.lines().count(), 1, "{out}");
    // status: the Trigger and Triggers lines.
    let (out, code) = systemctl(pid, &root, &["status", "daily.timer"]);
    assert_eq!(code, Some(0), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "● daily.timer - Daily work", "{out}");
    assert!(
        lines[2].starts_with("     Active: active (waiting) since "),
        "{out}"
    );
    assert!(
        lines[3].starts_with(&format!("    Trigger: {}; ", next_midnight())),
        "{out}"
    );
    assert!(lines[3].ends_with(" left"), "{out}");
    assert_eq!(lines[4], "   Triggers: ○ daily.service", "{out}");
    let (out, _) = systemctl(pid, &root, &["status", "daily.service"]);
    assert!(out.contains("\nTriggeredBy: ● daily.timer\n"), "{out}");
    // Stopping works through the job path; starting a timer whose unit is missing fails.
    let (_, code) = systemctl(pid, &root, &["stop", "daily.timer"]);
    assert_eq!(code, Some(0));
    let (out, code) = systemctl(pid, &root, &["is-active", "daily.timer"]);
    assert_eq!((out.as_str(), code), ("inactive\n", Some(3)));
    let (_, code) = systemctl(pid, &root, &["start", "orphan.timer"]);
    assert_eq!(code, Some(1));
    let (out, _) = systemctl(pid, &root, &["is-active", "orphan.timer"]);
    assert_eq!(out, "failed\n");
    let said = wait_until(T, || {
        pid1.stderr_now()
            .contains("orphan.timer: Refusing to start, unit orphan.service to trigger not loaded.")
    });
    assert!(said, "{}", pid1.stderr_now());
}

/// The coming midnight UTC as systemd prints it.
fn next_midnight() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    show_utc((secs / 86_400 + 1) * 86_400)
}

/// `Mon 2026-11-23 10:00:00 UTC` for seconds since the epoch.
fn show_utc(secs: u64) -> String {
    crate::calendar::show_utc(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Seconds since the epoch of `Mon 2026-11-23 10:00:00 UTC`.
fn parse_utc(text: &str) -> Option<i64> {
    let mut words = text.split_whitespace();
    let (_, date, time, zone) = (words.next()?, words.next()?, words.next()?, words.next()?);
    if zone != "UTC" {
        return None;
    }
    let n: Vec<i64> = date
        .split('-')
        .chain(time.split(':'))
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [y, m, d, hh, mm, ss] = n.as_slice() else {
        return None;
    };
    // Days from civil (the inverse of `civil`).
    let y = if *m <= 2 { y - 1 } else { *y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

const SYSTEMD_ANALYZE: &str = "/usr/bin/systemd-analyze";

/// The next `n` elapses of `expr` after `base` (seconds) by systemd-analyze, in seconds.
fn analyze(expr: &str, base: i64, n: usize) -> Vec<i64> {
    let out = Command::new(SYSTEMD_ANALYZE)
        .args([
            "calendar".to_owned(),
            format!("--iterations={n}"),
            format!("--base-time=@{base}"),
            "--".to_owned(),
            expr.to_owned(),
        ])
        .env("SYSTEMD_COLORS", "0")
        .output()
        .unwrap();
    // Each elapse in the local zone, followed by "(in UTC): ..." unless that zone is UTC.
    let mut elapses: Vec<i64> = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some((label, value)) = line.trim_start().split_once(": ") else {
            continue;
        };
        if label == "(in UTC)" {
            elapses.pop();
        } else if label != "Next elapse" && !label.starts_with("Iter. #") {
            continue;
        }
        elapses.extend(parse_utc(value));
    }
    elapses
}

/// `KEY=` values of a unit file as written.
fn values(text: &str, key: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix(key))
        .filter_map(|l| l.trim_start().strip_prefix('='))
        .map(|v| v.trim().to_owned())
        .collect()
}

/// A timespan in whole seconds as these files write them (`12h`, `60m`, `6000`, `1h`).
fn seconds(text: &str) -> u64 {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (n, unit) = text.split_at(split);
    let n: u64 = n.parse().unwrap();
    n * match unit.trim() {
        "" | "s" | "sec" => 1,
        "m" | "min" => 60,
        "h" | "hr" => 3600,
        "d" => 86_400,
        other => panic!("unit {other:?} in {text:?}"),
    }
}

/// Every `.timer` of this machine (templates as instance `test`), with the units they
/// trigger as stubs, booted in a scratch root: each is armed (or skipped by its condition)
/// and its next elapse is one systemd computes.
#[test]
fn every_timer_on_this_machine_is_armed_as_systemd_arms_it() {
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in ["/lib/systemd/system", "/usr/lib/systemd/system"] {
        let Ok(entries) = fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".timer")
                && path.is_file()
                && !files.iter().any(|f| f.file_name() == path.file_name())
            {
                files.push(path);
            }
        }
    }
    if files.is_empty() {
        println!("SKIP: no .timer files in /lib/systemd/system or /usr/lib/systemd/system");
        return;
    }
    files.sort();
    let dir = Scratch::new("timers-machine");
    let root = dir.join("root");
    let mut written: Vec<(String, String)> = Vec::new();
    let mut enabled: Vec<String> = Vec::new();
    for path in &files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = fs::read_to_string(path).unwrap();
        let stem = file.strip_suffix(".timer").unwrap();
        let unit = values(&text, "Unit")
            .pop()
            .unwrap_or_else(|| format!("{stem}.service"));
        written.push((file.clone(), text));
        written.push((
            unit,
            "[Service]\nType=oneshot\nExecStart=/bin/true\n".to_owned(),
        ));
        enabled.push(match stem.strip_suffix('@') {
            Some(prefix) => format!("{prefix}@test.timer"),
            None => file,
        });
    }
    // What Debian's pg_*@.timer assert for the instance `test`.
    fs::create_dir_all(root.join("etc/postgresql/test")).unwrap();
    fs::write(root.join("etc/postgresql/test/postgresql.conf"), "").unwrap();
    let dir_units = root.join("etc/systemd/system");
    fs::create_dir_all(dir_units.join("timers.target.wants")).unwrap();
    for (name, text) in &written {
        fs::write(dir_units.join(name), text).unwrap();
    }
    for (name, path) in enabled.iter().zip(&files) {
        let file = path.file_name().unwrap().to_string_lossy();
        std::os::unix::fs::symlink(
            format!("../{file}"),
            dir_units.join("timers.target.wants").join(name),
        )
        .unwrap();
    }
    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let Some(pid1) = boot(&root) else {
        return;
    };
    let pid = pid1.pid();
    let settled = wait_until(T, || {
        systemctl(pid, &root, &["is-active", "timers.target"]).0 == "active\n"
    });
    assert!(settled, "{}", pid1.stderr_now());
    let analyzer = Path::new(SYSTEMD_ANALYZE).exists();
    if !analyzer {
        println!(
            "SKIP: {SYSTEMD_ANALYZE} not found: next elapses are checked for presence only, not against systemd"
        );
    }
    let mut problems = Vec::new();
    for (name, path) in enabled.iter().zip(&files) {
        let text = fs::read_to_string(path).unwrap();
        let (show, _) = systemctl(
            pid,
            &root,
            &["show", name, "-p", "SubState,NextElapseUSecRealtime"],
        );
        let conditioned = text.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with("Condition") || l.starts_with("Assert")
        });
        if show.contains("SubState=dead") || show.contains("SubState=failed") {
            if conditioned {
                println!("{name}: not started here by its condition or assertion");
            } else {
                problems.push(format!("{name}: not armed: {show:?}"));
            }
            continue;
        }
        let Some(next) = show
            .lines()
            .find_map(|l| l.strip_prefix("NextElapseUSecRealtime="))
            .and_then(parse_utc)
        else {
            problems.push(format!("{name}: not armed: {show:?}"));
            continue;
        };
        let random = values(&text, "RandomizedDelaySec")
            .last()
            .map_or(0, |v| seconds(v));
        let calendar = values(&text, "OnCalendar");
        let line = format!("{name}: next {}", show_utc(u64::try_from(next).unwrap()));
        if calendar.is_empty() {
            // OnBootSec= and the like: after the start, within their span of it.
            let spans: Vec<u64> = ["OnBootSec", "OnStartupSec", "OnActiveSec"]
                .iter()
                .flat_map(|k| values(&text, k))
                .map(|v| seconds(&v))
                .collect();
            let ok = spans.iter().any(|s| {
                let at = i64::try_from(before + s).unwrap();
                next >= at - 1 && next <= at + 30 + i64::try_from(random).unwrap()
            });
            println!("{line} (monotonic {spans:?})");
            if !ok {
                problems.push(format!("{line}: not at the start plus one of {spans:?} s"));
            }
            continue;
        }
        if !analyzer {
            println!("{line}");
            continue;
        }
        // One of systemd's next elapses after the start, plus at most the random delay
        // (the shown time is truncated to the second).
        let base = i64::try_from(before).unwrap() - 1;
        let expected: Vec<i64> = calendar.iter().flat_map(|e| analyze(e, base, 3)).collect();
        let r = i64::try_from(random).unwrap();
        let ok = expected.iter().any(|e| next + 1 >= *e && next <= e + r);
        println!(
            "{line}; systemd-analyze: {:?} + [0, {r}s)",
            expected
                .iter()
                .map(|e| show_utc(u64::try_from(*e).unwrap()))
                .collect::<Vec<_>>()
        );
        if !ok {
            problems.push(format!(
                "{line}: not one of systemd-analyze's {expected:?} + {r}s"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n{}",
        problems.join("\n"),
        pid1.stderr_now()
    );
}
