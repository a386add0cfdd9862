//! No client can hold the server: a stalled request body ends in 408 (temporary file removed,
//! old file intact, connection closed), connections are capped overall (503) and per client
//! address (429), locks and lock owners are capped (503, 413). Each with a negative control.

use std::io::{BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use nix::sys::socket::{AddressFamily, SockFlag, SockType, SockaddrIn, bind, connect, socket};

use super::harness::*;

fn temporaries(server: &Server) -> Vec<String> {
    list_tree(&server.root())
        .into_iter()
        .filter(|n| n.contains(".bosun-"))
        .collect()
}

/// An authenticated request head for `method` on `target` with `Content-Length: len`.
fn head(c: &mut Client, method: &str, target: &str, len: usize) -> Vec<u8> {
    let auth = c.authorization(method, target);
    format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\nContent-Length: {len}\r\n\r\n"
    )
    .into_bytes()
}

#[test]
fn a_stalled_body_gets_408_and_leaves_nothing() {
    let server = Server::start(&["--body-timeout", "1s"]);
    std::fs::write(server.root().join("old"), "old content").unwrap();
    let mut c = server.client();
    assert_eq!(c.send("GET", "/webdav/old", &[], b"").status, 200);
    for (method, target) in [
        ("PUT", "/webdav/old"),
        ("PUT", "/webdav/new"),
        ("PROPFIND", "/webdav/old"),
    ] {
        let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream
            .write_all(&head(&mut c, method, target, 1000))
            .unwrap();
        stream.write_all(b"<?xml vers").unwrap();
        if method == "PUT" {
            // The upload has begun: its temporary file exists while the body trickles.
            wait_until("the temporary upload file", Duration::from_secs(10), || {
                !temporaries(&server).is_empty()
            });
        }
        let mut reader = BufReader::new(stream);
        let r = read_response(&mut reader, false);
        assert_eq!(r.status, 408, "{method} {target}");
        assert_eq!(r.header("connection"), Some("close"));
        let mut rest = Vec::new();
        match reader.read_to_end(&mut rest) {
            Ok(0) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => panic!("the connection stayed open: {other:?} {rest:?}"),
        }
        assert_eq!(
            temporaries(&server),
            Vec::<String>::new(),
            "{method} {target}"
        );
    }
    assert_eq!(
        std::fs::read(server.root().join("old")).unwrap(),
        b"old content"
    );
    assert!(!server.root().join("new").exists());

    // Negative control: a body that keeps coming, however slowly, is taken.
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
        .write_all(&head(&mut c, "PUT", "/webdav/old", 10))
        .unwrap();
    for byte in b"new conten" {
        stream.write_all(&[*byte]).unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    let r = read_response(&mut BufReader::new(stream), false);
    assert_eq!(r.status, 204);
    assert_eq!(
        std::fs::read(server.root().join("old")).unwrap(),
        b"new conten"
    );
}

/// A TCP connection to `port` from the loopback address `from`.
fn connect_from(from: Ipv4Addr, port: u16) -> TcpStream {
    let fd: OwnedFd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .unwrap();
    bind(
        fd.as_raw_fd(),
        &SockaddrIn::from(SocketAddrV4::new(from, 0)),
    )
    .unwrap();
    connect(
        fd.as_raw_fd(),
        &SockaddrIn::from(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)),
    )
    .unwrap();
    let stream = TcpStream::from(fd);
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
}

/// Send an unauthenticated OPTIONS on a kept-alive connection; the status answered.
fn knock(stream: &mut TcpStream) -> u16 {
    let sent = stream.write_all(b"OPTIONS /webdav/ HTTP/1.1\r\nHost: x\r\n\r\n");
    if sent.is_err() {
        return 0;
    }
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    read_response(&mut reader, false).status
}

#[test]
fn connections_are_capped_overall_and_per_client() {
    let server = Server::start(&["--max-connections", "3", "--max-connections-per-ip", "2"]);
    let a = Ipv4Addr::new(127, 0, 0, 1);
    let b = Ipv4Addr::new(127, 0, 0, 2);
    // Two connections held from a. The harness's readiness probe may still hold a slot of a
    // for a moment after Server::start: retry until each is let in.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut kept = None;
        wait_until("a connection slot", Duration::from_secs(10), || {
            let mut s = connect_from(a, server.port);
            let let_in = knock(&mut s) == 401;
            if let_in {
                kept = Some(s);
            }
            let_in
        });
        held.push(kept.unwrap());
    }
    assert_eq!(knock(&mut connect_from(a, server.port)), 429);
    let mut b1 = connect_from(b, server.port);
    assert_eq!(knock(&mut b1), 401, "another address still gets in");
    let r = {
        let mut s = connect_from(b, server.port);
        s.write_all(b"OPTIONS /webdav/ HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        read_response(&mut BufReader::new(s), false)
    };
    assert_eq!(r.status, 503);
    assert!(r.header("retry-after").is_some());
    // The held connections still work.
    assert_eq!(knock(&mut held[0]), 401);
    // Negative control: a connection closed gives its slot back.
    drop(held.remove(0));
    wait_until("a slot to free", Duration::from_secs(10), || {
        knock(&mut connect_from(a, server.port)) == 401
    });
}

#[test]
fn locks_and_lock_owners_are_capped() {
    let server = Server::start(&["--max-locks", "3", "--max-lock-owner", "64"]);
    let mut c = server.client();
    let info = |owner: &str| {
        format!(
            r#"<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>{owner}</D:owner></D:lockinfo>"#
        )
    };
    let mut tokens = Vec::new();
    for n in 0..3 {
        let r = c.send("LOCK", &format!("/webdav/f{n}"), &[], info("me").as_bytes());
        assert_eq!(r.status, 201, "{}", r.text());
        tokens.push(r.header("lock-token").unwrap().to_owned());
    }
    let r = c.send("LOCK", "/webdav/f3", &[], info("me").as_bytes());
    assert_eq!(r.status, 503);
    assert!(r.header("retry-after").is_some());
    assert!(!server.root().join("f3").exists());
    assert_eq!(
        c.send("UNLOCK", "/webdav/f0", &[("Lock-Token", &tokens[0])], b"")
            .status,
        204
    );
    // Negative control: with a slot free, the same LOCK is granted.
    assert_eq!(
        c.send("LOCK", "/webdav/f3", &[], info("me").as_bytes())
            .status,
        201
    );
    // The owner: 64 bytes of XML pass, 65 do not.
    assert_eq!(
        c.send("UNLOCK", "/webdav/f1", &[("Lock-Token", &tokens[1])], b"")
            .status,
        204
    );
    assert_eq!(
        c.send("LOCK", "/webdav/o", &[], info(&"x".repeat(65)).as_bytes())
            .status,
        413
    );
    assert_eq!(
        c.send("LOCK", "/webdav/o", &[], info(&"x".repeat(64)).as_bytes())
            .status,
        201
    );
}

#[test]
fn a_client_that_stops_reading_is_dropped() {
    let server = Server::start(&["--body-timeout", "1s", "--max-connections-per-ip", "1"]);
    // Far more than the socket buffers hold (sparse: no disk used).
    let size: u64 = 1 << 30;
    let big = std::fs::File::create(server.root().join("big")).unwrap();
    big.set_len(size).unwrap();
    let mut c = server.client();
    // One slot: an earlier connection (the harness's probe) may hold it for a moment.
    wait_until("a nonce", Duration::from_secs(10), || {
        c.send("HEAD", "/webdav/big", &[], b"").status == 200
    });
    let auth = c.authorization("GET", "/webdav/big");
    let request = format!("GET /webdav/big HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\r\n");
    // Retry until the GET is let in, and read only its head.
    let mut reader = None;
    wait_until("the GET to be let in", Duration::from_secs(10), || {
        let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut r = BufReader::new(stream);
        let ok = read_response(&mut r, true).status == 200;
        if ok {
            reader = Some(r);
        }
        ok
    });
    let mut reader = reader.unwrap();
    // Read nothing more: the server's writes stall once the socket buffers are full, and
    // after the timeout it drops the connection, which frees the client's one slot.
    wait_until(
        "the stalled connection to be dropped",
        Duration::from_secs(20),
        || knock(&mut connect_from(Ipv4Addr::LOCALHOST, server.port)) == 401,
    );
    let mut got = Vec::new();
    let _ = reader.read_to_end(&mut got);
    assert!((got.len() as u64) < size, "the whole body was sent");
}
