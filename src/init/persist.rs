//! PID 1's side of the persistent journal (`log.persist`): it starts the writer process
//! (`bosun persist-journal`, [`crate::journal::persist::run_writer`]) with a pipe as its
//! stdin, and hands it every line the journal keeps and every message bosun says, as JSON
//! lines, through the never-blocking [`Output`]: a writer that falls behind (a slow, full or
//! hung volume) costs lines, dropped and counted, never PID 1's progress. The files, their
//! cap and their reading are [`crate::journal::persist`]'s. Must not touch the volume itself
//! (a hung NFS volume would hang PID 1) nor decide when shutdown ends.

use std::path::Path;
use std::sync::Arc;

use crate::journal::persist::{EXIT_SAID, Record, WriterArgs};
use crate::journal::ring::Entry;
use crate::log::Own;
use crate::log::output::Output;
use crate::service::child::{self, ChildSpec};
use crate::vocab::termination::Termination;

/// Bytes of lines waiting for the writer; past this, lines are dropped and counted.
const QUEUE: usize = 1 << 20;

/// The writer process and the pipe to it.
#[derive(Debug)]
pub struct Persister {
    pid: i32,
    boot: String,
    /// The pipe to the writer; None once closed (shutdown) or the writer is gone.
    out: Option<Output>,
    /// Lines that could not be handed over since the last report.
    dropped: u64,
    /// The loss was said (once: the saying is a line to hand over too, and a writer that is
    /// gone would turn each into another loss).
    told: bool,
}

impl Persister {
    /// Start the writer for `dir` (as bosun reaches it), holding it to `max` bytes (None: its
    /// default), its run named by PID 1's boot ID `boot` (one id per boot: `_BOOT_ID`,
    /// `--list-boots`). None, said, when it cannot start.
    pub fn start(dir: &Path, max: Option<u64>, start_ms: u64, boot: &str) -> Option<Persister> {
        let boot = boot.to_owned();
        let args = WriterArgs {
            dir: dir.to_owned(),
            boot: boot.clone(),
            start_ms,
            max,
            json: crate::log::json(),
        };
        let fail = |e: &dyn std::fmt::Display| {
            crate::log::warn(format_args!(
                "{}: cannot start the persistent journal's writer ({e}); this run's lines are \
                 kept in memory only",
                dir.display()
            ));
        };
        let (read, write) = match nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC) {
            Ok(pipe) => pipe,
            Err(e) => {
                fail(&e);
                return None;
            }
        };
        let program = std::env::current_exe().unwrap_or_else(|_| "/proc/self/exe".into());
        let mut argv = vec!["persist-journal".into()];
        argv.extend(args.to_args());
        let spec = ChildSpec {
            stdin: Some(read.into()),
            // Its own process group: a terminal's Ctrl-C is for the main command, not for
            // the writer that keeps the shutdown's lines.
            process_group: true,
            ..ChildSpec::new(program, argv)
        };
        let pid = match child::spawn(spec) {
            Ok(pid) => pid,
            Err(e) => {
                fail(&crate::log::error_chain(&e));
                return None;
            }
        };
        let out = match Output::from_fd(std::os::fd::AsFd::as_fd(&write), QUEUE) {
            Ok(out) => out,
            Err(e) => {
                // Without its pipe the writer reads an end at once and exits.
                fail(&e);
                return None;
            }
        };
        crate::log::info(format_args!(
            "keeping the journal in {} (run {boot})",
            dir.display()
        ));
        Some(Persister {
            pid,
            boot,
            out: Some(out),
            dropped: 0,
            told: false,
        })
    }

    /// The writer's pid (excluded from the final SIGTERM: it ends when its pipe does).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Hand over the journal's new entries and bosun's messages (in time order), `lost` more
    /// having been dropped before they got here.
    pub fn push(&mut self, entries: Vec<Entry>, own: Vec<Own>, lost: u64) {
        self.dropped += lost;
        let Some(out) = self.out.as_mut() else {
            return;
        };
        let me = nix::unistd::getpid().as_raw();
        let bosun: Arc<str> = Arc::from(crate::journal::persist::OWN_UNIT);
        let mut records: Vec<(Arc<str>, Record)> = entries
            .iter()
            .map(|e| (Arc::clone(&e.unit), Record::of(e, &self.boot)))
            .chain(
                own.iter()
                    .map(|m| (Arc::clone(&bosun), Record::own(m, me, &self.boot))),
            )
            .collect();
        // Both sources are in order already; the sort only interleaves them.
        records.sort_by_key(|(_, r)| r.line.ms);
        for (source, record) in records {
            out.push(&source, record.line.seq, record.to_line());
        }
        let drops = out.take_drops();
        self.dropped += drops.values().map(|d| d.lines).sum::<u64>();
        out.take_lost();
        if self.dropped > 0 && !out.pending() && !self.told {
            self.told = true;
            let n = std::mem::take(&mut self.dropped);
            crate::log::warn(format_args!(
                "{n} line(s) not kept in the persistent journal: its writer did not keep up \
                 (said once)"
            ));
        }
    }

    /// Whether lines wait for the writer to read.
    pub fn pending(&self) -> bool {
        self.out.as_ref().is_some_and(Output::pending)
    }

    /// Write what waits, as the pipe takes it.
    pub async fn drain(&mut self) {
        match self.out.as_mut() {
            // An unwatchable pipe has dropped what waited (counted); nothing more to do.
            Some(out) => drop(out.drain().await),
            None => std::future::pending().await,
        }
    }

    /// End the pipe once what waits is written: the writer syncs and exits.
    pub fn close_when_drained(&mut self) {
        if !self.pending() {
            self.out = None;
        }
    }

    /// The writer ended: say how, unless it said why itself.
    pub fn on_exit(&mut self, termination: Termination) {
        self.out = None;
        let said = matches!(termination, Termination::Exited(code) if code == i32::from(EXIT_SAID));
        if !said && termination != Termination::Exited(0) {
            crate::log::warn(format_args!(
                "the persistent journal's writer (pid {}) {}; the rest of this run's lines \
                 are kept in memory only",
                self.pid,
                super::describe(termination)
            ));
        }
    }
}

impl super::Supervisor<'_> {
    /// Hand the persistent journal's writer what the journal and bosun said since the last
    /// turn; end its pipe once the final sweep has begun (it syncs and exits: reaped, the
    /// sweep can end); say once if it ended.
    pub(super) fn persist(&mut self, persist: &mut Option<Persister>) {
        if let Some(termination) = self.writer_exit.take() {
            if let Some(writer) = persist.as_mut() {
                writer.on_exit(termination);
            }
            *persist = None;
            crate::log::keep_own(false);
        }
        let Some(writer) = persist.as_mut() else {
            return;
        };
        let (entries, lost) = match self.services.as_mut() {
            Some(svc) => {
                svc.engine.note_outsider(writer.pid());
                svc.take_persisted()
            }
            None => (Vec::new(), 0),
        };
        writer.push(entries, crate::log::take_own(), lost);
        if self.stop.is_some() {
            writer.close_when_drained();
        }
    }
}
