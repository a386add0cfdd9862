//! The privilege keys of systemd.exec(5): NoNewPrivileges=, CapabilityBoundingSet=,
//! AmbientCapabilities= and SecureBits=, parsed and merged into [`Privileges`] as systemd 252
//! documents. Parsing only; enforcing them is `service::privs` and sys.rs's.

use super::DiagnosticKind;
use super::apply::{Applier, opt};
use super::model::Privileges;
use super::value;
use crate::vocab::capability;

/// Every capability a 64-bit mask can name (0 to [`capability::LIMIT`]).
pub const ALL_CAPABILITIES: u64 = (1u64 << (capability::LIMIT + 1)) - 1;

/// SecureBits= words and their PR_SET_SECUREBITS bits (linux/securebits.h).
const SECURE_BITS: [(&str, u32); 6] = [
    ("noroot", 1 << 0),
    ("noroot-locked", 1 << 1),
    ("no-setuid-fixup", 1 << 2),
    ("no-setuid-fixup-locked", 1 << 3),
    ("keep-caps", 1 << 4),
    ("keep-caps-locked", 1 << 5),
];

/// One CapabilityBoundingSet=/AmbientCapabilities= line merged into `set`, whose default is
/// `initial` (every capability for the bounding set, none for the ambient set), as systemd 252
/// merges them (measured with its `systemd-analyze security --offline`; systemd.exec(5) says
/// the same): while the set is at its default a line replaces it (`~X`: all but X); after
/// that plain lines are merged by OR and `~` lines by AND; the empty string resets the set to
/// empty and `~` alone to every capability. Returns the words that name no capability
/// (ignored, the rest of the line applied).
pub fn merge_capabilities(set: &mut Option<u64>, initial: u64, text: &str) -> Vec<String> {
    let (invert, list) = match text.strip_prefix('~') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if list.trim().is_empty() {
        *set = Some(if invert { ALL_CAPABILITIES } else { 0 });
        return Vec::new();
    }
    let mut mask = 0u64;
    let mut unknown = Vec::new();
    for word in list.split_whitespace() {
        match capability::from_name(word) {
            Some(n) => mask |= capability::bit(n),
            None => unknown.push(word.to_owned()),
        }
    }
    let current = set.unwrap_or(initial);
    *set = Some(match (current == initial, invert) {
        (true, false) => mask,
        (true, true) => ALL_CAPABILITIES & !mask,
        (false, false) => current | mask,
        (false, true) => current & !mask,
    });
    unknown
}

/// One SecureBits= line merged into `bits` (OR; the empty string resets). Returns the words
/// that name no secure bit (ignored).
pub fn merge_secure_bits(bits: &mut Option<u32>, text: &str) -> Vec<String> {
    if text.trim().is_empty() {
        *bits = Some(0);
        return Vec::new();
    }
    let mut unknown = Vec::new();
    let mut mask = bits.unwrap_or(0);
    for word in text.split_whitespace() {
        match SECURE_BITS.iter().find(|(name, _)| *name == word) {
            Some((_, bit)) => mask |= bit,
            None => unknown.push(word.to_owned()),
        }
    }
    *bits = Some(mask);
    unknown
}

impl Applier<'_> {
    /// Apply a privilege key; `Ok(false)` when `key` is not one.
    pub(super) fn privilege_key(
        &mut self,
        p: &mut Privileges,
        key: &str,
        v: &str,
    ) -> Result<bool, String> {
        let unknown = match key {
            "NoNewPrivileges" => {
                p.no_new_privileges = opt(v, value::parse_bool)?.unwrap_or(false);
                return Ok(true);
            }
            "CapabilityBoundingSet" => merge_capabilities(&mut p.bounding_set, ALL_CAPABILITIES, v),
            "AmbientCapabilities" => merge_capabilities(&mut p.ambient, 0, v),
            "SecureBits" => merge_secure_bits(&mut p.secure_bits, v),
            _ => return Ok(false),
        };
        if !unknown.is_empty() {
            // systemd 252 applies the names it knows and warns about the line.
            self.report(
                DiagnosticKind::ValueWarning,
                format!(
                    "Failed to fully parse {key}= ({} not known), ignoring: {v}",
                    unknown.join(", ")
                ),
            );
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::capability::bit;

    fn merged(initial: u64, lines: &[&str]) -> (Option<u64>, Vec<String>) {
        let mut set = None;
        let mut unknown = Vec::new();
        for l in lines {
            unknown.extend(merge_capabilities(&mut set, initial, l));
        }
        (set, unknown)
    }

    fn caps(lines: &[&str]) -> (Option<u64>, Vec<String>) {
        merged(ALL_CAPABILITIES, lines)
    }

    #[test]
    fn capability_lists_merge_as_documented() {
        let bind = bit(10);
        let chown = bit(0);
        assert_eq!(caps(&[]).0, None);
        assert_eq!(caps(&["CAP_NET_BIND_SERVICE"]).0, Some(bind));
        assert_eq!(
            caps(&["CAP_NET_BIND_SERVICE", "cap_chown"]).0,
            Some(bind | chown)
        );
        assert_eq!(
            caps(&["CAP_NET_BIND_SERVICE cap_chown"]).0,
            Some(bind | chown)
        );
        assert_eq!(caps(&["~CAP_CHOWN"]).0, Some(ALL_CAPABILITIES & !chown));
        assert_eq!(
            caps(&["~CAP_CHOWN", "~CAP_NET_BIND_SERVICE"]).0,
            Some(ALL_CAPABILITIES & !chown & !bind)
        );
        assert_eq!(
            caps(&["CAP_CHOWN CAP_NET_BIND_SERVICE", "~CAP_CHOWN"]).0,
            Some(bind)
        );
        assert_eq!(caps(&[""]).0, Some(0));
        assert_eq!(caps(&["CAP_CHOWN", ""]).0, Some(0));
        assert_eq!(
            caps(&["CAP_CHOWN", "", "CAP_NET_BIND_SERVICE"]).0,
            Some(bind)
        );
        assert_eq!(caps(&["~"]).0, Some(ALL_CAPABILITIES));
        // What systemd 252's `systemd-analyze security --offline` shows for the same lines.
        let admin = bit(21);
        assert_eq!(caps(&["", "~CAP_CHOWN"]).0, Some(0));
        assert_eq!(caps(&["CAP_CHOWN", "~"]).0, Some(ALL_CAPABILITIES));
        assert_eq!(caps(&["~", "CAP_CHOWN"]).0, Some(chown));
        assert_eq!(
            caps(&["~CAP_SYS_ADMIN", "CAP_SYS_ADMIN"]).0,
            Some(ALL_CAPABILITIES)
        );
        assert_eq!(
            caps(&["CAP_SYS_ADMIN CAP_CHOWN", "~CAP_SYS_ADMIN"]).0,
            Some(chown)
        );
        // The ambient set starts empty: a first `~` line replaces it.
        assert_eq!(
            merged(0, &["~CAP_SYS_ADMIN"]).0,
            Some(ALL_CAPABILITIES & !admin)
        );
        assert_eq!(
            merged(0, &["CAP_CHOWN", "CAP_SYS_ADMIN"]).0,
            Some(chown | admin)
        );
        let (set, unknown) = caps(&["CAP_CHOWN CAP_FROBNICATE"]);
        assert_eq!(set, Some(chown));
        assert_eq!(unknown, ["CAP_FROBNICATE"]);
    }

    #[test]
    fn secure_bits_merge_and_reset() {
        let mut bits = None;
        assert!(merge_secure_bits(&mut bits, "keep-caps noroot").is_empty());
        assert_eq!(bits, Some(0x11));
        assert!(merge_secure_bits(&mut bits, "no-setuid-fixup-locked").is_empty());
        assert_eq!(bits, Some(0x19));
        assert_eq!(
            merge_secure_bits(&mut bits, "bogus keep-caps-locked"),
            ["bogus"]
        );
        assert_eq!(bits, Some(0x39));
        merge_secure_bits(&mut bits, "");
        assert_eq!(bits, Some(0));
    }
}
