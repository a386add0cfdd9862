//! tmpfiles.d(5) at boot: the directories, files and links that packages declare in
//! `tmpfiles.d/*.conf` and their daemons rely on (`/run/memcached`, `/run/postgresql`, ...),
//! created as `systemd-tmpfiles --create --remove --boot` would. Cleanup by age is a timer's job
//! in systemd and is not done here.
//!
//! Applied: `d D e v q Q` (directories), `f f+ w w+` (files), `p p+` (fifos), `L L+` (links),
//! `C C+` (copies), `r R` (removal), `z Z` (mode and owner), `x X` (nothing to create). Not
//! applied, said once per type: `c b` (device nodes: a container gets its devices from the
//! runtime), `t T h H a A` (xattrs, file attributes, ACLs), and `^` lines (credentials).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt, symlink};
use std::path::{Component, Path, PathBuf};

use nix::unistd::{Gid, Uid};

use crate::volume::copy::{CopyOptions, copy_tree};

/// systemd's search path for tmpfiles.d, in precedence order.
pub const DIRS: [&str; 5] = [
    "/etc/tmpfiles.d",
    "/run/tmpfiles.d",
    "/usr/local/lib/tmpfiles.d",
    "/usr/lib/tmpfiles.d",
    "/lib/tmpfiles.d",
];

/// A mode column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    pub bits: u32,
    /// `~`: drop the executable bits the existing file does not have.
    pub masked: bool,
    /// `:`: only when creating, never to adjust an existing file.
    pub create_only: bool,
}

/// One line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The type letter.
    pub kind: char,
    /// `+` after the letter.
    pub plus: bool,
    /// `-`: errors are not reported as failures.
    pub ignore_errors: bool,
    pub path: PathBuf,
    pub mode: Option<Mode>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub argument: Option<String>,
    /// `file:line`, for messages.
    pub origin: String,
}

/// Values for the specifiers tmpfiles paths use.
#[derive(Debug, Clone)]
pub struct Specifiers {
    pub machine_id: String,
    pub boot_id: String,
    pub hostname: String,
}

/// Parse one file. Returns the entries and one `file:line: message` per bad line.
pub fn parse(text: &str, origin: &Path, spec: &Specifiers) -> (Vec<Entry>, Vec<String>) {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("{}:{}", origin.display(), n + 1);
        match parse_line(line, &at, spec) {
            Ok(Some(entry)) => entries.push(entry),
            Ok(None) => {}
            Err(why) => errors.push(format!("{at}: {why}")),
        }
    }
    (entries, errors)
}

fn parse_line(line: &str, at: &str, spec: &Specifiers) -> Result<Option<Entry>, String> {
    let fields = split_fields(line)?;
    let [type_field, path, rest @ ..] = fields.as_slice() else {
        return Err("expected at least a type and a path".to_owned());
    };
    let mut chars = type_field.chars();
    let kind = chars.next().ok_or("empty type")?;
    let (mut plus, mut ignore_errors, mut credential) = (false, false, false);
    for m in chars {
        match m {
            '+' => plus = true,
            '-' => ignore_errors = true,
            '!' => {} // boot-only: bosun applies tmpfiles at boot
            '^' => credential = true,
            '=' | '~' | '$' | '?' => {}
            other => return Err(format!("unknown modifier '{other}' in type {type_field:?}")),
        }
    }
    if !"fFwdDevqQpLcbCxXrRzZtThHaA".contains(kind) {
        return Err(format!("unknown type '{kind}'"));
    }
    if credential {
        // Credentials come from the service manager's store, which bosun does not keep for
        // tmpfiles: skip, as systemd-tmpfiles does when the credential is absent.
        return Ok(None);
    }
    let path = PathBuf::from(expand(path, spec)?);
    if !path.is_absolute() || path.components().any(|c| c == Component::ParentDir) {
        return Err(format!(
            "path {:?} is not absolute and normalized",
            path.display()
        ));
    }
    let column = |i: usize| rest.get(i).filter(|v| v.as_str() != "-").cloned();
    let mode = column(0).map(|m| parse_mode(&m)).transpose()?;
    let argument = column(3).map(|a| expand(&a, spec)).transpose()?;
    Ok(Some(Entry {
        kind: if kind == 'F' { 'f' } else { kind },
        plus: plus || kind == 'F',
        ignore_errors,
        path,
        mode,
        user: column(1),
        group: column(2),
        argument,
        origin: at.to_owned(),
    }))
}

/// Whitespace-separated fields; a field may be double-quoted; the sixth field (argument) is
/// the rest of the line.
fn split_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        if fields.len() == 6 {
            fields.push(rest.trim_end().to_owned());
            break;
        }
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').ok_or("unbalanced quotes")?;
            fields.push(quoted[..end].to_owned());
            rest = quoted[end + 1..].trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            fields.push(rest[..end].to_owned());
            rest = rest[end..].trim_start();
        }
    }
    // Fields 0..=5 are type, path, mode, user, group, age; the argument is the seventh word
    // onwards. Drop the age column so the caller sees [type, path, mode, user, group, arg].
    if fields.len() > 5 {
        fields.remove(5);
    }
    Ok(fields)
}

fn parse_mode(text: &str) -> Result<Mode, String> {
    let mut mode = Mode {
        bits: 0,
        masked: false,
        create_only: false,
    };
    let mut digits = text;
    loop {
        if let Some(r) = digits.strip_prefix('~') {
            mode.masked = true;
            digits = r;
        } else if let Some(r) = digits.strip_prefix(':') {
            mode.create_only = true;
            digits = r;
        } else {
            break;
        }
    }
    mode.bits = u32::from_str_radix(digits, 8)
        .ok()
        .filter(|b| *b <= 0o7777)
        .ok_or_else(|| format!("invalid mode {text:?}"))?;
    Ok(mode)
}

/// The specifiers of tmpfiles.d(5) that make sense in a container.
fn expand(text: &str, spec: &Specifiers) -> Result<String, String> {
    crate::unit::specifier::printf(text, |letter| {
        Ok(match letter {
            Some('%') => "%",
            Some('m') => &spec.machine_id,
            Some('b') => &spec.boot_id,
            Some('H') | Some('l') => &spec.hostname,
            Some('t') => "/run",
            Some('S') => "/var/lib",
            Some('C') => "/var/cache",
            Some('L') => "/var/log",
            Some('T') => "/tmp",
            Some('V') => "/var/tmp",
            Some('h') => "/root",
            Some(other) => return Err(format!("unknown specifier %{other}")),
            None => return Err("a lone % at the end".to_owned()),
        }
        .to_owned())
    })
}

/// Read every tmpfiles.d file under `root` in systemd's order: by file name across the search
/// path, a name in an earlier directory hiding the same name later (a link to /dev/null masks
/// it). For each path the first line wins; later ones are reported as duplicates.
pub fn load(root: &Path, spec: &Specifiers) -> (Vec<Entry>, Vec<String>) {
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    for dir in DIRS {
        let on_disk = root.join(dir.trim_start_matches('/'));
        let Ok(read) = fs::read_dir(&on_disk) else {
            continue;
        };
        for entry in read.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".conf") {
                files.entry(name).or_insert_with(|| entry.path());
            }
        }
    }
    let mut entries: Vec<Entry> = Vec::new();
    let mut errors = Vec::new();
    let mut owned: BTreeSet<PathBuf> = BTreeSet::new();
    for path in files.values() {
        if fs::read_link(path).is_ok_and(|t| t == Path::new("/dev/null")) {
            continue;
        }
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!("{}: cannot read: {e}", path.display()));
                continue;
            }
        };
        let (found, bad) = parse(&text, path, spec);
        errors.extend(bad);
        for entry in found {
            // Two lines that create a path conflict; lines that only adjust, remove or exclude
            // it (z, a+, r, x, ...) may share it with anything (systemd's takes_ownership()).
            let creates = "fwdDevqQpLcbC".contains(entry.kind);
            if creates && !owned.insert(entry.path.clone()) {
                errors.push(format!(
                    "{}: duplicate line for path {:?}, ignoring",
                    entry.origin,
                    entry.path.display()
                ));
                continue;
            }
            entries.push(entry);
        }
    }
    // Parents before their children.
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    (entries, errors)
}

/// Look up a user or group name (or number) in the system being set up.
pub type Resolve<'a> = &'a dyn Fn(&str) -> Option<u32>;

/// What applying the entries did not do, one message each (`origin: path: problem`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Failures of lines without `-`.
    pub errors: Vec<String>,
    /// Types bosun does not apply, named once each.
    pub skipped: Vec<String>,
}

/// Apply `entries` under `root`.
pub fn apply(entries: &[Entry], root: &Path, users: Resolve<'_>, groups: Resolve<'_>) -> Report {
    let mut report = Report::default();
    let mut skipped_kinds = BTreeSet::new();
    for entry in entries {
        if "cbtThHaA".contains(entry.kind) {
            if skipped_kinds.insert(entry.kind) {
                report.skipped.push(format!(
                    "tmpfiles.d type '{}' is not applied in a container (first at {})",
                    entry.kind, entry.origin
                ));
            }
            continue;
        }
        if let Err(why) = apply_one(entry, root, users, groups)
            && !entry.ignore_errors
        {
            report
                .errors
                .push(format!("{}: {}: {why}", entry.origin, entry.path.display()));
        }
    }
    report
}

fn apply_one(
    entry: &Entry,
    root: &Path,
    users: Resolve<'_>,
    groups: Resolve<'_>,
) -> Result<(), String> {
    let target = root.join(entry.path.strip_prefix("/").unwrap_or(&entry.path));
    let uid = match &entry.user {
        Some(u) => Some(users(u).ok_or_else(|| format!("unknown user {u:?}"))?),
        None => None,
    };
    let gid = match &entry.group {
        Some(g) => Some(groups(g).ok_or_else(|| format!("unknown group {g:?}"))?),
        None => None,
    };
    let io = |what: &str| {
        let what = what.to_owned();
        move |e: io::Error| format!("cannot {what}: {e}")
    };
    let exists = fs::symlink_metadata(&target).is_ok();
    let parent = |t: &Path| -> Result<(), String> {
        match t.parent() {
            Some(p) => fs::create_dir_all(p).map_err(io("create the parent directories")),
            None => Ok(()),
        }
    };
    match entry.kind {
        'd' | 'D' | 'e' | 'v' | 'q' | 'Q' => {
            if entry.kind == 'e' && !exists {
                return Ok(());
            }
            if !exists {
                parent(&target)?;
                fs::DirBuilder::new()
                    .mode(entry.mode.map_or(0o755, |m| m.bits))
                    .create(&target)
                    .map_err(io("create the directory"))?;
            } else if entry.kind == 'D' {
                // --remove at boot: empty it, without entering what is mounted inside (a
                // volume, the host's X11 socket directory bound into /tmp).
                match empty_on_one_mount(&target) {
                    // Something mounted inside was kept (and said): the rest is gone.
                    Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {}
                    other => other.map_err(io("empty the directory"))?,
                }
            }
            adjust(&target, entry.mode, 0o755, uid, gid, !exists)
        }
        'f' | 'w' => {
            if entry.kind == 'w' {
                if !exists {
                    return Ok(());
                }
                let data = entry.argument.as_deref().unwrap_or("");
                let mut options = fs::OpenOptions::new();
                options.write(true);
                if entry.plus {
                    options.append(true);
                } else {
                    options.truncate(true);
                }
                return io::Write::write_all(
                    &mut options.open(&target).map_err(io("open"))?,
                    &unescape(data),
                )
                .map_err(io("write"));
            }
            if !exists || entry.plus {
                parent(&target)?;
                fs::write(&target, unescape(entry.argument.as_deref().unwrap_or("")))
                    .map_err(io("write the file"))?;
            }
            adjust(&target, entry.mode, 0o644, uid, gid, !exists)
        }
        'p' => {
            if exists && entry.plus {
                fs::remove_file(&target).map_err(io("replace"))?;
            }
            if !exists || entry.plus {
                parent(&target)?;
                nix::unistd::mkfifo(&target, nix::sys::stat::Mode::from_bits_truncate(0o644))
                    .map_err(|e| format!("cannot create the fifo: {e}"))?;
            }
            adjust(&target, entry.mode, 0o644, uid, gid, !exists)
        }
        'L' => {
            let link_to = entry
                .argument
                .clone()
                .unwrap_or_else(|| format!("/usr/share/factory{}", entry.path.display()));
            if exists {
                if !entry.plus || fs::read_link(&target).is_ok_and(|t| t == Path::new(&link_to)) {
                    return Ok(());
                }
                remove_on_one_mount(&target).map_err(io("replace"))?;
            }
            parent(&target)?;
            symlink(&link_to, &target).map_err(io("create the link"))
        }
        'C' => {
            if exists && !entry.plus {
                return Ok(());
            }
            let source = entry
                .argument
                .clone()
                .unwrap_or_else(|| format!("/usr/share/factory{}", entry.path.display()));
            let from = root.join(source.trim_start_matches('/'));
            if !from.exists() {
                // systemd-tmpfiles skips a C line whose source is absent (the TPM lines of
                // systemd.conf rely on it); nothing to copy is not an error.
                return Ok(());
            }
            parent(&target)?;
            // The volume's copier, as systemd-tmpfiles uses its copy_tree(): owner, mode,
            // extended attributes, times and hardlinks kept, symlinks not followed, and
            // (`C+` into an existing tree) nothing that exists is replaced (COPY_MERGE).
            let options = CopyOptions {
                only_missing: true,
                ..CopyOptions::default()
            };
            copy_tree(&from, &target, &options, &mut |_| {})
                .map_err(|e| format!("cannot copy: {}", crate::log::error_chain(&e)))?;
            adjust(&target, entry.mode, 0o755, uid, gid, !exists)
        }
        'r' | 'R' => {
            if !exists {
                return Ok(());
            }
            let meta = fs::symlink_metadata(&target).map_err(io("inspect"))?;
            match (meta.is_dir(), entry.kind) {
                (true, 'R') => remove_on_one_mount(&target),
                (true, _) => fs::remove_dir(&target),
                (false, _) => fs::remove_file(&target),
            }
            .map_err(io("remove"))
        }
        'z' | 'Z' => {
            if !exists {
                return Ok(());
            }
            let mut paths = vec![target.clone()];
            if entry.kind == 'Z' {
                collect_tree(&target, &mut paths);
            }
            for p in paths {
                adjust(&p, entry.mode, 0o644, uid, gid, false)?;
            }
            Ok(())
        }
        // x, X: exclusions from cleanup; nothing to create.
        _ => Ok(()),
    }
}

/// Set mode and owner on `path` (never through a symlink). `created` allows `:` modes.
fn adjust(
    path: &Path,
    mode: Option<Mode>,
    default_bits: u32,
    uid: Option<u32>,
    gid: Option<u32>,
    created: bool,
) -> Result<(), String> {
    let meta = fs::symlink_metadata(path).map_err(|e| format!("cannot inspect: {e}"))?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    if uid.is_some() || gid.is_some() {
        nix::unistd::fchownat(
            nix::fcntl::AT_FDCWD,
            path,
            uid.map(Uid::from_raw),
            gid.map(Gid::from_raw),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(|e| format!("cannot change the owner: {e}"))?;
    }
    let Some(mode) = mode.or(created.then_some(Mode {
        bits: default_bits,
        masked: false,
        create_only: false,
    })) else {
        return Ok(());
    };
    if mode.create_only && !created {
        return Ok(());
    }
    let current = meta.permissions().mode();
    let mut bits = mode.bits;
    if mode.masked && current & 0o111 == 0 {
        bits &= !0o111;
    }
    // chown cleared setuid/setgid: set the mode after it.
    fs::set_permissions(path, fs::Permissions::from_mode(bits))
        .map_err(|e| format!("cannot set the mode: {e}"))
}

fn collect_tree(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(read) = fs::read_dir(&d) else { continue };
        for e in read.flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
}

/// C-style escapes of the argument column (`\n`, `\t`, `\\`, `\xNN`), as bytes: `\xNN` is
/// the byte NN, so `\xff` writes one byte 0xff as systemd's cunescape() does, not the two of
/// U+00FF's UTF-8.
fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    let push = |out: &mut Vec<u8>, c: char| {
        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            push(&mut out, c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('\\') => out.push(b'\\'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                match u8::from_str_radix(&hex, 16) {
                    Ok(b) => out.push(b),
                    Err(_) => {
                        out.extend_from_slice(b"\\x");
                        out.extend_from_slice(hex.as_bytes());
                    }
                }
            }
            Some(other) => {
                out.push(b'\\');
                push(&mut out, other);
            }
            None => out.push(b'\\'),
        }
    }
    out
}

/// `path` and what is under it, as systemd's `rm_rf()` does for tmpfiles: symlinks are removed,
/// never followed, and a directory that is another mount (or a mount's root) is left with all
/// it holds — so `D /tmp` cannot reach a volume or a host directory bound beneath it. Fails
/// with `EBUSY` when something had to be left.
fn remove_on_one_mount(path: &Path) -> io::Result<()> {
    let st = stat_mount(path)?;
    if !is_dir(&st) {
        return fs::remove_file(path);
    }
    if st
        .stx_attributes
        .contains(rustix::fs::StatxAttributes::MOUNT_ROOT)
    {
        return Err(io::Error::from_raw_os_error(libc::EBUSY));
    }
    empty_on_one_mount(path)?;
    fs::remove_dir(path)
}

/// Empty the directory `dir` as [`remove_on_one_mount`] does, keeping `dir` itself.
fn empty_on_one_mount(dir: &Path) -> io::Result<()> {
    let top = stat_mount(dir)?;
    let mut kept = false;
    for child in fs::read_dir(dir)?.flatten() {
        let path = child.path();
        let Ok(st) = stat_mount(&path) else {
            continue; // gone meanwhile
        };
        let other_mount = st.stx_mnt_id != top.stx_mnt_id
            || st
                .stx_attributes
                .contains(rustix::fs::StatxAttributes::MOUNT_ROOT)
            || (st.stx_dev_major, st.stx_dev_minor) != (top.stx_dev_major, top.stx_dev_minor);
        if other_mount {
            crate::log::info(format_args!(
                "tmpfiles: {} is a mount point: left as it is",
                path.display()
            ));
            kept = true;
            continue;
        }
        let gone = if is_dir(&st) {
            remove_on_one_mount(&path)
        } else {
            fs::remove_file(&path)
        };
        match gone {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => kept = true,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    if kept {
        Err(io::Error::from_raw_os_error(libc::EBUSY))
    } else {
        Ok(())
    }
}

fn stat_mount(path: &Path) -> io::Result<rustix::fs::Statx> {
    rustix::fs::statx(
        rustix::fs::CWD,
        path,
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        rustix::fs::StatxFlags::BASIC_STATS | rustix::fs::StatxFlags::MNT_ID,
    )
    .map_err(io::Error::from)
}

fn is_dir(st: &rustix::fs::Statx) -> bool {
    rustix::fs::FileType::from_raw_mode(u32::from(st.stx_mode)) == rustix::fs::FileType::Directory
}

#[cfg(test)]
mod tests;
