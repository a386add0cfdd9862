//! The keys of systemd.exec(5) "Sandboxing" that need a mount namespace: PrivateTmp=,
//! ProtectSystem=, ProtectHome=, ReadWritePaths=, ReadOnlyPaths=, InaccessiblePaths= (and
//! their old names ReadWriteDirectories=, ReadOnlyDirectories=, InaccessibleDirectories=),
//! BindPaths=, BindReadOnlyPaths=, PrivateDevices=, ProtectKernelTunables=, ProtectControlGroups=,
//! ProtectProc=, ProcSubset=, TemporaryFileSystem=, ExecPaths=, NoExecPaths=, PrivateMounts= and
//! MountFlags=, parsed into [`NamespaceSettings`] as systemd 252 reads
//! them (config_parse_namespace_path_strv(), config_parse_bind_paths()): a list that is
//! empty resets, a bad word is warned about with its `path:line` and skipped, the rest of the
//! line applied. Parsing only; the mounts are `service::namespace`'s.

use std::path::{Component, Path, PathBuf};

use super::DiagnosticKind;
use super::apply::{Applier, bool_of, choice};
use super::sandbox::{
    BindPath, NamespaceSettings, Propagation, ProtectHome, ProtectProc, ProtectSystem, SandboxPath,
};

/// `path` if it is absolute and normalised (no `.`, `..` or empty component: systemd's
/// path_is_normalized()), with a repeated or trailing `/` dropped; else why not.
fn absolute(path: &str) -> Result<PathBuf, String> {
    if !path.starts_with('/') {
        return Err(format!("{path:?} is not an absolute path"));
    }
    let normal = path.split('/').all(|c| c != "." && c != "..")
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
    if !normal {
        return Err(format!("{path:?} is not normalized"));
    }
    Ok(Path::new(path).components().collect())
}

/// One word of ReadWritePaths= and the like: `-` and `+` prefixes, in either order.
fn sandbox_path(word: &str) -> Result<SandboxPath, String> {
    let (mut optional, mut host, mut rest) = (false, false, word);
    loop {
        if let Some(r) = rest.strip_prefix('-').filter(|_| !optional) {
            optional = true;
            rest = r;
        } else if let Some(r) = rest.strip_prefix('+').filter(|_| !host) {
            host = true;
            rest = r;
        } else {
            break;
        }
    }
    Ok(SandboxPath {
        path: absolute(rest)?,
        optional,
        host,
    })
}

/// One word of BindPaths=: `[-]SOURCE[:DESTINATION[:OPTIONS]]`, OPTIONS `rbind` or `norbind`.
fn bind_path(word: &str, read_only: bool) -> Result<BindPath, String> {
    let (optional, rest) = match word.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, word),
    };
    let mut parts = rest.splitn(3, ':');
    let source = absolute(parts.next().unwrap_or_default())?;
    let destination = match parts.next() {
        Some(d) => absolute(d)?,
        None => source.clone(),
    };
    let recursive = match parts.next() {
        None | Some("rbind") => true,
        Some("norbind") => false,
        Some(other) => return Err(format!("{other:?} is neither rbind nor norbind")),
    };
    Ok(BindPath {
        source,
        destination,
        optional,
        read_only,
        recursive,
    })
}

/// ProtectSystem=: a boolean, `full` or `strict`.
pub fn parse_protect_system(v: &str) -> Result<ProtectSystem, String> {
    Ok(match v {
        "full" => ProtectSystem::Full,
        "strict" => ProtectSystem::Strict,
        _ => match bool_of(v) {
            Ok(true) => ProtectSystem::Yes,
            Ok(false) => ProtectSystem::No,
            Err(_) => return Err(choice(v, "a boolean, full, strict")),
        },
    })
}

/// ProtectHome=: a boolean, `read-only` or `tmpfs`.
pub fn parse_protect_home(v: &str) -> Result<ProtectHome, String> {
    Ok(match v {
        "read-only" => ProtectHome::ReadOnly,
        "tmpfs" => ProtectHome::Tmpfs,
        _ => match bool_of(v) {
            Ok(true) => ProtectHome::Yes,
            Ok(false) => ProtectHome::No,
            Err(_) => return Err(choice(v, "a boolean, read-only, tmpfs")),
        },
    })
}

impl Applier<'_> {
    /// Apply a mount-namespace key; `Ok(false)` when `key` is not one.
    pub(super) fn sandbox_key(
        &mut self,
        n: &mut NamespaceSettings,
        key: &str,
        v: &str,
    ) -> Result<bool, String> {
        match key {
            "PrivateTmp" => n.private_tmp = !v.is_empty() && bool_of(v)?,
            "ProtectSystem" if v.is_empty() => n.protect_system = ProtectSystem::No,
            "ProtectSystem" => n.protect_system = parse_protect_system(v)?,
            "ProtectHome" if v.is_empty() => n.protect_home = ProtectHome::No,
            "ProtectHome" => n.protect_home = parse_protect_home(v)?,
            "ReadWritePaths" | "ReadWriteDirectories" => self.paths(&mut n.read_write, key, v)?,
            "ReadOnlyPaths" | "ReadOnlyDirectories" => self.paths(&mut n.read_only, key, v)?,
            "InaccessiblePaths" | "InaccessibleDirectories" => {
                self.paths(&mut n.inaccessible, key, v)?;
            }
            "PrivateDevices" => n.private_devices = !v.is_empty() && bool_of(v)?,
            "ProtectKernelTunables" => n.protect_kernel_tunables = !v.is_empty() && bool_of(v)?,
            "ProtectControlGroups" => n.protect_control_groups = !v.is_empty() && bool_of(v)?,
            "ProtectProc" => {
                n.protect_proc = match v {
                    "" | "default" => ProtectProc::Default,
                    "noaccess" => ProtectProc::NoAccess,
                    "invisible" => ProtectProc::Invisible,
                    "ptraceable" => ProtectProc::Ptraceable,
                    _ => return Err(choice(v, "noaccess, invisible, ptraceable, default")),
                };
            }
            "ProcSubset" => {
                n.proc_subset_pid = match v {
                    "" | "all" => false,
                    "pid" => true,
                    _ => return Err(choice(v, "all, pid")),
                };
            }
            "ExecPaths" => self.paths(&mut n.exec, key, v)?,
            "NoExecPaths" => self.paths(&mut n.no_exec, key, v)?,
            "PrivateMounts" => n.private_mounts = !v.is_empty() && bool_of(v)?,
            "MountFlags" => {
                n.mount_flags = match v {
                    "" => None,
                    "shared" => Some(Propagation::Shared),
                    "slave" => Some(Propagation::Slave),
                    "private" => Some(Propagation::Private),
                    _ => return Err(choice(v, "shared, slave, private")),
                };
            }
            "TemporaryFileSystem" => {
                if v.is_empty() {
                    n.temporary.clear();
                }
                for word in self.words(v)? {
                    let (path, options) = word.split_once(':').unwrap_or((&word, ""));
                    match absolute(path) {
                        Ok(p) => n.temporary.push((p, options.to_owned())),
                        Err(e) => self.skip(key, &e),
                    }
                }
            }
            "BindPaths" | "BindReadOnlyPaths" => {
                let read_only = key == "BindReadOnlyPaths";
                if v.is_empty() {
                    n.binds.retain(|b| b.read_only != read_only);
                }
                for word in self.words(v)? {
                    match bind_path(&word, read_only) {
                        Ok(b) => n.binds.push(b),
                        Err(e) => self.skip(key, &e),
                    }
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn paths(&mut self, list: &mut Vec<SandboxPath>, key: &str, v: &str) -> Result<(), String> {
        if v.is_empty() {
            list.clear();
        }
        for word in self.words(v)? {
            match sandbox_path(&word) {
                Ok(p) => list.push(p),
                Err(e) => self.skip(key, &e),
            }
        }
        Ok(())
    }

    /// systemd 252 warns about a bad word and applies the rest of the line.
    fn skip(&mut self, key: &str, why: &str) {
        self.report(
            DiagnosticKind::ValueWarning,
            format!("{key}=: {why}, ignoring"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_in_either_order() {
        let p = sandbox_path("-+/var//lib/x/").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.path, PathBuf::from("/var/lib/x"));
        assert!(p.optional && p.host);
        let p = sandbox_path("+-/x").unwrap_or_else(|e| panic!("{e}"));
        assert!(p.optional && p.host);
        let p = sandbox_path("/x").unwrap_or_else(|e| panic!("{e}"));
        assert!(!p.optional && !p.host);
        assert!(sandbox_path("--/x").is_err());
        assert!(sandbox_path("x").is_err());
        assert!(sandbox_path("/a/../b").is_err());
        assert!(sandbox_path("/a/./b").is_err());
    }

    #[test]
    fn bind_paths() {
        let b = bind_path("-/src:/dst:norbind", true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            b,
            BindPath {
                source: "/src".into(),
                destination: "/dst".into(),
                optional: true,
                read_only: true,
                recursive: false,
            }
        );
        let b = bind_path("/same", false).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(b.destination, PathBuf::from("/same"));
        assert!(b.recursive);
        assert!(bind_path("/a:/b:bogus", false).is_err());
        assert!(bind_path("/a:rel", false).is_err());
    }

    #[test]
    fn protect_values() {
        assert_eq!(parse_protect_system("strict"), Ok(ProtectSystem::Strict));
        assert_eq!(parse_protect_system("yes"), Ok(ProtectSystem::Yes));
        assert_eq!(parse_protect_system("off"), Ok(ProtectSystem::No));
        assert!(parse_protect_system("stricter").is_err());
        assert_eq!(parse_protect_home("read-only"), Ok(ProtectHome::ReadOnly));
        assert_eq!(parse_protect_home("tmpfs"), Ok(ProtectHome::Tmpfs));
        assert_eq!(parse_protect_home("1"), Ok(ProtectHome::Yes));
        assert!(parse_protect_home("readonly").is_err());
    }
}
