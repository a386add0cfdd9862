//! Manifests: the list of every entry of a tree (type, mode, owner, size, mtime, symlink target
//! or device number, sha256 of regular files), how it is scanned, stored and compared.
//!
//! Owns the on-disk format, a line-oriented text file that is stable and safe for any name:
//!
//! ```text
//! bosun-manifest 1
//! TYPE MODE UID GID SIZE MTIME HASH PATH TARGET
//! d 0755 0 0 4096 1700000000.123456789 - . -
//! f 4755 0 0 12 1700000000.000000000 <64 hex digits> usr/bin/tool -
//! l 0777 0 0 7 1700000000.000000000 - etc/link ../target
//! c 0666 0 0 0 1700000000.000000000 - dev/null 1,3
//! ```
//!
//! TYPE is one of `f d l p s c b` (regular, directory, symlink, fifo, socket, char, block); MODE
//! is the octal permission bits including setuid/setgid/sticky; MTIME is seconds.nanoseconds;
//! HASH is `-` except for regular files; PATH is relative to the tree's root (`.` is the root);
//! TARGET is the symlink target, `MAJOR,MINOR` for devices, `-` otherwise. PATH and TARGET are
//! escaped: every byte outside `!`..`~`, and `%`, is written `%XX`, and a field that would read
//! `-` is written `%2D` — so names with spaces, newlines or invalid UTF-8 round-trip exactly.
//! Lines are sorted by PATH bytes. Must not: follow symlinks, or cross into excluded paths.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use sha2::{Digest, Sha256};

use super::inode::{DirHandle, Info};

const HEADER: &str = "bosun-manifest 1";

/// A failed manifest operation, naming its file.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("stopped reading {path}: asked to stop")]
    Interrupted { path: PathBuf },
    #[error("{path}:{line}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// The type of an entry, as its one-letter code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Fifo,
    Socket,
    Char,
    Block,
}

impl Kind {
    fn code(self) -> char {
        match self {
            Kind::File => 'f',
            Kind::Dir => 'd',
            Kind::Symlink => 'l',
            Kind::Fifo => 'p',
            Kind::Socket => 's',
            Kind::Char => 'c',
            Kind::Block => 'b',
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "f" => Kind::File,
            "d" => Kind::Dir,
            "l" => Kind::Symlink,
            "p" => Kind::Fifo,
            "s" => Kind::Socket,
            "c" => Kind::Char,
            "b" => Kind::Block,
            _ => return None,
        })
    }

    /// The kind of an lstat result.
    pub fn of(meta: &fs::Metadata) -> Self {
        kind_of(meta.mode())
    }
}

/// One entry of a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: Kind,
    /// Permission bits with setuid/setgid/sticky (no type bits).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: (i64, i64),
    /// sha256 of a regular file's content.
    pub hash: Option<[u8; 32]>,
    /// Symlink target, or `MAJOR,MINOR` of a device.
    pub target: Option<OsString>,
}

impl Entry {
    /// Everything but mtime, and for directories size, is equal: the entry did not change.
    pub fn same_content(&self, other: &Entry) -> bool {
        self.kind == other.kind
            && self.mode == other.mode
            && self.uid == other.uid
            && self.gid == other.gid
            && self.target == other.target
            && (self.kind == Kind::Dir || self.size == other.size)
            && self.hash == other.hash
    }
}

/// A tree's entries by path relative to its root (`.` is the root itself).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub entries: BTreeMap<PathBuf, Entry>,
}

/// What to scan.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Paths relative to the root that are skipped with their contents.
    pub exclude: Vec<PathBuf>,
    /// Hash regular files.
    pub hash: bool,
    /// Skip entries on another filesystem than the root (bind-mounted files such as
    /// /etc/hosts in a container); their paths are returned in [`Scan::skipped`].
    pub one_file_system: bool,
    /// Asked before each entry: true stops the scan with [`ManifestError::Interrupted`] (a
    /// SIGTERM while PID 1 reads a large template).
    pub interrupted: Option<fn() -> bool>,
}

/// A scan's result.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    pub manifest: Manifest,
    /// Paths skipped because they are on another filesystem.
    pub skipped: Vec<PathBuf>,
}

/// Describe the entry at `path` (not followed).
pub fn describe(path: &Path, hash: bool) -> Result<Entry, ManifestError> {
    let read_err = |source: io::Error| ManifestError::Read {
        path: path.to_owned(),
        source,
    };
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        let dir = DirHandle::open(path).map_err(read_err)?;
        let info = Info::of(dir.fd.as_fd()).map_err(|e| read_err(e.into()))?;
        return Ok(entry_of(&info, None, None));
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let dir = DirHandle::open(parent).map_err(read_err)?;
    let info = Info::at(dir.fd.as_fd(), name).map_err(|e| read_err(e.into()))?;
    describe_at(&dir, name, &info, hash)
}

/// Describe `name` in `dir`, whose status is `info`.
fn describe_at(
    dir: &DirHandle,
    name: &OsStr,
    info: &Info,
    hash: bool,
) -> Result<Entry, ManifestError> {
    let read_err = |source: io::Error| ManifestError::Read {
        path: dir.path.join(name),
        source,
    };
    let kind = kind_of(info.mode);
    let target = match kind {
        Kind::Symlink => Some(OsString::from_vec(
            rustix::fs::readlinkat(&dir.fd, name, Vec::new())
                .map_err(|e| read_err(e.into()))?
                .into_bytes(),
        )),
        _ => None,
    };
    let hash = if hash && kind == Kind::File {
        let fd = rustix::fs::openat(
            &dir.fd,
            name,
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map_err(|e| read_err(e.into()))?;
        Some(hash_reader(File::from(fd)).map_err(read_err)?)
    } else {
        None
    };
    Ok(entry_of(info, target, hash))
}

fn entry_of(info: &Info, target: Option<OsString>, hash: Option<[u8; 32]>) -> Entry {
    let kind = kind_of(info.mode);
    let target = match kind {
        Kind::Char | Kind::Block => Some(OsString::from(format!(
            "{},{}",
            rustix::fs::major(info.rdev),
            rustix::fs::minor(info.rdev)
        ))),
        _ => target,
    };
    Entry {
        kind,
        mode: info.mode & 0o7777,
        uid: info.uid,
        gid: info.gid,
        size: info.size,
        mtime: info.mtime,
        hash,
        target,
    }
}

fn kind_of(mode: u32) -> Kind {
    match mode & 0o170000 {
        0o040000 => Kind::Dir,
        0o120000 => Kind::Symlink,
        0o010000 => Kind::Fifo,
        0o140000 => Kind::Socket,
        0o020000 => Kind::Char,
        0o060000 => Kind::Block,
        _ => Kind::File,
    }
}

/// sha256 of a regular file's content (opened without following a symlink).
pub fn hash_file(path: &Path) -> Result<[u8; 32], ManifestError> {
    let fd = rustix::fs::openat(
        rustix::fs::CWD,
        path,
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|errno| ManifestError::Read {
        path: path.to_owned(),
        source: errno.into(),
    })?;
    hash_reader(File::from(fd)).map_err(|source| ManifestError::Read {
        path: path.to_owned(),
        source,
    })
}

fn hash_reader(mut file: File) -> io::Result<[u8; 32]> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0_u8; 256 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(hasher.finalize().into())
}

/// Scan the tree under `root`: iteratively, relative to open directories, so any depth works.
pub fn scan(root: &Path, options: &ScanOptions) -> Result<Scan, ManifestError> {
    let read_err = |path: PathBuf| move |source: io::Error| ManifestError::Read { path, source };
    let root_dir = Rc::new(DirHandle::open(root).map_err(read_err(root.to_owned()))?);
    let root_info =
        Info::of(root_dir.fd.as_fd()).map_err(|e| read_err(root.to_owned())(e.into()))?;
    let mut out = Scan::default();
    out.manifest
        .entries
        .insert(PathBuf::from("."), entry_of(&root_info, None, None));
    let children =
        |dir: &Rc<DirHandle>, rel: &Path, stack: &mut Vec<(Rc<DirHandle>, OsString, PathBuf)>| {
            let names = dir.names().map_err(read_err(dir.path.clone()))?;
            for name in names.into_iter().rev() {
                let child = rel.join(&name);
                if !options.exclude.iter().any(|x| x == &child) {
                    stack.push((Rc::clone(dir), name, child));
                }
            }
            Ok::<(), ManifestError>(())
        };
    let mut stack = Vec::new();
    children(&root_dir, Path::new(""), &mut stack)?;
    while let Some((dir, name, rel)) = stack.pop() {
        if options.interrupted.is_some_and(|stop| stop()) {
            return Err(ManifestError::Interrupted {
                path: root.to_owned(),
            });
        }
        let info = Info::at(dir.fd.as_fd(), &name)
            .map_err(|e| read_err(dir.path.join(&name))(e.into()))?;
        if options.one_file_system && info.dev != root_info.dev {
            out.skipped.push(rel);
            continue;
        }
        let entry = describe_at(&dir, &name, &info, options.hash)?;
        if entry.kind == Kind::Dir {
            let child_dir = Rc::new(
                dir.open_child(&name)
                    .map_err(read_err(dir.path.join(&name)))?,
            );
            children(&child_dir, &rel, &mut stack)?;
        }
        out.manifest.entries.insert(rel, entry);
    }
    Ok(out)
}

/// Escape a PATH or TARGET field (see the module doc).
pub fn escape(bytes: &[u8]) -> String {
    if bytes == b"-" {
        return "%2D".to_owned();
    }
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if (0x21..=0x7e).contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Undo [`escape`].
pub fn unescape(field: &str) -> Option<Vec<u8>> {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = field.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

fn hex(hash: &[u8; 32]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    let mut out = [0_u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl Manifest {
    /// The manifest as text.
    pub fn render(&self) -> String {
        let mut rows: Vec<(&PathBuf, &Entry)> = self.entries.iter().collect();
        rows.sort_by(|a, b| a.0.as_os_str().as_bytes().cmp(b.0.as_os_str().as_bytes()));
        let mut out = String::from(HEADER);
        out.push('\n');
        for (path, e) in rows {
            out.push_str(&format!(
                "{} {:04o} {} {} {} {}.{:09} {} {} {}\n",
                e.kind.code(),
                e.mode,
                e.uid,
                e.gid,
                e.size,
                e.mtime.0,
                e.mtime.1,
                e.hash.as_ref().map_or_else(|| "-".to_owned(), hex),
                escape(path.as_os_str().as_bytes()),
                e.target
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |t| escape(t.as_bytes())),
            ));
        }
        out
    }

    /// Parse [`Manifest::render`]'s output; `path` names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ManifestError> {
        let bad = |line: usize, message: String| ManifestError::Parse {
            path: path.to_owned(),
            line,
            message,
        };
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, HEADER)) => {}
            _ => {
                return Err(bad(
                    1,
                    format!("not a bosun manifest (expected {HEADER:?} on the first line)"),
                ));
            }
        }
        let mut entries = BTreeMap::new();
        for (index, line) in lines {
            let n = index + 1;
            let fields: Vec<&str> = line.split(' ').collect();
            let [kind, mode, uid, gid, size, mtime, hash, rel, target] = fields[..] else {
                return Err(bad(n, format!("expected 9 fields, found {}", fields.len())));
            };
            let kind =
                Kind::from_code(kind).ok_or_else(|| bad(n, format!("unknown type {kind:?}")))?;
            let num = |what: &str, text: &str| {
                text.parse::<u64>()
                    .map_err(|_| bad(n, format!("bad {what} {text:?}")))
            };
            let id = |what: &str, text: &str| {
                text.parse::<u32>()
                    .map_err(|_| bad(n, format!("bad {what} {text:?}")))
            };
            let mode =
                u32::from_str_radix(mode, 8).map_err(|_| bad(n, format!("bad mode {mode:?}")))?;
            let (secs, nanos) = mtime
                .split_once('.')
                .ok_or_else(|| bad(n, format!("bad mtime {mtime:?}")))?;
            let mtime = (
                secs.parse::<i64>()
                    .map_err(|_| bad(n, format!("bad mtime {mtime:?}")))?,
                nanos
                    .parse::<i64>()
                    .map_err(|_| bad(n, format!("bad mtime {mtime:?}")))?,
            );
            let hash = match hash {
                "-" => None,
                h => Some(unhex(h).ok_or_else(|| bad(n, format!("bad hash {h:?}")))?),
            };
            let rel = unescape(rel).ok_or_else(|| bad(n, format!("bad path {rel:?}")))?;
            let target = match target {
                "-" => None,
                t => Some(OsString::from_vec(
                    unescape(t).ok_or_else(|| bad(n, format!("bad target {t:?}")))?,
                )),
            };
            entries.insert(
                PathBuf::from(OsString::from_vec(rel)),
                Entry {
                    kind,
                    mode,
                    uid: id("uid", uid)?,
                    gid: id("gid", gid)?,
                    size: num("size", size)?,
                    mtime,
                    hash,
                    target,
                },
            );
        }
        Ok(Self { entries })
    }

    /// Read a manifest file.
    pub fn read(path: &Path) -> Result<Self, ManifestError> {
        let file = File::open(path).map_err(|source| ManifestError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut text = String::new();
        BufReader::new(file)
            .read_to_string(&mut text)
            .map_err(|source| ManifestError::Read {
                path: path.to_owned(),
                source,
            })?;
        Self::parse(&text, path)
    }

    /// Write the manifest atomically (temporary file, fsync, rename, fsync of the directory).
    pub fn write(&self, path: &Path) -> Result<(), ManifestError> {
        write_atomic(path, self.render().as_bytes()).map_err(|source| ManifestError::Write {
            path: path.to_owned(),
            source,
        })
    }

    /// Number of entries and bytes of regular files: the totals for a copy's ETA.
    pub fn totals(&self) -> (u64, u64) {
        let bytes = self
            .entries
            .values()
            .filter(|e| e.kind == Kind::File)
            .map(|e| e.size)
            .sum();
        (self.entries.len() as u64, bytes)
    }
}

/// Write `bytes` to `path` so that a crash leaves the old content or the new, never a mix:
/// temporary file beside it, fsync, rename, fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp_name = OsString::from(".");
    tmp_name.push(path.file_name().unwrap_or(OsStr::new("file")));
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let mut file = File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, path)?;
    File::open(dir)?.sync_all()
}

/// How an entry changed between two manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    Added,
    Modified,
    Deleted,
}

impl Change {
    /// `A`, `M` or `D`.
    pub fn letter(self) -> char {
        match self {
            Change::Added => 'A',
            Change::Modified => 'M',
            Change::Deleted => 'D',
        }
    }
}

/// Compare `old` with `new`, sorted by path. A regular file whose size and mode are equal but
/// whose mtime differs is `Modified` only when `same_data(path)` says its content differs.
pub fn compare(
    old: &Manifest,
    new: &Manifest,
    same_data: &mut dyn FnMut(&Path, &Entry) -> bool,
) -> Vec<(Change, PathBuf)> {
    let mut out = Vec::new();
    for (path, old_entry) in &old.entries {
        match new.entries.get(path) {
            None => out.push((Change::Deleted, path.clone())),
            Some(new_entry) => {
                let meta_equal = old_entry.kind == new_entry.kind
                    && old_entry.mode == new_entry.mode
                    && old_entry.uid == new_entry.uid
                    && old_entry.gid == new_entry.gid
                    && old_entry.target == new_entry.target;
                let changed = if !meta_equal {
                    true
                } else if old_entry.kind == Kind::File {
                    old_entry.size != new_entry.size
                        || (old_entry.mtime != new_entry.mtime && !same_data(path, old_entry))
                } else {
                    false
                };
                if changed {
                    out.push((Change::Modified, path.clone()));
                }
            }
        }
    }
    for path in new.entries.keys() {
        if !old.entries.contains_key(path) {
            out.push((Change::Added, path.clone()));
        }
    }
    out.sort_by(|a, b| a.1.as_os_str().as_bytes().cmp(b.1.as_os_str().as_bytes()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips_weird_names() {
        for name in [
            &b"plain"[..],
            b"with space",
            b"new\nline",
            b"\xff\xfe bad utf8",
            b"-",
            b"100%",
            b"caf\xc3\xa9",
        ] {
            let escaped = escape(name);
            assert!(!escaped.contains(' ') && !escaped.contains('\n') && escaped != "-");
            assert_eq!(unescape(&escaped).unwrap(), name);
        }
    }

    #[test]
    fn a_scan_stops_when_asked() {
        let dir = std::env::temp_dir().join(format!("bosun-scan-stop-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("sub")).unwrap();
        fs::write(dir.join("sub/file"), "x").unwrap();
        let go_on = ScanOptions::default();
        assert_eq!(scan(&dir, &go_on).unwrap().manifest.entries.len(), 3);
        let stop = ScanOptions {
            interrupted: Some(|| true),
            ..ScanOptions::default()
        };
        let err = scan(&dir, &stop).unwrap_err();
        assert!(matches!(err, ManifestError::Interrupted { .. }), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn render_parse_round_trip() {
        let mut m = Manifest::default();
        m.entries.insert(
            PathBuf::from(OsString::from_vec(b"a b\n\xff".to_vec())),
            Entry {
                kind: Kind::File,
                mode: 0o4755,
                uid: 1,
                gid: 2,
                size: 3,
                mtime: (1_700_000_000, 5),
                hash: Some([7; 32]),
                target: None,
            },
        );
        m.entries.insert(
            PathBuf::from("l"),
            Entry {
                kind: Kind::Symlink,
                mode: 0o777,
                uid: 0,
                gid: 0,
                size: 1,
                mtime: (-1, 0),
                hash: None,
                target: Some("-".into()),
            },
        );
        let text = m.render();
        assert_eq!(Manifest::parse(&text, Path::new("m")).unwrap(), m);
        assert!(Manifest::parse("nope\n", Path::new("m")).is_err());
        let err = Manifest::parse(&format!("{HEADER}\nx 1\n"), Path::new("m")).unwrap_err();
        assert_eq!(err.to_string(), "m:2: expected 9 fields, found 2");
    }
}
