//! The content methods: GET/HEAD (ranges, validators), PUT (atomic, partial), DELETE, MKCOL,
//! COPY and MOVE; and the checks every method shares: conditional headers, the `If` header and
//! lock enforcement (423 unless the covering locks' tokens were submitted).

use std::io::{Read, Seek, SeekFrom};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::HeaderValue;

use super::fs::{FsError, Meta};
use super::locks::{self, Condition};
use super::path::{self, DavPath, PathError};
use super::sendfile::FileBody;
use super::{DavBody, Req, Resp, Server, blocking, locked_response, next_frame, status};

const CHUNK: usize = 256 * 1024;
/// Size of the reads that feed a GET response.
const READ_CHUNK: usize = 1024 * 1024;

/// The response for a filesystem failure.
pub fn fs_error(err: &FsError) -> Resp {
    let code = err.status();
    if code >= 500 {
        crate::log::warn(format_args!("webdav: {err}: {}", err.errno.desc()));
    } else {
        crate::log::debug(format_args!("webdav: {err}: {}", err.errno.desc()));
    }
    status(code)
}

/// Resolve a URL from an `If` tag or `Destination` to a path under the prefix. `Err(502)` for
/// another server or a path outside the prefix, `Err(400)` for a malformed one.
pub fn url_to_path(server: &Server, req: &Req, url: &str) -> Result<DavPath, u16> {
    let path_part = if let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    {
        let (authority, path) = rest
            .find('/')
            .map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
        let host = req.header("host").unwrap_or("");
        if !authority.eq_ignore_ascii_case(host) {
            return Err(502);
        }
        path
    } else if url.starts_with('/') {
        url
    } else {
        return Err(400);
    };
    let path_part = path_part.split(['?', '#']).next().unwrap_or(path_part);
    match path::parse_target(path_part, &server.cfg.prefix) {
        Ok(p) => Ok(p),
        Err(PathError::OutsidePrefix { .. }) => Err(502),
        Err(_) => Err(400),
    }
}

fn etag_matches(list: &str, etag: &str) -> bool {
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    list.split(',')
        .any(|t| t.trim() == "*" || strip(t) == strip(etag))
}

/// Evaluate the `If` header and the HTTP conditional headers for the request resource (with
/// `meta` its current state). Returns the submitted lock tokens, or the response to send.
pub fn preconditions(server: &Server, req: &Req, meta: Option<&Meta>) -> Result<Vec<String>, Resp> {
    let mut submitted = Vec::new();
    if let Some(header) = req.header("if") {
        let lists = locks::parse_if(header).ok_or_else(|| status(400))?;
        submitted = locks::submitted_tokens(&lists);
        // A lock token is no key for another user (RFC 4918 6.4; Apache answers 403 too).
        if submitted.iter().any(|t| {
            server
                .locks
                .principal_of(t)
                .is_some_and(|holder| holder != req.user)
        }) {
            return Err(status(403));
        }
        let any_true = lists.iter().any(|list| {
            let target = match &list.resource {
                None => Some(req.path.clone()),
                Some(url) => url_to_path(server, req, url).ok(),
            };
            let Some(target) = target else { return false };
            let target_meta = if target == req.path {
                meta.cloned()
            } else {
                server.root.stat(&target).ok().flatten()
            };
            list.conditions.iter().all(|(negated, condition)| {
                let holds = match condition {
                    Condition::Token(token) => server.locks.token_covers(token, &target),
                    Condition::ETag(tag) => target_meta
                        .as_ref()
                        .is_some_and(|m| etag_matches(tag, &m.etag())),
                };
                holds != *negated
            })
        });
        if !any_true {
            return Err(status(412));
        }
    }
    let read = req.method == "GET" || req.method == "HEAD";
    if let Some(list) = req.header("if-match")
        && !meta.is_some_and(|m| etag_matches(list, &m.etag()))
    {
        return Err(status(412));
    }
    if let (Some(since), Some(m)) = (
        req.header("if-unmodified-since")
            .and_then(|d| httpdate::parse_http_date(d).ok()),
        meta,
    ) && truncate(m.mtime) > since
    {
        return Err(status(412));
    }
    if let Some(list) = req.header("if-none-match") {
        if meta.is_some_and(|m| etag_matches(list, &m.etag())) {
            return Err(if read {
                not_modified(meta)
            } else {
                status(412)
            });
        }
    } else if read
        && let (Some(since), Some(m)) = (
            req.header("if-modified-since")
                .and_then(|d| httpdate::parse_http_date(d).ok()),
            meta,
        )
        && truncate(m.mtime) <= since
    {
        return Err(not_modified(meta));
    }
    Ok(submitted)
}

fn not_modified(meta: Option<&Meta>) -> Resp {
    let mut resp = status(304);
    if let Some(m) = meta {
        validators(&mut resp, m);
    }
    resp
}

fn truncate(t: SystemTime) -> SystemTime {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn validators(resp: &mut Resp, m: &Meta) {
    if let Ok(v) = HeaderValue::from_str(&m.etag()) {
        resp.headers_mut().insert("etag", v);
    }
    if let Ok(v) = HeaderValue::from_str(&super::live::http_date(m.mtime)) {
        resp.headers_mut().insert("last-modified", v);
    }
}

/// Refuse (423) unless every lock affecting `paths` (`(path, deep)`) has its token submitted.
pub fn check_locks(
    server: &Server,
    submitted: &[String],
    paths: &[(DavPath, bool)],
) -> Result<(), Resp> {
    let mut affecting = Vec::new();
    for (p, deep) in paths {
        affecting.extend(server.locks.affecting(p, *deep));
    }
    locks::permits(&affecting, submitted).map_err(|root| locked_response(server, &root))
}

fn stat(server: &Server, p: &DavPath) -> Result<Option<Meta>, Resp> {
    server.root.stat(p).map_err(|e| fs_error(&e))
}

/// GET and HEAD.
pub fn get(server: &Server, req: &Req) -> Resp {
    blocking(|| get_inner(server, req).unwrap_or_else(|r| r))
}

fn get_inner(server: &Server, req: &Req) -> Result<Resp, Resp> {
    let meta = stat(server, &req.path)?.ok_or_else(|| status(404))?;
    preconditions(server, req, Some(&meta))?;
    if meta.is_dir {
        let mut resp = listing(server, req)?;
        validators(&mut resp, &meta);
        return Ok(resp);
    }
    if !meta.is_file {
        // Opening a fifo or a device could block or have side effects.
        return Err(status(403));
    }
    let mut file = server.root.open_read(&req.path).map_err(|e| fs_error(&e))?;
    let size = meta.len;
    let mut range = req.header("range").and_then(|r| parse_range(r, size));
    if let Some(if_range) = req.header("if-range") {
        let fresh = if if_range.starts_with('"') || if_range.starts_with("W/") {
            if_range == meta.etag()
        } else {
            httpdate::parse_http_date(if_range).is_ok_and(|d| truncate(meta.mtime) <= d)
        };
        if !fresh {
            range = None;
        }
    }
    let (code, start, len) = match range {
        Some(Some((start, end))) => (206, start, end - start + 1),
        Some(None) => {
            let mut resp = status(416);
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                resp.headers_mut().insert("content-range", v);
            }
            return Ok(resp);
        }
        None => (200, 0, size),
    };
    let body = if req.method == "HEAD" || len == 0 {
        DavBody::Bytes(None)
    } else if let Some(regions) = &req.regions {
        DavBody::File(FileBody::new(regions.clone(), file, start, len))
    } else {
        file.seek(SeekFrom::Start(start)).map_err(|_| status(500))?;
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        tokio::task::spawn_blocking(move || {
            let mut left = len;
            while left > 0 {
                let want = left.min(READ_CHUNK as u64);
                // read_to_end reads into spare capacity: no zeroing of each chunk.
                let mut buf = Vec::with_capacity(READ_CHUNK);
                match (&mut file).take(want).read_to_end(&mut buf) {
                    Ok(0) => {
                        let _ = tx.blocking_send(Err(std::io::Error::from(
                            std::io::ErrorKind::UnexpectedEof,
                        )));
                        return;
                    }
                    Ok(n) => {
                        left -= n as u64;
                        if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        return;
                    }
                }
            }
        });
        DavBody::Stream(rx, len)
    };
    let mut resp = hyper::Response::new(body);
    *resp.status_mut() = hyper::StatusCode::from_u16(code).unwrap_or(hyper::StatusCode::OK);
    validators(&mut resp, &meta);
    let h = resp.headers_mut();
    h.insert("content-length", HeaderValue::from(len));
    h.insert("accept-ranges", HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(super::live::content_type(req.path.name().unwrap_or(""))) {
        h.insert("content-type", v);
    }
    if code == 206
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{size}", start + len - 1))
    {
        h.insert("content-range", v);
    }
    Ok(resp)
}

/// `Some(Some((first, last)))` for one satisfiable range, `Some(None)` when unsatisfiable,
/// `None` to ignore the header (malformed or several ranges).
fn parse_range(header: &str, size: u64) -> Option<Option<(u64, u64)>> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 || size == 0 {
            return Some(None);
        }
        return Some(Some((size.saturating_sub(n), size - 1)));
    }
    let start: u64 = a.parse().ok()?;
    let end: u64 = if b.is_empty() {
        u64::MAX
    } else {
        b.parse().ok()?
    };
    if end < start {
        return None;
    }
    if start >= size {
        return Some(None);
    }
    Some(Some((start, end.min(size - 1))))
}

fn listing(server: &Server, req: &Req) -> Result<Resp, Resp> {
    let names = server.root.list(&req.path).map_err(|e| fs_error(&e))?;
    let title = super::xml::escape(&req.path.href(&server.cfg.prefix, true));
    let mut html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head><body><h1>{title}</h1><ul>\n"
    );
    for name in names {
        let Ok(child) = req.path.join(&name) else {
            continue;
        };
        let Ok(Some(m)) = server.root.stat(&child) else {
            continue;
        };
        let href = super::xml::escape(&child.href(&server.cfg.prefix, m.is_dir));
        let label = super::xml::escape(&name);
        let slash = if m.is_dir { "/" } else { "" };
        html.push_str(&format!("<li><a href=\"{href}\">{label}{slash}</a></li>\n"));
    }
    html.push_str("</ul></body></html>\n");
    let len = html.len();
    let body = if req.method == "HEAD" {
        DavBody::Bytes(None)
    } else {
        DavBody::Bytes(Some(Bytes::from(html)))
    };
    let mut resp = hyper::Response::new(body);
    resp.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    resp.headers_mut()
        .insert("content-length", HeaderValue::from(len));
    Ok(resp)
}

/// `Content-Range: bytes A-B/LEN|*` on a PUT: the first byte and the length to write.
fn parse_content_range(header: &str) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes ")?;
    let (range, _total) = spec.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    let (a, b): (u64, u64) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (b >= a).then(|| (a, b - a + 1))
}

/// PUT: write to a temporary file beside the target and rename it over the target.
pub async fn put(server: &Server, req: &Req, mut body: Incoming) -> Resp {
    let prepared = blocking(|| -> Result<_, Resp> {
        if req.path.is_root() {
            return Err(status(405));
        }
        let target = server
            .root
            .resolve_final(&req.path)
            .map_err(|e| fs_error(&e))?;
        let meta = stat(server, &target)?;
        if meta.as_ref().is_some_and(|m| m.is_dir) {
            return Err(status(405));
        }
        let parent = target.parent().unwrap_or_default();
        match stat(server, &parent)? {
            Some(m) if m.is_dir => {}
            _ => return Err(status(409)),
        }
        let submitted = preconditions(server, req, meta.as_ref())?;
        let affected = if meta.is_some() {
            vec![(target.clone(), false)]
        } else {
            vec![(parent, false)]
        };
        check_locks(server, &submitted, &affected)?;
        let partial = match req.header("content-range") {
            Some(h) => Some(parse_content_range(h).ok_or_else(|| status(400))?),
            None => None,
        };
        let mut upload = server
            .root
            .upload(&target, partial.is_some())
            .map_err(|e| fs_error(&e))?;
        if let Some((offset, _)) = partial {
            upload.seek(offset).map_err(|e| fs_error(&e))?;
        }
        // A body that cannot fit is refused before it is read (with `Expect: 100-continue`
        // the client never sends it); the upload is dropped, its temporary file removed.
        let declared = req
            .header("content-length")
            .and_then(|v| v.parse::<u64>().ok());
        if let (Some(len), Some(free)) = (declared, upload.space_available())
            && len > free
        {
            crate::log::warn(format_args!(
                "webdav: refusing a PUT of {len} bytes to {}: {free} bytes free",
                target.href(&server.cfg.prefix, false)
            ));
            return Err(status(507));
        }
        Ok((upload, meta.is_some(), partial, target))
    });
    let (mut upload, existed, partial, target) = match prepared {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let mut written: u64 = 0;
    // Gather frames into larger vectored writes: fewer trips to a blocking thread, and no
    // copy of the frames into one buffer.
    let mut pending: Vec<Bytes> = Vec::new();
    let mut pending_len = 0;
    loop {
        // A stalled or broken body: the upload is dropped (its temporary file removed) and
        // the old file stays as it was.
        let data = match next_frame(server, &mut body).await {
            Ok(data) => data,
            Err(resp) => return resp,
        };
        let done = data.is_none();
        if let Some(data) = data {
            written += data.len() as u64;
            pending_len += data.len();
            pending.push(data);
        }
        // At most 64 pieces a write (well below IOV_MAX).
        if pending_len >= CHUNK || pending.len() >= 64 || (done && !pending.is_empty()) {
            if let Err(e) = blocking(|| upload.write(&pending)) {
                return fs_error(&e);
            }
            pending.clear();
            pending_len = 0;
        }
        if done {
            break;
        }
    }
    if let Some((_, len)) = partial
        && written != len
    {
        return status(400);
    }
    blocking(|| {
        if let Err(e) = upload.commit() {
            return fs_error(&e);
        }
        let mut resp = status(if existed { 204 } else { 201 });
        if let Ok(Some(m)) = server.root.stat(&target) {
            validators(&mut resp, &m);
        }
        resp
    })
}

async fn drain(body: Incoming) -> bool {
    match http_body_util::Limited::new(body, 1).collect().await {
        Ok(c) => c.to_bytes().is_empty(),
        Err(_) => false,
    }
}

/// DELETE.
pub async fn delete(server: &Server, req: &Req, _body: Incoming) -> Resp {
    blocking(|| {
        (|| -> Result<Resp, Resp> {
            if req.path.is_root() {
                return Err(status(403));
            }
            let meta = stat(server, &req.path)?;
            let is_link = server
                .root
                .is_symlink(&req.path)
                .map_err(|e| fs_error(&e))?;
            if meta.is_none() && !is_link {
                return Err(status(404));
            }
            let submitted = preconditions(server, req, meta.as_ref())?;
            check_locks(
                server,
                &submitted,
                &[
                    (req.path.clone(), true),
                    (req.path.parent().unwrap_or_default(), false),
                ],
            )?;
            server.root.remove(&req.path).map_err(|e| fs_error(&e))?;
            server.props.forget(&server.root, &req.path);
            server.locks.remove_beneath(&req.path);
            Ok(status(204))
        })()
        .unwrap_or_else(|r| r)
    })
}

/// MKCOL (no request body allowed: 415).
pub async fn mkcol(server: &Server, req: &Req, body: Incoming) -> Resp {
    let has_body = req
        .header("content-length")
        .is_some_and(|l| l.trim() != "0")
        || req.header("transfer-encoding").is_some();
    if has_body && !drain(body).await {
        return status(415);
    }
    blocking(|| {
        (|| -> Result<Resp, Resp> {
            if stat(server, &req.path)?.is_some()
                || server
                    .root
                    .is_symlink(&req.path)
                    .map_err(|e| fs_error(&e))?
            {
                return Err(status(405));
            }
            let parent = req.path.parent().unwrap_or_default();
            match stat(server, &parent)? {
                Some(m) if m.is_dir => {}
                _ => return Err(status(409)),
            }
            let submitted = preconditions(server, req, None)?;
            check_locks(server, &submitted, &[(parent, false)])?;
            server.root.mkdir(&req.path).map_err(|e| fs_error(&e))?;
            Ok(status(201))
        })()
        .unwrap_or_else(|r| r)
    })
}

/// COPY and MOVE.
pub async fn copy_move(server: &Server, req: &Req, _body: Incoming) -> Resp {
    blocking(|| copy_move_inner(server, req).unwrap_or_else(|r| r))
}

fn copy_move_inner(server: &Server, req: &Req) -> Result<Resp, Resp> {
    let is_move = req.method == "MOVE";
    let destination = req.header("destination").ok_or_else(|| status(400))?;
    let dst = url_to_path(server, req, destination).map_err(status)?;
    let overwrite = match req.header("overwrite").map(str::trim) {
        None | Some("T") | Some("t") => true,
        Some("F") | Some("f") => false,
        Some(_) => return Err(status(400)),
    };
    let deep = match req.header("depth").map(|d| d.trim().to_ascii_lowercase()) {
        None => true,
        Some(d) if d == "infinity" => true,
        Some(d) if d == "0" && !is_move => false,
        Some(_) => return Err(status(400)),
    };
    if req.path.is_root() || dst.is_root() {
        return Err(status(403));
    }
    let src = if is_move {
        req.path.clone()
    } else {
        server
            .root
            .resolve_final(&req.path)
            .map_err(|e| fs_error(&e))?
    };
    let src_meta = stat(server, &src)?;
    let src_is_link = is_move && server.root.is_symlink(&src).map_err(|e| fs_error(&e))?;
    if src_meta.is_none() && !src_is_link {
        return Err(status(404));
    }
    if dst == req.path || dst == src {
        return Err(status(403));
    }
    if dst.starts_with(&src) || dst.starts_with(&req.path) {
        return Err(status(409));
    }
    let dst_parent = dst.parent().unwrap_or_default();
    match stat(server, &dst_parent)? {
        Some(m) if m.is_dir => {}
        _ => return Err(status(409)),
    }
    if !is_move {
        // A copy into its own subtree through a symlinked parent would never end.
        let src_real = server.root.real_path(&src).map_err(|e| fs_error(&e))?;
        let parent_real = server
            .root
            .real_path(&dst_parent)
            .map_err(|e| fs_error(&e))?;
        if parent_real.starts_with(&src_real) {
            return Err(status(409));
        }
    }
    let dst_exists =
        stat(server, &dst)?.is_some() || server.root.is_symlink(&dst).map_err(|e| fs_error(&e))?;
    let submitted = preconditions(server, req, src_meta.as_ref())?;
    let mut affected = vec![(dst.clone(), true), (dst_parent, false)];
    if is_move {
        affected.push((req.path.clone(), true));
        affected.push((req.path.parent().unwrap_or_default(), false));
    }
    check_locks(server, &submitted, &affected)?;
    if dst_exists {
        if !overwrite {
            return Err(status(412));
        }
        server.root.remove(&dst).map_err(|e| fs_error(&e))?;
        server.props.forget(&server.root, &dst);
        server.locks.remove_beneath(&dst);
    }
    if is_move {
        server.root.rename(&src, &dst).map_err(|e| fs_error(&e))?;
        server.props.transfer(&server.root, &src, &dst, false);
        server.locks.remove_beneath(&src);
    } else {
        if let Err(e) = server.root.copy(&src, &dst, deep) {
            // Leave no half copy behind.
            let _ = server.root.remove(&dst);
            return Err(fs_error(&e));
        }
        server.props.transfer(&server.root, &src, &dst, true);
    }
    Ok(status(if dst_exists { 204 } else { 201 }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some(Some((0, 9))));
        assert_eq!(parse_range("bytes=90-", 100), Some(Some((90, 99))));
        assert_eq!(parse_range("bytes=-10", 100), Some(Some((90, 99))));
        assert_eq!(parse_range("bytes=95-200", 100), Some(Some((95, 99))));
        assert_eq!(parse_range("bytes=100-", 100), Some(None));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("lines=1-2", 100), None);
        assert_eq!(parse_range("bytes=5-1", 100), None);
        assert_eq!(parse_content_range("bytes 10-19/*"), Some((10, 10)));
        assert_eq!(parse_content_range("bytes 10-9/*"), None);
        assert!(etag_matches("\"a\", W/\"b\"", "\"b\""));
        assert!(etag_matches("*", "\"x\""));
        assert!(!etag_matches("\"a\"", "\"b\""));
    }
}
