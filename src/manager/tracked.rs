//! The units systemd 252 tracks in a container without running anything for them, as bosun
//! shows them: mount units made from the kernel's mount table (`/proc/self/mountinfo`, as
//! core/mount.c mount_load_proc_self_mountinfo(): `-.mount`, `tmp.mount`, active and mounted,
//! no unit file), the perpetual slices `-.slice` and `system.slice` (core/slice.c), a slice
//! loaded by name without a file, and `RequiresMountsFor=` as core/unit.c
//! unit_add_mount_dependencies() resolves it (After= on the mount unit of each prefix that is
//! loaded; Requires= too when that unit has a file).
//!
//! Pure but for [`MountTable::read`], which reads the table once per load or daemon-reload (it is
//! never polled). Must not mount, unmount or run anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use super::graph::Deps;
use super::units::Entry;
use crate::unit::load::{LoadState, LoadedUnit};
use crate::unit::model::{Unit, UnitKind};
use crate::unit::{UnitName, name};

/// Where the kernel's mount table is read, and what `systemctl status` names as the source of a
/// mount unit made from it.
pub const MOUNTINFO: &str = "/proc/self/mountinfo";

/// The slices systemd always has in the system manager (slice_enumerate_perpetual()).
pub const PERPETUAL_SLICES: [(&str, &str); 2] =
    [("-.slice", "Root Slice"), ("system.slice", "System Slice")];

/// The mount table could not be read (no /proc).
#[derive(Debug, thiserror::Error)]
#[error("cannot read the mount table {path}", path = path.display())]
pub struct MountTableError {
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

/// One line of the mount table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountPoint {
    /// The mount point (`Where=`).
    pub path: String,
    /// The source (`What=`): a device, `tmpfs`, `overlay`.
    pub what: String,
    /// The file system type.
    pub fstype: String,
    /// The mount options and the super block's, as systemd joins them.
    pub options: String,
}

/// The mount table, by mount unit name; the last mount on a path wins (it is what is seen).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountTable {
    mounts: BTreeMap<String, MountPoint>,
}

impl MountTable {
    /// The table in `path` (the kernel's: [`MOUNTINFO`]).
    pub fn read(path: &Path) -> Result<MountTable, MountTableError> {
        std::fs::read_to_string(path)
            .map(|text| MountTable::parse(&text))
            .map_err(|source| MountTableError {
                path: path.to_owned(),
                source,
            })
    }

    /// The table in proc(5)'s mountinfo format; malformed lines are left out.
    pub fn parse(text: &str) -> MountTable {
        let mut mounts = BTreeMap::new();
        for m in crate::vocab::mountinfo::parse_mountinfo(text) {
            let point = MountPoint {
                path: m.point.display().to_string(),
                what: m.source,
                fstype: m.fstype,
                options: m.options,
            };
            mounts.insert(mount_unit_name(&point.path), point);
        }
        MountTable { mounts }
    }

    /// The mount unit `unit` (`tmp.mount`), when mounted.
    pub fn get(&self, unit: &str) -> Option<&MountPoint> {
        self.mounts.get(unit)
    }

    /// Every mount, by unit name.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &MountPoint)> {
        self.mounts.iter()
    }
}

/// The mount unit of `path` (unit_name_from_path(path, ".mount")): `/` is `-.mount`,
/// `/var/lib/x` is `var-lib-x.mount`, other bytes escaped as systemd-escape does.
pub fn mount_unit_name(path: &str) -> String {
    let clean = simplify(path);
    let inner = clean.trim_start_matches('/');
    if inner.is_empty() {
        "-.mount".to_owned()
    } else {
        format!("{}.mount", name::escape(inner))
    }
}

/// `path` with doubled slashes, `.` components and a trailing slash removed (path_simplify()).
fn simplify(path: &str) -> String {
    let parts: Vec<String> = Path::new(path)
        .components()
        .filter_map(|c| match c {
            Component::Normal(p) => Some(p.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    format!("/{}", parts.join("/"))
}

/// `path` and each of its parents up to `/` (PATH_FOREACH_PREFIX_MORE): `/a/b`, `/a`, `/`.
pub fn prefixes(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut p = PathBuf::from(simplify(path));
    loop {
        out.push(p.display().to_string());
        if !p.pop() {
            return out;
        }
    }
}

/// The mount units `RequiresMountsFor=` may name, one per prefix of each path, loaded with the
/// unit (core/unit.c loads them with manager_load_unit_prepare()).
pub fn mount_units_for(paths: &[String]) -> Vec<String> {
    paths
        .iter()
        .flat_map(|p| prefixes(p))
        .map(|p| mount_unit_name(&p))
        .collect::<BTreeSet<String>>()
        .into_iter()
        .collect()
}

/// `RequiresMountsFor=` of a unit as dependencies: After= on the mount unit of every prefix
/// that is loaded, and Requires= when that unit has a file (a mount from the table alone is
/// already there: nothing to start). Masked or broken mount units are left out, as systemd
/// skips units that did not load.
pub fn add_mount_dependencies(
    d: &mut Deps,
    unit: &str,
    paths: &[String],
    units: &BTreeMap<String, Entry>,
) {
    for mount in mount_units_for(paths) {
        if mount == unit {
            continue;
        }
        if let Some(Entry::Loaded(l)) = units.get(&mount)
            && l.state == LoadState::Loaded
        {
            d.after.insert(mount.clone());
            if l.fragment.is_some() {
                d.requires.insert(mount);
            }
        }
    }
}

/// Complete what [`super::units::collect`] found with the units bosun synthesizes: every
/// mount unit named but without a file becomes the mount from the table (or stays not found);
/// every slice or device named without a file loads without one (as in systemd); with `all` (a boot or
/// daemon-reload, not a load on demand), every mount of the table and the perpetual slices are
/// added too, as systemd has them from its start.
pub fn complete(units: &mut BTreeMap<String, Entry>, table: &MountTable, all: bool) {
    let named: Vec<String> = units
        .iter()
        .filter(|(n, e)| {
            matches!(e, Entry::Missing(_))
                && [".mount", ".slice", ".device"]
                    .iter()
                    .any(|t| n.ends_with(t))
        })
        .map(|(n, _)| n.clone())
        .collect();
    for name in named {
        if let Some(entry) = synthesized(&name, table) {
            units.insert(name, entry);
        }
    }
    if all {
        let everything = table
            .iter()
            .map(|(n, _)| n.clone())
            .chain(PERPETUAL_SLICES.iter().map(|(n, _)| (*n).to_owned()));
        for name in everything.collect::<Vec<_>>() {
            if !units.contains_key(&name)
                && let Some(entry) = synthesized(&name, table)
            {
                units.insert(name, entry);
            }
        }
    }
}

/// The unit bosun makes for `name` when no file has it: a mount of the table, or a slice.
fn synthesized(name: &str, table: &MountTable) -> Option<Entry> {
    let description = if name.ends_with(".device") {
        // As systemd loads any device unit named (device_load(): no file needed), dead until
        // udev would announce it.
        name.to_owned()
    } else if let Some(point) = table.get(name) {
        if point.path == "/" {
            "Root Mount".to_owned()
        } else {
            point.path.clone()
        }
    } else if name.ends_with(".slice") {
        let perpetual = PERPETUAL_SLICES.iter().find(|(n, _)| *n == name);
        match perpetual {
            Some((_, description)) => (*description).to_owned(),
            None => name.to_owned(),
        }
    } else {
        return None;
    };
    let unit_name = UnitName::parse(name).ok()?;
    let mut unit = Unit::new(unit_name.clone());
    unit.unit.description = Some(description);
    // A mount from the table is there already, and the perpetual slices are from the start:
    // nothing to order against shutdown (systemd's own have DefaultDependencies=no too).
    unit.unit.default_dependencies = false;
    if !matches!(unit.kind, UnitKind::Unsupported { .. }) {
        return None;
    }
    Some(Entry::Loaded(Box::new(LoadedUnit {
        name: unit_name,
        aliases: Vec::new(),
        fragment: None,
        masked_by: None,
        dropins: Vec::new(),
        state: LoadState::Loaded,
        unit,
        diagnostics: Vec::new(),
        wants: Vec::new(),
        requires: Vec::new(),
        upholds: Vec::new(),
    })))
}

/// Why a unit of `unit_type` cannot start under bosun (device, swap, automount, scope, ...),
/// in words for the job's failure.
pub fn why_not_run(unit_type: &str) -> String {
    match unit_type {
        // systemd without udev (a container) never sees the device either: its job waits for
        // its JobRunningTimeoutSec= (a device's is DefaultTimeoutStartSec=, 90 s: core/device.c
        // device_init()) and fails; bosun fails it at once.
        "device" => "bosun has no device manager (no udev in a container): the device is \
                     never announced, so a job waiting for it fails (at once; systemd would \
                     time out after 90 s)"
            .to_owned(),
        "swap" => "bosun does not activate swap: swap is the host's to manage".to_owned(),
        "automount" => "bosun does not mount file systems: automount points are the \
                        container runtime's to set up"
            .to_owned(),
        "scope" => "scope units are made over D-Bus by other programs (systemd-run --scope, \
                    logind); bosun has none"
            .to_owned(),
        other => format!(".{other} units are not supported by bosun"),
    }
}

/// Whether `name` is one of the perpetual slices (always active, never stopped).
pub fn is_perpetual_slice(name: &str) -> bool {
    PERPETUAL_SLICES.iter().any(|(n, _)| *n == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    // From a podman container: overlay root, a tmpfs /tmp, a bind mount with a space, and the
    // runtime's masks of /proc files.
    const MOUNTINFO_TEXT: &str = "\
1268 1210 0:98 / / rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w
1269 1268 0:101 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
1272 1268 0:103 / /tmp rw,nosuid,nodev shared:5 - tmpfs tmpfs rw,size=65536k
1273 1268 8:1 /srv/My\\040Data /var/lib/my\\040data rw,relatime - ext4 /dev/sda1 rw
1274 1269 0:5 /null /proc/kcore ro,nosuid - devtmpfs udev rw,mode=755
bogus line
";

    #[test]
    fn the_table_gives_systemds_mount_unit_names() {
        let table = MountTable::parse(MOUNTINFO_TEXT);
        let names: Vec<&str> = table.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "-.mount",
                "proc-kcore.mount",
                "proc.mount",
                "tmp.mount",
                "var-lib-my\\x20data.mount"
            ]
        );
        let tmp = table.get("tmp.mount").unwrap();
        assert_eq!(tmp.path, "/tmp");
        assert_eq!(tmp.what, "tmpfs");
        assert_eq!(tmp.fstype, "tmpfs");
        assert_eq!(tmp.options, "rw,nosuid,nodev,rw,size=65536k");
        assert_eq!(
            table.get("var-lib-my\\x20data.mount").unwrap().path,
            "/var/lib/my data"
        );
        assert_eq!(table.get("-.mount").unwrap().what, "overlay");
    }

    #[test]
    fn names_and_prefixes_as_systemd_escape_path() {
        assert_eq!(mount_unit_name("/"), "-.mount");
        assert_eq!(mount_unit_name("//var/lib/x/"), "var-lib-x.mount");
        assert_eq!(mount_unit_name("/var/./lib-x"), "var-lib\\x2dx.mount");
        assert_eq!(mount_unit_name("/.hidden"), "\\x2ehidden.mount");
        assert_eq!(
            prefixes("/var/lib/x"),
            ["/var/lib/x", "/var/lib", "/var", "/"]
        );
        assert_eq!(prefixes("/"), ["/"]);
        assert_eq!(
            mount_units_for(&["/tmp/a".to_owned(), "/tmp".to_owned()]),
            ["-.mount", "tmp-a.mount", "tmp.mount"]
        );
    }

    #[test]
    fn requires_mounts_for_orders_after_mounts_and_requires_those_with_a_file() {
        let table = MountTable::parse(MOUNTINFO_TEXT);
        let mut units = BTreeMap::new();
        units.insert("tmp-a.mount".to_owned(), Entry::Missing("not found".into()));
        complete(&mut units, &table, true);
        // Not mounted and no file: stays not found, and is no dependency.
        assert!(matches!(units["tmp-a.mount"], Entry::Missing(_)));
        assert!(matches!(units["-.slice"], Entry::Loaded(_)));
        assert_eq!(units["-.mount"].description(), Some("Root Mount"));
        assert_eq!(units["tmp.mount"].description(), Some("/tmp"));
        assert_eq!(units["system.slice"].description(), Some("System Slice"));
        let mut d = Deps::default();
        add_mount_dependencies(&mut d, "db.service", &["/tmp/a/b".to_owned()], &units);
        let after: Vec<&str> = d.after.iter().map(String::as_str).collect();
        assert_eq!(after, ["-.mount", "tmp.mount"]);
        assert!(d.requires.is_empty(), "{d:?}");
        // A mount unit with a file is required as well.
        if let Some(Entry::Loaded(l)) = units.get_mut("tmp.mount") {
            l.fragment = Some("/etc/systemd/system/tmp.mount".into());
        }
        let mut d = Deps::default();
        add_mount_dependencies(&mut d, "db.service", &["/tmp/a".to_owned()], &units);
        assert!(d.requires.contains("tmp.mount") && !d.requires.contains("-.mount"));
        // Negative control: a path under no mount but the root's.
        let mut d = Deps::default();
        add_mount_dependencies(&mut d, "db.service", &["/srv".to_owned()], &units);
        let after: Vec<&str> = d.after.iter().map(String::as_str).collect();
        assert_eq!(after, ["-.mount"]);
    }

    #[test]
    fn a_load_on_demand_adds_only_what_was_named() {
        let table = MountTable::parse(MOUNTINFO_TEXT);
        let mut units = BTreeMap::new();
        units.insert("tmp.mount".to_owned(), Entry::Missing("not found".into()));
        units.insert("user.slice".to_owned(), Entry::Missing("not found".into()));
        units.insert(
            "dev-sda.device".to_owned(),
            Entry::Missing("not found".into()),
        );
        complete(&mut units, &table, false);
        assert!(matches!(units["tmp.mount"], Entry::Loaded(_)));
        assert_eq!(units["user.slice"].description(), Some("user.slice"));
        // Loaded without a file, as systemd loads device units (starting one fails).
        assert!(matches!(&units["dev-sda.device"], Entry::Loaded(l) if l.fragment.is_none()));
        assert_eq!(units.len(), 3);
    }
}
