//! The client end: send one [`Request`], read one [`Response`].

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::de::DeserializeOwned;

use super::proto::{Call, Request, Response, VERSION};

/// Why a call did not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot connect to bosun at {path}: {source}")]
    Connect {
        path: String,
        source: std::io::Error,
    },
    #[error("lost the connection to bosun: {0}")]
    Io(#[from] std::io::Error),
    #[error("bosun sent an answer this client cannot read: {0}")]
    Decode(#[from] serde_json::Error),
}

/// How long a connection made to tell whether bosun runs is kept for the next call (bosun
/// gives a client 5 s to send its request).
const SPARE_FOR: std::time::Duration = std::time::Duration::from_secs(1);

thread_local! {
    /// A connection made only to tell whether bosun runs, kept for the first call to the same
    /// socket soon after: the client connects once where it connected twice.
    static SPARE: std::cell::RefCell<Option<(PathBuf, UnixStream, Instant)>> =
        const { std::cell::RefCell::new(None) };
}

/// Keep `stream`, connected to `socket`, for the next call to it (for a second at most).
pub fn keep_for_next_call(socket: &Path, stream: UnixStream) {
    SPARE.with_borrow_mut(|spare| *spare = Some((socket.to_owned(), stream, Instant::now())));
}

/// A connection to `socket`: the kept one when it is to that socket and fresh, else a new one.
fn connect(socket: &Path) -> std::io::Result<UnixStream> {
    if let Some((path, stream, made)) = SPARE.with_borrow_mut(Option::take)
        && path == socket
        && made.elapsed() < SPARE_FOR
    {
        return Ok(stream);
    }
    UnixStream::connect(socket)
}

/// Ask the bosun whose socket is `socket`.
pub fn call(socket: &Path, request: Request) -> Result<Response, ClientError> {
    call_as(socket, request)
}

/// [`call`], reading the answer as `T`: a client that needs part of an answer reads that part
/// (serde skips the rest of the line without keeping it).
pub fn call_as<T: DeserializeOwned>(socket: &Path, request: Request) -> Result<T, ClientError> {
    let mut stream = connect(socket).map_err(|source| ClientError::Connect {
        path: socket.display().to_string(),
        source,
    })?;
    let mut line = super::proto::to_line(&Call {
        version: VERSION,
        request,
    })?;
    line.push(b'\n');
    // A bosun that refuses the connection (too many open) answers before reading and closes:
    // the request then meets a closed socket, but the answer is there to be read.
    let sent = stream.write_all(&line);
    let mut answer = Vec::new();
    let read = read_line(&mut stream, &mut answer);
    match (sent, read) {
        (_, Ok(())) if !answer.is_empty() => Ok(serde_json::from_slice(&answer)?),
        (Err(e), _) | (Ok(()), Err(e)) => Err(e.into()),
        (Ok(()), Ok(())) => Ok(serde_json::from_slice(&answer)?),
    }
}

/// Read from `stream` into `into` until a newline or the end: straight into one buffer that
/// grows as the answer does (no second buffer, no check of the text as UTF-8 before the JSON
/// reader checks its strings).
fn read_line(stream: &mut UnixStream, into: &mut Vec<u8>) -> std::io::Result<()> {
    // Most answers are a few hundred bytes: room for 2 KiB first, then as much again as read.
    let mut chunk = 2048;
    loop {
        let start = into.len();
        into.resize(start + chunk, 0);
        chunk = (start + chunk).min(1 << 20);
        let read = stream.read(&mut into[start..]);
        into.truncate(start + *read.as_ref().unwrap_or(&0));
        match read {
            Ok(0) => return Ok(()),
            Ok(_) if into[start..].contains(&b'\n') => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Whether `response` is a bosun's refusal of a call it does not know, `op` (its
/// [`Request`] tag): a bosun before that call answers serde's words for an unknown variant.
/// The client then asks the older way.
pub fn unknown_op(response: &Response, op: &str) -> bool {
    matches!(response, Response::Error { message, .. }
        if message.starts_with(&format!("bad request: unknown variant `{op}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_that_told_bosun_runs_serves_the_next_call_to_its_socket() {
        let dir = std::env::temp_dir().join(format!("bosun-spare-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (one, two) = (dir.join("one.sock"), dir.join("two.sock"));
        let listeners = [&one, &two].map(|p| {
            let l = std::os::unix::net::UnixListener::bind(p).unwrap();
            l.set_nonblocking(true).unwrap();
            l
        });
        let pending =
            |l: &std::os::unix::net::UnixListener| std::iter::from_fn(|| l.accept().ok()).count();
        // Kept for `one`: the call to `one` connects no more.
        keep_for_next_call(&one, UnixStream::connect(&one).unwrap());
        let _stream = connect(&one).unwrap();
        assert_eq!(pending(&listeners[0]), 1);
        // Kept for `one`, asked for `two`: a connection of its own (the kept one is dropped).
        keep_for_next_call(&one, UnixStream::connect(&one).unwrap());
        let _other = connect(&two).unwrap();
        assert_eq!((pending(&listeners[0]), pending(&listeners[1])), (1, 1));
        let _again = connect(&one).unwrap();
        assert_eq!(pending(&listeners[0]), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_older_bosuns_refusal_of_a_new_call_is_recognised() {
        // What server::respond() answers for a call this bosun cannot decode.
        let line = r#"{"version":1,"request":{"op":"from-the-future","names":["a.service"]}}"#;
        let error = serde_json::from_str::<Call>(line).unwrap_err();
        let refusal = Response::Error {
            message: format!("bad request: {error}"),
            exit: 1,
        };
        assert!(unknown_op(&refusal, "from-the-future"), "{refusal:?}");
        // Another call's refusal, or another error, is not.
        assert!(!unknown_op(&refusal, "states"));
        let invalid = Response::Error {
            message: "Unit name a/b is not valid.".into(),
            exit: 1,
        };
        assert!(!unknown_op(&invalid, "states"));
        assert!(!unknown_op(&Response::Done, "states"));
    }
}
