//! What a unit's paths resolved to at an earlier start, kept while nothing that decided it can
//! have changed: PID 1 looked up every component of every path (52 lstat(2) calls for
//! Debian's redis unit, at each start, a fifth of what the unit's sandbox added to PID 1's
//! work), where one read(2) of an inotify descriptor now says whether any of the directories
//! those components are in saw a name made, removed, renamed or its attributes changed.
//!
//! Owns the inotify descriptor, its watches and the kept lookups. Any event at all, a full
//! event queue or a watch that cannot be added forgets everything (the next start looks its
//! paths up again and watches anew); so does a change of the mount table (`generation`, part
//! of the key: a mount over a path changes what it resolves to without any inotify event).
//! What is not decided here: the content of a directory does not count (files written in
//! /var/lib/redis change its change time, not what a bind of it binds), its replacement does
//! (a removal and a creation in its parent).
//!
//! Must not: keep what a run's own PrivateTmp= directories resolved to (new at each start),
//! hold more than [`MAX`] lookups.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};

use super::Entry;
use super::entries::Want;

/// Lookups kept at most (one per unit and root, usually).
const MAX: usize = 256;

type Key = (PathBuf, Vec<Want>, u64);

#[derive(Default)]
struct Seen {
    inotify: Option<Inotify>,
    watched: HashSet<PathBuf>,
    kept: HashMap<Key, Vec<Option<Entry>>>,
    /// Lookups answered from what was kept (for tests).
    hits: u64,
}

thread_local! {
    static SEEN: RefCell<Seen> = RefCell::new(Seen::default());
}

impl Seen {
    /// Forget everything when the descriptor has anything to say (or cannot say).
    fn drain(&mut self) {
        let Some(inotify) = &self.inotify else {
            return;
        };
        match inotify.read_events() {
            Err(nix::errno::Errno::EAGAIN) => {}
            _ => self.forget(),
        }
    }

    /// Drop the descriptor (and with it every watch) and what was kept.
    fn forget(&mut self) {
        self.inotify = None;
        self.watched.clear();
        self.kept.clear();
    }
}

/// What `wants` (under `root`, with the mount table at `generation`) resolved to at an earlier
/// start, in their order, when nothing changed since.
pub(super) fn get(root: &Path, wants: &[Want], generation: u64) -> Option<Vec<Option<Entry>>> {
    SEEN.try_with(|seen| {
        let mut seen = seen.try_borrow_mut().ok()?;
        seen.drain();
        let key = (root.to_owned(), wants.to_vec(), generation);
        let kept = seen.kept.get(&key).cloned();
        seen.hits += u64::from(kept.is_some());
        kept
    })
    .ok()
    .flatten()
}

/// Watch the directories of the paths looked up (`looked`, host paths); false when one cannot
/// be watched (then nothing is to be kept).
pub(super) fn watch<'a>(looked: impl Iterator<Item = &'a PathBuf>) -> bool {
    SEEN.try_with(|seen| {
        let Ok(mut seen) = seen.try_borrow_mut() else {
            return false;
        };
        if seen.kept.len() >= MAX {
            seen.forget();
        }
        if seen.inotify.is_none() {
            match Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC) {
                Ok(inotify) => seen.inotify = Some(inotify),
                Err(_) => return false,
            }
        }
        let dirs: HashSet<&Path> = looked.filter_map(|p| p.parent()).collect();
        let mask = AddWatchFlags::IN_ATTRIB
            | AddWatchFlags::IN_CREATE
            | AddWatchFlags::IN_DELETE
            | AddWatchFlags::IN_MOVED_FROM
            | AddWatchFlags::IN_MOVED_TO
            | AddWatchFlags::IN_DELETE_SELF
            | AddWatchFlags::IN_MOVE_SELF
            | AddWatchFlags::IN_ONLYDIR;
        for dir in dirs {
            if seen.watched.contains(dir) {
                continue;
            }
            let added = seen
                .inotify
                .as_ref()
                .map(|inotify| inotify.add_watch(dir, mask));
            match added {
                Some(Ok(_)) => {
                    seen.watched.insert(dir.to_owned());
                }
                _ => return false,
            }
        }
        true
    })
    .unwrap_or(false)
}

/// Keep what `wants` (under `root`, the mount table at `generation`) resolved to, looked up
/// after [`watch`] watched its directories.
pub(super) fn keep(root: &Path, wants: Vec<Want>, generation: u64, resolved: Vec<Option<Entry>>) {
    let _ = SEEN.try_with(|seen| {
        if let Ok(mut seen) = seen.try_borrow_mut() {
            seen.kept
                .insert((root.to_owned(), wants, generation), resolved);
        }
    });
}

/// How many lookups this thread answered from what was kept.
#[cfg(test)]
pub(super) fn hits() -> u64 {
    SEEN.with_borrow(|seen| seen.hits)
}
