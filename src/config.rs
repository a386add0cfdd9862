//! bosun's optional configuration file, `/etc/bosun/bosun.yaml` (inside `BOSUN_ROOT`; another
//! file with `BOSUN_CONFIG`). Each key is also an environment variable, `BOSUN_<UPPER_SNAKE>`
//! (`log.format` is `BOSUN_LOG_FORMAT`, `webdav.realm` is `WEBDAV_AUTHENTICATION_REALM`), and
//! the environment wins: an image sets defaults in the file, `podman run -e` overrides them.
//!
//! The file is checked when it is read: an unknown key, a wrong type, a relative path or a bad
//! duration is an error that names the file, the line and the column, and bosun does not start.
//! Values are then handed to the same code that reads the environment, as text: [`settings`]
//! resolves each setting once, the environment over the file, and durations are read through
//! [`Timespan`]; the typed settings ([`Supervision`], [`VolumeSetup`], [`UnitsSetup`]) are
//! resolved from those variables here, once. Must not know the command line (it overrides what
//! this resolves).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::unit::Timespan;
use crate::vocab::text::Format;

/// Where the file is, inside the root.
pub const DEFAULT_PATH: &str = "etc/bosun/bosun.yaml";

/// The file's settings, by the environment variable each stands for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct File {
    path: Option<PathBuf>,
    values: BTreeMap<&'static str, String>,
}

impl File {
    /// The file named by `BOSUN_CONFIG` (`explicit`: it must exist), else the default one under
    /// `root` (it may be missing).
    pub fn load(root: &Path, explicit: Option<&Path>) -> Result<Self, String> {
        let path = explicit.map_or_else(|| root.join(DEFAULT_PATH), Path::to_owned);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => {
                return Ok(Self::default());
            }
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let mut file = Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        file.path = Some(path);
        Ok(file)
    }

    /// The settings in `text`.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let keys: Keys = serde_norway::from_str(text).map_err(|e| {
            let message = e.to_string();
            if message.contains(" at line ") {
                return message;
            }
            // Our checks' errors carry serde_norway's start of document, not the value's place.
            locate(text, &message).unwrap_or_else(|| match e.location() {
                Some(at) => format!("{message} at line {} column {}", at.line(), at.column()),
                None => message,
            })
        })?;
        Ok(Self {
            path: None,
            values: keys.flatten(),
        })
    }

    /// The value the file gives the setting whose variable is `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The file read, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

/// bosun's settings as variables, resolved here once in their order: the environment, else the
/// configuration file, else (the caller's) default. Every entry point that uses a setting (PID
/// 1, `bosun image`) reads them through this; the command line, parsed by [`crate::cli`],
/// overrides what it returns.
pub fn settings() -> Result<impl Fn(&str) -> Option<String>, String> {
    let file = config_file()?;
    Ok(move |name: &str| {
        std::env::var(name).ok().or_else(|| {
            // PUID/PGID in the environment override the file's run_as, as any variable does.
            if name == "BOSUN_RUN_AS" && std::env::var_os("PUID").is_some() {
                return None;
            }
            file.get(name).map(str::to_owned)
        })
    })
}

/// The configuration file: `BOSUN_CONFIG`, else `/etc/bosun/bosun.yaml` under BOSUN_ROOT.
fn config_file() -> Result<File, String> {
    let root = std::env::var_os("BOSUN_ROOT").map_or_else(|| PathBuf::from("/"), PathBuf::from);
    let explicit = std::env::var_os("BOSUN_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let file = File::load(&root, explicit.as_deref())?;
    if let Some(path) = file.path() {
        crate::log::debug(format_args!("settings from {}", path.display()));
    }
    Ok(file)
}

/// A duration setting as systemd.time(7) writes it (`5`, `500ms`, `1min 30s`), through
/// [`Timespan`]; `infinity` is [`Duration::MAX`] (never escalate to SIGKILL).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    Timespan::parse(text)
        .map(Timespan::as_duration)
        .map_err(|e| e.to_string())
}

/// The file's keys. Every one is optional; `null` is the same as leaving it out.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Keys {
    #[serde(default, deserialize_with = "absolute")]
    data_dir: Option<String>,
    #[serde(default, deserialize_with = "absolute")]
    template_dir: Option<String>,
    #[serde(default, deserialize_with = "absolute")]
    build_id_file: Option<String>,
    #[serde(default, deserialize_with = "absolute")]
    hooks_dir: Option<String>,
    #[serde(default, deserialize_with = "a_run_as")]
    run_as: Option<String>,
    #[serde(default, deserialize_with = "timespan")]
    stop_timeout: Option<String>,
    #[serde(default, deserialize_with = "timespan")]
    shutdown_timeout: Option<String>,
    #[serde(default, deserialize_with = "timespan")]
    hook_timeout: Option<String>,
    allow_downgrade: Option<bool>,
    adopt_data: Option<bool>,
    retry_first_boot: Option<bool>,
    units: Option<bool>,
    unit_path: Option<String>,
    systemd_compat: Option<bool>,
    generators: Option<String>,
    #[serde(default, deserialize_with = "timespan")]
    generator_timeout: Option<String>,
    kill_process_group: Option<bool>,
    #[serde(default, deserialize_with = "verbosity")]
    verbosity: Option<String>,
    log: Option<Log>,
    webdav: Option<Webdav>,
    ready: Option<Ready>,
}

/// `ready:`, what `initctl is-ready` counts.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Ready {
    #[serde(default, deserialize_with = "a_ready_failed")]
    failed: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Log {
    prefix: Option<bool>,
    format: Option<LogFormat>,
    #[serde(default, deserialize_with = "a_size")]
    ring: Option<String>,
    #[serde(default, deserialize_with = "a_size")]
    ring_total: Option<String>,
    #[serde(default, deserialize_with = "a_persist")]
    persist: Option<String>,
    #[serde(default, deserialize_with = "a_size")]
    persist_max: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Webdav {
    realm: Option<String>,
    #[serde(default, deserialize_with = "absolute")]
    htdigest: Option<String>,
    #[serde(default, deserialize_with = "absolute")]
    root: Option<String>,
    listen: Option<String>,
    prefix: Option<String>,
    user: Option<String>,
}

impl Keys {
    fn flatten(self) -> BTreeMap<&'static str, String> {
        let flag = |b: bool| if b { "1" } else { "0" }.to_owned();
        let log = self.log.unwrap_or_default();
        let webdav = self.webdav.unwrap_or_default();
        let ready = self.ready.unwrap_or_default();
        [
            ("BOSUN_DATA_DIR", self.data_dir),
            ("BOSUN_TEMPLATE_DIR", self.template_dir),
            ("BOSUN_BUILD_ID_FILE", self.build_id_file),
            ("BOSUN_HOOKS_DIR", self.hooks_dir),
            ("BOSUN_RUN_AS", self.run_as),
            ("BOSUN_STOP_TIMEOUT", self.stop_timeout),
            ("BOSUN_SHUTDOWN_TIMEOUT", self.shutdown_timeout),
            ("BOSUN_HOOK_TIMEOUT", self.hook_timeout),
            ("BOSUN_ALLOW_DOWNGRADE", self.allow_downgrade.map(flag)),
            ("BOSUN_ADOPT_DATA", self.adopt_data.map(flag)),
            ("BOSUN_RETRY_FIRST_BOOT", self.retry_first_boot.map(flag)),
            ("BOSUN_UNITS", self.units.map(flag)),
            ("BOSUN_UNIT_PATH", self.unit_path),
            ("BOSUN_SYSTEMD_COMPAT", self.systemd_compat.map(flag)),
            ("BOSUN_GENERATORS", self.generators),
            ("BOSUN_GENERATOR_TIMEOUT", self.generator_timeout),
            (
                "BOSUN_KILL_PROCESS_GROUP",
                self.kill_process_group.map(flag),
            ),
            ("BOSUN_VERBOSITY", self.verbosity),
            ("BOSUN_LOG_PREFIX", log.prefix.map(flag)),
            (
                "BOSUN_LOG_FORMAT",
                log.format.map(|f| {
                    match f {
                        LogFormat::Text => "text",
                        LogFormat::Json => "json",
                    }
                    .to_owned()
                }),
            ),
            ("BOSUN_LOG_RING", log.ring),
            ("BOSUN_LOG_RING_TOTAL", log.ring_total),
            ("BOSUN_LOG_PERSIST", log.persist),
            ("BOSUN_LOG_PERSIST_MAX", log.persist_max),
            ("WEBDAV_AUTHENTICATION_REALM", webdav.realm),
            ("BOSUN_WEBDAV_HTDIGEST", webdav.htdigest),
            ("BOSUN_WEBDAV_ROOT", webdav.root),
            ("BOSUN_WEBDAV_LISTEN", webdav.listen),
            ("BOSUN_WEBDAV_PREFIX", webdav.prefix),
            ("BOSUN_WEBDAV_USER", webdav.user),
            ("BOSUN_READY_FAILED", ready.failed),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v)))
        .collect()
    }
}

/// A value check's message (`"10x": not a time span`) with the line that holds the value:
/// serde_norway knows where its own errors are, not where ours are.
fn locate(text: &str, message: &str) -> Option<String> {
    let value = message
        .strip_prefix('"')
        .and_then(|rest| rest.split_once("\": "))
        .map(|(value, _)| value);
    let found = value.and_then(|value| {
        text.lines().enumerate().find_map(|(n, line)| {
            let (key, rest) = line.split_once(':')?;
            let rest = rest.trim().trim_matches(|c| c == '"' || c == '\'');
            (rest == value).then(|| (n + 1, key.trim()))
        })
    });
    found.map(|(line, key)| format!("{key}: {message} at line {line}"))
}

/// A scalar as the text bosun reads from the environment: `10`, `10s` and `"10s"` alike.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Number(u64),
    Text(String),
}

impl Scalar {
    fn into_text(self) -> String {
        match self {
            Self::Number(n) => n.to_string(),
            Self::Text(t) => t,
        }
    }
}

fn checked<'de, D: Deserializer<'de>>(
    deserializer: D,
    check: impl Fn(&str) -> Result<(), String>,
) -> Result<Option<String>, D::Error> {
    let Some(text) = Option::<Scalar>::deserialize(deserializer)?.map(Scalar::into_text) else {
        return Ok(None);
    };
    check(&text).map_err(serde::de::Error::custom)?;
    Ok(Some(text))
}

fn absolute<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    checked(d, |text| {
        if text.starts_with('/') {
            Ok(())
        } else {
            Err(format!("{text:?}: expected an absolute path"))
        }
    })
}

fn timespan<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    checked(d, |text| {
        parse_duration(text).map(drop).map_err(|why| {
            let quoted = format!("{text:?} is ");
            format!("{text:?}: {}", why.strip_prefix(&quoted).unwrap_or(&why))
        })
    })
}

fn a_run_as<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    checked(d, |text| {
        let numbers = text
            .split_once(':')
            .is_some_and(|(u, g)| u.parse::<u32>().is_ok() && g.parse::<u32>().is_ok());
        if numbers {
            Ok(())
        } else {
            Err(format!("{text:?}: expected UID:GID as numbers"))
        }
    })
}

fn a_size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    checked(d, |text| crate::vocab::size::parse_size(text).map(drop))
}

fn a_persist<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    checked(d, |text| Persist::parse(text).map(drop))
}

fn a_ready_failed<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    checked(d, |text| ReadyFailed::parse(text).map(drop))
}

fn verbosity<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    checked(d, |text| match text.parse::<u8>() {
        Ok(0..=3) => Ok(()),
        _ => Err(format!("{text:?}: expected a level from 0 to 3")),
    })
}

// ---- The typed settings, resolved from the variables [`settings`] gives ----

/// How long a process gets between SIGTERM and SIGKILL (`-t`, BOSUN_STOP_TIMEOUT).
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// The whole shutdown's limit: systemd's DefaultTimeoutStopSec=, which is also what its final
/// `systemd-shutdown` gives the remaining processes.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(90);

/// PID 1's own settings that the command line may override.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Supervision {
    /// BOSUN_KILL_PROCESS_GROUP (or tini's TINI_KILL_PROCESS_GROUP): signal the main command's
    /// whole process group.
    pub kill_process_group: bool,
    /// BOSUN_STOP_TIMEOUT.
    pub stop_timeout: Duration,
    /// BOSUN_SHUTDOWN_TIMEOUT.
    pub shutdown_timeout: Duration,
    /// BOSUN_VERBOSITY (or TINI_VERBOSITY): 0 to 3.
    pub verbosity: u8,
}

/// [`Supervision`] from the variables, defaults where unset.
pub fn supervision(env: &dyn Fn(&str) -> Option<String>) -> Result<Supervision, String> {
    let mut out = Supervision {
        kill_process_group: false,
        stop_timeout: DEFAULT_STOP_TIMEOUT,
        shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
        verbosity: 1,
    };
    for name in ["BOSUN_KILL_PROCESS_GROUP", "TINI_KILL_PROCESS_GROUP"] {
        if let Some(value) = env(name) {
            out.kill_process_group = parse_flag(name, &value)?;
        }
    }
    if let Some(value) = env("BOSUN_STOP_TIMEOUT") {
        out.stop_timeout =
            parse_duration(&value).map_err(|why| format!("BOSUN_STOP_TIMEOUT={value:?}: {why}"))?;
    }
    if let Some(value) = env("BOSUN_SHUTDOWN_TIMEOUT") {
        out.shutdown_timeout = parse_duration(&value)
            .map_err(|why| format!("BOSUN_SHUTDOWN_TIMEOUT={value:?}: {why}"))?;
    }
    for name in ["TINI_VERBOSITY", "BOSUN_VERBOSITY"] {
        if let Some(value) = env(name) {
            out.verbosity = value
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|v| *v <= 3)
                .ok_or_else(|| format!("{name}={value:?}: expected a level from 0 to 3"))?;
        }
    }
    Ok(out)
}

/// The boot phase's configuration (DESIGN.md's defaults; `BOSUN_*` variables override them).
/// Paths are as the container sees them; bosun finds them under `root` ([`VolumeSetup::host`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeSetup {
    /// BOSUN_ROOT ("/" in a container; tests point it at a scratch tree).
    pub root: PathBuf,
    /// BOSUN_DATA_DIR: the data volume.
    pub data_dir: PathBuf,
    /// BOSUN_TEMPLATE_DIR: the volume's life cycle runs only when it exists.
    pub template_dir: PathBuf,
    /// BOSUN_BUILD_ID_FILE: the image's build id, written by `bosun image prepare`.
    pub build_id_file: PathBuf,
    /// BOSUN_HOOKS_DIR: `first-boot.d/`, `upgrade.d/`, `boot.d/`, `shutdown.d/`.
    pub hooks_dir: PathBuf,
    /// BOSUN_RUN_AS or PUID/PGID: the owner of everything seeded or added to the volume (and
    /// of services without User=, through the units' setup).
    pub run_as: Option<(u32, u32)>,
    /// BOSUN_ALLOW_DOWNGRADE: merge an older image's template instead of refusing.
    pub allow_downgrade: bool,
    /// BOSUN_ADOPT_DATA: seed a non-empty volume never seeded by bosun, copying only what is
    /// missing.
    pub adopt_data: bool,
    /// BOSUN_RETRY_FIRST_BOOT: run failed first-boot or upgrade hooks again.
    pub retry_first_boot: bool,
    /// BOSUN_HOOK_TIMEOUT: none unless set (an installer can take twenty minutes).
    pub hook_timeout: Option<Duration>,
    /// How hook output is printed on stdout (BOSUN_LOG_FORMAT, BOSUN_LOG_PREFIX).
    pub log_format: Format,
}

impl VolumeSetup {
    /// DESIGN.md's defaults under `root`.
    pub fn new(root: PathBuf) -> VolumeSetup {
        VolumeSetup {
            root,
            data_dir: "/data".into(),
            template_dir: "/data-template".into(),
            build_id_file: "/etc/build-id".into(),
            hooks_dir: "/etc/bosun/hooks".into(),
            run_as: None,
            allow_downgrade: false,
            adopt_data: false,
            retry_first_boot: false,
            hook_timeout: None,
            log_format: Format::Prefixed,
        }
    }

    /// Where bosun finds `path` (absolute, as the container sees it): under the root.
    pub fn host(&self, path: &Path) -> PathBuf {
        self.root.join(path.strip_prefix("/").unwrap_or(path))
    }
}

/// The built-in WebDAV service's settings (DESIGN.md defaults, BOSUN_WEBDAV_* overrides).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebdavSetup {
    /// WEBDAV_AUTHENTICATION_REALM; the service exists only when it is set and not empty...
    pub realm: Option<String>,
    /// ... and this htdigest file exists.
    pub htdigest: PathBuf,
    pub root: PathBuf,
    pub listen: String,
    pub prefix: String,
    /// Run the server as this user (User=), not as root.
    pub user: Option<String>,
}

/// Which failed units make `initctl is-ready` (the readiness probe) say not ready
/// (BOSUN_READY_FAILED, `ready.failed`). Boot not complete is never ready, whatever this says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadyFailed {
    /// Any failed unit, of any type (a timer's failed run included).
    Any,
    /// A failed unit the default target pulls in (Requires=, Wants=, Requisite=, BindsTo=,
    /// enablement links, transitively): what boot started. Units started later by a timer, a
    /// socket or `systemctl start` do not count.
    #[default]
    Boot,
    /// No failure: ready once boot is complete.
    None,
}

impl ReadyFailed {
    /// `any`, `boot` or `none`.
    pub fn parse(text: &str) -> Result<ReadyFailed, String> {
        match text.trim() {
            "any" => Ok(ReadyFailed::Any),
            "boot" => Ok(ReadyFailed::Boot),
            "none" => Ok(ReadyFailed::None),
            other => Err(format!("{other:?}: expected any, boot or none")),
        }
    }

    /// The setting's word.
    pub fn word(self) -> &'static str {
        match self {
            ReadyFailed::Any => "any",
            ReadyFailed::Boot => "boot",
            ReadyFailed::None => "none",
        }
    }
}

/// Whether and where the journal is kept across restarts (`log.persist`, BOSUN_LOG_PERSIST).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Persist {
    /// In `DATA/.bosun/journal` when bosun manages a data volume (its life cycle runs), else
    /// not: journald's Storage=auto, with the volume as the place that outlives a container.
    #[default]
    Auto,
    Off,
    /// In this directory (as the container sees it), volume or not.
    Dir(PathBuf),
}

impl Persist {
    /// `auto`, `off` (or `no`, `0`, `false`), or an absolute path.
    pub fn parse(text: &str) -> Result<Persist, String> {
        match text.trim() {
            "" | "auto" => Ok(Persist::Auto),
            "off" | "no" | "0" | "false" => Ok(Persist::Off),
            path if path.starts_with('/') => Ok(Persist::Dir(path.into())),
            other => Err(format!(
                "{other:?}: expected auto, off or an absolute directory"
            )),
        }
    }

    /// The directory (as bosun reaches it, under `root`), given the data volume bosun manages
    /// (as bosun reaches it) if any.
    pub fn dir(&self, root: &Path, volume: Option<&Path>) -> Option<PathBuf> {
        match self {
            Persist::Off => None,
            Persist::Auto => volume.map(|v| {
                v.join(crate::volume::state::STATE_DIR)
                    .join(crate::journal::persist::DIR_NAME)
            }),
            Persist::Dir(dir) => Some(root.join(dir.strip_prefix("/").unwrap_or(dir))),
        }
    }
}

/// The persistent journal's setting and cap (BOSUN_LOG_PERSIST, BOSUN_LOG_PERSIST_MAX).
pub fn persist(env: &dyn Fn(&str) -> Option<String>) -> Result<(Persist, Option<u64>), String> {
    let persist = match env("BOSUN_LOG_PERSIST") {
        Some(v) => Persist::parse(&v).map_err(|why| format!("BOSUN_LOG_PERSIST={why}"))?,
        None => Persist::Auto,
    };
    let max = match env("BOSUN_LOG_PERSIST_MAX") {
        Some(v) => Some(
            crate::vocab::size::parse_size(&v)
                .map_err(|why| format!("BOSUN_LOG_PERSIST_MAX={why}"))? as u64,
        ),
        None => None,
    };
    Ok((persist, max))
}

/// Where units come from and how their output is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitsSetup {
    pub webdav: WebdavSetup,
    /// The unit search path, when not systemd's (BOSUN_UNIT_PATH, like SYSTEMD_UNIT_PATH).
    pub unit_path: Option<Vec<PathBuf>>,
    /// The root of the unit search path and tmpfiles.d ("/" in a container).
    pub root: PathBuf,
    pub log_format: Format,
    /// Bytes of output kept per unit for `initctl logs` (BOSUN_LOG_RING, `log.ring`).
    pub log_ring: usize,
    /// ... and for all units together (BOSUN_LOG_RING_TOTAL, `log.ring_total`).
    pub log_ring_total: usize,
    /// Whether and where the journal is kept across restarts (BOSUN_LOG_PERSIST).
    pub log_persist: Persist,
    /// The persistent journal's cap in bytes (BOSUN_LOG_PERSIST_MAX); None: a tenth of the
    /// filesystem, at most 64M.
    pub log_persist_max: Option<u64>,
    /// Where the notification socket is bound (`@name` for an abstract socket).
    pub notify_address: String,
    /// (uid, gid) for services without User= or Group= (BOSUN_RUN_AS, PUID/PGID).
    pub run_as: Option<(u32, u32)>,
    /// Create /run/systemd/system at boot, so packages' scripts route through systemctl
    /// (BOSUN_SYSTEMD_COMPAT, default on).
    pub systemd_compat: bool,
    /// Which generators run at boot and daemon-reload (BOSUN_GENERATORS).
    pub generators: crate::unit::generators::Policy,
    /// How long they may take together (BOSUN_GENERATOR_TIMEOUT).
    pub generator_timeout: Duration,
    /// Which failed units make the container not ready (BOSUN_READY_FAILED).
    pub ready_failed: ReadyFailed,
}

/// BOSUN_ROOT: where every configured path is looked up ("/" in a container).
pub fn root(env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf, String> {
    let root = PathBuf::from(env("BOSUN_ROOT").unwrap_or_else(|| "/".to_owned()));
    if !root.is_absolute() {
        return Err(format!(
            "BOSUN_ROOT={:?}: expected an absolute path",
            root.display()
        ));
    }
    Ok(root)
}

/// A size setting (BOSUN_LOG_RING, BOSUN_LOG_RING_TOTAL): `256K`, `16M`, as systemd writes
/// sizes.
fn size(env: &dyn Fn(&str) -> Option<String>, name: &str, default: usize) -> Result<usize, String> {
    match env(name) {
        Some(value) => {
            crate::vocab::size::parse_size(&value).map_err(|why| format!("{name}={why}"))
        }
        None => Ok(default),
    }
}

/// How output lines are shown: BOSUN_LOG_FORMAT and BOSUN_LOG_PREFIX.
pub fn log_format(env: &dyn Fn(&str) -> Option<String>) -> Result<Format, String> {
    let prefix = match env("BOSUN_LOG_PREFIX") {
        Some(v) => parse_flag("BOSUN_LOG_PREFIX", &v)?,
        None => true,
    };
    match env("BOSUN_LOG_FORMAT").as_deref().map(str::trim) {
        None | Some("" | "text") if prefix => Ok(Format::Prefixed),
        None | Some("" | "text") => Ok(Format::Bare),
        Some("json") => Ok(Format::Json),
        Some(other) => Err(format!("BOSUN_LOG_FORMAT={other:?}: expected text or json")),
    }
}

/// The data volume's setup: BOSUN_DATA_DIR, BOSUN_TEMPLATE_DIR, BOSUN_BUILD_ID_FILE,
/// BOSUN_HOOKS_DIR (absolute paths inside BOSUN_ROOT), BOSUN_RUN_AS (or PUID and PGID),
/// BOSUN_ALLOW_DOWNGRADE, BOSUN_ADOPT_DATA, BOSUN_RETRY_FIRST_BOOT and BOSUN_HOOK_TIMEOUT.
pub fn volume(
    env: &dyn Fn(&str) -> Option<String>,
    root: &Path,
    log_format: Format,
) -> Result<VolumeSetup, String> {
    let mut setup = VolumeSetup::new(root.to_owned());
    setup.log_format = log_format;
    for (name, field) in [
        ("BOSUN_DATA_DIR", &mut setup.data_dir),
        ("BOSUN_TEMPLATE_DIR", &mut setup.template_dir),
        ("BOSUN_BUILD_ID_FILE", &mut setup.build_id_file),
        ("BOSUN_HOOKS_DIR", &mut setup.hooks_dir),
    ] {
        if let Some(value) = env(name) {
            let path = PathBuf::from(&value);
            if !path.is_absolute() {
                return Err(format!(
                    "{name}={value:?}: expected an absolute path (inside BOSUN_ROOT)"
                ));
            }
            *field = path;
        }
    }
    for (name, field) in [
        ("BOSUN_ALLOW_DOWNGRADE", &mut setup.allow_downgrade),
        ("BOSUN_ADOPT_DATA", &mut setup.adopt_data),
        ("BOSUN_RETRY_FIRST_BOOT", &mut setup.retry_first_boot),
    ] {
        if let Some(value) = env(name) {
            *field = parse_flag(name, &value)?;
        }
    }
    setup.run_as = run_as(env)?;
    if let Some(value) = env("BOSUN_HOOK_TIMEOUT") {
        let timeout =
            parse_duration(&value).map_err(|why| format!("BOSUN_HOOK_TIMEOUT={value:?}: {why}"))?;
        // `infinity` (and 0, as systemd reads a zero timeout) means no timeout.
        setup.hook_timeout = Some(timeout).filter(|t| !t.is_zero() && *t != Duration::MAX);
    }
    Ok(setup)
}

/// BOSUN_RUN_AS=UID:GID, else the PUID/PGID convention (PGID defaults to PUID).
pub fn run_as(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<(u32, u32)>, String> {
    let id = |name: &str, value: &str| {
        value
            .trim()
            .parse::<u32>()
            .map_err(|_| format!("{name}={value:?}: expected a number"))
    };
    if let Some(value) = env("BOSUN_RUN_AS").filter(|v| !v.trim().is_empty()) {
        let (uid, gid) = value
            .split_once(':')
            .ok_or_else(|| format!("BOSUN_RUN_AS={value:?}: expected UID:GID as numbers"))?;
        return Ok(Some((id("BOSUN_RUN_AS", uid)?, id("BOSUN_RUN_AS", gid)?)));
    }
    match (env("PUID"), env("PGID")) {
        (Some(uid), gid) => {
            let uid_n = id("PUID", &uid)?;
            let gid_n = match gid {
                Some(gid) => id("PGID", &gid)?,
                None => uid_n,
            };
            Ok(Some((uid_n, gid_n)))
        }
        (None, Some(_)) => {
            Err("PGID is set without PUID: set both (or BOSUN_RUN_AS=UID:GID)".to_owned())
        }
        (None, None) => Ok(None),
    }
}

/// The units setup from BOSUN_UNITS and the BOSUN_WEBDAV_*, BOSUN_UNIT_PATH and
/// BOSUN_NOTIFY_SOCKET variables.
pub fn units(
    env: &dyn Fn(&str) -> Option<String>,
    root: &Path,
    log_format: Format,
    run_as: Option<(u32, u32)>,
) -> Result<Option<UnitsSetup>, String> {
    if let Some(value) = env("BOSUN_UNITS")
        && !parse_flag("BOSUN_UNITS", &value)?
    {
        return Ok(None);
    }
    let var = |name: &str, default: &str| env(name).unwrap_or_else(|| default.to_owned());
    let webdav = WebdavSetup {
        realm: env("WEBDAV_AUTHENTICATION_REALM"),
        htdigest: var(
            "BOSUN_WEBDAV_HTDIGEST",
            "/opt/app-root/secrets/webdav/.htdigest",
        )
        .into(),
        root: var("BOSUN_WEBDAV_ROOT", "/opt/app-root/src").into(),
        listen: var("BOSUN_WEBDAV_LISTEN", "0.0.0.0:8081"),
        prefix: var("BOSUN_WEBDAV_PREFIX", "/webdav/"),
        user: env("BOSUN_WEBDAV_USER").filter(|u| !u.is_empty()),
    };
    // Like SYSTEMD_UNIT_PATH: colon-separated; a trailing ':' appends systemd's search path.
    let unit_path = env("BOSUN_UNIT_PATH").map(|text| {
        let mut dirs: Vec<std::path::PathBuf> = text
            .split(':')
            .filter(|d| !d.is_empty())
            .map(Into::into)
            .collect();
        if text.ends_with(':') {
            dirs.extend(crate::unit::load::BOOT_UNIT_PATH.iter().map(Into::into));
        }
        dirs
    });
    let (log_persist, log_persist_max) = persist(env)?;
    Ok(Some(UnitsSetup {
        log_persist,
        log_persist_max,
        webdav,
        unit_path,
        root: root.to_owned(),
        log_format,
        log_ring: size(env, "BOSUN_LOG_RING", crate::journal::ring::RING_DEFAULT)?,
        log_ring_total: size(
            env,
            "BOSUN_LOG_RING_TOTAL",
            crate::journal::ring::RING_TOTAL_DEFAULT,
        )?,
        notify_address: env("BOSUN_NOTIFY_SOCKET")
            .unwrap_or_else(|| "/run/bosun/notify".to_owned()),
        run_as,
        systemd_compat: match env("BOSUN_SYSTEMD_COMPAT") {
            Some(v) => parse_flag("BOSUN_SYSTEMD_COMPAT", &v)?,
            None => true,
        },
        generators: match env("BOSUN_GENERATORS") {
            Some(v) => crate::unit::generators::Policy::parse(&v)
                .map_err(|why| format!("BOSUN_GENERATORS={v:?}: {why}"))?,
            None => crate::unit::generators::Policy::Auto,
        },
        generator_timeout: match env("BOSUN_GENERATOR_TIMEOUT") {
            Some(v) => {
                parse_duration(&v).map_err(|why| format!("BOSUN_GENERATOR_TIMEOUT={v:?}: {why}"))?
            }
            // systemd's DEFAULT_TIMEOUT_USEC, which it gives its generators.
            None => Duration::from_secs(90),
        },
        ready_failed: match env("BOSUN_READY_FAILED") {
            Some(v) => ReadyFailed::parse(&v).map_err(|why| format!("BOSUN_READY_FAILED={why}"))?,
            None => ReadyFailed::default(),
        },
    }))
}

pub fn parse_flag(name: &str, value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "on" => Ok(true),
        "0" | "no" | "false" | "off" | "" => Ok(false),
        _ => Err(format!("{name}={value:?}: expected 1 or 0")),
    }
}

#[cfg(test)]
mod tests;
