//! LOCK (new locks, refresh, locking an unmapped URL, which creates an empty resource as
//! RFC 4918 section 7.3 says) and UNLOCK. The lock table itself is [`super::locks`].

use std::time::Instant;

use hyper::body::Incoming;
use hyper::header::HeaderValue;

use super::live::push_activelock;
use super::locks::{self, Lock, LockConflict};
use super::methods::{check_locks, fs_error, preconditions};
use super::xml::{self, DAV};
use super::{
    Req, Resp, Server, blocking, error_response, read_body, retry_later, status, xml_response,
};

fn new_token() -> String {
    let mut b = [0u8; 16];
    let _ = getrandom::fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = super::digest::hex(&b);
    format!(
        "opaquelocktoken:{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn lock_body(server: &Server, lock: &Lock) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:prop xmlns:D=\"DAV:\"><D:lockdiscovery>",
    );
    push_activelock(server, lock, Instant::now(), &mut out);
    out.push_str("</D:lockdiscovery></D:prop>\n");
    out
}

/// LOCK.
pub async fn lock(server: &Server, req: &Req, body: Incoming) -> Resp {
    let body = match read_body(server, &req.headers, body).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let timeout = locks::parse_timeout(req.header("timeout"));
    blocking(|| {
        (|| -> Result<Resp, Resp> {
            let meta = server.root.stat(&req.path).map_err(|e| fs_error(&e))?;
            if body.iter().all(u8::is_ascii_whitespace) {
                // Refresh: the lock is named in the If header.
                let submitted = preconditions(server, req, meta.as_ref())?;
                for token in &submitted {
                    if let Some(lock) = server.locks.refresh(token, &req.path, timeout) {
                        let mut resp = xml_response(200, lock_body(server, &lock));
                        if let Ok(v) = HeaderValue::from_str(&format!("<{}>", lock.token)) {
                            resp.headers_mut().insert("lock-token", v);
                        }
                        return Ok(resp);
                    }
                }
                return Err(error_response(412, "lock-token-matches-request-uri"));
            }
            let info = xml::parse(&body).map_err(|_| status(400))?;
            if !info.is(DAV, "lockinfo") {
                return Err(status(400));
            }
            let scope = info
                .dav_child("lockscope")
                .and_then(|s| s.elements().next())
                .ok_or_else(|| status(400))?;
            let exclusive = if scope.is(DAV, "exclusive") {
                true
            } else if scope.is(DAV, "shared") {
                false
            } else {
                return Err(status(400));
            };
            let locktype = info
                .dav_child("locktype")
                .and_then(|t| t.elements().next())
                .ok_or_else(|| status(400))?;
            if !locktype.is(DAV, "write") {
                return Err(status(400));
            }
            let owner = info
                .dav_child("owner")
                .map(xml::Element::children_xml)
                .unwrap_or_default();
            if owner.len() > server.cfg.limits.max_lock_owner {
                return Err(status(413));
            }
            let infinite = match req.header("depth").map(|d| d.trim().to_ascii_lowercase()) {
                None => true,
                Some(d) if d == "infinity" => true,
                Some(d) if d == "0" => false,
                Some(_) => return Err(status(400)),
            };
            let submitted = preconditions(server, req, meta.as_ref())?;
            let created = meta.is_none();
            if created {
                let parent = req.path.parent().ok_or_else(|| status(403))?;
                match server.root.stat(&parent).map_err(|e| fs_error(&e))? {
                    Some(m) if m.is_dir => {}
                    _ => return Err(status(409)),
                }
                check_locks(server, &submitted, &[(parent, false)])?;
            }
            let lock = Lock {
                token: new_token(),
                root: req.path.clone(),
                infinite,
                exclusive,
                owner,
                principal: req.user.clone(),
                timeout,
                expires: Instant::now() + timeout,
            };
            let lock = server
                .locks
                .acquire(lock)
                .map_err(|conflict| match conflict {
                    LockConflict::Locked(_) => error_response(423, "no-conflicting-lock"),
                    LockConflict::Full { max } => {
                        crate::log::warn(format_args!(
                            "webdav: refusing a LOCK by {}: {max} locks are held (--max-locks)",
                            req.user
                        ));
                        retry_later(503)
                    }
                })?;
            if created {
                let made = server
                    .root
                    .upload(&req.path, false)
                    .and_then(|u| u.commit());
                if let Err(e) = made {
                    server.locks.release(&lock.token, &req.path);
                    return Err(fs_error(&e));
                }
            }
            let mut resp = xml_response(if created { 201 } else { 200 }, lock_body(server, &lock));
            if let Ok(v) = HeaderValue::from_str(&format!("<{}>", lock.token)) {
                resp.headers_mut().insert("lock-token", v);
            }
            Ok(resp)
        })()
        .unwrap_or_else(|r| r)
    })
}

/// UNLOCK.
pub async fn unlock(server: &Server, req: &Req, _body: Incoming) -> Resp {
    let Some(token) = req.header("lock-token").map(|t| {
        t.trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_owned()
    }) else {
        return status(400);
    };
    if server
        .locks
        .principal_of(&token)
        .is_some_and(|holder| holder != req.user)
    {
        crate::log::debug(format_args!(
            "webdav: {} may not unlock a lock taken by another user",
            req.user
        ));
        return status(403);
    }
    if server.locks.release(&token, &req.path) {
        status(204)
    } else {
        error_response(409, "lock-token-matches-request-uri")
    }
}
