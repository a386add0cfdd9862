//! Specifiers (systemd.unit(5), "Specifiers"): `%n`, `%i`, `%I`, `%H`, ... resolved against a
//! unit's name and a [`SpecifierContext`] that holds the host facts (host name, machine ID,
//! boot ID, the manager's user, the directories). Tests build a fixed context, so results are
//! deterministic; only [`SpecifierContext::from_system`] reads the machine.

use std::collections::BTreeMap;
use std::path::Path;

use super::name::{self, UnitName};

/// Why a specifier cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecifierError {
    /// `%` followed by a letter systemd does not define.
    #[error("unknown specifier %{letter} (write %% for a literal percent sign)")]
    Unknown {
        /// The letter after `%`.
        letter: char,
    },
}

/// The host facts specifiers resolve to. Fields are public so callers and tests can set them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecifierContext {
    /// `%H`: the host name (`%l` is its first label).
    pub hostname: String,
    /// `%q`: the pretty host name (PRETTY_HOSTNAME of /etc/machine-info, else the host name).
    pub pretty_hostname: String,
    /// `%m`: the machine ID (/etc/machine-id).
    pub machine_id: String,
    /// `%b`: the boot ID.
    pub boot_id: String,
    /// `%a`: the architecture in systemd's spelling (`x86-64`, `arm64`).
    pub architecture: String,
    /// `%v`: the kernel release.
    pub kernel_release: String,
    /// os-release(5) fields for `%o %w %W %B %M %A` (ID, VERSION_ID, VARIANT_ID, BUILD_ID,
    /// IMAGE_ID, IMAGE_VERSION).
    pub os_release: BTreeMap<String, String>,
    /// `%u`: the user name of the service manager.
    pub user_name: String,
    /// `%U`: its UID.
    pub uid: u32,
    /// `%g`: its group name.
    pub group_name: String,
    /// `%G`: its GID.
    pub gid: u32,
    /// `%h`: its home directory.
    pub home: String,
    /// `%s`: its shell.
    pub shell: String,
    /// `%t`: the runtime directory root (`/run`).
    pub runtime_dir: String,
    /// `%S`: the state directory root (`/var/lib`).
    pub state_dir: String,
    /// `%C`: the cache directory root (`/var/cache`).
    pub cache_dir: String,
    /// `%L`: the logs directory root (`/var/log`).
    pub logs_dir: String,
    /// `%E`: the configuration directory root (`/etc`).
    pub config_dir: String,
    /// `%T`: the temporary directory (`/tmp` or $TMPDIR).
    pub tmp_dir: String,
    /// `%V`: the persistent temporary directory (`/var/tmp` or $TMPDIR).
    pub var_tmp_dir: String,
}

impl SpecifierContext {
    /// A deterministic context: the system manager's directories, root, and made-up host facts.
    pub fn fixed() -> Self {
        SpecifierContext {
            hostname: "host.example.org".to_owned(),
            pretty_hostname: "Example Host".to_owned(),
            machine_id: "0123456789abcdef0123456789abcdef".to_owned(),
            boot_id: "fedcba9876543210fedcba9876543210".to_owned(),
            architecture: "x86-64".to_owned(),
            kernel_release: "6.1.0-test".to_owned(),
            os_release: [("ID", "debian"), ("VERSION_ID", "12")]
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            user_name: "root".to_owned(),
            uid: 0,
            group_name: "root".to_owned(),
            gid: 0,
            home: "/root".to_owned(),
            shell: "/bin/sh".to_owned(),
            runtime_dir: "/run".to_owned(),
            state_dir: "/var/lib".to_owned(),
            cache_dir: "/var/cache".to_owned(),
            logs_dir: "/var/log".to_owned(),
            config_dir: "/etc".to_owned(),
            tmp_dir: "/tmp".to_owned(),
            var_tmp_dir: "/var/tmp".to_owned(),
        }
    }

    /// The context of this machine, with files read under `root` (host name, machine ID,
    /// os-release); missing facts become empty strings.
    pub fn from_system(root: &Path) -> Self {
        let read = |p: &str| -> String {
            std::fs::read_to_string(root.join(p))
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        let mut ctx = SpecifierContext::fixed();
        let kernel_hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        ctx.hostname = if kernel_hostname.is_empty() {
            read("etc/hostname")
        } else {
            kernel_hostname
        };
        let machine_info = parse_kv(&read("etc/machine-info"));
        ctx.pretty_hostname = machine_info
            .get("PRETTY_HOSTNAME")
            .cloned()
            .unwrap_or_else(|| ctx.hostname.clone());
        ctx.machine_id = read("etc/machine-id");
        ctx.boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .map(|s| s.trim().replace('-', ""))
            .unwrap_or_default();
        ctx.kernel_release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        ctx.architecture = match std::env::consts::ARCH {
            "x86_64" => "x86-64",
            "aarch64" => "arm64",
            "powerpc64" => "ppc64-le",
            "loongarch64" => "loongarch64",
            other => other,
        }
        .to_owned();
        let mut os = read("etc/os-release");
        if os.is_empty() {
            os = read("usr/lib/os-release");
        }
        ctx.os_release = parse_kv(&os);
        let uid = nix::unistd::geteuid();
        let gid = nix::unistd::getegid();
        ctx.uid = uid.as_raw();
        ctx.gid = gid.as_raw();
        match nix::unistd::User::from_uid(uid) {
            Ok(Some(user)) => {
                ctx.user_name = user.name;
                ctx.home = user.dir.to_string_lossy().into_owned();
                ctx.shell = user.shell.to_string_lossy().into_owned();
            }
            _ => {
                ctx.user_name = ctx.uid.to_string();
                ctx.home = "/".to_owned();
            }
        }
        if ctx.uid == 0 {
            // systemd.unit(5): for the system manager %h is /root and %s is /bin/sh.
            ctx.home = "/root".to_owned();
            ctx.shell = "/bin/sh".to_owned();
        }
        ctx.group_name = match nix::unistd::Group::from_gid(gid) {
            Ok(Some(group)) => group.name,
            _ => ctx.gid.to_string(),
        };
        for var in ["TMPDIR", "TEMP", "TMP"] {
            if let Ok(dir) = std::env::var(var)
                && dir.starts_with('/')
            {
                ctx.tmp_dir.clone_from(&dir);
                ctx.var_tmp_dir = dir;
                break;
            }
        }
        ctx
    }

    fn os(&self, key: &str) -> String {
        self.os_release.get(key).cloned().unwrap_or_default()
    }
}

/// KEY=value lines with optional quotes (os-release(5), machine-info(5)).
fn parse_kv(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.trim().split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_owned(),
                v.trim().trim_matches(['"', '\'']).to_owned(),
            )
        })
        .collect()
}

/// Resolve every specifier in `text` for `unit`, whose fragment is `fragment` (`%y`, `%Y`).
pub fn expand(
    text: &str,
    ctx: &SpecifierContext,
    unit: &UnitName,
    fragment: Option<&Path>,
) -> Result<String, SpecifierError> {
    if !text.contains('%') {
        return Ok(text.to_owned());
    }
    printf(text, |letter| {
        let Some(letter) = letter else {
            return Ok("%".to_owned()); // a trailing '%' stays, as in systemd's specifier_printf
        };
        let prefix = unit.prefix();
        let last = prefix.rsplit_once('-').map_or(prefix, |(_, l)| l);
        let instance = unit.instance().unwrap_or("");
        let fragment_str = || {
            fragment
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        };
        let value: String = match letter {
            '%' => "%".to_owned(),
            'a' => ctx.architecture.clone(),
            'A' => ctx.os("IMAGE_VERSION"),
            'b' => ctx.boot_id.clone(),
            'B' => ctx.os("BUILD_ID"),
            'C' => ctx.cache_dir.clone(),
            'd' => credentials_dir(unit.as_ref()),
            'E' => ctx.config_dir.clone(),
            'f' => {
                if unit.instance().is_some() {
                    name::unescape_path(instance)
                } else {
                    name::unescape_path(prefix)
                }
            }
            'g' => ctx.group_name.clone(),
            'G' => ctx.gid.to_string(),
            'h' => ctx.home.clone(),
            'H' => ctx.hostname.clone(),
            'i' => instance.to_owned(),
            'I' => name::unescape(instance),
            'j' => last.to_owned(),
            'J' => name::unescape(last),
            'l' => ctx.hostname.split('.').next().unwrap_or("").to_owned(),
            'L' => ctx.logs_dir.clone(),
            'm' => ctx.machine_id.clone(),
            'M' => ctx.os("IMAGE_ID"),
            'n' => unit.to_string(),
            'N' => unit.without_suffix().to_owned(),
            'o' => ctx.os("ID"),
            'p' => prefix.to_owned(),
            'P' => name::unescape(prefix),
            'q' => ctx.pretty_hostname.clone(),
            's' => ctx.shell.clone(),
            'S' => ctx.state_dir.clone(),
            't' => ctx.runtime_dir.clone(),
            'T' => ctx.tmp_dir.clone(),
            'u' => ctx.user_name.clone(),
            'U' => ctx.uid.to_string(),
            'v' => ctx.kernel_release.clone(),
            'V' => ctx.var_tmp_dir.clone(),
            'w' => ctx.os("VERSION_ID"),
            'W' => ctx.os("VARIANT_ID"),
            'y' => fragment_str(),
            'Y' => fragment
                .and_then(Path::parent)
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            // specifier_printf: only letters and digits are reserved for specifiers; "%;" and
            // the like stay as written.
            other if other.is_ascii_alphanumeric() => {
                return Err(SpecifierError::Unknown { letter: other });
            }
            other => format!("%{other}"),
        };
        Ok(value)
    })
}

/// systemd's specifier_printf() walk, the one every specifier table goes through (unit files,
/// `[Install]`, tmpfiles.d): each `%x` is replaced by `lookup(Some(x))`, a `%` at the very end
/// by `lookup(None)`; an error from `lookup` ends the walk. The tables, and what an unknown
/// letter or a trailing `%` means, are the callers'.
pub fn printf<E>(
    text: &str,
    mut lookup: impl FnMut(Option<char>) -> Result<String, E>,
) -> Result<String, E> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let letter = chars.next();
        out.push_str(&lookup(letter)?);
        if letter.is_none() {
            break;
        }
    }
    Ok(out)
}

/// Where a unit's credentials are: systemd's `/run/credentials/UNIT`, or, when bosun is not
/// root (an image run with `--user`, OpenShift's arbitrary UIDs, where /run belongs to root),
/// `/run/bosun/credentials/UNIT`, in the runtime directory `bosun image link` lets any user
/// write. `%d` names the same place.
pub fn credentials_dir(unit: &str) -> String {
    let base = if nix::unistd::geteuid().is_root() {
        "/run/credentials"
    } else {
        "/run/bosun/credentials"
    };
    format!("{base}/{unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x(text: &str, unit: &str) -> String {
        let unit = UnitName::parse(unit).unwrap();
        expand(
            text,
            &SpecifierContext::fixed(),
            &unit,
            Some(Path::new("/lib/systemd/system/u.service")),
        )
        .unwrap()
    }

    #[test]
    fn golden_instance_specifiers() {
        let u = "postgresql@15-main.service";
        assert_eq!(
            x("%n|%N|%p|%P|%i|%I|%f", u),
            "postgresql@15-main.service|postgresql@15-main|postgresql|postgresql|15-main|15/main|/15/main"
        );
        assert_eq!(x("%j|%J", "foo-bar\\x2dbaz-qux@a.service"), "qux|qux");
        assert_eq!(
            x("%p|%P|%j|%f", "dev-disk-by\\x2dlabel.swap"),
            "dev-disk-by\\x2dlabel|dev/disk/by-label|by\\x2dlabel|/dev/disk/by-label"
        );
        assert_eq!(x("%i|%I|%f", "getty@.service"), "||/");
    }

    #[test]
    fn golden_host_and_directories() {
        let u = "web.service";
        assert_eq!(
            x("%H %l %m %b %u %U %g %G %h %s", u),
            "host.example.org host 0123456789abcdef0123456789abcdef fedcba9876543210fedcba9876543210 root 0 root 0 /root /bin/sh"
        );
        assert_eq!(
            x("%t %S %C %L %E %T %V %d", u),
            "/run /var/lib /var/cache /var/log /etc /tmp /var/tmp /run/credentials/web.service"
        );
        assert_eq!(
            x("%y %Y %o %w %a 100%% %", u),
            "/lib/systemd/system/u.service /lib/systemd/system debian 12 x86-64 100% %"
        );
        let unit = UnitName::parse(u).unwrap();
        assert_eq!(
            expand("%Z", &SpecifierContext::fixed(), &unit, None)
                .unwrap_err()
                .to_string(),
            "unknown specifier %Z (write %% for a literal percent sign)"
        );
    }

    #[test]
    fn printf_walks_as_systemd() {
        let table = |letter: Option<char>| match letter {
            Some('a') => Ok("A".to_owned()),
            Some(other) => Err(other),
            None => Ok("<end>".to_owned()),
        };
        assert_eq!(printf("x%ay%a", table), Ok("xAyA".to_owned()));
        assert_eq!(printf("ü%", table), Ok("ü<end>".to_owned()));
        assert_eq!(printf("%a%z%a", table), Err('z'));
        assert_eq!(printf("plain", table), Ok("plain".to_owned()));
    }
}
