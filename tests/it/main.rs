//! bosun's one integration-test binary. Every test that runs bosun as PID 1 does it in fresh PID
//! and mount namespaces (private /run and /tmp) through [`harness::Pid1`]; nothing here touches
//! the host's /run, /etc/systemd or running services.

// Test code: a failed unwrap is a failed test, reported with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod apt;
mod calendar;
mod cgroup;
mod config;
mod containers;
mod control;
mod corpus;
mod ctlcompat;
mod debroot;
mod fixtures;
mod found;
mod generators;
mod harness;
mod hostile;
mod ingest;
mod initctl;
mod installer;
mod journal;
mod journalctl;
mod logdirs;
mod namespace;
mod netns;
mod notify;
mod output;
mod paths;
mod persist;
mod pid1;
mod privs;
mod provided;
mod removeipc;
mod repo;
mod resilience;
mod sandboxed;
mod seccomp;
mod security;
mod services;
mod shutdown_stress;
mod sockets;
mod spawn;
mod ssh;
mod state;
mod systemctl;
mod sysv;
mod timers;
mod units;
mod userns;
mod verbs;
mod volume;
mod webdav;
