//! bosun (PID 1) killed with SIGKILL at random moments while it seeds the volume and while it
//! merges a new image into it: every following boot completes, the volume ends up exactly as
//! an uninterrupted boot leaves it, and no file of the user's is lost.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use super::boot::{T, TestImage};

/// Files in the test's template: enough that seeding takes a good part of a boot.
const FILES: usize = 300;

/// Kills per scenario.
const KILLS: usize = 25;

/// A small pseudo-random generator; the seed is printed so that a failure can be replayed
/// (BOSUN_TEST_SEED).
struct Random(u64);

impl Random {
    fn new() -> Random {
        let seed = std::env::var("BOSUN_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                u64::from(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .subsec_nanos(),
                )
            });
        eprintln!("random seed {seed} (BOSUN_TEST_SEED={seed} replays it)");
        Random(seed)
    }

    fn below(&mut self, limit: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % limit.max(1)
    }
}

fn template_file(i: usize, version: &str) -> String {
    format!("{version} file {i}\n").repeat(i % 40 + 1)
}

/// The application's files under `ROOT/dir` (the image's `var/lib/app` before it is prepared,
/// the template's afterwards: once prepared, `var/lib/app` is a symlink to /data).
fn write_tree(image: &TestImage, dir: &str, version: &str) {
    for i in 0..FILES {
        image.write(
            &format!("{dir}/d{:02}/f{i}", i % 23),
            &template_file(i, version),
        );
    }
    // One bigger file, so that the copy of data takes a while too.
    image.write(
        &format!("{dir}/big"),
        &format!("{version} ").repeat(1 << 18),
    );
}

/// Boot once, killed with SIGKILL after a random delay below `limit`. Returns whether the kill
/// reached a running bosun (it may have finished first).
fn killed_boot(image: &TestImage, random: &mut Random, limit: Duration) -> bool {
    let Some(pid1) = image.boot().args(["--", "true"]).start() else {
        return false;
    };
    let delay = Duration::from_micros(random.below(u64::try_from(limit.as_micros()).unwrap()));
    std::thread::sleep(delay);
    // Not Pid1::signal, which fails the test when bosun is already gone.
    let landed = pid1.pid() > 0
        && nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid1.pid()),
            nix::sys::signal::Signal::SIGKILL,
        )
        .is_ok();
    let _ = pid1.wait(T);
    landed
}

/// The phase the volume was left in ("none" without a state file).
fn phase(data: &Path) -> String {
    fs::read_to_string(data.join(".bosun/state.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|state| state["phase"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "none".to_owned())
}

/// A boot that must complete.
fn full_boot(image: &TestImage) -> Duration {
    let started = Instant::now();
    let run = image.boot_to_end(image.boot()).unwrap();
    run.assert_code(0);
    assert!(image.main_ran(), "{}", run.dump());
    started.elapsed()
}

#[test]
fn pid1_killed_while_seeding_and_upgrading_loses_nothing() {
    if !crate::harness::namespaces_work() {
        return;
    }
    let mut random = Random::new();
    let image = TestImage::new("crash");
    write_tree(&image, "var/lib/app", "v1");
    image.prepare("b1", &["/var/lib/app"]);
    let data = image.data();
    let app = data.join("var/lib/app");
    let started = Instant::now();

    // How long a whole first boot takes, to aim the kills inside it.
    let first = full_boot(&image);
    eprintln!("a first boot (seeding {FILES} files and 768 KiB) takes {first:?}");

    // Seeding: rounds of kills on an empty volume, then a boot that must complete.
    let mut interrupted = 0;
    let mut kills = 0;
    while kills < KILLS {
        fs::remove_dir_all(&data).unwrap();
        fs::create_dir(&data).unwrap();
        for _ in 0..(2 + random.below(3)) {
            if killed_boot(&image, &mut random, first) {
                kills += 1;
                if phase(&data) == "seeding" {
                    interrupted += 1;
                }
            }
        }
        full_boot(&image);
        assert_eq!(phase(&data), "ready");
        super::assert_same_tree(&image.template("var/lib/app"), &app, &[]);
    }
    eprintln!("{kills} kills during first boots, {interrupted} of them before seeding finished");
    assert!(
        interrupted >= KILLS / 5,
        "too few kills landed inside a seeding ({interrupted}); the test proves little"
    );

    // Upgrade: the user changed some files and added some; the new image changes every file
    // and adds some. Every round starts again from that volume (kept aside with cp -a).
    for i in (0..FILES).step_by(10) {
        fs::write(
            app.join(format!("d{:02}/f{i}", i % 23)),
            format!("the user's {i}\n"),
        )
        .unwrap();
    }
    for i in 0..20 {
        fs::write(app.join(format!("user-{i}")), format!("user file {i}\n")).unwrap();
    }
    let before = image.state.join("before-upgrade");
    super::check_ok(
        std::process::Command::new("cp")
            .arg("-a")
            .arg(&data)
            .arg(&before),
    );
    write_tree(&image, "data-template/var/lib/app", "v2");
    for i in 0..50 {
        image.write(
            &format!("data-template/var/lib/app/new/n{i}"),
            "new in v2\n",
        );
    }
    image.rebuild("b2");
    let mut interrupted = 0;
    let mut kills = 0;
    while kills < KILLS {
        fs::remove_dir_all(&data).unwrap();
        super::check_ok(
            std::process::Command::new("cp")
                .arg("-a")
                .arg(&before)
                .arg(&data),
        );
        for _ in 0..(2 + random.below(3)) {
            if killed_boot(&image, &mut random, first) {
                kills += 1;
                if phase(&data) == "upgrading" {
                    interrupted += 1;
                }
            }
        }
        full_boot(&image);
        assert_eq!(phase(&data), "ready");
        assert_eq!(image.volume_state()["build_id"], "b2");
        assert_upgraded(&data);
    }
    eprintln!("{kills} kills during upgrades, {interrupted} of them inside the merge");
    assert!(
        interrupted >= KILLS / 5,
        "too few kills landed inside an upgrade merge ({interrupted}); the test proves little"
    );
    eprintln!("took {:?}", started.elapsed());
}

/// The volume after the upgrade: the user's files kept (with the image's version beside the
/// ones both changed), the others updated, the new ones added, nothing half-copied.
fn assert_upgraded(data: &Path) {
    let app = data.join("var/lib/app");
    let read = |rel: &str| fs::read_to_string(app.join(rel)).unwrap();
    for i in 0..FILES {
        let rel = format!("d{:02}/f{i}", i % 23);
        if i % 10 == 0 {
            assert_eq!(
                read(&rel),
                format!("the user's {i}\n"),
                "{rel}: user's kept"
            );
            assert_eq!(read(&format!("{rel}.bosun-new")), template_file(i, "v2"));
        } else {
            assert_eq!(read(&rel), template_file(i, "v2"), "{rel}: updated");
            assert!(!app.join(format!("{rel}.bosun-new")).exists(), "{rel}");
        }
    }
    for i in 0..20 {
        assert_eq!(read(&format!("user-{i}")), format!("user file {i}\n"));
    }
    for i in 0..50 {
        assert_eq!(read(&format!("new/n{i}")), "new in v2\n");
    }
    let partial = walk_names(data)
        .into_iter()
        .filter(|name| name.contains(".bosun-partial."))
        .collect::<Vec<_>>();
    assert!(partial.is_empty(), "left behind: {partial:?}");
}

/// Every path under `root`, as text.
fn walk_names(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            out.push(entry.path().to_string_lossy().into_owned());
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            }
        }
    }
    out
}

/// Entries under `dir`, recursively, but for bosun's own `.bosun`.
fn count_entries(dir: &Path) -> usize {
    fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .filter(|e| e.file_name() != ".bosun")
            .map(|e| {
                1 + if e.file_type().unwrap().is_dir() {
                    count_entries(&e.path())
                } else {
                    0
                }
            })
            .sum()
    })
}

#[test]
fn sigterm_while_seeding_stops_the_copy_and_the_next_boot_finishes_it() {
    if !crate::harness::namespaces_work() {
        return;
    }
    const MANY: usize = 6000;
    let image = TestImage::new("seed-term");
    for i in 0..MANY {
        image.write(&format!("var/lib/app/d{:02}/f{i}", i % 50), "x\n");
    }
    image.prepare("b1", &["/var/lib/app"]);
    let data = image.data();
    let app = data.join("var/lib/app");
    // Directories are built under temporary names, so count the whole volume.
    let total = count_entries(&image.path("data-template")) - 1; // its manifest

    let pid1 = image
        .boot()
        .args(["--", "touch"])
        .arg(image.state.join("main-ran"))
        .start()
        .unwrap();
    // Freeze bosun as soon as the copy has begun, queue SIGTERM, let it go on: a bosun that
    // looks at signals only after the copy would fill the volume first.
    let begun = crate::harness::wait_until(T, || count_entries(&data) > 0);
    pid1.signal(libc::SIGSTOP);
    let at_stop = count_entries(&data);
    assert!(
        begun && at_stop < total,
        "the copy was over too soon ({at_stop} of {total} entries): the test proves nothing"
    );
    pid1.signal(libc::SIGTERM);
    pid1.signal(libc::SIGCONT);
    let run = pid1.wait(T);
    run.assert_code(143);
    assert!(
        run.stderr.contains("received SIGTERM while filling")
            && run.stderr.contains("the next start carries on"),
        "{}",
        run.dump()
    );
    assert!(!image.main_ran(), "the main command did not run");
    assert_eq!(
        phase(&data),
        "seeding",
        "the volume says the seeding is unfinished"
    );
    let left = count_entries(&data);
    assert!(
        left < total,
        "the copy went on to the end: {left} of {total} entries\n{}",
        run.dump()
    );

    // The next boot carries on and completes: the volume equals the template.
    full_boot(&image);
    assert_eq!(phase(&data), "ready");
    super::assert_same_tree(&image.template("var/lib/app"), &app, &[]);
}
