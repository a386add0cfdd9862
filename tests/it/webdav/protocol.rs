//! Protocol behaviour: content methods, properties (with and without xattrs), locks, read-only.

use std::io::Write;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::harness::*;

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

    // A copy into itself through a symlinked parent is refused instead of recursing until the
    // server dies; so is a move.
    std::os::unix::fs::symlink("src", server.root().join("into")).unwrap();
    let r = c.send(
        "COPY",
        "/webdav/src",
        &[("Destination", &server.url("/webdav/into/again"))],
        b"",
    );
    assert_eq!(r.status, 409);
    assert!(!server.root().join("src/again").exists());
    let r = c.send(
        "MOVE",
        "/webdav/src",
        &[("Destination", &server.url("/webdav/into/again"))],
        b"",
    );
    assert_eq!(r.status, 409);
    assert!(server.root().join("src/f").exists());
    assert_eq!(
        c.send("PROPFIND", "/webdav/", &[("Depth", "0")], b"")
            .status,
        207
    );
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

    // Depth: infinity (or none) is refused on a collection (compat.rs: files and missing).
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
    // Unmounted before its directory goes.
    let dir = server.into_dir();
    drop(_unmount);
    drop(dir);
}

/// Temporary files of uploads interrupted by a crash are swept before serving; nothing else
/// is.
#[test]
fn stale_upload_leftovers_are_swept_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
    write_htdigest(&dir.path().join("htdigest"), REALM, USER, PASSWORD);
    for leftover in [
        ".bosun-put-0011223344556677",
        "sub/deeper/.bosun-put-8899aabbccddeeff",
        "sub/.bosun-davprops.tmp",
    ] {
        std::fs::write(root.join(leftover), "half an upload").unwrap();
        let old = std::time::SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(root.join(leftover))
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    std::fs::write(root.join("sub/keep.txt"), "user data").unwrap();
    std::fs::write(root.join("sub/.bosun-davprops"), "").unwrap();
    let server = Server::start_in(dir, &[]);
    let root = server.root();
    // Swept before the server accepts its first connection.
    for leftover in [
        ".bosun-put-0011223344556677",
        "sub/deeper/.bosun-put-8899aabbccddeeff",
        "sub/.bosun-davprops.tmp",
    ] {
        assert!(!root.join(leftover).exists(), "{leftover} was left");
    }
    assert_eq!(
        std::fs::read_to_string(root.join("sub/keep.txt")).unwrap(),
        "user data"
    );
    assert!(root.join("sub/.bosun-davprops").exists());
}

/// File bodies go out with sendfile(2) behind hyper's back (src/webdav/sendfile.rs): every
/// byte must still be the file's, in order, across the placeholder's 4 MiB boundary, for
/// ranges, and for several responses queued on one kept-alive connection.
#[test]
fn file_bodies_sent_with_sendfile_are_exact() {
    let server = Server::start(&[]);
    let size = (10 << 20) + 123;
    let data: Vec<u8> = (0..size)
        .map(|i: usize| (i.wrapping_mul(2_654_435_761) >> 13).to_le_bytes()[0])
        .collect();
    std::fs::write(server.root().join("big.bin"), &data).unwrap();
    std::fs::write(server.root().join("small.txt"), "small").unwrap();
    let mut c = server.client();
    assert_eq!(c.send("GET", "/webdav/small.txt", &[], b"").status, 200);
    let asks: [(&str, &str, Option<&str>); 6] = [
        ("GET", "/webdav/big.bin", None),
        ("GET", "/webdav/big.bin", Some("bytes=5-9")),
        ("GET", "/webdav/big.bin", Some("bytes=4194300-4194310")),
        ("HEAD", "/webdav/big.bin", None),
        ("GET", "/webdav/small.txt", None),
        ("GET", "/webdav/big.bin", Some("bytes=-100")),
    ];
    let mut raw = Vec::new();
    for (method, target, range) in asks {
        let auth = c.authorization(method, target);
        raw.extend_from_slice(
            format!(
                "{method} {target} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n{}\r\n",
                range.map(|r| format!("Range: {r}\r\n")).unwrap_or_default()
            )
            .as_bytes(),
        );
    }
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(&raw).unwrap();
    let mut reader = std::io::BufReader::new(stream);
    let mut answers = Vec::new();
    for (method, _, _) in asks {
        answers.push(read_response(&mut reader, method == "HEAD"));
    }
    assert_eq!(answers[0].status, 200);
    assert!(answers[0].body == data, "the whole file differs");
    assert_eq!(
        (answers[1].status, &answers[1].body[..]),
        (206, &data[5..10])
    );
    assert_eq!(answers[2].body, &data[4_194_300..4_194_311]);
    assert_eq!(
        answers[3].header("content-length"),
        Some(&*size.to_string())
    );
    assert_eq!(answers[4].body, b"small");
    assert_eq!(answers[5].body, &data[size - 100..]);
}

/// A file dated before 1970 (`touch -d 1960-01-01`) is listed and served with the earliest
/// date an HTTP date can show; formatting its date used to panic and drop the connection.
#[test]
fn files_dated_before_1970_are_listed_and_served() {
    let server = Server::start(&[]);
    let old = server.root().join("old.txt");
    std::fs::write(&old, "old").unwrap();
    let file = std::fs::File::options().write(true).open(&old).unwrap();
    file.set_modified(std::time::UNIX_EPOCH - Duration::from_secs(315_619_200))
        .unwrap();
    std::fs::write(server.root().join("new.txt"), "new").unwrap();
    let mut c = server.client();
    let r = c.send("GET", "/webdav/old.txt", &[], b"");
    assert_eq!((r.status, r.body.as_slice()), (200, &b"old"[..]));
    assert_eq!(
        r.header("last-modified"),
        Some("Thu, 01 Jan 1970 00:00:00 GMT")
    );
    for depth in ["0", "1"] {
        let target = if depth == "0" {
            "/webdav/old.txt"
        } else {
            "/webdav/"
        };
        let r = c.send("PROPFIND", target, &[("Depth", depth)], b"");
        assert_eq!(r.status, 207);
        assert!(
            r.text()
                .contains("<D:getlastmodified>Thu, 01 Jan 1970 00:00:00 GMT</D:getlastmodified>"),
            "{}",
            r.text()
        );
    }
    // Negative control: a file of today keeps its own date.
    let r = c.send("HEAD", "/webdav/new.txt", &[], b"");
    assert!(!r.header("last-modified").unwrap().contains("1970"));
}

/// Data segments the client socket `stream` has received, as `ss` reports them
/// (`data_segs_in` of TCP_INFO); `None` when `ss` is missing.
fn data_segments_in(stream: &TcpStream) -> Option<u64> {
    let port = stream.local_addr().unwrap().port();
    let out = Command::new("ss")
        .args(["-Htin", &format!("sport = :{port}")])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let value = text
        .split_whitespace()
        .find_map(|w| w.strip_prefix("data_segs_in:"))
        .unwrap_or_else(|| panic!("no data_segs_in in ss output {text:?}"));
    Some(value.parse().unwrap())
}

/// A small file's whole answer leaves in one TCP segment: the head is sent with MSG_MORE
/// and goes out with the sendfile'd body (src/webdav/sendfile.rs), instead of a head packet
/// and a body packet (two client wake-ups per GET).
#[test]
fn a_small_file_is_one_segment() {
    let server = Server::start(&[]);
    std::fs::write(server.root().join("small.bin"), vec![7u8; 4096]).unwrap();
    std::fs::write(server.root().join("large.bin"), vec![8u8; 1 << 20]).unwrap();
    let mut c = server.client();
    // Takes the nonce the raw requests below answer with.
    assert_eq!(c.send("GET", "/webdav/small.bin", &[], b"").status, 200);
    let stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
    let mut get = |target: &str| {
        let auth = c.authorization("GET", target);
        (&stream)
            .write_all(
                format!("GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\r\n")
                    .as_bytes(),
            )
            .unwrap();
        let r = read_response(&mut reader, false);
        assert_eq!(r.status, 200);
        r.body.len()
    };
    assert_eq!(get("/webdav/small.bin"), 4096);
    let Some(after_small) = data_segments_in(&stream) else {
        println!("SKIP: ss (iproute2) is not installed, cannot count segments");
        return;
    };
    assert_eq!(
        after_small, 1,
        "head and body of a 4 KiB file in separate segments"
    );
    // Negative control: the counter counts; 1 MiB takes more than one 64 KiB segment.
    assert_eq!(get("/webdav/large.bin"), 1 << 20);
    assert!(data_segments_in(&stream).unwrap() > 2);
}
