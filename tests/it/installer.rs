//! Issue #5 acceptance: an installer's systemctl calls replayed against bosun as PID 1 —
//! tests/fixtures/installer/ipa-replay.sh does what ipa-server-install does (enable, start,
//! `is-active` polled while it says `activating`, restart, `list-unit-files` parsed by first
//! word, mask and unmask with `is-enabled` printing `masked`, daemon-reload after writing a
//! unit file, `stop --ignore-dependencies`) as the container's main command, calling
//! `/bin/systemctl` as FreeIPA does (bosun is bind-mounted there inside the namespace), and
//! ends with `systemctl exit 7`: the container's exit code must be 7. The script checks each
//! answer and exits 1 at the first wrong one, so a 7 means every answer was right; the
//! negative control replays it against a unit tree missing a unit, which must end in 1.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::harness::{Finished, Pid1, Scratch, bosun};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/installer/ipa-replay.sh")
}

/// The units ipa-server-install manages, as package files under /lib (so they can be masked).
fn units(root: &Path, with_kdc: bool) {
    let lib = root.join("lib/systemd/system");
    fs::create_dir_all(&lib).unwrap();
    fs::create_dir_all(root.join("etc/systemd/system")).unwrap();
    let mut files = vec![
        (
            "ipa-dirsrv.service",
            "[Unit]\nDescription=389 Directory Server\n[Service]\nExecStart=/bin/sleep 3600\nPrivateTmp=yes\nMemoryMax=1G\n[Install]\nWantedBy=multi-user.target\n",
        ),
        (
            "ipa-httpd.service",
            "[Unit]\nDescription=Apache for IPA\nRequires=ipa-dirsrv.service\nAfter=ipa-dirsrv.service\n[Service]\nExecStart=/bin/sleep 3600\n",
        ),
        (
            "ipa-ods.service",
            "[Unit]\nDescription=OpenDNSSEC\n[Service]\nExecStart=/bin/sleep 3600\n[Install]\nWantedBy=multi-user.target\n",
        ),
        (
            "ipa-broken.service",
            "[Unit]\nDescription=Broken\n[Service]\nType=oneshot\nExecStart=/bin/false\n",
        ),
    ];
    if with_kdc {
        files.push((
            "ipa-kdc.service",
            "[Unit]\nDescription=Kerberos KDC\n[Service]\nExecStartPre=/bin/sleep 1\nExecStart=/bin/sleep 3600\n[Install]\nWantedBy=multi-user.target\n",
        ));
    }
    for (name, text) in files {
        fs::write(lib.join(name), text).unwrap();
    }
}

fn replay(tag: &str, with_kdc: bool) -> Option<Finished> {
    let dir = Scratch::new(tag);
    let root = dir.join("root");
    units(&root, with_kdc);
    let mut builder = Pid1::bosun()
        .env("BOSUN_ROOT", &root)
        .args(["--", "/bin/bash"])
        .arg(script());
    // FreeIPA calls /bin/systemctl: bosun takes its place inside the namespace only; where
    // this machine has no systemctl to cover, the script finds bosun through $SYSTEMCTL.
    if Path::new("/usr/bin/systemctl").is_file() {
        builder = builder.setup(&format!(
            "mount --bind '{}' /usr/bin/systemctl",
            bosun().display()
        ));
    } else {
        let link = dir.join("bin/systemctl");
        fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(bosun(), &link).unwrap();
        builder = builder.env("SYSTEMCTL", &link);
    }
    Some(builder.start()?.wait(Duration::from_secs(120)))
}

#[test]
fn ipa_server_install_replay_ends_with_systemctl_exit_7() {
    let Some(run) = replay("installer", true) else {
        return;
    };
    run.assert_code(7);
    let out = run.stdout_str();
    for want in [
        "ok: list-unit-files\n",
        " enable ipa-dirsrv.service\n",
        "'activating' answers\n",
        "ok: restart (",
        " show -p Description --value ipa-dirsrv.service\n",
        " is-enabled ipa-ods.service\n",
        " stop --ignore-dependencies ipa-dirsrv.service\n",
        "ok: all; exit 7\n",
    ] {
        assert!(out.contains(want), "stdout lacks {want:?}\n{}", run.dump());
    }
    assert!(!out.contains("FAIL"), "{}", run.dump());
    // The installer's daemon-reloads do not repeat what was said of unchanged unit files
    // (MemoryMax= is one a container init does not act on; PrivateTmp= is enforced).
    assert_eq!(
        run.stderr
            .matches("ipa-dirsrv.service: not enforced in a container: MemoryMax")
            .count(),
        1,
        "{}",
        run.dump()
    );
}

/// Negative control: without the KDC's unit file the replay's first start fails, the script
/// says FAIL and the container ends with 1, not 7.
#[test]
fn the_replay_fails_when_an_answer_is_wrong() {
    let Some(run) = replay("installer-control", false) else {
        return;
    };
    run.assert_code(1);
    assert!(
        run.stdout_str()
            .contains(" start --no-block ipa-kdc.service gave rc=5"),
        "{}",
        run.dump()
    );
}
