//! Services at run time: one unit's state machine, spawning, restart policy, and the
//! notification socket. Parsing unit files is the `unit` module's job, not this module's.

pub mod cgroup;
pub mod notify;
