//! PROPFIND and PROPPATCH: the live properties bosun computes from the filesystem on every
//! request (no cache), dead properties from [`super::props`], and the multistatus answer.
//! `Depth: infinity` (and no `Depth`) on a collection is refused with 403 and
//! `DAV:propfind-finite-depth`, as Apache does; on a file it means depth 0.

use std::time::{SystemTime, UNIX_EPOCH};

use std::sync::Arc;

use bytes::Bytes;
use hyper::Response;
use hyper::body::Incoming;
use hyper::header::HeaderValue;

use super::fs::{Members, Meta};
use super::methods::{check_locks, fs_error, preconditions};
use super::path::DavPath;
use super::props::{Change, DeadProp, Store};
use super::xml::{self, DAV, Element, escape};
use super::{
    DavBody, Req, Resp, Server, blocking, error_response, read_body, status, xml_response,
};

const LIVE: [&str; 9] = [
    "resourcetype",
    "getcontentlength",
    "getcontenttype",
    "getetag",
    "getlastmodified",
    "creationdate",
    "supportedlock",
    "lockdiscovery",
    "displayname",
];
const QUOTA: [&str; 2] = ["quota-available-bytes", "quota-used-bytes"];
const PROTECTED: [&str; 9] = [
    "resourcetype",
    "getcontentlength",
    "getetag",
    "getlastmodified",
    "creationdate",
    "supportedlock",
    "lockdiscovery",
    "quota-available-bytes",
    "quota-used-bytes",
];

/// A MIME type from the file name's extension.
pub fn content_type(p: &DavPath) -> &'static str {
    let ext = p
        .name()
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html",
        "txt" | "md" | "py" | "rs" | "sh" | "c" | "h" | "ini" | "conf" | "cfg" | "toml"
        | "yaml" | "yml" => "text/plain",
        "css" => "text/css",
        "js" | "mjs" => "text/javascript",
        "json" | "ipynb" => "application/json",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "php" => "application/x-httpd-php",
        _ => "application/octet-stream",
    }
}

/// `YYYY-MM-DDThh:mm:ssZ`, without fractional seconds (Windows refuses them).
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let c = crate::vocab::time::civil(i64::try_from(secs).unwrap_or(0));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

fn tag(ns: &str, name: &str) -> String {
    if ns == DAV {
        format!("<D:{name}/>")
    } else if ns.is_empty() {
        format!("<{name} xmlns=\"\"/>")
    } else {
        format!("<X:{name} xmlns:X=\"{}\"/>", escape(ns))
    }
}

/// The `DAV:lockdiscovery` value for `p`.
pub fn lockdiscovery(server: &Server, p: &DavPath) -> String {
    let now = std::time::Instant::now();
    let mut out = String::from("<D:lockdiscovery>");
    for lock in server.locks.covering(p) {
        out.push_str(&activelock(server, &lock, now));
    }
    out.push_str("</D:lockdiscovery>");
    out
}

/// One `DAV:activelock`.
pub fn activelock(server: &Server, lock: &super::locks::Lock, now: std::time::Instant) -> String {
    let root_is_dir = server
        .root
        .stat(&lock.root)
        .ok()
        .flatten()
        .is_some_and(|m| m.is_dir);
    format!(
        "<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope><D:{}/></D:lockscope><D:depth>{}</D:depth>{}<D:timeout>Second-{}</D:timeout><D:locktoken><D:href>{}</D:href></D:locktoken><D:lockroot><D:href>{}</D:href></D:lockroot></D:activelock>",
        if lock.exclusive {
            "exclusive"
        } else {
            "shared"
        },
        if lock.infinite { "infinity" } else { "0" },
        if lock.owner.is_empty() {
            String::new()
        } else {
            format!("<D:owner>{}</D:owner>", lock.owner)
        },
        lock.seconds_left(now),
        escape(&lock.token),
        escape(&lock.root.href(&server.cfg.prefix, root_is_dir)),
    )
}

fn live_value(server: &Server, p: &DavPath, m: &Meta, name: &str) -> Option<String> {
    let v = match name {
        "resourcetype" => {
            if m.is_dir {
                "<D:resourcetype><D:collection/></D:resourcetype>".to_owned()
            } else {
                "<D:resourcetype/>".to_owned()
            }
        }
        "getcontentlength" if !m.is_dir => format!("<D:getcontentlength>{}</D:getcontentlength>", m.len),
        "getcontenttype" if !m.is_dir => format!("<D:getcontenttype>{}</D:getcontenttype>", content_type(p)),
        "getetag" => format!("<D:getetag>{}</D:getetag>", escape(&m.etag())),
        "getlastmodified" => format!("<D:getlastmodified>{}</D:getlastmodified>", httpdate::fmt_http_date(m.mtime)),
        "creationdate" => format!("<D:creationdate>{}</D:creationdate>", rfc3339(m.created)),
        "displayname" => format!("<D:displayname>{}</D:displayname>", escape(p.name().unwrap_or(""))),
        "supportedlock" => "<D:supportedlock><D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry><D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry></D:supportedlock>".to_owned(),
        "lockdiscovery" => lockdiscovery(server, p),
        "quota-available-bytes" => format!("<D:quota-available-bytes>{}</D:quota-available-bytes>", server.root.quota()?.available),
        "quota-used-bytes" => format!("<D:quota-used-bytes>{}</D:quota-used-bytes>", server.root.quota()?.used),
        _ => return None,
    };
    Some(v)
}

#[derive(Debug, Clone)]
enum Want {
    All(Vec<(String, String)>),
    Names,
    Props(Vec<(String, String)>),
}

fn parse_propfind(body: &[u8]) -> Result<Want, Resp> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Want::All(Vec::new()));
    }
    let root = xml::parse(body).map_err(|_| status(400))?;
    if !root.is(DAV, "propfind") {
        return Err(status(400));
    }
    let names = |e: &Element| {
        e.elements()
            .map(|p| (p.ns.clone(), p.name.clone()))
            .collect::<Vec<_>>()
    };
    if root.dav_child("allprop").is_some() {
        return Ok(Want::All(
            root.dav_child("include").map(names).unwrap_or_default(),
        ));
    }
    if root.dav_child("propname").is_some() {
        return Ok(Want::Names);
    }
    if let Some(prop) = root.dav_child("prop") {
        return Ok(Want::Props(names(prop)));
    }
    Err(status(400))
}

/// PROPFIND.
pub async fn propfind(server: &Arc<Server>, req: &Req, body: Incoming) -> Resp {
    // No Depth header means infinity (RFC 4918 9.1). As Apache's mod_dav does, infinity is
    // refused on collections only: on a file it is depth 0, a missing path is 404.
    let depth = match req.header("depth").map(|d| d.trim().to_ascii_lowercase()) {
        Some(d) if d == "0" => Some(0),
        Some(d) if d == "1" => Some(1),
        Some(d) if d == "infinity" => None,
        None => None,
        Some(_) => return status(400),
    };
    let body = match read_body(server, &req.headers, body).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let want = match parse_propfind(&body) {
        Ok(w) => w,
        Err(resp) => return resp,
    };
    blocking(|| {
        let meta = match server.root.stat(&req.path) {
            Ok(Some(m)) => m,
            Ok(None) => return status(404),
            Err(e) => return fs_error(&e),
        };
        let depth = match depth {
            Some(d) => d,
            None if meta.is_dir => return error_response(403, "propfind-finite-depth"),
            None => 0,
        };
        let mut out = String::from(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus xmlns:D=\"DAV:\">\n",
        );
        let dead = if needs_dead(&want) && (meta.is_file || meta.is_dir) {
            server
                .props
                .list(&server.root, &req.path)
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        respond(server, &req.path, &meta, &want, &dead, &mut out);
        if depth == 1 && meta.is_dir {
            let members = match server.root.members(&req.path) {
                Ok(m) => m,
                Err(e) => return fs_error(&e),
            };
            let store = if needs_dead(&want) {
                server.props.dir_store(&server.root, &req.path)
            } else {
                Default::default()
            };
            if members.names.len() > STREAM_FROM {
                return stream_members(server, &req.path, want.clone(), members, store, out);
            }
            for name in &members.names {
                member_response(server, &req.path, &want, &members, &store, name, &mut out);
            }
        }
        out.push_str("</D:multistatus>\n");
        xml_response(207, out)
    })
}

/// Listings longer than this are streamed (chunked) as they are produced, so the server's
/// memory does not grow with the directory; shorter ones go out whole, with a length.
const STREAM_FROM: usize = 1000;
/// Bytes of XML gathered before a chunk is handed to the connection.
const STREAM_CHUNK: usize = 64 * 1024;

/// Answer 207 at once and produce the members' responses on a blocking thread, a chunk at a
/// time; the channel's capacity bounds what waits for a slow client. A client that goes away
/// ends the work.
fn stream_members(
    server: &Arc<Server>,
    dir: &DavPath,
    want: Want,
    members: Members,
    store: Store,
    head: String,
) -> Resp {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let server = server.clone();
    let dir = dir.clone();
    tokio::task::spawn_blocking(move || {
        // Each chunk's buffer is sized once: growing it piece by piece was a good part of
        // the time of a listing (realloc and memmove in the profile).
        let fresh = || String::with_capacity(STREAM_CHUNK + STREAM_CHUNK / 4);
        let mut out = fresh();
        out.push_str(&head);
        for name in &members.names {
            member_response(&server, &dir, &want, &members, &store, name, &mut out);
            if out.len() >= STREAM_CHUNK {
                let chunk = Bytes::from(std::mem::replace(&mut out, fresh()));
                if tx.blocking_send(Ok(chunk)).is_err() {
                    return;
                }
            }
        }
        out.push_str("</D:multistatus>\n");
        let _ = tx.blocking_send(Ok(Bytes::from(out)));
    });
    let mut resp = Response::new(DavBody::Chunked(rx));
    *resp.status_mut() = hyper::StatusCode::MULTI_STATUS;
    resp.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    resp
}

/// The `response` element of member `name` of collection `dir`.
fn member_response(
    server: &Server,
    dir: &DavPath,
    want: &Want,
    members: &Members,
    store: &Store,
    name: &str,
    out: &mut String,
) {
    let (Ok(child), Some(member)) = (dir.join(name), server.root.member(members, dir, name)) else {
        return;
    };
    let m = &member.meta;
    let dead = if !needs_dead(want) || !(m.is_file || m.is_dir) {
        Vec::new()
    } else if member.via_link {
        server.props.list(&server.root, &child).unwrap_or_default()
    } else {
        server.props.list_member(&members.dir, name, store)
    };
    respond(server, &child, m, want, &dead, out);
}

/// Whether answering `want` needs the dead properties (only-live `prop` requests, such as
/// Finder's and Windows', do not).
fn needs_dead(want: &Want) -> bool {
    match want {
        Want::Props(names) => names.iter().any(|(ns, name)| {
            ns != DAV || !(LIVE.contains(&name.as_str()) || QUOTA.contains(&name.as_str()))
        }),
        Want::All(_) | Want::Names => true,
    }
}

fn respond(
    server: &Server,
    p: &DavPath,
    m: &Meta,
    want: &Want,
    dead: &[DeadProp],
    out: &mut String,
) {
    out.push_str("<D:response><D:href>");
    out.push_str(&escape(&p.href(&server.cfg.prefix, m.is_dir)));
    out.push_str("</D:href>");
    let mut found = String::new();
    let mut missing = String::new();
    match want {
        Want::Names => {
            for name in LIVE.iter().chain(QUOTA.iter()) {
                if live_value(server, p, m, name).is_some() {
                    found.push_str(&tag(DAV, name));
                }
            }
            for d in dead {
                found.push_str(&tag(&d.ns, &d.name));
            }
        }
        Want::All(include) => {
            for name in LIVE {
                if let Some(v) = live_value(server, p, m, name) {
                    found.push_str(&v);
                }
            }
            for d in dead {
                found.push_str(&d.xml);
            }
            for (ns, name) in include {
                if ns == DAV
                    && QUOTA.contains(&name.as_str())
                    && let Some(v) = live_value(server, p, m, name)
                {
                    found.push_str(&v);
                }
            }
        }
        Want::Props(names) => {
            for (ns, name) in names {
                let value = if ns == DAV {
                    live_value(server, p, m, name)
                } else {
                    None
                };
                let value = value.or_else(|| {
                    dead.iter()
                        .find(|d| d.ns == *ns && d.name == *name)
                        .map(|d| d.xml.clone())
                });
                match value {
                    Some(v) => found.push_str(&v),
                    None => missing.push_str(&tag(ns, name)),
                }
            }
        }
    }
    if !found.is_empty() || missing.is_empty() {
        out.push_str(&format!(
            "<D:propstat><D:prop>{found}</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>"
        ));
    }
    if !missing.is_empty() {
        out.push_str(&format!("<D:propstat><D:prop>{missing}</D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>"));
    }
    out.push_str("</D:response>\n");
}

/// PROPPATCH: all changes apply, or none.
pub async fn proppatch(server: &Server, req: &Req, body: Incoming) -> Resp {
    let body = match read_body(server, &req.headers, body).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let Ok(root) = xml::parse(&body) else {
        return status(400);
    };
    if !root.is(DAV, "propertyupdate") {
        return status(400);
    }
    let mut changes = Vec::new();
    for op in root.elements() {
        let set = if op.is(DAV, "set") {
            true
        } else if op.is(DAV, "remove") {
            false
        } else {
            continue;
        };
        for prop in op.elements().filter(|e| e.is(DAV, "prop")) {
            for p in prop.elements() {
                changes.push(if set {
                    Change::Set(DeadProp {
                        ns: p.ns.clone(),
                        name: p.name.clone(),
                        xml: p.to_xml(),
                    })
                } else {
                    Change::Remove {
                        ns: p.ns.clone(),
                        name: p.name.clone(),
                    }
                });
            }
        }
    }
    if changes.is_empty() {
        return status(400);
    }
    blocking(|| {
        (|| -> Result<Resp, Resp> {
            let meta = server.root.stat(&req.path).map_err(|e| fs_error(&e))?.ok_or_else(|| status(404))?;
            let submitted = preconditions(server, req, Some(&meta))?;
            check_locks(server, &submitted, &[(req.path.clone(), false)])?;
            let key = |c: &Change| match c {
                Change::Set(p) => (p.ns.clone(), p.name.clone()),
                Change::Remove { ns, name } => (ns.clone(), name.clone()),
            };
            let forbidden: Vec<bool> = changes.iter().map(|c| {
                let (ns, name) = key(c);
                ns == DAV && PROTECTED.contains(&name.as_str())
            }).collect();
            let codes: Vec<&str> = if forbidden.iter().any(|f| *f) {
                forbidden.iter().map(|f| if *f { "403 Forbidden" } else { "424 Failed Dependency" }).collect()
            } else {
                match server.props.apply(&server.root, &req.path, &changes) {
                    Ok(()) => vec!["200 OK"; changes.len()],
                    Err(e) => {
                        let code = if e.status() == 507 { "507 Insufficient Storage" } else { "500 Internal Server Error" };
                        crate::log::warn(format_args!("webdav: {e}: {}", e.errno.desc()));
                        vec![code; changes.len()]
                    }
                }
            };
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus xmlns:D=\"DAV:\">\n<D:response><D:href>");
            out.push_str(&escape(&req.path.href(&server.cfg.prefix, meta.is_dir)));
            out.push_str("</D:href>");
            let mut seen: Vec<&str> = Vec::new();
            for code in &codes {
                if seen.contains(code) {
                    continue;
                }
                seen.push(code);
                out.push_str("<D:propstat><D:prop>");
                for (c, _) in changes.iter().zip(&codes).filter(|(_, k)| *k == code) {
                    let (ns, name) = key(c);
                    out.push_str(&tag(&ns, &name));
                }
                out.push_str(&format!("</D:prop><D:status>HTTP/1.1 {code}</D:status></D:propstat>"));
            }
            out.push_str("</D:response>\n</D:multistatus>\n");
            Ok(xml_response(207, out))
        })()
        .unwrap_or_else(|r| r)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn creationdate_has_no_fraction() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::new(951_782_400, 999)),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_000_000)),
            "2026-11-18T11:06:40Z"
        );
    }
}
