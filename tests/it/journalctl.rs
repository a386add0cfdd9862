//! Issue 19, the `journalctl` personality: bosun as a real PID 1 keeps its units' lines, and
//! `journalctl` (bosun by that name, as `bosun image link` installs it) reads them over the
//! control socket with systemd 252's options, words and exit codes — each filter beside a
//! negative control; `systemctl status` shows a unit's last lines through the same renderer;
//! the advice bosun prints when a start fails ("See 'systemctl status X' and 'journalctl -xeu
//! X'") gives the failure's lines; a follower whose reader goes away ends quietly.

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::symlink;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::{Pid1, Scratch, bosun, wait_until};

const T: Duration = Duration::from_secs(30);

/// bosun run as `name` (`journalctl`, `systemctl`) against the bosun under `root`:
/// (code, stdout, stderr).
fn as_cmd(name: &str, root: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(bosun())
        .arg0(name)
        .args(args)
        .env("BOSUN_ROOT", root)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn jctl(root: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    as_cmd("journalctl", root, args)
}

/// Unit files under `root/etc/systemd/system`; those in `wanted` start at boot.
fn units(root: &Path, files: &[(&str, String)], wanted: &[&str]) {
    let dir = root.join("etc/systemd/system");
    fs::create_dir_all(dir.join("multi-user.target.wants")).unwrap();
    fs::create_dir_all(root.join("dev")).unwrap();
    for (name, text) in files {
        fs::write(dir.join(name), text).unwrap();
        if wanted.contains(name) {
            symlink(
                format!("../{name}"),
                dir.join("multi-user.target.wants").join(name),
            )
            .unwrap();
        }
    }
}

fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim_end()
        .to_owned()
}

#[test]
fn journalctl_filters_renders_and_follows_as_systemd() {
    let dir = Scratch::new("journalctl");
    let root = dir.join("root");
    let log = root.join("dev/log");
    let log = log.display();
    let files = vec![
        (
            "web.service",
            "[Service]\nExecStart=/bin/sh -c 'echo hello-web; echo oops-web >&2; exec sleep 3600'\n"
                .to_owned(),
        ),
        (
            "other.service",
            "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/echo other-line\n"
                .to_owned(),
        ),
        (
            "noisy.service",
            "[Service]\nType=oneshot\nRemainAfterExit=yes\n\
             ExecStart=/bin/sh -c 'for i in $(seq 1 2000); do echo noise-$i; done'\n"
                .to_owned(),
        ),
        (
            "tagger.service",
            format!(
                "[Service]\nType=oneshot\nRemainAfterExit=yes\n\
                 ExecStart=/usr/bin/logger -u {log} -t mytag -p daemon.err tagged-error\n\
                 ExecStart=/usr/bin/logger -u {log} -t mytag -p daemon.debug tagged-debug\n"
            ),
        ),
        (
            "fail.service",
            "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo broken-config >&2; exit 1'\n"
                .to_owned(),
        ),
    ];
    units(
        &root,
        &files,
        &[
            "web.service",
            "other.service",
            "noisy.service",
            "tagger.service",
        ],
    );
    let Some(pid1) = Pid1::bosun().env("BOSUN_ROOT", &root).start() else {
        return;
    };
    let everything = || jctl(&root, &["--no-pager"]).1;
    assert!(
        wait_until(T, || {
            let all = everything();
            [
                "hello-web",
                "oops-web",
                "other-line",
                "noise-2000",
                "tagged-debug",
            ]
            .iter()
            .all(|w| all.contains(w))
        }),
        "not every line arrived:\n{}\n{}",
        everything(),
        pid1.stderr_now()
    );
    let host = hostname();

    // -u: the unit's lines in systemd's short format; `web` means web.service.
    let (code, out, err) = jctl(&root, &["-u", "web"]);
    assert_eq!(code, Some(0), "{err}");
    // (stdout and stderr are two pipes: their lines' order is not the test's business.)
    let hello = out
        .lines()
        .find(|l| l.contains("hello-web"))
        .unwrap_or_default();
    // The identifier of a stdout line is the executable's name, as journald's.
    let prefix = format!(" {host} sh[");
    assert!(hello.contains(&prefix), "{out}");
    assert!(hello.ends_with("]: hello-web"), "{out}");
    assert!(out.contains("]: oops-web"), "{out}");
    assert!(!out.contains("other-line"), "{out}");
    let (_, out, _) = jctl(&root, &["-u", "web", "--no-hostname"]);
    assert!(!out.contains(&prefix) && out.contains(" sh["), "{out}");
    // Globs match the units the journal holds; none matching is journalctl's error.
    let (_, out, _) = jctl(&root, &["-u", "oth*", "-u", "web.service"]);
    assert!(
        out.contains("other-line") && out.contains("hello-web"),
        "{out}"
    );
    assert!(!out.contains("noise-"), "{out}");
    let (code, out, err) = jctl(&root, &["-u", "nomatch*"]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        err.trim(),
        "Failed to add filter for units: No data available"
    );
    // A unit without lines: nothing matches, said as journalctl says it.
    let (code, out, _) = jctl(&root, &["-u", "quiet.service"]);
    assert_eq!((code, out.as_str()), (Some(0), "-- No entries --\n"));
    assert_eq!(jctl(&root, &["-q", "-u", "quiet.service"]).1, "");

    // -t and -p: the syslog lines' identifier and priority; stream lines are info.
    let (_, out, _) = jctl(&root, &["-t", "mytag"]);
    assert!(
        out.contains(" mytag[") && out.contains("tagged-error"),
        "{out}"
    );
    assert!(
        out.contains("tagged-debug") && !out.contains("hello-web"),
        "{out}"
    );
    assert_eq!(jctl(&root, &["-t", "nobody"]).1, "-- No entries --\n");
    let (_, out, _) = jctl(&root, &["-p", "err"]);
    assert!(out.contains("tagged-error"), "{out}");
    assert!(
        !out.contains("tagged-debug") && !out.contains("hello-web"),
        "{out}"
    );
    let (_, out, _) = jctl(&root, &["-p", "info..debug", "-u", "tagger"]);
    assert!(
        out.contains("tagged-debug") && !out.contains("tagged-error"),
        "{out}"
    );
    // Stream lines without SyslogIdentifier= are the executable's name.
    let (_, out, _) = jctl(&root, &["-t", "sh", "-u", "web"]);
    assert!(out.contains("hello-web"), "{out}");

    // -n counts matching lines (PID 1 filters before it counts); -r turns them round.
    let (_, out, _) = jctl(&root, &["-u", "noisy", "-n", "3", "-o", "cat"]);
    assert_eq!(out, "noise-1998\nnoise-1999\nnoise-2000\n");
    let (_, out, _) = jctl(&root, &["-u", "noisy", "-r", "-n2", "-o", "cat"]);
    assert_eq!(out, "noise-2000\nnoise-1999\n");
    let (_, out, _) = jctl(&root, &["-u", "noisy", "-o", "cat"]);
    assert_eq!(out.lines().count(), 2000);
    // -e implies the last 1000; -x adds nothing where no catalog entry exists.
    let (_, plain, _) = jctl(&root, &["-u", "web"]);
    let (code, xe, _) = jctl(&root, &["-xe", "-u", "web"]);
    assert_eq!((code, &xe), (Some(0), &plain));

    // --since/--until.
    let (_, out, _) = jctl(&root, &["--since", "-1h", "-u", "other"]);
    assert!(out.contains("other-line"), "{out}");
    let (_, out, _) = jctl(&root, &["--since", "+1h", "-u", "other"]);
    assert_eq!(out, "-- No entries --\n");
    let (_, out, _) = jctl(&root, &["--until", "yesterday", "-u", "other"]);
    assert_eq!(out, "-- No entries --\n");
    let (_, out, _) = jctl(
        &root,
        &["--since", "today", "--until", "now", "-u", "other"],
    );
    assert!(out.contains("other-line"), "{out}");
    let (code, _, err) = jctl(&root, &["--since", "soon"]);
    assert_eq!(
        (code, err.trim()),
        (Some(1), "Failed to parse timestamp: soon")
    );

    // -o json: journald's field names; --output-fields keeps the named ones.
    let (_, out, _) = jctl(&root, &["-u", "tagger", "-p", "err", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["MESSAGE"], "tagged-error", "{v}");
    assert_eq!(v["PRIORITY"], "3");
    assert_eq!(v["SYSLOG_FACILITY"], "3");
    assert_eq!(v["SYSLOG_IDENTIFIER"], "mytag");
    assert_eq!(v["_SYSTEMD_UNIT"], "tagger.service");
    assert_eq!(v["_TRANSPORT"], "syslog");
    assert_eq!(v["_HOSTNAME"], host.as_str());
    // _BOOT_ID is this bosun's: new at each start of PID 1, not the kernel's.
    let kernel = fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .unwrap()
        .trim()
        .replace('-', "");
    let boot_id = v["_BOOT_ID"].as_str().unwrap().to_owned();
    assert_eq!(boot_id.len(), 32, "{v}");
    assert_ne!(boot_id, kernel);
    let (_, out, _) = jctl(
        &root,
        &["-u", "other", "-o", "json", "--output-fields=MESSAGE"],
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["MESSAGE"], "other-line");
    assert!(
        v.get("_PID").is_none() && v.get("_TRANSPORT").is_none(),
        "{v}"
    );
    assert!(
        v.get("__CURSOR").is_some() && v.get("_BOOT_ID").is_some(),
        "{v}"
    );
    let (_, out, _) = jctl(&root, &["-u", "other", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (&v["_TRANSPORT"], &v["PRIORITY"]),
        (&"stdout".into(), &"6".into())
    );
    // JSON modes are quiet: nothing matching prints nothing.
    assert_eq!(jctl(&root, &["-t", "nobody", "-o", "json"]).1, "");

    // -b: this boot; without log.persist no other is kept; -k: no kernel messages.
    let (code, out, _) = jctl(&root, &["-b", "-u", "other"]);
    assert!(code == Some(0) && out.contains("other-line"), "{out}");
    assert!(
        jctl(&root, &["-b", "0", "-u", "other"])
            .1
            .contains("other-line")
    );
    assert!(
        jctl(&root, &["-b", &boot_id, "-u", "other"])
            .1
            .contains("other-line")
    );
    let (code, _, err) = jctl(&root, &["-b", &kernel]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("No such boot ID in journal"), "{err}");
    let (code, out, err) = jctl(&root, &["-b", "-1"]);
    assert_eq!((code, out.as_str()), (Some(0), ""), "{err}");
    assert!(
        err.starts_with(
            "Specifying boot ID or boot offset has no effect, no persistent journal was found."
        ),
        "{err}"
    );
    let (code, out, _) = jctl(&root, &["--list-boots"]);
    assert_eq!(code, Some(0));
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert!(rows[0].starts_with("IDX BOOT ID "), "{out}");
    assert!(rows[1].starts_with(&format!("  0 {boot_id} ")), "{out}");
    let (code, out, _) = jctl(&root, &["-k"]);
    assert_eq!((code, out.as_str()), (Some(0), "-- No entries --\n"));

    // systemctl status: the last lines through the same renderer, -n and -o.
    let (_, out, _) = as_cmd("systemctl", &root, &["status", "web"]);
    assert!(
        out.contains(&prefix) && out.contains("]: hello-web"),
        "{out}"
    );
    let (_, out, _) = as_cmd(
        "systemctl",
        &root,
        &["status", "noisy", "-n", "2", "-o", "cat"],
    );
    assert!(out.ends_with("\nnoise-1999\nnoise-2000\n"), "{out}");
    assert!(!out.contains("noise-1998"), "{out}");
    let (_, out, _) = as_cmd("systemctl", &root, &["status", "noisy", "--lines=0"]);
    assert!(!out.contains("noise-2000"), "{out}");

    // The advice printed when a start fails works, and shows why.
    let (code, _, err) = as_cmd("systemctl", &root, &["start", "fail.service"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("See \"systemctl status fail.service\" and \"journalctl -xeu fail.service\""),
        "{err}"
    );
    let (code, out, err) = jctl(&root, &["-xeu", "fail.service"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("broken-config"), "{out}");
    assert!(!out.contains("hello-web"), "{out}");
    let (_, out, _) = as_cmd("systemctl", &root, &["status", "fail.service"]);
    assert!(out.contains("broken-config"), "{out}");

    // -f: new lines as they come; a reader that goes away ends the follower quietly.
    let mut follower = Command::new(bosun())
        .arg0("journalctl")
        .args(["-f", "-n", "1", "-u", "other", "-o", "cat"])
        .env("BOSUN_ROOT", &root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(follower.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    assert_eq!(first, "other-line\n");
    // A line written after the follower started comes too.
    let (code, _, err) = as_cmd("systemctl", &root, &["restart", "other"]);
    assert_eq!(code, Some(0), "{err}");
    let mut next = String::new();
    reader.read_line(&mut next).unwrap();
    assert_eq!(next, "other-line\n");
    drop(reader);
    assert!(
        wait_until(T, || follower.try_wait().unwrap().is_some()),
        "the follower outlived its reader"
    );
    let status = follower.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut follower.stderr.take().unwrap(), &mut err).unwrap();
    // A quiet end: success, or SIGPIPE's default action as in systemctl; never a message.
    use std::os::unix::process::ExitStatusExt;
    assert!(
        status.success() || status.signal() == Some(libc::SIGPIPE),
        "{status:?}"
    );
    assert_eq!(err, "");
    // `journalctl | head -1` with more than a pipe holds: ends, quietly (SIGPIPE's default
    // action, 141 in the shell's words, or 0), without a word on stderr.
    let link = dir.join("journalctl");
    symlink(bosun(), &link).unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{{ '{}' -u noisy; echo \"status=$?\" >&2; }} | head -1",
            link.display()
        ))
        .env("BOSUN_ROOT", &root)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said == "status=141\n" || said == "status=0\n", "{said:?}");
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("]: noise-1\n"));

    pid1.signal(libc::SIGTERM);
    pid1.wait(T).assert_code(0);
}
