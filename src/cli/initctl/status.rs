//! `initctl status`: bosun's header (version, state, boot phase, uptime, the data volume and
//! its build, failed units, `.bosun-new` files) above one column-aligned table of units, and
//! the JSON document of the same. Rendering is pure ([`overview`], [`table`], [`duration`]);
//! asking bosun is [`super`]'s. `status UNIT` as text is
//! systemctl's ([`crate::cli::systemctl::online`]).

use std::borrow::Cow;

use serde::Serialize;

use crate::control::proto::{LogLine, PathInfo, SystemInfo, UnitInfo, UnitRow};

/// How output is decorated: colors and glyphs only on a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    /// ANSI colors (stdout is a terminal, `NO_COLOR` unset, `TERM` not `dumb`).
    pub color: bool,
    /// A state glyph before each unit and bosun's name (stdout is a terminal).
    pub glyphs: bool,
    /// UTF-8 glyphs (`●`), else ASCII (`*`), as systemd decides from the locale.
    pub utf8: bool,
}

impl Style {
    /// The style for stdout in this environment.
    pub fn for_stdout() -> Style {
        use std::io::IsTerminal;
        let tty = std::io::stdout().is_terminal();
        let color = tty
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::env::var("TERM").map_or(true, |t| t != "dumb");
        Style {
            color,
            glyphs: tty,
            utf8: crate::cli::systemctl::glyph::utf8(),
        }
    }
}

/// A terminal color.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Green,
    Red,
    Yellow,
    Dim,
}

impl Color {
    fn code(self) -> &'static str {
        match self {
            Color::Green => "\x1b[0;1;32m",
            Color::Red => "\x1b[0;1;31m",
            Color::Yellow => "\x1b[0;1;33m",
            Color::Dim => "\x1b[0;2m",
        }
    }
}

const RESET: &str = "\x1b[0m";

/// `text` in `color` when the style has colors.
pub fn paint(text: &str, color: Option<Color>, style: Style) -> String {
    match color {
        Some(c) if style.color && !text.is_empty() => format!("{}{text}{RESET}", c.code()),
        _ => text.to_owned(),
    }
}

/// One table cell: its text and, on a terminal, its color.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell<'a> {
    pub text: Cow<'a, str>,
    pub color: Option<Color>,
}

impl<'a> Cell<'a> {
    pub fn plain(text: impl Into<Cow<'a, str>>) -> Cell<'a> {
        Cell {
            text: text.into(),
            color: None,
        }
    }
}

/// Columns left-aligned to their widest cell (in characters), two spaces apart, with the
/// header row first; the last column is not padded, so no line ends in blanks. Colors are
/// applied after padding, so they never shift a column. Written straight into one string (a
/// table of 500 units is 3,500 cells).
pub fn table(header: &[&str], rows: &[Vec<Cell>], style: Style) -> String {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (k, cell) in row.iter().enumerate().take(columns) {
            widths[k] = widths[k].max(cell.text.chars().count());
        }
    }
    let mut out =
        String::with_capacity((widths.iter().sum::<usize>() + 2 * columns) * (rows.len() + 1));
    let mut line = |cells: &mut dyn ExactSizeIterator<Item = (&str, Option<Color>)>| {
        let start = out.len();
        let last = cells.len().saturating_sub(1);
        for (k, (cell, color)) in cells.enumerate() {
            if k > 0 {
                out.push_str("  ");
            }
            match color {
                Some(c) if style.color && !cell.is_empty() => {
                    out.push_str(c.code());
                    out.push_str(cell);
                    out.push_str(RESET);
                }
                _ => out.push_str(cell),
            }
            if k < last {
                let pad = widths[k].saturating_sub(cell.chars().count());
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        let kept = out[start..].trim_end().len();
        out.truncate(start + kept);
        out.push('\n');
    };
    line(&mut header.iter().map(|h| (*h, None)));
    for row in rows {
        line(&mut row.iter().take(columns).map(|c| (c.text.as_ref(), c.color)));
    }
    out
}

/// A duration as people read it, the two largest units (systemd's style): `350ms`, `45s`,
/// `3min 12s`, `1h 5min`, `2d 3h`; a zero second unit is left out (`1h`).
pub fn duration(ms: u64) -> String {
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = ms / 1000;
    let parts = [
        (secs / 86_400, "d"),
        (secs % 86_400 / 3600, "h"),
        (secs % 3600 / 60, "min"),
        (secs % 60, "s"),
    ];
    let first = parts.iter().position(|(n, _)| *n > 0).unwrap_or(3);
    let mut text = format!("{}{}", parts[first].0, parts[first].1);
    if let Some((n, unit)) = parts.get(first + 1)
        && *n > 0
    {
        text.push_str(&format!(" {n}{unit}"));
    }
    text
}

/// What the table and its selection read of a unit, borrowed from an overview's [`UnitInfo`]
/// or from a summary's [`UnitRow`] (read as they came: 500 rows are not copied into 500 larger
/// structs first).
#[derive(Debug, Clone, Copy)]
pub struct RowView<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub load_state: &'a str,
    pub active_state: &'a str,
    pub sub_state: &'a str,
    pub main_pid: Option<i32>,
    pub since_ms: Option<u64>,
    pub restarts: u32,
    pub job: Option<&'a str>,
    pub next_elapse_ms: Option<u64>,
    pub listen: &'a [(String, String)],
    pub path: Option<&'a PathInfo>,
    pub connections: Option<(u32, u32)>,
}

/// A unit as the table reads it ([`RowView`]).
pub trait Listed {
    fn row(&self) -> RowView<'_>;
}

/// [`Listed`] for a type with the table's fields under the same names (both carry them).
macro_rules! listed {
    ($t:ty) => {
        impl Listed for $t {
            fn row(&self) -> RowView<'_> {
                RowView {
                    name: &self.name,
                    description: &self.description,
                    load_state: &self.load_state,
                    active_state: &self.active_state,
                    sub_state: &self.sub_state,
                    main_pid: self.main_pid,
                    since_ms: self.since_ms,
                    restarts: self.restarts,
                    job: self.job.as_deref(),
                    next_elapse_ms: self.next_elapse_ms,
                    listen: &self.listen,
                    path: self.path.as_ref(),
                    connections: self.connections,
                }
            }
        }
    };
}

listed!(UnitInfo);
listed!(UnitRow);

/// The units `status` lists, in its order: without `all`, those that are not inactive or have
/// a job (as `systemctl list-units`), less the container's own mounts, slices and devices
/// unless they failed (bosun runs nothing for them; `systemctl list-units` shows them);
/// services first, then by type and name.
pub fn select<T: Listed>(units: &[T], all: bool) -> Vec<&T> {
    let mut shown: Vec<&T> = units
        .iter()
        .filter(|u| all || shown_by_default(u.row()))
        .collect();
    shown.sort_by(|a, b| order(a.row()).cmp(&order(b.row())));
    shown
}

/// The order of [`select`]: services first, then by type and name.
fn order(u: RowView<'_>) -> (bool, &str, &str) {
    let kind = u.name.rsplit('.').next().unwrap_or("");
    (kind != "service", kind, u.name)
}

/// Whether `status` without `all` lists `u` (see [`select`]).
fn shown_by_default(u: RowView<'_>) -> bool {
    let kind = u.name.rsplit('.').next().unwrap_or("");
    let tracked = matches!(kind, "mount" | "slice" | "device") && u.active_state != "failed";
    (u.active_state != "inactive" || u.job.is_some()) && !tracked
}

fn state_color(active_state: &str) -> Option<Color> {
    match active_state {
        "active" | "reloading" | "running" => Some(Color::Green),
        "failed" | "degraded" => Some(Color::Red),
        "activating" | "deactivating" | "starting" | "stopping" => Some(Color::Yellow),
        _ => None,
    }
}

fn glyph(active_state: &str, style: Style) -> &'static str {
    match (active_state, style.utf8) {
        ("failed", true) => "×",
        ("failed", false) => "x",
        ("inactive", true) => "○",
        ("inactive", false) => "o",
        (_, true) => "●",
        (_, false) => "*",
    }
}

/// The units table: unit, state, sub-state, main PID, uptime (of active units), restarts,
/// description. `now_ms` is the time uptimes are measured to.
pub fn units_table<T: Listed>(units: &[&T], now_ms: u64, style: Style) -> String {
    let mut header = vec![
        "UNIT",
        "STATE",
        "SUB",
        "PID",
        "UPTIME",
        "RESTARTS",
        "DESCRIPTION",
    ];
    let rows: Vec<Vec<Cell>> = units
        .iter()
        .map(|u| {
            let u = u.row();
            let up = matches!(u.active_state, "active" | "reloading");
            let uptime = match u.since_ms {
                Some(since) if up => duration(now_ms.saturating_sub(since)),
                _ => "-".to_owned(),
            };
            let mut description = Cow::Borrowed(u.description);
            // A timer says when it fires next.
            if let Some(ms) = u.next_elapse_ms {
                description = Cow::Owned(format!(
                    "{description} (next {}, in {})",
                    crate::vocab::time::utc_time(ms),
                    duration(ms.saturating_sub(now_ms))
                ));
            }
            if u.load_state != "loaded" {
                description = Cow::Owned(
                    format!("{description} ({})", u.load_state)
                        .trim_start()
                        .to_owned(),
                );
            }
            // A socket says where it listens, and (Accept=yes) how many it serves.
            if !u.listen.is_empty() {
                let at: Vec<&str> = u.listen.iter().map(|(_, a)| a.as_str()).collect();
                description = Cow::Owned(format!("{description} [{}]", at.join(", ")));
            }
            // A path unit says what it watches.
            if let Some(p) = u.path.filter(|p| !p.paths.is_empty()) {
                let what: Vec<String> = p
                    .paths
                    .iter()
                    .map(|(c, path)| format!("{c}={path}"))
                    .collect();
                description = Cow::Owned(format!("{description} [{}]", what.join(", ")));
            }
            if let Some((accepted, connected)) = u.connections {
                description =
                    Cow::Owned(format!("{description} {connected}/{accepted} connections"));
            }
            let color = state_color(u.active_state);
            let mut row = vec![
                Cell::plain(u.name),
                Cell {
                    text: Cow::Borrowed(u.active_state),
                    color,
                },
                Cell::plain(u.sub_state),
                Cell::plain(
                    u.main_pid
                        .map_or(Cow::Borrowed("-"), |p| Cow::Owned(p.to_string())),
                ),
                Cell::plain(uptime),
                Cell::plain(u.restarts.to_string()),
                Cell::plain(description),
            ];
            if style.glyphs {
                row.insert(
                    0,
                    Cell {
                        text: Cow::Borrowed(glyph(u.active_state, style)),
                        color,
                    },
                );
            }
            row
        })
        .collect();
    if style.glyphs {
        header.insert(0, "");
    }
    table(&header, &rows, style)
}

/// The hint under the `.bosun-new` files: what the operator does with them.
pub const BOSUN_NEW_HINT: &str = "each is the image's new version of a file you changed: \
compare the two, merge what you need into yours, then delete the .bosun-new file";

/// bosun's header lines.
pub fn header(system: &SystemInfo, now_ms: u64, style: Style) -> String {
    let mut out = String::new();
    let color = state_color(&system.state);
    let title = if style.glyphs {
        format!(
            "{} bosun {}",
            paint(glyph("", style), color, style),
            system.version
        )
    } else {
        format!("bosun {}", system.version)
    };
    out.push_str(&title);
    out.push('\n');
    let mut field = |label: &str, value: &str| {
        out.push_str(&format!("{label:>11}: {value}\n"));
    };
    field("State", &paint(&system.state, color, style));
    let mut phase = system.phase.clone();
    if let Some(hook) = &system.hook {
        phase.push_str(&format!(" ({hook})"));
    }
    field("Phase", &phase);
    if system.jobs > 0 {
        field("Jobs", &format!("{} queued or running", system.jobs));
    }
    field(
        "Uptime",
        &format!(
            "{} (since {})",
            duration(now_ms.saturating_sub(system.started_ms)),
            crate::vocab::time::utc_time(system.started_ms)
        ),
    );
    field("Volume", &volume_line(system));
    for line in &system.upgrade_report {
        field("Upgrade", line);
    }
    if !system.failed_units.is_empty() {
        let failed = system.failed_units.join(" ");
        field("Failed", &paint(&failed, Some(Color::Red), style));
    }
    if !system.bosun_new_files.is_empty() {
        for (k, file) in system.bosun_new_files.iter().enumerate() {
            let label = if k == 0 { ".bosun-new" } else { "" };
            let sep = if k == 0 { ':' } else { ' ' };
            out.push_str(&format!(
                "{label:>11}{sep} {}\n",
                paint(file, Some(Color::Yellow), style)
            ));
        }
        out.push_str(&format!("{:>11}  {BOSUN_NEW_HINT}\n", ""));
    }
    out
}

/// `/data, ready, build b2 (upgraded from b1 at this boot)`, or that there is none.
fn volume_line(system: &SystemInfo) -> String {
    let Some(dir) = &system.volume else {
        return "none managed (no template)".to_owned();
    };
    let mut text = dir.clone();
    if let Some(phase) = &system.volume_phase {
        text.push_str(&format!(", {phase}"));
    }
    if let Some(build) = &system.build_id {
        text.push_str(&format!(", build {build}"));
    }
    match (system.life_cycle.as_deref(), &system.previous_build_id) {
        (Some("upgrade"), Some(previous)) => {
            text.push_str(&format!(" (upgraded from {previous} at this boot)"));
        }
        (Some("upgrade"), None) => text.push_str(" (upgraded at this boot)"),
        (Some("first-boot"), _) => text.push_str(" (seeded at this boot)"),
        _ => {}
    }
    text
}

/// The whole `status` text: the header, a blank line, the table, and how many were left out.
pub fn overview<T: Listed>(
    system: &SystemInfo,
    units: &[T],
    all: bool,
    now_ms: u64,
    style: Style,
) -> String {
    let shown = select(units, all);
    let mut out = header(system, now_ms, style);
    out.push('\n');
    out.push_str(&units_table(&shown, now_ms, style));
    let hidden = units.len() - shown.len();
    // Active units left out: the container's own mounts, slices and devices.
    let tracked = units
        .iter()
        .filter(|u| u.row().active_state != "inactive" && !(all || shown_by_default(u.row())))
        .count();
    out.push('\n');
    out.push_str(&format!("{} units listed", shown.len()));
    match (hidden - tracked, tracked) {
        (0, 0) => {}
        (inactive, 0) => {
            out.push_str(&format!(
                "; {inactive} inactive not shown (--all shows them)"
            ));
        }
        (inactive, tracked) => out.push_str(&format!(
            "; {inactive} inactive and {tracked} mounts or slices not shown (--all shows them)"
        )),
    }
    out.push_str(".\n");
    out
}

/// `status --json`.
#[derive(Debug, Serialize)]
pub struct OverviewJson<'a> {
    pub system: &'a SystemInfo,
    pub units: Vec<&'a UnitInfo>,
}

/// One unit of `status UNIT --json`: everything bosun knows of it, and its last log lines.
#[derive(Debug, Serialize)]
pub struct UnitJson<'a> {
    #[serde(flatten)]
    pub unit: &'a UnitInfo,
    pub logs: Vec<LogLine>,
}

/// `status UNIT... --json`.
#[derive(Debug, Serialize)]
pub struct UnitsJson<'a> {
    pub units: Vec<UnitJson<'a>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_systemds() {
        assert_eq!(duration(0), "0ms");
        assert_eq!(duration(350), "350ms");
        assert_eq!(duration(45_000), "45s");
        assert_eq!(duration(192_400), "3min 12s");
        assert_eq!(duration(3_600_000), "1h");
        assert_eq!(duration(3_612_000), "1h");
        assert_eq!(duration(3_900_000), "1h 5min");
        assert_eq!(duration(2 * 86_400_000 + 3 * 3_600_000 + 59_000), "2d 3h");
        assert_eq!(duration(86_400_000 + 60_000), "1d");
    }

    #[test]
    fn columns_line_up_whatever_the_cell_widths() {
        let rows = vec![
            vec![
                Cell::plain("a.service"),
                Cell::plain("x"),
                Cell::plain("last"),
            ],
            vec![Cell::plain("b"), Cell::plain("longer"), Cell::plain("")],
        ];
        let text = table(&["UNIT", "S", "DESCRIPTION"], &rows, Style::default());
        assert_eq!(
            text,
            "UNIT       S       DESCRIPTION\n\
             a.service  x       last\n\
             b          longer\n"
        );
        // Colors wrap the padded text's words only: the visible columns stay where they are.
        let colored = Style {
            color: true,
            ..Style::default()
        };
        let rows = vec![vec![
            Cell {
                text: "failed".into(),
                color: Some(Color::Red),
            },
            Cell::plain("z"),
        ]];
        let text = table(&["STATE", "X"], &rows, colored);
        let visible = text.replace("\x1b[0;1;31m", "").replace(RESET, "");
        assert_eq!(visible, "STATE   X\nfailed  z\n");
        assert!(text.contains("\x1b[0;1;31mfailed\x1b[0m  z"), "{text:?}");
    }

    fn unit(name: &str, state: &str) -> UnitInfo {
        UnitInfo {
            name: name.into(),
            description: format!("The {name}"),
            load_state: "loaded".into(),
            active_state: state.into(),
            sub_state: if state == "active" { "running" } else { "dead" }.into(),
            ..UnitInfo::default()
        }
    }

    #[test]
    fn services_first_and_inactive_ones_only_with_all() {
        let units = vec![
            unit("multi-user.target", "active"),
            unit("web.service", "active"),
            unit("app.socket", "active"),
            unit("idle.service", "inactive"),
            unit("bad.service", "failed"),
            unit("tmp.mount", "active"),
            unit("system.slice", "active"),
            unit("srv.mount", "failed"),
        ];
        let names =
            |all| -> Vec<String> { select(&units, all).iter().map(|u| u.name.clone()).collect() };
        // The container's mounts and slices only with --all, or when failed.
        assert_eq!(
            names(false),
            [
                "bad.service",
                "web.service",
                "srv.mount",
                "app.socket",
                "multi-user.target"
            ]
        );
        assert_eq!(names(true).len(), 8);
        assert_eq!(names(true)[1], "idle.service");
    }

    #[test]
    fn a_path_unit_shows_what_it_watches() {
        let mut cups = unit("cups.path", "active");
        cups.description = "CUPS Scheduler".into();
        cups.path = Some(crate::control::proto::PathInfo {
            paths: vec![("PathExists".into(), "/var/cache/cups/org.cups.cupsd".into())],
            ..Default::default()
        });
        let text = units_table(&[&cups], 0, Style::default());
        let row = text.lines().nth(1).unwrap();
        assert!(
            row.ends_with("CUPS Scheduler [PathExists=/var/cache/cups/org.cups.cupsd]"),
            "{row}"
        );
    }

    #[test]
    fn a_timer_shows_its_next_elapse() {
        let mut tick = unit("tick.timer", "active");
        tick.sub_state = "waiting".into();
        tick.since_ms = Some(1_000_000);
        // 1970-01-01 00:20:00 UTC, 5 min 3 s after now.
        tick.next_elapse_ms = Some(1_200_000);
        let text = units_table(&[&tick], 897_000, Style::default());
        let row = text.lines().nth(1).unwrap();
        assert!(
            row.ends_with("The tick.timer (next 1970-01-01 00:20:00 UTC, in 5min 3s)"),
            "{row}"
        );
        tick.next_elapse_ms = None;
        let text = units_table(&[&tick], 897_000, Style::default());
        assert!(text.lines().nth(1).unwrap().ends_with("The tick.timer"));
    }

    #[test]
    fn the_table_shows_pid_uptime_and_restarts() {
        let mut web = unit("web.service", "active");
        web.main_pid = Some(42);
        web.since_ms = Some(1_000_000);
        web.restarts = 2;
        let mut broken = unit("broken.service", "failed");
        broken.since_ms = Some(1_000_000);
        broken.load_state = "bad-setting".into();
        let text = units_table(&[&web, &broken], 1_192_400, Style::default());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "UNIT            STATE   SUB      PID  UPTIME    RESTARTS  DESCRIPTION"
        );
        assert_eq!(
            lines[1],
            "web.service     active  running  42   3min 12s  2         The web.service"
        );
        assert_eq!(
            lines[2],
            "broken.service  failed  dead     -    -         0         The broken.service \
             (bad-setting)"
        );
        // On a terminal: a glyph column first.
        let tty = Style {
            glyphs: true,
            utf8: true,
            ..Style::default()
        };
        let text = units_table(&[&web, &broken], 1_192_400, tty);
        assert!(text.lines().nth(1).unwrap().starts_with("●  web.service"));
        assert!(
            text.lines()
                .nth(2)
                .unwrap()
                .starts_with("×  broken.service")
        );
    }

    #[test]
    fn the_header_says_state_volume_and_what_needs_a_person() {
        let system = SystemInfo {
            state: "degraded".into(),
            phase: "boot complete".into(),
            version: "9.9.9".into(),
            started_ms: 1_000_000,
            failed_units: vec!["a.service".into(), "b.service".into()],
            build_id: Some("b2".into()),
            volume: Some("/data".into()),
            volume_phase: Some("ready".into()),
            life_cycle: Some("upgrade".into()),
            previous_build_id: Some("b1".into()),
            bosun_new_files: vec!["/data/x.bosun-new".into(), "/data/y.bosun-new".into()],
            ..SystemInfo::default()
        };
        let text = header(&system, 1_192_400, Style::default());
        let expected = format!(
            "bosun 9.9.9\n      \
             State: degraded\n      \
             Phase: boot complete\n     \
             Uptime: 3min 12s (since 1970-01-01 00:16:40 UTC)\n     \
             Volume: /data, ready, build b2 (upgraded from b1 at this boot)\n     \
             Failed: a.service b.service\n \
             .bosun-new: /data/x.bosun-new\n             \
             /data/y.bosun-new\n             \
             {BOSUN_NEW_HINT}\n"
        );
        assert_eq!(text, expected);
        let none = SystemInfo {
            state: "starting".into(),
            phase: "running hooks".into(),
            hook: Some("boot.d/10-wait".into()),
            ..SystemInfo::default()
        };
        let text = header(&none, 0, Style::default());
        assert!(
            text.contains("Phase: running hooks (boot.d/10-wait)\n"),
            "{text}"
        );
        assert!(
            text.contains("Volume: none managed (no template)\n"),
            "{text}"
        );
        assert!(
            !text.contains("Failed") && !text.contains(".bosun-new"),
            "{text}"
        );
    }
}
