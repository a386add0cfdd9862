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

/// Whether process `pid`'s initial environment holds the exact entry `entry` (`NAME=value`).
/// False when it cannot be read (another user's process, or gone).
pub fn environ_has(pid: i32, entry: &str) -> bool {
    fs::read(format!("/proc/{pid}/environ"))
        .is_ok_and(|env| env.split(|b| *b == 0).any(|e| e == entry.as_bytes()))
}

/// The processes of `table` that descend from `root` (not `root` itself).
pub fn descendants(table: &[ProcEntry], root: i32) -> Vec<ProcEntry> {
    let mut children: HashMap<i32, Vec<&ProcEntry>> = HashMap::new();
    for entry in table {
        children.entry(entry.ppid).or_default().push(entry);
    }
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        for child in children.get(&pid).into_iter().flatten() {
            if child.pid != root {
                out.push(**child);
                stack.push(child.pid);
            }
        }
    }
    out
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
