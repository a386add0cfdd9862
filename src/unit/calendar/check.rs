//! The last steps of reading a calendar event: systemd's normalisation (sorted lists without
//! duplicates, ranges cut to whole steps, two-digit years) and its range checks
//! (calendar_spec_normalize and calendar_spec_valid in calendarspec.c), with messages that
//! name the field and the value. Pure.

use super::{CalendarSpec, Component, MAX_YEAR, MIN_YEAR, USEC_PER_SEC};

/// Microseconds as seconds for a message: 1.5, 3.
pub(super) fn seconds(usec: i64) -> String {
    if usec % USEC_PER_SEC == 0 {
        format!("{}", usec / USEC_PER_SEC)
    } else {
        let s = format!("{}.{:06}", usec / USEC_PER_SEC, usec % USEC_PER_SEC);
        s.trim_end_matches('0').to_owned()
    }
}

/// calendar_spec_normalize: weekdays covering the whole week mean any day, `~` without a day
/// is dropped, two-digit years are 19xx/20xx, and every list is sorted without duplicates,
/// with ranges cut to a whole number of steps.
pub(super) fn normalize(spec: &mut CalendarSpec) {
    if spec.weekdays.is_some_and(|b| b == 0 || b >= 127) {
        spec.weekdays = None;
    }
    if spec.end_of_month && spec.day.is_empty() {
        spec.end_of_month = false;
    }
    for c in &mut spec.year {
        for v in [&mut c.start, &mut c.stop] {
            if (0..70).contains(v) {
                *v += 2000;
            } else if (70..100).contains(v) {
                *v += 1900;
            }
        }
    }
    for chain in [
        &mut spec.year,
        &mut spec.month,
        &mut spec.day,
        &mut spec.hour,
        &mut spec.minute,
        &mut spec.second,
    ] {
        for c in chain.iter_mut() {
            if c.stop > c.start && c.repeat > 0 {
                c.stop -= (c.stop - c.start) % c.repeat;
            }
            // A step that never fires, or a range of one value: a single value.
            if (c.stop > c.start && c.repeat > 0 && c.start + c.repeat > c.stop)
                || c.start == c.stop
            {
                c.repeat = 0;
                c.stop = -1;
            }
        }
        chain.sort_unstable();
        chain.dedup();
    }
}

/// calendar_spec_valid: every value within its field's range, every step able to fire once.
pub(super) fn validate(spec: &CalendarSpec) -> Result<(), String> {
    check_chain(&spec.year, "year", MIN_YEAR, MAX_YEAR, false, false)?;
    check_chain(&spec.month, "month", 1, 12, false, false)?;
    check_chain(&spec.day, "day", 1, 31, spec.end_of_month, false)?;
    check_chain(&spec.hour, "hour", 0, 23, false, false)?;
    check_chain(&spec.minute, "minute", 0, 59, false, false)?;
    check_chain(
        &spec.second,
        "second",
        0,
        60 * USEC_PER_SEC - 1,
        false,
        true,
    )
}

fn check_chain(
    chain: &[Component],
    field: &str,
    from: i64,
    to: i64,
    end_of_month: bool,
    usec: bool,
) -> Result<(), String> {
    let tilde = if end_of_month { "~" } else { "" };
    let show = |v: i64| {
        if usec {
            seconds(v)
        } else {
            format!("{tilde}{v}")
        }
    };
    let mut to = to;
    for (i, c) in chain.iter().enumerate() {
        // Days from the end of the month reach back 28 days at most; systemd's check
        // (chain_valid, recursive) lowers that bound by 3 again for every further element.
        let note = if end_of_month {
            to -= 3;
            if i > 0 {
                " (systemd lowers the bound by 3 for each further day counted from the end)"
            } else {
                ""
            }
        } else {
            ""
        };
        let range = format!("{}..{}{note}", show(from), show(to));
        if c.start < from || c.start > to {
            return Err(format!("{field} {} is not in {range}", show(c.start)));
        }
        if c.repeat > to - from {
            return Err(format!(
                "the {field} step /{} is longer than {range}",
                if usec {
                    seconds(c.repeat)
                } else {
                    c.repeat.to_string()
                }
            ));
        }
        if c.stop >= 0 {
            if c.stop < from || c.stop > to {
                return Err(format!("{field} {} is not in {range}", show(c.stop)));
            }
            if c.start + c.repeat > c.stop {
                return Err(format!(
                    "the {field} range {}..{} runs backwards",
                    show(c.start),
                    show(c.stop)
                ));
            }
        } else if (end_of_month && c.start - c.repeat < from)
            || (!end_of_month && c.start + c.repeat > to)
        {
            let step = if usec {
                seconds(c.repeat)
            } else {
                c.repeat.to_string()
            };
            return Err(format!(
                "{field} {}/{step} never repeats within {range}",
                show(c.start)
            ));
        }
    }
    Ok(())
}
