//! The client end: send one [`Request`], read one [`Response`].

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

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

/// Ask the bosun whose socket is `socket`.
pub fn call(socket: &Path, request: Request) -> Result<Response, ClientError> {
    call_as(socket, request)
}

/// [`call`], reading the answer as `T`: a client that needs part of an answer reads that part
/// (serde skips the rest of the line without keeping it).
pub fn call_as<T: DeserializeOwned>(socket: &Path, request: Request) -> Result<T, ClientError> {
    let mut stream = UnixStream::connect(socket).map_err(|source| ClientError::Connect {
        path: socket.display().to_string(),
        source,
    })?;
    let mut line = serde_json::to_vec(&Call {
        version: VERSION,
        request,
    })?;
    line.push(b'\n');
    // A bosun that refuses the connection (too many open) answers before reading and closes:
    // the request then meets a closed socket, but the answer is there to be read.
    let sent = stream.write_all(&line);
    let mut answer = String::new();
    let read = BufReader::new(stream).read_line(&mut answer);
    match (sent, read) {
        (_, Ok(n)) if n > 0 => Ok(serde_json::from_str(&answer)?),
        (Err(e), _) | (Ok(()), Err(e)) => Err(e.into()),
        (Ok(()), Ok(_)) => Ok(serde_json::from_str(&answer)?),
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
