//! Process tracking: the process table as /proc shows it (for shutdown: which processes
//! remain, and which of them are ours), a service's processes besides its main and control
//! process ([`rest`]), and its main process when it did not say ([`find_main_pid`]).
//!
//! With a delegated cgroup2 tree, one cgroup per service; otherwise every process a service
//! spawns leads its own session, and the unit's processes are those in its sessions (the
//! PIDFile's process included) and their descendants. Read-only; signalling is the caller's
//! job, and which unit a process belongs to is the manager's.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs;
use std::path::Path;

use super::cgroup::ServiceCgroup;

/// One process as /proc/PID/stat describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcEntry {
    pub pid: i32,
    pub ppid: i32,
    pub pgrp: i32,
    pub session: i32,
    /// The state letter (`R`, `S`, `Z`, ...).
    pub state: u8,
}

/// Parse the interesting fields of a /proc/PID/stat line. The command name is in parentheses
/// and may itself contain spaces and parentheses, so split after the LAST `)`.
pub fn parse_stat(line: &str) -> Option<ProcEntry> {
    let pid = line.split_once(' ')?.0.parse().ok()?;
    let rest = &line[line.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    let state = *fields.next()?.as_bytes().first()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    let session = fields.next()?.parse().ok()?;
    Some(ProcEntry {
        pid,
        ppid,
        pgrp,
        session,
        state,
    })
}

/// A file of /proc read with as few calls as it takes: open, one read(2) per 4 KiB, close.
/// (std's `fs::read` asks its size, then reads 32 bytes, 32, 64, 128...: nine calls for one
/// stat line, at every stop of a unit.) /proc's files give what they have in one read when
/// the buffer is large enough, so a short read is their end.
fn read_proc(path: &str) -> Option<Vec<u8>> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = match rustix::io::read(&fd, &mut chunk) {
            Ok(n) => n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return None,
        };
        out.extend_from_slice(&chunk[..n]);
        if n < chunk.len() {
            return Some(out);
        }
    }
}

/// /proc/PID/stat of `pid`, parsed (the command name may be any bytes).
fn read_stat(pid: i32) -> Option<ProcEntry> {
    parse_stat(&String::from_utf8_lossy(&read_proc(&format!(
        "/proc/{pid}/stat"
    ))?))
}

/// Every process in our /proc. Processes that vanish while we read are skipped.
pub fn snapshot() -> Vec<ProcEntry> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|entry| {
        let name = entry.ok()?.file_name();
        read_stat(name.to_str()?.parse().ok()?)
    })
    .collect()
}

/// The value of `name` in process `pid`'s initial environment; None when it is not there or
/// cannot be read (another user's process, or gone).
pub fn environ_value(pid: i32, name: &str) -> Option<Vec<u8>> {
    let env = read_proc(&format!("/proc/{pid}/environ"))?;
    env.split(|b| *b == 0).find_map(|e| {
        e.strip_prefix(name.as_bytes())
            .and_then(|rest| rest.strip_prefix(b"="))
            .map(<[u8]>::to_vec)
    })
}

/// What the units hold, for one round of questions: the sessions their processes lead, and
/// the processes PID 1 knows as theirs (commands, keepers) or as its main command's.
#[derive(Debug, Default)]
pub struct Claims {
    pub sessions: HashSet<i32>,
    pub pids: HashSet<i32>,
}

/// The processes below us as /proc shows them, read as far as one round of questions needs
/// and kept for the round: each process's stat line, its children
/// (`/proc/PID/task/TID/children`) and its `INVOCATION_ID` (the run of a unit it was started
/// in) are read the first time they are asked for. Where the kernel has no `children` files
/// (built without CONFIG_PROC_CHILDREN), every process is read at the first question.
#[derive(Debug)]
pub struct Table {
    /// Our pid: orphans are adopted by us (PID 1, or the subreaper bosun is otherwise).
    me: i32,
    claims: Claims,
    stats: RefCell<HashMap<i32, Option<ProcEntry>>>,
    children: RefCell<HashMap<i32, Vec<i32>>>,
    /// Without `children` files: every process's stat and the children index made of them.
    whole: std::cell::OnceCell<HashMap<i32, Vec<i32>>>,
    invocation: RefCell<HashMap<i32, Option<Vec<u8>>>>,
}

/// Whether /proc/PID/task/TID/children can be read here.
fn children_files() -> bool {
    static KNOWN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *KNOWN.get_or_init(|| {
        let me = std::process::id();
        Path::new(&format!("/proc/{me}/task/{me}/children")).exists()
    })
}

impl Table {
    /// A table for one round; nothing is read yet.
    pub fn new(claims: Claims) -> Table {
        Table {
            me: i32::try_from(std::process::id()).unwrap_or(0),
            claims,
            stats: RefCell::default(),
            children: RefCell::default(),
            whole: std::cell::OnceCell::new(),
            invocation: RefCell::default(),
        }
    }

    /// Without `children` files: read every process once (their stats fill the cache) and
    /// index their children.
    fn whole(&self) -> &HashMap<i32, Vec<i32>> {
        self.whole.get_or_init(|| {
            let all = snapshot();
            let mut stats = self.stats.borrow_mut();
            for e in &all {
                stats.insert(e.pid, Some(*e));
            }
            children_index(&all)
        })
    }

    /// `pid`'s stat line; None when it is gone.
    pub fn stat(&self, pid: i32) -> Option<ProcEntry> {
        if !children_files() {
            self.whole();
            return self.stats.borrow().get(&pid).copied().flatten();
        }
        *self
            .stats
            .borrow_mut()
            .entry(pid)
            .or_insert_with(|| read_stat(pid))
    }

    /// `pid`'s children (zombies too), from every one of its threads.
    fn children(&self, pid: i32) -> Vec<i32> {
        if !children_files() {
            return self.whole().get(&pid).cloned().unwrap_or_default();
        }
        self.children
            .borrow_mut()
            .entry(pid)
            .or_insert_with(|| {
                let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
                    return Vec::new();
                };
                let mut out = Vec::new();
                for task in tasks.flatten() {
                    let path = format!("/proc/{pid}/task/{}/children", task.file_name().display());
                    let text = read_proc(&path).unwrap_or_default();
                    let kids = text.split(u8::is_ascii_whitespace);
                    out.extend(
                        kids.filter_map(|k| std::str::from_utf8(k).ok()?.parse::<i32>().ok()),
                    );
                }
                out
            })
            .clone()
    }

    /// Whether `pid` was started in the unit run `id`.
    pub fn started_in(&self, pid: i32, id: &str) -> bool {
        self.invocation
            .borrow_mut()
            .entry(pid)
            .or_insert_with(|| environ_value(pid, "INVOCATION_ID"))
            .as_deref()
            == Some(id.as_bytes())
    }

    /// The live descendants of `root` (not `root` itself; zombies are left out, and have no
    /// children left: they were reparented).
    pub fn descendants(&self, root: i32) -> Vec<i32> {
        let mut out = Vec::new();
        let mut seen = HashSet::from([root]);
        let mut stack = vec![root];
        while let Some(pid) = stack.pop() {
            for child in self.children(pid) {
                if seen.insert(child) && self.stat(child).is_some_and(|e| e.state != b'Z') {
                    out.push(child);
                    stack.push(child);
                }
            }
        }
        out
    }
}

/// parent pid → its children's pids.
fn children_index(entries: &[ProcEntry]) -> HashMap<i32, Vec<i32>> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for e in entries {
        children.entry(e.ppid).or_default().push(e.pid);
    }
    children
}

/// The pids below `root` (not `root` itself) in a parent → children index.
fn walk(children: &HashMap<i32, Vec<i32>>, root: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            if child != root {
                out.push(child);
                stack.push(child);
            }
        }
    }
    out
}

/// The ancestors of `pid`, its parent first, as /proc says now; ends below PID 1 (or at a
/// process that is gone), and after 64 generations whatever the table says.
pub fn ancestors(pid: i32) -> impl Iterator<Item = i32> {
    let parent = |pid: i32| read_stat(pid).map(|e| e.ppid).filter(|ppid| *ppid > 1);
    std::iter::successors(parent(pid), move |p| parent(*p)).take(64)
}

/// The processes of `table` that descend from `root` (not `root` itself).
pub fn descendants(table: &[ProcEntry], root: i32) -> Vec<ProcEntry> {
    let by_pid: HashMap<i32, &ProcEntry> = table.iter().map(|e| (e.pid, e)).collect();
    walk(&children_index(table), root)
        .into_iter()
        .filter_map(|pid| by_pid.get(&pid).map(|e| **e))
        .collect()
}

/// What tracking knows of one run of a service.
#[derive(Debug, Clone, Copy)]
pub struct Tracked<'a> {
    pub main: Option<i32>,
    pub control: Option<i32>,
    pub cgroup: Option<&'a ServiceCgroup>,
    /// Sessions its processes lead (tracking without cgroups).
    pub sessions: &'a BTreeSet<i32>,
    /// Keepers its commands run under: their descendants are the unit's.
    pub keepers: &'a BTreeSet<i32>,
    /// Its INVOCATION_ID; empty before its first start.
    pub invocation_id: &'a str,
}

/// The unit's processes other than main and control. `table` is made when it is needed (no
/// cgroup), once for all the units asked about in one round, with `claims` (what every unit
/// holds).
///
/// They are the descendants of its main and control processes and keepers, and the processes
/// that left them: a process's descendants stay below it, or are adopted by us when their
/// parent dies, so those are found among our children, or below one of them that no unit
/// claims. Of our children, those PID 1 knows as another unit's or as its main command
/// (`claims.pids`) are not looked into; the others are the unit's when they are in one of its
/// sessions, or in no unit's session with this run's INVOCATION_ID inherited in their
/// environment. Only the processes on that way are read: the exit of a oneshot in a container
/// of 200 processes reads a handful of /proc files, not 200.
pub fn rest(
    run: &Tracked<'_>,
    table: &mut Option<Table>,
    claims: impl FnOnce() -> Claims,
) -> Vec<i32> {
    let skip = [run.main, run.control];
    let mut pids: BTreeSet<i32> = BTreeSet::new();
    if let Some(cg) = run.cgroup {
        pids.extend(cg.pids().unwrap_or_default());
    } else {
        let table = table.get_or_insert_with(|| Table::new(claims()));
        // A keeper itself is not the unit's (it stays to reap), all below it is.
        let mut roots: Vec<i32> = skip.iter().flatten().copied().collect();
        roots.extend(run.keepers);
        let known = |pid: &i32| roots.contains(pid) || table.claims.pids.contains(pid);
        let mut search: Vec<i32> = table.children(table.me);
        search.retain(|pid| !known(pid));
        let mut seen: HashSet<i32> = search.iter().copied().collect();
        while let Some(pid) = search.pop() {
            let Some(e) = table.stat(pid).filter(|e| e.state != b'Z') else {
                continue;
            };
            let unclaimed = !table.claims.sessions.contains(&e.session);
            if run.sessions.contains(&e.session)
                || (unclaimed
                    && !run.invocation_id.is_empty()
                    && table.started_in(pid, run.invocation_id))
            {
                pids.insert(pid);
                roots.push(pid);
            } else if unclaimed {
                // A stranger (a daemon that left its session and environment behind, a
                // process of the main command's): what it started before it left is ours.
                search.extend(table.children(pid).into_iter().filter(|c| seen.insert(*c)));
            }
        }
        for root in roots {
            pids.extend(table.descendants(root));
        }
    }
    pids.retain(|p| !skip.contains(&Some(*p)));
    pids.into_iter().collect()
}

/// How to find a service's main process when it did not say.
#[derive(Debug, Clone, Copy)]
pub enum MainPidSource<'a> {
    /// PIDFile=, under `root`.
    PidFile { path: &'a Path, root: &'a Path },
    /// GuessMainPID= (the default): of `rest` (the unit's processes), the one that is PID 1's
    /// child or a child of one of the unit's `keepers`, read from `table` when there is one.
    Guess {
        rest: &'a [i32],
        keepers: &'a BTreeSet<i32>,
        table: Option<&'a Table>,
    },
    /// GuessMainPID=no.
    None,
}

/// Read PIDFile=, or guess the main process: as systemd's unit_search_main_pid(), of the
/// unit's processes the one that is PID 1's child or its keeper's (a daemon's workers are its
/// children, not ours); when the unit has none, `adopted_orphan` (a daemon that left its session and its
/// environment behind and was adopted by PID 1).
pub fn find_main_pid(
    source: MainPidSource<'_>,
    adopted_orphan: impl FnOnce() -> Option<i32>,
) -> Option<i32> {
    match source {
        MainPidSource::PidFile { path, root } => {
            std::fs::read_to_string(root.join(path.strip_prefix("/").unwrap_or(path)))
                .ok()
                .and_then(|t| {
                    t.split_whitespace()
                        .next()
                        .and_then(|p| p.parse::<i32>().ok())
                })
                .filter(|p| *p > 0 && std::path::Path::new(&format!("/proc/{p}")).exists())
        }
        MainPidSource::Guess {
            rest,
            keepers,
            table,
        } => {
            let me = i32::try_from(std::process::id()).unwrap_or(0);
            let fresh;
            let table = match table {
                Some(table) => table,
                None => {
                    fresh = Table::new(Claims::default());
                    &fresh
                }
            };
            let ours: Vec<i32> = rest
                .iter()
                .copied()
                .filter(|pid| {
                    table.stat(*pid).is_some_and(|e| {
                        e.state != b'Z' && (e.ppid == me || keepers.contains(&e.ppid))
                    })
                })
                .collect();
            match (ours.as_slice(), rest) {
                ([only], _) => Some(*only),
                (_, []) => adopted_orphan(),
                _ => None,
            }
        }
        MainPidSource::None => None,
    }
}

/// The one live child of PID 1 that is not `owned` (by a unit, or PID 1's main command; asked
/// with its pid and session), if there is exactly one.
pub fn adopted_orphan(owned: impl Fn(i32, i32) -> bool) -> Option<i32> {
    let me = i32::try_from(std::process::id()).unwrap_or(0);
    let orphans: Vec<i32> = snapshot()
        .into_iter()
        .filter(|e| e.ppid == me && e.state != b'Z' && !owned(e.pid, e.session))
        .map(|e| e.pid)
        .collect();
    match orphans.as_slice() {
        [only] => Some(*only),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_names() {
        let e = parse_stat("42 (a b) c)) S 7 42 42 0 -1 4194560 0 0").unwrap();
        assert_eq!(
            (e.pid, e.state, e.ppid, e.pgrp, e.session),
            (42, b'S', 7, 42, 42)
        );
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn reads_a_process_whole_in_one_read_or_in_many() {
        // An environment of 20 KiB takes five reads of 4 KiB; a stat line one.
        let big = "x".repeat(20_000);
        let mut child = std::process::Command::new("sleep")
            .arg("10")
            .env("BOSUN_BIG", &big)
            .env("BOSUN_AFTER", "end")
            .spawn()
            .unwrap();
        let pid = i32::try_from(child.id()).unwrap();
        // Until the child has exec'd, its environment is this test's.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while environ_value(pid, "BOSUN_AFTER").is_none() {
            assert!(std::time::Instant::now() < deadline, "sleep did not start");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let read = environ_value(pid, "BOSUN_BIG").unwrap_or_default();
        assert!(
            read == big.as_bytes(),
            "{} bytes read of {}",
            read.len(),
            big.len()
        );
        assert_eq!(environ_value(pid, "BOSUN_AFTER"), Some(b"end".to_vec()));
        let me = i32::try_from(std::process::id()).unwrap();
        let stat = read_stat(pid).unwrap();
        assert_eq!((stat.pid, stat.ppid), (pid, me));
        assert!(snapshot().iter().any(|e| e.pid == pid));
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(read_stat(pid), None);
    }

    #[test]
    fn a_units_processes_are_found_below_its_commands_and_among_strangers() {
        // Each a child of this test in a session of its own (setsid), with a child of its own
        // started in the run `run-a` (INVOCATION_ID in its environment) or not.
        let spawn = |script: &str| {
            std::process::Command::new("setsid")
                .args(["sh", "-c", script])
                .spawn()
                .unwrap()
        };
        let mut main = spawn("sleep 100 & exec sleep 101");
        let mut stranger = spawn("INVOCATION_ID=run-a sleep 102 & exec sleep 103");
        let mut other = spawn("INVOCATION_ID=run-a sleep 104 & exec sleep 105");
        let pid = |c: &std::process::Child| i32::try_from(c.id()).unwrap();
        let (m, s, o) = (pid(&main), pid(&stranger), pid(&other));
        let kids = |p: i32| Table::new(Claims::default()).descendants(p);
        // Started: each has a child that runs `sleep` (until its exec, a child's environment
        // is the shell's, without the INVOCATION_ID the shell gave the command).
        let sleeping = |p: i32| {
            kids(p).iter().any(|k| {
                std::fs::read_to_string(format!("/proc/{k}/comm"))
                    .is_ok_and(|c| c.trim() == "sleep")
            })
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while [m, s, o].iter().any(|p| !sleeping(*p)) {
            assert!(
                std::time::Instant::now() < deadline,
                "the children did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let sessions = BTreeSet::from([m]);
        let keepers = BTreeSet::new();
        let run = Tracked {
            main: Some(m),
            control: None,
            cgroup: None,
            sessions: &sessions,
            keepers: &keepers,
            invocation_id: "run-a",
        };
        let claims = || Claims {
            sessions: HashSet::from([m]),
            pids: HashSet::from([m, o]),
        };
        let mut table = None;
        let mut found = rest(&run, &mut table, claims);
        found.sort_unstable();
        // main's background sleep (below it), the stranger's child (started in the run); not
        // the stranger itself, nor what another unit's command (`o`) started.
        let mut expected = [kids(m), kids(s)].concat();
        expected.sort_unstable();
        assert_eq!(found, expected);
        assert!(kids(o).iter().all(|p| !found.contains(p)));
        for child in [&mut main, &mut stranger, &mut other] {
            let _ = crate::sys::send_signal(-pid(child), libc::SIGKILL);
            child.wait().unwrap();
        }
    }

    #[test]
    fn finds_descendants_only() {
        let p = |pid, ppid| ProcEntry {
            pid,
            ppid,
            pgrp: pid,
            session: pid,
            state: b'S',
        };
        let table = [p(1, 0), p(10, 1), p(11, 10), p(12, 11), p(20, 1), p(30, 0)];
        let mut d: Vec<i32> = descendants(&table, 10).iter().map(|e| e.pid).collect();
        d.sort_unstable();
        assert_eq!(d, [11, 12]);
        assert_eq!(descendants(&table, 1).len(), 4);
        assert!(descendants(&table, 30).is_empty());
    }

    #[test]
    fn a_pid_file_names_a_live_process_or_nothing() {
        let root = std::env::temp_dir().join(format!("bosun-procs-{}", std::process::id()));
        std::fs::create_dir_all(root.join("run")).unwrap();
        let me = i32::try_from(std::process::id()).unwrap();
        let read = |text: &str| {
            std::fs::write(root.join("run/x.pid"), text).unwrap();
            let source = MainPidSource::PidFile {
                path: Path::new("/run/x.pid"),
                root: &root,
            };
            find_main_pid(source, || Some(-1))
        };
        assert_eq!(read(&format!("{me}\n")), Some(me));
        assert_eq!(read("0\n"), None);
        assert_eq!(read("not a pid"), None);
        // No such process (pids stop well below i32::MAX).
        assert_eq!(read(&format!("{}", i32::MAX)), None);
        std::fs::remove_dir_all(&root).unwrap();
        // GuessMainPID=no finds nothing, not even an orphan.
        assert_eq!(find_main_pid(MainPidSource::None, || Some(-1)), None);
        // A unit with no process left: the adopted orphan, if any.
        let empty = Table::new(Claims::default());
        let guess = MainPidSource::Guess {
            rest: &[],
            keepers: &BTreeSet::new(),
            table: Some(&empty),
        };
        assert_eq!(find_main_pid(guess, || Some(42)), Some(42));
    }
}
