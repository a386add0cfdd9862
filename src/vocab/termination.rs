//! How a process ended, as the reaper reports it and every owner of a child reads it (the
//! main command, hooks, generators, services). Part of the leaf vocabulary: no process is
//! waited for here ([`crate::init::reaper`] is the only waiter).

/// How a reaped process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// It called exit with this code.
    Exited(i32),
    /// It was killed by this signal number.
    Signaled(i32),
}
