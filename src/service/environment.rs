//! The variables a service's command gets from its run (systemd.exec(5) "Environment
//! Variables in Spawned Processes"): INVOCATION_ID, NOTIFY_SOCKET, MAINPID, WATCHDOG_USEC,
//! SERVICE_RESULT/EXIT_CODE/EXIT_STATUS for ExecStop= and ExecStopPost=, REMOTE_ADDR and
//! REMOTE_PORT of an Accept=yes connection, and the run's directories and credentials. Pure:
//! it reads the state machine and the run's facts; the manager environment, Environment= and
//! EnvironmentFile= are layered on top by [`super::spawn`]. Must not spawn or read files.

use super::state::{Phase, Service};
use crate::service::spec::Spec;
use crate::unit::model::{NotifyAccess, ServiceType};
use crate::vocab::termination::Termination;

/// What one run of a service adds to its commands' environment.
#[derive(Debug, Clone, Copy)]
pub struct RunFacts<'a> {
    /// INVOCATION_ID: this run's 128-bit id in hex.
    pub invocation_id: &'a str,
    /// The `NOTIFY_SOCKET` address, given to services that may notify.
    pub notify_address: &'a str,
    /// The peer of an Accept=yes instance's connection (IP sockets): address and port.
    pub remote: Option<(&'a str, u16)>,
    /// Variables for its directories and credentials, made when the run was prepared.
    pub prepared: &'a [(String, String)],
}

/// The variables of the command `phase` of `svc`; `main` when it becomes the main process
/// (which is given no MAINPID, being it).
pub fn for_command(
    svc: &Service,
    phase: Phase,
    main: bool,
    run: &RunFacts<'_>,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> =
        vec![("INVOCATION_ID".into(), run.invocation_id.to_owned())];
    let spec: &Spec = svc.spec();
    if spec.kind == ServiceType::Notify
        || spec.kind == ServiceType::NotifyReload
        || spec.notify_access != NotifyAccess::None
    {
        env.push(("NOTIFY_SOCKET".into(), run.notify_address.to_owned()));
    }
    if let Some(pid) = svc.main_pid().filter(|_| !main) {
        env.push(("MAINPID".into(), pid.to_string()));
    }
    if let Some(w) = spec.watchdog {
        env.push(("WATCHDOG_USEC".into(), w.as_micros().to_string()));
    }
    if matches!(phase, Phase::Stop | Phase::StopPost) {
        env.push(("SERVICE_RESULT".into(), svc.outcome().name().into()));
        if let Some(t) = svc.main_exit() {
            let (code, status) = match t {
                Termination::Exited(c) => ("exited", c.to_string()),
                Termination::Signaled(s) => (
                    "killed",
                    crate::vocab::signal::name(s)
                        .trim_start_matches("SIG")
                        .to_owned(),
                ),
            };
            env.push(("EXIT_CODE".into(), code.into()));
            env.push(("EXIT_STATUS".into(), status));
        }
    }
    if let Some((addr, port)) = run.remote {
        env.push(("REMOTE_ADDR".into(), addr.to_owned()));
        env.push(("REMOTE_PORT".into(), port.to_string()));
    }
    env.extend(run.prepared.iter().cloned());
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::spec::Defaults;
    use crate::unit::model::ServiceSection;

    fn service(kind: ServiceType) -> Service {
        let section = ServiceSection {
            service_type: Some(kind),
            ..ServiceSection::default()
        };
        Service::new(Spec::from_section(
            &section,
            (None, None),
            &Defaults::default(),
        ))
    }

    fn names(env: &[(String, String)]) -> Vec<&str> {
        env.iter().map(|(k, _)| k.as_str()).collect()
    }

    #[test]
    fn a_run_gives_its_id_first_and_its_prepared_variables_last() {
        let prepared = [("STATE_DIRECTORY".to_owned(), "/var/lib/x".to_owned())];
        let run = RunFacts {
            invocation_id: "0123",
            notify_address: "/run/bosun/notify",
            remote: Some(("10.0.0.1", 4242)),
            prepared: &prepared,
        };
        let env = for_command(&service(ServiceType::Simple), Phase::Start, true, &run);
        assert_eq!(
            names(&env),
            [
                "INVOCATION_ID",
                "REMOTE_ADDR",
                "REMOTE_PORT",
                "STATE_DIRECTORY"
            ]
        );
        assert_eq!(env[0].1, "0123");
        assert_eq!(env[2].1, "4242");
    }

    #[test]
    fn notify_services_get_the_socket_and_stop_commands_the_result() {
        let run = RunFacts {
            invocation_id: "0123",
            notify_address: "/run/bosun/notify",
            remote: None,
            prepared: &[],
        };
        let svc = service(ServiceType::Notify);
        let start = for_command(&svc, Phase::Start, true, &run);
        assert_eq!(names(&start), ["INVOCATION_ID", "NOTIFY_SOCKET"]);
        let stop = for_command(&svc, Phase::StopPost, false, &run);
        assert_eq!(
            names(&stop),
            ["INVOCATION_ID", "NOTIFY_SOCKET", "SERVICE_RESULT"]
        );
        assert_eq!(stop[2].1, "success");
        // A plain service is not told where to notify.
        let plain = for_command(&service(ServiceType::Simple), Phase::Stop, false, &run);
        assert_eq!(names(&plain), ["INVOCATION_ID", "SERVICE_RESULT"]);
    }
}
