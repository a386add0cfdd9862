//! PID 1's answers on the control socket: each request is handled against the engine in the
//! event loop; a job request with `wait` is answered once its jobs have finished. Maps the
//! engine's snapshots, refusals and kill targets to the protocol's types, words and D-Bus
//! error names (the manager knows none of them).

mod wire;

use tokio::sync::oneshot;

use super::Supervisor;
use crate::config::ReadyFailed;
use crate::control::proto::{JobOutcome, JobVerb, LogLine, Request, Response, SystemInfo};
use crate::control::server::{Incoming, MAX_LOG_BYTES, MAX_LOG_LINES, changes_state};
use crate::manager::jobs::JobResult;
use crate::manager::transaction::JobKind;
use crate::service::status::Active;
use wire::{kill_whom, refusal_words, unit_infos};

/// A job request waiting for its jobs to finish.
#[derive(Debug)]
pub struct Waiter {
    /// The jobs ignore dependencies (a restart's start too).
    alone: bool,
    units: Vec<String>,
    /// Units of a restart: their stop is queued; their start follows when it ends.
    then_start: Vec<String>,
    /// Units reloading (no job: the reload is done when the unit leaves `reloading`).
    reloads: Vec<String>,
    /// The kind of job awaited on each unit: when the unit has a job of the other kind, the
    /// awaited one was canceled (a stop replaced a start).
    kinds: Vec<(String, JobKind)>,
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
                self.exit_requested(code);
                Response::Done
            }
            (Request::System, _) => Response::System {
                system: Box::new(self.system_info()),
            },
            (Request::Overview, Some(svc)) => {
                let names: Vec<String> = svc.engine.kept_units().into_iter().collect();
                let units = unit_infos(&svc.engine, &names, false);
                Response::Overview {
                    system: Box::new(self.system_info()),
                    units,
                }
            }
            (Request::Summary, Some(svc)) => {
                let names: Vec<String> = svc.engine.kept_units().into_iter().collect();
                let units = wire::unit_rows(&svc.engine, &names);
                Response::Summary {
                    system: Box::new(self.system_info()),
                    units,
                }
            }
            (_, None) => Response::Error {
                message: "bosun runs no units here (BOSUN_UNITS=off, or not PID 1)".into(),
                exit: 1,
            },
            (Request::Units { names, .. }, Some(_))
            | (Request::States { names }, Some(_))
            | (Request::Job { units: names, .. }, Some(_))
                if let Some(invalid) = invalid_name(&names) =>
            {
                invalid
            }
            (
                Request::Units {
                    names,
                    sandbox,
                    journal,
                },
                Some(svc),
            ) => {
                svc.load(&names);
                let names = if names.is_empty() {
                    svc.engine.kept_units().into_iter().collect()
                } else {
                    names
                };
                let mut units = unit_infos(&svc.engine, &names, sandbox);
                if journal > 0 {
                    let everything = crate::journal::ring::Filter::default();
                    with_journals(&mut units, journal, |unit, n| {
                        svc.logs(Some(unit), n, (0, 0), &everything).0
                    });
                }
                Response::Units { units }
            }
            (Request::States { names }, Some(svc)) => {
                svc.load(&names);
                // What a Units answer says of each (a unit it does not hold is not in it).
                let state = |name: &String| {
                    if svc.engine.is_known(name) {
                        svc.engine.active_state(name).name()
                    } else {
                        Active::Inactive.name()
                    }
                };
                Response::States {
                    states: names.iter().map(|n| state(n).to_owned()).collect(),
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
                    let mut reloads = Vec::new();
                    let mut kinds = Vec::new();
                    for unit in &units {
                        match queue(&mut svc.engine, verb, unit, alone, now) {
                            Ok(Queued::Job(kind)) => {
                                queued.push(unit.clone());
                                kinds.push((unit.clone(), kind));
                            }
                            Ok(Queued::StopThenStart(dependents)) => {
                                queued.push(unit.clone());
                                then_start.push(unit.clone());
                                then_start.extend(dependents);
                                kinds.push((unit.clone(), JobKind::Stop));
                            }
                            Ok(Queued::Reload) => {
                                queued.push(unit.clone());
                                reloads.push(unit.clone());
                            }
                            Ok(Queued::Nothing) => {}
                            Err(outcome) => refused.push(*outcome),
                        }
                    }
                    if !queued.is_empty() && (wait || !then_start.is_empty()) {
                        // A restart's start is queued when its stop ends, so even
                        // --no-block waits for the stop (systemd queues both at once).
                        self.waiters.push(Waiter {
                            alone,
                            units: queued,
                            then_start,
                            reloads,
                            kinds,
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
                        error: None,
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
                // KillUnit and ResetFailedUnit act on loaded units only, and load none
                // (core/dbus-manager.c method_kill_unit(), method_reset_failed_unit()).
                let jobs = units
                    .iter()
                    .map(|unit| {
                        let result = if svc.engine.is_loaded(unit) {
                            svc.engine.kill(unit, kill_whom(whom), signal)
                        } else {
                            Err(format!("Unit {unit} not loaded."))
                        };
                        outcome(unit, result)
                    })
                    .collect();
                Response::Jobs { jobs }
            }
            (Request::ResetFailed { units }, Some(svc)) if units.is_empty() => {
                for unit in svc.engine.failed_units() {
                    svc.engine.reset_failed(&unit);
                }
                Response::Done
            }
            (Request::ResetFailed { units }, Some(svc)) => {
                let jobs = units
                    .iter()
                    .map(|unit| {
                        let result = if svc.engine.is_loaded(unit) {
                            svc.engine.reset_failed(unit);
                            Ok(())
                        } else {
                            Err(format!("Unit {unit} not loaded."))
                        };
                        outcome(unit, result)
                    })
                    .collect();
                Response::Jobs { jobs }
            }
            (Request::Reload, Some(_)) => {
                // Answered once the generators ran and the units were read again.
                self.reload(call.reply);
                return;
            }
            (
                Request::Logs {
                    unit,
                    lines,
                    after,
                    before,
                    filter,
                },
                Some(svc),
            ) => {
                // journalctl's add_units(): globs that match no unit the journal holds leave
                // no unit match at all, which it refuses rather than show everything.
                let filter = filter.to_filter();
                if filter.globs_only() && !svc.logs_hold_unit_matching(&filter.units) {
                    Response::Error {
                        message: crate::journal::ring::NO_UNIT_DATA.into(),
                        exit: 1,
                    }
                } else {
                    let wanted = lines.min(MAX_LOG_LINES + 1);
                    let (lines, last) = svc.logs(unit.as_deref(), wanted, (after, before), &filter);
                    cut_logs(lines, last, after > 0)
                }
            }
            (Request::Environment { set, unset }, Some(svc)) => {
                match svc.engine.change_environment(&set, &unset) {
                    Ok(()) => Response::Environment {
                        variables: svc.engine.environment(),
                    },
                    Err(message) => Response::Error { message, exit: 1 },
                }
            }
        };
        let _ = call.reply.send(response);
    }

    /// Unload the units nothing holds any more (the engine's garbage collection), keeping
    /// those a client still waits on; none while shutting down, which ends everything anyway.
    /// Units that went inactive without a query are collected at a later turn of the loop.
    pub(super) fn collect_garbage(&mut self) {
        let Some(svc) = self.services.as_mut().filter(|_| !self.shutting_down) else {
            return;
        };
        let held: Vec<String> = self
            .waiters
            .iter()
            .flat_map(|w| w.units.iter().chain(&w.then_start))
            .cloned()
            .collect();
        svc.engine.collect_garbage(&held, std::time::Instant::now());
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
            let awaited = |u: &String| {
                waiter
                    .kinds
                    .iter()
                    .find(|(name, _)| name == u)
                    .map(|(_, kind)| *kind)
            };
            let busy = |u: &String| {
                let job = svc.engine.job_of(u);
                (job.is_some() && job == awaited(u))
                    || (waiter.reloads.contains(u)
                        && svc.engine.active_state(u) == Active::Reloading)
            };
            if waiter.units.iter().any(busy) && !waiter.reply.is_closed() {
                still.push(waiter);
                continue;
            }
            if !waiter.then_start.is_empty() && !self.shutting_down {
                for unit in std::mem::take(&mut waiter.then_start) {
                    svc.engine.forget_job(&unit);
                    for (name, kind) in &mut waiter.kinds {
                        if *name == unit {
                            *kind = JobKind::Start;
                        }
                    }
                    let result = svc
                        .engine
                        .request_with(&unit, JobKind::Start, waiter.alone, now);
                    // A unit the restart took along is not awaited, nor reported.
                    if let Err(e) = result
                        && waiter.units.contains(&unit)
                    {
                        waiter.units.retain(|u| *u != unit);
                        waiter.refused.push(JobOutcome {
                            unit,
                            result: "refused".into(),
                            unit_result: String::new(),
                            message: Some(e.to_string()),
                            exit: 1,
                            error: None,
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
                let result = if waiter.reloads.contains(&unit) {
                    if svc.engine.reload_failed(&unit) {
                        JobResult::Failed
                    } else {
                        JobResult::Done
                    }
                } else if svc.engine.job_of(&unit).is_some() {
                    // Another job replaced the awaited one.
                    JobResult::Canceled
                } else {
                    svc.engine.last_job(&unit).unwrap_or(JobResult::Done)
                };
                jobs.push(JobOutcome {
                    unit_result: svc.engine.result_of(&unit),
                    unit,
                    result: result.name().into(),
                    message: None,
                    exit: 0,
                    error: None,
                });
            }
            let _ = waiter.reply.send(Response::Jobs { jobs });
        }
        self.waiters = still;
    }

    /// systemd's is-system-running word and bosun's boot phase, in words.
    pub(super) fn condition(&self, failed: &[String]) -> (&'static str, &'static str) {
        let settled = self
            .services
            .as_ref()
            .is_none_or(|s| s.engine.boot_finished());
        let booted = self
            .boot
            .as_ref()
            .is_none_or(crate::boot::hook_runner::VolumeHooks::complete);
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

    /// The failed units that make the container not ready under `policy` (see README,
    /// "Readiness"): every one, those boot started, or none.
    fn unready(&self, policy: ReadyFailed, failed: &[String]) -> Vec<String> {
        match (policy, self.services.as_ref()) {
            (ReadyFailed::None, _) | (_, None) => Vec::new(),
            (ReadyFailed::Any, Some(_)) => failed.to_vec(),
            // Nothing failed: no need to walk what the boot pulls in (every status call asks).
            (ReadyFailed::Boot, Some(_)) if failed.is_empty() => Vec::new(),
            (ReadyFailed::Boot, Some(svc)) => {
                let boot = svc.boot_set();
                failed
                    .iter()
                    .filter(|u| boot.contains(*u))
                    .cloned()
                    .collect()
            }
        }
    }

    /// The system's state for `is-system-running` and `initctl status`.
    fn system_info(&self) -> SystemInfo {
        let engine = self.services.as_ref().map(|s| &s.engine);
        let failed = engine
            .map(crate::manager::engine::Engine::failed_units)
            .unwrap_or_default();
        let (state, phase) = self.condition(&failed);
        let policy = self
            .options
            .units
            .as_ref()
            .map_or_else(ReadyFailed::default, |u| u.ready_failed);
        SystemInfo {
            state: state.into(),
            phase: phase.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            started_ms: self.started_ms,
            boot_id: Some(self.boot_id.clone()),
            unready_units: Some(self.unready(policy, &failed)),
            ready_failed: Some(policy.word().into()),
            failed_units: failed,
            jobs: engine.map_or(0, crate::manager::engine::Engine::job_count),
            tracking: self
                .services
                .as_ref()
                .map_or_else(String::new, |s| s.tracking.clone()),
            build_id: self
                .boot
                .as_ref()
                .and_then(crate::boot::hook_runner::VolumeHooks::build_id),
            volume: self
                .boot
                .as_ref()
                .and_then(crate::boot::hook_runner::VolumeHooks::volume_dir),
            hook: self
                .boot
                .as_ref()
                .and_then(crate::boot::hook_runner::VolumeHooks::running_hook),
            volume_phase: self
                .boot
                .as_ref()
                .and_then(crate::boot::hook_runner::VolumeHooks::volume_phase),
            life_cycle: self
                .boot
                .as_ref()
                .and_then(crate::boot::hook_runner::VolumeHooks::life_cycle),
            previous_build_id: self
                .boot
                .as_ref()
                .and_then(crate::boot::hook_runner::VolumeHooks::previous_build_id),
            upgrade_report: self
                .boot
                .as_ref()
                .map(|b| b.upgrade_report().to_vec())
                .unwrap_or_default(),
            bosun_new_files: self
                .boot
                .as_ref()
                .map(crate::boot::hook_runner::VolumeHooks::bosun_new_files)
                .unwrap_or_default(),
        }
    }
}

/// The error for the first of `names` that is not a valid unit name (systemd's
/// unit_name_is_valid(): at most 255 bytes, letters, digits and `:-_.\\`, one known type
/// suffix), as core/manager.c manager_load_unit_prepare() refuses it; checked before anything
/// is loaded.
fn invalid_name(names: &[String]) -> Option<Response> {
    let bad = names
        .iter()
        .find(|n| crate::unit::UnitName::parse(n).is_err())?;
    // The name as systemd would print it: a NUL or control character is shown escaped.
    Some(Response::Error {
        message: format!("Unit name {} is not valid.", bad.escape_debug()),
        exit: 1,
    })
}

/// About what `line` adds to an answer: bytes that are not UTF-8 travel again as a JSON array
/// of numbers (up to 4 each).
fn answer_bytes(line: &LogLine) -> usize {
    line.text.len() + line.unit.len() + 64 + line.raw.as_ref().map_or(0, |r| 4 * r.len())
}

/// Each unit's last `wanted` log lines (`logs_of(unit, n)`: its last `n`), in order, while
/// they fit in [`MAX_LOG_LINES`] and [`MAX_LOG_BYTES`] together; the units after are left
/// unanswered (`None`), and their client asks for their lines with a `logs` call each, which
/// cuts as it does.
fn with_journals(
    units: &mut [crate::control::proto::UnitInfo],
    wanted: usize,
    logs_of: impl Fn(&str, usize) -> Vec<LogLine>,
) {
    let (mut lines_left, mut bytes_left) = (MAX_LOG_LINES, MAX_LOG_BYTES);
    for unit in units {
        let lines = logs_of(&unit.name, wanted.min(lines_left + 1));
        let bytes: usize = lines.iter().map(answer_bytes).sum();
        if lines.len() > lines_left || bytes > bytes_left {
            break;
        }
        lines_left -= lines.len();
        bytes_left -= bytes;
        unit.journal = Some(lines);
    }
}

/// A `logs` answer within [`MAX_LOG_LINES`] and [`MAX_LOG_BYTES`] of text. Following (`after`
/// given), the oldest lines are sent and `last` is the last one sent, so the follower asks
/// again for the rest; otherwise the newest are sent. Either way the answer says lines were
/// left out.
fn cut_logs(mut lines: Vec<LogLine>, last: u64, following: bool) -> Response {
    let mut bytes = 0;
    let fits = |line: &LogLine, bytes: &mut usize| {
        *bytes += answer_bytes(line);
        *bytes <= MAX_LOG_BYTES
    };
    let keep = if following {
        lines.iter().take_while(|l| fits(l, &mut bytes)).count()
    } else {
        lines
            .iter()
            .rev()
            .take_while(|l| fits(l, &mut bytes))
            .count()
    }
    .min(MAX_LOG_LINES);
    let cut = lines.len() - keep;
    if cut == 0 {
        return Response::Logs {
            lines,
            last,
            cut: false,
        };
    }
    let last = if following {
        lines.truncate(keep);
        lines.last().map_or(last, |l| l.seq)
    } else {
        lines.drain(..cut);
        last
    };
    Response::Logs {
        lines,
        last,
        cut: true,
    }
}

/// A kill's or reset-failed's answer for one unit.
fn outcome(unit: &str, result: Result<(), String>) -> JobOutcome {
    let (result, message, exit) = match result {
        Ok(()) => ("done", None, 0),
        Err(m) => ("refused", Some(m), 1),
    };
    JobOutcome {
        unit: unit.to_owned(),
        result: result.into(),
        unit_result: String::new(),
        message,
        exit,
        error: None,
    }
}

/// What [`queue`] did.
enum Queued {
    /// A job of this kind.
    Job(JobKind),
    /// A restart: the stop is queued, the start follows it; and the start of the units its
    /// stop takes along (those that require it), which systemd restarts with it
    /// (core/transaction.c: a restart propagates as try-restart).
    StopThenStart(Vec<String>),
    /// A reload: done when the unit is no longer reloading.
    Reload,
    /// Nothing to wait for (try-restart of an inactive unit).
    Nothing,
}

/// Queue `verb` on `unit`, or refuse with systemd's words and systemctl's exit code.
fn queue(
    engine: &mut crate::manager::engine::Engine,
    verb: JobVerb,
    unit: &str,
    alone: bool,
    now: std::time::Instant,
) -> Result<Queued, Box<JobOutcome>> {
    let refuse = |message: String, exit: u8, error: &str| {
        Box::new(JobOutcome {
            unit: unit.to_owned(),
            result: "refused".into(),
            unit_result: String::new(),
            message: Some(message),
            exit,
            error: Some(error.to_owned()),
        })
    };
    if let Some(r) = engine.job_refusal(unit, verb == JobVerb::Stop) {
        let (exit, error) = refusal_words(r.reason);
        return Err(refuse(r.message, exit, error));
    }
    let active = matches!(
        engine.active_state(unit),
        Active::Active | Active::Reloading | Active::Activating
    );
    let reload = engine.can_reload(unit);
    // A reload of a unit that is not active is a job that ends "invalid" (core/unit.c
    // unit_reload()); systemctl reports it as such.
    let reload_now = |engine: &mut crate::manager::engine::Engine| match engine.reload(unit, now) {
        Ok(()) => Ok(Queued::Reload),
        Err(_) => Err(Box::new(JobOutcome {
            unit: unit.to_owned(),
            result: "invalid".into(),
            unit_result: String::new(),
            message: None,
            exit: 1,
            error: None,
        })),
    };
    let kind = match verb {
        JobVerb::Start => JobKind::Start,
        JobVerb::Stop => JobKind::Stop,
        // core/transaction.c: a reload job is not applicable to a unit that cannot reload;
        // systemctl exits 3 (EXIT_NOTIMPLEMENTED) for it.
        JobVerb::Reload if !reload => {
            return Err(refuse(
                format!(
                    "Job type reload is not applicable for unit {}.",
                    engine.canonical(unit)
                ),
                3,
                crate::control::proto::bus_error::JOB_TYPE_NOT_APPLICABLE,
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
    let restarting = kind == JobKind::Stop && verb != JobVerb::Stop;
    let running: Vec<String> = if restarting {
        engine
            .unit_names()
            .into_iter()
            .filter(|u| {
                matches!(
                    engine.active_state(u),
                    Active::Active | Active::Reloading | Active::Activating
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    engine.forget_job(unit);
    engine.request_with(unit, kind, alone, now).map_err(|e| {
        refuse(
            e.to_string(),
            1,
            crate::control::proto::bus_error::INVALID_ARGS,
        )
    })?;
    if !restarting {
        return Ok(Queued::Job(kind));
    }
    let name = engine.canonical(unit);
    let dependents = running
        .into_iter()
        .filter(|u| *u != name && engine.job_of(u) == Some(JobKind::Stop))
        .collect();
    Ok(Queued::StopThenStart(dependents))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: u64, text: &str) -> Vec<LogLine> {
        (1..=n)
            .map(|seq| LogLine::sample(seq, "a.service", text))
            .collect()
    }

    fn seqs(r: &Response) -> (u64, u64, usize, u64, bool) {
        let Response::Logs { lines, last, cut } = r else {
            panic!("{r:?}");
        };
        (
            lines[0].seq,
            lines[lines.len() - 1].seq,
            lines.len(),
            *last,
            *cut,
        )
    }

    #[test]
    fn logs_answers_keep_the_newest_lines_or_the_oldest_when_following() {
        let n = u64::try_from(MAX_LOG_LINES).unwrap() + 5;
        // Asked for the last lines: the newest are kept, `last` stays the journal's.
        let r = cut_logs(lines(n, "x"), n, false);
        assert_eq!(seqs(&r), (6, n, MAX_LOG_LINES, n, true));
        // Following: the oldest are sent and `last` is the last sent, so nothing is lost.
        let r = cut_logs(lines(n, "x"), n, true);
        let m = u64::try_from(MAX_LOG_LINES).unwrap();
        assert_eq!(seqs(&r), (1, m, MAX_LOG_LINES, m, true));
        // Bytes count too: 1,000-byte lines stop short of MAX_LOG_BYTES.
        let r = cut_logs(lines(2000, &"y".repeat(1000)), 2000, false);
        let (first, last_sent, count, _, cut) = seqs(&r);
        assert!(
            cut && last_sent == 2000 && count * 1000 < MAX_LOG_BYTES,
            "{count}"
        );
        assert_eq!(first, 2000 - u64::try_from(count).unwrap() + 1);
        // Within the limits nothing is cut.
        let r = cut_logs(lines(10, "z"), 10, false);
        assert_eq!(seqs(&r), (1, 10, 10, 10, false));
    }

    #[test]
    fn units_answers_carry_each_units_lines_while_they_fit() {
        let unit = |name: &str| crate::control::proto::UnitInfo {
            name: name.into(),
            ..Default::default()
        };
        let mut units = vec![unit("a.service"), unit("b.service"), unit("c.service")];
        // a has 3 lines, b as many as one answer may hold, c 1: a's and b's together do not
        // fit, so b and c are left for calls of their own.
        let held = |name: &str, n: usize| {
            let have = match name {
                "a.service" => 3,
                "b.service" => MAX_LOG_LINES,
                _ => 1,
            };
            lines(u64::try_from(have.min(n)).unwrap(), "x")
        };
        with_journals(&mut units, MAX_LOG_LINES, held);
        let answered: Vec<Option<usize>> = units
            .iter()
            .map(|u| u.journal.as_ref().map(Vec::len))
            .collect();
        assert_eq!(answered, [Some(3), None, None]);
        // Asked for 2 each, all fit: each has its last 2 (or fewer).
        let mut units = vec![unit("a.service"), unit("b.service"), unit("c.service")];
        with_journals(&mut units, 2, held);
        let answered: Vec<Option<usize>> = units
            .iter()
            .map(|u| u.journal.as_ref().map(Vec::len))
            .collect();
        assert_eq!(answered, [Some(2), Some(2), Some(1)]);
        // Bytes count too: one unit's 2,000 lines of 1,000 bytes are not answered at all.
        let mut units = vec![unit("a.service")];
        with_journals(&mut units, 2000, |_, n| {
            lines(u64::try_from(n.min(2000)).unwrap(), &"y".repeat(1000))
        });
        assert!(units[0].journal.is_none());
    }
}
