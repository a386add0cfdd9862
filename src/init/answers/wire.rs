//! The engine's snapshots, refusals and kill targets in the control protocol's types, words and
//! D-Bus error names: the one place that knows both (the manager knows none of the protocol).
//! Pure: no request handling, no I/O.

use crate::control::proto::{
    ExecStatus, KillWhom, PathInfo, Sandbox, UnitInfo, UnitRow, bus_error,
};
use crate::manager::engine::{Engine, RefusalReason, Tracking, UnitSnapshot, Whom};
use crate::service::state::Phase;
use crate::service::status::Active;
use crate::unit::model::ServiceType;
use crate::vocab::termination::Termination;

/// The engine's snapshots of `names` in the protocol's words; with `sandbox`, each service's
/// and socket's sandbox too.
pub(super) fn unit_infos(engine: &Engine, names: &[String], sandbox: bool) -> Vec<UnitInfo> {
    let mut infos: Vec<UnitInfo> = engine.snapshots(names).into_iter().map(unit_info).collect();
    if sandbox {
        let facts = crate::service::security::facts(engine.root());
        for info in &mut infos {
            info.sandbox = engine.exec_context(&info.name).map(|exec| Sandbox {
                properties: crate::service::exec_properties::properties(exec)
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
                assessment: crate::service::security::assess(exec, facts),
            });
        }
    }
    infos
}

/// What `initctl status`'s table shows of `names` ([`crate::control::proto::Request::Summary`]).
pub(super) fn unit_rows(engine: &Engine, names: &[String]) -> Vec<UnitRow> {
    // One unit at a time: a snapshot is large, and 500 of them side by side cost PID 1 the
    // growth of their vector (copies, pages mapped and unmapped).
    let mut rows = Vec::with_capacity(names.len());
    rows.extend(engine.summaries(names).map(unit_info).map(UnitRow::from));
    rows
}

/// One unit as the protocol carries it.
fn unit_info(s: UnitSnapshot) -> UnitInfo {
    let states = |list: Vec<(String, Active)>| {
        list.into_iter()
            .map(|(unit, active)| (unit, active.name().to_owned()))
            .collect()
    };
    UnitInfo {
        name: s.name,
        description: s.description,
        load_state: s.load.name().to_owned(),
        load_error: s.load_error,
        fragment: s.fragment,
        source_path: s.source_path,
        aliases: s.aliases,
        dropins: s.dropins,
        active_state: s.active.name().to_owned(),
        sub_state: s.sub_state.to_owned(),
        result: s.result.to_owned(),
        main_pid: s.main_pid,
        control_pid: s.control_pid,
        since_ms: s.since_ms,
        restarts: s.restarts,
        status_text: s.status_text,
        service_type: s.service_type.map_or_else(String::new, service_type_name),
        job: s.job.map(|k| k.name().to_owned()),
        tracking: s.tracking.map(|t| {
            match t {
                Tracking::Cgroup => "cgroup",
                Tracking::Session => "session",
            }
            .to_owned()
        }),
        processes: s.processes,
        main_exit: s.main_exit.map(code_and_status),
        exec_main_pid: s.exec_main_pid,
        execs: s
            .execs
            .into_iter()
            .map(|e| {
                let (code, status) = code_and_status(e.ended);
                ExecStatus {
                    name: directive_of(e.phase).to_owned(),
                    argv: e.argv,
                    pid: e.pid,
                    code,
                    status,
                }
            })
            .collect(),
        wants: s.wants,
        requires: s.requires,
        after: s.after,
        before: s.before,
        requisite: s.requisite,
        binds_to: s.binds_to,
        listen: s.listen,
        mount: s.mount.map(|m| crate::control::proto::MountFacts {
            path: m.path,
            what: m.what,
            fstype: m.fstype,
            options: m.options,
            source: crate::manager::tracked::MOUNTINFO.to_owned(),
        }),
        connections: s.connections,
        next_elapse_ms: s.next_elapse.map(epoch_ms),
        last_trigger_ms: s.last_trigger.map(epoch_ms),
        triggers: states(s.triggers),
        triggered_by: states(s.triggered_by),
        path: s.path.map(|p| PathInfo {
            paths: p
                .paths
                .into_iter()
                .map(|(c, path)| (c.to_owned(), path))
                .collect(),
            make_directory: p.make_directory,
            directory_mode: p.directory_mode,
            trigger_limit_interval_usec: u64::try_from(p.trigger_limit_interval.as_micros())
                .unwrap_or(u64::MAX),
            trigger_limit_burst: p.trigger_limit_burst,
        }),
        sandbox: None,
        journal: None,
    }
}

/// Milliseconds since the Unix epoch of a wall-clock time.
fn epoch_ms(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn service_type_name(t: ServiceType) -> String {
    match t {
        ServiceType::Simple => "simple",
        ServiceType::Exec => "exec",
        ServiceType::Forking => "forking",
        ServiceType::Oneshot => "oneshot",
        ServiceType::Dbus => "dbus",
        ServiceType::Notify => "notify",
        ServiceType::NotifyReload => "notify-reload",
        ServiceType::Idle => "idle",
    }
    .to_owned()
}

/// How a process ended, as systemd's `code=` word and the status or signal number.
fn code_and_status(t: Termination) -> (String, i32) {
    match t {
        Termination::Exited(c) => ("exited".to_owned(), c),
        Termination::Signaled(s) => ("killed".to_owned(), s),
    }
}

/// The directive of a command list.
fn directive_of(phase: Phase) -> &'static str {
    match phase {
        Phase::Condition => "ExecCondition",
        Phase::StartPre => "ExecStartPre",
        Phase::Start => "ExecStart",
        Phase::StartPost => "ExecStartPost",
        Phase::Reload => "ExecReload",
        Phase::Stop => "ExecStop",
        Phase::StopPost => "ExecStopPost",
    }
}

/// `--kill-whom=` in the engine's words.
pub(super) fn kill_whom(whom: KillWhom) -> Whom {
    match whom {
        KillWhom::Main => Whom::Main,
        KillWhom::Control => Whom::Control,
        KillWhom::All => Whom::All,
    }
}

/// A refused job's systemctl exit code and D-Bus error (core/dbus-unit.c
/// bus_unit_validate_load_state(); systemctl exits 5 for a unit it cannot find).
pub(super) fn refusal_words(reason: RefusalReason) -> (u8, &'static str) {
    match reason {
        RefusalReason::InvalidName => (1, bus_error::INVALID_ARGS),
        RefusalReason::NoSuchUnit => (5, bus_error::NO_SUCH_UNIT),
        RefusalReason::Masked => (1, bus_error::UNIT_MASKED),
        RefusalReason::BadSetting => (1, bus_error::BAD_UNIT_SETTING),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::transaction::JobKind;

    #[test]
    fn snapshots_are_said_in_the_protocols_words() {
        use crate::manager::engine::{ExecSnapshot, LoadStatus};
        let mut snap = UnitSnapshot::new("a.service".into(), "A".into());
        snap.load = LoadStatus::BadSetting;
        snap.active = Active::Failed;
        snap.service_type = Some(ServiceType::NotifyReload);
        snap.job = Some(JobKind::Stop);
        snap.tracking = Some(Tracking::Session);
        snap.main_exit = Some(Termination::Signaled(9));
        snap.execs = vec![ExecSnapshot {
            phase: Phase::StartPre,
            argv: "/bin/true".into(),
            pid: 6,
            ended: Termination::Exited(0),
        }];
        snap.next_elapse = Some(std::time::UNIX_EPOCH + std::time::Duration::from_millis(1500));
        snap.triggers = vec![("a.service".into(), Active::Reloading)];
        let info = unit_info(snap.clone());
        assert_eq!(
            (
                info.load_state.as_str(),
                info.active_state.as_str(),
                info.service_type.as_str(),
                info.job.as_deref(),
                info.tracking.as_deref(),
            ),
            (
                "bad-setting",
                "failed",
                "notify-reload",
                Some("stop"),
                Some("session")
            )
        );
        assert_eq!(info.main_exit, Some(("killed".to_owned(), 9)));
        assert_eq!(
            info.execs,
            [ExecStatus {
                name: "ExecStartPre".into(),
                argv: "/bin/true".into(),
                pid: 6,
                code: "exited".into(),
                status: 0,
            }]
        );
        assert_eq!(info.next_elapse_ms, Some(1500));
        assert_eq!(
            info.triggers,
            [("a.service".to_owned(), "reloading".to_owned())]
        );
        // Not a service: no Type= shown.
        snap.service_type = None;
        assert_eq!(unit_info(snap).service_type, "");
    }

    #[test]
    fn refusals_get_systemctls_exit_codes_and_dbus_errors() {
        assert_eq!(
            refusal_words(RefusalReason::NoSuchUnit),
            (5, "org.freedesktop.systemd1.NoSuchUnit")
        );
        assert_eq!(
            refusal_words(RefusalReason::InvalidName),
            (1, "org.freedesktop.DBus.Error.InvalidArgs")
        );
        assert_eq!(
            refusal_words(RefusalReason::Masked),
            (1, "org.freedesktop.systemd1.UnitMasked")
        );
        assert_eq!(
            refusal_words(RefusalReason::BadSetting),
            (1, "org.freedesktop.systemd1.BadUnitSetting")
        );
    }
}
