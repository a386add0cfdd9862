//! Finding units on disk the way systemd does: the search path in precedence order under a
//! root prefix, symlink aliases, masks (a link to /dev/null or an empty file), templates and
//! instances, drop-in directories (`NAME.d/`, the template's, the `foo-.service.d/` prefix
//! ones and the type-wide `service.d/`) merged by file name with the earlier directory
//! winning, enablement links in `.wants/`, `.requires/` and `.upholds/`, and default.target.
//! Reads files; never writes and never starts anything.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::apply::{Applier, check_unit};
use super::model::{Unit, UnitKind};
use super::name::{NameError, UnitName};
use super::specifier::SpecifierContext;
use super::{Diagnostic, DiagnosticKind};

/// The system unit search path, highest precedence first (systemd.unit(5), "Unit File Load
/// Path").
pub const SYSTEM_UNIT_PATH: [&str; 5] = [
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

/// The search path of a booted system: [`SYSTEM_UNIT_PATH`] with the generators' output
/// directories where systemd puts them (`lookup_paths_init()`): `generator.early` above
/// everything, `generator` below `/run/systemd/system`, `generator.late` last.
pub const BOOT_UNIT_PATH: [&str; 8] = [
    "/run/systemd/generator.early",
    "/etc/systemd/system",
    "/run/systemd/system",
    "/run/systemd/generator",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
    "/run/systemd/generator.late",
];

/// How many alias links are followed before giving up.
const MAX_ALIAS_DEPTH: usize = 8;

/// Why a unit cannot be loaded at all. Problems inside a unit file are [`Diagnostic`]s of a
/// [`LoadedUnit`] instead.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The name is not a unit name.
    #[error(transparent)]
    Name(#[from] NameError),
    /// No file for the unit in the search path.
    #[error("unit {name} not found in {searched}")]
    NotFound {
        /// The unit asked for.
        name: String,
        /// The directories searched, comma separated.
        searched: String,
    },
    /// A file or directory exists but cannot be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Alias links point at each other.
    #[error("unit {name}: too many levels of alias links at {path}")]
    AliasLoop {
        /// The unit asked for.
        name: String,
        /// The last link followed.
        path: PathBuf,
    },
}

/// The directories searched, as the system sees them, and the root they live under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPath {
    root: PathBuf,
    dirs: Vec<PathBuf>,
}

impl SearchPath {
    /// systemd's system search path under `root` (`/` normally; a directory for tests and
    /// `--root`). Directories that are the same on disk (`/lib` → `/usr/lib`) count once.
    pub fn system(root: &Path) -> Self {
        SearchPath::new(root, SYSTEM_UNIT_PATH.iter().map(PathBuf::from).collect())
    }

    /// The search path PID 1 boots with under `root`: [`BOOT_UNIT_PATH`].
    pub fn booted(root: &Path) -> Self {
        SearchPath::new(root, BOOT_UNIT_PATH.iter().map(PathBuf::from).collect())
    }

    /// A custom search path (absolute directories, highest precedence first) under `root`.
    pub fn new(root: &Path, dirs: Vec<PathBuf>) -> Self {
        let mut seen = BTreeSet::new();
        let mut kept = Vec::new();
        for dir in dirs {
            let on_disk = on_disk(root, &dir);
            let key = std::fs::canonicalize(&on_disk).unwrap_or(on_disk);
            if seen.insert(key) {
                kept.push(dir);
            }
        }
        SearchPath {
            root: root.to_owned(),
            dirs: kept,
        }
    }

    /// The root prefix.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directories, as seen inside the root, highest precedence first.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// Where `path` (as seen inside the root) is on disk.
    pub fn on_disk(&self, path: &Path) -> PathBuf {
        on_disk(&self.root, path)
    }
}

fn on_disk(root: &Path, path: &Path) -> PathBuf {
    root.join(path.strip_prefix("/").unwrap_or(path))
}

/// Whether a unit loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadState {
    /// Parsed without errors (warnings are possible).
    Loaded,
    /// Masked: linked to /dev/null or empty. Nothing was parsed.
    Masked,
    /// Parsed with errors: the unit must not run. See its diagnostics.
    Error,
}

/// A unit as found on disk and parsed.
#[derive(Debug, Clone)]
pub struct LoadedUnit {
    /// Its name (an instance keeps its instance name; an alias resolves to the real name).
    pub name: UnitName,
    /// Other names that lead to it (the alias asked for, for instance).
    pub aliases: Vec<UnitName>,
    /// The main file on disk (`None` when masked).
    pub fragment: Option<PathBuf>,
    /// The mask (link or empty file) when masked.
    pub masked_by: Option<PathBuf>,
    /// The drop-in files on disk, in the order they were applied.
    pub dropins: Vec<PathBuf>,
    /// Whether it loaded.
    pub state: LoadState,
    /// The typed unit.
    pub unit: Unit,
    /// Every warning and error, in file order.
    pub diagnostics: Vec<Diagnostic>,
    /// Units linked into its `.wants/` directories.
    pub wants: Vec<UnitName>,
    /// Units linked into its `.requires/` directories.
    pub requires: Vec<UnitName>,
    /// Units linked into its `.upholds/` directories.
    pub upholds: Vec<UnitName>,
}

impl LoadedUnit {
    /// The files the unit was read from, main file first, as `systemctl cat` prints them
    /// (each under a `# /path` header).
    pub fn sources(&self) -> impl Iterator<Item = &Path> {
        self.fragment
            .iter()
            .chain(self.dropins.iter())
            .map(PathBuf::as_path)
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// What a name in the search path is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitFileKind {
    /// A regular unit file.
    Regular,
    /// A symlink to a unit file of the same name elsewhere (`systemctl link`).
    Linked(PathBuf),
    /// A symlink to another unit's file: an alias of that unit.
    Alias(UnitName),
    /// A link to /dev/null or an empty file.
    Masked,
}

/// One name in the search path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitFile {
    /// The name.
    pub name: UnitName,
    /// Where it is on disk (the link itself for links).
    pub path: PathBuf,
    /// What it is.
    pub kind: UnitFileKind,
}

enum Found {
    File {
        path: PathBuf,
        name: UnitName,
        aliases: Vec<UnitName>,
    },
    Masked {
        path: PathBuf,
        name: UnitName,
    },
}

/// The names each directory of the search path held when it was listed (systemd's unit path
/// cache, `manager->unit_path_cache`, which `unit_file_find_dropin_paths()` consults before
/// looking at the disk): a name a directory did not hold is not looked up there.
#[derive(Debug, Default)]
struct Listing {
    /// By directory as seen inside the root; a directory that could not be read is not here
    /// (every name is looked up on disk), a missing one holds nothing.
    names: HashMap<PathBuf, HashSet<String>>,
}

impl Listing {
    fn read(search: &SearchPath) -> Listing {
        let mut names = HashMap::new();
        for dir in &search.dirs {
            match std::fs::read_dir(search.on_disk(dir)) {
                Ok(entries) => {
                    let held = entries
                        .filter_map(Result::ok)
                        .filter_map(|e| e.file_name().into_string().ok())
                        .collect();
                    names.insert(dir.clone(), held);
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    names.insert(dir.clone(), HashSet::new());
                }
                Err(_) => {}
            }
        }
        Listing { names }
    }
}

/// Finds and parses units in a search path.
#[derive(Debug, Clone)]
pub struct Loader {
    search: SearchPath,
    spec: SpecifierContext,
    /// Set by [`Loader::listed`]: what the search path's directories held then.
    listing: Option<Arc<Listing>>,
}

impl Loader {
    /// A loader over `search`, resolving specifiers with `spec`.
    pub fn new(search: SearchPath, spec: SpecifierContext) -> Self {
        Loader {
            search,
            spec,
            listing: None,
        }
    }

    /// This loader with the search path's directories listed once, now, for loading many
    /// units at once (a boot, a daemon-reload): a unit file, an alias or mask link, a drop-in
    /// or `.wants/` directory directly in a search directory is looked for on disk only when
    /// the listing holds its name, instead of one `stat` per directory, name and suffix. What
    /// is created after the listing is seen by the next one, as systemd's unit path cache.
    pub fn listed(&self) -> Loader {
        Loader {
            listing: Some(Arc::new(Listing::read(&self.search))),
            ..self.clone()
        }
    }

    /// The listing says `dir` (a search directory) does not hold `name`.
    fn absent(&self, dir: &Path, name: &str) -> bool {
        self.listing
            .as_ref()
            .and_then(|l| l.names.get(dir))
            .is_some_and(|names| !names.contains(name))
    }

    /// The search path.
    pub fn search_path(&self) -> &SearchPath {
        &self.search
    }

    fn searched(&self) -> String {
        let dirs: Vec<String> = self
            .search
            .dirs
            .iter()
            .map(|d| self.search.on_disk(d).display().to_string())
            .collect();
        dirs.join(", ")
    }

    /// What `dir/file` (inside the root) is: `None` when absent.
    fn classify(
        &self,
        dir: &Path,
        file: &str,
    ) -> Result<Option<(PathBuf, UnitFileKind)>, LoadError> {
        if self.absent(dir, file) {
            return Ok(None);
        }
        let link = self.search.on_disk(&dir.join(file));
        let meta = match std::fs::symlink_metadata(&link) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(LoadError::Read { path: link, source }),
        };
        if meta.is_dir() {
            return Ok(None);
        }
        if !meta.file_type().is_symlink() {
            let kind = if meta.len() == 0 {
                UnitFileKind::Masked
            } else {
                UnitFileKind::Regular
            };
            return Ok(Some((link, kind)));
        }
        let target = std::fs::read_link(&link).map_err(|source| LoadError::Read {
            path: link.clone(),
            source,
        })?;
        if target == Path::new("/dev/null") {
            return Ok(Some((link, UnitFileKind::Masked)));
        }
        let inside = if target.is_absolute() {
            target.clone()
        } else {
            dir.join(&target)
        };
        let base = inside.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if base == file {
            let real = self.search.on_disk(&inside);
            return match std::fs::metadata(&real) {
                Ok(m) if m.len() == 0 => Ok(Some((link, UnitFileKind::Masked))),
                Ok(_) => Ok(Some((link, UnitFileKind::Linked(real)))),
                Err(_) => Ok(None), // a dangling link is no unit
            };
        }
        Ok(Some((link, UnitFileKind::Alias(UnitName::parse(base)?))))
    }

    fn find(&self, name: &UnitName, depth: usize) -> Result<Option<Found>, LoadError> {
        for dir in &self.search.dirs {
            let Some((path, kind)) = self.classify(dir, name.as_str())? else {
                continue;
            };
            return match kind {
                UnitFileKind::Regular => Ok(Some(Found::File {
                    path,
                    name: name.clone(),
                    aliases: Vec::new(),
                })),
                UnitFileKind::Linked(real) => Ok(Some(Found::File {
                    path: real,
                    name: name.clone(),
                    aliases: Vec::new(),
                })),
                UnitFileKind::Masked => Ok(Some(Found::Masked {
                    path,
                    name: name.clone(),
                })),
                UnitFileKind::Alias(target) => {
                    if depth >= MAX_ALIAS_DEPTH {
                        return Err(LoadError::AliasLoop {
                            name: name.to_string(),
                            path,
                        });
                    }
                    // An instance aliased to a template keeps its instance.
                    let target = match (name.instance(), target.is_template()) {
                        (Some(i), true) if !i.is_empty() => target.with_instance(i)?,
                        _ => target,
                    };
                    match self.find(&target, depth + 1)? {
                        Some(Found::File {
                            path,
                            name: real,
                            mut aliases,
                        }) => {
                            aliases.push(name.clone());
                            Ok(Some(Found::File {
                                path,
                                name: real,
                                aliases,
                            }))
                        }
                        other => Ok(other),
                    }
                }
            };
        }
        if name.is_instance()
            && let Some(template) = name.template()
        {
            return Ok(match self.find(&template, depth + 1)? {
                Some(Found::File { path, aliases, .. }) => Some(Found::File {
                    path,
                    name: name.clone(),
                    aliases,
                }),
                Some(Found::Masked { path, .. }) => Some(Found::Masked {
                    path,
                    name: name.clone(),
                }),
                None => None,
            });
        }
        Ok(None)
    }

    /// Load the unit called `name` (an alias, an instance, a template or a plain unit).
    pub fn load(&self, name: &str) -> Result<LoadedUnit, LoadError> {
        let asked = UnitName::parse(name)?;
        match self.find(&asked, 0)? {
            Some(Found::File {
                path,
                name,
                aliases,
            }) => self.build(name, aliases, Some(path), None),
            Some(Found::Masked { path, name }) => self.build(name, Vec::new(), None, Some(path)),
            None => Err(LoadError::NotFound {
                name: name.to_owned(),
                searched: self.searched(),
            }),
        }
    }

    /// Load the unit file at `path` (anywhere on disk), named after its file name, with the
    /// drop-ins the search path has for that name.
    pub fn load_file(&self, path: &Path) -> Result<LoadedUnit, LoadError> {
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        self.load_file_as(path, &UnitName::parse(file_name)?)
    }

    /// Load the unit file at `path` as the unit `name` (a template file as one of its
    /// instances, for instance).
    pub fn load_file_as(&self, path: &Path, name: &UnitName) -> Result<LoadedUnit, LoadError> {
        let name = name.clone();
        let meta = std::fs::metadata(path).map_err(|source| LoadError::Read {
            path: path.to_owned(),
            source,
        })?;
        let masked =
            meta.len() == 0 || std::fs::read_link(path).is_ok_and(|t| t == Path::new("/dev/null"));
        if masked {
            return self.build(name, Vec::new(), None, Some(path.to_owned()));
        }
        self.build(name, Vec::new(), Some(path.to_owned()), None)
    }

    fn build(
        &self,
        name: UnitName,
        aliases: Vec<UnitName>,
        fragment: Option<PathBuf>,
        masked_by: Option<PathBuf>,
    ) -> Result<LoadedUnit, LoadError> {
        let mut names = vec![name.clone()];
        names.extend(aliases.iter().cloned());
        let mut unit = Unit::new(name.clone());
        let mut loaded = LoadedUnit {
            name: name.clone(),
            aliases,
            fragment: fragment.clone(),
            masked_by,
            dropins: Vec::new(),
            state: LoadState::Masked,
            unit: unit.clone(),
            diagnostics: Vec::new(),
            wants: self.links(&names, ".wants")?,
            requires: self.links(&names, ".requires")?,
            upholds: self.links(&names, ".upholds")?,
        };
        let Some(fragment) = fragment else {
            return Ok(loaded);
        };
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| LoadError::Read {
                path: path.to_owned(),
                source,
            })
        };
        let mut applier = Applier::new(&self.spec, &name, Some(&fragment));
        applier.apply_file(&mut unit, &fragment, &read(&fragment)?);
        loaded.dropins = self.dropins(&names)?;
        for dropin in &loaded.dropins {
            applier.apply_file(&mut unit, dropin, &read(dropin)?);
        }
        let mut diagnostics = applier.diagnostics;
        diagnostics.extend(check_unit(&unit, &fragment));
        // Mounts, slices and devices are shown as systemd shows them in a container (the
        // manager's `tracked`); the other types are not run.
        if let UnitKind::Unsupported { unit_type, .. } = &unit.kind
            && !matches!(unit_type.as_str(), "mount" | "slice" | "device")
        {
            diagnostics.push(Diagnostic::new(
                &fragment,
                None,
                DiagnosticKind::NotYetSupported(
                    super::name::TYPES
                        .iter()
                        .find(|t| **t == unit_type.as_str())
                        .copied()
                        .unwrap_or("unit type"),
                ),
                format!("{unit_type} units are parsed but not run by bosun yet"),
            ));
        }
        loaded.state = if diagnostics.iter().any(Diagnostic::is_error) {
            LoadState::Error
        } else {
            LoadState::Loaded
        };
        loaded.diagnostics = diagnostics;
        loaded.unit = unit;
        Ok(loaded)
    }

    /// unit_file_find_dirs: `dir/NAME+suffix`, the template's, and the dash-prefix ones
    /// (`foo-bar-.service`, `foo-.service`), most specific first.
    fn find_dirs(&self, dir: &Path, name: &str, suffix: &str, out: &mut Vec<PathBuf>) {
        let file = format!("{name}{suffix}");
        if !self.absent(dir, &file) {
            let candidate = self.search.on_disk(&dir.join(&file));
            if candidate.is_dir() && !out.contains(&candidate) {
                out.push(candidate);
            }
        }
        let Ok(unit) = UnitName::parse(name) else {
            return;
        };
        if unit.is_instance()
            && let Some(template) = unit.template()
        {
            self.find_dirs(dir, template.as_str(), suffix, out);
        }
        let mut prefix = unit.prefix().to_owned();
        let mut chopped = false;
        loop {
            let Some(dash) = prefix.rfind('-') else {
                return;
            };
            if dash == 0 {
                return;
            }
            if dash + 1 < prefix.len() || chopped {
                prefix.truncate(dash + 1);
                break;
            }
            prefix.truncate(dash);
            chopped = true;
        }
        let built = match unit.instance() {
            Some(i) => format!("{prefix}@{i}.{}", unit.unit_type()),
            None => format!("{prefix}.{}", unit.unit_type()),
        };
        self.find_dirs(dir, &built, suffix, out);
    }

    /// Every directory with `suffix` for `names`, in systemd's order, the type-wide one last.
    fn dirs_for(&self, names: &[UnitName], suffix: &str) -> Vec<PathBuf> {
        let mut dirs = Vec::new();
        for name in names {
            for dir in &self.search.dirs {
                self.find_dirs(dir, name.as_str(), suffix, &mut dirs);
            }
        }
        if let Some(first) = names.first() {
            for dir in &self.search.dirs {
                let file = format!("{}{suffix}", first.unit_type());
                if self.absent(dir, &file) {
                    continue;
                }
                let top = self.search.on_disk(&dir.join(&file));
                if top.is_dir() && !dirs.contains(&top) {
                    dirs.push(top);
                }
            }
        }
        dirs
    }

    /// The drop-in files of a unit: `*.conf` in its drop-in directories; for one file name the
    /// earliest directory wins, a masked one (link to /dev/null, empty) hides it; sorted by
    /// file name.
    fn dropins(&self, names: &[UnitName]) -> Result<Vec<PathBuf>, LoadError> {
        let mut by_name: BTreeMap<String, Option<PathBuf>> = BTreeMap::new();
        for dir in self.dirs_for(names, ".d") {
            for (file, path) in read_dir_sorted(&dir)? {
                if !file.ends_with(".conf") || by_name.contains_key(&file) {
                    continue;
                }
                let masked = std::fs::read_link(&path).is_ok_and(|t| t == Path::new("/dev/null"))
                    || std::fs::metadata(&path).is_ok_and(|m| m.len() == 0);
                let is_file = std::fs::metadata(&path).is_ok_and(|m| m.is_file());
                if masked || is_file {
                    by_name.insert(file, (!masked).then_some(path));
                }
            }
        }
        Ok(by_name.into_values().flatten().collect())
    }

    /// The units linked into `name`'s `.wants/`-like directories (`suffix`: `.wants`,
    /// `.requires`, `.upholds`), for a unit that has no file of its own (a built-in target).
    pub fn dependency_links(
        &self,
        name: &UnitName,
        suffix: &str,
    ) -> Result<Vec<UnitName>, LoadError> {
        self.links(std::slice::from_ref(name), suffix)
    }

    /// The units linked into the `.wants/`-like directories (`suffix`) of `names`.
    fn links(&self, names: &[UnitName], suffix: &str) -> Result<Vec<UnitName>, LoadError> {
        let mut out = BTreeSet::new();
        for dir in self.dirs_for(names, suffix) {
            for (file, _) in read_dir_sorted(&dir)? {
                if let Ok(name) = UnitName::parse(&file) {
                    out.insert(name);
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Every unit name in the search path (the first directory that has a name wins), sorted.
    pub fn unit_files(&self) -> Result<Vec<UnitFile>, LoadError> {
        let mut out: BTreeMap<UnitName, UnitFile> = BTreeMap::new();
        for dir in &self.search.dirs {
            let on_disk = self.search.on_disk(dir);
            if !on_disk.is_dir() {
                continue;
            }
            for (file, _) in read_dir_sorted(&on_disk)? {
                let Ok(name) = UnitName::parse(&file) else {
                    continue;
                };
                if out.contains_key(&name) {
                    continue;
                }
                if let Some((path, kind)) = self.classify(dir, &file)? {
                    out.insert(name.clone(), UnitFile { name, path, kind });
                }
            }
        }
        Ok(out.into_values().collect())
    }

    /// The default target: what `default.target` links to, `multi-user.target` when it does
    /// not exist (systemd.special(7)).
    pub fn default_target(&self) -> UnitName {
        for dir in &self.search.dirs {
            match self.classify(dir, "default.target") {
                Ok(Some((_, UnitFileKind::Alias(target)))) => return target,
                Ok(Some(_)) => return UnitName::known("default.target"),
                _ => {}
            }
        }
        UnitName::known("multi-user.target")
    }
}

/// The entries of `dir` by file name (missing directory: none).
fn read_dir_sorted(dir: &Path) -> Result<Vec<(String, PathBuf)>, LoadError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(LoadError::Read {
                path: dir.to_owned(),
                source,
            });
        }
    };
    let mut out: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(|n| (n.to_owned(), e.path())))
        .collect();
    out.sort();
    Ok(out)
}
