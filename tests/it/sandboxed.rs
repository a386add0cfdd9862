//! Issue 21 in a real container: the appliance example (image/appliance) under podman with its
//! default capabilities, where Debian's redis-server and memcached run from their own unit
//! files, and nginx, whose unit asks for no sandbox, is the negative control. What each
//! daemon's /proc/PID/status says is what bosun put in force: no_new_privs, more seccomp
//! filters than the control (podman's own profile already puts every process in seccomp mode
//! 2 with one filter), the bounding set the unit names; and both still answer their clients.

use std::collections::HashMap;

use crate::containers::{Container, image, podman, stdout};

/// The fields of /proc/PID/status of a unit's main process, read inside the container.
fn status_of(c: &Container<'_>, unit: &str) -> HashMap<String, String> {
    let pid = stdout(&c.exec(&["systemctl", "show", "-p", "MainPID", "--value", unit]));
    let pid = pid.trim();
    assert!(pid != "0" && !pid.is_empty(), "{unit} has no main process");
    let text = stdout(&c.exec(&["cat", &format!("/proc/{pid}/status")]));
    text.lines()
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
