//! Load checks that used to be unmeasured: PROPFIND Depth 1 on a collection of 100,000 files
//! (streamed; the server's peak RSS stays far below the answer's size), a PUT too large for a
//! nearly full filesystem (507, old file intact, no temporary left), and 10,000 locks.

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::harness::*;

/// The peak resident set of process `pid`, in KiB (`VmHWM`).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Send `requests` on one kept-alive connection (written from a thread while the answers are
/// read) and return the answers.
fn pipeline(port: u16, requests: Vec<Vec<u8>>) -> Vec<Response> {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let n = requests.len();
    let sender = std::thread::spawn(move || {
        for r in requests {
            writer.write_all(&r).unwrap();
        }
    });
    let mut reader = BufReader::new(stream);
    let answers = (0..n).map(|_| read_response(&mut reader, false)).collect();
    sender.join().unwrap();
    answers
}

fn request(c: &mut Client, method: &str, target: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let auth = c.authorization(method, target);
    let mut raw = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(body);
    raw
}

#[test]
fn propfind_of_100000_files_is_streamed_in_bounded_memory() {
    let server = Server::start(&[]);
    let big = server.root().join("big");
    std::fs::create_dir(&big).unwrap();
    for n in 0..100_000 {
        std::fs::File::create(big.join(format!("file-{n:06}.txt"))).unwrap();
    }
    let mut c = server.client();
    let r = c.send("PROPFIND", "/webdav/big/", &[("Depth", "1")], b"");
    assert_eq!(r.status, 207);
    assert!(
        r.header("transfer-encoding")
            .is_some_and(|t| t.contains("chunked")),
        "{:?}",
        r.headers
    );
    let text = r.text();
    assert_eq!(text.matches("<D:response>").count(), 100_001);
    assert!(text.contains("/webdav/big/file-099999.txt"));
    assert!(text.trim_end().ends_with("</D:multistatus>"));
    let peak = peak_rss_kib(server.child.id());
    println!(
        "PROPFIND Depth 1 of 100,000 files: {} bytes answered, server peak RSS {peak} KiB",
        r.body.len()
    );
    // Held whole, the answer alone would be its size; streamed, the server stays far below.
    assert!(
        peak * 1024 * 2 < r.body.len() as u64,
        "peak RSS {peak} KiB for an answer of {} bytes",
        r.body.len()
    );
    // Negative control: a short listing is still sent whole, with a length.
    let r = c.send("PROPFIND", "/webdav/", &[("Depth", "1")], b"");
    assert_eq!(r.status, 207);
    assert!(r.header("content-length").is_some());
}

/// A tmpfs of `size` mounted on `dir`, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        if !nix_is_root() {
            println!("SKIP: a small tmpfs for the full-filesystem PUT needs root");
            return None;
        }
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "bosun-test"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            println!("SKIP: cannot mount a tmpfs here");
            return None;
        }
        Some(Tmpfs(dir.to_owned()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn put_larger_than_the_free_space_gets_507_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("root")).unwrap();
    let Some(_fs) = Tmpfs::mount(&dir.path().join("root"), "64m") else {
        return;
    };
    write_htdigest(&dir.path().join("htdigest"), REALM, USER, PASSWORD);
    let server = Server::start_in(dir, &[]);
    // Nearly full: 56 MiB of 64 taken.
    std::fs::write(server.root().join("filler"), vec![7u8; 56 << 20]).unwrap();
    std::fs::write(server.root().join("app.py"), "old\n").unwrap();
    let mut c = server.client();
    assert_eq!(c.send("GET", "/webdav/app.py", &[], b"").status, 200);
    let leftovers = || -> Vec<String> {
        list_tree(&server.root())
            .into_iter()
            .filter(|n| n.contains(".bosun-"))
            .collect()
    };

    // 1. A declared 5 GB body: refused before the client sends it (it waits for 100).
    let auth = c.authorization("PUT", "/webdav/app.py");
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "PUT /webdav/app.py HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Length: 5000000000\r\nExpect: 100-continue\r\n\r\n"
    )
    .unwrap();
    let r = read_response(&mut BufReader::new(stream), false);
    assert_eq!(r.status, 507);

    // 2. A body of unknown length (chunked) that runs out of space on the way.
    let auth = c.authorization("PUT", "/webdav/app.py");
    let stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let head = format!(
            "PUT /webdav/app.py HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        writer.write_all(head.as_bytes())?;
        let chunk = vec![1u8; 1 << 20];
        for _ in 0..100 {
            writer.write_all(b"100000\r\n")?;
            writer.write_all(&chunk)?;
            writer.write_all(b"\r\n")?;
        }
        writer.write_all(b"0\r\n\r\n")
    });
    let r = read_response(&mut BufReader::new(stream), false);
    assert_eq!(r.status, 507);
    let _ = sender.join().unwrap();
    wait_until("the temporary file to go", Duration::from_secs(10), || {
        leftovers().is_empty()
    });
    assert_eq!(
        std::fs::read(server.root().join("app.py")).unwrap(),
        b"old\n"
    );

    // Negative control: what fits is written.
    let small = vec![2u8; 1 << 20];
    assert_eq!(c.send("PUT", "/webdav/app.py", &[], &small).status, 204);
    assert_eq!(std::fs::read(server.root().join("app.py")).unwrap(), small);
    assert!(leftovers().is_empty());
    // Unmounted before its directory goes.
    let dir = server.into_dir();
    drop(_fs);
    drop(dir);
}

#[test]
fn ten_thousand_locks() {
    let server = Server::start(&["--max-locks", "10000"]);
    std::fs::create_dir(server.root().join("many")).unwrap();
    let mut c = server.client();
    assert_eq!(c.send("GET", "/webdav/many/", &[], b"").status, 200);
    let info = br#"<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>load</D:owner></D:lockinfo>"#;
    let requests = (0..10_000)
        .map(|n| request(&mut c, "LOCK", &format!("/webdav/many/f{n:05}"), "", info))
        .collect();
    let answers = pipeline(server.port, requests);
    assert!(answers.iter().all(|r| r.status == 201));
    // The table is full: the next lock is refused, every lock is still enforced.
    let r = c.send("LOCK", "/webdav/many/one-more", &[], info);
    assert_eq!(r.status, 503);
    assert_eq!(c.send("PUT", "/webdav/many/f09999", &[], b"x").status, 423);
    let r = c.send("PROPFIND", "/webdav/many/", &[("Depth", "1")], b"");
    assert_eq!(r.text().matches("<D:activelock>").count(), 10_000);
    println!(
        "10,000 locks: server peak RSS {} KiB",
        peak_rss_kib(server.child.id())
    );
    // Negative control: releasing one makes room for one.
    let token = answers[0].header("lock-token").unwrap().to_owned();
    assert_eq!(
        c.send(
            "UNLOCK",
            "/webdav/many/f00000",
            &[("Lock-Token", &token)],
            b""
        )
        .status,
        204
    );
    assert_eq!(
        c.send("LOCK", "/webdav/many/one-more", &[], info).status,
        201
    );
}
