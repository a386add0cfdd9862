//! The unit-file reader against files: the bad fixtures (exact diagnostics in `X.expected`),
//! the good fixtures (golden parse results), a loader tree built in a temporary directory
//! (drop-in order, masks, aliases, templates, enablement links), bosun's own `unit-examples/`,
//! and every unit file installed on this machine.

// Helpers outside #[test] functions are test code too.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use bosun::unit::model::{ListenAddress, RestartPolicy, ServiceType, Stdio, WorkingDirectory};
use bosun::unit::value::Timespan;
use bosun::unit::{LoadState, LoadedUnit, Loader, SearchPath, SpecifierContext, UnitName};

mod tree;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/units")
}

/// A loader whose search path is empty (under a root without unit directories), so that the
/// host's drop-ins never leak into a fixture.
fn isolated_loader() -> Loader {
    Loader::new(SearchPath::system(&fixtures()), SpecifierContext::fixed())
}

fn load_fixture(kind: &str, file: &str) -> LoadedUnit {
    let path = fixtures().join(kind).join(file);
    let loaded = isolated_loader().load_file(&path).unwrap();
    let errors: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(ToString::to_string)
        .collect();
    if kind == "good" {
        assert!(errors.is_empty(), "{file}: {errors:#?}");
    }
    loaded
}

fn secs(s: u64) -> Option<Timespan> {
    Some(Timespan::Finite(Duration::from_secs(s)))
}

#[test]
fn bad_fixtures_give_the_expected_diagnostics() {
    let dir = fixtures().join("bad");
    let mut checked = 0;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.extension().is_some_and(|e| e == "expected") {
            continue;
        }
        let expected_path = path.with_extension("expected");
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|e| {
            panic!("{} has no {}: {e}", path.display(), expected_path.display())
        });
        let loaded = isolated_loader().load_file(&path).unwrap();
        let prefix = format!("{}/", dir.display());
        let actual: String = loaded
            .diagnostics
            .iter()
            .map(|d| format!("{}\n", d.to_string().replacen(&prefix, "", 1)))
            .collect();
        assert_eq!(actual, expected, "diagnostics of {}", path.display());
        assert_eq!(
            loaded.state,
            LoadState::Error,
            "{} must fail",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} bad fixtures");
    println!("checked {checked} bad fixtures");
}

#[test]
fn good_fixtures_parse_without_errors() {
    let mut names: Vec<String> = std::fs::read_dir(fixtures().join("good"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    for name in &names {
        let loaded = load_fixture("good", name);
        assert_eq!(loaded.state, LoadState::Loaded, "{name}");
    }
    assert!(names.len() >= 8);
}

#[test]
fn golden_forking_service() {
    let l = load_fixture("good", "forking.service");
    let u = &l.unit;
    assert_eq!(
        u.unit.description.as_deref(),
        Some("A high performance web server    and a reverse proxy server")
    );
    assert_eq!(u.unit.documentation, ["man:nginx(8)", "https://nginx.org/"]);
    let after: Vec<&str> = u.unit.after.iter().map(UnitName::as_str).collect();
    assert_eq!(
        after,
        [
            "network-online.target",
            "remote-fs.target",
            "nss-lookup.target"
        ]
    );
    assert_eq!(u.unit.conditions.len(), 2);
    assert!(u.unit.conditions[0].trigger && u.unit.conditions[0].negate);
    assert_eq!(u.unit.conditions[0].value, "/etc/forking/disabled");
    let s = u.service().unwrap();
    assert_eq!(s.effective_type(), ServiceType::Forking);
    assert_eq!(s.pid_file.as_deref(), Some(Path::new("/run/forking.pid")));
    assert_eq!(
        s.exec_start[0].argv,
        ["/usr/sbin/nginx", "-g", "daemon on; master_process on;"]
    );
    assert!(s.exec_stop[0].flags.ignore_failure);
    assert_eq!(s.exec_stop[0].path, "/sbin/start-stop-daemon");
    assert_eq!(s.timeout_stop, secs(5));
    assert_eq!(u.install.wanted_by[0].as_str(), "multi-user.target");
    let warning = l
        .diagnostics
        .iter()
        .find(|d| d.message.contains("/var/run"))
        .unwrap();
    assert_eq!(warning.line, Some(14));
}

#[test]
fn golden_quoting_and_resets() {
    let l = load_fixture("good", "quoting.service");
    let s = l.unit.service().unwrap();
    let env: Vec<(&str, &str)> = s
        .exec
        .environment
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        env,
        [
            ("GREETING", "hello world"),
            ("QUOTED", "its"),
            ("PLAIN", "1"),
            ("PATH_LIKE", "/a:/b")
        ]
    );
    let argvs: Vec<&[String]> = s.exec_start.iter().map(|c| c.argv.as_slice()).collect();
    assert_eq!(argvs.len(), 4);
    assert_eq!(
        argvs[0],
        [
            "/bin/echo",
            "double quoted",
            "single quoted",
            "tab\there",
            "AB",
            "%"
        ]
    );
    assert_eq!(argvs[1], ["/bin/true"]);
    assert_eq!(s.exec_start[2].path, "/bin/busybox");
    assert_eq!(argvs[2], ["sh", "-c", "echo \"nested\""]);
    let last = &s.exec_start[3];
    assert!(last.flags.ignore_failure && last.flags.no_env_expand && last.flags.full_privileges);
    assert_eq!(
        last.argv,
        [
            "/usr/bin/env",
            "$GREETING",
            "${GREETING}",
            "pre${PLAIN}post",
            ";",
            "last"
        ]
    );
    // The `:` prefix keeps the variables; without it they expand at exec time.
    let mut plain = last.clone();
    plain.flags.no_env_expand = false;
    let lookup = |n: &str| {
        s.exec
            .environment
            .iter()
            .rev()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        plain.expand_argv(&lookup),
        [
            "/usr/bin/env",
            "hello",
            "world",
            "hello world",
            "pre1post",
            ";",
            "last"
        ]
    );
    assert_eq!(
        s.exec_start_post.len(),
        1,
        "the empty assignment resets the list"
    );
    assert!(s.remain_after_exit);
}

#[test]
fn golden_socket_and_timer() {
    let l = load_fixture("good", "web.socket");
    assert_eq!(
        l.unit.unit.description.as_deref(),
        Some("Web socket for web")
    );
    let s = l.unit.socket().unwrap();
    let addrs: Vec<&ListenAddress> = s.listen.iter().map(|l| &l.address).collect();
    assert_eq!(
        addrs,
        [
            &ListenAddress::Port(8080),
            &ListenAddress::Inet("[::]:8443".parse().unwrap()),
            &ListenAddress::Inet("127.0.0.1:9000".parse().unwrap()),
            &ListenAddress::Path("/run/web.sock".into()),
            &ListenAddress::Abstract("web-log".into()),
            &ListenAddress::Path("/run/web.fifo".into()),
        ]
    );
    assert_eq!(s.socket_mode, Some(0o660));
    assert_eq!(
        s.receive_buffer,
        Some(bosun::unit::value::Size::Bytes(65536))
    );
    assert_eq!(
        s.service.as_ref().map(UnitName::as_str),
        Some("web.service")
    );
    assert!(s.reuse_port && s.keep_alive && s.remove_on_stop && !s.pass_credentials && !s.accept);

    let l = load_fixture("good", "backup.timer");
    let t = l.unit.timer().unwrap();
    let calendar: Vec<String> = t.on_calendar.iter().map(ToString::to_string).collect();
    assert_eq!(calendar, ["*-*-* 02:30:00"]);
    assert_eq!(t.on_boot, [Timespan::Finite(Duration::from_secs(300))]);
    assert_eq!(
        t.on_unit_active,
        [Timespan::Finite(Duration::from_secs(86400))]
    );
    assert_eq!(t.accuracy, Some(Timespan::Finite(Duration::from_micros(1))));
    assert!(t.persistent && t.fixed_random_delay);
}

#[test]
fn golden_every_service_key() {
    let l = load_fixture("good", "everything.service");
    let u = &l.unit;
    assert_eq!(
        u.unit.on_failure[0].as_str(),
        "notify-failure@everything.service.service"
    );
    assert!(!u.unit.default_dependencies);
    assert_eq!(u.unit.start_limit_burst, Some(3));
    assert_eq!(u.unit.asserts[0].check, "PathIsDirectory");
    let s = u.service().unwrap();
    assert_eq!(s.effective_type(), ServiceType::Notify);
    assert_eq!(s.restart, RestartPolicy::OnFailure);
    assert_eq!(
        s.restart_sec,
        Some(Timespan::Finite(Duration::from_millis(2500)))
    );
    assert_eq!(s.timeout_start, secs(90));
    assert_eq!(s.timeout_stop, Some(Timespan::Infinity));
    assert_eq!(s.timeout_abort.and_then(Timespan::as_timeout), None);
    assert_eq!(
        s.restart_prevent_exit_status
            .codes
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [23]
    );
    assert_eq!(
        s.restart_prevent_exit_status
            .signals
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [9]
    );
    assert_eq!(
        s.success_exit_status
            .codes
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [0, 1, 75]
    );
    let e = &s.exec;
    assert_eq!(e.working_directory, Some((WorkingDirectory::Home, true)));
    assert_eq!(
        (e.umask, e.nice, e.oom_score_adjust),
        (Some(0o27), Some(-5), Some(-500))
    );
    assert_eq!(e.limits.len(), 5);
    assert_eq!(e.environment_files.len(), 2);
    assert!(e.environment_files[0].optional && !e.environment_files[1].optional);
    assert_eq!(e.unset_environment, ["DEBUG", "OLD=1"]);
    assert_eq!(e.standard_output, Some(Stdio::Journal));
    assert_eq!(
        e.standard_error,
        Some(Stdio::Append("/var/log/app.err".into()))
    );
    assert_eq!(e.runtime_directory, ["app", "app/sockets"]);
    assert_eq!(
        e.load_credentials,
        [("tls.key".to_owned(), "/etc/app/tls.key".to_owned())]
    );
    assert_eq!(
        e.set_credentials,
        [("token".to_owned(), "s3cret".to_owned())]
    );
    assert_eq!(s.kill.kill_signal, Some(2));
    assert_eq!(s.kill.final_kill_signal, Some(9));
    assert_eq!(u.install.required_by[0].as_str(), "app.target");
}

#[test]
fn ignored_directives_are_reported_once_each() {
    let l = load_fixture("good", "hardened.service");
    let text: Vec<String> = l.diagnostics.iter().map(|d| d.message.clone()).collect();
    assert_eq!(
        text.iter().filter(|m| m.starts_with("MemoryMax=")).count(),
        1
    );
    // Enforced now (issue 21): no longer listed.
    assert!(!text.iter().any(|m| m.starts_with("SystemCallFilter=")
        || m.starts_with("MemoryDenyWriteExecute=")
        || m.starts_with("RestrictAddressFamilies=")
        || m.starts_with("RestrictNamespaces=")));
    assert!(text.contains(&"MemoryMax= is not enforced in a container, ignoring".to_owned()));
    // The mount sandbox is enforced too (issue 21): not listed.
    assert!(!text.iter().any(|m| m.starts_with("ProtectSystem=")
        || m.starts_with("ProtectHome=")
        || m.starts_with("PrivateTmp=")
        || m.starts_with("PrivateDevices=")));
    assert!(text.contains(&"TTYPath= is not supported by bosun yet, ignoring".to_owned()));
    assert!(!text.iter().any(|m| m.contains("X-Vendor")));
    // NoNewPrivileges=, CapabilityBoundingSet=, SystemCallFilter=, MemoryDenyWriteExecute=,
    // RestrictAddressFamilies=, RestrictNamespaces=, ProtectSystem=, ProtectHome=,
    // PrivateTmp= and PrivateDevices= are enforced (issue 21): no longer listed; MemoryMax=,
    // CPUQuota= and TTYPath= are.
    assert_eq!(text.len(), 3, "{text:#?}");
}

#[test]
fn golden_template_instance() {
    let path = fixtures().join("good/worker@.service");
    let name = UnitName::parse("worker@in-queue\\x2d1.service").unwrap();
    let l = isolated_loader().load_file_as(&path, &name).unwrap();
    let u = &l.unit;
    assert_eq!(
        u.unit.description.as_deref(),
        Some("Worker in-queue\\x2d1 (in/queue-1) of worker")
    );
    let s = u.service().unwrap();
    assert_eq!(
        s.exec_start[0].argv,
        [
            "/usr/bin/worker",
            "--queue",
            "in/queue-1",
            "--id",
            "in-queue\\x2d1",
            "--name",
            "worker@in-queue\\x2d1.service",
            "--file",
            "/in/queue-1"
        ]
    );
    assert_eq!(
        s.exec.working_directory,
        Some((
            WorkingDirectory::Path("/srv/worker/in-queue\\x2d1".into()),
            false
        ))
    );
    assert_eq!(u.install.default_instance.as_deref(), Some("default"));
}

#[test]
fn unit_examples_parse_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("unit-examples");
    let loader = Loader::new(
        SearchPath::new(Path::new("/"), vec![dir.clone()]),
        SpecifierContext::fixed(),
    );
    let files = loader.unit_files().unwrap();
    assert!(files.len() >= 5, "{files:?}");
    for f in &files {
        let name = f.name.for_verification();
        let l = loader.load(name.as_str()).unwrap();
        let text: Vec<String> = l.diagnostics.iter().map(ToString::to_string).collect();
        assert!(text.is_empty(), "{name}: {text:#?}");
        assert_eq!(l.state, LoadState::Loaded);
    }
    let target = loader.load("demo.target").unwrap();
    assert_eq!(
        target.unit.install.wanted_by[0].as_str(),
        "multi-user.target"
    );
    println!("parsed {} example units", files.len());
}

/// Every unit file of the machine loads without errors (templates as `test_instance`, as
/// `systemd-analyze verify` checks them). Runs whatever is installed; prints what it parsed.
#[test]
fn every_installed_unit_file_parses() {
    let loader = Loader::new(
        SearchPath::system(Path::new("/")),
        SpecifierContext::from_system(Path::new("/")),
    );
    let mut seen_dirs = Vec::new();
    let (mut parsed, mut masked, mut aliases, mut warnings) = (0, 0, 0, 0);
    let mut errors = Vec::new();
    for dir in ["/lib/systemd/system", "/usr/lib/systemd/system"] {
        let Ok(real) = std::fs::canonicalize(dir) else {
            println!("{dir}: absent");
            continue;
        };
        if seen_dirs.contains(&real) {
            println!("{dir}: same directory as {}", real.display());
            continue;
        }
        seen_dirs.push(real.clone());
        let mut names: Vec<String> = std::fs::read_dir(&real)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| !e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        for file in names {
            let Ok(name) = UnitName::parse(&file) else {
                continue;
            };
            let path = real.join(&file);
            if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
                let target = std::fs::read_link(&path).unwrap();
                if target != Path::new("/dev/null") {
                    aliases += 1;
                    continue;
                }
            }
            let l = loader
                .load_file_as(&path, &name.for_verification())
                .unwrap();
            match l.state {
                LoadState::Masked => masked += 1,
                _ => parsed += 1,
            }
            warnings += l.diagnostics.iter().filter(|d| !d.is_error()).count();
            errors.extend(
                l.diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .map(ToString::to_string),
            );
        }
    }
    println!(
        "parsed {parsed} unit files, {} errors ({masked} masked, {aliases} alias links skipped, {warnings} warnings)",
        errors.len()
    );
    let daemons = [
        "nginx",
        "apache2",
        "redis-server",
        "memcached",
        "postgresql@",
        "ssh",
        "cron",
    ];
    let (present, absent): (Vec<&str>, Vec<&str>) = daemons.iter().partition(|d| {
        seen_dirs
            .iter()
            .any(|dir| dir.join(format!("{d}.service")).exists())
    });
    println!("Debian daemon units present: {present:?}; absent: {absent:?}");
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(
        parsed > 0 || seen_dirs.is_empty(),
        "no unit files found in {seen_dirs:?}"
    );
}

/// `bosun verify` end to end: exact lines on stdout, the exit code, templates as
/// `test_instance`.
#[test]
fn verify_command_reports_and_fails() {
    let bin = env!("CARGO_BIN_EXE_bosun");
    let bad = fixtures().join("bad/bad-bool.service");
    let out = std::process::Command::new(bin)
        .arg("verify")
        .arg(&bad)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.starts_with(&format!(
            "{}:3: invalid value for RemainAfterExit=: \"maybe\" is not a boolean",
            bad.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("unit configuration has fatal errors, bad-bool.service will not be started")
    );

    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("unit-examples");
    let mut cmd = std::process::Command::new(bin);
    cmd.arg("verify").arg("--root").arg(&examples);
    for f in [
        "demo.target",
        "demo-web.service",
        "demo-worker@.service",
        "demo-migrate.service",
        "demo-notify.service",
    ] {
        cmd.arg(examples.join(f));
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // python3, mkdir and sh are looked up under --root, where they do not exist; demo-migrate
    // has a condition, so only demo-web, demo-worker and demo-notify fail.
    assert!(
        stdout.contains("demo-worker@.service: Command /bin/sh is not executable"),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("bosun verify: 5 units, 3 with errors, 0 not found, 0 masked"),
        "{stderr}"
    );

    let out = std::process::Command::new(bin)
        .args(["verify", "--frob"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = std::process::Command::new(bin)
        .args(["verify", "no-such-unit.service"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with("no-such-unit.service: unit no-such-unit.service not found in ")
    );
}

/// Debian's postgresql@.service as an instance: `%i` and `%I`, the `-` exec prefix.
#[test]
fn debian_postgresql_instance() {
    let loader = Loader::new(
        SearchPath::system(Path::new("/")),
        SpecifierContext::fixed(),
    );
    let l = match loader.load("postgresql@15-main.service") {
        Ok(l) => l,
        Err(e) => {
            println!("postgresql@.service is not installed here, nothing to check: {e}");
            return;
        }
    };
    assert!(!l.has_errors(), "{:#?}", l.diagnostics);
    let u = &l.unit;
    assert_eq!(
        u.unit.description.as_deref(),
        Some("PostgreSQL Cluster 15-main")
    );
    assert_eq!(
        u.unit.asserts[0].value,
        "/etc/postgresql/15/main/postgresql.conf"
    );
    let s = u.service().unwrap();
    assert!(s.exec_start[0].flags.ignore_failure);
    assert!(s.exec_start[0].argv.contains(&"15-main".to_owned()));
    assert_eq!(
        s.pid_file.as_deref(),
        Some(Path::new("/run/postgresql/15-main.pid"))
    );
    println!("postgresql@15-main.service: {:?}", s.exec_start[0].argv);
}
