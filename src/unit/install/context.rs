//! The install context (install.c's `InstallContext` and `UnitFileInstallInfo`): the names an
//! operation still has to process and those it processed, each with what was found on disk; and
//! finding a name on disk (unit_file_search), reading `[Install]` from the file and its
//! drop-ins, and following symlinks (install_info_traverse). Reads only.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use super::paths::{errno_of, null_or_empty};
use super::{ANY, Change, ChangeKind, Forms, Installer, basename, display, name_is, strerror};
use crate::unit::UnitName;
use crate::unit::syntax::parse_ini;

/// How many symlinks a name may lead through (UNIT_FILE_FOLLOW_SYMLINK_MAX).
const FOLLOW_MAX: usize = 64;

/// The sections install.c's parser accepts (only `[Install]` is read).
const SECTIONS: [&str; 13] = [
    "Install",
    "Unit",
    "Automount",
    "Device",
    "Mount",
    "Path",
    "Scope",
    "Service",
    "Slice",
    "Socket",
    "Swap",
    "Target",
    "Timer",
];

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

/// extract_first_word(EXTRACT_UNQUOTE|EXTRACT_RETAIN_ESCAPE) over a whole value: words split
/// on whitespace, quotes removed, backslashes kept.
pub(super) fn words(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                word.push('\\');
                if let Some(n) = chars.next() {
                    word.push(n);
                }
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

/// unit_type_may_alias().
fn type_may_alias(unit_type: &str) -> bool {
    matches!(
        unit_type,
        "service" | "socket" | "target" | "device" | "timer" | "path"
    )
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
    /// install_name_printf(): the specifiers `[Install]` values may use.
    pub(super) fn printf(&self, info_name: &str, text: &str) -> Result<String, Errno> {
        if !text.contains('%') {
            return Ok(text.to_owned());
        }
        let stem = info_name.rsplit_once('.').map_or(info_name, |(s, _)| s);
        let (prefix, instance) = stem.split_once('@').unwrap_or((stem, ""));
        let spec = &self.spec;
        let os = |key: &str| spec.os_release.get(key).cloned().unwrap_or_default();
        let mut out = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            let Some(letter) = chars.next() else {
                out.push('%');
                break;
            };
            let value = match letter {
                '%' => "%".to_owned(),
                'i' => instance.to_owned(),
                'j' => prefix
                    .rsplit_once('-')
                    .map_or(prefix, |(_, last)| last)
                    .to_owned(),
                'n' => info_name.to_owned(),
                'N' => stem.to_owned(),
                'p' => prefix.to_owned(),
                'a' => spec.architecture.clone(),
                'A' => os("IMAGE_VERSION"),
                'b' => spec.boot_id.clone(),
                'B' => os("BUILD_ID"),
                'H' => spec.hostname.clone(),
                'l' => spec
                    .hostname
                    .split('.')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                'm' => spec.machine_id.clone(),
                'M' => os("IMAGE_ID"),
                'o' => os("ID"),
                'v' => spec.kernel_release.clone(),
                'w' => os("VERSION_ID"),
                'W' => os("VARIANT_ID"),
                'g' => spec.group_name.clone(),
                'G' => spec.gid.to_string(),
                'u' => spec.user_name.clone(),
                'U' => spec.uid.to_string(),
                _ => return Err(Errno::EBADSLT),
            };
            out.push_str(&value);
        }
        Ok(out)
    }

    /// Read `[Install]` of `path` into `info` (config_parse with install.c's table). Also=
    /// names are appended to `info.also`; the caller adds them to the context.
    fn parse_install(
        &mut self,
        info: &mut InstallInfo,
        path: &Path,
        text: &[u8],
    ) -> Result<(), Errno> {
        let ini = parse_ini(path, text, &SECTIONS);
        let mut failed = false;
        for d in &ini.diagnostics {
            failed |= d.is_error();
            self.warn(d.to_string());
        }
        if failed {
            return Err(Errno::EBADMSG);
        }
        let ty = unit_type(&info.name).to_owned();
        for a in ini.assignments.iter().filter(|a| a.section == "Install") {
            let at = format!("{}:{}", path.display(), a.line);
            let list = match a.key.as_str() {
                "Alias" if !type_may_alias(&ty) => {
                    self.warn(format!(
                        "{at}: Alias= is not allowed for {ty} units, ignoring."
                    ));
                    continue;
                }
                "Alias" => &mut info.aliases,
                "WantedBy" => &mut info.wanted_by,
                "RequiredBy" => &mut info.required_by,
                "UpheldBy" => &mut info.upheld_by,
                "Also" => {
                    for word in words(&a.value) {
                        match self.printf(&info.name, &word) {
                            Ok(printed) if name_is(&printed, ANY) => info.also.push(printed),
                            Ok(_) => return Err(Errno::EINVAL),
                            Err(e) => {
                                self.warn(format!(
                                    "{at}: Failed to resolve unit name in Also=\"{word}\": {}",
                                    strerror(e)
                                ));
                                return Err(e);
                            }
                        }
                    }
                    continue;
                }
                "DefaultInstance" => {
                    self.default_instance(info, &at, &a.value);
                    continue;
                }
                key if key.starts_with("X-") => continue,
                key => {
                    self.warn(format!(
                        "{at}: Unknown key '{key}' in section [Install], ignoring."
                    ));
                    continue;
                }
            };
            if a.value.is_empty() {
                list.clear();
            } else {
                list.extend(words(&a.value));
            }
        }
        Ok(())
    }

    /// config_parse_default_instance().
    fn default_instance(&mut self, info: &mut InstallInfo, at: &str, value: &str) {
        let forms_instance = Forms {
            plain: false,
            instance: true,
            template: false,
        };
        if name_is(&info.name, forms_instance) {
            return; // an instance enabled from its template: ignored silently
        }
        if !UnitName::parse(&info.name).is_ok_and(|n| n.is_template()) {
            self.warn(format!(
                "{at}: DefaultInstance= only makes sense for template units, ignoring."
            ));
            return;
        }
        let printed = match self.printf(&info.name, value) {
            Ok(p) => p,
            Err(e) => {
                self.warn(format!(
                    "{at}: Failed to resolve instance name in DefaultInstance=\"{value}\": {}",
                    strerror(e)
                ));
                return;
            }
        };
        if printed.is_empty() {
            info.default_instance = None;
            return;
        }
        if replace_instance(&info.name, &printed).is_err() {
            self.warn(format!(
                "{at}: Invalid DefaultInstance= value \"{printed}\"."
            ));
            return;
        }
        info.default_instance = Some(printed);
    }

    /// unit_file_load(): classify (and with `load`, read) `path` for `info`. Returns how many
    /// Alias=/WantedBy=/RequiredBy= entries the file has.
    fn load_file(
        &mut self,
        info: &mut InstallInfo,
        path: &Path,
        flags: Search,
    ) -> Result<usize, Errno> {
        let meta = if !flags.dropin {
            let ty = unit_type(&info.name);
            let templated =
                UnitName::parse(&info.name).is_ok_and(|n| n.is_template() || n.is_instance());
            if templated && !type_may_template(ty) {
                self.warn(format!(
                    "{}: unit type {ty} cannot be templated, ignoring.",
                    path.display()
                ));
                return Err(Errno::EINVAL);
            }
            let meta = std::fs::symlink_metadata(path).map_err(|e| errno_of(&e))?;
            if meta.file_type().is_symlink() {
                return Err(Errno::ELOOP); // lstat, or open(O_NOFOLLOW)
            }
            if !flags.load {
                info.file_type = if null_or_empty(&meta) {
                    FileType::Masked
                } else if meta.is_file() {
                    FileType::Regular
                } else if meta.is_dir() {
                    return Err(Errno::EISDIR);
                } else {
                    return Err(Errno::ENOTTY);
                };
                return Ok(0);
            }
            meta
        } else {
            if !flags.load {
                return Ok(0);
            }
            let real = self.lp.chase_follow(path)?;
            std::fs::metadata(real).map_err(|e| errno_of(&e))?
        };
        if null_or_empty(&meta) {
            if !flags.dropin {
                info.file_type = FileType::Masked;
            }
            return Ok(0);
        }
        if meta.is_dir() {
            return Err(Errno::EISDIR);
        }
        if !meta.is_file() {
            return Err(Errno::EBADFD);
        }
        let readable = if flags.dropin {
            self.lp.chase_follow(path)?
        } else {
            path.to_owned()
        };
        let text = std::fs::read(&readable).map_err(|e| errno_of(&e))?;
        self.parse_install(info, path, &text)?;
        if !flags.dropin {
            info.file_type = FileType::Regular;
        }
        Ok(info.aliases.len() + info.wanted_by.len() + info.required_by.len())
    }

    /// unit_file_load_or_readlink(): load `path`, or when it is a symlink, classify the link.
    fn load_or_readlink(
        &mut self,
        info: &mut InstallInfo,
        path: &Path,
        flags: Search,
    ) -> Result<usize, Errno> {
        let r = self.load_file(info, path, flags);
        if r != Err(Errno::ELOOP) || flags.dropin {
            return r;
        }
        let (target, linked) = self.resolve_symlink(path)?;
        match self.lp.null_or_empty(&target) {
            Err(e) if e != Errno::ENOENT => return Err(e),
            Ok(true) => {
                info.file_type = FileType::Masked;
                return Ok(0);
            }
            _ => {}
        }
        info.symlink_target = Some(target);
        info.file_type = if linked {
            FileType::Linked
        } else {
            FileType::Alias
        };
        Ok(0)
    }

    /// unit_file_resolve_symlink() for installation: the link's final target (under the
    /// root) and whether it leaves the search path (a linked unit file rather than an alias).
    fn resolve_symlink(&mut self, path: &Path) -> Result<(PathBuf, bool), Errno> {
        let dir = path.parent().unwrap_or(Path::new("/"));
        let filename = basename(path);
        let target = std::fs::read_link(path).map_err(|e| {
            let e = errno_of(&e);
            self.warn(format!(
                "Failed to read symlink {}: {}",
                path.display(),
                strerror(e)
            ));
            e
        })?;
        let target = if target.is_absolute() {
            self.lp.prefixed(&target)
        } else {
            dir.join(target)
        };
        let simplified = match self.lp.chase_nofollow(&target) {
            Ok(s) => s,
            Err(e) => {
                self.warn(format!(
                    "Failed to resolve symlink {}/{filename} pointing to {}: {}",
                    dir.display(),
                    target.display(),
                    strerror(e)
                ));
                return Err(e);
            }
        };
        let tail = self
            .lp
            .search_path
            .iter()
            .find_map(|s| simplified.strip_prefix(s).ok().map(Path::to_owned));
        let Some(tail) = tail else {
            return Ok((simplified, true));
        };
        self.validate_alias(&filename, &basename(&simplified), true)?;
        if tail.components().count() > 1 {
            self.warn(format!(
                "Suspicious symlink {}/{filename} {} {}, treating as alias.",
                dir.display(),
                self.arrow,
                simplified.display()
            ));
        }
        Ok((simplified, false))
    }

    /// unit_validate_alias_symlink_or_warn(): `src` may be a symlink to `dst`.
    pub(super) fn validate_alias(
        &mut self,
        src: &str,
        dst: &str,
        notice: bool,
    ) -> Result<(), Errno> {
        let complain = |me: &mut Self, e: Errno, text: String| {
            if notice {
                me.warn(text);
            }
            Err(e)
        };
        let Ok(s) = UnitName::parse(src) else {
            return complain(
                self,
                Errno::EINVAL,
                format!("{src}: not a valid unit name \"{src}\": Invalid argument"),
            );
        };
        if !type_may_alias(s.unit_type()) {
            return complain(
                self,
                Errno::EINVAL,
                format!("{src}: symlinks are not allowed for units of this type, rejecting."),
            );
        }
        if s.instance().is_some() && !type_may_template(s.unit_type()) {
            return complain(
                self,
                Errno::EINVAL,
                format!(
                    "{src}: templates not allowed for {} units, rejecting.",
                    s.unit_type()
                ),
            );
        }
        if src == dst {
            return Err(Errno::ELOOP); // a self-alias: debug level in systemd
        }
        let Ok(d) = UnitName::parse(dst) else {
            return complain(
                self,
                Errno::EXDEV,
                format!(
                    "{src} points to \"{dst}\" which is not a valid unit name: Invalid argument"
                ),
            );
        };
        let form = |n: &UnitName| (n.is_template(), n.is_instance());
        let compatible = form(&s) == form(&d) || (s.is_instance() && d.is_template());
        if !compatible {
            return complain(
                self,
                Errno::EXDEV,
                format!(
                    "{src}: symlink target name type \"{dst}\" does not match source, rejecting."
                ),
            );
        }
        if d.is_instance() && s.instance() != d.instance() {
            return complain(
                self,
                Errno::EXDEV,
                format!(
                    "{src}: unit symlink target \"{dst}\" instance name doesn't match, rejecting."
                ),
            );
        }
        if s.unit_type() != d.unit_type() {
            return complain(
                self,
                Errno::EXDEV,
                format!("{src}: symlink target \"{dst}\" has incompatible suffix, rejecting."),
            );
        }
        Ok(())
    }

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

/// hidden_or_backup_file(): names systemd skips when reading directories.
pub(super) fn hidden_or_backup(name: &str) -> bool {
    const SUFFIXES: [&str; 19] = [
        "~",
        ".rpmnew",
        ".rpmsave",
        ".rpmorig",
        ".dpkg-old",
        ".dpkg-new",
        ".dpkg-tmp",
        ".dpkg-dist",
        ".dpkg-bak",
        ".dpkg-backup",
        ".dpkg-remove",
        ".ucf-new",
        ".ucf-old",
        ".ucf-dist",
        ".swp",
        ".bak",
        ".old",
        ".new",
        ".#",
    ];
    name.starts_with('.') || SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// conf_files_list_strv(): the files ending in `suffix` in `dirs`, the first directory
/// winning for one file name, sorted by file name.
pub(super) fn conf_files(dirs: &[PathBuf], suffix: &str) -> Vec<PathBuf> {
    let mut by_name: BTreeMap<String, PathBuf> = BTreeMap::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if hidden_or_backup(&name) || !name.ends_with(suffix) {
                continue;
            }
            let is_file_or_link = entry
                .file_type()
                .is_ok_and(|t| t.is_file() || t.is_symlink());
            if !is_file_or_link || by_name.contains_key(&name) {
                continue;
            }
            by_name.insert(name, entry.path());
        }
    }
    by_name.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_like_extract_first_word() {
        assert_eq!(words("a.service  b.service"), ["a.service", "b.service"]);
        assert_eq!(words("\"a b\" c"), ["a b", "c"]);
        assert_eq!(words("x\\x2d.service"), ["x\\x2d.service"]);
        assert!(words("  ").is_empty());
    }

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
        assert!(hidden_or_backup(".x.service"));
        assert!(hidden_or_backup("x.service.dpkg-old"));
        assert!(!hidden_or_backup("x.service"));
    }
}
