//! Issue #16, "the volume a user builds by hand works", with bosun as a real PID 1: a
//! `/data-template` made with plain `cp -a` (no `bosun image prepare`, no manifest) seeds as it
//! is, runs the first-boot hook, starts routinely, and merges a hand-made upgrade exactly as a
//! prepared template's upgrade does — because seeding recorded what it copied in the volume's
//! record (negative control: without that record the same upgrade keeps every difference as
//! the user's). A volume seeded from a prepared template upgrades to a hand-made one. An
//! arbitrary UID meeting a root-owned volume (seeded, or empty) is refused, untouched, with the
//! three remedies, and one of those remedies makes the next boot work.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use bosun::volume::manifest::{self, Manifest};
use bosun::volume::populate::template_scan_options;

use super::boot::{TestImage, recorder};
use super::{BOSUN, check_ok, is_root, walk};
use crate::harness::{PYTHON, Pid1, Pid1Builder, Scratch};

/// The application's files as a Dockerfile's `COPY` and `RUN mkdir` leave them: configs, one
/// only its owner reads, a directory of the app's user (as root), an executable with a
/// hardlink, a symlink.
fn make_app(dir: &Path) {
    let mode = |rel: &str, mode: u32| {
        fs::set_permissions(dir.join(rel), fs::Permissions::from_mode(mode)).unwrap();
    };
    fs::create_dir_all(dir.join("conf")).unwrap();
    fs::create_dir_all(dir.join("cache")).unwrap();
    for name in [
        "untouched.conf",
        "edited.conf",
        "removed.conf",
        "stable.conf",
    ] {
        fs::write(dir.join("conf").join(name), "v1\n").unwrap();
    }
    fs::write(dir.join("conf/secret"), "s3cret\n").unwrap();
    mode("conf/secret", 0o600);
    mode("cache", 0o2750);
    fs::write(dir.join("tool"), "#!/bin/sh\necho tool\n").unwrap();
    mode("tool", 0o755);
    fs::hard_link(dir.join("tool"), dir.join("tool-alias")).unwrap();
    std::os::unix::fs::symlink("conf/stable.conf", dir.join("current.conf")).unwrap();
    if is_root() {
        check_ok(
            Command::new("chown")
                .args(["-R", "70:70"])
                .arg(dir.join("cache")),
        );
    }
}

/// A scratch directory holding the application's files ([`make_app`]) as `app`.
fn app_source() -> (Scratch, PathBuf) {
    let src = Scratch::new("app-src");
    let app = src.join("app");
    make_app(&app);
    (src, app)
}

/// `cp -a SRC DST` (DST's parent made first): how a template is built by hand.
fn cp_a(src: &Path, dst: &Path) {
    fs::create_dir_all(dst.parent().unwrap()).unwrap();
    check_ok(Command::new("cp").arg("-a").arg(src).arg(dst));
}

/// An image whose template holds `app` under var/lib/app: made by hand (`cp -a`, a build id
/// written by the Dockerfile) or by `bosun image prepare`. Hooks record every phase.
fn image_of(tag: &str, app: &Path, by_hand: bool) -> TestImage {
    let image = TestImage::new(tag);
    if by_hand {
        cp_a(app, &image.template("var/lib/app"));
        fs::write(image.path("etc/build-id"), "b1\n").unwrap();
    } else {
        cp_a(app, &image.path("var/lib/app"));
        image.prepare("b1", &["/var/lib/app"]);
    }
    for phase in ["first-boot", "upgrade", "boot"] {
        image.hook(
            &format!("{phase}.d/10-record"),
            &recorder(&image, &format!("{phase}.d")),
        );
    }
    image
}

/// The next image, its template changed by hand: a new file, a changed file the user did not
/// touch, a changed file the user edited, a removed file. Prepared images get their manifest
/// rewritten as `bosun image prepare` would; hand-made ones only a new build id.
fn upgrade_by_hand(image: &TestImage, prepared: bool) {
    let conf = |name: &str| image.template("var/lib/app/conf").join(name);
    fs::write(conf("untouched.conf"), "v2\n").unwrap();
    fs::write(conf("edited.conf"), "v2\n").unwrap();
    fs::write(conf("added.conf"), "new in v2\n").unwrap();
    fs::remove_file(conf("removed.conf")).unwrap();
    if prepared {
        image.rebuild("b2");
    } else {
        fs::write(image.path("etc/build-id"), "b2\n").unwrap();
    }
}

/// What the user does between boots: edits one file, adds one.
fn edit_as_user(image: &TestImage) {
    let app = image.data().join("var/lib/app");
    fs::write(app.join("conf/edited.conf"), "mine\n").unwrap();
    fs::write(app.join("user-file"), "user data\n").unwrap();
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Same entries, types, modes, owners, symlink targets and file contents (times aside: the two
/// images were written at different instants).
fn assert_same_files(a: &Path, b: &Path, skip: &[&str]) {
    let (left, right) = (walk(a, skip), walk(b, skip));
    assert_eq!(
        left.keys().collect::<Vec<_>>(),
        right.keys().collect::<Vec<_>>(),
        "{} and {} hold other paths",
        a.display(),
        b.display()
    );
    for (rel, l) in &left {
        let r = &right[rel];
        assert_eq!(
            (l.mode, l.uid, l.gid, &l.target, l.nlink),
            (r.mode, r.uid, r.gid, &r.target, r.nlink),
            "{}",
            rel.display()
        );
        if fs::symlink_metadata(a.join(rel)).unwrap().is_file() {
            assert_eq!(read(&a.join(rel)), read(&b.join(rel)), "{}", rel.display());
        }
    }
}

#[test]
fn a_handmade_template_seeds_and_upgrades_as_a_prepared_one_as_pid1() {
    let (_src, app) = app_source();
    let by_hand = image_of("handmade", &app, true);
    let prepared = image_of("prepared", &app, false);
    // The negative control: hand-made too, but its record of what was seeded is lost.
    let no_record = image_of("norecord", &app, true);
    assert!(!by_hand.template(".bosun-manifest").exists());
    assert!(prepared.template(".bosun-manifest").exists());
    // `bosun image check` accepts it, saying there is no manifest to compare it with.
    let out = check_ok(
        Command::new(BOSUN)
            .args(["image", "check", "--root"])
            .arg(&by_hand.root),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("no manifest (made by hand"));
    // `bosun image diff` has nothing to compare with, and says so.
    let out = super::run(
        Command::new(BOSUN)
            .args(["image", "diff", "--root"])
            .arg(&by_hand.root),
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && said.contains("was made without it"),
        "{said}"
    );
    let images = [(&by_hand, false), (&prepared, true), (&no_record, false)];

    // First run: seeded as it is, the first-boot hook, the boot hook, then the main command.
    for (image, was_prepared) in images {
        let Some(run) = image.boot_first_run("b1") else {
            return;
        };
        assert_eq!(image.volume_state()["build_id"], "b1");
        // The boot says why it reads the whole template first (only a hand-made one).
        assert_eq!(
            run.stderr.contains("has no manifest (made by hand"),
            !was_prepared,
            "{}",
            run.dump()
        );
    }
    // Owners, modes, times, the hardlink and the symlink, as the copier keeps them.
    super::assert_same_tree(&by_hand.template("var"), &by_hand.data().join("var"), &[]);
    // The record: exactly what was seeded, beside the state.
    let record = Manifest::read(&by_hand.data().join(".bosun/manifest.b1")).unwrap();
    let seeded = manifest::scan(&by_hand.template(""), &template_scan_options())
        .unwrap()
        .manifest;
    assert_eq!(record, seeded);
    assert!(
        record
            .entries
            .contains_key(Path::new("var/lib/app/tool-alias"))
    );

    // Routine: only the boot hook.
    for (image, _) in images {
        edit_as_user(image);
        image.boot_routine(image.boot(), "b1", 2);
    }

    // The upgrade, each template changed by hand the same way.
    fs::remove_file(no_record.data().join(".bosun/manifest.b1")).unwrap();
    for (image, was_prepared) in images {
        upgrade_by_hand(image, was_prepared);
        let run = image.boot_to_end(image.boot()).unwrap();
        run.assert_code(0);
        assert!(image.main_ran(), "{}", run.dump());
        assert_eq!(
            image.lines("hooks")[3..],
            ["upgrade.d upgrade b2 prev=b1", "boot.d boot b2 prev=b1"],
            "{}",
            run.dump()
        );
        assert_eq!(image.volume_state()["build_id"], "b2");
        assert_eq!(
            run.stderr
                .contains("manifest of the previous build was missing"),
            std::ptr::eq(image, &no_record),
            "{}",
            run.dump()
        );
    }
    let conf = |image: &TestImage, name: &str| {
        let path = image.data().join("var/lib/app/conf").join(name);
        fs::read_to_string(path).ok()
    };
    let v = |text: &str| Some(text.to_owned());
    assert_eq!(conf(&by_hand, "untouched.conf"), v("v2\n"), "updated");
    assert_eq!(conf(&by_hand, "untouched.conf.bosun-new"), None);
    assert_eq!(
        conf(&by_hand, "edited.conf"),
        v("mine\n"),
        "the user's kept"
    );
    assert_eq!(conf(&by_hand, "edited.conf.bosun-new"), v("v2\n"));
    assert_eq!(conf(&by_hand, "added.conf"), v("new in v2\n"));
    assert_eq!(conf(&by_hand, "stable.conf"), v("v1\n"));
    // Gone from the image, but never deleted from the volume (as for a prepared template).
    assert_eq!(conf(&by_hand, "removed.conf"), v("v1\n"));
    assert_eq!(
        read(&by_hand.data().join("var/lib/app/user-file")),
        "user data\n"
    );
    // Exactly what the prepared template's upgrade left.
    assert_same_files(&prepared.data(), &by_hand.data(), &[".bosun"]);
    let record = Manifest::read(&by_hand.data().join(".bosun/manifest.b2")).unwrap();
    assert!(
        record
            .entries
            .contains_key(Path::new("var/lib/app/conf/added.conf"))
    );
    assert!(
        !record
            .entries
            .contains_key(Path::new("var/lib/app/conf/removed.conf"))
    );

    // Without the record, the file the user never touched looks like theirs: kept, the image's
    // beside it. The record is what makes the merge right.
    assert_eq!(conf(&no_record, "untouched.conf"), v("v1\n"));
    assert_eq!(conf(&no_record, "untouched.conf.bosun-new"), v("v2\n"));
}

#[test]
fn a_volume_seeded_from_a_prepared_template_upgrades_to_a_handmade_one_as_pid1() {
    let (_src, app) = app_source();
    let image = image_of("prep-then-hand", &app, false);
    if image.boot_first_run("b1").is_none() {
        return;
    }
    edit_as_user(&image);
    // The next image is built without `bosun image prepare`: no manifest in its template.
    fs::remove_file(image.template(".bosun-manifest")).unwrap();
    fs::remove_file(image.template(".bosun-image-manifest")).unwrap();
    upgrade_by_hand(&image, false);
    let run = image.boot_to_end(image.boot()).unwrap();
    run.assert_code(0);
    assert!(image.main_ran(), "{}", run.dump());
    let conf = |name: &str| read(&image.data().join("var/lib/app/conf").join(name));
    assert_eq!(conf("untouched.conf"), "v2\n", "{}", run.dump());
    assert_eq!(conf("edited.conf"), "mine\n");
    assert_eq!(conf("edited.conf.bosun-new"), "v2\n");
    assert_eq!(conf("added.conf"), "new in v2\n");
    assert!(
        !image
            .data()
            .join("var/lib/app/conf/untouched.conf.bosun-new")
            .exists()
    );
    assert!(
        !run.stderr
            .contains("manifest of the previous build was missing"),
        "{}",
        run.dump()
    );
    assert_eq!(
        image.lines("hooks")[2..],
        ["upgrade.d upgrade b2 prev=b1", "boot.d boot b2 prev=b1"]
    );
}

/// bosun as PID 1 on `image`, as OpenShift runs a container: an arbitrary uid in group 0.
fn as_arbitrary_uid(image: &TestImage) -> Pid1Builder {
    Pid1::program("setpriv")
        .args(["--reuid=1000680000", "--regid=0", "--clear-groups"])
        .arg(BOSUN)
        .env("BOSUN_ROOT", &image.root)
}

#[test]
fn an_arbitrary_uid_on_a_root_owned_volume_is_told_what_to_do_as_pid1() {
    if !is_root() {
        println!(
            "SKIP an_arbitrary_uid_on_a_root_owned_volume_is_told_what_to_do_as_pid1: needs root \
             to own the volume and to run bosun as another uid"
        );
        return;
    }
    let (_src, app) = app_source();
    let image = image_of("anyuid", &app, true);
    let data = image.data();
    // Seeded by root, as an image run once without --user leaves it.
    if image.boot_first_run("b1").is_none() {
        return;
    }
    fs::set_permissions(data.join(".bosun"), fs::Permissions::from_mode(0o755)).unwrap();
    let before = walk(&data, &[]);
    let record = data.join(".bosun");

    let as_openshift = || as_arbitrary_uid(&image);
    let run = image.boot_to_end(as_openshift()).unwrap();
    run.assert_code(84);
    assert!(!image.main_ran(), "{}", run.dump());
    let d = data.display();
    for needle in [
        "bosun runs as uid 1000680000, gid 0".to_owned(),
        format!("may not write the volume's record {}", record.display()),
        "it belongs to uid 0, gid 0, mode 0755".to_owned(),
        format!("`chown -R 1000680000:0 {d}`"),
        format!("`chgrp -R 0 {d} && chmod -R g=u {d}`"),
        "OpenShift's fsGroup".to_owned(),
        "`--user 0:0`".to_owned(),
    ] {
        assert!(run.stderr.contains(&needle), "{needle:?}\n{}", run.dump());
    }
    assert_eq!(walk(&data, &[]), before, "the volume was touched");
    assert_eq!(image.lines("hooks").len(), 2, "no hook ran");

    // The control: the OpenShift remedy, and the same uid starts routinely on it.
    check_ok(Command::new("chgrp").args(["-R", "0"]).arg(&data));
    check_ok(Command::new("chmod").args(["-R", "g=u"]).arg(&data));
    // (The hooks' record outside the image, written by root so far, is the uid's too.)
    fs::set_permissions(image.state.join("hooks"), fs::Permissions::from_mode(0o666)).unwrap();
    image.boot_routine(as_openshift(), "b1", 2);
}

#[test]
fn an_arbitrary_uid_on_an_empty_root_owned_volume_is_told_what_to_do_as_pid1() {
    if !is_root() {
        println!(
            "SKIP an_arbitrary_uid_on_an_empty_root_owned_volume_is_told_what_to_do_as_pid1: \
             needs root to own the volume and to run bosun as another uid"
        );
        return;
    }
    let (_src, app) = app_source();
    let image = image_of("anyuid-empty", &app, true);
    // An image meant for arbitrary UIDs keeps its template readable by them.
    check_ok(
        Command::new("chmod")
            .args(["-R", "a+rX"])
            .arg(image.template("")),
    );
    let data = image.data();
    fs::create_dir_all(&data).unwrap();
    let Some(run) = image.boot_to_end(as_arbitrary_uid(&image)) else {
        return;
    };
    run.assert_code(84);
    let d = data.display();
    for needle in [
        "it belongs to uid 0, gid 0, mode 0755".to_owned(),
        format!("`chown -R 1000680000:0 {d}`"),
    ] {
        assert!(run.stderr.contains(&needle), "{needle:?}\n{}", run.dump());
    }
    assert!(
        fs::read_dir(&data).unwrap().next().is_none(),
        "nothing written"
    );

    // The control: the first remedy, and the same uid seeds the volume as its own.
    check_ok(Command::new("chown").args(["1000680000:0"]).arg(&data));
    let run = image.boot_to_end(as_arbitrary_uid(&image)).unwrap();
    run.assert_code(0);
    assert_eq!(
        image.lines("hooks"),
        ["first-boot.d first-boot b1 prev=", "boot.d boot b1 prev="],
        "{}",
        run.dump()
    );
    assert_eq!(
        read(&data.join("var/lib/app/conf/stable.conf")),
        "v1\n",
        "{}",
        run.dump()
    );
}

/// A SIGTERM that reaches bosun while it is busy before its loop, as one sent while it reads a
/// large template: blocked and pending across exec (a pending signal survives execve), so bosun
/// finds it at its first look.
fn with_sigterm_pending(image: &TestImage) -> Pid1Builder {
    Pid1::program(PYTHON)
        .args([
            "-c",
            "import os, signal, sys\n\
             signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})\n\
             os.kill(os.getpid(), signal.SIGTERM)\n\
             os.execv(sys.argv[1], sys.argv[1:])",
            BOSUN,
        ])
        .env("BOSUN_ROOT", &image.root)
}

#[test]
fn a_sigterm_while_reading_a_handmade_template_stops_before_the_copy_as_pid1() {
    let (_src, app) = app_source();
    let image = image_of("scan-stop", &app, true);
    let Some(run) = image.boot_to_end(with_sigterm_pending(&image)) else {
        return;
    };
    run.assert_code(143);
    assert!(!image.main_ran(), "{}", run.dump());
    assert!(
        run.stderr.contains("received SIGTERM while filling"),
        "{}",
        run.dump()
    );
    // Stopped while reading the template: the seeding was not even recorded, nothing copied.
    let data = image.data();
    assert!(!data.join(".bosun/state.json").exists(), "{}", run.dump());
    assert!(!data.join("var").exists(), "{}", run.dump());
    // The control: the next start, without the signal, is the first run and seeds it all.
    image.boot_first_run("b1").unwrap();
    super::assert_same_tree(&image.template("var"), &data.join("var"), &[]);
}
