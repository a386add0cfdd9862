//! Issue #9: generators with bosun as PID 1 — their three output directories join the unit
//! search path where systemd puts them, they run again at daemon-reload, systemd's own are
//! skipped, a failing one is reported, a hanging one is killed at the timeout — and Debian's
//! postgresql generator makes `postgresql.service` start the cluster.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use crate::harness::{Pid1, Scratch, bosun, run_pid1};

const T: Duration = Duration::from_secs(60);

fn executable(path: &Path, body: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn generated_units_join_the_search_path_and_are_regenerated_at_daemon_reload() {
    let dir = Scratch::new("generators");
    let root = dir.join("root");
    let units = root.join("etc/systemd/system");
    fs::create_dir_all(&units).unwrap();
    // The image's own version of a unit the early directory overrides.
    fs::write(
        units.join("over.service"),
        "[Unit]\nDescription=from /etc\n[Service]\nExecStart=/bin/sleep 3600\n",
    )
    .unwrap();
    fs::create_dir_all(root.join("etc/app")).unwrap();
    fs::write(root.join("etc/app/name"), "first\n").unwrap();
    let args = dir.join("args");
    executable(
        &root.join("etc/systemd/system-generators/app-generator"),
        &format!(
            "echo \"$@\" >> {args}\n\
             name=$(cat {root}/etc/app/name)\n\
             printf '[Unit]\\nDescription=generated\\n[Service]\\nExecStart=/bin/sleep 3600\\n' > \"$1/$name.service\"\n\
             mkdir -p \"$1/multi-user.target.wants\"\n\
             ln -s \"$1/$name.service\" \"$1/multi-user.target.wants/$name.service\"\n\
             printf '[Unit]\\nDescription=from generator.early\\n[Service]\\nExecStart=/bin/sleep 3600\\n' > \"$2/over.service\"\n\
             printf '[Unit]\\nDescription=from generator.late\\n[Service]\\nExecStart=/bin/sleep 3600\\n' > \"$3/late.service\"\n\
             printf '[Unit]\\nDescription=late loses\\n' > \"$3/over.service\"",
            args = args.display(),
            root = root.display()
        ),
    );
    // systemd's own generators describe disks and consoles: not run unless named.
    let ran_systemds = dir.join("systemd-generator-ran");
    executable(
        &root.join("usr/lib/systemd/system-generators/systemd-fake-generator"),
        &format!("touch {}", ran_systemds.display()),
    );
    // A failing generator is reported; the others' units are still used.
    executable(
        &root.join("usr/lib/systemd/system-generators/zz-broken-generator"),
        "echo broken >&2; exit 3",
    );
    let systemctl = format!("{} systemctl", bosun().display());
    let main = format!(
        "{s} is-active first.service; {s} show -p Description --value over.service late.service\n\
         echo second > {root}/etc/app/name\n\
         {s} daemon-reload; {s} start second.service; {s} is-active second.service\n\
         {s} is-active first.service; exit 0",
        s = systemctl,
        root = root.display()
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
    assert_eq!(
        run.stdout_str().lines().collect::<Vec<_>>(),
        [
            "active",
            "from generator.early",
            // systemctl show separates units with an empty line.
            "",
            "from generator.late",
            "active",
            // Still running: a reload loads, it does not stop what the generator dropped.
            "active",
        ],
        "{}",
        run.dump()
    );
    let out = |d: &str| root.join("run/systemd").join(d).display().to_string();
    let expected = format!(
        "{} {} {}",
        out("generator"),
        out("generator.early"),
        out("generator.late")
    );
    assert_eq!(
        fs::read_to_string(&args)
            .unwrap()
            .lines()
            .collect::<Vec<_>>(),
        [expected.as_str(), expected.as_str()],
        "run at boot and at daemon-reload"
    );
    assert!(!ran_systemds.exists(), "systemd's own generator ran");
    assert!(
        run.stderr
            .contains("zz-broken-generator failed with exit code 3; going on"),
        "{}",
        run.dump()
    );

    // BOSUN_GENERATORS=off: nothing generated (the negative control of the whole test).
    let run = run_pid1(
        Pid1::bosun()
            .env("BOSUN_ROOT", &root)
            .env("BOSUN_GENERATORS", "off")
            .args([
                "--",
                "sh",
                "-c",
                &format!("{systemctl} is-active second.service; exit 0"),
            ]),
        T,
    )
    .unwrap();
    assert_eq!(run.stdout_str().trim(), "inactive", "{}", run.dump());
    // Naming systemd's own runs it.
    let run = run_pid1(
        Pid1::bosun()
            .env("BOSUN_ROOT", &root)
            .env("BOSUN_GENERATORS", "systemd-fake-generator")
            .args(["--", "true"]),
        T,
    )
    .unwrap();
    run.assert_code(0);
    assert!(ran_systemds.exists(), "{}", run.dump());
}

#[test]
fn a_hanging_generator_is_killed_at_the_timeout_and_boot_goes_on() {
    let dir = Scratch::new("generator-hang");
    let root = dir.join("root");
    executable(
        &root.join("etc/systemd/system-generators/hang-generator"),
        "exec sleep 3600",
    );
    let Some(run) = run_pid1(
        Pid1::bosun()
            .env("BOSUN_ROOT", &root)
            .env("BOSUN_GENERATOR_TIMEOUT", "500ms")
            .args(["--", "echo", "booted"]),
        T,
    ) else {
        return;
    };
    run.assert_code(0);
    assert_eq!(run.stdout_str().trim(), "booted");
    assert!(
        run.stderr.contains("hang-generator still runs after 500ms")
            && run.stderr.contains("killing it"),
        "{}",
        run.dump()
    );
}

/// Debian's postgresql generator makes postgresql.service want every cluster marked `auto`:
/// `postgresql.service` alone starts PostgreSQL 15's main cluster.
#[test]
fn debian_postgresql_generator_starts_the_cluster() {
    let generator = Path::new("/lib/systemd/system-generators/postgresql-generator");
    let cluster = Path::new("/etc/postgresql/15/main/postgresql.conf");
    if !nix::unistd::geteuid().is_root() || !generator.exists() || !cluster.exists() {
        println!(
            "SKIP: needs root, {} and {} (make test installs postgresql); generator test not run",
            generator.display(),
            cluster.display()
        );
        return;
    }
    let dir = Scratch::new("pg-generator");
    let units = dir.join("units");
    fs::create_dir_all(units.join("multi-user.target.wants")).unwrap();
    for file in ["postgresql.service", "postgresql@.service"] {
        std::os::unix::fs::symlink(format!("/lib/systemd/system/{file}"), units.join(file))
            .unwrap();
    }
    std::os::unix::fs::symlink(
        "../postgresql.service",
        units.join("multi-user.target.wants/postgresql.service"),
    )
    .unwrap();
    let check =
        "runuser -u postgres -- psql -h /run/postgresql -tAc 'select 1' 2>/dev/null | grep -qx 1";
    // Boot has settled when the main command runs: the cluster is up or was never wanted.
    let script = format!(
        "if {check}; then echo ANSWERED; fi\n\
         {} systemctl is-active postgresql@15-main.service; exit 0",
        bosun().display()
    );
    let boot = |generators: &str| {
        // The root is this machine's (the daemon and its cluster are), so the search path is
        // given: the units above, then the generators' output in the namespace's own /run.
        Pid1::bosun()
            .private_network()
            .env("BOSUN_ROOT", "/")
            .env("BOSUN_GENERATORS", generators)
            .env(
                "BOSUN_UNIT_PATH",
                format!("{}:/run/systemd/generator", units.display()),
            )
            .args(["--", "sh", "-c", &script])
    };
    let Some(run) = run_pid1(boot("auto"), T) else {
        return;
    };
    run.assert_code(0);
    // runuser's pam_unix lines come through /dev/log and are shown as `runuser[PID]: ...`.
    let said = |run: &crate::harness::Finished| -> Vec<String> {
        run.stdout_str()
            .lines()
            .filter(|l| !l.starts_with("runuser["))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(said(&run), ["ANSWERED", "active"], "{}", run.dump());
    // Without the generator, postgresql.service starts nothing (the negative control).
    let run = run_pid1(boot("off"), T).unwrap();
    assert_eq!(said(&run), ["inactive"], "{}", run.dump());
}
