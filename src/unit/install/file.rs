//! Reading a unit file for installation (install.c's unit_file_load and friends): classify a
//! name on disk (regular file, mask, alias inside the search path, link to a file outside it),
//! read `[Install]` from the file and its drop-ins with the specifiers `[Install]` may use, and
//! check alias names. Reads only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use super::context::{
    FileType, InstallInfo, Search, replace_instance, type_may_template, unit_type,
};
use super::paths::{errno_of, null_or_empty};
use super::{ANY, Forms, Installer, basename, name_is, strerror};
use crate::unit::UnitName;
use crate::unit::syntax::parse_ini;

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

impl Installer {
    /// install_name_printf(): the specifiers `[Install]` values may use.
    pub(super) fn printf(&self, info_name: &str, text: &str) -> Result<String, Errno> {
        if !text.contains('%') {
            return Ok(text.to_owned());
        }
        let stem = info_name.rsplit_once('.').map_or(info_name, |(s, _)| s);
        let (prefix, instance) = stem.split_once('@').unwrap_or((stem, ""));
        let spec = self.spec();
        let os = |key: &str| spec.os_release.get(key).cloned().unwrap_or_default();
        crate::unit::specifier::printf(text, |letter| {
            let Some(letter) = letter else {
                return Ok("%".to_owned());
            };
            Ok(match letter {
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
            })
        })
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
    pub(super) fn load_or_readlink(
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
}

/// hidden_or_backup_file(): names systemd skips when reading directories.
pub fn hidden_or_backup(name: &str) -> bool {
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
    fn hidden_and_backup_names() {
        assert!(hidden_or_backup(".x.service"));
        assert!(hidden_or_backup("x.service.dpkg-old"));
        assert!(!hidden_or_backup("x.service"));
    }
}
