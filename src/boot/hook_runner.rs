//! PID 1's side of the volume's hooks, after [`super::volume_phase::prepare`]: once the default
//! target's units are up ([`VolumeHooks::advance`]), the first-boot or upgrade hooks, then the boot
//! hooks; then boot is complete and the main command may start. At shutdown, once the units
//! have stopped ([`VolumeHooks::shutdown`]), the shutdown hooks. [`VolumeHooks`] also holds the volume, whose
//! lock lasts as long as PID 1's loop.
//!
//! Hooks are children of PID 1, one at a time, spawned with `std::process::Command` and
//! [`crate::sys::prepare_child`] in their own session; their statuses come from the one reaper
//! through [`VolumeHooks::on_exit`] and their output through the loop's line channel
//! ([`VolumeHooks::on_line`]). Must not wait for a process, nor decide what the volume needs (that is
//! [`super::volume_phase`]); which hooks exist and in what order is [`crate::volume::hooks`]'.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::process::Stdio;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc;

use super::volume_phase::fail;
use crate::journal::format::render;
use crate::journal::pipe::{Line, Pipe, read_pipe};
use crate::journal::ring::{Entry, Stream};
use crate::log::output::Output;
use crate::service::child::{self, ChildSpec, Environment};
use crate::vocab::exit::Exit;
use crate::vocab::termination::Termination;
use crate::vocab::text::Format;
use crate::vocab::time::rfc3339;
use crate::volume::hooks::{self, Hook, HookPhase};
use crate::volume::state::{self, HookFailure, Volume};

/// What the boot phase found and decided, for the hooks to come.
#[derive(Debug)]
pub struct Plan {
    /// Where the hooks are (under the root).
    pub hooks_dir: PathBuf,
    /// The volume, as hooks get it in BOSUN_DATA_DIR.
    pub data_dir: PathBuf,
    /// BOSUN_HOOK_TIMEOUT.
    pub timeout: Option<Duration>,
    /// How long a hook gets between SIGTERM and SIGKILL once its timeout expired.
    pub stop_timeout: Duration,
    pub format: Format,
    /// The loop's channel for output lines.
    pub lines: mpsc::Sender<Line>,
    /// The locked volume; None without a template (boot and shutdown hooks still run).
    pub volume: Option<Volume>,
    pub build_id: String,
    /// The build the volume was at before this boot.
    pub previous: Option<String>,
    /// The first-boot or upgrade phase this boot runs, if any.
    pub life_cycle: Option<HookPhase>,
    /// The upgrade merge's report, written at the head of the upgrade hooks' log.
    pub merge_report: Vec<String>,
    /// The `FILE.bosun-new` files of this and earlier upgrades not merged yet (host paths).
    pub kept_beside: Vec<PathBuf>,
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
    phase: HookPhase,
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
    phase: HookPhase,
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
pub struct VolumeHooks {
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
    pending: VecDeque<HookPhase>,
    current: Option<PhaseRun>,
    running: Option<Running>,
    /// Every hook of this boot by pid, with its log: output may arrive after its exit.
    outputs: HashMap<i32, Option<Rc<File>>>,
    /// Written at the head of the upgrade hooks' log.
    merge_report: Vec<String>,
    /// What this boot did to the volume, for `initctl status`.
    life_cycle: Option<HookPhase>,
    /// The merge report as `initctl status` shows it (`merge_report` is taken by the log),
    /// without the notes of files kept beside a new version: those are `bosun_new`.
    upgrade_report: Vec<String>,
    /// The `FILE.bosun-new` files the merge wrote.
    bosun_new: Vec<PathBuf>,
    ran_any: bool,
    complete: bool,
    failed: Option<Exit>,
    stopping: bool,
    shutdown: Shutdown,
}

impl VolumeHooks {
    /// The hooks of a boot: the life-cycle phase (if any), then the boot hooks.
    pub fn new(plan: Plan) -> VolumeHooks {
        // The kept files are listed apart (while they exist); the rest is the report.
        let upgrade_report = plan
            .merge_report
            .iter()
            .filter(|line| kept_beside(line).is_none())
            .cloned()
            .collect();
        VolumeHooks {
            volume: plan.volume,
            hooks_dir: plan.hooks_dir,
            data_dir: plan.data_dir,
            build_id: plan.build_id,
            previous: plan.previous,
            timeout: plan.timeout,
            stop_timeout: plan.stop_timeout,
            format: plan.format,
            lines: plan.lines,
            pending: plan
                .life_cycle
                .into_iter()
                .chain([HookPhase::Boot])
                .collect(),
            current: None,
            running: None,
            outputs: HashMap::new(),
            upgrade_report,
            merge_report: plan.merge_report,
            life_cycle: plan.life_cycle,
            bosun_new: plan.kept_beside,
            ran_any: false,
            complete: false,
            failed: None,
            stopping: false,
            shutdown: Shutdown::NotStarted,
        }
    }

    /// The image's build id, when there is a data volume.
    pub fn build_id(&self) -> Option<String> {
        self.volume.as_ref().map(|_| self.build_id.clone())
    }

    /// The volume's directory, when there is a volume.
    pub fn volume_dir(&self) -> Option<String> {
        self.volume.as_ref()?;
        Some(self.data_dir.display().to_string())
    }

    /// The volume's life-cycle phase as its state file names it (`ready`, `upgrade-hooks`).
    pub fn volume_phase(&self) -> Option<String> {
        let phase = self.volume.as_ref()?.state()?.phase;
        Some(
            match phase {
                state::Stage::Seeding => "seeding",
                state::Stage::Seeded => "seeded",
                state::Stage::FirstBootHooks => "first-boot-hooks",
                state::Stage::Upgrading => "upgrading",
                state::Stage::Upgraded => "upgraded",
                state::Stage::UpgradeHooks => "upgrade-hooks",
                state::Stage::Ready => "ready",
            }
            .to_owned(),
        )
    }

    /// What this boot did to the volume: `first-boot` or `upgrade`.
    pub fn life_cycle(&self) -> Option<String> {
        self.life_cycle.map(|phase| phase.name().to_owned())
    }

    /// The build the volume held before this boot.
    pub fn previous_build_id(&self) -> Option<String> {
        self.previous.clone()
    }

    /// This boot's upgrade merge report, one line per note, but for the `.bosun-new` files.
    pub fn upgrade_report(&self) -> &[String] {
        &self.upgrade_report
    }

    /// The `FILE.bosun-new` files this boot's upgrade wrote that are still there: the user
    /// removes each once merged, and `initctl status` stops listing it.
    pub fn bosun_new_files(&self) -> Vec<String> {
        self.bosun_new
            .iter()
            .filter(|path| std::fs::symlink_metadata(path).is_ok())
            .map(|path| path.display().to_string())
            .collect()
    }

    /// The hook running now, as `PHASE.d/NAME`.
    pub fn running_hook(&self) -> Option<String> {
        self.running
            .as_ref()
            .filter(|run| run.exited.is_none())
            .map(|run| run.hook.name.clone())
    }

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
            && run.phase != HookPhase::Shutdown
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
            self.pending = VecDeque::from([HookPhase::Shutdown]);
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

    fn begin(&mut self, phase: HookPhase) {
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
        let report = if phase == HookPhase::Upgrade {
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
        let mut set = hooks::environment(
            phase,
            &self.data_dir,
            &self.build_id,
            self.previous.as_deref(),
        );
        if std::env::var_os("PATH").is_none() {
            set.push(("PATH".into(), crate::service::spawn::SERVICE_PATH.into()));
        }
        let mut spec = ChildSpec {
            env: Environment::Inherited {
                remove: vec![super::readiness::VARIABLE.into()],
                set,
            },
            directory: Some("/".into()),
            stdin: Some(Stdio::null()),
            // Its own session: a stop or timeout signals the hook's whole process group.
            setup: crate::sys::ChildSetup {
                new_session: true,
                ..Default::default()
            },
            ..ChildSpec::new(&hook.path, Vec::new())
        };
        let readers: Vec<(Stream, OwnedFd)> = match pipes {
            Some(((out_r, out_w), (err_r, err_w))) => {
                spec.stdout = Some(Stdio::from(out_w));
                spec.stderr = Some(Stdio::from(err_w));
                vec![(Stream::Stdout, out_r), (Stream::Stderr, err_r)]
            }
            // No descriptors left: the hook writes to bosun's own output, unprefixed.
            None => Vec::new(),
        };
        // The spawner drops our copies of the write ends.
        let spawned = child::spawn(spec);
        let pid = match spawned {
            // The Child handle is dropped without waiting: the reaper collects its status.
            Ok(pid) => pid,
            Err(failure) => {
                let code = failure.exit_code();
                crate::log::error(format_args!(
                    "cannot run the {} hook {}: {}",
                    phase.name(),
                    hook.path.display(),
                    failure.source
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
                policy: None,
                identifier: None,
                pid,
                stream,
                fd,
            };
            let lines = self.lines.clone();
            let unit = hook.name.clone();
            let task = crate::task::Task::OutputReader { unit: unit.clone() };
            crate::task::spawn(task, async move {
                read_pipe(pipe, lines.clone()).await;
                let end = Line {
                    unit,
                    policy: None,
                    identifier: None,
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
                format!("was killed by {}", crate::vocab::signal::name(signo))
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
                crate::vocab::time::humanize(self.timeout.unwrap_or_default())
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
                crate::vocab::time::humanize(stop_timeout)
            ));
            signal_group(run.pid, libc::SIGKILL);
            run.deadline = None;
            return;
        }
        crate::log::warn(format_args!(
            "the {} hook {} is still running after BOSUN_HOOK_TIMEOUT ({}): stopping it",
            run.phase.name(),
            run.hook.name,
            crate::vocab::time::humanize(self.timeout.unwrap_or_default())
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
                not_shown: false,
                syslog: None,
            };
            let raw = !out.terminal();
            out.push(&entry.unit, 0, render(&entry, None, self.format, raw));
        }
    }
}

/// The `FILE.bosun-new` a merge report line names, when the line is the note of a file kept
/// beside the image's new version ([`super::volume_phase`] writes it: `kept your PATH; the image's
/// new version is beside it as PATH.bosun-new: compare and merge`).
fn kept_beside(line: &str) -> Option<PathBuf> {
    let (_, rest) = line.split_once("; the image's new version is beside it as ")?;
    let path = rest.strip_suffix(": compare and merge")?;
    path.ends_with(crate::volume::populate::NEW_SUFFIX)
        .then(|| PathBuf::from(path))
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
    fn kept_files_are_read_from_the_merge_report() {
        let report = [
            "merged build b2's template into /data: 3 entries added, 1 files updated, 1 kept \
             with the image's version beside them",
            "kept your /data/etc/a b; the image's new version is beside it as \
             /data/etc/a b.bosun-new: compare and merge",
            "/data/x is of another type than in the new template; left as it is",
        ];
        let kept: Vec<PathBuf> = report.iter().filter_map(|l| kept_beside(l)).collect();
        assert_eq!(kept, [PathBuf::from("/data/etc/a b.bosun-new")]);
    }
}
