//! The `overview` answer as `initctl status`'s text reads it: the same answer (the protocol
//! is unchanged), but of each unit only what [`super::status::overview`] shows is kept; its
//! dependencies, commands and processes are skipped as they are read. callgrind put 1.2 M of
//! the client's 2.5 M instructions in reading the whole answer with 20 units. `--json` prints
//! everything and reads the answer whole.

use serde::Deserialize;

use crate::control::proto::{PathInfo, Response, SystemInfo, UnitInfo};

/// An answer with the fields of an `overview` and of an `error` (a plain struct: its `kind` is
/// a field like the others, so nothing is buffered).
#[derive(Debug, Deserialize)]
pub struct Answer {
    kind: String,
    system: Option<Box<SystemInfo>>,
    #[serde(default)]
    units: Vec<Shown>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    exit: u8,
}

/// What the header and the table show of a unit; [`UnitInfo`]'s other fields keep their
/// defaults. A field the table starts to show must be added here: the test below renders a
/// unit with every field set both ways.
#[derive(Debug, Deserialize)]
struct Shown {
    name: String,
    description: String,
    load_state: String,
    active_state: String,
    sub_state: String,
    main_pid: Option<i32>,
    since_ms: Option<u64>,
    restarts: u32,
    job: Option<String>,
    #[serde(default)]
    next_elapse_ms: Option<u64>,
    #[serde(default)]
    listen: Vec<(String, String)>,
    #[serde(default)]
    path: Option<PathInfo>,
    #[serde(default)]
    connections: Option<(u32, u32)>,
}

impl From<Shown> for UnitInfo {
    fn from(s: Shown) -> UnitInfo {
        UnitInfo {
            name: s.name,
            description: s.description,
            load_state: s.load_state,
            active_state: s.active_state,
            sub_state: s.sub_state,
            main_pid: s.main_pid,
            since_ms: s.since_ms,
            restarts: s.restarts,
            job: s.job,
            next_elapse_ms: s.next_elapse_ms,
            listen: s.listen,
            path: s.path,
            connections: s.connections,
            ..UnitInfo::default()
        }
    }
}

impl Answer {
    /// The system and its units, or the answer as a [`Response`] when it is not an overview
    /// (an error; any other kind is said by its name).
    pub fn overview(self) -> Result<(SystemInfo, Vec<UnitInfo>), Response> {
        match (self.kind.as_str(), self.system) {
            ("overview", Some(system)) => Ok((
                *system,
                self.units.into_iter().map(UnitInfo::from).collect(),
            )),
            ("error", _) => Err(Response::Error {
                message: self.message,
                exit: self.exit,
            }),
            (kind, _) => Err(Response::Error {
                message: format!("unexpected answer from bosun: a {kind:?} answer"),
                exit: 1,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::initctl::status::{Style, overview};
    use crate::control::proto::{ExecStatus, UnitRow};

    #[test]
    fn the_text_is_the_same_as_from_the_whole_answer() {
        let full = UnitInfo {
            name: "a.socket".into(),
            description: "A".into(),
            load_state: "bad-setting".into(),
            load_error: Some("why".into()),
            fragment: Some("/etc/systemd/system/a.socket".into()),
            aliases: vec!["b.socket".into()],
            dropins: vec!["/x.conf".into()],
            active_state: "active".into(),
            sub_state: "listening".into(),
            result: "success".into(),
            main_pid: Some(7),
            control_pid: Some(8),
            since_ms: Some(1_000),
            restarts: 3,
            status_text: Some("up".into()),
            service_type: "simple".into(),
            job: Some("stop".into()),
            tracking: Some("session".into()),
            processes: vec![7, 8, 9],
            main_exit: Some(("exited".into(), 1)),
            exec_main_pid: Some(7),
            execs: vec![ExecStatus {
                name: "ExecStart".into(),
                argv: "/bin/true".into(),
                pid: 7,
                code: "exited".into(),
                status: 0,
            }],
            wants: vec!["w.service".into()],
            after: vec!["basic.target".into()],
            listen: vec![("Stream".into(), "/run/a.sock".into())],
            connections: Some((4, 1)),
            next_elapse_ms: Some(90_000),
            path: Some(PathInfo {
                paths: vec![("PathChanged".into(), "/etc/a".into())],
                ..PathInfo::default()
            }),
            triggers: vec![("a.service".into(), "inactive".into())],
            ..UnitInfo::default()
        };
        let inactive = UnitInfo {
            name: "z.service".into(),
            active_state: "inactive".into(),
            ..UnitInfo::default()
        };
        let system = SystemInfo {
            state: "degraded".into(),
            failed_units: vec!["f.service".into()],
            ..SystemInfo::default()
        };
        let answer = Response::Overview {
            system: Box::new(system.clone()),
            units: vec![full.clone(), inactive.clone()],
        };
        let line = serde_json::to_string(&answer).unwrap();
        let (read, units) = serde_json::from_str::<Answer>(&line)
            .unwrap()
            .overview()
            .unwrap();
        assert_eq!(read, system);
        let style = Style {
            color: true,
            glyphs: true,
            utf8: true,
        };
        let whole = [full.clone(), inactive.clone()];
        // The text of `units` (with `system` read back as `shown`) is the whole answer's.
        let same_text = |shown: &SystemInfo, units: &[UnitInfo]| {
            for all in [false, true] {
                assert_eq!(
                    overview(shown, units, all, 100_000, style),
                    overview(&system, &whole, all, 100_000, style)
                );
            }
        };
        same_text(&read, &units);
        // The summary's rows (what a bosun that knows the `summary` call answers), read back
        // from their line, show the same.
        let summary = Response::Summary {
            system: Box::new(system.clone()),
            units: vec![UnitRow::from(full.clone()), UnitRow::from(inactive.clone())],
        };
        let line = serde_json::to_string(&summary).unwrap();
        let Ok(Response::Summary { units: rows, .. }) = serde_json::from_str::<Response>(&line)
        else {
            panic!("{line}")
        };
        let rows: Vec<UnitInfo> = rows.into_iter().map(UnitInfo::from).collect();
        same_text(&system, &rows);
        // Negative control: a field left out changes the text.
        let mut short = units.clone();
        short[0].listen.clear();
        assert_ne!(
            overview(&read, &short, false, 100_000, style),
            overview(&read, &units, false, 100_000, style)
        );
    }

    #[test]
    fn an_error_or_another_answer_is_not_an_overview() {
        let read = |r: &Response| {
            let line = serde_json::to_string(r).unwrap();
            serde_json::from_str::<Answer>(&line).unwrap().overview()
        };
        let denied = Response::Error {
            message: "Access denied".into(),
            exit: 4,
        };
        assert_eq!(read(&denied).unwrap_err(), denied);
        let other = read(&Response::Done).unwrap_err();
        assert!(
            matches!(&other, Response::Error { message, exit: 1 } if message.contains("\"done\"")),
            "{other:?}"
        );
    }
}
