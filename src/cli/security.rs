//! How a unit's sandbox assessment ([`crate::service::security`]) reads on a terminal: the
//! table of `bosun verify --security UNIT` (in the manner of `systemd-analyze security UNIT`),
//! the one-row-per-unit overview of `bosun verify --security`, and the lines `initctl status
//! UNIT` adds. Formatting only.

use crate::control::proto::{Assessment, Check};

fn level(exposure: f32) -> &'static str {
    Assessment::level(exposure)
}

/// A check's share of the overall figure, on the 0.0 .. 10.0 scale, as one decimal or empty.
fn share(check: &Check, exposure: u8, total: u32) -> String {
    if exposure == 0 || total == 0 {
        return String::new();
    }
    let share = f64::from(check.weight) * f64::from(exposure) / f64::from(total);
    format!("{share:.1}")
}

/// `bosun verify --security UNIT`: every check, then the overall figures.
pub fn report(unit: &str, a: &Assessment) -> String {
    let total: u32 = a.checks.iter().map(|c| c.weight).sum();
    let name_width = a
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let desc_width = a
        .checks
        .iter()
        .map(|c| c.description.len())
        .max()
        .unwrap_or(11)
        .max(11);
    let mut out = format!(
        "  {:name_width$} {:desc_width$} {:>7} {:>5}\n",
        "NAME", "DESCRIPTION", "WRITTEN", "HERE"
    );
    let mut sorted: Vec<&Check> = a.checks.iter().collect();
    // Exposed first, the heaviest first, as systemd-analyze sorts.
    sorted.sort_by(|x, y| {
        (y.here > 0, y.weight * u32::from(y.here), &x.name).cmp(&(
            x.here > 0,
            x.weight * u32::from(x.here),
            &y.name,
        ))
    });
    for c in sorted {
        let mark = if c.here == 0 { '✓' } else { '✗' };
        out.push_str(&format!(
            "{mark} {:name_width$} {:desc_width$} {:>7} {:>5}\n",
            c.name,
            c.description,
            share(c, c.written, total),
            share(c, c.here, total),
        ));
        if let Some(why) = &c.why {
            out.push_str(&format!("  {:name_width$} ({why})\n", ""));
        }
    }
    out.push('\n');
    for note in &a.notes {
        out.push_str(&format!("! {note}\n"));
    }
    let (here, written) = (a.here(), a.written());
    out.push_str(&format!(
        "→ Overall exposure level for {unit}: {here:.1} {} in this container ({written:.1} {} as written)\n",
        level(here),
        level(written),
    ));
    out
}

/// `bosun verify --security`: one row per unit.
pub fn overview(rows: &[(String, Assessment)]) -> String {
    let width = rows.iter().map(|(u, _)| u.len()).max().unwrap_or(4).max(4);
    let mut out = format!(
        "{:width$} {:>8} {:10} {:>8} {:10} NOT IN FORCE HERE\n",
        "UNIT", "EXPOSURE", "PREDICATE", "WRITTEN", ""
    );
    for (unit, a) in rows {
        let missing: Vec<&str> = a.not_in_force().map(|c| c.name.as_str()).collect();
        out.push_str(
            format!(
                "{unit:width$} {:>8.1} {:10} {:>8.1} {:10} {}",
                a.here(),
                level(a.here()),
                a.written(),
                level(a.written()),
                missing.join(" ")
            )
            .trim_end(),
        );
        out.push('\n');
    }
    out
}

/// The lines `initctl status UNIT` prints under systemctl's block.
pub fn status_lines(a: &Assessment) -> Vec<String> {
    let (here, written) = (a.here(), a.written());
    let mut lines = vec![format!(
        "    Sandbox: exposure {here:.1} {} in this container, {written:.1} {} as written",
        level(here),
        level(written)
    )];
    for c in a.not_in_force() {
        lines.push(format!(
            "             not in force: {} ({})",
            c.name,
            c.why.as_deref().unwrap_or("not applied here")
        ));
    }
    for note in &a.notes {
        lines.push(format!("             {note}"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, weight: u32, written: u8, here: u8, why: Option<&str>) -> Check {
        Check {
            name: name.into(),
            description: format!("may do what {name} forbids"),
            weight,
            written,
            here,
            why: why.map(str::to_owned),
        }
    }

    #[test]
    fn the_report_lists_exposed_checks_first_and_ends_with_both_figures() {
        let a = Assessment {
            checks: vec![
                check("NoNewPrivileges=", 6, 0, 0, None),
                check(
                    "PrivateTmp=",
                    4,
                    0,
                    10,
                    Some("a mount namespace needs CAP_SYS_ADMIN"),
                ),
                check("User=/DynamicUser=", 10, 10, 10, None),
            ],
            notes: vec!["a note".into()],
        };
        let text = report("redis.service", &a);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].starts_with("✗ User=/DynamicUser="), "{text}");
        assert!(lines[2].starts_with("✗ PrivateTmp="), "{text}");
        assert!(
            lines[3].contains("(a mount namespace needs CAP_SYS_ADMIN)"),
            "{text}"
        );
        assert!(lines[4].starts_with("✓ NoNewPrivileges="), "{text}");
        assert!(text.contains("! a note"), "{text}");
        // 10 of 20 exposed as written, 14 of 20 here.
        assert!(
            text.ends_with(
                "→ Overall exposure level for redis.service: 7.0 MEDIUM in this container (5.0 MEDIUM as written)\n"
            ),
            "{text}"
        );
        let status = status_lines(&a);
        assert_eq!(
            status[0],
            "    Sandbox: exposure 7.0 MEDIUM in this container, 5.0 MEDIUM as written"
        );
        assert!(
            status[1].contains("not in force: PrivateTmp="),
            "{status:?}"
        );
        let table = overview(&[("redis.service".into(), a)]);
        assert!(
            table.lines().nth(1).unwrap().ends_with("PrivateTmp="),
            "{table}"
        );
    }
}
