//! The copier's threads: most regular files are built by a pool while the walk goes on, so a
//! directory must still be finished (mode, times, its final name) after its last file, a
//! hardlink must still find its first copy, and sparse files stay sparse — into a new
//! destination and merged into an existing one. Directories waiting behind a big file keep
//! their descriptors within a bound. And the data path between two filesystems (no
//! copy_file_range there: sendfile) puts every segment of a sparse file where it belongs.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use bosun::volume::copy::{CopyOptions, copy_tree};

use super::{BOSUN, Scratch, assert_same_tree, check_ok, chmod_all_writable, set_times, walk};

/// 60 directories of 25 files of assorted sizes, hardlinks across directories, sparse files,
/// read-only directories; distinct nanosecond times everywhere, directories last.
fn make_wide_tree(src: &Path) {
    for d in 0..60_usize {
        let dir = src.join(format!("d{d:02}/sub"));
        fs::create_dir_all(&dir).unwrap();
        for f in 0..25_usize {
            let len = (d * 25 + f) * 977 % 300_000;
            fs::write(
                dir.join(format!("f{f}")),
                vec![u8::try_from(f).unwrap(); len],
            )
            .unwrap();
        }
        if d % 7 == 3 {
            fs::hard_link(src.join("d00/sub/f3"), dir.join("link-to-d00-f3")).unwrap();
        }
        if d % 10 == 5 {
            let sparse = fs::File::create(dir.join("sparse")).unwrap();
            sparse.set_len(64 << 20).unwrap();
            sparse.write_all_at(b"in the middle", 32 << 20).unwrap();
        }
        if d % 9 == 4 {
            fs::set_permissions(
                src.join(format!("d{d:02}")),
                fs::Permissions::from_mode(0o555),
            )
            .unwrap();
        }
    }
    let all = walk(src, &[]);
    for (i, rel) in all.keys().rev().enumerate() {
        let i = i64::try_from(i).unwrap();
        set_times(&src.join(rel), 1_600_000_000 + i, 100_000_007 + i);
    }
}

#[test]
fn files_built_by_the_pool_leave_every_directory_finished_after_them() {
    let scratch = Scratch::new("pool");
    let src = scratch.path().join("src");
    fs::create_dir(&src).unwrap();
    make_wide_tree(&src);

    // A new destination: every directory is built under a temporary name, its files under
    // their final names by the pool.
    let fresh = scratch.path().join("fresh");
    let report = copy_tree(&src, &fresh, &CopyOptions::default(), &mut |_| {}).unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(report.files, 60 * 25 + 6, "{report:?}");
    assert_eq!(report.hardlinks, 9, "{report:?}");
    assert_same_tree(&src, &fresh, &[]);
    let sparse = fs::symlink_metadata(fresh.join("d05/sub/sparse")).unwrap();
    assert!(
        sparse.blocks() * 512 < 1 << 20,
        "{} blocks",
        sparse.blocks()
    );

    // Merged into existing directories: each file is built under a temporary name and renamed
    // into place by the pool, then the directory gets the source's metadata.
    let merged = scratch.path().join("merged");
    for d in 0..60 {
        fs::create_dir_all(merged.join(format!("d{d:02}/sub"))).unwrap();
    }
    copy_tree(&src, &merged, &CopyOptions::default(), &mut |_| {}).unwrap();
    assert_same_tree(&src, &merged, &[]);
    assert!(
        !walk(&merged, &[])
            .keys()
            .any(|p| p.to_string_lossy().contains(".bosun-partial.")),
        "temporary names left behind"
    );
    chmod_all_writable(scratch.path());
}

/// The first directory's file takes a while (256 MiB); the walk meanwhile visits 1,000 small
/// directories, each finished only after it, each holding two descriptors while it waits. With
/// the bound (`MAX_DEFERRED`) the seeding fits in a nofile limit of 400; without it, it fails
/// with EMFILE.
#[test]
fn directories_waiting_behind_a_big_file_fit_in_a_small_nofile_limit() {
    let scratch = Scratch::new("nofile");
    let root = scratch.path().join("root");
    let template = root.join("data-template");
    fs::create_dir_all(template.join("d0000")).unwrap();
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::create_dir_all(root.join("data")).unwrap();
    fs::write(root.join("etc/build-id"), "b1\n").unwrap();
    let mut big = fs::File::create(template.join("d0000/big")).unwrap();
    let chunk = vec![7_u8; 1 << 20];
    for _ in 0..256 {
        big.write_all(&chunk).unwrap();
    }
    drop(big);
    for d in 1..1000 {
        let dir = template.join(format!("d{d:04}"));
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("f"), format!("{d}\n")).unwrap();
    }
    check_ok(
        Command::new("sh")
            .arg("-c")
            .arg("ulimit -n 400 && exec \"$0\" image seed --root \"$1\"")
            .arg(BOSUN)
            .arg(&root),
    );
    assert_same_tree(
        &template,
        &root.join("data"),
        &[".bosun", ".bosun-manifest", ".bosun-image-manifest"],
    );
}

#[test]
fn sparse_file_copied_between_two_filesystems_keeps_its_segments_in_place() {
    let shm = Path::new("/dev/shm");
    let scratch = Scratch::new("cross-fs");
    let on_disk = fs::metadata(scratch.path()).unwrap().dev();
    if !shm.is_dir() || fs::metadata(shm).unwrap().dev() == on_disk {
        eprintln!("SKIP: no /dev/shm on another filesystem than the scratch directory");
        return;
    }
    let src = Removed(shm.join(format!("bosun-it-cross-fs-{}", std::process::id())));
    let src = &src.0;
    let _ = fs::remove_dir_all(src);
    fs::create_dir(src).unwrap();
    let file = fs::File::create(src.join("sparse")).unwrap();
    let len: u64 = 48 << 20;
    file.set_len(len).unwrap();
    for (i, at) in [0, 5 << 20, 17 << 20, len - 70_000].into_iter().enumerate() {
        let byte = b'a' + u8::try_from(i).unwrap();
        file.write_all_at(&vec![byte; 70_000], at).unwrap();
    }
    drop(file);
    fs::write(src.join("small"), b"small file\n").unwrap();
    let dst = scratch.path().join("copy");
    copy_tree(src, &dst, &CopyOptions::default(), &mut |_| {}).unwrap();
    assert_same_tree(src, &dst, &[]);
    let sparse = fs::symlink_metadata(dst.join("sparse")).unwrap();
    assert!(
        sparse.blocks() * 512 < 8 << 20,
        "{} blocks",
        sparse.blocks()
    );
}

/// A directory removed when dropped (the test's source in /dev/shm, even when it fails).
struct Removed(std::path::PathBuf);

impl Drop for Removed {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
