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

/// The variable that moves the control socket, for PID 1 and its clients alike (an absolute
/// path, taken as it is, not under the root).
pub const SOCKET_VARIABLE: &str = "BOSUN_CONTROL_SOCKET";

/// Where PID 1's control socket is: `BOSUN_CONTROL_SOCKET`, else `/run/bosun/control.sock`
/// under `root`.
pub fn socket_path(root: &Path) -> PathBuf {
    std::env::var_os(SOCKET_VARIABLE)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| root.join("run/bosun/control.sock"))
}
