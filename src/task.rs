//! What PID 1 does about its own bugs: a panic in a handler of the loop is caught here and
//! reported to the loop (which then shuts down in order and exits 70), and a panic in a task
//! spawned on the loop's thread (the control server, an output reader) is caught inside the task
//! and reported on a channel the loop reads. The panic hook (`cli::install_panic_hook`) has
//! already printed the message and its location when either arrives here.
//!
//! Debug builds only: [`inject`] panics at a named point when `BOSUN_TEST_PANIC` lists it, so the
//! integration tests can prove the above on a real PID 1. Release builds have no such switch.
//! Used by the loop ([`crate::init`]) and by the boot phase's hook runner ([`crate::boot`]),
//! which spawn output readers; it knows neither. It must not decide what a panic leads to: the
//! loop does.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::task::Poll;

use tokio::sync::mpsc;

/// A spawned task that panicked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskPanic {
    pub task: Task,
}

/// Which task: the loop restores some and shuts down for the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Task {
    /// The control socket's accept loop: the loop binds it again.
    ControlServer,
    /// The reader of one output pipe (of a unit or a hook): its lines are lost.
    OutputReader { unit: String },
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Task::ControlServer => f.write_str("the control server"),
            Task::OutputReader { unit } => write!(f, "the output reader of {unit}"),
        }
    }
}

thread_local! {
    /// Where tasks report their panics: set once by PID 1's loop, on its one thread (a
    /// current-thread runtime runs every task there, so spawning code finds it).
    static REPORTS: std::cell::RefCell<Option<mpsc::UnboundedSender<TaskPanic>>> =
        const { std::cell::RefCell::new(None) };
}

/// Make the tasks spawned from now on (on this thread) report their panics to the returned
/// receiver.
pub fn watch() -> mpsc::UnboundedReceiver<TaskPanic> {
    let (tx, rx) = mpsc::unbounded_channel();
    REPORTS.with(|r| *r.borrow_mut() = Some(tx));
    rx
}

/// Run one handler of the loop; `Err` when it panicked.
pub fn guard<R>(handler: impl FnOnce() -> R) -> Result<R, ()> {
    catch_unwind(AssertUnwindSafe(handler)).map_err(drop)
}

/// Spawn `task` on the runtime; a panic inside it ends the task and is reported to the
/// receiver of [`watch`] instead of vanishing in tokio.
pub fn spawn<F>(what: Task, task: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    let reports = REPORTS.with(|r| r.borrow().clone());
    tokio::spawn(async move {
        let mut task = pin!(task);
        let mut armed = cfg!(debug_assertions);
        let outcome = std::future::poll_fn(|cx| {
            let polled = guard(|| {
                if armed {
                    armed = false;
                    inject_task(&what);
                }
                task.as_mut().poll(cx)
            });
            match polled {
                Ok(Poll::Pending) => Poll::Pending,
                Ok(Poll::Ready(())) => Poll::Ready(Ok(())),
                Err(()) => Poll::Ready(Err(())),
            }
        })
        .await;
        if outcome.is_err() {
            match reports {
                Some(reports) => {
                    let _ = reports.send(TaskPanic { task: what });
                }
                None => crate::log::error(format_args!(
                    "{what} ended with an internal error; nothing watches it"
                )),
            }
        }
    });
}

/// The points `BOSUN_TEST_PANIC` (comma-separated) lists; debug builds only.
#[cfg(debug_assertions)]
fn injected() -> Vec<String> {
    std::env::var("BOSUN_TEST_PANIC")
        .unwrap_or_default()
        .split(',')
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Debug builds: panic here when `BOSUN_TEST_PANIC` names `point` (`loop`: a handler of the
/// loop, on SIGUSR2; `shutdown`: every pass of the loop once shutdown began).
#[cfg(debug_assertions)]
pub fn inject(point: &str) {
    if injected().iter().any(|p| p == point) {
        panic!("injected panic at {point} (BOSUN_TEST_PANIC, a debug build's test switch)");
    }
}

/// Release builds: no test switch.
#[cfg(not(debug_assertions))]
#[inline]
pub fn inject(_point: &str) {}

/// Debug builds: `task:control` panics the control server's first run, `task:UNIT` the first
/// output reader of UNIT; each once per process.
#[cfg(debug_assertions)]
fn inject_task(what: &Task) {
    use std::sync::Mutex;
    static FIRED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let name = match what {
        Task::ControlServer => "task:control".to_owned(),
        Task::OutputReader { unit } => format!("task:{unit}"),
    };
    if !injected().contains(&name) {
        return;
    }
    let Ok(mut fired) = FIRED.lock() else {
        return;
    };
    if fired.contains(&name) {
        return;
    }
    fired.push(name.clone());
    drop(fired);
    panic!("injected panic in {what} ({name} in BOSUN_TEST_PANIC, a debug build's test switch)");
}

#[cfg(not(debug_assertions))]
#[inline]
fn inject_task(_what: &Task) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_returns_the_value_or_the_panic() {
        assert_eq!(guard(|| 7), Ok(7));
        assert_eq!(guard(|| -> u8 { panic!("boom") }), Err(()));
    }

    #[test]
    fn a_panicking_task_is_reported_and_a_finished_one_is_not() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut reports = watch();
            spawn(Task::OutputReader { unit: "a".into() }, async {
                tokio::task::yield_now().await
            });
            spawn(Task::OutputReader { unit: "b".into() }, async {
                tokio::task::yield_now().await;
                panic!("boom");
            });
            let report = reports.recv().await;
            assert_eq!(
                report,
                Some(TaskPanic {
                    task: Task::OutputReader { unit: "b".into() }
                })
            );
            assert!(reports.try_recv().is_err());
        });
    }
}
