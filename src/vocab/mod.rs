//! The leaf vocabulary: the words every layer shares and that use nothing of bosun's own —
//! signal names and numbers ([`signal`]), how a process ended ([`termination`]), how bosun
//! itself ends ([`exit`]), 128-bit ids ([`id`]), wall-clock and civil-date helpers ([`time`]), and system calls ([`syscall`]). Everything may
//! use this module; it must not use any other module of the crate (a repository test,
//! `tests/it/repo.rs`, holds it to that). systemd's special units are vocabulary too but live
//! with the unit files they stand in for, in [`crate::unit::special`].
//!
//! Why "vocab" and not "base" or "common": it holds nouns and their spelling, not shared
//! machinery; a grab-bag name would invite the helpers that belong to a layer above.

pub mod capability;
pub mod emergency;
pub mod exit;
pub mod id;
pub mod mountinfo;
pub mod signal;
pub mod size;
pub mod syscall;
#[rustfmt::skip]
pub mod syscall_table;
pub mod termination;
pub mod text;
pub mod time;
