//! journald's rate limit per unit (RateLimitIntervalSec=30s, RateLimitBurst=10000): at most
//! `burst` messages of one source in each interval; the rest are dropped and counted, and the
//! count is told once the next interval lets a message through again. Pure: the clock is the
//! caller's, and so is saying what was suppressed.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// journald's RateLimitIntervalSec= default.
pub const INTERVAL: Duration = Duration::from_secs(30);

/// journald's RateLimitBurst= default.
pub const BURST: u32 = 10_000;

/// Whether a message may be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Keep it.
    Pass,
    /// Keep it; the last interval dropped this many of the source's messages.
    PassAfter(u64),
    /// Drop it.
    Drop,
}

#[derive(Debug)]
struct Window {
    begin: Instant,
    count: u32,
    suppressed: u64,
}

/// The windows of all sources, at most `MAX_SOURCES` (the oldest go first).
#[derive(Debug, Default)]
pub struct RateLimits {
    windows: HashMap<String, Window>,
}

/// Sources remembered at most (an `Accept=yes` socket's instances come and go).
const MAX_SOURCES: usize = 4096;

impl RateLimits {
    /// Count a message of `source` at `now` with its limit (`interval` zero or `burst` zero:
    /// no limit, as in systemd).
    pub fn admit(&mut self, source: &str, now: Instant, interval: Duration, burst: u32) -> Verdict {
        if interval.is_zero() || burst == 0 {
            return Verdict::Pass;
        }
        if !self.windows.contains_key(source) && self.windows.len() >= MAX_SOURCES {
            self.forget_oldest();
        }
        let window = self
            .windows
            .entry(source.to_owned())
            .or_insert_with(|| Window {
                begin: now,
                count: 0,
                suppressed: 0,
            });
        let mut told = 0;
        if now.duration_since(window.begin) >= interval {
            told = std::mem::take(&mut window.suppressed);
            window.begin = now;
            window.count = 0;
        }
        if window.count >= burst {
            window.suppressed += 1;
            return Verdict::Drop;
        }
        window.count += 1;
        if told > 0 {
            Verdict::PassAfter(told)
        } else {
            Verdict::Pass
        }
    }

    fn forget_oldest(&mut self) {
        if let Some(oldest) = self
            .windows
            .iter()
            .min_by_key(|(_, w)| w.begin)
            .map(|(k, _)| k.clone())
        {
            self.windows.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_drops_then_tells() {
        let mut limits = RateLimits::default();
        let t0 = Instant::now();
        let second = Duration::from_secs(1);
        for _ in 0..3 {
            assert_eq!(limits.admit("a", t0, second, 3), Verdict::Pass);
        }
        assert_eq!(limits.admit("a", t0, second, 3), Verdict::Drop);
        assert_eq!(limits.admit("a", t0, second, 3), Verdict::Drop);
        // Another source has its own window.
        assert_eq!(limits.admit("b", t0, second, 3), Verdict::Pass);
        assert_eq!(
            limits.admit("a", t0 + second, second, 3),
            Verdict::PassAfter(2)
        );
        assert_eq!(limits.admit("a", t0 + second, second, 3), Verdict::Pass);
        // Negative control: no limit when the interval or the burst is zero.
        for _ in 0..10 {
            assert_eq!(limits.admit("c", t0, Duration::ZERO, 1), Verdict::Pass);
            assert_eq!(limits.admit("c", t0, second, 0), Verdict::Pass);
        }
    }

    #[test]
    fn sources_are_bounded() {
        let mut limits = RateLimits::default();
        let t0 = Instant::now();
        for i in 0..MAX_SOURCES + 10 {
            limits.admit(&format!("u{i}"), t0, INTERVAL, BURST);
        }
        assert_eq!(limits.windows.len(), MAX_SOURCES);
    }
}
