//! `bosun image prepare|check|diff` on a scratch root, and the boot-time library on a seeded
//! volume: upgrade merge, UID/GID drift, downgrade and foreign volumes.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{BOSUN, Scratch, check_ok, is_root, run, set_times};

#[test]
fn image_prepare_check_diff_on_a_scratch_root() {
    let scratch = Scratch::new("image");
    let root = scratch.path().join("root");
    for dir in ["etc/app", "var/lib/db", "var/log/app", "usr/bin"] {
        fs::create_dir_all(root.join(dir)).unwrap();
    }
    fs::write(root.join("etc/app/app.conf"), "a=1\n").unwrap();
    fs::write(root.join("etc/motd"), "hi\n").unwrap();
    fs::write(root.join("etc/gone"), "bye\n").unwrap();
    fs::write(root.join("etc/single-file.conf"), "single\n").unwrap();
    fs::write(root.join("var/lib/db/data"), "rows\n").unwrap();
    fs::set_permissions(root.join("var/lib"), fs::Permissions::from_mode(0o751)).unwrap();
    set_times(&root.join("var/lib"), 1_500_000_000, 42);
    let list = scratch.path().join("list");
    fs::write(
        &list,
        "# state\n/etc/app\n\n/var/lib/db\n/etc/single-file.conf\n",
    )
    .unwrap();
    let prepare = |lists: &[&Path]| {
        let mut cmd = Command::new(BOSUN);
        cmd.args(["image", "prepare", "--root"])
            .arg(&root)
            .args(lists);
        check_ok(&mut cmd)
    };
    prepare(&[&list]);
    let template = root.join("data-template");
    for (path, target) in [
        ("etc/app", "/data/etc/app"),
        ("var/lib/db", "/data/var/lib/db"),
        ("etc/single-file.conf", "/data/etc/single-file.conf"),
    ] {
        assert_eq!(
            fs::read_link(root.join(path)).unwrap(),
            PathBuf::from(target)
        );
        assert!(
            fs::symlink_metadata(template.join(path)).is_ok(),
            "{path} not in the template"
        );
    }
    assert_eq!(
        fs::read_to_string(template.join("etc/single-file.conf")).unwrap(),
        "single\n"
    );
    // Parents recreated with the image's mode and times.
    let parent = fs::metadata(template.join("var/lib")).unwrap();
    assert_eq!(
        (parent.mode() & 0o7777, parent.mtime(), parent.mtime_nsec()),
        (0o751, 1_500_000_000, 42)
    );
    let first_id = fs::read_to_string(root.join("etc/build-id")).unwrap();
    assert!(first_id.trim().len() > 10);
    check_ok(
        Command::new(BOSUN)
            .args(["image", "check", "--root"])
            .arg(&root),
    );

    // Idempotent: the same list again moves nothing; a later layer adds a path.
    let again = prepare(&[&list]);
    assert_eq!(
        String::from_utf8_lossy(&again.stderr)
            .matches("already prepared")
            .count(),
        3
    );
    let later = scratch.path().join("later");
    fs::write(&later, "/var/log/app\n/var/lib/db\n").unwrap();
    fs::write(root.join("var/log/app/app.log"), "log\n").unwrap();
    prepare(&[&later]);
    assert_eq!(
        fs::read_link(root.join("var/log/app")).unwrap(),
        PathBuf::from("/data/var/log/app")
    );
    assert_ne!(
        fs::read_to_string(root.join("etc/build-id")).unwrap(),
        first_id,
        "a new build, a new id"
    );
    check_ok(
        Command::new(BOSUN)
            .args(["image", "check", "--root"])
            .arg(&root),
    );

    // check: a symlink into /data that the template does not cover, and a template edit.
    std::os::unix::fs::symlink("/data/srv/www", root.join("etc/www")).unwrap();
    fs::write(template.join("etc/app/app.conf"), "tampered\n").unwrap();
    let out = run(Command::new(BOSUN)
        .args(["image", "check", "--root"])
        .arg(&root));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stdout.contains("uncovered: /etc/www -> /data/srv/www"),
        "{stdout}"
    );
    assert!(stdout.contains("template M /etc/app/app.conf"), "{stdout}");
    fs::remove_file(root.join("etc/www")).unwrap();

    // diff: writes outside /data are reported, writes inside are not.
    fs::write(root.join("etc/foo"), "new\n").unwrap();
    fs::write(root.join("etc/motd"), "changed\n").unwrap();
    fs::remove_file(root.join("etc/gone")).unwrap();
    fs::create_dir_all(root.join("data/etc/app")).unwrap();
    fs::write(root.join("data/etc/app/app.conf"), "user data\n").unwrap();
    fs::create_dir_all(root.join("tmp")).unwrap();
    fs::write(root.join("tmp/scratch"), "t").unwrap();
    let out = check_ok(
        Command::new(BOSUN)
            .args(["image", "diff", "--root"])
            .arg(&root),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().filter(|l| !l.ends_with(" /etc")).collect();
    assert_eq!(
        lines,
        ["A /etc/foo", "D /etc/gone", "M /etc/motd"],
        "{stdout}"
    );
}

#[test]
fn prepare_refuses_what_it_cannot_do() {
    let scratch = Scratch::new("refuse");
    let root = scratch.path().join("root");
    fs::create_dir_all(root.join("real/dir")).unwrap();
    std::os::unix::fs::symlink("real", root.join("alias")).unwrap();
    let list = scratch.path().join("list");
    for (line, expected) in [
        ("/missing/path\n", "does not exist in the image"),
        ("/alias/dir\n", "goes through the symlink /alias"),
        ("relative\n", ":1: not an absolute path"),
        ("/data/x\n", "overlaps /data"),
    ] {
        fs::write(&list, line).unwrap();
        let out = run(Command::new(BOSUN)
            .args(["image", "prepare", "--root"])
            .arg(&root)
            .arg(&list));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains(expected),
            "{line:?}: {stderr}"
        );
    }
}

#[test]
fn upgrade_merges_and_follows_moved_uids() {
    use bosun::volume::populate::{self, Image};
    use bosun::volume::state::Volume;
    use bosun::volume::{classify, image};
    if !is_root() {
        eprintln!("SKIP upgrade_merges_and_follows_moved_uids: re-owning files needs root");
        return;
    }
    let scratch = Scratch::new("upgrade");
    let root = scratch.path().join("root");
    fs::create_dir_all(root.join("etc/app")).unwrap();
    fs::write(
        root.join("etc/passwd"),
        "root:x:0:0::/root:/bin/sh\npostgres:x:70:70::/:/bin/sh\n",
    )
    .unwrap();
    fs::write(root.join("etc/group"), "root:x:0:\npostgres:x:70:\n").unwrap();
    fs::write(root.join("etc/app/untouched.conf"), "v1\n").unwrap();
    fs::write(root.join("etc/app/edited.conf"), "v1\n").unwrap();
    fs::write(root.join("etc/app/stable.conf"), "v1\n").unwrap();
    fs::write(root.join("etc/app/pg.db"), "db\n").unwrap();
    rustix::fs::chownat(
        rustix::fs::CWD,
        root.join("etc/app/pg.db"),
        Some(rustix::fs::Uid::from_raw(70)),
        Some(rustix::fs::Gid::from_raw(70)),
        rustix::fs::AtFlags::empty(),
    )
    .unwrap();
    let list = scratch.path().join("list");
    fs::write(&list, "/etc/app\n").unwrap();
    check_ok(
        Command::new(BOSUN)
            .args(["image", "prepare", "--build-id", "b1", "--root"])
            .arg(&root)
            .arg(&list),
    );
    let data = root.join("data");
    let image_of = |id: &str| Image {
        template: root.join("data-template"),
        root: root.clone(),
        build_id: id.to_owned(),
        run_as: None,
        interrupted: None,
    };

    let mut volume = Volume::open(&data, false).unwrap();
    assert_eq!(
        classify::classify(volume.state(), classify::is_empty(&data).unwrap(), "b1"),
        classify::Class::FirstRun
    );
    populate::seed(&mut volume, &image_of("b1"), false, &mut |_| {}).unwrap();
    volume.hooks_started().unwrap();
    volume.hooks_succeeded().unwrap();
    assert_eq!(
        classify::classify(volume.state(), false, "b1"),
        classify::Class::Routine
    );

    // The user edits one file; the next image changes three, adds one, and moves postgres.
    fs::write(data.join("etc/app/edited.conf"), "mine\n").unwrap();
    fs::write(data.join("etc/app/stable.conf"), "mine too\n").unwrap();
    let template = root.join("data-template/etc/app");
    fs::write(template.join("untouched.conf"), "v2\n").unwrap();
    fs::write(template.join("edited.conf"), "v2\n").unwrap();
    fs::write(template.join("added.conf"), "new in v2\n").unwrap();
    fs::write(
        root.join("etc/passwd"),
        "root:x:0:0::/root:/bin/sh\npostgres:x:71:71::/:/bin/sh\n",
    )
    .unwrap();
    fs::write(root.join("etc/group"), "root:x:0:\npostgres:x:71:\n").unwrap();
    image::write_template_manifest(&image::Layout {
        root: root.clone(),
        template: "/data-template".into(),
        data: "/data".into(),
    })
    .unwrap();

    let class = classify::classify(volume.state(), false, "b2");
    assert_eq!(
        class,
        classify::Class::Upgrade {
            from: Some("b1".into()),
            to: "b2".into(),
            resumed: false
        }
    );
    let report = populate::upgrade(&mut volume, &image_of("b2"), &mut |_| {}).unwrap();
    let read = |rel: &str| fs::read_to_string(data.join(rel)).unwrap();
    assert_eq!(
        read("etc/app/untouched.conf"),
        "v2\n",
        "unmodified file updated"
    );
    assert_eq!(read("etc/app/edited.conf"), "mine\n", "user's file kept");
    assert_eq!(
        read("etc/app/edited.conf.bosun-new"),
        "v2\n",
        "image's version beside it"
    );
    assert_eq!(read("etc/app/stable.conf"), "mine too\n");
    assert!(
        !data.join("etc/app/stable.conf.bosun-new").exists(),
        "the image did not change it"
    );
    assert_eq!(read("etc/app/added.conf"), "new in v2\n", "new path added");
    assert_eq!(report.updated, [PathBuf::from("etc/app/untouched.conf")]);
    assert_eq!(report.conflicts, [PathBuf::from("etc/app/edited.conf")]);
    let pg = fs::metadata(data.join("etc/app/pg.db")).unwrap();
    assert_eq!(
        (pg.uid(), pg.gid()),
        (71, 71),
        "postgres's file follows its new uid/gid"
    );
    assert_eq!(report.reowned, 1);

    assert_eq!(
        classify::classify(volume.state(), false, "b2"),
        classify::Class::UpgradeHooksPending {
            from: Some("b1".into())
        }
    );
    volume.hooks_started().unwrap();
    volume.hooks_succeeded().unwrap();
    assert_eq!(
        classify::classify(volume.state(), false, "b2"),
        classify::Class::Routine
    );
    assert_eq!(
        classify::classify(volume.state(), false, "b1"),
        classify::Class::Downgrade {
            from: Some("b2".into()),
            to: "b1".into()
        }
    );
    drop(volume);

    // Foreign volumes: refused, or adopted with only what is missing copied.
    let foreign = root.join("foreign");
    fs::create_dir_all(foreign.join("etc/app")).unwrap();
    fs::write(foreign.join("etc/app/edited.conf"), "theirs\n").unwrap();
    let out = run(Command::new(BOSUN)
        .args(["image", "seed", "--data", "/foreign", "--root"])
        .arg(&root));
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("never seeded"));
    check_ok(
        Command::new(BOSUN)
            .args(["image", "seed", "--adopt", "--data", "/foreign", "--root"])
            .arg(&root),
    );
    assert_eq!(
        fs::read_to_string(foreign.join("etc/app/edited.conf")).unwrap(),
        "theirs\n"
    );
    assert_eq!(
        fs::read_to_string(foreign.join("etc/app/added.conf")).unwrap(),
        "new in v2\n"
    );
}

/// `bosun image prepare` and `seed` change the image and the volume: a reader that goes away
/// (`bosun image prepare ... | head -1`) must not end them half-way. With stdout and stderr on
/// a pipe nobody reads, both finish and leave what they leave with a reader; `image diff`, which
/// only reads, ends quietly by SIGPIPE as systemctl does (the control).
#[test]
fn changing_verbs_finish_when_nobody_reads_them() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let scratch = Scratch::new("image-pipe");
    let root = scratch.path().join("root");
    for n in 0..50 {
        let dir = root.join(format!("var/lib/app{n}"));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("state"), format!("{n}\n")).unwrap();
    }
    let list = scratch.path().join("list");
    let paths: String = (0..50).map(|n| format!("/var/lib/app{n}\n")).collect();
    fs::write(&list, paths).unwrap();
    let closed = || {
        let (reader, writer) = nix::unistd::pipe().unwrap();
        drop(reader);
        writer
    };
    let status = |args: &[&str]| {
        let (out, err) = (closed(), closed());
        Command::new(BOSUN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .status()
            .unwrap()
    };
    let root_arg = root.to_str().unwrap();
    let prepared = status(&[
        "image",
        "prepare",
        "--root",
        root_arg,
        list.to_str().unwrap(),
    ]);
    assert_eq!(prepared.code(), Some(0), "{prepared:?}");
    for n in 0..50 {
        let path = format!("var/lib/app{n}");
        assert_eq!(
            fs::read_link(root.join(&path)).unwrap(),
            PathBuf::from(format!("/data/{path}"))
        );
        assert_eq!(
            fs::read_to_string(root.join("data-template").join(&path).join("state")).unwrap(),
            format!("{n}\n")
        );
    }
    let data = root.join("data");
    fs::create_dir_all(&data).unwrap();
    let seeded = status(&["image", "seed", "--root", root_arg]);
    assert_eq!(seeded.code(), Some(0), "{seeded:?}");
    assert_eq!(
        fs::read_to_string(data.join("var/lib/app49/state")).unwrap(),
        "49\n"
    );
    // The control: a verb that only reads ends by SIGPIPE, quietly.
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::write(root.join("etc/changed"), "x\n").unwrap();
    let diff = status(&["image", "diff", "--root", root_arg]);
    assert_eq!(diff.signal(), Some(libc::SIGPIPE), "{diff:?}");
}
