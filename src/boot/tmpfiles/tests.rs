//! tmpfiles.d parsing and application, on Debian's own lines and a scratch root.

use super::*;

fn spec() -> Specifiers {
    Specifiers {
        machine_id: "0123456789abcdef0123456789abcdef".into(),
        boot_id: "b".into(),
        hostname: "box".into(),
    }
}

fn entries(text: &str) -> Vec<Entry> {
    let (e, errors) = parse(text, Path::new("t.conf"), &spec());
    assert!(errors.is_empty(), "{errors:?}");
    e
}

#[test]
fn parses_debian_lines() {
    let e = entries(
        "# memcached\nd /run/memcached 0755 memcache memcache -\n\
         d /run/postgresql 2775 postgres postgres - -\n\
         L+ /etc/mtab   -    -    -    -  ../proc/self/mounts\n\
         r! /forcefsck\n\
         f^ /etc/hosts - - - - network.hosts\n\
         a+ /var/log/journal/%m - - - - d:group:adm:r-x\n\
         f /etc/motd 0644 - - - \"Hello world\"\n",
    );
    assert_eq!(e.len(), 6, "the credential line is skipped");
    assert_eq!(
        (e[0].kind, e[0].path.as_path()),
        ('d', Path::new("/run/memcached"))
    );
    assert_eq!(e[1].mode.map(|m| m.bits), Some(0o2775));
    assert_eq!(
        (e[1].user.as_deref(), e[1].group.as_deref()),
        (Some("postgres"), Some("postgres"))
    );
    assert_eq!((e[2].kind, e[2].plus), ('L', true));
    assert_eq!(e[2].argument.as_deref(), Some("../proc/self/mounts"));
    assert_eq!(e[3].kind, 'r');
    assert_eq!(
        e[4].path,
        Path::new("/var/log/journal/0123456789abcdef0123456789abcdef")
    );
    assert_eq!(
        e[5].argument.as_deref(),
        Some("\"Hello world\""),
        "the argument is the raw rest"
    );
    assert_eq!(e[2].origin, "t.conf:4");
}

#[test]
fn bad_lines_name_file_and_line() {
    let (e, errors) = parse(
        "d /ok\nY /what\nd relative\nd /x 0999\nd /%Z\n",
        Path::new("/usr/lib/tmpfiles.d/t.conf"),
        &spec(),
    );
    assert_eq!(e.len(), 1);
    assert_eq!(
        errors,
        [
            "/usr/lib/tmpfiles.d/t.conf:2: unknown type 'Y'",
            "/usr/lib/tmpfiles.d/t.conf:3: path \"relative\" is not absolute and normalized",
            "/usr/lib/tmpfiles.d/t.conf:4: invalid mode \"0999\"",
            "/usr/lib/tmpfiles.d/t.conf:5: unknown specifier %Z",
        ]
    );
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bosun-tmpfiles-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn load_follows_precedence_masks_and_duplicates() {
    let root = scratch("load");
    for d in ["etc/tmpfiles.d", "usr/lib/tmpfiles.d"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    fs::write(root.join("usr/lib/tmpfiles.d/a.conf"), "d /from-usr\n").unwrap();
    fs::write(root.join("etc/tmpfiles.d/a.conf"), "d /from-etc\n").unwrap();
    fs::write(root.join("usr/lib/tmpfiles.d/b.conf"), "d /masked\n").unwrap();
    std::os::unix::fs::symlink("/dev/null", root.join("etc/tmpfiles.d/b.conf")).unwrap();
    fs::write(
        root.join("usr/lib/tmpfiles.d/c.conf"),
        "d /from-etc 0700\nz /from-etc 0700\na+ /from-etc - - - - u::rwx\n",
    )
    .unwrap();
    let (e, errors) = load(&root, &spec());
    let paths: Vec<_> = e
        .iter()
        .map(|e| (e.kind, e.path.display().to_string()))
        .collect();
    assert_eq!(
        paths,
        [
            ('d', "/from-etc".to_owned()),
            ('z', "/from-etc".to_owned()),
            ('a', "/from-etc".to_owned())
        ]
    );
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].ends_with("c.conf:1: duplicate line for path \"/from-etc\", ignoring"),
        "{errors:?}"
    );
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn applies_under_a_root() {
    let root = scratch("apply");
    let me = nix::unistd::getuid().as_raw();
    let users = |name: &str| (name == "svc" || name == "root").then_some(me);
    let groups = users;
    fs::create_dir_all(root.join("var/cache/full")).unwrap();
    fs::write(root.join("var/cache/full/junk"), "x").unwrap();
    fs::write(root.join("etc-keep"), "mine").unwrap();
    fs::create_dir_all(root.join("old/tree")).unwrap();
    fs::write(root.join("zmode"), "").unwrap();
    let e = entries(
        "d /run/svc 2750 svc svc -\n\
         D /var/cache/full 0755 - - -\n\
         f /etc-keep 0600 - - - replaced?\n\
         f /etc-new 0640 - - - line\\none\n\
         f+ /etc-plus - - - - fresh\n\
         L /var/lock - - - - ../run/lock\n\
         L+ /etc-keep-link - - - - /target\n\
         p /run/fifo\n\
         R /old\n\
         z /zmode 0600\n\
         d /run/unknown 0755 nobody-here - -\n\
         d- /run/tolerated 0755 nobody-here - -\n\
         c /dev/null2 0666 - - - 1:3\n\
         a+ /run/svc - - - - u::rwx\n",
    );
    let report = apply(&e, &root, &users, &groups);
    let mode = |p: &str| {
        fs::symlink_metadata(root.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode("run/svc"), 0o2750);
    assert!(root.join("var/cache/full").is_dir());
    assert!(
        !root.join("var/cache/full/junk").exists(),
        "D empties at boot"
    );
    assert_eq!(
        fs::read_to_string(root.join("etc-keep")).unwrap(),
        "mine",
        "f never overwrites"
    );
    assert_eq!(mode("etc-keep"), 0o600, "but adjusts the mode");
    assert_eq!(
        fs::read_to_string(root.join("etc-new")).unwrap(),
        "line\none"
    );
    assert_eq!(mode("etc-new"), 0o640);
    assert_eq!(fs::read_to_string(root.join("etc-plus")).unwrap(), "fresh");
    assert_eq!(
        fs::read_link(root.join("var/lock")).unwrap(),
        Path::new("../run/lock")
    );
    assert_eq!(
        fs::read_link(root.join("etc-keep-link")).unwrap(),
        Path::new("/target")
    );
    use std::os::unix::fs::FileTypeExt;
    assert!(
        fs::symlink_metadata(root.join("run/fifo"))
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert!(!root.join("old").exists());
    assert_eq!(mode("zmode"), 0o600);
    assert!(!root.join("run/tolerated").exists());
    assert_eq!(report.errors.len(), 1, "{report:?}");
    assert!(
        report.errors[0].ends_with("/run/unknown: unknown user \"nobody-here\""),
        "{report:?}"
    );
    assert_eq!(report.skipped.len(), 2, "{report:?}");
    assert!(report.skipped[0].starts_with("tmpfiles.d type 'c' is not applied in a container"));
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn every_installed_tmpfiles_line_parses() {
    let (entries, errors) = load(Path::new("/"), &spec());
    println!(
        "parsed {} tmpfiles.d lines on this machine, {} errors",
        entries.len(),
        errors.len()
    );
    assert!(errors.is_empty(), "{errors:#?}");
}

/// `\xNN` in the argument column is one byte, as systemd's cunescape() makes it: `\xff` wrote
/// the two bytes of U+00FF's UTF-8 (c3 bf) before (issue 17).
#[test]
fn r17_hex_escapes_above_0x7f_are_single_bytes() {
    assert_eq!(unescape(r"a\xff\x41\x7f"), b"a\xffA\x7f");
    assert_eq!(unescape(r"\xc3\xa9 é"), "é é".as_bytes());
    // The rest is as before: named escapes, a bad or short \x kept as written.
    assert_eq!(unescape(r"x\ty\n\\ \xzz \q"), b"x\ty\n\\ \\xzz \\q");

    let root = scratch("hex");
    let e = entries("f /bin.dat 0644 - - - \\x80\\xfeend\nw /w.dat - - - - \\xe9\n");
    fs::write(root.join("w.dat"), "").unwrap();
    let me = nix::unistd::getuid().as_raw();
    let ids = |_: &str| Some(me);
    let report = apply(&e, &root, &ids, &ids);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(fs::read(root.join("bin.dat")).unwrap(), b"\x80\xfeend");
    // Negative control of the old behaviour: not the UTF-8 of U+00E9.
    assert_eq!(fs::read(root.join("w.dat")).unwrap(), b"\xe9");
    fs::remove_dir_all(&root).unwrap();
}

/// `C` copies a tree with the volume's copier (systemd-tmpfiles' copy_tree()): contents,
/// symlinks as symlinks, modes; `C+` adds what is missing and replaces nothing (COPY_MERGE);
/// plain `C` leaves an existing target alone.
#[test]
fn copies_trees_through_the_volume_copier() {
    let root = scratch("copy");
    let factory = root.join("factory/app");
    fs::create_dir_all(factory.join("sub")).unwrap();
    fs::write(factory.join("a.conf"), "a").unwrap();
    fs::write(factory.join("sub/b.conf"), "b").unwrap();
    fs::set_permissions(
        factory.join("sub/b.conf"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    symlink("a.conf", factory.join("link")).unwrap();
    let me = nix::unistd::getuid().as_raw();
    let ids = |_: &str| Some(me);
    let copy = |line: &str| {
        let report = apply(&entries(line), &root, &ids, &ids);
        assert!(report.errors.is_empty(), "{:?}", report.errors);
    };
    copy("C /etc/app - - - - /factory/app\n");
    let app = root.join("etc/app");
    assert_eq!(fs::read_to_string(app.join("sub/b.conf")).unwrap(), "b");
    assert_eq!(
        fs::metadata(app.join("sub/b.conf"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert_eq!(
        fs::read_link(app.join("link")).unwrap(),
        Path::new("a.conf")
    );

    fs::write(app.join("a.conf"), "mine").unwrap();
    fs::write(factory.join("new.conf"), "new").unwrap();
    copy("C /etc/app - - - - /factory/app\n");
    assert!(
        !app.join("new.conf").exists(),
        "plain C leaves an existing target"
    );
    copy("C+ /etc/app - - - - /factory/app\n");
    assert_eq!(fs::read_to_string(app.join("new.conf")).unwrap(), "new");
    assert_eq!(fs::read_to_string(app.join("a.conf")).unwrap(), "mine");
    fs::remove_dir_all(&root).unwrap();
}
