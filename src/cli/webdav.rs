//! `bosun webdav [OPTIONS]`: argument parsing for the stand-alone WebDAV server, turned into
//! [`crate::webdav::Config`]. Defaults follow the OpenShift convention (DESIGN.md): realm from
//! `WEBDAV_AUTHENTICATION_REALM`, the htdigest secret under /opt/app-root/secrets/webdav.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::vocab::exit::Exit;
use crate::webdav::limits::Limits;
use crate::webdav::{self, Config};

const HELP: &str = "\
bosun webdav — serve a directory over WebDAV (RFC 4918 classes 1 and 2) with Digest auth

Usage:
  bosun webdav [OPTIONS]

Options:
  --root DIR             directory to serve (default /opt/app-root/src)
  --listen ADDR          address and port to listen on (default 0.0.0.0:8081)
  --prefix PATH          URL path the directory appears under (default /webdav/)
  --realm REALM          authentication realm (default $WEBDAV_AUTHENTICATION_REALM)
  --htdigest FILE        htdigest user file (MD5), re-read when it changes
                         (default /opt/app-root/secrets/webdav/.htdigest)
  --htdigest-sha256 FILE the same users with SHA-256 hashes (`user:realm:sha256hex`);
                         SHA-256 Digest is offered beside MD5 while it exists
                         (default: the htdigest file's name + .sha256)
  --allow-basic          also accept Basic auth (checked against the same files). Basic
                         sends the password in clear text: use it only behind TLS (an
                         OpenShift edge route, a reverse proxy); the server says so at start
  --read-only            refuse every method that changes something
  --nonce-lifetime DUR   how long a Digest nonce stays fresh (default 5min; e.g. 30s)
  --max-xml-body BYTES   largest XML request body accepted, else 413 (default 1048576)

Limits (no client can hold the server; each refusal has its own status code):
  --body-timeout DUR     longest wait for the next bytes of a request body: then 408,
                         the connection is closed and a PUT's temporary file removed,
                         the old file intact; and for the client to take the next bytes
                         of a response: then the connection is closed (default 30s).
                         Headers, and an idle connection's next request: 30s, then closed
  --max-connections N    connections open at once, all clients together; beyond,
                         503 with Retry-After (default 512)
  --max-connections-per-ip N
                         connections open at once from one client address; beyond,
                         429 with Retry-After (default 64). Behind a proxy or an
                         OpenShift route every client has the proxy's address
  --max-locks N          locks held at once; beyond, LOCK gets 503 (default 20000)
  --max-lock-owner BYTES largest DAV:owner of a LOCK; beyond, 413 (default 4096)

  --tls-cert FILE, --tls-key FILE
                         not built in: terminate TLS in front (an OpenShift edge route,
                         a reverse proxy); bosun refuses these options
  -v, --verbose          say more (repeatable: -vv logs every request)
  -h, --help             print this help and exit
";

/// `bosun webdav ...` with `args` after the word `webdav`.
pub fn main(args: &[OsString]) -> Exit {
    let env = |name: &str| std::env::var(name).ok();
    match parse(args, &env) {
        Ok(None) => {
            // Only the help is printed: it may end on a closed pipe as any command does.
            crate::sys::die_on_sigpipe();
            print!("{HELP}");
            Exit::Success
        }
        Ok(Some((cfg, verbosity))) => {
            crate::log::set_verbosity(verbosity);
            match webdav::run(cfg) {
                Ok(()) => Exit::Success,
                Err(err) => {
                    crate::log::error(format_args!("webdav: {}", crate::log::error_chain(&err)));
                    Exit::Failure
                }
            }
        }
        Err(message) => {
            crate::log::error(format_args!("webdav: {message}"));
            eprintln!("Try 'bosun webdav --help' for more information.");
            Exit::Usage
        }
    }
}

/// A positive number given to option `name`.
fn count(name: &str, v: &str) -> Result<usize, String> {
    v.parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{name} {v:?}: expected a positive number"))
}

fn parse(
    args: &[OsString],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<(Config, u8)>, String> {
    let mut cfg = Config {
        root: PathBuf::from("/opt/app-root/src"),
        listen: SocketAddr::from(([0, 0, 0, 0], 8081)),
        prefix: "/webdav/".to_owned(),
        realm: env("WEBDAV_AUTHENTICATION_REALM").unwrap_or_default(),
        htdigest: PathBuf::from("/opt/app-root/secrets/webdav/.htdigest"),
        htdigest_sha256: PathBuf::new(),
        allow_basic: false,
        read_only: false,
        nonce_lifetime: Duration::from_secs(300),
        max_xml_body: 1 << 20,
        limits: Limits::default(),
    };
    let mut verbosity: u8 = 1;
    let mut i = 0;
    while i < args.len() {
        let arg = args[i]
            .to_str()
            .ok_or_else(|| format!("argument {:?} is not UTF-8", args[i]))?;
        i += 1;
        let (name, attached) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
            _ => (arg, None),
        };
        let mut value = || -> Result<String, String> {
            if let Some(v) = attached.clone() {
                return Ok(v);
            }
            let v = args
                .get(i)
                .and_then(|v| v.to_str())
                .ok_or_else(|| format!("option {name} needs a value"))?;
            i += 1;
            Ok(v.to_owned())
        };
        match name {
            "--root" => cfg.root = PathBuf::from(value()?),
            "--listen" => {
                let v = value()?;
                cfg.listen = v.parse().map_err(|_| {
                    format!("--listen {v:?}: expected ADDRESS:PORT such as 0.0.0.0:8081")
                })?;
            }
            "--prefix" => {
                let v = value()?;
                if !v.starts_with('/') || v.contains("..") || v.contains('%') {
                    return Err(format!(
                        "--prefix {v:?}: expected an absolute URL path such as /webdav/"
                    ));
                }
                cfg.prefix = if v.ends_with('/') { v } else { format!("{v}/") };
            }
            "--realm" => cfg.realm = value()?,
            "--htdigest" => cfg.htdigest = PathBuf::from(value()?),
            "--htdigest-sha256" => cfg.htdigest_sha256 = PathBuf::from(value()?),
            "--allow-basic" => cfg.allow_basic = true,
            "--read-only" => cfg.read_only = true,
            "--nonce-lifetime" => {
                let v = value()?;
                cfg.nonce_lifetime = crate::config::parse_duration(&v)
                    .map_err(|why| format!("--nonce-lifetime {v:?}: {why}"))?;
            }
            "--max-xml-body" => cfg.max_xml_body = count(name, &value()?)?,
            "--body-timeout" => {
                let v = value()?;
                cfg.limits.body_timeout = crate::config::parse_duration(&v)
                    .ok()
                    .filter(|d| !d.is_zero())
                    .ok_or_else(|| {
                        format!("--body-timeout {v:?}: expected a duration such as 30s")
                    })?;
            }
            "--max-connections" => cfg.limits.max_connections = count(name, &value()?)?,
            "--max-connections-per-ip" => {
                cfg.limits.max_connections_per_ip = count(name, &value()?)?;
            }
            "--max-locks" => cfg.limits.max_locks = count(name, &value()?)?,
            "--max-lock-owner" => cfg.limits.max_lock_owner = count(name, &value()?)?,
            "--tls-cert" | "--tls-key" => {
                return Err(format!(
                    "{name}: TLS is not built in; terminate TLS in front (an OpenShift edge route or a reverse proxy)"
                ));
            }
            "--verbose" => verbosity = verbosity.saturating_add(1).min(3),
            v if v.len() > 1 && v.starts_with('-') && v[1..].bytes().all(|b| b == b'v') => {
                let more = u8::try_from(v.len() - 1).unwrap_or(3);
                verbosity = verbosity.saturating_add(more).min(3);
            }
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    if cfg.realm.is_empty() {
        return Err("no realm: set WEBDAV_AUTHENTICATION_REALM or pass --realm".to_owned());
    }
    if cfg.htdigest_sha256.as_os_str().is_empty() {
        let mut twin = cfg.htdigest.clone().into_os_string();
        twin.push(".sha256");
        cfg.htdigest_sha256 = PathBuf::from(twin);
    }
    Ok(Some((cfg, verbosity)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str], env: &[(&str, &str)]) -> Result<Option<(Config, u8)>, String> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        parse(&args, &|n| {
            env.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_follow_openshift() {
        let (cfg, _) = run(&[], &[("WEBDAV_AUTHENTICATION_REALM", "r")])
            .unwrap()
            .unwrap();
        assert_eq!(cfg.realm, "r");
        assert_eq!(cfg.root, PathBuf::from("/opt/app-root/src"));
        assert_eq!(cfg.listen.to_string(), "0.0.0.0:8081");
        assert_eq!(cfg.prefix, "/webdav/");
        assert_eq!(
            cfg.htdigest,
            PathBuf::from("/opt/app-root/secrets/webdav/.htdigest")
        );
        assert_eq!(
            cfg.htdigest_sha256,
            PathBuf::from("/opt/app-root/secrets/webdav/.htdigest.sha256")
        );
        let (cfg, _) = run(&["--realm=r", "--htdigest-sha256", "/s"], &[])
            .unwrap()
            .unwrap();
        assert_eq!(cfg.htdigest_sha256, PathBuf::from("/s"));
    }

    #[test]
    fn options_and_errors() {
        let (cfg, _) = run(
            &[
                "--realm=x",
                "--prefix",
                "/dav",
                "--listen",
                "127.0.0.1:9",
                "--nonce-lifetime",
                "2s",
                "--read-only",
            ],
            &[],
        )
        .unwrap()
        .unwrap();
        assert_eq!(cfg.prefix, "/dav/");
        assert_eq!(cfg.nonce_lifetime, Duration::from_secs(2));
        assert!(cfg.read_only);
        assert_eq!(cfg.limits, Limits::default());
        let (cfg, _) = run(
            &[
                "--realm=x",
                "--body-timeout=2s",
                "--max-connections",
                "7",
                "--max-connections-per-ip=3",
                "--max-locks=5",
                "--max-lock-owner=9",
            ],
            &[],
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            cfg.limits,
            Limits {
                body_timeout: Duration::from_secs(2),
                max_connections: 7,
                max_connections_per_ip: 3,
                max_locks: 5,
                max_lock_owner: 9,
            }
        );
        for bad in [
            "--max-locks=0",
            "--max-connections=x",
            "--body-timeout=0s",
            "--max-xml-body=-1",
        ] {
            assert!(
                run(&["--realm=x", bad], &[])
                    .unwrap_err()
                    .contains(bad.split('=').next().unwrap()),
                "{bad}"
            );
        }
        assert!(run(&[], &[]).unwrap_err().contains("realm"));
        assert!(
            run(&["--realm", "x", "--listen", "nope"], &[])
                .unwrap_err()
                .contains("--listen")
        );
        assert!(
            run(&["--realm", "x", "--tls-cert", "c"], &[])
                .unwrap_err()
                .contains("TLS is not built in")
        );
        assert!(run(&["--bogus"], &[]).unwrap_err().contains("--bogus"));
        assert!(run(&["--help"], &[]).unwrap().is_none());
    }
}
