//! PID 1's boot phase for the data volume. Before the units start ([`prepare`]): empty the
//! stale /run and /tmp ([`super::runtime`]), give an arbitrary UID a passwd entry
//! ([`super::passwd`]), lock and classify the volume, seed or upgrade it, or refuse with what to
//! do (exit codes 80 to 83, [`Refusal`]). Once the default target's units are up
//! ([`Boot::advance`]): the first-boot or upgrade hooks, then the boot hooks; then boot is
//! complete and the main command may start. At shutdown, once the units have stopped
//! ([`Boot::shutdown`]): the shutdown hooks.
//!
//! Owns [`Setup`] (the configuration) and [`Boot`] (the volume's lock, held for PID 1's life,
//! and the hooks). Hooks are children of PID 1 spawned with `std::process::Command` and
//! [`crate::sys::prepare_child`]; their statuses come from the one reaper through
//! [`Boot::on_exit`] and their output through the loop's line channel ([`Boot::on_line`]).
//! Must not wait for a process. Seeding and the upgrade merge run on the loop's thread before
//! any unit starts: a SIGTERM meanwhile is acted on when the copy ends, and a SIGKILL at any
//! instant is safe (the next boot resumes).

use std::collections::{HashMap, VecDeque};
use std::error::Error;
use std::fs::{self, File};
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;

use super::exit::{Exit, Refusal};
use super::reaper::Termination;
use super::runtime::BootTime;
use super::services::{Line, read_pipe};
use crate::log::format::{Format, render, rfc3339};
use crate::log::output::Output;
use crate::log::ring::{Entry, Stream};
use crate::manager::engine::Pipe;
use crate::volume::classify::{self, Class};
use crate::volume::hooks::{self, Hook, Phase};
use crate::volume::populate::{self, Image, UpgradeReport};
use crate::volume::state::{self, HookFailure, StateError, Volume};

/// The boot phase's configuration (DESIGN.md's defaults; `BOSUN_*` variables override them).
/// Paths are as the container sees them; bosun finds them under `root` ([`Setup::host`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setup {
    /// BOSUN_ROOT ("/" in a container; tests point it at a scratch tree).
    pub root: PathBuf,
    /// BOSUN_DATA_DIR: the data volume.
    pub data_dir: PathBuf,
    /// BOSUN_TEMPLATE_DIR: the volume's life cycle runs only when it exists.
    pub template_dir: PathBuf,
    /// BOSUN_BUILD_ID_FILE: the image's build id, written by `bosun image prepare`.
    pub build_id_file: PathBuf,
    /// BOSUN_HOOKS_DIR: `first-boot.d/`, `upgrade.d/`, `boot.d/`, `shutdown.d/`.
    pub hooks_dir: PathBuf,
    /// BOSUN_RUN_AS or PUID/PGID: the owner of everything seeded or added to the volume (and
    /// of services without User=, through the units' setup).
    pub run_as: Option<(u32, u32)>,
    /// BOSUN_ALLOW_DOWNGRADE: merge an older image's template instead of refusing.
    pub allow_downgrade: bool,
    /// BOSUN_ADOPT_DATA: seed a non-empty volume never seeded by bosun, copying only what is
    /// missing.
    pub adopt_data: bool,
    /// BOSUN_RETRY_FIRST_BOOT: run failed first-boot or upgrade hooks again.
    pub retry_first_boot: bool,
    /// BOSUN_HOOK_TIMEOUT: none unless set (an installer can take twenty minutes).
    pub hook_timeout: Option<Duration>,
    /// How hook output is printed on stdout (BOSUN_LOG_FORMAT, BOSUN_LOG_PREFIX).
    pub log_format: Format,
}

impl Setup {
    /// DESIGN.md's defaults under `root`.
    pub fn new(root: PathBuf) -> Setup {
        Setup {
            root,
            data_dir: "/data".into(),
            template_dir: "/data-template".into(),
            build_id_file: "/etc/build-id".into(),
            hooks_dir: "/etc/bosun/hooks".into(),
            run_as: None,
            allow_downgrade: false,
            adopt_data: false,
            retry_first_boot: false,
            hook_timeout: None,
            log_format: Format::Prefixed,
        }
    }

    /// Where bosun finds `path` (absolute, as the container sees it): under the root.
    pub fn host(&self, path: &Path) -> PathBuf {
        self.root.join(path.strip_prefix("/").unwrap_or(path))
    }
}

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
    setup: &Setup,
    started: BootTime,
    stop_timeout: Duration,
    lines: mpsc::Sender<Line>,
) -> Result<Boot, Exit> {
    super::runtime::empty_all(&setup.root, started);
    let template = setup.host(&setup.template_dir);
    let has_volume = template.is_dir();
    ensure_passwd_entry(setup, has_volume);
    let data = setup.host(&setup.data_dir);
    let build_id_file = setup.host(&setup.build_id_file);
    let mut boot = Boot {
        volume: None,
        hooks_dir: setup.host(&setup.hooks_dir),
        data_dir: data.clone(),
        build_id: String::new(),
        previous: None,
        timeout: setup.hook_timeout,
        stop_timeout,
        format: setup.log_format,
        lines,
        pending: VecDeque::from([Phase::Boot]),
        current: None,
        running: None,
        outputs: HashMap::new(),
        merge_report: Vec::new(),
        ran_any: false,
        complete: false,
        failed: None,
        stopping: false,
        shutdown: Shutdown::NotStarted,
    };
    if !has_volume {
        crate::log::info(format_args!(
            "no template at {}: no data volume to manage",
            template.display()
        ));
        boot.build_id = read_build_id(&build_id_file).unwrap_or_default();
        return Ok(boot);
    }
    let build_id = read_build_id(&build_id_file).map_err(|message| {
        crate::log::error(format_args!(
            "{message}; `bosun image prepare` writes it next to the template {}",
            template.display()
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
        Err(e) => return Err(fail(&e)),
    };
    let empty = classify::is_empty(&data).map_err(|e| fail(&e))?;
    let class = classify::classify(volume.state(), empty, &build_id);
    let (work, phase) = plan(&class, setup, &data)?;
    boot.previous = volume.state().and_then(|s| s.build_id.clone());
    let image = Image {
        template,
        root: setup.root.clone(),
        build_id: build_id.clone(),
        run_as: setup.run_as,
    };
    match work {
        Some(Work::Seed { adopt }) => seed(&mut volume, &image, adopt)?,
        Some(Work::Upgrade) => boot.merge_report = upgrade(&mut volume, &image)?,
        None => {}
    }
    if let Some(phase) = phase {
        boot.pending.push_front(phase);
    }
    boot.build_id = build_id;
    boot.volume = Some(volume);
    Ok(boot)
}

/// Log an error with its causes; bosun exits 1.
fn fail(error: &dyn Error) -> Exit {
    crate::log::error(format_args!(
        "{}",
        crate::manager::engine::error_chain(error)
    ));
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
fn ensure_passwd_entry(setup: &Setup, has_volume: bool) {
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
        super::passwd::Outcome::NotWritable(e) => crate::log::info(format_args!(
            "UID {} has no entry in {} and it cannot be added ({e}); programs that look the \
             user up may fail (make the file group-writable in the image for an arbitrary UID)",
            nix::unistd::getuid(),
            passwd.display()
        )),
    }
}

/// What to do with a volume of class `class`: the work before the hooks and the hooks' phase.
/// Refusals are printed here, saying what to do.
fn plan(class: &Class, setup: &Setup, data: &Path) -> Result<(Option<Work>, Option<Phase>), Exit> {
    let shown = data.display();
    let id = |id: &Option<String>| id.clone().unwrap_or_else(|| "(none)".to_owned());
    Ok(match class {
        Class::FirstRun => {
            crate::log::notice(format_args!(
                "{shown} is empty: seeding it from the template"
            ));
            (Some(Work::Seed { adopt: false }), Some(Phase::FirstBoot))
        }
        Class::InterruptedSeeding { adopted } => {
            crate::log::notice(format_args!(
                "{shown}: an earlier seeding did not finish; resuming it"
            ));
            (Some(Work::Seed { adopt: *adopted }), Some(Phase::FirstBoot))
        }
        Class::Foreign if setup.adopt_data => {
            crate::log::notice(format_args!(
                "{shown} holds data bosun never seeded; BOSUN_ADOPT_DATA=1: keeping all of it \
                 and copying only what is missing from the template"
            ));
            (Some(Work::Seed { adopt: true }), Some(Phase::FirstBoot))
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
        Class::FirstBootPending => (None, Some(Phase::FirstBoot)),
        Class::FailedFirstBoot { .. } | Class::FailedUpgrade { .. } if setup.retry_first_boot => {
            let phase = match class {
                Class::FailedFirstBoot { .. } => Phase::FirstBoot,
                _ => Phase::Upgrade,
            };
            crate::log::notice(format_args!(
                "BOSUN_RETRY_FIRST_BOOT=1: running the {} hooks again",
                phase.name()
            ));
            (None, Some(phase))
        }
        Class::FailedFirstBoot { failure } => {
            refuse_half_installed(Phase::FirstBoot, failure.as_ref(), data);
            return Err(Exit::Refused(Refusal::HalfInstalled));
        }
        Class::FailedUpgrade { failure, .. } => {
            refuse_half_installed(Phase::Upgrade, failure.as_ref(), data);
            return Err(Exit::Refused(Refusal::HalfInstalled));
        }
        Class::Routine => (None, None),
        Class::Upgrade { from, to, resumed } => {
            crate::log::notice(format_args!(
                "{shown}: {} the upgrade from build {} to {to}",
                if *resumed { "resuming" } else { "starting" },
                id(from)
            ));
            (Some(Work::Upgrade), Some(Phase::Upgrade))
        }
        Class::UpgradeHooksPending { .. } => (None, Some(Phase::Upgrade)),
        Class::Downgrade { from, to } if setup.allow_downgrade => {
            crate::log::warn(format_args!(
                "{shown} is at build {}, newer than this image's {to}; BOSUN_ALLOW_DOWNGRADE=1: \
                 merging this image's template and running its upgrade hooks",
                id(from)
            ));
            (Some(Work::Upgrade), Some(Phase::Upgrade))
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

fn refuse_half_installed(phase: Phase, failure: Option<&HookFailure>, data: &Path) {
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
    .map_err(|e| fail(&e))?;
    for warning in &report.warnings {
        crate::log::warn(format_args!("{warning}"));
    }
    crate::log::notice(format_args!(
        "seeded {shown} in {:.1}s: {} files ({} MiB), {} directories, {} symlinks, {} \
         hardlinks, {} special files{}",
        started.elapsed().as_secs_f64(),
        report.files,
        report.bytes / (1024 * 1024),
        report.dirs,
        report.symlinks,
        report.hardlinks,
        report.specials,
        if report.existing > 0 {
            format!(", {} already there and kept", report.existing)
        } else {
            String::new()
        }
    ));
    Ok(())
}

/// Merge the new template; returns the report's lines (also written at the head of the upgrade
/// hooks' log).
fn upgrade(volume: &mut Volume, image: &Image) -> Result<Vec<String>, Exit> {
    let data = volume.data().to_owned();
    let report = populate::upgrade(volume, image, &mut |p| {
        crate::log::notice(format_args!("upgrading {}: {p}", data.display()));
    })
    .map_err(|e| fail(&e))?;
    for warning in &report.copied.warnings {
        crate::log::warn(format_args!("{warning}"));
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

/// Whether the shutdown hooks ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shutdown {
    NotStarted,
    Running,
    Done,
}

/// The hooks of the phase being run.
#[derive(Debug)]
struct PhaseRun {
    phase: Phase,
    queue: VecDeque<Hook>,
    log: Option<(PathBuf, Rc<File>)>,
}

/// How long a hook's output pipes may stay open after it exited (a daemon it started in the
/// background may hold them) before the hook counts as finished anyway.
const PIPE_GRACE: Duration = Duration::from_secs(1);

/// The hook running now (or exited, its last output still coming).
#[derive(Debug)]
struct Running {
    pid: i32,
    hook: Hook,
    phase: Phase,
    log: Option<(PathBuf, Rc<File>)>,
    /// When to act: the timeout (SIGTERM), then the stop timeout (SIGKILL).
    deadline: Option<Instant>,
    /// SIGTERM was sent because the timeout expired.
    timed_out: bool,
    /// SIGTERM was sent because bosun is stopping.
    interrupted: bool,
    /// Output pipes not yet at their end.
    open_pipes: usize,
    /// How it ended, once reaped, and until when its pipes may still deliver lines: the hook
    /// counts as finished when both are done, so its last lines come before what follows.
    exited: Option<(Termination, Instant)>,
}

/// The volume (locked for as long as this lives) and its hooks. Lives as long as PID 1's loop.
#[derive(Debug)]
pub struct Boot {
    volume: Option<Volume>,
    hooks_dir: PathBuf,
    /// The volume, as hooks get it in BOSUN_DATA_DIR.
    data_dir: PathBuf,
    build_id: String,
    /// The build the volume was at before this boot.
    previous: Option<String>,
    timeout: Option<Duration>,
    stop_timeout: Duration,
    format: Format,
    lines: mpsc::Sender<Line>,
    /// Phases still to run before boot is complete, in order.
    pending: VecDeque<Phase>,
    current: Option<PhaseRun>,
    running: Option<Running>,
    /// Every hook of this boot by pid, with its log: output may arrive after its exit.
    outputs: HashMap<i32, Option<Rc<File>>>,
    /// Written at the head of the upgrade hooks' log.
    merge_report: Vec<String>,
    ran_any: bool,
    complete: bool,
    failed: Option<Exit>,
    stopping: bool,
    shutdown: Shutdown,
}

impl Boot {
    /// Once the units wanted at boot are up: start the next hook, go to the next phase, or
    /// complete the boot. Returns the pid of a hook it started. Does nothing once a stop was
    /// asked for, a hook failed, or while a hook runs.
    pub fn advance(&mut self) -> Option<i32> {
        if self.complete || self.stopping || self.failed.is_some() || self.running.is_some() {
            return None;
        }
        let pid = self.step();
        if pid.is_none() && self.failed.is_none() && self.current.is_none() {
            self.complete = true;
            if self.ran_any {
                crate::log::notice(format_args!("boot complete"));
            } else {
                crate::log::info(format_args!("boot complete"));
            }
        }
        pid
    }

    /// The first-boot or upgrade hooks and the boot hooks have finished: the main command may
    /// start.
    pub fn complete(&self) -> bool {
        self.complete
    }

    /// A first-boot or upgrade hook failed (already said and recorded in the volume): bosun
    /// stops what it started and exits with this.
    pub fn failure(&self) -> Option<Exit> {
        self.failed
    }

    /// A stop was asked for: start no further boot hook, and send SIGTERM to the one running
    /// (its whole process group). A first-boot or upgrade hook stopped this way leaves the
    /// volume half-installed, which the next boot says.
    pub fn interrupt(&mut self) {
        self.stopping = true;
        // A hook that already exited, its last lines pending: its end is recorded now.
        if let Some(run) = self.running.as_mut()
            && let Some((_, grace)) = run.exited.as_mut()
        {
            *grace = Instant::now();
            self.settle();
        }
        // Once reaped its pid may be reused: an exited hook is not signalled.
        if let Some(run) = self.running.as_mut()
            && run.phase != Phase::Shutdown
            && run.exited.is_none()
        {
            run.interrupted = true;
            crate::log::notice(format_args!(
                "stopping the {} hook {} (pid {})",
                run.phase.name(),
                run.hook.name,
                run.pid
            ));
            signal_group(run.pid, libc::SIGTERM);
            signal_group(run.pid, libc::SIGCONT);
        }
    }

    /// Once the units have stopped: run the shutdown hooks (only after a complete boot).
    /// True while one runs: the caller waits before ending the remaining processes.
    pub fn shutdown(&mut self) -> bool {
        if !self.complete || self.shutdown == Shutdown::Done {
            return false;
        }
        if self.shutdown == Shutdown::NotStarted {
            self.shutdown = Shutdown::Running;
            self.pending = VecDeque::from([Phase::Shutdown]);
        }
        if self.running.is_some() || self.step().is_some() {
            return true;
        }
        self.shutdown = Shutdown::Done;
        false
    }

    /// Run through the current and pending phases until a hook is started (its pid) or none is
    /// left.
    fn step(&mut self) -> Option<i32> {
        loop {
            let Some(run) = self.current.as_mut() else {
                let phase = self.pending.pop_front()?;
                self.begin(phase);
                if self.failed.is_some() {
                    return None;
                }
                continue;
            };
            let Some(hook) = run.queue.pop_front() else {
                self.finish_phase();
                if self.failed.is_some() {
                    return None;
                }
                continue;
            };
            if let Some(pid) = self.spawn(hook) {
                return Some(pid);
            }
            if self.failed.is_some() {
                return None;
            }
        }
    }

    fn begin(&mut self, phase: Phase) {
        let found = hooks::find(&self.hooks_dir, phase);
        for skipped in &found.skipped {
            crate::log::warn(format_args!("{skipped}"));
        }
        // Without hooks the phase goes straight to done: a kill in between must not leave a
        // volume that looks half-installed.
        if phase.is_life_cycle()
            && !found.hooks.is_empty()
            && let Some(volume) = self.volume.as_mut()
            && let Err(e) = volume.hooks_started()
        {
            self.failed = Some(fail(&e));
            return;
        }
        let report = if phase == Phase::Upgrade {
            std::mem::take(&mut self.merge_report)
        } else {
            Vec::new()
        };
        let log = match &self.volume {
            Some(volume) if !found.hooks.is_empty() || !report.is_empty() => {
                let dir = volume.record_dir().join(hooks::LOG_DIR);
                match hooks::create_log(&dir, phase, SystemTime::now()) {
                    Ok((path, mut file)) => {
                        for line in &report {
                            let _ = writeln!(file, "# {line}");
                        }
                        Some((path, Rc::new(file)))
                    }
                    Err(e) => {
                        crate::log::warn(format_args!(
                            "cannot create a log for the {} hooks in {}: {e}; their output goes \
                             to bosun's output only",
                            phase.name(),
                            dir.display()
                        ));
                        None
                    }
                }
            }
            _ => None,
        };
        if !found.hooks.is_empty() {
            crate::log::notice(format_args!(
                "running {} {} hook(s){}",
                found.hooks.len(),
                phase.name(),
                log.as_ref()
                    .map(|(path, _)| format!(", output also in {}", path.display()))
                    .unwrap_or_default()
            ));
        }
        self.current = Some(PhaseRun {
            phase,
            queue: found.hooks.into(),
            log,
        });
    }

    fn finish_phase(&mut self) {
        let Some(run) = self.current.take() else {
            return;
        };
        if run.phase.is_life_cycle()
            && let Some(volume) = self.volume.as_mut()
        {
            match volume.hooks_succeeded() {
                Ok(()) => crate::log::notice(format_args!(
                    "{} hooks done: {} is at build {}",
                    run.phase.name(),
                    volume.data().display(),
                    self.build_id
                )),
                Err(e) => self.failed = Some(fail(&e)),
            }
        }
        if !run.phase.is_life_cycle()
            && let Some(volume) = &self.volume
        {
            let dir = volume.record_dir().join(hooks::LOG_DIR);
            hooks::prune_logs(&dir, run.phase, hooks::KEEP_ROUTINE_LOGS);
        }
    }

    /// Start `hook` of the current phase. None when it could not be started (then it has
    /// already been handled as a failed hook).
    fn spawn(&mut self, hook: Hook) -> Option<i32> {
        let run = self.current.as_ref()?;
        let (phase, log) = (run.phase, run.log.clone());
        self.ran_any = true;
        let pipes = (nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).ok())
            .zip(nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).ok());
        let mut cmd = Command::new(&hook.path);
        cmd.envs(hooks::environment(
            phase,
            &self.data_dir,
            &self.build_id,
            self.previous.as_deref(),
        ))
        .current_dir("/")
        .stdin(Stdio::null());
        if std::env::var_os("PATH").is_none() {
            cmd.env("PATH", crate::service::spawn::SERVICE_PATH);
        }
        let readers: Vec<(Stream, OwnedFd)> = match pipes {
            Some(((out_r, out_w), (err_r, err_w))) => {
                cmd.stdout(Stdio::from(out_w)).stderr(Stdio::from(err_w));
                vec![(Stream::Stdout, out_r), (Stream::Stderr, err_r)]
            }
            // No descriptors left: the hook writes to bosun's own output, unprefixed.
            None => Vec::new(),
        };
        // Its own session: a stop or timeout signals the hook's whole process group.
        crate::sys::prepare_child(
            &mut cmd,
            crate::sys::ChildSetup {
                new_session: true,
                ..Default::default()
            },
        );
        let spawned = cmd.spawn();
        // Dropping `cmd` closes our copies of the write ends.
        drop(cmd);
        let pid = match spawned {
            // The Child handle is dropped without waiting: the reaper collects its status.
            Ok(child) => i32::try_from(child.id()).unwrap_or(i32::MAX),
            Err(e) => {
                let code = match e.raw_os_error() {
                    Some(libc::ENOENT | libc::ENOTDIR) => 127,
                    _ => 126,
                };
                crate::log::error(format_args!(
                    "cannot run the {} hook {}: {e}",
                    phase.name(),
                    hook.path.display()
                ));
                self.ended(
                    Running {
                        pid: 0,
                        hook,
                        phase,
                        log,
                        deadline: None,
                        timed_out: false,
                        interrupted: false,
                        open_pipes: 0,
                        exited: None,
                    },
                    Termination::Exited(code),
                );
                return None;
            }
        };
        let open_pipes = readers.len();
        for (stream, fd) in readers {
            let pipe = Pipe {
                unit: hook.name.clone(),
                ident: None,
                pid,
                stream,
                fd,
            };
            let lines = self.lines.clone();
            let unit = hook.name.clone();
            tokio::spawn(async move {
                read_pipe(pipe, lines.clone()).await;
                let end = Line {
                    unit,
                    ident: None,
                    pid,
                    stream,
                    bytes: Vec::new(),
                    truncated: false,
                    end: true,
                };
                let _ = lines.send(end).await;
            });
        }
        if let Some((_, file)) = &log {
            let _ = writeln!(
                &**file,
                "{} # {} started (pid {pid})",
                rfc3339(SystemTime::now()),
                hook.name
            );
        }
        crate::log::info(format_args!("{} started (pid {pid})", hook.name));
        self.outputs
            .insert(pid, log.as_ref().map(|(_, f)| f.clone()));
        self.running = Some(Running {
            pid,
            hook,
            phase,
            log,
            deadline: self.timeout.and_then(|t| Instant::now().checked_add(t)),
            timed_out: false,
            interrupted: false,
            open_pipes,
            exited: None,
        });
        Some(pid)
    }

    /// Route a reaped process: true when it was the running hook.
    pub fn on_exit(&mut self, pid: i32, termination: Termination) -> bool {
        let Some(run) = self.running.as_mut().filter(|r| r.pid == pid) else {
            return false;
        };
        // While stopping, nothing waits for its last lines: its end is recorded now (lines
        // still coming go to its log all the same).
        let grace = if self.stopping {
            Duration::ZERO
        } else {
            PIPE_GRACE
        };
        run.exited = Some((termination, Instant::now() + grace));
        self.settle();
        true
    }

    /// Finish the running hook once it has exited and its output is all in (or the grace for
    /// its pipes has passed).
    fn settle(&mut self) {
        let done = self.running.as_ref().and_then(|run| {
            let (termination, grace) = run.exited?;
            (run.open_pipes == 0 || grace <= Instant::now()).then_some(termination)
        });
        if let Some(termination) = done
            && let Some(run) = self.running.take()
        {
            self.ended(run, termination);
        }
    }

    fn ended(&mut self, run: Running, termination: Termination) {
        let how = match termination {
            Termination::Exited(code) => format!("exited with code {code}"),
            Termination::Signaled(signo) => {
                format!("was killed by {}", super::signals::name(signo))
            }
        };
        if let Some((_, file)) = &run.log {
            let _ = writeln!(
                &**file,
                "{} # {} {how}",
                rfc3339(SystemTime::now()),
                run.hook.name
            );
        }
        let log_note = run
            .log
            .as_ref()
            .map(|(path, _)| format!(" (its output: {})", path.display()))
            .unwrap_or_default();
        if termination == Termination::Exited(0) {
            crate::log::info(format_args!("{} finished", run.hook.name));
            // Stopping after the last hook of a phase succeeded: the phase is done.
            if self.stopping && self.current.as_ref().is_some_and(|c| c.queue.is_empty()) {
                self.finish_phase();
            }
            return;
        }
        let timed_out = if run.timed_out {
            format!(
                " after running longer than BOSUN_HOOK_TIMEOUT ({})",
                super::humanize(self.timeout.unwrap_or_default())
            )
        } else {
            String::new()
        };
        if !run.phase.is_life_cycle() {
            crate::log::warn(format_args!(
                "the {} hook {} {how}{timed_out}{log_note}; going on",
                run.phase.name(),
                run.hook.name
            ));
            return;
        }
        let exit = Exit::of_main(termination, &[]);
        if let Some(volume) = self.volume.as_mut()
            && let Err(e) = volume.hooks_failed(HookFailure {
                hook: run.hook.name.clone(),
                code: i32::from(exit.code()),
                at: state::now(),
                log: run.log.as_ref().map(|(path, _)| path.clone()),
            })
        {
            fail(&e);
        }
        self.current = None;
        self.pending.clear();
        if run.interrupted && !run.timed_out {
            crate::log::warn(format_args!(
                "the {} hook {} was stopped ({how}){log_note}: the volume is half-installed \
                 and the next boot will refuse to start services until BOSUN_RETRY_FIRST_BOOT=1",
                run.phase.name(),
                run.hook.name
            ));
            return;
        }
        crate::log::error(format_args!(
            "the {} hook {} {how}{timed_out}{log_note}",
            run.phase.name(),
            run.hook.name
        ));
        crate::log::error(format_args!(
            "stopping with code {}: the volume {} is half-installed and the next boot will \
             refuse to start services on it; read the log, repair what the hook left, then \
             start again with BOSUN_RETRY_FIRST_BOOT=1 to run the {} hooks again",
            exit.code(),
            self.data_dir.display(),
            run.phase.name()
        ));
        self.failed = Some(exit);
    }

    /// When the running hook's timeout (or its grace after SIGTERM, or the grace for its
    /// pipes after it exited) expires.
    pub fn next_deadline(&self) -> Option<Instant> {
        let run = self.running.as_ref()?;
        match run.exited {
            Some((_, grace)) => Some(grace),
            None => run.deadline,
        }
    }

    /// Act on an expired hook timeout: SIGTERM to the hook's process group, then after the
    /// stop timeout SIGKILL.
    pub fn on_time(&mut self, now: Instant) {
        let stop_timeout = self.stop_timeout;
        self.settle();
        let Some(run) = self.running.as_mut() else {
            return;
        };
        if run.exited.is_some() || run.deadline.is_none_or(|d| d > now) {
            return;
        }
        if run.timed_out {
            crate::log::warn(format_args!(
                "the {} hook {} did not stop within {}: killing it",
                run.phase.name(),
                run.hook.name,
                super::humanize(stop_timeout)
            ));
            signal_group(run.pid, libc::SIGKILL);
            run.deadline = None;
            return;
        }
        crate::log::warn(format_args!(
            "the {} hook {} is still running after BOSUN_HOOK_TIMEOUT ({}): stopping it",
            run.phase.name(),
            run.hook.name,
            super::humanize(self.timeout.unwrap_or_default())
        ));
        run.timed_out = true;
        run.deadline = now.checked_add(stop_timeout);
        signal_group(run.pid, libc::SIGTERM);
        signal_group(run.pid, libc::SIGCONT);
    }

    /// Whether `line` comes from one of this boot's hooks.
    pub fn owns(&self, line: &Line) -> bool {
        self.outputs.contains_key(&line.pid)
    }

    /// Write a hook's line to its phase's log and show it on stdout
    /// (`first-boot.d/10-install[PID]: text`).
    pub fn on_line(&mut self, line: Line, output: Option<&mut Output>) {
        if line.end {
            if let Some(run) = self.running.as_mut().filter(|r| r.pid == line.pid) {
                run.open_pipes = run.open_pipes.saturating_sub(1);
                self.settle();
            }
            return;
        }
        let time = SystemTime::now();
        if let Some(Some(file)) = self.outputs.get(&line.pid) {
            let mut text = format!("{} {}[{}]: ", rfc3339(time), line.unit, line.pid).into_bytes();
            text.extend_from_slice(&line.bytes);
            if line.truncated {
                text.extend_from_slice(" …".as_bytes());
            }
            text.push(b'\n');
            let _ = (&**file).write_all(&text);
        }
        if let Some(out) = output {
            let entry = Entry {
                seq: 0,
                time,
                unit: Arc::from(line.unit.as_str()),
                pid: line.pid,
                stream: line.stream,
                line: line.bytes.into_boxed_slice(),
                truncated: line.truncated,
            };
            out.push(render(&entry, None, self.format));
        }
    }
}

/// Signal the process group a hook leads; it may have gone already (ESRCH).
fn signal_group(pid: i32, signo: i32) {
    if pid > 0 {
        let _ = crate::sys::send_signal(-pid, signo);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_paths_stay_under_the_root() {
        let setup = Setup::new("/scratch/root".into());
        assert_eq!(setup.host(&setup.data_dir), Path::new("/scratch/root/data"));
        assert_eq!(
            setup.host(Path::new("/etc/bosun/hooks")),
            Path::new("/scratch/root/etc/bosun/hooks")
        );
        let container = Setup::new("/".into());
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
