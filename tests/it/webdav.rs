//! `bosun webdav` end to end: the real binary on 127.0.0.1 with a temporary root and htdigest
//! file, driven by a raw HTTP/1.1 client (so paths reach the server unnormalised), by litmus,
//! cadaver and curl, and by a davfs2 mount where the machine allows one. Tools that are not
//! installed make their test print a loud SKIP line, never pass silently.

// Test code: a failed set-up step should panic with its cause.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod clients;
mod compat;
mod harness;
mod limits;
mod load;
mod locks;
mod matrix;
mod protocol;
mod security;
