//! PID 1's answers on the control socket: each request is handled against the engine in the
//! event loop; a job request with `wait` is answered once its jobs have finished.

use tokio::sync::oneshot;

use super::Supervisor;
use crate::control::proto::{JobOutcome, JobVerb, Request, Response, SystemInfo};
use crate::control::server::{Incoming, changes_state};
use crate::manager::jobs::JobResult;
use crate::manager::transaction::JobKind;
use crate::service::status::Active;

/// A job request waiting for its jobs to finish.
#[derive(Debug)]
pub struct Waiter {
    /// The jobs ignore dependencies (a restart's start too).
    alone: bool,
    units: Vec<String>,
    /// Units of a restart: their stop is queued; their start follows when it ends.
    then_start: Vec<String>,
    refused: Vec<JobOutcome>,
    reply: oneshot::Sender<Response>,
}

impl Supervisor<'_> {
    /// Answer one request (or park it until its jobs end).
    pub(super) fn on_control(&mut self, call: Incoming) {
        let me = nix::unistd::geteuid().as_raw();
        if changes_state(&call.request) && call.uid != 0 && call.uid != me {
            let _ = call.reply.send(Response::Error {
                message: "Access denied".into(),
                exit: 4,
            });
            return;
        }
        let now = std::time::Instant::now();
        let response = match (call.request, self.services.as_mut()) {
            (Request::Exit { code }, _) => {
                crate::log::notice(format_args!(
                    "exit {code} requested over the control socket"
                ));
                self.requested_exit = Some(code);
                self.begin_shutdown(now);
                Response::Done
            }
            (Request::System, _) => Response::System {
                system: Box::new(self.system_info()),
            },
            (_, None) => Response::Error {
                message: "bosun runs no units here (BOSUN_UNITS=off, or not PID 1)".into(),
                exit: 1,
            },
            (Request::Units { names }, Some(svc)) => {
                svc.load(&names);
                let names = if names.is_empty() {
                    svc.engine.unit_names()
                } else {
                    names
                };
                Response::Units {
                    units: svc.engine.unit_infos(&names),
                }
            }
            (
                Request::Job {
                    verb,
                    units,
                    wait,
                    ignore_dependencies: alone,
                },
                Some(svc),
            ) => {
                if self.shutting_down {
                    Response::Error {
                        message: "Transaction is destructive: bosun is shutting down.".into(),
                        exit: 1,
                    }
                } else {
                    svc.load(&units);
                    let mut refused = Vec::new();
                    let mut queued = Vec::new();
                    let mut then_start = Vec::new();
                    for unit in &units {
                        match queue(&mut svc.engine, verb, unit, alone, now) {
                            Ok(Queued::Job) => queued.push(unit.clone()),
                            Ok(Queued::StopThenStart) => {
                                queued.push(unit.clone());
                                then_start.push(unit.clone());
                            }
                            Ok(Queued::Nothing) => {}
                            Err(outcome) => refused.push(outcome),
                        }
                    }
                    if !queued.is_empty() && (wait || !then_start.is_empty()) {
                        // A restart's start is queued when its stop ends, so even
                        // --no-block waits for the stop (systemd queues both at once).
                        self.waiters.push(Waiter {
                            alone,
                            units: queued,
                            then_start,
                            refused,
                            reply: call.reply,
                        });
                        return;
                    }
                    let mut jobs = refused;
                    jobs.extend(queued.into_iter().map(|unit| JobOutcome {
                        unit,
                        result: "queued".into(),
                        unit_result: String::new(),
                        message: None,
                        exit: 0,
                    }));
                    Response::Jobs { jobs }
                }
            }
            (
                Request::Kill {
                    units,
                    signal,
                    whom,
                },
                Some(svc),
            ) => {
                svc.load(&units);
                let mut missing = None;
                for unit in &units {
                    if !svc.engine.exists(unit) {
                        missing = Some(unit.clone());
                    } else {
                        svc.engine.kill(unit, whom, signal);
                    }
                }
                match missing {
                    Some(unit) => Response::Error {
                        message: format!("Unit {unit} not loaded."),
                        exit: 5,
                    },
                    None => Response::Done,
                }
            }
            (Request::ResetFailed { units }, Some(svc)) => {
                let units = if units.is_empty() {
                    svc.engine.failed_units()
                } else {
                    units
                };
                for unit in &units {
                    svc.engine.reset_failed(unit);
                }
                Response::Done
            }
            (Request::Reload, Some(svc)) => {
                svc.reload();
                Response::Done
            }
            (Request::Logs { unit, lines, after }, Some(svc)) => {
                let (lines, last) = svc.logs(unit.as_deref(), lines, after);
                Response::Logs { lines, last }
            }
            (Request::Environment { set, unset }, Some(svc)) => {
                svc.engine.change_environment(&set, &unset);
                Response::Environment {
                    variables: svc.engine.environment(),
                }
            }
        };
        let _ = call.reply.send(response);
    }

    /// Answer the job requests whose jobs have all finished.
    pub(super) fn answer_waiters(&mut self) {
        let Some(svc) = self.services.as_mut() else {
            self.waiters.clear();
            return;
        };
        let now = std::time::Instant::now();
        let mut still = Vec::new();
        let mut queue = std::mem::take(&mut self.waiters);
        while let Some(mut waiter) = queue.pop() {
            if waiter.units.iter().any(|u| svc.engine.job_of(u).is_some())
                && !waiter.reply.is_closed()
            {
                still.push(waiter);
                continue;
            }
            if !waiter.then_start.is_empty() && !self.shutting_down {
                for unit in std::mem::take(&mut waiter.then_start) {
                    svc.engine.forget_job(&unit);
                    if let Err(e) =
                        svc.engine
                            .request_with(&unit, JobKind::Start, waiter.alone, now)
                    {
                        waiter.units.retain(|u| *u != unit);
                        waiter.refused.push(JobOutcome {
                            unit,
                            result: "refused".into(),
                            unit_result: String::new(),
                            message: Some(e.to_string()),
                            exit: 1,
                        });
                    }
                }
                // The starts may have finished at once (Type=simple): look again now, as no
                // event may come to wake the loop.
                queue.push(waiter);
                continue;
            }
            let mut jobs = waiter.refused;
            for unit in waiter.units {
                let result = svc.engine.last_job(&unit).unwrap_or(JobResult::Done);
                jobs.push(JobOutcome {
                    unit_result: svc.engine.result_of(&unit),
                    unit,
                    result: result.name().into(),
                    message: None,
                    exit: 0,
                });
            }
            let _ = waiter.reply.send(Response::Jobs { jobs });
        }
        self.waiters = still;
    }

    /// systemd's is-system-running word and bosun's boot phase, in words.
    pub(super) fn condition(&self, failed: &[String]) -> (&'static str, &'static str) {
        let settled = self.services.as_ref().is_none_or(|s| s.engine.settled());
        let booted = self.boot.as_ref().is_none_or(super::hooks::Boot::complete);
        if self.shutting_down {
            ("stopping", "shutting down")
        } else if !settled {
            ("starting", "starting units")
        } else if !booted {
            ("starting", "running hooks")
        } else if !failed.is_empty() {
            ("degraded", "boot complete")
        } else {
            ("running", "boot complete")
        }
    }

    /// The system's state for `is-system-running` and `initctl status`.
    fn system_info(&self) -> SystemInfo {
        let engine = self.services.as_ref().map(|s| &s.engine);
        let failed = engine
            .map(crate::manager::engine::Engine::failed_units)
            .unwrap_or_default();
        let (state, phase) = self.condition(&failed);
        SystemInfo {
            state: state.into(),
            phase: phase.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            started_ms: self.started_ms,
            failed_units: failed,
            jobs: engine.map_or(0, crate::manager::engine::Engine::job_count),
            tracking: self
                .services
                .as_ref()
                .map_or_else(String::new, |s| s.tracking.clone()),
            build_id: self.boot.as_ref().and_then(super::hooks::Boot::build_id),
            volume: self.boot.as_ref().and_then(super::hooks::Boot::volume_dir),
            hook: self
                .boot
                .as_ref()
                .and_then(super::hooks::Boot::running_hook),
            volume_phase: self
                .boot
                .as_ref()
                .and_then(super::hooks::Boot::volume_phase),
            life_cycle: self.boot.as_ref().and_then(super::hooks::Boot::life_cycle),
            previous_build_id: self
                .boot
                .as_ref()
                .and_then(super::hooks::Boot::previous_build_id),
            upgrade_report: self
                .boot
                .as_ref()
                .map(|b| b.upgrade_report().to_vec())
                .unwrap_or_default(),
            bosun_new_files: self
                .boot
                .as_ref()
                .map(super::hooks::Boot::bosun_new_files)
                .unwrap_or_default(),
        }
    }
}

/// What [`queue`] did.
enum Queued {
    Job,
    /// A restart: the stop is queued, the start follows it.
    StopThenStart,
    /// Nothing to wait for (try-restart of an inactive unit, a reload).
    Nothing,
}

/// Queue `verb` on `unit`, or refuse with systemctl's words.
fn queue(
    engine: &mut crate::manager::engine::Engine,
    verb: JobVerb,
    unit: &str,
    alone: bool,
    now: std::time::Instant,
) -> Result<Queued, JobOutcome> {
    let refuse = |message: String, exit: u8| JobOutcome {
        unit: unit.to_owned(),
        result: "refused".into(),
        unit_result: String::new(),
        message: Some(message),
        exit,
    };
    if !engine.exists(unit) {
        return Err(refuse(format!("Unit {unit} not found."), 5));
    }
    let active = matches!(
        engine.active_state(unit),
        Active::Active | Active::Reloading | Active::Activating
    );
    let reload = engine.can_reload(unit);
    let restart = if active {
        Queued::StopThenStart
    } else {
        Queued::Job
    };
    let reload_now = |engine: &mut crate::manager::engine::Engine| {
        engine
            .reload(unit, now)
            .map(|()| Queued::Nothing)
            .map_err(|e| refuse(e, 1))
    };
    let kind = match verb {
        JobVerb::Start => JobKind::Start,
        JobVerb::Stop => JobKind::Stop,
        JobVerb::Reload if !reload => {
            return Err(refuse(
                format!("Job type reload is not applicable for unit {unit}."),
                1,
            ));
        }
        JobVerb::Reload => return reload_now(engine),
        JobVerb::ReloadOrRestart | JobVerb::ReloadOrTryRestart if reload && active => {
            return reload_now(engine);
        }
        JobVerb::TryRestart | JobVerb::ReloadOrTryRestart if !active => return Ok(Queued::Nothing),
        JobVerb::Restart
        | JobVerb::TryRestart
        | JobVerb::ReloadOrRestart
        | JobVerb::ReloadOrTryRestart => {
            if active {
                JobKind::Stop
            } else {
                JobKind::Start
            }
        }
    };
    engine.forget_job(unit);
    engine
        .request_with(unit, kind, alone, now)
        .map_err(|e| refuse(e.to_string(), 1))?;
    Ok(match (verb, kind) {
        (JobVerb::Start | JobVerb::Stop, _) | (_, JobKind::Start) => Queued::Job,
        _ => restart,
    })
}
