//! The boot's duties around the volume, with bosun as PID 1 on a scratch root: stale /run and
//! /tmp emptied (and left alone when bosun is not PID 1, when they are mount points, and beyond
//! symlinks and mounts inside them), services without User= run as BOSUN_RUN_AS (or
//! PUID/PGID) with the seeded files theirs, and a passwd entry for an arbitrary UID.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use super::boot::{T, TestImage};
use super::is_root;
use crate::harness::{Pid1, bosun};

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// What a previous run of the container left in ROOT/run and ROOT/tmp.
fn leave_stale_state(image: &TestImage) {
    image.write("run/app.pid", "4242\n");
    image.write("run/app/sub/socket-ish", "");
    image.write("tmp/old-file", "x");
    image.write("tmp/.X11-unix/X0", "");
    fs::set_permissions(image.path("tmp"), fs::Permissions::from_mode(0o1777)).unwrap();
}

#[test]
fn stale_run_and_tmp_are_emptied_as_pid1() {
    let image = TestImage::new("stale");
    leave_stale_state(&image);
    // Outside the root: reached through a symlink and through a bind mount, never emptied.
    let outside = image.state.join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("precious"), "keep me").unwrap();
    let bound = image.state.join("bound");
    fs::create_dir_all(&bound).unwrap();
    fs::write(bound.join("precious"), "keep me too").unwrap();
    std::os::unix::fs::symlink(&outside, image.path("run/link-out")).unwrap();
    std::os::unix::fs::symlink(&outside, image.path("tmp/escape")).unwrap();
    fs::create_dir_all(image.path("run/bound")).unwrap();
    fs::create_dir_all(image.path("tmp/mnt")).unwrap();
    let run_dir = image.path("run");
    let tmp_dir = image.path("tmp");
    let setup = format!(
        "mount --bind {bound} {run}/bound && mount -t tmpfs sub {tmp}/mnt && touch {tmp}/mnt/inside",
        bound = bound.display(),
        run = run_dir.display(),
        tmp = tmp_dir.display()
    );
    let check = format!(
        "test -e {}/mnt/inside && echo SUBMOUNT-KEPT",
        tmp_dir.display()
    );
    let Some(pid1) = image
        .boot()
        .setup(&setup)
        .args(["--", "sh", "-c", &check])
        .start()
    else {
        return;
    };
    let run = pid1.wait(T);
    run.assert_code(0);
    assert!(run.stdout_str().contains("SUBMOUNT-KEPT"), "{}", run.dump());
    assert_eq!(ours_aside(names(&run_dir)), ["bound"], "{}", run.dump());
    assert_eq!(names(&tmp_dir), ["mnt"], "{}", run.dump());
    assert_eq!(
        fs::read_to_string(outside.join("precious")).unwrap(),
        "keep me"
    );
    assert_eq!(
        fs::read_to_string(bound.join("precious")).unwrap(),
        "keep me too"
    );
    assert_eq!(
        fs::metadata(&tmp_dir).unwrap().mode() & 0o7777,
        0o1777,
        "the directory itself stays, with its mode"
    );
    assert!(
        run.stderr.contains(&format!(
            "{}: removed 5 entries left by the previous run",
            run_dir.display()
        )),
        "{}",
        run.dump()
    );
}

#[test]
fn a_tmpfs_run_is_fresh_and_left_alone() {
    let image = TestImage::new("fresh");
    leave_stale_state(&image);
    let run_dir = image.path("run");
    // The runtime mounted a tmpfs on /run and put something in it before bosun started.
    let setup = format!(
        "mount -t tmpfs fresh {r} && echo mine > {r}/from-the-runtime",
        r = run_dir.display()
    );
    let check = format!("test -e {}/from-the-runtime", run_dir.display());
    let Some(pid1) = image
        .boot()
        .setup(&setup)
        .env("BOSUN_VERBOSITY", "2")
        .args(["--", "sh", "-c", &check])
        .start()
    else {
        return;
    };
    let run = pid1.wait(T);
    run.assert_code(0);
    assert!(
        run.stderr.contains(&format!(
            "{} is a mount point (tmpfs fresh): left as it is",
            run_dir.display()
        )),
        "{}",
        run.dump()
    );
    // /tmp in the same run was no mount: emptied.
    assert!(names(&image.path("tmp")).is_empty(), "{}", run.dump());
}

/// Issue #6: a test run once emptied the host's /tmp because bosun ran outside a namespace.
/// Not PID 1, bosun must leave /run and /tmp alone; only BOSUN_UNITS=on makes it act.
#[test]
fn r6_stale_runtime_left_alone_outside_pid1() {
    let image = TestImage::new("notpid1");
    leave_stale_state(&image);
    let run = image
        .boot()
        .without_namespace()
        .args(["--", "true"])
        .start()
        .unwrap()
        .wait(T);
    run.assert_code(0);
    assert_eq!(
        names(&image.path("run")),
        ["app", "app.pid"],
        "{}",
        run.dump()
    );
    assert_eq!(names(&image.path("tmp")), [".X11-unix", "old-file"]);
    assert!(!run.stderr.contains("removed"), "{}", run.dump());

    // The control: the same run, told to boot as in a container, empties them (here, a
    // scratch root: never a host's).
    let run = image
        .boot()
        .without_namespace()
        .env("BOSUN_UNITS", "on")
        .env("BOSUN_NOTIFY_SOCKET", image.state.join("notify"))
        .args(["--", "true"])
        .start()
        .unwrap()
        .wait(T);
    run.assert_code(0);
    assert!(
        ours_aside(names(&image.path("run"))).is_empty(),
        "{}",
        run.dump()
    );
    assert!(names(&image.path("tmp")).is_empty(), "{}", run.dump());
}

#[test]
fn services_without_user_run_as_bosun_run_as() {
    if !is_root() {
        eprintln!("SKIP services_without_user_run_as_bosun_run_as: needs root to change users");
        return;
    }
    let image = TestImage::new("runas");
    image.write("var/lib/app/app.conf", "v1\n");
    image.prepare("b1", &["/var/lib/app"]);
    let state = image.state.display();
    image.unit(
        "plain.service",
        &format!(
            "[Service]\nType=oneshot\nRemainAfterExit=yes\n\
             ExecStart=/bin/sh -c 'id -u > {state}/plain; id -g >> {state}/plain'\n"
        ),
    );
    image.unit(
        "root.service",
        &format!(
            "[Service]\nType=oneshot\nRemainAfterExit=yes\nUser=root\n\
             ExecStart=/bin/sh -c 'id -u > {state}/root; id -g >> {state}/root'\n"
        ),
    );
    let Some(run) = image.boot_to_end(image.boot().env("BOSUN_RUN_AS", "1234:2345")) else {
        return;
    };
    run.assert_code(0);
    assert_eq!(image.lines("plain"), ["1234", "2345"], "{}", run.dump());
    assert_eq!(image.lines("root"), ["0", "0"], "User= wins");
    let data = image.data();
    for rel in ["var", "var/lib/app", "var/lib/app/app.conf"] {
        let meta = fs::symlink_metadata(data.join(rel)).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (1234, 2345), "{rel}");
    }

    // Without it they run as bosun does; PUID/PGID are the same switch.
    fs::remove_file(image.state.join("plain")).unwrap();
    let run = image.boot_to_end(image.boot()).unwrap();
    run.assert_code(0);
    assert_eq!(image.lines("plain"), ["0", "0"], "{}", run.dump());
    fs::remove_file(image.state.join("plain")).unwrap();
    let run = image
        .boot_to_end(image.boot().env("PUID", "1500").env("PGID", "1600"))
        .unwrap();
    run.assert_code(0);
    assert_eq!(image.lines("plain"), ["1500", "1600"], "{}", run.dump());
}

#[test]
fn arbitrary_uid_gets_a_passwd_entry() {
    if !is_root() {
        eprintln!("SKIP arbitrary_uid_gets_a_passwd_entry: needs root to become another uid");
        return;
    }
    const UID: &str = "1000650000";
    let image = TestImage::new("passwd");
    image.write("var/lib/app/app.conf", "v1\n");
    image.prepare("b1", &["/var/lib/app"]);
    // As OpenShift images do: /etc/passwd writable by group 0, the volume writable by anyone.
    let passwd = image.path("etc/passwd");
    fs::set_permissions(&passwd, fs::Permissions::from_mode(0o664)).unwrap();
    fs::create_dir_all(image.data()).unwrap();
    fs::set_permissions(image.data(), fs::Permissions::from_mode(0o777)).unwrap();
    let as_uid = |uid: &str| {
        Pid1::program("setpriv")
            .args([
                format!("--reuid={uid}").as_str(),
                "--regid=0",
                "--clear-groups",
            ])
            .arg(bosun())
            .env("BOSUN_ROOT", &image.root)
    };
    let expected =
        format!("default:x:{UID}:0:user added by bosun for an arbitrary UID:/data:/bin/sh");
    let Some(run) = image.boot_to_end(as_uid(UID)) else {
        return;
    };
    run.assert_code(0);
    assert!(image.main_ran(), "{}", run.dump());
    let text = fs::read_to_string(&passwd).unwrap();
    assert_eq!(
        text.lines().filter(|l| l.contains(UID)).collect::<Vec<_>>(),
        [expected.as_str()],
        "{}",
        run.dump()
    );
    assert!(
        run.stderr
            .contains(&format!("UID {UID} had no passwd entry"))
    );
    let seeded = fs::metadata(image.data().join("var/lib/app/app.conf")).unwrap();
    assert_eq!(seeded.uid().to_string(), UID, "seeded by the arbitrary UID");

    // Known now: not added twice.
    let run = image.boot_to_end(as_uid(UID)).unwrap();
    run.assert_code(0);
    assert_eq!(fs::read_to_string(&passwd).unwrap(), text);

    // Not writable: left as it is, and boot goes on (another UID, no volume).
    fs::set_permissions(&passwd, fs::Permissions::from_mode(0o644)).unwrap();
    let run = image
        .boot_to_end(
            as_uid("1000650001")
                .env("BOSUN_TEMPLATE_DIR", "/no-template")
                .env("BOSUN_VERBOSITY", "2"),
        )
        .unwrap();
    run.assert_code(0);
    assert!(image.main_ran());
    assert_eq!(fs::read_to_string(&passwd).unwrap(), text);
    assert!(
        run.stderr.contains("UID 1000650001 has no entry in"),
        "{}",
        run.dump()
    );
}

/// Names in /run without what bosun itself makes there at boot (its control socket's
/// directory, and /run/systemd/system for packages' scripts).
fn ours_aside(names: Vec<String>) -> Vec<String> {
    names
        .into_iter()
        .filter(|n| n != "bosun" && n != "systemd")
        .collect()
}
