//! `make demo` without a terminal: tests/demo.sh, with the bosun under test, on a scratch demo
//! directory and free ports, run three times and stopped each time by SIGINT to bosun (what
//! Ctrl-C delivers): the first run seeds the hand-made template and runs the installer, the
//! second starts routinely, `BUILD_ID=2` merges the new template (the page the user edited
//! kept, the image's beside it). Each run's banner must say which kind of start it was, and
//! the web server must serve the volume's page.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::BOSUN;
use crate::harness::{Scratch, free_port, namespaces_work, wait_until};

const T: Duration = Duration::from_secs(30);

/// One run's output (stdout and stderr together) and exit code.
struct Run {
    output: String,
    code: Option<i32>,
}

/// The body of `GET /path` on the loopback port, once something answers 200.
fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(T)).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.0 200").then(|| body.to_owned())
}

/// Run tests/demo.sh on `dir` until its banner hook has spoken and the web server serves
/// `expect` on its page, then stop it as Ctrl-C would.
fn run_demo(dir: &Path, build: Option<&str>, expect: &str) -> Run {
    let scratch = Scratch::new("demo-out");
    let log = scratch.join("output");
    let file = fs::File::create(&log).unwrap();
    let web = free_port();
    let mut cmd = Command::new("sh");
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/demo.sh"))
        .arg(BOSUN)
        .env("DEMO_DIR", dir)
        .env("DEMO_WEB_PORT", web.to_string())
        .env("DEMO_WEBDAV_PORT", free_port().to_string())
        .env_remove("BUILD_ID")
        .env_remove("BOSUN_ROOT")
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file);
    if let Some(id) = build {
        cmd.env("BUILD_ID", id);
    }
    let mut child = cmd.spawn().unwrap();
    let output = || fs::read_to_string(&log).unwrap_or_default();
    // demo.sh execs unshare, whose only child is bosun, PID 1 of the namespace.
    let init = || -> Option<i32> {
        let tasks = fs::read_dir(format!("/proc/{}/task", child.id())).ok()?;
        tasks
            .flatten()
            .filter_map(|t| fs::read_to_string(t.path().join("children")).ok())
            .flat_map(|c| {
                c.split_whitespace()
                    .filter_map(|p| p.parse().ok())
                    .collect::<Vec<i32>>()
            })
            .next()
    };
    let booted = wait_until(T, || output().contains("== to see an upgrade"));
    let served = booted
        && wait_until(T, || {
            get(web, "/").is_some_and(|page| page.contains(expect))
        });
    let stopped = init().is_some_and(|pid| {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGINT,
        )
        .is_ok()
    });
    let mut code = None;
    let exited = stopped
        && wait_until(T, || match child.try_wait() {
            Ok(Some(status)) => {
                code = status.code();
                true
            }
            _ => false,
        });
    if !exited {
        let _ = child.kill();
        let _ = child.wait();
    }
    let run = Run {
        output: output(),
        code,
    };
    assert!(
        booted && served && exited,
        "the demo did not boot ({booted}), serve {expect:?} ({served}) or stop on SIGINT \
         ({exited}):\n{}",
        run.output
    );
    run
}

fn volume(dir: &Path, rel: &str) -> PathBuf {
    dir.join("data").join(rel)
}

#[test]
fn make_demo_first_run_routine_start_and_upgrade() {
    if !namespaces_work() {
        return;
    }
    let scratch = Scratch::new("demo");
    let dir = scratch.join("demo");
    let read = |rel: &str| fs::read_to_string(volume(&dir, rel)).unwrap_or_default();

    let first = run_demo(&dir, None, "bosun demo, build 1");
    assert_eq!(first.code, Some(0), "{}", first.output);
    assert!(
        first.output.contains("== this start: FIRST RUN")
            && first.output.contains("(seeded at this boot)")
            && first.output.contains("make demo BUILD_ID=2"),
        "{}",
        first.output
    );
    assert!(
        first.output.contains("first-boot.d/10-install[")
            && first.output.contains("demo-web.service is active"),
        "the installer ran and used systemctl:\n{}",
        first.output
    );
    let installed = read("www/installed.html");
    assert!(installed.contains("installed by build 1"), "{installed:?}");

    let routine = run_demo(&dir, None, "bosun demo, build 1");
    assert_eq!(routine.code, Some(0), "{}", routine.output);
    assert!(
        routine.output.contains("== this start: ROUTINE START"),
        "{}",
        routine.output
    );
    assert!(
        !routine.output.contains("first-boot.d/10-install["),
        "the installer ran again:\n{}",
        routine.output
    );
    assert_eq!(read("www/installed.html"), installed);

    // The user edits the page (WebDAV would write the same file), then a new build comes.
    fs::write(volume(&dir, "www/index.html"), "<h1>my own page</h1>\n").unwrap();
    let upgrade = run_demo(&dir, Some("2"), "my own page");
    assert_eq!(upgrade.code, Some(0), "{}", upgrade.output);
    assert!(
        upgrade
            .output
            .contains("== this start: UPGRADE from build 1 to 2")
            && upgrade.output.contains("(upgraded from 1 at this boot)")
            && upgrade.output.contains("make demo BUILD_ID=3"),
        "{}",
        upgrade.output
    );
    assert!(read("www/index.html.bosun-new").contains("bosun demo, build 2"));
    assert!(
        read("conf/app.conf").contains("# defaults of build 2"),
        "updated"
    );
    assert!(read("www/releases/2.txt").contains("build 2"), "added");
    assert!(read("upgrades.log").contains("1 -> 2"));

    // Without BUILD_ID the demo stays on the last build: a routine start, not a downgrade.
    let after = run_demo(&dir, None, "my own page");
    assert_eq!(after.code, Some(0), "{}", after.output);
    assert!(
        after
            .output
            .contains("ROUTINE START: the volume already holds build 2"),
        "{}",
        after.output
    );
}
