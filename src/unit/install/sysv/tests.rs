//! update-rc.d's link work, on a scratch root.

use super::*;
use std::os::unix::fs::PermissionsExt;

fn root(tag: &str, header: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bosun-sysv-install-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("etc/init.d")).unwrap();
    let script = dir.join("etc/init.d/demo");
    std::fs::write(
        &script,
        format!("#!/bin/sh\n### BEGIN INIT INFO\n# Provides: demo\n{header}### END INIT INFO\n"),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn names(root: &Path) -> Vec<String> {
    links(root, "demo", None)
        .iter()
        .map(|l| {
            l.strip_prefix(root.join("etc"))
                .unwrap()
                .display()
                .to_string()
        })
        .collect()
}

#[test]
fn enable_makes_defaults_disable_turns_s_into_k() {
    let r = root(
        "toggle",
        "# Default-Start: 2 3 4 5\n# Default-Stop: 0 1 6\n",
    );
    assert_eq!(script_for(&r, "demo.service").as_deref(), Some("demo"));
    assert_eq!(script_for(&r, "other.service"), None);
    assert!(!is_enabled(&r, "demo"));
    let mut w = Vec::new();
    set_enabled(&r, "demo", true, &mut w).unwrap();
    assert!(w.is_empty());
    assert_eq!(
        names(&r),
        [
            "rc0.d/K01demo",
            "rc1.d/K01demo",
            "rc2.d/S01demo",
            "rc3.d/S01demo",
            "rc4.d/S01demo",
            "rc5.d/S01demo",
            "rc6.d/K01demo"
        ]
    );
    assert_eq!(
        std::fs::read_link(r.join("etc/rc2.d/S01demo")).unwrap(),
        Path::new("../init.d/demo")
    );
    assert!(is_enabled(&r, "demo"));
    set_enabled(&r, "demo", false, &mut w).unwrap();
    assert_eq!(
        names(&r),
        [
            "rc0.d/K01demo",
            "rc1.d/K01demo",
            "rc2.d/K01demo",
            "rc3.d/K01demo",
            "rc4.d/K01demo",
            "rc5.d/K01demo",
            "rc6.d/K01demo"
        ]
    );
    assert!(!is_enabled(&r, "demo"));
    // Links that exist keep their numbers: defaults adds nothing, enable renames.
    std::fs::rename(r.join("etc/rc2.d/K01demo"), r.join("etc/rc2.d/K20demo")).unwrap();
    set_enabled(&r, "demo", true, &mut w).unwrap();
    assert!(r.join("etc/rc2.d/S20demo").exists());
    assert!(is_enabled(&r, "demo"));
    std::fs::remove_dir_all(&r).unwrap();
}

#[test]
fn a_script_without_default_start_cannot_be_toggled() {
    let r = root("none", "# Default-Stop: 0 6\n");
    let mut w = Vec::new();
    let e = set_enabled(&r, "demo", true, &mut w).unwrap_err();
    assert_eq!(
        e.to_string(),
        "demo Default-Start contains no runlevels, aborting."
    );
    // Runlevel 1 only: no link update-rc.d may toggle.
    let r1 = root("one", "# Default-Start: 1\n");
    let e = set_enabled(&r1, "demo", false, &mut w).unwrap_err();
    assert_eq!(e.to_string(), "no runlevel symlinks to modify, aborting!");
    assert_eq!(w, ["disable action will have no effect on runlevel 1"]);
    for dir in [r, r1] {
        std::fs::remove_dir_all(dir).unwrap();
    }
}
