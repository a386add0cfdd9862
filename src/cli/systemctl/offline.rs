//! systemctl without a running bosun (or with `--root=DIR`): the unit file verbs on the file
//! system, printing what systemd 252's systemctl prints in the same situation — to the word,
//! on the same stream, with the same exit code. Verbs that need a running manager say that
//! the system was not booted with bosun and exit 1, as systemd's systemctl does in a
//! container build. The file work is [`crate::unit::install`]; this file only prints.

use std::io::Write;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use super::args::{Invocation, UnitArg, Verb};
use super::glyph;
use crate::unit::glob::fnmatch;
use crate::unit::install::{
    Change, ChangeKind, FileState, InstallFlags, Installer, LookupPaths, paths, strerror,
};
use crate::unit::{Loader, SearchPath, SpecifierContext};
use crate::vocab::exit::Exit;

/// What every verb that needs a running manager prints offline.
pub const NOT_BOOTED: &str =
    "System has not been booted with bosun as init system (PID 1). Can't operate.";

/// Who reports a failed file operation: systemctl itself (offline, install.c's
/// install_changes_dump()), or systemctl relaying the manager's D-Bus error (online,
/// core/dbus-manager.c install_error(): "Failed to enable unit: Unit file x does not exist.",
/// and no changes listed when the call failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voice {
    Offline,
    /// Offline (`--root=/`, as `deb-systemd-helper` runs `systemctl preset`), on the files
    /// of a running bosun, which has the standard targets an image without the systemd
    /// package lacks: a unit linked into one of them is not linked into nothing.
    UnderBosun,
    Online,
}

/// Run `invocation` on the unit files under `root`.
pub fn run(invocation: &Invocation, root: &Path) -> Exit {
    let voice = if super::bosun_running(root) {
        Voice::UnderBosun
    } else {
        Voice::Offline
    };
    run_as(invocation, root, voice)
}

/// Run a unit file verb on the files under `root`, reporting in `voice`'s words.
pub fn run_as(invocation: &Invocation, root: &Path, voice: Voice) -> Exit {
    let mut installer = installer(root);
    match &invocation.verb {
        Verb::Enable
        | Verb::Disable
        | Verb::Reenable
        | Verb::Mask
        | Verb::Unmask
        | Verb::Preset
        | Verb::PresetAll => change_files(invocation, &mut installer, voice, root),
        Verb::IsEnabled => is_enabled(invocation, &mut installer, root),
        Verb::ListUnitFiles => list_unit_files(invocation, &mut installer),
        Verb::GetDefault => get_default(&mut installer),
        Verb::SetDefault => set_default(invocation, &mut installer, voice),
        Verb::Cat => cat(invocation, root),
        // Nothing has loaded the unit files: there is nothing to reload.
        Verb::DaemonReload => Exit::Success,
        Verb::IsSystemRunning => {
            if !invocation.options.quiet {
                println!("offline");
            }
            Exit::Failure
        }
        _ => not_booted(),
    }
}

/// The answer of every runtime verb without a running bosun.
pub fn not_booted() -> Exit {
    eprintln!("{NOT_BOOTED}");
    Exit::Failure
}

/// `$BOSUN_UNIT_PATH`, read as systemd reads `$SYSTEMD_UNIT_PATH`.
fn unit_path_env() -> Option<String> {
    std::env::var("BOSUN_UNIT_PATH")
        .ok()
        .filter(|p| !p.is_empty())
}

fn installer(root: &Path) -> Installer {
    let lp = LookupPaths::system(root, unit_path_env().as_deref());
    let mut installer = Installer::reading_specifiers(lp, root);
    installer.set_arrow(glyph::arrow());
    installer
}

fn stderr_line(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

fn print_warnings(installer: &mut Installer) {
    for w in installer.take_warnings() {
        stderr_line(&w);
    }
}

/// unit_file_dump_changes(): one line per change (only errors with `--quiet`); `Failed to
/// VERB: ERROR.` when the operation failed without a change saying why. Online, a failure is
/// one line, `what` followed by the manager's error.
fn dump(changes: &[Change], verb: &str, result: Result<(), Errno>, quiet: bool, voice: Voice) {
    if let (Voice::Online, Err(e)) = (voice, result) {
        let what = if verb == "set default" {
            "Failed to set default target".to_owned()
        } else {
            format!("Failed to {verb} unit")
        };
        let why = changes
            .iter()
            .find_map(manager_error)
            .unwrap_or_else(|| strerror(e));
        stderr_line(&format!("{what}: {why}"));
        return;
    }
    let mut logged = false;
    for change in changes {
        if change.is_error() {
            logged = true;
        } else if quiet {
            continue;
        }
        stderr_line(&change.message(verb, glyph::arrow()));
    }
    if let (Err(e), false) = (result, logged) {
        stderr_line(&format!("Failed to {verb}: {}.", strerror(e)));
    }
}

/// The manager's message for a failed change (core/dbus-manager.c install_error()).
fn manager_error(change: &Change) -> Option<String> {
    let ChangeKind::Failed(e) = change.kind else {
        return None;
    };
    let path = &change.path;
    let source = change.source.as_deref();
    Some(match (e, source) {
        (Errno::EEXIST, Some(s)) => format!("File {path} already exists and is a symlink to {s}."),
        (Errno::EEXIST, None) => format!("File {path} already exists."),
        (Errno::ERFKILL, _) => format!("Unit file {path} is masked."),
        (Errno::EADDRNOTAVAIL, _) => format!("Unit {path} is transient or generated."),
        (Errno::ETXTBSY, _) => {
            format!("File {path} is under the systemd unit hierarchy already.")
        }
        (Errno::EBADSLT, _) => format!("Invalid specifier in {path}."),
        (Errno::EIDRM, _) => format!("Destination unit {path} is a non-template unit."),
        (Errno::EUCLEAN, _) => format!("\"{path}\" is not a valid unit name."),
        (Errno::ELOOP, _) => {
            format!("Refusing to operate on alias name or linked unit file: {path}")
        }
        (Errno::EXDEV, Some(s)) => format!("Cannot alias {s} as {path}."),
        (Errno::EXDEV, None) => format!("Invalid unit reference {path}."),
        (Errno::ENOENT, _) => format!("Unit file {path} does not exist."),
        (Errno::EUNATCH, _) => format!("Cannot resolve specifiers in {path}."),
        (other, _) => format!("File {path}: {}", strerror(other)),
    })
}

fn texts(units: &[UnitArg]) -> Vec<String> {
    units.iter().map(UnitArg::as_text).collect()
}

/// enable, disable, reenable, mask, unmask, preset.
fn change_files(
    invocation: &Invocation,
    installer: &mut Installer,
    voice: Voice,
    root: &Path,
) -> Exit {
    let o = &invocation.options;
    // install_changes_dump(r, "preset", ...) for preset-all too.
    let verb = match invocation.verb {
        Verb::PresetAll => "preset",
        ref other => other.word(),
    };
    let mut names = texts(&invocation.units);
    let asked = names.len();
    if super::sysv::hand_over(&invocation.verb, root, &mut names, o.quiet).failed {
        return Exit::Failure;
    }
    if asked > 0 && names.is_empty() {
        // Done by the SysV side alone (enable --now included: systemd 252 finishes early).
        return Exit::Success;
    }
    if invocation.verb == Verb::Disable
        && invocation
            .units
            .iter()
            .any(|u| matches!(u, UnitArg::Path(_)))
    {
        names = names
            .iter()
            .map(|n| n.rsplit('/').next().unwrap_or(n).to_owned())
            .collect();
        stderr_line(
            "Warning: Can't execute disable on the unit file path. Proceeding with the unit name.",
        );
    }
    let flags = InstallFlags {
        runtime: o.runtime,
        force: o.force > 0,
        ..InstallFlags::default()
    };
    let mut changes = Vec::new();
    let (result, carries) = match invocation.verb {
        Verb::Enable => split(installer.enable(&names, flags, &mut changes)),
        Verb::Reenable => split(installer.reenable(&names, flags, &mut changes)),
        Verb::Disable => (installer.disable(&names, flags, &mut changes), None),
        Verb::Mask => (installer.mask(&names, flags, &mut changes), None),
        Verb::Unmask => (installer.unmask(&names, flags, &mut changes), None),
        Verb::PresetAll => (
            installer
                .preset_all(o.preset_mode, flags, &mut changes)
                .map(|_| ()),
            None,
        ),
        _ => (
            installer
                .preset(&names, o.preset_mode, flags, &mut changes)
                .map(|_| ()),
            None,
        ),
    };
    print_warnings(installer);
    dump(&changes, verb, result, o.quiet, voice);
    if result.is_err() {
        return Exit::Failure;
    }
    if carries == Some(0) && !o.quiet {
        stderr_line(&no_install_config());
    }
    if o.now && matches!(invocation.verb, Verb::Enable | Verb::Disable | Verb::Mask) {
        // systemctl goes on to start or stop the units, which needs a running manager.
        return not_booted();
    }
    Exit::Success
}

fn split(r: Result<usize, Errno>) -> (Result<(), Errno>, Option<usize>) {
    match r {
        Ok(n) => (Ok(()), Some(n)),
        Err(e) => (Err(e), None),
    }
}

/// The notice `enable` gives for units without `[Install]` rules (systemd 252's wording).
fn no_install_config() -> String {
    let b = glyph::bullet();
    format!(
        "The unit files have no installation config (WantedBy=, RequiredBy=, Also=,\n\
Alias= settings in the [Install] section, and DefaultInstance= for template\n\
units). This means they are not meant to be enabled using systemctl.\n \n\
Possible reasons for having this kind of units are:\n\
{b} A unit may be statically enabled by being symlinked from another unit's\n  .wants/ or .requires/ directory.\n\
{b} A unit's purpose may be to act as a helper for some other unit which has\n  a requirement dependency on it.\n\
{b} A unit may be started when needed via activation (socket, path, timer,\n  D-Bus, udev, scripted systemctl call, ...).\n\
{b} In case of template units, the unit is meant to be enabled with some\n  instance name specified."
    )
}

/// is-enabled: one state per unit; 0 when any counts as enabled; the first unit that cannot
/// be looked up ends the command.
fn is_enabled(invocation: &Invocation, installer: &mut Installer, root: &Path) -> Exit {
    let o = &invocation.options;
    let mut names = texts(&invocation.units);
    let sysv = super::sysv::hand_over(&invocation.verb, root, &mut names, o.quiet);
    if sysv.failed {
        return Exit::Failure;
    }
    let mut enabled = sysv.enabled;
    let mut out = std::io::stdout().lock();
    for name in names {
        let state = installer.state(&name);
        print_warnings(installer);
        let state = match state {
            Ok(s) => s,
            Err(e) => {
                let _ = out.flush();
                stderr_line(&format!(
                    "Failed to get unit file state for {name}: {}",
                    strerror(e)
                ));
                return Exit::Failure;
            }
        };
        enabled |= state.counts_as_enabled();
        if o.quiet {
            continue;
        }
        let _ = writeln!(out, "{state}");
        if o.full {
            match installer.installation_targets(&name, o.runtime) {
                Ok(links) => {
                    for link in links {
                        let _ = writeln!(out, "  {link}");
                    }
                }
                Err(e) => {
                    let _ = out.flush();
                    stderr_line(&format!(
                        "Failed to get file links for {name}: {}",
                        strerror(e)
                    ));
                    return Exit::Failure;
                }
            }
        }
    }
    if enabled {
        Exit::Success
    } else {
        Exit::Failure
    }
}

/// `name`'s unit file state and its preset (`enabled`, `disabled`): what `status` and `show`
/// print as UnitFileState= and UnitFilePreset=. None when the name has no unit file.
pub fn file_state(root: &Path, name: &str) -> Option<(FileState, Option<&'static str>)> {
    let mut installer = installer(root);
    let state = installer.state(name).ok()?;
    let preset = match installer.read_presets().map(|p| p.says_enable(name)) {
        Ok(Ok(true)) => Some("enabled"),
        Ok(Ok(false)) => Some("disabled"),
        _ => None,
    };
    let _ = installer.take_warnings();
    Some((state, preset))
}

/// The suffix list-unit-files sorts and filters by (from the last `.` of the path).
fn suffix(path: &Path) -> String {
    let text = path.to_string_lossy();
    text.rfind('.')
        .map_or(String::new(), |i| text[i..].to_owned())
}

/// list-unit-files: `UNIT FILE  STATE  PRESET`, sorted by type then name; exit 1 when
/// nothing is listed.
fn list_unit_files(invocation: &Invocation, installer: &mut Installer) -> Exit {
    let o = &invocation.options;
    let patterns = texts(&invocation.units);
    let listed = installer.list(&o.states, &patterns);
    print_warnings(installer);
    let mut files = match listed {
        Ok(f) => f,
        Err(e) => {
            stderr_line(&format!("Failed to get unit file list: {}", strerror(e)));
            return Exit::Failure;
        }
    };
    if !o.types.is_empty() {
        files.retain(|(path, _)| {
            let s = suffix(path);
            o.types.iter().any(|t| s == format!(".{t}"))
        });
    }
    files.sort_by(|(a, _), (b, _)| {
        let key = |p: &PathBuf| {
            (
                suffix(p).to_ascii_lowercase(),
                p.file_name()
                    .map(|n| n.to_string_lossy().to_ascii_lowercase())
                    .unwrap_or_default(),
            )
        };
        key(a).cmp(&key(b))
    });
    let mut presets = None;
    let mut rows: Vec<[String; 3]> = Vec::new();
    for (path, state) in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let shows_preset = !matches!(
            state,
            FileState::Alias | FileState::Static | FileState::Generated | FileState::Transient
        );
        let preset = if shows_preset {
            let p = presets.get_or_insert_with(|| installer.read_presets());
            match p.as_ref().map(|p| p.says_enable(&name)) {
                Ok(Ok(true)) => "enabled",
                Ok(Ok(false)) => "disabled",
                _ => "n/a",
            }
        } else {
            "-"
        };
        rows.push([name, state.to_string(), preset.to_owned()]);
    }
    print_warnings(installer);
    let legend = o.show_legend();
    let header = [
        "UNIT FILE".to_owned(),
        "STATE".to_owned(),
        "PRESET".to_owned(),
    ];
    let mut table = String::new();
    let shown: Vec<&[String; 3]> = if legend {
        std::iter::once(&header).chain(rows.iter()).collect()
    } else {
        rows.iter().collect()
    };
    let width = |col: usize| {
        shown
            .iter()
            .map(|r| r[col].chars().count())
            .max()
            .unwrap_or(0)
    };
    let (w0, w1) = (width(0), width(1));
    for row in &shown {
        table.push_str(&format!("{:w0$} {:w1$} {}\n", row[0], row[1], row[2]));
    }
    if legend {
        table.push_str(&format!("\n{} unit files listed.\n", rows.len()));
    }
    print!("{table}");
    if rows.is_empty() {
        Exit::Failure
    } else {
        Exit::Success
    }
}

fn get_default(installer: &mut Installer) -> Exit {
    let found = installer.get_default();
    print_warnings(installer);
    match found {
        Ok(name) => {
            println!("{name}");
            Exit::Success
        }
        Err(e) => {
            stderr_line(&format!("Failed to get default target: {}", strerror(e)));
            Exit::Failure
        }
    }
}

fn set_default(invocation: &Invocation, installer: &mut Installer, voice: Voice) -> Exit {
    let name = texts(&invocation.units)
        .into_iter()
        .next()
        .unwrap_or_default();
    let flags = InstallFlags {
        force: true, // systemctl always replaces the old default.target link
        ..InstallFlags::default()
    };
    let mut changes = Vec::new();
    let result = installer.set_default(&name, flags, &mut changes);
    print_warnings(installer);
    dump(
        &changes,
        "set default",
        result,
        invocation.options.quiet,
        voice,
    );
    if result.is_err() {
        Exit::Failure
    } else {
        Exit::Success
    }
}

/// cat: each unit's file and drop-ins under `# PATH` headers, a blank line between units.
fn cat(invocation: &Invocation, root: &Path) -> Exit {
    let dirs: Vec<PathBuf> = match unit_path_env() {
        Some(text) => {
            let mut dirs: Vec<PathBuf> = text
                .split(':')
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
                .collect();
            if text.ends_with(':') {
                dirs.extend(paths::SEARCH_PATH.iter().map(PathBuf::from));
            }
            dirs
        }
        None => paths::SEARCH_PATH.iter().map(PathBuf::from).collect(),
    };
    let loader = Loader::new(
        SearchPath::new(root, dirs),
        SpecifierContext::from_system(root),
    );
    let mut names = Vec::new();
    for unit in &invocation.units {
        match unit {
            UnitArg::Pattern(p) => {
                let files = loader.unit_files().unwrap_or_default();
                names.extend(
                    files
                        .iter()
                        .map(|f| f.name.to_string())
                        .filter(|n| fnmatch(p, n)),
                );
            }
            other => names.push(other.as_text()),
        }
    }
    let mut failed = false;
    let mut first = true;
    let mut out = std::io::stdout().lock();
    for name in names {
        let loaded = match loader.load(&name) {
            Ok(l) => l,
            Err(crate::unit::LoadError::NotFound { .. }) => {
                let _ = out.flush();
                stderr_line(&format!("No files found for {name}."));
                failed = true;
                continue;
            }
            Err(e) => {
                let _ = out.flush();
                stderr_line(&format!("Failed to read {name}: {e}"));
                failed = true;
                continue;
            }
        };
        if loaded.masked_by.is_some() {
            let _ = writeln!(out, "# Unit {name} is masked.");
            continue;
        }
        if !first {
            let _ = writeln!(out);
        }
        first = false;
        for (i, file) in loaded.sources().enumerate() {
            let text = match std::fs::read(file) {
                Ok(t) => t,
                Err(e) => {
                    let _ = out.flush();
                    stderr_line(&format!("Failed to read \"{}\": {e}", file.display()));
                    failed = true;
                    continue;
                }
            };
            let sep = if i > 0 { "\n" } else { "" };
            let _ = writeln!(out, "{sep}# {}", file.display());
            let text = String::from_utf8_lossy(&text);
            for line in text.lines() {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    if failed { Exit::Failure } else { Exit::Success }
}
