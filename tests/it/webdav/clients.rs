//! Real clients: litmus (the acceptance score), curl, cadaver and a davfs2 mount.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::harness::*;

// ---------------------------------------------------------------------------------------------
// litmus

#[test]
fn litmus_passes_every_test() {
    if !has("litmus") {
        return;
    }
    let server = Server::start(&[]);
    let work = tempfile::tempdir().unwrap();
    let out = Command::new("timeout")
        .args(["600", "litmus", &server.url("/webdav/"), USER, PASSWORD])
        .env("TESTS", "basic copymove props locks http")
        .current_dir(work.path())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let (mut run, mut passed, mut failed, mut groups) = (0, 0, 0, Vec::new());
    for line in text.lines() {
        // <- summary for `basic': of 16 tests run: 16 passed, 0 failed. 100.0%
        let Some(rest) = line.strip_prefix("<- summary for `") else {
            continue;
        };
        let (group, rest) = rest.split_once("': of ").unwrap();
        let numbers: Vec<u32> = rest
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        groups.push(group.to_owned());
        run += numbers[0];
        passed += numbers[1];
        failed += numbers[2];
    }
    println!("litmus: {passed} of {run} passed, {failed} failed");
    assert_eq!(
        groups,
        ["basic", "copymove", "props", "locks", "http"],
        "litmus output:\n{text}"
    );
    assert_eq!(
        (run, passed, failed),
        (104, 104, 0),
        "litmus output:\n{text}"
    );
    assert!(!text.contains("WARNING"), "litmus warned:\n{text}");
}

// ---------------------------------------------------------------------------------------------
// clients

#[test]
fn curl_session() {
    if !has("curl") {
        return;
    }
    let server = Server::start(&[]);
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("up.txt"), "from curl\n").unwrap();
    let creds = format!("{USER}:{PASSWORD}");
    let curl = |args: &[&str]| -> (String, String) {
        let out = Command::new("curl")
            .args([
                "-s",
                "--digest",
                "-u",
                &creds,
                "-o",
                "body.out",
                "-w",
                "%{http_code}",
            ])
            .args(args)
            .current_dir(work.path())
            .output()
            .unwrap();
        let body = std::fs::read_to_string(work.path().join("body.out")).unwrap_or_default();
        (String::from_utf8_lossy(&out.stdout).into_owned(), body)
    };
    assert_eq!(curl(&["-X", "MKCOL", &server.url("/webdav/dir/")]).0, "201");
    assert_eq!(
        curl(&["-T", "up.txt", &server.url("/webdav/dir/up.txt")]).0,
        "201"
    );
    assert_eq!(
        std::fs::read_to_string(server.root().join("dir/up.txt")).unwrap(),
        "from curl\n"
    );
    let (code, body) = curl(&[&server.url("/webdav/dir/up.txt")]);
    assert_eq!((code.as_str(), body.as_str()), ("200", "from curl\n"));
    let (code, body) = curl(&[
        "-X",
        "PROPFIND",
        "-H",
        "Depth: 1",
        &server.url("/webdav/dir/"),
    ]);
    assert_eq!(code, "207");
    assert!(body.contains("/webdav/dir/up.txt"), "{body}");
    let dest = format!("Destination: {}", server.url("/webdav/dir/moved.txt"));
    assert_eq!(
        curl(&["-X", "MOVE", "-H", &dest, &server.url("/webdav/dir/up.txt")]).0,
        "201"
    );
    assert!(server.root().join("dir/moved.txt").exists());
    assert_eq!(
        curl(&["-X", "DELETE", &server.url("/webdav/dir/")]).0,
        "204"
    );
    assert!(!server.root().join("dir").exists());
    // Without credentials.
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &server.url("/webdav/"),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "401");
}

#[test]
fn cadaver_session() {
    if !has("cadaver") {
        return;
    }
    let server = Server::start(&[]);
    let home = tempfile::tempdir().unwrap();
    let netrc = home.path().join(".netrc");
    std::fs::write(
        &netrc,
        format!("machine 127.0.0.1\nlogin {USER}\npassword {PASSWORD}\n"),
    )
    .unwrap();
    std::fs::set_permissions(&netrc, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    std::fs::write(home.path().join("local.txt"), "from cadaver\n").unwrap();
    let script = "mkcol notes\ncd notes\nput local.txt remote.txt\nlock remote.txt\nunlock remote.txt\npropset remote.txt color blue\npropget remote.txt color\ncopy remote.txt copy.txt\nls\nget copy.txt fetched.txt\nrm remote.txt\nquit\n";
    let mut child = Command::new("cadaver")
        .arg(server.url("/webdav/"))
        .env("HOME", home.path())
        .current_dir(home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        std::fs::read_to_string(server.root().join("notes/copy.txt")).unwrap(),
        "from cadaver\n",
        "{text}"
    );
    assert!(!server.root().join("notes/remote.txt").exists(), "{text}");
    assert_eq!(
        std::fs::read_to_string(home.path().join("fetched.txt")).unwrap(),
        "from cadaver\n",
        "{text}"
    );
    assert!(text.contains("blue"), "propget output missing: {text}");
    assert!(!text.contains("failed:"), "{text}");
}

#[test]
fn davfs2_mount_edit_is_seen_whole() {
    let server = Server::start(&[]);
    std::fs::write(server.root().join("app.py"), "VERSION = 1\n").unwrap();
    let Some(mount) = DavMount::mount(&server) else {
        return;
    };
    let mnt = mount.dir.clone();
    // A watcher polls the served file; every version it sees must be complete.
    let served = server.root().join("app.py");
    let new_content = format!("VERSION = 2\n{}\n", "# padding\n".repeat(20_000));
    let expected = new_content.clone();
    let watcher = std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(60);
        while Instant::now() < end {
            let seen = std::fs::read_to_string(&served).unwrap_or_default();
            assert!(
                seen == "VERSION = 1\n" || seen == expected,
                "the watcher saw a partial file of {} bytes",
                seen.len()
            );
            if seen == expected {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    });
    std::fs::write(mnt.join("app.py"), &new_content).unwrap();
    // davfs2 uploads on close (delay_upload 0) or at the latest on unmount.
    drop(mount);
    assert!(
        watcher.join().unwrap(),
        "the new content never reached the server"
    );
    assert_eq!(
        std::fs::read_to_string(server.root().join("app.py")).unwrap(),
        new_content
    );
}
