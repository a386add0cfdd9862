//! SysV init scripts as systemd-sysv-generator(8) of systemd 252 reads them: the LSB header
//! (`### BEGIN INIT INFO` .. `### END INIT INFO`) and the Red Hat `# description:` /
//! `# pidfile:` comments of an `/etc/init.d` script, the facility names (`$network`, ...)
//! mapped to units, and the text of the unit the generator writes for it. Pure: text in, text
//! out (but for [`native_unit_exists`], a look at the search path). Finding the scripts and writing the units is [`crate::boot::sysv`]'s; the `rc?.d`
//! links behind offline enable/disable are [`super::install::sysv`]'s.

/// The directory of the scripts (systemd's SYSTEM_SYSVINIT_PATH on Debian).
pub const INIT_D: &str = "/etc/init.d";

/// The start runlevel directories under /etc and the target each maps to (rcnd_table; the
/// shutdown runlevels 0 and 6 are not read: the default dependencies stop the units).
pub const RUNLEVELS: [(&str, &str); 5] = [
    ("rc1.d", "rescue.target"),
    ("rc2.d", "multi-user.target"),
    ("rc3.d", "multi-user.target"),
    ("rc4.d", "multi-user.target"),
    ("rc5.d", "graphical.target"),
];

/// LSB exit codes 5 (program is not installed) and 6 (not configured) count as success.
const LSB_SUCCESS: &str = "5 6";

/// One script and the unit it becomes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Script {
    /// The unit's name, `NAME.service` (a `.sh` suffix dropped).
    pub name: String,
    /// The script as the system sees it: `/etc/init.d/NAME`.
    pub path: String,
    /// `LSB: ` (or `SYSV: `) and the best description found.
    pub description: Option<String>,
    /// It has an LSB header.
    pub has_lsb: bool,
    /// Its usage line offers `reload`.
    pub reload: bool,
    /// `# pidfile:` (Red Hat style).
    pub pid_file: Option<String>,
    pub before: Vec<String>,
    pub after: Vec<String>,
    pub wants: Vec<String>,
    /// Targets whose `.wants/` link to it (from the `S??NAME` links).
    pub wanted_by: Vec<String>,
    /// Other service names from `Provides:`, as alias links.
    pub aliases: Vec<String>,
    /// The highest `S??` number among its start links, for scripts without LSB headers.
    pub start_priority: Option<u8>,
    /// `Default-Start:` and `Default-Stop:` runlevels (what update-rc.d links).
    pub default_start: Vec<String>,
    pub default_stop: Vec<String>,
}

/// A unit file (or mask) named `name` under `root` in the system's own search path, generated
/// ones aside (LOOKUP_PATHS_EXCLUDE_GENERATED): a script with one gets no generated unit, and
/// systemctl enables the native unit beside the script.
pub fn native_unit_exists(root: &std::path::Path, name: &str) -> bool {
    super::load::SYSTEM_UNIT_PATH.iter().any(|dir| {
        root.join(dir.trim_start_matches('/'))
            .join(name)
            .symlink_metadata()
            .is_ok()
    })
}

/// Where the reader is in the script (load_sysv()'s states).
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Normal,
    Description,
    Lsb,
    LsbDescription,
    UsageContinuation,
}

/// An `rc?.d` link's name, `S` or `K`, two digits, then the script's name: its letter,
/// priority and script name (update-rc.d's and the generator's one reading of it).
pub fn rc_link(file: &str) -> Option<(u8, u8, &str)> {
    let b = file.as_bytes();
    if b.len() < 4
        || !matches!(b[0], b'S' | b'K')
        || !b[1].is_ascii_digit()
        || !b[2].is_ascii_digit()
    {
        return None;
    }
    Some((b[0], (b[1] - b'0') * 10 + (b[2] - b'0'), &file[3..]))
}

/// The unit name of a script or of a service facility: `.sh` dropped, `.service` added,
/// characters a unit name cannot hold written as `\xNN` (unit_name_mangle()).
pub fn unit_name(script: &str) -> String {
    let base = script.strip_suffix(".sh").unwrap_or(script);
    let mut out = String::with_capacity(base.len() + 8);
    for b in base.bytes() {
        if b.is_ascii_alphanumeric() || b":-_.\\@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push_str(".service");
    out
}

/// What a facility name means: None when it is implied or redundant (`$local_fs`,
/// `$syslog`, the script's own name). sysv_translate_facility().
fn facility(word: &str, script_file: &str) -> Option<String> {
    let bare = word.strip_prefix('$').unwrap_or(word);
    let known = match bare {
        "local_fs" | "syslog" => Some(None),
        "network" => Some(Some("network-online.target")),
        "named" => Some(Some("nss-lookup.target")),
        "portmap" => Some(Some("rpcbind.target")),
        "remote_fs" => Some(Some("remote-fs.target")),
        "time" => Some(Some("time-sync.target")),
        _ => None,
    };
    if let Some(unit) = known {
        return unit.map(str::to_owned);
    }
    if word.starts_with('$') {
        // Unknown `$` facilities are most likely targets; an invalid name is dropped.
        let ok = !bare.is_empty()
            && bare
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b":-_.\\".contains(&b));
        return ok.then(|| format!("{bare}.target"));
    }
    let own = script_file.strip_suffix(".sh").unwrap_or(script_file);
    (bare != own).then(|| unit_name(bare))
}

/// The words of a header value (extract_first_word with quotes removed).
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split_ascii_whitespace()
        .map(|w| w.trim_matches(|c| c == '"' || c == '\''))
        .filter(|w| !w.is_empty())
}

/// `text` starts with `prefix`, ignoring ASCII case: the rest.
fn after_prefix<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// A usage line that offers `reload` (usage_contains_reload()).
fn offers_reload(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    [
        "{reload|",
        "{reload}",
        "{reload\"",
        "|reload|",
        "|reload}",
        "|reload\"",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

fn non_empty(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

impl Script {
    /// The script at `path` (as the system sees it) before its text is read.
    pub fn new(path: &str) -> Script {
        let file = path.rsplit('/').next().unwrap_or(path);
        Script {
            name: unit_name(file),
            path: path.to_owned(),
            ..Script::default()
        }
    }

    fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// A start link `S<NN>` in a runlevel directory mapped to `target` (read before the text,
    /// as the generator does: these orderings come first in the unit).
    pub fn add_start_link(&mut self, priority: u8, target: &str) {
        self.start_priority = Some(self.start_priority.map_or(priority, |p| p.max(priority)));
        self.before.push(target.to_owned());
        self.wanted_by.push(target.to_owned());
    }

    /// Read the script's text: its header and comments, and whether it offers reload.
    pub fn load(&mut self, text: &str) {
        let mut state = State::Normal;
        let (mut short, mut long, mut chkconfig) = (None::<String>, None::<String>, None::<String>);
        for raw in text.lines() {
            let line = raw.trim();
            if !line.starts_with('#') {
                if state == State::UsageContinuation
                    || (state == State::Normal && line.to_ascii_lowercase().contains("usage"))
                {
                    state = if offers_reload(line) {
                        self.reload = true;
                        State::Normal
                    } else if line.ends_with('\\') {
                        State::UsageContinuation
                    } else {
                        State::Normal
                    };
                }
                continue;
            }
            if state == State::Normal && line == "### BEGIN INIT INFO" {
                state = State::Lsb;
                self.has_lsb = true;
                continue;
            }
            if matches!(state, State::Lsb | State::LsbDescription) && line == "### END INIT INFO" {
                state = State::Normal;
                continue;
            }
            let t = line[1..].trim_start();
            match state {
                State::Normal | State::UsageContinuation => {
                    if let Some(rest) = after_prefix(t, "description:") {
                        let rest = match rest.strip_suffix('\\') {
                            Some(r) => {
                                state = State::Description;
                                r
                            }
                            None => rest,
                        };
                        chkconfig = non_empty(rest);
                    } else if let Some(rest) = after_prefix(t, "pidfile:") {
                        state = State::Normal;
                        let rest = rest.trim();
                        if rest.starts_with('/') {
                            self.pid_file = Some(rest.to_owned());
                        }
                    }
                }
                State::Description => {
                    let rest = match t.strip_suffix('\\') {
                        Some(r) => r,
                        None => {
                            state = State::Normal;
                            t
                        }
                    };
                    if let Some(more) = non_empty(rest) {
                        chkconfig = Some(match chkconfig {
                            Some(d) => format!("{d} {more}"),
                            None => more,
                        });
                    }
                }
                State::Lsb | State::LsbDescription => {
                    state = self.header_line(raw.trim(), t, state, &mut short, &mut long);
                }
            }
        }
        let best = short.or(chkconfig).or(long);
        let tag = if self.has_lsb { "LSB" } else { "SYSV" };
        self.description = best.map(|d| format!("{tag}: {d}"));
    }

    /// One comment line inside the LSB header; the state after it.
    fn header_line(
        &mut self,
        line: &str,
        t: &str,
        state: State,
        short: &mut Option<String>,
        long: &mut Option<String>,
    ) -> State {
        if let Some(rest) = after_prefix(t, "Provides:") {
            self.provides(rest);
        } else if let Some(rest) = ["Required-Start:", "Should-Start:", "X-Start-After:"]
            .iter()
            .find_map(|p| after_prefix(t, p))
        {
            self.dependencies(rest, false);
        } else if let Some(rest) = after_prefix(t, "X-Start-Before:") {
            self.dependencies(rest, true);
        } else if let Some(rest) = after_prefix(t, "Default-Start:") {
            self.default_start = words(rest).map(str::to_owned).collect();
        } else if let Some(rest) = after_prefix(t, "Default-Stop:") {
            self.default_stop = words(rest).map(str::to_owned).collect();
        } else if let Some(rest) = after_prefix(t, "Description:") {
            *long = non_empty(rest);
            return State::LsbDescription;
        } else if let Some(rest) = after_prefix(t, "Short-Description:") {
            *short = non_empty(rest);
        } else if state == State::LsbDescription {
            // A continuation is indented by a tab or two spaces after the '#'.
            if !(line.starts_with("#\t") || line.starts_with("#  ")) {
                return State::Lsb;
            }
            if let Some(more) = non_empty(t) {
                *long = Some(match long.take() {
                    Some(d) => format!("{d} {more}"),
                    None => more,
                });
            }
            return State::LsbDescription;
        }
        // Required-Stop:, Should-Stop:, X-Interactive: and the rest order nothing in systemd.
        State::Lsb
    }

    /// `Provides:`: other service names become aliases; a target it provides is wanted and
    /// ordered after it (the target does not pull the script in).
    fn provides(&mut self, text: &str) {
        let file = self.file_name().to_owned();
        for word in words(text) {
            let Some(unit) = facility(word, &file) else {
                continue;
            };
            if unit.ends_with(".service") {
                self.aliases.push(unit);
            } else if unit.ends_with(".target") {
                self.before.push(unit.clone());
                self.wants.push(unit.clone());
                if unit == "network-online.target" {
                    self.before.push("network.target".to_owned());
                    self.wants.push("network.target".to_owned());
                }
            }
        }
    }

    /// `Required-Start:` and friends (after), `X-Start-Before:` (before). network-online.target
    /// has to be pulled in to be reached, so an ordering after it also wants it.
    fn dependencies(&mut self, text: &str, before: bool) {
        let file = self.file_name().to_owned();
        for word in words(text) {
            let Some(unit) = facility(word, &file) else {
                continue;
            };
            if before {
                self.before.push(unit);
            } else {
                if unit == "network-online.target" {
                    self.wants.push(unit.clone());
                }
                self.after.push(unit);
            }
        }
    }

    /// Scripts without LSB headers are ordered by their `S??` numbers against the others
    /// (fix_order()); two with headers are not.
    pub fn order_by_priority(scripts: &mut [Script]) {
        let facts: Vec<(String, Option<u8>, bool)> = scripts
            .iter()
            .map(|s| (s.name.clone(), s.start_priority, s.has_lsb))
            .collect();
        for (i, s) in scripts.iter_mut().enumerate() {
            let Some(mine) = s.start_priority else {
                continue;
            };
            for (j, (name, theirs, lsb)) in facts.iter().enumerate() {
                let Some(theirs) = *theirs else { continue };
                if i == j || (s.has_lsb && *lsb) {
                    continue;
                }
                if theirs < mine {
                    s.after.push(name.clone());
                } else if theirs > mine {
                    s.before.push(name.clone());
                }
            }
        }
    }

    /// The unit file, line for line what systemd-sysv-generator 252 writes (generate_unit_file()),
    /// but for the comment that says who wrote it.
    pub fn render(&self) -> String {
        let esc = |s: &str| s.replace('%', "%%");
        let path = esc(&self.path);
        let mut out = format!(
            "# Automatically generated by bosun (as by systemd-sysv-generator)\n\n\
             [Unit]\nDocumentation=man:systemd-sysv-generator(8)\nSourcePath={path}\n"
        );
        if let Some(d) = &self.description {
            out.push_str(&format!("Description={}\n", esc(d)));
        }
        for (key, list) in [
            ("Before", &self.before),
            ("After", &self.after),
            ("Wants", &self.wants),
        ] {
            for unit in list {
                out.push_str(&format!("{key}={unit}\n"));
            }
        }
        out.push_str(&format!(
            "\n[Service]\nType=forking\nRestart=no\nTimeoutSec=5min\nIgnoreSIGPIPE=no\n\
             KillMode=process\nGuessMainPID=no\nRemainAfterExit={}\n",
            if self.pid_file.is_some() { "no" } else { "yes" }
        ));
        if let Some(p) = &self.pid_file {
            out.push_str(&format!("PIDFile={}\n", esc(p)));
        }
        if self.has_lsb {
            out.push_str(&format!("SuccessExitStatus={LSB_SUCCESS}\n"));
        }
        out.push_str(&format!("ExecStart={path} start\nExecStop={path} stop\n"));
        if self.reload {
            out.push_str(&format!("ExecReload={path} reload\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests;
