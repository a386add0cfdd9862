//! `initctl is-ready`, for Kubernetes readiness probes: ready means boot is complete (the
//! units wanted at boot are up, the first-boot, upgrade and boot hooks are done) and no failed
//! unit counts against readiness: PID 1 says which do under its `ready.failed` setting
//! (by default those boot started; a timer's failed run does not take the pod out of
//! service). Otherwise the reason, in one line.

use serde::Serialize;

use crate::control::proto::SystemInfo;

/// Why bosun is not ready, in one line (`starting: running hooks (boot.d/10-wait)`,
/// `degraded: failed units: a.service b.service`); None when it is ready.
pub fn reason(system: &SystemInfo) -> Option<String> {
    let unready = unready(system);
    if matches!(system.state.as_str(), "running" | "degraded") && unready.is_empty() {
        return None;
    }
    if !unready.is_empty() && system.state != "stopping" {
        return Some(format!(
            "{}: failed units: {}",
            system.state,
            unready.join(" ")
        ));
    }
    let mut text = format!("{}: {}", system.state, system.phase);
    if let Some(hook) = &system.hook {
        text.push_str(&format!(" ({hook})"));
    } else if system.jobs == 1 {
        text.push_str(" (1 job)");
    } else if system.jobs > 1 {
        text.push_str(&format!(" ({} jobs)", system.jobs));
    }
    Some(text)
}

/// The failed units that make bosun not ready: PID 1's word, or every failed unit when it did
/// not say.
fn unready(system: &SystemInfo) -> &[String] {
    system
        .unready_units
        .as_deref()
        .unwrap_or(&system.failed_units)
}

/// `is-ready --json`.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ReadyJson {
    pub ready: bool,
    /// bosun's state (`starting`, `running`, `degraded`, `stopping`); null when bosun could not
    /// be reached.
    pub state: Option<String>,
    /// The boot phase; null when bosun could not be reached.
    pub phase: Option<String>,
    /// Why not ready; null when ready.
    pub reason: Option<String>,
    /// Every failed unit, whether it counts or not.
    pub failed_units: Vec<String>,
    /// The failed units that make it not ready (under `ready_failed`).
    pub unready_units: Vec<String>,
    /// The `ready.failed` setting (`any`, `boot`, `none`); null when bosun did not say.
    pub ready_failed: Option<String>,
}

impl ReadyJson {
    /// The answer for a reachable bosun.
    pub fn of(system: &SystemInfo) -> ReadyJson {
        let reason = reason(system);
        ReadyJson {
            ready: reason.is_none(),
            state: Some(system.state.clone()),
            phase: Some(system.phase.clone()),
            reason,
            failed_units: system.failed_units.clone(),
            unready_units: unready(system).to_vec(),
            ready_failed: system.ready_failed.clone(),
        }
    }

    /// The answer when bosun could not be reached.
    pub fn unreachable(reason: String) -> ReadyJson {
        ReadyJson {
            ready: false,
            state: None,
            phase: None,
            reason: Some(reason),
            failed_units: Vec::new(),
            unready_units: Vec::new(),
            ready_failed: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system(state: &str, phase: &str) -> SystemInfo {
        SystemInfo {
            state: state.into(),
            phase: phase.into(),
            ..SystemInfo::default()
        }
    }

    #[test]
    fn ready_only_when_running_without_failures() {
        assert_eq!(reason(&system("running", "boot complete")), None);
        let mut hooks = system("starting", "running hooks");
        hooks.hook = Some("boot.d/10-wait".into());
        assert_eq!(
            reason(&hooks).as_deref(),
            Some("starting: running hooks (boot.d/10-wait)")
        );
        let mut units = system("starting", "starting units");
        units.jobs = 2;
        assert_eq!(
            reason(&units).as_deref(),
            Some("starting: starting units (2 jobs)")
        );
        units.jobs = 1;
        assert_eq!(
            reason(&units).as_deref(),
            Some("starting: starting units (1 job)")
        );
        units.jobs = 2;
        let mut degraded = system("degraded", "boot complete");
        degraded.failed_units = vec!["a.service".into(), "b.service".into()];
        assert_eq!(
            reason(&degraded).as_deref(),
            Some("degraded: failed units: a.service b.service")
        );
        // A unit failing while boot still runs is said too: it will not become ready by itself.
        let mut both = units.clone();
        both.failed_units = vec!["a.service".into()];
        assert_eq!(
            reason(&both).as_deref(),
            Some("starting: failed units: a.service")
        );
        assert_eq!(
            reason(&system("stopping", "shutting down")).as_deref(),
            Some("stopping: shutting down")
        );
        let json = serde_json::to_value(ReadyJson::of(&degraded)).unwrap();
        assert_eq!(json["ready"], false);
        assert_eq!(json["failed_units"][1], "b.service");
        assert_eq!(json["unready_units"][1], "b.service");
    }

    #[test]
    fn only_the_failures_pid1_counts_make_it_not_ready() {
        // A failed timer run under `ready.failed: boot`: degraded, and ready all the same.
        let mut degraded = system("degraded", "boot complete");
        degraded.failed_units = vec!["logrotate.service".into()];
        degraded.unready_units = Some(Vec::new());
        degraded.ready_failed = Some("boot".into());
        assert_eq!(reason(&degraded), None);
        let json = serde_json::to_value(ReadyJson::of(&degraded)).unwrap();
        assert_eq!(json["ready"], true);
        assert_eq!(json["failed_units"][0], "logrotate.service");
        assert_eq!(json["unready_units"].as_array().unwrap().len(), 0);
        // Negative control: a failed unit boot started counts.
        degraded.failed_units.push("web.socket".into());
        degraded.unready_units = Some(vec!["web.socket".into()]);
        assert_eq!(
            reason(&degraded).as_deref(),
            Some("degraded: failed units: web.socket")
        );
        // Boot not complete is never ready, whatever the setting.
        let mut starting = system("starting", "starting units");
        starting.unready_units = Some(Vec::new());
        starting.ready_failed = Some("none".into());
        assert_eq!(
            reason(&starting).as_deref(),
            Some("starting: starting units")
        );
    }
}
