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
    let systemctl = format!("{} systemctl", bosun().display());
    let main = format!(
        "s='{s}'\n\
         $s is-active demo.service later.service idle.service\n\
         $s start demo-alias.service && $s status demo-alias.service | sed -n 1p | cut -d' ' -f2-\n\
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
    let Some(run) = run_pid1(
        Pid1::bosun()
            .env("BOSUN_ROOT", &root)
            .args(["--", "sh", "-c", &main]),
        T,
    ) else {
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
            // The alias is the running unit: starting it starts nothing more.
            "demo.service - LSB: the demo fixture",
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
