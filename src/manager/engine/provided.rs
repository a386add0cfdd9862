//! systemd's own units in an image that carries the `systemd` package (php-fpm, postfix and
//! many more pull it in): what bosun does with each, in one table. `sysinit.target` and
//! `sockets.target` want journald, its sockets, tmpfiles, logind, utmp and more; most of them
//! work in a container or skip themselves there by their own `Condition*=` (evaluated as systemd
//! 252 evaluates them in a container), and those run as any unit runs. The units named here are
//! the rest:
//!
//! - **provided**: bosun does their work itself (it is the journal; it applies tmpfiles.d
//!   before the first unit). Such a unit runs nothing: a start checks its conditions as
//!   systemd would, then makes it `active` (`running` for a daemon, `exited` for a oneshot,
//!   `listening` for a socket) with a status line saying what provides it; a stop makes it
//!   `inactive (dead)` and stops nothing (PID 1's journal goes on); a restart is both. It
//!   never fails.
//! - **not run**: they need what a container under bosun does not have (systemd's own D-Bus
//!   API, an interactive console, the host's binfmt_misc): a start checks the conditions, then
//!   leaves the unit `inactive (dead)` with a status line saying why, as a condition that does
//!   not hold would, and succeeds. Never failed either.
//!
//! Must not start processes, open sockets or touch the file system: it only answers for units.

use std::time::Instant;

use super::query::UnitSnapshot;
use super::unit_type::{UnitType, active_if};
use super::{Engine, Note, UnitRun};
use crate::manager::jobs::JobResult;
use crate::service::procs;
use crate::service::state::Active;
use crate::unit::model::{ServiceType, UnitKind};

/// What bosun does with one of systemd's units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// bosun does its work; the text says how (shown in `systemctl status`).
    Provided(&'static str),
    /// Not run in a container under bosun; the text says why.
    NotRun(&'static str),
}

const JOURNAL: &str =
    "provided by bosun: PID 1 is the journal (/dev/log, service output, journalctl)";
const TMPFILES: &str = "provided by bosun: PID 1 applies tmpfiles.d before the first unit starts";
const SYSTEMD_BUS: &str = "not run by bosun: it needs systemd's own D-Bus API \
                           (org.freedesktop.systemd1), which bosun does not offer";

/// The table, by unit name (a template's instances follow the template, `name@`).
pub const TABLE: &[(&str, Policy)] = &[
    ("systemd-journald.service", Policy::Provided(JOURNAL)),
    ("systemd-journald.socket", Policy::Provided(JOURNAL)),
    ("systemd-journald-dev-log.socket", Policy::Provided(JOURNAL)),
    (
        "systemd-journal-flush.service",
        Policy::Provided(
            "provided by bosun: the journal is PID 1's (log.persist keeps it on the data volume)",
        ),
    ),
    (
        "systemd-journald-audit.socket",
        Policy::NotRun("not run by bosun: its journal reads no kernel audit records"),
    ),
    ("systemd-tmpfiles-setup.service", Policy::Provided(TMPFILES)),
    (
        "systemd-tmpfiles-setup-dev.service",
        Policy::Provided(TMPFILES),
    ),
    ("systemd-logind.service", Policy::NotRun(SYSTEMD_BUS)),
    ("systemd-update-utmp.service", Policy::NotRun(SYSTEMD_BUS)),
    (
        "systemd-update-utmp-runlevel.service",
        Policy::NotRun(SYSTEMD_BUS),
    ),
    (
        "systemd-boot-check-no-failures.service",
        Policy::NotRun(SYSTEMD_BUS),
    ),
    ("systemd-initctl.socket", Policy::NotRun(SYSTEMD_BUS)),
    ("systemd-initctl.service", Policy::NotRun(SYSTEMD_BUS)),
    (
        "systemd-firstboot.service",
        Policy::NotRun(
            "not run by bosun: it prompts on the console; set the locale, time zone and root \
             password when the image is built (systemd-firstboot --root), or in a first-boot hook",
        ),
    ),
    (
        "proc-sys-fs-binfmt_misc.automount",
        Policy::NotRun("not run by bosun: binfmt_misc is the host's, and bosun mounts nothing"),
    ),
];

/// The policy for `unit`, when it is one of the table's.
pub fn policy(unit: &str) -> Option<Policy> {
    let template = unit
        .split_once('@')
        .map(|(prefix, rest)| (prefix, rest.rsplit_once('.').map_or("", |(_, t)| t)));
    TABLE.iter().find_map(|(name, policy)| {
        let hit = *name == unit
            || template
                .is_some_and(|(prefix, ty)| name.strip_suffix(&format!("@.{ty}")) == Some(prefix));
        hit.then_some(*policy)
    })
}

/// A unit of the table at run time.
#[derive(Debug)]
pub(super) struct ProvidedRun {
    policy: Policy,
    active: bool,
    /// The sub-state while active: as systemd shows the unit running.
    up: &'static str,
    /// A service's `Type=`, as `systemctl show` tells it.
    service_type: Option<ServiceType>,
    /// The last start found a condition false: the unit was skipped as any unit is, and
    /// says nothing of bosun.
    condition_failed: bool,
}

impl ProvidedRun {
    pub(super) fn new(policy: Policy, kind: &UnitKind) -> ProvidedRun {
        let up = match kind {
            UnitKind::Socket(_) => "listening",
            UnitKind::Service(s) if s.effective_type() == ServiceType::Oneshot => "exited",
            UnitKind::Service(_) => "running",
            _ => "active",
        };
        let service_type = match kind {
            UnitKind::Service(s) => Some(s.effective_type()),
            _ => None,
        };
        ProvidedRun {
            policy,
            active: false,
            up,
            service_type,
            condition_failed: false,
        }
    }

    fn set(engine: &mut Engine, unit: &str, active: bool) {
        let changed = match engine.runtime.get_mut(unit) {
            Some(UnitRun::Provided(run)) => std::mem::replace(&mut run.active, active) != active,
            _ => false,
        };
        if changed {
            engine.mark_changed(unit);
        }
    }
}

impl UnitType for ProvidedRun {
    fn active(&self) -> Active {
        active_if(self.active)
    }

    fn snapshot(&self, _: &Engine, snap: &mut UnitSnapshot, _: Option<&mut Option<procs::Table>>) {
        snap.sub_state = if self.active { self.up } else { "dead" };
        snap.service_type = self.service_type;
        snap.status_text = match self.policy {
            _ if self.condition_failed => None,
            Policy::Provided(text) | Policy::NotRun(text) => Some(text.to_owned()),
        };
    }

    fn start(engine: &mut Engine, unit: &str, _: Instant) {
        let skipped = engine.conditions_fail(unit);
        let Some(UnitRun::Provided(run)) = engine.runtime.get_mut(unit) else {
            return;
        };
        run.condition_failed = skipped.is_some();
        if let Some(result) = skipped {
            return engine.finish_job(unit, result);
        }
        match run.policy {
            Policy::Provided(_) => {
                Self::set(engine, unit, true);
                let desc = engine.describe(unit);
                engine
                    .notes
                    .push(Note::Detail(format!("{unit}: {desc}: provided by bosun.")));
                engine.finish_job(unit, JobResult::Done);
            }
            Policy::NotRun(why) => {
                engine.notes.push(Note::Detail(format!("{unit}: {why}")));
                engine.finish_job(unit, JobResult::Skipped);
            }
        }
    }

    fn stop(engine: &mut Engine, unit: &str, _: Instant) {
        Self::set(engine, unit, false);
        engine.finish_job(unit, JobResult::Done);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_templates_find_their_rule() {
        assert_eq!(
            policy("systemd-journald.service"),
            Some(Policy::Provided(JOURNAL))
        );
        assert_eq!(
            policy("systemd-logind.service"),
            Some(Policy::NotRun(SYSTEMD_BUS))
        );
        // Not in the table: run as any unit (their conditions decide in a container).
        for name in [
            "systemd-sysusers.service",
            "systemd-random-seed.service",
            "getty@tty1.service",
            "systemd-journald.service.d",
            "nginx.service",
        ] {
            assert_eq!(policy(name), None, "{name}");
        }
    }

    /// The engine runs nothing for them: a provided unit goes active and back without a
    /// process (its ExecStart= does not exist), a not-run one stays inactive with its reason,
    /// and one whose own condition is false is skipped saying nothing of bosun.
    #[test]
    fn provided_and_not_run_units_start_and_stop_without_a_process() {
        use crate::manager::engine::tests::Tree;
        use crate::manager::jobs::JobResult;
        use crate::manager::transaction::JobKind;
        let tree = Tree::new(
            "provided",
            &[
                (
                    "default.target",
                    "[Unit]\nWants=systemd-journald.service systemd-update-utmp.service \
                     systemd-journal-flush.service\n",
                ),
                (
                    "systemd-journald.service",
                    "[Unit]\nDescription=Journal Service\n[Service]\nType=notify\n\
                     ExecStart=/nonexistent/systemd-journald\n",
                ),
                (
                    "systemd-update-utmp.service",
                    "[Service]\nType=oneshot\nRemainAfterExit=yes\n\
                     ExecStart=/nonexistent/systemd-update-utmp reboot\n",
                ),
                (
                    "systemd-journal-flush.service",
                    "[Unit]\nConditionPathExists=/nonexistent\n[Service]\nType=oneshot\n\
                     ExecStart=/nonexistent/journalctl --flush\n",
                ),
            ],
        );
        let mut engine = tree.engine();
        let snap = |engine: &Engine, unit: &str| {
            let s = engine.snapshots(&[unit.to_owned()]).remove(0);
            (s.active, s.sub_state, s.status_text, s.main_pid)
        };
        let now = Instant::now();
        engine
            .request("systemd-journald.service", JobKind::Start, now)
            .unwrap();
        assert_eq!(
            engine.last_job("systemd-journald.service"),
            Some(JobResult::Done)
        );
        assert_eq!(
            snap(&engine, "systemd-journald.service"),
            (Active::Active, "running", Some(JOURNAL.to_owned()), None)
        );
        engine
            .request("systemd-journald.service", JobKind::Stop, now)
            .unwrap();
        assert_eq!(
            snap(&engine, "systemd-journald.service"),
            (Active::Inactive, "dead", Some(JOURNAL.to_owned()), None)
        );
        engine
            .request("systemd-update-utmp.service", JobKind::Start, now)
            .unwrap();
        assert_eq!(
            engine.last_job("systemd-update-utmp.service"),
            Some(JobResult::Skipped)
        );
        assert_eq!(
            snap(&engine, "systemd-update-utmp.service"),
            (Active::Inactive, "dead", Some(SYSTEMD_BUS.to_owned()), None)
        );
        engine
            .request("systemd-journal-flush.service", JobKind::Start, now)
            .unwrap();
        assert_eq!(
            snap(&engine, "systemd-journal-flush.service"),
            (Active::Inactive, "dead", None, None)
        );
        assert!(engine.all_stopped() && engine.next_deadline().is_none());
    }

    #[test]
    fn every_rule_names_a_unit() {
        for (name, _) in TABLE {
            assert!(crate::unit::UnitName::parse(name).is_ok(), "{name}");
        }
    }
}
