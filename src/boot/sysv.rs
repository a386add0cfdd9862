//! bosun's built-in systemd-sysv-generator: at boot and at each daemon-reload, every
//! executable `/etc/init.d/NAME` without a unit file `NAME.service` of its own (a mask counts
//! as one) becomes a generated `NAME.service` in `/run/systemd/generator.late`, wanted by the
//! targets its `rc[1-5].d/S??NAME` links name, with its `Provides:` aliases as links — the
//! files systemd 252's generator writes, so `systemctl cat/status`, the offline verbs and the
//! loader see them as they see any generated unit. Built in rather than a child process: it
//! only reads a few small files, and images without systemd have no generator binary.
//! Must not start anything nor load units; the scripts' text is read by [`crate::unit::sysv`].

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::unit::sysv::{INIT_D, RUNLEVELS, Script, native_unit_exists};

/// Where the units go (`generator.late`: below every unit file of the system).
pub const OUTPUT: &str = "/run/systemd/generator.late";

/// The scripts under `root` that get a generated unit, their links read, in name order.
pub fn scan(root: &Path) -> Vec<Script> {
    let init_d = root.join(INIT_D.trim_start_matches('/'));
    let Ok(entries) = std::fs::read_dir(&init_d) else {
        return Vec::new();
    };
    let mut files: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    files.sort();
    let mut scripts: Vec<Script> = Vec::new();
    for file in files {
        // stat(), not lstat(): a link to a script is a script.
        let Ok(meta) = std::fs::metadata(init_d.join(&file)) else {
            continue;
        };
        if !meta.is_file() || meta.permissions().mode() & 0o100 == 0 {
            continue;
        }
        // The path PID 1 runs: /etc/init.d/NAME, or under the root bosun was given.
        let script = Script::new(&init_d.join(&file).display().to_string());
        if scripts.iter().any(|s| s.name == script.name) || native_unit_exists(root, &script.name) {
            continue;
        }
        scripts.push(script);
    }
    for (dir, target) in RUNLEVELS {
        let Ok(entries) = std::fs::read_dir(root.join("etc").join(dir)) else {
            continue;
        };
        let mut links: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        links.sort();
        for link in links {
            let Some((b'S', priority, script)) = crate::unit::sysv::rc_link(&link) else {
                continue;
            };
            let name = crate::unit::sysv::unit_name(script);
            if let Some(s) = scripts.iter_mut().find(|s| s.name == name) {
                s.add_start_link(priority, target);
            }
        }
    }
    for s in &mut scripts {
        match std::fs::read(&s.path) {
            Ok(bytes) => s.load(&String::from_utf8_lossy(&bytes)),
            Err(e) => crate::log::warn(format_args!("cannot read {}: {e}", s.path)),
        }
    }
    Script::order_by_priority(&mut scripts);
    scripts
}

/// Write the units of the scripts under `root` into its `generator.late` (emptied already).
pub fn generate(root: &Path) {
    let scripts = scan(root);
    if scripts.is_empty() {
        return;
    }
    let out = root.join(OUTPUT.trim_start_matches('/'));
    if let Err(e) = std::fs::create_dir_all(&out) {
        crate::log::warn(format_args!("cannot create {}: {e}", out.display()));
        return;
    }
    for s in &scripts {
        write(&out, s);
    }
}

fn write(out: &Path, s: &Script) {
    let warn = |what: &Path, e: std::io::Error| {
        crate::log::warn(format_args!(
            "sysv {}: cannot write {}: {e}",
            s.path,
            what.display()
        ));
    };
    crate::log::info(format_args!(
        "SysV service '{}' lacks a native unit file; generated {} for it",
        s.path, s.name
    ));
    let unit = out.join(&s.name);
    // A Provides: alias of an earlier script may hold the name: a real script wins.
    if unit
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
    {
        let _ = std::fs::remove_file(&unit);
    }
    if let Err(e) = std::fs::write(&unit, s.render()) {
        return warn(&unit, e);
    }
    for target in &s.wanted_by {
        let dir = out.join(format!("{target}.wants"));
        let link = dir.join(&s.name);
        let target = Path::new("..").join(&s.name);
        if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| symlink(&target, &link)) {
            warn(&link, e);
        }
    }
    for alias in &s.aliases {
        let link = out.join(alias);
        if let Err(e) = symlink(Path::new(&s.name), &link) {
            warn(&link, e);
        }
    }
}

/// A link, an existing one left as it is (the same target is wanted by rc2.d to rc4.d).
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    match std::os::unix::fs::symlink(target, link) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}
