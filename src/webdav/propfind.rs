//! PROPFIND and PROPPATCH: which properties a request asks for, the multistatus answer (a
//! long listing streamed in chunks, in bounded memory), dead properties from
//! [`super::props`]. The live values come from [`super::live`], computed from the filesystem
//! on every request (no cache); what every member of a listing shares (the collection's href,
//! its property store, the locks over its members) is worked out once per listing.
//! `Depth: infinity` (and no `Depth`) on a collection is refused with 403 and
//! `DAV:propfind-finite-depth`, as Apache does; on a file it means depth 0.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use hyper::Response;
use hyper::body::Incoming;
use hyper::header::HeaderValue;

use super::fs::{Members, Quota};
use super::live::{LIVE, QUOTA, Resource, push_live};
use super::locks::MemberLocks;
use super::methods::{check_locks, fs_error, preconditions};
use super::path::{DavPath, push_encoded};
use super::props::{Change, DeadProp, Store};
use super::xml::{self, DAV, Element, escape, push_escaped};
use super::{
    DavBody, Req, Resp, Server, blocking, error_response, read_body, status, xml_response,
};

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

/// Append the empty element `{ns}name`.
fn push_tag(out: &mut String, ns: &str, name: &str) {
    if ns == DAV {
        out.push_str("<D:");
        out.push_str(name);
        out.push_str("/>");
    } else if ns.is_empty() {
        out.push('<');
        out.push_str(name);
        out.push_str(" xmlns=\"\"/>");
    } else {
        out.push_str("<X:");
        out.push_str(name);
        out.push_str(" xmlns:X=\"");
        push_escaped(out, ns);
        out.push_str("\"/>");
    }
}

fn tag(ns: &str, name: &str) -> String {
    let mut out = String::new();
    push_tag(&mut out, ns, name);
    out
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
        let quota = if needs_quota(&want) {
            server.root.quota()
        } else {
            None
        };
        let now = Instant::now();
        let locks = server.locks.covering(&req.path);
        let top = Resource {
            meta: &meta,
            name: req.path.name(),
            locks: [&locks, &[]],
            quota,
            now,
        };
        let href = escape(&req.path.href(&server.cfg.prefix, meta.is_dir));
        let mut missing = String::new();
        respond(
            server,
            &top,
            (&href, None),
            &want,
            &dead,
            &mut missing,
            &mut out,
        );
        if depth == 1 && meta.is_dir {
            let members = match server.root.members(&req.path) {
                Ok(m) => m,
                Err(e) => return fs_error(&e),
            };
            let listing = Listing {
                store: if needs_dead(&want) {
                    server.props.dir_store(&server.root, &req.path)
                } else {
                    Default::default()
                },
                locks: server.locks.over_members(&req.path),
                dir: req.path.clone(),
                href,
                members,
                dead: needs_dead(&want),
                want,
                quota,
                now,
            };
            if listing.members.len() > STREAM_FROM {
                return stream_members(server, listing, out);
            }
            for i in 0..listing.members.len() {
                listing.member_response(server, i, &mut missing, &mut out);
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

/// A `Depth: 1` listing of a collection, and what its members' responses share, worked out
/// once: the collection's escaped href, its fallback property store, the locks over its
/// members, the quota and the clock.
#[derive(Debug)]
struct Listing {
    dir: DavPath,
    /// The collection's href, escaped for XML, ending with `/`.
    href: String,
    members: Members,
    store: Store,
    locks: MemberLocks,
    want: Want,
    /// Whether `want` needs the dead properties.
    dead: bool,
    quota: Option<Quota>,
    now: Instant,
}

impl Listing {
    /// Append the `response` element of member `i` (nothing when it has gone, or is a
    /// symlink leaving the root). `missing` is scratch space, reused across members.
    fn member_response(&self, server: &Server, i: usize, missing: &mut String, out: &mut String) {
        let Some(name) = self.members.name(i) else {
            return;
        };
        let Some(member) = server.root.member(&self.members, &self.dir, i, self.dead) else {
            return;
        };
        let m = &member.meta;
        let dead = if !self.dead || !(m.is_file || m.is_dir) {
            Vec::new()
        } else if member.via_link {
            match self.dir.join(name) {
                Ok(child) => server.props.list(&server.root, &child).unwrap_or_default(),
                Err(_) => return,
            }
        } else {
            server
                .props
                .list_member(&self.members.dir, name, member.file.as_ref(), &self.store)
        };
        let resource = Resource {
            meta: m,
            name: Some(name),
            locks: self.locks.of(name),
            quota: self.quota,
            now: self.now,
        };
        respond(
            server,
            &resource,
            (&self.href, Some(name)),
            &self.want,
            &dead,
            missing,
            out,
        );
    }
}

/// Answer 207 at once and produce the members' responses on a blocking thread, a chunk at a
/// time; the channel's capacity bounds what waits for a slow client. A client that goes away
/// ends the work.
fn stream_members(server: &Arc<Server>, listing: Listing, head: String) -> Resp {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let server = server.clone();
    tokio::task::spawn_blocking(move || {
        // Each chunk's buffer is sized once: growing it piece by piece was a good part of
        // the time of a listing (realloc and memmove in the profile).
        let fresh = || String::with_capacity(STREAM_CHUNK + STREAM_CHUNK / 4);
        let mut out = fresh();
        out.push_str(&head);
        let mut missing = String::new();
        for i in 0..listing.members.len() {
            listing.member_response(&server, i, &mut missing, &mut out);
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

/// Whether answering `want` needs the root's quota (asked by name, or its names listed).
fn needs_quota(want: &Want) -> bool {
    match want {
        Want::Props(names) | Want::All(names) => names
            .iter()
            .any(|(ns, name)| ns == DAV && QUOTA.contains(&name.as_str())),
        Want::Names => true,
    }
}

/// Append the `response` element of `r`. Its href is `href.0` (escaped) followed, for a
/// member, by the member's name percent-encoded (which leaves nothing to escape) and a `/`
/// for a collection. Found properties are written in place; `missing` gathers the others.
fn respond(
    server: &Server,
    r: &Resource<'_>,
    href: (&str, Option<&str>),
    want: &Want,
    dead: &[DeadProp],
    missing: &mut String,
    out: &mut String,
) {
    out.push_str("<D:response><D:href>");
    out.push_str(href.0);
    if let Some(name) = href.1 {
        push_encoded(out, name);
        if r.meta.is_dir {
            out.push('/');
        }
    }
    out.push_str("</D:href>");
    let propstat = out.len();
    out.push_str("<D:propstat><D:prop>");
    let found_from = out.len();
    missing.clear();
    match want {
        Want::Names => {
            for name in LIVE.iter().chain(QUOTA.iter()) {
                // Written and taken back: only the name is wanted.
                let before = out.len();
                if push_live(server, r, name, out) {
                    out.truncate(before);
                    push_tag(out, DAV, name);
                }
            }
            for d in dead {
                push_tag(out, &d.ns, &d.name);
            }
        }
        Want::All(include) => {
            for name in LIVE {
                push_live(server, r, name, out);
            }
            for d in dead {
                out.push_str(&d.xml);
            }
            for (ns, name) in include {
                if ns == DAV && QUOTA.contains(&name.as_str()) {
                    push_live(server, r, name, out);
                }
            }
        }
        Want::Props(names) => {
            for (ns, name) in names {
                if ns == DAV && push_live(server, r, name, out) {
                    continue;
                }
                match dead.iter().find(|d| d.ns == *ns && d.name == *name) {
                    Some(d) => out.push_str(&d.xml),
                    None => push_tag(missing, ns, name),
                }
            }
        }
    }
    if out.len() == found_from && !missing.is_empty() {
        out.truncate(propstat);
    } else {
        out.push_str("</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>");
    }
    if !missing.is_empty() {
        out.push_str("<D:propstat><D:prop>");
        out.push_str(missing);
        out.push_str("</D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>");
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
