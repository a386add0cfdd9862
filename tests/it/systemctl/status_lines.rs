//! `systemctl status UNIT` takes the unit's last log lines from the unit's own answer, and asks
//! for them on their own when the bosun it talks to predates that (a fake bosun on the control
//! socket, answering as either would).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::sync::{Arc, Mutex};

use bosun::control::proto::{LogLine, Response, UnitInfo};

use crate::harness::Scratch;

/// A bosun on `root`'s control socket that answers every `units` call with web.service
/// (its lines included when `sends_lines`) and every `logs` call with one line, and records
/// each call's `op` (its thread ends with the test's process).
struct FakeBosun {
    ops: Arc<Mutex<Vec<String>>>,
}

fn line(text: &str) -> LogLine {
    let json = format!(
        r#"{{"seq":1,"unit":"web.service","pid":2,"ms":3,"stderr":false,"text":"{text}"}}"#
    );
    serde_json::from_str(&json).unwrap()
}

impl FakeBosun {
    fn start(root: &std::path::Path, sends_lines: bool) -> FakeBosun {
        let socket = root.join("run/bosun/control.sock");
        std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
        let listener = UnixListener::bind(&socket).unwrap();
        let ops = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&ops);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut request = String::new();
                if BufReader::new(&stream).read_line(&mut request).unwrap_or(0) == 0 {
                    continue; // the connection that only tells bosun runs
                }
                let call: serde_json::Value = serde_json::from_str(&request).unwrap();
                let op = call["request"]["op"].as_str().unwrap_or("").to_owned();
                let asked_lines = call["request"]["journal"].as_u64().unwrap_or(0);
                seen.lock().unwrap().push(op.clone());
                let answer = match op.as_str() {
                    "units" => Response::Units {
                        units: vec![UnitInfo {
                            name: "web.service".into(),
                            description: "Web".into(),
                            load_state: "loaded".into(),
                            active_state: "active".into(),
                            sub_state: "running".into(),
                            result: "success".into(),
                            journal: (sends_lines && asked_lines > 0)
                                .then(|| vec![line("from the unit's answer")]),
                            ..UnitInfo::default()
                        }],
                    },
                    "logs" => Response::Logs {
                        lines: vec![line("from a logs call")],
                        last: 1,
                        cut: false,
                    },
                    _ => Response::Error {
                        message: format!("bad request: unknown variant `{op}`"),
                        exit: 1,
                    },
                };
                let mut bytes = serde_json::to_vec(&answer).unwrap();
                bytes.push(b'\n');
                let _ = stream.write_all(&bytes);
            }
        });
        FakeBosun { ops }
    }

    fn ops(&self) -> Vec<String> {
        self.ops.lock().unwrap().clone()
    }
}

fn status(root: &std::path::Path) -> String {
    let out = std::process::Command::new(crate::harness::bosun())
        .args(["systemctl", "status", "web.service"])
        .env("BOSUN_ROOT", root)
        .env_remove("BOSUN_UNIT_PATH")
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn status_shows_the_lines_that_came_with_the_unit_in_one_call() {
    let scratch = Scratch::new("status-lines-new");
    let bosun = FakeBosun::start(scratch.path(), true);
    let shown = status(scratch.path());
    assert!(
        shown.contains("web[2]: from the unit's answer\n"),
        "{shown}"
    );
    assert!(!shown.contains("from a logs call"), "{shown}");
    assert_eq!(bosun.ops(), ["units"]);
}

#[test]
fn status_asks_an_older_bosun_for_the_lines_on_their_own() {
    let scratch = Scratch::new("status-lines-old");
    let bosun = FakeBosun::start(scratch.path(), false);
    let shown = status(scratch.path());
    assert!(shown.contains("web[2]: from a logs call\n"), "{shown}");
    assert_eq!(bosun.ops(), ["units", "logs"]);
}
