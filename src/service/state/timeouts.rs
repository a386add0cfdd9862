//! What the state timer's firing does in each state (TimeoutStartSec=, TimeoutStopSec=,
//! RuntimeMaxSec=, RestartSec=), as core/service.c service_dispatch_timer() does.

use std::time::Instant;

use super::{Action, Outcome, Service, State, Target};

impl Service {
    pub(super) fn on_timer(&mut self, now: Instant, out: &mut Vec<Action>) {
        self.timer = None;
        match self.state {
            State::Condition | State::StartPre | State::Start => {
                self.enter_signal(State::StopSigterm, Outcome::Timeout, now, out);
            }
            State::StartPost => self.enter_stop(Outcome::Timeout, now, out),
            State::Running => self.enter_stop(Outcome::Timeout, now, out),
            State::Reload => {
                self.reload_failed = true;
                if self.control_pid.is_some() {
                    out.push(Action::Signal {
                        target: Target::Control,
                        signo: libc::SIGKILL,
                    });
                }
                self.control = None;
                self.enter_running(now, out);
            }
            State::Stop => self.enter_signal(State::StopSigterm, Outcome::Timeout, now, out),
            State::StopSigterm if self.spec.send_sigkill => {
                self.enter_signal(State::StopSigkill, Outcome::Timeout, now, out);
            }
            State::StopSigterm | State::StopSigkill => {
                self.fail_with(Outcome::Timeout);
                self.enter_stop_post(now, out);
            }
            State::StopPost => self.enter_signal(State::FinalSigterm, Outcome::Timeout, now, out),
            State::FinalSigterm if self.spec.send_sigkill => {
                self.enter_signal(State::FinalSigkill, Outcome::Timeout, now, out);
            }
            State::FinalSigterm | State::FinalSigkill => {
                self.enter_dead(Outcome::Timeout, true, now, out);
            }
            State::AutoRestart => self.on_start(now, out),
            State::Dead | State::Failed | State::Exited => {}
        }
    }
}
