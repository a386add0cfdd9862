//! Services at run time: the notification socket ([`notify`]), per-unit cgroups ([`cgroup`]),
//! process tracking ([`procs`], and the keepers of [`keeper`]), the run's variables for its commands ([`environment`]),
//! the state machine of one service ([`state`], fed by [`spec`], named by [`status`]). Parsing unit files is the `unit` module's job, not this module's.

pub mod bpf_tree;
pub mod cgroup;
pub mod child;
pub mod datagram;
pub mod environment;
pub mod exec_properties;
pub mod filter_cache;
pub mod ipc;
pub mod janitor;
pub mod keeper;
pub mod limits;
pub mod listen;
pub mod namespace;
pub mod netns;
pub mod notify;
pub mod privs;
pub mod procs;
pub mod restrict;
pub mod seccomp;
pub mod security;
pub mod spawn;
pub mod spec;
pub mod state;
pub mod status;
pub mod userns;
