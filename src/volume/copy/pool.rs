//! The threads that build regular files while the walk goes on: the walk (one thread) reads
//! directories, makes directories, symlinks, special files and hardlinks and decides what is
//! copied; it hands each regular file that has one link to this pool, whose threads build it
//! whole (data, then owner, mode, extended attributes, times; renamed into place where it was
//! built under a temporary name). Why: from a cold cache, a copy waits on the disk for every
//! file it opens and reads, and one thread has one read in flight; several keep the disk busy.
//!
//! Owns the threads, the bounded queue of [`Job`]s and the [`Done`] answers. Must not decide
//! what is copied or in which order directories are finished (the walk waits for a directory's
//! files before it finishes the directory), and must not outlive the copy: the threads are
//! scoped and joined before `copy_tree` returns, so PID 1 is one thread again before it forks
//! anything.

use std::ffi::OsString;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::{Scope, ScopedJoinHandle};

use super::at::rename_noreplace;
use super::leaf::Builder;
use super::{CopyError, CopyOptions, CopyReport};
use crate::volume::inode::{DirHandle, Info};

/// How many threads build files: two per core, at least two and at most eight. More than the
/// cores because they mostly wait on the disk.
pub(super) fn threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    (cores * 2).clamp(2, 8)
}

/// Build the regular file `name` of `src_dir` as `dst_name` in `dst_dir`.
pub(super) struct Job {
    pub src_dir: Arc<DirHandle>,
    pub dst_dir: Arc<DirHandle>,
    pub name: OsString,
    pub dst_name: OsString,
    pub info: Info,
    /// Created under its final name (inside a directory still being built, see the copier's
    /// module doc), else under a temporary name and renamed into place.
    pub fresh: bool,
    /// The walk's number for `dst_dir`, whose finishing waits for this job.
    pub dir: u64,
}

/// A job's outcome.
pub(super) struct Done {
    pub dir: u64,
    pub bytes: u64,
    pub result: Result<(), CopyError>,
}

pub(super) struct Pool<'scope> {
    jobs: Option<SyncSender<Job>>,
    done: Receiver<Done>,
    threads: Vec<ScopedJoinHandle<'scope, CopyReport>>,
    stop: Arc<AtomicBool>,
    /// Jobs handed out and not answered yet.
    pub in_flight: usize,
}

impl<'scope> Pool<'scope> {
    /// Start `count` threads in `scope`.
    pub(super) fn start<'env>(
        scope: &'scope Scope<'scope, 'env>,
        options: &'env CopyOptions,
        count: usize,
    ) -> Self {
        let (jobs, queue) = mpsc::sync_channel::<Job>(count * 4);
        let (answers, done) = mpsc::channel();
        let queue = Arc::new(Mutex::new(queue));
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..count)
            .map(|_| {
                let (queue, answers, stop) =
                    (Arc::clone(&queue), answers.clone(), Arc::clone(&stop));
                scope.spawn(move || work(options, &queue, &answers, &stop))
            })
            .collect();
        Self {
            jobs: Some(jobs),
            done,
            threads,
            stop,
            in_flight: 0,
        }
    }

    /// Queue a job (waits while the queue is full); the job back if no thread is left.
    pub(super) fn submit(&mut self, job: Job) -> Result<(), Box<Job>> {
        let Some(jobs) = &self.jobs else {
            return Err(Box::new(job));
        };
        jobs.send(job).map_err(|e| Box::new(e.0))?;
        self.in_flight += 1;
        Ok(())
    }

    /// An answer if one is there.
    pub(super) fn try_done(&mut self) -> Option<Done> {
        let done = self.done.try_recv().ok()?;
        self.in_flight -= 1;
        Some(done)
    }

    /// The next answer, waiting for it; None when nothing is in flight.
    pub(super) fn wait_done(&mut self) -> Option<Done> {
        if self.in_flight == 0 {
            return None;
        }
        let done = self.done.recv().ok()?;
        self.in_flight -= 1;
        Some(done)
    }

    /// Stop the threads (jobs still queued are answered without being built) and return
    /// each one's report.
    pub(super) fn join(mut self) -> Vec<CopyReport> {
        self.stop.store(true, Ordering::Relaxed);
        self.jobs = None;
        self.threads
            .into_iter()
            .filter_map(|thread| thread.join().ok())
            .collect()
    }
}

fn work(
    options: &CopyOptions,
    queue: &Mutex<Receiver<Job>>,
    answers: &Sender<Done>,
    stop: &AtomicBool,
) -> CopyReport {
    let mut builder = Builder::new(options);
    loop {
        let next = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok(job) = next else { break };
        let result = if stop.load(Ordering::Relaxed) {
            Err(CopyError::Interrupted)
        } else {
            // A panic (a bug) must still answer, or the walk would wait for this file forever;
            // the copy ends with an error and this thread's builder is not used again.
            std::panic::catch_unwind(AssertUnwindSafe(|| build(&mut builder, &job))).unwrap_or_else(
                |_| {
                    stop.store(true, Ordering::Relaxed);
                    Err(CopyError::ThreadLost {
                        path: job.dst_dir.path.join(&job.dst_name),
                    })
                },
            )
        };
        let done = Done {
            dir: job.dir,
            bytes: job.info.size,
            result,
        };
        if answers.send(done).is_err() {
            break;
        }
    }
    builder.into_report()
}

fn build(builder: &mut Builder<'_>, job: &Job) -> Result<(), CopyError> {
    if job.fresh {
        builder.build_leaf_as(
            &job.src_dir,
            &job.name,
            &job.dst_dir,
            &job.info,
            &job.dst_name,
        )?;
    } else if let Some(tmp) =
        builder.build_leaf(&job.src_dir, &job.name, &job.dst_dir, &job.info)?
    {
        rename_noreplace(&job.dst_dir, &tmp, &job.dst_name)?;
    }
    Ok(())
}
