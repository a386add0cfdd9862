//! POSIX `TZ` rules such as `CET-1CEST,M3.5.0,M10.5.0/3`: the footer of TZif files (the
//! rule after the last transition) and a `TZ` that names no file, read and applied as glibc
//! does (tzset.c: `__tzset_parse_tz`, `compute_change`, `__tz_compute`). Pure.

use super::civil;

/// A POSIX `TZ` rule (the TZif footer): standard time, and optionally DST with the days and
/// times it starts and ends, in glibc's reading (tzset.c).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PosixRule {
    pub(super) std_name: String,
    /// Seconds east of UTC.
    pub(super) std_offset: i64,
    pub(super) dst: Option<DstRule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DstRule {
    pub(super) name: String,
    /// Seconds east of UTC.
    offset: i64,
    start: ChangeDay,
    /// Seconds after local midnight (standard time) that DST starts.
    start_time: i64,
    end: ChangeDay,
    /// Seconds after local midnight (DST) that DST ends.
    end_time: i64,
}

/// The day of a change: `Jn` (1..=365, February 29th not counted), `n` (0..=365), or
/// `Mm.w.d` (day d of week w of month m, week 5 the last).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChangeDay {
    Julian1(i64),
    Julian0(i64),
    Month { month: usize, week: i64, day: i64 },
}

impl PosixRule {
    pub(super) fn parse(text: &str) -> Option<PosixRule> {
        let mut p = RuleText {
            s: text.as_bytes(),
            at: 0,
        };
        let std_name = p.name()?;
        let std_offset = -p.offset()?;
        if p.at == p.s.len() {
            return Some(PosixRule {
                std_name,
                std_offset,
                dst: None,
            });
        }
        let name = p.name()?;
        let offset = if p.peek().is_some_and(|b| b != b',') {
            -p.offset()?
        } else {
            std_offset + 3600
        };
        // Without rules glibc takes them from the posixrules file, the US rules.
        let (start, start_time, end, end_time) = if p.at == p.s.len() {
            (
                ChangeDay::Month {
                    month: 3,
                    week: 2,
                    day: 0,
                },
                7200,
                ChangeDay::Month {
                    month: 11,
                    week: 1,
                    day: 0,
                },
                7200,
            )
        } else {
            p.expect(b',')?;
            let (start, start_time) = p.change()?;
            p.expect(b',')?;
            let (end, end_time) = p.change()?;
            (start, start_time, end, end_time)
        };
        if p.at != p.s.len() {
            return None;
        }
        Some(PosixRule {
            std_name,
            std_offset,
            dst: Some(DstRule {
                name,
                offset,
                start,
                start_time,
                end,
                end_time,
            }),
        })
    }

    /// The standard and DST abbreviations (the standard one twice without DST), as glibc's
    /// `tzname` after it applied the rule.
    pub(super) fn tzname(&self) -> [String; 2] {
        [
            self.std_name.clone(),
            self.dst
                .as_ref()
                .map_or_else(|| self.std_name.clone(), |d| d.name.clone()),
        ]
    }

    /// The offset and DST flag at `t`, glibc's __tz_compute: the changes of the UTC year of
    /// `t`, with DST spanning the new year when it ends before it starts.
    pub(super) fn offset_at(&self, t: i64) -> (i64, bool) {
        let Some(dst) = &self.dst else {
            return (self.std_offset, false);
        };
        let year = civil::breakdown(t, 0, 0).year;
        let start = dst.start.seconds(year) - self.std_offset + dst.start_time;
        let end = dst.end.seconds(year) - dst.offset + dst.end_time;
        let isdst = if start > end {
            t < end || t >= start
        } else {
            t >= start && t < end
        };
        if isdst {
            (dst.offset, true)
        } else {
            (self.std_offset, false)
        }
    }
}

impl ChangeDay {
    /// The UNIX time of midnight UTC of this day in `year`.
    fn seconds(self, year: i64) -> i64 {
        let jan1 = civil::days_to_year(year) * 86_400;
        match self {
            ChangeDay::Julian1(d) => {
                let leap = i64::from(d >= 60 && civil::is_leap(year));
                jan1 + (d - 1 + leap) * 86_400
            }
            ChangeDay::Julian0(d) => jan1 + d * 86_400,
            ChangeDay::Month { month, week, day } => {
                let first = civil::days_to_year(year) + civil::days_before_month(year, month);
                // 1970-01-01 was a Thursday (4).
                let dow = (first + 4).rem_euclid(7);
                let mut d = (day - dow).rem_euclid(7);
                let len = civil::month_length(year, month);
                for _ in 1..week {
                    if d + 7 >= len {
                        break;
                    }
                    d += 7;
                }
                (first + d) * 86_400
            }
        }
    }
}

/// A cursor over a TZ rule.
struct RuleText<'a> {
    s: &'a [u8],
    at: usize,
}

impl RuleText<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.at += 1)
    }

    /// An abbreviation: three or more letters, or `<...>` of letters, digits, `+` and `-`.
    fn name(&mut self) -> Option<String> {
        let (start, end) = if self.peek() == Some(b'<') {
            let start = self.at + 1;
            let len = self.s[start..]
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || b == b'+' || b == b'-'))?;
            self.at = start + len;
            self.expect(b'>')?;
            (start, start + len)
        } else {
            let start = self.at;
            while self.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
                self.at += 1;
            }
            (start, self.at)
        };
        if end - start < 3 {
            return None;
        }
        Some(String::from_utf8_lossy(&self.s[start..end]).into_owned())
    }

    fn number(&mut self) -> Option<i64> {
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) && self.at - start < 6 {
            self.at += 1;
        }
        std::str::from_utf8(&self.s[start..self.at])
            .ok()?
            .parse()
            .ok()
    }

    /// `[+-]hh[:mm[:ss]]` in seconds, positive west as POSIX writes it.
    fn offset(&mut self) -> Option<i64> {
        let sign = match self.peek()? {
            b'-' => {
                self.at += 1;
                -1
            }
            b'+' => {
                self.at += 1;
                1
            }
            _ => 1,
        };
        Some(sign * self.clock()?)
    }

    /// `hh[:mm[:ss]]` in seconds.
    fn clock(&mut self) -> Option<i64> {
        let h = self.number()?;
        let mut secs = h * 3600;
        if self.peek() == Some(b':') {
            self.at += 1;
            secs += self.number()? * 60;
            if self.peek() == Some(b':') {
                self.at += 1;
                secs += self.number()?;
            }
        }
        Some(secs)
    }

    /// A change day with its optional `/time` (default 02:00, may be negative or past 24h).
    fn change(&mut self) -> Option<(ChangeDay, i64)> {
        let day = match self.peek()? {
            b'J' => {
                self.at += 1;
                let n = self.number()?;
                (1..=365).contains(&n).then_some(ChangeDay::Julian1(n))?
            }
            b'M' => {
                self.at += 1;
                let month = self.number()?;
                self.expect(b'.')?;
                let week = self.number()?;
                self.expect(b'.')?;
                let day = self.number()?;
                let ok = (1..=12).contains(&month) && (1..=5).contains(&week) && day <= 6;
                ok.then_some(ChangeDay::Month {
                    month: usize::try_from(month).ok()?,
                    week,
                    day,
                })?
            }
            _ => {
                let n = self.number()?;
                (n <= 365).then_some(ChangeDay::Julian0(n))?
            }
        };
        let time = if self.peek() == Some(b'/') {
            self.at += 1;
            let negative = self.peek() == Some(b'-');
            if negative || self.peek() == Some(b'+') {
                self.at += 1;
            }
            let t = self.clock()?;
            if negative { -t } else { t }
        } else {
            7200
        };
        Some((day, time))
    }
}
