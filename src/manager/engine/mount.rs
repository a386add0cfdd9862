//! Mount units in the engine, read-only (systemd.mount(5) as systemd 252 shows a container's
//! mounts): a mount of the kernel's table is `active (mounted)` from the load on; bosun never
//! mounts or unmounts. A start of a mount unit that is not in the table (a unit file whose
//! `Where=` the container was not given) reads the table once more, and fails when it is still
//! not there, saying so (skipped, for an API file system under /proc, /sys or /dev: systemd's
//! own units for those are the runtime's business); a stop leaves the file system as it is. The table itself, the names
//! and `RequiresMountsFor=` are [`crate::manager::tracked`]'s. Also the reasons jobs on the
//! other types systemd tracks in a container (device, swap, automount, scope) fail.

use std::path::Path;
use std::time::Instant;

use super::query::UnitSnapshot;
use super::unit_type::{Inert, UnitType};
use super::{Engine, Note, UnitRun};
use crate::manager::jobs::JobResult;
use crate::manager::tracked::{MountPoint, MountTable};
use crate::service::procs;
use crate::service::state::Active;

/// Where a mount unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MountState {
    Dead,
    Mounted,
    Failed,
}

/// A mount unit's run: what the table said of it when last read.
#[derive(Debug)]
pub(super) struct MountRun {
    state: MountState,
    /// The table's line, while mounted.
    point: Option<MountPoint>,
    /// `success`, or `resources` after a start that found nothing mounted.
    result: &'static str,
}

impl MountRun {
    fn of(point: Option<&MountPoint>) -> MountRun {
        MountRun {
            state: if point.is_some() {
                MountState::Mounted
            } else {
                MountState::Dead
            },
            point: point.cloned(),
            result: "success",
        }
    }
}

impl UnitType for MountRun {
    fn active(&self) -> Active {
        match self.state {
            MountState::Dead => Active::Inactive,
            MountState::Mounted => Active::Active,
            MountState::Failed => Active::Failed,
        }
    }

    /// No process: a daemon-reload takes the table's word again (a failed one keeps its state
    /// until reset, as a failed socket does).
    fn at_rest(&self) -> bool {
        self.state != MountState::Failed
    }

    fn reset_failed(&mut self) {
        if self.state == MountState::Failed {
            self.state = MountState::Dead;
        }
        self.result = "success";
    }

    fn snapshot(&self, _: &Engine, snap: &mut UnitSnapshot, _: Option<&mut Option<procs::Table>>) {
        snap.sub_state = match self.state {
            MountState::Dead => "dead",
            MountState::Mounted => "mounted",
            MountState::Failed => "failed",
        };
        snap.result = self.result;
        snap.mount.clone_from(&self.point);
    }

    fn start(engine: &mut Engine, unit: &str, _: Instant) {
        if engine.active_state(unit) == Active::Active {
            return engine.finish_job(unit, JobResult::Done);
        }
        if let Some(result) = engine.conditions_fail(unit) {
            return engine.finish_job(unit, result);
        }
        // Mounted since the table was read (by a unit's ExecStartPre=, say)? One more reading,
        // for this job only.
        let table = engine.read_mount_table();
        let point = table.get(unit).cloned();
        let desc = engine.describe(unit);
        let mounted = point.is_some();
        let path = crate::unit::name::unescape_path(unit.strip_suffix(".mount").unwrap_or(unit));
        // systemd's own units for API file systems (dev-hugepages.mount,
        // sys-kernel-debug.mount, ...), wanted by sysinit.target where the systemd package is
        // installed: what the runtime did not mount there is not the image's to have. Skipped,
        // as a condition that does not hold, rather than a failure that degrades the system.
        let api = ["/proc", "/sys", "/dev"]
            .iter()
            .any(|top| Path::new(&path).starts_with(top));
        if let Some(UnitRun::Mount(run)) = engine.runtime.get_mut(unit) {
            *run = MountRun::of(point.as_ref());
            if !mounted && !api {
                run.state = MountState::Failed;
                run.result = "resources";
            }
        }
        engine.mark_changed(unit);
        if mounted {
            engine.notes.push(Note::Info(format!("Mounted {desc}.")));
            return engine.finish_job(unit, JobResult::Done);
        }
        if api {
            engine.notes.push(Note::Info(format!(
                "{unit}: {path} is an API file system the container runtime did not mount; \
                 bosun does not mount it: skipped"
            )));
            return engine.finish_job(unit, JobResult::Skipped);
        }
        engine.notes.push(Note::Error(format!(
            "{unit}: bosun does not mount file systems: {path} is not mounted (give the \
             container a volume or tmpfs there)"
        )));
        engine.notes.push(Note::Error(format!(
            "Failed to mount {desc}: unit {unit} failed with result 'resources'."
        )));
        engine.finish_job(unit, JobResult::Failed);
    }

    /// The file system stays as it is (the container runtime unmounts it); the unit stays as
    /// the table says.
    fn stop(engine: &mut Engine, unit: &str, _: Instant) {
        engine.finish_job(unit, JobResult::Done);
    }
}

impl Engine {
    /// The kernel's mount table, from where the settings say; empty (with a warning once)
    /// when there is none to read.
    pub(super) fn read_mount_table(&mut self) -> MountTable {
        let Some(path) = self.settings.mountinfo.clone() else {
            return MountTable::default();
        };
        MountTable::read(&path).unwrap_or_else(|e| {
            let why = crate::log::error_chain(&e);
            if self.said.insert(why.clone()) {
                self.notes.push(Note::Warning(why));
            }
            MountTable::default()
        })
    }

    /// The run-time part of a unit of a type bosun does not run: mounts and slices as
    /// systemd shows them in a container; devices, swap, automounts and scopes cannot start.
    pub(super) fn tracked_runtime(&self, name: &str, unit_type: &str) -> UnitRun {
        match unit_type {
            "mount" => UnitRun::Mount(MountRun::of(self.mounts.get(name))),
            "slice" => UnitRun::Slice(super::slice::SliceRun::new(name)),
            other => UnitRun::Inert(Inert::new(format!(
                "{name}: {}",
                crate::manager::tracked::why_not_run(other)
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
