//! Reading a calendar event: systemd 252's `calendar_spec_from_string()` step by step (the
//! zone at the end, the shorthands, weekdays, date, time, then normalisation and the range
//! checks), so that bosun accepts and refuses exactly what systemd does, with a message that
//! says which part is wrong instead of systemd's bare "Invalid argument".

use std::sync::Arc;

use super::check::{normalize, seconds, validate};
use super::zone::{TimeZone, ZoneError};
use super::{CalendarError, CalendarSpec, Component, MIN_YEAR, USEC_PER_SEC, WEEKDAYS, Zone};

/// Finds a named zone: `None` when `name` is not one (systemd's timezone_is_valid), else the
/// loaded zone or why it cannot be loaded.
pub(super) type ZoneLookup<'a> = &'a dyn Fn(&str) -> Option<Result<Arc<TimeZone>, ZoneError>>;

/// systemd's chains hold C `int`s; larger numbers are refused as out of range.
const INT_MAX: i64 = i32::MAX as i64;

/// More elements than this in one field are refused (CALENDARSPEC_COMPONENTS_MAX + 1).
const MAX_COMPONENTS: usize = 241;

/// The zone found at the end of the text, before the rest is read.
enum Suffix {
    None,
    Utc,
    LocalAbbrev(bool),
    Named(Arc<TimeZone>),
}

pub(super) fn parse(
    text: &str,
    local: &Arc<TimeZone>,
    zones: ZoneLookup<'_>,
) -> Result<CalendarSpec, CalendarError> {
    let invalid = |why: String| CalendarError::Invalid {
        text: text.to_owned(),
        why,
    };
    let (body, suffix) = split_zone(text, local, zones)?;
    let mut spec = match parse_body(body, local) {
        Ok(spec) => spec,
        Err(why) => return Err(invalid(explain(text, body, &suffix, local, zones, why))),
    };
    spec.zone = match suffix {
        // `@EPOCH` is UTC whatever zone follows it (computed with that zone's leap seconds).
        Suffix::Named(zone) if matches!(spec.zone, Zone::Utc(_)) => Zone::Utc(zone),
        _ if matches!(spec.zone, Zone::Utc(_)) => spec.zone.clone(),
        Suffix::Utc => Zone::Utc(local.clone()),
        Suffix::Named(zone) => Zone::Named(zone),
        Suffix::LocalAbbrev(dst) => Zone::Local {
            zone: local.clone(),
            dst: Some(dst),
        },
        Suffix::None => Zone::Local {
            zone: local.clone(),
            dst: None,
        },
    };
    normalize(&mut spec);
    validate(&spec).map_err(invalid)?;
    Ok(spec)
}

/// Split off the zone the text ends with: ` UTC` (any case), the local zone's standard or DST
/// abbreviation (any case), or a valid zone name after the last space.
fn split_zone<'t>(
    text: &'t str,
    local: &Arc<TimeZone>,
    zones: ZoneLookup<'_>,
) -> Result<(&'t str, Suffix), CalendarError> {
    let b = text.as_bytes();
    if let Some(body) = strip_suffix_ignore_case(text, " UTC") {
        return Ok((body, Suffix::Utc));
    }
    for (j, abbrev) in local.tzname().iter().enumerate() {
        if abbrev.is_empty() || abbrev.len() >= b.len() {
            continue;
        }
        let e = b.len() - abbrev.len();
        if b[e..].eq_ignore_ascii_case(abbrev.as_bytes()) && b[e - 1] == b' ' {
            return Ok((&text[..e - 1], Suffix::LocalAbbrev(j == 1)));
        }
    }
    if let Some(space) = text.rfind(' ') {
        let name = &text[space + 1..];
        match zones(name) {
            None => {}
            Some(Ok(zone)) => return Ok((&text[..space], Suffix::Named(zone))),
            Some(Err(source)) => {
                return Err(CalendarError::Zone {
                    text: text.to_owned(),
                    name: name.to_owned(),
                    source,
                });
            }
        }
    }
    Ok((text, Suffix::None))
}

fn strip_suffix_ignore_case<'t>(text: &'t str, suffix: &str) -> Option<&'t str> {
    let b = text.as_bytes();
    let n = b.len().checked_sub(suffix.len())?;
    b[n..]
        .eq_ignore_ascii_case(suffix.as_bytes())
        .then(|| &text[..n])
}

/// A better message for two common mistakes: a zone name that does not exist, and a zone
/// name alone.
fn explain(
    text: &str,
    body: &str,
    suffix: &Suffix,
    local: &Arc<TimeZone>,
    zones: ZoneLookup<'_>,
    why: String,
) -> String {
    if matches!(suffix, Suffix::None)
        && let Some(space) = body.rfind(' ')
        && looks_like_zone(&body[space + 1..])
        && parse_body(&body[..space], local).is_ok()
    {
        let name = &body[space + 1..];
        return format!(
            "{name:?} is not a time zone (none of that name in {})",
            super::ZONEINFO
        );
    }
    if !text.contains(' ') && zones(text).is_some() {
        return format!(
            "{text:?} is a time zone alone; put it after an event, as in \"daily {text}\""
        );
    }
    why
}

/// Whether a word is written like a zone name (and is not a weekday).
fn looks_like_zone(word: &str) -> bool {
    let b = word.as_bytes();
    let zone_chars = b
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'+' | b'/'));
    let weekday = DAY_NAMES.iter().any(|(name, _)| {
        b.len() >= name.len() && b[..name.len()].eq_ignore_ascii_case(name.as_bytes())
    });
    zone_chars && !weekday && b.first().is_some_and(u8::is_ascii_alphabetic)
}

/// Everything before the zone: a shorthand, or weekdays, date and time. The zone is the
/// local one, or UTC after `@EPOCH`; the caller applies the suffix.
fn parse_body(body: &str, local: &Arc<TimeZone>) -> Result<CalendarSpec, String> {
    let mut spec = CalendarSpec {
        weekdays: None,
        year: Vec::new(),
        month: Vec::new(),
        day: Vec::new(),
        end_of_month: false,
        hour: Vec::new(),
        minute: Vec::new(),
        second: Vec::new(),
        zone: Zone::Local {
            zone: local.clone(),
            dst: None,
        },
    };
    if body.is_empty() {
        return Err("it is empty".to_owned());
    }
    let one = |v: i64| vec![Component::at(v)];
    let lower = body.to_ascii_lowercase();
    match lower.as_str() {
        "minutely" => spec.second = one(0),
        "hourly" => (spec.minute, spec.second) = (one(0), one(0)),
        "daily" => (spec.hour, spec.minute, spec.second) = (one(0), one(0), one(0)),
        "monthly" => {
            spec.day = one(1);
            (spec.hour, spec.minute, spec.second) = (one(0), one(0), one(0));
        }
        "annually" | "yearly" | "anually" => {
            (spec.month, spec.day) = (one(1), one(1));
            (spec.hour, spec.minute, spec.second) = (one(0), one(0), one(0));
        }
        "weekly" => {
            spec.weekdays = Some(1);
            (spec.hour, spec.minute, spec.second) = (one(0), one(0), one(0));
        }
        "quarterly" => {
            spec.month = [1, 4, 7, 10].map(Component::at).to_vec();
            spec.day = one(1);
            (spec.hour, spec.minute, spec.second) = (one(0), one(0), one(0));
        }
        "biannually" | "bi-annually" | "semiannually" | "semi-annually" => {
            spec.month = [1, 7].map(Component::at).to_vec();
            spec.day = one(1);
            (spec.hour, spec.minute, spec.second) = (one(0), one(0), one(0));
        }
        _ => {
            let mut p = Cursor {
                s: body.as_bytes(),
                at: 0,
                local,
            };
            p.weekdays(&mut spec)?;
            if !p.date(&mut spec)? {
                p.time(&mut spec)?;
            }
            if p.at < p.s.len() {
                return Err(format!("unexpected {} after the UNIX time", p.rest()));
            }
        }
    }
    Ok(spec)
}

impl Component {
    fn at(start: i64) -> Component {
        Component {
            start,
            stop: -1,
            repeat: 0,
        }
    }
}

/// The weekday names systemd knows, the long ones first (parse_weekdays).
const DAY_NAMES: [(&str, u8); 14] = [
    ("Monday", 0),
    ("Mon", 0),
    ("Tuesday", 1),
    ("Tue", 1),
    ("Wednesday", 2),
    ("Wed", 2),
    ("Thursday", 3),
    ("Thu", 3),
    ("Friday", 4),
    ("Fri", 4),
    ("Saturday", 5),
    ("Sat", 5),
    ("Sunday", 6),
    ("Sun", 6),
];

/// A position in the text of an event (bytes: systemd reads bytes, and so may the fuzzer).
struct Cursor<'a> {
    s: &'a [u8],
    at: usize,
    /// The local zone: `@EPOCH` is read with its `gmtime` (its leap seconds).
    local: &'a Arc<TimeZone>,
}

impl Cursor<'_> {
    fn peek(&self) -> u8 {
        self.s.get(self.at).copied().unwrap_or(0)
    }

    fn peek_at(&self, n: usize) -> u8 {
        self.s.get(self.at + n).copied().unwrap_or(0)
    }

    fn at_end(&self) -> bool {
        self.at >= self.s.len()
    }

    fn skip_spaces(&mut self) {
        while self.peek() == b' ' {
            self.at += 1;
        }
    }

    /// The text from the cursor on, quoted and shortened, for messages.
    fn rest(&self) -> String {
        quote(self.s.get(self.at..).unwrap_or_default())
    }

    /// The text before the cursor, quoted, for messages.
    fn before(&self) -> String {
        quote(self.s.get(..self.at).unwrap_or_default())
    }

    /// parse_weekdays: an optional list of weekdays and weekday ranges.
    fn weekdays(&mut self, spec: &mut CalendarSpec) -> Result<(), String> {
        let mut bits: u8 = 0;
        let mut range_from: Option<u8> = None;
        let mut first = true;
        loop {
            let rest = self.s.get(self.at..).unwrap_or_default();
            let Some(&(name, nr)) = DAY_NAMES.iter().find(|(name, _)| {
                rest.len() >= name.len() && rest[..name.len()].eq_ignore_ascii_case(name.as_bytes())
            }) else {
                if first {
                    return Ok(());
                }
                return Err(format!("expected a weekday after {}", self.before()));
            };
            let next = rest.get(name.len()).copied().unwrap_or(0);
            if !matches!(next, 0 | b'-' | b'.' | b',' | b' ') {
                let word_len = rest
                    .iter()
                    .position(|b| matches!(b, b'-' | b'.' | b',' | b' '))
                    .unwrap_or(rest.len());
                return Err(format!(
                    "{} is not a weekday (Mon, Tue, Wed, Thu, Fri, Sat, Sun or the full names)",
                    quote(&rest[..word_len])
                ));
            }
            bits |= 1 << nr;
            if let Some(from) = range_from {
                if from > nr {
                    return Err(format!(
                        "the weekday range {}..{} runs backwards",
                        WEEKDAYS[usize::from(from)],
                        WEEKDAYS[usize::from(nr)]
                    ));
                }
                for j in from + 1..nr {
                    bits |= 1 << j;
                }
            }
            self.at += name.len();
            spec.weekdays = Some(bits);

            if self.at_end() {
                return Ok(());
            }
            if self.peek() == b' ' {
                self.skip_spaces();
                return Ok(());
            }
            match self.peek() {
                b'.' => {
                    if range_from.is_some() {
                        return Err("a weekday range cannot continue another range".to_owned());
                    }
                    if self.peek_at(1) != b'.' {
                        return Err(format!(
                            "a weekday range is written with \"..\" (as in Mon..Fri), not {}",
                            self.rest()
                        ));
                    }
                    range_from = Some(nr);
                    self.at += 2;
                }
                b'-' => {
                    if range_from.is_some() {
                        return Err("a weekday range cannot continue another range".to_owned());
                    }
                    range_from = Some(nr);
                    self.at += 1;
                }
                // ','
                _ => {
                    range_from = None;
                    self.at += 1;
                }
            }
            if self.at_end() || self.peek() == b' ' {
                self.skip_spaces();
                if let Some(from) = range_from {
                    return Err(format!(
                        "the weekday range {}.. has no end",
                        WEEKDAYS[usize::from(from)]
                    ));
                }
                return Ok(());
            }
            first = false;
        }
    }

    /// parse_date: `@EPOCH`, or `[[YEAR-]MONTH-]DAY` with `~` before the day for days from
    /// the end of the month. `Ok(true)` for `@EPOCH` (no time follows).
    fn date(&mut self, spec: &mut CalendarSpec) -> Result<bool, String> {
        if self.at_end() {
            return Ok(false);
        }
        if self.peek() == b'@' {
            self.at += 1;
            self.epoch(spec)?;
            return Ok(true);
        }
        let start = self.at;
        let first = self.chain(false, "date or time")?;
        if self.at_end() || self.peek() == b':' {
            // It was the hour of a time.
            self.at = start;
            return Ok(false);
        }
        self.date_separator(spec, "after the first part of the date")?;
        let second = self.chain(false, "date")?;
        if self.at_end() || self.peek() == b' ' {
            self.skip_spaces();
            spec.month = first;
            spec.day = second;
            return Ok(false);
        }
        if spec.end_of_month {
            return Err(
                "\"~\" (days before the end of the month) can only come before the day, the last part of the date"
                    .to_owned(),
            );
        }
        self.date_separator(spec, "after the month")?;
        let third = self.chain(false, "date")?;
        match self.peek() {
            0 | b' ' => {}
            b':' => {
                return Err(format!(
                    "the date and the time are separated by a space, not {}",
                    self.rest()
                ));
            }
            _ => {
                return Err(format!(
                    "the date has more than three parts at {}",
                    self.rest()
                ));
            }
        }
        self.skip_spaces();
        spec.year = first;
        spec.month = second;
        spec.day = third;
        Ok(false)
    }

    fn date_separator(&mut self, spec: &mut CalendarSpec, where_: &str) -> Result<(), String> {
        match self.peek() {
            b'~' => spec.end_of_month = true,
            b'-' => {}
            _ => {
                return Err(format!(
                    "expected \"-\" or \"~\" {where_}, not {}",
                    self.rest()
                ));
            }
        }
        self.at += 1;
        Ok(())
    }

    /// `@SECONDS` (strtoul: spaces and a sign are allowed): that instant, in UTC.
    fn epoch(&mut self, spec: &mut CalendarSpec) -> Result<(), String> {
        while matches!(self.peek(), b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            self.at += 1;
        }
        let negative = self.peek() == b'-';
        let sign = if negative { "-" } else { "" };
        if matches!(self.peek(), b'+' | b'-') {
            self.at += 1;
        }
        let digits = self.digits().to_vec();
        let digits = digits.as_slice();
        if digits.is_empty() {
            return Err("\"@\" must be followed by seconds since 1970-01-01 UTC".to_owned());
        }
        let value = parse_u64(digits)
            .ok_or_else(|| format!("@{sign}{} is too large", String::from_utf8_lossy(digits)))?;
        // strtoul negates in unsigned arithmetic and time_t reads the bits back as signed.
        let secs = if negative {
            0i64.wrapping_sub_unsigned(value)
        } else {
            0i64.wrapping_add_unsigned(value)
        };
        let secs = secs.clamp(-(1 << 50), 1 << 50);
        let tm = self.local.gmtime(secs);
        if !(MIN_YEAR..=super::MAX_YEAR).contains(&tm.year) {
            return Err(format!(
                "@{sign}{} is not between 1970 and 2199",
                String::from_utf8_lossy(digits)
            ));
        }
        spec.year = vec![Component::at(tm.year)];
        spec.month = vec![Component::at(tm.mon + 1)];
        spec.day = vec![Component::at(tm.mday)];
        spec.hour = vec![Component::at(tm.hour)];
        spec.minute = vec![Component::at(tm.min)];
        spec.second = vec![Component::at(tm.sec * USEC_PER_SEC)];
        spec.zone = Zone::Utc(self.local.clone());
        Ok(())
    }

    /// parse_calendar_time: `HOUR:MINUTE[:SECOND]`, or nothing for midnight.
    fn time(&mut self, spec: &mut CalendarSpec) -> Result<(), String> {
        if self.at_end() {
            spec.hour = vec![Component::at(0)];
            spec.minute = vec![Component::at(0)];
            spec.second = vec![Component::at(0)];
            return Ok(());
        }
        let hour_start = self.at;
        let hour = self.chain(false, "hour")?;
        if self.peek() != b':' {
            return Err(format!(
                "expected \":\" and minutes after the hour {} (a time is HH:MM or HH:MM:SS)",
                quote(&self.s[hour_start..self.at])
            ));
        }
        self.at += 1;
        let minute = self.chain(false, "minute")?;
        let second = if self.at_end() {
            vec![Component::at(0)]
        } else {
            if self.peek() != b':' {
                return Err(format!("unexpected {} after the minutes", self.rest()));
            }
            self.at += 1;
            let second = self.chain(true, "seconds")?;
            if !self.at_end() {
                return Err(format!("unexpected {} after the seconds", self.rest()));
            }
            second
        };
        spec.hour = hour;
        spec.minute = minute;
        spec.second = second;
        Ok(())
    }

    /// parse_chain: `*`, or a comma-separated list of `N`, `N..M`, `N/R`, `N..M/R`.
    /// Seconds (`usec`) may have six decimals and are kept in microseconds.
    fn chain(&mut self, usec: bool, part: &str) -> Result<Vec<Component>, String> {
        if self.peek() == b'*' {
            self.at += 1;
            return Ok(if usec {
                vec![Component {
                    start: 0,
                    stop: -1,
                    repeat: USEC_PER_SEC,
                }]
            } else {
                Vec::new()
            });
        }
        let mut out = Vec::new();
        loop {
            if out.len() == MAX_COMPONENTS {
                return Err(format!(
                    "the {part} lists more than {MAX_COMPONENTS} values"
                ));
            }
            out.push(self.component(usec, part)?);
            if self.peek() != b',' {
                return Ok(out);
            }
            self.at += 1;
        }
    }

    /// prepend_component: one element of a list.
    fn component(&mut self, usec: bool, part: &str) -> Result<Component, String> {
        let start = self.decimal(usec, part)?;
        let mut stop = -1;
        let mut repeat = 0;
        if self.peek() == b'.' && self.peek_at(1) == b'.' {
            self.at += 2;
            stop = self.decimal(usec, part)?;
            repeat = if usec { USEC_PER_SEC } else { 1 };
        }
        if self.peek() == b'/' {
            self.at += 1;
            repeat = self.decimal(usec, part)?;
            if repeat == 0 {
                return Err(format!("the {part} repeats every 0, which never advances"));
            }
        } else {
            if start > INT_MAX - repeat {
                return Err(format!("a number in the {part} is too large"));
            }
            if usec && stop >= 0 && start + repeat > stop {
                return Err(format!(
                    "the seconds range {}..{} is shorter than its step of 1s (give a step, as in {}..{}/0.1)",
                    seconds(start),
                    seconds(stop),
                    seconds(start),
                    seconds(stop)
                ));
            }
        }
        if !matches!(self.peek(), 0 | b' ' | b',' | b'-' | b'~' | b':') {
            return Err(format!("unexpected {} in the {part}", self.rest()));
        }
        Ok(Component {
            start,
            stop,
            repeat,
        })
    }

    fn digits(&mut self) -> &[u8] {
        let start = self.at;
        while self.peek().is_ascii_digit() {
            self.at += 1;
        }
        &self.s[start..self.at]
    }

    /// parse_component_decimal: a number; for seconds, times a million plus a fraction of up
    /// to six digits (rounded at the seventh).
    fn decimal(&mut self, usec: bool, part: &str) -> Result<i64, String> {
        if !self.peek().is_ascii_digit() {
            return Err(if self.at_end() {
                format!("the {part} ends where a number or \"*\" was expected")
            } else {
                format!(
                    "expected a number or \"*\" in the {part}, not {}",
                    self.rest()
                )
            });
        }
        let digits = String::from_utf8_lossy(self.digits()).into_owned();
        // systemd keeps C ints; seconds are kept in microseconds, so at most 2147 of them.
        let limit = if usec { " (seconds go up to 2147)" } else { "" };
        let too_large = || format!("{digits} in the {part} is too large{limit}");
        let mut value = parse_u64(digits.as_bytes()).ok_or_else(too_large)?;
        if usec {
            value = value.checked_mul(1_000_000).ok_or_else(too_large)?;
            if self.peek() == b'.' && self.peek_at(1) != b'.' {
                self.at += 1;
                value = value.checked_add(self.fraction()?).ok_or_else(too_large)?;
            }
        }
        if value > INT_MAX as u64 {
            return Err(too_large());
        }
        i64::try_from(value).map_err(|_| too_large())
    }

    /// parse_fractional_part_u with six digits: microseconds, rounded at the seventh digit,
    /// further digits ignored.
    fn fraction(&mut self) -> Result<u64, String> {
        if !self.peek().is_ascii_digit() {
            return Err(format!(
                "expected digits after the decimal point in the seconds, not {}",
                self.rest()
            ));
        }
        let mut value = 0u64;
        let mut n = 0;
        while n < 6 && self.peek().is_ascii_digit() {
            value = value * 10 + u64::from(self.peek() - b'0');
            self.at += 1;
            n += 1;
        }
        if n == 6 {
            if (b'5'..=b'9').contains(&self.peek()) {
                value += 1;
            }
        } else {
            value *= 10u64.pow(6 - n);
        }
        self.digits();
        Ok(value)
    }
}

/// strtoul on digits: `None` when the value does not fit 64 bits.
fn parse_u64(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |acc, d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// Text for a message: quoted, control characters escaped, at most 32 characters.
fn quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut short: String = text.chars().take(32).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    format!("{short:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> Arc<TimeZone> {
        Arc::new(TimeZone::utc())
    }

    fn no_zones() -> ZoneLookup<'static> {
        &|name| (name == "Europe/Berlin").then(|| Ok(Arc::new(TimeZone::utc())))
    }

    fn err(text: &str) -> String {
        match parse(text, &utc(), no_zones()) {
            Ok(s) => panic!("{text:?} parsed as {s}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn refuses_what_systemd_refuses_and_says_why() {
        // Each of these is "Invalid argument" (or "Numerical result out of range") in
        // systemd-analyze calendar 252.
        let cases = [
            ("", "it is empty"),
            (" UTC", "it is empty"),
            (
                "UTC",
                "expected a number or \"*\" in the date or time, not \"UTC\"",
            ),
            (
                "xyz",
                "expected a number or \"*\" in the date or time, not \"xyz\"",
            ),
            (
                "Mon.Tue",
                "a weekday range is written with \"..\" (as in Mon..Fri), not \".Tue\"",
            ),
            ("Mondays", "\"Mondays\" is not a weekday"),
            (
                "Mon..Wed..Fri",
                "a weekday range cannot continue another range",
            ),
            ("Fri..Mon", "the weekday range Fri..Mon runs backwards"),
            ("Sun..Mon", "the weekday range Sun..Mon runs backwards"),
            ("Mon..", "the weekday range Mon.. has no end"),
            ("Mon,,Tue", "expected a weekday after \"Mon,\""),
            (
                "Mon, ,Tue",
                "expected a number or \"*\" in the date or time, not \",Tue\"",
            ),
            (
                "Mon, Tue",
                "expected a number or \"*\" in the date or time, not \"Tue\"",
            ),
            ("*:*/5", "unexpected \"/5\" after the minutes"),
            ("*:50/15", "minute 50/15 never repeats within 0..59"),
            ("*:45/15", "minute 45/15 never repeats within 0..59"),
            ("*-*-* 24:00", "hour 24 is not in 0..23"),
            ("*-*-* 23:60", "minute 60 is not in 0..59"),
            ("*:*:60", "second 60 is not in 0..59.999999"),
            ("*-*-* *:*:59.9999995", "second 60 is not in 0..59.999999"),
            ("2200-01-01", "year 2200 is not in 1970..2199"),
            ("*-*-32", "day 32 is not in 1..31"),
            ("*-13-01", "month 13 is not in 1..12"),
            ("*-*~29", "day ~29 is not in ~1..~28"),
            ("*-*~03..1", "the day range ~3..~1 runs backwards"),
            ("5..1:00", "the hour range 5..1 runs backwards"),
            ("1..31/7-1", "month 29 is not in 1..12"),
            ("*-*-1/0", "the date repeats every 0, which never advances"),
            ("12", "expected \":\" and minutes after the hour \"12\""),
            ("Mon 12", "expected \":\" and minutes after the hour \"12\""),
            (
                "12:00:00.",
                "expected digits after the decimal point in the seconds, not \"\"",
            ),
            ("12:00:00.5.5", "unexpected \".5\" in the seconds"),
            ("12:00:00:00", "unexpected \":00\" after the seconds"),
            ("2024-1-1T12:00", "unexpected \"T12:00\" in the date"),
            (
                "2024-01-01:12:00",
                "the date and the time are separated by a space",
            ),
            ("1-2-3-4", "the date has more than three parts"),
            (
                "*~01-01",
                "\"~\" (days before the end of the month) can only come before the day",
            ),
            ("@-1", "@-1 is not between 1970 and 2199"),
            ("@", "\"@\" must be followed by seconds"),
            (
                "@9999999999999",
                "@9999999999999 is not between 1970 and 2199",
            ),
            (
                "@99999999999999999999",
                "@99999999999999999999 is too large",
            ),
            ("@5 x", "\"x\" is not a time zone"),
            ("@5 :", "unexpected \" :\" after the UNIX time"),
            (
                "*:*:1.5..2.2",
                "the seconds range 1.5..2.2 is shorter than its step of 1s",
            ),
            (
                "3000000000:00",
                "3000000000 in the date or time is too large",
            ),
            (
                "*:*:3000",
                "3000 in the seconds is too large (seconds go up to 2147)",
            ),
            (
                "daily  UTC",
                "expected a number or \"*\" in the date or time, not \"daily \"",
            ),
            ("daily Europe/Berln", "\"Europe/Berln\" is not a time zone"),
            ("Europe/Berlin", "\"Europe/Berlin\" is a time zone alone"),
            ("0/24:00", "the hour step /24 is longer than 0..23"),
        ];
        for (text, want) in cases {
            let e = err(text);
            assert!(
                e.contains(want),
                "{text:?}: got {e:?}, want it to contain {want:?}"
            );
            assert!(
                e.starts_with(&format!("{text:?} is not a calendar event: ")),
                "{e}"
            );
        }
        let many = vec!["1"; 242].join(",") + ":00";
        assert!(err(&many).contains("more than 241 values"));
        let ok = vec!["1"; 241].join(",") + ":00";
        assert!(parse(&ok, &utc(), no_zones()).is_ok());
    }

    /// A small deterministic generator (xorshift64*), so the fuzz cases are the same on every
    /// run and a failure can be reproduced.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % u64::try_from(n).unwrap()).unwrap()
        }
    }

    /// Random and mangled expressions never panic; whatever parses prints a normalized form
    /// that parses to itself and computes an elapse without hanging.
    #[test]
    fn fuzz_never_panics() {
        let seeds = [
            "Mon..Fri *-*-* 08:00:00",
            "*-*~03..1/2 00:00",
            "@1700000000",
            "2024..2030/3-01,07-01 12:00:00.5",
            "Sat,Sun *:0/15:0.250000 UTC",
            "quarterly",
            "*-02-29 02:30 Europe/Berlin",
        ];
        let alphabet: &[u8] = b"0123456789*-~:.,/ @MonTueSatUTCdaily\t\xc3\xa9";
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let base = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_711_800_000);
        let mut parsed = 0;
        for _ in 0..20_000 {
            let mut bytes = seeds[rng.below(seeds.len())].as_bytes().to_vec();
            for _ in 0..=rng.below(4) {
                let at = rng.below(bytes.len() + 1);
                match rng.below(4) {
                    0 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    1 => bytes.insert(at, alphabet[rng.below(alphabet.len())]),
                    2 if at < bytes.len() => bytes[at] = alphabet[rng.below(alphabet.len())],
                    _ => {
                        let n = rng.below(bytes.len() + 1);
                        bytes.truncate(n);
                    }
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            if let Ok(spec) = parse(&text, &utc(), no_zones()) {
                parsed += 1;
                let normal = spec.to_string();
                let again = parse(&normal, &utc(), no_zones())
                    .unwrap_or_else(|e| panic!("{text:?} → {normal:?}: {e}"));
                assert_eq!(again.to_string(), normal, "{text:?}");
                let _ = spec.next_after(base);
            }
        }
        // The mangling keeps enough valid expressions to exercise the computation too.
        assert!(parsed > 2_000, "only {parsed} parsed");
    }
}
