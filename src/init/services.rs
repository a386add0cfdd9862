//! PID 1's side of the units: booting them (tmpfiles.d, then the default target), reading
//! their output pipes in small tasks of the same thread, keeping the journal for
//! `initctl logs`, and printing what the engine reports. The engine decides; this only wires.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::journal::{Activity, Ingest};
use crate::config::{UnitsSetup, WebdavSetup};
use crate::journal::format::render;
use crate::journal::pipe::{Line, read_pipe};
use crate::journal::ring::{Entry, Journal};
use crate::log::output::Output;
use crate::manager::engine::{Engine, Note, Settings};
use crate::manager::transaction::JobKind;
use crate::service::keeper::{KeeperSocket, Report};
use crate::service::notify::NotifySocket;
use crate::service::state::Defaults;
use crate::unit::SpecifierContext;
use crate::unit::load::{Loader, SearchPath};
use crate::vocab::text::Format;

/// What timer units count from and where they keep their stamps.
#[derive(Debug, Clone)]
pub struct TimerClock {
    /// When PID 1 started (OnBootSec=, OnStartupSec=).
    pub started: Instant,
    /// The data volume's directory (as bosun reaches it), when bosun manages one.
    pub volume: Option<PathBuf>,
}

/// The running units.
/// At most this many keeper reports are routed in one turn of PID 1's loop.
const KEEPER_BATCH: usize = 256;

#[derive(Debug)]
pub struct Services {
    pub engine: Engine,
    /// How service processes are tracked, in words.
    pub tracking: String,
    loader: Loader,
    default: String,
    journal: Journal,
    format: Format,
    lines: mpsc::Sender<Line>,
    /// The journal's sockets (`/dev/log`, native, stdout) and forwarding to syslog.
    ingest: Ingest,
    /// What the keepers reaped (services without cgroups).
    keepers: Option<KeeperSocket>,
}

impl Services {
    /// Apply tmpfiles.d, load the units, and queue the default target. The generators have
    /// run already (PID 1's loop runs them as its children: `init::generators`).
    pub fn boot(
        units: &UnitsSetup,
        stop_timeout: Duration,
        clock: TimerClock,
        lines: mpsc::Sender<Line>,
    ) -> (Services, Option<NotifySocket>) {
        let root = &units.root;
        let spec = SpecifierContext::from_system(root);
        let began = Instant::now();
        apply_tmpfiles(root, &spec);
        let tmpfiles = began.elapsed();
        let notify = bind_notify(&units.notify_address);
        // Before the first unit: a daemon's first syslog(3) call finds it.
        let ingest = Ingest::bind(root);
        let mut settings = Settings {
            root: root.clone(),
            defaults: Defaults {
                timeout_stop: stop_timeout,
                ..Defaults::default()
            },
            notify_address: units.notify_address.clone(),
            cgroups: crate::service::cgroup::Cgroups::detect(std::path::Path::new(
                "/sys/fs/cgroup",
            ))
            .ok(),
            environment: vec![(
                "PATH".to_owned(),
                crate::service::spawn::SERVICE_PATH.to_owned(),
            )],
            run_as: units.run_as,
            started: clock.started,
            // As systemd's /var/lib/systemd/timers, but on the data volume when there is one:
            // a container's /var may not outlive it.
            timer_stamps: match &clock.volume {
                Some(volume) => volume.join(crate::volume::state::STATE_DIR).join("timers"),
                None => root.join("var/lib/systemd/timers"),
            },
            // The kernel's, whatever BOSUN_ROOT is: the mounts are the namespace's.
            mountinfo: Some(crate::manager::tracked::MOUNTINFO.into()),
            keeper: None,
        };
        let keepers = if settings.cgroups.is_some() {
            None
        } else {
            match KeeperSocket::new() {
                Ok(socket) => {
                    settings.keeper = socket.writer().try_clone_to_owned().ok();
                    Some(socket)
                }
                Err(e) => {
                    crate::log::warn(format_args!(
                        "cannot make the keepers' socket ({e}): a forking service's daemon \
                         that leaves its session and environment is not tracked"
                    ));
                    None
                }
            }
        };
        let tracking = match (&settings.cgroups, &keepers) {
            (Some(_), _) => "one cgroup per service",
            (None, Some(_)) => {
                "process sessions, and a keeper under each forking service \
                 (no delegated cgroup2 tree)"
            }
            (None, None) => "process sessions (no delegated cgroup2 tree)",
        };
        let search = match &units.unit_path {
            Some(dirs) => SearchPath::new(root, dirs.clone()),
            None => SearchPath::booted(root),
        };
        let loader = Loader::new(search, spec);
        let default = loader.default_target().to_string();
        let builtin: Vec<(String, String)> = webdav_unit(&units.webdav).into_iter().collect();
        let loading = Instant::now();
        let mut engine = Engine::load(settings, &loader, &builtin);
        let loaded = loading.elapsed();
        crate::log::info(format_args!("tracking service processes by {tracking}"));
        if let Err(e) = engine.request(&default, JobKind::Start, Instant::now()) {
            crate::log::error(format_args!("cannot start {default}: {e}"));
        }
        // bosun's own clock for the boot's phases (tests/bench/timeline.py reads it): its
        // console prints a turn's messages after the turn.
        crate::log::debug(format_args!(
            "boot phases: tmpfiles.d {} ms, units loaded {} ms, {default} queued and its \
             first jobs dispatched {} ms",
            tmpfiles.as_millis(),
            loaded.as_millis(),
            (loading.elapsed() - loaded).as_millis()
        ));
        let services = Services {
            engine,
            tracking: tracking.to_owned(),
            loader,
            default,
            journal: Journal::new(units.log_ring, units.log_ring_total),
            format: units.log_format,
            lines,
            ingest,
            keepers,
        };
        (services, notify)
    }

    /// The units the default target pulls in: what boot started (for `ready.failed: boot`).
    pub fn boot_set(&self) -> std::collections::BTreeSet<String> {
        self.engine.pulled_in_by(&self.default)
    }

    /// Load units named by a control request that are not loaded yet.
    pub fn load(&mut self, names: &[String]) {
        self.engine.ensure_loaded(&self.loader, names);
    }

    /// daemon-reload, once the generators ran again: every loaded unit read again, and what
    /// the default target pulls in now.
    pub fn reload(&mut self) {
        self.engine
            .reload_units(&self.loader, &self.default, Instant::now());
    }

    /// The journal's lines for `initctl logs`: the last `n` (of `unit`, or all) after `after`.
    pub fn logs(
        &self,
        unit: Option<&str>,
        n: usize,
        (after, before): (u64, u64),
        filter: &crate::journal::ring::Filter,
    ) -> (Vec<crate::control::proto::LogLine>, u64) {
        let entries = if after > 0 {
            self.journal.since(unit, after, filter)
        } else {
            self.journal.tail_before(unit, n, before, filter)
        };
        let lines = entries
            .into_iter()
            .map(crate::control::proto::LogLine::of)
            .collect();
        (lines, self.journal.last_seq())
    }

    /// Whether the journal holds a unit matching one of `patterns`.
    pub fn logs_hold_unit_matching(&self, patterns: &[String]) -> bool {
        self.journal.holds_unit_matching(patterns)
    }

    /// Wait for activity on a listening socket: (unit, line). The descriptors are registered
    /// with the reactor for this wait only, borrowed from the engine, which stays their one
    /// owner; pending forever when nothing listens.
    pub async fn socket_activity(&self) -> (String, usize) {
        first_ready(self.engine.socket_watches(), "the socket").await
    }

    /// Wait for inotify events of a waiting path unit: (unit, path line); as
    /// [`Self::socket_activity`].
    pub async fn path_activity(&self) -> (String, usize) {
        first_ready(self.engine.path_watches(), "its paths").await
    }

    /// Events of line `index` of path unit `unit`.
    pub fn on_path_activity(&mut self, unit: &str, index: usize) {
        self.engine.on_path_ready(unit, index, Instant::now());
    }

    /// Activity on line `index` of socket `unit`.
    pub fn on_socket_activity(&mut self, unit: &str, index: usize) {
        self.engine
            .on_socket_ready(&self.loader, unit, index, Instant::now());
    }

    /// Print the engine's notes and start readers for its new pipes; once stdout has drained
    /// after dropping lines, say what was dropped and what the rings still hold.
    pub fn pump(&mut self, output: Option<&mut Output>) {
        let unshown = self.ingest.take_unshown();
        if let Some(out) = output {
            for entry in unshown {
                let text = render(&entry, None, self.format, !out.terminal());
                out.push(&entry.unit, entry.seq, text);
            }
            self.mark_lost(out);
            let drops = out.take_drops();
            let journal = &self.journal;
            let report = crate::log::output::drop_report("stdout", &drops, |unit, d| {
                journal.kept_not_shown(unit, d.first_seq)
            });
            if let Some(report) = report {
                out.push_note(crate::log::own_line(5, &report));
            }
        }
        for note in self.engine.take_notes() {
            match note {
                Note::Detail(text) => crate::log::info(format_args!("{text}")),
                Note::Info(text) => crate::log::notice(format_args!("{text}")),
                Note::Warning(text) => crate::log::warn(format_args!("{text}")),
                Note::Error(text) => crate::log::error(format_args!("{text}")),
            }
        }
        for pipe in self.engine.take_pipes() {
            let task = crate::task::Task::OutputReader {
                unit: pipe.unit.clone(),
            };
            crate::task::spawn(task, read_pipe(pipe, self.lines.clone()));
        }
    }

    /// Keep a line in the journal and show it. A unit's line is shaped by its logging
    /// directives first, as journald does a stream's: its priority from SyslogLevel= or its
    /// `<N>` prefix (removed), dropped above LogLevelMax= or beyond the unit's rate limit,
    /// kept with its facility, identifier and LogExtraFields=.
    pub fn on_line(&mut self, line: Line, output: Option<&mut Output>) {
        let (text, meta) = match &line.policy {
            Some(policy) => {
                let (priority, text) = policy.shape(&line.bytes);
                if !policy.admits(priority)
                    || !self.ingest.admit(&line.unit, policy, Instant::now())
                {
                    return;
                }
                let meta = policy.meta(priority, policy.facility, line.identifier.clone());
                (text, Some(Box::new(meta)))
            }
            None => (&line.bytes[..], None),
        };
        let entry = self.journal.append_with(
            &line.unit,
            line.pid,
            line.stream,
            (text, line.truncated),
            meta,
        );
        self.ingest
            .forward(entry, None, std::time::Instant::now(), false);
        if let Some(out) = output {
            let raw = !out.terminal();
            let ident = line.policy.as_ref().and_then(|p| p.identifier.as_deref());
            let text = render(entry, ident, self.format, raw);
            out.push(&Arc::clone(&entry.unit), entry.seq, text);
            self.mark_lost(out);
        }
    }

    /// The journal's entries since the last call, for the persistent journal, and how many
    /// it could not hold meanwhile.
    pub fn take_persisted(&mut self) -> (Vec<Entry>, u64) {
        self.journal.take_outbox()
    }

    /// Wait for what the journal's sockets have (a bounded batch); pending forever without
    /// them.
    pub async fn journal_activity(&self) -> Activity {
        self.ingest.next().await
    }

    /// Wait for what the keepers reaped (a bounded batch); pending forever without keepers.
    pub async fn keeper_reports(&self) -> Vec<Report> {
        match &self.keepers {
            Some(socket) => socket.reports(KEEPER_BATCH).await.unwrap_or_default(),
            None => std::future::pending().await,
        }
    }

    /// Route what the keepers reaped: `first` (just received), then what is queued (a
    /// bounded batch). Before PID 1's own reaping: a keeper reports its last child before it
    /// exits itself.
    pub fn on_keeper_reports(&mut self, first: Vec<Report>, now: Instant) {
        let queued = self
            .keepers
            .as_ref()
            .map(|socket| socket.queued(KEEPER_BATCH))
            .unwrap_or_default();
        for report in first.into_iter().chain(queued) {
            self.engine.on_keeper_report(report, now);
        }
    }

    /// Read what the journal's sockets hold now (bounded batches), before the exits just
    /// signalled are reaped: a sender that was a unit's process is still known while it is a
    /// zombie.
    pub fn read_journal_queued(&mut self) {
        for activity in self.ingest.queued() {
            self.on_journal(activity);
        }
    }

    /// Keep what the journal's sockets had in the senders' units' rings, within the rate
    /// limit; it is shown on stdout by the next [`Self::pump`].
    pub fn on_journal(&mut self, activity: Activity) {
        self.ingest
            .on_activity(activity, &mut self.journal, &self.engine);
    }

    /// Note in the journal which lines stdout dropped.
    fn mark_lost(&mut self, out: &mut Output) {
        for (unit, seq) in out.take_lost() {
            self.journal.mark_not_shown(&unit, seq);
        }
    }
}

/// `webdav.service`, when the realm is set and the htdigest secret exists: `bosun webdav` as a
/// supervised unit of its own (never inside PID 1), restarted on failure.
fn webdav_unit(setup: &WebdavSetup) -> Option<(String, String)> {
    let realm = setup.realm.as_deref().filter(|r| !r.is_empty())?;
    if !setup.htdigest.is_file() {
        // The realm says WebDAV is wanted: a secret mounted at the wrong path must be seen.
        crate::log::warn(format_args!(
            "WebDAV: realm set but {} does not exist; not serving",
            setup.htdigest.display()
        ));
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    // systemd quoting: every argument double-quoted; \ and " escaped; % and $ doubled.
    let q = |s: &str| {
        format!(
            "\"{}\"",
            s.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('%', "%%")
                .replace('$', "$$")
        )
    };
    let mut text = String::from(
        "[Unit]\nDescription=bosun WebDAV server\nAfter=network.target\n\n[Service]\n",
    );
    text.push_str(&format!(
        "ExecStart={} webdav --root {} --listen {} --prefix {} --realm {} --htdigest {}\n",
        q(&exe.to_string_lossy()),
        q(&setup.root.to_string_lossy()),
        q(&setup.listen),
        q(&setup.prefix),
        q(realm),
        q(&setup.htdigest.to_string_lossy()),
    ));
    text.push_str("Restart=on-failure\nRestartSec=1s\n");
    if let Some(user) = &setup.user {
        text.push_str(&format!("User={user}\n"));
    }
    Some(("webdav.service".to_owned(), text))
}

fn apply_tmpfiles(root: &std::path::Path, spec: &SpecifierContext) {
    let specifiers = crate::boot::tmpfiles::Specifiers {
        machine_id: spec.machine_id.clone(),
        boot_id: spec.boot_id.clone(),
        hostname: spec.hostname.clone(),
    };
    let (entries, errors) = crate::boot::tmpfiles::load(root, &specifiers);
    for e in errors {
        crate::log::warn(format_args!("{e}"));
    }
    let users = |name: &str| -> Option<u32> {
        name.parse().ok().or_else(|| {
            nix::unistd::User::from_name(name)
                .ok()
                .flatten()
                .map(|u| u.uid.as_raw())
        })
    };
    let groups = |name: &str| -> Option<u32> {
        name.parse().ok().or_else(|| {
            nix::unistd::Group::from_name(name)
                .ok()
                .flatten()
                .map(|g| g.gid.as_raw())
        })
    };
    let report = crate::boot::tmpfiles::apply(&entries, root, &users, &groups);
    for e in report.errors {
        crate::log::warn(format_args!("{e}"));
    }
    for s in report.skipped {
        crate::log::info(format_args!("{s}"));
    }
}

fn bind_notify(address: &str) -> Option<NotifySocket> {
    if let Some(dir) = std::path::Path::new(address).parent()
        && !address.starts_with('@')
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        crate::log::warn(format_args!("{}: cannot create: {e}", dir.display()));
    }
    match NotifySocket::bind(address) {
        Ok(socket) => Some(socket),
        Err(e) => {
            crate::log::warn(format_args!(
                "{address}: cannot bind the notification socket ({e}); Type=notify services will \
                 not be able to report readiness"
            ));
            None
        }
    }
}

/// The first of `watched` (unit, line, descriptor) to become readable, registered with the
/// reactor for this wait only; pending forever when there is none.
async fn first_ready(
    watched: Vec<(&str, usize, std::os::fd::BorrowedFd<'_>)>,
    what: &str,
) -> (String, usize) {
    let watched: Vec<(String, usize, _)> = watched
        .into_iter()
        .filter_map(|(unit, index, fd)| {
            let fd = crate::sys::register(fd)
                .inspect_err(|e| {
                    crate::log::warn(format_args!("{unit}: cannot watch {what}: {e}"));
                })
                .ok()?;
            Some((unit.to_owned(), index, fd))
        })
        .collect();
    if watched.is_empty() {
        return std::future::pending().await;
    }
    std::future::poll_fn(|cx| {
        for (unit, index, fd) in &watched {
            if fd.poll_read_ready(cx).is_ready() {
                return std::task::Poll::Ready((unit.clone(), *index));
            }
        }
        std::task::Poll::Pending
    })
    .await
}
