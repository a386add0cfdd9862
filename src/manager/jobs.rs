//! The job queue: the jobs of every transaction accepted and not finished yet, which of them
//! may run now (all jobs they are ordered after have finished), and what a finished job means
//! for the others (a failed start fails every job that requires it, transitively, with result
//! `dependency`). One job per unit: a new job for a unit replaces a waiting one of the other
//! kind (systemd's `--job-mode=replace`, the default). Each job remembers when it was queued and
//! when it began to run, for its timeouts (the engine's `job_timer`). Pure bookkeeping: the
//! time is passed in.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use super::transaction::{JobKind, Transaction};

/// How a job ended (systemd's job results, as `systemctl start` reports them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobResult {
    /// The unit reached the state asked for.
    Done,
    /// The unit failed.
    Failed,
    /// A unit it requires failed.
    Dependency,
    /// A condition was false: the unit was skipped (not a failure).
    Skipped,
    /// Replaced or cancelled before it ran.
    Canceled,
    Timeout,
}

impl JobResult {
    pub fn name(self) -> &'static str {
        match self {
            JobResult::Done => "done",
            JobResult::Failed => "failed",
            JobResult::Dependency => "dependency",
            JobResult::Skipped => "skipped",
            JobResult::Canceled => "canceled",
            JobResult::Timeout => "timeout",
        }
    }

    pub fn is_success(self) -> bool {
        matches!(self, JobResult::Done | JobResult::Skipped)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    kind: JobKind,
    running: bool,
    /// When the job was queued (systemd's begin_usec); None until [`JobQueue::stamp`].
    since: Option<Instant>,
    /// When it began to run (begin_running_usec).
    running_since: Option<Instant>,
}

impl Entry {
    fn new(kind: JobKind) -> Entry {
        Entry {
            kind,
            running: false,
            since: None,
            running_since: None,
        }
    }
}

/// When a job was queued and when it began to run, for its timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobTimes {
    pub kind: JobKind,
    pub since: Instant,
    pub running_since: Option<Instant>,
}

/// The queued and running jobs.
#[derive(Debug, Default)]
pub struct JobQueue {
    jobs: BTreeMap<String, Entry>,
    /// (earlier, later) between queued jobs.
    order: BTreeSet<(String, String)>,
    /// (requirer, required) between queued jobs.
    requirements: BTreeSet<(String, String)>,
}

impl JobQueue {
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// The job of `unit`, and whether it runs already.
    pub fn job(&self, unit: &str) -> Option<(JobKind, bool)> {
        self.jobs.get(unit).map(|e| (e.kind, e.running))
    }

    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    /// Every queued job, for `systemctl list-jobs`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, JobKind, bool)> {
        self.jobs
            .iter()
            .map(|(u, e)| (u.as_str(), e.kind, e.running))
    }

    /// Queue a transaction's jobs. Returns the jobs it replaced (cancelled), which the caller
    /// reports as `canceled`.
    pub fn add(&mut self, tx: Transaction) -> Vec<String> {
        let mut canceled = Vec::new();
        for (unit, job) in tx.jobs {
            match self.jobs.get(&unit) {
                Some(e) if e.kind == job.kind => {}
                // A job of the other kind, waiting or running (a unit activating asked to
                // stop, one deactivating asked to start): canceled and replaced, as
                // core/job.c job_install() cancels a conflicting job. A start replacing a
                // running stop waits for the unit to be down (see take_runnable_when).
                Some(_) => {
                    canceled.push(unit.clone());
                    self.forget(&unit);
                    self.jobs.insert(unit, Entry::new(job.kind));
                }
                None => {
                    self.jobs.insert(unit, Entry::new(job.kind));
                }
            }
        }
        self.order.extend(tx.order);
        self.requirements.extend(tx.requirements);
        self.prune_edges();
        canceled
    }

    /// The jobs that may start now; they are marked running.
    pub fn take_runnable(&mut self) -> Vec<(String, JobKind)> {
        self.take_runnable_when(|_, _| true)
    }

    /// The jobs that may start now and that `ready` lets run (a start waits while its unit
    /// is still stopping); they are marked running.
    pub fn take_runnable_when(
        &mut self,
        ready: impl Fn(&str, JobKind) -> bool,
    ) -> Vec<(String, JobKind)> {
        let waiting_on: BTreeSet<&str> =
            self.order.iter().map(|(_, later)| later.as_str()).collect();
        let ready: Vec<(String, JobKind)> = self
            .jobs
            .iter()
            .filter(|(u, e)| !e.running && !waiting_on.contains(u.as_str()) && ready(u, e.kind))
            .map(|(u, e)| (u.clone(), e.kind))
            .collect();
        for (unit, _) in &ready {
            if let Some(e) = self.jobs.get_mut(unit) {
                e.running = true;
            }
        }
        ready
    }

    /// Note `now` as the time jobs were queued or began to run, where not noted yet: called
    /// after jobs were added or taken to run.
    pub fn stamp(&mut self, now: Instant) {
        for e in self.jobs.values_mut() {
            e.since.get_or_insert(now);
            if e.running {
                e.running_since.get_or_insert(now);
            }
        }
    }

    /// Every job's times (jobs not stamped yet are left out).
    pub fn times(&self) -> impl Iterator<Item = (&str, JobTimes)> {
        self.jobs.iter().filter_map(|(u, e)| {
            Some((
                u.as_str(),
                JobTimes {
                    kind: e.kind,
                    since: e.since?,
                    running_since: e.running_since,
                },
            ))
        })
    }

    /// Whether a job waits while none runs and none may run: only an ordering cycle between
    /// jobs of different transactions can do that.
    pub fn stalled(&self) -> bool {
        let waiting_on: BTreeSet<&str> =
            self.order.iter().map(|(_, later)| later.as_str()).collect();
        !self.jobs.is_empty()
            && self
                .jobs
                .iter()
                .all(|(u, e)| !e.running && waiting_on.contains(u.as_str()))
    }

    /// Drop every ordering edge between the queued jobs (they may all run now), returning
    /// them: the way out of a stall.
    pub fn drop_order(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.order).into_iter().collect()
    }

    /// The job of `unit` finished with `result`. Returns every job that ended because of it,
    /// this one first: a failed start fails, with `dependency`, the jobs that require it.
    pub fn finish(&mut self, unit: &str, result: JobResult) -> Vec<(String, JobKind, JobResult)> {
        let Some(entry) = self.jobs.get(unit).copied() else {
            return Vec::new();
        };
        let mut ended = vec![(unit.to_owned(), entry.kind, result)];
        self.forget(unit);
        if entry.kind == JobKind::Start && !result.is_success() {
            let mut failed = vec![unit.to_owned()];
            while let Some(gone) = failed.pop() {
                let requirers: Vec<String> = self
                    .requirements
                    .iter()
                    .filter(|(_, required)| *required == gone)
                    .map(|(requirer, _)| requirer.clone())
                    .collect();
                for requirer in requirers {
                    if let Some(e) = self.jobs.get(&requirer).copied()
                        && e.kind == JobKind::Start
                        && !e.running
                    {
                        ended.push((requirer.clone(), e.kind, JobResult::Dependency));
                        self.forget(&requirer);
                        failed.push(requirer);
                    }
                }
            }
        }
        self.prune_edges();
        ended
    }

    /// Cancel every queued job that has not started (shutdown). Returns them.
    pub fn cancel_waiting(&mut self) -> Vec<(String, JobKind)> {
        let waiting: Vec<(String, JobKind)> = self
            .jobs
            .iter()
            .filter(|(_, e)| !e.running)
            .map(|(u, e)| (u.clone(), e.kind))
            .collect();
        for (unit, _) in &waiting {
            self.forget(unit);
        }
        self.prune_edges();
        waiting
    }

    fn forget(&mut self, unit: &str) {
        self.jobs.remove(unit);
    }

    /// Keep only edges between queued jobs.
    fn prune_edges(&mut self) {
        let jobs = &self.jobs;
        self.order
            .retain(|(a, b)| jobs.contains_key(a) && jobs.contains_key(b));
        self.requirements
            .retain(|(a, b)| jobs.contains_key(a) && jobs.contains_key(b));
    }
}
