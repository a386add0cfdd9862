//! The reaper: the ONLY caller of `waitpid` in bosun. It collects every exited child — ours or
//! an orphan reparented to us — and hands the statuses back by pid; routing them to their owner
//! is the caller's job. `Child::wait` and `tokio::process` are never used: each would race this
//! loop for the same statuses. The `waitpid` call itself is [`crate::sys::reap_one`], which
//! decodes deaths by real-time signals (nix's `WaitStatus` cannot).

use nix::errno::Errno;
use nix::sys::wait::WaitPidFlag;
use nix::unistd::Pid;

use crate::vocab::termination::Termination;

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
    use crate::sys::{Reaped, reap_one};
    let mut harvest = Harvest::default();
    loop {
        match reap_one() {
            Ok(Reaped::NoneEnded) => {
                harvest.children_left = true;
                return harvest;
            }
            // Stops and continues are not asked for (no WUNTRACED/WCONTINUED); skip if seen.
            Ok(reaped) => {
                if let Some((pid, termination)) = reaped.ended() {
                    harvest.reaped.push((Pid::from_raw(pid), termination));
                }
            }
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
