//! The data volume end to end: the copier against `cp -a` on a tricky tree, a seeding killed
//! with SIGKILL at random moments and resumed, a non-root copy, `bosun image prepare|check|
//! diff` on a scratch root, and an upgrade with a user-modified file and a moved uid. With
//! bosun as PID 1: the life cycle ([`boot`]), kills during seeding and upgrades ([`crash`]),
//! hooks ([`hooks`]), the boot's runtime duties ([`runtime`]), a template made by hand and an
//! arbitrary UID on a root-owned volume ([`handmade`]), and `make demo` run without a terminal
//! ([`demo`]).

// Test helpers outside #[test] functions panic on failure too; clippy's allow-unwrap-in-tests
// covers only the #[test] functions themselves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use bosun::volume::copy::{CopyOptions, copy_tree};

mod boot;
mod crash;
mod demo;
mod handmade;
mod hooks;
mod image;
mod pool;
mod runtime;

const BOSUN: &str = env!("CARGO_BIN_EXE_bosun");

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A fresh scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("bosun-it-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        Self(path)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn check_ok(cmd: &mut Command) -> Output {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed with {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn set_times(path: &Path, secs: i64, nanos: i64) {
    let ts = rustix::fs::Timespec {
        tv_sec: secs,
        tv_nsec: nanos,
    };
    rustix::fs::utimensat(
        rustix::fs::CWD,
        path,
        &rustix::fs::Timestamps {
            last_access: ts,
            last_modification: ts,
        },
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .unwrap();
}

fn xattrs(path: &Path) -> BTreeMap<OsString, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut names = vec![0_u8; 64 * 1024];
    let Ok(len) = rustix::fs::llistxattr(path, &mut names[..]) else {
        return out;
    };
    for name in names[..len].split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let mut value = vec![0_u8; 64 * 1024];
        let len = rustix::fs::lgetxattr(path, OsStr::from_bytes(name), &mut value[..]).unwrap();
        value.truncate(len);
        out.insert(OsString::from_vec(name.to_vec()), value);
    }
    out
}

/// One entry as the comparison sees it.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    nlink: u64,
    rdev: u64,
    mtime: (i64, i64),
    target: Option<PathBuf>,
    xattrs: BTreeMap<OsString, Vec<u8>>,
    /// Index of the hardlink group (first path of the inode, in walk order).
    link_group: Option<PathBuf>,
    blocks: u64,
}

/// Every entry under `root` by relative path; iterative, so deep trees are fine. `skip` names
/// top-level entries left out.
fn walk(root: &Path, skip: &[&str]) -> BTreeMap<PathBuf, Seen> {
    let mut out = BTreeMap::new();
    let mut groups: BTreeMap<(u64, u64), PathBuf> = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    let mut order = Vec::new();
    while let Some(rel) = stack.pop() {
        let path = root.join(&rel);
        let meta = fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            let mut names: Vec<OsString> = fs::read_dir(&path)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            names.sort();
            for name in names.into_iter().rev() {
                if rel.as_os_str().is_empty() && skip.iter().any(|s| OsStr::new(s) == name) {
                    continue;
                }
                stack.push(rel.join(name));
            }
        }
        order.push((rel, meta));
    }
    for (rel, meta) in order {
        let path = root.join(&rel);
        let link_group = (!meta.is_dir() && meta.nlink() > 1).then(|| {
            groups
                .entry((meta.dev(), meta.ino()))
                .or_insert_with(|| rel.clone())
                .clone()
        });
        out.insert(
            rel,
            Seen {
                mode: meta.mode(),
                uid: meta.uid(),
                gid: meta.gid(),
                size: if meta.is_dir() { 0 } else { meta.len() },
                nlink: if meta.is_dir() { 0 } else { meta.nlink() },
                rdev: meta.rdev(),
                mtime: (meta.mtime(), meta.mtime_nsec()),
                target: meta
                    .file_type()
                    .is_symlink()
                    .then(|| fs::read_link(&path).unwrap()),
                xattrs: xattrs(&path),
                link_group,
                blocks: meta.blocks(),
            },
        );
    }
    out
}

/// Assert that two trees are equal entry by entry on all metadata; allocated blocks may differ
/// within a tolerance (holes stay holes), and `data` must agree byte for byte.
fn assert_same_tree(expected_root: &Path, actual_root: &Path, skip: &[&str]) {
    let expected = walk(expected_root, skip);
    let actual = walk(actual_root, skip);
    let names = |m: &BTreeMap<PathBuf, Seen>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&expected), names(&actual), "the entries differ");
    for (rel, want) in &expected {
        let got = &actual[rel];
        let tolerance = want.blocks + want.blocks / 10 + 64;
        assert!(
            got.blocks <= tolerance,
            "{}: {} blocks allocated, expected at most {tolerance} (holes filled?)",
            rel.display(),
            got.blocks
        );
        let strip = |s: &Seen| Seen {
            blocks: 0,
            xattrs: s.xattrs.clone(),
            target: s.target.clone(),
            link_group: s.link_group.clone(),
            ..*s
        };
        assert_eq!(strip(want), strip(got), "{} differs", rel.display());
        if fs::symlink_metadata(expected_root.join(rel))
            .unwrap()
            .is_file()
            && want.size < 64 * 1024 * 1024
        {
            assert!(
                fs::read(expected_root.join(rel)).unwrap()
                    == fs::read(actual_root.join(rel)).unwrap(),
                "{}: content differs",
                rel.display()
            );
        }
    }
}

/// A POSIX ACL as the kernel stores it in system.posix_acl_access: user::rw-, user:1000:r--,
/// group::r--, mask::r--, other::r--.
fn acl_xattr() -> Vec<u8> {
    let mut v = 2_u32.to_le_bytes().to_vec();
    for (tag, perm, id) in [
        (1_u16, 6_u16, u32::MAX),
        (2, 4, 1000),
        (4, 4, u32::MAX),
        (0x10, 4, u32::MAX),
        (0x20, 4, u32::MAX),
    ] {
        v.extend(tag.to_le_bytes());
        v.extend(perm.to_le_bytes());
        v.extend(id.to_le_bytes());
    }
    v
}

/// The tricky template: hardlinks, a sparse 1 GiB file, a dangling symlink, a fifo, a socket,
/// a device, setuid/setgid/sticky, xattrs (user., an ACL, security.capability as root), names
/// with spaces, newlines and invalid UTF-8, owners, nanosecond times, 200 levels of nesting.
fn make_tricky_tree(root: &Path) {
    let p = |rel: &str| root.join(rel);
    fs::create_dir_all(p("etc/app")).unwrap();
    fs::create_dir_all(p("var/lib/app/sub")).unwrap();
    fs::write(p("etc/app/config"), "key = value\n").unwrap();
    fs::hard_link(p("etc/app/config"), p("var/lib/app/sub/config-hardlink")).unwrap();
    fs::hard_link(p("etc/app/config"), p("var/lib/app/config-hardlink-2")).unwrap();
    let sparse = fs::File::create(p("var/lib/app/sparse-1g")).unwrap();
    sparse.set_len(1 << 30).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&sparse, b"middle", 512 << 20).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&sparse, b"end", (1 << 30) - 3).unwrap();
    drop(sparse);
    std::os::unix::fs::symlink("/does/not/exist", p("var/lib/app/dangling")).unwrap();
    std::os::unix::fs::symlink("../../etc/app/config", p("var/lib/app/relative-link")).unwrap();
    nix::unistd::mkfifo(
        &p("var/lib/app/fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o640),
    )
    .unwrap();
    drop(std::os::unix::net::UnixListener::bind(p("var/lib/app/socket")).unwrap());
    fs::copy("/bin/true", p("var/lib/app/setuid-tool")).unwrap();
    fs::set_permissions(
        p("var/lib/app/setuid-tool"),
        fs::Permissions::from_mode(0o4755),
    )
    .unwrap();
    fs::create_dir(p("var/lib/app/setgid-dir")).unwrap();
    fs::set_permissions(
        p("var/lib/app/setgid-dir"),
        fs::Permissions::from_mode(0o2775),
    )
    .unwrap();
    fs::create_dir(p("var/lib/app/sticky")).unwrap();
    fs::set_permissions(p("var/lib/app/sticky"), fs::Permissions::from_mode(0o1777)).unwrap();
    fs::write(p("var/lib/app/with space"), "s").unwrap();
    fs::write(root.join(OsStr::from_bytes(b"var/lib/app/new\nline")), "n").unwrap();
    fs::write(
        root.join(OsStr::from_bytes(b"var/lib/app/bad-utf8-\xff\xfe")),
        "b",
    )
    .unwrap();
    std::os::unix::fs::symlink(
        OsStr::from_bytes(b"target with\nnewline \xff"),
        p("var/lib/app/weird-link"),
    )
    .unwrap();
    fs::write(p("var/lib/app/xattrs"), "x").unwrap();
    rustix::fs::lsetxattr(
        p("var/lib/app/xattrs"),
        "user.comment",
        b"hello\0world",
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
    rustix::fs::lsetxattr(
        p("var/lib/app/xattrs"),
        "user.empty",
        b"",
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
    fs::write(p("var/lib/app/acl"), "a").unwrap();
    rustix::fs::lsetxattr(
        p("var/lib/app/acl"),
        "system.posix_acl_access",
        &acl_xattr(),
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
    fs::create_dir(p("var/lib/app/read-only-dir")).unwrap();
    fs::write(p("var/lib/app/read-only-dir/inside"), "r").unwrap();
    fs::set_permissions(
        p("var/lib/app/read-only-dir"),
        fs::Permissions::from_mode(0o555),
    )
    .unwrap();
    let mut deep = p("deep");
    for _ in 0..200 {
        deep.push("d");
    }
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("bottom"), "deep").unwrap();

    if is_root() {
        rustix::fs::mknodat(
            rustix::fs::CWD,
            p("var/lib/app/null-device"),
            rustix::fs::FileType::CharacterDevice,
            rustix::fs::Mode::from_raw_mode(0o666),
            rustix::fs::makedev(1, 3),
        )
        .unwrap();
        for (rel, uid, gid) in [
            ("var/lib/app/xattrs", 1234, 5678),
            ("var/lib/app/sub", 70, 70),
            ("var/lib/app/dangling", 99, 98),
        ] {
            rustix::fs::chownat(
                rustix::fs::CWD,
                p(rel),
                Some(rustix::fs::Uid::from_raw(uid)),
                Some(rustix::fs::Gid::from_raw(gid)),
                rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
            )
            .unwrap();
        }
        // setuid set again after chown (chown as root clears it).
        let capable = Command::new("setcap")
            .arg("cap_net_raw+ep")
            .arg(p("var/lib/app/setuid-tool"))
            .status();
        match capable {
            Ok(status) if status.success() => {}
            _ => {
                eprintln!("SKIP security.capability: setcap is not available (install libcap2-bin)")
            }
        }
        fs::set_permissions(
            p("var/lib/app/setuid-tool"),
            fs::Permissions::from_mode(0o4755),
        )
        .unwrap();
    } else {
        eprintln!("SKIP device nodes, foreign owners and security.capability: not running as root");
    }
    // Nanosecond times everywhere, directories last (their contents are done).
    let all = walk(root, &[]);
    for (i, rel) in all.keys().rev().enumerate() {
        set_times(
            &root.join(rel),
            1_600_000_000 + i64::try_from(i).unwrap(),
            123_456_789 + i64::try_from(i).unwrap(),
        );
    }
}

#[test]
fn tricky_tree_matches_cp_a() {
    let scratch = Scratch::new("tricky");
    let src = scratch.path().join("src");
    fs::create_dir(&src).unwrap();
    make_tricky_tree(&src);
    let reference = scratch.path().join("cp-a");
    check_ok(Command::new("cp").arg("-a").arg(&src).arg(&reference));
    let ours = scratch.path().join("bosun");
    let report = copy_tree(&src, &ours, &CopyOptions::default(), &mut |_| {}).unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert!(report.hardlinks == 2, "{report:?}");
    assert_same_tree(&reference, &ours, &[]);
    assert_same_tree(&src, &ours, &[]);
    // The comparison is not vacuous: the tree really has what makes it tricky.
    let copied = walk(&ours, &[]);
    let seen = |rel: &str| &copied[Path::new(rel)];
    assert_eq!(seen("var/lib/app/setuid-tool").mode & 0o7777, 0o4755);
    assert_eq!(
        seen("var/lib/app/xattrs").xattrs[OsStr::new("user.comment")],
        b"hello\0world"
    );
    assert!(
        seen("var/lib/app/acl")
            .xattrs
            .contains_key(OsStr::new("system.posix_acl_access"))
    );
    assert!(seen("var/lib/app/sub/config-hardlink").link_group.is_some());
    assert!(
        copied.keys().any(|p| p.components().count() > 200),
        "deep nesting"
    );
    if is_root() {
        assert_eq!(
            (
                seen("var/lib/app/xattrs").uid,
                seen("var/lib/app/xattrs").gid
            ),
            (1234, 5678)
        );
        if xattrs(&src.join("var/lib/app/setuid-tool"))
            .contains_key(OsStr::new("security.capability"))
        {
            assert!(
                seen("var/lib/app/setuid-tool")
                    .xattrs
                    .contains_key(OsStr::new("security.capability"))
            );
        }
    }
    // Manifests of both trees agree entry by entry, and survive their text form (weird names).
    let options = bosun::volume::manifest::ScanOptions {
        hash: true,
        ..Default::default()
    };
    let of_src = bosun::volume::manifest::scan(&src, &options)
        .unwrap()
        .manifest;
    let of_ours = bosun::volume::manifest::scan(&ours, &options)
        .unwrap()
        .manifest;
    assert_eq!(of_src, of_ours);
    let text = of_ours.render();
    assert_eq!(
        bosun::volume::manifest::Manifest::parse(&text, Path::new("m")).unwrap(),
        of_ours
    );
    let sparse = fs::symlink_metadata(ours.join("var/lib/app/sparse-1g")).unwrap();
    assert!(
        sparse.blocks() * 512 < 1 << 20,
        "the 1 GiB sparse file takes {} blocks",
        sparse.blocks()
    );

    // Copying again (a resumed or repeated run) changes nothing and overwrites nothing.
    fs::write(ours.join("etc/app/config"), "user edit\n").unwrap();
    let again = copy_tree(
        &src,
        &ours,
        &CopyOptions {
            only_missing: true,
            ..CopyOptions::default()
        },
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(
        again.files + again.symlinks + again.specials + again.hardlinks,
        0,
        "{again:?}"
    );
    assert_eq!(
        fs::read_to_string(ours.join("etc/app/config")).unwrap(),
        "user edit\n"
    );

    // Without only_missing the destination is the copy's own (a seeding being resumed):
    // entries whose size or mtime differ from the source (a power loss, the edit above) are
    // rebuilt, hardlinks regrouped, directory times restored.
    fs::File::create(ours.join("var/lib/app/with space")).unwrap();
    copy_tree(&src, &ours, &CopyOptions::default(), &mut |_| {}).unwrap();
    assert_same_tree(&src, &ours, &[]);
    chmod_all_writable(scratch.path());
}

#[test]
fn deeper_than_path_max() {
    // 40 levels of 200-byte names: 8,000 bytes of path, twice PATH_MAX. Built and checked
    // relative to open directories (and with find, which does the same).
    let scratch = Scratch::new("deep");
    let src = scratch.path().join("src");
    fs::create_dir(&src).unwrap();
    let name = "n".repeat(200);
    let mut dir = std::os::fd::OwnedFd::from(fs::File::open(&src).unwrap());
    for level in 0..40 {
        rustix::fs::mkdirat(&dir, name.as_str(), rustix::fs::Mode::from_raw_mode(0o750)).unwrap();
        let file = rustix::fs::openat(
            &dir,
            format!("file{level}").as_str(),
            rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::CREATE,
            rustix::fs::Mode::from_raw_mode(0o640),
        )
        .unwrap();
        rustix::io::write(&file, format!("level {level}\n").as_bytes()).unwrap();
        dir = rustix::fs::openat(
            &dir,
            name.as_str(),
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY,
            rustix::fs::Mode::empty(),
        )
        .unwrap();
    }
    let dst = scratch.path().join("dst");
    let report = copy_tree(&src, &dst, &CopyOptions::default(), &mut |_| {}).unwrap();
    assert_eq!((report.dirs, report.files), (41, 40));
    let listing = |root: &Path| {
        let out = check_ok(
            Command::new("find")
                .arg(root)
                .args(["-printf", "%P %m %s %T@\\n"]),
        );
        let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        lines.sort();
        lines
    };
    let (want, got) = (listing(&src), listing(&dst));
    assert_eq!(want.len(), 81);
    assert_eq!(want, got);
    // The manifest scan goes as deep.
    let scan = bosun::volume::manifest::scan(
        &dst,
        &bosun::volume::manifest::ScanOptions {
            hash: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(scan.manifest.entries.len(), 81);
    let text = scan.manifest.render();
    assert_eq!(
        bosun::volume::manifest::Manifest::parse(&text, Path::new("m")).unwrap(),
        scan.manifest
    );
    // Scratch clean-up cannot remove paths this long with remove_dir_all on some systems; rm can.
    let _ = Command::new("rm").arg("-rf").arg(scratch.path()).status();
}

/// Read-only directories would stop the scratch clean-up of a non-root run.
fn chmod_all_writable(root: &Path) {
    let _ = Command::new("chmod")
        .arg("-R")
        .arg("u+rwx")
        .arg(root)
        .status();
}

/// A scratch image root with `var/lib/app` holding `files` files, prepared into a template.
fn prepared_root(scratch: &Scratch, files: usize, big: u64) -> PathBuf {
    let root = scratch.path().join("root");
    let app = root.join("var/lib/app");
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::write(
        root.join("etc/passwd"),
        "root:x:0:0::/root:/bin/sh\npostgres:x:70:70::/var/lib/pg:/bin/sh\n",
    )
    .unwrap();
    fs::write(root.join("etc/group"), "root:x:0:\npostgres:x:70:\n").unwrap();
    for i in 0..files {
        let dir = app.join(format!("d{:02}/e{:02}", i % 37, i % 11));
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            dir.join(format!("file {i}")),
            format!("content {i}\n").repeat(i % 50 + 1),
        )
        .unwrap();
        if i % 97 == 0 {
            fs::hard_link(
                dir.join(format!("file {i}")),
                app.join(format!("hardlink-{i}")),
            )
            .unwrap();
        }
        if i % 101 == 0 {
            std::os::unix::fs::symlink(format!("/nowhere/{i}"), dir.join(format!("link {i}")))
                .unwrap();
        }
    }
    if big > 0 {
        let data: Vec<u8> = (0..big).map(|i| (i % 251) as u8).collect();
        fs::write(app.join("big"), data).unwrap();
    }
    let list = scratch.path().join("list");
    fs::write(&list, "/var/lib/app\n").unwrap();
    check_ok(
        Command::new(BOSUN)
            .args(["image", "prepare", "--build-id", "b1", "--root"])
            .arg(&root)
            .arg(&list),
    );
    root
}

#[test]
fn seeding_killed_at_random_moments_resumes() {
    let scratch = Scratch::new("kill");
    let root = prepared_root(&scratch, 2500, 32 << 20);
    // A cheap pseudo-random sequence; the seed is printed so a failure can be replayed.
    let mut seed = u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 1_000_000,
    )
    .unwrap();
    eprintln!("random seed {seed}");
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        seed >> 33
    };
    // How long a full seeding takes, to aim the kills inside it.
    let data = root.join("data");
    let started = Instant::now();
    check_ok(
        Command::new(BOSUN)
            .args(["image", "seed", "--root"])
            .arg(&root),
    );
    let full = started.elapsed();
    eprintln!("a full seeding takes {full:?}");
    assert_same_tree(
        &root.join("data-template"),
        &data,
        &[".bosun", ".bosun-manifest", ".bosun-image-manifest"],
    );

    let mut kills = 0;
    for round in 0..5 {
        fs::remove_dir_all(&data).unwrap();
        fs::create_dir(&data).unwrap();
        for _ in 0..(2 + round % 3) {
            let limit = u64::try_from(full.as_micros()).unwrap().max(1000);
            let delay = Duration::from_micros(next() % limit);
            let mut child = Command::new(BOSUN)
                .args(["image", "seed", "--root"])
                .arg(&root)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(delay);
            if child.try_wait().unwrap().is_none() {
                kills += 1;
            }
            let _ = child.kill();
            child.wait().unwrap();
        }
        let out = check_ok(
            Command::new(BOSUN)
                .args(["image", "seed", "--root"])
                .arg(&root),
        );
        let state = fs::read_to_string(data.join(".bosun/state.json")).unwrap();
        assert!(
            state.contains("\"phase\": \"seeded\""),
            "{state}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let leftovers = walk(&data, &[])
            .into_keys()
            .filter(|p| p.to_string_lossy().contains(".bosun-partial."))
            .count();
        assert_eq!(leftovers, 0, "partial entries left behind");
        assert_same_tree(
            &root.join("data-template"),
            &data,
            &[".bosun", ".bosun-manifest", ".bosun-image-manifest"],
        );
    }
    eprintln!("{kills} seedings killed mid-way, every one resumed to an equal tree");
    assert!(
        kills >= 3,
        "too few kills landed inside a seeding ({kills}); the test proves little"
    );
}

#[test]
fn non_root_copy_is_best_effort() {
    if !is_root() {
        eprintln!(
            "SKIP non_root_copy_is_best_effort: needs root to build the template and drop to nobody"
        );
        return;
    }
    if !run(Command::new("setpriv").args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "true",
    ]))
    .status
    .success()
    {
        eprintln!("SKIP non_root_copy_is_best_effort: setpriv cannot drop to nobody here");
        return;
    }
    let scratch = Scratch::new("nonroot");
    let root = prepared_root(&scratch, 50, 0);
    let owned = root.join("data-template/var/lib/app/d00/e00/file 0");
    rustix::fs::chownat(
        rustix::fs::CWD,
        &owned,
        Some(rustix::fs::Uid::from_raw(1234)),
        None,
        rustix::fs::AtFlags::empty(),
    )
    .unwrap();
    fs::set_permissions(&owned, fs::Permissions::from_mode(0o4755)).unwrap();
    check_ok(
        Command::new(BOSUN)
            .args(["image", "prepare", "--build-id", "b1", "--root"])
            .arg(&root)
            .arg(scratch.path().join("list")),
    );
    fs::set_permissions(scratch.path(), fs::Permissions::from_mode(0o755)).unwrap();
    // The volume's root belongs to root and is world-writable (as an OpenShift volume is
    // group-writable): nobody can fill it but not change its mode or times.
    fs::set_permissions(root.join("data"), fs::Permissions::from_mode(0o777)).unwrap();
    let out = check_ok(
        Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                BOSUN,
                "image",
                "seed",
                "--root",
            ])
            .arg(&root),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("owners not preserved").count(),
        1,
        "said once:\n{stderr}"
    );
    assert_eq!(stderr.matches("mode not preserved").count(), 1, "{stderr}");
    let copied = fs::symlink_metadata(root.join("data/var/lib/app/d00/e00/file 0")).unwrap();
    assert_eq!(
        (copied.uid(), copied.mode() & 0o7777),
        (65534, 0o4755),
        "owner is the copier, mode kept"
    );
    assert_same_content(
        &root.join("data-template/var/lib/app"),
        &root.join("data/var/lib/app"),
        &[],
    );
}

#[test]
fn user_namespace_copy_is_best_effort() {
    if !is_root() {
        eprintln!("SKIP user_namespace_copy_is_best_effort: needs root to build the template");
        return;
    }
    if !run(Command::new("unshare").args(["--user", "--map-root-user", "true"]))
        .status
        .success()
    {
        eprintln!("SKIP user_namespace_copy_is_best_effort: unshare --user does not work here");
        return;
    }
    let scratch = Scratch::new("userns");
    let root = prepared_root(&scratch, 20, 0);
    let app = root.join("data-template/var/lib/app");
    rustix::fs::chownat(
        rustix::fs::CWD,
        app.join("d00/e00/file 0"),
        Some(rustix::fs::Uid::from_raw(1234)),
        Some(rustix::fs::Gid::from_raw(1234)),
        rustix::fs::AtFlags::empty(),
    )
    .unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        app.join("null-device"),
        rustix::fs::FileType::CharacterDevice,
        rustix::fs::Mode::from_raw_mode(0o666),
        rustix::fs::makedev(1, 3),
    )
    .unwrap();
    check_ok(
        Command::new(BOSUN)
            .args(["image", "prepare", "--build-id", "b1", "--root"])
            .arg(&root)
            .arg(scratch.path().join("list")),
    );
    // Inside the namespace uid 1234 is unmapped (it shows as 65534 and cannot be given), and
    // device nodes cannot be made: both are said, the rest is copied.
    let out = check_ok(
        Command::new("unshare")
            .args([
                "--user",
                "--map-root-user",
                BOSUN,
                "image",
                "seed",
                "--root",
            ])
            .arg(&root),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("owners not preserved").count(),
        1,
        "said once:\n{stderr}"
    );
    assert!(stderr.contains("null-device not created"), "{stderr}");
    let data = root.join("data/var/lib/app");
    assert!(!data.join("null-device").exists());
    assert_same_content(&app, &data, &["null-device"]);
}

/// Same entries, types, modes and contents (owners aside).
fn assert_same_content(a: &Path, b: &Path, skip: &[&str]) {
    let left = walk(a, skip);
    let right = walk(b, skip);
    assert_eq!(
        left.keys().collect::<Vec<_>>(),
        right.keys().collect::<Vec<_>>()
    );
    for (rel, l) in &left {
        let r = &right[rel];
        assert_eq!(
            (l.mode, l.size, &l.target, l.mtime),
            (r.mode, r.size, &r.target, r.mtime),
            "{}",
            rel.display()
        );
    }
}
