//! How a unit's sandbox assessment ([`crate::service::security`]) reads on a terminal: the
//! table of `bosun verify --security UNIT` (in the manner of `systemd-analyze security UNIT`),
//! the one-row-per-unit overview of `bosun verify --security`, and the lines `initctl status
//! UNIT` adds. Formatting only.

use crate::service::security::{Assessment, Check, level};

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
    use crate::service::security::{Facts, assess};
    use crate::unit::model::ExecContext;

    fn facts(uid: u32, bounding: u64) -> Facts {
        Facts {
            uid,
            effective: bounding,
            bounding,
            seccomp: true,
            mount_namespace: true,
        }
    }

    #[test]
    fn a_confined_unit_is_less_exposed_than_a_bare_one() {
        let bare = assess(&ExecContext::default(), &facts(0, u64::MAX));
        let mut exec = ExecContext {
            user: Some("redis".into()),
            ..Default::default()
        };
        exec.privileges.no_new_privileges = true;
        exec.privileges.bounding_set = Some(0);
        exec.memory_deny_write_execute = true;
        exec.syscall_filter.add_line("@system-service");
        let confined = assess(&exec, &facts(0, u64::MAX));
        assert!(bare.here() > 9.0, "{}", report("bare.service", &bare));
        assert!(confined.here() < bare.here() / 2.0);
        assert_eq!(confined.here(), confined.written());
        let text = report("redis.service", &confined);
        assert!(
            text.contains("→ Overall exposure level for redis.service:"),
            "{text}"
        );
        assert!(text.contains("✓ SystemCallFilter=~@mount"), "{text}");
    }

    #[test]
    fn what_the_container_withholds_counts_as_in_force_and_says_why() {
        // podman's default bounding set has neither CAP_SYS_ADMIN nor CAP_SYS_MODULE.
        let podman = (1 << 0) | (1 << 1) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7);
        let a = assess(&ExecContext::default(), &facts(0, podman));
        let admin = a
            .checks
            .iter()
            .find(|c| c.name == "CapabilityBoundingSet=~CAP_SYS_ADMIN")
            .unwrap();
        assert_eq!((admin.written, admin.here), (10, 0));
        assert_eq!(admin.why.as_deref(), Some("the container withholds it"));
        assert!(a.here() < a.written());
        // A protection this container adds is not one the unit lacks here.
        assert_eq!(a.not_in_force().count(), 0);
    }

    #[test]
    fn a_filter_without_seccomp_is_not_in_force() {
        let mut exec = ExecContext::default();
        exec.syscall_filter.add_line("~@mount");
        let mut f = facts(0, u64::MAX);
        f.seccomp = false;
        let a = assess(&exec, &f);
        let names: Vec<&str> = a.not_in_force().map(|c| c.name.as_str()).collect();
        assert!(names.contains(&"SystemCallFilter=~@mount"), "{names:?}");
        let lines = status_lines(&a);
        assert!(
            lines[1].contains("the kernel takes no seccomp filter"),
            "{lines:?}"
        );
    }
}
