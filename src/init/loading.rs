//! PID 1's side of loading units, in the loop: the generators run as its children (at boot and
//! for each daemon-reload), the units boot once the boot's generators are done, daemon-reload's
//! answer waits for its generators and the reading of the units, and control calls that come
//! before the units booted wait for them. Must not wait for a process (the reaper routes the
//! generators' statuses) nor decide what a request does ([`super::answers`]).

use tokio::sync::oneshot;

use super::Supervisor;
use super::services::Services;
use crate::boot::generator_runner;
use crate::control::proto::{Request, Response};
use crate::control::server::Incoming;

impl Supervisor<'_> {
    /// Start the next generator; once the run is done, boot the units (at boot) or read them
    /// again and answer daemon-reload.
    pub(super) fn advance_generators(&mut self) {
        let Some(run) = self.generating.as_mut() else {
            return;
        };
        if let Some(pid) = run.advance()
            && let Some(svc) = self.services.as_mut()
        {
            // Not a service's process (an orphan a unit left would be guessed as one).
            svc.engine.note_outsider(pid);
        }
        if !run.done() {
            return;
        }
        self.generating = None;
        if self.unbooted.is_some() {
            self.boot_units();
        } else {
            self.finish_reload();
        }
    }

    /// The boot's generators are done: tmpfiles.d, load the units, queue the default target,
    /// then answer the calls that waited.
    fn boot_units(&mut self) {
        let Some(unbooted) = self.unbooted.take() else {
            return;
        };
        let parked = std::mem::take(&mut self.parked);
        let units = match &self.options.units {
            Some(units) if !self.shutting_down => units,
            _ => {
                for call in parked {
                    let _ = call.reply.send(stopping());
                }
                return;
            }
        };
        let (svc, notify) = Services::boot(
            units,
            self.options.stop_timeout,
            unbooted.clock,
            unbooted.lines,
        );
        self.services = Some(svc);
        self.notify = notify;
        for call in parked {
            self.on_call(call);
        }
    }

    /// A control call from the loop: parked until the units booted, refused once they are
    /// abandoned, else answered ([`Supervisor::on_control`]).
    pub(super) fn on_call(&mut self, call: Incoming) {
        if self.abandoned {
            let _ = call.reply.send(Response::Error {
                message: "bosun is ending every process now; the units are not managed any more"
                    .into(),
                exit: 1,
            });
            return;
        }
        if self.unbooted.is_some() && !matches!(call.request, Request::Exit { .. }) {
            self.parked.push(call);
            return;
        }
        self.on_control(call);
    }

    /// daemon-reload (already allowed): run the generators again, then read the units again and
    /// answer. A call that comes while they run gets a run of its own after this one: what it
    /// changed may come too late for the running one.
    pub(super) fn reload(&mut self, reply: oneshot::Sender<Response>) {
        if self.shutting_down {
            let _ = reply.send(stopping());
            return;
        }
        if self.generating.is_some() {
            self.reloads_next.push(reply);
            return;
        }
        self.reloads.push(reply);
        self.start_generators();
    }

    fn start_generators(&mut self) {
        if let Some(units) = &self.options.units {
            self.generating = Some(generator_runner::Run::start(
                &units.root,
                &units.generators,
                units.generator_timeout,
            ));
        }
    }

    /// The reload's generators are done: read the units again and answer; start the next run
    /// when calls wait for one.
    fn finish_reload(&mut self) {
        let replies = std::mem::take(&mut self.reloads);
        if self.shutting_down {
            for reply in replies.into_iter().chain(self.reloads_next.drain(..)) {
                let _ = reply.send(stopping());
            }
            return;
        }
        if let Some(svc) = self.services.as_mut() {
            svc.reload();
        }
        for reply in replies {
            let _ = reply.send(Response::Done);
        }
        if !self.reloads_next.is_empty() {
            self.reloads = std::mem::take(&mut self.reloads_next);
            self.start_generators();
        }
    }

    /// A stop was asked for: no further generator, the running one killed.
    pub(super) fn interrupt_boot(&mut self) {
        if let Some(boot) = self.boot.as_mut() {
            boot.interrupt();
        }
        if let Some(run) = self.generating.as_mut() {
            run.interrupt();
        }
    }

    /// The running units, while they are managed.
    pub(super) fn units_mut(&mut self) -> Option<&mut Services> {
        if self.abandoned {
            return None;
        }
        self.services.as_mut()
    }
}

fn stopping() -> Response {
    Response::Error {
        message: "Transaction is destructive: bosun is shutting down.".into(),
        exit: 1,
    }
}
