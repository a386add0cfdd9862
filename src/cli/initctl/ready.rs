//! `initctl is-ready`, for Kubernetes readiness probes: ready means boot is complete (the
//! units wanted at boot are up, the first-boot, upgrade and boot hooks are done) and no unit
//! has failed, which is exactly bosun's `running` state. Otherwise the reason, in one line.

use serde::Serialize;

use crate::control::proto::SystemInfo;

/// Why bosun is not ready, in one line (`starting: running hooks (boot.d/10-wait)`,
/// `degraded: failed units: a.service b.service`); None when it is ready.
pub fn reason(system: &SystemInfo) -> Option<String> {
    if system.state == "running" && system.failed_units.is_empty() {
        return None;
    }
    if !system.failed_units.is_empty() && system.state != "stopping" {
        return Some(format!(
            "{}: failed units: {}",
            system.state,
            system.failed_units.join(" ")
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
    pub failed_units: Vec<String>,
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
    }
}
