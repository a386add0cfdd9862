//! Condition and assert checks against a scratch root and injected facts.

use super::*;

fn cond(check: &str, value: &str, trigger: bool, negate: bool) -> Condition {
    Condition {
        check: check.into(),
        trigger,
        negate,
        value: value.into(),
        line: 1,
    }
}

fn system(root: &Path) -> System {
    System {
        root: root.to_path_buf(),
        environment: vec![("MODE".into(), "prod".into()), ("FLAG".into(), "".into())],
        hostname: "web-1".into(),
        machine_id: "0123456789abcdef0123456789abcdef".into(),
        architecture: "x86-64".into(),
        kernel_release: "6.1.0-13-amd64".into(),
        kernel_cmdline: vec!["quiet".into(), "console=ttyS0".into()],
        cpus: 4,
        memory_bytes: 8 << 30,
        os_release: vec![
            ("ID".into(), "debian".into()),
            ("VERSION_ID".into(), "12".into()),
        ],
        container: "podman".into(),
        capability_bounding: 1 << 24,
        user: (0, "root".into()),
        groups: vec![(0, "root".into())],
        cgroup_controllers: vec!["cpu".into(), "memory".into(), "unified".into()],
        cpu_flags: vec!["sse2".into(), "avx2".into()],
        credentials: vec!["db-password".into()],
    }
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bosun-cond-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("etc/app/conf.d")).unwrap();
    fs::write(dir.join("etc/app/config"), "x").unwrap();
    fs::write(dir.join("etc/app/empty"), "").unwrap();
    fs::write(dir.join("etc/app/conf.d/a.conf"), "").unwrap();
    fs::write(dir.join("etc/app/run.sh"), "#!/bin/sh\n").unwrap();
    fs::set_permissions(
        dir.join("etc/app/run.sh"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::os::unix::fs::symlink("config", dir.join("etc/app/link")).unwrap();
    dir
}

fn holds(s: &System, check: &str, value: &str) -> bool {
    evaluate(&[cond(check, value, false, false)], s, "Condition") == Verdict::Pass
}

#[test]
fn all_plain_checks_must_hold_and_one_trigger_suffices() {
    let root = scratch("triggers");
    let s = system(&root);
    let ok = cond("PathExists", "/etc/app/config", false, false);
    let no = cond("PathExists", "/etc/app/missing", false, false);
    assert_eq!(
        evaluate(std::slice::from_ref(&ok), &s, "Condition"),
        Verdict::Pass
    );
    assert_eq!(
        evaluate(&[ok.clone(), no.clone()], &s, "Condition"),
        Verdict::Fail("ConditionPathExists=/etc/app/missing".into())
    );
    let not_missing = cond("PathExists", "/etc/app/missing", false, true);
    assert_eq!(
        evaluate(&[ok.clone(), not_missing], &s, "Condition"),
        Verdict::Pass
    );
    // Triggers: one of them is enough, none is a failure.
    let t_no = cond("PathExists", "/nope", true, false);
    let t_ok = cond("PathIsDirectory", "/etc/app", true, false);
    assert_eq!(
        evaluate(&[t_no.clone(), t_ok], &s, "Condition"),
        Verdict::Pass
    );
    assert_eq!(
        evaluate(&[ok, t_no.clone(), t_no], &s, "Assert"),
        Verdict::Fail("AssertPathExists=|/nope".into())
    );
    assert_eq!(evaluate(&[], &s, "Condition"), Verdict::Pass);
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn path_checks() {
    let root = scratch("paths");
    let s = system(&root);
    assert!(holds(&s, "PathIsDirectory", "/etc/app"));
    assert!(!holds(&s, "PathIsDirectory", "/etc/app/config"));
    assert!(holds(&s, "PathIsSymbolicLink", "/etc/app/link"));
    assert!(!holds(&s, "PathIsSymbolicLink", "/etc/app/config"));
    assert!(holds(&s, "FileNotEmpty", "/etc/app/config"));
    assert!(!holds(&s, "FileNotEmpty", "/etc/app/empty"));
    assert!(holds(&s, "DirectoryNotEmpty", "/etc/app/conf.d"));
    // Hidden and backup files do not count, as systemd's dir_is_empty(.., true) skips them;
    // neither a missing path nor a file is a directory that is not empty.
    fs::create_dir_all(root.join("etc/app/hidden.d")).unwrap();
    fs::write(root.join("etc/app/hidden.d/.keep"), "").unwrap();
    fs::write(root.join("etc/app/hidden.d/x.conf.dpkg-old"), "").unwrap();
    assert!(!holds(&s, "DirectoryNotEmpty", "/etc/app/hidden.d"));
    fs::write(root.join("etc/app/hidden.d/x.conf"), "").unwrap();
    assert!(holds(&s, "DirectoryNotEmpty", "/etc/app/hidden.d"));
    assert!(!holds(&s, "DirectoryNotEmpty", "/etc/app/missing.d"));
    assert!(!holds(&s, "DirectoryNotEmpty", "/etc/app/config"));
    assert!(holds(&s, "FileIsExecutable", "/etc/app/run.sh"));
    assert!(!holds(&s, "FileIsExecutable", "/etc/app/config"));
    assert!(holds(&s, "PathExistsGlob", "/etc/app/conf.d/*.conf"));
    assert!(!holds(&s, "PathExistsGlob", "/etc/app/conf.d/*.toml"));
    assert!(holds(&s, "PathIsReadWrite", "/etc/app"));
    assert!(!holds(&s, "PathIsMountPoint", "/etc/app"));
    let host = system(Path::new("/"));
    assert!(holds(&host, "PathIsMountPoint", "/proc"));
    assert!(!holds(&host, "PathIsMountPoint", "/etc"));
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn system_checks() {
    let root = scratch("system");
    let s = system(&root);
    assert!(holds(&s, "Environment", "MODE=prod"));
    assert!(holds(&s, "Environment", "FLAG"));
    assert!(!holds(&s, "Environment", "MODE=dev"));
    assert!(holds(&s, "Host", "web-*"));
    assert!(holds(&s, "Host", "0123456789ABCDEF0123456789ABCDEF"));
    assert!(!holds(&s, "Host", "db-?"));
    for (value, want) in [
        ("container", true),
        ("podman", true),
        ("docker", false),
        ("yes", true),
        ("vm", false),
    ] {
        assert_eq!(holds(&s, "Virtualization", value), want, "{value}");
    }
    assert!(holds(&s, "Architecture", "x86-64"));
    assert!(holds(&s, "KernelCommandLine", "console"));
    assert!(holds(&s, "KernelCommandLine", "console=ttyS0"));
    assert!(!holds(&s, "KernelCommandLine", "splash"));
    assert!(holds(&s, "KernelVersion", ">=5.10 <7"));
    assert!(!holds(&s, "KernelVersion", ">=6.2"));
    assert!(holds(&s, "KernelVersion", "6.1.*"));
    assert!(holds(&s, "CPUs", ">=2"));
    assert!(!holds(&s, "CPUs", ">4"));
    assert!(holds(&s, "Memory", ">=4G"));
    assert!(!holds(&s, "Memory", "<1G"));
    assert!(holds(&s, "OSRelease", "ID=debian VERSION_ID>=11"));
    assert!(!holds(&s, "OSRelease", "ID=fedora"));
    assert!(holds(&s, "Capability", "CAP_SYS_RESOURCE"));
    assert!(!holds(&s, "Capability", "CAP_SYS_ADMIN"));
    assert!(holds(&s, "User", "root"));
    assert!(holds(&s, "User", "@system"));
    assert!(holds(&s, "Group", "0"));
    assert!(holds(&s, "ControlGroupController", "cpu memory"));
    assert!(holds(&s, "ControlGroupController", "v2"));
    assert!(!holds(&s, "ControlGroupController", "pids"));
    assert!(holds(&s, "CPUFeature", "AVX2"));
    assert!(holds(&s, "Credential", "db-password"));
    assert!(holds(&s, "ACPower", "true"));
    assert!(
        holds(&s, "FirstBoot", "yes"),
        "no /etc/machine-id under the scratch root"
    );
    assert!(!holds(&s, "Security", "selinux"));
    assert!(
        holds(&s, "MemoryPressure", "20%"),
        "no PSI under the scratch root passes"
    );
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn versions_compare_numerically() {
    use std::cmp::Ordering::*;
    assert_eq!(compare_versions("6.10", "6.9"), Greater);
    assert_eq!(compare_versions("6.1.0-13-amd64", "6.1"), Greater);
    assert_eq!(compare_versions("12", "12"), Equal);
    assert_eq!(compare_versions("5.4", "5.10"), Less);
}

#[test]
fn glob_matching() {
    assert!(glob_match("web-[0-9]", "web-7"));
    assert!(!glob_match("web-[!0-9]", "web-7"));
    assert!(glob_match("*.conf", "a.conf"));
    assert!(!glob_match("?.conf", "ab.conf"));
}

#[test]
fn detects_this_machine() {
    let s = System::detect(Path::new("/"));
    assert!(s.cpus >= 1 && s.memory_bytes > 0 && !s.kernel_release.is_empty());
    assert_eq!(s.architecture, "x86-64");
    assert!(s.os_release.iter().any(|(k, _)| k == "ID"));
}
