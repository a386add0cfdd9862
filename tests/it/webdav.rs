//! `bosun webdav` end to end: the real binary on 127.0.0.1 with a temporary root and htdigest
//! file, driven by a raw HTTP/1.1 client (so paths reach the server unnormalised), by litmus,
//! cadaver and curl, and by a davfs2 mount where the machine allows one. Tools that are not
//! installed make their test print a loud SKIP line, never pass silently.

// Test harness code: a failed set-up step should panic with its cause.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bosun::webdav::digest;

const REALM: &str = "bosun test realm";
const USER: &str = "alice";
// No blanks: cadaver reads it from a .netrc.
const PASSWORD: &str = "s3cret-pw";

fn wait_until(what: &str, deadline: Duration, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + deadline;
    while Instant::now() < end {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn write_htdigest(path: &Path, realm: &str, user: &str, password: &str) {
    std::fs::write(
        path,
        format!("{user}:{realm}:{}\n", digest::ha1(user, realm, password)),
    )
    .unwrap();
}

/// A running `bosun webdav`, killed on drop.
struct Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    args: Vec<String>,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("root")).unwrap();
        write_htdigest(&dir.path().join("htdigest"), REALM, USER, PASSWORD);
        Server::start_in(dir, extra)
    }

    fn start_in(dir: tempfile::TempDir, extra: &[&str]) -> Server {
        let port = free_port();
        let mut args = vec![
            "webdav".to_owned(),
            "--root".to_owned(),
            dir.path().join("root").display().to_string(),
            "--listen".to_owned(),
            format!("127.0.0.1:{port}"),
            "--realm".to_owned(),
            REALM.to_owned(),
            "--htdigest".to_owned(),
            dir.path().join("htdigest").display().to_string(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_bosun"))
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let end = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                panic!("bosun {args:?} exited with {status}: {err}");
            }
            assert!(
                Instant::now() < end,
                "bosun webdav did not start listening on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Server {
            child,
            port,
            dir,
            args,
        }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn client(&self) -> Client {
        Client {
            port: self.port,
            user: USER.into(),
            password: PASSWORD.into(),
            realm: REALM.into(),
            nonce: None,
            nc: 0,
        }
    }

    /// Stop and start again on the same directory (and a new port).
    fn restart(mut self) -> Server {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let extra: Vec<String> = self.args[9..].to_vec();
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        Server::start_in(dir, &extra)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Send raw bytes and read one response (the connection is closed by `Connection: close`).
fn exchange(port: u16, raw: &[u8], head: bool) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(raw).unwrap();
    read_response(&mut BufReader::new(stream), head)
}

fn read_response(reader: &mut impl BufRead, head: bool) -> Response {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("bad status line {line:?}"))
        .parse()
        .unwrap();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').unwrap();
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let mut resp = Response {
        status,
        headers,
        body: Vec::new(),
    };
    if head || status == 304 || status == 204 || status == 100 {
        return resp;
    }
    if resp
        .header("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).unwrap();
            let n = usize::from_str_radix(size.trim(), 16).unwrap();
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            resp.body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(len) = resp.header("content-length") {
        let mut body = vec![0; len.parse().unwrap()];
        reader.read_exact(&mut body).unwrap();
        resp.body = body;
    }
    resp
}

/// A Digest client that keeps its nonce and counts.
struct Client {
    port: u16,
    user: String,
    password: String,
    realm: String,
    nonce: Option<String>,
    nc: u64,
}

fn challenge_params(resp: &Response) -> Vec<(String, String)> {
    let value = resp
        .headers_named("www-authenticate")
        .into_iter()
        .find(|v| v.starts_with("Digest "))
        .expect("a Digest challenge");
    digest::parse_params(&value["Digest ".len()..]).unwrap()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

impl Client {
    fn authorization(&mut self, method: &str, target: &str) -> String {
        self.nc += 1;
        let nonce = self.nonce.clone().unwrap_or_default();
        let cnonce = "0a4f113b";
        let ha1 = digest::ha1(&self.user, &self.realm, &self.password);
        let ha2 = digest::md5_hex(format!("{method}:{target}").as_bytes());
        let response = digest::md5_hex(
            format!("{ha1}:{nonce}:{:08x}:{cnonce}:auth:{ha2}", self.nc).as_bytes(),
        );
        format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{nonce}\", uri=\"{target}\", qop=auth, nc={:08x}, cnonce=\"{cnonce}\", response=\"{response}\", algorithm=MD5",
            self.user, self.realm, self.nc
        )
    }

    fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let mut last = None;
        for _ in 0..2 {
            let mut extra: Vec<(String, String)> = headers
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect();
            if self.nonce.is_some() {
                extra.push(("Authorization".into(), self.authorization(method, target)));
            }
            let resp = exchange(
                self.port,
                &raw_request(self.port, method, target, &extra, body),
                method == "HEAD",
            );
            if resp.status == 401 {
                let params = challenge_params(&resp);
                let fresh = param(&params, "nonce").map(str::to_owned);
                if self.nonce != fresh {
                    self.nonce = fresh;
                    self.nc = 0;
                    last = Some(resp);
                    continue;
                }
            }
            return resp;
        }
        last.expect("a response")
    }
}

fn raw_request(
    port: u16,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Vec<u8> {
    let mut raw =
        format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    let mut has_length = false;
    for (k, v) in headers {
        has_length |=
            k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("transfer-encoding");
        raw.push_str(&format!("{k}: {v}\r\n"));
    }
    if !has_length {
        raw.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    raw.push_str("\r\n");
    let mut raw = raw.into_bytes();
    raw.extend_from_slice(body);
    raw
}

fn has(tool: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        println!("SKIP: {tool} not installed (apt-get install litmus cadaver davfs2 curl)");
    }
    found
}

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
// protocol

#[test]
fn put_get_ranges_conditionals_and_atomicity() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let r = c.send("PUT", "/webdav/a.txt", &[], b"hello world");
    assert_eq!(r.status, 201);
    assert_eq!(
        std::fs::read(server.root().join("a.txt")).unwrap(),
        b"hello world"
    );
    let r = c.send("PUT", "/webdav/a.txt", &[], b"0123456789");
    assert_eq!(r.status, 204);
    let etag = r.header("etag").unwrap().to_owned();

    let r = c.send("GET", "/webdav/a.txt", &[("Range", "bytes=2-4")], b"");
    assert_eq!((r.status, r.body.as_slice()), (206, &b"234"[..]));
    assert_eq!(r.header("content-range"), Some("bytes 2-4/10"));
    let r = c.send("GET", "/webdav/a.txt", &[("Range", "bytes=20-")], b"");
    assert_eq!(r.status, 416);
    let r = c.send("GET", "/webdav/a.txt", &[("If-None-Match", &etag)], b"");
    assert_eq!(r.status, 304);
    let r = c.send("PUT", "/webdav/a.txt", &[("If-Match", "\"nope\"")], b"x");
    assert_eq!(r.status, 412);
    let r = c.send("PUT", "/webdav/a.txt", &[("If-None-Match", "*")], b"x");
    assert_eq!(r.status, 412);
    let lm = c
        .send("HEAD", "/webdav/a.txt", &[], b"")
        .header("last-modified")
        .unwrap()
        .to_owned();
    let r = c.send("GET", "/webdav/a.txt", &[("If-Modified-Since", &lm)], b"");
    assert_eq!(r.status, 304);
    assert_eq!(
        std::fs::read(server.root().join("a.txt")).unwrap(),
        b"0123456789"
    );

    // Partial update through Content-Range.
    let r = c.send(
        "PUT",
        "/webdav/a.txt",
        &[("Content-Range", "bytes 3-5/*")],
        b"abc",
    );
    assert_eq!(r.status, 204);
    assert_eq!(
        std::fs::read(server.root().join("a.txt")).unwrap(),
        b"012abc6789"
    );

    // Chunked upload.
    let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    let r = c.send(
        "PUT",
        "/webdav/chunked.txt",
        &[("Transfer-Encoding", "chunked")],
        body,
    );
    assert_eq!(r.status, 201);
    assert_eq!(
        std::fs::read(server.root().join("chunked.txt")).unwrap(),
        b"hello world"
    );

    // An aborted upload leaves the old file intact and no temporary file behind.
    let auth = c.authorization("PUT", "/webdav/a.txt");
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    write!(s, "PUT /webdav/a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\nContent-Length: 100000\r\n\r\npartial").unwrap();
    s.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    drop(s);
    let root = server.root();
    wait_until(
        "the aborted upload's temporary file to go",
        Duration::from_secs(5),
        || {
            std::fs::read_dir(&root).unwrap().all(|e| {
                !e.unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".bosun-")
            })
        },
    );
    assert_eq!(
        std::fs::read(server.root().join("a.txt")).unwrap(),
        b"012abc6789"
    );

    // PUT into a missing collection, MKCOL rules.
    assert_eq!(c.send("PUT", "/webdav/missing/x", &[], b"x").status, 409);
    assert_eq!(c.send("MKCOL", "/webdav/d", &[], b"").status, 201);
    assert_eq!(c.send("MKCOL", "/webdav/d", &[], b"").status, 405);
    assert_eq!(c.send("MKCOL", "/webdav/x/y", &[], b"").status, 409);
    assert_eq!(c.send("MKCOL", "/webdav/e", &[], b"<x/>").status, 415);
    assert!(server.root().join("d").is_dir());
    assert_eq!(c.send("DELETE", "/webdav/d", &[], b"").status, 204);
    assert!(!server.root().join("d").exists());
    assert_eq!(c.send("DELETE", "/webdav/d", &[], b"").status, 404);
}

#[test]
fn copy_move_and_destination_checks() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.send("MKCOL", "/webdav/src", &[], b"").status, 201);
    assert_eq!(c.send("PUT", "/webdav/src/f", &[], b"data").status, 201);
    let dest = server.url("/webdav/copy");
    assert_eq!(
        c.send("COPY", "/webdav/src", &[("Destination", &dest)], b"")
            .status,
        201
    );
    assert_eq!(
        std::fs::read(server.root().join("copy/f")).unwrap(),
        b"data"
    );
    assert_eq!(
        c.send(
            "COPY",
            "/webdav/src",
            &[("Destination", &dest), ("Overwrite", "F")],
            b""
        )
        .status,
        412
    );
    let shallow = server.url("/webdav/shallow");
    assert_eq!(
        c.send(
            "COPY",
            "/webdav/src",
            &[("Destination", &shallow), ("Depth", "0")],
            b""
        )
        .status,
        201
    );
    assert!(server.root().join("shallow").is_dir() && !server.root().join("shallow/f").exists());
    let moved = server.url("/webdav/moved");
    assert_eq!(
        c.send("MOVE", "/webdav/copy", &[("Destination", &moved)], b"")
            .status,
        201
    );
    assert!(!server.root().join("copy").exists());
    assert_eq!(
        std::fs::read(server.root().join("moved/f")).unwrap(),
        b"data"
    );
    assert_eq!(
        c.send(
            "MOVE",
            "/webdav/moved",
            &[("Destination", &server.url("/webdav/src"))],
            b""
        )
        .status,
        204
    );
    assert!(!server.root().join("moved").exists());

    // Another host, another prefix, traversal in every encoding: refused, nothing written.
    let before = list_tree(&server.root());
    let outside = server.dir.path().join("escaped");
    for (destination, want) in [
        ("http://evil.example/webdav/x".to_owned(), 502),
        (server.url("/other/x"), 502),
        (server.url("/webdav/../escaped"), 400),
        (server.url("/webdav/%2e%2e/escaped"), 400),
        (server.url("/webdav/a%2f..%2f..%2fescaped"), 400),
        (server.url("/webdav/..%5c..%5cescaped"), 400),
        (server.url("/webdav/x%00"), 400),
        (server.url("/webdav/%c0%ae%c0%ae/escaped"), 400),
    ] {
        let r = c.send(
            "COPY",
            "/webdav/src/f",
            &[("Destination", &destination)],
            b"",
        );
        assert_eq!(r.status, want, "COPY to {destination}");
        let r = c.send(
            "MOVE",
            "/webdav/src/f",
            &[("Destination", &destination)],
            b"",
        );
        assert_eq!(r.status, want, "MOVE to {destination}");
    }
    assert_eq!(list_tree(&server.root()), before);
    assert!(!outside.exists());
}

fn list_tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        out.push(name.clone());
        if entry.file_type().unwrap().is_dir() {
            out.extend(
                list_tree(&entry.path())
                    .into_iter()
                    .map(|n| format!("{name}/{n}")),
            );
        }
    }
    out.sort();
    out
}

#[test]
fn propfind_proppatch_and_persistence() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.send("PUT", "/webdav/doc.txt", &[], b"12345").status, 201);
    let patch = br#"<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop><Z:Win32CreationTime>Mon, 23 Nov 2026 10:00:00 GMT</Z:Win32CreationTime><x:color xmlns:x="urn:example">blue &amp; green</x:color></D:prop></D:set></D:propertyupdate>"#;
    let r = c.send("PROPPATCH", "/webdav/doc.txt", &[], patch);
    assert_eq!(r.status, 207, "{}", r.text());
    assert!(r.text().contains("200 OK"));
    let protected = br#"<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:getetag>x</D:getetag><x:a xmlns:x="urn:example">1</x:a></D:prop></D:set></D:propertyupdate>"#;
    let r = c.send("PROPPATCH", "/webdav/doc.txt", &[], protected);
    assert!(
        r.text().contains("403 Forbidden") && r.text().contains("424 Failed Dependency"),
        "{}",
        r.text()
    );

    let server = server.restart();
    let mut c = server.client();
    let r = c.send("PROPFIND", "/webdav/", &[("Depth", "1")], b"");
    assert_eq!(r.status, 207);
    let text = r.text();
    for needle in [
        "<D:href>/webdav/doc.txt</D:href>",
        "blue &amp; green",
        "Win32CreationTime",
        "<D:getcontentlength>5</D:getcontentlength>",
        "<D:collection/>",
        "<D:getetag>",
        "<D:supportedlock>",
    ] {
        assert!(text.contains(needle), "{needle} missing from {text}");
    }
    // creationdate without fractional seconds: 2026-11-23T10:00:00Z
    let created = text
        .split("<D:creationdate>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    assert_eq!(created.len(), 20, "{created}");
    assert!(created.ends_with('Z') && !created.contains('.'));
    let quota = br#"<D:propfind xmlns:D="DAV:"><D:prop><D:quota-available-bytes/><D:quota-used-bytes/><D:nothing/></D:prop></D:propfind>"#;
    let r = c.send("PROPFIND", "/webdav/", &[("Depth", "0")], quota);
    assert!(
        r.text().contains("<D:quota-available-bytes>") && r.text().contains("404 Not Found"),
        "{}",
        r.text()
    );

    // Depth: infinity (or none) is refused.
    for depth in [Some("infinity"), None] {
        let headers: Vec<(&str, &str)> = depth.map(|d| ("Depth", d)).into_iter().collect();
        let r = c.send("PROPFIND", "/webdav/", &headers, b"");
        assert_eq!(r.status, 403);
        assert!(r.text().contains("propfind-finite-depth"));
    }
}

#[test]
fn locks_are_enforced() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.send("PUT", "/webdav/l.txt", &[], b"v1").status, 201);
    let info = br#"<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>me</D:owner></D:lockinfo>"#;
    let r = c.send("LOCK", "/webdav/l.txt", &[("Timeout", "Second-60")], info);
    assert_eq!(r.status, 200, "{}", r.text());
    let token = r.header("lock-token").unwrap().to_owned();
    let r = c.send("PUT", "/webdav/l.txt", &[], b"v2");
    assert_eq!(r.status, 423);
    assert!(r.text().contains("lock-token-submitted"));
    assert_eq!(c.send("DELETE", "/webdav/l.txt", &[], b"").status, 423);
    assert_eq!(
        c.send(
            "PUT",
            "/webdav/l.txt",
            &[("If", "(<opaquelocktoken:bogus>)")],
            b"v2"
        )
        .status,
        412
    );
    assert_eq!(std::fs::read(server.root().join("l.txt")).unwrap(), b"v1");
    let with = format!("({token})");
    assert_eq!(
        c.send("PUT", "/webdav/l.txt", &[("If", &with)], b"v2")
            .status,
        204
    );
    assert_eq!(std::fs::read(server.root().join("l.txt")).unwrap(), b"v2");
    assert_eq!(c.send("LOCK", "/webdav/l.txt", &[], info).status, 423);
    assert_eq!(
        c.send("UNLOCK", "/webdav/l.txt", &[("Lock-Token", &token)], b"")
            .status,
        204
    );
    assert_eq!(c.send("PUT", "/webdav/l.txt", &[], b"v3").status, 204);
    // Locking an unmapped URL creates an empty resource.
    let r = c.send("LOCK", "/webdav/new.txt", &[], info);
    assert_eq!(r.status, 201);
    assert_eq!(std::fs::read(server.root().join("new.txt")).unwrap(), b"");
}

#[test]
fn read_only_refuses_changes() {
    let server = Server::start(&["--read-only"]);
    std::fs::write(server.root().join("r.txt"), "keep").unwrap();
    let mut c = server.client();
    assert_eq!(c.send("GET", "/webdav/r.txt", &[], b"").status, 200);
    for method in ["PUT", "DELETE", "MKCOL", "PROPPATCH", "LOCK"] {
        assert_eq!(
            c.send(method, "/webdav/r.txt", &[], b"").status,
            403,
            "{method}"
        );
    }
    assert_eq!(std::fs::read(server.root().join("r.txt")).unwrap(), b"keep");
}

// ---------------------------------------------------------------------------------------------
// security

#[test]
fn traversal_in_every_encoding_is_refused() {
    let server = Server::start(&[]);
    std::fs::write(server.dir.path().join("secret"), "top secret").unwrap();
    let mut c = server.client();
    for (target, want) in [
        ("/webdav/../secret", 400),
        ("/webdav/%2e%2e/secret", 400),
        ("/webdav/%2E%2E/secret", 400),
        ("/webdav/..%2fsecret", 400),
        ("/webdav/%2e%2e%2fsecret", 400),
        ("/webdav/..%5csecret", 400),
        ("/webdav/%00", 400),
        ("/webdav/secret%00.txt", 400),
        ("/webdav/%c0%ae%c0%ae/secret", 400),
        ("/webdav/%e0%80%ae%e0%80%ae/secret", 400),
        // Decoded once: a literal, harmless name whose parent does not exist.
        ("/webdav/%252e%252e/secret", 404),
        ("/webdav/.bosun-davprops", 404),
    ] {
        for method in ["GET", "PUT", "DELETE", "PROPFIND"] {
            let body: &[u8] = if method == "PUT" { b"overwritten" } else { b"" };
            let r = c.send(method, target, &[("Depth", "0")], body);
            let want = if method == "PUT" && target.contains("%252e") {
                409
            } else {
                want
            };
            assert_eq!(r.status, want, "{method} {target}");
            assert!(!r.text().contains("top secret"));
        }
    }
    assert_eq!(
        std::fs::read(server.dir.path().join("secret")).unwrap(),
        b"top secret"
    );
}

#[test]
fn symlinks_leaving_the_root_are_refused() {
    let server = Server::start(&[]);
    let root = server.root();
    std::os::unix::fs::symlink("/etc", root.join("etc")).unwrap();
    std::os::unix::fs::symlink("../../", root.join("up")).unwrap();
    std::fs::create_dir(root.join("inside")).unwrap();
    std::fs::write(root.join("inside/f"), "inner").unwrap();
    std::os::unix::fs::symlink("inside", root.join("alias")).unwrap();
    let mut c = server.client();
    assert_eq!(c.send("GET", "/webdav/etc/passwd", &[], b"").status, 403);
    assert_eq!(c.send("GET", "/webdav/etc/hostname", &[], b"").status, 403);
    assert_eq!(c.send("GET", "/webdav/up/", &[], b"").status, 403);
    assert_eq!(
        c.send("PUT", "/webdav/etc/bosun-webdav-test", &[], b"x")
            .status,
        403
    );
    assert!(!Path::new("/etc/bosun-webdav-test").exists());
    assert_eq!(c.send("PUT", "/webdav/etc", &[], b"x").status, 403);
    assert_eq!(
        c.send("PROPFIND", "/webdav/etc/", &[("Depth", "1")], b"")
            .status,
        403
    );
    assert_eq!(
        c.send(
            "COPY",
            "/webdav/inside/f",
            &[("Destination", &server.url("/webdav/etc/f"))],
            b""
        )
        .status,
        403
    );
    assert_eq!(c.send("MKCOL", "/webdav/etc/newdir", &[], b"").status, 403);
    assert!(
        std::fs::symlink_metadata(root.join("etc"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let listing = c
        .send("PROPFIND", "/webdav/", &[("Depth", "1")], b"")
        .text();
    assert!(
        !listing.contains("/webdav/etc") && !listing.contains("/webdav/up"),
        "{listing}"
    );
    assert!(listing.contains("/webdav/alias/"));
    // Links that stay inside are followed, for reads and writes.
    let r = c.send("GET", "/webdav/alias/f", &[], b"");
    assert_eq!((r.status, r.body.as_slice()), (200, &b"inner"[..]));
    assert_eq!(
        c.send("PUT", "/webdav/alias/f", &[], b"changed").status,
        204
    );
    assert_eq!(std::fs::read(root.join("inside/f")).unwrap(), b"changed");
}

#[test]
fn every_method_needs_authentication() {
    let server = Server::start(&[]);
    std::fs::write(server.root().join("f"), "x").unwrap();
    for method in [
        "GET",
        "HEAD",
        "PUT",
        "DELETE",
        "MKCOL",
        "COPY",
        "MOVE",
        "PROPFIND",
        "PROPPATCH",
        "LOCK",
        "UNLOCK",
        "OPTIONS",
        "POST",
    ] {
        for target in ["/webdav/f", "/webdav/", "/webdav/missing"] {
            let r = exchange(
                server.port,
                &raw_request(
                    server.port,
                    method,
                    target,
                    &[("Destination".into(), server.url("/webdav/g"))],
                    b"",
                ),
                method == "HEAD",
            );
            assert_eq!(r.status, 401, "{method} {target}");
            let params = challenge_params(&r);
            assert_eq!(param(&params, "realm"), Some(REALM));
            assert_eq!(param(&params, "qop"), Some("auth"));
        }
    }
    assert_eq!(std::fs::read(server.root().join("f")).unwrap(), b"x");
    assert!(!server.root().join("g").exists());
    // The server root's OPTIONS is answered without authentication (Windows).
    let r = exchange(
        server.port,
        &raw_request(server.port, "OPTIONS", "/", &[], b""),
        false,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("dav"), Some("1, 2"));
    assert_eq!(r.header("ms-author-via"), Some("DAV"));
    // Basic is refused unless allowed.
    let basic = format!("Basic {}", base64(&format!("{USER}:{PASSWORD}")));
    let r = exchange(
        server.port,
        &raw_request(
            server.port,
            "GET",
            "/webdav/f",
            &[("Authorization".into(), basic)],
            b"",
        ),
        false,
    );
    assert_eq!(r.status, 401);
}

fn base64(text: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn basic_only_when_allowed() {
    let server = Server::start(&["--allow-basic"]);
    std::fs::write(server.root().join("f"), "x").unwrap();
    let good = format!("Basic {}", base64(&format!("{USER}:{PASSWORD}")));
    let bad = format!("Basic {}", base64(&format!("{USER}:wrong")));
    let r = exchange(
        server.port,
        &raw_request(
            server.port,
            "GET",
            "/webdav/f",
            &[("Authorization".into(), good)],
            b"",
        ),
        false,
    );
    assert_eq!((r.status, r.body.as_slice()), (200, &b"x"[..]));
    let r = exchange(
        server.port,
        &raw_request(
            server.port,
            "GET",
            "/webdav/f",
            &[("Authorization".into(), bad)],
            b"",
        ),
        false,
    );
    assert_eq!(r.status, 401);
    assert!(
        r.headers_named("www-authenticate")
            .iter()
            .any(|v| v.starts_with("Basic "))
    );
}

#[test]
fn replayed_and_forged_digests_are_refused() {
    let server = Server::start(&[]);
    std::fs::write(server.root().join("f"), "x").unwrap();
    let mut c = server.client();
    assert_eq!(c.send("GET", "/webdav/f", &[], b"").status, 200);
    let header = c.authorization("GET", "/webdav/f");
    let send = |h: &str, target: &str| {
        exchange(
            server.port,
            &raw_request(
                server.port,
                "GET",
                target,
                &[("Authorization".into(), h.to_owned())],
                b"",
            ),
            false,
        )
        .status
    };
    assert_eq!(send(&header, "/webdav/f"), 200);
    assert_eq!(
        send(&header, "/webdav/f"),
        401,
        "a replayed nonce count must be refused"
    );
    // Parallel requests may arrive out of order: an older, unused count is accepted once.
    let h3 = c.authorization("GET", "/webdav/f");
    let h4 = c.authorization("GET", "/webdav/f");
    assert_eq!(send(&h4, "/webdav/f"), 200);
    assert_eq!(send(&h3, "/webdav/f"), 200);
    assert_eq!(send(&h3, "/webdav/f"), 401);
    // The uri parameter must name the request target.
    let other = c.authorization("GET", "/webdav/f");
    assert_eq!(send(&other, "/webdav/"), 401);
    // A forged nonce and a wrong password.
    let forged = c.authorization("GET", "/webdav/f").replace(
        c.nonce.as_deref().unwrap(),
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0011223344556677",
    );
    assert_eq!(send(&forged, "/webdav/f"), 401);
    let mut wrong = server.client();
    wrong.password = "nope".into();
    assert_eq!(wrong.send("GET", "/webdav/f", &[], b"").status, 401);
    // Right password, wrong realm.
    let mut realm = server.client();
    realm.realm = "another realm".into();
    assert_eq!(realm.send("GET", "/webdav/f", &[], b"").status, 401);
    // Malformed headers are a client error, not a crash.
    assert_eq!(send("Digest username=\"a", "/webdav/f"), 400);
}

#[test]
fn expired_nonces_are_stale() {
    let server = Server::start(&["--nonce-lifetime", "1s"]);
    std::fs::write(server.root().join("f"), "x").unwrap();
    let mut c = server.client();
    assert_eq!(c.send("GET", "/webdav/f", &[], b"").status, 200);
    std::thread::sleep(Duration::from_millis(2500));
    let header = c.authorization("GET", "/webdav/f");
    let r = exchange(
        server.port,
        &raw_request(
            server.port,
            "GET",
            "/webdav/f",
            &[("Authorization".into(), header)],
            b"",
        ),
        false,
    );
    assert_eq!(r.status, 401);
    assert_eq!(param(&challenge_params(&r), "stale"), Some("true"));
    // A wrong password with an expired nonce is not stale: it is wrong.
    let mut wrong = server.client();
    wrong.nonce = c.nonce.clone();
    wrong.password = "nope".into();
    let header = wrong.authorization("GET", "/webdav/f");
    let r = exchange(
        server.port,
        &raw_request(
            server.port,
            "GET",
            "/webdav/f",
            &[("Authorization".into(), header)],
            b"",
        ),
        false,
    );
    assert_eq!(r.status, 401);
    assert_eq!(param(&challenge_params(&r), "stale"), None);
}

#[test]
fn rotated_htdigest_is_picked_up() {
    let server = Server::start(&[]);
    std::fs::write(server.root().join("f"), "x").unwrap();
    let mut c = server.client();
    assert_eq!(c.send("GET", "/webdav/f", &[], b"").status, 200);
    // Kubernetes swaps the secret by renaming a new file into place.
    let new = server.dir.path().join("htdigest.new");
    write_htdigest(&new, REALM, USER, "rotated");
    std::fs::rename(&new, server.dir.path().join("htdigest")).unwrap();
    assert_eq!(c.send("GET", "/webdav/f", &[], b"").status, 401);
    c.password = "rotated".into();
    assert_eq!(c.send("GET", "/webdav/f", &[], b"").status, 200);
}

#[test]
fn hostile_xml_bodies_are_refused() {
    let server = Server::start(&["--max-xml-body", "65536"]);
    let mut c = server.client();
    let laughs = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>
<D:propfind xmlns:D="DAV:"><D:prop><x xmlns="urn:x">&lol2;</x></D:prop></D:propfind>"#;
    let xxe = br#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x xmlns="urn:x">&xxe;</x></D:prop></D:set></D:propertyupdate>"#;
    let bare_entity = br#"<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x xmlns="urn:x">&xxe;</x></D:prop></D:set></D:propertyupdate>"#;
    assert_eq!(
        c.send("PROPFIND", "/webdav/", &[("Depth", "0")], laughs)
            .status,
        400
    );
    for body in [&xxe[..], &bare_entity[..]] {
        let r = c.send("PROPPATCH", "/webdav/", &[], body);
        assert_eq!(r.status, 400);
        assert!(!r.text().contains("root:"));
    }
    assert_eq!(c.send("LOCK", "/webdav/x", &[], laughs).status, 400);
    let mut big = b"<D:propfind xmlns:D=\"DAV:\"><D:prop>".to_vec();
    big.resize(100_000, b' ');
    big.extend_from_slice(b"</D:prop></D:propfind>");
    assert_eq!(
        c.send("PROPFIND", "/webdav/", &[("Depth", "0")], &big)
            .status,
        413
    );
    // No header lifts a limit.
    assert_eq!(
        c.send(
            "PROPFIND",
            "/webdav/",
            &[("Depth", "0"), ("X-Litmus", "props: 1")],
            &big
        )
        .status,
        413
    );
    assert_eq!(
        c.send(
            "PROPFIND",
            "/webdav/",
            &[("Depth", "infinity"), ("X-Litmus", "props: 1")],
            b""
        )
        .status,
        403
    );
}

#[test]
fn start_errors_are_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("root")).unwrap();
    write_htdigest(&dir.path().join("htdigest"), REALM, USER, PASSWORD);
    let root = dir.path().join("root").display().to_string();
    let htdigest = dir.path().join("htdigest").display().to_string();
    let missing = dir.path().join("missing").display().to_string();
    for (args, needle, code) in [
        (
            vec![
                "--root",
                &root,
                "--realm",
                REALM,
                "--htdigest",
                &missing,
                "--listen",
                "127.0.0.1:0",
            ],
            "htdigest",
            1,
        ),
        (
            vec![
                "--root",
                &missing,
                "--realm",
                REALM,
                "--htdigest",
                &htdigest,
                "--listen",
                "127.0.0.1:0",
            ],
            "cannot serve",
            1,
        ),
        (
            vec![
                "--root",
                &root,
                "--realm",
                REALM,
                "--htdigest",
                &htdigest,
                "--listen",
                "nowhere",
            ],
            "--listen",
            2,
        ),
        (
            vec![
                "--root",
                &root,
                "--realm",
                "other",
                "--htdigest",
                &htdigest,
                "--listen",
                "127.0.0.1:0",
            ],
            "no user in realm",
            1,
        ),
        (
            vec![
                "--root",
                &root,
                "--realm",
                REALM,
                "--htdigest",
                &htdigest,
                "--tls-cert",
                "c.pem",
            ],
            "TLS is not built in",
            2,
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_bosun"))
            .arg("webdav")
            .args(&args)
            .env_remove("WEBDAV_AUTHENTICATION_REALM")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(
            err.lines().next().unwrap_or("").contains(needle),
            "{args:?}: {err}"
        );
    }
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
    if !has("mount.davfs") {
        return;
    }
    if !Path::new("/dev/fuse").exists() || !nix_is_root() {
        println!("SKIP: davfs2 mount needs /dev/fuse and root");
        return;
    }
    let server = Server::start(&[]);
    std::fs::write(server.root().join("app.py"), "VERSION = 1\n").unwrap();
    let work = tempfile::tempdir().unwrap();
    let mnt = work.path().join("mnt");
    let cache = work.path().join("cache");
    std::fs::create_dir_all(&mnt).unwrap();
    std::fs::create_dir_all(&cache).unwrap();
    // mount.davfs drops to its own user for the cache.
    for dir in [work.path(), cache.as_path()] {
        std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    }
    let secrets = work.path().join("secrets");
    let url = server.url("/webdav/");
    std::fs::write(&secrets, format!("{url} {USER} \"{PASSWORD}\"\n")).unwrap();
    std::fs::set_permissions(
        &secrets,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let conf = work.path().join("davfs2.conf");
    std::fs::write(&conf, format!("secrets {}\ncache_dir {}\nuse_locks 1\ndelay_upload 0\nfile_refresh 1\ndir_refresh 1\n", secrets.display(), cache.display())).unwrap();
    let mount = Command::new("mount")
        .args([
            "-t",
            "davfs",
            "-o",
            &format!("conf={}", conf.display()),
            &url,
        ])
        .arg(&mnt)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    if !mount.status.success() {
        println!(
            "SKIP: davfs2 mount failed here: {}",
            String::from_utf8_lossy(&mount.stderr).trim()
        );
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Unmount(mnt.clone());
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
    drop(_guard);
    assert!(
        watcher.join().unwrap(),
        "the new content never reached the server"
    );
    assert_eq!(
        std::fs::read_to_string(server.root().join("app.py")).unwrap(),
        new_content
    );
}

fn nix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Dead properties where the filesystem has no user xattrs (ramfs): the hidden per-directory
/// store takes over, survives a restart, follows MOVE and COPY, and is never listed or served.
#[test]
fn dead_properties_without_xattrs() {
    if !nix_is_root() {
        println!("SKIP: mounting a ramfs (no user xattrs) needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    write_htdigest(&dir.path().join("htdigest"), REALM, USER, PASSWORD);
    let mounted = Command::new("mount")
        .args(["-t", "ramfs", "none"])
        .arg(&root)
        .output()
        .unwrap();
    if !mounted.status.success() {
        println!(
            "SKIP: cannot mount a ramfs here: {}",
            String::from_utf8_lossy(&mounted.stderr).trim()
        );
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(root.clone());
    let server = Server::start_in(dir, &[]);
    let mut c = server.client();
    assert_eq!(c.send("MKCOL", "/webdav/d", &[], b"").status, 201);
    assert_eq!(c.send("PUT", "/webdav/d/f", &[], b"x").status, 201);
    let patch = br#"<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:tag xmlns:x="urn:x">kept</x:tag></D:prop></D:set></D:propertyupdate>"#;
    for target in ["/webdav/d/f", "/webdav/d", "/webdav/"] {
        let r = c.send("PROPPATCH", target, &[], patch);
        assert!(
            r.status == 207 && r.text().contains("200 OK"),
            "{target}: {}",
            r.text()
        );
    }
    assert!(
        server.root().join(".bosun-davprops").exists(),
        "the fallback store was not used"
    );
    let server = server.restart();
    let mut c = server.client();
    let find =
        br#"<D:propfind xmlns:D="DAV:"><D:prop><x:tag xmlns:x="urn:x"/></D:prop></D:propfind>"#;
    for target in ["/webdav/d/f", "/webdav/d/", "/webdav/"] {
        let r = c.send("PROPFIND", target, &[("Depth", "0")], find);
        assert!(r.text().contains(">kept</"), "{target}: {}", r.text());
    }
    assert_eq!(
        c.send(
            "MOVE",
            "/webdav/d/f",
            &[("Destination", &server.url("/webdav/d/g"))],
            b""
        )
        .status,
        201
    );
    assert_eq!(
        c.send(
            "COPY",
            "/webdav/d",
            &[("Destination", &server.url("/webdav/e"))],
            b""
        )
        .status,
        201
    );
    for target in ["/webdav/d/g", "/webdav/e/g", "/webdav/e/"] {
        let r = c.send("PROPFIND", target, &[("Depth", "0")], find);
        assert!(r.text().contains(">kept</"), "{target}: {}", r.text());
    }
    let r = c.send("PROPFIND", "/webdav/d/f", &[("Depth", "0")], find);
    assert_eq!(r.status, 404);
    let listing = c
        .send("PROPFIND", "/webdav/", &[("Depth", "1")], b"")
        .text();
    assert!(!listing.contains(".bosun"), "{listing}");
    assert_eq!(
        c.send("GET", "/webdav/.bosun-davprops", &[], b"").status,
        404
    );
    assert_eq!(
        c.send("PUT", "/webdav/d/.bosun-davprops", &[], b"").status,
        404
    );
    if has("litmus") {
        let work = tempfile::tempdir().unwrap();
        let out = Command::new("timeout")
            .args(["300", "litmus", &server.url("/webdav/"), USER, PASSWORD])
            .env("TESTS", "props")
            .current_dir(work.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("of 30 tests run: 30 passed, 0 failed"),
            "{text}"
        );
    }
    drop(server);
}
