//! The operations that write: enable, disable, reenable, mask, unmask, set-default (and the
//! read-only get-default), with install.c's symlink creation (create_symlink) and removal
//! (remove_marked_symlinks) and the way their results add up.

use std::collections::HashSet;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use super::context::{
    Context, FOLLOW, FileType, LOAD, LOAD_FOLLOW, NONE, Search, instance_of, replace_instance,
    unit_type,
};
use super::file::hidden_or_backup;
use super::paths::{errno_of, normalize};
use super::{ANY, Change, ChangeKind, Forms, InstallFlags, Installer, basename, display, name_is};
use crate::unit::UnitName;

const PLAIN_OR_INSTANCE: Forms = Forms {
    plain: true,
    instance: true,
    template: false,
};
const INSTANCE_OR_TEMPLATE: Forms = Forms {
    plain: false,
    instance: true,
    template: true,
};

/// systemd's `if (r == 0) r = q;`: keep the first non-zero outcome.
fn keep_first(r: &mut Result<usize, Errno>, q: Result<usize, Errno>) {
    if *r == Ok(0) {
        *r = q;
    }
}

/// The set of names and paths whose links are to be removed.
type Marks = HashSet<String>;

impl Installer {
    /// create_symlink(): link `new_path` to `old_path` (a path on this machine; the link
    /// stores it as seen inside the root). 1 when the link exists as wanted afterwards.
    fn create_symlink(
        &self,
        old_path: &Path,
        new_path: &Path,
        force: bool,
        changes: &mut Vec<Change>,
    ) -> Result<usize, Errno> {
        let old = self.lp.skip_root(old_path).unwrap_or(old_path.to_owned());
        let fail = |changes: &mut Vec<Change>, e: Errno, source: Option<String>| {
            changes.push(Change::new(
                ChangeKind::Failed(e),
                display(new_path),
                source,
            ));
            Err(e)
        };
        if let Some(parent) = new_path.parent() {
            let _ = std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(parent);
        }
        match std::os::unix::fs::symlink(&old, new_path) {
            Ok(()) => {
                changes.push(Change::new(
                    ChangeKind::Symlink,
                    display(new_path),
                    Some(display(&old)),
                ));
                return Ok(1);
            }
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return fail(changes, errno_of(&e), None);
            }
            Err(_) => {}
        }
        let dest = match std::fs::read_link(new_path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
                return fail(changes, Errno::EEXIST, None);
            }
            Err(e) => return fail(changes, errno_of(&e), None),
        };
        let dir = new_path.parent().unwrap_or(Path::new("/"));
        if self.symlinks_same(dir, &dest, &old) {
            return Ok(1);
        }
        if !force {
            return fail(changes, Errno::EEXIST, Some(display(&dest)));
        }
        if let Err(e) = symlink_atomic(&old, new_path) {
            return fail(changes, e, None);
        }
        changes.push(Change::new(ChangeKind::Unlink, display(new_path), None));
        changes.push(Change::new(
            ChangeKind::Symlink,
            display(new_path),
            Some(display(&old)),
        ));
        Ok(1)
    }

    /// chroot_symlinks_same(): two link targets (read in `dir`) name the same file.
    fn symlinks_same(&self, dir: &Path, a: &Path, b: &Path) -> bool {
        let place = |p: &Path| {
            if p.is_absolute() {
                normalize(&self.lp.prefixed(p))
            } else {
                normalize(&dir.join(p))
            }
        };
        let (a, b) = (place(a), place(b));
        if a == b {
            return true;
        }
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(&a), std::fs::metadata(&b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }

    /// remove_marked_symlinks(): remove, under `config_path`, every link whose name or target
    /// is marked; repeat while removing a link marks new paths.
    pub(super) fn remove_marked(
        &self,
        marks: &mut Marks,
        config_path: &Path,
        dry_run: bool,
        changes: &mut Vec<Change>,
    ) -> Result<usize, Errno> {
        if marks.is_empty() || !config_path.is_dir() {
            return Ok(0);
        }
        let mut r = Ok(0);
        loop {
            let mut restart = false;
            let q = self.remove_marked_in(
                marks,
                config_path,
                config_path,
                dry_run,
                &mut restart,
                changes,
            );
            keep_first(&mut r, q);
            if !restart {
                return r;
            }
        }
    }

    fn remove_marked_in(
        &self,
        marks: &mut Marks,
        dir: &Path,
        config_path: &Path,
        dry_run: bool,
        restart: &mut bool,
        changes: &mut Vec<Change>,
    ) -> Result<usize, Errno> {
        let mut r = Ok(0);
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(errno_of(&e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| errno_of(&e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if hidden_or_backup(&name) {
                continue;
            }
            let Ok(ft) = entry.file_type() else { continue };
            let p = dir.join(&name);
            if ft.is_dir() {
                let q = self.remove_marked_in(marks, &p, config_path, dry_run, restart, changes);
                if q.is_err() && r == Ok(0) {
                    r = q;
                }
                continue;
            }
            if !ft.is_symlink() || !name_is(&name, ANY) {
                continue;
            }
            let dest = match self.lp.chase_follow(&p) {
                Ok(d) => d,
                Err(Errno::ENOENT) => continue,
                Err(e) => {
                    if r == Ok(0) {
                        r = Err(e);
                    }
                    continue;
                }
            };
            let dest_inside = self.lp.skip_root(&dest).unwrap_or(dest.clone());
            let found = marks.contains(&display(&dest_inside))
                || marks.contains(&display(&dest))
                || marks.contains(&basename(&dest))
                || marks.contains(&name);
            if !found {
                continue;
            }
            if !dry_run {
                if let Err(e) = std::fs::remove_file(&p)
                    && e.kind() != std::io::ErrorKind::NotFound
                {
                    let e = errno_of(&e);
                    if r == Ok(0) {
                        r = Err(e);
                    }
                    changes.push(Change::new(ChangeKind::Failed(e), display(&p), None));
                    continue;
                }
                rmdir_parents(&p, config_path);
            }
            changes.push(Change::new(ChangeKind::Unlink, display(&p), None));
            let inside = self.lp.skip_root(&p).unwrap_or(p.clone());
            if marks.insert(display(&inside)) && !dry_run {
                *restart = true;
            }
        }
        r
    }

    /// install_context_mark_for_removal(): mark every name of `ctx` (and what it leads to).
    pub(super) fn mark_for_removal(
        &mut self,
        ctx: &mut Context,
        marks: &mut Marks,
        changes: &mut Vec<Change>,
    ) -> Result<(), Errno> {
        while let Some(i) = ctx.next() {
            let r = self.traverse(ctx, i, LOAD_FOLLOW);
            let info = &ctx.infos[i];
            let where_ = info
                .path
                .as_deref()
                .map_or_else(|| info.name.clone(), display);
            match r {
                Err(Errno::ENOLINK) => {
                    changes.push(Change::new(ChangeKind::IsDangling, where_, None));
                }
                Err(Errno::ENOENT) if info.auxiliary => {}
                Err(e) => changes.push(Change::new(ChangeKind::Failed(e), where_, None)),
                Ok(_) if info.file_type == FileType::Masked => {
                    changes.push(Change::new(ChangeKind::IsMasked, where_, None));
                    continue;
                }
                Ok(_) if info.file_type != FileType::Regular => continue,
                Ok(_) => {}
            }
            marks.insert(info.name.clone());
        }
        Ok(())
    }

    /// install_context_apply(): create the links of every name in `ctx`. The sum of the
    /// per-unit results: how many units had something to link.
    pub(super) fn context_apply(
        &mut self,
        ctx: &mut Context,
        flags: InstallFlags,
        config_path: &Path,
        search: Search,
        changes: &mut Vec<Change>,
    ) -> Result<usize, Errno> {
        let mut r: Result<usize, Errno> = Ok(0);
        while let Some(i) = ctx.next() {
            if let Err(q) = self.traverse(ctx, i, search) {
                let info = &ctx.infos[i];
                if info.auxiliary {
                    changes.push(Change::new(
                        ChangeKind::AuxiliaryFailed,
                        String::new(),
                        Some(info.name.clone()),
                    ));
                    continue;
                }
                changes.push(Change::new(ChangeKind::Failed(q), info.name.clone(), None));
                return Err(q);
            }
            match ctx.infos[i].file_type {
                FileType::Masked => {
                    let path = ctx.infos[i]
                        .path
                        .as_deref()
                        .map(display)
                        .unwrap_or_default();
                    changes.push(Change::new(ChangeKind::IsMasked, path, None));
                    if let Ok(n) = r {
                        r = Ok(n + 1); // something could have been enabled here
                    }
                    continue;
                }
                FileType::Regular => {}
                _ => continue,
            }
            let q = self.info_apply(ctx, i, flags, config_path, changes);
            if let Ok(n) = r {
                r = q.map(|m| n + m);
            }
        }
        r
    }

    /// install_info_apply(): the links of one regular unit file.
    fn info_apply(
        &mut self,
        ctx: &Context,
        i: usize,
        flags: InstallFlags,
        config_path: &Path,
        changes: &mut Vec<Change>,
    ) -> Result<usize, Errno> {
        let info = ctx.infos[i].clone();
        // A linked unit file gets its own link first; nothing else is made when that fails.
        self.symlink_link(&info, config_path, flags.force, changes)?;
        let mut r = self.symlink_alias(&info, config_path, flags.force, changes);
        for (list, suffix) in [
            (&info.wanted_by, ".wants/"),
            (&info.required_by, ".requires/"),
            (&info.upheld_by, ".upholds/"),
        ] {
            let q = self.symlink_wants(&info, flags, config_path, list, suffix, changes);
            keep_first(&mut r, q);
        }
        r
    }

    fn unit_path(info: &super::context::InstallInfo) -> PathBuf {
        info.path.clone().unwrap_or_default()
    }

    /// install_info_symlink_link(): a unit file outside the search path is linked into it.
    fn symlink_link(
        &self,
        info: &super::context::InstallInfo,
        config_path: &Path,
        force: bool,
        changes: &mut Vec<Change>,
    ) -> Result<usize, Errno> {
        let path = Self::unit_path(info);
        if self.lp.in_search_path(&path) {
            return Ok(0);
        }
        self.create_symlink(&path, &config_path.join(&info.name), force, changes)
    }

    /// install_info_symlink_alias(): the Alias= links.
    fn symlink_alias(
        &mut self,
        info: &super::context::InstallInfo,
        config_path: &Path,
        force: bool,
        changes: &mut Vec<Change>,
    ) -> Result<usize, Errno> {
        let mut r = Ok(0);
        for alias in &info.aliases {
            let dst = match self.printf(&info.name, alias) {
                Ok(d) => d,
                Err(q) => {
                    changes.push(Change::new(ChangeKind::Failed(q), alias.clone(), None));
                    return Err(q);
                }
            };
            let updated = match self.verify_alias(info, &dst, changes) {
                Ok(u) => u,
                Err(Errno::ELOOP) => continue, // an alias to itself: quietly nothing to do
                Err(q) => {
                    if r.is_ok() {
                        r = Err(q);
                    }
                    continue;
                }
            };
            let alias_path = config_path.join(updated.as_deref().unwrap_or(&dst));
            let q = self.create_symlink(&Self::unit_path(info), &alias_path, force, changes);
            if r.is_ok() {
                r = q; // a later failure overrides an earlier success
            }
        }
        r
    }

    /// unit_file_verify_alias(): `dst` is a valid Alias= of `info`; the name with the
    /// instance filled in when it was propagated. A refusal is recorded in `changes`.
    fn verify_alias(
        &mut self,
        info: &super::context::InstallInfo,
        dst: &str,
        changes: &mut Vec<Change>,
    ) -> Result<Option<String>, Errno> {
        let refuse = |changes: &mut Vec<Change>, path: &str, source: Option<&str>| {
            changes.push(Change::new(
                ChangeKind::Failed(Errno::EXDEV),
                path,
                source.map(str::to_owned),
            ));
            Err(Errno::EXDEV)
        };
        if let Some((dir, alias)) = dst.rsplit_once('/') {
            // The legacy form: Alias=foo.target.wants/bar.service.
            let Some(unit) = dir
                .strip_suffix(".wants")
                .or_else(|| dir.strip_suffix(".requires"))
            else {
                return refuse(changes, dst, None);
            };
            let Ok(unit) = UnitName::parse(unit) else {
                return refuse(changes, dst, None);
            };
            if !symlink_name_compatible(alias, &info.name, unit.is_template()) {
                return refuse(changes, dst, Some(&info.name));
            }
            return Ok(None);
        }
        let mut updated = None;
        if UnitName::parse(dst).is_ok_and(|n| n.is_template())
            && let Some(inst) = instance_of(&info.name)
        {
            updated = Some(replace_instance(dst, &inst)?);
        }
        let checked = updated.clone().unwrap_or_else(|| dst.to_owned());
        match self.validate_alias(&checked, &info.name, false) {
            Ok(()) => Ok(updated),
            Err(Errno::ELOOP) => Err(Errno::ELOOP),
            Err(Errno::EINVAL | Errno::EXDEV) => refuse(changes, &checked, Some(&info.name)),
            Err(e) => {
                changes.push(Change::new(
                    ChangeKind::Failed(e),
                    checked,
                    Some(info.name.clone()),
                ));
                Err(e)
            }
        }
    }

    /// install_info_symlink_wants(): the `.wants/`, `.requires/` or `.upholds/` links.
    fn symlink_wants(
        &mut self,
        info: &super::context::InstallInfo,
        flags: InstallFlags,
        config_path: &Path,
        list: &[String],
        suffix: &str,
        changes: &mut Vec<Change>,
    ) -> Result<usize, Errno> {
        if list.is_empty() {
            return Ok(0);
        }
        let (name, valid_dst) = if name_is(&info.name, PLAIN_OR_INSTANCE) {
            (info.name.clone(), ANY)
        } else if let Some(di) = &info.default_instance {
            let buf = replace_instance(&info.name, di)?;
            let mut instance = super::context::InstallInfo::named(&buf);
            self.search(&mut instance, FOLLOW)?;
            if instance.file_type == FileType::Masked {
                let path = instance.path.as_deref().map(display).unwrap_or_default();
                changes.push(Change::new(ChangeKind::Failed(Errno::ERFKILL), path, None));
                return Err(Errno::ERFKILL);
            }
            (buf, ANY)
        } else {
            (info.name.clone(), INSTANCE_OR_TEMPLATE)
        };
        let mut r = Ok(0);
        for entry in list {
            let dst = match self.printf(&info.name, entry) {
                Ok(d) => d,
                Err(q) => {
                    changes.push(Change::new(ChangeKind::Failed(q), entry.clone(), None));
                    if r.is_ok() {
                        r = Err(q);
                    }
                    continue;
                }
            };
            if !name_is(&dst, valid_dst) {
                if flags.ignore_auxiliary_failure {
                    continue;
                }
                if name_is(&dst, ANY) {
                    changes.push(Change::new(
                        ChangeKind::Failed(Errno::EIDRM),
                        dst.clone(),
                        Some(name.clone()),
                    ));
                    r = Err(Errno::EIDRM);
                } else {
                    changes.push(Change::new(ChangeKind::Failed(Errno::EUCLEAN), dst, None));
                    r = Err(Errno::EUCLEAN);
                }
                continue;
            }
            let path = config_path.join(format!("{dst}{suffix}{name}"));
            let q = self.create_symlink(&Self::unit_path(info), &path, true, changes);
            if (q.is_err() && r.is_ok()) || r == Ok(0) {
                r = q;
            }
            // bosun supplies the standard targets itself where systemd ships them as files (an
            // image without systemd has no multi-user.target): a link into one is not dangling.
            let builtin = crate::unit::special::is_special(&dst);
            if !builtin && self.exists(&dst) == Ok(false) {
                changes.push(Change::new(
                    ChangeKind::DestinationNotPresent,
                    dst,
                    Some(display(&Self::unit_path(info))),
                ));
            }
        }
        r
    }

    /// unit_file_enable(): `systemctl enable NAME...`. How many units had links to make (0:
    /// "the unit files have no installation config").
    pub fn enable(
        &mut self,
        names: &[String],
        flags: InstallFlags,
        changes: &mut Vec<Change>,
    ) -> Result<usize, Errno> {
        let config_path = self.config_path(flags);
        let mut ctx = Context::default();
        for name in names {
            self.discover_and_check(&mut ctx, name, LOAD_FOLLOW, changes)?;
        }
        self.context_apply(&mut ctx, flags, &config_path, LOAD, changes)
    }

    /// unit_file_disable(): `systemctl disable NAME...`.
    pub fn disable(
        &mut self,
        names: &[String],
        flags: InstallFlags,
        changes: &mut Vec<Change>,
    ) -> Result<(), Errno> {
        let config_path = self.config_path(flags);
        let mut ctx = Context::default();
        for name in names {
            if !name_is(name, ANY) {
                return Err(Errno::EINVAL);
            }
            ctx.add(Some(name), None, false)?;
        }
        let mut marks = Marks::new();
        self.mark_for_removal(&mut ctx, &mut marks, changes)?;
        self.remove_marked(&mut marks, &config_path, flags.dry_run, changes)
            .map(|_| ())
    }

    /// unit_file_reenable(): disable by file name, then enable by the names as given.
    pub fn reenable(
        &mut self,
        names: &[String],
        flags: InstallFlags,
        changes: &mut Vec<Change>,
    ) -> Result<usize, Errno> {
        let bases: Vec<String> = names
            .iter()
            .map(|n| n.rsplit('/').next().unwrap_or(n).to_owned())
            .collect();
        self.disable(&bases, flags, changes)?;
        self.enable(names, flags, changes)
    }

    /// unit_file_mask(): link each name to `/dev/null`.
    pub fn mask(
        &mut self,
        names: &[String],
        flags: InstallFlags,
        changes: &mut Vec<Change>,
    ) -> Result<(), Errno> {
        let config_path = self.config_path(flags);
        let mut r = Ok(());
        for name in names {
            if !name_is(name, ANY) {
                if r.is_ok() {
                    r = Err(Errno::EINVAL);
                }
                continue;
            }
            let q = self.create_symlink(
                Path::new("/dev/null"),
                &config_path.join(name),
                flags.force,
                changes,
            );
            if let (Err(e), true) = (q, r.is_ok()) {
                r = Err(e);
            }
        }
        r
    }

    /// unit_file_unmask(): remove the masks of each name (and links to them).
    pub fn unmask(
        &mut self,
        names: &[String],
        flags: InstallFlags,
        changes: &mut Vec<Change>,
    ) -> Result<(), Errno> {
        let config_path = self.config_path(flags);
        let mut todo: Vec<&String> = Vec::new();
        for name in names {
            if !name_is(name, ANY) {
                return Err(Errno::EINVAL);
            }
            // null_or_empty_path() follows the link on this machine, as systemd does.
            match std::fs::metadata(config_path.join(name)) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(errno_of(&e)),
                Ok(m) if !super::paths::null_or_empty(&m) => continue,
                Ok(_) => {}
            }
            if !todo.contains(&name) {
                todo.push(name);
            }
        }
        let mut r = Ok(());
        let mut marks = Marks::new();
        for name in todo {
            let path = config_path.join(name);
            if !flags.dry_run
                && let Err(e) = std::fs::remove_file(&path)
            {
                if e.kind() != std::io::ErrorKind::NotFound {
                    let e = errno_of(&e);
                    if r.is_ok() {
                        r = Err(e);
                    }
                    changes.push(Change::new(ChangeKind::Failed(e), display(&path), None));
                }
                continue;
            }
            changes.push(Change::new(ChangeKind::Unlink, display(&path), None));
            let inside = self.lp.skip_root(&path).unwrap_or(path.clone());
            marks.insert(display(&inside));
        }
        let q = self.remove_marked(&mut marks, &config_path, flags.dry_run, changes);
        match (r, q) {
            (Ok(()), Err(e)) => Err(e),
            (r, _) => r,
        }
    }

    /// unit_file_set_default(): link `default.target` to the target `name`.
    pub fn set_default(
        &mut self,
        name: &str,
        flags: InstallFlags,
        changes: &mut Vec<Change>,
    ) -> Result<(), Errno> {
        if unit_type(name) != "target" || !name_is(name, ANY) || name == "default.target" {
            return Err(Errno::EINVAL);
        }
        let mut ctx = Context::default();
        let i = self.discover_and_check(&mut ctx, name, NONE, changes)?;
        let path = Self::unit_path(&ctx.infos[i]);
        let new_path = self.lp.persistent_config.join("default.target");
        self.create_symlink(&path, &new_path, flags.force, changes)
            .map(|_| ())
    }

    /// unit_file_get_default(): the unit `default.target` leads to.
    pub fn get_default(&mut self) -> Result<String, Errno> {
        let mut ctx = Context::default();
        let i = self.discover(&mut ctx, "default.target", FOLLOW, None)?;
        self.may_process(&ctx.infos[i], None)?;
        Ok(ctx.infos[i].name.clone())
    }

    /// The links a dry-run `disable` of `name` would remove (for `is-enabled --full`).
    pub fn installation_targets(
        &mut self,
        name: &str,
        runtime: bool,
    ) -> Result<Vec<String>, Errno> {
        let mut changes = Vec::new();
        let flags = InstallFlags {
            runtime,
            dry_run: true,
            ..InstallFlags::default()
        };
        self.disable(&[name.to_owned()], flags, &mut changes)?;
        Ok(changes
            .into_iter()
            .filter(|c| c.kind == ChangeKind::Unlink)
            .map(|c| c.path)
            .collect())
    }
}

/// unit_symlink_name_compatible(): `symlink` may be a `.wants/` link to `target`.
fn symlink_name_compatible(symlink: &str, target: &str, instance_propagation: bool) -> bool {
    let Ok(s) = UnitName::parse(symlink) else {
        return false;
    };
    if symlink == target && !s.is_template() {
        return true;
    }
    let Some(template) = s.template() else {
        return false;
    };
    let target_is_template = UnitName::parse(target).is_ok_and(|t| t.is_template());
    if s.is_instance() && target_is_template && template.as_str() == target {
        return true;
    }
    instance_propagation && s.is_template() && target_is_template && template.as_str() == target
}

/// symlink_atomic(): replace `path` by a link to `target` in one rename.
fn symlink_atomic(target: &Path, path: &Path) -> Result<(), Errno> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|_| Errno::EIO)?;
    let tmp = dir.join(format!(
        ".#{}{}",
        basename(path),
        random
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ));
    std::os::unix::fs::symlink(target, &tmp).map_err(|e| errno_of(&e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        errno_of(&e)
    })
}

/// rmdir_parents(): remove the now empty directories between `path` and `stop`.
fn rmdir_parents(path: &Path, stop: &Path) {
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == stop || !d.starts_with(stop) {
            return;
        }
        if std::fs::remove_dir(d).is_err() {
            return;
        }
        dir = d.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wants_link_names() {
        assert!(symlink_name_compatible("a.service", "a.service", false));
        assert!(symlink_name_compatible("a@x.service", "a@.service", false));
        assert!(!symlink_name_compatible("a@.service", "a@.service", false));
        assert!(symlink_name_compatible("a@.service", "a@.service", true));
        assert!(!symlink_name_compatible("b.service", "a.service", false));
    }
}
