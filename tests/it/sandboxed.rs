//! Issue 21 in a real container: the appliance example (image/appliance) under podman with its
//! default capabilities, where Debian's redis-server and memcached run from their own unit
//! files, and nginx, whose unit asks for no sandbox, is the negative control. What each
//! daemon's /proc/PID/status says is what bosun put in force: no_new_privs, more seccomp
//! filters than the control (podman's own profile already puts every process in seccomp mode
//! 2 with one filter), the bounding set the unit names; and both still answer their clients.

use std::collections::HashMap;

use crate::containers::{Container, image, podman, stdout};

/// /proc/PID/`file` of a unit's main process, read inside the container.
fn proc_file(c: &Container<'_>, unit: &str, file: &str) -> String {
    let pid = stdout(&c.exec(&["systemctl", "show", "-p", "MainPID", "--value", unit]));
    let pid = pid.trim();
    assert!(pid != "0" && !pid.is_empty(), "{unit} has no main process");
    stdout(&c.exec(&["cat", &format!("/proc/{pid}/{file}")]))
}

/// The fields of /proc/PID/status of a unit's main process, read inside the container.
fn status_of(c: &Container<'_>, unit: &str) -> HashMap<String, String> {
    proc_file(c, unit, "status")
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect()
}

fn number(fields: &HashMap<String, String>, key: &str) -> u64 {
    fields
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{key} in {fields:?}"))
}

fn mask(fields: &HashMap<String, String>, key: &str) -> u64 {
    u64::from_str_radix(&fields[key], 16).unwrap()
}

const SETGID: u64 = 1 << 6;
const SETUID: u64 = 1 << 7;
const SYS_RESOURCE: u64 = 1 << 24;

#[test]
fn packaged_daemons_run_confined_by_their_own_units_in_podman() {
    let Some(p) = podman() else { return };
    let image = image(p, "appliance");
    let c = Container::run(p, "sandboxed", &[&image]);
    c.ready();
    // memcached is the installer's to enable; its start is part of the first boot.
    let nginx = status_of(&c, "nginx.service");
    let redis = status_of(&c, "redis-server.service");
    let memcached = status_of(&c, "memcached.service");
    let control_filters = number(&nginx, "Seccomp_filters");
    assert_eq!(number(&nginx, "NoNewPrivs"), 0, "{nginx:?}");
    for (name, fields) in [("redis", &redis), ("memcached", &memcached)] {
        assert_eq!(number(fields, "NoNewPrivs"), 1, "{name}: {fields:?}");
        assert_eq!(number(fields, "Seccomp"), 2, "{name}: {fields:?}");
        assert!(
            number(fields, "Seccomp_filters") > control_filters,
            "{name}: {fields:?} against nginx's {control_filters}"
        );
    }
    // redis-server.service: CapabilityBoundingSet= (empty); memcached.service:
    // CAP_SETGID CAP_SETUID CAP_SYS_RESOURCE, of which podman grants the first two.
    assert_eq!(mask(&redis, "CapBnd"), 0, "{redis:?}");
    let container = mask(&nginx, "CapBnd");
    assert_eq!(
        mask(&memcached, "CapBnd"),
        (SETGID | SETUID | SYS_RESOURCE) & container,
        "{memcached:?}"
    );
    assert_ne!(mask(&nginx, "CapBnd"), mask(&memcached, "CapBnd"));
    // PrivateUsers=: redis's user namespace maps root and redis only, where the runtime
    // allows user namespaces; elsewhere the boot report names it.
    let map = proc_file(&c, "redis-server", "uid_map");
    let reported = c.logs().contains("PrivateUsers (unshare(CLONE_NEWUSER)");
    assert!(map.lines().count() == 2 || reported, "{map}\n{}", c.logs());
    // Both still answer.
    let ping = c.exec(&["redis-cli", "ping"]);
    assert_eq!(stdout(&ping).trim(), "PONG");
    let version = c.exec(&[
        "bash",
        "-c",
        "exec 3<>/dev/tcp/127.0.0.1/11211; printf 'version\\r\\n' >&3; head -c 8 <&3",
    ]);
    assert_eq!(stdout(&version), "VERSION ", "{}", c.logs());
    // What bosun says of them: redis is far less exposed than nginx.
    let exposure = |unit: &str| -> f32 {
        let out = stdout(&c.exec(&["bosun", "verify", "--security", unit]));
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("→ Overall exposure level for {unit}: ")))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("{out}"))
    };
    let (redis_here, nginx_here) = (exposure("redis-server.service"), exposure("nginx.service"));
    assert!(redis_here < nginx_here, "{redis_here} against {nginx_here}");
}

/// Where the runtime grants CAP_SYS_ADMIN, redis-server's mount sandbox is in force too:
/// `ProtectSystem=strict` makes its view of the tree read-only, the data volume included,
/// while `ReadWritePaths=/var/lib/redis` — a symlink into the volume, made by `bosun image
/// prepare` — keeps the volume's directory behind it writable: redis saves there. With
/// podman's default capabilities (the other test) the same unit starts without its mount
/// sandbox, and bosun's boot report names what is not in force and what to grant.
#[test]
fn with_cap_sys_admin_protect_system_strict_keeps_the_volume_behind_the_symlink_writable() {
    let Some(p) = podman() else { return };
    let image = image(p, "appliance");
    let data = crate::harness::Scratch::new("sandboxed-data");
    let volume = format!("{}:/data", data.path().display());
    let c = Container::run(
        p,
        "sandboxed-admin",
        &["--cap-add", "SYS_ADMIN", "-v", &volume, &image],
    );
    c.ready();
    let logs = c.logs();
    assert!(
        !logs.contains("redis-server.service: not in force"),
        "{logs}"
    );
    let mounts = proc_file(&c, "redis-server", "mountinfo");
    let options = |point: &str| {
        mounts
            .lines()
            .find(|l| l.split_whitespace().nth(4) == Some(point))
            .and_then(|l| l.split_whitespace().nth(5))
            .unwrap_or_else(|| panic!("{point} not mounted in redis's view:\n{mounts}"))
            .to_owned()
    };
    assert!(options("/").split(',').any(|o| o == "ro"), "{mounts}");
    assert!(options("/data").split(',').any(|o| o == "ro"), "{mounts}");
    assert!(
        options("/data/var/lib/redis").split(',').any(|o| o == "rw"),
        "{mounts}"
    );
    // nginx, whose unit asks for nothing, sees the volume writable (the control).
    let nginx_mounts = proc_file(&c, "nginx", "mountinfo");
    let data_line = nginx_mounts
        .lines()
        .find(|l| l.split_whitespace().nth(4) == Some("/data"))
        .unwrap_or_else(|| panic!("{nginx_mounts}"));
    assert!(
        data_line
            .split_whitespace()
            .nth(5)
            .unwrap()
            .starts_with("rw"),
        "{data_line}"
    );
    // redis writes its dump through the symlink, into the volume.
    let save = c.exec(&["redis-cli", "save"]);
    assert_eq!(stdout(&save).trim(), "OK", "{}", c.logs());
    assert!(data.join("var/lib/redis/dump.rdb").is_file());
    let ping = c.exec(&["redis-cli", "ping"]);
    assert_eq!(stdout(&ping).trim(), "PONG");
}

/// With podman's default capabilities the mount sandbox cannot be made: redis starts without
/// it, answers, and the boot report says once which protections are not in force and what
/// podman would have to grant.
#[test]
fn without_cap_sys_admin_the_mount_sandbox_is_reported_not_in_force() {
    let Some(p) = podman() else { return };
    let image = image(p, "appliance");
    let c = Container::run(p, "sandboxed-plain", &[&image]);
    c.ready();
    let logs = c.logs();
    let line = logs
        .lines()
        .find(|l| l.contains("redis-server.service: not in force in this container:"))
        .unwrap_or_else(|| panic!("no report for redis-server:\n{logs}"));
    for name in [
        "PrivateTmp",
        "ProtectSystem",
        "ReadWritePaths",
        "--cap-add SYS_ADMIN",
    ] {
        assert!(line.contains(name), "{name} not in {line}");
    }
    assert_eq!(
        logs.matches("redis-server.service: not in force").count(),
        1,
        "{logs}"
    );
    let ping = c.exec(&["redis-cli", "ping"]);
    assert_eq!(stdout(&ping).trim(), "PONG");
    let status = stdout(&c.exec(&["initctl", "status", "redis-server"]));
    assert!(status.contains("not in force: ProtectSystem="), "{status}");
}
