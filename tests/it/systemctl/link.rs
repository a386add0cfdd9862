//! `bosun image link` on scratch image roots: the links, their dpkg diversions, idempotence,
//! and the property that matters — a package that ships `systemctl` and `journalctl` (as
//! Debian 12's systemd ships `/bin/systemctl` and `/bin/journalctl`) installed afterwards with
//! dpkg does not replace bosun's links. The
//! negative control installs the same package over a plain link, which it replaces. Only
//! scratch roots and their own dpkg databases (`--root`) are touched.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};

use crate::harness::{Scratch, bosun};

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A Debian-like image root: merged /usr, an empty dpkg database, bosun at
/// /usr/local/bin/bosun.
fn image_root(root: &Path) {
    for dir in [
        "usr/bin",
        "usr/local/bin",
        "var/lib/dpkg/info",
        "var/lib/dpkg/updates",
    ] {
        fs::create_dir_all(root.join(dir)).unwrap();
    }
    fs::write(root.join("var/lib/dpkg/status"), "").unwrap();
    symlink("usr/bin", root.join("bin")).unwrap();
    fs::copy(bosun(), root.join("usr/local/bin/bosun")).unwrap();
}

/// A package like Debian 12's systemd as far as this test cares: it ships /bin/systemctl.
fn fake_systemd_deb(dir: &Path) -> std::path::PathBuf {
    let pkg = dir.join("pkg");
    fs::create_dir_all(pkg.join("DEBIAN")).unwrap();
    fs::create_dir_all(pkg.join("bin")).unwrap();
    fs::write(
        pkg.join("DEBIAN/control"),
        "Package: fake-systemd\nVersion: 252-1\nArchitecture: all\nMaintainer: bosun tests <tests@example.org>\nDescription: ships /bin/systemctl and /bin/journalctl\n",
    )
    .unwrap();
    for name in ["systemctl", "journalctl"] {
        let binary = pkg.join("bin").join(name);
        fs::write(&binary, format!("#!/bin/sh\necho the package's {name}\n")).unwrap();
        fs::set_permissions(&binary, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let deb = dir.join("fake-systemd.deb");
    let out = Command::new("dpkg-deb")
        .args(["--build", "--root-owner-group"])
        .arg(&pkg)
        .arg(&deb)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    deb
}

/// `dpkg --root=ROOT -i DEB`; None (after a SKIP line) when dpkg cannot work on a scratch root.
fn dpkg_install(root: &Path, deb: &Path) -> Option<Output> {
    let out = Command::new("dpkg")
        .arg(format!("--root={}", root.display()))
        .args(["--force-script-chrootless", "--force-not-root", "-i"])
        .arg(deb)
        .output()
        .unwrap();
    if !out.status.success() {
        println!(
            "SKIP: dpkg cannot install into a scratch root here ({}); the diversion property was not checked",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return None;
    }
    Some(out)
}

fn link(root: &Path) -> Output {
    Command::new(bosun())
        .args(["image", "link", "--root"])
        .arg(root)
        .args(["--bosun", "/usr/local/bin/bosun"])
        .output()
        .unwrap()
}

fn target(path: &Path) -> Option<String> {
    fs::read_link(path).ok().map(|t| t.display().to_string())
}

#[test]
fn image_link_survives_a_systemd_package() {
    if !have("dpkg-divert") || !have("dpkg-deb") || !have("dpkg") {
        println!("SKIP: no dpkg tools here; `bosun image link` diversions not tested");
        return;
    }
    let scratch = Scratch::new("image-link");
    let root = scratch.join("root");
    image_root(&root);
    // An earlier systemctl in the image is kept aside, not lost.
    fs::write(root.join("usr/bin/systemctl"), "old").unwrap();
    fs::write(root.join("usr/bin/journalctl"), "old journalctl").unwrap();
    let out = link(&root);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bosun_path = Some("/usr/local/bin/bosun".to_owned());
    assert_eq!(target(&root.join("usr/bin/systemctl")), bosun_path);
    assert_eq!(target(&root.join("usr/bin/initctl")), bosun_path);
    assert_eq!(target(&root.join("usr/bin/journalctl")), bosun_path);
    assert_eq!(
        fs::read_to_string(root.join("usr/bin/systemctl.distrib")).unwrap(),
        "old"
    );
    assert_eq!(
        fs::read_to_string(root.join("usr/bin/journalctl.distrib")).unwrap(),
        "old journalctl"
    );
    let list = Command::new("dpkg-divert")
        .arg("--root")
        .arg(&root)
        .arg("--list")
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(
        list.contains("local diversion of /bin/systemctl to /bin/systemctl.distrib"),
        "{list}"
    );
    assert!(
        list.contains("local diversion of /usr/bin/systemctl to /usr/bin/systemctl.distrib"),
        "{list}"
    );
    for path in ["/bin/journalctl", "/usr/bin/journalctl"] {
        assert!(
            list.contains(&format!("local diversion of {path} to {path}.distrib")),
            "{list}"
        );
    }

    // Idempotent: a second run changes nothing and says so.
    let before = super::tree(&root);
    let again = link(&root);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(super::tree(&root), before);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already"));

    // The link answers as systemctl inside the image.
    let out = Command::new(root.join("usr/local/bin/bosun"))
        .arg0("systemctl")
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("systemd 252 (bosun "));
    // And as journalctl.
    let out = Command::new(root.join("usr/local/bin/bosun"))
        .arg0("journalctl")
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.starts_with("journalctl [OPTIONS...]"), "{help}");

    // The property: installing a systemd package later leaves bosun's link in place.
    let deb = fake_systemd_deb(&scratch.join("deb"));
    if dpkg_install(&root, &deb).is_none() {
        return;
    }
    for name in ["systemctl", "journalctl"] {
        assert_eq!(
            target(&root.join("usr/bin").join(name)),
            bosun_path,
            "{name}"
        );
        assert!(
            fs::read_to_string(root.join(format!("usr/bin/{name}.distrib")))
                .unwrap()
                .contains(&format!("the package's {name}")),
            "{name}"
        );
    }

    // Negative control: a plain link without the diversion is replaced by the package.
    let control = scratch.join("control");
    image_root(&control);
    for name in ["systemctl", "journalctl"] {
        symlink("/usr/local/bin/bosun", control.join("usr/bin").join(name)).unwrap();
    }
    if dpkg_install(&control, &deb).is_none() {
        return;
    }
    for name in ["systemctl", "journalctl"] {
        assert_eq!(target(&control.join("usr/bin").join(name)), None, "{name}");
        assert!(
            fs::read_to_string(control.join("usr/bin").join(name))
                .unwrap()
                .contains(&format!("the package's {name}"))
        );
    }
}

#[test]
fn image_link_without_dpkg_or_merged_usr() {
    let scratch = Scratch::new("image-link-plain");
    let root = scratch.path();
    fs::create_dir_all(root.join("usr/local/bin")).unwrap();
    fs::create_dir_all(root.join("bin")).unwrap();
    fs::copy(bosun(), root.join("usr/local/bin/bosun")).unwrap();
    let out = link(root);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no dpkg in the image"), "{stderr}");
    let bosun_path = Some("/usr/local/bin/bosun".to_owned());
    // /bin is a directory of its own: it gets a systemctl too.
    for name in [
        "usr/bin/systemctl",
        "usr/bin/journalctl",
        "usr/bin/initctl",
        "bin/systemctl",
        "bin/journalctl",
    ] {
        assert_eq!(target(&root.join(name)), bosun_path, "{name}");
    }
    // A binary that is not in the image is refused (negative control for the check).
    let out = Command::new(bosun())
        .args(["image", "link", "--root"])
        .arg(root)
        .args(["--bosun", "/nowhere/bosun"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nowhere/bosun is not in the image"));
}
