//! Authentication as clients and attackers meet it: RFC 7616 SHA-256 (plain, `-sess`,
//! `userhash`) offered beside MD5 only while the SHA-256 user file exists, 401 with a fresh
//! challenge (never 400) for what bosun does not support, curl choosing SHA-256 by itself,
//! and the one start-up warning that Basic is on.

use std::process::Command;

use bosun::webdav::digest::{self, Algorithm, HashKind};

use super::harness::*;

fn write_sha256(server: &Server, user: &str, password: &str) {
    let path = server.dir.path().join("htdigest.sha256");
    let line = format!(
        "{user}:{REALM}:{}\n",
        digest::ha1_with(HashKind::Sha256, user, REALM, password)
    );
    // Written beside and renamed, as a Kubernetes secret update does.
    std::fs::write(path.with_extension("tmp"), line).unwrap();
    std::fs::rename(path.with_extension("tmp"), path).unwrap();
}

fn digest_algorithms(resp: &Response) -> Vec<String> {
    resp.headers_named("www-authenticate")
        .into_iter()
        .filter_map(|v| v.strip_prefix("Digest "))
        .map(|v| {
            let params = digest::parse_params(v).unwrap();
            param(&params, "algorithm").unwrap().to_owned()
        })
        .collect()
}

fn unauthenticated(server: &Server) -> Response {
    exchange(
        server.port,
        &raw_request(server.port, "GET", "/webdav/f", &[], b""),
        false,
    )
}

#[test]
fn sha256_is_offered_beside_md5_only_while_its_file_exists() {
    let server = Server::start(&[]);
    std::fs::write(server.root().join("f"), "x").unwrap();
    // Negative control: no SHA-256 file, MD5 alone (what Finder and Windows were proven on).
    assert_eq!(digest_algorithms(&unauthenticated(&server)), ["MD5"]);
    let mut sha = server.client();
    sha.algorithm = Algorithm::SHA256;
    assert_eq!(sha.send("GET", "/webdav/f", &[], b"").status, 401);

    write_sha256(&server, USER, PASSWORD);
    let r = unauthenticated(&server);
    assert_eq!(digest_algorithms(&r), ["SHA-256", "SHA-256-sess", "MD5"]);
    let nonces: Vec<String> = r
        .headers_named("www-authenticate")
        .into_iter()
        .map(|v| {
            let params = digest::parse_params(&v["Digest ".len()..]).unwrap();
            param(&params, "nonce").unwrap().to_owned()
        })
        .collect();
    assert!(nonces.windows(2).all(|w| w[0] == w[1]), "{nonces:?}");
    for (algorithm, userhash) in [
        (Algorithm::SHA256, false),
        (Algorithm::SHA256_SESS, false),
        (Algorithm::SHA256, true),
        (Algorithm::MD5, false),
        (Algorithm::MD5_SESS, false),
        (Algorithm::MD5, true),
    ] {
        let mut c = server.client();
        c.algorithm = algorithm;
        c.userhash = userhash;
        let r = c.send("GET", "/webdav/f", &[], b"");
        assert_eq!(
            (r.status, r.body.as_slice()),
            (200, &b"x"[..]),
            "{} userhash={userhash}",
            algorithm.name()
        );
        // Wrong password with the same algorithm: refused.
        c.password = "wrong".into();
        c.nonce = None;
        assert_eq!(
            c.send("GET", "/webdav/f", &[], b"").status,
            401,
            "{}",
            algorithm.name()
        );
    }
    // The SHA-256 file's hash does not stand in for MD5's: a user only in the SHA-256 file
    // cannot log in with MD5.
    write_sha256(&server, "bob", "bobpw");
    let mut bob = server.client();
    bob.user = "bob".into();
    bob.password = "bobpw".into();
    assert_eq!(bob.send("GET", "/webdav/f", &[], b"").status, 401);
    bob.algorithm = Algorithm::SHA256;
    bob.nonce = None;
    assert_eq!(bob.send("GET", "/webdav/f", &[], b"").status, 200);
    // The file removed: back to MD5 alone.
    std::fs::remove_file(server.dir.path().join("htdigest.sha256")).unwrap();
    assert_eq!(digest_algorithms(&unauthenticated(&server)), ["MD5"]);
}

#[test]
fn unsupported_digest_options_get_a_fresh_challenge() {
    let server = Server::start(&["--allow-basic"]);
    std::fs::write(server.root().join("f"), "x").unwrap();
    let mut c = server.client();
    assert_eq!(c.send("GET", "/webdav/f", &[], b"").status, 200);
    let good = c.authorization("GET", "/webdav/f");
    let cases = [
        good.replace("qop=auth", "qop=auth-int"),
        good.replace(", qop=auth", ""),
        good.replace("algorithm=MD5", "algorithm=SHA-512-256"),
        "Digest username=\"a".to_owned(),
        "Digest ,,,=".to_owned(),
        "Basic !!!".to_owned(),
        "Basic bm9jb2xvbg==".to_owned(),
        "Negotiate abc".to_owned(),
    ];
    for header in &cases {
        let r = get_with(server.port, "/webdav/f", header);
        assert_eq!(r.status, 401, "{header}");
        let params = challenge_params(&r);
        assert!(param(&params, "nonce").is_some_and(|n| !n.is_empty()));
        assert!(
            r.headers_named("www-authenticate")
                .iter()
                .any(|v| v.starts_with("Basic "))
        );
    }
    // Negative control: the unmodified header (never used) is accepted.
    let r = get_with(server.port, "/webdav/f", &good);
    assert_eq!(r.status, 200);
}

#[test]
fn curl_chooses_sha256_when_offered() {
    if !has("curl") {
        return;
    }
    let server = Server::start(&[]);
    std::fs::write(server.root().join("f"), "hello").unwrap();
    let curl = |server: &Server| {
        Command::new("curl")
            .args(["-sS", "-v", "--digest", "-u"])
            .arg(format!("{USER}:{PASSWORD}"))
            .arg(server.url("/webdav/f"))
            .output()
            .unwrap()
    };
    let out = curl(&server);
    let trace = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.stdout, b"hello", "{trace}");
    assert!(trace.contains("algorithm=MD5"), "{trace}");
    write_sha256(&server, USER, PASSWORD);
    let out = curl(&server);
    let trace = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.stdout, b"hello", "{trace}");
    let sent: Vec<&str> = trace
        .lines()
        .filter(|l| l.starts_with("> Authorization: Digest"))
        .collect();
    assert!(
        sent.len() == 1 && sent[0].contains("algorithm=SHA-256"),
        "{trace}"
    );
}

#[test]
fn basic_is_announced_once_at_start() {
    let basic = Server::start(&["--allow-basic"]);
    std::fs::write(basic.root().join("f"), "x").unwrap();
    let r = unauthenticated(&basic);
    assert_eq!(r.status, 401);
    let err = basic.stop();
    assert_eq!(
        err.matches("Basic authentication is on").count(),
        1,
        "{err}"
    );
    assert!(err.contains("clear text"), "{err}");
    // Negative control: Digest only says nothing of the kind.
    let digest_only = Server::start(&[]);
    let _ = unauthenticated(&digest_only);
    let err = digest_only.stop();
    assert!(!err.contains("Basic"), "{err}");
}
