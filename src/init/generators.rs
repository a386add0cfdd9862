//! Running the generators at boot and at daemon-reload, as systemd does: the three output
//! directories are emptied, then each generator runs with them as its arguments (normal,
//! early, late), one after the other in name order, with a clean signal state, a minimal
//! environment and its output on bosun's stderr. A generator that fails is reported and the
//! boot goes on with what the others wrote; one still running at the deadline is killed.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::unistd::Pid;

use super::reaper::{Termination, Waited, wait_for};
use crate::unit::generators::{OUTPUT_DIRS, Policy, discover};

/// Run the generators under `root` that `policy` allows, all within `timeout`.
pub fn run(root: &Path, policy: &Policy, timeout: Duration) {
    let found = discover(root, policy);
    let outputs: Vec<std::path::PathBuf> = OUTPUT_DIRS
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
    if found.run.is_empty() {
        return;
    }
    for dir in &outputs {
        if let Err(e) = std::fs::create_dir_all(dir) {
            crate::log::warn(format_args!("cannot create {}: {e}", dir.display()));
        }
    }
    let deadline = Instant::now() + timeout;
    for generator in &found.run {
        if Instant::now() >= deadline {
            crate::log::warn(format_args!(
                "generator {} not run: the generators used up BOSUN_GENERATOR_TIMEOUT ({})",
                generator.path.display(),
                super::humanize(timeout)
            ));
            continue;
        }
        let started = Instant::now();
        let mut cmd = Command::new(&generator.path);
        cmd.args(&outputs)
            .env_clear()
            .env("PATH", crate::service::spawn::SERVICE_PATH)
            .env("SYSTEMD_SCOPE", "system")
            .process_group(0)
            .stdin(std::process::Stdio::null());
        crate::sys::prepare_child(&mut cmd, crate::sys::ChildSetup::default());
        let child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) => {
                crate::log::warn(format_args!(
                    "cannot run generator {}: {e}",
                    generator.path.display()
                ));
                continue;
            }
        };
        // The Child is dropped without waiting: wait_for reaps it by pid.
        let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
        drop(child);
        match wait_for(pid, deadline) {
            Waited::Ended(Termination::Exited(0)) => crate::log::debug(format_args!(
                "generator {} done in {} ms",
                generator.name,
                started.elapsed().as_millis()
            )),
            Waited::Ended(Termination::Exited(code)) => crate::log::warn(format_args!(
                "generator {} failed with exit code {code}; going on with what it wrote",
                generator.path.display()
            )),
            Waited::Ended(Termination::Signaled(signo)) => crate::log::warn(format_args!(
                "generator {} was killed by {}; going on with what it wrote",
                generator.path.display(),
                super::signals::name(signo)
            )),
            Waited::Running => {
                crate::log::warn(format_args!(
                    "generator {} still runs after {} (BOSUN_GENERATOR_TIMEOUT): killing it",
                    generator.path.display(),
                    super::humanize(timeout)
                ));
                let _ = crate::sys::send_signal(-pid.as_raw(), libc::SIGKILL);
                // SIGKILL cannot be ignored: this returns as soon as the kernel is done.
                let _ = wait_for(pid, Instant::now() + Duration::from_secs(5));
            }
            Waited::Gone => {}
        }
    }
}
