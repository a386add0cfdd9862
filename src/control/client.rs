//! The client end: send one [`Request`], read one [`Response`].

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

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
