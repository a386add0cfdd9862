//! The next elapse of a calendar event: systemd's `find_next` (calendarspec.c) over glibc's
//! `localtime`/`mktime` in the event's zone ([`super::civil`], [`super::zone`]), field by
//! field from the year down to the microsecond. Pure: the time to start from is a parameter.

use super::civil::{self, Tm};
use super::{CalendarSpec, Component, MAX_YEAR, USEC_PER_SEC, Zone};

/// systemd refuses to compute from a time it could not print (USEC_TIMESTAMP_FORMATTABLE_MAX,
/// 9999-12-30 23:59:59 UTC).
const FORMATTABLE_MAX_USEC: i64 = 253_402_214_399_000_000;

/// find_next gives up after this many rounds (calendarspec.c MAX_CALENDAR_ITERATIONS).
const MAX_ITERATIONS: usize = 1000;

impl CalendarSpec {
    /// calendar_spec_next_usec: microseconds since the epoch, strictly after `usec`.
    pub(super) fn next_usec(&self, usec: i64) -> Option<i64> {
        if usec > FORMATTABLE_MAX_USEC {
            return None;
        }
        let from = usec + 1;
        let mut tm = self.to_fields(from.div_euclid(USEC_PER_SEC));
        let mut tm_usec = from.rem_euclid(USEC_PER_SEC);
        // glibc's mktime guess; the first conversion below settles it, whatever it starts at.
        let mut offset = 0;
        self.find_next(&mut offset, &mut tm, &mut tm_usec)?;
        let (t, _) = self.to_time(&mut offset, &tm)?;
        (t >= 0).then_some(t * USEC_PER_SEC + tm_usec)
    }

    /// `localtime_r`/`gmtime_r` in the event's zone.
    fn to_fields(&self, t: i64) -> Tm {
        match &self.zone {
            Zone::Utc(leaps) => leaps.gmtime(t),
            Zone::Local { zone, .. } | Zone::Named(zone) => zone.localtime(t),
        }
    }

    /// `mktime`/`timegm` in the event's zone: the time and the normalised fields, or `None`
    /// when glibc would fail.
    fn to_time(&self, offset: &mut i64, tm: &Tm) -> Option<(i64, Tm)> {
        match &self.zone {
            Zone::Utc(leaps) if !leaps.has_leap_seconds() => Some(civil::timegm(tm)),
            Zone::Utc(leaps) => {
                let mut utc = *tm;
                utc.isdst = 0;
                civil::mktime(&utc, offset, &|t| leaps.gmtime(t))
            }
            Zone::Local { zone, .. } | Zone::Named(zone) => {
                civil::mktime(tm, offset, &|t| zone.localtime(t))
            }
        }
    }

    /// The `tm_isdst` the event asks `mktime` for: -1 unless it ended with a local
    /// abbreviation.
    fn isdst(&self) -> i32 {
        match self.zone {
            Zone::Local { dst: Some(d), .. } => i32::from(d),
            _ => -1,
        }
    }

    /// calendarspec.c `find_next`: starting at `tm` + `usec`, move each field, from the year
    /// down to the second, to the first value the event allows, restarting whenever `mktime`
    /// normalises a field (the 31st of a 30-day month, an hour a DST change skips).
    ///
    /// As in systemd 252.38 (Debian 12's build, read from its libsystemd-shared): a result
    /// that is not after the start, which happens when a DST change repeats the wall-clock
    /// hour, is retried an hour later, and from then on the DST flag `mktime` found is kept
    /// rather than the one the event asks for.
    fn find_next(&self, offset: &mut i64, tm: &mut Tm, usec: &mut i64) -> Option<()> {
        let start = (*tm, *usec);
        let mut c = *tm;
        let mut c_usec = *usec;
        let mut keep_dst = false;
        for _ in 0..MAX_ITERATIONS {
            // Normalise the current date.
            if let Some((_, n)) = self.to_time(offset, &c) {
                c = n;
            }
            if !keep_dst {
                c.isdst = self.isdst();
            }

            let mut year = c.year;
            let r = self.find_matching(offset, &self.year, &c, &mut year, false);
            c.year = year;
            if r == Some(true) {
                c.mon = 0;
                c.mday = 1;
                (c.hour, c.min, c.sec, c_usec) = (0, 0, 0, 0);
            }
            r?;
            if self.within_bounds(offset, &mut c) != Some(true) {
                return None;
            }

            let mut month = c.mon + 1;
            let r = self.find_matching(offset, &self.month, &c, &mut month, false);
            c.mon = month - 1;
            if r == Some(true) {
                c.mday = 1;
                (c.hour, c.min, c.sec, c_usec) = (0, 0, 0, 0);
            }
            match r.and_then(|_| self.within_bounds(offset, &mut c)) {
                None => {
                    c.year += 1;
                    c.mon = 0;
                    c.mday = 1;
                    (c.hour, c.min, c.sec, c_usec) = (0, 0, 0, 0);
                    continue;
                }
                Some(false) => continue,
                Some(true) => {}
            }

            let mut mday = c.mday;
            let r = self.find_matching(offset, &self.day, &c, &mut mday, self.end_of_month);
            c.mday = mday;
            if r == Some(true) {
                (c.hour, c.min, c.sec, c_usec) = (0, 0, 0, 0);
            }
            match r.and_then(|_| self.within_bounds(offset, &mut c)) {
                None => {
                    c.mon += 1;
                    c.mday = 1;
                    (c.hour, c.min, c.sec, c_usec) = (0, 0, 0, 0);
                    continue;
                }
                Some(false) => continue,
                Some(true) => {}
            }

            if !self.matches_weekday(offset, &c) {
                c.mday += 1;
                (c.hour, c.min, c.sec, c_usec) = (0, 0, 0, 0);
                continue;
            }

            let mut hour = c.hour;
            let r = self.find_matching(offset, &self.hour, &c, &mut hour, false);
            c.hour = hour;
            if r == Some(true) {
                (c.min, c.sec, c_usec) = (0, 0, 0);
            }
            match r.and_then(|_| self.within_bounds(offset, &mut c)) {
                None => {
                    c.mday += 1;
                    (c.hour, c.min, c.sec, c_usec) = (0, 0, 0, 0);
                    continue;
                }
                // The hour may not exist on this day (a DST change): start again from the
                // normalised time.
                Some(false) => continue,
                Some(true) => {}
            }

            let mut min = c.min;
            let r = self.find_matching(offset, &self.minute, &c, &mut min, false);
            c.min = min;
            if r == Some(true) {
                (c.sec, c_usec) = (0, 0);
            }
            match r.and_then(|_| self.within_bounds(offset, &mut c)) {
                None => {
                    c.hour += 1;
                    (c.min, c.sec, c_usec) = (0, 0, 0);
                    continue;
                }
                Some(false) => continue,
                Some(true) => {}
            }

            let mut us = c.sec * USEC_PER_SEC + c_usec;
            let r = self.find_matching(offset, &self.second, &c, &mut us, false);
            c_usec = us % USEC_PER_SEC;
            c.sec = us / USEC_PER_SEC;
            match r.and_then(|_| self.within_bounds(offset, &mut c)) {
                None => {
                    c.min += 1;
                    (c.sec, c_usec) = (0, 0);
                    continue;
                }
                Some(false) => continue,
                Some(true) => {}
            }

            let (s, s_usec) = start;
            let found = (c.year, c.mon, c.mday, c.hour, c.min, c.sec, c_usec);
            if found < (s.year, s.mon, s.mday, s.hour, s.min, s.sec, s_usec) {
                c.hour += 1;
                keep_dst = true;
                continue;
            }

            *tm = c;
            *usec = c_usec;
            return Some(());
        }
        // systemd logs "Infinite loop in calendar calculation" and gives up the same way.
        None
    }

    /// calendarspec.c `find_matching_component`: move `val` to the earliest value of `chain`
    /// at or after it. `Some(true)` when it moved, `Some(false)` when it already matched (or
    /// the chain is `*`), `None` when no value is left in this field.
    fn find_matching(
        &self,
        offset: &mut i64,
        chain: &[Component],
        tm: &Tm,
        val: &mut i64,
        end_of_month: bool,
    ) -> Option<bool> {
        if chain.is_empty() {
            return Some(false);
        }
        let mut best: Option<i64> = None;
        for c in chain {
            let (mut start, mut stop) = (c.start, c.stop);
            if end_of_month {
                start = self.end_of_month_day(offset, tm, c.start);
                stop = self.end_of_month_day(offset, tm, c.stop);
                if stop > 0 {
                    (start, stop) = (stop, start);
                }
            }
            if start >= *val {
                if best.is_none_or(|d| start < d) {
                    best = Some(start);
                }
            } else if c.repeat > 0 {
                let steps = (*val - start + c.repeat - 1) / c.repeat;
                let k = start + c.repeat * steps;
                if best.is_none_or(|d| k < d) && (stop < 0 || k <= stop) {
                    best = Some(k);
                }
            }
        }
        let d = best?;
        let moved = *val != d;
        *val = d;
        Some(moved)
    }

    /// calendarspec.c `find_end_of_month`: the day of `tm`'s month that is `day - 1` days
    /// before its last, or -1 when there is none.
    fn end_of_month_day(&self, offset: &mut i64, tm: &Tm, day: i64) -> i64 {
        let mut t = *tm;
        t.mon += 1;
        t.mday = 1 - day;
        match self.to_time(offset, &t) {
            Some((secs, n)) if secs >= 0 && n.mon == tm.mon => n.mday,
            _ => -1,
        }
    }

    /// calendarspec.c `tm_within_bounds`: `Some(true)` when `tm` is already normal,
    /// `Some(false)` when normalising moved it forward (then `tm` is the normalised time with
    /// the field below the changed one reset), `None` past the year 2199, when `mktime` fails
    /// or when normalising would go backwards.
    fn within_bounds(&self, offset: &mut i64, tm: &mut Tm) -> Option<bool> {
        if tm.year > MAX_YEAR {
            return None;
        }
        let (secs, mut t) = self.to_time(offset, tm)?;
        if secs < 0 {
            return None;
        }
        let cmp = if t.year != tm.year {
            let c = t.year.cmp(&tm.year);
            t.mon = 0;
            c
        } else if t.mon != tm.mon {
            let c = t.mon.cmp(&tm.mon);
            t.mday = 1;
            c
        } else if t.mday != tm.mday {
            let c = t.mday.cmp(&tm.mday);
            t.hour = 0;
            c
        } else if t.hour != tm.hour {
            let c = t.hour.cmp(&tm.hour);
            t.min = 0;
            c
        } else if t.min != tm.min {
            let c = t.min.cmp(&tm.min);
            t.sec = 0;
            c
        } else {
            t.sec.cmp(&tm.sec)
        };
        match cmp {
            std::cmp::Ordering::Less => None,
            std::cmp::Ordering::Equal => Some(true),
            std::cmp::Ordering::Greater => {
                *tm = t;
                Some(false)
            }
        }
    }

    /// calendarspec.c `matches_weekday`.
    fn matches_weekday(&self, offset: &mut i64, tm: &Tm) -> bool {
        let Some(bits) = self.weekdays else {
            return true;
        };
        match self.to_time(offset, tm) {
            Some((secs, t)) if secs >= 0 => {
                let monday_first = (t.wday + 6) % 7;
                bits & (1 << monday_first) != 0
            }
            _ => false,
        }
    }
}
