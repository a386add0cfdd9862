//! The volume's hooks: the executables an image puts in `HOOKS/PHASE.d/` (and `HOOKS/PHASE` as a
//! single file) for the phases of the volume's life cycle, found and ordered here, with the
//! environment they run with and the log file each phase's run writes in `DATA/.bosun/log/`.
//!
//! Owns the hook [`HookPhase`]s, the order ([`find`]), the variables ([`environment`]) and the log
//! file names ([`create_log`], [`prune_logs`]). Must not spawn or wait for anything: PID 1
//! ([`crate::boot::volume_phase`]) runs the hooks as its children.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The directory of `DATA/.bosun/` that holds the hooks' logs.
pub const LOG_DIR: &str = "log";

/// How many logs of the phases that run at every boot (`boot`, `shutdown`) are kept.
pub const KEEP_ROUTINE_LOGS: usize = 20;

/// When a set of hooks runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookPhase {
    /// Once, after the volume was seeded (the installer).
    FirstBoot,
    /// Once per new image, after its template was merged into the volume.
    Upgrade,
    /// At every boot, after the first-boot or upgrade hooks.
    Boot,
    /// At every orderly shutdown, after the units stopped.
    Shutdown,
}

impl HookPhase {
    /// The name of the phase: `first-boot`, `upgrade`, `boot`, `shutdown` (the hook directory is
    /// this name plus `.d`, `BOSUN_PHASE` is this name).
    pub fn name(self) -> &'static str {
        match self {
            HookPhase::FirstBoot => "first-boot",
            HookPhase::Upgrade => "upgrade",
            HookPhase::Boot => "boot",
            HookPhase::Shutdown => "shutdown",
        }
    }

    /// Whether a failure of this phase's hooks stops the boot and marks the volume as failed
    /// (first-boot and upgrade); the others are reported and the next hook runs.
    pub fn is_life_cycle(self) -> bool {
        matches!(self, HookPhase::FirstBoot | HookPhase::Upgrade)
    }
}

/// One hook to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    /// How it is named in messages and output prefixes: `first-boot.d/10-install`, or
    /// `first-boot` for the single-file hook.
    pub name: String,
    pub path: PathBuf,
}

/// The hooks of one phase, and why some entries of its directory are not among them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Found {
    /// In the order they run.
    pub hooks: Vec<Hook>,
    /// One message per entry that looks like a hook but will not run.
    pub skipped: Vec<String>,
}

/// The hooks of `phase` under `hooks_dir`: the single file `HOOKS/PHASE` first, then every
/// executable in `HOOKS/PHASE.d/` in byte order of their names (run-parts order: `10-a` before
/// `20-b`). Hidden files and editor backups (`~`) are ignored without a word; directories and
/// files without an execute bit are skipped with a message. Symlinks are followed (an image may
/// link a hook to a packaged script).
pub fn find(hooks_dir: &Path, phase: HookPhase) -> Found {
    let mut found = Found::default();
    let single = hooks_dir.join(phase.name());
    if fs::symlink_metadata(&single).is_ok() {
        consider(&mut found, phase.name().to_owned(), single);
    }
    let dir = hooks_dir.join(format!("{}.d", phase.name()));
    let mut names: Vec<OsString> = match fs::read_dir(&dir) {
        Ok(entries) => entries.flatten().map(|e| e.file_name()).collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            found
                .skipped
                .push(format!("{}: cannot list: {e}", dir.display()));
            Vec::new()
        }
    };
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    for name in names {
        let bytes = name.as_bytes();
        if bytes.starts_with(b".") || bytes.ends_with(b"~") {
            continue;
        }
        let label = format!("{}.d/{}", phase.name(), name.to_string_lossy());
        consider(&mut found, label, dir.join(&name));
    }
    found
}

fn consider(found: &mut Found, name: String, path: PathBuf) {
    match fs::metadata(&path) {
        Ok(meta) if meta.is_file() && meta.permissions().mode() & 0o111 != 0 => {
            found.hooks.push(Hook { name, path });
        }
        Ok(meta) if meta.is_file() => found.skipped.push(format!(
            "hook {} is not executable (chmod +x to run it); skipped",
            path.display()
        )),
        Ok(_) => found.skipped.push(format!(
            "hook {} is not a regular file; skipped",
            path.display()
        )),
        Err(e) => found.skipped.push(format!(
            "hook {} cannot be read ({e}); skipped",
            path.display()
        )),
    }
}

/// The variables a hook gets on top of bosun's own environment. `data_dir` is the volume as
/// the hook sees it; `previous` is the build the volume held before this boot (None on the
/// first boot).
pub fn environment(
    phase: HookPhase,
    data_dir: &Path,
    build_id: &str,
    previous: Option<&str>,
) -> Vec<(OsString, OsString)> {
    vec![
        ("BOSUN_PHASE".into(), phase.name().into()),
        ("BOSUN_DATA_DIR".into(), data_dir.as_os_str().to_owned()),
        ("BOSUN_BUILD_ID".into(), build_id.into()),
        (
            "BOSUN_PREVIOUS_BUILD_ID".into(),
            previous.unwrap_or_default().into(),
        ),
    ]
}

/// `20260102T030405Z`: a UTC time that sorts as text and fits in a file name.
pub fn stamp(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let c = crate::vocab::time::civil(i64::try_from(secs).unwrap_or(0));
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// Create the log file of one run of `phase`'s hooks in `log_dir` (made if missing, mode 0700:
/// installers print secrets): `PHASE-TIMESTAMP.log`, or `PHASE-TIMESTAMP-N.log` when a run in
/// the same second already has that name. Never appends to another run's log.
pub fn create_log(
    log_dir: &Path,
    phase: HookPhase,
    time: SystemTime,
) -> io::Result<(PathBuf, File)> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(log_dir)?;
    let base = format!("{}-{}", phase.name(), stamp(time));
    for n in 0..1000 {
        let name = if n == 0 {
            format!("{base}.log")
        } else {
            format!("{base}-{n}.log")
        };
        let path = log_dir.join(name);
        match File::options()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{}: too many logs named {base}", log_dir.display()),
    ))
}

/// Remove the oldest logs of `phase` beyond the newest `keep` (the boot and shutdown hooks run
/// at every boot; the caller never prunes first-boot and upgrade logs).
pub fn prune_logs(log_dir: &Path, phase: HookPhase, keep: usize) {
    let Ok(entries) = fs::read_dir(log_dir) else {
        return;
    };
    let mut logs: Vec<((String, u32), OsString)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name();
            log_order(&name.to_string_lossy(), phase).map(|key| (key, name))
        })
        .collect();
    if logs.len() <= keep {
        return;
    }
    logs.sort();
    let excess = logs.len() - keep;
    for (_, name) in logs.into_iter().take(excess) {
        let _ = fs::remove_file(log_dir.join(name));
    }
}

/// (stamp, N) of a log named by [`create_log`] for `phase`; None for any other file.
fn log_order(name: &str, phase: HookPhase) -> Option<(String, u32)> {
    let rest = name.strip_prefix(phase.name())?.strip_prefix('-')?;
    let stem = rest.strip_suffix(".log")?;
    let (stamp, n) = match stem.split_once('-') {
        Some((stamp, n)) => (stamp, n.parse().ok()?),
        None => (stem, 0),
    };
    (stamp.len() == 16 && stamp.ends_with('Z')).then(|| (stamp.to_owned(), n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("bosun-hooks-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn write(path: &Path, mode: u32) {
        fs::write(path, "#!/bin/sh\n").unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn order_and_skips() {
        let dir = scratch("find");
        fs::create_dir_all(dir.join("first-boot.d/sub")).unwrap();
        write(&dir.join("first-boot"), 0o755);
        write(&dir.join("first-boot.d/20-b"), 0o755);
        write(&dir.join("first-boot.d/10-a"), 0o700);
        write(&dir.join("first-boot.d/9-c"), 0o755);
        write(&dir.join("first-boot.d/15-plain"), 0o644);
        write(&dir.join("first-boot.d/.hidden"), 0o755);
        write(&dir.join("first-boot.d/30-old~"), 0o755);
        std::os::unix::fs::symlink("/nowhere", dir.join("first-boot.d/40-dangling")).unwrap();
        std::os::unix::fs::symlink("10-a", dir.join("first-boot.d/50-link")).unwrap();
        let found = find(&dir, HookPhase::FirstBoot);
        let names: Vec<&str> = found.hooks.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "first-boot",
                "first-boot.d/10-a",
                "first-boot.d/20-b",
                "first-boot.d/50-link",
                "first-boot.d/9-c"
            ]
        );
        assert_eq!(found.skipped.len(), 3, "{:?}", found.skipped);
        assert!(found.skipped[0].contains("15-plain is not executable"));
        assert!(found.skipped[1].contains("40-dangling cannot be read"));
        assert!(found.skipped[2].contains("sub is not a regular file"));
        // Another phase, and a hooks directory that does not exist: nothing, silently.
        assert_eq!(find(&dir, HookPhase::Upgrade), Found::default());
        assert_eq!(find(&dir.join("none"), HookPhase::Boot), Found::default());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn variables() {
        let env = environment(HookPhase::Upgrade, Path::new("/data"), "b2", Some("b1"));
        let get = |k: &str| {
            env.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.to_string_lossy().into_owned())
        };
        assert_eq!(get("BOSUN_PHASE").as_deref(), Some("upgrade"));
        assert_eq!(get("BOSUN_DATA_DIR").as_deref(), Some("/data"));
        assert_eq!(get("BOSUN_BUILD_ID").as_deref(), Some("b2"));
        assert_eq!(get("BOSUN_PREVIOUS_BUILD_ID").as_deref(), Some("b1"));
        let first = environment(HookPhase::FirstBoot, Path::new("/data"), "b1", None);
        assert!(
            first
                .iter()
                .any(|(k, v)| k == "BOSUN_PREVIOUS_BUILD_ID" && v.is_empty())
        );
    }

    #[test]
    fn log_names_and_pruning() {
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_767_323_045);
        assert_eq!(stamp(t), "20260102T030405Z");
        let dir = scratch("logs");
        let log = dir.join("log");
        let (a, _) = create_log(&log, HookPhase::Boot, t).unwrap();
        let (b, _) = create_log(&log, HookPhase::Boot, t).unwrap();
        assert_eq!(a.file_name().unwrap(), "boot-20260102T030405Z.log");
        assert_eq!(b.file_name().unwrap(), "boot-20260102T030405Z-1.log");
        let (first, _) = create_log(&log, HookPhase::FirstBoot, t).unwrap();
        for s in 1..=5 {
            create_log(&log, HookPhase::Boot, t + std::time::Duration::from_secs(s)).unwrap();
        }
        prune_logs(&log, HookPhase::Boot, 3);
        let mut left: Vec<String> = fs::read_dir(&log)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "boot-20260102T030408Z.log",
                "boot-20260102T030409Z.log",
                "boot-20260102T030410Z.log",
                "first-boot-20260102T030405Z.log",
            ],
            "the oldest boot logs go, first-boot's stays"
        );
        assert!(first.exists());
        let mode = fs::metadata(&log).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        fs::remove_dir_all(&dir).unwrap();
    }
}
