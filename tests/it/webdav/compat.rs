//! Where clients expect Apache mod_dav's answers: PROPFIND without `Depth` (the Python webdav4
//! client's `exists`, `info`, `isdir`), and XML request bodies in UTF-16.

use super::harness::*;

#[test]
fn propfind_without_depth_answers_as_apache() {
    let server = Server::start(&[]);
    std::fs::write(server.root().join("f"), "x").unwrap();
    std::fs::create_dir(server.root().join("d")).unwrap();
    std::fs::write(server.root().join("d/inner"), "y").unwrap();
    let mut c = server.client();
    for depth in [None, Some("infinity")] {
        let headers: Vec<(&str, &str)> = depth.map(|d| ("Depth", d)).into_iter().collect();
        // A file: its own properties only (depth 0).
        let r = c.send("PROPFIND", "/webdav/f", &headers, b"");
        assert_eq!(r.status, 207, "{depth:?}: {}", r.text());
        assert_eq!(r.text().matches("<D:response>").count(), 1, "{}", r.text());
        assert!(r.text().contains("<D:getcontentlength>1<"));
        // A missing path: 404.
        assert_eq!(
            c.send("PROPFIND", "/webdav/nope", &headers, b"").status,
            404
        );
        // A collection: refused, as Apache does without DavDepthInfinity.
        for dir in ["/webdav/", "/webdav/d/"] {
            let r = c.send("PROPFIND", dir, &headers, b"");
            assert_eq!(r.status, 403, "{depth:?} {dir}");
            assert!(r.text().contains("propfind-finite-depth"));
        }
    }
    // Negative control: Depth 1 on the collection lists it.
    let r = c.send("PROPFIND", "/webdav/d/", &[("Depth", "1")], b"");
    assert_eq!(r.status, 207);
    assert!(r.text().contains("/webdav/d/inner"));
    assert_eq!(
        c.send("PROPFIND", "/webdav/f", &[("Depth", "2")], b"")
            .status,
        400
    );
}

#[test]
fn utf16_request_bodies_are_read() {
    let server = Server::start(&[]);
    std::fs::write(server.root().join("f"), "x").unwrap();
    let mut c = server.client();
    let text = r#"<?xml version="1.0" encoding="utf-16"?><propfind xmlns="DAV:"><prop><getcontentlength/></prop></propfind>"#;
    let le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let be: Vec<u8> = [0xFE, 0xFF]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
        .collect();
    for body in [le, be] {
        let r = c.send(
            "PROPFIND",
            "/webdav/f",
            &[("Depth", "0"), ("Content-Type", "text/xml; charset=utf-16")],
            &body,
        );
        assert_eq!(r.status, 207, "{}", r.text());
        assert!(r.text().contains("<D:getcontentlength>1<"), "{}", r.text());
    }
    // A UTF-16 LOCK body too, and the lock is taken.
    let info = r#"<?xml version="1.0" encoding="UTF-16"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>w</D:owner></D:lockinfo>"#;
    let body: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(info.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let r = c.send("LOCK", "/webdav/f", &[], &body);
    assert_eq!(r.status, 200, "{}", r.text());
    // Negative control: an encoding XML does not require is refused.
    let r = c.send(
        "PROPFIND",
        "/webdav/f",
        &[("Depth", "0")],
        text.replace("utf-16", "EBCDIC-US").as_bytes(),
    );
    assert_eq!(r.status, 400);
}
