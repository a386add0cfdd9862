//! Socket units (systemd.socket(5)) in the engine: a start opens every `Listen*=` line and the
//! socket listens; PID 1's loop watches the listening descriptors ([`Engine::socket_watches`])
//! and reports activity ([`Engine::on_socket_ready`]).
//!
//! - `Accept=no`: activity starts the service, which is handed every socket of the units that
//!   trigger it (LISTEN_FDS); the socket is `running` and unwatched until the service is down
//!   again. bosun keeps the sockets open across the service's restarts, so a client connecting
//!   meanwhile waits in the backlog instead of being refused.
//! - `Accept=yes`: bosun accepts each connection and starts an instance of the template
//!   service, `NAME@N-LOCAL-REMOTE.service`, with the connection as its socket (and its
//!   stdin/stdout with `StandardInput=socket`); MaxConnections= and MaxConnectionsPerSource=
//!   bound the live instances.

mod open;

use std::collections::{BTreeMap, VecDeque};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use super::query::UnitSnapshot;
use super::unit_type::UnitType;
use super::{Engine, Note, UnitRun};
use crate::manager::jobs::JobResult;
use crate::manager::transaction::JobKind;
use crate::service::listen;
use crate::service::procs;
use crate::service::state::{Active, State};
use crate::unit::load::Loader;
use crate::unit::model::{ListenAddress, ListenKind, SocketSection};

/// systemd's default MaxConnections=.
const MAX_CONNECTIONS: u32 = 64;
/// TriggerLimitIntervalSec= and TriggerLimitBurst= defaults (Accept=yes allows more).
const TRIGGER_INTERVAL: Duration = Duration::from_secs(2);
const TRIGGER_BURST: usize = 20;
const TRIGGER_BURST_ACCEPT: usize = 200;

/// Where a socket unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SocketState {
    Dead,
    /// Open and watched.
    Listening,
    /// Open; its (Accept=no) service runs and owns the activity.
    Running,
    Failed,
}

impl SocketState {
    pub(super) fn name(self) -> &'static str {
        match self {
            SocketState::Dead => "dead",
            SocketState::Listening => "listening",
            SocketState::Running => "running",
            SocketState::Failed => "failed",
        }
    }

    pub(super) fn active(self) -> Active {
        match self {
            SocketState::Dead => Active::Inactive,
            SocketState::Listening | SocketState::Running => Active::Active,
            SocketState::Failed => Active::Failed,
        }
    }
}

/// A socket unit's run.
#[derive(Debug)]
pub(super) struct SocketRun {
    pub(super) section: SocketSection,
    /// The open descriptors, one per `Listen*=` line, in order; empty when closed.
    pub(super) fds: Vec<OwnedFd>,
    pub(super) state: SocketState,
    /// `success`, `resources`, `trigger-limit-hit`, `service-start-limit-hit`.
    pub(super) result: &'static str,
    /// Connections accepted since the start (the instance names' first part).
    pub(super) accepted: u32,
    /// Live instances (Accept=yes) and the source each counts against.
    pub(super) connections: BTreeMap<String, String>,
    /// Recent activations, for the trigger limit.
    triggers: VecDeque<Instant>,
}

impl SocketRun {
    pub(super) fn new(section: SocketSection) -> SocketRun {
        SocketRun {
            section,
            fds: Vec::new(),
            state: SocketState::Dead,
            result: "success",
            accepted: 0,
            connections: BTreeMap::new(),
            triggers: VecDeque::new(),
        }
    }
}

/// The service a socket activates: Service=, else its own name with `.service` — the template
/// `NAME@.service` with Accept=yes.
pub fn service_of(socket: &str, section: &SocketSection) -> String {
    if let Some(s) = &section.service {
        return s.to_string();
    }
    let prefix = socket.strip_suffix(".socket").unwrap_or(socket);
    if section.accept {
        format!("{prefix}@.service")
    } else {
        format!("{prefix}.service")
    }
}

impl UnitType for SocketRun {
    fn active(&self) -> Active {
        self.state.active()
    }

    /// A failed socket is not: it keeps its state until reset.
    fn at_rest(&self) -> bool {
        self.state == SocketState::Dead
    }

    fn reset_failed(&mut self) {
        if self.state == SocketState::Failed {
            self.state = SocketState::Dead;
        }
        self.result = "success";
    }

    fn snapshot(
        &self,
        engine: &Engine,
        snap: &mut UnitSnapshot,
        _: Option<&mut Option<procs::Table>>,
    ) {
        let service = engine.socket_service(&snap.name, &self.section);
        snap.sub_state = self.state.name();
        snap.result = self.result;
        snap.listen = self
            .section
            .listen
            .iter()
            .map(|l| {
                (
                    listen::kind_text(l).to_owned(),
                    listen::address_text(&l.address),
                )
            })
            .collect();
        let connected = u32::try_from(self.connections.len()).unwrap_or(u32::MAX);
        snap.connections = self.section.accept.then_some((self.accepted, connected));
        let active = engine.active_state(&service);
        snap.triggers = vec![(service, active)];
    }

    fn start(engine: &mut Engine, unit: &str, _: Instant) {
        engine.start_socket(unit);
    }

    fn stop(engine: &mut Engine, unit: &str, _: Instant) {
        engine.stop_socket(unit);
    }
}

impl Engine {
    /// Start job of a socket: check conditions, open every line, listen.
    pub(super) fn start_socket(&mut self, unit: &str) {
        if let Some(result) = self.conditions_fail(unit) {
            return self.finish_job(unit, result);
        }
        let desc = self.describe(unit);
        let root = self.settings.root.clone();
        let Some(UnitRun::Socket(run)) = self.runtime.get(unit) else {
            return;
        };
        if matches!(run.state, SocketState::Listening | SocketState::Running) {
            return self.finish_job(unit, JobResult::Done);
        }
        // As socket_verify() at load: an Accept=no socket needs its service.
        let service = self.socket_service(unit, &run.section);
        let opened = match self.not_a_service(&service).filter(|_| !run.section.accept) {
            Some(why) => Err(format!(
                "{unit}: Socket service {service} not loaded, refusing: {why}"
            )),
            None => open::open_all(unit, &run.section, &root),
        };
        let fds = match opened {
            Ok(fds) => fds,
            Err(why) => {
                // Nothing was opened: nothing to close (and no file to remove).
                self.mark_failed(unit, "resources", &why);
                self.notes
                    .push(Note::Error(format!("Failed to listen on {desc}.")));
                return self.finish_job(unit, JobResult::Failed);
            }
        };
        if let Some(UnitRun::Socket(run)) = self.runtime.get_mut(unit) {
            for warning in open::make_symlinks(unit, &run.section, &root) {
                self.notes.push(Note::Warning(warning));
            }
            run.fds = fds;
            run.state = SocketState::Listening;
            run.result = "success";
            run.accepted = 0;
            run.triggers.clear();
        }
        self.mark_changed(unit);
        self.notes.push(Note::Info(format!("Listening on {desc}.")));
        self.finish_job(unit, JobResult::Done);
        // A service of ours already running (started by itself) owns the activity.
        self.socket_follow_service(unit);
    }

    /// Stop job of a socket: close everything; RemoveOnStop= removes its files.
    pub(super) fn stop_socket(&mut self, unit: &str) {
        let desc = self.describe(unit);
        let root = self.settings.root.clone();
        let Some(UnitRun::Socket(run)) = self.runtime.get_mut(unit) else {
            return;
        };
        let was = run.state;
        close(run, &root);
        run.state = SocketState::Dead;
        if was != SocketState::Dead {
            self.mark_changed(unit);
            if was != SocketState::Failed {
                self.notes.push(Note::Info(format!("Closed {desc}.")));
            }
        }
        self.finish_job(unit, JobResult::Done);
    }

    /// The descriptors PID 1 should watch: those of listening sockets, as (unit, line, fd),
    /// borrowed: the engine alone owns them, so a stopped socket is closed at once and its
    /// address can be bound again by the next start.
    pub fn socket_watches(&self) -> Vec<(&str, usize, BorrowedFd<'_>)> {
        let mut out = Vec::new();
        for (name, rt) in &self.runtime {
            if let UnitRun::Socket(run) = rt
                && run.state == SocketState::Listening
            {
                for (i, fd) in run.fds.iter().enumerate() {
                    out.push((name.as_str(), i, fd.as_fd()));
                }
            }
        }
        out
    }

    /// Activity on line `index` of `unit`: start its service, or accept connections.
    pub fn on_socket_ready(&mut self, loader: &Loader, unit: &str, index: usize, now: Instant) {
        self.table = None;
        let Some(UnitRun::Socket(run)) = self.runtime.get_mut(unit) else {
            return;
        };
        if run.state != SocketState::Listening {
            return;
        }
        if self.stop_pending(unit) {
            // core/socket.c socket_enter_running(): no activation once the socket is to go
            // down; it is no longer watched (its stop job closes it).
            self.notes.push(Note::Info(format!(
                "{unit}: Suppressing connection request since unit stop is scheduled."
            )));
            if let Some(UnitRun::Socket(run)) = self.runtime.get_mut(unit) {
                run.fds.clear();
            }
            return;
        }
        let Some(UnitRun::Socket(run)) = self.runtime.get_mut(unit) else {
            return;
        };
        let Some(fd) = run.fds.get(index) else { return };
        let accepting = run.section.accept
            && matches!(
                run.section.listen.get(index).map(|l| l.kind),
                Some(ListenKind::Stream | ListenKind::SequentialPacket)
            );
        if !accepting {
            if !listen::readable(fd) {
                return;
            }
            if !self.trigger_allowed(unit, now, TRIGGER_BURST) {
                return;
            }
            let Some(service) = self.activates(unit) else {
                return;
            };
            if let Some(why) = self.not_a_service(&service) {
                self.fail_socket(
                    unit,
                    "resources",
                    &format!("{unit}: cannot activate {service}: {why}"),
                );
                return;
            }
            self.set_socket_state(unit, SocketState::Running);
            if let Err(e) = self.request(&service, JobKind::Start, now) {
                self.fail_socket(unit, "resources", &format!("{unit}: {service}: {e}"));
            }
            return;
        }
        // Accept what is pending now; more wakes the loop again.
        for _ in 0..64 {
            let Some(UnitRun::Socket(run)) = self.runtime.get_mut(unit) else {
                return;
            };
            if run.state != SocketState::Listening {
                return;
            }
            let number = run.accepted;
            let conn = match listen::accept(&run.fds[index], number) {
                Ok(Some(c)) => c,
                Ok(None) => return,
                Err(e) => {
                    self.notes.push(Note::Warning(format!(
                        "{unit}: Failed to accept socket: {e}"
                    )));
                    return;
                }
            };
            run.accepted = run.accepted.saturating_add(1);
            let max = run.section.max_connections.unwrap_or(MAX_CONNECTIONS) as usize;
            if run.connections.len() >= max {
                self.notes.push(Note::Warning(format!(
                    "{unit}: Too many incoming connections ({}), dropping connection.",
                    run.connections.len()
                )));
                continue;
            }
            if let Some(per) = run.section.max_connections_per_source {
                let same = run
                    .connections
                    .values()
                    .filter(|s| **s == conn.source)
                    .count();
                if same >= per as usize {
                    self.notes.push(Note::Warning(format!(
                        "{unit}: Too many incoming connections ({same}) from source {}, \
                         dropping connection.",
                        conn.source
                    )));
                    continue;
                }
            }
            if !self.trigger_allowed(unit, now, TRIGGER_BURST_ACCEPT) {
                return;
            }
            let Some(template) = self.activates(unit) else {
                return;
            };
            let prefix = template.strip_suffix("@.service").unwrap_or(&template);
            let instance = format!("{prefix}@{}.service", escape_instance(&conn.instance));
            self.ensure_loaded(loader, std::slice::from_ref(&instance));
            if let Some(why) = self.not_a_service(&instance) {
                self.notes
                    .push(Note::Error(format!("{unit}: cannot run {instance}: {why}")));
                continue;
            }
            let Some(UnitRun::Service(svc)) = self.runtime.get_mut(&instance) else {
                continue;
            };
            svc.connection = Some((conn.fd, conn.remote));
            if let Some(UnitRun::Socket(run)) = self.runtime.get_mut(unit) {
                run.connections.insert(instance.clone(), conn.source);
            }
            self.accepted_by.insert(instance.clone(), unit.to_owned());
            if let Err(e) = self.request(&instance, JobKind::Start, now) {
                self.notes
                    .push(Note::Error(format!("{unit}: {instance}: {e}")));
            }
        }
    }

    /// Trigger limit: too many activations in the interval fail the socket, as systemd's
    /// TriggerLimitBurst= (a service that never takes its socket would otherwise spin).
    fn trigger_allowed(&mut self, unit: &str, now: Instant, burst: usize) -> bool {
        let Some(UnitRun::Socket(run)) = self.runtime.get_mut(unit) else {
            return false;
        };
        // TriggerLimitIntervalSec=/TriggerLimitBurst= override the defaults; a zero turns the
        // limit off, as ratelimit_configured() says.
        let interval = run
            .section
            .trigger_limit_interval
            .map_or(Some(TRIGGER_INTERVAL), |t| {
                Some(t.finite().unwrap_or(Duration::MAX))
            });
        let burst = run
            .section
            .trigger_limit_burst
            .map_or(burst, |b| usize::try_from(b).unwrap_or(usize::MAX));
        let Some(interval) = interval.filter(|i| !i.is_zero() && burst > 0) else {
            return true;
        };
        while run
            .triggers
            .front()
            .is_some_and(|t| now.duration_since(*t) > interval)
        {
            run.triggers.pop_front();
        }
        run.triggers.push_back(now);
        if run.triggers.len() > burst {
            self.fail_socket(
                unit,
                "trigger-limit-hit",
                &format!("{unit}: Trigger limit hit, refusing further activation."),
            );
            return false;
        }
        true
    }

    /// The service a socket activates, by its canonical name: `syslog.socket`'s
    /// `syslog.service` is rsyslog.service where that is an alias link to it.
    pub(super) fn socket_service(&self, socket: &str, section: &SocketSection) -> String {
        self.canonical(&service_of(socket, section))
    }

    /// The service (or template) socket `unit` activates.
    fn activates(&self, unit: &str) -> Option<String> {
        match self.runtime.get(unit) {
            Some(UnitRun::Socket(run)) => Some(self.socket_service(unit, &run.section)),
            _ => None,
        }
    }

    /// Why `unit` cannot run as a service, when it cannot.
    fn not_a_service(&self, unit: &str) -> Option<String> {
        match self.runtime.get(unit) {
            Some(UnitRun::Service(_)) => None,
            Some(UnitRun::Inert(inert)) => Some(inert.reason.clone()),
            Some(_) => Some(format!("Unit {unit} is not a service.")),
            None => Some(format!("Unit {unit} not found.")),
        }
    }

    fn set_socket_state(&mut self, unit: &str, state: SocketState) {
        if let Some(UnitRun::Socket(run)) = self.runtime.get_mut(unit)
            && run.state != state
        {
            run.state = state;
            self.mark_changed(unit);
        }
    }

    /// A listening socket fails: it is closed (RemoveOnStop= removing its files), then
    /// marked failed.
    fn fail_socket(&mut self, unit: &str, result: &'static str, why: &str) {
        let root = self.settings.root.clone();
        if let Some(UnitRun::Socket(run)) = self.runtime.get_mut(unit) {
            close(run, &root);
        }
        self.mark_failed(unit, result, why);
    }

    /// Mark the socket failed with `result`, saying `why` in systemd's words.
    fn mark_failed(&mut self, unit: &str, result: &'static str, why: &str) {
        if let Some(UnitRun::Socket(run)) = self.runtime.get_mut(unit) {
            run.state = SocketState::Failed;
            run.result = result;
        }
        self.mark_changed(unit);
        self.notes.push(Note::Error(why.to_owned()));
        self.notes.push(Note::Error(format!(
            "{unit}: Failed with result '{result}'."
        )));
    }

    /// `service` changed state: its Accept=no sockets listen again once it is down (or
    /// become `running` when it came up by itself); an Accept=yes instance that is down
    /// leaves its socket's count and, when it ended cleanly, the set of units.
    pub(super) fn socket_service_changed(&mut self, service: &str) {
        let state = match self.runtime.get(service) {
            Some(UnitRun::Service(run)) => run.svc.state(),
            _ => return,
        };
        let down = matches!(state, State::Dead | State::Failed);
        if let Some(socket) = self.accepted_by.get(service).cloned() {
            if down {
                self.accepted_by.remove(service);
                if let Some(UnitRun::Socket(run)) = self.runtime.get_mut(&socket) {
                    run.connections.remove(service);
                }
                if let Some(UnitRun::Service(run)) = self.runtime.get_mut(service) {
                    run.connection = None;
                }
                if state == State::Dead && self.jobs.job(service).is_none() {
                    self.collect_instance(service);
                }
            }
            return;
        }
        let sockets: Vec<String> = self
            .runtime
            .iter()
            .filter_map(|(name, rt)| match rt {
                UnitRun::Socket(run)
                    if !run.section.accept
                        && self.socket_service(name, &run.section) == service =>
                {
                    Some(name.clone())
                }
                _ => None,
            })
            .collect();
        for socket in sockets {
            self.socket_follow_service(&socket);
        }
    }

    /// An Accept=no socket's state from its service's: running while the service is up or
    /// restarting, listening when it is down.
    fn socket_follow_service(&mut self, socket: &str) {
        let Some(UnitRun::Socket(run)) = self.runtime.get(socket) else {
            return;
        };
        if run.section.accept || !matches!(run.state, SocketState::Listening | SocketState::Running)
        {
            return;
        }
        let service = self.socket_service(socket, &run.section);
        let up = match self.runtime.get(&service) {
            Some(UnitRun::Service(s)) => {
                !matches!(s.svc.state(), State::Dead | State::Failed)
                    || self
                        .jobs
                        .job(&service)
                        .is_some_and(|(k, _)| k == JobKind::Start)
            }
            _ => false,
        };
        let state = if up {
            SocketState::Running
        } else {
            SocketState::Listening
        };
        self.set_socket_state(socket, state);
    }

    /// An instance that served its connection and ended cleanly is forgotten, as systemd
    /// garbage-collects it (a failed one stays for `systemctl status`).
    fn collect_instance(&mut self, unit: &str) {
        self.runtime.remove(unit);
        self.units.remove(unit);
        self.changed.remove(unit);
        self.last_job.remove(unit);
        self.graph = crate::manager::units::graph(&self.units, &self.aliases);
    }

    /// The sockets handed to `service`'s main process: an accepted connection, else every
    /// open socket of the Accept=no units that trigger it (its own name, Service=, Sockets=),
    /// each named by FileDescriptorName= or its unit.
    pub(super) fn sockets_for(&self, service: &str) -> Vec<(OwnedFd, String)> {
        let mut out = Vec::new();
        let Some(UnitRun::Service(svc)) = self.runtime.get(service) else {
            return out;
        };
        if let Some((conn, _)) = &svc.connection {
            if let Ok(fd) = conn.try_clone() {
                out.push((fd, "connection".to_owned()));
            }
            return out;
        }
        let listed: Vec<String> = svc
            .section
            .sockets
            .iter()
            .map(ToString::to_string)
            .collect();
        for (name, rt) in &self.runtime {
            let UnitRun::Socket(run) = rt else { continue };
            if run.section.accept
                || !(self.socket_service(name, &run.section) == service || listed.contains(name))
            {
                continue;
            }
            let label = run
                .section
                .file_descriptor_name
                .clone()
                .unwrap_or_else(|| name.clone());
            for fd in &run.fds {
                if let Ok(fd) = fd.try_clone() {
                    out.push((fd, label.clone()));
                }
            }
        }
        out
    }

    /// The socket units that activate `service` (for an instance: its template's).
    pub(super) fn sockets_activating(&self, service: &str) -> Vec<String> {
        if let Some(socket) = self.accepted_by.get(service) {
            return vec![socket.clone()];
        }
        self.runtime
            .iter()
            .filter_map(|(name, rt)| match rt {
                UnitRun::Socket(run) if self.socket_service(name, &run.section) == service => {
                    Some(name.clone())
                }
                _ => None,
            })
            .collect()
    }
}

/// Close the socket's descriptors; with RemoveOnStop= remove its file-system sockets and FIFOs.
fn close(run: &mut SocketRun, root: &std::path::Path) {
    run.fds.clear();
    run.connections.clear();
    open::remove_symlinks(&run.section, root);
    if run.section.remove_on_stop {
        for l in &run.section.listen {
            if let ListenAddress::Path(p) = &l.address {
                let _ = std::fs::remove_file(root.join(p.strip_prefix("/").unwrap_or(p)));
            }
        }
    }
}

/// An instance string made safe for a unit name: systemd's instance names keep `:` and `.`;
/// anything outside the unit-name alphabet is escaped as `\xNN`.
fn escape_instance(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'_' | b'.' | b'\\') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_activates_its_namesake_or_template() {
        let mut s = SocketSection::default();
        assert_eq!(service_of("ssh.socket", &s), "ssh.service");
        s.accept = true;
        assert_eq!(service_of("ssh.socket", &s), "ssh@.service");
        s.service = Some(crate::unit::UnitName::parse("other.service").unwrap());
        assert_eq!(service_of("ssh.socket", &s), "other.service");
    }

    #[test]
    fn instance_names_keep_addresses_readable() {
        assert_eq!(
            escape_instance("0-127.0.0.1:22-127.0.0.1:4242"),
            "0-127.0.0.1:22-127.0.0.1:4242"
        );
        assert_eq!(escape_instance("3-::1:22-::1:5"), "3-::1:22-::1:5");
        assert_eq!(escape_instance("a b"), "a\\x20b");
    }
}
