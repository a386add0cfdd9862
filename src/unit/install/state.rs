//! Unit file states (`systemctl is-enabled`, `list-unit-files`): install.c's
//! unit_file_lookup_state, the symlink scan that decides enabled / enabled-runtime / linked /
//! indirect, and unit_file_get_list (name patterns through [`crate::unit::glob`]). Reads only.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::unit::glob::fnmatch;

use nix::errno::Errno;

use super::context::{Context, FileType, InstallInfo, LOAD_FOLLOW, replace_instance};
use super::file::hidden_or_backup;
use super::paths::errno_of;
use super::{ANY, Installer, basename, name_is};
use crate::unit::UnitName;

/// What `systemctl is-enabled` says about a unit file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileState {
    /// Linked from a `.wants/`, `.requires/` (or alias) in `/etc/systemd/system`.
    Enabled,
    /// Linked from `/run/systemd/system` only.
    EnabledRuntime,
    /// Linked into `/etc/systemd/system` from outside the search path.
    Linked,
    /// Linked into `/run/systemd/system` from outside the search path.
    LinkedRuntime,
    /// The name is an alias of another unit.
    Alias,
    /// Masked in `/etc`.
    Masked,
    /// Masked in `/run`.
    MaskedRuntime,
    /// No `[Install]` rules: not meant to be enabled.
    Static,
    /// Has `[Install]` rules, not enabled.
    Disabled,
    /// Enabled under another name, or only through `Also=`.
    Indirect,
    /// Made by a generator.
    Generated,
    /// Created at run time (`systemd-run`).
    Transient,
    /// The file cannot be read (a dangling link, ...): `list-unit-files` only.
    Bad,
}

impl FileState {
    /// Every state, in systemd's table order.
    pub const ALL: [FileState; 13] = [
        FileState::Enabled,
        FileState::EnabledRuntime,
        FileState::Linked,
        FileState::LinkedRuntime,
        FileState::Alias,
        FileState::Masked,
        FileState::MaskedRuntime,
        FileState::Static,
        FileState::Disabled,
        FileState::Indirect,
        FileState::Generated,
        FileState::Transient,
        FileState::Bad,
    ];

    /// The word systemctl prints.
    pub fn as_str(self) -> &'static str {
        match self {
            FileState::Enabled => "enabled",
            FileState::EnabledRuntime => "enabled-runtime",
            FileState::Linked => "linked",
            FileState::LinkedRuntime => "linked-runtime",
            FileState::Alias => "alias",
            FileState::Masked => "masked",
            FileState::MaskedRuntime => "masked-runtime",
            FileState::Static => "static",
            FileState::Disabled => "disabled",
            FileState::Indirect => "indirect",
            FileState::Generated => "generated",
            FileState::Transient => "transient",
            FileState::Bad => "bad",
        }
    }

    /// `is-enabled` exits 0 for these (systemctl-is-enabled.c).
    pub fn counts_as_enabled(self) -> bool {
        matches!(
            self,
            FileState::Enabled
                | FileState::EnabledRuntime
                | FileState::Static
                | FileState::Alias
                | FileState::Indirect
                | FileState::Generated
        )
    }
}

impl fmt::Display for FileState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// is_symlink_with_known_name(): a link named `name` is one `enable` would make for `info`.
fn known_name(info: &InstallInfo, name: &str) -> bool {
    if name == info.name || info.aliases.iter().any(|a| a == name) {
        return true;
    }
    match &info.default_instance {
        Some(di) if UnitName::parse(&info.name).is_ok_and(|n| n.is_template()) => {
            replace_instance(&info.name, di).is_ok_and(|s| s == name)
        }
        _ => false,
    }
}

/// One directory of the search path as the link search reads it, in readdir's order: its
/// `.wants/`, `.requires/` and `.upholds/` subdirectories, and the entries that may be links
/// (symlinks, and entries of a file system that does not say; readlink tells). Hidden and
/// backup names are left out.
#[derive(Debug, Default)]
struct Listing {
    subdirs: Vec<PathBuf>,
    links: Vec<String>,
}

/// The directories read by one lookup of states: both passes of unit_file_lookup_state (by
/// name, then by any link) and every unit of `list-unit-files` read each directory once. A
/// unit directory of a few hundred files was read four times for each state.
type Listings = HashMap<PathBuf, Result<std::rc::Rc<Listing>, Errno>>;

/// `dir`'s listing, read once per [`Listings`].
fn listing(dir: &Path, listings: &mut Listings) -> Result<std::rc::Rc<Listing>, Errno> {
    if let Some(known) = listings.get(dir) {
        return known.clone();
    }
    let read = read_listing(dir).map(std::rc::Rc::new);
    listings.insert(dir.to_owned(), read.clone());
    read
}

fn read_listing(dir: &Path) -> Result<Listing, Errno> {
    use rustix::fs::{FileType as Kind, Mode, OFlags};
    let errno = |e: rustix::io::Errno| Errno::from_raw(e.raw_os_error());
    let fd = rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(errno)?;
    let mut out = Listing::default();
    // The stream takes the descriptor (read_from would open the directory a second time).
    let mut entries = rustix::fs::Dir::new(fd).map_err(errno)?;
    while let Some(Ok(entry)) = entries.next() {
        let kind = match entry.file_type() {
            // The file system does not say: lstat does (a symlink to a directory is a link).
            Kind::Unknown => rustix::fs::statat(
                entries.fd().map_err(errno)?,
                entry.file_name(),
                rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
            )
            .map_or(Kind::Unknown, |st| Kind::from_raw_mode(st.st_mode)),
            kind => kind,
        };
        if !matches!(kind, Kind::Directory | Kind::Symlink | Kind::Unknown) {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        if hidden_or_backup(&name) {
            continue;
        }
        if kind == Kind::Directory {
            let suffix = name.rfind('.').map_or("", |i| &name[i..]);
            if matches!(suffix, ".wants" | ".requires" | ".upholds") {
                out.subdirs.push(dir.join(&*name));
            }
        } else {
            out.links.push(name.into_owned());
        }
    }
    Ok(out)
}

impl Installer {
    /// find_symlinks_in_directory(): a link in `dir` leads to `info` (with `match_aliases`,
    /// only under a name `enable` would make).
    fn symlinks_in_dir(
        dir: &Path,
        info: &InstallInfo,
        (match_aliases, ignore_same_name): (bool, bool),
        config_path: &Path,
        same_name_link: &mut bool,
        listings: &mut Listings,
    ) -> Result<bool, Errno> {
        use rustix::fs::{Mode, OFlags};
        let fd = rustix::fs::open(
            dir,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Errno::from_raw(e.raw_os_error()))?;
        // One entry's verdict: Some(true) when it leads to the unit, Some(false) when not (or
        // it is the unit's own link of the same name), None when it is no symlink.
        let mut r = Ok(false);
        let mut judge = |name: &str, same_name_link: &mut bool| -> Option<bool> {
            let dest = match rustix::fs::readlinkat(&fd, name, Vec::new()) {
                Ok(d) => PathBuf::from(
                    <std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(
                        d.into_bytes(),
                    ),
                ),
                Err(rustix::io::Errno::NOENT | rustix::io::Errno::INVAL) => return None,
                Err(e) => {
                    if r == Ok(false) {
                        r = Err(Errno::from_raw(e.raw_os_error()));
                    }
                    return None;
                }
            };
            let dest = if dest.is_absolute() {
                dest
            } else {
                dir.join(dest)
            };
            let found_path = !ignore_same_name && name == info.name;
            let found_dest = basename(&dest) == info.name;
            let same = found_path && found_dest && dir.join(name) == config_path.join(&info.name);
            if same {
                *same_name_link = true;
                Some(false)
            } else {
                Some((found_path || found_dest) && (!match_aliases || known_name(info, name)))
            }
        };
        // The link named as the unit first: when it leads to it (an enabled unit's usual
        // link), no other entry needs a look. The scan finds the same (any entry that leads
        // to the unit makes it true; which one does is readdir's order, as in systemd).
        if !hidden_or_backup(&info.name) && judge(&info.name, same_name_link) == Some(true) {
            return Ok(true);
        }
        for name in &listing(dir, listings)?.links {
            if *name != info.name && judge(name, same_name_link) == Some(true) {
                return Ok(true);
            }
        }
        r
    }

    /// find_symlinks(): in `config_path`'s `.wants/`, `.requires/`, `.upholds/`
    /// directories, then in itself.
    fn symlinks_in(
        info: &InstallInfo,
        flags: (bool, bool),
        config_path: &Path,
        same_name_link: &mut bool,
        listings: &mut Listings,
    ) -> Result<bool, Errno> {
        let found = match listing(config_path, listings) {
            Ok(found) => found,
            Err(Errno::ENOENT | Errno::ENOTDIR | Errno::EACCES) => return Ok(false),
            Err(e) => return Err(e),
        };
        for subdir in &found.subdirs {
            let found =
                Self::symlinks_in_dir(subdir, info, flags, config_path, same_name_link, listings);
            if found == Ok(true) {
                return Ok(true);
            }
        }
        Self::symlinks_in_dir(
            config_path,
            info,
            flags,
            config_path,
            same_name_link,
            listings,
        )
    }

    /// find_symlinks_in_scope(): where in the search path `info` is linked from.
    fn symlinks_in_scope(
        &self,
        info: &InstallInfo,
        match_name: bool,
        listings: &mut Listings,
    ) -> Result<Option<FileState>, Errno> {
        let (mut same_runtime, mut same_config) = (false, false);
        let (mut enabled_runtime, mut enabled_at_all) = (false, false);
        let mut ignore_same_name = false;
        let unit_path = info.path.clone().unwrap_or_default();
        for dir in &self.lp.search_path {
            let mut same_name_link = false;
            let flags = (match_name, ignore_same_name);
            if Self::symlinks_in(info, flags, dir, &mut same_name_link, listings)? {
                if *dir == self.lp.persistent_config {
                    return Ok(Some(FileState::Enabled));
                }
                if self.lp.dir_is_runtime(dir) {
                    enabled_runtime = true;
                } else {
                    enabled_at_all = true;
                }
            } else if same_name_link {
                if *dir == self.lp.persistent_config {
                    same_config = true;
                } else if self.lp.dir_is_runtime(dir) {
                    same_runtime = true;
                }
            }
            // Same-name links below the unit file itself are masked by it.
            if !ignore_same_name && unit_path.starts_with(dir) {
                ignore_same_name = true;
            }
        }
        if enabled_runtime {
            return Ok(Some(FileState::EnabledRuntime));
        }
        if enabled_at_all && UnitName::parse(&info.name).is_ok_and(|n| n.is_instance()) {
            return Ok(Some(FileState::Static));
        }
        if same_config {
            return Ok(Some(FileState::Linked));
        }
        if same_runtime {
            return Ok(Some(FileState::LinkedRuntime));
        }
        Ok(None)
    }

    /// unit_file_lookup_state(): the state of the unit file `name`.
    pub fn state(&mut self, name: &str) -> Result<FileState, Errno> {
        self.state_with(name, &mut Listings::new())
    }

    /// [`Self::state`], reading each directory once per `listings`.
    fn state_with(&mut self, name: &str, listings: &mut Listings) -> Result<FileState, Errno> {
        if !name_is(name, ANY) {
            return Err(Errno::EINVAL);
        }
        let mut ctx = Context::default();
        let i = self.discover(&mut ctx, name, LOAD_FOLLOW, None)?;
        let info = ctx.infos[i].clone();
        let path = info.path.clone().unwrap_or_default();
        Ok(match info.file_type {
            FileType::Masked if self.lp.path_is_runtime(&path) => FileState::MaskedRuntime,
            FileType::Masked => FileState::Masked,
            FileType::Regular => {
                let is_instance = UnitName::parse(&info.name).is_ok_and(|n| n.is_instance());
                if name != basename(&path) && !is_instance {
                    FileState::Alias
                } else if self.lp.path_is_generator(&path) {
                    FileState::Generated
                } else if self.lp.path_is_transient(&path) {
                    FileState::Transient
                } else if let Some(s) = self.symlinks_in_scope(&info, true, listings)? {
                    s
                } else if self.symlinks_in_scope(&info, false, listings)?.is_some() {
                    FileState::Indirect
                } else if info.has_rules() {
                    FileState::Disabled
                } else if !info.also.is_empty() {
                    FileState::Indirect
                } else {
                    FileState::Static
                }
            }
            _ => return Err(Errno::EINVAL),
        })
    }

    /// unit_file_get_list(): every unit file in the search path (the first directory wins for
    /// a name) matching `patterns` (any, when empty) whose state is in `states` (any, when
    /// empty), with its state (`bad` when it cannot be determined).
    pub fn list(
        &mut self,
        states: &[String],
        patterns: &[String],
    ) -> Result<Vec<(PathBuf, FileState)>, Errno> {
        let mut out: BTreeMap<String, (PathBuf, FileState)> = BTreeMap::new();
        let mut listings = Listings::new();
        for dir in self.lp.search_path.clone() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e)
                    if matches!(errno_of(&e), Errno::ENOENT | Errno::ENOTDIR | Errno::EACCES) =>
                {
                    continue;
                }
                Err(e) => return Err(errno_of(&e)),
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if hidden_or_backup(&name) || !name_is(&name, ANY) {
                    continue;
                }
                if !patterns.is_empty() && !patterns.iter().any(|p| fnmatch(p, &name)) {
                    continue;
                }
                if out.contains_key(&name) {
                    continue;
                }
                if !entry
                    .file_type()
                    .is_ok_and(|t| t.is_symlink() || t.is_file())
                {
                    continue;
                }
                let state = self
                    .state_with(&name, &mut listings)
                    .unwrap_or(FileState::Bad);
                if !states.is_empty() && !states.iter().any(|s| s == state.as_str()) {
                    continue;
                }
                out.insert(name, (entry.path(), state));
            }
        }
        Ok(out.into_values().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_print_as_systemd() {
        assert_eq!(FileState::EnabledRuntime.to_string(), "enabled-runtime");
        assert!(FileState::Alias.counts_as_enabled());
        assert!(!FileState::Masked.counts_as_enabled());
        assert!(!FileState::Linked.counts_as_enabled());
    }
}
