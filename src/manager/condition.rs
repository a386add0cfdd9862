//! Condition*= and Assert*= of systemd.unit(5), evaluated as systemd does: every plain check must
//! hold, and when any triggering (`|`) checks exist, at least one of them must; `!` negates one
//! check. Facts about the system come from [`System`] (detected once, or set by tests), paths
//! are looked up under its root. A check whose argument cannot be read fails that check, and
//! the reason is kept for `systemctl status`.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::unit::model::Condition;

/// What the checks need to know about the system.
#[derive(Debug, Clone, Default)]
pub struct System {
    /// Filesystem root the paths of checks are relative to.
    pub root: PathBuf,
    /// The manager's environment (ConditionEnvironment=).
    pub environment: Vec<(String, String)>,
    pub hostname: String,
    pub machine_id: String,
    /// systemd's architecture name (`x86-64`, `arm64`, ...).
    pub architecture: String,
    pub kernel_release: String,
    pub kernel_cmdline: Vec<String>,
    pub cpus: u64,
    pub memory_bytes: u64,
    /// /etc/os-release as key → value.
    pub os_release: Vec<(String, String)>,
    /// The container technology (`docker`, `podman`, `lxc`, ...), `container-other` when only
    /// the fact of a container is known, empty on bare metal.
    pub container: String,
    /// Capabilities in the bounding set, by bit.
    pub capability_bounding: u64,
    pub user: (u32, String),
    pub groups: Vec<(u32, String)>,
    /// Names of available cgroup controllers.
    pub cgroup_controllers: Vec<String>,
    /// CPU flags from /proc/cpuinfo.
    pub cpu_flags: Vec<String>,
    /// Credentials handed to bosun (names in `$CREDENTIALS_DIRECTORY`).
    pub credentials: Vec<String>,
}

/// The result of a unit's checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// The first check that decided the failure, as `ConditionX=value` (with `!`/`|`).
    Fail(String),
}

/// Evaluate `checks` (all conditions, or all asserts, of one unit).
pub fn evaluate(checks: &[Condition], system: &System, prefix: &str) -> Verdict {
    let mut trigger_seen = false;
    let mut trigger_passed = false;
    let mut first_trigger = None;
    for c in checks {
        let ok = check(c, system) != c.negate;
        let text = format!(
            "{prefix}{}={}{}{}",
            c.check,
            if c.trigger { "|" } else { "" },
            if c.negate { "!" } else { "" },
            c.value
        );
        if c.trigger {
            trigger_seen = true;
            trigger_passed |= ok;
            first_trigger.get_or_insert(text);
        } else if !ok {
            return Verdict::Fail(text);
        }
    }
    match first_trigger {
        Some(text) if trigger_seen && !trigger_passed => Verdict::Fail(text),
        _ => Verdict::Pass,
    }
}

/// One check, before negation.
fn check(c: &Condition, s: &System) -> bool {
    let v = c.value.as_str();
    let path = || s.root.join(v.trim_start_matches('/'));
    match c.check.as_str() {
        "PathExists" => fs::symlink_metadata(path()).is_ok() || path().exists(),
        "PathExistsGlob" => !crate::unit::glob::paths(&s.root, v, true).is_empty(),
        "PathIsDirectory" => path().is_dir(),
        "PathIsSymbolicLink" => {
            fs::symlink_metadata(path()).is_ok_and(|m| m.file_type().is_symlink())
        }
        "PathIsMountPoint" => is_mount_point(&path()),
        "PathIsReadWrite" => nix::sys::statvfs::statvfs(&path())
            .is_ok_and(|st| !st.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY)),
        // dm-crypt detection needs the block layer; a container's paths are never on one it can see.
        "PathIsEncrypted" => false,
        "DirectoryNotEmpty" => directory_not_empty(&path()),
        "FileNotEmpty" => fs::metadata(path()).is_ok_and(|m| m.is_file() && m.len() > 0),
        "FileIsExecutable" => {
            fs::metadata(path()).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        }
        "Environment" => match v.split_once('=') {
            Some((k, val)) => s.environment.iter().any(|(ek, ev)| ek == k && ev == val),
            None => s.environment.iter().any(|(ek, _)| ek == v),
        },
        "Host" => glob_match(v, &s.hostname) || v.eq_ignore_ascii_case(&s.machine_id),
        "Virtualization" => virtualization(v, &s.container),
        "Architecture" => v == s.architecture || (v == "native" && !s.architecture.is_empty()),
        "KernelCommandLine" => s.kernel_cmdline.iter().any(|w| {
            w == v || (!v.contains('=') && w.split_once('=').is_some_and(|(k, _)| k == v))
        }),
        "KernelVersion" => version_checks(v, &s.kernel_release),
        "CPUs" => compare_number(v, s.cpus, false),
        "Memory" => compare_number(v, s.memory_bytes, true),
        "OSRelease" => os_release_checks(v, &s.os_release),
        "Capability" => capability_bit(v).is_some_and(|b| s.capability_bounding & (1 << b) != 0),
        "User" => match v {
            "@system" => s.user.0 < 1000,
            _ => v == s.user.1 || v.parse::<u32>().is_ok_and(|u| u == s.user.0),
        },
        "Group" => s
            .groups
            .iter()
            .any(|(gid, name)| v == name || v.parse::<u32>().is_ok_and(|g| g == *gid)),
        "ControlGroupController" => v.split_whitespace().all(|want| match want {
            "v1" => !s.cgroup_controllers.iter().any(|c| c == "unified"),
            "v2" => s.cgroup_controllers.iter().any(|c| c == "unified"),
            _ => s.cgroup_controllers.iter().any(|c| c == want),
        }),
        "CPUFeature" => s.cpu_flags.iter().any(|f| f.eq_ignore_ascii_case(v)),
        "Credential" => s.credentials.iter().any(|c| c == v),
        // No AC information in a container counts as "on AC power", as systemd does without it.
        "ACPower" => crate::unit::value::parse_bool(v).unwrap_or(true),
        "FirstBoot" => {
            let id = fs::read_to_string(s.root.join("etc/machine-id")).unwrap_or_default();
            let first = matches!(id.trim(), "" | "uninitialized");
            crate::unit::value::parse_bool(v).is_ok_and(|want| want == first)
        }
        "NeedsUpdate" => needs_update(&s.root, v),
        "Security" => security(&s.root, v),
        "Firmware" => firmware(&s.root, v),
        "CPUPressure" => pressure(&s.root, "cpu", v),
        "IOPressure" => pressure(&s.root, "io", v),
        "MemoryPressure" => pressure(&s.root, "memory", v),
        // The loader rejects names systemd does not know; anything else would be a bosun bug,
        // and failing the check is the safe side.
        _ => false,
    }
}

fn virtualization(want: &str, container: &str) -> bool {
    match crate::unit::value::parse_bool(want) {
        Ok(b) => b != container.is_empty(),
        Err(_) => match want {
            "container" => !container.is_empty(),
            "vm" => false,
            "private-users" => fs::read_to_string("/proc/self/uid_map").is_ok_and(|m| {
                m.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"]
            }),
            name => name == container,
        },
    }
}

pub use crate::unit::glob::fnmatch as glob_match;

fn is_mount_point(path: &Path) -> bool {
    let (Ok(me), Some(parent)) = (fs::metadata(path), path.parent()) else {
        return false;
    };
    if path == Path::new("/") {
        return true;
    }
    fs::metadata(parent).is_ok_and(|p| p.dev() != me.dev() || p.ino() == me.ino())
}

/// `>=5.10`, `<6`, `=6.1.0`, or a glob without operator, space-separated, all must hold.
fn version_checks(spec: &str, actual: &str) -> bool {
    spec.split_whitespace()
        .all(|item| match split_operator(item) {
            Some((op, want)) => op.holds(compare_versions(actual, want)),
            None => glob_match(item, actual),
        })
}

/// `ID=debian VERSION_ID>=12`: each item compares an os-release field.
fn os_release_checks(spec: &str, fields: &[(String, String)]) -> bool {
    spec.split_whitespace().all(|item| {
        let key_len = item.find(['<', '>', '=', '!']).unwrap_or(item.len());
        let (key, rest) = item.split_at(key_len);
        let actual = fields
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str());
        match split_operator(rest) {
            Some((op, want)) => op.holds(compare_versions(actual, want)),
            None => false,
        }
    })
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Lt,
    Le,
    Eq,
    Ne,
    Ge,
    Gt,
}

impl Op {
    fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Op::Lt => ord == Less,
            Op::Le => ord != Greater,
            Op::Eq => ord == Equal,
            Op::Ne => ord != Equal,
            Op::Ge => ord != Less,
            Op::Gt => ord == Greater,
        }
    }
}

fn split_operator(text: &str) -> Option<(Op, &str)> {
    for (sym, op) in [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("!=", Op::Ne),
        ("=", Op::Eq),
        ("<", Op::Lt),
        (">", Op::Gt),
    ] {
        if let Some(rest) = text.strip_prefix(sym) {
            return Some((op, rest.trim()));
        }
    }
    None
}

/// systemd's version comparison (strverscmp_improved, simplified): numeric runs compare as
/// numbers, other characters as characters.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let split = |s: &str| -> Vec<(bool, String)> {
        let mut parts: Vec<(bool, String)> = Vec::new();
        for c in s.chars() {
            let digit = c.is_ascii_digit();
            match parts.last_mut() {
                Some((d, part)) if *d == digit && (digit || c.is_alphanumeric()) => part.push(c),
                _ => parts.push((digit, c.to_string())),
            }
        }
        parts
    };
    let (pa, pb) = (split(a), split(b));
    for (x, y) in pa.iter().zip(&pb) {
        let ord = match (x, y) {
            ((true, x), (true, y)) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            ((_, x), (_, y)) => x.cmp(y),
        };
        if ord != std::cmp::Ordering::Equal {
            return ord;
        }
    }
    pa.len().cmp(&pb.len())
}

/// `>=2`, `4`, `<8G` (sizes with K/M/G/T suffixes, base 1024, when `sizes`).
fn compare_number(spec: &str, actual: u64, sizes: bool) -> bool {
    let (op, text) = split_operator(spec).unwrap_or((Op::Eq, spec.trim()));
    let value = if sizes {
        match crate::unit::value::parse_size(text) {
            Ok(crate::unit::value::Size::Bytes(n)) => Some(n),
            Ok(crate::unit::value::Size::Infinity) => Some(u64::MAX),
            Err(_) => None,
        }
    } else {
        text.parse::<u64>().ok()
    };
    value.is_some_and(|v| op.holds(actual.cmp(&v)))
}

fn capability_bit(name: &str) -> Option<u32> {
    crate::vocab::capability::from_name(name)
}

/// True when /usr was updated after /etc (or /var) last caught up (`.updated` stamp); never
/// on a read-only file system (an image run with a read-only root), where the update could
/// not be made, as systemd 252's condition_test_needs_update() says.
fn needs_update(root: &Path, which: &str) -> bool {
    let base = root.join(which.trim_start_matches('/'));
    if nix::sys::statvfs::statvfs(&base)
        .is_ok_and(|st| st.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY))
    {
        return false;
    }
    let usr = fs::metadata(root.join("usr")).and_then(|m| m.modified());
    let stamp = fs::metadata(base.join(".updated")).and_then(|m| m.modified());
    // Anything unreadable suggests an update, "rather too many than too few" (systemd).
    match (usr, stamp) {
        (Ok(usr), Ok(stamp)) => usr > stamp,
        _ => true,
    }
}

fn security(root: &Path, what: &str) -> bool {
    let exists = |p: &str| root.join(p).exists();
    match what {
        "selinux" => exists("sys/fs/selinux/enforce"),
        "apparmor" => fs::read_to_string(root.join("sys/module/apparmor/parameters/enabled"))
            .is_ok_and(|v| v.trim() == "Y"),
        "smack" => exists("sys/fs/smackfs"),
        "ima" => exists("sys/kernel/security/ima"),
        "tomoyo" => exists("sys/kernel/security/tomoyo"),
        "audit" => exists("proc/self/loginuid"),
        "uefi-secureboot" => false,
        "tpm2" => exists("sys/class/tpmrm/tpmrm0"),
        _ => false,
    }
}

fn firmware(root: &Path, what: &str) -> bool {
    match what {
        "uefi" => root.join("sys/firmware/efi").exists(),
        "device-tree" => root.join("sys/firmware/devicetree").exists(),
        other => other
            .strip_prefix("device-tree-compatible(")
            .is_some_and(|rest| {
                let want = rest.trim_end_matches(')');
                fs::read(root.join("proc/device-tree/compatible"))
                    .is_ok_and(|c| c.split(|b| *b == 0).any(|entry| entry == want.as_bytes()))
            }),
    }
}

/// `THRESHOLD%[/10sec|/1min|/5min]`: the "some" average of PSI stays under the threshold.
/// Without PSI (an older kernel, or hidden from the container) the check passes, as in systemd.
fn pressure(root: &Path, resource: &str, spec: &str) -> bool {
    let Ok(text) = fs::read_to_string(root.join("proc/pressure").join(resource)) else {
        return true;
    };
    let (threshold, window) = spec.split_once('/').unwrap_or((spec, "5min"));
    let Ok(threshold) = threshold.trim_end_matches('%').parse::<f64>() else {
        return false;
    };
    let key = match window {
        "10s" | "10sec" => "avg10=",
        "1min" => "avg60=",
        _ => "avg300=",
    };
    text.lines()
        .find(|l| l.starts_with("some"))
        .and_then(|l| l.split_whitespace().find_map(|w| w.strip_prefix(key)))
        .and_then(|v| v.parse::<f64>().ok())
        .is_some_and(|avg| avg <= threshold)
}

impl System {
    /// Read the facts of the running system (bosun's own view, as PID 1 of the container).
    pub fn detect(root: &Path) -> System {
        let read = |p: &str| fs::read_to_string(root.join(p)).unwrap_or_default();
        let uid = nix::unistd::getuid();
        let user_name = nix::unistd::User::from_uid(uid)
            .ok()
            .flatten()
            .map_or_else(|| uid.to_string(), |u| u.name);
        let mut groups: Vec<(u32, String)> = nix::unistd::getgroups()
            .unwrap_or_default()
            .into_iter()
            .chain([nix::unistd::getgid()])
            .map(|g| {
                let name = nix::unistd::Group::from_gid(g)
                    .ok()
                    .flatten()
                    .map_or_else(|| g.to_string(), |gr| gr.name);
                (g.as_raw(), name)
            })
            .collect();
        groups.dedup();
        let status = read("proc/self/status");
        let hex = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
                .unwrap_or(0)
        };
        let mut controllers: Vec<String> = read("sys/fs/cgroup/cgroup.controllers")
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if root.join("sys/fs/cgroup/cgroup.controllers").exists() {
            controllers.push("unified".to_owned());
        } else if let Ok(dirs) = fs::read_dir(root.join("sys/fs/cgroup")) {
            controllers.extend(
                dirs.flatten()
                    .map(|d| d.file_name().to_string_lossy().into_owned()),
            );
        }
        System {
            root: root.to_path_buf(),
            environment: std::env::vars().collect(),
            hostname: nix::sys::utsname::uname()
                .map(|u| u.nodename().to_string_lossy().into_owned())
                .unwrap_or_default(),
            machine_id: read("etc/machine-id").trim().to_owned(),
            architecture: match std::env::consts::ARCH {
                "x86_64" => "x86-64",
                "aarch64" => "arm64",
                "x86" => "x86",
                "arm" => "arm",
                "riscv64" => "riscv64",
                "powerpc64" => "ppc64",
                "s390x" => "s390x",
                other => other,
            }
            .to_owned(),
            kernel_release: nix::sys::utsname::uname()
                .map(|u| u.release().to_string_lossy().into_owned())
                .unwrap_or_default(),
            kernel_cmdline: read("proc/cmdline")
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
            memory_bytes: read("proc/meminfo")
                .lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map_or(0, |kb| kb * 1024),
            os_release: read("etc/os-release")
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
                .collect(),
            container: detect_container(root),
            capability_bounding: hex("CapBnd:"),
            user: (uid.as_raw(), user_name),
            groups,
            cgroup_controllers: controllers,
            cpu_flags: read("proc/cpuinfo")
                .lines()
                .find_map(|l| l.strip_prefix("flags"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, f)| f.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
            credentials: std::env::var_os("CREDENTIALS_DIRECTORY")
                .and_then(|d| fs::read_dir(d).ok())
                .map(|d| {
                    d.flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// The container technology, as systemd-detect-virt names it. As for systemd 252 as PID 1
/// (detect_container()), the `container` variable the runtime gives PID 1 is authoritative
/// when set: its value names the technology, empty says "not a container".
fn detect_container(root: &Path) -> String {
    if let Ok(v) = std::env::var("container") {
        return v;
    }
    if root.join("run/.containerenv").exists() {
        return "podman".to_owned();
    }
    if root.join(".dockerenv").exists() {
        return "docker".to_owned();
    }
    if let Ok(v) = fs::read_to_string(root.join("run/systemd/container")) {
        return v.trim().to_owned();
    }
    // PID 1 of a PID namespace that is not the host's: some container runtime.
    if fs::read_to_string("/proc/1/sched")
        .ok()
        .and_then(|s| s.lines().next().map(str::to_owned))
        .is_some_and(|l| !l.contains("(1,"))
    {
        return "container-other".to_owned();
    }
    String::new()
}

/// ConditionDirectoryNotEmpty= and a path unit's DirectoryNotEmpty=, as systemd 252 tests both:
/// `dir_is_empty(path, ignore_hidden_or_backup=true)` is not "empty", and a missing path or one
/// that is not a directory is not "not empty" — but a directory that cannot be read (EACCES)
/// counts as not empty, as systemd's `r <= 0 && !IN_SET(r, -ENOENT, -ENOTDIR)` has it.
pub fn directory_not_empty(path: &Path) -> bool {
    match fs::read_dir(path) {
        Ok(mut entries) => entries.any(|e| match e {
            Ok(e) => !crate::unit::install::hidden_or_backup(&e.file_name().to_string_lossy()),
            Err(e) => !gone(&e),
        }),
        Err(e) => !gone(&e),
    }
}

/// ENOENT or ENOTDIR: there is no directory there.
fn gone(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}

#[cfg(test)]
mod tests;
