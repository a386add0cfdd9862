//! PID 1's boot phase for the data volume, before the units start ([`prepare`]): empty the
//! stale /run and /tmp ([`super::cleanup`]), give an arbitrary UID a passwd entry
//! ([`super::passwd`]), lock and classify the volume, seed or upgrade it, or refuse with what to
//! do (exit codes 80 to 84, [`Refusal`]). What comes after (the hooks, with the volume's lock
//! held for PID 1's life) is [`VolumeHooks`]'s, in [`super::hook_runner`].
//!
//! Owns [`VolumeSetup`] (the configuration) and the decisions and messages of the boot phase. Must
//! not spawn processes. Seeding and the upgrade merge run on the loop's thread before any unit
//! starts: a SIGTERM meanwhile is acted on when the copy ends, and a SIGKILL at any instant is
//! safe (the next boot resumes).

use std::error::Error;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, UNIX_EPOCH};

use tokio::sync::mpsc;

use super::cleanup::BootTime;
use super::hook_runner::{Plan, VolumeHooks};
use crate::config::VolumeSetup;
use crate::journal::pipe::Line;
use crate::vocab::exit::{Exit, Refusal};
use crate::vocab::time::rfc3339;
use crate::volume::classify::{self, Class};
use crate::volume::copy::CopyError;
use crate::volume::hooks::HookPhase;
use crate::volume::manifest::ManifestError;
use crate::volume::populate::{self, Image, PopulateError, UpgradeReport};
use crate::volume::state::{self, HookFailure, StateError, Volume};

/// What the volume needs before its hooks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Work {
    Seed { adopt: bool },
    Upgrade,
}

/// Everything before the units (see the module doc). `started` is when bosun started (what
/// was created since is never stale); `stop_timeout` is how long a hook gets between SIGTERM
/// and SIGKILL when its timeout expires; `lines` is the loop's channel for output lines.
/// Err: bosun must exit with this, having said why; nothing was started.
pub fn prepare(
    setup: &VolumeSetup,
    started: BootTime,
    stop_timeout: Duration,
    lines: mpsc::Sender<Line>,
) -> Result<VolumeHooks, Exit> {
    super::cleanup::empty_all(&setup.root, started);
    let template = setup.host(&setup.template_dir);
    let has_volume = template.is_dir();
    ensure_passwd_entry(setup, has_volume);
    let data = setup.host(&setup.data_dir);
    let build_id_file = setup.host(&setup.build_id_file);
    let mut plan = Plan {
        hooks_dir: setup.host(&setup.hooks_dir),
        data_dir: data.clone(),
        timeout: setup.hook_timeout,
        stop_timeout,
        format: setup.log_format,
        lines,
        volume: None,
        build_id: String::new(),
        previous: None,
        life_cycle: None,
        merge_report: Vec::new(),
        kept_beside: Vec::new(),
    };
    if !has_volume {
        crate::log::info(format_args!(
            "no template at {}: no data volume to manage",
            template.display()
        ));
        plan.build_id = read_build_id(&build_id_file).unwrap_or_default();
        return Ok(VolumeHooks::new(plan));
    }
    let build_id = read_build_id(&build_id_file).map_err(|message| {
        crate::log::error(format_args!(
            "{message}; an image with the template {} needs one, new for every build: \
             `bosun image prepare` writes it, or write it yourself (`RUN echo 2024-06-01.1 > {}`)",
            template.display(),
            setup.build_id_file.display()
        ));
        Exit::Failure
    })?;
    if let Err(e) = fs::create_dir_all(&data) {
        crate::log::error(format_args!("cannot create {}: {e}", data.display()));
        return Err(Exit::Failure);
    }
    let mut volume = match Volume::open(&data, false) {
        Ok(volume) => volume,
        Err(StateError::Locked { .. }) => {
            crate::log::error(format_args!(
                "the volume {} is in use by another bosun (it holds {}/.bosun/lock): two \
                 containers must not share one data volume; stop the other one first",
                data.display(),
                data.display()
            ));
            return Err(Exit::Refused(Refusal::InUse));
        }
        Err(StateError::Open { path, source })
            if source.kind() == io::ErrorKind::PermissionDenied =>
        {
            refuse_not_writable(&data, &path, &source);
            return Err(Exit::Refused(Refusal::NotWritable));
        }
        Err(e) => return Err(fail(&e)),
    };
    let empty = classify::is_empty(&data).map_err(|e| fail(&e))?;
    let class = classify::classify(volume.state(), empty, &build_id);
    let (work, phase) = decide(&class, setup, &data)?;
    plan.previous = volume.state().and_then(|s| s.build_id.clone());
    let image = Image {
        template,
        root: setup.root.clone(),
        build_id: build_id.clone(),
        run_as: setup.run_as,
        interrupted: Some(stop_pending),
    };
    if work.is_some() && image.made_by_hand() {
        crate::log::notice(format_args!(
            "the template {} has no manifest (made by hand, not by `bosun image prepare`): \
             reading it whole to record in the volume what is copied",
            image.template.display()
        ));
    }
    match work {
        Some(Work::Seed { adopt }) => seed(&mut volume, &image, adopt)?,
        Some(Work::Upgrade) => plan.merge_report = upgrade(&mut volume, &image)?,
        None => {}
    }
    plan.kept_beside = remember_kept(&mut volume);
    plan.life_cycle = phase;
    plan.build_id = build_id;
    plan.volume = Some(volume);
    Ok(VolumeHooks::new(plan))
}

/// bosun's user may not write the volume's record `record` (an arbitrary UID meeting a volume
/// that root or another user seeded): say who owns what and the three ways out.
fn refuse_not_writable(data: &Path, record: &Path, source: &io::Error) {
    let (uid, gid) = (nix::unistd::geteuid(), nix::unistd::getegid());
    let owned = fs::metadata(record).or_else(|_| fs::metadata(data));
    let owner = owned.as_ref().map_or_else(
        |_| "an owner bosun cannot see".to_owned(),
        |m| {
            format!(
                "uid {}, gid {}, mode {:04o}",
                m.uid(),
                m.gid(),
                m.mode() & 0o7777
            )
        },
    );
    let shown = data.display();
    crate::log::error(format_args!(
        "bosun runs as uid {uid}, gid {gid} and may not write the volume's record {} ({source}; \
         it belongs to {owner}): refusing to start, the volume is unchanged",
        record.display()
    ));
    let group = if gid.as_raw() == 0 {
        String::new()
    } else {
        format!(" and run with group 0 (`--user {uid}:0`)")
    };
    let user = owned.as_ref().map_or_else(
        |_| "the volume's owner".to_owned(),
        |m| format!("`--user {}:{}`", m.uid(), m.gid()),
    );
    crate::log::error(format_args!(
        "do one of: give the volume to this user (as root: `chown -R {uid}:{gid} {shown}`); give \
         group 0 write access as OpenShift's fsGroup does (as root: `chgrp -R 0 {shown} && \
         chmod -R g=u {shown}`){group}; or run the container as the volume's owner ({user})"
    ));
}

/// SIGTERM or SIGINT arrived while PID 1 was busy outside its event loop (a long copy); the
/// signal stays pending, bosun stops the copy and exits with 128+N.
fn stop_pending() -> bool {
    pending_stop().is_some()
}

fn pending_stop() -> Option<i32> {
    [libc::SIGTERM, libc::SIGINT]
        .into_iter()
        .find(|&signo| crate::sys::signal_pending(signo))
}

/// A copy that a SIGTERM or SIGINT interrupted: say how the next boot goes on; exit 128+N.
fn interrupted(data: &Path, error: &PopulateError) -> Option<Exit> {
    if !matches!(
        error,
        PopulateError::Copy(CopyError::Interrupted)
            | PopulateError::Manifest(ManifestError::Interrupted { .. })
    ) {
        return None;
    }
    let signo = pending_stop().unwrap_or(libc::SIGTERM);
    crate::log::notice(format_args!(
        "received {} while filling {}: stopping; the next start carries on where this one stopped",
        crate::vocab::signal::name(signo),
        data.display()
    ));
    Some(Exit::Code(u8::try_from(128 + signo).unwrap_or(u8::MAX)))
}

/// Log an error with its causes; bosun exits 1.
pub(super) fn fail(error: &dyn Error) -> Exit {
    crate::log::error(format_args!("{}", crate::log::error_chain(error)));
    Exit::Failure
}

fn read_build_id(path: &Path) -> Result<String, String> {
    let text = fs::read_to_string(path)
        .map_err(|e| format!("cannot read the image's build id {}: {e}", path.display()))?;
    let id = text.trim().to_owned();
    state::check_build_id(&id).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(id)
}

/// An arbitrary UID (OpenShift) gets a passwd entry, with the volume as its home.
fn ensure_passwd_entry(setup: &VolumeSetup, has_volume: bool) {
    let home = if has_volume {
        setup.data_dir.as_path()
    } else {
        Path::new("/")
    };
    let passwd = setup.host(Path::new("/etc/passwd"));
    match super::passwd::ensure_entry(&setup.root, home) {
        super::passwd::Outcome::Present => {}
        super::passwd::Outcome::Added(line) => crate::log::notice(format_args!(
            "UID {} had no passwd entry: added `{line}` to {}",
            nix::unistd::getuid(),
            passwd.display()
        )),
        super::passwd::Outcome::NotWritable(e) => crate::log::warn(format_args!(
            "UID {} has no entry in {} and it cannot be added ({e}); programs that look the \
             user up may fail (make the file group-writable in the image for an arbitrary UID)",
            nix::unistd::getuid(),
            passwd.display()
        )),
    }
}

/// What to do with a volume of class `class`: the work before the hooks and the hooks' phase.
/// Refusals are printed here, saying what to do.
fn decide(
    class: &Class,
    setup: &VolumeSetup,
    data: &Path,
) -> Result<(Option<Work>, Option<HookPhase>), Exit> {
    let shown = data.display();
    let id = |id: &Option<String>| id.clone().unwrap_or_else(|| "(none)".to_owned());
    Ok(match class {
        Class::FirstRun => {
            crate::log::notice(format_args!(
                "{shown} is empty: seeding it from the template"
            ));
            (
                Some(Work::Seed { adopt: false }),
                Some(HookPhase::FirstBoot),
            )
        }
        Class::InterruptedSeeding { adopted } => {
            crate::log::notice(format_args!(
                "{shown}: an earlier seeding did not finish; resuming it"
            ));
            (
                Some(Work::Seed { adopt: *adopted }),
                Some(HookPhase::FirstBoot),
            )
        }
        Class::Foreign if setup.adopt_data => {
            crate::log::notice(format_args!(
                "{shown} holds data bosun never seeded; BOSUN_ADOPT_DATA=1: keeping all of it \
                 and copying only what is missing from the template"
            ));
            (Some(Work::Seed { adopt: true }), Some(HookPhase::FirstBoot))
        }
        Class::Foreign => {
            crate::log::error(format_args!(
                "{shown} is not empty and was not seeded by bosun (it has no \
                 .bosun/state.json): refusing to start on it"
            ));
            crate::log::error(format_args!(
                "if it holds this application's data from before bosun, start again with \
                 BOSUN_ADOPT_DATA=1: bosun keeps everything in it, copies only what is missing \
                 from the template and runs the first-boot hooks; otherwise mount an empty \
                 volume at {}",
                setup.data_dir.display()
            ));
            return Err(Exit::Refused(Refusal::Foreign));
        }
        Class::FirstBootPending => (None, Some(HookPhase::FirstBoot)),
        Class::FailedFirstBoot { .. } | Class::FailedUpgrade { .. } if setup.retry_first_boot => {
            let phase = match class {
                Class::FailedFirstBoot { .. } => HookPhase::FirstBoot,
                _ => HookPhase::Upgrade,
            };
            crate::log::notice(format_args!(
                "BOSUN_RETRY_FIRST_BOOT=1: running the {} hooks again",
                phase.name()
            ));
            (None, Some(phase))
        }
        Class::FailedFirstBoot { failure } => {
            refuse_half_installed(HookPhase::FirstBoot, failure.as_ref(), data);
            return Err(Exit::Refused(Refusal::HalfInstalled));
        }
        Class::FailedUpgrade { failure, .. } => {
            refuse_half_installed(HookPhase::Upgrade, failure.as_ref(), data);
            return Err(Exit::Refused(Refusal::HalfInstalled));
        }
        Class::Routine => (None, None),
        Class::Upgrade { from, to, resumed } => {
            crate::log::notice(format_args!(
                "{shown}: {} the upgrade from build {} to {to}",
                if *resumed { "resuming" } else { "starting" },
                id(from)
            ));
            (Some(Work::Upgrade), Some(HookPhase::Upgrade))
        }
        Class::UpgradeHooksPending { .. } => (None, Some(HookPhase::Upgrade)),
        Class::Downgrade { from, to } if setup.allow_downgrade => {
            crate::log::warn(format_args!(
                "{shown} is at build {}, newer than this image's {to}; BOSUN_ALLOW_DOWNGRADE=1: \
                 merging this image's template and running its upgrade hooks",
                id(from)
            ));
            (Some(Work::Upgrade), Some(HookPhase::Upgrade))
        }
        Class::Downgrade { from, to } => {
            crate::log::error(format_args!(
                "this image (build {to}) is older than the data in {shown} (build {}): the \
                 newer version may have changed the data in ways this one cannot read; refusing \
                 to start",
                id(from)
            ));
            crate::log::error(format_args!(
                "run the newer image again, or restore a backup of the volume from before the \
                 upgrade; to merge this image's template anyway, start again with \
                 BOSUN_ALLOW_DOWNGRADE=1"
            ));
            return Err(Exit::Refused(Refusal::Downgrade));
        }
    })
}

fn refuse_half_installed(phase: HookPhase, failure: Option<&HookFailure>, data: &Path) {
    match failure {
        Some(f) => crate::log::error(format_args!(
            "the {} hook {} failed with exit code {} at {}{}",
            phase.name(),
            f.hook,
            f.code,
            rfc3339(UNIX_EPOCH + Duration::from_secs(f.at)),
            f.log
                .as_ref()
                .map(|log| format!(" (its output: {})", log.display()))
                .unwrap_or_default()
        )),
        None => crate::log::error(format_args!(
            "the {} hooks did not finish: bosun was stopped or killed while they ran",
            phase.name()
        )),
    }
    crate::log::error(format_args!(
        "the volume {} is half-installed: bosun does not start services on it until told to",
        data.display()
    ));
    crate::log::error(format_args!(
        "read the log, repair what the hook left (or empty the volume to start over), then start \
         again with BOSUN_RETRY_FIRST_BOOT=1 to run the {} hooks again",
        phase.name()
    ));
}

fn seed(volume: &mut Volume, image: &Image, adopt: bool) -> Result<(), Exit> {
    let data = volume.data().to_owned();
    let shown = data.display();
    let started = Instant::now();
    let report = populate::seed(volume, image, adopt, &mut |p| {
        crate::log::notice(format_args!("seeding {shown}: {p}"));
    })
    .map_err(|e| interrupted(&data, &e).unwrap_or_else(|| fail(&e)))?;
    for warning in &report.warnings {
        crate::log::warn(format_args!("{warning}"));
    }
    crate::log::notice(format_args!(
        "seeded {shown} in {:.1}s: {}{}",
        started.elapsed().as_secs_f64(),
        report.summary(),
        if report.existing > 0 {
            format!(", {} already there and kept", report.existing)
        } else {
            String::new()
        }
    ));
    Ok(())
}

/// The `FILE.bosun-new` files still to merge, as host paths: those the upgrades recorded that
/// still exist. The record drops the merged ones (the user removed them).
fn remember_kept(volume: &mut Volume) -> Vec<PathBuf> {
    let Some(state) = volume.state() else {
        return Vec::new();
    };
    let data = volume.data().to_owned();
    let left: Vec<PathBuf> = state
        .kept_beside
        .iter()
        .filter(|rel| fs::symlink_metadata(data.join(rel)).is_ok())
        .cloned()
        .collect();
    if left != state.kept_beside {
        let mut state = state.clone();
        state.kept_beside.clone_from(&left);
        if let Err(e) = volume.save(state) {
            crate::log::warn(format_args!("cannot update the volume's state: {e}"));
        }
    }
    left.iter().map(|rel| data.join(rel)).collect()
}

/// Merge the new template; returns the report's lines (also written at the head of the upgrade
/// hooks' log).
fn upgrade(volume: &mut Volume, image: &Image) -> Result<Vec<String>, Exit> {
    let data = volume.data().to_owned();
    let report = populate::upgrade(volume, image, &mut |p| {
        crate::log::notice(format_args!("upgrading {}: {p}", data.display()));
    })
    .map_err(|e| interrupted(&data, &e).unwrap_or_else(|| fail(&e)))?;
    for warning in &report.copied.warnings {
        crate::log::warn(format_args!("{warning}"));
    }
    if !report.conflicts.is_empty()
        && let Some(mut state) = volume.state().cloned()
    {
        for rel in &report.conflicts {
            let mut kept = rel.clone().into_os_string();
            kept.push(populate::NEW_SUFFIX);
            let kept = PathBuf::from(kept);
            if !state.kept_beside.contains(&kept) {
                state.kept_beside.push(kept);
            }
        }
        volume.save(state).map_err(|e| fail(&e))?;
    }
    let lines = describe_upgrade(&report, &data, &image.build_id);
    for (warning, line) in &lines {
        if *warning {
            crate::log::warn(format_args!("{line}"));
        } else {
            crate::log::notice(format_args!("{line}"));
        }
    }
    Ok(lines.into_iter().map(|(_, line)| line).collect())
}

/// The upgrade report as lines for people, each marked when it needs their attention.
fn describe_upgrade(report: &UpgradeReport, data: &Path, build_id: &str) -> Vec<(bool, String)> {
    let mut lines = vec![(
        false,
        format!(
            "merged build {build_id}'s template into {}: {} entries added, {} files updated, {} \
             kept with the image's version beside them",
            data.display(),
            report.copied.files
                + report.copied.dirs
                + report.copied.symlinks
                + report.copied.specials
                + report.copied.hardlinks,
            report.updated.len(),
            report.conflicts.len()
        ),
    )];
    for rel in &report.conflicts {
        let path = data.join(rel);
        lines.push((
            true,
            format!(
                "kept your {}; the image's new version is beside it as {}{}: compare and merge",
                path.display(),
                path.display(),
                populate::NEW_SUFFIX
            ),
        ));
    }
    for rel in &report.type_changed {
        lines.push((
            true,
            format!(
                "{} is of another type than in the new template; left as it is",
                data.join(rel).display()
            ),
        ));
    }
    if report.reowned > 0 {
        lines.push((
            false,
            format!(
                "re-owned {} entries whose user or group got another number in this image",
                report.reowned
            ),
        ));
    }
    if report.reown_skipped {
        lines.push((
            true,
            "users or groups got other numbers in this image, but bosun is not root and cannot \
             re-own their files"
                .to_owned(),
        ));
    }
    if report.no_base_manifest {
        lines.push((
            true,
            "the manifest of the previous build was missing: every difference was kept as the \
             user's change"
                .to_owned(),
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_paths_stay_under_the_root() {
        let setup = VolumeSetup::new("/scratch/root".into());
        assert_eq!(setup.host(&setup.data_dir), Path::new("/scratch/root/data"));
        assert_eq!(
            setup.host(Path::new("/etc/bosun/hooks")),
            Path::new("/scratch/root/etc/bosun/hooks")
        );
        let container = VolumeSetup::new("/".into());
        assert_eq!(
            container.host(&container.template_dir),
            Path::new("/data-template")
        );
    }

    #[test]
    fn upgrade_report_lines() {
        let report = UpgradeReport {
            updated: vec!["etc/a".into()],
            conflicts: vec!["etc/b".into()],
            reowned: 3,
            ..UpgradeReport::default()
        };
        let lines = describe_upgrade(&report, Path::new("/data"), "b2");
        assert!(lines[0].1.contains("1 files updated, 1 kept"), "{lines:?}");
        assert_eq!(
            lines[1],
            (
                true,
                "kept your /data/etc/b; the image's new version is beside it as \
                 /data/etc/b.bosun-new: compare and merge"
                    .to_owned()
            )
        );
        assert!(lines[2].1.contains("re-owned 3 entries"));
        assert_eq!(lines.len(), 3);
    }
}
