//! The harness for the WebDAV tests: a running `bosun webdav` (killed on drop), a raw
//! HTTP/1.1 exchange, and a Digest client that keeps its nonce and counts.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bosun::webdav::digest;

pub const REALM: &str = "bosun test realm";
pub const USER: &str = "alice";
// No blanks: cadaver reads it from a .netrc.
pub const PASSWORD: &str = "s3cret-pw";

pub fn wait_until(what: &str, deadline: Duration, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + deadline;
    while Instant::now() < end {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

pub use crate::harness::free_port;

pub fn write_htdigest(path: &Path, realm: &str, user: &str, password: &str) {
    std::fs::write(
        path,
        format!("{user}:{realm}:{}\n", digest::ha1(user, realm, password)),
    )
    .unwrap();
}

/// A running `bosun webdav`, killed on drop.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub args: Vec<String>,
}

impl Server {
    pub fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("root")).unwrap();
        write_htdigest(&dir.path().join("htdigest"), REALM, USER, PASSWORD);
        Server::start_in(dir, extra)
    }

    pub fn start_in(dir: tempfile::TempDir, extra: &[&str]) -> Server {
        let port = free_port();
        let mut args = vec![
            "webdav".to_owned(),
            "--root".to_owned(),
            dir.path().join("root").display().to_string(),
            "--listen".to_owned(),
            format!("127.0.0.1:{port}"),
            "--realm".to_owned(),
            REALM.to_owned(),
            "--htdigest".to_owned(),
            dir.path().join("htdigest").display().to_string(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_bosun"))
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let end = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                panic!("bosun {args:?} exited with {status}: {err}");
            }
            assert!(
                Instant::now() < end,
                "bosun webdav did not start listening on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Server {
            child,
            port,
            dir,
            args,
        }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn client(&self) -> Client {
        Client {
            port: self.port,
            user: USER.into(),
            password: PASSWORD.into(),
            realm: REALM.into(),
            nonce: None,
            nc: 0,
            algorithm: digest::Algorithm::MD5,
            userhash: false,
        }
    }

    /// Stop the server and hand back its directory: a test that mounted a file system in it
    /// unmounts that first, else the directory cannot be removed and is left behind.
    pub fn into_dir(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }

    /// Stop and start again on the same directory (and a new port).
    pub fn restart(mut self) -> Server {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let extra: Vec<String> = self.args[9..].to_vec();
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        Server::start_in(dir, &extra)
    }
}

impl Server {
    /// Stop the server and return what it wrote on stderr.
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut err = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            let _ = pipe.read_to_string(&mut err);
        }
        err
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Send raw bytes and read one response (the connection is closed by `Connection: close`).
pub fn exchange(port: u16, raw: &[u8], head: bool) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(raw).unwrap();
    read_response(&mut BufReader::new(stream), head)
}

pub fn read_response(reader: &mut impl BufRead, head: bool) -> Response {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("bad status line {line:?}"))
        .parse()
        .unwrap();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').unwrap();
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let mut resp = Response {
        status,
        headers,
        body: Vec::new(),
    };
    if head || status == 304 || status == 204 || status == 100 {
        return resp;
    }
    if resp
        .header("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).unwrap();
            let n = usize::from_str_radix(size.trim(), 16).unwrap();
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            resp.body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(len) = resp.header("content-length") {
        let mut body = vec![0; len.parse().unwrap()];
        reader.read_exact(&mut body).unwrap();
        resp.body = body;
    }
    resp
}

/// A Digest client that keeps its nonce and counts.
pub struct Client {
    pub port: u16,
    pub user: String,
    pub password: String,
    pub realm: String,
    pub nonce: Option<String>,
    pub nc: u64,
    pub algorithm: digest::Algorithm,
    pub userhash: bool,
}

pub fn challenge_params(resp: &Response) -> Vec<(String, String)> {
    let value = resp
        .headers_named("www-authenticate")
        .into_iter()
        .find(|v| v.starts_with("Digest "))
        .expect("a Digest challenge");
    digest::parse_params(&value["Digest ".len()..]).unwrap()
}

pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

impl Client {
    pub fn authorization(&mut self, method: &str, target: &str) -> String {
        self.nc += 1;
        let h = self.algorithm.hash;
        let p = digest::DigestParams {
            username: if self.userhash {
                digest::userhash(h, &self.user, &self.realm)
            } else {
                self.user.clone()
            },
            realm: self.realm.clone(),
            nonce: self.nonce.clone().unwrap_or_default(),
            uri: target.to_owned(),
            response: String::new(),
            algorithm: self.algorithm,
            userhash: self.userhash,
            qop: "auth".into(),
            nc: self.nc,
            cnonce: "0a4f113b".into(),
            opaque: None,
        };
        let ha1 = digest::ha1_with(h, &self.user, &self.realm, &self.password);
        let response = digest::expected_response(&ha1, &p, method);
        format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{target}\", qop=auth, nc={:08x}, cnonce=\"{}\", response=\"{response}\", algorithm={}, userhash={}",
            p.username,
            p.realm,
            p.nonce,
            p.nc,
            p.cnonce,
            p.algorithm.name(),
            p.userhash
        )
    }

    pub fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let mut last = None;
        for _ in 0..2 {
            let mut extra: Vec<(String, String)> = headers
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect();
            if self.nonce.is_some() {
                extra.push(("Authorization".into(), self.authorization(method, target)));
            }
            let resp = exchange(
                self.port,
                &raw_request(self.port, method, target, &extra, body),
                method == "HEAD",
            );
            if resp.status == 401 {
                let params = challenge_params(&resp);
                let fresh = param(&params, "nonce").map(str::to_owned);
                if self.nonce != fresh {
                    self.nonce = fresh;
                    self.nc = 0;
                    last = Some(resp);
                    continue;
                }
            }
            return resp;
        }
        last.expect("a response")
    }
}

/// GET `target` with this `Authorization` header, on a connection of its own.
pub fn get_with(port: u16, target: &str, authorization: &str) -> Response {
    exchange(
        port,
        &raw_request(
            port,
            "GET",
            target,
            &[("Authorization".into(), authorization.to_owned())],
            b"",
        ),
        false,
    )
}

pub fn raw_request(
    port: u16,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Vec<u8> {
    let mut raw =
        format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    let mut has_length = false;
    for (k, v) in headers {
        has_length |=
            k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("transfer-encoding");
        raw.push_str(&format!("{k}: {v}\r\n"));
    }
    if !has_length {
        raw.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    raw.push_str("\r\n");
    let mut raw = raw.into_bytes();
    raw.extend_from_slice(body);
    raw
}

pub fn has(tool: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        println!("SKIP: {tool} not installed (apt-get install litmus cadaver davfs2 curl)");
    }
    found
}

pub fn list_tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        out.push(name.clone());
        if entry.file_type().unwrap().is_dir() {
            out.extend(
                list_tree(&entry.path())
                    .into_iter()
                    .map(|n| format!("{name}/{n}")),
            );
        }
    }
    out.sort();
    out
}

pub fn base64(text: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn nix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A davfs2 mount of a server's `/webdav/`, unmounted on drop (which uploads what davfs2
/// still holds). `None`, after a loud SKIP line, where davfs2 or FUSE is not available.
pub struct DavMount {
    pub dir: PathBuf,
    _work: tempfile::TempDir,
}

impl DavMount {
    pub fn mount(server: &Server) -> Option<DavMount> {
        if !has("mount.davfs") {
            return None;
        }
        if !Path::new("/dev/fuse").exists() || !nix_is_root() {
            println!("SKIP: davfs2 mount needs /dev/fuse and root");
            return None;
        }
        let work = tempfile::tempdir().unwrap();
        let mnt = work.path().join("mnt");
        let cache = work.path().join("cache");
        std::fs::create_dir_all(&mnt).unwrap();
        std::fs::create_dir_all(&cache).unwrap();
        // mount.davfs drops to its own user for the cache.
        for dir in [work.path(), cache.as_path()] {
            std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o777))
                .unwrap();
        }
        let secrets = work.path().join("secrets");
        let url = server.url("/webdav/");
        std::fs::write(&secrets, format!("{url} {USER} \"{PASSWORD}\"\n")).unwrap();
        std::fs::set_permissions(
            &secrets,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        let conf = work.path().join("davfs2.conf");
        std::fs::write(
            &conf,
            format!(
                // buf_size 64: davfs2 up to 1.7 cannot list directories on Linux 6.16 and
                // later without it (readdir fails with EINVAL before any request is sent).
                "secrets {}\ncache_dir {}\nuse_locks 1\ndelay_upload 0\nfile_refresh 1\ndir_refresh 1\nbuf_size 64\n",
                secrets.display(),
                cache.display()
            ),
        )
        .unwrap();
        let mount = Command::new("mount")
            .args([
                "-t",
                "davfs",
                "-o",
                &format!("conf={}", conf.display()),
                &url,
            ])
            .arg(&mnt)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        if !mount.status.success() {
            println!(
                "SKIP: davfs2 mount failed here (FUSE not allowed?): {}",
                String::from_utf8_lossy(&mount.stderr).trim()
            );
            return None;
        }
        Some(DavMount {
            dir: mnt,
            _work: work,
        })
    }
}

impl Drop for DavMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}
