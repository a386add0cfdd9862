//! Service units (systemd.service(5), after systemd 252's src/core/service.c) as the engine
//! runs them: each run's state machine ([`crate::service::state`], pure) is fed events, and
//! what it asks is carried out in `exec.rs` (spawn a command with its environment, signal the
//! main or control process or the rest of the unit, find the main process, arm its timeout
//! and watchdog). Here: starting and preparing a run, feeding the machine, the timeout and
//! watchdog firing, and its transitions reported in systemd's words. Process tracking is
//! [`crate::service::procs`]'s, the variables of a command [`crate::service::environment`]'s,
//! the spawning [`crate::service::spawn`]'s. Must not decide about other units beyond what
//! systemd's service.c does (OnFailure=, BindsTo= go through the engine's requests).

mod exec;

use std::collections::BTreeSet;
use std::os::fd::OwnedFd;
use std::time::Instant;

/// Where a stopped service's RuntimeDirectory= goes until the janitor has removed it (under
/// bosun's root, on /run's file system).
const RUNTIME_TRASH: &str = "run/bosun/gone";

use super::query::{ExecSnapshot, Tracking, UnitSnapshot};
use super::unit_type::UnitType;
use super::{Engine, Note, UnitRun, error_chain};
use crate::manager::condition::{Verdict, evaluate};
use crate::manager::jobs::JobResult;
use crate::manager::transaction::JobKind;
use crate::manager::units::Entry;
use crate::service::cgroup::ServiceCgroup;
use crate::service::namespace::PrivateTmp;
use crate::service::procs;
use crate::service::spawn::{self, Identity};
use crate::service::state::{Active, Event, Phase, Service, Spec, State};
use crate::unit::model::{ServiceSection, ServiceType, UnitSection};
use crate::vocab::termination::Termination;

pub(super) struct ServiceRun {
    pub(super) svc: Service,
    pub(super) section: ServiceSection,
    pub(super) identity: Option<Identity>,
    pub(super) invocation_id: String,
    pub(super) cgroup: Option<ServiceCgroup>,
    /// Sessions its processes lead (tracking without cgroups).
    pub(super) sessions: BTreeSet<i32>,
    /// Keepers its commands run under (tracking without cgroups, Type=forking): everything
    /// below them is the unit's. Kept across runs until they exit, as a cgroup keeps what a
    /// run left behind.
    pub(super) keepers: BTreeSet<i32>,
    /// Variables for its directories and credentials, made at start.
    pub(super) run_env: Vec<(String, String)>,
    pub(super) timer: Option<Instant>,
    pub(super) watchdog: Option<Instant>,
    /// When PIDFile=, not written yet, is read again.
    pub(super) pid_file_reread: Option<Instant>,
    /// The connection of an Accept=yes instance, and the peer's address and port (IP).
    pub(super) connection: Option<(OwnedFd, Option<(String, u16)>)>,
    /// This run could not be prepared: its next process fails with this exit status.
    pub(super) setup_failed: Option<i32>,
    /// The last main process (ExecMainPID), kept after it ends.
    pub(super) exec_main_pid: Option<i32>,
    /// The commands this run spawned, by list and index: `status`'s `Process:` lines.
    pub(super) execs: Vec<ExecRecord>,
    /// PrivateTmp='s directories, made at the start, removed at the stop.
    pub(super) private_tmp: Option<PrivateTmp>,
}

impl ServiceRun {
    /// What process tracking needs of this run.
    pub(super) fn tracked(&self) -> procs::Tracked<'_> {
        procs::Tracked {
            main: self.svc.main_pid(),
            control: self.svc.control_pid(),
            cgroup: self.cgroup.as_ref(),
            sessions: &self.sessions,
            keepers: &self.keepers,
            invocation_id: &self.invocation_id,
        }
    }
}

/// One command a run spawned (systemd's ExecStatus): where it comes from, its pid and, once it
/// ended, how.
pub(super) struct ExecRecord {
    pub(super) phase: Phase,
    pub(super) index: usize,
    pub(super) argv: String,
    pub(super) pid: i32,
    pub(super) ended: Option<Termination>,
}

impl UnitType for ServiceRun {
    fn active(&self) -> Active {
        self.svc.state().active()
    }

    fn next_deadline(&self) -> Option<Instant> {
        [self.timer, self.watchdog, self.pid_file_reread]
            .into_iter()
            .flatten()
            .min()
    }

    fn at_rest(&self) -> bool {
        self.svc.state() == State::Dead
    }

    fn stopped(&self) -> bool {
        matches!(
            self.svc.state(),
            State::Dead | State::Failed | State::AutoRestart
        )
    }

    fn reset_failed(&mut self) {
        self.svc.reset_failed();
    }

    fn snapshot(
        &self,
        engine: &Engine,
        snap: &mut UnitSnapshot,
        table: Option<&mut Option<procs::Table>>,
    ) {
        let run = self;
        let svc = &run.svc;
        snap.sub_state = svc.state().name();
        snap.result = svc.outcome().name();
        snap.main_pid = svc.main_pid();
        snap.control_pid = svc.control_pid();
        snap.restarts = svc.restarts();
        snap.status_text = svc.status_text().map(str::to_owned);
        snap.service_type = Some(run.section.service_type.unwrap_or(ServiceType::Simple));
        snap.tracking = Some(if run.cgroup.is_some() {
            Tracking::Cgroup
        } else {
            Tracking::Session
        });
        snap.main_exit = svc.main_exit();
        snap.exec_main_pid = run.exec_main_pid;
        if snap.main_exit.is_none()
            && let Some(record) = run.execs.iter().find(|r| Some(r.pid) == run.exec_main_pid)
        {
            snap.main_exit = record.ended;
        }
        let mut ended: Vec<_> = run
            .execs
            .iter()
            .filter_map(|r| Some((r, r.ended?)))
            .collect();
        ended.sort_by_key(|(r, _)| (r.phase, r.index));
        snap.execs = ended
            .into_iter()
            .map(|(r, ended)| ExecSnapshot {
                phase: r.phase,
                argv: r.argv.clone(),
                pid: r.pid,
                ended,
            })
            .collect();
        if let Some(table) = table
            && svc.state().active() != Active::Inactive
            && svc.state() != State::Failed
        {
            let mut procs: BTreeSet<i32> = svc.main_pid().into_iter().collect();
            procs.extend(svc.control_pid());
            procs.extend(Engine::rest(run, table, &engine.runtime, &engine.outsiders));
            snap.processes = procs.into_iter().collect();
        }
    }

    fn start(engine: &mut Engine, unit: &str, now: Instant) {
        engine.start_service(unit, now);
    }

    fn stop(engine: &mut Engine, unit: &str, now: Instant) {
        engine.feed(unit, Event::Stop { for_restart: false }, now);
        engine.settle_job(unit);
    }

    fn on_exit(engine: &mut Engine, unit: &str, pid: i32, termination: Termination, now: Instant) {
        if let Some(UnitRun::Service(run)) = engine.runtime.get_mut(unit)
            && let Some(record) = run.execs.iter_mut().find(|r| r.pid == pid)
        {
            record.ended = Some(termination);
        }
        engine.feed(unit, Event::Exited { pid, termination }, now);
    }
}

impl Engine {
    /// The run-time part of service `name`.
    pub(super) fn service_runtime(
        &mut self,
        name: &str,
        section: &ServiceSection,
        u: &UnitSection,
    ) -> UnitRun {
        if matches!(section.service_type, Some(ServiceType::Dbus)) {
            self.notes.push(Note::Warning(format!(
                "{name}: Type=dbus is supervised as Type=simple (no D-Bus activation in a container)"
            )));
        }
        let spec = Spec::from_section(
            section,
            (
                u.start_limit_interval.and_then(|t| t.finite()),
                u.start_limit_burst,
            ),
            &self.settings.defaults,
        );
        UnitRun::Service(Box::new(ServiceRun {
            svc: Service::new(spec),
            section: section.clone(),
            identity: None,
            invocation_id: String::new(),
            cgroup: None,
            sessions: BTreeSet::new(),
            keepers: BTreeSet::new(),
            run_env: Vec::new(),
            timer: None,
            watchdog: None,
            pid_file_reread: None,
            connection: None,
            setup_failed: None,
            private_tmp: None,
            exec_main_pid: None,
            execs: Vec::new(),
        }))
    }

    /// A start job (core/service.c service_start()).
    fn start_service(&mut self, unit: &str, now: Instant) {
        if let Some(result) = self.conditions_fail(unit) {
            return self.finish_job(unit, result);
        }
        let state = match self.runtime.get(unit) {
            Some(UnitRun::Service(run)) => run.svc.state(),
            _ => return,
        };
        if matches!(state.active(), Active::Active | Active::Reloading) {
            return self.finish_job(unit, JobResult::Done);
        }
        self.notes
            .push(Note::Info(format!("Starting {}...", self.describe(unit))));
        self.prepare_or_fail(unit);
        self.feed(unit, Event::Start, now);
        self.settle_job(unit);
    }

    /// Condition*= and Assert*= of a unit about to start: the job's result when one fails
    /// (skipped, or failed for an assertion), said in systemd's words.
    pub(super) fn conditions_fail(&mut self, unit: &str) -> Option<JobResult> {
        let Some(Entry::Loaded(loaded)) = self.units.get(unit) else {
            return Some(JobResult::Failed);
        };
        let u = &loaded.unit.unit;
        let (note, result) =
            if let Verdict::Fail(why) = evaluate(&u.conditions, &self.system, "Condition") {
                (
                    Note::Info(format!(
                        "{unit}: condition check resulted in {why} being false; skipped"
                    )),
                    JobResult::Skipped,
                )
            } else if let Verdict::Fail(why) = evaluate(&u.asserts, &self.system, "Assert") {
                (
                    Note::Error(format!("{unit}: assertion {why} failed")),
                    JobResult::Failed,
                )
            } else {
                return None;
            };
        self.notes.push(note);
        Some(result)
    }

    /// Identity, cgroup, directories and credentials of a new run. A failure is said, and the
    /// run's first process then fails with systemd's exit status for it (217/USER,
    /// 243/CREDENTIALS, ...), so that the unit fails as under systemd and its Restart= applies.
    fn prepare_or_fail(&mut self, unit: &str) {
        if let Err((why, status)) = self.prepare_run(unit) {
            self.notes.push(Note::Error(format!("{unit}: {why}")));
            if let Some(UnitRun::Service(run)) = self.runtime.get_mut(unit) {
                run.setup_failed = Some(status);
            }
        }
    }

    fn prepare_run(&mut self, unit: &str) -> Result<(), (String, i32)> {
        let spawn_err = |e: spawn::SpawnError| (error_chain(&e), e.exit_status());
        let root = self.settings.root.clone();
        let cgroups = self.settings.cgroups.clone();
        let Some(UnitRun::Service(run)) = self.runtime.get_mut(unit) else {
            return Ok(());
        };
        let identity = match spawn::resolve_identity(&run.section.exec) {
            Ok(None) => self
                .settings
                .run_as
                .map(|(uid, gid)| spawn::host_identity(uid, gid)),
            other => other.map_err(spawn_err)?,
        };
        let mut env = spawn::make_directories(&run.section.exec, &root, identity.as_ref())
            .map_err(spawn_err)?;
        if let Some(cred) = spawn::write_credentials(
            unit,
            &run.section.exec,
            &root,
            identity.as_ref(),
            &spawn::received_credentials_dir(),
        )
        .map_err(spawn_err)?
        {
            env.push(cred);
        }
        // Only where a namespace can be made: elsewhere PrivateTmp= is reported at boot as not
        // in force and the service uses /tmp itself.
        if run.section.exec.namespace.private_tmp
            && run.private_tmp.is_none()
            && crate::service::namespace::probe(&root).is_ok()
        {
            let made = PrivateTmp::make(unit, &root);
            run.private_tmp = Some(made.map_err(|e| (format!("PrivateTmp=: {e}"), 226))?);
        }
        run.identity = identity;
        run.run_env = env;
        // A new run: the last one's commands are forgotten, as service_start() resets them.
        run.execs.clear();
        run.exec_main_pid = None;
        run.invocation_id = crate::vocab::id::random_id();
        run.sessions.clear();
        run.cgroup = match &cgroups {
            Some(c) => Some(c.for_unit(unit).map_err(|e| (error_chain(&e), 219))?), // CGROUP
            None => None,
        };
        Ok(())
    }

    /// Feed `event` to `unit`'s machine and carry out the actions, feeding back their answers.
    pub(super) fn feed(&mut self, unit: &str, event: Event, now: Instant) {
        let mut queue = std::collections::VecDeque::from([event]);
        let before = self.state_of(unit);
        while let Some(event) = queue.pop_front() {
            let Some(UnitRun::Service(run)) = self.runtime.get_mut(unit) else {
                return;
            };
            let actions = run.svc.handle(event, now);
            for action in actions {
                if let Some(answer) = self.execute(unit, action) {
                    queue.push_back(answer);
                }
            }
        }
        self.track_main_pid(unit);
        let after = self.state_of(unit);
        if before != after {
            self.mark_changed(unit);
            self.report_transition(unit, before, after);
        }
        self.settle_job(unit);
        if before != after {
            self.socket_service_changed(unit);
        }
        // A stop stage entered with nothing left to signal (a oneshot that exited) ends at
        // once, as service_enter_signal() moves on when unit_kill_context() killed nothing;
        // waiting for a process to be reaped first would wait for the stop timeout when none
        // ever is (the last units of a shutdown).
        if before != after
            && matches!(
                self.state_of(unit),
                Some(
                    State::StopSigterm
                        | State::StopSigkill
                        | State::FinalSigterm
                        | State::FinalSigkill
                )
            )
        {
            self.check_empty(unit, now);
        }
    }

    fn state_of(&self, unit: &str) -> Option<State> {
        match self.runtime.get(unit) {
            Some(UnitRun::Service(run)) => Some(run.svc.state()),
            _ => None,
        }
    }

    fn report_transition(&mut self, unit: &str, before: Option<State>, after: Option<State>) {
        self.timers_see_transition(unit, before.map(State::active), after.map(State::active));
        if matches!(
            after,
            Some(State::Dead | State::Failed | State::AutoRestart)
        ) {
            self.remove_runtime_directories(unit, after == Some(State::AutoRestart));
        }
        if matches!(after, Some(State::Dead | State::Failed)) {
            self.remove_ipc(unit);
        }
        let desc = self.describe(unit);
        let Some(UnitRun::Service(run)) = self.runtime.get(unit) else {
            return;
        };
        let outcome = run.svc.outcome().name();
        let job = self.jobs.job(unit).map(|(kind, _)| kind);
        let on_failure: Vec<String> = match (before, after) {
            (_, Some(State::Running | State::Exited))
                if before
                    .is_none_or(|b| !matches!(b.active(), Active::Active | Active::Reloading)) =>
            {
                self.notes.push(Note::Info(format!("Started {desc}.")));
                Vec::new()
            }
            (_, Some(State::Failed)) => {
                if outcome == "start-limit-hit" {
                    self.notes.push(Note::Error(format!(
                        "{unit}: Start request repeated too quickly."
                    )));
                }
                self.notes.push(Note::Error(format!(
                    "{unit}: Failed with result '{outcome}'."
                )));
                // As systemd words its jobs: a failed start, a stop that ended in failure,
                // or (no job) a running service that failed on its own.
                match job {
                    Some(JobKind::Start) => self
                        .notes
                        .push(Note::Error(format!("Failed to start {desc}."))),
                    Some(JobKind::Stop) => {
                        self.notes.push(Note::Info(format!("Stopped {desc}.")));
                    }
                    _ => {}
                }
                self.graph
                    .deps(unit)
                    .map(|d| d.on_failure.iter().cloned().collect())
                    .unwrap_or_default()
            }
            (_, Some(State::AutoRestart)) => {
                if outcome == "success" {
                    self.notes
                        .push(Note::Info(format!("{unit}: Deactivated successfully.")));
                } else {
                    self.notes.push(Note::Warning(format!(
                        "{unit}: Failed with result '{outcome}'."
                    )));
                }
                self.notes.push(Note::Info(format!(
                    "{unit}: Scheduled restart job, restart counter is at {}.",
                    run.svc.restarts() + 1
                )));
                Vec::new()
            }
            (Some(b), Some(State::Dead)) if b != State::Dead => {
                if run.svc.condition_skipped() {
                    self.notes
                        .push(Note::Info(format!("{unit}: skipped by ExecCondition=.")));
                } else if job == Some(JobKind::Start) {
                    // A oneshot without RemainAfterExit= that ran to completion.
                    self.notes.push(Note::Info(format!("Finished {desc}.")));
                } else if job.is_none() {
                    // It ended on its own, successfully.
                    self.notes
                        .push(Note::Info(format!("{unit}: Deactivated successfully.")));
                } else {
                    self.notes.push(Note::Info(format!("Stopped {desc}.")));
                }
                Vec::new()
            }
            _ => Vec::new(),
        };
        if matches!(after, Some(State::Dead | State::Failed)) && job != Some(JobKind::Stop) {
            self.stop_bound(unit);
        }
        for other in on_failure {
            if let Err(e) = self.request(&other, JobKind::Start, Instant::now()) {
                self.notes
                    .push(Note::Error(format!("{unit}: OnFailure={other}: {e}")));
            }
        }
    }

    /// RuntimeDirectory= goes when the service stops (systemd.exec(5)): always with
    /// RuntimeDirectoryPreserve=no (the default), not across restarts with `restart`, never
    /// with `yes`.
    fn remove_runtime_directories(&mut self, unit: &str, restarting: bool) {
        let Some(UnitRun::Service(run)) = self.runtime.get_mut(unit) else {
            return;
        };
        // PrivateTmp='s directories go with the run (systemd: when the unit stops).
        if let Some(dirs) = run.private_tmp.take() {
            dirs.remove_detached();
        }
        let Some(UnitRun::Service(run)) = self.runtime.get(unit) else {
            return;
        };
        let exec = &run.section.exec;
        let keep = match exec.runtime_directory_preserve.as_deref() {
            Some("yes") => true,
            Some("restart") => restarting,
            _ => false,
        };
        if keep {
            return;
        }
        // Renamed aside (the name is free for the next start at once) and removed by the
        // janitor; in place where it cannot be renamed.
        let trash = self.settings.root.join(RUNTIME_TRASH);
        for name in &exec.runtime_directory {
            let dir = self.settings.root.join("run").join(name);
            if crate::service::janitor::discard(&dir, &trash) {
                continue;
            }
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => self.notes.push(Note::Warning(format!(
                    "{unit}: cannot remove RuntimeDirectory {}: {e}",
                    dir.display()
                ))),
            }
        }
    }

    /// RemoveIPC=: when `unit`, now inactive, was the last running unit of its user, that
    /// user's IPC objects go (systemd 252 counts the units holding a user the same way).
    fn remove_ipc(&mut self, unit: &str) {
        let Some(UnitRun::Service(run)) = self.runtime.get(unit) else {
            return;
        };
        let Some((uid, gid)) = run
            .identity
            .as_ref()
            .filter(|_| run.section.exec.remove_ipc)
            .map(|id| (id.uid, id.gid))
        else {
            return;
        };
        let in_use = self.runtime.iter().any(|(other, r)| {
            other != unit
                && matches!(r, UnitRun::Service(o)
                    if o.identity.as_ref().is_some_and(|id| id.uid == uid)
                        && !matches!(o.svc.state(), State::Dead | State::Failed))
        });
        if in_use {
            return;
        }
        // The services' /dev/shm is the real one even when bosun keeps its state under
        // BOSUN_ROOT (System V objects belong to the IPC namespace, not to a path).
        crate::service::ipc::remove_detached(uid, gid, std::path::Path::new("/"));
    }

    /// Finish `unit`'s job if its state answers it.
    fn settle_job(&mut self, unit: &str) {
        let Some((kind, true)) = self.jobs.job(unit) else {
            return;
        };
        let Some(UnitRun::Service(run)) = self.runtime.get(unit) else {
            return;
        };
        let state = run.svc.state();
        let result = match (kind, state) {
            (JobKind::Start, State::Running | State::Exited) => JobResult::Done,
            (JobKind::Start, State::Dead) if run.svc.condition_skipped() => JobResult::Skipped,
            (JobKind::Start, State::Dead) => JobResult::Done,
            (JobKind::Start, State::Failed | State::AutoRestart) => JobResult::Failed,
            (JobKind::Stop, State::Dead | State::Failed) => JobResult::Done,
            // Up again (or starting again) under a running stop: the stop failed, as
            // core/unit.c unit_process_job() ends it; left running, it would hold shutdown.
            (JobKind::Stop, state) if state.active() != Active::Deactivating => JobResult::Failed,
            _ => return,
        };
        self.finish_job(unit, result);
    }

    /// Fire the timeouts and watchdogs of services due at `now`, and read again the
    /// PIDFile= of those waiting for it.
    pub(super) fn fire_service_timers(&mut self, now: Instant) {
        let rereads: Vec<String> = self
            .runtime
            .iter()
            .filter(|(_, rt)| {
                matches!(rt, UnitRun::Service(run) if run.pid_file_reread.is_some_and(|t| t <= now))
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in rereads {
            let Some(UnitRun::Service(run)) = self.runtime.get_mut(&name) else {
                continue;
            };
            run.pid_file_reread = None;
            if run.svc.awaiting_pid_file() {
                let event = self.main_pid_event(&name);
                self.feed(&name, event, now);
            }
        }
        let due: Vec<(String, bool)> = self
            .runtime
            .iter()
            .filter_map(|(name, rt)| match rt {
                UnitRun::Service(run) => {
                    if run.timer.is_some_and(|t| t <= now) {
                        Some((name.clone(), false))
                    } else if run.watchdog.is_some_and(|t| t <= now) {
                        Some((name.clone(), true))
                    } else {
                        None
                    }
                }
                _ => None,
            })
            .collect();
        for (name, watchdog) in due {
            if let Some(UnitRun::Service(run)) = self.runtime.get_mut(&name) {
                if watchdog {
                    run.watchdog = None;
                    let limit = run.svc.spec().watchdog.map_or_else(String::new, |d| {
                        format!(" (limit {})", crate::vocab::time::humanize(d))
                    });
                    self.notes
                        .push(Note::Error(format!("{name}: Watchdog timeout{limit}!")));
                } else {
                    run.timer = None;
                }
            }
            // A stop stage ending: maybe everything is gone by now.
            self.check_empty(&name, now);
            // An automatic restart is a new run: directories, credentials, INVOCATION_ID.
            if !watchdog && self.state_of(&name) == Some(State::AutoRestart) {
                if self.stop_pending(&name) {
                    // core/service.c service_enter_restart(): the stop job ends it instead.
                    self.notes.push(Note::Info(format!(
                        "{name}: Stop job pending for unit, skipping automatic restart."
                    )));
                    continue;
                }
                self.prepare_or_fail(&name);
            }
            let event = if watchdog {
                Event::Watchdog
            } else {
                Event::Timer
            };
            self.feed(&name, event, now);
        }
    }

    /// Services stopping, waiting for their PIDFile= or running without a known main
    /// process re-check whether their processes are all gone.
    pub(super) fn services_recheck_empty(&mut self, now: Instant) {
        let waiting: Vec<String> = self
            .runtime
            .iter()
            .filter(|(_, rt)| matches!(rt, UnitRun::Service(run) if run.svc.waits_for_empty()))
            .map(|(n, _)| n.clone())
            .collect();
        for unit in waiting {
            self.check_empty(&unit, now);
        }
    }
}
