//! Enablement of SysV init scripts, as systemd 252's systemctl hands it to Debian's
//! `/lib/systemd/systemd-sysv-install` for a `NAME.service` that has an `/etc/init.d/NAME`:
//! `is-enabled` is "an `S??NAME` link in `/etc/rcS.d` or `/etc/rc5.d`"; `enable` and `disable`
//! are update-rc.d's `defaults` (when the script has no `rc?.d` link at all: `S01NAME` in each
//! `Default-Start:` runlevel, `K01NAME` in each `Default-Stop:` one) followed by its
//! `enable`/`disable` (the `S`/`K` letter of the links in the `Default-Start:` runlevels
//! toggled) — done here on the files, under any root, without update-rc.d being installed.
//! The caller prints; this module only reads scripts and changes `rc?.d` links.

use std::path::{Path, PathBuf};

use crate::unit::sysv::{INIT_D, Script};

/// The helper systemctl names in its messages.
pub const SYSV_INSTALL: &str = "/lib/systemd/systemd-sysv-install";

/// Why update-rc.d would stop (its own words, printed after `update-rc.d: error: `).
#[derive(Debug, thiserror::Error)]
pub enum SysvInstallError {
    #[error("cannot find a LSB script for {name}")]
    NoScript { name: String },
    #[error("{name} Default-Start contains no runlevels, aborting.")]
    NoRunlevels { name: String },
    #[error("no runlevel symlinks to modify, aborting!")]
    NoLinks,
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The script behind `unit` (`NAME.service` with `/etc/init.d/NAME` present, any type of file).
pub fn script_for(root: &Path, unit: &str) -> Option<String> {
    let name = unit.strip_suffix(".service")?;
    if name.is_empty() || name.contains('/') {
        return None;
    }
    let path = under(root, INIT_D).join(name);
    path.symlink_metadata().is_ok().then(|| name.to_owned())
}

fn under(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

/// `rc<lvl>.d/[SK][0-9][0-9]NAME` links under `root`, of the levels `lvls` (all when None).
fn links(root: &Path, name: &str, lvls: Option<&[String]>) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(under(root, "/etc")) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let file = e.file_name().into_string().ok()?;
            let lvl = file.strip_prefix("rc")?.strip_suffix(".d")?;
            let wanted = lvl.len() == 1 && lvls.is_none_or(|l| l.iter().any(|x| x == lvl));
            wanted.then(|| e.path())
        })
        .collect();
    dirs.sort();
    let mut found = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.filter_map(Result::ok) {
            let file = e.file_name();
            if file
                .to_str()
                .and_then(crate::unit::sysv::rc_link)
                .is_some_and(|(_, _, script)| script == name)
            {
                found.push(e.path());
            }
        }
    }
    found.sort();
    found
}

/// systemd-sysv-install is-enabled: a start link in rcS.d or rc5.d.
pub fn is_enabled(root: &Path, name: &str) -> bool {
    let lvls = ["S".to_owned(), "5".to_owned()];
    links(root, name, Some(&lvls)).iter().any(|l| {
        l.file_name()
            .is_some_and(|f| f.as_encoded_bytes().first() == Some(&b'S'))
    })
}

/// The LSB header update-rc.d reads: insserv's overrides first, then the script.
fn header(root: &Path, name: &str) -> Result<Script, SysvInstallError> {
    for dir in [
        "/etc/insserv/overrides",
        INIT_D,
        "/usr/share/insserv/overrides",
    ] {
        let path = under(root, dir).join(name);
        match std::fs::read(&path) {
            Ok(bytes) if !bytes.is_empty() => {
                let mut script = Script::new(&path.display().to_string());
                script.load(&String::from_utf8_lossy(&bytes));
                return Ok(script);
            }
            _ => {}
        }
    }
    Err(SysvInstallError::NoScript {
        name: name.to_owned(),
    })
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SysvInstallError + '_ {
    move |source| SysvInstallError::Io {
        path: path.to_owned(),
        source,
    }
}

/// update-rc.d NAME defaults (without insserv): the links, unless it has any already.
fn defaults(root: &Path, name: &str) -> Result<(), SysvInstallError> {
    if !links(root, name, None).is_empty() {
        return Ok(());
    }
    let script = header(root, name)?;
    let target = format!("../init.d/{name}");
    for (letter, lvls) in [('S', &script.default_start), ('K', &script.default_stop)] {
        for lvl in lvls {
            let dir = under(root, &format!("/etc/rc{lvl}.d"));
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            let link = dir.join(format!("{letter}01{name}"));
            match std::os::unix::fs::symlink(&target, &link) {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                    return Err(io(&link)(e));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// update-rc.d NAME enable|disable: the S/K letter of the Default-Start runlevels' links.
fn toggle(
    root: &Path,
    name: &str,
    enable: bool,
    warnings: &mut Vec<String>,
) -> Result<(), SysvInstallError> {
    let script = header(root, name)?;
    if script.default_start.is_empty() {
        return Err(SysvInstallError::NoRunlevels {
            name: name.to_owned(),
        });
    }
    let act = if enable { "enable" } else { "disable" };
    let mut lvls = Vec::new();
    for lvl in &script.default_start {
        if matches!(lvl.as_str(), "S" | "2" | "3" | "4" | "5") {
            lvls.push(lvl.clone());
        } else {
            warnings.push(format!(
                "{act} action will have no effect on runlevel {lvl}"
            ));
        }
    }
    let found = links(root, name, Some(&lvls));
    if found.is_empty() {
        return Err(SysvInstallError::NoLinks);
    }
    let (from, to) = if enable { ("K", "S") } else { ("S", "K") };
    for link in found {
        let Some(file) = link.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        if let Some(rest) = file.strip_prefix(from) {
            let new = link.with_file_name(format!("{to}{rest}"));
            std::fs::rename(&link, &new).map_err(io(&link))?;
        }
    }
    Ok(())
}

/// systemd-sysv-install enable|disable NAME: `defaults`, then the toggle. update-rc.d's
/// warnings (`update-rc.d: warning: ...`) are added to `warnings`, an error or not.
pub fn set_enabled(
    root: &Path,
    name: &str,
    enable: bool,
    warnings: &mut Vec<String>,
) -> Result<(), SysvInstallError> {
    defaults(root, name)?;
    toggle(root, name, enable, warnings)
}

#[cfg(test)]
mod tests;
