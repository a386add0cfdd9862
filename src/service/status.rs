//! The vocabulary `systemctl` and `initctl` show for a service: its sub-state ([`State`]), its
//! active state ([`Active`]) and why it ended ([`Outcome`]), with systemd's exact names.

/// Where a service is in its life (systemd's service sub-states).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not running: never started, or stopped cleanly.
    Dead,
    /// ExecCondition= commands run.
    Condition,
    /// ExecStartPre= commands run.
    StartPre,
    /// The main process starts (for Type=notify: until READY=1; forking: until the parent exits;
    /// oneshot: while the ExecStart= commands run).
    Start,
    /// ExecStartPost= commands run.
    StartPost,
    /// Up: the main process runs.
    Running,
    /// Up without a process: a oneshot or a service whose main process ended, with
    /// RemainAfterExit=yes.
    Exited,
    /// ExecReload= commands run, or a notify service said RELOADING=1.
    Reload,
    /// ExecStop= commands run.
    Stop,
    /// Remaining processes were sent KillSignal=; waiting for them.
    StopSigterm,
    /// Remaining processes were sent FinalKillSignal= (SIGKILL).
    StopSigkill,
    /// ExecStopPost= commands run.
    StopPost,
    /// Processes left after ExecStopPost= were sent KillSignal=.
    FinalSigterm,
    /// ... and then SIGKILL.
    FinalSigkill,
    /// Stopped with a failure; stays so until started again or reset.
    Failed,
    /// Waiting RestartSec= before starting again.
    AutoRestart,
}

impl State {
    /// systemd's sub-state name.
    pub fn name(self) -> &'static str {
        match self {
            State::Dead => "dead",
            State::Condition => "condition",
            State::StartPre => "start-pre",
            State::Start => "start",
            State::StartPost => "start-post",
            State::Running => "running",
            State::Exited => "exited",
            State::Reload => "reload",
            State::Stop => "stop",
            State::StopSigterm => "stop-sigterm",
            State::StopSigkill => "stop-sigkill",
            State::StopPost => "stop-post",
            State::FinalSigterm => "final-sigterm",
            State::FinalSigkill => "final-sigkill",
            State::Failed => "failed",
            State::AutoRestart => "auto-restart",
        }
    }

    /// systemd's active state for this sub-state.
    pub fn active(self) -> Active {
        match self {
            State::Dead => Active::Inactive,
            State::Failed => Active::Failed,
            State::Condition
            | State::StartPre
            | State::Start
            | State::StartPost
            | State::AutoRestart => Active::Activating,
            State::Running | State::Exited => Active::Active,
            State::Reload => Active::Reloading,
            State::Stop
            | State::StopSigterm
            | State::StopSigkill
            | State::StopPost
            | State::FinalSigterm
            | State::FinalSigkill => Active::Deactivating,
        }
    }
}

/// systemd's ActiveState, as `systemctl is-active` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Active {
    Active,
    Reloading,
    Inactive,
    Failed,
    Activating,
    Deactivating,
}

impl Active {
    pub fn name(self) -> &'static str {
        match self {
            Active::Active => "active",
            Active::Reloading => "reloading",
            Active::Inactive => "inactive",
            Active::Failed => "failed",
            Active::Activating => "activating",
            Active::Deactivating => "deactivating",
        }
    }
}

/// Why a service ended as it did (systemd's `Result=` property, `$SERVICE_RESULT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// A process could not be spawned.
    Resources,
    /// The service broke the protocol of its Type= (no PIDFile, exit before READY=1).
    Protocol,
    Timeout,
    ExitCode,
    Signal,
    CoreDump,
    Watchdog,
    StartLimitHit,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Resources => "resources",
            Outcome::Protocol => "protocol",
            Outcome::Timeout => "timeout",
            Outcome::ExitCode => "exit-code",
            Outcome::Signal => "signal",
            Outcome::CoreDump => "core-dump",
            Outcome::Watchdog => "watchdog",
            Outcome::StartLimitHit => "start-limit-hit",
        }
    }
}
