//! The control protocol, version [`VERSION`]: a [`Call`] line from the client, a [`Response`]
//! line back. Adding a field is compatible; changing one bumps the version, and a server
//! answers a call of another version with an error that names both. Adding a call is
//! compatible too: a bosun before it refuses it as an unknown variant, which the client
//! recognises ([`crate::control::client::unknown_op`]) and then asks the older way.

mod decode;

use serde::{Deserialize, Serialize};

/// A unit's sandbox assessment travels as the service layer makes it.
pub use crate::service::security::{Assessment, Check};

/// The protocol version this build speaks.
pub const VERSION: u32 = 1;

/// One line from the client.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Call {
    pub version: u32,
    pub request: Request,
}

/// What a client asks.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Request {
    /// The units named (loading them if needed), or, when `names` is empty, the loaded units
    /// systemd would still hold: those not inactive, with a job, or referred to by such a unit
    /// (the ones only asked about are left out, as systemd's garbage collection drops them).
    Units {
        names: Vec<String>,
        /// Also each unit's sandbox ([`UnitInfo::sandbox`]): `systemctl show`, `initctl
        /// status UNIT`, `bosun verify --security`.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        sandbox: bool,
        /// Also each unit's last `journal` log lines ([`UnitInfo::journal`]): `systemctl
        /// status` asks once where it asked once per unit more. A bosun before this field
        /// answers none; the client then asks [`Request::Logs`].
        #[serde(default, skip_serializing_if = "is_zero")]
        journal: usize,
    },
    /// Each unit's active state, in the order named (loading them if needed), as
    /// [`Response::States`]: `is-active` and `is-failed`, which need no more than that (a
    /// [`Request::Units`] answer reads every process of the container first). A bosun before
    /// this call refuses it as an unknown variant ([`crate::control::client::unknown_op`]);
    /// the client then asks [`Request::Units`].
    States { names: Vec<String> },
    /// Queue a job on each unit; with `wait`, answer once every job has finished.
    Job {
        verb: JobVerb,
        units: Vec<String>,
        wait: bool,
        /// `--job-mode=ignore-dependencies`: the units' own jobs only.
        #[serde(default)]
        ignore_dependencies: bool,
    },
    /// Send `signal` to the unit's main process, or to all of its processes.
    Kill {
        units: Vec<String>,
        signal: i32,
        whom: KillWhom,
    },
    /// Forget that these units failed (all failed units when empty).
    ResetFailed { units: Vec<String> },
    /// Load unit files that appeared since boot (daemon-reload).
    Reload,
    /// The system's state, for `is-system-running` and `initctl status`.
    System,
    /// The system's state and every unit kept, in one answer (`initctl status --json`).
    Overview,
    /// The system's state and, of every unit kept, what `initctl status`'s table shows
    /// ([`UnitRow`], as [`Response::Summary`]): no dependencies, commands or processes, so PID
    /// 1 looks at no process and the answer is a fifth of an overview's. A bosun before this
    /// call refuses it as an unknown variant; the client then asks [`Request::Overview`].
    Summary,
    /// The last `lines` log lines (of one unit, or all), after sequence number `after`.
    Logs {
        unit: Option<String>,
        lines: usize,
        after: u64,
        /// With `after` 0: the last `lines` before this sequence number (0: the newest), so a
        /// client pages back through what one answer cannot hold.
        #[serde(default)]
        before: u64,
        /// journalctl's matches, applied by PID 1 before the answer's caps (a bosun before
        /// them reads none: every line).
        #[serde(default)]
        filter: LogFilter,
    },
    /// Shut down and exit with `code` (`systemctl exit N`, poweroff, halt, reboot).
    Exit { code: u8 },
    /// The manager's environment, after setting and unsetting variables.
    Environment {
        set: Vec<String>,
        unset: Vec<String>,
    },
}

impl Request {
    /// [`Request::Units`] without the sandbox.
    pub fn units(names: Vec<String>) -> Request {
        Request::Units {
            names,
            sandbox: false,
            journal: 0,
        }
    }
}

/// Which lines a `logs` call wants (journalctl's `-u`, `-t`, `-p`, `--since`, `--until`);
/// every condition given must hold, an empty one selects everything.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogFilter {
    /// Unit names or glob patterns; a line matches when its unit matches one. When all are
    /// patterns and the journal holds no unit they match, the call is refused as journalctl
    /// refuses it ("Failed to add filter for units: No data available").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<String>,
    /// SYSLOG_IDENTIFIER values, exact.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<String>,
    /// Bit N set: priority N (0 emerg .. 7 debug) is wanted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priorities: Option<u8>,
    /// Lines at or after this time, in milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_ms: Option<u64>,
    /// Lines at or before this time, in milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<u64>,
}

impl LogFilter {
    /// The journal's filter for these matches: the one PID 1 applies to its rings and
    /// `journalctl` to the persistent journal's lines.
    pub fn to_filter(&self) -> crate::journal::ring::Filter {
        let time = |ms: u64| std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
        crate::journal::ring::Filter {
            units: self.units.clone(),
            identifiers: self.identifiers.clone(),
            priorities: self.priorities,
            since: self.since_ms.map(time),
            until: self.until_ms.map(time),
        }
    }
}

/// The job verbs of systemctl.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum JobVerb {
    Start,
    Stop,
    Restart,
    TryRestart,
    Reload,
    ReloadOrRestart,
    ReloadOrTryRestart,
}

/// `--kill-whom=`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum KillWhom {
    Main,
    Control,
    All,
}

/// PID 1's answer. Read by `proto/decode.rs` (the same encoding, without serde's buffering of an
/// internally tagged enum).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Response {
    Units {
        units: Vec<UnitInfo>,
    },
    Jobs {
        jobs: Vec<JobOutcome>,
    },
    /// One active state (`active`, `inactive`, `failed`, ...) per name of [`Request::States`],
    /// in its order; `inactive` for a unit bosun does not know.
    States {
        states: Vec<String>,
    },
    System {
        /// Boxed: it is by far the largest answer.
        system: Box<SystemInfo>,
    },
    Overview {
        system: Box<SystemInfo>,
        units: Vec<UnitInfo>,
    },
    Summary {
        system: Box<SystemInfo>,
        units: Vec<UnitRow>,
    },
    Logs {
        lines: Vec<LogLine>,
        last: u64,
        /// Lines were left out of this answer to keep it within bosun's answer size: the
        /// oldest when asked for the last lines; the newest when following (`last` is then the
        /// last line sent, and the follower asks again).
        #[serde(default)]
        cut: bool,
    },
    Environment {
        variables: Vec<String>,
    },
    Done,
    /// The call was refused or failed as a whole; `exit` is systemctl's exit code for it
    /// (4 for "Access denied").
    Error {
        message: String,
        exit: u8,
    },
}

/// A command of a service that ran and ended (systemd's ExecStatusInfo), for `status`'s
/// `Process:` lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecStatus {
    /// `ExecStartPre`, `ExecStart`, ...
    pub name: String,
    /// Its argument vector, joined by spaces.
    pub argv: String,
    pub pid: i32,
    /// `exited` with the code, or `killed` with the signal, as [`UnitInfo::main_exit`].
    pub code: String,
    pub status: i32,
}

/// A unit's sandbox, when asked for: its properties as `systemctl show` prints them, and
/// what of it is in force in this container.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Sandbox {
    pub properties: Vec<(String, String)>,
    pub assessment: Assessment,
}

/// Of one unit, what `initctl status`'s table shows ([`Request::Summary`]); what is empty, none
/// or zero is left out of the line.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct UnitRow {
    pub name: String,
    pub description: String,
    pub load_state: String,
    pub active_state: String,
    pub sub_state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main_pid: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub restarts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_elapse_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listen: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<(u32, u32)>,
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_zero<N: Copy + Default + PartialEq>(n: &N) -> bool {
    *n == N::default()
}

impl From<UnitInfo> for UnitRow {
    /// What the table shows of `u` (moved: PID 1 builds 500 of these for one answer).
    fn from(u: UnitInfo) -> UnitRow {
        UnitRow {
            name: u.name,
            description: u.description,
            load_state: u.load_state,
            active_state: u.active_state,
            sub_state: u.sub_state,
            main_pid: u.main_pid,
            since_ms: u.since_ms,
            restarts: u.restarts,
            job: u.job,
            next_elapse_ms: u.next_elapse_ms,
            listen: u.listen,
            path: u.path,
            connections: u.connections,
        }
    }
}

impl From<UnitRow> for UnitInfo {
    /// The row's fields; the others are the defaults, as an overview without them.
    fn from(r: UnitRow) -> UnitInfo {
        UnitInfo {
            name: r.name,
            description: r.description,
            load_state: r.load_state,
            active_state: r.active_state,
            sub_state: r.sub_state,
            main_pid: r.main_pid,
            since_ms: r.since_ms,
            restarts: r.restarts,
            job: r.job,
            next_elapse_ms: r.next_elapse_ms,
            listen: r.listen,
            path: r.path,
            connections: r.connections,
            ..UnitInfo::default()
        }
    }
}

/// One unit as `systemctl status/show/list-units` and `initctl status` show it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct UnitInfo {
    pub name: String,
    pub description: String,
    /// `loaded`, `not-found`, `masked`, `bad-setting`, `error`.
    pub load_state: String,
    /// Why it could not be loaded or run, when it cannot.
    pub load_error: Option<String>,
    pub fragment: Option<String>,
    /// SourcePath=.
    #[serde(default)]
    pub source_path: Option<String>,
    /// The aliases it was asked for or loaded through (`Names=` besides `name`).
    #[serde(default)]
    pub aliases: Vec<String>,
    pub dropins: Vec<String>,
    /// `active`, `inactive`, `failed`, `activating`, `deactivating`, `reloading`.
    pub active_state: String,
    /// systemd's sub-state (`running`, `exited`, `dead`, `auto-restart`, ...).
    pub sub_state: String,
    /// `success`, `exit-code`, `signal`, `timeout`, ...
    pub result: String,
    pub main_pid: Option<i32>,
    pub control_pid: Option<i32>,
    /// Milliseconds since the Unix epoch of the last change of active state.
    pub since_ms: Option<u64>,
    pub restarts: u32,
    pub status_text: Option<String>,
    /// `Type=` of a service; empty for other units.
    pub service_type: String,
    /// A job is queued or running: `start`, `stop`.
    pub job: Option<String>,
    /// How its processes are tracked: `cgroup` or `session`.
    pub tracking: Option<String>,
    /// Its live processes (main and control included).
    pub processes: Vec<i32>,
    /// The last main-process exit: `exited` with a code, or `killed` with a signal.
    pub main_exit: Option<(String, i32)>,
    /// The last main process (ExecMainPID), alive or not.
    #[serde(default)]
    pub exec_main_pid: Option<i32>,
    /// The commands of this run that have ended, in systemd's order (ExecCondition= first).
    #[serde(default)]
    pub execs: Vec<ExecStatus>,
    pub wants: Vec<String>,
    pub requires: Vec<String>,
    pub after: Vec<String>,
    pub before: Vec<String>,
    #[serde(default)]
    pub requisite: Vec<String>,
    #[serde(default)]
    pub binds_to: Vec<String>,
    /// A socket's `Listen*=` lines as (type, address): `("Stream", "/run/foo.sock")`.
    #[serde(default)]
    pub listen: Vec<(String, String)>,
    /// An Accept=yes socket's connections: (accepted since start, live now).
    #[serde(default)]
    pub connections: Option<(u32, u32)>,
    /// A timer's next elapse (ms since the Unix epoch), while it waits.
    #[serde(default)]
    pub next_elapse_ms: Option<u64>,
    /// A timer's last trigger (ms since the Unix epoch), a Persistent= stamp's included.
    #[serde(default)]
    pub last_trigger_ms: Option<u64>,
    /// The units it triggers (a timer's Unit=, a socket's service or template), each with its
    /// active state.
    #[serde(default)]
    pub triggers: Vec<(String, String)>,
    /// The units that trigger it (timers, sockets, paths), each with its active state.
    #[serde(default)]
    pub triggered_by: Vec<(String, String)>,
    /// A mount unit's line of the mount table, while mounted.
    #[serde(default)]
    pub mount: Option<MountFacts>,
    /// A path unit's settings.
    #[serde(default)]
    pub path: Option<PathInfo>,
    /// A service's or socket's sandbox, when the call asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<Sandbox>,
    /// Its last log lines, oldest first, when the call asked for them ([`Request::Units`]'s
    /// `journal`); `None` when they were not answered (a bosun before that field, or lines
    /// that would not fit in the answer): the client then asks for them on their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<Vec<LogLine>>,
}

/// A mount as systemd's mount unit properties name it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct MountFacts {
    /// `Where=`: the mount point.
    #[serde(rename = "where")]
    pub path: String,
    /// `What=`: the source.
    pub what: String,
    /// `Type=`: the file system type.
    pub fstype: String,
    /// `Options=`.
    pub options: String,
    /// Where the facts come from (`/proc/self/mountinfo`), systemd's SourcePath= of a mount
    /// unit without a file.
    pub source: String,
}

/// What a path unit watches and how, as core/dbus-path.c publishes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathInfo {
    /// (condition, path) per line: `("PathChanged", "/etc/nut/ups.conf")`.
    pub paths: Vec<(String, String)>,
    pub make_directory: bool,
    pub directory_mode: u32,
    /// TriggerLimitIntervalSec= in microseconds (u64::MAX: infinity).
    pub trigger_limit_interval_usec: u64,
    pub trigger_limit_burst: u32,
}

/// How a job ended, per unit (also the answer to kill and reset-failed: `done` or `refused`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JobOutcome {
    pub unit: String,
    /// `done`, `failed`, `dependency`, `skipped`, `canceled`, `invalid` (a reload of a unit
    /// that is not active), `queued` (not waited for), or `refused` (see `message`).
    pub result: String,
    /// The unit's result (`exit-code`, `timeout`, ...) when it failed.
    pub unit_result: String,
    pub message: Option<String>,
    /// systemctl's exit code for a refusal (5: no such unit).
    pub exit: u8,
    /// The D-Bus error systemd names a refusal with (`org.freedesktop.systemd1.NoSuchUnit`,
    /// ...): systemctl says "See system logs" after all but a few of them.
    #[serde(default)]
    pub error: Option<String>,
}

/// The system as a whole.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SystemInfo {
    /// `starting`, `running`, `degraded`, `stopping` (systemd's is-system-running words).
    pub state: String,
    /// bosun's boot phase, in words.
    pub phase: String,
    pub version: String,
    /// Milliseconds since the Unix epoch when PID 1 started.
    pub started_ms: u64,
    /// This PID 1's boot ID, new at each start (journald's `_BOOT_ID` of its lines: a
    /// container restarted on the same kernel is another boot); None from a bosun before it.
    #[serde(default)]
    pub boot_id: Option<String>,
    pub failed_units: Vec<String>,
    /// The failed units that make bosun not ready under its `ready.failed` setting
    /// (BOSUN_READY_FAILED); None from a bosun that does not say (then every failed unit does).
    #[serde(default)]
    pub unready_units: Option<Vec<String>>,
    /// That setting's word (`any`, `boot`, `none`).
    #[serde(default)]
    pub ready_failed: Option<String>,
    pub jobs: usize,
    pub tracking: String,
    pub build_id: Option<String>,
    /// The data volume's directory, when bosun manages one.
    pub volume: Option<String>,
    /// The hook running now, as `PHASE.d/NAME` (`first-boot.d/10-install`).
    #[serde(default)]
    pub hook: Option<String>,
    /// The volume's life-cycle phase from its state file: `ready`, `seeded`, `first-boot-hooks`,
    /// `upgraded`, `upgrade-hooks`.
    #[serde(default)]
    pub volume_phase: Option<String>,
    /// What this boot did to the volume: `first-boot` (seeded or adopted) or `upgrade`.
    #[serde(default)]
    pub life_cycle: Option<String>,
    /// The build the volume held before this boot (None on the first boot).
    #[serde(default)]
    pub previous_build_id: Option<String>,
    /// This boot's upgrade merge report, one line per note (the `.bosun-new` files apart).
    #[serde(default)]
    pub upgrade_report: Vec<String>,
    /// Files the upgrade wrote beside the user's changed version as `FILE.bosun-new` that are
    /// still there (absolute paths, the `.bosun-new` name).
    #[serde(default)]
    pub bosun_new_files: Vec<String>,
}

/// One line of the journal: the shape the persistent journal's files hold too, defined once
/// in [`crate::journal::record`].
pub use crate::journal::record::{LogLine, SyslogFields};

/// `value` as one line of JSON, without its newline: what both ends send.
pub fn to_line<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    to_line_in(Vec::with_capacity(256), value)
}

/// [`to_line`], written into `buffer` (emptied first: its capacity is what it brings).
pub fn to_line_in<T: Serialize + ?Sized>(
    mut buffer: Vec<u8>,
    value: &T,
) -> serde_json::Result<Vec<u8>> {
    buffer.clear();
    let mut out = LineWriter(buffer);
    serde_json::to_writer(&mut out, value)?;
    Ok(out.0)
}

/// A `Vec<u8>` that takes the serializer's many short writes (quotes, colons, commas: most of
/// its writes are 1 to 3 bytes) byte by byte instead of calling memcpy for each: musl's
/// memcpy costs tens of cycles however short the copy, and those calls were a fifth of PID
/// 1's time answering `initctl status`.
struct LineWriter(Vec<u8>);

impl std::io::Write for LineWriter {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if buf.len() <= 8 {
            for &b in buf {
                self.0.push(b);
            }
        } else {
            self.0.extend_from_slice(buf);
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The D-Bus error names systemd gives its refusals (src/libsystemd/sd-bus/bus-common-errors.h):
/// what systemctl's wording and exit codes depend on.
pub mod bus_error {
    pub const NO_SUCH_UNIT: &str = "org.freedesktop.systemd1.NoSuchUnit";
    pub const UNIT_MASKED: &str = "org.freedesktop.systemd1.UnitMasked";
    pub const BAD_UNIT_SETTING: &str = "org.freedesktop.systemd1.BadUnitSetting";
    pub const JOB_TYPE_NOT_APPLICABLE: &str = "org.freedesktop.systemd1.JobTypeNotApplicable";
    pub const INVALID_ARGS: &str = "org.freedesktop.DBus.Error.InvalidArgs";
    pub const ACCESS_DENIED: &str = "org.freedesktop.DBus.Error.AccessDenied";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_and_responses_survive_a_round_trip_as_one_line() {
        let call = Call {
            version: VERSION,
            request: Request::Job {
                verb: JobVerb::TryRestart,
                units: vec!["nginx.service".into()],
                wait: true,
                ignore_dependencies: false,
            },
        };
        let line = serde_json::to_string(&call).unwrap();
        assert!(!line.contains('\n'));
        assert!(line.contains(r#""op":"job""#) && line.contains(r#""verb":"try-restart""#));
        assert_eq!(serde_json::from_str::<Call>(&line).unwrap(), call);
        let r = Response::Error {
            message: "Access denied".into(),
            exit: 4,
        };
        let line = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<Response>(&line).unwrap(), r);
    }

    #[test]
    fn logs_calls_and_lines_of_an_older_client_or_bosun_still_read() {
        // A client before journalctl's matches: every line.
        let old =
            r#"{"version":1,"request":{"op":"logs","unit":"web.service","lines":5,"after":0}}"#;
        let call: Call = serde_json::from_str(old).unwrap();
        let Request::Logs { filter, before, .. } = call.request else {
            panic!("not a logs call");
        };
        assert_eq!((filter, before), (LogFilter::default(), 0));
        // A line from a bosun before `transport`: its transport follows from what it carries.
        let line = r#"{"seq":1,"unit":"web.service","pid":2,"ms":3,"stderr":true,"text":"x"}"#;
        let line: LogLine = serde_json::from_str(line).unwrap();
        assert_eq!((line.transport(), line.priority()), ("stdout", 6));
        assert_eq!(line.identifier(), "web");
        // An empty filter is not sent at all.
        let call = Request::Logs {
            unit: None,
            lines: 1,
            after: 0,
            before: 0,
            filter: LogFilter::default(),
        };
        assert!(
            serde_json::to_string(&call)
                .unwrap()
                .contains(r#""filter":{}"#)
        );
    }

    #[test]
    fn system_info_of_an_older_bosun_still_reads() {
        // What a bosun before initctl's fields sent: the new ones take their defaults.
        let old = r#"{"kind":"system","system":{"state":"running","phase":"running",
            "version":"0.1.0","started_ms":5,"failed_units":[],"jobs":0,"tracking":"session",
            "build_id":null,"volume":"/data"}}"#;
        let Response::System { system } = serde_json::from_str(old).unwrap() else {
            panic!("not a system answer");
        };
        assert_eq!(system.volume.as_deref(), Some("/data"));
        assert!(system.bosun_new_files.is_empty() && system.hook.is_none());
    }

    #[test]
    fn lines_are_written_as_serde_json_writes_them() {
        let unit = UnitInfo {
            name: "web.service".into(),
            description: "quotes \" and \\ and \u{1b} and é, and a long one: ".repeat(9),
            processes: vec![1, 22, 333],
            journal: Some(vec![]),
            ..UnitInfo::default()
        };
        let answers = [
            Response::Units { units: vec![unit] },
            Response::Done,
            Response::Error {
                message: String::new(),
                exit: 4,
            },
        ];
        for answer in &answers {
            assert_eq!(
                to_line(answer).unwrap(),
                serde_json::to_vec(answer).unwrap()
            );
        }
        let call = Call {
            version: VERSION,
            request: Request::units(vec!["a".into()]),
        };
        // A units call without lines says nothing of them: what a bosun before them reads.
        let line = String::from_utf8(to_line(&call).unwrap()).unwrap();
        assert_eq!(
            line,
            r#"{"version":1,"request":{"op":"units","names":["a"]}}"#
        );
    }
}
