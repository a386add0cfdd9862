//! The real-client matrix: a davfs2 mount (edit, rename, rsync of 2,000 files compared byte
//! for byte, git add and commit), rclone with Basic switched on (and refused without it), and the Python clients
//! webdav4 (httpx) and webdavclient3 (requests), both with Digest, in a venv under target/.
//! litmus, curl and cadaver are in `clients`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

use super::harness::*;

fn show(out: &Output) -> String {
    format!(
        "{}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// 2,000 files of 1 to 4 KiB in 20 directories.
fn make_tree(dir: &Path) {
    let mut seed: u32 = 12345;
    for d in 0..20 {
        let sub = dir.join(format!("d{d:02}"));
        std::fs::create_dir_all(&sub).unwrap();
        for f in 0..100 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let len = 1024 + (seed as usize % 3072);
            let body: Vec<u8> = (0..len)
                .map(|i| (seed as usize + i * 7).to_le_bytes()[0])
                .collect();
            std::fs::write(sub.join(format!("f{f:03}.bin")), body).unwrap();
        }
    }
}

fn assert_same_tree(want: &Path, got: &Path) {
    let names = list_tree(want);
    assert_eq!(names, list_tree(got), "the trees differ in names");
    for name in names {
        let a = want.join(&name);
        if a.is_file() {
            assert!(
                std::fs::read(&a).unwrap() == std::fs::read(got.join(&name)).unwrap(),
                "{name} differs"
            );
        }
    }
}

#[test]
fn davfs2_edit_rename_and_rsync_of_2000_files() {
    let server = Server::start(&[]);
    std::fs::write(server.root().join("notes.txt"), "line 1\n").unwrap();
    let Some(mount) = DavMount::mount(&server) else {
        return;
    };
    if !has("rsync") {
        return;
    }
    let mnt = mount.dir.clone();
    // Edit in place and rename.
    let mut text = std::fs::read_to_string(mnt.join("notes.txt")).unwrap();
    text.push_str("line 2\n");
    std::fs::write(mnt.join("notes.txt"), &text).unwrap();
    std::fs::rename(mnt.join("notes.txt"), mnt.join("renamed.txt")).unwrap();
    // rsync a tree in, then ask rsync with checksums whether anything differs.
    let src = tempfile::tempdir().unwrap();
    make_tree(src.path());
    let out = Command::new("rsync")
        .args(["-r", "--checksum"])
        .arg(format!("{}/", src.path().display()))
        .arg(mnt.join("tree"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let out = Command::new("rsync")
        .args(["-r", "--checksum", "--dry-run", "--itemize-changes"])
        .arg(format!("{}/", src.path().display()))
        .arg(mnt.join("tree"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "",
        "rsync still sees changes"
    );
    // git inside the mount: add, commit, and the commit is there.
    if has("git") {
        let git = |args: &[&str]| {
            let out = Command::new("git")
                .arg("-C")
                .arg(mnt.join("repo"))
                .args(["-c", "user.name=t", "-c", "user.email=t@t"])
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}: {}", show(&out));
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        std::fs::create_dir(mnt.join("repo")).unwrap();
        git(&["init", "-q"]);
        std::fs::write(mnt.join("repo/a.txt"), "hello\n").unwrap();
        git(&["add", "a.txt"]);
        assert_eq!(git(&["status", "--short"]), "A  a.txt\n");
        git(&["commit", "-q", "-m", "one"]);
        assert!(git(&["log", "--oneline"]).ends_with(" one\n"));
        assert_eq!(git(&["status", "--short"]), "");
    }
    drop(mount);
    // What the server holds, byte for byte.
    assert_eq!(
        std::fs::read_to_string(server.root().join("renamed.txt")).unwrap(),
        "line 1\nline 2\n"
    );
    assert!(!server.root().join("notes.txt").exists());
    assert_same_tree(src.path(), &server.root().join("tree"));
}

fn rclone(server: &Server, config: &Path, args: &[&str]) -> Output {
    let obscured = Command::new("rclone")
        .args(["obscure", PASSWORD])
        .output()
        .unwrap();
    Command::new("rclone")
        .env("RCLONE_CONFIG", config)
        .env("RCLONE_CONFIG_DAV_TYPE", "webdav")
        .env("RCLONE_CONFIG_DAV_URL", server.url("/webdav/"))
        .env("RCLONE_CONFIG_DAV_VENDOR", "other")
        .env("RCLONE_CONFIG_DAV_USER", USER)
        .env(
            "RCLONE_CONFIG_DAV_PASS",
            String::from_utf8_lossy(&obscured.stdout).trim(),
        )
        .args(["--low-level-retries", "1", "--retries", "1"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn rclone_with_basic_switched_on() {
    if !has("rclone") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("rclone.conf");
    std::fs::write(&config, "").unwrap();
    let src = work.path().join("src");
    std::fs::create_dir(&src).unwrap();
    for n in 0..50 {
        std::fs::write(
            src.join(format!("f{n}.txt")),
            format!("file {n}\n").repeat(n + 1),
        )
        .unwrap();
    }
    std::fs::create_dir(src.join("sub")).unwrap();
    std::fs::write(src.join("sub/deep.txt"), "deep").unwrap();

    // Negative control: rclone speaks Basic only, so without --allow-basic it is refused.
    let digest_only = Server::start(&[]);
    let out = rclone(&digest_only, &config, &["lsf", "dav:"]);
    assert!(!out.status.success(), "{}", show(&out));
    assert!(show(&out).contains("401"), "{}", show(&out));
    drop(digest_only);

    let server = Server::start(&["--allow-basic"]);
    let src_arg = src.display().to_string();
    let out = rclone(&server, &config, &["copy", &src_arg, "dav:tree"]);
    assert!(out.status.success(), "{}", show(&out));
    let out = rclone(
        &server,
        &config,
        &["check", "--download", &src_arg, "dav:tree"],
    );
    assert!(out.status.success(), "{}", show(&out));
    assert_same_tree(&src, &server.root().join("tree"));
    let out = rclone(
        &server,
        &config,
        &["moveto", "dav:tree/f1.txt", "dav:tree/sub/moved.txt"],
    );
    assert!(out.status.success(), "{}", show(&out));
    let out = rclone(&server, &config, &["lsf", "-R", "dav:tree/sub"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "deep.txt\nmoved.txt\n",
        "{}",
        show(&out)
    );
    let out = rclone(&server, &config, &["purge", "dav:tree/sub"]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(!server.root().join("tree/sub").exists());
}

/// The venv with webdav4 and webdavclient3 under target/, made once (pip from PyPI). `None`
/// after a loud SKIP where it cannot be made.
fn python_clients() -> Option<PathBuf> {
    static VENV: Mutex<Option<Option<PathBuf>>> = Mutex::new(None);
    let mut venv = VENV
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(found) = &*venv {
        return found.clone();
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("webdav-venv");
    let python = dir.join("bin/python");
    let ready = |python: &Path| {
        Command::new(python)
            .args(["-c", "import webdav4, webdav3"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ready(&python) {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&dir)
            .output()
            .is_ok_and(|o| o.status.success())
            && Command::new(&python)
                .args(["-m", "pip", "install", "-q", "webdav4", "webdavclient3"])
                .output()
                .is_ok_and(|o| o.status.success());
        if !made || !ready(&python) {
            println!(
                "SKIP: cannot make {} with webdav4 and webdavclient3 (python3 -m venv, pip from PyPI)",
                dir.display()
            );
            *venv = Some(None);
            return None;
        }
    }
    *venv = Some(Some(python.clone()));
    Some(python)
}

fn run_python_client(script: &str, url: &str) {
    let Some(python) = python_clients() else {
        return;
    };
    let server = Server::start(&[]);
    std::fs::write(server.root().join("seed.txt"), "seed\n").unwrap();
    let work = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/webdav")
        .join(script);
    let out = Command::new(python)
        .arg(&script)
        .arg(server.url(url))
        .args([USER, PASSWORD])
        .arg(work.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}: {}", script.display(), show(&out));
    let data = std::fs::read(server.root().join("docs/data.bin")).unwrap();
    assert_eq!(data, std::fs::read(work.path().join("src.bin")).unwrap());
}

#[test]
fn python_webdav4_client() {
    run_python_client("webdav4_client.py", "/webdav/");
}

#[test]
fn python_webdavclient3_client() {
    run_python_client("webdavclient3_client.py", "");
}
