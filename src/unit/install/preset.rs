//! Presets (systemd.preset(5)): `*.preset` files from the preset directories, read in file-name
//! order with the first directory winning for one name; each line `enable PATTERN [INSTANCE...]`
//! or `disable PATTERN`; the first rule whose pattern matches decides; no match means enable.
//! `systemctl preset` then enables or disables each unit accordingly.

use nix::errno::Errno;

use super::context::{Context, FOLLOW, LOAD, LOAD_FOLLOW, replace_instance, template_of};
use super::file::{conf_files, words};
use super::{ANY, Change, InstallFlags, Installer, name_is};
use crate::unit::UnitName;
use crate::unit::glob::fnmatch;

/// Which half of a preset to apply (`--preset-mode=`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PresetMode {
    /// Enable and disable.
    #[default]
    Full,
    /// Only enable.
    EnableOnly,
    /// Only disable.
    DisableOnly,
}

impl PresetMode {
    /// `full`, `enable-only`, `disable-only`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "full" => Some(PresetMode::Full),
            "enable-only" => Some(PresetMode::EnableOnly),
            "disable-only" => Some(PresetMode::DisableOnly),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    pattern: String,
    enable: bool,
    instances: Option<Vec<String>>,
}

/// The preset rules of a root, read once.
#[derive(Debug, Clone, Default)]
pub struct Presets {
    rules: Vec<Rule>,
}

impl Presets {
    /// query_presets(): whether `name` is to be enabled and, for an `enable TEMPLATE
    /// INSTANCE...` rule and `with_instances`, the instances to enable.
    fn query(&self, name: &str, with_instances: bool) -> (bool, Option<Vec<String>>) {
        for rule in &self.rules {
            if with_instances && let Some(found) = match_instances(rule, name) {
                return (rule.enable, found);
            }
            if fnmatch(&rule.pattern, name) {
                return (rule.enable, None);
            }
        }
        (true, None)
    }

    /// unit_file_query_preset(): whether the presets say enable `name`.
    pub fn says_enable(&self, name: &str) -> Result<bool, Errno> {
        if !name_is(name, ANY) {
            return Err(Errno::EINVAL);
        }
        Ok(self.query(name, false).0)
    }
}

/// pattern_match_multiple_instances(): `Some(instances)` when the rule names `name`'s template
/// with instances (`Some(None)` when `name` is one of those instances).
fn match_instances(rule: &Rule, name: &str) -> Option<Option<Vec<String>>> {
    let instances = rule.instances.as_ref()?;
    if template_of(name)? != rule.pattern {
        return None;
    }
    if UnitName::parse(name).is_ok_and(|n| n.is_template()) {
        let names = instances
            .iter()
            .map(|i| replace_instance(name, i))
            .collect::<Result<Vec<_>, _>>()
            .ok()?;
        return Some(Some(names));
    }
    let instance = UnitName::parse(name).ok()?.instance()?.to_owned();
    instances.contains(&instance).then_some(None)
}

/// first_word(): the rest of `line` after `word` and whitespace, when `line` starts with it.
fn after_word<'a>(line: &'a str, word: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(word)?;
    if rest.is_empty() {
        return Some(rest);
    }
    if !rest.starts_with([' ', '\t', '\n', '\r']) {
        return None;
    }
    Some(rest.trim_start_matches([' ', '\t', '\n', '\r']))
}

impl Installer {
    /// read_presets(): the rules of every preset file, in order.
    pub fn read_presets(&mut self) -> Result<Presets, Errno> {
        let mut presets = Presets::default();
        for file in conf_files(&self.lp.preset_dirs(), ".preset") {
            let text = match std::fs::read(&file) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(super::paths::errno_of(&e)),
            };
            let text = String::from_utf8_lossy(&text);
            for (n, line) in text.lines().enumerate() {
                let l = line.trim();
                if l.is_empty() || l.starts_with(['#', ';']) {
                    continue;
                }
                let rule = if let Some(param) = after_word(l, "enable") {
                    let mut w = words(param).into_iter();
                    match (w.next(), w.collect::<Vec<_>>()) {
                        (Some(pattern), rest) if rest.is_empty() => Some(Rule {
                            pattern,
                            enable: true,
                            instances: None,
                        }),
                        (Some(pattern), rest)
                            if UnitName::parse(&pattern).is_ok_and(|n| n.is_template()) =>
                        {
                            Some(Rule {
                                pattern,
                                enable: true,
                                instances: Some(rest),
                            })
                        }
                        _ => None,
                    }
                } else {
                    after_word(l, "disable").map(|param| Rule {
                        pattern: param.to_owned(),
                        enable: false,
                        instances: None,
                    })
                };
                match rule {
                    Some(rule) => presets.rules.push(rule),
                    None => self.warn(format!(
                        "{}:{}: Couldn't parse line '{line}'. Ignoring.",
                        file.display(),
                        n + 1
                    )),
                }
            }
        }
        Ok(presets)
    }

    /// preset_prepare_one(): put `name` into the units to enable (`plus`) or disable (`minus`).
    fn preset_prepare(
        &mut self,
        plus: &mut Context,
        minus: &mut Context,
        name: &str,
        presets: &Presets,
        changes: &mut Vec<Change>,
    ) -> Result<(), Errno> {
        if plus.find(name).is_some() || minus.find(name).is_some() {
            return Ok(());
        }
        let mut tmp = Context::default();
        let i = self.discover(&mut tmp, name, FOLLOW, Some(changes))?;
        if tmp.infos[i].name != name {
            return Ok(()); // an alias: its unit decides
        }
        match presets.query(name, true) {
            (true, Some(instances)) => {
                for instance in instances {
                    self.discover_and_check(plus, &instance, LOAD_FOLLOW, changes)?;
                }
            }
            (true, None) => {
                self.discover_and_check(plus, name, LOAD_FOLLOW, changes)?;
            }
            (false, _) => {
                self.discover(minus, name, FOLLOW, Some(changes))?;
            }
        }
        Ok(())
    }

    /// unit_file_preset(): enable or disable each of `names` as the presets say.
    pub fn preset(
        &mut self,
        names: &[String],
        mode: PresetMode,
        flags: InstallFlags,
        changes: &mut Vec<Change>,
    ) -> Result<usize, Errno> {
        let presets = self.read_presets()?;
        let (mut plus, mut minus) = (Context::default(), Context::default());
        for name in names {
            self.preset_prepare(&mut plus, &mut minus, name, &presets, changes)?;
        }
        self.execute_preset(&mut plus, &mut minus, mode, flags, changes)
    }

    /// unit_file_preset_all(): every unit file and link of the search path (in directory
    /// order, as readdir gives them), as the presets say. Units that cannot be preset —
    /// generated, transient, masked, missing, bad — are skipped (their changes say why);
    /// any other failure ends it.
    pub fn preset_all(
        &mut self,
        mode: PresetMode,
        flags: InstallFlags,
        changes: &mut Vec<Change>,
    ) -> Result<usize, Errno> {
        const SKIPPED: [Errno; 11] = [
            Errno::EEXIST,
            Errno::ERFKILL,
            Errno::EADDRNOTAVAIL,
            Errno::ETXTBSY,
            Errno::EBADSLT,
            Errno::EIDRM,
            Errno::EUCLEAN,
            Errno::ELOOP,
            Errno::ENOENT,
            Errno::EUNATCH,
            Errno::EXDEV,
        ];
        let presets = self.read_presets()?;
        let (mut plus, mut minus) = (Context::default(), Context::default());
        for dir in self.lp.search_path.clone() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(super::paths::errno_of(&e)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| super::paths::errno_of(&e))?;
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                let kind = entry.file_type().map_err(|e| super::paths::errno_of(&e))?;
                if UnitName::parse(&name).is_err() || !(kind.is_file() || kind.is_symlink()) {
                    continue;
                }
                match self.preset_prepare(&mut plus, &mut minus, &name, &presets, changes) {
                    Err(e) if !SKIPPED.contains(&e) => return Err(e),
                    _ => {}
                }
            }
        }
        self.execute_preset(&mut plus, &mut minus, mode, flags, changes)
    }

    /// execute_preset(): the links of what presets disable removed, then those of what they
    /// enable made, as `mode` allows.
    fn execute_preset(
        &mut self,
        plus: &mut Context,
        minus: &mut Context,
        mode: PresetMode,
        flags: InstallFlags,
        changes: &mut Vec<Change>,
    ) -> Result<usize, Errno> {
        let config_path = self.config_path(flags);
        let mut r = Ok(0);
        if mode != PresetMode::EnableOnly {
            let mut marks = std::collections::HashSet::new();
            self.mark_for_removal(minus, &mut marks, changes)?;
            r = self.remove_marked(&mut marks, &config_path, false, changes);
        }
        if mode != PresetMode::DisableOnly {
            let apply_flags = InstallFlags {
                ignore_auxiliary_failure: true,
                ..flags
            };
            let q = self.context_apply(plus, apply_flags, &config_path, LOAD, changes);
            if let Ok(n) = r {
                r = q.map(|m| n + m);
            }
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(lines: &[(&str, bool, Option<&[&str]>)]) -> Presets {
        Presets {
            rules: lines
                .iter()
                .map(|(p, e, i)| Rule {
                    pattern: (*p).to_owned(),
                    enable: *e,
                    instances: i.map(|i| i.iter().map(|s| (*s).to_owned()).collect()),
                })
                .collect(),
        }
    }

    #[test]
    fn first_match_wins_default_enable() {
        let p = rules(&[
            ("a.service", true, None),
            ("*", false, None),
            ("b.service", true, None),
        ]);
        assert_eq!(p.says_enable("a.service"), Ok(true));
        assert_eq!(p.says_enable("b.service"), Ok(false));
        assert_eq!(Presets::default().says_enable("x.service"), Ok(true));
    }

    #[test]
    fn template_instances() {
        let p = rules(&[
            ("t@.service", true, Some(&["a", "b"])),
            ("t@*", false, None),
        ]);
        assert_eq!(
            p.query("t@.service", true),
            (
                true,
                Some(vec!["t@a.service".to_owned(), "t@b.service".to_owned()])
            )
        );
        assert_eq!(p.query("t@a.service", true), (true, None));
        assert_eq!(p.query("t@x.service", true), (false, None));
        assert_eq!(after_word("enable  x", "enable"), Some("x"));
        assert_eq!(after_word("enabled x", "enable"), None);
    }
}
