//! The install context (install.c's `InstallContext` and `UnitFileInstallInfo`): the names an
//! operation still has to process and those it processed, each with what was found on disk; and
//! finding a name on disk (unit_file_search), reading `[Install]` from the file and its
//! drop-ins, and following symlinks (install_info_traverse). Reads only.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use super::file::conf_files;
use super::{ANY, Change, ChangeKind, Installer, basename, display, name_is};
use crate::unit::UnitName;

/// How many symlinks a name may lead through (UNIT_FILE_FOLLOW_SYMLINK_MAX).
const FOLLOW_MAX: usize = 64;

/// What a name was found to be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum FileType {
    /// Not looked up yet.
    #[default]
    Invalid,
    /// A regular unit file.
    Regular,
    /// A symlink to a file outside the search path (`systemctl link`).
    Linked,
    /// A symlink to another name inside the search path.
    Alias,
    /// `/dev/null`, an empty file, or a link to one.
    Masked,
}

/// One name in an operation, and what was found for it.
#[derive(Debug, Clone, Default)]
pub(super) struct InstallInfo {
    pub name: String,
    pub path: Option<PathBuf>,
    pub file_type: FileType,
    pub aliases: Vec<String>,
    pub wanted_by: Vec<String>,
    pub required_by: Vec<String>,
    pub upheld_by: Vec<String>,
    pub also: Vec<String>,
    pub default_instance: Option<String>,
    pub symlink_target: Option<PathBuf>,
    pub auxiliary: bool,
}

impl InstallInfo {
    /// A bare entry for `name` (used for look-ups outside a context).
    pub fn named(name: &str) -> Self {
        InstallInfo {
            name: name.to_owned(),
            ..InstallInfo::default()
        }
    }

    /// WantedBy=, RequiredBy=, UpheldBy= or Alias= is set.
    pub fn has_rules(&self) -> bool {
        !self.aliases.is_empty()
            || !self.wanted_by.is_empty()
            || !self.required_by.is_empty()
            || !self.upheld_by.is_empty()
    }

    fn path_or_name(&self) -> String {
        self.path
            .as_deref()
            .map_or_else(|| self.name.clone(), display)
    }
}

/// How a search behaves (install.c's SearchFlags).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Search {
    /// Read the file's `[Install]` section (else only classify it).
    pub load: bool,
    /// Follow symlinks that live in the configuration directories.
    pub follow_config: bool,
    /// The file is a drop-in.
    pub dropin: bool,
}

pub(super) const LOAD_FOLLOW: Search = Search {
    load: true,
    follow_config: true,
    dropin: false,
};
pub(super) const LOAD: Search = Search {
    load: true,
    follow_config: false,
    dropin: false,
};
pub(super) const FOLLOW: Search = Search {
    load: false,
    follow_config: true,
    dropin: false,
};
pub(super) const NONE: Search = Search {
    load: false,
    follow_config: false,
    dropin: false,
};

/// The names of one operation: to process (in order) and processed.
#[derive(Debug, Default)]
pub(super) struct Context {
    pub infos: Vec<InstallInfo>,
    by_name: HashMap<String, usize>,
    will: VecDeque<usize>,
}

impl Context {
    /// install_info_find().
    pub fn find(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// install_info_add(): the entry for `name` (or `path`'s file name), added to the names
    /// to process when new.
    pub fn add(
        &mut self,
        name: Option<&str>,
        path: Option<PathBuf>,
        auxiliary: bool,
    ) -> Result<usize, Errno> {
        let name = match (name, &path) {
            (Some(n), _) => n.to_owned(),
            (None, Some(p)) => basename(p),
            (None, None) => return Err(Errno::EINVAL),
        };
        if !name_is(&name, ANY) {
            return Err(Errno::EINVAL);
        }
        if let Some(i) = self.find(&name) {
            let info = &mut self.infos[i];
            info.auxiliary = info.auxiliary && auxiliary;
            return Ok(i);
        }
        let i = self.infos.len();
        self.infos.push(InstallInfo {
            name: name.clone(),
            path,
            auxiliary,
            ..InstallInfo::default()
        });
        self.by_name.insert(name, i);
        self.will.push_back(i);
        Ok(i)
    }

    /// The next name to process, moved to the processed ones.
    pub fn next(&mut self) -> Option<usize> {
        self.will.pop_front()
    }
}

/// unit_type_may_template().
pub(super) fn type_may_template(unit_type: &str) -> bool {
    matches!(
        unit_type,
        "service" | "socket" | "target" | "timer" | "path"
    )
}

pub(super) fn unit_type(name: &str) -> &str {
    name.rsplit_once('.').map_or("", |(_, t)| t)
}

/// `foo@.service` + `bar` → `foo@bar.service` (unit_name_replace_instance).
pub(super) fn replace_instance(name: &str, instance: &str) -> Result<String, Errno> {
    let parsed = UnitName::parse(name).map_err(|_| Errno::EINVAL)?;
    if parsed.instance().is_none() {
        return Err(Errno::EINVAL);
    }
    parsed
        .with_instance(instance)
        .map(|n| n.to_string())
        .map_err(|_| Errno::EINVAL)
}

/// The instance of an instance name (`None` for plain names and templates).
pub(super) fn instance_of(name: &str) -> Option<String> {
    UnitName::parse(name)
        .ok()
        .filter(UnitName::is_instance)
        .and_then(|n| n.instance().map(str::to_owned))
}

/// The template of an instance or template name.
pub(super) fn template_of(name: &str) -> Option<String> {
    UnitName::parse(name)
        .ok()
        .and_then(|n| n.template())
        .map(|t| t.to_string())
}

impl Installer {
    /// unit_file_search(): find `info` in the search path (its own name, else its template),
    /// then read its drop-ins.
    pub(super) fn search(&mut self, info: &mut InstallInfo, flags: Search) -> Result<usize, Errno> {
        if info.file_type != FileType::Invalid {
            return Ok(0);
        }
        if let Some(path) = info.path.clone() {
            return self.load_or_readlink(info, &path, flags);
        }
        let template = UnitName::parse(&info.name)
            .ok()
            .filter(UnitName::is_instance)
            .and_then(|n| n.template())
            .map(|t| t.to_string());
        let mut found = None;
        let dirs = self.lp.search_path.clone();
        'names: for name in std::iter::once(info.name.clone()).chain(template.clone()) {
            for dir in &dirs {
                let path = dir.join(&name);
                match self.load_or_readlink(info, &path, flags) {
                    Ok(r) => {
                        found = Some((path, r));
                        break 'names;
                    }
                    Err(Errno::ENOENT | Errno::ENOTDIR | Errno::EACCES) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let Some((path, result)) = found else {
            return Err(Errno::ENOENT);
        };
        info.path = Some(path);
        if info.file_type == FileType::Masked {
            return Ok(result);
        }
        let mut dirs_d: Vec<PathBuf> = dirs
            .iter()
            .map(|d| d.join(format!("{}.d", info.name)))
            .collect();
        if let Some(t) = &template {
            dirs_d.extend(dirs.iter().map(|d| d.join(format!("{t}.d"))));
        }
        for dropin in conf_files(&dirs_d, ".conf") {
            let dropin_flags = Search {
                dropin: true,
                ..flags
            };
            self.load_or_readlink(info, &dropin, dropin_flags)?;
        }
        Ok(result)
    }

    /// [`Self::search`] on a context entry; Also= names read on the way join the context.
    pub(super) fn search_in(
        &mut self,
        ctx: &mut Context,
        i: usize,
        flags: Search,
    ) -> Result<usize, Errno> {
        let mut info = std::mem::take(&mut ctx.infos[i]);
        let before = info.also.len();
        let r = self.search(&mut info, flags);
        let also: Vec<String> = info.also[before..].to_vec();
        ctx.infos[i] = info;
        for name in also {
            ctx.add(Some(&name), None, true)?;
        }
        r
    }

    /// install_info_follow(): replace an entry's path by its symlink's target and load that.
    fn follow(
        &mut self,
        ctx: &mut Context,
        i: usize,
        flags: Search,
        ignore_different_name: bool,
    ) -> Result<usize, Errno> {
        let info = &mut ctx.infos[i];
        if !matches!(info.file_type, FileType::Alias | FileType::Linked) {
            return Err(Errno::EINVAL);
        }
        let Some(target) = info.symlink_target.clone() else {
            return Err(Errno::EINVAL);
        };
        if !ignore_different_name && basename(&target) != info.name {
            return Err(Errno::EXDEV);
        }
        info.symlink_target = None;
        info.path = Some(target.clone());
        info.file_type = FileType::Invalid;
        let mut taken = std::mem::take(&mut ctx.infos[i]);
        let before = taken.also.len();
        let r = self.load_or_readlink(&mut taken, &target, flags);
        let also: Vec<String> = taken.also[before..].to_vec();
        ctx.infos[i] = taken;
        for name in also {
            ctx.add(Some(&name), None, true)?;
        }
        r
    }

    /// install_info_traverse(): search `start` and follow its symlinks; the entry reached.
    pub(super) fn traverse(
        &mut self,
        ctx: &mut Context,
        start: usize,
        flags: Search,
    ) -> Result<usize, Errno> {
        self.search_in(ctx, start, flags)?;
        let mut i = start;
        let mut hops = 0;
        while matches!(ctx.infos[i].file_type, FileType::Alias | FileType::Linked) {
            hops += 1;
            if hops > FOLLOW_MAX {
                return Err(Errno::ELOOP);
            }
            if !flags.follow_config
                && ctx.infos[i]
                    .path
                    .as_deref()
                    .is_some_and(|p| self.lp.path_is_config(p))
            {
                return Err(Errno::ELOOP);
            }
            let linked = ctx.infos[i].file_type == FileType::Linked;
            let r = self.follow(ctx, i, flags, linked);
            if r == Err(Errno::EXDEV)
                && let Some(target) = ctx.infos[i].symlink_target.clone()
            {
                let mut bn = basename(&target);
                let name = ctx.infos[i].name.clone();
                if let (Some(inst), true) = (
                    instance_of(&name),
                    UnitName::parse(&bn).is_ok_and(|n| n.is_template()),
                ) {
                    let buffer = replace_instance(&bn, &inst)?;
                    if buffer == name {
                        // The instance filled in gives the same name: honour the link as is.
                        self.follow(ctx, i, flags, true)?;
                        continue;
                    }
                    bn = buffer;
                }
                i = ctx.add(Some(&bn), None, false)?;
                match self.search_in(ctx, i, flags) {
                    Err(Errno::ENOENT) => return Err(Errno::ENOLINK),
                    other => other?,
                };
                continue;
            }
            r?;
        }
        Ok(i)
    }

    /// install_info_discover(): add `name_or_path` to `ctx` and traverse it; a failure is
    /// recorded in `changes` (when given).
    pub(super) fn discover(
        &mut self,
        ctx: &mut Context,
        name_or_path: &str,
        flags: Search,
        changes: Option<&mut Vec<Change>>,
    ) -> Result<usize, Errno> {
        let added = if name_or_path.starts_with('/') {
            let path = self.lp.prefixed(Path::new(name_or_path));
            ctx.add(None, Some(path), false)
        } else {
            ctx.add(Some(name_or_path), None, false)
        };
        let r = added.and_then(|i| self.traverse(ctx, i, flags));
        if let (Err(e), Some(changes)) = (r, changes) {
            changes.push(Change::new(ChangeKind::Failed(e), name_or_path, None));
        }
        r
    }

    /// install_info_may_process(): masked, generated and transient units are not touched.
    pub(super) fn may_process(
        &self,
        info: &InstallInfo,
        changes: Option<&mut Vec<Change>>,
    ) -> Result<(), Errno> {
        let path = info.path.as_deref().unwrap_or(Path::new(""));
        let e = if info.file_type == FileType::Masked {
            Errno::ERFKILL
        } else if self.lp.path_is_generator(path) || self.lp.path_is_transient(path) {
            Errno::EADDRNOTAVAIL
        } else {
            return Ok(());
        };
        if let Some(changes) = changes {
            changes.push(Change::new(
                ChangeKind::Failed(e),
                info.path_or_name(),
                None,
            ));
        }
        Err(e)
    }

    /// install_info_discover_and_check().
    pub(super) fn discover_and_check(
        &mut self,
        ctx: &mut Context,
        name_or_path: &str,
        flags: Search,
        changes: &mut Vec<Change>,
    ) -> Result<usize, Errno> {
        let i = self.discover(ctx, name_or_path, flags, Some(changes))?;
        self.may_process(&ctx.infos[i], Some(changes))?;
        Ok(i)
    }

    /// unit_file_exists(): the name can be found (an error other than "not found" is
    /// returned as is).
    pub(super) fn exists(&mut self, name: &str) -> Result<bool, Errno> {
        let mut ctx = Context::default();
        match self.discover(&mut ctx, name, NONE, None) {
            Ok(_) => Ok(true),
            Err(Errno::ENOENT) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            replace_instance("foo@.service", "bar").unwrap(),
            "foo@bar.service"
        );
        assert_eq!(instance_of("foo@bar.service").as_deref(), Some("bar"));
        assert_eq!(instance_of("foo@.service"), None);
        assert_eq!(
            template_of("foo@bar.service").as_deref(),
            Some("foo@.service")
        );
    }
}
