//! The reaper: the ONLY caller of `waitpid` in bosun. It collects every exited child — ours or
//! an orphan reparented to us — and hands the statuses back by pid; routing them to their owner
//! is the caller's job. `Child::wait` and `tokio::process` are never used: each would race this
//! loop for the same statuses.

use nix::errno::Errno;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

/// How a reaped process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// It called exit with this code.
    Exited(i32),
    /// It was killed by this signal number.
    Signaled(i32),
}

/// What one pass of the reaper found.
#[derive(Debug, Default)]
pub struct Harvest {
    /// Every process reaped in this pass, in the order the kernel returned them.
    pub reaped: Vec<(Pid, Termination)>,
    /// False once the kernel says we have no children left at all (`ECHILD`): every process we
    /// started, and every orphan handed to us, is gone.
    pub children_left: bool,
}

/// Reap every child that has exited, without blocking.
pub fn reap_all() -> Harvest {
    let mut harvest = Harvest::default();
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) => {
                harvest.reaped.push((pid, Termination::Exited(code)));
            }
            Ok(WaitStatus::Signaled(pid, signal, _core)) => {
                harvest
                    .reaped
                    .push((pid, Termination::Signaled(signal as i32)));
            }
            Ok(WaitStatus::StillAlive) => {
                harvest.children_left = true;
                return harvest;
            }
            // Stops and continues are not asked for (no WUNTRACED/WCONTINUED); skip if seen.
            Ok(_) => {}
            Err(Errno::EINTR) => {}
            Err(Errno::ECHILD) => {
                harvest.children_left = false;
                return harvest;
            }
            Err(errno) => {
                // waitpid(-1, WNOHANG) can fail otherwise only with EINVAL, which would be a bug
                // here. Report it and behave as if children remain, so shutdown still waits.
                crate::log::error(format_args!("waitpid failed: {errno}"));
                harvest.children_left = true;
                return harvest;
            }
        }
    }
}

/// What [`wait_for`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waited {
    Ended(Termination),
    /// Still running at the deadline.
    Running,
    /// Not our child (any more): nothing to wait for.
    Gone,
}

/// Wait up to `deadline` for our child `pid` (work PID 1 does before or outside its loop, such
/// as running generators) and reap it. Only that child is reaped: other statuses stay for
/// [`reap_all`].
pub fn wait_for(pid: Pid, deadline: std::time::Instant) -> Waited {
    loop {
        match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => return Waited::Ended(Termination::Exited(code)),
            Ok(WaitStatus::Signaled(_, signal, _)) => {
                return Waited::Ended(Termination::Signaled(signal as i32));
            }
            Err(Errno::EINTR) | Ok(_) => {}
            Err(_) => return Waited::Gone,
        }
        if std::time::Instant::now() >= deadline {
            return Waited::Running;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// Whether we have any child at all (running or not yet reaped), without reaping.
pub fn children_exist() -> bool {
    use nix::sys::wait::Id;
    use nix::sys::wait::waitid;
    !matches!(
        waitid(
            Id::All,
            WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT
        ),
        Err(Errno::ECHILD)
    )
}
