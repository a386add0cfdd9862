//! Reading a [`Response`] line without serde's buffering. Derived, an internally tagged enum
//! (`#[serde(tag = "kind")]`) is read into serde's generic `Content` tree first (every string
//! and number copied once), and the variant then from that tree: for `initctl status` that was
//! two thirds of the client's instructions. The encoding is the derived one, unchanged: the
//! tag comes first (serde writes it first, every bosun did), so the variant's fields are read
//! straight from the line after it. A line with the tag elsewhere (not written by bosun) is
//! still read, the slow way. Each variant's fields are a private body struct here; the
//! conversions name every field, so a field added to [`Response`] and not here does not build.

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::{JobOutcome, LogLine, Response, SystemInfo, UnitInfo, UnitRow};

/// The tag's key, and its values (serde's error for an unknown one lists them).
const TAG: &str = "kind";
const KINDS: &[&str] = &[
    "units",
    "jobs",
    "states",
    "system",
    "overview",
    "summary",
    "logs",
    "environment",
    "done",
    "error",
];

#[derive(serde::Deserialize)]
struct UnitsBody {
    units: Vec<UnitInfo>,
}

#[derive(serde::Deserialize)]
struct JobsBody {
    jobs: Vec<JobOutcome>,
}

#[derive(serde::Deserialize)]
struct StatesBody {
    states: Vec<String>,
}

#[derive(serde::Deserialize)]
struct SystemBody {
    system: Box<SystemInfo>,
}

#[derive(serde::Deserialize)]
struct OverviewBody {
    system: Box<SystemInfo>,
    units: Vec<UnitInfo>,
}

#[derive(serde::Deserialize)]
struct SummaryBody {
    system: Box<SystemInfo>,
    units: Vec<UnitRow>,
}

#[derive(serde::Deserialize)]
struct LogsBody {
    lines: Vec<LogLine>,
    last: u64,
    #[serde(default)]
    cut: bool,
}

#[derive(serde::Deserialize)]
struct EnvironmentBody {
    variables: Vec<String>,
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    message: String,
    exit: u8,
}

/// The variant `kind` names, its fields read from `rest` (the object's other entries).
fn body<'de, D: Deserializer<'de>>(kind: &str, rest: D) -> Result<Response, D::Error> {
    Ok(match kind {
        "units" => {
            let UnitsBody { units } = UnitsBody::deserialize(rest)?;
            Response::Units { units }
        }
        "jobs" => {
            let JobsBody { jobs } = JobsBody::deserialize(rest)?;
            Response::Jobs { jobs }
        }
        "states" => {
            let StatesBody { states } = StatesBody::deserialize(rest)?;
            Response::States { states }
        }
        "system" => {
            let SystemBody { system } = SystemBody::deserialize(rest)?;
            Response::System { system }
        }
        "overview" => {
            let OverviewBody { system, units } = OverviewBody::deserialize(rest)?;
            Response::Overview { system, units }
        }
        "summary" => {
            let SummaryBody { system, units } = SummaryBody::deserialize(rest)?;
            Response::Summary { system, units }
        }
        "logs" => {
            let LogsBody { lines, last, cut } = LogsBody::deserialize(rest)?;
            Response::Logs { lines, last, cut }
        }
        "environment" => {
            let EnvironmentBody { variables } = EnvironmentBody::deserialize(rest)?;
            Response::Environment { variables }
        }
        "done" => {
            IgnoredAny::deserialize(rest)?;
            Response::Done
        }
        "error" => {
            let ErrorBody { message, exit } = ErrorBody::deserialize(rest)?;
            Response::Error { message, exit }
        }
        other => return Err(de::Error::unknown_variant(other, KINDS)),
    })
}

struct ResponseVisitor;

impl<'de> Visitor<'de> for ResponseVisitor {
    type Value = Response;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object with a \"kind\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Response, A::Error> {
        let first: Option<String> = map.next_key()?;
        if first.as_deref() == Some(TAG) {
            let kind: String = map.next_value()?;
            return body(&kind, MapAccessDeserializer::new(map));
        }
        // The tag elsewhere: gather the object, then read it as above.
        let mut object = serde_json::Map::new();
        if let Some(key) = first {
            object.insert(key, map.next_value()?);
        }
        while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
            object.insert(key, value);
        }
        let kind = match object.remove(TAG) {
            Some(serde_json::Value::String(kind)) => kind,
            Some(_) => return Err(de::Error::custom("\"kind\" is not a string")),
            None => return Err(de::Error::missing_field(TAG)),
        };
        body(&kind, serde_json::Value::Object(object)).map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Response {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ResponseVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each variant, every field set (a field the body structs lack would read back as
    /// its default, or not at all).
    fn every_kind() -> Vec<Response> {
        let unit = UnitInfo {
            name: "a.service".into(),
            active_state: "active".into(),
            processes: vec![7, 8],
            main_exit: Some(("exited".into(), 3)),
            ..UnitInfo::default()
        };
        let system = SystemInfo {
            state: "running".into(),
            failed_units: vec!["b.service".into()],
            ..SystemInfo::default()
        };
        let line = r#"{"seq":1,"unit":"web.service","pid":2,"ms":3,"stderr":true,"text":"x"}"#;
        let responses = vec![
            Response::Units {
                units: vec![unit.clone()],
            },
            Response::Jobs {
                jobs: vec![JobOutcome {
                    unit: "a.service".into(),
                    result: "refused".into(),
                    unit_result: "exit-code".into(),
                    message: Some("no".into()),
                    exit: 5,
                    error: Some("e".into()),
                }],
            },
            Response::States {
                states: vec!["active".into(), "failed".into()],
            },
            Response::System {
                system: Box::new(system.clone()),
            },
            Response::Overview {
                system: Box::new(system.clone()),
                units: vec![unit],
            },
            Response::Summary {
                system: Box::new(system),
                units: vec![
                    UnitRow {
                        name: "a.service".into(),
                        main_pid: Some(7),
                        restarts: 2,
                        listen: vec![("Stream".into(), "/run/a".into())],
                        ..UnitRow::default()
                    },
                    UnitRow::default(),
                ],
            },
            Response::Logs {
                lines: vec![serde_json::from_str(line).unwrap()],
                last: 9,
                cut: true,
            },
            Response::Environment {
                variables: vec!["A=1".into()],
            },
            Response::Done,
            Response::Error {
                message: "Access denied".into(),
                exit: 4,
            },
        ];
        // Every variant is here: a new one fails to build until it is added above and read.
        for r in &responses {
            match r {
                Response::Units { .. }
                | Response::Jobs { .. }
                | Response::States { .. }
                | Response::System { .. }
                | Response::Overview { .. }
                | Response::Summary { .. }
                | Response::Logs { .. }
                | Response::Environment { .. }
                | Response::Done
                | Response::Error { .. } => {}
            }
        }
        responses
    }

    #[test]
    fn every_answer_reads_back_as_written() {
        for r in every_kind() {
            let line = serde_json::to_string(&r).unwrap();
            assert!(line.starts_with(r#"{"kind":""#), "{line}");
            assert_eq!(
                serde_json::from_str::<Response>(&line).unwrap(),
                r,
                "{line}"
            );
        }
    }

    #[test]
    fn the_tag_elsewhere_unknown_fields_and_old_answers_still_read() {
        for r in every_kind() {
            let serde_json::Value::Object(mut object) = serde_json::to_value(&r).unwrap() else {
                panic!("not an object");
            };
            let kind = object.remove(TAG).unwrap();
            object.insert("a-later-field".into(), serde_json::json!([1, {"x": 2}]));
            object.insert(TAG.into(), kind);
            let line = serde_json::to_string(&object).unwrap();
            assert!(!line.starts_with(r#"{"kind""#), "{line}");
            assert_eq!(
                serde_json::from_str::<Response>(&line).unwrap(),
                r,
                "{line}"
            );
        }
        let fast = r#"{"kind":"done","later":{"a":[1]}}"#;
        assert_eq!(
            serde_json::from_str::<Response>(fast).unwrap(),
            Response::Done
        );
        // A bosun before `cut`.
        let old = r#"{"kind":"logs","lines":[],"last":4}"#;
        let Response::Logs { last, cut, .. } = serde_json::from_str(old).unwrap() else {
            panic!("not a logs answer");
        };
        assert_eq!((last, cut), (4, false));
    }

    #[test]
    fn bad_answers_are_refused_with_serdes_words() {
        let bad = |line: &str| {
            serde_json::from_str::<Response>(line)
                .unwrap_err()
                .to_string()
        };
        assert!(bad(r#"{"kind":"nope"}"#).contains("unknown variant `nope`"));
        assert!(bad(r#"{"units":[]}"#).contains("missing field `kind`"));
        assert!(bad(r#"{"kind":"units"}"#).contains("missing field `units`"));
        assert!(bad(r#"{"units":[],"kind":7}"#).contains("\"kind\" is not a string"));
        assert!(bad(r#"{"kind":"done"} x"#).contains("trailing characters"));
        assert!(bad("[1]").contains("expected an object"));
    }
}
