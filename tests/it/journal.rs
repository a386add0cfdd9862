//! Issue 19, "bosun is the journal": bosun as a real PID 1 binds the root's `dev/log` before
//! its first unit; syslog lines (util-linux `logger`, RFC 3164 and 5424, a Python client) are
//! kept in the ring of the unit whose process sent them (SCM_CREDENTIALS), with priority,
//! facility and identifier; a sender outside every unit goes to `unknown`; a flood on the
//! socket leaves PID 1 answering.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::harness::{Pid1, Scratch, bosun, wait_until};

const T: Duration = Duration::from_secs(30);

/// `bosun ctl ARGS` for the bosun under `root`: (code, stdout, stderr).
pub(crate) fn ctl(root: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(bosun())
        .arg("ctl")
        .args(args)
        .env("BOSUN_ROOT", root)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Unit files under `root/etc/systemd/system`, all wanted at boot, and the root's `dev/`.
pub(crate) fn units(root: &Path, files: &[(&str, String)]) {
    let dir = root.join("etc/systemd/system");
    fs::create_dir_all(dir.join("multi-user.target.wants")).unwrap();
    fs::create_dir_all(root.join("dev")).unwrap();
    for (name, text) in files {
        fs::write(dir.join(name), text).unwrap();
        symlink(
            format!("../{name}"),
            dir.join("multi-user.target.wants").join(name),
        )
        .unwrap();
    }
}

/// The JSON lines of `logs --json -n all [UNIT]` (every source's without one).
pub(crate) fn json_logs(root: &Path, unit: Option<&str>) -> Vec<serde_json::Value> {
    let mut args = vec!["logs", "--json", "-n", "all"];
    args.extend(unit);
    let (_, out, _) = ctl(root, &args);
    out.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn syslog_lines_are_kept_under_the_unit_that_sent_them() {
    let dir = Scratch::new("journal-devlog");
    let root = dir.join("root");
    let devlog = root.join("dev/log");
    let log = devlog.display();
    let python = "/usr/bin/python3";
    let mut files = vec![(
        "direct.service",
        format!(
            "[Service]\nType=oneshot\nRemainAfterExit=yes\n\
             ExecStart=/usr/bin/logger -u {log} -t direct-tag -p local3.err from direct\n"
        ),
    )];
    let have_python = Path::new(python).exists();
    if have_python {
        files.push((
            "py.service",
            format!(
                "[Service]\nExecStart={python} -c \"import socket,time; \
                 s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); \
                 s.sendto(b'<29>1 2026-12-06T12:00:00Z host pyapp 99 - - rfc5424 line', '{log}'); \
                 time.sleep(3600)\"\n"
            ),
        ));
    } else {
        eprintln!("SKIP: {python} missing: the RFC 5424 sender from a live daemon is not run");
    }
    units(&root, &files);
    let Some(pid1) = Pid1::bosun().env("BOSUN_ROOT", &root).start() else {
        return;
    };
    let direct = || json_logs(&root, Some("direct.service"));
    assert!(
        wait_until(T, || !direct().is_empty()),
        "no line of direct.service\n{}",
        pid1.stderr_now()
    );
    let lines = direct();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert_eq!(line["text"], "from direct", "{line}");
    assert_eq!(line["syslog"]["priority"], 3, "{line}");
    assert_eq!(line["syslog"]["facility"], 19, "{line}");
    assert_eq!(line["syslog"]["identifier"], "direct-tag", "{line}");
    assert!(line["pid"].as_i64().unwrap() > 1, "{line}");
    // The text form names the identifier; PID 1's stdout shows it in the syslog shape.
    let (_, text, _) = ctl(&root, &["logs", "direct"]);
    assert!(text.contains("direct.service"), "{text}");
    assert!(text.contains("direct-tag: from direct"), "{text}");
    assert!(
        wait_until(T, || pid1.stdout_now().contains("direct-tag[")),
        "stdout: {}",
        pid1.stdout_now()
    );
    if have_python {
        assert!(
            wait_until(T, || !json_logs(&root, Some("py.service")).is_empty()),
            "no line of py.service\n{}",
            pid1.stderr_now()
        );
        let line = &json_logs(&root, Some("py.service"))[0];
        assert_eq!(line["text"], "rfc5424 line", "{line}");
        assert_eq!(line["syslog"]["priority"], 5, "{line}");
        assert_eq!(line["syslog"]["facility"], 3, "{line}");
        assert_eq!(line["syslog"]["identifier"], "pyapp", "{line}");
    }
    // Negative control: a sender outside the container (its pid is 0 there) is no unit's.
    let sent = Command::new("logger")
        .args(["-u"])
        .arg(&devlog)
        .args(["-t", "outsider", "from outside"])
        .status()
        .unwrap();
    assert!(sent.success());
    assert!(
        wait_until(T, || json_logs(&root, None)
            .iter()
            .any(|l| l["text"] == "from outside" && l["unit"] == "unknown")),
        "{}",
        pid1.stderr_now()
    );
    assert_eq!(direct().len(), 1, "{:?}", direct());
    pid1.signal(libc::SIGTERM);
    pid1.wait(T).assert_code(0);
    assert!(!devlog.exists(), "PID 1 leaves its /dev/log behind");
}

#[test]
fn a_syslog_flood_leaves_pid1_answering() {
    let dir = Scratch::new("journal-flood");
    let root = dir.join("root");
    let log = root.join("dev/log");
    let python = "/usr/bin/python3";
    if !Path::new(python).exists() {
        eprintln!("SKIP: {python} missing: no flooding sender");
        return;
    }
    // Blocking sends: the sender goes as fast as PID 1 reads, forever.
    let script = dir.join("flood.py");
    fs::write(
        &script,
        format!(
            "import socket\n\
             s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
             s.connect('{}')\n\
             m = b'<14>flood: ' + b'x' * 100\n\
             while True:\n    s.send(m)\n",
            log.display()
        ),
    )
    .unwrap();
    units(
        &root,
        &[(
            "flood.service",
            format!("[Service]\nExecStart={python} {}\n", script.display()),
        )],
    );
    let Some(pid1) = Pid1::bosun().env("BOSUN_ROOT", &root).start() else {
        return;
    };
    // The flood is on: lines keep arriving.
    let count = || json_logs(&root, Some("flood.service")).len();
    assert!(
        wait_until(T, || count() > 100),
        "no flood\n{}",
        pid1.stderr_now()
    );
    // PID 1 answers status (and each answer is complete) while the sender keeps sending.
    for _ in 0..5 {
        let (code, out, err) = ctl(&root, &["status", "flood.service"]);
        assert_eq!(code, Some(0), "{out}\n{err}");
        assert!(out.contains("flood.service"), "{out}");
    }
    pid1.signal(libc::SIGTERM);
    pid1.wait(T).assert_code(0);
}
