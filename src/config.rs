//! bosun's optional configuration file, `/etc/bosun/bosun.yaml` (inside `BOSUN_ROOT`; another
//! file with `BOSUN_CONFIG`). Each key is also an environment variable, `BOSUN_<UPPER_SNAKE>`
//! (`log.format` is `BOSUN_LOG_FORMAT`, `webdav.realm` is `WEBDAV_AUTHENTICATION_REALM`), and
//! the environment wins: an image sets defaults in the file, `podman run -e` overrides them.
//!
//! The file is checked when it is read: an unknown key, a wrong type, a relative path or a bad
//! duration is an error that names the file, the line and the column, and bosun does not start.
//! Values are then handed to the same code that reads the environment, as text: [`settings`]
//! resolves each setting once, the environment over the file, and durations are read through
//! [`Timespan`]. Must not know the command line (it overrides what this resolves).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::unit::Timespan;

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
    #[serde(default, deserialize_with = "run_as")]
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
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Log {
    prefix: Option<bool>,
    format: Option<LogFormat>,
    #[serde(default, deserialize_with = "size")]
    ring: Option<String>,
    #[serde(default, deserialize_with = "size")]
    ring_total: Option<String>,
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
            ("WEBDAV_AUTHENTICATION_REALM", webdav.realm),
            ("BOSUN_WEBDAV_HTDIGEST", webdav.htdigest),
            ("BOSUN_WEBDAV_ROOT", webdav.root),
            ("BOSUN_WEBDAV_LISTEN", webdav.listen),
            ("BOSUN_WEBDAV_PREFIX", webdav.prefix),
            ("BOSUN_WEBDAV_USER", webdav.user),
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

fn run_as<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
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

fn size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    checked(d, |text| crate::vocab::size::parse_size(text).map(drop))
}

fn verbosity<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    checked(d, |text| match text.parse::<u8>() {
        Ok(0..=3) => Ok(()),
        _ => Err(format!("{text:?}: expected a level from 0 to 3")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("1min 30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_duration("5 parsecs").is_err());
        assert_eq!(parse_duration("infinity").unwrap(), Duration::MAX);
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn the_designs_example_reads_as_the_variables() {
        let file = File::parse(
            "# comment\n\
             data_dir: /srv/data\n\
             template_dir: /srv/template\n\
             run_as: \"1000:1000\"\n\
             stop_timeout: 10s\n\
             shutdown_timeout: infinity\n\
             hook_timeout: 1200\n\
             log: { prefix: false, format: json, ring: 64K, ring_total: 8M }\n\
             systemd_compat: true\n\
             webdav:\n\
             \x20 realm: Dev\n\
             \x20 root: /opt/app-root/src\n\
             \x20 user: null\n",
        )
        .unwrap();
        assert_eq!(file.get("BOSUN_DATA_DIR"), Some("/srv/data"));
        assert_eq!(file.get("BOSUN_TEMPLATE_DIR"), Some("/srv/template"));
        assert_eq!(file.get("BOSUN_RUN_AS"), Some("1000:1000"));
        assert_eq!(file.get("BOSUN_STOP_TIMEOUT"), Some("10s"));
        assert_eq!(file.get("BOSUN_SHUTDOWN_TIMEOUT"), Some("infinity"));
        assert_eq!(file.get("BOSUN_HOOK_TIMEOUT"), Some("1200"));
        assert_eq!(file.get("BOSUN_LOG_PREFIX"), Some("0"));
        assert_eq!(file.get("BOSUN_LOG_FORMAT"), Some("json"));
        assert_eq!(file.get("BOSUN_LOG_RING"), Some("64K"));
        assert_eq!(file.get("BOSUN_LOG_RING_TOTAL"), Some("8M"));
        assert_eq!(file.get("BOSUN_SYSTEMD_COMPAT"), Some("1"));
        assert_eq!(file.get("WEBDAV_AUTHENTICATION_REALM"), Some("Dev"));
        assert_eq!(file.get("BOSUN_WEBDAV_USER"), None);
        assert_eq!(file.get("BOSUN_HOOKS_DIR"), None);
        assert_eq!(File::parse("# only a comment\n").unwrap(), File::default());
    }

    #[test]
    fn mistakes_name_the_line_and_what_is_wrong() {
        for (text, line, says) in [
            ("data_dir: /data\nstop_timeout: 10x\n", 2, "10x"),
            ("data_dir: data\n", 1, "absolute path"),
            ("datadir: /data\n", 1, "unknown field `datadir`"),
            ("log:\n  format: xml\n", 2, "unknown variant `xml`"),
            ("units: maybe\n", 1, "invalid type"),
            ("run_as: bob\n", 1, "UID:GID"),
            (
                "webdav:\n  realm: x\n  port: 1\n",
                3,
                "unknown field `port`",
            ),
            ("verbosity: 9\n", 1, "0 to 3"),
            ("log:\n  ring: 16 MB\n", 2, "not a size"),
        ] {
            let err = File::parse(text).unwrap_err();
            assert!(
                err.contains(says) && err.contains(&format!("line {line}")),
                "{text:?} gave {err:?}"
            );
        }
    }

    #[test]
    fn a_missing_default_file_is_no_settings_but_a_missing_named_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(File::load(dir.path(), None).unwrap(), File::default());
        let named = dir.path().join("bosun.yaml");
        let err = File::load(dir.path(), Some(&named)).unwrap_err();
        assert!(
            err.contains("cannot read") && err.contains("bosun.yaml"),
            "{err}"
        );
        std::fs::create_dir_all(dir.path().join("etc/bosun")).unwrap();
        std::fs::write(dir.path().join(DEFAULT_PATH), "stop_timeout: soon\n").unwrap();
        let err = File::load(dir.path(), None).unwrap_err();
        assert!(
            err.starts_with(&dir.path().join(DEFAULT_PATH).display().to_string())
                && err.contains("line 1"),
            "{err}"
        );
    }
}
