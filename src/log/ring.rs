//! The journal of service output kept in PID 1's memory for `initctl logs`: one ring per unit,
//! each bounded in bytes (oldest lines dropped first), all numbered by one sequence so lines of
//! several units merge in the order they arrived and a follower can ask for what is new. Pure:
//! waking followers is the owner's job.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::SystemTime;

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// One line of a unit's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Position in the journal: strictly increasing across all units.
    pub seq: u64,
    pub time: SystemTime,
    pub unit: Arc<str>,
    pub pid: i32,
    pub stream: Stream,
    pub line: Box<[u8]>,
    /// The source line went on past this piece (it was longer than the line limit).
    pub truncated: bool,
}

/// Bookkeeping cost of an entry beyond its bytes, so many empty lines still count.
const ENTRY_OVERHEAD: usize = 64;

#[derive(Debug, Default)]
struct Ring {
    entries: VecDeque<Entry>,
    bytes: usize,
    dropped: u64,
}

/// All units' rings.
#[derive(Debug)]
pub struct Journal {
    rings: HashMap<Arc<str>, Ring>,
    limit_per_unit: usize,
    next_seq: u64,
}

impl Journal {
    /// A journal keeping at most `limit_per_unit` bytes (lines plus overhead) per unit.
    pub fn new(limit_per_unit: usize) -> Journal {
        Journal {
            rings: HashMap::new(),
            limit_per_unit,
            next_seq: 1,
        }
    }

    /// Record a line; returns the stored entry.
    pub fn append(
        &mut self,
        unit: &str,
        pid: i32,
        stream: Stream,
        line: &[u8],
        truncated: bool,
    ) -> &Entry {
        let key: Arc<str> = match self.rings.get_key_value(unit) {
            Some((k, _)) => Arc::clone(k),
            None => Arc::from(unit),
        };
        let ring = self.rings.entry(Arc::clone(&key)).or_default();
        let entry = Entry {
            seq: self.next_seq,
            time: SystemTime::now(),
            unit: key,
            pid,
            stream,
            line: line.into(),
            truncated,
        };
        self.next_seq += 1;
        ring.bytes += entry.line.len() + ENTRY_OVERHEAD;
        ring.entries.push_back(entry);
        while ring.bytes > self.limit_per_unit && ring.entries.len() > 1 {
            if let Some(old) = ring.entries.pop_front() {
                ring.bytes -= old.line.len() + ENTRY_OVERHEAD;
                ring.dropped += 1;
            }
        }
        // The ring is non-empty: we just pushed.
        &ring.entries[ring.entries.len() - 1]
    }

    /// The last `n` entries of `unit` (all units when None), oldest first.
    pub fn tail(&self, unit: Option<&str>, n: usize) -> Vec<&Entry> {
        let mut all = self.select(unit, 0);
        let skip = all.len().saturating_sub(n);
        all.drain(..skip);
        all
    }

    /// Entries of `unit` (all units when None) with a sequence number above `seq`, oldest
    /// first: what a follower that has seen up to `seq` has not seen yet.
    pub fn since(&self, unit: Option<&str>, seq: u64) -> Vec<&Entry> {
        self.select(unit, seq)
    }

    /// The sequence number of the newest entry (0 when empty).
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// How many old lines of `unit` were dropped to stay within the limit.
    pub fn dropped(&self, unit: &str) -> u64 {
        self.rings.get(unit).map_or(0, |r| r.dropped)
    }

    fn select(&self, unit: Option<&str>, after: u64) -> Vec<&Entry> {
        let mut out: Vec<&Entry> = match unit {
            Some(unit) => self
                .rings
                .get(unit)
                .map(|r| r.entries.iter().filter(|e| e.seq > after).collect())
                .unwrap_or_default(),
            None => self
                .rings
                .values()
                .flat_map(|r| r.entries.iter().filter(|e| e.seq > after))
                .collect(),
        };
        if unit.is_none() {
            out.sort_unstable_by_key(|e| e.seq);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(entries: &[&Entry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| format!("{}:{}", e.unit, String::from_utf8_lossy(&e.line)))
            .collect()
    }

    #[test]
    fn merges_units_in_arrival_order_and_follows() {
        let mut j = Journal::new(1 << 20);
        j.append("a", 1, Stream::Stdout, b"1", false);
        j.append("b", 2, Stream::Stderr, b"2", false);
        j.append("a", 1, Stream::Stdout, b"3", false);
        assert_eq!(lines(&j.tail(None, 10)), ["a:1", "b:2", "a:3"]);
        assert_eq!(lines(&j.tail(Some("a"), 1)), ["a:3"]);
        let seen = j.last_seq();
        j.append("b", 2, Stream::Stdout, b"4", false);
        assert_eq!(lines(&j.since(None, seen)), ["b:4"]);
        assert!(j.since(Some("a"), seen).is_empty());
        assert!(j.tail(Some("nope"), 5).is_empty());
    }

    #[test]
    fn each_unit_is_bounded_and_counts_what_it_dropped() {
        let mut j = Journal::new(10 * (100 + ENTRY_OVERHEAD));
        for i in 0..1000u32 {
            j.append("noisy", 1, Stream::Stdout, &[b'x'; 100], i % 2 == 0);
        }
        j.append("quiet", 2, Stream::Stdout, b"kept", false);
        assert_eq!(j.tail(Some("noisy"), usize::MAX).len(), 10);
        assert_eq!(j.dropped("noisy"), 990);
        assert_eq!(lines(&j.tail(Some("quiet"), 5)), ["quiet:kept"]);
    }

    #[test]
    fn a_single_huge_line_is_still_kept() {
        let mut j = Journal::new(100);
        j.append("u", 1, Stream::Stdout, &[b'y'; 1000], true);
        assert_eq!(j.tail(Some("u"), 1).len(), 1);
    }
}
