//! What a service's state machine needs to know of its unit, with defaults resolved: how many
//! commands each phase has and which may fail, the restart policy, timeouts, kill settings and
//! the start limit. Built once per (re)load from the parsed `[Service]` section.

use std::time::Duration;

use super::state::Phase;
use crate::unit::model::{KillMode, NotifyAccess, RestartPolicy, ServiceSection, ServiceType};
use crate::unit::value::ExitStatusSet;

/// The settings of one service that drive its state machine, with defaults resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub kind: ServiceType,
    pub remain_after_exit: bool,
    pub has_pid_file: bool,
    /// How many commands each phase has, and which may fail (`-`).
    pub commands: Commands,
    pub restart: RestartPolicy,
    pub restart_delay: Duration,
    pub timeout_start: Option<Duration>,
    pub timeout_stop: Option<Duration>,
    pub runtime_max: Option<Duration>,
    pub watchdog: Option<Duration>,
    pub success_status: ExitStatusSet,
    pub restart_prevent: ExitStatusSet,
    pub restart_force: ExitStatusSet,
    pub notify_access: NotifyAccess,
    pub kill_mode: KillMode,
    pub kill_signal: i32,
    pub restart_kill_signal: i32,
    pub final_kill_signal: i32,
    pub watchdog_signal: i32,
    pub send_sigkill: bool,
    pub send_sighup: bool,
    pub start_limit_interval: Duration,
    pub start_limit_burst: u32,
}

/// For each phase, one flag per command: may it fail (`-`)?
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Commands {
    pub condition: Vec<bool>,
    pub start_pre: Vec<bool>,
    pub start: Vec<bool>,
    pub start_post: Vec<bool>,
    pub reload: Vec<bool>,
    pub stop: Vec<bool>,
    pub stop_post: Vec<bool>,
}

impl Commands {
    /// Whether command `index` of `phase` carries the `-` prefix (its failure is ignored).
    pub fn may_fail(&self, phase: Phase, index: usize) -> bool {
        self.of(phase).get(index).copied().unwrap_or(false)
    }

    pub(super) fn of(&self, phase: Phase) -> &[bool] {
        match phase {
            Phase::Condition => &self.condition,
            Phase::StartPre => &self.start_pre,
            Phase::Start => &self.start,
            Phase::StartPost => &self.start_post,
            Phase::Reload => &self.reload,
            Phase::Stop => &self.stop,
            Phase::StopPost => &self.stop_post,
        }
    }
}

/// Manager-wide defaults (systemd's Default*= settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defaults {
    pub timeout_start: Duration,
    pub timeout_stop: Duration,
    pub restart_delay: Duration,
    pub start_limit_interval: Duration,
    pub start_limit_burst: u32,
}

impl Default for Defaults {
    /// systemd's built-in defaults.
    fn default() -> Self {
        Defaults {
            timeout_start: Duration::from_secs(90),
            timeout_stop: Duration::from_secs(90),
            restart_delay: Duration::from_millis(100),
            start_limit_interval: Duration::from_secs(10),
            start_limit_burst: 5,
        }
    }
}

impl Spec {
    /// The longest a stop can take, whatever its processes do: each stage of the stop
    /// (ExecStop=, SIGTERM, SIGKILL, ExecStopPost=, the final SIGTERM and SIGKILL) ends at the
    /// latest TimeoutStopSec= after it began, as in systemd. None when TimeoutStopSec= is
    /// infinity (or the sum overflows): no bound but the shutdown's.
    pub fn stop_bound(&self) -> Option<Duration> {
        let t = self.timeout_stop?;
        let with = |present: bool| u32::from(present);
        let stages = with(!self.commands.stop.is_empty())
            + 1
            + with(self.send_sigkill)
            + with(!self.commands.stop_post.is_empty())
            + 1
            + with(self.send_sigkill);
        t.checked_mul(stages)
    }

    /// The machine's view of a `[Service]` section (and the unit's start limit), with
    /// `defaults` where the unit says nothing.
    pub fn from_section(
        service: &ServiceSection,
        start_limit: (Option<Duration>, Option<u32>),
        defaults: &Defaults,
    ) -> Spec {
        let flags = |list: &[crate::unit::ExecCommand]| -> Vec<bool> {
            list.iter().map(|c| c.flags.ignore_failure).collect()
        };
        let kind = match service.effective_type() {
            // D-Bus activation does not exist in a container: supervised as simple (the
            // caller warns once).
            ServiceType::Dbus | ServiceType::Idle => ServiceType::Simple,
            other => other,
        };
        let timeout = |t: Option<crate::unit::Timespan>, default: Duration| match t {
            Some(t) => t.as_timeout(),
            None => Some(default),
        };
        let kill = &service.kill;
        let kill_signal = kill.kill_signal.unwrap_or(libc::SIGTERM);
        Spec {
            kind,
            remain_after_exit: service.remain_after_exit,
            has_pid_file: service.pid_file.is_some(),
            commands: Commands {
                condition: flags(&service.exec_condition),
                start_pre: flags(&service.exec_start_pre),
                start: flags(&service.exec_start),
                start_post: flags(&service.exec_start_post),
                reload: flags(&service.exec_reload),
                stop: flags(&service.exec_stop),
                stop_post: flags(&service.exec_stop_post),
            },
            restart: service.restart,
            restart_delay: service
                .restart_sec
                .and_then(|t| t.finite())
                .unwrap_or(defaults.restart_delay),
            timeout_start: timeout(service.timeout_start, defaults.timeout_start),
            timeout_stop: timeout(service.timeout_stop, defaults.timeout_stop),
            runtime_max: service.runtime_max.and_then(|t| t.as_timeout()),
            watchdog: service.watchdog.and_then(|t| t.as_timeout()),
            success_status: service.success_exit_status.clone(),
            restart_prevent: service.restart_prevent_exit_status.clone(),
            restart_force: service.restart_force_exit_status.clone(),
            notify_access: service.notify_access.unwrap_or(match kind {
                ServiceType::Notify | ServiceType::NotifyReload => NotifyAccess::Main,
                _ => NotifyAccess::None,
            }),
            kill_mode: kill.kill_mode.unwrap_or(KillMode::ControlGroup),
            kill_signal,
            restart_kill_signal: kill.restart_kill_signal.unwrap_or(kill_signal),
            final_kill_signal: kill.final_kill_signal.unwrap_or(libc::SIGKILL),
            watchdog_signal: kill.watchdog_signal.unwrap_or(libc::SIGABRT),
            send_sigkill: kill.send_sigkill.unwrap_or(true),
            send_sighup: kill.send_sighup.unwrap_or(false),
            start_limit_interval: start_limit.0.unwrap_or(defaults.start_limit_interval),
            start_limit_burst: start_limit.1.unwrap_or(defaults.start_limit_burst),
        }
    }
}
