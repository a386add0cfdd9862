//! The keys of `[Path]` (systemd.path(5), load-fragment.c config_parse_path_spec() and
//! config_parse_trigger_unit() of systemd 252): the watched paths, Unit=, MakeDirectory=,
//! DirectoryMode= and the trigger limit. Parsing only: the engine watches the paths
//! (`manager/engine/path.rs`). No I/O.

use std::path::PathBuf;

use super::apply::{Applier, Outcome, bool_of, opt, parse_u32};
use super::model::{PathCondition, PathSection, PathSpec};
use super::name::UnitName;
use super::value;

impl Applier<'_> {
    pub(super) fn path_key(&mut self, p: &mut PathSection, key: &str, v: &str) -> Outcome {
        if let Some(condition) = PathCondition::from_key(key) {
            // An empty assignment clears every path of the unit, whatever its condition.
            if v.is_empty() {
                p.specs.clear();
                return Ok(());
            }
            let Some(text) = self.x(v) else { return Ok(()) };
            let path = simplify(&text)?;
            p.specs.push(PathSpec { condition, path });
            return Ok(());
        }
        match key {
            "Unit" => p.unit = self.trigger_unit(v, "path", "a path unit")?,
            "MakeDirectory" => p.make_directory = bool_of(v)?,
            "DirectoryMode" => p.directory_mode = opt(v, value::parse_mode)?,
            "TriggerLimitIntervalSec" => p.trigger_limit_interval = opt(v, value::parse_timespan)?,
            "TriggerLimitBurst" => p.trigger_limit_burst = opt(v, parse_u32)?,
            _ => {}
        }
        Ok(())
    }

    /// Unit= of a timer or path unit (config_parse_trigger_unit()): the name of a unit of
    /// another type than `own` (`what` in the message), not a template; empty resets it.
    pub(super) fn trigger_unit(
        &mut self,
        v: &str,
        own: &str,
        what: &str,
    ) -> Result<Option<UnitName>, String> {
        let Some(n) = self.text(v) else {
            return Ok(None);
        };
        let n = UnitName::parse(&n).map_err(|e| e.to_string())?;
        if n.unit_type() == own {
            return Err(format!("{n} is {what}; {what} cannot activate {what}"));
        }
        if n.is_template() {
            return Err(format!("{n} is a template; name an instance"));
        }
        Ok(Some(n))
    }
}

/// A watched path as path_simplify_and_warn(PATH_CHECK_ABSOLUTE) accepts it: absolute, then
/// simplified (`//` and `/./` collapsed, a trailing slash dropped), with no `..` component.
pub(super) fn simplify(text: &str) -> Result<PathBuf, String> {
    if !text.starts_with('/') {
        return Err(format!("path is not absolute: {text}"));
    }
    let parts: Vec<&str> = text
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    if parts.contains(&"..") {
        return Err(format!("path is not normalized: {text}"));
    }
    let simple = format!("/{}", parts.join("/"));
    if simple.len() >= 4096 {
        return Err(format!("path is too long ({} bytes)", simple.len()));
    }
    Ok(PathBuf::from(simple))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_simplified_as_systemd_does() {
        assert_eq!(
            simplify("/etc//nut/./ups.conf/").unwrap(),
            PathBuf::from("/etc/nut/ups.conf")
        );
        assert_eq!(simplify("/").unwrap(), PathBuf::from("/"));
        assert_eq!(
            simplify("etc/nut").unwrap_err(),
            "path is not absolute: etc/nut"
        );
        assert_eq!(
            simplify("/etc/../x").unwrap_err(),
            "path is not normalized: /etc/../x"
        );
    }
}
