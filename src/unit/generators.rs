//! Generators (systemd.generator(7)): small programs that packages ship to turn configuration
//! into units at boot — Debian's postgresql generator makes `postgresql.service` want each
//! cluster's `postgresql@VERSION-NAME.service`. This module finds them and decides which run;
//! PID 1 runs them ([`crate::boot::generator_runner`]) into the three output directories, which join the unit
//! search path ([`super::load::BOOT_UNIT_PATH`]).
//!
//! systemd's own generators (`systemd-*`: fstab, getty, cryptsetup, gpt-auto, ...) describe a
//! machine's disks and consoles, which a container does not have; they are skipped unless named
//! in the policy.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Where generators are, highest precedence first: a name in an earlier directory hides the
/// same name in a later one, and a link to /dev/null there disables it.
pub const GENERATOR_DIRS: [&str; 5] = [
    "/run/systemd/system-generators",
    "/etc/systemd/system-generators",
    "/usr/local/lib/systemd/system-generators",
    "/usr/lib/systemd/system-generators",
    "/lib/systemd/system-generators",
];

/// The output directories a generator gets as its three arguments, in that order.
pub const OUTPUT_DIRS: [&str; 3] = [
    "/run/systemd/generator",
    "/run/systemd/generator.early",
    "/run/systemd/generator.late",
];

/// systemd's generator of units for SysV init scripts, which bosun has built in.
pub const SYSV_GENERATOR: &str = "systemd-sysv-generator";

/// Which generators run (BOSUN_GENERATORS).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Policy {
    /// Every generator but systemd's own (`systemd-*`).
    #[default]
    Auto,
    /// None.
    Off,
    /// Exactly these, by file name (systemd's own too, when named).
    Only(Vec<String>),
}

impl Policy {
    /// `auto`, `off`, or names separated by commas or spaces.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        match text {
            "" | "auto" => Ok(Self::Auto),
            "off" | "none" | "0" | "no" => Ok(Self::Off),
            _ => {
                let names: Vec<String> = text
                    .split([',', ' '])
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned)
                    .collect();
                if let Some(bad) = names.iter().find(|n| n.contains('/')) {
                    return Err(format!("{bad:?}: expected a generator's file name"));
                }
                Ok(Self::Only(names))
            }
        }
    }

    /// bosun's built-in systemd-sysv-generator runs: always but with `off`, or when a list
    /// names it (it then stands for systemd's own, which does not run beside it).
    pub fn runs_builtin_sysv(&self) -> bool {
        match self {
            Self::Auto => true,
            Self::Off => false,
            Self::Only(names) => names.iter().any(|n| n == SYSV_GENERATOR),
        }
    }

    fn allows(&self, name: &str) -> bool {
        match self {
            Self::Auto => !name.starts_with("systemd-"),
            Self::Off => false,
            Self::Only(names) => names.iter().any(|n| n == name),
        }
    }
}

/// A generator to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generator {
    pub name: String,
    /// Its path on this machine (under the root).
    pub path: PathBuf,
}

/// What [`discover`] found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Found {
    /// To run, by name.
    pub run: Vec<Generator>,
    /// Left out by the policy, by name.
    pub skipped: Vec<String>,
    /// Disabled by a link to /dev/null.
    pub masked: Vec<String>,
    /// Not executable: said, not run.
    pub not_executable: Vec<PathBuf>,
}

/// The generators under `root`, each name once (the first directory wins), in name order.
pub fn discover(root: &Path, policy: &Policy) -> Found {
    let mut by_name: BTreeMap<String, PathBuf> = BTreeMap::new();
    for dir in GENERATOR_DIRS {
        let on_disk = root.join(dir.trim_start_matches('/'));
        let Ok(entries) = std::fs::read_dir(&on_disk) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            by_name.entry(name).or_insert_with(|| entry.path());
        }
    }
    let mut found = Found::default();
    for (name, path) in by_name {
        if std::fs::read_link(&path).is_ok_and(|target| target == Path::new("/dev/null")) {
            found.masked.push(name);
        } else if !policy.allows(&name) {
            found.skipped.push(name);
        } else if std::fs::metadata(&path)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        {
            found.run.push(Generator { name, path });
        } else {
            found.not_executable.push(path);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exe(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn the_first_directory_wins_masks_hide_and_systemds_own_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        exe(&root.join("usr/lib/systemd/system-generators/postgresql-generator"));
        exe(&root.join("etc/systemd/system-generators/postgresql-generator"));
        exe(&root.join("usr/lib/systemd/system-generators/systemd-fstab-generator"));
        exe(&root.join("lib/systemd/system-generators/masked-generator"));
        std::os::unix::fs::symlink(
            "/dev/null",
            root.join("etc/systemd/system-generators/masked-generator"),
        )
        .unwrap();
        let plain = root.join("usr/lib/systemd/system-generators/plain");
        std::fs::write(&plain, "").unwrap();

        let found = discover(root, &Policy::Auto);
        assert_eq!(
            found.run,
            [Generator {
                name: "postgresql-generator".into(),
                path: root.join("etc/systemd/system-generators/postgresql-generator"),
            }]
        );
        assert_eq!(found.skipped, ["systemd-fstab-generator"]);
        assert_eq!(found.masked, ["masked-generator"]);
        assert_eq!(found.not_executable, [plain]);

        let only = Policy::parse("systemd-fstab-generator").unwrap();
        let names: Vec<String> = discover(root, &only)
            .run
            .into_iter()
            .map(|g| g.name)
            .collect();
        assert_eq!(names, ["systemd-fstab-generator"]);
        assert!(discover(root, &Policy::Off).run.is_empty());
    }

    #[test]
    fn policies() {
        assert_eq!(Policy::parse("auto").unwrap(), Policy::Auto);
        assert_eq!(Policy::parse(" off ").unwrap(), Policy::Off);
        assert_eq!(
            Policy::parse("a-generator, b").unwrap(),
            Policy::Only(vec!["a-generator".into(), "b".into()])
        );
        assert!(
            Policy::parse("/usr/lib/x")
                .unwrap_err()
                .contains("file name")
        );
    }
}
