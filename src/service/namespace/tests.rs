use super::entries::{Want, prune, wants};
use super::table::visible_points;
use super::*;
use crate::unit::sandbox::{BindPath, ProtectProc, ProtectSystem, SandboxPath};

fn flags(path: &Path) -> MsFlags {
    // /run and /dev/shm are nosuid,nodev tmpfs; /data noexec; the rest relatime.
    if path.starts_with("/run") {
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_RELATIME
    } else if path.starts_with("/data") {
        MsFlags::MS_NOEXEC | MsFlags::MS_RELATIME
    } else {
        MsFlags::MS_RELATIME
    }
}

fn table(points: &[&str]) -> Table {
    Table::new(points.iter().map(PathBuf::from).collect(), flags)
}

fn entry(path: &str, mode: Mode) -> Entry {
    Entry {
        path: path.into(),
        mode,
        source: None,
        recursive: true,
        options: None,
        id: (0, 0, 0),
    }
}

/// The plan as text, one step a line.
fn lines(plan: &Plan) -> Vec<String> {
    let s = |c: &CString| c.to_string_lossy().into_owned();
    plan.steps
        .iter()
        .map(|(step, _)| match step {
            Step::Unshare(flags) if flags.contains(CloneFlags::CLONE_NEWUTS) => {
                "unshare uts".to_owned()
            }
            Step::Unshare(_) => "unshare".to_owned(),
            Step::UserNamespace { uid_map, .. } => format!("userns {}", s(uid_map).trim()),
            Step::Propagate(t, f) if f.contains(MsFlags::MS_SLAVE) => format!("slave {}", s(t)),
            Step::Propagate(t, f) if f.contains(MsFlags::MS_SHARED) => format!("shared {}", s(t)),
            Step::Propagate(t, _) => format!("private {}", s(t)),
            Step::Bind {
                source,
                target,
                flags,
            } => format!(
                "bind{} {} {}",
                if flags.contains(MsFlags::MS_REC) {
                    " rec"
                } else {
                    ""
                },
                s(source),
                s(target)
            ),
            Step::Remount { target, flags } => {
                let mut words = vec![format!("remount {}", s(target))];
                for (f, w) in [
                    (MsFlags::MS_RDONLY, "ro"),
                    (MsFlags::MS_NOSUID, "nosuid"),
                    (MsFlags::MS_NODEV, "nodev"),
                    (MsFlags::MS_NOEXEC, "noexec"),
                ] {
                    if flags.contains(f) {
                        words.push(w.to_owned());
                    }
                }
                words.join(" ")
            }
            Step::Tmpfs { target, .. } => format!("tmpfs {}", s(target)),
            Step::Procfs { .. } => "procfs".to_owned(),
            Step::Mkdir(p) => format!("mkdir {}", s(p)),
            Step::Touch(p) => format!("touch {}", s(p)),
            Step::Symlink { target, path } => {
                format!("symlink {} {}", s(path), target.to_string_lossy())
            }
            Step::EnterRoot {
                staging,
                move_onto_root,
            } => format!("enter {} move={move_onto_root}", s(staging)),
        })
        .collect()
}

#[test]
fn strict_with_a_writable_volume_path() {
    // ProtectSystem=strict, ReadWritePaths=/var/lib/redis resolved to /data/redis (a
    // symbolic link into the volume), PrivateTmp=.
    let mut list = vec![
        entry("/", Mode::ReadOnly),
        entry("/data/redis", Mode::ReadWrite),
        entry("/proc", Mode::ReadWrite),
        Entry {
            source: Some("/tmp/systemd-private-x/tmp".into()),
            ..entry("/tmp", Mode::PrivateTmp)
        },
    ];
    list = prune(list);
    let t = table(&["/", "/data", "/proc", "/proc/sys", "/run", "/tmp"]);
    let plan = build(
        &list,
        &t,
        Path::new("/run/bosun/unit-root"),
        Path::new("/run/bosun/inaccessible"),
        &Extras::default(),
    );
    let s = "/run/bosun/unit-root";
    assert_eq!(
        lines(&plan),
        [
            "unshare".to_owned(),
            "slave /".to_owned(),
            format!("bind rec / {s}"),
            // Not a mount point: bound on itself, so that it stays writable.
            format!("bind rec {s}/data/redis {s}/data/redis"),
            format!("bind rec /tmp/systemd-private-x/tmp {s}/tmp"),
            format!("remount {s} ro"),
            // Every mount of the tree, its own flags kept; /proc and /tmp are entries of their
            // own (the deny list), /data/redis too.
            format!("remount {s}/data ro noexec"),
            format!("remount {s}/run ro nosuid nodev"),
            format!("enter {s} move=true"),
            "shared /".to_owned(),
        ]
    );
}

#[test]
fn a_chroot_slaves_its_top_mounts_and_does_not_move() {
    let list = vec![entry("/usr", Mode::ReadOnly)];
    let t = table(&["/dev", "/dev/pts", "/proc", "/run"]);
    let plan = build(
        &list,
        &t,
        Path::new("/run/s"),
        Path::new("/run/i"),
        &Extras::default(),
    );
    assert_eq!(
        lines(&plan),
        [
            "unshare",
            "slave /dev",
            "slave /proc",
            "slave /run",
            "bind rec / /run/s",
            "bind rec /run/s/usr /run/s/usr",
            "remount /run/s/usr ro",
            "enter /run/s move=false",
            "shared /",
        ]
    );
}

#[test]
fn inaccessible_and_read_only_binds() {
    let list = prune(vec![
        Entry {
            recursive: false,
            ..entry("/etc/secret", Mode::Inaccessible)
        },
        entry("/home", Mode::Inaccessible),
        // Hidden by /home: dropped.
        entry("/home/user", Mode::ReadOnly),
        Entry {
            source: Some("/data/conf".into()),
            ..entry("/etc/app", Mode::BindReadOnly)
        },
    ]);
    assert_eq!(list.len(), 3);
    let t = table(&["/", "/data", "/data/conf/sub"]);
    let plan = build(
        &list,
        &t,
        Path::new("/s"),
        Path::new("/run/i"),
        &Extras::default(),
    );
    assert_eq!(
        lines(&plan)[3..],
        [
            "bind rec /data/conf /s/etc/app",
            "bind /run/i/reg /s/etc/secret",
            "bind /run/i/dir /s/home",
            "remount /s/etc/app ro noexec",
            // The submount of the bound tree, under its new place.
            "remount /s/etc/app/sub ro noexec",
            "remount /s/etc/secret ro nosuid nodev noexec",
            "remount /s/home ro nosuid nodev noexec",
            "enter /s move=true",
            "shared /",
        ]
    );
}

#[test]
fn prune_keeps_the_first_mode_and_drops_no_ops() {
    let list = prune(vec![
        entry("/usr", Mode::ReadOnly),
        entry("/usr/lib", Mode::ReadOnly),
        entry("/var", Mode::ReadWrite),
        entry("/var", Mode::Inaccessible),
        entry("/etc", Mode::ReadWrite),
    ]);
    let got: Vec<(String, Mode)> = list
        .iter()
        .map(|e| (e.path.display().to_string(), e.mode))
        .collect();
    assert_eq!(
        got,
        [
            ("/etc".to_owned(), Mode::ReadWrite),
            ("/usr".to_owned(), Mode::ReadOnly),
            ("/var".to_owned(), Mode::Inaccessible),
        ]
    );
}

#[test]
fn what_is_asked_and_what_only_takes_away() {
    let mut exec = ExecContext::default();
    assert!(asked(&exec).is_empty());
    exec.namespace.private_tmp = true;
    exec.namespace.protect_system = ProtectSystem::Strict;
    assert_eq!(
        asked(&exec),
        [("PrivateTmp", true), ("ProtectSystem", true)]
    );
    exec.namespace.binds.push(BindPath {
        source: "/a".into(),
        destination: "/b".into(),
        optional: false,
        read_only: false,
        recursive: true,
    });
    assert!(asked(&exec).contains(&("BindPaths", false)));
}

/// A path of a unit's directive, under bosun's root (`-` when `optional`).
fn under_root(path: &str, optional: bool) -> SandboxPath {
    SandboxPath {
        path: path.into(),
        optional,
        host: false,
    }
}

#[test]
fn entries_follow_links_inside_the_root_and_skip_optional_paths() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = dir.path();
    for d in ["data/redis", "var/lib", "usr", "etc"] {
        fs::create_dir_all(root.join(d)).unwrap_or_else(|e| panic!("{e}"));
    }
    std::os::unix::fs::symlink("/data/redis", root.join("var/lib/redis"))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut exec = ExecContext::default();
    exec.namespace.protect_system = ProtectSystem::Full;
    exec.namespace
        .read_write
        .push(under_root("/var/lib/redis", false));
    exec.namespace
        .read_only
        .push(under_root("/nonexistent", true));
    let list = entries(&exec, root, None, u64::MAX).unwrap_or_else(|e| panic!("{e}"));
    let paths: Vec<PathBuf> = list.iter().map(|e| e.path.clone()).collect();
    assert_eq!(
        paths,
        [root.join("data/redis"), root.join("etc"), root.join("usr")]
    );
    // Without `-`, a missing path fails the command.
    exec.namespace.read_only[0].optional = false;
    let err = entries(&exec, root, None, u64::MAX)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(err.to_string(), "/nonexistent: no such file or directory");
}

#[test]
fn lookups_kept_from_an_earlier_start_go_when_a_directory_on_their_way_changes() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = dir.path();
    for d in ["data/a", "data/b", "var/lib", "usr", "etc"] {
        fs::create_dir_all(root.join(d)).unwrap_or_else(|e| panic!("{e}"));
    }
    let link = root.join("var/lib/app");
    std::os::unix::fs::symlink("/data/a", &link).unwrap_or_else(|e| panic!("{e}"));
    let mut exec = ExecContext::default();
    exec.namespace.protect_system = ProtectSystem::Full;
    exec.namespace
        .read_write
        .push(under_root("/var/lib/app", false));
    exec.namespace.read_only.push(under_root("/srv", true));
    let paths = |generation| -> Vec<PathBuf> {
        let list = entries(&exec, root, None, generation).unwrap_or_else(|e| panic!("{e}"));
        list.iter().map(|e| e.path.clone()).collect()
    };
    let first = paths(7);
    assert_eq!(first[0], root.join("data/a"));
    // Kept: files written inside a bound directory change nothing.
    fs::write(root.join("data/a/file"), "x").unwrap_or_else(|e| panic!("{e}"));
    let hits = super::seen::hits();
    assert_eq!(paths(7), first);
    assert_eq!(
        super::seen::hits(),
        hits + 1,
        "the second start looked its paths up again"
    );
    // The link now leads elsewhere: a removal and a creation in var/lib, seen.
    fs::remove_file(&link).unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink("/data/b", &link).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(paths(7)[0], root.join("data/b"));
    assert_eq!(super::seen::hits(), hits + 1);
    // A `-` path that appears is seen too (a creation in the root).
    fs::create_dir(root.join("srv")).unwrap_or_else(|e| panic!("{e}"));
    assert!(paths(7).contains(&root.join("srv")), "{:?}", paths(7));
    // Another mount table: looked up again whatever the directories say.
    fs::remove_dir(root.join("srv")).unwrap_or_else(|e| panic!("{e}"));
    assert!(!paths(8).contains(&root.join("srv")));
}

#[test]
fn a_failure_names_its_step() {
    let mut plan = Plan::default();
    plan.push(
        Step::Unshare(CloneFlags::CLONE_NEWNS),
        "unshare(CLONE_NEWNS)",
    );
    plan.push(
        Step::Propagate(c"/".to_owned(), MsFlags::MS_SLAVE),
        "/srv/x",
    );
    let raw = packed(1, nix::errno::Errno::EACCES);
    let (status, rest) = crate::sys::setup_failure(&raw).unwrap_or_else(|| panic!("not packed"));
    assert_eq!(status, EXIT_NAMESPACE);
    let err = failure(Some(&plan), &rest);
    assert_eq!(err.to_string(), "/srv/x");
    let NamespaceError::Step { source, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!(source.raw_os_error(), Some(libc::EACCES));
}

#[test]
fn hidden_mounts_are_not_remounted() {
    let info = "\
1 0 8:1 / / rw,relatime - ext4 /dev/sda1 rw
2 1 0:4 net:[1] /run/netns/a rw - nsfs nsfs rw
3 1 0:5 / /run rw,nosuid - tmpfs run rw
4 3 0:6 / /run/lock rw - tmpfs lock rw
5 1 0:7 / /tmp rw - tmpfs a rw
6 5 0:8 / /tmp rw - tmpfs b rw
7 5 0:9 / /tmp/under rw - tmpfs c rw
";
    let points: Vec<String> = visible_points(info)
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    assert_eq!(points, ["/", "/run", "/run/lock", "/tmp"]);
}

#[test]
fn kernel_tunables_modules_logs_and_proc_are_host_paths() {
    let mut exec = ExecContext::default();
    exec.namespace.protect_kernel_tunables = true;
    exec.namespace.protect_control_groups = true;
    exec.namespace.protect_proc = ProtectProc::Invisible;
    exec.namespace.proc_subset_pid = true;
    exec.protect_kernel_modules = true;
    exec.protect_kernel_logs = true;
    let wanted = wants(&exec, None);
    let find = |path: &str| {
        let w: Vec<&Want> = wanted
            .iter()
            .filter(|w| w.path == Path::new(path))
            .collect();
        w.iter()
            .map(|w| (w.mode, w.host, w.optional))
            .collect::<Vec<_>>()
    };
    assert_eq!(find("/proc/sys"), [(Mode::ReadOnly, true, true)]);
    assert_eq!(find("/proc/kcore"), [(Mode::Inaccessible, true, true)]);
    assert_eq!(find("/proc/kmsg"), [(Mode::Inaccessible, true, true)]);
    assert_eq!(find("/dev/kmsg"), [(Mode::Inaccessible, true, true)]);
    // Module trees are the image's, under bosun's root.
    assert_eq!(
        find("/usr/lib/modules"),
        [(Mode::Inaccessible, false, true)]
    );
    assert_eq!(find("/proc"), [(Mode::Procfs, true, true)]);
    // ProtectKernelTunables= keeps the cgroup tree writable, ProtectControlGroups= does not.
    let cgroup = find("/sys/fs/cgroup");
    assert!(cgroup.contains(&(Mode::ReadOnly, true, true)), "{cgroup:?}");
    assert_eq!(
        procfs_options(&exec.namespace),
        "hidepid=invisible,subset=pid"
    );
    let names: Vec<&str> = asked(&exec).iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "ProtectKernelTunables",
            "ProtectControlGroups",
            "ProtectKernelModules",
            "ProtectKernelLogs",
            "ProtectProc",
            "ProcSubset"
        ]
    );
}

#[test]
fn a_new_procfs_keeps_what_the_container_mounted_in_proc() {
    let list = prune(vec![
        entry("/proc", Mode::Procfs),
        entry("/proc/sys", Mode::ReadOnly),
    ]);
    let t = table(&[
        "/",
        "/proc",
        "/proc/kcore",
        "/proc/sys",
        "/proc/sys/fs/binfmt_misc",
    ]);
    let plan = build(
        &list,
        &t,
        Path::new("/s"),
        Path::new("/run/i"),
        &Extras {
            proc_data: c"hidepid=invisible".to_owned(),
            ..Extras::default()
        },
    );
    let proc = plan.steps.iter().find_map(|(step, _)| match step {
        Step::Procfs { data, .. } => Some(data.to_string_lossy().into_owned()),
        _ => None,
    });
    assert_eq!(proc.as_deref(), Some("hidepid=invisible"));
    // What is under the new procfs may be missing there (subset=pid): skipped, not failed.
    let optional: Vec<(String, bool)> = lines(&plan)
        .into_iter()
        .zip(plan.optional.iter().copied())
        .filter(|(_, o)| *o)
        .collect();
    assert_eq!(
        optional.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>(),
        [
            "bind rec /proc/kcore /s/proc/kcore",
            "bind rec /proc/sys /s/proc/sys",
            "remount /s/proc/sys ro",
            "remount /s/proc/sys/fs/binfmt_misc ro",
        ]
    );
    assert_eq!(
        lines(&plan)[3..],
        [
            "procfs",
            "bind rec /proc/kcore /s/proc/kcore",
            "bind rec /proc/sys /s/proc/sys",
            "remount /s/proc/sys ro",
            "remount /s/proc/sys/fs/binfmt_misc ro",
            "enter /s move=true",
            "shared /",
        ]
    );
}

#[test]
fn private_devices_and_a_uts_namespace() {
    let list = prune(vec![
        entry("/dev", Mode::PrivateDev),
        // Under the private /dev: nothing to hide there.
        entry("/dev/kmsg", Mode::Inaccessible),
        entry("/dev", Mode::ReadWrite),
    ]);
    assert_eq!(list.len(), 1);
    let t = table(&["/", "/dev", "/dev/pts", "/dev/shm"]);
    let plan = build(
        &list,
        &t,
        Path::new("/s"),
        Path::new("/run/i"),
        &Extras {
            uts: true,
            ..Extras::default()
        },
    );
    let got = lines(&plan);
    assert_eq!(got[0], "unshare uts");
    assert_eq!(got[3], "tmpfs /s/dev");
    // The host's pseudo-devices (here, those of the machine running the test) bound on
    // empty files; the mounts of its /dev bound on new directories.
    if Path::new("/dev/null").exists() {
        assert!(got.contains(&"touch /s/dev/null".to_owned()), "{got:?}");
        assert!(
            got.contains(&"bind /dev/null /s/dev/null".to_owned()),
            "{got:?}"
        );
    }
    assert!(got.contains(&"mkdir /s/dev/pts".to_owned()), "{got:?}");
    assert!(
        got.contains(&"bind rec /dev/pts /s/dev/pts".to_owned()),
        "{got:?}"
    );
    assert!(!got.iter().any(|l| l.contains("mqueue")), "{got:?}");
    assert!(
        got.contains(&"symlink /s/dev/ptmx pts/ptmx".to_owned()),
        "{got:?}"
    );
    // Read-only at the end, the tmpfs alone.
    assert_eq!(got[got.len() - 3], "remount /s/dev ro nosuid");
}

#[test]
fn no_exec_paths_keep_read_only_and_exec_paths_punch_through() {
    // redis-server's unit: ProtectSystem=strict, ReadWritePaths=/var/lib/redis, NoExecPaths=/,
    // ExecPaths=/usr/lib; and TemporaryFileSystem=/srv:ro,size=1M.
    let list = prune(vec![
        entry("/", Mode::ReadOnly),
        entry("/var/lib/redis", Mode::ReadWrite),
        entry("/", Mode::NoExec),
        entry("/usr/lib", Mode::Exec),
        Entry {
            options: Some(super::entries::tmpfs_options("ro,size=1M")),
            ..entry("/srv", Mode::TemporaryFs)
        },
    ]);
    let t = table(&["/", "/run", "/tmp"]);
    let plan = build(
        &list,
        &t,
        Path::new("/s"),
        Path::new("/run/i"),
        &Extras::default(),
    );
    let tmpfs = plan.steps.iter().find_map(|(step, _)| match step {
        Step::Tmpfs { flags, data, .. } => Some((*flags, data.to_string_lossy().into_owned())),
        _ => None,
    });
    let (flags, data) = tmpfs.unwrap_or_else(|| panic!("no tmpfs"));
    assert!(flags.contains(MsFlags::MS_RDONLY | MsFlags::MS_NODEV));
    assert_eq!(data, "mode=0755,size=1M");
    assert_eq!(
        lines(&plan)[3..],
        [
            "tmpfs /s/srv",
            "bind rec /s/var/lib/redis /s/var/lib/redis",
            "bind rec /s/usr/lib /s/usr/lib",
            // One remount per mount: read-only and noexec together where both apply; the
            // ExecPaths= mount stays read-only.
            "remount /s ro noexec",
            "remount /s/usr/lib ro",
            "remount /s/run ro nosuid nodev noexec",
            "remount /s/tmp ro noexec",
            "remount /s/srv ro nodev noexec",
            "remount /s/var/lib/redis noexec",
            "enter /s move=true",
            "shared /",
        ]
    );
}

#[test]
fn a_user_namespace_comes_first_when_bosun_lacks_the_capability() {
    let list = vec![entry("/usr", Mode::ReadOnly)];
    let extras = Extras {
        maps: Some((c"1000 1000 1\n".to_owned(), c"1000 1000 1\n".to_owned())),
        ..Extras::default()
    };
    let plan = build(
        &list,
        &table(&["/"]),
        Path::new("/s"),
        Path::new("/i"),
        &extras,
    );
    assert_eq!(
        lines(&plan)[..3],
        ["userns 1000 1000 1", "unshare", "slave /"]
    );
}

#[test]
fn within_is_path_prefix_by_components() {
    for (path, dir, want) in [
        ("/var/lib/redis", "/var/lib", true),
        ("/var/lib", "/var/lib", true),
        ("/var/library", "/var/lib", false),
        ("/var", "/var/lib", false),
        ("/anything", "/", true),
        ("/", "/", true),
        ("/var/lib/x", "/var/lib/", true),
    ] {
        let (p, d) = (Path::new(path), Path::new(dir));
        assert_eq!(within(p, d), want, "{path} in {dir}");
        assert_eq!(p.starts_with(d), want, "{path} in {dir} (std)");
    }
}

#[test]
fn a_kept_plan_serves_each_run_with_its_own_private_tmp() {
    let t = table(&["/", "/run"]);
    let run = |n: u32| {
        let mut tmp = entry("/tmp", Mode::PrivateTmp);
        tmp.source = Some(PathBuf::from(format!("/tmp/systemd-private-{n}/tmp")));
        let list = vec![entry("/", Mode::ReadOnly), tmp];
        let (staging, nodes) = (
            Path::new("/run/bosun/unit-root"),
            Path::new("/run/bosun/inaccessible"),
        );
        kept(list, &t, staging, nodes, Extras::default())
    };
    let (first, second) = (run(1), run(2));
    assert!(
        std::sync::Arc::ptr_eq(&first.plan, &second.plan),
        "one plan for both runs"
    );
    let source = |r: &RunPlan| {
        r.sources
            .iter()
            .map(|(_, s)| s.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(source(&first), ["/tmp/systemd-private-1/tmp"]);
    assert_eq!(source(&second), ["/tmp/systemd-private-2/tmp"]);
    // The step it replaces is the bind onto the staged /tmp.
    let (at, _) = first.sources[0];
    assert!(
        matches!(&first.plan.steps[at].0, Step::Bind { target, .. } if target.to_bytes().ends_with(b"/tmp"))
    );
    // Another reading of the mount table makes another plan.
    let other = table(&["/", "/run"]);
    let mut tmp = entry("/tmp", Mode::PrivateTmp);
    tmp.source = Some(PathBuf::from("/tmp/systemd-private-3/tmp"));
    let third = kept(
        vec![entry("/", Mode::ReadOnly), tmp],
        &other,
        Path::new("/run/bosun/unit-root"),
        Path::new("/run/bosun/inaccessible"),
        Extras::default(),
    );
    assert!(!std::sync::Arc::ptr_eq(&first.plan, &third.plan));
}
