//! Issue 19, SysV init scripts: an `/etc/init.d` script with an LSB header and no unit of its
//! own becomes a generated unit (bosun's built-in systemd-sysv-generator), started at boot
//! from its `rc2.d` link, ordered by `Required-Start:`, reachable by its `Provides:` alias,
//! stopped and started with systemctl, stopped by its script at shutdown; scripts with a
//! native unit, without the execute bit or without start links are the negative controls.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use crate::harness::{Pid1, Scratch, bosun, run_pid1};

const T: Duration = Duration::from_secs(60);

/// A daemon script as packages write them: start puts a process in the background and
/// writes its pidfile, stop kills it, and a `# Should-Start:`-style header.
fn script(root: &Path, name: &str, header: &str, log: &Path, mode: u32) {
    let path = root.join("etc/init.d").join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let run = root.join("run");
    fs::create_dir_all(&run).unwrap();
    let pid = run.join(format!("{name}.pid"));
    fs::write(
        &path,
        format!(
            "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: {name}\n{header}\
             # Default-Start: 2 3 4 5\n# Default-Stop: 0 1 6\n\
             # Short-Description: the {name} fixture\n### END INIT INFO\n\
             case \"$1\" in\n\
             start) sleep 3600 </dev/null >/dev/null 2>&1 & echo $! > {pid}; echo \"start {name}\" >> {log} ;;\n\
             stop) kill $(cat {pid}); rm -f {pid}; echo \"stop {name}\" >> {log} ;;\n\
             *) echo \"Usage: $0 {{start|stop}}\"; exit 1 ;;\n\
             esac\n",
            pid = pid.display(),
            log = log.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
}

/// bosun's systemctl, as a shell word.
fn systemctl() -> String {
    format!("{} systemctl", bosun().display())
}

/// Boot bosun as PID 1 on the units under `root` with `main` as its shell command.
fn boot(root: &Path, main: &str) -> Option<crate::harness::Finished> {
    run_pid1(
        Pid1::bosun()
            .env("BOSUN_ROOT", root)
            .args(["--", "sh", "-c", main]),
        T,
    )
}

fn start_links(root: &Path, name: &str) {
    for lvl in ["2", "3", "4", "5"] {
        let dir = root.join(format!("etc/rc{lvl}.d"));
        fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(format!("../init.d/{name}"), dir.join(format!("S01{name}")))
            .unwrap();
    }
    let dir = root.join("etc/rc0.d");
    fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(format!("../init.d/{name}"), dir.join(format!("K01{name}")))
        .unwrap();
}

#[test]
fn sysv_scripts_boot_stop_and_show_as_generated() {
    let dir = Scratch::new("sysv");
    let root = dir.join("root");
    let log = dir.join("log");
    fs::create_dir_all(root.join("etc/systemd/system")).unwrap();
    script(&root, "demo", "# Provides: demo-alias\n", &log, 0o755);
    start_links(&root, "demo");
    // Ordered after demo by its header (a plain name is that service).
    script(
        &root,
        "later",
        "# Required-Start: $remote_fs $syslog demo\n",
        &log,
        0o755,
    );
    start_links(&root, "later");
    // Negative controls: no start links, not executable, a native unit of its own.
    script(&root, "idle", "", &log, 0o755);
    script(&root, "noexec", "", &log, 0o644);
    start_links(&root, "noexec");
    script(&root, "native", "", &log, 0o755);
    start_links(&root, "native");
    fs::write(
        root.join("etc/systemd/system/native.service"),
        "[Unit]\nDescription=native unit\n[Service]\nType=oneshot\nExecStart=/bin/true\n",
    )
    .unwrap();

    let pid = root.join("run/demo.pid");
    let systemctl = systemctl();
    let main = format!(
        "s='{s}'\n\
         $s is-active demo.service later.service idle.service\n\
         $s is-active demo-alias.service; $s show -p Names --value demo.service\n\
         kill -0 $(cat {pid}) && echo demo-alive\n\
         $s status demo.service | sed -n 2p\n\
         $s show -p After --value later.service | tr ' ' '\\n' | grep -x demo.service\n\
         $s show -p Description,SourcePath --value native.service idle.service\n\
         $s show -p LoadState --value noexec.service\n\
         p=$(cat {pid}); $s stop demo; $s is-active demo; kill -0 $p 2>/dev/null || echo demo-gone\n\
         $s start demo; kill -0 $(cat {pid}) && echo demo-back\n\
         exit 0",
        s = systemctl,
        pid = pid.display()
    );
    let Some(run) = boot(&root, &main) else {
        return;
    };
    run.assert_code(0);
    let init_d = root.join("etc/init.d");
    let loaded = format!("     Loaded: loaded ({}/demo; generated)", init_d.display());
    assert_eq!(
        run.stdout_str().lines().collect::<Vec<_>>(),
        [
            "active",
            "active",
            "inactive",
            // The Provides: alias is the running unit.
            "active",
            "demo.service demo-alias.service",
            "demo-alive",
            loaded.as_str(),
            "demo.service",
            "native unit",
            "",
            "",
            "LSB: the idle fixture",
            &format!("{}/idle", init_d.display()),
            "not-found",
            "inactive",
            "demo-gone",
            "demo-back",
        ],
        "{}",
        run.dump()
    );
    let log = fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    // Boot: demo before later (Required-Start), nothing of the controls; the stop and start
    // asked for; at shutdown each script's stop.
    assert_eq!(
        &lines[..4],
        ["start demo", "start later", "stop demo", "start demo"],
        "{log}\n{}",
        run.dump()
    );
    let mut at_shutdown = lines[4..].to_vec();
    at_shutdown.sort_unstable();
    assert_eq!(
        at_shutdown,
        ["stop demo", "stop later"],
        "{log}\n{}",
        run.dump()
    );
    // The generated files, where systemd-sysv-generator puts them.
    let late = root.join("run/systemd/generator.late");
    assert!(late.join("demo.service").is_file());
    assert_eq!(
        fs::read_link(late.join("multi-user.target.wants/demo.service")).unwrap(),
        Path::new("../demo.service")
    );
    assert_eq!(
        fs::read_link(late.join("demo-alias.service")).unwrap(),
        Path::new("demo.service")
    );
    assert!(!late.join("native.service").exists());
    assert!(!late.join("noexec.service").exists());
}

/// bosun's systemctl with `--root`, no bosun running: (exit code, stdout, stderr), the root
/// written `ROOT`.
fn offline(root: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = std::process::Command::new(bosun())
        .arg("systemctl")
        .arg(format!("--root={}", root.display()))
        .args(args)
        .env_remove("BOSUN_UNIT_PATH")
        .env_remove("SYSTEMCTL_SKIP_SYSV")
        .env("LC_ALL", "C.UTF-8")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let clean = |b: &[u8]| String::from_utf8_lossy(b).replace(&root.display().to_string(), "ROOT");
    (
        out.status.code().unwrap_or(-1),
        clean(&out.stdout),
        clean(&out.stderr),
    )
}

/// is-enabled only reads links (`ls ROOT/etc/rc[S5].d/S??NAME`), so systemd 252's own
/// systemctl can run it on the same root: both must say the same.
fn is_enabled_like_252(root: &Path, name: &str) -> (i32, String, String) {
    let ours = offline(root, &["is-enabled", name], &[]);
    if crate::systemctl::real_systemctl_252() {
        let out = std::process::Command::new(crate::systemctl::REAL)
            .arg(format!("--root={}", root.display()))
            .args(["is-enabled", name])
            .env_remove("SYSTEMCTL_SKIP_SYSV")
            .env("LC_ALL", "C.UTF-8")
            .output()
            .unwrap();
        let clean =
            |b: &[u8]| String::from_utf8_lossy(b).replace(&root.display().to_string(), "ROOT");
        let real = (
            out.status.code().unwrap_or(-1),
            clean(&out.stdout),
            clean(&out.stderr),
        );
        assert_eq!(
            ours, real,
            "bosun's is-enabled {name} against systemd 252's"
        );
    }
    ours
}

fn rc_links(root: &Path, name: &str) -> Vec<String> {
    let mut found = Vec::new();
    for lvl in ["0", "1", "2", "3", "4", "5", "6", "S"] {
        let Ok(dir) = fs::read_dir(root.join(format!("etc/rc{lvl}.d"))) else {
            continue;
        };
        for e in dir {
            let file = e.unwrap().file_name().into_string().unwrap();
            if file.get(3..) == Some(name) {
                found.push(format!("rc{lvl}.d/{file}"));
            }
        }
    }
    found.sort();
    found
}

/// `demo`, a SysV script only, and `both`, a script with a native unit of the same name.
fn enable_fixture(root: &Path, log: &Path) {
    script(root, "demo", "", log, 0o755);
    script(root, "both", "", log, 0o755);
    let units = root.join("etc/systemd/system");
    fs::create_dir_all(&units).unwrap();
    fs::write(
        units.join("both.service"),
        "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
    )
    .unwrap();
}

#[test]
fn offline_enable_disable_is_enabled_of_sysv_scripts() {
    let dir = Scratch::new("sysv-offline");
    let root = dir.join("root");
    enable_fixture(&root, &dir.join("log"));
    let redirect = |verb: &str, name: &str| {
        format!(
            "{name}.service is not a native service, redirecting to systemd-sysv-install.\n\
             Executing: /lib/systemd/systemd-sysv-install --root=ROOT {verb} {name}\n"
        )
    };

    assert_eq!(
        is_enabled_like_252(&root, "demo"),
        (1, "disabled\n".into(), redirect("is-enabled", "demo"))
    );
    assert_eq!(
        offline(&root, &["enable", "demo"], &[]),
        (0, String::new(), redirect("enable", "demo"))
    );
    let enabled = [
        "rc0.d/K01demo",
        "rc1.d/K01demo",
        "rc2.d/S01demo",
        "rc3.d/S01demo",
        "rc4.d/S01demo",
        "rc5.d/S01demo",
        "rc6.d/K01demo",
    ];
    assert_eq!(rc_links(&root, "demo"), enabled);
    assert_eq!(
        is_enabled_like_252(&root, "demo.service"),
        (0, "enabled\n".into(), redirect("is-enabled", "demo"))
    );
    assert_eq!(
        offline(&root, &["-q", "is-enabled", "demo"], &[]),
        (0, String::new(), String::new())
    );
    assert_eq!(
        offline(&root, &["disable", "demo"], &[]),
        (0, String::new(), redirect("disable", "demo"))
    );
    assert_eq!(
        rc_links(&root, "demo"),
        enabled.map(|l| l.replace("/S01", "/K01"))
    );
    assert_eq!(is_enabled_like_252(&root, "demo").0, 1);

    // A native unit beside the script: both are enabled; is-enabled asks the native unit.
    let (code, out, err) = offline(&root, &["enable", "both"], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "");
    assert_eq!(
        err,
        "Synchronizing state of both.service with SysV service script with \
         /lib/systemd/systemd-sysv-install.\n\
         Executing: /lib/systemd/systemd-sysv-install --root=ROOT enable both\n\
         Created symlink ROOT/etc/systemd/system/multi-user.target.wants/both.service \
         \u{2192} /etc/systemd/system/both.service.\n"
    );
    assert!(rc_links(&root, "both").contains(&"rc2.d/S01both".to_owned()));
    assert_eq!(
        is_enabled_like_252(&root, "both"),
        (0, "enabled\n".into(), String::new())
    );

    // update-rc.d's refusal ends the command with 1.
    let nodef = root.join("etc/init.d/nodef");
    fs::write(
        &nodef,
        "#!/bin/sh\n### BEGIN INIT INFO\n# Default-Stop: 0 6\n### END INIT INFO\n",
    )
    .unwrap();
    let (code, _, err) = offline(&root, &["enable", "nodef"], &[]);
    assert_eq!(code, 1);
    assert!(
        err.ends_with("update-rc.d: error: nodef Default-Start contains no runlevels, aborting.\n"),
        "{err}"
    );

    // Negative control: SYSTEMCTL_SKIP_SYSV=1 (update-rc.d's own calls) sees no SysV script.
    let (code, _, err) = offline(&root, &["enable", "demo"], &[("SYSTEMCTL_SKIP_SYSV", "1")]);
    assert_eq!(code, 1);
    assert!(!err.contains("systemd-sysv-install"), "{err}");
    assert!(rc_links(&root, "demo").iter().all(|l| l.contains("/K01")));

    // What the links mean at boot: disabled, not started; enabled, started.
    let main = format!("{} is-active demo; exit 0", systemctl());
    let Some(disabled) = boot(&root, &main) else {
        return;
    };
    assert_eq!(disabled.stdout_str(), "inactive\n");
    assert_eq!(offline(&root, &["-q", "enable", "demo"], &[]).0, 0);
    assert_eq!(boot(&root, &main).unwrap().stdout_str(), "active\n");
}

/// What systemd 252's systemctl needs under `--root` to enable a SysV script: its helper runs
/// `chroot ROOT /usr/sbin/update-rc.d`, so the root gets update-rc.d and a perl to run it.
/// False (with a SKIP line) when this machine lacks them or cannot chroot.
fn update_rc_d_chroot(root: &Path) -> bool {
    let perl_base = "/usr/lib/x86_64-linux-gnu/perl-base";
    let files = [
        "/usr/bin/perl",
        "/usr/sbin/update-rc.d",
        "/lib64/ld-linux-x86-64.so.2",
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/x86_64-linux-gnu/libcrypt.so.1",
    ];
    let missing: Vec<&str> = files
        .iter()
        .chain([&perl_base, &"/lib/systemd/systemd-sysv-install"])
        .filter(|f| !Path::new(f).exists())
        .copied()
        .collect();
    if !missing.is_empty() || !nix::unistd::geteuid().is_root() {
        println!(
            "SKIP: systemd 252's enable of a SysV script needs root and {missing:?}; compared with the rules only"
        );
        return false;
    }
    for f in files.iter().chain([&perl_base]) {
        let to = root.join(&f[1..]);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        let ok = std::process::Command::new("cp")
            .args(["-rL", f])
            .arg(&to)
            .status()
            .unwrap()
            .success();
        assert!(ok, "cp {f}");
    }
    true
}

/// Every entry under `root/etc` but init.d, with link targets.
fn rc_tree(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let etc = root.join("etc");
    for dir in fs::read_dir(&etc).unwrap() {
        let dir = dir.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("rc") {
            continue;
        }
        for e in fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            out.push(format!(
                "{name}/{} -> {}",
                p.file_name().unwrap().to_string_lossy(),
                fs::read_link(&p)
                    .map(|t| t.display().to_string())
                    .unwrap_or_default()
            ));
        }
    }
    out.sort();
    out
}

#[test]
fn offline_sysv_enable_disable_like_systemd_252() {
    if !crate::systemctl::real_systemctl_252() {
        return;
    }
    let dir = Scratch::new("sysv-252");
    let log = dir.join("log");
    let roots = [dir.join("real"), dir.join("ours")];
    for root in &roots {
        if !update_rc_d_chroot(root) {
            return;
        }
        enable_fixture(root, &log);
        fs::write(
            root.join("etc/systemd/system/multi-user.target"),
            "[Unit]\n",
        )
        .unwrap();
        for (name, header) in [
            ("nodef", "# Default-Stop: 0 6\n"),
            ("single", "# Default-Start: 1\n# Default-Stop: 0 6\n"),
        ] {
            fs::write(
                root.join("etc/init.d").join(name),
                format!("#!/bin/sh\n### BEGIN INIT INFO\n{header}### END INIT INFO\n"),
            )
            .unwrap();
        }
    }
    let commands: &[&[&str]] = &[
        &["is-enabled", "demo"],
        &["enable", "demo"],
        &["is-enabled", "demo", "both"],
        &["disable", "demo.service"],
        &["is-enabled", "demo"],
        &["enable", "demo"],
        &["-q", "disable", "demo"],
        &["enable", "both"],
        &["is-enabled", "both"],
        &["disable", "both", "demo"],
        &["enable", "nodef"],
        &["disable", "single"],
        &["enable", "demo", "missing.service"],
    ];
    for args in commands {
        let real = {
            let out = std::process::Command::new(crate::systemctl::REAL)
                .arg(format!("--root={}", roots[0].display()))
                .args(*args)
                .env_remove("SYSTEMCTL_SKIP_SYSV")
                .env("LC_ALL", "C")
                .output()
                .unwrap();
            let clean = |b: &[u8]| {
                String::from_utf8_lossy(b).replace(&roots[0].display().to_string(), "ROOT")
            };
            (
                out.status.code().unwrap_or(-1),
                clean(&out.stdout),
                clean(&out.stderr),
            )
        };
        let ours = offline(&roots[1], args, &[("LC_ALL", "C")]);
        assert_eq!(
            ours, real,
            "systemctl {args:?}: bosun's, then systemd 252's"
        );
        assert_eq!(rc_tree(&roots[1]), rc_tree(&roots[0]), "after {args:?}");
    }
    // The comparison sees links: the last enable made some.
    assert!(rc_tree(&roots[1]).iter().any(|l| l.contains("S01demo")));
}

/// Debian 12's slapd, which ships only /etc/init.d/slapd: `apt-get install` in a bookworm root
/// booted with bosun (its postinst runs update-rc.d, whose daemon-reload has bosun generate
/// the unit, then invoke-rc.d starts it), answered with ldapsearch, stopped; then a second
/// boot of the same root starts it from its rc2.d link. Debian's drop-in
/// `slapd-remain-after-exit.conf` sets `RemainAfterExit=no`, so slapd stays active only as
/// long as bosun counts its re-parented daemon as the unit's (issue 19's "Found" fix of
/// `Type=forking` with `GuessMainPID=no`).
#[test]
fn debian_slapd_runs_from_its_init_script() {
    const INSTALL: &str = r#"#!/bin/bash
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends slapd ldap-utils >/apt.log 2>&1 || { tail -20 /apt.log; exit 90; }
probe() {
    for i in $(seq 100); do
        ldapsearch -x -H ldap://127.0.0.1 -b '' -s base namingContexts 2>/dev/null | grep '^namingContexts:' && return
        sleep 0.1
    done
    echo "no answer"
}
echo "native=$(ls /lib/systemd/system/slapd.service 2>&1 | sed 's/.*: //')"
echo "active=$(systemctl is-active slapd)"
echo "loaded=$(systemctl status slapd 2>&1 | sed -n 2p)"
echo "probe=$(probe)"
pid=$(cat /run/slapd/slapd.pid)
systemctl stop slapd
echo "stopped=$(systemctl is-active slapd)"
kill -0 "$pid" 2>/dev/null && echo "daemon=alive" || echo "daemon=gone"
echo "enabled=$(systemctl is-enabled slapd 2>/dev/null)"
"#;
    const BOOT: &str = r#"#!/bin/bash
echo "active=$(systemctl is-active slapd)"
for i in $(seq 100); do
    ldapsearch -x -H ldap://127.0.0.1 -b '' -s base namingContexts 2>/dev/null | grep '^namingContexts:' && break
    sleep 0.1
done | sed 's/^/probe=/'
"#;
    let Some(binary) = crate::debroot::bosun_binary() else {
        return;
    };
    let dir = Scratch::new("sysv-slapd");
    let root = dir.join("root");
    if !crate::debroot::copy(&root) {
        return;
    }
    crate::debroot::install_bosun(&root, &binary);
    fs::write(root.join("install.sh"), INSTALL).unwrap();
    fs::write(root.join("boot.sh"), BOOT).unwrap();
    let Some(run) = crate::debroot::boot(&root, ["--", "/bin/bash", "/install.sh"])
        .start()
        .map(|p| p.wait(Duration::from_secs(600)))
    else {
        return;
    };
    run.assert_code(0);
    let out = run.stdout_str();
    let lines: Vec<String> = out.lines().map(str::to_owned).collect();
    for want in [
        "native=No such file or directory",
        "active=active",
        "loaded=     Loaded: loaded (/etc/init.d/slapd; generated)",
        "probe=namingContexts: dc=nodomain",
        "stopped=inactive",
        "daemon=gone",
        "enabled=enabled",
    ] {
        assert!(
            lines.iter().any(|l| l == want),
            "stdout lacks {want:?}\n{}",
            run.dump()
        );
    }
    let Some(run) = crate::debroot::boot(&root, ["--", "/bin/bash", "/boot.sh"])
        .start()
        .map(|p| p.wait(Duration::from_secs(120)))
    else {
        return;
    };
    run.assert_code(0);
    let out = run.stdout_str();
    for want in ["active=active", "probe=namingContexts: dc=nodomain"] {
        assert!(
            out.lines().any(|l| l == want),
            "stdout lacks {want:?}\n{}",
            run.dump()
        );
    }
    assert!(
        run.stderr
            .contains("Started LSB: OpenLDAP standalone server"),
        "{}",
        run.dump()
    );
}

/// A script installed while bosun runs: no unit until `daemon-reload` runs the generator again
/// (the negative control is the start before it); `systemctl enable` with bosun running hands
/// the script to the rc links as offline, and the next boot starts it.
#[test]
fn a_script_added_at_runtime_needs_daemon_reload_and_enable() {
    let dir = Scratch::new("sysv-reload");
    let root = dir.join("root");
    let log = dir.join("log");
    fs::create_dir_all(root.join("etc/systemd/system")).unwrap();
    // Written under another name: the boot's generator must not see it.
    script(&root, "late", "", &log, 0o755);
    let init_d = root.join("etc/init.d");
    fs::rename(init_d.join("late"), dir.join("late")).unwrap();
    let main = format!(
        "s='{s}'\n\
         $s start late.service 2>/dev/null || echo before-reload-refused\n\
         mv {staged} {init_d}/late\n\
         $s daemon-reload\n\
         $s start late.service && $s is-active late.service\n\
         $s enable late 2>&1\n\
         $s is-enabled late\n\
         exit 0",
        s = systemctl(),
        staged = dir.join("late").display(),
        init_d = init_d.display()
    );
    let Some(run) = boot(&root, &main) else {
        return;
    };
    run.assert_code(0);
    let root_text = root.display().to_string();
    assert_eq!(
        run.stdout_str()
            .replace(&root_text, "ROOT")
            .lines()
            .collect::<Vec<_>>(),
        [
            "before-reload-refused",
            "active",
            "late.service is not a native service, redirecting to systemd-sysv-install.",
            "Executing: /lib/systemd/systemd-sysv-install --root=ROOT enable late",
            "enabled",
        ],
        "{}",
        run.dump()
    );
    assert!(rc_links(&root, "late").contains(&"rc2.d/S01late".to_owned()));
    let main = format!("{} is-active late; exit 0", systemctl());
    let run = boot(&root, &main).unwrap();
    assert_eq!(run.stdout_str(), "active\n", "{}", run.dump());
}
