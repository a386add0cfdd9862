//! systemctl's hand-over of SysV init scripts to systemd-sysv-install, as systemd 252's
//! enable_sysv_units() does for `enable`, `disable` and `is-enabled`: a `NAME.service` with an
//! `/etc/init.d/NAME` is synchronised through the script's `rc?.d` links (and, when it has no
//! native unit, handled there only). The messages are systemctl's; the link work is
//! [`crate::unit::install::sysv`]'s, done in-process rather than by running update-rc.d.

use std::path::Path;

use super::args::Verb;
use crate::unit::install::sysv::{self, SYSV_INSTALL};
use crate::unit::sysv::native_unit_exists;

/// What the hand-over found.
#[derive(Debug, Default)]
pub struct HandOver {
    /// is-enabled: a script counted as enabled.
    pub enabled: bool,
    /// The helper failed (update-rc.d printed why): systemctl exits 1.
    pub failed: bool,
}

/// Hand the SysV scripts among `names` over; the names left are native units for the
/// caller (when it did not fail: then systemctl exits 1 and does nothing more). SYSTEMCTL_SKIP_SYSV=1 (what update-rc.d sets when it calls systemctl) skips it.
pub fn hand_over(verb: &Verb, root: &Path, names: &mut Vec<String>, quiet: bool) -> HandOver {
    let mut out = HandOver::default();
    let word = match verb {
        Verb::Enable => "enable",
        Verb::Disable => "disable",
        Verb::IsEnabled => "is-enabled",
        _ => return out,
    };
    if std::env::var("SYSTEMCTL_SKIP_SYSV")
        .is_ok_and(|v| crate::unit::value::parse_bool(&v).unwrap_or(false))
    {
        return out;
    }
    let mut kept = Vec::with_capacity(names.len());
    for name in names.drain(..) {
        let native = native_unit_exists(root, &name);
        let script = (!(native && *verb == Verb::IsEnabled))
            .then(|| sysv::script_for(root, &name))
            .flatten();
        let Some(script) = script else {
            kept.push(name);
            continue;
        };
        if !quiet {
            if native {
                eprintln!(
                    "Synchronizing state of {name} with SysV service script with {SYSV_INSTALL}."
                );
            } else {
                eprintln!("{name} is not a native service, redirecting to systemd-sysv-install.");
            }
            let root_arg = if root == Path::new("/") {
                String::new()
            } else {
                format!(" --root={}", root.display())
            };
            eprintln!("Executing: {SYSV_INSTALL}{root_arg} {word} {script}");
        }
        if *verb == Verb::IsEnabled {
            let on = sysv::is_enabled(root, &script);
            out.enabled |= on;
            if !quiet {
                println!("{}", if on { "enabled" } else { "disabled" });
            }
        } else {
            let mut warnings = Vec::new();
            let done = sysv::set_enabled(root, &script, *verb == Verb::Enable, &mut warnings);
            for w in warnings {
                eprintln!("update-rc.d: warning: {w}");
            }
            match done {
                Ok(()) => {}
                Err(e) => {
                    eprintln!("update-rc.d: error: {e}");
                    out.failed = true;
                    // systemctl stops at the first failure; the rest is not touched.
                    return out;
                }
            }
        }
        if native {
            kept.push(name);
        }
    }
    *names = kept;
    out
}
