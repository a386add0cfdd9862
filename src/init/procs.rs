//! The process table as /proc shows it, for shutdown: which processes remain, and which of them
//! are ours. Read-only; signalling is the caller's job.

use std::collections::HashMap;
use std::fs;

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

/// Every process in our /proc. Processes that vanish while we read are skipped.
pub fn snapshot() -> Vec<ProcEntry> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|entry| {
        let name = entry.ok()?.file_name();
        let pid: i32 = name.to_str()?.parse().ok()?;
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        parse_stat(&stat)
    })
    .collect()
}

/// The value of `name` in process `pid`'s initial environment; None when it is not there or
/// cannot be read (another user's process, or gone).
pub fn environ_value(pid: i32, name: &str) -> Option<Vec<u8>> {
    let env = fs::read(format!("/proc/{pid}/environ")).ok()?;
    env.split(|b| *b == 0).find_map(|e| {
        e.strip_prefix(name.as_bytes())
            .and_then(|rest| rest.strip_prefix(b"="))
            .map(<[u8]>::to_vec)
    })
}

/// The live processes read once, for one round of questions about many units: each process's
/// `INVOCATION_ID` (the run of a unit it was started in) is read the first time it is asked for.
#[derive(Debug, Default)]
pub struct Table {
    /// Every process but zombies.
    pub live: Vec<ProcEntry>,
    children: HashMap<i32, Vec<i32>>,
    sessions: HashMap<i32, Vec<i32>>,
    /// Processes in no unit's session.
    unclaimed: Vec<i32>,
    invocation: std::cell::RefCell<HashMap<i32, Option<Vec<u8>>>>,
}

impl Table {
    /// Read /proc; `claimed` are the sessions known to belong to units (their processes need
    /// no look at their environment).
    pub fn read(claimed: std::collections::HashSet<i32>) -> Table {
        let live: Vec<ProcEntry> = snapshot().into_iter().filter(|e| e.state != b'Z').collect();
        let children = children_index(&live);
        let mut sessions: HashMap<i32, Vec<i32>> = HashMap::new();
        for e in &live {
            sessions.entry(e.session).or_default().push(e.pid);
        }
        let unclaimed = live
            .iter()
            .filter(|e| !claimed.contains(&e.session))
            .map(|e| e.pid)
            .collect();
        Table {
            live,
            children,
            sessions,
            unclaimed,
            invocation: std::cell::RefCell::default(),
        }
    }

    /// The live processes of `session`.
    pub fn in_session(&self, session: i32) -> &[i32] {
        self.sessions.get(&session).map_or(&[], Vec::as_slice)
    }

    /// The live processes in no unit's session (daemons that called setsid(), the main
    /// command, strangers).
    pub fn unclaimed(&self) -> &[i32] {
        &self.unclaimed
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

    /// The live descendants of `root` (a zombie has no children left: they were reparented).
    pub fn descendants(&self, root: i32) -> Vec<i32> {
        walk(&self.children, root)
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

/// The processes of `table` that descend from `root` (not `root` itself).
pub fn descendants(table: &[ProcEntry], root: i32) -> Vec<ProcEntry> {
    let by_pid: HashMap<i32, &ProcEntry> = table.iter().map(|e| (e.pid, e)).collect();
    walk(&children_index(table), root)
        .into_iter()
        .filter_map(|pid| by_pid.get(&pid).map(|e| **e))
        .collect()
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
}
