//! The rows of the verb table that change things, after the queries of [`super::table`]:
//! the unit file verbs against a running manager, daemon-reload, the manager's environment,
//! the options bosun refuses, and callers that are not root.

use super::Row;
use super::table::{is, real, soon, write};

/// enable and friends against a running manager (systemctl-enable.c): the same changes and
/// words as offline when they succeed, then a daemon-reload so the manager sees them; errors
/// in the manager's words (core/dbus-manager.c install_error()).
pub(super) fn file_verbs() -> Vec<Row> {
    vec![
        real("enable idle"),
        real("is-enabled idle"),
        is("is-active idle", 3, "inactive\n", ""),
        real("disable idle"),
        is(
            "enable nope",
            1,
            "",
            "Failed to enable unit: Unit file nope.service does not exist.\n",
        ),
        real("reenable web"),
        real("enable helper"),
        // network-online.target has no file here; systemd --root would add "Unit ... is added
        // as a dependency to a non-existent unit network-online.target." The running bosun
        // has it built in, as a container with the systemd package has its file.
        is(
            "enable netwait",
            0,
            "",
            "Created symlink /etc/systemd/system/network-online.target.wants/netwait.service → /etc/systemd/system/netwait.service.\n",
        ),
        real("disable netwait"),
        is(
            "mask idle",
            1,
            "",
            "Failed to mask unit: File /etc/systemd/system/idle.service already exists.\n",
        ),
        real("mask vendor"),
        is("is-enabled vendor", 1, "masked\n", ""),
        // The mask is seen by the manager at once (the reload after it).
        is(
            "start vendor",
            1,
            "",
            "Failed to start vendor.service: Unit vendor.service is masked.\n",
        ),
        real("unmask vendor"),
        is("start vendor", 0, "", ""),
        is("is-active vendor", 0, "active\n", ""),
        is(
            "mask --now vendor",
            0,
            "",
            "Created symlink /etc/systemd/system/vendor.service → /dev/null.\n",
        ),
        is("is-active vendor", 3, "inactive\n", ""),
        real("unmask vendor"),
        // Online, mask and unmask say so first when the manager does not know the unit.
        is(
            "mask nope",
            0,
            "",
            "Unit nope.service does not exist, proceeding anyway.\nCreated symlink /etc/systemd/system/nope.service → /dev/null.\n",
        ),
        is(
            "unmask nope",
            0,
            "",
            "Removed \"/etc/systemd/system/nope.service\".\n",
        ),
        real("--runtime enable idle"),
        real("is-enabled idle"),
        real("--runtime disable idle"),
        real("--runtime mask vendor"),
        real("is-enabled vendor"),
        real("--runtime unmask vendor"),
        real("preset idle vendor"),
        real("list-unit-files --type=service"),
        real("disable idle vendor"),
        is(
            "enable --now idle",
            0,
            "",
            "Created symlink /etc/systemd/system/multi-user.target.wants/idle.service → /etc/systemd/system/idle.service.\n",
        ),
        is("is-active idle", 0, "active\n", ""),
        is(
            "disable --now idle",
            0,
            "",
            "Removed \"/etc/systemd/system/multi-user.target.wants/idle.service\".\n",
        ),
        is("is-active idle", 3, "inactive\n", ""),
        real("set-default app.target"),
        real("get-default"),
        real("set-default multi-user.target"),
        // daemon-reload: a new unit file can be started; a changed one is seen as changed.
        write(
            "etc/systemd/system/fresh.service",
            "[Unit]\nDescription=Fresh\n[Service]\nExecStart=/bin/sleep 3600\n",
        ),
        write(
            "etc/systemd/system/sidecar.service.d/name.conf",
            "[Unit]\nDescription=Sidecar Renamed\n",
        ),
        is(
            "show sidecar -p Description",
            0,
            "Description=Sidecar\n",
            "",
        ),
        is("daemon-reload", 0, "", ""),
        is(
            "show sidecar -p Description",
            0,
            "Description=Sidecar Renamed\n",
            "",
        ),
        is("start fresh", 0, "", ""),
        is("is-active fresh", 0, "active\n", ""),
        is("stop fresh", 0, "", ""),
    ]
}

/// The manager's environment (systemctl-set-environment.c; core/manager.c keeps the client's
/// variables sorted after its own PATH and show-environment quotes values as a shell would),
/// --version, -q, --no-block, and the options bosun refuses.
pub(super) fn environment_and_options() -> Vec<Row> {
    const PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n";
    vec![
        is("show-environment", 0, PATH, ""),
        is("set-environment 'B=two words' A=1", 0, "", ""),
        is(
            "show-environment",
            0,
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nA=1\nB=$'two words'\n",
            "",
        ),
        is("unset-environment A", 0, "", ""),
        is(
            "show-environment",
            0,
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nB=$'two words'\n",
            "",
        ),
        is(
            "set-environment BAD",
            1,
            "",
            "Failed to set environment: Invalid environment assignments\n",
        ),
        is("unset-environment B", 0, "", ""),
        is("import-environment HOME", 0, "", ""),
        is(
            "import-environment NOT_SET_HERE",
            0,
            "",
            "Environment variable $NOT_SET_HERE not set, ignoring.\n",
        ),
        is(
            "import-environment 'bad name'",
            1,
            "",
            "Not a valid environment variable name: bad name\n",
        ),
        is(
            "show-environment",
            0,
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nHOME=/root\n",
            "",
        ),
        is("unset-environment HOME", 0, "", ""),
        is("show-environment", 0, PATH, ""),
        is(
            "--version",
            0,
            "systemd 252 (bosun {*})\n-PAM -AUDIT {*}\n",
            "",
        ),
        is("is-system-running", 1, "degraded\n", ""),
        is("--no-block restart web", 0, "", ""),
        soon("is-active web", 0, "active\n"),
        is("--user status", 1, "", "--user is not supported{*}\n"),
        is("-H host status", 1, "", "-H/--host is not supported{*}\n"),
        is(
            "-M machine status",
            1,
            "",
            "-M/--machine is not supported{*}\n",
        ),
        is("frobnicate", 1, "", "Unknown command verb frobnicate.\n"),
    ]
}

/// A caller that is not root reads and is refused changes: "Access denied" from the manager's
/// polkit check (shared/bus-polkit.c, no polkit in a container), exit 4 for job verbs
/// (translate_bus_error_to_exit_status()), 1 for the others, which do not translate.
pub(super) fn access() -> Vec<Row> {
    vec![
        is("@nobody is-active web", 0, "active\n", ""),
        is(
            "@nobody status web",
            0,
            "● web.service - Web Server\n{*}",
            "",
        ),
        is("@nobody is-enabled web", 0, "enabled\n", ""),
        is(
            "@nobody list-units --type=service --no-legend --state=running",
            0,
            "  tpl@x.service loaded active running Template x\n  web.service   loaded active running Web Server\n",
            "",
        ),
        is("@nobody show-environment", 0, "PATH={*}\n", ""),
        is(
            "@nobody stop web",
            4,
            "",
            "Failed to stop web.service: Access denied\nSee system logs and 'systemctl status web.service' for details.\n",
        ),
        is(
            "@nobody start idle tpl@z",
            4,
            "",
            "Failed to start idle.service: Access denied\nSee system logs and 'systemctl status idle.service' for details.\nFailed to start tpl@z.service: Access denied\nSee system logs and 'systemctl status tpl@z.service' for details.\n",
        ),
        is(
            "@nobody kill web",
            1,
            "",
            "Failed to kill unit web.service: Access denied\n",
        ),
        is(
            "@nobody reset-failed broken",
            1,
            "",
            "Failed to reset failed state of unit broken.service: Access denied\n",
        ),
        is(
            "@nobody reset-failed",
            1,
            "",
            "Failed to execute operation: Access denied\n",
        ),
        is(
            "@nobody daemon-reload",
            1,
            "",
            "Reload daemon failed: Access denied\n",
        ),
        is(
            "@nobody set-environment A=1",
            1,
            "",
            "Failed to set environment: Access denied\n",
        ),
        is(
            "@nobody enable idle",
            1,
            "",
            "Failed to enable unit: Access denied\n",
        ),
        is(
            "@nobody mask vendor",
            1,
            "",
            "Failed to mask unit: Access denied\n",
        ),
        is(
            "@nobody set-default app.target",
            1,
            "",
            "Failed to set default target: Access denied\n",
        ),
        // Nothing changed: web runs, idle and tpl@z do not, idle is not enabled.
        is(
            "@nobody is-active web idle tpl@z",
            0,
            "active\ninactive\ninactive\n",
            "",
        ),
        real("is-enabled idle vendor"),
    ]
}
