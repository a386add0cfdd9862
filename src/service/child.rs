//! The one spawner: every process bosun starts — the main command, the volume's hooks, the
//! generators, the services' commands — is described by a [`ChildSpec`] (argv, environment,
//! identity and limits, streams, directory) and started by [`spawn`], which prepares the child
//! through the one reviewed `pre_exec` ([`crate::sys::prepare_child`]: clean signal state,
//! session or process group, cgroup, limits, identity) and forks with
//! `std::process::Command`, so an exec failure comes back to the parent as an errno.
//!
//! Owns the spec, the fork/exec and the one mapping of an exec failure to a shell's exit code
//! (127 not found, 126 cannot execute: tini's `spawn`, POSIX's `sh`). Must not wait for the
//! child (the reaper is the only waiter: the `Child` handle is dropped, only the pid is kept),
//! nor decide what an exec failure means for its owner (the caller does: bosun's exit code, a
//! failed hook, a warning, a failed unit), nor assemble a service's environment or streams
//! ([`super::spawn`] does).

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::sys::ChildSetup;

/// The environment a child gets.
#[derive(Debug)]
pub enum Environment {
    /// bosun's own, without `remove`, with `set` added (the main command, the hooks).
    Inherited {
        remove: Vec<OsString>,
        set: Vec<(OsString, OsString)>,
    },
    /// Exactly these variables, nothing of bosun's (services, generators).
    Exactly(Vec<(OsString, OsString)>),
    /// Installed by the child itself right before exec (socket activation: only the child
    /// knows `LISTEN_PID`, see [`crate::sys::ListenFds`]); the command must not set one.
    SetByChild,
}

/// Everything about one process to start.
#[derive(Debug)]
pub struct ChildSpec {
    /// The file to execute (a path, or a name looked up in `PATH` as execvp does).
    pub program: PathBuf,
    /// argv\[0\] when it is not `program` (ExecStart=@).
    pub argv0: Option<OsString>,
    /// argv\[1..\].
    pub args: Vec<OsString>,
    pub env: Environment,
    /// The standard streams; `None` inherits bosun's own.
    pub stdin: Option<Stdio>,
    pub stdout: Option<Stdio>,
    pub stderr: Option<Stdio>,
    /// The directory to start in, set by the parent's `Command` (a service's
    /// WorkingDirectory= is the child's own chdir in `setup`, after the identity change).
    pub directory: Option<PathBuf>,
    /// Become a process-group leader (the main command, the generators); sessions, terminal,
    /// cgroup, limits and identity are `setup`'s.
    pub process_group: bool,
    /// What the child does between fork and exec.
    pub setup: ChildSetup,
}

impl ChildSpec {
    /// A spec for `program` with `args`, bosun's environment, inherited streams and a default
    /// set-up (clean signal state only).
    pub fn new(program: impl Into<PathBuf>, args: Vec<OsString>) -> Self {
        Self {
            program: program.into(),
            argv0: None,
            args,
            env: Environment::Inherited {
                remove: Vec::new(),
                set: Vec::new(),
            },
            stdin: None,
            stdout: None,
            stderr: None,
            directory: None,
            process_group: false,
            setup: ChildSetup::default(),
        }
    }
}

/// A child that could not be started: fork, a set-up step or exec failed with `source`.
#[derive(Debug, thiserror::Error)]
#[error("cannot execute {}", program.display())]
pub struct ExecFailure {
    pub program: PathBuf,
    #[source]
    pub source: io::Error,
}

impl ExecFailure {
    /// Whether the program was not found (ENOENT, ENOTDIR) rather than found and refused.
    pub fn not_found(&self) -> bool {
        matches!(
            self.source.raw_os_error(),
            Some(libc::ENOENT | libc::ENOTDIR)
        )
    }

    /// The exit code a shell reports for it: 127 when not found, 126 otherwise.
    pub fn exit_code(&self) -> i32 {
        if self.not_found() { 127 } else { 126 }
    }
}

/// Start the process `spec` describes; its pid. The `Child` handle is dropped without waiting
/// (the reaper collects the status by pid), and so are the parent's copies of the streams
/// given in `spec` (a pipe's write end stays open in the child alone).
pub fn spawn(spec: ChildSpec) -> Result<i32, ExecFailure> {
    let mut cmd = Command::new(&spec.program);
    if let Some(argv0) = &spec.argv0 {
        cmd.arg0(argv0);
    }
    cmd.args(&spec.args);
    match spec.env {
        Environment::Inherited { remove, set } => {
            for name in remove {
                cmd.env_remove(name);
            }
            cmd.envs(set);
        }
        Environment::Exactly(vars) => {
            cmd.env_clear().envs(vars);
        }
        Environment::SetByChild => {}
    }
    if let Some(stdin) = spec.stdin {
        cmd.stdin(stdin);
    }
    if let Some(stdout) = spec.stdout {
        cmd.stdout(stdout);
    }
    if let Some(stderr) = spec.stderr {
        cmd.stderr(stderr);
    }
    if let Some(dir) = &spec.directory {
        cmd.current_dir(dir);
    }
    if spec.process_group {
        cmd.process_group(0);
    }
    crate::sys::prepare_child(&mut cmd, spec.setup);
    let spawned = cmd.spawn();
    // Dropping `cmd` closes our copies of the child's stream ends.
    drop(cmd);
    match spawned {
        Ok(child) => Ok(i32::try_from(child.id()).unwrap_or(i32::MAX)),
        Err(source) => Err(ExecFailure {
            program: spec.program,
            source,
        }),
    }
}

/// A command started under a keeper ([`crate::sys::Keeper`]).
#[derive(Debug, Clone, Copy)]
pub struct Kept {
    /// The command's own process.
    pub pid: i32,
    /// The keeper between it and us.
    pub keeper: i32,
}

/// How long the keeper may take to say the command's pid (it does so right after its fork,
/// before anything else: only a machine at a standstill takes longer).
const KEEPER_PID_TIMEOUT_MS: u16 = 10_000;

/// Start `spec` under a keeper that reports what it reaps on `report` (a duplicate of PID 1's
/// keeper socket). An exec failure comes back as with [`spawn`] (the keeper then ends by
/// itself and std collects it).
pub fn spawn_kept(mut spec: ChildSpec, report: OwnedFd) -> Result<Kept, ExecFailure> {
    let failure = |source: io::Error| ExecFailure {
        program: spec.program.clone(),
        source,
    };
    let (read, write) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| failure(e.into()))?;
    spec.setup.keeper = Some(crate::sys::Keeper {
        report,
        started: write,
    });
    // The spec (and with it our copy of the pipe's write end) is consumed here.
    let keeper = spawn(spec)?;
    let mut pid = [0u8; 4];
    let mut got = 0;
    while got < pid.len() {
        let mut fds = [nix::poll::PollFd::new(
            read.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        let ready = nix::poll::poll(
            &mut fds,
            nix::poll::PollTimeout::from(KEEPER_PID_TIMEOUT_MS),
        );
        match ready {
            Ok(0) => break,
            Ok(_) => match nix::unistd::read(&read, &mut pid[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(nix::errno::Errno::EINTR) => {}
                Err(_) => break,
            },
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => break,
        }
    }
    if got < pid.len() {
        // A keeper that cannot say its command's pid is no keeper: end it (its command is
        // then PID 1's orphan) and report the start as failed.
        let _ = crate::sys::send_signal(keeper, libc::SIGKILL);
        return Err(ExecFailure {
            program: PathBuf::from("bosun-keeper"),
            source: io::Error::from_raw_os_error(libc::ETIMEDOUT),
        });
    }
    Ok(Kept {
        pid: i32::from_ne_bytes(pid),
        keeper,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(errno: i32) -> ExecFailure {
        ExecFailure {
            program: "/x".into(),
            source: io::Error::from_raw_os_error(errno),
        }
    }

    #[test]
    fn exec_failures_map_as_a_shell_reports_them() {
        assert_eq!(failure(libc::ENOENT).exit_code(), 127);
        assert_eq!(failure(libc::ENOTDIR).exit_code(), 127);
        assert_eq!(failure(libc::EACCES).exit_code(), 126);
        assert_eq!(failure(libc::ENOEXEC).exit_code(), 126);
        assert!(!failure(libc::EACCES).not_found());
    }
}
