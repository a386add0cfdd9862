//! The two glyphs systemctl's messages contain, `→` and `•`, and when systemd falls back to
//! ASCII for them (is_locale_utf8(): `$SYSTEMD_UTF8` decides when set; otherwise UTF-8 unless
//! the locale variables name a non-UTF-8 locale such as `C` or `POSIX`).

/// Whether systemd would print UTF-8 glyphs in this environment.
pub fn utf8() -> bool {
    utf8_in(&|name| std::env::var(name).ok())
}

fn utf8_in(env: &dyn Fn(&str) -> Option<String>) -> bool {
    if let Some(v) = env("SYSTEMD_UTF8") {
        match v.trim().to_ascii_lowercase().as_str() {
            "1" | "yes" | "y" | "true" | "t" | "on" => return true,
            "0" | "no" | "n" | "false" | "f" | "off" => return false,
            _ => {}
        }
    }
    let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|k| env(k).filter(|v| !v.is_empty()));
    match locale {
        None => true, // nothing set: systemd assumes UTF-8
        Some(l) if l == "C" || l == "POSIX" => false,
        Some(l) => {
            let l = l.to_ascii_lowercase();
            l.contains("utf-8") || l.contains("utf8")
        }
    }
}

/// `→`, or `->` without UTF-8.
pub fn arrow() -> &'static str {
    if utf8() { "→" } else { "->" }
}

/// `•`, or `*` without UTF-8.
pub fn bullet() -> &'static str {
    if utf8() { "•" } else { "*" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> bool {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        utf8_in(&|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn locale_decides() {
        assert!(with(&[]));
        assert!(with(&[("LANG", "")]));
        assert!(!with(&[("LANG", "C")]));
        assert!(with(&[("LANG", "C.UTF-8")]));
        assert!(!with(&[("LC_ALL", "POSIX"), ("LANG", "C.UTF-8")]));
        assert!(with(&[("LANG", "en_US.utf8")]));
        assert!(with(&[("SYSTEMD_UTF8", "1"), ("LANG", "C")]));
        assert!(!with(&[("SYSTEMD_UTF8", "0")]));
    }
}
