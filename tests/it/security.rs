//! Issue 21, what a sandbox amounts to: `bosun verify --security`, `systemctl show` and
//! `initctl status UNIT` ask the running bosun (PID 1) about a confined service and a bare
//! one (the negative control), and agree with each other; in a container whose bounding set
//! lacks CAP_SYS_ADMIN the assessment says the container withholds it.

use std::time::Duration;

use crate::fixtures::{Fixture, stop};
use crate::harness::{Pid1, bosun_in, systemctl_in, wait_until};

const T: Duration = Duration::from_secs(60);

const CONFINED: &str = "[Service]\nType=oneshot\nRemainAfterExit=yes\nUser=nobody\n\
    NoNewPrivileges=yes\nCapabilityBoundingSet=\nSystemCallFilter=@system-service\n\
    SystemCallArchitectures=native\nMemoryDenyWriteExecute=yes\nRestrictRealtime=yes\n\
    RestrictAddressFamilies=AF_INET AF_UNIX\nRestrictNamespaces=yes\nLockPersonality=yes\n\
    PrivateTmp=yes\nProtectSystem=strict\nReadWritePaths=-/var/lib/bosun-it-missing\n\
    ExecStart=/bin/true\n";
const BARE: &str = "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n";

/// The overall figure `verify --security UNIT` prints: (in this container, as written).
fn overall(report: &str) -> (f32, f32) {
    let line = report
        .lines()
        .find(|l| l.starts_with("→ Overall exposure level"))
        .unwrap_or_else(|| panic!("no overall line in {report}"));
    let numbers: Vec<f32> = line
        .split([' ', '('])
        .filter_map(|w| w.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

fn both_active(f: &Fixture, pid1: &Pid1) -> bool {
    wait_until(T, || {
        ["confined.service", "bare.service"].iter().all(|u| {
            systemctl_in(pid1.pid(), &f.root, &["is-active", u])
                .0
                .trim()
                == "active"
        })
    })
}

#[test]
fn verify_show_and_status_tell_the_same_sandbox() {
    let f = Fixture::new("security");
    f.unit("confined.service", CONFINED);
    f.unit("bare.service", BARE);
    let Some(pid1) = f.boot() else { return };
    assert!(both_active(&f, &pid1), "{}", pid1.stderr_now());
    let root = f.root.display().to_string();
    let verify = |unit: &str| {
        let (out, code) = bosun_in(
            pid1.pid(),
            &f.root,
            &["verify", "--security", "--root", &root, unit],
        );
        assert_eq!(code, Some(0), "{out}");
        out
    };
    let (confined, bare) = (verify("confined.service"), verify("bare.service"));
    let (c_here, c_written) = overall(&confined);
    let (b_here, b_written) = overall(&bare);
    // As root with every capability, the unit's words are all that confine it.
    assert_eq!(
        (c_here, b_here),
        (c_written, b_written),
        "{confined}\n{bare}"
    );
    assert!(c_here < b_here / 2.0, "{confined}\n{bare}");
    assert!(
        confined.contains("✓ SystemCallFilter=~@mount"),
        "{confined}"
    );
    assert!(confined.contains("✓ NoNewPrivileges="), "{confined}");
    assert!(bare.contains("✗ NoNewPrivileges="), "{bare}");
    assert!(
        bare.contains("✗ CapabilityBoundingSet=~CAP_SYS_ADMIN"),
        "{bare}"
    );
    // Every service in one table, the confined one less exposed.
    let (table, code) = bosun_in(
        pid1.pid(),
        &f.root,
        &["verify", "--security", "--root", &root],
    );
    assert_eq!(code, Some(0), "{table}");
    let row = |unit: &str| {
        table
            .lines()
            .find(|l| l.starts_with(unit))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<f32>().ok())
            .unwrap_or_else(|| panic!("{unit} not in {table}"))
    };
    assert_eq!(row("confined.service"), c_here, "{table}");
    assert_eq!(row("bare.service"), b_here, "{table}");

    // systemctl show: the unit's settings, as systemd 252 prints them.
    let show = |unit: &str, p: &str| {
        systemctl_in(pid1.pid(), &f.root, &["show", "-p", p, "--value", unit])
            .0
            .trim_end()
            .to_owned()
    };
    assert_eq!(show("confined.service", "NoNewPrivileges"), "yes");
    assert_eq!(show("bare.service", "NoNewPrivileges"), "no");
    assert_eq!(show("confined.service", "CapabilityBoundingSet"), "");
    assert!(
        show("bare.service", "CapabilityBoundingSet").starts_with("cap_chown cap_dac_override")
    );
    assert_eq!(show("confined.service", "User"), "nobody");
    assert_eq!(
        show("confined.service", "SystemCallArchitectures"),
        "native"
    );
    assert_eq!(show("bare.service", "SystemCallErrorNumber"), "2147483646");
    let filter = show("confined.service", "SystemCallFilter");
    assert!(
        !filter.starts_with('~') && filter.contains(" openat "),
        "{filter}"
    );
    assert!(!filter.contains(" mount "), "{filter}");
    assert_eq!(show("bare.service", "SystemCallFilter"), "");
    assert_eq!(show("confined.service", "MemoryDenyWriteExecute"), "yes");
    assert_eq!(show("confined.service", "UMask"), "0022");
    assert_eq!(
        show("confined.service", "RestrictAddressFamilies"),
        "AF_UNIX AF_INET"
    );
    assert_eq!(show("bare.service", "RestrictAddressFamilies"), "");
    assert_eq!(show("confined.service", "RestrictNamespaces"), "yes");
    assert_eq!(show("bare.service", "RestrictNamespaces"), "no");
    assert_eq!(show("confined.service", "LockPersonality"), "yes");
    assert_eq!(show("confined.service", "ProtectSystem"), "strict");
    assert_eq!(show("bare.service", "ProtectSystem"), "no");
    assert_eq!(show("confined.service", "PrivateTmp"), "yes");
    assert_eq!(
        show("confined.service", "ReadWritePaths"),
        "-/var/lib/bosun-it-missing"
    );

    // initctl status UNIT: systemctl's block, then the figure verify printed.
    let (status, code) = bosun_in(pid1.pid(), &f.root, &["ctl", "status", "confined.service"]);
    let expected = format!("Sandbox: exposure {c_here:.1}");
    assert!(
        status.contains(&expected),
        "{expected} not in {status} ({code:?})"
    );
    assert!(status.contains("Active: active (exited)"), "{status}");
    stop(pid1);
}

/// What the container withholds is in force whatever the unit says: without CAP_SYS_ADMIN
/// in the bounding set, the bare service cannot hold it either, and the report says why.
#[test]
fn what_the_container_withholds_is_in_force_here() {
    let f = Fixture::new("security-nosysadmin");
    f.unit("bare.service", BARE);
    f.unit("confined.service", CONFINED);
    let Some(pid1) = f.boot_without("-sys_admin,-sys_module") else {
        return;
    };
    assert!(both_active(&f, &pid1), "{}", pid1.stderr_now());
    let root = f.root.display().to_string();
    let (bare, code) = bosun_in(
        pid1.pid(),
        &f.root,
        &["verify", "--security", "--root", &root, "bare.service"],
    );
    assert_eq!(code, Some(0), "{bare}");
    let (here, written) = overall(&bare);
    assert!(here < written, "{bare}");
    assert!(
        bare.contains("✓ CapabilityBoundingSet=~CAP_SYS_ADMIN"),
        "{bare}"
    );
    assert!(bare.contains("(the container withholds it)"), "{bare}");
    assert!(
        bare.contains("✓ CapabilityBoundingSet=~CAP_SYS_MODULE"),
        "{bare}"
    );
    stop(pid1);
}
