//! Running the generators at boot and at daemon-reload, as systemd does: the three output
//! directories are emptied, then each generator runs with them as its arguments (normal,
//! early, late), one after the other in name order, with a clean signal state, a minimal
//! environment and its output on bosun's stderr. A generator that fails is reported and the
//! boot goes on with what the others wrote; one still running at the deadline is killed.
//!
//! Generators are children of PID 1's loop, as hooks are: [`Run`] starts them, their statuses
//! come from the one reaper through [`Run::on_exit`] and the deadline through [`Run::on_time`],
//! so the loop keeps reaping, reading signals and answering the control socket while one runs.
//! Must not wait for a process, nor load units (the caller does that once [`Run::done`]).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::service::child::{self, ChildSpec, Environment};
use crate::unit::generators::{Generator, OUTPUT_DIRS, Policy, SYSV_GENERATOR, discover};
use crate::vocab::termination::Termination;

/// How long a generator killed at the deadline may take to be reaped before the run goes on
/// without it (one stuck in uninterruptible sleep).
const KILL_GRACE: Duration = Duration::from_secs(5);

/// The generator running now.
#[derive(Debug)]
struct Running {
    pid: i32,
    generator: Generator,
    started: Instant,
    /// When it was sent SIGKILL (the deadline passed).
    killed: Option<Instant>,
}

/// One run of the generators (at boot, or for one daemon-reload).
#[derive(Debug)]
pub struct Run {
    outputs: Vec<PathBuf>,
    queue: VecDeque<Generator>,
    timeout: Duration,
    /// None: `infinity`.
    deadline: Option<Instant>,
    running: Option<Running>,
}

impl Run {
    /// Empty the output directories and queue the generators under `root` that `policy`
    /// allows, all to finish within `timeout` from now (`infinity`, Duration::MAX: no limit).
    pub fn start(root: &Path, policy: &Policy, timeout: Duration) -> Run {
        let mut found = discover(root, policy);
        let outputs: Vec<PathBuf> = OUTPUT_DIRS
            .iter()
            .map(|d| root.join(d.trim_start_matches('/')))
            .collect();
        for dir in &outputs {
            // What an earlier boot or reload generated is stale now.
            match std::fs::remove_dir_all(dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => crate::log::warn(format_args!("cannot empty {}: {e}", dir.display())),
            }
        }
        if policy.runs_builtin_sysv() {
            found.run.retain(|g| g.name != SYSV_GENERATOR);
            let began = Instant::now();
            super::sysv::generate(root);
            crate::log::debug(format_args!(
                "built-in SysV generator done in {} ms",
                began.elapsed().as_millis()
            ));
        }
        if !found.skipped.is_empty() {
            crate::log::debug(format_args!(
                "generators not run (systemd's own; BOSUN_GENERATORS names any to run): {}",
                found.skipped.join(" ")
            ));
        }
        for path in &found.not_executable {
            crate::log::warn(format_args!(
                "generator {} is not executable (chmod +x to run it); skipped",
                path.display()
            ));
        }
        if !found.run.is_empty() {
            for dir in &outputs {
                if let Err(e) = std::fs::create_dir_all(dir) {
                    crate::log::warn(format_args!("cannot create {}: {e}", dir.display()));
                }
            }
        }
        Run {
            outputs,
            queue: found.run.into(),
            timeout,
            deadline: Instant::now().checked_add(timeout),
            running: None,
        }
    }

    /// Every generator has ended (or was skipped).
    pub fn done(&self) -> bool {
        self.running.is_none() && self.queue.is_empty()
    }

    /// Start the next generator when none runs; its pid, when one was started.
    pub fn advance(&mut self) -> Option<i32> {
        while self.running.is_none() {
            let generator = self.queue.pop_front()?;
            if self.deadline.is_some_and(|d| Instant::now() >= d) {
                crate::log::warn(format_args!(
                    "generator {} not run: the generators used up BOSUN_GENERATOR_TIMEOUT ({})",
                    generator.path.display(),
                    crate::vocab::time::humanize(self.timeout)
                ));
                continue;
            }
            let spec = ChildSpec {
                env: Environment::Exactly(vec![
                    ("PATH".into(), crate::service::spawn::SERVICE_PATH.into()),
                    ("SYSTEMD_SCOPE".into(), "system".into()),
                ]),
                stdin: Some(std::process::Stdio::null()),
                process_group: true,
                ..ChildSpec::new(
                    &generator.path,
                    self.outputs.iter().map(Into::into).collect(),
                )
            };
            match child::spawn(spec) {
                // The Child is dropped without waiting: the reaper collects its status by pid.
                Ok(pid) => {
                    self.running = Some(Running {
                        pid,
                        generator,
                        started: Instant::now(),
                        killed: None,
                    });
                    return Some(pid);
                }
                Err(failure) => crate::log::warn(format_args!(
                    "cannot run generator {}: {}",
                    generator.path.display(),
                    failure.source
                )),
            }
        }
        None
    }

    /// Route a reaped process: true when it was the running generator.
    pub fn on_exit(&mut self, pid: i32, termination: Termination) -> bool {
        let Some(run) = self.running.take_if(|r| r.pid == pid) else {
            return false;
        };
        let path = run.generator.path.display();
        match (termination, run.killed) {
            (_, Some(_)) => {}
            (Termination::Exited(0), None) => crate::log::debug(format_args!(
                "generator {} done in {} ms",
                run.generator.name,
                run.started.elapsed().as_millis()
            )),
            (Termination::Exited(code), None) => crate::log::warn(format_args!(
                "generator {path} failed with exit code {code}; going on with what it wrote"
            )),
            (Termination::Signaled(signo), None) => crate::log::warn(format_args!(
                "generator {path} was killed by {}; going on with what it wrote",
                crate::vocab::signal::name(signo)
            )),
        }
        true
    }

    /// When the running generator is to be killed (the deadline), or given up on.
    pub fn next_deadline(&self) -> Option<Instant> {
        let run = self.running.as_ref()?;
        match run.killed {
            Some(at) => at.checked_add(KILL_GRACE),
            None => self.deadline,
        }
    }

    /// At the deadline: SIGKILL the running generator's process group; if even that is not
    /// reaped within a grace, go on without it.
    pub fn on_time(&mut self, now: Instant) {
        let timeout = self.timeout;
        let Some(run) = self.running.as_mut() else {
            return;
        };
        match run.killed {
            None if self.deadline.is_some_and(|d| d <= now) => {
                crate::log::warn(format_args!(
                    "generator {} still runs after {} (BOSUN_GENERATOR_TIMEOUT): killing it",
                    run.generator.path.display(),
                    crate::vocab::time::humanize(timeout)
                ));
                let _ = crate::sys::send_signal(-run.pid, libc::SIGKILL);
                run.killed = Some(now);
            }
            Some(at) if at.checked_add(KILL_GRACE).is_some_and(|g| g <= now) => {
                crate::log::error(format_args!(
                    "generator {} (pid {}) did not die {}s after SIGKILL; going on without it",
                    run.generator.path.display(),
                    run.pid,
                    KILL_GRACE.as_secs()
                ));
                self.running = None;
            }
            _ => {}
        }
    }

    /// bosun is stopping: run no further generator and kill the running one's process group.
    pub fn interrupt(&mut self) {
        self.queue.clear();
        if let Some(run) = self.running.as_mut().filter(|r| r.killed.is_none()) {
            crate::log::notice(format_args!(
                "stopping: killing generator {} (pid {})",
                run.generator.path.display(),
                run.pid
            ));
            let _ = crate::sys::send_signal(-run.pid, libc::SIGKILL);
            run.killed = Some(Instant::now());
        }
    }
}
