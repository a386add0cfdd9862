//! Issue 21, the mount namespace: PrivateTmp=, ProtectSystem=strict with ReadWritePaths=
//! through a symbolic link into a volume that is a mount of its own, ProtectHome=,
//! InaccessiblePaths=, ReadOnlyPaths= (with `-` on a missing path) and BindPaths=, as bosun
//! (PID 1) applies them, judged by what the service itself can see and write, each beside a
//! control unit without the directive; and a container without CAP_SYS_ADMIN, where the
//! protections that only take away are reported once and not in force, while BindPaths=
//! fails the unit with 226/NAMESPACE as in systemd 252.
//!
//! Paths in the units are under the fixture's root (`@R@`), as bosun reads unit paths under
//! `BOSUN_ROOT`; `+@S@` names the state directory as the host's (systemd: outside
//! RootDirectory=).

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::fixtures::{Fixture, stop};
use crate::harness::{PYTHON, Pid1, bosun, systemctl_in, wait_until};

const T: Duration = Duration::from_secs(60);

/// A script that tries to open for writing (creating, never truncating or writing) each path
/// given after the result file and writes one line per path, `PATH ok` or `PATH ERRNO-NAME`,
/// then `seen PATH` or `unseen PATH` for each path after `--`.
fn prober(f: &Fixture) -> String {
    f.script(
        "probe.py",
        "import errno, os, sys\n\
         out, args = sys.argv[1], sys.argv[2:]\n\
         lines = []\n\
         look = args.index('--') if '--' in args else len(args)\n\
         for p in args[:look]:\n\
         \x20   try:\n\
         \x20       os.close(os.open(p, os.O_WRONLY | os.O_CREAT, 0o644)); lines.append(p + ' ok')\n\
         \x20   except OSError as e:\n\
         \x20       lines.append(p + ' ' + errno.errorcode[e.errno])\n\
         for p in args[look + 1:]:\n\
         \x20   lines.append(('seen ' if os.path.exists(p) else 'unseen ') + p)\n\
         open(out + '.tmp', 'w').write('\\n'.join(lines) + '\\n')\n\
         os.rename(out + '.tmp', out)\n",
    )
}

/// The lines a prober wrote to `@S@/NAME`, as PATH -> result.
fn results(f: &Fixture, pid1: &Pid1, name: &str) -> HashMap<String, String> {
    assert!(
        wait_until(T, || f.exists(name)),
        "{name}: {}",
        pid1.stderr_now()
    );
    f.lines(name)
        .iter()
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(a, b)| {
            if a == "seen" || a == "unseen" {
                (b.to_owned(), a.to_owned())
            } else {
                (a.to_owned(), b.to_owned())
            }
        })
        .collect()
}

/// `NAME.service` failed with 226/NAMESPACE as its main process's status, and its command
/// never ran (it would have touched `@S@/NAME`).
fn assert_failed_226(f: &Fixture, pid1: &Pid1, name: &str) {
    let unit = format!("{name}.service");
    let show = |p: &str| {
        systemctl_in(pid1.pid(), &f.root, &["show", "-p", p, "--value", &unit])
            .0
            .trim()
            .to_owned()
    };
    assert!(
        wait_until(T, || show("Result") == "exit-code"),
        "{}",
        pid1.stderr_now()
    );
    assert_eq!(show("ExecMainStatus"), "226");
    assert!(!f.exists(name));
}

/// Boot bosun on the fixture after `setup` ran in its namespaces (mounts only it sees).
fn boot_after(f: &Fixture, setup: &str) -> Option<Pid1> {
    Pid1::bosun()
        .env("BOSUN_ROOT", &f.root)
        .setup(setup)
        .start()
}

fn mkdirs(root: &Path, dirs: &[&str]) {
    for d in dirs {
        fs::create_dir_all(root.join(d)).unwrap();
    }
}

/// PrivateTmp=: the service's /tmp and /var/tmp are its own (a host file is not seen, what it
/// writes is not in the host's), shared by the unit's commands, and removed at the stop.
#[test]
fn private_tmp_is_private_shared_and_removed() {
    let f = Fixture::new("ns-private-tmp");
    let r = f.root.display().to_string();
    mkdirs(&f.root, &["tmp", "var/tmp"]);
    // bosun empties a /tmp of the container's own filesystem at boot; a tmpfs is left alone.
    fs::write(f.root.join("var/tmp/host-file"), "").unwrap();
    let probe = prober(&f);
    for (name, extra) in [("private", "PrivateTmp=yes\n"), ("control", "")] {
        f.unit(
            &format!("{name}.service"),
            &format!(
                "[Service]\n{extra}\
                 ExecStartPre=/bin/sh -c 'echo pre > {r}/tmp/{name}-pre'\n\
                 ExecStart=/bin/sh -c '{PYTHON} {probe} @S@/{name} {r}/tmp/{name}-main \
                 {r}/var/tmp/{name}-var -- {r}/tmp/host-file {r}/var/tmp/host-file \
                 {r}/tmp/{name}-pre; exec sleep 3600'\n"
            ),
        );
    }
    let setup = format!("mount -t tmpfs -o mode=1777 tmp '{r}/tmp' && touch '{r}/tmp/host-file'");
    let Some(pid1) = boot_after(&f, &setup) else {
        return;
    };
    let private = results(&f, &pid1, "private");
    // bosun's own view (its /tmp is a tmpfs of its mount namespace).
    let seen = |p: &str| {
        std::path::PathBuf::from(format!(
            "/proc/{}/root{}",
            pid1.pid(),
            f.root.join(p).display()
        ))
    };
    let control = results(&f, &pid1, "control");
    // What the service wrote is not in the host's /tmp, the host's file not in its /tmp, and
    // ExecStartPre='s file is (one namespace's directories for the whole run).
    assert_eq!(private[&format!("{r}/tmp/private-main")], "ok");
    assert_eq!(
        private[&format!("{r}/tmp/host-file")],
        "unseen",
        "{private:?}"
    );
    assert_eq!(private[&format!("{r}/var/tmp/host-file")], "unseen");
    assert_eq!(private[&format!("{r}/tmp/private-pre")], "seen");
    assert!(!seen("tmp/private-main").exists());
    assert!(!seen("tmp/private-pre").exists());
    assert!(!seen("var/tmp/private-var").exists());
    // The control shares the host's.
    assert_eq!(control[&format!("{r}/tmp/host-file")], "seen");
    assert!(seen("tmp/control-main").exists());
    // The run's directories: systemd-private-BOOTID-UNIT-RANDOM/tmp, 01777.
    let private_dirs = |base: &str| -> Vec<std::path::PathBuf> {
        fs::read_dir(seen(base))
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("systemd-private-"))
            })
            .collect()
    };
    let dirs = private_dirs("tmp");
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    assert!(
        dirs[0].to_string_lossy().contains("-private.service-"),
        "{dirs:?}"
    );
    assert!(dirs[0].join("tmp/private-main").exists());
    assert!(dirs[0].join("tmp/private-pre").exists());
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &fs::metadata(dirs[0].join("tmp")).unwrap().permissions(),
    );
    assert_eq!(mode & 0o7777, 0o1777);
    assert_eq!(private_dirs("var/tmp").len(), 1);
    systemctl_in(pid1.pid(), &f.root, &["stop", "private.service"]);
    assert!(
        wait_until(T, || private_dirs("tmp").is_empty()
            && private_dirs("var/tmp").is_empty()),
        "{:?} {}",
        private_dirs("tmp"),
        pid1.stderr_now()
    );
    // The janitor made spare directories for a next start (renamed into place by it); they go
    // when bosun ends.
    let spares = |base: &std::path::Path| -> Vec<std::path::PathBuf> {
        fs::read_dir(base)
            .map(|dir| {
                dir.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with(".bosun-private-"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(
        wait_until(T, || !spares(&seen("var/tmp")).is_empty()),
        "{}",
        pid1.stderr_now()
    );
    // The janitor that made them runs at the lowest priority (nice 19): its work waits.
    let janitor_nice = || -> Option<i64> {
        let kids = fs::read_to_string(format!("/proc/{0}/task/{0}/children", pid1.pid())).ok()?;
        kids.split_whitespace().find_map(|pid| {
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            if !cmdline.ends_with(b"janitor\0") {
                return None;
            }
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // After the command name: state is field 3, nice field 19.
            let rest = &stat[stat.rfind(')')? + 2..];
            rest.split_whitespace().nth(16)?.parse().ok()
        })
    };
    assert_eq!(janitor_nice(), Some(19));
    stop(pid1);
    assert_eq!(
        spares(&f.root.join("var/tmp")),
        Vec::<std::path::PathBuf>::new()
    );
}

/// A unit that stops only at bosun's end loses its PrivateTmp= trees too: bosun's end waits for
/// the janitor to remove them (it is spared the final SIGTERM), however many files the service
/// left there.
#[test]
fn private_tmp_of_a_unit_stopped_at_the_end_is_removed() {
    let f = Fixture::new("ns-private-tmp-end");
    let r = f.root.display().to_string();
    mkdirs(&f.root, &["tmp", "var/tmp"]);
    f.unit(
        "filler.service",
        &format!(
            "[Service]\nPrivateTmp=yes\n\
             ExecStart=/bin/sh -c 'mkdir {r}/var/tmp/many && cd {r}/var/tmp/many && \
             seq 30000 | xargs touch && touch {r}/filled; exec sleep 3600'\n"
        ),
    );
    let setup = format!("mount -t tmpfs -o mode=1777 tmp '{r}/tmp'");
    let Some(pid1) = boot_after(&f, &setup) else {
        return;
    };
    assert!(
        wait_until(T, || f.root.join("filled").exists()),
        "{}",
        pid1.stderr_now()
    );
    let private = || -> Vec<String> {
        fs::read_dir(f.root.join("var/tmp"))
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("systemd-private-"))
            .collect()
    };
    assert_eq!(private().len(), 1, "{:?}", private());
    let run = stop(pid1);
    assert_eq!(private(), Vec::<String>::new(), "{}", run.dump());
}

/// A unit's later starts join a copy of a namespace kept from its plan (the first start makes
/// its own, the second makes the kept one): each run still gets an empty /tmp of its own and
/// the same protections, and a directory made anew between two starts is the one the service
/// sees (the kept namespace holds the old one: it is not used for it).
#[test]
fn later_starts_join_a_kept_namespace_with_the_same_protections() {
    let f = Fixture::new("ns-kept");
    let r = f.root.display().to_string();
    mkdirs(&f.root, &["tmp", "var/tmp", "var/lib/app", "etc"]);
    // Written into, never made: the directory stays as it was, so the plan is kept.
    fs::write(f.root.join("var/lib/app/mark"), "").unwrap();
    let probe = prober(&f);
    f.unit(
        "kept.service",
        &format!(
            "[Service]\nType=oneshot\nPrivateTmp=yes\nProtectSystem=strict\n\
             ReadWritePaths=/var/lib/app +@S@\n\
             ExecStart=/bin/sh -c 'n=$(ls @S@ | grep -c \"^run\"); \
             [ -e {r}/tmp/mark ] && touch @S@/dirty$n; \
             exec {PYTHON} {probe} @S@/run$n {r}/tmp/mark {r}/var/lib/app/mark {r}/etc/mark'\n"
        ),
    );
    // A writable TemporaryFileSystem= is the run's own at every start: what one run leaves
    // there, the next does not see (such a plan keeps no namespace).
    mkdirs(&f.root, &["srv"]);
    f.unit(
        "scratch.service",
        &format!(
            "[Service]\nType=oneshot\nTemporaryFileSystem=/srv\n\
             ExecStart=/bin/sh -c 'n=$(ls @S@ | grep -c \"^scratch\"); \
             [ -e {r}/srv/left ] && touch @S@/left$n; touch {r}/srv/left @S@/scratch$n'\n"
        ),
    );
    let setup = format!("mount -t tmpfs -o mode=1777 tmp '{r}/tmp'");
    let Some(pid1) = boot_after(&f, &setup) else {
        return;
    };
    for n in 0..3 {
        if n > 0 {
            systemctl_in(pid1.pid(), &f.root, &["start", "scratch.service"]);
        }
        assert!(
            wait_until(T, || f.exists(&format!("scratch{n}"))),
            "{}",
            pid1.stderr_now()
        );
        assert!(
            !f.exists(&format!("left{n}")),
            "run {n} saw the last run's /srv"
        );
    }
    for n in 0..4 {
        if n > 0 {
            if n == 3 {
                // The writable directory made anew between two starts.
                fs::remove_dir_all(f.root.join("var/lib/app")).unwrap();
                fs::create_dir(f.root.join("var/lib/app")).unwrap();
            }
            systemctl_in(pid1.pid(), &f.root, &["start", "kept.service"]);
        }
        let run = results(&f, &pid1, &format!("run{n}"));
        assert_eq!(run[&format!("{r}/tmp/mark")], "ok", "run {n}: {run:?}");
        assert_eq!(
            run[&format!("{r}/var/lib/app/mark")],
            "ok",
            "run {n}: {run:?}"
        );
        assert_eq!(run[&format!("{r}/etc/mark")], "EROFS", "run {n}: {run:?}");
        assert!(
            !f.exists(&format!("dirty{n}")),
            "run {n} saw the last run's /tmp"
        );
        assert!(f.root.join("var/lib/app/mark").exists(), "run {n}");
    }
    stop(pid1);
}

/// ProtectSystem=strict with ReadWritePaths=/var/lib/app, where /var/lib/app is a symbolic
/// link into /data, a mount of its own (the volume, as `bosun image prepare` leaves it): the
/// volume stays writable through the link, while the rest of the tree, the rest of the volume
/// included, is read-only (EROFS); a control unit without the directives writes everywhere.
#[test]
fn protect_system_strict_keeps_the_volume_writable_through_the_link() {
    let f = Fixture::new("ns-strict");
    let r = f.root.display().to_string();
    mkdirs(&f.root, &["data", "var/lib", "etc", "usr"]);
    std::os::unix::fs::symlink("../../data/app", f.root.join("var/lib/app")).unwrap();
    let probe = prober(&f);
    let targets = |name: &str| {
        format!(
            "{r}/var/lib/app/{name} {r}/data/{name} {r}/etc/{name} {r}/usr/{name} {r}/{name} \
             {r}/run/{name}/file"
        )
    };
    f.unit(
        "strict.service",
        &format!(
            "[Service]\nType=oneshot\nProtectSystem=strict\nReadWritePaths=/var/lib/app +@S@\n\
             RuntimeDirectory=strict\n\
             ExecStart={PYTHON} {probe} @S@/strict {}\n",
            targets("strict")
        ),
    );
    f.unit(
        "control.service",
        &format!(
            "[Service]\nType=oneshot\nRuntimeDirectory=control\n\
             ExecStart={PYTHON} {probe} @S@/control {}\n",
            targets("control")
        ),
    );
    let setup = format!("mount -t tmpfs -o mode=755 volume '{r}/data' && mkdir '{r}/data/app'");
    let Some(pid1) = boot_after(&f, &setup) else {
        return;
    };
    let strict = results(&f, &pid1, "strict");
    let at = |name: &str, p: &str| format!("{r}/{p}").replace("NAME", name);
    assert_eq!(
        strict[&at("strict", "var/lib/app/NAME")],
        "ok",
        "{strict:?}"
    );
    for p in ["data/NAME", "etc/NAME", "usr/NAME", "NAME"] {
        assert_eq!(strict[&at("strict", p)], "EROFS", "{p}: {strict:?}");
    }
    // RuntimeDirectory= stays writable under strict, as in systemd.
    assert_eq!(strict[&at("strict", "run/NAME/file")], "ok", "{strict:?}");
    let control = results(&f, &pid1, "control");
    for p in [
        "var/lib/app/NAME",
        "data/NAME",
        "etc/NAME",
        "usr/NAME",
        "NAME",
    ] {
        assert_eq!(control[&at("control", p)], "ok", "{p}: {control:?}");
    }
    // Nothing the service mounted is seen outside: bosun's own namespace is unchanged.
    let mounts = fs::read_to_string(format!("/proc/{}/mountinfo", pid1.pid())).unwrap();
    assert!(!mounts.contains("unit-root"), "{mounts}");
    stop(pid1);
}

/// ProtectHome=yes hides /home and /root; InaccessiblePaths= hides a directory and a file;
/// ReadOnlyPaths= makes a tree read-only and skips a missing `-` path; BindPaths= shows a
/// directory at another place; without `-`, a missing path fails the unit with 226.
#[test]
fn protect_home_inaccessible_read_only_and_bind_paths() {
    let f = Fixture::new("ns-paths");
    let r = f.root.display().to_string();
    mkdirs(
        &f.root,
        &[
            "home/user",
            "root",
            "srv/secret",
            "srv/ro",
            "srv/src",
            "srv/dst",
        ],
    );
    for file in [
        "home/user/file",
        "srv/secret/key",
        "srv/key",
        "srv/src/shown",
    ] {
        fs::write(f.root.join(file), "x").unwrap();
    }
    let probe = prober(&f);
    let args = |name: &str| {
        format!(
            "@S@/{name} {r}/srv/ro/{name} {r}/home/user/{name} -- {r}/home/user/file \
             {r}/srv/secret/key {r}/srv/key {r}/srv/dst/shown"
        )
    };
    f.unit(
        "paths.service",
        &format!(
            "[Service]\nType=oneshot\nProtectHome=yes\n\
             InaccessiblePaths=/srv/secret /srv/key\n\
             ReadOnlyPaths=-/nonexistent /srv/ro\nBindPaths=/srv/src:/srv/dst\n\
             ExecStart={PYTHON} {probe} {}\n",
            args("paths")
        ),
    );
    f.unit(
        "control.service",
        &format!(
            "[Service]\nType=oneshot\nExecStart={PYTHON} {probe} {}\n",
            args("control")
        ),
    );
    f.unit(
        "missing.service",
        "[Service]\nReadOnlyPaths=/nonexistent\n\
         ExecStart=/bin/sh -c 'touch @S@/missing'\n",
    );
    let Some(pid1) = f.boot() else { return };
    let paths = results(&f, &pid1, "paths");
    assert_eq!(paths[&format!("{r}/home/user/file")], "unseen", "{paths:?}");
    assert_eq!(paths[&format!("{r}/srv/secret/key")], "unseen", "{paths:?}");
    // A file made inaccessible is an empty, mode-0 file: root still sees that it exists,
    // and cannot write it (read-only).
    assert_eq!(paths[&format!("{r}/srv/key")], "seen");
    assert_eq!(paths[&format!("{r}/srv/ro/paths")], "EROFS", "{paths:?}");
    assert_eq!(
        paths[&format!("{r}/home/user/paths")],
        "ENOENT",
        "{paths:?}"
    );
    assert_eq!(paths[&format!("{r}/srv/dst/shown")], "seen", "{paths:?}");
    let control = results(&f, &pid1, "control");
    for p in ["home/user/file", "srv/secret/key", "srv/key"] {
        assert_eq!(control[&format!("{r}/{p}")], "seen", "{control:?}");
    }
    assert_eq!(control[&format!("{r}/srv/dst/shown")], "unseen");
    assert_eq!(control[&format!("{r}/srv/ro/control")], "ok");
    assert_failed_226(&f, &pid1, "missing");
    let err = stop(pid1).stderr;
    assert!(
        err.contains(
            "missing.service: Failed to execute /bin/sh: cannot set up its mount \
                      namespace (226/NAMESPACE): /nonexistent: no such file or directory"
        ),
        "{err}"
    );
}

/// Without CAP_SYS_ADMIN no namespace can be made: a unit asking for PrivateTmp= and
/// ProtectSystem= starts without them, and bosun says so once, at boot, naming what the
/// runtime would have to grant; units asking for BindPaths= or TemporaryFileSystem= fail
/// with 226/NAMESPACE.
#[test]
fn without_cap_sys_admin_protections_are_reported_and_binds_fail_226() {
    let f = Fixture::new("ns-noadmin");
    let r = f.root.display().to_string();
    mkdirs(&f.root, &["tmp", "var/tmp", "usr", "srv/src", "srv/dst"]);
    let probe = prober(&f);
    f.unit(
        "sandboxed.service",
        &format!(
            "[Service]\nType=oneshot\nPrivateTmp=yes\nProtectSystem=strict\n\
             ExecStart={PYTHON} {probe} @S@/sandboxed {r}/usr/file {r}/tmp/file\n"
        ),
    );
    f.unit(
        "bound.service",
        "[Service]\nBindPaths=/srv/src:/srv/dst\n\
         ExecStart=/bin/sh -c 'touch @S@/bound'\n",
    );
    f.unit(
        "temporary.service",
        "[Service]\nTemporaryFileSystem=/srv/dst\nExecStart=/bin/sh -c 'touch @S@/temporary'\n",
    );
    let Some(pid1) = f.boot_without("-sys_admin") else {
        return;
    };
    // It started, unconfined: it could write /usr and the host's /tmp.
    let sandboxed = results(&f, &pid1, "sandboxed");
    assert_eq!(sandboxed[&format!("{r}/usr/file")], "ok");
    assert!(f.root.join("tmp/file").exists());
    assert_failed_226(&f, &pid1, "bound");
    assert_failed_226(&f, &pid1, "temporary");
    let err = stop(pid1).stderr;
    let line = "sandboxed.service: not in force in this container: PrivateTmp, ProtectSystem \
                (unshare(CLONE_NEWNS): Operation not permitted: a mount namespace needs \
                CAP_SYS_ADMIN";
    assert_eq!(err.matches(line).count(), 1, "{err}");
    assert!(
        err.contains(
            "bound.service: not in force in this container: BindPaths (its commands fail with \
             226/NAMESPACE) (unshare(CLONE_NEWNS)"
        ),
        "{err}"
    );
    assert!(
        err.contains("bound.service: Failed to execute /bin/sh: cannot set up its mount namespace (226/NAMESPACE): BindPaths need a mount namespace"),
        "{err}"
    );
}

/// ProtectKernelTunables=, ProtectControlGroups= and PrivateDevices= as root: /proc/sys,
/// the cgroup tree and the private /dev are read-only, /dev holds the pseudo-devices only;
/// ProtectProc=invisible and ProcSubset=pid as nobody: PID 1 (root's) and /proc/meminfo are
/// gone from its /proc. The controls, without the directives, see and open everything.
#[test]
fn kernel_tunables_control_groups_devices_and_proc() {
    let f = Fixture::new("ns-api");
    let probe = prober(&f);
    let opened = "/proc/sys/kernel/domainname /sys/fs/cgroup/unified/cgroup.procs /dev/new \
                  -- /dev/null /dev/urandom /dev/kmsg /dev/pts /dev/shm";
    let procs = "-- /proc/1 /proc/meminfo /proc/self/status";
    for (name, extra, args) in [
        (
            "api",
            "ProtectKernelTunables=yes\nProtectControlGroups=yes\nPrivateDevices=yes\n",
            opened,
        ),
        ("api-control", "", opened),
        (
            "proc",
            // With ProtectKernelTunables= too, as chrony's unit has it: the new procfs
            // has no /proc/sys to protect, which is no failure.
            "User=nobody\nProtectProc=invisible\nProcSubset=pid\nProtectKernelTunables=yes\n",
            procs,
        ),
        ("proc-control", "User=nobody\n", procs),
    ] {
        f.unit(
            &format!("{name}.service"),
            &format!(
                "[Service]\nType=oneshot\n{extra}ExecStart={PYTHON} {probe} @S@/{name} {args}\n"
            ),
        );
    }
    let Some(pid1) = f.boot() else { return };
    let api = results(&f, &pid1, "api");
    for p in [
        "/proc/sys/kernel/domainname",
        "/sys/fs/cgroup/unified/cgroup.procs",
        "/dev/new",
    ] {
        assert_eq!(api[p], "EROFS", "{p}: {api:?}");
    }
    for p in ["/dev/null", "/dev/urandom", "/dev/pts", "/dev/shm"] {
        assert_eq!(api[p], "seen", "{p}: {api:?}");
    }
    assert_eq!(api["/dev/kmsg"], "unseen", "{api:?}");
    let control = results(&f, &pid1, "api-control");
    for p in [
        "/proc/sys/kernel/domainname",
        "/sys/fs/cgroup/unified/cgroup.procs",
    ] {
        assert_eq!(control[p], "ok", "{p}: {control:?}");
    }
    assert_eq!(control["/dev/kmsg"], "seen", "{control:?}");
    let proc = results(&f, &pid1, "proc");
    assert_eq!(proc["/proc/1"], "unseen", "{proc:?}");
    assert_eq!(proc["/proc/meminfo"], "unseen", "{proc:?}");
    assert_eq!(proc["/proc/self/status"], "seen", "{proc:?}");
    let control = results(&f, &pid1, "proc-control");
    assert_eq!(control["/proc/1"], "seen", "{control:?}");
    assert_eq!(control["/proc/meminfo"], "seen", "{control:?}");
    stop(pid1);
}

/// TemporaryFileSystem= (an empty tmpfs, read-only with `ro`), NoExecPaths= with ExecPaths=
/// inside it, and PrivateMounts= (what the service mounts stays its own), each beside a
/// control unit without them.
#[test]
fn temporary_file_systems_exec_paths_and_private_mounts() {
    let f = Fixture::new("ns-level3");
    let r = f.root.display().to_string();
    mkdirs(
        &f.root,
        &["srv/ro", "srv/rw", "srv/bin", "srv/allowed", "srv/pm"],
    );
    fs::write(f.root.join("srv/ro/old"), "x").unwrap();
    for dir in ["srv/bin", "srv/allowed"] {
        fs::copy("/bin/true", f.root.join(dir).join("true")).unwrap();
    }
    let probe = prober(&f);
    let run = |name: &str| {
        format!(
            "ExecStart=/bin/sh -c 'for p in {r}/srv/bin/true {r}/srv/allowed/true; do \
             if $p; then echo \"$p ok\"; else echo \"$p denied\"; fi; done > @S@/{name}.exec'\n\
             ExecStart=/bin/sh -c 'mount -t tmpfs {name} {r}/srv/pm'\n\
             ExecStart={PYTHON} {probe} @S@/{name} {r}/srv/ro/{name} {r}/srv/rw/{name} -- {r}/srv/ro/old\n"
        )
    };
    f.unit(
        "level3.service",
        &format!(
            "[Service]\nType=oneshot\nTemporaryFileSystem=/srv/ro:ro /srv/rw\n\
             NoExecPaths=/srv\nExecPaths=/srv/allowed\nPrivateMounts=yes\n{}",
            run("level3")
        ),
    );
    f.unit(
        "control.service",
        &format!("[Service]\nType=oneshot\n{}", run("control")),
    );
    let Some(pid1) = f.boot() else { return };
    let level3 = results(&f, &pid1, "level3");
    assert_eq!(level3[&format!("{r}/srv/ro/old")], "unseen", "{level3:?}");
    assert_eq!(level3[&format!("{r}/srv/ro/level3")], "EROFS", "{level3:?}");
    assert_eq!(level3[&format!("{r}/srv/rw/level3")], "ok", "{level3:?}");
    assert!(!f.root.join("srv/rw/level3").exists());
    let exec = f.read("level3.exec");
    assert!(exec.contains(&format!("{r}/srv/bin/true denied")), "{exec}");
    assert!(exec.contains(&format!("{r}/srv/allowed/true ok")), "{exec}");
    let control = results(&f, &pid1, "control");
    assert_eq!(control[&format!("{r}/srv/ro/old")], "seen");
    assert_eq!(control[&format!("{r}/srv/ro/control")], "ok");
    assert!(f.root.join("srv/rw/control").exists());
    let exec = f.read("control.exec");
    assert!(exec.contains(&format!("{r}/srv/bin/true ok")), "{exec}");
    // The control's tmpfs is in bosun's namespace, the sandboxed unit's is not.
    let mounts = fs::read_to_string(format!("/proc/{}/mountinfo", pid1.pid())).unwrap();
    assert!(mounts.contains(" control "), "{mounts}");
    assert!(!mounts.contains(" level3 "), "{mounts}");
    stop(pid1);
}

/// bosun running as a user other than root, without CAP_SYS_ADMIN (as systemd's user
/// managers do): a unit that asks for no User= gets its namespace inside a user namespace
/// mapping only bosun's own uid, so PrivateTmp= and ProtectSystem=strict are in force; a unit
/// with User= is reported as not having them; a control unit writes where the sandboxed one
/// cannot.
#[test]
fn a_user_namespace_sandboxes_bosun_run_as_a_user() {
    let unprivileged = std::process::Command::new("setpriv")
        .args([
            "--reuid=1000",
            "--regid=1000",
            "--clear-groups",
            "unshare",
            "--user",
            "true",
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !unprivileged {
        println!("SKIP: no user namespace for an unprivileged user here; userns test not run");
        return;
    }
    let f = Fixture::new("ns-userns");
    let r = f.root.display().to_string();
    mkdirs(&f.root, &["tmp", "var/tmp", "etc"]);
    let probe = prober(&f);
    for (name, extra) in [
        (
            "userns",
            "PrivateTmp=yes\nProtectSystem=strict\nReadWritePaths=+@S@\n",
        ),
        ("control", ""),
    ] {
        f.unit(
            &format!("{name}.service"),
            &format!(
                "[Service]\nType=oneshot\n{extra}\
                 ExecStart=/bin/sh -c 'cat /proc/self/uid_map > @S@/{name}.map'\n\
                 ExecStart={PYTHON} {probe} @S@/{name} {r}/etc/{name} -- {r}/tmp/host-file\n"
            ),
        );
    }
    f.unit(
        "named.service",
        "[Service]\nType=oneshot\nUser=nobody\nPrivateTmp=yes\nExecStart=/bin/true\n",
    );
    let chown = format!("chown -R 1000:1000 '{r}' && ");
    let setup =
        format!("{chown}mount -t tmpfs -o mode=1777 tmp '{r}/tmp' && touch '{r}/tmp/host-file'");
    let Some(pid1) = Pid1::program("setpriv")
        .args([
            "--reuid=1000",
            "--regid=1000",
            "--clear-groups",
            "--inh-caps=-all",
            "--",
        ])
        .arg(bosun())
        .env("BOSUN_ROOT", &f.root)
        .setup(&setup)
        .start()
    else {
        return;
    };
    let sandboxed = results(&f, &pid1, "userns");
    assert_eq!(
        sandboxed[&format!("{r}/etc/userns")],
        "EROFS",
        "{sandboxed:?}"
    );
    assert_eq!(
        sandboxed[&format!("{r}/tmp/host-file")],
        "unseen",
        "{sandboxed:?}"
    );
    let map: Vec<String> = f
        .read("userns.map")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(map, ["1000", "1000", "1"]);
    let control = results(&f, &pid1, "control");
    assert_eq!(control[&format!("{r}/etc/control")], "ok", "{control:?}");
    assert_eq!(
        control[&format!("{r}/tmp/host-file")],
        "seen",
        "{control:?}"
    );
    assert_ne!(f.read("control.map").split_whitespace().nth(2), Some("1"));
    let err = stop(pid1).stderr;
    assert!(
        err.contains("named.service: not in force in this container: PrivateTmp (a user namespace"),
        "{err}"
    );
    assert!(!err.contains("userns.service: not in force"), "{err}");
}
