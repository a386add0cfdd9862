//! The journal of service output kept in PID 1's memory for `initctl logs`: one ring per unit,
//! each bounded in bytes (`log.ring`, oldest lines dropped first), all of them together bounded
//! too (`log.ring_total`: the oldest lines of the largest rings go first), all numbered by one
//! sequence so lines of several units merge in the order they arrived and a follower can ask
//! for what is new. Each entry remembers whether stdout lost it, so a drop report can say how
//! many of the lost lines are still here. Pure: waking followers is the owner's job.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::SystemTime;

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
    /// A datagram on `/dev/log`.
    Syslog,
    /// An entry on `/run/systemd/journal/socket`, journald's native protocol.
    Journal,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
            Stream::Syslog => "syslog",
            Stream::Journal => "journal",
        }
    }

    /// journald's `_TRANSPORT=` for a line that came this way: standard output and error are
    /// both `stdout` (a stream connection), `/dev/log` is `syslog`, the native socket `journal`.
    pub fn transport(self) -> &'static str {
        match self {
            Stream::Stdout | Stream::Stderr => "stdout",
            Stream::Syslog => "syslog",
            Stream::Journal => "journal",
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
    /// PID 1's stdout dropped it (its reader did not keep up).
    pub not_shown: bool,
    /// What the line says about itself beyond its text: a syslog line's own priority and
    /// identifier, a unit's stdout or stderr line's as its logging directives make them (see
    /// [`super::policy`]); None for lines of no unit (a hook's).
    pub syslog: Option<Box<Meta>>,
}

impl Entry {
    /// The line's priority: what it said about itself, else info, as journald gives a stream
    /// line without a `<N>` prefix (stderr's too).
    pub fn priority(&self) -> u8 {
        self.syslog
            .as_deref()
            .map_or(crate::vocab::text::DEFAULT_PRIORITY, |m| m.priority)
    }

    /// SYSLOG_IDENTIFIER: what the line said, else the one bosun gives its unit
    /// ([`crate::vocab::text::unit_identifier`]).
    pub fn identifier(&self) -> &str {
        match self.syslog.as_deref().and_then(|m| m.identifier.as_deref()) {
            Some(id) => id,
            None => crate::vocab::text::unit_identifier(&self.unit),
        }
    }

    /// Milliseconds since the epoch (0 before it), as the control protocol and the
    /// persistent journal's files carry the time.
    pub fn ms(&self) -> u64 {
        self.time
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0))
    }

    /// The line as text (bytes that are not UTF-8 read as U+FFFD), and its bytes only when
    /// they are not UTF-8, as `initctl logs --json` and the persistent journal give a line.
    pub fn text_and_raw(&self) -> (String, Option<Vec<u8>>) {
        let raw = std::str::from_utf8(&self.line)
            .is_err()
            .then(|| self.line.to_vec());
        (String::from_utf8_lossy(&self.line).into_owned(), raw)
    }

    /// Bytes the entry is counted for: its text, [`ENTRY_OVERHEAD`] and its [`Meta`].
    fn size(&self) -> usize {
        self.line.len() + ENTRY_OVERHEAD + self.syslog.as_deref().map_or(0, Meta::size)
    }
}

/// Which lines a query wants, as journalctl's matches select them: every condition given
/// must hold; an empty list or `None` selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Unit names or glob patterns (fnmatch, as journalctl matches `-u` patterns against the
    /// units the journal holds); a line matches when its unit matches one.
    pub units: Vec<String>,
    /// SYSLOG_IDENTIFIER values (`-t`), exact.
    pub identifiers: Vec<String>,
    /// Bit N set: priority N is wanted (`-p`); `None`: all.
    pub priorities: Option<u8>,
    /// Lines at or after this time (`--since`).
    pub since: Option<SystemTime>,
    /// Lines at or before this time (`--until`).
    pub until: Option<SystemTime>,
}

/// What a [`Filter`] looks at in a line: a ring's [`Entry`] and a line read back from the
/// persistent journal ([`super::record::LogLine`]) answer alike, so one filter serves both.
pub trait Matched {
    /// `_SYSTEMD_UNIT` (the unit's ring).
    fn unit(&self) -> &str;
    fn time(&self) -> SystemTime;
    /// PRIORITY.
    fn priority(&self) -> u8;
    /// SYSLOG_IDENTIFIER.
    fn identifier(&self) -> &str;
}

impl Matched for Entry {
    fn unit(&self) -> &str {
        &self.unit
    }

    fn time(&self) -> SystemTime {
        self.time
    }

    fn priority(&self) -> u8 {
        Entry::priority(self)
    }

    fn identifier(&self) -> &str {
        Entry::identifier(self)
    }
}

impl Filter {
    /// Whether `line` is wanted: its unit, priority, time and identifier.
    pub fn matches(&self, line: &impl Matched) -> bool {
        self.wants_unit(line.unit()) && self.wants(line)
    }

    /// Whether units are asked for by glob patterns only: journalctl's add_units() then
    /// refuses ([`NO_UNIT_DATA`]) when they match no unit the journal holds, rather than
    /// show everything.
    pub fn globs_only(&self) -> bool {
        !self.units.is_empty() && self.units.iter().all(|u| crate::unit::glob::is_glob(u))
    }

    /// Whether lines of `unit` are wanted.
    pub fn wants_unit(&self, unit: &str) -> bool {
        self.units.is_empty()
            || self
                .units
                .iter()
                .any(|u| u == unit || crate::unit::glob::fnmatch(u, unit))
    }

    /// All but the unit, which [`Journal`] looks at once per ring.
    fn wants(&self, e: &impl Matched) -> bool {
        self.priorities
            .is_none_or(|mask| mask & (1u8 << e.priority().min(7)) != 0)
            && self.since.is_none_or(|t| e.time() >= t)
            && self.until.is_none_or(|t| e.time() <= t)
            && (self.identifiers.is_empty() || self.identifiers.iter().any(|i| i == e.identifier()))
    }
}

/// journalctl's refusal of `-u` globs that match no unit the journal holds.
pub const NO_UNIT_DATA: &str = "Failed to add filter for units: No data available";

/// The fields a line carries beyond its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// 0 (emerg) to 7 (debug).
    pub priority: u8,
    pub facility: u8,
    /// SYSLOG_IDENTIFIER (shared by every line of a pipe, or of a unit's syslog lines with
    /// the same tag: one allocation, not one per line, for stdout and stderr lines).
    pub identifier: Option<Arc<str>>,
    /// Fields beyond the usual ones, as FIELD and value: the unit's LogExtraFields=, a
    /// native-protocol entry's own fields.
    pub fields: Vec<(Box<str>, Box<[u8]>)>,
}

impl Meta {
    /// The other fields as (name, value) text, a value that is not UTF-8 read with U+FFFD.
    pub fn fields_as_text(&self) -> Vec<(String, String)> {
        self.fields
            .iter()
            .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v).into_owned()))
            .collect()
    }

    /// Heap bytes of the boxed Meta with its fields (the identifier is shared, not counted).
    fn size(&self) -> usize {
        std::mem::size_of::<Meta>()
            + self
                .fields
                .iter()
                .map(|(k, v)| k.len() + v.len() + FIELD_OVERHEAD)
                .sum::<usize>()
    }
}

/// Bookkeeping cost of an entry beyond its bytes, so many empty lines still count.
const ENTRY_OVERHEAD: usize = 64;

/// Bookkeeping cost of one extra field beyond its bytes (two boxes in the Vec).
const FIELD_OVERHEAD: usize = 32;

#[derive(Debug, Default)]
struct Ring {
    entries: VecDeque<Entry>,
    bytes: usize,
    dropped: u64,
}

impl Ring {
    /// Drop the oldest lines until at most `limit` bytes remain, keeping the newest line;
    /// returns the bytes freed.
    fn trim(&mut self, limit: usize) -> usize {
        let mut freed = 0;
        while self.bytes > limit && self.entries.len() > 1 {
            if let Some(old) = self.entries.pop_front() {
                let size = old.size();
                self.bytes -= size;
                freed += size;
                self.dropped += 1;
            }
        }
        freed
    }
}

/// Default bytes per unit (`log.ring`).
pub const RING_DEFAULT: usize = 256 * 1024;

/// Default bytes of all rings together (`log.ring_total`).
pub const RING_TOTAL_DEFAULT: usize = 16 * 1024 * 1024;

/// All units' rings.
#[derive(Debug)]
pub struct Journal {
    rings: HashMap<Arc<str>, Ring>,
    limit_per_unit: usize,
    limit_total: usize,
    /// Bytes of all rings.
    total: usize,
    next_seq: u64,
    /// Every entry appended since the owner last took them, for the persistent journal
    /// ([`super::persist`]); None until the owner first asks (nothing is copied when nobody
    /// persists).
    outbox: Option<Outbox>,
}

/// Entries waiting to be persisted: bounded in bytes, as the rings are.
#[derive(Debug, Default)]
struct Outbox {
    entries: Vec<Entry>,
    bytes: usize,
    /// Entries not kept because the owner had not taken the others yet.
    dropped: u64,
}

/// Bytes of entries the outbox holds between two takes (a loop turn adds a few lines).
pub const OUTBOX_LIMIT: usize = 1 << 20;

impl Journal {
    /// A journal keeping at most `limit_per_unit` bytes (lines plus overhead) per unit and
    /// `limit_total` in all. Each ring keeps at least its newest line.
    pub fn new(limit_per_unit: usize, limit_total: usize) -> Journal {
        Journal {
            rings: HashMap::new(),
            limit_per_unit,
            limit_total,
            total: 0,
            next_seq: 1,
            outbox: None,
        }
    }

    /// The entries appended since the last call, and how many were not kept for want of room
    /// ([`OUTBOX_LIMIT`]). The first call starts the copying: every source that appends
    /// through [`Self::append_with`] is covered without knowing it.
    pub fn take_outbox(&mut self) -> (Vec<Entry>, u64) {
        let outbox = std::mem::take(self.outbox.get_or_insert_with(Outbox::default));
        (outbox.entries, outbox.dropped)
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
        self.append_with(unit, pid, stream, (line, truncated), None)
    }

    /// Record a line with what it said about itself (a syslog line's priority and identifier).
    pub fn append_with(
        &mut self,
        unit: &str,
        pid: i32,
        stream: Stream,
        (line, truncated): (&[u8], bool),
        syslog: Option<Box<Meta>>,
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
            not_shown: false,
            syslog,
        };
        self.next_seq += 1;
        let size = entry.size();
        if let Some(outbox) = self.outbox.as_mut() {
            if outbox.bytes + size <= OUTBOX_LIMIT {
                outbox.bytes += size;
                outbox.entries.push(entry.clone());
            } else {
                outbox.dropped += 1;
            }
        }
        ring.bytes += size;
        self.total += size;
        ring.entries.push_back(entry);
        self.total -= ring.trim(self.limit_per_unit);
        if self.total > self.limit_total {
            self.trim_total(unit);
        }
        // The ring is non-empty: it keeps its newest line whatever the limits.
        let ring = &self.rings[unit];
        &ring.entries[ring.entries.len() - 1]
    }

    /// Bring all rings under the total, oldest lines of the largest rings first: the largest
    /// rings are cut down to one level, as low as the total needs (water-filling), the others
    /// are not touched. Goes a sixteenth below the limit, so a flood pays for the sorting once
    /// per sixteenth of the total, not once per line. When that is not enough (many rings of
    /// one line each: an `Accept=yes` socket's instances, one per connection), whole rings go,
    /// those written to least recently first, never `keep`'s (the one just written): the
    /// number of rings is bounded by the total too.
    fn trim_total(&mut self, keep: &str) {
        let target = self.limit_total - self.limit_total / 16;
        let mut sizes: Vec<(usize, Arc<str>)> = self
            .rings
            .iter()
            .filter(|(_, r)| r.entries.len() > 1)
            .map(|(k, r)| (r.bytes, Arc::clone(k)))
            .collect();
        sizes.sort_unstable_by_key(|s| std::cmp::Reverse(s.0));
        let over = self.total.saturating_sub(target);
        // The top k rings down to `level` free `over`: the smallest k whose excess above the
        // next ring's size covers it.
        let mut top = 0;
        let mut level = 0;
        for k in 1..=sizes.len() {
            top += sizes[k - 1].0;
            let next = sizes.get(k).map_or(0, |s| s.0);
            if top - next * k >= over {
                level = (top - over) / k;
                break;
            }
        }
        for (bytes, unit) in sizes {
            if bytes <= level {
                break;
            }
            if let Some(ring) = self.rings.get_mut(&unit) {
                self.total -= ring.trim(level);
            }
        }
        if self.total > self.limit_total {
            self.evict_rings(target, keep);
        }
    }

    /// Remove whole rings, least recently written first, until the total is at `target`.
    fn evict_rings(&mut self, target: usize, keep: &str) {
        let mut idle: Vec<(u64, Arc<str>)> = self
            .rings
            .iter()
            .filter(|(k, _)| &***k != keep)
            .map(|(k, r)| (r.entries.back().map_or(0, |e| e.seq), Arc::clone(k)))
            .collect();
        idle.sort_unstable_by_key(|i| i.0);
        for (_, unit) in idle {
            if self.total <= target {
                break;
            }
            if let Some(ring) = self.rings.remove(&unit) {
                self.total -= ring.bytes;
            }
        }
    }

    /// Note that PID 1's stdout dropped line `seq` of `unit`.
    pub fn mark_not_shown(&mut self, unit: &str, seq: u64) {
        if let Some(ring) = self.rings.get_mut(unit)
            && let Ok(i) = ring.entries.binary_search_by_key(&seq, |e| e.seq)
        {
            ring.entries[i].not_shown = true;
        }
    }

    /// How many lines of `unit` from `since_seq` on that stdout dropped are still kept; None
    /// when the journal has no ring for `unit` (a hook, bosun itself).
    pub fn kept_not_shown(&self, unit: &str, since_seq: u64) -> Option<u64> {
        self.rings.get(unit).map(|r| {
            let from = r.entries.partition_point(|e| e.seq < since_seq);
            let kept = r.entries.range(from..).filter(|e| e.not_shown).count();
            u64::try_from(kept).unwrap_or(u64::MAX)
        })
    }

    /// Bytes kept in all rings (lines plus bookkeeping).
    pub fn total_bytes(&self) -> usize {
        self.total
    }

    /// The last `n` entries of `unit` (all units when None), oldest first.
    pub fn tail(&self, unit: Option<&str>, n: usize) -> Vec<&Entry> {
        self.tail_before(unit, n, 0, &Filter::default())
    }

    /// The last `n` entries of `unit` (all units when None) that `filter` wants, older than
    /// `before` (0: the newest), oldest first: a page of what came before.
    pub fn tail_before(
        &self,
        unit: Option<&str>,
        n: usize,
        before: u64,
        filter: &Filter,
    ) -> Vec<&Entry> {
        self.select(unit, (0, before), n, filter)
    }

    /// Entries of `unit` (all units when None) that `filter` wants with a sequence number
    /// above `seq`, oldest first: what a follower that has seen up to `seq` has not seen yet.
    pub fn since(&self, unit: Option<&str>, seq: u64, filter: &Filter) -> Vec<&Entry> {
        self.select(unit, (seq, 0), usize::MAX, filter)
    }

    /// Whether a unit the journal holds lines of matches one of `patterns` (journalctl
    /// complains when its `-u` globs match none: "No data available").
    pub fn holds_unit_matching(&self, patterns: &[String]) -> bool {
        let filter = Filter {
            units: patterns.to_vec(),
            ..Filter::default()
        };
        self.rings.keys().any(|u| filter.wants_unit(u))
    }

    /// The sequence number of the newest entry (0 when empty).
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// How many old lines of `unit` were dropped to stay within the limit.
    pub fn dropped(&self, unit: &str) -> u64 {
        self.rings.get(unit).map_or(0, |r| r.dropped)
    }

    /// The last `n` entries that `filter` wants of `unit` (all units when None) with a
    /// sequence number above `after` and below `before` (0: no bound), oldest first. Each ring
    /// is in sequence order, so each gives at most its own last `n` (found from its end): the
    /// last lines of a large journal cost what they return, not the journal's size.
    fn select(
        &self,
        unit: Option<&str>,
        (after, before): (u64, u64),
        n: usize,
        filter: &Filter,
    ) -> Vec<&Entry> {
        let rings: Vec<&Ring> = match unit {
            Some(unit) => self
                .rings
                .get(unit)
                .filter(|_| filter.wants_unit(unit))
                .into_iter()
                .collect(),
            None => self
                .rings
                .iter()
                .filter(|(u, _)| filter.wants_unit(u))
                .map(|(_, r)| r)
                .collect(),
        };
        let mut out: Vec<&Entry> = Vec::new();
        for ring in rings {
            let from = ring.entries.partition_point(|e| e.seq <= after);
            let to = if before > 0 {
                ring.entries.partition_point(|e| e.seq < before)
            } else {
                ring.entries.len()
            };
            out.extend(
                ring.entries
                    .range(from..to.max(from))
                    .rev()
                    .filter(|e| filter.wants(*e))
                    .take(n),
            );
        }
        out.sort_unstable_by_key(|e| e.seq);
        let skip = out.len().saturating_sub(n);
        out.drain(..skip);
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
        let mut j = Journal::new(1 << 20, 1 << 30);
        j.append("a", 1, Stream::Stdout, b"1", false);
        j.append("b", 2, Stream::Stderr, b"2", false);
        j.append("a", 1, Stream::Stdout, b"3", false);
        assert_eq!(lines(&j.tail(None, 10)), ["a:1", "b:2", "a:3"]);
        assert_eq!(lines(&j.tail(Some("a"), 1)), ["a:3"]);
        let seen = j.last_seq();
        j.append("b", 2, Stream::Stdout, b"4", false);
        let all = Filter::default();
        assert_eq!(lines(&j.since(None, seen, &all)), ["b:4"]);
        assert!(j.since(Some("a"), seen, &all).is_empty());
        assert!(j.tail(Some("nope"), 5).is_empty());
    }

    #[test]
    fn each_unit_is_bounded_and_counts_what_it_dropped() {
        let mut j = Journal::new(10 * (100 + ENTRY_OVERHEAD), 1 << 30);
        for i in 0..1000u32 {
            j.append("noisy", 1, Stream::Stdout, &[b'x'; 100], i % 2 == 0);
        }
        j.append("quiet", 2, Stream::Stdout, b"kept", false);
        assert_eq!(j.tail(Some("noisy"), usize::MAX).len(), 10);
        assert_eq!(j.dropped("noisy"), 990);
        assert_eq!(lines(&j.tail(Some("quiet"), 5)), ["quiet:kept"]);
    }

    #[test]
    fn fields_count_against_the_limits() {
        let meta = |n: usize| Meta {
            priority: 6,
            facility: 1,
            identifier: None,
            fields: vec![("F".into(), vec![b'v'; n].into())],
        };
        let mut j = Journal::new(1 << 20, 1 << 20);
        j.append("u", 1, Stream::Journal, b"m", false);
        let bare = j.total_bytes();
        j.append_with(
            "u",
            1,
            Stream::Journal,
            (b"m", false),
            Some(Box::new(meta(1000))),
        );
        assert!(j.total_bytes() - bare >= bare + 1000, "{}", j.total_bytes());
        // Entries whose fields fill the ring push out the oldest, as long lines do.
        let mut j = Journal::new(10_000, 1 << 20);
        for _ in 0..20 {
            j.append_with(
                "u",
                1,
                Stream::Journal,
                (b"m", false),
                Some(Box::new(meta(1000))),
            );
        }
        assert!(j.tail(Some("u"), usize::MAX).len() < 10);
        assert!(j.total_bytes() <= 10_000);
    }

    #[test]
    fn a_single_huge_line_is_still_kept() {
        let mut j = Journal::new(100, 100);
        j.append("u", 1, Stream::Stdout, &[b'y'; 1000], true);
        assert_eq!(j.tail(Some("u"), 1).len(), 1);
    }

    #[test]
    fn the_total_evicts_the_oldest_lines_of_the_largest_rings() {
        let size = 100 + ENTRY_OVERHEAD;
        let mut j = Journal::new(1000 * size, 100 * size);
        for _ in 0..10 {
            j.append("quiet", 1, Stream::Stdout, &[b'q'; 100], false);
        }
        for _ in 0..1000 {
            j.append("flood", 2, Stream::Stdout, &[b'f'; 100], false);
        }
        assert!(j.total_bytes() <= 100 * size, "{}", j.total_bytes());
        // The flood paid for itself: the quiet unit kept everything.
        assert_eq!(j.tail(Some("quiet"), usize::MAX).len(), 10);
        assert_eq!(j.dropped("quiet"), 0);
        let flood = j.tail(Some("flood"), usize::MAX);
        assert!(flood.len() >= 80, "{}", flood.len());
        // The newest flood lines are the kept ones.
        assert_eq!(flood.last().map(|e| e.seq), Some(j.last_seq()));
        // Negative control: a unit over the total on its own loses its own oldest lines.
        let mut j = Journal::new(1000 * size, 10 * size);
        for _ in 0..100 {
            j.append("alone", 1, Stream::Stdout, &[b'a'; 100], false);
        }
        assert!(j.tail(Some("alone"), usize::MAX).len() <= 10);
        assert!(j.dropped("alone") >= 90);
    }

    #[test]
    fn pages_before_a_sequence_number() {
        let mut j = Journal::new(1 << 20, 1 << 20);
        for i in 0..10u8 {
            j.append(
                if i % 2 == 0 { "a" } else { "b" },
                1,
                Stream::Stdout,
                &[b'0' + i],
                false,
            );
        }
        let seqs = |v: Vec<&Entry>| v.iter().map(|e| e.seq).collect::<Vec<_>>();
        let all = Filter::default();
        assert_eq!(seqs(j.tail_before(None, 3, 0, &all)), [8, 9, 10]);
        assert_eq!(seqs(j.tail_before(None, 3, 8, &all)), [5, 6, 7]);
        assert_eq!(seqs(j.tail_before(Some("a"), 2, 7, &all)), [3, 5]);
        assert_eq!(seqs(j.tail_before(None, 5, 3, &all)), [1, 2]);
        assert!(j.tail_before(None, 5, 1, &all).is_empty());
    }

    #[test]
    fn filters_select_before_the_count() {
        let mut j = Journal::new(1 << 20, 1 << 20);
        let meta = |priority, id: &str| {
            Some(Box::new(Meta {
                priority,
                facility: 3,
                identifier: Some(Arc::from(id)),
                fields: Vec::new(),
            }))
        };
        j.append_with(
            "web.service",
            1,
            Stream::Syslog,
            (b"e1", false),
            meta(3, "nginx"),
        );
        for _ in 0..5 {
            j.append("web.service", 1, Stream::Stdout, b"info", false);
        }
        j.append("web-2.service", 2, Stream::Stderr, b"other", false);
        j.append_with(
            "cron.service",
            3,
            Stream::Syslog,
            (b"e2", false),
            meta(2, "CRON"),
        );
        let only = |f: Filter, n| lines(&j.tail_before(None, n, 0, &f));
        // The last error of all is found however many lines came after it.
        let errors = Filter {
            priorities: Some(0b1111),
            ..Filter::default()
        };
        assert_eq!(only(errors.clone(), 1), ["cron.service:e2"]);
        assert_eq!(only(errors, 10), ["web.service:e1", "cron.service:e2"]);
        // Globs and exact names; stdout lines are info, their identifier the unit's stem.
        let web = Filter {
            units: vec!["web*".into()],
            priorities: Some(1 << 6),
            ..Filter::default()
        };
        assert_eq!(only(web, 2), ["web.service:info", "web-2.service:other"]);
        let ids = Filter {
            identifiers: vec!["nginx".into(), "web-2".into()],
            ..Filter::default()
        };
        assert_eq!(only(ids, 10), ["web.service:e1", "web-2.service:other"]);
        // Negative controls: a time window after every line, a unit nobody wrote.
        let later = Filter {
            since: Some(SystemTime::now() + std::time::Duration::from_secs(60)),
            ..Filter::default()
        };
        assert!(only(later, 10).is_empty());
        assert!(j.holds_unit_matching(&["cr?n.*".into()]));
        assert!(!j.holds_unit_matching(&["ssh*".into()]));
        let all = Filter::default();
        assert_eq!(j.since(None, 7, &all).len(), 1);
    }

    #[test]
    fn many_one_line_rings_stay_within_the_total() {
        let size = 10 + ENTRY_OVERHEAD;
        let mut j = Journal::new(100 * size, 100 * size);
        for _ in 0..5 {
            j.append("steady", 1, Stream::Stdout, &[b's'; 10], false);
        }
        // One line each from 10,000 instances (connections of an Accept=yes socket).
        for i in 0..10_000 {
            let unit = format!("conn@{i}.service");
            j.append(&unit, 2, Stream::Stdout, &[b'c'; 10], false);
        }
        assert!(j.total_bytes() <= 100 * size, "{}", j.total_bytes());
        assert!(j.rings.len() <= 100, "{} rings", j.rings.len());
        // The newest instance is kept; the oldest rings went first, the steady one with them.
        assert_eq!(j.tail(Some("conn@9999.service"), 1).len(), 1);
        assert!(j.tail(Some("conn@0.service"), 1).is_empty());
        assert!(j.tail(Some("steady"), 1).is_empty());
        // Negative control: within the total, every ring stays.
        let mut j = Journal::new(100 * size, 1000 * size);
        for i in 0..50 {
            j.append(
                &format!("conn@{i}.service"),
                2,
                Stream::Stdout,
                &[b'c'; 10],
                false,
            );
        }
        assert_eq!(j.rings.len(), 50);
    }

    #[test]
    fn equal_rings_share_the_cut() {
        let size = 100 + ENTRY_OVERHEAD;
        let mut j = Journal::new(1000 * size, 400 * size);
        for _ in 0..100 {
            for unit in ["a", "b", "c", "d"] {
                j.append(unit, 1, Stream::Stdout, &[b'x'; 100], false);
            }
        }
        // 400 lines fit exactly; one more line cuts every ring to the same level.
        j.append("e", 1, Stream::Stdout, &[b'x'; 100], false);
        assert!(j.total_bytes() <= 400 * size - 400 * size / 16);
        let kept: Vec<usize> = ["a", "b", "c", "d"]
            .iter()
            .map(|u| j.tail(Some(u), usize::MAX).len())
            .collect();
        assert!(kept.iter().all(|&k| (92..=94).contains(&k)), "{kept:?}");
        assert_eq!(j.tail(Some("e"), usize::MAX).len(), 1);
    }

    #[test]
    fn meta_and_its_fields_are_counted() {
        let meta = || Meta {
            priority: 6,
            facility: 3,
            identifier: Some(Arc::from("sh")),
            fields: vec![(Box::from("A"), Box::from(&b"12345"[..]))],
        };
        let mut j = Journal::new(1 << 20, 1 << 30);
        j.append("u", 1, Stream::Stdout, b"x", false);
        let plain = j.total_bytes();
        assert_eq!(plain, 1 + ENTRY_OVERHEAD);
        j.append_with(
            "u",
            1,
            Stream::Stdout,
            (b"x", false),
            Some(Box::new(meta())),
        );
        assert_eq!(
            j.total_bytes() - plain,
            1 + ENTRY_OVERHEAD + std::mem::size_of::<Meta>() + 6 + FIELD_OVERHEAD
        );
        // The shared identifier is not counted per line: Meta is small.
        assert!(std::mem::size_of::<Meta>() <= 48);
    }

    #[test]
    fn the_outbox_copies_every_append_once_asked_within_a_bound() {
        let mut j = Journal::new(1 << 20, 1 << 30);
        j.append("a", 1, Stream::Stdout, b"before", false);
        // Negative control: nothing was copied before the first take.
        assert_eq!(j.take_outbox(), (Vec::new(), 0));
        j.append("a", 1, Stream::Stdout, b"1", false);
        j.append_with("b", 2, Stream::Syslog, (b"2", false), None);
        let (entries, dropped) = j.take_outbox();
        assert_eq!(lines(&entries.iter().collect::<Vec<_>>()), ["a:1", "b:2"]);
        assert_eq!(dropped, 0);
        assert!(j.take_outbox().0.is_empty());
        let big = vec![b'x'; 1000];
        for _ in 0..2000 {
            j.append("flood", 3, Stream::Stdout, &big, false);
        }
        let (entries, dropped) = j.take_outbox();
        assert_eq!(entries.len(), OUTBOX_LIMIT / (1000 + ENTRY_OVERHEAD));
        assert_eq!(u64::try_from(entries.len()).unwrap() + dropped, 2000);
    }

    #[test]
    fn marks_say_how_many_dropped_lines_are_still_kept() {
        let size = 10 + ENTRY_OVERHEAD;
        let mut j = Journal::new(5 * size, 1 << 30);
        for seq in 1..=8u64 {
            let e = j.append("u", 1, Stream::Stdout, &[b'x'; 10], false).seq;
            assert_eq!(e, seq);
        }
        // Lines 1..=8 were dropped by stdout; the ring keeps 4..=8.
        for seq in 1..=8 {
            j.mark_not_shown("u", seq);
        }
        assert_eq!(j.kept_not_shown("u", 1), Some(5));
        assert_eq!(j.kept_not_shown("u", 7), Some(2));
        assert_eq!(j.kept_not_shown("nope", 1), None);
    }
}
