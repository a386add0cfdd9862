//! The WebDAV server behind `bosun webdav`: RFC 4918 classes 1 and 2 on hyper 1, Digest (and
//! optionally Basic) authentication against an htdigest file, every path confined beneath the
//! root. This file owns the configuration, the listener and runtime, the response body type,
//! the reading of request bodies (with the progress timeout) and the request gate (connection
//! caps from `limits`, server-root OPTIONS, authentication, path parsing, read-only mode); the
//! methods live in `methods`, `propfind` (its live property values in `live`) and
//! `lockmethods`, sendfile'd file bodies in `sendfile`.
//!
//! It runs as its own process (never inside PID 1), so it may use a multi-threaded runtime;
//! filesystem calls run under `block_in_place` or on blocking threads.

pub mod auth;
pub mod digest;
pub mod fs;
pub mod limits;
pub mod live;
pub mod locks;
// The handlers return `Result<Resp, Resp>` so a refusal is an early `?`; a response is moved
// once per request, so its size (152 bytes) does not matter.
#[allow(clippy::result_large_err)]
mod lockmethods;
#[allow(clippy::result_large_err)]
mod methods;
pub mod path;
#[allow(clippy::result_large_err)]
mod propfind;
pub mod props;
pub mod sendfile;
pub mod xml;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Request, Response, StatusCode};
use thiserror::Error;

use self::auth::{Authenticator, Verdict};
use self::fs::Root;
use self::limits::{Gate, Limits};
use self::locks::LockTable;
use self::path::{DavPath, PathError};
use self::props::Props;

/// Everything `bosun webdav` is told.
#[derive(Debug, Clone)]
pub struct Config {
    pub root: PathBuf,
    pub listen: SocketAddr,
    /// URL prefix, starting and ending with `/`.
    pub prefix: String,
    pub realm: String,
    pub htdigest: PathBuf,
    /// The SHA-256 twin of the htdigest file (`user:realm:sha256hex`); SHA-256 Digest is
    /// offered only while it exists.
    pub htdigest_sha256: PathBuf,
    pub allow_basic: bool,
    pub read_only: bool,
    pub nonce_lifetime: Duration,
    /// Largest XML request body accepted.
    pub max_xml_body: usize,
    pub limits: Limits,
}

/// Why the server could not start or stopped.
#[derive(Debug, Error)]
pub enum WebdavError {
    #[error(
        "cannot serve {path}: not a readable directory or the kernel lacks openat2 (Linux 5.6+)"
    )]
    Root {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Auth(#[from] auth::AuthError),
    #[error("cannot listen on {addr}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the webdav runtime")]
    Runtime(#[source] std::io::Error),
}

/// Shared state of a running server.
#[derive(Debug)]
pub struct Server {
    pub cfg: Config,
    pub root: Root,
    pub auth: Authenticator,
    pub locks: LockTable,
    pub props: Props,
}

/// Check the configuration, bind, and serve until killed.
pub fn run(cfg: Config) -> Result<(), WebdavError> {
    let root = Root::open(&cfg.root).map_err(|source| WebdavError::Root {
        path: cfg.root.clone(),
        source,
    })?;
    // Before serving, so no upload of this process can be mistaken for a leftover.
    let removed = root.sweep_stale_uploads(std::time::SystemTime::now());
    if removed > 0 {
        crate::log::warn(format_args!(
            "webdav: removed {removed} temporary file(s) left by interrupted uploads under {}",
            root.real().display()
        ));
    }
    let auth = Authenticator::new(
        &cfg.realm,
        &cfg.htdigest,
        &cfg.htdigest_sha256,
        cfg.allow_basic,
        cfg.nonce_lifetime,
    )?;
    let listener =
        std::net::TcpListener::bind(cfg.listen).map_err(|source| WebdavError::Listen {
            addr: cfg.listen,
            source,
        })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| WebdavError::Listen {
            addr: cfg.listen,
            source,
        })?;
    let addr = listener.local_addr().unwrap_or(cfg.listen);
    crate::log::info(format_args!(
        "webdav: serving {} at http://{addr}{} (realm {:?})",
        root.real().display(),
        cfg.prefix,
        cfg.realm
    ));
    if cfg.allow_basic {
        crate::log::warn(format_args!(
            "webdav: Basic authentication is on (--allow-basic): passwords cross the network in \
             clear text unless TLS terminates in front of {addr} (an OpenShift edge route, a \
             reverse proxy)"
        ));
    }
    if auth.offers_sha256() {
        crate::log::info(format_args!(
            "webdav: offering SHA-256 Digest with the users of {}",
            cfg.htdigest_sha256.display()
        ));
    }
    let gate = Gate::new(&cfg.limits);
    let locks = LockTable::new(cfg.limits.max_locks);
    let server = Arc::new(Server {
        cfg,
        root,
        auth,
        locks,
        props: Props::default(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(WebdavError::Runtime)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|source| WebdavError::Listen { addr, source })?;
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(conn) => conn,
                Err(err) => {
                    // EMFILE and friends: back off instead of spinning.
                    crate::log::warn(format_args!("webdav: accept on {addr} failed: {err}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let slot = match gate.enter(peer.ip()) {
                Ok(slot) => slot,
                Err(why) => {
                    crate::log::debug(format_args!(
                        "webdav: turning away a connection from {peer}: {why:?}"
                    ));
                    tokio::spawn(limits::refuse(stream, why));
                    continue;
                }
            };
            let server = server.clone();
            tokio::spawn(async move {
                let _slot = slot;
                let regions = sendfile::Regions::default();
                let io =
                    sendfile::Conn::new(stream, regions.clone(), server.cfg.limits.body_timeout);
                let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                    let server = server.clone();
                    req.extensions_mut().insert(regions.clone());
                    async move { Ok::<_, Infallible>(handle(&server, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .writev(true)
                    .header_read_timeout(Duration::from_secs(30))
                    .serve_connection(hyper_util::rt::TokioIo::new(io), service)
                    .await;
            });
        }
    })
}

/// A response body: nothing, bytes, or a file streamed from a blocking reader.
#[derive(Debug)]
pub enum DavBody {
    Bytes(Option<Bytes>),
    Stream(tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>, u64),
    /// Of a length not known in advance: sent chunked.
    Chunked(tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>),
    /// A file region sent with sendfile(2) by the connection ([`sendfile`]).
    File(sendfile::FileBody),
}

impl Body for DavBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            DavBody::Bytes(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            DavBody::Stream(rx, _) | DavBody::Chunked(rx) => rx
                .poll_recv(cx)
                .map(|item| item.map(|r| r.map(Frame::data))),
            DavBody::File(file) => Poll::Ready(file.next_chunk().map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            DavBody::Bytes(b) => b.is_none(),
            DavBody::File(file) => file.is_done(),
            DavBody::Stream(..) | DavBody::Chunked(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            DavBody::Bytes(Some(b)) => SizeHint::with_exact(b.len() as u64),
            DavBody::Bytes(None) => SizeHint::with_exact(0),
            DavBody::Stream(_, len) => SizeHint::with_exact(*len),
            DavBody::Chunked(_) => SizeHint::default(),
            DavBody::File(file) => SizeHint::with_exact(file.total()),
        }
    }
}

pub type Resp = Response<DavBody>;

/// An empty response with `status`.
pub fn status(code: u16) -> Resp {
    let mut resp = Response::new(DavBody::Bytes(None));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp
}

/// A response with an XML body.
pub fn xml_response(code: u16, body: String) -> Resp {
    let mut resp = Response::new(DavBody::Bytes(Some(Bytes::from(body))));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    resp
}

/// A `DAV:error` response naming a precondition (`propfind-finite-depth`, ...).
pub fn error_response(code: u16, condition: &str) -> Resp {
    xml_response(
        code,
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\"><D:{condition}/></D:error>\n"
        ),
    )
}

/// A `DAV:error` response for 423 naming the locked resource.
pub fn locked_response(server: &Server, root: &DavPath) -> Resp {
    let href = xml::escape(
        &root.href(
            &server.cfg.prefix,
            server
                .root
                .stat(root)
                .ok()
                .flatten()
                .is_some_and(|m| m.is_dir),
        ),
    );
    xml_response(
        423,
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\"><D:lock-token-submitted><D:href>{href}</D:href></D:lock-token-submitted></D:error>\n"
        ),
    )
}

/// Methods this server implements.
pub const ALLOW: &str =
    "OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK";
const ALLOW_READ_ONLY: &str = "OPTIONS, GET, HEAD, PROPFIND";

fn is_write(method: &str) -> bool {
    matches!(
        method,
        "PUT" | "DELETE" | "MKCOL" | "COPY" | "MOVE" | "PROPPATCH" | "LOCK" | "UNLOCK"
    )
}

/// The OPTIONS answer (also at the server root, without authentication, as the Windows
/// Mini-Redirector needs; that one touches no file).
pub fn options_response(server: &Server) -> Resp {
    let mut resp = status(200);
    let h = resp.headers_mut();
    h.insert("dav", HeaderValue::from_static("1, 2"));
    h.insert("ms-author-via", HeaderValue::from_static("DAV"));
    h.insert(
        "allow",
        HeaderValue::from_static(if server.cfg.read_only {
            ALLOW_READ_ONLY
        } else {
            ALLOW
        }),
    );
    h.insert("content-length", HeaderValue::from_static("0"));
    resp
}

/// What every handler gets: the request's parts once the gate has passed it.
#[derive(Debug)]
pub struct Req {
    pub method: String,
    pub path: DavPath,
    pub headers: HeaderMap,
    /// The authenticated user.
    pub user: String,
    /// Where a file body's regions go on this connection (always set by the server).
    pub regions: Option<sendfile::Regions>,
}

impl Req {
    /// A header as text (`None` when absent or not visible ASCII).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// 401 with every Digest challenge, and Basic's when allowed.
fn unauthorized(server: &Server, stale: bool) -> Resp {
    let mut resp = status(401);
    let mut values = server.auth.challenges(stale);
    if server.auth.allow_basic() {
        values.push(format!(
            "Basic realm=\"{}\"",
            server.auth.realm().replace('"', "")
        ));
    }
    for value in values {
        if let Ok(value) = HeaderValue::from_str(&value) {
            resp.headers_mut().append("www-authenticate", value);
        }
    }
    resp
}

async fn handle(server: &Arc<Server>, req: Request<Incoming>) -> Resp {
    let method = req.method().as_str().to_owned();
    let path_only = req.uri().path().to_owned();
    if method == "OPTIONS" && (path_only == "/" || path_only == "*") {
        return options_response(server);
    }
    let target = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_else(|| path_only.clone());
    let authorization = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    let user = match server.auth.check(&method, &target, authorization) {
        Verdict::Granted(user) => user,
        Verdict::Challenge { stale } => return unauthorized(server, stale),
    };
    let path = match path::parse_target(&path_only, &server.cfg.prefix) {
        Ok(p) => p,
        Err(PathError::OutsidePrefix { .. } | PathError::Internal { .. }) => return status(404),
        Err(_) => return status(400),
    };
    if server.cfg.read_only && is_write(&method) {
        return status(403);
    }
    let (parts, body) = req.into_parts();
    let req = Req {
        method,
        path,
        headers: parts.headers,
        user,
        regions: parts.extensions.get::<sendfile::Regions>().cloned(),
    };
    let mut resp = match req.method.as_str() {
        "OPTIONS" => options_response(server),
        "GET" | "HEAD" => methods::get(server, &req),
        "PUT" => methods::put(server, &req, body).await,
        "DELETE" => methods::delete(server, &req, body).await,
        "MKCOL" => methods::mkcol(server, &req, body).await,
        "COPY" | "MOVE" => methods::copy_move(server, &req, body).await,
        "PROPFIND" => propfind::propfind(server, &req, body).await,
        "PROPPATCH" => propfind::proppatch(server, &req, body).await,
        "LOCK" => lockmethods::lock(server, &req, body).await,
        "UNLOCK" => lockmethods::unlock(server, &req, body).await,
        _ => {
            let mut resp = status(405);
            resp.headers_mut()
                .insert("allow", HeaderValue::from_static(ALLOW));
            resp
        }
    };
    if req.method != "HEAD"
        && req.method != "GET"
        && !resp.headers().contains_key("content-length")
        && let DavBody::Bytes(b) = resp.body()
    {
        let len = b.as_ref().map_or(0, Bytes::len);
        resp.headers_mut()
            .insert("content-length", HeaderValue::from(len));
    }
    crate::log::debug(format_args!(
        "webdav: {} {} {} -> {}",
        req.user,
        req.method,
        req.path.href(&server.cfg.prefix, false),
        resp.status().as_u16()
    ));
    resp
}

/// The next data of a request body: `Ok(None)` at its end. `Err` is the response to send:
/// 408 (and the connection closed) when no data came for `limits.body_timeout`, 400 when the
/// client broke the body off.
pub async fn next_frame(server: &Server, body: &mut Incoming) -> Result<Option<Bytes>, Resp> {
    use http_body_util::BodyExt;
    loop {
        match tokio::time::timeout(server.cfg.limits.body_timeout, body.frame()).await {
            Err(_) => {
                let mut resp = status(408);
                resp.headers_mut()
                    .insert("connection", HeaderValue::from_static("close"));
                return Err(resp);
            }
            Ok(None) => return Ok(None),
            Ok(Some(Err(_))) => return Err(status(400)),
            // Trailers carry no data: wait for the end.
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    return Ok(Some(data));
                }
            }
        }
    }
}

/// Read a whole XML request body, at most `cfg.max_xml_body` bytes. `Err` is the response to
/// send (413 when too large, 408 when it stalls).
pub async fn read_body(
    server: &Server,
    headers: &HeaderMap,
    mut body: Incoming,
) -> Result<Bytes, Resp> {
    let limit = server.cfg.max_xml_body;
    let declared = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(status(413));
    }
    let mut out = bytes::BytesMut::new();
    while let Some(data) = next_frame(server, &mut body).await? {
        if out.len() + data.len() > limit {
            return Err(status(413));
        }
        out.extend_from_slice(&data);
    }
    Ok(out.freeze())
}

/// An empty `code` response (503, 429) with `Retry-After`.
pub fn retry_later(code: u16) -> Resp {
    let mut resp = status(code);
    resp.headers_mut()
        .insert("retry-after", HeaderValue::from_static("10"));
    resp
}

/// Run blocking filesystem work from async code.
pub fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}
