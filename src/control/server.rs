//! The server end, in PID 1: bind the socket (replacing a stale one), accept connections in
//! small tasks of PID 1's thread, check each caller's credentials, and pass each request to
//! the event loop as an [`Incoming`] it answers through `reply`.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

use super::proto::{Call, Request, Response, VERSION};

/// A request's longest line: a call names units, never megabytes.
const MAX_CALL: u64 = 1024 * 1024;

/// One request for the event loop.
#[derive(Debug)]
pub struct Incoming {
    pub request: Request,
    /// The caller's uid (SO_PEERCRED).
    pub uid: u32,
    pub reply: oneshot::Sender<Response>,
}

/// Whether a request changes anything (and so needs root or bosun's own uid).
pub fn changes_state(request: &Request) -> bool {
    !matches!(
        request,
        Request::Units { .. } | Request::System | Request::Overview | Request::Logs { .. }
    ) && !matches!(request, Request::Environment { set, unset } if set.is_empty() && unset.is_empty())
}

/// Bind the control socket at `path`: its directory is created, a stale socket (a file no
/// one listens on) is replaced; a socket someone answers on is another bosun's, an error.
pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!("another bosun answers on {}", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    // Anyone may connect and read; what they may change is decided per call by uid.
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o666))?;
    Ok(listener)
}

/// Accept connections forever, each in its own task.
/// The socket file this bosun bound, to remove at exit unless another bosun has replaced it.
#[derive(Debug)]
pub struct Bound {
    path: PathBuf,
    identity: (u64, u64),
}

impl Bound {
    /// The socket just bound at `path`.
    pub fn of(path: &Path) -> Option<Self> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        Some(Self {
            path: path.to_owned(),
            identity: (meta.dev(), meta.ino()),
        })
    }

    /// Remove the file if it is still the one bound; clients then say bosun is not running
    /// instead of failing to connect.
    pub fn remove(&self) {
        if let Ok(meta) = std::fs::symlink_metadata(&self.path)
            && (meta.dev(), meta.ino()) == self.identity
            && let Err(e) = std::fs::remove_file(&self.path)
        {
            crate::log::debug(format_args!("cannot remove {}: {e}", self.path.display()));
        }
    }
}

/// Accept connections on `listener` and pass each call to PID 1's loop through `calls`.
pub async fn serve(listener: UnixListener, calls: mpsc::Sender<Incoming>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(answer(stream, calls.clone()));
            }
            Err(e) => {
                crate::log::warn(format_args!("control socket: accept failed: {e}"));
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

async fn answer(stream: UnixStream, calls: mpsc::Sender<Incoming>) {
    let Ok(cred) = stream.peer_cred() else { return };
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    // A client that connects and closes (systemctl checking that bosun runs) reads 0 bytes.
    match BufReader::new(read.take(MAX_CALL))
        .read_line(&mut line)
        .await
    {
        Ok(0) | Err(_) => return,
        Ok(_) => {}
    }
    let response = match serde_json::from_str::<Call>(&line) {
        Ok(call) if call.version != VERSION => Response::Error {
            message: format!(
                "this bosun speaks control protocol {VERSION}, the client {}",
                call.version
            ),
            exit: 1,
        },
        Ok(call) => {
            let (reply, answer) = oneshot::channel();
            let incoming = Incoming {
                request: call.request,
                uid: cred.uid(),
                reply,
            };
            if calls.send(incoming).await.is_err() {
                return;
            }
            match answer.await {
                Ok(r) => r,
                Err(_) => Response::Error {
                    message: "bosun is shutting down".into(),
                    exit: 1,
                },
            }
        }
        Err(e) => Response::Error {
            message: format!("bad request: {e}"),
            exit: 1,
        },
    };
    if let Ok(mut bytes) = serde_json::to_vec(&response) {
        bytes.push(b'\n');
        let _ = write.write_all(&bytes).await;
    }
}
