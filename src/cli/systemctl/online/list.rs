//! `list-units` (systemctl-list-units.c output_units_list(), as shared/format-table.c prints a
//! table when stdout is not a terminal) and `list-dependencies`
//! (systemctl-list-dependencies.c).

use super::super::args::Invocation;
use super::super::options::Dependency;
use super::{Ask, unit_list};
use crate::control::proto::{Request, UnitInfo};
use crate::unit::glob::fnmatch;
use crate::vocab::exit::Exit;

/// format-table's layout: every column as wide as its widest cell, one space between, the
/// last column never padded.
fn table(rows: &[Vec<&str>]) -> String {
    table_aligned(rows, &[])
}

/// [`table`], with the columns in `right` aligned right (`table_set_align_percent()` 100).
fn table_aligned(rows: &[Vec<&str>], right: &[usize]) -> String {
    let columns = rows.first().map_or(0, Vec::len);
    let width: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c > 0 {
                line.push(' ');
            }
            let pad = " ".repeat(width[c] - cell.chars().count());
            if right.contains(&c) {
                line.push_str(&pad);
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if c + 1 < columns {
                    line.push_str(&pad);
                }
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The type suffix list-units sorts by (unit_info_compare(): type, then name, ignoring case).
fn suffix(name: &str) -> String {
    name.rfind('.')
        .map_or(String::new(), |i| name[i..].to_ascii_lowercase())
}

/// `list-units`: the loaded units bosun still holds (as systemd holds them), filtered by
/// pattern, type and state; inactive ones without a job only with `--all` or `--state=`.
pub(super) fn units(infos: &[UnitInfo], invocation: &Invocation) -> Exit {
    let o = &invocation.options;
    let patterns: Vec<String> = invocation.units.iter().map(|u| u.as_text()).collect();
    let mut rows: Vec<&UnitInfo> = infos
        .iter()
        .filter(|i| {
            o.states.is_empty()
                || o.states
                    .iter()
                    .any(|s| *s == i.active_state || *s == i.sub_state || *s == i.load_state)
        })
        .filter(|i| patterns.is_empty() || patterns.iter().any(|p| fnmatch(p, &i.name)))
        .filter(|i| {
            o.types.is_empty() || o.types.iter().any(|t| suffix(&i.name) == format!(".{t}"))
        })
        .filter(|i| {
            o.all || !o.states.is_empty() || i.job.is_some() || i.active_state != "inactive"
        })
        .collect();
    rows.sort_by_key(|i| (suffix(&i.name), i.name.to_ascii_lowercase()));
    let legend = o.show_legend();
    let jobs = rows.iter().filter(|i| i.job.is_some()).count();
    let circle = if super::super::glyph::utf8() {
        "●"
    } else {
        "*"
    };
    let mut cells: Vec<Vec<&str>> = Vec::new();
    if legend {
        cells.push(vec![
            "",
            "UNIT",
            "LOAD",
            "ACTIVE",
            "SUB",
            "JOB",
            "DESCRIPTION",
        ]);
    }
    for i in &rows {
        let bad = matches!(
            i.load_state.as_str(),
            "error" | "not-found" | "bad-setting" | "masked"
        );
        let mark = if !o.plain && (bad || i.active_state == "failed") {
            circle
        } else {
            " "
        };
        cells.push(vec![
            mark,
            &i.name,
            &i.load_state,
            &i.active_state,
            &i.sub_state,
            i.job.as_deref().unwrap_or(""),
            &i.description,
        ]);
    }
    for row in &mut cells {
        if jobs == 0 {
            row.remove(5);
        }
        if o.plain {
            row.remove(0);
        }
    }
    if !cells.is_empty() {
        print!("{}", table(&cells));
    }
    if legend {
        let n = rows.len();
        if n > 0 {
            println!();
            println!("LOAD   = Reflects whether the unit definition was properly loaded.");
            println!("ACTIVE = The high-level unit activation state, i.e. generalization of SUB.");
            println!("SUB    = The low-level unit activation state, values depend on unit type.");
            if jobs > 0 {
                println!("JOB    = Pending job for the unit.\n");
            }
        }
        let files = "To show all installed unit files use 'systemctl list-unit-files'.";
        if o.all || o.states.iter().any(|s| s == "inactive") {
            println!("{n} loaded units listed.\n{files}");
        } else if o.states.is_empty() {
            println!(
                "{n} loaded units listed. Pass --all to see loaded but inactive units, too.\n{files}"
            );
        } else {
            println!("{n} loaded units listed.");
        }
    }
    Exit::Success
}

/// The glyphs of a dependency tree, UTF-8 or ASCII.
struct Glyphs {
    vertical: &'static str,
    branch: &'static str,
    right: &'static str,
    space: &'static str,
}

fn glyphs() -> Glyphs {
    if super::super::glyph::utf8() {
        Glyphs {
            vertical: "│ ",
            branch: "├─",
            right: "└─",
            space: "  ",
        }
    } else {
        Glyphs {
            vertical: "| ",
            branch: "|-",
            right: "`-",
            space: "  ",
        }
    }
}

/// `list-dependencies [UNIT...]` (default.target without units): each unit's tree, a blank
/// line between trees.
pub(super) fn dependencies(
    units: &[String],
    invocation: &Invocation,
    ask: &Ask<'_>,
) -> Result<Exit, Exit> {
    let roots = if units.is_empty() {
        vec!["default.target".to_owned()]
    } else {
        units.to_vec()
    };
    let o = &invocation.options;
    // --reverse looks through every loaded unit for those that pull the unit in.
    let loaded = if o.dependency == Dependency::Reverse {
        unit_list(ask(Request::units(Vec::new()))?)
    } else {
        Vec::new()
    };
    let walk = Walk {
        invocation,
        ask,
        loaded,
        glyphs: glyphs(),
    };
    let mut done = Vec::new();
    for (k, root) in roots.iter().enumerate() {
        if k > 0 {
            println!();
        }
        println!("{root}");
        walk.one(root, 0, &mut done, 0)?;
    }
    Ok(Exit::Success)
}

struct Walk<'a, 'b> {
    invocation: &'a Invocation,
    ask: &'a Ask<'b>,
    loaded: Vec<UnitInfo>,
    glyphs: Glyphs,
}

impl Walk<'_, '_> {
    /// unit_get_dependencies(): the units `name` depends on in the direction asked.
    fn deps(&self, name: &str) -> Result<Vec<String>, Exit> {
        let direction = self.invocation.options.dependency;
        if direction == Dependency::Reverse {
            return Ok(self
                .loaded
                .iter()
                .filter(|i| {
                    i.requires
                        .iter()
                        .chain(&i.requisite)
                        .chain(&i.wants)
                        .chain(&i.binds_to)
                        .any(|d| d == name)
                })
                .map(|i| i.name.clone())
                .collect());
        }
        let infos = unit_list((self.ask)(Request::units(vec![name.to_owned()]))?);
        let Some(info) = infos.into_iter().next() else {
            return Ok(Vec::new());
        };
        let mut deps: Vec<String> = match direction {
            Dependency::After => info.after,
            Dependency::Before => info.before,
            _ => info
                .requires
                .into_iter()
                .chain(info.requisite)
                .chain(info.wants)
                .chain(info.binds_to)
                .collect(),
        };
        deps.sort();
        deps.dedup();
        Ok(deps)
    }

    /// list_dependencies_one(): `name`'s dependencies at `level`, units before targets, each
    /// with its state's glyph; targets expanded (everything with `--all`); a unit already on
    /// the path shown as `...` once.
    fn one(
        &self,
        name: &str,
        level: usize,
        done: &mut Vec<String>,
        branches: u64,
    ) -> Result<(), Exit> {
        let o = &self.invocation.options;
        done.push(name.to_owned());
        let mut deps = self.deps(name)?;
        let target = |n: &str| n.ends_with(".target");
        deps.sort_by_key(|d| (target(d), d.to_ascii_lowercase()));
        let states = if o.plain || deps.is_empty() {
            Vec::new()
        } else {
            unit_list((self.ask)(Request::units(deps.clone()))?)
        };
        let mut circular = false;
        for (k, dep) in deps.iter().enumerate() {
            if done.contains(dep) {
                circular = true;
                continue;
            }
            let last_one = k + 1 == deps.len();
            if o.plain {
                print!("  ");
            } else {
                let state = states
                    .iter()
                    .find(|i| i.name == *dep)
                    .map_or("inactive", |i| i.active_state.as_str());
                print!("{} ", super::status::glyph(state));
            }
            self.print(dep, level, branches, last_one && !circular);
            if o.all || target(dep) {
                let below = (branches << 1) | u64::from(!last_one);
                self.one(dep, level + 1, done, below)?;
            }
        }
        if circular && !o.plain {
            print!("  ");
            self.print("...", level, branches, true);
        }
        if !o.plain {
            done.retain(|d| d != name);
        }
        Ok(())
    }

    /// list_dependencies_print(): the tree's branches, then the name.
    fn print(&self, name: &str, level: usize, branches: u64, last: bool) {
        let g = &self.glyphs;
        if !self.invocation.options.plain {
            for i in (0..level).rev() {
                let bit = u32::try_from(i).map_or(0, |i| branches.checked_shr(i).unwrap_or(0) & 1);
                print!("{}", if bit == 1 { g.vertical } else { g.space });
            }
            print!("{}", if last { g.right } else { g.branch });
        }
        println!("{name}");
    }
}

/// `list-sockets` (systemctl-list-units.c output_sockets_list()): one row per listening
/// address of each socket unit (active ones; all loaded ones with `--all`), sorted by address.
pub(super) fn sockets(infos: &[UnitInfo], invocation: &Invocation) -> Exit {
    let o = &invocation.options;
    let patterns: Vec<String> = invocation.units.iter().map(|u| u.as_text()).collect();
    let mut rows: Vec<(&str, &str, &str, String)> = Vec::new();
    for info in infos {
        if !info.name.ends_with(".socket")
            || !(patterns.is_empty() || patterns.iter().any(|p| fnmatch(p, &info.name)))
            || !(o.all || info.active_state == "active" || info.active_state == "reloading")
        {
            continue;
        }
        let activates = info
            .triggers
            .iter()
            .map(|(u, _)| u.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        for (kind, address) in &info.listen {
            rows.push((address, kind, &info.name, activates.clone()));
        }
    }
    rows.sort_by(|a, b| a.0.cmp(b.0).then(a.1.cmp(b.1)));
    let legend = o.show_legend();
    let mut cells: Vec<Vec<&str>> = Vec::new();
    let columns = |listen, kind, unit, activates| {
        if o.show_types {
            vec![listen, kind, unit, activates]
        } else {
            vec![listen, unit, activates]
        }
    };
    if legend {
        cells.push(columns("LISTEN", "TYPE", "UNIT", "ACTIVATES"));
    }
    for (listen, kind, unit, activates) in &rows {
        cells.push(columns(listen, kind, unit, activates));
    }
    if !cells.is_empty() && (legend || !rows.is_empty()) {
        print!("{}", table(&cells));
    }
    if legend {
        println!();
        println!("{} sockets listed.", rows.len());
        if !o.all {
            println!("Pass --all to see loaded but inactive sockets, too.");
        }
    }
    Exit::Success
}

/// A `list-timers`/`list-paths` argument as expand_unit_names() makes it with the type's
/// `suffix`: a glob or a unit name stays as it is, anything else gets the suffix.
fn typed_pattern(text: &str, suffix: &str) -> String {
    let glob = crate::unit::glob::is_glob(text);
    if glob || crate::unit::UnitName::parse(text).is_ok() {
        text.to_owned()
    } else {
        format!("{text}{suffix}")
    }
}

/// The units of type `suffix` that `list-timers`/`list-paths` list: those the patterns
/// match, and as output_show_unit() says without `--all`: of the `--state=` states, or not
/// inactive, or with a job.
fn typed_rows<'a>(
    infos: &'a [UnitInfo],
    invocation: &Invocation,
    suffix: &str,
) -> Vec<&'a UnitInfo> {
    let o = &invocation.options;
    let patterns: Vec<String> = invocation
        .units
        .iter()
        .map(|u| typed_pattern(&u.as_text(), suffix))
        .collect();
    infos
        .iter()
        .filter(|i| self::suffix(&i.name) == suffix)
        .filter(|i| patterns.is_empty() || patterns.iter().any(|p| fnmatch(p, &i.name)))
        .filter(|i| {
            o.states.is_empty()
                || o.states
                    .iter()
                    .any(|s| *s == i.active_state || *s == i.sub_state || *s == i.load_state)
        })
        .filter(|i| {
            o.all || !o.states.is_empty() || i.job.is_some() || i.active_state != "inactive"
        })
        .collect()
}

/// The units a timer or path unit activates, `-` for none.
fn activates(info: &UnitInfo) -> String {
    match info.triggers.as_slice() {
        [] => "-".to_owned(),
        list => list
            .iter()
            .map(|(u, _)| u.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// The count under a listing and, without `--all`, the hint (output_legend()).
fn legend_footer(count: usize, kind: &str, all: bool) {
    println!("\n{count} {kind}s listed.");
    if !all {
        println!("Pass --all to see loaded but inactive {kind}s, too.");
    }
}

/// `list-paths [PATTERN...]` (systemctl-list-units.c output_paths_list() of systemd 252): one
/// row per watched path of each path unit bosun holds (inactive ones with `--all`), sorted by
/// path, then condition, then unit; the count and the `--all` hint under them.
pub(super) fn paths(infos: &[UnitInfo], invocation: &Invocation) -> Exit {
    let o = &invocation.options;
    let mut rows: Vec<[String; 4]> = Vec::new();
    for info in typed_rows(infos, invocation, ".path") {
        let Some(p) = &info.path else { continue };
        for (condition, path) in &p.paths {
            rows.push([
                path.clone(),
                condition.clone(),
                info.name.clone(),
                activates(info),
            ]);
        }
    }
    rows.sort_by(|a, b| {
        std::path::Path::new(&a[0])
            .cmp(std::path::Path::new(&b[0]))
            .then_with(|| a[1].cmp(&b[1]))
            .then_with(|| a[2].cmp(&b[2]))
    });
    let legend = o.show_legend();
    let mut cells: Vec<Vec<&str>> = Vec::new();
    if legend {
        cells.push(vec!["PATH", "CONDITION", "UNIT", "ACTIVATES"]);
    }
    cells.extend(rows.iter().map(|r| r.iter().map(String::as_str).collect()));
    if !cells.is_empty() {
        print!("{}", table(&cells));
    }
    if legend {
        legend_footer(rows.len(), "path", o.all);
    }
    Exit::Success
}

/// `list-timers [PATTERN...]` (systemctl-list-units.c output_timers_list() of systemd 252):
/// the timers bosun holds (inactive ones with `--all`), by next elapse then name; NEXT and
/// LAST as timestamps, LEFT and PASSED (aligned right) relative to `now_ms`, `-` where there
/// is none; the count and the `--all` hint under them.
pub(super) fn timers(infos: &[UnitInfo], invocation: &Invocation, now_ms: u64) -> Exit {
    use super::super::text::{relative, timestamp};
    let o = &invocation.options;
    let mut rows = typed_rows(infos, invocation, ".timer");
    rows.sort_by(|a, b| {
        let next = |i: &UnitInfo| i.next_elapse_ms.unwrap_or(u64::MAX);
        next(a).cmp(&next(b)).then_with(|| a.name.cmp(&b.name))
    });
    let dash = || "-".to_owned();
    let texts: Vec<[String; 6]> = rows
        .iter()
        .map(|i| {
            [
                i.next_elapse_ms.map_or_else(dash, timestamp),
                i.next_elapse_ms
                    .map_or_else(dash, |ms| relative(ms, now_ms)),
                i.last_trigger_ms.map_or_else(dash, timestamp),
                i.last_trigger_ms
                    .map_or_else(dash, |ms| relative(ms, now_ms)),
                i.name.clone(),
                activates(i),
            ]
        })
        .collect();
    let legend = o.show_legend();
    let mut cells: Vec<Vec<&str>> = Vec::new();
    if legend {
        cells.push(vec!["NEXT", "LEFT", "LAST", "PASSED", "UNIT", "ACTIVATES"]);
    }
    cells.extend(texts.iter().map(|t| t.iter().map(String::as_str).collect()));
    if !cells.is_empty() {
        print!("{}", table_aligned(&cells, &[1, 3]));
    }
    if legend {
        legend_footer(rows.len(), "timer", o.all);
    }
    Exit::Success
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_patterns_get_the_timer_suffix_unless_globs_or_unit_names() {
        assert_eq!(typed_pattern("backup", ".timer"), "backup.timer");
        assert_eq!(typed_pattern("backup.timer", ".timer"), "backup.timer");
        assert_eq!(typed_pattern("apt-*", ".timer"), "apt-*");
        assert_eq!(typed_pattern("backup.service", ".timer"), "backup.service");
        assert_eq!(typed_pattern("cups", ".path"), "cups.path");
    }

    #[test]
    fn right_aligned_columns_pad_on_the_left() {
        let rows = vec![
            vec!["NEXT", "LEFT", "UNIT"],
            vec!["-", "5min 3s left", "a.timer"],
        ];
        assert_eq!(
            table_aligned(&rows, &[1]),
            "NEXT         LEFT UNIT\n-    5min 3s left a.timer\n"
        );
        assert_eq!(
            table(&rows),
            "NEXT LEFT         UNIT\n-    5min 3s left a.timer\n"
        );
    }
}
