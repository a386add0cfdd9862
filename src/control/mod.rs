//! The control socket: how `systemctl` and `initctl` talk to PID 1.
//!
//! One request per connection, one response: each a line of JSON ([`proto`]). The server side
//! ([`server`]) accepts connections in PID 1's event loop, checks the caller with SO_PEERCRED
//! (anyone may read; only root or bosun's own user may change anything) and hands each request
//! to the loop, which answers it from the engine. [`client`] is the other end.

pub mod client;
pub mod proto;
pub mod server;

use std::path::{Path, PathBuf};

/// Where PID 1's control socket is under `root`.
pub fn socket_path(root: &Path) -> PathBuf {
    root.join("run/bosun/control.sock")
}
