//! Issue #6 end to end with bosun as a real PID 1: first run → routine → upgrade → downgrade
//! refused → foreign volume refused and adopted, a volume in use, and a user whose uid moved
//! between two images. Every image is a scratch root (BOSUN_ROOT); nothing here touches the
//! host's /data, /run, /tmp or /etc.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::{BOSUN, check_ok, is_root};
use crate::harness::{Finished, Pid1, Pid1Builder, Scratch};

pub(super) const T: Duration = Duration::from_secs(60);

/// A scratch image for bosun as PID 1: a root with /etc/passwd, /etc/group, a template
/// prepared by `bosun image prepare` from what the test wrote under the paths it lists, hooks,
/// and a directory outside the root for what hooks and services record.
pub(super) struct TestImage {
    scratch: Scratch,
    pub root: PathBuf,
    /// Outside the image: where hooks and services write what they saw.
    pub state: PathBuf,
}

impl TestImage {
    pub fn new(tag: &str) -> TestImage {
        let scratch = Scratch::new(tag);
        let root = scratch.join("root");
        let state = scratch.join("state");
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::create_dir_all(&state).unwrap();
        fs::set_permissions(&state, fs::Permissions::from_mode(0o777)).unwrap();
        fs::write(
            root.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\napp:x:70:70::/var/lib/app:/bin/sh\n",
        )
        .unwrap();
        fs::write(root.join("etc/group"), "root:x:0:\napp:x:70:\n").unwrap();
        TestImage {
            scratch,
            root,
            state,
        }
    }

    /// `ROOT/rel`.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// The data volume as bosun sees it.
    pub fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    /// `ROOT/data-template/rel`.
    pub fn template(&self, rel: &str) -> PathBuf {
        self.root.join("data-template").join(rel)
    }

    /// Write `text` to `ROOT/rel`, making parents.
    pub fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        // A prepared path is a symlink to /data: writing through it would reach the host's.
        for dir in path
            .ancestors()
            .skip(1)
            .take_while(|d| d.starts_with(&self.root))
        {
            assert!(
                !fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()),
                "{} goes through the symlink {}",
                path.display(),
                dir.display()
            );
        }
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// Move `paths` (absolute, in the image) into the template, as build `id`.
    pub fn prepare(&self, id: &str, paths: &[&str]) {
        let list = self.scratch.join("list");
        fs::write(&list, paths.join("\n") + "\n").unwrap();
        check_ok(
            Command::new(BOSUN)
                .args(["image", "prepare", "--build-id", id, "--root"])
                .arg(&self.root)
                .arg(&list),
        );
    }

    /// Turn the edited template into a new image `id`: its build id and manifests.
    pub fn rebuild(&self, id: &str) {
        bosun::volume::image::write_template_manifest(&bosun::volume::image::Layout {
            root: self.root.clone(),
            template: "/data-template".into(),
            data: "/data".into(),
        })
        .unwrap();
        fs::write(self.path("etc/build-id"), format!("{id}\n")).unwrap();
    }

    /// An executable hook at `HOOKS/rel` (`first-boot.d/10-install`, `boot`, ...).
    pub fn hook(&self, rel: &str, body: &str) {
        let path = self.path("etc/bosun/hooks").join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// An enabled unit (wanted by multi-user.target).
    pub fn unit(&self, name: &str, text: &str) {
        let dir = self.path("etc/systemd/system");
        fs::create_dir_all(dir.join("multi-user.target.wants")).unwrap();
        fs::write(dir.join(name), text).unwrap();
        std::os::unix::fs::symlink(
            format!("../{name}"),
            dir.join("multi-user.target.wants").join(name),
        )
        .unwrap();
    }

    /// bosun as PID 1 on this image.
    pub fn boot(&self) -> Pid1Builder {
        Pid1::bosun().env("BOSUN_ROOT", &self.root)
    }

    /// Boot with a main command that records that it ran, to completion.
    pub fn boot_to_end(&self, builder: Pid1Builder) -> Option<Finished> {
        let marker = self.state.join("main-ran");
        let _ = fs::remove_file(&marker);
        builder
            .args(["--", "touch"])
            .arg(&marker)
            .start()
            .map(|p| p.wait(T))
    }

    /// Boot a fresh image whose hooks are [`recorder`]s to the end, and check that it was a
    /// first run of build `id`: the first-boot hook, the boot hook, then the main command. None
    /// (after a SKIP line) when namespaces are unavailable.
    pub fn boot_first_run(&self, id: &str) -> Option<Finished> {
        let run = self.boot_to_end(self.boot())?;
        run.assert_code(0);
        assert!(self.main_ran(), "{}", run.dump());
        assert_eq!(
            self.lines("hooks"),
            [
                format!("first-boot.d first-boot {id} prev="),
                format!("boot.d boot {id} prev=")
            ],
            "{}",
            run.dump()
        );
        Some(run)
    }

    /// Boot with `builder` to the end and check that it was a routine start of build `id`: only
    /// the boot hook ran, after the `hooks_before` lines of earlier boots, and the main command.
    pub fn boot_routine(&self, builder: Pid1Builder, id: &str, hooks_before: usize) -> Finished {
        let run = self
            .boot_to_end(builder)
            .expect("namespaces worked for the first run");
        run.assert_code(0);
        assert!(self.main_ran(), "{}", run.dump());
        assert_eq!(
            self.lines("hooks")[hooks_before..],
            [format!("boot.d boot {id} prev={id}")],
            "{}",
            run.dump()
        );
        run
    }

    /// Whether the main command of the last [`TestImage::boot_to_end`] ran.
    pub fn main_ran(&self) -> bool {
        self.state.join("main-ran").exists()
    }

    /// A file the hooks and services write to, as lines.
    pub fn lines(&self, name: &str) -> Vec<String> {
        fs::read_to_string(self.state.join(name))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The volume's state file.
    pub fn volume_state(&self) -> serde_json::Value {
        let text = fs::read_to_string(self.data().join(".bosun/state.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

/// A hook body that appends `NAME PHASE BUILD prev=PREVIOUS` to STATE/hooks.
pub(super) fn recorder(image: &TestImage, name: &str) -> String {
    format!(
        "echo \"{name} $BOSUN_PHASE $BOSUN_BUILD_ID prev=$BOSUN_PREVIOUS_BUILD_ID\" >> {}/hooks",
        image.state.display()
    )
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn first_run_routine_upgrade_downgrade_as_pid1() {
    let image = TestImage::new("life");
    image.write("var/lib/app/untouched.conf", "v1\n");
    image.write("var/lib/app/edited.conf", "v1\n");
    image.write("var/lib/app/stable.conf", "v1\n");
    image.prepare("b1", &["/var/lib/app"]);
    for phase in ["first-boot", "upgrade", "boot"] {
        image.hook(
            &format!("{phase}.d/10-record"),
            &recorder(&image, &format!("{phase}.d")),
        );
    }
    let data = image.data();

    // First run: seeded, first-boot hooks, boot hooks, then the main command.
    if image.boot_first_run("b1").is_none() {
        return;
    }
    super::assert_same_content(
        &image.template("var/lib/app"),
        &data.join("var/lib/app"),
        &[],
    );
    let state = image.volume_state();
    assert_eq!(state["phase"], "ready");
    assert_eq!(state["build_id"], "b1");

    // Routine: only the boot hooks (the first-boot hooks do not run twice).
    fs::write(data.join("var/lib/app/edited.conf"), "mine\n").unwrap();
    fs::write(data.join("var/lib/app/stable.conf"), "mine too\n").unwrap();
    fs::write(data.join("var/lib/app/user-file"), "user data\n").unwrap();
    image.boot_routine(image.boot(), "b1", 2);

    // A new image: two files changed, one added.
    fs::write(image.template("var/lib/app/untouched.conf"), "v2\n").unwrap();
    fs::write(image.template("var/lib/app/edited.conf"), "v2\n").unwrap();
    fs::write(image.template("var/lib/app/added.conf"), "new in v2\n").unwrap();
    image.rebuild("b2");
    let run = image.boot_to_end(image.boot()).unwrap();
    run.assert_code(0);
    assert!(image.main_ran());
    let app = |rel: &str| read(&data.join("var/lib/app").join(rel));
    assert_eq!(app("untouched.conf"), "v2\n", "unmodified file updated");
    assert_eq!(app("edited.conf"), "mine\n", "the user's file kept");
    assert_eq!(
        app("edited.conf.bosun-new"),
        "v2\n",
        "the image's beside it"
    );
    assert_eq!(app("stable.conf"), "mine too\n");
    assert!(!data.join("var/lib/app/stable.conf.bosun-new").exists());
    assert_eq!(app("added.conf"), "new in v2\n", "new path added");
    assert_eq!(app("user-file"), "user data\n");
    assert!(
        run.stderr
            .contains("edited.conf.bosun-new: compare and merge"),
        "{}",
        run.dump()
    );
    assert_eq!(
        image.lines("hooks")[3..],
        ["upgrade.d upgrade b2 prev=b1", "boot.d boot b2 prev=b1"],
        "{}",
        run.dump()
    );
    let upgrade_log = fs::read_dir(data.join(".bosun/log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("/upgrade-"))
        .expect("the upgrade hooks' log");
    assert!(
        read(&upgrade_log).contains("# kept your"),
        "the merge report heads the upgrade log"
    );
    assert_eq!(image.volume_state()["build_id"], "b2");

    // Back to the old image: refused with what to do, nothing started.
    fs::write(image.path("etc/build-id"), "b1\n").unwrap();
    let hooks_before = image.lines("hooks").len();
    let run = image.boot_to_end(image.boot()).unwrap();
    run.assert_code(81);
    assert!(!image.main_ran(), "{}", run.dump());
    assert_eq!(image.lines("hooks").len(), hooks_before, "no hook ran");
    assert!(
        run.stderr.contains("older than the data")
            && run.stderr.contains("BOSUN_ALLOW_DOWNGRADE=1"),
        "{}",
        run.dump()
    );
    assert_eq!(
        image.volume_state()["build_id"],
        "b2",
        "the volume unchanged"
    );

    // ... unless allowed: merged as an upgrade to b1.
    let run = image
        .boot_to_end(image.boot().env("BOSUN_ALLOW_DOWNGRADE", "1"))
        .unwrap();
    run.assert_code(0);
    assert!(image.main_ran());
    assert_eq!(
        image.lines("hooks")[hooks_before..],
        ["upgrade.d upgrade b1 prev=b2", "boot.d boot b1 prev=b2"]
    );
    assert_eq!(image.volume_state()["build_id"], "b1");
}

#[test]
fn foreign_volume_refused_then_adopted_as_pid1() {
    let image = TestImage::new("foreign");
    image.write("var/lib/app/app.conf", "image\n");
    image.write("var/lib/app/extra.conf", "image extra\n");
    image.prepare("b1", &["/var/lib/app"]);
    image.hook("first-boot.d/10-record", &recorder(&image, "first-boot.d"));
    let data = image.data();
    fs::create_dir_all(data.join("var/lib/app")).unwrap();
    fs::write(data.join("var/lib/app/app.conf"), "theirs\n").unwrap();

    let Some(run) = image.boot_to_end(image.boot()) else {
        return;
    };
    run.assert_code(80);
    assert!(!image.main_ran());
    assert!(
        run.stderr.contains("was not seeded by bosun") && run.stderr.contains("BOSUN_ADOPT_DATA=1"),
        "{}",
        run.dump()
    );
    assert!(
        !data.join("var/lib/app/extra.conf").exists(),
        "nothing copied"
    );
    assert!(image.lines("hooks").is_empty());

    let run = image
        .boot_to_end(image.boot().env("BOSUN_ADOPT_DATA", "1"))
        .unwrap();
    run.assert_code(0);
    assert!(image.main_ran());
    assert_eq!(read(&data.join("var/lib/app/app.conf")), "theirs\n");
    assert_eq!(
        read(&data.join("var/lib/app/extra.conf")),
        "image extra\n",
        "what was missing is copied"
    );
    assert_eq!(image.lines("hooks"), ["first-boot.d first-boot b1 prev="]);
    assert_eq!(image.volume_state()["adopted"], true);
}

#[test]
fn volume_in_use_is_refused_as_pid1() {
    let image = TestImage::new("inuse");
    image.write("var/lib/app/app.conf", "image\n");
    image.prepare("b1", &["/var/lib/app"]);
    fs::create_dir_all(image.data()).unwrap();
    // Another bosun (this test, through the library) holds the volume's lock.
    let held = bosun::volume::state::Volume::open(&image.data(), false).unwrap();
    let Some(run) = image.boot_to_end(image.boot()) else {
        return;
    };
    run.assert_code(83);
    assert!(!image.main_ran());
    assert!(
        run.stderr.contains("in use by another bosun"),
        "{}",
        run.dump()
    );
    drop(held);
    let run = image.boot_to_end(image.boot()).unwrap();
    run.assert_code(0);
    assert!(image.main_ran());
}

#[test]
fn moved_uid_still_owns_its_files_after_the_upgrade_as_pid1() {
    if !is_root() {
        eprintln!("SKIP moved_uid_still_owns_its_files_after_the_upgrade_as_pid1: needs root");
        return;
    }
    let chown = |path: &Path, id: u32| {
        rustix::fs::chownat(
            rustix::fs::CWD,
            path,
            Some(rustix::fs::Uid::from_raw(id)),
            Some(rustix::fs::Gid::from_raw(id)),
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        )
        .unwrap();
    };
    let image = TestImage::new("uid");
    image.write("var/lib/app/db", "rows\n");
    chown(&image.path("var/lib/app"), 70);
    chown(&image.path("var/lib/app/db"), 70);
    image.prepare("b1", &["/var/lib/app"]);
    let Some(run) = image.boot_to_end(image.boot()) else {
        return;
    };
    run.assert_code(0);
    let data = image.data();
    // At run time the service (uid 70) wrote a file the template never had; someone else's
    // file (uid 5000) sits beside it.
    fs::write(data.join("var/lib/app/written-at-run-time"), "x\n").unwrap();
    chown(&data.join("var/lib/app/written-at-run-time"), 70);
    fs::write(data.join("var/lib/app/someone-else"), "y\n").unwrap();
    chown(&data.join("var/lib/app/someone-else"), 5000);

    // The next image's packages gave `app` the number 71.
    image.write(
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/sh\napp:x:71:71::/var/lib/app:/bin/sh\n",
    );
    image.write("etc/group", "root:x:0:\napp:x:71:\n");
    chown(&image.template("var/lib/app"), 71);
    chown(&image.template("var/lib/app/db"), 71);
    image.rebuild("b2");
    let run = image.boot_to_end(image.boot()).unwrap();
    run.assert_code(0);
    let owner = |rel: &str| {
        let meta = fs::symlink_metadata(data.join(rel)).unwrap();
        (meta.uid(), meta.gid())
    };
    assert_eq!(owner("var/lib/app"), (71, 71), "{}", run.dump());
    assert_eq!(owner("var/lib/app/db"), (71, 71));
    assert_eq!(owner("var/lib/app/written-at-run-time"), (71, 71));
    assert_eq!(owner("var/lib/app/someone-else"), (5000, 5000), "not app's");
    assert!(run.stderr.contains("re-owned 3 entries"), "{}", run.dump());
}
