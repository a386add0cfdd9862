//! What a service's state machine asks, carried out: spawn a command of the run (its
//! environment from [`crate::service::environment`], the spawning [`crate::service::spawn`]'s),
//! signal the main or control process or the rest of the unit, tell it when the unit is empty,
//! find its main process, and route processes to it (MAINPID=, PIDFile=, sessions). Process
//! tracking itself is [`crate::service::procs`]'s. Must not decide anything the machine
//! decides: it only answers with events.

use std::collections::BTreeMap;
use std::time::Instant;

use super::{ExecRecord, ServiceRun};
use crate::journal::pipe::Pipe;
use crate::journal::ring::Stream;
use crate::manager::engine::{Engine, Note, UnitRun, error_chain};
use crate::service::environment;
use crate::service::procs;
use crate::service::spawn::{self, Launch};
use crate::service::state::{Action, Event, Phase, Target};
use crate::unit::model::ServiceType;

impl Engine {
    /// The unit a process belongs to, by its cgroup (one read of /proc/PID/cgroup), or without
    /// cgroups by its keeper or session.
    pub(in crate::manager::engine) fn unit_of_process(&self, pid: i32) -> Option<String> {
        if let Some(cgroups) = &self.settings.cgroups {
            let dir = cgroups.of_process(pid)?;
            return self.runtime.iter().find_map(|(name, rt)| match rt {
                UnitRun::Service(run)
                    if run
                        .cgroup
                        .as_ref()
                        .is_some_and(|c| dir.starts_with(c.path())) =>
                {
                    Some(name.clone())
                }
                _ => None,
            });
        }
        if !self.keepers.is_empty()
            && let Some(keeper) = procs::ancestors(pid).find(|p| self.keepers.contains_key(p))
        {
            return self.keepers.get(&keeper).cloned();
        }
        let sid = nix::unistd::getsid(Some(nix::unistd::Pid::from_raw(pid)))
            .ok()?
            .as_raw();
        self.runtime.iter().find_map(|(name, rt)| match rt {
            UnitRun::Service(run) if run.sessions.contains(&sid) => Some(name.clone()),
            _ => None,
        })
    }

    /// A main PID the service named itself (MAINPID=) is routed to it from now on: its exit
    /// reaches the machine, and its session counts as the unit's.
    pub(in crate::manager::engine) fn track_main_pid(&mut self, unit: &str) {
        let Some(UnitRun::Service(run)) = self.runtime.get_mut(unit) else {
            return;
        };
        let Some(pid) = run.svc.main_pid() else {
            return;
        };
        if self.pids.contains_key(&pid) {
            return;
        }
        if let Ok(sid) = nix::unistd::getsid(Some(nix::unistd::Pid::from_raw(pid))) {
            run.sessions.insert(sid.as_raw());
        }
        self.pids.insert(pid, unit.to_owned());
    }

    /// Carry out one action; the answer to feed back, if it has one.
    pub(in crate::manager::engine) fn execute(
        &mut self,
        unit: &str,
        action: Action,
    ) -> Option<Event> {
        match action {
            Action::Spawn { phase, index, main } => Some(self.spawn(unit, phase, index, main)),
            Action::Signal { target, signo } => {
                self.signal(unit, target, signo);
                None
            }
            Action::FindMainPid => {
                let event = self.main_pid_event(unit);
                if let (Event::MainPid { pid: None, .. }, Some(UnitRun::Service(run))) =
                    (&event, self.runtime.get(unit))
                    && let Some(path) = &run.section.pid_file
                {
                    // service_load_pid_file(): said at info; waiting (or failing) follows.
                    self.notes.push(Note::Detail(format!(
                        "{unit}: PID file {} not readable (yet?) after start.",
                        path.display()
                    )));
                }
                Some(event)
            }
            Action::RereadPidFile(at) => {
                if let Some(UnitRun::Service(run)) = self.runtime.get_mut(unit) {
                    run.pid_file_reread = at;
                }
                None
            }
            Action::Timer(at) => {
                if let Some(UnitRun::Service(run)) = self.runtime.get_mut(unit) {
                    run.timer = at;
                }
                None
            }
            Action::Watchdog(at) => {
                if let Some(UnitRun::Service(run)) = self.runtime.get_mut(unit) {
                    run.watchdog = at;
                }
                None
            }
        }
    }

    pub(in crate::manager::engine) fn spawn(
        &mut self,
        unit: &str,
        phase: Phase,
        index: usize,
        main: bool,
    ) -> Event {
        // The main command is handed the unit's sockets (sd_listen_fds(3)).
        let sockets = if phase == Phase::Start {
            self.sockets_for(unit)
        } else {
            Vec::new()
        };
        let root = self.settings.root.clone();
        let notify = self.settings.notify_address.clone();
        let keeper = self.settings.keeper.as_ref().map(std::os::fd::AsFd::as_fd);
        let manager_env = self.settings.environment.clone();
        let policy = self.log_policy(unit);
        let Some(UnitRun::Service(run)) = self.runtime.get_mut(unit) else {
            return Event::SpawnFailed {
                errno: libc::EINVAL,
            };
        };
        let list = match phase {
            Phase::Condition => &run.section.exec_condition,
            Phase::StartPre => &run.section.exec_start_pre,
            Phase::Start => &run.section.exec_start,
            Phase::StartPost => &run.section.exec_start_post,
            Phase::Reload => &run.section.exec_reload,
            Phase::Stop => &run.section.exec_stop,
            Phase::StopPost => &run.section.exec_stop_post,
        };
        let Some(command) = list.get(index) else {
            return Event::SpawnFailed {
                errno: libc::EINVAL,
            };
        };
        // PermissionsStartOnly=: every command but ExecStart= (the control commands) runs as
        // with `+`, as core/service.c service_spawn() clears EXEC_APPLY_SANDBOXING for them.
        let elevated;
        let command = if phase != Phase::Start
            && run.section.permissions_start_only
            && !command.flags.full_privileges
        {
            let mut c = command.clone();
            c.flags.full_privileges = true;
            elevated = c;
            &elevated
        } else {
            command
        };
        if let Some(status) = run.setup_failed.take() {
            return Event::SetupFailed { status };
        }
        let spec_kind = run.svc.spec().kind;
        let facts = environment::RunFacts {
            invocation_id: &run.invocation_id,
            notify_address: &notify,
            remote: run
                .connection
                .as_ref()
                .and_then(|(_, peer)| peer.as_ref())
                .map(|(addr, port)| (addr.as_str(), *port)),
            prepared: &run.run_env,
        };
        let env = environment::for_command(&run.svc, phase, main, &facts);
        let process_env = |name: &str| std::env::var(name).ok();
        let launch = Launch {
            unit,
            exec: &run.section.exec,
            root: &root,
            manager_env: &manager_env,
            unit_env: &env,
            process_env: &process_env,
            identity: run.identity.as_ref(),
            cgroup: run.cgroup.as_ref().map(|c| c.procs_file().clone()),
            sockets: &sockets,
            connection: run
                .connection
                .as_ref()
                .filter(|_| phase == Phase::Start)
                .map(|(fd, _)| fd),
            // A forking service's daemons leave their starter by design; with no cgroup to
            // hold them, a keeper does.
            keeper: keeper.filter(|_| run.cgroup.is_none() && spec_kind == ServiceType::Forking),
            private_tmp: run.private_tmp.as_ref(),
        };
        match spawn::spawn(command, &launch) {
            Ok(spawned) => {
                run.sessions.insert(spawned.pid);
                if let Some(namespace) = spawned.namespace {
                    self.namespaces.insert(spawned.pid, namespace);
                }
                if let Some(keeper) = spawned.keeper {
                    run.keepers.insert(keeper);
                    self.keepers.insert(keeper, unit.to_owned());
                }
                // A oneshot's ExecStart= processes are its main process to systemd, one after
                // the other (ExecMainPID, `Main PID:`), though nothing waits for them as one.
                if main || (phase == Phase::Start && spec_kind == ServiceType::Oneshot) {
                    run.exec_main_pid = Some(spawned.pid);
                }
                run.execs.retain(|r| (r.phase, r.index) != (phase, index));
                run.execs.push(ExecRecord {
                    phase,
                    index,
                    argv: command.argv.join(" "),
                    pid: spawned.pid,
                    ended: None,
                });
                self.pids.insert(spawned.pid, unit.to_owned());
                for w in spawned.warnings {
                    self.notes.push(Note::Warning(format!("{unit}: {w}")));
                }
                let identifier = policy.as_ref().map(|p| p.identifier_for(&command.path));
                for (stream, fd) in [
                    (Stream::Stdout, spawned.stdout),
                    (Stream::Stderr, spawned.stderr),
                ] {
                    if let Some(fd) = fd {
                        self.pipes.push(Pipe {
                            unit: unit.to_owned(),
                            policy: policy.clone(),
                            identifier: identifier.clone(),
                            pid: spawned.pid,
                            stream,
                            fd,
                        });
                    }
                }
                Event::Spawned { pid: spawned.pid }
            }
            // systemd 252 exec_child(): with `-`, an executable that is not there is skipped
            // at LOG_INFO ("Executable ... missing, skipping"), its command counted as
            // succeeded.
            Err(e) if command.flags.ignore_failure && e.is_missing_executable() => {
                self.notes.push(Note::Detail(format!(
                    "{unit}: Executable {} missing, skipping: No such file or directory",
                    command.path
                )));
                Event::SpawnFailed {
                    errno: libc::ENOENT,
                }
            }
            Err(e) => {
                self.notes.push(Note::Error(format!(
                    "{unit}: Failed to execute {}: {}",
                    command.path,
                    error_chain(&e)
                )));
                // A privilege or namespace step failed: the child exits with systemd's status
                // for the step (218/CAPABILITIES, 226/NAMESPACE, ...), as exec_child() makes it.
                match e {
                    spawn::SpawnError::Privileges { status, .. } => {
                        return Event::SetupFailed { status };
                    }
                    spawn::SpawnError::Namespace(_) => {
                        return Event::SetupFailed {
                            status: crate::service::namespace::EXIT_NAMESPACE,
                        };
                    }
                    _ => {}
                }
                Event::SpawnFailed { errno: e.errno() }
            }
        }
    }

    /// The unit's processes other than main and control; `table` is made when it is needed
    /// (no cgroup), once for all the units asked about in one round, with what every unit
    /// holds: its sessions, its commands and keepers, and PID 1's main command (`outsiders`).
    pub(in crate::manager::engine) fn rest(
        run: &ServiceRun,
        table: &mut Option<procs::Table>,
        runtime: &BTreeMap<String, UnitRun>,
        outsiders: &std::collections::BTreeSet<i32>,
    ) -> Vec<i32> {
        let claims = || {
            let mut claims = procs::Claims::default();
            for rt in runtime.values() {
                if let UnitRun::Service(run) = rt {
                    claims.sessions.extend(run.sessions.iter().copied());
                    claims.pids.extend(run.svc.main_pid());
                    claims.pids.extend(run.svc.control_pid());
                    claims.pids.extend(run.keepers.iter().copied());
                }
            }
            claims.pids.extend(outsiders.iter().copied());
            claims
        };
        procs::rest(&run.tracked(), table, claims)
    }

    pub(in crate::manager::engine) fn signal(&mut self, unit: &str, target: Target, signo: i32) {
        let Some(UnitRun::Service(run)) = self.runtime.get(unit) else {
            return;
        };
        let pids: Vec<i32> = match target {
            Target::Main => run.svc.main_pid().into_iter().collect(),
            Target::Control => run.svc.control_pid().into_iter().collect(),
            Target::Rest => Self::rest(run, &mut self.table, &self.runtime, &self.outsiders),
        };
        for pid in pids {
            let _ = crate::sys::send_signal(pid, signo);
        }
    }

    /// Feed Empty when the unit has no process left.
    pub(in crate::manager::engine) fn check_empty(&mut self, unit: &str, now: Instant) {
        let Some(UnitRun::Service(run)) = self.runtime.get(unit) else {
            return;
        };
        let empty = run.svc.main_pid().is_none()
            && run.svc.control_pid().is_none()
            && match &run.cgroup {
                Some(cg) => !cg.populated().unwrap_or(false),
                None => Self::rest(run, &mut self.table, &self.runtime, &self.outsiders).is_empty(),
            };
        if empty {
            self.feed(unit, Event::Empty, now);
        }
    }

    /// A daemon that left its session and its environment behind (apache2 under Debian's
    /// `apachectl`, which runs httpd with `env -i`) is still found: it was adopted by PID 1.
    /// The one live child of bosun that no unit owns, if there is exactly one.
    pub(in crate::manager::engine) fn adopted_orphan(&self) -> Option<i32> {
        procs::adopted_orphan(|pid, session| {
            self.pids.contains_key(&pid)
                || self.runtime.values().any(|rt| {
                    matches!(rt, UnitRun::Service(run) if run.sessions.contains(&pid)
                        || run.sessions.contains(&session)
                        || run.svc.main_pid() == Some(pid))
                })
                || self.outsiders.contains(&pid)
                || self.keepers.contains_key(&pid)
        })
    }

    /// The answer to FindMainPid: the main process found, and whether the unit has other
    /// processes (which may still write its PIDFile=, or keep it running without one).
    pub(in crate::manager::engine) fn main_pid_event(&mut self, unit: &str) -> Event {
        let pid = self.find_main_pid(unit);
        let others = pid.is_some()
            || match self.runtime.get(unit) {
                Some(UnitRun::Service(run)) => match &run.cgroup {
                    Some(cg) => cg.populated().unwrap_or(false),
                    None => {
                        !Self::rest(run, &mut self.table, &self.runtime, &self.outsiders).is_empty()
                    }
                },
                _ => false,
            };
        Event::MainPid { pid, others }
    }

    /// Read PIDFile=, or guess the main process: the only process of the unit.
    pub(in crate::manager::engine) fn find_main_pid(&mut self, unit: &str) -> Option<i32> {
        let root = self.settings.root.clone();
        let Some(UnitRun::Service(run)) = self.runtime.get(unit) else {
            return None;
        };
        let rest = match (&run.section.pid_file, run.section.guess_main_pid) {
            (None, guess) if guess != Some(false) => {
                Self::rest(run, &mut self.table, &self.runtime, &self.outsiders)
            }
            _ => Vec::new(),
        };
        let source = match &run.section.pid_file {
            Some(path) => procs::MainPidSource::PidFile { path, root: &root },
            None if run.section.guess_main_pid != Some(false) => procs::MainPidSource::Guess {
                rest: &rest,
                keepers: &run.keepers,
                table: self.table.as_ref(),
            },
            None => procs::MainPidSource::None,
        };
        let pid = procs::find_main_pid(source, || self.adopted_orphan());
        if let (Some(pid), Some(UnitRun::Service(run))) = (pid, self.runtime.get_mut(unit)) {
            if let Ok(sid) = nix::unistd::getsid(Some(nix::unistd::Pid::from_raw(pid))) {
                run.sessions.insert(sid.as_raw());
            }
            self.pids.insert(pid, unit.to_owned());
        }
        pid
    }
}
