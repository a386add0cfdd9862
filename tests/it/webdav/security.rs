//! Security: traversal, symlinks leaving the root, authentication, replay, stale nonces,
//! credential rotation, hostile XML, start-up errors.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::harness::*;

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
    let r = get_with(server.port, "/webdav/f", &basic);
    assert_eq!(r.status, 401);
}

#[test]
fn basic_only_when_allowed() {
    let server = Server::start(&["--allow-basic"]);
    std::fs::write(server.root().join("f"), "x").unwrap();
    let good = format!("Basic {}", base64(&format!("{USER}:{PASSWORD}")));
    let bad = format!("Basic {}", base64(&format!("{USER}:wrong")));
    let r = get_with(server.port, "/webdav/f", &good);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"x"[..]));
    let r = get_with(server.port, "/webdav/f", &bad);
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
    // Malformed headers get a fresh challenge (RFC 7616 3.3), not a crash and not 400.
    assert_eq!(send("Digest username=\"a", "/webdav/f"), 401);
}

#[test]
fn expired_nonces_are_stale() {
    let server = Server::start(&["--nonce-lifetime", "1s"]);
    std::fs::write(server.root().join("f"), "x").unwrap();
    let mut c = server.client();
    assert_eq!(c.send("GET", "/webdav/f", &[], b"").status, 200);
    std::thread::sleep(Duration::from_millis(2500));
    let header = c.authorization("GET", "/webdav/f");
    let r = get_with(server.port, "/webdav/f", &header);
    assert_eq!(r.status, 401);
    assert_eq!(param(&challenge_params(&r), "stale"), Some("true"));
    // A wrong password with an expired nonce is not stale: it is wrong.
    let mut wrong = server.client();
    wrong.nonce = c.nonce.clone();
    wrong.password = "nope".into();
    let header = wrong.authorization("GET", "/webdav/f");
    let r = get_with(server.port, "/webdav/f", &header);
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
    // Deep nesting within the default size limit must not exhaust a stack (the server would
    // die): refused, and the server still answers.
    let server = Server::start(&[]);
    let mut c = server.client();
    let levels = 140_000;
    let deep = format!(
        "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop><x xmlns=\"urn:x\">{}{}</x></D:prop></D:set></D:propertyupdate>",
        "<a>".repeat(levels),
        "</a>".repeat(levels)
    );
    assert!(deep.len() < 1 << 20);
    assert_eq!(
        c.send("PROPPATCH", "/webdav/", &[], deep.as_bytes()).status,
        400
    );
    assert_eq!(
        c.send("PROPFIND", "/webdav/", &[("Depth", "0")], b"")
            .status,
        207
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
