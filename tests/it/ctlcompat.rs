//! The control protocol across versions: a client newer than the running PID 1 still gets its
//! answer when it asks a call that PID 1 does not know (issue 22: `systemctl is-active` asks
//! for states only and falls back to the unit snapshots an older bosun answers). The older
//! bosun is played by a socket that answers as today's server answers an unknown call.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Command, Output};

use crate::harness::{Scratch, bosun};

/// What a bosun without the `states` call answers it (server::respond(): "bad request: " and
/// serde's error for an unknown variant).
const UNKNOWN_STATES: &str = r#"{"kind":"error","message":"bad request: unknown variant `states`, expected one of `units`, `job`, `kill`, `reset-failed`, `reload`, `system`, `overview`, `logs`, `exit`, `environment` at line 1 column 46","exit":1}"#;

/// A `units` answer: web.service active, known also as www.service.
const UNITS: &str = r#"{"kind":"units","units":[{"name":"web.service","description":"web","load_state":"loaded","load_error":null,"fragment":null,"aliases":["www.service"],"dropins":[],"active_state":"active","sub_state":"running","result":"success","main_pid":5,"control_pid":null,"since_ms":1,"restarts":0,"status_text":null,"service_type":"simple","job":null,"tracking":null,"processes":[],"main_exit":null,"wants":[],"requires":[],"after":[],"before":[]}]}"#;

/// Serve the socket under `root` on a thread: each call's line is recorded, and answered by
/// `answer` (None: hang up, as systemctl's "is bosun running" connection expects).
fn serve(root: &Path, answer: fn(&str) -> &'static str) -> std::thread::JoinHandle<Vec<String>> {
    let socket = root.join("run/bosun/control.sock");
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    let listener = UnixListener::bind(&socket).unwrap();
    std::thread::spawn(move || {
        let mut calls = Vec::new();
        // The check that bosun runs, then at most two calls.
        for _ in 0..3 {
            let Ok((stream, _)) = listener.accept() else {
                break;
            };
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                continue;
            }
            let mut stream = stream;
            let reply = answer(&line);
            stream.write_all(format!("{reply}\n").as_bytes()).unwrap();
            calls.push(line.trim_end().to_owned());
            if reply.contains(r#""kind":"units""#) || !reply.contains("unknown variant") {
                break;
            }
        }
        calls
    })
}

fn systemctl(root: &Path, args: &[&str]) -> Output {
    Command::new(bosun())
        .arg("systemctl")
        .args(args)
        .env("BOSUN_ROOT", root)
        .env_remove("BOSUN_CONTROL_SOCKET")
        .output()
        .unwrap()
}

fn op(call: &str) -> String {
    let call: serde_json::Value = serde_json::from_str(call).unwrap();
    call["request"]["op"].as_str().unwrap().to_owned()
}

#[test]
fn r22_is_active_against_a_bosun_without_the_states_call() {
    let scratch = Scratch::new("ctlcompat-old");
    let server = serve(scratch.path(), |line| {
        if line.contains(r#""op":"states""#) {
            UNKNOWN_STATES
        } else {
            UNITS
        }
    });
    let out = systemctl(scratch.path(), &["is-active", "www.service", "db.service"]);
    let calls = server.join().unwrap();
    let ops: Vec<String> = calls.iter().map(|c| op(c)).collect();
    assert_eq!(ops, ["states", "units"], "{calls:?}");
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).as_ref()
        ),
        (Some(0), "active\ninactive\n"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn r22_a_refused_states_call_is_not_asked_again() {
    // Negative control: a refusal that is not "unknown call" is said, and no units call
    // follows.
    let scratch = Scratch::new("ctlcompat-refused");
    let server = serve(
        scratch.path(),
        |_| r#"{"kind":"error","message":"Unit name a/b is not valid.","exit":1}"#,
    );
    let out = systemctl(scratch.path(), &["is-failed", "web.service"]);
    let calls = server.join().unwrap();
    assert_eq!(calls.iter().map(|c| op(c)).collect::<Vec<_>>(), ["states"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Failed to retrieve unit state: Unit name a/b is not valid.\n"
    );
}
