//! The rows of the verb table and the unit tree they run on, in order: each row sees the state
//! the rows before it left (the rows that change files, the environment and access follow, in
//! [`super::changes`]). Expectations come from systemd 252's source (the files named in
//! the comments are under src/systemctl/ unless said otherwise) or, for the file verbs, from
//! the machine's `systemctl --root` ([`Check::Real`]).
//!
//! Units: web (active at boot, enabled, reloadable, After=sidecar), sidecar (inactive, loaded
//! because web refers to it), idle (inactive, disabled), reloadable (inactive, ExecReload=),
//! broken (oneshot that fails), slow (Type=notify that never notifies: held in `activating`),
//! helper (static, no Description=), masked (masked in /etc over a file in /lib), vendor (in
//! /lib, for mask/unmask), tpl@ (template) and its instance tpl@x, netwait (wanted by a
//! target bosun has built in), app.target and sub.target
//! (for list-dependencies), pre (ExecStartPre= takes half a second), slowstop (ExecStop=
//! takes a second), nope (exists nowhere). web and idle start more than five times
//! within ten seconds here, which systemd's default start limit would refuse: they have none.

use super::{Check, Row};
use crate::systemctl::Entry;

fn file(path: &str, text: &str) -> Entry {
    Entry::File(path.to_owned(), text.to_owned())
}

fn link(path: &str, target: &str) -> Entry {
    Entry::Link(path.to_owned(), target.to_owned())
}

/// The unit tree bosun boots.
pub fn tree() -> Vec<Entry> {
    let etc = "etc/systemd/system";
    let lib = "lib/systemd/system";
    vec![
        file(
            &format!("{etc}/web.service"),
            "[Unit]\nDescription=Web Server\nAfter=sidecar.service\nStartLimitIntervalSec=0\n[Service]\nExecStart=/bin/sleep 3600\nExecReload=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
        ),
        link(
            &format!("{etc}/multi-user.target.wants/web.service"),
            "/etc/systemd/system/web.service",
        ),
        file(
            &format!("{etc}/sidecar.service"),
            "[Unit]\nDescription=Sidecar\n[Service]\nExecStart=/bin/sleep 3600\n",
        ),
        file(
            &format!("{etc}/idle.service"),
            "[Unit]\nDescription=Idle Thing\nStartLimitIntervalSec=0\n[Service]\nExecStart=/bin/sleep 3600\n[Install]\nWantedBy=multi-user.target\n",
        ),
        file(
            &format!("{etc}/reloadable.service"),
            "[Unit]\nDescription=Reloadable\n[Service]\nExecStart=/bin/sleep 3600\nExecReload=/bin/true\n",
        ),
        file(
            &format!("{etc}/broken.service"),
            "[Unit]\nDescription=Broken\n[Service]\nType=oneshot\nExecStart=/bin/false\n",
        ),
        file(
            &format!("{etc}/slow.service"),
            "[Unit]\nDescription=Slow Starter\n[Service]\nType=notify\nExecStart=/bin/sleep 3600\nTimeoutStartSec=infinity\n",
        ),
        file(
            &format!("{etc}/helper.service"),
            "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n",
        ),
        link(&format!("{etc}/masked.service"), "/dev/null"),
        file(
            &format!("{lib}/masked.service"),
            "[Service]\nExecStart=/bin/sleep 3600\n[Install]\nWantedBy=multi-user.target\n",
        ),
        file(
            &format!("{lib}/vendor.service"),
            "[Unit]\nDescription=Vendor Daemon\n[Service]\nExecStart=/bin/sleep 3600\n[Install]\nWantedBy=multi-user.target\n",
        ),
        file(
            &format!("{etc}/tpl@.service"),
            "[Unit]\nDescription=Template %i\n[Service]\nExecStart=/bin/sleep 3600\n[Install]\nWantedBy=multi-user.target\n",
        ),
        file(
            &format!("{etc}/pre.service"),
            "[Unit]\nDescription=Prepared\n[Service]\nExecStartPre=/bin/sleep 0.5\nExecStart=/bin/sleep 3600\n",
        ),
        file(
            &format!("{etc}/slowstop.service"),
            "[Unit]\nDescription=Slow Stopper\n[Service]\nExecStart=/bin/sleep 3600\nExecStop=/bin/sleep 1\n",
        ),
        file(
            &format!("{etc}/netwait.service"),
            "[Service]\nExecStart=/bin/sleep 3600\n[Install]\nWantedBy=network-online.target\n",
        ),
        file(
            &format!("{etc}/app.target"),
            "[Unit]\nDescription=App\nWants=web.service helper.service sub.target\n",
        ),
        file(
            &format!("{etc}/sub.target"),
            "[Unit]\nDescription=Sub\nWants=idle.service\n",
        ),
        file(
            &format!("{lib}/multi-user.target"),
            "[Unit]\nDescription=Multi-User System\n",
        ),
        link(
            &format!("{etc}/default.target"),
            "/lib/systemd/system/multi-user.target",
        ),
    ]
}

pub(super) fn is(line: &'static str, code: i32, out: &'static str, err: &'static str) -> Row {
    Row {
        line,
        check: Check::Is(code, out, err),
    }
}

pub(super) fn real(line: &'static str) -> Row {
    Row {
        line,
        check: Check::Real,
    }
}

pub(super) fn soon(line: &'static str, code: i32, out: &'static str) -> Row {
    Row {
        line,
        check: Check::Soon(code, out),
    }
}

pub(super) fn behind(line: &'static str) -> Row {
    Row {
        line,
        check: Check::Behind,
    }
}

pub(super) fn joined(code: i32, out: &'static str, err: &'static str) -> Row {
    Row {
        line: "",
        check: Check::Joined(code, out, err),
    }
}

pub(super) fn write(path: &'static str, text: &'static str) -> Row {
    Row {
        line: path,
        check: Check::Write(text),
    }
}

/// bus-wait-for-jobs.c, log_job_error_with_service_result(): a start job that failed.
const BROKEN_FAILED: &str = "Job for broken.service failed because the control process exited with error code.\nSee \"systemctl status broken.service\" and \"journalctl -xeu broken.service\" for details.\n";

pub fn rows() -> Vec<Row> {
    let mut rows = vec![
        // systemctl-is-active.c (v252): one state per unit, 0 when any is active or
        // reloading, else 3 (is-failed: 1); a unit that does not exist is "inactive".
        is("is-active web", 0, "active\n", ""),
        is("is-active idle", 3, "inactive\n", ""),
        is("is-active nope", 3, "inactive\n", ""),
        is(
            "is-active web idle nope",
            0,
            "active\ninactive\ninactive\n",
            "",
        ),
        is("is-active idle nope", 3, "inactive\ninactive\n", ""),
        is("check web", 0, "active\n", ""),
        is("is-active -q web", 0, "", ""),
        is("-q is-active idle", 3, "", ""),
        is("is-active masked", 3, "inactive\n", ""),
        is("is-active tpl@x", 3, "inactive\n", ""),
        is("is-failed web", 1, "active\n", ""),
        is("is-failed nope idle", 1, "inactive\ninactive\n", ""),
        // systemctl.c's verb table: is-active and is-failed take at least one unit in 252.
        is("is-failed", 1, "", "Too few arguments.\n"),
        is("is-active", 1, "", "Too few arguments.\n"),
        // systemctl-start-unit.c: start waits for the job; a failed job is reported by
        // bus-wait-for-jobs.c (not with -q) and gives 1.
        is("start broken", 1, "", BROKEN_FAILED),
        is("-q start broken", 1, "", ""),
        is("is-failed broken", 0, "failed\n", ""),
        is("is-active broken", 3, "failed\n", ""),
        is("is-failed web broken", 0, "active\nfailed\n", ""),
        // --no-block returns once queued; a Type=notify service that never notifies stays
        // activating, which FreeIPA polls with is-active (3 and "activating").
        is("start --no-block slow", 0, "", ""),
        is("is-active slow", 3, "activating\n", ""),
        is("is-failed slow", 1, "activating\n", ""),
        // Without --no-block, start returns once the unit is up: right after it, a unit with
        // a half-second ExecStartPre= is active, not activating.
        is("start pre", 0, "", ""),
        is("is-active pre", 0, "active\n", ""),
        is("stop pre", 0, "", ""),
        // Refusals: translate_bus_error_to_exit_status() gives 5 for NoSuchUnit; a masked
        // unit and a template without instance give 1 (core/dbus-unit.c
        // bus_unit_validate_load_state(), core/manager.c manager_load_unit_prepare()); "See
        // system logs" follows every refusal but NoSuchUnit, UnitMasked and
        // JobTypeNotApplicable (start_unit_one()).
        is(
            "start nope",
            5,
            "",
            "Failed to start nope.service: Unit nope.service not found.\n",
        ),
        is(
            "start masked",
            1,
            "",
            "Failed to start masked.service: Unit masked.service is masked.\n",
        ),
        is(
            "start tpl@",
            1,
            "",
            "Failed to start tpl@.service: Unit name tpl@.service is missing the instance name.\nSee system logs and 'systemctl status tpl@.service' for details.\n",
        ),
        is("start tpl@x", 0, "", ""),
        is("is-active tpl@x tpl@y", 0, "active\ninactive\n", ""),
        // A glob expands to loaded units (tpl@y, loaded only to answer the row before, is
        // collected by then); start warns about it (verb_start()).
        is(
            "start 'tpl@*'",
            0,
            "",
            "Warning: systemctl start called with a glob pattern.\nHint: unit globs expand to loaded units, so start will usually have no effect.\n      Passing --all will also load units which are pulled in by other units.\n      See systemctl(1) for more details.\n",
        ),
        is("-q start 'tpl@*'", 0, "", ""),
        // Several units: each is tried; the first error's code is the exit code.
        is(
            "start nope idle",
            5,
            "",
            "Failed to start nope.service: Unit nope.service not found.\n",
        ),
        is("is-active idle", 0, "active\n", ""),
        // A stop of a unit that is not loaded (core/dbus-unit.c bus_unit_queue_job()).
        is(
            "stop idle nope",
            5,
            "",
            "Failed to stop nope.service: Unit nope.service not loaded.\n",
        ),
        is("is-active idle", 3, "inactive\n", ""),
        is("stop idle", 0, "", ""),
        is("start idle web", 0, "", ""),
        is("is-active idle web", 0, "active\nactive\n", ""),
        is("stop idle", 0, "", ""),
        is("restart web", 0, "", ""),
        is("is-active web", 0, "active\n", ""),
        is("restart idle", 0, "", ""),
        is("is-active idle", 0, "active\n", ""),
        is("stop idle", 0, "", ""),
        is(
            "restart nope",
            5,
            "",
            "Failed to restart nope.service: Unit nope.service not found.\n",
        ),
        // try-restart of an inactive unit is a no-op job (core/job.c job_type_collapse()).
        is("try-restart idle", 0, "", ""),
        is("is-active idle", 3, "inactive\n", ""),
        is("try-restart web", 0, "", ""),
        is("condrestart web", 0, "", ""),
        is("is-active web", 0, "active\n", ""),
        is(
            "try-restart nope",
            5,
            "",
            "Failed to try-restart nope.service: Unit nope.service not found.\n",
        ),
        // condrestart is try-restart in the messages (unit_actions[]).
        is(
            "condrestart nope",
            5,
            "",
            "Failed to try-restart nope.service: Unit nope.service not found.\n",
        ),
        // A masked unit is ignored by try-restart (start_unit_one()).
        is("try-restart masked", 0, "", ""),
        // reload: not applicable without ExecReload= (core/transaction.c, exit 3 as
        // EXIT_NOTIMPLEMENTED); an inactive unit's reload job ends "invalid".
        is("reload web", 0, "", ""),
        is(
            "reload idle",
            3,
            "",
            "Failed to reload idle.service: Job type reload is not applicable for unit idle.service.\n",
        ),
        is(
            "reload reloadable",
            1,
            "",
            "reloadable.service is not active, cannot reload.\n",
        ),
        is(
            "reload nope",
            5,
            "",
            "Failed to reload nope.service: Unit nope.service not found.\n",
        ),
        is("reload-or-restart idle", 0, "", ""),
        is("is-active idle", 0, "active\n", ""),
        is("reload-or-restart web", 0, "", ""),
        is("reload-or-try-restart idle", 0, "", ""),
        is("is-active idle", 0, "active\n", ""),
        is("reload-or-try-restart reloadable", 0, "", ""),
        is("is-active reloadable", 3, "inactive\n", ""),
        is("force-reload web", 0, "", ""),
        is("condreload web", 0, "", ""),
        is("try-reload-or-restart web", 0, "", ""),
        is(
            "reload-or-restart nope",
            5,
            "",
            "Failed to reload-or-restart nope.service: Unit nope.service not found.\n",
        ),
        is(
            "force-reload nope",
            5,
            "",
            "Failed to reload-or-try-restart nope.service: Unit nope.service not found.\n",
        ),
        // systemctl-kill.c: errors are not translated (exit 1); KillUnit does not load units
        // (core/dbus-manager.c method_kill_unit()), and reloadable was collected as
        // unreferenced; sidecar stays loaded because web refers to it; core/unit.c
        // unit_kill_common() for --kill-whom=main without a main process.
        is("kill -s CONT web", 0, "", ""),
        is("kill --signal=SIGCONT idle", 0, "", ""),
        is("is-active web idle", 0, "active\nactive\n", ""),
        is(
            "kill nope",
            1,
            "",
            "Failed to kill unit nope.service: Unit nope.service not loaded.\n",
        ),
        is(
            "kill reloadable",
            1,
            "",
            "Failed to kill unit reloadable.service: Unit reloadable.service not loaded.\n",
        ),
        is(
            "kill --kill-whom=main sidecar",
            1,
            "",
            "Failed to kill unit sidecar.service: No main process to kill\n",
        ),
        is("kill sidecar", 0, "", ""),
        is("kill idle", 0, "", ""),
        soon("is-active idle", 3, "inactive\n"),
        // systemctl-reset-failed.c; without units, the manager's ResetFailed.
        is("reset-failed broken", 0, "", ""),
        is("is-failed broken", 1, "inactive\n", ""),
        is("start broken", 1, "", BROKEN_FAILED),
        is("reset-failed", 0, "", ""),
        is("is-failed broken", 1, "inactive\n", ""),
        is(
            "reset-failed nope",
            1,
            "",
            "Failed to reset failed state of unit nope.service: Unit nope.service not loaded.\n",
        ),
        is("start broken", 1, "", BROKEN_FAILED),
        // systemctl-show.c print_status_info(): the description only when it differs from
        // the name, the sub-state only when it differs from the active state, the unit file
        // state and preset, "since DATE; AGO"; show_one() returns 3 for a unit that is not
        // active, 4 for one not found, and the first non-zero code wins (verb_show()). The
        // commands that ended are `Process:` lines (the reloads above ran ExecReload=; each
        // command keeps its last run), exit statuses named for libc and systemd only.
        is(
            "status web",
            0,
            "● web.service - Web Server\n     Loaded: loaded (/etc/systemd/system/web.service; enabled; preset: enabled)\n     Active: active (running) since {*} ago\n    Process: {*} ExecReload=/bin/true (code=exited, status=0/SUCCESS)\n   Main PID: {*} (sleep)\n{*}",
            "",
        ),
        is(
            "status sidecar",
            3,
            "○ sidecar.service - Sidecar\n     Loaded: loaded (/etc/systemd/system/sidecar.service; static)\n     Active: inactive (dead)\n",
            "",
        ),
        is(
            "status nope",
            4,
            "",
            "Unit nope.service could not be found.\n",
        ),
        is(
            "status sidecar nope",
            3,
            "○ sidecar.service - Sidecar\n{*}",
            "Unit nope.service could not be found.\n",
        ),
        is(
            "status nope sidecar",
            4,
            "○ sidecar.service - Sidecar\n{*}",
            "Unit nope.service could not be found.\n",
        ),
        is(
            "status masked",
            3,
            "○ masked.service\n     Loaded: masked (Reason: Unit masked.service is masked.)\n     Active: inactive (dead)\n",
            "",
        ),
        is(
            "status broken",
            3,
            "× broken.service - Broken\n     Loaded: loaded (/etc/systemd/system/broken.service; static)\n     Active: failed (Result: exit-code) since {*} ago\n{*}",
            "",
        ),
        is(
            "status slow",
            3,
            "● slow.service - Slow Starter\n     Loaded: loaded (/etc/systemd/system/slow.service; static)\n     Active: activating (start) since {*} ago\n   Main PID: {*} (sleep)\n{*}",
            "",
        ),
        is(
            "status tpl@x",
            0,
            "● tpl@x.service - Template x\n     Loaded: loaded (/etc/systemd/system/tpl@.service; disabled; preset: enabled)\n     Active: active (running) since {*} ago\n{*}",
            "",
        ),
        is(
            "status multi-user.target",
            0,
            "● multi-user.target - Multi-User System\n     Loaded: loaded (/lib/systemd/system/multi-user.target; indirect; preset: enabled)\n     Active: active since {*} ago\n",
            "",
        ),
        // Without units: the manager's own status (show_system_status()).
        is(
            "status",
            0,
            "● {*}\n    State: degraded\n    Units: {*} loaded (incl. loaded aliases)\n     Jobs: 1 queued\n   Failed: 1 units\n    Since: {*} ago\n  systemd: 252 (bosun {*})\n   CGroup: /\n",
            "",
        ),
        // show: properties in the manager's order whatever the order asked; -p shows empty
        // ones too (systemctl.c, 'p'); a property that does not exist prints nothing.
        is(
            "show web -p ActiveState,SubState",
            0,
            "ActiveState=active\nSubState=running\n",
            "",
        ),
        is(
            "show web -p SubState -p ActiveState",
            0,
            "ActiveState=active\nSubState=running\n",
            "",
        ),
        is("show web -P SubState", 0, "running\n", ""),
        is("show web --property=ActiveState --value", 0, "active\n", ""),
        is(
            "show nope -p LoadState,ActiveState",
            0,
            "LoadState=not-found\nActiveState=inactive\n",
            "",
        ),
        is(
            "show web sidecar -p ActiveState",
            0,
            "ActiveState=active\n\nActiveState=inactive\n",
            "",
        ),
        is("show web -p NoSuchProperty", 0, "", ""),
        is("show masked -p LoadState", 0, "LoadState=masked\n", ""),
        is(
            "show web -p Id,Description,LoadState,UnitFileState,UnitFilePreset",
            0,
            "Id=web.service\nDescription=Web Server\nLoadState=loaded\nUnitFileState=enabled\nUnitFilePreset=enabled\n",
            "",
        ),
        is(
            "show broken -p Result,ActiveState,SubState",
            0,
            "Result=exit-code\nActiveState=failed\nSubState=failed\n",
            "",
        ),
        // print_property(): LoadError as `NAME "MESSAGE"`, empty when the unit loaded.
        is(
            "show nope -p LoadError",
            0,
            "LoadError=org.freedesktop.systemd1.NoSuchUnit \"Unit nope.service not found.\"\n",
            "",
        ),
        is("show web -p LoadError", 0, "LoadError=\n", ""),
        is("show -p Version", 0, "Version=252 (bosun {*})\n", ""),
        is("show web --all", 0, "{*}\nId=web.service\n{*}", ""),
        // cat (systemctl-edit.c verb_cat()).
        is(
            "cat web",
            0,
            "# /etc/systemd/system/web.service\n[Unit]\nDescription=Web Server\nAfter=sidecar.service\nStartLimitIntervalSec=0\n[Service]\nExecStart=/bin/sleep 3600\nExecReload=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
            "",
        ),
        is("cat nope", 1, "", "No files found for nope.service.\n"),
        is("cat masked", 0, "# Unit masked.service is masked.\n", ""),
        is(
            "cat sidecar nope helper",
            1,
            "# /etc/systemd/system/sidecar.service\n[Unit]\nDescription=Sidecar\n[Service]\nExecStart=/bin/sleep 3600\n\n# /etc/systemd/system/helper.service\n{*}",
            "No files found for nope.service.\n",
        ),
        // The unit file verbs: as systemd 252 decides them.
        real("is-enabled web idle masked helper tpl@ tpl@x vendor multi-user.target"),
        real("is-enabled nope"),
        real("is-enabled -q web"),
        real("is-enabled -q idle"),
        real("list-unit-files"),
        real("list-unit-files --type=service --no-legend"),
        real("list-unit-files 'tpl*'"),
        real("list-unit-files --state=masked"),
        real("get-default"),
    ];
    rows.extend(list_units());
    rows.extend(super::changes::file_verbs());
    rows.extend(super::changes::environment_and_options());
    rows.extend(super::changes::access());
    rows
}

/// list-units (systemctl-list-units.c): the table of loaded units, sorted by type then name,
/// a JOB column only when a job is pending, the legend and the count. Which inactive units are
/// loaded is what systemd's garbage collection keeps: those a loaded unit refers to.
fn list_units() -> Vec<Row> {
    vec![
        is(
            "list-units --type=service",
            0,
            "  UNIT           LOAD   ACTIVE     SUB     JOB   DESCRIPTION\n● broken.service loaded failed     failed        Broken\n  slow.service   loaded activating start   start Slow Starter\n  tpl@x.service  loaded active     running       Template x\n  web.service    loaded active     running       Web Server\n\nLOAD   = Reflects whether the unit definition was properly loaded.\nACTIVE = The high-level unit activation state, i.e. generalization of SUB.\nSUB    = The low-level unit activation state, values depend on unit type.\nJOB    = Pending job for the unit.\n\n4 loaded units listed. Pass --all to see loaded but inactive units, too.\nTo show all installed unit files use 'systemctl list-unit-files'.\n",
            "",
        ),
        is(
            "list-units --type=service --all",
            0,
            "  UNIT            LOAD   ACTIVE     SUB     JOB   DESCRIPTION\n● broken.service  loaded failed     failed        Broken\n  sidecar.service loaded inactive   dead          Sidecar\n  slow.service    loaded activating start   start Slow Starter\n  tpl@x.service   loaded active     running       Template x\n  web.service     loaded active     running       Web Server\n\nLOAD   = Reflects whether the unit definition was properly loaded.\nACTIVE = The high-level unit activation state, i.e. generalization of SUB.\nSUB    = The low-level unit activation state, values depend on unit type.\nJOB    = Pending job for the unit.\n\n5 loaded units listed.\nTo show all installed unit files use 'systemctl list-unit-files'.\n",
            "",
        ),
        is(
            "list-units --state=failed",
            0,
            "  UNIT           LOAD   ACTIVE SUB    DESCRIPTION\n● broken.service loaded failed failed Broken\n\nLOAD   = Reflects whether the unit definition was properly loaded.\nACTIVE = The high-level unit activation state, i.e. generalization of SUB.\nSUB    = The low-level unit activation state, values depend on unit type.\n1 loaded units listed.\n",
            "",
        ),
        is(
            "list-units --failed --plain --no-legend",
            0,
            "broken.service loaded failed failed Broken\n",
            "",
        ),
        is(
            "list-units --type=service --state=activating --no-legend",
            0,
            "  slow.service loaded activating start start Slow Starter\n",
            "",
        ),
        is(
            "list-units --no-legend 'tpl@*'",
            0,
            "  tpl@x.service loaded active running Template x\n",
            "",
        ),
        is(
            "list-units --state=inactive --type=service",
            0,
            "  UNIT            LOAD   ACTIVE   SUB  DESCRIPTION\n  sidecar.service loaded inactive dead Sidecar\n\nLOAD   = Reflects whether the unit definition was properly loaded.\nACTIVE = The high-level unit activation state, i.e. generalization of SUB.\nSUB    = The low-level unit activation state, values depend on unit type.\n1 loaded units listed.\nTo show all installed unit files use 'systemctl list-unit-files'.\n",
            "",
        ),
        is(
            "list-units --type=service --state=running --no-legend",
            0,
            "  tpl@x.service loaded active running Template x\n  web.service   loaded active running Web Server\n",
            "",
        ),
        // No rows: the header alone (the glyph column is then zero wide), no legend.
        is(
            "list-units --type=socket",
            0,
            " UNIT LOAD ACTIVE SUB DESCRIPTION\n0 loaded units listed. Pass --all to see loaded but inactive units, too.\nTo show all installed unit files use 'systemctl list-unit-files'.\n",
            "",
        ),
        // systemctl-list-dependencies.c: a state glyph, the tree, units before targets, only
        // targets expanded (without --all); --plain prints no glyphs and no indentation.
        is(
            "list-dependencies app.target",
            0,
            "app.target\n○ ├─helper.service\n● ├─web.service\n○ └─sub.target\n○   └─idle.service\n",
            "",
        ),
        is(
            "list-dependencies --plain app.target",
            0,
            "app.target\n  helper.service\n  web.service\n  sub.target\n  idle.service\n",
            "",
        ),
        is(
            "list-dependencies app.target sub.target",
            0,
            "app.target\n○ ├─helper.service\n● ├─web.service\n○ └─sub.target\n○   └─idle.service\n\nsub.target\n○ └─idle.service\n",
            "",
        ),
        is("list-dependencies nope", 0, "nope.service\n", ""),
        // A stop replaces the start job of a unit held activating; the `start` waiting for
        // that job hears it was canceled (core/job.c job_install(), bus-wait-for-jobs.c).
        behind("start slow"),
        is("stop slow", 0, "", ""),
        joined(1, "", "Job for slow.service canceled.\n"),
        is("is-active slow", 3, "inactive\n", ""),
        // And a start replaces the stop job of a unit stopping (ExecStop= takes a second): the
        // stop hears "canceled", the start waits for the unit to be down, then starts it.
        is("start slowstop", 0, "", ""),
        behind("stop slowstop"),
        is("start slowstop", 0, "", ""),
        joined(1, "", "Job for slowstop.service canceled.\n"),
        is("is-active slowstop", 0, "active\n", ""),
        is("stop slowstop", 0, "", ""),
    ]
}
