//! Locks belong to who took them: another authenticated user holding the token can neither
//! unlock, refresh, nor write through it (403, as Apache), while the holder can.

use super::harness::*;

const INFO: &[u8] = br#"<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>alice</D:owner></D:lockinfo>"#;

/// A server whose htdigest file also has the user bob.
pub fn two_users(extra: &[&str]) -> (Server, Client) {
    let server = Server::start(extra);
    let path = server.dir.path().join("htdigest");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&format!(
        "bob:{REALM}:{}\n",
        bosun::webdav::digest::ha1("bob", REALM, "bobpw")
    ));
    std::fs::write(&path, text).unwrap();
    let mut bob = server.client();
    bob.user = "bob".into();
    bob.password = "bobpw".into();
    (server, bob)
}

#[test]
fn locks_are_bound_to_their_principal() {
    let (server, mut bob) = two_users(&[]);
    let mut alice = server.client();
    assert_eq!(alice.send("PUT", "/webdav/f", &[], b"v1").status, 201);
    let r = alice.send("LOCK", "/webdav/f", &[("Timeout", "Second-600")], INFO);
    assert_eq!(r.status, 200, "{}", r.text());
    let token = r.header("lock-token").unwrap().to_owned();
    let tagged = format!("({token})");

    // bob, with alice's token: write, delete, move, proppatch, refresh and unlock all 403.
    assert_eq!(
        bob.send("PUT", "/webdav/f", &[("If", &tagged)], b"bob")
            .status,
        403
    );
    assert_eq!(
        bob.send("DELETE", "/webdav/f", &[("If", &tagged)], b"")
            .status,
        403
    );
    let dest = server.url("/webdav/g");
    assert_eq!(
        bob.send(
            "MOVE",
            "/webdav/f",
            &[("If", &tagged), ("Destination", &dest)],
            b""
        )
        .status,
        403
    );
    let patch = br#"<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:a xmlns:x="urn:x">1</x:a></D:prop></D:set></D:propertyupdate>"#;
    assert_eq!(
        bob.send("PROPPATCH", "/webdav/f", &[("If", &tagged)], patch)
            .status,
        403
    );
    assert_eq!(
        bob.send("LOCK", "/webdav/f", &[("If", &tagged)], b"")
            .status,
        403
    );
    assert_eq!(
        bob.send("UNLOCK", "/webdav/f", &[("Lock-Token", &token)], b"")
            .status,
        403
    );
    // Without the token bob meets the lock itself.
    assert_eq!(bob.send("PUT", "/webdav/f", &[], b"bob").status, 423);
    assert_eq!(std::fs::read(server.root().join("f")).unwrap(), b"v1");
    assert!(!server.root().join("g").exists());
    // bob sees the lock (discovery is not ownership).
    let r = bob.send("PROPFIND", "/webdav/f", &[("Depth", "0")], b"");
    assert!(r.text().contains(token.trim_matches(['<', '>'])));

    // Negative control: alice, the holder, writes, refreshes and unlocks.
    assert_eq!(
        alice
            .send("PUT", "/webdav/f", &[("If", &tagged)], b"v2")
            .status,
        204
    );
    assert_eq!(
        alice
            .send("LOCK", "/webdav/f", &[("If", &tagged)], b"")
            .status,
        200
    );
    assert_eq!(
        alice
            .send("UNLOCK", "/webdav/f", &[("Lock-Token", &token)], b"")
            .status,
        204
    );
    // Once unlocked, bob may write.
    assert_eq!(bob.send("PUT", "/webdav/f", &[], b"bob").status, 204);
}

/// A `Depth: 1` listing shows each member the locks that cover it, as `Depth: 0` on the member
/// does: the collection's infinite lock on every member, a lock on one member on that member
/// only, and never the collection's depth-0 lock (the listing takes the locks once for all
/// members, src/webdav/locks.rs `over_members`).
#[test]
fn listings_show_each_member_its_locks() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.send("MKCOL", "/webdav/d/", &[], b"").status, 201);
    assert_eq!(c.send("MKCOL", "/webdav/d/sub/", &[], b"").status, 201);
    for f in ["a", "b", "sub/x"] {
        assert_eq!(
            c.send("PUT", &format!("/webdav/d/{f}"), &[], b"1").status,
            201
        );
    }
    let shared = br#"<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>"#;
    let token = |r: &Response| {
        r.header("lock-token")
            .unwrap()
            .trim_matches(['<', '>'])
            .to_owned()
    };
    let r = c.send("LOCK", "/webdav/d/", &[("Depth", "0")], shared);
    assert_eq!(r.status, 200, "{}", r.text());
    let flat = token(&r);
    let r = c.send("LOCK", "/webdav/d/a", &[("Depth", "0")], shared);
    let on_a = token(&r);
    let r = c.send("LOCK", "/webdav/d/sub/x", &[("Depth", "0")], shared);
    let beneath = token(&r);
    let r = c.send("LOCK", "/webdav/", &[("Depth", "infinity")], shared);
    let deep = token(&r);

    let r = c.send("PROPFIND", "/webdav/d/", &[("Depth", "1")], b"");
    assert_eq!(r.status, 207);
    let text = r.text();
    let response_of = |href: &str| {
        text.split("<D:response>")
            .find(|part| part.starts_with(&format!("<D:href>{href}</D:href>")))
            .unwrap_or_else(|| panic!("no response for {href} in {text}"))
            .to_owned()
    };
    let has = |href: &str, t: &str| response_of(href).contains(t);
    assert!(has("/webdav/d/", &flat) && has("/webdav/d/", &deep));
    for member in ["/webdav/d/a", "/webdav/d/b", "/webdav/d/sub/"] {
        assert!(has(member, &deep), "{member} lacks the infinite lock");
        assert!(!has(member, &flat), "{member} shows the depth-0 lock");
        assert!(!has(member, &beneath), "{member} shows a lock beneath it");
    }
    assert!(has("/webdav/d/a", &on_a) && !has("/webdav/d/b", &on_a));
    // The same as each member says for itself.
    let alone = c
        .send("PROPFIND", "/webdav/d/a", &[("Depth", "0")], b"")
        .text();
    assert_eq!(
        alone.matches("<D:activelock>").count(),
        response_of("/webdav/d/a").matches("<D:activelock>").count()
    );
}
